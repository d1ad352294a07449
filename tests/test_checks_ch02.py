"""Exercise 2's checks: references pass, typical mistakes fail with a hint that diagnoses
without dictating, and the exercise's items hold in both grading paths."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh_grad
from course_nn.grading import REGISTRY, CheckFailure, check
from course_nn.grading.checks import ch02
from course_nn.logistic import XNOR_PARAMS, binary_cross_entropy_with_logits, logistic_grads
from tests import exercise_items as E
from tests.exercise_items import Item, Wrong

pytestmark = [pytest.mark.ch2, pytest.mark.grading]

REFERENCES = {
    "sigmoid": sigmoid,
    "relu": relu,
    "sigmoid_grad": sigmoid_grad,
    "relu_grad": relu_grad,
    "tanh_grad": tanh_grad,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "logistic_grads": logistic_grads,
}
A = "ex02_activations"


def test_every_chapter_2_check_is_registered_with_its_reference():
    for name, func in REFERENCES.items():
        assert REGISTRY[name].reference is func
    for retired in ("tanh", "boolean_and", "boolean_or", "boolean_nand", "boolean_not",
                    "xor_network"):
        assert retired not in REGISTRY, "no exercise uses it"


def test_stability_is_graded_where_the_task_promises_it():
    promised = {"sigmoid", "sigmoid_grad", "binary_cross_entropy_with_logits"}
    assert {n for n in REFERENCES if REGISTRY[n].float_errors} == promised


def test_hidden_cases_cover_the_edges():
    labels = " | ".join(c.label for c in REGISTRY["sigmoid"].cases(hidden=True, seed=0))
    assert "n = 1" in labels and "1e4" in labels and "zeros" in labels
    xs = np.concatenate([c.args[0].ravel() for c in REGISTRY["relu_grad"].cases(True, seed=0)])
    assert np.any(xs == 0.0) and np.any(xs >= 1000) and np.any(xs <= -1000)


def test_structure_probes_are_corners_and_random_points_near_them():
    for name in ("boolean_nor", "xnor_network"):
        spec = REGISTRY[name]
        (public,), (a,), (b,) = spec.cases(False), spec.cases(True, 3), spec.cases(True, 4)
        for case in (public, a, b):
            assert case.args == ()
            assert np.array_equal(case.probe[:4], ch02.CORNERS)
            assert np.all(np.abs(case.probe - np.round(case.probe)) <= 0.1)
        assert len(a.probe) > len(public.probe) and not np.array_equal(a.probe, b.probe)


def test_the_expected_structure_is_never_printed():
    """A failure message must not hand out the reference's weights."""
    with pytest.raises(CheckFailure) as info:
        check("xnor_network", lambda: np.array([1.0, 0.0, 0.0, 1.0]))
    message = str(info.value)
    assert "expected:" not in message, "a structure item shows no reference output at all"
    assert "20" not in message and "-30" not in message


def test_a_table_instead_of_a_network_scores_zero():
    """The cheat of issue 10: the truth table, no network at all."""
    with pytest.raises(CheckFailure, match="not a sigmoid network") as info:
        check("xnor_network", lambda: (np.array([[0.0, 0.0], [1.0, 1.0]]) == 0).astype(float))
    assert "return the parameters of a network" in str(info.value)


def test_a_network_right_only_at_the_corners_fails_near_them():
    """Logits that barely clear the threshold at the corners fail at points near them."""
    def fragile():  # the AND unit sits just above its threshold at 11 and drops below nearby
        return [(np.array([[100.0, 100.0], [-20.0, -20.0]]), np.array([-199.4, 10.0])),
                (np.array([[20.0, 20.0]]), np.array([-10.0]))]
    with pytest.raises(CheckFailure, match="too far from zero"):
        check("xnor_network", fragile)


def test_a_naive_sigmoid_fails_and_names_the_overflow():
    """1/(1+exp(-x)) returns the right numbers; the overflow on the way is the mistake."""
    with pytest.raises(CheckFailure, match="overflow") as info:
        check("sigmoid", lambda x: 1 / (1 + np.exp(-np.asarray(x, dtype=float))))
    assert "FloatingPointError" in str(info.value)


def test_in_place_relu_is_a_failure():
    def mutating(x):
        x[x < 0] = 0.0
        return x
    with pytest.raises(CheckFailure, match="modified its input x in place"):
        check("relu", mutating)


def test_wrong_answers_without_a_known_cause_still_fail():
    with pytest.raises(CheckFailure, match="values differ") as info:
        check("sigmoid", lambda x: sigmoid(x) + 0.01)
    assert "likely bug" not in str(info.value)


def test_truth_tables_cover_every_function_the_hints_name():
    X = ch02.CORNERS
    tables = {name: tuple(f(X)) for name, f in ch02.TWO_INPUT_TABLES.items()}
    assert len(set(tables.values())) == len(tables) == 16  # every function of two inputs
    assert tables["XNOR"] == (1, 0, 0, 1) and tables["NOR"] == (1, 0, 0, 0)


def test_the_reference_network_computes_xnor_near_the_corners(rng):
    X = ch02._probe(rng, 2, 200)
    out = ch02.network_outputs(XNOR_PARAMS, X)
    assert np.all(np.abs(out - ch02.TWO_INPUT_TABLES["XNOR"](np.round(X))) <= 0.1)


# --- the exercise's items, each against typical wrong answers and alternative right ones ---
ITEMS = [
    Item("sigmoid", points=2, kind="implement", wrong=[
        Wrong("def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
              "    return 1 / (1 + np.exp(-x))", "overflow"),
        Wrong("def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
              "    return np.where(x >= 0, 1 / (1 + np.exp(-x)), np.exp(x) / (1 + np.exp(x)))",
              "overflow"),
        Wrong("def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
              "    e = np.exp(-np.abs(x))\n    return np.where(x >= 0, e / (1 + e), 1 / (1 + e))",
              "sign in the exponent is reversed"),
        Wrong("def sigmoid(x):\n    return np.tanh(x)", "hyperbolic tangent"),
    ], right=[
        "def sigmoid(x):\n    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x, dtype=float)))",
        "def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n    out = np.empty_like(x)\n"
        "    pos = x >= 0\n    out[pos] = 1 / (1 + np.exp(-x[pos]))\n"
        "    e = np.exp(x[~pos])\n    out[~pos] = e / (1 + e)\n    return out",
        "import scipy.special\n\ndef sigmoid(x):\n    return scipy.special.expit(x)",
    ]),
    Item("relu", points=1, kind="implement", wrong=[
        Wrong("def relu(x):\n    return (np.asarray(x) > 0).astype(float)", "not the activation"),
        Wrong("def relu(x):\n    return np.abs(x)", "not their magnitude"),
        Wrong("def relu(x):\n    return np.minimum(x, 0.0)", "the opposite half"),
    ], right=[
        "def relu(x):\n    return np.maximum(np.asarray(x, dtype=float), 0.0)",
        "def relu(x):\n    x = np.asarray(x, dtype=float)\n    return x * (x > 0)",
    ]),
    Item("sigmoid_grad", points=1, kind="implement", wrong=[
        Wrong("def sigmoid_grad(x):\n    return x * (1 - x)", "output instead of its input"),
        Wrong("def sigmoid_grad(x):\n    s = sigmoid(sigmoid(x))\n    return s * (1 - s)",
              "applied twice"),
        Wrong("def sigmoid_grad(x):\n    return sigmoid(x)", "at most a quarter"),
        Wrong("def sigmoid_grad(x):\n    x = np.asarray(x, dtype=float)\n"
              "    return np.exp(-x) / (1 + np.exp(-x)) ** 2", "overflow"),
    ], right=[
        "def sigmoid_grad(x):\n    return sigmoid(x) * sigmoid(-np.asarray(x, dtype=float))",
        "def sigmoid_grad(x):\n    e = np.exp(-np.abs(np.asarray(x, dtype=float)))\n"
        "    return e / (1 + e) ** 2",
    ]),
    Item("relu_grad", points=1, kind="implement", wrong=[
        Wrong("def relu_grad(x):\n    return (np.asarray(x) >= 0).astype(float)",
              "at exactly zero"),
        Wrong("def relu_grad(x):\n    x = np.asarray(x)\n"
              "    return np.where(x == 0, 0.5, (x > 0).astype(float))", "not one half"),
        Wrong("def relu_grad(x):\n    return np.maximum(x, 0.0)", "activation itself"),
        Wrong("def relu_grad(x):\n    return np.asarray(x) > 0", "truth values"),
    ], right=[
        "def relu_grad(x):\n    return np.heaviside(np.asarray(x, dtype=float), 0.0)",
        "def relu_grad(x):\n    return np.where(np.asarray(x) > 0, 1.0, 0.0)",
        "def relu_grad(x):\n    return (np.asarray(x) > 0).astype(int)",  # integers are numbers
    ]),
    Item("tanh_grad", points=1, kind="implement", wrong=[
        Wrong("def tanh_grad(x):\n    return 1 - np.asarray(x, dtype=float) ** 2",
              "output instead of its input"),
        Wrong("def tanh_grad(x):\n    return 1 - np.tanh(np.tanh(x)) ** 2", "applied twice"),
        Wrong("def tanh_grad(x):\n    return 1 - np.tanh(x)", "the square is missing"),
        Wrong("def tanh_grad(x):\n    x = np.asarray(x, dtype=float)\n"
              "    with np.errstate(all='ignore'):\n"
              "        t = (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))\n"
              "    return 1 - t ** 2", "not finite"),
    ], right=[
        "def tanh_grad(x):\n    return 1 / np.cosh(np.clip(x, -300, 300)) ** 2",
        "def tanh_grad(x):\n    s = sigmoid(2 * np.asarray(x, dtype=float))\n"
        "    return 4 * s * (1 - s)",
    ]),
    Item("binary_cross_entropy_with_logits", points=2, kind="implement", wrong=[
        Wrong("def binary_cross_entropy_with_logits(z, y):\n    p = sigmoid(z)\n"
              "    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))",
              "overflow"),
        Wrong("def binary_cross_entropy_with_logits(z, y):\n"
              "    p = np.clip(sigmoid(z), 1e-15, 1 - 1e-15)\n"
              "    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))",
              "clipping the probability"),
        Wrong("def binary_cross_entropy_with_logits(z, y):\n"
              "    return float(np.sum(y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)))",
              "summed the per-sample losses"),
        Wrong("def binary_cross_entropy_with_logits(z, y):\n"
              "    return float(np.mean(y * np.logaddexp(0, z) + (1 - y) * np.logaddexp(0, -z)))",
              "classes are swapped"),
        Wrong("def binary_cross_entropy_with_logits(z, y):\n"
              "    return float(np.mean(np.log1p(np.exp(-z)) + (1 - y) * z))", "overflow"),
    ], right=[
        "def binary_cross_entropy_with_logits(z, y):\n"
        "    z, y = np.asarray(z, dtype=float), np.asarray(y, dtype=float)\n"
        "    return float(np.mean(np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))))",
        "import scipy.special\n\ndef binary_cross_entropy_with_logits(z, y):\n"
        "    return float(np.mean(scipy.special.logsumexp(\n"
        "        np.stack([np.zeros_like(z), -z]), axis=0) + (1 - y) * z))",
    ]),
    Item("logistic_by_hand", points=2, kind="by-hand", wrong=[
        Wrong("def logistic_by_hand():\n    return -0.5, 0.6225, 0.4741, [0.3775, 1.1326]",
              "probability of class zero"),
        Wrong("def logistic_by_hand():\n    return -0.5, 0.3775, 0.4230, [-0.6225, -1.8674]",
              "natural logarithm"),
        Wrong("def logistic_by_hand():\n    return -0.5, 0.3775, 0.9741, [0.6225, 1.8674]",
              "wrong sign"),
        Wrong("def logistic_by_hand():\n    return -0.5, 0.3775, 0.9741, [-0.1463, -0.4389]",
              "the sigmoid's slope"),
        Wrong("def logistic_by_hand():\n    return 0.5, 0.6225, 0.4741, [-0.3775, -1.1326]",
              "the logit is off"),
    ], right=[
        "def logistic_by_hand():\n    return -0.5, 0.3775, 0.9741, [-0.6225, -1.8674]",
        "def logistic_by_hand():\n    y_hat = 1 / (1 + np.exp(0.5))\n"
        "    return -1 / 2, y_hat, -np.log(y_hat), (y_hat - 1) * np.array([1, 3])",
    ]),
    Item("logistic_grads", points=2, kind="debugging", wrong=[
        Wrong(ch02.BUGGY_LOGISTIC_GRADS, E.GIVEN),
        Wrong(ch02.BUGGY_LOGISTIC_GRADS.replace("dz = (p - y) * p * (1 - p) / n", "dz = p - y"),
              "grows with the number of samples"),
        Wrong(ch02.BUGGY_LOGISTIC_GRADS.replace("dz = (p - y) * p * (1 - p) / n",
                                                "dz = (y - p) / n"), "points downhill"),
        Wrong(ch02.BUGGY_LOGISTIC_GRADS.replace("dz = (p - y) * p * (1 - p) / n",
                                                "dz = (z - y) / n"), "certain and right"),
    ], right=[
        ch02.BUGGY_LOGISTIC_GRADS.replace("dz = (p - y) * p * (1 - p) / n", "dz = (p - y) / n"),
        "def logistic_grads(X, y, w, b):\n"
        "    dz = sigmoid(np.einsum('np,p->n', X, w) + b) - y\n"
        "    return np.einsum('n,np->p', dz, X) / len(y), np.mean(dz)",
    ]),
    Item("boolean_nor", points=1, kind="implement", wrong=[
        Wrong("def boolean_nor():\n    return np.array([20.0, 20.0]), -10.0", "computes OR"),
        Wrong("def boolean_nor():\n    return np.array([-2.0, -2.0]), 1.0", "too far from zero"),
        Wrong("def boolean_nor():\n    return np.array([1.0, 0.0, 0.0, 0.0])",
              "not its outputs"),
        Wrong("def boolean_nor():\n    return np.array([-20.0, -20.0]), 30.0", "computes NAND"),
    ], right=[
        "def boolean_nor():\n    return [-20, -20], 10",
        "def boolean_nor():\n    return np.array([[-40.0, -40.0]]), np.array([20.0])",
    ]),
    Item("xnor_network", points=2, kind="transfer", wrong=[
        Wrong("def xnor_network():\n    return [(np.array([[20.0, 20.0], [-20.0, -20.0]]),"
              " np.array([-10.0, 30.0])),\n"
              "            (np.array([[20.0, 20.0]]), np.array([-30.0]))]", "computes XOR"),
        Wrong("def xnor_network():\n    return [(np.array([[20.0, 20.0]]), np.array([-30.0]))]",
              "not linearly separable"),
        Wrong("def xnor_network():\n    return np.array([1.0, 0.0, 0.0, 1.0])",
              "not its outputs"),
        Wrong("def xnor_network():\n    return [(np.array([[100.0, 100.0], [-20.0, -20.0]]),"
              " np.array([-199.4, 10.0])),\n"
              "            (np.array([[20.0, 20.0]]), np.array([-10.0]))]", "too far from zero"),
    ], right=[
        "def xnor_network():\n    W1 = np.array([[20.0, 20.0], [-20.0, -20.0]])\n"
        "    return [(W1, np.array([-30.0, 10.0])), (np.array([[20.0, 20.0]]), np.array([-10.0]))]",
        "def xnor_network():\n    # NOT XOR: hidden OR and NAND, output NAND of the two\n"
        "    return [(np.array([[30.0, 30.0], [-30.0, -30.0]]), np.array([-15.0, 45.0])),\n"
        "            (np.array([[-30.0, -30.0]]), np.array([45.0]))]",
        "def xnor_network():\n    # three hidden units: AND, NOR and a unit that is always off\n"
        "    W1 = np.array([[20.0, 20.0], [-20.0, -20.0], [0.0, 0.0]])\n"
        "    return [(W1, np.array([-30.0, 10.0, -20.0])),\n"
        "            (np.array([[20.0, 20.0, 5.0]]), np.array([-10.0]))]",
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


def test_the_given_gradient_in_the_notebook_is_the_buggy_one():
    source = "".join(E.cell_source(c) for c in E.instructor(A)["cells"])
    assert ch02.BUGGY_LOGISTIC_GRADS.replace(
        "def logistic_grads(", "def logistic_grads_given(").strip() in source


def test_the_written_answer_keeps_its_model_answer_and_rubric_private():
    E.assert_written_answers_private(A)
