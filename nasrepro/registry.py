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

Each method declares a typed *settings* class (a dataclass; ``settings=`` of
:func:`register_method`) and its factory receives an instance of it, never a config dict.
:func:`resolve_settings` fills each field from ``<paper>.method_settings.<name>`` (the method's
own place in the config: an unknown key or a value of the wrong type is a one-line
:class:`~nasrepro.errors.ConfigError`), else from the pipeline's shared section (e.g.
``spos.search`` for a searcher's ``population``), else from the field's default.
"""

from __future__ import annotations

import dataclasses
import importlib.util
import os
import sys
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasrepro.config import PAPERS  # the pipelines of the suite; a method names those that run it
from nasrepro.errors import ConfigError, NasreproError, UnknownNameError
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
    settings: type | None = None

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
                    settings: type | None = None, description: str = "") -> Callable:
    """Decorator registering a factory under ``(kind, name)``.

    Args:
        name: the name used in config files (e.g. ``"uniform"``).
        kind: the protocol it implements, a key of :data:`KINDS`.
        papers: the pipelines that can run it (a subset of :data:`PAPERS`).
        settings: its typed settings, a dataclass (``None``: it takes none); the factory gets
            an instance from :func:`resolve_settings`.
        description: one line for ``nasrepro methods``; defaults to the docstring's first line.

    Raises:
        RegistryError: unknown kind or paper, settings that are not a dataclass, or
            ``(kind, name)`` already registered by another factory.
    """
    if kind not in KINDS:
        raise RegistryError(f"method '{name}' has unknown kind '{kind}'; use one of "
                            f"{', '.join(KINDS)}")
    bad = [p for p in papers if p not in PAPERS]
    if bad or not papers:
        raise RegistryError(f"method '{name}' names unknown papers {bad or '(none)'}; use some "
                            f"of {', '.join(PAPERS)}")
    if settings is not None and not (isinstance(settings, type)
                                     and dataclasses.is_dataclass(settings)):
        raise RegistryError(f"method '{name}' declares settings {settings!r}, which is not a "
                            "dataclass; use @dataclass class ...Settings")

    def deco(obj: Any) -> Any:
        entry = MethodEntry(name, kind, tuple(papers), obj, description or _first_doc_line(obj),
                            settings)
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


# --- typed settings -------------------------------------------------------------------------
def settings_fields(entry: MethodEntry) -> dict[str, Any]:
    """``{field: default}`` of a method's settings (``dataclasses.MISSING``: required)."""
    if entry.settings is None:
        return {}
    out: dict[str, Any] = {}
    for f in dataclasses.fields(entry.settings):
        if f.default is not dataclasses.MISSING:
            out[f.name] = f.default
        elif f.default_factory is not dataclasses.MISSING:
            out[f.name] = f.default_factory()
        else:
            out[f.name] = dataclasses.MISSING
    return out


def _accepts(hint: Any, value: Any) -> tuple[bool, Any]:
    """Whether ``value`` fits the annotation ``hint`` (ints pass as floats, lists as tuples),
    and the value converted to it."""
    origin = typing.get_origin(hint)
    if hint is Any:
        return True, value
    if origin in (typing.Union, types.UnionType):
        for arm in typing.get_args(hint):
            ok, conv = _accepts(arm, value)
            if ok:
                return True, conv
        return False, value
    if hint is type(None):
        return value is None, value
    if origin is typing.Literal:
        return value in typing.get_args(hint), value
    if hint is bool:
        return isinstance(value, bool), value
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool), value
    if hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        return ok, float(value) if ok else value
    if hint is str:
        return isinstance(value, str), value
    if origin in (tuple, list) or hint in (tuple, list):
        if not isinstance(value, (list, tuple)):
            return False, value
        args = [a for a in typing.get_args(hint) if a is not Ellipsis]
        conv = []
        for i, item in enumerate(value):
            arm = args[min(i, len(args) - 1)] if args else Any
            ok, c = _accepts(arm, item)
            if not ok:
                return False, value
            conv.append(c)
        return True, tuple(conv) if (origin or hint) is tuple else conv
    if isinstance(hint, type):
        return isinstance(value, hint), value
    return True, value


def _type_name(hint: Any) -> str:
    return getattr(hint, "__name__", None) or str(hint).replace("typing.", "")


def resolve_settings(entry: MethodEntry, config: Mapping, paper: str,
                     *shared: Mapping | None) -> Any:
    """The typed settings of ``entry`` in ``paper``'s pipeline (``None`` if it takes none).

    Each field comes from ``config[paper]["method_settings"][entry.name]`` when given there,
    else from the first of the ``shared`` sections that has it (the pipeline's own section,
    e.g. ``spos.search``), else from its default.

    Raises:
        ConfigError: (one line) a key of ``method_settings.<name>`` that is no field of the
            method's settings, a value of the wrong type, a required field given nowhere, or a
            ``method_settings`` entry that names no method the paper lists.
    """
    section = config.get(paper) or {}
    own_all = section.get("method_settings") or {}
    listed = {name for names in (section.get("methods") or {}).values() for name in names or []}
    stray = sorted(set(own_all) - listed)
    if stray:
        raise ConfigError(f"invalid config key '{paper}.method_settings.{stray[0]}': no method "
                          f"of that name is listed in {paper}.methods (listed: "
                          f"{', '.join(sorted(listed)) or 'none'}); fix the name or list it")
    own = own_all.get(entry.name) or {}
    where = f"{paper}.method_settings.{entry.name}"
    if entry.settings is None:
        if own:
            raise ConfigError(f"invalid config key '{where}': {entry.kind} '{entry.name}' takes "
                              "no settings; remove it")
        return None
    fields = settings_fields(entry)
    unknown = sorted(set(own) - set(fields))
    if unknown:
        raise ConfigError(f"invalid config key '{where}.{unknown[0]}': {entry.kind} "
                          f"'{entry.name}' has no setting '{unknown[0]}'; its settings: "
                          f"{', '.join(fields)}")
    hints = typing.get_type_hints(entry.settings)
    values: dict[str, Any] = {}
    for name, default in fields.items():
        if name in own:
            value, src = own[name], f"{where}.{name}"
        else:
            found = [s for s in shared if s is not None and name in s]
            if found:
                value, src = found[0][name], f"the {paper} section's '{name}'"
            elif default is dataclasses.MISSING:
                raise ConfigError(f"{entry.kind} '{entry.name}' needs setting '{name}'; give it "
                                  f"in {where}")
            else:
                continue
        ok, conv = _accepts(hints.get(name, Any), value)
        if not ok:
            raise ConfigError(f"invalid config value {value!r} for {src}: {entry.kind} "
                              f"'{entry.name}' wants {_type_name(hints.get(name, Any))}; fix "
                              "the value")
        values[name] = conv
    return entry.settings(**values)


#: where each pipeline keeps the shared settings of a kind: keys under ``config[paper]``
#: (``()``: the paper's section itself); a field of a method's settings is read there when
#: ``<paper>.method_settings.<name>`` does not give it
SHARED_SETTINGS: dict[tuple[str, str], tuple[str, ...]] = {
    ("spos", "sampler"): (),
    ("spos", "searcher"): ("search",),
    ("attentivenas", "sampler"): ("attentive",),
    ("attentivenas", "searcher"): ("search",),
    ("attentivenas", "predictor"): ("predictor",),
    ("darts_snas", "relaxation"): (),
    ("darts_snas", "searcher"): (),
    ("fbnetv3", "predictor"): ("predictor",),
}


def method_settings(config: Mapping, paper: str, kind: str, name: str) -> Any:
    """The typed settings of the ``kind`` method ``name`` in ``paper``'s pipeline
    (:func:`resolve_settings` with the pipeline's shared section, :data:`SHARED_SETTINGS`)."""
    section: Any = config.get(paper) or {}
    for key in SHARED_SETTINGS.get((paper, kind), ()):
        section = section.get(key) or {}
    return resolve_settings(get_method(kind, name, paper=paper), config, paper, section)


def check_method_settings(config: Mapping) -> None:
    """Resolve the settings of every method every paper lists, so a bad
    ``method_settings`` entry fails before any job runs (one-line ConfigError)."""
    for paper in PAPERS:
        section = config.get(paper)
        if not isinstance(section, Mapping):
            continue
        own = section.get("method_settings") or {}
        for kind, names in (section.get("methods") or {}).items():
            for name in names or []:
                if own or get_method(kind, name, paper=paper).settings is not None:
                    method_settings(config, paper, kind, name)
