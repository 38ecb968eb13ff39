"""Tests of the data layer: loaders, IDX / CIFAR-10 parsing, splits, prepare, augmentation."""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import pickle
import struct
import tarfile
from pathlib import Path

import numpy as np
import pytest
import torch

from nasrepro.data import (
    Augment,
    DataBundle,
    Dataset,
    iterate_batches,
    known_datasets,
    load_dataset,
    make_splits,
    prepare,
)
from nasrepro.data import datasets as ds
from nasrepro.errors import ConfigError, DataError, UnknownNameError

DIGITS_CHECKSUM = "8e2e4849cae7f95f248b2ee91c034bab7f94501185d76717cfaf6f816217a4fc"
FASHION_CHECKSUM = "14410854cf7a289477dcfc7df3f8ec24741e281cdcc425ede0d9a748ca630214"


@pytest.fixture(autouse=True)
def _offline(monkeypatch, tmp_path):
    """No test touches the network or the user's cache."""
    monkeypatch.setenv("NASREPRO_OFFLINE", "1")
    monkeypatch.setenv("NASREPRO_DATA", str(tmp_path / "cache"))


@pytest.fixture(scope="module")
def digits() -> Dataset:
    return load_dataset("digits")


# ------------------------------------------------------------------------------------------------
# helpers


def idx_bytes(arr: np.ndarray) -> bytes:
    arr = np.ascontiguousarray(arr, dtype=np.uint8)
    header = struct.pack(">I", 0x0800 | arr.ndim) + struct.pack(f">{arr.ndim}I", *arr.shape)
    return header + arr.tobytes()


def fake_fashion(folder: Path, gz: bool, n_train: int = 7, n_test: int = 3, side: int = 5):
    """Write 4 small IDX files; return the arrays."""
    rng = np.random.RandomState(1)
    arrays = {
        "train-images-idx3-ubyte": rng.randint(0, 256, (n_train, side, side)),
        "train-labels-idx1-ubyte": rng.randint(0, 10, n_train),
        "t10k-images-idx3-ubyte": rng.randint(0, 256, (n_test, side, side)),
        "t10k-labels-idx1-ubyte": rng.randint(0, 10, n_test),
    }
    folder.mkdir(parents=True, exist_ok=True)
    for name, arr in arrays.items():
        data = idx_bytes(arr)
        if gz:
            (folder / f"{name}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / name).write_bytes(data)
    return arrays


def cifar_batch(n: int, offset: int, protocol: int = 2) -> tuple[bytes, np.ndarray, list[int]]:
    rng = np.random.RandomState(offset)
    data = rng.randint(0, 256, (n, 3072)).astype(np.uint8)
    labels = [(offset + i) % 10 for i in range(n)]
    d = {b"batch_label": b"fake", b"labels": labels, b"data": data, b"filenames": [b"x"] * n}
    return pickle.dumps(d, protocol=protocol), data, labels


def fake_cifar_tarball(path: Path, n: int = 2, extract_to: Path | None = None):
    """Write a CIFAR-10 tarball in the official layout (``n`` images per batch)."""
    batches = {}
    for i, name in enumerate([*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]):
        batches[name] = cifar_batch(n, offset=10 * i, protocol=2 if i % 2 else 4)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tf:
        for name in ["batches.meta", *batches]:
            blob = batches[name][0] if name in batches else pickle.dumps({b"label_names": []})
            info = tarfile.TarInfo(f"cifar-10-batches-py/{name}")
            info.size = len(blob)
            tf.addfile(info, io.BytesIO(blob))
    if extract_to is not None:
        folder = extract_to / "cifar-10-batches-py"
        folder.mkdir(parents=True)
        for name, (blob, _, _) in batches.items():
            (folder / name).write_bytes(blob)
    return batches


# ------------------------------------------------------------------------------------------------
# loaders


def test_digits_loads(digits):
    assert digits.name == "digits"
    assert digits.train_x.shape == (1500, 1, 8, 8) and digits.test_x.shape == (297, 1, 8, 8)
    assert digits.train_x.dtype == torch.uint8 and digits.train_y.dtype == torch.int64
    assert int(digits.train_x.max()) == 16 and digits.max_value == 16.0
    assert digits.num_classes == 10 and not digits.flip
    assert set(digits.train_y.tolist()) == set(range(10))
    assert digits.checksum == DIGITS_CHECKSUM
    assert load_dataset("digits").checksum == digits.checksum
    # the split is a permutation of the 1797 images: all of them, none twice
    from sklearn.datasets import load_digits

    imgs = torch.from_numpy(load_digits().images.astype(np.uint8)).reshape(-1, 64)
    both = torch.cat([digits.train_x, digits.test_x]).reshape(-1, 64)
    key = lambda t: sorted(map(tuple, t.tolist()))  # noqa: E731
    assert key(both) == key(imgs)


def test_synthetic_is_deterministic_and_learnable():
    a, b = load_dataset("synthetic"), load_dataset("synthetic")
    assert a.train_x.shape == (256, 1, 8, 8) and a.test_x.shape == (64, 1, 8, 8)
    assert torch.equal(a.train_x, b.train_x) and a.checksum == b.checksum
    # nearest class mean classifies most test images: there is structure to learn
    x, y = a.train_x.float().flatten(1), a.train_y
    means = torch.stack([x[y == k].mean(0) for k in range(10)])
    pred = torch.cdist(a.test_x.float().flatten(1), means).argmin(1)
    assert (pred == a.test_y).float().mean() > 0.8


@pytest.mark.skipif(
    not (ds.DEBIAN_FASHION_MNIST / "train-images-idx3-ubyte.gz").exists(),
    reason="dataset-fashion-mnist not installed",
)
def test_fashion_mnist_debian():
    d = load_dataset("fashion_mnist")
    assert d.train_x.shape == (60000, 1, 28, 28) and d.test_x.shape == (10000, 1, 28, 28)
    assert d.train_y.shape == (60000,) and d.test_y.shape == (10000,)
    assert d.train_x.dtype == torch.uint8 and d.max_value == 255.0 and not d.flip
    assert torch.bincount(d.train_y).tolist() == [6000] * 10
    assert torch.bincount(d.test_y).tolist() == [1000] * 10
    assert d.checksum == FASHION_CHECKSUM


@pytest.mark.parametrize("gz", [True, False])
def test_fake_idx_loads_from_path(tmp_path, gz):
    arrays = fake_fashion(tmp_path / "fm", gz=gz)
    d = load_dataset("fashion_mnist", path=tmp_path / "fm")
    assert d.train_x.shape == (7, 1, 5, 5) and d.test_x.shape == (3, 1, 5, 5)
    assert np.array_equal(d.train_x[:, 0].numpy(), arrays["train-images-idx3-ubyte"])
    assert np.array_equal(d.test_y.numpy(), arrays["t10k-labels-idx1-ubyte"])
    h = hashlib.sha256(b"".join(idx_bytes(a) for a in arrays.values())).hexdigest()
    assert d.checksum == h  # over the uncompressed bytes: same for .gz and raw


@pytest.mark.parametrize(
    "corrupt, words",
    [
        (lambda b: b"\x00\x00\x08\x02" + b[4:], "magic"),  # wrong number of dims
        (lambda b: b"\x00\x00\x0d\x03" + b[4:], "magic"),  # float type code
        (lambda b: b[:-5], "truncated"),
        (lambda b: b[:10], "truncated"),
        (lambda b: b + b"\x00", "longer"),
    ],
)
@pytest.mark.parametrize("gz", [True, False])
def test_corrupt_idx_raises(tmp_path, corrupt, words, gz):
    fake_fashion(tmp_path, gz=gz)
    name = "train-images-idx3-ubyte" + (".gz" if gz else "")
    raw = idx_bytes(np.zeros((7, 5, 5)))
    (tmp_path / name).write_bytes(gzip.compress(corrupt(raw)) if gz else corrupt(raw))
    with pytest.raises(DataError, match=words) as e:
        load_dataset("fashion_mnist", path=tmp_path)
    assert name in str(e.value) and "\n" not in str(e.value)


def test_truncated_gzip_raises(tmp_path):
    fake_fashion(tmp_path, gz=True)
    f = tmp_path / "t10k-images-idx3-ubyte.gz"
    f.write_bytes(f.read_bytes()[:-12])
    with pytest.raises(DataError, match="t10k-images-idx3-ubyte.gz"):
        load_dataset("fashion_mnist", path=tmp_path)


def test_partial_path_raises(tmp_path):
    fake_fashion(tmp_path, gz=False)
    (tmp_path / "t10k-labels-idx1-ubyte").unlink()
    with pytest.raises(DataError, match="t10k-labels-idx1-ubyte"):
        load_dataset("fashion_mnist", path=tmp_path)


def test_fashion_missing_everywhere(tmp_path, monkeypatch):
    monkeypatch.setattr(ds, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist") as e:
        load_dataset("fashion_mnist")
    msg = str(e.value)
    assert "\n" not in msg and "no-debian" in msg and "NASREPRO_OFFLINE" in msg
    # an explicit data.path is not skipped when it holds nothing (issue 13 item 13)
    with pytest.raises(DataError, match="set data.path") as e:
        load_dataset("fashion_mnist", path=tmp_path / "nowhere")
    assert str(tmp_path / "nowhere") in str(e.value) and "\n" not in str(e.value)


def test_fashion_download_into_cache(tmp_path, monkeypatch):
    """The download step (file:// URL standing in for the server) fills and reuses the cache."""
    server = tmp_path / "server"
    arrays = fake_fashion(server, gz=True)
    table = {}
    for name, arr in arrays.items():
        gz_md5 = hashlib.md5((server / f"{name}.gz").read_bytes()).hexdigest()
        table[name] = (arr.ndim, gz_md5, hashlib.sha256(idx_bytes(arr)).hexdigest())
    monkeypatch.setattr(ds, "FASHION_MNIST_FILES", table)
    monkeypatch.setattr(ds, "FASHION_MNIST_URL", server.as_uri() + "/")
    monkeypatch.setattr(ds, "DEBIAN_FASHION_MNIST", tmp_path / "no-debian")
    monkeypatch.delenv("NASREPRO_OFFLINE")
    d = load_dataset("fashion_mnist")
    assert d.train_x.shape == (7, 1, 5, 5)
    cache = Path(os.environ["NASREPRO_DATA"]) / "fashion-mnist"
    assert sorted(p.name for p in cache.iterdir()) == sorted(f"{n}.gz" for n in arrays)
    # second load: from the cache, no network needed
    monkeypatch.setenv("NASREPRO_OFFLINE", "1")
    assert load_dataset("fashion_mnist").checksum == d.checksum
    # a corrupted cache file is detected by its content checksum
    (cache / "t10k-labels-idx1-ubyte.gz").write_bytes(gzip.compress(idx_bytes(np.ones(3))))
    with pytest.raises(DataError, match="delete it and rerun"):
        load_dataset("fashion_mnist")


def test_download_md5_mismatch_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("NASREPRO_OFFLINE")
    src = tmp_path / "src.bin"
    src.write_bytes(b"hello")
    dest = tmp_path / "out" / "file.bin"
    with pytest.raises(DataError, match="md5"):
        ds.download(src.as_uri(), dest, md5="0" * 32)
    assert not dest.exists() and list(dest.parent.iterdir()) == []
    ds.download(src.as_uri(), dest, md5=hashlib.md5(b"hello").hexdigest())
    assert dest.read_bytes() == b"hello"
    with pytest.raises(DataError, match="failed"):
        ds.download((tmp_path / "absent").as_uri(), tmp_path / "x", md5="0" * 32)


def test_cifar10_fake_tarball(tmp_path):
    tarball = tmp_path / "a" / "cifar-10-python.tar.gz"
    batches = fake_cifar_tarball(tarball, n=2, extract_to=tmp_path / "b")
    loaded = [
        load_dataset("cifar10", path=tarball),
        load_dataset("cifar10", path=tarball.parent),
        load_dataset("cifar10", path=tmp_path / "b"),
        load_dataset("cifar10", path=tmp_path / "b" / "cifar-10-batches-py"),
    ]
    for d in loaded:
        assert d.train_x.shape == (10, 3, 32, 32) and d.test_x.shape == (2, 3, 32, 32)
        assert d.train_x.dtype == torch.uint8 and d.train_y.dtype == torch.int64
        assert d.flip and d.num_classes == 10 and d.max_value == 255.0
        assert d.checksum == loaded[0].checksum
    d = loaded[0]
    # row layout: R plane (1024), G plane, B plane, each 32x32 row-major
    _, data3, labels3 = batches["data_batch_3"]
    c, y, x = 2, 5, 17
    assert int(d.train_x[4 + 1, c, y, x]) == int(data3[1, c * 1024 + y * 32 + x])
    assert torch.equal(d.train_x[4].flatten(), torch.from_numpy(data3[0]))
    assert d.train_y[4:6].tolist() == labels3
    _, data_t, labels_t = batches["test_batch"]
    assert torch.equal(d.test_x.flatten(1), torch.from_numpy(data_t))
    assert d.test_y.tolist() == labels_t


def test_cifar10_corrupt_and_missing(tmp_path):
    tarball = tmp_path / "cifar-10-python.tar.gz"
    fake_cifar_tarball(tarball)
    tarball.write_bytes(tarball.read_bytes()[:200])
    with pytest.raises(DataError, match="cifar-10-python.tar.gz"):
        load_dataset("cifar10", path=tarball)
    with pytest.raises(DataError, match="set data.path") as e:
        load_dataset("cifar10", path=tmp_path / "nowhere")
    assert "nowhere" in str(e.value) and "\n" not in str(e.value)
    with pytest.raises(DataError, match="NASREPRO_OFFLINE"):
        load_dataset("cifar10")


def test_cifar10_pickle_cannot_run_code(tmp_path):
    class Evil:
        def __reduce__(self):
            return (os.getcwd, ())

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]:
        (folder / name).write_bytes(cifar_batch(2, 0)[0])
    (folder / "test_batch").write_bytes(pickle.dumps({b"data": Evil(), b"labels": [0]}))
    with pytest.raises(DataError, match="test_batch"):
        load_dataset("cifar10", path=folder)


def test_unknown_dataset():
    with pytest.raises(UnknownNameError, match="digits") as e:
        load_dataset("mnist")
    for name in known_datasets():
        assert name in str(e.value)
    assert {"digits", "fashion_mnist", "cifar10", "synthetic"} <= set(known_datasets())


# ------------------------------------------------------------------------------------------------
# splits and prepare


def test_splits(digits):
    s = make_splits(digits, seed=0, val_size=300, train_size=1000, test_size=200)
    assert json.loads(json.dumps(s)) == s
    assert s["dataset"] == "digits" and s["checksum"] == digits.checksum and s["seed"] == 0
    assert len(s["train"]) == 1000 and len(s["val"]) == 300 and len(s["test"]) == 200
    assert not set(s["train"]) & set(s["val"])
    assert len(set(s["train"])) == 1000 and len(set(s["test"])) == 200
    assert max(s["train"] + s["val"]) < 1500 and max(s["test"]) < 297
    assert make_splits(digits, seed=0, val_size=300, train_size=1000, test_size=200) == s
    s1 = make_splits(digits, seed=1, val_size=300, train_size=1000, test_size=200)
    assert s1["val"] != s["val"] and s1["train"] != s["train"] and s1["test"] != s["test"]
    full = make_splits(digits, seed=0, val_size=300)
    assert sorted(full["train"] + full["val"]) == list(range(1500))
    assert full["test"] == list(range(297))


@pytest.mark.parametrize(
    "kw",
    [
        {"val_size": 1500},
        {"val_size": 300, "train_size": 1201},
        {"val_size": 300, "test_size": 298},
        {"val_size": -1},
        {"val_size": 10, "train_size": 0},
    ],
)
def test_splits_bad_sizes(digits, kw):
    with pytest.raises(ConfigError):
        make_splits(digits, seed=0, **kw)


def test_prepare_normalises(digits):
    s = make_splits(digits, seed=0, val_size=200, test_size=100)
    b = prepare(digits, json.loads(json.dumps(s)))
    assert isinstance(b, DataBundle)
    assert b.train_x.dtype == torch.float32 and b.train_x.shape == (1300, 1, 8, 8)
    assert b.val_x.shape == (200, 1, 8, 8) and b.test_x.shape == (100, 1, 8, 8)
    assert b.input_shape == (1, 8, 8) and b.num_classes == 10 and b.checksum == digits.checksum
    assert abs(float(b.train_x.mean())) < 1e-5 and abs(float(b.train_x.std()) - 1) < 1e-3
    assert torch.equal(b.val_y, digits.train_y[s["val"]])
    expected = (digits.test_x[s["test"]].float() / 16 - b.mean[0]) / b.std[0]
    assert torch.allclose(b.test_x, expected, atol=1e-5)
    r = prepare(digits, s, resize=16)
    assert r.train_x.shape == (1300, 1, 16, 16) and r.input_shape == (1, 16, 16)


def test_prepare_per_channel(tmp_path):
    fake_cifar_tarball(tmp_path / "cifar-10-python.tar.gz", n=20)
    d = load_dataset("cifar10", path=tmp_path)
    b = prepare(d, make_splits(d, seed=0, val_size=10))
    assert b.input_shape == (3, 32, 32) and b.flip
    m = b.train_x.mean(dim=(0, 2, 3))
    sd = b.train_x.std(dim=(0, 2, 3), correction=0)
    assert torch.allclose(m, torch.zeros(3), atol=1e-5)
    assert torch.allclose(sd, torch.ones(3), atol=1e-4)


def test_prepare_checksum_mismatch(digits):
    s = make_splits(digits, seed=0, val_size=100)
    s["checksum"] = "0" * 64
    with pytest.raises(DataError, match="delete results/<profile>/data and rerun"):
        prepare(digits, s)
    other = load_dataset("synthetic")
    with pytest.raises(DataError, match="changed since splits were made"):
        prepare(other, make_splits(digits, seed=0, val_size=100))


# ------------------------------------------------------------------------------------------------
# augmentation and batches


def gen(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def shifted(img: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """out[y, x] = img[y + dy, x + dx], zero outside."""
    out = torch.zeros_like(img)
    h, w = img.shape[-2:]
    ys, xs = slice(max(0, -dy), min(h, h - dy)), slice(max(0, -dx), min(w, w - dx))
    yi, xi = slice(max(0, dy), min(h, h + dy)), slice(max(0, dx), min(w, w + dx))
    out[..., ys, xs] = img[..., yi, xi]
    return out


def test_augment_identity_and_shapes():
    x = torch.randn(8, 3, 6, 6)
    assert Augment()(x, gen(0)) is x
    y = Augment(crop_padding=2, flip=True, cutout=3)(x, gen(0))
    assert y.shape == x.shape and y.dtype == x.dtype
    assert not torch.equal(y, x)
    assert torch.equal(x, x.clone())  # input untouched
    z = Augment(crop_padding=2, flip=True, cutout=3)(x, gen(0))
    assert torch.equal(y, z)
    assert not torch.equal(y, Augment(crop_padding=2, flip=True, cutout=3)(x, gen(1)))


def test_augment_crop_is_shifted_copy():
    p = 2
    x = (torch.arange(64 * 2 * 6 * 6, dtype=torch.float32) + 1).reshape(64, 2, 6, 6)
    y = Augment(crop_padding=p)(x, gen(3))
    seen = set()
    for i in range(len(x)):
        shifts = [
            (dy, dx)
            for dy in range(-p, p + 1)
            for dx in range(-p, p + 1)
            if torch.equal(y[i], shifted(x[i], dy, dx))
        ]
        assert len(shifts) == 1
        seen.add(shifts[0])
    assert len(seen) > 5  # per-sample offsets


def test_augment_flip():
    x = torch.randn(64, 2, 5, 5)
    y = Augment(flip=True)(x, gen(0))
    flipped = [torch.equal(y[i], x[i].flip(-1)) for i in range(64)]
    kept = [torch.equal(y[i], x[i]) for i in range(64)]
    assert all(f or k for f, k in zip(flipped, kept, strict=True))
    assert 10 < sum(flipped) < 54


@pytest.mark.parametrize("length", [4, 3])
def test_augment_cutout(length):
    h = w = 8
    x = torch.randn(64, 3, h, w).abs() + 1
    y = Augment(cutout=length)(x, gen(5))
    half = length // 2
    sizes = set()
    for i in range(64):
        hole = y[i] == 0
        assert torch.equal(hole, hole[:1].expand_as(hole))  # same square in every channel
        assert torch.equal(y[i][~hole], x[i][~hole])
        matches = []
        for cy in range(h):
            for cx in range(w):
                m = torch.zeros(h, w, dtype=torch.bool)
                y0, x0 = cy - half, cx - half
                m[max(0, y0) : y0 + length, max(0, x0) : x0 + length] = 1
                if torch.equal(hole[0], m):
                    matches.append((cy, cx))
        assert matches
        sizes.add(int(hole[0].sum()))
    assert length * length in sizes and min(sizes) < length * length  # whole and clipped squares


def test_augment_generator_on_device_of_input():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA")
    x = torch.randn(16, 3, 8, 8, device="cuda")
    aug = Augment(crop_padding=2, flip=True, cutout=4)
    y_cpu_gen = aug(x, gen(0))
    assert y_cpu_gen.device == x.device
    assert torch.equal(y_cpu_gen, aug(x, gen(0)))


def test_iterate_batches():
    x = torch.arange(23).float()[:, None]
    y = torch.arange(23)
    batches = list(iterate_batches(x, y, 5, shuffle=True, generator=gen(0)))
    assert [len(b[1]) for b in batches] == [5, 5, 5, 5, 3]
    ids = torch.cat([b[1] for b in batches])
    assert sorted(ids.tolist()) == list(range(23)) and ids.tolist() != list(range(23))
    assert all(torch.equal(bx[:, 0].long(), by) for bx, by in batches)
    again = torch.cat([b[1] for b in iterate_batches(x, y, 5, shuffle=True, generator=gen(0))])
    assert torch.equal(ids, again)
    dropped = list(iterate_batches(x, y, 5, shuffle=True, generator=gen(0), drop_last=True))
    assert len(dropped) == 4 and all(len(b[1]) == 5 for b in dropped)
    plain = torch.cat([b[1] for b in iterate_batches(x, y, 10, shuffle=False)])
    assert plain.tolist() == list(range(23))


def test_digits_read_from_the_shipped_csv_equal_scikit_learns_loader() -> None:
    """The jobs read scikit-learn's digits CSV without importing scikit-learn; same values."""
    from sklearn.datasets import load_digits as sk_load_digits

    from nasrepro.data.datasets import _digits_arrays

    images, labels = _digits_arrays()
    bunch = sk_load_digits()
    assert np.array_equal(images, bunch.images) and np.array_equal(labels, bunch.target)
