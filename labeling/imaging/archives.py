"""Safe extraction of uploaded ZIP archives.

Every member is checked before anything is written: its name (absolute paths, drive letters,
``..`` components, backslash separators are all treated as hostile), its type (only regular
files; symlinks, devices, FIFOs and sockets are recognised from the Unix mode in
``external_attr``), encryption, duplicates, declared size and compression ratio. Sizes declared
in the archive are not trusted: bytes are counted while streaming and a member is dropped as soon
as it exceeds a limit. Files are created with ``O_EXCL | O_NOFOLLOW`` under a destination whose
resolved path is checked for every member, so nothing is ever written outside ``dest``, even
through a symlink that already exists there.

Directory entries are not reported: folders are created as needed for the files inside them.
"""

from __future__ import annotations

import os
import re
import stat
import zipfile
from pathlib import Path, PurePosixPath
from typing import IO

_CHUNK = 64 * 1024
_RATIO_LIMIT = 200
_RATIO_MIN_BYTES = 1024 * 1024
_DRIVE = re.compile(r"^[A-Za-z]:")
_FILE_TYPES = {
    stat.S_IFLNK: "symbolic link",
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "FIFO",
    stat.S_IFSOCK: "socket",
    stat.S_IFDIR: "directory",
}


class ArchiveRejected(ValueError):
    """An archive that cannot be imported as a whole; ``str(exc)`` is the reason."""


class _MemberSkipped(Exception):
    """One member is left out; the message is its reason."""


def safe_extract_zip(
    source: str | os.PathLike[str] | IO[bytes],
    dest: Path,
    *,
    max_members: int,
    max_total_bytes: int,
    max_member_bytes: int,
) -> list[tuple[str, str]]:
    """Extract the regular files of a ZIP archive under ``dest``, refusing anything unsafe.

    Args:
        source: path or binary file object of the archive.
        dest: destination folder (created if missing).
        max_members: more entries than this rejects the whole archive.
        max_total_bytes: extracted bytes allowed in total; members that would pass it are
            skipped.
        max_member_bytes: extracted bytes allowed per member.

    Returns:
        ``[(member_name, reason)]`` for every member that was not extracted, in archive order.

    Raises:
        ArchiveRejected: not a ZIP archive, a corrupt central directory, or too many members.
    """
    try:
        archive = zipfile.ZipFile(source)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError) as exc:
        raise ArchiveRejected(f"not a zip archive: {exc}") from exc
    with archive:
        members = archive.infolist()
        if len(members) > max_members:
            raise ArchiveRejected(
                f"the archive has {len(members)} entries; at most {max_members} are accepted"
            )
        root = Path(dest)
        root.mkdir(parents=True, exist_ok=True)
        root = root.resolve()
        limits = _Limits(max_member_bytes=max_member_bytes, remaining=max_total_bytes)
        seen: set[str] = set()
        skipped: list[tuple[str, str]] = []
        for member in members:
            try:
                relative = _member_path(member)
                if relative is None:
                    continue  # a directory entry
                if relative in seen:
                    raise _MemberSkipped("duplicate name in the archive")
                seen.add(relative)
                _check_declared(member, limits)
                _extract_member(archive, member, root, relative, limits)
            except _MemberSkipped as reason:
                skipped.append((member.filename, str(reason)))
        return skipped


class _Limits:
    """Byte budgets shared by the members of one archive."""

    def __init__(self, *, max_member_bytes: int, remaining: int) -> None:
        self.max_member_bytes = max_member_bytes
        self.remaining = remaining


def _member_path(member: zipfile.ZipInfo) -> str | None:
    """Return the safe relative POSIX path of a file member, ``None`` for a directory entry.

    Raises:
        _MemberSkipped: unsafe names, non-regular files, encrypted members.
    """
    name = member.filename.replace("\\", "/")
    if name.startswith("/") or _DRIVE.match(name):
        raise _MemberSkipped("absolute path")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise _MemberSkipped("path leaves the destination ('..')")
    if any(_DRIVE.match(part) or "\x00" in part for part in parts):
        raise _MemberSkipped("invalid path component")
    file_type = stat.S_IFMT(member.external_attr >> 16)
    if member.is_dir() or file_type == stat.S_IFDIR:
        return None
    if file_type not in (0, stat.S_IFREG):
        kind = _FILE_TYPES.get(file_type, "special file")
        raise _MemberSkipped(f"{kind}, not a regular file")
    if not parts:
        raise _MemberSkipped("empty name")
    if member.flag_bits & 0x1:
        raise _MemberSkipped("encrypted member")
    return str(PurePosixPath(*parts))


def _check_declared(member: zipfile.ZipInfo, limits: _Limits) -> None:
    """Skip a member whose header already announces too much data."""
    if member.file_size > limits.max_member_bytes:
        raise _MemberSkipped(
            f"member is {member.file_size} bytes; at most {limits.max_member_bytes} are accepted"
        )
    if member.file_size > limits.remaining:
        raise _MemberSkipped("the archive exceeds the total size limit")
    if member.file_size > _RATIO_MIN_BYTES and (
        member.compress_size == 0 or member.file_size / member.compress_size > _RATIO_LIMIT
    ):
        raise _MemberSkipped("suspicious compression ratio (zip bomb)")


def _extract_member(
    archive: zipfile.ZipFile, member: zipfile.ZipInfo, root: Path, relative: str, limits: _Limits
) -> None:
    """Stream one member to ``root / relative``, counting bytes; remove the file on any failure."""
    target = root / relative
    if not target.resolve().is_relative_to(root):
        raise _MemberSkipped("path leaves the destination (through a link)")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.parent.resolve().is_relative_to(root):
            raise _MemberSkipped("path leaves the destination (through a link)")
        descriptor = os.open(
            target, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0), 0o644
        )
    except (FileExistsError, NotADirectoryError, IsADirectoryError):
        raise _MemberSkipped("conflicts with an existing file or folder") from None
    except OSError as exc:
        raise _MemberSkipped(f"cannot create the file: {exc.strerror}") from None
    written = 0
    try:
        with os.fdopen(descriptor, "wb") as output, archive.open(member) as stream:
            while chunk := stream.read(_CHUNK):
                written += len(chunk)
                _check_streamed(member, written, limits)
                output.write(chunk)
    except _MemberSkipped:
        target.unlink(missing_ok=True)
        raise
    except Exception as exc:  # BadZipFile (CRC), zlib.error, NotImplementedError (method), ...
        target.unlink(missing_ok=True)
        raise _MemberSkipped(f"corrupt or unsupported member: {exc}") from None
    limits.remaining -= written


def _check_streamed(member: zipfile.ZipInfo, written: int, limits: _Limits) -> None:
    """Apply the limits to the bytes actually produced so far (headers can lie)."""
    if written > limits.max_member_bytes:
        raise _MemberSkipped(f"member exceeds {limits.max_member_bytes} bytes when extracted")
    if written > limits.remaining:
        raise _MemberSkipped("the archive exceeds the total size limit")
    if written > _RATIO_MIN_BYTES and written > _RATIO_LIMIT * max(member.compress_size, 1):
        raise _MemberSkipped("suspicious compression ratio (zip bomb)")
