# Helpers of stages.smk (no rules; `snakemake --lint` wants rules and functions in separate
# files): each paper's grid (nasrepro/papers/<paper>/grid.py, the grid interface of
# nasrepro/stages.py) says which runs of each stage it has and what each run reads.
import re  # noqa: E402

from nasrepro.paths import PROVENANCE, RUN_STAGES, run_path  # noqa: E402
from nasrepro.stages import grid_of  # noqa: E402

GRIDS = {p: grid_of(p) for p in PAPERS}


def in_profile(value):
    """results/<profile>/ + a grid path (or each of a list of them)."""
    return f"{P}/{value}" if isinstance(value, str) else [f"{P}/{v}" for v in value]


def stage_cells(paper, stage):
    """The cells of the paper's runs of ``stage`` (none: the paper has no such rule)."""
    return list(dict.fromkeys(cell for cell, _ in GRIDS[paper].runs(config, stage)))


def cell_pattern(paper, stage):
    """The {cell} wildcard constraint of the stage rules, exactly the grid's cells."""
    return "|".join(re.escape(cell) for cell in stage_cells(paper, stage))


def stage_inputs(paper, stage):
    """The input function of the stage rules (<paper>_<stage>), the splits, then what the grid
    says the run reads (another run as its provenance.json: on the command line, its folder)."""
    grid = GRIDS[paper]

    def inputs(wildcards):
        named = grid.run_inputs(config, stage, wildcards.cell, int(wildcards.seed))
        return {"splits": SPLITS, **{name: in_profile(v) for name, v in named.items()}}

    return inputs


def stage_output(paper, stage):
    """results/<profile>/<paper>/<stage>/{cell}/seed{seed}/provenance.json (written last)."""
    return f"{P}/{run_path(paper, stage, '{cell}', '{seed}')}/{PROVENANCE}"


# What each paper's tables and figures read (rules tables and figures in report.smk)
for _paper in PAPERS:
    TABLE_INPUTS[_paper] = in_profile(GRIDS[_paper].table_inputs(config))
    FIGURE_INPUTS[_paper] = in_profile(GRIDS[_paper].figure_inputs(config))
