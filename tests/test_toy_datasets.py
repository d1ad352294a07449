"""Tests of course_nn.datasets.toy: the seeded toy classification problems (chapters 2 and 4)."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.datasets.toy import (
    THREE_CLASS_CENTRES,
    TOY_CLASS_NAMES,
    make_three_class_toy,
    make_two_class_toy,
)

pytestmark = pytest.mark.ch4

MAKERS = [(make_three_class_toy, 3), pytest.param(make_two_class_toy, 2, marks=pytest.mark.ch2)]


def _nearest_centroid_accuracy(X, y):
    """Accuracy of assigning each point to the nearest class mean: a linear classifier."""
    means = np.array([X[y == m].mean(axis=0) for m in np.unique(y)])
    pred = np.argmin(((X[:, None, :] - means[None]) ** 2).sum(axis=2), axis=1)
    return float(np.mean(pred == y))


@pytest.mark.parametrize("make, M", MAKERS)
def test_shapes_dtypes_and_balance(make, M):
    """X is float (M n, 2), y int labels 0..M-1 with n of each."""
    X, y = make(n_per_class=40, seed=3)
    assert X.shape == (40 * M, 2) and X.dtype == np.float64
    assert y.shape == (40 * M,) and y.dtype == np.int64
    np.testing.assert_array_equal(np.bincount(y), [40] * M)
    assert np.all(np.isfinite(X))


@pytest.mark.parametrize("make, M", MAKERS)
def test_seeded(make, M):
    """The same seed gives the same data; another seed other data."""
    X1, y1 = make(30, seed=7)
    X2, y2 = make(30, seed=7)
    X3, _ = make(30, seed=8)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert not np.allclose(X1, X3)


@pytest.mark.parametrize("make, M", MAKERS)
def test_classes_overlap_a_little(make, M):
    """A linear rule gets most points right, but not all: the blobs overlap a little."""
    X, y = make(n_per_class=300, seed=0)
    assert 0.85 < _nearest_centroid_accuracy(X, y) < 0.995


@pytest.mark.parametrize("make, M", MAKERS)
def test_shuffled(make, M):
    """A minibatch taken from the front already holds every class."""
    _, y = make(n_per_class=50, seed=0)
    assert set(y[:20].tolist()) == set(range(M))


def test_three_class_names_and_layout():
    """The lectures' "red", "blue", "green": one name and one blob centre per label."""
    assert TOY_CLASS_NAMES == ("red", "blue", "green")
    X, y = make_three_class_toy(n_per_class=500, seed=1)
    means = np.array([X[y == m].mean(axis=0) for m in range(3)])
    np.testing.assert_allclose(means, THREE_CLASS_CENTRES, atol=0.15)


def test_single_point_per_class():
    """n_per_class = 1 gives one point of each class."""
    X, y = make_three_class_toy(n_per_class=1)
    assert X.shape == (3, 2)
    assert sorted(y.tolist()) == [0, 1, 2]


@pytest.mark.parametrize("make", [make_three_class_toy, make_two_class_toy])
def test_bad_sizes(make):
    """n_per_class must be a positive int; the message says what came."""
    with pytest.raises(ValueError, match="n_per_class must be >= 1, got 0"):
        make(n_per_class=0)
    with pytest.raises(ValueError, match="n_per_class must be an int, got float"):
        make(n_per_class=2.5)
