"""The fused DARTS/SNAS search cell (issue 15) does the reference mixed op's maths.

Same loss, gradients (weights and architecture) and BN running statistics as the reference
path, for DARTS softmax weights, SNAS-like sparse weights with zero rows and drop path, and
a whole DARTS first-order step; in float64 to 1e-10 and float32 to float tolerance; on CUDA
too when present. The default (``fused: false``) path is untouched.
"""

from __future__ import annotations

import copy

import pytest
import torch

from nasrepro.samplers.darts_search import DartsStep
from nasrepro.samplers.relaxation import ArchParameters, softmax_weights
from nasrepro.spaces import get_space
from nasrepro.training.config import TrainConfig
from nasrepro.training.loop import StepContext, build_optimizer

DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])
PRESET = "darts/tiny"  # 3 cells: normal, reduction (stride-2 edges), reduction after reduction


def _pair(device: str, dtype: torch.dtype, **settings: object
          ) -> tuple[torch.nn.Module, torch.nn.Module]:
    space = get_space(PRESET, **settings)
    ref = space.build_supernet(torch.Generator().manual_seed(0)).to(device, dtype)
    fused = copy.deepcopy(ref)
    fused.fused = True
    return ref.train(), fused.train()


def _batch(device: str, dtype: torch.dtype, n: int = 6) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return (torch.randn(n, 1, 8, 8, generator=g).to(device, dtype),
            torch.randint(0, 10, (n,), generator=g).to(device))


def _sparse_weights(device: str, dtype: torch.dtype) -> dict[str, torch.Tensor]:
    """SNAS at a cold temperature: mostly one-hot rows, some mixed, one all-'none' edge,
    one node (5 in normal) whose every incoming edge is off, zeros in the middle of rows."""
    g = torch.Generator().manual_seed(2)
    out = {}
    for kind in ("normal", "reduce"):
        w = torch.softmax(torch.randn(14, 8, generator=g, dtype=torch.float64) * 3, -1)
        w[w < 0.08] = 0.0
        w[0] = torch.nn.functional.one_hot(torch.tensor(0), 8).double()  # 'none' only
        if kind == "normal":
            w[9:14] = 0.0
            w[9:14, 0] = 1.0
        out[kind] = w.to(device, dtype).requires_grad_(True)
    return out


def _run(model: torch.nn.Module, x: torch.Tensor, y: torch.Tensor,
         weights: dict[str, torch.Tensor], seed: int = 3) -> tuple[float, list, list]:
    torch.manual_seed(seed)  # drop path draws from the global RNG
    loss = torch.nn.functional.cross_entropy(model(x, weights), y)
    leaves = list(weights.values())
    grads = torch.autograd.grad(loss, list(model.parameters()) + leaves, allow_unused=True)
    return loss.detach(), list(grads), [b.detach().clone() for b in model.buffers()]


def _assert_close(a: list, b: list, tol: float) -> None:
    assert len(a) == len(b)
    for u, v in zip(a, b, strict=True):
        if u is None or v is None:
            assert u is None and v is None
            continue
        torch.testing.assert_close(u.double(), v.double(), rtol=tol, atol=tol)


TOLS = {torch.float64: 1e-10, torch.float32: 2e-5}


pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("case", ["softmax", "sparse", "sparse-drop-path"])
def test_fused_forward_backward_equal(device: str, dtype: torch.dtype, case: str) -> None:
    ref, fused = _pair(device, dtype)
    x, y = _batch(device, dtype)
    if case == "softmax":
        g = torch.Generator().manual_seed(4)
        logits = {k: (1e-1 * torch.randn(14, 8, generator=g)).to(device, dtype)
                  .requires_grad_(True) for k in ("normal", "reduce")}
        w_ref, w_fused = softmax_weights(logits), softmax_weights(logits)
    else:
        w_ref = _sparse_weights(device, dtype)
        w_fused = {k: v.detach().clone().requires_grad_(True) for k, v in w_ref.items()}
    if case.endswith("drop-path"):
        ref.drop_path_prob = fused.drop_path_prob = 0.3
    for _ in range(2):  # twice: BN running statistics keep agreeing
        loss_r, grads_r, bufs_r = _run(ref, x, y, w_ref)
        loss_f, grads_f, bufs_f = _run(fused, x, y, w_fused)
        tol = TOLS[dtype]
        _assert_close([loss_r], [loss_f], tol)
        _assert_close(grads_r, grads_f, tol)
        _assert_close(bufs_r, bufs_f, tol)
    assert fused._fused_plans, "the fused path did not run"


@pytest.mark.parametrize("device", DEVICES)
def test_fused_eval_mode_and_recalibration_use_the_reference(device: str) -> None:
    ref, fused = _pair(device, torch.float32)
    x, _ = _batch(device, torch.float32)
    w = get_space(PRESET).arch_weights(get_space(PRESET).sample(__import__("random").Random(0)),
                                       device=device)
    ref.eval()
    fused.eval()
    with torch.no_grad():
        assert torch.equal(ref(x, w), fused(x, w))
    assert not fused._fused_plans
    fused.train()
    for m in fused.modules():  # BN recalibration: cumulative averages -> reference path
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
    ref.train()
    for m in ref.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.momentum = None
    with torch.no_grad():
        assert torch.equal(ref(x, w), fused(x, w))
    for a, b in zip(ref.buffers(), fused.buffers(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize("device", DEVICES)
def test_fused_under_bf16_autocast(device: str) -> None:
    """The AMP option of bench/gpu.py: both paths run under bf16 autocast and agree to bf16
    precision; the BN running statistics stay fp32."""
    ref, fused = _pair(device, torch.float32)
    x, y = _batch(device, torch.float32)
    g = torch.Generator().manual_seed(4)
    logits = {k: (1e-1 * torch.randn(14, 8, generator=g)).to(device) for k in ("normal",
                                                                            "reduce")}
    w = softmax_weights(logits)
    losses = []
    for model in (ref, fused):
        with torch.autocast(device_type=device, dtype=torch.bfloat16):
            loss = torch.nn.functional.cross_entropy(model(x, w).float(), y)
        loss.backward()
        losses.append(float(loss.detach()))
    assert losses[0] == pytest.approx(losses[1], rel=3e-2)
    for a, b in zip(ref.buffers(), fused.buffers(), strict=True):
        assert a.dtype == b.dtype
        torch.testing.assert_close(a.double(), b.double(), rtol=5e-2, atol=5e-2)


def _darts_step(model: torch.nn.Module, device: str, order: int) -> list[torch.Tensor]:
    space = get_space(PRESET)
    arch = ArchParameters(space.num_edges, 8, generator=torch.Generator().manual_seed(0))
    arch = arch.to(device, torch.float64)
    step = DartsStep(arch, order=order, arch_lr=0.05)
    cfg = TrainConfig(epochs=1, batch_size=6, lr=0.025, weight_decay=3e-4, grad_clip=5.0,
                      no_wd_bn_bias=False)
    opt = build_optimizer(step.parameters_to_optimize(model), cfg)
    x, y = _batch(device, torch.float64)
    xv, yv = _batch(device, torch.float64, n=12)
    data = type("D", (), {"val_x": xv, "val_y": yv})()
    ctx = StepContext(criterion=torch.nn.CrossEntropyLoss(), epoch=0, step=0, total_steps=2,
                      steps_per_epoch=2, optimizer=opt, lr=0.025, data=data,
                      generator=torch.Generator().manual_seed(5), cfg=cfg)
    for _ in range(2):
        step(model, x, y, ctx)
        opt.step()
        opt.zero_grad(set_to_none=True)
    return [p.detach() for p in arch.parameters()] + [p.detach() for p in model.parameters()]


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("order", [1, 2])
def test_fused_darts_step_equal(device: str, order: int) -> None:
    """Two whole DARTS steps (architecture step on a validation batch, then the weights):
    the same alphas and weights afterwards (2nd order: through ``functional_call``)."""
    ref, fused = _pair(device, torch.float64)
    _assert_close(_darts_step(ref, device, order), _darts_step(fused, device, order), 1e-9)


def test_fused_setting_and_default() -> None:
    assert get_space(PRESET).build_supernet().fused is False
    assert get_space("darts/cifar10-search").cfg.fused is False
    assert get_space(PRESET, fused=True).build_supernet().fused is True
