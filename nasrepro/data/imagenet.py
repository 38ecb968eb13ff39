"""ImageNet from the standard folder layout, streamed from disk (issue 16; PAPERS.md sections
1, 3 and 4: SPOS, AttentiveNAS and FBNetV3 are ImageNet papers).

The dataset does not fit in memory, so unlike :mod:`nasrepro.data.datasets` (whole datasets as
tensors) it is read image by image through a :class:`torch.utils.data.DataLoader`:

* :func:`index_folder` scans ``root/train/<wnid>/*.JPEG`` and ``root/val/<wnid>/*.JPEG`` (the
  layout the usual preparation scripts produce; ``.jpg``/``.jpeg``/``.png`` in any case are
  taken too). Classes are the sorted wnids of ``train/`` (label = position), files are sorted,
  and the index carries a sha256 of its file list and labels, which the splits and every run's
  provenance record. The checksum covers names and labels, not the bytes of 1.28M JPEGs.
* :func:`make_imagenet_splits` makes the papers' splits, seeded: SPOS holds out 50,000 training
  images as its validation set (``val_size``, stratified: the same number from every class);
  FBNetV3 searches on a class subset (``n_classes`` 200, seeded) with 10,000 held-out images;
  AttentiveNAS evaluates on the official validation set (``test``).
* :class:`ImageFolderDataset` decodes with Pillow (``RGB``) and applies :class:`TrainTransform`
  (RandomResizedCrop with torchvision's sampling rule, horizontal flip, optional colour jitter
  and AlexNet-style PCA lighting) or :class:`EvalTransform` (resize the shorter side to
  ``size / crop_fraction``, centre crop). Each sample's randomness comes from a generator seeded
  by ``(seed, epoch, index)``, so a batch is the same whatever the number of workers.
  A file Pillow cannot decode is a one-line :class:`~nasrepro.errors.DataError` naming it.
* :func:`imagenet_bundle`: the splits as the :class:`~nasrepro.data.DataBundle` every training
  job takes, its images streamed (:mod:`nasrepro.data.stream`: a DataLoader with workers,
  pinned memory and persistent workers; with several ranks each decodes only its share of
  every global batch).

torchvision is not needed: the crops and flips are Pillow calls, the colour operations torch
ones. ``data.decoder: torchvision`` is the option for a GPU job whose CPU cores cannot decode
fast enough: the workers only read the files and draw each image's augmentation, and
``torchvision.io.decode_jpeg`` decodes the batch on the job's device (nvJPEG on a GPU), where
the same crop, flip and colour operations are applied to tensors (:func:`decode_batch`). The
random choices are the same as with Pillow; pixels differ by resampling (Pillow's and torch's
antialiased bilinear resize), so the decoder is part of the resolved config like any setting.
"""

from __future__ import annotations

import hashlib
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate

from nasrepro.errors import ConfigError, DataError

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")
#: ImageNet channel statistics (RGB, on [0, 1]) used by every paper's official code
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)
#: AlexNet PCA lighting (Krizhevsky et al. 2012), as in the official FBNet/AttentiveNAS code
LIGHTING_EIGVAL = (0.2175, 0.0188, 0.0045)
LIGHTING_EIGVEC = ((-0.5675, 0.7192, 0.4009),
                   (-0.5808, -0.0045, -0.8140),
                   (-0.5836, -0.6948, 0.4203))


@dataclass(frozen=True)
class FolderIndex:
    """The sorted file lists of an ImageNet-style folder.

    Attributes:
        root: the folder.
        classes: sorted class folder names (wnids); label ``i`` is ``classes[i]``.
        train: ``(relative path, label)`` of every training image, sorted by path.
        val: the same for the official validation images.
        checksum: sha256 of the classes and both file lists (names and labels).
    """

    root: Path
    classes: tuple[str, ...]
    train: tuple[tuple[str, int], ...]
    val: tuple[tuple[str, int], ...]
    checksum: str


def _images(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir()
                  if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def index_folder(root: str | Path) -> FolderIndex:
    """Scan ``root/train/<class>/`` and ``root/val/<class>/`` (see the module docstring).

    Raises:
        DataError: (one line) no ``train/`` or ``val/`` folder, no class folders, a class folder
            without images, or a ``val/`` class that ``train/`` does not have.
    """
    root = Path(root)
    fix = "point data.path at a folder with train/<wnid>/*.JPEG and val/<wnid>/*.JPEG"
    for part in ("train", "val"):
        if not (root / part).is_dir():
            raise DataError(f"ImageNet folder {root} has no {part}/ folder; {fix}")
    classes = tuple(sorted(p.name for p in (root / "train").iterdir() if p.is_dir()))
    if not classes:
        raise DataError(f"ImageNet folder {root}/train has no class folders; {fix}")
    label = {c: i for i, c in enumerate(classes)}
    lists: dict[str, list[tuple[str, int]]] = {"train": [], "val": []}
    for part in ("train", "val"):
        for c in sorted(p.name for p in (root / part).iterdir() if p.is_dir()):
            if c not in label:
                raise DataError(f"class folder {root}/{part}/{c} is not in {root}/train; the "
                                "validation classes must be training classes")
            files = _images(root / part / c)
            if not files and part == "train":
                kinds = ", ".join(IMAGE_SUFFIXES)
                raise DataError(f"class folder {root}/train/{c} has no images ({kinds}); remove "
                                "it or add its images")
            lists[part] += [(f"{part}/{c}/{f.name}", label[c]) for f in files]
    h = hashlib.sha256()
    h.update("\n".join(classes).encode())
    for part in ("train", "val"):
        for rel, lab in lists[part]:
            h.update(f"\n{rel}\t{lab}".encode())
    return FolderIndex(root, classes, tuple(lists["train"]), tuple(lists["val"]), h.hexdigest())


def _stratified_holdout(labels: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` indices, the same number from every class (the remainder from classes drawn at
    random), each class's picks at random."""
    classes = np.unique(labels)
    per, extra = divmod(n, len(classes))
    bonus = set(rng.choice(classes, size=extra, replace=False).tolist()) if extra else set()
    picks = []
    for c in classes:
        members = np.flatnonzero(labels == c)
        k = per + (1 if int(c) in bonus else 0)
        if k > len(members) - 1:
            raise ConfigError(f"data.val_size={n} holds out {k} images of class {int(c)}, which "
                              f"has {len(members)}; lower data.val_size")
        picks.append(rng.choice(members, size=k, replace=False))
    return np.sort(np.concatenate(picks)) if picks else np.array([], dtype=int)


def make_imagenet_splits(index: FolderIndex, *, seed: int, val_size: int,
                         n_classes: int | None = None, test_size: int | None = None) -> dict:
    """The papers' splits of an indexed folder, seeded (``numpy.random.default_rng(seed)``).

    Args:
        index: from :func:`index_folder`.
        seed: split seed.
        val_size: training images held out as the search/validation set, stratified by class
            (SPOS: 50,000; FBNetV3's search: 10,000; 0: none).
        n_classes: keep a seeded subset of this many classes (FBNetV3's search: 200; ``None``:
            all); labels are renumbered 0..n_classes-1 in the order of ``classes``.
        test_size: a seeded subsample of the official validation set as ``test`` (``None``:
            all of it; AttentiveNAS evaluates on all of it).

    Returns:
        ``{"dataset": "imagenet", "checksum", "seed", "classes", "train", "val", "test"}``:
        ``classes`` the kept class names, ``train``/``val`` indices into ``index.train``,
        ``test`` into ``index.val`` (sorted lists of ints).
    """
    rng = np.random.default_rng(seed)
    n_all = len(index.classes)
    if n_classes is None:
        kept = np.arange(n_all)
    else:
        if not 1 <= n_classes <= n_all:
            raise ConfigError(f"data.n_classes={n_classes} is outside 1..{n_all} (the folder's "
                              "classes); fix data.n_classes")
        kept = np.sort(rng.choice(n_all, size=n_classes, replace=False))
    keep = set(kept.tolist())
    train_labels = np.array([lab for _, lab in index.train])
    pool = np.flatnonzero(np.isin(train_labels, kept))
    if val_size < 0 or val_size >= len(pool):
        raise ConfigError(f"data.val_size={val_size} must be in 0..{len(pool) - 1} (training "
                          "images of the kept classes); fix data.val_size")
    held = pool[_stratified_holdout(train_labels[pool], val_size, rng)] if val_size else \
        np.array([], dtype=int)
    train = np.setdiff1d(pool, held)
    test_pool = np.array([i for i, (_, lab) in enumerate(index.val) if lab in keep], dtype=int)
    if test_size is not None:
        if test_size > len(test_pool):
            raise ConfigError(f"data.test_size={test_size} exceeds the {len(test_pool)} "
                              "validation images of the kept classes; lower it")
        test_pool = np.sort(rng.choice(test_pool, size=test_size, replace=False))
    return {"dataset": "imagenet", "checksum": index.checksum, "seed": seed,
            "classes": [index.classes[i] for i in kept], "train": train.tolist(),
            "val": held.tolist(), "test": test_pool.tolist()}


# --- transforms -------------------------------------------------------------------------------
# Each transform draws its random choices first (``draw``, from the image's size only, so a
# DataLoader worker can draw them from the JPEG header) and applies them to a Pillow image
# (``on_image``) or to a decoded uint8 tensor on any device (``on_tensor``, the
# ``data.decoder: torchvision`` path). Both consume the image's random stream identically.
def _to_tensor(img) -> torch.Tensor:
    arr = np.asarray(img, dtype=np.uint8)
    return torch.from_numpy(arr.copy()).permute(2, 0, 1).float().div_(255.0)


def _normalise(x: torch.Tensor) -> torch.Tensor:
    mean = torch.tensor(MEAN, device=x.device).view(3, 1, 1)
    std = torch.tensor(STD, device=x.device).view(3, 1, 1)
    return (x - mean) / std


def _resize_tensor(x: torch.Tensor, width: int, height: int) -> torch.Tensor:
    """Bilinear, antialiased resize of a ``(3, H, W)`` uint8 or [0, 255] tensor to
    ``(3, height, width)`` on [0, 1], rounded to 8 bits as Pillow's result is."""
    out = torch.nn.functional.interpolate(x[None].float(), size=(height, width),
                                          mode="bilinear", align_corners=False, antialias=True)
    return out[0].round_().clamp_(0, 255).div_(255.0)


def random_resized_box(width: int, height: int, rng: random.Random,
                       scale: tuple[float, float] = (0.08, 1.0),
                       ratio: tuple[float, float] = (3 / 4, 4 / 3)) -> tuple[int, int, int, int]:
    """``(left, top, crop width, crop height)`` by torchvision's RandomResizedCrop rule: ten
    tries of an area fraction in ``scale`` and a log-uniform aspect ratio in ``ratio``, else
    the centre crop clamped to ``ratio``."""
    area = width * height
    log_ratio = (math.log(ratio[0]), math.log(ratio[1]))
    for _ in range(10):
        target = area * rng.uniform(*scale)
        aspect = math.exp(rng.uniform(*log_ratio))
        w = int(round(math.sqrt(target * aspect)))
        h = int(round(math.sqrt(target / aspect)))
        if 0 < w <= width and 0 < h <= height:
            return rng.randint(0, width - w), rng.randint(0, height - h), w, h
    in_ratio = width / height
    if in_ratio < min(ratio):
        w, h = width, int(round(width / min(ratio)))
    elif in_ratio > max(ratio):
        w, h = int(round(height * max(ratio))), height
    else:
        w, h = width, height
    return (width - w) // 2, (height - h) // 2, w, h


@dataclass(frozen=True)
class TrainDraw:
    """One training image's random choices: the crop box ``(left, top, w, h)``, the flip, the
    colour-jitter operations with their factors (in order) and the lighting coefficients."""

    box: tuple[int, int, int, int]
    flip: bool
    jitter: tuple[tuple[str, float], ...] = ()
    lighting: tuple[float, float, float] | None = None


@dataclass(frozen=True)
class TrainTransform:
    """Training augmentation: RandomResizedCrop to ``size`` (``scale``), horizontal flip,
    colour jitter (brightness/contrast/saturation factors in ``[1 - j, 1 + j]``; 0: off, the
    official SPOS code uses 0.4), PCA lighting with std ``lighting`` (0: off; FBNet's and
    AttentiveNAS's code use 0.1), then ImageNet normalisation."""

    size: int = 224
    scale: tuple[float, float] = (0.08, 1.0)
    flip: bool = True
    jitter: float = 0.0
    lighting: float = 0.0

    def draw(self, width: int, height: int, rng: random.Random) -> TrainDraw:
        box = random_resized_box(width, height, rng, self.scale)
        flip = bool(self.flip and rng.random() < 0.5)
        jitter: tuple[tuple[str, float], ...] = ()
        if self.jitter:
            ops = ["brightness", "contrast", "saturation"]
            rng.shuffle(ops)
            jitter = tuple((op, rng.uniform(max(0.0, 1 - self.jitter), 1 + self.jitter))
                           for op in ops)
        lighting = (tuple(rng.gauss(0.0, self.lighting) for _ in range(3))
                    if self.lighting else None)
        return TrainDraw(box, flip, jitter, lighting)

    def __call__(self, img, rng: random.Random) -> torch.Tensor:
        return self.on_image(img, self.draw(img.width, img.height, rng))

    def on_image(self, img, d: TrainDraw) -> torch.Tensor:
        from PIL import Image

        left, top, w, h = d.box
        img = img.resize((self.size, self.size), Image.BILINEAR,
                         box=(left, top, left + w, top + h))
        if d.flip:
            img = img.transpose(Image.FLIP_LEFT_RIGHT)
        return self._colour(_to_tensor(img), d)

    def on_tensor(self, x: torch.Tensor, d: TrainDraw) -> torch.Tensor:
        left, top, w, h = d.box
        x = _resize_tensor(x[:, top:top + h, left:left + w], self.size, self.size)
        return self._colour(x.flip(-1) if d.flip else x, d)

    @staticmethod
    def _colour(x: torch.Tensor, d: TrainDraw) -> torch.Tensor:
        if d.jitter:
            x = _colour_jitter(x, d.jitter)
        if d.lighting is not None:
            alpha = torch.tensor(d.lighting)
            rgb = torch.tensor(LIGHTING_EIGVEC) @ (alpha * torch.tensor(LIGHTING_EIGVAL))
            x = x + rgb.to(x.device).view(3, 1, 1)
        return _normalise(x)


def _colour_jitter(x: torch.Tensor, ops: Sequence[tuple[str, float]]) -> torch.Tensor:
    """Brightness, contrast and saturation by the drawn factors, in the drawn order
    (torchvision's ColorJitter without hue)."""
    grey = lambda t: (0.299 * t[0] + 0.587 * t[1] + 0.114 * t[2]).unsqueeze(0)  # noqa: E731
    for op, f in ops:
        if op == "brightness":
            x = x * f
        elif op == "contrast":
            x = grey(x).mean() * (1 - f) + x * f
        else:
            x = grey(x) * (1 - f) + x * f
        x = x.clamp(0.0, 1.0)
    return x


@dataclass(frozen=True)
class EvalDraw:
    """The evaluation crop of one image: the resized ``(w, h)`` and the crop's top-left."""

    resized: tuple[int, int]
    corner: tuple[int, int]


@dataclass(frozen=True)
class EvalTransform:
    """Evaluation: resize the shorter side to ``round(size / crop_fraction)`` (256 for 224),
    centre crop ``size``, normalise."""

    size: int = 224
    crop_fraction: float = 0.875

    def draw(self, width: int, height: int, rng: random.Random | None = None) -> EvalDraw:
        short = int(round(self.size / self.crop_fraction))
        scale = short / min(width, height)
        w, h = max(self.size, round(width * scale)), max(self.size, round(height * scale))
        return EvalDraw((w, h), ((w - self.size) // 2, (h - self.size) // 2))

    def __call__(self, img, rng: random.Random | None = None) -> torch.Tensor:
        return self.on_image(img, self.draw(img.width, img.height))

    def on_image(self, img, d: EvalDraw) -> torch.Tensor:
        from PIL import Image

        img = img.resize(d.resized, Image.BILINEAR)
        left, top = d.corner
        return _normalise(_to_tensor(img.crop((left, top, left + self.size, top + self.size))))

    def on_tensor(self, x: torch.Tensor, d: EvalDraw) -> torch.Tensor:
        left, top = d.corner
        x = _resize_tensor(x, *d.resized)
        return _normalise(x[:, top:top + self.size, left:left + self.size])


# --- dataset and loader -----------------------------------------------------------------------
DECODERS = ("pillow", "torchvision")


@dataclass(frozen=True)
class Encoded:
    """What a worker hands over with ``decoder="torchvision"``: the file's bytes (``data``,
    uint8; or, for a file that is not a JPEG, its pixels decoded by Pillow as ``(3, H, W)``
    uint8, ``encoded`` False) and the image's drawn augmentation."""

    data: torch.Tensor
    encoded: bool
    draw: TrainDraw | EvalDraw
    path: str


class ImageFolderDataset(Dataset):
    """``(image tensor, label)`` of the chosen entries of an index.

    ``labels`` maps the folder's labels to the split's (a class subset renumbers them). The
    random stream of item ``i`` in epoch ``e`` is ``random.Random(f"{seed}-{e}-{i}")``: the
    same augmentation whatever worker decodes it. The key is ``i`` (epoch :attr:`epoch`) or
    ``(e, i)`` (:mod:`nasrepro.data.stream` passes a token per epoch as ``e``), so persistent
    workers need no epoch update.

    ``decoder="pillow"`` decodes and augments in the worker. ``decoder="torchvision"``: the
    worker reads the file and draws the augmentation from the JPEG header (no decoding) and
    returns an :class:`Encoded`; :func:`decode_batch` decodes the batch with
    ``torchvision.io.decode_jpeg`` on the job's device (the GPU's nvJPEG) and applies the
    transform there. Same random choices, pixels within resampling differences.
    """

    def __init__(self, root: str | Path, entries: Sequence[tuple[str, int]],
                 transform: TrainTransform | EvalTransform, *, seed: int = 0,
                 labels: dict[int, int] | None = None, decoder: str = "pillow") -> None:
        if decoder not in DECODERS:
            raise ConfigError(f"data.decoder={decoder!r} is not one of {', '.join(DECODERS)}")
        self.root = Path(root)
        self.entries = list(entries)
        self.transform = transform
        self.seed = seed
        self.epoch = 0
        self.labels = labels
        self.decoder = decoder

    def set_epoch(self, epoch: int) -> None:
        self.epoch = int(epoch)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, key: int | tuple[int, int]) -> tuple[torch.Tensor | Encoded, int]:
        from PIL import Image, UnidentifiedImageError

        epoch, i = key if isinstance(key, tuple) else (self.epoch, key)
        rel, label = self.entries[i]
        path = self.root / rel
        rng = random.Random(f"{self.seed}-{epoch}-{i}")
        label = self.labels[label] if self.labels else label
        try:
            with Image.open(path) as im:
                if self.decoder == "torchvision":
                    draw = self.transform.draw(im.width, im.height, rng)
                    if im.format == "JPEG":
                        data = torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.uint8)
                        return Encoded(data, True, draw, str(path)), label
                    pixels = torch.from_numpy(np.asarray(im.convert("RGB"), dtype=np.uint8).copy())
                    return Encoded(pixels.permute(2, 0, 1), False, draw, str(path)), label
                img = im.convert("RGB")
        except (OSError, UnidentifiedImageError, ValueError) as exc:
            raise DataError(f"cannot decode image {path} ({type(exc).__name__}); remove or "
                            "replace the file and rerun `nasrepro data`") from exc
        return self.transform(img, rng), label

    def collate(self, items: list) -> tuple[torch.Tensor | list[Encoded], torch.Tensor]:
        """A DataLoader batch: stacked images, or (torchvision decoder) the list of
        :class:`Encoded` items for :func:`decode_batch`."""
        if self.decoder == "pillow":
            return default_collate(items)
        return [x for x, _ in items], torch.tensor([y for _, y in items], dtype=torch.int64)


def torchvision_io():
    """``torchvision.io`` (for ``data.decoder: torchvision``), or a one-line ConfigError."""
    try:
        import torchvision.io as tvio
    except Exception as exc:  # noqa: BLE001  (ImportError, or a torch/torchvision mismatch)
        raise ConfigError(f"data.decoder=torchvision needs torchvision matching this torch "
                          f"({type(exc).__name__} on import); install it (pip install "
                          "'nasrepro[imagenet]') or set data.decoder: pillow") from None
    return tvio


def decode_batch(items: Sequence[Encoded], transform: TrainTransform | EvalTransform,
                 device: torch.device) -> torch.Tensor:
    """Decode a batch of :class:`Encoded` JPEGs with ``torchvision.io.decode_jpeg`` on
    ``device`` (one batched call: nvJPEG on a GPU) and apply each image's drawn transform
    there.

    Raises:
        DataError: a file that cannot be decoded (one line naming it).
    """
    tvio = torchvision_io()
    images = [it.data for it in items]
    jpegs = [k for k, it in enumerate(items) if it.encoded]
    if jpegs:
        def decode(data):
            return tvio.decode_jpeg(data, mode=tvio.ImageReadMode.RGB, device=device)
        try:
            decoded = decode([items[k].data for k in jpegs])
        except RuntimeError:
            for k in jpegs:  # name the file that breaks the batch
                try:
                    decode([items[k].data])
                except RuntimeError as exc:
                    raise DataError(f"cannot decode image {items[k].path} (decode_jpeg: "
                                    f"{str(exc).splitlines()[0][:80]}); remove or replace "
                                    "the file and rerun `nasrepro data`") from None
            raise
        for k, img in zip(jpegs, decoded, strict=True):
            images[k] = img
    return torch.stack([transform.on_tensor(img.to(device), it.draw)
                        for img, it in zip(images, items, strict=True)])


def split_dataset(index: FolderIndex, splits: dict, part: str,
                  transform: TrainTransform | EvalTransform, *,
                  seed: int = 0, decoder: str = "pillow") -> ImageFolderDataset:
    """The ``train``, ``val`` (held out of the training images) or ``test`` (official
    validation images) part of :func:`make_imagenet_splits` as a dataset."""
    if splits.get("checksum") != index.checksum:
        raise DataError(f"the splits were made from another file list (checksum "
                        f"{str(splits.get('checksum'))[:12]}, folder {index.checksum[:12]}); "
                        "rerun `nasrepro data` for this folder")
    source = index.val if part == "test" else index.train
    kept = [index.classes.index(c) for c in splits["classes"]]
    labels = None if kept == list(range(len(index.classes))) else \
        {old: new for new, old in enumerate(kept)}
    return ImageFolderDataset(index.root, [source[i] for i in splits[part]], transform,
                              seed=seed, labels=labels, decoder=decoder)


def imagenet_bundle(index: FolderIndex, splits: dict, *, image_size: int = 224,
                    crop_fraction: float = 0.875, scale_min: float = 0.08,
                    jitter: float = 0.0, lighting: float = 0.0, workers: int = 0,
                    device: str | torch.device = "cpu", decoder: str = "pillow"):
    """The splits of an indexed folder as a :class:`~nasrepro.data.DataBundle` of
    :class:`~nasrepro.data.stream.StreamSplit` images (what every training job takes).

    ``train`` decodes with :class:`TrainTransform` (``image_size``, RandomResizedCrop scale
    ``(scale_min, 1)``, flip, ``jitter``, ``lighting``), its images in a random order seeded by
    the split seed (so a prefix is a random subset, not the first classes); ``val`` (held out
    of the training images) and ``test`` (the official validation images) with
    :class:`EvalTransform`.
    Labels are tensors on ``device``. The bundle's ``flip`` is False: the augmentation happens
    in the loader, not in the training loop. ``decoder``: ``pillow`` (in the workers) or
    ``torchvision`` (``decode_jpeg`` on ``device``, see :class:`ImageFolderDataset`).

    Raises:
        DataError: the splits were made from another file list (one line).
        ConfigError: ``decoder="torchvision"`` without a working torchvision (one line).
    """
    from nasrepro.data.splits import DataBundle
    from nasrepro.data.stream import StreamSplit

    device = torch.device(device)
    if decoder == "torchvision":
        torchvision_io()
    train_tf = TrainTransform(size=image_size, scale=(scale_min, 1.0), jitter=jitter,
                              lighting=lighting)
    eval_tf = EvalTransform(size=image_size, crop_fraction=crop_fraction)
    shape = (3, image_size, image_size)
    parts = {}
    seed = int(splits.get("seed", 0))
    for part, tf in (("train", train_tf), ("val", eval_tf), ("test", eval_tf)):
        ds = split_dataset(index, splits, part, tf, seed=seed, decoder=decoder)
        labels = torch.tensor([ds.labels[lab] if ds.labels else lab for _, lab in ds.entries],
                              dtype=torch.int64)
        # the file lists are sorted by class: the training split goes in a seeded random order,
        # so that its first n images (fbnetv3.search_train_size) are a random subset
        order = (np.random.default_rng(seed).permutation(len(ds)) if part == "train"
                 else np.arange(len(ds)))
        parts[part] = (StreamSplit(ds, tuple(order.tolist()), shape, device, workers),
                       labels[torch.from_numpy(order)].to(device))
    if len(parts["train"][0]) == 0:
        raise DataError("the imagenet splits have an empty train list; rerun `nasrepro data`")
    return DataBundle(train_x=parts["train"][0], train_y=parts["train"][1],
                      val_x=parts["val"][0], val_y=parts["val"][1],
                      test_x=parts["test"][0], test_y=parts["test"][1],
                      num_classes=len(splits["classes"]), input_shape=shape,
                      checksum=index.checksum, flip=False, mean=MEAN, std=STD)
