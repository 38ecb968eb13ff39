"""Pareto (accuracy vs. MACs) evolutionary search on a supernet (AttentiveNAS, Wang et al. 2021,
Sec. 4 / Fig. 4-5: the accuracy-vs-FLOPs fronts of the trained supernets).

The loop is the shared :func:`nasrepro.search.evolution.evolution_search` (SPOS Algorithm 1);
only the parent selection differs: :func:`select_pareto` takes parents front by front
(non-dominated sorting of ``(macs, fitness)``, cost minimised, accuracy maximised), and inside
the last front that does not fit entirely it keeps points spread evenly over its MACs range, so
mutation and crossover keep improving the whole front rather than its most accurate end.
:func:`pareto_evolution_search` is that loop with that selection.
"""

from __future__ import annotations

from typing import Any

from nasrepro.metrics.pareto import pareto_front
from nasrepro.search.evolution import evolution_search
from nasrepro.search.result import Evaluate, SearchResult

__all__ = ["non_dominated_fronts", "pareto_evolution_search", "select_pareto"]


def non_dominated_fronts(entries: list[dict]) -> list[list[dict]]:
    """Entries grouped into successive Pareto fronts of ``(macs, fitness)`` (each by MACs)."""
    rest = list(entries)
    fronts: list[list[dict]] = []
    while rest:
        idx = pareto_front([(e["macs"], e["fitness"]) for e in rest])
        if not idx:  # only non-finite fitness left
            fronts.append(sorted(rest, key=lambda e: e["macs"]))
            break
        fronts.append([rest[i] for i in idx])
        taken = set(idx)
        rest = [e for i, e in enumerate(rest) if i not in taken]
    return fronts


def _spread(front: list[dict], k: int) -> list[dict]:
    """``k`` entries of a front (sorted by MACs) at evenly spaced positions, ends included."""
    if k >= len(front):
        return list(front)
    if k == 1:
        return [max(front, key=lambda e: e["fitness"])]
    n = len(front)
    picks = sorted({round(i * (n - 1) / (k - 1)) for i in range(k)})
    extra = [i for i in range(n) if i not in picks]
    picks = sorted(picks + extra[: k - len(picks)])
    return [front[i] for i in picks]


def select_pareto(evaluated: list[dict], k: int) -> list[dict]:
    """Parents: the first ``k`` entries by Pareto rank, the last partial front spread by MACs.

    A :data:`~nasrepro.search.evolution.Select` for ``evolution_search``; deterministic.
    """
    parents: list[dict] = []
    for front in non_dominated_fronts(evaluated):
        if len(parents) + len(front) <= k:
            parents.extend(front)
        else:
            parents.extend(_spread(front, k - len(parents)))
        if len(parents) >= k:
            break
    return parents


def pareto_evolution_search(space: Any, evaluate: Evaluate, **kwargs: Any) -> SearchResult:
    """:func:`evolution_search` with :func:`select_pareto` (same arguments, ``select`` fixed).

    The result's ``best`` is the most accurate arch; the front is
    ``pareto_front([(e["macs"], e["fitness"]) for e in result.evaluated])``.
    """
    result = evolution_search(space, evaluate, select=select_pareto, **kwargs)
    result.meta["searcher"] = "pareto-evolution"
    return result
