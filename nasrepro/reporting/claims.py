"""The claims check: every claim of PAPERS.md, stated as data in ``paper/claims.yaml``, tested on
the pipeline's tidy measurements with a decision rule fixed before any result is seen.

Paper-agnostic: it reads only ``results/<profile>/tables/<paper>_measurements.csv`` (columns
``quantity, group, seed, value, run_dir``; an optional ``unit`` column names the independent
replicate when several rows are nested in it, e.g. the retrain seeds of one search) and the
claims file.

**Decision rule.** Each test states, on its display scale, a ``bound`` (the null value: 0, a
threshold, minus a non-inferiority margin) and a smallest effect size of interest ``sesoi``
(> 0, tied to the paper's effect: at most that effect, typically half of it; the claims file
gives the source). With the 95% interval of the effect (one-sided tests at ``ALPHA = 0.025``
each, so a decision and the interval always agree):

* **not reproduced**: the interval lies wholly short of ``bound + sesoi`` (an effect as large as
  the smallest one that matters is ruled out; this includes a reversed effect);
* **reproduced**: the interval lies wholly beyond ``bound`` on the claimed side;
* **underpowered**: neither, and the minimum detectable effect at this n (80% power,
  one-sided ``ALPHA``) exceeds the SESOI, so a non-decision says nothing about the effect; the
  row gives the MDE and the seeds (replicates) needed;
* **inconclusive**: neither, although the design could detect the SESOI;

Each decisive verdict is a level-``ALPHA`` test whatever the power (a rejection is evidence at
any n; power only says how likely a decision was), so power qualifies the *absence* of a
decision, never overrides one. (Until 2026-11-30 "underpowered" was decided first and hid
decisive intervals, e.g. S1's reversed effect; the rule was changed for that reason, for every
claim at once.)
* **not testable**: a validity guard of the claim fails, a quantity it needs is not in the file
  (old measurements), or a stochastic quantity shows zero spread;
* **not run**: the paper is disabled, its file was not written, or a group was not run.

``p_value`` is the one-sided p against the bound (the "reproduced" test), ``p_sesoi`` the
one-sided p against ``bound + sesoi`` (the "not reproduced" test); each decides at ``ALPHA``.
With ``claims: {sequential: ...}`` (:mod:`nasrepro.reporting.sequential`, docs/claims.md) each
test decides, and its interval is drawn, at a look's nominal level instead (the ``alpha``
argument of :func:`run_test` and :func:`evaluate_claims`); MDE and seeds needed stay at ``ALPHA``.

**Test kinds** (all with ``direction`` greater/less, ``bound``, ``sesoi``):

``difference``
    ``a - b`` of one quantity. ``paired:`` must *say* which randomness the arms share (a string),
    else the arms are independent (Welch). ``scale``: ``raw``; ``log_error`` (values are
    accuracies in %; the effect is the relative error reduction ``1 - err_a / err_b``, computed
    on log errors); ``log_ratio`` (relative difference ``a / b - 1`` on logs).
    ``resampled: {n_train: Q1, n_test: Q2}``: the replicates are random train/test splits of one
    data set, so the variance is inflated by Nadeau & Bengio's ``1/J + n_test/n_train``.
``equivalence``
    as ``difference``; the claim is ``|a - b| < margin`` (TOST: reproduced when the interval lies
    inside ``±margin``, not reproduced when it lies wholly outside).
``threshold``
    one group's quantity against ``bound``; ``scale`` ``raw``, ``fisher_z`` (correlations) or
    ``logit`` (fractions), so intervals of bounded quantities stay in range. Replicates are its
    rows; ``n_quantity`` makes each row a Kendall tau over that many pairs (Fisher z, variance
    0.437/(n - 4), inverse-variance pooled); ``ci_quantities: [low, high]`` takes one measured
    value's own interval (e.g. a bootstrap over subnets).
``correlation``
    Kendall tau between quantities ``x`` and ``y`` paired by ``(group, replicate)``; the groups
    are strata (tau within each, combined weighted by units); interval and p from a bootstrap of
    the units within strata (a cluster bootstrap when ``unit`` nests rows). ``reliability: true``
    adds the ceiling that ``y``'s own noise (ICC of its nested replicates) puts on tau.
``trend``
    Kendall tau between each group's position in ``groups`` and the quantity (bootstrap of the
    replicates within groups).
``all_of``
    every part must hold: reproduced by the intersection-union test (max of the parts' p),
    not reproduced when any part is after Holm's correction over the parts; otherwise
    underpowered when any part is; the row shows the part that decided, otherwise the one
    nearest its own bound.

``deterministic: true`` on a test allows a zero-width interval (a quantity that cannot vary
with the seed); a stochastic quantity with zero spread is not testable. Two rows for one
``(group, seed)`` (or ``(group, unit, seed)``) are refused with an error. Guards (``guards:`` of
a claim) are data too: ``above`` / ``below`` (a group statistic against a value, optionally
relative to chance), ``distinct`` (consecutive groups do not give identical values in every
seed), ``equals``, ``matched`` (relative gap of two groups' means within a tolerance).
"""

from __future__ import annotations

import functools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from nasrepro.errors import ConfigError, DataError

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
UNDERPOWERED = "underpowered"
NOT_TESTABLE = "not testable"
NOT_RUN = "not run"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, UNDERPOWERED, NOT_TESTABLE, NOT_RUN)
#: verdicts of claims that were actually tested (they form the family of item 5)
TESTED = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, UNDERPOWERED)

KINDS = ("difference", "equivalence", "threshold", "correlation", "trend", "all_of")
ALPHA = 0.025            # one-sided level of each decision (= a two-sided 95% interval)
CONFIDENCE = 1.0 - 2.0 * ALPHA
POWER = 0.8              # power at the SESOI for the underpowered check
N_BOOT = 2000            # bootstrap resamples (correlation, trend)
BOOTSTRAP_SEED = 0
MAX_REPLICATES = 100_000
FIELLER = 0.437          # var(atanh(Kendall tau)) ~ 0.437 / (n - 4), Fieller et al. (1957)
FDR_METHODS = ("none", "bh")
_CLIP = 1.0 - 1e-9


class MissingMeasurements(Exception):
    """The measurements a claim reads are not there (paper or group not run): 'not run'."""


class NotTestable(Exception):
    """The claim cannot be tested as stated (missing quantity, zero spread): 'not testable'."""


class MeasurementError(DataError):
    """The measurements break the tidy contract (two rows for one seed)."""


# --- scales ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Scale:
    """How values are analysed and effects shown: ``value`` maps a measured value to the
    analysis scale, ``show`` an analysis-scale effect (or level) to the display scale and
    ``unshow`` back; ``percent`` displays as %."""

    name: str
    value: Callable[[np.ndarray], np.ndarray]
    show: Callable[[float], float]
    unshow: Callable[[float], float]
    percent: bool = False


def _ident(x: Any) -> Any:
    return x


def _log_error(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if np.any(x >= 100.0) or np.any(x < 0):
        raise NotTestable("scale log_error needs accuracies in % strictly below 100")
    return -np.log(100.0 - x)


def _log(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if np.any(x <= 0):
        raise NotTestable("scale log_ratio needs positive values")
    return np.log(x)


def _atanh(x: Any) -> Any:
    return np.arctanh(np.clip(x, -_CLIP, _CLIP))


def _logit(x: Any) -> Any:
    x = np.clip(x, 1.0 - _CLIP, _CLIP)
    return np.log(x / (1.0 - x))


DIFF_SCALES = {
    "raw": Scale("raw", _ident, _ident, _ident),
    "log_error": Scale("log_error", _log_error, lambda t: 1.0 - math.exp(-t),
                       lambda r: -math.log(1.0 - r) if r < 1 else math.inf, percent=True),
    "log_ratio": Scale("log_ratio", _log, lambda t: math.exp(t) - 1.0,
                       lambda r: math.log(1.0 + r) if r > -1 else -math.inf, percent=True),
}
LEVEL_SCALES = {
    "raw": Scale("raw", _ident, _ident, _ident),
    "fisher_z": Scale("fisher_z", _atanh, lambda t: math.tanh(t), lambda r: float(_atanh(r))),
    "logit": Scale("logit", _logit, lambda t: 1.0 / (1.0 + math.exp(-t)),
                   lambda r: float(_logit(r))),
}


def _scale(t: dict, table: dict[str, Scale]) -> Scale:
    name = t.get("scale", "raw")
    if name not in table:
        raise ConfigError(f"scale '{name}' does not fit a {t.get('kind')} test; use one of "
                          f"{', '.join(table)} in paper/claims.yaml")
    return table[name]


# --- outcome --------------------------------------------------------------------------------
@dataclass
class Outcome:
    """One test's result on the display scale and its verdict."""

    verdict: str
    effect: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    p_value: float = math.nan      # one-sided, against the bound (reproduced side)
    p_sesoi: float = math.nan      # one-sided, against bound + sesoi (not-reproduced side)
    n: int = 0                     # independent replicates
    bound: float = math.nan
    sesoi: float = math.nan
    mde: float = math.nan
    seeds_needed: float = math.nan
    underpowered: bool = False
    direction: str = "greater"
    scale: str = "raw"
    unit: str = ""
    description: str = ""
    label: str = ""
    note: str = ""
    scope: str = ""
    guard: str = "-"
    run_dirs: list[str] = field(default_factory=list)


def _verdict(p_bound: float, p_sesoi: float, underpowered: bool, alpha: float = ALPHA) -> str:
    """The decision rule of the module docstring: a rejection decides; power qualifies only a
    non-decision. ``alpha``: the one-sided level (a sequential look's nominal level)."""
    if p_sesoi < alpha:
        return NOT_REPRODUCED
    if p_bound < alpha:
        return REPRODUCED
    return UNDERPOWERED if underpowered else INCONCLUSIVE


def decide(low: float, high: float, direction: str, bound: float = 0.0,
           sesoi: float = 0.0) -> str:
    """Verdict from a 95% interval alone (no power check): not reproduced when it lies wholly
    short of ``bound + sesoi`` on the claimed side, reproduced when wholly beyond ``bound``."""
    s = _sign(direction)
    if not (math.isfinite(low) and math.isfinite(high)):
        return INCONCLUSIVE
    near, far = (low, high) if s > 0 else (-high, -low)
    if far < s * bound + sesoi:
        return NOT_REPRODUCED
    return REPRODUCED if near > s * bound else INCONCLUSIVE


def _sign(direction: str) -> int:
    if direction == "greater":
        return 1
    if direction == "less":
        return -1
    raise ConfigError(f"claim direction '{direction}' is not greater/less; fix paper/claims.yaml")


# --- measurements ---------------------------------------------------------------------------
@dataclass
class Replicates:
    """One group's values per independent replicate (nested rows averaged)."""

    values: pd.Series          # index: replicate id
    run_dirs: list[str]
    units: list[str]           # labels of the units when a unit column nests rows
    nested: pd.DataFrame | None = None   # (replicate, value) of every nested row


def _has_quantity(df: pd.DataFrame, q: str) -> None:
    if not (df["quantity"] == q).any():
        raise NotTestable(f"quantity '{q}' is not in the measurements (written by an older "
                          f"table step? rerun the paper's table rule)")


def _select(df: pd.DataFrame, q: str, g: str) -> pd.DataFrame:
    _has_quantity(df, q)
    sel = df[(df["quantity"] == q) & (df["group"].astype(str) == str(g))]
    if sel.empty:
        known = sorted(df.loc[df["quantity"] == q, "group"].astype(str).unique())
        raise MissingMeasurements(f"no '{q}' measurements for group '{g}' (groups: "
                                  f"{', '.join(known)})")
    return sel


def _dirs(sel: pd.DataFrame) -> list[str]:
    return list(dict.fromkeys(str(d) for d in sel["run_dir"].dropna().astype(str) if d))


def replicates(df: pd.DataFrame, q: str, g: str) -> Replicates:
    """The values of quantity ``q`` of group ``g``, one per independent replicate.

    Without a ``unit`` column the replicate is the seed. With one, rows of several units are
    averaged per unit (the unit is the replicate: e.g. the retrain seeds of one search, or of
    one arch); rows of a single unit keep their seeds as replicates, conditional on that unit.

    Raises:
        MeasurementError: two rows for one seed (or one unit and seed).
    """
    sel = _select(df, q, g)
    has_unit = "unit" in sel.columns and sel["unit"].notna().all()
    nested = has_unit and sel["unit"].astype(str).nunique() > 1
    keys = ["unit", "seed"] if nested else ["seed"]
    dup = sel[sel.duplicated(keys, keep=False)]
    if len(dup):
        where = ", ".join(sorted({"/".join(str(v) for v in r) for r in
                                  dup[keys].itertuples(index=False)}))
        raise MeasurementError(
            f"measurement '{q}' of group '{g}' has more than one row for {'/'.join(keys)} "
            f"{where}; write one value per seed (or name the independent replicate in a "
            f"`unit` column)")
    if nested:
        unit = sel["unit"].astype(str)
        values = sel.groupby(unit)["value"].mean()
        rows = pd.DataFrame({"rep": unit.to_numpy(), "value": sel["value"].to_numpy(float)})
        return Replicates(values.astype(float), _dirs(sel), sorted(unit.unique()), rows)
    values = pd.Series(sel["value"].to_numpy(float), index=sel["seed"].to_numpy())
    single = sorted(sel["unit"].astype(str).unique()) if has_unit else []
    return Replicates(values.sort_index(), _dirs(sel), single)


def _units_scope(*reps: Replicates) -> str:
    units = sorted({u for r in reps for u in r.units})
    if not units:
        return ""
    if all(len(r.units) == 1 for r in reps):
        return f"conditional on {', '.join(units)}"
    return f"over {len(units)} independent units ({', '.join(units[:4])}" + \
        (", ..." if len(units) > 4 else "") + ")"


# --- normal-theory tests --------------------------------------------------------------------
@dataclass
class _Spread:
    """Analysis-scale estimate with its standard error and degrees of freedom; ``at(n)`` gives
    ``(se, df)`` for n replicates per arm (seeds needed)."""

    est: float
    se: float
    df: float
    n: int
    at: Callable[[int], tuple[float, float]] | None = None
    given: tuple[float, float] | None = None   # an asymmetric interval measured elsewhere


@functools.lru_cache(maxsize=4096)
def _tq(p: float, df: float) -> float:
    return float(stats.norm.ppf(p) if not math.isfinite(df) else stats.t.ppf(p, df))


def _needed(sp: _Spread, delta: float, power_q: float) -> float:
    """Smallest number of replicates whose MDE is at most ``delta`` (inf if none); the MDE
    falls with n, so a bisection over integers finds it."""
    if sp.at is None or delta <= 0:
        return math.nan

    def ok(n: int) -> bool:
        se, df = sp.at(n)
        return (_tq(1 - ALPHA, df) + _tq(power_q, df)) * se <= delta

    lo, hi = 2, MAX_REPLICATES
    if not ok(hi):
        return math.inf
    if ok(lo):
        return float(lo)
    while hi - lo > 1:  # invariant: not ok(lo), ok(hi)
        mid = (lo + hi) // 2
        lo, hi = (lo, mid) if ok(mid) else (mid, hi)
    return float(hi)


def _superiority(sp: _Spread, t: dict, scale: Scale, *, bound_default: float | None,
                 deterministic: bool, alpha: float = ALPHA) -> Outcome:
    s = _sign(t.get("direction", "greater"))
    bound = float(t["bound"]) if "bound" in t else bound_default
    if bound is None:
        raise ConfigError(f"a {t['kind']} test needs `bound`; fix paper/claims.yaml")
    sesoi = float(t["sesoi"])
    b, line = scale.unshow(bound), scale.unshow(bound + s * sesoi)
    delta = abs(line - b)
    out = Outcome(INCONCLUSIVE, n=sp.n, bound=bound, sesoi=sesoi, direction=t.get(
        "direction", "greater"), scale=scale.name, unit=t.get("unit", ""))
    if sp.se == 0.0 and not deterministic:
        raise NotTestable("zero spread across the replicates of a stochastic quantity (declare "
                          "`deterministic: true` only if it cannot vary with the seed)")
    out.effect = scale.show(sp.est)
    if not math.isfinite(sp.se):
        out.underpowered, out.mde, out.seeds_needed = True, math.inf, math.nan
        out.note = "one replicate: no spread to test against"
        out.verdict = UNDERPOWERED
        return out
    zq, z95 = _tq(1 - alpha, sp.df), _tq(1 - ALPHA, sp.df)
    out.ci_low, out.ci_high = scale.show(sp.est - zq * sp.se), scale.show(sp.est + zq * sp.se)
    if sp.given is not None:
        # the measured 95% interval as given; each one-sided p uses the half-width on its own
        # side (normal on the analysis scale), so p < ALPHA exactly when that end clears its
        # line (at another level the half-widths are rescaled)
        lo, hi = sp.given
        se_lo, se_hi = max(sp.est - lo, 1e-12) / z95, max(hi - sp.est, 1e-12) / z95
        if alpha != ALPHA:
            lo, hi = sp.est - zq * se_lo, sp.est + zq * se_hi
        out.ci_low, out.ci_high = scale.show(lo), scale.show(hi)
        se_b, se_l = (se_lo, se_hi) if s > 0 else (se_hi, se_lo)
        out.p_value = float(stats.norm.sf(s * (sp.est - b) / se_b))
        out.p_sesoi = float(stats.norm.cdf(s * (sp.est - line) / se_l))
    elif sp.se > 0:
        out.p_value = float(stats.t.sf(s * (sp.est - b) / sp.se, sp.df))
        out.p_sesoi = float(stats.t.cdf(s * (sp.est - line) / sp.se, sp.df))
    else:
        out.p_value = 0.0 if s * (sp.est - b) > 0 else 1.0
        out.p_sesoi = 0.0 if s * (sp.est - line) < 0 else 1.0
    mde = (z95 + _tq(POWER, sp.df)) * sp.se     # power of the fixed design, at ALPHA
    out.mde = abs(scale.show(b + s * mde) - bound)
    out.underpowered = mde > delta * (1 + 1e-9)
    out.seeds_needed = _needed(sp, delta, POWER) if sp.se > 0 else 1.0
    out.verdict = _verdict(out.p_value, out.p_sesoi, out.underpowered, alpha)
    if out.verdict == NOT_REPRODUCED and out.p_value < alpha:
        out.note = "beyond the bound, but smaller than the SESOI"
    return out


def _equivalence(sp: _Spread, t: dict, scale: Scale, deterministic: bool,
                 alpha: float = ALPHA) -> Outcome:
    m = float(t["margin"])
    lo, hi = scale.unshow(-m), scale.unshow(m)
    out = Outcome(INCONCLUSIVE, n=sp.n, bound=0.0, sesoi=m, direction="equivalent",
                  scale=scale.name, unit=t.get("unit", ""))
    if sp.se == 0.0 and not deterministic:
        raise NotTestable("zero spread across the replicates of a stochastic quantity (declare "
                          "`deterministic: true` only if it cannot vary with the seed)")
    out.effect = scale.show(sp.est)
    if not math.isfinite(sp.se):
        out.underpowered, out.mde, out.verdict = True, math.inf, UNDERPOWERED
        out.note = "one replicate: no spread to test against"
        return out
    zq, z95 = _tq(1 - alpha, sp.df), _tq(1 - ALPHA, sp.df)
    out.ci_low, out.ci_high = scale.show(sp.est - zq * sp.se), scale.show(sp.est + zq * sp.se)
    if sp.se > 0:
        sf = lambda x: float(stats.t.sf(x, sp.df))  # noqa: E731
        cdf = lambda x: float(stats.t.cdf(x, sp.df))  # noqa: E731
        out.p_value = max(sf((sp.est - lo) / sp.se), cdf((sp.est - hi) / sp.se))  # TOST
        out.p_sesoi = min(sf((sp.est - hi) / sp.se), cdf((sp.est - lo) / sp.se))
    else:
        out.p_value = 0.0 if lo < sp.est < hi else 1.0
        out.p_sesoi = 0.0 if not lo <= sp.est <= hi else 1.0
    power_q = 1.0 - (1.0 - POWER) / 2.0  # power of TOST at a true difference of 0
    mde = (z95 + _tq(power_q, sp.df)) * sp.se
    half = (hi - lo) / 2.0
    out.mde = scale.show(mde)
    out.underpowered = mde > half * (1 + 1e-9)
    out.seeds_needed = _needed(sp, half, power_q) if sp.se > 0 else 1.0
    out.verdict = _verdict(out.p_value, out.p_sesoi, out.underpowered, alpha)
    return out


def _difference_spread(df: pd.DataFrame, t: dict, scale: Scale) -> tuple[_Spread, list, str,
                                                                          list[Replicates]]:
    q, a, b = t["quantity"], t["a"], t["b"]
    ra, rb = replicates(df, q, a), replicates(df, q, b)
    paired = t.get("paired", False)
    if paired is True:
        raise ConfigError(f"test {q}: {a} - {b} sets `paired: true`; say which randomness the "
                          f"arms share (paired: \"...\") or drop it")
    ga = pd.Series(scale.value(ra.values.to_numpy()), index=ra.values.index)
    gb = pd.Series(scale.value(rb.values.to_numpy()), index=rb.values.index)
    dirs = ra.run_dirs + rb.run_dirs
    if paired:
        common = sorted(set(ga.index) & set(gb.index), key=str)
        if not common:
            raise MissingMeasurements(f"'{q}' of {a} and {b} share no replicate to pair")
        d = (ga.loc[common] - gb.loc[common]).to_numpy(float)
        n = len(d)
        sd = float(np.std(d, ddof=1)) if n > 1 else math.nan
        rho = 0.0
        if t.get("resampled"):
            n_tr = replicates(df, t["resampled"]["n_train"], a).values.mean()
            n_te = replicates(df, t["resampled"]["n_test"], a).values.mean()
            rho = float(n_te / n_tr)

        def at(k: int) -> tuple[float, float]:
            return sd * math.sqrt(1.0 / k + rho), float(k - 1)

        se = at(n)[0] if n > 1 else math.inf
        desc = f"{q}: {a} - {b} (paired: {paired})"
        if rho:
            desc += f", Nadeau-Bengio corrected (n_test/n_train = {rho:.2f})"
        return _Spread(float(d.mean()), se, float(max(n - 1, 1)), n, at if n > 1 else None), \
            dirs, desc, [ra, rb]
    xa, xb = ga.to_numpy(float), gb.to_numpy(float)
    na, nb = len(xa), len(xb)
    est = float(xa.mean() - xb.mean())
    desc = f"{q}: {a} - {b} (independent arms, Welch)"
    if na < 2 or nb < 2:
        return _Spread(est, math.inf, 1.0, min(na, nb)), dirs, desc, [ra, rb]
    va, vb = float(np.var(xa, ddof=1)), float(np.var(xb, ddof=1))
    se = math.sqrt(va / na + vb / nb)
    dfw = se**4 / ((va / na) ** 2 / (na - 1) + (vb / nb) ** 2 / (nb - 1)) if se > 0 else \
        float(na + nb - 2)

    def at_w(k: int) -> tuple[float, float]:
        s2 = (va + vb) / k
        den = ((va / k) ** 2 + (vb / k) ** 2) / (k - 1)
        return math.sqrt(s2), (s2**2 / den if den > 0 else float(2 * k - 2))

    return _Spread(est, se, dfw, min(na, nb), at_w), dirs, desc, [ra, rb]


def _test_difference(df: pd.DataFrame, t: dict, equivalence: bool = False,
                     alpha: float = ALPHA) -> Outcome:
    scale = _scale(t, DIFF_SCALES)
    sp, dirs, desc, reps = _difference_spread(df, t, scale)
    det = bool(t.get("deterministic", False))
    if equivalence:
        out = _equivalence(sp, t, scale, det, alpha)
        out.description = desc + f", equivalent within ±{_plain(out.sesoi, scale.name)}"
    else:
        out = _superiority(sp, t, scale, bound_default=0.0, deterministic=det, alpha=alpha)
        out.description = desc + (f" {'>' if out.direction == 'greater' else '<'} "
                                  f"{_plain(out.bound, scale.name)}")
    out.label = f"{t['a']} - {t['b']}"
    out.run_dirs, out.scope = dirs, _units_scope(*reps)
    return out


def _test_threshold(df: pd.DataFrame, t: dict, alpha: float = ALPHA) -> Outcome:
    q, g = t["quantity"], t["group"]
    scale = _scale(t, LEVEL_SCALES)
    rep = replicates(df, q, g)
    det = bool(t.get("deterministic", False))
    dirs = list(rep.run_dirs)
    x = rep.values.to_numpy(float)
    if t.get("ci_quantities"):
        if len(x) != 1:
            raise ConfigError(f"threshold test on {q} of {g} gives ci_quantities but has "
                              f"{len(x)} rows; ci_quantities is for one measured value")
        lo_q, hi_q = t["ci_quantities"]
        lo, hi = (float(replicates(df, lo_q, g).values.iloc[0]),
                  float(replicates(df, hi_q, g).values.iloc[0]))
        z = _tq(1 - ALPHA, math.inf)
        glo, ghi = float(scale.value(np.array(lo))), float(scale.value(np.array(hi)))
        se = (ghi - glo) / (2 * z)
        n = 1
        if t.get("n_quantity"):
            try:
                n = int(replicates(df, t["n_quantity"], g).values.iloc[0])
            except NotTestable:
                n = 1
        base = max(n, 1)
        sp = _Spread(float(scale.value(np.array(x[0]))), se, math.inf, n,
                     (lambda k: (se * math.sqrt(base / k), math.inf)) if n > 1 else None,
                     given=(glo, ghi))
        desc = f"{q} of {g} (its own 95% interval)"
    elif t.get("n_quantity"):
        ns = replicates(df, t["n_quantity"], g).values.reindex(rep.values.index).to_numpy(float)
        if np.any(~np.isfinite(ns)) or np.any(ns <= 4):
            raise NotTestable(f"{q} of {g}: every tau needs more than 4 pairs "
                              f"({t['n_quantity']} = {ns.tolist()})")
        w = (ns - 4.0) / FIELLER
        z = np.asarray(_atanh(x), dtype=float)
        se = math.sqrt(1.0 / w.sum())
        total = float(ns.sum())
        sp = _Spread(float((w * z).sum() / w.sum()), se, math.inf, int(total),
                     lambda k: (se * math.sqrt(total / k), math.inf))
        desc = f"{q} of {g}: Fisher-z pooled Kendall tau over {len(x)} estimate(s)"
    else:
        gx = np.asarray(scale.value(x), dtype=float)
        n = len(gx)
        sd = float(np.std(gx, ddof=1)) if n > 1 else math.nan
        sp = _Spread(float(gx.mean()), sd / math.sqrt(n) if n > 1 else math.inf,
                     float(max(n - 1, 1)), n,
                     (lambda k: (sd / math.sqrt(k), float(k - 1))) if n > 1 else None)
        desc = f"mean {q} of {g}" + (f" ({scale.name} scale)" if scale.name != "raw" else "")
    out = _superiority(sp, t, scale, bound_default=None, deterministic=det, alpha=alpha)
    out.description = desc + f" {'>' if out.direction == 'greater' else '<'} {out.bound:g}"
    out.label, out.run_dirs, out.scope = f"{q} of {g}", dirs, _units_scope(rep)
    return out


# --- bootstrap tests (Kendall tau) ----------------------------------------------------------
def _tau(x: np.ndarray, y: np.ndarray) -> float:
    """Kendall tau-b (as ``scipy.stats.kendalltau``), O(n^2) in numpy: fast for the small
    samples that the bootstrap resamples thousands of times."""
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    i, j = np.triu_indices(len(x), 1)
    dx, dy = np.sign(x[i] - x[j]), np.sign(y[i] - y[j])
    den = math.sqrt(float(np.count_nonzero(dx)) * float(np.count_nonzero(dy)))
    return float((dx * dy).sum() / den) if den > 0 else math.nan


def _combined(strata: list[tuple[np.ndarray, np.ndarray]], idx: list[np.ndarray]) -> float:
    taus, w = [], []
    for (x, y), i in zip(strata, idx, strict=True):
        v = _tau(x[i], y[i])
        if math.isfinite(v):
            taus.append(v)
            w.append(len(i))
    return float(np.average(taus, weights=w)) if taus else math.nan


def _bootstrap(strata: list[tuple[np.ndarray, np.ndarray]], t: dict, scale_unit: str,
               n: int, alpha: float = ALPHA) -> Outcome:
    """Kendall tau (weighted over strata) with a bootstrap of units within strata."""
    s = _sign(t.get("direction", "greater"))
    bound = float(t.get("bound", t.get("threshold", 0.0)))
    sesoi = float(t["sesoi"])
    line = bound + s * sesoi
    full = [np.arange(len(x)) for x, _ in strata]
    est = _combined(strata, full)
    out = Outcome(INCONCLUSIVE, n=n, bound=bound, sesoi=sesoi,
                  direction=t.get("direction", "greater"), scale="raw", unit=scale_unit)
    if not math.isfinite(est):
        raise NotTestable("Kendall tau is undefined (fewer than 2 units or a constant side)")
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    reps = np.array([_combined(strata, [rng.integers(0, len(x), len(x)) for x, _ in strata])
                     for _ in range(N_BOOT)])
    reps = reps[np.isfinite(reps)]
    out.effect = est
    if len(reps) < N_BOOT // 2:
        raise NotTestable("too few units: most bootstrap resamples have no tau")
    out.ci_low, out.ci_high = (float(v) for v in np.quantile(reps, [alpha, 1 - alpha]))
    if np.ptp(reps) == 0 and not t.get("deterministic"):
        raise NotTestable("zero spread across the bootstrap resamples of a stochastic quantity")
    k = len(reps)
    out.p_value = (1 + int(np.sum(s * (reps - bound) <= 0))) / (k + 1)
    out.p_sesoi = (1 + int(np.sum(s * (reps - line) >= 0))) / (k + 1)
    se = float(np.std(reps, ddof=1))
    mde = (_tq(1 - ALPHA, math.inf) + _tq(POWER, math.inf)) * se
    out.mde = mde
    out.underpowered = mde > sesoi * (1 + 1e-9)
    out.seeds_needed = float(math.ceil(n * (mde / sesoi) ** 2)) if sesoi > 0 else math.nan
    out.verdict = _verdict(out.p_value, out.p_sesoi, out.underpowered, alpha)
    return out


def _reliability(reps: list[Replicates]) -> tuple[float, int]:
    """Reliability of unit means from their nested replicates (one-way ICC, Spearman-Brown at
    the mean replicate count) and the number of units with repeats."""
    rows = pd.concat([r.nested.assign(rep=r.nested["rep"] + f"@{i}")
                      for i, r in enumerate(reps) if r.nested is not None], ignore_index=True) \
        if any(r.nested is not None for r in reps) else None
    if rows is None:
        return math.nan, 0
    g = rows.groupby("rep")["value"]
    k, means = g.size(), g.mean()
    n_tot, u = int(k.sum()), len(k)
    repeated = int((k > 1).sum())
    if repeated == 0 or u < 2 or n_tot <= u:
        return math.nan, repeated
    grand = float(rows["value"].mean())
    msb = float((k * (means - grand) ** 2).sum() / (u - 1))
    msw = float(((rows["value"] - rows["rep"].map(means)) ** 2).sum() / (n_tot - u))
    k0 = (n_tot - float((k**2).sum()) / n_tot) / (u - 1)
    icc = (msb - msw) / (msb + (k0 - 1) * msw) if msb + (k0 - 1) * msw > 0 else math.nan
    if not math.isfinite(icc):
        return math.nan, repeated
    icc = max(icc, 0.0)
    kbar = n_tot / u
    return kbar * icc / (1 + (kbar - 1) * icc), repeated


def _test_correlation(df: pd.DataFrame, t: dict, alpha: float = ALPHA) -> Outcome:
    qx, qy = t["x"], t["y"]
    _has_quantity(df, qx)
    _has_quantity(df, qy)
    groups = t.get("groups") or sorted(df.loc[df["quantity"] == qx, "group"].astype(str).unique())
    strata, dirs, ys, n = [], [], [], 0
    for g in groups:
        rx, ry = replicates(df, qx, g), replicates(df, qy, g)
        common = sorted(set(rx.values.index) & set(ry.values.index), key=str)
        if len(common) < 2:
            continue
        strata.append((rx.values.loc[common].to_numpy(float),
                       ry.values.loc[common].to_numpy(float)))
        dirs += rx.run_dirs + ry.run_dirs
        ys.append(ry)
        n += len(common)
    if not strata:
        raise NotTestable(f"no stratum has 2 units with both '{qx}' and '{qy}'")
    out = _bootstrap(strata, t, "tau", n, alpha)
    label = f"Kendall tau({qx}, {qy})"
    if len(strata) > 1:
        label += f" within {len(strata)} strata ({', '.join(map(str, groups))})"
    out.description = f"{label} {'>' if out.direction == 'greater' else '<'} {out.bound:g}"
    out.label, out.run_dirs = f"tau({qx}, {qy})", list(dict.fromkeys(dirs))
    if t.get("reliability"):
        rel, k = _reliability(ys)
        if math.isfinite(rel):
            ceiling = 2.0 / math.pi * math.asin(math.sqrt(rel))
            out.note = (f"reliability ceiling of tau from {qy}'s own noise: {ceiling:.2f} "
                        f"(reliability {rel:.2f} from {k} units with repeats)")
        else:
            out.note = f"reliability ceiling unknown: no unit of '{qy}' has repeats"
    out.scope = _units_scope(*ys)
    return out


def _test_trend(df: pd.DataFrame, t: dict, alpha: float = ALPHA) -> Outcome:
    q, groups = t["quantity"], list(t["groups"])
    xs, ys, dirs, reps = [], [], [], []
    for rank, g in enumerate(groups):
        r = replicates(df, q, g)
        reps.append(r)
        xs.extend([rank] * len(r.values))
        ys.extend(r.values.to_numpy(float))
        dirs += r.run_dirs
    x, y = np.asarray(xs, float), np.asarray(ys, float)
    # stratified bootstrap: resample the replicates within each group
    est = _tau(x, y)
    if not math.isfinite(est):
        raise NotTestable(f"'{q}' is constant along {groups}: no trend to measure")
    s = _sign(t.get("direction", "less"))
    bound, sesoi = float(t.get("bound", 0.0)), float(t["sesoi"])
    line = bound + s * sesoi
    rng = np.random.default_rng(BOOTSTRAP_SEED)
    blocks = [np.flatnonzero(x == k) for k in range(len(groups))]
    boot = []
    for _ in range(N_BOOT):
        i = np.concatenate([rng.choice(b, len(b)) for b in blocks if len(b)])
        boot.append(_tau(x[i], y[i]))
    arr = np.asarray(boot)
    arr = arr[np.isfinite(arr)]
    out = Outcome(INCONCLUSIVE, effect=est, n=len(y), bound=bound, sesoi=sesoi,
                  direction=t.get("direction", "less"), unit="tau")
    if np.ptp(arr) == 0 and not t.get("deterministic"):
        raise NotTestable(f"'{q}' shows zero spread within every group: a stochastic quantity "
                          f"cannot be tested without variance")
    out.ci_low, out.ci_high = (float(v) for v in np.quantile(arr, [alpha, 1 - alpha]))
    k = len(arr)
    out.p_value = (1 + int(np.sum(s * (arr - bound) <= 0))) / (k + 1)
    out.p_sesoi = (1 + int(np.sum(s * (arr - line) >= 0))) / (k + 1)
    se = float(np.std(arr, ddof=1))
    mde = (_tq(1 - ALPHA, math.inf) + _tq(POWER, math.inf)) * se
    out.mde, out.underpowered = mde, mde > sesoi * (1 + 1e-9)
    per_group = len(y) / len(groups)
    out.seeds_needed = float(math.ceil(per_group * (mde / sesoi) ** 2))
    out.verdict = _verdict(out.p_value, out.p_sesoi, out.underpowered, alpha)
    out.description = (f"Kendall tau of {q} along {' -> '.join(groups)} "
                       f"{'<' if s < 0 else '>'} {bound:g}")
    out.label, out.run_dirs, out.scope = f"trend of {q}", list(dict.fromkeys(dirs)), \
        _units_scope(*reps)
    return out


# --- all_of ---------------------------------------------------------------------------------
def _distance(p: Outcome) -> float:
    """Signed distance of the interval's near end beyond its own bound, in SESOIs."""
    if p.direction == "equivalent":
        edge = min(p.sesoi - p.ci_high, p.ci_low + p.sesoi) if math.isfinite(p.ci_low) else \
            -math.inf
        return edge / p.sesoi if p.sesoi > 0 else edge
    near = p.ci_low if p.direction == "greater" else p.ci_high
    if not math.isfinite(near):
        return -math.inf
    d = (near - p.bound) * _sign(p.direction)
    return d / p.sesoi if p.sesoi > 0 else d


def _all_of(df: pd.DataFrame, t: dict, alpha: float = ALPHA) -> Outcome:
    parts = [run_test(df, sub, alpha) for sub in t["tests"]]
    k = len(parts)
    p_r = max(p.p_value if math.isfinite(p.p_value) else 1.0 for p in parts)
    p_nr = [p.p_sesoi if math.isfinite(p.p_sesoi) else 1.0 for p in parts]
    holm = min(1.0, k * min(p_nr))          # the smallest Holm-adjusted p
    under = any(p.underpowered for p in parts)
    verdict = _verdict(p_r, holm, under, alpha)
    if verdict == UNDERPOWERED:
        shown = max(parts, key=lambda p: (p.mde / p.sesoi) if p.sesoi > 0 else math.inf)
    elif verdict == NOT_REPRODUCED:
        shown = parts[int(np.argmin(p_nr))]
    else:
        shown = min(parts, key=_distance)
    desc = "all of: " + "; ".join(
        f"{p.label} = {_plain(p.effect, p.scale, sign=True)} [{_plain(p.ci_low, p.scale)}, "
        f"{_plain(p.ci_high, p.scale)}] "
        f"{p.verdict}" for p in parts)
    notes = [p.note for p in parts if p.note]
    return Outcome(
        verdict, shown.effect, shown.ci_low, shown.ci_high, p_r, holm,
        min(p.n for p in parts), shown.bound, shown.sesoi, shown.mde, shown.seeds_needed,
        under, shown.direction, shown.scale, shown.unit, desc,
        label=f"all of {k}", note="; ".join(dict.fromkeys(
            [f"shown: {shown.label}; p = max over parts (intersection-union), p_sesoi "
             f"Holm-adjusted over {k} parts", *notes])),
        scope="; ".join(dict.fromkeys(p.scope for p in parts if p.scope)),
        run_dirs=list(dict.fromkeys(d for p in parts for d in p.run_dirs)))


def run_test(df: pd.DataFrame, t: dict, alpha: float = ALPHA) -> Outcome:
    """Evaluate one test spec (see the module docstring) on a measurements frame, each
    one-sided test at ``alpha`` (the interval at ``1 - 2 alpha``)."""
    kind = t.get("kind")
    if kind != "all_of" and kind in KINDS and "sesoi" not in t and "margin" not in t:
        raise ConfigError(f"a {kind} test lacks `sesoi` (the smallest effect of interest); "
                          f"add it to paper/claims.yaml")
    if kind == "difference":
        return _test_difference(df, t, alpha=alpha)
    if kind == "equivalence":
        return _test_difference(df, t, equivalence=True, alpha=alpha)
    if kind == "threshold":
        return _test_threshold(df, t, alpha)
    if kind == "correlation":
        return _test_correlation(df, t, alpha)
    if kind == "trend":
        return _test_trend(df, t, alpha)
    if kind == "all_of":
        return _all_of(df, t, alpha)
    raise ConfigError(f"claim test kind '{kind}' is unknown; use one of {', '.join(KINDS)} "
                      f"in paper/claims.yaml")


# --- guards ---------------------------------------------------------------------------------
def _guard_values(df: pd.DataFrame, g: dict) -> dict[str, np.ndarray]:
    q = g["quantity"]
    try:
        _has_quantity(df, q)
    except NotTestable as exc:
        raise NotTestable(f"guard '{g.get('why', g['check'])}' needs quantity '{q}', which "
                          f"is not in the measurements (rerun the paper's table rule)") from exc
    sel = df[df["quantity"] == q]
    groups = g.get("groups") or ([g["group"]] if "group" in g else
                                 list(dict.fromkeys(sel["group"].astype(str))))
    out = {}
    for grp in groups:
        v = sel.loc[sel["group"].astype(str) == str(grp), "value"].to_numpy(float)
        if v.size == 0:
            raise MissingMeasurements(f"guard on '{q}': group '{grp}' was not run")
        out[str(grp)] = v
    return out


def _chance(df: pd.DataFrame, g: dict) -> float:
    sel = df.loc[df["quantity"] == "chance_acc", "value"]
    return float(sel.iloc[0]) if len(sel) else float(g.get("chance", math.nan))


def check_guard(df: pd.DataFrame, g: dict) -> tuple[bool, str]:
    """``(passed, text)`` of one guard (see the module docstring)."""
    check, why = g["check"], g.get("why", "")
    vals = _guard_values(df, g)
    q = g["quantity"]
    stat = {"mean": np.mean, "min": np.min, "max": np.max}[g.get("stat", "mean")]
    if check in ("above", "below"):
        thr = float(g["value"])
        rel = ""
        if g.get("relative_to") == "chance":
            c = _chance(df, g)
            thr, rel = thr + c, f" (chance {c:g} + {float(g['value']):g})"
        agg = {k: float(stat(v)) for k, v in vals.items()}
        ok = {k: (v > thr if check == "above" else v < thr) for k, v in agg.items()}
        need_all = g.get("require", "all") == "all"
        passed = all(ok.values()) if need_all else any(ok.values())
        shown = ", ".join(f"{k} {v:.3g}" for k, v in agg.items())
        text = (f"{g.get('stat', 'mean')} {q} {'>' if check == 'above' else '<'} {thr:.3g}{rel} "
                f"in {'every' if need_all else 'some'} group: {shown}")
    elif check == "distinct":
        names = list(vals)
        same = [f"{a} = {b}" for a, b in zip(names, names[1:], strict=False)
                if len(vals[a]) == len(vals[b]) and np.array_equal(vals[a], vals[b])]
        passed = not same
        text = f"{q} differs between consecutive groups" + (
            f"; identical in every seed: {', '.join(same)}" if same else "")
    elif check == "equals":
        target = float(g["value"])
        agg = {k: float(np.mean(v)) for k, v in vals.items()}
        passed = all(math.isclose(v, target) for v in agg.values())
        text = f"{q} = {target:g}: " + ", ".join(f"{k} {v:g}" for k, v in agg.items())
    elif check == "matched":
        ref = str(g["reference"])
        tol = float(g["tolerance"])
        if ref not in vals:
            vals.update(_guard_values(df, {**g, "groups": [ref]}))
        base = float(np.mean(vals[ref]))
        gaps = {k: float(np.mean(v)) / base - 1.0 for k, v in vals.items() if k != ref}
        passed = all(abs(v) <= tol for v in gaps.values())
        text = (f"mean {q} within ±{tol:.0%} of {ref}: " +
                ", ".join(f"{k} {v:+.0%}" for k, v in gaps.items()))
    else:
        raise ConfigError(f"guard check '{check}' is unknown; use above, below, distinct, "
                          f"equals or matched in paper/claims.yaml")
    return passed, (f"{why}: " if why else "") + text


# --- claims file ----------------------------------------------------------------------------
def _leaves(t: dict) -> list[dict]:
    return [x for sub in t.get("tests", []) for x in _leaves(sub)] if t.get("kind") == "all_of" \
        else [t]


def load_claims(path: str | Path) -> list[dict]:
    """Read and check ``paper/claims.yaml``: unique ids, every test with a SESOI (or margin),
    every claim with the source of its SESOI, and ``seeds_key`` (optional: the config seed
    lists that replicate the claim, for ``nasrepro sequential-plan``) naming seed lists."""
    path = Path(path)
    if not path.exists():
        raise ConfigError(f"claims file {path} does not exist; restore paper/claims.yaml")
    claims = yaml.safe_load(path.read_text()) or []
    if not isinstance(claims, list):
        raise ConfigError(f"{path} must be a YAML list of claims; fix its top level")
    seen: set[str] = set()
    for c in claims:
        missing = [k for k in ("id", "paper", "statement", "reads", "test") if k not in c]
        if missing:
            raise ConfigError(f"claim {c.get('id', '?')} in {path} lacks {', '.join(missing)}; "
                              f"add them")
        if c["id"] in seen:
            raise ConfigError(f"claim id {c['id']} appears twice in {path}; make ids unique")
        seen.add(c["id"])
        for leaf in _leaves(c["test"]):
            if leaf.get("kind") in KINDS and "sesoi" not in leaf and "margin" not in leaf:
                raise ConfigError(f"claim {c['id']} in {path}: a {leaf.get('kind')} test lacks "
                                  f"`sesoi`; state the smallest effect of interest")
        keys = c.get("seeds_key", [])
        keys = [keys] if isinstance(keys, str) else keys
        if not isinstance(keys, list) or not all(
                isinstance(k, str) and re.fullmatch(r"[a-z0-9_]+\.[a-z_]*seeds", k) for k in keys):
            raise ConfigError(f"claim {c['id']} in {path}: seeds_key {keys!r} must name config "
                              f"seed lists as <paper>.<key> (e.g. spos.seeds), one or a list")
        if "sesoi_source" not in c:
            raise ConfigError(f"claim {c['id']} in {path} lacks `sesoi_source` (where its "
                              f"SESOI comes from); add it")
    return claims


def _r(x: float, digits: int = 4) -> float:
    x = float(x)
    return round(x, digits) if math.isfinite(x) else (math.inf if x == math.inf else math.nan)


def evaluate_claim(c: dict, df: pd.DataFrame, alpha: float = ALPHA) -> Outcome:
    """One claim: its test (at one-sided ``alpha``), then its guards (a failed guard makes it
    'not testable')."""
    try:
        out = run_test(df, c["test"], alpha)
    except NotTestable as exc:
        out = Outcome(NOT_TESTABLE, note=str(exc))
    guard_texts, failed = [], []
    for g in c.get("guards", []):
        try:
            ok, text = check_guard(df, g)
        except NotTestable as exc:
            ok, text = False, str(exc)
        (guard_texts if ok else failed).append(text)
    out.scope = "; ".join(x for x in (c.get("scope", ""), out.scope) if x)
    if failed:
        out.verdict = NOT_TESTABLE
        out.p_value = out.p_sesoi = math.nan
        out.guard = "failed: " + "; ".join(failed)
    else:
        out.guard = "ok" if guard_texts else "-"
    return out


def evaluate_claims(claims: list[dict], tables_dir: str | Path,
                    papers: Sequence[str] | None = None, fdr: str = "none",
                    power_first: bool = False, alpha: float = ALPHA) -> pd.DataFrame:
    """One row per claim: effect, CI, p-values, n, SESOI, MDE, seeds needed, guard status,
    verdict, scope and source run dirs.

    Args:
        claims: from :func:`load_claims`.
        tables_dir: ``results/<profile>/tables`` (where the measurements CSVs are).
        papers: papers that ran in this profile; claims of the others are 'not run'.
        fdr: ``none`` or ``bh`` (Benjamini-Hochberg over the tested claims).
        power_first: issue 10's literal rule: an underpowered design is "underpowered" even
            when its interval decides (the default lets a level-0.025 rejection decide and
            uses power only to qualify a non-decision; see the module docstring).
        alpha: the one-sided level of each decision (a sequential look's nominal level,
            :mod:`nasrepro.reporting.sequential`); MDE and seeds needed stay at ``ALPHA``.
    """
    tables_dir = Path(tables_dir)
    frames: dict[str, pd.DataFrame] = {}
    rows = []
    for c in claims:
        src = tables_dir / c["reads"]
        try:
            if papers is not None and c["paper"] not in papers:
                raise MissingMeasurements(f"paper {c['paper']} is not enabled in this profile")
            if not src.exists():
                raise MissingMeasurements(f"{c['reads']} was not written")
            if c["reads"] not in frames:
                frames[c["reads"]] = pd.read_csv(src)
            out = evaluate_claim(c, frames[c["reads"]], alpha)
            if power_first and out.underpowered and out.verdict in TESTED:
                out.verdict = UNDERPOWERED
        except MissingMeasurements as exc:
            out = Outcome(NOT_RUN, note=str(exc))
        except MeasurementError as exc:
            raise MeasurementError(f"claim {c['id']} ({c['reads']}): {exc}") from exc
        except KeyError as exc:
            raise ConfigError(f"claim {c['id']} test lacks key {exc}; fix paper/claims.yaml") \
                from exc
        rows.append({
            "id": c["id"], "paper": c["paper"], "statement": " ".join(c["statement"].split()),
            "test": out.description or c["test"].get("kind", ""),
            "scale": out.scale, "direction": out.direction,
            "effect": _r(out.effect), "ci_low": _r(out.ci_low), "ci_high": _r(out.ci_high),
            "p_value": _r(out.p_value, 5), "p_sesoi": _r(out.p_sesoi, 5), "n": out.n,
            "bound": _r(out.bound), "sesoi": _r(out.sesoi), "mde": _r(out.mde),
            "seeds_needed": _r(out.seeds_needed, 0), "guard": out.guard, "verdict": out.verdict,
            "scope": out.scope, "note": out.note,
            "sesoi_source": " ".join(str(c.get("sesoi_source", "")).split()),
            "run_dirs": ";".join(out.run_dirs),
        })
    df = pd.DataFrame(rows)
    if fdr not in FDR_METHODS:
        raise ConfigError(f"claims.fdr '{fdr}' is unknown; use one of {', '.join(FDR_METHODS)}")
    if fdr == "bh" and len(df):
        df = _benjamini_hochberg(df, power_first, alpha)
    return df


def _benjamini_hochberg(df: pd.DataFrame, power_first: bool = False,
                        alpha: float = ALPHA) -> pd.DataFrame:
    """Adjust both p columns of the tested claims (BH) and redo their verdicts."""
    df = df.copy()
    tested = df["verdict"].isin(TESTED)
    if tested.sum() == 0:
        return df
    for col in ("p_value", "p_sesoi"):
        p = df.loc[tested, col].fillna(1.0).to_numpy(float)
        df.loc[tested, col] = np.round(stats.false_discovery_control(p, method="bh"), 5)
    mde = df.loc[tested, "mde"].astype(float).fillna(np.inf)
    under = mde > df.loc[tested, "sesoi"].astype(float).fillna(0.0) * (1 + 1e-9)
    df.loc[tested, "verdict"] = [UNDERPOWERED if power_first and u else _verdict(a, b, u, alpha)
                                 for a, b, u in zip(df.loc[tested, "p_value"],
                                                    df.loc[tested, "p_sesoi"], under,
                                                    strict=True)]
    df.loc[tested, "note"] = [("; " if n else "") .join(x for x in (n, "p values BH-adjusted "
                                                                   "over the tested claims")
                                                         if x)
                              for n in df.loc[tested, "note"]]
    return df


# --- presentation ---------------------------------------------------------------------------
def _plain(x: float, scale: str, sign: bool = False) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if math.isinf(x):
        return "∞"
    if scale in ("log_error", "log_ratio"):
        return f"{100 * x:{'+' if sign else ''}.2g} %"
    return f"{x:{'+' if sign else ''}.3g}"


def _scale_name(scale: str) -> str:
    return {"log_error": " rel. err.", "log_ratio": " rel."}.get(scale, "")


def _p(x: float) -> str:
    return "-" if not isinstance(x, float) or math.isnan(x) else (
        "<0.001" if x < 0.001 else f"{x:.3f}")


def _cell(x: Any) -> str:
    if isinstance(x, float):
        return "-" if math.isnan(x) else f"{x:.2f}"
    return str(x) if x is not None else "-"


def claims_view(claims: pd.DataFrame) -> pd.DataFrame:
    """The claims table as shown (Markdown/LaTeX and REPORT.md): the item-7 columns, plus the
    sequential look's (``look``; at look 1 conditional power and continue) when present."""
    ci_col = "CI" if "look" in claims.columns else "95% CI"
    extra = {c: c.replace("_", " ") for c in ("look", "conditional_power", "continue")
             if c in claims.columns}
    def row(r: pd.Series) -> dict[str, str]:
        sc = str(r.get("scale", "raw"))
        ci = "-" if not (math.isfinite(r["ci_low"]) and math.isfinite(r["ci_high"])) else \
            f"[{_plain(r['ci_low'], sc)}, {_plain(r['ci_high'], sc)}]"
        if r.get("direction") == "equivalent":
            ses = f"±{_plain(r['sesoi'], sc)}{_scale_name(sc)}"
        elif isinstance(r["sesoi"], float) and math.isfinite(r["sesoi"]):
            s = 1 if r.get("direction") != "less" else -1
            ses = (f"{_plain(r['sesoi'], sc)}{_scale_name(sc)} "
                   f"(line {_plain(r['bound'] + s * r['sesoi'], sc)})")
        else:
            ses = "-"
        need = r["seeds_needed"]
        need_s = "-" if not isinstance(need, float) or math.isnan(need) else (
            "∞" if math.isinf(need) else f"{int(need)}")
        return {
            "id": r["id"], "claim": r["statement"],
            "effect": _plain(r["effect"], sc, sign=True), ci_col: ci,
            "p (bound)": _p(r["p_value"]), "p (SESOI)": _p(r["p_sesoi"]),
            "n": str(int(r["n"])) if r["n"] else "-", "SESOI": ses,
            "MDE": _plain(r["mde"], sc), "seeds needed": need_s,
            "guard": str(r["guard"]) if isinstance(r["guard"], str) else "-",
            "verdict": f"**{r['verdict']}**",
            "scope / note": "; ".join(str(x) for x in (r["scope"], r["note"])
                                      if isinstance(x, str) and x) or "-",
            **{shown: _cell(r[c]) for c, shown in extra.items()},
        }

    cols = ["id", "claim", "effect", ci_col, "p (bound)", "p (SESOI)", "n", "SESOI", "MDE",
            "seeds needed", "guard", "verdict", *extra.values(), "scope / note"]
    return pd.DataFrame([row(r) for _, r in claims.iterrows()], columns=cols)


def family_summary(claims: pd.DataFrame, fdr: str = "none") -> str:
    """Family-level honesty: how many decisive verdicts chance alone would give."""
    v = claims["verdict"].value_counts()
    m = int(sum(v.get(x, 0) for x in TESTED))
    dec = int(v.get(REPRODUCED, 0) + v.get(NOT_REPRODUCED, 0))
    counts = ", ".join(f"{v.get(x, 0)} {x}" for x in VERDICTS if v.get(x, 0))
    text = (f"Verdicts: {counts}. {m} claim(s) were tested (guards passed); "
            f"each decision is a one-sided test at {ALPHA}, so chance alone would give at most "
            f"{m * ALPHA:.2f} decisive verdict(s) among them (observed: {dec}).")
    text += (" p-values are Benjamini-Hochberg adjusted across the tested claims."
             if fdr == "bh" else
             " No correction across claims (set `claims: {fdr: bh}` in the config for "
             "Benjamini-Hochberg).")
    return text


def write_claims(config: dict, claims_file: str | Path, out_dir: str | Path,
                 tables_dir: str | Path | None = None) -> pd.DataFrame:
    """Evaluate ``claims_file`` on ``results/<profile>/tables`` (or ``tables_dir``) and write
    ``claims.{csv,md,tex}`` into ``out_dir``."""
    from nasrepro.config import profile_dir
    from nasrepro.io import atomic_path
    from nasrepro.reporting.sequential import Design
    from nasrepro.reporting.tables import render_table

    fdr = str((config.get("claims") or {}).get("fdr", "none"))
    power_first = bool((config.get("claims") or {}).get("power_first", False))
    design = Design.from_config((config.get("claims") or {}).get("sequential"), ALPHA)
    if design is not None and fdr != "none":
        raise ConfigError("claims.sequential and claims.fdr: bh cannot be combined (BH would mix "
                          "p-values of two looks); drop one of them")
    src = Path(tables_dir) if tables_dir else profile_dir(config) / "tables"
    df = evaluate_claims(load_claims(claims_file), src, papers=config.get("papers"), fdr=fdr,
                         power_first=power_first,
                         alpha=design.look_alpha if design else ALPHA)
    rule = DECISION_RULE_POWER_FIRST if power_first else DECISION_RULE
    if design is not None:
        df = design.annotate(df)
        rule = rule.replace("effect and 95% interval", "effect and interval (at the level of "
                            "the row's look, below)") + " " + design.describe()
    caption = (f"Claims of the four papers checked on the {config['profile']} profile "
               f"({len(config['seeds'])} seeds). {rule} {family_summary(df, fdr)}")
    texts = render_table(claims_view(df), caption=caption)
    texts["csv"] = df.to_csv(index=False, lineterminator="\n")
    out = Path(out_dir)
    for ext in ("csv", "md", "tex"):
        with atomic_path(out / f"claims.{ext}") as tmp:
            tmp.write_text(texts[ext], encoding="utf-8")
    return df


#: the verdict words in one paragraph (caption of claims.md, REPORT.md)
DECISION_RULE = (
    "Each claim states a bound and a smallest effect size of interest (SESOI, at most the "
    "paper's effect, source in paper/claims.yaml); effect and 95% interval on the claim's scale "
    "(relative error for accuracies). Not reproduced: the interval excludes the SESOI "
    "line (bound + SESOI) on the claimed side, so the paper's effect is ruled out. Reproduced: "
    "the interval lies wholly beyond the bound. Underpowered: neither, and at this n the "
    "minimum detectable effect (MDE, 80% power) exceeds the SESOI; seeds needed = replicates "
    "for 80% power at the SESOI. Inconclusive: neither, at adequate power. Not testable: a "
    "validity guard fails or a needed quantity is missing. Not run: paper or group disabled. "
    "p (bound) and p (SESOI): one-sided p-values of the two decisions, each at 0.025."
)
#: the caption's rule under ``claims: {power_first: true}`` (issue 10's literal rule)
DECISION_RULE_POWER_FIRST = DECISION_RULE.replace(
    "Underpowered: neither, and at this n", "Underpowered (decided first, from the spread "
    "alone, whatever the interval shows): at this n")
