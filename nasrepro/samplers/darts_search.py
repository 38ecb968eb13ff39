"""DARTS (bi-level, 1st/2nd order) and SNAS (single-level, Gumbel) search steps.

PAPERS.md section 2. Both are step strategies for :func:`nasrepro.training.train` driving a
:class:`~nasrepro.supernets.darts.DartsSupernet` with architecture logits held in an
:class:`~nasrepro.samplers.relaxation.ArchParameters` module (kept out of the loop's optimizer
by ``parameters_to_optimize``):

* :class:`DartsStep` (Liu et al., ICLR 2019, Sec. 2.3, Eq. 5-8; quark0/darts
  ``cnn/architect.py``): per iteration an architecture step on a validation batch with its own
  Adam (lr 3e-4, betas (0.5, 0.999), wd 1e-3), then the weight loss on the training batch with
  ``softmax(alpha)``. First order: ``dL_val(w, alpha)/dalpha``. Second order: the unrolled
  virtual step ``w' = w - xi * (momentum * buf + dL_train(w)/dw + wd * w)`` (``xi`` = the
  iteration's lr, ``buf`` the weight optimizer's momentum buffer, ``wd`` its weight decay) and
  ``dL_val(w', alpha)/dalpha - xi * H v``, where ``H v`` is the finite-difference
  Hessian-vector product ``(dL_train(w+, alpha)/dalpha - dL_train(w-, alpha)/dalpha) / 2R`` with
  ``w+- = w +- R v``, ``v = dL_val(w', alpha)/dw'`` and ``R = 0.01 / ||v||``
  (``_hessian_vector_product``, taken at the current weights ``w`` as in the official master).
  The virtual passes run through ``torch.func.functional_call`` on copies of the BN buffers, so
  they leave the real network untouched (the official code builds a model copy for the
  unrolled step; its HVP passes also update the real BN running statistics, which changes no
  gradient since search BNs use batch statistics in training mode).
* :class:`SnasStep` (Xie et al., ICLR 2019, Sec. 2.2-2.4; SNAS-Series ``SNAS/model_search.py``
  ``method='reparametrization'``): single level; op weights are one Gumbel-softmax sample
  ``softmax((log_alpha + G) / tau)`` per edge per iteration
  (``torch.nn.functional.gumbel_softmax`` through
  :func:`~nasrepro.samplers.relaxation.gumbel_weights`; its noise comes from the global torch
  RNG, which the training loop seeds and checkpoints, so runs are reproducible and a resumed
  run is bit-identical),
  ``tau`` annealed linearly per epoch (1.0 -> 0.03); ``loss = CE + lambda * penalty``; one
  ``backward()`` fills the gradients of both weights and ``log_alpha``; the strategy steps its
  own Adam on ``log_alpha``, the loop steps the weights.

Resource penalty (SNAS Sec. 2.4, Eq. 15-16). Two forms, chosen by ``penalty_form``:

* ``"official"`` (default; :func:`official_resource_penalty`, SNAS-Series ``model_search.py``
  ``method='reparametrization'`` with ``--log_penalty``, and ``train_search.py``): per cell
  and edge, for each cost ``x`` in {parameter size, FLOPs, memory access}
  (:func:`nasrepro.metrics.snas_cost.snas_penalty_table`, the official per-op formulas, each
  cell with its own geometry), ``log(max(1, sum_k Z_k x_k))`` (sums below 1 are replaced by 1,
  so an edge whose sampled op is ``none`` costs 0 and passes no gradient); the edge's cost is
  the mean of the three logs; edges are summed per cell; the loss adds ``lambda * (sum over
  normal cells / #normal + sum over reduction cells / #reduction)`` (the official code divides
  by 6 and 2, the counts of its 8-cell network). Its gradient w.r.t. ``Z_j`` is
  ``x_j / sum_k Z_k x_k``: an op's *relative* cost on its edge.
* ``"linear"`` (:func:`resource_penalty`, a variant: the paper's Eq. 16 read as linear in the
  one-hot ``Z``): ``sum_{kind, edge, op} Z[e, op] * C[e, op]`` with
  ``C = mean(log(1 + MACs), log(1 + params), log(1 + memory access))`` per op, raw costs
  summed over the cells of a kind (:func:`snas_cost_table`: the suite's MACs/params and a
  ShuffleNetV2 memory access). Its gradient scales with ``log c_j``, and ``skip_connect`` is
  free like ``none``; kept only to compare with earlier results.

Also as the official single-GPU search (``train_search.py`` without ``--distributed``): the
architecture logits are stepped by plain SGD (``arch_optimizer="sgd"``, lr 3e-4, no momentum,
no weight decay) after clipping their gradient norm to 10 (``arch_grad_clip``); its multi-GPU
branch uses Adam (betas (0.5, 0.999), weight decay 1e-3), available as ``"adam"``. The
temperature of epoch ``e`` is ``tau_0 - (tau_0 - tau_min) * (e + 1) / epochs``
(``utils.Temp_Scheduler`` is stepped once *before* each epoch, so the first epoch already
runs one step into the annealing and the last one at ``tau_min``; ``anneal_offset=0`` gives
the schedule that starts at ``tau_0``). The supernet's validation accuracy is measured as the
official ``infer`` does it: a fresh Gumbel sample at the current temperature for every
evaluation batch (:meth:`SnasStep.sample_eval_weights`, drawn from a named seed stream so it
never moves the training RNG).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.func import functional_call

from nasrepro.samplers.relaxation import (
    CELL_TYPES,
    ArchParameters,
    distribution_entropy,
    gumbel_weights,
    softmax_weights,
)
from nasrepro.spaces.darts import derive_darts, derive_snas
from nasrepro.supernets.darts_ops import PRIMITIVES
from nasrepro.training.loop import StepContext, batch_accuracy, split_logits
from nasrepro.training.schedules import linear_anneal

__all__ = [
    "DartsStep",
    "SnasStep",
    "derived_arch",
    "expected_costs",
    "finite_difference_hvp",
    "official_resource_penalty",
    "resource_penalty",
    "snas_cost_table",
    "unrolled_arch_grads",
]

LossFn = Callable[[Sequence[Tensor], Sequence[Tensor]], Tensor]


# --------------------------------------------------------------------------- helpers


def _steps_of(n_edges: int) -> int:
    steps = 0
    while steps * (steps + 3) // 2 < n_edges:
        steps += 1
    if steps * (steps + 3) // 2 != n_edges:
        raise ValueError(f"{n_edges} edges is no DARTS cell; a cell of s nodes has s(s+3)/2 edges")
    return steps


def _logits_of(arch_params: ArchParameters | dict[str, Tensor]) -> dict[str, Tensor]:
    if isinstance(arch_params, ArchParameters):
        return arch_params.logits()
    return {k: torch.as_tensor(arch_params[k]) for k in CELL_TYPES}


def derived_arch(arch_params: ArchParameters | dict[str, Tensor], rule: str = "darts"
                 ) -> dict[str, Any]:
    """The discrete architecture of architecture logits.

    Args:
        arch_params: an :class:`ArchParameters` or ``{"normal": T[E, 8], "reduce": T[E, 8]}``.
        rule: ``"darts"`` (top-2 incoming edges per node, argmax op without 'none';
            :func:`derive_darts`) or ``"snas"`` (argmax on every edge, 'none' edges vanish;
            :func:`derive_snas`).

    Returns:
        The canonical arch ``{"normal": [[op, from, to], ...], "reduce": [...]}``.
    """
    logits = {k: v.detach().cpu() for k, v in _logits_of(arch_params).items()}
    steps = _steps_of(logits["normal"].shape[0])
    if rule == "darts":
        return derive_darts(logits["normal"], logits["reduce"], steps=steps)
    if rule == "snas":
        return derive_snas(logits["normal"], logits["reduce"], steps=steps)
    raise ValueError(f"rule must be 'darts' or 'snas', got {rule!r}")


def _loss_of(criterion: nn.Module, out: Any, y: Tensor) -> tuple[Tensor, Tensor]:
    logits, _ = split_logits(out)
    return criterion(logits, y), logits


def _arch_optimizer(arch: ArchParameters, lr: float, betas: tuple[float, float],
                    weight_decay: float) -> torch.optim.Adam:
    return torch.optim.Adam(list(arch.parameters()), lr=lr, betas=tuple(betas),
                            weight_decay=weight_decay)


def _arch_state(arch: ArchParameters, opt: torch.optim.Optimizer) -> dict[str, Any]:
    return {"arch": {k: v.detach().clone() for k, v in arch.state_dict().items()},
            "arch_optimizer": opt.state_dict()}


def _load_arch_state(arch: ArchParameters, opt: torch.optim.Optimizer, d: dict[str, Any]) -> None:
    arch.load_state_dict(d["arch"])
    opt.load_state_dict(d["arch_optimizer"])


# --------------------------------------------------------------------------- DARTS maths


def finite_difference_hvp(train_loss: LossFn, weights: Sequence[Tensor],
                          alphas: Sequence[Tensor], vector: Sequence[Tensor],
                          r: float = 1e-2) -> list[Tensor]:
    """``d^2 L_train / (dalpha dw) . v`` by central differences (``_hessian_vector_product``).

    ``R = r / ||v||``; returns ``(dL(w + R v, alpha)/dalpha - dL(w - R v, alpha)/dalpha) / 2R``.
    Exact when ``L`` is at most cubic in ``w``.

    Args:
        train_loss: ``train_loss(weights, alphas) -> scalar``.
        weights: the weights ``w`` (not modified).
        alphas: the architecture tensors (``requires_grad=True``).
        vector: ``v``, one tensor per weight.
        r: the official ``r = 1e-2``.

    Returns:
        One tensor per alpha.
    """
    norm = torch.cat([v.reshape(-1) for v in vector]).norm()
    big_r = r / float(norm) if float(norm) > 0 else r
    w_plus = [w.detach() + big_r * v for w, v in zip(weights, vector, strict=True)]
    w_minus = [w.detach() - big_r * v for w, v in zip(weights, vector, strict=True)]
    g_plus = torch.autograd.grad(train_loss(w_plus, alphas), list(alphas))
    g_minus = torch.autograd.grad(train_loss(w_minus, alphas), list(alphas))
    return [(p - m) / (2 * big_r) for p, m in zip(g_plus, g_minus, strict=True)]


def unrolled_arch_grads(train_loss: LossFn, val_loss: LossFn, weights: Sequence[Tensor],
                        alphas: Sequence[Tensor], xi: float,
                        momentum_buffers: Sequence[Tensor | None] | None = None,
                        momentum: float = 0.0,
                        weight_decays: Sequence[float] | float = 0.0,
                        r: float = 1e-2) -> list[Tensor]:
    """DARTS second-order architecture gradient (Eq. 7-8, ``_backward_step_unrolled``).

    ``w' = w - xi * (momentum * buf + dL_train(w)/dw + wd * w)``;
    returns ``dL_val(w', alpha)/dalpha - xi * HVP(L_train at w, v = dL_val(w', alpha)/dw')``.

    Args:
        train_loss: ``train_loss(weights, alphas) -> scalar`` on the training batch.
        val_loss: same on the validation batch.
        weights: the current weights ``w`` (not modified).
        alphas: architecture tensors (``requires_grad=True``).
        xi: the virtual step size (the weights' current learning rate).
        momentum_buffers: the weight optimizer's momentum buffers (``None`` entries: zero).
        momentum: the weight optimizer's momentum.
        weight_decays: weight decay, one for all or one per weight.
        r: finite-difference scale (``R = r / ||v||``).

    Returns:
        One gradient tensor per alpha.
    """
    n = len(weights)
    wds = [float(weight_decays)] * n if isinstance(weight_decays, int | float) else list(
        weight_decays)
    bufs = list(momentum_buffers) if momentum_buffers is not None else [None] * n
    w0 = [w.detach().requires_grad_(True) for w in weights]
    detached_alphas = [a.detach() for a in alphas]
    dtheta = torch.autograd.grad(train_loss(w0, detached_alphas), w0, allow_unused=True)
    w_unrolled = []
    for w, g, b, wd in zip(w0, dtheta, bufs, wds, strict=True):
        step = (g if g is not None else torch.zeros_like(w)) + wd * w.detach()
        if b is not None and momentum:
            step = step + momentum * b
        w_unrolled.append((w.detach() - xi * step).requires_grad_(True))
    loss = val_loss(w_unrolled, alphas)
    grads = torch.autograd.grad(loss, list(alphas) + w_unrolled, allow_unused=True)
    g_alpha = [g if g is not None else torch.zeros_like(a)
               for g, a in zip(grads[:len(alphas)], alphas, strict=True)]
    vector = [g.detach() if g is not None else torch.zeros_like(w)
              for g, w in zip(grads[len(alphas):], w_unrolled, strict=True)]
    implicit = finite_difference_hvp(train_loss, [w.detach() for w in weights], alphas, vector, r)
    return [(g - xi * h).detach() for g, h in zip(g_alpha, implicit, strict=True)]


# --------------------------------------------------------------------------- DARTS step


class DartsStep:
    """DARTS bi-level step (first or second order) for :func:`nasrepro.training.train`.

    Per iteration: draw a validation batch (``ctx.val_batch``, same size as the training
    batch), update ``alpha`` with Adam on the validation loss (first order: at the current
    weights; second order: through the unrolled virtual step), zero the weight gradients
    (``ctx.optimizer.zero_grad()``), then backpropagate the training loss with
    ``softmax(alpha)`` (``alpha`` detached) into the weights; the loop clips and steps them.

    Args:
        arch: the architecture logits (``init="darts"``: 1e-3 * N(0, 1)).
        order: 1 or 2.
        arch_lr: Adam learning rate (3e-4).
        arch_betas: Adam betas ((0.5, 0.999)).
        arch_weight_decay: Adam (L2) weight decay (1e-3).
        arch_grad_clip: optional max norm of the architecture gradient (off, as the official
            master ``architect.py``).
        unroll_r: finite-difference scale of the second-order HVP (0.01).
        edge_costs: optional :func:`snas_cost_table` of the space, for the
            ``expected_macs``/``expected_params`` log columns (``None`` without it).
    """

    #: derivation rule of the final cell (:func:`derived_arch`)
    rule = "darts"

    def __init__(self, arch: ArchParameters, *, order: int = 1, arch_lr: float = 3e-4,
                 arch_betas: tuple[float, float] = (0.5, 0.999), arch_weight_decay: float = 1e-3,
                 arch_grad_clip: float | None = None, unroll_r: float = 1e-2,
                 edge_costs: dict[str, Tensor] | None = None) -> None:
        if order not in (1, 2):
            raise ValueError(f"order must be 1 or 2, got {order!r}")
        self.arch = arch
        self.edge_costs = edge_costs
        self.order = order
        self.arch_grad_clip = arch_grad_clip
        self.unroll_r = unroll_r
        self.arch_optimizer = _arch_optimizer(arch, arch_lr, arch_betas, arch_weight_decay)

    # -- loop hooks
    def parameters_to_optimize(self, model: nn.Module) -> list[Tensor]:
        """The supernet weights (architecture parameters excluded)."""
        arch_ids = {id(p) for p in self.arch.parameters()}
        return [p for p in model.parameters() if id(p) not in arch_ids]

    def state_dict(self) -> dict[str, Any]:
        return _arch_state(self.arch, self.arch_optimizer)

    def load_state_dict(self, d: dict[str, Any]) -> None:
        _load_arch_state(self.arch, self.arch_optimizer, d)

    def on_epoch_end(self, epoch: int, ctx: StepContext) -> dict[str, float | None]:
        """Log columns ``entropy``, ``expected_macs``, ``expected_params`` (the last two
        ``None`` without ``edge_costs``)."""
        return _distribution_row(self.arch.logits(), self.edge_costs)

    def eval_weights(self) -> dict[str, Tensor]:
        """The supernet's op weights for evaluation: ``softmax(alpha)`` (detached)."""
        return softmax_weights({k: v.detach() for k, v in self.arch.logits().items()})

    # -- the step
    def arch_grads(self, model: nn.Module, x: Tensor, y: Tensor, xv: Tensor, yv: Tensor,
                   ctx: StepContext) -> tuple[list[Tensor], float]:
        """Gradients of the validation loss w.r.t. ``alpha`` (first or second order) and the
        validation loss at the current weights (first order) or at ``w'`` (second order).

        The second-order gradient always runs in fp32 (autocast off): its finite-difference
        Hessian-vector product is below bf16's resolution."""
        alphas = [getattr(self.arch, k) for k in CELL_TYPES]
        if self.order == 1:
            loss, _ = _loss_of(ctx.criterion, model(xv, softmax_weights(self.arch.logits())), yv)
            return list(torch.autograd.grad(loss, alphas)), float(loss.detach())

        names = [n for n, p in model.named_parameters() if p.requires_grad]
        params = [p for p in model.parameters() if p.requires_grad]
        buffers = {n: b.detach().clone() for n, b in model.named_buffers()}
        val_loss_value: list[float] = []

        def loss_on(xb: Tensor, yb: Tensor, record: bool = False) -> LossFn:
            def fn(ws: Sequence[Tensor], als: Sequence[Tensor]) -> Tensor:
                state = dict(zip(names, ws, strict=True))
                state.update({n: b.clone() for n, b in buffers.items()})
                weights = softmax_weights(dict(zip(CELL_TYPES, als, strict=True)))
                loss, _ = _loss_of(ctx.criterion, functional_call(model, state, (xb, weights)),
                                   yb)
                if record:
                    val_loss_value.append(float(loss.detach()))
                return loss
            return fn

        opt = ctx.optimizer
        group_of = {id(p): g for g in opt.param_groups for p in g["params"]}
        bufs, wds, moms = [], [], []
        for p in params:
            g = group_of.get(id(p), {})
            bufs.append(opt.state.get(p, {}).get("momentum_buffer"))
            wds.append(float(g.get("weight_decay", 0.0)))
            moms.append(float(g.get("momentum", 0.0)))
        momentum = moms[0] if moms else 0.0
        # fp32 even under the recipe's ``amp: bf16``: the central difference of the HVP divides
        # a gradient difference of relative size r = 1e-2 by 2R, below bf16's 8-bit mantissa
        with torch.autocast(x.device.type, enabled=False):
            grads = unrolled_arch_grads(loss_on(x, y), loss_on(xv, yv, record=True), params,
                                        alphas, xi=ctx.lr, momentum_buffers=bufs,
                                        momentum=momentum, weight_decays=wds, r=self.unroll_r)
        return grads, val_loss_value[0]

    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, ctx: StepContext
                 ) -> dict[str, float]:
        xv, yv = ctx.val_batch(x.shape[0])
        self.arch_optimizer.zero_grad(set_to_none=True)
        grads, val_loss = self.arch_grads(model, x, y, xv, yv, ctx)
        alphas = [getattr(self.arch, k) for k in CELL_TYPES]
        for a, g in zip(alphas, grads, strict=True):
            a.grad = g.detach().clone()
        if self.arch_grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(alphas, self.arch_grad_clip)
        self.arch_optimizer.step()
        self.arch_optimizer.zero_grad(set_to_none=True)
        ctx.optimizer.zero_grad(set_to_none=True)

        weights = softmax_weights({k: v.detach() for k, v in self.arch.logits().items()})
        loss, logits = _loss_of(ctx.criterion, model(x, weights), y)
        loss.backward()
        return {"loss": float(loss.detach()), "acc": batch_accuracy(logits.detach(), y),
                "val_loss": val_loss}


# --------------------------------------------------------------------------- SNAS


def _conv_mac(c_in: int, c_out: int, k: int, s_in: int, s_out: int, groups: int = 1) -> int:
    """ShuffleNetV2 memory access cost of a conv: input + output feature maps + weights."""
    return c_in * s_in * s_in + c_out * s_out * s_out + k * k * c_in * c_out // groups


def _op_memory_access(op: str, c: int, stride: int, s_in: int, s_out: int) -> int:
    if op == "none" or (op == "skip_connect" and stride == 1):
        return 0
    if op in ("max_pool_3x3", "avg_pool_3x3"):
        return c * s_in * s_in + c * s_out * s_out
    if op == "skip_connect":  # FactorizedReduce: two 1x1 stride-2 convs to c/2
        return 2 * _conv_mac(c, c // 2, 1, s_in, s_out)
    k = int(op[-1])
    total = _conv_mac(c, c, k, s_in, s_out, groups=c) + _conv_mac(c, c, 1, s_out, s_out)
    if op.startswith("sep_conv"):
        total += _conv_mac(c, c, k, s_out, s_out, groups=c) + _conv_mac(c, c, 1, s_out, s_out)
    return total


def snas_cost_table(space: Any) -> dict[str, Tensor]:
    """Per cell kind, ``T[E, 8, 3]`` raw costs ``(MACs, params, memory access)`` of every op
    on every edge, summed over the cells of that kind (``space``: a ``DartsSpace``)."""
    out = {}
    for kind in CELL_TYPES:
        mp = space.edge_costs(kind)
        mem = [[0] * len(PRIMITIVES) for _ in mp]
        for spec in space.cells:
            if ("reduce" if spec.reduction else "normal") != kind:
                continue
            for e, (src, _) in enumerate(space.edges):
                stride = 2 if spec.reduction and src < 2 else 1
                s_in = spec.in_size if stride == 2 else spec.out_size
                for k, op in enumerate(PRIMITIVES):
                    mem[e][k] += _op_memory_access(op, spec.c, stride, s_in, spec.out_size)
        out[kind] = torch.tensor([[[float(m), float(p), float(a)] for (m, p), a in zip(row, mrow,
                                                                                      strict=True)]
                                  for row, mrow in zip(mp, mem, strict=True)], dtype=torch.float64)
    return out


def _log_cost(table: Tensor) -> Tensor:
    """``[E, 8]`` per-(edge, op) cost ``mean_j log(1 + c_j)`` of a ``[E, 8, 3]`` raw table."""
    return torch.log1p(table.clamp_min(0)).mean(-1)


def resource_penalty(weights: dict[str, Tensor], cost_table: dict[str, Tensor]) -> Tensor:
    """SNAS resource penalty (Eq. 15-16): ``sum_{kind, e, op} Z[e, op] * C[e, op]``.

    ``C = mean(log(1 + MACs), log(1 + params), log(1 + memory access))`` from ``cost_table``
    (``[E, 8, 3]`` raw costs, :func:`snas_cost_table`; a ``[E, 8]`` table is used as ``C``
    directly). Linear in ``Z``, so with ``Z`` a Gumbel-softmax sample its gradient w.r.t. a
    costly op's logit is positive (raising it raises the penalty) and equals the expected cost
    for one-hot ``Z``.
    """
    total: Tensor | None = None
    for kind, z in weights.items():
        table = cost_table[kind]
        c = _log_cost(table) if table.ndim == 3 else table
        term = (z * c.to(z.device, z.dtype)).sum()
        total = term if total is None else total + term
    assert total is not None
    return total


def official_resource_penalty(weights: dict[str, Tensor], penalty_table: dict[str, Tensor]
                              ) -> Tensor:
    """The official SNAS log resource penalty (``model_search.py``, ``train_search.py``).

    Args:
        weights: ``{"normal": Z[E, 8], "reduce": Z[E, 8]}`` sampled op weights (one sample
            per cell kind, shared by its cells, as the official network without
            ``--resample_layer``).
        penalty_table: ``{kind: T[n_cells, E, 8, 3]}`` official ``(size, flops, mac)`` costs
            (:func:`nasrepro.metrics.snas_cost.snas_penalty_table`).

    Returns:
        ``sum_kind (1 / n_cells_kind) sum_{cell, edge} mean_x log(max(1, sum_k Z_k x_k))``.
    """
    total: Tensor | None = None
    for kind, z in weights.items():
        table = penalty_table[kind].to(z.device, z.dtype)
        if table.shape[0] == 0:
            continue
        sums = (z[None, :, :, None] * table).sum(2)             # [n_cells, E, 3]
        clean = torch.where(sums.abs() < 1, torch.ones_like(sums), sums)
        term = clean.abs().log().mean(-1).sum() / table.shape[0]
        total = term if total is None else total + term
    if total is None:
        raise ValueError("the penalty table has no cells")
    return total


def expected_costs(logits: dict[str, Tensor], cost_table: dict[str, Tensor]
                   ) -> dict[str, float]:
    """Expected cell MACs and params under ``softmax(log_alpha)`` (stem/classifier excluded)."""
    macs = params = 0.0
    for kind, a in logits.items():
        p = F.softmax(a.detach().double().cpu(), dim=-1)
        macs += float((p * cost_table[kind][..., 0]).sum())
        params += float((p * cost_table[kind][..., 1]).sum())
    return {"expected_macs": macs, "expected_params": params}


def _distribution_row(logits: dict[str, Tensor], edge_costs: dict[str, Tensor] | None
                      ) -> dict[str, float | None]:
    row: dict[str, float | None] = {"entropy": distribution_entropy(logits)}
    if edge_costs is not None:
        row.update(expected_costs(logits, edge_costs))
    else:
        row.update({"expected_macs": None, "expected_params": None})
    return row


class SnasStep:
    """SNAS single-level step for :func:`nasrepro.training.train`.

    Per iteration: ``Z = softmax((log_alpha + G) / tau)`` (``F.gumbel_softmax``, global torch
    RNG seeded and checkpointed by the loop),
    ``loss = CE(model(x, Z), y) + penalty_lambda * penalty(Z)``, one ``backward()``, then the
    architecture optimizer steps ``log_alpha`` (after clipping its gradient norm) and the loop
    steps the weights.

    Args:
        arch: the logits (``init="snas"``: N(1, 0.01)).
        temperature_start: tau before annealing (1.0).
        temperature_end: tau at the last epoch (0.03).
        epochs: search epochs (the annealing length).
        arch_optimizer: ``"sgd"`` (official single-GPU: plain SGD) or ``"adam"`` (official
            multi-GPU branch, with ``arch_betas`` and ``arch_weight_decay``).
        arch_lr: learning rate of ``log_alpha`` (official 3e-4).
        arch_betas: Adam betas.
        arch_weight_decay: Adam (L2) weight decay (SGD: none, as the official code).
        arch_grad_clip: max norm of the ``log_alpha`` gradient (official 10; None: off).
        anneal_offset: 1 (official: epoch ``e`` runs at the temperature of annealing step
            ``e + 1`` of ``epochs``) or 0 (epoch 0 at ``temperature_start``).
        penalty_lambda: resource-penalty weight (0: no constraint).
        penalty_form: ``"official"`` (:func:`official_resource_penalty`, needs
            ``penalty_table``) or ``"linear"`` (:func:`resource_penalty` on ``edge_costs``).
        penalty_table: :func:`nasrepro.metrics.snas_cost.snas_penalty_table` of the space.
        edge_costs: :func:`snas_cost_table` of the space (the ``expected_macs`` /
            ``expected_params`` log columns, and the ``"linear"`` penalty).
        eval_seed: seed of the evaluation-noise stream (:meth:`sample_eval_weights`).
    """

    #: derivation rule of the child network (:func:`derived_arch`)
    rule = "snas"

    def __init__(self, arch: ArchParameters, *, temperature_start: float = 1.0,
                 temperature_end: float = 0.03, epochs: int, arch_optimizer: str = "sgd",
                 arch_lr: float = 3e-4, arch_betas: tuple[float, float] = (0.5, 0.999),
                 arch_weight_decay: float = 1e-3, arch_grad_clip: float | None = 10.0,
                 anneal_offset: int = 1, penalty_lambda: float = 0.0,
                 penalty_form: str = "official", penalty_table: dict[str, Tensor] | None = None,
                 edge_costs: dict[str, Tensor] | None = None, eval_seed: int = 0) -> None:
        if penalty_form not in ("official", "linear"):
            raise ValueError(f"penalty_form must be 'official' or 'linear', got {penalty_form!r}")
        if penalty_lambda and penalty_form == "official" and penalty_table is None:
            raise ValueError("the official penalty needs penalty_table; pass "
                             "nasrepro.metrics.snas_cost.snas_penalty_table(space)")
        if penalty_lambda and penalty_form == "linear" and edge_costs is None:
            raise ValueError("the linear penalty needs edge_costs; pass snas_cost_table(space)")
        if not (temperature_start > 0 and temperature_end > 0):
            raise ValueError("temperatures must be > 0")
        if anneal_offset not in (0, 1):
            raise ValueError(f"anneal_offset must be 0 or 1, got {anneal_offset!r}")
        self.arch = arch
        self.temperature_start = temperature_start
        self.temperature_end = temperature_end
        self.epochs = int(epochs)
        self.anneal_offset = int(anneal_offset)
        self.penalty_lambda = float(penalty_lambda)
        self.penalty_form = penalty_form
        self.penalty_table = penalty_table
        self.edge_costs = edge_costs
        self.arch_grad_clip = arch_grad_clip
        self.eval_seed = int(eval_seed)
        if arch_optimizer == "sgd":
            self.arch_optimizer: torch.optim.Optimizer = torch.optim.SGD(
                list(arch.parameters()), lr=arch_lr)
        elif arch_optimizer == "adam":
            self.arch_optimizer = _arch_optimizer(arch, arch_lr, arch_betas, arch_weight_decay)
        else:
            raise ValueError(f"arch_optimizer must be 'sgd' or 'adam', got {arch_optimizer!r}")
        self.epoch = 0
        self.temperature = self.temperature_at(0)

    def temperature_at(self, epoch: int) -> float:
        """Linear annealing: ``start - (start - end) * (epoch + anneal_offset) / n`` with
        ``n = epochs`` (offset 1, official) or ``epochs - 1`` (offset 0), clipped at ``end``."""
        o = self.anneal_offset
        return linear_anneal(self.temperature_start, self.temperature_end, epoch + o,
                             self.epochs + o)

    def penalty(self, weights: dict[str, Tensor]) -> Tensor:
        """The resource penalty of sampled op weights (``penalty_form``)."""
        if self.penalty_form == "official":
            assert self.penalty_table is not None
            return official_resource_penalty(weights, self.penalty_table)
        assert self.edge_costs is not None
        return resource_penalty(weights, self.edge_costs)

    # -- loop hooks
    def parameters_to_optimize(self, model: nn.Module) -> list[Tensor]:
        arch_ids = {id(p) for p in self.arch.parameters()}
        return [p for p in model.parameters() if id(p) not in arch_ids]

    def state_dict(self) -> dict[str, Any]:
        return {**_arch_state(self.arch, self.arch_optimizer), "temperature": self.temperature,
                "epoch": self.epoch}

    def load_state_dict(self, d: dict[str, Any]) -> None:
        _load_arch_state(self.arch, self.arch_optimizer, d)
        self.temperature = float(d["temperature"])
        self.epoch = int(d.get("epoch", 0))

    def on_epoch_start(self, epoch: int, ctx: StepContext) -> None:
        self.epoch = int(epoch)
        self.temperature = self.temperature_at(epoch)

    def on_epoch_end(self, epoch: int, ctx: StepContext) -> dict[str, float | None]:
        """Log columns ``entropy``, ``temperature``, ``expected_macs``, ``expected_params``
        (the last two ``None`` without ``edge_costs``)."""
        return {**_distribution_row(self.arch.logits(), self.edge_costs),
                "temperature": self.temperature}

    def eval_weights(self) -> dict[str, Tensor]:
        """The noise-free relaxation ``softmax(log_alpha / tau)`` at the current temperature
        (detached): the Gumbel-softmax sample with its noise set to 0 (at small tau, about the
        argmax child). Reported as ``supernet_val_acc_noise_free``."""
        return softmax_weights({k: v.detach() / self.temperature
                                for k, v in self.arch.logits().items()})

    def eval_generator(self) -> torch.Generator:
        """The evaluation-noise generator of the current epoch (named stream
        ``(eval_seed, "snas-eval", epoch)``: identical on a rerun and after a resume)."""
        from nasrepro.seeds import child_seed

        return torch.Generator().manual_seed(child_seed(self.eval_seed, "snas-eval", self.epoch))

    def sample_eval_weights(self, generator: torch.Generator) -> dict[str, Tensor]:
        """One Gumbel-softmax sample at the current temperature from ``generator`` (the official
        ``infer``: a new sample per evaluation batch)."""
        return gumbel_weights({k: v.detach() for k, v in self.arch.logits().items()},
                              self.temperature, generator=generator)

    # -- the step
    def __call__(self, model: nn.Module, x: Tensor, y: Tensor, ctx: StepContext
                 ) -> dict[str, float]:
        z = gumbel_weights(self.arch.logits(), self.temperature)
        ce, logits = _loss_of(ctx.criterion, model(x, z), y)
        loss = ce
        penalty = 0.0
        if self.penalty_lambda:
            pen = self.penalty(z)
            loss = ce + self.penalty_lambda * pen
            penalty = float(pen.detach())
        self.arch_optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if self.arch_grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(list(self.arch.parameters()), self.arch_grad_clip)
        self.arch_optimizer.step()
        self.arch_optimizer.zero_grad(set_to_none=True)
        return {"loss": float(loss.detach()), "ce": float(ce.detach()), "penalty": penalty,
                "acc": batch_accuracy(logits.detach(), y)}
