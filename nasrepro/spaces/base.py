"""The search-space protocol shared by every paper, and the registry of spaces/presets.

A *space* knows how to encode, validate, sample, mutate and cross over architectures (plain
JSON dicts, see DESIGN.md), how to compute their analytic cost (MACs of conv + linear layers
and learnable params of the standalone network), and how to build both the standalone
network of one arch and the weight-sharing supernet of the whole space. A *preset* fixes the
space's hyperparameters (input size, widths, depths, classes); ``"spos/imagenet"`` names
space ``spos`` with preset ``imagenet``.
"""

from __future__ import annotations

import random
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from torch import nn

from nasrepro.errors import ConfigError, UnknownNameError
from nasrepro.io import stable_hash

Arch = dict[str, Any]


@dataclass(frozen=True)
class Cost:
    """Analytic cost of one architecture: MACs (conv + linear) and learnable params."""

    macs: int
    params: int

    def as_dict(self) -> dict[str, int]:
        return {"macs": int(self.macs), "params": int(self.params)}


class SearchSpace(ABC):
    """One search space with one preset. Subclasses implement the abstract methods."""

    #: space name, e.g. ``"spos"``
    name: str = ""

    def __init__(self, preset: str, **settings: Any) -> None:
        self.preset = preset
        self.settings = settings

    @property
    def full_name(self) -> str:
        return f"{self.name}/{self.preset}"

    def _fail(self, msg: str) -> ConfigError:
        """A one-line settings error prefixed with the space's full name."""
        return ConfigError(f"space {self.full_name}: {msg}")

    def _check_setting_keys(self, settings: dict[str, Any], known: frozenset[str]) -> None:
        """Unknown or missing preset settings -> one-line :class:`ConfigError`."""
        unknown = sorted(set(settings) - known)
        missing = sorted(known - set(settings))
        if unknown:
            raise self._fail(f"unknown setting(s) {', '.join(unknown)}; known: "
                             f"{', '.join(sorted(known))}")
        if missing:
            raise self._fail(f"missing setting(s) {', '.join(missing)}; add them to the preset")

    # --- encoding -----------------------------------------------------------------------
    @abstractmethod
    def validate(self, arch: Any) -> Arch:
        """Return the canonical arch dict, or raise :class:`ArchError` naming the problem."""

    def arch_id(self, arch: Arch) -> str:
        """Stable short hash of the canonical arch."""
        return stable_hash(self.validate(arch))

    @abstractmethod
    def features(self, arch: Arch) -> list[float]:
        """Numeric feature vector of an arch (for predictors)."""

    # --- sampling and variation -----------------------------------------------------------
    @abstractmethod
    def sample(self, rng: random.Random) -> Arch:
        """A uniformly random arch."""

    @abstractmethod
    def mutate(self, arch: Arch, rng: random.Random, prob: float) -> Arch:
        """Resample each gene independently with probability ``prob``."""

    @abstractmethod
    def crossover(self, a: Arch, b: Arch, rng: random.Random) -> Arch:
        """Uniform crossover: each gene from ``a`` or ``b`` with probability 1/2."""

    # --- cost and networks ----------------------------------------------------------------
    @abstractmethod
    def cost(self, arch: Arch) -> Cost:
        """Analytic MACs/params of the standalone network of ``arch``."""

    @abstractmethod
    def build(self, arch: Arch) -> nn.Module:
        """The standalone network of ``arch`` (``forward(x) -> logits``), affine BN."""

    @abstractmethod
    def build_supernet(self) -> nn.Module:
        """The weight-sharing supernet (``forward(x, arch) -> logits``)."""

    @property
    @abstractmethod
    def input_shape(self) -> tuple[int, int, int]:
        """(channels, height, width) of the network input."""


_SPACES: dict[str, Callable[..., SearchSpace]] = {}
_PRESETS: dict[str, dict[str, dict[str, Any]]] = {}


def register_space(name: str, presets: dict[str, dict[str, Any]]) -> Callable:
    """Class decorator: register a space class with its named presets (settings dicts)."""

    def deco(cls: type[SearchSpace]) -> type[SearchSpace]:
        cls.name = name
        _SPACES[name] = cls
        _PRESETS[name] = presets
        return cls

    return deco


def _ensure_builtin_spaces() -> None:
    # importing the modules registers them
    from nasrepro.spaces import darts, fbnetv3, mobilenet, spos  # noqa: F401


def list_spaces() -> dict[str, list[str]]:
    """``{space: [preset, ...]}`` of every registered space."""
    _ensure_builtin_spaces()
    return {name: sorted(p) for name, p in sorted(_PRESETS.items())}


def get_space(spec: str, **overrides: Any) -> SearchSpace:
    """Build a space from ``"SPACE/PRESET"``, e.g. ``"spos/imagenet"``.

    ``overrides`` replace preset settings (e.g. ``num_classes=10``).
    """
    _ensure_builtin_spaces()
    if "/" not in spec:
        raise UnknownNameError(
            f"space '{spec}' has no preset; write SPACE/PRESET, e.g. "
            f"{', '.join(f'{s}/{p[0]}' for s, p in list_spaces().items())}"
        )
    name, preset = spec.split("/", 1)
    if name not in _SPACES:
        raise UnknownNameError(
            f"unknown space '{name}'; known spaces: {', '.join(sorted(_SPACES))} "
            f"(run `nasrepro spaces`)"
        )
    if preset not in _PRESETS[name]:
        raise UnknownNameError(
            f"unknown preset '{preset}' for space '{name}'; known presets: "
            f"{', '.join(sorted(_PRESETS[name]))} (run `nasrepro spaces`)"
        )
    settings = dict(_PRESETS[name][preset])
    settings.update(overrides)
    return _SPACES[name](preset, **settings)
