"""Checks for exercise 1, linear regression (book chapter 1).

Graded functions: ``linear_forward``, ``mse``, ``linear_mse_grads``, ``fit_least_squares``.
"""

from __future__ import annotations

import numpy as np

from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.core import Case, Check, register
from course_nn.linear import fit_least_squares, linear_forward, linear_mse_grads, mse


def _regression_problem(rng: np.random.Generator, n: int, p: int, k: int | None):
    X = rng.normal(size=(n, p))
    W = rng.normal(size=(p,) if k is None else (k, p))
    b = rng.normal() if k is None else rng.normal(size=k)
    return X, W, np.asarray(b)


def _random_shapes(rng: np.random.Generator, count: int):
    """(n, p, k) triples including the edge cases n = 1, p = 1 and one or several outputs."""
    fixed = [(1, 1, None), (1, 3, 2), (5, 1, None), (4, 2, 1)]
    drawn = [
        (int(rng.integers(1, 40)), int(rng.integers(1, 8)), rng.choice([None, 1, 2, 3]))
        for _ in range(count)
    ]
    return fixed + drawn


# --- linear_forward -----------------------------------------------------------------
def _linear_forward_public():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, -1.0]])
    return [
        Case((X, np.array([0.5, -1.0]), np.array(2.0)), "one output: W (p,), scalar b"),
        Case((X, np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([0.0, -1.0])),
             "two outputs: W (2, p), b (2,)"),
    ]


def _linear_forward_hidden(rng):
    return [Case(_regression_problem(rng, n, p, k), f"n={n}, p={p}, k={k}")
            for n, p, k in _random_shapes(rng, 8)]


def _hint_transposed_weights(case, expected, got):
    X, W, b = case.args
    if W.ndim == 2 and W.shape[0] != W.shape[1]:
        return None
    try:
        alt = X @ W + b
    except ValueError:
        return None
    g = to_float_array(got)
    if g.shape == alt.shape and np.allclose(g, alt):
        return "weights applied as X @ W instead of X @ W.T (W has shape (outputs, inputs))"
    return None


def _hint_missing_bias(case, expected, got):
    X, W, b = case.args
    g = to_float_array(got)
    if g.shape == np.shape(expected) and np.allclose(g, X @ W.T):
        return "the bias b is missing: add it after the matrix product"
    return None


register(Check(
    name="linear_forward",
    reference=linear_forward,
    public_cases=_linear_forward_public,
    hidden_cases=_linear_forward_hidden,
    arg_names=("X", "W", "b"),
    hints=(_hint_missing_bias, _hint_transposed_weights),
))


# --- mse ----------------------------------------------------------------------------
def _mse_public():
    return [
        Case((np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])), "one wrong prediction"),
        Case((np.array([[1.0, 0.0], [2.0, 2.0]]), np.array([[0.0, 0.0], [2.0, 4.0]])),
             "two outputs: mean over all entries"),
        Case((np.array([0.5, -0.5]), np.array([0.5, -0.5])), "perfect predictions give 0"),
    ]


def _mse_hidden(rng):
    cases = []
    for n, _, k in _random_shapes(rng, 6):
        shape = (n,) if k is None else (n, k)
        cases.append(Case((rng.normal(size=shape), rng.normal(size=shape)), f"shape {shape}"))
    y = rng.normal(size=7)
    cases.append(Case((y, y.copy()), "perfect predictions"))
    cases.append(Case((1e6 * rng.normal(size=5), 1e6 * rng.normal(size=5)), "large values"))
    return cases


def _hint_mse_sum(case, expected, got):
    y_hat, y = case.args
    if np.isclose(float(to_float_array(got)), np.sum((y_hat - y) ** 2)):
        return "you summed the squared errors; the loss is their mean"
    if np.isclose(float(to_float_array(got)), np.mean(np.abs(y_hat - y))):
        return "you took the mean absolute error; square the errors instead"
    return None


register(Check(
    name="mse",
    reference=mse,
    public_cases=_mse_public,
    hidden_cases=_mse_hidden,
    arg_names=("y_hat", "y"),
    hints=(_hint_mse_sum,),
))


# --- linear_mse_grads ---------------------------------------------------------------
def _grads_public():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, -1.0]])
    return [
        Case((X, np.array([1.0, 0.0, 2.0]), np.array([0.5, -1.0]), np.array(2.0)), "one output"),
        Case((X, np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
              np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.0, 1.0])), "two outputs"),
    ]


def _grads_hidden(rng):
    cases = []
    for n, p, k in _random_shapes(rng, 6):
        X, W, b = _regression_problem(rng, n, p, k)
        y = rng.normal(size=(n,) if k is None else (n, k))
        cases.append(Case((X, y, W, b), f"n={n}, p={p}, k={k}"))
    return cases


def _hint_grad_sign(case, expected, got):
    parts = [to_float_array(g) for g in flatten_output(got)]
    want = [to_float_array(e) for e in flatten_output(expected)]
    if len(parts) == 2 and all(p.shape == w.shape and np.allclose(p, -w)
                               for p, w in zip(parts, want, strict=True)):
        return "the sign is flipped: use (y_hat - y), not (y - y_hat)"
    n = case.args[0].shape[0]
    if len(parts) == 2 and all(p.shape == w.shape and np.allclose(p, w * n / 2)
                               for p, w in zip(parts, want, strict=True)):
        return "missing the factor 2/N of the mean squared error's derivative"
    return None


register(Check(
    name="linear_mse_grads",
    reference=linear_mse_grads,
    public_cases=_grads_public,
    hidden_cases=_grads_hidden,
    arg_names=("X", "y", "W", "b"),
    hints=(_hint_grad_sign,),
))


# --- fit_least_squares --------------------------------------------------------------
def _fit_public():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    return [
        Case((X, 2.0 * X[:, 0] + 1.0), "points on the line y = 2x + 1"),
        Case((X, np.array([1.0, 2.0, 2.0, 4.0])), "noisy points"),
    ]


def _fit_hidden(rng):
    cases = []
    for _ in range(6):
        n, p = int(rng.integers(5, 60)), int(rng.integers(1, 6))
        X = rng.normal(size=(n + p, p))  # more samples than parameters: a unique solution
        y = X @ rng.normal(size=p) + rng.normal() + 0.1 * rng.normal(size=n + p)
        cases.append(Case((X, y), f"n={n + p}, p={p}"))
    X = rng.normal(size=(30, 3))
    cases.append(Case((X, X @ np.array([1.0, -2.0, 0.5]) - 3.0), "noise-free data: exact recovery"))
    return cases


def _hint_fit_no_intercept(case, expected, got):
    X, y = case.args
    parts = flatten_output(got)
    if len(parts) != 2:
        return "return a pair (W, b): the weights and the offset"
    W_no_b, *_ = np.linalg.lstsq(X, y, rcond=None)
    if np.allclose(to_float_array(parts[0]).ravel(), W_no_b):
        return "the offset b was not fitted: add a column of ones to X"
    return None


register(Check(
    name="fit_least_squares",
    reference=fit_least_squares,
    public_cases=_fit_public,
    hidden_cases=_fit_hidden,
    arg_names=("X", "y"),
    hints=(_hint_fit_no_intercept,),
    rtol=1e-5,
    atol=1e-7,
))
