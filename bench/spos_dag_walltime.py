"""SPOS: wall time of the default-profile DAG, from Snakemake's `benchmark:` files.

Every rule writes a benchmark TSV (results/<profile>/benchmarks/...). This sums the job
seconds per rule (bench/job_seconds.py) and, when `--run` is given, first runs `snakemake spos`
and reports the elapsed wall time too.

Usage: python bench/spos_dag_walltime.py [--profile default] [--run]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from job_seconds import rule_seconds  # bench/job_seconds.py (this script's folder)

REPO = Path(__file__).resolve().parent.parent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default")
    ap.add_argument("--cores", default="2")
    ap.add_argument("--run", action="store_true", help="run the DAG first and time it")
    args = ap.parse_args()
    if args.run:
        start = time.perf_counter()
        subprocess.run([sys.executable, "-m", "snakemake", "spos", "--cores", args.cores,
                        "--config", f"profile={args.profile}"], cwd=REPO, check=True)
        print(f"DAG wall time: {time.perf_counter() - start:.0f} s")
    bench_dir = REPO / "results" / args.profile / "benchmarks"
    if not bench_dir.exists():
        sys.exit(f"error: {bench_dir} does not exist; run the DAG first (or pass --run)")
    rules = rule_seconds(REPO / "results" / args.profile)  # one reading of the TSVs
    print(f"{'rule':34s} {'jobs':>5s} {'job s total':>12s} {'job s mean':>11s}")
    for row in rules.itertuples():
        print(f"{row.rule:34s} {row.jobs:5d} {row.job_seconds:12.1f} "
              f"{row.job_seconds / row.jobs:11.1f}")
    print(f"{'all jobs (CPU-serial sum)':34s} {'':5s} {rules['job_seconds'].sum():12.1f}")


if __name__ == "__main__":
    main()
