"""The AttentiveNAS grid (AttentiveNAS Sec. 3-4): which supernets, evaluations and studies
run, and where (the one path grammar of :mod:`nasrepro.paths`), and the grid interface of
:mod:`nasrepro.stages`. Torch-free: the workflow imports it.

* study ``attentivenas/study/prior/``: the MACs prior and the fixed subnet set;
* train_supernet ``attentivenas/train_supernet/<training>/<sampler>/seed<s>/``: ``main``
  (every sampler and seed) and ``short`` (the predictor study's short run);
* search ``attentivenas/search/<training>/<sampler>/seed<s>/``: the fixed subnet set
  evaluated on that supernet (``subnets.csv``) and, for ``main``, the Pareto search;
* study ``attentivenas/study/common/``: every main supernet evaluated on one common candidate
  set, the union of all main searches' candidates (the fixed set is in every ``subnets.csv``
  already), so fronts of different samplers are built from the same archs (issue 12: common
  random numbers at the arch level; claims A1/A2);
* study ``attentivenas/study/predictor/``: the predictor study (claim A3).
"""

from __future__ import annotations

from nasrepro.config import methods_of, seeds_of
from nasrepro.paths import finished, run_path

PAPER = "attentivenas"
#: the two supernet trainings: the main one and the short one of the predictor study
TRAININGS = ("main", "short")
PRIOR_DIR = run_path(PAPER, "study", "prior")
PREDICTOR_DIR = run_path(PAPER, "study", "predictor")
COMMON_DIR = run_path(PAPER, "study", "common")


def supernet_path(training: str, sampler: str, seed: int | str) -> str:
    return run_path(PAPER, "train_supernet", f"{training}/{sampler}", seed)


def eval_path(training: str, sampler: str, seed: int | str) -> str:
    """Where a supernet's fixed subnets are evaluated (and, ``main``, searched)."""
    return run_path(PAPER, "search", f"{training}/{sampler}", seed)


# --- the grid interface (nasrepro.stages; rules attentivenas_<stage> in stages.smk) ----------
PRIOR_JSON = f"{PRIOR_DIR}/prior.json"
SUBNETS_JSON = f"{PRIOR_DIR}/subnets.json"
PREDICTOR_JSON = f"{PREDICTOR_DIR}/predictor.json"
COMMON_CSV = f"{COMMON_DIR}/common.csv"


def seeds(config: dict) -> list[int]:
    """``attentivenas.seeds``, else the profile's."""
    return seeds_of(config, PAPER)


def short_run(config: dict) -> tuple[str, int]:
    """The predictor study's short supernet: the predictor sampler at the first seed."""
    return f"short/{config[PAPER]['predictor']['sampler']}", seeds(config)[0]


def runs(config: dict, stage: str) -> list[tuple[str, int]]:
    """``(<training>/<sampler>, seed)``: a main supernet per sampler and seed plus the short
    one; each is evaluated (and, main, searched) by the search stage."""
    if stage not in ("train_supernet", "search"):
        return []
    main = [(f"main/{m}", s) for m in methods_of(config, PAPER, "sampler") for s in seeds(config)]
    return [*main, short_run(config)]


def run_inputs(config: dict, stage: str, cell: str, seed: int | str) -> dict[str, str]:
    """Every run reads the prior; a search its supernet's run; with the predictor scorer, an
    attentive sampler's supernet also the short run's evaluation (its random forest is fitted
    on those accuracies)."""
    inputs = {"prior": PRIOR_JSON}
    if stage == "search":
        inputs["supernet"] = finished(run_path(PAPER, "train_supernet", cell, seed))
    elif (stage == "train_supernet" and config[PAPER]["attentive"]["scorer"] == "predictor"
          and not cell.endswith("/uniform")):
        inputs["short"] = finished(run_path(PAPER, "search", *short_run(config)))
    return inputs


def predictor_inputs(config: dict) -> dict[str, str | list[str]]:
    """The predictor study's inputs: the prior, the fixed subnet set, the evaluations of the
    main supernets of the first two seeds (the first one's search candidates too) and the
    short one."""
    sampler = config[PAPER]["predictor"]["sampler"]
    return {"prior": PRIOR_JSON, "subnet_set": SUBNETS_JSON,
            "main": [finished(eval_path("main", sampler, s)) for s in seeds(config)[:2]],
            "short": finished(run_path(PAPER, "search", *short_run(config)))}


def _main_runs(config: dict, stage: str) -> list[str]:
    return [finished(run_path(PAPER, stage, c, s)) for c, s in runs(config, stage)
            if c.startswith("main/")]


def common_inputs(config: dict) -> dict[str, list[str]]:
    """The common-candidates study's inputs: every main supernet and every main search run
    (the union of the searches' candidates is the common set; a supernet's sampler and seed
    come from its own run path)."""
    return {"supernet": _main_runs(config, "train_supernet"),
            "search": _main_runs(config, "search")}


def table_inputs(config: dict) -> list[str]:
    return [PRIOR_JSON, SUBNETS_JSON, *_main_runs(config, "search"), COMMON_CSV, PREDICTOR_JSON]


def figure_inputs(config: dict) -> list[str]:
    """Also the main supernets (their ``sampled_macs.csv``)."""
    return [*table_inputs(config), *_main_runs(config, "train_supernet")]
