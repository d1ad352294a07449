r"""Multi-layer perceptrons: initialisation, the forward pass, and the parameter vector θ.

Book: chapter 3, *Deep neural networks (MLPs)*.

A network is a sequence of generalised linear models. With :math:`Q^{(0)} = X`,

.. math::

    Z^{(l)} = Q^{(l-1)} W^{(l)\top} + b^{(l)}, \qquad
    Q^{(l)} = h(Z^{(l)}), \quad l = 1, \dots, L - 1, \qquad
    \hat Y = Z^{(L)} = Q^{(L-1)} W^{(L)\top} + b^{(L)}.

Parameters are a list ``params = [(W1, b1), ..., (WL, bL)]`` with ``W`` of shape
``(out, in)`` as in ``torch.nn.Linear`` and ``b`` of shape ``(out,)``. A network is
described by its ``layer_sizes = [p, U1, ..., M]`` (inputs, hidden units, outputs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array
from course_nn.activations import get_activation

Array = NDArray[np.float64]
Params = list[tuple[Array, Array]]


# --- layer sizes --------------------------------------------------------------------
def as_layer_sizes(layer_sizes: ArrayLike) -> list[int]:
    """Return ``layer_sizes`` as a list of positive ints (a list, tuple or integer array).

    Raises
    ------
    ValueError
        Unless there are at least two sizes (inputs and outputs), all positive integers.
    """
    sizes = np.asarray(layer_sizes)
    if sizes.ndim != 1 or sizes.size < 2:
        raise ValueError(
            f"layer_sizes must be a 1-D sequence [p, U1, ..., M] with at least 2 entries, "
            f"got {layer_sizes!r}"
        )
    if not np.issubdtype(sizes.dtype, np.number) or np.any(sizes != np.round(sizes)):
        raise ValueError(f"layer_sizes must hold integers, got {layer_sizes!r}")
    if np.any(sizes < 1):
        raise ValueError(f"layer_sizes must be positive, got {layer_sizes!r}")
    return [int(s) for s in sizes]


def count_parameters(layer_sizes: ArrayLike) -> int:
    r"""Number of weights and biases of an MLP, :math:`\sum_l (s_{l-1} + 1)\, s_l`.

    Example: 4 inputs and 3 classes (softmax regression) give 4·3 + 3 = 15.
    """
    sizes = as_layer_sizes(layer_sizes)
    return sum((fan_in + 1) * fan_out for fan_in, fan_out in pairwise(sizes))


# --- initialisation -----------------------------------------------------------------
def _he_std(fan_in: int, fan_out: int) -> float:
    return float(np.sqrt(2.0 / fan_in))


def _glorot_std(fan_in: int, fan_out: int) -> float:
    return float(np.sqrt(2.0 / (fan_in + fan_out)))


#: Standard deviation of the initial weights for each hidden activation.
INIT_STD = {"relu": _he_std, "tanh": _glorot_std, "sigmoid": _glorot_std, "identity": _glorot_std}


def init_mlp(
    layer_sizes: ArrayLike,
    rng: np.random.Generator | int | None = None,
    activation: str = "relu",
) -> Params:
    r"""Random weights and zero biases for an MLP with the given layer sizes.

    Weights are drawn from :math:`\mathcal N(0, \sigma^2)`, never all zero: with equal
    weights every hidden unit of a layer computes the same function and receives the
    same gradient, so they would stay identical (the symmetry problem). The scale keeps
    the signal's variance about constant from layer to layer:

    * ReLU (He et al. 2015): :math:`\sigma^2 = 2 / s_{\text{in}}`. ReLU zeroes half of
      its inputs on average, halving the variance; the factor 2 gives it back.
    * tanh, sigmoid, identity (Glorot and Bengio 2010): :math:`\sigma^2 = 2 / (s_{\text{in}}
      + s_{\text{out}})`, a compromise between keeping the variance of the forward
      signal (:math:`1/s_{\text{in}}`) and of the backward gradient
      (:math:`1/s_{\text{out}}`) for activations that are linear near 0.

    Biases start at zero: the random weights already break the symmetry.

    Parameters
    ----------
    layer_sizes : sequence of int, [p, U1, ..., M]
    rng : Generator, int seed, or None (fresh entropy, as ``numpy.random.default_rng``)
    activation : the hidden activation, which picks the scale ("relu", "tanh", ...)

    Returns
    -------
    params : list of (W, b), W of shape (s_l, s_{l-1}), b of shape (s_l,)
    """
    sizes = as_layer_sizes(layer_sizes)
    if activation not in INIT_STD:
        raise ValueError(f"unknown activation {activation!r}; expected one of {sorted(INIT_STD)}")
    rng = np.random.default_rng(rng)
    std = INIT_STD[activation]
    return [
        (rng.normal(0.0, std(fan_in, fan_out), size=(fan_out, fan_in)), np.zeros(fan_out))
        for fan_in, fan_out in pairwise(sizes)
    ]


# --- forward pass -------------------------------------------------------------------
def check_params(params: Sequence[tuple[ArrayLike, ArrayLike]], p: int | None = None) -> Params:
    """Return ``params`` as float arrays, checking that consecutive layers fit.

    Raises
    ------
    ValueError
        Naming the layer (counted from 1) and both shapes when a weight matrix does not
        take the previous layer's output, or a bias does not match its weights.
    """
    if len(params) == 0:
        raise ValueError("params must hold at least one layer (W, b), got an empty list")
    checked = []
    fan_in = p
    for l, (W, b) in enumerate(params, start=1):
        W = as_float_array(W, f"W{l}", ndim=2)
        b = as_float_array(b, f"b{l}", ndim=1)
        if fan_in is not None and W.shape[1] != fan_in:
            given = "X" if l == 1 else f"W{l - 1}"
            raise ValueError(
                f"layer {l}: W{l} of shape {W.shape} needs {W.shape[1]} inputs, but {given} "
                f"gives {fan_in} (expected W{l}.shape == ({W.shape[0]}, {fan_in}))"
            )
        if b.shape != (W.shape[0],):
            raise ValueError(
                f"layer {l}: b{l} must have shape ({W.shape[0]},) to match W{l} of shape "
                f"{W.shape}, got {b.shape}"
            )
        checked.append((W, b))
        fan_in = W.shape[0]
    return checked


@dataclass
class ForwardCache:
    """What the forward pass stores for backpropagation, indexed like the math.

    ``Q[l]`` is :math:`Q^{(l)}` for l = 0..L (``Q[0]`` is the input X, ``Q[L]`` the
    output), ``Z[l]`` is :math:`Z^{(l)}` for l = 1..L; ``Z[0]`` is ``None`` because the
    input has no pre-activation.
    """

    Z: list[Array | None]
    Q: list[Array]


def mlp_forward(
    params: Sequence[tuple[ArrayLike, ArrayLike]],
    X: ArrayLike,
    activation: str = "relu",
    return_cache: bool = False,
) -> Array | tuple[Array, ForwardCache]:
    r"""Forward pass of an MLP of any depth; the last layer is linear.

    Parameters
    ----------
    params : list of (W, b), W of shape (s_l, s_{l-1}), b of shape (s_l,)
    X : array of shape (n, p)
    activation : hidden activation, "relu", "sigmoid", "tanh" or "identity"
    return_cache : also return the :class:`ForwardCache` of every Z and Q

    Returns
    -------
    out : array of shape (n, M)
        :math:`\hat Y` for regression, the logits for classification (no activation:
        the loss applies softmax itself).
    cache : ForwardCache, only if ``return_cache``

    Math
    ----
    :math:`Q^{(0)} = X`, :math:`Z^{(l)} = Q^{(l-1)} W^{(l)\top} + b^{(l)}`,
    :math:`Q^{(l)} = h(Z^{(l)})` for :math:`l < L` and :math:`Q^{(L)} = Z^{(L)}`.
    """
    X = as_float_array(X, "X", ndim=2)
    params = check_params(params, p=X.shape[1])
    h, _ = get_activation(activation)
    cache = ForwardCache(Z=[None], Q=[X])
    for l, (W, b) in enumerate(params, start=1):
        Z = cache.Q[-1] @ W.T + b
        cache.Z.append(Z)
        cache.Q.append(Z if l == len(params) else h(Z))
    return (cache.Q[-1], cache) if return_cache else cache.Q[-1]


# --- the parameter vector θ ---------------------------------------------------------
def params_to_vector(params: Sequence[tuple[ArrayLike, ArrayLike]]) -> Array:
    r"""Stack all parameters into one vector :math:`\theta = [\mathrm{vec}\,W^{(1)}, b^{(1)},
    \dots, \mathrm{vec}\,W^{(L)}, b^{(L)}]`; vec is the row-major ravel (row after row)."""
    params = check_params(params)
    return np.concatenate([np.concatenate([W.ravel(), b]) for W, b in params])


def vector_to_params(theta: ArrayLike, layer_sizes: ArrayLike) -> Params:
    """Inverse of :func:`params_to_vector` for a network with ``layer_sizes``.

    Returns new arrays (copies), so changing them does not change ``theta``.

    Raises
    ------
    ValueError
        If ``theta`` is not 1-D or its length is not ``count_parameters(layer_sizes)``.
    """
    sizes = as_layer_sizes(layer_sizes)
    theta = as_float_array(theta, "theta", ndim=1)
    if theta.size != count_parameters(sizes):
        raise ValueError(
            f"theta must have {count_parameters(sizes)} entries for layer_sizes {sizes}, "
            f"got {theta.size}"
        )
    params, start = [], 0
    for fan_in, fan_out in pairwise(sizes):
        W = theta[start : start + fan_out * fan_in].reshape(fan_out, fan_in).copy()
        start += fan_out * fan_in
        params.append((W, theta[start : start + fan_out].copy()))
        start += fan_out
    return params


def layer_sizes_of(params: Sequence[tuple[ArrayLike, ArrayLike]]) -> list[int]:
    """The ``layer_sizes`` [p, U1, ..., M] of a list of (W, b)."""
    params = check_params(params)
    return [params[0][0].shape[1]] + [W.shape[0] for W, _ in params]


# --- the bias-unit notation ---------------------------------------------------------
def bias_unit_form(params: Sequence[tuple[ArrayLike, ArrayLike]]) -> list[Array]:
    r"""The same parameters in the bias-unit notation: :math:`\Theta^{(j)} = [b^{(j)}, W^{(j)}]`.

    Each :math:`\Theta^{(j)}` has shape :math:`U_j \times (U_{j-1} + 1)`: the bias is
    the weight of an extra input :math:`a_0 = 1` prepended to every layer's input.
    """
    return [np.column_stack([b, W]) for W, b in check_params(params)]


def params_from_bias_unit_form(thetas: Sequence[ArrayLike]) -> Params:
    r"""Inverse of :func:`bias_unit_form`: split each :math:`\Theta` into (W, b)."""
    out = []
    for j, Theta in enumerate(thetas, start=1):
        Theta = as_float_array(Theta, f"Theta{j}", ndim=2)
        if Theta.shape[1] < 2:
            raise ValueError(f"Theta{j} needs a bias column and weights, got shape {Theta.shape}")
        out.append((Theta[:, 1:].copy(), Theta[:, 0].copy()))
    return out


def mlp_forward_bias_unit(
    thetas: Sequence[ArrayLike], X: ArrayLike, activation: str = "relu"
) -> Array:
    r"""Forward pass in the bias-unit notation: :math:`a^{(j+1)} = h(\Theta^{(j)} [1; a^{(j)}])`.

    Gives the same output as :func:`mlp_forward` on ``params_from_bias_unit_form(thetas)``:
    it is the same model, written with the bias folded into the weights.
    """
    a = as_float_array(X, "X", ndim=2)
    h, _ = get_activation(activation)
    for j, Theta in enumerate(thetas, start=1):
        Theta = as_float_array(Theta, f"Theta{j}", ndim=2)
        a_with_bias_unit = np.column_stack([np.ones(a.shape[0]), a])
        if Theta.shape[1] != a_with_bias_unit.shape[1]:
            raise ValueError(
                f"layer {j}: Theta{j} of shape {Theta.shape} needs {Theta.shape[1]} inputs "
                f"(bias unit included), but the layer below gives {a_with_bias_unit.shape[1]}"
            )
        z = a_with_bias_unit @ Theta.T
        a = z if j == len(thetas) else h(z)
    return a
