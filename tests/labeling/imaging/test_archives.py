"""Safe ZIP extraction: every attack is skipped or rejected and nothing lands outside dest."""

from __future__ import annotations

import io
import os
import stat
import struct
import zipfile
from pathlib import Path

import pytest

from labeling.imaging import ArchiveRejected, safe_extract_zip

MiB = 1024 * 1024
_LIMITS = {"max_members": 100, "max_total_bytes": 64 * MiB, "max_member_bytes": 16 * MiB}


def _zip(*members: tuple[str | zipfile.ZipInfo, bytes], level: int = 6) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, content in members:
            archive.writestr(name, content)
    return buffer.getvalue()


def _unix_entry(name: str, file_type: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name)
    info.create_system = 3  # Unix: the high 16 bits of external_attr are st_mode
    info.external_attr = (file_type | 0o777) << 16
    return info


def _patch_central(data: bytes, name: str, offset: int, fmt: str, value: int) -> bytes:
    """Rewrite one field of ``name``'s central directory record (what zipfile trusts)."""
    patched = bytearray(data)
    position = patched.find(b"PK\x01\x02")
    while position != -1:
        name_length = struct.unpack_from("<H", patched, position + 28)[0]
        if patched[position + 46 : position + 46 + name_length] == name.encode():
            struct.pack_into(fmt, patched, position + offset, value)
            return bytes(patched)
        position = patched.find(b"PK\x01\x02", position + 4)
    raise AssertionError(f"{name} not in the central directory")


def _patch_declared_size(data: bytes, name: str, size: int) -> bytes:
    return _patch_central(data, name, 24, "<I", size)  # uncompressed size


@pytest.fixture
def workspace(tmp_path: Path) -> Path:
    """A folder holding ``dest`` and a sentinel, to prove nothing is written beside dest."""
    workspace = tmp_path / "workspace"
    workspace.mkdir()
    (workspace / "sentinel.txt").write_text("untouched")
    return workspace


def _outside(workspace: Path) -> list[str]:
    """Everything under the workspace that is neither dest's content nor the sentinel."""
    found = []
    for path in workspace.rglob("*"):
        relative = path.relative_to(workspace)
        if relative.parts[0] not in ("dest", "sentinel.txt", "outside"):
            found.append(str(relative))
    return sorted(found)


def _extract(data: bytes, workspace: Path, **limits: int) -> list[tuple[str, str]]:
    skipped = safe_extract_zip(io.BytesIO(data), workspace / "dest", **{**_LIMITS, **limits})
    assert _outside(workspace) == []
    assert (workspace / "sentinel.txt").read_text() == "untouched"
    return skipped


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def test_regular_files_and_folders_are_extracted(workspace: Path) -> None:
    data = _zip(("images/", b""), ("images/a.png", b"A"), ("labels.csv", b"image,label"))

    skipped = _extract(data, workspace)

    assert skipped == []
    assert _files(workspace / "dest") == {"images/a.png": b"A", "labels.csv": b"image,label"}


@pytest.mark.parametrize("as_path", [True, False])
def test_a_path_on_disk_is_accepted_as_source(workspace: Path, as_path: bool) -> None:
    archive = workspace / "outside" / "upload.zip"
    archive.parent.mkdir()
    archive.write_bytes(_zip(("a.txt", b"x")))

    source = archive if as_path else str(archive)
    assert safe_extract_zip(source, workspace / "dest", **_LIMITS) == []
    assert _files(workspace / "dest") == {"a.txt": b"x"}


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("/tmp/sightline-evil.txt", "absolute path"),
        ("\\windows\\evil.txt", "absolute path"),
        ("C:/evil.txt", "absolute path"),
        ("C:evil.txt", "absolute path"),
        ("../evil.txt", "'..'"),
        ("images/../../evil.txt", "'..'"),
        ("..\\evil.txt", "'..'"),
        ("images/D:evil.txt", "invalid path component"),
    ],
)
def test_names_that_escape_dest_are_skipped(workspace: Path, name: str, reason: str) -> None:
    data = _zip((name, b"evil"), ("ok.txt", b"fine"))

    skipped = _extract(data, workspace)

    assert len(skipped) == 1 and skipped[0][0] == name and reason in skipped[0][1]
    assert _files(workspace / "dest") == {"ok.txt": b"fine"}
    assert not Path("/tmp/sightline-evil.txt").exists()


def test_an_absolute_path_into_the_workspace_is_not_written(workspace: Path) -> None:
    target = workspace / "escaped.txt"

    skipped = _extract(_zip((str(target), b"evil")), workspace)

    assert skipped == [(str(target), "absolute path")]
    assert not target.exists()


@pytest.mark.parametrize(
    ("file_type", "kind"),
    [
        (stat.S_IFLNK, "symbolic link"),
        (stat.S_IFCHR, "character device"),
        (stat.S_IFBLK, "block device"),
        (stat.S_IFIFO, "FIFO"),
        (stat.S_IFSOCK, "socket"),
    ],
)
def test_links_and_special_files_are_skipped(workspace: Path, file_type: int, kind: str) -> None:
    data = _zip((_unix_entry("link", file_type), b"../../sentinel.txt"), ("link2/a.txt", b"a"))

    skipped = _extract(data, workspace)

    assert skipped == [("link", f"{kind}, not a regular file")]
    assert not (workspace / "dest" / "link").exists()
    assert _files(workspace / "dest") == {"link2/a.txt": b"a"}


def test_a_symlink_already_in_dest_is_not_followed(workspace: Path) -> None:
    outside = workspace / "outside"
    outside.mkdir()
    dest = workspace / "dest"
    dest.mkdir()
    (dest / "images").symlink_to(outside, target_is_directory=True)

    skipped = _extract(_zip(("images/evil.txt", b"evil")), workspace)

    assert skipped == [("images/evil.txt", "path leaves the destination (through a link)")]
    assert list(outside.iterdir()) == []


def test_a_member_declaring_a_huge_size_is_skipped(workspace: Path) -> None:
    data = _patch_declared_size(_zip(("big.bin", b"tiny"), ("ok.txt", b"ok")), "big.bin", 2**31)

    skipped = _extract(data, workspace, max_member_bytes=MiB)

    assert skipped == [("big.bin", f"member is {2**31} bytes; at most {MiB} are accepted")]
    assert _files(workspace / "dest") == {"ok.txt": b"ok"}


def test_a_member_lying_about_a_small_size_is_skipped_and_removed(workspace: Path) -> None:
    data = _patch_declared_size(_zip(("liar.bin", b"x" * 50_000)), "liar.bin", 10)

    skipped = _extract(data, workspace, max_member_bytes=1000)

    assert skipped[0][0] == "liar.bin" and "corrupt" in skipped[0][1]
    assert _files(workspace / "dest") == {}


def test_a_member_too_large_when_extracted_is_skipped(workspace: Path) -> None:
    data = _zip(("big.bin", b"\x01" * 5000), ("ok.txt", b"ok"))

    skipped = _extract(data, workspace, max_member_bytes=4000)

    assert skipped == [("big.bin", "member is 5000 bytes; at most 4000 are accepted")]
    assert _files(workspace / "dest") == {"ok.txt": b"ok"}


def test_a_zip_bomb_with_an_absurd_ratio_is_skipped(workspace: Path) -> None:
    data = _zip(("bomb.bin", b"\0" * (5 * MiB)), level=9)
    assert len(data) < 50_000  # over 100x

    skipped = _extract(data, workspace, max_member_bytes=100 * MiB)

    assert skipped == [("bomb.bin", "suspicious compression ratio (zip bomb)")]
    assert _files(workspace / "dest") == {}


def test_members_beyond_the_total_budget_are_skipped(workspace: Path) -> None:
    data = _zip(("a.bin", b"a" * 400), ("b.bin", b"b" * 400), ("c.bin", b"c" * 400))

    skipped = _extract(data, workspace, max_total_bytes=1000)

    assert skipped == [("c.bin", "the archive exceeds the total size limit")]
    assert sorted(_files(workspace / "dest")) == ["a.bin", "b.bin"]


def test_too_many_members_rejects_the_whole_archive(workspace: Path) -> None:
    data = _zip(*((f"{n}.txt", b"x") for n in range(4)))

    with pytest.raises(ArchiveRejected, match="4 entries; at most 3"):
        _extract(data, workspace, max_members=3)
    assert not (workspace / "dest").exists() or _files(workspace / "dest") == {}


@pytest.mark.parametrize(
    "data",
    [b"this is not a zip", b"", b"PK\x03\x04" + b"\0" * 100, _zip(("a.txt", b"x"))[:-10]],
    ids=["text", "empty", "local-header-only", "truncated"],
)
def test_bytes_that_are_not_a_zip_are_rejected(workspace: Path, data: bytes) -> None:
    with pytest.raises(ArchiveRejected, match=r"^not a zip archive: "):
        _extract(data, workspace)


def test_a_duplicate_name_keeps_the_first_member(workspace: Path) -> None:
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = _zip(("a.txt", b"first"), ("a.txt", b"second"))

    skipped = _extract(data, workspace)

    assert skipped == [("a.txt", "duplicate name in the archive")]
    assert _files(workspace / "dest") == {"a.txt": b"first"}


def test_names_equal_after_normalisation_are_duplicates(workspace: Path) -> None:
    skipped = _extract(_zip(("a/b.txt", b"1"), ("a//./b.txt", b"2")), workspace)

    assert skipped == [("a//./b.txt", "duplicate name in the archive")]


def test_an_encrypted_member_is_skipped(workspace: Path) -> None:
    data = _patch_central(_zip(("secret.txt", b"data")), "secret.txt", 8, "<H", 0x1)

    skipped = _extract(data, workspace)

    assert skipped == [("secret.txt", "encrypted member")]


def test_a_file_clashing_with_an_extracted_folder_is_skipped(workspace: Path) -> None:
    skipped = _extract(_zip(("a/b.txt", b"1"), ("a", b"2")), workspace)

    assert skipped == [("a", "conflicts with an existing file or folder")]


def test_an_existing_file_in_dest_is_not_overwritten(workspace: Path) -> None:
    dest = workspace / "dest"
    dest.mkdir()
    (dest / "a.txt").write_bytes(b"kept")

    skipped = _extract(_zip(("a.txt", b"new")), workspace)

    assert skipped == [("a.txt", "conflicts with an existing file or folder")]
    assert (dest / "a.txt").read_bytes() == b"kept"


def test_extracted_files_are_not_executable(workspace: Path) -> None:
    info = zipfile.ZipInfo("run.sh")
    info.create_system = 3
    info.external_attr = (stat.S_IFREG | 0o4777) << 16

    assert _extract(_zip((info, b"#!/bin/sh")), workspace) == []
    mode = os.stat(workspace / "dest" / "run.sh").st_mode
    assert mode & (stat.S_IXUSR | stat.S_ISUID) == 0


@pytest.mark.parametrize(
    ("limits", "reason"),
    [
        ({"max_member_bytes": 1000}, "member exceeds 1000 bytes when extracted"),
        ({"max_total_bytes": 1000}, "the archive exceeds the total size limit"),
    ],
)
def test_bytes_are_counted_while_streaming_whatever_the_header_says(
    workspace: Path, monkeypatch: pytest.MonkeyPatch, limits: dict[str, int], reason: str
) -> None:
    # A reader that yields more than the declared 10 bytes, as a lying header with a lenient
    # decompressor would: the limits must hold on the bytes actually produced.
    data = _zip(("liar.bin", b"0123456789"))
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, member: io.BytesIO(b"x" * 5000))

    skipped = _extract(data, workspace, **limits)

    assert skipped == [("liar.bin", reason)]
    assert _files(workspace / "dest") == {}
