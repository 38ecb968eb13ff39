"""Predictors (registry kind ``predictor``): fit on (candidate, accuracy) pairs, then score.

A factory ``(space, candidates, targets, *, seed, settings, pretrained) -> score`` returns
``score(candidates) -> accuracies``; ``settings`` is the pipeline's predictor section
(``fbnetv3.predictor``, ``attentivenas.predictor``) and ``pretrained`` the FBNetV3 proxy-
pretrained encoder where the pipeline has one (else ``None``). Candidates are encoded with
``space.features``. Each entry only combines library parts (:mod:`nasrepro.predictors`):

* ``pretrained`` / ``scratch``: the FBNetV3 predictor (Dai et al. 2021, Sec. 3.2) with / without
  proxy (MACs/params) pretraining; FBNetV3 only (it needs the joint arch-recipe encoding);
* ``random_forest``: AttentiveNAS's accuracy predictor (Wang et al. 2021, Sec. 3.2), used by
  both pipelines from this one registration.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from nasrepro.predictors.fbnetv3 import PredictorConfig, train_predictor
from nasrepro.registry import register_method

Score = Callable[[Sequence[dict]], np.ndarray]


def _fbnetv3(space: Any, cands: list[dict], targets: list[float], seed: int, settings: dict,
             pretrained: Any) -> Score:
    model = train_predictor(space, cands, targets, PredictorConfig.from_dict(settings),
                            seed=seed, pretrained=pretrained)
    return lambda cs: model.score(space, cs)


@register_method("pretrained", kind="predictor", papers=("fbnetv3",))
def pretrained(space: Any, cands: list[dict], targets: list[float], *, seed: int,
               settings: dict, pretrained: Any = None) -> Score:
    """FBNetV3 predictor with proxy (MACs/params) pretraining, two-phase fit (the paper)."""
    return _fbnetv3(space, cands, targets, seed, settings, pretrained)


@register_method("scratch", kind="predictor", papers=("fbnetv3",))
def scratch(space: Any, cands: list[dict], targets: list[float], *, seed: int,
            settings: dict, pretrained: Any = None) -> Score:
    """FBNetV3 predictor without proxy pretraining (ablation), same schedule."""
    return _fbnetv3(space, cands, targets, seed, settings, None)


@register_method("random_forest", kind="predictor", papers=("fbnetv3", "attentivenas"))
def random_forest(space: Any, cands: list[dict], targets: list[float], *, seed: int,
                  settings: dict, pretrained: Any = None) -> Score:
    """Random forest on ``space.features`` (AttentiveNAS's predictor; ``n_estimators`` and
    ``max_depth`` from the settings when given there)."""
    # imported here: scikit-learn costs ~3.5 s, and every nasrepro job loads methods/
    from nasrepro.predictors.random_forest import MAX_DEPTH, N_ESTIMATORS, fit_random_forest
    from nasrepro.predictors.random_forest import predict as rf_predict

    model = fit_random_forest([space.features(c) for c in cands], targets, seed=seed,
                              n_estimators=settings.get("n_estimators", N_ESTIMATORS),
                              max_depth=settings.get("max_depth", MAX_DEPTH))
    return lambda cs: rf_predict(model, [space.features(c) for c in cs])
