"""Pareto front, 2-D hypervolume and best-accuracy-per-cost-bucket of (cost, accuracy) points.

AttentiveNAS (Wang et al. 2021, Fig. 4/5, claims A1/A2) compares supernets by the Pareto front
of accuracy vs. MACs of their subnets; the hypervolume summarises a front in one number, and
:func:`best_in_buckets` gives the best accuracy per MACs range (the paper's per-FLOPs-range
comparison, also used for SPOS's "similar cost" comparisons). Cost is minimised, accuracy
maximised throughout; points with a non-finite value are ignored.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

Point = tuple[float, float]


def _finite(points: Sequence[Sequence[float]]) -> list[int]:
    return [i for i, (c, a) in enumerate(points) if math.isfinite(c) and math.isfinite(a)]


def pareto_front(points: Sequence[Sequence[float]]) -> list[int]:
    """Indices of the non-dominated ``(cost, acc)`` points, by increasing cost.

    ``p`` dominates ``q`` when ``p.cost <= q.cost`` and ``p.acc >= q.acc`` with at least one
    strict; identical points do not dominate each other, so duplicates on the front are all
    returned. Points with a non-finite value are never on the front.
    """
    idx = _finite(points)
    # cost ascending, accuracy descending, then index (deterministic order)
    idx.sort(key=lambda i: (float(points[i][0]), -float(points[i][1]), i))
    front: list[int] = []
    best_cheaper = -math.inf  # best accuracy among strictly cheaper points
    k = 0
    while k < len(idx):
        cost = float(points[idx[k]][0])
        group_end = k
        while group_end < len(idx) and float(points[idx[group_end]][0]) == cost:
            group_end += 1
        group = idx[k:group_end]
        group_best = float(points[group[0]][1])
        if group_best > best_cheaper:
            front.extend(i for i in group if float(points[i][1]) == group_best)
            best_cheaper = group_best
        k = group_end
    return front


def hypervolume_2d(
    points: Sequence[Sequence[float]], ref: Sequence[float] | None = None
) -> float:
    """Area dominated by the points and bounded by the reference point ``ref = (cost, acc)``.

    The area is that of the union of the rectangles ``[cost_i, ref_cost] x [ref_acc, acc_i]``.
    Compare fronts of several methods with one common ``ref`` (e.g. the largest cost and lowest
    accuracy over all methods).

    Args:
        points: ``(cost, acc)`` pairs.
        ref: ``(max_cost, min_acc)``; default: the largest cost and lowest accuracy of
            ``points`` themselves. Points beyond ``ref`` contribute nothing.

    Returns:
        The hypervolume (0.0 if no point is inside the reference box).
    """
    idx = _finite(points)
    if not idx:
        return 0.0
    if ref is None:
        ref = (max(float(points[i][0]) for i in idx), min(float(points[i][1]) for i in idx))
    ref_cost, ref_acc = float(ref[0]), float(ref[1])
    inside = [
        (float(points[i][0]), float(points[i][1]))
        for i in idx
        if float(points[i][0]) <= ref_cost and float(points[i][1]) >= ref_acc
    ]
    area = 0.0
    prev_acc = ref_acc
    for i in pareto_front(inside):  # increasing cost, hence increasing accuracy
        cost, acc = inside[i]
        if acc > prev_acc:
            area += (ref_cost - cost) * (acc - prev_acc)
            prev_acc = acc
    return area


def best_in_buckets(
    costs: Sequence[float], accs: Sequence[float], edges: Sequence[float]
) -> list[float]:
    """Best accuracy of the points in each cost bucket ``[edges[j], edges[j+1])``.

    The last bucket also includes its right edge (as :func:`numpy.histogram`).

    Returns:
        One value per bucket (``len(edges) - 1``), NaN for a bucket with no point.
    """
    c = np.asarray(costs, dtype=float).ravel()
    a = np.asarray(accs, dtype=float).ravel()
    e = np.asarray(edges, dtype=float).ravel()
    if c.shape != a.shape:
        raise ValueError(f"costs and accs must have the same length (got {c.size}, {a.size})")
    if e.size < 2 or np.any(np.diff(e) <= 0):
        raise ValueError("edges must be at least 2 strictly increasing values")
    out: list[float] = []
    for j in range(e.size - 1):
        last = j == e.size - 2
        in_bucket = (c >= e[j]) & ((c <= e[j + 1]) if last else (c < e[j + 1])) & np.isfinite(a)
        out.append(float(a[in_bucket].max()) if in_bucket.any() else math.nan)
    return out
