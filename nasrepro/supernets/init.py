"""Seeded default initialisation shared by the supernets and standalone networks.

The official DARTS/SNAS and AttentiveNAS code keep PyTorch's default initialisation
(kaiming-uniform ``a = sqrt(5)`` weights, biases uniform in ``+-1/sqrt(fan_in)``, BN weight 1 /
bias 0). :func:`default_init_` redraws it from an explicit ``torch.Generator``, so a build is
reproducible without touching the global RNG.
"""

from __future__ import annotations

import math

import torch
from torch import nn


def default_init_(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """PyTorch's default conv/linear initialisation drawn from ``generator`` (in module order),
    and affine BN layers reset to weight 1, bias 0."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.Conv2d | nn.Linear):
                nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=generator)
                if m.bias is not None:
                    fan_in = m.weight[0].numel()
                    bound = 1.0 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                    nn.init.uniform_(m.bias, -bound, bound, generator=generator)
            elif isinstance(m, nn.BatchNorm2d) and m.affine:
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
