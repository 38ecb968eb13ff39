"""The toy paper's table (mean ± std of the value per cell), measurements and figure."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from nasrepro.config import profile_dir
from nasrepro.io import read_json
from nasrepro.papers.toy_paper.grid import CELLS, search_path, seeds
from nasrepro.reporting.leaderboard import COLUMNS as LEADERBOARD_COLUMNS


def _runs(config: dict) -> pd.DataFrame:
    rows = [{"quantity": "value", "group": cell, "seed": seed,
             "value": read_json(profile_dir(config) / search_path(cell, seed) / "result.json")
             ["value"], "run_dir": search_path(cell, seed)}
            for cell in CELLS for seed in seeds(config)]
    return pd.DataFrame(rows)


def write_tables(config: dict, out_dir: str | Path) -> dict[str, pd.DataFrame]:
    from nasrepro.reporting.tables import fmt_mean_std, mean_std, write_table

    runs = _runs(config)
    table = pd.DataFrame([{"cell": cell, "value": fmt_mean_std(*mean_std(sub["value"]), 3),
                           "n": len(sub), "run_dirs": ";".join(sub["run_dir"])}
                          for cell, sub in runs.groupby("group", sort=False)])
    write_table(table, Path(out_dir) / "toy_paper_values", caption="Toy paper: value per cell.")
    return {"measurements": runs, "leaderboard": pd.DataFrame(columns=LEADERBOARD_COLUMNS)}


def write_figures(config: dict, out_dir: str | Path) -> None:
    import matplotlib.pyplot as plt

    from nasrepro.reporting.figures import save_figure

    runs = _runs(config)
    fig, ax = plt.subplots(figsize=(3, 2.5))
    ax.bar(list(CELLS), [runs[runs["group"] == c]["value"].mean() for c in CELLS])
    ax.set_ylabel("value")
    save_figure(fig, Path(out_dir) / "toy_paper_values")
    plt.close(fig)
