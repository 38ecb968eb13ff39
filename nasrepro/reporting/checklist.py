"""The NAS best-practices checklist, filled from what a run left behind (issue 10, item 6).

Items follow Lindauer & Hutter (2020), "Best Practices for Scientific Research on Neural
Architecture Search" (JMLR 21(243)), and the AutoML-Conf reproducibility checklist. Each gets
the evidence this run has: code and data checksums, seeds, hardware, wall times per rule,
same-budget random baselines, number of repeats, hyperparameter tuning, raw results location,
statistical power of the claims. An item without evidence says "not done". Written as
``paper/<profile>/checklist.md`` by the ``report`` rule (part of ``snakemake paper``) and shown in
REPORT.md. Reads only ``paper/<profile>/<paper>/{provenance.json,benchmarks.csv,figures/}``, the
config and the claims table.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from nasrepro.config import describe_seeds, methods_of
from nasrepro.io import read_json, write_text

DONE, PARTLY, NOT_DONE, NA = "done", "partly", "not done", "n/a"

#: per paper: (kind of its methods, the same-budget random baseline of that kind, label)
RANDOM_BASELINES = {
    "spos": ("searcher", "random", "random search on the same supernet, same number of "
                                   "evaluated candidates (S1)"),
    "darts_snas": ("searcher", "random-cell", "random cell retrained with the same protocol"),
    "attentivenas": ("sampler", "uniform", "uniform (sandwich) sampling, same training budget"),
}
#: per paper: figures that show performance over time (anytime curves)
CURVES = {"spos": "spos_search_curve", "darts_snas": "darts_snas_search_curves",
          "fbnetv3": "fbnetv3_search"}


def _prov(paper_dir: Path, paper: str) -> dict:
    f = paper_dir / paper / "provenance.json"
    return read_json(f) if f.exists() else {}


def _bench(paper_dir: Path, paper: str) -> pd.DataFrame:
    f = paper_dir / paper / "benchmarks.csv"
    return pd.read_csv(f) if f.exists() else pd.DataFrame(
        columns=["rule", "jobs", "job_seconds_total", "job_seconds_mean"])


def _item(section: str, item: str, status: str, evidence: str) -> dict:
    return {"section": section, "item": item, "status": status, "evidence": evidence}


def build_checklist(config: dict, paper_dir: str | Path, claims: pd.DataFrame) -> pd.DataFrame:
    """One row per checklist item: ``section, item, status, evidence``.

    Args:
        config: the resolved profile config.
        paper_dir: ``paper/<profile>`` (the per-paper folders of the paper_<paper> rules).
        claims: the claims table (``claims.csv``).
    """
    paper_dir = Path(paper_dir)
    papers = list(config["papers"])
    prov = {p: _prov(paper_dir, p) for p in papers}
    have = [p for p in papers if prov[p]]
    commits = sorted({c for p in have for c in prov[p].get("git_commits", [])})
    dirty = [c for c in commits if c.endswith("-dirty")] or \
        [p for p in have if prov[p].get("code_dirty_runs")]
    checks = sorted({c for p in have for c in prov[p].get("dataset_checksums", [])})
    devices = sorted({d for p in have for d in prov[p].get("devices", [])})
    versions = next((prov[p]["versions"] for p in have if prov[p].get("versions")), {})
    runs = sum(int(prov[p].get("n_runs", 0)) for p in have)
    seeds = list(config["seeds"])
    rows = []
    s = "Releasing code (L&H 2020, sec. 2)"
    rows.append(_item(s, "Code of the training/evaluation pipeline and the NAS methods",
                      (PARTLY if dirty else DONE) if commits else NOT_DONE,
                      (f"git commit(s) {', '.join(f'`{c[:12]}`' for c in commits)}"
                       + (" - **dirty tree**: uncommitted code ran" if dirty else ""))
                      if commits else "no provenance.json with a git commit"))
    rows.append(_item(s, "Search spaces", DONE,
                      "; ".join(f"{p}: `{config[p].get('preset') or config[p].get('search_space')}`"
                                for p in papers if isinstance(config.get(p), dict)
                                and (config[p].get("preset") or config[p].get("search_space")))
                      or "nasrepro/spaces"))
    rows.append(_item(s, "Hyperparameters of search and final evaluation, random seeds",
                      DONE if have else NOT_DONE,
                      f"resolved config in every run's config.resolved.yaml and in "
                      f"<paper>/provenance.json; seeds {seeds}" if have else "no provenance"))
    s = "Comparing NAS methods (L&H 2020, sec. 3)"
    rows.append(_item(s, "Same search space, training pipeline and evaluation protocol for all "
                         "compared methods", DONE,
                      "one training loop (nasrepro.training) and one space per paper; methods "
                      "differ only in their sampler/searcher/relaxation"))
    base = []
    for p in papers:
        kind, name, what = RANDOM_BASELINES.get(p, (None, None, None))
        methods = methods_of(config, p, kind) if kind and p in config else []
        if name and name in methods:
            base.append(f"{p}: {what}")
        elif p == "fbnetv3":
            base.append("fbnetv3: arch-only search and the default recipe at the same budget "
                        "(no random-search baseline)")
        elif name:
            base.append(f"{p}: `{name}` not in {p}.methods.{kind}")
    rows.append(_item(s, "Random-search / random-sampling baseline at the same budget",
                      DONE if base and all("not in" not in b and "no random" not in b
                                           for b in base) else PARTLY if base else NOT_DONE,
                      "; ".join(base) or "none"))
    rows.append(_item(s, "Same computational budget for compared methods", PARTLY,
                      "same epochs/evaluations per method by config; wall times differ by "
                      "method (see the per-rule times below)"))
    n_claims = int(claims["n"].max()) if len(claims) else 0
    rows.append(_item(s, "Repeated runs with different seeds", DONE if len(seeds) >= 3
                      else PARTLY,
                      f"{len(seeds)} seeds {seeds}; per stage: {describe_seeds(config)}; "
                      f"claims use up to n = {n_claims} "
                      f"independent replicates; {runs} runs in total"))
    curves = [f"{p}: `{CURVES[p]}`" for p in papers if p in CURVES and
              (paper_dir / p / "figures" / f"{CURVES[p]}.png").exists()]
    rows.append(_item(s, "Performance over time (anytime curves)",
                      DONE if curves else NOT_DONE, "; ".join(curves) or "no search curve"))
    rows.append(_item(s, "Ablations of the methods' components", DONE,
                      "claims S3 (channel search), D3/D4 (penalty levels), A1/A2 (samplers), "
                      "F3 (predictor pretraining), F5 (joint vs arch-only)"))
    rows.append(_item(s, "Tabular or surrogate benchmarks", NA,
                      "every architecture is trained and evaluated"))
    s = "Reporting details (L&H 2020, sec. 4; AutoML-Conf checklist)"
    rows.append(_item(s, "How hyperparameters were tuned and what that cost", NOT_DONE,
                      "no tuning: values from the papers and official code, scaled to the "
                      "profile (config comments); no HPO budget to report"))
    lines = []
    for p in papers:
        b = _bench(paper_dir, p)
        if len(b):
            top = b.sort_values("job_seconds_total", ascending=False).head(3)
            lines.append(f"{p} {b['job_seconds_total'].sum():,.0f} s (" + ", ".join(
                f"{r.rule} {r.job_seconds_total:,.0f} s" for r in top.itertuples()) + ")")
    rows.append(_item(s, "Wall time of the whole pipeline, per rule",
                      DONE if lines else NOT_DONE,
                      "; ".join(lines) + "; all rules: <paper>/benchmarks.csv" if lines
                      else "no benchmarks.csv"))
    rows.append(_item(s, "Compute resources (hardware, software versions)",
                      DONE if devices else NOT_DONE,
                      f"devices {', '.join(devices)}; torch {versions.get('torch', '?')}, python "
                      f"{versions.get('python', '?')}" if devices else "no provenance"))
    rows.append(_item(s, "Data: source and checksum", DONE if checks else NOT_DONE,
                      f"dataset `{config['data']['dataset']}`, sha256 "
                      + ", ".join(f"`{c[:16]}...`" for c in checks) if checks
                      else "no dataset checksum recorded"))
    rows.append(_item(s, "Raw results and where each number comes from", DONE,
                      f"`{config['results_dir']}/{config['profile']}/` (run directories with "
                      f"metrics, logs, provenance); every table's CSV has a `run_dirs` column, "
                      f"claims.csv too"))
    if len(claims):
        v = claims["verdict"].value_counts()
        under = claims[claims["verdict"] == "underpowered"]
        need = [f"{r.id} {int(r.seeds_needed)}" for r in under.itertuples()
                if isinstance(r.seeds_needed, float) and math.isfinite(r.seeds_needed)]
        ev = (", ".join(f"{k} {n}" for k, n in v.items()) + "; effect, 95% CI, one-sided p, "
              "SESOI and MDE per claim (claims.csv)")
        if need:
            ev += "; seeds needed for 80% power: " + ", ".join(need)
        status = DONE if v.get("underpowered", 0) == 0 else PARTLY
    else:
        ev, status = "no claims table", NOT_DONE
    rows.append(_item(s, "Uncertainty, significance and power of every claim", status, ev))
    rows.append(_item(s, "Instructions to reproduce", DONE,
                      "`make reproduce` (snakemake --cores all); `snakemake paper` rebuilds "
                      "tables, figures, claims and this checklist"))
    return pd.DataFrame(rows)


def checklist_markdown(df: pd.DataFrame) -> str:
    """The checklist as Markdown sections with one table each."""
    parts = []
    for section, sub in df.groupby("section", sort=False):
        table = sub[["item", "status", "evidence"]].to_markdown(index=False)
        parts.append(f"### {section}\n\n{table}")
    return "\n\n".join(parts)


def write_checklist(config: dict, paper_dir: str | Path, claims: pd.DataFrame) -> Path:
    """Write ``paper/<profile>/checklist.md``; returns its path."""
    df = build_checklist(config, paper_dir, claims)
    path = Path(paper_dir) / "checklist.md"
    write_text(path, f"# NAS best-practices checklist — profile `{config['profile']}`\n\n"
               "Filled automatically from this run (Lindauer & Hutter 2020, *Best Practices "
               "for Scientific Research on Neural Architecture Search*; AutoML-Conf "
               "reproducibility checklist). Status: done / partly / not done / n/a.\n\n"
               + checklist_markdown(df) + "\n")
    return path
