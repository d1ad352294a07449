"""Hardened and standard grading agree on honest submissions (and differ where they should).

Standard: ``nbgrader generate_assignment`` then ``nbgrader autograde`` in a temp course
(student code and checks in one kernel). Hardened: ``course-nn grade`` on the same
submissions. Per test cell, the points must match for the honest, partial and stub
submissions; a correct answer that prints to stderr loses its points under nbgrader
only, which is one reason the hardened path exists.
"""

from __future__ import annotations

import subprocess
import sys

import pytest

from course_nn.grading.hardened import Limits, grade_assignment
from course_nn.grading.hardened import testing as T
from course_nn.release import tool_env

pytestmark = [pytest.mark.grading, pytest.mark.slow]

A = "ex01_linear_regression"
#: The auto-graded cells of the assignment and their points, from the instructor notebook.
GRADED = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
          for c in T.read(T.ROOT / "solutions" / A / f"{A}.ipynb")["cells"]
          if c["metadata"].get("nbgrader", {}).get("grade") and c["cell_type"] == "code"}
NOISY_MSE = '''import sys

def mse(y_hat, y):
    print("debug: computing the loss", file=sys.stderr)
    return float(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2))
'''


def nbgrader(course, *args: str) -> None:
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=ERROR"],
                         cwd=course, capture_output=True, text=True, env=tool_env(), timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr


def _grade_both(folder):
    course = T.make_course(folder / "course", [A])
    released = T.read(course / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / A / f"{A}.ipynb"))
    wrong = dict(sol, mse="def mse(y_hat, y):\n    return float(np.sum((y_hat - y) ** 2))")
    students = {"honest": sol, "partial": wrong, "stub": {}, "noisy": dict(sol, mse=NOISY_MSE)}
    for student, sources in students.items():
        T.submit(course, student, A, T.with_sources(released, sources))
    nbgrader(course, "generate_assignment", A, "--force")
    nbgrader(course, "autograde", A, "--force")
    from nbgrader.api import Gradebook

    standard = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in students:
            for test in GRADED:
                standard[f"{student}/{test}"] = gb.find_grade(test, A, A, student).score
    report = grade_assignment(A, course=course, jobs=2, progress=False,
                              out=course / "hardened", limits=Limits(timeout=30))
    hardened = {f"{r.student}/{t.test}": t.points for r in report.results for t in r.tests}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:  # now rewritten by us
        rewritten = {key: gb.find_grade(key.split("/")[1], A, A, key.split("/")[0]).score
                     for key in hardened}
    return {"standard": standard, "hardened": hardened, "rewritten": rewritten}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """Both graders' points per (student/test), computed once per session."""
    data = T.shared_result(tmp_path_factory.getbasetemp(), "nbgrader-agreement", _grade_both)
    return data["standard"], data["hardened"], data["rewritten"]


@pytest.mark.parametrize("student", ["honest", "partial", "stub"])
def test_hardened_and_nbgrader_agree(both, student):
    """Do both paths give every test cell the same points?"""
    standard, hardened, _ = both
    mine = {k: v for k, v in hardened.items() if k.startswith(f"{student}/")}
    theirs = {k: v for k, v in standard.items() if k.startswith(f"{student}/")}
    assert len(mine) == len(GRADED) >= 4
    assert mine == theirs


def test_stderr_output_costs_points_only_under_nbgrader(both):
    """Does a correct answer that prints to stderr keep its points in the hardened path?"""
    standard, hardened, _ = both
    assert hardened["noisy/test_mse"] == GRADED["test_mse"] > 0
    assert standard["noisy/test_mse"] == 0


def test_hardened_scores_overwrite_an_autograded_gradebook(both):
    """After nbgrader autograde, does course-nn grade update the same gradebook entries?"""
    _, hardened, rewritten = both
    assert rewritten == hardened
