"""Prompt and explanation mask codecs (METHODS.md sections 1 and 7).

A prompt is int8 ``[H, W]`` in {-1 (unclear), 0 (unimportant), +1 (important)}; its interchange
PNG is 8-bit grey with 128, 0 and 255 respectively. A ground-truth explanation is bool
``[H, W]``; its PNG is 8-bit grey with 255 = relevant, 0 = not.

Reading is strict: no threshold rule maps other bytes, so a lossy or anti-aliased export is
reported (``MaskError`` lists up to five offending values) instead of silently altered. Colour
PNGs are accepted only when R = G = B everywhere and any alpha channel is fully opaque; 16-bit
PNGs are refused.

Mask PNGs are written by ``_grey_png``, a minimal encoder (one IDAT chunk, every row with the
"Up" filter, zlib's run-length strategy), because encoding is on the prompt save path. A mask is
a few flat regions: "Up" turns every row that repeats the previous one into zeros and the
run-length strategy codes those runs without searching for matches. On ten-stroke 512x512
brush prompts (``brush_prompt`` in the tests) it takes about 1 ms for 4.1-4.7 KB, where Pillow at
zlib level 9 with its per-row adaptive filters took 24-31 ms for 3.9-4.3 KB (8 % smaller) and
a 512x512 prompt of 9,500 runs took 57 ms; Pillow with the run-length strategy still took
2.5-3.5 ms, its per-row filter choice being the rest. An all-unclear prompt is 1.1 KB; the
worst case, independent random values in every pixel, 84 KB (61 KB from Pillow at level 9).
Any PNG decoder reads the output; the tests decode it with Pillow.

The JSON of ``prompt_to_rle`` for the same ten-stroke prompts is 24-30 KB (2,500-3,100 runs),
so the PNG is the storage format and RLE an API convenience. ``prompt_from_rle`` checks and
expands the runs with numpy (1.0 ms instead of 2.2 ms for the 2,700 runs of a ten-stroke
prompt, a third of the time for 9,500 runs); only what it declines goes through the per-entry
checks, which name the first bad entry.
"""

from __future__ import annotations

import io
import struct
import zlib
from itertools import chain

import numpy as np
from PIL import Image

from labeling.imaging.core import DEFAULT_MAX_PIXELS, pillow_limits, saw_decompression_bomb

IMPORTANT, UNIMPORTANT, UNCLEAR = 1, 0, -1

_PROMPT_TO_BYTE = {IMPORTANT: 255, UNIMPORTANT: 0, UNCLEAR: 128}
_BYTE_TO_PROMPT = np.zeros(256, dtype=np.int8)
_BYTE_TO_PROMPT[255], _BYTE_TO_PROMPT[0], _BYTE_TO_PROMPT[128] = IMPORTANT, UNIMPORTANT, UNCLEAR
_LISTED_VALUES = 5
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class MaskError(ValueError):
    """A prompt or explanation mask that cannot be used; ``str(exc)`` names the problem."""


def prompt_from_png(
    data: bytes, *, size: tuple[int, int] | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Decode an interchange prompt PNG (0/128/255) into int8 ``[H, W]`` in {-1, 0, 1}.

    Args:
        data: the PNG bytes.
        size: the image's ``(width, height)``; the prompt must match it.
        max_pixels: the largest accepted width * height when ``size`` is not given.

    Raises:
        MaskError: not a PNG, wrong size, colour or 16-bit pixels, values other than 0/128/255.
    """
    grey = _read_grey_png(data, "prompt", size=size, max_pixels=max_pixels)
    _check_values(grey, (0, 128, 255), "prompt")
    return _BYTE_TO_PROMPT[grey]


def prompt_to_png(mask: np.ndarray) -> bytes:
    """Encode a prompt (values in {-1, 0, 1}) as an 8-bit grey PNG with 128/0/255, lossless."""
    mask = _checked_prompt(mask)
    grey = np.full(mask.shape, 128, dtype=np.uint8)
    grey[mask == IMPORTANT] = 255
    grey[mask == UNIMPORTANT] = 0
    return _grey_png(grey)


def prompt_to_rle(mask: np.ndarray) -> dict[str, object]:
    """Run-length encode a prompt row-major: ``{"width", "height", "rle": [[value, run], ...]}``.

    Consecutive runs always differ in value; the runs add up to ``width * height``.
    """
    mask = _checked_prompt(mask)
    flat = mask.ravel()  # row-major: row 0 left to right, then row 1, ...
    starts = np.concatenate(([0], np.flatnonzero(flat[1:] != flat[:-1]) + 1))
    runs = np.diff(np.concatenate((starts, [flat.size])))
    rle = [[int(value), int(run)] for value, run in zip(flat[starts], runs, strict=True)]
    return {"width": int(mask.shape[1]), "height": int(mask.shape[0]), "rle": rle}


def prompt_from_rle(
    obj: dict[str, object],
    *,
    size: tuple[int, int] | None = None,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> np.ndarray:
    """Decode ``prompt_to_rle`` output (e.g. parsed JSON) into int8 ``[H, W]``.

    Args:
        obj: ``{"width": int, "height": int, "rle": [[value, run], ...]}``.
        size: the image's ``(width, height)``; the prompt must match it.
        max_pixels: the largest accepted width * height when ``size`` is not given.

    Raises:
        MaskError: missing or mistyped fields, values outside {-1, 0, 1}, runs that are not
            positive integers or do not add up to ``width * height``, wrong size.
    """
    if not isinstance(obj, dict):
        raise MaskError("prompt RLE must be an object with width, height and rle")
    width, height = obj.get("width"), obj.get("height")
    if not (_is_int(width) and _is_int(height)) or width < 1 or height < 1:  # type: ignore[operator]
        raise MaskError("prompt RLE needs positive integer width and height")
    _check_size("prompt", (width, height), size, max_pixels)  # type: ignore[arg-type]
    pairs = obj.get("rle")
    if not isinstance(pairs, list):
        raise MaskError("prompt RLE needs an 'rle' list of [value, run] pairs")
    shape = (height, width)
    checked = _rle_arrays(pairs, width * height)  # type: ignore[operator]
    values, runs = checked if checked is not None else _rle_checked_entries(pairs, shape)
    total = int(runs.sum())
    if total != width * height:  # type: ignore[operator]
        raise _rle_coverage_error(total, shape)  # type: ignore[arg-type]
    return np.repeat(values, runs).reshape(height, width)  # type: ignore[arg-type]


def _rle_arrays(pairs: list[object], pixels: int) -> tuple[np.ndarray, np.ndarray] | None:
    """Values (int8) and runs (int64) of RLE pairs that are all well formed, checked with numpy.

    Returns None when any entry is not an ``[int, int]`` pair with a value in {-1, 0, 1} and a
    run from 1 to ``pixels`` (bools and floats included), for ``_rle_checked_entries`` to name
    it. Bounding each run by ``pixels`` keeps their int64 sum from overflowing.
    """
    # map() and set() run in C: a few hundred microseconds for thousands of pairs.
    if not set(map(type, pairs)) <= {list, tuple} or set(map(len, pairs)) != {2}:  # type: ignore[arg-type]
        return None
    flat = list(chain.from_iterable(pairs))  # type: ignore[arg-type]
    if set(map(type, flat)) != {int}:
        return None
    try:
        table = np.array(flat, dtype=np.int64).reshape(-1, 2)
    except OverflowError:  # an integer beyond int64
        return None
    values, runs = table[:, 0], table[:, 1]
    if values.min() < UNCLEAR or values.max() > IMPORTANT or runs.min() < 1 or runs.max() > pixels:
        return None
    return values.astype(np.int8), runs


def _rle_checked_entries(
    pairs: list[object], shape: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """``_rle_arrays`` for what it declined, one entry at a time: MaskError names the first bad
    entry, or the pixel count when the runs do not add up."""
    values, runs = [], []
    for position, pair in enumerate(pairs):
        if not (isinstance(pair, list | tuple) and len(pair) == 2):
            raise MaskError(f"prompt RLE entry {position} is not a [value, run] pair")
        value, run = pair
        if not _is_int(value) or value not in _PROMPT_TO_BYTE:
            raise MaskError(f"prompt RLE entry {position} has value {value!r}; use -1, 0 or 1")
        if not _is_int(run) or run < 1:
            raise MaskError(f"prompt RLE entry {position} has run {run!r}; use a positive integer")
        values.append(int(value))
        runs.append(int(run))
    if sum(runs) != shape[0] * shape[1]:  # exact in Python however large the runs
        raise _rle_coverage_error(sum(runs), shape)
    return np.asarray(values, dtype=np.int8), np.asarray(runs, dtype=np.int64)


def _rle_coverage_error(total: int, shape: tuple[int, int]) -> MaskError:
    height, width = shape
    return MaskError(
        f"prompt RLE runs cover {total} pixels but {width}x{height} needs {width * height}"
    )


def prompt_counts(mask: np.ndarray) -> dict[str, int]:
    """Count pixels per prompt value: ``{"important", "unimportant", "unclear"}``."""
    mask = _checked_prompt(mask)
    return {
        "important": int(np.count_nonzero(mask == IMPORTANT)),
        "unimportant": int(np.count_nonzero(mask == UNIMPORTANT)),
        "unclear": int(np.count_nonzero(mask == UNCLEAR)),
    }


def explanation_from_png(
    data: bytes, *, size: tuple[int, int] | None = None, max_pixels: int = DEFAULT_MAX_PIXELS
) -> np.ndarray:
    """Decode a ground-truth explanation PNG (255 = relevant, 0 = not) into bool ``[H, W]``.

    Raises:
        MaskError: not a PNG, wrong size, colour or 16-bit pixels, values other than 0/255.
    """
    grey = _read_grey_png(data, "explanation", size=size, max_pixels=max_pixels)
    _check_values(grey, (0, 255), "explanation")
    return grey == 255


def explanation_to_png(mask: np.ndarray) -> bytes:
    """Encode a bool (or 0/1) ``[H, W]`` explanation as an 8-bit grey PNG with 0/255."""
    mask = np.asarray(mask)
    _check_shape(mask, "explanation")
    if mask.dtype != np.bool_ and (
        not np.issubdtype(mask.dtype, np.integer) or not np.isin(mask, (0, 1)).all()
    ):
        raise MaskError("explanation must be a boolean array (or integers 0 and 1)")
    return _grey_png(np.where(mask.astype(bool), 255, 0).astype(np.uint8))


def _checked_prompt(mask: np.ndarray) -> np.ndarray:
    """Return the prompt as int8 after checking its shape, dtype and values."""
    mask = np.asarray(mask)
    _check_shape(mask, "prompt")
    if mask.dtype == np.bool_ or not np.issubdtype(mask.dtype, np.number):
        raise MaskError(f"prompt must hold the numbers -1, 0 and 1, got dtype {mask.dtype}")
    if not np.isin(mask, (UNCLEAR, UNIMPORTANT, IMPORTANT)).all():
        bad = np.unique(mask[~np.isin(mask, (UNCLEAR, UNIMPORTANT, IMPORTANT))])
        raise MaskError(f"prompt has values other than -1, 0 and 1: {_list_values(bad)}")
    return mask.astype(np.int8)


def _check_shape(mask: np.ndarray, what: str) -> None:
    if mask.ndim != 2 or 0 in mask.shape:
        raise MaskError(f"{what} must be a non-empty [H, W] array, got shape {mask.shape}")


def _check_size(
    what: str, actual: tuple[int, int], expected: tuple[int, int] | None, max_pixels: int
) -> None:
    """Compare ``(width, height)`` with the image size, or bound it when the size is unknown."""
    if expected is not None:
        if tuple(actual) != tuple(expected):
            raise MaskError(
                f"{what} is {actual[0]}x{actual[1]} but the image is {expected[0]}x{expected[1]}"
            )
    elif actual[0] * actual[1] > max_pixels:
        raise MaskError(
            f"{what} is {actual[0]}x{actual[1]}; at most {max_pixels} pixels are accepted"
        )


def _check_values(grey: np.ndarray, allowed: tuple[int, ...], what: str) -> None:
    """Raise MaskError listing up to five pixel values outside ``allowed``."""
    present = np.flatnonzero(np.bincount(grey.ravel(), minlength=256))
    bad = np.setdiff1d(present, allowed)
    if bad.size:
        names = " and ".join((", ".join(str(v) for v in allowed[:-1]), str(allowed[-1])))
        raise MaskError(f"{what} has pixel values other than {names}: {_list_values(bad)}")


def _list_values(values: np.ndarray) -> str:
    shown = ", ".join(str(v) for v in values[:_LISTED_VALUES].tolist())
    extra = values.size - _LISTED_VALUES
    return f"{shown} (and {extra} more)" if extra > 0 else shown


def _read_grey_png(
    data: bytes, what: str, *, size: tuple[int, int] | None, max_pixels: int
) -> np.ndarray:
    """Decode a mask PNG into uint8 [H, W], accepting colour only when R = G = B and opaque."""
    limit = max(max_pixels, size[0] * size[1]) if size is not None else max_pixels
    with pillow_limits(limit) as caught:
        try:
            with Image.open(io.BytesIO(data), formats=["PNG"]) as image:
                _check_size(what, image.size, size, max_pixels)
                if saw_decompression_bomb(caught):
                    raise MaskError(f"{what} has more than {limit} pixels")
                image.load()
                return _grey_pixels(image, what)
        except MaskError:
            raise
        except Image.DecompressionBombError:
            raise MaskError(f"{what} has more than {limit} pixels") from None
        except Exception as exc:  # Pillow raises OSError, SyntaxError, ValueError, ...
            detail = " ".join(str(exc).split()) or type(exc).__name__
            raise MaskError(f"{what} is not a readable PNG: {detail[:200]}") from exc


def _grey_pixels(image: Image.Image, what: str) -> np.ndarray:
    """The single grey channel of an 8-bit PNG, with the colour and alpha rules applied."""
    if image.mode.startswith("I") or image.mode == "F":
        raise MaskError(f"{what} must be an 8-bit PNG, got {image.mode} pixels")
    if image.mode == "P":
        image = image.convert("RGBA" if "transparency" in image.info else "RGB")
    elif image.mode == "PA":
        image = image.convert("RGBA")
    elif image.mode == "1":
        image = image.convert("L")
    pixels = np.asarray(image)
    if pixels.ndim == 2:
        return pixels.astype(np.uint8, copy=True)
    colour = pixels[..., :-1] if image.mode in ("LA", "RGBA") else pixels
    if image.mode in ("LA", "RGBA") and (pixels[..., -1] != 255).any():
        raise MaskError(f"{what} has transparent pixels; save it without alpha")
    if colour.shape[-1] == 3 and (
        (colour[..., 0] != colour[..., 1]).any() or (colour[..., 0] != colour[..., 2]).any()
    ):
        raise MaskError(f"{what} is a colour PNG; use 8-bit grey (R = G = B)")
    return colour[..., 0].astype(np.uint8, copy=True)


def _grey_png(grey: np.ndarray) -> bytes:
    """Encode uint8 ``[H, W]`` as an 8-bit grey PNG: "Up" filter, zlib run-length strategy.

    See the module docstring for why (and for the figures). Filter type 2 ("Up") stores each
    byte minus the byte above it, modulo 256; the first row has nothing above and is stored as
    is (the filter treats the row above it as zeros).
    """
    height, width = grey.shape
    rows = np.empty((height, width + 1), dtype=np.uint8)  # a filter-type byte, then the row
    rows[:, 0] = 2
    rows[0, 1:] = grey[0]
    np.subtract(grey[1:], grey[:-1], out=rows[1:, 1:])  # uint8 arithmetic wraps modulo 256
    compressor = zlib.compressobj(9, zlib.DEFLATED, 15, 9, zlib.Z_RLE)
    data = compressor.compress(rows.tobytes()) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey, no interlace
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", data),
            _png_chunk(b"IEND", b""),
        )
    )


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(data, zlib.crc32(kind))
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
