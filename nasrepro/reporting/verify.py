"""The reference check (issue 17): a run's tables against the committed reference, cell by cell.

``nasrepro verify NEW REF`` compares every table CSV (the tidy ``*_measurements.csv``, each
paper's tables, ``claims.csv``, ``leaderboard.csv``) found under ``REF`` (e.g. ``paper/tiny``)
with the file of the same name under ``NEW`` (a run's ``paper/<profile>`` or
``results/<profile>/tables``): every cell exactly, except where :data:`TOLERANCES` says
otherwise. Each differing cell is printed as ``file | row key | column | reference | new``; the
exit status is 0 when all are equal, 1 on a difference, 2 on a usage error.
``nasrepro reference NEW REF`` (re)writes ``REF`` from a run (``make reference``).
"""

from __future__ import annotations

import csv
import math
import os
import shutil
import sys
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nasrepro.errors import NasreproError
from nasrepro.io import read_json, write_json

EXCLUDED = None
#: How a column (of a wide table) or a quantity (the ``value`` of a tidy measurements row) is
#: compared: absent = exactly (the text of the cell); a number = absolute tolerance on the
#: parsed float; EXCLUDED = not compared. The ONE place tolerances are declared.
#:
#: Every result column is exact on purpose: on one machine (CPU model, torch/numpy versions) a
#: rerun is bit-identical whatever the thread environment or Snakemake's --cores
#: (tests/test_reproducibility.py, tests/test_verify.py), so any difference is a change of
#: results. No tolerance is declared for other CPU models either: training is chaotic, one
#: rounding difference in a kernel can flip an argmax and pick another arch, so no bound on
#: accuracies holds in general (docs/reproducibility.md, "Verifying the reference").
TOLERANCES: dict[str, float | None] = {
    # wall clock, not a result: search cost = provenance wall_time_s of the search jobs (hours)
    "search_cost_h": EXCLUDED,
    # wall clock: run and Snakemake job seconds (provenance / benchmarks)
    "wall_time_s": EXCLUDED,
    "job_seconds_total": EXCLUDED,
    "job_seconds_mean": EXCLUDED,
}
#: files that are not results: Snakemake's per-rule job seconds (wall clock throughout)
EXCLUDED_FILES = ("benchmarks.csv",)
#: columns that name a row (those a table has, in this order); a table with none of them is
#: keyed by its first column. A key repeated within a table gets its occurrence ``#k``.
KEY_COLUMNS = ("id", "paper", "space", "method", "sampler", "search", "predictor",
               "comparison", "level", "recipe", "row", "arch_id", "quantity", "group", "seed",
               "epoch")
#: summary of the run that made a reference, written beside its tables
REFERENCE_FILE = "REFERENCE.json"


@dataclass(frozen=True)
class Difference:
    """One differing cell (or a missing/extra file, row or column)."""

    file: str
    row: str
    column: str
    reference: str
    new: str

    def __str__(self) -> str:
        return " | ".join((self.file, self.row, self.column, f"reference {_short(self.reference)}",
                           f"new {_short(self.new)}"))


def _short(text: str, width: int = 100) -> str:
    return text if len(text) <= width else text[:width - 3] + "..."


def table_files(folder: str | os.PathLike) -> dict[str, Path]:
    """Every compared CSV under ``folder`` (recursively), by file name."""
    folder = Path(folder)
    found: dict[str, Path] = {}
    for path in sorted(folder.rglob("*.csv")):
        if path.name in EXCLUDED_FILES or any(
                p.startswith(".") for p in path.relative_to(folder).parts):  # staging copies
            continue
        if path.name in found:
            raise NasreproError(f"{folder} holds two tables named {path.name} ({found[path.name]}"
                                f", {path}); give a single run's paper/<profile> or tables folder")
        found[path.name] = path
    return found


def _read(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    with open(path, newline="") as f:
        reader = csv.DictReader(f)
        return list(reader.fieldnames or []), list(reader)


def _keyed(columns: list[str], rows: list[dict[str, str]]) -> dict[str, dict[str, str]]:
    keys = [c for c in KEY_COLUMNS if c in columns] or columns[:1]
    seen: Counter[str] = Counter()
    out = {}
    for row in rows:
        key = " ".join(f"{k}={row.get(k, '')}" for k in keys)
        seen[key] += 1
        out[key if seen[key] == 1 else f"{key} #{seen[key]}"] = row
    return out


def tolerance(column: str, row: dict[str, str]) -> float | None:
    """The declared tolerance of a cell: by quantity for a tidy row's ``value``, else by
    column; 0.0 (exact) when none is declared."""
    name = row.get("quantity", column) if column == "value" else column
    return TOLERANCES.get(name, 0.0)


def _equal(ref: str, new: str, tol: float) -> bool:
    if ref == new:
        return True
    if tol <= 0:
        return False
    try:
        a, b = float(ref), float(new)
    except ValueError:
        return False
    return (math.isnan(a) and math.isnan(b)) or abs(a - b) <= tol


def compare_tables(name: str, ref_path: Path, new_path: Path) -> list[Difference]:
    """Every differing cell of one table."""
    ref_cols, ref_rows = _read(ref_path)
    new_cols, new_rows = _read(new_path)
    diffs = [Difference(name, "-", c, "column present", "column missing")
             for c in ref_cols if c not in new_cols]
    diffs += [Difference(name, "-", c, "column absent", "new column")
              for c in new_cols if c not in ref_cols]
    ref, new = _keyed(ref_cols, ref_rows), _keyed(new_cols, new_rows)
    for key, ref_row in ref.items():
        new_row = new.get(key)
        if new_row is None:
            diffs.append(Difference(name, key, "-", "row present", "row missing"))
            continue
        for col in ref_cols:
            if col not in new_cols:
                continue
            tol = tolerance(col, ref_row)
            if tol is EXCLUDED:
                continue
            if not _equal(ref_row[col], new_row[col], tol):
                diffs.append(Difference(name, key, col, ref_row[col], new_row[col]))
    diffs += [Difference(name, key, "-", "row absent", "new row")
              for key in new if key not in ref]
    return diffs


def compare(new: str | os.PathLike, reference: str | os.PathLike) -> list[Difference]:
    """Every difference between the tables under ``new`` and those under ``reference``."""
    new, reference = Path(new), Path(reference)
    for folder, role, fix in ((reference, "reference", "write it with `make reference "
                               "PROFILE=<profile>` or give the committed paper/<profile>"),
                              (new, "new results", "run the DAG first (`make verify` does) or "
                               "give the run's paper/<profile> folder")):
        if not folder.is_dir():
            raise NasreproError(f"{role} folder {folder} does not exist; {fix}")
    ref_files, new_files = table_files(reference), table_files(new)
    if not ref_files:
        raise NasreproError(f"reference folder {reference} holds no table CSV; write it with "
                            f"`make reference PROFILE=<profile>`")
    diffs: list[Difference] = []
    for name, ref_path in ref_files.items():
        if name not in new_files:
            diffs.append(Difference(name, "-", "-", "file present", "file missing"))
        else:
            diffs += compare_tables(name, ref_path, new_files[name])
    diffs += [Difference(name, "-", "-", "file absent", "new file")
              for name in new_files if name not in ref_files]
    return diffs


def cpu_label(device: dict[str, Any]) -> str:
    """``"<model> (<kernels>)"``, or ``"<model> (<kernels> on <native>)"`` when ``cpu_isa``
    capped the kernels below what the CPU has: ``AMD EPYC (AVX2 on AVX512)``; ``, portable``
    is added for runs under ``cpu_isa: portable`` (MKL COMPATIBLE, no oneDNN convolutions)."""
    model = device.get("cpu_model", device.get("processor", "?"))
    kernels, native = device.get("cpu_capability", "?"), device.get("cpu_native_isa")
    label = f"{kernels} on {native}" if native and native != kernels else f"{kernels}"
    if device.get("onednn_convs") is False and \
            (device.get("isa_env") or {}).get("MKL_CBWR") == "COMPATIBLE":
        label += ", portable"
    return f"{model} ({label})"


def _runs_summary(folder: Path) -> dict[str, Any]:
    """Commits, code state and machines of the runs whose per-paper provenance.json (written
    by ``nasrepro collect``) lie under ``folder``."""
    commits: set[str] = set()
    dirty_files: set[str] = set()
    cpus: set[str] = set()
    versions: dict[str, str] = {}
    n_runs = n_dirty = 0
    for prov_file in sorted(folder.glob("*/provenance.json")):
        prov = read_json(prov_file)
        commits.update(prov.get("git_commits", []))
        dirty_files.update(prov.get("dirty_code_files", []))
        n_dirty += prov.get("code_dirty_runs", 0)
        n_runs += prov.get("n_runs", 0)
        versions = versions or prov.get("versions", {})
        for run in prov.get("runs", []):
            cpus.add(cpu_label(run.get("device", {})))
    return {"git_commits": sorted(commits), "n_runs": n_runs, "code_dirty_runs": n_dirty,
            "dirty_code_files": sorted(dirty_files), "cpus": sorted(cpus), "versions": versions}


def _describe(summary: dict[str, Any]) -> str:
    if not summary.get("git_commits"):
        return "unknown (no provenance)"
    dirty = " [CODE DIRTY]" if summary.get("code_dirty_runs") else ""
    commits = summary["git_commits"]
    shown = f"commit {', '.join(commits)}" if len(commits) <= 2 else \
        f"{len(commits)} commits ({', '.join(commits[:2])}, ...)"
    return (f"{shown}{dirty} on "
            f"{'; '.join(summary.get('cpus', [])) or '?'}")


def verify(new: str | os.PathLike, reference: str | os.PathLike) -> bool:
    """Print every difference (and where each side was made); True when there is none."""
    new, reference = Path(new), Path(reference)
    diffs = compare(new, reference)
    ref_file = reference / REFERENCE_FILE
    ref_summary = read_json(ref_file) if ref_file.exists() else _runs_summary(reference)
    new_summary = _runs_summary(new)
    n_files = len(table_files(reference))
    print(f"reference {reference}: {_describe(ref_summary)}")
    print(f"new       {new}: {_describe(new_summary)}")
    if not diffs:
        print(f"verify: all {n_files} tables equal the reference "
              f"(tolerances: nasrepro/reporting/verify.py TOLERANCES)")
        return True
    print("file | row | column | reference | new")
    for d in diffs:
        print(d)
    files = len({d.file for d in diffs})
    print(f"verify: {len(diffs)} differences in {files} of {n_files} tables; if the change is "
          f"intended, rewrite the reference (`make reference PROFILE=<profile>`) and commit it")
    if ref_summary.get("cpus") and new_summary.get("cpus") and \
            ref_summary["cpus"] != new_summary["cpus"]:
        print("note: the reference was made on another CPU; `cpu_isa: portable` (the tiny "
              "profile) gives the same numbers on every x86 CPU with AVX2, but `cpu_isa: avx2` "
              "(the default profile) only on CPUs of the same vendor and cache layout: MKL "
              "takes another path on Intel than on AMD and oneDNN picks blockings by cache "
              "size (docs/reproducibility.md)")
    return False


def write_reference(new: str | os.PathLike, reference: str | os.PathLike, *,
                    csv_only: bool = False, command: str | None = None) -> Path:
    """Replace ``reference`` with the run's ``new`` paper folder (only its compared table CSVs
    when ``csv_only``) plus ``REFERENCE.json`` (commits, code state, CPUs, versions, command).
    """
    new, reference = Path(new), Path(reference)
    if not new.is_dir():
        raise NasreproError(f"run folder {new} does not exist; run the DAG first (`make "
                            f"reference` does) or give the run's paper/<profile> folder")
    files = table_files(new)
    if not files:
        raise NasreproError(f"{new} holds no table CSV; give the run's paper/<profile> folder")
    stage = reference.parent / f".{reference.name}.new"
    shutil.rmtree(stage, ignore_errors=True)
    if csv_only:
        for path in files.values():
            dest = stage / path.relative_to(new)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, dest)
    else:
        shutil.copytree(new, stage, ignore=shutil.ignore_patterns(".snakemake_timestamp"))
    summary = _runs_summary(new)
    write_json(stage / REFERENCE_FILE, {**summary, "command": command,
                                        "tables": sorted(files)})
    old = reference.parent / f".{reference.name}.old"
    shutil.rmtree(old, ignore_errors=True)
    if reference.exists():
        reference.rename(old)
    stage.rename(reference)
    shutil.rmtree(old, ignore_errors=True)
    print(f"reference {reference} written from {new}: {len(files)} tables; "
          f"{_describe(summary)}")
    if summary["code_dirty_runs"]:
        print(f"warning: {summary['code_dirty_runs']} runs were made from a dirty code tree "
              f"({', '.join(summary['dirty_code_files'][:8])}); commit the code and rerun "
              f"`make reference` before committing this reference", file=sys.stderr)
    return reference

