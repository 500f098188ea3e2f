"""Hostile uploads and archives through the API: 4xx or a rejected file with a reason, never 500.

A sample of the generated cases goes through the real endpoints (the bulk is in
``test_decoding.py``); nothing may be written outside the destination of an archive.
"""

from __future__ import annotations

import io
import stat
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from tests.hostile import cases
from tests.labeling.conftest import grey_png

pytestmark = pytest.mark.django_db


def _upload(client, project, files: list[tuple[str, bytes]]):
    uploads = [SimpleUploadedFile(name, data) for name, data in files]
    return client.post(f"/api/v1/projects/{project.pk}/images/", {"files": uploads})


def _assert_rejections_have_reasons(body: dict) -> None:
    assert all(item["reason"].strip() for item in body["rejected"])


def test_bombs_truncated_and_random_images_are_rejected_by_the_upload_api(
    owner_client, project
) -> None:
    # Empty files are refused by the input validation as a whole (see the next test).
    hostile = [(name, data) for _, name, data in cases.image_cases(seed=3) if data]
    response = _upload(owner_client, project, hostile)
    body = response.json()
    assert response.status_code in (201, 400)
    assert len(body["created"]) + len(body["rejected"]) == len(hostile)
    assert len(body["created"]) <= 2  # content sniffing may rightly accept a renamed PNG
    _assert_rejections_have_reasons(body)
    bombs = [r["reason"] for r in body["rejected"] if r["file"] in ("bomb.png", "wide.png")]
    assert len(bombs) == 2


def test_an_empty_file_is_a_400_with_the_error_shape(owner_client, project) -> None:
    response = _upload(owner_client, project, [("empty.png", b"")])
    assert response.status_code == 400
    assert set(response.json()["error"]) == {"code", "message", "detail"}


def test_mutated_dicom_files_through_the_upload_api_never_give_a_500(owner_client, project) -> None:
    sample = [(f"{i}.dcm", data) for i, (_, _, data) in enumerate(cases.dicom_cases(24, seed=7))]
    response = _upload(owner_client, project, sample)
    assert response.status_code in (201, 400)
    _assert_rejections_have_reasons(response.json())


def test_a_file_over_the_upload_limit_is_rejected_before_decoding(
    owner_client, project, settings
) -> None:
    settings.SIGHTLINE_MAX_UPLOAD_BYTES = 1000
    response = _upload(owner_client, project, [("big.png", cases.encoded("PNG", (64, 64)))])
    assert response.status_code == 400
    (rejected,) = response.json()["rejected"]
    assert "more than the limit of 1000" in rejected["reason"]


def _archive(members: list[tuple[zipfile.ZipInfo | str, bytes]]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for info, data in members:
            archive.writestr(info, data)
    return buffer.getvalue()


def _symlink(name: str, target: str) -> tuple[zipfile.ZipInfo, bytes]:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target.encode()


def test_archive_members_with_traversal_links_or_bombs_are_rejected_with_reasons(
    owner_client, project, tmp_path: Path
) -> None:
    png = grey_png(np.full((8, 8), 3, np.uint8))
    data = _archive(
        [
            ("labels.csv", "image,label,split\nok.png,normal,train\n"),
            ("images/ok.png", png),
            ("../evil.png", png),
            ("images/../../evil.png", png),
            ("/tmp/evil-absolute.png", png),
            ("C:/evil.png", png),
            _symlink("images/link.png", "/etc/passwd"),
            ("images/bomb.png", b"\x00" * (16 * 1024 * 1024)),
        ]
    )
    response = owner_client.post(
        f"/api/v1/projects/{project.pk}/imports/", {"file": SimpleUploadedFile("d.zip", data)}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["imported"] == 1
    rejected = {item["file"]: item["reason"] for item in body["rejected"]}
    for name in ("../evil.png", "images/../../evil.png", "/tmp/evil-absolute.png", "C:/evil.png"):
        assert name in rejected
    assert "symbolic link" in rejected["images/link.png"]
    assert "zip bomb" in rejected["images/bomb.png"]
    assert not (Path(tempfile.gettempdir()) / "evil.png").exists()
    assert not Path("/tmp/evil-absolute.png").exists()
    assert not list(tmp_path.parent.glob("**/evil.png"))


def test_a_random_byte_archive_is_a_400_with_the_error_shape(owner_client, project) -> None:
    noise = np.random.default_rng(0).integers(0, 256, 4096, np.uint8).tobytes()
    response = owner_client.post(
        f"/api/v1/projects/{project.pk}/imports/", {"file": SimpleUploadedFile("x.zip", noise)}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_archive"
