"""Tests of the cost model (nasrepro.metrics.cost): analytic primitives and measure()."""

from __future__ import annotations

import torch
from torch import nn

from nasrepro.metrics import (
    Cost,
    bn_params,
    conv2d_macs,
    conv2d_out_size,
    conv2d_params,
    count_params,
    linear_macs,
    linear_params,
    measure,
)


class _Toy(nn.Module):
    """conv3x3(3->8, bias) + BN + ReLU, dw3x3 s2, avg pool, linear 8->4 (+ auxiliary head)."""

    def __init__(self, with_aux: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, 1, 1, bias=True)
        self.bn = nn.BatchNorm2d(8)
        self.dw = nn.Conv2d(8, 8, 3, 2, 1, groups=8, bias=False)
        self.fc = nn.Linear(8, 4)
        self.auxiliary_head = nn.Linear(8, 4) if with_aux else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.dw(torch.relu(self.bn(self.conv(x))))
        return self.fc(x.mean((2, 3)))


# hand computation for a 3x10x10 input
_MACS = 8 * 3 * 9 * 10 * 10 + 8 * 1 * 9 * 5 * 5 + 8 * 4  # conv + dw (5x5 out) + linear
_PARAMS = (3 * 8 * 9 + 8) + 2 * 8 + 8 * 9 + (8 * 4 + 4)


def test_measure_matches_hand_computation() -> None:
    model = _Toy()
    cost = measure(model, (3, 10, 10))
    assert cost == Cost(macs=23432, params=348)
    assert (_MACS, _PARAMS) == (23432, 348)


def test_primitives_match_hand_computation() -> None:
    out = conv2d_out_size(10, 3, 2, 1)
    assert out == 5
    assert conv2d_out_size(7, 5, 2, 2) == 4
    macs = (conv2d_macs(3, 8, 3, 10) + conv2d_macs(8, 8, 3, out, groups=8)
            + linear_macs(8, 4))
    params = (conv2d_params(3, 8, 3, bias=True) + bn_params(8) + conv2d_params(8, 8, 3, groups=8)
              + linear_params(8, 4))
    assert (macs, params) == (_MACS, _PARAMS)
    assert bn_params(8, affine=False) == 0
    assert conv2d_macs(4, 6, (1, 3), (2, 5)) == 6 * 4 * 3 * 10


def test_auxiliary_heads_are_not_counted() -> None:
    model = _Toy(with_aux=True)
    assert count_params(model) == _PARAMS
    assert count_params(model, exclude_prefixes=()) == _PARAMS + 36
    assert measure(model, (3, 10, 10)).params == _PARAMS


def test_measure_restores_mode_and_custom_forward() -> None:
    model = _Toy().train()
    before = model.bn.running_mean.clone()
    cost = measure(model, (3, 10, 10), forward=lambda m, x: m(x) * 2)
    assert model.training
    assert torch.equal(model.bn.running_mean, before)  # ran in eval mode
    assert cost.macs == _MACS
