"""A toy relaxation plug-in (tests): first-order DARTS with a ten times smaller architecture
learning rate. Listing ``toy-relaxation`` in ``darts_snas.methods.relaxation`` adds its searches."""

from __future__ import annotations

from typing import Any

from nasrepro.registry import get_method, register_method


@register_method("toy-relaxation", kind="relaxation", papers=("darts_snas",))
def toy_relaxation(space: Any, *, seed: int, settings: dict, epochs: int,
                   edge_costs: Any = None, penalty_lambda: float = 0.0) -> Any:
    """First-order DARTS at a tenth of the architecture learning rate (toy plug-in)."""
    slow = dict(settings, arch_lr=settings["arch_lr"] / 10)
    return get_method("relaxation", "darts-1st").factory(
        space, seed=seed, settings=slow, epochs=epochs, edge_costs=edge_costs)
