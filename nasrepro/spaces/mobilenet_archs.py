"""Reference archs of the ``mobilenet/attentivenas`` space: AttentiveNAS-A0 .. A6.

Wang et al. 2021 (AttentiveNAS), Table 2 / Fig. 1; the configs are copied from the official
``configs/eval_attentive_nas_models.yml`` (``pareto_models``, in the order resolution, width,
depth, kernel_size, expand_ratio), the MFLOPs and top-1 from the official README.
"MFLOPs" there are millions of multiply-accumulates of conv + linear layers (the official
``compute_active_subnet_flops`` counts one per MAC, SE and shortcut convs included).

A0 is the smallest subnet of the space (every choice at its minimum).
"""

from __future__ import annotations

from typing import Any

from nasrepro.errors import UnknownNameError

#: AttentiveNAS-A0..A6, official eval config
ATTENTIVENAS_ARCHS: dict[str, dict[str, Any]] = {
    "a0": {"resolution": 192, "width": [16, 16, 24, 32, 64, 112, 192, 216, 1792],
           "depth": [1, 3, 3, 3, 3, 3, 1], "kernel_size": [3, 3, 3, 3, 3, 3, 3],
           "expand_ratio": [1, 4, 4, 4, 4, 6, 6]},
    "a1": {"resolution": 224, "width": [16, 16, 24, 32, 64, 112, 192, 216, 1984],
           "depth": [1, 3, 3, 3, 3, 3, 1], "kernel_size": [3, 3, 3, 5, 3, 5, 3],
           "expand_ratio": [1, 4, 4, 4, 4, 6, 6]},
    "a2": {"resolution": 224, "width": [16, 16, 24, 32, 64, 112, 200, 224, 1984],
           "depth": [1, 3, 3, 3, 3, 4, 1], "kernel_size": [3, 3, 3, 3, 3, 5, 3],
           "expand_ratio": [1, 4, 5, 4, 4, 6, 6]},
    "a3": {"resolution": 224, "width": [16, 16, 24, 32, 64, 112, 208, 224, 1984],
           "depth": [2, 3, 3, 4, 3, 5, 1], "kernel_size": [3, 3, 3, 5, 3, 3, 3],
           "expand_ratio": [1, 4, 4, 4, 4, 6, 6]},
    "a4": {"resolution": 256, "width": [16, 16, 24, 32, 64, 112, 192, 216, 1984],
           "depth": [1, 3, 3, 4, 3, 5, 1], "kernel_size": [3, 3, 3, 5, 3, 5, 3],
           "expand_ratio": [1, 4, 4, 5, 4, 6, 6]},
    "a5": {"resolution": 256, "width": [16, 16, 24, 32, 72, 112, 192, 216, 1792],
           "depth": [1, 3, 3, 3, 4, 6, 1], "kernel_size": [3, 3, 3, 5, 3, 3, 3],
           "expand_ratio": [1, 4, 5, 4, 4, 6, 6]},
    "a6": {"resolution": 288, "width": [16, 16, 24, 32, 64, 112, 216, 224, 1984],
           "depth": [1, 3, 3, 4, 4, 6, 1], "kernel_size": [3, 3, 3, 3, 3, 5, 3],
           "expand_ratio": [1, 4, 6, 5, 4, 6, 6]},
}

#: published MFLOPs (= millions of MACs) of A0..A6 (official README)
PUBLISHED_MFLOPS: dict[str, int] = {
    "a0": 203, "a1": 279, "a2": 317, "a3": 357, "a4": 444, "a5": 491, "a6": 709,
}

#: published ImageNet top-1 (%) of A0..A6 (official README)
PUBLISHED_TOP1: dict[str, float] = {
    "a0": 77.3, "a1": 78.4, "a2": 78.8, "a3": 79.1, "a4": 79.8, "a5": 80.1, "a6": 80.7,
}


def attentivenas_arch(name: str) -> dict[str, Any]:
    """A fresh copy of the config of AttentiveNAS-``name`` (``"a0"`` .. ``"a6"``)."""
    key = name.lower().removeprefix("attentivenas-")
    if key not in ATTENTIVENAS_ARCHS:
        raise UnknownNameError(f"unknown AttentiveNAS model '{name}'; use one of "
                               f"{', '.join(sorted(ATTENTIVENAS_ARCHS))}")
    a = ATTENTIVENAS_ARCHS[key]
    return {k: (list(v) if isinstance(v, list) else v) for k, v in a.items()}
