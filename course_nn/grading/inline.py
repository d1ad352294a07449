"""``check(name, func)``: run a registered check on a student's function, in process.

This is what an exercise's test cell calls. It prints one line per passed check to
stdout and raises :class:`CheckFailure` (an ``AssertionError``) with a teaching
message on the first failing case. A stub's ``NotImplementedError`` passes through
unchanged, so an untouched exercise reads "not implemented", not "wrong".
"""

from __future__ import annotations

import contextlib
import copy
import secrets
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

from course_nn.grading.compare import compare_outputs, format_array
from course_nn.grading.core import FLOAT_ERRORS, Case, Check, float_error_advice, get_check


class CheckFailure(AssertionError):
    """A student's function gave a wrong answer; the message says which and why."""


def diagnose(check: Check, case: Case, expected: Any, got: Any) -> str | None:
    """``None`` if ``got`` is right for ``case``; else the problem plus the likely bug."""
    if check.judge is not None:
        problem = check.judge(case, expected, got)
    else:
        problem = compare_outputs(expected, got, rtol=check.rtol, atol=check.atol)
    if problem is None:
        return None
    for hint in check.hints:
        try:
            advice = hint(case, expected, got)
        except Exception:  # a hint must never hide the failure it explains
            advice = None
        if advice:
            return f"{problem}\n  likely bug: {advice}"
    return problem


def describe_case(check: Check, case: Case) -> str:
    """The case's inputs, one per line, named as in the exercise."""
    names = check.arg_names or tuple(f"arg{i}" for i in range(len(case.args)))
    return "\n".join(
        f"    {n} = {format_array(a, indent=7 + len(n))}"
        for n, a in zip(names, case.args, strict=False)
    )


def _call_student(func: Callable[..., Any], case: Case,
                  float_errors: bool = False) -> tuple[Any, str | None]:
    """Call ``func`` on copies of the inputs; return (output, problem or None).

    With ``float_errors`` NumPy's overflow, invalid and divide errors are raised while
    ``func`` runs, and a ``FloatingPointError`` becomes the problem.
    """
    args = copy.deepcopy(case.args)
    strict = np.errstate(**FLOAT_ERRORS) if float_errors else contextlib.nullcontext()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with strict:
                got = func(*args)  # NotImplementedError and friends propagate to the caller
        except FloatingPointError as err:
            if not float_errors:
                raise
            return None, float_error_advice(str(err))
    for original, passed in zip(case.args, args, strict=True):
        if isinstance(original, str):
            continue  # e.g. an activation's name: immutable, and not numbers to compare
        if compare_outputs(original, passed, rtol=0, atol=0) is not None:
            return got, "it modified its input in place; return a new array instead"
    if caught:
        print(f"  note: your function warned: {caught[0].category.__name__}: {caught[0].message}")
    return got, None


def check(name: str, func: Callable[..., Any], hidden: bool = False, seed: int | None = None) -> None:
    """Compare ``func`` with the reference on the public (or hidden) cases of check ``name``.

    Parameters
    ----------
    name : the registered check, the function's name in the exercise.
    func : the student's function.
    hidden : use random cases drawn now (the grader's hidden tests) instead of the
        fixed public ones.
    seed : fixes the hidden cases (printed on failure, so a failure can be replayed).

    Raises
    ------
    CheckFailure
        On the first case whose output is wrong, with the input, expected vs got,
        and the likely bug.
    """
    spec = get_check(name)
    if not callable(func):
        raise CheckFailure(f"{name}: expected a function, got {type(func).__name__}")
    if hidden and seed is None:
        seed = secrets.randbits(32)
    cases = spec.cases(hidden=hidden, seed=seed)
    kind = "hidden" if hidden else "public"
    for number, case in enumerate(cases, start=1):
        expected = spec.reference(*copy.deepcopy(case.args))
        try:
            got, problem = _call_student(func, case, spec.float_errors)
        except NotImplementedError:
            raise
        except Exception as err:  # the student's code failed: say where and on what
            got, problem = None, f"raised {type(err).__name__}: {err}"
        if problem is None:
            problem = diagnose(spec, case, expected, got)
        if problem is not None:
            label = f" ({case.label})" if case.label else ""
            replay = f" [seed {seed}]" if hidden else ""
            raise CheckFailure(
                f"{name}: {kind} case {number} of {len(cases)}{label} failed{replay}\n"
                f"  input:\n{describe_case(spec, case)}\n"
                f"  expected: {format_array(expected)}\n"
                f"  got:      {format_array(got)}\n"
                f"  problem: {problem}"
            ) from None
    print(f"\u2713 {name}: {len(cases)} {kind} case(s) passed")
