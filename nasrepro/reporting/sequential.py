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
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import optimize, stats

from nasrepro.errors import ConfigError, NasreproError
from nasrepro.reporting.claims import INCONCLUSIVE, TESTED, UNDERPOWERED

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


# --- the claims check's two-look design (config ``claims.sequential``) ------------------------
LOOK_KEYS = ("look", "fraction", "spending", "cp_threshold", "stopped")
#: the claims CSV columns a sequential look adds
LOOK_COLUMNS = ("look", "conditional_power", "continue")


@dataclass(frozen=True)
class Design:
    """``claims: {sequential: {look, fraction, spending, cp_threshold}}``: look 1 runs a
    ``fraction`` of the planned final seeds; look 2 (written by ``nasrepro sequential-plan``)
    adds ``stopped``, the look-1 claims-table rows of every claim that did not continue, which
    are kept as they are (a look-1 decision is final)."""

    look: int = 1
    fraction: float = 0.5
    spending: str = "obrien-fleming"
    cp_threshold: float = 0.5       # conditional power needed to continue
    alpha: float = 0.025            # one-sided level of each test over both looks
    stopped: dict[str, dict[str, Any]] = field(default_factory=dict)

    @classmethod
    def from_config(cls, cfg: dict | None, alpha: float = 0.025) -> Design | None:
        """The design of ``config['claims']['sequential']``; None (the fixed design) if unset."""
        if cfg is None:
            return None
        unknown = sorted(set(cfg) - set(LOOK_KEYS))
        if unknown:
            raise ConfigError(f"claims.sequential has unknown key(s) {', '.join(unknown)}; use "
                              f"{', '.join(LOOK_KEYS)}")
        d = cls(look=int(cfg.get("look", 1)), fraction=float(cfg.get("fraction", 0.5)),
                spending=str(cfg.get("spending", "obrien-fleming")),
                cp_threshold=float(cfg.get("cp_threshold", 0.5)), alpha=alpha,
                stopped=dict(cfg.get("stopped") or {}))
        if d.look not in (1, 2):
            raise ConfigError(f"claims.sequential.look is {d.look}; use 1 or 2")
        if not 0.0 < d.fraction < 1.0:
            raise ConfigError(f"claims.sequential.fraction {d.fraction} must lie in (0, 1)")
        if not 0.0 <= d.cp_threshold <= 1.0:
            raise ConfigError(f"claims.sequential.cp_threshold {d.cp_threshold} must lie in "
                              f"[0, 1]")
        d.nominal()                 # validates alpha and the spending family
        return d

    @property
    def fractions(self) -> list[float]:
        return [self.fraction, 1.0]

    def nominal(self) -> list[float]:
        """Nominal one-sided level of each look."""
        return nominal_alpha(self.fractions, self.alpha, self.spending)

    @property
    def look_alpha(self) -> float:
        return self.nominal()[self.look - 1]

    def describe(self) -> str:
        """The design in one paragraph (the claims caption)."""
        a1, a2 = self.nominal()
        return (
            f"Sequential seeds, look {self.look} of 2 (docs/claims.md): each one-sided "
            f"{self.alpha:g} test spends its level over looks at information fraction "
            f"{self.fraction:g} and 1 (Lan-DeMets {self.spending}-type spending); look 1 decides "
            f"at nominal one-sided {a1:.4f} (interval {100 * (1 - 2 * a1):.2f}%), look 2 at "
            f"{a2:.4f} ({100 * (1 - 2 * a2):.2f}%), so CI is at the level of the row's look. "
            f"A look-1 decision is final; an undecided claim continues to look 2 only when its "
            f"conditional power (current trend, final n = n / {self.fraction:g}) is at least "
            f"{self.cp_threshold:g}; stopping is non-binding futility (it changes no other "
            f"claim's level). MDE and seeds needed are those of the fixed design.")

    def conditional_power(self, p_bound: float, p_sesoi: float) -> float:
        """The larger of the two one-sided tests' conditional power under the current trend
        (z from each one-sided p, normal approximation)."""
        b_final = boundaries(self.fractions, self.alpha, self.spending)[-1]
        cps = []
        for p in (p_bound, p_sesoi):
            if isinstance(p, float) and math.isfinite(p):
                z = float(stats.norm.isf(p))
                cps.append(conditional_power(z, self.fraction, b_final,
                                             drift_current_trend(z, self.fraction)))
        return max(cps) if cps else math.nan

    def annotate(self, claims: pd.DataFrame) -> pd.DataFrame:
        """The claims table of this look: ``look``; at look 1 ``conditional_power`` and
        ``continue``; at look 2 the ``stopped`` claims' look-1 rows in place of their rows."""
        df = claims.copy()
        if self.look == 1:
            df["look"] = 1
            cp = [self.conditional_power(float(a), float(b)) if v in TESTED else math.nan
                  for a, b, v in zip(df["p_value"], df["p_sesoi"], df["verdict"], strict=True)]
            df["conditional_power"] = [round(x, 4) if math.isfinite(x) else math.nan for x in cp]
            df["continue"] = ["yes" if v in (INCONCLUSIVE, UNDERPOWERED) and math.isfinite(x) and
                              x >= self.cp_threshold else "no"
                              for v, x in zip(df["verdict"], cp, strict=True)]
            return df
        rows = [{**r, **self.stopped[r["id"]], "look": 1} if r["id"] in self.stopped else
                {**r, "look": 2} for r in df.to_dict("records")]
        return pd.DataFrame(rows, columns=[*claims.columns, "look"])


# --- the planner: look 1's claims table -> look 2's config overlay ----------------------------
#: look-1 columns kept for a stopped claim (its other columns come from the claims file again;
#: ``test`` describes the parts of an all_of with their intervals)
KEPT_COLUMNS = ("test", "effect", "ci_low", "ci_high", "p_value", "p_sesoi", "n", "bound", "sesoi",
                "mde", "seeds_needed", "guard", "verdict", "scope", "note", "run_dirs")


def seeds_keys(claim: dict) -> list[str]:
    """The config keys (``<paper>.<key>``) whose seeds replicate a claim (``seeds_key:``)."""
    keys = claim.get("seeds_key") or []
    return [keys] if isinstance(keys, str) else list(keys)


def current_seeds(config: dict, key: str) -> list[int]:
    """The seeds a ``<paper>.<name>`` seed list resolves to in the run: the paper's grid
    function of that name where it has one (its own fallbacks: ``spos.display_seeds`` falls
    back to ``spos.seeds``, ``fbnetv3.replicate_search_seeds`` to none), else
    :func:`nasrepro.config.seeds_of` (the key, else the profile's ``seeds``)."""
    from nasrepro.config import seeds_of
    from nasrepro.stages import grid_of

    paper, _, name = key.partition(".")
    try:
        resolve = getattr(grid_of(paper), name, None)
    except (ImportError, NasreproError):   # a paper without a grid (e.g. a test's made-up one)
        resolve = None
    return [int(x) for x in (resolve(config) if callable(resolve) else
                             seeds_of(config, paper, name))]


def _next_seeds(config: dict, key: str, current: list[int], more: int) -> list[int]:
    """``more`` seeds after ``current``'s largest, skipping the paper's ``search_seed`` (a
    replicate search must not repeat the main one)."""
    paper = key.partition(".")[0]
    taken = {*current, config.get(paper, {}).get("search_seed")}
    out, s = [], max(current) + 1 if current else 0
    while len(out) < more:
        if s not in taken:
            out.append(s)
        s += 1
    return out


def _plain(v: Any) -> Any:
    """A CSV cell as a YAML scalar (numpy -> Python, NaN -> null)."""
    v = v.item() if hasattr(v, "item") else v
    return None if isinstance(v, float) and math.isnan(v) else v


def plan_next_look(claims: pd.DataFrame, config: dict, specs: list[dict]) -> tuple[dict, list[str]]:
    """Look 2's config overlay from look 1's claims table and the resolved look-1 ``config``.

    Every ``seeds_key`` of a continued claim (``continue == "yes"``) gets ``ceil(n / fraction)
    - n`` more seeds (the largest over the claims sharing it), the next integers after its
    largest seed; the other claims' look-1 rows go into ``claims.sequential.stopped``, and so
    do those of continued claims without a ``seeds_key`` (S4, A3, F4: their replicates are
    archs or subnets, which more seeds would not add).

    Returns:
        ``(overlay, notes)``: the overlay (a config fragment) and one line per decision.
    """
    if "continue" not in claims.columns:
        raise ConfigError("the claims table has no `continue` column: it is not a look-1 table; "
                          "run look 1 with claims: {sequential: {look: 1}}")
    missing = [c for c in ("id", "n", "verdict", "conditional_power") if c not in claims.columns]
    if missing:
        raise ConfigError(f"the look-1 claims table lacks column(s) {', '.join(missing)}; give "
                          "the claims.csv that look 1 wrote (results/<profile>/tables/claims.csv)")
    seq = (config.get("claims") or {}).get("sequential") or {}
    design = Design.from_config({**seq, "look": 1, "stopped": None})
    assert design is not None
    by_id = {c["id"]: c for c in specs}
    add: dict[str, int] = {}
    stopped: dict[str, dict[str, Any]] = {}
    notes: list[str] = []
    for r in claims.to_dict("records"):
        cid = str(r["id"])
        keys = seeds_keys(by_id.get(cid, {}))
        n1 = int(r["n"])
        why = ""
        if r["continue"] == "yes" and not keys:
            # its replicates are not seeds (archs, subnets): look 2 would retest the same data
            why = "names no seeds_key in the claims file"
        elif r["continue"] == "yes" and any(
                k.endswith("replicate_search_seeds") and n1 != 1 + len(current_seeds(config, k))
                for k in keys):
            # one search per condition: its n counts retrain seeds, not searches
            why = (f"its n = {n1} counts retrain seeds given one search, not searches (set "
                   f"{' / '.join(keys)} to replicate the searches)")
        if why:
            notes.append(f"{cid}: would continue (conditional power "
                         f"{float(r['conditional_power']):.2f}) but {why}: stopped at look 1")
        if r["continue"] != "yes" or why:
            stopped[cid] = {k: _plain(r[k]) for k in KEPT_COLUMNS if k in r}
            continue
        more = math.ceil(n1 / design.fraction - 1e-9) - n1
        for k in keys:
            add[k] = max(add.get(k, 0), more)
        notes.append(f"{cid}: n {n1} -> {n1 + more} ({', '.join(keys)}; conditional power "
                     f"{float(r['conditional_power']):.2f})")
    overlay: dict[str, Any] = {}
    for key, more in sorted(add.items()):
        paper, _, name = key.partition(".")
        current = current_seeds(config, key)
        overlay.setdefault(paper, {})[name] = [*current,
                                               *_next_seeds(config, key, current, more)]
    overlay["claims"] = {"sequential": {
        "look": 2, "fraction": design.fraction, "spending": design.spending,
        "cp_threshold": design.cp_threshold, "stopped": stopped}}
    return overlay, notes
