"""The NAS best-practices checklist and the report's claims section, rebuilt from the committed
default results (no pipeline run)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd

from nasrepro.config import load_config
from nasrepro.reporting.checklist import DONE, NOT_DONE, build_checklist
from nasrepro.reporting.claims import write_claims
from nasrepro.reporting.report import build_report

REPO = Path(__file__).resolve().parent.parent


def test_checklist_items_carry_evidence_or_say_not_done(tmp_path: Path) -> None:
    config = load_config("default")
    claims = pd.read_csv(REPO / "paper" / "default" / "claims.csv")
    df = build_checklist(config, REPO / "paper" / "default", claims)
    assert set(df["status"]) <= {"done", "partly", "not done", "n/a"}
    assert (df["evidence"].str.len() > 0).all()
    by_item = df.set_index("item")
    assert "sha256" in by_item.loc["Data: source and checksum", "evidence"]
    assert by_item.loc["Wall time of the whole pipeline, per rule", "status"] == DONE
    assert "[0, 1, 2]" in by_item.loc["Repeated runs with different seeds", "evidence"]
    empty = build_checklist(config, tmp_path, claims.iloc[0:0])
    assert empty.set_index("item").loc["Data: source and checksum", "status"] == NOT_DONE


def test_report_shows_the_new_claims_columns_and_the_checklist(tmp_path: Path) -> None:
    config = load_config("default")
    paper = tmp_path / "paper"
    shutil.copytree(REPO / "paper" / "default", paper)
    tables = tmp_path / "tables"
    tables.mkdir()
    for f in paper.glob("*/tables/*_measurements.csv"):
        shutil.copy(f, tables / f.name)
    for f in paper.glob("leaderboard.*"):
        shutil.copy(f, tables / f.name)
    write_claims(config, REPO / "paper" / "claims.yaml", tables, tables_dir=tables)
    build_report(config, paper, REPO / "paper" / "report_template.md",
                 REPO / "paper" / "published.yaml", tables)
    report = (paper / "REPORT.md").read_text()
    for text in ("SESOI", "MDE", "seeds needed", "guard", "**underpowered**",
                 "**not testable**", "chance alone would give", "## NAS best-practices checklist"):
        assert text in report, text
    assert (paper / "checklist.md").read_text().startswith("# NAS best-practices checklist")
