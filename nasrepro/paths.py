"""The one path grammar of a run's results (DESIGN.md "results layout"; issue 14).

Every job of every paper writes one run directory::

    results/<profile>/<paper>/<stage>/<cell>/seed<s>/

* ``stage``: ``train_supernet`` (a weight-sharing supernet), ``search`` (a search or the
  evaluation of a fixed subnet set on a trained supernet; DARTS/SNAS: the search that trains
  its own supernet), ``retrain`` (an arch trained from scratch), or ``study`` (a paper's own
  step that is neither: the SPOS inherit step, the AttentiveNAS MACs prior and predictor
  study, the FBNetV3 proxy pretraining and predictor study; no seed level).
* ``cell``: the row of the paper's grid, interpreted only by that paper (slash-separated
  parts, e.g. SPOS ``block/uniform``, ``block/uniform/evolution``, the retrain role
  ``fixed/all_choice_3``; DARTS/SNAS ``snas-mild``; AttentiveNAS ``main/bestup``; FBNetV3
  ``A_joint``, ``swap/A_recipeB``).
* ``seed<s>``: the replicate's seed (for a retrain: its training seed, which for a searched
  arch is the seed of the search that found it; SPOS random archs: the arch's draw).

A paper's outputs sit next to its runs, the cross-paper ones under ``tables/`` and ``figures/``::

    results/<profile>/<paper>/{tables,figures}/        the paper's own (rules tables, figures)
    results/<profile>/tables/<paper>_measurements.csv  tidy rows the claims engine reads
    results/<profile>/tables/<paper>_leaderboard.csv   searched archs, for the leaderboard
    results/<profile>/tables/{claims,leaderboard}.*    the cross-paper tables

The Snakemake rules, the jobs and the tables all build their paths with :func:`run_path`
(relative to ``results/<profile>``, as the tables' ``run_dirs`` columns show them) or
:func:`run_dir`; no other module spells out a layout. Torch-free: the workflow imports it.
"""

from __future__ import annotations

from pathlib import Path

STAGES = ("train_supernet", "search", "retrain", "study")
#: the stages run by the generic rules ``<paper>_<stage>`` (a study is a paper's own rule)
RUN_STAGES = STAGES[:3]
#: the file a run writes last (:class:`nasrepro.harness.Run`): a run directory with it is finished
PROVENANCE = "provenance.json"
#: the cross-paper tables folder (relative to ``results/<profile>``)
DATA_DIR = "tables"


def run_path(paper: str, stage: str, cell: str, seed: int | str | None = None) -> str:
    """``<paper>/<stage>/<cell>[/seed<s>]`` (relative to ``results/<profile>``).

    ``seed`` may be a Snakemake wildcard (``"{seed}"``); ``None`` for a study.
    """
    if stage not in STAGES:
        raise ValueError(f"stage {stage!r} is not one of {', '.join(STAGES)}")
    if (seed is None) != (stage == "study"):
        raise ValueError(f"stage {stage} {'takes no' if stage == 'study' else 'needs a'} seed")
    path = f"{paper}/{stage}/{cell}"
    return path if seed is None else f"{path}/{seed_dirname(seed)}"


def finished(run: str) -> str:
    """``<run>/provenance.json``: the file that says run directory ``run`` is complete, which the
    rules declare as a stage's output and list as a later step's input (on the command line the
    step gets the run directory itself: :func:`nasrepro.stages.input_flags`)."""
    return f"{run}/{PROVENANCE}"


def seed_dirname(seed: int | str) -> str:
    """``seed<s>``: the last level of a run directory (a job that writes the runs of several
    seeds of one cell writes each into its own)."""
    return f"seed{seed}"


def run_dir(config: dict, paper: str, stage: str, cell: str,
            seed: int | str | None = None) -> Path:
    """``results/<profile>/`` + :func:`run_path`."""
    from nasrepro.config import profile_dir

    return profile_dir(config) / run_path(paper, stage, cell, seed)


def output_path(paper: str, kind: str) -> str:
    """``<paper>/tables`` or ``<paper>/figures``: the paper's own tables or figures (relative to
    ``results/<profile>``; collected into ``paper/<profile>/<paper>/<kind>``)."""
    if kind not in ("tables", "figures"):
        raise ValueError(f"kind {kind!r} is not tables or figures")
    return f"{paper}/{kind}"


def data_table_path(paper: str, name: str) -> str:
    """``tables/<paper>_<name>.csv`` (``name``: measurements or leaderboard)."""
    return f"{DATA_DIR}/{paper}_{name}.csv"
