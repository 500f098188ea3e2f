"""Hostile inputs, generated deterministically from a seed (no files are downloaded).

- ``image_cases``: decompression bombs (a PNG header declaring 100000 x 100000 pixels over a few
  bytes of data), images over the pixel limit, truncated PNG/JPEG/TIFF, random bytes under every
  accepted extension, empty files and a file whose content contradicts its extension.
- ``dicom_cases``: mutations of the DICOM files shipped inside pydicom (``pydicom/data/
  test_files``; only those that decode intact): truncation, byte flips and corrupted length
  fields of data elements.
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PIL import Image

Case = tuple[str, str, bytes]  # (case id, file name, content)


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_bomb(width: int, height: int) -> bytes:
    """A valid-looking grey PNG header with a tiny compressed stream behind it."""
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    data = zlib.compress(b"\x00" * 4096, 9)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def encoded(format_name: str, size: tuple[int, int], seed: int = 0) -> bytes:
    rng = np.random.default_rng(seed)
    buffer = io.BytesIO()
    pixels = rng.integers(0, 256, (size[1], size[0]), dtype=np.uint8)
    Image.fromarray(pixels).save(buffer, format=format_name)
    return buffer.getvalue()


def image_cases(seed: int = 0) -> list[Case]:
    rng = np.random.default_rng(seed)
    cases: list[Case] = [
        ("png-bomb-100k", "bomb.png", png_bomb(100_000, 100_000)),
        ("png-bomb-wide", "wide.png", png_bomb(2**31 - 1, 1)),
        ("png-zero-size", "zero.png", png_bomb(0, 0)),
        ("empty-png", "empty.png", b""),
        ("empty-dcm", "empty.dcm", b""),
        ("png-named-jpeg", "liar.jpg", encoded("PNG", (8, 8))),
        ("exe-as-png", "tool.png", b"MZ\x90\x00" + bytes(rng.integers(0, 256, 512, np.uint8))),
    ]
    for fmt, ext in (("PNG", "png"), ("JPEG", "jpg"), ("TIFF", "tif")):
        whole = encoded(fmt, (64, 48), seed)
        for cut in (8, 16, 33, len(whole) // 2, len(whole) - 1):
            cases.append((f"truncated-{ext}-{cut}", f"t.{ext}", whole[:cut]))
    for ext in ("png", "jpg", "jpeg", "tif", "tiff", "dcm"):
        for i in range(3):
            size = int(rng.integers(1, 4096))
            cases.append(
                (f"random-{ext}-{i}", f"r.{ext}", bytes(rng.integers(0, 256, size, np.uint8)))
            )
    return cases


def dicom_seeds(max_bytes: int = 300_000) -> list[tuple[str, bytes]]:
    """The pydicom test files that decode intact, smallest first."""
    import pydicom

    from labeling.imaging import ImageRejected, decode_image

    folder = Path(pydicom.__file__).parent / "data" / "test_files"
    seeds = []
    for path in sorted(folder.rglob("*.dcm"), key=lambda p: (p.stat().st_size, p.name)):
        data = path.read_bytes()
        if len(data) > max_bytes:
            continue
        try:
            decode_image(data, path.name)
        except ImageRejected:
            continue
        seeds.append((path.name, data))
    return seeds


def _length_offsets(data: bytes) -> list[int]:
    """Offsets just after plausible data element tags (group 0x0002-0x7FE0, little endian)."""
    offsets = []
    view = memoryview(data)
    for i in range(132, len(data) - 8, 2):
        group = view[i] | (view[i + 1] << 8)
        if group in (0x0002, 0x0008, 0x0010, 0x0018, 0x0020, 0x0028, 0x7FE0):
            offsets.append(i + 4)
    return offsets


def mutate(data: bytes, rng: np.random.Generator) -> tuple[str, bytes]:
    """One mutation of ``data``: (kind, mutated bytes)."""
    kind = ("truncate", "flip", "length")[int(rng.integers(0, 3))]
    buffer = bytearray(data)
    if kind == "truncate":
        return kind, bytes(buffer[: int(rng.integers(0, len(buffer)))])
    if kind == "flip":
        for _ in range(int(rng.integers(1, 9))):
            at = int(rng.integers(0, len(buffer)))
            buffer[at] ^= int(rng.integers(1, 256))
        return kind, bytes(buffer)
    offsets = _length_offsets(data) or [132]
    for _ in range(int(rng.integers(1, 4))):
        at = offsets[int(rng.integers(0, len(offsets)))]
        # Explicit-VR short lengths sit 2 bytes after the VR, long ones 4 after; both are hit.
        at += int(rng.integers(0, 2)) * 2
        value = (0xFFFFFFFF, 0xFFFFFFFE, 0x7FFFFFFF, int(rng.integers(0, 2**32)))[
            int(rng.integers(0, 4))
        ]
        buffer[at : at + 4] = struct.pack("<I", value)[: max(0, len(buffer) - at)]
    return kind, bytes(buffer[: len(data)])


def dicom_cases(count: int, seed: int = 0) -> Iterator[Case]:
    seeds = dicom_seeds()
    rng = np.random.default_rng(seed)
    for i in range(count):
        name, data = seeds[i % len(seeds)]
        kind, mutated = mutate(data, rng)
        yield (f"{i}-{kind}-{name}", name, mutated)
