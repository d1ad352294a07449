r"""Two-class logistic regression and Boolean functions built from sigmoid units.

Book: chapter 2, *Activations and generalised linear models*
(``book/ch02_activations.ipynb``): binary classification with the logistic function
and the log loss, then AND, OR, NAND, NOT with one unit and XOR with a hidden layer.

Shapes: samples in rows, ``X`` of shape ``(n, p)``; one output unit has weights
``w`` of shape ``(p,)`` and a scalar offset ``b``; targets ``y`` of shape ``(n,)`` hold
the class labels 0/1 (or probabilities in [0, 1]). The model is
:math:`f(x) = \sigma(w^\top x + b) = p(y = 1 \mid x, \theta)`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array, check_same_length
from course_nn.activations import sigmoid

Array = NDArray[np.float64]


def _check_unit(X: Array, w: Array, b: Array) -> None:
    """Raise ``ValueError`` unless ``w`` (p,) and a scalar ``b`` fit ``X`` of shape (n, p)."""
    p = X.shape[1]
    if w.shape != (p,):
        raise ValueError(
            f"w must have shape ({p},) to match X of shape {X.shape}, got w.shape={w.shape}"
        )
    if b.shape != ():
        raise ValueError(f"b must be a scalar (one output unit), got shape {b.shape}")


def _as_targets(y: ArrayLike, name: str = "y") -> Array:
    """Targets as a float64 array with values in [0, 1] (labels 0/1 or probabilities)."""
    y = as_float_array(y, name)
    if y.size and (y.min() < 0 or y.max() > 1):
        raise ValueError(
            f"{name} must hold labels 0/1 or probabilities in [0, 1], got values in "
            f"{y.min():g}..{y.max():g}"
        )
    return y


def logistic_forward(X: ArrayLike, w: ArrayLike, b: ArrayLike) -> Array:
    r"""Probabilities of class 1, :math:`\hat p = \sigma(X w + b)`.

    Parameters
    ----------
    X : array of shape (n, p)
    w : array of shape (p,)
    b : float

    Returns
    -------
    p_hat : array of shape (n,), values in [0, 1]

    Math
    ----
    :math:`\hat p_i = \sigma(z_i)` with logit :math:`z_i = \sum_j w_j x_{ij} + b`.
    """
    X = as_float_array(X, "X", ndim=2)
    w = as_float_array(w, "w", ndim=1)
    b = as_float_array(b, "b")
    _check_unit(X, w, b)
    return sigmoid(X @ w + b)


def binary_cross_entropy_with_logits(z: ArrayLike, y: ArrayLike) -> float:
    r"""Mean log loss of logits ``z`` against targets ``y``, computed stably.

    Parameters
    ----------
    z : array of shape (n,) (any shape, the same as y)
        Logits, :math:`z = w^\top x + b`; :math:`\sigma(z)` is the probability of class 1.
    y : array of the shape of z
        Labels 0/1 (or target probabilities in [0, 1]).

    Returns
    -------
    float
        Finite for every finite z (also z = ±1e4, where ``log(sigmoid(z))`` is -inf).

    Math
    ----
    :math:`L = -\frac1N\sum_i \big(y_i\log\sigma(z_i) + (1-y_i)\log(1-\sigma(z_i))\big)`.
    Since :math:`-\log\sigma(z) = \log(1+e^{-z})` and :math:`-\log(1-\sigma(z)) =
    \log(1+e^{z})`, each term is a softplus, which ``np.logaddexp(0, .)`` evaluates
    without overflow.
    """
    z = as_float_array(z, "z")
    y = _as_targets(y)
    if z.shape != y.shape:
        raise ValueError(f"z and y must have the same shape, got {z.shape} and {y.shape}")
    if z.size == 0:
        raise ValueError("z and y must not be empty: the mean of no losses is undefined")
    return float(np.mean(y * np.logaddexp(0.0, -z) + (1.0 - y) * np.logaddexp(0.0, z)))


def logistic_grads(X: ArrayLike, y: ArrayLike, w: ArrayLike, b: ArrayLike) -> tuple[Array, Array]:
    r"""Gradients of the mean log loss of logistic regression w.r.t. ``w`` and ``b``.

    Returns
    -------
    dw : array of shape (p,)
    db : float array of shape ()

    Math
    ----
    With :math:`dz_i = (\sigma(z_i) - y_i)/n` (prediction minus truth; the sigmoid's
    derivative cancels against the log loss's): :math:`\partial L/\partial w = X^\top dz`
    and :math:`\partial L/\partial b = \sum_i dz_i`.
    """
    X = as_float_array(X, "X", ndim=2)
    y = _as_targets(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D of shape (n,), got shape {y.shape}")
    check_same_length(X, y, "X", "y")
    dz = (logistic_forward(X, w, b) - y) / X.shape[0]
    return X.T @ dz, np.asarray(dz.sum())


@dataclass
class LogisticRegressionResult:
    """Parameters found by :func:`fit_logistic` and the loss before each step."""

    w: Array
    b: Array
    history: list[float] = field(default_factory=list)


def _log_loss(X: Array, y: Array, w: Array, b: Array) -> float:
    return binary_cross_entropy_with_logits(X @ w + b, y)


def fit_logistic(
    X: ArrayLike,
    y: ArrayLike,
    learning_rate: float = 0.5,
    epochs: int = 1000,
    w0: ArrayLike | None = None,
    b0: ArrayLike | None = None,
) -> LogisticRegressionResult:
    r"""Full-batch gradient descent on the mean log loss of logistic regression.

    Each epoch: :math:`w \leftarrow w - \alpha\,\partial L/\partial w`,
    :math:`b \leftarrow b - \alpha\,\partial L/\partial b`. Starts from zeros unless
    ``w0``/``b0`` are given (the loss is convex, and one unit has no symmetry to break).
    On linearly separable data the loss has no minimum: w keeps growing, slowly.

    Returns
    -------
    LogisticRegressionResult
        ``history`` has ``epochs + 1`` losses: before every step and after the last.
    """
    X = as_float_array(X, "X", ndim=2)
    y = _as_targets(y)
    check_same_length(X, y, "X", "y")
    if not learning_rate > 0:
        raise ValueError(f"learning_rate must be positive, got {learning_rate}")
    if int(epochs) < 0:
        raise ValueError(f"epochs must be >= 0, got {epochs}")
    w = np.zeros(X.shape[1]) if w0 is None else as_float_array(w0, "w0", ndim=1).copy()
    b = np.zeros(()) if b0 is None else as_float_array(b0, "b0", ndim=0).copy()
    _check_unit(X, w, b)
    history = []
    for _ in range(int(epochs)):
        history.append(_log_loss(X, y, w, b))
        dw, db = logistic_grads(X, y, w, b)
        w, b = w - learning_rate * dw, b - learning_rate * db
    history.append(_log_loss(X, y, w, b))
    return LogisticRegressionResult(w=w, b=b, history=history)


def predict_logistic(X: ArrayLike, w: ArrayLike, b: ArrayLike, threshold: float = 0.5) -> NDArray:
    r"""Class labels 0/1: 1 where :math:`\sigma(w^\top x + b) >` ``threshold``.

    With the default 0.5 this is the sign of the logit (1 where z > 0), as in
    scikit-learn. Returns an int64 array of shape (n,).
    """
    if not 0 <= threshold <= 1:
        raise ValueError(f"threshold must be a probability in [0, 1], got {threshold}")
    return (logistic_forward(X, w, b) > threshold).astype(np.int64)


# --- Boolean functions with hand-set weights ---------------------------------------
def _frozen(values: ArrayLike) -> Array:
    arr = np.array(values, dtype=np.float64)
    arr.flags.writeable = False  # shared module constants: nobody may edit them
    return arr


#: ``name -> (weights, bias)`` of one sigmoid unit computing a Boolean function of
#: 0/1 inputs: ``boolean_unit(X, *BOOLEAN_WEIGHTS["AND"])``. Weights of size 20 make
#: every logit at least 10 away from 0, so outputs are within 5e-5 of 0 or 1. These are
#: the units chapter 2 teaches; the NOR unit is exercise 2's, and its weights are nowhere
#: in the package (the grader checks a student's unit against the truth table).
BOOLEAN_WEIGHTS: dict[str, tuple[Array, float]] = {
    "AND": (_frozen([20.0, 20.0]), -30.0),  # the lecture's g(-30 + 20 x1 + 20 x2)
    "OR": (_frozen([20.0, 20.0]), -10.0),
    "NAND": (_frozen([-20.0, -20.0]), 30.0),  # NOT AND: negate AND's weights and bias
    "NOT": (_frozen([-20.0]), 10.0),  # one input
}


def boolean_unit(X: ArrayLike, weights: ArrayLike, bias: float) -> Array:
    r"""One sigmoid unit on Boolean inputs, :math:`g(X\,\text{weights} + \text{bias})`.

    Parameters
    ----------
    X : array of shape (n, k)
        One input combination per row, entries 0 or 1 (other reals are allowed, to
        plot the unit's output between the corners).
    weights : array of shape (k,)
    bias : float

    Returns
    -------
    array of shape (n,), close to 0 or 1 for the hand-set :data:`BOOLEAN_WEIGHTS`

    Examples
    --------
    AND, for the rows 00, 01, 10, 11: g(-30), g(-10), g(-10), g(10), about 0, 0, 0, 1.
    """
    return logistic_forward(X, weights, bias)


def _params(W: ArrayLike, b: ArrayLike) -> tuple[Array, Array]:
    return _frozen(W), _frozen(b)


#: XOR as a two-layer network in the (out, in) convention, ``[(W1, b1), (W2, b2)]``:
#: hidden units OR and NAND, output AND of the two (x1 XOR x2 = (x1 OR x2) AND NOT(x1 AND x2)).
XOR_PARAMS: list[tuple[Array, Array]] = [
    _params([[20.0, 20.0], [-20.0, -20.0]], [-10.0, 30.0]),  # rows: OR, NAND
    _params([[20.0, 20.0]], [-30.0]),  # AND
]

def _two_layer_sigmoid(X: ArrayLike, params: list[tuple[Array, Array]]) -> Array:
    """``sigmoid`` after *both* layers, one output unit: shape (n,)."""
    Q = as_float_array(X, "X", ndim=2)
    for W, b in params:
        if Q.shape[1] != W.shape[1]:
            raise ValueError(f"X must have shape (n, {W.shape[1]}), got {Q.shape}")
        Q = sigmoid(Q @ W.T + b)
    return Q[:, 0]


def xor_network(X: ArrayLike) -> Array:
    r"""XOR of two Boolean inputs by a hidden layer of sigmoid units (:data:`XOR_PARAMS`).

    No single unit computes XOR (it is not linearly separable), but two layers do:
    :math:`q = g(W^{(1)}x + b^{(1)})` holds OR and NAND, and the output unit is their
    AND, :math:`\hat y = g(W^{(2)}q + b^{(2)})`.

    Unlike ``mlp_forward(XOR_PARAMS, X, activation="sigmoid")``, whose last layer is
    linear and returns the logits (about -10 or +10), this applies the sigmoid to the
    output too, so the values are close to 0 or 1.

    Parameters
    ----------
    X : array of shape (n, 2), entries 0 or 1

    Returns
    -------
    array of shape (n,): about 0, 1, 1, 0 for the rows 00, 01, 10, 11
    """
    return _two_layer_sigmoid(X, XOR_PARAMS)
