"""Random-forest accuracy predictor (AttentiveNAS Sec. 3.3 / official ``acc_predictor``).

The official AttentiveNAS code fits ``sklearn.ensemble.RandomForestRegressor`` with 100 trees and
maximum depth 15 on the arch features ``[resolution] + width + depth + kernel_size +
expand_ratio``; FBNetV3's predictor study uses the same model as its baseline. This module is the
one place that builds it, so both papers share the settings and the seeding.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sklearn.ensemble import RandomForestRegressor

from nasrepro.errors import ConfigError

#: official AttentiveNAS settings
N_ESTIMATORS = 100
MAX_DEPTH = 15


def fit_random_forest(
    features: Sequence[Sequence[float]] | np.ndarray,
    targets: Sequence[float] | np.ndarray,
    *,
    seed: int,
    n_estimators: int = N_ESTIMATORS,
    max_depth: int | None = MAX_DEPTH,
) -> RandomForestRegressor:
    """Fit a seeded random forest ``features -> target`` (single-threaded, so bit-identical).

    Args:
        features: one row of arch features per sample (e.g. ``space.features(arch)``).
        targets: the measured value per sample (e.g. supernet accuracy).
        seed: ``random_state`` of the forest.
        n_estimators: trees (official: 100).
        max_depth: maximum tree depth (official: 15; None: unlimited).

    Raises:
        ConfigError: fewer than 2 samples, or features and targets of different lengths.
    """
    x = np.asarray(features, dtype=np.float64)
    y = np.asarray(targets, dtype=np.float64)
    if x.ndim != 2 or len(x) != len(y) or len(y) < 2:
        raise ConfigError(f"random forest needs >= 2 samples with one feature row each (got "
                          f"{len(x)} rows, {len(y)} targets); evaluate more subnets")
    model = RandomForestRegressor(n_estimators=n_estimators, max_depth=max_depth,
                                  random_state=seed, n_jobs=1)
    model.fit(x, y)
    return model


def predict(model: RandomForestRegressor, features: Sequence[Sequence[float]] | np.ndarray
            ) -> np.ndarray:
    """Predicted targets for ``features`` (float64 array)."""
    return model.predict(np.asarray(features, dtype=np.float64))
