"""Issue 23: late work through a whole term's outputs, and ``course-nn export`` to Canvas,
Moodle and plain CSV (``hardened/lms.py``).

The unit tests render the tables from a small typed :class:`lms.Table`. The end-to-end
test grades a class of exercise 1 against a due date in nbgrader's gradebook: cat
submits 2 days 3 hours late (a 10 % per day begun policy: 30 %), dave 1 day late with a
48-hour extension (on time), bob is missing from the roster. Its penalty must appear in
summary.csv, on cat's feedback page, in the gradebook (as nbgrader would store it), in
the three export files and in ``nbgrader export``'s own CSV; nothing may be written at
the course root. Design: docs/instructor.md, "Deadlines and late work" and "Exporting
grades to Canvas or Moodle".
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
import subprocess
import sys
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from course_nn.grading.hardened import lms
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.deadlines import iso
from course_nn.grading.hardened.outputs import FORMULA_START

A = "ex01_linear_regression"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb", A)
MAX = SPEC.max_score
WRITTEN = "written_standardising"
WRITTEN_POINTS = {c.grade_id: c.points for c in SPEC.cells}[WRITTEN]
POSSIBLE = MAX + WRITTEN_POINTS  # the gradebook's max_score: every grade cell
DUE = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
STAMPS = {"ann": DUE - timedelta(hours=5), "bob": DUE - timedelta(minutes=1),
          "cat": DUE + timedelta(days=2, hours=3), "dave": DUE + timedelta(days=1)}
WRONG_MSE = "def mse(y_hat, y):\n    return float(np.sum((np.asarray(y_hat) - y) ** 2))\n"
ROSTER = ("student_id,name,email,section,lms_id,sis_id,login\n"
          "ann,\"Smith, Ann\",ann@uni.example,L1,101,S-1,ann.smith\n"
          "cat,=HYPERLINK(\"http://evil.example\"),cat@uni.example,L2,103,S-3,cat.c\n"
          "dave,\"Doe, Dave\",dave@uni.example,L1,104,S-4,dave.d\n"
          "eve,\"Eve, Only\",eve@uni.example,L2,105,S-5,eve.e\n")


def rows(data: str | Path) -> list[list[str]]:
    text = data.read_text(encoding="utf-8") if isinstance(data, Path) else data
    return list(csv.reader(io.StringIO(text, newline="")))


def page_text(path: Path) -> str:
    """A feedback page as the student reads it: tags dropped, entities decoded."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", "", path.read_text())).split())


# --- unit: the tables ------------------------------------------------------------------------
def _table() -> lms.Table:
    table = lms.Table([("a1", 10.0), ("a2", 5.0)], ["ann", "bob", "zed"],
                      enrolled=frozenset({"ann", "bob"}))
    table.scores["ann", "a1"] = lms.Score(6.0, 2.0, 2.4, 10.0, DUE, 7200.0)
    table.scores["ann", "a2"] = lms.Score(5.0, 0.0, 0.0, 5.0, DUE - timedelta(days=1))
    table.scores["bob", "a1"] = lms.Score(0.0, 0.0, 0.0, 10.0, has_submission=False)
    table.scores["bob", "a2"] = lms.Score(1.0, 0.0, 3.0, 5.0, DUE, 99.0)  # penalty > score
    return table


def _people() -> dict[str, lms.Person]:
    return {"ann": lms.Person("ann", "101", "S-1", "ann.s", "@SUM(A1)", "ann@x", "L1"),
            "zed": lms.Person("zed", "109", name="Zed")}


def test_canvas_columns_and_the_points_possible_row():
    got = lms.canvas_rows(_table(), _people(), {"a1": "4711"})
    assert got[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                      "a1 (4711)", "a2"]
    assert got[1] == ["Points Possible", "", "", "", "", "10", "5"]
    assert got[2] == ["'@SUM(A1)", "101", "S-1", "ann.s", "L1", "5.6", "5"]
    assert got[3] == ["bob", "", "", "", "", "0", "0"]  # unmapped: blank LMS fields, a 0 kept
    assert got[4] == ["Zed", "109", "", "", "", "", ""]  # not in the gradebook: no grade
    assert len(got) == 2 + 3


def test_moodle_identifies_by_id_number_or_email():
    got = lms.moodle_rows(_table(), _people())
    assert got[0] == ["ID number", "Email address", "Username", "Full name", "a1", "a2"]
    assert got[1] == ["S-1", "ann@x", "ann.s", "'@SUM(A1)", "5.6", "5"]
    assert got[2] == ["", "", "", "bob", "0", "0"]


def test_plain_rows_carry_every_part_of_each_grade():
    got = lms.plain_rows(_table(), _people())
    assert got[0] == list(lms.PLAIN_COLUMNS)
    by = {(r[0], r[6]): dict(zip(got[0], r, strict=True)) for r in got[1:]}
    assert len(by) == 3 * 2
    ann = by["ann", "a1"]
    assert (ann["auto"], ann["hand"], ann["penalty"], ann["total"], ann["max_score"]) == \
        ("6", "2", "2.4", "5.6", "10")
    assert ann["submitted"] == iso(DUE) and ann["seconds_late"] == "7200"
    assert by["bob", "a2"]["total"] == "0"  # never below 0, as nbgrader export
    assert by["bob", "a1"]["submitted"] == ""
    assert by["zed", "a1"]["total"] == "" and by["zed", "a1"]["max_score"] == "10"


def test_the_roster_is_read_checked_and_cleaned(tmp_path):
    path = tmp_path / "roster.csv"
    path.write_bytes("\ufeffStudent_ID,Name,email,extra\nann,Ann\u202e,a@x,1\n,,,\n".encode())
    people = lms.read_roster(path)
    assert list(people) == ["ann"] and people["ann"].email == "a@x"
    assert "\u202e" not in people["ann"].name  # a bidi override is no name
    path.write_text("id,name\nann,Ann\n")
    with pytest.raises(lms.ExportError, match="student_id"):
        lms.read_roster(path)
    path.write_text("student_id,name\nann,Ann\nann,Other\n")
    with pytest.raises(lms.ExportError, match="line 3"):
        lms.read_roster(path)
    path.write_bytes(b"student_id\n\xff\xfe\n")
    with pytest.raises(lms.ExportError):
        lms.read_roster(path)


def test_the_export_command_refuses_without_a_gradebook(tmp_path, capsys):
    from course_nn.cli import main

    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\n")
    assert main(["export", A, "--course", str(tmp_path)]) == 1
    assert "no gradebook" in capsys.readouterr().err
    assert main(["export", "--course", str(tmp_path)]) == 1  # neither A nor --all
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nbgrader_config.py"]


# --- end to end: a class graded against a due date ---------------------------------------------
def _gradebook(course: Path):
    from nbgrader.api import Gradebook

    from course_nn.grading.hardened.gradebook import _alembic_on_path

    _alembic_on_path()
    return Gradebook(f"sqlite:///{course / 'gradebook.db'}")


def _nbgrader_export(course: Path) -> list[dict[str, str]]:
    """``nbgrader export`` as the instructor runs it, from the course folder."""
    nbgrader = Path(sys.executable).parent / "nbgrader"
    run = subprocess.run([str(nbgrader), "export"], cwd=course, capture_output=True,
                         text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    with (course / "graded" / "nbgrader_grades.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def term(tmp_path_factory):
    """Four students graded with a due date, a policy and one extension; then cat's
    written answer graded by hand and `course-nn export` / `nbgrader export` run."""
    from course_nn.cli import main
    from course_nn.grading.hardened import Limits, grade_assignment

    base = tmp_path_factory.mktemp("term")
    course = T.make_course(base / "course", [A])
    with (course / "nbgrader_config.py").open("a") as fh:
        fh.write("\nc.LateWork.penalty_method = 'per_day'\nc.LateWork.rate = 0.1\n"
                 f"c.LateWork.cap = 0.5\nc.LateWork.extensions = {{{A!r}: {{'dave': 48}}}}\n")
    released = T.read(course / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / A / f"{A}.ipynb"))
    for student, stamp in STAMPS.items():
        sources = {**sol, WRITTEN: f"The answer of {student}."}
        if student == "bob":
            sources["mse"] = WRONG_MSE
        T.submit(course, student, A, T.with_sources(released, sources))
        (course / "submitted" / student / A / "timestamp.txt").write_text(
            stamp.strftime("%Y-%m-%d %H:%M:%S.%f UTC"))
    with warnings.catch_warnings(), _gradebook(course) as gb:  # nbgrader db assignment add
        warnings.simplefilter("ignore")
        gb.update_or_create_assignment(A, duedate=DUE.replace(tzinfo=None))
    before = sorted(p.name for p in course.iterdir())
    report = grade_assignment(A, course=course, jobs=2, progress=False,
                              limits=Limits(timeout=60, startup=30))
    assert report.graded == sorted(STAMPS)
    graded = course / "graded" / A
    found = {"course": course, "graded": graded,
             "summary": {r["student"]: r for r in csv.DictReader(
                 (graded / "summary.csv").open(newline=""))},
             "cat_page": page_text(graded / "feedback" / "cat.html"),
             "ann_page": page_text(graded / "feedback" / "ann.html"),
             "dave_page": page_text(graded / "feedback" / "dave.html"),
             "record": json.loads((graded / "results" / "cat.json").read_text())}
    with _gradebook(course) as gb:
        found["graded_penalty"] = {
            s: gb.find_submission_notebook(A, A, s).late_submission_penalty for s in STAMPS}
        found["dave_extension"] = gb.find_submission(A, "dave").extension
        found["dave_late"] = gb.find_submission(A, "dave").total_seconds_late
        gb.find_grade(WRITTEN, A, A, "cat").manual_score = WRITTEN_POINTS  # formgrader
        gb.db.commit()
    (course / "roster.csv").write_text(ROSTER)
    monkey = pytest.MonkeyPatch()
    monkey.chdir(course)  # as an instructor runs it: nothing may land in the working folder
    err = io.StringIO()
    try:
        monkey.setattr(sys, "stderr", err)
        found["export_exit"] = main(["export", A, "--canvas-id", f"{A}=4711"])
        found["feedback_exit"] = main(["feedback", A])
    finally:
        monkey.undo()
    found["export_err"] = err.getvalue()
    found["cat_page_after"] = page_text(graded / "feedback" / "cat.html")
    found["nbgrader"] = {r["student_id"]: r for r in _nbgrader_export(course)}
    found["new_at_root"] = sorted(set(p.name for p in course.iterdir()) - set(before))
    yield found
    shutil.rmtree(base, ignore_errors=True)


LATE_SHARE = 0.3  # 2 days 3 hours: 3 days begun at 10 %


@pytest.mark.grading
@pytest.mark.slow
def test_the_late_penalty_is_in_summary_csv(term):
    summary = term["summary"]
    cat = summary["cat"]
    assert float(cat["score"]) == MAX
    assert cat["late"] == "2 days 3 hours" and cat["submitted"] == iso(STAMPS["cat"])
    assert float(cat["penalty"]) == pytest.approx(LATE_SHARE * MAX)  # hand grades pending
    for student in ("ann", "bob", "dave"):  # dave: 1 day late, 48 hours extension
        assert (summary[student]["late"], summary[student]["penalty"]) == ("", "0"), student
    assert term["record"]["result"]["submitted"] == iso(STAMPS["cat"])  # a regrade keeps it


@pytest.mark.grading
@pytest.mark.slow
def test_the_late_penalty_is_on_the_feedback_page(term):
    penalty = f"{LATE_SHARE * MAX:g}"
    assert "Submitted 2 days 3 hours after the deadline (2026-03-01 23:59 UTC)" in term["cat_page"]
    assert f"late penalty: -{penalty} points" in term["cat_page"]
    assert f"so the score is {MAX - LATE_SHARE * MAX:g} / {POSSIBLE:g}" in term["cat_page"]
    assert "after the deadline" not in term["ann_page"]
    assert "after the deadline" not in term["dave_page"]
    after = f"{LATE_SHARE * POSSIBLE:g}"  # `course-nn feedback` after the hand grade
    assert term["feedback_exit"] == 0
    assert f"late penalty: -{after} points" in term["cat_page_after"]


@pytest.mark.grading
@pytest.mark.slow
def test_the_gradebook_holds_the_same_penalty(term):
    """As nbgrader's AssignLatePenalties stores it: None on time, else the penalty."""
    assert term["graded_penalty"]["cat"] == pytest.approx(LATE_SHARE * MAX)
    assert {s: p for s, p in term["graded_penalty"].items() if s != "cat"} == \
        {"ann": None, "bob": None, "dave": None}
    assert term["dave_extension"] == timedelta(hours=48) and term["dave_late"] == 0


@pytest.mark.grading
@pytest.mark.slow
def test_canvas_moodle_and_plain_exports(term):
    assert term["export_exit"] == 0, term["export_err"]
    assert "not in the roster" in term["export_err"] and "bob" in term["export_err"]
    assert "eve" in term["export_err"]
    folder = term["course"] / "graded" / "export"
    total = {"ann": MAX + 0.0, "bob": MAX - 1.0, "cat": (1 - LATE_SHARE) * POSSIBLE,
             "dave": MAX + 0.0}  # only cat's written answer is graded by hand
    canvas = rows(folder / f"canvas-{A}.csv")
    assert canvas[0] == [*lms.CANVAS_FIXED, f"{A} (4711)"]
    assert canvas[1] == ["Points Possible", "", "", "", "", f"{POSSIBLE:g}"]
    by_id = {r[1] or r[0]: r for r in canvas[2:]}
    assert sorted(by_id) == ["101", "103", "104", "105", "bob"]
    assert by_id["103"][0].startswith("'=")  # the formula guard
    for student, lms_id in (("ann", "101"), ("bob", "bob"), ("cat", "103"), ("dave", "104")):
        assert float(by_id[lms_id][5]) == pytest.approx(total[student]), student
    assert by_id["105"][5] == ""  # eve: in the roster only, no grade
    moodle = {r[1]: r for r in rows(folder / f"moodle-{A}.csv")[1:]}
    assert float(moodle["cat@uni.example"][4]) == pytest.approx(total["cat"])
    plain = {r["student_id"]: r for r in csv.DictReader(
        (folder / f"grades-{A}.csv").open(newline=""))}
    cat = plain["cat"]
    assert float(cat["penalty"]) == pytest.approx(LATE_SHARE * POSSIBLE)
    assert (float(cat["auto"]), float(cat["hand"])) == (MAX, WRITTEN_POINTS)
    assert float(cat["seconds_late"]) == (STAMPS["cat"] - DUE).total_seconds()
    assert plain["bob"]["name"] == "" and plain["bob"]["lms_id"] == ""
    for path in folder.iterdir():
        for row in rows(path):
            assert not any(v.startswith(FORMULA_START) for v in row), (path.name, row)


@pytest.mark.grading
@pytest.mark.slow
def test_nbgrader_export_agrees_and_nothing_lands_at_the_root(term):
    theirs = term["nbgrader"]
    assert float(theirs["cat"]["late_submission_penalty"]) == pytest.approx(
        LATE_SHARE * POSSIBLE)
    assert float(theirs["cat"]["score"]) == pytest.approx((1 - LATE_SHARE) * POSSIBLE)
    assert float(theirs["ann"]["late_submission_penalty"]) == 0.0
    assert term["new_at_root"] == ["autograded", "graded", "roster.csv"]  # roster: ours
    assert not (term["course"] / "grades.csv").exists()


def test_the_class_report_counts_late_submissions(tmp_path):
    """summary.csv's late columns, read by the class report (report.late_section)."""
    from course_nn.grading import report
    from course_nn.grading.hardened.deadlines import Lateness, LatePolicy
    from course_nn.grading.hardened.model import SubmissionResult, TestResult
    from course_nn.grading.hardened.outputs import write_summary

    results = [SubmissionResult(s, [TestResult("t", "passed", 10.0, 10.0)], [],
                                submitted=iso(STAMPS[s])) for s in ("ann", "cat")]
    late = {s: Lateness(STAMPS[s], DUE, policy=LatePolicy("per_day", 0.1, 0.5))
            for s in ("ann", "cat")}
    write_summary(tmp_path / "summary.csv", results, late)
    summary = report.read_summary(tmp_path / "summary.csv")
    assert [(r.student, r.late, r.penalty) for r in summary] == [
        ("ann", "", 0.0), ("cat", "2 days 3 hours", 3.0)]
    section = page_text_of(report.late_section(summary))
    assert "1 late submission(s); late penalties 3 points in total." in section
    assert "cat 2 days 3 hours 3" in section
    assert report.late_section(summary[:1]) == "<p>No late submissions.</p>"


def page_text_of(markup: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


@pytest.mark.grading
@pytest.mark.slow
def test_an_extension_without_a_due_date_breaks_neither_grade_nor_export(tmp_path):
    """With an extension configured and no due date in the gradebook, do `grade` and
    `export` both succeed, with nobody late (nbgrader cannot add an extension to a missing
    due date; the gradebook used to be left unreadable)?"""
    from course_nn.cli import main
    from course_nn.grading.hardened import Limits, grade_assignment

    course = T.make_course(tmp_path / "course", [A])
    with (course / "nbgrader_config.py").open("a") as fh:
        fh.write(f"\nc.LateWork.penalty_method = 'zero'\nc.LateWork.extensions = "
                 f"{{{A!r}: {{'dave': 48}}}}\n")
    released = T.read(course / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / A / f"{A}.ipynb"))
    T.submit(course, "dave", A, T.with_sources(released, sol))
    report = grade_assignment(A, course=course, jobs=1, progress=False,
                              limits=Limits(timeout=60, startup=30))
    assert report.graded == ["dave"]
    assert not [n for n in report.notes if "could not be updated" in n], report.notes
    (course / "roster.csv").write_text(ROSTER)
    monkey = pytest.MonkeyPatch()
    monkey.chdir(course)
    try:
        assert main(["export", A]) == 0
    finally:
        monkey.undo()
    plain = (course / "graded" / "export" / f"grades-{A}.csv").read_text()
    (dave,) = [r for r in csv.DictReader(io.StringIO(plain)) if r["student_id"] == "dave"]
    assert float(dave["penalty"]) == 0.0 and float(dave["seconds_late"]) == 0.0
