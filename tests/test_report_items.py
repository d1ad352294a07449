"""Item statistics in the class report: difficulty, discrimination, frequent wrong by-hand
answers, tests with flags, and a histogram whose full marks have their own bin
(``course_nn.grading.report``; docs/instructor.md, "The class report")."""

from __future__ import annotations

import csv
import dataclasses
from pathlib import Path

import numpy as np
import pytest

from course_nn.grading import report as R
from course_nn.grading.hardened import merge as M
from course_nn.grading.hardened import model
from course_nn.grading.hardened.judge import answer_text
from course_nn.grading.hardened.store import Stored, store_folder, write_record

pytestmark = pytest.mark.grading

GRADES = ("student", "test", "status", "points", "max_points", "message", "diagnosis")
#: points per student on (t1 worth 2, t2 worth 1, t3 worth 3, t4 by hand worth 2)
POINTS = {"ann": (2, 1, 3, 2), "bob": (2, 0, 3, 0), "cat": (0, 1, 0, 0),
          "dan": (2, 1, 1, 0), "eve": (0, 0, 0, 2)}
MAX = (2, 1, 3, 2)
TESTS = ("t1", "t2", "t3", "t4")
HOSTILE = '<script>alert(1)</script>'
#: by-hand answers of the students who failed t4 (ann and eve passed)
ANSWERS = {"bob": "0.8333, 1, -2", "cat": "0.8333, 1, -2", "dan": HOSTILE}


def _status(student: str, test: str, points: float, top: float) -> str:
    if student == "dan" and test == "t2":
        return "flagged"  # passed, held for a look
    if student == "bob" and test == "t2":
        return "error"  # raised, and flagged too: counted under "with flags"
    return "passed" if points == top else "failed"


def _write_csv(path: Path, head: tuple[str, ...], rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(head)
        writer.writerows(rows)


@pytest.fixture
def graded(tmp_path) -> Path:
    """grades.csv, summary.csv and the grader's result store of a constructed class."""
    out = tmp_path / "graded"
    out.mkdir()
    notebook = tmp_path / "a1.ipynb"
    notebook.write_text("{}", encoding="utf-8")
    spec = model.AssignmentSpec("a1", "a1.ipynb", notebook, (),
                          tuple(model.TestSpec(t, float(m), (), "") for t, m in zip(TESTS, MAX, strict=True)))
    rows, summary = [], []
    for student, points in POINTS.items():
        tests = []
        for test, p, m in zip(TESTS, points, MAX, strict=True):
            status = _status(student, test, p, m)
            flags = ["t2: test cell edited"] if test == "t2" and student in ("bob", "dan") else []
            answer = ANSWERS.get(student, "") if test == "t4" else ""
            tests.append(model.TestResult(test, status, float(p), float(m), "", flags, "", answer))
            rows.append((student, test, status, p, m, "", ""))
        summary.append((student, sum(points), sum(MAX), ""))
        write_record(store_folder(out), Stored(model.SubmissionResult(student, tests, []), 1, None,
                                               "0" * 64, "2026-01-01T00:00:00+00:00"), spec)
    _write_csv(out / "grades.csv", GRADES, rows)
    _write_csv(out / "summary.csv", ("student", "score", "max_score", "flags"), summary)
    return out


def test_difficulty_is_the_share_with_full_marks(graded):
    """Is each test's difficulty the share of students with full marks on it?"""
    items = {i.test: i for i in R.item_statistics(R.read_grades(graded / "grades.csv"))}
    assert [items[t].students for t in TESTS] == [5, 5, 5, 5]
    assert items["t1"].difficulty == pytest.approx(3 / 5)
    assert items["t2"].difficulty == pytest.approx(3 / 5)
    assert items["t3"].difficulty == pytest.approx(2 / 5)
    assert items["t4"].difficulty == pytest.approx(2 / 5)


def test_discrimination_is_the_item_rest_correlation(graded):
    """Is discrimination the Pearson correlation of a test's points with the rest of the
    score (not the total, which contains the test), as NumPy computes it?"""
    items = {i.test: i for i in R.item_statistics(R.read_grades(graded / "grades.csv"))}
    table = np.array([POINTS[s] for s in sorted(POINTS)], dtype=float)
    for k, test in enumerate(TESTS):
        rest = table.sum(axis=1) - table[:, k]
        expected = np.corrcoef(table[:, k], rest)[0, 1]
        assert items[test].discrimination == pytest.approx(expected, abs=1e-12), test
    # t1 by hand: points (2, 2, 0, 2, 0) for ann, bob, cat, dan, eve; rests (6, 3, 1, 2, 2)
    x, y = np.array([2, 2, 0, 2, 0.0]), np.array([6, 3, 1, 2, 2.0])
    by_hand = ((x - x.mean()) @ (y - y.mean())) / np.sqrt(
        ((x - x.mean()) ** 2).sum() * ((y - y.mean()) ** 2).sum())
    # sums of products 5.2, of squares 4.8 and 14.8, worked out on paper:
    assert items["t1"].discrimination == pytest.approx(by_hand) == pytest.approx(5.2 / np.sqrt(4.8 * 14.8))


def test_no_variance_means_no_discrimination(tmp_path):
    """Is discrimination n/a (None) when everyone scores the same on a test, or on the rest?"""
    rows = [R.GradeRow(s, "easy", "passed", 1.0, 1.0, "") for s in "abc"]
    rows += [R.GradeRow(s, "hard", "failed" if s != "a" else "passed", float(s == "a"), 1.0, "")
             for s in "abc"]
    items = {i.test: i for i in R.item_statistics(rows)}
    assert items["easy"].difficulty == 1.0 and items["easy"].discrimination is None
    assert items["hard"].discrimination is None  # its rest (the easy test) never varies


def test_frequent_wrong_by_hand_answers_are_counted(graded):
    """Are a by-hand item's wrong answers counted over students, most frequent first, and
    only for failed rows?"""
    rows = R.read_grades(graded / "grades.csv")
    wrong = R.wrong_answers(rows, R.read_stored_tests(graded))
    assert [(w.test, w.answer, w.count, w.students) for w in wrong] == [
        ("t4", "0.8333, 1, -2", 2, ("bob", "cat")), ("t4", HOSTILE, 1, ("dan",))]


def test_tests_with_flags_are_counted_whatever_their_status(graded):
    """Does a flagged test with status error count under "with flags" (flags are not a
    status), beside the one whose status is flagged?"""
    rows = R.read_grades(graded / "grades.csv")
    assert R.flag_counts(rows, R.read_stored_tests(graded)) == {"t2": 2}
    assert R.flag_counts(rows, None) == {"t2": 1}  # no store: the flagged statuses only


def test_page_shows_items_escapes_answers_and_counts_flags(graded):
    """Does the page list the item statistics, the wrong answers escaped (a hostile one
    never as markup), and 2 under "with flags" for t2?"""
    page = R.render_html(R.build_report("a1", graded))
    assert HOSTILE not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<td>t4</td><td><code>0.8333, 1, -2</code></td><td>2</td><td>bob, cat</td>" in page
    assert "<td>t1</td><td>5</td><td>0.60</td><td>0.62</td>" in page
    t2 = page.split("<td>t2</td>", 1)[1].split("</tr>", 1)[0]
    cells = [c.removeprefix("<td>") for c in t2.split("</td>") if c]
    assert cells == ["2", "1", "1", "1", "0", "0", "0", "2"]  # passed..ungradable, with flags


def test_page_without_a_store_says_so(graded):
    """Without the result store the page says how to get the by-hand answers."""
    import shutil

    shutil.rmtree(store_folder(graded))
    page = R.render_html(R.build_report("a1", graded))
    assert "No result store next to grades.csv" in page


@pytest.mark.parametrize("top, scores, alone", [
    (13, [12, 13, 13, 0.0], 2), (2, [1, 2, 2, 2], 3), (50.5, [50.4, 50.5, 0], 1),
    (100, [99.9, 100, 100, 95], 2)])
def test_full_marks_have_their_own_bin(top, scores, alone):
    """Do full marks fall in a bin of their own (13 / 13 not in the 12-13 bin), every
    score counted once?"""
    edges = R.histogram_edges(top)
    counts, _ = np.histogram(scores, bins=edges)
    assert counts.sum() == len(scores)
    assert counts[-1] == alone == sum(s == top for s in scores)
    assert edges[-2] <= top < edges[-1] and all(s < edges[-2] for s in scores if s < top)


def test_answer_text_is_short_numbers():
    """Is a by-hand answer kept as its numbers in order (4 significant digits), cut when
    long, and empty when it is not numbers?"""
    assert answer_text((0.8333333, [1.0, -2.0], 0.5)) == "0.8333, 1, -2, 0.5"
    assert answer_text(np.arange(30.0)).endswith("11, ... (30 numbers)")
    assert answer_text("seven") == ""
    assert len(answer_text(np.full(12, -1.234567e-300))) <= 200


def test_an_answer_travels_through_the_shard_format():
    """Does TestResult.answer go into results.json and come back, and does an older row
    without it read as ""?"""
    result = model.TestResult("t4", "failed", 0.0, 2.0, "m", [], "", "0.8333, 1, -2")
    row = dataclasses.asdict(result)
    assert M.read_test_row(row, ("t4", 2.0), "x").answer == "0.8333, 1, -2"
    del row["answer"]
    assert M.read_test_row(row, ("t4", 2.0), "x").answer == ""
