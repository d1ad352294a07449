"""Issues 19 and 23: a per-student result store; ``--student``, partial runs and resuming.

A class of four students of exercise 1 is graded once with the gradebook (module
fixture); each test works on its own copy of that course. A partial run (``--student``,
a ``--submitted`` folder holding one student) must change that student's rows, page,
autograded notebook, gradebook rows and stored result, and leave everyone else's byte
for byte (their hidden seed included); a hand grade stands unless the written answer it
was given on changed; a batch interrupted after some students keeps their stored
results, and the next run grades only the rest. Design: docs/grading.md, "11. Outputs";
docs/instructor.md, "Regrading one student".
"""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import pytest

from course_nn.grading.hardened import Limits, grade_assignment, pipeline, store
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.model import Context

pytestmark = [pytest.mark.grading, pytest.mark.slow]

A = "ex01_linear_regression"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb", A)
TESTS = [t.grade_id for t in SPEC.tests]
WRITTEN = "written_standardising"
STUDENTS = ("ann", "bob", "cat", "dave")
WRONG_MSE = "def mse(y_hat, y):\n    return float(np.sum((np.asarray(y_hat) - y) ** 2))\n"
LIMITS = Limits(timeout=60, startup=30)


def notebook(course: Path, mse: str | None = None, answer: str = "an answer") -> dict:
    released = T.read(course / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / A / f"{A}.ipynb"))
    return T.with_sources(released, {**sol, **({"mse": mse} if mse else {}), WRITTEN: answer})


def grade(course: Path, **options):
    return grade_assignment(A, course=course, jobs=2, progress=False, limits=LIMITS, **options)


@pytest.fixture(scope="module")
def base(tmp_path_factory) -> Path:
    """Four students, graded once with the gradebook (bob's mse sums instead of averaging)."""
    course = T.make_course(tmp_path_factory.mktemp("incremental") / "course", [A])
    for student in STUDENTS:
        T.submit(course, student, A, notebook(
            course, WRONG_MSE if student == "bob" else None, f"The answer of {student}."))
    report = grade(course)
    assert report.graded == list(STUDENTS)
    return course


@pytest.fixture
def course(base, tmp_path) -> Path:
    return Path(shutil.copytree(base, tmp_path / "course", symlinks=True))


def out(course: Path) -> Path:
    return course / "graded" / A


def rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def snapshot(course: Path, student: str) -> dict[str, object]:
    """Everything the grader keeps about one student, as bytes (or rows of bytes)."""
    graded = out(course)
    return {
        "grades": [r for r in rows(graded / "grades.csv") if r[0] == student],
        "summary": [r for r in rows(graded / "summary.csv") if r[0] == student],
        "page": (graded / "feedback" / f"{student}.html").read_bytes(),
        "autograded": (course / "autograded" / student / A / f"{A}.ipynb").read_bytes(),
        "record": (graded / "results" / f"{student}.json").read_bytes(),
        "gradebook": gradebook_rows(course, student),
    }


def gradebook_rows(course: Path, student: str) -> dict[str, tuple]:
    from nbgrader.api import Gradebook

    from course_nn.grading.hardened.gradebook import _alembic_on_path

    _alembic_on_path()
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {g.name: (g.auto_score, g.manual_score, g.needs_manual_grade)
                for g in gb.find_submission_notebook(A, A, student).grades}


def seed_of(course: Path, student: str) -> int:
    return json.loads((out(course) / "results" / f"{student}.json").read_text())["seed"]


def assert_one_row_per_student(course: Path, students=STUDENTS) -> None:
    summary = rows(out(course) / "summary.csv")[1:]
    assert sorted(r[0] for r in summary) == sorted(students)
    grades = rows(out(course) / "grades.csv")[1:]
    assert sorted((r[0], r[1]) for r in grades) == sorted((s, t) for s in students for t in TESTS)
    assert sorted(p.name for p in (out(course) / "feedback").iterdir()) == sorted(
        f"{s}.html" for s in students)
    assert sorted(p.name for p in (out(course) / "results").iterdir()) == sorted(
        f"{s}.json" for s in students)


def score(course: Path, student: str) -> float:
    (row,) = [r for r in rows(out(course) / "summary.csv") if r[0] == student]
    return float(row[1])


def test_the_store_holds_each_students_result_seed_and_digest(base):
    """Is each record complete, checked JSON whose seed is the one the messages name?"""
    for student in STUDENTS:
        record = store.read_record(out(base) / "results" / f"{student}.json", SPEC)
        assert record.published and record.result.student == student
        assert record.submission_sha256 == store.submission_digest(
            base / "submitted" / student / A)
        assert f"(seed {record.seed})" in record.result.tests[0].message
        assert [t.test for t in record.result.tests] == TESTS
    assert len({seed_of(base, s) for s in STUDENTS}) == len(STUDENTS)  # a fresh seed each
    assert_one_row_per_student(base)


def test_student_regrades_one_and_leaves_everyone_else_byte_for_byte(course):
    """--student dave after dave's notebook changed: dave's row, page, notebook, gradebook
    rows and record change; the others' stay byte for byte, their seeds included."""
    others = [s for s in STUDENTS if s != "dave"]
    before = {s: snapshot(course, s) for s in STUDENTS}
    T.submit(course, "dave", A, notebook(course, WRONG_MSE, "The answer of dave."))
    report = grade(course, only=["dave"])
    assert report.graded == ["dave"] and len(report.results) == len(STUDENTS)
    for student in others:
        assert snapshot(course, student) == before[student], student
    after = snapshot(course, "dave")
    assert score(course, "dave") == score(course, "bob") < SPEC.max_score
    for key in ("grades", "summary", "page", "autograded", "record", "gradebook"):
        assert after[key] != before["dave"][key], key
    assert_one_row_per_student(course)


def test_a_partial_submitted_folder_updates_only_its_student(course, tmp_path):
    """`--submitted` holding only dave (issue 23): dave regraded, the others' rows and
    pages kept, not overwritten by dave's alone."""
    partial = tmp_path / "partial"
    T.write(partial / "dave" / A / f"{A}.ipynb", notebook(course, WRONG_MSE, "Dave again."))
    before = {s: snapshot(course, s) for s in STUDENTS if s != "dave"}
    report = grade(course, submitted=partial)
    assert report.graded == ["dave"] and report.kept == []
    assert {s: snapshot(course, s) for s in before} == before
    assert score(course, "dave") < SPEC.max_score
    assert_one_row_per_student(course)
    again = grade(course, submitted=partial)  # unchanged since: kept, nothing graded
    assert again.graded == [] and again.kept == ["dave"]
    assert_one_row_per_student(course)


def give_hand_grade(course: Path, student: str, points: float) -> None:
    """What formgrader stores when the instructor scores the written answer."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grade = gb.find_grade(WRITTEN, A, A, student)
        grade.manual_score, grade.needs_manual_grade = points, False
        gb.find_comment(WRITTEN, A, A, student).manual_comment = "Well argued."
        gb.db.commit()


def test_a_hand_grade_stands_unless_the_written_answer_changed(course):
    """bob's hand grade survives ann's regrade and his own with the same answer; a new
    answer is flagged for a new look (the score kept for review, as nbgrader does)."""
    give_hand_grade(course, "bob", 2.0)
    assert gradebook_rows(course, "bob")[WRITTEN] == (None, 2.0, False)
    bob = snapshot(course, "bob")
    T.submit(course, "ann", A, notebook(course, WRONG_MSE, "The answer of ann."))
    grade(course, only=["ann"])
    assert gradebook_rows(course, "bob") == bob["gradebook"]
    assert snapshot(course, "bob")["autograded"] == bob["autograded"]
    page = (out(course) / "feedback" / "bob.html").read_text()
    assert "graded by hand: <strong>2 / 3</strong>" in page and "Well argued." in page

    T.submit(course, "bob", A, notebook(course, None, "The answer of bob."))  # code fixed only
    grade(course, only=["bob"])
    assert gradebook_rows(course, "bob")[WRITTEN] == (None, 2.0, False)
    assert gradebook_rows(course, "bob")["test_mse"][0] == 1.0  # the new code's points
    assert score(course, "bob") == SPEC.max_score

    T.submit(course, "bob", A, notebook(course, None, "A new answer of bob."))
    grade(course, only=["bob"])
    assert gradebook_rows(course, "bob")[WRITTEN] == (None, 2.0, True)  # to look at again
    assert gradebook_rows(course, "ann")[WRITTEN][2]  # ann: answered, never hand graded
    assert_one_row_per_student(course)


def test_an_interrupted_batch_keeps_finished_students_and_resumes(tmp_path, monkeypatch, capsys):
    """A batch stopped at its third student keeps the first two stored (whole JSON, nothing
    else written); the next run grades only the other two and ends with four rows."""
    course = T.make_course(tmp_path / "course", [A])
    for student in STUDENTS:
        T.submit(course, student, A, notebook(course))
    real = pipeline.grade_submission
    calls: list[str] = []
    stop = {"cat"}  # Ctrl-C while cat is graded

    def stopped_at_cat(student, *args, **kwargs):
        calls.append(student)
        if student in stop:
            raise KeyboardInterrupt
        return real(student, *args, **kwargs)

    monkeypatch.setattr(pipeline, "grade_submission", stopped_at_cat)
    with pytest.raises(KeyboardInterrupt):
        grade_assignment(A, course=course, jobs=1, progress=False, limits=LIMITS,
                         gradebook=False)
    results = out(course) / "results"
    assert sorted(p.name for p in results.iterdir()) == ["ann.json", "bob.json"]
    stored = {s: store.read_record(results / f"{s}.json", SPEC) for s in ("ann", "bob")}
    assert all(r.result.score == SPEC.max_score and not r.published for r in stored.values())
    assert sorted(p.name for p in out(course).iterdir()) == ["results"]  # no half outputs
    kept = {s: (results / f"{s}.json").read_bytes() for s in ("ann", "bob")}

    calls.clear()
    stop.clear()
    report = grade_assignment(A, course=course, jobs=1, progress=False, limits=LIMITS,
                              gradebook=False)
    assert sorted(calls) == ["cat", "dave"]
    assert report.graded == ["cat", "dave"] and report.kept == ["ann", "bob"]
    assert "2 submission(s) unchanged since their stored result" in capsys.readouterr().err
    assert {s: (results / f"{s}.json").read_bytes() for s in kept} == kept
    assert_one_row_per_student(course)
    calls.clear()
    assert grade_assignment(A, course=course, jobs=1, progress=False, limits=LIMITS,
                            gradebook=False, regrade=True).graded == list(STUDENTS)
    assert sorted(calls) == list(STUDENTS)


def test_a_student_that_is_not_submitted_is_refused(course):
    from course_nn.grading.hardened import GradingError

    with pytest.raises(GradingError, match="no submission of 'nobody'"):
        grade(course, only=["dave", "nobody"])
    with pytest.raises(GradingError, match="cannot be combined with --shard"):
        grade(course, only=["dave"], shard_of=(1, 2))


def test_the_batch_keeps_no_students_hidden_draws(base):
    """Is each submission's seed the one handed to the store, and are its hidden cases
    dropped from the batch's shared draws afterwards (memory bounded by the batch)?"""
    from course_nn.grading.hardened.sandbox import Launcher

    ctx = Context(SPEC, Launcher.create(LIMITS, "auto"), submitted=(base / "submitted").resolve())
    seen = []
    [result] = pipeline.grade_batch([("ann", ctx.submitted / "ann" / A)], ctx, 1, False,
                                    on_result=lambda s, r, seed: seen.append((s, r, seed)))
    assert [(s, r) for s, r, _ in seen] == [("ann", result)]
    assert f"(seed {seen[0][2]})" in result.tests[0].message
    assert ctx.drawn and not [k for k in ctx.drawn if k[1]]  # public draws only
