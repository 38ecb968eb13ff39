"""FBNetV3's search (Dai et al. 2021, Sec. 3.2-3.3 / Alg. 1; PAPERS.md section 4): Sobol pool,
coarse constrained iterative optimisation with early stopping, predictor-scored fine evolution.

* :func:`sobol_pool`: candidates from a scrambled Sobol sequence (``scipy.stats.qmc.Sobol``)
  over the unit-cube view of the joint space (arch genes + recipe fields), filtered by the
  resource (MACs) constraint, duplicates dropped, in Sobol order.
* :func:`coarse_search`: iteration 0 trains the first ``batch_size`` pool candidates *fully*,
  logging validation accuracy every epoch; :func:`choose_early_stop_epoch` picks the earliest
  epoch whose ranking agrees with the final ranking (rank correlation >= ``threshold``); later
  iterations train candidates only that long. The measured score of a candidate is its
  accuracy at the early-stopping epoch (its last epoch if it trains fewer). After every
  iteration the predictor is refitted on all measured candidates and scores the rest of the
  pool; the next batch is its top ``(1 - explore)`` share plus random pool members
  (exploration). ``heldout`` candidates of every later batch (drawn from their own seed stream)
  train to the end: their accuracy at the early-stopping epoch against their final accuracy
  tests the early-stopping rule on candidates it was not chosen on (claim F4); their score is
  still the early-stop accuracy (the loop's schedules do not depend on where it stops).
* :func:`fine_search`: the shared evolution loop (:func:`nasrepro.search.evolution_search`),
  started from the best coarse candidates, scored by the predictor alone (one batched call per
  generation), stopped when the best score has not improved for ``patience`` generations.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy.stats import qmc

from nasrepro.errors import ConfigError
from nasrepro.metrics.ranking import kendall_tau, spearman
from nasrepro.search.evolution import evolution_search
from nasrepro.search.result import SearchResult

#: ``train_fn(candidates, stop_epochs) -> per-candidate list of per-epoch accuracies``;
#: ``stop_epochs[i]`` is candidate i's last epoch (None: train fully)
TrainFn = Callable[[list[dict], list[int | None]], list[list[float]]]
#: ``fit_fn(candidates, scores, iteration) -> score_fn``; ``score_fn(cands) -> np.ndarray``
FitFn = Callable[[list[dict], list[float], int], Callable[[Sequence[dict]], np.ndarray]]


def sobol_pool(space: Any, n: int, *, seed: int, constraint: Callable[[dict], bool] | None = None,
               max_draws: int | None = None) -> list[dict]:
    """``n`` unique candidates satisfying ``constraint`` from a scrambled Sobol sequence.

    Points are drawn in powers of two (Sobol's balance properties hold per power of two) until
    ``n`` legal unique candidates are found or ``max_draws`` points were drawn.

    Args:
        space: anything with ``n_unit_dims``, ``from_unit(u)`` and ``arch_id`` (JointSpace).
        n: wanted pool size.
        seed: scrambling seed (the same seed gives the same pool).
        constraint: ``candidate -> bool`` (e.g. MACs <= limit); rejected ones are dropped.
        max_draws: cap on drawn points (default ``64 * n``).

    Raises:
        ConfigError: fewer than ``n`` legal candidates in ``max_draws`` points.
    """
    d = space.n_unit_dims
    if d < 1:
        raise ConfigError("the candidate space has no free dimension; free some recipe or arch "
                          "choices")
    sampler = qmc.Sobol(d=d, scramble=True, seed=seed)
    max_draws = max_draws or 64 * n
    pool: list[dict] = []
    seen: set[str] = set()
    drawn = 0
    m = max(1, math.ceil(math.log2(max(n, 2))))
    while len(pool) < n and drawn < max_draws:
        pts = sampler.random_base2(m) if drawn == 0 else sampler.random(2 ** m)
        drawn += len(pts)
        for u in pts:
            cand = space.from_unit(u)
            cid = space.arch_id(cand)
            if cid in seen or (constraint is not None and not constraint(cand)):
                continue
            seen.add(cid)
            pool.append(cand)
            if len(pool) == n:
                break
    if len(pool) < n:
        raise ConfigError(f"only {len(pool)} of {n} Sobol candidates meet the constraint in "
                          f"{drawn} draws; relax the MACs budget or lower fbnetv3 pool_size")
    return pool


def forward_fill(curves: Sequence[Sequence[float]]) -> np.ndarray:
    """[n, max_epochs] matrix; a curve shorter than the longest repeats its last value."""
    e = max(len(c) for c in curves)
    out = np.empty((len(curves), e), dtype=np.float64)
    for i, c in enumerate(curves):
        out[i, :len(c)] = c
        out[i, len(c):] = c[-1]
    return out


def rank_corr(x: Sequence[float], y: Sequence[float], method: str = "kendall") -> float:
    """Kendall tau or Spearman rho (``nasrepro.metrics.ranking``); NaN when undefined."""
    if method == "kendall":
        return kendall_tau(x, y)
    if method == "spearman":
        return spearman(x, y)
    raise ConfigError(f"unknown rank correlation {method!r}; use kendall or spearman")


def early_stop_curve(acc: np.ndarray, method: str = "kendall") -> list[float]:
    """Rank correlation of every epoch's accuracies with the final ones (last column).

    A constant column (e.g. all candidates tied at chance) has no correlation: 0.0.
    """
    acc = np.asarray(acc, dtype=np.float64)
    out = []
    for e in range(acc.shape[1]):
        c = rank_corr(acc[:, e], acc[:, -1], method)
        out.append(0.0 if math.isnan(c) else float(c))
    return out


def choose_early_stop_epoch(acc: np.ndarray, threshold: float, method: str = "kendall"
                            ) -> tuple[int, list[float]]:
    """Earliest epoch (1-based) whose ranking correlates with the final one by >= threshold.

    Args:
        acc: [candidates, epochs] accuracy matrix (forward-filled, :func:`forward_fill`).
        threshold: minimal rank correlation.
        method: ``kendall`` or ``spearman``.

    Returns:
        ``(epoch, correlations per epoch)``; the last epoch always qualifies (correlation 1).
    """
    corrs = early_stop_curve(acc, method)
    for e, c in enumerate(corrs):
        if c >= threshold - 1e-12:
            return e + 1, corrs
    return len(corrs), corrs


@dataclass
class CoarseResult:
    """Everything the coarse stage measured and decided.

    Attributes:
        entries: one dict per trained candidate: ``candidate``, ``iteration``, ``curve``
            (val accuracy per trained epoch), ``score`` (accuracy at the early-stop epoch),
            ``heldout`` (a later-iteration candidate trained to the end).
        stop_epoch: chosen early-stopping epoch (1-based).
        full_epochs: longest full training of iteration 0 (epochs).
        corrs: rank correlation with the final ranking per epoch (iteration 0).
        iterations: per iteration ``iteration``, ``n_trained``, ``best_measured``,
            ``best_predicted`` (best predictor score over the untrained pool after the refit).
        score_fn: the last refitted predictor's scorer.
    """

    entries: list[dict]
    stop_epoch: int
    full_epochs: int
    corrs: list[float]
    iterations: list[dict] = field(default_factory=list)
    score_fn: Callable[[Sequence[dict]], np.ndarray] | None = None


def coarse_search(space: Any, pool: list[dict], train_fn: TrainFn, fit_fn: FitFn, *,
                  batch_size: int, iterations: int, threshold: float, explore: float,
                  seed: int, corr_method: str = "kendall", heldout: int = 0) -> CoarseResult:
    """Constrained iterative optimisation (FBNetV3 coarse stage), see the module docstring.

    Args:
        space: the JointSpace (``arch_id``).
        pool: legal candidates (:func:`sobol_pool`), in Sobol order.
        train_fn: trains candidates up to their stop epochs (None = fully) and returns their
            per-epoch val accuracies.
        fit_fn: refits the predictor on ``(candidates, scores)`` and returns a batched scorer.
        batch_size: candidates trained per iteration (paper: 48).
        iterations: iterations, the first included (paper: 4).
        threshold: early-stopping rank-correlation threshold.
        explore: share of each later batch drawn at random from the pool.
        seed: seeds the exploration draws.
        corr_method: ``kendall`` or ``spearman``.
        heldout: candidates of every later batch trained to the end (drawn at random from the
            batch with the ``coarse-heldout-<seed>`` stream, so the batch itself is unchanged).
    """
    if batch_size < 2 or iterations < 1 or not 0 <= heldout <= batch_size:
        raise ConfigError(f"fbnetv3 coarse needs batch_size >= 2, iterations >= 1 and 0 <= "
                          f"heldout <= batch_size (got {batch_size}, {iterations}, {heldout}); "
                          "fix the config")
    rng = random.Random(f"coarse-{seed}")
    held_rng = random.Random(f"coarse-heldout-{seed}")
    first = pool[:batch_size]
    curves = train_fn(first, [None] * len(first))
    acc = forward_fill(curves)
    stop_epoch, corrs = choose_early_stop_epoch(acc, threshold, corr_method)
    entries = [{"candidate": c, "iteration": 0, "curve": list(map(float, cv)),
                "score": float(cv[min(stop_epoch, len(cv)) - 1]), "heldout": False}
               for c, cv in zip(first, curves, strict=True)]
    trained = {space.arch_id(c) for c in first}
    result = CoarseResult(entries=entries, stop_epoch=stop_epoch, full_epochs=acc.shape[1],
                          corrs=corrs)
    for it in range(iterations):
        cands = [e["candidate"] for e in entries]
        score_fn = fit_fn(cands, [e["score"] for e in entries], it)
        rest = [c for c in pool if space.arch_id(c) not in trained]
        pred = score_fn(rest) if rest else np.zeros(0)
        result.iterations.append({
            "iteration": it, "n_trained": len(entries),
            "best_measured": max(e["score"] for e in entries),
            "best_predicted": float(pred.max()) if len(pred) else math.nan,
        })
        result.score_fn = score_fn
        if it == iterations - 1 or not rest:
            break
        n_exploit = min(len(rest), int(round(batch_size * (1.0 - explore))))
        order = np.argsort(-pred, kind="stable")
        chosen = [int(i) for i in order[:n_exploit]]
        others = [i for i in range(len(rest)) if i not in set(chosen)]
        n_rand = min(len(others), batch_size - len(chosen))
        chosen += rng.sample(others, n_rand)
        batch = [rest[i] for i in chosen]
        held = set(held_rng.sample(range(len(batch)), min(heldout, len(batch))))
        curves = train_fn(batch, [None if j in held else stop_epoch for j in range(len(batch))])
        for j, (c, cv) in enumerate(zip(batch, curves, strict=True)):
            entries.append({"candidate": c, "iteration": it + 1, "curve": list(map(float, cv)),
                            "score": float(cv[min(stop_epoch, len(cv)) - 1]),
                            "heldout": j in held})
            trained.add(space.arch_id(c))
    return result


class _Converged(Exception):
    """Raised inside the fitness callback to stop the evolution (patience reached)."""


def fine_search(space: Any, score_fn: Callable[[Sequence[dict]], np.ndarray], *,
                start: list[dict], constraint: Callable[[dict], bool] | None,
                population: int, max_generations: int, patience: int, topk: int,
                n_crossover: int, n_mutation: int, mutation_prob: float, seed: int
                ) -> SearchResult:
    """Predictor-scored evolution from the best coarse candidates, with patience stopping.

    Runs :func:`nasrepro.search.evolution_search` on a :class:`~nasrepro.spaces.recipe.
    SeededSpace` (its first population = ``start`` + random candidates). The fitness callback
    scores each generation in one batched predictor call and stops the loop once the best
    score has not improved for ``patience`` generations.

    Returns:
        The :class:`SearchResult` of the generations run (``meta["stopped_at"]``: generations).
    """
    from nasrepro.spaces.recipe import SeededSpace

    log: list[dict] = []
    state = {"best": -math.inf, "stale": 0, "gen": 0}

    def evaluate(cands: list[dict]) -> list[float]:
        if state["stale"] >= patience:
            raise _Converged
        scores = [float(s) for s in score_fn(cands)]
        for c, s in zip(cands, scores, strict=True):
            cost = space.cost(c)
            log.append({"n": len(log) + 1, "generation": state["gen"], "arch": c,
                        "arch_id": space.arch_id(c), "fitness": s, "macs": int(cost.macs),
                        "params": int(cost.params)})
        best = max(scores) if scores else -math.inf
        if best > state["best"] + 1e-9:
            state["best"], state["stale"] = best, 0
        else:
            state["stale"] += 1
        state["gen"] += 1
        return scores

    seeded = SeededSpace(space, start[:population])
    meta: dict[str, Any] = {"searcher": "fbnetv3-fine", "seed": seed, "patience": patience,
                            "population": population, "max_generations": max_generations}
    try:
        res = evolution_search(seeded, evaluate, constraint=constraint, population=population,
                               generations=max_generations, topk=topk, n_crossover=n_crossover,
                               n_mutation=n_mutation, mutation_prob=mutation_prob, seed=seed)
        meta.update(res.meta)
    except _Converged:
        pass
    meta["stopped_at"] = state["gen"]
    return SearchResult.from_evaluated(log, meta)
