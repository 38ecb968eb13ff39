"""The cross-paper leaderboard: every searched (and reference) arch of every method, per space.

Each paper's table step writes ``results/<profile>/tables/<paper>_leaderboard.csv`` with the
columns of :data:`COLUMNS`; this module stacks them into ``leaderboard.{csv,md,tex}`` sorted by
space, then accuracy. The CSV keeps ``arch`` (JSON) and ``run_dirs`` (provenance of every row);
the Markdown and LaTeX views show the numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from nasrepro.reporting.tables import fmt_mean_std, write_table

COLUMNS = ["paper", "method", "space", "arch_id", "arch", "macs", "params", "acc_mean",
           "acc_std", "n", "search_cost_h", "run_dirs"]


def build_leaderboard(tables_dir: str | Path, papers: Sequence[str]) -> pd.DataFrame:
    """Stack the papers' leaderboard CSVs (missing ones are skipped) into one table."""
    frames = []
    for paper in papers:
        path = Path(tables_dir) / f"{paper}_leaderboard.csv"
        if path.exists():
            df = pd.read_csv(path)
            if not df.empty:
                frames.append(df.reindex(columns=COLUMNS))
    if not frames:
        return pd.DataFrame(columns=["space", "paper", "method", "arch_id", "macs_m", "params_m",
                                     "top1", "n", "search_cost_h", "arch_json", "run_dirs"])
    df = pd.concat(frames, ignore_index=True)
    df = df.sort_values(["space", "acc_mean", "paper", "method", "arch_id"],
                        ascending=[True, False, True, True, True], kind="mergesort")
    return pd.DataFrame({
        "space": df["space"],
        "paper": df["paper"],
        "method": df["method"],
        "arch_id": df["arch_id"],
        "macs_m": (df["macs"].astype(float) / 1e6).round(3),
        "params_m": (df["params"].astype(float) / 1e6).round(4),
        "top1": [fmt_mean_std(m, s, int(n)) for m, s, n in
                 zip(df["acc_mean"], df["acc_std"], df["n"], strict=True)],
        "n": df["n"].astype(int),
        "search_cost_h": df["search_cost_h"].astype(float).round(4),
        "arch_json": df["arch"],
        "run_dirs": df["run_dirs"],
    }).reset_index(drop=True)


def write_leaderboard(config: dict, out_dir: str | Path) -> pd.DataFrame:
    """Write ``leaderboard.{csv,md,tex}`` of the profile's enabled papers into ``out_dir``."""
    from nasrepro.config import profile_dir
    from nasrepro.experiments.common import require_input

    tables = profile_dir(config) / "tables"
    for paper in config["papers"]:  # every enabled paper's table step must have run
        require_input(config, tables / f"{paper}_leaderboard.csv")
    df = build_leaderboard(tables, config["papers"])
    write_table(df, Path(out_dir) / "leaderboard", float_digits=3,
                caption=f"Every searched arch of every method ({config['profile']} profile): "
                        f"MACs, params, retrained top-1 %, search cost in device-hours.")
    return df
