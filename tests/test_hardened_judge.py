"""Judging the child's numbers (``judge.py``): statuses, notes, overflow."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.cases import draw_cases
from course_nn.grading.hardened.judge import judge_tests
from course_nn.grading.hardened.model import Context, Submission
from course_nn.grading.hardened.sandbox import RunOutcome

pytestmark = pytest.mark.grading

A = "ex01_linear_regression"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb")
MSE = [t.grade_id for t in SPEC.tests].index("test_mse")


def _judged(record_of) -> dict:
    """Judge a submission whose child answered every case of test_mse with ``record_of``."""
    ctx = Context(SPEC, seed=1)
    sub = Submission("s", T.ROOT)
    draw_cases(sub, ctx)
    sub.run = RunOutcome()
    arrays, calls = {}, []
    for number, call in enumerate(sub.cases[MSE]):
        records = []
        for k, expected in enumerate(call.expected):
            record, value = record_of(expected)
            if value is not None:
                key = f"c{number}_k{k}_0"
                arrays[key] = np.asarray(value)
                record["leaves"] = [{"n": 0, "key": key}]
            records.append(record)
        calls.append({"cases": records})
    sub.outputs[MSE] = ({"calls": calls}, arrays)
    judge_tests(sub, ctx)
    return {r.test: r for r in sub.results}


def test_a_right_answer_passes_with_the_childs_note():
    rows = _judged(lambda expected: ({"note": "returned a list where ...; read with np.asarray"},
                                     expected))
    assert rows["test_mse"].status == "passed"
    assert "read with np.asarray" in rows["test_mse"].message


def test_a_wrong_answer_fails_with_a_teaching_message():
    rows = _judged(lambda expected: ({}, np.asarray(expected) * 3 + 1))
    assert rows["test_mse"].status == "failed"
    assert "expected" in rows["test_mse"].message and "got" in rows["test_mse"].message


def test_a_floating_point_error_fails_and_names_the_overflow():
    """Is a FloatingPointError (a check with float_errors) a failed case naming overflow?"""
    error = {"type": "FloatingPointError", "message": "overflow encountered in exp", "where": ""}
    rows = _judged(lambda expected: ({"exception": error}, None))
    assert rows["test_mse"].status == "failed"
    assert "overflow" in rows["test_mse"].message and rows["test_mse"].points == 0


def test_tests_the_child_never_answered_are_crashed():
    rows = _judged(lambda expected: ({}, expected))
    others = [r for test, r in rows.items() if test != "test_mse"]
    assert others and all(r.status == "crashed" for r in others)


def test_an_exception_with_a_known_cause_gets_the_likely_bug_line():
    """Does the grader name the likely bug of a known exception, as the notebook check does?"""
    from course_nn.grading.compare import exception_hint

    message = "operands could not be broadcast together with shapes (2,3) (2,) "
    error = {"type": "ValueError", "message": message, "where": "line 3"}
    rows = _judged(lambda expected: ({"exception": error}, None))
    assert rows["test_mse"].status == "error"
    assert f"likely bug: {exception_hint('ValueError', message)}" in rows["test_mse"].message
