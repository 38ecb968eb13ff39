"""Registries of methods and search spaces, and the loader of method plug-ins.

A method is a class or factory registered under a name with :func:`register_method`; it
belongs to one paper and has a ``kind`` (``sampler``, ``searcher``, ``predictor``, ...) that
says which protocol it implements. Plug-ins live in the top-level ``methods/`` folder and are
imported by :func:`load_plugins`; ``nasrepro`` itself never imports ``methods``.
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasrepro.errors import UnknownNameError
from nasrepro.io import stable_hash


@dataclass(frozen=True)
class MethodEntry:
    """One registered method."""

    name: str
    paper: str
    kind: str
    factory: Callable[..., Any]
    description: str


_METHODS: dict[tuple[str, str], MethodEntry] = {}
_LOADED_DIRS: set[str] = set()


def register_method(name: str, *, paper: str, kind: str, description: str = "") -> Callable:
    """Class/function decorator registering a method under ``(paper, name)``.

    Args:
        name: the name used in config files (e.g. ``"uniform"``).
        paper: the paper whose experiments use it (``spos``, ``darts_snas``, ...).
        kind: the protocol it implements (``sampler``, ``searcher``, ...).
        description: one line for ``nasrepro methods``; defaults to the docstring's first line.
    """

    def deco(obj: Any) -> Any:
        doc = description or (obj.__doc__ or "").strip().splitlines()[0:1]
        if isinstance(doc, list):
            doc = doc[0] if doc else ""
        _METHODS[(paper, name)] = MethodEntry(name, paper, kind, obj, doc)
        return obj

    return deco


def methods_dirs() -> list[Path]:
    """``methods/`` beside the package, then every folder listed in ``$NASREPRO_METHODS``
    (``os.pathsep``-separated): where plug-ins are looked for."""
    dirs = [Path(__file__).resolve().parent.parent / "methods"]
    env = os.environ.get("NASREPRO_METHODS", "")
    dirs += [Path(d) for d in env.split(os.pathsep) if d]
    return dirs


def load_plugins(methods_dir: str | os.PathLike | None = None) -> None:
    """Import every ``*.py`` module of the plug-in folders (once), so their methods register."""
    if methods_dir is None:
        for directory in methods_dirs():
            load_plugins(directory)
        return
    directory = Path(methods_dir)
    key = str(directory.resolve())
    if key in _LOADED_DIRS or not directory.is_dir():
        return
    _LOADED_DIRS.add(key)
    for path in sorted(directory.glob("*.py")):
        if path.name.startswith("_"):
            continue
        mod_name = f"nasrepro_methods_{stable_hash(key, 8)}_{path.stem}"
        if mod_name in sys.modules:
            continue
        spec = importlib.util.spec_from_file_location(mod_name, path)
        assert spec is not None and spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[mod_name] = module
        spec.loader.exec_module(module)


def get_method(paper: str, name: str, kind: str | None = None) -> MethodEntry:
    """Look up a registered method; unknown names raise a one-line error listing the known."""
    load_plugins()
    entry = _METHODS.get((paper, name))
    if entry is None or (kind is not None and entry.kind != kind):
        known = sorted(e.name for e in _METHODS.values()
                       if e.paper == paper and (kind is None or e.kind == kind))
        what = f"{kind} " if kind else ""
        raise UnknownNameError(
            f"unknown {what}method '{name}' for paper '{paper}'; "
            f"known: {', '.join(known) or 'none'}"
            f" (add a module to methods/ that uses @register_method, or fix the config)"
        )
    return entry


def list_methods(paper: str | None = None) -> list[MethodEntry]:
    """All registered methods (after loading plug-ins), sorted by paper, kind, name."""
    load_plugins()
    return sorted(
        (e for e in _METHODS.values() if paper is None or e.paper == paper),
        key=lambda e: (e.paper, e.kind, e.name),
    )
