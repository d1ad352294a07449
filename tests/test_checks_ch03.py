"""Exercise 3's checks: the reference passes, typical mistakes fail with a teaching hint."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.grading import CheckFailure, check
from course_nn.grading.checks.ch03 import (
    mlp_forward_2layer,
    mlp_forward_3layer,
    mlp_forward_theta,
    params_to_vector_graded,
)
from course_nn.mlp import count_parameters, vector_to_params
from tests.checking import assert_teaches

pytestmark = [pytest.mark.ch3, pytest.mark.grading]

REFERENCES = {
    "mlp_forward_2layer": mlp_forward_2layer,
    "mlp_forward_3layer": mlp_forward_3layer,
    "mlp_forward": mlp_forward_theta,
    "params_to_vector": params_to_vector_graded,
    "vector_to_params": vector_to_params,
    "count_parameters": count_parameters,
}


def relu(z):
    return np.maximum(z, 0.0)


H = {"relu": relu, "sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh}


def test_a_student_style_solution_passes():
    """Plain NumPy, the way the exercise asks for it (no course_nn inside)."""
    def mlp_forward(theta, layer_sizes, X, activation):
        Q, start = X, 0
        pairs = list(zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
        for l, (fan_in, fan_out) in enumerate(pairs, start=1):
            W = theta[start : start + fan_in * fan_out].reshape(fan_out, fan_in)
            b = theta[start + fan_in * fan_out : start + (fan_in + 1) * fan_out]
            start += (fan_in + 1) * fan_out
            Q = Q @ W.T + b
            if l < len(pairs):
                Q = H[activation](Q)
        return Q

    check("mlp_forward", mlp_forward)
    check("mlp_forward", mlp_forward, hidden=True, seed=3)


def _two_layer(hidden=relu, output=lambda z: z, transpose=False, bias=True):
    def forward(X, W1, b1, W2, b2):
        Q = X
        for W, b, h in ((W1, b1, hidden), (W2, b2, output)):
            Q = h(Q @ (W if transpose else W.T) + (b if bias else 0))
        return Q
    return forward


def _theta_order(bias_first=False, order="C"):
    def forward(theta, layer_sizes, X, activation):
        Q, start = X, 0
        pairs = list(zip(layer_sizes[:-1], layer_sizes[1:], strict=True))
        for l, (i, o) in enumerate(pairs, start=1):
            block = theta[start : start + (i + 1) * o]
            if bias_first:
                b, W = block[:o], block[o:].reshape(o, i)
            else:
                W, b = block[: i * o].reshape(o, i, order=order), block[i * o :]
            start += (i + 1) * o
            Q = Q @ W.T + b
            Q = H[activation](Q) if l < len(pairs) else Q
        return Q
    return forward


def _unvectorise_columnwise(theta, layer_sizes):
    """Reads each block as (in, out) and transposes: column by column."""
    params, start = [], 0
    for i, o in zip(layer_sizes[:-1], layer_sizes[1:], strict=True):
        W = theta[start : start + i * o].reshape(i, o).T
        params.append((W, theta[start + i * o : start + (i + 1) * o]))
        start += (i + 1) * o
    return params


WRONG = [
    ("mlp_forward_2layer",
     lambda X, W1, b1, W2, b2: W2 @ relu(W1 @ X.T + b1[:, None]) + b2[:, None],
     "weights applied as W @ x instead of X @ W.T"),
    ("mlp_forward_2layer", _two_layer(transpose=True), "weights applied as X @ W instead of X @ W.T"),
    ("mlp_forward_2layer", _two_layer(output=relu),
     r"last layer should be linear \(no activation on the output\)"),
    ("mlp_forward_2layer", _two_layer(hidden=lambda z: z), "hidden layers need the activation"),
    ("mlp_forward_2layer", _two_layer(bias=False), "biases b are missing"),
    ("mlp_forward_3layer",
     lambda X, W1, b1, W2, b2, W3, b3: relu(relu(relu(X @ W1.T + b1) @ W2.T + b2) @ W3.T + b3),
     "last layer should be linear"),
    ("mlp_forward", _theta_order(bias_first=True), "each layer's weights come before its bias"),
    ("mlp_forward", _theta_order(order="F"), "vec W is the row-major ravel"),
    ("params_to_vector",
     lambda *a: np.concatenate([x.ravel(order="F") for x in a]), "not column by column"),
    ("params_to_vector",
     lambda *a: np.concatenate([x.ravel() for pair in zip(a[1::2], a[::2], strict=True)
                                for x in pair]), "weights come before its bias"),
    ("params_to_vector",
     lambda *a: np.concatenate([x.ravel() for x in a[::2] + a[1::2]]), "not all weights first"),
    ("vector_to_params", _unvectorise_columnwise, "reshape each weight block to .*row-major"),
    ("count_parameters",
     lambda s: int(sum(a * b for a, b in zip(s[:-1], s[1:], strict=True))), "count the biases"),
]


@pytest.mark.parametrize(("name", "wrong", "hint"), WRONG,
                         ids=[f"{n}-{h[:30]}" for n, _, h in WRONG])
def test_typical_mistakes_fail_with_their_hint(name, wrong, hint):
    assert_teaches(name, wrong, hint)


@pytest.mark.parametrize(("name", "wrong", "hint"), WRONG[:5] + WRONG[6:8],
                         ids=[f"{n}-{h[:30]}" for n, _, h in WRONG[:5] + WRONG[6:8]])
def test_mistakes_also_fail_hidden_cases(name, wrong, hint):
    with pytest.raises(CheckFailure, match=r"hidden case \d+ of \d+"):
        check(name, wrong, hidden=True, seed=4)
