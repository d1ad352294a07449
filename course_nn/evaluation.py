r"""Looking at a trained classifier's mistakes: confusion matrix, most confident mistakes.

Book: chapter 7, *Lab: image classification*. Accuracy itself is
:func:`course_nn.losses.accuracy`; these functions say *which* mistakes a model makes.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array, as_labels, check_same_length
from course_nn.mlp import mlp_forward
from course_nn.softmax import softmax


def _num_classes(num_classes: int) -> int:
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"num_classes must be an int, got {type(num_classes).__name__}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    return int(num_classes)


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, num_classes: int) -> NDArray[np.int64]:
    r"""Counts of (true class, predicted class) pairs.

    Parameters
    ----------
    y_true : int array of shape (n,), labels in 0..M-1
    y_pred : int array of shape (n,), predicted labels in 0..M-1
    num_classes : M (a class that never occurs still gets a row and a column)

    Returns
    -------
    C : int array of shape (M, M)
        ``C[i, j]`` is the number of samples of true class i predicted as j: the
        diagonal holds the correct answers, row i sums to the size of class i.

    Math
    ----
    :math:`C_{ij} = \sum_k [y_k = i][\hat y_k = j]`; accuracy is
    :math:`\mathrm{tr}(C) / \sum_{ij} C_{ij}`.
    """
    M = _num_classes(num_classes)
    y_true = as_labels(y_true, "y_true", num_classes=M)
    y_pred = as_labels(y_pred, "y_pred", num_classes=M)
    check_same_length(y_true, y_pred, "y_true", "y_pred")
    counts = np.zeros((M, M), dtype=np.int64)
    np.add.at(counts, (y_true, y_pred), 1)  # fancy-index += would count repeated pairs once
    return counts


def most_confident_mistakes(P: ArrayLike, y: ArrayLike, k: int) -> NDArray[np.int64]:
    r"""Indices of the (at most) ``k`` misclassified samples the model was surest about.

    Parameters
    ----------
    P : array of shape (n, M)
        Predicted class probabilities (or any scores; the prediction is the row argmax
        and the confidence the row max).
    y : int array of shape (n,), true labels
    k : how many to return

    Returns
    -------
    idx : int array of shape (min(k, number of mistakes),)
        Sample indices with ``argmax(P[i]) != y[i]``, the most confident first (ties
        by index).
    """
    P = as_float_array(P, "P", ndim=2)
    y = as_labels(y, "y", num_classes=P.shape[1])
    check_same_length(P, y, "P", "y")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 0:
        raise ValueError(f"k must be an int >= 0, got {k!r}")
    wrong = np.flatnonzero(np.argmax(P, axis=1) != y)
    order = np.argsort(-P[wrong].max(axis=1), kind="stable")
    return wrong[order[: int(k)]].astype(np.int64)


def top_confusions(C: ArrayLike, count: int = 5) -> list[tuple[int, int, int]]:
    """The ``count`` largest off-diagonal entries of a confusion matrix as
    (true class, predicted class, number of samples), largest first."""
    C = np.asarray(C)
    if C.ndim != 2 or C.shape[0] != C.shape[1]:
        raise ValueError(f"C must be a square (M, M) matrix, got shape {C.shape}")
    off = np.where(np.eye(len(C), dtype=bool), -1, C)
    flat = np.argsort(-off, axis=None, kind="stable")[:count]
    rows, cols = np.unravel_index(flat, C.shape)
    return [(int(i), int(j), int(C[i, j])) for i, j in zip(rows, cols, strict=True) if off[i, j] > 0]


def predict_proba(params, X: ArrayLike, activation: str = "relu") -> NDArray[np.float64]:
    """Class probabilities softmax(logits) of an MLP (or softmax regression) for each row of X."""
    return softmax(mlp_forward(params, X, activation), axis=1)
