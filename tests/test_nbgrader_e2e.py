"""nbgrader's standard path end to end: release into a temp course, submit, autograde, export.

Three submissions of exercise 1: the solution (full marks), the untouched stub (zero) and
plausible wrong answers (zero). nbgrader autograde exits 0 even when notebooks fail, so
the test reads the scores from `nbgrader export`.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import nbformat
import pytest

from course_nn.release import tool_env
from tests.notebooks import ROOT, fill_solutions, nbgrader_meta, read, solution_path

pytestmark = [pytest.mark.grading, pytest.mark.slow, pytest.mark.ch1]
NAME = "ex01_linear_regression"

WRONG = {
    "linear_forward": "def linear_forward(X, W, b):\n    return X @ W.T\n",
    "mse": "def mse(y_hat, y):\n    return float(((y_hat - y) ** 2).sum())\n",
    "linear_mse_grads": (
        "def linear_mse_grads(X, y, W, b):\n"
        "    delta = (y - (X @ W.T + b)) / len(y)\n"
        "    return delta.T @ X, delta.sum(axis=0)\n"
    ),
    "fit_least_squares": (
        "import numpy as np\n"
        "def fit_least_squares(X, y):\n"
        "    W = np.linalg.lstsq(X, y, rcond=None)[0]\n"
        "    return W, 0.0\n"
    ),
}


def nbgrader(course, *args):
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"],
                         cwd=course, capture_output=True, text=True, env=tool_env(), timeout=600)
    assert run.returncode == 0, f"nbgrader {args[0]} failed:\n{run.stdout}\n{run.stderr}"
    return run


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    shutil.copytree(ROOT / "solutions" / NAME, course / "solutions" / NAME)
    nbgrader(course, "generate_assignment", NAME, "--force")
    released = read(course / "exercises" / NAME / f"{NAME}.ipynb")
    submissions = {
        "alice": fill_solutions(released, NAME),
        "bob": released,
        "carol": fill_solutions(released, NAME, replace=WRONG),
    }
    for student, nb in submissions.items():
        folder = course / "submitted" / student / NAME
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{NAME}.ipynb")
    nbgrader(course, "autograde", NAME, "--force")
    nbgrader(course, "export", "--to", str(course / "grades.csv"))
    with open(course / "grades.csv") as handle:
        rows = {row["student_id"]: row for row in csv.DictReader(handle)}
    return course, rows


def auto_points() -> float:
    return sum(nbgrader_meta(c)["points"] for c in read(solution_path(NAME)).cells
               if nbgrader_meta(c).get("grade") and c.cell_type == "code")


def test_every_submission_has_a_row(graded_course):
    _, rows = graded_course
    assert set(rows) == {"alice", "bob", "carol"}


def test_solution_gets_full_autograded_marks(graded_course):
    _, rows = graded_course
    assert auto_points() == 10
    assert float(rows["alice"]["score"]) == auto_points()
    assert float(rows["alice"]["max_score"]) == 12  # 10 autograded + 2 for the written answer


def test_stub_and_wrong_answers_score_zero(graded_course):
    _, rows = graded_course
    assert float(rows["bob"]["score"]) == 0
    assert float(rows["carol"]["score"]) == 0


def test_autograded_notebook_shows_the_teaching_message(graded_course):
    course, _ = graded_course
    nb = read(course / "autograded" / "carol" / NAME / f"{NAME}.ipynb")
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    text = "\n".join(e.evalue for e in errors)
    assert {e.ename for e in errors} == {"CheckFailure"}
    assert "the bias b is missing" in text
    assert "you summed the squared errors" in text
    assert "offset b was not fitted" in text
