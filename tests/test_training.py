"""Tests of the shared training loop: config, schedules, optimizer groups, strategies, resume."""

from __future__ import annotations

import math
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nasrepro.errors import ConfigError, TrainingError
from nasrepro.evaluation import accuracy
from nasrepro.training import (
    StandardStep,
    StepContext,
    TrainConfig,
    build_optimizer,
    drop_path_at,
    linear_anneal,
    load_checkpoint,
    lr_at,
    steps_per_epoch_of,
    train,
)

# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: one thread is much faster on a shared machine (restored afterwards)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def blobs(n: int = 192, d: int = 8, k: int = 3, seed: int = 0, sep: float = 4.0
          ) -> SimpleNamespace:
    """A linearly separable k-class problem as a DataBundle-like namespace."""
    g = torch.Generator().manual_seed(seed)
    centers = torch.randn(k, d, generator=g) * sep
    y = torch.arange(n) % k
    x = centers[y] + torch.randn(n, d, generator=g)
    nv = n // 4
    return SimpleNamespace(train_x=x[nv:], train_y=y[nv:], val_x=x[:nv], val_y=y[:nv],
                           test_x=x[:nv], test_y=y[:nv], num_classes=k, input_shape=(d,),
                           checksum="blobs", flip=False)


def mlp(d: int = 8, k: int = 3, seed: int = 0, dropout: float = 0.0) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(d, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(16, k))


def cfg(**kw) -> TrainConfig:
    base = dict(epochs=3, batch_size=32, lr=0.1)
    base.update(kw)
    return TrainConfig(**base)


def same_state(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def val_acc(data):
    return lambda m: {"val_acc": accuracy(m, data.val_x, data.val_y)}


# --------------------------------------------------------------------------- schedules


def test_cosine_endpoints_and_midpoint():
    c = cfg(lr=1.0, lr_min=0.1, schedule="cosine")
    total, spe = 100, 10
    assert lr_at(0, total, c, spe) == pytest.approx(1.0)
    assert lr_at(total, total, c, spe) == pytest.approx(0.1)
    assert lr_at(50, total, c, spe) == pytest.approx(0.55)
    lrs = [lr_at(s, total, c, spe) for s in range(total + 1)]
    assert all(a > b for a, b in zip(lrs, lrs[1:], strict=False))


def test_linear_decay_is_spos_per_iteration():
    c = cfg(lr=0.5, schedule="linear")
    total, spe = 1000, 100
    for s in (0, 1, 250, 999, 1000):
        assert lr_at(s, total, c, spe) == pytest.approx(0.5 * (1 - s / total))
    c2 = cfg(lr=0.5, lr_min=0.1, schedule="linear")
    assert lr_at(total, total, c2, spe) == pytest.approx(0.1)
    assert lr_at(500, total, c2, spe) == pytest.approx(0.3)


def test_warmup_ramp_then_schedule():
    c = cfg(epochs=10, lr=1.0, warmup_epochs=2, schedule="cosine")
    spe, total = 10, 100
    ramp = [lr_at(s, total, c, spe) for s in range(20)]
    assert ramp[0] == pytest.approx(1 / 20)
    assert ramp[19] == pytest.approx(1.0)
    assert all(b - a == pytest.approx(1 / 20) for a, b in zip(ramp, ramp[1:], strict=False))
    assert lr_at(20, total, c, spe) == pytest.approx(1.0)  # cosine starts after warm-up
    assert lr_at(60, total, c, spe) == pytest.approx(0.5)  # halfway through the 80 cosine steps
    assert lr_at(100, total, c, spe) == pytest.approx(0.0)


def test_constant_and_per_epoch_schedules():
    c = cfg(lr=0.3, schedule="constant")
    assert {lr_at(s, 50, c, 10) for s in range(51)} == {0.3}
    ce = cfg(epochs=5, lr=1.0, schedule="cosine", schedule_unit="epoch")
    per_epoch = [[lr_at(e * 10 + i, 50, ce, 10) for i in range(10)] for e in range(5)]
    assert all(len(set(ep)) == 1 for ep in per_epoch)
    assert per_epoch[0][0] == pytest.approx(1.0)
    assert per_epoch[2][0] == pytest.approx(0.5 * (1 + math.cos(math.pi * 0.4)))


def test_drop_path_and_linear_anneal():
    c = cfg(epochs=10, drop_path=0.2)
    assert drop_path_at(0, c) == 0.0
    assert drop_path_at(5, c) == pytest.approx(0.1)
    assert drop_path_at(5, cfg(epochs=10, drop_path=0.2, drop_path_schedule="constant")) == 0.2
    assert linear_anneal(1.0, 0.03, 0, 150) == 1.0
    assert linear_anneal(1.0, 0.03, 149, 150) == pytest.approx(0.03)


def test_steps_per_epoch():
    assert steps_per_epoch_of(100, cfg(batch_size=32)) == 3
    assert steps_per_epoch_of(10, cfg(batch_size=32)) == 1
    assert steps_per_epoch_of(1000, cfg(batch_size=10, steps_per_epoch=7)) == 7


# --------------------------------------------------------------------------- config


def test_from_dict_roundtrip_and_numeric_strings():
    c = TrainConfig.from_dict({"epochs": 2, "batch_size": 8, "lr": "5e-4", "weight_decay": "4e-5",
                               "grad_clip": 5, "betas": [0.5, 0.999]})
    assert c.lr == 5e-4 and c.weight_decay == 4e-5 and c.grad_clip == 5.0
    assert c.betas == (0.5, 0.999)
    assert TrainConfig.from_dict(c.to_dict()) == c


@pytest.mark.parametrize(
    "d, words",
    [
        ({"epochs": 1, "batch_size": 8, "lr": 0.1, "learning_rate": 1}, ["learning_rate",
                                                                         "allowed keys", "lr"]),
        ({"epochs": 1, "batch_size": 8, "lr": 0.1, "optimizer": "lamb"}, ["optimizer", "lamb",
                                                                          "sgd", "adamw",
                                                                          "rmsprop"]),
        ({"epochs": 1, "batch_size": 8, "lr": 0.1, "schedule": "step"}, ["schedule", "cosine"]),
        ({"epochs": 1, "batch_size": 8}, ["missing", "lr"]),
        ({"epochs": 0, "batch_size": 8, "lr": 0.1}, ["epochs", "range"]),
        ({"epochs": 1, "batch_size": 8, "lr": -1.0}, ["'lr'", "range"]),
        ({"epochs": 1, "batch_size": 8, "lr": 0.1, "flip": "yes"}, ["flip", "true or false"]),
        ({"epochs": 1, "batch_size": 8.5, "lr": 0.1}, ["batch_size", "integer"]),
        ({"epochs": 1, "batch_size": 8, "lr": "fast"}, ["'lr'", "number"]),
        ({"epochs": 1, "batch_size": 8, "lr": 0.1, "label_smoothing": 1.0}, ["label_smoothing"]),
        ({"epochs": 1, "batch_size": 8, "lr": 0.1, "ema_decay": 1.5}, ["ema_decay"]),
        ({"epochs": 2, "batch_size": 8, "lr": 0.1, "warmup_epochs": 3}, ["warmup_epochs"]),
        ({"epochs": 2, "batch_size": 8, "lr": 0.1, "lr_min": 0.2}, ["lr_min"]),
    ],
)
def test_from_dict_errors_name_key_and_allowed(d, words):
    with pytest.raises(ConfigError) as e:
        TrainConfig.from_dict(d)
    msg = str(e.value)
    assert "\n" not in msg
    for w in words:
        assert w in msg


# --------------------------------------------------------------------------- optimizer


def test_optimizer_groups_no_wd_on_bn_and_bias():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.Flatten(), nn.Linear(4, 2))
    opt = build_optimizer(model, cfg(weight_decay=1e-4, nesterov=True))
    assert isinstance(opt, torch.optim.SGD)
    assert opt.defaults["nesterov"] is True and opt.defaults["momentum"] == 0.9
    decay, no_decay = opt.param_groups
    assert decay["weight_decay"] == 1e-4 and no_decay["weight_decay"] == 0.0
    assert {id(p) for p in decay["params"]} == {id(model[0].weight), id(model[3].weight)}
    assert {id(p) for p in no_decay["params"]} == {
        id(model[0].bias), id(model[1].weight), id(model[1].bias), id(model[3].bias)}
    all_wd = build_optimizer(model, cfg(weight_decay=1e-4, no_wd_bn_bias=False))
    assert len(all_wd.param_groups) == 1
    assert len(all_wd.param_groups[0]["params"]) == 6
    assert all_wd.param_groups[0]["weight_decay"] == 1e-4


@pytest.mark.parametrize("name, cls", [("adamw", torch.optim.AdamW), ("adam", torch.optim.Adam),
                                       ("rmsprop", torch.optim.RMSprop)])
def test_optimizer_types(name, cls):
    shared = nn.Linear(3, 3)
    params = list(shared.parameters()) * 2  # shared params are counted once
    opt = build_optimizer(params, cfg(optimizer=name, weight_decay=0.1, eps=1e-3))
    assert isinstance(opt, cls)
    assert sum(len(g["params"]) for g in opt.param_groups) == 2
    assert opt.defaults["eps"] == 1e-3


# --------------------------------------------------------------------------- the loop


def test_learns_separable_problem_and_log_columns():
    data = blobs()
    rows = train(mlp(), data, cfg(epochs=4, lr=0.1, weight_decay=1e-4), seed=0, run_dir=None,
                 eval_fn=val_acc(data), progress=False)
    assert [r["epoch"] for r in rows] == [1, 2, 3, 4]
    assert set(rows[0]) == {"epoch", "lr", "train_loss", "train_acc", "val_acc"}
    assert rows[-1]["val_acc"] >= 0.95
    assert rows[-1]["train_loss"] < rows[0]["train_loss"]


def test_label_smoothing_reaches_the_criterion():
    seen = []

    def step(model, x, y, ctx: StepContext):
        logits = model(x)
        loss = ctx.criterion(logits, y)
        seen.append((ctx.criterion.label_smoothing, float(loss.detach()),
                     float(F.cross_entropy(logits.detach(), y, label_smoothing=0.1))))
        loss.backward()
        return {"loss": float(loss.detach())}

    train(mlp(), blobs(), cfg(epochs=1, label_smoothing=0.1), seed=0, run_dir=None, step=step,
          progress=False)
    assert seen and all(ls == 0.1 and a == pytest.approx(b) for ls, a, b in seen)


def test_grad_clip_caps_update_norm():
    model = nn.Linear(8, 3)
    before = [p.detach().clone() for p in model.parameters()]

    def huge(model, x, y, ctx):
        loss = 1e4 * F.cross_entropy(model(x), y)
        loss.backward()
        return {"loss": float(loss.detach())}

    c = cfg(epochs=1, steps_per_epoch=1, lr=0.01, momentum=0.0, schedule="constant",
            grad_clip=0.5)
    train(model, blobs(), c, seed=0, run_dir=None, step=huge, progress=False)
    delta = torch.cat([(p.detach() - b).flatten() for p, b in zip(model.parameters(), before,
                                                                   strict=True)])
    assert delta.norm().item() == pytest.approx(0.01 * 0.5, rel=1e-4)


def test_gradient_accumulation_over_several_backwards():
    """A sandwich-style step calling backward() twice makes one step with the summed gradient."""

    def once(model, x, y, ctx):
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        return {"loss": float(loss.detach())}

    def twice(model, x, y, ctx):
        for _ in range(2):
            loss = F.cross_entropy(model(x), y)
            loss.backward()
        return {"loss": float(loss.detach())}

    c = cfg(epochs=1, steps_per_epoch=1, lr=0.01, momentum=0.0, schedule="constant")
    moved = []
    for step in (once, twice):
        torch.manual_seed(0)
        model = nn.Linear(8, 3)
        w0 = model.weight.detach().clone()
        train(model, blobs(), c, seed=0, run_dir=None, step=step, progress=False)
        moved.append(model.weight.detach() - w0)
    torch.testing.assert_close(moved[1], 2 * moved[0])


def test_two_runs_are_bit_identical():
    data = blobs()
    c = cfg(epochs=2, mixup_alpha=0.2, ema_decay=0.9, warmup_epochs=1)
    states, logs = [], []
    for _ in range(2):
        model = mlp(dropout=0.2)
        logs.append(train(model, data, c, seed=3, run_dir=None, eval_fn=val_acc(data),
                          progress=False))
        states.append(model.state_dict())
    assert same_state(*states)
    assert logs[0] == logs[1]
    other = mlp(dropout=0.2)
    train(other, data, c, seed=4, run_dir=None, progress=False)
    assert not same_state(states[0], other.state_dict())


class Interrupt(Exception):
    pass


class FlakyStep(StandardStep):
    """Raises once at the first step of ``fail_epoch`` (a simulated kill)."""

    def __init__(self, fail_epoch: int | None) -> None:
        super().__init__()
        self.fail_epoch = fail_epoch
        self.calls = 0

    def __call__(self, model, x, y, ctx):
        if ctx.epoch == self.fail_epoch:
            raise Interrupt
        self.calls += 1
        return super().__call__(model, x, y, ctx)


def test_resume_after_kill_is_bit_identical(tmp_path):
    data = blobs()
    c = cfg(epochs=3, mixup_alpha=0.2, ema_decay=0.9, warmup_epochs=1, weight_decay=1e-4)

    ref = mlp(dropout=0.2)
    ref_rows = train(ref, data, c, seed=1, run_dir=tmp_path / "ref", eval_fn=val_acc(data),
                     progress=False)

    run = tmp_path / "killed"
    killed = mlp(dropout=0.2)
    with pytest.raises(Interrupt):
        train(killed, data, c, seed=1, run_dir=run, step=FlakyStep(2), eval_fn=val_acc(data),
              progress=False)
    assert load_checkpoint(run / "checkpoint.pt")["epoch"] == 1
    assert len((run / "log.csv").read_text().splitlines()) == 3  # header + 2 epochs

    resumed = mlp(dropout=0.2, seed=99)  # a fresh process: different init, restored from disk
    step = FlakyStep(None)
    rows = train(resumed, data, c, seed=1, run_dir=run, step=step, eval_fn=val_acc(data),
                 progress=False)
    assert step.calls == steps_per_epoch_of(data.train_x.shape[0], c)  # only epoch 3 ran
    assert rows == ref_rows
    assert same_state(resumed.state_dict(), ref.state_dict())
    assert (run / "log.csv").read_bytes() == (tmp_path / "ref" / "log.csv").read_bytes()

    # a finished run returns its log without training again
    again = mlp(seed=5, dropout=0.2)
    assert train(again, data, c, seed=1, run_dir=run, progress=False, eval_fn=val_acc(data)) == rows
    assert same_state(again.state_dict(), ref.state_dict())


def test_resume_with_other_config_is_refused(tmp_path):
    data = blobs()
    train(mlp(), data, cfg(epochs=1), seed=0, run_dir=tmp_path, progress=False)
    with pytest.raises(TrainingError, match=r"different config \(train\.lr\).*delete"):
        train(mlp(), data, cfg(epochs=1, lr=0.2), seed=0, run_dir=tmp_path, progress=False)
    with pytest.raises(TrainingError, match="seed"):
        train(mlp(), data, cfg(epochs=1), seed=1, run_dir=tmp_path, progress=False)


def test_log_csv_has_no_wallclock_and_is_rerun_identical(tmp_path):
    data = blobs()
    for name in ("a", "b"):
        train(mlp(), data, cfg(epochs=2), seed=0, run_dir=tmp_path / name, eval_fn=val_acc(data),
              progress=False)
    text = (tmp_path / "a" / "log.csv").read_text()
    assert text.splitlines()[0] == "epoch,lr,train_loss,train_acc,val_acc"
    assert text == (tmp_path / "b" / "log.csv").read_text()


def test_nan_loss_raises_and_writes_nothing_for_that_epoch(tmp_path):
    def nan_at_epoch_1(model, x, y, ctx):
        out = model(x)
        loss = F.cross_entropy(out, y) * (float("nan") if ctx.epoch == 1 else 1.0)
        loss.backward()
        return {"loss": float(loss.detach())}

    model = mlp()
    with pytest.raises(TrainingError) as e:
        train(model, blobs(), cfg(epochs=3), seed=0, run_dir=tmp_path, step=nan_at_epoch_1,
              progress=False)
    msg = str(e.value)
    assert "loss is nan at epoch 2 step 0" in msg and "lr" in msg and "grad_clip" in msg
    assert len((tmp_path / "log.csv").read_text().splitlines()) == 2  # header + epoch 1
    assert load_checkpoint(tmp_path / "checkpoint.pt")["epoch"] == 0
    assert all(torch.isfinite(p).all() for p in model.parameters())  # no step taken on NaN


def test_ema_weights_are_used_for_evaluation():
    data = blobs()
    c = cfg(epochs=2, ema_decay=0.8, lr=0.05)
    raw_snapshots = []

    def recording(model, x, y, ctx):
        raw_snapshots.append(model[0].weight.detach().clone())  # weights before this update
        return StandardStep()(model, x, y, ctx)

    seen = {}

    def eval_fn(m):
        seen["model"] = m
        seen["w"] = m[0].weight.detach().clone()
        return {"val_acc": accuracy(m, data.val_x, data.val_y)}

    model = mlp()
    train(model, data, c, seed=0, run_dir=None, step=recording, eval_fn=eval_fn, progress=False)
    assert seen["model"] is not model
    assert not torch.equal(seen["w"], model[0].weight)
    # EMA = copy of the weights after the first step, then ema <- 0.8 ema + 0.2 w after each step
    after = raw_snapshots[1:] + [model[0].weight.detach()]
    ema = after[0].clone()
    for w in after[1:]:
        ema = 0.8 * ema + 0.2 * w
    torch.testing.assert_close(seen["w"], ema)


def test_mixup_changes_loss_and_gives_soft_targets():
    targets = []

    def recording(model, x, y, ctx):
        targets.append((y.clone(), ctx.mixup))
        return StandardStep()(model, x, y, ctx)

    data = blobs()
    plain = train(mlp(), data, cfg(epochs=1), seed=0, run_dir=None, progress=False)
    mixed = train(mlp(), data, cfg(epochs=1, mixup_alpha=1.0), seed=0, run_dir=None,
                  step=recording, progress=False)
    assert mixed[0]["train_loss"] != pytest.approx(plain[0]["train_loss"])
    y, (lam, perm) = targets[0]
    assert y.shape == (32, data.num_classes)
    torch.testing.assert_close(y.sum(1), torch.ones(32))
    assert 0.0 <= lam <= 1.0 and sorted(perm.tolist()) == list(range(32))
    allowed = torch.tensor([0.0, lam, 1.0 - lam, 1.0])
    assert torch.isclose(y[..., None], allowed).any(-1).all()  # convex pairs of one-hots
    assert ((y > 0) & (y < 1)).any()


def test_strategy_hooks_state_and_parameter_selection(tmp_path):
    class ArchStep(StandardStep):
        """A DARTS-like strategy: owns an 'arch' parameter the loop must not optimise."""

        def __init__(self):
            super().__init__()
            self.alpha = torch.zeros(3)
            self.started = []

        def parameters_to_optimize(self, model):
            return [p for n, p in model.named_parameters() if not n.startswith("0.")]

        def on_epoch_start(self, epoch, ctx):
            self.started.append(epoch)
            xv, yv = ctx.val_batch(16)
            assert xv.shape == (16, 8) and yv.shape == (16,)

        def __call__(self, model, x, y, ctx):
            self.alpha += 1
            return super().__call__(model, x, y, ctx)

        def on_epoch_end(self, epoch, ctx):
            return {"alpha_sum": float(self.alpha.sum())}

        def state_dict(self):
            return {"alpha": self.alpha.clone()}

        def load_state_dict(self, d):
            self.alpha = d["alpha"].clone()

    model = mlp()
    frozen = model[0].weight.detach().clone()
    step = ArchStep()
    rows = train(model, blobs(), cfg(epochs=2), seed=0, run_dir=tmp_path, step=step,
                 progress=False)
    assert step.started == [0, 1]
    assert torch.equal(model[0].weight, frozen)  # excluded from the optimizer
    assert rows[1]["alpha_sum"] == float(step.alpha.sum()) > 0
    ck = load_checkpoint(tmp_path / "checkpoint.pt")
    assert torch.equal(ck["step"]["alpha"], step.alpha)
    fresh = ArchStep()
    train(mlp(), blobs(), cfg(epochs=2), seed=0, run_dir=tmp_path, step=fresh, progress=False)
    assert torch.equal(fresh.alpha, step.alpha)  # restored from the checkpoint


def test_drop_path_prob_is_set_per_epoch():
    class WithDropPath(nn.Module):
        def __init__(self):
            super().__init__()
            self.net = mlp()
            self.drop_path_prob = -1.0
            self.seen = []

        def forward(self, x):
            self.seen.append(self.drop_path_prob)
            return self.net(x)

    m = WithDropPath()
    train(m, blobs(), cfg(epochs=4, drop_path=0.2, steps_per_epoch=1), seed=0, run_dir=None,
          progress=False)
    assert m.seen == pytest.approx([0.0, 0.05, 0.1, 0.15])


def test_eval_every_and_missing_loss():
    data = blobs()
    calls = []

    def eval_fn(m):
        calls.append(1)
        return {"val_acc": 0.5}

    rows = train(mlp(), data, cfg(epochs=5, eval_every=2), seed=0, run_dir=None,
                 eval_fn=eval_fn, progress=False)
    assert len(calls) == 3  # epochs 2, 4 and the last (5)
    assert ["val_acc" in r for r in rows] == [False, True, False, True, True]

    def no_loss(model, x, y, ctx):
        return {"acc": 0.0}

    with pytest.raises(TrainingError, match="no 'loss'"):
        train(mlp(), data, cfg(epochs=1), seed=0, run_dir=None, step=no_loss, progress=False)


def test_aux_head_loss_is_added():
    class Aux(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Linear(8, 3), nn.Linear(8, 3)

        def forward(self, x):
            return self.a(x), self.b(x)

    seen = []

    def recording(model, x, y, ctx):
        with torch.no_grad():
            logits, aux = model(x)
            seen.append(float(F.cross_entropy(logits, y) + 0.4 * F.cross_entropy(aux, y)))
        return StandardStep(aux_weight=0.4)(model, x, y, ctx)

    rows = train(Aux(), blobs(), cfg(epochs=1, steps_per_epoch=1), seed=0, run_dir=None,
                 step=recording, progress=False)
    assert rows[0]["train_loss"] == pytest.approx(seen[0])


def test_with_data_layer_augmentation_is_deterministic():
    data_mod = pytest.importorskip("nasrepro.data")
    g = torch.Generator().manual_seed(0)
    x = torch.randn(96, 1, 8, 8, generator=g)
    y = torch.arange(96) % 2
    x[y == 1, :, :4] += 2.0
    bundle = data_mod.DataBundle(train_x=x[32:], train_y=y[32:], val_x=x[:32], val_y=y[:32],
                                 test_x=x[:32], test_y=y[:32], num_classes=2,
                                 input_shape=(1, 8, 8), checksum="toy", flip=True)

    def conv():
        torch.manual_seed(0)
        return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(),
                             nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(4, 2))

    c = cfg(epochs=2, batch_size=16, crop_padding=2, flip=True, cutout=2)
    runs = []
    for _ in range(2):
        m = conv()
        runs.append((train(m, bundle, c, seed=0, run_dir=None, progress=False), m.state_dict()))
    assert runs[0][0] == runs[1][0] and same_state(runs[0][1], runs[1][1])
    plain = train(conv(), bundle, cfg(epochs=2, batch_size=16), seed=0, run_dir=None,
                  progress=False)
    assert plain[0]["train_loss"] != runs[0][0][0]["train_loss"]


def test_extra_params_are_optimised_and_checkpointed(tmp_path):
    scale = nn.Parameter(torch.ones(1))

    def scaled(model, x, y, ctx):
        loss = F.cross_entropy(model(x) * scale, y)
        loss.backward()
        return {"loss": float(loss.detach())}

    train(mlp(), blobs(), cfg(epochs=1), seed=0, run_dir=tmp_path, step=scaled,
          extra_params=[scale], progress=False)
    assert scale.item() != 1.0
    assert torch.equal(load_checkpoint(tmp_path / "checkpoint.pt")["extra_params"][0], scale)
    restored = nn.Parameter(torch.ones(1))
    train(mlp(), blobs(), cfg(epochs=1), seed=0, run_dir=tmp_path, step=scaled,
          extra_params=[restored], progress=False)
    assert torch.equal(restored, scale)


def test_stop_epoch_truncates_on_the_full_schedule(tmp_path):
    """FBNetV3 early stopping: a run stopped after k epochs equals the first k epochs of the
    full run (same lr schedule over cfg.epochs), evaluates at its last epoch, and resumes."""
    data = blobs()
    c = cfg(epochs=3, ema_decay=0.9, mixup_alpha=0.2)
    full = train(mlp(), data, c, seed=2, run_dir=None, eval_fn=val_acc(data), progress=False)
    short_model = mlp()
    short = train(short_model, data, c, seed=2, run_dir=tmp_path / "r", eval_fn=val_acc(data),
                  progress=False, stop_epoch=2)
    assert len(short) == 2 and short == full[:2]
    assert short[-1]["lr"] > 0.0 and full[-1]["lr"] < short[-1]["lr"]  # schedule not compressed
    c2 = cfg(epochs=3, eval_every=5, ema_decay=0.9, mixup_alpha=0.2)
    rows = train(mlp(), data, c2, seed=2, run_dir=None, eval_fn=val_acc(data), progress=False,
                 stop_epoch=1)
    assert "val_acc" in rows[-1]  # the stop epoch is always evaluated
    resumed = train(mlp(seed=7), data, c, seed=2, run_dir=tmp_path / "r",
                    eval_fn=val_acc(data), progress=False)
    assert resumed == full
    with pytest.raises(TrainingError):
        train(mlp(), data, c, seed=2, run_dir=None, progress=False, stop_epoch=0)
