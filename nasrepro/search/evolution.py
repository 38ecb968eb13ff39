"""Evolutionary architecture search under a constraint: SPOS Algorithm 1 (Guo et al. 2019).

Follows the official megvii-model/SinglePathOneShot ``src/Search/search.py``:

1. the initial population is ``population`` uniformly random *legal* candidates (the constraint,
   e.g. the 330M FLOPs limit, is checked before evaluation; illegal archs are never evaluated);
2. every generation the new candidates are evaluated (one batched ``evaluate`` call), and the
   parents are the global top-k of everything evaluated so far (``update_top_k``);
3. ``n_mutation`` children: a random top-k member with each gene resampled with probability
   ``mutation_prob``; ``n_crossover`` children: uniform crossover of two random top-k members.
   Illegal or already-evaluated children are rejected, with at most 10x the wanted number of
   tries each (the official ``max_iters = num * 10``);
4. the rest of the population is filled with random legal unseen candidates.

Here ``generations`` counts *evaluated* populations, the initial one included, so a run
evaluates at most ``population * generations`` candidates (1000 for SPOS's 50 x 20). The
official loop also breeds and evaluates one more population after its 20th top-k update that
never enters the top-k; that wasted batch is not reproduced.

Parent selection is a pluggable function (:data:`Select`), so a Pareto (multi-objective)
evolution as in AttentiveNAS can reuse this loop with another selection.
"""

from __future__ import annotations

import copy
import functools
import random
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from nasrepro.errors import ConfigError
from nasrepro.search.random_search import CandidateBook, Constraint
from nasrepro.search.result import Arch, Evaluate, SearchResult, fitness_key

#: ``select(evaluated_entries, k) -> parents``: picks the parents from all evaluated entries.
Select = Callable[[list[dict], int], list[dict]]

#: tries per wanted child (official ``max_iters = mutation_num * 10``)
CHILD_TRIES_PER_CANDIDATE = 10


def select_top_k(evaluated: list[dict], k: int) -> list[dict]:
    """The ``k`` entries with the highest fitness (ties: the earlier evaluated one first).

    This is the official ``update_top_k``: a stable sort of the old top-k plus the new
    candidates, so it equals the global top-k over everything evaluated.
    """
    return sorted(evaluated, key=fitness_key, reverse=True)[:k]


def n_evaluations_of(population: int, generations: int) -> int:
    """Planned number of evaluations of :func:`evolution_search` (the random-search budget).

    The actual count, ``len(result.evaluated)``, is lower only when the space runs out of
    legal unseen candidates.
    """
    return population * generations


def _check_settings(
    population: int, generations: int, topk: int, n_crossover: int, n_mutation: int,
    mutation_prob: float,
) -> None:
    problems = []
    if population < 1 or generations < 1 or topk < 1:
        problems.append("population, generations and topk must be >= 1")
    if n_crossover < 0 or n_mutation < 0:
        problems.append("n_crossover and n_mutation must be >= 0")
    if n_crossover + n_mutation > population:
        problems.append(
            f"n_crossover + n_mutation ({n_crossover} + {n_mutation}) must not exceed "
            f"population ({population})"
        )
    if not 0.0 <= mutation_prob <= 1.0:
        problems.append(f"mutation_prob must be in [0, 1] (got {mutation_prob})")
    if problems:
        raise ConfigError(f"bad evolution settings: {'; '.join(problems)}; fix the search config")


def evolution_search(
    space: Any,
    evaluate: Evaluate,
    *,
    constraint: Constraint | None = None,
    population: int = 50,
    generations: int = 20,
    topk: int = 10,
    n_crossover: int = 25,
    n_mutation: int = 25,
    mutation_prob: float = 0.1,
    seed: int = 0,
    max_tries: int | None = None,
    select: Select = select_top_k,
    progress: bool = False,
) -> SearchResult:
    """SPOS Algorithm 1: evolutionary search of the best legal arch (defaults = the paper's).

    Args:
        space: the search space (``sample``, ``mutate``, ``crossover``, ``arch_id``,
            ``validate``, ``cost``).
        evaluate: batched fitness callback (list of archs -> list of floats, higher is better);
            called once per generation with all of that generation's new candidates.
        constraint: ``arch -> bool``; archs for which it is false are never evaluated.
        population: candidates per generation (50).
        generations: evaluated populations, the initial random one included (20).
        topk: number of parents kept (10).
        n_crossover: crossover children per generation (25).
        n_mutation: mutation children per generation (25).
        mutation_prob: per-gene resampling probability of a mutation (0.1).
        seed: seed of the ``random.Random`` driving the whole search (deterministic).
        max_tries: random proposals allowed per generation for the random fill (default 1000
            per wanted candidate); children always get 10 tries per wanted child.
        select: parent selection, ``select(evaluated, topk) -> parents`` (default: top-k).
        progress: show a tqdm bar.

    Returns:
        The :class:`SearchResult` with every evaluated candidate and the search curve.

    Raises:
        ConfigError: bad settings, or the constraint rejects every random candidate.
    """
    _check_settings(population, generations, topk, n_crossover, n_mutation, mutation_prob)
    rng = random.Random(seed)
    book = CandidateBook(space, evaluate, constraint)

    def mutant(parents: list[dict]) -> Arch:
        parent = copy.deepcopy(rng.choice(parents)["arch"])
        return space.mutate(parent, rng, mutation_prob)

    def cross(parents: list[dict]) -> Arch:
        a = copy.deepcopy(rng.choice(parents)["arch"])
        b = copy.deepcopy(rng.choice(parents)["arch"])
        return space.crossover(a, b, rng)

    bar = tqdm(range(generations), desc="evolution", disable=not progress)
    for g in bar:
        batch: dict[str, Arch] = {}
        if g > 0:
            parents = select(book.evaluated, topk)
            book.propose(
                functools.partial(mutant, parents), n_mutation,
                CHILD_TRIES_PER_CANDIDATE * n_mutation, batch,
            )
            book.propose(
                functools.partial(cross, parents), n_crossover,
                CHILD_TRIES_PER_CANDIDATE * n_crossover, batch,
            )
        if not book.fill_and_evaluate(rng, population - len(batch), batch, max_tries, g):
            break  # no legal unseen arch left in the space
        bar.set_postfix(best=book.best_fitness())
    meta = {
        "searcher": "evolution",
        "seed": seed,
        "population": population,
        "generations": generations,
        "topk": topk,
        "n_crossover": n_crossover,
        "n_mutation": n_mutation,
        "mutation_prob": mutation_prob,
        **book.stats,
    }
    return SearchResult.from_evaluated(book.evaluated, meta)
