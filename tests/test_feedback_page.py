"""The feedback page a student reads (``course_nn.grading.hardened.feedback``).

Unit tests on a hand-made result first; then a student graded by ``course-nn grade``,
given a hand grade in the gradebook (as formgrader stores it) and the pages rewritten by
``course-nn feedback``; then the page in headless Chromium: a screenshot and axe.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_nn.grading.hardened import feedback as F
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.model import SubmissionResult
from course_nn.grading.hardened.model import TestResult as Row
from course_nn.grading.hardened.outputs import render_outputs
from tests.test_accessibility import axe_source  # noqa: F401  (fixture)
from tests.test_book import browser  # noqa: F401  (fixture)

pytestmark = pytest.mark.grading

ASSIGNMENT = "ex01_linear_regression"
WRITTEN = "written_standardising"  # ex01's written answer, 3 points, graded by hand
HIDDEN_FAIL = ("mse: hidden case 7 of 7 (large values) [seed 12] failed\n  input:\n"
               "    y_hat = ...\n  problem: values differ")


@pytest.fixture(scope="module")
def spec():
    return load_spec(T.ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb", ASSIGNMENT)


def result(student: str = "ann", **extra) -> SubmissionResult:
    tests = [Row("test_linear_forward", "passed", 2, 2, "2 public cases passed"),
             Row("test_mse", "failed", 0, 1, HIDDEN_FAIL)]
    return SubmissionResult(student, tests, [], **extra)


def test_written_answers_are_the_hand_graded_cells(spec):
    """Is ex01's written answer (and only it) listed, pending, with its points?"""
    assert F.written_answers(spec) == [F.HandGrade(WRITTEN, 3.0)]


def test_failed_case_is_named_in_words():
    """Is the failing case read from the message with its label, without the seed?"""
    assert F.failed_case(HIDDEN_FAIL) == "mse: hidden case 7 of 7 (large values)"
    assert F.failed_case("linear_forward: public case 1 of 2 (one output: W (p,), scalar b) "
                         "failed\n") == "linear_forward: public case 1 of 2 (one output: W (p,), scalar b)"
    assert F.failed_case("f: hidden case 2 of 5 [seed 3] raised ValueError: x") == \
        "f: hidden case 2 of 5"
    assert F.failed_case("mse: not implemented yet (NotImplementedError)") is None


def test_page_pending_shows_verdicts_case_and_both_parts(spec):
    """Before hand grading: verdict words, the failed hidden case, pending, both totals."""
    page = F.feedback_html(spec, result())
    assert "<main>" in page and "</main>" in page
    assert "wrong answer" in page and ">passed<" in page
    assert "The input that failed: <strong>mse: hidden case 7 of 7 (large values)</strong>" in page
    assert f"<strong>{WRITTEN}</strong>: graded by hand: pending (3 points)" in page
    assert "<b>2 / 3</b> autograded + <b>0 / 3</b> graded by hand = <b>2 / 6</b>" in page
    assert "3 points still to be graded by hand" in page
    assert "1 of 2 tests passed" in page
    assert "http://" not in page and "https://" not in page and "<script" not in page


def test_page_after_hand_grading_shows_score_comment_and_total(spec):
    """After hand grading: the score and the comment, and the total adds them."""
    answers = [F.HandGrade(WRITTEN, 3.0, 2.5, "Good; say which rate diverged.")]
    page = F.feedback_html(spec, result(), answers)
    assert "graded by hand: <strong>2.5 / 3</strong>" in page
    assert "<blockquote>Good; say which rate diverged.</blockquote>" in page
    assert "= <b>4.5 / 6</b>" in page and "pending" not in page and "still to be" not in page


def test_hostile_text_is_escaped(spec):
    """Are a student id, a message and a hand-grade comment shown as text, never markup?"""
    bad = "<img src=x onerror=alert(1)>"
    r = result(bad, stdout=bad, notes=[bad])
    r.tests[1].message = HIDDEN_FAIL.replace("large values", bad)
    page = F.feedback_html(spec, r, [F.HandGrade(WRITTEN, 3.0, 1.0, bad)])
    assert "<img" not in page and page.count("&lt;img src=x") >= 4


def test_kept_blocks_survive_a_rewrite(spec):
    """Does a rewritten page keep the first page's flags, notes and printed output?"""
    first = F.feedback_html(spec, SubmissionResult("ann", result().tests, ["renamed a cell"],
                                                   ["a note"], stdout="hello <b>"))
    kept = F.kept_blocks(first)
    again = F.feedback_html(spec, SubmissionResult("ann", result().tests, []), None, kept)
    for text in ("renamed a cell", "a note", "hello &lt;b&gt;"):
        assert text in again


def test_summary_names_each_page_and_results_come_back_from_the_csvs(spec, tmp_path):
    """Does summary.csv's feedback column name the page written, and do the CSVs give the
    same tests back (the formula guard undone)?"""
    files = render_outputs(spec, [result("=1+2"), result("-2+3"), result("bob")])
    for rel, data in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(data)
    pairs = F.results_from_csv(tmp_path / "grades.csv", tmp_path / "summary.csv")
    assert [(r.student, (tmp_path / "feedback" / name).is_file()) for r, name in pairs] == [
        ("=1+2", True), ("-2+3", True), ("bob", True)]
    assert [(t.test, t.status, t.points, t.message) for t in pairs[2][0].tests] == [
        (t.test, t.status, t.points, t.message) for t in result().tests]


# --- end to end: grade, a hand grade in the gradebook, course-nn feedback ----------------
CLIPPER = ("def mse(y_hat, y):\n    diff = np.clip(np.asarray(y_hat) - np.asarray(y), -1e3, 1e3)"
           "  # no overflow\n    return float(np.mean(diff ** 2))\n")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "course_nn.cli", *args], capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, run.stderr
    return run


def give_hand_grade(course: Path, student: str, score: float, comment: str) -> None:
    """What formgrader stores when the instructor grades the written answer."""
    from nbgrader.api import Gradebook

    from course_nn.grading.hardened.course import Course

    with Gradebook(Course.load(course).db_url) as gb:
        grade = gb.find_grade(WRITTEN, ASSIGNMENT, ASSIGNMENT, student)
        grade.manual_score = score
        gb.find_comment(WRITTEN, ASSIGNMENT, ASSIGNMENT, student).manual_comment = comment
        gb.db.commit()


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """Two students graded with the gradebook: "clipper" fails a hidden case only."""
    course = T.make_course(tmp_path_factory.mktemp("feedback") / "course", [ASSIGNMENT])
    released = T.read(T.ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    solved = T.solutions(T.read(T.ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    written = {WRITTEN: "Standardising let me use a rate of 0.1; 1e-3 diverged on raw X."}
    T.submit(course, "clipper", ASSIGNMENT, T.with_sources(released, {
        **solved, "mse": CLIPPER, **written}))
    T.submit(course, "honest", ASSIGNMENT, T.with_sources(released, {**solved, **written}))
    run_cli("grade", ASSIGNMENT, "--course", str(course), "--quiet", "--timeout", "120")
    out = course / "graded" / ASSIGNMENT
    before = (out / "feedback" / "clipper.html").read_text(encoding="utf-8")
    give_hand_grade(course, "clipper", 2.0, "Right about 1e-3; which rate did you keep?")
    stdout = run_cli("feedback", ASSIGNMENT, "--course", str(course)).stdout
    return {"course": course, "out": out, "before": before, "stdout": stdout,
            "after": (out / "feedback" / "clipper.html").read_text(encoding="utf-8"),
            "honest": (out / "feedback" / "honest.html").read_text(encoding="utf-8")}


@pytest.mark.slow
def test_graded_page_names_the_failed_hidden_case(graded):
    """Does the page `grade` wrote name the hidden case that failed, in words?"""
    page = graded["before"]
    assert re.search(r"The input that failed: <strong>mse: hidden case \d+ of \d+ "
                     r"\(large values\)</strong>", page), page
    assert "graded by hand: pending (3 points)" in page
    assert "<b>14 / 15</b> autograded + <b>0 / 3</b> graded by hand" in page


@pytest.mark.slow
def test_feedback_command_adds_the_hand_grade(graded):
    """After a hand grade in the gradebook, does `course-nn feedback` show it and the total,
    keep the rest of the page, and leave the ungraded student pending?"""
    page = graded["after"]
    assert "2 feedback page(s) rewritten" in graded["stdout"]
    assert "graded by hand: <strong>2 / 3</strong>" in page
    assert "<blockquote>Right about 1e-3; which rate did you keep?</blockquote>" in page
    assert "<b>14 / 15</b> autograded + <b>2 / 3</b> graded by hand = <b>16 / 18</b>" in page
    assert "(large values)</strong>" in page
    assert "pending" not in page
    assert "graded by hand: pending (3 points)" in graded["honest"]
    assert not list((graded["out"] / "feedback").glob(".*"))  # no temp file left


@pytest.mark.slow
@pytest.mark.browser
def test_feedback_page_screenshot_and_no_serious_axe_violation(graded, browser, axe_source):  # noqa: F811
    """Does the page render in headless Chromium (screenshot kept), with a <main>
    landmark, and break no serious or critical axe rule?"""
    from tests.notebooks import ROOT
    from tests.test_accessibility import axe_violations, impact_counts, serious
    from tests.test_report_class import full_page_screenshot

    page = graded["out"] / "feedback" / "clipper.html"
    violations = axe_violations(browser, page.as_uri(), axe_source)
    print("feedback", dict(impact_counts(violations)), sorted(v["id"] for v in violations))
    assert serious(violations) == {}
    assert browser.find_element("css selector", "main h1").text == ASSIGNMENT
    shot = full_page_screenshot(browser, ROOT / "_build" / "screenshots" /
                                "feedback_clipper.png", width=1000)
    assert shot.stat().st_size > 20_000


def test_graded_means_scored_by_hand_or_nothing_left_to_grade():
    """Is an answer pending only while a person still has to score it?"""
    from types import SimpleNamespace as Grade

    assert F.graded(Grade(manual_score=2.0, auto_score=None, needs_manual_grade=True))
    assert F.graded(Grade(manual_score=None, auto_score=0.0, needs_manual_grade=False))
    assert not F.graded(Grade(manual_score=None, auto_score=None, needs_manual_grade=True))
    assert not F.graded(Grade(manual_score=None, auto_score=None, needs_manual_grade=False))


def test_feedback_command_says_what_is_missing(tmp_path, capsys):
    """Does `course-nn feedback` without a graded folder exit 1 and write nothing?"""
    from course_nn.cli import main

    assert main(["feedback", ASSIGNMENT, "--course", str(tmp_path)]) == 1
    assert "course-nn grade" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []
