"""The failure message of one case, by the kind of item: one renderer for both grading paths.

The in-notebook ``check`` (:mod:`course_nn.grading.inline`) and the hardened grader's
judge (docs/grading.md, "10. Judge") both call :func:`render_failure`, so a failed case
reads the same in a notebook and in a grader's report, and the feedback policy of
docs/exercise_items.md ("Feedback policy per kind of item") is applied in one place:

* implement and transfer items: the input, the expected and the returned output, the
  problem and the likely bug;
* by-hand items: never the expected value; the returned numbers under the task's names,
  which quantity is off and which way (:func:`course_nn.grading.core.numbers_judge`), and
  the concept to revisit (the check's hint);
* structure items (the student gives weights): never the reference's weights; the
  returned weights and how the network they make fails;
* debugging items: an answer that behaves like the given function on the case hears
  exactly that and nothing more; a partial repair hears the symptom, never a cause.

Outputs of several parts print one labelled line per part. This module imports only
``core`` and ``compare`` (never the hardened grader), so the hardened grader imports it.
"""

from __future__ import annotations

import copy
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np

from course_nn.grading.compare import flatten_output, format_array, same_answer
from course_nn.grading.core import (
    FLOAT_ERRORS,
    Case,
    Check,
    describe_case,
    flat_numbers,
    part_names,
)

#: What a debugging item's answer hears when it behaves like the given function on a case.
GIVEN_BEHAVIOUR = "behaves like the given function on this case"
#: How an untouched stub (the released ``raise NotImplementedError()``) reads in both
#: grading paths: the work was not attempted, which is not an error in the student's code.
NOT_ATTEMPTED = "not attempted"


def not_attempted(name: str) -> str:
    """The hardened grader's message for a test whose function is still the released stub
    (status ``error``, no points); it starts with :data:`NOT_ATTEMPTED`, which the
    feedback page shows as the verdict."""
    return f"{NOT_ATTEMPTED}: {name} is not implemented yet (it still raises NotImplementedError)"


def case_header(check: Check, case: Case, number: int, total: int, hidden: bool,
                seed: int | None) -> str:
    """``<name>: public case 1 of 3 (label)``, with ``[seed N]`` for a hidden case."""
    kind = "hidden" if hidden else "public"
    label = f" ({case.label})" if case.label else ""
    replay = f" [seed {seed}]" if hidden else ""
    return f"{check.name}: {kind} case {number} of {total}{label}{replay}"


def behaves_like_given(check: Check, case: Case, got: Any, raised: str | None = None) -> bool:
    """Does the answer behave like the given (buggy) function on ``case``?

    ``got`` is the answer's output, or ``raised`` the name of the exception it raised. The
    given function is ours, called on a copy of the case's inputs in the grading process,
    with NumPy's floating-point errors raised where the check raises them for the student:
    it behaves alike when it returns the same output, or raises the same exception."""
    if check.kind != "debugging" or check.given is None:
        return False
    strict = FLOAT_ERRORS if check.float_errors else {"all": "ignore"}
    try:
        with np.errstate(**strict), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            given = check.given(*copy.deepcopy(case.args))
    except Exception as err:  # the given code raises here too: alike if the same way
        return raised == type(err).__name__
    return raised is None and same_answer(got, given, rtol=check.rtol, atol=check.atol)


def _lines(title: str, value: Any, names: Sequence[str]) -> list[str]:
    """``  title: value`` for one part; ``  title:`` and one ``    name = value`` per part."""
    try:
        leaves = flatten_output(value)
    except Exception:  # noqa: BLE001 (a strange object prints as itself)
        leaves = [value]
    if len(leaves) <= 1:
        return [f"  {title}:{' ' * (9 - len(title))}{format_array(value)}"]
    if len(names) != len(leaves):
        names = [f"part {i + 1}" for i in range(len(leaves))]
    width = max(len(n) for n in names)
    return [f"  {title}:"] + [
        f"    {n:<{width}} = {format_array(leaf, indent=7 + width)}"
        for n, leaf in zip(names, leaves, strict=True)]


def _typed_numbers(check: Check, got: Any) -> list[str]:
    """A by-hand answer's numbers, one line each under the task's names (if they fit)."""
    try:
        numbers = flat_numbers(got)
    except (TypeError, ValueError):
        numbers = None
    if numbers is None or numbers.size != len(check.parts) or numbers.size < 2:
        return _lines("got", got, [])
    width = max(len(n) for n in check.parts)
    return ["  got:"] + [f"    {n:<{width}} = {float(v):.6g}"
                         for n, v in zip(check.parts, numbers, strict=True)]


def mutation_problem(arg_names: Sequence[str], changed: Sequence[int]) -> str:
    """The problem of a function that changed its arguments: which ones, by their names in
    the exercise (``Check.arg_names``)."""
    names = [arg_names[i] if 0 <= i < len(arg_names) else f"argument {i + 1}"
             for i in changed] or ["an argument"]
    which = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
    return (f"it modified its input {which} in place (the caller's array changed); "
            "return a new array instead")


def given_behaviour(head: str) -> str:
    """The whole message for an answer that behaves like the given function."""
    return f"{head} failed\n  problem: {GIVEN_BEHAVIOUR}"


def render_failure(check: Check, case: Case, head: str, expected: Any, got: Any,
                   problem: str, raised: str | None = None) -> str:
    """The message of a failed case under the check's feedback policy.

    Parameters
    ----------
    head : the case header (:func:`case_header`).
    expected : the reference's output on the case (shown only where the policy allows).
    got : the student's output (as returned in the notebook; as rebuilt leaves in the
        hardened grader), or a placeholder for "raised".
    problem : what is wrong, with the likely bug (``core.diagnose``, or an exception's).
    raised : the name of the exception the student's function raised, if it did.
    """
    if behaves_like_given(check, case, got, raised):
        return given_behaviour(head)
    lines = [f"{head} failed", "  input:", describe_case(check, case)]
    if check.kind == "by_hand":
        lines += _typed_numbers(check, got)
    elif check.kind == "structure":  # the student's weights; the reference's never
        lines += _lines("got", got, part_names(check, got))
    else:
        lines += _lines("expected", expected, part_names(check, expected))
        lines += _lines("got", got, part_names(check, got))
    lines.append(f"  problem: {problem}")
    return "\n".join(lines)
