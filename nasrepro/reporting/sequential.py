"""Sequential seeds (issue 12, item 3): a two-look group-sequential design for the claims check.

A first batch of seeds is run and every claim tested (look 1); seeds are added only to the
claims that stayed undecided and whose conditional power is high, and those are tested again
on all their seeds (look 2). Testing twice at the fixed level would inflate the error rate, so
each one-sided test spends its level ``alpha`` over the looks with a Lan-DeMets spending
function (Lan & DeMets 1983, Biometrika 70: 659-663; Jennison & Turnbull 2000, *Group
Sequential Methods with Applications to Clinical Trials*, ch. 7):

* ``obrien-fleming``: ``alpha(t) = 2 - 2 Phi(z_{1-alpha/2} / sqrt(t))`` (spends almost nothing
  early, so the final look keeps nearly the fixed design's level);
* ``pocock``: ``alpha(t) = alpha ln(1 + (e - 1) t)``.

At information fraction ``t`` (seeds so far / planned final seeds) the standardised statistics
follow the canonical joint distribution, ``corr(Z_i, Z_j) = sqrt(t_i / t_j)``; the efficacy
boundaries ``b_k`` are solved look by look so that ``P(Z_1 < b_1, ..., Z_k >= b_k | H0) =
alpha(t_k) - alpha(t_{k-1})``. The claims engine decides look ``k`` at the nominal one-sided
level ``1 - Phi(b_k)``; each of its two one-sided tests (reproduced, not reproduced) spends its
own ``alpha``.

Futility is non-binding: stopping an undecided claim at look 1 (its conditional power is low)
only lowers its error rate and changes no other claim's level, so the boundaries need no
futility adjustment. Conditional power after Lachin (2005), *Controlled Clinical Trials* 26:
"A review of methods for futility stopping based on conditional power":
``CP = 1 - Phi((b_K - z sqrt(t) - theta (1 - t)) / sqrt(1 - t))`` for the drift ``theta`` (the
expected final z), under the current trend (``theta = z / sqrt(t)``) or under the SESOI
(``theta = delta / se_final``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import optimize, stats

from nasrepro.errors import ConfigError

FAMILIES = ("obrien-fleming", "pocock")
MVN_EPS = 1e-8          # absolute error of scipy's multivariate normal CDF (Genz)


def _check_alpha(alpha: float) -> None:
    if not 0.0 < alpha < 0.5:
        raise ConfigError(f"sequential alpha {alpha} must lie in (0, 0.5) (one-sided level)")


def _check_family(family: str) -> None:
    if family not in FAMILIES:
        raise ConfigError(f"alpha-spending family '{family}' is unknown; use one of "
                          f"{', '.join(FAMILIES)}")


def _check_fractions(fractions: Sequence[float]) -> list[float]:
    ts = [float(t) for t in fractions]
    steps = zip(ts, ts[1:], strict=False)
    if not ts or any(not 0.0 < t <= 1.0 for t in ts) or any(b <= a for a, b in steps):
        raise ConfigError(f"information fractions {ts} must increase within (0, 1]")
    if ts[-1] != 1.0:
        raise ConfigError(f"information fractions {ts} must end at 1 (the final look)")
    return ts


def spent_alpha(t: float, alpha: float, family: str = "obrien-fleming") -> float:
    """Lan-DeMets cumulative one-sided level spent by information fraction ``t`` in (0, 1]."""
    _check_alpha(alpha)
    _check_family(family)
    if not 0.0 < t <= 1.0:
        raise ConfigError(f"information fraction {t} must lie in (0, 1]")
    if t == 1.0:
        return float(alpha)
    if family == "obrien-fleming":
        return float(2.0 - 2.0 * stats.norm.cdf(stats.norm.isf(alpha / 2.0) / math.sqrt(t)))
    return float(alpha * math.log(1.0 + (math.e - 1.0) * t))


def _cdf_below(bounds: Sequence[float], ts: Sequence[float]) -> float:
    """``P(Z_1 < b_1, ..., Z_k < b_k)`` under H0, canonical correlation ``sqrt(t_i / t_j)``."""
    if len(bounds) == 1:
        return float(stats.norm.cdf(bounds[0]))
    t = np.asarray(ts, dtype=float)
    cov = np.sqrt(np.minimum.outer(t, t) / np.maximum.outer(t, t))
    return float(stats.multivariate_normal.cdf(np.asarray(bounds, dtype=float),
                                               mean=np.zeros(len(t)), cov=cov,
                                               abseps=MVN_EPS, releps=MVN_EPS))


def _excess(x: float, bounds: list[float], ts: Sequence[float], target: float) -> float:
    """``P(Z_1 < b_1, ..., Z_k < x) - target``: zero at look k's boundary."""
    return _cdf_below([*bounds, x], ts) - target


def boundaries(fractions: Sequence[float], alpha: float = 0.025,
               family: str = "obrien-fleming") -> list[float]:
    """One-sided efficacy z boundaries at the looks ``fractions`` (increasing, last = 1).

    Look ``k``'s boundary solves ``P(no crossing before k, Z_k >= b_k | H0) = alpha(t_k) -
    alpha(t_{k-1})`` (brentq on scipy's multivariate normal CDF).
    """
    ts = _check_fractions(fractions)
    _check_alpha(alpha)
    _check_family(family)
    bounds: list[float] = []
    prev_spent, below = 0.0, 1.0          # below = P(no crossing at looks 1..k-1)
    for k, t in enumerate(ts):
        spent = spent_alpha(t, alpha, family)
        if k == 0:
            b = float(stats.norm.isf(spent))
        else:
            b = float(optimize.brentq(_excess, -10.0, 40.0, xtol=1e-10,
                                      args=(bounds, ts[: k + 1], below - (spent - prev_spent))))
        bounds.append(b)
        prev_spent, below = spent, _cdf_below(bounds, ts[: k + 1])
    return bounds


def nominal_alpha(fractions: Sequence[float], alpha: float = 0.025,
                  family: str = "obrien-fleming") -> list[float]:
    """The one-sided p threshold at each look: ``1 - Phi(b_k)``."""
    return [float(stats.norm.sf(b)) for b in boundaries(fractions, alpha, family)]


def conditional_power(z_interim: float, t: float, boundary_final: float, drift: float) -> float:
    """Probability that the final z crosses ``boundary_final`` given ``z_interim`` at
    information fraction ``t`` and the drift ``theta`` (expected final z under an effect)."""
    if not 0.0 < t < 1.0:
        raise ConfigError(f"conditional power needs an interim fraction in (0, 1), not {t}")
    if not math.isfinite(z_interim):
        return 1.0 if z_interim > 0 else 0.0
    num = boundary_final - z_interim * math.sqrt(t) - drift * (1.0 - t)
    return float(stats.norm.sf(num / math.sqrt(1.0 - t)))


def drift_current_trend(z_interim: float, t: float) -> float:
    """The drift if the interim estimate is the truth: ``theta = z / sqrt(t)``."""
    return z_interim / math.sqrt(t)


def drift_sesoi(delta: float, se_final: float) -> float:
    """The drift under an effect of ``delta`` (the SESOI) beyond the bound: ``delta / se``
    with ``se`` the standard error at the final number of replicates."""
    return delta / se_final
