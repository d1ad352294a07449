r"""Vanishing and exploding gradients: how the initial weight scale carries through depth.

Book: chapter 6, *Backpropagation and training* (section *Vanishing and exploding
gradients*). Design notes in ``docs/practice_and_gaps.md``.

Through a layer :math:`\mathbf a^{(l)} = h(W^{(l)}\mathbf a^{(l-1)})` with weights of
variance :math:`\sigma^2`, the signal's variance is multiplied by about
:math:`s_{l-1}\sigma^2 \cdot c_h` (:math:`c_h` = 1 for tanh near 0, 1/2 for ReLU), and the
backward gradient's by :math:`s_l\sigma^2 \cdot c_h`. Over L layers these factors
compound: below 1 the gradient of the first layers vanishes, above 1 it explodes.
Xavier/Glorot (:math:`\sigma^2 = 2/(s_{l-1} + s_l)`) and He (:math:`\sigma^2 = 2/s_{l-1}`,
for ReLU) make the factor about 1. The sigmoid's slope is at most 1/4, so a deep
sigmoid network loses gradient at every layer even at a good scale.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn.backprop import mlp_loss_and_grads
from course_nn.mlp import Params, as_layer_sizes, mlp_forward

Array = NDArray[np.float64]

#: Initial weight standard deviation of each named scheme, as a function of (fan_in, fan_out).
INIT_SCHEMES = {
    "xavier": lambda fan_in, fan_out: float(np.sqrt(2.0 / (fan_in + fan_out))),
    "he": lambda fan_in, fan_out: float(np.sqrt(2.0 / fan_in)),
}


def init_mlp_scaled(
    layer_sizes: ArrayLike, std: float | str, rng: np.random.Generator | int | None = None
) -> Params:
    r"""An MLP with weights :math:`\mathcal N(0, \sigma^2)` at a chosen scale, zero biases.

    Parameters
    ----------
    layer_sizes : sequence of int, [p, U1, ..., M]
    std : a fixed :math:`\sigma` for every layer, or "xavier" / "he" (see the module)
    rng : Generator, int seed or None

    Returns
    -------
    params : list of (W, b), W of shape (s_l, s_{l-1}), b of shape (s_l,)
    """
    sizes = as_layer_sizes(layer_sizes)
    if isinstance(std, str):
        if std not in INIT_SCHEMES:
            raise ValueError(f"std must be a number or one of {sorted(INIT_SCHEMES)}, got {std!r}")
        scale = INIT_SCHEMES[std]
    else:
        if not std > 0:
            raise ValueError(f"std must be positive, got {std}")
        scale = lambda fan_in, fan_out: float(std)  # noqa: E731
    rng = np.random.default_rng(rng)
    return [(rng.normal(0.0, scale(fan_in, fan_out), size=(fan_out, fan_in)), np.zeros(fan_out))
            for fan_in, fan_out in pairwise(sizes)]


def layer_gradient_norms(
    params: Sequence[tuple[ArrayLike, ArrayLike]], X: ArrayLike, y: ArrayLike, activation: str = "relu"
) -> Array:
    r"""The size of each layer's weight gradient, :math:`\lVert\partial J/\partial W^{(l)}\rVert_F`.

    Parameters
    ----------
    params : list of L (W, b); X : array of shape (n, p); y : int labels of shape (n,)
    activation : the hidden activation

    Returns
    -------
    norms : array of shape (L,), layer 1 first (J: mean softmax cross-entropy, no penalty)
    """
    _, grads = mlp_loss_and_grads(params, X, y, activation)
    return np.array([np.linalg.norm(dW) for dW, _ in grads])


def activation_stds(
    params: Sequence[tuple[ArrayLike, ArrayLike]], X: ArrayLike, activation: str = "relu"
) -> Array:
    r"""The standard deviation of each hidden layer's activations :math:`A^{(l)}` over X.

    Returns
    -------
    stds : array of shape (L - 1,), hidden layer 1 first
    """
    _, cache = mlp_forward(params, X, activation, return_cache=True)
    return np.array([Q.std() for Q in cache.Q[1:-1]])
