"""Tests for course_nn.perceptron: the batch update is the criterion's gradient (autograd),
and the perceptron separates what scikit-learn's perceptron separates."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.perceptron import batch_perceptron, perceptron_delta

pytestmark = pytest.mark.ch6


def _separable(rng, n=60):
    X = rng.normal(size=(n, 2))
    y = np.where(X @ [1.0, -2.0] + 0.3 > 0, 1.0, -1.0)
    keep = np.abs(X @ [1.0, -2.0] + 0.3) > 0.2  # a margin, so the perceptron ends quickly
    return X[keep], y[keep]


def test_delta_is_minus_n_times_the_criterion_gradient(torch, rng):
    X, y = _separable(rng)
    W, b = rng.normal(size=2), 0.4
    theta = torch.tensor(np.concatenate([[b], W]), requires_grad=True)
    criterion = torch.mean(torch.relu(-torch.tensor(y) * (torch.tensor(X) @ theta[1:] + theta[0])))
    criterion.backward()
    delta, mistakes = perceptron_delta(X, y, W, b)
    np.testing.assert_allclose(delta, -len(X) * theta.grad.numpy(), rtol=1e-12, atol=1e-12)
    assert mistakes == int(np.sum(y * (X @ W + b) <= 0)) > 0


def test_stops_when_delta_is_small_with_no_mistakes_like_sklearn(rng):
    from sklearn.linear_model import Perceptron

    X, y = _separable(rng)
    result = batch_perceptron(X, y, epsilon=1e-9, max_epochs=5000)
    assert result.delta_norms[-1] < 1e-9 and result.mistakes[-1] == 0
    assert result.epochs < 5000
    assert np.all(np.sign(X @ result.W + result.b) == y)
    assert Perceptron(random_state=0).fit(X, y).score(X, y) == 1.0  # the oracle agrees: separable
    assert result.mistakes[0] == len(X)  # zero weights: every sample counts as a mistake


def test_non_separable_data_runs_to_max_epochs_and_labels_are_checked(rng):
    X = rng.normal(size=(40, 2))
    y = np.where(X[:, 0] * X[:, 1] > 0, 1.0, -1.0)  # quadrants: not linearly separable
    result = batch_perceptron(X, y, max_epochs=50)
    assert result.epochs == 50 and min(result.mistakes) > 0
    with pytest.raises(ValueError, match="-1 and \\+1"):
        perceptron_delta(X, np.zeros(40), np.zeros(2), 0.0)


def test_small_delta_is_not_the_same_as_no_mistakes():
    """XOR from zero weights: the four corrections cancel, so the rule stops at once."""
    X = np.array([[0.0, 0.0], [1.0, 1.0], [0.0, 1.0], [1.0, 0.0]])
    result = batch_perceptron(X, np.array([-1.0, -1.0, 1.0, 1.0]))
    assert result.epochs == 1 and result.delta_norms == [0.0] and result.mistakes == [4]
