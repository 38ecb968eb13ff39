"""Tests of the shared evaluator: accuracy, loss, BN recalibration, batched subnet evaluation."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from nasrepro.evaluation import (
    accuracy,
    draw_recalibration_batches,
    evaluate_loss_acc,
    evaluate_subnets,
    recalibrate_bn,
    recalibrate_bn_on,
)


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny models: one thread is much faster on a shared machine (restored afterwards)."""
    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


def data(n: int = 100, d: int = 6, k: int = 4, seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(n, d, generator=g) * 2 + 1, torch.randint(0, k, (n,), generator=g)


class ToySupernet(nn.Module):
    """Choice of one of three linear layers, a shared BN, a shared head; records BN inputs."""

    def __init__(self, d: int = 6, k: int = 4):
        super().__init__()
        torch.manual_seed(0)
        self.choices = nn.ModuleList(nn.Linear(d, 8) for _ in range(3))
        self.bn = nn.BatchNorm1d(8)
        self.head = nn.Linear(8, k)
        self.train_inputs: list[torch.Tensor] = []

    def forward(self, x, arch):
        if self.training:
            self.train_inputs.append(x)
        return self.head(torch.relu(self.bn(self.choices[arch](x))))


def test_accuracy_and_loss_match_manual_and_restore_mode():
    x, y = data()
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(6, 8), nn.BatchNorm1d(8), nn.Dropout(0.5), nn.Linear(8, 4))
    model.eval()
    with torch.no_grad():
        logits = model(x)
    model.train()
    expected_acc = (logits.argmax(1) == y).float().mean().item()
    assert accuracy(model, x, y, batch_size=7) == pytest.approx(expected_acc)
    assert model.training  # restored
    loss, acc = evaluate_loss_acc(model, x, y, batch_size=13)
    assert loss == pytest.approx(F.cross_entropy(logits, y).item(), rel=1e-5)
    assert acc == pytest.approx(expected_acc)
    model.eval()
    accuracy(model, x, y)
    assert not model.training


def test_accuracy_perfect_custom_forward_and_tuple_outputs():
    x, y = data()
    onehot = F.one_hot(y, 4).float()
    model = nn.Identity()
    assert accuracy(model, onehot, y) == 1.0
    assert accuracy(model, onehot, y, forward=lambda m, xb: -m(xb)) < 0.5
    assert accuracy(model, onehot, y, forward=lambda m, xb: (m(xb), None)) == 1.0
    with pytest.raises(ValueError, match="empty"):
        accuracy(model, onehot[:0], y[:0])


def test_recalibrate_bn_sets_data_statistics():
    x, _ = data(n=64, d=5)
    bn = nn.BatchNorm1d(5, momentum=0.3)
    bn.running_mean.fill_(7.0)
    bn.running_var.fill_(9.0)
    model = nn.Sequential(bn)
    model.train()
    recalibrate_bn(model, x, n_batches=4, batch_size=16)
    batches = x.split(16)
    torch.testing.assert_close(bn.running_mean, x.mean(0))  # equal-size batches
    torch.testing.assert_close(bn.running_var,
                               torch.stack([b.var(0, unbiased=True) for b in batches]).mean(0))
    assert bn.momentum == 0.3 and not model.training
    assert int(bn.num_batches_tracked) == 4

    # one batch: exactly the batch mean and the unbiased batch variance
    recalibrate_bn(model, x, n_batches=1, batch_size=64)
    torch.testing.assert_close(bn.running_mean, x.mean(0))
    torch.testing.assert_close(bn.running_var, x.var(0, unbiased=True))


def test_recalibrate_bn2d_and_random_batches():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(40, 3, 4, 4, generator=g) * 3 + 2
    bn = nn.BatchNorm2d(3)
    recalibrate_bn(bn, x, n_batches=1, batch_size=20, generator=torch.Generator().manual_seed(5))
    idx = torch.randperm(40, generator=torch.Generator().manual_seed(5))[:20]
    sel = x[idx]
    torch.testing.assert_close(bn.running_mean, sel.mean((0, 2, 3)))
    torch.testing.assert_close(bn.running_var, sel.var((0, 2, 3), unbiased=True))


def test_draw_recalibration_batches():
    x = torch.arange(10.0)[:, None]
    first = draw_recalibration_batches(x, n_batches=2, batch_size=3)
    assert [b.flatten().tolist() for b in first] == [[0, 1, 2], [3, 4, 5]]
    short = draw_recalibration_batches(x, n_batches=5, batch_size=3)  # only 10 samples exist
    assert [len(b) for b in short] == [3, 3, 3, 1]
    g1, g2 = torch.Generator().manual_seed(0), torch.Generator().manual_seed(0)
    a = draw_recalibration_batches(x, n_batches=2, batch_size=4, generator=g1)
    b = draw_recalibration_batches(x, n_batches=2, batch_size=4, generator=g2)
    assert all(torch.equal(u, v) for u, v in zip(a, b, strict=True))
    assert len(set(torch.cat(a).flatten().tolist())) == 8  # without replacement


def test_evaluate_subnets_equals_loop_and_reuses_batches():
    xr, _ = data(n=80, seed=1)
    xe, ye = data(n=50, seed=2)
    archs = [0, 2, 1, 2]
    net = ToySupernet()
    net.bn.running_mean.fill_(3.0)
    net.train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    accs = evaluate_subnets(net, archs, recalib_x=xr, eval_x=xe, eval_y=ye, recalib_batches=3,
                            batch_size=16, generator=torch.Generator().manual_seed(7))

    # the same fixed batches were forwarded for every arch
    per_arch = [net.train_inputs[i * 3:(i + 1) * 3] for i in range(len(archs))]
    assert len(net.train_inputs) == 3 * len(archs)
    for batches in per_arch[1:]:
        assert all(torch.equal(a, b) for a, b in zip(per_arch[0], batches, strict=True))
    # BN buffers and train mode restored
    assert net.training
    assert all(torch.equal(before[k], v) for k, v in net.state_dict().items())

    # equals a loop of recalibrate_bn + accuracy with identically drawn batches
    ref = ToySupernet()
    expected = []
    for arch in archs:
        recalibrate_bn(ref, xr, n_batches=3, batch_size=16,
                       forward=lambda m, xb, a=arch: m(xb, a),
                       generator=torch.Generator().manual_seed(7))
        expected.append(accuracy(ref, xe, ye, batch_size=16,
                                 forward=lambda m, xb, a=arch: m(xb, a)))
    assert accs == expected
    assert len(set(accs)) > 1  # the subnets really differ


def test_evaluate_subnets_custom_forward_and_no_restore():
    xr, _ = data(n=32, seed=1)
    xe, ye = data(n=20, seed=2)
    net = ToySupernet()
    calls = []

    def fwd(m, xb, arch):
        calls.append(arch["op"])
        return m(xb, arch["op"])

    accs = evaluate_subnets(net, [{"op": 1}], recalib_x=xr, eval_x=xe, eval_y=ye,
                            recalib_batches=2, batch_size=16, forward=fwd, restore_bn=False,
                            eval_batch_size=5)
    assert len(accs) == 1 and 0.0 <= accs[0] <= 1.0
    assert calls == [1] * (2 + 4)  # 2 recalibration batches + 4 evaluation batches of 5
    batches = draw_recalibration_batches(xr, n_batches=2, batch_size=16)
    ref = ToySupernet()
    recalibrate_bn_on(ref, batches, forward=lambda m, xb: m(xb, 1))
    torch.testing.assert_close(net.bn.running_mean, ref.bn.running_mean)
    assert not net.training
