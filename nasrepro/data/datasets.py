"""Datasets as whole CPU tensors: digits, Fashion-MNIST, CIFAR-10 and a synthetic toy set.

The data layer of every experiment (DESIGN.md, "The data flow" and "Profiles"): the ``tiny``
profile uses scikit-learn's digits, ``default`` uses Fashion-MNIST, ``cifar10`` uses CIFAR-10 (the
dataset of DARTS / SNAS, PAPERS.md section 2). ``synthetic`` is a tiny deterministic set for unit
tests of other modules.

Sources are tried in this order (DESIGN.md, "Profiles"):

1. ``path`` (the config's ``data.path``),
2. for Fashion-MNIST the Debian package location :data:`DEBIAN_FASHION_MNIST`
   (``apt-get install dataset-fashion-mnist``),
3. the cache folder (``$NASREPRO_DATA``, else ``~/.cache/nasrepro``),
4. a download from the official URL into the cache (``urllib``, short timeout, checksum
   checked). Setting ``NASREPRO_OFFLINE=1`` turns the download step into an immediate
   :class:`DataError`.

An explicit ``path`` that holds no dataset is an error (no fall-back to the other sources), and
every :class:`Dataset` says in ``source`` where it came from (the data job logs it and keeps it in
its provenance).

Files from the Debian location, the cache and the download are checked against the official
checksums; files under a user-given ``path`` are not (they may be a custom or reduced copy), but
every :class:`Dataset` carries a ``checksum`` of its source bytes, which the splits and every run's
provenance record.

``digits`` has no official test split: the test set is the last 297 images of
``numpy.random.RandomState(0).permutation(1797)`` (legacy generator, stable across numpy versions)
and the training set the first 1500, both kept in that permuted order.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import os
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nasrepro.data import cifar, idx
from nasrepro.errors import DataError, UnknownNameError
from nasrepro.io import atomic_path

DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")
DOWNLOAD_TIMEOUT_S = 20.0  # seconds without data before a download is abandoned

FASHION_MNIST_URL = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"
# Official IDX files, in checksum order: name -> (ndim, md5 of the official .gz as published in
# the Fashion-MNIST README, sha256 of the uncompressed content). The uncompressed sha256 is the
# same for the downloaded files and the Debian package (whose .gz headers differ, hence other
# .gz checksums), so both are checked on the content.
FASHION_MNIST_FILES: dict[str, tuple[int, str, str]] = {
    "train-images-idx3-ubyte": (
        3,
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    ),
    "train-labels-idx1-ubyte": (
        1,
        "25c81989df183df01b3e8a0aad5dffbe",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    ),
    "t10k-images-idx3-ubyte": (
        3,
        "bef4ecab320f06d8554ea6380940ec79",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    ),
    "t10k-labels-idx1-ubyte": (
        1,
        "bb300cfdad3c16e7a12a480ee83cd310",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    ),
}
FASHION_MNIST_HOWTO = (
    "apt-get install dataset-fashion-mnist, or set data.path in the config to a folder with the "
    "4 IDX files (train-images-idx3-ubyte[.gz], ...)"
)

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_TARBALL = "cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_HOWTO = (
    f"download {CIFAR10_URL} (md5 {CIFAR10_MD5}) and set data.path in the config to it or to "
    "its folder"
)

DIGITS_TEST_SIZE = 297


@dataclass
class Dataset:
    """A whole dataset as CPU tensors.

    Attributes:
        name: dataset name (as given to :func:`load_dataset`).
        train_x: ``uint8`` [N, C, H, W] official training images (digits: values 0..16).
        train_y: ``int64`` [N] labels.
        test_x: ``uint8`` [M, C, H, W] official test images.
        test_y: ``int64`` [M] labels.
        num_classes: number of classes.
        checksum: sha256 (hex) over the raw source bytes; same data -> same checksum.
        flip: whether a horizontal flip is a label-preserving augmentation.
        max_value: the largest possible pixel value (16 for digits, 255 otherwise).
        source: where the data came from (``data.path /x``, ``Debian package /usr/...``,
            ``cache ...``, ``download ...``, ``scikit-learn (embedded)``, ``generated``).
    """

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    num_classes: int
    checksum: str
    flip: bool
    max_value: float
    source: str = ""


# ---------------------------------------------------------------------------------------------
# cache and download


def cache_dir() -> Path:
    """The download cache: ``$NASREPRO_DATA`` if set, else ``~/.cache/nasrepro``."""
    env = os.environ.get("NASREPRO_DATA")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "nasrepro"


def offline() -> bool:
    """True when ``NASREPRO_OFFLINE`` is set to anything but ``""``/``0``: no downloads."""
    return os.environ.get("NASREPRO_OFFLINE", "").strip().lower() not in ("", "0", "false", "no")


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def download(url: str, dest: Path, md5: str) -> Path:
    """Download ``url`` to ``dest`` atomically and check its md5.

    Args:
        url: the official URL.
        dest: where to put the file (its folder is created).
        md5: the published md5 of the file.

    Returns:
        ``dest``.

    Raises:
        DataError: offline mode, network failure, timeout, or checksum mismatch (in every case
            ``dest`` is left untouched).
    """
    if offline():
        raise DataError(f"download of {url} disabled by NASREPRO_OFFLINE")
    from tqdm import tqdm

    try:
        with (
            urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as resp,
            atomic_path(dest) as tmp,
        ):
            total = int(resp.headers.get("Content-Length") or 0) or None
            with (
                open(tmp, "wb") as f,
                tqdm(total=total, unit="B", unit_scale=True, desc=dest.name, leave=False) as bar,
            ):
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    f.write(chunk)
                    bar.update(len(chunk))
            got = _md5(tmp)
            if got != md5:
                raise DataError(f"download of {url} has md5 {got}, expected {md5}")
    except DataError:
        raise
    except (OSError, ValueError, http.client.HTTPException) as e:  # incl. timeouts, HTTP errors
        raise DataError(f"download of {url} failed ({e})") from e
    return dest


# ---------------------------------------------------------------------------------------------
# Fashion-MNIST


def _idx_files(folder: Path) -> tuple[dict[str, Path], list[str]]:
    """The 4 Fashion-MNIST files found in ``folder`` (raw preferred over .gz), and the missing."""
    found, missing = {}, []
    for name in FASHION_MNIST_FILES:
        for cand in (folder / name, folder / f"{name}.gz"):
            if cand.is_file():
                found[name] = cand
                break
        else:
            missing.append(name)
    return found, missing


def _read_fashion(files: dict[str, Path], *, verify: bool, fix: str) -> Dataset:
    """Parse the 4 IDX files (checking the official content sha256 when ``verify``)."""
    h = hashlib.sha256()
    arrays = {}
    for name, (ndim, _md5sum, sha) in FASHION_MNIST_FILES.items():
        data = idx.read_bytes(files[name], fix=fix)
        if verify:
            got = hashlib.sha256(data).hexdigest()
            if got != sha:
                raise DataError(
                    f"{files[name]} is corrupt (sha256 of its content {got[:12]}..., expected "
                    f"{sha[:12]}...); {fix}"
                )
        h.update(data)
        arrays[name] = idx.parse_idx(data, ndim=ndim, name=str(files[name]), fix=fix)
    tr_x, tr_y = arrays["train-images-idx3-ubyte"], arrays["train-labels-idx1-ubyte"]
    te_x, te_y = arrays["t10k-images-idx3-ubyte"], arrays["t10k-labels-idx1-ubyte"]
    folder = files["train-images-idx3-ubyte"].parent
    if len(tr_x) != len(tr_y) or len(te_x) != len(te_y) or tr_x.shape[1:] != te_x.shape[1:]:
        raise DataError(
            f"Fashion-MNIST files in {folder} do not match each other (train {tr_x.shape} / "
            f"{tr_y.shape} labels, test {te_x.shape} / {te_y.shape} labels); {fix}"
        )
    for y in (tr_y, te_y):
        if y.size and y.max() >= 10:
            raise DataError(f"Fashion-MNIST labels in {folder} exceed 9; {fix}")
    return Dataset(
        name="fashion_mnist",
        train_x=torch.from_numpy(tr_x.copy()).unsqueeze(1),
        train_y=torch.from_numpy(tr_y.astype(np.int64)),
        test_x=torch.from_numpy(te_x.copy()).unsqueeze(1),
        test_y=torch.from_numpy(te_y.astype(np.int64)),
        num_classes=10,
        checksum=h.hexdigest(),
        flip=False,
        max_value=255.0,
    )


def load_fashion_mnist(path: str | os.PathLike | None = None) -> Dataset:
    """Load Fashion-MNIST from ``path``, the Debian location, the cache, or a download.

    Args:
        path: a folder with ``train-images-idx3-ubyte[.gz]``, ``train-labels-idx1-ubyte[.gz]``,
            ``t10k-images-idx3-ubyte[.gz]`` and ``t10k-labels-idx1-ubyte[.gz]``.

    Raises:
        DataError: files corrupt, or found nowhere and not downloadable.
    """
    looked = []
    if path is not None:
        folder = Path(path).expanduser()
        found, missing = _idx_files(folder)
        if found and missing:
            raise DataError(
                f"data.path {folder} holds only part of Fashion-MNIST (missing "
                f"{', '.join(missing)}); add the missing files or fix data.path in the config"
            )
        if found:
            ds = _read_fashion(found, verify=False, fix=f"replace it in {folder}")
            return dataclasses.replace(ds, source=f"data.path {folder}")
        raise DataError(
            f"data.path {folder} holds no Fashion-MNIST (none of the 4 IDX files "
            f"train-images-idx3-ubyte[.gz], ...); put them there, or set data.path to the "
            f"folder that holds them (null: the Debian package, the cache, a download)"
        )
    found, missing = _idx_files(DEBIAN_FASHION_MNIST)
    if not missing:
        fix = "reinstall it (apt-get install --reinstall dataset-fashion-mnist) or set data.path"
        ds = _read_fashion(found, verify=True, fix=fix)
        return dataclasses.replace(ds, source=f"Debian package {DEBIAN_FASHION_MNIST}")
    looked.append(str(DEBIAN_FASHION_MNIST))
    cache = cache_dir() / "fashion-mnist"
    looked.append(str(cache))
    found, missing = _idx_files(cache)
    try:
        for name in missing:
            dest = cache / f"{name}.gz"
            md5 = FASHION_MNIST_FILES[name][1]
            found[name] = download(FASHION_MNIST_URL + dest.name, dest, md5)
    except DataError as e:
        raise DataError(
            f"Fashion-MNIST not found (looked in {', '.join(looked)}; {e}); {FASHION_MNIST_HOWTO}"
        ) from e
    ds = _read_fashion(found, verify=True, fix="delete it and rerun, or set data.path")
    how = f"download {FASHION_MNIST_URL} into the cache {cache}" if missing else f"cache {cache}"
    return dataclasses.replace(ds, source=how)


# ---------------------------------------------------------------------------------------------
# CIFAR-10


def _cifar_source(path: Path) -> Path | None:
    """The tarball or ``cifar-10-batches-py`` folder that ``path`` points to, if any."""
    if path.is_file():
        return path
    for cand in (path / CIFAR10_TARBALL, path / cifar.BATCH_DIR, path):
        if cand.is_file() or (cand.is_dir() and (cand / cifar.TEST_BATCH).is_file()):
            return cand
    return None


def _read_cifar(src: Path, fix: str) -> Dataset:
    raw = cifar.read_tarball(src, fix) if src.is_file() else cifar.read_folder(src, fix)
    h = hashlib.sha256()
    for b in cifar.ALL_BATCHES:
        h.update(raw[b])
    tr_x, tr_y, te_x, te_y = cifar.parse_batches(raw, fix)
    return Dataset(
        name="cifar10",
        train_x=torch.from_numpy(tr_x),
        train_y=torch.from_numpy(tr_y),
        test_x=torch.from_numpy(te_x),
        test_y=torch.from_numpy(te_y),
        num_classes=cifar.NUM_CLASSES,
        checksum=h.hexdigest(),
        flip=True,
        max_value=255.0,
    )


def load_cifar10(path: str | os.PathLike | None = None) -> Dataset:
    """Load CIFAR-10 from ``path``, the cache, or a download of the official tarball.

    Args:
        path: the tarball itself, a folder holding it, a folder holding the extracted
            ``cifar-10-batches-py``, or that folder itself.

    Raises:
        DataError: archive corrupt, or found nowhere and not downloadable.
    """
    if path is not None:
        p = Path(path).expanduser()
        src = _cifar_source(p)
        if src is not None:
            ds = _read_cifar(src, fix=f"replace it or fix data.path ({p}) in the config")
            return dataclasses.replace(ds, source=f"data.path {src}")
        raise DataError(
            f"data.path {p} holds no CIFAR-10 (no {CIFAR10_TARBALL} or {cifar.BATCH_DIR}); put "
            f"it there, or set data.path to it (null: the cache, then {CIFAR10_URL})"
        )
    tarball = cache_dir() / "cifar10" / CIFAR10_TARBALL
    fix = f"delete {tarball} and rerun, or set data.path"
    if tarball.is_file():
        if _md5(tarball) != CIFAR10_MD5:
            raise DataError(f"{tarball} is corrupt (md5 differs from {CIFAR10_MD5}); {fix}")
        return dataclasses.replace(_read_cifar(tarball, fix), source=f"cache {tarball}")
    try:
        download(CIFAR10_URL, tarball, CIFAR10_MD5)
    except DataError as e:
        raise DataError(
            f"CIFAR-10 not found (looked in {tarball.parent}; {e}); {CIFAR10_HOWTO}"
        ) from e
    return dataclasses.replace(_read_cifar(tarball, fix),
                               source=f"download {CIFAR10_URL} into the cache {tarball}")


# ---------------------------------------------------------------------------------------------
# digits and synthetic


def _from_arrays(
    name: str,
    x: np.ndarray,
    y: np.ndarray,
    test_idx: np.ndarray,
    train_idx: np.ndarray,
    *,
    num_classes: int,
    max_value: float,
) -> Dataset:
    """Build a Dataset from in-memory arrays; the checksum covers the split arrays' bytes."""
    tr_x, tr_y = np.ascontiguousarray(x[train_idx]), y[train_idx].astype(np.int64)
    te_x, te_y = np.ascontiguousarray(x[test_idx]), y[test_idx].astype(np.int64)
    h = hashlib.sha256()
    for a in (tr_x, tr_y, te_x, te_y):
        h.update(np.ascontiguousarray(a).tobytes())
    return Dataset(
        name=name,
        train_x=torch.from_numpy(tr_x),
        train_y=torch.from_numpy(tr_y),
        test_x=torch.from_numpy(te_x),
        test_y=torch.from_numpy(te_y),
        num_classes=num_classes,
        checksum=h.hexdigest(),
        flip=False,
        max_value=max_value,
    )


def _digits_arrays() -> tuple[np.ndarray, np.ndarray]:
    """(images [1797, 8, 8] float, labels) of ``sklearn.datasets.load_digits``, read from the
    CSV file scikit-learn ships without importing scikit-learn (~2 s per DAG job); the
    library call where that file is not found. Equal values (tested)."""
    import gzip
    import importlib.util

    spec = importlib.util.find_spec("sklearn")
    csv = (Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz"
           if spec is not None and spec.origin else None)
    if csv is not None and csv.is_file():
        with gzip.open(csv, "rt") as f:
            data = np.loadtxt(f, delimiter=",")
        return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    return np.asarray(bunch.images), np.asarray(bunch.target)


def load_digits(path: str | os.PathLike | None = None) -> Dataset:
    """scikit-learn's 8x8 digits (1797 images, values 0..16, embedded in scikit-learn).

    The test set is the last :data:`DIGITS_TEST_SIZE` images of
    ``RandomState(0).permutation(1797)``, the training set the others (see module docstring).
    ``path`` is ignored.
    """
    x, y = _digits_arrays()
    x = x.astype(np.uint8).reshape(-1, 1, 8, 8)
    perm = np.random.RandomState(0).permutation(len(x))
    n_train = len(x) - DIGITS_TEST_SIZE
    ds = _from_arrays(
        "digits", x, y, perm[n_train:], perm[:n_train], num_classes=10, max_value=16.0
    )
    return dataclasses.replace(ds, source="scikit-learn (embedded load_digits)")


def load_synthetic(path: str | os.PathLike | None = None) -> Dataset:
    """A tiny deterministic 10-class dataset: 256 train / 64 test images, 1x8x8, uint8.

    Each class has a fixed random 8x8 prototype; an image is its class prototype plus Gaussian
    noise (std 40 grey levels), clipped to 0..255 — learnable by a small net in a few steps.
    Made with ``RandomState(0)`` so it is identical everywhere. ``path`` is ignored.
    """
    rng = np.random.RandomState(0)
    n_train, n_test, k = 256, 64, 10
    protos = rng.randint(0, 256, size=(k, 1, 8, 8)).astype(np.float64)
    y = np.arange(n_train + n_test) % k
    rng.shuffle(y)
    x = np.clip(protos[y] + rng.normal(0.0, 40.0, size=(len(y), 1, 8, 8)), 0, 255)
    x = np.rint(x).astype(np.uint8)
    idx_all = np.arange(len(y))
    ds = _from_arrays(
        "synthetic", x, y, idx_all[n_train:], idx_all[:n_train], num_classes=k, max_value=255.0
    )
    return dataclasses.replace(ds, source="generated (RandomState(0))")


# ---------------------------------------------------------------------------------------------
# entry point

LOADERS: dict[str, Callable[[str | os.PathLike | None], Dataset]] = {
    "digits": load_digits,
    "fashion_mnist": load_fashion_mnist,
    "cifar10": load_cifar10,
    "synthetic": load_synthetic,
}


def known_datasets() -> list[str]:
    """The names :func:`load_dataset` accepts."""
    return sorted(LOADERS)


def load_dataset(name: str, path: str | os.PathLike | None = None) -> Dataset:
    """Load a dataset by name.

    Args:
        name: one of :func:`known_datasets` (``digits``, ``fashion_mnist``, ``cifar10``,
            ``synthetic``).
        path: where the files are (the config's ``data.path``), tried first; ignored by
            ``digits`` and ``synthetic``.

    Returns:
        The whole dataset as CPU tensors.

    Raises:
        UnknownNameError: unknown ``name``.
        DataError: missing or corrupt data (the message says where it looked and how to fix it).
    """
    try:
        loader = LOADERS[name]
    except KeyError:
        raise UnknownNameError(
            f"unknown dataset {name!r}; use one of: {', '.join(known_datasets())}"
        ) from None
    return loader(path)
