"""End to end: the tiny-profile `darts_snas` target through Snakemake.

Uses the session's whole tiny DAG (``tiny_dag`` of tests/conftest.py): every search (DARTS
1st/2nd order, SNAS at the tiny profile's penalty levels), the retraining of the derived and
random cells, the tables, figures and the paper/ copy; checks the tables' rows and values, the
measurements/leaderboard CSVs, the per-epoch logs and the figures' files.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from nasrepro.config import load_config
from nasrepro.io import read_json

LEVELS = load_config("tiny")["darts_snas"]["snas_levels"]
#: the searched groups of the tests' DAG: the tiny profile's plus the toy relaxation plug-in
GROUPS = (["darts-1st", "darts-2nd"] + [f"snas:{level}" for level in LEVELS]
          + ["toy-relaxation"])


@pytest.fixture(scope="module")
def results(tiny_dag: tuple[Path, Path]) -> Path:
    """results/tiny of the session's whole tiny DAG (tests/conftest.py)."""
    return tiny_dag[0]


def test_tables(results: Path) -> None:
    tables = results / "darts_snas" / "tables"
    for name in ("child_accuracy", "retrain", "penalty"):
        for ext in ("csv", "md", "tex"):
            assert (tables / f"darts_snas_{name}.{ext}").stat().st_size > 0
    child = pd.read_csv(tables / "darts_snas_child_accuracy.csv")
    assert list(child["method"]) == GROUPS
    assert child["supernet_val_acc_mean"].between(0, 100).all()
    assert (child["n"] == 2).all()
    diff = child["supernet_val_acc_mean"] - child["child_val_acc_mean"]
    assert (diff - child["child_drop_mean"]).abs().max() < 1e-2
    assert child["final_entropy_mean"].between(0, 2.0795).all()  # <= log(8)
    retrain = pd.read_csv(tables / "darts_snas_retrain.csv")
    assert list(retrain["method"]) == GROUPS + ["random-cell"]
    assert retrain["test_error_mean"].between(0, 100).all()
    assert (retrain["params_k"] > 0).all() and (retrain["macs_m"] > 0).all()
    searched = retrain[retrain["method"] != "random-cell"]
    assert (searched["search_cost_h"] > 0).all()
    pen = pd.read_csv(tables / "darts_snas_penalty.csv")
    assert list(pen["level"]) == LEVELS
    assert LEVELS[0] == "none" and (pen["lambda"].iloc[0] == 0)  # D3's unpenalised baseline


def test_measurements_and_leaderboard(results: Path) -> None:
    m = pd.read_csv(results / "tables" / "darts_snas_measurements.csv")
    assert list(m.columns) == ["quantity", "group", "seed", "value", "run_dir"]
    for q in ("supernet_val_acc", "child_val_acc", "child_val_acc_recal", "child_drop",
              "final_entropy", "retrain_test_acc", "child_params", "child_macs",
              "edges_kept"):
        sub = m[m["quantity"] == q]
        assert set(sub["seed"]) == {0, 1}, q
    darts_edges = m[(m["quantity"] == "edges_kept") & m["group"].str.startswith("darts")]
    assert (darts_edges["value"] == 16).all()  # 2 edges per node, 2 cells
    for run_dir in m["run_dir"].unique():
        assert (results / run_dir).is_dir()
    lb = pd.read_csv(results / "tables" / "darts_snas_leaderboard.csv")
    assert list(lb.columns) == ["paper", "method", "space", "arch_id", "arch", "macs", "params",
                                "acc_mean", "acc_std", "n", "search_cost_h", "run_dirs"]
    assert set(lb["method"]) == set(GROUPS + ["random-cell"])
    assert lb["n"].sum() == len(GROUPS + ["random-cell"]) * 2  # one arch per group and seed
    json.loads(lb["arch"].iloc[0])


def test_search_logs_every_epoch(results: Path) -> None:
    run = results / "darts_snas" / "search" / "snas-aggressive" / "seed0"
    log = pd.read_csv(run / "log.csv")
    for col in ("supernet_val_acc", "child_val_acc", "child_val_acc_recal", "entropy",
                "expected_params", "expected_macs", "child_params", "edges_kept",
                "temperature"):
        assert log[col].notna().all(), col
    archs = [json.loads(x) for x in (run / "archs.jsonl").read_text().splitlines()]
    assert [a["epoch"] for a in archs] == list(log["epoch"])
    final = read_json(run / "final.json")
    assert final["arch"] == archs[-1]["arch"] and final["rule"] == "snas"
    assert (run / "provenance.json").exists() and not (run / "checkpoint.pt").exists()

    darts = pd.read_csv(results / "darts_snas" / "search" / "darts-2nd" / "seed1" / "log.csv")
    assert darts["expected_macs"].notna().all() and "train_val_loss" in darts


def test_paper_copy(tiny_dag: tuple[Path, Path]) -> None:
    paper = tiny_dag[1] / "darts_snas"
    assert (paper / "tables" / "darts_snas_retrain.md").exists()
    assert (paper / "figures" / "darts_snas_cells.png").exists()
    assert (paper / "provenance.json").exists()


def test_retrain_runs(results: Path) -> None:
    run = results / "darts_snas" / "retrain" / "random-cell" / "seed1"
    m = read_json(run / "metrics.json")
    assert m["seed"] == 1 and m["space"] == "darts/tiny"
    assert all(len(m["arch"][k]) == 8 for k in ("normal", "reduce"))
    searched = read_json(results / "darts_snas" / "retrain" / "darts-1st" / "seed0" / "arch.json")
    final = read_json(results / "darts_snas" / "search" / "darts-1st" / "seed0" / "final.json")
    assert searched["arch"] == final["arch"]


def test_figures(results: Path) -> None:
    for name in ("search_curves", "child_accuracy", "entropy", "cells"):
        pdf = results / "darts_snas" / "figures" / f"darts_snas_{name}.pdf"
        png = results / "darts_snas" / "figures" / f"darts_snas_{name}.png"
        assert pdf.read_bytes()[:4] == b"%PDF"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
