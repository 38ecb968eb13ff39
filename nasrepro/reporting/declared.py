"""Tables and figures read only their rule's inputs (issue 14, "tables read their rule's inputs").

The rules ``tables`` and ``figures`` pass every run and file they depend on as ``--input
run=PATH`` (``table_inputs`` / ``figure_inputs`` of the paper's grid, ``nasrepro/papers/<p>/
grid.py``; a run as its directory). While a paper's tables or figures are written,
:func:`reads_only` refuses to open for reading any file under ``results/<profile>/`` that is
neither one of those inputs nor in the run directory of one: such a read would make a
table depend on a file Snakemake does not know about, so a rerun of that file's job would not
rerun the table. The check is an audit hook on Python's ``open`` event (:func:`sys.addaudithook`),
so it sees every reader (``open``, ``pathlib``, pandas) without wrapping them; it is active only
inside :func:`reads_only`, in the one process of a table/figure step.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from nasrepro.errors import MissingInputError

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_APPEND | os.O_TRUNC
_guard: dict[str, Any] | None = None  # the active check (None: reads are not checked)
_hook_installed = False


def _is_read(mode: Any, flags: Any) -> bool:
    if isinstance(mode, str):
        return not any(c in mode for c in "wax+")
    return isinstance(flags, int) and not flags & _WRITE_FLAGS


def _audit(event: str, args: tuple) -> None:
    guard = _guard
    if guard is None or event != "open":
        return
    path, mode, flags = args
    if isinstance(path, int) or path is None or not _is_read(mode, flags):
        return
    real = os.path.realpath(os.fsdecode(path))
    if not real.startswith(guard["root"]) or any(
            real == a or real.startswith(a + os.sep) for a in guard["allowed"]):
        return
    raise MissingInputError(
        f"the {guard['what']} read {os.fsdecode(path)}, which is not an input of their rule: "
        f"add it (or a file of its run directory) to {guard['declare']}")


@contextlib.contextmanager
def reads_only(root: str | Path, inputs: Iterable[str | Path], *, what: str,
               declare: str, writable: Iterable[str | Path] = ()) -> Iterator[None]:
    """Inside the block, reading a file under ``root`` that is not in ``inputs``, in a run
    directory of one (the folder of an input file, or an input folder) or in ``writable`` raises
    a one-line :class:`MissingInputError` naming the file, ``what`` reads it and where to
    ``declare`` it."""
    global _guard, _hook_installed
    allowed = set()
    for p in inputs:
        real = os.path.realpath(p)
        allowed.add(real if os.path.isdir(real) else os.path.dirname(real))
    allowed |= {os.path.realpath(p) for p in writable}
    if not _hook_installed:
        sys.addaudithook(_audit)
        _hook_installed = True
    previous = _guard
    _guard = {"root": os.path.realpath(root) + os.sep, "allowed": sorted(allowed), "what": what,
              "declare": declare}
    try:
        yield
    finally:
        _guard = previous
