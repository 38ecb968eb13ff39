"""Predictors (registry kind ``predictor``): fit on (candidate, accuracy) pairs, then score.

A factory ``(space, candidates, targets, *, seed, settings, pretrained) -> score`` returns
``score(candidates) -> accuracies``; ``settings`` its typed settings (filled from
``<paper>.method_settings.<name>``, else the pipeline's predictor section) and ``pretrained``
the FBNetV3 proxy-pretrained encoder where the pipeline has one (else ``None``). Candidates
are encoded with ``space.features``. Each entry only combines library parts
(:mod:`nasrepro.predictors`):

* ``pretrained`` / ``scratch``: the FBNetV3 predictor (Dai et al. 2021, Sec. 3.2) with / without
  proxy (MACs/params) pretraining; FBNetV3 only (it needs the joint arch-recipe encoding);
* ``random_forest``: AttentiveNAS's accuracy predictor (Wang et al. 2021, Sec. 3.2), used by
  both pipelines from this one registration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from nasrepro.predictors.fbnetv3 import PredictorConfig, train_predictor
from nasrepro.registry import register_method

Score = Callable[[Sequence[dict]], np.ndarray]


@dataclass(frozen=True)
class RandomForestSettings:
    """scikit-learn ``RandomForestRegressor`` size (official AttentiveNAS: 100 trees, depth
    15)."""

    # the defaults of nasrepro.predictors.random_forest (not imported here: scikit-learn
    # costs ~3.5 s, and every nasrepro job loads methods/)
    n_estimators: int = 100
    max_depth: int | None = 15


def _fbnetv3(space: Any, cands: list[dict], targets: list[float], seed: int,
             settings: PredictorConfig, pretrained: Any) -> Score:
    model = train_predictor(space, cands, targets, settings, seed=seed, pretrained=pretrained)
    return lambda cs: model.score(space, cs)


@register_method("pretrained", kind="predictor", papers=("fbnetv3",), settings=PredictorConfig)
def pretrained(space: Any, cands: list[dict], targets: list[float], *, seed: int,
               settings: PredictorConfig, pretrained: Any = None) -> Score:
    """FBNetV3 predictor with proxy (MACs/params) pretraining, two-phase fit (the paper)."""
    return _fbnetv3(space, cands, targets, seed, settings, pretrained)


@register_method("scratch", kind="predictor", papers=("fbnetv3",), settings=PredictorConfig)
def scratch(space: Any, cands: list[dict], targets: list[float], *, seed: int,
            settings: PredictorConfig, pretrained: Any = None) -> Score:
    """FBNetV3 predictor without proxy pretraining (ablation), same schedule."""
    return _fbnetv3(space, cands, targets, seed, settings, None)


@register_method("random_forest", kind="predictor", papers=("fbnetv3", "attentivenas"),
                 settings=RandomForestSettings)
def random_forest(space: Any, cands: list[dict], targets: list[float], *, seed: int,
                  settings: RandomForestSettings, pretrained: Any = None) -> Score:
    """Random forest on ``space.features`` (AttentiveNAS's predictor)."""
    # imported here: scikit-learn costs ~3.5 s, and every nasrepro job loads methods/
    from nasrepro.predictors.random_forest import fit_random_forest
    from nasrepro.predictors.random_forest import predict as rf_predict

    model = fit_random_forest([space.features(c) for c in cands], targets, seed=seed,
                              n_estimators=settings.n_estimators,
                              max_depth=settings.max_depth)
    return lambda cs: rf_predict(model, [space.features(c) for c in cs])
