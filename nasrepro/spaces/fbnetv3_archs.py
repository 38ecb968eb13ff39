"""Reference archs of the ``fbnetv3/imagenet`` space: the published FBNetV3-A .. G.

Dai et al. 2021 (FBNetV3), Table 3; the layer configs are transcribed from the official
facebookresearch/mobile-vision ``mobile_cv/arch/fbnet_v2/fbnet_modeldef_cls_fbnetv3.py``
(``MODEL_ARCH_FBNETV3``): stem conv ``conv_k3_hs`` width, then per official sub-stage the
width ``c``, repeats ``n``, kernel ``k`` and expansion ``e`` -- the 12 stages of the
``imagenet`` preset -- and the ``ir_pool_hs`` head (1984). ``shrink_stages`` marks the stride-2
blocks whose official ``dw_args`` padding is one less than ``k // 2``. The MFLOPs
(multiply-accumulates of conv + linear layers) and params are the paper's (Table 3); the
``fbnetv3/imagenet`` space gives the official builder's exact counts of these nets (params equal
to the published ones to their 0.1M, MACs 0.2-0.4 % below the published MFLOPs).
"""

from __future__ import annotations

from typing import Any

from nasrepro.errors import UnknownNameError


def _arch(res: int, stem: int, widths: list[int], depths: list[int], kernels: list[int],
          expands: list[int], shrink: list[int]) -> dict[str, Any]:
    a: dict[str, Any] = {"resolution": res, "width": [stem, *widths, 1984], "depth": depths,
                         "kernel_size": kernels, "expand_ratio": expands}
    if shrink:
        a["shrink_stages"] = shrink
    return a


#: FBNetV3-A..G (official model defs)
FBNETV3_ARCHS: dict[str, dict[str, Any]] = {
    "a": _arch(224, 16, [16, 24, 24, 40, 40, 72, 72, 120, 120, 184, 184, 224],
               [2, 1, 3, 1, 4, 1, 4, 1, 5, 1, 5, 1], [3, 5, 5, 5, 5, 5, 3, 3, 5, 3, 5, 5],
               [1, 4, 2, 5, 3, 5, 3, 5, 3, 6, 4, 6], [5, 9]),
    "b": _arch(248, 16, [16, 24, 24, 40, 40, 72, 72, 120, 120, 184, 184, 224],
               [2, 1, 3, 1, 4, 1, 4, 1, 5, 1, 5, 1], [3, 5, 5, 5, 5, 5, 3, 3, 5, 3, 5, 5],
               [1, 4, 2, 5, 3, 5, 3, 5, 3, 6, 4, 6], [5, 9]),
    "c": _arch(248, 16, [16, 24, 24, 48, 48, 88, 88, 120, 120, 216, 216, 216],
               [2, 1, 4, 1, 4, 1, 4, 1, 5, 1, 5, 1], [3, 5, 3, 5, 5, 5, 3, 3, 5, 5, 5, 5],
               [1, 5, 3, 5, 2, 4, 3, 4, 3, 5, 5, 6], [5, 9]),
    "d": _arch(248, 24, [16, 24, 24, 40, 40, 72, 72, 128, 128, 208, 208, 240],
               [2, 1, 5, 1, 4, 1, 4, 1, 6, 1, 5, 1], [3, 3, 3, 5, 3, 3, 3, 3, 5, 3, 5, 5],
               [1, 5, 2, 4, 3, 5, 3, 5, 3, 6, 5, 6], []),
    "e": _arch(264, 24, [16, 24, 24, 48, 48, 80, 80, 128, 128, 216, 216, 240],
               [3, 1, 4, 1, 4, 1, 4, 1, 7, 1, 5, 1], [3, 5, 5, 5, 5, 5, 3, 3, 5, 3, 5, 5],
               [1, 4, 2, 4, 3, 5, 3, 5, 3, 6, 5, 6], [5]),
    "f": _arch(272, 24, [24, 32, 32, 56, 56, 88, 88, 144, 144, 248, 248, 272],
               [3, 1, 4, 1, 4, 1, 4, 1, 8, 1, 6, 1], [3, 5, 5, 5, 5, 5, 3, 3, 5, 3, 5, 5],
               [1, 4, 2, 4, 3, 5, 3, 5, 3, 6, 5, 6], [9]),
    "g": _arch(320, 32, [24, 40, 40, 56, 56, 104, 104, 160, 160, 264, 264, 288],
               [3, 1, 4, 1, 4, 1, 4, 1, 8, 1, 6, 2], [3, 5, 5, 5, 5, 5, 3, 3, 5, 3, 5, 5],
               [1, 4, 2, 4, 3, 5, 3, 5, 3, 6, 5, 6], []),
}

#: published MFLOPs (= millions of MACs), FBNetV3 paper Table 3
PUBLISHED_MFLOPS: dict[str, int] = {"a": 357, "b": 461, "c": 557, "d": 644, "e": 762,
                                    "f": 1181, "g": 2130}
#: published params (millions), FBNetV3 paper Table 3 (B has A's layers at a larger input)
PUBLISHED_MPARAMS: dict[str, float] = {"a": 8.6, "b": 8.6, "c": 10.0, "d": 10.3, "e": 10.8,
                                       "f": 13.9, "g": 16.6}


def fbnetv3_arch(name: str) -> dict[str, Any]:
    """A fresh copy of FBNetV3-``name`` (``"a"`` .. ``"g"``)."""
    key = name.lower().removeprefix("fbnetv3-").removeprefix("fbnetv3_")
    if key not in FBNETV3_ARCHS:
        raise UnknownNameError(f"unknown FBNetV3 model '{name}'; use one of "
                               f"{', '.join(sorted(FBNETV3_ARCHS))}")
    return {k: (list(v) if isinstance(v, list) else v) for k, v in FBNETV3_ARCHS[key].items()}
