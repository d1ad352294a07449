"""Steps 12-13 for the students graded now: their autograded notebooks and gradebook rows.

Book: none (instructor tooling); docs/grading.md, "12. Gradebook"; docs/instructor.md,
"Regrading one student".

Only the students of this run are written; every other student's notebook and rows
stay as they are. A written answer graded by hand keeps its hand grade when the
student's answer is the one the hand grade was given on: the source of the answer
cell in the autograded notebook formgrader showed (the one on disk before this run
replaces it) equals the new one (:func:`unchanged_answers`). A changed answer is
flagged for a new look, as ``nbgrader autograde`` flags every hand-graded cell.
Each student's submission time, extension and late penalty go to the gradebook as
``nbgrader autograde`` would record them (:mod:`.deadlines`, the course's rules).
"""

from __future__ import annotations

import json
from pathlib import Path

from course_nn.grading.hardened.assignment import cell_source, nbgrader_meta
from course_nn.grading.hardened.autograded import Autograded
from course_nn.grading.hardened.course import Course
from course_nn.grading.hardened.model import AssignmentSpec, Context, SubmissionResult


def written_sources(cells: list, spec: AssignmentSpec) -> dict[str, str]:
    """grade_id -> source of each written answer (a cell graded by hand), first cell of
    each grade id, as in an autograded notebook's ``cells``."""
    manual = {c.grade_id for c in spec.cells if c.role == "manual"}
    found: dict[str, str] = {}
    for cell in cells:
        meta = nbgrader_meta(cell) if isinstance(cell, dict) else None
        grade_id = str(meta["grade_id"]) if meta else None
        if grade_id in manual and grade_id not in found:
            found[grade_id] = cell_source(cell)
    return found


def previous_answers(folder: Path, spec: AssignmentSpec, student: str) -> dict[str, str] | None:
    """The written answers of the autograded notebook already on disk for ``student``, or
    None when there is none to read (no link followed, size capped)."""
    from course_nn.grading.hardened.load import MAX_NOTEBOOK_BYTES, read_limited

    path = folder / student / spec.name / spec.notebook
    if any(p.is_symlink() for p in (path.parent.parent, path.parent)):
        return None
    try:
        nb = json.loads(read_limited(path, MAX_NOTEBOOK_BYTES))
        return written_sources(nb["cells"], spec)
    except Exception:  # missing, unreadable or not a notebook: nothing to compare with
        return None


def unchanged_answers(folder: Path, spec: AssignmentSpec, made: dict[str, Autograded]
                      ) -> dict[str, frozenset[str]]:
    """Per student of ``made``, the written answers whose source equals the one in the
    autograded notebook on disk (call it before that notebook is replaced)."""
    unchanged = {}
    for student, item in made.items():
        before = previous_answers(folder, spec, student)
        if before is None:
            continue
        now = written_sources(item.notebook["cells"], spec)
        unchanged[student] = frozenset(g for g, source in now.items() if before.get(g) == source)
    return unchanged


def publish(info: Course, spec: AssignmentSpec, results: list[SubmissionResult],
            ctx: Context | None = None, students: list[tuple[str, Path]] | None = None
            ) -> list[str]:
    """Write the autograded notebooks (with ``ctx`` and ``students``: made from the
    submissions; without: read back, as a merge copied them) and the gradebook rows of
    the students of ``results``; returns notes. Raises when the gradebook cannot be
    written (the caller says so and keeps the other outputs)."""
    from course_nn.grading.hardened.autograded import (
        autograde_batch,
        autograded_folder,
        hand_grading,
        load_config,
        source_cells,
        write_autograded,
    )
    from course_nn.grading.hardened.gradebook import write_gradebook

    unchanged: dict[str, frozenset[str]] | None = None
    if ctx is None or students is None:
        made, sources, notes = hand_grading(info.root, spec, results)
    else:
        config = load_config(info.root)
        sources = source_cells(spec, config)
        folder = autograded_folder(info.root, config)
        made, notes = autograde_batch(ctx, students, results, sources)
        unchanged = unchanged_answers(folder, spec, made)
        notes += write_autograded(folder, spec.name, spec.notebook, made)
        notes.append(f"autograded notebooks of {len(made)} submission(s) in {folder}/ "
                     "(grade the written answers in formgrader)")
    write_gradebook(info.db_url, spec, results, made, sources, unchanged, info.deadlines)
    notes.append(f"scores of {len(results)} submission(s) written to the gradebook "
                 f"{info.db_url}")
    return notes
