"""Step 12: put the scores into nbgrader's gradebook, so ``nbgrader export`` works.

Book: none (instructor tooling); docs/grading.md, "12. Gradebook".

The assignment is normally in the gradebook already (``nbgrader generate_assignment``
adds it); if not, it is added from the instructor notebook the same way: the
notebook, its grade cells with their points, its solution and source cells. Each
student's submission then gets an ``auto_score`` per autograded cell; cells graded
by hand are left for the instructor.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

from course_nn.grading.hardened.assignment import strip_hidden
from course_nn.grading.hardened.model import AssignmentSpec, SubmissionResult


def _add_assignment(gb, spec: AssignmentSpec) -> str:
    """Make sure the assignment, its notebook and its cells exist; return the notebook name."""
    from nbformat import from_dict
    from nbgrader.api import MissingEntry
    from nbgrader.utils import compute_checksum

    notebook = spec.notebook.removesuffix(".ipynb")
    gb.update_or_create_assignment(spec.name)
    try:
        gb.find_notebook(notebook, spec.name)
        return notebook
    except MissingEntry:
        gb.add_notebook(notebook, spec.name)
    for cell in spec.cells:
        if cell.grade_id is None:
            continue
        if cell.grade:
            gb.update_or_create_grade_cell(cell.grade_id, notebook, spec.name,
                                           max_score=cell.points, cell_type=cell.cell_type)
        if cell.solution:
            gb.update_or_create_solution_cell(cell.grade_id, notebook, spec.name)
        released = {"cell_type": cell.cell_type, "source": strip_hidden(cell.source),
                    "metadata": {"nbgrader": {"grade": cell.grade, "solution": cell.solution,
                                              "locked": cell.locked, "grade_id": cell.grade_id,
                                              "points": cell.points}}}
        gb.update_or_create_source_cell(cell.grade_id, notebook, spec.name,
                                        cell_type=cell.cell_type, locked=cell.locked,
                                        source=released["source"],
                                        checksum=compute_checksum(from_dict(released)))
    return notebook


def _alembic_on_path() -> None:
    """nbgrader's Gradebook runs ``alembic`` by name: it must come from this interpreter's
    environment (a venv's ``bin/`` is not on PATH unless the venv is activated)."""
    if shutil.which("alembic") is None:
        bin_dir = str(Path(sys.executable).parent)
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


def write_gradebook(db_url: str, spec: AssignmentSpec, results: list[SubmissionResult]) -> None:
    """Record every student's autograded scores (re-grading overwrites them)."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    _alembic_on_path()
    with warnings.catch_warnings(), Gradebook(db_url) as gb:
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's add_submission autoflushes
        notebook = _add_assignment(gb, spec)
        for result in results:
            gb.update_or_create_student(result.student)
            try:
                gb.find_submission(spec.name, result.student)
            except MissingEntry:
                gb.add_submission(spec.name, result.student)
            for test in result.tests:
                try:
                    grade = gb.find_grade(test.test, notebook, spec.name, result.student)
                except MissingEntry:
                    continue  # a cell the gradebook's copy of the assignment does not have
                grade.auto_score = test.points
                grade.needs_manual_grade = False
            gb.db.commit()
