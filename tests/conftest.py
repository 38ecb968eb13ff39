"""Shared pytest fixtures: repository paths, a CLI runner, offline data."""

from __future__ import annotations

import os
import signal
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


def tiny_dag_command(results_dir: Path, paper_dir: Path,
                     *targets: str) -> tuple[list[str], dict[str, str]]:
    """``(argv, env)`` of the tiny profile's DAG (default target: every paper + the report) with
    the toy plug-ins of tests/toy_methods into ``results_dir`` / ``paper_dir``: the invocation
    of `make reference PROFILE=tiny`."""
    env = dict(os.environ, NASREPRO_OFFLINE="1",
               NASREPRO_METHODS=str(REPO / "tests" / "toy_methods"))
    cmd = [sys.executable, "-m", "snakemake", *targets, "--cores", "2", "--quiet", "rules",
           "--nolock", "--configfile", str(REPO / "tests" / "config" / "e2e.yaml"),
           "--config", "profile=tiny", f"results_dir={results_dir}", f"paper_dir={paper_dir}"]
    return cmd, env


#: seconds the whole tiny DAG may take (about 11 minutes on the 2-core machine beside the tests)
TINY_DAG_TIMEOUT = 2400


def _uses_tiny_dag(item: pytest.Item) -> bool:
    return "tiny_dag" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The tests that read the session's tiny DAG run last (in their collected order), so the
    DAG, started in the background by ``_tiny_dag_in_background``, computes while the other
    tests run: its jobs and the tests share the machine's cores instead of taking turns."""
    items[:] = ([i for i in items if not _uses_tiny_dag(i)]
                + [i for i in items if _uses_tiny_dag(i)])


@pytest.fixture(scope="session", autouse=True)
def _tiny_dag_in_background(request: pytest.FixtureRequest,
                            tmp_path_factory: pytest.TempPathFactory):
    """Start the whole tiny DAG (a ``snakemake`` process) at the session's first test when any
    collected test reads it; ``tiny_dag`` waits for it. Killed, with its jobs, at the end."""
    if not any(_uses_tiny_dag(i) for i in request.session.items):
        yield None
        return
    root = tmp_path_factory.mktemp("tiny_dag")
    cmd, env = tiny_dag_command(root / "results", root / "paper")
    with open(root / "snakemake.log", "w") as log:
        proc = subprocess.Popen(cmd, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        yield proc, root
    finally:
        if proc.poll() is None:  # the session ended early (-x, Ctrl-C): stop it and its jobs
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="session")
def tiny_dag(_tiny_dag_in_background) -> tuple[Path, Path]:
    """The whole tiny DAG, run once per test session: ``(results/tiny, paper/tiny)``."""
    if _tiny_dag_in_background is None:
        raise RuntimeError("tiny_dag must be a parameter of the test (it is started at "
                           "collection), not requested with getfixturevalue")
    proc, root = _tiny_dag_in_background
    try:
        returncode = proc.wait(timeout=TINY_DAG_TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        pytest.fail(f"the tiny DAG took over {TINY_DAG_TIMEOUT} s; log: {root / 'snakemake.log'}")
    log = (root / "snakemake.log").read_text()
    assert returncode == 0, log[-6000:]
    return root / "results" / "tiny", root / "paper" / "tiny"


@pytest.fixture
def one_torch_thread():
    """One torch thread for the test (tiny kernels; restored after)."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
