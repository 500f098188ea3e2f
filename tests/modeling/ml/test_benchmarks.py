"""DecoyDigits and synthetic CT nodules: layout, determinism, the spurious cue, prompts."""

from __future__ import annotations

import colorsys
import csv
import subprocess
import sys
from pathlib import Path

import numpy as np
import pydicom
import pytest
from PIL import Image

from labeling.imaging import read_dicom_hu
from modeling.ml.benchmarks import write_ct_nodules, write_decoy_digits

SMALL_DIGITS = {
    "n_train_per_class": 2,
    "n_val_per_class": 1,
    "n_test_per_class": 3,
    "size": 16,
    "swatch": 2,
}
SMALL_CT = {"n_train": 8, "n_val": 4, "n_test": 6, "size": 24}


def _rows(root: Path) -> list[dict[str, str]]:
    with (root / "labels.csv").open(newline="") as handle:
        return list(csv.DictReader(handle))


def _files(root: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()
    }


def _png(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path))


def _swatch_colour(image: np.ndarray, swatch: int) -> np.ndarray:
    size = image.shape[0]
    for top in (0, size - swatch):
        for left in (0, size - swatch):
            patch = image[top : top + swatch, left : left + swatch].reshape(-1, 3)
            if (patch == patch[0]).all() and np.ptp(patch[0]) > 0:
                return patch[0]
    raise AssertionError("no coloured swatch in any corner")


def test_decoy_digits_with_the_same_seed_are_byte_identical(tmp_path: Path) -> None:
    first = write_decoy_digits(tmp_path / "a", seed=3, **SMALL_DIGITS)
    second = write_decoy_digits(tmp_path / "b", seed=3, **SMALL_DIGITS)
    assert _files(first) == _files(second)


def test_decoy_digits_with_another_seed_differ(tmp_path: Path) -> None:
    first = write_decoy_digits(tmp_path / "a", seed=0, **SMALL_DIGITS)
    second = write_decoy_digits(tmp_path / "b", seed=1, **SMALL_DIGITS)
    assert _files(first) != _files(second)


def test_decoy_digit_prompt_styles_of_one_seed_differ_only_in_their_prompts(
    tmp_path: Path,
) -> None:
    boundary = _files(write_decoy_digits(tmp_path / "b", prompt_style="boundary", **SMALL_DIGITS))
    scribble = _files(write_decoy_digits(tmp_path / "s", prompt_style="scribble", **SMALL_DIGITS))
    assert boundary.keys() == scribble.keys()  # the same images carry a prompt
    shared = [name for name in boundary if not name.startswith("prompts/")]
    assert {"labels.csv"} < set(shared)
    assert all(boundary[name] == scribble[name] for name in shared)
    prompts = [name for name in boundary if name.startswith("prompts/")]
    assert prompts and all(boundary[name] != scribble[name] for name in prompts)


def test_decoy_digits_write_the_interchange_layout(tmp_path: Path) -> None:
    root = write_decoy_digits(tmp_path, prompt_fraction=0.5, **SMALL_DIGITS)
    rows = _rows(root)
    counts = {s: sum(r["split"] == s for r in rows) for s in ("train", "val", "test")}
    assert counts == {"train": 20, "val": 10, "test": 30}
    assert {r["label"] for r in rows} == {str(d) for d in range(10)}
    prompted = {s: 0 for s in counts}
    for row in rows:
        stem = Path(row["image"]).stem
        assert _png(root / "images" / row["image"]).shape == (16, 16, 3)
        assert set(np.unique(_png(root / "explanations" / f"{stem}.png"))) <= {0, 255}
        prompt_path = root / "prompts" / f"{stem}.png"
        if prompt_path.exists():
            prompted[row["split"]] += 1
            assert set(np.unique(_png(prompt_path))) <= {0, 128, 255}
    assert prompted == {"train": 10, "val": 5, "test": 30}


def test_decoy_digit_swatch_hue_encodes_the_class_in_train_and_not_in_test(tmp_path: Path) -> None:
    root = write_decoy_digits(tmp_path, prompt_fraction=0.0, **SMALL_DIGITS)
    matches = {"train": [], "test": []}
    for row in _rows(root):
        if row["split"] not in matches:
            continue
        rgb = _swatch_colour(_png(root / "images" / row["image"]), 2) / 255.0
        hue = colorsys.rgb_to_hsv(*rgb)[0]
        matches[row["split"]].append(round(hue * 10) % 10 == int(row["label"]))
    assert all(matches["train"])
    assert not all(matches["test"])


def test_boundary_prompts_mark_the_strokes_important_and_the_swatch_unimportant(
    tmp_path: Path,
) -> None:
    root = write_decoy_digits(tmp_path, prompt_style="boundary", **SMALL_DIGITS)
    for row in _rows(root)[:10]:
        stem = Path(row["image"]).stem
        prompt_path = root / "prompts" / f"{stem}.png"
        if not prompt_path.exists():
            continue
        prompt = _png(prompt_path)
        strokes = _png(root / "explanations" / f"{stem}.png") == 255
        assert (prompt[strokes] == 255).all()
        assert (prompt[~strokes] != 255).all()
        assert (prompt[:2, :2] == 0).all() and (prompt[-2:, -2:] == 0).all()
        assert (prompt == 128).any()


def test_scribble_prompts_leave_pixels_unclear_and_cross_out_the_swatch(tmp_path: Path) -> None:
    root = write_decoy_digits(tmp_path, prompt_style="scribble", **SMALL_DIGITS)
    for row in _rows(root):
        if row["split"] != "test":
            continue
        stem = Path(row["image"]).stem
        image = _png(root / "images" / row["image"])
        prompt = _png(root / "prompts" / f"{stem}.png")
        strokes = _png(root / "explanations" / f"{stem}.png") == 255
        swatch = np.ptp(image, axis=2) > 0
        assert (prompt[swatch] == 0).all()
        assert (prompt == 128).sum() > prompt.size // 2
        assert (prompt == 255).any() and (prompt[prompt == 255] == 255).all()
        assert strokes[prompt == 255].all()


def test_unknown_prompt_style_is_rejected(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="prompt_style"):
        write_decoy_digits(tmp_path, prompt_style="polygon", **SMALL_DIGITS)


def test_ct_nodules_are_ct_dicom_files_with_rescale_and_a_lung_window(tmp_path: Path) -> None:
    root = write_ct_nodules(tmp_path, **SMALL_CT)
    row = next(r for r in _rows(root) if r["label"] == "nodule")
    path = root / "images" / row["image"]
    ds = pydicom.dcmread(path)
    assert ds.Modality == "CT"
    assert float(ds.RescaleIntercept) == -1024 and float(ds.RescaleSlope) == 1
    assert (float(ds.WindowCenter), float(ds.WindowWidth)) == (-600.0, 1500.0)
    hu, _ = read_dicom_hu(path.read_bytes())
    nodule = _png(root / "explanations" / f"{Path(row['image']).stem}.png") == 255
    assert hu[nodule].mean() > hu[~nodule].mean() + 200


def test_ct_nodules_with_the_same_seed_are_byte_identical(tmp_path: Path) -> None:
    first = write_ct_nodules(tmp_path / "a", seed=5, **SMALL_CT)
    second = write_ct_nodules(tmp_path / "b", seed=5, **SMALL_CT)
    assert _files(first) == _files(second)


def test_ct_prompt_styles_of_one_seed_differ_only_in_their_prompts(tmp_path: Path) -> None:
    boundary = _files(write_ct_nodules(tmp_path / "b", prompt_style="boundary", **SMALL_CT))
    scribble = _files(write_ct_nodules(tmp_path / "s", prompt_style="scribble", **SMALL_CT))
    assert boundary.keys() == scribble.keys()  # the same slices carry a prompt
    shared = [name for name in boundary if not name.startswith("prompts/")]
    assert any(name.endswith(".dcm") for name in shared)
    assert all(boundary[name] == scribble[name] for name in shared)
    prompts = [name for name in boundary if name.startswith("prompts/")]
    assert prompts and all(boundary[name] != scribble[name] for name in prompts)


def test_ct_marker_follows_the_label_in_train_and_val_only(tmp_path: Path) -> None:
    root = write_ct_nodules(
        tmp_path, n_train=16, n_val=8, n_test=40, size=24, marker_rate=1.0, prompt_fraction=0
    )
    agree = {"train": [], "val": [], "test": []}
    for row in _rows(root):
        hu, _ = read_dicom_hu((root / "images" / row["image"]).read_bytes())
        has_marker = bool((hu > 1000).any())
        agree[row["split"]].append(has_marker == (row["label"] == "nodule"))
    assert all(agree["train"]) and all(agree["val"])
    assert 0 < sum(agree["test"]) < len(agree["test"])


def test_ct_nodules_have_ground_truth_for_nodule_images_only(tmp_path: Path) -> None:
    root = write_ct_nodules(tmp_path, **SMALL_CT)
    for row in _rows(root):
        has_gt = (root / "explanations" / f"{Path(row['image']).stem}.png").exists()
        assert has_gt == (row["label"] == "nodule")


def test_writing_benchmarks_never_imports_torch(tmp_path: Path) -> None:
    code = (
        "import sys; from pathlib import Path; "
        "from modeling.ml.benchmarks import write_decoy_digits; "
        f"write_decoy_digits(Path({str(tmp_path)!r}), n_train_per_class=1, n_val_per_class=1, "
        "n_test_per_class=1, size=16, swatch=2); "
        "assert 'torch' not in sys.modules, 'torch was imported'"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=Path(__file__).parents[3])
