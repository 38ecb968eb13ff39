"""Tables and figures read only their rule's inputs (nasrepro/reporting/declared.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from nasrepro.errors import MissingInputError
from nasrepro.io import staged_folder
from nasrepro.reporting.declared import reads_only
from tests.conftest import REPO


def _runs(root: Path) -> tuple[Path, Path]:
    declared, other = root / "spos" / "retrain" / "a" / "seed0", root / "spos" / "retrain" / "b"
    for run in (declared, other):
        run.mkdir(parents=True)
        (run / "metrics.json").write_text(json.dumps({"test_acc": 0.5}))
        (run / "log.csv").write_text("epoch,loss\n0,1.0\n")
    return declared, other


def test_reads_outside_the_declared_inputs_are_refused(tmp_path: Path) -> None:
    root = tmp_path / "results" / "tiny"
    declared, other = _runs(root)
    outside = tmp_path / "elsewhere.txt"
    outside.write_text("free")
    out = root / "spos" / "tables"
    with reads_only(root, [declared / "metrics.json"], what="spos tables",
                    declare="table_inputs of spos", writable=[out]):
        assert json.loads((declared / "metrics.json").read_text())["test_acc"] == 0.5
        assert len(pd.read_csv(declared / "log.csv")) == 1  # same run directory: allowed
        assert outside.read_text() == "free"  # not under results/<profile>: not checked
        out.mkdir(parents=True)
        (out / "t.csv").write_text("a\n1\n")  # writing the outputs (and reading them back)
        assert (out / "t.csv").read_text() == "a\n1\n"
        for read in (lambda: (other / "metrics.json").read_text(),
                     lambda: pd.read_csv(other / "log.csv"),
                     lambda: open(other / "metrics.json").close()):
            with pytest.raises(MissingInputError) as exc:
                read()
            msg = str(exc.value)
            assert "spos tables read" in msg and str(other) in msg
            assert "table_inputs of spos" in msg and "\n" not in msg
        (other / "new.txt").write_text("x")  # only reads are checked
    assert (other / "metrics.json").read_text()  # after the block every read is allowed again


def test_table_step_names_a_file_its_rule_does_not_give(tiny_dag: tuple[Path, Path],
                                                        tmp_path: Path, cli) -> None:
    """`nasrepro table` given only part of the SPOS inputs: a one-line error naming the first
    undeclared file it reads, exit 2, and no table written."""
    from tests.test_misuse import one_line_error

    results, _ = tiny_dag
    config = results / "config.resolved.yaml"
    one_run = next((results / "spos" / "retrain").rglob("metrics.json"))
    out = tmp_path / "tables"
    msg = one_line_error(cli("table", "--config-file", str(config), "--paper", "spos",
                             "--input", f"run={one_run}", "--out-dir", str(out),
                             "--data-dir", str(tmp_path / "data"),
                             env={"NASREPRO_METHODS": str(REPO / "tests" / "toy_methods")}))
    assert "spos tables read" in msg and "not an input of their rule" in msg
    assert "table_inputs(config) in nasrepro/papers/spos/grid.py" in msg
    assert not list(tmp_path.rglob("*.csv"))  # no table, no measurements


def test_staged_folder_adds_all_files_or_none(tmp_path: Path) -> None:
    """The table/figure steps write into a staging folder: an error half-way leaves the output
    folder as it was, success moves every file in (and removes the staging folder)."""
    out = tmp_path / "tables"
    out.mkdir()
    (out / "old.csv").write_text("kept\n")
    with pytest.raises(MissingInputError), staged_folder(out) as stage:
        (stage / "a.csv").write_text("1\n")
        raise MissingInputError("the second table could not be made")
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["old.csv", "tables"]
    with staged_folder(out) as stage:
        (stage / "a.csv").write_text("1\n")
        (stage / "b.md").write_text("2\n")
    assert sorted(p.name for p in out.iterdir()) == ["a.csv", "b.md", "old.csv"]
    assert [p.name for p in tmp_path.iterdir()] == ["tables"]  # no staging folder left
