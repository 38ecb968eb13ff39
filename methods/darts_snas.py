"""SNAS vs DARTS methods (PAPERS.md section 2), registered for the ``darts_snas`` DAG.

Each entry only combines library parts of :mod:`nasrepro.samplers` (architecture logits,
relaxations and the DARTS/SNAS step strategies) and :mod:`nasrepro.spaces.darts` (derivation):

* ``darts-1st`` / ``darts-2nd`` (kind ``search``): bi-level DARTS, first / second order.
* ``snas`` (kind ``search``): Gumbel-softmax, single level, resource penalty; the penalty level
  (none / mild / moderate / aggressive) of each run picks its lambda from
  ``darts_snas.penalty_lambdas``.
* ``random-cell`` (kind ``baseline``): random logits, derived with the DARTS rule (the
  random-search baseline of DARTS Sec. 3.3 with the same derivation).

A ``search`` factory is called as ``factory(space, seed=, settings=, epochs=, edge_costs=,
penalty_lambda=)`` and returns a step strategy for :func:`nasrepro.training.train` with
``arch`` (an :class:`ArchParameters`), ``rule`` (derivation) and ``eval_weights()``. A
``baseline`` factory is called as ``factory(space, seed)`` and returns an arch. Add a method by
registering another factory of one of these kinds and listing it in ``darts_snas.methods``.
"""

from __future__ import annotations

from typing import Any

import torch

from nasrepro.metrics.snas_cost import snas_penalty_table
from nasrepro.registry import register_method
from nasrepro.samplers.darts_search import DartsStep, SnasStep
from nasrepro.samplers.relaxation import ArchParameters
from nasrepro.spaces.darts import NUM_OPS, derive_darts


def _arch(space: Any, init: str, seed: int) -> ArchParameters:
    return ArchParameters(space.num_edges, NUM_OPS, init=init,
                          generator=torch.Generator().manual_seed(seed))


def _darts(space: Any, order: int, seed: int, settings: dict, edge_costs: Any) -> DartsStep:
    return DartsStep(_arch(space, "darts", seed), order=order, arch_lr=settings["arch_lr"],
                     arch_betas=tuple(settings["arch_betas"]),
                     arch_weight_decay=settings["arch_weight_decay"],
                     unroll_r=settings["unroll_r"], edge_costs=edge_costs)


@register_method("darts-1st", paper="darts_snas", kind="search")
def darts_1st(space: Any, *, seed: int, settings: dict, edge_costs: Any = None,
              **_: Any) -> DartsStep:
    """First-order DARTS: bi-level, Adam on alpha with the validation-batch gradient."""
    return _darts(space, 1, seed, settings, edge_costs)


@register_method("darts-2nd", paper="darts_snas", kind="search")
def darts_2nd(space: Any, *, seed: int, settings: dict, edge_costs: Any = None,
              **_: Any) -> DartsStep:
    """Second-order DARTS: unrolled virtual step and finite-difference Hessian-vector product."""
    return _darts(space, 2, seed, settings, edge_costs)


@register_method("snas", paper="darts_snas", kind="search")
def snas(space: Any, *, seed: int, settings: dict, epochs: int, edge_costs: Any,
         penalty_lambda: float = 0.0, **_: Any) -> SnasStep:
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


@register_method("random-cell", paper="darts_snas", kind="baseline")
def random_cell(space: Any, seed: int, **_: Any) -> dict:
    """Random cells: N(0, 1) logits derived with the DARTS rule (2 edges per node)."""
    g = torch.Generator().manual_seed(10_000 + int(seed))
    normal = torch.randn(space.num_edges, NUM_OPS, generator=g)
    reduce = torch.randn(space.num_edges, NUM_OPS, generator=g)
    return derive_darts(normal, reduce, steps=space.steps)
