"""A toy SPOS searcher used by the tests to show that a plug-in joins the DAG and the tables.

It is the worked example of the README: one module, one config line. It combines library
parts only (random search with a different seed stream), registering as ``toy-search``.
"""

from __future__ import annotations

from typing import Any

from nasrepro.registry import register_method
from nasrepro.search import random_search


@register_method("toy-search", paper="spos", kind="searcher")
def toy_search(space: Any, evaluate: Any, *, constraint: Any, seed: int, settings: dict,
               progress: bool = False) -> Any:
    """Random search on half the budget (toy plug-in for the tests)."""
    budget = max(1, settings["population"] * settings["generations"] // 2)
    return random_search(space, evaluate, constraint=constraint, seed=seed + 1000,
                         n_evals=budget, batch_size=settings["population"],
                         progress=progress)
