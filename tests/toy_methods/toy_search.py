"""A toy searcher used by the tests to show that a plug-in joins the DAG and the tables.

It is the worked example of the README: one module, one config line. It combines library
parts only (random search with a different seed stream), registering as ``toy-search``; being
a ``searcher`` with the one searcher signature, it runs in both supernet pipelines. Its typed
settings show where a plug-in's own knobs go: ``fraction`` is set with
``spos: {method_settings: {toy-search: {fraction: 0.25}}}``, ``population`` defaults to the
pipeline's ``search.population``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from nasrepro.registry import register_method
from nasrepro.search import random_search


@dataclass(frozen=True)
class ToySearchSettings:
    """``fraction`` of the budget evaluated, in batches of ``population``."""

    population: int = 8
    fraction: float = 0.5


@register_method("toy-search", kind="searcher", papers=("spos", "attentivenas"),
                 settings=ToySearchSettings)
def toy_search(space: Any, evaluate: Any, budget: int, *, constraint: Any, seed: int,
               settings: ToySearchSettings, progress: bool = False) -> Any:
    """Random search on a fraction of the budget (toy plug-in for the tests)."""
    return random_search(space, evaluate, constraint=constraint, seed=seed + 1000,
                         n_evals=max(1, int(budget * settings.fraction)),
                         batch_size=settings.population, progress=progress)
