"""The class report counts the judge's diagnoses, never "likely bug:" text a student wrote
(``TestResult.diagnosis`` -> grades.csv's ``diagnosis`` column -> ``report.diagnosis_counts``;
docs/instructor.md, "The class report")."""

from __future__ import annotations

import csv
import io

import pytest

from course_nn.grading import report as R
from course_nn.grading.hardened import check_notebook
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.outputs import grades_rows
from course_nn.grading.hardened.sandbox import Limits

pytestmark = pytest.mark.grading

A = "ex01_linear_regression"
OWN_TEXT = "likely bug: everyone forgot the bias"
RAISES = ("def linear_forward(X, W, b):\n"
          f"    raise ValueError({OWN_TEXT!r})\n")
SUMS = ("def mse(y_hat, y):\n"
        "    return float(np.sum((np.asarray(y_hat) - np.asarray(y)) ** 2))\n")


def test_a_students_own_likely_bug_is_not_a_diagnosis_and_a_hint_is(tmp_path):
    """A student whose function raises ValueError("likely bug: ...") gets that text in the
    message, no diagnosis, and is counted for none; a sum instead of a mean is diagnosed
    by the check's hint and counted."""
    released = T.read(T.ROOT / "exercises" / A / f"{A}.ipynb")
    solved = T.solutions(T.read(T.ROOT / "solutions" / A / f"{A}.ipynb"))
    path = T.write(tmp_path / A / f"{A}.ipynb", T.with_sources(
        released, {**solved, "linear_forward": RAISES, "mse": SUMS}))
    result = check_notebook(path, Limits(timeout=120, startup=60))
    tests = {t.test: t for t in result.tests}
    forward, mse = tests["test_linear_forward"], tests["test_mse"]
    assert forward.status == "error" and OWN_TEXT in forward.message
    assert forward.diagnosis == ""
    assert mse.status == "failed" and mse.diagnosis and "mean" in mse.diagnosis
    assert f"likely bug: {mse.diagnosis}" in mse.message  # the same words the student reads

    buffer = io.StringIO()
    csv.writer(buffer).writerows(grades_rows([result]))
    (tmp_path / "grades.csv").write_text(buffer.getvalue(), encoding="utf-8")
    found = R.diagnosis_counts(R.read_grades(tmp_path / "grades.csv"))
    assert [(d.test, d.text, d.students) for d in found] == [("test_mse", mse.diagnosis, ("you",))]
