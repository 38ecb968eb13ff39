"""End to end: the tiny-profile SPOS part of the DAG through Snakemake, with a toy plug-in.

The session fixture ``tiny_dag`` (tests/conftest.py) runs the whole tiny DAG on digits once
(SPOS: supernets with both samplers, evolution, random search and the toy searcher from
tests/toy_methods added with one config line, retraining, tables, figures) into a temporary
results folder; these tests check the SPOS tables' rows and values and the figures' files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nasrepro.io import read_json


@pytest.fixture(scope="module")
def spos_results(tiny_dag: tuple[Path, Path]) -> Path:
    return tiny_dag[0]


def test_tables_have_the_papers_rows(spos_results: Path) -> None:
    for n in (3, 4):
        for ext in ("csv", "md", "tex"):
            assert (spos_results / "spos" / "tables" / f"spos_table{n}.{ext}").stat().st_size > 0
    t3 = pd.read_csv(spos_results / "spos" / "tables" / "spos_table3.csv")
    rows = list(t3["row"])
    assert rows[:4] == ["all choice_3", "all choice_5", "all choice_7", "all choice_x"]
    assert "random select (3 times)" in rows
    assert "SPS + random search" in rows and "ours (fully-equipped)" in rows
    assert "SPS (flops-binned) + evolution" in rows
    # the plug-in searcher appears in the table with its own retrained row
    assert "SPS + toy-search" in rows
    t4 = pd.read_csv(spos_results / "spos" / "tables" / "spos_table4.csv")
    assert list(t4["row"]) == [
        "all choice_3", "rand sel. channels (3 times)", "choice_3 + channel search",
        "rand sel. blocks + channels (3 times)", "block search",
        "block search + channel search"]
    for table in (t3, t4):
        assert ((table["top1_mean"] > 10) & (table["top1_mean"] <= 100)).all()  # above chance
        assert (table["macs_m"] > 0).all() and (table["params_m"] > 0).all()
        assert table.loc[table["n"] > 1, "top1"].str.contains("±").all()
    assert (t3.loc[t3["row"].str.startswith("random"), "n"] == 3).all()
    md = (spos_results / "spos" / "tables" / "spos_table3.md").read_text()
    assert "ours (fully-equipped)" in md


def test_all_choice_widths_matched_and_searched_archs_respect_limit(spos_results: Path) -> None:
    """The all-choice baselines are width-matched to the MACs limit (``baseline_widths:
    matched``, as the paper's "similar FLOPs" rows); every searched and random arch is under
    the limit too."""
    from nasrepro.config import load_config
    from nasrepro.papers.spos.experiment import macs_limit

    limit = macs_limit(load_config("tiny"))
    for k in ("3", "5", "7", "x"):
        m = read_json(spos_results / "spos" / "retrain" / "fixed" / f"all_choice_{k}" / "seed0"
                      / "metrics.json")
        assert 0.98 * limit <= m["macs"] <= limit and len(set(m["arch"]["blocks"])) == 1
        assert len(set(m["arch"]["channels"])) <= 2  # two neighbouring scales
    for role in ("search/block/uniform/evolution", "random/block"):
        for run in (spos_results / "spos" / "retrain" / role).glob("seed*"):
            assert read_json(run / "metrics.json")["macs"] <= limit


def test_figures_exist(spos_results: Path) -> None:
    for name in ("spos_search_curve", "spos_supernet_vs_standalone"):
        pdf = spos_results / "spos" / "figures" / f"{name}.pdf"
        png = spos_results / "spos" / "figures" / f"{name}.png"
        assert pdf.read_bytes()[:4] == b"%PDF"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_runs_record_provenance(spos_results: Path) -> None:
    run = spos_results / "spos" / "retrain" / "fixed" / "all_choice_3" / "seed0"
    assert (run / "config.resolved.yaml").exists()
    prov = (run / "provenance.json").read_text()
    for key in ("git_commit", "versions", "device", "seed", "wall_time_s", "dataset_checksum"):
        assert key in prov
    assert (run / "log.csv").exists() and not (run / "checkpoint.pt").exists()
    search = spos_results / "spos" / "search" / "block" / "uniform" / "evolution" / "seed0"
    curve = pd.read_csv(search / "curve.csv")
    assert curve["best_fitness"].is_monotonic_increasing
    inherit = pd.read_csv(spos_results / "spos" / "study" / "inherit" / "inherit.csv")
    assert len(inherit) > 10 and inherit["supernet_val_acc"].between(0, 100).all()
