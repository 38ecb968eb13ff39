"""Claims check, leaderboard and report: hand-made measurement tables with known verdicts."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasrepro.errors import ConfigError
from nasrepro.reporting.claims import (
    ALPHA,
    INCONCLUSIVE,
    NOT_REPRODUCED,
    NOT_RUN,
    NOT_TESTABLE,
    REPRODUCED,
    UNDERPOWERED,
    MeasurementError,
    check_guard,
    claims_view,
    decide,
    evaluate_claim,
    evaluate_claims,
    family_summary,
    load_claims,
    run_test,
    write_claims,
)
from nasrepro.reporting.leaderboard import build_leaderboard

REPO = Path(__file__).resolve().parent.parent
PAIRED = "seed s: shared data order"


def _rows(quantity: str, group: str, values: list[float], seeds: list[int] | None = None,
          unit: str | None = None) -> list[dict]:
    seeds = seeds if seeds is not None else list(range(len(values)))
    return [{"quantity": quantity, "group": group, "seed": s, "value": v,
             "run_dir": f"{group}/seed{s}", **({"unit": unit} if unit else {})}
            for s, v in zip(seeds, values, strict=True)]


def _df(*parts: list[dict] | pd.DataFrame) -> pd.DataFrame:
    return pd.concat([p if isinstance(p, pd.DataFrame) else pd.DataFrame(p) for p in parts],
                     ignore_index=True)


def _diff(**kw: object) -> dict:
    return {"kind": "difference", "quantity": "acc", "a": "a", "b": "b", "paired": PAIRED,
            "direction": "greater", "sesoi": 0.5, **kw}


BASE = [80.0, 81.0, 79.5, 80.5, 80.2, 79.8, 80.9, 79.1]
JITTER = [0.05, -0.04, 0.02, -0.03, 0.04, -0.05, 0.01, 0.0]


def _shifted(shift: float) -> pd.DataFrame:
    a = [b + shift + j for b, j in zip(BASE, JITTER, strict=True)]
    return _df(_rows("acc", "a", a), _rows("acc", "b", BASE))


# --- the verdicts of item 1 ------------------------------------------------------------------
def test_effect_clearly_present_is_reproduced() -> None:
    out = run_test(_shifted(2.0), _diff())
    assert out.verdict == REPRODUCED
    assert out.effect == pytest.approx(2.0, abs=1e-9) and out.n == 8
    assert out.ci_low > 0 and out.p_value < ALPHA and out.p_sesoi > 0.5
    assert out.mde < 0.5 and out.seeds_needed <= 8 and "a/seed0" in out.run_dirs


def test_effect_clearly_absent_is_not_reproduced() -> None:
    out = run_test(_shifted(0.0), _diff())
    assert -0.5 < out.ci_low < out.ci_high < 0.5  # CI inside ±SESOI
    assert out.verdict == NOT_REPRODUCED and out.p_sesoi < ALPHA


def test_reversed_effect_is_not_reproduced() -> None:
    out = run_test(_shifted(-2.0), _diff())
    assert out.ci_high < 0 and out.verdict == NOT_REPRODUCED
    assert run_test(_shifted(-2.0), _diff(direction="less")).verdict == REPRODUCED


def test_positive_effect_smaller_than_the_sesoi_is_not_reproduced() -> None:
    out = run_test(_shifted(0.2), _diff())
    assert 0 < out.ci_low and out.ci_high < 0.5
    assert out.verdict == NOT_REPRODUCED  # real but smaller than any effect of interest


def test_underpowered_qualifies_only_a_non_decision() -> None:
    """A noisy design that cannot detect the SESOI: no decision -> underpowered (with MDE and
    seeds needed); a rejection at the same spread still decides (it is a level-ALPHA test)."""
    noisy = [2.0, -2.5, 3.0, -1.5]
    verdicts = {}
    for shift in (0.0, 8.0, -8.0):  # same spread, three effects
        df = _df(_rows("acc", "a", [b + shift + d for b, d in zip(BASE, noisy, strict=False)]),
                 _rows("acc", "b", BASE[:4]))
        out = run_test(df, _diff())
        assert out.underpowered and out.mde > 0.5 and out.seeds_needed > 4
        verdicts[shift] = out.verdict
        if out.verdict != UNDERPOWERED:
            assert out.ci_low > 0 or out.ci_high < 0.5  # the interval decided
    assert verdicts == {0.0: UNDERPOWERED, 8.0: REPRODUCED, -8.0: NOT_REPRODUCED}
    one = run_test(_df(_rows("acc", "a", [81.0]), _rows("acc", "b", [80.0])), _diff())
    assert one.verdict == UNDERPOWERED and math.isinf(one.mde)


def test_inconclusive_between_the_lines() -> None:
    jit = [0.4, -0.4, 0.35, -0.35, 0.38, -0.38, 0.4, -0.4]
    df = _df(_rows("acc", "a", [b + 0.25 + j for b, j in zip(BASE, jit, strict=True)]),
             _rows("acc", "b", BASE))
    out = run_test(df, _diff())
    assert out.ci_low < 0 and 0.5 < out.ci_high and out.mde < 0.5
    assert out.verdict == INCONCLUSIVE


def test_relative_error_scale_and_unpaired_arms() -> None:
    # 10 % vs 12 % error: a 16.7 % relative error reduction
    a = _rows("acc", "a", [90.0, 90.05, 89.95, 90.02], seeds=[0, 1, 2, 3])
    b = _rows("acc", "b", [88.0, 88.03, 87.97, 88.01, 87.99], seeds=[10, 11, 12, 13, 14])
    t = _diff(scale="log_error", sesoi=0.05)
    t.pop("paired")
    out = run_test(_df(a, b), t)
    assert out.effect == pytest.approx(1 - 10.0 / 12.0, abs=0.003)
    assert out.verdict == REPRODUCED and "Welch" in out.description


def test_declared_pairing_must_say_what_is_shared() -> None:
    with pytest.raises(ConfigError, match="which randomness"):
        run_test(_shifted(2.0), _diff(paired=True))


def test_equivalence_tost() -> None:
    same = _shifted(0.0)
    eq = {"kind": "equivalence", "quantity": "acc", "a": "a", "b": "b", "paired": PAIRED,
          "margin": 0.5}
    out = run_test(same, eq)
    assert out.verdict == REPRODUCED and out.p_value < ALPHA
    assert run_test(_shifted(2.0), eq).verdict == NOT_REPRODUCED
    far = run_test(_shifted(0.5), eq)
    assert far.verdict == INCONCLUSIVE


def test_nadeau_bengio_widens_resampled_splits() -> None:
    df = _df(_shifted(0.3), _rows("ntr", "a", [80.0] * 8), _rows("nte", "a", [20.0] * 8))
    plain = run_test(df, _diff(sesoi=0.2))
    nb = run_test(df, _diff(sesoi=0.2, resampled={"n_train": "ntr", "n_test": "nte"}))
    assert nb.ci_high - nb.ci_low > 1.5 * (plain.ci_high - plain.ci_low)
    assert "Nadeau-Bengio" in nb.description


# --- guards, deterministic quantities, duplicates ------------------------------------------
def test_failed_guard_makes_the_claim_not_testable() -> None:
    df = _df(_shifted(2.0), _rows("sup", "a", [12.0, 11.0, 13.0]))
    guard = {"check": "above", "quantity": "sup", "groups": ["a"], "value": 20,
             "relative_to": "chance", "chance": 10, "why": "supernet above chance"}
    claim = {"id": "X", "test": _diff(), "guards": [guard]}
    out = evaluate_claim(claim, df)
    assert out.verdict == NOT_TESTABLE and out.guard.startswith("failed: supernet above chance")
    assert math.isfinite(out.effect) and math.isnan(out.p_value)
    ok = evaluate_claim({**claim, "guards": [{**guard, "value": 1}]}, df)
    assert ok.verdict == REPRODUCED and ok.guard == "ok"
    missing = evaluate_claim({**claim, "guards": [{**guard, "quantity": "nope"}]}, df)
    assert missing.verdict == NOT_TESTABLE and "'nope'" in missing.guard


def test_guard_kinds() -> None:
    df = _df(_rows("p", "l1", [5.0, 6.0]), _rows("p", "l2", [3.0, 3.0]),
             _rows("p", "l3", [3.0, 3.0]), _rows("m", "ref", [100.0]), _rows("m", "x", [104.0]),
             _rows("m", "y", [120.0]), _rows("k", "g", [3.0]))
    assert not check_guard(df, {"check": "distinct", "quantity": "p",
                                "groups": ["l1", "l2", "l3"]})[0]
    assert check_guard(df, {"check": "distinct", "quantity": "p", "groups": ["l1", "l2"]})[0]
    assert check_guard(df, {"check": "matched", "quantity": "m", "reference": "ref",
                            "groups": ["x"], "tolerance": 0.05})[0]
    ok, text = check_guard(df, {"check": "matched", "quantity": "m", "reference": "ref",
                                "groups": ["x", "y"], "tolerance": 0.05})
    assert not ok and "+20%" in text
    assert not check_guard(df, {"check": "equals", "quantity": "k", "value": 50})[0]
    assert check_guard(df, {"check": "below", "quantity": "p", "groups": ["l1", "l2"],
                            "value": 4, "require": "any"})[0]


def test_deterministic_quantity_with_zero_variance() -> None:
    df = _df(_rows("macs", "a", [100.0] * 3), _rows("macs", "b", [120.0] * 3))
    t = {"kind": "difference", "quantity": "macs", "a": "a", "b": "b", "paired": "same arch",
         "direction": "less", "sesoi": 5.0}
    out = run_test(df, {**t, "deterministic": True})
    assert out.verdict == REPRODUCED and out.ci_low == out.ci_high == -20.0
    assert out.mde == 0.0
    with pytest.raises(Exception, match="zero spread"):
        run_test(df, t)
    claim = evaluate_claim({"id": "X", "test": t}, df)
    assert claim.verdict == NOT_TESTABLE and "zero spread" in claim.note


def test_duplicates_per_seed_are_an_error() -> None:
    df = _df(_rows("acc", "a", [80.0, 81.0, 80.5], seeds=[0, 0, 1]), _rows("acc", "b", BASE[:2]))
    with pytest.raises(MeasurementError, match="more than one row for seed 0"):
        run_test(df, _diff())


def test_units_nest_rows_and_set_the_scope() -> None:
    one = _df(_rows("acc", "a", [b + 2 + j for b, j in zip(BASE[:4], JITTER, strict=False)],
                    unit="search seed 0"),
              _rows("acc", "b", BASE[:4], unit="search seed 0"))
    out = run_test(one, _diff(sesoi=0.2))
    assert out.n == 4 and out.scope == "conditional on search seed 0"
    noise = [0.05, -0.05, 0.1, -0.1]
    many = _df(*[_rows("acc", g, [v + s * 0.1 + (1 + e if g == "a" else 0) for s in range(2)],
                       unit=f"search {u}")
                 for g in ("a", "b") for u, (v, e) in enumerate(zip([80.0, 81.0, 79.0, 80.5],
                                                                    noise, strict=True))])
    out = run_test(many, _diff(sesoi=0.2))
    assert out.n == 4 and out.scope.startswith("over 4 independent units")
    assert out.effect == pytest.approx(1.0)


# --- correlations -------------------------------------------------------------------------
def test_correlation_near_one_keeps_its_interval_inside_the_bounds() -> None:
    # per-seed rank correlations near 1 (Fisher z): a t-interval on the raw values passes 1
    few = _df(_rows("corr", "g", [0.99, 0.9, 0.999, 0.95]))
    t = {"kind": "threshold", "quantity": "corr", "group": "g", "scale": "fisher_z",
         "bound": 0.5, "sesoi": 0.2, "direction": "greater"}
    out = run_test(few, t)
    assert -1 < out.ci_low <= out.effect <= out.ci_high < 1
    assert run_test(few, {**t, "scale": "raw"}).ci_high > 1  # what the transform avoids
    many = _df(_rows("corr", "g", [0.97, 0.98, 0.96, 0.99, 0.975, 0.985, 0.965, 0.97, 0.98,
                                   0.995] * 2))
    out = run_test(many, t)
    assert -1 < out.ci_low <= out.effect <= out.ci_high < 1 and out.verdict == REPRODUCED
    # pooled Kendall taus with their pair counts
    pooled = _df(_rows("tau", "g", [0.97, 0.99]), _rows("n", "g", [30.0, 40.0]))
    out = run_test(pooled, {**t, "quantity": "tau", "n_quantity": "n"})
    assert -1 < out.ci_low < out.ci_high < 1 and out.n == 70 and out.verdict == REPRODUCED


def test_stratified_correlation_per_distinct_arch_with_reliability() -> None:
    rng = np.random.default_rng(1)
    rows = []
    for stratum, offset in (("s1", 0.0), ("s2", 20.0)):
        for i in range(12):
            true = float(i)
            rows.append({"quantity": "sup", "group": stratum, "seed": 0,
                         "value": offset + true + rng.normal(0, 0.3), "run_dir": "r",
                         "unit": f"{stratum}-arch{i}"})
            for seed in range(1 + (i % 2)):  # half the archs retrained twice
                rows.append({"quantity": "alone", "group": stratum, "seed": seed,
                             "value": 50 + true + rng.normal(0, 3.0), "run_dir": "r",
                             "unit": f"{stratum}-arch{i}"})
    df = pd.DataFrame(rows)
    t = {"kind": "correlation", "x": "sup", "y": "alone", "bound": 0.0, "sesoi": 0.3,
         "direction": "greater", "reliability": True}
    out = run_test(df, t)
    assert out.n == 24 and out.verdict == REPRODUCED  # 24 distinct archs, not 36 rows
    assert -1 <= out.ci_low < out.effect < out.ci_high <= 1
    assert "within 2 strata" in out.description and "reliability ceiling" in out.note


def test_trend_verdicts() -> None:
    levels = ["none", "mild", "strong"]
    rows = [r for i, g in enumerate(levels) for r in _rows("params", g, [100 - 30 * i + s
                                                                        for s in range(3)])]
    df = pd.DataFrame(rows)
    trend = {"kind": "trend", "quantity": "params", "groups": levels, "direction": "less",
             "sesoi": 0.3}
    assert run_test(df, trend).verdict == REPRODUCED
    assert run_test(df, {**trend, "groups": levels[::-1]}).verdict == NOT_REPRODUCED
    flat = pd.DataFrame([r for i, g in enumerate(levels) for r in _rows("p", g, [9.0 - i] * 3)])
    with pytest.raises(Exception, match="zero spread"):
        run_test(flat, {**trend, "quantity": "p"})
    assert run_test(flat, {**trend, "quantity": "p", "deterministic": True}).verdict == \
        REPRODUCED


# --- all_of ---------------------------------------------------------------------------------
def test_all_of_one_part_reversed_one_reproduced() -> None:
    df = _df(_shifted(2.0), _rows("acc", "c", [b + 2.0 + j for b, j in
                                               zip(BASE, JITTER, strict=True)]))
    good = _diff()
    reversed_ = _diff(a="b", b="c")  # b - c = -2: reversed
    out = run_test(df, {"kind": "all_of", "tests": [good, reversed_]})
    assert out.verdict == NOT_REPRODUCED
    assert out.effect == pytest.approx(-2.0, abs=1e-9)  # the part that decided is shown
    assert "shown: b - c" in out.note and "Holm" in out.note
    both = run_test(df, {"kind": "all_of", "tests": [good, _diff(a="c")]})
    assert both.verdict == REPRODUCED
    assert both.p_value == pytest.approx(max(run_test(df, good).p_value,
                                             run_test(df, _diff(a="c")).p_value))


def test_all_of_shows_the_part_nearest_its_bound() -> None:
    df = _df(_shifted(2.0), _rows("acc", "c", [b + 0.8 + 2 * j for b, j in
                                               zip(BASE, JITTER, strict=True)]))
    out = run_test(df, {"kind": "all_of", "tests": [_diff(), _diff(a="c")]})
    assert out.effect == pytest.approx(0.8, abs=1e-9)


# --- the property of item 3 ----------------------------------------------------------------
@pytest.mark.parametrize("true_effect, verdict", [(0.0, REPRODUCED), (0.5, NOT_REPRODUCED)])
def test_false_decisions_under_the_null_are_nominal(true_effect: float, verdict: str) -> None:
    """Simulated nulls with many seeds: an effect exactly on the bound is called reproduced,
    one exactly on the SESOI line is called not reproduced, each at the nominal rate."""
    rng = np.random.default_rng(123)
    n, sims, hits = 100, 400, 0
    frame = pd.DataFrame({"quantity": "acc", "group": ["a"] * n + ["b"] * n,
                          "seed": list(range(n)) * 2, "run_dir": "r"})
    for _ in range(sims):
        frame["value"] = np.concatenate([80 + true_effect + rng.normal(0, 1, n),
                                         80 + rng.normal(0, 1, n)])
        out = run_test(frame, _diff(sesoi=0.5))  # ~3.5 standard errors: powered
        assert out.verdict != UNDERPOWERED
        hits += out.verdict == verdict
    rate = hits / sims
    assert abs(rate - ALPHA) < 3.5 * math.sqrt(ALPHA * (1 - ALPHA) / sims), rate


def test_decide_from_an_interval() -> None:
    assert decide(0.1, 0.5, "greater", 0.0, 0.2) == REPRODUCED
    assert decide(-0.5, -0.1, "greater") == NOT_REPRODUCED
    assert decide(-0.1, 0.5, "greater") == INCONCLUSIVE
    assert decide(0.05, 0.15, "greater", 0.0, 0.2) == NOT_REPRODUCED
    assert decide(-0.5, -0.1, "less", 0.0, 0.2) == REPRODUCED
    assert decide(-0.15, -0.05, "less", 0.0, 0.2) == NOT_REPRODUCED
    with pytest.raises(ConfigError):
        decide(0.0, 1.0, "sideways")


# --- claims file and table ------------------------------------------------------------------
def test_missing_measurements_are_not_run_and_missing_quantities_not_testable(
        tmp_path: Path) -> None:
    pd.DataFrame(_rows("acc", "a", [1.0, 2.0])).to_csv(tmp_path / "x_measurements.csv",
                                                       index=False)
    thr = {"kind": "threshold", "quantity": "acc", "group": "a", "bound": 0, "sesoi": 1}
    claims = [
        {"id": "X1", "paper": "x", "statement": "s", "reads": "x_measurements.csv",
         "test": _diff(quantity="acc", b="zzz")},
        {"id": "X2", "paper": "x", "statement": "s", "reads": "absent.csv", "test": thr},
        {"id": "Y1", "paper": "y", "statement": "s", "reads": "x_measurements.csv", "test": thr},
        {"id": "X3", "paper": "x", "statement": "s", "reads": "x_measurements.csv",
         "test": {**thr, "quantity": "new_quantity"}},
    ]
    df = evaluate_claims(claims, tmp_path, papers=["x"])
    assert list(df["verdict"]) == [NOT_RUN, NOT_RUN, NOT_RUN, NOT_TESTABLE]
    assert "zzz" in df["note"][0] and "absent.csv" in df["note"][1]
    assert "not enabled" in df["note"][2] and "'new_quantity'" in df["note"][3]


def test_benjamini_hochberg_switch(tmp_path: Path) -> None:
    _shifted(2.0).to_csv(tmp_path / "x_measurements.csv", index=False)
    c = {"paper": "x", "statement": "s", "reads": "x_measurements.csv", "test": _diff()}
    claims = [{**c, "id": f"X{i}"} for i in range(3)]
    plain = evaluate_claims(claims, tmp_path)
    bh = evaluate_claims(claims, tmp_path, fdr="bh")
    assert (bh["p_value"] >= plain["p_value"]).all() and "BH" in bh["note"][0]
    assert "Benjamini-Hochberg adjusted" in family_summary(bh, "bh")
    with pytest.raises(ConfigError, match="fdr"):
        evaluate_claims(claims, tmp_path, fdr="magic")


def test_paper_claims_file_states_every_claim_with_its_sesoi() -> None:
    claims = load_claims(REPO / "paper" / "claims.yaml")
    ids = [c["id"] for c in claims]
    want = ([f"S{i}" for i in range(1, 5)] + [f"D{i}" for i in range(1, 7)]
            + [f"A{i}" for i in range(1, 4)] + [f"F{i}" for i in range(1, 6)])
    assert ids == want
    for c in claims:
        assert c["reads"] == f"{c['paper']}_measurements.csv" and c["sesoi_source"]


def test_committed_default_measurements_give_no_verdict_on_a_failed_guard(
        tmp_path: Path) -> None:
    for f in (REPO / "paper" / "default").glob("*/tables/*_measurements.csv"):
        (tmp_path / f.name).write_bytes(f.read_bytes())
    df = evaluate_claims(load_claims(REPO / "paper" / "claims.yaml"), tmp_path)
    assert len(df) == 18 and set(df["verdict"]) <= {REPRODUCED, NOT_REPRODUCED, INCONCLUSIVE,
                                                    UNDERPOWERED, NOT_TESTABLE}
    failed = df["guard"].str.startswith("failed")
    assert (df.loc[failed, "verdict"] == NOT_TESTABLE).all()
    view = claims_view(df)
    assert list(view.columns) == ["id", "claim", "effect", "95% CI", "p (bound)", "p (SESOI)",
                                  "n", "SESOI", "MDE", "seeds needed", "guard", "verdict",
                                  "scope / note"]


def test_write_claims_files(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    tables.mkdir()
    _shifted(2.0).to_csv(tables / "x_measurements.csv", index=False)
    cf = tmp_path / "c.yaml"
    cf.write_text("- {id: X1, paper: x, statement: s, reads: x_measurements.csv,\n"
                  "   sesoi_source: made up, test: {kind: difference, quantity: acc, a: a,\n"
                  "   b: b, paired: 'seed s', sesoi: 0.5}}\n")
    config = {"profile": "t", "seeds": [0, 1], "papers": ["x"], "claims": {"fdr": "none"}}
    df = write_claims(config, cf, tmp_path, tables_dir=tables)
    assert list(df["verdict"]) == [REPRODUCED]
    csv = pd.read_csv(tmp_path / "claims.csv")
    for col in ("effect", "ci_low", "ci_high", "p_value", "p_sesoi", "n", "sesoi", "mde",
                "seeds_needed", "guard", "verdict", "scope", "sesoi_source"):
        assert col in csv.columns
    md = (tmp_path / "claims.md").read_text()
    assert "seeds needed" in md and "Underpowered" in md and "chance alone" in md
    assert (tmp_path / "claims.tex").read_text().startswith("\\begin{table}")


def test_load_claims_rejects_bad_files(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("- {id: A, paper: p, statement: s, reads: r.csv, sesoi_source: x, test: {}}\n"
                   "- {id: A, paper: p, statement: s, reads: r.csv, sesoi_source: x, test: {}}\n")
    with pytest.raises(ConfigError, match="twice"):
        load_claims(bad)
    bad.write_text("- {id: A, paper: p}\n")
    with pytest.raises(ConfigError, match="lacks"):
        load_claims(bad)
    bad.write_text("- {id: A, paper: p, statement: s, reads: r.csv, sesoi_source: x,\n"
                   "   test: {kind: difference, quantity: q, a: a, b: b}}\n")
    with pytest.raises(ConfigError, match="sesoi"):
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
    df = _df(_rows("tau", "u", [0.7]), _rows("tau_lo", "u", [0.62]), _rows("tau_hi", "u", [0.77]),
             _rows("tau_n", "u", [400.0]))
    t = {"kind": "threshold", "quantity": "tau", "group": "u", "scale": "fisher_z",
         "bound": 0.3, "sesoi": 0.2, "ci_quantities": ["tau_lo", "tau_hi"], "n_quantity": "tau_n"}
    out = run_test(df, t)
    assert out.verdict == REPRODUCED and (out.ci_low, out.ci_high) == pytest.approx((0.62, 0.77))
    assert out.n == 400
    wide = _df(_rows("tau", "u", [0.37]), _rows("tau_lo", "u", [0.1]), _rows("tau_hi", "u", [0.6]))
    t2 = {k: v for k, v in t.items() if k != "n_quantity"}
    assert run_test(wide, t2).verdict == UNDERPOWERED


def test_report_without_its_inputs_is_a_one_line_error(tmp_path: Path) -> None:
    from nasrepro.config import load_config
    from nasrepro.reporting.report import build_report

    with pytest.raises(ConfigError, match="snakemake paper"):
        build_report(load_config("tiny"), tmp_path / "paper", REPO / "paper" /
                     "report_template.md", REPO / "paper" / "published.yaml", tmp_path / "none")
    assert not (tmp_path / "paper").exists()  # nothing half-written


def test_power_first_option_is_issue_10s_literal_rule(tmp_path: Path) -> None:
    """``claims: {power_first: true}``: an underpowered design says "underpowered" even where
    its interval decides; the default lets the rejection decide."""
    noisy = [2.0, -2.5, 3.0, -1.5]
    df = _df(_rows("acc", "a", [b + 8.0 + d for b, d in zip(BASE, noisy, strict=False)]),
             _rows("acc", "b", BASE[:4]))
    df.to_csv(tmp_path / "x_measurements.csv", index=False)
    claims = [{"id": "X1", "paper": "x", "statement": "s", "reads": "x_measurements.csv",
               "test": _diff()}]
    default = evaluate_claims(claims, tmp_path)
    literal = evaluate_claims(claims, tmp_path, power_first=True)
    assert default.loc[0, "verdict"] == REPRODUCED
    assert literal.loc[0, "verdict"] == UNDERPOWERED
    assert evaluate_claims(claims, tmp_path, fdr="bh", power_first=True).loc[0, "verdict"] \
        == UNDERPOWERED
