"""Linear regression: the model, the squared-error loss, least squares and gradient descent.

Book: chapter 1, *Linear regression* (``book/ch01_linear_regression.ipynb``).

Shapes follow the lectures and ``torch.nn.Linear``: samples in rows, ``X`` of shape
``(n, p)``; a single output has ``W`` of shape ``(p,)`` and a scalar ``b``; ``k``
outputs have ``W`` of shape ``(k, p)`` and ``b`` of shape ``(k,)``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array, check_same_length

Array = NDArray[np.float64]


def _check_weights(X: Array, W: Array, b: Array) -> None:
    """Raise ``ValueError`` unless ``W`` and ``b`` fit ``X`` of shape (n, p)."""
    p = X.shape[1]
    if W.shape[-1] != p:
        raise ValueError(
            f"W must have {p} columns to match X of shape {X.shape} "
            f"(expected W.shape == ({p},) or (k, {p})), got W.shape={W.shape}"
        )
    want_b = () if W.ndim == 1 else (W.shape[0],)
    if b.shape != want_b:
        raise ValueError(f"b must have shape {want_b} for W of shape {W.shape}, got {b.shape}")


def linear_forward(X: ArrayLike, W: ArrayLike, b: ArrayLike) -> Array:
    r"""Predictions of a linear model for a minibatch, :math:`\hat Y = X W^\top + b`.

    Parameters
    ----------
    X : array of shape (n, p)
        Inputs, one sample per row.
    W : array of shape (p,) or (k, p)
        Weights; one row per output.
    b : float or array of shape (k,)
        Offset (bias, intercept); a scalar for a single output.

    Returns
    -------
    Y_hat : array of shape (n,) or (n, k)

    Math
    ----
    :math:`\hat y_i = \sum_j W_j x_{ij} + b`, i.e. :math:`\hat Y = X W^\top + b`.
    """
    X = as_float_array(X, "X", ndim=2)
    W = as_float_array(W, "W", ndim=(1, 2))
    b = as_float_array(b, "b", ndim=(0, 1))
    _check_weights(X, W, b)
    return X @ W.T + b


def mse(y_hat: ArrayLike, y: ArrayLike) -> float:
    r"""Mean squared error, :math:`L = \frac{1}{N}\sum (\hat y - y)^2` over all N entries.

    ``y_hat`` and ``y`` must have the same shape, (n,) or (n, k).
    """
    y_hat = as_float_array(y_hat, "y_hat", ndim=(1, 2))
    y = as_float_array(y, "y", ndim=(1, 2))
    if y_hat.shape != y.shape:
        raise ValueError(f"y_hat and y must have the same shape, got {y_hat.shape} and {y.shape}")
    return float(np.mean((y_hat - y) ** 2))


def mse_grad(y_hat: ArrayLike, y: ArrayLike) -> Array:
    r"""Gradient of :func:`mse` with respect to the predictions, :math:`\frac{2}{N}(\hat y - y)`.

    Returns an array of the shape of ``y_hat``.
    """
    y_hat = as_float_array(y_hat, "y_hat", ndim=(1, 2))
    y = as_float_array(y, "y", ndim=(1, 2))
    if y_hat.shape != y.shape:
        raise ValueError(f"y_hat and y must have the same shape, got {y_hat.shape} and {y.shape}")
    return 2.0 * (y_hat - y) / y.size


def linear_mse_grads(X: ArrayLike, y: ArrayLike, W: ArrayLike, b: ArrayLike) -> tuple[Array, Array]:
    r"""Gradients of the mean squared error of a linear model w.r.t. ``W`` and ``b``.

    Returns
    -------
    dW : array of the shape of W
    db : array of the shape of b

    Math
    ----
    With :math:`\delta = \frac{2}{N}(\hat Y - Y)`: :math:`\partial L/\partial W = \delta^\top X`
    and :math:`\partial L/\partial b = \sum_i \delta_i` (since :math:`\partial z/\partial w = x`
    and :math:`\partial z/\partial b = 1`).
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=(1, 2))
    check_same_length(X, y, "X", "y")
    delta = mse_grad(linear_forward(X, W, b), y)
    return delta.T @ X, delta.sum(axis=0)


def fit_least_squares(X: ArrayLike, y: ArrayLike) -> tuple[Array, Array]:
    r"""Least-squares fit of a linear model: the ``(W, b)`` that minimise the squared error.

    Solves the normal equations through ``numpy.linalg.lstsq`` on the design matrix
    :math:`[\mathbf 1, X]`, so :math:`\theta = [b, W]` as in the book's chapter 1 (stable also
    when :math:`X^\top X` is singular: then the
    minimum-norm solution).

    Parameters
    ----------
    X : array of shape (n, p)
    y : array of shape (n,) or (n, k)

    Returns
    -------
    W : array of shape (p,) or (k, p)
    b : float array of shape () or (k,)
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=(1, 2))
    check_same_length(X, y, "X", "y")
    design = np.hstack([np.ones((X.shape[0], 1)), X])
    theta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return theta[1:].T.copy(), np.asarray(theta[0], dtype=np.float64)


@dataclass
class GradientDescentResult:
    """Parameters found by :func:`gradient_descent` and the loss before each step."""

    W: Array
    b: Array
    history: list[float] = field(default_factory=list)


def gradient_descent(
    X: ArrayLike,
    y: ArrayLike,
    learning_rate: float = 0.1,
    epochs: int = 100,
    W0: ArrayLike | None = None,
    b0: ArrayLike | None = None,
) -> GradientDescentResult:
    r"""Full-batch gradient descent on the mean squared error of a linear model.

    Each epoch: :math:`W \leftarrow W - \alpha\,\partial L/\partial W`,
    :math:`b \leftarrow b - \alpha\,\partial L/\partial b`. Starts from zeros unless
    ``W0``/``b0`` are given (a linear model has no symmetry to break).

    Returns
    -------
    GradientDescentResult
        ``history`` has ``epochs + 1`` losses: before every step and after the last.
    """
    X = as_float_array(X, "X", ndim=2)
    y = as_float_array(y, "y", ndim=(1, 2))
    check_same_length(X, y, "X", "y")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    shape_W = (X.shape[1],) if y.ndim == 1 else (y.shape[1], X.shape[1])
    W = np.zeros(shape_W) if W0 is None else as_float_array(W0, "W0").copy()
    b = np.zeros(shape_W[:-1]) if b0 is None else as_float_array(b0, "b0").copy()
    history = []
    for _ in range(int(epochs)):
        history.append(mse(linear_forward(X, W, b), y))
        dW, db = linear_mse_grads(X, y, W, b)
        W, b = W - learning_rate * dW, b - learning_rate * db
    history.append(mse(linear_forward(X, W, b), y))
    return GradientDescentResult(W=W, b=b, history=history)


def mse_hessian(X: ArrayLike) -> Array:
    r"""Hessian of the squared-error cost of a one-output linear model w.r.t. :math:`(b, W)`.

    The gradient of the cost is affine in the parameters, so column k of the Hessian is
    the change of the gradient (:func:`linear_mse_grads`) when parameter k moves by 1:
    :math:`H = \frac{2}{n} D^\top D` with the design matrix :math:`D = [\mathbf 1, X]`
    for the mean of :math:`(\hat y - y)^2`. It does not depend on ``y``.

    Parameters
    ----------
    X : array of shape (n, p)

    Returns
    -------
    H : array of shape (p + 1, p + 1), rows and columns ordered as θ = [b, W1, ..., Wp]
    """
    X = as_float_array(X, "X", ndim=2)
    p = X.shape[1]
    y = np.zeros(X.shape[0])

    def grad(theta: Array) -> Array:
        dW, db = linear_mse_grads(X, y, theta[1:], theta[0])
        return np.concatenate([[db], dW])

    base = grad(np.zeros(p + 1))
    return np.column_stack([grad(e) - base for e in np.eye(p + 1)])


def learning_rate_limit(X: ArrayLike) -> float:
    r"""The largest learning rate for which gradient descent on the squared error converges.

    Gradient descent on a quadratic multiplies the error along the Hessian's eigenvector
    :math:`v_k` by :math:`(1 - \alpha\lambda_k)` each step, so it converges exactly when
    :math:`|1 - \alpha\lambda_k| < 1` for all k, i.e. :math:`\alpha < 2/\lambda_{\max}(H)`.

    Parameters
    ----------
    X : array of shape (n, p)

    Returns
    -------
    alpha_max : float, :math:`2 / \lambda_{\max}(H)` with H from :func:`mse_hessian`
    """
    return float(2.0 / np.linalg.eigvalsh(mse_hessian(X)).max())
