"""Release integrity: exercises/ is a fresh nbgrader release of solutions/, and leaks nothing."""

from __future__ import annotations

import json

import nbformat
import pytest
from nbclient import NotebookClient

from course_nn.grading import REGISTRY
from course_nn.release import generate
from tests.notebooks import (
    CHECK_CALL,
    HIDDEN_REGION,
    assignment_names,
    exercise_path,
    nbgrader_meta,
    read,
    solution_path,
    solution_texts,
)

pytestmark = pytest.mark.grading
NAMES = assignment_names()


def test_there_are_assignments_and_each_is_released():
    assert "ex01_linear_regression" in NAMES
    for name in NAMES:
        assert exercise_path(name).is_file(), f"{name} is not released: run `make release`"


@pytest.fixture(scope="module")
def fresh_release(tmp_path_factory):
    dest = tmp_path_factory.mktemp("release")
    generate(dest)
    return dest


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_exercises_are_not_stale(name, fresh_release):
    """Does the committed student notebook equal a fresh `make release`?"""
    fresh = json.loads((fresh_release / name / f"{name}.ipynb").read_text())
    committed = json.loads(exercise_path(name).read_text())
    assert committed == fresh, f"exercises/{name} is stale: run `make release` and commit it"


@pytest.mark.parametrize("name", NAMES)
def test_no_solution_or_hidden_test_text_in_exercises(name):
    text = exercise_path(name).read_text()
    leaked = [line for line in solution_texts(name) if json.dumps(line)[1:-1] in text]
    assert not leaked, f"solution text reached exercises/{name}: {leaked[:3]}"
    assert "BEGIN SOLUTION" not in text and "HIDDEN TESTS" not in text
    assert "hidden=True" not in text


@pytest.mark.parametrize("name", NAMES)
def test_released_notebooks_have_no_outputs(name):
    nb = read(exercise_path(name))
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")


@pytest.mark.parametrize("name", NAMES)
def test_solution_notebook_structure(name):
    """Is every test cell one public check line plus a hidden block, for a registered check,
    with points, and is every graded function's solution cell present?"""
    nb = read(solution_path(name))
    ids = [nbgrader_meta(c).get("grade_id") for c in nb.cells if nbgrader_meta(c)]
    assert len(ids) == len(set(ids)), "grade_ids must be unique"
    solution_ids = {nbgrader_meta(c)["grade_id"] for c in nb.cells
                    if nbgrader_meta(c).get("solution") and c.cell_type == "code"}
    tests = [c for c in nb.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code"]
    assert tests, "an assignment needs graded test cells"
    for cell in tests:
        meta = nbgrader_meta(cell)
        assert meta["locked"] and meta["points"] > 0
        public_line = HIDDEN_REGION.sub("", cell.source).strip()
        match = CHECK_CALL.match(public_line)
        assert match and not match.group(3), f"{meta['grade_id']}: public part must be one check line"
        check_name, func = match.group(1), match.group(2)
        assert check_name in REGISTRY, f"no registered check {check_name!r}"
        hidden = HIDDEN_REGION.search(cell.source)
        assert hidden and hidden.group(1).strip() == f'check("{check_name}", {func}, hidden=True)'
        assert func in solution_ids, f"{func} has no solution cell with grade_id {func!r}"
    manual = [c for c in nb.cells if nbgrader_meta(c).get("grade") and c.cell_type == "markdown"]
    assert manual, "each assignment has at least one manually graded written answer"


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_student_notebook_runs_and_only_the_stubs_fail(name, tmp_path):
    """Executed as released, does every error come from a stub's NotImplementedError?"""
    nb = read(exercise_path(name))
    NotebookClient(nb, timeout=300, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(exercise_path(name).parent)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs
              if o.output_type == "error"]
    assert errors, "the stub notebook should fail its checks"
    assert {e.ename for e in errors} == {"NotImplementedError"}
    n_tests = sum(1 for c in nb.cells if nbgrader_meta(c).get("grade") and c.cell_type == "code")
    assert len(errors) >= n_tests
    nbformat.validate(nb)
