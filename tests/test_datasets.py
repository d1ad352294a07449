"""Offline data sets: scikit-learn's digits, scaled and split."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.datasets import load_digits, load_digits_split

pytestmark = pytest.mark.ch7


def test_load_digits_shapes_range_and_labels():
    X, y = load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert y.shape == (1797,) and y.dtype == np.int64
    assert X.min() == 0.0 and X.max() == 1.0
    assert set(np.unique(y)) == set(range(10))


def test_digits_split_is_stratified_and_seeded():
    X_tr, X_te, y_tr, y_te = load_digits_split(test_size=0.25, seed=0)
    assert len(y_tr) + len(y_te) == 1797
    assert len(y_te) == pytest.approx(0.25 * 1797, abs=1)
    share_train = np.bincount(y_tr, minlength=10) / len(y_tr)
    share_test = np.bincount(y_te, minlength=10) / len(y_te)
    np.testing.assert_allclose(share_train, share_test, atol=0.01)
    again = load_digits_split(test_size=0.25, seed=0)
    np.testing.assert_array_equal(again[1], X_te)
    with pytest.raises(ValueError, match=r"test_size must be in \(0, 1\)"):
        load_digits_split(test_size=1.5)
