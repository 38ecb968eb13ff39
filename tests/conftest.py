"""Shared pytest fixtures: repository paths, a CLI runner, offline data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from nasrepro.config import load_config
from nasrepro.determinism import pin_cpu_isa

REPO = Path(__file__).resolve().parent.parent

# The test process computes with the CPU kernels its jobs use (before any test imports torch):
# in-process results are compared with the jobs' files.
pin_cpu_isa(load_config("tiny")["cpu_isa"])


@pytest.fixture(autouse=True)
def _offline_and_single_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NASREPRO_OFFLINE", "1")


def run_cli(*args: str, env: dict | None = None, cwd: Path | None = None,
            timeout: int = 600) -> subprocess.CompletedProcess:
    """Run ``python -m nasrepro.cli ARGS`` and capture its output."""
    full_env = dict(os.environ, NASREPRO_OFFLINE="1", **(env or {}))
    return subprocess.run([sys.executable, "-m", "nasrepro.cli", *args], capture_output=True,
                          text=True, env=full_env, cwd=cwd or REPO, timeout=timeout)


@pytest.fixture
def cli():
    return run_cli


def run_tiny_dag(results_dir: Path, paper_dir: Path, *targets: str,
                 timeout: int = 2400) -> subprocess.CompletedProcess:
    """Run the tiny profile's DAG (default target: every paper + the report) with the toy
    plug-in searcher of tests/toy_methods into ``results_dir`` / ``paper_dir``."""
    env = dict(os.environ, NASREPRO_OFFLINE="1",
               NASREPRO_METHODS=str(REPO / "tests" / "toy_methods"))
    cmd = [sys.executable, "-m", "snakemake", *targets, "--cores", "2", "--quiet", "rules",
           "--nolock", "--configfile", str(REPO / "tests" / "config" / "e2e.yaml"),
           "--config", "profile=tiny", f"results_dir={results_dir}", f"paper_dir={paper_dir}"]
    return subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture(scope="session")
def tiny_dag(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The whole tiny DAG, run once per test session: ``(results/tiny, paper/tiny)``."""
    root = tmp_path_factory.mktemp("tiny_dag")
    proc = run_tiny_dag(root / "results", root / "paper")
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return root / "results" / "tiny", root / "paper" / "tiny"


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test (tiny kernels; restored after)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
