"""The toy paper's grid: two cells, the profile's seeds, one search run each."""

from __future__ import annotations

from nasrepro.paths import run_path

PAPER = "toy_paper"
CELLS = ("a", "b")


def search_path(cell: str, seed: int | str) -> str:
    """``toy_paper/search/<cell>/seed<s>`` (relative to ``results/<profile>``)."""
    return run_path(PAPER, "search", cell, seed)


def seeds(config: dict) -> list[int]:
    return [int(s) for s in config["seeds"]]
