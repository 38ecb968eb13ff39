"""Collect a profile's tables, figures and provenance into ``paper/<profile>/<paper>/``.

The committed reference results of the default profile live there: the tables (CSV, Markdown,
LaTeX) and figures (PDF, PNG) exactly as the pipeline wrote them, ``provenance.json`` (the
resolved config, every run's provenance record, the git commits with their number of runs and
whether the code was dirty, versions, devices, wall times) and ``benchmarks.csv`` (Snakemake's
per-job wall times, summed per rule).
"""

from __future__ import annotations

import shutil
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

from nasrepro.config import profile_dir
from nasrepro.errors import MissingInputError
from nasrepro.io import atomic_path, read_json, write_json
from nasrepro.paths import data_table_path, output_path
from nasrepro.reporting.tables import DATA_TABLES


def benchmark_rule(rel: Path) -> str:
    """The rule of a benchmark file (relative to ``results/<profile>/benchmarks``), as
    ``<paper>/<stage>`` for ``<paper>/<stage>/<cell>/seed<s>.tsv`` (rule ``<paper>_<stage>``),
    ``<paper>/<name>`` for ``<paper>/<name>.tsv`` (a study, tables, figures), else the stem."""
    return "/".join(Path(rel).with_suffix("").parts[:2])


def collect_paper(config: dict, paper: str, out_dir: str | Path) -> None:
    """Copy the paper's tables/figures (``results/<profile>/<paper>/{tables,figures}``) and its
    measurements/leaderboard CSVs into ``out_dir``/{tables,figures}; summarise provenance.

    Raises:
        MissingInputError: the paper's tables (``<paper>_measurements.csv``) are not there;
            nothing is written.
    """
    src = profile_dir(config)
    out_dir = Path(out_dir)
    data = [src / data_table_path(paper, name) for name in DATA_TABLES]
    for f in data:
        if not f.exists():
            raise MissingInputError(
                f"{f} is missing: nothing to collect for {paper}; run `snakemake {paper} "
                f"--config profile={config['profile']}` first (rule tables makes it)")
    copies = [(f, out_dir / "tables" / f.name) for f in data]
    for kind in ("tables", "figures"):
        folder = src / output_path(paper, kind)
        copies += [(f, out_dir / kind / f.name) for f in sorted(folder.glob(f"{paper}_*"))]
    for f, dest in copies:
        with atomic_path(dest) as tmp:
            shutil.copyfile(f, tmp)
    runs = []
    for prov_file in sorted((src / paper).rglob("provenance.json")):
        prov = read_json(prov_file)
        prov["run_dir"] = str(prov_file.parent.relative_to(src))
        runs.append(prov)
    data_prov = sorted((src / "data").rglob("provenance.json"))
    data = read_json(data_prov[0]) if data_prov else None
    checksums = sorted({r["dataset_checksum"] for r in runs if r.get("dataset_checksum")})
    fed = runs + ([data] if data else [])  # every run dir whose output feeds the tables
    commit_runs = Counter(r.get("git_commit", "unknown") for r in runs)
    dirty = [r for r in fed if r.get("code_dirty") or str(r.get("git_commit")).endswith("-dirty")]
    write_json(out_dir / "provenance.json", {
        "profile": config["profile"],
        "paper": paper,
        "config": config,
        "git_commits": sorted({r.get("git_commit", "unknown") for r in fed}),
        "git_commit_runs": dict(sorted(commit_runs.items())),  # paper runs per commit
        "code_dirty_runs": sum(1 for r in dirty if r is not data),  # paper runs
        "dirty_code_files": sorted({f for r in dirty for f in r.get("dirty_code_files", [])}),
        "versions": runs[0]["versions"] if runs else {},
        "devices": sorted({r["device"]["device"] for r in runs}),
        "dataset_checksums": checksums,
        "data": data,
        "n_runs": len(runs),
        "sum_run_wall_time_s": round(sum(r["wall_time_s"] for r in runs), 1),
        "runs": runs,
    })
    per_rule: dict[str, list[float]] = defaultdict(list)
    bench = src / "benchmarks"
    for tsv in sorted(bench.rglob("*.tsv")):
        rel = tsv.relative_to(bench)
        if rel.parts[0] not in (paper, "data.tsv"):
            continue
        per_rule[benchmark_rule(rel)].append(float(pd.read_csv(tsv, sep="\t")["s"].iloc[0]))
    df = pd.DataFrame([{"rule": k, "jobs": len(v), "job_seconds_total": round(sum(v), 1),
                        "job_seconds_mean": round(sum(v) / len(v), 1)}
                       for k, v in sorted(per_rule.items())])
    with atomic_path(out_dir / "benchmarks.csv") as tmp:
        df.to_csv(tmp, index=False)
