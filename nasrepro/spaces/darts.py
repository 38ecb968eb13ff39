"""The DARTS/SNAS cell search space (Liu et al., ICLR 2019; Xie et al., ICLR 2019).

Space ``darts`` (DARTS Sec. 2.1, SNAS Sec. 2): a normal and a reduction cell, each a DAG of 2
inputs (0 = c_{k-2}, 1 = c_{k-1}) and ``steps = 4`` intermediate nodes (2..5); every edge
``from -> to`` (``from < to``, 14 edges) carries one of the 8 ops of ``PRIMITIVES`` (none,
max_pool_3x3, avg_pool_3x3, skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3,
dil_conv_5x5); the cell output is the concat of nodes 2..5.

Arch format (DESIGN.md): ``{"normal": [[op, from, to], ...], "reduce": [...]}``, an explicit
edge list, so both DARTS's 2-edges-per-node genotypes and SNAS's child networks (argmax on
every edge, 'none' edges vanish) fit. 'none' edges may be listed; they are dropped. A node
with no incoming edge outputs zeros of the node shape and costs nothing (as the official SNAS
``model_edge_all.py``, whose 'none' op returns ``x.mul(0.)``); it still fills its slot in
the concat. :meth:`DartsSpace.validate` also accepts the official ``Genotype`` in dict form
(``{"normal": [[op, input], ...], "normal_concat": [2, 3, 4, 5], "reduce": ..., "reduce_concat":
...}``, 2 pairs per node as DARTS's ``genotypes.py`` or ``i + 2`` pairs for node ``i`` as
SNAS's ``*_edge_all``), as a namedtuple, or as its repr string ``"Genotype(normal=[...],
normal_concat=range(2, 6), ...)"`` (parsed with ``ast.literal_eval``, never ``eval``), and
returns the canonical edge list (no 'none', sorted by (to, from)), so ``arch_id`` is stable.

Derivation (:func:`derive_darts`, :func:`derive_snas`): DARTS keeps, per node, the 2 incoming
edges with the largest non-'none' softmax weight and their argmax non-'none' op
(``model_search.py genotype()``); SNAS takes the argmax op on every edge, 'none' included
(``genotype_edge_all``), and drops the 'none' edges.

Presets (settings ``C``, ``layers``, ``num_classes``, ``input_channels``, ``input_size``,
``auxiliary``, ``auxiliary_weight``, ``drop_path_prob``, ``stem_multiplier``, ``steps``,
``multiplier``, ``pool_bn``, ``channels_last``, ``fused``):

* ``cifar10-search``: the search network, C=16, 8 cells, 3x32x32, 10 classes, no auxiliary.
* ``cifar10-eval``: the evaluation network, C=36, 20 cells, auxiliary head (weight 0.4) after
  cell 13, drop path 0.2. DARTS_V2 gives 3,349,342 params (official ``param size =
  3.349342MB``).
* ``small``: Fashion-MNIST 1x28x28, C=8, 5 cells (reductions at cells 1 and 3: 28 -> 14 ->
  7 pixels), auxiliary head (generalised to the 7x7 map), drop path 0.2, channels-last, for
  the 2-core CPU profile. DARTS_V2: 5.3 M MACs, 36.6 k params. Training throughput (batch 64,
  2 threads, shared machine, best of 3): standalone DARTS_V2 ~450 img/s; search supernet with
  softmax weights (all 7 ops on 14 edges) ~33 img/s; supernet with one-hot weights ~480 img/s
  (channels-last is ~1.5-2x faster here than the default layout).
* ``tiny``: digits 1x8x8, C=4, 3 cells (8 -> 4 -> 2 pixels), no auxiliary head (the official
  head would outweigh the net; ``auxiliary=True`` builds it), channels-last; the tests train
  on it. DARTS_V2: 77 k MACs, 2.6 k params; ~3000 img/s standalone, ~200 img/s supernet.

``fused=True`` (all presets: false) makes the search supernet run the mixed ops of the edges
that leave a node together in training mode (:mod:`nasrepro.supernets.darts_fused`): the same
loss, gradients and BN statistics as the reference mixed op, in fewer, larger kernels (an
opt-in fast path for GPUs, measured by ``bench/gpu.py``); standalone nets ignore it.

``pool_bn=True`` follows every pool of the standalone net with an affine BN, as SNAS's
``operations.py`` does (DARTS's does not); it changes the params of archs with pools only.

Cost (:meth:`DartsSpace.cost`) is analytic from per-cell tables built with the primitives of
:mod:`nasrepro.metrics.cost`: MACs of conv + linear and params of the standalone net, the
auxiliary head excluded (as the official ``count_parameters_in_MB``); checked against
``FlopCounterMode`` in the tests.
"""

from __future__ import annotations

import ast
import json
import random
import re
from collections.abc import Sequence
from numbers import Integral
from typing import Any

import torch
from torch import Tensor, nn

from nasrepro.errors import ArchError
from nasrepro.metrics.cost import (
    bn_params,
    conv2d_macs,
    conv2d_params,
    linear_macs,
    linear_params,
)
from nasrepro.spaces.base import Arch, Cost, SearchSpace, register_space
from nasrepro.supernets.darts import (
    CellSpec,
    DartsConfig,
    DartsNet,
    DartsSupernet,
    arch_to_weights,
    cell_edges,
    edge_index,
    num_edges,
)
from nasrepro.supernets.darts_ops import NONE_INDEX, PRIMITIVES

__all__ = [
    "PRESETS",
    "PRIMITIVES",
    "DartsSpace",
    "arch_to_weights",
    "cell_edges",
    "derive_darts",
    "derive_snas",
    "edge_index",
    "num_edges",
]

NUM_OPS = len(PRIMITIVES)
#: ops a sampled/mutated edge may take (never 'none')
OP_CHOICES: tuple[str, ...] = tuple(p for p in PRIMITIVES if p != "none")
CELL_KINDS = ("normal", "reduce")

_COMMON: dict[str, Any] = {
    "auxiliary_weight": 0.4,  # weight of the auxiliary loss
    "stem_multiplier": 3,
    "steps": 4,
    "multiplier": 4,
    "pool_bn": False,
    "channels_last": False,
    "fused": False,  # search network: fused mixed ops (opt-in fast path, same maths)
}

PRESETS: dict[str, dict[str, Any]] = {
    "cifar10-search": {
        "C": 16, "layers": 8, "num_classes": 10, "input_channels": 3,
        "input_size": 32,  # pixels
        "auxiliary": False,
        "drop_path_prob": 0.0,  # probability (SNAS search uses 0.3, set by the method)
        **_COMMON,
    },
    "cifar10-eval": {
        "C": 36, "layers": 20, "num_classes": 10, "input_channels": 3,
        "input_size": 32,  # pixels
        "auxiliary": True,
        "drop_path_prob": 0.2,  # probability, reached at the last epoch (linear ramp)
        **_COMMON,
    },
    "small": {
        "C": 8, "layers": 5, "num_classes": 10, "input_channels": 1,
        "input_size": 28,  # pixels
        "auxiliary": True,
        "drop_path_prob": 0.2,  # probability
        **_COMMON,
        "channels_last": True,
    },
    "tiny": {
        "C": 4, "layers": 3, "num_classes": 10, "input_channels": 1,
        "input_size": 8,  # pixels
        "auxiliary": False,  # the official head would outweigh this net; turn on to test it
        "drop_path_prob": 0.2,  # probability
        **_COMMON,
        "channels_last": True,
    },
}

_INT_KEYS = ("C", "layers", "num_classes", "input_channels", "input_size", "stem_multiplier",
             "steps", "multiplier")
_BOOL_KEYS = ("auxiliary", "pool_bn", "channels_last", "fused")
_KNOWN_KEYS = frozenset(PRESETS["cifar10-eval"])


def _is_int(v: Any) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


def _sort_edges(edges: list[list[Any]]) -> list[list[Any]]:
    return sorted(edges, key=lambda e: (e[2], e[1]))


# --- derivation ---------------------------------------------------------------------------------
def _rows(alpha: Any, steps: int, what: str) -> list[list[float]]:
    t = torch.as_tensor(alpha, dtype=torch.float32).detach().cpu()
    shape = (num_edges(steps), NUM_OPS)
    if tuple(t.shape) != shape:
        raise ValueError(f"{what} has shape {tuple(t.shape)}, expected {shape} (edges x ops)")
    return t.tolist()


def _first_argmax(row: Sequence[float], skip: int | None = None) -> int:
    best: int | None = None
    for k, v in enumerate(row):
        if k != skip and (best is None or v > row[best]):
            best = k
    assert best is not None
    return best


def derive_darts(alpha_normal: Any, alpha_reduce: Any, steps: int = 4) -> Arch:
    """The DARTS genotype of architecture parameters (DARTS Sec. 2.4, ``genotype()``).

    ``softmax`` over the ops of each edge; per node keep the 2 incoming edges whose strongest
    non-'none' op weighs most; each kept edge takes its strongest non-'none' op. Ties go to
    the lower edge / op index, as the official ``sorted`` and strict ``>``.

    Args:
        alpha_normal: ``[14, 8]`` logits (tensor or nested lists) of the normal cell.
        alpha_reduce: same for the reduction cell.
        steps: intermediate nodes.

    Returns:
        Canonical arch ``{"normal": [[op, from, to], ...], "reduce": [...]}``.
    """
    out: Arch = {}
    for kind, alpha in zip(CELL_KINDS, (alpha_normal, alpha_reduce), strict=True):
        w = torch.softmax(torch.as_tensor(alpha, dtype=torch.float32), dim=-1)
        rows = _rows(w, steps, f"alpha_{kind}")
        edges: list[list[Any]] = []
        start = 0
        for i in range(steps):
            n = i + 2
            block = rows[start:start + n]
            strength = [max(v for k, v in enumerate(r) if k != NONE_INDEX) for r in block]
            keep = sorted(range(n), key=lambda j: -strength[j])[:2]
            for j in keep:
                edges.append([PRIMITIVES[_first_argmax(block[j], skip=NONE_INDEX)], j, n])
            start += n
        out[kind] = _sort_edges(edges)
    return out


def derive_snas(alpha_normal: Any, alpha_reduce: Any, steps: int = 4) -> Arch:
    """The SNAS child network of architecture parameters (SNAS Sec. 3, ``genotype_edge_all``).

    Every edge takes its argmax op, 'none' included (ties to the lower op index); edges whose
    argmax is 'none' vanish. Argmax is the same on ``log_alpha``, ``softmax(log_alpha)`` or a
    one-hot sample, so any of them may be passed.

    Args:
        alpha_normal: ``[14, 8]`` (log-)weights of the normal cell.
        alpha_reduce: same for the reduction cell.
        steps: intermediate nodes.

    Returns:
        Canonical arch (no 'none' edges; nodes may have any number of incoming edges).
    """
    out: Arch = {}
    for kind, alpha in zip(CELL_KINDS, (alpha_normal, alpha_reduce), strict=True):
        rows = _rows(alpha, steps, f"alpha_{kind}")
        edges = []
        for (src, dst), row in zip(cell_edges(steps), rows, strict=True):
            k = _first_argmax(row)
            if k != NONE_INDEX:
                edges.append([PRIMITIVES[k], src, dst])
        out[kind] = _sort_edges(edges)
    return out


# --- the space ------------------------------------------------------------------------------------
_GENOTYPE_KEYS = ("normal", "normal_concat", "reduce", "reduce_concat")
_RANGE_RE = re.compile(r"range\(\s*(-?\d+)\s*,\s*(-?\d+)\s*\)")
_KEY_RE = re.compile(r"\b(normal_concat|reduce_concat|normal|reduce)\s*=")


@register_space("darts", presets=PRESETS)
class DartsSpace(SearchSpace):
    """DARTS/SNAS cell space over ``NetworkCIFAR``-style networks.

    Settings (all in the preset, overridable through ``get_space(..., key=value)``): ``C``
    (initial channels), ``layers`` (cells), ``num_classes``, ``input_channels``,
    ``input_size``, ``auxiliary`` (bool: auxiliary head after cell ``2 * layers // 3``),
    ``auxiliary_weight`` (loss weight, for the training recipe), ``drop_path_prob`` (the
    recipe's final drop-path probability; the training loop sets ``net.drop_path_prob``),
    ``stem_multiplier``, ``steps`` (intermediate nodes), ``multiplier`` (nodes concatenated
    into the cell output), ``pool_bn`` (bool: BN after pools in standalone nets, SNAS) and
    ``channels_last`` (bool: channels-last layout, CPU speed) and ``fused`` (bool: the search
    supernet's fused mixed ops, :mod:`nasrepro.supernets.darts_fused`).
    """

    def __init__(self, preset: str, **settings: Any) -> None:
        super().__init__(preset, **settings)
        self._check_settings(settings)
        s = settings
        self.cfg = DartsConfig(
            C=int(s["C"]), layers=int(s["layers"]), num_classes=int(s["num_classes"]),
            input_channels=int(s["input_channels"]), input_size=int(s["input_size"]),
            auxiliary=bool(s["auxiliary"]), stem_multiplier=int(s["stem_multiplier"]),
            steps=int(s["steps"]), multiplier=int(s["multiplier"]), pool_bn=bool(s["pool_bn"]),
            channels_last=bool(s["channels_last"]), fused=bool(s["fused"]),
        )
        self.auxiliary_weight = float(s["auxiliary_weight"])
        self.drop_path_prob = float(s["drop_path_prob"])
        self.steps = self.cfg.steps
        self.num_edges = num_edges(self.steps)
        self.edges = cell_edges(self.steps)
        self.cells: list[CellSpec] = self.cfg.cells
        self._check_geometry()
        self._build_cost_tables()

    # --- settings -------------------------------------------------------------------------

    def _check_settings(self, s: dict[str, Any]) -> None:
        self._check_setting_keys(s, _KNOWN_KEYS)
        for k in _INT_KEYS:
            if not _is_int(s[k]) or s[k] <= 0:
                raise self._fail(f"setting {k}={s[k]!r} must be a positive int")
        for k in _BOOL_KEYS:
            if not isinstance(s[k], bool):
                raise self._fail(f"setting {k}={s[k]!r} must be true or false")
        if s["multiplier"] > s["steps"]:
            raise self._fail(f"multiplier={s['multiplier']} concatenates more nodes than "
                             f"steps={s['steps']}; use multiplier <= steps")
        for k in ("drop_path_prob", "auxiliary_weight"):
            v = s[k]
            if not isinstance(v, int | float) or isinstance(v, bool) or v < 0:
                raise self._fail(f"setting {k}={v!r} must be a non-negative number")
        if s["drop_path_prob"] >= 1:
            raise self._fail(f"drop_path_prob={s['drop_path_prob']!r} must be below 1")

    def _check_geometry(self) -> None:
        for spec in self.cells:
            if spec.reduction and spec.in_size % 2:
                raise self._fail(
                    f"cell {spec.index} reduces a {spec.in_size}x{spec.in_size} map; "
                    f"FactorizedReduce needs an even size, use an input_size divisible by 4")

    # --- cost tables ------------------------------------------------------------------------
    def _op_cost(self, op: str, c: int, stride: int, out: int) -> tuple[int, int]:
        """(MACs, params) of one standalone op on ``c`` channels with ``out`` output pixels."""
        if op == "none":
            return 0, 0
        if op in ("max_pool_3x3", "avg_pool_3x3"):
            return 0, bn_params(c) if self.cfg.pool_bn else 0
        if op == "skip_connect":
            if stride == 1:
                return 0, 0
            half = c // 2  # FactorizedReduce: two 1x1 stride-2 convs to c/2, BN
            return (2 * conv2d_macs(c, half, 1, out),
                    2 * conv2d_params(c, half, 1) + bn_params(c))
        k = int(op[-1])
        dw_pw = (conv2d_macs(c, c, k, out, groups=c) + conv2d_macs(c, c, 1, out),
                 conv2d_params(c, c, k, groups=c) + conv2d_params(c, c, 1) + bn_params(c))
        reps = 2 if op.startswith("sep_conv") else 1
        return reps * dw_pw[0], reps * dw_pw[1]

    def _build_cost_tables(self) -> None:
        cfg = self.cfg
        c_stem = cfg.stem_multiplier * cfg.C
        macs = conv2d_macs(cfg.input_channels, c_stem, 3, cfg.input_size)
        params = conv2d_params(cfg.input_channels, c_stem, 3) + bn_params(c_stem)
        macs += linear_macs(cfg.final_channels, cfg.num_classes)
        params += linear_params(cfg.final_channels, cfg.num_classes)
        # table[kind][edge][op] = summed (macs, params) over all cells of that kind
        tables = {kind: [[[0, 0] for _ in range(NUM_OPS)] for _ in range(self.num_edges)]
                  for kind in CELL_KINDS}
        for spec in self.cells:
            c, s_in = spec.c, spec.in_size
            if spec.reduction_prev:  # FactorizedReduce on c_{k-2} (twice the size)
                macs += 2 * conv2d_macs(spec.c_prev_prev, c // 2, 1, s_in)
                params += 2 * conv2d_params(spec.c_prev_prev, c // 2, 1) + bn_params(c)
            else:
                macs += conv2d_macs(spec.c_prev_prev, c, 1, s_in)
                params += conv2d_params(spec.c_prev_prev, c, 1) + bn_params(c)
            macs += conv2d_macs(spec.c_prev, c, 1, s_in)
            params += conv2d_params(spec.c_prev, c, 1) + bn_params(c)
            table = tables["reduce" if spec.reduction else "normal"]
            for e, (src, _) in enumerate(self.edges):
                stride = 2 if spec.reduction and src < 2 else 1
                for k, op in enumerate(PRIMITIVES):
                    m, p = self._op_cost(op, c, stride, spec.out_size)
                    table[e][k][0] += m
                    table[e][k][1] += p
        self._base = (macs, params)
        self._tables = tables

    # --- encoding -------------------------------------------------------------------------
    @property
    def arch_format(self) -> str:
        """One-line description of the arch format of this space."""
        last = self.steps + 1
        return (f'{{"normal": [[op, from, to], ...], "reduce": [...]}} with op in '
                f"{', '.join(PRIMITIVES)}, to in 2..{last}, 0 <= from < to, each (from, to) at "
                f"most once (or a DARTS Genotype: pairs [op, input], 2 per node or i+2 for "
                f"node i, concat {list(self.cfg.concat)})")

    def _arch_error(self, problem: str) -> ArchError:
        return ArchError(f"malformed {self.full_name} arch: {problem}; expected "
                         f"{self.arch_format}")

    def _parse_genotype_string(self, text: str) -> dict[str, Any]:
        body = text.strip()
        if not (body.startswith("Genotype(") and body.endswith(")")):
            raise self._arch_error("a Genotype string must look like 'Genotype(normal=[...], "
                                   "normal_concat=..., reduce=[...], reduce_concat=...)'")
        body = body[len("Genotype("):-1]

        def _expand(m: re.Match) -> str:
            return repr(list(range(int(m.group(1)), int(m.group(2)))))

        body = _RANGE_RE.sub(_expand, body)
        body = _KEY_RE.sub(lambda m: f"'{m.group(1)}':", body)
        try:
            value = ast.literal_eval("{" + body + "}")
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as exc:
            msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise self._arch_error(f"cannot parse the Genotype string ({msg})") from None
        if not isinstance(value, dict):
            raise self._arch_error("cannot parse the Genotype string")
        return value

    def _op_name(self, op: Any, where: str) -> str:
        if not isinstance(op, str) or op not in PRIMITIVES:
            raise self._arch_error(f"{where}: unknown op {op!r}")
        return op

    def _node_int(self, v: Any, where: str) -> int:
        if not _is_int(v):
            raise self._arch_error(f"{where}: node {v!r} is not an int")
        return int(v)

    def _check_edges(self, kind: str, edges: list[list[Any]]) -> list[list[Any]]:
        """Range/duplicate checks; drop 'none'; sort."""
        last = self.steps + 1
        seen: set[tuple[int, int]] = set()
        out = []
        for op, src, dst in edges:
            where = f"'{kind}' edge [{op!r}, {src}, {dst}]"
            if not 2 <= dst <= last:
                raise self._arch_error(f"{where}: to={dst} is not an intermediate node 2..{last}")
            if not 0 <= src < dst:
                raise self._arch_error(f"{where}: from={src} must be in 0..{dst - 1}")
            if (src, dst) in seen:
                raise self._arch_error(f"{where}: edge {src}->{dst} appears twice")
            seen.add((src, dst))
            if op != "none":
                out.append([op, src, dst])
        return _sort_edges(out)

    def _edge_list(self, kind: str, value: Any) -> list[list[Any]]:
        if not isinstance(value, list | tuple):
            raise self._arch_error(f"'{kind}' is {type(value).__name__}, not a list")
        edges = []
        for i, e in enumerate(value):
            if not isinstance(e, list | tuple) or len(e) != 3:
                raise self._arch_error(f"'{kind}'[{i}] = {e!r} is not [op, from, to]")
            where = f"'{kind}'[{i}]"
            edges.append([self._op_name(e[0], where), self._node_int(e[1], where),
                          self._node_int(e[2], where)])
        return self._check_edges(kind, edges)

    def _genotype_pairs(self, kind: str, value: Any) -> list[list[Any]]:
        n = len(value)
        if n == 2 * self.steps:
            sizes = [2] * self.steps
        elif n == self.num_edges:
            sizes = [i + 2 for i in range(self.steps)]
        else:
            raise self._arch_error(
                f"Genotype '{kind}' has {n} (op, input) pairs, not {2 * self.steps} (2 per "
                f"node, DARTS) or {self.num_edges} (every edge, SNAS edge_all)")
        edges, start = [], 0
        for i, size in enumerate(sizes):
            for j, pair in enumerate(value[start:start + size]):
                where = f"Genotype '{kind}'[{start + j}]"
                if not isinstance(pair, list | tuple) or len(pair) != 2:
                    raise self._arch_error(f"{where} = {pair!r} is not (op, input)")
                edges.append([self._op_name(pair[0], where), self._node_int(pair[1], where),
                              i + 2])
            start += size
        return self._check_edges(kind, edges)

    def validate(self, arch: Any) -> Arch:
        """Canonical ``{"normal": [[op, from, to], ...], "reduce": [...]}`` or ArchError.

        Accepts the edge-list dict, the Genotype dict / namedtuple / repr string, or JSON
        text of either dict. 'none' edges are dropped, edges sorted by (to, from).
        """
        if isinstance(arch, bytes):
            arch = arch.decode("utf-8", errors="replace")
        if isinstance(arch, str):
            if arch.lstrip().startswith("Genotype"):
                arch = self._parse_genotype_string(arch)
            else:
                try:
                    arch = json.loads(arch)
                except ValueError as exc:
                    raise self._arch_error(f"cannot parse JSON ({exc})") from None
        elif hasattr(arch, "_asdict") and not isinstance(arch, dict):
            arch = dict(arch._asdict())
        if not isinstance(arch, dict):
            raise self._arch_error(f"got {type(arch).__name__}, not a dict")
        unknown = sorted(str(k) for k in set(arch) - set(_GENOTYPE_KEYS))
        if unknown:
            raise self._arch_error(f"unknown key(s) {', '.join(unknown)}")
        for kind in CELL_KINDS:
            if kind not in arch:
                raise self._arch_error(f"missing key '{kind}'")
        if all(isinstance(arch[k], list | tuple) and len(arch[k]) > 0
               and all(isinstance(p, list | tuple) and len(p) == 2 for p in arch[k])
               for k in CELL_KINDS):
            genotype = True
        else:
            genotype = False
            if any(k in arch for k in ("normal_concat", "reduce_concat")):
                raise self._arch_error("'*_concat' keys belong to the Genotype form, whose "
                                       "cells are lists of (op, input) pairs")
        out: Arch = {}
        for kind in CELL_KINDS:
            if genotype:
                concat = arch.get(f"{kind}_concat")
                if concat is not None:
                    if isinstance(concat, range):
                        concat = list(concat)
                    if (not isinstance(concat, list | tuple)
                            or not all(_is_int(c) for c in concat)
                            or [int(c) for c in concat] != list(self.cfg.concat)):
                        raise self._arch_error(
                            f"'{kind}_concat' = {concat!r} is not {list(self.cfg.concat)} "
                            f"(this space concatenates the last {self.cfg.multiplier} nodes)")
                out[kind] = self._genotype_pairs(kind, arch[kind])
            else:
                out[kind] = self._edge_list(kind, arch[kind])
        return out

    def features(self, arch: Arch) -> list[float]:
        """One-hot op per possible edge, normal cell then reduction cell: ``2 x 14 x 8``
        values in :func:`cell_edges` / ``PRIMITIVES`` order; an absent edge is 'none'."""
        a = self.validate(arch)
        out: list[float] = []
        for kind in CELL_KINDS:
            ops = [NONE_INDEX] * self.num_edges
            for op, src, dst in a[kind]:
                ops[edge_index(src, dst)] = PRIMITIVES.index(op)
            for k in ops:
                out.extend(1.0 if j == k else 0.0 for j in range(NUM_OPS))
        return out

    # --- sampling and variation -----------------------------------------------------------
    def _sample_cell(self, rng: random.Random) -> list[list[Any]]:
        edges = []
        for dst in range(2, self.steps + 2):
            for src in sorted(rng.sample(range(dst), 2)):
                edges.append([rng.choice(OP_CHOICES), src, dst])
        return edges

    def sample(self, rng: random.Random) -> Arch:
        """A random DARTS-style arch: per node 2 distinct predecessors, each edge a uniformly
        random non-'none' op (the random-search baseline of DARTS Sec. 3.3)."""
        return {kind: self._sample_cell(rng) for kind in CELL_KINDS}

    def mutate(self, arch: Arch, rng: random.Random, prob: float) -> Arch:
        """Resample each gene with probability ``prob``. Genes: every edge's op (a random
        non-'none' op, possibly the same) and its source (a random predecessor of its node
        not used by the node's other edges, possibly the same). Edge counts per node are
        kept, so DARTS-style archs stay DARTS-style."""
        a = self.validate(arch)
        out: Arch = {}
        for kind in CELL_KINDS:
            edges = [list(e) for e in a[kind]]
            for e in edges:
                if rng.random() < prob:
                    e[0] = rng.choice(OP_CHOICES)
                if rng.random() < prob:
                    used = {f[1] for f in edges if f[2] == e[2] and f is not e}
                    free = [s for s in range(e[2]) if s not in used]
                    e[1] = rng.choice(free)
            out[kind] = _sort_edges(edges)
        return out

    def crossover(self, a: Arch, b: Arch, rng: random.Random) -> Arch:
        """Per cell kind and node, the node's incoming edges from ``a`` or ``b`` with
        probability 1/2 (nodes are independent, so any mix is a valid arch)."""
        a, b = self.validate(a), self.validate(b)
        out: Arch = {}
        for kind in CELL_KINDS:
            edges: list[list[Any]] = []
            for dst in range(2, self.steps + 2):
                parent = b if rng.random() < 0.5 else a
                edges.extend(list(e) for e in parent[kind] if e[2] == dst)
            out[kind] = _sort_edges(edges)
        return out

    # --- cost and networks ----------------------------------------------------------------
    def cost(self, arch: Arch) -> Cost:
        """Analytic MACs (conv + linear) and params (standalone net, affine BN, auxiliary head
        excluded) of ``arch``."""
        a = self.validate(arch)
        macs, params = self._base
        for kind in CELL_KINDS:
            table = self._tables[kind]
            for op, src, dst in a[kind]:
                m, p = table[edge_index(src, dst)][PRIMITIVES.index(op)]
                macs += m
                params += p
        return Cost(macs=macs, params=params)

    def edge_costs(self, kind: str) -> list[list[tuple[int, int]]]:
        """``[edge][op] -> (MACs, params)`` of one op on one edge, summed over all cells of
        ``kind`` (for resource-constrained search, e.g. SNAS's penalty)."""
        if kind not in CELL_KINDS:
            raise ValueError(f"kind must be one of {CELL_KINDS}, got {kind!r}")
        return [[(m, p) for m, p in row] for row in self._tables[kind]]

    def build(self, arch: Arch, generator: torch.Generator | None = None) -> nn.Module:
        """Standalone :class:`DartsNet` of ``arch`` (affine BN, PyTorch default init)."""
        return DartsNet(self.cfg, self.validate(arch), generator=generator)

    def build_supernet(self, generator: torch.Generator | None = None) -> nn.Module:
        """:class:`DartsSupernet`: the search network (mixed ops on all 14 edges, BN
        ``affine=False``); ``forward(x, {"normal": W, "reduce": W})`` or ``forward(x, arch)``."""
        return DartsSupernet(self.cfg, self.validate, generator=generator)

    def arch_weights(self, arch: Arch, device: torch.device | str | None = None
                     ) -> dict[str, Tensor]:
        """One-hot ``{"normal": [14, 8], "reduce": [14, 8]}`` weights of ``arch`` (absent
        edges one-hot 'none'): the supernet runs exactly this child network with them."""
        return arch_to_weights(self.validate(arch), self.steps, device=device)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.cfg.input_channels, self.cfg.input_size, self.cfg.input_size)
