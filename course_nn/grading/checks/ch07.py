"""Checks for exercise 7, the image-classification lab (book chapter 7).

Graded signatures (every argument an array, a number or a string):

``confusion_matrix(y_true, y_pred, num_classes) -> (M, M)``
    Counts: entry [i, j] is the number of samples of true class i predicted as j.
``most_confident_mistakes(P, y, k) -> (min(k, #mistakes),)``
    Indices of the misclassified rows of the probabilities P (n, M), sorted by the
    probability of the predicted class, largest first (ties: smaller index first).
``train_and_predict(X_train, y_train, X_test) -> (n_test,)``
    Trains any classifier on the digits' training part and returns one predicted label
    per test image. Judged by accuracy: it passes when at least
    :data:`ACCURACY_FLOOR` of the test images are right.

How the accuracy is judged on both grading paths. The case's arguments are the
training images and labels and the test images, never the test labels. Each case is
made by :func:`digits_case` from a seeded stratified split of the digits, which
records the split's true test labels under a digest of ``X_test``. The check's
reference, :func:`true_test_labels`, looks them up: the "expected output" is what a
perfect classifier would answer, and the judge compares the student's labels with it.
Cases and references are always made in the same process that judges them (the
notebook's kernel for ``check``; the parent process of the hardened grader, which sends
only ``case.args`` to the sandboxed child), so the lookup always finds them.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray

from course_nn.datasets import load_digits_split
from course_nn.evaluation import confusion_matrix, most_confident_mistakes
from course_nn.grading.checks.ch03 import _same
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.core import Case, Check, register

#: The smallest test accuracy that passes ``train_and_predict``. On 40 random splits,
#: softmax regression trained as in chapter 6 (``train_softmax_regression``) scored 0.951
#: to 0.98 and an MLP [64, 64, 10] 0.958 to 0.98, so a correct model passes every split;
#: full-batch gradient descent with learning rate 0.1 scores 0.88 to 0.91 after 1 to 100
#: epochs (undertrained), guessing one class about 0.1.
ACCURACY_FLOOR = 0.94
#: The public split's seed; hidden cases draw other seeds.
PUBLIC_SEED = 0

_TEST_LABELS: dict[str, NDArray[np.int64]] = {}


# --- confusion_matrix -------------------------------------------------------------------
def _confusion_public():
    return [
        Case((np.array([0, 1, 2, 2, 1, 0]), np.array([0, 2, 2, 1, 1, 0]), 3),
             "6 samples, 3 classes, two mistakes"),
        Case((np.array([1, 1, 1, 0]), np.array([0, 0, 0, 0]), 2),
             "the same mistake three times: every sample counts"),
        Case((np.array([0, 1]), np.array([0, 1]), 4), "classes 2 and 3 never occur: still 4 x 4"),
    ]


def _confusion_hidden(rng):
    cases = []
    for n, m in ((1, 2), (int(rng.integers(5, 30)), 3), (int(rng.integers(50, 300)), 10)):
        y_true = rng.integers(0, m, size=n)
        right = rng.random(n) < 0.7  # mostly right, like a trained model
        y_pred = np.where(right, y_true, rng.integers(0, m, size=n))
        cases.append(Case((y_true, y_pred, m), f"n={n}, M={m}"))
    y_true = rng.integers(0, 3, size=12)
    cases.append(Case((y_true, y_true.copy(), 5), "all right, two classes absent"))
    return cases


def _hint_confusion(case, expected, got):
    y_true, y_pred, m = case.args
    if _same(got, np.asarray(expected).T):
        return ("the matrix is transposed: rows are the true classes and columns the predicted "
                "ones, C[y_true[i], y_pred[i]] += 1")
    once = np.zeros((m, m))
    once[y_true, y_pred] = 1
    if _same(got, once):
        return ("repeated (true, predicted) pairs were counted once: C[y_true, y_pred] += 1 "
                "with index arrays does not accumulate duplicates; use np.add.at or a loop")
    rows = np.asarray(expected).sum(axis=1, keepdims=True)
    if _same(got, np.asarray(expected) / np.where(rows == 0, 1, rows)) or _same(
            got, np.asarray(expected) / len(y_true)):
        return "return the counts, not fractions"
    return None


register(Check(
    name="confusion_matrix",
    reference=confusion_matrix,
    public_cases=_confusion_public,
    hidden_cases=_confusion_hidden,
    arg_names=("y_true", "y_pred", "num_classes"),
    hints=(_hint_confusion,),
))


# --- most_confident_mistakes ------------------------------------------------------------
def _mistakes_public():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.05, 0.05, 0.9], [0.4, 0.35, 0.25],
                  [0.2, 0.2, 0.6], [0.15, 0.8, 0.05]])
    y = np.array([1, 1, 0, 0, 1, 2])
    return [
        Case((P, y, 2), "6 samples, 4 mistakes, k = 2"),
        Case((P, y, 10), "k larger than the number of mistakes: all 4"),
    ]


def _mistakes_hidden(rng):
    cases = []
    for n, m, k in ((int(rng.integers(5, 20)), 3, 3), (int(rng.integers(100, 400)), 10, 16)):
        P = rng.dirichlet(np.full(m, 0.5), size=n)
        cases.append(Case((P, rng.integers(0, m, size=n), k), f"n={n}, M={m}, k={k}"))
    P = rng.dirichlet(np.ones(4), size=8)
    cases.append(Case((P, np.argmax(P, axis=1), 3), "no mistakes: an empty array"))
    P = rng.dirichlet(np.ones(2), size=1)
    cases.append(Case((P, np.array([int(np.argmin(P[0]))]), 1), "n = 1, wrong"))
    return cases


def _hint_mistakes(case, expected, got):
    P, y, k = case.args
    idx = to_float_array(flatten_output(got)[0]).ravel()
    if idx.size == len(y) and set(np.unique(idx)) <= {0.0, 1.0} and len(y) > 2:
        return "return the indices of the mistakes, not a True/False mask"
    whole = idx.size and np.all(idx == np.round(idx)) and idx.min() >= 0 and idx.max() < len(y)
    if whole and np.any(np.argmax(P[idx.astype(int)], axis=1) == y[idx.astype(int)]):
        return "some returned samples are classified correctly: keep only rows with argmax(P) != y"
    wrong = np.flatnonzero(np.argmax(P, axis=1) != y)
    by_true = wrong[np.argsort(-P[wrong, y[wrong]], kind="stable")][:k]
    if _same(got, by_true) and not _same(got, expected):
        return ("confidence is the probability of the *predicted* class, P.max(axis=1), not of "
                "the true class")
    ascending = wrong[np.argsort(P[wrong].max(axis=1), kind="stable")][:k]
    if _same(got, ascending) or _same(got, np.asarray(expected)[::-1]):
        return "sort by decreasing confidence: the most confident mistake comes first"
    return None


register(Check(
    name="most_confident_mistakes",
    reference=most_confident_mistakes,
    public_cases=_mistakes_public,
    hidden_cases=_mistakes_hidden,
    arg_names=("P", "y", "k"),
    hints=(_hint_mistakes,),
))


# --- train_and_predict: judged by test accuracy -------------------------------------------
def _digest(X_test) -> str:
    X = np.ascontiguousarray(np.asarray(X_test, dtype=np.float64))
    return hashlib.sha256(repr(X.shape).encode() + X.tobytes()).hexdigest()


def digits_case(seed: int, label: str) -> Case:
    """A case of ``train_and_predict``: the seeded stratified 75/25 digits split, with its
    test labels recorded for :func:`true_test_labels` (they are not in the case)."""
    X_train, X_test, y_train, y_test = load_digits_split(seed=int(seed))
    _TEST_LABELS[_digest(X_test)] = np.asarray(y_test, dtype=np.int64)
    return Case((X_train, y_train, X_test), label)


def true_test_labels(X_train, y_train, X_test) -> NDArray[np.int64]:
    """Reference of ``train_and_predict``: the true labels of ``X_test`` (a perfect classifier)."""
    try:
        return _TEST_LABELS[_digest(X_test)].copy()
    except KeyError:
        raise ValueError("these test images were not made by digits_case, so their labels are "
                         "unknown") from None


def _public_splits():
    return [digits_case(PUBLIC_SEED, f"digits, stratified 75/25 split with seed {PUBLIC_SEED}")]


def _hidden_splits(rng):
    seeds = rng.choice(np.arange(1, 100_000), size=2, replace=False)
    return [digits_case(int(s), f"digits, stratified 75/25 split with seed {int(s)}") for s in seeds]


def judge_accuracy(case: Case, expected, got) -> str | None:
    """``None`` if the predicted labels reach :data:`ACCURACY_FLOOR`, else what is wrong."""
    y_test = np.asarray(expected)
    parts = flatten_output(got)
    if len(parts) != 1:
        return f"expected one array of predicted labels, got {len(parts)} outputs"
    try:
        pred = to_float_array(parts[0])
    except (TypeError, ValueError):
        return f"expected an array of predicted labels, got {type(got).__name__}"
    n, classes = len(y_test), int(np.max(case.args[1])) + 1
    if pred.ndim == 2 and pred.shape == (n, classes):
        return (f"returned scores of shape {pred.shape}, one row per image: return the labels, "
                f"np.argmax(scores, axis=1), of shape ({n},)")
    if pred.shape != (n,):
        return (f"wrong shape: expected one label per test image, shape ({n},), got {pred.shape} "
                f"(predict on X_test, not X_train)")
    if not np.all(np.isfinite(pred)) or np.any(pred != np.round(pred)):
        return "the predictions must be whole class labels 0..9, got non-integer values"
    right = int(np.sum(pred == y_test))
    if right / n >= ACCURACY_FLOOR:
        return None
    return (f"test accuracy {right / n:.3f} ({right} of {n} test images right) is below the "
            f"floor {ACCURACY_FLOOR:.2f}")


def _hint_training(case, expected, got):
    pred = to_float_array(flatten_output(got)[0]).ravel()
    accuracy = float(np.mean(pred == np.asarray(expected)))
    if np.unique(pred).size == 1:
        return (f"every image gets the same label {pred[0]:g}: the model did not learn (check the "
                "sign of the update, the learning rate, and that the gradient is not zero)")
    if accuracy < 0.3:
        return ("about chance level (0.1 for 10 classes): are the predictions in the order of "
                "X_test, and did the loss go down during training?")
    return ("the model learns but not well enough: train for more epochs, tune the learning "
            "rate (minibatches help), or add a hidden layer")


register(Check(
    name="train_and_predict",
    reference=true_test_labels,
    public_cases=_public_splits,
    hidden_cases=_hidden_splits,
    arg_names=("X_train", "y_train", "X_test"),
    hints=(_hint_training,),
    judge=judge_accuracy,
))
