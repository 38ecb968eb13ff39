"""End to end: the tiny-profile `attentivenas` target through Snakemake (MACs prior, sandwich
supernets with uniform / BestUp-3 / WorstUp-3 sampling and two seeds, a short run, subnet
evaluation, Pareto search, predictor study, tables and figures) into a temporary folder."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from nasrepro.io import read_json


@pytest.fixture(scope="module")
def an_results(tiny_dag: tuple[Path, Path]) -> Path:
    """The session's whole tiny DAG (tests/conftest.py ``tiny_dag``)."""
    return tiny_dag[0]


def test_tables(an_results: Path) -> None:
    for name in ("pareto", "predictor"):
        for ext in ("csv", "md", "tex"):
            table = an_results / "attentivenas" / "tables" / f"attentivenas_{name}.{ext}"
            assert table.stat().st_size > 0
    pareto = pd.read_csv(an_results / "attentivenas" / "tables" / "attentivenas_pareto.csv")
    assert list(pareto["sampler"]) == ["uniform", "BestUp-3", "WorstUp-3", "toy-sampler"]
    bucket_cols = [c for c in pareto.columns if c.startswith("top1 ")]
    assert len(bucket_cols) == 3  # report_buckets of the tiny profile
    assert (pareto["n"] == 2).all() and (pareto["hypervolume_mean"] > 0).all()
    assert ((pareto["max_subnet_acc_mean"] > 10) & (pareto["max_subnet_acc_mean"] <= 100)).all()
    pred = pd.read_csv(an_results / "attentivenas" / "tables" / "attentivenas_predictor.csv")
    assert len(pred) == 3 and (pred["n"] >= 3).all()
    assert ((pred["ci_low"] <= pred["tau"]) & (pred["tau"] <= pred["ci_high"])).all()


def test_measurements_and_leaderboard(an_results: Path) -> None:
    m = pd.read_csv(an_results / "tables" / "attentivenas_measurements.csv")
    assert list(m.columns) == ["quantity", "group", "seed", "value", "run_dir"]
    q = set(m["quantity"])
    assert {"hypervolume", "best_acc_bucket0", "best_acc_bucket2", "min_subnet_acc",
            "max_subnet_acc", "predictor_tau", "short_long_tau", "seed_seed_tau"} <= q
    hv = m[m["quantity"] == "hypervolume"]
    assert sorted(set(hv["group"])) == ["bestup", "toy-sampler", "uniform", "worstup"]
    assert len(hv) == 8 and set(hv["seed"]) == {0, 1}
    for run in set(hv["run_dir"]):
        assert (an_results / run / "supernet.pt").exists()
    taus = m[m["quantity"].str.endswith("_tau")]["value"]
    assert all(-1 <= t <= 1 for t in taus if not math.isnan(t))
    lb = pd.read_csv(an_results / "tables" / "attentivenas_leaderboard.csv")
    assert list(lb.columns)[:4] == ["paper", "method", "space", "arch_id"]


def test_figures_and_run_files(an_results: Path) -> None:
    for name in ("pareto", "predictor", "sampling"):
        for ext in ("pdf", "png"):
            figure = an_results / "attentivenas" / "figures" / f"attentivenas_{name}.{ext}"
            assert figure.stat().st_size > 0
    run = an_results / "attentivenas" / "train_supernet" / "main" / "bestup" / "seed0"
    sampled = pd.read_csv(run / "sampled_macs.csv")
    # 2 epochs x 8 steps x 1 middle subnet, each inside the space's MACs range
    assert len(sampled) == 16
    prior = read_json(an_results / "attentivenas" / "study" / "prior" / "prior.json")
    assert sampled["macs"].between(prior["macs_min"], prior["macs_max"]).all()
    evals = an_results / "attentivenas" / "search" / "main" / "bestup" / "seed0"
    subnets = pd.read_csv(evals / "subnets.csv")
    assert list(subnets["name"][:2]) == ["min", "max"] and len(subnets) == 18
    prov = read_json(run / "provenance.json")
    assert prov["seed"] == 0 and prov["sampler"] == "bestup"


def test_common_candidate_set_scores_every_supernet_on_the_same_archs(an_results: Path) -> None:
    """Issue 12 (common random numbers at the arch level): ``common.csv`` holds every main
    supernet on the union of all main searches' candidates; a supernet's own candidates get
    exactly their search fitness again (one evaluator), and the fronts are built from it."""
    from nasrepro.io import read_jsonl
    from nasrepro.papers.attentivenas.tables import _points

    common = pd.read_csv(an_results / "attentivenas" / "study" / "common" / "common.csv",
                         dtype={"arch_id": str})
    search = an_results / "attentivenas" / "search" / "main"
    runs = sorted(search.glob("*/seed*"))
    assert len(runs) == 8  # 4 samplers x 2 seeds
    union = {e["arch_id"] for r in runs for e in read_jsonl(r / "archs.jsonl")}
    groups = common.groupby(["sampler", "seed"])
    assert len(groups) == len(runs)
    for (sampler, seed), g in groups:
        assert set(g["arch_id"]) == union and len(g) == len(union)
        own = {e["arch_id"]: e["fitness"] for e in read_jsonl(search / sampler / f"seed{seed}"
                                                              / "archs.jsonl")}
        got = dict(zip(g["arch_id"], g["acc"], strict=True))
        assert all(got[a] == pytest.approx(round(f, 6), abs=1e-9) for a, f in own.items())
    # the common set adds archs that a supernet's own search never visited
    assert len(union) > max(len({e["arch_id"] for e in read_jsonl(r / "archs.jsonl")})
                            for r in runs)
    from nasrepro.config import load_config

    config = load_config("tiny")
    config["results_dir"] = str(an_results.parent)
    pts = _points(config, "uniform", 0)
    assert union <= set(pts["arch_id"]) and {"min", "max"} <= set(pts["source"])
