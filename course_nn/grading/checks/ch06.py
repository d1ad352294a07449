"""Checks for exercise 6, backpropagation and training (book chapter 6).

Graded items (kind, function): implement ``softmax_jacobian``, ``layer_backward`` and
``mlp_loss_and_grads``; by hand ``backprop_by_hand()`` (one forward and backward pass
through the lectures' two-layer sigmoid network on the student's own numbers; variant 0:
:data:`BY_HAND_THETA1`, :data:`BY_HAND_THETA2`, :data:`BY_HAND_X`); debugging
``weight_decay_step`` (given with the penalty on the biases too, :data:`BUGGY_WEIGHT_DECAY_STEP`); transfer
``gated_layer_backward`` (backpropagation through a gated layer, a value times a sigmoid
gate of the same input, which the book does not derive: the multiply gate, the sigmoid's
slope and an input on two paths, checked by the student with central differences).
``softmax_cross_entropy_grad`` is not graded here:
exercise 4 states it and grades the gradient built on it. Hints name the symptom and
the concept, never the code (``tests/test_hints.py``).

Graded signatures (every argument an array, a number or a string):

``softmax_jacobian(a) -> (M, M)``
    a = softmax(z) of shape (M,); returns diag(a) - a a^T.
``layer_backward(dQ, Z, Q_prev, W, activation) -> (dQ_prev, dW, db)``
    One layer Q = h(Q_prev @ W.T + b): dZ = dQ * h'(Z), dW = dZ.T @ Q_prev,
    db = dZ.sum(axis=0), dQ_prev = dZ @ W. activation is "relu", "sigmoid", "tanh"
    or "identity"; no overflow for pre-activations in the thousands (``float_errors``).
``gated_layer_backward(dQ, X, U, c, V, d) -> (dX, dU, dc, dV, dd)``
    Q = (X U^T + c) * sigmoid(X V^T + d); no overflow for gate pre-activations in the
    thousands (``float_errors``).
``mlp_loss_and_grads(theta, layer_sizes, X, y, activation, l2) -> (loss, [(dW1, db1), ...])``
    theta the flat parameter vector [vec W1, b1, ...] (row-major vec), layer_sizes an
    int array [p, U1, ..., M], y int labels; loss = mean softmax cross-entropy +
    l2/2 * sum ||W||^2 (biases not penalised); the last layer is linear. A flat list
    (loss, dW1, db1, dW2, ...) is accepted too (outputs are compared array by array).
"""

from __future__ import annotations

import numpy as np

from course_nn.activations import get_activation, sigmoid
from course_nn.backprop import (
    layer_backward,
    mlp_loss_and_grads,
    softmax_cross_entropy_grad,
    softmax_jacobian,
)
from course_nn.grading.by_hand_numbers import backprop_by_hand_params
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.compare import same_answer as _same
from course_nn.grading.core import Case, Check, given_function, numbers_judge, register
from course_nn.grading.variant import PARAMS
from course_nn.mlp import count_parameters, mlp_forward, vector_to_params
from course_nn.softmax import softmax

ACTIVATION_NAMES = ("relu", "sigmoid", "tanh")


def _grads_only(got):
    """The student's output without the loss (its first part), or None."""
    parts = flatten_output(got)
    return parts[1:] if len(parts) > 1 else None


# --- softmax_jacobian ------------------------------------------------------------------
def _jacobian_public():
    return [
        Case((np.array([0.2, 0.3, 0.5]),), "a = (0.2, 0.3, 0.5)"),
        Case((np.array([1.0, 0.0]),), "a certain prediction"),
    ]


def _jacobian_hidden(rng):
    cases = [Case((softmax(rng.normal(scale=3.0, size=m)),), f"M = {m}") for m in (1, 2, 5, 10)]
    cases.append(Case((softmax(np.array([1000.0, 0.0, -1000.0])),), "from huge logits"))
    return cases


def _hint_jacobian(case, expected, got):
    (a,) = case.args
    if _same(got, np.diag(a)):
        return ("the off-diagonal entries are missing: raising one logit lowers every other "
                "probability")
    if _same(got, -np.outer(a, a)):
        return ("the diagonal lacks the direct effect of a logit on its own probability, which "
                "differs from the effect on the others")
    if _same(got, np.outer(a, a) - np.diag(a)):
        return ("the sign is flipped: raising a logit raises its own probability and lowers "
                "the others")
    return None


register(Check(
    name="softmax_jacobian",
    reference=softmax_jacobian,
    public_cases=_jacobian_public,
    hidden_cases=_jacobian_hidden,
    arg_names=("a",),
    hints=(_hint_jacobian,),
    kind="implement",
))


# --- layer_backward --------------------------------------------------------------------
def _layer_case(rng, n, fan_in, fan_out, activation, label=""):
    Q_prev, W = rng.normal(size=(n, fan_in)), rng.normal(size=(fan_out, fan_in))
    Z = Q_prev @ W.T + rng.normal(size=fan_out)
    return Case((rng.normal(size=(n, fan_out)), Z, Q_prev, W, activation),
                label or f"n={n}, W ({fan_out}, {fan_in}), {activation}")


def _layer_public():
    Q_prev = np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]])
    W = np.array([[1.0, 0.5], [-1.0, 1.0], [0.0, 2.0]])
    Z = Q_prev @ W.T + np.array([0.1, -0.2, 0.0])
    dQ = np.array([[0.1, -0.2, 0.3], [0.0, 0.5, -0.5], [1.0, 0.0, 0.2]])
    return [
        Case((dQ, Z, Q_prev, W, "relu"), "n = 3, W (3, 2), relu"),
        Case((dQ, Z, Q_prev, W, "sigmoid"), "the same layer with sigmoid"),
        Case((dQ[:1], Z[:1], Q_prev[:1], W, "tanh"), "n = 1, tanh"),
        Case((dQ[:2], np.array([[800.0, -800.0, 3.0], [-1000.0, 0.5, 1000.0]]), Q_prev[:2], W,
              "sigmoid"), "sigmoid, pre-activations in the hundreds and thousands"),
    ]


def _layer_hidden(rng):
    cases = [_layer_case(rng, int(rng.integers(1, 20)), int(rng.integers(1, 6)),
                         int(rng.integers(1, 6)), name) for name in ACTIVATION_NAMES]
    cases.append(_layer_case(rng, 1, 3, 4, str(rng.choice(ACTIVATION_NAMES)), "n = 1"))
    cases.append(_layer_case(rng, 5, 3, 2, "identity", "the linear output layer"))
    zeros = _layer_case(rng, 4, 3, 3, "relu").args
    cases.append(Case((zeros[0], np.zeros_like(zeros[1]), *zeros[2:]), "Z = 0, relu"))
    huge = _layer_case(rng, 3, 2, 4, "sigmoid").args
    cases.append(Case((huge[0], 1000.0 * huge[1], *huge[2:]),
                      "sigmoid, pre-activations in the thousands"))
    return cases


def _layer_variant(case, dZ):
    _, _, Q_prev, W, _ = case.args
    return dZ @ W, dZ.T @ Q_prev, dZ.sum(axis=0)


def _hint_layer(case, expected, got):
    dQ, Z, Q_prev, W, activation = case.args
    h, h_grad = get_activation(activation)
    if activation == "relu" and _same(got, _layer_variant(case, dQ * h(Z))):
        return ("the ReLU's output was used where its derivative belongs: the derivative is "
                "one where the unit is on and zero where it is off")
    if activation not in ("relu", "identity") and _same(
            got, _layer_variant(case, dQ * h_grad(h(Z)))):
        return (f"the {activation} derivative is evaluated at the activation instead of at the "
                f"pre-activation that the forward pass stored")
    if activation == "sigmoid" and _same(got, _layer_variant(case, dQ * Z * (1 - Z))):
        return ("the sigmoid's derivative written through its output was applied to the "
                "pre-activation: that form needs the sigmoid's value, not its input")
    if activation != "identity" and _same(got, _layer_variant(case, dQ)):
        return ("the activation derivative is missing: the gradient must pass through the "
                "nonlinearity before it reaches the weights")
    dZ = dQ * h_grad(Z)
    parts = flatten_output(got)
    if activation != "identity" and len(parts) == 3 and _same(parts[0], dQ @ W):
        return ("the gradient passed to the layer below skips the activation derivative: it "
                "must go back through the nonlinearity too")
    if len(parts) == 3 and to_float_array(parts[1]).shape == W.T.shape and W.shape[0] != \
            W.shape[1]:
        return ("the weight gradient is transposed: it has the shape of the weights, one row "
                "per output unit and one column per input")
    if W.shape[0] == W.shape[1] and _same(got, (dZ @ W, Q_prev.T @ dZ, dZ.sum(axis=0))):
        return ("the weight gradient is transposed: row j belongs to output unit j, column k "
                "to input k")
    if _same(got, (dZ @ W, dZ.T @ Q_prev, dZ.mean(axis=0))):
        return ("the bias gradient is averaged over the batch: the incoming gradient already "
                "holds the mean, so sum it")
    return None


register(Check(
    name="layer_backward",
    reference=layer_backward,
    public_cases=_layer_public,
    hidden_cases=_layer_hidden,
    arg_names=("dQ", "Z", "Q_prev", "W", "activation"),
    hints=(_hint_layer,),
    float_errors=True,
    kind="implement",
    parts=("dQ_prev", "dW", "db"),
))


# --- mlp_loss_and_grads(theta, layer_sizes, X, y, activation, l2) ----------------------
def mlp_loss_and_grads_theta(theta, layer_sizes, X, y, activation, l2):
    """Reference for the graded loss and gradients from the parameter vector θ."""
    return mlp_loss_and_grads(vector_to_params(theta, layer_sizes), X, y, activation, l2)


def _mlp_case(rng, sizes, n, activation, l2, label=""):
    theta = rng.normal(size=count_parameters(sizes))
    X, y = rng.normal(size=(n, sizes[0])), rng.integers(0, sizes[-1], size=n)
    return Case((theta, np.array(sizes, dtype=np.int64), X, y, activation, float(l2)),
                label or f"n={n}, layer sizes {sizes}, {activation}, l2={l2}")


def _mlp_public():
    rng = np.random.default_rng(60)
    return [
        _mlp_case(rng, [2, 3], 4, "relu", 0.0, "softmax regression [2, 3], no penalty"),
        _mlp_case(rng, [3, 4, 3], 5, "sigmoid", 0.1, "[3, 4, 3], sigmoid, l2 = 0.1"),
        _mlp_case(rng, [2, 3, 3, 2], 3, "relu", 0.05, "[2, 3, 3, 2], relu, l2 = 0.05"),
    ]


def _mlp_hidden(rng):
    cases = []
    for depth, activation in zip((1, 2, 3, 4), rng.permutation(list(ACTIVATION_NAMES) * 2),
                                 strict=False):
        sizes = [int(s) for s in rng.integers(1, 6, size=depth + 1)]
        sizes[-1] = max(sizes[-1], 2)
        l2 = float(rng.choice([0.0, 0.01, 0.3]))
        cases.append(_mlp_case(rng, sizes, int(rng.integers(2, 15)), str(activation), l2))
    cases.append(_mlp_case(rng, [3, 4, 3], 1, "tanh", 0.1, "n = 1"))
    cases.append(_mlp_case(rng, [4, 5, 3], 8, "sigmoid", 0.2, "sigmoid with a penalty"))
    return cases


def _backprop_variant(params, X, y, activation, l2, derivative):
    """Backpropagation with ``derivative(Z)`` in place of h'(Z): the classic slips."""
    logits, cache = mlp_forward(params, X, activation, return_cache=True)
    delta, grads = softmax_cross_entropy_grad(logits, y), []
    for l in range(len(params), 0, -1):
        W = params[l - 1][0]
        grads.insert(0, (delta.T @ cache.Q[l - 1] + l2 * W, delta.sum(axis=0)))
        if l > 1:
            delta = (delta @ W) * derivative(cache.Z[l - 1])
    return grads


def _derivative_at_activation(activation):
    """h' evaluated at h(Z); for ReLU, whose h'(h(Z)) = h'(Z), the activation itself."""
    h, h_grad = get_activation(activation)
    return h if activation == "relu" else (lambda Z: h_grad(h(Z)))


def _hint_mlp(case, expected, got):
    theta, sizes, X, y, activation, l2 = case.args
    params, n = vector_to_params(theta, sizes), X.shape[0]
    _, data = mlp_loss_and_grads(params, X, y, activation, 0.0)
    grads = _grads_only(got)

    def grads_are(alternative):
        return grads is not None and _same(grads, alternative)

    if n > 1 and grads_are([(n * dW + l2 * W, n * db) for (dW, db), (W, _) in zip(data, params,
                                                                                strict=True)]):
        return ("the gradients are not divided by the batch size: the cost is the mean of the "
                "per-sample losses")
    if l2 > 0 and grads_are([(dW + l2 * W, db + l2 * b) for (dW, db), (W, b) in zip(
            data, params, strict=True)]):
        return "the penalty is applied to the biases too: only the weights are penalised"
    if l2 > 0 and grads_are([(dW + l2 / n * W, db) for (dW, db), (W, _) in zip(
            data, params, strict=True)]):
        return ("the penalty's gradient is divided by the batch size: in this exercise's cost "
                "the penalty is already on the mean, with the weight given as the argument")
    if l2 > 0 and grads_are(data):
        return "the penalty is missing from the weights' gradients"
    wrong_derivative = _derivative_at_activation(activation)
    if len(params) > 1 and grads_are(_backprop_variant(params, X, y, activation, l2,
                                                        wrong_derivative)):
        name = "ReLU" if activation == "relu" else activation
        return (f"the {name} derivative is evaluated at the activation instead of the "
                f"pre-activation: keep what the forward pass computed before the nonlinearity")
    grads = _grads_only(got)
    if grads is not None and len(grads) == 2 * len(params) and any(
            to_float_array(g).shape == W.T.shape and W.shape[0] != W.shape[1]
            for g, (W, _) in zip(grads[::2], params, strict=True)):
        return ("a weight gradient is transposed: each has the shape of its weight matrix, one "
                "row per output unit")
    return None


register(Check(
    name="mlp_loss_and_grads",
    reference=mlp_loss_and_grads_theta,
    public_cases=_mlp_public,
    hidden_cases=_mlp_hidden,
    arg_names=("theta", "layer_sizes", "X", "y", "activation", "l2"),
    hints=(_hint_mlp,),
    kind="implement",
    parts=("loss", "dW{l}", "db{l}"),
))


# --- backprop_by_hand: the lectures' two-layer sigmoid network, one example --------------
#: Theta^(1) and Theta^(2) in the lectures' bias-unit notation (bias column first), the
#: input x and its true class (the lectures' class 2, label 1) of the by-hand task: the
#: numbers of variant 0 (docs/exercise_items.md, "Numbers of one's own").
BY_HAND_THETA1 = np.array([[0.1, 0.4, -0.3], [-0.2, 0.2, 0.5]])
BY_HAND_THETA2 = np.array([[0.3, -0.6, 0.8], [-0.1, 0.5, -0.4]])
BY_HAND_X = np.array([1.0, 2.0])
BY_HAND_LABEL = 1


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _by_hand_pass(theta1, theta2, x, label, derivative=None, target=None):
    """a(2), delta(3), delta(2), dJ/dTheta1 in the lectures' notation (one example, no penalty)."""
    a1 = np.concatenate([[1.0], x])
    z2 = theta1 @ a1
    a2 = _sigmoid(z2)
    a3 = softmax(theta2 @ np.concatenate([[1.0], a2]))
    delta3 = a3 - (np.eye(2)[label] if target is None else target)
    slope = a2 * (1 - a2) if derivative is None else derivative(z2, a2)
    delta2 = (theta2[:, 1:].T @ delta3) * slope
    return a2, delta3, delta2, np.outer(delta2, a1)


#: The numbers of the by-hand answer, named as in the task (a2 without the bias unit).
BACKPROP_BY_HAND_NAMES = ("a2_1", "a2_2", "delta3_1", "delta3_2", "delta2_1", "delta2_2",
                          "dJ/dTheta1_22")


def backprop_by_hand_reference(theta1=BY_HAND_THETA1, theta2=BY_HAND_THETA2, x=BY_HAND_X,
                               label=BY_HAND_LABEL):
    """(a(2), delta(3), delta(2), dJ/dTheta^(1)_22) of a variant's network and example
    (default: the book's)."""
    a2, delta3, delta2, D1 = _by_hand_pass(*_as_numbers(theta1, theta2, x, label))
    return a2, delta3, delta2, D1[1, 2]


def _as_numbers(theta1, theta2, x, label):
    return (np.asarray(theta1, dtype=np.float64), np.asarray(theta2, dtype=np.float64),
            np.asarray(x, dtype=np.float64), int(label))


def _by_hand_numbers(case):
    """The variant's (theta1, theta2, x, label) a case carries (the book's when it carries
    none)."""
    params = case.probe if case.probe is not None else backprop_by_hand_params(0)
    return _as_numbers(params["theta1"], params["theta2"], params["x"], params["label"])


def _by_hand_cases(rng=None):
    return [Case((), "the task's network, input x and true class")]


def _hint_by_hand(case, expected, got):
    try:
        have = np.concatenate([np.ravel(to_float_array(p)) for p in flatten_output(got)])
    except (TypeError, ValueError):
        return None
    if have.size != 7:
        return ("return four things: the two hidden activations, the two output errors, the "
                "two hidden errors and the one gradient entry")
    a2, delta3, delta2, entry = have[:2], have[2:4], have[4:6], have[6]
    close = lambda u, v: bool(np.allclose(u, v, atol=5e-3))  # noqa: E731
    theta1, theta2, x, label = numbers = _by_hand_numbers(case)
    ref_a2, ref_d3, ref_d2, ref_entry = backprop_by_hand_reference(*numbers)
    if not close(a2, ref_a2):
        return ("the hidden activations are off: the bias unit multiplies the first column of "
                "the first weight matrix, and the sigmoid comes after the sum")
    if close(delta3, -ref_d3):
        return "the output error has the wrong sign: it is the prediction minus the truth"
    if not close(delta3, ref_d3):
        return ("the output error is off: check which class is the true one (the lectures "
                "count from 1) and that the output layer is a softmax")
    options = {
        "no slope": lambda z, a: np.ones_like(z),
        "slope at a": lambda z, a: _sigmoid(a) * (1 - _sigmoid(a)),
    }
    if close(delta2, _by_hand_pass(*numbers, options["no slope"])[2]):
        return "the hidden error misses the sigmoid's derivative"
    if close(delta2, _by_hand_pass(*numbers, options["slope at a"])[2]):
        return ("the sigmoid's derivative is taken at the activation instead of the "
                "pre-activation")
    if close(delta2, (theta2[:, :2].T @ ref_d3) * ref_a2 * (1 - ref_a2)):
        return ("the hidden error used the bias column of the second weight matrix: the bias "
                "unit has no error to pass back")
    if not close(delta2, ref_d2):
        return "the hidden errors are off: pass the output error back through the weights"
    D1 = np.outer(ref_d2, np.concatenate([[1.0], x]))
    if close(entry, D1[1, 1]) or close(entry, D1[2 - 1, 0]) or close(entry, D1[0, 2]):
        return ("the gradient entry belongs to another weight: row two is hidden unit two, and "
                "column two multiplies the second input")
    if not close(entry, ref_entry):
        return ("the gradient entry is off: it is the hidden error of the unit its row belongs "
                "to times the input its column multiplies")
    return None


register(Check(
    name="backprop_by_hand",
    reference=backprop_by_hand_reference,
    public_cases=_by_hand_cases,
    hidden_cases=_by_hand_cases,
    arg_names=(),
    hints=(_hint_by_hand,),
    judge=numbers_judge(5e-3, BACKPROP_BY_HAND_NAMES),
    kind="by_hand",
    parts=BACKPROP_BY_HAND_NAMES,
    variant_params=backprop_by_hand_params,  # numbers of one's own
    variant_key=PARAMS["backprop_by_hand"].assignment,
))


# --- weight_decay_step: a given function with a planted bug (the penalty on the biases) ----
#: The version the student is given: weight decay on the whole parameter vector theta,
#: biases included.
BUGGY_WEIGHT_DECAY_STEP = '''def weight_decay_step_given(theta, grad, layer_sizes, learning_rate, l2):
    return theta - learning_rate * (grad + l2 * theta)
'''


def weight_mask(layer_sizes) -> np.ndarray:
    """1.0 where theta = [vec W1, b1, vec W2, b2, ...] holds a weight, 0.0 at a bias."""
    parts = []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:], strict=True):
        parts += [np.ones(int(fan_in) * int(fan_out)), np.zeros(int(fan_out))]
    return np.concatenate(parts)


def weight_decay_step(theta, grad, layer_sizes, learning_rate, l2):
    """Reference: theta - learning_rate * (grad + l2 * W-part of theta), biases not decayed."""
    return theta - learning_rate * (grad + l2 * weight_mask(layer_sizes) * theta)


def _decay_case(rng, sizes, learning_rate, l2, label=""):
    P = count_parameters(sizes)
    return Case((rng.normal(size=P), rng.normal(size=P), np.array(sizes, dtype=np.int64),
                 float(learning_rate), float(l2)),
                label or f"layer sizes {sizes}, learning rate {learning_rate}, l2={l2}")


def _decay_public():
    return [
        Case((np.array([1.0, -2.0, 0.5, 3.0, 1.0, -1.0]), np.array([0.1, 0.2, 0.0, -0.1, 0.5, 0.5]),
              np.array([2, 2], dtype=np.int64), 0.1, 0.5),
             "one layer [2, 2]"),
        _decay_case(np.random.default_rng(61), [3, 2, 2], 0.5, 0.1,
                    "two layers [3, 2, 2]"),
    ]


def _decay_hidden(rng):
    cases = []
    for depth in (1, 2, 3):
        sizes = [int(s) for s in rng.integers(1, 6, size=depth + 1)]
        cases.append(_decay_case(rng, sizes, float(rng.choice([0.01, 0.1, 1.0])),
                                 float(rng.choice([0.01, 0.3]))))
    cases.append(_decay_case(rng, [4, 3], 0.1, 0.0, "no penalty"))
    return cases


def _bias_first_mask(layer_sizes):
    parts = []
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:], strict=True):
        parts += [np.zeros(int(fan_out)), np.ones(int(fan_in) * int(fan_out))]
    return np.concatenate(parts)


def _hint_decay(case, expected, got):
    """Symptoms of a partial repair of the given function (never the cause)."""
    theta, grad, sizes, learning_rate, l2 = case.args
    if l2 > 0 and _same(got, theta - learning_rate * (grad + l2 * _bias_first_mask(sizes) * theta)):
        return "some weights are not decayed while some biases are"
    if l2 > 0 and _same(got, theta - learning_rate * (grad + l2 * (1 - weight_mask(sizes)) * theta)):
        return "the biases shrink and the weights do not"
    if _same(got, theta + learning_rate * (grad + l2 * weight_mask(sizes) * theta)):
        return "theta moves uphill, along the gradient"
    return None


register(Check(
    name="weight_decay_step",
    reference=weight_decay_step,
    public_cases=_decay_public,
    hidden_cases=_decay_hidden,
    arg_names=("theta", "grad", "layer_sizes", "learning_rate", "l2"),
    hints=(_hint_decay,),
    kind="debugging",
    given=given_function(BUGGY_WEIGHT_DECAY_STEP),
))


# --- gated_layer_backward: backpropagation through a layer the book does not derive --------
def gated_layer_forward(X, U, c, V, d):
    """Q = (X U^T + c) * sigmoid(X V^T + d): a value times a gate in (0, 1), both of X."""
    return (X @ U.T + c) * sigmoid(X @ V.T + d)


def gated_layer_backward(dQ, X, U, c, V, d):
    """Reference: (dX, dU, dc, dV, dd) of the gated layer for the upstream gradient dQ.

    With A = X U^T + c, G = X V^T + d and S = sigmoid(G), Q = A * S: the multiply gate
    sends dA = dQ * S and dS = dQ * A, the sigmoid dG = dS * S (1 - S) (computed as
    S * sigmoid(-G), which no exponent can overflow), and X, used by both branches,
    receives the sum dA U + dG V."""
    dQ, X = np.asarray(dQ, dtype=float), np.asarray(X, dtype=float)
    A, G = X @ U.T + c, X @ V.T + d
    S = sigmoid(G)
    dA, dG = dQ * S, dQ * A * S * sigmoid(-G)
    return dA @ U + dG @ V, dA.T @ X, dA.sum(axis=0), dG.T @ X, dG.sum(axis=0)


def _gated_case(rng, n, fan_in, fan_out, label="", gate_scale=1.0):
    X = rng.normal(size=(n, fan_in))
    U, V = rng.normal(size=(fan_out, fan_in)), gate_scale * rng.normal(size=(fan_out, fan_in))
    c, d = rng.normal(size=fan_out), rng.normal(size=fan_out)
    return Case((rng.normal(size=(n, fan_out)), X, U, c, V, d),
                label or f"n={n}, {fan_in} inputs, {fan_out} outputs")


def _gated_public():
    X = np.array([[1.0, -1.0], [0.5, 2.0], [-1.0, 0.0]])
    U = np.array([[1.0, 0.5], [-1.0, 1.0], [0.0, 2.0]])
    V = np.array([[0.5, -0.5], [1.0, 0.0], [-1.0, 1.0]])
    c, d = np.array([0.1, -0.2, 0.0]), np.array([0.0, 0.3, -0.1])
    dQ = np.array([[0.1, -0.2, 0.3], [0.0, 0.5, -0.5], [1.0, 0.0, 0.2]])
    return [
        Case((dQ, X, U, c, V, d), "n = 3, two inputs, three outputs"),
        Case((dQ[:1, :2], X[:1], U[:2], c[:2], V[:2], d[:2]), "n = 1, two inputs, two outputs"),
        Case((dQ[:2, :2], X[:2], U[:2], c[:2], 800.0 * V[:2], d[:2]),
             "gates far open and far shut (pre-activations in the hundreds)"),
    ]


def _gated_hidden(rng):
    cases = [_gated_case(rng, int(rng.integers(1, 20)), int(rng.integers(1, 6)),
                         int(rng.integers(1, 6))) for _ in range(3)]
    cases.append(_gated_case(rng, 4, 3, 3, "three inputs, three outputs"))
    cases.append(_gated_case(rng, 6, 2, 4, "gate pre-activations in the thousands",
                             gate_scale=1000.0))
    return cases


def _gated_variants(case):
    """The classic slips, each as the output it gives (name -> (dX, dU, dc, dV, dd))."""
    dQ, X, U, c, V, d = case.args
    A, G = X @ U.T + c, X @ V.T + d
    S = sigmoid(G)
    slope = S * sigmoid(-G)
    dA, dG = dQ * S, dQ * A * slope

    def out(dA, dG, dX=None):
        return (dA @ U + dG @ V if dX is None else dX, dA.T @ X, dA.sum(axis=0), dG.T @ X,
                dG.sum(axis=0))

    with np.errstate(all="ignore"):
        return {
            "one path": out(dA, dG, dA @ U),
            "other path": out(dA, dG, dG @ V),
            "no slope": out(dA, dQ * A),
            "slope at output": out(dA, dQ * A * sigmoid(S) * sigmoid(-S)),
            "not scaled": out(dQ, dG),
            "gate from gate": out(dA, dQ * S * slope),
            "mean": tuple(p / len(dQ) if k in (2, 4) else p
                          for k, p in enumerate(out(dA, dG))),
        }


GATED_ADVICE = {
    "one path": ("the input reaches the output along two paths, through the value and through "
                 "the gate, and its gradient is the sum over both: the gate's path is missing"),
    "other path": ("the input reaches the output along two paths, through the value and "
                   "through the gate, and its gradient is the sum over both: the value's path "
                   "is missing"),
    "no slope": ("the gate's gradient misses the slope of the sigmoid between its "
                 "pre-activation and its output"),
    "slope at output": ("the sigmoid's slope is evaluated at the gate's output instead of at "
                        "its pre-activation"),
    "not scaled": ("a multiply gate scales each input's gradient by the other input: the "
                   "value's gradient must be scaled by the gate"),
    "gate from gate": ("a multiply gate scales each input's gradient by the other input: the "
                       "gate's gradient must be scaled by the value, not by the gate itself"),
    "mean": ("the offsets' gradients are averaged over the batch: the incoming gradient "
             "already holds the mean, so sum it"),
}


def _hint_gated(case, expected, got):
    for name, variant in _gated_variants(case).items():
        if _same(got, variant) and not _same(got, expected):
            return GATED_ADVICE[name]
    parts = flatten_output(got)
    U = case.args[2]
    if len(parts) == 5 and U.shape[0] != U.shape[1] and any(
            to_float_array(parts[k]).shape == U.T.shape for k in (1, 3)):
        return ("a weight gradient is transposed: it has the shape of its weights, one row "
                "per output unit and one column per input")
    return None


register(Check(
    name="gated_layer_backward",
    reference=gated_layer_backward,
    public_cases=_gated_public,
    hidden_cases=_gated_hidden,
    arg_names=("dQ", "X", "U", "c", "V", "d"),
    hints=(_hint_gated,),
    float_errors=True,
    kind="transfer",
    parts=("dX", "dU", "dc", "dV", "dd"),
))
