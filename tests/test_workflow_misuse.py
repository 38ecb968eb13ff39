"""The workflow under misuse, config changes, concurrency and kills (issue 13): `--config`
syntax, validation before any job runs, a dry run that writes nothing, config changes that rerun
exactly the jobs reading the changed section, the default workflow profile, and a SIGKILL of
the whole Snakemake process followed by the same command.

Each test runs Snakemake on the tiny profile in a temporary results folder, on cheap targets
(dry runs, the data rule, the resolved-config rule) unless it says otherwise.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO


def snakemake(tmp_path: Path, *args: str, config: tuple[str, ...] = (), timeout: int = 300,
              env: dict | None = None) -> subprocess.CompletedProcess:
    """``snakemake ARGS --config profile=tiny results_dir=... paper_dir=... CONFIG`` from the
    repository root (so the default workflow profile applies, as for a user)."""
    cmd = [sys.executable, "-m", "snakemake", *args, "--config", "profile=tiny",
           f"results_dir={tmp_path / 'results'}", f"paper_dir={tmp_path / 'paper'}", *config]
    full_env = dict(os.environ, NASREPRO_OFFLINE="1", **(env or {}))
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=timeout,
                          env=full_env)


def error_line(proc: subprocess.CompletedProcess) -> str:
    """The workflow's one ``error: ...`` line (exit 2, no traceback)."""
    assert proc.returncode == 2, (proc.returncode, proc.stderr[-3000:])
    lines = [line for line in proc.stderr.splitlines() if line.startswith("error: ")]
    assert len(lines) == 1, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr, proc.stderr[-3000:]
    return lines[0]


# --- item 3: --config values are YAML, nested keys included ---------------------------------


def test_config_list_and_nested_overrides_work(tmp_path: Path) -> None:
    """`seeds=[0,1,2]` (the README's example) and a nested `spos={search: {...}}` override."""
    proc = snakemake(tmp_path, "spos", "-n", "--cores", "1",
                     config=("seeds=[0,1,2]", "spos={search: {population: 10, topk: 4}}"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = proc.stdout + proc.stderr
    assert "seed2" in out  # a third seed's jobs are in the DAG


def test_bad_nested_override_is_one_line(tmp_path: Path) -> None:
    msg = error_line(snakemake(tmp_path, "spos", "-n", "--cores", "1",
                               config=("spos={search: {population: 0}}",)))
    assert "spos.search.population" in msg


# --- items 6, 8 and the extras: rejected before any job, one line ---------------------------


def test_duplicate_seeds_are_rejected(tmp_path: Path) -> None:
    assert "non-unique" in error_line(snakemake(tmp_path, "spos", "-n", "--cores", "1",
                                                config=("seeds=[0,0]",)))


def test_empty_profile_is_rejected(tmp_path: Path) -> None:
    cmd = [sys.executable, "-m", "snakemake", "spos", "-n", "--cores", "1", "--config",
           "profile=", f"results_dir={tmp_path}"]
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
    assert "profile is empty" in error_line(proc)


def test_topk_above_population_is_rejected(tmp_path: Path) -> None:
    msg = error_line(snakemake(tmp_path, "spos", "-n", "--cores", "1",
                               config=("spos={search: {topk: 50}}",)))
    assert "spos.search.topk" in msg


def test_device_typo_is_rejected(tmp_path: Path) -> None:
    assert "'device'" in error_line(snakemake(tmp_path, "spos", "-n", "--cores", "1",
                                              config=("device=gpu",)))


# --- item 7: every registered name is checked before any job runs --------------------------


@pytest.mark.parametrize(
    ("override", "key"),
    [
        ("spos={samplers: [uniform, nosuch]}", "spos.samplers"),
        ("spos={main_searcher: nosuch}", "spos.main_searcher"),
        ("spos={preset: spos/nosuch}", "spos.preset"),
        ("darts_snas={methods: [darts-1st, nosuch]}", "darts_snas.methods"),
        ("attentivenas={searcher: nosuch}", "attentivenas.searcher"),
        ("fbnetv3={predictor_methods: [nosuch]}", "fbnetv3.predictor_methods"),
    ],
)
def test_unknown_names_fail_before_any_job(tmp_path: Path, override: str, key: str) -> None:
    msg = error_line(snakemake(tmp_path, "all", "-n", "--cores", "1", config=(override,)))
    assert f"'{key}'" in msg and "nosuch" in msg and "known" in msg


# --- item 12: a hand-run step names the rule that makes its missing input -------------------


def test_missing_input_messages_name_the_rule_that_makes_the_file(tmp_path: Path) -> None:
    """`producing_rule` (used by the one-line "missing input" errors) agrees with the DAG for
    every file of the tiny profile (Snakemake's own file -> rule table, `--summary`)."""
    from nasrepro.config import load_config
    from nasrepro.experiments.common import producing_rule

    proc = snakemake(tmp_path, "all", "--summary", "--cores", "1")
    assert proc.returncode == 0, proc.stderr[-3000:]
    config = load_config("tiny", {"results_dir": str(tmp_path / "results")})
    rows = [line.split("\t") for line in proc.stdout.splitlines()[1:] if "\t" in line]
    results = [(f, rule) for f, _, rule, *_ in rows if f.startswith(str(tmp_path / "results"))]
    assert len(results) > 200
    wrong = [(f, rule, producing_rule(config, f)) for f, rule in results
             if producing_rule(config, f) != rule]
    assert not wrong, wrong[:5]
