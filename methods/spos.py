"""SPOS methods (Guo et al. 2019): path samplers and searchers, registered for the DAG.

Each entry only combines library parts: samplers from :mod:`nasrepro.samplers`, searchers
from :mod:`nasrepro.search`. Add your own in a new module beside this one and list its name
in ``spos.samplers`` / ``spos.searchers`` of the config.
"""

from __future__ import annotations

from typing import Any

from nasrepro.registry import register_method
from nasrepro.samplers import MacsBinnedSampler, UniformSampler, default_macs_bins
from nasrepro.search import evolution_search, random_search


@register_method("uniform", paper="spos", kind="sampler")
def uniform(space: Any, seed: int, **_: Any) -> UniformSampler:
    """Uniform single-path sampling (the paper)."""
    return UniformSampler(space, seed)


@register_method("flops-binned", paper="spos", kind="sampler")
def flops_binned(space: Any, seed: int, macs_bins: list[float] | None = None,
                 **_: Any) -> MacsBinnedSampler:
    """Uniform bin of MACs, then a uniform path inside it (official code)."""
    if macs_bins is None:
        edges = default_macs_bins(space)
    else:
        low, high, n = macs_bins
        step = (high - low) / int(n)
        edges = [low + i * step for i in range(int(n) + 1)]
    return MacsBinnedSampler(space, seed, edges)


@register_method("evolution", paper="spos", kind="searcher")
def evolution(space: Any, evaluate: Any, *, constraint: Any, seed: int, settings: dict,
              progress: bool = False) -> Any:
    """Evolutionary search, Algorithm 1 (population, top-k, crossover, mutation)."""
    return evolution_search(
        space, evaluate, constraint=constraint, seed=seed, progress=progress,
        population=settings["population"], generations=settings["generations"],
        topk=settings["topk"], n_crossover=settings["n_crossover"],
        n_mutation=settings["n_mutation"], mutation_prob=settings["mutation_prob"],
    )


@register_method("random", paper="spos", kind="searcher")
def random(space: Any, evaluate: Any, *, constraint: Any, seed: int, settings: dict,
           progress: bool = False) -> Any:
    """Random search with the same number of evaluated candidates as evolution."""
    return random_search(space, evaluate, constraint=constraint, seed=seed, progress=progress,
                         n_evals=settings["population"] * settings["generations"],
                         batch_size=settings["population"])
