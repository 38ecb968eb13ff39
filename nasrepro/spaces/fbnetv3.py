"""The FBNetV3 architecture space (Dai et al. 2021, Sec. 4 / search-space table; PAPERS.md
section 4), on the MobileNet block and cost code of :mod:`nasrepro.spaces.mobilenet`.

Space ``fbnetv3`` subclasses :class:`~nasrepro.spaces.mobilenet.MobileNetSpace` (same arch
format: ``resolution``, ``width`` = [first conv, one per stage, last conv], ``depth``,
``kernel_size``, ``expand_ratio`` per stage) and adds what FBNetV3's training recipes need of a
standalone network: :meth:`FBNetV3Space.build` takes the recipe's ``dropout`` (before the
classifier, set at build time) and returns a net whose ``drop_path_prob`` attribute is the
stochastic-depth ratio that the shared training loop sets every epoch
(``TrainConfig.drop_path``); block ``i`` of ``n`` drops its residual branch with probability
``drop_path_prob * i / n`` (EfficientNet/FBNetV3 convention; only identity-shortcut blocks,
as the official ``drop_connect``).

Presets:

* ``imagenet``: the FBNetV3 layout of facebookresearch/mobile-vision
  (``fbnet_modeldef_cls_fbnetv3.py``): conv3x3 s2 stem, then 12 MBConv "stages" = the official
  sub-stages (the first block of each down-sampling stage has its own expansion/kernel), h-swish,
  SE (h-sigmoid) where the official blocks have ``sehsig``, head 1x1 to 6 x c + pool + 1x1 to
  1984 + FC. The choices per stage span the published FBNetV3-A..G (resolution 224-320, widths
  in steps of 8, depths, kernels {3, 5}, expansions); the paper's Table (search space) ranges
  are reproduced as far as the published models pin them down. Reference archs A..G and their
  published MACs: :mod:`nasrepro.spaces.fbnetv3_archs`.
* ``small`` / ``tiny`` / ``tiny-rgb`` / ``cifar10``: the ``mobilenet`` small (Fashion-MNIST),
  tiny (digits), tiny-rgb (the imagenet profile's end-to-end test) and cifar10 presets with
  the FBNetV3 SE and stem below (SE inner activation = their ``act``).

Every preset builds its SE and stem as the official FBNetV3 builder (facebookresearch/mobile-vision
``mobile_cv/arch/fbnet_v2/``; settings of :class:`~nasrepro.supernets.mobilenet.MobileNetConfig`):
``se_from_input`` -- SE width ``get_divisible_by(int(mid * 0.25 / t), 8)``, a quarter of the
block input (``irf_block.py`` ``IRFBlock.__init__`` with ``less_se_channels`` from ``IRF_CFG`` of
``fbnet_modeldef_cls_fbnetv3.py``), where AttentiveNAS takes a quarter of the expanded width;
``se_act`` -- the block's activation between the SE convs (``IRFBlock`` hands its
``relu_args``, h-swish for ``ir_k*_sehsig_hs``, to ``basic_blocks.build_se`` / ``SEModule``),
gate h-sigmoid (``se_hsig``); ``stem_bias`` -- the ``conv_k3_hs`` stem conv keeps
``nn.Conv2d``'s bias (``blocks_factory.py``, ``ConvBNRelu`` without ``bias=False``).

``imagenet`` networks follow the official blocks (setting ``official_blocks``): a residual only
where the official ``IRFBlock`` has one (stride 1 and equal channels; no shortcut conv, no pooled
shortcut). Some published models shrink one or two feature maps by a pixel with a smaller
padding of a stride-2 depthwise conv (``dw_args padding``, "for latency optimization"); the
arch key ``shrink_stages`` (optional, ``fbnetv3`` space only, omitted when empty) lists the
stages whose first depthwise conv uses padding ``k // 2 - 1``. With these, ``nasrepro cost``
gives the official builder's exact params and MACs of FBNetV3-A..G (8.60M .. 16.62M params,
as published; MACs 0.2-0.4 % below the published MFLOPs, which count a little more than
conv + linear MACs). Until the SE width followed ``less_se_channels`` (it was
``make_divisible(mid // 4, 8)``), params were 23-46 % too high (FBNetV3-A 10.6M, G 24.3M).
"""

from __future__ import annotations

import copy
import dataclasses
import json
from typing import Any

import torch
from torch import nn

from nasrepro.metrics.cost import conv2d_macs, conv2d_out_size, conv2d_params
from nasrepro.spaces.base import Arch, register_space
from nasrepro.spaces.mobilenet import PRESETS as MOBILENET_PRESETS
from nasrepro.spaces.mobilenet import MobileNetSpace
from nasrepro.supernets.mobilenet import BlockPlan, MBBlock, MobileNet, NetPlan, plan_arch

#: extra settings of this space (beyond the mobilenet ones)
EXTRA_SETTINGS = {"official_blocks": False}


def _stage(c: list[int], d: list[int], k: list[int], t: list[float], s: int,
           se: bool) -> dict[str, Any]:
    return {"c": c, "d": d, "k": k, "t": t, "s": s, "se": se}


_K = [3, 5]
PRESETS: dict[str, dict[str, Any]] = {
    "imagenet": {
        "input_channels": 3,
        "num_classes": 1000,
        "resolutions": list(range(224, 321, 8)),  # pixels
        "first_conv": {"c": [16, 24, 32], "s": 2},
        "stages": [
            _stage([16, 24], [1, 2, 3], _K, [1], 1, False),                     # 112 px
            _stage([24, 32, 40], [1], _K, [4, 5], 2, False),                    # 56 px
            _stage([24, 32, 40], [2, 3, 4, 5], _K, [2, 3], 1, False),
            _stage([40, 48, 56], [1], _K, [4, 5], 2, True),                     # 28 px
            _stage([40, 48, 56], [3, 4, 5], _K, [2, 3], 1, True),
            _stage([72, 80, 88, 96, 104], [1], _K, [4, 5], 2, False),           # 14 px
            _stage([72, 80, 88, 96, 104], [3, 4, 5, 6], _K, [3], 1, False),
            _stage([120, 128, 136, 144, 152, 160], [1], _K, [4, 5], 1, True),
            _stage([120, 128, 136, 144, 152, 160], [5, 6, 7, 8, 9], _K, [3], 1, True),
            _stage([184, 200, 208, 216, 232, 248, 264], [1], _K, [5, 6], 2, True),  # 7 px
            _stage([184, 200, 208, 216, 232, 248, 264], [5, 6, 7], _K, [4, 5], 1, True),
            _stage([216, 224, 240, 256, 272, 288], [1, 2], _K, [6], 1, True),
        ],
        "last_conv": {"c": [1984]},
        "head_expand": 6,
        "act": "h_swish",
        "dropout": 0.0,
        "bn_momentum": 0.1,
        "bn_eps": 1e-5,
        "resize_mode": "bicubic",
        "channels_last": False,
        "se_from_input": True,  # official less_se_channels
        "se_act": "h_swish",  # the block's activation
        "stem_bias": True,
        "official_blocks": True,
    },
}


def _fbnet_se_and_stem(preset: dict[str, Any]) -> dict[str, Any]:
    """A mobilenet preset with the official FBNetV3 SE (width from the block input, inner
    activation = the block's) and stem bias."""
    return {**copy.deepcopy(preset), "se_from_input": True, "se_act": preset["act"],
            "stem_bias": True}


PRESETS["small"] = _fbnet_se_and_stem(MOBILENET_PRESETS["small"])
PRESETS["tiny"] = _fbnet_se_and_stem(MOBILENET_PRESETS["tiny"])
PRESETS["tiny-rgb"] = _fbnet_se_and_stem(MOBILENET_PRESETS["tiny-rgb"])  # imagenet e2e test
if "cifar10" in MOBILENET_PRESETS:  # CIFAR-10 (GPU profile)
    PRESETS["cifar10"] = _fbnet_se_and_stem(MOBILENET_PRESETS["cifar10"])


class OfficialMBBlock(MBBlock):
    """MBConv block with the official FBNet residual rule: identity only, and only where the
    stride is 1 and the channels match (no shortcut conv)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.plan
        if p.stride == 1 and not p.shortcut_conv:
            return super().forward(x)
        if self.inverted_bottleneck is not None:
            x = self.inverted_bottleneck(x)
        x = self.depth_conv(x)
        if self.se is not None:
            x = self.se(x)
        return self.point_linear(x)


class FBNetV3Net(MobileNet):
    """A standalone MobileNet whose ``drop_path_prob`` sets per-block stochastic depth."""

    @property
    def drop_path_prob(self) -> float:
        """Stochastic-depth ratio (block ``i`` of ``n`` uses ``ratio * i / n``)."""
        return float(self.__dict__.get("_drop_path_prob", 0.0))

    @drop_path_prob.setter
    def drop_path_prob(self, p: float) -> None:
        self.__dict__["_drop_path_prob"] = float(p)
        n = len(self.blocks)
        for i, block in enumerate(self.blocks):
            block.drop_connect_rate = float(p) * i / n


@register_space("fbnetv3", presets=PRESETS)
class FBNetV3Space(MobileNetSpace):
    """MobileNet-style FBNetV3 space whose nets honour the recipe's dropout and drop path.

    Extra setting ``official_blocks`` (bool): official FBNet residuals (see the module
    docstring); extra optional arch key ``shrink_stages``.
    """

    def __init__(self, preset: str, **settings: Any) -> None:
        extra = {k: settings.pop(k, v) for k, v in EXTRA_SETTINGS.items()}
        super().__init__(preset, **settings)
        if not isinstance(extra["official_blocks"], bool):
            raise self._fail(f"official_blocks={extra['official_blocks']!r} must be true/false")
        self.official_blocks = extra["official_blocks"]
        self.settings = {**settings, **extra}
        self._fb_block_cache: dict[tuple, tuple[int, int]] = {}

    def validate(self, arch: Any) -> Arch:
        """The mobilenet canonical arch, plus ``shrink_stages`` (sorted) when non-empty."""
        if isinstance(arch, str | bytes):
            try:
                arch = json.loads(arch)
            except ValueError as exc:
                raise self._arch_error(f"cannot parse JSON ({exc})") from None
        if not isinstance(arch, dict) or "shrink_stages" not in arch:
            return super().validate(arch)
        shrink = arch["shrink_stages"]
        out = super().validate({k: v for k, v in arch.items() if k != "shrink_stages"})
        if (not isinstance(shrink, list | tuple)
                or any(not isinstance(i, int) or isinstance(i, bool) for i in shrink)
                or len(set(shrink)) != len(shrink)):
            raise self._arch_error(f"'shrink_stages' = {shrink!r} must be a list of distinct "
                                   f"stage indices")
        for i in shrink:
            if not 0 <= i < self.num_stages or self.cfg.stages[i].stride != 2:
                raise self._arch_error(f"'shrink_stages' entry {i} is not a stride-2 stage")
        if shrink:
            out["shrink_stages"] = sorted(shrink)
        return out

    def plan(self, arch: Arch) -> NetPlan:
        """Layer geometry; ``shrink_stages`` first blocks use depthwise padding ``k//2 - 1``."""
        a = self.validate(arch)
        p = plan_arch(self.cfg, a)
        shrink = set(a.get("shrink_stages", ()))
        if not shrink:
            return p
        blocks: list[BlockPlan] = []
        size = p.first_size
        for b in p.blocks:
            pad = b.kernel // 2 - (1 if b.index == 0 and b.stage in shrink else 0)
            out = conv2d_out_size(size, b.kernel, b.stride, pad)
            blocks.append(dataclasses.replace(b, in_size=size, out_size=out))
            size = out
        return dataclasses.replace(p, blocks=tuple(blocks), final_size=size)

    def _block_cost(self, b: BlockPlan) -> tuple[int, int]:
        # cached with the output size in the key (shrunk blocks differ only there)
        key = (b.c_in, b.c_out, b.kernel, b.mid, b.se_mid, b.stride, b.in_size, b.out_size)
        hit = self._fb_block_cache.get(key)
        if hit is not None:
            return hit
        parent_key = key[:-1]
        self._block_cache.pop(parent_key, None)
        macs, params = super()._block_cost(b)
        self._block_cache.pop(parent_key, None)
        if self.official_blocks and b.shortcut_conv:  # no shortcut conv in official blocks
            macs -= conv2d_macs(b.c_in, b.c_out, 1, b.out_size)
            params -= conv2d_params(b.c_in, b.c_out, 1)
        self._fb_block_cache[key] = (macs, params)
        return macs, params

    def build(self, arch: Any, generator: torch.Generator | None = None,
              dropout: float | None = None) -> nn.Module:
        """Standalone :class:`FBNetV3Net` of ``arch``.

        Args:
            arch: the arch dict.
            generator: RNG of the weight initialisation.
            dropout: dropout before the classifier (the recipe's ``dropout``); ``None`` keeps
                the preset's.
        """
        a = self.validate(arch)
        plan = self.plan(a)
        net = FBNetV3Net(self.cfg, plan, arch=a, generator=generator)
        shrink = set(a.get("shrink_stages", ()))
        for block in net.blocks:
            b = block.plan
            if b.index == 0 and b.stage in shrink:
                pad = b.kernel // 2 - 1
                block.depth_conv.conv.padding = (pad, pad)
            if self.official_blocks:
                block.__class__ = OfficialMBBlock
                block.shortcut = None
        if dropout is not None:
            net.dropout_rate = float(dropout)
        return net
