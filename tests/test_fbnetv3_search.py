"""FBNetV3 parts: recipe/joint space, Sobol pool, predictor, early stopping, fine evolution,
and recipe fields reaching the shared training loop."""

from __future__ import annotations

import random
from collections import Counter

import numpy as np
import pytest
import torch

from nasrepro.errors import ConfigError
from nasrepro.metrics.ranking import kendall_tau
from nasrepro.predictors.fbnetv3 import (
    PredictorConfig,
    fit_accuracy,
    new_predictor,
    pretrain_proxy,
    proxy_targets,
)
from nasrepro.search.fbnetv3_coarse import (
    choose_early_stop_epoch,
    coarse_search,
    fine_search,
    forward_fill,
    sobol_pool,
)
from nasrepro.spaces.base import get_space
from nasrepro.spaces.fbnetv3 import FBNetV3Net
from nasrepro.spaces.recipe import RECIPE_KEYS, JointSpace, RecipeSpace

RANGES = {
    "optimizer": ["sgd", "rmsprop", "adamw"], "lr": [0.02, 0.3], "weight_decay": [1e-6, 1e-3],
    "label_smoothing": [0.0, 0.2], "mixup_alpha": [0.0, 0.4], "dropout": [0.0, 0.3],
    "drop_path": [0.0, 0.2], "ema": [False, True], "epochs": [1, 3],
}
DEFAULT = {"optimizer": "sgd", "lr": 0.1, "weight_decay": 4e-5, "label_smoothing": 0.0,
           "mixup_alpha": 0.0, "dropout": 0.0, "drop_path": 0.0, "ema": False, "epochs": 2}


@pytest.fixture(scope="module")
def space() -> JointSpace:
    rec = RecipeSpace(RANGES, lr_scale={"rmsprop": 0.01, "adamw": 0.01}, ema_decay=0.9,
                      base_train={"batch_size": 32})
    return JointSpace(get_space("fbnetv3/tiny"), rec)


def test_sobol_pool_is_balanced_reproducible_and_constrained(space: JointSpace) -> None:
    pool = sobol_pool(space, 256, seed=3)
    assert pool == sobol_pool(space, 256, seed=3)
    assert pool != sobol_pool(space, 256, seed=4)
    assert len({space.arch_id(c) for c in pool}) == 256
    # balanced: each choice of a 2-way gene appears half of the time (Sobol: exactly, +-2)
    for gene in (lambda c: c["arch"]["kernel_size"][0], lambda c: c["recipe"]["ema"]):
        counts = Counter(gene(c) for c in pool)
        assert len(counts) == 2 and all(abs(v - 128) <= 2 for v in counts.values())
    opt = Counter(c["recipe"]["optimizer"] for c in pool)
    assert set(opt) == {"sgd", "rmsprop", "adamw"} and max(opt.values()) - min(opt.values()) <= 8
    lrs = np.log([c["recipe"]["lr"] for c in pool])
    hist, _ = np.histogram(lrs, bins=4, range=(np.log(0.02), np.log(0.3)))
    assert hist.min() >= 56  # log-uniform: 64 per quarter
    macs = sorted(space.cost(c).macs for c in pool)
    limit = macs[len(macs) // 3]
    constrained = sobol_pool(space, 64, seed=3,
                             constraint=lambda c: space.cost(c).macs <= limit)
    assert len(constrained) == 64
    assert all(space.cost(c).macs <= limit for c in constrained)


def test_encoding_round_trip(space: JointSpace) -> None:
    rng = random.Random(0)
    for _ in range(50):
        c = space.sample(rng)
        vec = space.encode(c)
        assert len(vec) == space.arch_encoding_size + space.recipes.encoding_size
        assert all(0.0 <= v <= 1.0 for v in vec)
        back = space.decode(vec)
        assert back["arch"] == c["arch"]
        for k in RECIPE_KEYS:
            if isinstance(c["recipe"][k], float):
                assert back["recipe"][k] == pytest.approx(c["recipe"][k], rel=1e-4, abs=1e-9)
            else:
                assert back["recipe"][k] == c["recipe"][k]
    # one-hot optimizer block: exactly one 1 among the three
    enc = space.encode_recipe({**DEFAULT, "optimizer": "rmsprop"})
    assert enc[:3] == [0.0, 1.0, 0.0]


def test_proxy_pretraining_learns_macs(space: JointSpace) -> None:
    cfg = PredictorConfig(hidden=32, proxy_archs=600, proxy_epochs=25)
    model = new_predictor(space, cfg, seed=0)
    rng = random.Random("held-out")
    held = [space.arch_space.sample(rng) for _ in range(200)]
    x = torch.tensor([space.encode_arch(a) for a in held], dtype=torch.float32)
    true = proxy_targets(space.arch_space, held)[:, 0].numpy()
    before = kendall_tau(model.predict_proxy(x)[:, 0].numpy(), true)
    info = pretrain_proxy(model, space, cfg, seed=0)
    after = kendall_tau(model.predict_proxy(x)[:, 0].numpy(), true)
    assert info["losses"][-1] < info["losses"][0] / 3
    assert after > 0.75 and after > before + 0.2


def test_two_phase_fit_freezes_then_unfreezes_the_encoder(space: JointSpace) -> None:
    cfg = PredictorConfig(hidden=16, phase1_epochs=5, phase2_epochs=0)
    rng = random.Random(1)
    cands = [space.sample(rng) for _ in range(20)]
    y = [float(sum(c["arch"]["width"])) for c in cands]
    model = new_predictor(space, cfg, seed=0)
    enc0 = [p.detach().clone() for p in model.encoder.parameters()]
    head0 = [p.detach().clone() for p in model.acc_head.parameters()]
    info = fit_accuracy(model, space, cands, y, cfg, seed=0)
    assert info["encoder_frozen_in_phase1"]
    assert all(torch.equal(a, b) for a, b in zip(enc0, model.encoder.parameters(), strict=True))
    assert not all(torch.equal(a, b) for a, b in zip(head0, model.acc_head.parameters(),
                                                     strict=True))
    cfg2 = PredictorConfig(hidden=16, phase1_epochs=5, phase2_epochs=5)
    model2 = new_predictor(space, cfg2, seed=0)
    info2 = fit_accuracy(model2, space, cands, y, cfg2, seed=0)
    assert info2["encoder_frozen_in_phase1"] and len(info2["phase2_losses"]) == 5
    assert not all(torch.equal(a, b) for a, b in zip(enc0, model2.encoder.parameters(),
                                                     strict=True))
    assert all(p.requires_grad for p in model2.parameters())


def test_early_stop_epoch_on_a_hand_made_matrix() -> None:
    # epoch 1 ranks inversely, epoch 2 mostly right, epoch 3 = final
    acc = np.array([[10, 50, 60, 70],
                    [20, 40, 55, 65],
                    [30, 30, 50, 60],
                    [40, 35, 45, 55],
                    [50, 10, 20, 30]], dtype=float)
    epoch, corrs = choose_early_stop_epoch(acc, threshold=0.7)
    assert corrs[0] == pytest.approx(-1.0)
    assert corrs[1] == pytest.approx(0.8)  # one discordant pair of 10
    assert corrs[-1] == pytest.approx(1.0)
    assert epoch == 2
    assert choose_early_stop_epoch(acc, threshold=0.9)[0] == 3
    assert choose_early_stop_epoch(acc, threshold=-1.0)[0] == 1
    # shorter curves repeat their last value
    filled = forward_fill([[1.0, 2.0, 3.0], [5.0]])
    assert filled.tolist() == [[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]


def _toy_score(space: JointSpace) -> callable:
    def score(cands: list[dict]) -> np.ndarray:
        return np.array([sum(space.encode_arch(c["arch"])) - abs(np.log(c["recipe"]["lr"] / 0.1))
                         for c in cands])
    return score


def test_fine_search_improves_a_toy_objective_and_stops_with_patience(space: JointSpace) -> None:
    score = _toy_score(space)
    rng = random.Random(5)
    start = [space.sample(rng) for _ in range(4)]
    res = fine_search(space, score, start=start, constraint=None, population=16,
                      max_generations=30, patience=3, topk=4, n_crossover=6, n_mutation=6,
                      mutation_prob=0.3, seed=0)
    first = max(e["fitness"] for e in res.evaluated if e["generation"] == 0)
    assert res.best["fitness"] > first + 1.0
    # the start candidates are in the first population
    ids = {e["arch_id"] for e in res.evaluated if e["generation"] == 0}
    assert {space.arch_id(c) for c in start} <= ids
    stopped = res.meta["stopped_at"]
    assert stopped <= 30
    if stopped < 30:  # stopped by patience: the last 3 generations did not improve
        best_by_gen = {}
        for e in res.evaluated:
            best_by_gen[e["generation"]] = max(best_by_gen.get(e["generation"], -1e9),
                                               e["fitness"])
        gens = sorted(best_by_gen)
        running = np.maximum.accumulate([best_by_gen[g] for g in gens])
        assert running[-1] == running[-4]


def test_coarse_search_trains_first_batch_fully_then_early_stops(space: JointSpace) -> None:
    pool = sobol_pool(space, 20, seed=0)
    calls = []

    def train_fn(cands: list[dict], stops: list[int | None]) -> list[list[float]]:
        calls.append(stops)
        out = []
        for c, stop in zip(cands, stops, strict=True):
            q = sum(space.encode_arch(c["arch"]))
            n = c["recipe"]["epochs"] if stop is None else min(stop, c["recipe"]["epochs"])
            out.append([100.0 * q + 0.01 * e for e in range(n)])
        return out

    def fit_fn(cands: list[dict], scores: list[float], it: int) -> callable:
        return lambda cs: np.array([sum(space.encode_arch(c["arch"])) for c in cs])

    res = coarse_search(space, pool, train_fn, fit_fn, batch_size=5, iterations=3,
                        threshold=0.9, explore=0.2, seed=0)
    assert calls[0] == [None] * 5
    assert all(s == res.stop_epoch for stops in calls[1:] for s in stops)
    assert res.stop_epoch == 1  # every epoch ranks like the last one here
    assert len(res.entries) == 15 and len(res.iterations) == 3
    assert len({space.arch_id(e["candidate"]) for e in res.entries}) == 15
    assert all(len(e["curve"]) <= 1 for e in res.entries if e["iteration"] > 0)
    assert not any(e["heldout"] for e in res.entries)


def test_coarse_heldout_candidates_train_to_the_end_without_changing_the_search(
        space: JointSpace) -> None:
    """``heldout`` later candidates train fully; batches, scores and the stop epoch are those
    of the search without held-out candidates (claim F4's held-out test)."""
    pool = sobol_pool(space, 30, seed=1)

    def train_fn(cands: list[dict], stops: list[int | None]) -> list[list[float]]:
        full = 4
        out = []
        for c, stop in zip(cands, stops, strict=True):
            q = sum(space.encode_arch(c["arch"]))
            # rank at epoch 1 is the reverse of the final rank for half of the archs
            curve = [q if e < 2 else (-q if q % 2 else q) + 0.1 * e for e in range(full)]
            out.append(curve[:full if stop is None else stop])
        return out

    def fit_fn(cands: list[dict], scores: list[float], it: int) -> callable:
        return lambda cs: np.array([sum(space.encode_arch(c["arch"])) for c in cs])

    kw = dict(batch_size=6, iterations=3, threshold=0.99, explore=0.5, seed=3)
    plain = coarse_search(space, pool, train_fn, fit_fn, **kw)
    held = coarse_search(space, pool, train_fn, fit_fn, heldout=2, **kw)
    assert held.stop_epoch == plain.stop_epoch < 4
    assert [space.arch_id(e["candidate"]) for e in held.entries] == \
        [space.arch_id(e["candidate"]) for e in plain.entries]
    assert [e["score"] for e in held.entries] == [e["score"] for e in plain.entries]
    for it in (1, 2):
        batch = [e for e in held.entries if e["iteration"] == it]
        assert sum(e["heldout"] for e in batch) == 2
        assert all(len(e["curve"]) == (4 if e["heldout"] else held.stop_epoch) for e in batch)
    assert not any(e["heldout"] for e in held.entries if e["iteration"] == 0)
    with pytest.raises(ConfigError, match="heldout"):
        coarse_search(space, pool, train_fn, fit_fn, heldout=7, **kw)


# --- recipe fields reach the one training loop ----------------------------------------------
class _Data:
    def __init__(self) -> None:
        g = torch.Generator().manual_seed(0)
        self.train_x = torch.randn(64, 1, 8, 8, generator=g)
        self.train_y = torch.randint(0, 10, (64,), generator=g)
        self.val_x, self.val_y = self.train_x[:16], self.train_y[:16]
        self.num_classes = 10


def _train(space: JointSpace, recipe: dict, both: bool = False) -> torch.nn.Module | tuple:
    from nasrepro.training import TrainConfig, train

    arch = space.arch_space.min_arch()
    torch.manual_seed(0)
    model = space.arch_space.build(arch, dropout=space.recipes.dropout(recipe))
    seen = {}

    def eval_fn(m: torch.nn.Module) -> dict:
        seen["model"] = m
        return {}

    cfg = TrainConfig.from_dict(space.recipes.train_config(recipe))
    train(model, _Data(), cfg, seed=0, run_dir=None, eval_fn=eval_fn, progress=False)
    return (model, seen["model"]) if both else seen["model"]


def test_recipe_fields_change_training(space: JointSpace) -> None:
    base = {**DEFAULT, "epochs": 1}
    cfg = space.recipes.train_config({**base, "optimizer": "adamw", "lr": 0.2, "ema": True,
                                      "drop_path": 0.1, "mixup_alpha": 0.3,
                                      "label_smoothing": 0.1, "weight_decay": 1e-4})
    assert cfg["optimizer"] == "adamw" and cfg["lr"] == pytest.approx(0.002)
    assert cfg["ema_decay"] == 0.9 and cfg["drop_path"] == 0.1
    assert cfg["mixup_alpha"] == 0.3 and cfg["label_smoothing"] == 0.1
    assert cfg["batch_size"] == 32 and cfg["epochs"] == 1

    def flat(m: torch.nn.Module) -> torch.Tensor:
        return torch.cat([p.detach().flatten() for p in m.parameters()])

    plain = _train(space, base)
    raw, ema = _train(space, {**base, "ema": True}, both=True)
    # with EMA the evaluated model is the averaged copy: its weights differ from the raw ones
    assert ema is not raw and isinstance(ema, FBNetV3Net)
    assert not torch.equal(flat(raw), flat(ema))
    assert torch.equal(flat(raw), flat(plain))  # EMA does not change the raw training
    assert torch.equal(flat(plain), flat(_train(space, base)))  # deterministic
    for field, value in (("optimizer", "rmsprop"), ("mixup_alpha", 0.3), ("dropout", 0.3),
                         ("label_smoothing", 0.15), ("weight_decay", 1e-3)):
        assert not torch.equal(flat(plain), flat(_train(space, {**base, field: value}))), field

    net = space.arch_space.build(space.arch_space.max_arch(), dropout=0.25)
    assert net.dropout_rate == 0.25
    net.drop_path_prob = 0.2
    rates = [b.drop_connect_rate for b in net.blocks]
    assert rates[0] == 0.0 and rates[-1] == pytest.approx(0.2 * (len(rates) - 1) / len(rates))
    dp = _train(space, {**base, "drop_path": 0.15})
    assert dp.drop_path_prob == pytest.approx(0.15)
    assert not torch.equal(flat(plain), flat(dp))
