"""The AttentiveNAS grid (AttentiveNAS Sec. 3-4): which supernets, evaluations and studies
run, and where (the one path grammar of :mod:`nasrepro.paths`). Torch-free: the workflow
imports it.

* study ``attentivenas/study/prior/``: the MACs prior and the fixed subnet set;
* train_supernet ``attentivenas/train_supernet/<training>/<sampler>/seed<s>/``: ``main``
  (every sampler and seed) and ``short`` (the predictor study's short run);
* search ``attentivenas/search/<training>/<sampler>/seed<s>/``: the fixed subnet set
  evaluated on that supernet (``subnets.csv``) and, for ``main``, the Pareto search;
* study ``attentivenas/study/predictor/``: the predictor study (claim A3).
"""

from __future__ import annotations

from nasrepro.paths import run_path

PAPER = "attentivenas"
#: the two supernet trainings: the main one and the short one of the predictor study
TRAININGS = ("main", "short")
PRIOR_DIR = run_path(PAPER, "study", "prior")
PREDICTOR_DIR = run_path(PAPER, "study", "predictor")


def supernet_path(training: str, sampler: str, seed: int | str) -> str:
    return run_path(PAPER, "train_supernet", f"{training}/{sampler}", seed)


def eval_path(training: str, sampler: str, seed: int | str) -> str:
    """Where a supernet's fixed subnets are evaluated (and, ``main``, searched)."""
    return run_path(PAPER, "search", f"{training}/{sampler}", seed)
