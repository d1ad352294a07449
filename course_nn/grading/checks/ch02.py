"""Checks for exercise 2, activations and generalised linear models (book chapter 2).

Graded functions: ``sigmoid``, ``relu``, ``tanh``, ``sigmoid_grad``, ``relu_grad``,
``tanh_grad``, ``binary_cross_entropy_with_logits``, ``logistic_grads``, and Boolean
functions of 0/1 inputs built from sigmoid units: ``boolean_and``, ``boolean_or``,
``boolean_nand``, ``boolean_nor``, ``boolean_not``, ``xor_network``, ``xnor_network``.

A Boolean check's reference is the exact truth table, and any output within 0.1 of
it passes (a sigmoid unit never reaches 0 or 1 exactly).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_nn.activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh, tanh_grad
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.core import Case, Check, register
from course_nn.logistic import binary_cross_entropy_with_logits, logistic_grads

#: Inputs that break naive formulas: exp(1000) is inf in float64.
HUGE = np.array([-1e4, -1000.0, -710.0, -40.0, 0.0, 40.0, 710.0, 1000.0, 1e4])


def _got(got, shape) -> np.ndarray | None:
    """The student's output as floats if it has the expected shape, else None."""
    try:
        g = to_float_array(got)
    except (TypeError, ValueError):
        return None
    return g if g.shape == shape else None


def _matches(got, expected, alternative) -> bool:
    """Does ``got`` equal the output of a known wrong formula (NaN where it is NaN)?"""
    g = _got(got, np.shape(expected))
    with np.errstate(all="ignore"):
        alt = np.asarray(alternative, dtype=np.float64)
    return g is not None and alt.shape == g.shape and bool(
        np.allclose(g, alt, rtol=1e-6, atol=1e-8, equal_nan=True))


def _quietly(formula: Callable[[np.ndarray], np.ndarray]) -> Callable[[np.ndarray], np.ndarray]:
    """A wrong formula evaluated as the student would, overflow warnings silenced."""
    def wrong(x):
        with np.errstate(all="ignore"):
            return formula(np.asarray(x, dtype=np.float64))
    return wrong


def _formula_hint(formula, advice: str):
    """A hint that fires when the student's output is ``formula(x)``."""
    wrong = _quietly(formula)

    def hint(case, expected, got):
        return advice if _matches(got, expected, wrong(case.args[0])) else None
    return hint


def _nan_hint(advice: str):
    """A hint that fires when the student returns NaN/inf for some huge input."""
    def hint(case, expected, got):
        g = _got(got, np.shape(expected))
        return advice if g is not None and not np.all(np.isfinite(g)) else None
    return hint


# --- activations: shared cases --------------------------------------------------------
def _activation_public():
    return [
        Case((np.array([-2.0, -0.5, 0.0, 0.5, 2.0]),), "a few points around 0"),
        Case((np.array([[1.0, -1.0, 3.0], [0.0, -3.0, 0.25]]),), "a 2-D array, element-wise"),
        Case((np.array([-1000.0, -40.0, 0.0, 40.0, 1000.0]),),
             "huge inputs: the result must be finite, without overflow"),
    ]


def _activation_hidden(rng):
    cases = [
        Case((rng.normal(scale=3.0, size=1),), "n = 1"),
        Case((HUGE.copy(),), "huge inputs +-710, +-1000, +-1e4"),
        Case((-HUGE[::-1].reshape(3, 3),), "huge inputs in a 2-D array"),
        Case((np.zeros((2, 3)),), "all zeros (ReLU's kink)"),
    ]
    for _ in range(4):
        shape = tuple(int(s) for s in rng.integers(1, 9, size=int(rng.integers(1, 3))))
        x = rng.normal(scale=float(rng.choice([1.0, 5.0, 50.0])), size=shape)
        x.flat[0] = 0.0  # every case touches 0, where relu_grad is easy to get wrong
        cases.append(Case((x,), f"random values, shape {shape}"))
    return cases


def _register_activation(name, reference, hints):
    register(Check(
        name=name,
        reference=reference,
        public_cases=_activation_public,
        hidden_cases=_activation_hidden,
        arg_names=("x",),
        hints=tuple(hints),
    ))


_register_activation("sigmoid", sigmoid, [
    _formula_hint(lambda x: np.exp(x) / (1 + np.exp(x)),
                  "sigmoid gives NaN (inf/inf) for x = 1000: exp(x)/(1+exp(x)) overflows for "
                  "large positive x; use 1/(1+exp(-x)) for x >= 0 and exp(x)/(1+exp(x)) only "
                  "for x < 0"),
    _nan_hint("sigmoid overflows for huge |x| (x = -1000 makes exp(-x) infinite): use "
              "exp(x)/(1+exp(x)) for negative x and 1/(1+exp(-x)) for the others, so exp only "
              "ever sees -|x|"),
    _formula_hint(lambda x: 1 / (1 + np.exp(x)),
                  "you computed sigmoid(-x): the sign in the exponent is 1/(1+exp(-x))"),
    _formula_hint(np.tanh, "that is tanh, not the logistic sigmoid 1/(1+exp(-x))"),
])

_register_activation("relu", relu, [
    _formula_hint(lambda x: (x > 0).astype(float),
                  "you returned the derivative 1[x > 0]; relu is max(0, x)"),
    _formula_hint(np.abs, "negative inputs must give 0, not |x|: relu is max(0, x)"),
    _formula_hint(lambda x: np.minimum(x, 0), "that is min(0, x); relu is max(0, x)"),
])

_register_activation("tanh", tanh, [
    _nan_hint("tanh gives NaN for large |x|: (e^x - e^-x)/(e^x + e^-x) overflows to inf/inf; "
              "use np.tanh, or 2*sigmoid(2x) - 1 with a stable sigmoid"),
    _formula_hint(lambda x: 1 / (1 + np.exp(-x)),
                  "that is the logistic sigmoid; tanh(x) = 2*sigmoid(2x) - 1"),
    _formula_hint(lambda x: 2 / (1 + np.exp(-x)) - 1,
                  "2*sigmoid(x) - 1 is tanh(x/2): use 2*sigmoid(2x) - 1"),
])


_register_activation("sigmoid_grad", sigmoid_grad, [
    _formula_hint(lambda x: x * (1 - x),
                  "derivative evaluated at h(x) instead of x: you computed x(1-x), but "
                  "sigma'(x) = sigma(x)(1 - sigma(x)); compute sigma(x) first"),
    _formula_hint(lambda x: sigmoid_grad(sigmoid(x)),
                  "derivative evaluated at h(x) instead of x: you applied sigma twice; "
                  "sigma'(x) = sigma(x)(1 - sigma(x))"),
    _formula_hint(sigmoid,
                  "you returned sigma(x) itself; its derivative is sigma(x)(1 - sigma(x))"),
    _nan_hint("sigma'(x) = e^-x / (1 + e^-x)^2 overflows for x = -1000 (inf/inf): compute "
              "sigma(x)(1 - sigma(x)) with a stable sigmoid"),
])

_register_activation("relu_grad", relu_grad, [
    _formula_hint(lambda x: (x >= 0).astype(float),
                  "relu_grad(0) should be 0: use 1[x > 0] (strictly greater), as PyTorch does"),
    _formula_hint(lambda x: np.where(x == 0, 0.5, (x > 0).astype(float)),
                  "relu_grad(0) should be 0, not 1/2: use 1[x > 0]"),
    _formula_hint(lambda x: np.maximum(x, 0),
                  "you returned relu(x) itself; its derivative is 1 where x > 0, else 0"),
])

_register_activation("tanh_grad", tanh_grad, [
    _formula_hint(lambda x: 1 - x**2,
                  "derivative evaluated at h(x) instead of x: you computed 1 - x^2, but "
                  "tanh'(x) = 1 - tanh(x)^2"),
    _formula_hint(lambda x: 1 - np.tanh(np.tanh(x)) ** 2,
                  "derivative evaluated at h(x) instead of x: you applied tanh twice; "
                  "tanh'(x) = 1 - tanh(x)^2"),
    _formula_hint(lambda x: 1 - np.tanh(x),
                  "the square is missing: tanh'(x) = 1 - tanh(x)^2"),
    _nan_hint("tanh as (e^x - e^-x)/(e^x + e^-x) gives inf/inf = NaN for huge |x|: compute "
              "1 - tanh(x)^2 with np.tanh"),
])


# --- binary_cross_entropy_with_logits --------------------------------------------------
def _bce_public():
    return [
        Case((np.array([2.0, -1.0, 0.5]), np.array([1.0, 0.0, 0.0])), "three logits"),
        Case((np.array([0.0]), np.array([1.0])), "n = 1, logit 0: loss ln 2"),
        Case((np.array([1000.0, -1000.0, 1000.0]), np.array([1.0, 0.0, 0.0])),
             "huge logits: right ones cost 0, a wrong one costs 1000"),
    ]


def _bce_hidden(rng):
    cases = []
    for n in (1, 2, int(rng.integers(3, 50)), int(rng.integers(50, 200))):
        z = rng.normal(scale=float(rng.choice([1.0, 4.0])), size=n)
        cases.append(Case((z, rng.integers(0, 2, size=n).astype(float)), f"n = {n}"))
    z = rng.choice([-1e4, -1000.0, 1000.0, 1e4], size=8)
    cases.append(Case((z, (rng.random(8) < 0.5).astype(float)), "huge logits +-1000, +-1e4"))
    cases.append(Case((np.array([1e4, -1e4]), np.array([1.0, 0.0])), "certain and right: 0"))
    return cases


def _hint_bce(case, expected, got):
    z, y = case.args
    try:
        g = to_float_array(got)
    except (TypeError, ValueError):
        return None
    if g.size != 1:
        return "return one number: the mean of the per-sample losses"
    g = float(g.reshape(()))
    huge = np.max(np.abs(z)) > 30
    if not np.isfinite(g) and huge:
        return ("log(sigmoid(z)) is log(0) = -inf for huge logits (and 0 * -inf = NaN): "
                "compute the loss from z, e.g. np.logaddexp(0, z) - y*z")
    per_sample = y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)
    swapped = y * np.logaddexp(0, z) + (1 - y) * np.logaddexp(0, -z)
    if z.size > 1 and np.isclose(g, per_sample.sum()):
        return "you summed the per-sample losses; the loss is their mean"
    if np.isclose(g, swapped.mean()):
        return "the classes are swapped: sigma(z) is the probability of y = 1"
    if np.isclose(g, -per_sample.mean()):
        return "the sign is flipped: the log loss is -(y log p + (1-y) log(1-p)) >= 0"
    if huge and g < expected:
        return ("too small for huge logits: clipping p (or a sigmoid rounded to 0 or 1) caps "
                "the cost of a confident wrong answer; compute the loss from z with "
                "np.logaddexp(0, z) - y*z")
    return None


register(Check(
    name="binary_cross_entropy_with_logits",
    reference=binary_cross_entropy_with_logits,
    public_cases=_bce_public,
    hidden_cases=_bce_hidden,
    arg_names=("z", "y"),
    hints=(_hint_bce,),
))


# --- logistic_grads -------------------------------------------------------------------
def _grads_public():
    X = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])
    return [
        Case((X, np.array([1.0, 0.0, 1.0]), np.array([0.5, -0.25]), np.array(0.1)),
             "three samples, two features"),
        Case((np.array([[2.0]]), np.array([0.0]), np.array([1.0]), np.array(-1.0)),
             "n = 1, p = 1"),
    ]


def _grads_hidden(rng):
    cases = []
    for n, p in [(1, 3), (5, 1), (int(rng.integers(2, 60)), int(rng.integers(1, 6))),
                 (int(rng.integers(2, 60)), int(rng.integers(1, 6)))]:
        X = rng.normal(size=(n, p))
        y = rng.integers(0, 2, size=n).astype(float)
        cases.append(Case((X, y, rng.normal(size=p), np.asarray(rng.normal())), f"n={n}, p={p}"))
    X = rng.normal(size=(6, 2))
    cases.append(Case((X, np.ones(6), np.array([500.0, -500.0]), np.asarray(0.0)),
                      "huge logits: sigma saturates at 0 or 1"))
    return cases


def _grads_of(case, dz_formula):
    """(dw, db) with a (possibly wrong) dz per sample."""
    X, y, w, b = case.args
    with np.errstate(all="ignore"):
        dz = dz_formula(X @ w + b, y)
    return X.T @ dz, dz.sum()


def _hint_logistic_grads(case, expected, got):
    parts = flatten_output(got)
    if len(parts) != 2:
        return "return a pair (dw, db): the gradient for the weights and for the offset"
    n = case.args[0].shape[0]
    wrong = [
        (lambda z, y: (y - sigmoid(z)) / n,
         "the sign is flipped: dz = sigma(z) - y (prediction minus truth), not y - sigma(z)"),
        (lambda z, y: sigmoid(z) - y,
         "you summed over the samples; the loss is a mean, so divide dz by n"),
        (lambda z, y: (z - y) / n,
         "the sigmoid is missing: dz = sigma(z) - y, not z - y (that is linear regression)"),
        (lambda z, y: (sigmoid(z) - y) * sigmoid_grad(z) / n,
         "extra factor sigma'(z): for the log loss it cancels, dz = sigma(z) - y"),
        (lambda z, y: 2 * (sigmoid(z) - y) / n,
         "a factor 2 too many: that belongs to the squared error, not the log loss"),
    ]
    for dz_formula, advice in wrong:
        alt = _grads_of(case, dz_formula)
        if all(_matches(g, a, a) for g, a in zip(parts, alt, strict=True)):
            return advice
    return None


register(Check(
    name="logistic_grads",
    reference=logistic_grads,
    public_cases=_grads_public,
    hidden_cases=_grads_hidden,
    arg_names=("X", "y", "w", "b"),
    hints=(_hint_logistic_grads,),
))


# --- Boolean functions of 0/1 inputs ---------------------------------------------------
TRUTH_INPUTS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])

#: Every Boolean function the hints can recognise, as a function of X (n, 2) of 0/1.
TWO_INPUT_TABLES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "AND": lambda X: X[:, 0] * X[:, 1],
    "OR": lambda X: np.maximum(X[:, 0], X[:, 1]),
    "NAND": lambda X: 1 - X[:, 0] * X[:, 1],
    "NOR": lambda X: 1 - np.maximum(X[:, 0], X[:, 1]),
    "XOR": lambda X: np.abs(X[:, 0] - X[:, 1]),
    "XNOR": lambda X: 1 - np.abs(X[:, 0] - X[:, 1]),
    "x1 (the first input)": lambda X: X[:, 0],
    "x2 (the second input)": lambda X: X[:, 1],
    "NOT x1": lambda X: 1 - X[:, 0],
    "NOT x2": lambda X: 1 - X[:, 1],
    "x1 AND NOT x2": lambda X: X[:, 0] * (1 - X[:, 1]),
    "x2 AND NOT x1": lambda X: X[:, 1] * (1 - X[:, 0]),
    "the constant 0": lambda X: np.zeros(len(X)),
    "the constant 1": lambda X: np.ones(len(X)),
}

ONE_INPUT_TABLES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "NOT": lambda X: 1 - X[:, 0],
    "the identity x": lambda X: X[:, 0],
    "the constant 0": lambda X: np.zeros(len(X)),
    "the constant 1": lambda X: np.ones(len(X)),
}

#: Advice when the target is not computed; why (and how) it can be.
BOOLEAN_ADVICE = {
    "AND": "one unit does it, g(-30 + 20 x1 + 20 x2): only both inputs on beat the bias",
    "OR": "one unit does it, g(-10 + 20 x1 + 20 x2): either input alone beats the bias",
    "NAND": "negate AND's weights and bias: g(30 - 20 x1 - 20 x2)",
    "NOR": "negate OR's weights and bias: g(10 - 20 x1 - 20 x2)",
    "NOT": "one unit does it, g(10 - 20 x): a negative weight flips the input",
    "XOR": ("XOR is not linearly separable: one unit cannot do it; combine OR and NAND in a "
            "hidden layer and feed both to an AND unit"),
    "XNOR": ("XNOR is not linearly separable: one unit cannot do it; combine AND and NOR in a "
             "hidden layer and feed both to an OR unit"),
}


def _boolean_reference(table: Callable[[np.ndarray], np.ndarray]):
    """The reference: the exact truth table (0.0 or 1.0 per row of X)."""
    def reference(X):
        return table(np.asarray(X, dtype=np.float64)).astype(np.float64)
    return reference


def _boolean_public(n_inputs: int):
    def cases():
        X = TRUTH_INPUTS if n_inputs == 2 else np.array([[0.0], [1.0]])
        return [Case((X.copy(),), "the whole truth table, one input combination per row")]
    return cases


def _boolean_hidden(n_inputs: int):
    def cases(rng):
        corners = TRUTH_INPUTS if n_inputs == 2 else np.array([[0.0], [1.0]])
        drawn = [Case((corners[i : i + 1].copy(),), f"n = 1, the row {corners[i]}")
                 for i in range(len(corners))]
        n = int(rng.integers(len(corners), 20))
        rows = np.concatenate([corners, corners[rng.integers(0, len(corners), n)]])
        drawn.append(Case((rows[rng.permutation(len(rows))],), f"{len(rows)} rows, shuffled"))
        return drawn
    return cases


def _boolean_hint(target: str, tables: dict[str, Callable[[np.ndarray], np.ndarray]]):
    def hint(case, expected, got):
        (X,) = case.args
        g = _got(got, np.shape(expected))
        if g is None:
            return f"return one number per row of X, an array of shape ({len(X)},)"
        rounded = np.round(g)
        if np.array_equal(rounded, expected):
            return ("the rounded outputs are right, but some are not within 0.1 of 0 or 1: "
                    "scale up the weights and bias (e.g. 20 and -30) so every |z| >= 10")
        found = None
        if len(np.unique(X, axis=0)) == 2 ** X.shape[1]:  # every input combination was tried
            found = next((name for name, table in tables.items()
                          if np.array_equal(rounded, table(X))), None)
        computed = f"your outputs round to the truth table of {found}, not {target}. " if found \
            else ""
        return computed + BOOLEAN_ADVICE[target]
    return hint


def _register_boolean(name: str, target: str, n_inputs: int = 2):
    tables = TWO_INPUT_TABLES if n_inputs == 2 else ONE_INPUT_TABLES
    register(Check(
        name=name,
        reference=_boolean_reference(tables[target]),
        public_cases=_boolean_public(n_inputs),
        hidden_cases=_boolean_hidden(n_inputs),
        arg_names=("X",),
        hints=(_boolean_hint(target, tables),),
        rtol=0.0,
        atol=0.1,  # a sigmoid unit gets close to 0 and 1, never there
    ))


for _name, _target, _inputs in [
    ("boolean_and", "AND", 2),
    ("boolean_or", "OR", 2),
    ("boolean_nand", "NAND", 2),
    ("boolean_nor", "NOR", 2),
    ("boolean_not", "NOT", 1),
    ("xor_network", "XOR", 2),
    ("xnor_network", "XNOR", 2),
]:
    _register_boolean(_name, _target, _inputs)
