"""Shared pytest fixtures: repository paths, a CLI runner, offline data."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


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
