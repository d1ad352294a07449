"""Step 11: write grades.csv, summary.csv and a feedback page per student, all or nothing.

Book: none (instructor tooling); docs/grading.md, "11. Outputs".

Every string reaching here was cleaned at its entry (:mod:`.text`); the writers still
refuse nothing: a row that cannot be rendered becomes a row saying so, never a stopped
batch. The whole output is rendered in memory first, then written to temporary files
beside their targets and renamed into place (the feedback folder is swapped as a
whole), so a failed run leaves the previous outputs untouched, never a mix. Text cells
that a spreadsheet would evaluate (leading ``= + - @``, tab or carriage return) are
neutralised with a leading apostrophe. Feedback file names are unique per student id;
summary.csv names each student's page (``feedback`` column) and says when each was
submitted, how late (against the deadline with any extension) and the late penalty in
points on the score so far, automatic and hand grades (:mod:`.deadlines`; the same
number the gradebook's ``late_submission_penalty`` holds). The page itself is
:mod:`.feedback`. A batch passes every stored result of the assignment (:mod:`.store`),
not only the students it graded, so a partial run rewrites everyone else's rows and
pages with the same bytes.
"""

from __future__ import annotations

import csv
import hashlib
import html
import io
import os
import re
import tempfile
from pathlib import Path

from course_nn.grading.hardened.deadlines import ON_TIME, Lateness
from course_nn.grading.hardened.feedback import HandGrade, feedback_html, hand_score
from course_nn.grading.hardened.model import AssignmentSpec, SubmissionResult
from course_nn.grading.hardened.text import clean

#: ``diagnosis``: the likely bug the judge named (``TestResult.diagnosis``), for the report.
GRADES_COLUMNS = ("student", "test", "status", "points", "max_points", "message", "diagnosis")
#: ``feedback``: the student's page, relative to ``feedback/`` (the class report links it);
#: ``submitted``: timestamp.txt (ISO 8601, UTC); ``late``: how late ("2 days 3 hours", ""
#: when on time); ``penalty``: the late penalty in points (:mod:`.deadlines`).
SUMMARY_COLUMNS = ("student", "score", "max_score", "flags", "feedback", "submitted", "late",
                   "penalty")
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def number(x: float) -> str:
    return f"{x:g}"


def safe_name(student: str) -> str:
    """A file name for a student id (ids come from folder names); not unique by itself."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", student).lstrip(".") or "_"


def feedback_names(students: list[str]) -> dict[str, str]:
    """student id -> feedback file stem, distinct for distinct ids (case-insensitively).

    An id that is already a safe name keeps it; any other gets its safe form plus a
    hash of the id, so ``alice_smith`` and ``alice~smith`` never share a page."""
    names: dict[str, str] = {}
    taken: set[str] = set()
    for student in sorted(set(students), key=lambda s: (safe_name(s) != s, s)):
        stem = safe_name(student)[:80]
        if stem != student or stem.lower() in taken:
            digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()
            stem, k = f"{stem}-{digest[:10]}", 0
            while stem.lower() in taken:  # a literal id equal to another's hashed form
                k += 1
                stem = f"{safe_name(student)[:80]}-{digest[:10]}-{k}"
        taken.add(stem.lower())
        names[student] = stem
    return names


def cell(value: object) -> str:
    """A CSV text cell that no spreadsheet evaluates as a formula."""
    text = clean(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def summary_flags(result: SubmissionResult) -> list[str]:
    flags = list(result.flags)
    for test in result.tests:
        flags += [f"{test.test}: {f}" for f in test.flags]
    return list(dict.fromkeys(flags))


def _csv(rows: list[list[str]]) -> bytes:
    buffer = io.StringIO(newline="")
    csv.writer(buffer).writerows(rows)
    return buffer.getvalue().encode("utf-8")


def grades_rows(results: list[SubmissionResult]) -> list[list[str]]:
    rows = [list(GRADES_COLUMNS)]
    for result in results:
        for t in result.tests:
            try:
                rows.append([cell(result.student), cell(t.test), cell(t.status), number(t.points),
                             number(t.max_points), cell(t.message), cell(t.diagnosis)])
            except Exception as err:  # a row never stops the batch
                rows.append([cell(result.student), cell(getattr(t, "test", "?")), "ungradable",
                             "0", "0", cell(f"this row could not be written: {err!r}"), ""])
    return rows


def late_columns(result: SubmissionResult, late: Lateness,
                 answers: list[HandGrade] | None) -> list[str]:
    """``submitted``, ``late`` and ``penalty`` of one row: the penalty is on the score so
    far (automatic plus the hand grades given)."""
    penalty = late.penalty(result.score + hand_score(answers or []))
    return [cell(result.submitted), cell(late.describe()), number(penalty)]


def summary_rows(results: list[SubmissionResult], late: dict[str, Lateness] | None = None,
                 hand: dict[str, list[HandGrade]] | None = None) -> list[list[str]]:
    """summary.csv's rows; ``late``: each student's :class:`.Lateness` (default: on
    time); ``hand``: their written answers with the hand grades (default: pending)."""
    rows = [list(SUMMARY_COLUMNS)]
    names = feedback_names([r.student for r in results])
    for r in results:
        try:
            rows.append([cell(r.student), number(r.score), number(r.max_score),
                         cell("; ".join(summary_flags(r))), cell(f"{names[r.student]}.html"),
                         *late_columns(r, (late or {}).get(r.student, ON_TIME),
                                       (hand or {}).get(r.student))])
        except Exception as err:
            rows.append([cell(r.student), "0", "0", cell(f"this row could not be written: {err!r}")])
    return rows


def write_grades(path: Path, results: list[SubmissionResult]) -> None:
    _replace(path, _csv(grades_rows(results)))


def write_summary(path: Path, results: list[SubmissionResult],
                  late: dict[str, Lateness] | None = None) -> None:
    _replace(path, _csv(summary_rows(results, late)))


def _temp_beside(path: Path, data: bytes) -> Path:
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    return Path(name)


def _replace(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` atomically (temp file in the same folder, then rename)."""
    tmp = _temp_beside(path, data)
    try:
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _page(spec: AssignmentSpec, result: SubmissionResult,
          answers: list[HandGrade] | None = None, late: Lateness | None = None) -> bytes:
    try:
        return feedback_html(spec, result, answers, late=late).encode("utf-8")
    except Exception as err:  # a page never stops the batch
        return (f"<!doctype html><meta charset=utf-8><p>The feedback page of "
                f"{html.escape(clean(result.student))} could not be written: "
                f"{html.escape(clean(repr(err)))}</p>").encode()


def render_outputs(spec: AssignmentSpec, results: list[SubmissionResult],
                   hand: dict[str, list[HandGrade]] | None = None,
                   late: dict[str, Lateness] | None = None) -> dict[str, bytes]:
    """Every output file's bytes, by path relative to the output folder.

    ``hand``: per student, the written answers with their hand grades (default: pending);
    ``late``: per student, their submission against the deadline (default: on time)."""
    files = {"grades.csv": _csv(grades_rows(results)),
             "summary.csv": _csv(summary_rows(results, late, hand))}
    names = feedback_names([r.student for r in results])
    for result in results:
        files[f"feedback/{names[result.student]}.html"] = _page(
            spec, result, (hand or {}).get(result.student), (late or {}).get(result.student))
    return files


def write_outputs(out: Path, spec: AssignmentSpec, results: list[SubmissionResult],
                  hand: dict[str, list[HandGrade]] | None = None,
                  late: dict[str, Lateness] | None = None) -> None:
    """``out/grades.csv``, ``out/summary.csv`` and ``out/feedback/<student>.html``.

    Rendered in memory, then written beside their targets and renamed into place; the
    new feedback folder replaces the old one whole. If anything fails before the
    renames, the previous outputs are left exactly as they were."""
    files = render_outputs(spec, results, hand, late)
    out.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".feedback.", dir=out))
    os.chmod(staged, 0o755)
    temps: list[tuple[Path, Path]] = []
    try:
        for rel, data in files.items():
            if rel.startswith("feedback/"):
                (staged / rel.split("/", 1)[1]).write_bytes(data)
        for rel in ("grades.csv", "summary.csv"):
            temps.append((_temp_beside(out / rel, files[rel]), out / rel))
    except BaseException:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)
        _remove_quietly(staged)
        raise
    old = out / "feedback"
    retired = out / f".feedback.old.{os.getpid()}"
    if old.is_dir() and not old.is_symlink():
        os.replace(old, retired)
    elif os.path.lexists(old):
        old.unlink()
    os.replace(staged, old)
    for tmp, target in temps:
        os.replace(tmp, target)
    _remove_quietly(retired)


def _remove_quietly(folder: Path) -> None:
    from course_nn.grading.hardened.scratch import remove_tree

    if os.path.lexists(folder):
        remove_tree(folder)
