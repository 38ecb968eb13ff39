"""Table provenance: every row of the DARTS/SNAS, AttentiveNAS and FBNetV3 tables names the run
directories (relative to ``results/<profile>``) its numbers come from, in a last ``run_dirs``
column, built from tiny fake result files / records."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nasrepro.config import load_config, profile_dir
from nasrepro.io import write_json
from nasrepro.papers.attentivenas import tables as att
from nasrepro.papers.darts_snas import tables as ds
from nasrepro.papers.fbnetv3 import tables as fb


@pytest.fixture()
def config(tmp_path: Path) -> dict:
    return load_config("tiny", {"results_dir": str(tmp_path / "res"), "progress": False,
                                "darts_snas": {"snas_levels": ["mild", "aggressive"]}})


def _final(acc: float) -> dict:
    return {"supernet_val_acc": acc + 5, "child_val_acc": acc, "child_val_acc_recal": acc + 1,
            "child_drop": 5.0, "final_entropy": 1.5, "child_params": 1000.0,
            "child_macs": 2e5, "edges_kept": 6.0}


def _darts_records(config: dict) -> tuple[list[dict], list[dict]]:
    searches, retrains = [], []
    for label, dirname in (("darts-1st", "darts-1st"), ("snas:mild", "snas-mild"),
                           ("snas:aggressive", "snas-aggressive")):
        for i, seed in enumerate(config["seeds"]):
            searches.append({"group": label, "seed": seed, "final": _final(50.0 + i),
                             "wall_time_s": 36.0,
                             "run_dir": f"darts_snas/search/{dirname}/seed{seed}"})
    for label, dirname in (("darts-1st", "darts-1st"), ("snas:mild", "snas-mild"),
                           ("snas:aggressive", "snas-aggressive"), ("random-cell", "random-cell")):
        for i, seed in enumerate(config["seeds"]):
            retrains.append({"group": label, "seed": seed, "index": i,
                             "metrics": {"test_acc": 80.0 + i, "params": 5000, "macs": 1e6,
                                         "arch_id": "a"},
                             "run_dir": f"darts_snas/retrain/{dirname}/seed{seed}"})
    return searches, retrains


def test_darts_snas_tables_run_dirs(config: dict) -> None:
    searches, retrains = _darts_records(config)
    assert config["seeds"] == [0, 1]
    child = ds.child_accuracy_table(searches)
    assert child.columns[-1] == "run_dirs"
    assert dict(zip(child["method"], child["run_dirs"], strict=True))["snas:mild"] == \
        "darts_snas/search/snas-mild/seed0;darts_snas/search/snas-mild/seed1"

    retrain = ds.retrain_table(searches, retrains)
    assert retrain.columns[-1] == "run_dirs"
    by = dict(zip(retrain["method"], retrain["run_dirs"], strict=True))
    # search cost from the search dirs, accuracy from the retrain dirs
    assert by["darts-1st"] == ("darts_snas/search/darts-1st/seed0;darts_snas/search/darts-1st/"
                               "seed1;darts_snas/retrain/darts-1st/seed0;"
                               "darts_snas/retrain/darts-1st/seed1")
    # a baseline has no search
    assert by["random-cell"] == \
        "darts_snas/retrain/random-cell/seed0;darts_snas/retrain/random-cell/seed1"

    penalty = ds.penalty_table(config, searches, retrains)
    assert penalty.columns[-1] == "run_dirs"
    assert list(penalty["level"]) == ["mild", "aggressive"]
    assert penalty["run_dirs"].iloc[1].split(";") == [
        "darts_snas/search/snas-aggressive/seed0", "darts_snas/search/snas-aggressive/seed1",
        "darts_snas/retrain/snas-aggressive/seed0", "darts_snas/retrain/snas-aggressive/seed1"]


def test_attentivenas_predictor_table_run_dirs(config: dict) -> None:
    ci = {"tau": 0.5, "low": 0.2, "high": 0.7, "pvalue": 0.01, "n": 10}
    write_json(profile_dir(config) / "attentivenas" / "study" / "predictor" / "predictor.json",
               {"sampler": "uniform", "seed": 0, "predictor": {**ci, "n_train": 20},
                "short_long": {**ci, "short_epochs": 1, "long_epochs": 2},
                "seed_seed": {**ci, "seeds": [0, 1]}})
    table = att.build_predictor_table(config)
    assert table.columns[-1] == "run_dirs"
    main0, main1 = ("attentivenas/search/main/uniform/seed0",
                    "attentivenas/search/main/uniform/seed1")
    study = "attentivenas/study/predictor"
    assert [s.split(";") for s in table["run_dirs"]] == [
        [study, main0],
        [study, "attentivenas/search/short/uniform/seed0", main0],
        [study, main0, main1]]


def test_fbnetv3_tables_run_dirs(config: dict) -> None:
    for arch in ("A", "B"):
        for rec, suffix in ((r, x) for r in ("A", "B") for x in ("", "_s1")):
            for i, d in enumerate(fb.run_dirs(config, f"swap/{arch}_recipe{rec}{suffix}")):
                write_json(d / "metrics.json", {"test_acc": 70.0 + i, "macs": 1e6,
                                                "params": 1e4, "seed": i})
    swap = fb.recipe_swap_table(config)
    assert swap.columns[-1] == "run_dirs"
    assert swap["run_dirs"].iloc[1].split(";") == [
        "fbnetv3/retrain/swap/B_recipeA/seed0", "fbnetv3/retrain/swap/B_recipeA/seed1",
        "fbnetv3/retrain/swap/B_recipeB/seed0", "fbnetv3/retrain/swap/B_recipeB/seed1"]

    pdir = profile_dir(config) / fb.PREDICTOR_DIR
    pdir.mkdir(parents=True)
    pd.DataFrame([{"method": m, "seed": s, "kendall_tau": 0.5, "spearman": 0.6, "rmse": 1.0,
                   "n_train": 8, "n_test": 4}
                  for m in config["fbnetv3"]["methods"]["predictor"] for s in (0, 1)]
                 ).to_csv(pdir / "predictor_runs.csv", index=False)
    pred = fb.predictor_table(config)
    assert pred.columns[-1] == "run_dirs"
    assert set(pred["run_dirs"]) == {"fbnetv3/study/predictor"}
