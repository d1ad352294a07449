"""Tests for course_nn.activations: values and derivatives against PyTorch, properties, edges."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_nn.activations import (
    ACTIVATIONS,
    get_activation,
    identity,
    identity_grad,
    relu,
    relu_grad,
    sigmoid,
    sigmoid_grad,
    tanh,
    tanh_grad,
)
from tests.strategies import any_arrays, huge_floats, moderate_floats

pytestmark = pytest.mark.ch2

EXTREMES = np.array([-1e4, -1000.0, -40.0, -1.0, 0.0, 1.0, 40.0, 1000.0, 1e4])

def _torch_value_and_grad(torch, name, x):
    """h(x) and dh/dx element-wise from autograd (the sum's gradient is the diagonal)."""
    t = torch.tensor(x, requires_grad=True)
    out = t * 1.0 if name == "identity" else getattr(torch, name)(t)
    out.sum().backward()
    return out.detach().numpy(), t.grad.numpy()


@pytest.fixture
def points(rng):
    """A 2-D batch of moderate values plus exact zeros and the extremes."""
    x = rng.normal(scale=4.0, size=(6, 5))
    x[0, :2] = 0.0
    return np.concatenate([x.ravel(), EXTREMES]).reshape(3, 13)


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_values_and_derivatives_match_torch(torch, points, name):
    h, h_grad = ACTIVATIONS[name]
    want_h, want_grad = _torch_value_and_grad(torch, name, points)
    np.testing.assert_allclose(h(points), want_h, rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(h_grad(points), want_grad, rtol=1e-9, atol=1e-15)
    assert h(points).shape == h_grad(points).shape == points.shape


@pytest.mark.parametrize("name", list(ACTIVATIONS))
@given(x=any_arrays(max_dims=3, elements=huge_floats))
def test_any_shape_float64_and_input_untouched(name, x):
    h, h_grad = ACTIVATIONS[name]
    before = x.copy()
    for f in (h, h_grad):
        out = f(x)
        assert out.shape == x.shape and out.dtype == np.float64
        assert np.all(np.isfinite(out))
        assert out is not x
    np.testing.assert_array_equal(x, before)


def test_integer_and_scalar_inputs_give_float64():
    assert relu(np.array([1, -2, 0])).dtype == np.float64
    np.testing.assert_array_equal(relu([1, -2, 0]), [1.0, 0.0, 0.0])
    assert sigmoid(0).shape == () and float(sigmoid(0)) == 0.5
    assert float(tanh_grad(0.0)) == 1.0 and float(sigmoid_grad(0.0)) == 0.25


def test_identity_returns_a_copy():
    x = np.array([1.0, -2.0])
    y = identity(x)
    y[0] = 5.0
    assert x[0] == 1.0
    np.testing.assert_array_equal(identity_grad(np.zeros((2, 3))), np.ones((2, 3)))


# --- edge cases that break naive code -----------------------------------------------
@pytest.mark.parametrize("big", [1000.0, 1e4])
def test_sigmoid_huge_inputs_exact_and_silent(big):
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any overflow/invalid warning fails the test
        values = sigmoid(np.array([-big, big]))
        grads = sigmoid_grad(np.array([-big, big]))
        tanhs = tanh(np.array([-big, big]))
        tanh_grads = tanh_grad(np.array([-big, big]))
    np.testing.assert_array_equal(values, [0.0, 1.0])
    np.testing.assert_array_equal(grads, [0.0, 0.0])
    np.testing.assert_array_equal(tanhs, [-1.0, 1.0])
    np.testing.assert_array_equal(tanh_grads, [0.0, 0.0])


def test_sigmoid_infinities_give_the_limits():
    np.testing.assert_array_equal(sigmoid([-np.inf, np.inf]), [0.0, 1.0])
    np.testing.assert_array_equal(sigmoid_grad([-np.inf, np.inf]), [0.0, 0.0])


def test_sigmoid_grad_keeps_precision_where_sigmoid_rounds_to_one(torch):
    """At x = 40, sigma(x) == 1.0 in float64, but sigma'(40) = e^-40 / (1+e^-40)^2 > 0."""
    x = np.array([40.0, -40.0])
    np.testing.assert_allclose(sigmoid_grad(x), np.exp(-40.0) / (1 + np.exp(-40.0)) ** 2,
                               rtol=1e-12)


def test_relu_and_its_derivative_at_zero():
    np.testing.assert_array_equal(relu([0.0, -0.0]), [0.0, 0.0])
    np.testing.assert_array_equal(relu_grad([0.0, -0.0, 1e-300, -1e-300]), [0.0, 0.0, 1.0, 0.0])


def test_empty_input():
    for h, h_grad in ACTIVATIONS.values():
        assert h(np.zeros((0, 3))).shape == (0, 3)
        assert h_grad(np.zeros(0)).shape == (0,)


# --- properties ---------------------------------------------------------------------
@given(x=any_arrays(elements=huge_floats))
def test_sigmoid_symmetry_and_range(x):
    s = sigmoid(x)
    assert np.all((s >= 0) & (s <= 1))
    np.testing.assert_allclose(sigmoid(-x), 1.0 - s, rtol=0, atol=2e-16)


@given(x=any_arrays(elements=huge_floats))
def test_sigmoid_grad_is_sigma_times_one_minus_sigma(x):
    s = sigmoid(x)
    g = sigmoid_grad(x)
    # s * (1 - s) is the less accurate side: 1 - s carries s's rounding error (up to eps
    # absolute), so the two agree to a few eps, not to one ulp (seen: 1.2e-16 at x = 2).
    np.testing.assert_allclose(g, s * (1 - s), rtol=0, atol=4 * np.finfo(float).eps)
    assert np.all((g >= 0) & (g <= 0.25))


@given(x=any_arrays(elements=huge_floats))
def test_relu_idempotent_and_odd_part(x):
    np.testing.assert_array_equal(relu(relu(x)), relu(x))
    np.testing.assert_array_equal(relu(x) - relu(-x), x)
    np.testing.assert_array_equal(relu(x), x * relu_grad(x))


@given(x=any_arrays(elements=moderate_floats))
def test_tanh_is_a_rescaled_sigmoid(x):
    np.testing.assert_allclose(tanh(x), 2 * sigmoid(2 * x) - 1, rtol=0, atol=1e-15)
    np.testing.assert_allclose(tanh_grad(x), 4 * sigmoid_grad(2 * x), rtol=1e-9, atol=1e-15)


@given(x=st.floats(-30, 30), name=st.sampled_from(["sigmoid", "tanh"]))
def test_derivatives_match_central_differences(x, name):
    h, h_grad = get_activation(name)
    eps = 1e-6
    numeric = (h(x + eps) - h(x - eps)) / (2 * eps)
    np.testing.assert_allclose(h_grad(x), numeric, rtol=1e-5, atol=1e-9)


# --- the table and errors -----------------------------------------------------------
def test_table_pairs_each_function_with_its_derivative():
    assert set(ACTIVATIONS) == {"sigmoid", "relu", "tanh", "identity"}
    assert ACTIVATIONS["sigmoid"] == (sigmoid, sigmoid_grad)
    assert ACTIVATIONS["relu"] == (relu, relu_grad)
    assert ACTIVATIONS["tanh"] == (tanh, tanh_grad)
    assert get_activation("identity") == (identity, identity_grad)


@pytest.mark.parametrize("name", ["softplus", "Sigmoid", "", None])
def test_unknown_activation_lists_the_known_names(name):
    with pytest.raises(ValueError, match=r"unknown activation .*'sigmoid', 'relu', 'tanh'"):
        get_activation(name)


@pytest.mark.parametrize("f", [sigmoid, relu, tanh, sigmoid_grad, relu_grad, tanh_grad])
def test_bad_input_raises_value_error(f):
    with pytest.raises(ValueError, match="x must not contain NaN"):
        f(np.array([0.0, np.nan]))
    with pytest.raises(ValueError, match="x must be numeric array-like, got str"):
        f("one")
