"""Sequential seeds (issue 12, item 3): Lan-DeMets boundaries against published values, their
error rate under a simulated null, the claims engine at look 1 and 2, and the look-2 planner."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from scipy import stats

from nasrepro.config import load_config
from nasrepro.errors import ConfigError
from nasrepro.reporting.claims import (
    ALPHA,
    INCONCLUSIVE,
    REPRODUCED,
    UNDERPOWERED,
    evaluate_claims,
    load_claims,
    write_claims,
)
from nasrepro.reporting.sequential import (
    FAMILIES,
    Design,
    boundaries,
    conditional_power,
    drift_current_trend,
    drift_sesoi,
    nominal_alpha,
    plan_next_look,
    spent_alpha,
)
from tests.conftest import run_cli

REPO = Path(__file__).resolve().parent.parent
HALF = [0.5, 1.0]


# --- spending and boundaries ----------------------------------------------------------------
@pytest.mark.parametrize(("family", "want"), [("obrien-fleming", [2.963, 1.969]),
                                               ("pocock", [2.157, 2.201])])
def test_boundaries_match_gsdesign(family: str, want: list[float]) -> None:
    """gsDesign (one-sided 0.025, looks at t = 0.5, 1): sfLDOF 2.963/1.969, sfLDPocock
    2.157/2.201."""
    assert boundaries(HALF, 0.025, family) == pytest.approx(want, abs=2e-3)


def test_spent_alpha_ends_at_alpha_and_increases() -> None:
    ts = np.linspace(0.05, 1.0, 20)
    for family in FAMILIES:
        spent = [spent_alpha(float(t), ALPHA, family) for t in ts]
        assert spent[-1] == pytest.approx(ALPHA, abs=1e-15)
        assert all(b > a for a, b in zip(spent, spent[1:], strict=False))


@pytest.mark.parametrize("family", FAMILIES)
def test_single_look_is_the_fixed_design(family: str) -> None:
    assert boundaries([1.0], ALPHA, family) == pytest.approx([stats.norm.isf(ALPHA)])
    assert nominal_alpha([1.0], ALPHA, family) == pytest.approx([ALPHA])


def test_bad_inputs_are_one_line_config_errors() -> None:
    for fractions in ([0.5, 0.9], [0.6, 0.4, 1.0], [0.0, 1.0], []):
        with pytest.raises(ConfigError, match="fractions"):
            boundaries(fractions)
    with pytest.raises(ConfigError, match=r"\(0, 0.5\)"):
        boundaries(HALF, 0.6)
    with pytest.raises(ConfigError, match="obrien-fleming, pocock"):
        boundaries(HALF, family="haybittle")


def test_conditional_power_known_cases() -> None:
    t, b = 0.5, boundaries(HALF)[-1]
    # an interim z exactly on the trend that ends at the boundary: a coin flip
    z = b * math.sqrt(t)
    assert drift_current_trend(z, t) == pytest.approx(b)
    assert conditional_power(z, t, b, drift_current_trend(z, t)) == pytest.approx(0.5)
    # no effect (drift 0) from z = 0: the final boundary is out of reach
    assert conditional_power(0.0, t, b, 0.0) < 0.01
    # a large interim z with the SESOI's drift: nearly certain
    assert conditional_power(3.0, t, b, drift_sesoi(1.0, 0.25)) > 0.99
    assert drift_sesoi(1.0, 0.25) == pytest.approx(4.0)


@pytest.mark.parametrize("family", FAMILIES)
def test_error_rate_under_the_null_is_alpha_and_naive_looks_inflate_it(family: str) -> None:
    """20,000 two-look trials of normal data under H0: crossing either computed boundary
    happens at rate alpha (within Monte-Carlo error); testing at alpha at both looks does not."""
    rng = np.random.default_rng(0)
    trials, n = 20_000, 20
    x = rng.normal(size=(trials, n))
    z1 = x[:, : n // 2].sum(axis=1) / math.sqrt(n // 2)
    z2 = x.sum(axis=1) / math.sqrt(n)
    b1, b2 = boundaries(HALF, ALPHA, family)
    rate = float(np.mean((z1 >= b1) | (z2 >= b2)))
    mc_se = math.sqrt(ALPHA * (1 - ALPHA) / trials)
    assert abs(rate - ALPHA) < 3.5 * mc_se
    fixed = stats.norm.isf(ALPHA)
    naive = float(np.mean((z1 >= fixed) | (z2 >= fixed)))
    assert naive > ALPHA + 10 * mc_se          # about 0.042 at t = 0.5


# --- the claims engine ----------------------------------------------------------------------
#: paired differences a - b: p = 0.0085 against 0, decisive at 0.025, not at look 1's 0.0015
DIFFS = [1.0, 0.2, 1.5, -0.3, 0.8, 1.2, 0.1, 0.9]
CLAIMS_YAML = """\
- {id: X1, paper: x, statement: s, reads: x_measurements.csv, sesoi_source: made up,
   seeds_key: x.seeds,
   test: {kind: difference, quantity: acc, a: a, b: b, paired: 'seed s', sesoi: 0.5}}
- {id: X2, paper: x, statement: t, reads: x_measurements.csv, sesoi_source: made up,
   test: {kind: difference, quantity: big, a: a, b: b, paired: 'seed s', sesoi: 0.5}}
"""


def _measurements(tables: Path) -> None:
    base = [80.0, 81.0, 79.5, 80.5, 80.2, 79.8, 80.9, 79.1]
    rows = []
    for q, shift in (("acc", DIFFS), ("big", [5 + d for d in DIFFS])):
        for s, (b, d) in enumerate(zip(base, shift, strict=True)):
            rows += [{"quantity": q, "group": "a", "seed": s, "value": b + d,
                      "run_dir": f"a/seed{s}"},
                     {"quantity": q, "group": "b", "seed": s, "value": b,
                      "run_dir": f"b/seed{s}"}]
    tables.mkdir(exist_ok=True)
    pd.DataFrame(rows).to_csv(tables / "x_measurements.csv", index=False)


def _config(sequential: dict | None = None) -> dict:
    claims = {"fdr": "none"} if sequential is None else {"fdr": "none", "sequential": sequential}
    return {"profile": "t", "seeds": [0, 1], "papers": ["x"], "claims": claims}


def test_look_1_decides_at_the_smaller_nominal_alpha(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    _measurements(tables)
    cf = tmp_path / "c.yaml"
    cf.write_text(CLAIMS_YAML)
    fixed = write_claims(_config(), cf, tmp_path / "fixed", tables_dir=tables)
    look1 = write_claims(_config({"look": 1}), cf, tmp_path / "look1", tables_dir=tables)
    a1 = nominal_alpha(HALF)[0]
    assert fixed.loc[0, "verdict"] == REPRODUCED and "look" not in fixed.columns
    assert a1 < fixed.loc[0, "p_value"] < ALPHA
    assert look1.loc[0, "verdict"] in (INCONCLUSIVE, UNDERPOWERED)
    assert look1.loc[0, "ci_low"] < 0 < fixed.loc[0, "ci_low"]       # the interval agrees
    assert look1.loc[1, "verdict"] == REPRODUCED                      # decisive at any look
    assert list(look1["look"]) == [1, 1] and list(look1["continue"]) == ["yes", "no"]
    assert look1.loc[0, "conditional_power"] >= 0.5
    md = (tmp_path / "look1" / "claims.md").read_text()
    assert "conditional power" in md and "Lan-DeMets obrien-fleming" in md and f"{a1:.4f}" in md
    # sequential unset or null: the fixed design's files, byte for byte
    write_claims({**_config(), "claims": {"fdr": "none", "sequential": None}}, cf,
                 tmp_path / "null", tables_dir=tables)
    for ext in ("csv", "md", "tex"):
        assert (tmp_path / "null" / f"claims.{ext}").read_bytes() == \
            (tmp_path / "fixed" / f"claims.{ext}").read_bytes()
    with pytest.raises(ConfigError, match="cannot be combined"):
        write_claims({**_config({"look": 1}), "claims": {"fdr": "bh", "sequential": {}}}, cf,
                     tmp_path / "bh", tables_dir=tables)
    with pytest.raises(ConfigError, match="look"):
        Design.from_config({"look": 3})


def test_look_2_keeps_the_stopped_claims_look_1_rows(tmp_path: Path) -> None:
    tables = tmp_path / "tables"
    _measurements(tables)
    cf = tmp_path / "c.yaml"
    cf.write_text(CLAIMS_YAML)
    look1 = write_claims(_config({"look": 1}), cf, tmp_path / "look1", tables_dir=tables)
    overlay, _ = plan_next_look(look1, {"seeds": [0, 1], "x": {"seeds": list(range(8))},
                                        "claims": _config({"look": 1})["claims"]},
                                load_claims(cf))
    assert overlay["x"] == {"seeds": list(range(16))}                 # X1: n 8 -> 16
    seq = overlay["claims"]["sequential"]
    assert seq["look"] == 2 and set(seq["stopped"]) == {"X2"}
    look2 = evaluate_claims(load_claims(cf), tables, papers=["x"],
                            alpha=nominal_alpha(HALF)[1])
    out = Design.from_config(seq).annotate(look2)
    assert list(out["look"]) == [2, 1] and "continue" not in out.columns
    assert out.loc[0, "verdict"] == REPRODUCED            # 0.0085 < 0.0245
    assert out.loc[1].drop("look").equals(look1.loc[1, look2.columns])


# --- the planner ----------------------------------------------------------------------------
def _look1_table(path: Path) -> None:
    rows = [("S1", 2, INCONCLUSIVE, 0.62, "yes"), ("F1", 3, REPRODUCED, math.nan, "no"),
            ("F2", 3, UNDERPOWERED, 0.55, "yes"), ("A3", 100, UNDERPOWERED, 0.7, "yes"),
            ("D4", 1, UNDERPOWERED, math.nan, "no")]
    pd.DataFrame([{"id": i, "n": n, "verdict": v, "effect": 0.1, "note": "", "look": 1,
                   "conditional_power": cp, "continue": c} for i, n, v, cp, c in rows]) \
        .to_csv(path, index=False)


def test_planner_extends_only_the_continued_claims_seeds(tmp_path: Path) -> None:
    csv, out = tmp_path / "claims.csv", tmp_path / "look2.yaml"
    _look1_table(csv)
    proc = run_cli("sequential-plan", "--claims", str(csv), "--config",
                   str(REPO / "config" / "default.yaml"),
                   str(REPO / "config" / "overlays" / "sequential.yaml"), "--out", str(out))
    assert proc.returncode == 0, proc.stderr
    assert "A3: would continue (conditional power 0.70) but names no seeds_key" in proc.stdout
    overlay = yaml.safe_load(out.read_text())
    default = load_config("default")
    assert overlay["spos"] == {"seeds": [*default["spos"]["seeds"], 2, 3]}      # S1: n 2 -> 4
    # F2: its replicate is the AutoTrain search (n = 3: search seeds 0, 1, 2), so 3 more
    assert overlay["fbnetv3"] == {"replicate_search_seeds": [1, 2, 3, 4, 5]}
    assert "darts_snas" not in overlay                                           # D4 stopped
    seq = overlay["claims"]["sequential"]
    assert seq["look"] == 2 and seq["spending"] == "obrien-fleming"
    # A3 would continue but has no seeds_key: stopped with its look-1 row, like F1 and D4
    assert set(seq["stopped"]) == {"F1", "D4", "A3"}
    assert seq["stopped"]["F1"]["verdict"] == REPRODUCED
    load_config("default", overlay)                       # look 2's config is valid


def test_planner_refuses_a_table_without_look_1(tmp_path: Path) -> None:
    csv = tmp_path / "claims.csv"
    pd.DataFrame([{"id": "S1", "n": 2, "verdict": INCONCLUSIVE}]).to_csv(csv, index=False)
    with pytest.raises(ConfigError, match="not a look-1 table"):
        plan_next_look(pd.read_csv(csv), load_config("default"),
                       load_claims(REPO / "paper" / "claims.yaml"))
    proc = run_cli("sequential-plan", "--claims", str(tmp_path / "none.csv"), "--config",
                   str(REPO / "config" / "default.yaml"), "--out", str(tmp_path / "o.yaml"))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and "run look 1 first" in lines[0]


def test_claims_file_seeds_keys_are_checked(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text(CLAIMS_YAML.replace("seeds_key: x.seeds", "seeds_key: spos"))
    with pytest.raises(ConfigError, match="seeds_key"):
        load_claims(bad)
    keys = {c["id"]: c.get("seeds_key") for c in load_claims(REPO / "paper" / "claims.yaml")}
    assert keys["S1"] == "spos.seeds" and keys["F1"] == "fbnetv3.replicate_search_seeds"


def test_planner_resolves_seed_lists_through_the_grids(tmp_path: Path) -> None:
    """Look 2's lists start from what the run used (the grids' fallbacks), never repeat the
    main search seed, and a claim whose n counts retrain seeds of one search is not extended
    with searches (its replicates would change kind between the looks)."""
    from nasrepro.reporting.sequential import current_seeds

    specs = load_claims(REPO / "paper" / "claims.yaml")
    table = pd.DataFrame([{"id": "F5", "n": 2, "verdict": UNDERPOWERED, "effect": 0.1,
                           "note": "", "look": 1, "conditional_power": 0.9, "continue": "yes"}])
    seq = {"claims": {"sequential": {"look": 1}}}
    # cifar10: no replicate searches, so F5's n = 2 counts retrain seeds: stopped, not extended
    cifar = load_config("cifar10", seq)
    assert current_seeds(cifar, "fbnetv3.replicate_search_seeds") == []
    overlay, notes = plan_next_look(table, cifar, specs)
    assert "fbnetv3" not in overlay and "F5" in overlay["claims"]["sequential"]["stopped"]
    assert any("counts retrain seeds" in n for n in notes)
    # tiny: one replicate search (n = 2 searches) -> 2 more, after 1, skipping search_seed 0
    tiny = load_config("tiny", {**seq, "fbnetv3": {"search_seed": 3}})
    overlay, _ = plan_next_look(table, tiny, specs)
    assert overlay["fbnetv3"]["replicate_search_seeds"] == [1, 2, 4]
    # spos.display_seeds unset falls back to spos.seeds, as the SPOS grid does
    spos = load_config("tiny", {"spos": {"seeds": [5, 6], "display_seeds": None}})
    assert current_seeds(spos, "spos.display_seeds") == [5, 6]


@pytest.mark.parametrize("content", ["id,continue\nS1,yes\n", "\x00\x01 not a csv \x7f\n\"", ""])
def test_planner_refuses_a_malformed_claims_table_in_one_line(tmp_path: Path,
                                                              content: str) -> None:
    csv, out = tmp_path / "claims.csv", tmp_path / "look2.yaml"
    csv.write_text(content)
    proc = run_cli("sequential-plan", "--claims", str(csv), "--config",
                   str(REPO / "config" / "tiny.yaml"), "--out", str(out))
    lines = proc.stderr.strip().splitlines()
    assert proc.returncode == 2 and len(lines) == 1 and lines[0].startswith("error:"), \
        proc.stderr
    assert not out.exists()
