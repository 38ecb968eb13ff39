"""The workflow under misuse, config changes, concurrency and kills (issue 13): `--config`
syntax, validation before any job runs, a dry run that writes nothing, config changes that rerun
exactly the jobs reading the changed section, the default workflow profile, and a SIGKILL of
the whole Snakemake process followed by the same command.

Each test runs Snakemake on the tiny profile in a temporary results folder, on cheap targets
(dry runs, the data rule, the resolved-config rule) unless it says otherwise.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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


def test_a_results_dir_that_cannot_be_written_is_one_line(tmp_path: Path) -> None:
    """Item 9: results_dir under a file (or not writable), dry run or not: one line, no
    traceback, nothing written."""
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for extra in (("-n",), ()):
        cmd = [sys.executable, "-m", "snakemake", "data", "--cores", "1", *extra, "--config",
               "profile=tiny", f"results_dir={blocker / 'results'}"]
        proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300,
                              env=dict(os.environ, NASREPRO_OFFLINE="1"))
        msg = error_line(proc)
        assert "results directory" in msg and "is a file" in msg and "results_dir" in msg
    assert blocker.read_text() == "x"


# --- item 7: every registered name is checked before any job runs --------------------------


UNKNOWN_NAMES = [
    ({"spos": {"methods": {"sampler": ["uniform", "nosuch"]}}}, "spos.methods.sampler"),
    ({"spos": {"main_searcher": "nosuch"}}, "spos.main_searcher"),
    ({"spos": {"preset": "spos/nosuch"}}, "spos.preset"),
    ({"darts_snas": {"methods": {"relaxation": ["darts-1st", "nosuch"]}}}, "darts_snas.methods"),
    ({"attentivenas": {"methods": {"searcher": ["nosuch"]}}}, "attentivenas.methods.searcher"),
    ({"fbnetv3": {"methods": {"predictor": ["nosuch"]}}}, "fbnetv3.methods.predictor"),
]


@pytest.mark.parametrize(("override", "key"), UNKNOWN_NAMES)
def test_unknown_names_are_config_errors_naming_the_key(override: dict, key: str) -> None:
    """The check the Snakefile runs at parse time (`check_names`), for every paper's names."""
    from nasrepro.config import check_names, load_config
    from nasrepro.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        check_names(load_config("tiny", override))
    msg = str(err.value)
    assert f"'{key}'" in msg and "nosuch" in msg and "known" in msg and "\n" not in msg


@pytest.mark.parametrize(("override", "key"), [
    ("spos={methods: {sampler: [uniform, nosuch]}}", "spos.methods.sampler"),
    ("darts_snas={methods: {relaxation: [darts-1st, nosuch]}}", "darts_snas.methods"),
])
def test_unknown_names_fail_before_any_job(tmp_path: Path, override: str, key: str) -> None:
    """Through Snakemake: one line, exit 2, before any job (two papers; the rest in-process)."""
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
    assert len(results) > 100
    # a stage rule declares its run's provenance.json: every other file of the run, and the run
    # directory itself, are made by the same rule
    results += [(str(Path(f).parent / name), rule) for f, rule in results
                if f.endswith("/provenance.json") for name in ("", "log.csv")]
    wrong = [(f, rule, producing_rule(config, f)) for f, rule in results
             if producing_rule(config, f) != rule]
    assert not wrong, wrong[:5]


# --- items 1 and 2: the resolved config is a job's output; config changes rerun exactly ------


def test_a_dry_run_writes_nothing(tmp_path: Path) -> None:
    """Item 1: parsing the Snakefile (here: a dry run) writes no file under results/."""
    proc = snakemake(tmp_path, "all", "-n", "--cores", "1",
                     config=("spos={supernet_train: {epochs: 2}}",))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "resolved_config" in proc.stdout + proc.stderr
    assert not (tmp_path / "results").exists() and not (tmp_path / "paper").exists()


def _dry_run_jobs(proc: subprocess.CompletedProcess) -> dict[str, int]:
    """rule -> job count of a dry run's "Job stats" table."""
    assert proc.returncode == 0, proc.stderr[-3000:]
    out, jobs, in_table = proc.stdout + proc.stderr, {}, False
    for line in out.splitlines():
        if line.startswith("job ") and "count" in line:
            in_table = True
            continue
        if in_table:
            parts = line.split()
            if not parts or parts[0] == "total":
                break
            if len(parts) == 2 and parts[1].isdigit():
                jobs[parts[0]] = int(parts[1])
    return jobs


def test_a_config_change_reruns_exactly_the_jobs_that_read_it(tmp_path: Path) -> None:
    """Item 2: with every output of the tiny DAG up to date (made as empty files and recorded by
    `snakemake --touch --forceall`, so no job runs), changing one paper's setting reruns that
    paper's jobs (and the tables/report that read them) and nothing else; changing nothing
    reruns nothing."""
    summary = snakemake(tmp_path, "all", "--summary", "--cores", "1")
    assert summary.returncode == 0, summary.stderr[-3000:]
    for line in summary.stdout.splitlines()[1:]:
        path = Path(line.split("\t")[0])
        if path.suffix:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        else:  # directory() outputs of the rules tables, figures and collect
            path.mkdir(parents=True, exist_ok=True)
    touched = snakemake(tmp_path, "all", "--touch", "--forceall", "--cores", "1")
    assert touched.returncode == 0, touched.stderr[-3000:]
    unchanged = snakemake(tmp_path, "all", "-n", "--cores", "1")
    assert unchanged.returncode == 0 and "Nothing to be done" in unchanged.stdout + \
        unchanged.stderr, (unchanged.stdout + unchanged.stderr)[-3000:]

    jobs = _dry_run_jobs(snakemake(tmp_path, "all", "-n", "--cores", "1",
                                   config=("spos={search: {generations: 4}}",)))
    spos_jobs = {"spos_train_supernet", "spos_search", "spos_retrain", "spos_inherit",
                 "tables", "figures", "collect"}
    downstream = {"claims", "leaderboard", "report", "paper", "all", "spos"}
    assert spos_jobs <= set(jobs), jobs
    assert jobs["tables"] == jobs["figures"] == jobs["collect"] == 1, jobs  # SPOS's only
    assert set(jobs) <= spos_jobs | downstream | {"resolved_config"}, jobs
    assert not any(r.startswith(("darts_snas", "attentivenas", "fbnetv3")) or r == "data"
                   for r in jobs), jobs

    jobs = _dry_run_jobs(snakemake(tmp_path, "all", "-n", "--cores", "1",
                                   config=("attentivenas={report_buckets: 4}",)))
    assert "attentivenas_train_supernet" in jobs and jobs["tables"] == 1, jobs
    assert not any(r.startswith(("spos", "darts_snas", "fbnetv3")) or r == "data"
                   for r in jobs), jobs
    # a setting no result depends on rewrites the config file and reruns no job (`all` is the
    # target rule, not a job that makes anything)
    assert set(_dry_run_jobs(snakemake(tmp_path, "all", "-n", "--cores", "1",
                                       config=("progress=false",)))) == {"resolved_config",
                                                                        "all"}


# --- items 1 and 4: a second invocation, and a SIGKILL of the whole Snakemake process --------


def test_the_default_workflow_profile_is_loaded(tmp_path: Path) -> None:
    """Item 4: Snakemake 9 finds workflow/profiles/default/config.yaml next to
    workflow/Snakefile and reads its settings (their effect, rerun-incomplete after a kill, is
    the SIGKILL test below)."""
    proc = snakemake(tmp_path, "data", "-n")  # no --cores: a dry run needs none
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "Using workflow specific profile workflow/profiles/default" in proc.stderr
    import yaml

    settings = yaml.safe_load((REPO / "workflow/profiles/default/config.yaml").read_text())
    assert settings["rerun-incomplete"] is True

SUPERNET = Path("tiny") / "spos" / "train_supernet" / "block" / "uniform" / "seed0"
#: one cheap training job (4 epochs, a checkpoint after each) and the data job it needs
SHORT = "spos={supernet_train: {epochs: 4}}"


def _cmd(results: Path, *extra: str) -> list[str]:
    """The user's command for one supernet (its own working directory keeps its .snakemake/
    apart from other runs in the repository; the workflow profile is found next to the
    Snakefile)."""
    return [sys.executable, "-m", "snakemake", "-s", str(REPO / "workflow" / "Snakefile"),
            str(results / SUPERNET / "provenance.json"), "--cores", "1", *extra, "--config",
            "profile=tiny", f"results_dir={results}", "progress=false", SHORT]


def _env() -> dict:
    return dict(os.environ, NASREPRO_OFFLINE="1")


def _wait_for_checkpoint(proc: subprocess.Popen, run_dir: Path, timeout: float = 600) -> bool:
    """Wait until the training job has written a checkpoint (and not finished)."""
    deadline = time.time() + timeout
    while time.time() < deadline and proc.poll() is None:
        if (run_dir / "checkpoint.pt").exists() and not (run_dir / "supernet.pt").exists():
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def concurrent_runs(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Run A trains the supernet; in the middle of its training (A held still with SIGSTOP, so
    the timing cannot vary) run B (same command, other epochs) and B's dry run start; then A
    goes on and finishes. A's results are the uninterrupted reference of the kill test."""
    root = tmp_path_factory.mktemp("concurrent")
    work, results = root / "work", root / "results"
    work.mkdir()
    run_a = subprocess.Popen(_cmd(results), cwd=work, env=_env(), stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True, start_new_session=True)
    started = _wait_for_checkpoint(run_a, results / SUPERNET)
    if started:
        os.killpg(run_a.pid, signal.SIGSTOP)
    files_before = {p: p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file()}
    other = [c if c != SHORT else "spos={supernet_train: {epochs: 2}}" for c in _cmd(results)]
    try:
        run_b = subprocess.run(other, cwd=work, env=_env(), capture_output=True, text=True,
                               timeout=300)
        dry_b = subprocess.run(other[:3] + ["-n"] + other[3:], cwd=work, env=_env(),
                               capture_output=True, text=True, timeout=300)
        files_during = {p: p.stat().st_mtime_ns for p in results.rglob("*") if p.is_file()}
    finally:
        if started:
            os.killpg(run_a.pid, signal.SIGCONT)
    out_a, _ = run_a.communicate(timeout=900)
    return {"started": started, "a_rc": run_a.returncode, "a_out": out_a, "b": run_b,
            "dry_b": dry_b, "results": results, "unchanged": files_during == files_before}


def test_a_second_invocation_cannot_change_a_running_run(concurrent_runs: dict) -> None:
    """Item 1: a second snakemake with other settings is refused by the lock and changes
    nothing; its dry run writes nothing; the first run completes with its own settings."""
    r = concurrent_runs
    assert r["started"], r["a_out"][-3000:]
    assert r["b"].returncode != 0 and "cannot be locked" in r["b"].stdout + r["b"].stderr
    assert r["dry_b"].returncode == 0, r["dry_b"].stderr[-3000:]
    assert r["unchanged"]  # neither B nor its dry run wrote or touched a file under results/
    assert r["a_rc"] == 0, r["a_out"][-3000:]
    log = (r["results"] / SUPERNET / "log.csv").read_text().strip().splitlines()
    assert len(log) == 1 + 4  # header + the 4 epochs run A was started with
    assert not (r["results"] / "tiny" / "config.resolved.yaml").exists()  # no job wrote it


def test_sigkill_of_the_whole_snakemake_then_the_same_command(concurrent_runs: dict,
                                                              tmp_path: Path) -> None:
    """Item 4: SIGKILL the whole snakemake process group mid-run (after the training job's
    first checkpoint); the same command then completes (the workflow profile's
    rerun-incomplete, the stale Snakemake lock removed) with results bit-identical to the
    uninterrupted run."""
    import torch

    reference = concurrent_runs["results"] / SUPERNET
    assert concurrent_runs["a_rc"] == 0
    for attempt in range(3):
        work, results = tmp_path / f"work{attempt}", tmp_path / f"results{attempt}"
        work.mkdir()
        run = subprocess.Popen(_cmd(results), cwd=work, env=_env(), stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, start_new_session=True)
        caught = _wait_for_checkpoint(run, results / SUPERNET)
        if caught:
            os.killpg(run.pid, signal.SIGKILL)
        run.communicate(timeout=300)
        if caught and not (results / SUPERNET / "supernet.pt").exists():
            break
    else:
        pytest.fail("could not catch the training job between its first checkpoint and its end")
    assert list((work / ".snakemake" / "locks").glob("*.lock"))  # the kill left its locks
    rerun = subprocess.run(_cmd(results), cwd=work, env=_env(), capture_output=True, text=True,
                           timeout=900)
    assert rerun.returncode == 0, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    assert "left by a Snakemake run that was killed" in rerun.stderr
    run_dir = results / SUPERNET
    assert not (run_dir / "checkpoint.pt").exists()
    assert not [p for p in run_dir.iterdir() if p.name.endswith(".tmp")]
    assert (run_dir / "log.csv").read_bytes() == (reference / "log.csv").read_bytes()
    a = torch.load(run_dir / "supernet.pt", map_location="cpu", weights_only=False)
    b = torch.load(reference / "supernet.pt", map_location="cpu", weights_only=False)
    assert a["state_dict"].keys() == b["state_dict"].keys()
    assert all(torch.equal(a["state_dict"][k], b["state_dict"][k]) for k in a["state_dict"])
    splits = Path("tiny") / "data" / "digits" / "splits.json"
    assert (results / splits).read_bytes() == (concurrent_runs["results"] / splits).read_bytes()
