"""Tests of the chapter 5 grading checks: the reference passes, typical bugs fail with a hint."""

from __future__ import annotations

import re

import numpy as np
import pytest
from scipy.special import xlogy

from course_nn.grading import REGISTRY, CheckFailure, check, diagnose
from course_nn.losses import cross_entropy, entropy, kl_divergence, softmax_cross_entropy

pytestmark = [pytest.mark.ch5, pytest.mark.grading]

NAMES = ["cross_entropy", "softmax_cross_entropy", "entropy", "kl_divergence"]


def _rows(y):
    return np.arange(len(y)), y


# --- the reference passes -----------------------------------------------------------
def test_checks_are_registered():
    """Is every chapter 5 check registered, with the course_nn reference?"""
    assert [REGISTRY[name].reference for name in NAMES] == [
        cross_entropy, softmax_cross_entropy, entropy, kl_divergence]


def test_hidden_cases_include_edge_cases():
    """Zero probabilities, logits of 1e4, a batch of one, and an infinite divergence."""
    ce = REGISTRY["cross_entropy"].cases(hidden=True, seed=0)
    assert any(np.any(case.args[0] == 0) for case in ce)
    assert any(case.args[0].shape[0] == 1 for case in ce)
    sce = REGISTRY["softmax_cross_entropy"].cases(hidden=True, seed=0)
    assert any(np.max(np.abs(case.args[0])) >= 1e4 for case in sce)
    kl = REGISTRY["kl_divergence"].cases(hidden=True, seed=0)
    assert any(np.any(kl_divergence(*case.args) == np.inf) for case in kl)


# --- typical wrong cross-entropies ------------------------------------------------------------
def ce_one_hot_log_everything(P, y):
    return -np.mean(np.sum(np.eye(P.shape[1])[y] * np.log(P), axis=1))


@pytest.mark.parametrize("wrong, hint", [
    (ce_one_hot_log_everything, "log\\(0\\): only take the log of the true class's probability"),
    (lambda P, y: -np.mean(np.log2(P[_rows(y)])), "used log2 instead of the natural log"),
    (lambda P, y: -np.sum(np.log(P[_rows(y)])), "summed over the samples; the loss is the mean"),
    (lambda P, y: -np.mean(np.log(P[np.arange(len(y)), y - 1])), "labels are 0-based here"),
])
def test_cross_entropy_bugs(wrong, hint):
    with pytest.raises(CheckFailure, match=hint):
        check("cross_entropy", wrong)


def _naive_softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


def _stable_softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("wrong, hint", [
    (lambda Z, y: -np.mean(np.log(_stable_softmax(Z)[_rows(y)])),
     "log\\(0\\).* use the logits form logsumexp\\(z\\) - z_y"),
    (lambda Z, y: -np.mean(np.log(_naive_softmax(Z)[_rows(y)])),
     "overflow for large logits.* subtract the row max"),
    (lambda Z, y: np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[_rows(y)]),
     "overflow for large logits.* subtract the row max"),
    (lambda Z, y: -np.mean(np.log2(_stable_softmax(Z)[_rows(y)])),
     "used log2 instead of the natural log"),
    (lambda Z, y: -np.mean(np.log(_stable_softmax(Z)[np.arange(len(y)), y - 1])),
     "labels are 0-based here"),
])
def test_softmax_cross_entropy_bugs(wrong, hint):
    with pytest.raises(CheckFailure, match=hint):
        check("softmax_cross_entropy", wrong)


@pytest.mark.parametrize("label, wrong, hint", [
    ("a very unlikely label", lambda Z, y: -np.mean(np.log(_stable_softmax(Z)[_rows(y)])),
     "likely bug: log\\(0\\): use the logits form"),
    ("large logits, right class", lambda Z, y: -np.mean(np.log(_naive_softmax(Z)[_rows(y)])),
     "likely bug: overflow for large logits: subtract the row max"),
])
def test_softmax_cross_entropy_hints_tell_underflow_from_overflow(label, wrong, hint):
    """Hidden cases where only log(0), or only overflow, is the bug get that hint alone."""
    spec = REGISTRY["softmax_cross_entropy"]
    (case,) = [c for c in spec.cases(hidden=True, seed=0) if c.label.startswith(label)]
    with np.errstate(all="ignore"):
        got = wrong(*case.args)
    advice = diagnose(spec, case, spec.reference(*case.args), got)
    assert re.search(hint, advice), advice


# --- typical wrong entropies and divergences ----------------------------------------------
@pytest.mark.parametrize("wrong, hint", [
    (lambda p: -np.sum(p * np.log(p), axis=-1), "log\\(0\\): a term with p = 0 counts as 0"),
    (lambda p: -np.sum(xlogy(p, p), axis=-1) / np.log(2), "used log2 instead of the natural log"),
    (lambda p: -np.sum(xlogy(p, p)), "sum over the last axis only \\(axis=-1\\)"),
])
def test_entropy_bugs(wrong, hint):
    with pytest.raises(CheckFailure, match=hint):
        check("entropy", wrong)


def kl_with_epsilon(p, q):
    eps = 1e-12
    return np.sum(p * np.log((p + eps) / (q + eps)), axis=-1)


@pytest.mark.parametrize("wrong, hint", [
    (lambda p, q: np.sum(xlogy(q, q) - xlogy(q, p), axis=-1), "KL arguments swapped"),
    (lambda p, q: np.sum(p * np.log(p / q), axis=-1), "log\\(0\\): a term with p = 0 counts"),
    (lambda p, q: np.sum(xlogy(p, p) - xlogy(p, q), axis=-1) / np.log(2), "used log2 instead"),
])
def test_kl_divergence_bugs(wrong, hint):
    with pytest.raises(CheckFailure, match=hint):
        check("kl_divergence", wrong)


def test_kl_with_epsilon_fails_the_infinite_case():
    """An epsilon that hides q = 0 < p passes the public cases but not the hidden inf case."""
    check("kl_divergence", kl_with_epsilon)
    with pytest.raises(CheckFailure, match="infinite where q = 0 < p"):
        check("kl_divergence", kl_with_epsilon, hidden=True, seed=0)
