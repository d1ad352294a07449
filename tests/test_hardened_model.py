"""The data between the steps (``model.py``): clean flags, typed job, results."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_nn.grading.hardened.model import Submission, SubmissionResult
from course_nn.grading.hardened.model import TestResult as Row

pytestmark = pytest.mark.grading


def test_flags_and_notes_are_cleaned_where_they_enter():
    """Does a flag or note built from a hostile name arrive as clean text?"""
    sub = Submission("s", Path("."))
    sub.flag("cell 'x\udcff\x1b' deleted")
    sub.flag_test("test_f", "renamed \udcff")
    sub.note("note \x07")
    assert sub.flags == ["cell 'x\ufffd\ufffd' deleted"]
    assert sub.test_flags == {"test_f": ["renamed \ufffd"]}
    assert sub.notes == ["note \ufffd"]
    sub.flag("cell 'x\udcff\x1b' deleted")
    assert len(sub.flags) == 1  # no duplicates


def test_a_result_sums_its_tests():
    result = SubmissionResult("s", [Row("a", "passed", 2, 2), Row("b", "failed", 0, 3)], [])
    assert (result.score, result.max_score) == (2, 5)
