"""Misuse, interruption and broken inputs (issue 13): every case ends in one line ``error: ...``
naming the problem and the fix, exit status 2, and no half-written result.

Snakemake-level cases (config overrides, reruns after a config change, the workflow profile,
kills of the whole Snakemake process) are in ``tests/test_workflow_misuse.py``.
"""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from nasrepro.errors import ConfigError, NasreproError, OutputError
from nasrepro.io import atomic_path, write_json, write_text
from tests.conftest import REPO, run_cli


def one_line_error(proc: subprocess.CompletedProcess) -> str:
    """The single ``error: ...`` line of a failed command (exit 2, nothing else on stderr)."""
    lines = [line for line in proc.stderr.strip().splitlines() if line.strip()]
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-2000:])
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr[-2000:]
    return lines[0]


# --- io: atomic writes (items 9, 15, 16) ---------------------------------------------------


def test_atomic_writes_keep_the_umask_mode(tmp_path: Path) -> None:
    """Item 16: files are readable by others as the umask allows, not 0600."""
    old = os.umask(0o022)
    try:
        write_text(tmp_path / "a.txt", "x")
        os.umask(0o007)
        write_json(tmp_path / "b.json", {"a": 1})
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "b.json").stat().st_mode) == 0o660


def test_output_path_replaced_by_a_directory_is_one_line(tmp_path: Path) -> None:
    """Item 9: a directory where a result file goes: OutputError, nothing left behind."""
    target = tmp_path / "metrics.json"
    target.mkdir()
    with pytest.raises(OutputError, match="is a directory"):
        write_json(target, {"a": 1})
    assert sorted(p.name for p in tmp_path.iterdir()) == ["metrics.json"]
    # a file where a folder of the path goes
    (tmp_path / "run0").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        write_text(tmp_path / "run0" / "metrics.json", "x")
    # an unwritable folder (root ignores permissions: nothing to check then)
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if not os.access(ro, os.W_OK):
            with pytest.raises(OutputError, match="not writable"):
                write_text(ro / "x.txt", "x")
    finally:
        ro.chmod(0o700)


def _sigkilled_writer(folder: Path, name: str) -> None:
    """A process killed (SIGKILL) in the middle of an atomic write of folder/name."""
    code = ("import sys, time\n"
            "from nasrepro.io import atomic_path\n"
            "with atomic_path(sys.argv[1]) as tmp:\n"
            "    tmp.write_text('half')\n"
            "    print('ready', flush=True)\n"
            "    time.sleep(60)\n")
    proc = subprocess.Popen([sys.executable, "-c", code, str(folder / name)], cwd=REPO,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)


def test_stale_temp_files_of_a_killed_writer_are_cleaned(tmp_path: Path) -> None:
    """Item 15: a SIGKILL during an atomic write leaves a temp file; cleaning the run dir removes
    it, but never a live writer's temp file, a nested folder's, or other files."""
    _sigkilled_writer(tmp_path, "supernet.pt")
    stale = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert len(stale) == 1 and stale[0].name.startswith(".supernet.pt.")
    (tmp_path / "sub").mkdir()
    _sigkilled_writer(tmp_path / "sub", "x.json")
    (tmp_path / "keep.tmp").write_text("not ours")
    (tmp_path / "log.csv").write_text("a\n")
    with atomic_path(tmp_path / "live.json") as live:  # this (live) process is writing it
        live.write_text("{}")
        from nasrepro.io import clean_stale_tmp

        removed = clean_stale_tmp(tmp_path)
        assert live.exists()
    assert removed == stale
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.tmp", "live.json", "log.csv",
                                                        "sub"]
    assert len(list((tmp_path / "sub").iterdir())) == 1  # only the run dir itself is cleaned


def test_a_job_cleans_its_run_dir_when_it_starts(tmp_path: Path) -> None:
    """Item 15 through the CLI: the next job writing into the folder removes the leftovers."""
    out = tmp_path / "data"
    out.mkdir()
    _sigkilled_writer(out, "splits.json")
    assert any(p.name.endswith(".tmp") for p in out.iterdir())
    proc = run_cli("data", "--profile", "tiny", "--out", str(out / "splits.json"))
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert not any(p.name.endswith(".tmp") for p in out.iterdir())
    assert (out / "splits.json").exists()


def test_cli_output_path_is_a_directory(tmp_path: Path) -> None:
    """Item 9: `--out` naming an existing directory where a file goes."""
    (tmp_path / "splits.json").mkdir()
    msg = one_line_error(run_cli("data", "--profile", "tiny", "--out",
                                 str(tmp_path / "splits.json")))
    assert "splits.json" in msg and "is a directory" in msg
    assert sorted(p.name for p in tmp_path.iterdir()) == ["splits.json"]


def test_nasrepro_error_is_the_base_of_output_error() -> None:
    assert issubclass(OutputError, NasreproError)


# --- packaging (item 5) --------------------------------------------------------------------


def test_python_requirement_is_what_the_code_needs() -> None:
    """Item 5: `datetime.UTC` and Snakemake 9 need Python 3.11; pyproject, ruff and the README
    say so."""
    import tomllib

    meta = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert meta["project"]["requires-python"] == ">=3.11"
    assert meta["tool"]["ruff"]["target-version"] == "py311"
    readme = (REPO / "README.md").read_text()
    assert "Python 3.11+" in readme and "Python 3.10" not in readme


# --- config (items 3, 6, 8, 9 and the extras) -----------------------------------------------


def test_config_overrides_are_parsed_as_yaml() -> None:
    """Item 3: Snakemake's `--config KEY=VALUE` strings, each VALUE read as YAML (nested values
    included; Snakemake itself leaves everything below the top level a string)."""
    from nasrepro.config import load_config, parse_config_args

    over = parse_config_args(["profile=tiny", "seeds=[0,1,2]", "threads=2", "progress=false",
                              "spos={search: {population: 10, macs_limit: null}}",
                              "data={path: /tmp/x y}", "results_dir=/tmp/r"])
    assert over == {"profile": "tiny", "seeds": [0, 1, 2], "threads": 2, "progress": False,
                    "spos": {"search": {"population": 10, "macs_limit": None}},
                    "data": {"path": "/tmp/x y"}, "results_dir": "/tmp/r"}
    cfg = load_config(over["profile"], over)
    assert cfg["seeds"] == [0, 1, 2] and cfg["spos"]["search"]["population"] == 10
    assert cfg["spos"]["search"]["generations"] == load_config("tiny")["spos"]["search"][
        "generations"]


def test_config_override_that_is_not_yaml_is_one_line() -> None:
    from nasrepro.config import parse_config_args

    with pytest.raises(ConfigError, match=r"--config seeds=\[0,1.*not valid YAML"):
        parse_config_args(["seeds=[0,1"])
    with pytest.raises(ConfigError, match="KEY=VALUE"):
        parse_config_args(["seeds"])


def test_workflow_config_retypes_what_snakemake_parsed() -> None:
    """Item 3: the Snakefile's config (Snakemake's strings) + the raw `--config` args."""
    from nasrepro.config import workflow_config

    snakemake_config = {"profile": "tiny", "seeds": ["0", "1", "2"],
                        "spos": {"search": {"population": "10"}}}
    cfg = workflow_config(snakemake_config, ["profile=tiny", "seeds=[0,1,2]",
                                             "spos={search: {population: 10}}"])
    assert cfg["seeds"] == [0, 1, 2] and cfg["spos"]["search"]["population"] == 10


def test_a_job_resolves_exactly_the_workflow_config_from_its_command_line() -> None:
    """Items 1-2: each job gets `--profile P --config-override JSON` (only the keys that differ
    from the profile) instead of reading a shared file another invocation could rewrite."""
    import shlex

    from nasrepro.config import job_config_args, load_config, load_job_config
    from nasrepro.determinism import threads_from_argv

    config = load_config("tiny", {"results_dir": "/tmp/x y", "threads": 3, "progress": False,
                                  "spos": {"methods": {"searcher": ["random"]},
                                           "search": {"topk": 2}}})
    args = shlex.split(job_config_args(config))
    assert args[:2] == ["--profile", "tiny"] and args[2] == "--config-override"
    assert load_job_config("tiny", args[3]) == config
    assert threads_from_argv(["retrain", *args]) == 3
    assert job_config_args(load_config("tiny")) == "--profile tiny"
    with pytest.raises(ConfigError, match="--config-override is not valid JSON"):
        load_job_config("tiny", "{seeds: [0]")


@pytest.mark.parametrize(
    ("override", "words"),
    [
        ({"seeds": [0, 0]}, ["'seeds'", "non-unique"]),                       # item 6
        ({"device": "gpu"}, ["'device'", "cpu", "cuda"]),                      # item 8
        ({"spos": {"search": {"topk": 9}}}, ["spos.search.topk", "population"]),  # extra
        ({"attentivenas": {"search": {"topk": 20}}}, ["attentivenas.search.topk"]),
        ({"fbnetv3": {"fine": {"topk": 40}}}, ["fbnetv3.fine.topk"]),
        ({"spos": {"search": {"n_crossover": 5, "n_mutation": 5}}}, ["spos.search.n_crossover"]),
    ],
)
def test_bad_values_are_rejected_when_the_config_loads(override: dict, words: list[str]) -> None:
    from nasrepro.config import load_config

    with pytest.raises(ConfigError) as err:
        load_config("tiny", override)
    msg = str(err.value)
    assert "\n" not in msg and all(w in msg for w in words), msg


def test_empty_profile_is_an_error() -> None:
    """Extra: `--config profile=` (empty) must not silently run the default profile."""
    from nasrepro.config import load_config

    with pytest.raises(ConfigError, match="profile is empty"):
        load_config(None, {"profile": None})
    with pytest.raises(ConfigError, match="profile is empty"):
        load_config("", {})


def test_config_file_errors_are_one_line(tmp_path: Path) -> None:
    """Item 9: `--config-file` with a YAML error, pointing at a directory, or missing."""
    bad = tmp_path / "bad.yaml"
    bad.write_text("seeds: [0, 1\nprofile: tiny\n")
    assert "not valid YAML" in one_line_error(run_cli("data", "--config-file", str(bad)))
    assert "is a directory" in one_line_error(run_cli("data", "--config-file", str(tmp_path)))
    msg = one_line_error(run_cli("data", "--config-file", str(tmp_path / "nope.yaml")))
    assert "does not exist" in msg
    listed = tmp_path / "list.yaml"
    listed.write_text("- 1\n- 2\n")
    assert "not a mapping" in one_line_error(run_cli("data", "--config-file", str(listed)))


# --- the CLI (items 8, 10, 11, 12) ----------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A resolved tiny config whose results folder is empty (nothing made yet)."""
    from nasrepro.config import load_config
    from nasrepro.io import write_yaml

    root = tmp_path_factory.mktemp("misuse")
    path = root / "config.resolved.yaml"
    write_yaml(path, load_config("tiny", {"results_dir": str(root / "results"),
                                          "progress": False}))
    return path


@pytest.mark.parametrize("arch", ["", ".", "nope/arch.json", "no_such_arch.json", "abc"])
def test_cost_with_an_empty_missing_or_directory_arch(arch: str, tmp_path: Path) -> None:
    """Item 10: '' or a directory as ARCH, or a file that does not exist."""
    msg = one_line_error(run_cli("cost", "spos/tiny", arch, cwd=tmp_path))
    if arch == "":
        assert "ARCH is empty" in msg
    elif arch == ".":
        assert "is a directory" in msg
    else:
        assert "does not exist" in msg and arch in msg


def test_methods_of_an_unknown_paper() -> None:
    """Item 11: one line with the known papers, not an empty listing with exit 0."""
    msg = one_line_error(run_cli("methods", "--paper", "nosuch"))
    assert "unknown paper 'nosuch'" in msg and "spos" in msg


def test_cuda_device_without_cuda_writes_nothing(tmp_path: Path, tiny_config: Path) -> None:
    """Item 8: `device: cuda` on a torch without CUDA: one line, and no arch.json left."""
    import torch
    import yaml

    if torch.cuda.is_available():
        pytest.skip("a CUDA GPU is visible here")
    cfg = yaml.safe_load(tiny_config.read_text())
    cfg["device"] = "cuda"
    path = tmp_path / "cuda.yaml"
    path.write_text(yaml.safe_dump(cfg))
    out = tmp_path / "run0"
    msg = one_line_error(run_cli("retrain", "--config-file", str(path), "--paper", "spos",
                                 "--cell", "fixed/all_choice_3", "--seed", "0",
                                 "--out", str(out)))
    assert "device 'cuda'" in msg and "device: cpu" in msg
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize("seed", ["1", "-1"])
def test_retrain_seed_not_of_the_cell(tmp_path: Path, tiny_config: Path, seed: str) -> None:
    """Item 12: the tiny profile runs its fixed (display-only) roles with 1 seed, seed 0."""
    msg = one_line_error(run_cli("retrain", "--config-file", str(tiny_config), "--paper", "spos",
                                 "--cell", "fixed/all_choice_3", "--seed", seed,
                                 "--out", str(tmp_path / "run")))
    assert f"--seed {seed}" in msg and "1 seed(s) of spos.display_seeds" in msg
    assert "[0]" in msg


def test_search_without_its_supernet(tmp_path: Path, tiny_config: Path) -> None:
    """Item 12: names the missing (or unfinished) supernet run and the rule that makes it."""
    results = tiny_config.parent / "results" / "tiny" / "spos"
    sdir = results / "train_supernet" / "block" / "uniform" / "seed0"

    def search() -> str:
        return one_line_error(run_cli("search", "--config-file", str(tiny_config), "--paper",
                                      "spos", "--cell", "block/uniform/evolution", "--seed", "0",
                                      "--input", f"supernet={sdir}",
                                      "--out", str(results / "search" / "block" / "uniform" /
                                                   "evolution" / "seed0")))

    msg = search()
    assert f"missing input {sdir};" in msg and "rule spos_train_supernet" in msg
    assert f"snakemake {sdir}/provenance.json" in msg  # the file the rule declares
    sdir.mkdir(parents=True)  # a killed job's run directory: no provenance.json yet
    (sdir / "checkpoint.pt").write_bytes(b"")
    msg = search()
    assert f"unfinished run (no provenance.json): {sdir}/provenance.json" in msg
    assert "rule spos_train_supernet" in msg


@pytest.mark.parametrize(("paper", "rule"), [("spos", "spos_retrain"),
                                             ("darts_snas", "darts_snas_search"),
                                             ("attentivenas", "attentivenas_prior"),
                                             ("fbnetv3", "fbnetv3_retrain")])
def test_table_without_its_inputs(tmp_path: Path, tiny_config: Path, paper: str,
                                  rule: str) -> None:
    """Item 12: `nasrepro table` before the jobs it reads: the missing file and its rule."""
    msg = one_line_error(run_cli("table", "--config-file", str(tiny_config), "--paper", paper,
                                 "--out-dir", str(tmp_path / "tables")))
    assert "missing input" in msg and f"rule {rule}" in msg
    assert not (tmp_path / "tables").exists() or not any((tmp_path / "tables").iterdir())


def test_collect_without_the_papers_tables(tmp_path: Path, tiny_config: Path) -> None:
    """`nasrepro collect` before the paper's tables exist: one line naming the missing table
    and the rule that makes it; nothing written."""
    out = tmp_path / "paper" / "spos"
    msg = one_line_error(run_cli("collect", "--config-file", str(tiny_config), "--paper",
                                 "spos", "--out-dir", str(out)))
    assert "spos_measurements.csv is missing" in msg and "rule tables" in msg
    assert not out.exists()


# --- data (items 13, 14) --------------------------------------------------------------------


def test_an_explicit_data_path_without_the_dataset_is_an_error(tmp_path: Path,
                                                               monkeypatch) -> None:
    """Item 13: an empty `data.path` folder no longer falls back to the Debian copy."""
    from nasrepro.data import load_dataset
    from nasrepro.errors import DataError

    monkeypatch.setenv("NASREPRO_DATA", str(tmp_path / "cache"))
    empty = tmp_path / "empty"
    empty.mkdir()
    for name in ("fashion_mnist", "cifar10"):
        with pytest.raises(DataError) as err:
            load_dataset(name, path=empty)
        msg = str(err.value)
        assert f"data.path {empty}" in msg and "\n" not in msg and "set data.path" in msg


def test_the_data_job_logs_and_records_its_source(tmp_path: Path, capsys) -> None:
    """Item 13: which source was used is logged and kept in the data job's provenance."""
    from nasrepro.config import load_config
    from nasrepro.data import load_dataset
    from nasrepro.experiments.common import make_data_splits
    from nasrepro.io import read_json
    from tests.test_data import fake_fashion

    fake_fashion(tmp_path / "fm", gz=True, n_train=40, n_test=10)
    assert load_dataset("fashion_mnist", path=tmp_path / "fm").source == \
        f"data.path {tmp_path / 'fm'}"
    assert load_dataset("digits").source.startswith("scikit-learn")
    config = load_config("tiny", {"results_dir": str(tmp_path / "results"),
                                  "data": {"dataset": "fashion_mnist",
                                           "path": str(tmp_path / "fm"), "val_size": 5}})
    out = tmp_path / "splits" / "splits.json"
    make_data_splits(config, out)
    assert f"from data.path {tmp_path / 'fm'}" in capsys.readouterr().err
    assert read_json(out.parent / "provenance.json")["data_source"] == \
        f"data.path {tmp_path / 'fm'}"


@pytest.mark.parametrize(("labels", "what"), [(["a", "b"], "labels"),
                                              ([[0], [1, 2]], "labels"),
                                              ([0, None], "labels")])
def test_cifar_batch_with_bad_labels_is_one_line(tmp_path: Path, labels: list,
                                                 what: str) -> None:
    """Item 14: string or ragged labels: a DataError naming the batch, not a traceback."""
    import pickle

    import numpy as np

    from nasrepro.data import load_dataset
    from nasrepro.errors import DataError
    from tests.test_data import cifar_batch

    folder = tmp_path / "cifar-10-batches-py"
    folder.mkdir()
    for name in [*(f"data_batch_{k}" for k in range(1, 6)), "test_batch"]:
        (folder / name).write_bytes(cifar_batch(2, 0)[0])
    bad = {b"data": np.zeros((2, 3072), dtype=np.uint8), b"labels": labels}
    (folder / "data_batch_3").write_bytes(pickle.dumps(bad))
    with pytest.raises(DataError) as err:
        load_dataset("cifar10", path=folder)
    msg = str(err.value)
    assert "data_batch_3" in msg and what in msg and "\n" not in msg
    (folder / "data_batch_3").write_bytes(pickle.dumps({b"data": [[0] * 3072, [0]],
                                                        b"labels": [0, 1]}))
    with pytest.raises(DataError, match="data_batch_3"):
        load_dataset("cifar10", path=folder)


def test_a_job_refuses_a_config_other_than_the_planned_one(tmp_path: Path) -> None:
    """Item 1: the rules pass the hash of the config section a job reads; a job given other
    settings (e.g. the profile file edited after Snakemake planned it) stops before writing."""
    from nasrepro.config import config_hash, load_config

    good = f"data:{config_hash(load_config('tiny'), 'data')}"
    out = tmp_path / "splits.json"
    msg = one_line_error(run_cli("data", "--profile", "tiny", "--config-override",
                                 '{"data": {"split_seed": 1}}', "--config-hash", good,
                                 "--out", str(out)))
    assert "other data settings" in msg and not out.exists()


def test_leaderboard_without_its_inputs(tmp_path: Path, tiny_config: Path) -> None:
    """Item 12: the leaderboard of enabled papers whose tables are not made yet: one line
    naming the missing table and its rule, not an empty leaderboard."""
    msg = one_line_error(run_cli("leaderboard", "--config-file", str(tiny_config),
                                 "--out-dir", str(tmp_path / "tables")))
    assert "missing input" in msg and "spos_leaderboard.csv" in msg and "rule tables" in msg
    assert not (tmp_path / "tables").exists()


def test_the_run_lock_tells_stale_snakemake_locks_from_live_ones(tmp_path: Path) -> None:
    """Item 4: Snakemake lock files are removed only when no other nasrepro Snakemake run holds
    the OS lock (here: a live process holding it keeps them)."""
    from nasrepro.runlock import hold_run_lock, release_run_lock

    locks = tmp_path / ".snakemake" / "locks"
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys, time; from nasrepro.runlock import hold_run_lock; "
         "hold_run_lock(sys.argv[1]); print('held', flush=True); time.sleep(60)",
         str(tmp_path / ".snakemake")], cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        locks.mkdir(parents=True)
        (locks / "0.output.lock").write_text("/x\n")  # the live run's Snakemake lock
        assert hold_run_lock(tmp_path / ".snakemake") == []  # a live run: not stale
        release_run_lock()
        assert (locks / "0.output.lock").exists()
    finally:
        holder.kill()
        holder.wait(timeout=30)
    assert hold_run_lock(tmp_path / ".snakemake") == [locks / "0.output.lock"]  # owner dead
    release_run_lock()
    assert not list(locks.iterdir())
