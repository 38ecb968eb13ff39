"""Run-directory state of the training loop: epoch checkpoints, RNG states and ``log.csv``.

A killed run resumes from its last epoch checkpoint and ends bit-identical to an uninterrupted
run (DESIGN.md, conventions), so a checkpoint holds everything stochastic: model, optimizer,
EMA, the loop's ``torch.Generator``, torch/python/numpy global RNG states and the step
strategy's own state. Every file is written atomically (:func:`nasrepro.io.atomic_path`), and
``log.csv`` has no wall-clock column, so reruns are byte-identical.
"""

from __future__ import annotations

import csv
import io
import os
import random
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from nasrepro.errors import TrainingError
from nasrepro.io import atomic_path, write_text

CHECKPOINT_NAME = "checkpoint.pt"
LOG_NAME = "log.csv"


def capture_rng_state() -> dict[str, Any]:
    """Global RNG states (torch CPU, CUDA if initialised, python ``random``, numpy)."""
    np_state = np.random.get_state()
    state: dict[str, Any] = {
        "torch": torch.get_rng_state(),
        "python": random.getstate(),
        # numpy's state holds an ndarray; store plain values so ``weights_only`` loading works
        "numpy": [np_state[0], torch.from_numpy(np_state[1].astype(np.int64)), *np_state[2:]],
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of :func:`capture_rng_state`."""
    torch.set_rng_state(state["torch"])
    random.setstate(as_tuples(state["python"]))
    name, keys, *rest = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), *rest))
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


def as_tuples(obj: Any) -> Any:
    """``random.setstate`` wants nested tuples; serialisation may hand back lists."""
    if isinstance(obj, list | tuple):
        return tuple(as_tuples(o) for o in obj)
    return obj


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Atomically ``torch.save`` ``state`` to ``path``."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike, map_location: Any = "cpu") -> dict[str, Any]:
    """Load a checkpoint written by :func:`save_checkpoint` (tensors and plain containers only).

    Raises:
        TrainingError: the file cannot be read (corrupt or from an incompatible version).
    """
    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as e:  # noqa: BLE001 - any unreadable file gets the same advice
        raise TrainingError(
            f"cannot read checkpoint {path} ({type(e).__name__}: {str(e).splitlines()[0][:120]}); "
            f"delete {Path(path).parent} to start the run over"
        ) from None


def save_state_dict(path: str | os.PathLike, module: nn.Module) -> None:
    """Atomically save ``module.state_dict()`` (e.g. ``supernet.pt``)."""
    with atomic_path(path) as tmp:
        torch.save(module.state_dict(), tmp)


def _fmt(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return repr(value)  # shortest round-trip repr: stable across reruns
    return str(value)


def log_csv_text(rows: list[dict[str, Any]]) -> str:
    """CSV text of the log rows; columns in order of first appearance, missing cells empty."""
    columns: list[str] = []
    for row in rows:
        for key in row:
            if key not in columns:
                columns.append(key)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_fmt(row.get(c)) for c in columns])
    return buf.getvalue()


def write_log_csv(path: str | os.PathLike, rows: list[dict[str, Any]]) -> None:
    """Atomically (re)write ``log.csv`` from all rows so far."""
    write_text(path, log_csv_text(rows))
