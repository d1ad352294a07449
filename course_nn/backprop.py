r"""Backpropagation: the gradients of the softmax cross-entropy through an MLP.

Book: chapter 6, *Backpropagation and training*.

The loss is the mean softmax cross-entropy plus an L2 penalty on the weights,

.. math::

    J(\theta) = \frac{1}{n} \sum_{i=1}^n L(Z^{(L)}_i, y_i)
               + \frac{\ell_2}{2} \sum_l \lVert W^{(l)} \rVert^2,

biases not penalised. The lectures write the penalty as
:math:`\frac{\lambda}{2n} \sum \Theta^2`; that is the same with ``l2 = λ / n``.

Backpropagation runs the chain rule from the output to the input, reusing the
forward pass's :math:`Z^{(l)}` and :math:`Q^{(l)}`. With :math:`\delta^{(l)} =
\partial J / \partial Z^{(l)}` (one row per sample):

* :math:`\delta^{(L)} = (A^{(L)} - \tilde Y) / n`, with :math:`A^{(L)} = \mathrm{softmax}(Z^{(L)})`
  ("prediction minus truth"; the 1/n comes from the mean);
* :math:`\delta^{(l)} = (\delta^{(l+1)} W^{(l+1)}) \odot h'(Z^{(l)})`: each unit's
  blame is the blame of the units it feeds, weighted by the connections;
* :math:`\partial J / \partial W^{(l)} = \delta^{(l)\top} Q^{(l-1)} + \ell_2 W^{(l)}`
  and :math:`\partial J / \partial b^{(l)} = \sum_i \delta^{(l)}_i`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array, as_labels, check_same_length
from course_nn.activations import get_activation, sigmoid
from course_nn.losses import softmax_cross_entropy
from course_nn.mlp import Params, check_params, mlp_forward
from course_nn.softmax import one_hot, softmax

Array = NDArray[np.float64]


def softmax_jacobian(a: ArrayLike) -> Array:
    r"""Jacobian of softmax at the output ``a``: :math:`\partial a_i / \partial z_j`.

    Parameters
    ----------
    a : array of shape (M,) or (n, M)
        Softmax outputs (probabilities); the Jacobian is expressed through them.

    Returns
    -------
    J : array of shape (M, M) or (n, M, M)

    Math
    ----
    :math:`\partial a_i / \partial z_j = a_i(1 - a_i)` if :math:`i = j` and
    :math:`-a_i a_j` otherwise, i.e. :math:`J = \mathrm{diag}(a) - a a^\top`.
    """
    a = as_float_array(a, "a", ndim=(1, 2))
    diag = a[..., :, None] * np.eye(a.shape[-1])
    return diag - a[..., :, None] * a[..., None, :]


def softmax_cross_entropy_grad(Z: ArrayLike, y: ArrayLike) -> Array:
    r"""Gradient of the mean softmax cross-entropy w.r.t. the logits.

    Parameters
    ----------
    Z : array of shape (n, M)
        Logits.
    y : int array of shape (n,)
        Labels in 0..M-1.

    Returns
    -------
    dZ : array of shape (n, M)

    Math
    ----
    :math:`\partial J / \partial Z = (\mathrm{softmax}(Z) - \tilde Y) / n`: the softmax
    Jacobian times :math:`\partial L/\partial a = (0, \dots, -1/a_y, \dots, 0)` collapses
    to "prediction minus truth"; the :math:`1/n` is the mean over the batch.
    """
    Z = as_float_array(Z, "Z", ndim=2)
    y = as_labels(y, "y", num_classes=Z.shape[1])
    check_same_length(Z, y, "Z", "y")
    return (softmax(Z, axis=1) - one_hot(y, Z.shape[1])) / Z.shape[0]


def l2_penalty(params: Params, l2: float) -> float:
    r""":math:`\frac{\ell_2}{2} \sum_l \lVert W^{(l)} \rVert^2`; the biases are not penalised."""
    return 0.5 * l2 * sum(float(np.sum(W**2)) for W, _ in params)


def _check_l2(l2: float) -> float:
    if not (np.isfinite(l2) and l2 >= 0):
        raise ValueError(f"l2 must be a finite number >= 0, got {l2}")
    return float(l2)


def layer_backward(
    dQ: ArrayLike, Z: ArrayLike, Q_prev: ArrayLike, W: ArrayLike, activation: str
) -> tuple[Array, Array, Array]:
    r"""Backward pass through one layer :math:`Q = h(Q_{\text{prev}} W^\top + b)`.

    Parameters
    ----------
    dQ : array of shape (n, out)
        Gradient of the loss w.r.t. this layer's output Q.
    Z : array of shape (n, out)
        This layer's pre-activation, stored by the forward pass.
    Q_prev : array of shape (n, in)
        The layer's input.
    W : array of shape (out, in)
    activation : name of h ("identity" for the linear output layer)

    Returns
    -------
    dQ_prev : array of shape (n, in)
    dW : array of shape (out, in)
    db : array of shape (out,)

    Math
    ----
    :math:`dZ = dQ \odot h'(Z)` (the derivative at the pre-activation),
    :math:`dW = dZ^\top Q_{\text{prev}}`, :math:`db = \sum_i dZ_i`,
    :math:`dQ_{\text{prev}} = dZ\, W`.
    """
    dQ = as_float_array(dQ, "dQ", ndim=2)
    Z = as_float_array(Z, "Z", ndim=2)
    Q_prev = as_float_array(Q_prev, "Q_prev", ndim=2)
    W = as_float_array(W, "W", ndim=2)
    if dQ.shape != Z.shape or W.shape != (Z.shape[1], Q_prev.shape[1]):
        raise ValueError(
            f"shapes do not fit one layer: expected dQ and Z of shape (n, out), Q_prev (n, in) "
            f"and W (out, in); got dQ {dQ.shape}, Z {Z.shape}, Q_prev {Q_prev.shape}, W {W.shape}"
        )
    check_same_length(Z, Q_prev, "Z", "Q_prev")
    _, h_grad = get_activation(activation)
    dZ = dQ * h_grad(Z)
    return dZ @ W, dZ.T @ Q_prev, dZ.sum(axis=0)


def mlp_loss(
    params: Sequence[tuple[ArrayLike, ArrayLike]],
    X: ArrayLike,
    y: ArrayLike,
    activation: str = "relu",
    l2: float = 0.0,
) -> float:
    r"""The regularised loss :math:`J(\theta)` alone (mean softmax cross-entropy + L2 term)."""
    params = check_params(params)
    logits = mlp_forward(params, X, activation)
    return softmax_cross_entropy(logits, y) + l2_penalty(params, _check_l2(l2))


def mlp_loss_and_grads(
    params: Sequence[tuple[ArrayLike, ArrayLike]],
    X: ArrayLike,
    y: ArrayLike,
    activation: str = "relu",
    l2: float = 0.0,
) -> tuple[float, Params]:
    r"""Loss and gradients of an MLP classifier of any depth, by backpropagation.

    Parameters
    ----------
    params : list of (W, b), W of shape (s_l, s_{l-1}), b of shape (s_l,)
    X : array of shape (n, p)
    y : int array of shape (n,), labels in 0..M-1
    activation : hidden activation; the output layer is linear (softmax is in the loss)
    l2 : weight of the penalty :math:`\frac{\ell_2}{2}\sum\lVert W\rVert^2` (the lectures'
        :math:`\lambda/(2n)\sum\Theta^2` is ``l2 = λ / n``)

    Returns
    -------
    loss : float
    grads : list of (dW, db), the shapes of params

    Math
    ----
    :math:`\delta^{(L)} = (A^{(L)} - \tilde Y)/n`;
    :math:`\delta^{(l)} = (\delta^{(l+1)} W^{(l+1)}) \odot h'(Z^{(l)})`;
    :math:`dW^{(l)} = \delta^{(l)\top} Q^{(l-1)} + \ell_2 W^{(l)}`,
    :math:`db^{(l)} = \sum_i \delta^{(l)}_i`.
    """
    l2 = _check_l2(l2)
    params = check_params(params)
    logits, cache = mlp_forward(params, X, activation, return_cache=True)
    check_same_length(cache.Q[0], np.asarray(y), "X", "y")
    loss = softmax_cross_entropy(logits, y) + l2_penalty(params, l2)
    _, h_grad = get_activation(activation)
    delta = softmax_cross_entropy_grad(logits, y)  # δ⁽ᴸ⁾ = (a⁽ᴸ⁾ − ỹ) / n
    grads: list = [None] * len(params)
    for l in range(len(params), 0, -1):
        W = params[l - 1][0]
        grads[l - 1] = (delta.T @ cache.Q[l - 1] + l2 * W, delta.sum(axis=0))
        if l > 1:  # δ⁽ˡ⁻¹⁾: blame passed back through W⁽ˡ⁾, scaled by h' at Z⁽ˡ⁻¹⁾
            delta = (delta @ W) * h_grad(cache.Z[l - 1])
    return loss, grads


def softmax_regression_loss_and_grads(
    W: ArrayLike, b: ArrayLike, X: ArrayLike, y: ArrayLike, l2: float = 0.0
) -> tuple[float, Array, Array]:
    r"""Loss and gradients of softmax regression, the one-layer network :math:`Z = XW^\top + b`.

    Parameters
    ----------
    W : array of shape (M, p)
    b : array of shape (M,)
    X : array of shape (n, p)
    y : int array of shape (n,)
    l2 : weight of :math:`\frac{\ell_2}{2}\lVert W\rVert^2`

    Returns
    -------
    loss : float
    dW : array of shape (M, p)
        :math:`\frac{1}{n}(\mathrm{softmax}(Z) - \tilde Y)^\top X + \ell_2 W`
    db : array of shape (M,)
    """
    loss, [(dW, db)] = mlp_loss_and_grads([(W, b)], X, y, activation="identity", l2=l2)
    return loss, dW, db


@dataclass
class BinaryBackprop:
    r"""The numbers of one backward pass through a network with one sigmoid output unit.

    ``A[l]`` is :math:`A^{(l)}` for l = 0..L (``A[0]`` = X, ``A[L]`` the predicted
    probability, shape (n, 1)); ``deltas[l]`` is :math:`\delta^{(l)} = \partial J/\partial
    Z^{(l)}` for l = 1..L (``deltas[0]`` is None); ``grads`` the (dW, db) of every layer.
    """

    loss: float
    A: list[Array]
    deltas: list[Array | None]
    grads: Params


def binary_backprop(
    params: Sequence[tuple[ArrayLike, ArrayLike]],
    X: ArrayLike,
    y: ArrayLike,
    activation: str = "sigmoid",
) -> BinaryBackprop:
    r"""Backpropagation for binary classification: one sigmoid output unit and the log loss.

    Parameters
    ----------
    params : list of (W, b); the last W has one row (shape (1, s_{L-1}))
    X : array of shape (n, p)
    y : array of shape (n,), targets 0 or 1
    activation : the hidden activation (the lectures' example: "sigmoid")

    Returns
    -------
    BinaryBackprop

    Math
    ----
    :math:`a^{(L)} = \sigma(z^{(L)})`, :math:`J = -\frac1n\sum_i y_i\ln a_i^{(L)} + (1-y_i)\ln(1-a_i^{(L)})`;
    :math:`\delta^{(L)} = (a^{(L)} - y)/n` (the sigmoid's slope cancels the log loss's
    :math:`1/(a(1-a))`); :math:`\delta^{(l)} = (\delta^{(l+1)} W^{(l+1)}) \odot h'(z^{(l)})`;
    :math:`\partial J/\partial W^{(l)} = \delta^{(l)\top} A^{(l-1)}`,
    :math:`\partial J/\partial b^{(l)} = \sum_i \delta^{(l)}_i`.
    """
    params = check_params(params)
    if params[-1][0].shape[0] != 1:
        raise ValueError(f"the output layer must have one unit, got W of shape {params[-1][0].shape}")
    z_out, cache = mlp_forward(params, X, activation, return_cache=True)
    y = as_float_array(y, "y", ndim=1)
    check_same_length(cache.Q[0], y, "X", "y")
    z_out = z_out[:, 0]
    loss = float(np.mean(np.logaddexp(0.0, z_out) - y * z_out))  # stable log loss from the logit
    A = cache.Q[:-1] + [sigmoid(z_out)[:, None]]
    _, h_grad = get_activation(activation)
    delta = (A[-1] - y[:, None]) / len(y)
    deltas: list = [None] * (len(params) + 1)
    grads: list = [None] * len(params)
    for l in range(len(params), 0, -1):
        deltas[l] = delta
        grads[l - 1] = (delta.T @ A[l - 1], delta.sum(axis=0))
        if l > 1:
            delta = (delta @ params[l - 1][0]) * h_grad(cache.Z[l - 1])
    return BinaryBackprop(loss=loss, A=A, deltas=deltas, grads=grads)
