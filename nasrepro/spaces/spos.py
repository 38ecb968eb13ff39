"""The SPOS search space: ShuffleNetV2 choice blocks x channel scales (Guo et al. 2019).

Space ``spos`` (SPOS Sec. 4, Table 3/4): each of the ``n = sum(stage_repeats)`` choice layers
picks one of 4 blocks (0 = Shuffle 3x3, 1 = Shuffle 5x5, 2 = Shuffle 7x7, 3 = Xception) and,
with channel search, one of 8 mid-channel scales ``[0.2, 0.4, ..., 1.6]`` of ``oup // 2``.

Arch format (DESIGN.md): ``{"blocks": [n ints in 0..3], "channels": [n ints indexing
channel_scales]}``; ``channels`` may be omitted (scale 1.0 everywhere). :meth:`validate`
returns the canonical form, which always has ``channels``, so ``arch_id`` is stable.

Presets:

* ``imagenet``: the paper's network (3x224x224, 1000 classes, stem 16 s2, repeats
  [4, 4, 8, 4], widths [64, 160, 320, 640], head 1024, dropout 0.1), layer for layer as the
  official code; block search only by default (``search_channels=True`` for Table 4).
* ``cifar10``: the paper's widths and depths on 3x32x32, 10 classes, stem stride 1 (stages
  at 16, 8, 4, 2 pixels), for the one-GPU profile.
* ``small``: Fashion-MNIST (1x28x28, 10 classes) on a 2-core CPU: same 4 stride-2 stages,
  repeats [2, 2, 4, 2] (10 layers), widths [16, 32, 64, 128], stem 8 s1 (stages at 14, 7,
  4, 2 pixels), head 256; about 0.75-1.24 M MACs, ~2000 img/s training (batch 256, 2
  threads, channels-last).
* ``tiny``: scikit-learn digits (1x8x8, 10 classes): repeats [1, 1, 2, 1], widths
  [16, 32, 48, 64], stem 8 s1, head 64; the test suite trains on it.
* ``tiny-rgb``: ``tiny`` on 3x16x16 images: the imagenet profile's end-to-end test on a
  generated ImageNet-style folder (10 classes, ``data.image_size`` 16).

Cost (:meth:`SposSpace.cost`) is analytic from per-layer tables built with the primitives of
:mod:`nasrepro.metrics.cost` (MACs of conv + linear, params of the standalone affine-BN net)
and is checked against ``FlopCounterMode`` on the built nets in the tests.
"""

from __future__ import annotations

import json
import random
from numbers import Integral
from typing import Any

import torch
from torch import nn

from nasrepro.errors import ArchError
from nasrepro.metrics.cost import (
    bn_params,
    conv2d_macs,
    conv2d_params,
    linear_macs,
    linear_params,
)
from nasrepro.spaces.base import Arch, Cost, SearchSpace, register_space
from nasrepro.supernets.shufflenet_blocks import BLOCK_KERNELS, BLOCK_NAMES
from nasrepro.supernets.spos import LayerSpec, SposConfig, SposNet, SposSupernet, extract_subnet

#: the official channel-scale list (ShuffleNet-Series OneShot/network.py)
CHANNEL_SCALES: tuple[float, ...] = (0.2, 0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6)
NUM_BLOCKS = len(BLOCK_NAMES)

_COMMON: dict[str, Any] = {
    "channel_scales": list(CHANNEL_SCALES),
    "search_blocks": True,
    "search_channels": False,
    "fixed_block": 0,  # block used in every layer when search_blocks is False
}

PRESETS: dict[str, dict[str, Any]] = {
    "imagenet": {
        "input_channels": 3,
        "input_size": 224,  # pixels
        "num_classes": 1000,
        "stem_channels": 16,
        "stem_stride": 2,
        "stage_repeats": [4, 4, 8, 4],
        "stage_out_channels": [64, 160, 320, 640],
        "last_channels": 1024,
        "dropout": 0.1,  # probability
        "channels_last": False,
        **_COMMON,
    },
    "cifar10": {
        "input_channels": 3,
        "input_size": 32,  # pixels
        "num_classes": 10,
        "stem_channels": 16,
        "stem_stride": 1,
        "stage_repeats": [4, 4, 8, 4],
        "stage_out_channels": [64, 160, 320, 640],
        "last_channels": 1024,
        "dropout": 0.1,  # probability
        "channels_last": False,
        **_COMMON,
    },
    "small": {
        "input_channels": 1,
        "input_size": 28,  # pixels
        "num_classes": 10,
        "stem_channels": 8,
        "stem_stride": 1,
        "stage_repeats": [2, 2, 4, 2],
        "stage_out_channels": [16, 32, 64, 128],
        "last_channels": 256,
        "dropout": 0.1,  # probability
        "channels_last": True,
        **_COMMON,
    },
    "tiny": {
        "input_channels": 1,
        "input_size": 8,  # pixels
        "num_classes": 10,
        "stem_channels": 8,
        "stem_stride": 1,
        "stage_repeats": [1, 1, 2, 1],
        "stage_out_channels": [16, 32, 48, 64],
        "last_channels": 64,
        "dropout": 0.1,  # probability
        "channels_last": True,
        **_COMMON,
    },
}

#: the tiny net on small RGB images: the imagenet profile's end-to-end test on a generated folder
PRESETS["tiny-rgb"] = {**PRESETS["tiny"], "input_channels": 3, "input_size": 16}

_INT_KEYS = ("input_channels", "input_size", "num_classes", "stem_channels", "stem_stride",
             "last_channels", "fixed_block")
_BOOL_KEYS = ("search_blocks", "search_channels", "channels_last")
_KNOWN_KEYS = frozenset(PRESETS["imagenet"])


def _is_int(v: Any) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


@register_space("spos", presets=PRESETS)
class SposSpace(SearchSpace):
    """SPOS block (and channel) search space over ShuffleNetV2-OneShot networks.

    Settings (all in the preset, overridable through ``get_space(..., key=value)``):
    ``input_channels``, ``input_size``, ``num_classes``, ``stem_channels``, ``stem_stride``,
    ``stage_repeats``, ``stage_out_channels``, ``last_channels``, ``dropout``,
    ``channel_scales``, ``search_blocks`` (bool), ``search_channels`` (bool), ``fixed_block``
    (the block of every layer when blocks are not searched), ``channels_last`` (bool: conv
    weights in channels-last layout, about 2x faster CPU training; on in the CPU presets).

    A gene that is not searched is never resampled by :meth:`sample`, :meth:`mutate` or
    :meth:`crossover`: sampling gives its default (``fixed_block`` / the index of scale 1.0),
    mutation and crossover keep the value of the (first) parent.
    """

    def __init__(self, preset: str, **settings: Any) -> None:
        super().__init__(preset, **settings)
        self._check_settings(settings)
        s = settings
        self.cfg = SposConfig(
            input_channels=int(s["input_channels"]),
            input_size=int(s["input_size"]),
            num_classes=int(s["num_classes"]),
            stem_channels=int(s["stem_channels"]),
            stem_stride=int(s["stem_stride"]),
            stage_repeats=tuple(int(r) for r in s["stage_repeats"]),
            stage_out_channels=tuple(int(c) for c in s["stage_out_channels"]),
            last_channels=int(s["last_channels"]),
            dropout=float(s["dropout"]),
            channel_scales=tuple(float(x) for x in s["channel_scales"]),
            channels_last=bool(s["channels_last"]),
        )
        self.search_blocks = bool(s["search_blocks"])
        self.search_channels = bool(s["search_channels"])
        self.fixed_block = int(s["fixed_block"])
        self.layers: list[LayerSpec] = self.cfg.layers
        self.num_layers = len(self.layers)
        self.num_scales = len(self.cfg.channel_scales)
        self.default_channel = self.cfg.channel_scales.index(1.0)
        self._check_geometry()
        self._build_cost_tables()

    # --- settings -------------------------------------------------------------------------

    def _check_settings(self, s: dict[str, Any]) -> None:
        self._check_setting_keys(s, _KNOWN_KEYS)
        for k in _INT_KEYS:
            if not _is_int(s[k]) or (k != "fixed_block" and s[k] <= 0):
                raise self._fail(f"setting {k}={s[k]!r} must be a positive int")
        for k in _BOOL_KEYS:
            if not isinstance(s[k], bool):
                raise self._fail(f"setting {k}={s[k]!r} must be true or false")
        if not 0 <= s["fixed_block"] < NUM_BLOCKS:
            raise self._fail(f"fixed_block={s['fixed_block']!r} must be in 0..{NUM_BLOCKS - 1}")
        if s["stem_stride"] not in (1, 2):
            raise self._fail(f"stem_stride={s['stem_stride']!r} must be 1 or 2")
        for k in ("stage_repeats", "stage_out_channels"):
            v = s[k]
            if (not isinstance(v, list | tuple) or not v
                    or not all(_is_int(x) and x > 0 for x in v)):
                raise self._fail(f"setting {k}={v!r} must be a non-empty list of positive ints")
        if len(s["stage_repeats"]) != len(s["stage_out_channels"]):
            raise self._fail("stage_repeats and stage_out_channels must have the same length")
        scales = s["channel_scales"]
        if (not isinstance(scales, list | tuple) or not scales
                or not all(isinstance(x, int | float) and not isinstance(x, bool) and x > 0
                           for x in scales)):
            raise self._fail(f"channel_scales={scales!r} must be a list of positive numbers")
        if 1.0 not in [float(x) for x in scales]:
            raise self._fail(f"channel_scales={scales!r} must contain 1.0 (the default scale)")
        if not isinstance(s["dropout"], int | float) or not 0 <= s["dropout"] < 1:
            raise self._fail(f"dropout={s['dropout']!r} must be a probability in [0, 1)")

    def _check_geometry(self) -> None:
        for c in self.cfg.stage_out_channels:
            if c % 2:
                raise self._fail(f"stage_out_channels must be even (channel split), got {c}")
        for i, spec in enumerate(self.layers):
            if spec.oup - spec.inp <= 0:
                raise self._fail(f"layer {i}: {spec.oup} output channels leave no room for the "
                                 f"main branch after {spec.inp} projection channels; widen the "
                                 f"stage")
            if min(self.cfg.mid(spec, j) for j in range(self.num_scales)) < 1:
                raise self._fail(f"layer {i}: the smallest channel scale gives 0 mid channels; "
                                 f"widen the stage or drop small scales")

    # --- cost tables ----------------------------------------------------------------------
    def _block_cost(self, spec: LayerSpec, kind: int, mid: int) -> tuple[int, int]:
        """(MACs, params) of one standalone choice block."""
        s_in, s_out = spec.in_size, spec.out_size
        inp, outputs, k = spec.inp, spec.oup - spec.inp, BLOCK_KERNELS[kind]
        # (in, out, kernel, out_size, groups) of every conv, each followed by an affine BN
        if kind < 3:
            convs = [(inp, mid, 1, s_in, 1), (mid, mid, k, s_out, mid),
                     (mid, outputs, 1, s_out, 1)]
        else:
            convs = [(inp, inp, 3, s_out, inp), (inp, mid, 1, s_out, 1),
                     (mid, mid, 3, s_out, mid), (mid, mid, 1, s_out, 1),
                     (mid, mid, 3, s_out, mid), (mid, outputs, 1, s_out, 1)]
        if spec.stride == 2:
            convs += [(inp, inp, k, s_out, inp), (inp, inp, 1, s_out, 1)]
        macs = sum(conv2d_macs(ci, co, kk, so, g) for ci, co, kk, so, g in convs)
        params = sum(conv2d_params(ci, co, kk, g) + bn_params(co) for ci, co, kk, _, g in convs)
        return macs, params

    def _build_cost_tables(self) -> None:
        cfg = self.cfg
        last_in = cfg.stage_out_channels[-1]
        self._base_macs = (
            conv2d_macs(cfg.input_channels, cfg.stem_channels, 3, cfg.stem_out_size)
            + conv2d_macs(last_in, cfg.last_channels, 1, cfg.final_size)
            + linear_macs(cfg.last_channels, cfg.num_classes)
        )
        self._base_params = (
            conv2d_params(cfg.input_channels, cfg.stem_channels, 3) + bn_params(cfg.stem_channels)
            + conv2d_params(last_in, cfg.last_channels, 1) + bn_params(cfg.last_channels)
            + linear_params(cfg.last_channels, cfg.num_classes, bias=False)
        )
        # table[layer][block][scale] = (macs, params)
        self._macs_table: list[list[list[int]]] = []
        self._params_table: list[list[list[int]]] = []
        for spec in self.layers:
            macs_l, params_l = [], []
            for kind in range(NUM_BLOCKS):
                pairs = [self._block_cost(spec, kind, cfg.mid(spec, j))
                         for j in range(self.num_scales)]
                macs_l.append([m for m, _ in pairs])
                params_l.append([p for _, p in pairs])
            self._macs_table.append(macs_l)
            self._params_table.append(params_l)

    # --- encoding -------------------------------------------------------------------------
    @property
    def arch_format(self) -> str:
        """One-line description of the arch format of this space."""
        return (f'{{"blocks": [{self.num_layers} ints in 0..{NUM_BLOCKS - 1}], "channels": '
                f"[{self.num_layers} ints in 0..{self.num_scales - 1}, optional]}}")

    def _arch_error(self, problem: str) -> ArchError:
        return ArchError(f"malformed {self.full_name} arch: {problem}; expected "
                         f"{self.arch_format}")

    def _gene_list(self, arch: dict, key: str, upper: int) -> list[int]:
        value = arch[key]
        if not isinstance(value, list | tuple):
            raise self._arch_error(f"'{key}' is {type(value).__name__}, not a list")
        if len(value) != self.num_layers:
            raise self._arch_error(f"'{key}' has {len(value)} entries, not {self.num_layers}")
        if all(type(v) is int and 0 <= v < upper for v in value):  # fast path
            return list(value)
        for i, v in enumerate(value):
            if not _is_int(v):
                raise self._arch_error(f"'{key}'[{i}] = {v!r} is not an int")
            if not 0 <= v < upper:
                raise self._arch_error(f"'{key}'[{i}] = {v} is out of range 0..{upper - 1}")
        return [int(v) for v in value]

    def validate(self, arch: Any) -> Arch:
        """Canonical ``{"blocks": [...], "channels": [...]}`` or :class:`ArchError`.

        Accepts a dict (``blocks``/``channels`` as lists or tuples of ints) or its JSON text.
        """
        if isinstance(arch, str | bytes):
            try:
                arch = json.loads(arch)
            except ValueError as exc:
                raise self._arch_error(f"cannot parse JSON ({exc})") from None
        if not isinstance(arch, dict):
            raise self._arch_error(f"got {type(arch).__name__}, not a dict")
        unknown = sorted(str(k) for k in set(arch) - {"blocks", "channels"})
        if unknown:
            raise self._arch_error(f"unknown key(s) {', '.join(unknown)}")
        if "blocks" not in arch:
            raise self._arch_error("missing key 'blocks'")
        blocks = self._gene_list(arch, "blocks", NUM_BLOCKS)
        if arch.get("channels") is None:
            channels = [self.default_channel] * self.num_layers
        else:
            channels = self._gene_list(arch, "channels", self.num_scales)
        return {"blocks": blocks, "channels": channels}

    def features(self, arch: Arch) -> list[float]:
        """One-hot block choice per layer (``4 n`` values), then the channel scale per layer
        as a float (``n`` values, 1.0 = default width): ``5 n`` features in all."""
        a = self.validate(arch)
        out: list[float] = []
        for b in a["blocks"]:
            out.extend(1.0 if j == b else 0.0 for j in range(NUM_BLOCKS))
        out.extend(self.cfg.channel_scales[c] for c in a["channels"])
        return out

    # --- sampling and variation -----------------------------------------------------------
    def sample(self, rng: random.Random) -> Arch:
        """Uniform over the searched genes; unsearched genes take their default."""
        n = self.num_layers
        if self.search_blocks:
            blocks = [rng.randrange(NUM_BLOCKS) for _ in range(n)]
        else:
            blocks = [self.fixed_block] * n
        if self.search_channels:
            channels = [rng.randrange(self.num_scales) for _ in range(n)]
        else:
            channels = [self.default_channel] * n
        return {"blocks": blocks, "channels": channels}

    def mutate(self, arch: Arch, rng: random.Random, prob: float) -> Arch:
        """Resample each searched gene with probability ``prob`` (official SPOS search:
        ``if random() < m_prob: gene = randint(choices)``, which may redraw the same value)."""
        a = self.validate(arch)
        blocks, channels = list(a["blocks"]), list(a["channels"])
        for i in range(self.num_layers):
            if self.search_blocks and rng.random() < prob:
                blocks[i] = rng.randrange(NUM_BLOCKS)
            if self.search_channels and rng.random() < prob:
                channels[i] = rng.randrange(self.num_scales)
        return {"blocks": blocks, "channels": channels}

    def crossover(self, a: Arch, b: Arch, rng: random.Random) -> Arch:
        """Each searched gene from ``a`` or ``b`` with probability 1/2 (others from ``a``)."""
        a, b = self.validate(a), self.validate(b)
        blocks, channels = list(a["blocks"]), list(a["channels"])
        for i in range(self.num_layers):
            if self.search_blocks and rng.random() < 0.5:
                blocks[i] = b["blocks"][i]
            if self.search_channels and rng.random() < 0.5:
                channels[i] = b["channels"][i]
        return {"blocks": blocks, "channels": channels}

    # --- cost and networks ----------------------------------------------------------------
    def cost(self, arch: Arch) -> Cost:
        """Analytic MACs (conv + linear) and params (standalone net, affine BN) of ``arch``."""
        a = self.validate(arch)
        macs, params = self._base_macs, self._base_params
        mt, pt = self._macs_table, self._params_table
        for i, (b, c) in enumerate(zip(a["blocks"], a["channels"], strict=True)):
            macs += mt[i][b][c]
            params += pt[i][b][c]
        return Cost(macs=macs, params=params)

    def macs_range(self) -> tuple[int, int]:
        """(min, max) MACs over the archs this space samples (respects the search flags)."""
        lo = hi = self._base_macs
        blocks = range(NUM_BLOCKS) if self.search_blocks else [self.fixed_block]
        scales = range(self.num_scales) if self.search_channels else [self.default_channel]
        for table in self._macs_table:
            vals = [table[b][c] for b in blocks for c in scales]
            lo += min(vals)
            hi += max(vals)
        return lo, hi

    def mid_channels(self, arch: Arch) -> list[int]:
        """Mid channels of every layer of ``arch``."""
        a = self.validate(arch)
        return [self.cfg.mid(spec, c) for spec, c in zip(self.layers, a["channels"], strict=True)]

    def build(self, arch: Arch, generator: torch.Generator | None = None) -> nn.Module:
        """Standalone :class:`SposNet` of ``arch`` (affine BN, official initialisation)."""
        a = self.validate(arch)
        return SposNet(self.cfg, a["blocks"], self.mid_channels(a), arch=a, generator=generator)

    def build_supernet(self, generator: torch.Generator | None = None) -> nn.Module:
        """:class:`SposSupernet`: 4 choice blocks per layer, BN affine=False; mid channels
        allocated for the largest scale when channels are searched, else for scale 1.0."""
        if self.search_channels:
            max_mids = [max(self.cfg.mid(spec, j) for j in range(self.num_scales))
                        for spec in self.layers]
        else:
            max_mids = [self.cfg.mid(spec, self.default_channel) for spec in self.layers]
        return SposSupernet(self.cfg, max_mids, self.validate, generator=generator)

    def extract_subnet(self, supernet: nn.Module, arch: Arch) -> nn.Module:
        """Standalone net of ``arch`` carrying the supernet's sliced weights and BN stats."""
        if not isinstance(supernet, SposSupernet):
            raise TypeError("extract_subnet needs a SposSupernet")
        return extract_subnet(supernet, arch)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.cfg.input_channels, self.cfg.input_size, self.cfg.input_size)
