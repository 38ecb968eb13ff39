"""The one random-forest predictor (AttentiveNAS Sec. 3.3; FBNetV3's baseline): it ranks a
synthetic target well on held-out points, is deterministic per seed, and rejects bad input."""

from __future__ import annotations

import numpy as np
import pytest

from nasrepro.errors import ConfigError
from nasrepro.metrics.ranking import kendall_tau_ci
from nasrepro.predictors.random_forest import MAX_DEPTH, N_ESTIMATORS, fit_random_forest, predict


def synthetic(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Arch-like integer features and a smooth target with a little noise."""
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 7, size=(n, 8)).astype(float)
    y = 60 + 2.0 * x[:, 0] + 1.0 * x[:, 1] - 0.5 * x[:, 2] + 0.2 * rng.standard_normal(n)
    return x, y


def test_official_settings() -> None:
    model = fit_random_forest(*synthetic(20, 0), seed=0)
    assert (N_ESTIMATORS, MAX_DEPTH) == (100, 15)
    assert model.n_estimators == 100 and model.max_depth == 15 and model.n_jobs == 1


def test_ranks_held_out_points_of_a_synthetic_target() -> None:
    x, y = synthetic(300, 1)
    model = fit_random_forest(x[:200], y[:200], seed=0, n_estimators=50)
    tau = kendall_tau_ci(predict(model, x[200:]), y[200:], n_resamples=200, seed=0)
    assert tau["tau"] > 0.6 and tau["low"] > 0.5 and tau["n"] == 100
    # a target unrelated to the features is not ranked
    rng = np.random.default_rng(5)
    noise = rng.standard_normal(300)
    model = fit_random_forest(x[:200], noise[:200], seed=0, n_estimators=50)
    assert abs(kendall_tau_ci(predict(model, x[200:]), noise[200:], n_resamples=200)["tau"]) < 0.3


def test_deterministic_per_seed() -> None:
    x, y = synthetic(60, 2)
    a = predict(fit_random_forest(x, y, seed=3, n_estimators=20), x)
    b = predict(fit_random_forest(x, y, seed=3, n_estimators=20), x)
    c = predict(fit_random_forest(x, y, seed=4, n_estimators=20), x)
    assert np.array_equal(a, b) and not np.array_equal(a, c)
    assert a.dtype == np.float64 and a.shape == (60,)


def test_bad_input() -> None:
    with pytest.raises(ConfigError, match="evaluate more subnets"):
        fit_random_forest([[1.0, 2.0]], [1.0], seed=0)
    with pytest.raises(ConfigError):
        fit_random_forest([[1.0], [2.0], [3.0]], [1.0, 2.0], seed=0)
