"""Atomic file writes, JSON/YAML helpers and run provenance.

Results are never left half-written: every writer goes through a temporary file in the same
folder followed by :func:`os.replace`; the file gets the mode the umask gives (not mkstemp's
0600), and a writer killed mid-write leaves only a ``.<name>.<pid>@<host>.<random>.tmp`` file
that :func:`clean_stale_tmp` removes when the next job starts in that folder. A folder that
cannot be written, or a directory where the file goes, is an :class:`OutputError` (one line).
:func:`write_provenance` records what is needed to
reproduce a run (git commit and whether the code paths were dirty, package versions, device and
CPU, threads, seed, wall time, dataset checksum).
"""

from __future__ import annotations

import contextlib
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from nasrepro.errors import OutputError


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "host"


#: ``.<name>.<pid>@<host>.<8 random chars>.tmp`` (this module's temp files), and the older
#: ``.<name>.<8 random chars>.tmp`` of versions that did not record the writer
_TMP_RE = re.compile(r"^\.(?P<name>.+)\.(?P<pid>\d+)@(?P<host>[A-Za-z0-9._-]+)\.[a-z0-9_]{8}\.tmp$")
_OLD_TMP_RE = re.compile(r"^\.(?P<name>.+)\.[a-z0-9_]{8}\.tmp$")


def _umask_mode() -> int:
    """``0o666`` less the process umask: the mode ``open()`` would give a new file."""
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


def _output_error(path: Path, exc: OSError) -> OutputError:
    if isinstance(exc, IsADirectoryError) or path.is_dir():
        return OutputError(f"cannot write {path}: it is a directory; remove it (a result file "
                           f"goes there) and rerun")
    if isinstance(exc, NotADirectoryError | FileExistsError):
        return OutputError(f"cannot write {path}: a parent of it is a file, not a folder; "
                           f"remove that file or choose another results_dir")
    if isinstance(exc, PermissionError):
        return OutputError(f"cannot write {path}: folder {path.parent} is not writable "
                           f"({exc.strerror}); fix its permissions or set another results_dir")
    return OutputError(f"cannot write {path} ({exc.strerror or exc}); free space or fix the "
                       f"folder, then rerun")


def is_writer() -> bool:
    """Whether this process writes result files: yes, unless it is a rank other than 0 of a
    job run on several ranks (``torchrun`` sets ``RANK``; :mod:`nasrepro.training.distributed`).
    """
    return int(os.environ.get("WORLD_SIZE", "1")) <= 1 or os.environ.get("RANK", "0") == "0"


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path next to ``path``; on success rename it onto ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched. The file
    gets the umask's mode. A folder that cannot be written or a directory at ``path`` raises
    :class:`~nasrepro.errors.OutputError`. On a rank other than 0 (:func:`is_writer`) the
    temporary file is made in a private folder and thrown away: rank 0 writes every result.
    """
    path = Path(path)
    if not is_writer():
        with tempfile.TemporaryDirectory(prefix="nasrepro-rank-") as scratch:
            yield Path(scratch) / path.name
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}@{_host()}.",
                                   suffix=".tmp", dir=path.parent)
    except OSError as exc:
        raise _output_error(path, exc) from exc
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        try:
            os.chmod(tmp_path, _umask_mode())
            os.replace(tmp_path, path)
        except OSError as exc:
            raise _output_error(path, exc) from exc
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


@contextlib.contextmanager
def staged_folder(folder: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder next to ``folder``; on success move every file written there
    into ``folder`` (created if needed), so a step that writes several files either adds all
    of them or, on an exception, none (the temporary folder is removed)."""
    folder = Path(folder)
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        stage = Path(tempfile.mkdtemp(prefix=f".{folder.name}.{os.getpid()}@{_host()}.",
                                      suffix=".tmp", dir=folder.parent))
    except OSError as exc:
        raise _output_error(folder, exc) from exc
    try:
        yield stage
        folder.mkdir(exist_ok=True)
        for f in sorted(p for p in stage.rglob("*") if p.is_file()):
            dest = folder / f.relative_to(stage)
            try:
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(f, dest)
            except OSError as exc:
                raise _output_error(dest, exc) from exc
    finally:
        shutil.rmtree(stage, ignore_errors=True)


def check_writable_dir(path: str | os.PathLike, *, what: str, fix: str) -> None:
    """Check, without writing anything, that folder ``path`` exists and is writable or can be
    created; else an :class:`OutputError` naming ``what`` and ``fix``."""
    path = Path(path).absolute()
    probe = path
    while not probe.exists():
        if probe.parent == probe:
            break
        probe = probe.parent
    if not probe.is_dir():
        raise OutputError(f"{what} {path} cannot be created: {probe} is a file; {fix}")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise OutputError(f"{what} {path} is not writable ({probe} denies it); {fix}")


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's live process
        return True
    return True


def clean_stale_tmp(folder: str | os.PathLike) -> list[Path]:
    """Remove the temp files :func:`atomic_path` left in ``folder`` (not below it) when their
    writer was killed: those of a process of this host that no longer runs, and the older
    pid-less ones. Live writers' temp files, other hosts' and any other file are kept.

    Returns:
        The removed paths, sorted.
    """
    folder = Path(folder)
    if not folder.is_dir():
        return []
    host, removed = _host(), []
    for p in sorted(folder.iterdir()):
        if not p.is_file():
            continue
        m = _TMP_RE.match(p.name)
        if m is not None:
            stale = m["host"] == host and not _alive(int(m["pid"]))
        else:
            stale = _OLD_TMP_RE.match(p.name) is not None
        if stale:
            p.unlink(missing_ok=True)
            removed.append(p)
    return removed


def write_text(path: str | os.PathLike, text: str) -> None:
    """Atomically write ``text`` to ``path``."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, obj: Any, indent: int | None = 2) -> None:
    """Atomically write ``obj`` as JSON (keys sorted, so reruns are byte-identical)."""
    write_text(path, json.dumps(obj, indent=indent, sort_keys=True) + "\n")


def write_yaml(path: str | os.PathLike, obj: Any) -> None:
    """Atomically write ``obj`` as YAML."""
    write_text(path, yaml.safe_dump(obj, sort_keys=True))


def write_resolved_config(path: str | os.PathLike, config: dict,
                          log: str | os.PathLike | None = None) -> None:
    """Rule resolved_config: write the resolved config every job reads (atomically)."""
    write_yaml(path, config)
    if log is not None:
        write_text(log, f"wrote {path} (profile {config.get('profile')})\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file."""
    with open(path) as f:
        return json.load(f)


def write_jsonl(path: str | os.PathLike, rows: list[dict]) -> None:
    """Atomically write one JSON object per line."""
    write_text(path, "".join(json.dumps(r, sort_keys=True) + "\n" for r in rows))


def read_jsonl(path: str | os.PathLike) -> list[dict]:
    """Read a JSON-lines file."""
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def stable_hash(obj: Any, length: int = 12) -> str:
    """Stable short sha256 of a JSON-serialisable object (sorted keys, no whitespace)."""
    blob = json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()
    return hashlib.sha256(blob).hexdigest()[:length]


def file_sha256(path: str | os.PathLike) -> str:
    """sha256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


#: What decides a run's results: the library, the method plug-ins, the DAG (workflow/, with its
#: Snakefile), the configs, the package metadata, the paper inputs the `claims`/`report` rules
#: read, and the tests' toy plug-in + config (the tiny reference run uses them). Only these
#: make a run "code dirty": the reference tables the `paper` rule writes into paper/<profile>/
#: while other jobs still run, results/, the README and the tests do not.
CODE_PATHS = ("nasrepro", "methods", "workflow", "config", "pyproject.toml",
              "paper/claims.yaml", "paper/published.yaml", "paper/report_template.md",
              "tests/toy_methods", "tests/config")
#: git pathspecs left out of the code state: documentation (e.g. the per-paper manuals
#: ``nasrepro/papers/<p>/README.md``) never changes a result.
DOC_EXCLUDES = (":(exclude,glob)**/*.md",)
REPO_ROOT = Path(__file__).resolve().parent.parent


def code_state(repo: str | os.PathLike | None = None) -> dict[str, Any]:
    """The commit the code was run from, and whether the code paths differ from it.

    Returns ``{"git_commit": "<sha>" (+ "-dirty" when code_dirty), "code_dirty": bool,
    "dirty_code_files": [paths]}``; untracked (not ignored) files under :data:`CODE_PATHS`
    count as dirty, Markdown files (:data:`DOC_EXCLUDES`) do not. ``git_commit`` is
    ``"unknown"`` and ``code_dirty`` ``None`` outside git.
    """
    repo = Path(repo) if repo is not None else REPO_ROOT

    def git(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True,
                              check=True).stdout

    try:
        commit = git("rev-parse", "HEAD").strip()
        status = git("status", "--porcelain", "--untracked-files=all", "--", *CODE_PATHS,
                     *DOC_EXCLUDES)
    except (OSError, subprocess.CalledProcessError):
        return {"git_commit": "unknown", "code_dirty": None, "dirty_code_files": []}
    files = sorted({line[3:].split(" -> ")[-1].strip('"') for line in status.splitlines()
                    if line.strip()})
    return {"git_commit": commit + ("-dirty" if files else ""), "code_dirty": bool(files),
            "dirty_code_files": files}


def git_commit() -> str:
    """The current git commit (``-dirty`` if a code path has changes), or ``unknown``."""
    return code_state()["git_commit"]


def warn_if_dirty(state: dict[str, Any], where: str) -> None:
    """One loud stderr line when ``state`` (from :func:`code_state`) is code dirty."""
    if state.get("code_dirty"):
        files = state["dirty_code_files"]
        shown = ", ".join(files[:8]) + (f" and {len(files) - 8} more" if len(files) > 8 else "")
        print(f"warning: code tree dirty ({len(files)} files: {shown}); {where} records "
              f"{state['git_commit']}: commit the code before producing reference results",
              file=sys.stderr)


def package_versions() -> dict[str, str]:
    """Versions of the packages that can change results."""
    from importlib import metadata

    out = {"python": sys.version.split()[0]}
    for name in ["nasrepro", "torch", "numpy", "scipy", "pandas", "scikit-learn", "snakemake"]:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = "absent"
    return out


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _cpu_native_isa() -> str:
    """The widest vector instruction set the CPU has (``AVX512``, ``AVX2`` or ``other``; the
    machine name off Linux), whatever ``cpu_isa`` caps the kernels at: it tells an AVX-512
    machine running capped kernels from an AVX2 machine in provenance and ``nasrepro verify``."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
                return "AVX512" if "avx512f" in flags else "AVX2" if "avx2" in flags else "other"
    except OSError:
        pass
    return platform.machine()


def device_info(device: str = "cpu") -> dict[str, Any]:
    """Where the run happened."""
    import torch

    info: dict[str, Any] = {
        "device": device,
        "platform": platform.platform(),
        "processor": platform.processor() or platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_capability": torch.backends.cpu.get_cpu_capability(),  # kernels torch dispatches
        "cpu_native_isa": _cpu_native_isa(),  # what the CPU has (cpu_isa may cap the kernels)
        "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "deterministic_algorithms": torch.are_deterministic_algorithms_enabled(),
        "thread_env": {v: os.environ.get(v) for v in ("OMP_NUM_THREADS", "MKL_NUM_THREADS",
                                                      "OPENBLAS_NUM_THREADS")},
        "isa_env": {v: os.environ.get(v) for v in ("ATEN_CPU_CAPABILITY", "ONEDNN_MAX_CPU_ISA",
                                                   "MKL_CBWR", "OPENBLAS_CORETYPE")},
        "onednn_convs": torch.backends.mkldnn.enabled,
    }
    if device.startswith("cuda") and torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def write_provenance(
    run_dir: str | os.PathLike,
    *,
    config: dict,
    seed: int | None,
    wall_time_s: float,
    device: str = "cpu",
    dataset_checksum: str | None = None,
    extra: dict | None = None,
) -> None:
    """Write ``config.resolved.yaml`` and ``provenance.json`` into ``run_dir``.

    ``wall_time_s`` is kept out of every *result* file so those stay bit-identical across
    reruns; only provenance.json records it.
    """
    run_dir = Path(run_dir)
    write_yaml(run_dir / "config.resolved.yaml", config)
    state = code_state()
    warn_if_dirty(state, f"{run_dir}/provenance.json")
    prov = {
        **state,
        "versions": package_versions(),
        "device": device_info(device),
        "seed": seed,
        "wall_time_s": round(wall_time_s, 3),
        "finished_utc": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "dataset_checksum": dataset_checksum,
        "command": " ".join(sys.argv),
        "ranks": int(os.environ.get("WORLD_SIZE", "1")),  # processes of the job (torchrun)
    }
    if extra:
        prov.update(extra)
    write_json(run_dir / "provenance.json", prov)
