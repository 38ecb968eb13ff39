"""Uniform path sampling (SPOS, Guo et al. 2019, Sec. 3.2) and its MACs-binned variant.

The paper samples every choice uniformly. The official code (SinglePathOneShot
``src/Supernet/train.py``, ``get_uniform_sample_cand``) instead first picks one of 7 FLOPs
bins (290-360M in 10M steps) uniformly and then rejection-samples a uniform path inside it
(500 tries, then any path), which flattens the FLOPs distribution of trained paths. Both are
offered; bins for small presets default to the 5th-95th percentile of the space's MACs.
"""

from __future__ import annotations

import random
from typing import Any

import numpy as np

from nasrepro.spaces.base import Arch, SearchSpace


class UniformSampler:
    """Uniform sampling of every searched choice (the paper's rule)."""

    def __init__(self, space: SearchSpace, seed: int) -> None:
        self.space = space
        self.rng = random.Random(seed)

    def sample(self) -> Arch:
        return self.space.sample(self.rng)

    def __call__(self, model: Any = None, x: Any = None, y: Any = None,
                 ctx: Any = None) -> list[Arch]:
        """The sampler protocol (:mod:`nasrepro.samplers.protocol`): one path, the model and
        batch unused."""
        return [self.sample()]

    def state_dict(self) -> dict[str, Any]:
        return {"rng": self.rng.getstate()}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        rng_state = state["rng"]
        # tuples may come back as lists after serialisation
        self.rng.setstate((rng_state[0], tuple(rng_state[1]), rng_state[2]))


def default_macs_bins(space: SearchSpace, n_bins: int = 7, n_samples: int = 2000,
                      seed: int = 0) -> list[float]:
    """Bin edges spanning the 5th-95th percentile of the MACs of uniform random archs."""
    rng = random.Random(seed)
    macs = np.array([space.cost(space.sample(rng)).macs for _ in range(n_samples)], dtype=float)
    low, high = np.percentile(macs, [5, 95])
    return [float(x) for x in np.linspace(low, high, n_bins + 1)]


class MacsBinnedSampler(UniformSampler):
    """Pick a MACs bin uniformly, then a uniform path inside it (official SPOS code)."""

    def __init__(self, space: SearchSpace, seed: int, edges: list[float],
                 max_tries: int = 500) -> None:
        super().__init__(space, seed)
        if len(edges) < 2 or any(b <= a for a, b in zip(edges, edges[1:], strict=False)):
            raise ValueError(f"MACs bin edges must be increasing, got {edges}")
        self.edges = [float(e) for e in edges]
        self.max_tries = max_tries

    def sample(self) -> Arch:
        i = self.rng.randrange(len(self.edges) - 1)
        low, high = self.edges[i], self.edges[i + 1]
        for _ in range(self.max_tries):
            arch = self.space.sample(self.rng)
            if low <= self.space.cost(arch).macs <= high:
                return arch
        return self.space.sample(self.rng)  # official fallback: any path
