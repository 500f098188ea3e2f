"""Datasets: interchange folders and arrays as item dicts; joint geometry; cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from torchvision.transforms import v2

from modeling.ml.benchmarks import write_ct_nodules, write_decoy_digits
from modeling.ml.data import ArrayDataset, InterchangeDataset, class_names_of, read_labels


@pytest.fixture(scope="module")
def digits(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_decoy_digits(
        tmp_path_factory.mktemp("digits"),
        n_train_per_class=1,
        n_val_per_class=1,
        n_test_per_class=1,
        size=16,
        swatch=2,
        prompt_fraction=0.5,
    )


@pytest.fixture(scope="module")
def ct(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_ct_nodules(
        tmp_path_factory.mktemp("ct"), n_train=2, n_val=2, n_test=2, size=24, prompt_fraction=1
    )


def _prompted(dataset: InterchangeDataset) -> int:
    return next(i for i in range(len(dataset)) if dataset[i]["has_prompt"])


def _unprompted(dataset: InterchangeDataset) -> int:
    return next(i for i in range(len(dataset)) if not dataset[i]["has_prompt"])


def test_items_have_the_documented_keys_shapes_and_values(digits: Path) -> None:
    item = InterchangeDataset(digits, "train")[0]
    assert set(item) == {"image", "prompt", "has_prompt", "gt", "has_gt", "label", "name"}
    assert item["image"].shape == (3, 16, 16) and item["image"].dtype == torch.float32
    assert item["image"].min() >= 0 and item["image"].max() <= 1
    assert item["prompt"].shape == (1, 16, 16)
    assert set(item["prompt"].unique().tolist()) <= {-1.0, 0.0, 1.0}
    assert set(item["gt"].unique().tolist()) <= {0.0, 1.0}
    assert item["label"].dtype == torch.long and item["has_gt"] is True
    assert item["name"].startswith("train_")


def test_prompt_pixels_match_the_png(digits: Path) -> None:
    dataset = InterchangeDataset(digits, "train")
    item = dataset[_prompted(dataset)]
    png = np.asarray(Image.open(digits / "prompts" / f"{Path(item['name']).stem}.png"))
    expected = np.select([png == 255, png == 0], [1.0, 0.0], default=-1.0)
    assert torch.equal(item["prompt"][0], torch.from_numpy(expected).float())


def test_an_image_without_prompt_is_all_unclear(digits: Path) -> None:
    dataset = InterchangeDataset(digits, "train")
    item = dataset[_unprompted(dataset)]
    assert item["has_prompt"] is False and (item["prompt"] == -1).all()


def test_split_selection_and_shared_class_order(digits: Path) -> None:
    train = InterchangeDataset(digits, "train")
    both = InterchangeDataset(digits, ["val", "test"])
    assert len(train) == 10 and len(both) == 20
    assert {r.split for r in both.records} == {"val", "test"}
    assert train.class_names == both.class_names == tuple(str(d) for d in range(10))


def test_class_names_sort_integers_numerically(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("image,label,split\na.png,10,train\nb.png,9,val\n")
    assert class_names_of(read_labels(tmp_path)) == ("9", "10")


def test_labels_csv_with_an_unknown_split_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("image,label,split\na.png,1,holdout\n")
    with pytest.raises(ValueError, match="holdout"):
        read_labels(tmp_path)


def test_resizing_keeps_prompt_values_and_unclear_pixels(digits: Path) -> None:
    dataset = InterchangeDataset(digits, "test", size=(40, 28))
    item = dataset[0]
    assert item["image"].shape == (3, 40, 28) and item["prompt"].shape == (1, 40, 28)
    assert set(item["prompt"].unique().tolist()) == {-1.0, 0.0, 1.0}
    assert set(item["gt"].unique().tolist()) == {0.0, 1.0}


def test_dicom_images_are_rendered_with_the_requested_window(ct: Path) -> None:
    lung = InterchangeDataset(ct, "train")[0]["image"]
    soft = InterchangeDataset(ct, "train", window=(40.0, 400.0))[0]["image"]
    assert lung.shape == (1, 24, 24)
    # Lung tissue (~ -850 HU) is mid-grey in the lung window and black in a soft-tissue window.
    assert lung.median() > 0.2 and soft.median() == 0.0


def test_a_joint_transform_moves_image_prompt_and_gt_together(digits: Path) -> None:
    plain = InterchangeDataset(digits, "test")
    flipped = InterchangeDataset(digits, "test", transform=v2.RandomHorizontalFlip(p=1.0))
    for key in ("image", "prompt", "gt"):
        assert torch.equal(flipped[0][key], plain[0][key].flip(-1))


def test_padding_reads_as_unclear_prompt_and_irrelevant_ground_truth(digits: Path) -> None:
    padded = InterchangeDataset(digits, "test", transform=v2.Pad(2, fill=0))[0]
    assert (padded["prompt"][..., :2] == -1).all()
    assert (padded["gt"][..., :2] == 0).all() and (padded["image"][..., :2] == 0).all()


def test_decoded_items_are_cached(digits: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    dataset = InterchangeDataset(digits, "val")
    calls = []
    original = dataset._decode
    monkeypatch.setattr(dataset, "_decode", lambda name: calls.append(name) or original(name))
    dataset[0], dataset[0]
    assert len(calls) == 1


def test_changing_an_item_does_not_change_the_cache(digits: Path) -> None:
    dataset = InterchangeDataset(digits, "val")
    dataset[0]["image"].zero_()
    assert dataset[0]["image"].max() > 0


def test_a_prompt_of_the_wrong_size_names_the_image(digits: Path, tmp_path: Path) -> None:
    root = tmp_path / "copy"
    root.mkdir()
    (root / "images").mkdir()
    (root / "prompts").mkdir()
    (root / "labels.csv").write_text("image,label,split\nx.png,1,train\n")
    (root / "images" / "x.png").write_bytes((digits / "images" / "test_0000.png").read_bytes())
    Image.fromarray(np.zeros((5, 5), dtype=np.uint8)).save(root / "prompts" / "x.png")
    with pytest.raises(ValueError, match=r"x\.png"):
        InterchangeDataset(root, "train")[0]


def test_array_dataset_infers_prompt_flags_and_scales_uint8() -> None:
    images = np.full((2, 1, 4, 4), 255, dtype=np.uint8)
    prompts = -np.ones((2, 4, 4))
    prompts[1, 0, 0] = 1
    dataset = ArrayDataset(images, [0, 1], prompts=prompts)
    assert [dataset[i]["has_prompt"] for i in range(2)] == [False, True]
    assert dataset[0]["image"].max() == 1.0 and dataset[1]["prompt"][0, 0, 0] == 1
    assert dataset[0]["has_gt"] is False and dataset.class_names == ("0", "1")
