"""Tests for course_nn.logistic: log loss and gradients vs PyTorch, fitting vs scikit-learn,
and the Boolean units of the lectures."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_nn.activations import sigmoid
from course_nn.logistic import (
    BOOLEAN_WEIGHTS,
    XOR_PARAMS,
    LogisticRegressionResult,
    binary_cross_entropy_with_logits,
    boolean_unit,
    fit_logistic,
    logistic_forward,
    logistic_grads,
    predict_logistic,
    xor_network,
)
from tests.strategies import huge_floats, seeds, vectors

pytestmark = pytest.mark.ch2

TRUTH_INPUTS = np.array([[0, 0], [0, 1], [1, 0], [1, 1]])


def _two_blobs(rng, n=200, gap=4.0, noise=1.0):
    """Two Gaussian classes in R^2 whose means are ``gap`` apart (separable if gap >> noise)."""
    y = rng.integers(0, 2, size=n)
    X = rng.normal(scale=noise, size=(n, 2)) + np.where(y[:, None] == 1, gap / 2, -gap / 2)
    return X, y


# --- forward and loss vs torch ------------------------------------------------------
def test_forward_matches_torch(torch, rng):
    X, w, b = rng.normal(size=(7, 3)), rng.normal(size=3), rng.normal()
    want = torch.sigmoid(torch.tensor(X) @ torch.tensor(w) + b).numpy()
    got = logistic_forward(X, w, b)
    assert got.shape == (7,)
    np.testing.assert_allclose(got, want, rtol=1e-12)


@pytest.mark.parametrize("n", [1, 2, 9])
def test_log_loss_matches_torch(torch, rng, n):
    z = rng.normal(scale=3.0, size=n)
    y = rng.integers(0, 2, size=n).astype(float)
    want = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y))
    assert binary_cross_entropy_with_logits(z, y) == pytest.approx(want.item(), rel=1e-12)


def test_log_loss_soft_targets_match_torch(torch, rng):
    z, y = rng.normal(size=(4, 3)), rng.uniform(size=(4, 3))
    want = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y))
    assert binary_cross_entropy_with_logits(z, y) == pytest.approx(want.item(), rel=1e-12)


def test_log_loss_matches_its_definition_in_probabilities(rng):
    z, y = rng.normal(size=20), rng.integers(0, 2, size=20)
    p = sigmoid(z)
    by_definition = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    assert binary_cross_entropy_with_logits(z, y) == pytest.approx(by_definition, rel=1e-10)


def test_log_loss_huge_logits_finite_and_exact(torch):
    z = np.array([1e4, -1e4, 1e4, -1e4, 1000.0, -1000.0])
    y = np.array([1.0, 0.0, 0.0, 1.0, 1.0, 0.0])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        loss = binary_cross_entropy_with_logits(z, y)
    # right with certainty costs 0, wrong with logit 1e4 costs 1e4
    assert loss == pytest.approx((0 + 0 + 1e4 + 1e4 + 0 + 0) / 6, rel=1e-15)
    want = torch.nn.functional.binary_cross_entropy_with_logits(torch.tensor(z), torch.tensor(y))
    assert loss == pytest.approx(want.item(), rel=1e-12)


@given(z=vectors(elements=huge_floats), flip=st.booleans())
def test_log_loss_is_finite_nonnegative_and_symmetric(z, flip):
    y = (z > 0).astype(float) if flip else (z <= 0).astype(float)
    loss = binary_cross_entropy_with_logits(z, y)
    assert np.isfinite(loss) and loss >= 0
    # swapping the classes and the sign of the logits changes nothing
    assert binary_cross_entropy_with_logits(-z, 1 - y) == pytest.approx(loss, rel=1e-12, abs=0)


# --- gradients vs autograd ----------------------------------------------------------
@pytest.mark.parametrize(("n", "p"), [(1, 1), (1, 4), (6, 1), (25, 3)])
def test_grads_match_autograd(torch, rng, n, p):
    X, y = rng.normal(size=(n, p)), rng.integers(0, 2, size=n).astype(float)
    w, b = rng.normal(size=p), rng.normal()
    tw = torch.tensor(w, requires_grad=True)
    tb = torch.tensor(b, requires_grad=True)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(X) @ tw + tb, torch.tensor(y))
    loss.backward()
    dw, db = logistic_grads(X, y, w, b)
    assert dw.shape == (p,) and np.shape(db) == ()
    np.testing.assert_allclose(dw, tw.grad.numpy(), rtol=1e-10, atol=1e-14)
    assert float(db) == pytest.approx(tb.grad.item(), rel=1e-10, abs=1e-14)


@given(seed=seeds())
def test_grads_match_central_differences(seed):
    rng = np.random.default_rng(seed)
    X, y = rng.normal(size=(5, 2)), rng.integers(0, 2, size=5)
    theta = rng.normal(size=3)  # [w1, w2, b]

    def loss(t):
        return binary_cross_entropy_with_logits(X @ t[:2] + t[2], y)

    eps = 1e-6
    numeric = np.array([(loss(theta + eps * e) - loss(theta - eps * e)) / (2 * eps)
                        for e in np.eye(3)])
    dw, db = logistic_grads(X, y, theta[:2], theta[2])
    np.testing.assert_allclose(np.append(dw, db), numeric, rtol=1e-5, atol=1e-8)


def test_grads_do_not_modify_inputs(rng):
    X, y, w = rng.normal(size=(4, 2)), np.array([0, 1, 1, 0]), rng.normal(size=2)
    copies = [a.copy() for a in (X, y, w)]
    logistic_grads(X, y, w, 0.5)
    for a, c in zip((X, y, w), copies, strict=True):
        np.testing.assert_array_equal(a, c)


# --- fitting ------------------------------------------------------------------------
def test_fit_separable_reaches_high_accuracy(rng):
    X, y = _two_blobs(rng, gap=6.0)
    result = fit_logistic(X, y, learning_rate=0.5, epochs=200)
    assert isinstance(result, LogisticRegressionResult)
    assert result.w.shape == (2,) and np.shape(result.b) == ()
    assert np.mean(predict_logistic(X, result.w, result.b) == y) >= 0.95


def test_fit_history_decreases(rng):
    X, y = _two_blobs(rng, gap=1.0)
    result = fit_logistic(X, y, learning_rate=0.5, epochs=50)
    assert len(result.history) == 51
    assert result.history[0] == pytest.approx(np.log(2))  # w = 0, b = 0 predicts 1/2
    assert np.all(np.diff(result.history) <= 1e-15)


def test_fit_matches_sklearn_on_overlapping_classes(rng):
    sklearn = pytest.importorskip("sklearn.linear_model")
    X, y = _two_blobs(rng, n=300, gap=1.5)
    ours = fit_logistic(X, y, learning_rate=1.0, epochs=3000)
    # no penalty; scikit-learn >= 1.8 spells penalty=None as C=inf
    theirs = sklearn.LogisticRegression(C=np.inf, tol=1e-12, max_iter=10_000).fit(X, y)
    w_sk, b_sk = theirs.coef_[0], theirs.intercept_[0]
    loss_sk = binary_cross_entropy_with_logits(X @ w_sk + b_sk, y)
    assert ours.history[-1] - loss_sk < 1e-3
    assert ours.history[-1] >= loss_sk - 1e-9  # sklearn found the minimum
    np.testing.assert_allclose(ours.w, w_sk, rtol=1e-3)
    assert float(ours.b) == pytest.approx(b_sk, abs=1e-3)


def test_fit_starts_from_given_parameters(rng):
    X, y = _two_blobs(rng, n=20)
    w0, b0 = np.array([1.0, -1.0]), 0.25
    result = fit_logistic(X, y, epochs=0, w0=w0, b0=b0)
    np.testing.assert_array_equal(result.w, w0)
    assert float(result.b) == 0.25
    result.w[0] = 7.0
    assert w0[0] == 1.0  # the result does not alias the starting point


def test_predict_threshold():
    X = np.array([[-1.0], [0.0], [2.0]])
    np.testing.assert_array_equal(predict_logistic(X, [1.0], 0.0), [0, 0, 1])
    np.testing.assert_array_equal(predict_logistic(X, [1.0], 0.0, threshold=0.3), [0, 1, 1])
    assert predict_logistic(X, [1.0], 0.0).dtype == np.int64


# --- Boolean units ------------------------------------------------------------------
def test_and_unit_matches_the_lecture():
    """g(-30 + 20 x1 + 20 x2) on 00, 01, 10, 11 is g(-30), g(-10), g(-10), g(10)."""
    weights, bias = BOOLEAN_WEIGHTS["AND"]
    np.testing.assert_array_equal(weights, [20.0, 20.0])
    assert bias == -30.0
    out = boolean_unit(TRUTH_INPUTS, weights, bias)
    np.testing.assert_allclose(out, sigmoid(np.array([-30.0, -10.0, -10.0, 10.0])), rtol=1e-15)
    np.testing.assert_array_equal(np.round(out), [0, 0, 0, 1])


@pytest.mark.parametrize(("name", "table"), [
    ("AND", [0, 0, 0, 1]),
    ("OR", [0, 1, 1, 1]),
    ("NAND", [1, 1, 1, 0]),
])
def test_two_input_units_truth_tables(name, table):
    out = boolean_unit(TRUTH_INPUTS, *BOOLEAN_WEIGHTS[name])
    assert out.shape == (4,)
    np.testing.assert_allclose(out, table, atol=1e-4)


def test_not_unit():
    out = boolean_unit(np.array([[0], [1]]), *BOOLEAN_WEIGHTS["NOT"])
    np.testing.assert_allclose(out, [1, 0], atol=1e-4)
    assert float(sigmoid(10.0)) == pytest.approx(out[0])


def test_boolean_weights_are_read_only():
    with pytest.raises(ValueError, match="read-only"):
        BOOLEAN_WEIGHTS["AND"][0][0] = 1.0
    with pytest.raises(ValueError, match="read-only"):
        XOR_PARAMS[0][0][0, 0] = 1.0


def test_exercise_answers_are_not_in_the_package():
    """Exercise 2's NOR unit and its three-input network are the student's to find: the
    package a student imports holds no weights for them (only the units the book teaches)."""
    import course_nn
    import course_nn.logistic as logistic

    assert set(BOOLEAN_WEIGHTS) == {"AND", "OR", "NAND", "NOT"}
    for name in ("XNOR_PARAMS", "xnor_network", "PARITY_PARAMS", "NOR_WEIGHTS"):
        assert not hasattr(logistic, name) and not hasattr(course_nn, name), name


@pytest.mark.parametrize(("network", "table"), [(xor_network, [0, 1, 1, 0])])
def test_two_layer_networks_truth_tables(network, table):
    out = network(TRUTH_INPUTS)
    assert out.shape == (4,)
    np.testing.assert_allclose(out, table, atol=1e-4)
    np.testing.assert_allclose(network(TRUTH_INPUTS[2:3]), table[2:3], atol=1e-4)  # n = 1


def test_xor_network_is_and_of_or_and_nand(torch):
    """The params in the (out, in) convention reproduce the network with torch.nn.Linear."""
    (W1, b1), (W2, b2) = XOR_PARAMS
    assert W1.shape == (2, 2) and b1.shape == (2,) and W2.shape == (1, 2) and b2.shape == (1,)
    hidden = torch.sigmoid(torch.nn.functional.linear(torch.tensor(TRUTH_INPUTS, dtype=float),
                                                      torch.tensor(W1), torch.tensor(b1)))
    out = torch.sigmoid(torch.nn.functional.linear(hidden, torch.tensor(W2), torch.tensor(b2)))
    np.testing.assert_allclose(xor_network(TRUTH_INPUTS), out.numpy()[:, 0], rtol=1e-12)
    unit = {name: boolean_unit(TRUTH_INPUTS, *BOOLEAN_WEIGHTS[name]) for name in ("OR", "NAND")}
    np.testing.assert_allclose(hidden.numpy(), np.column_stack([unit["OR"], unit["NAND"]]))


def test_no_single_unit_computes_xor(rng):
    """A search over many random units never finds XOR (it is not linearly separable)."""
    weights = rng.normal(scale=20.0, size=(2000, 2))
    biases = rng.normal(scale=20.0, size=2000)
    tables = np.round(sigmoid(TRUTH_INPUTS @ weights.T + biases)).T
    assert not np.any(np.all(tables == [0, 1, 1, 0], axis=1))
    # while the same search does find AND: the test can tell the difference
    assert np.any(np.all(tables == [0, 0, 0, 1], axis=1))


# --- errors -------------------------------------------------------------------------
def test_shape_errors_name_expected_and_actual(rng):
    X = rng.normal(size=(3, 2))
    with pytest.raises(ValueError, match=r"w must have shape \(2,\) to match X of shape \(3, 2\)"):
        logistic_forward(X, np.ones(3), 0.0)
    with pytest.raises(ValueError, match=r"b must be a scalar .*got shape \(2,\)"):
        logistic_forward(X, np.ones(2), np.zeros(2))
    with pytest.raises(ValueError, match=r"X must be 2-D, got shape \(3,\)"):
        logistic_forward(np.ones(3), np.ones(3), 0.0)
    with pytest.raises(ValueError, match=r"X and y must have the same number of samples"):
        logistic_grads(X, np.array([0, 1]), np.ones(2), 0.0)
    with pytest.raises(ValueError, match=r"z and y must have the same shape, got \(3,\) and \(2"):
        binary_cross_entropy_with_logits(np.zeros(3), np.zeros(2))
    with pytest.raises(ValueError, match=r"X must have shape \(n, 2\), got \(4, 3\)"):
        xor_network(np.zeros((4, 3)))


def test_value_errors_name_the_bad_values():
    with pytest.raises(ValueError, match=r"y must hold labels 0/1 or probabilities in \[0, 1\], "
                                         r"got values in 0..2"):
        binary_cross_entropy_with_logits(np.zeros(3), np.array([0, 1, 2]))
    with pytest.raises(ValueError, match="must not be empty"):
        binary_cross_entropy_with_logits(np.zeros(0), np.zeros(0))
    with pytest.raises(ValueError, match="learning_rate must be positive, got 0"):
        fit_logistic(np.zeros((2, 1)), [0, 1], learning_rate=0)
    with pytest.raises(ValueError, match="epochs must be >= 0, got -1"):
        fit_logistic(np.zeros((2, 1)), [0, 1], epochs=-1)
    with pytest.raises(ValueError, match=r"threshold must be a probability in \[0, 1\], got 1.5"):
        predict_logistic(np.zeros((2, 1)), [1.0], 0.0, threshold=1.5)
    with pytest.raises(ValueError, match="y must not contain NaN"):
        logistic_grads(np.zeros((2, 1)), [0, np.nan], [1.0], 0.0)
