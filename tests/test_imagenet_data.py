"""ImageNet from the folder layout (issue 16, data part): index, the papers' splits, the
streaming loader's shapes/labels/determinism, and one-line errors, on a generated folder of
small JPEGs (no ImageNet needed)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import pytest
import torch

from nasrepro.data.imagenet import (
    EvalTransform,
    TrainTransform,
    index_folder,
    make_imagenet_splits,
    make_loader,
    random_resized_box,
    set_epoch,
    split_dataset,
)
from nasrepro.errors import ConfigError, DataError
from tests.conftest import run_cli

CLASSES = ["n01440764", "n01443537", "n01484850", "n01491361"]
N_TRAIN, N_VAL = 6, 2


def _write_jpeg(path: Path, seed: int, size: tuple[int, int]) -> None:
    from PIL import Image

    rng = np.random.default_rng(seed)
    arr = rng.integers(0, 256, size=(size[1], size[0], 3), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(arr).save(path, "JPEG", quality=90)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train/<wnid>/ with 6 images per class, val/<wnid>/ with 2, sizes varying (40-64 px)."""
    root = tmp_path_factory.mktemp("imagenet")
    k = 0
    for c in CLASSES:
        for part, n in (("train", N_TRAIN), ("val", N_VAL)):
            for i in range(n):
                k += 1
                _write_jpeg(root / part / c / f"{c}_{i}.JPEG", k, (40 + 3 * i, 64 - 2 * i))
    return root


def test_index_has_sorted_classes_files_and_a_stable_checksum(folder: Path) -> None:
    index = index_folder(folder)
    assert index.classes == tuple(CLASSES)
    assert len(index.train) == len(CLASSES) * N_TRAIN and len(index.val) == len(CLASSES) * N_VAL
    assert [lab for _, lab in index.train] == sorted(lab for _, lab in index.train)
    assert index.train[0] == (f"train/{CLASSES[0]}/{CLASSES[0]}_0.JPEG", 0)
    assert index_folder(folder).checksum == index.checksum
    assert len(index.checksum) == 64


def test_splits_hold_out_a_stratified_seeded_val_set(folder: Path) -> None:
    index = index_folder(folder)
    s = make_imagenet_splits(index, seed=0, val_size=8)  # SPOS: held out of train
    assert len(s["val"]) == 8 and len(s["train"]) == len(index.train) - 8
    assert not set(s["val"]) & set(s["train"])
    per_class = np.bincount([index.train[i][1] for i in s["val"]])
    assert per_class.tolist() == [2, 2, 2, 2]  # stratified
    assert s["test"] == list(range(len(index.val)))  # AttentiveNAS: the official val set
    assert s == make_imagenet_splits(index, seed=0, val_size=8)  # seeded
    assert s["val"] != make_imagenet_splits(index, seed=1, val_size=8)["val"]
    json.dumps(s)  # plain ints


def test_class_subset_renumbers_labels(folder: Path) -> None:
    """FBNetV3's search: a seeded class subset with its own held-out images."""
    index = index_folder(folder)
    s = make_imagenet_splits(index, seed=3, val_size=2, n_classes=2)
    assert len(s["classes"]) == 2 and set(s["classes"]) <= set(CLASSES)
    kept = {CLASSES.index(c) for c in s["classes"]}
    assert {index.train[i][1] for i in s["train"] + s["val"]} == kept
    assert len(s["train"]) + len(s["val"]) == 2 * N_TRAIN and len(s["test"]) == 2 * N_VAL
    ds = split_dataset(index, s, "train", EvalTransform(size=32))
    assert sorted({ds[i][1] for i in range(len(ds))}) == [0, 1]


def test_loader_shapes_labels_and_determinism(folder: Path) -> None:
    index = index_folder(folder)
    s = make_imagenet_splits(index, seed=0, val_size=4)
    train = split_dataset(index, s, "train", TrainTransform(size=32, jitter=0.4, lighting=0.1),
                          seed=5)

    def epoch_batches(workers: int, epoch: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        loader = make_loader(train, batch_size=8, shuffle=True, seed=5, workers=workers)
        set_epoch(loader, epoch)
        return list(loader)

    first = epoch_batches(0, 0)
    x, y = first[0]
    assert x.shape == (8, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert sum(len(b[1]) for b in first) == len(s["train"])
    assert torch.isfinite(x).all() and -3 < float(x.mean()) < 3
    again = epoch_batches(2, 0)  # two decoding workers: the same batches
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
               for a, b in zip(first, again, strict=True))
    other = epoch_batches(0, 1)  # the next epoch: another order and other crops
    assert not torch.equal(first[0][0], other[0][0])
    test = split_dataset(index, s, "test", EvalTransform(size=32))
    loader = make_loader(test, batch_size=4, shuffle=False, seed=0)
    labels = torch.cat([b[1] for b in loader]).tolist()
    assert labels == [lab for _, lab in index.val]


def test_ranks_read_disjoint_shards_of_the_same_permutation(folder: Path) -> None:
    index = index_folder(folder)
    s = make_imagenet_splits(index, seed=0, val_size=4)
    ds = split_dataset(index, s, "train", EvalTransform(size=16))
    shards = [list(make_loader(ds, batch_size=2, shuffle=True, seed=1, rank=r,
                               world_size=2).sampler) for r in range(2)]
    keys = [i for shard in shards for _, i in shard]
    assert len(shards[0]) == len(shards[1]) == len(ds) // 2
    assert sorted(keys) == list(range(len(ds)))  # together: every item once


def test_random_resized_box_follows_torchvision_rule() -> None:
    rng = random.Random(0)
    for _ in range(200):
        left, top, w, h = random_resized_box(100, 60, rng)
        assert 0 <= left and left + w <= 100 and 0 <= top and top + h <= 60
        assert 0.08 * 6000 * 0.7 <= w * h <= 6000
    # an impossible scale falls back to the centre crop clamped to the aspect range
    assert random_resized_box(300, 20, random.Random(0), scale=(5.0, 6.0)) == (136, 0, 27, 20)


def test_corrupt_jpeg_is_a_one_line_error_naming_the_file(folder: Path, tmp_path: Path) -> None:
    import shutil

    root = tmp_path / "broken"
    shutil.copytree(folder, root)
    bad = root / "train" / CLASSES[1] / f"{CLASSES[1]}_2.JPEG"
    bad.write_bytes(b"\xff\xd8 not a jpeg")
    index = index_folder(root)
    ds = split_dataset(index, make_imagenet_splits(index, seed=0, val_size=4), "train",
                       EvalTransform(size=16))
    with pytest.raises(DataError) as err:
        for i in range(len(ds)):
            ds[i]
    assert str(bad) in str(err.value) and "\n" not in str(err.value)


@pytest.mark.parametrize(("layout", "message"), [
    ("no_val", "has no val/ folder"),
    ("empty_class", "has no images"),
    ("stray_val_class", "is not in"),
])
def test_bad_folders_are_one_line_errors(tmp_path: Path, layout: str, message: str) -> None:
    root = tmp_path / layout
    _write_jpeg(root / "train" / "a" / "x.JPEG", 0, (20, 20))
    if layout != "no_val":
        _write_jpeg(root / "val" / ("b" if layout == "stray_val_class" else "a") / "y.JPEG", 1,
                    (20, 20))
    if layout == "empty_class":
        (root / "train" / "c").mkdir()
    with pytest.raises(DataError, match=message):
        index_folder(root)


def test_split_sizes_are_checked(folder: Path) -> None:
    index = index_folder(folder)
    with pytest.raises(ConfigError, match="val_size"):
        make_imagenet_splits(index, seed=0, val_size=len(index.train))
    with pytest.raises(ConfigError, match="n_classes"):
        make_imagenet_splits(index, seed=0, val_size=2, n_classes=9)
    other = make_imagenet_splits(index, seed=0, val_size=2) | {"checksum": "0" * 64}
    with pytest.raises(DataError, match="another file list"):
        split_dataset(index, other, "train", EvalTransform(size=16))


def test_data_job_indexes_the_folder(folder: Path, tmp_path: Path) -> None:
    """`nasrepro data` on the imagenet profile writes the splits and its provenance; training
    jobs still refuse it in one line (the streaming loader is not wired into them yet)."""
    out = tmp_path / "splits.json"
    override = json.dumps({"data": {"path": str(folder), "val_size": 8, "n_classes": None},
                           "device": "cpu", "threads": 1, "results_dir": str(tmp_path)})
    proc = run_cli("data", "--profile", "imagenet", "--config-override", override,
                   "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    splits = json.loads(out.read_text())
    assert len(splits["val"]) == 8 and splits["classes"] == CLASSES
    prov = json.loads((tmp_path / "provenance.json").read_text())
    assert prov["dataset_checksum"] == index_folder(folder).checksum
    from nasrepro.config import load_config
    from nasrepro.experiments.common import load_data

    with pytest.raises(DataError, match="do not read ImageNet yet"):
        load_data(load_config("imagenet", json.loads(override)), out)
