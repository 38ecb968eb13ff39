"""CIFAR-10 reader for the official python version (``cifar-10-python.tar.gz``).

CIFAR-10 is the dataset of DARTS / SNAS (PAPERS.md section 2) and of the ``cifar10`` profile.
The official archive holds ``cifar-10-batches-py/data_batch_1..5`` and ``test_batch``: pickled
dicts whose ``b"data"`` is a ``uint8`` array [10000, 3072] (each row is the red plane, then green,
then blue, each 32x32 row-major) and whose ``b"labels"`` is a list of ints in 0..9.

The tarball is read in place with :mod:`tarfile` (no extraction). Unpickling goes through a
restricted unpickler that only rebuilds numpy arrays and plain Python containers, so a
tampered file cannot run code.
"""

from __future__ import annotations

import importlib.util
import io
import pickle
import tarfile
import zlib
from pathlib import Path

import numpy as np

from nasrepro.errors import DataError

BATCH_DIR = "cifar-10-batches-py"
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
ALL_BATCHES = (*TRAIN_BATCHES, TEST_BATCH)
NUM_CLASSES = 10
IMAGE_SHAPE = (3, 32, 32)

_ALLOWED_GLOBALS = {
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("_codecs", "encode"),  # how protocol-2 pickles written by Python 3 store bytes
}


_NUMPY_CORE = "numpy._core" if importlib.util.find_spec("numpy._core") else "numpy.core"


class _SafeUnpickler(pickle.Unpickler):
    """Unpickler that only resolves the globals needed by numpy arrays."""

    def find_class(self, module: str, name: str):  # noqa: D102 (pickle API)
        if (module, name) not in _ALLOWED_GLOBALS:
            raise pickle.UnpicklingError(f"unexpected global {module}.{name}")
        if module.startswith("numpy.core.") and _NUMPY_CORE == "numpy._core":
            module = "numpy._core." + module[len("numpy.core."):]  # numpy >= 2 location
        elif module.startswith("numpy._core.") and _NUMPY_CORE == "numpy.core":
            module = "numpy.core." + module[len("numpy._core."):]  # numpy < 2 location
        return super().find_class(module, name)


def read_tarball(path: str | Path, fix: str) -> dict[str, bytes]:
    """Read the six batch files out of the official tarball, without extracting it.

    Args:
        path: ``cifar-10-python.tar.gz``.
        fix: what the user should do if the archive is unusable, for the error message.

    Returns:
        Batch name (``data_batch_1`` ... ``test_batch``) -> the pickled bytes.

    Raises:
        DataError: the archive is corrupt/truncated or lacks a batch.
    """
    out: dict[str, bytes] = {}
    try:
        with tarfile.open(path, "r:*") as tf:
            for member in tf:  # sequential: no backward seeks in the gzip stream
                parts = Path(member.name).parts
                if (
                    member.isfile()
                    and len(parts) >= 2
                    and parts[-2] == BATCH_DIR
                    and parts[-1] in ALL_BATCHES
                ):
                    f = tf.extractfile(member)
                    if f is not None:
                        out[parts[-1]] = f.read()
    except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path} is not a readable CIFAR-10 tarball ({e}); {fix}") from e
    missing = [b for b in ALL_BATCHES if b not in out]
    if missing:
        raise DataError(f"{path} lacks {BATCH_DIR}/{','.join(missing)}; {fix}")
    return out


def read_folder(folder: str | Path, fix: str) -> dict[str, bytes]:
    """Read the six batch files from an extracted ``cifar-10-batches-py`` folder.

    Raises:
        DataError: a batch file is missing or unreadable.
    """
    folder = Path(folder)
    out: dict[str, bytes] = {}
    for b in ALL_BATCHES:
        try:
            out[b] = (folder / b).read_bytes()
        except OSError as e:
            raise DataError(f"cannot read {folder / b} ({e.strerror or e}); {fix}") from e
    return out


def _parse_batch(raw: bytes, name: str, fix: str) -> tuple[np.ndarray, np.ndarray]:
    """Unpickle one batch into images [N, 3, 32, 32] uint8 and labels [N] int64."""
    try:
        d = _SafeUnpickler(io.BytesIO(raw), encoding="bytes").load()
    except Exception as e:  # any unpickling failure means a corrupt file
        raise DataError(f"CIFAR-10 batch {name} cannot be unpickled ({e}); {fix}") from e
    if not isinstance(d, dict) or b"data" not in d or b"labels" not in d:
        raise DataError(f"CIFAR-10 batch {name} has no b'data'/b'labels' entries; {fix}")
    try:
        data = np.asarray(d[b"data"])
    except (ValueError, TypeError) as e:  # ragged rows
        raise DataError(f"CIFAR-10 batch {name} data is not an array of images ({e}); "
                        f"{fix}") from e
    try:
        labels = np.asarray(d[b"labels"], dtype=np.int64)
    except (ValueError, TypeError, OverflowError) as e:  # strings, None, ragged lists
        raise DataError(f"CIFAR-10 batch {name} labels are not a list of ints in "
                        f"0..{NUM_CLASSES - 1} ({e.__class__.__name__}); {fix}") from e
    n_pix = int(np.prod(IMAGE_SHAPE))
    if data.dtype != np.uint8 or data.ndim != 2 or data.shape[1] != n_pix:
        raise DataError(
            f"CIFAR-10 batch {name} data is {data.dtype} {list(data.shape)}, "
            f"expected uint8 [N, {n_pix}]; {fix}"
        )
    if labels.shape != (data.shape[0],) or (labels.size and (labels.min() < 0
                                                             or labels.max() >= NUM_CLASSES)):
        raise DataError(
            f"CIFAR-10 batch {name} labels do not match its data (need {data.shape[0]} labels "
            f"in 0..{NUM_CLASSES - 1}); {fix}"
        )
    return data.reshape(-1, *IMAGE_SHAPE), labels


def parse_batches(
    raw: dict[str, bytes], fix: str
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Turn the six pickled batches into train/test arrays.

    Returns:
        ``(train_x, train_y, test_x, test_y)``; images ``uint8`` [N, 3, 32, 32] (channels R, G,
        B), labels ``int64``; training images in batch order 1..5.
    """
    parsed = [_parse_batch(raw[b], b, fix) for b in TRAIN_BATCHES]
    train_x = np.concatenate([p[0] for p in parsed])
    train_y = np.concatenate([p[1] for p in parsed])
    test_x, test_y = _parse_batch(raw[TEST_BATCH], TEST_BATCH, fix)
    return train_x, train_y, test_x, test_y
