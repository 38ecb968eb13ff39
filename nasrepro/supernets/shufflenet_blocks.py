"""ShuffleNetV2 choice blocks of SPOS (Guo et al. 2019, Sec. 4 / Fig. 3), plain and sliceable.

Layer for layer as the official code (megvii-model/SinglePathOneShot ``src/*/blocks.py``,
ShuffleNet-Series ``OneShot/blocks.py``):

* ``Shufflenet`` (choices 0-2, kernel 3/5/7), main branch:
  pw(inp->mid)+BN+ReLU, dw kxk(stride)+BN, pw(mid->oup-inp)+BN+ReLU.
* ``Shuffle_Xception`` (choice 3), main branch: dw3x3(stride)+BN, pw(inp->mid)+BN+ReLU,
  dw3x3+BN, pw(mid->mid)+BN+ReLU, dw3x3+BN, pw(mid->oup-inp)+BN+ReLU.
* stride 2: the input goes whole into both branches; projection branch dw kxk s2 + BN,
  pw(inp->inp) + BN + ReLU (k = the block's kernel, 3 for Xception; *not* affected by the
  channel scale). Output ``cat(proj, main)``.
* stride 1: channel split of the official ``channel_shuffle``: even channels pass through,
  odd channels enter the main branch; output ``cat(even, main)``.

The same builder makes the standalone block (``nn.Conv2d``/``nn.BatchNorm2d``, affine BN) and
the supernet block (:class:`SlicedConv2d`/:class:`SlicedBatchNorm2d`, allocated for the widest
mid-channel count, BN ``affine=False``). A sliceable block computes only the first ``mid``
channels of its mid layers by slicing the weights and BN running statistics, so the unused
channels are never computed (channel search, SPOS Sec. 3.3).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor, nn

#: choice index -> human-readable name (the official order)
BLOCK_NAMES: tuple[str, ...] = ("shuffle3x3", "shuffle5x5", "shuffle7x7", "xception")
#: choice index -> depthwise kernel (Xception uses 3x3 everywhere)
BLOCK_KERNELS: tuple[int, ...] = (3, 5, 7, 3)


def channel_split(x: Tensor) -> tuple[Tensor, Tensor]:
    """The official ``channel_shuffle``: (even channels, odd channels)."""
    return x[:, 0::2], x[:, 1::2]


class SlicedConv2d(nn.Conv2d):
    """A bias-free ``nn.Conv2d`` that can run on a prefix of its channels.

    Input channels are taken from the input tensor; a depthwise conv (``groups ==
    in_channels``) uses the first ``C_in`` filters; a dense conv uses ``weight[:out, :C_in]``
    where ``out`` is ``mid`` if ``sliced_out`` else the full ``out_channels``.
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 padding: int = 0, groups: int = 1, sliced_out: bool = False) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, padding,
                         groups=groups, bias=False)
        self.depthwise = groups > 1
        if self.depthwise and not groups == in_channels == out_channels:
            raise ValueError("SlicedConv2d supports dense or depthwise convs only")
        self.sliced_out = sliced_out

    def forward(self, x: Tensor, mid: int | None = None) -> Tensor:  # type: ignore[override]
        c_in = x.shape[1]
        if self.depthwise:
            w = self.weight[:c_in]
            groups = c_in
        else:
            out = mid if (self.sliced_out and mid is not None) else self.out_channels
            w = self.weight[:out, :c_in]
            groups = 1
        return F.conv2d(x, w, None, self.stride, self.padding, self.dilation, groups)


class SlicedBatchNorm2d(nn.BatchNorm2d):
    """``nn.BatchNorm2d`` that normalises a prefix of its channels (sliced running stats).

    In train mode the running statistics of the first ``C`` channels are updated in place
    (same exponential-average rule as ``nn.BatchNorm2d``; ``num_batches_tracked`` is shared by
    all prefixes). It is an ``nn.BatchNorm2d``, so BN recalibration code that resets running
    stats of every BN module treats it like any other.
    """

    def forward(self, x: Tensor) -> Tensor:
        c = x.shape[1]
        if c == self.num_features:
            return super().forward(x)
        if self.training and self.track_running_stats:
            self.num_batches_tracked.add_(1)
            if self.momentum is None:
                factor = 1.0 / float(self.num_batches_tracked)
            else:
                factor = self.momentum
        else:
            factor = 0.0 if self.momentum is None else self.momentum
        use_batch_stats = self.training or self.running_mean is None
        rm = self.running_mean[:c] if self.running_mean is not None else None
        rv = self.running_var[:c] if self.running_var is not None else None
        w = self.weight[:c] if self.weight is not None else None
        b = self.bias[:c] if self.bias is not None else None
        return F.batch_norm(x, rm, rv, w, b, use_batch_stats, factor, self.eps)


def _layers(kind: int, inp: int, oup: int, mid: int, stride: int, affine: bool,
            sliceable: bool) -> tuple[list[nn.Module], list[nn.Module] | None]:
    """Modules of the main and projection branches (official order and structure)."""

    def conv(cin: int, cout: int, k: int, s: int, dw: bool, sliced_out: bool = False
             ) -> nn.Module:
        groups = cin if dw else 1
        if sliceable:
            return SlicedConv2d(cin, cout, k, s, k // 2, groups=groups, sliced_out=sliced_out)
        return nn.Conv2d(cin, cout, k, s, k // 2, groups=groups, bias=False)

    def bn(c: int) -> nn.Module:
        return SlicedBatchNorm2d(c, affine=affine) if sliceable else nn.BatchNorm2d(c,
                                                                                   affine=affine)

    def relu() -> nn.Module:
        return nn.ReLU(inplace=True)

    outputs = oup - inp
    ksize = BLOCK_KERNELS[kind]
    if kind < 3:  # Shufflenet
        main = [
            conv(inp, mid, 1, 1, dw=False, sliced_out=True), bn(mid), relu(),
            conv(mid, mid, ksize, stride, dw=True), bn(mid),
            conv(mid, outputs, 1, 1, dw=False), bn(outputs), relu(),
        ]
    else:  # Shuffle_Xception
        main = [
            conv(inp, inp, 3, stride, dw=True), bn(inp),
            conv(inp, mid, 1, 1, dw=False, sliced_out=True), bn(mid), relu(),
            conv(mid, mid, 3, 1, dw=True), bn(mid),
            conv(mid, mid, 1, 1, dw=False, sliced_out=True), bn(mid), relu(),
            conv(mid, mid, 3, 1, dw=True), bn(mid),
            conv(mid, outputs, 1, 1, dw=False), bn(outputs), relu(),
        ]
    proj = None
    if stride == 2:
        proj = [
            conv(inp, inp, ksize, stride, dw=True), bn(inp),
            conv(inp, inp, 1, 1, dw=False), bn(inp), relu(),
        ]
    return main, proj


class ShuffleChoiceBlock(nn.Module):
    """One SPOS choice block (Shufflenet kxk or Shuffle_Xception).

    Args:
        kind: 0/1/2 = Shufflenet 3x3/5x5/7x7, 3 = Xception.
        inp: input channels of the branches (full input if stride 2, half if stride 1).
        oup: output channels of the block.
        mid: mid channels (the allocated maximum when ``sliceable``).
        stride: 1 or 2.
        affine: affine batch-norm (standalone) or not (supernet).
        sliceable: build sliceable layers so ``forward(x, mid)`` can use fewer mid channels.
    """

    def __init__(self, kind: int, inp: int, oup: int, mid: int, stride: int,
                 affine: bool = True, sliceable: bool = False) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"stride must be 1 or 2, got {stride}")
        if kind not in range(len(BLOCK_NAMES)):
            raise ValueError(f"block kind must be in 0..{len(BLOCK_NAMES) - 1}, got {kind}")
        self.kind, self.inp, self.oup, self.mid, self.stride = kind, inp, oup, mid, stride
        self.sliceable = sliceable
        main, proj = _layers(kind, inp, oup, mid, stride, affine, sliceable)
        self.branch_main = nn.Sequential(*main)
        self.branch_proj = nn.Sequential(*proj) if proj is not None else None

    def _run(self, seq: nn.Sequential, x: Tensor, mid: int | None) -> Tensor:
        if not self.sliceable:
            return seq(x)
        for m in seq:
            x = m(x, mid) if isinstance(m, SlicedConv2d) else m(x)
        return x

    def forward(self, x: Tensor, mid: int | None = None) -> Tensor:
        """Run the block; ``mid`` (sliceable blocks only) picks the first ``mid`` channels."""
        if mid is not None and not self.sliceable and mid != self.mid:
            raise ValueError(f"block built with mid={self.mid} cannot run with mid={mid}")
        if mid is not None and mid > self.mid:
            raise ValueError(f"mid={mid} exceeds the allocated {self.mid} channels")
        if self.stride == 1:
            x_proj, x = channel_split(x)
        else:
            x_proj = self._run(self.branch_proj, x, None)
        return torch.cat((x_proj, self._run(self.branch_main, x, mid)), 1)

    def extra_repr(self) -> str:
        return (f"{BLOCK_NAMES[self.kind]}, inp={self.inp}, oup={self.oup}, mid={self.mid}, "
                f"stride={self.stride}")


def init_weights(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """The official SPOS initialisation (``_initialize_weights`` of both network.py files).

    Convs: N(0, 0.01) for the stem (module name contains ``first``), else
    N(0, 1 / weight.shape[1]); BN weight 1, bias 1e-4, running mean 0; Linear N(0, 0.01),
    bias 0.
    """
    with torch.no_grad():
        for name, m in model.named_modules():
            if isinstance(m, nn.Conv2d):
                std = 0.01 if "first" in name else 1.0 / m.weight.shape[1]
                nn.init.normal_(m.weight, 0.0, std, generator=generator)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d | nn.BatchNorm1d):
                if m.weight is not None:
                    nn.init.ones_(m.weight)
                if m.bias is not None:
                    nn.init.constant_(m.bias, 1e-4)
                if m.running_mean is not None:
                    nn.init.zeros_(m.running_mean)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01, generator=generator)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
