"""Tests for course_nn.gradient_flow: per-layer gradient norms (autograd oracle), init scales,
and the vanishing/exploding behaviour the book's experiment shows."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.gradient_flow import activation_stds, init_mlp_scaled, layer_gradient_norms

pytestmark = pytest.mark.ch6

DEEP = [20] + [32] * 9 + [4]


def test_layer_gradient_norms_match_autograd(torch, rng):
    params = init_mlp_scaled([5, 6, 7, 3], "xavier", rng=0)
    X, y = rng.normal(size=(12, 5)), rng.integers(0, 3, size=12)
    tensors = [torch.tensor(a, requires_grad=True) for W, b in params for a in (W, b)]
    Q = torch.tensor(X)
    for l in range(0, len(tensors), 2):
        Q = Q @ tensors[l].T + tensors[l + 1]
        if l + 2 < len(tensors):
            Q = torch.tanh(Q)
    torch.nn.functional.cross_entropy(Q, torch.tensor(y)).backward()
    expected = [tensors[l].grad.norm().item() for l in range(0, len(tensors), 2)]
    np.testing.assert_allclose(layer_gradient_norms(params, X, y, "tanh"), expected, rtol=1e-10)


def test_init_scales_match_their_formulas():
    params = init_mlp_scaled([400, 300, 10], "he", rng=0)
    assert params[0][0].std() == pytest.approx(np.sqrt(2 / 400), rel=0.02)
    params = init_mlp_scaled([400, 300, 10], "xavier", rng=0)
    assert params[0][0].std() == pytest.approx(np.sqrt(2 / 700), rel=0.02)
    params = init_mlp_scaled([400, 300, 10], 0.5, rng=0)
    assert params[1][0].std() == pytest.approx(0.5, rel=0.05) and not params[1][1].any()
    with pytest.raises(ValueError, match="xavier"):
        init_mlp_scaled([3, 2], "glorious")


def test_deep_networks_vanish_or_explode_unless_scaled(rng):
    """Ten ReLU layers: sigma = 0.01 makes every gradient vanish and sigma = 1 makes them
    explode, next to He's scale; He keeps the signal's scale; sigmoid vanishes anyway."""
    X, y = rng.normal(size=(64, 20)), rng.integers(0, 4, size=64)
    he = layer_gradient_norms(init_mlp_scaled(DEEP, "he", rng=1), X, y, "relu")
    small = layer_gradient_norms(init_mlp_scaled(DEEP, 0.01, rng=1), X, y, "relu")
    big = layer_gradient_norms(init_mlp_scaled(DEEP, 1.0, rng=1), X, y, "relu")
    assert small.max() < 1e-10 * he.min() and big.min() > 1e4 * he.max()
    he_stds = activation_stds(init_mlp_scaled(DEEP, "he", rng=1), X, "relu")
    assert he_stds.shape == (len(DEEP) - 2,) and 0.1 < he_stds[-1] / he_stds[0] < 10
    small_stds = activation_stds(init_mlp_scaled(DEEP, 0.01, rng=1), X, "relu")
    assert small_stds[-1] < 1e-8 * small_stds[0]
    sigmoid = layer_gradient_norms(init_mlp_scaled(DEEP, "xavier", rng=1), X, y, "sigmoid")
    assert sigmoid[0] < 1e-3 * sigmoid[-1]
