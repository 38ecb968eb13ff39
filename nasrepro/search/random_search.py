"""Random search, and the candidate bookkeeping shared with evolution (SPOS Sec. 3.4).

SPOS (Guo et al. 2019, Sec. 3.4 and Fig. 3) compares evolutionary search on the supernet with
random search given *the same number of evaluated candidates*. Both searchers here propose
candidates through :class:`CandidateBook`, which

* rejects candidates that break the constraint (e.g. a MACs limit) *before* evaluation: the
  evaluation callback never sees them (the official ``is_legal`` check);
* never evaluates an architecture twice (by ``arch_id``), and caches constraint results;
* evaluates one batch per generation with a single call of the ``evaluate`` callback.

Random search evaluates ``n_evals`` unique legal random archs in batches of ``batch_size`` (50, the
SPOS population), so its curve has the same x axis (number of evaluated candidates) as evolution.
"""

from __future__ import annotations

import copy
import math
import random
from collections.abc import Callable
from typing import Any

from tqdm import tqdm

from nasrepro.errors import ConfigError
from nasrepro.search.result import Arch, Evaluate, SearchResult, fitness_key

Constraint = Callable[[Arch], bool]

#: random proposals allowed per wanted candidate when ``max_tries`` is not given
RANDOM_TRIES_PER_CANDIDATE = 1000


class CandidateBook:
    """Seen set, constraint cache and evaluation log of one search run.

    Args:
        space: a :class:`~nasrepro.spaces.base.SearchSpace` (``arch_id``, ``validate``, ``cost``).
        evaluate: batched fitness callback, higher is better.
        constraint: ``arch -> bool``; ``False`` means the arch is illegal and never evaluated.
    """

    def __init__(self, space: Any, evaluate: Evaluate, constraint: Constraint | None) -> None:
        self.space = space
        self.evaluate = evaluate
        self.constraint = constraint
        self.evaluated: list[dict] = []
        self._seen: set[str] = set()
        self._legal: dict[str, bool] = {}
        self.stats = {"proposed": 0, "rejected_constraint": 0, "rejected_seen": 0}

    def offer(self, arch: Arch, batch: dict[str, Arch]) -> bool:
        """Add ``arch`` to ``batch`` (``arch_id -> arch``) if it is legal and not seen before.

        Returns:
            Whether the arch was accepted.
        """
        self.stats["proposed"] += 1
        aid = self.space.arch_id(arch)
        if aid in self._seen or aid in batch:
            self.stats["rejected_seen"] += 1
            return False
        legal = self._legal.get(aid)
        if legal is None:
            legal = True if self.constraint is None else bool(self.constraint(arch))
            self._legal[aid] = legal
        if not legal:
            self.stats["rejected_constraint"] += 1
            return False
        batch[aid] = self.space.validate(arch)
        return True

    def propose(
        self, make: Callable[[], Arch], want: int, max_tries: int, batch: dict[str, Arch]
    ) -> int:
        """Call ``make()`` up to ``max_tries`` times until ``want`` archs joined ``batch``.

        Returns:
            The number of archs accepted.
        """
        accepted = 0
        tries = 0
        while accepted < want and tries < max_tries:
            tries += 1
            if self.offer(make(), batch):
                accepted += 1
        return accepted

    def fill_random(
        self, rng: random.Random, want: int, batch: dict[str, Arch], max_tries: int | None
    ) -> int:
        """Add up to ``want`` legal unseen uniformly random archs to ``batch``."""
        if want <= 0:
            return 0
        tries = RANDOM_TRIES_PER_CANDIDATE * want if max_tries is None else max_tries
        return self.propose(lambda: self.space.sample(rng), want, tries, batch)

    def fill_and_evaluate(self, rng: random.Random, want: int, batch: dict[str, Arch],
                          max_tries: int | None, generation: int) -> bool:
        """Top ``batch`` up with ``want`` random archs (:meth:`fill_random`) and evaluate it as
        ``generation``; False when nothing is left to evaluate (the space has no legal unseen
        arch left), an error when that happens in the first generation."""
        self.fill_random(rng, want, batch, max_tries)
        if not batch:
            if generation == 0:
                raise no_candidate_error(self, max_tries, want)
            return False
        self.evaluate_batch(batch, generation)
        return True

    def evaluate_batch(self, batch: dict[str, Arch], generation: int) -> list[dict]:
        """Evaluate ``batch`` with ONE call of the callback and log the entries."""
        ids = list(batch)
        archs = [batch[i] for i in ids]
        fits = list(self.evaluate(copy.deepcopy(archs)))
        if len(fits) != len(archs):
            raise ValueError(
                f"evaluate returned {len(fits)} fitness values for {len(archs)} archs; "
                f"it must return one float per arch, in order"
            )
        entries = []
        for aid, arch, fit in zip(ids, archs, fits, strict=True):
            cost = self.space.cost(arch)
            entry = {
                "n": len(self.evaluated) + 1,
                "generation": int(generation),
                "arch": arch,
                "arch_id": aid,
                "fitness": float(fit),
                "macs": int(cost.macs),
                "params": int(cost.params),
            }
            self.evaluated.append(entry)
            self._seen.add(aid)
            entries.append(entry)
        return entries

    def best_fitness(self) -> float:
        """Best fitness evaluated so far (``-inf`` before any evaluation)."""
        return max((fitness_key(e) for e in self.evaluated), default=-math.inf)


def no_candidate_error(book: CandidateBook, tries: int | None, want: int) -> ConfigError:
    """The error raised when not even the first batch has a legal candidate."""
    n = RANDOM_TRIES_PER_CANDIDATE * want if tries is None else tries
    return ConfigError(
        f"the search constraint rejected all {n} random candidates drawn "
        f"({book.stats['rejected_constraint']} over the limit); relax the constraint "
        f"(e.g. raise the MACs limit) or raise max_tries"
    )


def random_search(
    space: Any,
    evaluate: Evaluate,
    *,
    constraint: Constraint | None = None,
    n_evals: int,
    seed: int = 0,
    batch_size: int = 50,
    max_tries: int | None = None,
    progress: bool = False,
) -> SearchResult:
    """Evaluate ``n_evals`` unique legal uniformly random archs (SPOS's random-search baseline).

    Args:
        space: the search space (``sample``, ``arch_id``, ``validate``, ``cost``).
        evaluate: batched fitness callback (list of archs -> list of floats, higher is better).
        constraint: ``arch -> bool``; archs for which it is false are never evaluated.
        n_evals: number of candidates to evaluate; pass ``len(evo.evaluated)`` of the evolution
            run to compare at the same budget.
        seed: seed of the ``random.Random`` driving the search.
        batch_size: candidates per ``evaluate`` call (one "generation" on the curve).
        max_tries: random proposals allowed per batch (default 1000 per wanted candidate).
        progress: show a tqdm bar.

    Returns:
        The :class:`SearchResult`; fewer than ``n_evals`` entries only if the space has fewer
        legal archs.

    Raises:
        ConfigError: bad budget, or the constraint rejects every random candidate.
    """
    if n_evals < 1 or batch_size < 1:
        raise ConfigError(
            f"random search needs n_evals >= 1 and batch_size >= 1 (got {n_evals}, "
            f"{batch_size}); fix the search budget in the config"
        )
    rng = random.Random(seed)
    book = CandidateBook(space, evaluate, constraint)
    n_batches = math.ceil(n_evals / batch_size)
    bar = tqdm(range(n_batches), desc="random search", disable=not progress)
    for g in bar:
        want = min(batch_size, n_evals - len(book.evaluated))
        batch: dict[str, Arch] = {}
        if not book.fill_and_evaluate(rng, want, batch, max_tries, g):
            break  # the space has no legal unseen arch left
        bar.set_postfix(best=book.best_fitness())
    meta = {
        "searcher": "random",
        "seed": seed,
        "n_evals": n_evals,
        "batch_size": batch_size,
        **book.stats,
    }
    return SearchResult.from_evaluated(book.evaluated, meta)
