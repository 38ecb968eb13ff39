"""DARTS (1st/2nd order) and SNAS search steps: gradients, HVP, penalty, loop integration.

Most checks run on a toy "supernet" (a mixture of linear maps weighted like the DARTS cell,
``forward(x, {"normal": W, "reduce": W})``) so the file stays fast on a shared 2-core CPU; one
test per method runs the real ``darts/tiny`` search supernet through ``nasrepro.training.train``.
"""

from __future__ import annotations

import io
from types import SimpleNamespace

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import nasrepro.spaces.darts  # noqa: F401  (registers the space)
from nasrepro.metrics.snas_cost import snas_penalty_table
from nasrepro.samplers.darts_search import (
    DartsStep,
    SnasStep,
    derived_arch,
    finite_difference_hvp,
    resource_penalty,
    snas_cost_table,
    unrolled_arch_grads,
)
from nasrepro.samplers.relaxation import ArchParameters, gumbel_weights, softmax_weights
from nasrepro.spaces.base import get_space
from nasrepro.supernets.darts_ops import PRIMITIVES
from nasrepro.training.config import TrainConfig
from nasrepro.training.loop import build_optimizer, train

E, K, D, NCLS = 14, 8, 6, 3


class ToySupernet(nn.Module):
    """logits = sum_{kind, e, op} w[kind][e, op] * (x @ W[op]) / E, plus a bias."""

    def __init__(self, seed: int = 0, dtype: torch.dtype = torch.float32) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.w = nn.Parameter(0.5 * torch.randn(K, D, NCLS, generator=g, dtype=dtype))
        self.b = nn.Parameter(torch.zeros(NCLS, dtype=dtype))

    def forward(self, x: torch.Tensor, weights: dict[str, torch.Tensor]) -> torch.Tensor:
        per_op = torch.einsum("nd,kdc->nkc", x, self.w)  # [N, K, C]
        mix = sum(weights[k].sum(0) for k in ("normal", "reduce")) / E  # [K]
        return torch.einsum("nkc,k->nc", per_op, mix.to(x.dtype)) + self.b


def _toy_data(seed: int = 0, n: int = 64) -> SimpleNamespace:
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(2 * n, D, generator=g)
    y = (x[:, 0] > 0).long() + (x[:, 1] > 0.5).long()
    return SimpleNamespace(train_x=x[:n], train_y=y[:n], val_x=x[n:], val_y=y[n:],
                           num_classes=NCLS)


def _cfg(**kw) -> TrainConfig:
    base = {"epochs": 1, "batch_size": 16, "lr": 0.05, "momentum": 0.9, "weight_decay": 3e-4,
            "steps_per_epoch": 4, "grad_clip": 5.0, "no_wd_bn_bias": False}
    base.update(kw)
    return TrainConfig(**base)


def _arch(init: str = "darts", seed: int = 1) -> ArchParameters:
    return ArchParameters(E, K, init=init, generator=torch.Generator().manual_seed(seed))


def _flat(module: nn.Module) -> torch.Tensor:
    return torch.cat([p.detach().reshape(-1) for p in module.parameters()])


# --------------------------------------------------------------------------- maths


def test_finite_difference_hvp_is_exact_on_a_cubic() -> None:
    g = torch.Generator().manual_seed(0)
    w = [torch.randn(5, generator=g, dtype=torch.float64)]
    a = [torch.randn(5, generator=g, dtype=torch.float64, requires_grad=True)]
    v = [torch.randn(5, generator=g, dtype=torch.float64)]

    def loss(ws, als):  # cubic in w: central differences are exact
        return (als[0] * ws[0]).sum() ** 3 + (als[0] ** 2 * ws[0] ** 2).sum()

    fd = finite_difference_hvp(loss, w, a, v)
    wg = w[0].clone().requires_grad_(True)
    (gw,) = torch.autograd.grad(loss([wg], a), wg, create_graph=True)
    (exact,) = torch.autograd.grad((gw * v[0]).sum(), a)
    torch.testing.assert_close(fd[0], exact, rtol=1e-6, atol=1e-8)


def test_unrolled_grad_matches_exact_autograd_through_the_virtual_step() -> None:
    g = torch.Generator().manual_seed(0)
    x, xv = torch.randn(12, D, generator=g, dtype=torch.float64), torch.randn(
        12, D, generator=g, dtype=torch.float64)
    y, yv = torch.randint(0, NCLS, (12,), generator=g), torch.randint(0, NCLS, (12,), generator=g)
    w0 = [torch.randn(K, D, NCLS, generator=g, dtype=torch.float64)]
    buf = [torch.randn(K, D, NCLS, generator=g, dtype=torch.float64)]
    alphas = [torch.randn(E, K, generator=g, dtype=torch.float64, requires_grad=True)]
    xi, mom, wd = 0.1, 0.9, 3e-4

    def loss_on(xb, yb):
        def fn(ws, als):
            mix = F.softmax(als[0], -1).sum(0) / E
            return F.cross_entropy(torch.einsum("nd,kdc,k->nc", xb, ws[0], mix), yb)
        return fn

    ours = unrolled_arch_grads(loss_on(x, y), loss_on(xv, yv), w0, alphas, xi, buf, mom, wd)
    # exact: d/dalpha L_val(w - xi * (mom * buf + dL_train/dw + wd * w), alpha)
    wg = w0[0].clone().requires_grad_(True)
    (gw,) = torch.autograd.grad(loss_on(x, y)([wg], alphas), wg, create_graph=True)
    w_unrolled = w0[0] - xi * (mom * buf[0] + gw + wd * w0[0])
    (exact,) = torch.autograd.grad(loss_on(xv, yv)([w_unrolled], alphas), alphas)
    first = torch.autograd.grad(loss_on(xv, yv)([w_unrolled.detach()], alphas), alphas)[0]
    assert (exact - first).abs().max() > 1e-6  # the second-order term matters here
    torch.testing.assert_close(ours[0], exact, rtol=1e-4, atol=1e-7)


def _ctx(model: nn.Module, lr: float = 0.1) -> SimpleNamespace:
    opt = build_optimizer(model, _cfg(lr=lr))
    return SimpleNamespace(criterion=nn.CrossEntropyLoss(), optimizer=opt, lr=lr)


def test_first_order_arch_grad_is_val_loss_autograd_at_fixed_weights() -> None:
    model, arch, data = ToySupernet(), _arch(), _toy_data()
    step = DartsStep(arch, order=1)
    before = _flat(model)
    grads, val_loss = step.arch_grads(model, data.train_x, data.train_y, data.val_x,
                                      data.val_y, _ctx(model))
    loss = F.cross_entropy(model(data.val_x, softmax_weights(arch.logits())), data.val_y)
    exact = torch.autograd.grad(loss, [arch.normal, arch.reduce])
    for a, b in zip(grads, exact, strict=True):
        torch.testing.assert_close(a, b)
    assert val_loss == pytest.approx(float(loss.detach()))
    assert torch.equal(before, _flat(model))  # weights untouched


def test_second_order_step_uses_the_optimizer_momentum_and_matches_exact() -> None:
    model, data = ToySupernet(dtype=torch.float64), _toy_data()
    arch = _arch().double()
    ctx = _ctx(model, lr=0.2)
    # one real SGD step so momentum buffers exist
    x, y = data.train_x.double(), data.train_y
    F.cross_entropy(model(x, softmax_weights(arch.logits())), y).backward()
    ctx.optimizer.step()
    ctx.optimizer.zero_grad()
    xv, yv = data.val_x.double(), data.val_y
    step = DartsStep(arch, order=2)
    grads, _ = step.arch_grads(model, x, y, xv, yv, ctx)
    buf = ctx.optimizer.state[model.w]["momentum_buffer"]
    wd = ctx.optimizer.param_groups[0]["weight_decay"]
    params = [model.w, model.b]
    bufs = [buf, ctx.optimizer.state[model.b]["momentum_buffer"]]
    alphas = [arch.normal, arch.reduce]

    def f(ws, xb):
        mix = (F.softmax(alphas[0], -1).sum(0) + F.softmax(alphas[1], -1).sum(0)) / E
        return torch.einsum("nd,kdc,k->nc", xb, ws[0], mix) + ws[1]

    wg = [p.detach().clone().requires_grad_(True) for p in params]
    gw = torch.autograd.grad(F.cross_entropy(f(wg, x), y), wg, create_graph=True)
    wu = [w.detach() - 0.2 * (0.9 * b + g + wd * w.detach())
          for w, b, g in zip(params, bufs, gw, strict=True)]
    exact = torch.autograd.grad(F.cross_entropy(f(wu, xv), yv), alphas)
    for a, b in zip(grads, exact, strict=True):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-8)


def test_second_order_arch_grad_runs_in_fp32_under_bf16_autocast() -> None:
    """``amp: bf16`` wraps the step in autocast; the unrolled gradient and its finite-difference
    HVP leave it (their difference quotient is below bf16's resolution): the same numbers as
    without autocast, while the first-order gradient does change under bf16."""
    data = _toy_data()
    results = {}
    for order in (1, 2):
        for amp in (False, True):
            model, arch = ToySupernet(), _arch()
            ctx = _ctx(model, lr=0.2)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=amp):
                grads, _ = DartsStep(arch, order=order).arch_grads(
                    model, data.train_x, data.train_y, data.val_x, data.val_y, ctx)
            results[order, amp] = grads
    assert any(not torch.equal(a, b) for a, b in zip(results[1, False], results[1, True],
                                                     strict=True))  # bf16 reaches the toy
    for a, b in zip(results[2, False], results[2, True], strict=True):
        assert torch.equal(a, b)


# --------------------------------------------------------------------------- loop integration


def test_arch_params_stay_out_of_the_loop_optimizer() -> None:
    model = ToySupernet()
    model.arch = _arch()  # even when registered inside the model
    for step in (DartsStep(model.arch, order=2), SnasStep(model.arch, epochs=2)):
        params = step.parameters_to_optimize(model)
        ids = {id(p) for p in params}
        assert id(model.arch.normal) not in ids and id(model.arch.reduce) not in ids
        assert {id(model.w), id(model.b)} <= ids


@pytest.mark.parametrize("order", [1, 2])
def test_darts_on_tiny_supernet_moves_alpha_and_weights(order: int) -> None:
    torch.set_num_threads(2)
    space = get_space("darts/tiny")
    net = space.build_supernet(torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(0)
    data = SimpleNamespace(train_x=torch.randn(8, 1, 8, 8, generator=g),
                           train_y=torch.randint(0, 10, (8,), generator=g),
                           val_x=torch.randn(8, 1, 8, 8, generator=g),
                           val_y=torch.randint(0, 10, (8,), generator=g), num_classes=10)
    arch = _arch()
    alpha0, w0 = _flat(arch), _flat(net)
    step = DartsStep(arch, order=order)
    rows = train(net, data, _cfg(batch_size=2, steps_per_epoch=1, lr=0.025), seed=0,
                 run_dir=None, step=step, progress=False)
    assert not torch.equal(alpha0, _flat(arch))
    assert not torch.equal(w0, _flat(net))
    assert 0 < rows[0]["entropy"] <= torch.log(torch.tensor(8.0)).item() + 1e-6
    assert "train_val_loss" in rows[0]
    assert len(derived_arch(arch, "darts")["normal"]) == 8


def test_snas_on_tiny_supernet_one_step() -> None:
    torch.set_num_threads(2)
    space = get_space("darts/tiny")
    net = space.build_supernet(torch.Generator().manual_seed(0))
    g = torch.Generator().manual_seed(0)
    data = SimpleNamespace(train_x=torch.randn(4, 1, 8, 8, generator=g),
                           train_y=torch.randint(0, 10, (4,), generator=g), num_classes=10)
    arch = _arch("snas")
    alpha0, w0 = _flat(arch), _flat(net)
    step = SnasStep(arch, epochs=3, penalty_lambda=1e-3, edge_costs=snas_cost_table(space),
                    penalty_table=snas_penalty_table(space))
    rows = train(net, data, _cfg(batch_size=4, steps_per_epoch=1, lr=0.025), seed=0,
                 run_dir=None, step=step, progress=False)
    assert not torch.equal(alpha0, _flat(arch)) and not torch.equal(w0, _flat(net))
    assert rows[0]["temperature"] == pytest.approx(1.0 - 0.97 / 3)  # official offset
    assert rows[0]["expected_macs"] > 0 and rows[0]["expected_params"] > 0
    assert rows[0]["train_penalty"] > 0


def _toy_run(step_factory, seed: int = 0, run_dir=None, **cfg) -> tuple[list, torch.Tensor,
                                                                        torch.Tensor]:
    model, arch = ToySupernet(), _arch("snas" if step_factory is _snas else "darts")
    step = step_factory(arch)
    rows = train(model, _toy_data(), _cfg(**cfg), seed=seed, run_dir=run_dir, step=step,
                 progress=False)
    return rows, _flat(arch), _flat(model)


def _darts2(arch):
    return DartsStep(arch, order=2, arch_lr=0.01)


def _snas(arch):
    return SnasStep(arch, epochs=3, arch_lr=0.01)


@pytest.mark.parametrize("factory", [_darts2, _snas])
def test_two_runs_are_bit_identical(factory) -> None:
    a = _toy_run(factory, epochs=2)
    b = _toy_run(factory, epochs=2)
    assert a[0] == b[0]
    assert torch.equal(a[1], b[1]) and torch.equal(a[2], b[2])


@pytest.mark.parametrize("factory", [_darts2, _snas])
def test_state_dict_round_trip_and_resume(factory, tmp_path) -> None:
    step = factory(_arch("snas" if factory is _snas else "darts"))
    train(ToySupernet(), _toy_data(), _cfg(), seed=0, run_dir=None, step=step, progress=False)
    buf = io.BytesIO()
    torch.save(step.state_dict(), buf)
    buf.seek(0)
    state = torch.load(buf, weights_only=True)
    other = factory(_arch("snas" if factory is _snas else "darts", seed=9))
    other.load_state_dict(state)
    assert torch.equal(_flat(other.arch), _flat(step.arch))
    s1, s2 = step.arch_optimizer.state_dict(), other.arch_optimizer.state_dict()
    for k in s1["state"]:
        for name, v in s1["state"][k].items():
            assert torch.equal(torch.as_tensor(v), torch.as_tensor(s2["state"][k][name]))
    # resume: 1 epoch then 3 == 3 uninterrupted
    full = _toy_run(factory, epochs=3)
    run_dir = tmp_path / "run"
    model, arch = ToySupernet(), _arch("snas" if factory is _snas else "darts")
    # interrupted run: same config, stop after the first epoch by raising in on_epoch_end

    class Stop(Exception):
        pass

    st = factory(arch)
    orig = st.on_epoch_end

    def stop_after_first(epoch, ctx):
        row = orig(epoch, ctx)
        if epoch == 1:
            raise Stop
        return row

    st.on_epoch_end = stop_after_first
    with pytest.raises(Stop):
        train(model, _toy_data(), _cfg(epochs=3), seed=0, run_dir=run_dir, step=st,
              progress=False)
    model2, arch2 = ToySupernet(seed=5), _arch("snas" if factory is _snas else "darts", seed=5)
    rows = train(model2, _toy_data(), _cfg(epochs=3), seed=0, run_dir=run_dir,
                 step=factory(arch2), progress=False)
    assert rows == full[0]
    assert torch.equal(_flat(arch2), full[1]) and torch.equal(_flat(model2), full[2])


# --------------------------------------------------------------------------- SNAS


def test_temperature_schedule_endpoints() -> None:
    """Official Temp_Scheduler (stepped before each epoch): epoch e runs at
    (1 - (e + 1) / epochs) * (1 - 0.03) + 0.03; anneal_offset=0 starts at 1.0."""
    step = SnasStep(_arch("snas"), epochs=5)
    for e in range(5):
        assert step.temperature_at(e) == pytest.approx((1 - (e + 1) / 5) * 0.97 + 0.03)
    assert step.temperature_at(4) == pytest.approx(0.03)
    paper = SnasStep(_arch("snas"), epochs=5, anneal_offset=0)
    assert paper.temperature_at(0) == 1.0
    assert paper.temperature_at(4) == pytest.approx(0.03)
    assert paper.temperature_at(2) == pytest.approx(0.515)
    rows, _, _ = _toy_run(_snas, epochs=3, steps_per_epoch=1)
    assert [r["temperature"] for r in rows] == pytest.approx([1 - 0.97 / 3, 1 - 2 * 0.97 / 3,
                                                              0.03])


def test_snas_noise_is_torch_gumbel_softmax_and_seeded() -> None:
    """SnasStep draws Z with F.gumbel_softmax from the global RNG the loop seeds."""
    logits = _arch("snas").logits()
    torch.manual_seed(3)
    a = gumbel_weights(logits, 0.5)
    torch.manual_seed(3)
    b = {k: F.gumbel_softmax(v, tau=0.5, dim=-1) for k, v in logits.items()}
    for k in a:
        assert torch.equal(a[k], b[k])
        torch.testing.assert_close(a[k].sum(-1), torch.ones(E))
        assert torch.isfinite(a[k]).all()
    # the step's sample is exactly that of gumbel_weights under the same global seed
    seen = {}

    class Spy(ToySupernet):
        def forward(self, x, weights):
            seen.update({k: v.detach().clone() for k, v in weights.items()})
            return super().forward(x, weights)

    arch = _arch("snas")
    step = SnasStep(arch, epochs=1)
    ctx = SimpleNamespace(criterion=nn.CrossEntropyLoss())
    data = _toy_data()
    torch.manual_seed(11)
    expected = gumbel_weights({k: v.detach() for k, v in arch.logits().items()},
                              step.temperature)
    torch.manual_seed(11)
    step(Spy(), data.train_x[:8], data.train_y[:8], ctx)
    for k in expected:
        assert torch.equal(seen[k], expected[k])


def test_eval_weights() -> None:
    arch = _arch("snas")
    snas = SnasStep(arch, epochs=2)
    snas.temperature = 0.5
    w = snas.eval_weights()["normal"]
    torch.testing.assert_close(w, torch.softmax(arch.normal.detach() / 0.5, -1))
    darts = DartsStep(_arch("darts"))
    torch.testing.assert_close(darts.eval_weights()["reduce"],
                               torch.softmax(darts.arch.reduce.detach(), -1))
    assert (snas.rule, darts.rule) == ("snas", "darts")


def test_penalty_gradient_points_away_from_costly_ops() -> None:
    table = snas_cost_table(get_space("darts/tiny"))
    logits = {k: torch.zeros(E, K, requires_grad=True) for k in ("normal", "reduce")}
    torch.manual_seed(0)
    z = gumbel_weights(logits, 1.0)
    resource_penalty(z, table).backward()
    sep5, none = PRIMITIVES.index("sep_conv_5x5"), PRIMITIVES.index("none")
    for k in logits:
        assert (logits[k].grad[:, sep5] > 0).all()
        assert (logits[k].grad[:, none] < 0).all()
    # 'none' costs nothing; one-hot Z gives that op's cost
    one_hot = {k: F.one_hot(torch.full((E,), none), K).float() for k in logits}
    assert float(resource_penalty(one_hot, table)) == 0.0
    assert table["normal"][0, sep5, 0] > table["normal"][0, PRIMITIVES.index("sep_conv_3x3"), 0]


def test_larger_lambda_lowers_expected_cost() -> None:
    table = snas_cost_table(get_space("darts/tiny"))
    costs = []
    for lam in (0.0, 0.05):
        model, arch = ToySupernet(), _arch("snas")
        step = SnasStep(arch, epochs=1, temperature_end=1.0, arch_optimizer="adam",
                        arch_lr=0.05, penalty_lambda=lam, penalty_form="linear",
                        edge_costs=table)
        rows = train(model, _toy_data(), _cfg(steps_per_epoch=4, epochs=5), seed=0,
                     run_dir=None, step=step, progress=False)
        probs = softmax_weights(arch.logits())
        costs.append((float(resource_penalty(probs, table).detach()), rows[-1]["expected_macs"]))
    assert costs[1][0] < costs[0][0] - 1.0
    assert costs[1][1] < costs[0][1]


def test_derived_arch_rules() -> None:
    arch = _arch("snas")
    with torch.no_grad():
        arch.normal.zero_()
        arch.normal[:, PRIMITIVES.index("none")] = 5.0  # all edges vanish under SNAS
        arch.normal[:, PRIMITIVES.index("sep_conv_3x3")] = 1.0
    snas = derived_arch(arch, "snas")
    darts = derived_arch(arch, "darts")
    assert snas["normal"] == []
    assert len(darts["normal"]) == 8 and {e[0] for e in darts["normal"]} == {"sep_conv_3x3"}
    with pytest.raises(ValueError):
        derived_arch(arch, "enas")
