"""FBNetV3 methods (Dai et al. 2021): accuracy predictors compared in the predictor study.

Each entry only combines library parts (:mod:`nasrepro.predictors.fbnetv3`,
:mod:`nasrepro.predictors.random_forest`). A predictor method is a factory
``(space, candidates, targets, *, seed, pretrained, settings) -> score(candidates) -> array``;
list its name in ``fbnetv3.predictor_methods`` of the config to add it to the
``fbnetv3_predictor`` table and the measurements.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nasrepro.predictors.fbnetv3 import PredictorConfig, train_predictor
from nasrepro.registry import register_method

Score = Callable[[Sequence[dict]], np.ndarray]


@register_method("pretrained", paper="fbnetv3", kind="predictor")
def pretrained(space: Any, cands: list[dict], targets: list[float], *, seed: int,
               pretrained: Any, settings: dict) -> Score:
    """FBNetV3 predictor with proxy (MACs/params) pretraining, two-phase fit (the paper)."""
    model = train_predictor(space, cands, targets, PredictorConfig.from_dict(settings),
                            seed=seed, pretrained=pretrained)
    return lambda cs: model.score(space, cs)


@register_method("scratch", paper="fbnetv3", kind="predictor")
def scratch(space: Any, cands: list[dict], targets: list[float], *, seed: int,
            pretrained: Any, settings: dict) -> Score:
    """FBNetV3 predictor without proxy pretraining (ablation), same schedule."""
    model = train_predictor(space, cands, targets, PredictorConfig.from_dict(settings),
                            seed=seed, pretrained=None)
    return lambda cs: model.score(space, cs)


@register_method("random_forest", paper="fbnetv3", kind="predictor")
def random_forest(space: Any, cands: list[dict], targets: list[float], *, seed: int,
                  pretrained: Any, settings: dict) -> Score:
    """Random forest on the same arch + recipe encoding (AttentiveNAS's predictor)."""
    # imported here: scikit-learn costs ~3.5 s, and every nasrepro job loads methods/
    from nasrepro.predictors.random_forest import fit_random_forest, predict

    model = fit_random_forest([space.encode(c) for c in cands], targets, seed=seed)
    return lambda cs: predict(model, [space.encode(c) for c in cs])
