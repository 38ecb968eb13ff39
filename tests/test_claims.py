"""Claims check, leaderboard and report: verdicts follow the statistics on synthetic data."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasrepro.errors import ConfigError
from nasrepro.reporting.claims import (
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_RUN,
    REPRODUCED,
    decide,
    diff_ci,
    evaluate_claims,
    load_claims,
    mean_ci,
    run_test,
)
from nasrepro.reporting.leaderboard import build_leaderboard

REPO = Path(__file__).resolve().parent.parent


def _rows(quantity: str, group: str, values: list[float], seeds: list[int] | None = None
          ) -> list[dict]:
    seeds = seeds if seeds is not None else list(range(len(values)))
    return [{"quantity": quantity, "group": group, "seed": s, "value": v,
             "run_dir": f"{group}/run{s}"} for s, v in zip(seeds, values, strict=True)]


def _df(*parts: list[dict]) -> pd.DataFrame:
    return pd.DataFrame([r for p in parts for r in p])


def test_mean_ci_is_the_t_interval() -> None:
    x = [1.0, 2.0, 4.0]
    low, high = mean_ci(x)
    from scipy import stats

    half = stats.t.ppf(0.975, 2) * np.std(x, ddof=1) / math.sqrt(3)
    assert low == pytest.approx(np.mean(x) - half) and high == pytest.approx(np.mean(x) + half)
    assert mean_ci([2.0, 2.0]) == (2.0, 2.0)
    assert all(math.isnan(v) for v in mean_ci([1.0]))
    lo, hi = diff_ci([3.0, 3.2, 3.1], [1.0, 1.1, 0.9])
    assert 0 < lo < 2.1 < hi


def test_decide_directions() -> None:
    assert decide(0.1, 0.5, "greater") == REPRODUCED
    assert decide(-0.5, -0.1, "greater") == NOT_REPRODUCED
    assert decide(-0.1, 0.5, "greater") == INCONCLUSIVE
    assert decide(-0.5, -0.1, "less") == REPRODUCED
    assert decide(0.2, 0.4, "greater", bound=0.3) == INCONCLUSIVE
    assert decide(math.nan, 1.0, "greater") == INCONCLUSIVE
    with pytest.raises(ConfigError):
        decide(0.0, 1.0, "sideways")


def test_paired_difference_verdicts() -> None:
    base = [80.0, 81.0, 79.5, 80.5]
    better = _rows("acc", "a", [b + 1.0 + 0.01 * i for i, b in enumerate(base)])
    worse = _rows("acc", "a", [b - 1.0 - 0.01 * i for i, b in enumerate(base)])
    noisy = _rows("acc", "a", [b + d for b, d in zip(base, [2.0, -2.0, 1.5, -1.4], strict=True)])
    b = _rows("acc", "b", base)
    t = {"kind": "difference", "quantity": "acc", "a": "a", "b": "b", "paired": True}
    out = run_test(_df(better, b), t)
    assert out.verdict == REPRODUCED and out.effect == pytest.approx(1.015) and out.n == 4
    assert out.p_value < 0.05 and "a/run0" in out.run_dirs
    assert run_test(_df(worse, b), t).verdict == NOT_REPRODUCED
    assert run_test(_df(noisy, b), t).verdict == INCONCLUSIVE
    # direction less mirrors
    assert run_test(_df(worse, b), {**t, "direction": "less"}).verdict == REPRODUCED


def test_unpaired_difference_and_equivalence() -> None:
    a = _rows("acc", "a", [90.0, 90.2, 89.9], seeds=[0, 1, 2])
    b = _rows("acc", "b", [85.0, 85.3, 84.8, 85.1, 85.2], seeds=[10, 11, 12, 13, 14])
    t = {"kind": "difference", "quantity": "acc", "a": "a", "b": "b", "paired": False}
    assert run_test(_df(a, b), t).verdict == REPRODUCED
    same = _rows("acc", "c", [90.05, 90.1, 89.95], seeds=[0, 1, 2])
    eq = {"kind": "equivalence", "quantity": "acc", "a": "a", "b": "c", "margin": 0.5}
    assert run_test(_df(a, same), eq).verdict == REPRODUCED
    far = _rows("acc", "c", [95.0, 95.1, 95.05], seeds=[0, 1, 2])
    assert run_test(_df(a, far), eq).verdict == NOT_REPRODUCED


def test_trend_correlation_threshold_and_all_of() -> None:
    levels = ["none", "mild", "strong"]
    rows = [r for i, g in enumerate(levels) for r in _rows("params", g, [100 - 30 * i + s
                                                                        for s in range(3)])]
    df = pd.DataFrame(rows)
    trend = {"kind": "trend", "quantity": "params", "groups": levels, "direction": "less"}
    assert run_test(df, trend).verdict == REPRODUCED
    assert run_test(df, {**trend, "groups": levels[::-1]}).verdict == NOT_REPRODUCED
    rng = np.random.default_rng(0)
    x = rng.normal(size=40)
    corr = _df(_rows("sup", "g", list(x)), _rows("alone", "g", list(2 * x + 0.1)))
    c = {"kind": "correlation", "x": "sup", "y": "alone", "threshold": 0.0}
    out = run_test(corr, c)
    assert out.verdict == REPRODUCED and out.effect == pytest.approx(1.0) and out.n == 40
    thr = {"kind": "threshold", "quantity": "sup", "group": "g", "threshold": 5.0,
           "direction": "less"}
    assert run_test(corr, thr).verdict == REPRODUCED
    both = {"kind": "all_of", "tests": [trend, {**trend, "groups": levels[::-1]}]}
    assert run_test(df, both).verdict == NOT_REPRODUCED
    assert run_test(df, {"kind": "all_of", "tests": [trend, trend]}).verdict == REPRODUCED
    with pytest.raises(ConfigError, match="unknown"):
        run_test(df, {"kind": "vibes"})


def test_missing_measurements_are_not_run(tmp_path: Path) -> None:
    pd.DataFrame(_rows("acc", "a", [1.0, 2.0])).to_csv(tmp_path / "x_measurements.csv",
                                                       index=False)
    claims = [
        {"id": "X1", "paper": "x", "statement": "s", "reads": "x_measurements.csv",
         "test": {"kind": "difference", "quantity": "acc", "a": "a", "b": "zzz"}},
        {"id": "X2", "paper": "x", "statement": "s", "reads": "absent.csv",
         "test": {"kind": "threshold", "quantity": "acc", "group": "a"}},
        {"id": "Y1", "paper": "y", "statement": "s", "reads": "x_measurements.csv",
         "test": {"kind": "threshold", "quantity": "acc", "group": "a"}},
    ]
    df = evaluate_claims(claims, tmp_path, papers=["x"])
    assert list(df["verdict"]) == [NOT_RUN, NOT_RUN, NOT_RUN]
    assert "zzz" in df["note"][0] and "absent.csv" in df["note"][1] and "not enabled" in \
        df["note"][2]


def test_paper_claims_file_states_every_claim() -> None:
    claims = load_claims(REPO / "paper" / "claims.yaml")
    ids = [c["id"] for c in claims]
    want = ([f"S{i}" for i in range(1, 5)] + [f"D{i}" for i in range(1, 7)]
            + [f"A{i}" for i in range(1, 4)] + [f"F{i}" for i in range(1, 6)])
    assert ids == want
    for c in claims:
        assert c["reads"] == f"{c['paper']}_measurements.csv"


def test_load_claims_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("- {id: A, paper: p, statement: s, reads: r.csv, test: {}}\n"
                   "- {id: A, paper: p, statement: s, reads: r.csv, test: {}}\n")
    with pytest.raises(ConfigError, match="twice"):
        load_claims(bad)
    bad.write_text("- {id: A, paper: p}\n")
    with pytest.raises(ConfigError, match="lacks"):
        load_claims(bad)
    with pytest.raises(ConfigError, match="does not exist"):
        load_claims(tmp_path / "nope.yaml")


def test_leaderboard_stacks_papers_sorted_by_space_then_accuracy(tmp_path: Path) -> None:
    cols = ["paper", "method", "space", "arch_id", "arch", "macs", "params", "acc_mean",
            "acc_std", "n", "search_cost_h", "run_dirs"]
    pd.DataFrame([["p1", "m1", "s/b", "id1", "{}", 2e6, 1e5, 80.0, 0.5, 3, 0.1, "r1"],
                  ["p1", "m2", "s/a", "id2", "{}", 1e6, 2e5, 70.0, 0.0, 1, 0.2, "r2"]],
                 columns=cols).to_csv(tmp_path / "p1_leaderboard.csv", index=False)
    pd.DataFrame([["p2", "m3", "s/b", "id3", "{}", 3e6, 3e5, 90.0, 1.0, 2, 0.3, "r3"]],
                 columns=cols).to_csv(tmp_path / "p2_leaderboard.csv", index=False)
    df = build_leaderboard(tmp_path, ["p1", "p2", "p3"])
    assert list(df["arch_id"]) == ["id2", "id3", "id1"]
    assert list(df["top1"]) == ["70.00", "90.00 ± 1.00", "80.00 ± 0.50"]
    assert df["macs_m"].tolist() == [1.0, 3.0, 2.0]


def test_threshold_on_a_single_value_uses_its_own_interval() -> None:
    df = _df(_rows("tau", "u", [0.7]), _rows("tau_lo", "u", [0.55]), _rows("tau_hi", "u", [0.8]))
    t = {"kind": "threshold", "quantity": "tau", "group": "u", "threshold": 0.5,
         "ci_quantities": ["tau_lo", "tau_hi"]}
    out = run_test(df, t)
    assert out.verdict == REPRODUCED and (out.ci_low, out.ci_high) == (0.55, 0.8)
    assert run_test(df, {**t, "threshold": 0.6}).verdict == INCONCLUSIVE
    assert run_test(df, {k: v for k, v in t.items() if k != "ci_quantities"}).verdict == \
        INCONCLUSIVE  # one value, no interval


def test_report_without_its_inputs_is_a_one_line_error(tmp_path: Path) -> None:
    from nasrepro.config import load_config
    from nasrepro.reporting.report import build_report

    with pytest.raises(ConfigError, match="snakemake paper"):
        build_report(load_config("tiny"), tmp_path / "paper", REPO / "paper" /
                     "report_template.md", REPO / "paper" / "published.yaml", tmp_path / "none")
    assert not (tmp_path / "paper").exists()  # nothing half-written
