r"""The gate view of backpropagation: what each kind of node does to the gradient.

Book: chapter 6, *Backpropagation and training* (section *Three gates*). Design notes in
``docs/practice_and_gaps.md``; the picture is from the CS231n notes on backpropagation.

A node of the computation graph receives the upstream gradient
:math:`\bar u = \partial L/\partial u` of its output :math:`u` and hands each input
:math:`x_k` the product :math:`\bar u\, \partial u/\partial x_k`:

* **add** :math:`u = x_1 + x_2`: :math:`\bar x_k = \bar u` (the gradient is *distributed*
  unchanged to every input);
* **multiply** :math:`u = x_1 x_2`: :math:`\bar x_1 = \bar u x_2`,
  :math:`\bar x_2 = \bar u x_1` (each input gets the gradient scaled by the *other*
  input: the inputs are *swapped*);
* **max** :math:`u = \max(x_1, x_2)`: the gradient is *routed* to the larger input,
  the other gets 0 (a tie goes to the first, as ``numpy.argmax``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array

Array = NDArray[np.float64]

GATES = ("add", "multiply", "max")


def gate_forward(gate: str, x1: ArrayLike, x2: ArrayLike) -> Array:
    """The output of a two-input ``gate`` ("add", "multiply" or "max"), element-wise."""
    x1, x2 = as_float_array(x1, "x1"), as_float_array(x2, "x2")
    if gate == "add":
        return x1 + x2
    if gate == "multiply":
        return x1 * x2
    if gate == "max":
        return np.maximum(x1, x2)
    raise ValueError(f"gate must be one of {GATES}, got {gate!r}")


def gate_backward(gate: str, x1: ArrayLike, x2: ArrayLike, upstream: ArrayLike) -> tuple[Array, Array]:
    r"""The gradients a two-input ``gate`` sends back to its inputs.

    Parameters
    ----------
    gate : "add", "multiply" or "max"
    x1, x2 : arrays of one shape, the gate's inputs in the forward pass
    upstream : array of that shape, :math:`\bar u = \partial L/\partial u`

    Returns
    -------
    dx1, dx2 : :math:`\bar u\,\partial u/\partial x_1` and :math:`\bar u\,\partial u/\partial x_2`

    Math
    ----
    add: :math:`(\bar u, \bar u)`; multiply: :math:`(\bar u x_2, \bar u x_1)`;
    max: :math:`(\bar u\,[x_1 \ge x_2], \bar u\,[x_1 < x_2])`.
    """
    x1, x2 = as_float_array(x1, "x1"), as_float_array(x2, "x2")
    upstream = as_float_array(upstream, "upstream")
    if not x1.shape == x2.shape == upstream.shape:
        raise ValueError(f"x1, x2 and upstream must have one shape, got {x1.shape}, "
                         f"{x2.shape} and {upstream.shape}")
    if gate == "add":
        return upstream.copy(), upstream.copy()
    if gate == "multiply":
        return upstream * x2, upstream * x1
    if gate == "max":
        first = x1 >= x2
        return np.where(first, upstream, 0.0), np.where(first, 0.0, upstream)
    raise ValueError(f"gate must be one of {GATES}, got {gate!r}")
