"""The SNAS vs DARTS grid (PAPERS.md section 2): which searches and retrains run, and where
(the one path grammar of :mod:`nasrepro.paths`). Torch-free: the workflow imports it.

* search ``darts_snas/search/<group>/seed<s>/``: one per relaxation group (``darts-1st``,
  ``darts-2nd``, ``snas-<level>``) and seed of ``darts_snas.seeds`` (else the profile's);
* retrain ``darts_snas/retrain/<group>/seed<s>/``: every group (``random-cell`` too) at each
  seed of ``darts_snas.retrain_seeds`` (a subset of the search seeds): the cell the search at
  seed ``s`` derived, trained with seed ``s``.
"""

from __future__ import annotations

from nasrepro.config import seeds_of
from nasrepro.paths import run_path

PAPER = "darts_snas"


def search_seeds(config: dict) -> list[int]:
    return seeds_of(config, PAPER)


def retrain_seeds(config: dict) -> list[int]:
    """Seeds of the retrain runs (retrain run ``i`` = seed ``i`` of this list)."""
    return seeds_of(config, PAPER, "retrain_seeds", "seeds")


def search_path(group: str, seed: int | str) -> str:
    return run_path(PAPER, "search", group, seed)


def retrain_path(group: str, seed: int | str) -> str:
    return run_path(PAPER, "retrain", group, seed)
