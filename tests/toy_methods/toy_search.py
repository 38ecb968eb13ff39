"""A toy searcher used by the tests to show that a plug-in joins the DAG and the tables.

It is the worked example of the README: one module, one config line. It combines library
parts only (random search with a different seed stream), registering as ``toy-search``; being
a ``searcher`` with the one searcher signature, it runs in both supernet pipelines.
"""

from __future__ import annotations

from typing import Any

from nasrepro.registry import register_method
from nasrepro.search import random_search


@register_method("toy-search", kind="searcher", papers=("spos", "attentivenas"))
def toy_search(space: Any, evaluate: Any, budget: int, *, constraint: Any, seed: int,
               settings: dict, progress: bool = False) -> Any:
    """Random search on half the budget (toy plug-in for the tests)."""
    return random_search(space, evaluate, constraint=constraint, seed=seed + 1000,
                         n_evals=max(1, budget // 2), batch_size=settings["population"],
                         progress=progress)
