"""course_nn.linear against NumPy's lstsq, scikit-learn and PyTorch autograd."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.linear_model import LinearRegression

from course_nn.datasets import make_linear_regression
from course_nn.linear import (
    fit_least_squares,
    gradient_descent,
    linear_forward,
    linear_mse_grads,
    mse,
    mse_grad,
)
from tests.strategies import matrices, seeds

pytestmark = pytest.mark.ch1


def problem(rng, n=20, p=3, k=None):
    X = rng.normal(size=(n, p))
    W = rng.normal(size=(p,) if k is None else (k, p))
    b = np.asarray(rng.normal() if k is None else rng.normal(size=k))
    y = rng.normal(size=(n,) if k is None else (n, k))
    return X, y, W, b


# --- forward --------------------------------------------------------------------------
def test_forward_matches_torch_linear(torch, rng):
    """Does linear_forward equal nn.Linear with the same weights, for k outputs?"""
    X, _, W, b = problem(rng, n=7, p=4, k=3)
    layer = torch.nn.Linear(4, 3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(W))
        layer.bias.copy_(torch.tensor(b))
    np.testing.assert_allclose(linear_forward(X, W, b), layer(torch.tensor(X)).detach().numpy(),
                               rtol=1e-12)


def test_forward_single_output_shape_and_value():
    X = np.array([[1.0, 3.0], [0.0, 0.0], [2.0, 1.0]])
    out = linear_forward(X, np.array([2.0, -1.0]), 0.5)
    assert out.shape == (3,)
    np.testing.assert_array_equal(out, [-0.5, 0.5, 3.5])


@given(X=matrices(), seed=seeds())
def test_forward_is_affine_in_the_weights(X, seed):
    """Property: f(W1 + W2, b1 + b2) = f(W1, b1) + f(W2, b2) - f(0, 0)... i.e. linear in (W, b)."""
    rng = np.random.default_rng(seed)
    p = X.shape[1]
    W1, W2, b1, b2 = rng.normal(size=p), rng.normal(size=p), rng.normal(), rng.normal()
    lhs = linear_forward(X, W1 + W2, b1 + b2)
    rhs = linear_forward(X, W1, b1) + linear_forward(X, W2, b2)
    np.testing.assert_allclose(lhs, rhs, rtol=1e-9, atol=1e-6 * (1 + np.abs(X).max()))


def test_forward_does_not_mutate_inputs(rng):
    X, _, W, b = problem(rng)
    copies = X.copy(), W.copy(), b.copy()
    linear_forward(X, W, b)
    for original, copy in zip((X, W, b), copies, strict=True):
        np.testing.assert_array_equal(original, copy)


@pytest.mark.parametrize(
    ("X", "W", "b", "message"),
    [
        (np.ones((4, 3)), np.ones(2), 0.0, r"W must have 3 columns .* got W.shape=\(2,\)"),
        (np.ones((4, 3)), np.ones((2, 3)), np.ones(3), r"b must have shape \(2,\) .* got \(3,\)"),
        (np.ones(3), np.ones(3), 0.0, r"X must be 2-D, got shape \(3,\)"),
        (np.ones((4, 3)), np.ones(3), np.ones(2), r"b must have shape \(\) .* got \(2,\)"),
        (np.full((2, 1), np.nan), np.ones(1), 0.0, "X must not contain NaN"),
        (np.ones((2, 1)), "abc", 0.0, "W must be numeric"),
    ],
)
def test_forward_bad_input_names_expected_and_actual(X, W, b, message):
    with pytest.raises(ValueError, match=message):
        linear_forward(X, W, b)


# --- loss and gradients -----------------------------------------------------------------
def test_mse_matches_torch(torch, rng):
    y_hat, y = rng.normal(size=(9, 2)), rng.normal(size=(9, 2))
    expected = torch.nn.functional.mse_loss(torch.tensor(y_hat), torch.tensor(y)).item()
    assert mse(y_hat, y) == pytest.approx(expected, rel=1e-12)
    assert isinstance(mse(y_hat, y), float)


def test_mse_of_perfect_prediction_is_zero():
    y = np.array([1.5, -2.0, 3.0])
    assert mse(y, y) == 0.0


def test_mse_shape_mismatch_is_an_error():
    with pytest.raises(ValueError, match=r"same shape, got \(3,\) and \(3, 1\)"):
        mse(np.ones(3), np.ones((3, 1)))


def test_mse_grad_matches_autograd(torch, rng):
    y_hat, y = rng.normal(size=6), rng.normal(size=6)
    y_hat_t = torch.tensor(y_hat, requires_grad=True)
    torch.mean((y_hat_t - torch.tensor(y)) ** 2).backward()
    np.testing.assert_allclose(mse_grad(y_hat, y), y_hat_t.grad.numpy(), rtol=1e-12)


@pytest.mark.parametrize(("n", "p", "k"), [(1, 1, None), (20, 3, None), (5, 2, 1), (13, 4, 3)])
def test_linear_mse_grads_match_autograd(torch, rng, n, p, k):
    """Are dW and db the autograd gradients of the MSE, for one output and for several?"""
    X, y, W, b = problem(rng, n, p, k)
    W_t = torch.tensor(W, requires_grad=True)
    b_t = torch.tensor(b, requires_grad=True)
    W_applied = W_t.T if W_t.ndim == 2 else W_t
    torch.mean((torch.tensor(X) @ W_applied + b_t - torch.tensor(y)) ** 2).backward()
    dW, db = linear_mse_grads(X, y, W, b)
    assert dW.shape == W.shape and db.shape == b.shape
    np.testing.assert_allclose(dW, W_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(db, b_t.grad.numpy(), rtol=1e-10, atol=1e-12)


@given(seed=seeds())
def test_gradient_is_zero_at_the_least_squares_solution(seed):
    rng = np.random.default_rng(seed)
    X, y, _, _ = problem(rng, n=15, p=3)
    W, b = fit_least_squares(X, y)
    dW, db = linear_mse_grads(X, y, W, b)
    assert np.abs(dW).max() < 1e-10 and abs(float(db)) < 1e-10


# --- fitting ----------------------------------------------------------------------------
@given(seed=seeds(), p=st.integers(1, 5), k=st.sampled_from([None, 1, 3]))
def test_fit_matches_lstsq_and_sklearn(seed, p, k):
    rng = np.random.default_rng(seed)
    X, y, _, _ = problem(rng, n=30, p=p, k=k)
    W, b = fit_least_squares(X, y)
    assert W.shape == ((p,) if k is None else (k, p))
    sk = LinearRegression().fit(X, y)
    np.testing.assert_allclose(W, sk.coef_, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b, sk.intercept_, rtol=1e-8, atol=1e-10)
    theta, *_ = np.linalg.lstsq(np.hstack([X, np.ones((30, 1))]), y, rcond=None)
    np.testing.assert_allclose(W, theta[:-1].T, rtol=1e-8, atol=1e-10)
    np.testing.assert_allclose(b, theta[-1], rtol=1e-8, atol=1e-10)


def test_fit_recovers_noise_free_line_exactly():
    data = make_linear_regression(n_samples=40, n_features=3, noise=0.0, seed=7)
    W, b = fit_least_squares(data.X, data.y)
    np.testing.assert_allclose(W, data.W, rtol=1e-10)
    assert float(b) == pytest.approx(data.b, rel=1e-10)


def test_fit_with_mismatched_lengths_is_an_error():
    with pytest.raises(ValueError, match=r"same number of samples, got X.shape=\(4, 2\) and y.shape=\(3,\)"):
        fit_least_squares(np.ones((4, 2)), np.ones(3))


def test_gradient_descent_converges_to_least_squares():
    data = make_linear_regression(n_samples=50, n_features=2, noise=0.3, seed=1)
    run = gradient_descent(data.X, data.y, learning_rate=0.05, epochs=600)
    W, b = fit_least_squares(data.X, data.y)
    np.testing.assert_allclose(run.W, W, rtol=1e-6)
    assert float(run.b) == pytest.approx(float(b), rel=1e-6)
    assert len(run.history) == 601
    assert all(later <= earlier + 1e-12 for earlier, later in zip(run.history, run.history[1:], strict=False))


def test_gradient_descent_matches_torch_sgd_step_by_step(torch):
    """Does our loop follow torch.optim.SGD on nn.Linear exactly, from the same zeros?"""
    data = make_linear_regression(n_samples=30, n_features=2, noise=0.5, seed=2)
    run = gradient_descent(data.X, data.y, learning_rate=0.1, epochs=25)
    layer = torch.nn.Linear(2, 1)
    torch.nn.init.zeros_(layer.weight)
    torch.nn.init.zeros_(layer.bias)
    opt = torch.optim.SGD(layer.parameters(), lr=0.1)
    losses = []
    for _ in range(25):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(layer(torch.tensor(data.X)).squeeze(1), torch.tensor(data.y))
        losses.append(loss.item())
        loss.backward()
        opt.step()
    np.testing.assert_allclose(run.history[:-1], losses, rtol=1e-12)
    np.testing.assert_allclose(run.W, layer.weight.detach().numpy().ravel(), rtol=1e-12)


def test_gradient_descent_diverges_above_the_curvature_limit():
    data = make_linear_regression(n_samples=60, n_features=1, noise=0.6, seed=3)
    design = np.hstack([data.X, np.ones((60, 1))])
    limit = 2 / np.linalg.eigvalsh(2 / 60 * design.T @ design).max()
    below = gradient_descent(data.X, data.y, learning_rate=0.9 * limit, epochs=200)
    above = gradient_descent(data.X, data.y, learning_rate=1.1 * limit, epochs=200)
    assert below.history[-1] < below.history[0]
    assert above.history[-1] > 1e3 * above.history[0]


def test_gradient_descent_rejects_nonpositive_learning_rate():
    with pytest.raises(ValueError, match="learning_rate must be positive, got 0"):
        gradient_descent(np.ones((3, 1)), np.ones(3), learning_rate=0)


# --- data ---------------------------------------------------------------------------------
def test_synthetic_regression_is_seeded_and_shaped():
    a = make_linear_regression(n_samples=25, n_features=3, seed=11)
    b = make_linear_regression(n_samples=25, n_features=3, seed=11)
    c = make_linear_regression(n_samples=25, n_features=3, seed=12)
    assert a.X.shape == (25, 3) and a.y.shape == (25,) and a.W.shape == (3,)
    np.testing.assert_array_equal(a.X, b.X)
    assert not np.array_equal(a.X, c.X)
    with pytest.raises(ValueError, match="noise must be >= 0"):
        make_linear_regression(noise=-1)
