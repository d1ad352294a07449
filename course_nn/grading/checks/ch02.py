"""Checks for exercise 2, activations and generalised linear models (book chapter 2).

Graded items (kind, function):

* implement: ``sigmoid``, ``relu``, ``sigmoid_grad``, ``relu_grad``, ``tanh_grad``,
  ``binary_cross_entropy_with_logits``; the sigmoid, its derivative and the log loss run
  with NumPy's floating-point errors raised (``float_errors``: the task promises no
  overflow, so a naive exponential fails with a hint that names the overflow);
* by hand: ``logistic_by_hand() -> (z, y_hat, loss, dL/dw)`` for one input of the
  chapter's kind (:data:`BY_HAND_W`, :data:`BY_HAND_B`, :data:`BY_HAND_X`, label 1);
* debugging: ``tanh_unit_grads(X, y, w, b)``, the gradient of the mean squared error
  of a tanh unit, given with the sigmoid's slope in place of tanh's
  (:data:`BUGGY_TANH_UNIT_GRADS`; the book prints no such gradient, and a finite-difference
  check shows the given one is wrong), repaired by the student;
* structures: ``boolean_nor() -> (w, b)`` (one unit) and, as transfer,
  ``parity_network() -> [(W1, b1), (W2, b2), ...]`` for the parity of three inputs
  (the chapter builds XOR of two). The student returns weights, not outputs: the judge
  evaluates them as a sigmoid network (``g(Q W^T + b)`` layer by layer) at the corners
  of the square or cube and at random points near them (``Case.probe``), and any output
  within 0.1 of the corner's truth value passes. Anything that is not such a network
  scores 0. No reference weights are stored: the judge checks the truth table.

Hints name the symptom and the concept, never the code (``tests/test_hints.py``);
the design of the items is in docs/exercise_items.md.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from course_nn.activations import relu, relu_grad, sigmoid, sigmoid_grad, tanh_grad
from course_nn.grading.by_hand_numbers import logistic_by_hand_params
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.core import (
    Case,
    Check,
    flat_numbers,
    given_function,
    numbers_judge,
    register,
)
from course_nn.grading.variant import PARAMS
from course_nn.logistic import binary_cross_entropy_with_logits

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
             "huge inputs of both signs"),
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


def _register_activation(name, reference, hints, float_errors=False, judge=None):
    register(Check(
        name=name,
        reference=reference,
        public_cases=_activation_public,
        hidden_cases=_activation_hidden,
        arg_names=("x",),
        hints=tuple(hints),
        float_errors=float_errors,
        judge=judge,
        kind="implement",
    ))


def _truth_values(got) -> bool:
    """Is the output an array (or list, tensor) of booleans?"""
    if hasattr(got, "detach"):
        got = got.detach().cpu().numpy()
    try:
        return np.asarray(got).dtype == np.bool_
    except (TypeError, ValueError):
        return False


def _slopes_are_numbers(case, expected, got):
    """``relu_grad``'s judge: the element-wise comparison, and booleans refused.

    True and False compare equal to 1.0 and 0.0, but a gradient is a number that the
    steps after it multiply, negate and average (NumPy refuses ``-`` on booleans), and the
    task asks for floats, as PyTorch returns them."""
    from course_nn.grading.compare import compare_outputs

    if _truth_values(got):
        return "the output holds True/False values, not the numbers the task asks for"
    return compare_outputs(expected, got, rtol=Check.rtol, atol=Check.atol)


_register_activation("sigmoid", sigmoid, [
    _formula_hint(lambda x: np.exp(x) / (1 + np.exp(x)),
                  "the result is undefined for large positive inputs: an exponential of a large "
                  "number is infinite, and infinity over infinity is not a number; each form of "
                  "the sigmoid is safe on one side of zero only"),
    _nan_hint("the result is not finite for inputs of large magnitude: an exponential "
              "overflows; each form of the sigmoid is safe only where its exponential stays "
              "at most one"),
    _formula_hint(lambda x: 1 / (1 + np.exp(x)),
                  "the output falls as the input grows: the sign in the exponent is reversed"),
    _formula_hint(np.tanh, "the outputs run from minus one to one: that is the hyperbolic "
                           "tangent, not the logistic sigmoid, which runs from zero to one"),
], float_errors=True)

_register_activation("relu", relu, [
    _formula_hint(lambda x: (x > 0).astype(float),
                  "you returned the slope, zero or one, not the activation: positive inputs "
                  "pass unchanged"),
    _formula_hint(np.abs, "negative inputs must give zero, not their magnitude"),
    _formula_hint(lambda x: np.minimum(x, 0),
                  "the opposite half: positive inputs must pass unchanged and negative ones "
                  "give zero"),
])

_AT_OUTPUT = ("the derivative was evaluated at the activation's output instead of its input: "
              "the formula in terms of the activation needs the activation of the input first")

_register_activation("sigmoid_grad", sigmoid_grad, [
    _formula_hint(lambda x: x * (1 - x), _AT_OUTPUT),
    _formula_hint(lambda x: sigmoid_grad(sigmoid(x)),
                  "the sigmoid was applied twice: the derivative is evaluated at the input, "
                  "not at the output"),
    _formula_hint(sigmoid, "you returned the sigmoid itself; its slope is at most a quarter"),
    _nan_hint("the result is not finite for inputs of large magnitude: a quotient of "
              "exponentials overflows; the derivative can be written through the sigmoid, "
              "which you made safe"),
], float_errors=True)

_register_activation("relu_grad", relu_grad, [
    _formula_hint(lambda x: (x >= 0).astype(float),
                  "at exactly zero the slope should be zero, as in PyTorch: only strictly "
                  "positive inputs have slope one"),
    _formula_hint(lambda x: np.where(x == 0, 0.5, (x > 0).astype(float)),
                  "at exactly zero the slope should be zero, not one half"),
    _formula_hint(lambda x: np.maximum(x, 0),
                  "you returned the activation itself, not its slope"),
    lambda case, expected, got: (
        "the slopes are truth values: they look right, but a gradient is a number that the "
        "backward pass multiplies, negates and averages" if _truth_values(got) else None),
], judge=_slopes_are_numbers)

_register_activation("tanh_grad", tanh_grad, [
    _formula_hint(lambda x: 1 - x**2, _AT_OUTPUT),
    _formula_hint(lambda x: 1 - np.tanh(np.tanh(x)) ** 2,
                  "tanh was applied twice: the derivative is evaluated at the input, not at "
                  "the output"),
    _formula_hint(lambda x: 1 - np.tanh(x), "the square is missing"),
    _nan_hint("the result is not finite for large inputs: a quotient of exponentials "
              "overflows to infinity over infinity; NumPy's hyperbolic tangent does not"),
])


# --- binary_cross_entropy_with_logits --------------------------------------------------
def _bce_public():
    return [
        Case((np.array([2.0, -1.0, 0.5]), np.array([1.0, 0.0, 0.0])), "three logits"),
        Case((np.array([0.0]), np.array([1.0])), "n = 1, logit 0"),
        Case((np.array([1000.0, -1000.0, 1000.0]), np.array([1.0, 0.0, 0.0])),
             "huge logits, two on the right side and one on the wrong side"),
    ]


def _bce_hidden(rng):
    cases = []
    for n in (1, 2, int(rng.integers(3, 50)), int(rng.integers(50, 200))):
        z = rng.normal(scale=float(rng.choice([1.0, 4.0])), size=n)
        cases.append(Case((z, rng.integers(0, 2, size=n).astype(float)), f"n = {n}"))
    z = rng.choice([-1e4, -1000.0, 1000.0, 1e4], size=8)
    cases.append(Case((z, (rng.random(8) < 0.5).astype(float)), "huge logits +-1000, +-1e4"))
    cases.append(Case((np.array([1e4, -1e4]), np.array([1.0, 0.0])), "certain and right"))
    return cases


def _hint_bce(case, expected, got):
    z, y = case.args
    try:
        g = to_float_array(got)
    except (TypeError, ValueError):
        return None
    if g.size != 1:
        return "return one number, the mean of the per-sample losses"
    g = float(g.reshape(()))
    huge = np.max(np.abs(z)) > 30
    if not np.isfinite(g) and huge:
        return ("the loss is infinite or undefined for logits of large magnitude: the "
                "probability rounds to exactly zero or one before its logarithm is taken; "
                "compute the loss from the logit itself")
    per_sample = y * np.logaddexp(0, -z) + (1 - y) * np.logaddexp(0, z)
    swapped = y * np.logaddexp(0, z) + (1 - y) * np.logaddexp(0, -z)
    if z.size > 1 and np.isclose(g, per_sample.sum()):
        return "you summed the per-sample losses; the loss is their mean"
    if np.isclose(g, swapped.mean()):
        return "the classes are swapped: the sigmoid of the logit is the probability of class one"
    if np.isclose(g, -per_sample.mean()):
        return "the sign is flipped: a log loss is never negative"
    if huge and g < expected:
        return ("too small for confident wrong answers: clipping the probability (or a "
                "sigmoid rounded to zero or one) caps their cost, while a confident mistake "
                "must cost about as much as the size of its logit")
    return None


register(Check(
    name="binary_cross_entropy_with_logits",
    reference=binary_cross_entropy_with_logits,
    public_cases=_bce_public,
    hidden_cases=_bce_hidden,
    arg_names=("z", "y"),
    hints=(_hint_bce,),
    float_errors=True,
    kind="implement",
))


# --- tanh_unit_grads: debugging the given gradient ----------------------------------------
#: The gradient handed out in the exercise, for a tanh unit fitted by the mean squared
#: error: the unit's slope is written as the sigmoid's, a(1 - a), where tanh's is 1 - a^2.
#: The book prints no tanh unit's gradient and no text names the bug: a finite-difference
#: check of the cost shows that the gradient is wrong, and the student finds where.
BUGGY_TANH_UNIT_GRADS = '''def tanh_unit_grads(X, y, w, b):
    """Gradient (dw, db) of the mean squared error of a tanh unit y_hat = tanh(X w + b)."""
    n = X.shape[0]
    y_hat = np.tanh(X @ w + b)
    dz = 2 * (y_hat - y) * y_hat * (1 - y_hat) / n
    return X.T @ dz, dz.sum()
'''


def tanh_unit_grads(X, y, w, b):
    r"""Reference: the gradient of :math:`J = \frac1n\sum_i (\tanh(z_i) - y_i)^2`,
    :math:`z = Xw + b`, through :math:`\partial J/\partial z_i = \frac2n(\hat y_i - y_i)
    (1 - \hat y_i^2)`; returns ``(dw (p,), db)``."""
    X = np.asarray(X, dtype=np.float64)
    y_hat = np.tanh(X @ np.asarray(w, dtype=np.float64) + float(b))
    dz = 2.0 * (y_hat - y) * (1.0 - y_hat**2) / X.shape[0]
    return X.T @ dz, float(dz.sum())


def _tanh_grads_public():
    X = np.array([[1.0, 2.0], [0.0, -1.0], [3.0, 0.5]])
    return [
        Case((X, np.array([0.5, -0.5, 0.9]), np.array([0.5, -0.25]), np.array(0.1)),
             "three samples, two features"),
        Case((np.array([[2.0]]), np.array([-0.5]), np.array([0.3]), np.array(-0.2)),
             "n = 1, p = 1"),
    ]


def _tanh_grads_hidden(rng):
    cases = []
    for n, p in [(1, 3), (5, 1), (int(rng.integers(2, 60)), int(rng.integers(1, 6))),
                 (int(rng.integers(2, 60)), int(rng.integers(1, 6)))]:
        X = rng.normal(size=(n, p))
        y = rng.uniform(-0.95, 0.95, size=n)
        cases.append(Case((X, y, rng.normal(size=p), np.asarray(rng.normal())), f"n={n}, p={p}"))
    X = rng.normal(size=(6, 2))
    cases.append(Case((X, rng.uniform(-0.9, 0.9, size=6), np.array([3.0, -3.0]),
                       np.asarray(0.5)), "large logits, the unit near saturation"))
    return cases


def _tanh_grads_of(case, dz_formula):
    """(dw, db) with a (possibly wrong) dz per sample, from the output y_hat and the logit z."""
    X, y, w, b = case.args
    with np.errstate(all="ignore"):
        z = X @ w + b
        dz = dz_formula(np.tanh(z), z, y, X.shape[0])
    return X.T @ dz, dz.sum()


def _hint_tanh_unit_grads(case, expected, got):
    """Symptoms of a partial repair (never the cause: the student debugs)."""
    parts = flatten_output(got)
    if len(parts) != 2:
        return "the task asks for two things, the gradient for the weights and for the offset"
    wrong = [
        (lambda a, z, y, n: -2 * (a - y) * (1 - a**2) / n,
         "the gradient points downhill: a small step along it lowers the cost"),
        (lambda a, z, y, n: 2 * (a - y) * (1 - a**2),
         "the gradient grows with the number of samples, while the cost is a mean"),
        (lambda a, z, y, n: 2 * (a - y) / n,
         "the gradient does not shrink where the unit saturates, although there a small "
         "change of a weight barely moves the output"),
        (lambda a, z, y, n: 2 * (a - y) * (1 - z**2) / n,
         "right where the logits are near zero, wrong where they are not"),
    ]
    for dz_formula, symptom in wrong:
        alt = _tanh_grads_of(case, dz_formula)
        if all(_matches(g, a, a) for g, a in zip(parts, alt, strict=True)):
            return symptom
    return None


register(Check(
    name="tanh_unit_grads",
    reference=tanh_unit_grads,
    public_cases=_tanh_grads_public,
    hidden_cases=_tanh_grads_hidden,
    arg_names=("X", "y", "w", "b"),
    hints=(_hint_tanh_unit_grads,),
    kind="debugging",
    parts=("dw", "db"),
    given=given_function(BUGGY_TANH_UNIT_GRADS),
))


# --- logistic_by_hand: one input worked out on paper ----------------------------------
#: The by-hand task: a unit with these weights and offset, one input of label 1 (the
#: numbers of variant 0; docs/exercise_items.md, "Numbers of one's own").
BY_HAND_W = np.array([2.0, -1.0])
BY_HAND_B = 0.5
BY_HAND_X = np.array([1.0, 3.0])


#: The numbers of the by-hand answer, named as in the task.
LOGISTIC_BY_HAND_NAMES = ("z", "y_hat", "L", "dL/dw1", "dL/dw2")


def logistic_by_hand_reference(w=BY_HAND_W, b=BY_HAND_B, x=BY_HAND_X):
    """(z, y_hat, loss, dL/dw) for the input ``x`` with label 1 (default: the book's)."""
    w, x = np.asarray(w, dtype=np.float64), np.asarray(x, dtype=np.float64)
    z = float(w @ x + float(b))
    y_hat = float(sigmoid(z))
    loss = binary_cross_entropy_with_logits(np.array([z]), np.array([1.0]))
    return z, y_hat, loss, (y_hat - 1.0) * x


def _hint_logistic_by_hand(case, expected, got):
    try:
        numbers = flat_numbers(got)
    except (TypeError, ValueError):
        numbers = np.zeros(0)
    if numbers.size != 5:
        return ("return four things: the logit, the probability of class one, the loss, and "
                "the loss's derivative with respect to each of the two weights")
    z, y_hat, loss, dw = numbers[0], numbers[1], numbers[2], numbers[3:]
    z_ref, y_ref, loss_ref, dw_ref = expected
    close = lambda a, b: bool(np.allclose(a, b, rtol=0, atol=2e-3))  # noqa: E731
    if not close(z, z_ref):
        return "the logit is off: each weight times its input, plus the offset"
    if not close(y_hat, y_ref):
        if close(y_hat, 1 - y_ref):
            return "that is the probability of class zero: the sigmoid of the logit is class one's"
        return "the probability is off: it is the logistic sigmoid of the logit"
    if not close(loss, loss_ref):
        if close(loss, loss_ref / np.log(10)) or close(loss, loss_ref / np.log(2)):
            return "the loss uses the natural logarithm, as the log loss is defined in nats"
        if close(loss, -np.log(1 - y_ref)):
            return "that is the cost of label zero: this input has label one"
        return "the loss is off: the negative logarithm of the probability given to the true label"
    if close(dw, -dw_ref):
        return "the derivative has the wrong sign: it grows with prediction minus label"
    if close(dw, dw_ref * y_ref * (1 - y_ref)):
        return ("an extra factor, the sigmoid's slope: for the log loss it cancels against the "
                "derivative of the logarithm")
    return ("the derivative is off: by the chain rule, the loss's derivative with respect to "
            "the logit times the logit's derivative with respect to each weight")


register(Check(
    name="logistic_by_hand",
    reference=logistic_by_hand_reference,
    public_cases=lambda: [Case((), "your numbers for the input of the task")],
    hidden_cases=lambda rng: [Case((), "your numbers for the input of the task")],
    arg_names=(),
    hints=(_hint_logistic_by_hand,),
    judge=numbers_judge(2e-3, LOGISTIC_BY_HAND_NAMES),  # three decimals, any grouping
    kind="by_hand",
    parts=LOGISTIC_BY_HAND_NAMES,
    variant_params=logistic_by_hand_params,  # numbers of one's own
    variant_key=PARAMS["logistic_by_hand"].assignment,
))


# --- Boolean structures: weights evaluated as a sigmoid network -----------------------------
CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def corners_of(n_inputs: int) -> np.ndarray:
    """The 2**n_inputs points of {0, 1}^n_inputs, in binary order (00, 01, 10, 11 for two)."""
    return np.array([[(k >> (n_inputs - 1 - j)) & 1 for j in range(n_inputs)]
                     for k in range(2**n_inputs)], dtype=np.float64)


#: Every Boolean function of two inputs the hints can recognise, by its outputs at the corners.
TWO_INPUT_TABLES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "AND": lambda X: X[:, 0] * X[:, 1],
    "OR": lambda X: np.maximum(X[:, 0], X[:, 1]),
    "NAND": lambda X: 1 - X[:, 0] * X[:, 1],
    "NOR": lambda X: 1 - np.maximum(X[:, 0], X[:, 1]),
    "XOR": lambda X: np.abs(X[:, 0] - X[:, 1]),
    "XNOR": lambda X: 1 - np.abs(X[:, 0] - X[:, 1]),
    "the first input": lambda X: X[:, 0],
    "the second input": lambda X: X[:, 1],
    "NOT of the first input": lambda X: 1 - X[:, 0],
    "NOT of the second input": lambda X: 1 - X[:, 1],
    "first AND NOT second": lambda X: X[:, 0] * (1 - X[:, 1]),
    "second AND NOT first": lambda X: X[:, 1] * (1 - X[:, 0]),
    "first OR NOT second": lambda X: np.maximum(X[:, 0], 1 - X[:, 1]),
    "second OR NOT first": lambda X: np.maximum(X[:, 1], 1 - X[:, 0]),
    "a constant zero": lambda X: np.zeros(len(X)),
    "a constant one": lambda X: np.ones(len(X)),
}


def _count(X: np.ndarray) -> np.ndarray:
    return X.sum(axis=1)


#: The Boolean functions of three inputs the hints can recognise (by their truth tables).
THREE_INPUT_TABLES: dict[str, Callable[[np.ndarray], np.ndarray]] = {
    "the parity of the three inputs": lambda X: _count(X) % 2,
    "the complement of the parity": lambda X: 1 - _count(X) % 2,
    "the AND of the three inputs": lambda X: (_count(X) == 3).astype(float),
    "the OR of the three inputs": lambda X: (_count(X) >= 1).astype(float),
    "the majority of the three inputs": lambda X: (_count(X) >= 2).astype(float),
    "exactly one input on": lambda X: (_count(X) == 1).astype(float),
    "XOR of the first two inputs": lambda X: np.abs(X[:, 0] - X[:, 1]),
    "XOR of the last two inputs": lambda X: np.abs(X[:, 1] - X[:, 2]),
    "XOR of the first and the last input": lambda X: np.abs(X[:, 0] - X[:, 2]),
    "a constant zero": lambda X: np.zeros(len(X)),
    "a constant one": lambda X: np.ones(len(X)),
}

#: What a wrong network should think about, per target: the concept, not the weights.
BOOLEAN_ADVICE = {
    "NOR": ("NOR is on only when both inputs are off: the offset alone must switch the unit "
            "on, and either input alone must be able to switch it off"),
    "the parity of the three inputs": (
        "the parity of three inputs is not linearly separable, so no single unit computes "
        "it: let hidden units compute functions that are, each seeing all three inputs, "
        "and let the next layer combine them; the output must flip each time one more "
        "input is switched on"),
}


class Structure:
    """A reference structure, printed as a description: it holds no weights.

    On a failure the checks print the expected answer; for a structure that would hand
    out the weights, so it prints as a description instead. The judge verifies the
    student's network against the truth table (or the function) at the probe points, so
    the grader needs no reference weights, and none are stored where a student could
    import them (docs/exercise_items.md, "Structures are graded as structures").
    """

    def __init__(self, text: str):
        self.params = None
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _layers(got, n_inputs: int):
    """The (W, b) pairs of a sigmoid network, W as (out, in), or a sentence why not."""
    if isinstance(got, Structure):
        return None, "the reference is a description, not a network"
    try:
        arrays = [to_float_array(a) for a in flatten_output(got)]
    except (TypeError, ValueError):
        return None, "it returned something that is not numbers"
    if len(arrays) < 2 or len(arrays) % 2:
        return None, ("expected the weights and the offsets of each layer, layer by layer: "
                      f"got {len(arrays)} array(s)")
    layers, width = [], n_inputs
    for number, (W, b) in enumerate(zip(arrays[::2], arrays[1::2], strict=True), start=1):
        W = W.reshape(1, -1) if W.ndim == 1 else W
        b = b.reshape(-1)
        if W.ndim != 2 or W.shape[1] != width or b.shape != (W.shape[0],):
            return None, (f"layer {number} does not fit: its weights must have one column per "
                          "input of the layer and one row per unit, its offsets one entry per "
                          f"unit (got weights of shape {W.shape}, offsets of shape {b.shape})")
        layers.append((W, b))
        width = W.shape[0]
    if width != 1:
        return None, f"the last layer must have one unit, the network's output (got {width})"
    if not all(np.all(np.isfinite(a)) for pair in layers for a in pair):
        return None, "the weights must be finite numbers"
    return layers, None


def network_outputs(layers, X: np.ndarray) -> np.ndarray:
    """The sigmoid network's output, one number per row of X."""
    Q = np.asarray(X, dtype=np.float64)
    for W, b in layers:
        Q = sigmoid(Q @ W.T + b)
    return Q[:, 0]


def _probe(rng: np.random.Generator, n_inputs: int, n_near: int, radius: float = 0.1):
    """The corners and points at most ``radius`` away from them in each coordinate."""
    corners = corners_of(n_inputs)
    near = corners[rng.integers(0, len(corners), n_near)]
    return np.concatenate([corners, near + rng.uniform(-radius, radius, size=near.shape)])


def _public_probe(n_inputs: int = 2, step: float = 0.08) -> np.ndarray:
    """The corners, then each corner moved by +-step in every coordinate (every diagonal)."""
    corners = corners_of(n_inputs)
    shifts = step * (2 * corners - 1)  # every sign pattern
    return np.concatenate([corners, (corners[:, None, :] + shifts[None]).reshape(-1, n_inputs)])


def _structure_judge(target: str, table: Callable[[np.ndarray], np.ndarray], n_inputs: int):
    """A judge: the returned weights, run as a sigmoid network, compute ``target``."""

    def judge(case, expected, got):
        layers, problem = _layers(got, n_inputs)
        if problem:
            return f"not a sigmoid network: {problem}"
        X = case.probe
        want = table(np.round(X))
        out = network_outputs(layers, X)
        off = np.abs(out - want) > 0.1
        if not off.any():
            return None
        corners = corners_of(n_inputs)
        at_corners = network_outputs(layers, corners)
        if np.array_equal(np.round(at_corners), table(corners)) and np.all(
                np.abs(at_corners - table(corners)) <= 0.1):
            worst = int(np.argmax(np.abs(out - want)))
            return (f"right at the corners but not near them: at {np.round(X[worst], 3)} the "
                    f"output is {out[worst]:.3f}, the truth value {want[worst]:.0f}")
        first = int(np.argmax(off))
        return (f"{target} is not computed: at {np.round(X[first], 3)} the output is "
                f"{out[first]:.3f}, the truth value {want[first]:.0f} "
                f"(outputs at the corners: {np.round(at_corners, 3)})")

    return judge


def _structure_hint(target: str, table: Callable[[np.ndarray], np.ndarray], n_inputs: int):
    known = TWO_INPUT_TABLES if n_inputs == 2 else THREE_INPUT_TABLES

    def hint(case, expected, got):
        layers, problem = _layers(got, n_inputs)
        if problem:
            return ("return the parameters of a network, not its outputs: the weight matrix "
                    "and the offsets of each layer, layer by layer, as in the chapter's XOR "
                    "network")
        corners = corners_of(n_inputs)
        rounded = np.round(network_outputs(layers, corners))
        if np.array_equal(rounded, table(corners)):
            return ("the outputs round to the right truth values, but some are too far from zero "
                    "or one, here or at points near the corners: scale the weights and the "
                    "offsets up together so that every logit is far from zero")
        found = next((name for name, t in known.items()
                      if np.array_equal(rounded, t(corners))), None)
        computed = f"your network computes {found}, not {target}. " if found else ""
        return computed + BOOLEAN_ADVICE[target]

    return hint


def _register_structure(name: str, target: str, table, n_inputs: int, kind: str,
                        n_near: int = 12):
    text = f"a sigmoid network computing {target} (its weights are not shown)"
    register(Check(
        name=name,
        reference=lambda: Structure(text),
        public_cases=lambda: [Case((), "the corners and points 0.08 away in each diagonal",
                                   probe=_public_probe(n_inputs))],
        hidden_cases=lambda rng: [Case((), "the corners and random points near them",
                                       probe=_probe(rng, n_inputs, 4 * n_near))],
        arg_names=(),
        hints=(_structure_hint(target, table, n_inputs),),
        judge=_structure_judge(target, table, n_inputs),
        kind=kind,
        parts=("W{l}", "b{l}"),
    ))


_register_structure("boolean_nor", "NOR", TWO_INPUT_TABLES["NOR"], 2, "structure")
_register_structure("parity_network", "the parity of the three inputs",
                    THREE_INPUT_TABLES["the parity of the three inputs"], 3, "structure",
                    n_near=40)
