"""A toy relaxation plug-in (tests): first-order DARTS with a ten times smaller architecture
learning rate. Listing ``toy-relaxation`` in ``darts_snas.methods.relaxation`` adds its searches."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasrepro.registry import get_method, register_method


@dataclass(frozen=True)
class ToyRelaxationSettings:
    """DARTS's Adam settings (from the ``darts_snas`` section) and the ``slowdown`` of its
    learning rate."""

    arch_lr: float = 3e-4
    arch_betas: tuple[float, float] = (0.5, 0.999)
    arch_weight_decay: float = 1e-3
    slowdown: float = 10.0


@register_method("toy-relaxation", kind="relaxation", papers=("darts_snas",),
                 settings=ToyRelaxationSettings)
def toy_relaxation(space: Any, *, seed: int, settings: ToyRelaxationSettings, epochs: int,
                   edge_costs: Any = None, penalty_lambda: float = 0.0) -> Any:
    """First-order DARTS at a tenth of the architecture learning rate (toy plug-in)."""
    darts = get_method("relaxation", "darts-1st")
    slow = darts.settings(arch_lr=settings.arch_lr / settings.slowdown,
                          arch_betas=settings.arch_betas,
                          arch_weight_decay=settings.arch_weight_decay)
    return darts.factory(space, seed=seed, settings=slow, epochs=epochs, edge_costs=edge_costs)
