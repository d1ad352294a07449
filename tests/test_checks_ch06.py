"""Tests of the chapter 6 grading checks and of exercise 6's graded items.

The table ``ITEMS`` lists every graded cell of ``ex06_backprop`` with typical wrong
answers (each must score 0 with a hint naming the mistake) and right answers written
differently (each must score full marks), run through both grading paths
(``tests/exercise_items.py``).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_nn.backprop import layer_backward, softmax_jacobian
from course_nn.gradcheck import numerical_gradient
from course_nn.grading import REGISTRY, CheckFailure, check
from course_nn.grading.checks.ch06 import (
    BUGGY_WEIGHT_DECAY_STEP,
    BY_HAND_LABEL,
    BY_HAND_THETA1,
    BY_HAND_THETA2,
    BY_HAND_X,
    backprop_by_hand_reference,
    gated_layer_backward,
    gated_layer_forward,
    mlp_loss_and_grads_theta,
    weight_decay_step,
)
from tests.exercise_items import (
    GIVEN,
    Item,
    Wrong,
    assert_outcomes,
    assert_table,
    assert_written_answers_private,
    graded_cells,
    hardened_scores,
    hint_problems,
    likely_bug,
    notebook_scores,
)
from tests.notebooks import exercise_path, read

pytestmark = [pytest.mark.ch6, pytest.mark.grading]

A = "ex06_backprop"
REFERENCES = {
    "softmax_jacobian": softmax_jacobian,
    "layer_backward": layer_backward,
    "mlp_loss_and_grads": mlp_loss_and_grads_theta,
    "backprop_by_hand": backprop_by_hand_reference,
    "gated_layer_backward": gated_layer_backward,
    "weight_decay_step": weight_decay_step,
}


# --- the registry ------------------------------------------------------------------------
def test_checks_are_registered():
    """Is every chapter 6 check registered with its reference, and the logits' gradient
    (stated and used in exercise 4) no longer graded on its own?"""
    assert {name: REGISTRY[name].reference for name in REFERENCES} == REFERENCES
    assert "softmax_cross_entropy_grad" not in REGISTRY


def test_backprop_has_the_largest_share():
    """Do layer_backward, mlp_loss_and_grads and the gated layer carry most points?"""
    points = graded_cells(A)
    backprop = sum(points[f"test_{name}"] for name in
                   ("layer_backward", "mlp_loss_and_grads", "gated_layer_backward"))
    assert backprop > sum(points.values()) / 2
    assert points["test_mlp_loss_and_grads"] == max(points.values())


def test_by_hand_numbers_agree_with_autograd():
    """Are a(2), delta(3), delta(2) and dJ/dTheta1_22 what PyTorch's autograd gives?"""
    theta1 = torch.tensor(BY_HAND_THETA1, requires_grad=True)
    theta2 = torch.tensor(BY_HAND_THETA2, requires_grad=True)
    a1 = torch.cat([torch.ones(1, dtype=torch.float64), torch.tensor(BY_HAND_X)])
    z2 = theta1 @ a1
    z2.retain_grad()
    a2 = torch.sigmoid(z2)
    z3 = theta2 @ torch.cat([torch.ones(1, dtype=torch.float64), a2])
    z3.retain_grad()
    loss = torch.nn.functional.cross_entropy(z3[None], torch.tensor([BY_HAND_LABEL]))
    loss.backward()
    want_a2, want_d3, want_d2, want_entry = backprop_by_hand_reference()
    np.testing.assert_allclose(a2.detach().numpy(), want_a2)
    np.testing.assert_allclose(z3.grad.numpy(), want_d3)
    np.testing.assert_allclose(z2.grad.numpy(), want_d2)
    assert theta1.grad[1, 2].item() == pytest.approx(want_entry)


def test_the_given_weight_decay_is_released_and_fails():
    """Is the planted bug in the student's notebook, and does the check reject it?"""
    text = "".join("".join(c["source"]) for c in read(exercise_path(A))["cells"])
    assert BUGGY_WEIGHT_DECAY_STEP.strip() in text
    namespace = {"np": np}
    exec(BUGGY_WEIGHT_DECAY_STEP, namespace)
    with pytest.raises(CheckFailure, match=GIVEN):
        check("weight_decay_step", namespace["weight_decay_step_given"])


def test_the_gated_layer_reference_agrees_with_autograd_and_finite_differences():
    """Are (dX, dU, dc, dV, dd) what PyTorch's autograd (float64) and central differences
    of J = sum(R * Q) give, for a batch and for gates far open and far shut?"""
    rng = np.random.default_rng(11)
    for gate_scale in (1.0, 30.0):
        X, R = rng.normal(size=(5, 3)), rng.normal(size=(5, 4))
        U, c = rng.normal(size=(4, 3)), rng.normal(size=4)
        V, d = gate_scale * rng.normal(size=(4, 3)), rng.normal(size=4)
        ours = gated_layer_backward(R, X, U, c, V, d)
        leaves = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in (X, U, c, V, d)]
        Xt, Ut, ct, Vt, dt = leaves
        ((Xt @ Ut.T + ct) * torch.sigmoid(Xt @ Vt.T + dt) * torch.tensor(R)).sum().backward()
        for got, leaf in zip(ours, leaves, strict=True):
            np.testing.assert_allclose(got, leaf.grad.numpy(), rtol=1e-12, atol=1e-12)
        args = [X, U, c, V, d]
        for k, got in enumerate(ours):
            def J(value, k=k, R=R, args=args):
                return float(np.sum(R * gated_layer_forward(*args[:k], value, *args[k + 1:])))
            np.testing.assert_allclose(got, numerical_gradient(J, args[k]), rtol=1e-6, atol=1e-8)


def test_the_gated_layer_has_no_overflow_at_huge_gates():
    """Gate pre-activations of +-1e4: the reference stays finite and passes its own check
    with overflow errors raised (float_errors)."""
    assert REGISTRY["gated_layer_backward"].float_errors
    rng = np.random.default_rng(3)
    X, R = rng.normal(size=(3, 2)), rng.normal(size=(3, 2))
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        grads = gated_layer_backward(R, X, np.eye(2), np.zeros(2), 1e4 * np.eye(2), np.zeros(2))
    assert all(np.all(np.isfinite(g)) for g in grads)


# --- the table of graded items -------------------------------------------------------------
LAYER = '''
def layer_backward(dQ, Z, Q_prev, W, activation):
    h = {"relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 0.5 * (1 + np.tanh(z / 2)),
         "tanh": np.tanh, "identity": lambda z: z}[activation]
    slope = {"relu": lambda z: (z > 0) * 1.0, "tanh": lambda z: 1 - np.tanh(z) ** 2,
             "sigmoid": lambda z: h(z) * (1 - h(z)), "identity": np.ones_like}[activation]
    dZ = {DZ}
    return {RETURN}
'''


def layer(dz="dQ * slope(Z)", ret="dZ @ W, dZ.T @ Q_prev, dZ.sum(axis=0)"):
    return LAYER.replace("{DZ}", dz).replace("{RETURN}", ret).strip()


MLP = '''
def mlp_loss_and_grads(theta, layer_sizes, X, y, activation, l2):
    sizes = [int(s) for s in layer_sizes]
    params, offset = [], 0
    for a, b in zip(sizes[:-1], sizes[1:]):
        params.append((theta[offset:offset + a * b].reshape(b, a), theta[offset + a * b:offset + a * b + b]))
        offset += a * b + b
    h = {"relu": lambda z: np.maximum(z, 0), "sigmoid": lambda z: 0.5 * (1 + np.tanh(z / 2)),
         "tanh": np.tanh}[activation]
    Zs, Qs = [], [X]
    for l, (W, b) in enumerate(params):
        Zs.append(Qs[-1] @ W.T + b)
        Qs.append(Zs[-1] if l == len(params) - 1 else h(Zs[-1]))
    Z = Zs[-1]
    top = Z.max(axis=1, keepdims=True)
    log_p = Z - top - np.log(np.exp(Z - top).sum(axis=1, keepdims=True))
    n = len(y)
    loss = -log_p[np.arange(n), y].mean() + l2 / 2 * sum(np.sum(W ** 2) for W, _ in params)
    delta = np.exp(log_p)
    delta[np.arange(n), y] -= 1
    delta = delta {SCALE}
    grads = []
    for l in range(len(params) - 1, -1, -1):
        W, b = params[l]
        grads.insert(0, (delta.T @ Qs[l] + l2 * W, delta.sum(axis=0) {BIAS}))
        if l > 0:
            delta = (delta @ W) * {SLOPE}
    return loss, grads
'''
SLOPES = ('{"relu": (Zs[l - 1] > 0) * 1.0, "tanh": 1 - np.tanh(Zs[l - 1]) ** 2, '
          '"sigmoid": Qs[l] * (1 - Qs[l])}[activation]')
SLOPES_AT_Q = ('{"relu": Qs[l], "tanh": 1 - np.tanh(Qs[l]) ** 2, '
               '"sigmoid": h(Qs[l]) * (1 - h(Qs[l]))}[activation]')


def mlp(scale="/ n", bias="", slope=SLOPES):
    return MLP.replace("{SCALE}", scale).replace("{BIAS}", bias).replace("{SLOPE}", slope).strip()


GATED = '''
def gated_layer_backward(dQ, X, U, c, V, d):
    A = X @ U.T + c
    G = X @ V.T + d
    S = 0.5 * (1 + np.tanh(G / 2))
    dA = {DA}
    dG = {DG}
    return {RETURN}
'''


def gated(da="dQ * S", dg="dQ * A * S * (1 - S)",
          ret="dA @ U + dG @ V, dA.T @ X, dA.sum(axis=0), dG.T @ X, dG.sum(axis=0)"):
    return GATED.replace("{DA}", da).replace("{DG}", dg).replace("{RETURN}", ret).strip()


ITEMS = [
    Item("softmax_jacobian", points=1, kind="implement", wrong=[
        Wrong('''def softmax_jacobian(a):
    return np.diag(a)''', hint_contains="off-diagonal entries are missing"),
        Wrong('''def softmax_jacobian(a):
    return -np.outer(a, a)''', hint_contains="diagonal lacks the direct effect"),
        Wrong('''def softmax_jacobian(a):
    return np.outer(a, a) - np.diag(a)''', hint_contains="sign is flipped"),
    ], right=[
        '''def softmax_jacobian(a):
    return np.diag(a) - np.einsum("i,j->ij", a, a)''',
        '''def softmax_jacobian(a):
    M = len(a)
    J = np.zeros((M, M))
    for i in range(M):
        for j in range(M):
            J[i, j] = a[i] * ((i == j) - a[j])
    return J''',
    ]),
    Item("layer_backward", points=4, kind="implement", wrong=[
        Wrong(layer(dz="dQ * h(Z) if activation == 'relu' else dQ * slope(Z)"),
              hint_contains="output was used where its derivative belongs"),
        Wrong(layer(dz="dQ"), hint_contains="activation derivative is missing"),
        Wrong(layer(ret="dZ @ W, Q_prev.T @ dZ, dZ.sum(axis=0)"), hint_contains="transposed"),
        Wrong(layer(ret="dZ @ W, dZ.T @ Q_prev, dZ.mean(axis=0)"),
              hint_contains="averaged over the batch"),
        Wrong(layer(ret="dQ @ W, dZ.T @ Q_prev, dZ.sum(axis=0)"),
              hint_contains="skips the activation derivative"),
        Wrong(layer().replace("lambda z: 0.5 * (1 + np.tanh(z / 2))", "lambda z: 1 / (1 + np.exp(-z))"),
              hint_contains="an intermediate value overflows"),
    ], right=[
        layer(dz="dQ * slope(Z)", ret='np.einsum("ij,jk->ik", dZ, W), '
                                      'np.einsum("ij,ik->jk", dZ, Q_prev), np.einsum("ij->j", dZ)'),
        '''import scipy.special

def layer_backward(dQ, Z, Q_prev, W, activation):
    if activation == "relu":
        dZ = np.where(Z > 0, dQ, 0.0)
    elif activation == "sigmoid":
        s = scipy.special.expit(Z)
        dZ = dQ * s * (1 - s)
    elif activation == "tanh":
        dZ = dQ / np.cosh(Z) ** 2
    else:
        dZ = dQ
    dW = sum(np.outer(dZ[i], Q_prev[i]) for i in range(len(dZ)))
    return dZ @ W, dW, dZ.sum(axis=0)''',
    ]),
    Item("mlp_loss_and_grads", points=6, kind="implement", wrong=[
        Wrong(mlp(scale=""), hint_contains="not divided by the batch size"),
        Wrong(mlp(bias="+ l2 * b"), hint_contains="applied to the biases too"),
        Wrong(mlp(slope=SLOPES_AT_Q), hint_contains="evaluated at the activation"),
        Wrong(mlp().replace("delta.T @ Qs[l] + l2 * W", "delta.T @ Qs[l]"),
              hint_contains="penalty is missing"),
    ], right=[
        mlp(),
        '''import scipy.special

def mlp_loss_and_grads(theta, layer_sizes, X, y, activation, l2):
    sizes = list(map(int, layer_sizes))
    cuts = np.cumsum([n * (m + 1) for m, n in zip(sizes[:-1], sizes[1:])])[:-1]
    params = [(chunk[:m * n].reshape(n, m), chunk[m * n:])
              for chunk, m, n in zip(np.split(theta, cuts), sizes[:-1], sizes[1:])]
    Q, cache = X, []
    for l, (W, b) in enumerate(params):
        Z = Q @ W.T + b
        cache.append((Q, Z))
        Q = Z if l == len(params) - 1 else layer_forward(Z, activation)
    Y = np.eye(sizes[-1])[y]
    loss = np.mean(scipy.special.logsumexp(Q, axis=1) - np.sum(Y * Q, axis=1))
    loss += l2 / 2 * sum(np.einsum("ij,ij->", W, W) for W, _ in params)
    dQ = (scipy.special.softmax(Q, axis=1) - Y) / len(y)
    grads = []
    for l in reversed(range(len(params))):
        Q_prev, Z = cache[l]
        kind = "identity" if l == len(params) - 1 else activation
        dQ, dW, db = layer_backward(dQ, Z, Q_prev, params[l][0], kind)
        grads.append((dW + l2 * params[l][0], db))
    return loss, grads[::-1]


def layer_forward(Z, activation):
    return {"relu": np.maximum(Z, 0), "sigmoid": scipy.special.expit(Z), "tanh": np.tanh(Z)}[activation]''',
    ]),
    Item("backprop_by_hand", points=3, kind="by-hand", wrong=[
        Wrong('''def backprop_by_hand():
    return [0.475, 0.7311], [-0.6802, 0.6802], [0.1866, -0.1605], -0.321''',
              hint_contains="wrong sign"),
        Wrong('''def backprop_by_hand():
    return [0.475, 0.7311], [0.6802, -0.6802], [-0.7482, 0.8163], 1.6326''',
              hint_contains="misses the sigmoid's derivative"),
        Wrong('''def backprop_by_hand():
    return [0.475, 0.7311], [0.6802, -0.6802], [-0.1866, 0.1605], 0.1605''',
              hint_contains="belongs to another weight"),
        Wrong('''def backprop_by_hand():
    return [-0.1, 1.0], [0.6802, -0.6802], [-0.1866, 0.1605], 0.321''',
              hint_contains="hidden activations are off"),
    ], right=[
        '''def backprop_by_hand():
    return (0.475, 0.731), (0.680, -0.680), (-0.187, 0.160), 0.321''',
        '''def backprop_by_hand():
    sig = lambda z: 1 / (1 + np.exp(-z))
    a2 = sig(np.array([0.1 + 0.4 - 0.6, -0.2 + 0.2 + 1.0]))
    z3 = np.array([0.3, -0.1]) + np.array([[-0.6, 0.8], [0.5, -0.4]]) @ a2
    delta3 = np.exp(z3) / np.exp(z3).sum() - np.array([0.0, 1.0])
    delta2 = np.array([[-0.6, 0.8], [0.5, -0.4]]).T @ delta3 * a2 * (1 - a2)
    return list(a2), list(delta3), list(delta2), delta2[1] * 2.0''',
    ]),
    Item("gated_layer_backward", points=3, kind="transfer", wrong=[
        Wrong(gated(ret="dA @ U, dA.T @ X, dA.sum(axis=0), dG.T @ X, dG.sum(axis=0)"),
              hint_contains="the gate's path is missing"),
        Wrong(gated(dg="dQ * A"), hint_contains="misses the slope of the sigmoid"),
        Wrong(gated(da="dQ"), hint_contains="must be scaled by the gate"),
        Wrong(gated(dg="dQ * S * S * (1 - S)"), hint_contains="not by the gate itself"),
        Wrong(gated().replace("S = 0.5 * (1 + np.tanh(G / 2))", "S = 1 / (1 + np.exp(-G))"),
              hint_contains="an intermediate value overflows"),
        Wrong(gated(ret="dA @ U + dG @ V, X.T @ dA, dA.sum(axis=0), X.T @ dG, dG.sum(axis=0)"),
              hint_contains="transposed"),
    ], right=[
        gated(),
        '''import scipy.special


def gated_layer_backward(dQ, X, U, c, V, d):
    G = np.einsum("np,mp->nm", X, V) + d
    S, slope = scipy.special.expit(G), scipy.special.expit(G) * scipy.special.expit(-G)
    branches = [(dQ * S, U), (dQ * (X @ U.T + c) * slope, V)]
    dX = sum(dZ @ W for dZ, W in branches)
    grads = []
    for dZ, _ in branches:
        grads += [np.einsum("nm,np->mp", dZ, X), np.einsum("nm->m", dZ)]
    return (dX, *grads)''',
        '''def gated_layer_backward(dQ, X, U, c, V, d):
    n, p = X.shape
    m = U.shape[0]
    dX, dU, dc, dV, dd = np.zeros((n, p)), np.zeros((m, p)), np.zeros(m), np.zeros((m, p)), np.zeros(m)
    for i in range(n):
        for j in range(m):
            a = U[j] @ X[i] + c[j]
            g = V[j] @ X[i] + d[j]
            s = np.exp(-np.logaddexp(0, -g))
            da, dg = dQ[i, j] * s, dQ[i, j] * a * s * np.exp(-np.logaddexp(0, g))
            dX[i] += da * U[j] + dg * V[j]
            dU[j] += da * X[i]
            dc[j] += da
            dV[j] += dg * X[i]
            dd[j] += dg
    return dX, dU, dc, dV, dd''',
    ]),
    Item("weight_decay_step", points=2, kind="debugging", wrong=[
        Wrong(BUGGY_WEIGHT_DECAY_STEP.replace("_given", ""), hint_contains=GIVEN),
        Wrong('''def weight_decay_step(theta, grad, layer_sizes, learning_rate, l2):
    mask = np.concatenate([np.r_[np.zeros(b), np.ones(a * b)]
                           for a, b in zip(layer_sizes[:-1], layer_sizes[1:])])
    return theta - learning_rate * (grad + l2 * mask * theta)''', hint_contains="not decayed"),
        Wrong('''def weight_decay_step(theta, grad, layer_sizes, learning_rate, l2):
    mask = np.concatenate([np.r_[np.zeros(a * b), np.ones(b)]
                           for a, b in zip(layer_sizes[:-1], layer_sizes[1:])])
    return theta - learning_rate * (grad + l2 * mask * theta)''',
              hint_contains="the biases shrink"),
        Wrong('''def weight_decay_step(theta, grad, layer_sizes, learning_rate, l2):
    mask = np.concatenate([np.r_[np.ones(a * b), np.zeros(b)]
                           for a, b in zip(layer_sizes[:-1], layer_sizes[1:])])
    return theta + learning_rate * (grad + l2 * mask * theta)''', hint_contains="uphill"),
    ], right=[
        '''def weight_decay_step(theta, grad, layer_sizes, learning_rate, l2):
    new, offset = np.array(theta, dtype=float), 0
    for a, b in zip(layer_sizes[:-1], layer_sizes[1:]):
        new[offset:offset + a * b] *= 1 - learning_rate * l2
        offset += a * b + b
    return new - learning_rate * grad''',
        '''def weight_decay_step(theta, grad, layer_sizes, learning_rate, l2):
    sizes = np.asarray(layer_sizes)
    is_weight = np.repeat(np.tile([1.0, 0.0], len(sizes) - 1),
                          np.ravel(np.column_stack([sizes[:-1] * sizes[1:], sizes[1:]])))
    return theta - learning_rate * (grad + l2 * is_weight * theta)''',
    ]),
]


def test_written_answers_keep_model_answer_and_rubric_private():
    """Does every written answer hold a model answer and a rubric (points per criterion)
    in the instructor notebook only?"""
    assert_written_answers_private(A)


def test_the_table_covers_every_graded_cell():
    """Does the table list each graded cell with its points, every kind, and enough answers?"""
    assert_table(A, ITEMS)


def test_items_in_the_notebook_path():
    """Through the in-notebook check (nbgrader's path): wrong 0 with the hint, right full;
    and every hint shown obeys the registry's rules (no code, numbers or formulas)."""
    outcomes = notebook_scores(A, ITEMS)
    assert_outcomes(ITEMS, outcomes, "notebook")
    for key, outcome in outcomes.items():
        assert not hint_problems(likely_bug(outcome.message)), (key, outcome.message)


@pytest.mark.slow
def test_items_in_the_hardened_path(tmp_path):
    """Through course-nn grade (one batch): the same outcomes."""
    assert_outcomes(ITEMS, hardened_scores(A, ITEMS, tmp_path), "hardened")
