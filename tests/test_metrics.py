"""Tests of the rank-correlation and Pareto metrics (nasrepro.metrics.ranking / .pareto)."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from scipy import stats

from nasrepro.metrics.pareto import best_in_buckets, hypervolume_2d, pareto_front
from nasrepro.metrics.ranking import kendall_tau, kendall_tau_ci, spearman

# --- ranking -----------------------------------------------------------------------------


def test_kendall_known_permutations() -> None:
    x = list(range(10))
    assert kendall_tau(x, x) == pytest.approx(1.0)
    assert kendall_tau(x, x[::-1]) == pytest.approx(-1.0)
    # one adjacent swap among 4: 5 concordant, 1 discordant pair -> (5 - 1) / 6
    assert kendall_tau([1, 2, 3, 4], [1, 2, 4, 3]) == pytest.approx(4 / 6)
    assert spearman(x, x) == pytest.approx(1.0)
    assert spearman(x, x[::-1]) == pytest.approx(-1.0)


def test_kendall_matches_scipy_and_drops_nan_pairs() -> None:
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=30), rng.normal(size=30)
    assert kendall_tau(x, y) == pytest.approx(stats.kendalltau(x, y).statistic)
    xn = np.append(x, np.nan)
    yn = np.append(y, 5.0)
    assert kendall_tau(xn, yn) == pytest.approx(kendall_tau(x, y))


def test_kendall_ci_contains_tau_and_narrows_with_n() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=400)
    y = x + 0.5 * rng.normal(size=400)
    big = kendall_tau_ci(x, y, n_resamples=500)
    assert big["n"] == 400
    assert big["low"] <= big["tau"] <= big["high"]
    assert big["tau"] == pytest.approx(kendall_tau(x, y))
    assert big["high"] - big["low"] < 0.12
    assert big["low"] > 0.5 and big["pvalue"] < 1e-10
    small = kendall_tau_ci(x[:20], y[:20], n_resamples=500)
    assert small["low"] <= small["tau"] <= small["high"]
    assert small["high"] - small["low"] > big["high"] - big["low"]


def test_kendall_ci_is_deterministic_per_seed() -> None:
    rng = np.random.default_rng(2)
    x, y = rng.normal(size=25), rng.normal(size=25)
    a = kendall_tau_ci(x, y, n_resamples=300, seed=3)
    assert a == kendall_tau_ci(x, y, n_resamples=300, seed=3)
    assert a != kendall_tau_ci(x, y, n_resamples=300, seed=4)


@pytest.mark.parametrize(
    ("x", "y"),
    [([], []), ([1.0], [2.0]), ([1.0, 2.0], [1.0, 2.0]), ([1, 2, 3, 4], [5, 5, 5, 5]),
     ([7, 7, 7], [1, 2, 3]), ([1, np.nan, 3], [1, 2, np.nan])],
)
def test_degenerate_inputs_give_nan_without_warnings(x: list, y: list) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ci = kendall_tau_ci(x, y, n_resamples=100)
        assert all(math.isnan(ci[k]) for k in ("tau", "low", "high", "pvalue"))
        assert ci["n"] == sum(np.isfinite(a) and np.isfinite(b) for a, b in zip(x, y, strict=True))
        if len(x) < 2 or len(set(x)) == 1 or len(set(y)) == 1:
            assert math.isnan(kendall_tau(x, y))
            assert math.isnan(spearman(x, y))


def test_small_sample_ci_is_finite_despite_constant_resamples() -> None:
    ci = kendall_tau_ci([1, 2, 3, 4], [1, 2, 4, 3], n_resamples=200)
    assert ci["tau"] == pytest.approx(4 / 6)
    assert math.isfinite(ci["low"]) and math.isfinite(ci["high"])
    assert -1.0 <= ci["low"] <= ci["high"] <= 1.0


def test_length_mismatch_raises() -> None:
    with pytest.raises(ValueError, match="same length"):
        kendall_tau([1, 2, 3], [1, 2])


# --- pareto ------------------------------------------------------------------------------

POINTS = [
    (1.0, 0.5),   # 0 front
    (2.0, 0.7),   # 1 front
    (3.0, 0.9),   # 2 front
    (2.0, 0.6),   # 3 dominated by 1 (same cost, lower acc)
    (3.0, 0.9),   # 4 duplicate of 2: also on the front
    (0.5, 0.1),   # 5 front (cheapest)
    (4.0, 0.8),   # 6 dominated by 2
    (2.5, 0.7),   # 7 dominated by 1 (dearer, same acc)
    (0.1, float("nan")),  # 8 ignored
]


def test_pareto_front_hand_made() -> None:
    assert pareto_front(POINTS) == [5, 0, 1, 2, 4]
    assert pareto_front([]) == []
    assert pareto_front([(1.0, 1.0)]) == [0]


def test_pareto_front_matches_brute_force() -> None:
    rng = np.random.default_rng(0)
    pts = [(float(c), float(a)) for c, a in rng.integers(0, 6, size=(60, 2))]

    def dominated(q: tuple) -> bool:
        return any(p[0] <= q[0] and p[1] >= q[1] and p != q for p in pts)

    expected = sorted((i for i, q in enumerate(pts) if not dominated(q)),
                      key=lambda i: (pts[i][0], -pts[i][1], i))
    assert pareto_front(pts) == expected


def test_hypervolume_hand_computed() -> None:
    front = [(1.0, 0.5), (2.0, 0.7), (3.0, 0.9)]
    # horizontal slices: (4-1)*0.5 + (4-2)*0.2 + (4-3)*0.2
    assert hypervolume_2d(front, ref=(4.0, 0.0)) == pytest.approx(2.1)
    # dominated points and duplicates add nothing
    assert hypervolume_2d(POINTS, ref=(4.0, 0.0)) == pytest.approx(
        hypervolume_2d([(0.5, 0.1)] + front, ref=(4.0, 0.0))
    )
    # (0.5, 0.1) adds the strip [0.5, 1] x [0, 0.1]
    assert hypervolume_2d([(0.5, 0.1)] + front, ref=(4.0, 0.0)) == pytest.approx(2.1 + 0.5 * 0.1)
    # default ref = (max cost, min acc) = (3, 0.5): (3-1)*0 + (3-2)*0.2 + (3-3)*0.2
    assert hypervolume_2d(front) == pytest.approx(0.2)
    # points outside the reference box contribute nothing
    assert hypervolume_2d([(5.0, 0.9), (1.0, -1.0)], ref=(4.0, 0.0)) == 0.0
    assert hypervolume_2d([]) == 0.0


def test_hypervolume_grows_when_front_dominates() -> None:
    base = [(1.0, 0.5), (2.0, 0.7)]
    better = [(1.0, 0.6), (2.0, 0.7)]
    ref = (3.0, 0.0)
    assert hypervolume_2d(better, ref) > hypervolume_2d(base, ref)


def test_best_in_buckets() -> None:
    costs = [1, 2, 3, 4, 6, 6.5]
    accs = [0.1, 0.2, 0.3, 0.4, 0.9, np.nan]
    out = best_in_buckets(costs, accs, [0, 2, 4, 6, 8, 10])
    # [0,2) [2,4) [4,6) [6,8) [8,10]: 6 falls in [6,8); the NaN accuracy is ignored
    assert out[:4] == [0.1, 0.3, 0.4, 0.9]
    assert math.isnan(out[4])
    assert best_in_buckets([6.0], [0.5], [0, 6]) == [0.5]  # last bucket closed on the right
    with pytest.raises(ValueError, match="increasing"):
        best_in_buckets([1], [1], [1, 1])
