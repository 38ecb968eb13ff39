"""The claims check: every claim of PAPERS.md, stated as data in ``paper/claims.yaml``, tested
across seeds on the pipeline's measurements, with a verdict that follows the statistics.

Each paper's table step writes ``results/<profile>/tables/<paper>_measurements.csv`` (tidy:
``quantity, group, seed, value, run_dir``). A claim names the file it reads and a ``test``:

``difference``
    ``mean(a) - mean(b)`` of one quantity for two groups; ``paired: true`` pairs them by seed
    (mean of the per-seed differences), otherwise the two samples are independent. 95%
    t-interval (Student on the paired differences, Welch for independent samples: with 2-5 seeds
    a percentile bootstrap spans only the observed values and is far too narrow) and the
    one-sided t-test p-value for ``direction`` ``greater``/``less``.
``equivalence``
    as ``difference`` but the claim is "a matches b": the CI must lie inside ``[-margin,
    margin]``.
``correlation``
    Kendall tau between two quantities paired by ``(group, seed)`` (e.g. supernet-inherited vs
    standalone accuracy), with its paired bootstrap CI (``scipy.stats.bootstrap``, seeded:
    many pairs, so the bootstrap is appropriate), against ``threshold``.
``trend``
    Kendall tau between the position of each group in the ordered ``groups`` list and the
    quantity (all seeds pooled): ``direction: less`` claims the quantity falls along the list.
``threshold``
    the mean of one group's quantity over seeds against ``threshold`` (t-interval). A single
    measured value (e.g. a Kendall tau over many subnets of one supernet) uses its own interval
    instead when the test names ``ci_quantities: [low_quantity, high_quantity]`` (rows of the
    same group and seed).
``all_of``
    a list of the tests above that must all hold.

Verdicts (for ``direction: greater``; ``less`` mirrored): **reproduced** when the whole 95% CI lies
beyond the margin/threshold in the claimed direction, **not reproduced** when the whole CI lies
on the other side, **inconclusive** otherwise (including fewer than 2 values). ``all_of``:
reproduced if every part is, not reproduced if any part is, otherwise inconclusive (the
effect and CI shown are those of the weakest part, the one with the lowest CI bound). A claim
whose measurements are absent (paper disabled or not run) gets **not run**. No verdict is ever
set by hand.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from nasrepro.errors import ConfigError
from nasrepro.metrics.ranking import kendall_tau_ci

REPRODUCED = "reproduced"
NOT_REPRODUCED = "not reproduced"
INCONCLUSIVE = "inconclusive"
NOT_RUN = "not run"
VERDICTS = (REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE, NOT_RUN)

KINDS = ("difference", "equivalence", "correlation", "trend", "threshold", "all_of")
CONFIDENCE = 0.95
BOOTSTRAP_SEED = 0


@dataclass
class Outcome:
    """Result of one test: effect with CI, p-value, sample size, verdict and its sources."""

    verdict: str
    effect: float = math.nan
    ci_low: float = math.nan
    ci_high: float = math.nan
    p_value: float = math.nan
    n: int = 0
    description: str = ""
    note: str = ""
    run_dirs: list[str] = field(default_factory=list)
    label: str = ""


class MissingMeasurements(Exception):
    """The measurements a claim reads are not there (paper not run): verdict 'not run'."""


# --- statistics ---------------------------------------------------------------------------
def mean_ci(values: Sequence[float]) -> tuple[float, float]:
    """95% t-interval of the mean (``scipy.stats.ttest_1samp(...).confidence_interval``).

    With 2-5 seeds a percentile bootstrap only spans the observed values and is far too narrow,
    so means over seeds use Student's t; ``(v, v)`` when all values are equal, NaN for n < 2.
    """
    x = np.asarray(values, dtype=float)
    if x.size < 2:
        return math.nan, math.nan
    if np.all(x == x[0]):
        return float(x[0]), float(x[0])
    ci = stats.ttest_1samp(x, 0.0).confidence_interval(CONFIDENCE)
    return float(ci.low), float(ci.high)


def diff_ci(a: Sequence[float], b: Sequence[float]) -> tuple[float, float]:
    """95% Welch t-interval of ``mean(a) - mean(b)`` for independent samples."""
    xa, xb = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if xa.size < 2 or xb.size < 2:
        return math.nan, math.nan
    diff = float(xa.mean() - xb.mean())
    if np.all(xa == xa[0]) and np.all(xb == xb[0]):
        return diff, diff
    ci = stats.ttest_ind(xa, xb, equal_var=False).confidence_interval(CONFIDENCE)
    return float(ci.low), float(ci.high)


def decide(low: float, high: float, direction: str, bound: float = 0.0) -> str:
    """Verdict from a CI: beyond ``bound`` in the claimed direction, opposite, or neither."""
    if not (math.isfinite(low) and math.isfinite(high)):
        return INCONCLUSIVE
    if direction == "greater":
        return REPRODUCED if low > bound else NOT_REPRODUCED if high < bound else INCONCLUSIVE
    if direction == "less":
        return REPRODUCED if high < bound else NOT_REPRODUCED if low > bound else INCONCLUSIVE
    raise ConfigError(f"claim direction '{direction}' is not greater/less; fix paper/claims.yaml")


def _one_sided_p(res: Any) -> float:
    p = float(res.pvalue)
    return p if math.isfinite(p) else math.nan


# --- measurements -------------------------------------------------------------------------
def _select(df: pd.DataFrame, quantity: str, group: str) -> pd.DataFrame:
    sel = df[(df["quantity"] == quantity) & (df["group"].astype(str) == str(group))]
    if sel.empty:
        known = sorted(df.loc[df["quantity"] == quantity, "group"].astype(str).unique())
        raise MissingMeasurements(f"no '{quantity}' measurements for group '{group}'"
                                  + (f" (groups: {', '.join(known)})" if known else ""))
    return sel


def _dirs(*frames: pd.DataFrame) -> list[str]:
    out: list[str] = []
    for f in frames:
        out.extend(str(d) for d in f["run_dir"].dropna().astype(str) if d)
    return list(dict.fromkeys(out))


def _test_difference(df: pd.DataFrame, t: dict, equivalence: bool = False) -> Outcome:
    q, a, b = t["quantity"], t["a"], t["b"]
    sa, sb = _select(df, q, a), _select(df, q, b)
    paired = bool(t.get("paired", True))
    direction = t.get("direction", "greater")
    margin = float(t.get("margin", 0.0))
    desc = f"{q}: {a} - {b}" + (" (paired by seed)" if paired else " (independent)")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if paired:
            va = sa.groupby("seed")["value"].mean()
            vb = sb.groupby("seed")["value"].mean()
            seeds = sorted(set(va.index) & set(vb.index))
            if not seeds:
                raise MissingMeasurements(f"'{q}' of {a} and {b} share no seed to pair")
            d = (va.loc[seeds] - vb.loc[seeds]).to_numpy(dtype=float)
            effect, n = float(d.mean()), len(d)
            low, high = mean_ci(d)
            p = math.nan
            if n >= 2 and not equivalence and np.std(d) > 0:
                p = _one_sided_p(stats.ttest_1samp(d, 0.0, alternative=direction))
        else:
            xa, xb = sa["value"].to_numpy(float), sb["value"].to_numpy(float)
            effect, n = float(xa.mean() - xb.mean()), min(len(xa), len(xb))
            low, high = diff_ci(xa, xb)
            p = math.nan
            if n >= 2 and not equivalence and (np.std(xa) > 0 or np.std(xb) > 0):
                p = _one_sided_p(stats.ttest_ind(xa, xb, equal_var=False,
                                                 alternative=direction))
    if equivalence:
        if not (math.isfinite(low) and math.isfinite(high)):
            verdict = INCONCLUSIVE
        elif -margin <= low and high <= margin:
            verdict = REPRODUCED
        elif low > margin or high < -margin:
            verdict = NOT_REPRODUCED
        else:
            verdict = INCONCLUSIVE
        desc += f", equivalent within ±{margin:g}"
    else:
        verdict = decide(low, high, direction, margin)
        desc += f" {'>' if direction == 'greater' else '<'} {margin:g}"
    return Outcome(verdict, effect, low, high, p, n, desc, run_dirs=_dirs(sa, sb),
                   label=f"{a} - {b}")


def _test_correlation(df: pd.DataFrame, t: dict) -> Outcome:
    qx, qy = t["x"], t["y"]
    groups = t.get("groups")
    sx = df[df["quantity"] == qx]
    sy = df[df["quantity"] == qy]
    if groups:
        sx = sx[sx["group"].astype(str).isin(groups)]
        sy = sy[sy["group"].astype(str).isin(groups)]
    if sx.empty or sy.empty:
        raise MissingMeasurements(f"no '{qx}'/'{qy}' measurements to correlate")
    m = sx.merge(sy, on=["group", "seed"], suffixes=("_x", "_y"))
    res = kendall_tau_ci(m["value_x"].to_numpy(float), m["value_y"].to_numpy(float),
                         seed=BOOTSTRAP_SEED)
    threshold = float(t.get("threshold", 0.0))
    direction = t.get("direction", "greater")
    desc = f"Kendall tau({qx}, {qy}) {'>' if direction == 'greater' else '<'} {threshold:g}"
    verdict = decide(float(res["low"]), float(res["high"]), direction, threshold)
    return Outcome(verdict, float(res["tau"]), float(res["low"]), float(res["high"]),
                   float(res["pvalue"]), int(res["n"]), desc, run_dirs=_dirs(sx, sy),
                   label=f"tau({qx}, {qy})")


def _test_trend(df: pd.DataFrame, t: dict) -> Outcome:
    q, groups = t["quantity"], list(t["groups"])
    frames, xs, ys = [], [], []
    for rank, g in enumerate(groups):
        try:
            s = _select(df, q, g)
        except MissingMeasurements:
            continue
        frames.append(s)
        xs.extend([rank] * len(s))
        ys.extend(s["value"].astype(float))
    if len(frames) < 2:
        raise MissingMeasurements(f"'{q}' measured for fewer than 2 of {groups}")
    res = kendall_tau_ci(xs, ys, seed=BOOTSTRAP_SEED)
    direction = t.get("direction", "less")
    desc = f"{q} along {' -> '.join(groups)}: Kendall tau {'<' if direction == 'less' else '>'} 0"
    verdict = decide(float(res["low"]), float(res["high"]), direction, 0.0)
    return Outcome(verdict, float(res["tau"]), float(res["low"]), float(res["high"]),
                   float(res["pvalue"]), int(res["n"]), desc, run_dirs=_dirs(*frames),
                   label=f"trend of {q}")


def _test_threshold(df: pd.DataFrame, t: dict) -> Outcome:
    q, g = t["quantity"], t["group"]
    s = _select(df, q, g)
    x = s["value"].to_numpy(float)
    threshold = float(t.get("threshold", 0.0))
    direction = t.get("direction", "greater")
    low, high = mean_ci(x)
    frames = [s]
    if len(x) == 1 and t.get("ci_quantities"):
        lo_q, hi_q = t["ci_quantities"]
        s_lo, s_hi = _select(df, lo_q, g), _select(df, hi_q, g)
        low, high = float(s_lo["value"].iloc[0]), float(s_hi["value"].iloc[0])
        frames += [s_lo, s_hi]
    desc = f"mean {q} of {g} {'>' if direction == 'greater' else '<'} {threshold:g}"
    verdict = decide(low, high, direction, threshold)
    p = math.nan
    if len(x) >= 2 and np.std(x) > 0:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            p = _one_sided_p(stats.ttest_1samp(x, threshold, alternative=direction))
    return Outcome(verdict, float(x.mean()), low, high, p, len(x), desc,
                   run_dirs=_dirs(*frames), label=f"{q} of {g}")


def run_test(df: pd.DataFrame, t: dict) -> Outcome:
    """Evaluate one test spec (see the module docstring) on a measurements frame."""
    kind = t.get("kind")
    if kind == "difference":
        return _test_difference(df, t)
    if kind == "equivalence":
        return _test_difference(df, t, equivalence=True)
    if kind == "correlation":
        return _test_correlation(df, t)
    if kind == "trend":
        return _test_trend(df, t)
    if kind == "threshold":
        return _test_threshold(df, t)
    if kind == "all_of":
        parts = [run_test(df, sub) for sub in t["tests"]]
        verdicts = [p.verdict for p in parts]
        if all(v == REPRODUCED for v in verdicts):
            verdict = REPRODUCED
        elif NOT_REPRODUCED in verdicts:
            verdict = NOT_REPRODUCED
        else:
            verdict = INCONCLUSIVE
        worst = min(parts, key=lambda p: p.ci_low if math.isfinite(p.ci_low) else -math.inf)
        desc = "all of: " + "; ".join(
            f"{p.label} = {p.effect:+.3g} [{p.ci_low:.3g}, {p.ci_high:.3g}]"
            f" {p.verdict}" for p in parts)
        return Outcome(verdict, worst.effect, worst.ci_low, worst.ci_high, worst.p_value,
                       min(p.n for p in parts), desc,
                       run_dirs=list(dict.fromkeys(d for p in parts for d in p.run_dirs)))
    raise ConfigError(f"claim test kind '{kind}' is unknown; use one of {', '.join(KINDS)} "
                      f"in paper/claims.yaml")


# --- claims file --------------------------------------------------------------------------
def load_claims(path: str | Path) -> list[dict]:
    """Read and check ``paper/claims.yaml`` (a list of claims with unique ids)."""
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
    return claims


def evaluate_claims(claims: list[dict], tables_dir: str | Path,
                    papers: Sequence[str] | None = None) -> pd.DataFrame:
    """One row per claim: measured effect, CI, p-value, n, verdict and source run dirs.

    Args:
        claims: from :func:`load_claims`.
        tables_dir: ``results/<profile>/tables`` (where the measurements CSVs are).
        papers: papers that ran in this profile; claims of the others are 'not run'.
    """
    tables_dir = Path(tables_dir)
    rows = []
    for c in claims:
        src = tables_dir / c["reads"]
        try:
            if papers is not None and c["paper"] not in papers:
                raise MissingMeasurements(f"paper {c['paper']} is not enabled in this profile")
            if not src.exists():
                raise MissingMeasurements(f"{c['reads']} was not written")
            out = run_test(pd.read_csv(src), c["test"])
        except MissingMeasurements as exc:
            out = Outcome(NOT_RUN, note=str(exc))
        except KeyError as exc:
            raise ConfigError(f"claim {c['id']} test lacks key {exc}; fix paper/claims.yaml") \
                from exc
        rows.append({
            "id": c["id"], "paper": c["paper"], "statement": c["statement"],
            "test": out.description or c["test"].get("kind", ""),
            "effect": _r(out.effect), "ci_low": _r(out.ci_low), "ci_high": _r(out.ci_high),
            "p_value": _r(out.p_value), "n": out.n, "verdict": out.verdict, "note": out.note,
            "run_dirs": ";".join(out.run_dirs),
        })
    return pd.DataFrame(rows)


def _r(x: float) -> float:
    return round(float(x), 4) if math.isfinite(x) else math.nan


def write_claims(config: dict, claims_file: str | Path, out_dir: str | Path) -> pd.DataFrame:
    """Evaluate ``claims_file`` on ``results/<profile>/tables`` and write ``claims.{csv,md,tex}``
    into ``out_dir``."""
    from nasrepro.config import profile_dir
    from nasrepro.reporting.tables import write_table

    df = evaluate_claims(load_claims(claims_file), profile_dir(config) / "tables",
                         papers=config.get("papers"))
    write_table(df, Path(out_dir) / "claims", float_digits=3,
                caption=f"Claims of the four papers checked on the {config['profile']} profile "
                        f"({len(config['seeds'])} seeds): effect, 95% CI (t-interval over seeds; "
                        f"bootstrap for Kendall tau), one-sided p-value, verdict.")
    return df
