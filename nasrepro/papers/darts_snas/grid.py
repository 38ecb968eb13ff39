"""The SNAS vs DARTS grid (PAPERS.md section 2): which searches and retrains run, and where
(the one path grammar of :mod:`nasrepro.paths`), and the grid interface of
:mod:`nasrepro.stages`. Torch-free at import: the workflow imports it.

* search ``darts_snas/search/<group>/seed<s>/``: one per relaxation group (``darts-1st``,
  ``darts-2nd``, ``snas-<level>``) and seed of ``darts_snas.seeds`` (else the profile's);
* retrain ``darts_snas/retrain/<group>/seed<s>/``: every group (``random-cell`` too) at each
  seed of ``darts_snas.retrain_seeds`` (a subset of the search seeds): the cell the search at
  seed ``s`` derived, trained with seed ``s``.
"""

from __future__ import annotations

from nasrepro.config import seeds_of
from nasrepro.paths import finished, run_path

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


# --- the grid interface (nasrepro.stages; rules darts_snas_<stage> in workflow/rules/stages.smk)
def group_names(config: dict, kind: str | None = None) -> list[str]:
    """Directory names of the groups (``kind``: ``relaxation`` = the searches, ``None`` = all,
    the random-cell baselines too)."""
    from nasrepro.papers.darts_snas.experiment import groups

    return [g.dirname for g in groups(config) if kind is None or g.kind == kind]


def runs(config: dict, stage: str) -> list[tuple[str, int]]:
    """``(group, seed)``: a search per relaxation group and search seed; a retrain per group
    and retrain seed."""
    if stage == "search":
        return [(g, s) for g in group_names(config, "relaxation") for s in search_seeds(config)]
    if stage == "retrain":
        return [(g, s) for g in group_names(config) for s in retrain_seeds(config)]
    return []


def run_inputs(config: dict, stage: str, cell: str, seed: int | str) -> dict[str, str]:
    """A retrain of a searched group reads the search at its seed (its ``final.json``)."""
    if stage == "retrain" and cell in group_names(config, "relaxation"):
        return {"search": finished(search_path(cell, seed))}
    return {}


def table_inputs(config: dict) -> list[str]:
    return [finished(run_path(PAPER, stage, c, s)) for stage in ("search", "retrain")
            for c, s in runs(config, stage)]


def figure_inputs(config: dict) -> list[str]:
    return [finished(search_path(c, s)) for c, s in runs(config, "search")]
