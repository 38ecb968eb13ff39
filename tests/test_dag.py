"""`snakemake -n` lists the full DAG (every paper, then claims, leaderboard and report) for every
profile, even without its data; the SLURM profile dry-runs; `snakemake --lint` is clean; bad
configs fail before any job with one clear line."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from nasrepro.config import load_config
from tests.conftest import REPO

#: each paper's own rules in a profile's whole DAG (its tables, figures and collect jobs are the
#: {paper} jobs of the rules tables, figures and collect)
PAPER_RULES = {
    "spos": ("spos_train_supernet", "spos_search", "spos_retrain", "spos_inherit"),
    "darts_snas": ("darts_snas_search", "darts_snas_retrain"),
    "attentivenas": ("attentivenas_train_supernet", "attentivenas_search",
                     "attentivenas_predictor"),
    "fbnetv3": ("fbnetv3_pretrain", "fbnetv3_search", "fbnetv3_retrain"),
}


def _dry_run(tmp_path, *config: str, target: str = "spos", extra: tuple[str, ...] = ()
             ) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", target, "-n", "--cores", "1", *extra,
           "--config", f"results_dir={tmp_path}", f"paper_dir={tmp_path / 'paper'}", *config]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("profile", ["tiny", "default", "cifar10", "imagenet"])
def test_dry_run_lists_every_paper_and_the_report(tmp_path, profile: str) -> None:
    proc = _dry_run(tmp_path, f"profile={profile}", target="all")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    papers = load_config(profile)["papers"]  # imagenet: the three ImageNet papers
    for paper, rules in PAPER_RULES.items():
        if paper not in papers:
            assert not any(rule in out for rule in rules), f"{paper} is not in {profile}"
            assert f"/{paper}/tables" not in out, f"{paper} is not in the {profile} profile"
            continue
        for rule in rules:
            assert rule in out, f"{rule} ({paper}) missing from the {profile} DAG"
        assert f"/{paper}/tables" in out and f"/{paper}/figures" in out, (paper, profile)
    for rule in ("data", "tables", "figures", "collect", "claims", "leaderboard", "report"):
        assert rule in out, f"{rule} missing from the {profile} DAG"


#: GPUs each training rule asks SLURM for: the imagenet profile (the papers' 8-GPU jobs) and
#: the cifar10 profile (DARTS/SNAS, a CIFAR-10 study, on one GPU)
SLURM_GPUS = {
    "imagenet": {"spos_train_supernet": 8, "spos_retrain": 8, "spos_search": 1,
                 "attentivenas_train_supernet": 8, "attentivenas_search": 1,
                 "fbnetv3_search": 8, "fbnetv3_retrain": 8,
                 "data": 0},
    "cifar10": {"darts_snas_search": 1, "darts_snas_retrain": 1},
}


@pytest.mark.parametrize("profile", sorted(SLURM_GPUS))
def test_slurm_profile_dry_runs_with_gpus_per_rule(tmp_path, profile: str) -> None:
    """The SLURM workflow profile's dry run lists GPU resources (gpu, cpus_per_gpu, mem_mb,
    runtime) for every training rule of the GPU profiles."""
    proc = _dry_run(tmp_path, f"profile={profile}", target="all",
                    extra=("--workflow-profile", "workflow/profiles/slurm"))
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, proc.stderr[-2000:]
    resources: dict[str, str] = {}
    for block in re.split(r"\n(?=rule \w+:)", out):
        m = re.match(r"rule (\w+):", block)
        r = re.search(r"resources: (.*)", block)
        if m and r:
            resources.setdefault(m.group(1), r.group(1))
    for rule, gpus in SLURM_GPUS[profile].items():
        assert f"gpu={gpus}" in resources[rule].split(", "), (rule, resources.get(rule))
        if gpus:
            res = resources[rule]
            assert "cpus_per_gpu=" in res and "mem_mb=" in res and "runtime=" in res, res


def test_snakemake_lint_is_clean() -> None:
    proc = subprocess.run([sys.executable, "-m", "snakemake", "--lint"], cwd=REPO,
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0 and "Lints for" not in out, out[-3000:]


def test_dry_run_of_one_paper_target(tmp_path) -> None:
    """A paper's own target (here `spos`) plans its jobs and no other paper's; every profile's
    whole DAG is checked by the `all` dry runs above."""
    proc = _dry_run(tmp_path, "profile=tiny")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    for rule in ("data", "spos_train_supernet", "spos_search", "spos_retrain",
                 "spos_inherit", "tables", "figures"):
        assert rule in out, f"{rule} missing from the tiny spos DAG"
    assert "spos/tables" in out and "darts_snas/tables" not in out
    assert "darts_snas_search" not in out and "attentivenas_train_supernet" not in out


def test_bad_config_value_fails_with_one_line(tmp_path) -> None:
    proc = _dry_run(tmp_path, "profile=tiny", "seeds=[-3]")
    assert proc.returncode != 0
    assert "invalid config key 'seeds.0'" in proc.stderr


def test_unknown_profile_fails_with_one_line(tmp_path) -> None:
    proc = _dry_run(tmp_path, "profile=nope")
    assert proc.returncode != 0
    assert "unknown profile 'nope'" in proc.stderr
