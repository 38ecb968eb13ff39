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
    imagenet_bundle,
    index_folder,
    make_imagenet_splits,
    random_resized_box,
    split_dataset,
)
from nasrepro.data.stream import eval_batches, take, train_batches
from nasrepro.errors import ConfigError, DataError
from tests.conftest import run_cli
from tests.imagenet_folder import write_jpeg

CLASSES = ["n01440764", "n01443537", "n01484850", "n01491361"]
N_TRAIN, N_VAL = 6, 2


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """train/<wnid>/ with 6 images per class, val/<wnid>/ with 2, sizes varying (40-64 px)."""
    root = tmp_path_factory.mktemp("imagenet")
    k = 0
    for c in CLASSES:
        for part, n in (("train", N_TRAIN), ("val", N_VAL)):
            for i in range(n):
                k += 1
                write_jpeg(root / part / c / f"{c}_{i}.JPEG", k, (40 + 3 * i, 64 - 2 * i))
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


def _bundle(folder: Path, workers: int = 0, **kw):
    index = index_folder(folder)
    return imagenet_bundle(index, make_imagenet_splits(index, seed=0, val_size=4),
                           image_size=32, workers=workers, **kw)


def _epoch(data, seed: int, batch_size: int = 8, **kw) -> list[tuple[torch.Tensor, torch.Tensor]]:
    g = torch.Generator().manual_seed(seed)
    return list(train_batches(data.train_x, data.train_y, batch_size, generator=g,
                              drop_last=False, **kw))


def test_streamed_bundle_shapes_labels_and_determinism(folder: Path) -> None:
    data = _bundle(folder, jitter=0.4, lighting=0.1)
    assert data.train_x.shape == (len(data.train_y), 3, 32, 32) and data.input_shape == (3, 32, 32)
    assert data.num_classes == len(CLASSES) and data.flip is False
    # a seeded random order: a prefix (fbnetv3.search_train_size) spans the classes
    assert len(set(data.train_y[:8].tolist())) > 2
    assert data.train_x.positions == _bundle(folder).train_x.positions
    first = _epoch(data, seed=5)
    x, y = first[0]
    assert x.shape == (8, 3, 32, 32) and x.dtype == torch.float32 and y.dtype == torch.int64
    assert sum(len(b[1]) for b in first) == len(data.train_y)
    assert torch.isfinite(x).all() and -3 < float(x.mean()) < 3
    # the loop's generator decides the order: the same as a tensor epoch would draw
    order = torch.randperm(len(data.train_y), generator=torch.Generator().manual_seed(5))
    assert torch.equal(torch.cat([b[1] for b in first]), data.train_y[order])
    again = _epoch(_bundle(folder, workers=2, jitter=0.4, lighting=0.1), seed=5)
    assert all(torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])  # 2 workers: same batches
               for a, b in zip(first, again, strict=True))
    other = _epoch(data, seed=6)  # another draw: another order and other crops
    assert not torch.equal(first[0][0], other[0][0])
    labels = torch.cat([yb for _, yb in eval_batches(data.test_x, data.test_y, 4)])
    assert labels.tolist() == data.test_y.tolist() == [lab for _, lab in index_folder(folder).val]


def test_ranks_decode_contiguous_shares_of_each_global_batch(folder: Path) -> None:
    """With 2 ranks each decodes half of every global batch, and together they are the
    1-rank batch (what the loop's tensor path shards)."""
    data = _bundle(folder)
    whole = _epoch(data, seed=1)
    shares = [_epoch(data, seed=1, rank=r, world_size=2) for r in range(2)]
    for b, (r0, r1) in zip(whole, zip(*shares, strict=True), strict=True):
        assert torch.equal(torch.cat([r0[0], r1[0]]), b[0])
        assert torch.equal(torch.cat([r0[1], r1[1]]), b[1])


def test_streamed_evaluation_equals_tensor_evaluation(folder: Path) -> None:
    """Equal math: accuracy, loss and BN recalibration on a streamed split give what they give
    on the same images as one tensor."""
    from nasrepro.evaluation.evaluate import evaluate_loss_acc, evaluate_subnets

    data = _bundle(folder)
    val_x = torch.cat([xb for xb, _ in eval_batches(data.val_x, data.val_y, 3)])
    recal_x = take(data.train_x, range(len(data.train_y)))
    assert torch.equal(take(data.train_x, [3, 1]), recal_x[[3, 1]])  # fixed augmentation token
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3), torch.nn.BatchNorm2d(4), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                              torch.nn.Linear(4, len(CLASSES)))
    assert evaluate_loss_acc(net, data.val_x, data.val_y, batch_size=3) == \
        evaluate_loss_acc(net, val_x, data.val_y, batch_size=3)
    kw = {"recalib_batches": 2, "batch_size": 5, "forward": lambda m, x, a: m(x),
          "generator": None}
    assert evaluate_subnets(net, [0], recalib_x=data.train_x, eval_x=data.val_x,
                            eval_y=data.val_y, **kw) == \
        evaluate_subnets(net, [0], recalib_x=recal_x, eval_x=val_x, eval_y=data.val_y, **kw)
    assert len(data.val_x[:3]) == 3 and data.val_x[:3].positions == data.val_x.positions[:3]


def test_training_on_a_streamed_bundle_is_seeded_and_resumes_bit_identically(
        folder: Path, tmp_path: Path) -> None:
    """The one training loop reads a streamed bundle: the same seed gives the same weights,
    a run stopped after one epoch and resumed ends as the uninterrupted run."""
    from nasrepro.training import TrainConfig, train

    cfg = TrainConfig(epochs=2, batch_size=8, lr=0.05)

    def run(run_dir: Path | None, stop_epoch: int | None = None) -> dict:
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Conv2d(3, 4, 3, stride=2), torch.nn.ReLU(),
                                  torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                                  torch.nn.Linear(4, len(CLASSES)))
        rows = train(net, _bundle(folder), cfg, seed=3, run_dir=run_dir, progress=False,
                     stop_epoch=stop_epoch)
        assert all(np.isfinite(r["train_loss"]) for r in rows)
        return net.state_dict()

    full = run(None)
    assert all(torch.equal(v, run(None)[k]) for k, v in full.items())
    run(tmp_path, stop_epoch=1)
    resumed = run(tmp_path)
    assert all(torch.equal(v, resumed[k]) for k, v in full.items())


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
    # decoded by DataLoader workers, the error is still one line naming the file
    data = imagenet_bundle(index, make_imagenet_splits(index, seed=0, val_size=4),
                           image_size=16, workers=2)
    with pytest.raises(DataError) as err:
        take(data.train_x, range(len(data.train_y)))
    assert str(bad) in str(err.value) and "\n" not in str(err.value), str(err.value)


@pytest.mark.parametrize(("layout", "message"), [
    ("no_val", "has no val/ folder"),
    ("empty_class", "has no images"),
    ("stray_val_class", "is not in"),
])
def test_bad_folders_are_one_line_errors(tmp_path: Path, layout: str, message: str) -> None:
    root = tmp_path / layout
    write_jpeg(root / "train" / "a" / "x.JPEG", 0, (20, 20))
    if layout != "no_val":
        write_jpeg(root / "val" / ("b" if layout == "stray_val_class" else "a") / "y.JPEG", 1,
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


def test_data_job_indexes_the_folder_and_jobs_load_it(folder: Path, tmp_path: Path) -> None:
    """`nasrepro data` on the imagenet profile writes the splits and its provenance; a
    training job's load_data then streams the folder at data.image_size."""
    out = tmp_path / "splits.json"
    override = json.dumps({"data": {"path": str(folder), "val_size": 8, "n_classes": None,
                                    "image_size": 24},
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

    data = load_data(load_config("imagenet", json.loads(override)), out)
    assert data.val_x.shape == (8, 3, 24, 24) and data.checksum == prov["dataset_checksum"]
    assert data.train_x.shape[0] + 8 == len(CLASSES) * N_TRAIN


def test_fbnetv3_search_data_is_a_seeded_class_subset(tmp_path: Path) -> None:
    """FBNetV3's ImageNet proxy (fbnetv3.search_classes): candidates train and are validated on
    a seeded subset of the classes, held-out images included, labels unchanged."""
    from nasrepro.config import load_config
    from nasrepro.experiments.common import make_data_splits, splits_path
    from nasrepro.papers.fbnetv3.experiment import search_data
    from tests.imagenet_folder import wnids, write_folder

    root = write_folder(tmp_path / "folder", wnids(10), n_train=4, n_val=1, sizes=(20, 24))
    config = load_config("imagenet", {
        "device": "cpu", "results_dir": str(tmp_path / "results"),
        "data": {"path": str(root), "val_size": 10, "image_size": 16, "workers": 0},
        "fbnetv3": {"preset": "fbnetv3/tiny-rgb", "search_classes": 3}})
    make_data_splits(config, splits_path(config))
    data = search_data(config)
    classes = set(data.train_y.tolist())
    assert len(classes) == 3 and set(data.val_y.tolist()) == classes
    assert len(data.train_y) == 3 * 3 and len(data.val_y) == 3  # 4 - 1 held out per class
    labels = torch.cat([yb for _, yb in eval_batches(data.val_x, data.val_y, 2)])
    assert labels.tolist() == data.val_y.tolist()  # the images are the kept classes' images
    assert set(search_data(config).train_y.tolist()) == classes  # seeded


def test_a_net_learns_the_classes_from_streamed_images(tmp_path: Path) -> None:
    """Images and labels stay paired through the streamed loader: a small net trained with the
    one loop on a generated folder whose classes differ in colour separates the held-out and
    the official validation images far above chance (0.25)."""
    from nasrepro.evaluation import accuracy
    from nasrepro.training import TrainConfig, train
    from tests.imagenet_folder import wnids, write_folder

    root = write_folder(tmp_path / "folder", wnids(4), n_train=12, n_val=4, sizes=(20, 28))
    index = index_folder(root)
    data = imagenet_bundle(index, make_imagenet_splits(index, seed=0, val_size=8), image_size=16)
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3, stride=2), torch.nn.ReLU(),
                              torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(),
                              torch.nn.Linear(8, 4))
    rows = train(net, data, TrainConfig(epochs=8, batch_size=8, lr=0.1), seed=0, run_dir=None,
                 progress=False)
    assert rows[-1]["train_loss"] < 0.5 * rows[0]["train_loss"]
    assert accuracy(net, data.val_x, data.val_y) >= 0.75
    assert accuracy(net, data.test_x, data.test_y) >= 0.75
