"""Exercise 6's checks: the reference passes, typical mistakes fail with a teaching hint."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.backprop import layer_backward, softmax_cross_entropy_grad, softmax_jacobian
from course_nn.grading import CheckFailure, check
from course_nn.grading.checks.ch06 import mlp_loss_and_grads_theta
from course_nn.mlp import vector_to_params
from tests.checking import assert_teaches

pytestmark = [pytest.mark.ch6, pytest.mark.grading]

REFERENCES = {
    "softmax_jacobian": softmax_jacobian,
    "softmax_cross_entropy_grad": softmax_cross_entropy_grad,
    "layer_backward": layer_backward,
    "mlp_loss_and_grads": mlp_loss_and_grads_theta,
}


def sigmoid(z):
    return 0.5 * (1 + np.tanh(z / 2))  # stable for any z


H = {"relu": lambda z: np.maximum(z, 0), "sigmoid": sigmoid, "tanh": np.tanh,
     "identity": lambda z: z}
H_GRAD = {"relu": lambda z: (z > 0) * 1.0, "sigmoid": lambda z: sigmoid(z) * (1 - sigmoid(z)),
          "tanh": lambda z: 1 - np.tanh(z) ** 2, "identity": np.ones_like}


# --- student-style solutions (plain NumPy) and their typical mistakes --------------------
def stable_softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def sce_grad(Z, y, divide=True, subtract=True, axis=1):
    G = stable_softmax(Z) if axis == 1 else stable_softmax(Z.T).T
    if subtract:
        G = G - np.eye(Z.shape[1])[y]
    return G / len(y) if divide else G


def make_layer_backward(derivative=None, through_h=True, db_mean=False):
    """A from-scratch layer_backward; ``derivative`` replaces h' (a mistake)."""
    def backward(dQ, Z, Q_prev, W, activation):
        dZ = dQ * (derivative or H_GRAD[activation])(Z)
        db = dZ.mean(axis=0) if db_mean else dZ.sum(axis=0)
        return (dZ if through_h else dQ) @ W, dZ.T @ Q_prev, db
    return backward


def make_mlp(divide=True, bias_penalty=False, l2_over_n=False, derivative=None):
    """A from-scratch solution with one switchable mistake (``derivative``: name -> wrong h')."""
    def loss_and_grads(theta, layer_sizes, X, y, activation, l2):
        params = vector_to_params(theta, layer_sizes)
        Zs, Qs = [], [X]
        for l, (W, b) in enumerate(params, start=1):
            Zs.append(Qs[-1] @ W.T + b)
            Qs.append(Zs[-1] if l == len(params) else H[activation](Zs[-1]))
        n = len(y)
        P = stable_softmax(Zs[-1])
        loss = -np.mean(np.log(P[np.arange(n), y])) + l2 / 2 * sum(np.sum(W**2) for W, _ in params)
        delta = sce_grad(Zs[-1], y, divide=divide)
        grads = []
        lam = l2 / n if l2_over_n else l2
        for l in range(len(params), 0, -1):
            W, b = params[l - 1]
            grads.insert(0, (delta.T @ Qs[l - 1] + lam * W,
                             delta.sum(axis=0) + (l2 * b if bias_penalty else 0)))
            if l > 1:
                h_prime = {**H_GRAD, **(derivative or {})}[activation]
                delta = (delta @ W) * h_prime(Zs[l - 2])
        return loss, grads
    return loss_and_grads


def test_student_style_solutions_pass():
    for name, func in [
        ("softmax_jacobian", lambda a: np.diag(a) - np.outer(a, a)),
        ("softmax_cross_entropy_grad", sce_grad),
        ("layer_backward", make_layer_backward()),
        ("mlp_loss_and_grads", make_mlp()),
    ]:
        check(name, func)
        check(name, func, hidden=True, seed=7)


def _relu_uses_activation(Z):
    return np.maximum(Z, 0)  # the activation value instead of 1[Z > 0]


WRONG = [
    ("softmax_jacobian", np.diag, "off-diagonal entries are -a_i a_j"),
    ("softmax_jacobian", lambda a: -np.outer(a, a), r"diagonal is a_i \(1 - a_i\)"),
    ("softmax_jacobian", lambda a: np.outer(a, a) - np.diag(a), "sign is flipped"),
    ("softmax_cross_entropy_grad", lambda Z, y: sce_grad(Z, y, divide=False),
     "gradient not divided by the batch size n"),
    ("softmax_cross_entropy_grad", lambda Z, y: sce_grad(Z, y, subtract=False),
     "subtract the one-hot targets"),
    ("softmax_cross_entropy_grad", lambda Z, y: sce_grad(Z, y, axis=0), "softmax taken over axis 0"),
    ("softmax_cross_entropy_grad", lambda Z, y: -sce_grad(Z, y), "sign is flipped"),
    ("layer_backward", make_layer_backward(derivative=_relu_uses_activation),
     "ReLU derivative evaluated at the activation instead of the pre-activation"),
    ("layer_backward",
     lambda dQ, Z, Q_prev, W, act: make_layer_backward()(dQ, H[act](Z), Q_prev, W, act),
     "sigmoid derivative evaluated at the activation h\\(Z\\) instead of the pre-activation"),
    ("layer_backward", lambda dQ, Z, Q_prev, W, act: make_layer_backward(
        derivative=(lambda Z: Z * (1 - Z)) if act == "sigmoid" else None)(dQ, Z, Q_prev, W, act),
     "needs the activation a = sigma\\(Z\\), you used Z"),
    ("layer_backward", make_layer_backward(derivative=np.ones_like),
     "activation derivative is missing"),
    ("layer_backward", make_layer_backward(through_h=False), "dQ_prev goes back through h' too"),
    ("layer_backward", make_layer_backward(db_mean=True), "db is the sum of dZ"),
    ("mlp_loss_and_grads", make_mlp(divide=False), "gradient not divided by the batch size n"),
    ("mlp_loss_and_grads", make_mlp(bias_penalty=True), "L2 penalty applied to the biases"),
    ("mlp_loss_and_grads", make_mlp(l2_over_n=True), "lambda/n"),
    ("mlp_loss_and_grads", make_mlp(derivative={"sigmoid": lambda Z: H_GRAD["sigmoid"](sigmoid(Z))}),
     "sigmoid derivative evaluated at the activation instead of the pre-activation"),
    ("mlp_loss_and_grads", make_mlp(derivative={"relu": _relu_uses_activation}),
     "ReLU derivative evaluated at the activation instead of the pre-activation"),
]


@pytest.mark.parametrize(("name", "wrong", "hint"), WRONG,
                         ids=[f"{n}-{h[:30]}" for n, _, h in WRONG])
def test_typical_mistakes_fail_with_their_hint(name, wrong, hint):
    assert_teaches(name, wrong, hint)


def test_overflowing_softmax_is_caught_on_huge_logits():
    def naive(Z, y):
        with np.errstate(all="ignore"):
            E = np.exp(Z)
            return (E / E.sum(axis=1, keepdims=True) - np.eye(Z.shape[1])[y]) / len(y)
    with pytest.raises(CheckFailure, match=r"(?s)public case 3 of 3 \(huge logits.*"
                                           r"likely bug: overflow for large logits"):
        check("softmax_cross_entropy_grad", naive)
