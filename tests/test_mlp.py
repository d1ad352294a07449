"""Tests for course_nn.mlp: the forward pass against torch.nn.Sequential, θ, init, notation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_nn.mlp import (
    INIT_STD,
    as_layer_sizes,
    bias_unit_form,
    count_parameters,
    init_mlp,
    layer_sizes_of,
    mlp_forward,
    mlp_forward_bias_unit,
    params_from_bias_unit_form,
    params_to_vector,
    vector_to_params,
)
from tests.strategies import layer_size_lists, seeds

pytestmark = pytest.mark.ch3

TORCH_ACTIVATIONS = {"relu": "ReLU", "tanh": "Tanh", "sigmoid": "Sigmoid", "identity": "Identity"}
SIZES_BY_DEPTH = {1: [5, 3], 2: [5, 7, 3], 3: [5, 7, 4, 3], 4: [5, 6, 7, 4, 3]}


def _random_params(rng, sizes):
    """Random weights *and* biases (init_mlp's zero biases would hide bias bugs)."""
    return [(rng.normal(size=(o, i)), rng.normal(size=o)) for i, o in zip(sizes[:-1], sizes[1:],
                                                                         strict=True)]


def _torch_sequential(torch, params, activation):
    """nn.Sequential(Linear, h, Linear, h, ..., Linear) holding copies of ``params``."""
    layers = []
    for l, (W, b) in enumerate(params, start=1):
        linear = torch.nn.Linear(W.shape[1], W.shape[0])
        with torch.no_grad():
            linear.weight.copy_(torch.tensor(W))
            linear.bias.copy_(torch.tensor(b))
        layers.append(linear)
        if l < len(params):
            layers.append(getattr(torch.nn, TORCH_ACTIVATIONS[activation])())
    return torch.nn.Sequential(*layers)


@pytest.mark.parametrize("activation", sorted(TORCH_ACTIVATIONS))
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_forward_matches_torch_sequential(torch, rng, depth, activation):
    params = _random_params(rng, SIZES_BY_DEPTH[depth])
    X = rng.normal(scale=2.0, size=(6, 5))
    want = _torch_sequential(torch, params, activation)(torch.tensor(X)).detach().numpy()
    got = mlp_forward(params, X, activation)
    assert got.shape == (6, 3) and got.dtype == np.float64
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_forward_cache_holds_every_layer(rng):
    params = _random_params(rng, [4, 6, 5, 2])
    X = rng.normal(size=(3, 4))
    out, cache = mlp_forward(params, X, "relu", return_cache=True)
    assert cache.Z[0] is None and len(cache.Z) == len(cache.Q) == 4
    np.testing.assert_array_equal(cache.Q[0], X)
    for l, (W, b) in enumerate(params, start=1):
        np.testing.assert_allclose(cache.Z[l], cache.Q[l - 1] @ W.T + b)
        want_Q = cache.Z[l] if l == 3 else np.maximum(cache.Z[l], 0)
        np.testing.assert_array_equal(cache.Q[l], want_Q)
    np.testing.assert_array_equal(out, cache.Q[-1])


def test_last_layer_is_linear(rng):
    """Negative logits survive: no ReLU on the output."""
    params = [(np.eye(2), np.zeros(2)), (-np.eye(2), np.zeros(2))]
    out = mlp_forward(params, np.array([[1.0, 2.0]]), "relu")
    np.testing.assert_array_equal(out, [[-1.0, -2.0]])


def test_forward_edge_cases(rng):
    params = _random_params(rng, [3, 4, 2])
    one = mlp_forward(params, rng.normal(size=(1, 3)))
    assert one.shape == (1, 2)
    huge = mlp_forward(params, np.full((2, 3), 1e4), "sigmoid")
    assert np.all(np.isfinite(huge))
    empty = mlp_forward(params, np.zeros((0, 3)))
    assert empty.shape == (0, 2)
    # p = 0 inputs: the output is the bias path only
    no_inputs = [(np.zeros((4, 0)), np.ones(4)), (np.ones((2, 4)), np.zeros(2))]
    np.testing.assert_array_equal(mlp_forward(no_inputs, np.zeros((2, 0))), np.full((2, 2), 4.0))


def test_forward_does_not_mutate_inputs(rng):
    params = _random_params(rng, [3, 4, 2])
    X = rng.normal(size=(5, 3))
    before = [(W.copy(), b.copy()) for W, b in params], X.copy()
    mlp_forward(params, X, "tanh", return_cache=True)
    np.testing.assert_array_equal(X, before[1])
    for (W, b), (W0, b0) in zip(params, before[0], strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)


def test_mismatched_layers_name_the_layer_and_both_shapes(rng):
    params = _random_params(rng, [3, 4, 2])
    params[1] = (rng.normal(size=(2, 5)), np.zeros(2))
    with pytest.raises(ValueError, match=r"layer 2: W2 of shape \(2, 5\).*W1 gives 4"):
        mlp_forward(params, rng.normal(size=(2, 3)))
    with pytest.raises(ValueError, match=r"layer 1: W1 of shape \(4, 3\).*X gives 7"):
        mlp_forward(_random_params(rng, [3, 4, 2]), rng.normal(size=(2, 7)))
    with pytest.raises(ValueError, match=r"layer 1: b1 must have shape \(4,\).*got \(3,\)"):
        mlp_forward([(np.ones((4, 3)), np.ones(3))], np.ones((1, 3)))
    with pytest.raises(ValueError, match="at least one layer"):
        mlp_forward([], np.ones((1, 3)))
    with pytest.raises(ValueError, match="unknown activation 'softplus'"):
        mlp_forward(_random_params(rng, [3, 2]), np.ones((1, 3)), "softplus")


# --- θ ---------------------------------------------------------------------------------
@given(sizes=layer_size_lists(), seed=seeds())
def test_theta_round_trip(sizes, seed):
    rng = np.random.default_rng(seed)
    params = _random_params(rng, sizes)
    theta = params_to_vector(params)
    assert theta.shape == (count_parameters(sizes),)
    back = vector_to_params(theta, np.array(sizes))
    for (W, b), (W2, b2) in zip(params, back, strict=True):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)
    np.testing.assert_array_equal(params_to_vector(back), theta)
    assert layer_sizes_of(back) == sizes


def test_theta_order_is_vec_w_then_b_row_major():
    W1 = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])  # (3, 2)
    params = [(W1, np.array([7.0, 8.0, 9.0])), (np.array([[10.0, 11.0, 12.0]]), np.array([13.0]))]
    np.testing.assert_array_equal(params_to_vector(params), np.arange(1.0, 14.0))


def test_vector_to_params_copies_and_checks_length():
    theta = np.arange(9.0)
    params = vector_to_params(theta, [2, 3])
    params[0][0][0, 0] = 100.0
    assert theta[0] == 0.0
    with pytest.raises(ValueError, match="theta must have 9 entries .* got 8"):
        vector_to_params(np.arange(8.0), [2, 3])


def test_count_parameters():
    assert count_parameters([4, 3]) == 15  # the lectures' softmax regression: 12 + 3
    assert count_parameters([64, 128, 10]) == 64 * 128 + 128 + 128 * 10 + 10
    assert count_parameters(np.array([400, 25, 10])) == 401 * 25 + 26 * 10
    with pytest.raises(ValueError, match="at least 2 entries"):
        count_parameters([5])
    with pytest.raises(ValueError, match="positive"):
        count_parameters([5, 0, 2])
    with pytest.raises(ValueError, match="integers"):
        as_layer_sizes([5, 2.5])


# --- bias-unit notation ----------------------------------------------------------------
@pytest.mark.parametrize("activation", ["relu", "sigmoid"])
def test_bias_unit_form_is_the_same_model(rng, activation):
    params = _random_params(rng, [5, 7, 4, 3])
    thetas = bias_unit_form(params)
    assert [T.shape for T in thetas] == [(7, 6), (4, 8), (3, 5)]  # s_{j+1} x (s_j + 1)
    np.testing.assert_array_equal(thetas[0][:, 0], params[0][1])
    X = rng.normal(size=(4, 5))
    np.testing.assert_allclose(mlp_forward_bias_unit(thetas, X, activation),
                               mlp_forward(params, X, activation), rtol=1e-13, atol=1e-13)
    for (W, b), (W2, b2) in zip(params, params_from_bias_unit_form(thetas), strict=True):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)


def test_bias_unit_forward_checks_shapes(rng):
    with pytest.raises(ValueError, match=r"layer 1: Theta1 of shape \(2, 4\)"):
        mlp_forward_bias_unit([np.ones((2, 4))], np.ones((1, 2)))


# --- initialisation --------------------------------------------------------------------
def test_init_shapes_zero_biases_and_never_all_zero():
    params = init_mlp([64, 32, 16, 10], rng=0)
    assert [W.shape for W, _ in params] == [(32, 64), (16, 32), (10, 16)]
    for W, b in params:
        assert W.dtype == np.float64
        np.testing.assert_array_equal(b, 0.0)
        assert np.all(W != 0)
        assert len(np.unique(W)) == W.size  # no two weights equal: the symmetry is broken


def test_init_is_seeded():
    a, b = init_mlp([5, 4, 3], rng=7), init_mlp([5, 4, 3], rng=np.random.default_rng(7))
    c = init_mlp([5, 4, 3], rng=8)
    for (Wa, _), (Wb, _), (Wc, _) in zip(a, b, c, strict=True):
        np.testing.assert_array_equal(Wa, Wb)
        assert not np.array_equal(Wa, Wc)


@pytest.mark.parametrize(("activation", "want_var"), [
    ("relu", lambda fan_in, fan_out: 2 / fan_in),
    ("tanh", lambda fan_in, fan_out: 2 / (fan_in + fan_out)),
    ("sigmoid", lambda fan_in, fan_out: 2 / (fan_in + fan_out)),
])
def test_init_scale_he_for_relu_glorot_otherwise(activation, want_var):
    (W, _), = init_mlp([400, 300], rng=1, activation=activation)
    np.testing.assert_allclose(W.var(), want_var(400, 300), rtol=0.02)
    assert abs(W.mean()) < 0.02 * W.std()


def test_init_keeps_relu_signal_variance_through_depth(rng):
    """He scaling: the mean square of the pre-activations stays about constant."""
    params = init_mlp([500, 500, 500, 500, 500], rng=2, activation="relu")
    _, cache = mlp_forward(params, rng.normal(size=(200, 500)), "relu", return_cache=True)
    mean_squares = [float(np.mean(Z**2)) for Z in cache.Z[1:]]
    np.testing.assert_allclose(mean_squares, mean_squares[0], rtol=0.2)


def test_init_rejects_unknown_activation():
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        init_mlp([3, 2], activation="swish")
    assert set(INIT_STD) == {"relu", "tanh", "sigmoid", "identity"}


@given(sizes=st.lists(st.integers(1, 6), min_size=2, max_size=5), seed=seeds())
def test_init_property_random_and_shaped(sizes, seed):
    params = init_mlp(sizes, rng=seed)
    assert layer_sizes_of(params) == sizes
    assert all(np.any(W != 0) for W, _ in params)
