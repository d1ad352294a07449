"""Step 12: put the scores into nbgrader's gradebook, so ``nbgrader export`` works.

Book: none (instructor tooling); docs/grading.md, "12. Gradebook".

The assignment is normally in the gradebook already (``nbgrader generate_assignment``
adds it); if not, it is added from the instructor notebook the same way: the
notebook, its grade cells with their points, its solution and source cells. Each
student's submission then gets the rows ``nbgrader autograde`` would leave: an
``auto_score`` per test cell (the grader's points), and per written answer either 0
with the comment "No response." (left as released) or ``needs_manual_grade`` (read
from the autograded notebook, :mod:`.autograded`). A submission with no notebook
gets 0 everywhere and nothing to grade by hand, as nbgrader does for a missing one.

Late work (:mod:`.deadlines`; docs/instructor.md, "Deadlines and late work"): the
submission's time (``timestamp.txt``, stored with the result) and any extension the
course grants are written to the submission, and each notebook's
``late_submission_penalty`` is set as ``nbgrader autograde``'s ``AssignLatePenalties``
sets it, from the notebook's score and ``total_seconds_late``
(:func:`apply_late_penalties`), so ``nbgrader export`` and formgrader show it too.
"""

from __future__ import annotations

import os
import shutil
import sys
import warnings
from pathlib import Path

from course_nn.grading.hardened.autograded import Autograded, SourceCell
from course_nn.grading.hardened.deadlines import (
    Deadlines,
    Lateness,
    from_iso,
    gradebook_penalty,
    lateness,
)
from course_nn.grading.hardened.model import AssignmentSpec, SubmissionResult


def _add_assignment(gb, spec: AssignmentSpec, sources: dict[str, SourceCell]) -> str:
    """Make sure the assignment, its notebook and its cells exist; return the notebook name.

    ``sources`` are the cells as ``generate_assignment`` saves them (solution cells as
    released, checksums by nbgrader), so an untouched answer is recognised."""
    from nbgrader.api import MissingEntry

    notebook = spec.notebook.removesuffix(".ipynb")
    gb.update_or_create_assignment(spec.name)
    try:
        gb.find_notebook(notebook, spec.name)
        return notebook
    except MissingEntry:
        gb.add_notebook(notebook, spec.name)
    for cell in sources.values():
        if cell.grade:
            gb.update_or_create_grade_cell(cell.grade_id, notebook, spec.name,
                                           max_score=cell.points, cell_type=cell.cell_type)
        if cell.solution:
            gb.update_or_create_solution_cell(cell.grade_id, notebook, spec.name)
        gb.update_or_create_source_cell(cell.grade_id, notebook, spec.name,
                                        cell_type=cell.cell_type, locked=cell.locked,
                                        source=cell.source, checksum=cell.checksum)
    return notebook


def _alembic_on_path() -> None:
    """nbgrader's Gradebook runs ``alembic`` by name: it must come from this interpreter's
    environment (a venv's ``bin/`` is not on PATH unless the venv is activated)."""
    if shutil.which("alembic") is None:
        bin_dir = str(Path(sys.executable).parent)
        os.environ["PATH"] = os.pathsep.join([bin_dir, os.environ.get("PATH", "")])


def _set_rows(gb, notebook: str, spec: AssignmentSpec, result: SubmissionResult,
              made: Autograded | None, unchanged: frozenset[str] | None = None) -> None:
    """One student's grade and comment rows, as ``SaveAutoGrades`` sets them.

    ``SaveAutoGrades`` flags every hand-scored cell for review again; a written answer
    in ``unchanged`` (its source is the one the hand grade was given on) keeps its hand
    grade as it is, review flag included."""
    from nbgrader.api import MissingEntry

    if made is None:  # no notebook read: nbgrader's "No submitted file" (all 0, none to grade)
        points = {t.test: t.points for t in result.tests}
        for grade in gb.find_submission_notebook(notebook, spec.name, result.student).grades:
            grade.auto_score = points.get(grade.name, 0.0)
            grade.needs_manual_grade = False
        return
    for row in made.grades:
        try:
            grade = gb.find_grade(row.grade_id, notebook, spec.name, result.student)
        except MissingEntry:
            continue
        grade.auto_score = row.auto_score
        if grade.manual_score is not None and row.grade_id in (unchanged or ()):
            continue  # graded by hand, answer unchanged: the hand grade stands
        grade.needs_manual_grade = grade.manual_score is not None or row.auto_score is None
    for row in made.comments:
        try:
            gb.find_comment(row.grade_id, notebook, spec.name, result.student).auto_comment = \
                row.auto_comment
        except MissingEntry:
            continue


def _naive_utc(moment):
    """nbgrader's stored form of a time: naive, in UTC."""
    from datetime import UTC

    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def grant_extension(gb, assignment: str, student: str, deadlines: Deadlines) -> None:
    """Write the student's configured extension to their submission, as nbgrader's
    ``Gradebook.grant_extension`` stores one (a timedelta); without one configured, an
    extension the gradebook already holds stays. Without a due date nothing is late and
    nothing is written: nbgrader's ``SubmittedAssignment.duedate`` adds the extension to
    the assignment's due date, so an extension beside no due date raises TypeError."""
    extension = deadlines.extension(assignment, student)
    if extension is None:
        return
    due = gb.find_assignment(assignment).duedate
    if due is None:
        return  # the next grade after a due date is set writes it
    gb.find_submission(assignment, student).extension = extension.delta(due)


def apply_late_penalties(gb, assignment: str, deadlines: Deadlines,
                         students: list[str] | None = None) -> None:
    """Each submitted notebook's ``late_submission_penalty``, exactly as ``nbgrader
    autograde``'s ``AssignLatePenalties`` sets it: None (no penalty) unless the
    submission's ``total_seconds_late`` (its timestamp against the due date plus the
    extension) is positive, else the policy's penalty on the notebook's score, bounded
    to [0, score]. ``students``: only theirs (default: every submission). Without a due
    date nothing is late (nbgrader's ``total_seconds_late`` would add an extension the
    gradebook holds to no due date: TypeError). Commits."""
    wanted = set(students) if students is not None else None
    row = gb.find_assignment(assignment)
    for submission in row.submissions:
        if wanted is not None and submission.student_id not in wanted:
            continue
        late = submission.total_seconds_late if row.duedate is not None else 0.0
        for notebook in submission.notebooks:
            notebook.late_submission_penalty = gradebook_penalty(
                deadlines.policy, float(notebook.score), late)
    gb.db.commit()


def read_lateness(db_url: str | None, deadlines: Deadlines, assignment: str,
                  results: list[SubmissionResult]) -> dict[str, Lateness]:
    """Per student of ``results``: their stored time against the assignment's due date
    in the gradebook and their extension (configured, else the gradebook's). Reads only;
    no gradebook (or no due date) leaves everyone on time."""
    found = {r.student: lateness(deadlines, assignment, r.student, r.submitted, None)
             for r in results}
    if not db_url or (db_url.startswith("sqlite:///")
                      and not Path(db_url.removeprefix("sqlite:///")).is_file()):
        return found
    from nbgrader.api import Gradebook, MissingEntry

    _alembic_on_path()
    with Gradebook(db_url) as gb:
        try:
            due = gb.find_assignment(assignment).duedate
        except MissingEntry:
            return found
        granted = {s.student_id: s.extension for s in gb.find_assignment(assignment).submissions}
    return {r.student: lateness(deadlines, assignment, r.student, r.submitted, due,
                                granted.get(r.student)) for r in results}


def write_gradebook(db_url: str, spec: AssignmentSpec, results: list[SubmissionResult],
                    made: dict[str, Autograded] | None = None,
                    sources: dict[str, SourceCell] | None = None,
                    unchanged: dict[str, frozenset[str]] | None = None,
                    deadlines: Deadlines | None = None) -> None:
    """Record the rows of the students of ``results`` (re-grading overwrites the automatic
    ones and keeps the hand-given scores and comments; other students' rows are not
    touched). ``made``: the autograded notebooks by student
    (:func:`.autograded.autograde_batch`); ``sources``: :func:`.autograded.source_cells`;
    ``unchanged``: per student, the written answers whose hand grade stands
    (:func:`.publish.unchanged_answers`; without it every hand grade is flagged for
    review, as ``nbgrader autograde`` does); ``deadlines``: the course's late-work
    settings (default: no penalty, no extension), applied by
    :func:`apply_late_penalties` once the rows are written."""
    from nbgrader.api import Gradebook, MissingEntry
    from sqlalchemy.exc import SAWarning

    from course_nn.grading.hardened.autograded import source_cells

    made = made or {}
    sources = sources if sources is not None else source_cells(spec)
    _alembic_on_path()
    with warnings.catch_warnings(), Gradebook(db_url) as gb:
        warnings.simplefilter("ignore", SAWarning)  # nbgrader's add_submission autoflushes
        notebook = _add_assignment(gb, spec, sources)
        for result in results:
            gb.update_or_create_student(result.student)
            stamp = from_iso(result.submitted)  # stored with the result (timestamp.txt)
            if stamp is not None:
                stamp = _naive_utc(stamp)
            elif result.student in made:
                stamp = made[result.student].timestamp
            try:
                gb.find_submission(spec.name, result.student)
            except MissingEntry:
                gb.add_submission(spec.name, result.student)
            if stamp is not None:  # timestamp.txt, as nbgrader autograde records it
                gb.update_or_create_submission(spec.name, result.student, timestamp=stamp)
            grant_extension(gb, spec.name, result.student, deadlines or Deadlines())
            _set_rows(gb, notebook, spec, result, made.get(result.student),
                      (unchanged or {}).get(result.student))
            gb.db.commit()
        apply_late_penalties(gb, spec.name, deadlines or Deadlines(),
                             [r.student for r in results])
