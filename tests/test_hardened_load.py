"""Finding and reading a submission, confined to ``submitted/`` (``load.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.load import find_notebook, read_notebook
from course_nn.grading.hardened.model import Context, Submission, Ungradable

pytestmark = pytest.mark.grading

A = "ex01_linear_regression"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb")
RELEASED = T.read(T.ROOT / "exercises" / A / f"{A}.ipynb")


def _sub(submitted: Path, student: str) -> Submission:
    return Submission(student, submitted / student / A, submitted.resolve())


@pytest.mark.parametrize("where", ["student", "assignment", "notebook"])
def test_a_link_anywhere_on_the_way_is_ungradable(tmp_path, where):
    """Does a link as the student folder, the assignment folder or the notebook stop grading?"""
    solutions = T.make_course(tmp_path / "course", [A]) / "solutions"
    submitted = tmp_path / "submitted"
    if where == "student":
        submitted.mkdir()
        (submitted / "eve").symlink_to(solutions)
    elif where == "assignment":
        (submitted / "eve").mkdir(parents=True)
        (submitted / "eve" / A).symlink_to(solutions / A)
    else:
        (submitted / "eve" / A).mkdir(parents=True)
        (submitted / "eve" / A / f"{A}.ipynb").symlink_to(solutions / A / f"{A}.ipynb")
    sub = _sub(submitted, "eve")
    with pytest.raises(Ungradable, match="symbolic link"):
        find_notebook(sub, Context(SPEC))
        read_notebook(sub, Context(SPEC))


def test_a_folder_outside_submitted_is_ungradable(tmp_path):
    (tmp_path / "elsewhere" / A).mkdir(parents=True)
    (tmp_path / "submitted").mkdir()
    sub = Submission("x", tmp_path / "elsewhere" / A, (tmp_path / "submitted").resolve())
    with pytest.raises(Ungradable, match="not inside"):
        find_notebook(sub, Context(SPEC))


def test_hidden_test_markers_are_flagged(tmp_path):
    """Is a notebook that holds the instructor's hidden-test markers flagged?"""
    nb = T.read(T.ROOT / "solutions" / A / f"{A}.ipynb")  # the instructor's own version
    T.write(tmp_path / "submitted" / "eve" / A / f"{A}.ipynb", nb)
    sub = _sub(tmp_path / "submitted", "eve")
    find_notebook(sub, Context(SPEC))
    read_notebook(sub, Context(SPEC))
    assert any("hidden-test markers" in flag for flag in sub.flags)


def test_an_honest_notebook_reads_without_flags(tmp_path):
    T.write(tmp_path / "submitted" / "ann" / A / f"{A}.ipynb", RELEASED)
    sub = _sub(tmp_path / "submitted", "ann")
    find_notebook(sub, Context(SPEC))
    read_notebook(sub, Context(SPEC))
    assert sub.flags == [] and isinstance(sub.notebook, dict)
