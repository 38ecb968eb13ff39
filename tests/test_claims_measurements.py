"""The measurements the claims read, as the papers mean them (issue 10, item 4), built from
hand-made result folders: SPOS S4 per distinct arch, FBNetV3 F3 stratified taus and F4 held-out
taus, SNAS/DARTS normalised drop and parametric edges."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nasrepro.config import load_config, profile_dir
from nasrepro.reporting.claims import REPRODUCED, UNDERPOWERED, run_test


def _write(path: Path, obj: object) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


def test_spos_s4_has_one_unit_per_distinct_arch(tmp_path: Path) -> None:
    from nasrepro.papers.spos.tables import _all_roles, _run_dirs, build_measurements

    config = load_config("tiny", {"results_dir": str(tmp_path)})
    root = profile_dir(config)
    rng = np.random.default_rng(0)
    inherit = []
    for r_i, role in enumerate(_all_roles(config)):
        kind = "block_channel" if "channel" in role else "block"
        for i, d in enumerate(_run_dirs(config, role)):
            # fixed roles: one arch retrained with every seed; the two block searchers of
            # seed i find the same arch (one training, counted once)
            arch = (f"{role}" if role.startswith("fixed/") else
                    f"search-block-{i}" if role.startswith("search/block/") else f"{role}-{i}")
            seed = config["seeds"][i % len(config["seeds"])]
            quality = float(len(arch) % 7)
            acc = 80 + quality + (0.0 if role.startswith("search/block/") else rng.normal(0, .3))
            _write(root / d / "metrics.json", {"seed": seed, "test_acc": acc, "macs": 1e6})
            inherit.append({"role": role, "index": i, "arch_id": arch, "supernet": kind,
                            "supernet_val_acc": 50 + quality, "standalone_test_acc": acc})
        del r_i
    from nasrepro.papers.spos.grid import INHERIT_CSV

    (root / INHERIT_CSV).parent.mkdir(parents=True)
    pd.DataFrame(inherit).to_csv(root / INHERIT_CSV, index=False)
    m = build_measurements(config)
    assert {"retrain_macs", "arch_supernet_acc", "arch_standalone_acc"} <= set(m["quantity"])
    sup = m[m["quantity"] == "arch_supernet_acc"]
    alone = m[m["quantity"] == "arch_standalone_acc"]
    archs = {(r["supernet"], r["arch_id"]) for r in inherit}
    assert len(sup) == len(archs) and not sup.duplicated(["group", "unit"]).any()
    assert not alone.duplicated(["group", "unit", "seed"]).any()
    assert len(alone) < len(inherit)  # the shared search arch is one training
    out = run_test(m, {"kind": "correlation", "x": "arch_supernet_acc",
                       "y": "arch_standalone_acc", "bound": 0.0, "sesoi": 0.1,
                       "reliability": True})
    assert out.n == len(archs) and "reliability ceiling" in out.note


def test_fbnetv3_units_stratified_predictor_and_heldout_early_stop(tmp_path: Path) -> None:
    from nasrepro.papers.fbnetv3 import tables as fb

    config = load_config("tiny", {"results_dir": str(tmp_path)})
    rng = np.random.default_rng(1)
    for budget, mode in fb.SEARCHES:
        d = fb.search_dir(config, budget, mode)
        cands = [{"iteration": 0, "curve": [50.0 + i, 60.0 + i, 70.0 + i], "score": 60.0 + i}
                 for i in range(6)]
        # later iteration: five candidates trained to the end as held-out checks
        cands += [{"iteration": 1, "heldout": True, "score": 0.0,
                   "curve": [55.0 + i, 65.0 + i + rng.normal(0, .1), 72.0 + i]}
                  for i in range(5)]
        d.mkdir(parents=True)
        (d / "candidates.jsonl").write_text("".join(json.dumps(c) + "\n" for c in cands))
        _write(d / "summary.json", {"seed": 0, "stop_epoch": 2, "full_epochs": 3,
                                    "corr_at_stop": 1.0, "early_stop_fraction": 2 / 3})
    assert fb.replicate_search_seeds(config) == [1]  # the tiny profile's replicate searches
    for budget, mode in fb.SEARCHES:
        _write(profile_dir(config) / fb.search_run(config, f"{budget}_{mode}@1") / "summary.json",
               {"seed": 1})
    for role in fb.roles(config):
        for i, d in enumerate(fb.run_dirs(config, role)):
            _write(d / "metrics.json", {"seed": config["seeds"][i], "macs": 1e6,
                                        "test_acc": 70 + rng.normal(0, .5)})
    pdir = profile_dir(config) / fb.PREDICTOR_DIR
    pdir.mkdir(parents=True)
    _write(pdir / "provenance.json", {"search_dirs": [str(fb.search_dir(config, "A", "joint")),
                                                     str(fb.search_dir(config, "B", "joint"))]})
    runs, preds = [], []
    for seed in (0, 1, 2):
        test = [0, 3, 6, 11, 14, 19]  # candidates of A (0..10) and of B (11..21)
        for method in ("pretrained", "scratch"):
            runs.append({"seed": seed, "method": method, "kendall_tau": 0.5, "spearman": 0.5,
                         "rmse": 1.0, "n_train": 16, "n_test": 6})
            for i in test:
                preds.append({"seed": seed, "method": method, "index": i, "measured": float(i),
                              "predicted": float(i) + rng.normal(0, 3)})
    pd.DataFrame(runs).to_csv(pdir / "predictor_runs.csv", index=False)
    pd.DataFrame(preds).to_csv(pdir / "predictions.csv", index=False)

    m = fb.measurements(config)
    swap = m[m["quantity"] == "swap_acc"]
    assert set(swap["unit"]) == {"search seed 0", "search seed 1"}
    strat = m[m["quantity"] == "predictor_tau_strat"]
    assert len(strat) == 6 and strat["value"].between(-1, 1).all()
    assert set(m.loc[m["quantity"] == "predictor_n_test", "value"]) == {6.0}
    held = m[m["quantity"] == "early_stop_heldout_tau"]
    assert len(held) == len(fb.SEARCHES) and np.allclose(held["value"], 1.0)
    # F1 and F2 at the method level: paired by search seed, each unit the mean of its retrains
    out = run_test(m, {"kind": "difference", "quantity": "swap_acc", "a": "A:recipeA",
                       "b": "A:recipeB", "paired": "same arch and seed", "sesoi": 0.5})
    assert out.n == 2 and out.scope.startswith("over 2 independent units")
    at = m[m["quantity"] == "autotrain_acc"]
    assert at.groupby("group")["unit"].apply(set).to_dict() == {
        g: {"search seed 0", "search seed 1"} for g in ("default", "autotrain")}
    # unit 1's comparator retrains at its own seeds: not the same runs as unit 0's
    unit1 = at[(at["group"] == "default") & (at["unit"] == "search seed 1")]
    assert set(unit1["run_dir"]).isdisjoint(at.loc[at["unit"] == "search seed 0", "run_dir"])
    f2 = run_test(m, {"kind": "difference", "quantity": "autotrain_acc", "a": "autotrain",
                      "b": "default", "paired": "same arch and seeds per unit", "sesoi": 0.5})
    assert f2.n == 2
    f4 = run_test(m, {"kind": "threshold", "quantity": "early_stop_heldout_tau",
                      "group": "heldout", "scale": "fisher_z",
                      "n_quantity": "early_stop_heldout_n", "bound": 0.5, "sesoi": 0.2})
    assert f4.n == 5 * len(fb.SEARCHES) and f4.verdict in (REPRODUCED, UNDERPOWERED)
    assert -1 < f4.ci_low < f4.ci_high < 1
    # F5 at the method level: one replicate per search (its retrain seeds averaged), 2 per arm
    f5 = m[m["quantity"] == "search_acc"]
    for group, role in (("joint", "swap/A_recipeA_s1"), ("arch_only", "search/arch_only_s1")):
        arm = f5[f5["group"] == group]
        assert set(arm["unit"]) == {"search seed 0", "search seed 1"}
        assert set(arm.loc[arm["unit"] == "search seed 1", "run_dir"]) == {
            f"fbnetv3/retrain/{role}/seed{s}" for s in fb.role_retrain_seeds(config, role)}
    out = run_test(m, {"kind": "difference", "quantity": "search_acc", "a": "joint",
                       "b": "arch_only", "scale": "log_error", "sesoi": 0.01})
    assert out.n == 2 and out.scope.startswith("over 2 independent units")


@pytest.mark.parametrize("drop, supernet, want", [(40.0, 60.0, 0.8), (2.0, 50.0, 0.05)])
def test_darts_snas_normalised_drop_and_parametric_edges(tmp_path: Path, drop: float,
                                                         supernet: float, want: float) -> None:
    from nasrepro.papers.darts_snas.tables import SEARCH_QUANTITIES, measurements

    config = load_config("tiny", {"results_dir": str(tmp_path)})
    final = {q: 1.0 for q in SEARCH_QUANTITIES}
    final.update(supernet_val_acc=supernet, child_drop=drop,
                 arch={"normal": [["sep_conv_3x3", 0, 2], ["skip_connect", 1, 2],
                                  ["dil_conv_5x5", 0, 3]],
                       "reduce": [["max_pool_3x3", 0, 2]]})
    searches = [{"group": "snas:mild", "seed": 0, "final": final, "run_dir": "s0"}]
    m = measurements(config, searches, [])
    row = m.set_index("quantity")["value"]
    assert row["child_drop_norm"] == pytest.approx(want)  # chance = 10 % (10 classes)
    assert row["parametric_edges"] == 2.0 and row["chance_acc"] == pytest.approx(10.0)
