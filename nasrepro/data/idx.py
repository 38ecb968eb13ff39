"""IDX file reader (the MNIST / Fashion-MNIST file format).

Used for Fashion-MNIST, the dataset of the ``default`` profile (DESIGN.md, "Profiles"); the
papers themselves use CIFAR-10 / ImageNet (PAPERS.md sections 1-4). An IDX file is a big-endian
header (two zero bytes, a type code, the number of dimensions, then one 32-bit size per dimension)
followed by the raw array. Only the unsigned-byte type (code 0x08) is supported: it is the only
one the MNIST-family datasets use. Files may be gzip-compressed (detected by their magic bytes,
not by their name).
"""

from __future__ import annotations

import gzip
import math
import struct
import zlib
from pathlib import Path

import numpy as np

from nasrepro.errors import DataError

GZIP_MAGIC = b"\x1f\x8b"
IDX_UBYTE = 0x08  # IDX type code of unsigned bytes
DEFAULT_FIX = "delete it and rerun, or set data.path in the config to a folder with good files"


def read_bytes(path: str | Path, fix: str = DEFAULT_FIX) -> bytes:
    """Read a file, transparently gunzipping it when it starts with the gzip magic bytes.

    Args:
        path: the file (``.gz`` or uncompressed).
        fix: what the user should do if the file cannot be read, for the error message.

    Returns:
        The (uncompressed) file content.

    Raises:
        DataError: the file cannot be read or is not valid gzip (truncated, bad CRC).
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise DataError(f"cannot read {path} ({e.strerror or e}); {fix}") from e
    if raw[:2] != GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError, zlib.error) as e:
        raise DataError(f"{path} is a corrupt or truncated gzip file ({e}); {fix}") from e


def parse_idx(data: bytes, *, ndim: int, name: str, fix: str = DEFAULT_FIX) -> np.ndarray:
    """Parse the bytes of an (uncompressed) unsigned-byte IDX file.

    Args:
        data: the file content.
        ndim: the expected number of dimensions (1 for labels, 3 for images).
        name: the file name, for error messages.
        fix: what the user should do if the file is corrupt, for the error message.

    Returns:
        A read-only ``uint8`` array of the shape given in the header.

    Raises:
        DataError: wrong magic number, truncated file, or trailing bytes.
    """
    expected_magic = (IDX_UBYTE << 8) | ndim
    if len(data) < 4:
        raise DataError(f"{name} is truncated ({len(data)} bytes, no IDX header); {fix}")
    (magic,) = struct.unpack(">I", data[:4])
    if magic != expected_magic:
        raise DataError(
            f"{name} has IDX magic number 0x{magic:08x}, expected 0x{expected_magic:08x} "
            f"(unsigned bytes, {ndim}-d); {fix}"
        )
    header = 4 + 4 * ndim
    if len(data) < header:
        raise DataError(
            f"{name} is truncated (header needs {header} bytes, got {len(data)}); {fix}"
        )
    dims = struct.unpack(f">{ndim}I", data[4:header])
    expected = math.prod(dims)
    body = len(data) - header
    if body != expected:
        what = "truncated" if body < expected else "longer than its header says"
        raise DataError(
            f"{name} is {what} (header {list(dims)} needs {expected} data bytes, got {body}); {fix}"
        )
    return np.frombuffer(data, dtype=np.uint8, offset=header).reshape(dims)
