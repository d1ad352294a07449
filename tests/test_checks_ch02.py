"""Exercise 2's checks: the reference passes, typical mistakes fail with a teaching hint."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad
from course_nn.grading import REGISTRY, CheckFailure, check
from course_nn.grading.checks import ch02
from course_nn.logistic import (
    BOOLEAN_WEIGHTS,
    binary_cross_entropy_with_logits,
    boolean_unit,
    logistic_grads,
    xnor_network,
    xor_network,
)
from tests.checking import assert_teaches

pytestmark = [pytest.mark.ch2, pytest.mark.grading]

REFERENCES = {
    "sigmoid": sigmoid,
    "relu": relu,
    "tanh": tanh,
    "sigmoid_grad": sigmoid_grad,
    "relu_grad": relu_grad,
    "tanh_grad": tanh_grad,
    "binary_cross_entropy_with_logits": binary_cross_entropy_with_logits,
    "logistic_grads": logistic_grads,
    # the Boolean checks' references are exact truth tables; our sigmoid units must pass them
    "boolean_and": lambda X: boolean_unit(X, *BOOLEAN_WEIGHTS["AND"]),
    "boolean_or": lambda X: boolean_unit(X, *BOOLEAN_WEIGHTS["OR"]),
    "boolean_nand": lambda X: boolean_unit(X, *BOOLEAN_WEIGHTS["NAND"]),
    "boolean_nor": lambda X: boolean_unit(X, *BOOLEAN_WEIGHTS["NOR"]),
    "boolean_not": lambda X: boolean_unit(X, *BOOLEAN_WEIGHTS["NOT"]),
    "xor_network": xor_network,
    "xnor_network": xnor_network,
}
BOOLEAN_CHECKS = [name for name in REFERENCES if name.startswith(("boolean_", "x"))]


def test_every_chapter_2_check_is_registered_with_its_reference():
    for name, func in REFERENCES.items():
        assert name in REGISTRY
        if name not in BOOLEAN_CHECKS:
            assert REGISTRY[name].reference is func


@pytest.mark.parametrize("name", BOOLEAN_CHECKS)
def test_boolean_references_are_exact_truth_tables(name):
    spec = REGISTRY[name]
    for case in spec.cases(hidden=False) + spec.cases(hidden=True, seed=4):
        table = spec.reference(*case.args)
        assert table.shape == (len(case.args[0]),)
        assert set(np.unique(table)) <= {0.0, 1.0}
    assert (spec.rtol, spec.atol) == (0.0, 0.1)


def test_hidden_cases_cover_the_edges():
    labels = " | ".join(c.label for c in REGISTRY["sigmoid"].cases(hidden=True, seed=0))
    assert "n = 1" in labels and "1e4" in labels and "zeros" in labels
    xs = np.concatenate([c.args[0].ravel() for c in REGISTRY["relu_grad"].cases(True, seed=0)])
    assert np.any(xs == 0.0) and np.any(xs >= 1000) and np.any(xs <= -1000)
    rows = [c.args[0] for c in REGISTRY["xor_network"].cases(True, seed=0)]
    assert any(len(X) == 1 for X in rows) and any(len(X) > 4 for X in rows)


def test_hidden_cases_are_random_but_replayable():
    spec = REGISTRY["logistic_grads"]
    a, b, c = spec.cases(True, seed=5), spec.cases(True, seed=5), spec.cases(True, seed=6)
    assert all(np.array_equal(x.args[0], y.args[0]) for x, y in zip(a, b, strict=True))
    assert not all(x.args[0].shape == y.args[0].shape and np.array_equal(x.args[0], y.args[0])
                   for x, y in zip(a, c, strict=True))


# --- typical wrong implementations --------------------------------------------------
def _quiet(f):
    """Run a (wrong) student formula the way a student would: overflow is not an error."""
    def wrapped(*args):
        with np.errstate(all="ignore"):
            return f(*args)
    return wrapped


def _bce_clipped(z, y):
    p = np.clip(sigmoid(z), 1e-15, 1 - 1e-15)
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _bce_naive(z, y):
    p = 1 / (1 + np.exp(-z))
    return float(-np.mean(y * np.log(p) + (1 - y) * np.log(1 - p)))


def _grads_with(dz_formula):
    def grads(X, y, w, b):
        dz = dz_formula(X @ w + b, y, len(y))
        return X.T @ dz, dz.sum()
    return grads


def _quotient_tanh(x):
    return (np.exp(x) - np.exp(-x)) / (np.exp(x) + np.exp(-x))


WRONG = [
    # activations
    ("sigmoid", lambda x: np.exp(x) / (1 + np.exp(x)), r"NaN \(inf/inf\) for x = 1000"),
    ("sigmoid", lambda x: 1 / (1 + np.exp(-x)) * (np.exp(-x) / np.exp(-x)),
     r"sigmoid overflows for huge \|x\|.*exp\(x\)/\(1\+exp\(x\)\) for negative x"),
    ("sigmoid", lambda x: 1 / (1 + np.exp(x)), r"you computed sigmoid\(-x\)"),
    ("sigmoid", np.tanh, "that is tanh"),
    ("relu", lambda x: (x > 0).astype(float), r"you returned the derivative 1\[x > 0\]"),
    ("relu", np.abs, r"not \|x\|"),
    ("relu", lambda x: np.minimum(x, 0), r"that is min\(0, x\)"),
    ("tanh", _quotient_tanh, r"tanh gives NaN for large \|x\|"),
    ("tanh", sigmoid, "that is the logistic sigmoid"),
    ("tanh", lambda x: 2 * sigmoid(x) - 1, r"tanh\(x/2\)"),
    ("sigmoid_grad", lambda x: x * (1 - x), r"derivative evaluated at h\(x\) instead of x"),
    ("sigmoid_grad", lambda x: sigmoid(sigmoid(x)) * (1 - sigmoid(sigmoid(x))),
     r"derivative evaluated at h\(x\) instead of x: you applied sigma twice"),
    ("sigmoid_grad", sigmoid, r"you returned sigma\(x\) itself"),
    ("sigmoid_grad", lambda x: np.exp(-x) / (1 + np.exp(-x)) ** 2, "overflows for x = -1000"),
    ("relu_grad", lambda x: (x >= 0).astype(float), r"relu_grad\(0\) should be 0"),
    ("relu_grad", lambda x: np.where(x == 0, 0.5, x > 0), r"should be 0, not 1/2"),
    ("relu_grad", relu, r"you returned relu\(x\) itself"),
    ("tanh_grad", lambda x: 1 - x**2, r"derivative evaluated at h\(x\) instead of x"),
    ("tanh_grad", lambda x: 1 - np.tanh(np.tanh(x)) ** 2, "you applied tanh twice"),
    ("tanh_grad", lambda x: 1 - np.tanh(x), "the square is missing"),
    ("tanh_grad", lambda x: 1 - _quotient_tanh(x) ** 2, "inf/inf = NaN for huge"),
    # log loss
    ("binary_cross_entropy_with_logits", _bce_naive, r"log\(sigmoid\(z\)\) is log\(0\)"),
    ("binary_cross_entropy_with_logits", _bce_clipped, "clipping p"),
    ("binary_cross_entropy_with_logits",
     lambda z, y: len(z) * binary_cross_entropy_with_logits(z, y), "you summed"),
    ("binary_cross_entropy_with_logits",
     lambda z, y: binary_cross_entropy_with_logits(-z, y), "the classes are swapped"),
    ("binary_cross_entropy_with_logits",
     lambda z, y: -binary_cross_entropy_with_logits(z, y), "the sign is flipped"),
    ("binary_cross_entropy_with_logits",
     lambda z, y: y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z), "return one number"),
    # gradients
    ("logistic_grads", _grads_with(lambda z, y, n: (y - sigmoid(z)) / n), "the sign is flipped"),
    ("logistic_grads", _grads_with(lambda z, y, n: sigmoid(z) - y), "divide dz by n"),
    ("logistic_grads", _grads_with(lambda z, y, n: (z - y) / n), "the sigmoid is missing"),
    ("logistic_grads", _grads_with(lambda z, y, n: (sigmoid(z) - y) * sigmoid_grad(z) / n),
     r"extra factor sigma'\(z\)"),
    ("logistic_grads", _grads_with(lambda z, y, n: 2 * (sigmoid(z) - y) / n), "a factor 2"),
    ("logistic_grads", lambda X, y, w, b: logistic_grads(X, y, w, b)[0], r"return a pair"),
    # Boolean units
    ("boolean_and", lambda X: boolean_unit(X, *BOOLEAN_WEIGHTS["OR"]),
     "round to the truth table of OR, not AND"),
    ("boolean_and", lambda X: boolean_unit(X, [2.0, 2.0], -3.0), "not within 0.1 of 0 or 1"),
    ("boolean_or", lambda X: boolean_unit(X, *BOOLEAN_WEIGHTS["NOR"]),
     r"truth table of NOR, not OR.*g\(-10 \+ 20 x1 \+ 20 x2\)"),
    ("boolean_nand", lambda X: boolean_unit(X, *BOOLEAN_WEIGHTS["AND"]),
     "truth table of AND, not NAND. negate AND's weights"),
    ("boolean_not", lambda X: boolean_unit(X, [20.0], -10.0), "the identity x, not NOT"),
    ("xor_network", lambda X: boolean_unit(X, *BOOLEAN_WEIGHTS["OR"]),
     "XOR is not linearly separable: one unit cannot do it; combine OR and NAND"),
    ("xor_network", xnor_network, "truth table of XNOR, not XOR"),
    ("xor_network", lambda X: xor_network(X)[:, None], r"shape \(4,\)"),
    ("xnor_network", xor_network, "XNOR is not linearly separable"),
]


@pytest.mark.parametrize(("name", "wrong", "hint"), WRONG, ids=[f"{n}-{h}" for n, _, h in WRONG])
def test_typical_mistakes_fail_with_their_hint(name, wrong, hint):
    assert_teaches(name, _quiet(wrong), hint)


def test_mistake_only_hidden_cases_catch_is_replayable():
    """A function that memorised the public truth table fails on hidden rows, with the seed."""
    def memorised(X):
        return np.array([0.0, 0.0, 0.0, 1.0])[: len(X)]
    check("boolean_and", memorised)
    with pytest.raises(CheckFailure, match=r"hidden case .*\[seed 3\][\s\S]*one unit does it"):
        check("boolean_and", memorised, hidden=True, seed=3)


def test_naive_but_correct_sigmoid_passes_with_a_note(capsys):
    """1/(1+exp(-x)) overflows to the right limit: correct values, the warning is shown."""
    check("sigmoid", lambda x: 1 / (1 + np.exp(-x)))
    assert "note: your function warned: RuntimeWarning: overflow" in capsys.readouterr().out


def test_in_place_relu_is_a_failure():
    def mutating(x):
        x[x < 0] = 0.0
        return x
    with pytest.raises(CheckFailure, match="modified its input in place"):
        check("relu", mutating)


def test_wrong_answers_without_a_known_cause_still_fail():
    with pytest.raises(CheckFailure, match="values differ") as info:
        check("sigmoid", lambda x: sigmoid(x) + 0.01)
    assert "likely bug" not in str(info.value)


def test_truth_tables_cover_every_function_the_hints_name():
    X = ch02.TRUTH_INPUTS
    tables = {name: tuple(f(X)) for name, f in ch02.TWO_INPUT_TABLES.items()}
    assert len(set(tables.values())) == len(tables)  # no two names share a table
    assert tables["XOR"] == (0, 1, 1, 0) and tables["AND"] == (0, 0, 0, 1)
