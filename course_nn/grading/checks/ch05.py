"""Checks for exercise 5, cross-entropy and information theory (book chapter 5).

Graded functions: ``cross_entropy`` (probabilities and int labels),
``softmax_cross_entropy`` (logits and int labels), ``entropy`` and ``kl_divergence``
(nats, over the last axis). Hidden cases include probabilities of exactly 0 on wrong
classes, logits of +-1e4, a batch of one, and distributions with zero entries.
"""

from __future__ import annotations

import numpy as np

from course_nn.grading.compare import to_float_array
from course_nn.grading.core import Case, Check, register
from course_nn.losses import cross_entropy, entropy, kl_divergence, softmax_cross_entropy
from course_nn.softmax import log_softmax, softmax

LN2 = np.log(2.0)


def _same(got, alt) -> bool:
    """Does the student's output equal an alternative (wrong) answer, NaN where it has NaN?"""
    g = to_float_array(got)
    if g.size == 1 and np.ndim(alt) == 0:
        g = g.reshape(())
    return g.shape == np.shape(alt) and bool(np.allclose(g, alt, equal_nan=True))


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
            return "used log2 instead of the natural log (nats): use np.log"
        return None

    def hint_sum(case, expected, got):
        n = len(case.args[1])
        if n > 1 and expected > 0 and _same(got, n * expected):
            return "summed over the samples; the loss is the mean over them (divide by n)"
        return None

    def hint_one_based(case, expected, got):
        with np.errstate(all="ignore"):
            alt = _mean_nll(log_probs(case.args[0]), case.args[1], offset=-1)
        if not np.isclose(alt, expected) and _same(got, alt):
            return "labels are 0-based here: class y is column y (the lectures count from 1)"
        return None

    return hint_log2, hint_sum, hint_one_based


# --- cross_entropy --------------------------------------------------------------------
def _ce_public():
    P = np.array([[0.57, 0.03, 0.40], [0.12, 0.68, 0.20], [0.03, 0.95, 0.02]])
    return [
        Case((P, np.array([1, 1, 1])), "the lectures' example: -ln 0.03, -ln 0.68, -ln 0.95"),
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
        Case((np.eye(M)[y], y), "certain and right: loss 0"),
        Case((_random_distributions(rng, (1, M)), np.array([int(rng.integers(0, M))])),
             "a batch of one"),
    ]
    return cases


def _hint_ce_log0(case, expected, got):
    if _non_finite_where_finite(expected, got):
        return ("log(0): only take the log of the true class's probability, "
                "-log P[i, y_i] (or use the logits form)")
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
))


# --- softmax_cross_entropy ------------------------------------------------------------
def _sce_public():
    Z = np.array([[1.0, 2.0, 0.5], [0.0, 3.0, -1.0]])
    return [
        Case((Z, np.array([1, 0])), "two samples, M = 3"),
        Case((np.array([[1000.0, 0.0, -1000.0]]), np.array([2])), "large logits, wrong class"),
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
             "a very unlikely label: softmax rounds its probability to 0"),
        Case((np.array([[1000.0, 999.0, 998.0]]), np.array([0])), "large logits, right class"),
    ]
    return cases


LOG0_LOGITS = ("log(0): use the logits form logsumexp(z) - z_y instead of log(softmax(z)), "
               "whose small entries round to 0")
OVERFLOW = "overflow for large logits: subtract the row max (log-sum-exp)"


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
    return ("log(0) or overflow for large logits: use the logits form logsumexp(z) - z_y "
            "and subtract the row max inside logsumexp")


register(Check(
    name="softmax_cross_entropy",
    reference=softmax_cross_entropy,
    public_cases=_sce_public,
    hidden_cases=_sce_hidden,
    arg_names=("Z", "y"),
    hints=(_hint_sce_stability, *_label_loss_hints(log_softmax)),
))


# --- entropy --------------------------------------------------------------------------
def _entropy_public():
    return [
        Case((np.array([0.5, 0.5]),), "a fair coin: ln 2 nats (1 bit)"),
        Case((np.array([1.0, 0.0, 0.0]),), "a certain outcome: 0 (0 log 0 = 0)"),
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
        Case((np.full(M, 1.0 / M),), f"uniform over {M}: ln {M}, the largest entropy"),
        Case((np.eye(M)[int(rng.integers(0, M))],), "a certain outcome: 0"),
        Case((np.array([1.0]),), "M = 1"),
    ]
    return cases


def _hint_log0(case, expected, got):
    if _non_finite_where_finite(expected, got):
        return ("log(0): a term with p = 0 counts as 0 (0 log 0 = 0); "
                "skip it with np.where(p > 0, ...) or use scipy.special.xlogy")
    return None


def _hint_log2(case, expected, got):
    if np.any(np.asarray(expected) > 0) and _same(got, np.asarray(expected) / LN2):
        return "used log2 instead of the natural log (nats): use np.log"
    return None


def _hint_entropy_axis(case, expected, got):
    if np.ndim(expected) == 1 and _same(got, np.sum(expected)):
        return "summed over every axis: sum over the last axis only (axis=-1), one value per row"
    return None


register(Check(
    name="entropy",
    reference=entropy,
    public_cases=_entropy_public,
    hidden_cases=_entropy_hidden,
    arg_names=("p",),
    hints=(_hint_log0, _hint_log2, _hint_entropy_axis),
))


# --- kl_divergence ----------------------------------------------------------------------
def _kl_public():
    return [
        Case((np.array([0.5, 0.5]), np.array([0.25, 0.75])), "two coins"),
        Case((np.array([1.0, 0.0]), np.array([0.5, 0.5])), "p has a zero: 0 log(0/q) = 0"),
        Case((np.array([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]]),
              np.array([[0.2, 0.3, 0.5], [0.3, 0.3, 0.4]])),
             "one divergence per row; P = Q gives 0"),
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
        Case((p, p.copy()), "P = Q: 0"),
        Case((p, q), "q = 0 where p > 0: infinite"),
    ]
    return cases


def _hint_kl_swapped(case, expected, got):
    p, q = case.args
    if not np.allclose(p, q) and _same(got, kl_divergence(q, p)):
        return "KL arguments swapped: D(P||Q) = sum p log(p/q), weighted by the first argument p"
    return None


def _hint_kl_infinite(case, expected, got):
    if not np.all(np.isfinite(expected)) and np.all(np.isfinite(to_float_array(got))):
        return ("D(P||Q) is infinite where q = 0 < p (Q calls possible data impossible): "
                "do not add an epsilon to q")
    return None


register(Check(
    name="kl_divergence",
    reference=kl_divergence,
    public_cases=_kl_public,
    hidden_cases=_kl_hidden,
    arg_names=("p", "q"),
    hints=(_hint_kl_swapped, _hint_log0, _hint_log2, _hint_kl_infinite),
))
