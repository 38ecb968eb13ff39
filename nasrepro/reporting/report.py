"""The reproduction report: ``paper/<profile>/REPORT.md`` from ``paper/report_template.md``.

Built by the ``report`` rule after every enabled paper's ``paper_<paper>`` rule has copied its
tables, figures, provenance and benchmarks into ``paper/<profile>/<paper>/``. Per paper it shows
the reproduced tables next to the published numbers (``paper/published.yaml``), the figures, the
verdicts of its claims, and the compute it took; at the top the claims table, the cross-paper
leaderboard, profile, seeds, hardware and wall time. Markdown only (renders on a code-hosting
site); the LaTeX twins of every table sit beside it.
"""

from __future__ import annotations

import math
import os
import platform
import shutil
from collections import Counter
from pathlib import Path
from string import Template

import pandas as pd
import yaml

from nasrepro.config import describe_seeds
from nasrepro.errors import ConfigError
from nasrepro.io import atomic_path, read_json, write_text

TITLES = {"spos": "SPOS", "darts_snas": "SNAS vs DARTS", "attentivenas": "AttentiveNAS",
          "fbnetv3": "FBNetV3"}
#: tables that are data for other steps, not shown in the report
DATA_TABLES = ("_measurements", "_leaderboard")


def _md_table(df: pd.DataFrame) -> str:
    return df.to_markdown(index=False, disable_numparse=True, missingval="-")


def _published(published: dict, paper: str) -> str:
    entry = published.get(paper)
    if not entry:
        return ""
    out = []
    for t in entry.get("tables", []):
        df = pd.DataFrame(t["rows"], columns=entry["columns"]).astype(object)
        df = df.where(pd.notna(df), None)
        out.append(f"*Published: {t['caption']}*\n\n{_md_table(df)}")
    return "\n\n".join(out)


def _claims_view(claims: pd.DataFrame) -> pd.DataFrame:
    from nasrepro.reporting.claims import claims_view

    return claims_view(claims)


def _compute(paper_dir: Path) -> float:
    bench = paper_dir / "benchmarks.csv"
    if not bench.exists():
        return math.nan
    df = pd.read_csv(bench)
    return float(df["job_seconds_total"].sum()) if len(df) else 0.0


def _paper_section(paper: str, paper_dir: Path, published: dict, claims: pd.DataFrame) -> str:
    head = f"## {published.get(paper, {}).get('title', TITLES.get(paper, paper))}"
    if not paper_dir.exists():
        return f"{head}\n\nNot run in this profile."
    parts = [head]
    secs = _compute(paper_dir)
    if math.isfinite(secs):
        parts.append(f"Compute: {secs:,.0f} job-seconds (sum of the Snakemake benchmarks of "
                     f"its jobs, `{paper}/benchmarks.csv`).")
    mine = claims[claims["paper"] == paper]
    if len(mine):
        parts.append("**Claims**\n\n" + _md_table(_claims_view(mine)))
    for md in sorted((paper_dir / "tables").glob(f"{paper}_*.md")):
        if any(md.stem.endswith(s) for s in DATA_TABLES):
            continue
        parts.append(f"**Reproduced: `{md.stem}`** ([csv]({paper}/tables/{md.stem}.csv), "
                     f"[tex]({paper}/tables/{md.stem}.tex))\n\n{md.read_text().strip()}")
    pub = _published(published, paper)
    if pub:
        parts.append(pub)
    for png in sorted((paper_dir / "figures").glob(f"{paper}_*.png")):
        parts.append(f"![{png.stem}]({paper}/figures/{png.name})\n\n*{png.stem}* "
                     f"([pdf]({paper}/figures/{png.stem}.pdf))")
    return "\n\n".join(parts)


def _hardware(prov: list[dict]) -> str:
    devices = sorted({d for p in prov for d in p.get("devices", [])})
    versions = next((p["versions"] for p in prov if p.get("versions")), {})
    torch_v = versions.get("torch", "?")
    return (f"runs on {', '.join(devices) or '?'} (torch {torch_v}); report built on "
            f"{platform.machine()} with {os.cpu_count()} CPU cores")


def _provenance(prov: list[dict]) -> tuple[str, str]:
    """The commits that produced the numbers (each with its number of runs) and a loud warning
    when any run was made from a dirty code tree, from the per-paper ``provenance.json``."""
    runs: Counter[str] = Counter()
    for p in prov:
        if "git_commit_runs" in p:
            runs.update(p["git_commit_runs"])
        else:  # provenance collected before git_commit_runs existed: count its run records
            runs.update(r["git_commit"] for r in p.get("runs", []) if r.get("git_commit"))
    commits = sorted({c for p in prov for c in p.get("git_commits", [])})
    if not commits:
        return "-", ""
    cells = [f"`{c}` ({runs[c]} run{'s' * (runs[c] != 1)})" if runs.get(c)
             else f"`{c}` (data split)"
             for c in commits]
    text = ", ".join(cells)
    if len({c.removesuffix("-dirty") for c in commits}) > 1:
        text = f"**{len(commits)} commits**: {text}"
    # runs from a dirty tree: code_dirty_runs, or (older provenance) the commit's -dirty suffix
    n_dirty = sum(p["code_dirty_runs"] if "code_dirty_runs" in p else
                  sum(1 for r in p.get("runs", []) if str(r.get("git_commit")).endswith("-dirty"))
                  for p in prov)
    warning = ""
    if n_dirty or any(c.endswith("-dirty") for c in commits):
        files = sorted({f for p in prov for f in p.get("dirty_code_files", [])})
        shown = ", ".join(f"`{f}`" for f in files[:20]) + (" ..." if len(files) > 20 else "")
        warning = (f"> **Warning: made from a dirty code tree.** {n_dirty} run(s) ran code that "
                   f"differs from its commit (changed: {shown or '?'}), so no commit reproduces "
                   f"these numbers exactly. Commit the code and rerun.\n\n")
    return text, warning


def build_report(config: dict, out_dir: str | Path, template: str | Path,
                 published_file: str | Path, tables_dir: str | Path) -> Path:
    """Write ``out_dir/REPORT.md`` and ``out_dir/checklist.md`` and copy claims/leaderboard
    tables beside them.

    Args:
        config: the resolved profile config.
        out_dir: ``paper/<profile>`` (holds the per-paper folders of the paper_<paper> rules).
        template: ``paper/report_template.md`` (``string.Template`` placeholders).
        published_file: ``paper/published.yaml``.
        tables_dir: ``results/<profile>/tables`` (claims.* and leaderboard.*).
    """
    from nasrepro.reporting.checklist import build_checklist, checklist_markdown, write_checklist
    from nasrepro.reporting.claims import family_summary

    out_dir, tables_dir = Path(out_dir), Path(tables_dir)
    needed = [Path(template), Path(published_file)] + [
        tables_dir / f"{name}.{ext}" for name in ("claims", "leaderboard")
        for ext in ("csv", "md", "tex")]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise ConfigError(f"the report needs {', '.join(missing)}; run `snakemake paper` (it "
                          f"builds the claims and the leaderboard first) or fix the paths")
    for name in ("claims", "leaderboard"):
        for ext in ("csv", "md", "tex"):
            src = tables_dir / f"{name}.{ext}"
            with atomic_path(out_dir / src.name) as tmp:
                shutil.copyfile(src, tmp)
    claims = pd.read_csv(tables_dir / "claims.csv")
    board = pd.read_csv(tables_dir / "leaderboard.csv")
    published = yaml.safe_load(Path(published_file).read_text()) or {}
    papers = list(config["papers"])
    prov = [read_json(out_dir / p / "provenance.json") for p in papers
            if (out_dir / p / "provenance.json").exists()]
    secs = {p: _compute(out_dir / p) for p in papers}
    total = sum(v for v in secs.values() if math.isfinite(v))
    compute = ", ".join(f"{TITLES.get(p, p)} {v:,.0f} s" for p, v in secs.items()
                        if math.isfinite(v))
    commits, code_warning = _provenance(prov)
    shown_board = board.drop(columns=[c for c in ("arch_json", "run_dirs") if c in board])
    text = Template(Path(template).read_text()).substitute(
        profile=config["profile"],
        dataset=config["data"]["dataset"],
        seeds=describe_seeds(config),
        papers=", ".join(TITLES.get(p, p) for p in papers),
        hardware=_hardware(prov),
        compute=f"sum of job wall times {total:,.0f} s ({total / 3600:.2f} core-hours): {compute}",
        commits=commits,
        code_warning=code_warning,
        claims=_md_table(_claims_view(claims)) + "\n\n" + family_summary(
            claims, str((config.get("claims") or {}).get("fdr", "none"))),
        checklist=checklist_markdown(build_checklist(config, out_dir, claims)),
        leaderboard=_md_table(shown_board) if len(shown_board) else "No searched arch yet.",
        paper_sections="\n\n".join(
            _paper_section(p, out_dir / p, published, claims) for p in papers),
    )
    write_checklist(config, out_dir, claims)
    path = out_dir / "REPORT.md"
    write_text(path, text.rstrip() + "\n")
    return path
