"""Tests of the chapter 5 grading checks and of exercise 5's graded items.

The table ``ITEMS`` lists every graded cell of ``ex05_cross_entropy`` with typical wrong
answers (each must score 0 with a hint naming the mistake) and right answers written
differently (each must score full marks), run through both grading paths
(``tests/exercise_items.py``).
"""

from __future__ import annotations

import re

import numpy as np
import pytest

from course_nn.grading import REGISTRY, CheckFailure, check, diagnose
from course_nn.grading.checks.ch05 import (
    BUGGY_CALIBRATION_ERROR,
    cross_entropy_by_hand_reference,
    expected_calibration_error,
    softmax_regression_step,
)
from course_nn.losses import cross_entropy, entropy, kl_divergence, softmax_cross_entropy
from course_nn.plotting.softmax import calibration_bins
from tests.exercise_items import (
    GIVEN,
    Item,
    Wrong,
    assert_outcomes,
    assert_table,
    assert_written_answers_private,
    hardened_scores,
    hint_problems,
    likely_bug,
    notebook_scores,
)
from tests.notebooks import exercise_path, read

pytestmark = [pytest.mark.ch5, pytest.mark.grading]

A = "ex05_cross_entropy"
NAMES = ["cross_entropy", "softmax_cross_entropy", "entropy", "kl_divergence",
         "cross_entropy_by_hand", "expected_calibration_error", "softmax_regression_step"]


# --- the registry ------------------------------------------------------------------------
def test_checks_are_registered():
    """Is every chapter 5 check registered, with its reference?"""
    assert [REGISTRY[name].reference for name in NAMES] == [
        cross_entropy, softmax_cross_entropy, entropy, kl_divergence,
        cross_entropy_by_hand_reference, expected_calibration_error, softmax_regression_step]


def test_hidden_cases_include_edge_cases():
    """Zero probabilities, logits of 1e4, a batch of one, and an infinite divergence."""
    ce = REGISTRY["cross_entropy"].cases(hidden=True, seed=0)
    assert any(np.any(case.args[0] == 0) for case in ce)
    assert any(case.args[0].shape[0] == 1 for case in ce)
    sce = REGISTRY["softmax_cross_entropy"].cases(hidden=True, seed=0)
    assert any(np.max(np.abs(case.args[0])) >= 1e4 for case in sce)
    kl = REGISTRY["kl_divergence"].cases(hidden=True, seed=0)
    assert any(np.any(kl_divergence(*case.args) == np.inf) for case in kl)
    assert REGISTRY["softmax_cross_entropy"].float_errors


def test_by_hand_numbers():
    """(ln 2 + ln 4) / 2 nats, which is (1 + 2) / 2 = 1.5 bits."""
    nats, bits = cross_entropy_by_hand_reference()
    assert nats == pytest.approx((np.log(2) + np.log(4)) / 2) and bits == pytest.approx(1.5)


def test_calibration_reference_agrees_with_the_books_bins():
    """Does the ECE reference weigh the book's calibration bins by their share?"""
    rng = np.random.default_rng(5)
    P = rng.dirichlet(np.full(4, 0.5), size=400)
    y = rng.integers(0, 4, size=400)
    confidence, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(float)
    bins = calibration_bins(confidence, correct, n_bins=10)
    filled = bins.count > 0
    want = np.sum(bins.count[filled] / 400 * np.abs(bins.accuracy[filled]
                                                    - bins.confidence[filled]))
    assert expected_calibration_error(P, y, 10) == pytest.approx(want)


def test_the_given_calibration_error_is_released_and_fails():
    """Is the planted bug in the student's notebook, and does the check reject it?"""
    text = "".join("".join(c["source"]) for c in read(exercise_path(A))["cells"])
    assert BUGGY_CALIBRATION_ERROR.strip() in text
    namespace = {"np": np}
    exec(BUGGY_CALIBRATION_ERROR, namespace)
    with pytest.raises(CheckFailure, match=GIVEN):
        check("expected_calibration_error", namespace["expected_calibration_error_given"])


def test_step_reference_is_one_descent_step():
    """Does the step lower the regularised cost for a small learning rate?"""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(20, 3)), rng.integers(0, 4, size=20)
    W, b = rng.normal(size=(4, 3)), rng.normal(size=4)
    cost, W1, b1 = softmax_regression_step(X, y, W, b, 0.1, 0.2)
    assert softmax_regression_step(X, y, W1, b1, 0.1, 0.2)[0] < cost


def _stable_softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _naive_softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("label, wrong, hint", [
    ("a very unlikely label",
     lambda Z, y: -np.mean(np.log(_stable_softmax(Z)[np.arange(len(y)), y])),
     "likely bug: a probability rounded to zero"),
    ("large logits, right class",
     lambda Z, y: -np.mean(np.log(_naive_softmax(Z)[np.arange(len(y)), y])),
     "likely bug: the exponentials overflow"),
])
def test_softmax_cross_entropy_hints_tell_underflow_from_overflow(label, wrong, hint):
    """Hidden cases where only log(0), or only overflow, is the bug get that hint alone."""
    spec = REGISTRY["softmax_cross_entropy"]
    (case,) = [c for c in spec.cases(hidden=True, seed=0) if c.label.startswith(label)]
    with np.errstate(all="ignore"):
        got = wrong(*case.args)
    advice = diagnose(spec, case, spec.reference(*case.args), got)
    assert re.search(hint, advice), advice


# --- the table of graded items -------------------------------------------------------------
STABLE = '''
def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
'''

ITEMS = [
    Item("cross_entropy", points=2, kind="implement", wrong=[
        Wrong('''def cross_entropy(P, y):
    return -np.mean(np.sum(np.eye(P.shape[1])[y] * np.log(P), axis=1))''',
              hint_contains="logarithm of a zero probability"),
        Wrong('''def cross_entropy(P, y):
    return -np.mean(np.log2(P[np.arange(len(y)), y]))''', hint_contains="in bits"),
        Wrong('''def cross_entropy(P, y):
    return -np.sum(np.log(P[np.arange(len(y)), y]))''', hint_contains="summed over the samples"),
        Wrong('''def cross_entropy(P, y):
    return -np.mean(np.log(P[np.arange(len(y)), y - 1]))''', hint_contains="counted from 0"),
    ], right=[
        '''def cross_entropy(P, y):
    return float(-np.mean(np.log(np.take_along_axis(P, y[:, None], axis=1))))''',
        '''import scipy.special

def cross_entropy(P, y):
    return float(-np.sum(scipy.special.xlogy(np.eye(P.shape[1])[y], P)) / len(y))''',
        '''import math

def cross_entropy(P, y):
    return -sum(math.log(P[i][label]) for i, label in enumerate(y)) / len(y)''',
    ]),
    Item("softmax_cross_entropy", points=2, kind="implement", wrong=[
        Wrong(STABLE + '''
def softmax_cross_entropy(Z, y):
    return float(-np.mean(np.log(_softmax(Z)[np.arange(len(y)), y])))''',
              hint_contains="divided by zero"),
        Wrong('''def softmax_cross_entropy(Z, y):
    return float(np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y]))''',
              hint_contains="overflow"),
        Wrong(STABLE + '''
def softmax_cross_entropy(Z, y):
    return float(-np.mean(np.log(_softmax(Z)[np.arange(len(y)), y - 1])))''',
              hint_contains="counted from 0"),
        Wrong('''import scipy.special

def softmax_cross_entropy(Z, y):
    top = Z.max(axis=1)
    lse = top + np.log(np.exp(Z - top[:, None]).sum(axis=1))
    return float(np.sum(lse - Z[np.arange(len(y)), y]))''', hint_contains="summed over the samples"),
    ], right=[
        '''import scipy.special

def softmax_cross_entropy(Z, y):
    return float(np.mean(scipy.special.logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]))''',
        '''def softmax_cross_entropy(Z, y):
    log_p = Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)
    return float(-np.mean(np.take_along_axis(log_p, y[:, None], axis=1)))''',
    ]),
    Item("entropy", points=1, kind="implement", wrong=[
        Wrong('''def entropy(p):
    return -np.sum(p * np.log(p), axis=-1)''', hint_contains="zero probability"),
        Wrong('''import scipy.special

def entropy(p):
    return -np.sum(scipy.special.xlogy(p, p), axis=-1) / np.log(2)''', hint_contains="in bits"),
        Wrong('''import scipy.special

def entropy(p):
    return -np.sum(scipy.special.xlogy(p, p))''', hint_contains="summed over every axis"),
    ], right=[
        '''import scipy.special

def entropy(p):
    return -np.sum(scipy.special.xlogy(p, p), axis=-1)''',
        '''import scipy.stats

def entropy(p):
    return scipy.stats.entropy(np.asarray(p, dtype=float), axis=-1)''',
    ]),
    Item("kl_divergence", points=1, kind="implement", wrong=[
        Wrong('''import scipy.special

def kl_divergence(p, q):
    return np.sum(scipy.special.xlogy(q, q) - scipy.special.xlogy(q, p), axis=-1)''',
              hint_contains="swapped"),
        Wrong('''def kl_divergence(p, q):
    return np.sum(p * np.log(p / q), axis=-1)''', hint_contains="zero probability"),
        Wrong('''def kl_divergence(p, q):
    return np.sum(p * np.log((p + 1e-12) / (q + 1e-12)), axis=-1)''',
              hint_contains="divergence is infinite"),
    ], right=[
        '''import scipy.special

def kl_divergence(p, q):
    return np.sum(scipy.special.rel_entr(p, q), axis=-1)''',
        '''import scipy.special

def kl_divergence(p, q):
    with np.errstate(divide="ignore"):
        return np.sum(scipy.special.xlogy(p, p) - scipy.special.xlogy(p, q), axis=-1)''',
    ]),
    Item("cross_entropy_by_hand", points=2, kind="by-hand", wrong=[
        Wrong('''def cross_entropy_by_hand():
    return 1.5, 1.0397''', hint_contains="swapped"),
        Wrong('''def cross_entropy_by_hand():
    return 2.0794, 3.0''', hint_contains="summed over the samples"),
        Wrong('''def cross_entropy_by_hand():
    return (1.6094 + 1.3863) / 2, (2.3219 + 2) / 2''', hint_contains="wrong class"),
        Wrong('''def cross_entropy_by_hand():
    return 1.0397, 1.0397 * 2.3026 / 3.3219''', hint_contains="the bits are not"),
    ], right=[
        '''def cross_entropy_by_hand():
    return 1.040, 1.500''',
        '''def cross_entropy_by_hand():
    nats = -(np.log(0.5) + np.log(0.25)) / 2
    return [nats, nats / np.log(2)]''',
    ]),
    Item("expected_calibration_error", points=2, kind="debugging", wrong=[
        Wrong(BUGGY_CALIBRATION_ERROR.replace("_given", ""),
              hint_contains=GIVEN),
        Wrong('''def expected_calibration_error(P, y, num_bins):
    confidence, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(float)
    bins = np.minimum((confidence * num_bins).astype(int), num_bins - 1)
    gaps = [abs(correct[bins == k].mean() - confidence[bins == k].mean())
            for k in range(num_bins) if np.any(bins == k)]
    return float(np.mean(gaps))''', hint_contains="weighs as much as a full one"),
        Wrong('''def expected_calibration_error(P, y, num_bins):
    confidence, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(float)
    bins = np.minimum((confidence * num_bins).astype(int), num_bins - 1)
    total = 0.0
    for k in range(num_bins):
        if np.any(bins == k):
            total += np.mean(bins == k) * (correct[bins == k].mean() - confidence[bins == k].mean())
    return abs(total)''', hint_contains="cancel"),
        Wrong('''def expected_calibration_error(P, y, num_bins):
    confidence = P[np.arange(len(y)), y]
    correct = (P.argmax(axis=1) == y).astype(float)
    bins = np.minimum((confidence * num_bins).astype(int), num_bins - 1)
    total = 0.0
    for k in range(num_bins):
        if np.any(bins == k):
            total += np.mean(bins == k) * abs(correct[bins == k].mean() - confidence[bins == k].mean())
    return total''', hint_contains="classes that were not predicted"),
    ], right=[
        BUGGY_CALIBRATION_ERROR.replace("_given", "").replace(
            "return ece", "return ece / len(y)"),
        '''def expected_calibration_error(P, y, num_bins):
    confidence, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(float)
    bins = np.minimum(np.floor(confidence * num_bins).astype(int), num_bins - 1)
    count = np.bincount(bins, minlength=num_bins)
    gap = np.abs(np.bincount(bins, correct, num_bins) - np.bincount(bins, confidence, num_bins))
    return float(gap.sum() / count.sum())''',
    ]),
    Item("softmax_regression_step", points=4, kind="transfer", wrong=[
        Wrong(STABLE + '''
def softmax_regression_step(X, y, W, b, learning_rate, l2):
    O = X @ W.T + b
    cost = softmax_cross_entropy(O, y) + l2 / 2 * (np.sum(W ** 2) + np.sum(b ** 2))
    dO = (_softmax(O) - np.eye(W.shape[0])[y]) / len(y)
    return cost, W - learning_rate * (dO.T @ X + l2 * W), b - learning_rate * (dO.sum(0) + l2 * b)''',
              hint_contains="biases are penalised"),
        Wrong(STABLE + '''
def softmax_regression_step(X, y, W, b, learning_rate, l2):
    O = X @ W.T + b
    cost = softmax_cross_entropy(O, y) + l2 / 2 * np.sum(W ** 2)
    dO = (_softmax(O) - np.eye(W.shape[0])[y]) / len(y)
    return cost, W + learning_rate * (dO.T @ X + l2 * W), b + learning_rate * dO.sum(0)''',
              hint_contains="uphill"),
        Wrong(STABLE + '''
def softmax_regression_step(X, y, W, b, learning_rate, l2):
    O = X @ W.T + b
    cost = softmax_cross_entropy(O, y) + l2 / 2 * np.sum(W ** 2)
    dO = _softmax(O) - np.eye(W.shape[0])[y]
    return cost, W - learning_rate * (dO.T @ X + l2 * W), b - learning_rate * dO.sum(0)''',
              hint_contains="not divided by the number of samples"),
        Wrong(STABLE + '''
def softmax_regression_step(X, y, W, b, learning_rate, l2):
    O = X @ W.T + b
    cost = softmax_cross_entropy(O, y) + l2 / 2 * np.sum(W ** 2)
    dO = (_softmax(O) - np.eye(W.shape[0])[y]) / len(y)
    return cost, W - learning_rate * dO.T @ X, b - learning_rate * dO.sum(0)''',
              hint_contains="must shrink the weights"),
        Wrong(STABLE + '''
def softmax_regression_step(X, y, W, b, learning_rate, l2):
    O = X @ W.T + b
    cost = softmax_cross_entropy(O, y) + l2 * np.sum(W ** 2)
    dO = (_softmax(O) - np.eye(W.shape[0])[y]) / len(y)
    return cost, W - learning_rate * (dO.T @ X + l2 * W), b - learning_rate * dO.sum(0)''',
              hint_contains="twice too large"),
    ], right=[
        '''import scipy.special

def softmax_regression_step(X, y, W, b, learning_rate, l2):
    O = X @ W.T + b
    Y = np.eye(W.shape[0])[y]
    cost = np.mean(scipy.special.logsumexp(O, axis=1) - np.sum(Y * O, axis=1))
    cost += 0.5 * l2 * np.einsum("mj,mj->", W, W)
    dO = (scipy.special.softmax(O, axis=1) - Y) / X.shape[0]
    dW = np.einsum("im,ij->mj", dO, X) + l2 * W
    return cost, W - learning_rate * dW, b - learning_rate * dO.sum(axis=0)''',
        '''def softmax_regression_step(X, y, W, b, learning_rate, l2):
    n = len(y)
    cost, dW, db = 0.5 * l2 * float(np.sum(W * W)), l2 * W, np.zeros_like(b, dtype=float)
    for x_i, y_i in zip(X, y):
        o = W @ x_i + b
        top = o.max()
        log_norm = top + np.log(np.sum(np.exp(o - top)))
        cost += (log_norm - o[y_i]) / n
        g = np.exp(o - log_norm)
        g[y_i] -= 1.0
        dW = dW + np.outer(g, x_i) / n
        db += g / n
    return cost, W - learning_rate * dW, b - learning_rate * db''',
    ]),
]


def test_written_answers_keep_model_answer_and_rubric_private():
    """Does every written answer hold a model answer and a rubric (points per criterion)
    in the instructor notebook only?"""
    assert_written_answers_private(A)


def test_the_table_covers_every_graded_cell():
    """Does the table list each graded cell with its points, every kind, and enough answers?"""
    assert_table(A, ITEMS)


def test_items_in_the_notebook_path():
    """Through the in-notebook check (nbgrader's path): wrong 0 with the hint, right full;
    and every hint shown obeys the registry's rules (no code, numbers or formulas)."""
    outcomes = notebook_scores(A, ITEMS)
    assert_outcomes(ITEMS, outcomes, "notebook")
    for key, outcome in outcomes.items():
        assert not hint_problems(likely_bug(outcome.message)), (key, outcome.message)


@pytest.mark.slow
def test_items_in_the_hardened_path(tmp_path):
    """Through course-nn grade (one batch): the same outcomes."""
    assert_outcomes(ITEMS, hardened_scores(A, ITEMS, tmp_path), "hardened")
