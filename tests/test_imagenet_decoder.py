"""``data.decoder: torchvision`` (issue 16): the workers read the files and draw each image's
augmentation, ``torchvision.io.decode_jpeg`` decodes the batch on the job's device and the
same transform is applied to tensors.

torchvision does not import with this CPU torch, so the tests stand in a ``torchvision.io``
whose ``decode_jpeg`` decodes with Pillow (same call signature: a list of uint8 byte tensors,
``mode``, ``device``). What they check is nasrepro's side: the same random choices as the
Pillow path, pixels within resampling differences, batches and labels in the same order,
non-JPEG files, a file that breaks the batch named in one line, a clear error without
torchvision.
"""

from __future__ import annotations

import io
import random
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch

from nasrepro.data.imagenet import (
    EvalTransform,
    TrainTransform,
    imagenet_bundle,
    index_folder,
    make_imagenet_splits,
)
from nasrepro.data.stream import eval_batches, take, train_batches
from nasrepro.errors import ConfigError, DataError
from tests.imagenet_folder import write_folder

CLASSES = ["n01440764", "n01443537", "n01484850"]


def _pillow_decode_jpeg(data, mode=None, device="cpu"):
    """A stand-in for ``torchvision.io.decode_jpeg``: uint8 ``(3, H, W)`` per input."""
    from PIL import Image

    def one(t: torch.Tensor) -> torch.Tensor:
        try:
            with Image.open(io.BytesIO(t.numpy().tobytes())) as im:
                arr = np.asarray(im.convert("RGB"), dtype=np.uint8).copy()
        except OSError as exc:
            raise RuntimeError(f"Unsupported marker or truncated file ({exc})") from None
        return torch.from_numpy(arr).permute(2, 0, 1).to(device)

    return [one(t) for t in data] if isinstance(data, list) else one(data)


@pytest.fixture
def fake_torchvision(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """``torchvision.io`` with a Pillow ``decode_jpeg``; returns the list of batch sizes it
    was called with."""
    calls: list[int] = []

    def decode_jpeg(data, mode=None, device="cpu"):
        calls.append(len(data) if isinstance(data, list) else 1)
        return _pillow_decode_jpeg(data, mode, device)

    tv = types.ModuleType("torchvision")
    tvio = types.ModuleType("torchvision.io")
    tvio.decode_jpeg = decode_jpeg
    tvio.ImageReadMode = types.SimpleNamespace(RGB="RGB")
    tv.io = tvio
    monkeypatch.setitem(sys.modules, "torchvision", tv)
    monkeypatch.setitem(sys.modules, "torchvision.io", tvio)
    return calls


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = write_folder(tmp_path_factory.mktemp("imagenet"), CLASSES, 6, 2)
    # one PNG among the JPEGs (ImageNet has a few non-JPEG files): decoded by Pillow in the worker
    from PIL import Image

    png = root / "train" / CLASSES[0] / "extra.png"
    Image.fromarray(np.full((50, 40, 3), 120, dtype=np.uint8)).save(png)
    return root


def _bundle(folder: Path, decoder: str, workers: int = 0):
    index = index_folder(folder)
    return imagenet_bundle(index, make_imagenet_splits(index, seed=0, val_size=3),
                           image_size=24, jitter=0.4, lighting=0.1, workers=workers,
                           decoder=decoder)


def test_tensor_path_applies_the_same_draw_as_pillow() -> None:
    """On a smooth image the two paths agree to a few 8-bit levels (they differ only in the
    resampling code); the draws consume the random stream identically."""
    from PIL import Image

    yy, xx = np.mgrid[0:64, 0:48]
    arr = np.stack([xx * 5, yy * 4, (xx + yy) * 2], -1).astype(np.uint8)
    img, x = Image.fromarray(arr), torch.from_numpy(arr).permute(2, 0, 1)
    for tf in (TrainTransform(size=32, jitter=0.4, lighting=0.1), EvalTransform(size=32)):
        for s in range(10):
            d = tf.draw(48, 64, random.Random(s))
            assert torch.equal(tf(img, random.Random(s)), tf.on_image(img, d))
            diff = (tf.on_image(img, d) - tf.on_tensor(x, d)).abs()
            assert float(diff.max()) < 0.05 and float(diff.mean()) < 0.005  # normalised units


def test_decoding_on_the_device_gives_the_pillow_batches(folder: Path,
                                                         fake_torchvision: list[int]) -> None:
    pil, tv = _bundle(folder, "pillow"), _bundle(folder, "torchvision", workers=2)
    for data in (pil, tv):
        assert data.train_x.dataset.decoder in ("pillow", "torchvision")
    g = [torch.Generator().manual_seed(4) for _ in range(2)]
    epochs = [list(train_batches(d.train_x, d.train_y, 5, generator=gen, drop_last=False))
              for d, gen in zip((pil, tv), g, strict=True)]
    assert fake_torchvision and max(fake_torchvision) > 1  # one batched call per batch
    for (xa, ya), (xb, yb) in zip(*epochs, strict=True):
        assert torch.equal(ya, yb) and xa.shape == xb.shape
        # random JPEG noise: resampling differs pixel by pixel, the batches agree on average
        assert float((xa - xb).abs().mean()) < 0.05
    for (xa, ya), (xb, yb) in zip(eval_batches(pil.test_x, pil.test_y, 4),
                                  eval_batches(tv.test_x, tv.test_y, 4), strict=True):
        assert torch.equal(ya, yb) and float((xa - xb).abs().mean()) < 0.02
    recal = take(tv.train_x, [2, 0])  # BN recalibration images: the fixed token
    assert torch.equal(recal, take(tv.train_x, [2, 0])) and recal.shape == (2, 3, 24, 24)


def test_a_file_that_breaks_the_batch_is_named(folder: Path, tmp_path: Path,
                                               fake_torchvision: list[int]) -> None:
    import shutil

    root = tmp_path / "broken"
    shutil.copytree(folder, root)
    bad = root / "train" / CLASSES[2] / f"{CLASSES[2]}_1.JPEG"
    bad.write_bytes(bad.read_bytes()[:1500])  # a valid header, truncated data
    data = _bundle(root, "torchvision")
    with pytest.raises(DataError) as err:
        take(data.train_x, range(len(data.train_y)))
    assert str(bad) in str(err.value) and "\n" not in str(err.value)


def test_without_torchvision_the_option_is_a_one_line_config_error(
        folder: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "torchvision", None)  # import fails
    monkeypatch.setitem(sys.modules, "torchvision.io", None)
    with pytest.raises(ConfigError) as err:
        _bundle(folder, "torchvision")
    assert "data.decoder" in str(err.value) and "pillow" in str(err.value)
    assert "\n" not in str(err.value)
    with pytest.raises(ConfigError):
        _bundle(folder, "nvjpeg")
