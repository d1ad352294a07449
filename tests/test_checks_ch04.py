"""Tests of the chapter 4 grading checks and of exercise 4's graded items.

The table ``ITEMS`` lists every graded cell of ``ex04_softmax`` with typical wrong
answers (each must score 0 with a hint naming the mistake) and right answers written
differently (each must score full marks), run through both grading paths
(``tests/exercise_items.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_nn.grading import REGISTRY, CheckFailure, check
from course_nn.grading.checks.ch04 import (
    BUGGY_MASKED_SOFTMAX,
    BY_HAND_B,
    BY_HAND_W,
    BY_HAND_X,
    label_smoothing_loss_and_grads,
    softmax_by_hand_reference,
)
from course_nn.grading.checks.ch04 import masked_softmax_reference as masked_softmax
from course_nn.grading.hardened import testing as T
from course_nn.softmax import one_hot, softmax
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
from tests.strategies import huge_floats, matrices, seeds

pytestmark = [pytest.mark.ch4, pytest.mark.grading]

A = "ex04_softmax"
BOOK = T.ROOT / "book" / "ch04_softmax.ipynb"
NAMES = ["softmax", "one_hot", "softmax_by_hand", "masked_softmax",
         "label_smoothing_loss_and_grads"]


# --- the registry ------------------------------------------------------------------------
def test_checks_are_registered():
    """Is every chapter 4 check registered, with the course_nn reference?"""
    assert [REGISTRY[name].reference for name in NAMES] == [
        softmax, one_hot, softmax_by_hand_reference, masked_softmax,
        label_smoothing_loss_and_grads]


def test_retired_checks_are_gone():
    """The log-softmax repair (its reference is printed by chapter 4) and the one-hot
    gradient (printed by chapter 4) are no longer graded."""
    assert "log_softmax" not in REGISTRY and "softmax_regression_grads" not in REGISTRY


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
    assert all(REGISTRY[name].float_errors
               for name in ("softmax", "masked_softmax", "label_smoothing_loss_and_grads"))


def test_by_hand_numbers_are_the_softmax_of_the_task():
    """Are the by-hand logits W x + b = (0, 3, 1), and do the probabilities sum to 1?"""
    logits, probs = softmax_by_hand_reference()
    np.testing.assert_allclose(logits, BY_HAND_W @ BY_HAND_X + BY_HAND_B)
    np.testing.assert_allclose(logits, [0.0, 3.0, 1.0])
    assert probs.sum() == pytest.approx(1.0) and np.argmax(probs) == 1


def test_the_masked_softmax_given_is_released_and_fails():
    """Is the planted bug in the student's notebook, and does the check reject it?"""
    text = "".join("".join(c["source"]) for c in read(exercise_path(A))["cells"])
    assert BUGGY_MASKED_SOFTMAX.strip() in text
    namespace = {"np": np}
    exec(BUGGY_MASKED_SOFTMAX, namespace)
    with pytest.raises(CheckFailure, match=GIVEN):
        check("masked_softmax", namespace["masked_softmax_given"])


def test_the_repair_target_is_not_printed_by_the_book():
    """Chapter 4 neither masks classes nor smooths labels: both items are the student's."""
    text = "".join("".join(c["source"]) for c in read(BOOK)["cells"])
    text = text[:text.index("**Exercise 4**")].lower()  # all but the pointer to the exercise
    for phrase in ("masked", "allowed", "label smoothing", "smoothed"):
        assert phrase not in text, phrase


# --- the transfer's reference: PyTorch (float64) and finite differences ----------------------
def _smoothing_problem(seed, n=7, p=3, M=4, scale=1.0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, p)), rng.integers(0, M, size=n), scale * rng.normal(size=(M, p)),
            rng.normal(size=M))


@pytest.mark.parametrize("eps", [0.0, 0.1, 0.35, 1.0])
def test_label_smoothing_reference_matches_torch_autograd(torch, eps):
    """J, dW and db equal F.cross_entropy(label_smoothing=eps) and its autograd gradients."""
    X, y, W, b = _smoothing_problem(int(eps * 100))
    W_t = torch.tensor(W, dtype=torch.float64, requires_grad=True)
    b_t = torch.tensor(b, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(torch.tensor(X) @ W_t.T + b_t, torch.tensor(y),
                                             label_smoothing=eps)
    loss.backward()
    J, dW, db = label_smoothing_loss_and_grads(X, y, W, b, eps)
    assert J == pytest.approx(loss.item(), rel=1e-12)
    np.testing.assert_allclose(dW, W_t.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, b_t.grad.numpy(), rtol=1e-10, atol=1e-14)


@settings(max_examples=40, deadline=None)
@given(seed=seeds(), eps=st.floats(0.0, 1.0), M=st.integers(2, 6))
def test_label_smoothing_gradient_matches_finite_differences(seed, eps, M):
    """Central differences of J in every weight and bias agree with (dW, db)."""
    X, y, W, b = _smoothing_problem(seed, M=M)
    J, dW, db = label_smoothing_loss_and_grads(X, y, W, b, eps)
    h = 1e-6
    for theta, grad in ((W, dW), (b, db)):
        for index in np.ndindex(theta.shape):
            up, down = theta.copy(), theta.copy()
            up[index] += h
            down[index] -= h
            args_up = (up, b) if theta is W else (W, up)
            args_down = (down, b) if theta is W else (W, down)
            numeric = (label_smoothing_loss_and_grads(X, y, *args_up, eps)[0]
                       - label_smoothing_loss_and_grads(X, y, *args_down, eps)[0]) / (2 * h)
            assert numeric == pytest.approx(grad[index], abs=1e-7 * max(1.0, abs(J)))


@settings(max_examples=30, deadline=None)
@given(Z=matrices(1, 6, 2, 6, elements=huge_floats), seed=seeds())
def test_masked_softmax_is_the_conditional_distribution(Z, seed):
    """For logits up to 1e4 and any mask: no float error, zeros where not allowed, rows
    summing to 1, and on the allowed classes the softmax of the allowed logits alone."""
    rng = np.random.default_rng(seed)
    allowed = rng.random(Z.shape) < 0.5
    allowed[np.arange(len(Z)), rng.integers(0, Z.shape[1], size=len(Z))] = True
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        A = masked_softmax(Z, allowed)
    assert np.all(A[~allowed] == 0) and np.allclose(A.sum(axis=1), 1.0)
    for row, mask, a in zip(Z, allowed, A, strict=True):
        np.testing.assert_allclose(a[mask], softmax(row[mask]), rtol=1e-12, atol=1e-300)


def test_masked_softmax_with_every_class_allowed_is_softmax(torch):
    """All classes allowed: the softmax of chapter 4 (and PyTorch's), even at +-1e4."""
    Z = np.array([[1e4, -1e4, 0.0], [1.0, 2.0, 3.0]])
    want = torch.softmax(torch.tensor(Z), dim=1).numpy()
    np.testing.assert_allclose(masked_softmax(Z, np.ones_like(Z, dtype=bool)), want, rtol=1e-12)


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
    Item("masked_softmax", points=2, kind="debugging", wrong=[
        Wrong(BUGGY_MASKED_SOFTMAX.replace("_given", ""), hint_contains=GIVEN),
        Wrong('''def masked_softmax(Z, allowed):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    A = E / E.sum(axis=1, keepdims=True) * allowed
    return A / A.sum(axis=1, keepdims=True)''', hint_contains="overflow"),
        Wrong('''def masked_softmax(Z, allowed):
    kept = np.where(allowed, Z, 0.0)
    E = np.exp(kept - kept.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)''', hint_contains="not allowed gets a probability"),
        Wrong('''def masked_softmax(Z, allowed):
    kept = np.where(allowed, Z, -np.inf)
    E = np.exp(kept - np.max(kept))
    return E / E.sum(axis=1, keepdims=True)''',
              hint_contains="overflow"),
        Wrong('''def masked_softmax(Z, allowed):
    kept = np.where(allowed, Z, -np.inf)
    E = np.exp(kept - kept.max(axis=1, keepdims=True))
    return E / (E.sum(axis=1, keepdims=True) + np.sum(~allowed, axis=1, keepdims=True))''',
              hint_contains="rows do not sum to one"),
    ], right=[
        '''import scipy.special

def masked_softmax(Z, allowed):
    return scipy.special.softmax(np.where(allowed, Z, -np.inf), axis=1)''',
        '''def masked_softmax(Z, allowed):
    out = np.zeros(np.shape(Z))
    for i, (z, keep) in enumerate(zip(np.asarray(Z, dtype=float), allowed)):
        e = np.exp(z[keep] - z[keep].max())
        out[i, keep] = e / e.sum()
    return out''',
        '''def masked_softmax(Z, allowed):
    kept = np.where(allowed, Z, -1e300)
    return np.exp(kept - np.logaddexp.reduce(kept, axis=1, keepdims=True))''',
    ]),
    Item("label_smoothing_loss_and_grads", points=4, kind="transfer", wrong=[
        Wrong('''def label_smoothing_loss_and_grads(X, y, W, b, eps):
    Z = X @ W.T + b
    M = W.shape[0]
    T = (1 - eps) * one_hot(y, M) + eps / M
    log_a = Z - Z.max(axis=1, keepdims=True)
    log_a = log_a - np.log(np.exp(log_a).sum(axis=1, keepdims=True))
    dZ = (softmax(Z) - one_hot(y, M)) / len(y)
    return -np.sum(T * log_a) / len(y), dZ.T @ X, dZ.sum(axis=0)''',
              hint_contains="gradient is that of the unsmoothed cost"),
        Wrong('''def label_smoothing_loss_and_grads(X, y, W, b, eps):
    Z = X @ W.T + b
    M = W.shape[0]
    T = (1 - eps) * one_hot(y, M) + eps / M
    J = -np.mean(np.sum(T * np.log(softmax(Z)), axis=1))
    dZ = (softmax(Z) - T) / len(y)
    return J, dZ.T @ X, dZ.sum(axis=0)''', hint_contains="overflow"),
        Wrong('''def label_smoothing_loss_and_grads(X, y, W, b, eps):
    Z = X @ W.T + b
    M = W.shape[0]
    Y = one_hot(y, M)
    T = (1 - eps) * Y + eps * (1 - Y) / (M - 1)
    log_a = Z - Z.max(axis=1, keepdims=True)
    log_a = log_a - np.log(np.exp(log_a).sum(axis=1, keepdims=True))
    dZ = (softmax(Z) - T) / len(y)
    return -np.sum(T * log_a) / len(y), dZ.T @ X, dZ.sum(axis=0)''',
              hint_contains="spreads it evenly over all the classes"),
        Wrong('''def label_smoothing_loss_and_grads(X, y, W, b, eps):
    Z = X @ W.T + b
    M = W.shape[0]
    T = (1 - eps) * one_hot(y, M) + eps
    log_a = Z - Z.max(axis=1, keepdims=True)
    log_a = log_a - np.log(np.exp(log_a).sum(axis=1, keepdims=True))
    dZ = (softmax(Z) * T.sum(axis=1, keepdims=True) - T) / len(y)
    return -np.sum(T * log_a) / len(y), dZ.T @ X, dZ.sum(axis=0)''',
              hint_contains="do not sum to one"),
        Wrong('''def label_smoothing_loss_and_grads(X, y, W, b, eps):
    Z = X @ W.T + b
    M = W.shape[0]
    T = (1 - eps) * one_hot(y, M) + eps / M
    log_a = Z - Z.max(axis=1, keepdims=True)
    log_a = log_a - np.log(np.exp(log_a).sum(axis=1, keepdims=True))
    dZ = softmax(Z) - T
    return -np.sum(T * log_a) / len(y), dZ.T @ X, dZ.sum(axis=0)''',
              hint_contains="not divided by the number of samples"),
        Wrong('''def label_smoothing_loss_and_grads(X, y, W, b, eps):
    Z = X @ W.T + b
    M = W.shape[0]
    T = (1 - eps) * one_hot(y, M) + eps / M
    log_a = Z - Z.max(axis=1, keepdims=True)
    log_a = log_a - np.log(np.exp(log_a).sum(axis=1, keepdims=True))
    dZ = (softmax(Z) - T) / len(y)
    return -np.sum(T * log_a) / len(y), X.T @ dZ, dZ.sum(axis=0)''', hint_contains="transposed"),
    ], right=[
        '''import scipy.special

def label_smoothing_loss_and_grads(X, y, W, b, eps):
    Z = np.einsum("ij,mj->im", X, W) + b
    n, M = Z.shape
    T = (1 - eps) * np.eye(M)[y] + eps / M
    J = np.mean(scipy.special.logsumexp(Z, axis=1) - np.sum(T * Z, axis=1))
    dZ = (scipy.special.softmax(Z, axis=1) - T) / n
    return J, np.einsum("im,ij->mj", dZ, X), np.einsum("im->m", dZ)''',
        '''def label_smoothing_loss_and_grads(X, y, W, b, eps):
    n, M = len(y), W.shape[0]
    J, dW, db = 0.0, np.zeros(W.shape), np.zeros(M)
    for x_i, y_i in zip(X, y):
        z = W @ x_i + b
        top = z.max()
        log_norm = top + np.log(np.sum(np.exp(z - top)))
        t = np.full(M, eps / M)
        t[y_i] += 1 - eps
        J += np.sum(t * (log_norm - z)) / n
        g = np.exp(z - log_norm) - t
        dW += np.outer(g, x_i) / n
        db += g / n
    return J, dW, db''',
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


@pytest.mark.parametrize("allowed, match", [
    (np.array([[True, False]]), "shape"),
    (np.array([[1, 0, 1]]), "bool"),
    (np.array([[False, False, False]]), "at least one class"),
])
def test_masked_softmax_refuses_a_bad_mask(allowed, match):
    """A mask of the wrong shape or type, or a row with no allowed class, is an error."""
    with pytest.raises(ValueError, match=match):
        masked_softmax(np.zeros((1, 3)), allowed)
