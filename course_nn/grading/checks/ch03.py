"""Checks for exercise 3, deep neural networks (book chapter 3).

Graded items (kind, function): implement ``mlp_forward_2layer``, ``count_parameters``,
``params_to_vector``, ``vector_to_params``; by hand ``parameters_by_hand() -> (number of
parameters, number of biases, index of the first entry of b2 in θ)`` for the network
:data:`BY_HAND_SIZES` described in words; debugging ``mlp_forward``, given with every
hidden layer reading the input again (:data:`BUGGY_MLP_FORWARD`); transfer
``max_network() -> [(W1, b1), (W2, b2), ...]``, a ReLU network computing max(x1, x2)
exactly, graded as a structure (ReLU hidden layers, linear output) at points of every
sign and scale (``Case.probe``). Hints name the symptom and the concept, never the code
(``tests/test_hints.py``); the design of the items is in docs/exercise_items.md.

Graded signatures (cases are plain arrays, numbers and strings, so every argument
below is one; a network's parameters are passed layer by layer or as θ):

``mlp_forward_2layer(X, W1, b1, W2, b2) -> (n, M)``
    ReLU hidden layer, linear output: ``relu(X @ W1.T + b1) @ W2.T + b2``.
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
from course_nn.grading.by_hand_numbers import parameters_by_hand_params
from course_nn.grading.checks.ch02 import Structure, _layers
from course_nn.grading.compare import same_answer as _same
from course_nn.grading.compare import to_float_array
from course_nn.grading.core import (
    Case,
    Check,
    flat_numbers,
    given_function,
    numbers_judge,
    register,
)
from course_nn.grading.variant import PARAMS
from course_nn.mlp import count_parameters, mlp_forward, params_to_vector, vector_to_params


# --- helpers shared by the hints -------------------------------------------------------
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


def _forward_unchained(params, X, hidden):
    """Every hidden layer applied to X itself (the planted bug); None if shapes do not fit."""
    Q = np.asarray(X, dtype=np.float64)
    with np.errstate(all="ignore"):
        for W, b in params[:-1]:
            if X.shape[1] != W.shape[1]:
                return None
            Q = hidden(X @ W.T + b)
        W, b = params[-1]
        return Q @ W.T + b if Q.shape[1] == W.shape[1] else None


def _layer_pairs(args):
    """(X, W1, b1, W2, b2, ...) -> X, [(W1, b1), (W2, b2), ...]."""
    return args[0], list(zip(args[1::2], args[2::2], strict=True))


def _forward_hints(unpack):
    """Hints for a forward pass whose case unpacks to (params, X, hidden activation)."""

    def hint(case, expected, got):
        params, X, h = unpack(case.args)
        if _same(np.transpose(to_float_array(got)), expected):
            return ("the result has one column per sample: with samples in rows, every layer "
                    "must keep one row per sample")
        if _same(got, _forward_variant(params, X, h, transpose_weights=True)):
            return ("the weight matrices are applied transposed: each has one row per unit of "
                    "its layer and one column per input, as in PyTorch's linear layer")
        if _same(got, _forward_variant(params, X, h, output=h)):
            return ("the last layer has an activation: the output layer is linear, its values "
                    "are the network's raw outputs")
        if _same(got, _forward_variant(params, X, lambda z: z)):
            return ("the hidden layers need the activation: without it the whole network "
                    "is one linear map")
        if _same(got, _forward_variant(params, X, h, bias=False)):
            return "the offsets are missing: every unit adds its own bias"
        if _same(got, _forward_unchained(params, X, h)):
            return ("every hidden layer reads the input again instead of the previous layer's "
                    "output: the layers are not chained")
        return None

    return hint


# --- mlp_forward_2layer ------------------------------------------------------------------
def _forward_layers(X, *weights_and_biases):
    X, params = _layer_pairs((X, *weights_and_biases))
    return mlp_forward(params, X, "relu")


def mlp_forward_2layer(X, W1, b1, W2, b2):
    """Reference for the graded two-layer forward pass (ReLU hidden, linear output)."""
    return _forward_layers(X, W1, b1, W2, b2)


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
    kind="implement",
))


# --- mlp_forward: debugging ------------------------------------------------------------
#: The forward pass handed out in the exercise: every hidden layer reads X again.
BUGGY_MLP_FORWARD = '''def mlp_forward(theta, layer_sizes, X, activation):
    """MLP forward pass from theta; hidden activation by name; linear output (n, M)."""
    h = {"relu": lambda z: np.maximum(z, 0.0),
         "sigmoid": lambda z: 0.5 * (1.0 + np.tanh(0.5 * z)),
         "tanh": np.tanh}[activation]
    layers = vector_to_params(theta, layer_sizes)
    Q = np.asarray(X, dtype=float)
    for W, b in layers[:-1]:
        Q = h(X @ W.T + b)
    W, b = layers[-1]
    return Q @ W.T + b
'''


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
        _theta_case(rng, [3, 3, 3, 2], 3, "tanh", "[3, 3, 3, 2], tanh: two hidden layers"),
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


def _hint_forward_symptoms(case, expected, got):
    """Symptoms of a partial repair of the given forward pass (never the cause)."""
    sizes = case.args[1]
    params, X, h = _unpack_theta(case.args)
    if _same(np.transpose(to_float_array(got)), expected):
        return "the result has one row per output unit and one column per sample"
    if _same(got, _forward_variant(params, X, h, output=h)):
        return "the outputs stay within the range of the hidden activation"
    if len(sizes) > 2 and _same(got, _forward_variant(params, X, lambda z: z)):
        return "the output is a linear function of the input"
    if _same(got, _forward_variant(params, X, h, bias=False)):
        return "the result is the same as with every offset set to zero"
    return None


register(Check(
    name="mlp_forward",
    reference=mlp_forward_theta,
    public_cases=_mlp_forward_public,
    hidden_cases=_mlp_forward_hidden,
    arg_names=("theta", "layer_sizes", "X", "activation"),
    hints=(_hint_forward_symptoms,),
    kind="debugging",
    given=given_function(BUGGY_MLP_FORWARD, vector_to_params=vector_to_params),
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
             "two layers: W1 (3, 2), b1 (3,), W2 (1, 3), b2 (1,)"),
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
        return "each weight matrix is flattened row after row, not column by column"
    if _same(got, np.concatenate([np.concatenate([b, W.ravel()])
                                  for W, b in zip(Ws, bs, strict=True)])):
        return "each layer's weights come before its bias"
    if _same(got, np.concatenate([W.ravel() for W in Ws] + list(bs))):
        return ("the parameters go layer by layer, each layer's weights followed by its "
                "biases, not all weights first")
    return None


register(Check(
    name="params_to_vector",
    reference=params_to_vector_graded,
    public_cases=_params_to_vector_public,
    hidden_cases=_params_to_vector_hidden,
    arg_names=("W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"),
    hints=(_hint_vectorise,),
    kind="implement",
))


# --- vector_to_params(theta, layer_sizes) ----------------------------------------------
def _vector_to_params_public():
    return [
        Case((np.arange(1.0, 10.0), np.array([2, 3])), "one layer [2, 3]"),
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
    flipped, in_rows, skipping, start, short = [], [], [], 0, 0
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:], strict=True):
        block = theta[start : start + fan_in * fan_out]
        flipped.append(block.reshape(fan_in, fan_out).T)
        in_rows.append(block.reshape(fan_in, fan_out))
        bias = theta[start + fan_in * fan_out : start + (fan_in + 1) * fan_out]
        flipped.append(bias)
        in_rows.append(bias)
        skipping.append(theta[short : short + fan_in * fan_out].reshape(fan_out, fan_in))
        skipping.append(theta[short + fan_in * fan_out : short + (fan_in + 1) * fan_out])
        start += (fan_in + 1) * fan_out
        short += fan_in * fan_out
    if _same(got, pairs) or _same(got, in_rows):
        return ("each weight matrix has one row per unit of its layer and one column per "
                "input, as in PyTorch's linear layer")
    if len(sizes) > 2 and _same(got, skipping):
        return ("each layer's block holds its weights and then its biases: the next layer "
                "starts after both")
    if _same(got, flipped):
        return ("each weight block is read row after row into a matrix with one row per "
                "unit; one row per input followed by a transpose reads it column by column")
    return None


register(Check(
    name="vector_to_params",
    reference=vector_to_params,
    public_cases=_vector_to_params_public,
    hidden_cases=_vector_to_params_hidden,
    arg_names=("theta", "layer_sizes"),
    hints=(_hint_unvectorise,),
    fresh_arrays=True,  # the task: "changing one of them must not change theta"
    kind="implement",
    parts=("W{l}", "b{l}"),
))


# --- count_parameters(layer_sizes) -----------------------------------------------------
def _count_public():
    return [
        Case((np.array([4, 3]),), "softmax regression, 4 features, 3 classes"),
        Case((np.array([400, 25, 10]),), "20 x 20 images, 25 hidden units, 10 classes"),
    ]


def _count_hidden(rng):
    return [Case((rng.integers(1, 300, size=depth + 1),), f"{depth} layers")
            for depth in (1, 2, 3, 5)]


def _hint_count(case, expected, got):
    sizes = [int(s) for s in case.args[0]]
    if _same(got, sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=True))):
        return "count the biases too: every unit of a hidden or output layer has one"
    return None


register(Check(
    name="count_parameters",
    reference=count_parameters,
    public_cases=_count_public,
    hidden_cases=_count_hidden,
    arg_names=("layer_sizes",),
    hints=(_hint_count,),
    kind="implement",
))


# --- parameters_by_hand: an architecture described in words ------------------------------
#: "28 x 28 grey images, hidden layers of 100 and 50 units, one output per digit": the
#: numbers of variant 0 (docs/exercise_items.md, "Numbers of one's own").
BY_HAND_SIZES = (784, 100, 50, 10)


#: The numbers of the by-hand answer, named as in the task.
PARAMETERS_BY_HAND_NAMES = ("the number of parameters", "the number of biases",
                            "the position of b2's first entry")


def by_hand_sizes(side: int, hidden, classes: int) -> tuple[int, ...]:
    """The layer sizes of a variant's network: ``side``**2 pixels in, ``classes`` out."""
    return (int(side) ** 2, *(int(h) for h in hidden), int(classes))


def parameters_by_hand_reference(side=28, hidden=(100, 50), classes=10):
    """(parameters, biases, index of the first entry of b2 in θ) of the network with
    ``side`` x ``side`` images, ``hidden`` units and ``classes`` outputs (default: the book's)."""
    sizes = by_hand_sizes(side, hidden, classes)
    start_b2 = (sizes[0] + 1) * sizes[1] + sizes[1] * sizes[2]
    return count_parameters(list(sizes)), sum(sizes[1:]), start_b2


def _hint_parameters_by_hand(case, expected, got):
    try:
        numbers = flat_numbers(got)
    except (TypeError, ValueError):
        numbers = np.zeros(0)
    if numbers.size != 3:
        return ("return three numbers: the number of parameters, the number of biases, and "
                "the position in theta of the first bias of the second layer")
    total, biases, start = numbers
    params = case.probe if case.probe is not None else parameters_by_hand_params(0)
    p, U1, U2, M = by_hand_sizes(**params)
    if total != expected[0]:
        weights_only = p * U1 + U1 * U2 + U2 * M
        if total == weights_only:
            return "the total leaves out the biases: every unit of a hidden or output layer has one"
        if total == expected[0] + p:
            return "the input layer has no biases: its units are the pixels themselves"
        if total in (count_parameters([int(params["side"]), U1, U2, M]),
                     count_parameters([p, U1, U2, 1])):
            return ("the sizes were read wrongly: an image enters as the vector of all its "
                    "pixels, and there is one output per class")
        return "the total is off: for each layer, its weights plus its biases"
    if biases != expected[1]:
        return "the biases: one per unit of every hidden and output layer, none for the inputs"
    if start == expected[2] + 1:
        return "positions in theta count from zero here, as NumPy indexes"
    if start == (p + 1) * U1:  # the second layer's biases put before its weights
        return "in theta each layer's weights come before its biases"
    if start == expected[2] - U1:
        return "the first layer's biases come before the second layer's weights in theta"
    return ("the position is off: count every entry of theta that comes before it, layer "
            "by layer, weights then biases")


register(Check(
    name="parameters_by_hand",
    reference=parameters_by_hand_reference,
    public_cases=lambda: [Case((), "your numbers for the network of the task")],
    hidden_cases=lambda rng: [Case((), "your numbers for the network of the task")],
    arg_names=(),
    hints=(_hint_parameters_by_hand,),
    judge=numbers_judge(0.0, PARAMETERS_BY_HAND_NAMES),  # counts are exact
    kind="by_hand",
    parts=PARAMETERS_BY_HAND_NAMES,
    variant_params=parameters_by_hand_params,  # numbers of one's own
    variant_key=PARAMS["parameters_by_hand"].assignment,
))


# --- max_network: transfer, graded as a structure ----------------------------------------------
def relu_network_outputs(layers, X: np.ndarray) -> np.ndarray:
    """ReLU hidden layers, a linear output unit: one number per row of X."""
    Q = np.asarray(X, dtype=np.float64)
    for W, b in layers[:-1]:
        Q = relu(Q @ W.T + b)
    W, b = layers[-1]
    return (Q @ W.T + b)[:, 0]


def _max_probe_public() -> np.ndarray:
    return np.array([[1.0, 2.0], [3.0, -1.0], [-2.0, -5.0], [-1.0, -1.0], [0.0, 0.0],
                     [2.5, 2.5], [-3.0, 4.0], [100.0, -50.0], [-0.5, 0.25]])


def _max_probe_hidden(rng) -> np.ndarray:
    X = rng.normal(size=(40, 2)) * rng.choice([0.01, 1.0, 100.0, 1e4], size=(40, 1))
    tied = rng.normal(size=(4, 1)) * 10
    return np.concatenate([X, np.hstack([tied, tied]), -np.abs(X[:8])])


def _max_judge(case, expected, got):
    layers, problem = _layers(got, 2)
    if problem:
        return f"not a network: {problem}"
    X = case.probe
    want = X.max(axis=1)
    with np.errstate(all="ignore"):
        out = relu_network_outputs(layers, X)
    off = ~(np.abs(out - want) <= 1e-7 * (1.0 + np.abs(want)))
    if not off.any():
        return None
    first = int(np.argmax(off))
    return (f"at x = {X[first].tolist()} the network gives {out[first]:.6g}, the larger "
            f"input is {want[first]:.6g} ({int(off.sum())} of {len(X)} points off)")


def _hint_max(case, expected, got):
    layers, problem = _layers(got, 2)
    if problem:
        return ("return the parameters of a network, not its outputs: the weight matrix and the "
                "offsets of each layer, layer by layer")
    if len(layers) == 1:
        return ("a network without a hidden layer is linear, and the maximum is not: it has a "
                "kink where the two inputs are equal")
    X = case.probe
    with np.errstate(all="ignore"):
        off = ~np.isclose(relu_network_outputs(layers, X), X.max(axis=1), rtol=1e-7, atol=1e-7)
    positive = np.all(X > 0, axis=1)
    if not off[positive].any() and off[~positive].any():
        return ("right where both inputs are positive, wrong where one is negative: a ReLU unit "
                "passes only the positive part of what it receives, so a quantity that can be "
                "negative has to be carried by two units")
    return ("work a few points through your network by hand, including one where the second "
            "input is the larger, and one where both are negative")


register(Check(
    name="max_network",
    # no reference weights: the judge checks the maximum itself at the probe points
    reference=lambda: Structure("a ReLU network computing the larger of its two inputs "
                                "(its weights are not shown)"),
    public_cases=lambda: [Case((), "points of both signs and several scales",
                               probe=_max_probe_public())],
    hidden_cases=lambda rng: [Case((), "random points of every sign and scale, ties included",
                                   probe=_max_probe_hidden(rng))],
    arg_names=(),
    hints=(_hint_max,),
    judge=_max_judge,
    kind="structure",
    parts=("W{l}", "b{l}"),
))
