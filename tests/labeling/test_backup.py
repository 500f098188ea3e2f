"""Backup, flush, restore: the API answers the same as before (ids are kept on restore)."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import numpy as np
import pytest
from django.core.management import call_command

from labeling import services
from labeling.services.backup import project_backup, project_restore
from sightline.errors import ApplicationError
from tests.labeling.conftest import grey_png, sample_prompt

pytestmark = pytest.mark.django_db(transaction=True)


def _api_snapshot(client, project_id: int, image_id: int, prompt_id: int) -> dict[str, object]:
    urls = {
        "project": f"/api/v1/projects/{project_id}/",
        "members": f"/api/v1/projects/{project_id}/members/",
        "images": f"/api/v1/projects/{project_id}/images/",
        "image": f"/api/v1/images/{image_id}/",
        "prompts": f"/api/v1/images/{image_id}/prompts/",
        "prompt": f"/api/v1/prompts/{prompt_id}/",
        "history": f"/api/v1/prompts/{prompt_id}/history/",
    }
    snapshot: dict[str, object] = {}
    for key, url in urls.items():
        response = client.get(url)
        assert response.status_code == 200, (url, response.content)
        snapshot[key] = response.json()
    snapshot["mask"] = client.get(f"/api/v1/prompts/{prompt_id}/mask/?version=1").content
    snapshot["original"] = b"".join(client.get(f"/api/v1/images/{image_id}/original/"))
    snapshot["explanation"] = client.get(f"/api/v1/images/{image_id}/explanation/").content
    return snapshot


@pytest.fixture
def populated(project, owner, annotator, make_png):
    (image,) = services.image_create(
        project=project, name="a.png", data=make_png(16, 12), created_by=owner, label="abnormal"
    )
    first = sample_prompt(12, 16, seed=1)
    prompt, _ = services.prompt_save(
        image=image, annotator=annotator, target_class="abnormal", mask=first, base_version=0
    )
    services.prompt_save(
        image=image, annotator=annotator, target_class="abnormal", mask=-first, base_version=1
    )
    services.explanation_set(image=image, png=grey_png(np.full((12, 16), 255, np.uint8)))
    return image, prompt


def test_a_restored_project_answers_the_api_exactly_as_before(
    populated, project, owner, client_for, settings
) -> None:
    image, prompt = populated
    before = _api_snapshot(client_for(owner), project.pk, image.pk, prompt.pk)
    buffer = io.BytesIO()
    result = project_backup(project=project, out=buffer)

    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT)
    Path(settings.MEDIA_ROOT).mkdir()
    restored = project_restore(source=io.BytesIO(buffer.getvalue()))

    from django.contrib.auth import get_user_model

    owner_again = get_user_model().objects.get(username="owner")
    after = _api_snapshot(client_for(owner_again), restored.pk, image.pk, prompt.pk)
    assert result.users == 3
    assert after == before
    assert len(after["history"]["results"]) == 2


def test_restoring_over_an_existing_project_is_refused(populated, project) -> None:
    buffer = io.BytesIO()
    project_backup(project=project, out=buffer)
    with pytest.raises(ApplicationError, match="exists already"):
        project_restore(source=io.BytesIO(buffer.getvalue()))


def test_the_commands_write_and_read_the_archive(populated, project, tmp_path: Path) -> None:
    out = tmp_path / "chest.zip"
    stdout = io.StringIO()
    call_command("backup_project", str(out), project="Chest", stdout=stdout)
    assert "backed up 'Chest'" in stdout.getvalue()
    call_command("flush", interactive=False, verbosity=0)
    stdout = io.StringIO()
    call_command("restore_project", str(out), stdout=stdout)
    assert "restored project 'Chest'" in stdout.getvalue()


def test_model_versions_jobs_and_their_checkpoints_travel_with_the_project(
    populated, project, owner, settings
) -> None:
    from django.core.files.base import ContentFile
    from django.core.files.storage import default_storage

    from modeling.models import Job, ModelVersion
    from tests.labeling.review_support import make_version

    job = Job.objects.create(project=project, kind="train", status="succeeded", created_by=owner)
    version = make_version(project)
    name = default_storage.save("checkpoints/v1.safetensors", ContentFile(b"weights"))
    ModelVersion.objects.filter(pk=version.pk).update(checkpoint=name, job=job)
    buffer = io.BytesIO()
    project_backup(project=project, out=buffer)

    call_command("flush", interactive=False, verbosity=0)
    shutil.rmtree(settings.MEDIA_ROOT)
    Path(settings.MEDIA_ROOT).mkdir()
    project_restore(source=io.BytesIO(buffer.getvalue()))

    restored = ModelVersion.objects.get(pk=version.pk)
    assert restored.job_id == job.pk
    with default_storage.open(restored.checkpoint, "rb") as handle:
        assert handle.read() == b"weights"
