"""Stale Snakemake locks after a kill: an OS lock held for the whole life of a Snakemake run.

Snakemake locks its working directory with files in ``.snakemake/locks/`` and removes them when
it ends; a SIGKILL (or a power loss) leaves them behind, and the next ``snakemake`` refuses to
run until ``snakemake --unlock``. Snakemake cannot tell a dead run's files from a live one's.
The kernel can: every nasrepro Snakemake run (the Snakefile calls :func:`hold_run_lock` while it
is parsed, before Snakemake checks its lock files) holds a shared ``flock`` on
``.snakemake/nasrepro.lock`` until the process ends, however it ends. A run that gets the lock
*exclusively* first knows that no other nasrepro Snakemake run is alive in this folder, so any
Snakemake lock files there are stale and are removed; otherwise they are left to Snakemake,
which refuses to run over a live run's files as before. A run with ``--nolock`` writes no
Snakemake lock files and gives its OS lock back when it starts (:func:`release_run_lock`).

Limits: the OS lock is per working directory and host; while another nasrepro Snakemake run
(a dry run included) is alive in the same folder, stale lock files are left to Snakemake
(``snakemake --unlock``), and runs on other hosts sharing the folder are not seen.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

_HELD: list[int] = []  # file descriptors kept open (and locked) until the process ends


def hold_run_lock(snakemake_dir: str | os.PathLike = ".snakemake") -> list[Path]:
    """Take the run's shared OS lock; if no other run holds it, remove stale Snakemake locks.

    Args:
        snakemake_dir: Snakemake's folder in the working directory.

    Returns:
        The removed stale lock files (empty when another run is alive or there were none).
    """
    folder = Path(snakemake_dir)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder / "nasrepro.lock", os.O_RDWR | os.O_CREAT, 0o666)
    except OSError:  # an unwritable working directory: Snakemake itself reports it
        return []
    removed: list[Path] = []
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:  # another nasrepro Snakemake run is alive: its locks are real
        pass
    else:
        locks = folder / "locks"
        if locks.is_dir():
            for f in sorted(locks.glob("*.lock")):
                f.unlink(missing_ok=True)
                removed.append(f)
    fcntl.flock(fd, fcntl.LOCK_SH)  # held (fd left open) until this process ends
    _HELD.append(fd)
    return removed


def release_run_lock() -> None:
    """Give the run's OS lock back (a ``--nolock`` run: it has no Snakemake locks to guard)."""
    while _HELD:
        fd = _HELD.pop()
        fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)
