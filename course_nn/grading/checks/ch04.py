"""Checks for exercise 4, softmax and multi-class classification (book chapter 4).

Graded items (kind, function):

* implement: ``softmax(Z)`` (run with NumPy's float errors raised: the task promises
  no overflow) and ``one_hot(y, num_classes)``;
* by hand: ``softmax_by_hand()`` returns the logits and probabilities of one toy point,
  worked out on paper (:data:`BY_HAND_W`, :data:`BY_HAND_B`, :data:`BY_HAND_X`);
* debugging: ``log_softmax(Z)``, given with the normaliser summed over the wrong axis
  (:data:`BUGGY_LOG_SOFTMAX`), repaired by the student;
* transfer: ``softmax_regression_grads(X, y, W, b) -> (dW, db)``, the gradient of the
  mean cross-entropy of softmax regression, which chapter 4 uses but does not print.

Hidden cases include logits of +-1e4, rows whose maxima differ by far more than
exp can bridge, a (1, M) batch, and labels where the largest class is missing.
Hints name the symptom and the concept, never the code (``tests/test_hints.py``).
"""

from __future__ import annotations

import numpy as np

from course_nn.backprop import softmax_regression_loss_and_grads
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.compare import same_answer as _same
from course_nn.grading.compare import same_answer as _same_parts
from course_nn.grading.core import Case, Check, given_function, numbers_judge, register
from course_nn.softmax import log_softmax, one_hot, softmax


def _naive_softmax(Z, axis):
    """exp(Z) / sum exp(Z) without shifting; quiet, as the student's warnings are reported."""
    with np.errstate(all="ignore"):
        E = np.exp(Z)
        return E / E.sum(axis=axis, keepdims=True)


# --- softmax ------------------------------------------------------------------------
def _softmax_public():
    return [
        Case((np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),), "two rows of logits"),
        Case((np.array([[2.0, -1.0], [0.5, 0.5], [-3.0, 4.0]]),), "three samples, M = 2"),
        Case((np.array([[1000.0, 999.0, 0.0]]),), "large logits, batch of one"),
        Case((np.array([[1000.0, 999.0, 0.0], [-1000.0, -1001.0, -2000.0]]),),
             "two rows of large logits far apart"),
    ]


def _softmax_hidden(rng):
    cases = []
    for _ in range(6):
        n, M = int(rng.integers(1, 12)), int(rng.integers(2, 8))
        cases.append(Case((3.0 * rng.normal(size=(n, M)),), f"random logits, n={n}, M={M}"))
    M = int(rng.integers(2, 8))
    cases += [
        Case((rng.normal(size=(1, M)),), f"a batch of one, shape (1, {M})"),
        Case((np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4]]),), "logits of +-1e4"),
        Case((1e4 * rng.uniform(-1, 1, size=(4, M)),), "random logits up to 1e4"),
        Case((np.vstack([rng.normal(size=M), rng.normal(size=M) - 5000.0]),),
             "rows on very different scales"),
        Case((np.full((3, M), 7.0),), "equal logits"),
    ]
    return cases


def _hint_softmax_axis(case, expected, got):
    (Z,) = case.args
    if _same(got, _naive_softmax(Z - Z.max(axis=0), axis=0)):
        return ("normalised over the wrong axis: the columns sum to one, but each row is one "
                "sample and must be its own distribution over the classes")
    return None


def _hint_softmax_overflow(case, expected, got):
    (Z,) = case.args
    g = to_float_array(got)
    if g.shape != np.shape(expected) or np.all(np.isfinite(g)):
        return None
    if _same(got, _naive_softmax(Z - Z.max(), axis=1)):
        return ("the exponentials underflow in rows far below the largest logit of the whole "
                "array: each row must be shifted by its own largest logit")
    return ("the exponentials overflow for large logits: the result must not change when every "
            "logit of a row is shifted by the same constant")


def _hint_softmax_rows(case, expected, got):
    g = to_float_array(got)
    if g.shape == np.shape(expected) and np.all(np.isfinite(g)) \
            and not np.allclose(g.sum(axis=1), 1.0):
        return "rows do not sum to one: each row is one sample's distribution over the classes"
    return None


register(Check(
    name="softmax",
    reference=softmax,
    public_cases=_softmax_public,
    hidden_cases=_softmax_hidden,
    arg_names=("Z",),
    hints=(_hint_softmax_axis, _hint_softmax_overflow, _hint_softmax_rows),
    float_errors=True,
    kind="implement",
))


# --- one_hot ------------------------------------------------------------------------
def _one_hot_public():
    return [
        Case((np.array([1]), 3), "one label, M = 3 (the lectures' class 2)"),
        Case((np.array([0, 2, 1, 2]), 3), "four labels, M = 3"),
    ]


def _one_hot_hidden(rng):
    cases = []
    for _ in range(5):
        n, M = int(rng.integers(1, 20)), int(rng.integers(2, 11))
        cases.append(Case((rng.integers(0, M, size=n), M), f"n={n}, M={M}"))
    M = int(rng.integers(4, 11))
    cases += [
        Case((np.array([int(rng.integers(0, M))]), M), "a single label"),
        Case((rng.integers(0, M - 2, size=6), M), "the last classes absent from y"),
        Case((np.zeros(4, dtype=np.int64), 1), "M = 1"),
    ]
    return cases


def _hint_one_hot_one_based(case, expected, got):
    y, M = case.args
    if _same(got, np.eye(M)[y - 1]):
        return "labels are 0-based here: label m sets column m (the lectures count from 1)"
    return None


def _hint_one_hot_columns(case, expected, got):
    y, M = case.args
    if to_float_array(got).shape != (len(y), M):
        return ("one column per class: the result has as many columns as there are classes, "
                "even for classes that do not occur in the labels")
    return None


register(Check(
    name="one_hot",
    reference=one_hot,
    public_cases=_one_hot_public,
    hidden_cases=_one_hot_hidden,
    arg_names=("y", "num_classes"),
    hints=(_hint_one_hot_one_based, _hint_one_hot_columns),
    kind="implement",
))


# --- softmax_by_hand: one toy point worked out on paper ---------------------------------
#: The weights (M = 3 classes, p = 2 features), biases and point of the by-hand task.
BY_HAND_W = np.array([[2.0, -1.0], [0.0, 1.0], [1.0, 1.0]])
BY_HAND_B = np.array([0.0, 1.0, -2.0])
BY_HAND_X = np.array([1.0, 2.0])


#: The numbers of the by-hand answer, named as in the task.
SOFTMAX_BY_HAND_NAMES = ("z1", "z2", "z3", "a1", "a2", "a3")


def softmax_by_hand_reference():
    """The logits o = W x + b of the task's point and their softmax probabilities."""
    logits = BY_HAND_W @ BY_HAND_X + BY_HAND_B
    return logits, softmax(logits)


def _by_hand_cases(rng=None):
    return [Case((), "the point x of the task, with the task's W and b")]


def _hint_by_hand(case, expected, got):
    """The concept behind the first quantity that is off, never its value."""
    logits, probs_ref = expected
    parts = flatten_output(got)
    if len(parts) != 2:
        return "return two things: the three logits and the three probabilities"
    no_bias = BY_HAND_W @ BY_HAND_X
    if _same(parts[0], no_bias):
        return "the biases are missing from the logits"
    close = lambda a, b: to_float_array(a).shape == np.shape(b) and bool(  # noqa: E731
        np.allclose(to_float_array(a), b, rtol=0, atol=5e-3))
    if not close(parts[0], logits):
        return ("a logit is off: the logit of a class is the row of W that belongs to that "
                "class times x, plus that class's offset")
    probs = to_float_array(parts[1])
    if probs.shape == (3,) and not np.isclose(probs.sum(), 1.0, atol=0.01):
        return "the probabilities do not sum to one: the softmax normalises the exponentials"
    if _same(probs, logits / logits.sum()):
        return ("the probabilities are proportional to the logits themselves: the softmax "
                "exponentiates each logit before normalising")
    if _same(probs, softmax(no_bias)):
        return "the probabilities belong to logits without the biases"
    if not close(probs, probs_ref):
        return ("a probability is off: each is the exponential of its logit divided by the "
                "sum of the exponentials of all the logits")
    return None


register(Check(
    name="softmax_by_hand",
    reference=softmax_by_hand_reference,
    public_cases=_by_hand_cases,
    hidden_cases=_by_hand_cases,
    arg_names=(),
    hints=(_hint_by_hand,),
    judge=numbers_judge(5e-3, SOFTMAX_BY_HAND_NAMES),
    kind="by_hand",
    parts=SOFTMAX_BY_HAND_NAMES,
))


# --- log_softmax: a given function with a planted bug, repaired by the student ------------
#: The version the student is given (the exercise shows it; its normaliser sums the
#: exponentials over the samples instead of over the classes).
BUGGY_LOG_SOFTMAX = '''def log_softmax_given(Z):
    shifted = Z - np.max(Z, axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=0, keepdims=True))
'''


def _log_softmax_public():
    return [
        Case((np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 0.0]]),), "two rows of logits"),
        Case((np.array([[1000.0, 999.0, 0.0], [0.0, -800.0, 5.0]]),),
             "large logits, and a very unlikely class"),
        Case((np.array([[2.0, -1.0]]),), "a batch of one"),
    ]


def _log_softmax_hidden(rng):
    cases = []
    for _ in range(4):
        n, M = int(rng.integers(1, 12)), int(rng.integers(2, 8))
        cases.append(Case((3.0 * rng.normal(size=(n, M)),), f"random logits, n={n}, M={M}"))
    M = int(rng.integers(2, 8))
    cases += [
        Case((1e4 * rng.uniform(-1, 1, size=(4, M)),), "random logits up to 1e4"),
        Case((np.vstack([rng.normal(size=M), rng.normal(size=M) - 5000.0]),),
             "rows on very different scales"),
    ]
    return cases


def _hint_log_softmax(case, expected, got):
    """Symptoms of a partial repair of the given function (never the cause)."""
    g = to_float_array(got)
    if g.shape == np.shape(expected) and np.all(np.isfinite(g)) \
            and not np.allclose(np.exp(g).sum(axis=1), 1.0):
        return "the exponentiated rows do not sum to one"
    return None


register(Check(
    name="log_softmax",
    reference=log_softmax,
    public_cases=_log_softmax_public,
    hidden_cases=_log_softmax_hidden,
    arg_names=("Z",),
    hints=(_hint_log_softmax,),
    float_errors=True,
    kind="debugging",
    given=given_function(BUGGY_LOG_SOFTMAX),
))


# --- softmax_regression_grads: the gradient chapter 4 uses but does not print -------------
def softmax_regression_grads(X, y, W, b):
    """Reference: (dW, db) of the mean cross-entropy of softmax(X W^T + b) against y."""
    _, dW, db = softmax_regression_loss_and_grads(W, b, X, y)
    return dW, db


def _grads_case(rng, n, p, M, scale=1.0, label=""):
    return Case((rng.normal(size=(n, p)), rng.integers(0, M, size=n),
                 scale * rng.normal(size=(M, p)), rng.normal(size=M)),
                label or f"n={n}, p={p}, M={M}")


def _grads_public():
    X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.0, 0.0], [2.0, 1.0]])
    W = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    return [
        Case((X, np.array([0, 1, 2, 1]), W, np.array([0.0, 0.5, -0.5])),
             "n = 4 samples, p = 2 features, M = 3 classes"),
        Case((X[:3, :], np.array([1, 0, 1]), np.array([[2.0, -1.0], [0.5, 0.5]]),
              np.array([0.1, -0.1])), "n = 3, p = 2, M = 2"),
        Case((X[:2], np.array([2, 0]), 500.0 * W, np.zeros(3)),
             "large logits: hundreds and more"),
    ]


def _grads_hidden(rng):
    cases = [_grads_case(rng, 1, 2, 3, label="a batch of one")]
    for _ in range(4):
        cases.append(_grads_case(rng, int(rng.integers(2, 30)), int(rng.integers(1, 6)),
                                 int(rng.integers(2, 7))))
    cases.append(_grads_case(rng, 6, 3, 4, scale=400.0, label="large weights: logits of 1e3"))
    return cases


def _grads_variants(X, y, W, b):
    """Typical wrong gradients: (name, (dW, db))."""
    n, M = X.shape[0], W.shape[0]
    G, Y = softmax(X @ W.T + b), one_hot(y, M)
    dO = (G - Y) / n
    return [
        ("sum", (n * dO.T @ X, n * dO.sum(axis=0))),
        ("sign", (-dO.T @ X, -dO.sum(axis=0))),
        ("targets", (G.T @ X / n, G.sum(axis=0) / n)),
        ("bias twice", (dO.T @ X, dO.mean(axis=0))),
        ("axis", ((softmax(X @ W.T + b, axis=0) - Y).T @ X / n,
                  (softmax(X @ W.T + b, axis=0) - Y).sum(axis=0) / n)),
    ]


GRADS_ADVICE = {
    "sum": ("not divided by the number of samples: the cost is the mean of the per-sample "
            "losses"),
    "sign": "the sign is flipped: the error at the logits is the prediction minus the truth",
    "targets": ("the targets are missing: the error at the logits compares the predicted "
                "probabilities with the one-hot truth"),
    "bias twice": "the bias gradient is divided by the number of samples twice",
    "axis": ("the softmax was taken over the samples instead of over the classes of each "
             "sample"),
}


def _hint_grads(case, expected, got):
    X, y, W, b = case.args
    parts = flatten_output(got)
    if len(parts) == 2 and to_float_array(parts[0]).shape == (X.shape[1], W.shape[0]) \
            and X.shape[1] != W.shape[0]:
        return ("the weight gradient is transposed: it has the shape of the weights, one row "
                "per class and one column per feature")
    if len(parts) == 2 and not np.all(np.isfinite(to_float_array(parts[0]))):
        return ("the exponentials overflow for large logits: the probabilities must not change "
                "when every logit of a row is shifted by the same constant")
    for name, variant in _grads_variants(X, y, W, b):
        if _same_parts(got, variant):
            return GRADS_ADVICE[name]
    return None


register(Check(
    name="softmax_regression_grads",
    reference=softmax_regression_grads,
    public_cases=_grads_public,
    hidden_cases=_grads_hidden,
    arg_names=("X", "y", "W", "b"),
    hints=(_hint_grads,),
    kind="transfer",
    parts=("dW", "db"),
))
