"""Tests of course_nn.softmax: softmax, log-softmax, one-hot and softmax regression (chapter 4)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_nn.softmax import (
    log_softmax,
    logsumexp,
    one_hot,
    predict,
    softmax,
    softmax_regression_logits,
    softmax_regression_proba,
)
from tests.strategies import huge_floats, matrices, moderate_floats, vectors

pytestmark = pytest.mark.ch4


# --- PyTorch as the oracle ------------------------------------------------------------
@pytest.mark.parametrize("shape, axis", [((5, 3), -1), ((5, 3), 1), ((5, 3), 0), ((4,), 0),
                                         ((2, 3, 4), 1), ((2, 3, 4), -1), ((1, 6), -1)])
def test_softmax_and_log_softmax_match_torch(torch, rng, shape, axis):
    """Do softmax and log_softmax agree with torch along any axis?"""
    Z = 5.0 * rng.normal(size=shape)
    Zt = torch.tensor(Z)
    np.testing.assert_allclose(softmax(Z, axis=axis), torch.softmax(Zt, dim=axis).numpy(),
                               rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(log_softmax(Z, axis=axis),
                               torch.log_softmax(Zt, dim=axis).numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_logsumexp_matches_torch(torch, rng, axis):
    """Does logsumexp reduce the given axis exactly as torch.logsumexp?"""
    Z = 100.0 * rng.normal(size=(4, 5))
    got = logsumexp(Z, axis=axis)
    want = torch.logsumexp(torch.tensor(Z), dim=axis).numpy()
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-13)


def test_huge_logits_match_torch(torch, rng):
    """Do logits up to 1e4 give torch's values, with no overflow?"""
    Z = 1e4 * rng.uniform(-1, 1, size=(6, 4))
    np.testing.assert_allclose(softmax(Z), torch.softmax(torch.tensor(Z), dim=1).numpy(),
                               atol=1e-15)
    np.testing.assert_allclose(log_softmax(Z), torch.log_softmax(torch.tensor(Z), dim=1).numpy(),
                               rtol=1e-12)


def test_one_hot_matches_torch(torch, rng):
    """Is one_hot torch.nn.functional.one_hot, as floats?"""
    y = rng.integers(0, 7, size=20)
    got = one_hot(y, 7)
    assert got.dtype == np.float64 and got.shape == (20, 7)
    want = torch.nn.functional.one_hot(torch.tensor(y), num_classes=7).numpy()
    np.testing.assert_array_equal(got, want)


def test_softmax_regression_matches_torch_linear(torch, rng):
    """Are the logits those of torch.nn.Linear(p, M) and the probabilities their softmax?"""
    X, W, b = rng.normal(size=(8, 4)), rng.normal(size=(3, 4)), rng.normal(size=3)
    layer = torch.nn.Linear(4, 3)
    with torch.no_grad():
        layer.weight.copy_(torch.tensor(W))
        layer.bias.copy_(torch.tensor(b))
        Zt = layer(torch.tensor(X))
    Z = softmax_regression_logits(X, W, b)
    assert Z.shape == (8, 3)
    np.testing.assert_allclose(Z, Zt.numpy(), rtol=1e-12)
    np.testing.assert_allclose(softmax_regression_proba(X, W, b),
                               torch.softmax(Zt, dim=1).numpy(), rtol=1e-12)
    np.testing.assert_array_equal(predict(X, W, b), torch.argmax(Zt, dim=1).numpy())
    # the lectures' count: 4 features and 3 classes = 12 weights + 3 biases
    assert sum(p.numel() for p in layer.parameters()) == W.size + b.size == 15


# --- properties ---------------------------------------------------------------------------
@given(matrices(elements=huge_floats))
def test_rows_are_distributions(Z):
    """Are softmax rows non-negative and do they sum to 1, even for logits up to 1e4?"""
    G = softmax(Z)
    assert G.shape == Z.shape
    assert np.all(G >= 0) and np.all(G <= 1)
    np.testing.assert_allclose(G.sum(axis=1), 1.0, rtol=1e-12)


@given(matrices(), st.floats(-1e3, 1e3))
def test_shift_invariance(Z, c):
    """Is softmax(Z + c) = softmax(Z) for a constant added to every logit of a row?"""
    shifts = c * np.arange(Z.shape[0])[:, None] / max(Z.shape[0], 1)
    np.testing.assert_allclose(softmax(Z + shifts), softmax(Z), atol=1e-9)


@given(matrices(elements=huge_floats))
def test_order_and_argmax_preserved(Z):
    """Does softmax keep the order of the logits, so that argmax g = argmax z?"""
    G = softmax(Z)
    for z, g in zip(Z, G, strict=True):
        i, j = np.nonzero(z[:, None] > z[None, :])
        assert np.all(g[i] >= g[j])
        assert g[np.argmax(z)] == g.max()
    # where rounding leaves the probabilities of a row distinct, the argmax is the same
    distinct = np.array([np.unique(g).size == g.size for g in G])
    np.testing.assert_array_equal(np.argmax(G, axis=1)[distinct], np.argmax(Z, axis=1)[distinct])


@given(matrices(elements=huge_floats))
def test_log_softmax_is_log_of_softmax(Z):
    """Is log_softmax = log(softmax) wherever softmax is not rounded to 0, and finite always?"""
    L, G = log_softmax(Z), softmax(Z)
    assert np.all(np.isfinite(L)) and np.all(L <= 0)
    visible = G > 1e-300
    np.testing.assert_allclose(L[visible], np.log(G[visible]), rtol=1e-9, atol=1e-12)


@given(vectors(elements=moderate_floats))
def test_logsumexp_bounds(z):
    """Is max z <= logsumexp(z) <= max z + ln M?"""
    lse = float(logsumexp(z))
    assert z.max() <= lse <= z.max() + np.log(z.size) + 1e-12


def _classes_and_labels(M):
    return st.tuples(st.just(M), st.lists(st.integers(0, M - 1), max_size=12))


@given(st.integers(1, 10).flatmap(_classes_and_labels))
def test_one_hot_rows(M_and_labels):
    """Does each one-hot row hold a single 1, in the label's column?"""
    M, labels = M_and_labels
    Y = one_hot(np.array(labels, dtype=np.int64), M)
    assert Y.shape == (len(labels), M)
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    np.testing.assert_array_equal(np.argmax(Y, axis=1), labels)


# --- the lectures' numbers and edge cases ---------------------------------------------
def test_lectures_one_hot_example():
    """M = 3, the lectures' class y = 2 (label 1 in code): [0, 1, 0]."""
    np.testing.assert_array_equal(one_hot(np.array([1]), 3), [[0.0, 1.0, 0.0]])
    np.testing.assert_array_equal(one_hot(1, 3), [0.0, 1.0, 0.0])
    np.testing.assert_array_equal(one_hot(np.array([0, 2, 1.0]), 3), np.eye(3)[[0, 2, 1]])


def test_huge_logits_are_exact():
    """Do logits of +-1e4 give exact probabilities and log-probabilities, without warnings?"""
    Z = np.array([[1e4, -1e4], [-1e4, 1e4], [1e4, 1e4], [-1e4, -1e4]])
    np.testing.assert_array_equal(softmax(Z), [[1, 0], [0, 1], [0.5, 0.5], [0.5, 0.5]])
    np.testing.assert_array_equal(log_softmax(Z)[:2], [[0, -2e4], [-2e4, 0]])
    np.testing.assert_allclose(log_softmax(Z)[2:], np.log(0.5), rtol=1e-15)
    np.testing.assert_allclose(logsumexp(Z), [1e4, 1e4, 1e4 + np.log(2), -1e4 + np.log(2)],
                               rtol=1e-15)


def test_rows_on_different_scales():
    """Is each row shifted by its own max (a global max would underflow the second row)?"""
    Z = np.array([[0.0, 1.0], [-5000.0, -5001.0]])
    np.testing.assert_allclose(softmax(Z), [[1 - 0.7310585786300049, 0.7310585786300049],
                                            [0.7310585786300049, 1 - 0.7310585786300049]])


def test_batch_of_one_and_vector_input():
    """Do a (1, M) batch and a 1-D vector give the same probabilities?"""
    z = np.array([1.0, 2.0, 3.0])
    want = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(softmax(z), want, rtol=1e-15)
    np.testing.assert_allclose(softmax(z[None, :]), want[None, :], rtol=1e-15)
    assert softmax(z[None, :]).shape == (1, 3)
    assert np.ndim(logsumexp(z)) == 0


def test_axis_zero_normalises_columns():
    """Does axis=0 normalise columns (and differ from the default rows)?"""
    Z = np.array([[1.0, 2.0], [3.0, 5.0], [0.0, 0.0]])
    np.testing.assert_allclose(softmax(Z, axis=0).sum(axis=0), 1.0)
    assert not np.allclose(softmax(Z, axis=0), softmax(Z))


def test_inputs_are_not_modified(rng):
    """Are the inputs left as they were?"""
    Z = rng.normal(size=(3, 4))
    before = Z.copy()
    softmax(Z), log_softmax(Z), logsumexp(Z)
    np.testing.assert_array_equal(Z, before)


# --- bad input --------------------------------------------------------------------------
@pytest.mark.parametrize("func", [softmax, log_softmax, logsumexp])
def test_bad_logits_raise(func):
    """Do NaN, inf, a scalar and a bad axis raise ValueError naming what came?"""
    with pytest.raises(ValueError, match="must not contain NaN"):
        func(np.array([1.0, np.nan]))
    with pytest.raises(ValueError, match="must be finite, got 1 infinite"):
        func(np.array([1.0, np.inf]))
    with pytest.raises(ValueError, match="at least 1 dimension"):
        func(3.0)
    with pytest.raises(ValueError, match=r"axis must be in -2..1 .*shape \(2, 3\), got 2"):
        func(np.zeros((2, 3)), axis=2)


def test_one_hot_bad_labels():
    """Do labels outside 0..M-1, non-integers and a bad M raise with the range and what came?"""
    with pytest.raises(ValueError, match=r"labels in 0..2, got values in 0..3"):
        one_hot(np.array([0, 3]), 3)
    with pytest.raises(ValueError, match=r"labels in 0..2, got values in -1..1"):
        one_hot(np.array([-1, 1]), 3)
    with pytest.raises(ValueError, match="integer class labels, got dtype float64"):
        one_hot(np.array([0.5, 1.0]), 3)
    with pytest.raises(ValueError, match="num_classes must be >= 1, got 0"):
        one_hot(np.array([0]), 0)
    with pytest.raises(ValueError, match="num_classes must be an int, got float"):
        one_hot(np.array([0]), 3.0)
    with pytest.raises(ValueError, match=r"1-D integer labels of shape \(n,\), got shape \(2, 2\)"):
        one_hot(np.zeros((2, 2), dtype=int), 3)


def test_softmax_regression_bad_shapes(rng):
    """Do a 1-D W, a W with the wrong width and a wrong b raise ValueError?"""
    X = rng.normal(size=(5, 4))
    with pytest.raises(ValueError, match=r"W must be 2-D of shape \(M, p\).*got shape \(4,\)"):
        softmax_regression_logits(X, np.zeros(4), np.zeros(()))
    with pytest.raises(ValueError, match=r"W must have 4 columns.*got W.shape=\(3, 2\)"):
        softmax_regression_logits(X, np.zeros((3, 2)), np.zeros(3))
    with pytest.raises(ValueError, match=r"b must have shape \(3,\).*got \(2,\)"):
        predict(X, np.zeros((3, 4)), np.zeros(2))
