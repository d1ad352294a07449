"""Tests of the chapter 5 grading checks and of exercise 5's graded items.

The table ``ITEMS`` lists every graded cell of ``ex05_cross_entropy`` with typical wrong
answers (each must score 0 with a hint naming the mistake) and right answers written
differently (each must score full marks), run through both grading paths
(``tests/exercise_items.py``).
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_nn.grading import REGISTRY, CheckFailure, check, diagnose
from course_nn.grading.checks.ch05 import (
    BUGGY_CALIBRATION_ERROR,
    cross_entropy_by_hand_reference,
    expected_calibration_error,
)
from course_nn.grading.hardened import testing as T
from course_nn.losses import (
    cross_entropy,
    entropy,
    fit_temperature,
    kl_divergence,
    softmax_cross_entropy,
    temperature_nll,
)
from course_nn.plotting.softmax import calibration_bins
from tests.exercise_items import (
    GIVEN,
    Item,
    Wrong,
    assert_outcomes,
    assert_table,
    assert_written_answers_private,
    hardened_scores,
    hint_problems,
    likely_bug,
    notebook_scores,
)
from tests.notebooks import exercise_path, read
from tests.strategies import seeds

pytestmark = [pytest.mark.ch5, pytest.mark.grading]

A = "ex05_cross_entropy"
BOOK = T.ROOT / "book" / "ch05_cross_entropy.ipynb"
NAMES = ["cross_entropy", "softmax_cross_entropy", "entropy", "kl_divergence",
         "cross_entropy_by_hand", "expected_calibration_error", "temperature_nll",
         "fit_temperature"]


# --- the registry ------------------------------------------------------------------------
def test_checks_are_registered():
    """Is every chapter 5 check registered, with its reference?"""
    assert [REGISTRY[name].reference for name in NAMES] == [
        cross_entropy, softmax_cross_entropy, entropy, kl_divergence,
        cross_entropy_by_hand_reference, expected_calibration_error, temperature_nll,
        fit_temperature]
    assert "softmax_regression_step" not in REGISTRY, "chapter 6 prints its gradient"


def test_hidden_cases_include_edge_cases():
    """Zero probabilities, logits of 1e4, a batch of one, and an infinite divergence."""
    ce = REGISTRY["cross_entropy"].cases(hidden=True, seed=0)
    assert any(np.any(case.args[0] == 0) for case in ce)
    assert any(case.args[0].shape[0] == 1 for case in ce)
    sce = REGISTRY["softmax_cross_entropy"].cases(hidden=True, seed=0)
    assert any(np.max(np.abs(case.args[0])) >= 1e4 for case in sce)
    kl = REGISTRY["kl_divergence"].cases(hidden=True, seed=0)
    assert any(np.any(kl_divergence(*case.args) == np.inf) for case in kl)
    assert REGISTRY["softmax_cross_entropy"].float_errors


def test_by_hand_numbers():
    """(ln 2 + ln 4) / 2 nats, which is (1 + 2) / 2 = 1.5 bits."""
    nats, bits = cross_entropy_by_hand_reference()
    assert nats == pytest.approx((np.log(2) + np.log(4)) / 2) and bits == pytest.approx(1.5)


def test_calibration_reference_agrees_with_the_books_bins():
    """Does the ECE reference weigh the book's calibration bins by their share?"""
    rng = np.random.default_rng(5)
    P = rng.dirichlet(np.full(4, 0.5), size=400)
    y = rng.integers(0, 4, size=400)
    confidence, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(float)
    bins = calibration_bins(confidence, correct, n_bins=10)
    filled = bins.count > 0
    want = np.sum(bins.count[filled] / 400 * np.abs(bins.accuracy[filled]
                                                    - bins.confidence[filled]))
    assert expected_calibration_error(P, y, 10) == pytest.approx(want)


def test_the_given_calibration_error_is_released_and_fails():
    """Is the planted bug in the student's notebook, and does the check reject it?"""
    text = "".join("".join(c["source"]) for c in read(exercise_path(A))["cells"])
    assert BUGGY_CALIBRATION_ERROR.strip() in text
    namespace = {"np": np}
    exec(BUGGY_CALIBRATION_ERROR, namespace)
    with pytest.raises(CheckFailure, match=GIVEN):
        check("expected_calibration_error", namespace["expected_calibration_error_given"])


def test_the_repair_target_is_not_printed_by_the_book():
    """Chapter 5 calls the plotting module's ECE on its bins; it neither prints that code
    nor an ECE from probabilities and labels."""
    code = "".join("".join(c["source"]) for c in read(BOOK)["cells"] if c["cell_type"] == "code")
    assert "show_source(expected_calibration_error" not in code
    assert "def expected_calibration_error" not in code and "num_bins" not in code


def test_the_book_motivates_temperature_scaling_but_does_not_print_it():
    """Chapter 5 scales logits by hand; it neither fits a temperature nor differentiates in it."""
    text = "".join("".join(c["source"]) for c in read(BOOK)["cells"])
    assert "dividing its logits by a single number" in text  # the motivation
    text = text[:text.index("**Exercise 5**")]  # all but the pointer to the exercise
    for phrase in ("fit_temperature", "temperature_nll", "/dT", "/ dT", "partial T", "NLL(T)",
                   "/ T", "/T"):
        assert phrase not in text, phrase


# --- the transfer's references: PyTorch (float64), finite differences, the optimum --------------
def _validation(seed, n=200, M=4, scale=2.0, temperature=3.0):
    rng = np.random.default_rng(seed)
    Z_true = scale * rng.normal(size=(n, M))
    P = np.exp(Z_true - Z_true.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    y = np.minimum((rng.random((n, 1)) > np.cumsum(P, axis=1)).sum(axis=1), M - 1)
    return temperature * Z_true, y


@pytest.mark.parametrize("temperature", [0.2, 1.0, 2.7])
def test_temperature_nll_matches_torch_autograd(torch, temperature):
    """The loss is F.cross_entropy(Z / T) and the derivative autograd's, logits of 1e3 included."""
    Z, y = _validation(1, n=30, temperature=300.0)
    T_t = torch.tensor(temperature, dtype=torch.float64, requires_grad=True)
    loss = torch.nn.functional.cross_entropy(torch.tensor(Z) / T_t, torch.tensor(y))
    loss.backward()
    nll, slope = temperature_nll(Z, y, temperature)
    assert nll == pytest.approx(loss.item(), rel=1e-12)
    assert slope == pytest.approx(T_t.grad.item(), rel=1e-9, abs=1e-12)


@settings(max_examples=40, deadline=None)
@given(seed=seeds(), temperature=st.floats(0.1, 20.0), M=st.integers(2, 8))
def test_temperature_derivative_matches_finite_differences(seed, temperature, M):
    """A central difference of the NLL in T agrees with dNLL/dT."""
    Z, y = _validation(seed, n=25, M=M)
    h = 1e-6 * temperature
    numeric = (temperature_nll(Z, y, temperature + h)[0]
               - temperature_nll(Z, y, temperature - h)[0]) / (2 * h)
    slope = temperature_nll(Z, y, temperature)[1]
    assert numeric == pytest.approx(slope, rel=1e-5, abs=1e-7)


@settings(max_examples=25, deadline=None)
@given(seed=seeds(), temperature=st.sampled_from([0.3, 1.0, 3.0, 20.0]), M=st.integers(2, 8))
def test_fit_temperature_finds_the_minimum(seed, temperature, M):
    """The fitted T has derivative 0 and agrees with a bounded Brent search in log T."""
    import scipy.optimize

    Z, y = _validation(seed, n=150, M=M, temperature=temperature)
    wrong = Z.argmax(axis=1) != y
    if not wrong.any() or wrong.all():
        return  # no finite optimum (or none of interest): the check's cases avoid these
    fitted = fit_temperature(Z, y)
    result = scipy.optimize.minimize_scalar(lambda u: temperature_nll(Z, y, np.exp(u))[0],
                                            bounds=(np.log(1e-3), np.log(1e4)), method="bounded",
                                            options={"xatol": 1e-10})
    assert fitted == pytest.approx(np.exp(result.x), rel=1e-6)
    assert abs(temperature_nll(Z, y, fitted)[1]) * fitted <= 1e-8


def test_fit_temperature_repairs_scaled_logits():
    """Logits three times too large get back a temperature near 3 on a large sample."""
    Z, y = _validation(4, n=20_000, temperature=3.0)
    assert fit_temperature(Z, y) == pytest.approx(3.0, rel=0.05)


def test_fit_temperature_refuses_data_without_an_optimum():
    """Every prediction right: the NLL keeps falling as T -> 0, no finite temperature."""
    Z = np.array([[3.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="no finite temperature"):
        fit_temperature(Z, np.array([0, 1]))


def _stable_softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _naive_softmax(Z):
    E = np.exp(Z)
    return E / E.sum(axis=1, keepdims=True)


@pytest.mark.parametrize("label, wrong, hint", [
    ("a very unlikely label",
     lambda Z, y: -np.mean(np.log(_stable_softmax(Z)[np.arange(len(y)), y])),
     "likely bug: a probability rounded to zero"),
    ("large logits, right class",
     lambda Z, y: -np.mean(np.log(_naive_softmax(Z)[np.arange(len(y)), y])),
     "likely bug: the exponentials overflow"),
])
def test_softmax_cross_entropy_hints_tell_underflow_from_overflow(label, wrong, hint):
    """Hidden cases where only log(0), or only overflow, is the bug get that hint alone."""
    spec = REGISTRY["softmax_cross_entropy"]
    (case,) = [c for c in spec.cases(hidden=True, seed=0) if c.label.startswith(label)]
    with np.errstate(all="ignore"):
        got = wrong(*case.args)
    advice = diagnose(spec, case, spec.reference(*case.args), got)
    assert re.search(hint, advice), advice


# --- the table of graded items -------------------------------------------------------------
LOG_SOFTMAX = '''
def _log_softmax(S):
    shifted = S - S.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
'''

STABLE = '''
def _softmax(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)
'''

ITEMS = [
    Item("cross_entropy", points=2, kind="implement", wrong=[
        Wrong('''def cross_entropy(P, y):
    return -np.mean(np.sum(np.eye(P.shape[1])[y] * np.log(P), axis=1))''',
              hint_contains="logarithm of a zero probability"),
        Wrong('''def cross_entropy(P, y):
    return -np.mean(np.log2(P[np.arange(len(y)), y]))''', hint_contains="in bits"),
        Wrong('''def cross_entropy(P, y):
    return -np.sum(np.log(P[np.arange(len(y)), y]))''', hint_contains="summed over the samples"),
        Wrong('''def cross_entropy(P, y):
    return -np.mean(np.log(P[np.arange(len(y)), y - 1]))''', hint_contains="counted from 0"),
    ], right=[
        '''def cross_entropy(P, y):
    return float(-np.mean(np.log(np.take_along_axis(P, y[:, None], axis=1))))''',
        '''import scipy.special

def cross_entropy(P, y):
    return float(-np.sum(scipy.special.xlogy(np.eye(P.shape[1])[y], P)) / len(y))''',
        '''import math

def cross_entropy(P, y):
    return -sum(math.log(P[i][label]) for i, label in enumerate(y)) / len(y)''',
    ]),
    Item("softmax_cross_entropy", points=2, kind="implement", wrong=[
        Wrong(STABLE + '''
def softmax_cross_entropy(Z, y):
    return float(-np.mean(np.log(_softmax(Z)[np.arange(len(y)), y])))''',
              hint_contains="divided by zero"),
        Wrong('''def softmax_cross_entropy(Z, y):
    return float(np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y]))''',
              hint_contains="overflow"),
        Wrong(STABLE + '''
def softmax_cross_entropy(Z, y):
    return float(-np.mean(np.log(_softmax(Z)[np.arange(len(y)), y - 1])))''',
              hint_contains="counted from 0"),
        Wrong('''import scipy.special

def softmax_cross_entropy(Z, y):
    top = Z.max(axis=1)
    lse = top + np.log(np.exp(Z - top[:, None]).sum(axis=1))
    return float(np.sum(lse - Z[np.arange(len(y)), y]))''', hint_contains="summed over the samples"),
    ], right=[
        '''import scipy.special

def softmax_cross_entropy(Z, y):
    return float(np.mean(scipy.special.logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]))''',
        '''def softmax_cross_entropy(Z, y):
    log_p = Z - np.logaddexp.reduce(Z, axis=1, keepdims=True)
    return float(-np.mean(np.take_along_axis(log_p, y[:, None], axis=1)))''',
    ]),
    Item("entropy", points=1, kind="implement", wrong=[
        Wrong('''def entropy(p):
    return -np.sum(p * np.log(p), axis=-1)''', hint_contains="zero probability"),
        Wrong('''import scipy.special

def entropy(p):
    return -np.sum(scipy.special.xlogy(p, p), axis=-1) / np.log(2)''', hint_contains="in bits"),
        Wrong('''import scipy.special

def entropy(p):
    return -np.sum(scipy.special.xlogy(p, p))''', hint_contains="summed over every axis"),
    ], right=[
        '''import scipy.special

def entropy(p):
    return -np.sum(scipy.special.xlogy(p, p), axis=-1)''',
        '''import scipy.stats

def entropy(p):
    return scipy.stats.entropy(np.asarray(p, dtype=float), axis=-1)''',
    ]),
    Item("kl_divergence", points=1, kind="implement", wrong=[
        Wrong('''import scipy.special

def kl_divergence(p, q):
    return np.sum(scipy.special.xlogy(q, q) - scipy.special.xlogy(q, p), axis=-1)''',
              hint_contains="swapped"),
        Wrong('''def kl_divergence(p, q):
    return np.sum(p * np.log(p / q), axis=-1)''', hint_contains="zero probability"),
        Wrong('''def kl_divergence(p, q):
    return np.sum(p * np.log((p + 1e-12) / (q + 1e-12)), axis=-1)''',
              hint_contains="divergence is infinite"),
    ], right=[
        '''import scipy.special

def kl_divergence(p, q):
    return np.sum(scipy.special.rel_entr(p, q), axis=-1)''',
        '''import scipy.special

def kl_divergence(p, q):
    with np.errstate(divide="ignore"):
        return np.sum(scipy.special.xlogy(p, p) - scipy.special.xlogy(p, q), axis=-1)''',
    ]),
    Item("cross_entropy_by_hand", points=2, kind="by-hand", wrong=[
        Wrong('''def cross_entropy_by_hand():
    return 1.5, 1.0397''', hint_contains="swapped"),
        Wrong('''def cross_entropy_by_hand():
    return 2.0794, 3.0''', hint_contains="summed over the samples"),
        Wrong('''def cross_entropy_by_hand():
    return (1.6094 + 1.3863) / 2, (2.3219 + 2) / 2''', hint_contains="wrong class"),
        Wrong('''def cross_entropy_by_hand():
    return 1.0397, 1.0397 * 2.3026 / 3.3219''', hint_contains="the bits are not"),
    ], right=[
        '''def cross_entropy_by_hand():
    return 1.040, 1.500''',
        '''def cross_entropy_by_hand():
    nats = -(np.log(0.5) + np.log(0.25)) / 2
    return [nats, nats / np.log(2)]''',
    ]),
    Item("expected_calibration_error", points=2, kind="debugging", wrong=[
        Wrong(BUGGY_CALIBRATION_ERROR.replace("_given", ""),
              hint_contains=GIVEN),
        Wrong('''def expected_calibration_error(P, y, num_bins):
    confidence, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(float)
    bins = np.minimum((confidence * num_bins).astype(int), num_bins - 1)
    gaps = [abs(correct[bins == k].mean() - confidence[bins == k].mean())
            for k in range(num_bins) if np.any(bins == k)]
    return float(np.mean(gaps))''', hint_contains="weighs as much as a full one"),
        Wrong('''def expected_calibration_error(P, y, num_bins):
    confidence, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(float)
    bins = np.minimum((confidence * num_bins).astype(int), num_bins - 1)
    total = 0.0
    for k in range(num_bins):
        if np.any(bins == k):
            total += np.mean(bins == k) * (correct[bins == k].mean() - confidence[bins == k].mean())
    return abs(total)''', hint_contains="cancel"),
        Wrong('''def expected_calibration_error(P, y, num_bins):
    confidence = P[np.arange(len(y)), y]
    correct = (P.argmax(axis=1) == y).astype(float)
    bins = np.minimum((confidence * num_bins).astype(int), num_bins - 1)
    total = 0.0
    for k in range(num_bins):
        if np.any(bins == k):
            total += np.mean(bins == k) * abs(correct[bins == k].mean() - confidence[bins == k].mean())
    return total''', hint_contains="classes that were not predicted"),
    ], right=[
        BUGGY_CALIBRATION_ERROR.replace("_given", "").replace(
            "return ece", "return ece / len(y)"),
        '''def expected_calibration_error(P, y, num_bins):
    confidence, correct = P.max(axis=1), (P.argmax(axis=1) == y).astype(float)
    bins = np.minimum(np.floor(confidence * num_bins).astype(int), num_bins - 1)
    count = np.bincount(bins, minlength=num_bins)
    gap = np.abs(np.bincount(bins, correct, num_bins) - np.bincount(bins, confidence, num_bins))
    return float(gap.sum() / count.sum())''',
    ]),
    Item("temperature_nll", points=2, kind="transfer", wrong=[
        Wrong(LOG_SOFTMAX + '''
def temperature_nll(Z, y, T):
    log_a = _log_softmax(Z / T)
    rows = np.arange(len(y))
    slope = np.mean(np.sum(np.exp(log_a) * Z, axis=1) - Z[rows, y]) / T ** 2
    return -np.mean(log_a[rows, y]), slope''', hint_contains="wrong sign"),
        Wrong(LOG_SOFTMAX + '''
def temperature_nll(Z, y, T):
    log_a = _log_softmax(Z / T)
    rows = np.arange(len(y))
    slope = np.mean(np.sum(np.exp(log_a) * Z, axis=1) - Z[rows, y])
    return -np.mean(log_a[rows, y]), slope''', hint_contains="reciprocal of the temperature"),
        Wrong('''def temperature_nll(Z, y, T):
    E = np.exp(Z / T)
    A = E / E.sum(axis=1, keepdims=True)
    rows = np.arange(len(y))
    slope = np.mean(Z[rows, y] - np.sum(A * Z, axis=1)) / T ** 2
    return -np.mean(np.log(A[rows, y])), slope''', hint_contains="overflow"),
        Wrong(LOG_SOFTMAX + '''
def temperature_nll(Z, y, T):
    log_a = _log_softmax(Z * T)
    rows = np.arange(len(y))
    slope = np.mean(Z[rows, y] - np.sum(np.exp(log_a) * Z, axis=1)) / T ** 2
    return -np.mean(log_a[rows, y]), slope''', hint_contains="multiplied by the temperature"),
        Wrong(LOG_SOFTMAX + '''
def temperature_nll(Z, y, T):
    log_a = _log_softmax(Z / T)
    rows = np.arange(len(y))
    slope = np.mean(Z[rows, y] - np.sum(np.exp(_log_softmax(Z)) * Z, axis=1)) / T ** 2
    return -np.mean(log_a[rows, y]), slope''', hint_contains="ignores the temperature"),
        Wrong(LOG_SOFTMAX + '''
def temperature_nll(Z, y, T):
    log_a = _log_softmax(Z / T)
    rows = np.arange(len(y))
    slope = np.sum(Z[rows, y] - np.sum(np.exp(log_a) * Z, axis=1)) / T ** 2
    return -np.sum(log_a[rows, y]), slope''', hint_contains="summed over the samples"),
    ], right=[
        '''import scipy.special

def temperature_nll(Z, y, T):
    S = Z / T
    rows = np.arange(len(y))
    nll = np.mean(scipy.special.logsumexp(S, axis=1) - S[rows, y])
    A = scipy.special.softmax(S, axis=1)
    return nll, -np.mean(np.einsum("im,im->i", A, S) - S[rows, y]) / T''',
        '''def temperature_nll(Z, y, T):
    nll, slope = 0.0, 0.0
    for z, label in zip(np.asarray(Z, dtype=float), y):
        s = z / T
        top = s.max()
        log_norm = top + np.log(np.sum(np.exp(s - top)))
        a = np.exp(s - log_norm)
        nll += (log_norm - s[label]) / len(y)
        slope += (z[label] - a @ z) / (T * T * len(y))
    return nll, slope''',
    ]),
    Item("fit_temperature", points=2, kind="transfer", wrong=[
        Wrong('''def fit_temperature(Z, y):
    low, high = np.log(0.05), np.log(100.0)
    for _ in range(80):
        middle = (low + high) / 2
        if temperature_nll(Z, y, np.exp(middle))[1] > 0:
            high = middle
        else:
            low = middle
    return 1 / np.exp((low + high) / 2)''', hint_contains="reciprocal"),
        Wrong('''def fit_temperature(Z, y):
    T = 1.0
    for _ in range(5):
        T = T - 0.1 * temperature_nll(Z, y, T)[1]
    return T''', hint_contains="stopped too early"),
        Wrong('''def fit_temperature(Z, y):
    grid = [0.25, 0.5, 1.0, 2.0, 4.0]
    return min(grid, key=lambda T: temperature_nll(Z, y, T)[0])''',
              hint_contains="stopped too early"),
        Wrong('''def fit_temperature(Z, y):
    T = 1.0
    for _ in range(20):
        T = max(T + 0.5 * temperature_nll(Z, y, T)[1], 0.01)
    return T''', hint_contains="higher than with the logits left unchanged"),
    ], right=[
        '''import scipy.optimize

def fit_temperature(Z, y):
    result = scipy.optimize.minimize_scalar(lambda u: temperature_nll(Z, y, np.exp(u))[0],
                                            bounds=(np.log(0.05), np.log(100.0)),
                                            method="bounded", options={"xatol": 1e-10})
    return float(np.exp(result.x))''',
        '''def fit_temperature(Z, y):
    low, high = np.log(0.05), np.log(100.0)
    for _ in range(80):
        middle = (low + high) / 2
        if temperature_nll(Z, y, np.exp(middle))[1] > 0:
            high = middle
        else:
            low = middle
    return float(np.exp((low + high) / 2))''',
        '''def fit_temperature(Z, y):
    Z = np.asarray(Z, dtype=float)
    rows, beta = np.arange(len(y)), 1.0
    for _ in range(100):
        S = beta * Z
        A = np.exp(S - S.max(axis=1, keepdims=True))
        A /= A.sum(axis=1, keepdims=True)
        mean_z = np.sum(A * Z, axis=1)
        gradient = np.mean(mean_z - Z[rows, y])
        curvature = np.mean(np.sum(A * Z ** 2, axis=1) - mean_z ** 2)
        step = gradient / curvature
        while beta - step <= 0:
            step /= 2
        beta -= step
        if abs(step) < 1e-13 * beta:
            break
    return 1 / beta''',
    ]),
]


def test_written_answers_keep_model_answer_and_rubric_private():
    """Does every written answer hold a model answer and a rubric (points per criterion)
    in the instructor notebook only?"""
    assert_written_answers_private(A)


def test_the_table_covers_every_graded_cell():
    """Does the table list each graded cell with its points, every kind, and enough answers?"""
    assert_table(A, ITEMS)


def test_items_in_the_notebook_path():
    """Through the in-notebook check (nbgrader's path): wrong 0 with the hint, right full;
    and every hint shown obeys the registry's rules (no code, numbers or formulas)."""
    outcomes = notebook_scores(A, ITEMS)
    assert_outcomes(ITEMS, outcomes, "notebook")
    for key, outcome in outcomes.items():
        assert not hint_problems(likely_bug(outcome.message)), (key, outcome.message)


@pytest.mark.slow
def test_items_in_the_hardened_path(tmp_path):
    """Through course-nn grade (one batch): the same outcomes."""
    assert_outcomes(ITEMS, hardened_scores(A, ITEMS, tmp_path), "hardened")


@pytest.mark.parametrize("T", [0.0, -1.0, float("nan")])
def test_temperature_nll_refuses_a_non_positive_temperature(T):
    """A temperature divides the logits: it must be positive."""
    with pytest.raises(ValueError, match="temperature must be > 0"):
        temperature_nll(np.zeros((2, 3)), np.array([0, 1]), T)


def test_fit_temperature_refuses_logits_worse_than_uniform():
    """Logits that favour the wrong class everywhere: the loss falls towards T -> infinity."""
    Z = np.array([[3.0, 0.0], [0.0, 2.0]])
    with pytest.raises(ValueError, match="no better than uniform"):
        fit_temperature(Z, np.array([1, 0]))
