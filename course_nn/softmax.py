"""Softmax, log-softmax, one-hot targets and softmax regression.

Book: chapter 4, *Softmax and multi-class classification*
(``book/ch04_softmax.ipynb``).

Logits ``Z`` have shape ``(n, M)``: one row per sample, one column per class, and
softmax normalises each row (``axis=-1``). Every function here is stable for any
finite input: softmax subtracts the row maximum before exponentiating, and
log-softmax uses the log-sum-exp identity, so logits of +-1e4 give exact results
without overflow warnings. Labels are integers ``0..M-1``; the lectures count
classes from 1, so the lectures' "class 2 of 3" is label 1 here.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array, as_labels
from course_nn.linear import linear_forward

Array = NDArray[np.float64]


def _as_logits(Z: ArrayLike, axis: int, name: str = "Z") -> tuple[Array, int]:
    """``Z`` as a finite float64 array of at least 1-D, and ``axis`` made non-negative."""
    Z = as_float_array(Z, name)
    if Z.ndim == 0:
        raise ValueError(f"{name} must have at least 1 dimension (the classes), got a scalar")
    if not np.all(np.isfinite(Z)):
        raise ValueError(f"{name} must be finite, got {np.sum(~np.isfinite(Z))} infinite value(s)")
    if not -Z.ndim <= axis < Z.ndim:
        raise ValueError(
            f"axis must be in -{Z.ndim}..{Z.ndim - 1} for {name} of shape {Z.shape}, got {axis}"
        )
    return Z, axis % Z.ndim


def _shifted(Z: Array, axis: int) -> Array:
    """``Z`` minus its maximum along ``axis``: the largest entry becomes 0, so exp <= 1."""
    return Z - np.max(Z, axis=axis, keepdims=True)


def logsumexp(Z: ArrayLike, axis: int = -1) -> Array:
    r"""The log-sum-exp of ``Z`` along ``axis``, computed without overflow.

    Parameters
    ----------
    Z : array of shape (..., M, ...)
        Finite logits.
    axis : int
        The axis to reduce (the classes); default the last.

    Returns
    -------
    lse : array of Z's shape without ``axis`` (a 0-d array for 1-D input)

    Math
    ----
    :math:`\log\sum_m e^{z_m} = c + \log\sum_m e^{z_m - c}` with :math:`c = \max_m z_m`;
    every exponent is then :math:`\le 0` and the sum is at least 1.
    """
    Z, axis = _as_logits(Z, axis)
    c = np.max(Z, axis=axis)
    return c + np.log(np.sum(np.exp(Z - np.expand_dims(c, axis)), axis=axis))


def softmax(Z: ArrayLike, axis: int = -1) -> Array:
    r"""Softmax along ``axis``: non-negative values that sum to 1, in the order of ``Z``.

    Parameters
    ----------
    Z : array of shape (n, M), (M,) or any shape
        Finite logits.
    axis : int
        The axis that holds the classes; default the last (rows of an (n, M) matrix).

    Returns
    -------
    A : array of Z's shape
        Probabilities; ``A.sum(axis=axis)`` is 1 and ``argmax`` is that of ``Z``.

    Math
    ----
    :math:`a_m(z) = e^{z_m} / \sum_l e^{z_l} = e^{z_m - c} / \sum_l e^{z_l - c}` for
    any :math:`c`; taking :math:`c = \max_l z_l` keeps every exponent :math:`\le 0`.
    """
    Z, axis = _as_logits(Z, axis)
    E = np.exp(_shifted(Z, axis))
    return E / np.sum(E, axis=axis, keepdims=True)


def log_softmax(Z: ArrayLike, axis: int = -1) -> Array:
    r"""The logarithm of :func:`softmax`, computed directly (finite even where softmax is 0).

    Parameters
    ----------
    Z : array of shape (n, M), (M,) or any shape
        Finite logits.
    axis : int
        The axis that holds the classes; default the last.

    Returns
    -------
    log_A : array of Z's shape, all entries :math:`\le 0`

    Math
    ----
    :math:`\ln a_m(z) = z_m - \log\sum_l e^{z_l}`; with the max subtracted first,
    :math:`(z_m - c) - \log\sum_l e^{z_l - c}`. ``np.log(softmax(Z))`` would give
    :math:`-\infty` once :math:`e^{z_m - c}` underflows (a gap of about 745).
    """
    Z, axis = _as_logits(Z, axis)
    S = _shifted(Z, axis)
    return S - np.log(np.sum(np.exp(S), axis=axis, keepdims=True))




def one_hot(y: ArrayLike, num_classes: int) -> Array:
    r"""One-hot targets: row i has a 1 in column ``y[i]`` and 0 elsewhere.

    Parameters
    ----------
    y : int array of shape (n,), or one int
        Class labels in ``0..num_classes-1`` (floats equal to integers are accepted).
    num_classes : int
        M, the number of classes.

    Returns
    -------
    Y : float array of shape (n, M), or (M,) for a single label

    Math
    ----
    :math:`\tilde y_m = 1` if :math:`y = m`, else 0. With M = 3, the lectures' class 2
    (label 1 here) is :math:`[0, 1, 0]`.
    """
    if isinstance(num_classes, bool) or not isinstance(num_classes, (int, np.integer)):
        raise ValueError(f"num_classes must be an int, got {type(num_classes).__name__}")
    if num_classes < 1:
        raise ValueError(f"num_classes must be >= 1, got {num_classes}")
    scalar = np.ndim(y) == 0
    labels = as_labels(np.atleast_1d(np.asarray(y)), "y", num_classes=int(num_classes))
    Y = (labels[:, None] == np.arange(num_classes)).astype(np.float64)
    return Y[0] if scalar else Y


def softmax_regression_logits(X: ArrayLike, W: ArrayLike, b: ArrayLike) -> Array:
    r"""Logits of softmax regression, one affine function per class: :math:`O = X W^\top + b`.

    Parameters
    ----------
    X : array of shape (n, p)
        Inputs, one sample per row.
    W : array of shape (M, p)
        One row of weights per class (as ``torch.nn.Linear(p, M).weight``).
    b : array of shape (M,)
        One bias per class.

    Returns
    -------
    Z : array of shape (n, M)

    Math
    ----
    :math:`o_m = W_m x + b_m`: with p = 4 features and M = 3 classes that is
    12 weights and 3 biases. Lectures that write the minibatch form as :math:`O = XW + b`
    store the transpose, a (p, M) weight matrix; here W is (M, p), as in ``torch.nn.Linear``.
    """
    W = as_float_array(W, "W")
    if W.ndim != 2:
        raise ValueError(
            f"W must be 2-D of shape (M, p), one row per class, got shape {W.shape} ({W.ndim}-D)"
        )
    return linear_forward(X, W, b)


def softmax_regression_proba(X: ArrayLike, W: ArrayLike, b: ArrayLike) -> Array:
    r"""Class probabilities of softmax regression, ``softmax(X @ W.T + b)`` row-wise.

    Shapes as in :func:`softmax_regression_logits`; returns an (n, M) array whose
    rows sum to 1.
    """
    return softmax(softmax_regression_logits(X, W, b), axis=-1)


def predict(X: ArrayLike, W: ArrayLike, b: ArrayLike) -> NDArray[np.int64]:
    r"""The most probable class of each sample, :math:`\arg\max_m o_m`, as int labels (n,).

    Softmax keeps the order of the logits, so the argmax of the logits is the argmax
    of the probabilities and no exponential is needed.
    """
    return np.argmax(softmax_regression_logits(X, W, b), axis=-1).astype(np.int64)
