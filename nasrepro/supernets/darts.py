"""DARTS/SNAS cell networks: the standalone evaluation net and the weight-sharing search net.

DARTS (Liu et al., ICLR 2019) Sec. 2 and 3.1-3.3, SNAS (Xie et al., ICLR 2019) Sec. 2-3, layer
for layer as the official code:

* :class:`DartsNet` is ``NetworkCIFAR`` of quark0/darts ``cnn/model.py`` (and of SNAS-Series
  ``SNAS/model_edge_all.py``): stem conv3x3 -> ``stem_multiplier * C`` + BN; ``layers`` cells,
  the ones at ``layers // 3`` and ``2 * layers // 3`` reduction cells (stride 2, channels
  doubled); each cell preprocesses its inputs c_{k-2}, c_{k-1} (ReLU-conv1x1-BN, or
  :class:`FactorizedReduce` after a reduction cell), runs its edges and outputs the concat of
  its intermediate nodes; an auxiliary head after cell ``2 * layers // 3`` (training mode
  only), global average pool, linear classifier. Drop path (``drop_path_prob``, set by the
  training loop each epoch) drops the output of every op but identity.
* :class:`DartsSupernet` is ``Network`` of ``cnn/model_search.py``: the same skeleton with a
  :class:`MixedOp` of all 8 ops on each of the 14 edges of a cell, BN ``affine=False`` in the
  cells, pools followed by ``BatchNorm2d(affine=False)``. ``forward(x, weights)`` takes the
  per-edge op weights (softmax(alpha) for DARTS, Gumbel-softmax samples for SNAS), computed by
  the caller, and runs only the ops whose weight is non-zero ('none' never runs: it adds 0),
  so one-hot weights run exactly the child network. With ``fused`` (preset setting
  ``fused: true``; off by default) its training-mode forward runs the mixed ops of the edges
  leaving a node together (:mod:`nasrepro.supernets.darts_fused`: same maths, fewer kernels).

Cell edges (DARTS Sec. 2.1): intermediate node ``t`` (2 .. steps + 1) sums one op per incoming
edge from every earlier node ``0 .. t - 1`` (0, 1 = the cell inputs); edges in the official
order (node 2 from 0, 1; node 3 from 0, 1, 2; ...) are indexed by :func:`edge_index`. A
standalone cell holds an explicit edge list: a node with no incoming edge (possible in SNAS
child networks, where an edge whose sampled op is 'none' vanishes) outputs zeros of the node
shape, exactly like the official net, whose 'none' op (``Zero``) returns ``x.mul(0.)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from nasrepro.supernets.darts_fused import (
    fusable,
    fused_cell_forward,
    make_plan,
    plan_cache_key,
)
from nasrepro.supernets.darts_ops import (
    NONE_INDEX,
    PRIMITIVES,
    FactorizedReduce,
    Identity,
    ReLUConvBN,
    drop_path,
    make_op,
    uses_drop_path,
)
from nasrepro.supernets.init import default_init_

__all__ = [
    "AuxiliaryHead",
    "CellSpec",
    "DartsConfig",
    "DartsNet",
    "DartsSupernet",
    "MixedOp",
    "arch_to_weights",
    "cell_edges",
    "edge_index",
    "num_edges",
    "reset_parameters",
]

Edge = tuple[str, int, int]  # (op, from, to)


# --- edge indexing ------------------------------------------------------------------------------
def num_edges(steps: int = 4) -> int:
    """Number of edges of a cell with ``steps`` intermediate nodes (14 for 4)."""
    return steps * (steps + 3) // 2


def cell_edges(steps: int = 4) -> list[tuple[int, int]]:
    """``[(from, to), ...]`` of every edge in the official order (``alphas`` row order)."""
    return [(j, i + 2) for i in range(steps) for j in range(i + 2)]


def edge_index(src: int, dst: int) -> int:
    """Row of edge ``src -> dst`` in the ``[num_edges, num_ops]`` weight/alpha matrices."""
    if not 0 <= src < dst or dst < 2:
        raise ValueError(f"no edge {src} -> {dst}: need 0 <= from < to and to >= 2")
    return dst * (dst - 1) // 2 - 1 + src


def arch_to_weights(arch: dict[str, Sequence[Sequence[Any]]], steps: int = 4,
                    device: torch.device | str | None = None,
                    dtype: torch.dtype = torch.float32) -> dict[str, Tensor]:
    """One-hot op weights ``{"normal": [E, 8], "reduce": [E, 8]}`` of a canonical arch.

    Edges absent from the arch get a one-hot 'none', so ``supernet(x, arch_to_weights(a))``
    runs exactly the child network of ``a`` (SNAS Sec. 3: the child net keeps the supernet's
    weights, no retraining).
    """
    out = {}
    for kind in ("normal", "reduce"):
        w = torch.zeros(num_edges(steps), len(PRIMITIVES), device=device, dtype=dtype)
        w[:, NONE_INDEX] = 1.0
        for op, src, dst in arch[kind]:
            e = edge_index(int(src), int(dst))
            w[e].zero_()
            w[e, PRIMITIVES.index(op)] = 1.0
        out[kind] = w
    return out


# --- geometry -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class CellSpec:
    """Geometry of one cell.

    Attributes:
        index: position in the network.
        c_prev_prev: channels of input c_{k-2}.
        c_prev: channels of input c_{k-1}.
        c: channels of every node (the cell outputs ``multiplier * c``).
        reduction: stride-2 cell (edges leaving the inputs have stride 2).
        reduction_prev: the previous cell reduced (c_{k-2} is twice the size of c_{k-1}).
        in_size: spatial size of c_{k-1} (and of c_{k-2} after preprocessing).
        out_size: spatial size of the nodes and of the cell output.
    """

    index: int
    c_prev_prev: int
    c_prev: int
    c: int
    reduction: bool
    reduction_prev: bool
    in_size: int
    out_size: int


@dataclass(frozen=True)
class DartsConfig:
    """Hyperparameters of one DARTS network family (one preset of space ``darts``)."""

    C: int  # noqa: N815 - the official name of the initial channels
    layers: int
    num_classes: int
    input_channels: int
    input_size: int  # pixels (square)
    auxiliary: bool
    stem_multiplier: int = 3
    steps: int = 4
    multiplier: int = 4
    #: follow pools with an affine BN in standalone nets (SNAS ``operations.py``; DARTS: no)
    pool_bn: bool = False
    #: keep conv weights/activations in channels-last layout (CPU speed)
    channels_last: bool = False
    #: search network only: run the mixed ops of the edges leaving a node together in
    #: training mode (:mod:`nasrepro.supernets.darts_fused`; same maths, fewer kernels)
    fused: bool = False

    @property
    def reduction_indices(self) -> tuple[int, int]:
        """Cells that reduce (official: ``layers // 3`` and ``2 * layers // 3``)."""
        return (self.layers // 3, 2 * self.layers // 3)

    @property
    def aux_index(self) -> int:
        """Cell after which the auxiliary head reads (``2 * layers // 3``)."""
        return 2 * self.layers // 3

    @property
    def concat(self) -> tuple[int, ...]:
        """Nodes concatenated into the cell output (the last ``multiplier`` nodes)."""
        return tuple(range(2 + self.steps - self.multiplier, self.steps + 2))

    @property
    def cells(self) -> list[CellSpec]:
        """One :class:`CellSpec` per cell, in order (official channel bookkeeping)."""
        out: list[CellSpec] = []
        c_curr = self.stem_multiplier * self.C
        cpp, cp, c_curr = c_curr, c_curr, self.C
        size = self.input_size
        reduction_prev = False
        for i in range(self.layers):
            reduction = i in self.reduction_indices
            if reduction:
                c_curr *= 2
            out_size = (size + 1) // 2 if reduction else size
            out.append(CellSpec(i, cpp, cp, c_curr, reduction, reduction_prev, size, out_size))
            reduction_prev = reduction
            cpp, cp = cp, self.multiplier * c_curr
            size = out_size
        return out

    @property
    def final_channels(self) -> int:
        """Channels entering the classifier."""
        return self.multiplier * self.cells[-1].c if self.layers else self.stem_multiplier * self.C

    @property
    def aux_channels(self) -> int:
        """Channels entering the auxiliary head."""
        return self.multiplier * self.cells[self.aux_index].c

    @property
    def aux_size(self) -> int:
        """Spatial size entering the auxiliary head."""
        return self.cells[self.aux_index].out_size


def reset_parameters(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """Re-draw conv/linear weights with PyTorch's default initialisation from ``generator``.

    The official DARTS/SNAS code keeps PyTorch's defaults (kaiming-uniform ``a = sqrt(5)``,
    bias uniform in ``+-1/sqrt(fan_in)``, BN weight 1 / bias 0); this redraws them from an
    explicit generator so a build is reproducible without touching the global RNG.
    """
    if generator is None:
        return
    default_init_(model, generator)


def _stem(cfg: DartsConfig) -> nn.Sequential:
    c = cfg.stem_multiplier * cfg.C
    return nn.Sequential(
        nn.Conv2d(cfg.input_channels, c, 3, padding=1, bias=False),
        nn.BatchNorm2d(c),
    )


def _preprocess(spec: CellSpec, affine: bool) -> tuple[nn.Module, nn.Module]:
    if spec.reduction_prev:
        pre0: nn.Module = FactorizedReduce(spec.c_prev_prev, spec.c, affine=affine)
    else:
        pre0 = ReLUConvBN(spec.c_prev_prev, spec.c, 1, 1, 0, affine=affine)
    pre1 = ReLUConvBN(spec.c_prev, spec.c, 1, 1, 0, affine=affine)
    return pre0, pre1


def _zeros_node(s1: Tensor, reduction: bool) -> Tensor:
    """Zeros of a node's shape: what the official 'none' op (``x.mul(0.)``) produces."""
    return torch.zeros_like(s1[:, :, ::2, ::2] if reduction else s1)


# --- standalone network -------------------------------------------------------------------------
class Cell(nn.Module):
    """A standalone cell of an explicit edge list (official ``model.py`` / ``model_edge_all.py``).

    Args:
        spec: geometry.
        edges: ``[(op, from, to), ...]`` without 'none' edges.
        steps: intermediate nodes.
        concat: nodes concatenated into the output.
        pool_bn: follow pools with an affine BN (SNAS).
    """

    def __init__(self, spec: CellSpec, edges: Sequence[Edge], steps: int,
                 concat: Sequence[int], pool_bn: bool = False) -> None:
        super().__init__()
        self.reduction = spec.reduction
        self.steps = steps
        self.concat = tuple(concat)
        self.preprocess0, self.preprocess1 = _preprocess(spec, affine=True)
        self._ops = nn.ModuleList()
        self._sources: list[int] = []
        self._by_node: list[list[int]] = [[] for _ in range(steps)]
        for op, src, dst in edges:
            stride = 2 if spec.reduction and src < 2 else 1
            self._by_node[dst - 2].append(len(self._ops))
            self._ops.append(make_op(op, spec.c, stride, affine=True, pool_bn=pool_bn))
            self._sources.append(src)

    def forward(self, s0: Tensor, s1: Tensor, drop_prob: float | Tensor) -> Tensor:
        s0 = self.preprocess0(s0)
        s1 = self.preprocess1(s1)
        states = [s0, s1]
        use_drop = uses_drop_path(self.training, drop_prob)
        for node_edges in self._by_node:
            acc: Tensor | None = None
            for e in node_edges:
                op = self._ops[e]
                h = op(states[self._sources[e]])
                if use_drop and not isinstance(op, Identity):
                    h = drop_path(h, drop_prob)
                acc = h if acc is None else acc + h
            states.append(acc if acc is not None else _zeros_node(s1, self.reduction))
        return torch.cat([states[i] for i in self.concat], dim=1)


class AuxiliaryHead(nn.Module):
    """``AuxiliaryHeadCIFAR`` (official: input 8x8 -> avg pool 5 s3 -> 2x2 -> conv 2x2 -> 1x1).

    Generalised to other input sizes ``s`` (CPU presets): pool kernel ``min(5, s)`` stride 3
    to ``p`` pixels, then the second conv has kernel ``p`` so it always ends at 1x1; at
    ``s = 8`` this is exactly the official head. The first ReLU is not in place (the official
    one rewrites the cell output it reads, harmless there because every consumer starts with
    a ReLU, but not when the head reads the last cell, as in small presets).
    """

    def __init__(self, channels: int, num_classes: int, in_size: int = 8) -> None:
        super().__init__()
        k = min(5, in_size)
        p = (in_size - k) // 3 + 1
        self.features = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.AvgPool2d(k, stride=3, padding=0, count_include_pad=False),
            nn.Conv2d(channels, 128, 1, bias=False),
            nn.BatchNorm2d(128),
            nn.ReLU(inplace=True),
            nn.Conv2d(128, 768, p, bias=False),
            nn.BatchNorm2d(768),
            nn.ReLU(inplace=True),
        )
        self.classifier = nn.Linear(768, num_classes)

    def forward(self, x: Tensor) -> Tensor:
        x = self.features(x)
        return self.classifier(x.flatten(1))


class DartsNet(nn.Module):
    """Standalone network of one arch (``NetworkCIFAR``), affine BN.

    ``forward(x)`` returns the logits, or ``(logits, logits_aux)`` in training mode when the
    auxiliary head is on. ``drop_path_prob`` (default 0) is the drop-path probability of the
    current epoch; the training loop sets it (DARTS: ramped linearly to the preset value).
    ``drop_path_as_tensor`` (set by ``compile``, :mod:`nasrepro.training.fast`) hands the cells
    that probability as a 0-d tensor buffer instead of a float, so that a compiled graph does
    not specialise on it and recompile every epoch of the ramp.

    Args:
        cfg: the preset.
        arch: canonical ``{"normal": [[op, from, to], ...], "reduce": [...]}``, no 'none'.
        generator: RNG for the (PyTorch default) weight initialisation.
    """

    def __init__(self, cfg: DartsConfig, arch: dict[str, Sequence[Sequence[Any]]],
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.arch = arch
        self.register_buffer("_drop_prob", torch.zeros(()), persistent=False)
        self.drop_path_prob = 0.0
        self.drop_path_as_tensor = False
        self._auxiliary = cfg.auxiliary
        self.stem = _stem(cfg)
        self.cells = nn.ModuleList()
        for spec in cfg.cells:
            edges = [(str(o), int(s), int(d))
                     for o, s, d in arch["reduce" if spec.reduction else "normal"]]
            self.cells.append(Cell(spec, edges, cfg.steps, cfg.concat, cfg.pool_bn))
        if cfg.auxiliary:
            self.auxiliary_head = AuxiliaryHead(cfg.aux_channels, cfg.num_classes, cfg.aux_size)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cfg.final_channels, cfg.num_classes)
        reset_parameters(self, generator)
        if cfg.channels_last:
            self.to(memory_format=torch.channels_last)

    @property
    def drop_path_prob(self) -> float:
        """Drop-path probability of the current epoch."""
        return float(self.__dict__.get("_drop_path_prob_value", 0.0))

    @drop_path_prob.setter
    def drop_path_prob(self, p: float) -> None:
        self.__dict__["_drop_path_prob_value"] = float(p)
        self._drop_prob.fill_(float(p))

    def compile_units(self) -> list[nn.Module]:
        """The cells ``compile: blocks`` compiles (:mod:`nasrepro.training.fast`)."""
        return list(self.cells)

    def forward(self, x: Tensor) -> Tensor | tuple[Tensor, Tensor]:
        logits_aux = None
        drop_prob: float | Tensor = (self._drop_prob if self.drop_path_as_tensor
                                     else self.drop_path_prob)
        s0 = s1 = self.stem(x)
        for i, cell in enumerate(self.cells):
            s0, s1 = s1, cell(s0, s1, drop_prob)
            if i == self.cfg.aux_index and self._auxiliary and self.training:
                logits_aux = self.auxiliary_head(s1)
        logits = self.classifier(self.global_pooling(s1).flatten(1))
        if logits_aux is not None:
            return logits, logits_aux
        return logits


# --- search network -------------------------------------------------------------------------------
class MixedOp(nn.Module):
    """All 8 ops of one edge (BN affine=False, pools followed by BN), official ``MixedOp``.

    ``forward(x, w, active)`` returns ``sum(w[k] * op_k(x) for k in active)``, ``None`` when
    ``active`` is empty; the caller passes the non-'none' ops whose weight is non-zero.
    """

    def __init__(self, channels: int, stride: int) -> None:
        super().__init__()
        self._ops = nn.ModuleList(
            make_op(p, channels, stride, affine=False, pool_bn=True) for p in PRIMITIVES)

    def forward(self, x: Tensor, w: Tensor, active: Sequence[int]) -> Tensor | None:
        out: Tensor | None = None
        for k in active:
            y = w[k] * self._ops[k](x)
            out = y if out is None else out + y
        return out


class SearchCell(nn.Module):
    """A search cell: preprocessing (affine=False) and one :class:`MixedOp` per edge."""

    def __init__(self, spec: CellSpec, steps: int, concat: Sequence[int]) -> None:
        super().__init__()
        self.reduction = spec.reduction
        self.steps = steps
        self.concat = tuple(concat)
        self.preprocess0, self.preprocess1 = _preprocess(spec, affine=False)
        self._ops = nn.ModuleList(
            MixedOp(spec.c, 2 if spec.reduction and src < 2 else 1)
            for src, _ in cell_edges(steps))

    def forward(self, s0: Tensor, s1: Tensor, weights: Tensor, active: Sequence[Sequence[int]],
                drop_prob: float = 0.0) -> Tensor:
        s0 = self.preprocess0(s0)
        s1 = self.preprocess1(s1)
        states = [s0, s1]
        use_drop = self.training and drop_prob > 0.0
        offset = 0
        for _ in range(self.steps):
            acc: Tensor | None = None
            for j, h in enumerate(states):
                e = offset + j
                y = self._ops[e](h, weights[e], active[e])
                if y is None:
                    continue
                if use_drop:  # SNAS search: drop path on every edge output
                    y = drop_path(y, drop_prob)
                acc = y if acc is None else acc + y
            offset += len(states)
            states.append(acc if acc is not None else _zeros_node(s1, self.reduction))
        return torch.cat([states[i] for i in self.concat], dim=1)


class DartsSupernet(nn.Module):
    """The DARTS/SNAS search network, ``forward(x, weights) -> logits``.

    ``weights`` is ``{"normal": Tensor[E, 8], "reduce": Tensor[E, 8]}`` (E = 14 edges in the
    order of :func:`cell_edges`, ops in the order of ``PRIMITIVES``), shared by all cells of
    a kind, as the official code; or an arch (anything ``validate`` accepts), which runs its
    child network through one-hot weights. Only non-'none' ops with a non-zero weight run.
    ``drop_path_prob`` (default 0; SNAS search 0.3) drops edge outputs in training mode.

    Args:
        cfg: the preset.
        validate: turns a user arch into the canonical form (raises :class:`ArchError`);
            normally ``DartsSpace.validate``; ``None`` accepts weights only.
        generator: RNG for the (PyTorch default) weight initialisation.
    """

    def __init__(self, cfg: DartsConfig,
                 validate: Callable[[Any], dict[str, Any]] | None = None,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.validate = validate
        self.drop_path_prob = 0.0
        self.num_edges = num_edges(cfg.steps)
        self.num_ops = len(PRIMITIVES)
        self.stem = _stem(cfg)  # the official search stem keeps an affine BN
        self.cells = nn.ModuleList(SearchCell(spec, cfg.steps, cfg.concat) for spec in cfg.cells)
        self.global_pooling = nn.AdaptiveAvgPool2d(1)
        self.classifier = nn.Linear(cfg.final_channels, cfg.num_classes)
        reset_parameters(self, generator)
        if cfg.channels_last:
            self.to(memory_format=torch.channels_last)
        #: training-mode forward through the fused mixed ops (opt-in; same maths)
        self.fused = cfg.fused
        self._fused_plans: dict[Any, Any] = {}

    def _weights(self, weights: Any) -> dict[str, Tensor]:
        if isinstance(weights, dict) and all(
                isinstance(weights.get(k), Tensor) for k in ("normal", "reduce")):
            out = {k: weights[k] for k in ("normal", "reduce")}
        elif self.validate is not None:
            out = arch_to_weights(self.validate(weights), self.cfg.steps,
                                  device=self.classifier.weight.device,
                                  dtype=self.classifier.weight.dtype)
        else:
            raise TypeError("DartsSupernet.forward needs weights {'normal': Tensor, 'reduce': "
                            "Tensor} (or an arch when built with a validate function)")
        shape = (self.num_edges, self.num_ops)
        for k, w in out.items():
            if tuple(w.shape) != shape:
                raise ValueError(f"weights['{k}'] has shape {tuple(w.shape)}, expected {shape} "
                                 f"(edges x ops in PRIMITIVES order)")
        return out

    @staticmethod
    def active_ops(w: Tensor) -> list[list[int]]:
        """Per edge, the op indices that run: non-'none' with a non-zero weight."""
        mask = (w.detach() != 0).tolist()
        return [[k for k, on in enumerate(row) if on and k != NONE_INDEX] for row in mask]

    def _fused_plan(self, active: list[list[int]], device: torch.device) -> Any:
        key = plan_cache_key(active, device)
        plan = self._fused_plans.get(key)
        if plan is None:
            if len(self._fused_plans) >= 256:  # SNAS samples many patterns: keep it bounded
                self._fused_plans.clear()
            plan = self._fused_plans[key] = make_plan(active, self.cfg.steps, device)
        return plan

    def compile_units(self) -> list[nn.Module]:
        """The search cells (``compile: blocks``: one graph per cell and set of running ops;
        the reference path only, as the fused path does not call the cells)."""
        return list(self.cells)

    def forward(self, x: Tensor, weights: Any) -> Tensor:
        w = self._weights(weights)
        active = {k: self.active_ops(v) for k, v in w.items()}
        plans = ({k: self._fused_plan(a, x.device) for k, a in active.items()}
                 if self.fused and self.training else None)
        s0 = s1 = self.stem(x)
        for cell in self.cells:
            kind = "reduce" if cell.reduction else "normal"
            if plans is not None and fusable(cell):
                out = fused_cell_forward(cell, s0, s1, w[kind], plans[kind], self.drop_path_prob)
            else:
                out = cell(s0, s1, w[kind], active[kind], self.drop_path_prob)
            s0, s1 = s1, out
        return self.classifier(self.global_pooling(s1).flatten(1))
