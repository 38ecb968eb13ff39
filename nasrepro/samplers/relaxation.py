"""Continuous relaxations of a cell's op choice: DARTS softmax and SNAS Gumbel-softmax.

Architecture parameters are one ``[n_edges, n_ops]`` logit matrix per cell type (``normal``,
``reduce``). DARTS (Liu et al. 2019, Eq. 2) mixes ops with ``softmax(alpha)``; SNAS (Xie et al.
2019, Eq. 3) samples ``softmax((log_alpha + G) / temperature)`` with Gumbel noise ``G``
(``torch.nn.functional.gumbel_softmax``), annealing the temperature linearly (1.0 -> 0.03 in
the official code). Both hand a ``{"normal": W, "reduce": W}`` dict of op weights to the
search supernet.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

CELL_TYPES = ("normal", "reduce")


class ArchParameters(nn.Module):
    """The architecture logits of a DARTS-space search network.

    Args:
        n_edges: edges per cell (14 for 4 intermediate nodes).
        n_ops: candidate ops per edge (8 in the DARTS space).
        init: ``"darts"`` (1e-3 * N(0, 1), quark0/darts) or ``"snas"`` (N(1, 0.01), SNAS).
        generator: RNG of the initialisation.
    """

    def __init__(self, n_edges: int, n_ops: int, init: str = "darts",
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        if init not in ("darts", "snas"):
            raise ValueError(f"init must be 'darts' or 'snas', got {init!r}")
        self.init = init
        for cell in CELL_TYPES:
            noise = torch.randn(n_edges, n_ops, generator=generator)
            value = 1e-3 * noise if init == "darts" else 1.0 + 0.01 * noise
            setattr(self, cell, nn.Parameter(value))

    def logits(self) -> dict[str, Tensor]:
        return {cell: getattr(self, cell) for cell in CELL_TYPES}


def softmax_weights(logits: dict[str, Tensor]) -> dict[str, Tensor]:
    """DARTS: op weights ``softmax(alpha)`` per edge."""
    return {cell: F.softmax(a, dim=-1) for cell, a in logits.items()}


def gumbel_weights(logits: dict[str, Tensor], temperature: float, hard: bool = False,
                   generator: torch.Generator | None = None) -> dict[str, Tensor]:
    """SNAS: one Gumbel-softmax sample per edge at ``temperature``.

    Without ``generator``: ``F.gumbel_softmax`` on the global torch RNG (the training step).
    With one: the same construction (``G = -log(Exp(1))``, ``softmax((a + G) / tau)``) drawn
    from ``generator``, so an evaluation sample never moves the training RNG (``hard`` is not
    supported there).
    """
    if temperature <= 0:
        raise ValueError(f"temperature must be > 0, got {temperature}")
    if generator is None:
        return {cell: F.gumbel_softmax(a, tau=temperature, hard=hard, dim=-1)
                for cell, a in logits.items()}
    if hard:
        raise ValueError("hard Gumbel samples are only drawn on the global RNG")
    out = {}
    for cell, a in logits.items():
        noise = -torch.empty(a.shape, dtype=a.dtype).exponential_(generator=generator).log()
        out[cell] = F.softmax((a + noise.to(a.device)) / temperature, dim=-1)
    return out


def distribution_entropy(logits: dict[str, Tensor]) -> float:
    """Mean per-edge entropy (nats) of ``softmax(alpha)`` over both cell types (SNAS Fig. 11)."""
    values = []
    for a in logits.values():
        logp = F.log_softmax(a.detach(), dim=-1)
        values.append(-(logp.exp() * logp).sum(-1))
    return float(torch.cat(values).mean())
