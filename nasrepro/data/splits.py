"""Seeded train/val/test splits and their conversion into normalised tensors on the device.

Every paper holds out part of the official training set to select architectures: SPOS searches on
a validation split of ImageNet's training set (PAPERS.md section 1), DARTS splits CIFAR-10's
training set 50/50 into weight and architecture halves (section 2), AttentiveNAS / FBNetV3 pick
subnets on held-out data (sections 3-4). :func:`make_splits` makes that split once per
dataset and seed, as a JSON-serialisable dict saved to ``results/<profile>/data/<dataset>/``
(DESIGN.md, "The data flow"); :func:`prepare` turns a dataset plus its splits into a
:class:`DataBundle` of normalised ``float32`` tensors on the training device.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F

from nasrepro.data.datasets import Dataset
from nasrepro.errors import ConfigError, DataError


def make_splits(
    dataset: Dataset,
    *,
    seed: int,
    val_size: int,
    train_size: int | None = None,
    test_size: int | None = None,
) -> dict:
    """Make a seeded train/val/test split.

    ``val`` is the first ``val_size`` entries of a seeded permutation of the official training
    set, ``train`` the next ``train_size`` (default: all the rest), ``test`` a seeded subsample of
    ``test_size`` images of the official test set (default: all of it). Every index list is sorted
    ascending (order carries no information; batches are shuffled by :func:`iterate_batches`).

    Args:
        dataset: the dataset.
        seed: split seed (``numpy.random.default_rng(seed)``).
        val_size: number of training images held out for validation (may be 0).
        train_size: number of remaining training images kept (``None``: all).
        test_size: number of test images kept (``None``: all).

    Returns:
        ``{"dataset", "checksum", "seed", "train", "val", "test"}``; the lists hold plain ints
        (indices into ``train_x`` for train/val, into ``test_x`` for test).

    Raises:
        ConfigError: negative sizes, sizes larger than available, or an empty training split.
    """
    n_train, n_test = len(dataset.train_y), len(dataset.test_y)
    for key, v in (("val_size", val_size), ("train_size", train_size), ("test_size", test_size)):
        if v is not None and (not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < 0):
            raise ConfigError(f"data.{key} must be a non-negative integer, got {v!r}")
    if val_size >= n_train:
        raise ConfigError(
            f"data.val_size={val_size} leaves no training images ({dataset.name} has {n_train}); "
            f"use a val_size below {n_train}"
        )
    rest = n_train - val_size
    if train_size is None:
        train_size = rest
    if train_size == 0 or train_size > rest:
        raise ConfigError(
            f"data.train_size={train_size} is not in 1..{rest} ({dataset.name} has {n_train} "
            f"training images, {val_size} held out for validation); lower train_size or val_size"
        )
    if test_size is None:
        test_size = n_test
    if test_size > n_test:
        raise ConfigError(
            f"data.test_size={test_size} exceeds the {n_test} test images of {dataset.name}; "
            f"use at most {n_test}"
        )
    rng = np.random.default_rng(seed)
    perm = rng.permutation(n_train)
    val = np.sort(perm[:val_size])
    train = np.sort(perm[val_size : val_size + train_size])
    test = np.sort(rng.permutation(n_test)[:test_size]) if test_size < n_test else np.arange(n_test)
    return {
        "dataset": dataset.name,
        "checksum": dataset.checksum,
        "seed": int(seed),
        "train": train.tolist(),
        "val": val.tolist(),
        "test": test.tolist(),
    }


@dataclass
class DataBundle:
    """A split dataset ready for training: normalised ``float32`` tensors on the device.

    Attributes:
        train_x, val_x, test_x: [N, C, H, W] images, normalised per channel with the train
            split's mean/std.
        train_y, val_y, test_y: ``int64`` [N] labels, on the same device.
        num_classes: number of classes.
        input_shape: ``(C, H, W)`` of one image (after the optional resize).
        checksum: the dataset checksum the splits were made for.
        flip: whether horizontal flips are a valid augmentation.
        mean, std: the per-channel statistics used (in units of ``x / max_value``).
    """

    train_x: torch.Tensor
    train_y: torch.Tensor
    val_x: torch.Tensor
    val_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    input_shape: tuple[int, int, int]
    checksum: str
    flip: bool
    mean: tuple[float, ...] = ()
    std: tuple[float, ...] = ()


def _indices(splits: dict, key: str, n: int) -> torch.Tensor:
    try:
        ids = torch.as_tensor(splits[key], dtype=torch.int64)
    except (KeyError, TypeError, ValueError, RuntimeError) as e:
        raise DataError(
            f"splits have no valid {key!r} index list; delete results/<profile>/data and rerun"
        ) from e
    if ids.ndim != 1 or (ids.numel() and (ids.min() < 0 or ids.max() >= n)):
        raise DataError(
            f"splits {key!r} indices are out of range 0..{n - 1}; delete results/<profile>/data "
            "and rerun"
        )
    return ids


def prepare(
    dataset: Dataset,
    splits: dict,
    device: str | torch.device = "cpu",
    resize: int | None = None,
) -> DataBundle:
    """Cut a dataset along its splits, normalise it and move it to ``device``.

    Pixels are scaled to ``[0, 1]`` by ``max_value``, optionally resized to ``resize x resize``
    (bilinear, ``align_corners=False``, antialiased when shrinking), then normalised per channel
    with the mean/std of the *train* split (so no val/test statistics leak in).

    Args:
        dataset: the dataset the splits were made from.
        splits: the dict returned by :func:`make_splits` (possibly read back from JSON).
        device: where the tensors go.
        resize: optional output side length in pixels.

    Returns:
        The :class:`DataBundle`.

    Raises:
        DataError: the splits belong to another dataset or version of it, or hold bad indices.
        ConfigError: ``resize`` is not a positive integer.
    """
    if splits.get("checksum") != dataset.checksum or splits.get("dataset") != dataset.name:
        raise DataError(
            f"dataset {dataset.name} changed since splits were made (checksum "
            f"{str(splits.get('checksum'))[:12]}... for {splits.get('dataset')}, now "
            f"{dataset.checksum[:12]}...); delete results/<profile>/data and rerun"
        )
    if resize is not None and (not isinstance(resize, int) or resize <= 0):
        raise ConfigError(f"data.resize must be a positive integer or null, got {resize!r}")
    device = torch.device(device)
    n_train, n_test = len(dataset.train_y), len(dataset.test_y)
    tr, va = _indices(splits, "train", n_train), _indices(splits, "val", n_train)
    te = _indices(splits, "test", n_test)
    if tr.numel() == 0:
        raise DataError("splits have an empty train list; delete results/<profile>/data and rerun")

    def convert(x: torch.Tensor) -> torch.Tensor:
        x = x.to(device).to(torch.float32).div_(dataset.max_value)
        if resize is not None and tuple(x.shape[-2:]) != (resize, resize):
            shrink = resize < min(x.shape[-2:])
            x = F.interpolate(
                x, size=(resize, resize), mode="bilinear", align_corners=False, antialias=shrink
            )
        return x

    train_x = convert(dataset.train_x[tr])
    std, mean = torch.std_mean(train_x, dim=(0, 2, 3), correction=0)
    std = std.clamp_min(1e-6)
    m, s = mean.view(1, -1, 1, 1), std.view(1, -1, 1, 1)

    def normalise(x: torch.Tensor) -> torch.Tensor:
        return (x - m) / s

    return DataBundle(
        train_x=normalise(train_x),
        train_y=dataset.train_y[tr].to(device),
        val_x=normalise(convert(dataset.train_x[va])),
        val_y=dataset.train_y[va].to(device),
        test_x=normalise(convert(dataset.test_x[te])),
        test_y=dataset.test_y[te].to(device),
        num_classes=dataset.num_classes,
        input_shape=tuple(int(s) for s in train_x.shape[1:]),  # type: ignore[arg-type]
        checksum=dataset.checksum,
        flip=dataset.flip,
        mean=tuple(float(v) for v in mean.cpu()),
        std=tuple(float(v) for v in std.cpu()),
    )
