"""Reading the instructor notebook into an AssignmentSpec (``assignment.py``)."""

from __future__ import annotations

import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import SpecError, load_spec

pytestmark = pytest.mark.grading

ROOT = T.ROOT
A = "ex01_linear_regression"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())


def test_instructor_notebook_gives_points_and_hidden_calls():
    """Are points and public + hidden check calls read from the instructor notebook?"""
    spec = load_spec(ROOT / "solutions" / A / f"{A}.ipynb")
    graded = [c["metadata"]["nbgrader"] for c in T.read(ROOT / "solutions" / A / f"{A}.ipynb")["cells"]
              if c["cell_type"] == "code" and c.get("metadata", {}).get("nbgrader", {}).get("grade")]
    assert spec.max_score == sum(m["points"] for m in graded) > 0
    assert [t.grade_id for t in spec.tests][:2] == ["test_linear_forward", "test_mse"]
    for test in spec.tests:
        assert [c.hidden for c in test.calls] == [False, True]
        assert "HIDDEN" not in test.released_source


def test_released_notebook_gets_hidden_twins():
    """Does a released notebook (no hidden blocks) still get hidden checks?"""
    spec = load_spec(ROOT / "exercises" / A / f"{A}.ipynb")
    assert all([c.hidden for c in t.calls] == [False, True] for t in spec.tests)
    plain = load_spec(ROOT / "exercises" / A / f"{A}.ipynb", add_hidden=False)
    assert plain.tests[0].calls[-1].hidden is False


def test_unknown_check_stops_grading_early(tmp_path):
    """Is a grade cell naming an unregistered check an error before any student runs?"""
    nb = T.read(ROOT / "solutions" / A / f"{A}.ipynb")
    for cell in nb["cells"]:
        if "check(\"mse\"" in "".join(cell["source"]):
            cell["source"] = 'check("no_such_check", mse)'
    with pytest.raises(SpecError, match="no registered check named 'no_such_check'"):
        load_spec(T.write(tmp_path / "x.ipynb", nb))
