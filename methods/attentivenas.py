"""AttentiveNAS methods (Wang et al. 2021, Sec. 3.2): the sandwich samplers and the Pareto
searcher, registered for the DAG.

A sampler (kind ``sampler``) is a factory ``f(space, seed, *, prior, k, scorer, predictor)``
returning the ``choose`` of :class:`nasrepro.samplers.SandwichStep` (``None``: uniform
``space.sample``). ``prior`` is the cached p(MACs), ``k`` and ``scorer`` come from
``attentivenas.attentive`` in the config, ``predictor()`` builds the accuracy predictor (only
call it when ``scorer == "predictor"``). List a sampler's name in ``attentivenas.samplers``.
"""

from __future__ import annotations

from typing import Any

from nasrepro.registry import register_method
from nasrepro.samplers import AttentiveChooser
from nasrepro.search.pareto_evolution import pareto_evolution_search


@register_method("uniform", paper="attentivenas", kind="sampler")
def uniform(space: Any, seed: int, **_: Any) -> None:
    """Sandwich rule with uniformly sampled middle subnets (BigNAS baseline)."""
    return None


def _attentive(mode: str, space: Any, seed: int, *, prior: Any, k: int, scorer: str,
               predictor: Any, **_: Any) -> AttentiveChooser:
    score = predictor() if scorer == "predictor" else "loss"
    return AttentiveChooser(space, seed, prior, k, mode=mode, scorer=score)


@register_method("bestup", paper="attentivenas", kind="sampler")
def bestup(space: Any, seed: int, **kw: Any) -> AttentiveChooser:
    """BestUp-k: MACs target from the prior, k candidates, train the best-scored one."""
    return _attentive("best", space, seed, **kw)


@register_method("worstup", paper="attentivenas", kind="sampler")
def worstup(space: Any, seed: int, **kw: Any) -> AttentiveChooser:
    """WorstUp-k: MACs target from the prior, k candidates, train the worst-scored one."""
    return _attentive("worst", space, seed, **kw)


@register_method("pareto-evolution", paper="attentivenas", kind="searcher")
def pareto_evolution(space: Any, evaluate: Any, *, seed: int, settings: dict,
                     progress: bool = False) -> Any:
    """Evolution with Pareto (accuracy vs MACs) parent selection."""
    return pareto_evolution_search(
        space, evaluate, seed=seed, progress=progress, population=settings["population"],
        generations=settings["generations"], topk=settings["topk"],
        n_crossover=settings["n_crossover"], n_mutation=settings["n_mutation"],
        mutation_prob=settings["mutation_prob"])
