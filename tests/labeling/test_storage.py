"""Files written through storage disappear again when the work that wrote them fails."""

from __future__ import annotations

import pytest
from django.core.files.storage import default_storage

from labeling import services
from labeling.models import Image
from labeling.storage import file_guard, store_file

pytestmark = pytest.mark.django_db


def test_a_failing_block_deletes_what_it_stored() -> None:
    with pytest.raises(RuntimeError), file_guard():
        name = store_file("x/a.bin", b"1")
        raise RuntimeError

    assert not default_storage.exists(name)


def test_an_enclosing_failure_deletes_what_a_finished_inner_block_stored() -> None:
    with pytest.raises(RuntimeError), file_guard():
        with file_guard():
            name = store_file("x/b.bin", b"2")
        assert default_storage.exists(name)
        raise RuntimeError

    assert not default_storage.exists(name)


def test_a_successful_block_keeps_its_files() -> None:
    with file_guard():
        name = store_file("x/c.bin", b"3")

    assert default_storage.exists(name)


def test_an_image_whose_row_cannot_be_saved_leaves_no_files(
    project, owner, make_png, monkeypatch, _isolated_media
) -> None:
    def fail(self: Image, **kwargs: object) -> None:
        raise RuntimeError("database went away")

    monkeypatch.setattr(Image, "save", fail)

    with pytest.raises(RuntimeError):
        services.image_create(project=project, name="a.png", data=make_png(), created_by=owner)

    assert not [p for p in _isolated_media.rglob("*") if p.is_file()]


def test_files_are_named_by_checksum(image) -> None:
    assert image.checksum in image.original.name
    assert image.original.name.endswith(".png")
    assert image.display.name.endswith(".display.png")
