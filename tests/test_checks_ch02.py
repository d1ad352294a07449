"""Exercise 2's checks: references pass, typical mistakes fail with a hint that diagnoses
without dictating, and the exercise's items hold in both grading paths."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh_grad
from course_nn.grading import REGISTRY, CheckFailure, check
from course_nn.grading.checks import ch02
from course_nn.logistic import binary_cross_entropy_with_logits
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
    "tanh_unit_grads": ch02.tanh_unit_grads,
}
A = "ex02_activations"


def test_every_chapter_2_check_is_registered_with_its_reference():
    for name, func in REFERENCES.items():
        assert REGISTRY[name].reference is func
    for retired in ("tanh", "boolean_and", "boolean_or", "boolean_nand", "boolean_not",
                    "xor_network", "xnor_network", "logistic_grads"):
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
    for name, n_inputs in (("boolean_nor", 2), ("parity_network", 3)):
        spec = REGISTRY[name]
        (public,), (a,), (b,) = spec.cases(False), spec.cases(True, 3), spec.cases(True, 4)
        corners = ch02.corners_of(n_inputs)
        assert len(corners) == 2**n_inputs and len({tuple(c) for c in corners}) == 2**n_inputs
        for case in (public, a, b):
            assert case.args == () and case.probe.shape[1] == n_inputs
            assert np.array_equal(case.probe[:2**n_inputs], corners)
            assert np.all(np.abs(case.probe - np.round(case.probe)) <= 0.1)
        assert len(a.probe) > len(public.probe) and not np.array_equal(a.probe, b.probe)


def test_the_expected_structure_is_never_printed():
    """A failure message must not hand out the reference's weights."""
    with pytest.raises(CheckFailure) as info:
        check("parity_network", lambda: np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0]))
    message = str(info.value)
    assert "expected:" not in message, "a structure item shows no reference output at all"
    assert "40" not in message and "20" not in message


def test_a_table_instead_of_a_network_scores_zero():
    """The cheat of issue 10: the truth table, no network at all."""
    with pytest.raises(CheckFailure, match="not a sigmoid network") as info:
        check("boolean_nor", lambda: (np.array([[0.0, 0.0], [1.0, 1.0]]) == 0).astype(float))
    assert "return the parameters of a network" in str(info.value)


def test_a_network_right_only_at_the_corners_fails_near_them():
    """Logits that barely clear the threshold at the corners fail at points near them."""
    def fragile():  # sigma(2.5) is 0.92 at 00, but 0.08 away the steep weights switch it off
        return np.array([-100.0, -100.0]), 2.5
    with pytest.raises(CheckFailure, match="too far from zero") as info:
        check("boolean_nor", fragile)
    assert "right at the corners but not near them" in str(info.value)


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


def test_three_input_tables_are_distinct_and_parity_is_odd_count():
    X = ch02.corners_of(3)
    tables = {name: tuple(f(X)) for name, f in ch02.THREE_INPUT_TABLES.items()}
    assert len(set(tables.values())) == len(tables)
    assert tables["the parity of the three inputs"] == (0, 1, 1, 0, 1, 0, 0, 1)


def test_the_checks_store_no_answer_weights():
    """A student can import the registry: no structure check holds weights (the judge
    checks the truth table), and the package holds no NOR or parity weights."""
    import course_nn.logistic as logistic

    for name in ("boolean_nor", "parity_network"):
        assert REGISTRY[name].reference().params is None
    assert "NOR" not in logistic.BOOLEAN_WEIGHTS and not hasattr(logistic, "XNOR_PARAMS")
    assert not any(k.endswith("_PARAMS") for k in vars(ch02))


def test_the_given_gradient_disagrees_with_central_differences(rng):
    """The behaviour the task shows: the given gradient fails a finite-difference check,
    the reference passes it."""
    X, y, w, b = rng.normal(size=(8, 3)), rng.uniform(-0.9, 0.9, size=8), rng.normal(size=3), 0.3
    cost = lambda w, b: np.mean((np.tanh(X @ w + b) - y) ** 2)  # noqa: E731
    eps = 1e-6
    numeric = np.array([(cost(w + eps * e, b) - cost(w - eps * e, b)) / (2 * eps)
                        for e in np.eye(3)])
    assert np.allclose(ch02.tanh_unit_grads(X, y, w, b)[0], numeric, rtol=1e-6, atol=1e-9)
    assert not np.allclose(REGISTRY["tanh_unit_grads"].given(X, y, w, b)[0], numeric, rtol=1e-3)


# --- the exercise's items, each against typical wrong answers and alternative right ones ---
def _tanh(repair: str) -> str:
    """The given tanh gradient with its line for dz replaced."""
    return ch02.BUGGY_TANH_UNIT_GRADS.replace(
        "dz = 2 * (y_hat - y) * y_hat * (1 - y_hat) / n", repair)



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
    Item("tanh_unit_grads", points=2, kind="debugging", wrong=[
        Wrong(ch02.BUGGY_TANH_UNIT_GRADS, E.GIVEN),
        Wrong(_tanh("dz = 2 * (y_hat - y) / n"), "does not shrink"),
        Wrong(_tanh("dz = 2 * (y - y_hat) * (1 - y_hat ** 2) / n"),
              "points downhill"),
        Wrong(_tanh("dz = 2 * (y_hat - y) * (1 - y_hat ** 2)"),
              "grows with the number of samples"),
        Wrong(_tanh("z = X @ w + b\n    dz = 2 * (y_hat - y) * (1 - z ** 2) / n"),
              "logits are near zero"),
    ], right=[
        _tanh("dz = 2 * (y_hat - y) * (1 - y_hat ** 2) / n"),
        "def tanh_unit_grads(X, y, w, b):\n"
        "    z = np.einsum('np,p->n', X, w) + b\n"
        "    dz = 2 * (np.tanh(z) - y) / np.cosh(z) ** 2\n"
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
    Item("parity_network", points=2, kind="transfer", wrong=[
        Wrong("def parity_network():\n"
              "    W1 = np.array([[20.0, 20.0, 0.0], [-20.0, -20.0, 0.0]])\n"
              "    return [(W1, np.array([-10.0, 30.0])), (np.array([[20.0, 20.0]]), np.array([-30.0]))]",
              "computes XOR of the first two inputs"),
        Wrong("def parity_network():\n"
              "    return [(np.array([[20.0, 20.0, 20.0]]), np.array([-30.0]))]",
              "not linearly separable"),
        Wrong("def parity_network():\n    return np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 0.0, 1.0])",
              "not its outputs"),
        Wrong("def parity_network():\n"
              "    W1 = 4.0 * np.ones((3, 3))\n"
              "    return [(W1, -4.0 * np.array([0.5, 1.5, 2.5])),\n"
              "            (np.array([[8.0, -8.0, 8.0]]), np.array([-4.0]))]", "too far from zero"),
        Wrong("def parity_network():\n"
              "    W1 = np.array([[20.0, 20.0], [-20.0, -20.0]])\n"
              "    return [(W1, np.array([-10.0, 30.0])), (np.array([[20.0, 20.0]]), np.array([-30.0]))]",
              "does not fit"),
    ], right=[
        "def parity_network():\n"
        "    W1 = 40.0 * np.ones((3, 3))\n"
        "    b1 = -40.0 * np.array([0.5, 1.5, 2.5])\n"
        "    return [(W1, b1), (np.array([[40.0, -40.0, 40.0]]), np.array([-20.0]))]",
        "def parity_network():\n"
        "    # XOR of the first two, x3 carried along, then XOR of the two: four layers\n"
        "    return [\n"
        "        (np.array([[30.0, 30.0, 0.0], [-30.0, -30.0, 0.0], [0.0, 0.0, 40.0]]),\n"
        "         np.array([-15.0, 45.0, -20.0])),\n"
        "        (np.array([[30.0, 30.0, 0.0], [0.0, 0.0, 40.0]]), np.array([-45.0, -20.0])),\n"
        "        (np.array([[30.0, 30.0], [-30.0, -30.0]]), np.array([-15.0, 45.0])),\n"
        "        (np.array([[30.0, 30.0]]), np.array([-45.0])),\n"
        "    ]",
        "def parity_network():\n"
        "    # exactly one on, or all three: hidden 'at least k' units as lists\n"
        "    W1 = [[50, 50, 50], [50, 50, 50], [50, 50, 50], [0, 0, 0]]\n"
        "    b1 = [-25, -75, -125, -30]\n"
        "    return [(np.array(W1, float), np.array(b1, float)),\n"
        "            (np.array([[50.0, -50.0, 50.0, 7.0]]), np.array([-25.0]))]",
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
    assert ch02.BUGGY_TANH_UNIT_GRADS.replace(
        "def tanh_unit_grads(", "def tanh_unit_grads_given(").strip() in source


def test_the_repair_target_is_not_printed_by_the_book():
    """The book shows no tanh unit's gradient, so the bug is found from behaviour."""
    import json
    from pathlib import Path

    book = Path(__file__).resolve().parents[1] / "book"
    text = "".join("".join(cell["source"]) for path in sorted(book.glob("ch*.ipynb"))
                   for cell in json.loads(path.read_text())["cells"])
    assert "tanh_unit_grads" not in text


def test_the_written_answer_keeps_its_model_answer_and_rubric_private():
    E.assert_written_answers_private(A)
