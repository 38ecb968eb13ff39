# nasrepro: the only entry point. Reproduces SPOS (and, as they land, SNAS vs DARTS,
# AttentiveNAS, FBNetV3) on shared implementations and writes every table and figure.
#
#   snakemake --cores all                          # default profile (Fashion-MNIST)
#   snakemake spos --cores 2 --config profile=tiny # digits, minutes
#   snakemake -n --config profile=imagenet         # dry run of the paper-scale DAG
import os
import sys
from pathlib import Path

from snakemake.utils import min_version, validate

min_version("9.0")

sys.path.insert(0, workflow.basedir)
# jobs run `nasrepro ...`: make them import this checkout's package, whatever else is installed
os.environ.update(
    PYTHONPATH=os.pathsep.join(p for p in (workflow.basedir, os.getenv("PYTHONPATH", "")) if p)
)
from nasrepro.config import profile_dir, workflow_config  # noqa: E402
from nasrepro.errors import NasreproError  # noqa: E402
from nasrepro.io import write_yaml  # noqa: E402

try:  # --config values are re-read as YAML: seeds=[0,1,2], spos={search: {population: 10}}
    _resolved = workflow_config(config, workflow.config_settings.config_args)
except NasreproError as _exc:
    sys.stderr.write(f"error: {_exc}\n")
    sys.exit(2)
config.clear()
config.update(_resolved)
validate(config, "workflow/schemas/config.schema.yaml")

P = str(profile_dir(config))
CFG = f"{P}/config.resolved.yaml"
_cfg_path = Path(CFG)
import yaml  # noqa: E402

if not _cfg_path.exists() or yaml.safe_load(_cfg_path.read_text()) != config:
    write_yaml(_cfg_path, config)  # only rewritten when the config changed (keeps mtimes)

# One rules file per paper; a paper whose rules file is not there yet is skipped.
PAPERS = [p for p in ("spos", "darts_snas", "attentivenas", "fbnetv3")
          if Path(workflow.basedir, "workflow", "rules", f"{p}.smk").exists()]
ENABLED_PAPERS = [p for p in PAPERS if p in config["papers"]]
PAPER_TARGETS = {}  # paper -> its target rule's inputs (tables + figures)
PAPER_OUTPUTS = {}  # paper -> output of its paper_<paper> rule


include: "workflow/rules/common.smk"


for _paper in PAPERS:

    include: f"workflow/rules/{_paper}.smk"


include: "workflow/rules/report.smk"


rule all:
    """Default target: every enabled paper's tables and figures (config key `papers`), then the
    claims, the leaderboard and the reproduction report (rule paper)."""
    default_target: True
    input:
        [PAPER_TARGETS[p] for p in ENABLED_PAPERS],
        rules.paper.input,
