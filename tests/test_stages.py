"""The one CLI vocabulary (issue 14, :mod:`nasrepro.stages`): ``nasrepro <stage> --paper P
--cell C --seed S --out DIR --input NAME=PATH`` and ``nasrepro study P NAME``; each paper
declares the stages and studies it has; every file a job reads is an ``--input``."""

from __future__ import annotations

from pathlib import Path

import pytest

from nasrepro.errors import ConfigError, UnknownNameError
from nasrepro.stages import Inputs, cell_parts, input_flags, seed_index, stage_function
from tests.conftest import REPO

A_FILE = str(REPO / "README.md")  # any existing file: the inputs are checked to exist first


def test_inputs_parse_names_lists_and_bad_items() -> None:
    inputs = Inputs.parse(["supernet=a/supernet.pt", "metrics=r0/m.json", "metrics=r1/m.json"])
    assert inputs.one("supernet", "x") == Path("a/supernet.pt")
    assert inputs.all("metrics", "x") == [Path("r0/m.json"), Path("r1/m.json")]
    assert inputs.optional("best") is None and len(inputs.files()) == 3
    with pytest.raises(ConfigError, match="NAME=PATH"):
        Inputs.parse(["no-equals-sign"])
    with pytest.raises(ConfigError, match="given 2 times"):
        inputs.one("metrics", "x")
    with pytest.raises(ConfigError, match="--input best=PATH"):
        inputs.one("best", "the search's best.json")
    assert inputs.allow("supernet", "metrics", "best") is inputs
    with pytest.raises(ConfigError, match="--input metrics=... is not read by this step"):
        inputs.allow("supernet")


def test_cells_and_seeds_are_checked_in_one_line() -> None:
    assert cell_parts("spos", "search", "block/uniform/evolution",
                      ("supernet", "sampler", "searcher")) == ["block", "uniform", "evolution"]
    with pytest.raises(UnknownNameError, match="<supernet>/<sampler>"):
        cell_parts("spos", "train_supernet", "block", ("supernet", "sampler"))
    assert seed_index([3, 5], 5, "c", "w") == 1
    with pytest.raises(ConfigError, match=r"\[3, 5\]"):
        seed_index([3, 5], 4, "c", "w")


def test_every_paper_declares_its_stages_and_studies() -> None:
    from nasrepro.config import paper_modules

    declared = {m.__name__.split(".")[2]: (set(m.STAGES), set(m.STUDIES))
                for m in paper_modules()}
    assert declared == {
        "spos": ({"train_supernet", "search", "retrain"}, {"inherit"}),
        "darts_snas": ({"search", "retrain"}, set()),
        "attentivenas": ({"train_supernet", "search"}, {"prior", "common", "predictor"}),
        "fbnetv3": ({"search", "retrain"}, {"pretrain", "predictor"}),
    }
    import nasrepro.papers.darts_snas.experiment as ds

    with pytest.raises(UnknownNameError, match="its stages: search, retrain"):
        stage_function(ds, "darts_snas", "train_supernet")


def test_input_flags_name_every_input_but_the_splits() -> None:
    class FakeInput(dict):  # the keys()/[] of a Snakemake InputFiles
        pass

    flags = input_flags(None, FakeInput(splits="s.json", supernet="a/seed0/provenance.json",
                                        proxy="study/proxy.pt",
                                        retrain=[f"r/seed{i}/provenance.json" for i in (0, 1)]))
    # a run (its provenance.json, what the rule depends on) goes on the command line as its folder
    assert flags == ("--input supernet=a/seed0 --input proxy=study/proxy.pt "
                     "--input retrain=r/seed0 --input retrain=r/seed1")


def test_inputs_name_run_directories(tmp_path: Path) -> None:
    run = tmp_path / "spos" / "search" / "c" / "seed0"
    run.mkdir(parents=True)
    (run / "provenance.json").write_text("{}")
    inputs = Inputs.parse([f"search={run}", f"retrain={run}/provenance.json", f"retrain={run}"])
    assert inputs.run("search", "x") == run and inputs.optional_run("search") == run
    assert inputs.runs("retrain", "x") == [run, run]  # a file of the run: its folder
    assert inputs.optional_run("arch") is None


@pytest.mark.parametrize(("args", "message"), [
    (["train-supernet", "--paper", "darts_snas", "--cell", "snas-mild", "--seed", "0"],
     "paper darts_snas has no train_supernet stage"),
    (["study", "spos", "nope"], "paper spos has no study 'nope'; known: inherit"),
    (["search", "--paper", "spos", "--seed", "0"], "search needs --cell"),
    (["retrain", "--paper", "spos", "--cell", "search/block/uniform/evolution", "--seed", "0"],
     "--input search=DIR"),
    (["retrain", "--paper", "fbnetv3", "--cell", "autotrain/default"],
     "retrain of autotrain/default needs --seed"),
    (["search", "--paper", "spos", "--cell", "block/uniform/evolution", "--seed", "0",
      "--input", f"supernt={A_FILE}"], "--input supernt=... is not read by this step"),
    (["retrain", "--paper", "fbnetv3", "--cell", "swap/A_recipeB", "--input", f"arch={A_FILE}"],
     "takes its recipe from search B_joint: pass --input recipe="),
    (["retrain", "--paper", "fbnetv3", "--cell", "autotrain/default", "--input",
      f"arch={A_FILE}"], "takes its arch from its default: drop --input arch"),
])
def test_cli_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                 args: list[str], message: str) -> None:
    """In-process (the subprocess path of the same errors: tests/test_misuse.py)."""
    import torch

    from nasrepro.cli import main

    threads = torch.get_num_threads()  # a job sets the profile's threads
    try:
        rc = main([*args, "--profile", "tiny", "--out", str(tmp_path / "run")])
    finally:
        torch.set_num_threads(threads)
    err = capsys.readouterr().err
    assert rc == 2, err[-2000:]
    lines = [line for line in err.splitlines() if line.startswith("error:")]
    assert len(lines) == 1 and message in lines[0], err[-2000:]
    assert not (tmp_path / "run").exists() or not any((tmp_path / "run").iterdir())
