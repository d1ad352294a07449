"""grades.csv, summary.csv and feedback pages: safe, distinct, all or nothing (``outputs.py``)."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from course_nn.grading.hardened import outputs
from course_nn.grading.hardened.model import AssignmentSpec, SubmissionResult
from course_nn.grading.hardened.model import TestResult as Row

pytestmark = pytest.mark.grading

SPEC = AssignmentSpec("ex", "ex.ipynb", Path("ex.ipynb"), (), ())


def result(student: str, points: float = 1.0, message: str = "ok") -> SubmissionResult:
    return SubmissionResult(student, [Row("test_f", "passed", points, 1.0, message)], [])


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\")", "+1", "-1+2", "@SUM(A1)",
                                   "\tx", "\rx"])
def test_formula_cells_are_neutralised(value):
    """Does no cell start as a formula (a leading apostrophe, or the CR replaced)?"""
    assert not outputs.cell(value).startswith(outputs.FORMULA_START)
    assert outputs.cell(value).lstrip("'\ufffd").endswith(value.lstrip("\r"))
    assert outputs.cell("alice") == "alice"


def test_feedback_names_are_distinct_for_distinct_ids():
    """Do ids with one safe form (and case variants) get distinct file names?"""
    ids = ["alice_smith", "alice~smith", "alice smith", "..", ".hidden", "a/b"]
    names = outputs.feedback_names(ids)
    assert names["alice_smith"] == "alice_smith"  # an id that is a safe name keeps it
    assert len(set(names.values())) == len(ids)
    ids += ["Alice_Smith", "ALICE_SMITH"]  # one page each, even on a case-blind disk
    names = outputs.feedback_names(ids)
    assert len({n.lower() for n in names.values()}) == len(ids)
    assert all("/" not in n and not n.startswith(".") for n in names.values())


def test_outputs_are_valid_utf8_whatever_the_strings(tmp_path):
    """Does a lone surrogate in an id or a message still give strict UTF-8 files?"""
    results = [result("bad\udcffid", message="msg \udcff \x1b"), result("=cmd")]
    outputs.write_outputs(tmp_path, SPEC, results)
    for path in tmp_path.rglob("*"):
        if path.is_file():
            path.read_bytes().decode("utf-8", errors="strict")
    with (tmp_path / "grades.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert [r["student"] for r in rows] == ["bad\ufffdid", "'=cmd"]
    assert len(list((tmp_path / "feedback").iterdir())) == 2


def test_a_failed_run_leaves_the_previous_outputs_untouched(tmp_path, monkeypatch):
    """If rendering fails, are the old CSVs and pages kept whole, with no temp files?"""
    outputs.write_outputs(tmp_path, SPEC, [result("old_student")])
    before = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}

    def broken(rows):
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(outputs, "_csv", broken)
    with pytest.raises(RuntimeError):
        outputs.write_outputs(tmp_path, SPEC, [result("new_student")])
    after = {p.relative_to(tmp_path): p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    assert after == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feedback", "grades.csv", "summary.csv"]


def test_a_rerun_replaces_every_file(tmp_path):
    """Does a second run leave only the new pages (no stale student) and new CSVs?"""
    outputs.write_outputs(tmp_path, SPEC, [result("gone")])
    outputs.write_outputs(tmp_path, SPEC, [result("here", points=0.0)])
    assert [p.name for p in (tmp_path / "feedback").iterdir()] == ["here.html"]
    assert "gone" not in (tmp_path / "summary.csv").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["feedback", "grades.csv", "summary.csv"]
