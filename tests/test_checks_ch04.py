"""Tests of the chapter 4 grading checks and of exercise 4's graded items.

The table ``ITEMS`` lists every graded cell of ``ex04_softmax`` with typical wrong
answers (each must score 0 with a hint naming the mistake) and right answers written
differently (each must score full marks), run through both grading paths
(``tests/exercise_items.py``).
"""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.grading import REGISTRY, CheckFailure, check
from course_nn.grading.checks.ch04 import (
    BUGGY_LOG_SOFTMAX,
    BY_HAND_B,
    BY_HAND_W,
    BY_HAND_X,
    softmax_by_hand_reference,
    softmax_regression_grads,
)
from course_nn.softmax import log_softmax, one_hot, softmax
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

pytestmark = [pytest.mark.ch4, pytest.mark.grading]

A = "ex04_softmax"
NAMES = ["softmax", "one_hot", "softmax_by_hand", "log_softmax", "softmax_regression_grads"]


# --- the registry ------------------------------------------------------------------------
def test_checks_are_registered():
    """Is every chapter 4 check registered, with the course_nn reference?"""
    assert [REGISTRY[name].reference for name in NAMES] == [
        softmax, one_hot, softmax_by_hand_reference, log_softmax, softmax_regression_grads]


def test_logits_are_not_graded_twice():
    """ex01's linear_forward is not graded again as softmax_regression_logits."""
    assert "softmax_regression_logits" not in REGISTRY


def test_hidden_softmax_cases_include_edge_cases():
    """Do the hidden softmax cases hold logits of +-1e4 and a (1, M) batch?"""
    cases = REGISTRY["softmax"].cases(hidden=True, seed=0)
    assert any(np.max(np.abs(case.args[0])) >= 1e4 for case in cases)
    assert any(case.args[0].shape[0] == 1 for case in cases)


def test_stability_is_graded_with_float_errors():
    """Do the checks whose task promises no overflow raise NumPy's float errors?"""
    assert REGISTRY["softmax"].float_errors and REGISTRY["log_softmax"].float_errors


def test_by_hand_numbers_are_the_softmax_of_the_task():
    """Are the by-hand logits W x + b = (0, 3, 1), and do the probabilities sum to 1?"""
    logits, probs = softmax_by_hand_reference()
    np.testing.assert_allclose(logits, BY_HAND_W @ BY_HAND_X + BY_HAND_B)
    np.testing.assert_allclose(logits, [0.0, 3.0, 1.0])
    assert probs.sum() == pytest.approx(1.0) and np.argmax(probs) == 1


def test_the_log_softmax_given_is_released_and_fails():
    """Is the planted bug in the student's notebook, and does the check reject it?"""
    text = "".join("".join(c["source"]) for c in read(exercise_path(A))["cells"])
    assert BUGGY_LOG_SOFTMAX.strip() in text
    namespace = {"np": np}
    exec(BUGGY_LOG_SOFTMAX, namespace)
    with pytest.raises(CheckFailure, match=GIVEN):
        check("log_softmax", namespace["log_softmax_given"])


# --- the table of graded items -------------------------------------------------------------
ITEMS = [
    Item("softmax", points=3, kind="implement", wrong=[
        Wrong('''def softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)''', hint_contains="overflow"),
        Wrong('''def softmax(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=1, keepdims=True)''', hint_contains="divided by zero"),
        Wrong('''def softmax(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)''', hint_contains="wrong axis"),
        Wrong('''def softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum()''', hint_contains="rows do not sum to one"),
    ], right=[
        '''import scipy.special

def softmax(Z):
    return scipy.special.softmax(Z, axis=1)''',
        '''def softmax(Z):
    return np.exp(Z - np.logaddexp.reduce(Z, axis=1, keepdims=True))''',
        '''def softmax(Z):
    rows = []
    for z in np.asarray(Z, dtype=float):
        e = np.exp(z - z.max())
        rows.append(e / e.sum())
    return np.array(rows)''',
    ]),
    Item("one_hot", points=1, kind="implement", wrong=[
        Wrong('''def one_hot(y, num_classes):
    return np.eye(num_classes)[y - 1]''', hint_contains="0-based"),
        Wrong('''def one_hot(y, num_classes):
    return np.eye(y.max() + 1)[y]''', hint_contains="one column per class"),
        Wrong('''def one_hot(y, num_classes):
    return np.eye(num_classes)[y].T''', hint_contains="transposed"),
    ], right=[
        '''def one_hot(y, num_classes):
    return np.eye(num_classes)[y]''',
        '''def one_hot(y, num_classes):
    return (np.asarray(y)[:, None] == np.arange(num_classes)).astype(float)''',
        '''def one_hot(y, num_classes):
    out = np.zeros((len(y), num_classes))
    for i, label in enumerate(y):
        out[i, label] = 1
    return out''',
    ]),
    Item("softmax_by_hand", points=2, kind="by-hand", wrong=[
        Wrong('''def softmax_by_hand():
    return [0.0, 2.0, 3.0], [0.0351, 0.2595, 0.7054]''', hint_contains="biases are missing"),
        Wrong('''def softmax_by_hand():
    return [0.0, 3.0, 1.0], [0.0, 0.75, 0.25]''', hint_contains="proportional to the logits"),
        Wrong('''def softmax_by_hand():
    return [0.0, 3.0, 1.0], [0.5, 0.9526, 0.7311]''', hint_contains="do not sum to one"),
        Wrong('''def softmax_by_hand():
    return [0.042, 0.844, 0.114]''', hint_contains="return two things"),
    ], right=[
        '''def softmax_by_hand():
    return [0, 3, 1], [0.042, 0.844, 0.114]''',
        '''def softmax_by_hand():
    o = np.array([2 * 1 - 1 * 2 + 0, 0 * 1 + 1 * 2 + 1, 1 * 1 + 1 * 2 - 2])
    return o, np.exp(o) / np.exp(o).sum()''',
    ]),
    Item("log_softmax", points=2, kind="debugging", wrong=[
        Wrong(BUGGY_LOG_SOFTMAX.replace("_given", ""),
              hint_contains=GIVEN),
        Wrong('''def log_softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return np.log(E / E.sum(axis=1, keepdims=True))''', hint_contains="overflow"),
        Wrong('''def log_softmax(Z):
    return Z - np.log(np.sum(np.exp(Z), axis=1, keepdims=True))''', hint_contains="overflow"),
        Wrong('''def log_softmax(Z):
    shifted = Z - np.max(Z)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))''',
              hint_contains="overflow"),
    ], right=[
        '''import scipy.special

def log_softmax(Z):
    return scipy.special.log_softmax(Z, axis=1)''',
        '''def log_softmax(Z):
    return Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)''',
        '''def log_softmax(Z):
    shifted = Z - np.max(Z, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))''',
    ]),
    Item("softmax_regression_grads", points=4, kind="transfer", wrong=[
        Wrong('''def softmax_regression_grads(X, y, W, b):
    dO = softmax(X @ W.T + b) - one_hot(y, W.shape[0])
    return dO.T @ X, dO.sum(axis=0)''', hint_contains="not divided by the number of samples"),
        Wrong('''def softmax_regression_grads(X, y, W, b):
    dO = (softmax(X @ W.T + b) - one_hot(y, W.shape[0])) / len(y)
    return X.T @ dO, dO.sum(axis=0)''', hint_contains="transposed"),
        Wrong('''def softmax_regression_grads(X, y, W, b):
    dO = (one_hot(y, W.shape[0]) - softmax(X @ W.T + b)) / len(y)
    return dO.T @ X, dO.sum(axis=0)''', hint_contains="sign is flipped"),
        Wrong('''def softmax_regression_grads(X, y, W, b):
    dO = softmax(X @ W.T + b) / len(y)
    return dO.T @ X, dO.sum(axis=0)''', hint_contains="targets are missing"),
        Wrong('''def softmax_regression_grads(X, y, W, b):
    E = np.exp(X @ W.T + b)
    dO = (E / E.sum(axis=1, keepdims=True) - one_hot(y, W.shape[0])) / len(y)
    return dO.T @ X, dO.sum(axis=0)''', hint_contains="overflow"),
    ], right=[
        '''import scipy.special

def softmax_regression_grads(X, y, W, b):
    G = scipy.special.softmax(X @ W.T + b, axis=1)
    dO = (G - np.eye(W.shape[0])[y]) / X.shape[0]
    return np.einsum("im,ij->mj", dO, X), np.einsum("im->m", dO)''',
        '''def softmax_regression_grads(X, y, W, b):
    dW, db = np.zeros_like(W, dtype=float), np.zeros_like(b, dtype=float)
    for x_i, y_i in zip(X, y):
        o = W @ x_i + b
        g = np.exp(o - o.max())
        g /= g.sum()
        g[y_i] -= 1.0
        dW += np.outer(g, x_i) / len(y)
        db += g / len(y)
    return dW, db''',
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
