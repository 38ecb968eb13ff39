"""The DARTS/SNAS candidate operations, cell preprocessing and drop path.

DARTS (Liu et al., ICLR 2019) Sec. 2.1 / Appendix A.1 and SNAS (Xie et al., ICLR 2019) Sec. 3:
the 8 candidate ops of every cell edge, in the official order of ``PRIMITIVES`` (quark0/darts
``cnn/genotypes.py``), built exactly as ``cnn/operations.py``:

* ``none``: zeros (strided at stride 2);
* ``max_pool_3x3`` / ``avg_pool_3x3``: 3x3 pooling, padding 1 (average with
  ``count_include_pad=False``); SNAS's ``operations.py`` follows each pool with a BatchNorm
  (``pool_bn=True``), DARTS's standalone nets do not, and both search networks do (a
  ``BatchNorm2d(affine=False)`` inside the mixed op);
* ``skip_connect``: identity at stride 1, :class:`FactorizedReduce` at stride 2;
* ``sep_conv_3x3`` / ``sep_conv_5x5``: (ReLU, depthwise kxk, pointwise, BN) twice, the first
  depthwise carrying the stride;
* ``dil_conv_3x3`` / ``dil_conv_5x5``: ReLU, depthwise kxk dilation 2, pointwise, BN.

Module layouts (``op.0``, ``op.1`` ...) follow the official classes, so state dicts line up.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import Tensor, nn

__all__ = [
    "OPS",
    "PRIMITIVES",
    "DilConv",
    "FactorizedReduce",
    "Identity",
    "ReLUConvBN",
    "SepConv",
    "Zero",
    "drop_path",
    "uses_drop_path",
    "make_op",
]

#: the candidate ops, in the official order (index 0 is ``none``)
PRIMITIVES: tuple[str, ...] = (
    "none",
    "max_pool_3x3",
    "avg_pool_3x3",
    "skip_connect",
    "sep_conv_3x3",
    "sep_conv_5x5",
    "dil_conv_3x3",
    "dil_conv_5x5",
)
NONE_INDEX = 0


class ReLUConvBN(nn.Module):
    """ReLU, conv kxk (no bias), BN: the cell input preprocessing (1x1) of DARTS."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.op(x)


class DilConv(nn.Module):
    """ReLU, depthwise kxk dilated conv, pointwise conv, BN."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int,
                 dilation: int, affine: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel_size, stride=stride, padding=padding,
                      dilation=dilation, groups=c_in, bias=False),
            nn.Conv2d(c_in, c_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.op(x)


class SepConv(nn.Module):
    """Separable conv applied twice: (ReLU, depthwise kxk, pointwise, BN) x 2."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int,
                 affine: bool = True) -> None:
        super().__init__()
        self.op = nn.Sequential(
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel_size, stride=stride, padding=padding, groups=c_in,
                      bias=False),
            nn.Conv2d(c_in, c_in, 1, padding=0, bias=False),
            nn.BatchNorm2d(c_in, affine=affine),
            nn.ReLU(inplace=False),
            nn.Conv2d(c_in, c_in, kernel_size, stride=1, padding=padding, groups=c_in,
                      bias=False),
            nn.Conv2d(c_in, c_out, 1, padding=0, bias=False),
            nn.BatchNorm2d(c_out, affine=affine),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.op(x)


class Identity(nn.Module):
    """``skip_connect`` at stride 1 (drop path never applies to it)."""

    def forward(self, x: Tensor) -> Tensor:
        return x


class Zero(nn.Module):
    """``none``: a zero tensor of the op's output shape (strided at stride 2)."""

    def __init__(self, stride: int) -> None:
        super().__init__()
        self.stride = stride

    def forward(self, x: Tensor) -> Tensor:
        if self.stride == 1:
            return torch.zeros_like(x)
        return torch.zeros_like(x[:, :, :: self.stride, :: self.stride])


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 stride-2 convs (the second shifted by one pixel), concat, BN.

    Halves an even spatial size; ``c_out`` must be even.
    """

    def __init__(self, c_in: int, c_out: int, affine: bool = True) -> None:
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of channels, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.conv_1 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.conv_2 = nn.Conv2d(c_in, c_out // 2, 1, stride=2, padding=0, bias=False)
        self.bn = nn.BatchNorm2d(c_out, affine=affine)

    def forward(self, x: Tensor) -> Tensor:
        x = self.relu(x)
        out = torch.cat([self.conv_1(x), self.conv_2(x[:, :, 1:, 1:])], dim=1)
        return self.bn(out)


def _pool(kind: str, c: int, stride: int, bn: bool, affine: bool) -> nn.Module:
    if kind == "max":
        pool: nn.Module = nn.MaxPool2d(3, stride=stride, padding=1)
    else:
        pool = nn.AvgPool2d(3, stride=stride, padding=1, count_include_pad=False)
    if not bn:
        return pool
    return nn.Sequential(pool, nn.BatchNorm2d(c, affine=affine))


OpFactory = Callable[[int, int, bool, bool], nn.Module]

#: ``OPS[name](C, stride, affine, pool_bn) -> module``; ``pool_bn`` only affects pools
OPS: dict[str, OpFactory] = {
    "none": lambda c, stride, affine, pool_bn: Zero(stride),
    "max_pool_3x3": lambda c, stride, affine, pool_bn: _pool("max", c, stride, pool_bn, affine),
    "avg_pool_3x3": lambda c, stride, affine, pool_bn: _pool("avg", c, stride, pool_bn, affine),
    "skip_connect": lambda c, stride, affine, pool_bn: (
        Identity() if stride == 1 else FactorizedReduce(c, c, affine=affine)),
    "sep_conv_3x3": lambda c, stride, affine, pool_bn: SepConv(c, c, 3, stride, 1, affine),
    "sep_conv_5x5": lambda c, stride, affine, pool_bn: SepConv(c, c, 5, stride, 2, affine),
    "dil_conv_3x3": lambda c, stride, affine, pool_bn: DilConv(c, c, 3, stride, 2, 2, affine),
    "dil_conv_5x5": lambda c, stride, affine, pool_bn: DilConv(c, c, 5, stride, 4, 2, affine),
}


def make_op(name: str, channels: int, stride: int, affine: bool = True,
            pool_bn: bool = False) -> nn.Module:
    """Build one candidate op.

    Args:
        name: one of :data:`PRIMITIVES`.
        channels: input = output channels.
        stride: 1, or 2 on the edges of a reduction cell that leave the cell inputs.
        affine: affine BN (standalone nets) or not (search network).
        pool_bn: follow pools with a BatchNorm (SNAS ``operations.py``; the search mixed op).

    Returns:
        The op module; its output has ``channels`` channels and ``ceil(size / stride)``
        pixels per side.
    """
    if name not in OPS:
        raise KeyError(f"unknown DARTS op '{name}'; known: {', '.join(PRIMITIVES)}")
    return OPS[name](channels, stride, affine, pool_bn)


def drop_path(x: Tensor, drop_prob: float | Tensor) -> Tensor:
    """Drop whole samples of a branch with probability ``drop_prob`` and rescale the rest.

    The official ``utils.drop_path`` (a per-sample Bernoulli mask, ``x / keep * mask``) without
    its in-place update. Draws from torch's global RNG, which the training loop seeds.

    ``drop_prob`` may be a 0-d tensor (what a compiled network passes, so that a ramp that
    changes it every epoch does not recompile the graph): the mask is then always drawn, also
    at probability 0 (where it is all ones and ``x`` comes back unchanged), from a tensor
    probability, so its draws differ from the float path's, with the same distribution.
    """
    if not isinstance(drop_prob, Tensor):
        if drop_prob <= 0.0:
            return x
        keep: float | Tensor = 1.0 - drop_prob
        mask = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype, device=x.device).bernoulli_(keep)
        return x / keep * mask
    keep = (1.0 - drop_prob).to(x.dtype)
    mask = torch.empty((x.shape[0], 1, 1, 1), dtype=x.dtype,
                       device=x.device).bernoulli_(keep.expand(x.shape[0], 1, 1, 1))
    return x / keep * mask


def uses_drop_path(training: bool, drop_prob: float | Tensor) -> bool:
    """Whether a cell applies :func:`drop_path`: in training, with a tensor probability (a
    compiled network: decided inside the graph) or a positive float one."""
    return training and (isinstance(drop_prob, Tensor) or drop_prob > 0.0)
