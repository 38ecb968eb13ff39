"""Tests of random search and SPOS evolution (Algorithm 1) on a toy constrained space."""

from __future__ import annotations

import random
from typing import Any

import numpy as np
import pytest

from nasrepro.errors import ConfigError
from nasrepro.search import (
    SearchResult,
    evolution_search,
    n_evaluations_of,
    random_search,
    read_search_outputs,
    select_top_k,
    write_search_outputs,
)
from nasrepro.spaces.base import Cost, SearchSpace

N_GENES = 20
N_CHOICES = 4
LIMIT = 45  # sum of genes; the optimum has 15 genes equal to 3 (sum 45) and the rest 0


class ToySpace(SearchSpace):
    """``{"genes": [N ints in 0..C-1]}``; cost = sum of genes (not registered)."""

    name = "toy"

    def __init__(self, n_genes: int = N_GENES, n_choices: int = N_CHOICES) -> None:
        super().__init__("test")
        self.n_genes = n_genes
        self.n_choices = n_choices

    def validate(self, arch: Any) -> dict:
        genes = list(arch["genes"])
        assert len(genes) == self.n_genes
        assert all(0 <= g < self.n_choices for g in genes)
        return {"genes": [int(g) for g in genes]}

    def features(self, arch: dict) -> list[float]:
        return [float(g) for g in arch["genes"]]

    def sample(self, rng: random.Random) -> dict:
        return {"genes": [rng.randrange(self.n_choices) for _ in range(self.n_genes)]}

    def mutate(self, arch: dict, rng: random.Random, prob: float) -> dict:
        return {
            "genes": [
                rng.randrange(self.n_choices) if rng.random() < prob else g
                for g in arch["genes"]
            ]
        }

    def crossover(self, a: dict, b: dict, rng: random.Random) -> dict:
        pairs = zip(a["genes"], b["genes"], strict=True)
        return {"genes": [x if rng.random() < 0.5 else y for x, y in pairs]}

    def cost(self, arch: dict) -> Cost:
        return Cost(macs=sum(arch["genes"]), params=len(arch["genes"]))

    def build(self, arch: dict):  # pragma: no cover - not needed
        raise NotImplementedError

    def build_supernet(self):  # pragma: no cover - not needed
        raise NotImplementedError

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (1, 1, 1)


def onemax3(archs: list[dict]) -> list[float]:
    """Fitness: number of genes equal to 3 (optimum under the limit: 15)."""
    return [float(sum(g == 3 for g in a["genes"])) for a in archs]


def under_limit(arch: dict) -> bool:
    return sum(arch["genes"]) <= LIMIT


class Spy:
    """Records every batch passed to ``evaluate``."""

    def __init__(self) -> None:
        self.batches: list[list[dict]] = []

    def __call__(self, archs: list[dict]) -> list[float]:
        self.batches.append(archs)
        return onemax3(archs)

    @property
    def archs(self) -> list[dict]:
        return [a for b in self.batches for a in b]


@pytest.fixture(scope="module")
def space() -> ToySpace:
    return ToySpace()


def test_evolution_finds_optimum_and_respects_constraint(space: ToySpace) -> None:
    spy = Spy()
    res = evolution_search(space, spy, constraint=under_limit, seed=0)
    assert res.best["fitness"] >= 14  # optimum is 15
    assert res.n_evaluated == n_evaluations_of(50, 20) == 1000
    # one batched call per generation, the constraint held for everything evaluated
    assert len(spy.batches) == 20
    assert all(len(b) == 50 for b in spy.batches)
    assert all(under_limit(a) for a in spy.archs)
    assert all(e["macs"] <= LIMIT for e in res.evaluated)
    # records match the evaluate calls
    assert [e["arch"] for e in res.evaluated] == spy.archs
    assert [e["generation"] for e in res.evaluated] == [g for g in range(20) for _ in range(50)]
    assert [e["n"] for e in res.evaluated] == list(range(1, 1001))


def test_over_limit_candidates_never_reach_evaluate(space: ToySpace) -> None:
    """A tight limit rejects most random archs; none of them may be evaluated."""
    tight = 25  # random archs have mean sum 30

    def constraint(arch: dict) -> bool:
        return sum(arch["genes"]) <= tight

    spy = Spy()
    res = evolution_search(space, spy, constraint=constraint, population=20, generations=5,
                           topk=5, n_crossover=8, n_mutation=8, seed=3)
    assert res.meta["rejected_constraint"] > 0
    assert spy.archs and all(sum(a["genes"]) <= tight for a in spy.archs)
    spy_r = Spy()
    random_search(space, spy_r, constraint=constraint, n_evals=60, batch_size=20, seed=3)
    assert len(spy_r.archs) == 60 and all(sum(a["genes"]) <= tight for a in spy_r.archs)


def test_no_duplicate_evaluations(space: ToySpace) -> None:
    spy = Spy()
    res = evolution_search(space, spy, constraint=under_limit, seed=1)
    ids = [space.arch_id(a) for a in spy.archs]
    assert len(ids) == len(set(ids))
    assert [e["arch_id"] for e in res.evaluated] == ids
    rs = random_search(space, onemax3, constraint=under_limit, n_evals=300, seed=1)
    assert len({e["arch_id"] for e in rs.evaluated}) == 300


def test_tiny_space_is_exhausted_without_duplicates() -> None:
    tiny = ToySpace(n_genes=3, n_choices=2)  # 8 archs, 7 with sum <= 2
    spy = Spy()
    res = evolution_search(tiny, spy, constraint=lambda a: sum(a["genes"]) <= 2,
                           population=4, generations=5, topk=2, n_crossover=1, n_mutation=1,
                           max_tries=200, seed=0)
    ids = [e["arch_id"] for e in res.evaluated]
    assert len(ids) == len(set(ids)) == 7
    rs = random_search(tiny, onemax3, n_evals=20, batch_size=4, max_tries=200, seed=0)
    assert rs.n_evaluated == 8


def test_impossible_constraint_is_a_clear_error(space: ToySpace) -> None:
    with pytest.raises(ConfigError, match="relax the constraint"):
        evolution_search(space, onemax3, constraint=lambda a: False, max_tries=100)
    with pytest.raises(ConfigError, match="relax the constraint"):
        random_search(space, onemax3, constraint=lambda a: False, n_evals=10, max_tries=100)


def test_bad_settings_are_config_errors(space: ToySpace) -> None:
    with pytest.raises(ConfigError, match="must not exceed population"):
        evolution_search(space, onemax3, population=10, n_crossover=6, n_mutation=6)
    with pytest.raises(ConfigError, match="mutation_prob"):
        evolution_search(space, onemax3, mutation_prob=1.5)
    with pytest.raises(ConfigError):
        random_search(space, onemax3, n_evals=0)


def test_evaluate_must_return_one_value_per_arch(space: ToySpace) -> None:
    with pytest.raises(ValueError, match="one float per arch"):
        evolution_search(space, lambda archs: [0.0], population=4, generations=1,
                         n_crossover=1, n_mutation=1)


def test_deterministic_per_seed(space: ToySpace) -> None:
    kw = dict(constraint=under_limit, population=20, generations=6, topk=5, n_crossover=8,
              n_mutation=8)
    a = evolution_search(space, onemax3, seed=7, **kw)
    b = evolution_search(space, onemax3, seed=7, **kw)
    c = evolution_search(space, onemax3, seed=8, **kw)
    assert a.evaluated == b.evaluated and a.curve == b.curve and a.best == b.best
    assert a.evaluated != c.evaluated
    r1 = random_search(space, onemax3, n_evals=50, seed=7)
    r2 = random_search(space, onemax3, n_evals=50, seed=7)
    assert r1.evaluated == r2.evaluated


def test_curve_is_monotone_and_consistent(space: ToySpace) -> None:
    res = evolution_search(space, onemax3, constraint=under_limit, population=20,
                           generations=8, topk=5, n_crossover=8, n_mutation=8, seed=2)
    best = [r["best_fitness"] for r in res.curve]
    assert all(b2 >= b1 for b1, b2 in zip(best, best[1:], strict=False))
    assert [r["n_evaluated"] for r in res.curve] == list(range(1, res.n_evaluated + 1))
    assert best == list(np.maximum.accumulate([e["fitness"] for e in res.evaluated]))
    assert res.best["fitness"] == best[-1] == max(e["fitness"] for e in res.evaluated)
    # ties: the first evaluated entry with the best fitness
    first = next(e for e in res.evaluated if e["fitness"] == best[-1])
    assert res.best == first


def test_evolution_beats_random_search_at_same_budget(space: ToySpace) -> None:
    evo_best, rnd_best = [], []
    for seed in range(4):
        evo = evolution_search(space, onemax3, constraint=under_limit, population=30,
                               generations=10, topk=10, n_crossover=15, n_mutation=15,
                               seed=seed)
        rnd = random_search(space, onemax3, constraint=under_limit, n_evals=evo.n_evaluated,
                            batch_size=30, seed=seed)
        assert rnd.n_evaluated == evo.n_evaluated == 300
        evo_best.append(evo.best["fitness"])
        rnd_best.append(rnd.best["fitness"])
    assert np.mean(evo_best) >= np.mean(rnd_best) + 2
    assert min(evo_best) > max(rnd_best)


def test_select_top_k_is_stable_and_nan_last() -> None:
    entries = [{"fitness": f, "n": i} for i, f in enumerate([1.0, float("nan"), 3.0, 3.0, 2.0])]
    top = select_top_k(entries, 3)
    assert [e["n"] for e in top] == [2, 3, 4]
    assert select_top_k(entries, 10)[-1]["n"] == 1


def test_pluggable_selection(space: ToySpace) -> None:
    """A custom selection replaces top-k (e.g. worst-k here: the search gets worse)."""
    calls = []

    def worst_k(evaluated: list[dict], k: int) -> list[dict]:
        calls.append(len(evaluated))
        return sorted(evaluated, key=lambda e: e["fitness"])[:k]

    res = evolution_search(space, onemax3, population=20, generations=4, topk=5,
                           n_crossover=8, n_mutation=8, select=worst_k, seed=0)
    assert calls == [20, 40, 60]
    assert res.meta["searcher"] == "evolution"


def test_write_search_outputs_round_trip(space: ToySpace, tmp_path) -> None:
    res = evolution_search(space, onemax3, constraint=under_limit, population=10,
                           generations=3, topk=3, n_crossover=4, n_mutation=4, seed=0)
    paths = write_search_outputs(res, tmp_path / "run")
    assert sorted(p.name for p in paths.values()) == ["archs.jsonl", "best.json", "curve.csv"]
    back = read_search_outputs(tmp_path / "run")
    assert isinstance(back, SearchResult)
    assert back.evaluated == res.evaluated
    assert back.curve == res.curve
    assert back.best == res.best
    first = {p: p.read_bytes() for p in paths.values()}
    write_search_outputs(res, tmp_path / "run")
    assert {p: p.read_bytes() for p in paths.values()} == first
    assert (tmp_path / "run" / "curve.csv").read_text().splitlines()[0] == (
        "n_evaluated,generation,fitness,best_fitness"
    )
    assert not list((tmp_path / "run").glob(".*tmp"))


def test_evaluate_gets_copies(space: ToySpace) -> None:
    """A callback that edits the archs it is given cannot corrupt the search records."""

    def vandal(archs: list[dict]) -> list[float]:
        fits = onemax3(archs)
        for a in archs:
            a["genes"][0] = 99
        return fits

    res = evolution_search(space, vandal, population=10, generations=3, topk=3,
                           n_crossover=4, n_mutation=4, seed=0, progress=True)
    assert all(e["arch"]["genes"][0] < N_CHOICES for e in res.evaluated)
    assert all(space.arch_id(e["arch"]) == e["arch_id"] for e in res.evaluated)
