"""Fused forward of a DARTS/SNAS search cell: the mixed ops in fewer, larger kernels.

An opt-in fast path of :class:`~nasrepro.supernets.darts.SearchCell` (space setting
``fused: true``, or ``supernet.fused = True``), same maths as the reference mixed op
(DARTS Sec. 2.1 Eq. 2; SNAS Sec. 2.2: ``node_t = sum_{j < t} sum_k w[(j,t), k] op_k(node_j)``,
the ops of ``nasrepro.supernets.darts_ops``) and the same state afterwards. The search
network is launch-bound on a GPU (issue 15: ~230 GFLOP per DARTS step run as thousands of
small kernels), so the edges that read the same node are computed together:

* per source node ``j``, every op type runs once for all the edges leaving ``j`` (up to 4)
  on which it is active: the depthwise convs of those edges as one grouped conv of the input
  repeated per edge, their pointwise convs as one grouped conv, their BNs as one
  ``batch_norm`` over the concatenated channels; the per-edge weights are concatenated at
  each forward (a view of the module parameters, so gradients, optimizers, checkpoints and
  ``functional_call`` see the usual parameters);
* the parameter-free ops (max/avg pool followed by a ``BatchNorm2d(affine=False)``, and the
  stride-1 ``skip_connect``) give the same output on every edge that reads the same node in
  training mode, so they run once per source node;
* the weighted sum of an edge's ops is one broadcast multiply-add per op type, in the
  reference op order.

BN running statistics are updated as the reference does (momentum average of the batch mean
and unbiased variance, ``num_batches_tracked + 1``) for exactly the BNs of the ops that run,
in a few ``torch._foreach`` calls per cell. An op with a zero weight is skipped as in the
reference (SNAS's one-hot samples run only the sampled ops); drop path (SNAS search) draws
its masks per edge in the reference order, so the global RNG moves identically.

Only the training-mode forward is fused; in eval mode (running statistics differ per edge)
and with cumulative-average BNs (``momentum=None``, BN recalibration) the cell runs the
reference path. ``tests/test_darts_fused.py`` checks equal loss, gradients and BN statistics
against the reference on CPU (and CUDA when present); ``bench/gpu.py`` measures the speed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nasrepro.supernets.darts_ops import FactorizedReduce, drop_path

__all__ = ["FusedPlan", "fused_cell_forward", "fusable", "make_plan"]

MAX_POOL, AVG_POOL, SKIP, SEP3, SEP5, DIL3, DIL5 = 1, 2, 3, 4, 5, 6, 7
CONV_OPS = (SEP3, SEP5, DIL3, DIL5)
#: op types in the order of PRIMITIVES (the reference sums an edge's ops in this order)
OP_ORDER = (MAX_POOL, AVG_POOL, SKIP, SEP3, SEP5, DIL3, DIL5)


@dataclass
class SourcePlan:
    """What runs on the edges leaving one node.

    Attributes:
        src: the source node.
        edges: edge indices (rows of the weight matrix) leaving ``src``, by target node.
        targets: their target nodes.
        members: per op type, the positions in ``edges`` where the op is active.
        live: per position, whether the edge has any active op.
        index: ``edges`` as a device tensor (gathers the edges' weight rows).
        member_index: per op type with a partial member list, its positions as a tensor.
    """

    src: int
    edges: list[int]
    targets: list[int]
    members: dict[int, list[int]]
    live: list[bool]
    index: Tensor | None = None
    member_index: dict[int, Tensor] = field(default_factory=dict)


@dataclass
class FusedPlan:
    """Per source node, the :class:`SourcePlan` of one cell kind and one active-op pattern."""

    sources: list[SourcePlan]


def make_plan(active: Sequence[Sequence[int]], steps: int, device: torch.device) -> FusedPlan:
    """The fused schedule of a cell from its per-edge active op lists.

    Args:
        active: per edge (official order), the op indices that run (``DartsSupernet.active_ops``).
        steps: intermediate nodes.
        device: where the index tensors live.
    """
    sources = []
    for src in range(steps + 1):  # the last node feeds nothing
        targets = list(range(max(2, src + 1), steps + 2))
        edges = [t * (t - 1) // 2 - 1 + src for t in targets]
        members = {k: [i for i, e in enumerate(edges) if k in active[e]] for k in OP_ORDER}
        members = {k: m for k, m in members.items() if m}
        live = [bool(active[e]) for e in edges]
        plan = SourcePlan(src, edges, targets, members, live)
        if any(live):
            plan.index = torch.tensor(edges, dtype=torch.long, device=device)
            for k, m in members.items():
                if len(m) < len(edges):
                    plan.member_index[k] = torch.tensor(m, dtype=torch.long, device=device)
        sources.append(plan)
    return FusedPlan(sources)


def fusable(cell: nn.Module) -> bool:
    """Whether the fused forward reproduces the reference: training mode, and every BN of the
    cell's mixed ops keeps exponential running statistics (``momentum`` a number)."""
    if not cell.training:
        return False
    bns = getattr(cell, "_fused_bns", None)
    if bns is None:
        bns = [m for op in cell._ops for m in op.modules() if isinstance(m, nn.BatchNorm2d)]
        cell._fused_bns = bns
    return all(m.momentum is not None and m.track_running_stats for m in bns)


# --------------------------------------------------------------------------- kernels


class _Stats:
    """BN running-statistics updates collected during a cell, applied at its end."""

    def __init__(self) -> None:
        self.by_momentum: dict[float, tuple[list[Tensor], ...]] = {}
        self.counters: list[Tensor] = []

    def add(self, bns: Sequence[nn.BatchNorm2d], x: Tensor, shared: bool) -> None:
        """Record the batch statistics of ``x`` for ``bns`` (``shared``: every BN saw all of
        ``x``; else BN ``i`` saw the ``i``-th block of channels)."""
        with torch.no_grad():  # statistics in the buffers' dtype (autocast: bf16 activations)
            xs = x if x.dtype == bns[0].running_mean.dtype else x.to(bns[0].running_mean.dtype)
            var, mean = torch.var_mean(xs, dim=(0, 2, 3), correction=1)
        c = bns[0].num_features
        for i, bn in enumerate(bns):
            m, v = (mean, var) if shared else (mean[i * c:(i + 1) * c], var[i * c:(i + 1) * c])
            lists = self.by_momentum.setdefault(float(bn.momentum), ([], [], [], []))
            lists[0].append(bn.running_mean)
            lists[1].append(m)
            lists[2].append(bn.running_var)
            lists[3].append(v)
            self.counters.append(bn.num_batches_tracked)

    def apply(self) -> None:
        with torch.no_grad():
            for momentum, (rms, ms, rvs, vs) in self.by_momentum.items():
                torch._foreach_mul_(rms, 1.0 - momentum)
                torch._foreach_add_(rms, ms, alpha=momentum)
                torch._foreach_mul_(rvs, 1.0 - momentum)
                torch._foreach_add_(rvs, vs, alpha=momentum)
            if self.counters:
                torch._foreach_add_(self.counters, 1)


def _bn(x: Tensor, bns: Sequence[nn.BatchNorm2d], stats: _Stats, shared: bool = False) -> Tensor:
    stats.add(bns, x, shared)
    return F.batch_norm(x, None, None, training=True, momentum=0.0, eps=bns[0].eps)


def _grouped(x: Tensor, convs: Sequence[nn.Conv2d]) -> Tensor:
    """``convs[i]`` applied to the ``i``-th channel block of ``x``, as one grouped conv."""
    c0 = convs[0]
    weight = torch.cat([c.weight for c in convs]) if len(convs) > 1 else c0.weight
    return F.conv2d(x, weight, None, c0.stride, c0.padding, c0.dilation,
                    c0.groups * len(convs))


def _conv_op(r_rep: Tensor, seqs: Sequence[nn.Sequential], sep: bool, stats: _Stats) -> Tensor:
    """SepConv / DilConv of ``len(seqs)`` edges on ``r_rep`` (their ReLU'd input, repeated per
    edge along channels): ``[B, m * C, h, w]``."""
    y = _grouped(r_rep, [s[1] for s in seqs])          # depthwise (stride, dilation)
    y = _grouped(y, [s[2] for s in seqs])              # pointwise
    y = _bn(y, [s[3] for s in seqs], stats)
    if sep:
        y = _grouped(F.relu(y), [s[5] for s in seqs])  # depthwise, stride 1
        y = _grouped(y, [s[6] for s in seqs])
        y = _bn(y, [s[7] for s in seqs], stats)
    return y


def _factorized_reduce(r: Tensor, frs: Sequence[nn.Module], stats: _Stats) -> Tensor:
    """FactorizedReduce (skip_connect at stride 2) of ``len(frs)`` edges on the ReLU'd input
    ``r``: ``[B, m * C, h / 2, w / 2]``, each edge's two halves side by side."""
    m = len(frs)
    a = F.conv2d(r, torch.cat([f.conv_1.weight for f in frs]), None, 2)
    b = F.conv2d(r[:, :, 1:, 1:], torch.cat([f.conv_2.weight for f in frs]), None, 2)
    bsz, _, hh, ww = a.shape
    half = a.shape[1] // m
    z = torch.cat([a.view(bsz, m, half, hh, ww), b.view(bsz, m, half, hh, ww)], dim=2)
    return _bn(z.view(bsz, m * 2 * half, hh, ww), [f.bn for f in frs], stats)


def _source_outputs(cell: nn.Module, plan: SourcePlan, h: Tensor, w: Tensor,
                    stats: _Stats) -> Tensor:
    """``[B, n, C, h', w']``: the mixed-op outputs of the ``n`` edges leaving one node.

    ``w`` is ``[n, 8]``, the weight rows of those edges.
    """
    n = len(plan.edges)
    mixed = [cell._ops[e] for e in plan.edges]
    acc: Tensor | None = None
    relu: Tensor | None = None
    repeats: dict[int, Tensor] = {}
    for k in OP_ORDER:
        pos = plan.members.get(k)
        if not pos:
            continue
        ops = [mixed[i]._ops[k] for i in pos]
        m = len(pos)
        if k in (MAX_POOL, AVG_POOL):  # same output on every edge: run once
            y = _bn(ops[0][0](h), [op[1] for op in ops], stats, shared=True).unsqueeze(1)
        elif k == SKIP and isinstance(ops[0], FactorizedReduce):
            relu = F.relu(h) if relu is None else relu
            y = _factorized_reduce(relu, ops, stats)
            y = y.view(y.shape[0], m, -1, *y.shape[2:])
        elif k == SKIP:  # identity
            y = h.unsqueeze(1)
        else:
            relu = F.relu(h) if relu is None else relu
            if m not in repeats:
                repeats[m] = relu.repeat(1, m, 1, 1) if m > 1 else relu
            y = _conv_op(repeats[m], [op.op for op in ops], k in (SEP3, SEP5), stats)
            y = y.view(y.shape[0], m, -1, *y.shape[2:])
        idx = plan.member_index.get(k)
        wk = (w[:, k] if idx is None else w.index_select(0, idx)[:, k]).reshape(1, m, 1, 1, 1)
        term = y * wk.to(y.dtype)  # as the reference's 0-dim weight: y's dtype (autocast)
        if idx is None:
            acc = term if acc is None else acc + term
        else:
            if acc is None:
                acc = term.new_zeros((term.shape[0], n, *term.shape[2:]))
            acc = acc.index_add(1, idx, term)
    assert acc is not None
    return acc


def fused_cell_forward(cell: nn.Module, s0: Tensor, s1: Tensor, weights: Tensor,
                       plan: FusedPlan, drop_prob: float) -> Tensor:
    """The training-mode forward of a ``SearchCell`` through ``plan`` (see the module doc).

    Args:
        cell: the ``SearchCell``.
        s0: input c_{k-2}.
        s1: input c_{k-1}.
        weights: ``[E, 8]`` op weights of the cell's kind.
        plan: :func:`make_plan` of the active ops of ``weights``.
        drop_prob: drop-path probability on every edge output (SNAS search).

    Returns:
        The cell output (concat of the ``cell.concat`` nodes).
    """
    stats = _Stats()
    states = [cell.preprocess0(s0), cell.preprocess1(s1)]
    use_drop = drop_prob > 0.0
    pending: dict[int, list[tuple[int, Tensor]]] = {}  # target node -> [(src, edge output)]
    for plan_j in plan.sources:
        j = plan_j.src
        if j >= 2:  # node j is complete: sum its incoming edges in the reference order
            states.append(_node(pending.pop(j, []), use_drop, drop_prob, states[1],
                                cell.reduction))
        if plan_j.index is None:
            continue
        out = _source_outputs(cell, plan_j, states[j], weights.index_select(0, plan_j.index),
                              stats)
        for i, t in enumerate(plan_j.targets):
            if plan_j.live[i]:
                pending.setdefault(t, []).append((j, out[:, i]))
    last = len(states)
    states.append(_node(pending.pop(last, []), use_drop, drop_prob, states[1], cell.reduction))
    stats.apply()
    return torch.cat([states[i] for i in cell.concat], dim=1)


def _node(inputs: list[tuple[int, Tensor]], use_drop: bool, drop_prob: float, s1: Tensor,
          reduction: bool) -> Tensor:
    acc: Tensor | None = None
    for _, y in sorted(inputs, key=lambda item: item[0]):
        if use_drop:
            y = drop_path(y, drop_prob)
        acc = y if acc is None else acc + y
    if acc is None:  # no incoming edge runs: zeros of the node shape, as the reference
        return torch.zeros_like(s1[:, :, ::2, ::2] if reduction else s1)
    return acc


def plan_cache_key(active: Sequence[Sequence[int]], device: torch.device) -> Any:
    """Hashable key of an active-op pattern on a device."""
    return (str(device), tuple(tuple(a) for a in active))
