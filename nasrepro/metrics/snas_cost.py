"""The SNAS resource costs of every candidate op: parameter size, FLOPs and memory access.

SNAS (Xie et al., ICLR 2019) Sec. 2.4, Eq. 15-16, as the official code computes them
(SNAS-Series ``SNAS/operations.py``: the ``size``, ``flops`` and ``mac`` attributes each op
sets on its first forward). These are the costs of the *resource penalty*, not the suite's
reporting cost model (:mod:`nasrepro.metrics.cost`: conv + linear MACs and learnable params):
the official formulas count conv weights only (no BN), pools as ``9 y^2 C`` FLOPs, and a
ShuffleNetV2-style memory access cost (MAC) for every op but ``none``. For an op on ``C``
channels whose input is ``h x h`` (output ``y = h`` at stride 1, ``y = h // 2`` at stride 2):

==============  ============  ========  =====================================
op              size          FLOPs     memory access (stride 1 / stride 2)
==============  ============  ========  =====================================
none            0             0         0
max/avg pool    0             9 y^2 C   2 y^2 C / 5 y^2 C
skip, stride 1  0             0         2 C h^2 (identity)
skip, stride 2  2 C (C // 2)  size y^2  2 y^2 (4 C + C // 2) + size
sep_conv kxk    2Ck^2 + 2C^2  size y^2  y^2 (8 C) + size / y^2 (11 C) + size
dil_conv kxk    Ck^2 + C^2    size y^2  y^2 (4 C) + size / y^2 (7 C) + size
==============  ============  ========  =====================================

(``SepConv``: ``y^2 (7 C_in + C_out)`` / ``y^2 (10 C_in + C_out)``; ``DilConv``:
``y^2 (3 C_in + C_out)`` / ``y^2 (6 C_in + C_out)``; here ``C_in = C_out = C``.) So only
``none`` is free: the identity costs memory access, which is what lets a penalty prefer
removing an edge over a skip connection (claim D3).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

__all__ = ["COST_NAMES", "snas_op_costs", "snas_penalty_table"]

#: order of the last axis of :func:`snas_penalty_table`
COST_NAMES: tuple[str, str, str] = ("size", "flops", "mac")


def snas_op_costs(op: str, c: int, stride: int, in_size: int) -> tuple[int, int, int]:
    """``(size, flops, mac)`` of one op on ``c`` channels reading an ``in_size`` square map.

    Args:
        op: one of the 8 DARTS primitives.
        c: channels of the op (input = output).
        stride: 1, or 2 on the input edges of a reduction cell.
        in_size: side of the op's input feature map (pixels).

    Returns:
        The official ``(op.size, op.flops, op.mac)`` of SNAS ``operations.py``.
    """
    if stride not in (1, 2):
        raise ValueError(f"stride must be 1 or 2, got {stride!r}")
    y = in_size if stride == 1 else in_size // 2
    if op == "none":
        return 0, 0, 0
    if op in ("max_pool_3x3", "avg_pool_3x3"):
        return 0, 9 * y * y * c, (2 if stride == 1 else 5) * y * y * c
    if op == "skip_connect":
        if stride == 1:
            return 0, 0, 2 * c * in_size * in_size
        size = 2 * c * (c // 2)
        return size, size * y * y, 2 * y * y * (4 * c + c // 2) + size
    if op.startswith(("sep_conv_", "dil_conv_")):
        k = int(op[-1])
        if op.startswith("sep_conv_"):
            size = 2 * c * k * k + 2 * c * c
            mac_per_pixel = (7 if stride == 1 else 10) * c + c
        else:
            size = c * k * k + c * c
            mac_per_pixel = (3 if stride == 1 else 6) * c + c
        return size, size * y * y, y * y * mac_per_pixel + size
    raise ValueError(f"unknown DARTS op {op!r}")


def snas_penalty_table(space: Any) -> dict[str, Tensor]:
    """Per cell kind, ``T[n_cells, E, 8, 3]``: the official ``(size, flops, mac)`` of every op
    on every edge of every cell of that kind (``space``: a ``DartsSpace``; each cell with its
    own channels and map size, as the official search network measures them)."""
    from nasrepro.supernets.darts_ops import PRIMITIVES

    tables: dict[str, list[list[list[tuple[int, int, int]]]]] = {"normal": [], "reduce": []}
    for spec in space.cells:
        rows = []
        for src, _dst in space.edges:
            stride = 2 if spec.reduction and src < 2 else 1
            in_size = spec.in_size if stride == 2 else spec.out_size
            rows.append([snas_op_costs(op, spec.c, stride, in_size) for op in PRIMITIVES])
        tables["reduce" if spec.reduction else "normal"].append(rows)
    return {kind: torch.tensor(t, dtype=torch.float64).reshape(-1, len(space.edges),
                                                               len(PRIMITIVES), 3)
            for kind, t in tables.items()}
