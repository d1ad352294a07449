"""Checks for exercise 5, cross-entropy and information theory (book chapter 5).

Graded items (kind, function):

* implement: ``cross_entropy`` (probabilities and int labels), ``softmax_cross_entropy``
  (logits and int labels; run with NumPy's float errors raised, as the task promises no
  overflow), ``entropy`` and ``kl_divergence`` (nats, over the last axis);
* by hand: ``cross_entropy_by_hand()`` returns the mean cross-entropy of a batch of two,
  the student's own numbers (variant 0: :data:`BY_HAND_P`, :data:`BY_HAND_Y`), in nats and
  in bits;
* debugging: ``expected_calibration_error(P, y, num_bins)``, given with each bin's gap
  weighted by its count instead of its share of the samples
  (:data:`BUGGY_CALIBRATION_ERROR`), repaired by the student;
* transfer: temperature scaling, which the chapter's calibration section motivates but
  does not print: ``temperature_nll(Z, y, T) -> (nll, dnll_dT)``, the mean cross-entropy
  of softmax(Z / T) and its derivative in T (run with float errors raised), and
  ``fit_temperature(Z, y) -> T``, the temperature that minimises it on validation logits
  (judged within 1e-4 relative of the optimum, however it was found).

Hidden cases include probabilities of exactly 0 on wrong classes, logits of +-1e4, a
batch of one, and distributions with zero entries. Hints name the symptom and the
concept, never the code (``tests/test_hints.py``).
"""

from __future__ import annotations

import numpy as np

from course_nn.grading.by_hand_numbers import cross_entropy_by_hand_params
from course_nn.grading.compare import compare_outputs, flatten_output, to_float_array
from course_nn.grading.compare import same_answer as _same
from course_nn.grading.core import Case, Check, given_function, numbers_judge, register
from course_nn.grading.variant import PARAMS
from course_nn.losses import (
    cross_entropy,
    entropy,
    fit_temperature,
    kl_divergence,
    softmax_cross_entropy,
    temperature_nll,
)
from course_nn.softmax import log_softmax, softmax

LN2 = np.log(2.0)
LOG2 = "the result is in bits: the course measures in nats, with the natural logarithm"
LOG0 = ("the logarithm of a zero probability: a term whose probability is zero contributes "
        "nothing, so it must never reach the logarithm")


def _non_finite_where_finite(expected, got) -> bool:
    g = to_float_array(got)
    return bool(np.all(np.isfinite(expected)) and not np.all(np.isfinite(g)))


def _random_distributions(rng, shape, zero_fraction=0.0):
    """Probability vectors along the last axis; some entries exactly 0 (never a whole row)."""
    p = rng.dirichlet(np.ones(shape[-1]), size=shape[:-1])
    zero = rng.random(shape) < zero_fraction
    zero[..., 0] &= ~np.all(zero, axis=-1)  # keep one entry of each row positive
    p = np.where(zero, 0.0, p)
    return p / p.sum(axis=-1, keepdims=True)


# --- hints shared by the two cross-entropies -------------------------------------------
def _mean_nll(logP, y, offset=0):
    """-mean log p of the label (shifted by ``offset``: -1 mimics 1-based indexing)."""
    return float(-np.mean(logP[np.arange(len(y)), y + offset]))


def _label_loss_hints(log_probs):
    """Hints for a label loss whose per-class log-probabilities are ``log_probs(first arg)``."""

    def hint_log2(case, expected, got):
        if expected > 0 and _same(got, expected / LN2):
            return LOG2
        return None

    def hint_sum(case, expected, got):
        n = len(case.args[1])
        if n > 1 and expected > 0 and _same(got, n * expected):
            return "summed over the samples: the loss is their mean"
        return None

    def hint_one_based(case, expected, got):
        with np.errstate(all="ignore"):
            alt = _mean_nll(log_probs(case.args[0]), case.args[1], offset=-1)
        if not np.isclose(alt, expected) and _same(got, alt):
            return ("labels are counted from 0 here: the lectures count classes from 1, this "
                    "code does not")
        return None

    return hint_log2, hint_sum, hint_one_based


# --- cross_entropy --------------------------------------------------------------------
def _ce_public():
    P = np.array([[0.57, 0.03, 0.40], [0.12, 0.68, 0.20], [0.03, 0.95, 0.02]])
    return [
        Case((P, np.array([1, 1, 1])), "the lectures' example"),
        Case((np.array([[0.0, 1.0, 0.0], [0.3, 0.0, 0.7]]), np.array([1, 2])),
             "a wrong class with probability 0"),
        Case((np.array([[0.1, 0.2, 0.3, 0.4]]), np.array([3])), "a batch of one"),
    ]


def _ce_hidden(rng):
    cases = []
    for zero_fraction in (0.0, 0.0, 0.3, 0.5):
        n, M = int(rng.integers(1, 15)), int(rng.integers(2, 8))
        P = _random_distributions(rng, (n, M), zero_fraction)
        y = np.argmax(P * rng.random((n, M)), axis=1)  # a label whose probability is > 0
        cases.append(Case((P, y), f"n={n}, M={M}, {int((P == 0).sum())} zero probabilities"))
    M = int(rng.integers(2, 8))
    y = rng.integers(0, M, size=5)
    cases += [
        Case((np.eye(M)[y], y), "certain and right"),
        Case((_random_distributions(rng, (1, M)), np.array([int(rng.integers(0, M))])),
             "a batch of one"),
    ]
    return cases


def _hint_ce_log0(case, expected, got):
    if _non_finite_where_finite(expected, got):
        return ("the logarithm of a zero probability: only the true class's probability "
                "enters the loss, a wrong class may have probability zero")
    return None


def _log_P(P):
    with np.errstate(divide="ignore"):
        return np.log(P)


register(Check(
    name="cross_entropy",
    reference=cross_entropy,
    public_cases=_ce_public,
    hidden_cases=_ce_hidden,
    arg_names=("P", "y"),
    hints=(_hint_ce_log0, *_label_loss_hints(_log_P)),
    kind="implement",
))


# --- softmax_cross_entropy ------------------------------------------------------------
def _sce_public():
    Z = np.array([[1.0, 2.0, 0.5], [0.0, 3.0, -1.0]])
    return [
        Case((Z, np.array([1, 0])), "two samples, M = 3"),
        Case((np.array([[1000.0, 0.0, -1000.0]]), np.array([2])), "large logits, wrong class"),
        Case((np.array([[1000.0, 0.0, -1000.0], [-1000.0, -1001.0, -1002.0]]), np.array([0, 2])),
             "two rows of large logits far apart"),
    ]


def _sce_hidden(rng):
    cases = []
    for _ in range(5):
        n, M = int(rng.integers(1, 15)), int(rng.integers(2, 8))
        cases.append(Case((3.0 * rng.normal(size=(n, M)), rng.integers(0, M, size=n)),
                          f"n={n}, M={M}"))
    M = int(rng.integers(2, 8))
    cases += [
        Case((np.array([[1e4, -1e4, 0.0], [1e4, -1e4, 0.0]]), np.array([0, 1])),
             "logits of +-1e4: right (loss 0) and very wrong (loss 2e4)"),
        Case((1e4 * rng.uniform(-1, 1, size=(4, M)), rng.integers(0, M, size=4)),
             "random logits up to 1e4"),
        Case((rng.normal(size=(1, M)), np.array([int(rng.integers(0, M))])), "a batch of one"),
        Case((np.array([[0.0, -800.0, 5.0]]), np.array([1])),
             "a very unlikely label"),
        Case((np.array([[1000.0, 999.0, 998.0]]), np.array([0])), "large logits, right class"),
    ]
    return cases


LOG0_LOGITS = ("a probability rounded to zero before its logarithm was taken, so the logarithm "
               "divided by zero: stay in the log domain and compute the loss from the logits")
OVERFLOW = ("the exponentials overflow for large logits: the loss must not change when every "
            "logit of a row is shifted by the same constant")


def _hint_sce_stability(case, expected, got):
    if not _non_finite_where_finite(expected, got):
        return None
    Z, y = case.args
    with np.errstate(all="ignore"):
        log_of_probs = _mean_nll(np.log(softmax(Z)), y)
        overflows = bool(np.isinf(np.exp(Z)).any())
    underflows = _same(got, log_of_probs)  # softmax with the shift, then log: log(0)
    if underflows and not overflows:
        return LOG0_LOGITS
    if overflows and not underflows:
        return OVERFLOW
    return ("a probability rounded to zero or an exponential overflowed: compute the loss "
            "from the logits, and shift each row by its own largest logit")


register(Check(
    name="softmax_cross_entropy",
    reference=softmax_cross_entropy,
    public_cases=_sce_public,
    hidden_cases=_sce_hidden,
    arg_names=("Z", "y"),
    hints=(_hint_sce_stability, *_label_loss_hints(log_softmax)),
    float_errors=True,
    kind="implement",
))


# --- entropy --------------------------------------------------------------------------
def _entropy_public():
    return [
        Case((np.array([0.5, 0.5]),), "a fair coin"),
        Case((np.array([1.0, 0.0, 0.0]),), "a certain outcome"),
        Case((np.array([[0.25, 0.25, 0.25, 0.25], [0.7, 0.2, 0.1, 0.0]]),),
             "two distributions, one per row: one entropy each"),
    ]


def _entropy_hidden(rng):
    cases = []
    for zero_fraction in (0.0, 0.3):
        M = int(rng.integers(2, 10))
        cases.append(Case((_random_distributions(rng, (M,), zero_fraction),), f"M={M}"))
        n = int(rng.integers(1, 8))
        cases.append(Case((_random_distributions(rng, (n, M), zero_fraction),),
                          f"{n} distributions over M={M} outcomes"))
    M = int(rng.integers(2, 10))
    cases += [
        Case((np.full(M, 1.0 / M),), f"uniform over {M} outcomes"),
        Case((np.eye(M)[int(rng.integers(0, M))],), "a certain outcome"),
        Case((np.array([1.0]),), "M = 1"),
    ]
    return cases


def _hint_log0(case, expected, got):
    if _non_finite_where_finite(expected, got):
        return LOG0
    return None


def _hint_log2(case, expected, got):
    if np.any(np.asarray(expected) > 0) and _same(got, np.asarray(expected) / LN2):
        return LOG2
    return None


def _hint_entropy_axis(case, expected, got):
    if np.ndim(expected) == 1 and _same(got, np.sum(expected)):
        return ("summed over every axis: each row is one distribution and gets its own "
                "entropy")
    return None


register(Check(
    name="entropy",
    reference=entropy,
    public_cases=_entropy_public,
    hidden_cases=_entropy_hidden,
    arg_names=("p",),
    hints=(_hint_log0, _hint_log2, _hint_entropy_axis),
    kind="implement",
))


# --- kl_divergence ----------------------------------------------------------------------
def _kl_public():
    return [
        Case((np.array([0.5, 0.5]), np.array([0.25, 0.75])), "two coins"),
        Case((np.array([1.0, 0.0]), np.array([0.5, 0.5])), "p has a zero"),
        Case((np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]),
              np.array([[0.2, 0.3, 0.5], [0.3, 0.3, 0.4]])),
             "two pairs, one per row, the first with P = Q"),
        Case((np.array([0.5, 0.5, 0.0]), np.array([1.0, 0.0, 0.0])),
             "q = 0 where p > 0"),
    ]


def _kl_hidden(rng):
    cases = []
    for zero_fraction in (0.0, 0.3):
        n, M = int(rng.integers(1, 8)), int(rng.integers(2, 8))
        p = _random_distributions(rng, (n, M), zero_fraction)
        q = _random_distributions(rng, (n, M))
        cases.append(Case((p, q), f"{n} pairs over M={M} outcomes"))
        cases.append(Case((p[0], q[0]), f"one pair, M={M}"))
    M = int(rng.integers(2, 8))
    p = _random_distributions(rng, (M,))
    q = np.zeros(M)
    q[int(rng.integers(0, M))] = 1.0
    cases += [
        Case((p, p.copy()), "P = Q"),
        Case((p, q), "q = 0 where p > 0"),
    ]
    return cases


def _hint_kl_swapped(case, expected, got):
    p, q = case.args
    if not np.allclose(p, q) and _same(got, kl_divergence(q, p)):
        return ("the two distributions are swapped: the divergence is weighted by the first "
                "argument, and it is not symmetric")
    return None


def _hint_kl_infinite(case, expected, got):
    if not np.all(np.isfinite(expected)) and np.all(np.isfinite(to_float_array(got))):
        return ("the divergence is infinite where the second distribution is zero and the "
                "first is not (it calls a possible outcome impossible): do not hide that with "
                "a small constant")
    return None


register(Check(
    name="kl_divergence",
    reference=kl_divergence,
    public_cases=_kl_public,
    hidden_cases=_kl_hidden,
    arg_names=("p", "q"),
    hints=(_hint_kl_swapped, _hint_log0, _hint_log2, _hint_kl_infinite),
    kind="implement",
))


# --- cross_entropy_by_hand: a batch of two predictions, in nats and in bits --------------
#: The by-hand batch: M = 4 classes; the lectures' classes 3 and 1 are labels 2 and 0. The
#: numbers of variant 0 (docs/exercise_items.md, "Numbers of one's own").
BY_HAND_P = np.array([[0.1, 0.2, 0.5, 0.2], [0.25, 0.25, 0.25, 0.25]])
BY_HAND_Y = np.array([2, 0])


#: The numbers of the by-hand answer, named as in the task.
CROSS_ENTROPY_BY_HAND_NAMES = ("the loss in nats", "the loss in bits")


def cross_entropy_by_hand_reference(P=BY_HAND_P, y=BY_HAND_Y):
    """The mean cross-entropy of a variant's batch (default: the book's), in nats and in
    bits."""
    nats = cross_entropy(np.asarray(P, dtype=np.float64), np.asarray(y, dtype=np.int64))
    return nats, nats / LN2


def _by_hand_numbers(case):
    """The variant's (P, y) a case carries (the book's when it carries none)."""
    params = case.probe if case.probe is not None else cross_entropy_by_hand_params(0)
    return np.asarray(params["P"], dtype=np.float64), np.asarray(params["y"], dtype=np.int64)


def _by_hand_cases(rng=None):
    return [Case((), "the task's batch of two predictions")]


def _hint_by_hand(case, expected, got):
    nats, bits = expected
    numbers = np.concatenate([np.ravel(to_float_array(p)) for p in flatten_output(got)])
    if numbers.size != 2:
        return "return two numbers: the loss in nats and the same loss in bits"
    got_nats, got_bits = numbers
    if np.isclose(got_nats, bits, atol=5e-3) and np.isclose(got_bits, nats, atol=5e-3):
        return "nats and bits are swapped: a bit is the larger unit, so fewer bits than nats"
    if np.isclose(got_nats, 2 * nats, atol=5e-3):
        return "summed over the samples: the loss is their mean"
    P, y = _by_hand_numbers(case)
    with np.errstate(divide="ignore"):
        log_P = np.log(P)
    M = P.shape[1]  # a neighbouring class, counted round (label M - 1 + 1 is label 0)
    wrong_class = _mean_nll(log_P, (y + 1) % M)
    shifted = _mean_nll(log_P, (y - 1) % M)
    if np.isclose(got_nats, wrong_class, atol=5e-3) or np.isclose(got_nats, shifted, atol=5e-3):
        return ("the probability of the wrong class was used: label and lecture class differ "
                "by one, count carefully")
    if np.isclose(got_nats, nats, atol=5e-3) and not np.isclose(got_bits, bits, atol=5e-3):
        return ("the nats are right but the bits are not: a bit is the information of a fair "
                "coin, so divide by its entropy in nats")
    if not np.isclose(got_nats, nats, atol=5e-3):
        return ("the loss in nats is off: each sample costs minus the natural logarithm of the "
                "probability given to its true class, and the batch's loss is the mean")
    return None


register(Check(
    name="cross_entropy_by_hand",
    reference=cross_entropy_by_hand_reference,
    public_cases=_by_hand_cases,
    hidden_cases=_by_hand_cases,
    arg_names=(),
    hints=(_hint_by_hand,),
    judge=numbers_judge(5e-3, CROSS_ENTROPY_BY_HAND_NAMES),
    kind="by_hand",
    parts=CROSS_ENTROPY_BY_HAND_NAMES,
    variant_params=cross_entropy_by_hand_params,  # numbers of one's own
    variant_key=PARAMS["cross_entropy_by_hand"].assignment,
))


# --- expected_calibration_error: a given function with a planted bug ------------------------
#: The version the student is given: each bin's gap is weighted by its count n_k, not by
#: its share n_k / n of the samples (the planted "missing 1/n").
BUGGY_CALIBRATION_ERROR = '''def expected_calibration_error_given(P, y, num_bins):
    confidence = P.max(axis=1)
    correct = (P.argmax(axis=1) == y).astype(float)
    bins = np.minimum((confidence * num_bins).astype(int), num_bins - 1)
    ece = 0.0
    for k in range(num_bins):
        in_bin = bins == k
        if in_bin.any():
            gap = abs(correct[in_bin].mean() - confidence[in_bin].mean())
            ece += in_bin.sum() * gap
    return ece
'''


def _bin_stats(P, y, num_bins, confidence=None):
    """Per bin [k/B, (k+1)/B) (the last one closed): count, accuracy, mean confidence."""
    P = np.asarray(P, dtype=np.float64)
    if confidence is None:
        confidence = P.max(axis=1)
    correct = (P.argmax(axis=1) == np.asarray(y)).astype(np.float64)
    bins = np.minimum((confidence * num_bins).astype(int), num_bins - 1)
    count = np.bincount(bins, minlength=num_bins).astype(np.float64)
    safe = np.maximum(count, 1.0)
    accuracy = np.bincount(bins, weights=correct, minlength=num_bins) / safe
    mean_confidence = np.bincount(bins, weights=confidence, minlength=num_bins) / safe
    return count, accuracy, mean_confidence


def expected_calibration_error(P, y, num_bins):
    """Reference: ECE = sum over bins of (n_k / n) |accuracy_k - confidence_k|."""
    count, accuracy, confidence = _bin_stats(P, y, int(num_bins))
    return float(np.sum(count / count.sum() * np.abs(accuracy - confidence)))


def _ece_case(rng, n, M, num_bins, sharpness, label=""):
    P = rng.dirichlet(np.full(M, sharpness), size=n)
    y = np.where(rng.random(n) < 0.7, P.argmax(axis=1), rng.integers(0, M, size=n))
    return Case((P, y, int(num_bins)), label or f"n={n}, M={M}, {num_bins} bins")


def _ece_public():
    P = np.array([[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.4, 0.35, 0.25],
                  [0.1, 0.1, 0.8], [0.05, 0.9, 0.05]])
    return [
        Case((P, np.array([0, 1, 1, 0, 2, 0]), 5), "six predictions, five bins"),
        Case((P[:4], np.array([0, 0, 1, 2]), 2), "four predictions, two bins"),
        Case((np.array([[1.0, 0.0], [0.5, 0.5]]), np.array([0, 1]), 4),
             "a confidence of exactly 1"),
    ]


def _ece_hidden(rng):
    cases = [_ece_case(rng, int(rng.integers(20, 300)), int(rng.integers(2, 10)),
                       int(rng.choice([5, 10, 15])), float(rng.choice([0.3, 1.0])))
             for _ in range(4)]
    cases.append(_ece_case(rng, 1, 3, 10, 1.0, "a single prediction"))
    return cases


def _hint_ece(case, expected, got):
    """Symptoms of a partial repair of the given function (never the cause)."""
    P, y, num_bins = case.args
    count, accuracy, confidence = _bin_stats(P, y, num_bins)
    filled = count > 0
    if _same(got, float(np.mean(np.abs(accuracy - confidence)[filled]))):
        return "a bin with a single prediction weighs as much as a full one"
    if _same(got, abs(float(np.sum(count / count.sum() * (accuracy - confidence))))):
        return "over- and underconfident bins cancel each other out in the result"
    true_prob = np.asarray(P)[np.arange(len(y)), y]
    true_count, true_acc, true_conf = _bin_stats(P, y, num_bins, confidence=true_prob)
    if _same(got, float(np.sum(true_count / true_count.sum() * np.abs(true_acc - true_conf)))):
        return "the result depends on the probabilities of classes that were not predicted"
    return None


register(Check(
    name="expected_calibration_error",
    reference=expected_calibration_error,
    public_cases=_ece_public,
    hidden_cases=_ece_hidden,
    arg_names=("P", "y", "num_bins"),
    hints=(_hint_ece,),
    kind="debugging",
    given=given_function(BUGGY_CALIBRATION_ERROR),
))


# --- temperature scaling: the NLL of softmax(Z / T), its derivative in T, and the fit -------
def _validation_logits(rng, n, M, scale, temperature):
    """Logits of a model whose labels follow softmax(Z_true), handed out as temperature *
    Z_true: the best temperature on them is close to ``temperature`` (and finite)."""
    while True:
        Z_true = scale * rng.normal(size=(n, M))
        P = softmax(Z_true)
        y = (rng.random((n, 1)) > np.cumsum(P, axis=1)).sum(axis=1)
        y = np.minimum(y, M - 1)
        wrong = np.argmax(Z_true, axis=1) != y
        if wrong.any() and (~wrong).any():
            return temperature * Z_true, y


def _nll_public():
    Z = np.array([[2.0, 0.5, -1.0], [0.0, 1.0, 3.0], [1.0, 1.0, 0.0], [-2.0, 4.0, 0.0]])
    y = np.array([0, 2, 1, 0])
    return [
        Case((Z, y, 1.5), "four samples, M = 3, T = 1.5"),
        Case((Z, y, 0.4), "the same logits, T = 0.4"),
        Case((Z[:2], y[:2], 3.0), "two samples, T = 3"),
        Case((np.array([[300.0, -200.0, 0.0], [150.0, 0.0, 100.0]]), np.array([1, 0]), 0.25),
             "logits in the hundreds, T = 0.25"),
    ]


def _nll_hidden(rng):
    cases = []
    for T in (0.3, 1.0, 1.7, 4.0):
        n, M = int(rng.integers(1, 30)), int(rng.integers(2, 8))
        cases.append(Case((3.0 * rng.normal(size=(n, M)), rng.integers(0, M, size=n), T),
                          f"n={n}, M={M}, T={T}"))
    M = int(rng.integers(2, 8))
    cases += [
        Case((rng.normal(size=(1, M)), np.array([int(rng.integers(0, M))]), 0.8),
             "a batch of one"),
        Case((1e3 * rng.uniform(-1, 1, size=(6, M)), rng.integers(0, M, size=6), 0.2),
             "logits up to 1e3, T = 0.2"),
    ]
    return cases


def _nll_variants(Z, y, T):
    """Typical wrong answers: (name, (nll, dnll_dT))."""
    nll, slope = temperature_nll(Z, y, T)
    n = len(y)
    rows = np.arange(n)
    unscaled = np.mean(Z[rows, y] - np.sum(softmax(Z) * Z, axis=1)) / T**2
    return [
        ("sign", (nll, -slope)),
        ("inverse", (nll, -T**2 * slope)),  # the derivative in 1/T
        ("one power", (nll, T * slope)),
        ("sum", (n * nll, n * slope)),
        ("plain", (nll, float(unscaled))),
    ]


NLL_ADVICE = {
    "sign": ("the derivative has the wrong sign: a larger temperature flattens the "
             "probabilities, check which way that moves the loss"),
    "inverse": ("the derivative is taken with respect to the reciprocal of the temperature: "
                "the chain rule through the division by the temperature is incomplete"),
    "one power": ("the derivative is off by a factor of the temperature: differentiate the "
                  "division by the temperature once more, carefully"),
    "sum": ("summed over the samples: the loss is their mean, and so is its derivative"),
    "times": ("the logits were multiplied by the temperature: a temperature above one must "
              "flatten the distribution"),
    "plain": ("the derivative ignores the temperature: the probabilities in it must be those "
              "of the scaled logits"),
}


def _two_numbers(got):
    """The answer's numbers in order (a pair of floats, NumPy scalars or a 2-array alike)."""
    try:
        return np.concatenate([np.ravel(to_float_array(part)) for part in flatten_output(got)])
    except (TypeError, ValueError):
        return np.array([])


def _judge_nll(case, expected, got):
    """The pair (nll, dnll_dT), however it is packed, against the reference's."""
    numbers = _two_numbers(got)
    if numbers.size != 2:
        return f"returned {numbers.size} number(s), expected 2: the loss and its derivative"
    return compare_outputs(tuple(np.float64(v) for v in expected),
                           tuple(np.float64(v) for v in numbers), names=("nll", "dnll_dT"))


def _hint_nll(case, expected, got):
    Z, y, T = case.args
    numbers = _two_numbers(got)
    if numbers.size != 2:
        return "return two numbers: the loss and its derivative in the temperature"
    if not np.all(np.isfinite(numbers)):
        return ("an exponential overflowed or a probability rounded to zero: small "
                "temperatures make large scaled logits, so compute in the log domain")
    for name, variant in _nll_variants(Z, y, T):
        if np.allclose(numbers, np.array(variant, dtype=np.float64), rtol=1e-6, atol=1e-8):
            return NLL_ADVICE[name]
    multiplied = softmax_cross_entropy(Z * T, y)
    if not np.isclose(multiplied, expected[0]) and np.isclose(numbers[0], multiplied):
        return NLL_ADVICE["times"]
    if np.isclose(numbers[0], expected[0], rtol=1e-6, atol=1e-8):
        return "the loss is right but its derivative in the temperature is not"
    return None


register(Check(
    name="temperature_nll",
    reference=temperature_nll,
    public_cases=_nll_public,
    hidden_cases=_nll_hidden,
    arg_names=("Z", "y", "T"),
    hints=(_hint_nll,),
    judge=_judge_nll,
    float_errors=True,
    kind="transfer",
    parts=("nll", "dnll_dT"),
))


def _fit_public():
    rng = np.random.default_rng(20)
    return [
        Case(_validation_logits(rng, 60, 3, 2.0, 3.0), "60 samples, M = 3, overconfident logits"),
        Case(_validation_logits(rng, 40, 4, 2.0, 0.4), "40 samples, M = 4, underconfident logits"),
    ]


def _fit_hidden(rng):
    cases = []
    for temperature in (0.3, 1.0, 2.0, 5.0):
        n, M = int(rng.integers(50, 400)), int(rng.integers(2, 10))
        cases.append(Case(_validation_logits(rng, n, M, float(rng.uniform(1.0, 3.0)),
                                             temperature),
                          f"n={n}, M={M}, logits scaled by {temperature}"))
    cases.append(Case(_validation_logits(rng, 200, 10, 3.0, 60.0),
                      "n=200, M=10, logits in the hundreds"))
    return cases


def _judge_temperature(case, expected, got):
    """Right: within 1e-4 relative of the best temperature (its value depends on the data,
    so the task gives it no closed form; any minimiser that gets there passes)."""
    Z, y = case.args
    parts = flatten_output(got)
    values = to_float_array(parts[0]) if len(parts) == 1 else np.array([])
    if values.size != 1 or not np.isfinite(values).all():
        return "not a single finite temperature"
    T = float(values.reshape(()))
    if T <= 0:
        return "the temperature must be positive: it divides the logits"
    if np.isclose(T, expected, rtol=1e-4, atol=0.0):
        return None
    nll, slope = temperature_nll(Z, y, T)
    return (f"the loss on these logits is {nll:.6g} at your temperature, with slope "
            f"{slope:.3g} there")


def _hint_fit(case, expected, got):
    Z, y = case.args
    values = to_float_array(flatten_output(got)[0])
    if values.size != 1 or not np.all(np.isfinite(values)) or float(values.reshape(())) <= 0:
        return None
    T = float(values.reshape(()))
    if np.isclose(T, 1.0 / expected, rtol=1e-3):
        return ("the result is the reciprocal of the best temperature: the logits are divided "
                "by the temperature")
    if temperature_nll(Z, y, T)[0] > temperature_nll(Z, y, 1.0)[0]:
        return ("the loss at your temperature is higher than with the logits left unchanged: "
                "the search went uphill or overshot")
    return ("the loss still has a clear slope at your temperature: at the best temperature "
            "its derivative vanishes, so the search stopped too early")


register(Check(
    name="fit_temperature",
    reference=fit_temperature,
    public_cases=_fit_public,
    hidden_cases=_fit_hidden,
    arg_names=("Z", "y"),
    hints=(_hint_fit,),
    judge=_judge_temperature,
    kind="transfer",
))
