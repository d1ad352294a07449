"""Tests for course_nn.gradcheck: central differences, relative error, the per-layer report."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from course_nn.backprop import mlp_loss_and_grads
from course_nn.gradcheck import check_gradients, numerical_gradient, relative_error
from tests.strategies import any_arrays, matrices, vectors

pytestmark = pytest.mark.ch6


def _problem(rng, sizes, n=6):
    params = [(rng.normal(size=(o, i)), rng.normal(size=o))
              for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    return params, rng.normal(size=(n, sizes[0])), rng.integers(0, sizes[-1], size=n)


# --- numerical_gradient ------------------------------------------------------------------
def test_numerical_gradient_of_a_cubic_matches_the_derivative(rng):
    x = rng.normal(size=(3, 4))
    got = numerical_gradient(lambda v: np.sum(v**3), x)
    assert got.shape == x.shape
    np.testing.assert_allclose(got, 3 * x**2, rtol=1e-7, atol=1e-8)


@given(x=any_arrays(max_dims=3))
def test_numerical_gradient_of_a_quadratic_is_exact_in_shape(x):
    got = numerical_gradient(lambda v: 0.5 * np.sum(v**2), x, eps=1e-3)
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_allclose(got, x, rtol=1e-6, atol=1e-6)


def test_numerical_gradient_against_torch_autograd(torch, rng):
    A, x = rng.normal(size=(4, 4)), rng.normal(size=4)

    def f(v):
        return float(np.log1p(np.exp(A @ v)).sum())

    t = torch.tensor(x, requires_grad=True)
    torch.nn.functional.softplus(torch.tensor(A) @ t).sum().backward()
    np.testing.assert_allclose(numerical_gradient(f, x), t.grad.numpy(), rtol=1e-7, atol=1e-9)


def test_numerical_gradient_leaves_x_alone(rng):
    x = rng.normal(size=5)
    before = x.copy()
    seen = []

    def f(v):
        seen.append(v is x)
        return float(np.sum(np.sin(v)))

    numerical_gradient(f, x)
    assert not any(seen)  # f only ever sees a perturbed copy
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_rejects_bad_eps():
    with pytest.raises(ValueError, match="eps must be positive, got 0"):
        numerical_gradient(np.sum, np.ones(2), eps=0)


# --- relative_error ----------------------------------------------------------------------
def test_relative_error_values():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0  # no 0/0
    assert relative_error([1.0, -2.0], [1.0, -1.0]) == pytest.approx(1 / 3)
    assert relative_error(2 * np.ones(4), np.ones(4)) == pytest.approx(1 / 3)
    assert relative_error(np.ones(2), -np.ones(2)) == pytest.approx(1.0)
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        relative_error(np.ones(2), np.ones(3))


@given(a=vectors(), b=vectors())
def test_relative_error_is_symmetric_and_bounded(a, b):
    n = min(a.size, b.size)
    a, b = a[:n], b[:n]
    e = relative_error(a, b)
    assert e == pytest.approx(relative_error(b, a)) and 0 <= e <= 1


@given(a=matrices(), scale=vectors(min_size=1, max_size=1))
def test_relative_error_is_scale_free(a, scale):
    s = abs(scale[0]) + 1e-3
    b = a + 0.1 * np.abs(a) + 0.5
    np.testing.assert_allclose(relative_error(s * a, s * b), relative_error(a, b), rtol=1e-9)


# --- check_gradients ---------------------------------------------------------------------
@pytest.mark.parametrize(("sizes", "activation", "l2"), [
    ([3, 2], "identity", 0.0),
    ([3, 4, 2], "tanh", 0.1),
    ([3, 4, 5, 2], "sigmoid", 0.0),
    ([3, 4, 4, 3, 2], "relu", 0.05),
])
def test_reference_gradients_pass(rng, sizes, activation, l2):
    params, X, y = _problem(rng, sizes)
    report = check_gradients(params, X, y, activation, l2)
    assert report.ok and bool(report)
    assert [c.name for c in report.checks][:2] == ["W1", "b1"]
    assert len(report.checks) == 2 * (len(sizes) - 1)
    assert report.worst.relative_error < 1e-7
    assert str(report).startswith(f"all {len(report.checks)} gradients match")


def _scaled_layer_2_weights(params, X, y, activation, l2):
    loss, grads = mlp_loss_and_grads(params, X, y, activation, l2)
    grads[1] = (2 * grads[1][0], grads[1][1])
    return loss, grads


def _bias_penalised(params, X, y, activation, l2):
    loss, grads = mlp_loss_and_grads(params, X, y, activation, l2)
    return loss, [(dW, db + l2 * b) for (dW, db), (_, b) in zip(grads, params, strict=True)]


def test_wrong_layer_2_weights_are_named(rng):
    params, X, y = _problem(rng, [3, 4, 5, 2])
    report = check_gradients(params, X, y, "tanh", 0.0, loss_and_grads=_scaled_layer_2_weights)
    assert not report.ok
    assert [c.name for c in report.checks if not c.ok] == ["W2"]
    assert report.worst.relative_error == pytest.approx(1 / 3, rel=1e-5)
    assert str(report).startswith("gradient of layer 2 weights off by relative error 0.33")


def test_bias_penalty_is_caught(rng):
    params, X, y = _problem(rng, [3, 4, 2])
    report = check_gradients(params, X, y, "relu", 0.5, loss_and_grads=_bias_penalised)
    assert {c.name for c in report.checks if not c.ok} == {"b1", "b2"}
    assert "bias" in str(report)


def test_wrong_shape_is_reported(rng):
    params, X, y = _problem(rng, [3, 4, 2])

    def transposed(params, X, y, activation, l2):
        loss, grads = mlp_loss_and_grads(params, X, y, activation, l2)
        return loss, [(dW.T, db) for dW, db in grads]

    report = check_gradients(params, X, y, "relu", loss_and_grads=transposed)
    assert str(report).startswith("gradient of layer 1 weights has the wrong shape")
