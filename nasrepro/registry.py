"""Registries of methods by kind, and the loader of method plug-ins.

A method is a factory registered under a ``(kind, name)`` with :func:`register_method`. Its
*kind* says which protocol it implements (one per kind, :data:`KINDS`); its *papers* say which
pipelines can run it (every pipeline that uses the kind and whose inputs the method needs). A
name is unique within its kind: a second registration under the same ``(kind, name)`` raises,
so a plug-in can never silently replace a built-in. Plug-ins live in the top-level ``methods/``
folder (and the folders of ``$NASREPRO_METHODS``) and are imported by :func:`load_plugins`;
``nasrepro`` itself never imports ``methods``.

The four kinds (issue 14; the protocols are spelled out in :data:`KINDS`):

* ``sampler`` -- the path/subnet a supernet trains at each step: SPOS uniform and FLOPs-binned
  paths (Guo et al. 2019, Sec. 3.2), AttentiveNAS uniform / BestUp / WorstUp (Wang et al. 2021,
  Sec. 3.2);
* ``relaxation`` -- the architecture steps of a differentiable search (DARTS softmax, SNAS
  Gumbel softmax with its resource penalty);
* ``searcher`` -- finds archs with a batched ``evaluate``: random, evolution (SPOS Algorithm 1),
  Pareto evolution (AttentiveNAS), random cells (the DARTS random baseline);
* ``predictor`` -- fit on (candidate, accuracy) pairs, then score candidates: the FBNetV3
  predictor (with / without proxy pretraining) and the random forest (AttentiveNAS).
"""

from __future__ import annotations

import importlib.util
import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasrepro.errors import NasreproError, UnknownNameError
from nasrepro.io import stable_hash

#: kind -> its protocol (one line each; shown by ``nasrepro methods --kinds``).
KINDS: dict[str, str] = {
    "sampler": "factory(space, seed, context: SamplerContext) -> sampler; "
               "sampler(model, x, y, ctx) -> list of archs to train on the batch",
    "relaxation": "factory(space, *, seed, settings, epochs, edge_costs, penalty_lambda) -> "
                  "architecture step for nasrepro.training.train (arch, rule, eval_weights())",
    "searcher": "factory(space, evaluate, budget, *, constraint, seed, settings, progress) -> "
                "SearchResult",
    "predictor": "factory(space, candidates, targets, *, seed, settings, pretrained) -> "
                 "score(candidates) -> accuracies",
}

#: the pipelines (papers) of the suite; a method names the ones that can run it.
PAPERS = ("spos", "darts_snas", "attentivenas", "fbnetv3")


class RegistryError(NasreproError):
    """A method registration is invalid (unknown kind or paper, duplicate name)."""


@dataclass(frozen=True)
class MethodEntry:
    """One registered method."""

    name: str
    kind: str
    papers: tuple[str, ...]
    factory: Callable[..., Any]
    description: str

    @property
    def source(self) -> str:
        """``module.function`` of the factory (named in duplicate-registration errors)."""
        return f"{getattr(self.factory, '__module__', '?')}.{self.factory.__qualname__}"


_METHODS: dict[tuple[str, str], MethodEntry] = {}
_LOADED_DIRS: set[str] = set()


def _first_doc_line(obj: Any) -> str:
    lines = (obj.__doc__ or "").strip().splitlines()
    return lines[0] if lines else ""


def register_method(name: str, *, kind: str, papers: tuple[str, ...] | list[str],
                    description: str = "") -> Callable:
    """Decorator registering a factory under ``(kind, name)``.

    Args:
        name: the name used in config files (e.g. ``"uniform"``).
        kind: the protocol it implements, a key of :data:`KINDS`.
        papers: the pipelines that can run it (a subset of :data:`PAPERS`).
        description: one line for ``nasrepro methods``; defaults to the docstring's first line.

    Raises:
        RegistryError: unknown kind or paper, or ``(kind, name)`` already registered by
            another factory.
    """
    if kind not in KINDS:
        raise RegistryError(f"method '{name}' has unknown kind '{kind}'; use one of "
                            f"{', '.join(KINDS)}")
    bad = [p for p in papers if p not in PAPERS]
    if bad or not papers:
        raise RegistryError(f"method '{name}' names unknown papers {bad or '(none)'}; use some "
                            f"of {', '.join(PAPERS)}")

    def deco(obj: Any) -> Any:
        entry = MethodEntry(name, kind, tuple(papers), obj, description or _first_doc_line(obj))
        old = _METHODS.get((kind, name))
        if old is not None and old.source != entry.source:
            raise RegistryError(f"{kind} '{name}' is registered twice ({old.source} and "
                                f"{entry.source}); rename one of them")
        _METHODS[(kind, name)] = entry
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


def get_method(kind: str, name: str, paper: str | None = None) -> MethodEntry:
    """The method ``name`` of ``kind``; with ``paper``, also check that paper can run it.

    Raises:
        UnknownNameError: one line listing the known methods of the kind (for the paper).
    """
    load_plugins()
    if kind not in KINDS:
        raise UnknownNameError(f"unknown method kind '{kind}'; known: {', '.join(KINDS)}")
    entry = _METHODS.get((kind, name))
    where = f" for paper '{paper}'" if paper else ""
    known = ", ".join(e.name for e in list_methods(kind=kind, paper=paper)) or "none"
    if entry is None:
        raise UnknownNameError(
            f"unknown {kind} '{name}'{where}; known: {known} (add a module to methods/ that "
            f"uses @register_method(..., kind='{kind}'), or fix the config)")
    if paper is not None and paper not in entry.papers:
        raise UnknownNameError(
            f"{kind} '{name}' runs in {', '.join(entry.papers)}, not in {paper} (its inputs "
            f"are not made there); {kind}s of {paper}: {known}")
    return entry


def list_methods(paper: str | None = None, kind: str | None = None) -> list[MethodEntry]:
    """Registered methods (after loading plug-ins), optionally of one paper and/or kind,
    sorted by kind then name."""
    load_plugins()
    return sorted((e for e in _METHODS.values()
                   if (paper is None or paper in e.papers) and (kind is None or e.kind == kind)),
                  key=lambda e: (list(KINDS).index(e.kind), e.name))
