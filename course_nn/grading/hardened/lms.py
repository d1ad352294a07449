"""``course-nn export``: the gradebook's grades, less late penalties, as Canvas, Moodle and plain CSV.

Book: none (instructor tooling); docs/instructor.md, "Exporting grades to Canvas or Moodle".

Read as four one-job steps:

1. :func:`read_roster`: the instructor's id-mapping file (CSV: ``student_id`` and any of
   ``lms_id``, ``sis_id``, ``login``, ``name``, ``email``, ``section``), every cell
   cleaned; a student id twice is an error;
2. :func:`refresh_late_penalties`: each submission's extension and late penalty brought
   up to date in the gradebook (the hand grades given since grading change the score a
   penalty is taken from), as ``nbgrader autograde`` would set them
   (:func:`.gradebook.apply_late_penalties`), so ``nbgrader export`` agrees;
3. :func:`read_scores`: per student and assignment, what ``nbgrader export`` reads: the
   automatic points, the points given by hand, the late penalty and the total
   ``max(0, auto + hand - penalty)`` (0 for a student of the gradebook with no
   submission);
4. :func:`canvas_rows`, :func:`moodle_rows`, :func:`plain_rows`: one table per LMS,
   written atomically under ``graded/export/`` (:func:`write_exports`).

A student of the gradebook missing from the roster is exported with blank LMS fields
and listed (:attr:`Export.unmapped`); a roster student the gradebook does not know is
exported with blank scores (no grade is changed in the LMS) and listed
(:attr:`Export.unknown`): nobody is dropped silently. Every text cell goes through the
grader's spreadsheet-formula guard (:func:`.outputs.cell`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from course_nn.grading.hardened.course import Course
from course_nn.grading.hardened.deadlines import Deadlines, iso, utc
from course_nn.grading.hardened.outputs import _replace, cell, number, safe_name
from course_nn.grading.hardened.text import clean

ROSTER_COLUMNS = ("student_id", "lms_id", "sis_id", "login", "name", "email", "section")
MAX_ROSTER_BYTES = 16 * 2**20
MAX_CELL = 200  # characters of a roster cell
CANVAS_FIXED = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
POINTS_POSSIBLE = "Points Possible"
MOODLE_FIXED = ("ID number", "Email address", "Username", "Full name")
PLAIN_COLUMNS = ("student_id", "name", "email", "section", "lms_id", "sis_id", "assignment",
                 "submitted", "seconds_late", "auto", "hand", "penalty", "total", "max_score")
FOLDER = Path("graded") / "export"


class ExportError(Exception):
    """The export cannot run (no gradebook, no such assignment, an unreadable roster)."""


@dataclass(frozen=True)
class Person:
    """One roster row: who a student id is in the LMS ("" where the roster is silent)."""

    student: str
    lms_id: str = ""  # the LMS's own user id (Canvas "ID")
    sis_id: str = ""  # the institution's id (Canvas "SIS User ID", Moodle "ID number")
    login: str = ""  # the login (Canvas "SIS Login ID", Moodle "Username")
    name: str = ""
    email: str = ""
    section: str = ""


@dataclass(frozen=True)
class Score:
    """One student's grade for one assignment, as ``nbgrader export`` computes it."""

    auto: float
    hand: float
    penalty: float
    max_score: float
    submitted: datetime | None = None
    seconds_late: float = 0.0
    has_submission: bool = True

    @property
    def total(self) -> float:
        return max(0.0, self.auto + self.hand - self.penalty)


@dataclass
class Table:
    """Every exported grade: the assignments (name, points possible), the students in
    order, and their scores (missing for a student the gradebook does not know)."""

    assignments: list[tuple[str, float]]
    students: list[str]
    scores: dict[tuple[str, str], Score] = field(default_factory=dict)
    enrolled: frozenset[str] = frozenset()  # the students of the gradebook


@dataclass
class Export:
    """What ``course-nn export`` wrote and whom it could not map."""

    paths: list[Path]
    unmapped: list[str]  # in the gradebook, not in the roster: blank LMS fields
    unknown: list[str]  # in the roster, not in the gradebook: blank scores


# --- step 1: the roster ----------------------------------------------------------------------
def read_roster(path: Path) -> dict[str, Person]:
    """The id-mapping CSV (UTF-8, a BOM allowed), by student id; raises
    :class:`ExportError` naming the problem."""
    from course_nn.grading.hardened.load import read_limited
    from course_nn.grading.hardened.model import Ungradable

    try:
        data = read_limited(Path(path), MAX_ROSTER_BYTES).decode("utf-8-sig")
    except (Ungradable, UnicodeDecodeError, OSError) as err:
        raise ExportError(f"roster {path}: {clean(err, 300)}") from None
    reader = csv.DictReader(io.StringIO(data, newline=""))
    columns = [clean(c, MAX_CELL).strip().lower() for c in reader.fieldnames or ()]
    if "student_id" not in columns:
        raise ExportError(f"roster {path}: no student_id column (columns: "
                          f"{', '.join(ROSTER_COLUMNS)})")
    reader.fieldnames = columns
    people: dict[str, Person] = {}
    for line, row in enumerate(reader, start=2):
        values = {key: clean(row.get(key) or "", MAX_CELL).strip() for key in ROSTER_COLUMNS}
        student = values.pop("student_id")
        if not student:
            continue
        if student in people:
            raise ExportError(f"roster {path}, line {line}: student id {student!r} again")
        people[student] = Person(student, **values)
    return people


# --- steps 2-3: the gradebook ----------------------------------------------------------------
def _open(db_url: str | None):
    from course_nn.grading.hardened.gradebook import _alembic_on_path

    if not db_url or (db_url.startswith("sqlite:///")
                      and not Path(db_url.removeprefix("sqlite:///")).is_file()):
        raise ExportError(f"no gradebook {db_url} (grade an assignment first)")
    from nbgrader.api import Gradebook

    _alembic_on_path()
    return Gradebook(db_url)


def chosen(gb, assignments: list[str] | None) -> list[str]:
    """The assignments asked for (None: every one in the gradebook), each known."""
    known = [a.name for a in gb.assignments]
    if assignments is None:
        return known
    missing = [a for a in assignments if a not in known]
    if missing:
        raise ExportError(f"no assignment {', '.join(map(repr, missing))} in the gradebook "
                          f"(it has: {', '.join(known) or 'none'})")
    return list(assignments)


def refresh_late_penalties(db_url: str | None, deadlines: Deadlines,
                           assignments: list[str] | None = None) -> None:
    """Step 2: every submission's configured extension and every notebook's late penalty,
    recomputed from the scores the gradebook holds now (hand grades included)."""
    from course_nn.grading.hardened.gradebook import apply_late_penalties, grant_extension

    with _open(db_url) as gb:
        for name in chosen(gb, assignments):
            for submission in gb.find_assignment(name).submissions:
                grant_extension(gb, name, submission.student_id, deadlines)
            gb.db.commit()
            apply_late_penalties(gb, name, deadlines)


def submission_score(submission, max_score: float) -> Score:
    """One submission's parts: a cell scored by hand counts as hand (its hand score), any
    other its automatic points; the penalty is the gradebook's (summed over notebooks)."""
    auto = hand = 0.0
    for notebook in submission.notebooks:
        for grade in notebook.grades:
            if grade.manual_score is not None:
                hand += float(grade.manual_score)
            elif grade.auto_score is not None:
                auto += float(grade.auto_score)
    stamp = utc(submission.timestamp) if submission.timestamp is not None else None
    # no due date: never late (nbgrader's total_seconds_late adds an extension to None)
    late = submission.total_seconds_late if submission.assignment.duedate is not None else 0
    return Score(auto, hand, float(submission.late_submission_penalty or 0.0), max_score, stamp,
                 float(late))


def read_scores(db_url: str | None, assignments: list[str] | None = None,
                extra: list[str] | None = None) -> Table:
    """Step 3: the scores of every student of the gradebook (and of ``extra`` ids, with no
    score when the gradebook does not know them) for the chosen assignments."""
    from nbgrader.api import MissingEntry

    with _open(db_url) as gb:
        names = chosen(gb, assignments)
        students = sorted(s.id for s in gb.students)
        table = Table([], students + sorted(set(extra or ()) - set(students)),
                      enrolled=frozenset(students))
        for name in names:
            assignment = gb.find_assignment(name)
            points = float(assignment.max_score)
            table.assignments.append((name, points))
            for student in students:
                try:
                    submission = gb.find_submission(name, student)
                except MissingEntry:  # nbgrader export's "didn't submit": zero
                    table.scores[student, name] = Score(0.0, 0.0, 0.0, points,
                                                        has_submission=False)
                    continue
                table.scores[student, name] = submission_score(submission, points)
    return table


# --- step 4: the tables ----------------------------------------------------------------------
def _total(table: Table, student: str, assignment: str) -> str:
    score = table.scores.get((student, assignment))
    return number(score.total) if score is not None else ""


def canvas_header(assignment: str, canvas_ids: dict[str, str]) -> str:
    """An assignment column: ``name (canvas id)`` updates that Canvas assignment; the
    bare name makes Canvas create a new one (with the Points Possible row's points)."""
    found = canvas_ids.get(assignment)
    return f"{assignment} ({found})" if found else assignment


def canvas_rows(table: Table, roster: dict[str, Person],
                canvas_ids: dict[str, str] | None = None) -> list[list[str]]:
    """Canvas's gradebook import: ``Student, ID, SIS User ID, SIS Login ID, Section`` and
    one column per assignment; the second row is Canvas's ``Points Possible`` row."""
    rows = [[*CANVAS_FIXED, *(cell(canvas_header(a, canvas_ids or {}))
                              for a, _ in table.assignments)],
            [POINTS_POSSIBLE, "", "", "", "", *(number(p) for _, p in table.assignments)]]
    for student in table.students:
        person = roster.get(student) or Person(student)
        rows.append([cell(person.name or student), cell(person.lms_id), cell(person.sis_id),
                     cell(person.login), cell(person.section),
                     *(_total(table, student, a) for a, _ in table.assignments)])
    return rows


def moodle_rows(table: Table, roster: dict[str, Person]) -> list[list[str]]:
    """Moodle's "Import grades from CSV": identify users by ``ID number`` or ``Email
    address`` (or ``Username``), map each assignment column to its grade item."""
    rows = [[*MOODLE_FIXED, *(cell(a) for a, _ in table.assignments)]]
    for student in table.students:
        person = roster.get(student) or Person(student)
        rows.append([cell(person.sis_id), cell(person.email), cell(person.login),
                     cell(person.name or student),
                     *(_total(table, student, a) for a, _ in table.assignments)])
    return rows


def plain_rows(table: Table, roster: dict[str, Person]) -> list[list[str]]:
    """One row per student and assignment: who (roster), when, and every part of the grade."""
    rows = [list(PLAIN_COLUMNS)]
    for student in table.students:
        person = roster.get(student) or Person(student)
        who = [cell(student), cell(person.name), cell(person.email), cell(person.section),
               cell(person.lms_id), cell(person.sis_id)]
        for assignment, points in table.assignments:
            score = table.scores.get((student, assignment))
            if score is None:
                rows.append([*who, cell(assignment), "", "", "", "", "", "", number(points)])
                continue
            rows.append([*who, cell(assignment), cell(iso(score.submitted)),
                         number(score.seconds_late), number(score.auto), number(score.hand),
                         number(score.penalty), number(score.total), number(points)])
    return rows


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def write_exports(out: Path, label: str, table: Table, roster: dict[str, Person],
                  canvas_ids: dict[str, str] | None = None) -> list[Path]:
    """``out/canvas-LABEL.csv``, ``out/moodle-LABEL.csv`` and ``out/grades-LABEL.csv``,
    each written atomically; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    stem = safe_name(label)
    files = {f"canvas-{stem}.csv": canvas_rows(table, roster, canvas_ids),
             f"moodle-{stem}.csv": moodle_rows(table, roster),
             f"grades-{stem}.csv": plain_rows(table, roster)}
    paths = []
    for name, rows in files.items():
        _replace(out / name, _csv(rows))
        paths.append(out / name)
    return paths


def export_grades(course: Course, assignments: list[str] | None, roster: Path | None = None,
                  out: Path | None = None, canvas_ids: dict[str, str] | None = None) -> Export:
    """Steps 1-4 for ``assignments`` (None: every assignment of the gradebook).

    ``roster``: the id-mapping CSV (default ``COURSE/roster.csv`` when it exists);
    ``out``: the folder (default ``COURSE/graded/export``)."""
    if roster is None and (course.root / "roster.csv").is_file():
        roster = course.root / "roster.csv"
    people = read_roster(roster) if roster is not None else {}
    refresh_late_penalties(course.db_url, course.deadlines, assignments)
    table = read_scores(course.db_url, assignments, sorted(people))
    label = assignments[0] if assignments and len(assignments) == 1 else "all"
    paths = write_exports(Path(out) if out else course.root / FOLDER, label, table, people,
                          canvas_ids)
    return Export(paths, [s for s in table.students if s in table.enrolled and s not in people],
                  [s for s in table.students if s not in table.enrolled])
