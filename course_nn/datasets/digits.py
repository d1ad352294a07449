"""scikit-learn's hand-written digits (8x8 images, 10 classes), shipped with scikit-learn.

Book: chapter 7, the digits lab. Needs no network: the data set is part of the
scikit-learn wheel.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray


def load_digits() -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """Return the 1797 digits as ``X`` of shape (1797, 64) in [0, 1] and labels ``y`` in 0..9.

    Pixels are scaled from scikit-learn's 0..16 grey levels to [0, 1]; each row is an
    8x8 image unrolled row by row (``X[i].reshape(8, 8)`` gives it back).
    """
    from sklearn.datasets import load_digits as _sklearn_digits

    bunch = _sklearn_digits()
    return bunch.data.astype(np.float64) / 16.0, bunch.target.astype(np.int64)


def train_test_split_stratified(
    X: NDArray, y: NDArray, test_size: float = 0.25, seed: int = 0
) -> tuple[NDArray, NDArray, NDArray, NDArray]:
    """Seeded split that keeps each class's share in both parts.

    Returns ``X_train, X_test, y_train, y_test`` like scikit-learn's
    ``train_test_split(..., stratify=y)``, which it calls.
    """
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise ValueError(f"test_size must be in (0, 1), got {test_size}")
    return train_test_split(X, y, test_size=test_size, random_state=seed, stratify=y)


def load_digits_split(
    test_size: float = 0.25, seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.int64], NDArray[np.int64]]:
    """The digits with a seeded stratified train/test split (75/25 by default)."""
    X, y = load_digits()
    return train_test_split_stratified(X, y, test_size=test_size, seed=seed)
