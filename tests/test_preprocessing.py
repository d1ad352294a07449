"""Tests for course_nn.preprocessing and the learning-rate limit of course_nn.linear."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.linear import gradient_descent, learning_rate_limit, mse, mse_hessian
from course_nn.preprocessing import fit_standardisation, standardise

pytestmark = pytest.mark.ch1


def test_standardise_matches_sklearn(rng):
    from sklearn.preprocessing import StandardScaler

    X = rng.normal(size=(40, 3)) * [1.0, 50.0, 0.01] + [3.0, -200.0, 0.5]
    X[:, 2] = 7.0  # a constant feature: scale 1, maps to 0
    X_std, fitted = standardise(X)
    scaler = StandardScaler().fit(X)
    np.testing.assert_allclose(X_std, scaler.transform(X), atol=1e-12)
    X_new = rng.normal(size=(5, 3))
    np.testing.assert_allclose(fitted.transform(X_new), scaler.transform(X_new), atol=1e-12)
    np.testing.assert_allclose(fitted.inverse_transform(X_std), X, atol=1e-10)


def test_transform_checks_the_number_of_features(rng):
    fitted = fit_standardisation(rng.normal(size=(10, 2)))
    with pytest.raises(ValueError, match="2"):
        fitted.transform(rng.normal(size=(4, 3)))


def test_hessian_matches_autograd(torch, rng):
    X, y = rng.normal(size=(30, 2)) * [1.0, 8.0], rng.normal(size=30)
    Xt, yt = torch.tensor(X), torch.tensor(y)

    def cost(theta):
        return torch.mean((Xt @ theta[1:] + theta[0] - yt) ** 2)

    H = torch.autograd.functional.hessian(cost, torch.zeros(3)).numpy()
    np.testing.assert_allclose(mse_hessian(X), H, rtol=1e-10, atol=1e-12)


def test_limit_separates_convergence_from_divergence(rng):
    X = rng.uniform(-3, 3, size=(50, 2)) * [1.0, 10.0]
    y = X @ [0.5, -0.2] + 1.0 + rng.normal(scale=0.1, size=50)
    limit = learning_rate_limit(X)
    below = gradient_descent(X, y, learning_rate=0.95 * limit, epochs=3000).history
    above = gradient_descent(X, y, learning_rate=1.05 * limit, epochs=300).history
    assert below[-1] < 0.02 and above[-1] > 1e3 * above[0]


def test_standardising_raises_the_limit(rng):
    """A feature 10 times larger lowers the limit about 100 times; standardising undoes it."""
    X = rng.uniform(-3, 3, size=(50, 2)) * [1.0, 10.0]
    y = X @ [0.5, -0.2] + 1.0
    X_std, _ = standardise(X)
    assert learning_rate_limit(X_std) > 50 * learning_rate_limit(X)
    fast = gradient_descent(X_std, y, learning_rate=0.9 * learning_rate_limit(X_std), epochs=100)
    assert mse(X_std @ fast.W + fast.b, y) < 1e-6
