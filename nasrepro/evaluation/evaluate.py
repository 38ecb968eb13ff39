"""Accuracy, BatchNorm recalibration and batched evaluation of many subnets of a supernet.

A subnet's accuracy inside a weight-sharing supernet is only meaningful after its BN statistics
are recomputed for that path: SPOS resets the running stats and forwards ~20k training images in
train mode without gradients (PAPERS.md section 1); AttentiveNAS uses ~64 training batches
(section 3). :func:`evaluate_subnets` recalibrates every subnet on the *same* fixed batches (drawn
once) and then measures top-1 on the evaluation split, which is what evolution, random search
and the AttentiveNAS Pareto fronts score.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn
from torch.nn.modules.batchnorm import _BatchNorm
from tqdm import tqdm

Forward = Callable[[nn.Module, Tensor], Any]
ArchForward = Callable[[nn.Module, Tensor, Any], Any]


def _logits(out: Any) -> Tensor:
    """Main logits of a model output (a tensor, or ``(logits, aux)`` from a DARTS network)."""
    return out[0] if isinstance(out, tuple | list) else out


def _call(model: nn.Module, x: Tensor, forward: Forward | None) -> Tensor:
    return _logits(forward(model, x) if forward is not None else model(x))


@torch.no_grad()
def _loss_correct(model: nn.Module, x: Tensor, y: Tensor, batch_size: int,
                  forward: Forward | None, across_ranks: bool = True) -> tuple[float, int]:
    """Summed cross-entropy and number of correct top-1 predictions, in eval mode.

    In a job on several ranks (:mod:`nasrepro.training.distributed`), ``across_ranks`` shares
    the batches out (every rank holds the same model) and sums the counts over the ranks."""
    from nasrepro.data.stream import eval_batches
    from nasrepro.training import distributed

    if x.shape[0] == 0:
        raise ValueError("cannot evaluate on an empty split; check the dataset split sizes")
    ranks = distributed.current() if across_ranks else distributed.Ranks()
    was_training = model.training
    model.eval()
    try:
        loss_sum, correct = 0.0, 0
        for xb, yb in eval_batches(x, y, batch_size, rank=ranks.rank,
                                   world_size=ranks.world_size):
            logits = _call(model, xb, forward)
            loss_sum += float(F.cross_entropy(logits.float(), yb, reduction="sum"))
            correct += int((logits.argmax(dim=1) == yb).sum())
    finally:
        model.train(was_training)
    if ranks.world_size > 1:
        loss_sum, correct = distributed.sum_over_ranks([loss_sum, correct], ranks)
        correct = int(round(correct))
    return loss_sum, correct


def accuracy(model: nn.Module, x: Tensor, y: Tensor, *, batch_size: int = 1024,
             forward: Forward | None = None, across_ranks: bool = True) -> float:
    """Top-1 accuracy in [0, 1] of ``model`` on ``(x, y)``.

    Runs in eval mode under ``no_grad`` and restores the model's previous train/eval mode.

    Args:
        model: the network.
        x: inputs, ``(N, ...)`` (a tensor or a streamed split).
        y: class indices, ``(N,)``.
        batch_size: evaluation batch size.
        forward: ``forward(model, x) -> logits``; default ``model(x)``.
        across_ranks: in a job on several ranks, every rank evaluates a share of the batches
            and gets the total (every rank must call it); False: this rank alone, all of it.
    """
    _, correct = _loss_correct(model, x, y, batch_size, forward, across_ranks)
    return correct / x.shape[0]


def evaluate_loss_acc(model: nn.Module, x: Tensor, y: Tensor, *, batch_size: int = 1024,
                      forward: Forward | None = None) -> tuple[float, float]:
    """Mean cross-entropy loss and top-1 accuracy of ``model`` on ``(x, y)`` (as :func:`accuracy`).

    Useful to score subnets by loss (AttentiveNAS's BestUp/WorstUp with the minibatch loss).
    """
    loss_sum, correct = _loss_correct(model, x, y, batch_size, forward)
    return loss_sum / x.shape[0], correct / x.shape[0]


def draw_recalibration_batches(x: Tensor, *, n_batches: int, batch_size: int,
                               generator: torch.Generator | None = None) -> list[Tensor]:
    """The batches BN recalibration forwards: ``n_batches`` of ``batch_size`` from ``x`` (a
    tensor or a streamed split, :func:`nasrepro.data.stream.take`).

    Drawn without replacement with ``generator`` (a CPU generator), or the first
    ``n_batches * batch_size`` samples in order when ``generator`` is None. When ``x`` is
    smaller, all of it is used (the last batch may be shorter).
    """
    from nasrepro.data.stream import take

    if n_batches < 1 or batch_size < 1:
        raise ValueError(f"n_batches ({n_batches}) and batch_size ({batch_size}) must be >= 1")
    n = x.shape[0]
    if n == 0:
        raise ValueError("cannot recalibrate BN on an empty split; check the dataset split sizes")
    m = min(n, n_batches * batch_size)
    idx = torch.arange(m) if generator is None else torch.randperm(n, generator=generator)[:m]
    return list(take(x, idx).split(batch_size))


def _batchnorms(model: nn.Module) -> list[_BatchNorm]:
    return [m for m in model.modules() if isinstance(m, _BatchNorm) and m.track_running_stats]


@torch.no_grad()
def recalibrate_bn_on(model: nn.Module, batches: Sequence[Tensor], *,
                      forward: Forward | None = None) -> None:
    """Recompute every BN's running statistics from ``batches`` (then eval mode).

    Resets the running stats, sets ``momentum=None`` (cumulative average over the batches: the
    running mean is the mean of the batch means, the running variance the mean of the unbiased
    batch variances, as torch computes them), forwards the batches in train mode without
    gradients, then restores each BN's momentum and puts the model in eval mode.
    """
    bns = _batchnorms(model)
    momenta = [bn.momentum for bn in bns]
    for bn in bns:
        bn.reset_running_stats()
        bn.momentum = None
    model.train()
    try:
        for xb in batches:
            _call(model, xb, forward)
    finally:
        for bn, mom in zip(bns, momenta, strict=True):
            bn.momentum = mom
        model.eval()


def recalibrate_bn(model: nn.Module, x: Tensor, *, n_batches: int, batch_size: int,
                   forward: Forward | None = None,
                   generator: torch.Generator | None = None) -> None:
    """Recalibrate BN statistics on ``n_batches`` training batches of ``x`` (SPOS, AttentiveNAS).

    Args:
        model: the network (left in eval mode).
        x: training inputs to draw the batches from.
        n_batches: number of batches (SPOS: ~20k images; AttentiveNAS: 64 batches).
        batch_size: batch size.
        forward: ``forward(model, x)``; default ``model(x)``.
        generator: draws the batches at random; None takes the first samples in order.
    """
    batches = draw_recalibration_batches(x, n_batches=n_batches, batch_size=batch_size,
                                         generator=generator)
    recalibrate_bn_on(model, batches, forward=forward)


def _bn_buffers(model: nn.Module) -> list[tuple[Tensor, Tensor]]:
    out = []
    for bn in _batchnorms(model):
        for buf in (bn.running_mean, bn.running_var, bn.num_batches_tracked):
            if buf is not None:
                out.append((buf, buf.detach().clone()))
    return out


def evaluate_subnets(
    supernet: nn.Module,
    archs: Sequence[Any],
    *,
    recalib_x: Tensor,
    eval_x: Tensor,
    eval_y: Tensor,
    recalib_batches: int,
    batch_size: int,
    forward: ArchForward | None = None,
    progress: bool = False,
    generator: torch.Generator | None = None,
    eval_batch_size: int | None = None,
    restore_bn: bool = True,
    across_ranks: bool = True,
) -> list[float]:
    """Top-1 accuracy of each subnet after BN recalibration on the same fixed batches.

    The recalibration batches are drawn once (with ``generator``, or the first samples of
    ``recalib_x``) and reused for every arch, so subnets are compared on identical statistics.

    Args:
        supernet: the weight-sharing network.
        archs: the architectures, in order.
        recalib_x: training inputs for BN recalibration.
        eval_x: evaluation inputs (validation split).
        eval_y: evaluation labels.
        recalib_batches: number of recalibration batches.
        batch_size: recalibration batch size (and evaluation batch size unless given).
        forward: ``forward(supernet, x, arch) -> logits``; default ``supernet(x, arch)``.
        progress: tqdm bar over the archs (stderr).
        generator: draws the recalibration batches at random (None: first samples in order).
        eval_batch_size: evaluation batch size (default ``batch_size``).
        restore_bn: put the supernet's BN buffers and train/eval mode back afterwards, so
            evaluating during training leaves the training statistics untouched.
        across_ranks: in a job on several ranks, share the archs out and gather the results
            (every rank must call it); False: this rank evaluates all of them.

    Returns:
        The accuracies in [0, 1], in the order of ``archs``. On several ranks
        (:mod:`nasrepro.training.distributed`) each evaluates every W-th arch and every rank
        returns all of them.
    """
    from nasrepro.training import distributed

    batches = draw_recalibration_batches(recalib_x, n_batches=recalib_batches,
                                         batch_size=batch_size, generator=generator)
    saved = _bn_buffers(supernet) if restore_bn else []
    was_training = supernet.training
    ranks = distributed.current() if across_ranks else distributed.Ranks()
    mine = list(archs)[ranks.rank::ranks.world_size]  # several ranks: a share each
    accs: list[float] = []
    try:
        for arch in tqdm(mine, desc="evaluate subnets", disable=not progress, file=sys.stderr,
                         mininterval=1.0, leave=False):
            def fwd(m: nn.Module, x: Tensor, arch: Any = arch) -> Any:
                return forward(m, x, arch) if forward is not None else m(x, arch)

            recalibrate_bn_on(supernet, batches, forward=fwd)
            accs.append(accuracy(supernet, eval_x, eval_y, across_ranks=False,  # own share
                                 batch_size=eval_batch_size or batch_size, forward=fwd))
    finally:
        if restore_bn:
            with torch.no_grad():
                for buf, val in saved:
                    buf.copy_(val)
            supernet.train(was_training)
    return distributed.gather_shares(accs, len(archs), ranks)
