"""The class report (``course_nn.grading.report``): counts, similarity and the page.

These tests feed the report the grader's outputs written by hand; the end-to-end test
that grades a generated class first is in ``tests/test_report_class.py``.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from course_nn.grading import report as R
from course_nn.grading.hardened.text import student_id

pytestmark = pytest.mark.grading


def write_csv(path: Path, head: tuple[str, ...], rows: list[tuple]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(head)
        w.writerows(rows)


def notebook(path: Path, code: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    cell = {"cell_type": "code", "source": code, "metadata": {"nbgrader": {"solution": True,
                                                                         "grade_id": "f"}},
            "outputs": [], "execution_count": None}
    path.write_text(json.dumps({"cells": [cell], "metadata": {}, "nbformat": 4,
                                "nbformat_minor": 5}))


GRADES = ("student", "test", "status", "points", "max_points", "message", "diagnosis")


@pytest.fixture
def graded(tmp_path) -> Path:
    out = tmp_path / "graded"
    out.mkdir()
    msg_b = "problem: values differ\n  likely bug: the bias is missing"
    bias, rows = "the bias is missing", "rows do not sum to 1"
    write_csv(out / "grades.csv", GRADES, [
        ("ann", "t1", "passed", 2, 2, "", ""), ("ann", "t2", "passed", 1, 1, "", ""),
        ("bob", "t1", "failed", 0, 2, msg_b + "\n" + msg_b, bias),
        ("bob", "t2", "error", 0, 1, "raised ValueError", ""),
        ("cat", "t1", "failed", 0, 2, msg_b, bias), ("cat", "t2", "timeout", 0, 1, "", ""),
        ("'=HYPERLINK(1)", "t1", "failed", 0, 2, "likely bug: " + rows, rows),
        ("'=HYPERLINK(1)", "t2", "ungradable", 0, 1, "", "")])
    write_csv(out / "summary.csv", ("student", "score", "max_score", "flags"), [
        ("ann", 3, 3, ""), ("bob", 0, 3, ""), ("cat", 0, 3, "t1: test cell edited"),
        ("'=HYPERLINK(1)", 0, 3, "")])
    return out


def test_shares_count_each_status_per_test(graded):
    """Does each test count its students per status?"""
    shares = R.status_shares(R.read_grades(graded / "grades.csv"))
    assert dict(shares["t1"]) == {"passed": 1, "failed": 3}
    assert dict(shares["t2"]) == {"passed": 1, "error": 1, "timeout": 1, "ungradable": 1}


def test_diagnoses_count_students_most_frequent_first(graded):
    """Is a likely bug counted once per student, and the most frequent listed first?"""
    found = R.diagnosis_counts(R.read_grades(graded / "grades.csv"))
    assert [(d.test, d.text, d.count) for d in found] == [
        ("t1", "the bias is missing", 2), ("t1", "rows do not sum to 1", 1)]
    assert found[0].students == ("bob", "cat")


def test_a_students_own_likely_bug_text_is_never_a_diagnosis(tmp_path):
    """Is only the judge's diagnosis column counted, never "likely bug:" in a message (here
    a student's exception text), and does a grades.csv without the column say so?"""
    own = ("f: public case 1 of 3 raised ValueError: likely bug: everyone forgot the bias "
           "(<cell f> line 2)")
    hinted = "f: public case 1 of 3 failed\n  problem: values differ\n  likely bug: no offset"
    write_csv(tmp_path / "grades.csv", GRADES, [
        ("ann", "t1", "error", 0, 1, own, ""), ("bob", "t1", "error", 0, 1, own, ""),
        ("cat", "t1", "failed", 0, 1, hinted, "the output has no offset term")])
    write_csv(tmp_path / "summary.csv", ("student", "score", "max_score", "flags"),
              [("ann", 0, 1, ""), ("bob", 0, 1, ""), ("cat", 0, 1, "")])
    found = R.diagnosis_counts(R.read_grades(tmp_path / "grades.csv"))
    assert [(d.test, d.text, d.students) for d in found] == [
        ("t1", "the output has no offset term", ("cat",))]
    page = R.render_html(R.build_report("a1", tmp_path))
    assert "everyone forgot the bias</td>" not in page
    assert "<td>the output has no offset term</td>" in page
    write_csv(tmp_path / "grades.csv", GRADES[:-1], [("ann", "t1", "error", 0, 1, own)])
    report = R.build_report("a1", tmp_path)
    assert report.diagnoses == [] and not report.has_diagnoses
    assert "no diagnosis column" in R.render_html(report)


def test_an_unreadable_notebook_is_skipped_and_named(graded, tmp_path):
    """Does `course-nn report` on a class with a notebook of 100,000 nested brackets (a
    RecursionError in json) write the page, name that student as not compared (escaped),
    and still compare the others?"""
    from course_nn.cli import main

    course = tmp_path / "course"
    (course / "graded").mkdir(parents=True)
    out = graded.rename(course / "graded" / "a1")
    hostile = student_id("=HYPERLINK(1)")  # the id the grader records for that folder
    for name in ("grades.csv", "summary.csv"):
        (out / name).write_text((out / name).read_text().replace("'=HYPERLINK(1)", hostile))
    submitted = course / "submitted"
    code = "def f(x):\n    total = 0\n    for v in x:\n        total += v\n    return total\n"
    notebook(submitted / "ann" / "a1" / "a1.ipynb", code)
    notebook(submitted / "bob" / "a1" / "a1.ipynb", code.replace("total", "acc"))
    nested = submitted / "=HYPERLINK(1)" / "a1" / "a1.ipynb"
    notebook(nested, "")
    nested.write_text("[" * 100_000 + "]" * 100_000)
    link = submitted / "cat" / "a1" / "a1.ipynb"
    link.parent.mkdir(parents=True)
    link.symlink_to(submitted / "ann" / "a1" / "a1.ipynb")
    assert main(["report", "a1", "--course", str(course)]) == 0
    page = (out / "report.html").read_text()
    assert (f"Not compared, their notebook could not be read: {hostile} (not readable "
            "(RecursionError)); cat (a link).") in page
    report = R.build_report("a1", out, submitted)
    assert [(p.first, p.second, p.similarity) for p in report.pairs] == [("ann", "bob", 1.0)]
    assert report.unreadable == [(hostile, "not readable (RecursionError)"),
                                 ("cat", "a link")]
    report.unreadable = [("<b>eve</b>", "a link")]
    assert "read: &lt;b&gt;eve&lt;/b&gt; (a link)." in R.render_html(report)


def test_formula_guard_is_undone_for_display(graded):
    """Is the grader's apostrophe in front of a formula-like id removed on reading?"""
    names = [r.student for r in R.read_summary(graded / "summary.csv")]
    assert "=HYPERLINK(1)" in names


def test_normalised_tokens_ignore_names_comments_docstrings_and_layout():
    """Do two copies that differ only in names, comments, docstrings and spacing match?"""
    a = 'def f(x, w):\n    """Doc."""\n    # comment\n    return x @ w  + 1\n'
    b = "def g(inputs, weights):\n\n    return inputs@weights+1 # other\n"
    c = "def g(inputs, weights):\n    return weights @ inputs + 1\n"
    assert R.normalised_tokens(a) == R.normalised_tokens(b)
    assert R.normalised_tokens(a) != R.normalised_tokens(c)


def test_similar_pairs_lists_the_copy_first_and_skips_stubs():
    """Is a renamed copy the most similar pair, and are untouched stubs left out?"""
    stub = "def f(x):\n    raise NotImplementedError()\n"
    honest = "def f(x):\n    total = 0\n    for v in x:\n        total += v * v\n    return total\n"
    copy = ("def f(inputs):\n    # mine\n    acc = 0\n    for z in inputs:\n"
            "        acc += z * z\n    return acc\n")
    other = "def f(x):\n    import numpy as np\n    return float(np.dot(x, x))\n"
    pairs = R.similar_pairs({"ann": honest, "bob": copy, "cat": other, "dan": stub,
                             "eve": stub}, baseline=stub, threshold=0.5)
    assert (pairs[0].first, pairs[0].second, pairs[0].similarity) == ("ann", "bob", 1.0)
    assert all("dan" not in (p.first, p.second) for p in pairs)


def test_solution_code_is_read_under_a_size_cap(tmp_path, monkeypatch):
    """Is a notebook over the cap, or not JSON, read as no code rather than an error?"""
    good, bad = tmp_path / "a.ipynb", tmp_path / "b.ipynb"
    notebook(good, "def f():\n    return 1\n")
    bad.write_text("{not json")
    assert "return 1" in R.solution_code(good)
    assert R.solution_code(bad) == ""
    monkeypatch.setattr(R, "MAX_NOTEBOOK_BYTES", 10)
    assert R.solution_code(good) == ""


def test_page_is_offline_escaped_and_complete(graded, tmp_path):
    """Does the page embed its figures, escape hostile text and list every section?"""
    submitted = tmp_path / "submitted"
    notebook(submitted / "ann" / "a1" / "a1.ipynb", "def f(x):\n    return x + 1\n")
    notebook(submitted / "bob" / "a1" / "a1.ipynb", "def g(y):\n    return y + 1\n")
    report = R.build_report("a1", graded, submitted)
    page = R.write_report(report, graded).read_text()
    assert page.count('src="data:image/png;base64,') == 2
    assert "http://" not in page and "https://" not in page
    assert "<script" not in page.lower()
    assert "=HYPERLINK(1)" in page  # shown, as text
    assert page.index("the bias is missing") < page.index("rows do not sum to 1")
    assert [(p.first, p.second) for p in report.pairs] == [("ann", "bob")]
    assert "t1: test cell edited" in page
    assert "Ungradable: =HYPERLINK(1)." in page
    assert not list(graded.glob(".*.tmp"))


def test_students_link_to_their_feedback_page(tmp_path):
    """Does each student link to the page summary.csv names (formula guard undone), and a
    student without a page stay plain text?"""
    write_csv(tmp_path / "grades.csv", GRADES, [("ann", "t1", "passed", 1, 1, "", "")])
    write_csv(tmp_path / "summary.csv", ("student", "score", "max_score", "flags", "feedback"), [
        ("ann", 1, 1, "", "ann.html"), ("'-2+3", 0, 1, "", "'-2_3-c219381fc4.html"),
        ("bob", 0, 1, "", "")])
    page = R.render_html(R.build_report("a1", tmp_path))
    assert '<a href="feedback/ann.html">ann</a>' in page
    assert '<a href="feedback/-2_3-c219381fc4.html">-2+3</a>' in page
    assert "<td>bob</td>" in page


def test_report_command_says_what_is_missing(tmp_path, capsys):
    """Does `course-nn report` on a folder without the grader's CSVs exit 1 with a hint?"""
    from course_nn.cli import main

    assert main(["report", "a1", "--course", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "no grades.csv and summary.csv" in err and "course-nn grade a1" in err
    assert not (tmp_path / "graded").exists()


def test_only_the_most_similar_pairs_are_listed(graded, monkeypatch):
    """Does the page list at most MAX_PAIRS_SHOWN pairs, the most similar, and count the rest?"""
    monkeypatch.setattr(R, "MAX_PAIRS_SHOWN", 1)
    report = R.build_report("a1", graded)
    report.pairs = [R.Pair("ann", "bob", 0.99), R.Pair("ann", "cat", 0.95),
                    R.Pair("bob", "cat", 0.91)]
    page = R.render_html(report)
    assert "<td>0.990</td>" in page and "<td>0.950</td>" not in page
    assert "And 2 more pairs above the threshold" in page
