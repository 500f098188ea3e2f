"""Management commands: import_dataset, export_dataset, load_demo."""

from __future__ import annotations

import functools
import io
import shutil
from pathlib import Path

import pydicom.data
import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from labeling.models import AttentionPrompt, Image, Membership, Project

pytestmark = pytest.mark.django_db

PYDICOM_FILES = Path(pydicom.data.__file__).parent / "test_files"


def _run(*args: str) -> tuple[int, list[str]]:
    """Run a command; return its exit status and its stdout lines."""
    out = io.StringIO()
    try:
        call_command(*args, stdout=out)
        status = 0
    except SystemExit as exc:
        status = int(exc.code)
    return status, out.getvalue().splitlines()


@pytest.mark.smoke
def test_a_clean_import_exits_0_with_the_summary_last(ab_project, write_dataset, tmp_path) -> None:
    folder = write_dataset(tmp_path / "ds", n=2)

    status, lines = _run("import_dataset", str(folder), "--project", "AB")

    assert status == 0
    assert lines == ["imported 2 images, 2 prompts, 2 explanations; rejected 0 files"]


def test_rejections_are_listed_and_the_exit_status_is_1(
    ab_project, write_dataset, tmp_path
) -> None:
    folder = write_dataset(tmp_path / "ds", n=2)
    (folder / "images" / "img1.png").write_bytes(b"junk")

    status, lines = _run("import_dataset", str(folder), "--project", "AB")

    assert status == 1
    assert len(lines) == 2
    assert lines[0].startswith("rejected images/img1.png: ")
    assert lines[-1] == "imported 1 images, 1 prompts, 1 explanations; rejected 1 files"


def test_a_zip_imports_like_a_folder(ab_project, write_dataset, tmp_path) -> None:
    folder = write_dataset(tmp_path / "ds", n=2)
    archive = shutil.make_archive(str(tmp_path / "ds"), "zip", folder)

    status, lines = _run("import_dataset", archive, "--project", "AB")

    assert (status, lines[-1]) == (
        0,
        "imported 2 images, 2 prompts, 2 explanations; rejected 0 files",
    )


def test_a_missing_path_is_a_usage_error(ab_project, tmp_path) -> None:
    with pytest.raises(CommandError, match="does not exist") as error:
        call_command("import_dataset", str(tmp_path / "nope"), "--project", "AB")

    assert error.value.returncode == 2


def test_an_unknown_project_without_create_is_a_usage_error(write_dataset, tmp_path, db) -> None:
    folder = write_dataset(tmp_path / "ds", n=1)

    with pytest.raises(CommandError, match="--create") as error:
        call_command("import_dataset", str(folder), "--project", "Nope")

    assert error.value.returncode == 2
    assert not Project.objects.exists()


def test_create_takes_the_classes_from_labels_csv(write_dataset, tmp_path, db) -> None:
    folder = write_dataset(tmp_path / "ds", n=2)

    status, _ = _run("import_dataset", str(folder), "--project", "New", "--create")

    project = Project.objects.get(name="New")
    assert status == 0
    assert (project.class_names, project.positive_class) == (["a", "b"], "b")
    # Without an acting user the prompts belong to a dedicated inactive account.
    assert not AttentionPrompt.objects.first().annotator.is_active


def test_create_with_classes_and_a_user(write_dataset, tmp_path, owner) -> None:
    folder = write_dataset(tmp_path / "ds", n=2)

    status, _ = _run(
        "import_dataset",
        str(folder),
        "--project",
        "New",
        "--create",
        "--classes",
        "b,a,c",
        "--user",
        "owner",
    )

    project = Project.objects.get(name="New")
    assert status == 0
    assert project.class_names == ["b", "a", "c"]
    assert Membership.objects.get(project=project).user == owner


def test_real_dicom_files_are_imported_and_a_file_without_pixels_rejected(tmp_path, db) -> None:
    images = tmp_path / "ds" / "images"
    images.mkdir(parents=True)
    for name in ("CT_small.dcm", "MR_small_jp2klossless.dcm", "rtplan.dcm"):
        shutil.copy(PYDICOM_FILES / name, images / name)

    status, lines = _run(
        "import_dataset",
        str(tmp_path / "ds"),
        "--project",
        "DICOM",
        "--create",
        "--classes",
        "normal,abnormal",
    )

    assert status == 1
    assert lines[0].startswith("rejected images/rtplan.dcm: ")
    assert "no pixel data" in lines[0]
    assert lines[-1] == "imported 2 images, 0 prompts, 0 explanations; rejected 1 files"
    ct = Image.objects.get(name="CT_small.dcm")
    assert (ct.format, ct.width, ct.height, ct.frame_index) == ("dicom", 128, 128, 0)
    assert (ct.window_center, ct.window_width) == (-600.0, 1500.0)
    assert ct.metadata["modality"] == "CT"
    mr = Image.objects.get(name="MR_small_jp2klossless.dcm")
    assert mr.metadata["transfer_syntax_uid"] == "1.2.840.10008.1.2.4.90"  # JPEG 2000 lossless


def test_all_frames_gives_one_image_per_frame(tmp_path, db) -> None:
    images = tmp_path / "ds" / "images"
    images.mkdir(parents=True)
    shutil.copy(PYDICOM_FILES / "SC_rgb_rle_2frame.dcm", images / "two.dcm")

    status, lines = _run(
        "import_dataset",
        str(tmp_path / "ds"),
        "--project",
        "F",
        "--create",
        "--classes",
        "x,y",
        "--all-frames",
    )

    assert (status, lines[-1]) == (
        0,
        "imported 2 images, 0 prompts, 0 explanations; rejected 0 files",
    )
    frames = Image.objects.order_by("frame_index")
    assert [i.frame_index for i in frames] == [0, 1]
    assert frames[0].original.name == frames[1].original.name


def test_a_dicom_image_is_rewindowed_on_request(client_for, owner, tmp_path) -> None:
    images = tmp_path / "ds" / "images"
    images.mkdir(parents=True)
    shutil.copy(PYDICOM_FILES / "CT_small.dcm", images / "ct.dcm")
    _run(
        "import_dataset",
        str(tmp_path / "ds"),
        "--project",
        "CT",
        "--create",
        "--classes",
        "x,y",
        "--user",
        "owner",
    )
    image = Image.objects.get()
    client = client_for(owner)

    default = client.get(f"/api/v1/images/{image.pk}/display/").content
    soft = client.get(f"/api/v1/images/{image.pk}/display/?window_center=40&window_width=400")
    again = client.get(f"/api/v1/images/{image.pk}/display/?window_center=40&window_width=400")

    assert soft.status_code == 200
    assert soft["Content-Type"] == "image/png"
    assert soft.content != default
    assert again.content == soft.content


def test_export_dataset_writes_a_folder(ab_project, write_dataset, tmp_path) -> None:
    _run("import_dataset", str(write_dataset(tmp_path / "ds", n=2)), "--project", "AB")

    status, lines = _run("export_dataset", "--project", "AB", str(tmp_path / "out"))

    assert status == 0
    assert lines == [f"exported 2 images, 2 prompts, 2 explanations to {tmp_path / 'out'}"]
    assert (tmp_path / "out" / "labels.csv").is_file()


def test_export_dataset_refuses_a_folder_that_is_not_empty(ab_project, tmp_path) -> None:
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("x")

    with pytest.raises(CommandError) as error:
        call_command("export_dataset", "--project", "AB", str(tmp_path / "out"))

    assert error.value.returncode == 2


def test_load_demo_is_idempotent(monkeypatch, db) -> None:
    from modeling.ml import benchmarks

    # Tiny versions of the benchmarks keep this test fast; the command passes only the seed.
    monkeypatch.setattr(
        benchmarks,
        "write_decoy_digits",
        functools.partial(
            benchmarks.write_decoy_digits,
            n_train_per_class=1,
            n_val_per_class=1,
            n_test_per_class=1,
        ),
    )
    monkeypatch.setattr(
        benchmarks,
        "write_ct_nodules",
        functools.partial(benchmarks.write_ct_nodules, n_train=2, n_val=2, n_test=2, size=32),
    )

    _, first = _run("load_demo")
    counts = (Project.objects.count(), Image.objects.count(), AttentionPrompt.objects.count())
    _, second = _run("load_demo")

    assert counts[0] == 2 and counts[1] == 30 + 6
    assert (Project.objects.count(), Image.objects.count(), AttentionPrompt.objects.count()) == (
        counts
    )
    assert "user admin password sightline-admin" in first
    assert "Demo: DecoyDigits: exists, left as it is" in second
    admin = Membership.objects.filter(role="admin").select_related("user").first().user
    assert admin.is_superuser and admin.username == "admin"
