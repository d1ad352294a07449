"""Cells the student added: found, kept in notebook order, run and scanned
(``structure.py``, ``script.py``, ``scan.py``)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import (
    MAX_PARSE_CHARS,
    cell_source,
    defined_names,
    load_spec,
)
from course_nn.grading.hardened.model import Context, Submission
from course_nn.grading.hardened.scan import scan_solutions, scan_source
from course_nn.grading.hardened.script import build_job, without_magics
from course_nn.grading.hardened.structure import match_cells

ROOT = T.ROOT
A = "ex01_linear_regression"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())

pytestmark = pytest.mark.grading

A = "ex01_linear_regression"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb")
RELEASED = T.read(T.ROOT / "exercises" / A / f"{A}.ipynb")


def _with_cell(nb: dict, after: str, source: str, cell_id: str = "new-cell") -> dict:
    nb = copy.deepcopy(nb)
    ids = [(c.get("metadata", {}).get("nbgrader") or {}).get("grade_id") for c in nb["cells"]]
    nb["cells"].insert(ids.index(after) + 1, {"cell_type": "code", "id": cell_id, "metadata": {},
                                              "source": source, "outputs": [],
                                              "execution_count": None})
    return nb


def _matched(nb: dict) -> Submission:
    sub = Submission("s", Path("."))
    sub.notebook = nb
    match_cells(sub, Context(SPEC))
    scan_solutions(sub, Context(SPEC))
    build_job(sub, Context(SPEC))
    return sub


def test_an_added_cell_runs_after_the_cell_it_follows():
    """Is a helper cell the student added placed right after its instructor cell?"""
    sub = _matched(_with_cell(RELEASED, "linear_forward", "def helper(x):\n    return x\n"))
    assert [c.defines for c in sub.added_cells] == [("helper",)]
    ids = [step.id for step in sub.job.steps]
    assert ids[ids.index("linear_forward") + 1] == sub.added_cells[0].step_id
    assert any("added were run" in note for note in sub.notes)


def test_instructor_plain_cells_are_not_added_cells():
    """Are the released notebook's own plain cells (even edited, same id) left out?"""
    nb = copy.deepcopy(RELEASED)
    for cell in nb["cells"]:
        if cell["cell_type"] == "code" and not cell.get("metadata", {}).get("nbgrader"):
            cell["source"] = "# edited by the student\n" + cell_source(cell)
    sub = _matched(nb)
    assert sub.added_cells == [] and sub.flags == []


def test_added_cells_are_scanned():
    """Does a cheating route in an added cell flag the tests (the cell runs, so it counts)?"""
    sub = _matched(_with_cell(RELEASED, "mse", "import numpy as np\nnp.allclose = lambda *a, **k: True\n"))
    assert any("tampering" in f for flags in sub.test_flags.values() for f in flags)


def test_huge_cells_are_never_parsed_here():
    """Is a cell over the parse cap left unparsed (flagged, passed on unchanged)?"""
    huge = "x = 1\n" * (MAX_PARSE_CHARS // 6 + 10)
    assert defined_names(huge) == ()
    assert without_magics(huge) is huge
    (finding,) = scan_source(huge)
    assert "too large to scan" in finding


def _submission(nb) -> Submission:
    sub = Submission("s", Path("."))
    sub.notebook = nb
    return sub


def test_structure_flags_edits_deletions_and_retyping():
    """Are edited, deleted and re-typed cells flagged against the instructor notebook?"""
    spec = load_spec(ROOT / "solutions" / A / f"{A}.ipynb")
    nb = T.read(ROOT / "exercises" / A / f"{A}.ipynb")
    by_id = {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
             if "nbgrader" in c.get("metadata", {})}
    by_id["test_mse"]["source"] = "pass"
    by_id["test_linear_forward"]["metadata"]["nbgrader"]["grade"] = False
    by_id["test_linear_mse_grads"]["metadata"]["nbgrader"]["points"] = 100
    nb["cells"].remove(by_id["test_fit_least_squares"])
    sub = _submission(nb)
    match_cells(sub, Context(spec))
    assert any("edited" in f for f in sub.test_flags["test_mse"])
    assert any("re-typed" in f for f in sub.test_flags["test_linear_forward"])
    assert any("deleted" in f for f in sub.test_flags["test_fit_least_squares"])
    assert any("points changed to 100" in f for f in sub.test_flags["test_linear_mse_grads"])
    solutions = {c["metadata"]["nbgrader"]["grade_id"] for c in nb["cells"]
                 if c.get("metadata", {}).get("nbgrader", {}).get("solution")
                 and c["cell_type"] == "code"}
    assert {"linear_forward", "mse", "linear_mse_grads", "fit_least_squares"} <= solutions
    assert set(sub.solution_sources) == solutions


def test_released_cells_match_their_instructor_version():
    """Does an untouched released notebook raise no structural flag at all?"""
    spec = load_spec(ROOT / "solutions" / A / f"{A}.ipynb")
    sub = _submission(T.read(ROOT / "exercises" / A / f"{A}.ipynb"))
    match_cells(sub, Context(spec))
    assert sub.flags == [] and sub.test_flags == {}
