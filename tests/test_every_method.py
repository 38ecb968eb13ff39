"""Every registered method of every kind runs on the tiny space of every paper it names
(timm's test-every-model pattern): built-ins and the toy plug-ins of tests/toy_methods, one per
kind. A method added to ``methods/`` is picked up here without editing this file."""

from __future__ import annotations

import copy
import math
import random
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from nasrepro import registry
from nasrepro.config import load_config
from nasrepro.samplers import SamplerContext, uniform_prior
from nasrepro.samplers.darts_search import derived_arch
from tests.conftest import REPO

TOY_METHODS = str(REPO / "tests" / "toy_methods")


def _all_methods() -> list[tuple[str, str, str]]:
    """(kind, name, paper) of every registration, toy plug-ins included."""
    import os

    before = os.environ.get("NASREPRO_METHODS")
    os.environ["NASREPRO_METHODS"] = TOY_METHODS
    try:
        entries = registry.list_methods()
    finally:
        if before is None:
            del os.environ["NASREPRO_METHODS"]
        else:
            os.environ["NASREPRO_METHODS"] = before
    return [(e.kind, e.name, p) for e in entries for p in e.papers]


METHODS = _all_methods()
CONFIG = load_config("tiny")


def space_of(paper: str):
    """The tiny profile's space of a paper (FBNetV3: the joint arch + recipe space)."""
    if paper == "spos":
        from nasrepro.papers.spos.experiment import supernet_space
        return supernet_space(CONFIG, "block")
    if paper == "attentivenas":
        from nasrepro.papers.attentivenas.experiment import space_of as an_space
        return an_space(CONFIG)
    if paper == "darts_snas":
        from nasrepro.papers.darts_snas.experiment import search_space
        return search_space(CONFIG)
    from nasrepro.papers.fbnetv3.experiment import joint_space
    return joint_space(CONFIG)


def _batch(space, n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    x = torch.randn(n, *space.input_shape, generator=g)
    return x, torch.arange(n) % 2


def test_every_kind_has_a_toy_plugin() -> None:
    kinds = {kind for kind, name, _ in METHODS if name.startswith("toy-")}
    assert kinds == set(registry.KINDS)


@pytest.mark.parametrize(("name", "paper"), [(n, p) for k, n, p in METHODS if k == "sampler"])
def test_sampler(name: str, paper: str) -> None:
    space = space_of(paper)
    entry = registry.get_method("sampler", name, paper=paper)
    model = space.build_supernet()
    x, y = _batch(space)
    ctx = SimpleNamespace(criterion=torch.nn.CrossEntropyLoss())

    def draws(seed: int) -> list[str]:
        torch.manual_seed(seed)  # a loss scorer runs the model in train mode (dropout)
        context = SamplerContext(prior=uniform_prior(space, n=200),
                                 predictor=lambda: (lambda archs: [0.0] * len(archs)),
                                 settings=registry.method_settings(CONFIG, paper, "sampler",
                                                                   name))
        sampler = entry.factory(space, seed, context)
        out = []
        for _ in range(4):
            archs = sampler(model, x, y, ctx)
            assert len(archs) >= 1
            out += [space.arch_id(space.validate(a)) for a in archs]
        return out

    first = draws(0)
    assert draws(0) == first  # seeded
    assert len(set(first + draws(1))) > 1  # it samples, not a constant


@pytest.mark.parametrize(("name", "paper"), [(n, p) for k, n, p in METHODS if k == "searcher"])
def test_searcher(name: str, paper: str) -> None:
    space = space_of(paper)
    entry = registry.get_method("searcher", name, paper=paper)
    shared = {"population": 4, "topk": 2, "n_crossover": 2, "n_mutation": 2,
              "mutation_prob": 0.5}
    settings = registry.resolve_settings(entry, {}, paper, shared)
    if paper == "darts_snas":  # the random-cell baseline: no supernet, nothing evaluated
        result = entry.factory(space, None, 1, constraint=None, seed=0, settings=settings)
        space.validate(result.best["arch"])
        return
    limit = sorted(space.cost(space.sample(random.Random(i))).macs for i in range(50))[35]

    def evaluate(archs: list[dict]) -> list[float]:  # a known optimum: the most MACs
        return [space.cost(a).macs / 1e6 for a in archs]

    result = entry.factory(space, evaluate, 12, constraint=lambda a: space.cost(a).macs <= limit,
                           seed=0, settings=settings, progress=False)
    assert 1 <= result.n_evaluated <= 12
    assert all(e["macs"] <= limit for e in result.evaluated)
    assert result.best["fitness"] == max(e["fitness"] for e in result.evaluated)
    again = entry.factory(space, evaluate, 12, constraint=lambda a: space.cost(a).macs <= limit,
                          seed=0, settings=settings, progress=False)
    assert [e["arch_id"] for e in again.evaluated] == [e["arch_id"] for e in result.evaluated]


@pytest.mark.parametrize(("name", "paper"),
                         [(n, p) for k, n, p in METHODS if k == "relaxation"])
def test_relaxation(name: str, paper: str) -> None:
    from nasrepro import speed

    config = copy.deepcopy(CONFIG)
    config["darts_snas"]["search"]["batch_size"] = 4
    parts = speed.darts_search_parts(config, name, seed=0)
    work = speed.assemble(name, parts, "cpu", speed.EAGER, batch=4, seed=0)
    before = [p.detach().clone() for p in parts.step.arch.parameters()]
    for _ in range(2):
        work.run()
    after = list(parts.step.arch.parameters())
    assert any(not torch.equal(a, b) for a, b in zip(before, after, strict=True))  # it learns
    assert all(torch.isfinite(p).all() for p in after)
    assert all(torch.isfinite(w).all() for w in parts.step.eval_weights().values())
    space_of(paper).validate(derived_arch(parts.step.arch, rule=parts.step.rule))


@pytest.mark.parametrize(("name", "paper"), [(n, p) for k, n, p in METHODS if k == "predictor"])
def test_predictor(name: str, paper: str) -> None:
    space = space_of(paper)
    entry = registry.get_method("predictor", name, paper=paper)
    rng = random.Random(0)
    cands = [space.sample(rng) for _ in range(24)]
    feats = np.array([space.features(c) for c in cands])
    targets = list(feats @ np.linspace(1.0, 2.0, feats.shape[1]))  # a learnable target
    settings = registry.method_settings(CONFIG, paper, "predictor", name)
    score = entry.factory(space, cands[:16], targets[:16], seed=0, settings=settings,
                          pretrained=None)
    pred = np.asarray(score(cands[16:]), dtype=float)
    assert pred.shape == (8,) and np.isfinite(pred).all()
    again = entry.factory(space, cands[:16], targets[:16], seed=0, settings=settings,
                          pretrained=None)
    assert np.array_equal(np.asarray(again(cands[16:]), dtype=float), pred)  # seeded
    assert not math.isnan(float(np.std(pred)))


def test_single_path_step_refuses_a_sampler_of_several_paths() -> None:
    """A sampler listed for SPOS must give one path per call: one-line ConfigError."""
    from nasrepro.errors import ConfigError
    from nasrepro.samplers import SinglePathStep

    space = space_of("spos")

    class TwoPaths:
        def __init__(self) -> None:
            self.space = space

        def __call__(self, model, x, y, ctx):
            rng = random.Random(0)
            return [space.sample(rng), space.sample(rng)]

    x, y = _batch(space)
    ctx = SimpleNamespace(criterion=torch.nn.CrossEntropyLoss())
    with pytest.raises(ConfigError, match="returned 2 archs"):
        SinglePathStep(TwoPaths())(space.build_supernet(), x, y, ctx)
