"""Exercise 1's checks: the reference passes, typical mistakes fail with a teaching hint."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.grading import REGISTRY, CheckFailure, check
from course_nn.linear import fit_least_squares, linear_forward, linear_mse_grads, mse
from tests.checking import assert_teaches

pytestmark = [pytest.mark.ch1, pytest.mark.grading]

REFERENCES = {
    "linear_forward": linear_forward,
    "mse": mse,
    "linear_mse_grads": linear_mse_grads,
    "fit_least_squares": fit_least_squares,
}


def test_hidden_cases_are_random_but_replayable():
    spec = REGISTRY["linear_forward"]
    a, b, c = spec.cases(True, seed=5), spec.cases(True, seed=5), spec.cases(True, seed=6)
    assert all(np.array_equal(x.args[0], y.args[0]) for x, y in zip(a, b, strict=True))
    assert not all(
        x.args[0].shape == y.args[0].shape and np.array_equal(x.args[0], y.args[0])
        for x, y in zip(a, c, strict=True)
    )


WRONG = [
    ("linear_forward", lambda X, W, b: X @ W.T, "the bias b is missing"),
    ("linear_forward", lambda X, W, b: (X @ W.T + b).T, "transposed"),
    ("mse", lambda y_hat, y: float(np.sum((y_hat - y) ** 2)), "you summed the squared errors"),
    ("mse", lambda y_hat, y: float(np.mean(np.abs(y_hat - y))), "mean absolute error"),
    ("linear_mse_grads",
     lambda X, y, W, b: tuple(-g for g in linear_mse_grads(X, y, W, b)), "sign is flipped"),
    ("linear_mse_grads",
     lambda X, y, W, b: tuple(g * np.size(y) / 2 for g in linear_mse_grads(X, y, W, b)),
     "factor 2/N"),
    ("fit_least_squares",
     lambda X, y: (np.linalg.lstsq(X, y, rcond=None)[0], 0.0), "offset b was not fitted"),
    ("fit_least_squares", lambda X, y: fit_least_squares(X, y)[0], "return a pair"),
]


@pytest.mark.parametrize(("name", "wrong", "hint"), WRONG, ids=[f"{n}-{h}" for n, _, h in WRONG])
def test_typical_mistakes_fail_with_their_hint(name, wrong, hint):
    assert_teaches(name, wrong, hint, likely_bug=False)


def test_exceptions_in_student_code_are_reported_with_the_input():
    def broken(X, W, b):
        return np.dot(W, X) + b  # W (p,) cannot multiply X (n, p) from the left
    with pytest.raises(CheckFailure, match=r"raised ValueError: shapes .* not aligned"):
        check("linear_forward", broken)


def test_stub_not_implemented_passes_through():
    def stub(X, W, b):
        raise NotImplementedError()
    with pytest.raises(NotImplementedError):
        check("linear_forward", stub)


def test_in_place_mutation_is_a_failure():
    def mutating(y_hat, y):
        y_hat -= y
        return float(np.mean(y_hat ** 2))
    with pytest.raises(CheckFailure, match="modified its input in place"):
        check("mse", mutating)


def test_warning_in_student_code_is_reported_on_stdout_not_stderr(capsys):
    def noisy(y_hat, y):
        import warnings
        warnings.warn("just a warning", UserWarning, stacklevel=1)
        return mse(y_hat, y)
    check("mse", noisy)
    captured = capsys.readouterr()
    assert "note: your function warned: UserWarning: just a warning" in captured.out
    assert captured.err == ""


def test_failure_on_hidden_case_prints_the_seed():
    def only_public(X, W, b):
        if X.shape == (3, 2):
            return linear_forward(X, W, b)
        return np.zeros((X.shape[0],) + np.shape(b))
    check("linear_forward", only_public)
    with pytest.raises(CheckFailure, match=r"hidden case \d+ of \d+ .*\[seed 42\]"):
        check("linear_forward", only_public, hidden=True, seed=42)


def test_unknown_check_lists_known_names():
    with pytest.raises(KeyError, match="known checks: .*linear_forward"):
        check("no_such_function", lambda: None)
