"""Searchers (registry kind ``searcher``): find archs with a batched ``evaluate``.

One signature: ``(space, evaluate, budget, *, constraint, seed, settings, progress) ->
SearchResult``, where ``budget`` is the number of candidates to evaluate and ``settings`` the
searcher's typed settings (population, top-k, crossover, mutation; filled from
``<paper>.method_settings.<name>``, else ``spos.search`` / ``attentivenas.search``). Random
search, SPOS evolution (Algorithm 1) and AttentiveNAS's Pareto evolution run in both supernet
pipelines; the random cell (DARTS Sec. 3.3 baseline) is the ``darts_snas`` searcher that needs
no evaluation. Each entry only combines library parts of :mod:`nasrepro.search`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch

from nasrepro.registry import register_method
from nasrepro.search import Evaluate, SearchResult, evolution_search, random_search
from nasrepro.search.pareto_evolution import pareto_evolution_search
from nasrepro.spaces.base import SearchSpace
from nasrepro.spaces.darts import NUM_OPS, derive_darts

SUPERNET_PAPERS = ("spos", "attentivenas")


@dataclass(frozen=True)
class EvolutionSettings:
    """SPOS Algorithm 1 (defaults: the official code's population 50, top-10, 25 crossovers,
    25 mutations with probability 0.1); the generations follow from the budget."""

    population: int = 50
    topk: int = 10
    n_crossover: int = 25
    n_mutation: int = 25
    mutation_prob: float = 0.1


@dataclass(frozen=True)
class RandomSearchSettings:
    """``population``: candidates evaluated per batch (the evolution's, so both searchers see
    the same batches)."""

    population: int = 50


def _evolution_kwargs(budget: int, settings: EvolutionSettings) -> dict[str, Any]:
    return dict(population=settings.population,
                generations=max(1, budget // settings.population), topk=settings.topk,
                n_crossover=settings.n_crossover, n_mutation=settings.n_mutation,
                mutation_prob=settings.mutation_prob)


@register_method("evolution", kind="searcher", papers=SUPERNET_PAPERS,
                 settings=EvolutionSettings)
def evolution(space: SearchSpace, evaluate: Evaluate, budget: int, *, constraint: Any,
              seed: int, settings: EvolutionSettings,
              progress: bool = False) -> SearchResult:
    """Evolutionary search, SPOS Algorithm 1 (population, top-k, crossover, mutation)."""
    return evolution_search(space, evaluate, constraint=constraint, seed=seed,
                            progress=progress, **_evolution_kwargs(budget, settings))


@register_method("pareto-evolution", kind="searcher", papers=SUPERNET_PAPERS,
                 settings=EvolutionSettings)
def pareto_evolution(space: SearchSpace, evaluate: Evaluate, budget: int, *, constraint: Any,
                     seed: int, settings: EvolutionSettings,
                     progress: bool = False) -> SearchResult:
    """Evolution with Pareto (accuracy vs MACs) parent selection (AttentiveNAS)."""
    return pareto_evolution_search(space, evaluate, constraint=constraint, seed=seed,
                                   progress=progress, **_evolution_kwargs(budget, settings))


@register_method("random", kind="searcher", papers=SUPERNET_PAPERS,
                 settings=RandomSearchSettings)
def random(space: SearchSpace, evaluate: Evaluate, budget: int, *, constraint: Any, seed: int,
           settings: RandomSearchSettings, progress: bool = False) -> SearchResult:
    """Random search with the same number of evaluated candidates as evolution."""
    return random_search(space, evaluate, constraint=constraint, seed=seed, progress=progress,
                         n_evals=budget, batch_size=settings.population)


@register_method("random-cell", kind="searcher", papers=("darts_snas",))
def random_cell(space: SearchSpace, evaluate: Evaluate | None, budget: int, *,
                constraint: Any, seed: int, settings: None = None,
                progress: bool = False) -> SearchResult:
    """Random cells: N(0, 1) logits derived with the DARTS rule (2 edges per node); nothing
    is evaluated (the fitness is NaN)."""
    g = torch.Generator().manual_seed(10_000 + int(seed))
    normal = torch.randn(space.num_edges, NUM_OPS, generator=g)
    reduce = torch.randn(space.num_edges, NUM_OPS, generator=g)
    arch = derive_darts(normal, reduce, steps=space.steps)
    cost = space.cost(arch)
    entry = {"n": 1, "generation": 0, "arch": arch, "arch_id": space.arch_id(arch),
             "fitness": float("nan"), "macs": cost.macs, "params": cost.params}
    return SearchResult.from_evaluated([entry], meta={"searcher": "random-cell", "seed": seed})
