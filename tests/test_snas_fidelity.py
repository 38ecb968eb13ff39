"""SNAS as the official code computes it (SNAS-Series ``SNAS/operations.py``,
``model_search.py``, ``train_search.py``): op costs, the log resource penalty, the
architecture optimizer and the Gumbel-sample evaluation."""

from __future__ import annotations

import math

import pytest
import torch

import nasrepro.spaces.darts  # noqa: F401  (registers the space)
from nasrepro.metrics.snas_cost import snas_op_costs, snas_penalty_table
from nasrepro.samplers.darts_search import SnasStep, official_resource_penalty
from nasrepro.samplers.relaxation import ArchParameters
from nasrepro.spaces.base import get_space
from nasrepro.supernets.darts_ops import PRIMITIVES


def _log_penalty(costs: tuple[int, int, int]) -> float:
    return sum(math.log(max(1.0, c)) for c in costs) / 3


def test_op_costs_hand_computed_at_c16_32px() -> None:
    """One edge of the official 8-cell search net's first cell: C = 16, 32 x 32 input."""
    c, h = 16, 32
    assert snas_op_costs("none", c, 1, h) == (0, 0, 0)
    assert snas_op_costs("skip_connect", c, 1, h) == (0, 0, 2 * c * h * h)          # 32768
    size = 2 * c * 9 + 2 * c * c                                                   # 800
    assert snas_op_costs("sep_conv_3x3", c, 1, h) == (size, size * h * h, h * h * 8 * c + size)
    assert snas_op_costs("max_pool_3x3", c, 1, h) == (0, 9 * h * h * c, 2 * h * h * c)
    size = c * 25 + c * c                                                          # 656
    assert snas_op_costs("dil_conv_5x5", c, 1, h) == (size, size * h * h, h * h * 4 * c + size)
    # stride 2 (reduction-cell input edges): y = 16
    y = h // 2
    assert snas_op_costs("avg_pool_3x3", c, 2, h) == (0, 9 * y * y * c, 5 * y * y * c)
    size = 2 * c * (c // 2)                                                        # 256
    assert snas_op_costs("skip_connect", c, 2, h) == (size, size * y * y,
                                                      2 * y * y * (4 * c + c // 2) + size)
    size = 2 * c * 9 + 2 * c * c
    assert snas_op_costs("sep_conv_3x3", c, 2, h) == (size, size * y * y,
                                                      y * y * 11 * c + size)
    # the orders of magnitude: identity ~3.5, sep 3x3 ~10.7, pool ~7.4
    assert _log_penalty(snas_op_costs("skip_connect", c, 1, h)) == pytest.approx(3.47, abs=0.01)
    assert _log_penalty(snas_op_costs("sep_conv_3x3", c, 1, h)) == pytest.approx(10.70, abs=0.01)
    assert _log_penalty(snas_op_costs("max_pool_3x3", c, 1, h)) == pytest.approx(7.43, abs=0.01)
    with pytest.raises(ValueError):
        snas_op_costs("conv_9x9", c, 1, h)


def test_penalty_table_follows_the_cell_geometry() -> None:
    space = get_space("darts/cifar10-search")
    table = snas_penalty_table(space)
    assert tuple(table["normal"].shape) == (6, 14, 8, 3)
    assert tuple(table["reduce"].shape) == (2, 14, 8, 3)
    sep3, skip = PRIMITIVES.index("sep_conv_3x3"), PRIMITIVES.index("skip_connect")
    # first normal cell, edge 0 (from c_{k-2}): C = 16 at 32 px
    assert table["normal"][0, 0, sep3].tolist() == list(snas_op_costs("sep_conv_3x3", 16, 1, 32))
    # first reduction cell (C = 32, input 32 px): edge 0 is stride 2, edge 4 (node 2 -> 3) is not
    assert table["reduce"][0, 0, skip].tolist() == list(snas_op_costs("skip_connect", 32, 2, 32))
    assert table["reduce"][0, 4, skip].tolist() == list(snas_op_costs("skip_connect", 32, 1, 16))


def _official_cell_log_penalty(weights: torch.Tensor, op_size: torch.Tensor,
                               op_flops: torch.Tensor, op_mac: torch.Tensor) -> torch.Tensor:
    """Transcribed line by line from SNAS-Series ``model_search.py`` (``Network.forward``,
    ``method == 'reparametrization'``, ``separation == 'all'``): ``log_resource_penalty.sum()``
    of one cell."""
    resource_size = op_size * weights  # dimension: edge_num * op_num
    resource_flops = op_flops * weights
    resource_mac = op_mac * weights
    clean_size = (resource_size.sum(-1)).clone()  # dimension: edge_num * 1
    clean_flops = (resource_flops.sum(-1)).clone()
    clean_mac = (resource_mac.sum(-1)).clone()
    clean_size[torch.abs(resource_size.sum(-1)) < 1] = 1
    clean_flops[torch.abs(resource_flops.sum(-1)) < 1] = 1
    clean_mac[torch.abs(resource_mac.sum(-1)) < 1] = 1
    log_resource_size = torch.log(torch.abs(clean_size))  # dimension: edge_num * 1
    log_resource_flops = torch.log(torch.abs(clean_flops))
    log_resource_mac = torch.log(torch.abs(clean_mac))
    log_resource_penalty = (log_resource_size + log_resource_flops + log_resource_mac) / 3
    return log_resource_penalty.sum()


def test_official_penalty_value_and_gradient_on_a_two_edge_cell() -> None:
    """Two edges, 8 ops; two normal cells (different costs) and one reduction cell. The loss
    term of ``train_search.py`` is ``normal_sum / #normal + ratio * reduce_sum / #reduce``
    (the official code's ``/ 6`` and ``/ 2``), ratio 1. One edge of the reduction cell has
    costs below 1 (clamped: it contributes 0 and no gradient)."""
    g = torch.Generator().manual_seed(0)
    costs = {"normal": torch.rand(2, 2, 8, 3, generator=g, dtype=torch.float64) * 1e4,
             "reduce": torch.rand(1, 2, 8, 3, generator=g, dtype=torch.float64) * 1e4}
    costs["normal"][:, :, 0] = 0.0          # 'none' is free
    costs["reduce"][0, 1] = 0.1             # sum_k Z_k x_k < 1: clamped to 1
    logits = {k: torch.randn(2, 8, generator=g, dtype=torch.float64, requires_grad=True)
              for k in costs}
    noise = {k: -torch.empty(2, 8, dtype=torch.float64).exponential_(generator=g).log()
             for k in costs}
    tau = 0.7

    def z_of():
        return {k: torch.softmax((logits[k] + noise[k]) / tau, -1) for k in costs}

    ours = official_resource_penalty(z_of(), costs)
    ours.backward()
    ours_grads = {k: v.grad.clone() for k, v in logits.items()}
    for v in logits.values():
        v.grad = None
    z = z_of()
    sums = {}
    for kind in costs:
        sums[kind] = sum(_official_cell_log_penalty(z[kind], *cell.unbind(-1))
                         for cell in costs[kind])
    official = sums["normal"] / 2 + 1.0 * sums["reduce"] / 1
    official.backward()
    assert float(ours.detach()) == pytest.approx(float(official.detach()), rel=1e-12)
    for k in costs:
        torch.testing.assert_close(ours_grads[k], logits[k].grad, rtol=1e-10, atol=1e-12)
    assert float(ours.detach()) > 0


def test_penalty_prefers_removing_an_edge_over_a_skip() -> None:
    """Only 'none' is free: a skip-only cell still pays its memory access, and at uniform op
    weights the logit gradients order none < skip < sep_conv_5x5 (an op's pull is its
    relative cost on the edge; 'none' gets the most negative one)."""
    table = snas_penalty_table(get_space("darts/cifar10-search"))
    logits = {k: torch.zeros(14, 8, dtype=torch.float64, requires_grad=True) for k in table}
    z = {k: torch.softmax(v, -1) for k, v in logits.items()}
    official_resource_penalty(z, table).backward()
    none, skip, sep5 = (PRIMITIVES.index(n) for n in ("none", "skip_connect", "sep_conv_5x5"))
    for k in logits:
        grad = logits[k].grad
        assert (grad[:, none] < grad[:, skip]).all() and (grad[:, skip] < grad[:, sep5]).all()
        assert (grad[:, none] < 0).all() and (grad[:, sep5] > 0).all()

    def one_hot(op: int) -> dict[str, torch.Tensor]:
        idx = torch.full((14,), op, dtype=torch.long)
        return {k: torch.nn.functional.one_hot(idx, 8).double() for k in table}

    assert float(official_resource_penalty(one_hot(none), table)) == 0.0
    assert float(official_resource_penalty(one_hot(skip), table)) > 14 * 2  # ~3.5 per edge


def _arch(seed: int = 1) -> ArchParameters:
    return ArchParameters(14, 8, init="snas", generator=torch.Generator().manual_seed(seed))


def test_arch_optimizer_is_plain_sgd_with_clipped_gradient() -> None:
    """Official single-GPU branch: SGD(lr) on log_alpha, gradient norm clipped to 10."""
    arch = _arch()
    table = snas_penalty_table(get_space("darts/tiny"))
    step = SnasStep(arch, epochs=1, arch_lr=1.0, penalty_lambda=1e6, penalty_table=table)
    assert isinstance(step.arch_optimizer, torch.optim.SGD)
    group = step.arch_optimizer.param_groups[0]
    assert group["momentum"] == 0 and group["weight_decay"] == 0

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.lin = torch.nn.Linear(4, 3)

        def forward(self, x, weights):
            mix = sum(w.sum() for w in weights.values())
            return self.lin(x) * mix

    before = torch.cat([p.detach().reshape(-1) for p in arch.parameters()])
    ctx = type("Ctx", (), {"criterion": torch.nn.CrossEntropyLoss()})()
    torch.manual_seed(0)
    step(Net(), torch.randn(8, 4), torch.randint(0, 3, (8,)), ctx)
    after = torch.cat([p.detach().reshape(-1) for p in arch.parameters()])
    assert float((after - before).norm()) == pytest.approx(10.0, rel=1e-5)  # lr 1 x clip 10
    adam = SnasStep(_arch(), epochs=1, arch_optimizer="adam")
    assert isinstance(adam.arch_optimizer, torch.optim.Adam)
    with pytest.raises(ValueError, match="arch_optimizer"):
        SnasStep(_arch(), epochs=1, arch_optimizer="rmsprop")
    with pytest.raises(ValueError, match="penalty_table"):
        SnasStep(_arch(), epochs=1, penalty_lambda=1.0)


def test_gumbel_sample_evaluation_is_seeded_and_leaves_the_training_rng() -> None:
    step = SnasStep(_arch(), epochs=4, eval_seed=3)
    step.on_epoch_start(2, None)
    torch.manual_seed(123)
    state = torch.get_rng_state()
    a = step.sample_eval_weights(step.eval_generator())
    b = step.sample_eval_weights(step.eval_generator())
    assert torch.equal(torch.get_rng_state(), state)  # the global (training) RNG is untouched
    for k in a:
        assert torch.equal(a[k], b[k])
        torch.testing.assert_close(a[k].sum(-1), torch.ones(14))
        assert not torch.equal(a[k], step.eval_weights()[k])  # noisy, unlike the noise-free
    gen = step.eval_generator()
    first, second = step.sample_eval_weights(gen), step.sample_eval_weights(gen)
    assert not torch.equal(first["normal"], second["normal"])  # a new sample per batch
    step.on_epoch_start(3, None)
    assert not torch.equal(step.sample_eval_weights(step.eval_generator())["normal"],
                           a["normal"])
    other = SnasStep(_arch(), epochs=4, eval_seed=4)
    other.on_epoch_start(2, None)
    assert not torch.equal(other.sample_eval_weights(other.eval_generator())["normal"],
                           a["normal"])
