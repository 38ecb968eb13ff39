"""End to end: the tiny-profile `fbnetv3` target through Snakemake.

Runs the whole FBNetV3 DAG on digits (proxy pretraining, joint / arch-only / AutoTrain
searches, predictor study, retraining for the recipe swap, AutoTrain and search tables) into a
temporary results folder, then checks the tables, measurements, leaderboard and figures.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nasrepro.io import read_json


@pytest.fixture(scope="module")
def fb_results(tiny_dag: tuple[Path, Path]) -> Path:
    """The session's whole tiny DAG (tests/conftest.py ``tiny_dag``)."""
    return tiny_dag[0]


def test_tables_exist_and_have_their_rows(fb_results: Path) -> None:
    tables = fb_results / "fbnetv3" / "tables"
    for name in ("recipe_swap", "autotrain", "predictor", "early_stopping", "search"):
        for ext in ("csv", "md", "tex"):
            assert (tables / f"fbnetv3_{name}.{ext}").stat().st_size > 0
    swap = pd.read_csv(tables / "fbnetv3_recipe_swap.csv")
    assert list(swap["arch"]) == ["searched A", "searched B", "searched A, search seed 1",
                                  "searched B, search seed 1"]  # replicate_search_seeds [1]
    assert (swap["n"] == 2).all()
    for col in ("recipe_A_mean", "recipe_B_mean"):
        assert ((swap[col] > 0) & (swap[col] <= 100)).all()
    assert swap["macs_m"].iloc[0] <= swap["macs_m"].iloc[1] * 1.5  # A is the smaller budget
    auto = pd.read_csv(tables / "fbnetv3_autotrain.csv")
    assert list(auto["recipe"]) == ["default", "autotrain", "default, search seed 1",
                                    "autotrain, search seed 1"]
    assert auto["arch_id"].nunique() == 1  # the arch is fixed
    pred = pd.read_csv(tables / "fbnetv3_predictor.csv")
    assert list(pred["predictor"]) == ["pretrained", "scratch", "random_forest", "toy-predictor"]
    assert (pred["n_seeds"] == 3).all()
    es = pd.read_csv(tables / "fbnetv3_early_stopping.csv")
    assert es.groupby("search")["chosen"].sum().eq(1).all()
    search = pd.read_csv(tables / "fbnetv3_search.csv")
    assert search["macs_m"].max() <= search["macs_limit_m"].iloc[0] + 1e-9
    # one row per search: the main joint and arch-only searches, then the replicate seed's pair
    assert list(search["search"]) == [
        "joint (arch + recipe)", "arch only (default recipe)",
        "joint (arch + recipe), search seed 1", "arch only (default recipe), search seed 1"]
    assert search["run_dirs"].iloc[2].startswith("fbnetv3/search/A_joint/seed1;")


def test_measurements_and_leaderboard(fb_results: Path) -> None:
    m = pd.read_csv(fb_results / "tables" / "fbnetv3_measurements.csv")
    assert list(m.columns) == ["quantity", "group", "seed", "value", "run_dir", "unit"]
    groups = m.groupby("quantity")["group"].apply(set).to_dict()
    assert groups["swap_acc"] == {"A:recipeA", "A:recipeB", "B:recipeB", "B:recipeA"}
    assert groups["autotrain_acc"] == {"default", "autotrain"}
    assert groups["predictor_tau"] == {"pretrained", "scratch", "random_forest", "toy-predictor"}
    assert groups["search_acc"] == {"joint", "arch_only"}
    # claims F1, F2, F5 at the method level: a replicate per search seed, in every arm
    for q in ("swap_acc", "autotrain_acc", "search_acc"):
        arms = m[m["quantity"] == q].groupby("group")["unit"].apply(set).to_dict()
        assert arms and all(u == {"search seed 0", "search seed 1"} for u in arms.values()), q
    assert groups["early_stop_corr"] == {"chosen_epoch"}
    frac = m[m["quantity"] == "early_stop_fraction"]["value"]
    assert ((frac > 0) & (frac <= 1)).all()
    corr = m[m["quantity"] == "early_stop_corr"]["value"]
    assert (corr >= 0.6 - 1e-9).all()  # the chosen epoch meets the threshold
    assert set(m[m["quantity"] == "swap_acc"]["seed"]) == {0, 1}
    for run_dir in set(m["run_dir"]):
        assert (fb_results / run_dir).is_dir()
    lb = pd.read_csv(fb_results / "tables" / "fbnetv3_leaderboard.csv")
    assert list(lb.columns) == ["paper", "method", "space", "arch_id", "arch", "macs", "params",
                                "acc_mean", "acc_std", "n", "search_cost_h", "run_dirs"]
    # 7 roles at the search seed and again at the replicate seed 1
    assert len(lb) == 14 and (lb["search_cost_h"] >= 0).all()
    assert {"swap:A_recipeB_s1", "autotrain:default_s1", "search:arch_only_s1"} < set(lb["method"])


def test_searched_archs_respect_budgets_and_runs_have_provenance(fb_results: Path) -> None:
    root = fb_results / "fbnetv3"
    for name in ("A_joint", "B_joint", "A_arch_only", "A_autotrain"):
        best = read_json(root / "search" / name / "seed0" / "best.json")
        assert best["macs"] <= best["macs_limit"]
        assert (root / "search" / name / "seed0" / "provenance.json").exists()
    a = read_json(root / "search" / "A_joint" / "seed0" / "best.json")
    b = read_json(root / "search" / "B_joint" / "seed0" / "best.json")
    assert a["macs_limit"] < b["macs_limit"]
    swap = read_json(root / "retrain" / "swap" / "A_recipeB" / "seed0" / "metrics.json")
    assert swap["arch"] == a["arch"] and swap["recipe"] == b["recipe"]
    assert (root / "retrain" / "swap" / "A_recipeB" / "seed0" / "provenance.json").exists()


def test_figures_exist(fb_results: Path) -> None:
    for name in ("fbnetv3_early_stopping", "fbnetv3_predictor", "fbnetv3_search"):
        figures = fb_results / "fbnetv3" / "figures"
        assert (figures / f"{name}.pdf").read_bytes()[:4] == b"%PDF"
        assert (figures / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
