"""AttentiveNAS slice parts: the cached MACs prior and fixed subnet set, Pareto parent
selection and search, the registered samplers, and the config section."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
import torch

import nasrepro.spaces.mobilenet  # noqa: F401  (registers the space)
from nasrepro.config import load_config
from nasrepro.metrics.pareto import pareto_front
from nasrepro.registry import get_method
from nasrepro.samplers import AttentiveChooser, SamplerContext, SandwichStep
from nasrepro.search.pareto_evolution import (
    non_dominated_fronts,
    pareto_evolution_search,
    select_pareto,
)
from nasrepro.spaces.base import get_space
from nasrepro.spaces.macs_prior import MacsHistogram, macs_histogram, stratified_archs


@pytest.fixture(scope="module")
def space():
    return get_space("mobilenet/tiny")


@pytest.fixture(scope="module")
def prior(space):
    return macs_histogram(space, 2000, seed=0, bucket=50_000)


def test_prior_round_trips_through_json(prior) -> None:
    import json

    back = MacsHistogram.from_dict(json.loads(json.dumps(prior.to_dict())))
    assert back == prior
    with pytest.raises(ValueError):
        MacsHistogram.from_dict({"edges": [0, 1], "probs": [0.5, 0.5], "counts": [1, 1],
                                 "n": 2})


def test_stratified_archs_cover_the_range(space, prior) -> None:
    a = stratified_archs(space, prior, 24, seed=3)
    assert a == stratified_archs(space, prior, 24, seed=3)
    assert len({space.arch_id(x) for x in a}) == 24
    buckets = {prior.bucket_of(space.cost(x).macs) for x in a}
    nonempty = [i for i, c in enumerate(prior.counts) if c > 0]
    # uniform over non-empty buckets: far more of them than p(MACs)-weighted draws would hit
    assert len(buckets) >= min(len(nonempty), 24) // 2
    assert min(buckets) <= nonempty[1] and max(buckets) >= nonempty[-2]


def entries(points: list[tuple[int, float]]) -> list[dict]:
    return [{"arch_id": str(i), "macs": m, "fitness": f} for i, (m, f) in enumerate(points)]


def test_select_pareto_takes_fronts_in_order() -> None:
    pts = [(1, 10.0), (2, 20.0), (3, 30.0), (2, 15.0), (3, 25.0), (4, 5.0), (5, 31.0)]
    es = entries(pts)
    fronts = non_dominated_fronts(es)
    assert [e["arch_id"] for e in fronts[0]] == ["0", "1", "2", "6"]
    assert [e["arch_id"] for e in fronts[1]] == ["3", "4"]
    assert {e["arch_id"] for e in select_pareto(es, 4)} == {"0", "1", "2", "6"}
    assert {e["arch_id"] for e in select_pareto(es, 5)} <= {"0", "1", "2", "6", "3", "4"}
    assert len(select_pareto(es, 5)) == 5
    # a partial front keeps its two ends
    two = {e["arch_id"] for e in select_pareto(es, 2)}
    assert two == {"0", "6"}


def test_pareto_search_improves_the_front(space) -> None:
    def evaluate(archs):  # accuracy grows with MACs, plus an arch-dependent bonus
        return [space.cost(a).macs / 1e4 + 5 * a["kernel_size"][0] for a in archs]

    res = pareto_evolution_search(space, evaluate, seed=0, population=8, generations=3,
                                  topk=4, n_crossover=3, n_mutation=3, mutation_prob=0.3)
    again = pareto_evolution_search(space, evaluate, seed=0, population=8, generations=3,
                                    topk=4, n_crossover=3, n_mutation=3, mutation_prob=0.3)
    assert [e["arch_id"] for e in res.evaluated] == [e["arch_id"] for e in again.evaluated]
    assert res.meta["searcher"] == "pareto-evolution" and res.n_evaluated == 24
    front = pareto_front([(e["macs"], e["fitness"]) for e in res.evaluated])
    assert len(front) >= 2


def test_registered_samplers(space, prior) -> None:
    attentive = get_method("sampler", "bestup").settings
    context = SamplerContext(prior=lambda: prior, settings=attentive(k=4, scorer="loss"))
    uniform = get_method("sampler", "uniform", paper="attentivenas").factory(space, 0, context)
    # the uniform sampler's stream is the one SandwichStep uses for its own uniform slots
    rng = random.Random(0)
    assert [uniform(None, None, None, None)[0] for _ in range(5)] == [space.sample(rng)
                                                                      for _ in range(5)]
    best = get_method("sampler", "bestup", paper="attentivenas").factory(space, 0, context)
    worst = get_method("sampler", "worstup", paper="attentivenas").factory(space, 0, context)
    assert isinstance(best, AttentiveChooser) and (best.mode, best.k) == ("best", 4)
    assert worst.mode == "worst" and worst.scorer == "loss"
    by_macs = SamplerContext(prior=lambda: prior, settings=attentive(k=5, scorer="predictor"),
                             predictor=lambda: (lambda archs: [space.cost(a).macs
                                                               for a in archs]))
    pred = get_method("sampler", "bestup", paper="attentivenas").factory(space, 0, by_macs)
    model = space.build_supernet()
    x, y = torch.zeros(2, 1, 8, 8), torch.zeros(2, dtype=torch.long)
    ctx = SimpleNamespace(criterion=torch.nn.CrossEntropyLoss())
    arch = pred(model, x, y, ctx)[0]
    # the predictor says "more MACs = more accurate": BestUp takes the dearest candidate
    assert space.cost(arch).macs == max(space.cost(a).macs for a in pred.last["candidates"])


def test_sandwich_with_the_uniform_sampler_equals_its_own_uniform_slots(space) -> None:
    """Passing the registered uniform sampler as ``choose`` trains the same subnets as the
    step's built-in uniform slots (the results of the uniform supernets do not move)."""
    context = SamplerContext(prior=lambda: None)
    uniform = get_method("sampler", "uniform", paper="attentivenas").factory(space, 3, context)
    model = space.build_supernet()
    x, y = torch.randn(4, 1, 8, 8), torch.tensor([0, 1, 2, 3])
    ctx = SimpleNamespace(criterion=torch.nn.CrossEntropyLoss())
    own, plugged = SandwichStep(space, 3, n_random=2), SandwichStep(space, 3, n_random=2,
                                                                   choose=uniform)
    for _ in range(3):
        own(model, x, y, ctx)
        plugged(model, x, y, ctx)
        model.zero_grad()
    assert own.sampled_macs == plugged.sampled_macs and len(own.sampled_macs) == 6


def test_config_sections_fill_defaults() -> None:
    for profile in ("tiny", "default", "cifar10", "imagenet"):
        ac = load_config(profile)["attentivenas"]
        assert ac["methods"]["sampler"] == ["uniform", "bestup", "worstup"]
        assert ac["attentive"]["k"] >= 1 and ac["sandwich"]["grad_clip_value"] == 1.0
        get_space(ac["preset"])  # the preset exists
    ac = load_config("imagenet")["attentivenas"]
    assert ac["preset"] == "mobilenet/attentivenas" and ac["prior"]["bucket_macs"] == 25e6
    assert ac["supernet_train"]["epochs"] == 360 and ac["predictor"]["short_epochs"] == 30


def test_prior_draws_whole_buckets(prior) -> None:
    rng = random.Random(0)
    low, high = prior.sample_range(rng)
    assert (low, high) in zip(prior.edges, prior.edges[1:], strict=False)
