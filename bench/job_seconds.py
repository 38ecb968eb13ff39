"""Where a finished run spent its job-seconds: per paper and rule (Snakemake `benchmark:`
files) and per claim (the run directories each claim reads, with everything upstream of them).

Per paper/rule: the ``s`` column of every ``results/<profile>/benchmarks/**/*.tsv``.
Per claim: the ``run_dirs`` of ``tables/claims.csv`` plus, recursively, every result directory
named in the ``command`` of their ``provenance.json`` (a retrain names its search's
``best.json``, a search its supernet, ...), each directory counted once per claim with its
provenance ``wall_time_s``. Jobs shared by several claims (a supernet feeding S1 and S2) count
for each of them, so the per-claim column does not add up to the total. The issue-12 view:
``seconds per decisive verdict`` shows where the budget buys verdicts.

Usage: python bench/job_seconds.py [--results results/default] [--csv out.csv]
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections import defaultdict
from pathlib import Path

import pandas as pd

from nasrepro.config import PAPERS
from nasrepro.reporting.collect import benchmark_rule

REPO = Path(__file__).resolve().parent.parent


def rule_seconds(results: Path) -> pd.DataFrame:
    """``paper, rule, jobs, job_seconds`` from the benchmark TSVs under ``results/benchmarks``."""
    rows = []
    for tsv in sorted((results / "benchmarks").rglob("*.tsv")):
        rel = tsv.relative_to(results / "benchmarks")
        paper = rel.parts[0] if rel.parts[0] in PAPERS else "shared"
        rule = benchmark_rule(rel)
        s = pd.read_csv(tsv, sep="\t")["s"].sum()
        rows.append({"paper": paper, "rule": rule, "job_seconds": float(s)})
    if not rows:
        raise SystemExit(f"error: no benchmark files under {results / 'benchmarks'}; run the "
                         "DAG first (make reproduce)")
    df = pd.DataFrame(rows)
    return (df.groupby(["paper", "rule"], as_index=False)
            .agg(jobs=("job_seconds", "size"), job_seconds=("job_seconds", "sum")))


def _provenance_dir(results: Path, path: Path) -> Path | None:
    """The result directory holding ``path`` (the nearest one with a provenance.json)."""
    try:
        path.relative_to(results)
    except ValueError:
        return None
    for d in (path, *path.parents):
        if d == results.parent:
            return None
        if (d / "provenance.json").is_file():
            return d
    return None


def upstream_closure(results: Path, run_dirs: list[str]) -> dict[Path, float]:
    """Every result directory the given run dirs depend on (themselves included) with its
    provenance wall time; dependencies are the result paths in each provenance command."""
    pattern = re.compile(re.escape(str(results)) + r"/[^\s\"',;]+")
    seen: dict[Path, float] = {}
    todo = [results / d for d in run_dirs]
    while todo:
        d = _provenance_dir(results, todo.pop())
        if d is None or d in seen:
            continue
        prov = json.loads((d / "provenance.json").read_text())
        seen[d] = float(prov.get("wall_time_s") or 0.0)
        todo += [Path(m) for m in pattern.findall(str(prov.get("command", "")))]
    return seen


def claim_seconds(results: Path) -> pd.DataFrame:
    """``id, verdict, run_dirs, job_seconds`` per claim (upstream jobs included)."""
    claims = pd.read_csv(results / "tables" / "claims.csv")
    rows = []
    for _, c in claims.iterrows():
        dirs = [d for d in str(c.get("run_dirs", "") or "").split(";") if d and d != "nan"]
        closure = upstream_closure(results.resolve(), dirs)
        rows.append({"id": c["id"], "verdict": c["verdict"], "n": c.get("n"),
                     "run_dirs": len(closure), "job_seconds": round(sum(closure.values()), 1)})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, default=REPO / "results" / "default",
                    help="a finished run's results/<profile> folder")
    ap.add_argument("--csv", type=Path, help="also write the per-claim table here")
    args = ap.parse_args()
    results = args.results.resolve()
    rules = rule_seconds(results)
    total = rules["job_seconds"].sum()
    per_paper = rules.groupby("paper")["job_seconds"].agg(["sum", "size"])
    print(f"{results}: {int(rules['jobs'].sum())} jobs, {total:.0f} job-seconds "
          f"({total / 3600:.2f} job-hours)\n")
    print("per paper:")
    for paper, r in per_paper.sort_values("sum", ascending=False).iterrows():
        print(f"  {paper:<13} {r['sum']:8.0f} s  {100 * r['sum'] / total:5.1f} %")
    print("\nper rule:")
    print(rules.sort_values("job_seconds", ascending=False).to_string(index=False))
    if (results / "tables" / "claims.csv").is_file():
        per_claim = claim_seconds(results)
        print("\nper claim (run dirs read + everything upstream; shared jobs count for each):")
        print(per_claim.to_string(index=False))
        decisive = per_claim["verdict"].isin(["reproduced", "not reproduced"])
        by_verdict = defaultdict(float)
        for _, r in per_claim.iterrows():
            by_verdict[r["verdict"]] += r["job_seconds"]
        print("\njob-seconds behind each verdict kind: "
              + ", ".join(f"{k} {v:.0f} s" for k, v in sorted(by_verdict.items()))
              + f"; decisive verdicts: {int(decisive.sum())}")
        if args.csv:
            per_claim.to_csv(args.csv, index=False)
    else:
        print("\n(no tables/claims.csv yet: per-claim seconds skipped)", file=sys.stderr)


if __name__ == "__main__":
    main()
