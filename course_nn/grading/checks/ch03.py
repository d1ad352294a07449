"""Checks for exercise 3, deep neural networks (book chapter 3).

Graded signatures (cases are plain arrays, numbers and strings, so every argument
below is one; a network's parameters are passed layer by layer or as θ):

``mlp_forward_2layer(X, W1, b1, W2, b2) -> (n, M)``
    ReLU hidden layer, linear output: ``relu(X @ W1.T + b1) @ W2.T + b2``.
``mlp_forward_3layer(X, W1, b1, W2, b2, W3, b3) -> (n, M)``
    Two ReLU hidden layers, linear output.
``mlp_forward(theta, layer_sizes, X, activation) -> (n, M)``
    Any depth: ``theta`` is the flat parameter vector, ``layer_sizes`` an int array
    [p, U1, ..., M], ``activation`` "relu", "sigmoid" or "tanh" (hidden layers only).
``params_to_vector(W1, b1, W2, b2, ...) -> theta``
    Any number of layers, passed as positional arrays W1, b1, W2, b2, ...;
    θ = [vec W1, b1, vec W2, b2, ...] with vec the row-major ravel.
``vector_to_params(theta, layer_sizes) -> [(W1, b1), (W2, b2), ...]``
    ``layer_sizes`` an int array; W of shape (out, in). A flat list W1, b1, W2, ...
    is accepted too (outputs are compared array by array).
``count_parameters(layer_sizes) -> int``
"""

from __future__ import annotations

import numpy as np

from course_nn.activations import get_activation, relu
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.core import Case, Check, register
from course_nn.mlp import count_parameters, mlp_forward, params_to_vector, vector_to_params


# --- helpers shared by the hints -------------------------------------------------------
def _same(got, alternative) -> bool:
    """Does the student's output equal a known wrong answer, array by array?"""
    try:
        want = [np.asarray(a, dtype=np.float64) for a in flatten_output(alternative)]
        have = [to_float_array(g) for g in flatten_output(got)]
    except (TypeError, ValueError):
        return False
    return len(want) == len(have) and all(
        w.shape == h.shape and np.allclose(h, w, rtol=1e-6, atol=1e-8)
        for w, h in zip(want, have, strict=True)
    )


def _forward_variant(params, X, hidden, output=None, transpose_weights=False, bias=True):
    """A forward pass with a configurable mistake; None if its shapes do not fit."""
    Q = np.asarray(X, dtype=np.float64)
    with np.errstate(all="ignore"):
        for l, (W, b) in enumerate(params, start=1):
            W_used = W if transpose_weights else W.T
            if Q.shape[1] != W_used.shape[0]:
                return None
            Z = Q @ W_used + (b if bias else 0.0)
            last = l == len(params)
            Q = (output(Z) if output else Z) if last else hidden(Z)
    return Q


def _layer_pairs(args):
    """(X, W1, b1, W2, b2, ...) -> X, [(W1, b1), (W2, b2), ...]."""
    return args[0], list(zip(args[1::2], args[2::2], strict=True))


def _forward_hints(unpack):
    """Hints for a forward pass whose case unpacks to (params, X, hidden activation)."""

    def hint(case, expected, got):
        params, X, h = unpack(case.args)
        if _same(np.transpose(to_float_array(got)), expected):
            return ("weights applied as W @ x instead of X @ W.T: with samples in rows a layer "
                    "is Q = X @ W.T + b, which keeps one row per sample")
        if _same(got, _forward_variant(params, X, h, transpose_weights=True)):
            return ("weights applied as X @ W instead of X @ W.T: W has shape (outputs, "
                    "inputs), as in torch.nn.Linear")
        if _same(got, _forward_variant(params, X, h, output=h)):
            return ("last layer should be linear (no activation on the output): the logits "
                    "or y_hat of the last layer are W @ q + b, without h")
        if _same(got, _forward_variant(params, X, lambda z: z)):
            return ("the hidden layers need the activation h: without it the whole network "
                    "is one linear map")
        if _same(got, _forward_variant(params, X, h, bias=False)):
            return "the biases b are missing: add b after each matrix product"
        return None

    return hint


# --- mlp_forward_2layer / mlp_forward_3layer -------------------------------------------
def _forward_layers(X, *weights_and_biases):
    X, params = _layer_pairs((X, *weights_and_biases))
    return mlp_forward(params, X, "relu")


def mlp_forward_2layer(X, W1, b1, W2, b2):
    """Reference for the graded two-layer forward pass (ReLU hidden, linear output)."""
    return _forward_layers(X, W1, b1, W2, b2)


def mlp_forward_3layer(X, W1, b1, W2, b2, W3, b3):
    """Reference for the graded three-layer forward pass (ReLU hidden, linear output)."""
    return _forward_layers(X, W1, b1, W2, b2, W3, b3)


def _random_layers(rng, sizes, n, scale=1.0):
    X = rng.normal(scale=scale, size=(n, sizes[0]))
    layers = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        layers += [rng.normal(size=(fan_out, fan_in)), rng.normal(size=fan_out)]
    return (X, *layers)


def _forward_2layer_public():
    X = np.array([[1.0, 2.0, -1.0], [0.0, -1.0, 2.0]])
    W1 = np.array([[1.0, 0.0, 1.0], [-1.0, 1.0, 0.0], [0.5, -0.5, 1.0], [0.0, 1.0, -1.0]])
    b1 = np.array([0.0, -1.0, 0.5, 0.0])
    W2 = np.array([[1.0, -1.0, 2.0, 0.0], [-2.0, 0.5, 0.0, 1.0]])
    b2 = np.array([-1.0, 0.5])
    square = (np.array([[1.0, -2.0], [3.0, 0.5]]), np.array([[1.0, 2.0], [-1.0, 0.5]]),
              np.array([0.5, -1.0]), np.array([[2.0, -1.0], [0.0, 1.0]]), np.array([0.0, -3.0]))
    return [
        Case(square, "p = U = M = 2 (square weights)"),
        Case((X, W1, b1, W2, b2), "p = 3 inputs, U = 4 hidden units, M = 2 outputs"),
        Case((X[:1], W1, b1, W2, b2), "n = 1"),
    ]


def _forward_hidden(depth):
    def cases(rng):
        out = []
        for n in (1, int(rng.integers(2, 9)), int(rng.integers(10, 40))):
            sizes = [int(s) for s in rng.integers(1, 7, size=depth + 1)]
            out.append(Case(_random_layers(rng, sizes, n), f"n={n}, layer sizes {sizes}"))
        out.append(Case(_random_layers(rng, [3] * (depth + 1), 4), "square weights"))
        out.append(Case(_random_layers(rng, [4] * depth + [2], 3, scale=1e3), "large inputs"))
        return out
    return cases


def _hint_layers(args):
    X, params = _layer_pairs(args)
    return params, X, relu


register(Check(
    name="mlp_forward_2layer",
    reference=mlp_forward_2layer,
    public_cases=_forward_2layer_public,
    hidden_cases=_forward_hidden(2),
    arg_names=("X", "W1", "b1", "W2", "b2"),
    hints=(_forward_hints(_hint_layers),),
))


def _forward_3layer_public():
    rng = np.random.default_rng(3)
    return [
        Case(tuple(np.round(a, 1) for a in _random_layers(rng, [2, 2, 2, 2], 2)),
             "square weights"),
        Case(tuple(np.round(a, 1) for a in _random_layers(rng, [3, 4, 5, 2], 3)),
             "layer sizes [3, 4, 5, 2]"),
    ]


register(Check(
    name="mlp_forward_3layer",
    reference=mlp_forward_3layer,
    public_cases=_forward_3layer_public,
    hidden_cases=_forward_hidden(3),
    arg_names=("X", "W1", "b1", "W2", "b2", "W3", "b3"),
    hints=(_forward_hints(_hint_layers),),
))


# --- mlp_forward(theta, layer_sizes, X, activation) ------------------------------------
def mlp_forward_theta(theta, layer_sizes, X, activation):
    """Reference for the graded any-depth forward pass from the parameter vector θ."""
    return mlp_forward(vector_to_params(theta, layer_sizes), X, activation)


def _theta_case(rng, sizes, n, activation, label=""):
    X = rng.normal(size=(n, sizes[0]))
    theta = rng.normal(size=count_parameters(sizes))
    return Case((theta, np.array(sizes, dtype=np.int64), X, activation),
                label or f"n={n}, layer sizes {sizes}, {activation}")


def _mlp_forward_public():
    rng = np.random.default_rng(30)
    return [
        Case((np.round(rng.normal(size=9), 1), np.array([2, 3]), np.array([[1.0, -1.0]]),
              "relu"), "one layer (softmax regression's logits): [2, 3]"),
        _theta_case(rng, [2, 3, 2], 3, "relu", "[2, 3, 2], relu"),
        _theta_case(rng, [3, 4, 4, 2], 2, "sigmoid", "[3, 4, 4, 2], sigmoid"),
    ]


def _mlp_forward_hidden(rng):
    cases = []
    for depth in (1, 2, 3, 4):
        sizes = [int(s) for s in rng.integers(1, 6, size=depth + 1)]
        activation = str(rng.choice(["relu", "sigmoid", "tanh"]))
        cases.append(_theta_case(rng, sizes, int(rng.integers(1, 12)), activation))
    cases.append(_theta_case(rng, [3, 3, 3], 4, "tanh", "square weights"))
    cases.append(_theta_case(rng, [2, 5, 2], 1, "relu", "n = 1"))
    return cases


def _unpack_theta(args):
    theta, sizes, X, activation = args
    return vector_to_params(theta, sizes), X, get_activation(activation)[0]


def _hint_theta_order(case, expected, got):
    theta, sizes, X, activation = case.args
    sizes = [int(s) for s in sizes]
    h = get_activation(activation)[0]
    bias_first, fortran, start = [], [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        block = theta[start : start + (fan_in + 1) * fan_out]
        bias_first.append((block[fan_out:].reshape(fan_out, fan_in), block[:fan_out]))
        fortran.append((block[: fan_in * fan_out].reshape(fan_out, fan_in, order="F"),
                        block[fan_in * fan_out :]))
        start += (fan_in + 1) * fan_out
    if _same(got, _forward_variant(bias_first, X, h)):
        return "theta unpacked in the wrong order: each layer's weights come before its bias"
    if _same(got, _forward_variant(fortran, X, h)):
        return ("vec W is the row-major ravel: reshape each block to (out, in) with the default "
                "order='C', not column by column")
    return None


register(Check(
    name="mlp_forward",
    reference=mlp_forward_theta,
    public_cases=_mlp_forward_public,
    hidden_cases=_mlp_forward_hidden,
    arg_names=("theta", "layer_sizes", "X", "activation"),
    hints=(_forward_hints(_unpack_theta), _hint_theta_order),
))


# --- params_to_vector(W1, b1, W2, b2, ...) ---------------------------------------------
def params_to_vector_graded(*weights_and_biases):
    """Reference for the graded θ stacking: positional W1, b1, W2, b2, ..."""
    return params_to_vector(list(zip(weights_and_biases[::2], weights_and_biases[1::2],
                                     strict=True)))


def _params_to_vector_public():
    W1 = np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]])
    return [
        Case((W1, np.array([7.0, 8.0, 9.0])), "one layer, W (3, 2)"),
        Case((W1, np.array([7.0, 8.0, 9.0]), np.array([[10.0, 11.0, 12.0]]), np.array([13.0])),
             "two layers: theta = 1, 2, ..., 13"),
    ]


def _params_to_vector_hidden(rng):
    cases = []
    for depth in (1, 2, 3, 4):
        sizes = [int(s) for s in rng.integers(1, 6, size=depth + 1)]
        cases.append(Case(_random_layers(rng, sizes, 1)[1:], f"layer sizes {sizes}"))
    cases.append(Case(_random_layers(rng, [2, 3, 4], 1)[1:], "non-square weights"))
    return cases


def _hint_vectorise(case, expected, got):
    Ws, bs = case.args[::2], case.args[1::2]
    if _same(got, np.concatenate([np.concatenate([W.ravel(order="F"), b])
                                  for W, b in zip(Ws, bs, strict=True)])):
        return ("vec W must be the row-major ravel W.ravel() (row after row), not column by "
                "column (order='F' or W.T.ravel())")
    if _same(got, np.concatenate([np.concatenate([b, W.ravel()])
                                  for W, b in zip(Ws, bs, strict=True)])):
        return "order is [vec W1, b1, vec W2, b2, ...]: each layer's weights come before its bias"
    if _same(got, np.concatenate([W.ravel() for W in Ws] + list(bs))):
        return "order is [vec W1, b1, vec W2, b2, ...], layer by layer, not all weights first"
    return None


register(Check(
    name="params_to_vector",
    reference=params_to_vector_graded,
    public_cases=_params_to_vector_public,
    hidden_cases=_params_to_vector_hidden,
    arg_names=("W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"),
    hints=(_hint_vectorise,),
))


# --- vector_to_params(theta, layer_sizes) ----------------------------------------------
def _vector_to_params_public():
    return [
        Case((np.arange(1.0, 10.0), np.array([2, 3])), "one layer [2, 3]: W (3, 2), b (3,)"),
        Case((np.arange(1.0, 14.0), np.array([2, 3, 1])), "two layers [2, 3, 1]"),
    ]


def _vector_to_params_hidden(rng):
    cases = []
    for depth in (1, 2, 3, 4):
        sizes = [int(s) for s in rng.integers(1, 6, size=depth + 1)]
        theta = rng.normal(size=count_parameters(sizes))
        cases.append(Case((theta, np.array(sizes)), f"layer sizes {sizes}"))
    cases.append(Case((rng.normal(size=count_parameters([4, 3])), np.array([4, 3])),
                      "non-square W (3, 4)"))
    return cases


def _hint_unvectorise(case, expected, got):
    theta, sizes = case.args
    pairs = [(W.T, b) for W, b in vector_to_params(theta, sizes)]
    flipped, start = [], 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        flipped.append(theta[start : start + fan_in * fan_out].reshape(fan_in, fan_out).T)
        flipped.append(theta[start + fan_in * fan_out : start + (fan_in + 1) * fan_out])
        start += (fan_in + 1) * fan_out
    if _same(got, pairs):
        return "W must have shape (out, in) = (layer_sizes[l+1], layer_sizes[l]), as nn.Linear"
    if _same(got, flipped):
        return ("reshape each weight block to (out, in) in row-major order; reshaping to "
                "(in, out) and transposing reads it column by column")
    return None


register(Check(
    name="vector_to_params",
    reference=vector_to_params,
    public_cases=_vector_to_params_public,
    hidden_cases=_vector_to_params_hidden,
    arg_names=("theta", "layer_sizes"),
    hints=(_hint_unvectorise,),
))


# --- count_parameters(layer_sizes) -----------------------------------------------------
def _count_public():
    return [
        Case((np.array([4, 3]),), "softmax regression, 4 features, 3 classes: 12 + 3"),
        Case((np.array([400, 25, 10]),), "20 x 20 images, 25 hidden units, 10 classes"),
    ]


def _count_hidden(rng):
    return [Case((rng.integers(1, 300, size=depth + 1),), f"{depth} layers")
            for depth in (1, 2, 3, 5)]


def _hint_count(case, expected, got):
    sizes = [int(s) for s in case.args[0]]
    if _same(got, sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))):
        return "count the biases too: a layer from s_in to s_out units has (s_in + 1) * s_out"
    return None


register(Check(
    name="count_parameters",
    reference=count_parameters,
    public_cases=_count_public,
    hidden_cases=_count_hidden,
    arg_names=("layer_sizes",),
    hints=(_hint_count,),
))
