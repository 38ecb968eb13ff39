"""A plug-in of any kind joins the tables of every paper that runs it (issue 14).

tests/config/e2e.yaml lists one toy method of each kind (tests/toy_methods: a sampler, a
relaxation, a searcher, a predictor; each one file, found through $NASREPRO_METHODS) with one
config line per paper; after the tests' tiny DAG, each appears by name in that paper's tables
(outside the run-directory columns, which would name it anyway). AttentiveNAS has one searcher
slot (its Pareto evolution, kept), so the toy searcher joins SPOS only there.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nasrepro.reporting.tables import CSV_ONLY_COLUMNS

#: (method, paper) pairs of the e2e config
TOYS = [("toy-sampler", "spos"), ("toy-sampler", "attentivenas"),
        ("toy-relaxation", "darts_snas"), ("toy-search", "spos"),
        ("toy-predictor", "fbnetv3"), ("toy-predictor", "attentivenas")]
KIND = {"toy-sampler": "sampler", "toy-relaxation": "relaxation", "toy-search": "searcher",
        "toy-predictor": "predictor"}


def _table_text(results: Path, paper: str) -> str:
    """Every cell of the paper's tables except the run directories and arch JSON."""
    cells = []
    for csv in sorted((results / paper / "tables").glob("*.csv")):
        df = pd.read_csv(csv).drop(columns=list(CSV_ONLY_COLUMNS), errors="ignore")
        cells += [str(v) for v in df.to_numpy().ravel()] + list(df.columns)
    return "\n".join(cells)


@pytest.mark.parametrize(("method", "paper"), TOYS)
def test_toy_plugin_appears_in_the_papers_tables(tiny_dag: tuple[Path, Path], method: str,
                                                 paper: str) -> None:
    results, _ = tiny_dag
    assert method in _table_text(results, paper), f"{method} missing from {paper}'s tables"


def test_toy_plugins_each_one_file_and_one_config_line() -> None:
    """Each toy method is one module of tests/toy_methods, and the e2e config differs from the
    tiny profile, per paper and kind, by that one name in the method list."""
    import yaml

    from nasrepro.config import load_config
    from tests.conftest import REPO

    e2e = yaml.safe_load((REPO / "tests" / "config" / "e2e.yaml").read_text())
    tiny = load_config("tiny")
    modules = {p.stem for p in (REPO / "tests" / "toy_methods").glob("toy_*.py")}
    for method, paper in TOYS:
        assert method.replace("-", "_") in modules
        listed = e2e[paper]["methods"][KIND[method]]
        assert method in listed
        assert set(listed) - set(tiny[paper]["methods"][KIND[method]]) == {method}, paper
