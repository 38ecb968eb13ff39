"""A toy predictor plug-in (tests): least squares on ``space.features``, in every pipeline
with a predictor study. Listing ``toy-predictor`` in ``fbnetv3.methods.predictor`` adds it to
the predictor table; ``attentivenas.methods.predictor: [toy-predictor]`` swaps it in there."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nasrepro.registry import register_method


@register_method("toy-predictor", kind="predictor", papers=("fbnetv3", "attentivenas"))
def toy_predictor(space: Any, cands: list[dict], targets: list[float], *, seed: int,
                  settings: None = None, pretrained: Any = None) -> Callable[[Sequence[dict]], Any]:
    """Least-squares linear fit on the space's features (toy plug-in for the tests)."""
    x = np.array([space.features(c) for c in cands], dtype=np.float64)
    design = np.hstack([x, np.ones((len(x), 1))])
    coef, *_ = np.linalg.lstsq(design, np.asarray(targets, dtype=np.float64), rcond=None)
    return lambda cs: np.hstack([np.array([space.features(c) for c in cs], dtype=np.float64),
                                 np.ones((len(cs), 1))]) @ coef
