"""Rank correlation: Kendall tau with a paired bootstrap confidence interval, and Spearman rho.

Used for SPOS claim S4 (supernet-inherited vs. standalone accuracy rank archs alike),
AttentiveNAS Sec. 4 / claim A3 (predictor and short- vs. long-training ranking) and FBNetV3
claims F3/F4 (predictor ranking, early-stopping rank agreement). The statistics come from
:func:`scipy.stats.kendalltau`, :func:`scipy.stats.spearmanr` and
:func:`scipy.stats.bootstrap` (pairs resampled together). Degenerate input (fewer than 3 pairs,
a constant side) gives NaN, never an exception.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence

import numpy as np
from scipy import stats

#: fewest pairs for which a tau and its bootstrap CI are computed
MIN_PAIRS = 3


def _pairs(x: Sequence[float], y: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Float arrays of the pairs where both values are finite."""
    xa = np.asarray(x, dtype=float).ravel()
    ya = np.asarray(y, dtype=float).ravel()
    if xa.shape != ya.shape:
        raise ValueError(f"x and y must have the same length (got {xa.size} and {ya.size})")
    keep = np.isfinite(xa) & np.isfinite(ya)
    return xa[keep], ya[keep]


def _degenerate(xa: np.ndarray, ya: np.ndarray, min_pairs: int = 2) -> bool:
    return xa.size < min_pairs or np.ptp(xa) == 0 or np.ptp(ya) == 0


def _tau(xa: np.ndarray, ya: np.ndarray) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.kendalltau(xa, ya).statistic)


def kendall_tau(x: Sequence[float], y: Sequence[float]) -> float:
    """Kendall tau-b of the pairs ``(x[i], y[i])`` (non-finite pairs dropped).

    Returns:
        tau in [-1, 1], or NaN for fewer than 2 pairs or a constant side.
    """
    xa, ya = _pairs(x, y)
    if _degenerate(xa, ya):
        return math.nan
    return _tau(xa, ya)


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rho of the pairs ``(x[i], y[i])`` (NaN when degenerate, as :func:`kendall_tau`)."""
    xa, ya = _pairs(x, y)
    if _degenerate(xa, ya):
        return math.nan
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(stats.spearmanr(xa, ya).statistic)


def kendall_tau_ci(
    x: Sequence[float],
    y: Sequence[float],
    *,
    confidence: float = 0.95,
    n_resamples: int = 2000,
    seed: int = 0,
    method: str = "percentile",
) -> dict[str, float | int]:
    """Kendall tau with a paired bootstrap confidence interval.

    Pairs are resampled together (``scipy.stats.bootstrap(..., paired=True)``) with a
    ``numpy`` generator seeded by ``seed``, so the interval is deterministic. Resamples in which
    one side is constant have no tau; if scipy's interval is NaN because of them, the interval is
    taken as the percentiles of the remaining resamples.

    Args:
        x, y: paired values (e.g. supernet accuracy and standalone accuracy of the same archs);
            pairs with a non-finite value are dropped.
        confidence: confidence level of the interval.
        n_resamples: bootstrap resamples.
        seed: seed of the resampling.
        method: ``"percentile"``, ``"basic"`` or ``"BCa"`` (scipy's methods).

    Returns:
        ``{"tau", "low", "high", "pvalue", "n"}``; NaN values (and ``n`` the number of finite
        pairs) when there are fewer than 3 pairs or one side is constant.
    """
    xa, ya = _pairs(x, y)
    n = int(xa.size)
    out: dict[str, float | int] = {
        "tau": math.nan, "low": math.nan, "high": math.nan, "pvalue": math.nan, "n": n,
    }
    if _degenerate(xa, ya, MIN_PAIRS):
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = stats.kendalltau(xa, ya)
        out["tau"] = float(res.statistic)
        out["pvalue"] = float(res.pvalue)
        boot = stats.bootstrap(
            (xa, ya),
            lambda a, b: stats.kendalltau(a, b).statistic,
            n_resamples=n_resamples,
            paired=True,
            vectorized=False,
            confidence_level=confidence,
            method=method,
            rng=np.random.default_rng(seed),
        )
    low = float(boot.confidence_interval.low)
    high = float(boot.confidence_interval.high)
    if not (math.isfinite(low) and math.isfinite(high)):
        dist = np.asarray(boot.bootstrap_distribution, dtype=float)
        dist = dist[np.isfinite(dist)]
        if dist.size:
            alpha = (1.0 - confidence) / 2.0
            low, high = (float(v) for v in np.quantile(dist, [alpha, 1.0 - alpha]))
    out["low"], out["high"] = low, high
    return out
