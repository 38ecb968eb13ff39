"""`snakemake -n` lists the full SPOS DAG for every profile, even without its data, and bad
configs fail before any job with one clear line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import REPO


def _dry_run(tmp_path, *config: str) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "snakemake", "spos", "-n", "--cores", "1", "--config",
           f"results_dir={tmp_path}", *config]
    return subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)


@pytest.mark.parametrize("profile", ["tiny", "default", "cifar10", "imagenet"])
def test_dry_run_lists_the_spos_dag(tmp_path, profile: str) -> None:
    proc = _dry_run(tmp_path, f"profile={profile}")
    assert proc.returncode == 0, proc.stderr[-2000:]
    out = proc.stdout + proc.stderr
    for rule in ("data", "spos_train_supernet", "spos_search", "spos_retrain",
                 "spos_inherit", "spos_tables", "spos_figures", "spos"):
        assert rule in out, f"{rule} missing from the {profile} DAG"


def test_bad_config_value_fails_with_one_line(tmp_path) -> None:
    proc = _dry_run(tmp_path, "profile=tiny", "seeds=[-3]")
    assert proc.returncode != 0
    assert "invalid config key 'seeds.0'" in proc.stderr


def test_unknown_profile_fails_with_one_line(tmp_path) -> None:
    proc = _dry_run(tmp_path, "profile=nope")
    assert proc.returncode != 0
    assert "unknown profile 'nope'" in proc.stderr
