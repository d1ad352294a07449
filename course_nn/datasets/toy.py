"""Toy classification problems in the plane, seeded and generated offline.

Book: chapter 4, *Softmax and multi-class classification* (the lectures' three-class
"red", "blue", "green" problem, :func:`make_three_class_toy`), and chapter 2,
*Activations and generalised linear models* (two classes for logistic regression,
:func:`make_two_class_toy`).

Each class is a round Gaussian blob; neighbouring blobs overlap a little, so a
linear classifier gets most, not all, points right. The samples are shuffled, so
any prefix (a minibatch) holds every class.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Class names of :func:`make_three_class_toy`, indexed by label 0, 1, 2.
TOY_CLASS_NAMES = ("red", "blue", "green")

#: Blob centres (one row per class) and the common standard deviation.
THREE_CLASS_CENTRES = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
TWO_CLASS_CENTRES = np.array([[-1.0, -1.0], [1.5, 1.0]])
BLOB_SCALE = 0.9


def _gaussian_blobs(
    centres: NDArray[np.float64], n_per_class: int, seed: int
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """``n_per_class`` points around each centre, shuffled; label m for centre m."""
    if isinstance(n_per_class, bool) or not isinstance(n_per_class, (int, np.integer)):
        raise ValueError(f"n_per_class must be an int, got {type(n_per_class).__name__}")
    if n_per_class < 1:
        raise ValueError(f"n_per_class must be >= 1, got {n_per_class}")
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(len(centres), dtype=np.int64), n_per_class)
    X = centres[y] + BLOB_SCALE * rng.standard_normal((y.size, centres.shape[1]))
    order = rng.permutation(y.size)
    return X[order], y[order]


def make_three_class_toy(
    n_per_class: int = 100, seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""The lectures' three-class problem in :math:`\mathbb R^2`: "red", "blue", "green".

    Parameters
    ----------
    n_per_class : int
        Points per class.
    seed : int
        Seed of ``numpy.random.default_rng``: the same seed gives the same data.

    Returns
    -------
    X : float array of shape (3 * n_per_class, 2)
    y : int array of shape (3 * n_per_class,)
        Labels 0, 1, 2; ``TOY_CLASS_NAMES[y]`` names them.
    """
    return _gaussian_blobs(THREE_CLASS_CENTRES, n_per_class, seed)


def make_two_class_toy(
    n_per_class: int = 100, seed: int = 0
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    r"""Two overlapping blobs in :math:`\mathbb R^2` for logistic regression (chapter 2).

    Returns
    -------
    X : float array of shape (2 * n_per_class, 2)
    y : int array of shape (2 * n_per_class,)
        Labels 0 and 1 (1 is the class :math:`p(y = 1 \mid x)` predicts).
    """
    return _gaussian_blobs(TWO_CLASS_CENTRES, n_per_class, seed)
