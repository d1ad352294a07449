"""Checks for exercise 4, softmax and multi-class classification (book chapter 4).

Graded functions: ``softmax``, ``one_hot``, ``softmax_regression_logits``.
Hidden cases include logits of +-1e4, rows whose maxima differ by far more than
exp can bridge, a (1, M) batch, and labels where the largest class is missing.
"""

from __future__ import annotations

import numpy as np

from course_nn.grading.compare import to_float_array
from course_nn.grading.core import Case, Check, register
from course_nn.softmax import one_hot, softmax, softmax_regression_logits


def _same(got, alt) -> bool:
    """Does the student's output equal an alternative (wrong) answer, NaN where it has NaN?"""
    g = to_float_array(got)
    return g.shape == np.shape(alt) and bool(np.allclose(g, alt, equal_nan=True))


def _naive_softmax(Z, axis):
    """exp(Z) / sum exp(Z) without shifting; quiet, as the student's warnings are reported."""
    with np.errstate(all="ignore"):
        E = np.exp(Z)
        return E / E.sum(axis=axis, keepdims=True)


# --- softmax ------------------------------------------------------------------------
def _softmax_public():
    return [
        Case((np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),), "two rows of logits"),
        Case((np.array([[2.0, -1.0], [0.5, 0.5], [-3.0, 4.0]]),), "three samples, M = 2"),
        Case((np.array([[1000.0, 999.0, 0.0]]),), "large logits, batch of one"),
    ]


def _softmax_hidden(rng):
    cases = []
    for _ in range(6):
        n, M = int(rng.integers(1, 12)), int(rng.integers(2, 8))
        cases.append(Case((3.0 * rng.normal(size=(n, M)),), f"random logits, n={n}, M={M}"))
    M = int(rng.integers(2, 8))
    cases += [
        Case((rng.normal(size=(1, M)),), f"a batch of one, shape (1, {M})"),
        Case((np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]]),), "logits of +-1e4"),
        Case((1e4 * rng.uniform(-1, 1, size=(4, M)),), "random logits up to 1e4"),
        Case((np.vstack([rng.normal(size=M), rng.normal(size=M) - 5000.0]),),
             "rows on very different scales"),
        Case((np.full((3, M), 7.0),), "equal logits: uniform probabilities"),
    ]
    return cases


def _hint_softmax_axis(case, expected, got):
    (Z,) = case.args
    if _same(got, _naive_softmax(Z - Z.max(axis=0), axis=0)):
        return ("normalised along the wrong axis: columns sum to 1; use axis=1 (axis=-1), "
                "one row per sample")
    return None


def _hint_softmax_overflow(case, expected, got):
    (Z,) = case.args
    g = to_float_array(got)
    if g.shape != np.shape(expected) or np.all(np.isfinite(g)):
        return None
    if _same(got, _naive_softmax(Z - Z.max(), axis=1)):
        return ("exp underflows in rows far below the array's maximum: subtract each row's own "
                "max (Z.max(axis=1, keepdims=True)), not the max of the whole array")
    return ("overflow for large logits: subtract the row max before exp "
            "(softmax(z) = softmax(z - max z))")


def _hint_softmax_rows(case, expected, got):
    g = to_float_array(got)
    if g.shape == np.shape(expected) and np.all(np.isfinite(g)) \
            and not np.allclose(g.sum(axis=1), 1.0):
        return "rows do not sum to 1: normalise along axis=1 (axis=-1), one row per sample"
    return None


register(Check(
    name="softmax",
    reference=softmax,
    public_cases=_softmax_public,
    hidden_cases=_softmax_hidden,
    arg_names=("Z",),
    hints=(_hint_softmax_axis, _hint_softmax_overflow, _hint_softmax_rows),
))


# --- one_hot ------------------------------------------------------------------------
def _one_hot_public():
    return [
        Case((np.array([1]), 3), "the lectures' class 2 of M = 3 is label 1: [0, 1, 0]"),
        Case((np.array([0, 2, 1, 2]), 3), "four labels, M = 3"),
    ]


def _one_hot_hidden(rng):
    cases = []
    for _ in range(5):
        n, M = int(rng.integers(1, 20)), int(rng.integers(2, 11))
        cases.append(Case((rng.integers(0, M, size=n), M), f"n={n}, M={M}"))
    M = int(rng.integers(4, 11))
    cases += [
        Case((np.array([int(rng.integers(0, M))]), M), "a single label"),
        Case((rng.integers(0, M - 2, size=6), M), "the last classes do not occur in y"),
        Case((np.zeros(4, dtype=np.int64), 1), "M = 1"),
    ]
    return cases


def _hint_one_hot_one_based(case, expected, got):
    y, M = case.args
    if _same(got, np.eye(M)[y - 1]):
        return "labels are 0-based here: label m sets column m (the lectures count from 1)"
    return None


def _hint_one_hot_columns(case, expected, got):
    y, M = case.args
    if to_float_array(got).shape != (len(y), M):
        return (f"one column per class: the result has num_classes = {M} columns, "
                "even for classes missing from y")
    return None


register(Check(
    name="one_hot",
    reference=one_hot,
    public_cases=_one_hot_public,
    hidden_cases=_one_hot_hidden,
    arg_names=("y", "num_classes"),
    hints=(_hint_one_hot_one_based, _hint_one_hot_columns),
))


# --- softmax_regression_logits --------------------------------------------------------
def _logits_public():
    X = np.array([[1.0, 2.0, 0.0, -1.0], [0.5, 0.0, 1.0, 1.0]])
    W = np.array([[1.0, 0.0, 0.0, 0.0], [0.0, 1.0, -1.0, 0.0], [0.5, 0.5, 0.5, 0.5]])
    return [
        Case((X, W, np.array([0.0, 1.0, -1.0])),
             "p = 4 features, M = 3 classes: 12 weights + 3 biases"),
        Case((X[:1, :2], np.array([[1.0, -1.0], [2.0, 0.0]]), np.array([0.5, 0.5])),
             "one sample, M = 2"),
    ]


def _logits_hidden(rng):
    shapes = [(1, 1, 2), (1, 3, 3), (5, 2, 2)]
    shapes += [(int(rng.integers(1, 30)), int(rng.integers(1, 8)), int(rng.integers(2, 10)))
               for _ in range(6)]
    return [Case((rng.normal(size=(n, p)), rng.normal(size=(M, p)), rng.normal(size=M)),
                 f"n={n}, p={p}, M={M}") for n, p, M in shapes]


def _hint_logits(case, expected, got):
    X, W, b = case.args
    if _same(got, X @ W.T):
        return "the bias b is missing: add it after the matrix product"
    if _same(got, softmax(expected)):
        return "return the logits X @ W.T + b; softmax comes afterwards"
    if W.shape[0] == W.shape[1] and _same(got, X @ W + b):
        return ("weights applied as X @ W instead of X @ W.T "
                "(W has shape (M, p), one row per class)")
    return None


register(Check(
    name="softmax_regression_logits",
    reference=softmax_regression_logits,
    public_cases=_logits_public,
    hidden_cases=_logits_hidden,
    arg_names=("X", "W", "b"),
    hints=(_hint_logits,),
))
