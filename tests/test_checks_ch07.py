"""Exercise 7's checks: references pass, typical mistakes fail with a teaching hint, and the
accuracy-judged ``train_and_predict`` passes a trained model and fails a constant or a
random predictor, on the notebook path (``check``) and on the hardened grader's path
(``diagnose`` in the parent with answers rebuilt as float arrays)."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from course_nn.grading import REGISTRY, CheckFailure, check, diagnose
from course_nn.grading.checks.ch07 import (
    ACCURACY_FLOOR,
    digits_case,
    judge_accuracy,
    true_test_labels,
)
from course_nn.train import train_softmax_regression

pytestmark = [pytest.mark.ch7, pytest.mark.grading]


# --- confusion_matrix: typical mistakes ----------------------------------------------------
def confusion_with(mistake):
    def confusion(y_true, y_pred, num_classes):
        C = np.zeros((num_classes, num_classes))
        if mistake == "fancy_index":
            C[y_true, y_pred] += 1
            return C
        for t, p in zip(y_true, y_pred, strict=True):
            C[t, p] += 1
        return {"transposed": C.T, "fractions": C / len(y_true), None: C}[mistake]
    return confusion


def test_student_style_confusion_matrix_passes():
    check("confusion_matrix", confusion_with(None))
    check("confusion_matrix", confusion_with(None), hidden=True, seed=5)


@pytest.mark.parametrize("mistake, hint", [
    ("transposed", "rows are the true classes"),
    ("fancy_index", "np.add.at"),
    ("fractions", "the counts, not fractions"),
])
def test_confusion_mistakes_are_named(mistake, hint):
    with pytest.raises(CheckFailure, match=hint):
        check("confusion_matrix", confusion_with(mistake))


# --- most_confident_mistakes: typical mistakes ---------------------------------------------
def mistakes_with(mistake=None):
    def mistakes(P, y, k):
        predicted = P.argmax(axis=1)
        if mistake == "mask":
            return predicted != y
        candidates = np.arange(len(y)) if mistake == "all" else np.flatnonzero(predicted != y)
        confidence = P[candidates, y[candidates]] if mistake == "true_class" else P[candidates].max(axis=1)
        order = np.argsort(confidence if mistake == "ascending" else -confidence, kind="stable")
        return candidates[order][:k]
    return mistakes


def test_student_style_mistakes_pass():
    check("most_confident_mistakes", mistakes_with())
    check("most_confident_mistakes", mistakes_with(), hidden=True, seed=3)


@pytest.mark.parametrize("mistake, hint", [
    ("all", "classified correctly"),
    ("ascending", "decreasing confidence"),
    ("true_class", r"\*predicted\* class"),
    ("mask", "not a True/False mask"),
])
def test_mistake_finding_errors_are_named(mistake, hint):
    with pytest.raises(CheckFailure, match=hint):
        check("most_confident_mistakes", mistakes_with(mistake))


# --- train_and_predict: accuracy against a floor ------------------------------------------
def numpy_softmax_regression(X_train, y_train, X_test):
    """What a student writes: softmax regression by minibatch SGD with momentum, NumPy only."""
    rng = np.random.default_rng(0)
    n, p = X_train.shape
    W, b = np.zeros((10, p)), np.zeros(10)
    vW, vb = np.zeros_like(W), np.zeros_like(b)
    for _ in range(30):
        order = rng.permutation(n)
        for start in range(0, n, 32):
            batch = order[start:start + 32]
            Z = X_train[batch] @ W.T + b
            G = np.exp(Z - Z.max(axis=1, keepdims=True))
            G /= G.sum(axis=1, keepdims=True)
            G[np.arange(len(batch)), y_train[batch]] -= 1
            G /= len(batch)
            vW, vb = 0.9 * vW + G.T @ X_train[batch] + 1e-4 * W, 0.9 * vb + G.sum(axis=0)
            W, b = W - 0.1 * vW, b - 0.1 * vb
    return np.argmax(X_test @ W.T + b, axis=1)


def course_nn_model(X_train, y_train, X_test):
    return train_softmax_regression(X_train, y_train, progress=False).predict(X_test)


@pytest.mark.parametrize("train_and_predict", [numpy_softmax_regression, course_nn_model])
def test_a_trained_model_passes_public_and_hidden(train_and_predict, capsys):
    check("train_and_predict", train_and_predict)
    check("train_and_predict", train_and_predict, hidden=True, seed=7)
    assert "\u2713 train_and_predict" in capsys.readouterr().out


def constant(X_train, y_train, X_test):
    return np.full(len(X_test), 3)


def random_labels(X_train, y_train, X_test):
    return np.random.default_rng(0).integers(0, 10, size=len(X_test))


def test_a_constant_predictor_fails_naming_accuracy_and_floor():
    with pytest.raises(CheckFailure) as failure:
        check("train_and_predict", constant)
    message = str(failure.value)
    assert "test accuracy 0.1" in message and f"below the floor {ACCURACY_FLOOR:.2f}" in message
    assert "every image gets the same label 3" in message


def test_a_random_predictor_fails_at_chance_level():
    with pytest.raises(CheckFailure, match=r"test accuracy 0\.\d+ \(\d+ of 450 test images right\) "
                                           r"is below the floor 0\.94[\s\S]*chance level"):
        check("train_and_predict", random_labels)


def test_a_weak_model_is_told_to_train_more():
    def one_epoch_of_gradient_descent(X_train, y_train, X_test):
        return train_softmax_regression(X_train, y_train, epochs=1, batch_size=None, momentum=0.0,
                                        progress=False).predict(X_test)
    with pytest.raises(CheckFailure, match="below the floor[\\s\\S]*train for more epochs"):
        check("train_and_predict", one_epoch_of_gradient_descent)


@pytest.mark.parametrize("answer, problem", [
    (lambda X_tr, y_tr, X_te: np.eye(10)[np.zeros(len(X_te), dtype=int)], "return the labels"),
    (lambda X_tr, y_tr, X_te: np.zeros(len(X_tr)), "predict on X_test, not X_train"),
    (lambda X_tr, y_tr, X_te: np.full(len(X_te), 0.5), "whole class labels"),
])
def test_wrong_kinds_of_answers_are_explained(answer, problem):
    with pytest.raises(CheckFailure, match=problem):
        check("train_and_predict", answer)


def test_the_hardened_path_judges_the_same_way():
    """The parent makes the case and the reference, the child returns only numbers (labels
    as floats), and ``diagnose`` judges them with the case the parent made."""
    spec = REGISTRY["train_and_predict"]
    [case] = spec.cases(hidden=False)
    expected = spec.reference(*copy.deepcopy(case.args))
    X_train, y_train, X_test = copy.deepcopy(case.args)  # what the child receives
    good = np.asarray(numpy_softmax_regression(X_train, y_train, X_test), dtype=float)
    assert diagnose(spec, case, expected, good) is None
    assert "below the floor" in diagnose(spec, case, expected, np.zeros(len(X_test)))
    assert diagnose(spec, case, expected, np.asarray(expected, dtype=float)) is None


def test_the_reference_knows_only_the_splits_it_made():
    case = digits_case(123, "seed 123")
    labels = true_test_labels(*copy.deepcopy(case.args))
    assert labels.shape == (len(case.args[2]),) and set(labels) == set(range(10))
    with pytest.raises(ValueError, match="not made by digits_case"):
        true_test_labels(case.args[0], case.args[1], case.args[2][:-1])


def test_the_judge_needs_the_floor_exactly():
    case = digits_case(0, "seed 0")
    y_test = true_test_labels(*case.args)
    n = len(y_test)
    right = int(np.ceil(ACCURACY_FLOOR * n))
    pred = y_test.copy()
    pred[right:] = (pred[right:] + 1) % 10  # exactly `right` correct
    assert judge_accuracy(case, y_test, pred) is None
    pred[right - 1] = (pred[right - 1] + 1) % 10
    assert "below the floor" in judge_accuracy(case, y_test, pred)
