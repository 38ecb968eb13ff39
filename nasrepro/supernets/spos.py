"""SPOS networks: the standalone ShuffleNetV2-OneShot net and the single-path supernet.

Guo et al. 2019 (Single Path One-Shot NAS), Sec. 3-4; layer for layer as the official code:
megvii-model/SinglePathOneShot ``src/Supernet/network.py`` (supernet: 4 choice blocks per
layer, BN ``affine=False``, only the chosen block runs) and ``src/Evaluation/*/network.py`` /
ShuffleNet-Series ``OneShot/network.py`` (standalone: affine BN, ``mid = int(oup // 2 *
scale)``). Module names follow the official ones (``first_conv``, ``features``,
``conv_last``, ``classifier``), so state dicts line up.

Network: stem conv3x3 (``stem_stride``) + BN + ReLU; stages of ShuffleNetV2 choice blocks,
the first block of each stage stride 2; head conv1x1 + BN + ReLU, global average pool,
dropout, linear (no bias).

Channel search (Sec. 3.3): the supernet allocates each block's mid channels for the largest
scale and runs a chosen scale on the first ``mid`` channels only (sliced weights and BN
running stats). :func:`extract_subnet` copies the sliced weights into the standalone net.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor, nn

from nasrepro.errors import ArchError
from nasrepro.metrics.cost import conv2d_out_size
from nasrepro.supernets.shufflenet_blocks import ShuffleChoiceBlock, init_weights

__all__ = ["LayerSpec", "SposConfig", "SposNet", "SposSupernet", "extract_subnet"]


@dataclass(frozen=True)
class LayerSpec:
    """Geometry of one choice layer.

    Attributes:
        inp: branch input channels (full input if stride 2, half of it if stride 1).
        oup: block output channels.
        stride: 1 or 2.
        base_mid: ``oup // 2``; mid channels are ``int(base_mid * scale)``.
        in_size: spatial size of the block input.
        out_size: spatial size of the block output.
    """

    inp: int
    oup: int
    stride: int
    base_mid: int
    in_size: int
    out_size: int


@dataclass(frozen=True)
class SposConfig:
    """Hyperparameters of the ShuffleNetV2-OneShot family (one preset of ``spos``)."""

    input_channels: int
    input_size: int  # pixels (square)
    num_classes: int
    stem_channels: int
    stem_stride: int
    stage_repeats: tuple[int, ...]
    stage_out_channels: tuple[int, ...]
    last_channels: int
    dropout: float  # probability before the classifier
    channel_scales: tuple[float, ...]
    #: keep conv weights in channels-last layout (about 2x faster training on CPU/oneDNN
    #: for these depthwise-heavy nets); numerics are unchanged up to float rounding
    channels_last: bool = False

    @property
    def stem_out_size(self) -> int:
        """Spatial size after the stem (conv3x3, padding 1)."""
        return conv2d_out_size(self.input_size, 3, self.stem_stride, 1)

    @property
    def layers(self) -> list[LayerSpec]:
        """One :class:`LayerSpec` per choice layer, in order."""
        out: list[LayerSpec] = []
        channels, size = self.stem_channels, self.stem_out_size
        for repeats, oup in zip(self.stage_repeats, self.stage_out_channels, strict=True):
            for i in range(repeats):
                stride = 2 if i == 0 else 1
                inp = channels if stride == 2 else channels // 2
                out_size = conv2d_out_size(size, 3, stride, 1)  # same for k = 3, 5, 7
                out.append(LayerSpec(inp, oup, stride, oup // 2, size, out_size))
                channels, size = oup, out_size
        return out

    @property
    def final_size(self) -> int:
        """Spatial size entering the head."""
        layers = self.layers
        return layers[-1].out_size if layers else self.stem_out_size

    def mid(self, layer: LayerSpec, scale_idx: int) -> int:
        """Mid channels of ``layer`` at scale index ``scale_idx`` (official formula)."""
        return int(layer.base_mid * self.channel_scales[scale_idx])


def _stem(cfg: SposConfig, affine: bool) -> nn.Sequential:
    return nn.Sequential(
        nn.Conv2d(cfg.input_channels, cfg.stem_channels, 3, cfg.stem_stride, 1, bias=False),
        nn.BatchNorm2d(cfg.stem_channels, affine=affine),
        nn.ReLU(inplace=True),
    )


def _head(cfg: SposConfig, affine: bool) -> tuple[nn.Sequential, nn.Sequential]:
    last_in = cfg.stage_out_channels[-1] if cfg.stage_out_channels else cfg.stem_channels
    conv_last = nn.Sequential(
        nn.Conv2d(last_in, cfg.last_channels, 1, 1, 0, bias=False),
        nn.BatchNorm2d(cfg.last_channels, affine=affine),
        nn.ReLU(inplace=True),
    )
    classifier = nn.Sequential(nn.Linear(cfg.last_channels, cfg.num_classes, bias=False))
    return conv_last, classifier


class SposNet(nn.Module):
    """Standalone network of one arch (affine BN), ``forward(x) -> logits``.

    Args:
        cfg: the preset.
        blocks: block choice (0..3) per layer.
        mids: mid channels per layer.
        arch: the canonical arch dict, kept as ``self.arch`` for reference.
        generator: RNG for the official weight initialisation.
    """

    def __init__(self, cfg: SposConfig, blocks: Sequence[int], mids: Sequence[int],
                 arch: dict[str, Any] | None = None,
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        layers = cfg.layers
        if not len(blocks) == len(mids) == len(layers):
            raise ArchError(f"arch has {len(blocks)} blocks / {len(mids)} mids, the preset has "
                            f"{len(layers)} layers; give one entry per layer")
        self.cfg = cfg
        self.arch = arch
        self.first_conv = _stem(cfg, affine=True)
        self.features = nn.Sequential(*[
            ShuffleChoiceBlock(b, spec.inp, spec.oup, m, spec.stride, affine=True)
            for spec, b, m in zip(layers, blocks, mids, strict=True)
        ])
        self.conv_last, self.classifier = _head(cfg, affine=True)
        self.globalpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(cfg.dropout)
        init_weights(self, generator)
        if cfg.channels_last:
            self.to(memory_format=torch.channels_last)

    def compile_units(self) -> list[nn.Module]:
        """The blocks ``compile: blocks`` compiles (:mod:`nasrepro.training.fast`)."""
        return list(self.features)

    def forward(self, x: Tensor) -> Tensor:
        x = self.first_conv(x)
        x = self.features(x)
        x = self.conv_last(x)
        x = self.globalpool(x).flatten(1)
        x = self.dropout(x)
        return self.classifier(x)


class SposSupernet(nn.Module):
    """Single-path weight-sharing supernet, ``forward(x, arch) -> logits``.

    Every layer holds the 4 choice blocks (BN ``affine=False``, as the official supernet),
    each allocated with ``max_mids[i]`` mid channels; a forward pass runs only the chosen
    block of each layer, on the first ``mid`` channels of the chosen scale.

    Args:
        cfg: the preset.
        max_mids: allocated mid channels per layer.
        validate: turns a user arch into the canonical ``{"blocks", "channels"}`` dict
            (raises :class:`ArchError`); normally ``SposSpace.validate``.
        generator: RNG for the official weight initialisation.
    """

    def __init__(self, cfg: SposConfig, max_mids: Sequence[int],
                 validate: Callable[[Any], dict[str, Any]],
                 generator: torch.Generator | None = None) -> None:
        super().__init__()
        self.cfg = cfg
        self.validate = validate
        self.max_mids = [int(m) for m in max_mids]
        self.layers = layers = cfg.layers
        if len(self.max_mids) != len(layers):
            raise ValueError("max_mids needs one entry per layer")
        self.first_conv = _stem(cfg, affine=False)
        self.features = nn.ModuleList([
            nn.ModuleList([
                ShuffleChoiceBlock(kind, spec.inp, spec.oup, m, spec.stride,
                                   affine=False, sliceable=True)
                for kind in range(4)
            ])
            for spec, m in zip(layers, self.max_mids, strict=True)
        ])
        self.conv_last, self.classifier = _head(cfg, affine=False)
        self.globalpool = nn.AdaptiveAvgPool2d(1)
        self.dropout = nn.Dropout(cfg.dropout)
        init_weights(self, generator)
        if cfg.channels_last:
            self.to(memory_format=torch.channels_last)

    def path(self, arch: Any) -> list[tuple[int, int]]:
        """``[(block, mid), ...]`` of a (validated) arch; ArchError if a scale is too wide."""
        arch = self.validate(arch)
        out = []
        for i, (spec, b, c) in enumerate(
                zip(self.layers, arch["blocks"], arch["channels"], strict=True)):
            mid = self.cfg.mid(spec, c)
            if mid > self.max_mids[i]:
                raise ArchError(
                    f"layer {i}: channel scale {self.cfg.channel_scales[c]} needs {mid} mid "
                    f"channels but the supernet allocated {self.max_mids[i]}; build the "
                    f"supernet with search_channels=True to search channels"
                )
            out.append((b, mid))
        return out

    def compile_units(self) -> list[nn.Module]:
        """Every choice block of every layer (``compile: blocks``: one compiled graph per block
        and mid-channel choice, reused by every path that takes it)."""
        return [block for choices in self.features for block in choices]

    def forward(self, x: Tensor, arch: Any) -> Tensor:
        x = self.first_conv(x)
        for choices, (b, mid) in zip(self.features, self.path(arch), strict=True):
            x = choices[b](x, mid)
        x = self.conv_last(x)
        x = self.globalpool(x).flatten(1)
        x = self.dropout(x)
        return self.classifier(x)


def _copy_sliced(dst: Tensor, src: Tensor) -> None:
    dst.copy_(src[tuple(slice(0, n) for n in dst.shape)])


def _copy_module(dst: nn.Module, src: nn.Module) -> None:
    """Copy the leading slice of every conv/BN/linear of ``src`` into ``dst`` (same layout)."""
    src_modules = dict(src.named_modules())
    for name, d in dst.named_modules():
        s = src_modules[name]
        if isinstance(d, nn.Conv2d | nn.Linear):
            _copy_sliced(d.weight, s.weight)
            if d.bias is not None:
                if s.bias is not None:
                    _copy_sliced(d.bias, s.bias)
                else:
                    d.bias.zero_()
        elif isinstance(d, nn.BatchNorm2d):
            if d.weight is not None:
                if s.weight is not None:
                    _copy_sliced(d.weight, s.weight)
                    _copy_sliced(d.bias, s.bias)
                else:  # affine=False supernet BN is the identity affine map
                    d.weight.fill_(1.0)
                    d.bias.zero_()
            if d.running_mean is not None and s.running_mean is not None:
                _copy_sliced(d.running_mean, s.running_mean)
                _copy_sliced(d.running_var, s.running_var)
                d.num_batches_tracked.copy_(s.num_batches_tracked)


def extract_subnet(supernet: SposSupernet, arch: Any) -> SposNet:
    """The standalone net of ``arch`` with the supernet's (sliced) weights and BN stats.

    In eval mode its output equals ``supernet(x, arch)``: the supernet's affine-free BN
    becomes affine BN with weight 1 and bias 0. The returned net is in the supernet's mode.
    """
    canon = supernet.validate(arch)
    path = supernet.path(canon)
    sub = SposNet(supernet.cfg, [b for b, _ in path], [m for _, m in path], arch=canon)
    with torch.no_grad():
        _copy_module(sub.first_conv, supernet.first_conv)
        for i, (b, _) in enumerate(path):
            _copy_module(sub.features[i], supernet.features[i][b])
        _copy_module(sub.conv_last, supernet.conv_last)
        _copy_module(sub.classifier, supernet.classifier)
    param = next(supernet.parameters())
    sub.to(param.device)
    sub.train(supernet.training)
    return sub
