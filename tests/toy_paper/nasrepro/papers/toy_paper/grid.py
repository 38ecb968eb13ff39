"""The toy paper's grid: two cells, the profile's seeds, one search run each."""

from __future__ import annotations

from nasrepro.paths import finished, run_path

PAPER = "toy_paper"
CELLS = ("a", "b")


def search_path(cell: str, seed: int | str) -> str:
    """``toy_paper/search/<cell>/seed<s>`` (relative to ``results/<profile>``)."""
    return run_path(PAPER, "search", cell, seed)


def seeds(config: dict) -> list[int]:
    return [int(s) for s in config["seeds"]]


# --- the grid interface (nasrepro.stages: what the rule toy_paper_search runs and reads) ------
def runs(config: dict, stage: str) -> list[tuple[str, int]]:
    return [(c, s) for c in CELLS for s in seeds(config)] if stage == "search" else []


def run_inputs(config: dict, stage: str, cell: str, seed: int | str) -> dict[str, str]:
    return {}


def table_inputs(config: dict) -> list[str]:
    return [finished(search_path(c, s)) for c, s in runs(config, "search")]


figure_inputs = table_inputs
