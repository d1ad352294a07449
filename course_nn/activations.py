"""Activation functions h and their derivatives h', applied element-wise.

Book: chapter 2, *Activations and generalised linear models*
(``book/ch02_activations.ipynb``).

Every function takes an array of any shape (or a number) and returns a new float64
array of the same shape. The derivatives are evaluated at the *input* ``x`` of the
activation, not at its output ``h(x)``: ``sigmoid_grad(x)`` is :math:`\\sigma'(x)`.
The chapter-3 network code looks activations up by name in :data:`ACTIVATIONS`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array

Array = NDArray[np.float64]


def sigmoid(x: ArrayLike) -> Array:
    r"""The logistic sigmoid :math:`\sigma(x) = e^x / (1 + e^x) = 1 / (1 + e^{-x})`.

    Stable for any input: ``exp`` only ever sees :math:`-|x|\le 0`, so it cannot
    overflow (at worst it underflows to 0, which gives the exact limits
    ``sigmoid(-1e4) == 0.0`` and ``sigmoid(1e4) == 1.0``).

    Parameters
    ----------
    x : array of any shape

    Returns
    -------
    array of the shape of x, values in [0, 1]

    Math
    ----
    For :math:`x \ge 0` use :math:`1/(1+e^{-x})`; for :math:`x < 0` the equal form
    :math:`e^{x}/(1+e^{x})`. Both are :math:`\sigma(x)`; each is safe on its side.
    """
    x = as_float_array(x, "x")
    e = np.exp(-np.abs(x))  # e^{-|x|} in (0, 1]: never overflows
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_grad(x: ArrayLike) -> Array:
    r"""Derivative of the sigmoid at the input x, :math:`\sigma'(x) = \sigma(x)(1-\sigma(x))`.

    Computed as :math:`\sigma(x)\,\sigma(-x)`, the same number, because
    :math:`1-\sigma(x)` loses every digit to cancellation once :math:`\sigma(x)`
    rounds to 1 (from x of about 37 on), while :math:`\sigma(-x)` keeps them.

    Math
    ----
    :math:`\sigma'(x) = \sigma(x)(1-\sigma(x))`, at most 1/4 (at x = 0).
    """
    x = as_float_array(x, "x")
    return sigmoid(x) * sigmoid(-x)


def relu(x: ArrayLike) -> Array:
    r"""The rectified linear unit :math:`\mathrm{ReLU}(x) = \max(0, x)`, element-wise."""
    x = as_float_array(x, "x")
    return np.maximum(x, 0.0)


def relu_grad(x: ArrayLike) -> Array:
    r"""Derivative of ReLU at the input x, :math:`\mathbf 1[x > 0]` (1.0 or 0.0).

    ReLU has no derivative at 0; like PyTorch we use 0 there (``relu_grad(0) == 0``).
    """
    x = as_float_array(x, "x")
    return (x > 0).astype(np.float64)


def tanh(x: ArrayLike) -> Array:
    r"""The hyperbolic tangent :math:`\tanh(x) = (e^x - e^{-x})/(e^x + e^{-x}) = 2\sigma(2x) - 1`.

    Values in [-1, 1]; ``np.tanh`` is stable for any input (the quotient form is not:
    it gives inf/inf for abs(x) above about 710).
    """
    x = as_float_array(x, "x")
    return np.tanh(x)


def tanh_grad(x: ArrayLike) -> Array:
    r"""Derivative of tanh at the input x, :math:`\tanh'(x) = 1 - \tanh^2(x)`."""
    x = as_float_array(x, "x")
    return 1.0 - np.tanh(x) ** 2


def identity(x: ArrayLike) -> Array:
    r"""The identity :math:`h(x) = x` (linear regression's "activation"), as a new array."""
    return as_float_array(x, "x").copy()


def identity_grad(x: ArrayLike) -> Array:
    r"""Derivative of the identity, 1 everywhere, in the shape of x."""
    return np.ones_like(as_float_array(x, "x"))


Activation = Callable[[ArrayLike], Array]

#: ``name -> (h, h_grad)``: an activation and its derivative (at the input x).
ACTIVATIONS: dict[str, tuple[Activation, Activation]] = {
    "sigmoid": (sigmoid, sigmoid_grad),
    "relu": (relu, relu_grad),
    "tanh": (tanh, tanh_grad),
    "identity": (identity, identity_grad),
}


def get_activation(name: str) -> tuple[Activation, Activation]:
    """The pair ``(h, h_grad)`` registered as ``name`` in :data:`ACTIVATIONS`.

    Raises
    ------
    ValueError
        If ``name`` is not a known activation; the message lists the known names.
    """
    try:
        return ACTIVATIONS[name]
    except (KeyError, TypeError):
        known = ", ".join(repr(k) for k in ACTIVATIONS)
        raise ValueError(f"unknown activation {name!r}; expected one of {known}") from None
