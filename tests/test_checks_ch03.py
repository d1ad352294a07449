"""Exercise 3's checks: the reference passes, typical mistakes fail with a teaching hint."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.grading import REGISTRY, CheckFailure, check
from course_nn.grading.checks import ch03
from course_nn.grading.checks.ch03 import (
    mlp_forward_2layer,
    mlp_forward_theta,
    params_to_vector_graded,
)
from course_nn.mlp import count_parameters, vector_to_params
from tests import exercise_items as E
from tests.checking import assert_teaches
from tests.exercise_items import Item, Wrong

pytestmark = [pytest.mark.ch3, pytest.mark.grading]

REFERENCES = {
    "mlp_forward_2layer": mlp_forward_2layer,
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
     "one column per sample"),
    ("mlp_forward_2layer", _two_layer(transpose=True), "applied transposed"),
    ("mlp_forward_2layer", _two_layer(output=relu), "the last layer has an activation"),
    ("mlp_forward_2layer", _two_layer(hidden=lambda z: z), "hidden layers need the activation"),
    ("mlp_forward_2layer", _two_layer(bias=False), "offsets are missing"),
    ("mlp_forward", _theta_order(bias_first=True), "values differ"),  # debugging: symptom only
    ("mlp_forward", _theta_order(order="F"), "values differ"),
    ("params_to_vector",
     lambda *a: np.concatenate([x.ravel(order="F") for x in a]), "not column by column"),
    ("params_to_vector",
     lambda *a: np.concatenate([x.ravel() for pair in zip(a[1::2], a[::2], strict=True)
                                for x in pair]), "weights come before its bias"),
    ("params_to_vector",
     lambda *a: np.concatenate([x.ravel() for x in a[::2] + a[1::2]]), "not all weights first"),
    ("vector_to_params", _unvectorise_columnwise, "reads it column by column"),
    ("count_parameters",
     lambda s: int(sum(a * b for a, b in zip(s[:-1], s[1:], strict=True))), "count the biases"),
]


@pytest.mark.parametrize(("name", "wrong", "hint"), WRONG,
                         ids=[f"{n}-{h[:30]}" for n, _, h in WRONG])
def test_typical_mistakes_fail_with_their_hint(name, wrong, hint):
    assert_teaches(name, wrong, hint, likely_bug=REGISTRY[name].kind != "debugging")


@pytest.mark.parametrize(("name", "wrong", "hint"), WRONG[:7],
                         ids=[f"{n}-{h[:30]}" for n, _, h in WRONG[:7]])
def test_mistakes_also_fail_hidden_cases(name, wrong, hint):
    with pytest.raises(CheckFailure, match=r"hidden case \d+ of \d+"):
        check(name, wrong, hidden=True, seed=4)



def test_unused_checks_are_gone():
    assert "mlp_forward_3layer" not in REGISTRY, "the same function as mlp_forward"


def test_the_maximum_network_probes_every_sign_and_scale():
    (public,), (a,), (b,) = (REGISTRY["max_network"].cases(False),
                             REGISTRY["max_network"].cases(True, 1),
                             REGISTRY["max_network"].cases(True, 2))
    for case in (public, a, b):
        assert case.args == ()
        assert (case.probe < 0).all(axis=1).any() and (case.probe[:, 0] == case.probe[:, 1]).any()
    assert np.abs(a.probe).max() > 1000 and not np.array_equal(a.probe, b.probe)


def test_the_judge_accepts_an_exact_maximum_network(rng):
    """The check stores no weights (a student can import the registry): its judge verifies
    the maximum itself, and a right network written by hand is exact everywhere."""
    W1 = np.array([[1.0, 0.0], [-1.0, 0.0], [-1.0, 1.0]])  # x1+, x1-, (x2 - x1)+
    layers = [(W1, np.zeros(3)), (np.array([[1.0, -1.0, 1.0]]), np.zeros(1))]
    X = rng.normal(size=(500, 2)) * 1e3
    assert np.allclose(ch03.relu_network_outputs(layers, X), X.max(axis=1),
                       rtol=1e-12, atol=1e-12)
    assert not hasattr(ch03, "MAX_PARAMS")
    assert REGISTRY["max_network"].reference().params is None
    for hidden, seed in [(False, None), (True, 1), (True, 2)]:
        for case in REGISTRY["max_network"].cases(hidden, seed):
            assert ch03._max_judge(case, None, layers) is None


# --- the exercise's items, each against typical wrong answers and alternative right ones ---
A = "ex03_mlp"
_FIX = ch03.BUGGY_MLP_FORWARD.replace("Q = h(X @ W.T + b)", "Q = h(Q @ W.T + b)")
ITEMS = [
    Item("mlp_forward_2layer", points=2, kind="implement", wrong=[
        Wrong("def mlp_forward_2layer(X, W1, b1, W2, b2):\n"
              "    return np.maximum(X @ W1 + b1, 0) @ W2 + b2", "applied transposed"),
        Wrong("def mlp_forward_2layer(X, W1, b1, W2, b2):\n"
              "    return np.maximum(np.maximum(X @ W1.T + b1, 0) @ W2.T + b2, 0)",
              "the last layer has an activation"),
        Wrong("def mlp_forward_2layer(X, W1, b1, W2, b2):\n"
              "    return (X @ W1.T + b1) @ W2.T + b2", "hidden layers need the activation"),
        Wrong("def mlp_forward_2layer(X, W1, b1, W2, b2):\n"
              "    return np.maximum(X @ W1.T, 0) @ W2.T", "offsets are missing"),
    ], right=[
        "def mlp_forward_2layer(X, W1, b1, W2, b2):\n"
        "    Q = np.einsum('np,up->nu', X, W1) + b1\n"
        "    return np.einsum('nu,mu->nm', Q * (Q > 0), W2) + b2",
        "def mlp_forward_2layer(X, W1, b1, W2, b2):\n"
        "    rows = []\n"
        "    for x in np.asarray(X, dtype=float):\n"
        "        q = np.clip(W1 @ x + b1, 0, None)\n"
        "        rows.append(W2 @ q + b2)\n"
        "    return np.array(rows).reshape(len(X), -1)",
    ]),
    Item("count_parameters", points=1, kind="implement", wrong=[
        Wrong("def count_parameters(layer_sizes):\n"
              "    s = list(layer_sizes)\n"
              "    return int(sum(a * b for a, b in zip(s[:-1], s[1:])))", "count the biases"),
        Wrong("def count_parameters(layer_sizes):\n"
              "    s = list(layer_sizes)\n"
              "    return int(sum(a * b for a, b in zip(s[:-1], s[1:])) + sum(s))",
              "values differ"),
        Wrong("def count_parameters(layer_sizes):\n"
              "    s = list(layer_sizes)\n"
              "    return int(sum(a * (b + 1) for a, b in zip(s[:-1], s[1:])))", "values differ"),
    ], right=[
        "def count_parameters(layer_sizes):\n"
        "    s = np.asarray(layer_sizes, dtype=np.int64)\n"
        "    return int((s[:-1] + 1) @ s[1:])",
        "def count_parameters(layer_sizes):\n"
        "    total = 0\n"
        "    for l in range(1, len(layer_sizes)):\n"
        "        total += int(layer_sizes[l]) * int(layer_sizes[l - 1]) + int(layer_sizes[l])\n"
        "    return total",
    ]),
    Item("params_to_vector", points=1, kind="implement", wrong=[
        Wrong("def params_to_vector(*weights_and_biases):\n"
              "    return np.concatenate([np.asarray(a).ravel(order='F') "
              "for a in weights_and_biases])", "not column by column"),
        Wrong("def params_to_vector(*wb):\n"
              "    return np.concatenate([np.ravel(a) for a in wb[::2] + wb[1::2]])",
              "not all weights first"),
        Wrong("def params_to_vector(*wb):\n"
              "    return np.concatenate([np.ravel(a) for W, b in zip(wb[::2], wb[1::2])"
              " for a in (b, W)])", "weights come before its bias"),
    ], right=[
        "def params_to_vector(*weights_and_biases):\n"
        "    return np.hstack([np.asarray(a, dtype=float).flatten() for a in weights_and_biases])",
        "def params_to_vector(*wb):\n"
        "    theta = []\n"
        "    for W, b in zip(wb[::2], wb[1::2]):\n"
        "        for row in np.atleast_2d(W):\n"
        "            theta.extend(row)\n"
        "        theta.extend(np.ravel(b))\n"
        "    return np.array(theta, dtype=float)",
    ]),
    Item("vector_to_params", points=2, kind="implement", wrong=[
        Wrong("def vector_to_params(theta, layer_sizes):\n"
              "    out, k = [], 0\n"
              "    for i, o in zip(layer_sizes[:-1], layer_sizes[1:]):\n"
              "        out.append((theta[k:k + i * o].reshape(i, o).T.copy(),"
              " theta[k + i * o:k + i * o + o].copy()))\n"
              "        k += i * o + o\n"
              "    return out", "reads it column by column"),
        Wrong("def vector_to_params(theta, layer_sizes):\n"
              "    out, k = [], 0\n"
              "    for i, o in zip(layer_sizes[:-1], layer_sizes[1:]):\n"
              "        out.append((theta[k:k + i * o].reshape(i, o).copy(),"
              " theta[k + i * o:k + i * o + o].copy()))\n"
              "        k += i * o + o\n"
              "    return out", "one row per unit of its layer"),
        Wrong("def vector_to_params(theta, layer_sizes):\n"
              "    out, k = [], 0\n"
              "    for i, o in zip(layer_sizes[:-1], layer_sizes[1:]):\n"
              "        out.append((theta[k:k + i * o].reshape(o, i).copy(),"
              " theta[k + i * o:k + i * o + o].copy()))\n"
              "        k += i * o\n"
              "    return out", "starts after both"),
        Wrong("def vector_to_params(theta, layer_sizes):\n"
              "    out, k = [], 0\n"
              "    for i, o in zip(layer_sizes[:-1], layer_sizes[1:]):\n"
              "        out.append((theta[k:k + i * o].reshape(o, i), theta[k + i * o:k + i * o + o]))\n"
              "        k += i * o + o\n"
              "    return out", "share memory with an input"),
    ], right=[
        "def vector_to_params(theta, layer_sizes):\n"
        "    sizes = [int(s) for s in layer_sizes]\n"
        "    cuts = np.cumsum([n for i, o in zip(sizes, sizes[1:]) for n in (i * o, o)])[:-1]\n"
        "    parts = np.split(np.array(theta, dtype=float), cuts)\n"
        "    return [(parts[2 * l].reshape(o, i), parts[2 * l + 1])\n"
        "            for l, (i, o) in enumerate(zip(sizes, sizes[1:]))]",
        "def vector_to_params(theta, layer_sizes):\n"
        "    theta, pairs, k = list(theta), [], 0\n"
        "    for i, o in zip(layer_sizes[:-1], layer_sizes[1:]):\n"
        "        W = np.array([[theta[k + r * i + c] for c in range(i)] for r in range(o)])\n"
        "        k += i * o\n"
        "        pairs.append((W, np.array(theta[k:k + o])))\n"
        "        k += o\n"
        "    return pairs",
    ]),
    Item("parameters_by_hand", points=2, kind="by-hand", wrong=[
        Wrong("def parameters_by_hand():\n    return 83_900, 160, 83_500", "leaves out the biases"),
        Wrong("def parameters_by_hand():\n    return 84_844, 944, 83_500",
              "the input layer has no biases"),
        Wrong("def parameters_by_hand():\n    return 84_060, 160, 83_501", "count from zero"),
        Wrong("def parameters_by_hand():\n    return 84_060, 160, 83_400",
              "first layer's biases come before"),
        Wrong("def parameters_by_hand():\n    return 84_060, 160, 78_500",
              "weights come before its biases"),
    ], right=[
        "def parameters_by_hand():\n    return 84060, 160, 83500",
        "def parameters_by_hand():\n"
        "    return [785 * 100 + 101 * 50 + 51 * 10, 100 + 50 + 10, 784 * 100 + 100 + 100 * 50]",
    ]),
    Item("mlp_forward", points=3, kind="debugging", wrong=[
        Wrong(ch03.BUGGY_MLP_FORWARD, E.GIVEN),
        Wrong(_FIX.replace("    W, b = layers[-1]\n    return Q @ W.T + b",
                           "    W, b = layers[-1]\n    return h(Q @ W.T + b)"),
              "range of the hidden activation"),
        Wrong(_FIX.replace("for W, b in layers[:-1]:", "for W, b in layers:")
              .replace("    W, b = layers[-1]\n    return Q @ W.T + b", "    return Q"),
              "range of the hidden activation"),
        Wrong(_FIX.replace("Q = h(Q @ W.T + b)", "Q = Q @ W.T + b"),
              "a linear function of the input"),
    ], right=[
        _FIX,
        "def mlp_forward(theta, layer_sizes, X, activation):\n"
        "    import scipy.special\n"
        "    acts = {'relu': lambda z: z * (z > 0), 'sigmoid': scipy.special.expit,"
        " 'tanh': np.tanh}\n"
        "    layers = vector_to_params(theta, layer_sizes)\n"
        "    Q = X\n"
        "    for l, (W, b) in enumerate(layers):\n"
        "        Z = np.einsum('ni,oi->no', Q, W) + b\n"
        "        Q = acts[activation](Z) if l < len(layers) - 1 else Z\n"
        "    return Q",
    ]),
    Item("max_network", points=2, kind="transfer", wrong=[
        Wrong("def max_network():\n"
              "    return [(np.eye(2), np.zeros(2)), (np.array([[1.0, 1.0]]), np.zeros(1))]",
              "work a few points"),
        Wrong("def max_network():\n"
              "    return [(np.array([[1.0, 0.0], [-1.0, 1.0]]), np.zeros(2)),\n"
              "            (np.array([[1.0, 1.0]]), np.zeros(1))]", "wrong where one is negative"),
        Wrong("def max_network():\n    return [(np.array([[0.5, 0.5]]), np.zeros(1))]",
              "without a hidden layer is linear"),
        Wrong("def max_network():\n    return np.array([2.0, 3.0, -1.0])", "not its outputs"),
    ], right=[
        "def max_network():\n"
        "    W1 = np.array([[1.0, 0.0], [-1.0, 0.0], [-1.0, 1.0]])\n"
        "    return [(W1, np.zeros(3)), (np.array([[1.0, -1.0, 1.0]]), np.zeros(1))]",
        "def max_network():\n"
        "    # (x1 + x2)/2 + |x1 - x2|/2, each signed quantity carried by two units\n"
        "    W1 = np.array([[1, 1], [-1, -1], [1, -1], [-1, 1]], dtype=float)\n"
        "    return [(W1, np.zeros(4)), (np.array([[0.5, -0.5, 0.5, 0.5]]), np.array([0.0]))]",
        "def max_network():\n"
        "    # a second hidden layer that passes the first through\n"
        "    W1 = np.array([[0.0, 1.0], [0.0, -1.0], [1.0, -1.0]])\n"
        "    return [(W1, np.zeros(3)), (np.eye(3), np.zeros(3)),\n"
        "            (np.array([[1.0, -1.0, 1.0]]), np.zeros(1))]",
    ]),
]


def test_the_table_covers_every_graded_item_of_the_exercise():
    E.assert_table(A, ITEMS)


def test_every_answer_in_the_notebook_path():
    """Each wrong answer scores 0 with its hint, each right answer full points (nbgrader's way)."""
    outcomes = E.notebook_scores(A, ITEMS)
    E.assert_outcomes(ITEMS, outcomes, "notebook")
    for key, outcome in outcomes.items():  # the hints shown obey the registry's rules
        assert not E.hint_problems(E.likely_bug(outcome.message)), (key, outcome.message)


@pytest.mark.slow
def test_every_answer_in_the_hardened_path(tmp_path):
    E.assert_outcomes(ITEMS, E.hardened_scores(A, ITEMS, tmp_path), "hardened")


def test_the_given_forward_pass_in_the_notebook_is_the_buggy_one():
    source = "".join(E.cell_source(c) for c in E.instructor(A)["cells"])
    assert ch03.BUGGY_MLP_FORWARD.replace(
        "def mlp_forward(", "def mlp_forward_given(").strip() in source


def test_the_written_answer_keeps_its_model_answer_and_rubric_private():
    E.assert_written_answers_private(A)
