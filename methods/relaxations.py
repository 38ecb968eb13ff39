"""Relaxations (registry kind ``relaxation``): the architecture steps of a differentiable
search, SNAS vs DARTS (PAPERS.md section 2).

A factory ``(space, *, seed, settings, epochs, edge_costs, penalty_lambda)`` returns a step
strategy for :func:`nasrepro.training.train` with ``arch`` (an :class:`ArchParameters`),
``rule`` (derivation) and ``eval_weights()``; ``settings`` its typed settings (filled from
``darts_snas.method_settings.<name>``, else the ``darts_snas`` section).
Each entry only combines library parts of :mod:`nasrepro.samplers` (architecture logits,
relaxations, the DARTS/SNAS step strategies):

* ``darts-1st`` / ``darts-2nd``: bi-level DARTS (softmax relaxation), first / second order;
* ``snas``: Gumbel softmax, single level, resource penalty; the penalty level (none / mild /
  moderate / aggressive) of each run picks its lambda from ``darts_snas.penalty_lambdas``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

import torch

from nasrepro.metrics.snas_cost import snas_penalty_table
from nasrepro.registry import register_method
from nasrepro.samplers.darts_search import DartsStep, SnasStep
from nasrepro.samplers.relaxation import ArchParameters
from nasrepro.spaces.darts import NUM_OPS

PAPERS = ("darts_snas",)


@dataclass(frozen=True)
class DartsSettings:
    """Adam on the architecture logits (DARTS: lr 3e-4, betas (0.5, 0.999), weight decay 1e-3)
    and the second-order finite-difference scale ``R = unroll_r / ||v||``."""

    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    unroll_r: float = 0.01


@dataclass(frozen=True)
class SnasSettings:
    """SNAS's architecture step (official SNAS-Series code): linear temperature annealing
    ``temperature_start -> temperature_end`` (``snas_anneal_offset`` 1: epoch e at annealing
    step e+1), ``snas_arch_optimizer`` sgd (single-GPU search) or adam (multi-GPU branch) at
    ``snas_arch_lr`` (``None``: ``arch_lr``), gradient clipping ``snas_arch_grad_clip``
    (``None``: off), the resource penalty's form ``snas_penalty`` (official log form, or the
    paper's Eq. 16 read as linear)."""

    temperature_start: float = 1.0
    temperature_end: float = 0.03
    arch_lr: float = 3e-4
    snas_arch_lr: float | None = None
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    snas_arch_optimizer: Literal["sgd", "adam"] = "sgd"
    snas_arch_grad_clip: float | None = 10.0
    snas_anneal_offset: int = 1
    snas_penalty: Literal["official", "linear"] = "official"


def _arch(space: Any, init: str, seed: int) -> ArchParameters:
    return ArchParameters(space.num_edges, NUM_OPS, init=init,
                          generator=torch.Generator().manual_seed(seed))


def _darts(space: Any, order: int, seed: int, settings: DartsSettings,
           edge_costs: Any) -> DartsStep:
    return DartsStep(_arch(space, "darts", seed), order=order, arch_lr=settings.arch_lr,
                     arch_betas=settings.arch_betas,
                     arch_weight_decay=settings.arch_weight_decay,
                     unroll_r=settings.unroll_r, edge_costs=edge_costs)


@register_method("darts-1st", kind="relaxation", papers=PAPERS, settings=DartsSettings)
def darts_1st(space: Any, *, seed: int, settings: DartsSettings, epochs: int,
              edge_costs: Any = None,
              penalty_lambda: float = 0.0) -> DartsStep:
    """First-order DARTS: bi-level, Adam on alpha with the validation-batch gradient."""
    return _darts(space, 1, seed, settings, edge_costs)


@register_method("darts-2nd", kind="relaxation", papers=PAPERS, settings=DartsSettings)
def darts_2nd(space: Any, *, seed: int, settings: DartsSettings, epochs: int,
              edge_costs: Any = None,
              penalty_lambda: float = 0.0) -> DartsStep:
    """Second-order DARTS: unrolled virtual step and finite-difference Hessian-vector product."""
    return _darts(space, 2, seed, settings, edge_costs)


@register_method("snas", kind="relaxation", papers=PAPERS, settings=SnasSettings)
def snas(space: Any, *, seed: int, settings: SnasSettings, epochs: int, edge_costs: Any,
         penalty_lambda: float = 0.0) -> SnasStep:
    """SNAS: Gumbel-softmax, linear temperature annealing, single level, resource penalty
    (official log form on the official op costs unless ``snas_penalty: linear``)."""
    lr = settings.snas_arch_lr or settings.arch_lr
    form = settings.snas_penalty
    return SnasStep(_arch(space, "snas", seed), temperature_start=settings.temperature_start,
                    temperature_end=settings.temperature_end, epochs=epochs,
                    arch_optimizer=settings.snas_arch_optimizer, arch_lr=lr,
                    arch_betas=settings.arch_betas,
                    arch_weight_decay=settings.arch_weight_decay,
                    arch_grad_clip=settings.snas_arch_grad_clip,
                    anneal_offset=settings.snas_anneal_offset,
                    penalty_lambda=penalty_lambda, penalty_form=form,
                    penalty_table=snas_penalty_table(space) if form == "official" else None,
                    edge_costs=edge_costs, eval_seed=seed)
