"""The elastic MobileNet search space of AttentiveNAS / FBNetV3 (Wang et al. 2021; Dai et al.
2021).

Space ``mobilenet`` (AttentiveNAS Sec. 3 / Table 1; PAPERS.md sections 3 and 4): an input
resolution, a first-conv width, 7 MBConv stages with one width, depth, kernel size and expand
ratio each, and a last-conv width. Networks: :mod:`nasrepro.supernets.mobilenet`.

Arch format (DESIGN.md; the official AttentiveNAS config keys and layout)::

    {"resolution": int,
     "width": [w_first_conv, w_mb1, ..., w_mb7, w_last_conv],   # 9 entries
     "depth": [7 ints], "kernel_size": [7 ints], "expand_ratio": [7 numbers]}

Every value must be one of the preset's choices for its position. :meth:`validate` returns
this dict with the keys in this order (the canonical form, so ``arch_id`` is stable); it also
accepts the JSON text of an arch.

Presets:

* ``attentivenas``: the official space (``configs/*.yml`` ``supernet_config``): 3 x 288 x
  288 input (the largest resolution; smaller inputs are resized), 1000 classes, swish,
  resolution {192, 224, 256, 288}, first conv {16, 24} s2, mb1..mb7 as in PAPERS.md, last
  conv {1792, 1984}, MobileNetV3 head. AttentiveNAS-A0 (the min subnet) .. A6 are in
  :mod:`nasrepro.spaces.mobilenet_archs`; their analytic MACs equal the published MFLOPs
  (203, 279, 317, 357, 444, 491, 709) to rounding.
* ``small``: Fashion-MNIST (1 x 28 x 28, 10 classes) on a 2-core CPU: resolution
  {20, 24, 28}, the same 7-stage layout with about a third of the widths (first conv {8, 16}
  ... mb7 {64, 72}, last conv {256, 320}), depths 1-3 ({1, 2} for mb1/mb7), expand {3, 4, 6}
  (mb6/mb7: 6), first conv stride 2 and stage strides 1, 2, 2, 2, 1, 1, 1 (maps at 28 px:
  14, 7, 4, 2). 0.75-5.5 M MACs (median ~2.1 M); training a typical subnet (batch 128,
  2 threads, channels-last) runs at ~1900 img/s, the min/max subnet at ~3600/~900 img/s.
* ``cifar10``: CIFAR-10 (3 x 32 x 32, 10 classes) on a GPU: the official stage widths,
  depths, kernels and expand ratios, resolution {24, 28, 32}, first conv stride 1 and mb2 stride
  1 (maps at 32 px: 32, 32, 16, 8, 8, 4, 4), last conv {1792, 1984}.
* ``tiny``: scikit-learn digits (1 x 8 x 8, 10 classes): resolution {6, 8}, first conv
  stride 1, widths 8-40, depths {1, 2}, expand {2, 3}, head expand 3, last conv {64, 96};
  0.17-0.8 M MACs; the test suite trains on it.
* ``tiny-rgb``: ``tiny`` on 3 x 16 x 16 images (resolution {12, 16}): the imagenet profile's
  end-to-end test on a generated ImageNet-style folder.

Input: the nets take ``input_shape`` = (channels, max resolution, max resolution) and resize
the input to the arch's resolution with ``F.interpolate`` (bicubic, as the official
``forward``; setting ``resize_mode``) when the sizes differ; the arch's cost is that of the
network at its own resolution (the resize is not a conv/linear op).

Cost (:meth:`MobileNetSpace.cost`) is analytic (cached per block geometry; tens of
microseconds per arch) from the primitives of :mod:`nasrepro.metrics.cost`: MACs of every
conv and linear layer (SE convs and shortcut 1x1 convs included; the official
``compute_active_subnet_flops`` convention) and the learnable params of the standalone net.
The tests check it against ``FlopCounterMode`` on built nets.
"""

from __future__ import annotations

import json
import random
from numbers import Integral, Real
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
from nasrepro.supernets.mobilenet import (
    ACTIVATIONS,
    BlockPlan,
    MobileNet,
    MobileNetConfig,
    MobileNetSupernet,
    NetPlan,
    StageSpec,
    extract_subnet,
    plan_arch,
)

#: arch keys in canonical order
ARCH_KEYS: tuple[str, ...] = ("resolution", "width", "depth", "kernel_size", "expand_ratio")
#: stage names of the official config
STAGE_NAMES: tuple[str, ...] = ("mb1", "mb2", "mb3", "mb4", "mb5", "mb6", "mb7")


def _stage(c: list[int], d: list[int], k: list[int], t: list[float], s: int,
           se: bool) -> dict[str, Any]:
    return {"c": c, "d": d, "k": k, "t": t, "s": s, "se": se}


#: the settings every preset shares (AttentiveNAS's builder; the ``fbnetv3`` space sets its own)
_COMMON: dict[str, Any] = {
    "act": "swish",
    "dropout": 0.0,  # probability before the classifier of standalone nets
    "bn_momentum": 0.1,
    "bn_eps": 1e-5,
    "resize_mode": "bicubic",
    "se_from_input": False,  # SE width from the expanded width (AttentiveNAS)
    "se_act": "relu",
    "stem_bias": False,
}

PRESETS: dict[str, dict[str, Any]] = {
    "attentivenas": {
        "input_channels": 3,
        "num_classes": 1000,
        "resolutions": [192, 224, 256, 288],  # pixels
        "first_conv": {"c": [16, 24], "s": 2},
        "stages": [
            _stage([16, 24], [1, 2], [3, 5], [1], 1, False),
            _stage([24, 32], [3, 4, 5], [3, 5], [4, 5, 6], 2, False),
            _stage([32, 40], [3, 4, 5, 6], [3, 5], [4, 5, 6], 2, True),
            _stage([64, 72], [3, 4, 5, 6], [3, 5], [4, 5, 6], 2, False),
            _stage([112, 120, 128], [3, 4, 5, 6, 7, 8], [3, 5], [4, 5, 6], 1, True),
            _stage([192, 200, 208, 216], [3, 4, 5, 6, 7, 8], [3, 5], [6], 2, True),
            _stage([216, 224], [1, 2], [3, 5], [6], 1, True),
        ],
        "last_conv": {"c": [1792, 1984]},
        "head_expand": 6,
        "channels_last": False,
        **_COMMON,
    },
    "cifar10": {
        "input_channels": 3,
        "num_classes": 10,
        "resolutions": [24, 28, 32],  # pixels
        "first_conv": {"c": [16, 24], "s": 1},
        "stages": [
            _stage([16, 24], [1, 2], [3, 5], [1], 1, False),
            _stage([24, 32], [3, 4, 5], [3, 5], [4, 5, 6], 1, False),
            _stage([32, 40], [3, 4, 5, 6], [3, 5], [4, 5, 6], 2, True),
            _stage([64, 72], [3, 4, 5, 6], [3, 5], [4, 5, 6], 2, False),
            _stage([112, 120, 128], [3, 4, 5, 6, 7, 8], [3, 5], [4, 5, 6], 1, True),
            _stage([192, 200, 208, 216], [3, 4, 5, 6, 7, 8], [3, 5], [6], 2, True),
            _stage([216, 224], [1, 2], [3, 5], [6], 1, True),
        ],
        "last_conv": {"c": [1792, 1984]},
        "head_expand": 6,
        "channels_last": False,
        **_COMMON,
    },
    "small": {
        "input_channels": 1,
        "num_classes": 10,
        "resolutions": [20, 24, 28],  # pixels
        "first_conv": {"c": [8, 16], "s": 2},
        "stages": [
            _stage([8, 16], [1, 2], [3, 5], [1], 1, False),
            _stage([16, 24], [1, 2, 3], [3, 5], [3, 4, 6], 2, False),
            _stage([24, 32], [1, 2, 3], [3, 5], [3, 4, 6], 2, True),
            _stage([32, 40], [1, 2, 3], [3, 5], [3, 4, 6], 2, False),
            _stage([40, 48], [1, 2, 3], [3, 5], [3, 4, 6], 1, True),
            _stage([56, 64], [1, 2, 3], [3, 5], [6], 1, True),
            _stage([64, 72], [1, 2], [3, 5], [6], 1, True),
        ],
        "last_conv": {"c": [256, 320]},
        "head_expand": 6,
        "channels_last": True,
        **_COMMON,
    },
    "tiny": {
        "input_channels": 1,
        "num_classes": 10,
        "resolutions": [6, 8],  # pixels
        "first_conv": {"c": [8, 16], "s": 1},
        "stages": [
            _stage([8, 16], [1, 2], [3, 5], [1], 1, False),
            _stage([16, 24], [1, 2], [3, 5], [2, 3], 2, False),
            _stage([24], [1, 2], [3, 5], [2, 3], 1, True),
            _stage([24, 32], [1, 2], [3, 5], [2, 3], 2, False),
            _stage([32], [1, 2], [3, 5], [2, 3], 1, True),
            _stage([32, 40], [1, 2], [3, 5], [3], 1, True),
            _stage([40], [1], [3, 5], [3], 1, True),
        ],
        "last_conv": {"c": [64, 96]},
        "head_expand": 3,
        "channels_last": True,
        **_COMMON,
    },
}

#: the tiny space on small RGB images: the imagenet profile's end-to-end test on a generated
#: ImageNet-style folder (10 classes, data.image_size 16)
PRESETS["tiny-rgb"] = {**PRESETS["tiny"], "input_channels": 3, "resolutions": [12, 16]}

_KNOWN_KEYS = frozenset(PRESETS["attentivenas"])
_RESIZE_MODES = ("bicubic", "bilinear", "nearest", "area")


def _is_int(v: Any) -> bool:
    return isinstance(v, Integral) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, Real) and not isinstance(v, bool)


@register_space("mobilenet", presets=PRESETS)
class MobileNetSpace(SearchSpace):
    """Elastic MobileNet space (resolution x per-stage width/depth/kernel/expand).

    Settings (in the preset, overridable through ``get_space(..., key=value)``):
    ``input_channels``, ``num_classes``, ``resolutions`` (list of pixels), ``first_conv``
    (``{"c": widths, "s": stride}``), ``stages`` (7 dicts ``{"c": widths, "d": depths, "k":
    kernels, "t": expand ratios, "s": stride 1|2, "se": bool}``; other stage counts work too,
    the arch lists then have that length), ``last_conv`` (``{"c": widths}``), ``head_expand``
    (final expand layer = ``head_expand`` x last stage width), ``act`` (swish, relu, relu6,
    h_swish), ``dropout`` (standalone nets, before the classifier), ``bn_momentum``,
    ``bn_eps``, ``resize_mode`` (``F.interpolate`` mode), ``channels_last`` (bool);
    ``se_from_input`` (bool: SE width a quarter of the block input, FBNetV3, instead of a
    quarter of the expanded width, AttentiveNAS; :func:`~nasrepro.supernets.mobilenet.
    se_channels`), ``se_act`` (activation between the SE convs, ``act`` names), ``stem_bias``
    (bool: bias in the first conv). The last three are off / ReLU in every ``mobilenet``
    preset (AttentiveNAS) and as the official builder in the ``fbnetv3`` presets.
    """

    def __init__(self, preset: str, **settings: Any) -> None:
        super().__init__(preset, **settings)
        self.cfg = self._make_config(settings)
        cfg = self.cfg
        self.num_stages = len(cfg.stages)
        #: choices per gene, official ``cfg_candidates`` layout
        self.candidates: dict[str, Any] = {
            "resolution": list(cfg.resolutions),
            "width": [list(cfg.first_widths)] + [list(s.widths) for s in cfg.stages]
            + [list(cfg.last_widths)],
            "depth": [list(s.depths) for s in cfg.stages],
            "kernel_size": [list(s.kernels) for s in cfg.stages],
            "expand_ratio": [list(s.expands) for s in cfg.stages],
        }
        self._lengths = {k: len(v) for k, v in self.candidates.items() if k != "resolution"}
        self._block_cache: dict[tuple, tuple[int, int]] = {}

    # --- settings -------------------------------------------------------------------------

    def _choices(self, where: str, v: Any, kind: str = "int", positive: bool = True) -> tuple:
        ok = _is_int if kind == "int" else _is_num
        if (not isinstance(v, list | tuple) or not v or not all(ok(x) for x in v)
                or (positive and not all(x > 0 for x in v))):
            raise self._fail(f"{where}={v!r} must be a non-empty list of positive "
                             f"{'ints' if kind == 'int' else 'numbers'}")
        if len(set(v)) != len(v):
            raise self._fail(f"{where}={v!r} has repeated choices; list each once")
        return tuple(sorted(v))

    def _make_config(self, s: dict[str, Any]) -> MobileNetConfig:
        self._check_setting_keys(s, _KNOWN_KEYS)
        for k in ("input_channels", "num_classes", "head_expand"):
            if not _is_int(s[k]) or s[k] <= 0:
                raise self._fail(f"setting {k}={s[k]!r} must be a positive int")
        for k in ("first_conv", "last_conv"):
            if not isinstance(s[k], dict):
                raise self._fail(f"setting {k}={s[k]!r} must be a dict with key 'c'")
        first, last = s["first_conv"], s["last_conv"]
        if set(first) != {"c", "s"} or set(last) != {"c"}:
            raise self._fail("first_conv needs exactly keys c, s and last_conv exactly key c")
        if first["s"] not in (1, 2) or isinstance(first["s"], bool):
            raise self._fail(f"first_conv stride {first['s']!r} must be 1 or 2")
        stages_in = s["stages"]
        if not isinstance(stages_in, list | tuple) or not stages_in:
            raise self._fail("stages must be a non-empty list of stage dicts")
        stages = []
        for i, st in enumerate(stages_in):
            where = f"stages[{i}]"
            if not isinstance(st, dict) or set(st) != {"c", "d", "k", "t", "s", "se"}:
                raise self._fail(f"{where} must be a dict with exactly keys c, d, k, t, s, se")
            kernels = self._choices(f"{where}.k", st["k"])
            if any(k % 2 == 0 for k in kernels):
                raise self._fail(f"{where}.k={st['k']!r} must be odd kernel sizes")
            if st["s"] not in (1, 2) or isinstance(st["s"], bool):
                raise self._fail(f"{where}.s={st['s']!r} must be 1 or 2")
            if not isinstance(st["se"], bool):
                raise self._fail(f"{where}.se={st['se']!r} must be true or false")
            expands = self._choices(f"{where}.t", st["t"], kind="num")
            stages.append(StageSpec(
                widths=self._choices(f"{where}.c", st["c"]),
                depths=self._choices(f"{where}.d", st["d"]),
                kernels=kernels,
                expands=tuple(int(t) if float(t).is_integer() else float(t) for t in expands),
                stride=int(st["s"]), se=st["se"]))
        for k in ("act", "se_act"):
            if s[k] not in ACTIVATIONS:
                raise self._fail(f"{k}={s[k]!r} must be one of {', '.join(ACTIVATIONS)}")
        for k in ("se_from_input", "stem_bias"):
            if not isinstance(s[k], bool):
                raise self._fail(f"{k}={s[k]!r} must be true or false")
        if s["resize_mode"] not in _RESIZE_MODES:
            raise self._fail(f"resize_mode={s['resize_mode']!r} must be one of "
                             f"{', '.join(_RESIZE_MODES)}")
        if not isinstance(s["channels_last"], bool):
            raise self._fail(f"channels_last={s['channels_last']!r} must be true or false")
        for k, lo, hi in (("dropout", 0.0, 1.0), ("bn_momentum", 0.0, 1.0), ("bn_eps", 0.0, 1.0)):
            if not _is_num(s[k]) or not lo <= s[k] < hi:
                raise self._fail(f"{k}={s[k]!r} must be a number in [{lo}, {hi})")
        return MobileNetConfig(
            input_channels=int(s["input_channels"]),
            num_classes=int(s["num_classes"]),
            resolutions=self._choices("resolutions", s["resolutions"]),
            first_widths=self._choices("first_conv.c", first["c"]),
            first_stride=int(first["s"]),
            stages=tuple(stages),
            last_widths=self._choices("last_conv.c", last["c"]),
            head_expand=int(s["head_expand"]),
            act=str(s["act"]),
            dropout=float(s["dropout"]),
            bn_momentum=float(s["bn_momentum"]),
            bn_eps=float(s["bn_eps"]),
            resize_mode=str(s["resize_mode"]),
            channels_last=bool(s["channels_last"]),
            se_from_input=s["se_from_input"],
            se_act=str(s["se_act"]),
            stem_bias=s["stem_bias"],
        )

    # --- encoding -------------------------------------------------------------------------
    @property
    def arch_format(self) -> str:
        """One-line description of the arch format of this space."""
        n = self.num_stages
        return (f'{{"resolution": one of {list(self.cfg.resolutions)}, "width": [{n + 2} ints], '
                f'"depth": [{n} ints], "kernel_size": [{n} ints], "expand_ratio": [{n} numbers]}}'
                f" with each value one of its position's choices (see space.candidates)")

    def _arch_error(self, problem: str) -> ArchError:
        return ArchError(f"malformed {self.full_name} arch: {problem}; expected "
                         f"{self.arch_format}")

    @staticmethod
    def _pick(v: Any, choices: list) -> Any:
        """The choice equal to ``v`` or None."""
        if type(v) is int and v in choices:  # fast path
            return v
        if not _is_num(v):
            return None
        for c in choices:
            if v == c:
                return c
        return None

    def _gene_list(self, arch: dict, key: str) -> list:
        value = arch[key]
        if not isinstance(value, list | tuple):
            raise self._arch_error(f"'{key}' is {type(value).__name__}, not a list")
        n = self._lengths[key]
        if len(value) != n:
            raise self._arch_error(f"'{key}' has {len(value)} entries, not {n}")
        out = []
        for i, (v, choices) in enumerate(zip(value, self.candidates[key], strict=True)):
            c = self._pick(v, choices)
            if c is None:
                raise self._arch_error(f"'{key}'[{i}] = {v!r} is not one of {choices}")
            out.append(c)
        return out

    def validate(self, arch: Any) -> Arch:
        """Canonical ``{"resolution", "width", "depth", "kernel_size", "expand_ratio"}`` dict
        or :class:`ArchError`. Accepts a dict (lists or tuples) or its JSON text."""
        if isinstance(arch, str | bytes):
            try:
                arch = json.loads(arch)
            except ValueError as exc:
                raise self._arch_error(f"cannot parse JSON ({exc})") from None
        if not isinstance(arch, dict):
            raise self._arch_error(f"got {type(arch).__name__}, not a dict")
        unknown = sorted(str(k) for k in set(arch) - set(ARCH_KEYS))
        if unknown:
            raise self._arch_error(f"unknown key(s) {', '.join(unknown)}")
        missing = [k for k in ARCH_KEYS if k not in arch]
        if missing:
            raise self._arch_error(f"missing key(s) {', '.join(missing)}")
        res = self._pick(arch["resolution"], self.candidates["resolution"])
        if res is None:
            raise self._arch_error(f"'resolution' = {arch['resolution']!r} is not one of "
                                   f"{self.candidates['resolution']}")
        out: Arch = {"resolution": res}
        for key in ARCH_KEYS[1:]:
            out[key] = self._gene_list(arch, key)
        return out

    def features(self, arch: Arch) -> list[float]:
        """The official accuracy-predictor input: ``[resolution] + width + depth +
        kernel_size + expand_ratio`` as floats (``1 + (n + 2) + 3 n`` values, 31 for 7
        stages)."""
        a = self.validate(arch)
        out = [float(a["resolution"])]
        for key in ARCH_KEYS[1:]:
            out.extend(float(v) for v in a[key])
        return out

    # --- sampling and variation -----------------------------------------------------------
    def sample(self, rng: random.Random) -> Arch:
        """Uniform over every gene independently (official ``sample_active_subnet``)."""
        cand = self.candidates
        return {
            "resolution": rng.choice(cand["resolution"]),
            **{k: [rng.choice(c) for c in cand[k]] for k in ARCH_KEYS[1:]},
        }

    def _extreme(self, fn: Any) -> Arch:
        cand = self.candidates
        return {"resolution": fn(cand["resolution"]),
                **{k: [fn(c) for c in cand[k]] for k in ARCH_KEYS[1:]}}

    def min_arch(self) -> Arch:
        """The smallest subnet (every gene at its minimum; official ``sample_min_subnet``)."""
        return self._extreme(min)

    def max_arch(self) -> Arch:
        """The largest subnet (every gene at its maximum; official ``sample_max_subnet``)."""
        return self._extreme(max)

    def mutate(self, arch: Arch, rng: random.Random, prob: float,
               keep_resolution: bool = False) -> Arch:
        """Official ``mutate_and_reset``: with probability ``prob`` each gene (resolution
        unless ``keep_resolution``, every width, depth, kernel and expand ratio) moves to a
        *different* choice drawn uniformly (genes with one choice stay)."""
        a = self.validate(arch)

        def pick_another(v: Any, choices: list) -> Any:
            return v if len(choices) == 1 else rng.choice([c for c in choices if c != v])

        if rng.random() < prob and not keep_resolution:
            a["resolution"] = pick_another(a["resolution"], self.candidates["resolution"])
        for key in ARCH_KEYS[1:]:
            genes = a[key]
            for i, choices in enumerate(self.candidates[key]):
                if rng.random() < prob:
                    genes[i] = pick_another(genes[i], choices)
        return a

    def crossover(self, a: Arch, b: Arch, rng: random.Random) -> Arch:
        """Official ``crossover_and_reset``: each gene from ``a`` or ``b`` with probability 1/2."""
        a, b = self.validate(a), self.validate(b)
        out: Arch = {"resolution": a["resolution"] if rng.random() < 0.5 else b["resolution"]}
        for key in ARCH_KEYS[1:]:
            out[key] = [x if rng.random() < 0.5 else y for x, y in zip(a[key], b[key],
                                                                       strict=True)]
        return out

    # --- cost and networks ----------------------------------------------------------------
    def plan(self, arch: Arch) -> NetPlan:
        """Every layer's channels and spatial sizes for ``arch``."""
        return plan_arch(self.cfg, self.validate(arch))

    def _block_cost(self, b: BlockPlan) -> tuple[int, int]:
        key = (b.c_in, b.c_out, b.kernel, b.mid, b.se_mid, b.stride, b.in_size)
        hit = self._block_cache.get(key)
        if hit is not None:
            return hit
        s_in, s_out = b.in_size, b.out_size
        macs = params = 0
        if b.has_bottleneck:
            macs += conv2d_macs(b.c_in, b.mid, 1, s_in)
            params += conv2d_params(b.c_in, b.mid, 1) + bn_params(b.mid)
        macs += conv2d_macs(b.mid, b.mid, b.kernel, s_out, groups=b.mid)
        params += conv2d_params(b.mid, b.mid, b.kernel, groups=b.mid) + bn_params(b.mid)
        if b.se_mid:
            macs += conv2d_macs(b.mid, b.se_mid, 1, 1) + conv2d_macs(b.se_mid, b.mid, 1, 1)
            params += (conv2d_params(b.mid, b.se_mid, 1, bias=True)
                       + conv2d_params(b.se_mid, b.mid, 1, bias=True))
        macs += conv2d_macs(b.mid, b.c_out, 1, s_out)
        params += conv2d_params(b.mid, b.c_out, 1) + bn_params(b.c_out)
        if b.shortcut_conv:
            macs += conv2d_macs(b.c_in, b.c_out, 1, s_out)
            params += conv2d_params(b.c_in, b.c_out, 1)
        self._block_cache[key] = (macs, params)
        return macs, params

    def plan_cost(self, p: NetPlan) -> Cost:
        """Analytic cost of a resolved :class:`NetPlan`."""
        cfg = self.cfg
        c0, c_last_in, ce, cl = p.first_width, p.last_in, p.expand_width, p.last_width
        macs = (conv2d_macs(cfg.input_channels, c0, 3, p.first_size)
                + conv2d_macs(c_last_in, ce, 1, p.final_size)
                + conv2d_macs(ce, cl, 1, 1) + linear_macs(cl, cfg.num_classes))
        params = (conv2d_params(cfg.input_channels, c0, 3, bias=cfg.stem_bias) + bn_params(c0)
                  + conv2d_params(c_last_in, ce, 1) + bn_params(ce)
                  + conv2d_params(ce, cl, 1) + linear_params(cl, cfg.num_classes, bias=True))
        for b in p.blocks:
            m, q = self._block_cost(b)
            macs += m
            params += q
        return Cost(macs=macs, params=params)

    def cost(self, arch: Arch) -> Cost:
        """Analytic MACs (conv + linear, at the arch's resolution) and params (standalone net,
        affine BN, SE and classifier biases, the stem bias with ``stem_bias``) of ``arch``."""
        return self.plan_cost(self.plan(arch))

    def macs_range(self) -> tuple[int, int]:
        """(MACs of :meth:`min_arch`, MACs of :meth:`max_arch`): the space's extremes (cost
        is monotone in every gene)."""
        return self.cost(self.min_arch()).macs, self.cost(self.max_arch()).macs

    def build(self, arch: Arch, generator: torch.Generator | None = None) -> nn.Module:
        """Standalone :class:`MobileNet` of ``arch`` (affine BN, official initialisation)."""
        a = self.validate(arch)
        return MobileNet(self.cfg, plan_arch(self.cfg, a), arch=a, generator=generator)

    def build_supernet(self, generator: torch.Generator | None = None) -> nn.Module:
        """:class:`MobileNetSupernet`: every layer allocated for its widest choice."""
        return MobileNetSupernet(self.cfg, self.validate, generator=generator)

    def extract_subnet(self, supernet: nn.Module, arch: Arch) -> nn.Module:
        """Standalone net of ``arch`` carrying the supernet's sliced weights and BN stats."""
        if not isinstance(supernet, MobileNetSupernet):
            raise TypeError("extract_subnet needs a MobileNetSupernet")
        return extract_subnet(supernet, arch)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        r = max(self.cfg.resolutions)
        return (self.cfg.input_channels, r, r)

    def arch_input_shape(self, arch: Arch) -> tuple[int, int, int]:
        """(channels, resolution, resolution) of ``arch``: the input at which its cost holds."""
        r = self.validate(arch)["resolution"]
        return (self.cfg.input_channels, r, r)
