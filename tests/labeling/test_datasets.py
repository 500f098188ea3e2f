"""Dataset import and export (METHODS.md section 7): services and API."""

from __future__ import annotations

import csv
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from labeling import imaging, services
from labeling.models import AttentionPrompt, ExplanationMask, Image
from tests.labeling.conftest import grey_png, png_pixels, prompt_png, sample_prompt

pytestmark = pytest.mark.django_db


def _zip(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.write(path, path.relative_to(folder).as_posix())
    return buffer.getvalue()


def _rows(folder: Path) -> set[tuple[str, str, str]]:
    with (folder / "labels.csv").open(newline="") as handle:
        return {(r["image"], r["label"], r["split"]) for r in csv.DictReader(handle)}


def test_a_folder_is_imported_with_labels_splits_prompts_and_explanations(
    ab_project, owner, write_dataset, tmp_path
) -> None:
    folder = write_dataset(tmp_path / "ds", n=3)

    result = services.dataset_import(project=ab_project, source=folder, user=owner)

    assert result.summary == "imported 3 images, 3 prompts, 3 explanations; rejected 0 files"
    images = Image.objects.filter(project=ab_project).order_by("name")
    assert [(i.name, i.label, i.split) for i in images] == [
        ("img0.png", "a", "train"),
        ("img1.png", "b", "val"),
        ("img2.png", "a", "test"),
    ]
    prompt = AttentionPrompt.objects.get(image__name="img1.png")
    assert (prompt.annotator, prompt.target_class, prompt.current_version) == (owner, "b", 1)
    stored = imaging.prompt_from_png(bytes(prompt.current.mask_png))
    assert np.array_equal(stored, sample_prompt(12, 16, 1))
    assert ExplanationMask.objects.filter(image__project=ab_project).count() == 3


def test_a_zip_with_a_top_folder_is_imported(ab_project, owner, write_dataset, tmp_path) -> None:
    folder = write_dataset(tmp_path / "build" / "dataset", n=2)
    archive = tmp_path / "dataset.zip"
    archive.write_bytes(_zip(tmp_path / "build"))

    result = services.dataset_import(project=ab_project, source=archive, user=owner)

    assert (result.imported, result.prompts, result.rejected) == (2, 2, [])
    assert folder.is_dir()


def test_bad_files_are_rejected_with_reasons_and_good_ones_kept(
    ab_project, owner, write_dataset, tmp_path, _isolated_media
) -> None:
    folder = write_dataset(tmp_path / "ds", n=3)
    (folder / "images" / "img1.png").write_bytes(b"\x89PNG\r\n\x1a\nbroken")
    (folder / "prompts" / "img2.png").write_bytes(prompt_png(sample_prompt(5, 5)))
    (folder / "prompts" / "ghost.png").write_bytes(prompt_png(sample_prompt(5, 5)))
    (folder / "images" / "extra.png").write_bytes(b"unlisted")
    with (folder / "labels.csv").open("a") as handle:
        handle.write("missing.png,a,train\nimg0.png,b,train\n")

    result = services.dataset_import(project=ab_project, source=folder, user=owner)

    reasons = {r.file: r.reason for r in result.rejected}
    assert set(reasons) == {
        "images/img0.png",
        "images/img1.png",
        "images/img2.png",
        "images/extra.png",
        "images/missing.png",
        "prompts/ghost.png",
    }
    assert "listed twice" in reasons["images/img0.png"]
    assert reasons["images/img2.png"].startswith("prompts/img2.png: prompt is 5x5")
    assert reasons["images/extra.png"] == "not listed in labels.csv"
    assert reasons["images/missing.png"] == "listed in labels.csv but missing"
    assert result.imported == 0
    # The image whose prompt was bad was rolled back with its files.
    assert not Image.objects.filter(project=ab_project).exists()
    assert not [p for p in _isolated_media.rglob("*") if p.is_file()]


def test_an_unknown_label_or_split_rejects_the_file(
    ab_project, owner, write_dataset, tmp_path
) -> None:
    folder = write_dataset(tmp_path / "ds", n=2, prompts=False, explanations=False)
    (folder / "labels.csv").write_text("image,label,split\nimg0.png,zebra,train\nimg1.png,a,x\n")

    result = services.dataset_import(project=ab_project, source=folder, user=owner)

    reasons = {r.file: r.reason for r in result.rejected}
    assert "not one of the project's classes" in reasons["images/img0.png"]
    assert "split 'x'" in reasons["images/img1.png"]


def test_a_folder_without_labels_is_imported_unlabelled(
    ab_project, owner, tmp_path, make_png
) -> None:
    (tmp_path / "ds" / "images").mkdir(parents=True)
    (tmp_path / "ds" / "images" / "x.png").write_bytes(make_png())

    result = services.dataset_import(project=ab_project, source=tmp_path / "ds", user=owner)

    assert result.imported == 1
    assert Image.objects.get(project=ab_project).label is None


def test_importing_twice_rejects_the_duplicates(ab_project, owner, write_dataset, tmp_path) -> None:
    folder = write_dataset(tmp_path / "ds", n=2)
    services.dataset_import(project=ab_project, source=folder, user=owner)

    again = services.dataset_import(project=ab_project, source=folder, user=owner)

    assert again.imported == 0
    assert all(r.reason.startswith("duplicate of image") for r in again.rejected)


def test_import_then_export_gives_identical_labels_splits_and_masks(
    ab_project, owner, write_dataset, tmp_path
) -> None:
    source = write_dataset(tmp_path / "in", n=4)
    services.dataset_import(project=ab_project, source=source, user=owner)
    out = tmp_path / "out"

    result = services.dataset_export(project=ab_project, out=out)

    assert (result.images, result.prompts, result.explanations) == (4, 4, 4)
    assert _rows(out) == _rows(source)
    for kind in ("images", "prompts", "explanations"):
        names = sorted(p.name for p in (source / kind).iterdir())
        assert sorted(p.name for p in (out / kind).iterdir()) == names
        for name in names:
            if kind == "images":
                assert (out / kind / name).read_bytes() == (source / kind / name).read_bytes()
            else:
                assert np.array_equal(
                    png_pixels((out / kind / name).read_bytes()),
                    png_pixels((source / kind / name).read_bytes()),
                )


def test_the_export_holds_the_most_recently_updated_prompt(
    ab_project, owner, annotator, write_dataset, tmp_path
) -> None:
    services.member_add(project=ab_project, username="annotator", role="annotator")
    services.dataset_import(
        project=ab_project, source=write_dataset(tmp_path / "in", n=1), user=owner
    )
    image = Image.objects.get(project=ab_project)
    newer = sample_prompt(12, 16, seed=42)
    services.prompt_save(
        image=image, annotator=annotator, target_class="a", mask=newer, base_version=0
    )

    services.dataset_export(project=ab_project, out=tmp_path / "out")

    exported = imaging.prompt_from_png((tmp_path / "out" / "prompts" / "img0.png").read_bytes())
    assert np.array_equal(exported, newer)


def test_unlabelled_and_unassigned_images_export_with_empty_cells(
    ab_project, owner, make_png, tmp_path
) -> None:
    services.image_create(project=ab_project, name="u.png", data=make_png(), created_by=owner)

    services.dataset_export(project=ab_project, out=tmp_path / "out")

    assert _rows(tmp_path / "out") == {("u.png", "", "")}


def test_colliding_names_are_made_unique_on_export(ab_project, owner, make_png, tmp_path) -> None:
    for seed in (1, 2):
        services.image_create(
            project=ab_project, name="same.png", data=make_png(seed=seed), created_by=owner
        )

    services.dataset_export(project=ab_project, out=tmp_path / "out")

    assert len(list((tmp_path / "out" / "images").iterdir())) == 2


# --- API --------------------------------------------------------------------------------------


@pytest.mark.smoke
def test_an_admin_imports_a_zip_through_the_api(
    owner_client, ab_project, write_dataset, tmp_path
) -> None:
    archive = _zip(write_dataset(tmp_path / "ds", n=2))

    response = owner_client.post(
        f"/api/v1/projects/{ab_project.pk}/imports/",
        {"file": SimpleUploadedFile("ds.zip", archive)},
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {
        "imported": 2,
        "prompts": 2,
        "explanations": 2,
        "rejected": [],
        "summary": "imported 2 images, 2 prompts, 2 explanations; rejected 0 files",
    }


def test_an_archive_with_traversal_members_writes_nothing_outside(
    owner_client, ab_project, make_png, tmp_path, monkeypatch
) -> None:
    monkeypatch.setattr("tempfile.tempdir", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("labels.csv", "image,label,split\nok.png,a,train\n")
        archive.writestr("images/ok.png", make_png())
        archive.writestr("../evil.png", make_png(seed=3))
        archive.writestr("images/../../evil2.png", make_png(seed=4))
        archive.writestr("/abs/evil3.png", make_png(seed=5))

    response = owner_client.post(
        f"/api/v1/projects/{ab_project.pk}/imports/",
        {"file": SimpleUploadedFile("attack.zip", buffer.getvalue())},
    )

    body = response.json()
    assert response.status_code == 200
    assert body["imported"] == 1
    assert {r["file"] for r in body["rejected"]} >= {"../evil.png", "images/../../evil2.png"}
    assert not [p for p in tmp_path.rglob("evil*")]
    assert not list((tmp_path / "tmp").iterdir())  # the extraction folder is gone too


def test_something_that_is_not_a_zip_is_a_400(owner_client, ab_project) -> None:
    response = owner_client.post(
        f"/api/v1/projects/{ab_project.pk}/imports/",
        {"file": SimpleUploadedFile("x.zip", b"not a zip")},
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_archive"


def test_the_export_api_returns_a_zip_that_imports_back(
    owner_client, ab_project, owner, write_dataset, tmp_path
) -> None:
    source = write_dataset(tmp_path / "ds", n=3)
    services.dataset_import(project=ab_project, source=source, user=owner)

    response = owner_client.get(f"/api/v1/projects/{ab_project.pk}/export/")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert sorted(n for n in archive.namelist() if n.startswith("prompts/")) == [
        "prompts/img0.png",
        "prompts/img1.png",
        "prompts/img2.png",
    ]
    labels = archive.read("labels.csv").decode()
    rows = {tuple(row) for row in csv.reader(io.StringIO(labels))}
    assert rows - {("image", "label", "split")} == _rows(source)


def test_an_explanation_must_be_binary(image) -> None:
    codes = np.zeros((12, 16), np.uint8)
    codes[0, 0] = 7

    with pytest.raises(
        services.ApplicationError if hasattr(services, "ApplicationError") else Exception
    ):
        services.explanation_set(image=image, png=grey_png(codes))
