"""AttentiveNAS training strategies: the sandwich step with in-place distillation and
attentive (BestUp-k / WorstUp-k) sampling, on ``mobilenet/tiny`` and hand-made fakes."""

from __future__ import annotations

import copy
import io
import math
import random
from types import SimpleNamespace
from typing import Any

import pytest
import torch
import torch.nn.functional as F
from torch import nn
from torch.optim.optimizer import register_optimizer_step_post_hook

import nasrepro.spaces.mobilenet  # noqa: F401  (registers the space)
from nasrepro.samplers.attentive import AttentiveChooser
from nasrepro.samplers.sandwich import SandwichStep, soft_distill_loss
from nasrepro.spaces.base import get_space
from nasrepro.spaces.macs_prior import MacsHistogram, macs_histogram
from nasrepro.training import TrainConfig, train


@pytest.fixture(autouse=True)
def _one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="module")
def space():
    return get_space("mobilenet/tiny")


def supernet(space, seed: int = 0) -> nn.Module:
    return space.build_supernet(generator=torch.Generator().manual_seed(seed))


def batch(n: int = 8, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, 1, 8, 8, generator=g), torch.randint(0, 10, (n,), generator=g)


def ctx_of(smoothing: float = 0.0) -> SimpleNamespace:
    return SimpleNamespace(criterion=nn.CrossEntropyLoss(label_smoothing=smoothing))


def spy_forward(model: nn.Module) -> list[Any]:
    seen: list[Any] = []
    orig = model.forward

    def forward(x, arch):
        seen.append(copy.deepcopy(arch))
        return orig(x, arch)

    model.forward = forward
    return seen


def roundtrip(state: dict) -> dict:
    buf = io.BytesIO()
    torch.save(state, buf)
    buf.seek(0)
    return torch.load(buf, weights_only=True)


# --------------------------------------------------------------------------- sandwich


def test_sandwich_trains_max_then_random_then_min(space) -> None:
    model = supernet(space)
    model.train()
    seen = spy_forward(model)
    x, y = batch()
    step = SandwichStep(space, seed=3, n_random=2)
    metrics = step(model, x, y, ctx_of(0.1))
    rng = random.Random(3)
    expected_random = [space.sample(rng), space.sample(rng)]
    assert seen == [space.max_arch(), *expected_random, space.min_arch()]
    assert step.sampled_macs == [space.cost(a).macs for a in expected_random]
    # loss/acc are the max net's
    with torch.no_grad():
        logits = model(x, space.max_arch())
    assert metrics["loss"] == pytest.approx(float(ctx_of(0.1).criterion(logits, y)), rel=1e-5)
    assert metrics["acc"] == pytest.approx(float((logits.argmax(1) == y).float().mean()))
    assert metrics["sub_loss"] > 0
    # every subnet contributed: the gradient reaches the parameters of the max net
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())


class ScaleSpace:
    """A fake space: an arch is a scale ``s``; cost grows with ``s``."""

    def __init__(self, scales: list[float]) -> None:
        self.scales = scales

    def sample(self, rng: random.Random) -> float:
        return rng.choice(self.scales)

    def min_arch(self) -> float:
        return min(self.scales)

    def max_arch(self) -> float:
        return max(self.scales)

    def cost(self, arch: float) -> SimpleNamespace:
        return SimpleNamespace(macs=int(arch * 100))


class ScaleNet(nn.Module):
    """``logits = s * (x @ W)``: every subnet shares ``W`` with the max net."""

    def __init__(self) -> None:
        super().__init__()
        self.w = nn.Parameter(torch.randn(4, 3, generator=torch.Generator().manual_seed(0)))

    def forward(self, x: torch.Tensor, arch: float) -> torch.Tensor:
        return arch * (x @ self.w)


def test_distillation_targets_are_detached() -> None:
    fake = ScaleSpace([0.5, 1.0, 2.0])
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    model = ScaleNet()
    step = SandwichStep(fake, seed=0, n_random=1)
    step(model, x, y, ctx_of())
    got = model.w.grad.clone()

    # expected: grad of CE(max) + grad of KD(sub) with the teacher logits a constant tensor
    rnd = random.Random(0).choice(fake.scales)
    w = model.w.detach().clone().requires_grad_(True)
    teacher = (2.0 * (x @ w)).detach()
    total = F.cross_entropy(2.0 * (x @ w), y)
    for s in (rnd, 0.5):
        total = total - (F.softmax(teacher, 1) * F.log_softmax(s * (x @ w), 1)).sum(1).mean()
    (expected,) = torch.autograd.grad(total, w)
    torch.testing.assert_close(got, expected)

    # had the teacher not been detached, the gradient would differ
    w2 = model.w.detach().clone().requires_grad_(True)
    t2 = 2.0 * (x @ w2)
    leaky = F.cross_entropy(t2, y)
    for s in (rnd, 0.5):
        leaky = leaky - (F.softmax(t2, 1) * F.log_softmax(s * (x @ w2), 1)).sum(1).mean()
    (leaky_grad,) = torch.autograd.grad(leaky, w2)
    assert not torch.allclose(got, leaky_grad)


def test_soft_distill_loss_is_kl_plus_teacher_entropy() -> None:
    g = torch.Generator().manual_seed(2)
    s, t = torch.randn(5, 7, generator=g), torch.randn(5, 7, generator=g)
    p = F.softmax(t, 1)
    entropy = -(p * p.log()).sum(1).mean()
    kl = F.kl_div(F.log_softmax(s, 1), p, reduction="batchmean")
    torch.testing.assert_close(soft_distill_loss(s, t), kl + entropy)
    # a student equal to its teacher reaches the minimum (the teacher's entropy)
    torch.testing.assert_close(soft_distill_loss(t, t), entropy)


def test_no_distill_uses_the_criterion() -> None:
    fake = ScaleSpace([1.0, 2.0])
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    model = ScaleNet()
    m = SandwichStep(fake, seed=0, n_random=0, distill=False)(model, x, y, ctx_of())
    with torch.no_grad():
        assert m["sub_loss"] == pytest.approx(float(F.cross_entropy(x @ model.w, y)), rel=1e-6)


def tiny_data(n: int = 48, seed: int = 0) -> SimpleNamespace:
    x, y = batch(n, seed)
    return SimpleNamespace(train_x=x, train_y=y, val_x=x[:8], val_y=y[:8], num_classes=10,
                           checksum="rand", flip=False)


def run_training(space, chooser_kind: str, seed: int = 0) -> tuple[list, dict, dict, int]:
    model = supernet(space, seed)
    choose = None
    if chooser_kind != "uniform":
        prior = macs_histogram(space, n=200, seed=0, bucket=2e4)
        choose = AttentiveChooser(space, seed=seed, prior=prior, k=2, mode=chooser_kind)
    step = SandwichStep(space, seed=seed, n_random=1, choose=choose)
    cfg = TrainConfig(epochs=1, batch_size=16, lr=0.05, nesterov=True, label_smoothing=0.1)
    n_steps = []
    handle = register_optimizer_step_post_hook(
        lambda opt, args, kwargs: n_steps.append(1))
    try:
        rows = train(model, tiny_data(), cfg, seed=seed, run_dir=None, step=step, progress=False)
    finally:
        handle.remove()
    return rows, model.state_dict(), step.state_dict(), len(n_steps)


@pytest.mark.parametrize("kind", ["uniform", "best"])
def test_one_epoch_through_the_loop_is_finite_and_deterministic(space, kind: str) -> None:
    rows_a, model_a, step_a, n_opt = run_training(space, kind)
    rows_b, model_b, step_b, _ = run_training(space, kind)
    assert n_opt == 3  # 48 images / batch 16: one optimizer step per batch
    assert len(rows_a) == 1 and torch.isfinite(torch.tensor(rows_a[0]["train_loss"]))
    assert 0.0 <= rows_a[0]["train_acc"] <= 1.0 and rows_a[0]["train_sub_loss"] > 0
    assert rows_a == rows_b
    assert step_a == step_b and len(step_a["sampled_macs"]) == 3
    for k in model_a:
        assert torch.equal(model_a[k], model_b[k]), k


# --------------------------------------------------------------------------- attentive


class IntSpace:
    """A fake space of integer archs 0..9 with MACs ``100 * arch``."""

    def sample(self, rng: random.Random) -> int:
        return rng.randrange(10)

    def min_arch(self) -> int:
        return 0

    def max_arch(self) -> int:
        return 9

    def cost(self, arch: int) -> SimpleNamespace:
        return SimpleNamespace(macs=100 * arch)


class LossIsArch(nn.Module):
    """Labels are all 0 and ``logit_0 = -arch``: the CE loss increases with the arch."""

    def __init__(self) -> None:
        super().__init__()
        self.register_buffer("calls", torch.zeros(()))

    def forward(self, x: torch.Tensor, arch: int) -> torch.Tensor:
        self.calls += 1
        logits = torch.zeros(x.shape[0], 3)
        logits[:, 0] = -float(arch)
        return logits


ONE_BUCKET = MacsHistogram(edges=(0.0, 1000.0), probs=(1.0,), counts=(1,), n=1)


@pytest.mark.parametrize("mode", ["best", "worst"])
def test_bestup_and_worstup_pick_lowest_and_highest_loss(mode: str) -> None:
    chooser = AttentiveChooser(IntSpace(), seed=5, prior=ONE_BUCKET, k=4, mode=mode)
    model = LossIsArch()
    x, y = torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)
    for _ in range(5):
        (arch,) = chooser(model, x, y, ctx_of())
        cands = chooser.last["candidates"]
        assert len(cands) == 4
        assert arch == (min(cands) if mode == "best" else max(cands))
        scores = chooser.last["scores"]
        # CE of logits (-a, 0, 0) at label 0: a + log(exp(-a) + 2), increasing in a
        assert scores == pytest.approx([a + math.log(math.exp(-a) + 2) for a in cands])
    assert float(model.calls) == 0  # buffers restored after scoring


@pytest.mark.parametrize("mode", ["best", "worst"])
def test_predictor_scorer_prefers_high_predicted_accuracy(mode: str) -> None:
    calls = []

    def predictor(archs):
        calls.append(list(archs))
        return [float(a) for a in archs]  # predicted accuracy grows with the arch

    chooser = AttentiveChooser(IntSpace(), seed=1, prior=ONE_BUCKET, k=5, mode=mode,
                               scorer=predictor)
    (arch,) = chooser(nn.Identity(), torch.zeros(1), torch.zeros(1), ctx_of())
    cands = chooser.last["candidates"]
    assert calls == [cands]
    assert arch == (max(cands) if mode == "best" else min(cands))
    assert chooser.last["scores"] == [-float(a) for a in cands]


def test_trained_subnets_fall_in_the_drawn_bucket(space) -> None:
    prior = macs_histogram(space, n=300, seed=0, bucket=2e4)
    chooser = AttentiveChooser(space, seed=0, prior=prior, k=3,
                               scorer=lambda archs: [0.0] * len(archs))
    hits = 0
    for _ in range(30):
        (arch,) = chooser(nn.Identity(), torch.zeros(1), torch.zeros(1), ctx_of())
        low, high = chooser.last["range"]
        in_range = [low <= space.cost(a).macs < high for a in chooser.last["candidates"]]
        if all(in_range):
            hits += 1
            assert low <= space.cost(arch).macs < high
    assert hits >= 25  # the histogram's buckets are non-empty, so sampling nearly always hits


def test_loss_scoring_leaves_bn_buffers_and_mode_unchanged(space) -> None:
    model = supernet(space)
    model.train()
    x, y = batch(8)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    prior = macs_histogram(space, n=200, seed=0, bucket=2e4)
    chooser = AttentiveChooser(space, seed=0, prior=prior, k=3)
    chooser(model, x, y, ctx_of())
    assert model.training
    after = model.state_dict()
    assert any("running_mean" in k for k in before)
    for k, v in before.items():
        assert torch.equal(v, after[k]), k
    # the scores are the candidates' train-mode losses on this batch
    for arch, score in zip(chooser.last["candidates"], chooser.last["scores"], strict=True):
        with torch.no_grad():
            loss = float(F.cross_entropy(model(x, arch), y))
        assert score == pytest.approx(loss, rel=1e-5)
    for k, v in before.items():  # (restore after the check's own forwards)
        after[k].copy_(v)


def test_state_dict_round_trip_resumes_the_same_choices() -> None:
    def make() -> SandwichStep:
        chooser = AttentiveChooser(IntSpace(), seed=7, prior=ONE_BUCKET, k=3, mode="worst")
        return SandwichStep(IntSpace(), seed=7, n_random=2, choose=chooser)

    model = LossIsArch()
    x, y = torch.zeros(4, 2), torch.zeros(4, dtype=torch.long)

    class Rec(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.inner = model
            self.seen: list[int] = []

        def forward(self, x, arch):
            self.seen.append(arch)
            return self.inner(x, arch).requires_grad_(True)

    a = make()
    rec = Rec()
    for _ in range(3):
        a(rec, x, y, ctx_of())
    state = roundtrip(a.state_dict())
    rec.seen.clear()
    for _ in range(3):
        a(rec, x, y, ctx_of())
    expected = list(rec.seen)

    b = make()
    b.load_state_dict(state)
    assert b.sampled_macs == a.sampled_macs[:6]
    rec.seen.clear()
    for _ in range(3):
        b(rec, x, y, ctx_of())
    assert rec.seen == expected
    assert b.state_dict() == a.state_dict()


# --------------------------------------------------------------------------- max-subnet
# regularisation and gradient clipping by value (official train_attentive_nas.py)


class RateNet(ScaleNet):
    """ScaleNet that records the dropout rates in force at each forward."""

    def __init__(self) -> None:
        super().__init__()
        self.rates = (0.0, 0.0)
        self.seen: list[tuple[float, tuple[float, float]]] = []

    def set_dropout_rate(self, dropout: float, drop_connect: float,
                         only_last_two_stages: bool = True) -> None:
        self.rates = (dropout, drop_connect)

    def forward(self, x: torch.Tensor, arch: float) -> torch.Tensor:
        self.seen.append((arch, self.rates))
        return super().forward(x, arch)


def test_dropout_and_drop_connect_only_on_the_max_subnet() -> None:
    fake = ScaleSpace([0.5, 1.0, 2.0])
    model = RateNet()
    step = SandwichStep(fake, seed=0, n_random=2, max_dropout=0.2, max_drop_connect=0.3)
    x = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    step(model, x, torch.tensor([0, 1, 2, 0, 1, 2]), ctx_of())
    assert model.seen[0] == (2.0, (0.2, 0.3))  # the max subnet, regularised
    assert all(rates == (0.0, 0.0) for _, rates in model.seen[1:])
    assert len(model.seen) == 4 and model.rates == (0.0, 0.0)


def test_grad_clip_by_value_after_the_last_backward() -> None:
    fake = ScaleSpace([0.5, 1.0, 2.0])
    x = 50 * torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 1, 2, 0, 1, 2])
    free, clipped = ScaleNet(), ScaleNet()
    SandwichStep(fake, seed=0, n_random=1)(free, x, y, ctx_of())
    SandwichStep(fake, seed=0, n_random=1, grad_clip_value=0.01)(clipped, x, y, ctx_of())
    assert free.w.grad.abs().max() > 0.01
    torch.testing.assert_close(clipped.w.grad, free.w.grad.clamp(-0.01, 0.01))


def test_supernet_dropout_is_reset_after_the_max_subnet(space) -> None:
    model = supernet(space)
    step = SandwichStep(space, seed=0, n_random=1, max_dropout=0.5, max_drop_connect=0.5)
    x, y = batch()
    step(model, x, y, ctx_of())
    assert model.dropout_rate == 0.0
    assert all(b.drop_connect_rate == 0.0 for b in model.blocks)
