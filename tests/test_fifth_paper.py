"""Adding a paper: the toy fifth paper of tests/toy_paper/ joins a copy of the repository in
three places and runs through the whole pipeline (its jobs, tables, figures, the paper/ copy,
claims, leaderboard and report) with no other change (issue 14; README "Add a paper")."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from tests.conftest import REPO

TOY = REPO / "tests" / "toy_paper"


def _tree(root: Path) -> dict[str, str]:
    """path -> sha256 of every file (no .git)."""
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in root.rglob("*") if p.is_file() and ".git" not in p.parts}


def _copy_repository(dest: Path) -> None:
    """The working tree's tracked and not-ignored files (no results, no caches)."""
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                            cwd=REPO, capture_output=True, check=True).stdout.decode()
    for rel in filter(None, listed.split("\0")):
        if (REPO / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO / rel, dest / rel)


def _add_toy_paper(repo: Path) -> None:
    """What docs/extending.md "Adding a paper" asks, for the toy paper."""
    # 1. the paper's package (its grid makes its stage rules; no rules file: it has no study)
    for src in TOY.rglob("*"):
        if src.is_file() and "__pycache__" not in src.parts:
            dest = repo / src.relative_to(TOY)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
    # 2. its name in PAPERS
    config_py = repo / "nasrepro" / "config.py"
    text = config_py.read_text()
    old = 'PAPERS = ("spos", "darts_snas", "attentivenas", "fbnetv3")'
    assert old in text
    config_py.write_text(text.replace(old, old[:-1] + ', "toy_paper")'))
    # 3. the config schema: the papers enum and the paper's section
    schema = repo / "workflow" / "schemas" / "config.schema.yaml"
    text = schema.read_text()
    old = "    items: {type: string, enum: [spos, darts_snas, attentivenas, fbnetv3]}\n"
    assert old in text
    text = text.replace(old, old.replace("fbnetv3]", "fbnetv3, toy_paper]"))
    old = "  papers:\n"
    schema.write_text(text.replace(old, "  toy_paper: {type: object, default: {}, description: "
                                        '"the toy fifth paper (tests)"}\n' + old, 1))


def _places(before: dict[str, str], after: dict[str, str]) -> set[str]:
    """Changed files, and new files grouped by the new folder they are in."""
    places = {p for p in before if after.get(p) != before[p]}
    for p in set(after) - set(before):
        parts = Path(p).parts
        new_dir = next((Path(*parts[:i]) for i in range(1, len(parts))
                        if not any(q.startswith(str(Path(*parts[:i])) + "/") for q in before)),
                       None)
        places.add(f"{new_dir}/" if new_dir else p)
    return places


def test_a_fifth_paper_touches_three_places_and_runs_end_to_end(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    _copy_repository(repo)
    before = _tree(repo)
    _add_toy_paper(repo)
    assert _places(before, _tree(repo)) == {
        "nasrepro/config.py", "workflow/schemas/config.schema.yaml",
        "nasrepro/papers/toy_paper/"}

    results, paper = tmp_path / "results", tmp_path / "paper"
    env = dict(os.environ, NASREPRO_OFFLINE="1", PYTHONPATH=str(repo))
    proc = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", "--nolock", "--quiet", "rules",
         "--config", "profile=tiny", "papers=[toy_paper]", "progress=false",
         f"results_dir={results}", f"paper_dir={paper}"],
        cwd=repo, env=env, capture_output=True, text=True, timeout=900)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]

    table = pd.read_csv(results / "tiny" / "toy_paper" / "tables" / "toy_paper_values.csv")
    assert list(table["cell"]) == ["a", "b"] and (table["n"] == 2).all()  # tiny: seeds [0, 1]
    measurements = pd.read_csv(results / "tiny" / "tables" / "toy_paper_measurements.csv")
    assert len(measurements) == 4 and measurements["value"].between(0, 1.5).all()
    assert (paper / "tiny" / "toy_paper" / "figures" / "toy_paper_values.png").exists()
    assert (paper / "tiny" / "toy_paper" / "provenance.json").exists()
    claims = pd.read_csv(paper / "tiny" / "claims.csv")
    assert set(claims["verdict"]) == {"not run"}  # the four papers are not enabled
    report = (paper / "tiny" / "REPORT.md").read_text()
    assert "toy_paper" in report and "toy_paper_values" in report
