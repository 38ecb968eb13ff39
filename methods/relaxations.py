"""Relaxations (registry kind ``relaxation``): the architecture steps of a differentiable
search, SNAS vs DARTS (PAPERS.md section 2).

A factory ``(space, *, seed, settings, epochs, edge_costs, penalty_lambda)`` returns a step
strategy for :func:`nasrepro.training.train` with ``arch`` (an :class:`ArchParameters`),
``rule`` (derivation) and ``eval_weights()``; ``settings`` is the ``darts_snas`` config section.
Each entry only combines library parts of :mod:`nasrepro.samplers` (architecture logits,
relaxations, the DARTS/SNAS step strategies):

* ``darts-1st`` / ``darts-2nd``: bi-level DARTS (softmax relaxation), first / second order;
* ``snas``: Gumbel softmax, single level, resource penalty; the penalty level (none / mild /
  moderate / aggressive) of each run picks its lambda from ``darts_snas.penalty_lambdas``.
"""

from __future__ import annotations

from typing import Any

import torch

from nasrepro.metrics.snas_cost import snas_penalty_table
from nasrepro.registry import register_method
from nasrepro.samplers.darts_search import DartsStep, SnasStep
from nasrepro.samplers.relaxation import ArchParameters
from nasrepro.spaces.darts import NUM_OPS

PAPERS = ("darts_snas",)


def _arch(space: Any, init: str, seed: int) -> ArchParameters:
    return ArchParameters(space.num_edges, NUM_OPS, init=init,
                          generator=torch.Generator().manual_seed(seed))


def _darts(space: Any, order: int, seed: int, settings: dict, edge_costs: Any) -> DartsStep:
    return DartsStep(_arch(space, "darts", seed), order=order, arch_lr=settings["arch_lr"],
                     arch_betas=tuple(settings["arch_betas"]),
                     arch_weight_decay=settings["arch_weight_decay"],
                     unroll_r=settings["unroll_r"], edge_costs=edge_costs)


@register_method("darts-1st", kind="relaxation", papers=PAPERS)
def darts_1st(space: Any, *, seed: int, settings: dict, epochs: int, edge_costs: Any = None,
              penalty_lambda: float = 0.0) -> DartsStep:
    """First-order DARTS: bi-level, Adam on alpha with the validation-batch gradient."""
    return _darts(space, 1, seed, settings, edge_costs)


@register_method("darts-2nd", kind="relaxation", papers=PAPERS)
def darts_2nd(space: Any, *, seed: int, settings: dict, epochs: int, edge_costs: Any = None,
              penalty_lambda: float = 0.0) -> DartsStep:
    """Second-order DARTS: unrolled virtual step and finite-difference Hessian-vector product."""
    return _darts(space, 2, seed, settings, edge_costs)


@register_method("snas", kind="relaxation", papers=PAPERS)
def snas(space: Any, *, seed: int, settings: dict, epochs: int, edge_costs: Any,
         penalty_lambda: float = 0.0) -> SnasStep:
    """SNAS: Gumbel-softmax, linear temperature annealing, single level, resource penalty
    (official log form on the official op costs unless ``snas_penalty: linear``)."""
    lr = settings.get("snas_arch_lr") or settings["arch_lr"]
    form = settings.get("snas_penalty", "official")
    return SnasStep(_arch(space, "snas", seed), temperature_start=settings["temperature_start"],
                    temperature_end=settings["temperature_end"], epochs=epochs,
                    arch_optimizer=settings.get("snas_arch_optimizer", "sgd"), arch_lr=lr,
                    arch_betas=tuple(settings["arch_betas"]),
                    arch_weight_decay=settings["arch_weight_decay"],
                    arch_grad_clip=settings.get("snas_arch_grad_clip", 10.0),
                    anneal_offset=int(settings.get("snas_anneal_offset", 1)),
                    penalty_lambda=penalty_lambda, penalty_form=form,
                    penalty_table=snas_penalty_table(space) if form == "official" else None,
                    edge_costs=edge_costs, eval_seed=seed)
