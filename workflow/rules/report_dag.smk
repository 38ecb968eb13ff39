# Helpers of report.smk (no rules; `snakemake --lint` wants rules and functions in separate files):
# the outputs of a paper's tables/figures rules and the inputs of the paper-wildcard rules.
from nasrepro.paths import data_table_path, output_path  # noqa: E402
from nasrepro.reporting.report import TITLES  # noqa: E402

CLAIMS = expand(f"{P}/tables/claims.{{ext}}", ext=["csv", "md", "tex"])
LEADERBOARD = expand(f"{P}/tables/leaderboard.{{ext}}", ext=["csv", "md", "tex"])


def paper_outputs(paper):
    """A paper's tables and figures folders and its measurements/leaderboard CSVs."""
    return [f"{P}/{output_path(paper, 'tables')}", f"{P}/{output_path(paper, 'figures')}",
            *(f"{P}/{data_table_path(paper, name)}" for name in ("measurements", "leaderboard"))]


def table_inputs(wildcards):
    return TABLE_INPUTS[wildcards.paper]


def figure_inputs(wildcards):
    return FIGURE_INPUTS[wildcards.paper]


def collect_inputs(wildcards):
    return paper_outputs(wildcards.paper)


def paper_config_hash(wildcards):
    """The paper's config section hash: its tables rerun when the section changes."""
    return CFG_HASH[wildcards.paper]


def data_dir(wildcards, output):
    """results/<profile>/tables, where the measurements/leaderboard CSVs go."""
    return Path(output.measurements).parent


def paper_title(wildcards):
    return TITLES.get(wildcards.paper, wildcards.paper)
