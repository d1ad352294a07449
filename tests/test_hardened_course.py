"""Where a course keeps things (``course.py``)."""

from __future__ import annotations

import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.course import Course

pytestmark = pytest.mark.grading

A = "ex01_linear_regression"


def test_the_course_folders_come_from_nbgrader_config(tmp_path):
    """Are source/release folders and a relative gradebook read from nbgrader_config.py?"""
    course = T.make_course(tmp_path / "course", [A])
    info = Course.load(course)
    path = info.notebook(A)
    assert path is not None and path.is_file() and path.name == f"{A}.ipynb"
    assert course.resolve() in path.resolve().parents
    assert info.db_url.startswith("sqlite:///") and str(course.resolve()) in info.db_url


def test_without_a_config_the_defaults_hold(tmp_path):
    info = Course.load(tmp_path)
    assert (info.source, info.release) == ("source", "release")
    assert info.db_url == f"sqlite:///{tmp_path.resolve() / 'gradebook.db'}"
    assert info.notebook("nothing") is None
