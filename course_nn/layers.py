r"""Layers as objects with a forward and a backward pass, stacked into a network.

Book: chapter 8, *The workflow: build, check, tune* (exercise 8 asks students for their
own; this module is the grader's reference and is never printed in the book). Chapter 6
derives every formula used here; :mod:`course_nn.backprop` computes the same gradients
as functions of the whole network.

Each layer's ``forward`` caches what its ``backward`` needs, on the layer itself, so two
layers of the same kind in one stack keep two caches:

* :class:`Affine` :math:`Y = XW^\top + \mathbf b` caches :math:`X`; backward gives
  :math:`\partial J/\partial X = \delta W`, :math:`\partial J/\partial W = \delta^\top X`,
  :math:`\partial J/\partial\mathbf b = \sum_i \delta_i`.
* :class:`ReLU` caches where :math:`Z > 0`; :class:`Tanh` caches its output.
* :class:`SoftmaxCrossEntropy` takes logits and labels, returns the mean cross-entropy
  and caches :math:`A = \mathrm{softmax}(Z)`; backward gives :math:`(A - \tilde Y)/n`.
* :class:`Sequential` runs its layers in order and back in reverse order.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn.softmax import log_softmax, one_hot

Array = NDArray[np.float64]


class Affine:
    """The affine map of one layer, ``X @ W.T + b``, with W of shape (out, in)."""

    def __init__(self, W: ArrayLike, b: ArrayLike) -> None:
        self.W = np.array(W, dtype=np.float64)
        self.b = np.array(b, dtype=np.float64)
        self.dW = np.zeros_like(self.W)
        self.db = np.zeros_like(self.b)
        self._X: Array | None = None

    def forward(self, X: ArrayLike) -> Array:
        self._X = np.array(X, dtype=np.float64)
        return self._X @ self.W.T + self.b

    def backward(self, dY: ArrayLike) -> Array:
        """Store dW and db; return the gradient with respect to the layer's input."""
        dY = np.asarray(dY, dtype=np.float64)
        self.dW = dY.T @ self._X
        self.db = dY.sum(axis=0)
        return dY @ self.W

    def params(self) -> list[tuple[Array, Array]]:
        return [(self.W, self.b)]

    def grads(self) -> list[tuple[Array, Array]]:
        return [(self.dW, self.db)]


class ReLU:
    """max(0, Z), element-wise; the slope at 0 is taken as 0, as PyTorch does."""

    def __init__(self) -> None:
        self._positive: NDArray[np.bool_] | None = None

    def forward(self, Z: ArrayLike) -> Array:
        Z = np.asarray(Z, dtype=np.float64)
        self._positive = Z > 0
        return np.where(self._positive, Z, 0.0)

    def backward(self, dQ: ArrayLike) -> Array:
        return np.where(self._positive, np.asarray(dQ, dtype=np.float64), 0.0)

    def params(self) -> list:
        return []

    def grads(self) -> list:
        return []


class Tanh(ReLU):
    """tanh(Z), element-wise; backward uses 1 - tanh(Z)^2 from the cached output."""

    def forward(self, Z: ArrayLike) -> Array:
        self._out = np.tanh(np.asarray(Z, dtype=np.float64))
        return self._out

    def backward(self, dQ: ArrayLike) -> Array:
        return np.asarray(dQ, dtype=np.float64) * (1.0 - self._out**2)


class SoftmaxCrossEntropy:
    """The mean cross-entropy of softmax(Z) against integer labels y, and its gradient."""

    def forward(self, Z: ArrayLike, y: ArrayLike) -> float:
        Z = np.asarray(Z, dtype=np.float64)
        y = np.asarray(y, dtype=np.int64)
        log_A = log_softmax(Z, axis=1)
        self._A, self._Y = np.exp(log_A), one_hot(y, Z.shape[1])
        return float(-np.mean(log_A[np.arange(len(y)), y]))

    def backward(self) -> Array:
        return (self._A - self._Y) / len(self._A)


class Sequential:
    """Layers run in order; ``backward`` runs them in reverse from dJ/d(output)."""

    def __init__(self, layers: Sequence) -> None:
        self.layers = list(layers)

    def forward(self, X: ArrayLike) -> Array:
        out = np.asarray(X, dtype=np.float64)
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def backward(self, dOut: ArrayLike) -> Array:
        grad = np.asarray(dOut, dtype=np.float64)
        for layer in reversed(self.layers):
            grad = layer.backward(grad)
        return grad

    def params(self) -> list[tuple[Array, Array]]:
        return [pair for layer in self.layers for pair in layer.params()]

    def grads(self) -> list[tuple[Array, Array]]:
        return [pair for layer in self.layers for pair in layer.grads()]


def relu_network(params: Sequence[tuple[ArrayLike, ArrayLike]]) -> Sequential:
    """Affine layers with the given (W, b) and a ReLU between each two."""
    layers: list = []
    for number, (W, b) in enumerate(params):
        if number:
            layers.append(ReLU())
        layers.append(Affine(W, b))
    return Sequential(layers)
