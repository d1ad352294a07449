"""Checks for exercise 6, backpropagation and training (book chapter 6).

Graded signatures (every argument an array, a number or a string):

``softmax_jacobian(a) -> (M, M)``
    a = softmax(z) of shape (M,); returns diag(a) - a a^T.
``softmax_cross_entropy_grad(Z, y) -> (n, M)``
    Z logits (n, M), y int labels (n,); gradient of the *mean* loss:
    (softmax(Z) - one_hot(y)) / n.
``layer_backward(dQ, Z, Q_prev, W, activation) -> (dQ_prev, dW, db)``
    One layer Q = h(Q_prev @ W.T + b): dZ = dQ * h'(Z), dW = dZ.T @ Q_prev,
    db = dZ.sum(axis=0), dQ_prev = dZ @ W. activation is "relu", "sigmoid", "tanh"
    or "identity".
``mlp_loss_and_grads(theta, layer_sizes, X, y, activation, l2) -> (loss, [(dW1, db1), ...])``
    theta the flat parameter vector [vec W1, b1, ...] (row-major vec), layer_sizes an
    int array [p, U1, ..., M], y int labels; loss = mean softmax cross-entropy +
    l2/2 * sum ||W||^2 (biases not penalised); the last layer is linear. A flat list
    (loss, dW1, db1, dW2, ...) is accepted too (outputs are compared array by array).
"""

from __future__ import annotations

import numpy as np

from course_nn.activations import get_activation
from course_nn.backprop import (
    layer_backward,
    mlp_loss_and_grads,
    softmax_cross_entropy_grad,
    softmax_jacobian,
)
from course_nn.grading.checks.ch03 import _same
from course_nn.grading.compare import flatten_output
from course_nn.grading.core import Case, Check, register
from course_nn.mlp import count_parameters, mlp_forward, vector_to_params
from course_nn.softmax import one_hot, softmax

ACTIVATION_NAMES = ("relu", "sigmoid", "tanh")


def _grads_only(got):
    """The student's output without the loss (its first part), or None."""
    parts = flatten_output(got)
    return parts[1:] if len(parts) > 1 else None


# --- softmax_jacobian ------------------------------------------------------------------
def _jacobian_public():
    return [
        Case((np.array([0.2, 0.3, 0.5]),), "a = (0.2, 0.3, 0.5)"),
        Case((np.array([1.0, 0.0]),), "a certain prediction: the Jacobian is 0"),
    ]


def _jacobian_hidden(rng):
    cases = [Case((softmax(rng.normal(scale=3.0, size=m)),), f"M = {m}") for m in (1, 2, 5, 10)]
    cases.append(Case((softmax(np.array([1000.0, 0.0, -1000.0])),), "from huge logits"))
    return cases


def _hint_jacobian(case, expected, got):
    (a,) = case.args
    if _same(got, np.diag(a)):
        return "the off-diagonal entries are -a_i a_j: J = diag(a) - a a^T"
    if _same(got, -np.outer(a, a)):
        return "the diagonal is a_i (1 - a_i): add diag(a) to -a a^T"
    if _same(got, np.outer(a, a) - np.diag(a)):
        return "the sign is flipped: J = diag(a) - a a^T"
    return None


register(Check(
    name="softmax_jacobian",
    reference=softmax_jacobian,
    public_cases=_jacobian_public,
    hidden_cases=_jacobian_hidden,
    arg_names=("a",),
    hints=(_hint_jacobian,),
))


# --- softmax_cross_entropy_grad --------------------------------------------------------
def _sce_grad_public():
    return [
        Case((np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]), np.array([0, 2])), "n = 2, M = 3"),
        Case((np.array([[0.0, 0.0, 0.0, 0.0]]), np.array([3])), "n = 1, equal logits"),
        Case((np.array([[1000.0, 0.0], [-1000.0, 1000.0], [0.0, 1e4]]), np.array([0, 0, 1])),
             "huge logits: subtract the row max"),
    ]


def _sce_grad_hidden(rng):
    cases = []
    for n, m in ((1, 2), (1, 10), (int(rng.integers(2, 10)), 3), (int(rng.integers(10, 60)), 10)):
        Z = rng.normal(scale=3.0, size=(n, m))
        cases.append(Case((Z, rng.integers(0, m, size=n)), f"n={n}, M={m}"))
    Z = rng.choice([-1e4, -1000.0, 0.0, 1000.0, 1e4], size=(6, 4))
    cases.append(Case((Z, rng.integers(0, 4, size=6)), "huge logits +-1000, +-1e4"))
    return cases


def _hint_sce_grad(case, expected, got):
    Z, y = case.args
    n, m = Z.shape
    G = softmax(Z, axis=1)
    if not np.all(np.isfinite(np.asarray(flatten_output(got)[0], dtype=np.float64))):
        return ("overflow for large logits: exp(1000) is inf; subtract each row's max from Z "
                "before exp (softmax does not change)")
    if n > 1 and _same(got, n * np.asarray(expected)):
        return ("gradient not divided by the batch size n: the loss is the mean over the "
                "batch, so dZ = (softmax(Z) - one_hot(y)) / n")
    if _same(got, G / n) or _same(got, G):
        return "subtract the one-hot targets: the gradient is softmax(Z) - one_hot(y)"
    if n > 1 and _same(got, (softmax(Z, axis=0) - one_hot(y, m)) / n):
        return "softmax taken over axis 0 (the samples); each row is one sample: use axis=1"
    if _same(got, (one_hot(y, m) - G) / n):
        return "the sign is flipped: prediction minus truth, softmax(Z) - one_hot(y)"
    return None


register(Check(
    name="softmax_cross_entropy_grad",
    reference=softmax_cross_entropy_grad,
    public_cases=_sce_grad_public,
    hidden_cases=_sce_grad_hidden,
    arg_names=("Z", "y"),
    hints=(_hint_sce_grad,),
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
    ]


def _layer_hidden(rng):
    cases = [_layer_case(rng, int(rng.integers(1, 20)), int(rng.integers(1, 6)),
                         int(rng.integers(1, 6)), name) for name in ACTIVATION_NAMES]
    cases.append(_layer_case(rng, 1, 3, 4, str(rng.choice(ACTIVATION_NAMES)), "n = 1"))
    cases.append(_layer_case(rng, 5, 3, 2, "identity", "the linear output layer"))
    zeros = _layer_case(rng, 4, 3, 3, "relu").args
    cases.append(Case((zeros[0], np.zeros_like(zeros[1]), *zeros[2:]), "Z = 0: relu'(0) = 0"))
    return cases


def _layer_variant(case, dZ):
    _, _, Q_prev, W, _ = case.args
    return dZ @ W, dZ.T @ Q_prev, dZ.sum(axis=0)


def _hint_layer(case, expected, got):
    dQ, Z, Q_prev, W, activation = case.args
    h, h_grad = get_activation(activation)
    if activation == "relu" and _same(got, _layer_variant(case, dQ * h(Z))):
        return ("ReLU derivative evaluated at the activation instead of the pre-activation: "
                "multiply dQ by h'(Z) = 1[Z > 0], not by the activation relu(Z)")
    if activation not in ("relu", "identity") and _same(
            got, _layer_variant(case, dQ * h_grad(h(Z)))):
        return (f"{activation} derivative evaluated at the activation h(Z) instead of the "
                f"pre-activation Z: dZ = dQ * h'(Z)")
    if activation == "sigmoid" and _same(got, _layer_variant(case, dQ * Z * (1 - Z))):
        return ("sigma'(z) = sigma(z)(1 - sigma(z)): the formula a(1 - a) needs the activation "
                "a = sigma(Z), you used Z")
    if activation != "identity" and _same(got, _layer_variant(case, dQ)):
        return "the activation derivative is missing: dZ = dQ * h'(Z) before anything else"
    dZ = dQ * h_grad(Z)
    parts = flatten_output(got)
    if activation != "identity" and len(parts) == 3 and _same(parts[0], dQ @ W):
        return "dQ_prev goes back through h' too: dQ_prev = dZ @ W with dZ = dQ * h'(Z)"
    if _same(got, (dZ @ W, dZ.T @ Q_prev, dZ.mean(axis=0))):
        return "db is the sum of dZ over the batch, not the mean (dQ already holds the 1/n)"
    return None


register(Check(
    name="layer_backward",
    reference=layer_backward,
    public_cases=_layer_public,
    hidden_cases=_layer_hidden,
    arg_names=("dQ", "Z", "Q_prev", "W", "activation"),
    hints=(_hint_layer,),
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
        return ("gradient not divided by the batch size n: the loss is a mean, so "
                "delta_L = (softmax(Z) - one_hot(y)) / n")
    if l2 > 0 and grads_are([(dW + l2 * W, db + l2 * b) for (dW, db), (W, b) in zip(
            data, params, strict=True)]):
        return "L2 penalty applied to the biases: only the weights W are penalised (db has no l2 b)"
    if l2 > 0 and grads_are([(dW + l2 / n * W, db) for (dW, db), (W, _) in zip(
            data, params, strict=True)]):
        return ("the penalty here is l2/2 * sum ||W||^2 on the mean loss, so its gradient is "
                "l2 * W (the lectures' lambda/(2n) form corresponds to l2 = lambda/n)")
    if l2 > 0 and grads_are(data):
        return "the L2 term is missing from the gradients: add l2 * W to each dW"
    wrong_derivative = _derivative_at_activation(activation)
    if len(params) > 1 and grads_are(_backprop_variant(params, X, y, activation, l2,
                                                        wrong_derivative)):
        name = "ReLU" if activation == "relu" else activation
        return (f"{name} derivative evaluated at the activation instead of the pre-activation: "
                f"delta_l = (delta_(l+1) @ W_(l+1)) * h'(Z_l), with Z_l stored by the forward "
                f"pass")
    return None


register(Check(
    name="mlp_loss_and_grads",
    reference=mlp_loss_and_grads_theta,
    public_cases=_mlp_public,
    hidden_cases=_mlp_hidden,
    arg_names=("theta", "layer_sizes", "X", "y", "activation", "l2"),
    hints=(_hint_mlp,),
))
