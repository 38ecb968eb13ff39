"""The one cost model of the suite: MACs of conv + linear layers, and learnable params.

All four papers (SPOS, DARTS/SNAS, AttentiveNAS, FBNetV3) report "FLOPs" meaning
multiply-accumulates of convolution and fully-connected layers only: no BN, ReLU, pooling,
bias additions, concatenation or channel shuffle (see DESIGN.md, "Cost"). This module holds

* the analytic primitives (:func:`conv2d_macs`, :func:`conv2d_params`, :func:`linear_macs`,
  :func:`linear_params`, :func:`bn_params`, :func:`conv2d_out_size`) from which every space
  precomputes its per-layer cost tables, and
* the measured cross-check :func:`measure`, which runs a model once under
  :class:`torch.utils.flop_counter.FlopCounterMode` (2 FLOPs per MAC) and counts parameters;
* :func:`step_flops`, the FLOPs of one whole training step (forward and backward passes of
  every conv / matmul) under the same counter: the compute floor of ``bench/gpu.py``.

Only this module counts MACs/params; spaces call its primitives.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from nasrepro.spaces.base import Cost

__all__ = [
    "Cost",
    "bn_params",
    "conv2d_macs",
    "conv2d_out_size",
    "conv2d_params",
    "count_params",
    "linear_macs",
    "linear_params",
    "measure",
    "step_flops",
]


def _pair(v: int | Sequence[int]) -> tuple[int, int]:
    if isinstance(v, int):
        return v, v
    a, b = v
    return int(a), int(b)


def conv2d_out_size(size: int, kernel: int, stride: int = 1, padding: int = 0,
                    dilation: int = 1) -> int:
    """Spatial output size of a 2-d convolution/pooling along one axis (PyTorch formula)."""
    return (size + 2 * padding - dilation * (kernel - 1) - 1) // stride + 1


def conv2d_macs(in_channels: int, out_channels: int, kernel: int | Sequence[int],
                out_size: int | Sequence[int], groups: int = 1) -> int:
    """MACs of one ``nn.Conv2d`` on one image (bias not counted).

    Args:
        in_channels: input channels.
        out_channels: output channels.
        kernel: kernel size (int or (kh, kw)).
        out_size: spatial size of the *output* (int or (h, w)).
        groups: convolution groups (``in_channels`` for depthwise).

    Returns:
        ``out_channels * in_channels/groups * kh * kw * h_out * w_out``.
    """
    kh, kw = _pair(kernel)
    oh, ow = _pair(out_size)
    if in_channels % groups or out_channels % groups:
        raise ValueError(f"channels ({in_channels}, {out_channels}) not divisible by {groups}")
    return out_channels * (in_channels // groups) * kh * kw * oh * ow


def conv2d_params(in_channels: int, out_channels: int, kernel: int | Sequence[int],
                  groups: int = 1, bias: bool = False) -> int:
    """Learnable parameters of one ``nn.Conv2d``."""
    kh, kw = _pair(kernel)
    return out_channels * (in_channels // groups) * kh * kw + (out_channels if bias else 0)


def linear_macs(in_features: int, out_features: int) -> int:
    """MACs of one ``nn.Linear`` on one sample (bias not counted)."""
    return in_features * out_features


def linear_params(in_features: int, out_features: int, bias: bool = True) -> int:
    """Learnable parameters of one ``nn.Linear``."""
    return in_features * out_features + (out_features if bias else 0)


def bn_params(channels: int, affine: bool = True) -> int:
    """Learnable parameters of one batch-norm layer (weight + bias when affine)."""
    return 2 * channels if affine else 0


def _excluded(name: str, exclude_prefixes: Sequence[str]) -> bool:
    return any(part.startswith(p) for part in name.split(".") for p in exclude_prefixes)


def count_params(model: nn.Module, exclude_prefixes: Sequence[str] = ("auxiliary",)) -> int:
    """Number of learnable parameters of ``model``.

    Args:
        model: the network.
        exclude_prefixes: parameters whose dotted name has a component starting with one of
            these are skipped (DARTS's ``auxiliary_head`` is not part of the reported size).

    Returns:
        Sum of ``numel`` of the remaining parameters that require grad.
    """
    return sum(
        p.numel()
        for name, p in model.named_parameters()
        if p.requires_grad and not _excluded(name, exclude_prefixes)
    )


def measure(
    model: nn.Module,
    input_shape: Sequence[int],
    forward: Callable[[nn.Module, torch.Tensor], Any] | None = None,
    exclude_prefixes: Sequence[str] = ("auxiliary",),
) -> Cost:
    """Measure MACs and params of ``model`` by running it once on a batch of one.

    MACs are the total FLOPs reported by :class:`~torch.utils.flop_counter.FlopCounterMode`
    divided by 2 (it counts a multiply-accumulate as 2 FLOPs and counts only matmul/conv
    family ops, i.e. the conv + linear convention). The model is run in eval mode without
    gradients (so batch-norm works on 1x1 maps) and restored to its previous mode.

    Args:
        model: the network.
        input_shape: ``(C, H, W)`` of one input (a batch dimension of 1 is added).
        forward: optional ``forward(model, x)``, e.g. ``lambda m, x: m(x, arch)`` for a
            supernet; defaults to ``model(x)``.
        exclude_prefixes: passed to :func:`count_params`.

    Returns:
        :class:`Cost` with ``macs`` and ``params``.
    """
    param = next(model.parameters(), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = param.dtype if param is not None and param.is_floating_point() else torch.float32
    x = torch.zeros((1, *input_shape), device=device, dtype=dtype)
    was_training = model.training
    model.eval()
    try:
        counter = FlopCounterMode(display=False)
        with torch.no_grad(), counter:
            if forward is None:
                model(x)
            else:
                forward(model, x)
    finally:
        model.train(was_training)
    flops = counter.get_total_flops()
    return Cost(macs=int(flops) // 2, params=count_params(model, exclude_prefixes))


def _conv_backward_flops(grad_out_shape: Sequence[int], x_shape: Sequence[int],
                         w_shape: Sequence[int], _bias: Any, _stride: Any, _padding: Any,
                         _dilation: Any, transposed: bool, _output_padding: Any, _groups: Any,
                         output_mask: Sequence[bool], out_shape: Any = None, **_: Any) -> int:
    """``convolution_backward`` FLOPs with groups: grad_input and grad_weight each cost what
    the forward conv costs (PyTorch's own formula ignores groups and over-counts depthwise
    convs by their channel count)."""
    from torch.utils.flop_counter import conv_flop_count

    fwd = conv_flop_count(list(x_shape), list(w_shape), list(grad_out_shape), transposed)
    return fwd * (int(bool(output_mask[0])) + int(bool(output_mask[1])))


def step_flops(run: Callable[[], Any]) -> int:
    """FLOPs of whatever ``run()`` computes (a training step: every forward and backward conv
    and matmul, 2 per multiply-accumulate; no elementwise ops), counted by
    :class:`~torch.utils.flop_counter.FlopCounterMode` while it runs once, with a grouped-conv
    aware backward formula (:func:`_conv_backward_flops`)."""
    counter = FlopCounterMode(display=False, custom_mapping={
        torch.ops.aten.convolution_backward: _conv_backward_flops})
    with counter:
        run()
    return int(counter.get_total_flops())
