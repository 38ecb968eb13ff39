"""DARTS softmax and SNAS Gumbel-softmax relaxations of the op choice."""

from __future__ import annotations

import math

import pytest
import torch

from nasrepro.samplers.relaxation import (
    ArchParameters,
    distribution_entropy,
    gumbel_weights,
    softmax_weights,
)


def test_init_scales() -> None:
    g = torch.Generator().manual_seed(0)
    darts = ArchParameters(14, 8, "darts", generator=g)
    assert darts.normal.shape == (14, 8) and darts.normal.abs().max() < 1e-2
    snas = ArchParameters(14, 8, "snas", generator=g)
    assert abs(float(snas.reduce.detach().mean()) - 1.0) < 0.01
    with pytest.raises(ValueError):
        ArchParameters(14, 8, "other")


def test_softmax_weights_are_distributions() -> None:
    arch = ArchParameters(14, 8, generator=torch.Generator().manual_seed(1))
    w = softmax_weights(arch.logits())
    for cell in ("normal", "reduce"):
        assert torch.allclose(w[cell].sum(-1), torch.ones(14))
    # near-zero logits: entropy close to log(8)
    assert distribution_entropy(arch.logits()) == pytest.approx(math.log(8), abs=1e-4)


def test_gumbel_weights_sharpen_as_temperature_falls() -> None:
    logits = {"normal": torch.zeros(200, 8), "reduce": torch.zeros(200, 8)}
    torch.manual_seed(0)
    hot = gumbel_weights(logits, 1.0)["normal"].max(-1).values.mean()
    torch.manual_seed(0)
    cold = gumbel_weights(logits, 0.03)["normal"].max(-1).values.mean()
    assert cold > 0.95 > hot
    hard = gumbel_weights(logits, 0.5, hard=True)["reduce"]
    assert torch.equal(hard.sum(-1), torch.ones(200)) and set(hard.unique().tolist()) == {0.0, 1.0}
    with pytest.raises(ValueError):
        gumbel_weights(logits, 0.0)


def test_gradients_reach_the_logits() -> None:
    arch = ArchParameters(14, 8, "snas", generator=torch.Generator().manual_seed(2))
    w = gumbel_weights(arch.logits(), 0.5)
    (w["normal"][:, 3].sum() + w["reduce"][:, 0].sum()).backward()
    assert arch.normal.grad is not None and arch.normal.grad[:, 3].sum() > 0


def test_entropy_falls_when_one_op_dominates() -> None:
    peaked = {"normal": torch.tensor([[10.0] + [0.0] * 7] * 14)}
    flat = {"normal": torch.zeros(14, 8)}
    assert distribution_entropy(peaked) < 0.1 < distribution_entropy(flat)
