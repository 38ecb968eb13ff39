"""Elastic MobileNet (MBConv) networks of AttentiveNAS / FBNetV3: standalone net and supernet.

Wang et al. 2021 (AttentiveNAS), Sec. 3 / Table 1 search space; layer for layer as the
official code (facebookresearch/AttentiveNAS ``models/attentive_nas_dynamic_model.py``,
``models/attentive_nas_static_model.py``, ``models/modules/{dynamic_layers, dynamic_ops,
static_layers}.py``, adapted there from Once-for-All):

* input resized to the arch's resolution (``F.interpolate``, bicubic as the official
  ``forward``) when its size differs;
* ``first_conv``: conv3x3 (stride ``first_stride``, pad 1, no bias unless ``stem_bias``) + BN +
  act;
* ``blocks``: 7 stages of MBConv blocks (``MobileInvertedResidualBlock``), the first block of
  a stage with the stage stride. A block is ``inverted_bottleneck`` (1x1 conv + BN + act,
  absent when the expand ratio is 1), ``depth_conv`` (depthwise kxk + BN + act, then SE where
  the stage has SE), ``point_linear`` (1x1 conv + BN, no act). Mid channels
  ``make_divisible(round(c_in * t), 8)`` (``c_in`` when ``t == 1``). SE: global mean, 1x1 conv
  to :func:`se_channels` (bias) + ReLU (``se_act``), 1x1 conv back (bias) + h-sigmoid, scale.
  **Every** block has a residual (``ShortcutLayer``): identity, or ``avg_pool2d(2, padding=
  size % 2)`` when the stride is 2, then a 1x1 conv (no bias, no BN) when the channel counts
  differ; the block output is ``main + shortcut``;
* ``last_conv`` (MobileNetV3 head, ``use_v3_head``): ``final_expand_layer`` 1x1 conv to
  ``head_expand * c_mb7`` (6x) + BN + act, global average pool, ``feature_mix_layer`` 1x1 conv
  to the last-conv width + act (no BN, no bias); ``classifier`` linear with bias.

Activation ``swish`` (``x * sigmoid(x)``, :class:`torch.nn.SiLU`); SE gate ``relu6(x + 3) / 6``
(:class:`torch.nn.Hardsigmoid`).

FBNetV3 settings (``MobileNetConfig``; all off for AttentiveNAS), as the official FBNetV3 builder
(facebookresearch/mobile-vision ``mobile_cv/arch/fbnet_v2/``) has them: ``se_from_input``, the
SE width of ``IRFBlock.__init__`` with ``less_se_channels`` (see :func:`se_channels`);
``se_act``, the SE's inner activation (``IRFBlock`` passes its own ``relu_args``, h-swish in
the ``*_hs`` blocks, to ``basic_blocks.build_se`` -> ``SEModule`` -> ``_se_op_conv``); and
``stem_bias``, a bias in the first conv (``blocks_factory`` ``conv_k3_hs`` -> ``ConvBNRelu``
leaves ``nn.Conv2d``'s default ``bias=True``, whereas every ``IRFBlock`` conv gets
``bias=False``). Dropout before the classifier and drop-connect on the
identity-shortcut blocks of the last two stages are off by default and set with
``set_dropout_rate`` (the official code uses them only on the max subnet in supernet training).

The supernet (:class:`MobileNetSupernet`, the official ``AttentiveNasDynamicModel``) allocates
every layer for the widest choice and runs an arch on the first ``c`` channels (sliced conv
weights, BN affine parameters and running stats), the first ``d`` blocks of each stage, and the
centre ``k x k`` crop of the 5x5 depthwise kernels. The official
``DynamicSeparableConv2d.KERNEL_TRANSFORM_MODE`` is ``None``, so there is no kernel transform
matrix: plain centre crop, as here. Its BN is affine (unlike SPOS). Initialisation: PyTorch's
default (the official code never re-initialises), drawn from an explicit generator, and the
last BN weight of every block zeroed (``zero_residual_block_bn_weights``).
:func:`extract_subnet` copies the sliced/cropped weights and BN statistics into a standalone
net whose eval-mode output equals the supernet path (``get_active_subnet``).

Differences from the official code, all without effect on the function computed: the
standalone net holds a shortcut conv only where it is used (the official ``ShortcutLayer``
always allocates one, unused when channels match, which inflates its parameter count), and the
supernet keeps BN momentum (default 0.1) in training instead of the official momentum 0 +
mandatory recalibration (``nasrepro.evaluation`` recalibrates BN anyway).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from nasrepro.metrics.cost import conv2d_out_size
from nasrepro.supernets.init import default_init_
from nasrepro.supernets.shufflenet_blocks import SlicedBatchNorm2d

__all__ = [
    "BlockPlan",
    "MobileNet",
    "MobileNetConfig",
    "MobileNetSupernet",
    "NetPlan",
    "StageSpec",
    "extract_subnet",
    "get_divisible_by",
    "init_weights",
    "make_divisible",
    "mid_channels",
    "se_channels",
]

#: SE reduction (official ``SELayer.REDUCTION``)
SE_REDUCTION = 4
#: channel divisor of ``make_divisible``
DIVISOR = 8
#: activation name -> module factory
ACTIVATIONS: dict[str, Callable[[], nn.Module]] = {
    "swish": nn.SiLU,
    "relu": nn.ReLU,
    "relu6": nn.ReLU6,
    "h_swish": nn.Hardswish,
}


def make_divisible(v: float, divisor: int = DIVISOR, min_value: int = 1) -> int:
    """The official (TF-slim) ``make_divisible``: round to a multiple of ``divisor``, never
    more than 10 % down."""
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def get_divisible_by(num: float, divisor: int = DIVISOR, min_val: int | None = None) -> int:
    """The official FBNet rounding (mobile-vision ``mobile_cv/arch/utils/helper.py``
    ``get_divisible_by``): the nearest multiple of ``divisor`` (halves away from zero), one
    step up when that is below ``0.95 * num``, at least ``min_val`` (default ``divisor``);
    ``int(num)`` unchanged when already a multiple."""
    ret = int(num)
    if min_val is None:
        min_val = divisor
    if divisor > 0 and num % divisor != 0:
        ret = int((math.floor(num / divisor + 0.5) or 1) * divisor)  # py2_round, num >= 0
        if ret < 0.95 * num:
            ret += divisor
    return max(ret, min_val)


def mid_channels(c_in: int, expand: float) -> int:
    """Mid (expanded) channels of an MBConv block: ``make_divisible(round(c_in * t), 8)``, or
    ``c_in`` when ``t == 1`` (no inverted bottleneck; equal to the official formula for the
    multiples of 8 the official space uses)."""
    if expand == 1:
        return c_in
    return make_divisible(round(c_in * expand), DIVISOR)


def se_channels(mid: int, expand: float = 1, from_input: bool = False) -> int:
    """Hidden channels of the SE module of a block with ``mid`` channels and expand ratio
    ``expand``; the one place the SE width is computed (plans, hence cost and nets).

    * default (AttentiveNAS, official ``SELayer`` / ``DynamicSE``):
      ``make_divisible(mid // 4, 8)``, a quarter of the expanded width;
    * ``from_input`` (FBNetV3, setting ``se_from_input``): mobile-vision
      ``mobile_cv/arch/fbnet_v2/irf_block.py`` ``IRFBlock.__init__`` with ``less_se_channels``
      (``IRF_CFG`` of ``fbnet_modeldef_cls_fbnetv3.py``): ``se_ratio = 0.25 / expansion``,
      width ``get_divisible_by(int(mid * se_ratio), 8)`` (``basic_blocks.build_se``), i.e. a
      quarter of the block *input*; the float steps are the official ones (``int`` truncates).
      timm's ``_gen_fbnetv3`` (``se_from_exp=False``, ``round_limit=0.95``) gives the same.
    """
    if not from_input:
        return make_divisible(mid // SE_REDUCTION, DIVISOR)
    se_ratio = 1 / SE_REDUCTION  # 0.25, exact
    se_ratio /= expand
    return get_divisible_by(int(mid * se_ratio), DIVISOR)


@dataclass(frozen=True)
class StageSpec:
    """Choices of one MBConv stage (official ``mbN`` config: ``c, d, k, t, s, se``)."""

    widths: tuple[int, ...]
    depths: tuple[int, ...]
    kernels: tuple[int, ...]
    expands: tuple[float, ...]
    stride: int
    se: bool


@dataclass(frozen=True)
class MobileNetConfig:
    """Hyperparameters of one elastic MobileNet space (one preset of ``mobilenet``)."""

    input_channels: int
    num_classes: int
    resolutions: tuple[int, ...]  # pixels (square)
    first_widths: tuple[int, ...]
    first_stride: int
    stages: tuple[StageSpec, ...]
    last_widths: tuple[int, ...]
    head_expand: int = 6  # final_expand_layer width = head_expand * width of the last stage
    act: str = "swish"
    dropout: float = 0.0  # probability before the classifier (standalone nets)
    bn_momentum: float = 0.1
    bn_eps: float = 1e-5
    resize_mode: str = "bicubic"  # F.interpolate mode when the input size != resolution
    #: keep conv weights in channels-last layout (faster CPU training for depthwise convs)
    channels_last: bool = False
    #: SE width from the block input (FBNetV3 ``less_se_channels``; :func:`se_channels`)
    se_from_input: bool = False
    #: activation between the two SE convs (AttentiveNAS ReLU; FBNetV3 the block's h-swish)
    se_act: str = "relu"
    #: bias in the first conv (the official FBNetV3 stem ``conv_k3_hs`` has one)
    stem_bias: bool = False

    def make_act(self) -> nn.Module:
        """A fresh activation module."""
        return ACTIVATIONS[self.act]()

    def make_se_act(self) -> nn.Module:
        """A fresh SE inner activation module."""
        return ACTIVATIONS[self.se_act]()


@dataclass(frozen=True)
class BlockPlan:
    """Geometry of one active MBConv block of an arch."""

    stage: int
    index: int  # position inside its stage
    c_in: int
    c_out: int
    kernel: int
    expand: float
    mid: int
    se_mid: int  # 0 without SE
    stride: int
    in_size: int
    out_size: int

    @property
    def has_bottleneck(self) -> bool:
        return self.expand != 1

    @property
    def shortcut_conv(self) -> bool:
        return self.c_in != self.c_out


@dataclass(frozen=True)
class NetPlan:
    """The resolved network of one arch: every layer's channels and spatial sizes."""

    resolution: int
    first_width: int
    first_size: int
    blocks: tuple[BlockPlan, ...]
    expand_width: int  # final_expand_layer output channels
    last_width: int  # feature_mix_layer output channels
    final_size: int  # spatial size entering the head

    @property
    def last_in(self) -> int:
        return self.blocks[-1].c_out if self.blocks else self.first_width


def plan_arch(cfg: MobileNetConfig, arch: dict[str, Any]) -> NetPlan:
    """Resolve a canonical arch dict into a :class:`NetPlan` (no validation)."""
    res = arch["resolution"]
    width, depth = arch["width"], arch["depth"]
    kernel, expand = arch["kernel_size"], arch["expand_ratio"]
    size = conv2d_out_size(res, 3, cfg.first_stride, 1)
    first_size = size
    c_in = width[0]
    blocks: list[BlockPlan] = []
    for s, spec in enumerate(cfg.stages):
        c_out, k, t = width[s + 1], kernel[s], expand[s]
        for j in range(depth[s]):
            stride = spec.stride if j == 0 else 1
            mid = mid_channels(c_in, t)
            out_size = conv2d_out_size(size, k, stride, k // 2)
            se_mid = se_channels(mid, t, cfg.se_from_input) if spec.se else 0
            blocks.append(BlockPlan(s, j, c_in, c_out, k, t, mid, se_mid, stride, size,
                                    out_size))
            c_in, size = c_out, out_size
    return NetPlan(res, width[0], first_size, tuple(blocks), cfg.head_expand * width[-2],
                   width[-1], size)


# --- standalone network -----------------------------------------------------------------------
class ConvBnAct(nn.Module):
    """conv (no bias unless ``bias``) + optional BN + optional activation (official
    ``ConvBnActLayer``)."""

    def __init__(self, cfg: MobileNetConfig, c_in: int, c_out: int, kernel: int, stride: int = 1,
                 groups: int = 1, use_bn: bool = True, act: bool = True,
                 bias: bool = False) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, groups=groups,
                              bias=bias)
        self.bn = nn.BatchNorm2d(c_out, eps=cfg.bn_eps, momentum=cfg.bn_momentum) \
            if use_bn else None
        self.act = cfg.make_act() if act else None

    def forward(self, x: Tensor) -> Tensor:
        x = self.conv(x)
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x


class SE(nn.Module):
    """Squeeze-and-excitation (official ``SELayer``; FBNet ``SEModule``): mean, 1x1 + ``act``
    (ReLU unless given), 1x1 + h-sigmoid, scale."""

    def __init__(self, channels: int, mid: int, act: nn.Module | None = None) -> None:
        super().__init__()
        self.reduce = nn.Conv2d(channels, mid, 1, bias=True)
        self.act = nn.ReLU() if act is None else act
        self.expand = nn.Conv2d(mid, channels, 1, bias=True)
        self.h_sigmoid = nn.Hardsigmoid()

    def forward(self, x: Tensor) -> Tensor:
        y = x.mean((2, 3), keepdim=True)
        y = self.h_sigmoid(self.expand(self.act(self.reduce(y))))
        return x * y


def _shortcut_pool(x: Tensor, stride: int) -> Tensor:
    """The official shortcut reduction: ``avg_pool2d(stride, padding=1 if odd size)``."""
    if stride == 1:
        return x
    return F.avg_pool2d(x, stride, padding=x.shape[-1] % 2)


def _drop_connect(x: Tensor, p: float) -> Tensor:
    """Per-sample drop path (official ``drop_connect``), training only."""
    keep = 1.0 - p
    mask = torch.floor(keep + torch.rand(x.shape[0], 1, 1, 1, dtype=x.dtype, device=x.device))
    return x / keep * mask


class MBBlock(nn.Module):
    """One standalone MBConv block with its residual (``MobileInvertedResidualBlock``)."""

    def __init__(self, cfg: MobileNetConfig, p: BlockPlan) -> None:
        super().__init__()
        self.plan = p
        self.inverted_bottleneck = (ConvBnAct(cfg, p.c_in, p.mid, 1) if p.has_bottleneck
                                    else None)
        self.depth_conv = ConvBnAct(cfg, p.mid, p.mid, p.kernel, p.stride, groups=p.mid)
        self.se = SE(p.mid, p.se_mid, cfg.make_se_act()) if p.se_mid else None
        self.point_linear = ConvBnAct(cfg, p.mid, p.c_out, 1, act=False)
        self.shortcut = nn.Conv2d(p.c_in, p.c_out, 1, bias=False) if p.shortcut_conv else None
        self.drop_connect_rate = 0.0

    def forward(self, x: Tensor) -> Tensor:
        res = _shortcut_pool(x, self.plan.stride)
        if self.shortcut is not None:
            res = self.shortcut(res)
        if self.inverted_bottleneck is not None:
            x = self.inverted_bottleneck(x)
        x = self.depth_conv(x)
        if self.se is not None:
            x = self.se(x)
        x = self.point_linear(x)
        if (self.drop_connect_rate > 0 and self.training and self.plan.stride == 1
                and not self.plan.shortcut_conv):
            x = _drop_connect(x, self.drop_connect_rate)
        return x + res


class MobileNet(nn.Module):
    """Standalone network of one arch (``AttentiveNasStaticModel``), ``forward(x) -> logits``.

    Args:
        cfg: the preset.
        plan: the resolved arch (:func:`plan_arch`).
        arch: the canonical arch dict, kept as ``self.arch``.
        generator: RNG of the weight initialisation (:func:`init_weights`).
    """

    def __init__(self, cfg: MobileNetConfig, plan: NetPlan, arch: dict[str, Any] | None = None,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.cfg, self.plan, self.arch = cfg, plan, arch
        self.resolution = plan.resolution
        self.first_conv = ConvBnAct(cfg, cfg.input_channels, plan.first_width, 3,
                                    cfg.first_stride, bias=cfg.stem_bias)
        self.blocks = nn.ModuleList([MBBlock(cfg, p) for p in plan.blocks])
        self.final_expand_layer = ConvBnAct(cfg, plan.last_in, plan.expand_width, 1)
        self.feature_mix_layer = ConvBnAct(cfg, plan.expand_width, plan.last_width, 1,
                                           use_bn=False)
        self.classifier = nn.Linear(plan.last_width, cfg.num_classes, bias=True)
        self.dropout_rate = cfg.dropout
        init_weights(self, generator)
        if cfg.channels_last:
            self.to(memory_format=torch.channels_last)

    def set_dropout_rate(self, dropout: float = 0.0, drop_connect: float = 0.0,
                         only_last_two_stages: bool = True) -> None:
        """Official ``set_dropout_rate``: dropout before the classifier; drop-connect rate
        ``drop_connect * i / n_blocks`` on block ``i`` (only the last two stages by default)."""
        self.dropout_rate = dropout
        last_two = {len(self.cfg.stages) - 1, len(self.cfg.stages) - 2}
        n = len(self.blocks)
        for i, block in enumerate(self.blocks):
            on = not only_last_two_stages or block.plan.stage in last_two
            block.drop_connect_rate = drop_connect * i / n if on else 0.0

    def compile_units(self) -> list[nn.Module]:
        """The blocks ``compile: blocks`` compiles (:mod:`nasrepro.training.fast`)."""
        return list(self.blocks)

    def forward(self, x: Tensor) -> Tensor:
        if x.shape[-1] != self.resolution or x.shape[-2] != self.resolution:
            x = F.interpolate(x, size=self.resolution, mode=self.cfg.resize_mode)
        x = self.first_conv(x)
        for block in self.blocks:
            x = block(x)
        x = self.final_expand_layer(x)
        x = x.mean((2, 3), keepdim=True)
        x = self.feature_mix_layer(x).flatten(1)
        if self.dropout_rate > 0:
            x = F.dropout(x, self.dropout_rate, self.training)
        return self.classifier(x)


# --- supernet ---------------------------------------------------------------------------------
class DynConv2d(nn.Conv2d):
    """A conv allocated for the widest choice, run on a prefix of its channels.

    Dense convs use ``weight[:out, :C_in]`` (and ``bias[:out]``); depthwise convs
    (``groups == in_channels``) use the first ``C_in`` filters centre-cropped to the active
    kernel (``kernel`` argument; padding ``kernel // 2``).
    """

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1,
                 depthwise: bool = False, bias: bool = False) -> None:
        super().__init__(in_channels, out_channels, kernel_size, stride, kernel_size // 2,
                         groups=in_channels if depthwise else 1, bias=bias)
        self.depthwise = depthwise

    def forward(self, x: Tensor, out: int | None = None,  # type: ignore[override]
                kernel: int | None = None) -> Tensor:
        c_in = x.shape[1]
        k_max = self.kernel_size[0]
        k = k_max if kernel is None else kernel
        if self.depthwise:
            lo = (k_max - k) // 2
            w = self.weight[:c_in, :, lo:lo + k, lo:lo + k]
            return F.conv2d(x, w, None, self.stride, k // 2, 1, c_in)
        out = self.out_channels if out is None else out
        w = self.weight[:out, :c_in]
        b = self.bias[:out] if self.bias is not None else None
        return F.conv2d(x, w, b, self.stride, self.padding, 1, 1)


class DynLinear(nn.Linear):
    """A linear layer run on a prefix of its input features."""

    def forward(self, x: Tensor) -> Tensor:  # type: ignore[override]
        return F.linear(x, self.weight[:, :x.shape[1]], self.bias)


class DynConvBnAct(nn.Module):
    """Elastic :class:`ConvBnAct` (official ``DynamicConvBnActLayer``)."""

    def __init__(self, cfg: MobileNetConfig, c_in: int, c_out: int, kernel: int, stride: int = 1,
                 depthwise: bool = False, use_bn: bool = True, act: bool = True,
                 bias: bool = False) -> None:
        super().__init__()
        self.conv = DynConv2d(c_in, c_out, kernel, stride, depthwise=depthwise, bias=bias)
        self.bn = SlicedBatchNorm2d(c_out, eps=cfg.bn_eps, momentum=cfg.bn_momentum) \
            if use_bn else None
        self.act = cfg.make_act() if act else None

    def forward(self, x: Tensor, out: int | None = None, kernel: int | None = None) -> Tensor:
        x = self.conv(x, out, kernel)
        if self.bn is not None:
            x = self.bn(x)
        if self.act is not None:
            x = self.act(x)
        return x


class DynSE(nn.Module):
    """Elastic SE (official ``DynamicSE``): hidden width ``mid`` (the block plan's
    :func:`se_channels`) on the first channels of its allocation."""

    def __init__(self, channels: int, mid: int, act: nn.Module | None = None) -> None:
        super().__init__()
        self.reduce = DynConv2d(channels, mid, 1, bias=True)
        self.act = nn.ReLU() if act is None else act
        self.expand = DynConv2d(mid, channels, 1, bias=True)
        self.h_sigmoid = nn.Hardsigmoid()

    def forward(self, x: Tensor, mid: int) -> Tensor:
        y = x.mean((2, 3), keepdim=True)
        y = self.act(self.reduce(y, mid))
        y = self.h_sigmoid(self.expand(y, x.shape[1]))
        return x * y


class DynMBBlock(nn.Module):
    """Elastic MBConv block + residual (``DynamicMBConvLayer`` + ``DynamicShortcutLayer``).

    Args:
        cfg: the preset.
        in_widths: input channel choices of the block.
        spec: its stage.
        stride: the block's stride.
        max_mid: allocated mid channels.
    """

    def __init__(self, cfg: MobileNetConfig, in_widths: Sequence[int], spec: StageSpec,
                 stride: int, max_mid: int) -> None:
        super().__init__()
        c_in, c_out = max(in_widths), max(spec.widths)
        self.stride = stride
        self.inverted_bottleneck = (DynConvBnAct(cfg, c_in, max_mid, 1)
                                    if any(t != 1 for t in spec.expands) else None)
        self.depth_conv = DynConvBnAct(cfg, max_mid, max_mid, max(spec.kernels), stride,
                                       depthwise=True)
        if cfg.se_from_input:
            max_se = max(se_channels(mid_channels(c, t), t, True)
                         for c in in_widths for t in spec.expands)
        else:
            max_se = max(se_channels(m) for m in range(1, max_mid + 1))
        self.se = DynSE(max_mid, max_se, cfg.make_se_act()) if spec.se else None
        self.point_linear = DynConvBnAct(cfg, max_mid, c_out, 1, act=False)
        needs_conv = any(a != b for a in in_widths for b in spec.widths)
        self.shortcut = DynConv2d(c_in, c_out, 1) if needs_conv else None
        self.drop_connect_rate = 0.0

    def forward(self, x: Tensor, p: BlockPlan) -> Tensor:
        res = _shortcut_pool(x, p.stride)
        if p.shortcut_conv:
            res = self.shortcut(res, p.c_out)
        if p.has_bottleneck:
            x = self.inverted_bottleneck(x, p.mid)
        x = self.depth_conv(x, kernel=p.kernel)
        if p.se_mid:
            x = self.se(x, p.se_mid)
        x = self.point_linear(x, p.c_out)
        if (self.drop_connect_rate > 0 and self.training and p.stride == 1
                and not p.shortcut_conv):
            x = _drop_connect(x, self.drop_connect_rate)
        return x + res


class MobileNetSupernet(nn.Module):
    """Elastic weight-sharing supernet (``AttentiveNasDynamicModel``), ``forward(x, arch)``.

    Args:
        cfg: the preset.
        validate: turns a user arch into the canonical dict (raises :class:`ArchError`);
            normally ``MobileNetSpace.validate``.
        generator: RNG of the weight initialisation.
    """

    def __init__(self, cfg: MobileNetConfig, validate: Callable[[Any], dict[str, Any]],
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.validate = validate
        self.first_conv = DynConvBnAct(cfg, cfg.input_channels, max(cfg.first_widths), 3,
                                       cfg.first_stride, bias=cfg.stem_bias)
        blocks: list[DynMBBlock] = []
        #: flat block indices of each stage (official ``block_group_info``)
        self.block_group_info: list[list[int]] = []
        in_widths: Sequence[int] = cfg.first_widths
        for spec in cfg.stages:
            group = []
            for j in range(max(spec.depths)):
                max_mid = max(mid_channels(c, t) for c in in_widths for t in spec.expands)
                group.append(len(blocks))
                blocks.append(DynMBBlock(cfg, in_widths, spec, spec.stride if j == 0 else 1,
                                         max_mid))
                in_widths = spec.widths
            self.block_group_info.append(group)
        self.blocks = nn.ModuleList(blocks)
        last_in = max(cfg.stages[-1].widths) if cfg.stages else max(cfg.first_widths)
        self.final_expand_layer = DynConvBnAct(cfg, last_in, cfg.head_expand * last_in, 1)
        self.feature_mix_layer = DynConvBnAct(cfg, cfg.head_expand * last_in,
                                              max(cfg.last_widths), 1, use_bn=False)
        self.classifier = DynLinear(max(cfg.last_widths), cfg.num_classes, bias=True)
        self.dropout_rate = 0.0
        init_weights(self, generator)
        if cfg.channels_last:
            self.to(memory_format=torch.channels_last)

    def plan(self, arch: Any) -> NetPlan:
        """The :class:`NetPlan` of a (validated) arch."""
        return plan_arch(self.cfg, self.validate(arch))

    def set_dropout_rate(self, dropout: float = 0.0, drop_connect: float = 0.0,
                         only_last_two_stages: bool = True) -> None:
        """Official ``set_dropout_rate``: dropout before the classifier; drop-connect rate
        ``drop_connect * i / n`` on flat block ``i`` of ``n`` allocated blocks (only the last
        two stages by default). The official training sets (0.2, 0.2) for the max subnet and
        (0, 0) for the others."""
        self.dropout_rate = dropout
        last_two = set(sum(self.block_group_info[-2:], []))
        n = len(self.blocks)
        for i, block in enumerate(self.blocks):
            on = not only_last_two_stages or i in last_two
            block.drop_connect_rate = drop_connect * i / n if on else 0.0

    def compile_units(self) -> list[nn.Module]:
        """The elastic blocks (``compile: blocks``: one compiled graph per block and
        :class:`BlockPlan`, i.e. per kernel, expansion and width choice it runs)."""
        return list(self.blocks)

    def forward(self, x: Tensor, arch: Any) -> Tensor:
        p = arch if isinstance(arch, NetPlan) else self.plan(arch)
        if x.shape[-1] != p.resolution or x.shape[-2] != p.resolution:
            x = F.interpolate(x, size=p.resolution, mode=self.cfg.resize_mode)
        x = self.first_conv(x, p.first_width)
        for b in p.blocks:
            x = self.blocks[self.block_group_info[b.stage][b.index]](x, b)
        x = self.final_expand_layer(x, p.expand_width)
        x = x.mean((2, 3), keepdim=True)
        x = self.feature_mix_layer(x, p.last_width).flatten(1)
        if self.dropout_rate > 0:
            x = F.dropout(x, self.dropout_rate, self.training)
        return self.classifier(x)


# --- initialisation and extraction ------------------------------------------------------------
def init_weights(model: nn.Module, generator: torch.Generator | None = None) -> None:
    """PyTorch's default initialisation (which the official code keeps), drawn from
    ``generator``, then the official ``zero_residual_block_bn_weights``: the ``point_linear``
    BN weight of every block is 0, so each block starts as its shortcut.

    Convs and linears: weight ``kaiming_uniform_(a=sqrt(5))``, bias ``U(-1/sqrt(fan_in),
    1/sqrt(fan_in))``; BN weight 1, bias 0.
    """
    default_init_(model, generator)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, MBBlock | DynMBBlock):
                m.point_linear.bn.weight.zero_()


def _copy_prefix(dst: Tensor, src: Tensor) -> None:
    """Copy the leading slice of ``src`` (centre crop on dims >= 2 of conv weights)."""
    idx = []
    for d, (n, m) in enumerate(zip(dst.shape, src.shape, strict=True)):
        lo = (m - n) // 2 if d >= 2 else 0
        idx.append(slice(lo, lo + n))
    dst.copy_(src[tuple(idx)])


def _copy_module(dst: nn.Module, src: nn.Module) -> None:
    """Copy every conv/linear/BN of ``src`` into the same-named module of ``dst``."""
    src_modules = dict(src.named_modules())
    for name, d in dst.named_modules():
        if not isinstance(d, nn.Conv2d | nn.Linear | nn.BatchNorm2d):
            continue
        s = src_modules[name]
        for attr in ("weight", "bias", "running_mean", "running_var"):
            t = getattr(d, attr, None)
            if t is not None:
                _copy_prefix(t, getattr(s, attr))
        if isinstance(d, nn.BatchNorm2d):
            d.num_batches_tracked.copy_(s.num_batches_tracked)


def extract_subnet(supernet: MobileNetSupernet, arch: Any) -> MobileNet:
    """The standalone net of ``arch`` with the supernet's sliced/cropped weights and BN stats.

    In eval mode its output equals ``supernet(x, arch)`` (official ``get_active_subnet``). The
    returned net is in the supernet's mode, on its device, with its dropout rate.
    """
    canon = supernet.validate(arch)
    plan = plan_arch(supernet.cfg, canon)
    sub = MobileNet(supernet.cfg, plan, arch=canon)
    with torch.no_grad():
        _copy_module(sub.first_conv, supernet.first_conv)
        for b, block in zip(plan.blocks, sub.blocks, strict=True):
            _copy_module(block, supernet.blocks[supernet.block_group_info[b.stage][b.index]])
        _copy_module(sub.final_expand_layer, supernet.final_expand_layer)
        _copy_module(sub.feature_mix_layer, supernet.feature_mix_layer)
        _copy_module(sub.classifier, supernet.classifier)
    sub.dropout_rate = supernet.dropout_rate
    sub.to(next(supernet.parameters()).device)
    sub.train(supernet.training)
    return sub
