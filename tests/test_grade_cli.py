"""The ``course-nn`` command: ``grade`` options and exit codes, ``check`` for students,
and honest/stub submissions of every assignment that exists."""

from __future__ import annotations

import csv
import subprocess
import sys
from pathlib import Path

import pytest

from course_nn.grading.hardened import Limits, grade_assignment
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec

pytestmark = [pytest.mark.grading, pytest.mark.slow]

A = "ex01_linear_regression"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb")
MAX = SPEC.max_score  # the instructor notebook decides the points
MSE = {t.grade_id: t.points for t in SPEC.tests}["test_mse"]
ASSIGNMENTS = sorted(p.name for p in (T.ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())


def course_nn(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the command as a user would (the module form of the console script)."""
    return subprocess.run([sys.executable, "-m", "course_nn.cli", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=300)


def _notebooks(assignment: str) -> tuple[dict, dict]:
    released = T.read(T.ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    sol = T.solutions(T.read(T.ROOT / "solutions" / assignment / f"{assignment}.ipynb"))
    return released, sol


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """Three students of exercise 1: honest, partial (mse sums), stub."""
    course = T.make_course(tmp_path_factory.mktemp("cli") / "course", [A])
    released, sol = _notebooks(A)
    wrong = dict(sol, mse="def mse(y_hat, y):\n    return float(np.sum((y_hat - y) ** 2))")
    for student, sources in (("ann", sol), ("bob", wrong), ("cat", {})):
        T.submit(course, student, A, T.with_sources(released, sources))
    return course


def test_console_script_is_installed():
    """Is ``course-nn`` on the venv's PATH, as pyproject declares?"""
    assert (Path(sys.executable).parent / "course-nn").exists()


def test_grade_writes_csvs_and_exits_zero_whatever_the_scores(course, tmp_path):
    """Does a batch with failing students still exit 0 and write both CSVs?"""
    run = course_nn("grade", A, "--course", str(course), "--out", str(tmp_path / "out"),
                    "--no-gradebook", "--jobs", "2", "--timeout", "10")
    assert run.returncode == 0, run.stderr
    assert "grading ex01_linear_regression" in run.stderr  # the progress bar, on stderr
    with (tmp_path / "out" / "summary.csv").open() as fh:
        summary = {r["student"]: float(r["score"]) for r in csv.DictReader(fh)}
    assert summary == {"ann": MAX, "bob": MAX - MSE, "cat": 0}
    assert not (course / "gradebook.db").exists()
    assert sorted(p.name for p in (tmp_path / "out" / "feedback").iterdir()) == [
        "ann.html", "bob.html", "cat.html"]


def test_shards_split_the_class(course, tmp_path):
    """Does --shard k/N grade only that share of the students?"""
    graded = []
    for k in (1, 2):
        out = tmp_path / f"shard{k}"
        run = course_nn("grade", A, "--course", str(course), "--out", str(out), "--quiet",
                        "--no-gradebook", "--shard", f"{k}/2", "--jobs", "1")
        assert run.returncode == 0, run.stderr
        with (out / "summary.csv").open() as fh:
            graded.append([r["student"] for r in csv.DictReader(fh)])
    assert graded == [["ann", "cat"], ["bob"]]


@pytest.mark.parametrize(("args", "message"), [
    (["grade", "ex99_nothing"], "no assignment 'ex99_nothing'"),
    (["grade", A, "--submitted", "/nonexistent/submitted"], "no submissions folder"),
])
def test_grade_fails_clearly_when_grading_cannot_run(course, args, message):
    """Does a missing assignment or submissions folder exit non-zero with a clear message?"""
    run = course_nn(*args, "--course", str(course))
    assert run.returncode == 1
    assert message in run.stderr


def test_bad_shard_is_a_usage_error(course):
    run = course_nn("grade", A, "--course", str(course), "--shard", "3/2")
    assert run.returncode == 2 and "1 <= k <= N" in run.stderr


@pytest.mark.parametrize(("student", "code", "words"), [
    ("ann", 0, f"public checks: {MAX:g} / {MAX:g} points"),
    ("bob", 1, "likely bug: you summed the squared errors"),
    ("cat", 1, "not implemented yet"),
])
def test_check_exits_nonzero_when_a_public_check_fails(course, student, code, words):
    """Does the student's self-check exit 1 on any failing public check (unlike nbgrader validate)?"""
    notebook = course / "submitted" / student / A / f"{A}.ipynb"
    run = course_nn("check", str(notebook), "--timeout", "10")
    assert run.returncode == code, run.stdout + run.stderr
    assert words in run.stdout
    assert "hidden" not in run.stdout  # public cases only


def test_check_of_a_missing_notebook_is_exit_2(tmp_path):
    run = course_nn("check", str(tmp_path / "nope.ipynb"))
    assert run.returncode == 2 and "no notebook" in run.stderr


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_every_assignment_grades_honest_full_and_stub_zero(tmp_path, assignment):
    """For each assignment that exists: full marks for the solutions, zero for the stubs?"""
    if not (T.ROOT / "exercises" / assignment / f"{assignment}.ipynb").is_file():
        pytest.skip(f"{assignment} is not released yet (make release)")
    course = T.make_course(tmp_path / "course", [assignment])
    released, sol = _notebooks(assignment)
    T.submit(course, "honest", assignment, T.with_sources(released, sol))
    T.submit(course, "stub", assignment, released)
    report = grade_assignment(assignment, course=course, jobs=2, progress=False,
                              gradebook=False, limits=Limits(timeout=60))
    scores = {r.student: (r.score, r.max_score) for r in report.results}
    assert scores["honest"][0] == scores["honest"][1] > 0, report.results[0].tests
    assert scores["stub"][0] == 0
    assert all(t.status == "passed" for t in report.results[0].tests)


def test_student_and_resume_from_the_command_line(course, tmp_path):
    """`--student bob` grades bob alone and keeps the class's rows; a plain rerun grades
    nobody (unchanged, said on stderr); an unknown id is exit 1 naming it."""
    out = ["--course", str(course), "--out", str(tmp_path / "out"), "--no-gradebook",
           "--quiet", "--jobs", "2", "--timeout", "10"]
    assert course_nn("grade", A, *out).returncode == 0
    summary = (tmp_path / "out" / "summary.csv").read_bytes()
    run = course_nn("grade", A, *out, "--student", "bob")
    assert run.returncode == 0, run.stderr
    assert "graded 1 submission(s)" in run.stderr and "3 student(s) in the outputs" in run.stderr
    with (tmp_path / "out" / "summary.csv").open() as fh:
        scores = {r["student"]: float(r["score"]) for r in csv.DictReader(fh)}
    assert scores == {"ann": MAX, "bob": MAX - MSE, "cat": 0}
    ann = [line for line in summary.splitlines() if line.startswith(b"ann,")]
    assert ann and ann[0] in (tmp_path / "out" / "summary.csv").read_bytes().splitlines()
    run = course_nn("grade", A, *out)
    assert run.returncode == 0 and "graded 0 submission(s)" in run.stderr
    assert "3 submission(s) unchanged since their stored result" in run.stderr
    run = course_nn("grade", A, *out, "--student", "nobody")
    assert run.returncode == 1 and "no submission of 'nobody'" in run.stderr


def test_student_and_regrade_options_parse():
    from course_nn.cli import build_parser

    args = build_parser().parse_args(["grade", A, "--regrade", "--student", "ann", "bob"])
    assert args.only == ["ann", "bob"] and args.regrade
    args = build_parser().parse_args(["grade", A])
    assert args.only is None and not args.regrade
