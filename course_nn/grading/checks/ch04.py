"""Checks for exercise 4, softmax and multi-class classification (book chapter 4).

Graded items (kind, function):

* implement: ``softmax(Z)`` (run with NumPy's float errors raised: the task promises
  no overflow) and ``one_hot(y, num_classes)``;
* by hand: ``softmax_by_hand()`` returns the logits and probabilities of one toy point,
  worked out on paper, on the student's own numbers (variant 0: :data:`BY_HAND_W`,
  :data:`BY_HAND_B`, :data:`BY_HAND_X`; docs/exercise_items.md, "Numbers of one's own");
* debugging: ``masked_softmax(Z, allowed)``, the softmax over each row's allowed classes,
  given shifted by the largest logit of all the classes (:data:`BUGGY_MASKED_SOFTMAX`), so
  that every allowed exponential underflows when an excluded class dominates and the row
  comes out as zeros; repaired by the student (run with NumPy's float errors raised);
* transfer: ``label_smoothing_loss_and_grads(X, y, W, b, eps) -> (J, dW, db)``, the cost
  of softmax regression against label-smoothed targets and its gradient, which no chapter
  prints (chapter 4 prints the gradient for one-hot targets only; run with float errors
  raised, as every class's log-probability enters the cost).

Hidden cases include logits of +-1e4, rows whose maxima differ by far more than
exp can bridge, a (1, M) batch, and labels where the largest class is missing.
Hints name the symptom and the concept, never the code (``tests/test_hints.py``).
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array
from course_nn.grading.by_hand_numbers import softmax_by_hand_params
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.compare import same_answer as _same
from course_nn.grading.compare import same_answer as _same_parts
from course_nn.grading.core import Case, Check, given_function, numbers_judge, register
from course_nn.grading.variant import PARAMS
from course_nn.losses import smoothed_targets, softmax_cross_entropy
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
#: The weights (M = 3 classes, p = 2 features), biases and point of the by-hand task: the
#: numbers of variant 0 (docs/exercise_items.md, "Numbers of one's own").
BY_HAND_W = np.array([[2.0, -1.0], [0.0, 1.0], [1.0, 1.0]])
BY_HAND_B = np.array([0.0, 1.0, -2.0])
BY_HAND_X = np.array([1.0, 2.0])


#: The numbers of the by-hand answer, named as in the task.
SOFTMAX_BY_HAND_NAMES = ("z1", "z2", "z3", "a1", "a2", "a3")


def softmax_by_hand_reference(W=BY_HAND_W, b=BY_HAND_B, x=BY_HAND_X):
    """The logits z = W x + b of a variant's point (default: the book's) and their softmax
    probabilities a."""
    W, b, x = (np.asarray(v, dtype=np.float64) for v in (W, b, x))
    logits = W @ x + b
    return logits, softmax(logits)


def _by_hand_numbers(case):
    """The variant's (W, b, x) a case carries (the book's when it carries none)."""
    params = case.probe if case.probe is not None else softmax_by_hand_params(0)
    return tuple(np.asarray(params[k], dtype=np.float64) for k in ("W", "b", "x"))


def _by_hand_cases(rng=None):
    return [Case((), "the point x of the task, with the task's W and b")]


def _hint_by_hand(case, expected, got):
    """The concept behind the first quantity that is off, never its value."""
    logits, probs_ref = expected
    parts = flatten_output(got)
    if len(parts) != 2:
        return "return two things: the three logits and the three probabilities"
    W, _, x = _by_hand_numbers(case)
    no_bias = W @ x
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
    variant_params=softmax_by_hand_params,  # numbers of one's own
    variant_key=PARAMS["softmax_by_hand"].assignment,
))


# --- masked_softmax: a given function with a planted bug, repaired by the student ----------
# The repaired function lives here, on the grader's side: a student importing course_nn
# cannot read it (tests/test_book_leaks.py).

def masked_softmax_reference(Z: ArrayLike, allowed: ArrayLike) -> NDArray[np.float64]:
    r"""Softmax of each row over its allowed classes only; the other classes get exactly 0.

    Parameters
    ----------
    Z : array of shape (n, M)
        Finite logits, one row per sample.
    allowed : bool array of shape (n, M)
        Which classes are possible for each sample; every row allows at least one.

    Returns
    -------
    A : array of shape (n, M)
        Each row a distribution over that row's allowed classes, in the order of ``Z``.

    Math
    ----
    :math:`a_m = e^{z_m} / \sum_{k \in S} e^{z_k}` for :math:`m \in S`, else 0: the
    model's probabilities conditioned on :math:`y \in S`, :math:`p(y = m \mid
    \mathbf x)/\sum_{k \in S} p(y = k \mid \mathbf x)`. The shift that keeps it exact is
    the largest *allowed* logit of the row: shifting by the largest logit of all could
    make every allowed exponential underflow to 0.
    """
    Z = as_float_array(Z, "Z", ndim=(2,))
    mask = np.asarray(allowed)
    if mask.shape != Z.shape or mask.dtype != np.bool_:
        raise ValueError(f"allowed must be a bool array of Z's shape {Z.shape}, "
                         f"got {mask.dtype} of shape {mask.shape}")
    if not np.all(mask.any(axis=1)):
        raise ValueError("every row of allowed must allow at least one class")
    if not np.all(np.isfinite(Z[mask])):
        raise ValueError("the allowed logits must be finite")
    top = np.max(np.where(mask, Z, -np.inf), axis=1, keepdims=True)
    E = np.where(mask, np.exp(np.where(mask, Z, top) - top), 0.0)  # every exponent <= 0
    return E / np.sum(E, axis=1, keepdims=True)

#: The version the student is given: it shifts each row by its largest logit over *all*
#: classes, so when an excluded class's logit is far above every allowed one, every allowed
#: exponential underflows, and the tiny constant that guards the division turns the 0/0
#: into a row of zeros.
BUGGY_MASKED_SOFTMAX = '''def masked_softmax_given(Z, allowed):
    shifted = Z - np.max(Z, axis=1, keepdims=True)
    exps = np.where(allowed, np.exp(shifted), 0.0)
    return exps / (np.sum(exps, axis=1, keepdims=True) + 1e-300)
'''


def _random_mask(rng, n, M):
    """A bool (n, M) mask with at least one allowed class in every row."""
    mask = rng.random((n, M)) < 0.6
    mask[np.arange(n), rng.integers(0, M, size=n)] = True
    return mask


def _masked_public():
    return [
        Case((np.array([[1.0, 2.0, 3.0], [0.5, 0.0, -1.0]]),
              np.array([[True, True, False], [False, True, True]])),
             "two rows, one class excluded in each"),
        Case((np.array([[5.0, -3.0, 0.0, 2.0]]), np.array([[True, False, False, False]])),
             "a single allowed class"),
        Case((np.array([[1000.0, 999.0, 0.0], [2.0, 1.0, 0.0]]), np.ones((2, 3), dtype=bool)),
             "every class allowed, large logits"),
        Case((np.array([[2000.0, 1.0, 0.0], [0.0, 3.0, 800.0]]),
              np.array([[False, True, True], [True, True, False]])),
             "an excluded class far above the allowed ones"),
    ]


def _masked_hidden(rng):
    cases = []
    for _ in range(4):
        n, M = int(rng.integers(1, 10)), int(rng.integers(2, 8))
        cases.append(Case((3.0 * rng.normal(size=(n, M)), _random_mask(rng, n, M)),
                          f"random logits and classes, n={n}, M={M}"))
    n, M = 5, int(rng.integers(3, 8))
    Z = rng.normal(size=(n, M))
    mask = _random_mask(rng, n, M)
    mask[:, 0] = False
    mask[np.arange(n), rng.integers(1, M, size=n)] = True
    Z[:, 0] = rng.uniform(800.0, 5000.0, size=n)
    cases += [
        Case((Z, mask), "excluded classes with logits in the thousands"),
        Case((1e4 * rng.uniform(-1, 1, size=(4, M)), _random_mask(rng, 4, M)),
             "random logits up to 1e4"),
        Case((np.vstack([rng.normal(size=M), rng.normal(size=M) - 5000.0]),
              _random_mask(rng, 2, M)), "rows on very different scales"),
        Case((rng.normal(size=(1, M)), np.ones((1, M), dtype=bool)), "a batch of one, all allowed"),
    ]
    return cases


def _hint_masked(case, expected, got):
    """Symptoms of a partial repair of the given function (never the cause)."""
    Z, allowed = case.args
    g = to_float_array(got)
    if g.shape != np.shape(expected) or not np.all(np.isfinite(g)):
        return None
    if np.any(g[~allowed] != 0):
        return "a class that is not allowed gets a probability above zero"
    if not np.allclose(g.sum(axis=1), 1.0):
        return "rows do not sum to one"
    return None


register(Check(
    name="masked_softmax",
    reference=masked_softmax_reference,
    public_cases=_masked_public,
    hidden_cases=_masked_hidden,
    arg_names=("Z", "allowed"),
    hints=(_hint_masked,),
    float_errors=True,
    kind="debugging",
    given=given_function(BUGGY_MASKED_SOFTMAX),
))


# --- label_smoothing_loss_and_grads: a cost and gradient that no chapter prints ------------
def label_smoothing_loss_and_grads(X, y, W, b, eps):
    """Reference: (J, dW, db) of the mean cross-entropy of softmax(X W^T + b) against the
    smoothed targets (1 - eps) one_hot(y) + eps / M."""
    X, W, b = (np.asarray(a, dtype=np.float64) for a in (X, W, b))
    Z = X @ W.T + b
    targets = smoothed_targets(y, W.shape[0], eps)
    dZ = (softmax(Z) - targets) / X.shape[0]  # every row of targets sums to one
    return softmax_cross_entropy(Z, targets), dZ.T @ X, dZ.sum(axis=0)


def _smoothing_case(rng, n, p, M, eps, scale=1.0, label=""):
    return Case((rng.normal(size=(n, p)), rng.integers(0, M, size=n),
                 scale * rng.normal(size=(M, p)), rng.normal(size=M), float(eps)),
                label or f"n={n}, p={p}, M={M}, eps={eps}")


def _smoothing_public():
    X = np.array([[1.0, 2.0], [0.5, -1.0], [-1.0, 0.0], [2.0, 1.0]])
    W = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, -1.0]])
    b = np.array([0.0, 0.5, -0.5])
    return [
        Case((X, np.array([0, 1, 2, 1]), W, b, 0.1), "n = 4, p = 2, M = 3, eps = 0.1"),
        Case((X[:3], np.array([1, 0, 1]), np.array([[2.0, -1.0], [0.5, 0.5]]),
              np.array([0.1, -0.1]), 0.3), "n = 3, p = 2, M = 2, eps = 0.3"),
        Case((X, np.array([0, 1, 2, 1]), W, b, 0.0), "no smoothing, eps = 0"),
        Case((X[:2], np.array([2, 0]), 500.0 * W, np.zeros(3), 0.2),
             "large logits: hundreds and more"),
    ]


def _smoothing_hidden(rng):
    cases = [_smoothing_case(rng, 1, 2, 3, 0.1, label="a batch of one")]
    for eps in (0.05, 0.2, 0.5):
        cases.append(_smoothing_case(rng, int(rng.integers(2, 30)), int(rng.integers(1, 6)),
                                     int(rng.integers(2, 8)), eps))
    cases += [
        _smoothing_case(rng, 8, 3, 5, 1.0, label="eps = 1: uniform targets"),
        _smoothing_case(rng, 6, 3, 4, 0.1, scale=400.0, label="large weights: logits of 1e3"),
    ]
    return cases


def _smoothing_variants(X, y, W, b, eps):
    """Typical wrong answers: (name, (J, dW, db))."""
    n, M = X.shape[0], W.shape[0]
    Z = X @ W.T + b
    A, Y = softmax(Z), one_hot(y, M)

    def answer(targets, grad_targets=None):
        dZ = (A - (targets if grad_targets is None else grad_targets)) / n
        return softmax_cross_entropy(Z, targets), dZ.T @ X, dZ.sum(axis=0)

    smooth = smoothed_targets(y, M, eps)
    J, dW, db = answer(smooth)
    variants = [
        ("one-hot gradient", answer(smooth, Y)),
        ("sum", (J, n * dW, n * db)),
        ("sign", (J, -dW, -db)),
        ("true class only", ((1 - eps) * softmax_cross_entropy(Z, y), dW, db)),
    ]
    if M > 1:
        variants.append(("other classes", answer((1 - eps) * Y + eps * (1.0 - Y) / (M - 1))))
    if eps > 0:  # targets (1 - eps) y + eps sum to 1 + (M - 1) eps: the gradient changes
        unnormalised = (1 - eps) * Y + eps
        dZ = (A * unnormalised.sum(axis=1, keepdims=True) - unnormalised) / n
        variants.append(("not a distribution", (
            float(np.mean(-np.sum(unnormalised * log_softmax(Z), axis=1))),
            dZ.T @ X, dZ.sum(axis=0))))
    return variants


SMOOTHING_ADVICE = {
    "one-hot gradient": ("the gradient is that of the unsmoothed cost: the smoothed targets "
                         "enter the derivative at the logits as well as the cost"),
    "other classes": ("the smoothing mass went to the wrong classes only: the task spreads it "
                      "evenly over all the classes, the true class included"),
    "sum": ("not divided by the number of samples: the cost is the mean of the per-sample "
            "losses"),
    "sign": "the sign is flipped: the cost falls along the negative gradient",
    "true class only": ("only the true class enters the cost: with smoothed targets every "
                        "class that has target mass contributes its log-probability"),
    "not a distribution": ("each sample's targets do not sum to one: the smoothing moves "
                           "mass away from the true class, it does not add mass"),
}


def _hint_smoothing(case, expected, got):
    X, y, W, b, eps = case.args
    parts = flatten_output(got)
    if len(parts) != 3:
        return "return three things: the cost, the weight gradient and the bias gradient"
    if to_float_array(parts[1]).shape == (X.shape[1], W.shape[0]) and X.shape[1] != W.shape[0]:
        return ("the weight gradient is transposed: it has the shape of the weights, one row "
                "per class and one column per feature")
    if not all(np.all(np.isfinite(to_float_array(part))) for part in parts):
        return ("a probability rounded to zero before its logarithm was taken, or an "
                "exponential overflowed: with smoothed targets every class's log-probability "
                "counts, so stay in the log domain")
    for name, variant in _smoothing_variants(X, y, W, b, eps):
        if _same_parts(got, variant):
            return SMOOTHING_ADVICE[name]
    return None


register(Check(
    name="label_smoothing_loss_and_grads",
    reference=label_smoothing_loss_and_grads,
    public_cases=_smoothing_public,
    hidden_cases=_smoothing_hidden,
    arg_names=("X", "y", "W", "b", "eps"),
    hints=(_hint_smoothing,),
    float_errors=True,
    kind="transfer",
    parts=("J", "dW", "db"),
))
