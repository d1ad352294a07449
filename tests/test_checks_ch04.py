"""Tests of the chapter 4 grading checks: the reference passes, typical bugs fail with a hint."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.grading import REGISTRY, Case, CheckFailure, check, diagnose
from course_nn.softmax import one_hot, softmax, softmax_regression_logits

pytestmark = [pytest.mark.ch4, pytest.mark.grading]

NAMES = ["softmax", "one_hot", "softmax_regression_logits"]


# --- the reference passes -----------------------------------------------------------
def test_checks_are_registered():
    """Is every chapter 4 check registered, with the course_nn reference?"""
    assert {REGISTRY[name].reference for name in NAMES} == {
        softmax, one_hot, softmax_regression_logits}


def test_hidden_softmax_cases_include_edge_cases():
    """Do the hidden softmax cases hold logits of +-1e4 and a (1, M) batch?"""
    cases = REGISTRY["softmax"].cases(hidden=True, seed=0)
    assert any(np.max(np.abs(case.args[0])) >= 1e4 for case in cases)
    assert any(case.args[0].shape[0] == 1 for case in cases)


# --- typical wrong softmaxes ----------------------------------------------------------------
def softmax_naive(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def softmax_global_max(Z):
    E = np.exp(Z - Z.max())
    return E / E.sum(axis=1, keepdims=True)


def softmax_whole_array(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum()


def softmax_columns(Z):
    E = np.exp(Z - Z.max(axis=0, keepdims=True))
    return E / E.sum(axis=0, keepdims=True)


@pytest.mark.parametrize("hidden", [False, True])
def test_naive_softmax_overflows(hidden):
    """exp without the shift overflows on logits of 1000 (public) and 1e4 (hidden)."""
    with pytest.raises(CheckFailure, match="overflow for large logits: subtract the row max"):
        check("softmax", softmax_naive, hidden=hidden, seed=0)


def test_global_max_underflows():
    """Subtracting the max of the whole array fails on rows of very different scales."""
    with pytest.raises(CheckFailure, match="subtract each row's own max"):
        check("softmax", softmax_global_max, hidden=True, seed=0)


def test_normalising_the_whole_array():
    """Dividing by the sum of all entries: rows do not sum to 1."""
    with pytest.raises(CheckFailure, match=r"rows do not sum to 1: normalise along axis=1"):
        check("softmax", softmax_whole_array)


def test_wrong_axis():
    """Normalising columns instead of rows is named as the wrong axis."""
    with pytest.raises(CheckFailure, match="normalised along the wrong axis"):
        check("softmax", softmax_columns)


# --- typical wrong one_hot ------------------------------------------------------------------
def test_one_hot_one_based():
    """Using the lectures' 1-based class numbers shifts every 1 one column left."""
    with pytest.raises(CheckFailure, match="labels are 0-based here"):
        check("one_hot", lambda y, M: np.eye(M)[y - 1])


@pytest.mark.parametrize("hidden", [False, True])
def test_one_hot_columns_from_the_data(hidden):
    """Taking M from the largest label fails when the last classes are missing."""
    with pytest.raises(CheckFailure, match=r"num_classes = \d+ columns, even for classes missing"):
        check("one_hot", lambda y, M: np.eye(y.max() + 1)[y], hidden=hidden, seed=0)


def test_one_hot_transposed():
    """An (M, n) result is reported as transposed."""
    with pytest.raises(CheckFailure, match="looks transposed"):
        check("one_hot", lambda y, M: np.eye(M)[y].T)


# --- typical wrong logits -------------------------------------------------------------------
def test_logits_without_bias():
    with pytest.raises(CheckFailure, match="the bias b is missing"):
        check("softmax_regression_logits", lambda X, W, b: X @ W.T)


def test_logits_with_softmax_applied():
    with pytest.raises(CheckFailure, match="return the logits X @ W.T \\+ b; softmax comes"):
        check("softmax_regression_logits", lambda X, W, b: softmax(X @ W.T + b))


def test_logits_untransposed_weights():
    """X @ W fails: as an error for non-square W, with a hint for square W."""
    with pytest.raises(CheckFailure, match="raised ValueError"):
        check("softmax_regression_logits", lambda X, W, b: X @ W + b)
    spec = REGISTRY["softmax_regression_logits"]
    X, W, b = np.array([[1.0, 2.0]]), np.array([[1.0, 0.5], [-1.0, 2.0]]), np.array([0.0, 1.0])
    case = Case((X, W, b), "square W")
    advice = diagnose(spec, case, softmax_regression_logits(X, W, b), X @ W + b)
    assert "X @ W instead of X @ W.T" in advice
