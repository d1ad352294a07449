"""Both grading paths end to end on every assignment: release into a temp course, submit,
`nbgrader autograde` + `nbgrader export`, then `course-nn grade` on the same submissions.

For every assignment: the solution (full autograded marks) and the untouched stub (zero);
for exercise 1 also plausible wrong answers (zero). nbgrader autograde exits 0 even when
notebooks fail, so the test reads the scores from `nbgrader export`. The hardened grader
must give every submission the same score.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys

import nbformat
import pytest

from course_nn.grading.hardened import Limits, grade_assignment
from course_nn.release import tool_env
from tests.notebooks import ROOT, assignment_names, fill_solutions, nbgrader_meta, read, solution_path

pytestmark = [pytest.mark.grading, pytest.mark.slow]
NAMES = assignment_names()

def _first_wrong_answers() -> dict[str, str]:
    """Carol's ex01: the first typical mistake of every graded item of chapter 1's table."""
    from tests.test_checks_ch01 import ITEMS

    return {item.cell_id: item.wrong[0].source for item in ITEMS}


def _first_wrong_hints() -> list[str]:
    """The hints of those first mistakes that call no other graded function (a mistake
    that calls carol's own wrong ``linear_forward`` fails with that function's hint)."""
    from tests.test_checks_ch01 import ITEMS

    def calls_another(item) -> bool:
        return any(f"{other.check}(" in item.wrong[0].source for other in ITEMS if other is not item)

    return [item.wrong[0].hint_contains for item in ITEMS if not calls_another(item)]


WRONG_EX01 = _first_wrong_answers()


def nbgrader(course, *args):
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=WARN"],
                         cwd=course, capture_output=True, text=True, env=tool_env(), timeout=1200)
    assert run.returncode == 0, f"nbgrader {args[0]} failed:\n{run.stdout}\n{run.stderr}"
    return run


def submit(course, student, name, nb):
    folder = course / "submitted" / student / name
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / f"{name}.ipynb")


@pytest.fixture(scope="module")
def graded_course(tmp_path_factory):
    """A temp course with every assignment released, submitted by alice (solutions),
    bob (stubs) and, for ex01, carol (wrong answers); autograded and exported."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    for name in NAMES:
        shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name)
        nbgrader(course, "generate_assignment", name, "--force")
        released = read(course / "exercises" / name / f"{name}.ipynb")
        submit(course, "alice", name, fill_solutions(released, name))
        submit(course, "bob", name, released)
        if name == "ex01_linear_regression":
            submit(course, "carol", name, fill_solutions(released, name, replace=WRONG_EX01))
    for name in NAMES:
        nbgrader(course, "autograde", name, "--force")
    nbgrader(course, "export")  # to graded/nbgrader_grades.csv (nbgrader_config.py)
    assert not (course / "grades.csv").exists()
    with open(course / "graded" / "nbgrader_grades.csv") as handle:
        rows = {(r["assignment"], r["student_id"]): r for r in csv.DictReader(handle)}
    return course, rows


@pytest.fixture(scope="module")
def hardened_scores(graded_course):
    """(assignment, student) -> score from `course-nn grade` on the same submissions."""
    course, _ = graded_course
    scores = {}
    for name in NAMES:
        report = grade_assignment(name, course=course, jobs=2, progress=False, gradebook=False,
                                  out=course / "hardened" / name, limits=Limits(timeout=120))
        scores.update({(name, r.student): (r.score, r.max_score) for r in report.results})
    return scores


def points(name: str, cell_type: str) -> float:
    return sum(nbgrader_meta(c)["points"] for c in read(solution_path(name)).cells
               if nbgrader_meta(c).get("grade") and c.cell_type == cell_type)


@pytest.mark.parametrize("name", NAMES)
def test_solution_gets_full_autograded_marks(graded_course, name):
    _, rows = graded_course
    row = rows[(name, "alice")]
    assert points(name, "code") > 0
    assert float(row["score"]) == points(name, "code")
    assert float(row["max_score"]) == points(name, "code") + points(name, "markdown")


@pytest.mark.parametrize("name", NAMES)
def test_stub_scores_zero(graded_course, name):
    _, rows = graded_course
    assert float(rows[(name, "bob")]["score"]) == 0


def test_wrong_answers_score_zero_and_every_submission_has_a_row(graded_course):
    _, rows = graded_course
    assert float(rows[("ex01_linear_regression", "carol")]["score"]) == 0
    assert {s for _, s in rows} >= {"alice", "bob", "carol"}


def test_autograded_notebook_shows_the_teaching_message(graded_course):
    course, _ = graded_course
    name = "ex01_linear_regression"
    nb = read(course / "autograded" / "carol" / name / f"{name}.ipynb")
    errors = [o for c in nb.cells for o in c.get("outputs", []) if o.output_type == "error"]
    text = "\n".join(e.evalue for e in errors)
    assert {e.ename for e in errors} == {"CheckFailure"}
    for hint in _first_wrong_hints():
        assert hint in text, hint


@pytest.mark.parametrize("name", NAMES)
def test_hardened_grader_agrees_with_nbgrader(graded_course, hardened_scores, name):
    """Does `course-nn grade` give the solution full marks and the stub zero, as nbgrader does?"""
    _, rows = graded_course
    students = ["alice", "bob"] + (["carol"] if name == "ex01_linear_regression" else [])
    for student in students:
        score, max_score = hardened_scores[(name, student)]
        assert score == float(rows[(name, student)]["score"]), (name, student)
        assert max_score == points(name, "code")
