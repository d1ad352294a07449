"""Step 13: nbgrader's autograded notebooks, so formgrader opens every submission.

Book: none (instructor tooling); docs/instructor.md, "Hand grading in formgrader";
docs/grading.md, "13. Autograded notebooks".

nbgrader's formgrader renders ``autograded/<student>/<assignment>/<notebook>.ipynb``
and ``nbgrader generate_feedback`` converts it; ``nbgrader autograde`` would make it by
running the student's notebook. Here it is made from JSON alone, as nbgrader's
sanitizing preprocessors would leave it, with the hardened grader's verdicts where
nbgrader would have executed the test cells:

* outputs and execution counts cleared, cell attachments and metadata dropped
  (``ClearOutput``); a grade id seen twice keeps its first cell, as the grader grades
  it (``DeduplicateIds`` keeps the last); unknown grade ids lose their nbgrader
  metadata;
* every instructor cell keeps the instructor's nbgrader metadata, cell type and
  checksum, and a locked cell (test cells) the instructor's source (``OverwriteCells``);
  a deleted grade cell is put back after the instructor cell before it;
* the kernelspec is the instructor's (``OverwriteKernelspec``);
* Markdown the student wrote is sanitised (:func:`.sanitise.sanitise_cells`: parsed
  as CommonMark, cleaned by nh3 with an allow-list, stored as one HTML block nbconvert
  passes through): formgrader renders it with raw HTML, live links and heading ids in
  the instructor's logged-in page, where a script link could grade, or run code, as
  the instructor, and an ``id`` equal to a grade id would capture that grade box.
  Instructor text (the released stub included) is kept;
* each test cell's outputs are the grader's verdict: nothing when it passed, an
  ``error`` output (status and message) when it did not, a ``stdout`` stream when it
  passed with a flag, so ``nbgrader.utils.determine_grade`` reads the grader's points.

The checksums are nbgrader's own (``ClearSolutions`` with the course's stubs, then
``ComputeChecksums``, on the instructor notebook), so an answer cell left as released
scores 0 with "No response." and an answered one needs a grade, as under ``nbgrader
autograde`` (:func:`cell_grades`). Student sources are cleaned (:mod:`.text`) and no
student code runs here.
"""

from __future__ import annotations

import copy
import functools
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from course_nn.grading.hardened.assignment import cell_source, nbgrader_meta, normalise
from course_nn.grading.hardened.model import (
    FLAGGED,
    PASSED,
    AssignmentSpec,
    Context,
    Submission,
    SubmissionResult,
    TestResult,
)
from course_nn.grading.hardened.sanitise import sanitise_cells
from course_nn.grading.hardened.text import clean

NO_RESPONSE = "No response."  # nbgrader's auto_comment for an untouched answer cell
CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's cell id


@dataclass(frozen=True)
class SourceCell:
    """An instructor cell as ``nbgrader generate_assignment`` saves it in the gradebook.

    ``source`` is the released source of a solution cell (the stub) and the instructor's
    whole source otherwise (hidden tests included); ``checksum`` is
    ``nbgrader.utils.compute_checksum`` of that cell; ``meta`` its nbgrader metadata."""

    grade_id: str
    cell_type: str
    source: str
    checksum: str
    meta: dict[str, Any]

    @property
    def grade(self) -> bool:
        return bool(self.meta.get("grade"))

    @property
    def solution(self) -> bool:
        return bool(self.meta.get("solution"))

    @property
    def locked(self) -> bool:
        return bool(self.meta.get("locked"))

    @property
    def points(self) -> float:
        return float(self.meta.get("points") or 0)


@dataclass(frozen=True)
class CellGrade:
    """One gradebook ``Grade`` row as ``nbgrader autograde`` leaves it.

    ``auto_score`` is None when a person must grade the cell (an answered written
    answer); ``needs_manual_grade`` then follows (and stays when a person had scored it)."""

    grade_id: str
    auto_score: float | None


@dataclass(frozen=True)
class CellComment:
    """One gradebook ``Comment`` row: ``"No response."`` for an untouched answer."""

    grade_id: str
    auto_comment: str | None


@dataclass
class Autograded:
    """A student's autograded notebook and the gradebook rows read from it; the
    submission's time from its ``timestamp.txt``, as ``nbgrader autograde`` records it."""

    student: str
    notebook: dict[str, Any]
    grades: tuple[CellGrade, ...]
    comments: tuple[CellComment, ...]
    timestamp: datetime | None = None


def submission_timestamp(folder: Path) -> datetime | None:
    """``folder/timestamp.txt`` parsed as nbgrader does (UTC), or None when it is
    missing, a link, larger than 1 kB or no time nbgrader can read."""
    from nbgrader.utils import parse_utc

    from course_nn.grading.hardened.load import read_limited

    path = Path(folder) / "timestamp.txt"
    if not path.is_file() or path.is_symlink():
        return None
    try:
        text = read_limited(path, 1024).decode("utf-8").strip()
        return parse_utc(text) if text else None
    except Exception:  # hostile bytes: the submission simply has no time
        return None


def load_config(course_root: Path):
    """The course's ``nbgrader_config.py`` as a traitlets Config (empty if none)."""
    from traitlets.config import Config
    from traitlets.config.loader import PyFileConfigLoader

    path = Path(course_root) / "nbgrader_config.py"
    if not path.is_file():
        return Config()
    return PyFileConfigLoader(path.name, path=str(path.parent)).load_config()


def source_cells(spec: AssignmentSpec, config=None) -> dict[str, SourceCell]:
    """grade_id -> :class:`SourceCell`, in the instructor's order.

    Runs nbgrader's own ``LockCells``, ``ClearSolutions`` (the course's stubs from
    ``config``) and ``ComputeChecksums`` on the instructor notebook, as
    ``generate_assignment`` does before ``SaveCells`` (JSON only, nothing executed)."""
    import nbformat
    from nbgrader.preprocessors import ClearSolutions, ComputeChecksums, LockCells

    nb = nbformat.reads(spec.source_path.read_text(encoding="utf-8"), as_version=4)
    resources: dict[str, Any] = {}
    for step in (LockCells, ClearSolutions, ComputeChecksums):
        nb, resources = step(config=config).preprocess(nb, resources)
    cells = {}
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if meta is not None and str(meta["grade_id"]) not in cells:
            plain = json.loads(json.dumps(meta))
            cells[str(meta["grade_id"])] = SourceCell(
                str(meta["grade_id"]), cell.cell_type, cell.source, plain.get("checksum", ""), plain)
    return cells


def checksum(cell: dict[str, Any]) -> str:
    """nbgrader's checksum of a cell given as JSON."""
    from nbformat import from_dict
    from nbgrader.utils import compute_checksum

    return compute_checksum(from_dict(cell))


def verdict_outputs(test: TestResult | None) -> list[dict[str, Any]]:
    """The outputs a test cell shows for the grader's verdict (see the module docstring).

    nbgrader's ``determine_grade`` reads them back as the same points: an ``error``
    output is 0, no output or a ``stdout`` stream is full points, an ``execute_result``
    holding a number is partial credit."""
    if test is None:
        return [_error("ungradable", "the grader has no result for this cell")]
    if test.status not in (PASSED, FLAGGED):
        return [_error(test.status, test.message)]
    if test.points < test.max_points:
        return [{"output_type": "execute_result", "execution_count": None, "metadata": {},
                 "data": {"text/plain": f"{test.points:g}"}}]
    if test.status == FLAGGED:
        return [{"output_type": "stream", "name": "stdout", "text": clean(test.message) + "\n"}]
    return []


def _error(status: str, message: str) -> dict[str, Any]:
    lines = clean(message).splitlines() or [""]
    return {"output_type": "error", "ename": f"course-nn grade: {clean(status)}",
            "evalue": lines[0], "traceback": [f"course-nn grade: {clean(status)}", *lines]}


def _student_cell(cell: dict[str, Any]) -> dict[str, Any]:
    """A student cell reduced to what nbgrader's sanitizing keeps: type and cleaned source."""
    kind = cell.get("cell_type") if cell.get("cell_type") in ("code", "markdown", "raw") else "raw"
    return {"cell_type": kind, "metadata": {}, "source": clean(cell_source(cell)),
            "id": cell.get("id")}


def _overwrite(cell: dict[str, Any], source: SourceCell) -> dict[str, Any]:
    """The instructor's nbgrader metadata, type and checksum; a locked cell's source."""
    cell = dict(cell, cell_type=source.cell_type, metadata={"nbgrader": copy.deepcopy(source.meta)})
    if source.locked and not source.solution:
        cell["source"] = source.source
    return cell


def _restored(source: SourceCell) -> dict[str, Any]:
    """A grade cell the student deleted, as the instructor released it."""
    return {"cell_type": source.cell_type, "metadata": {"nbgrader": copy.deepcopy(source.meta)},
            "source": source.source, "id": None}


def merged_cells(student: list[Any], sources: dict[str, SourceCell],
                 trusted: frozenset[str] = frozenset()) -> list[dict[str, Any]]:
    """The student's cells, sanitized as above, with deleted grade cells put back.

    ``trusted``: the instructor's Markdown sources (normalised), kept as they are; any
    other Markdown or raw cell is sanitised (idempotent: a cell already sanitised stays)."""
    cells: list[dict[str, Any]] = []
    seen: set[str] = set()
    for raw in student:
        if not isinstance(raw, dict):
            continue
        meta = nbgrader_meta(raw)
        grade_id = str(meta["grade_id"]) if meta else None
        cell = _student_cell(raw)
        if grade_id in sources and grade_id not in seen:
            seen.add(grade_id)
            cell = _overwrite(cell, sources[grade_id])
        cells.append(cell)
    untrusted = [c for c in cells if c["cell_type"] != "code"
                 and normalise(c["source"]) not in trusted]
    for cell, source in zip(untrusted, sanitise_cells([c["source"] for c in untrusted]),
                            strict=True):
        cell["source"] = source
    order = list(sources)
    for index, grade_id in enumerate(order):
        if grade_id in seen or not sources[grade_id].grade:
            continue
        before = [g for g in order[:index] if g in seen]
        at = _position(cells, before[-1]) + 1 if before else 0
        cells.insert(at, _restored(sources[grade_id]))
        seen.add(grade_id)
    return cells


def _position(cells: list[dict[str, Any]], grade_id: str) -> int:
    return next(i for i, c in enumerate(cells) if nbgrader_meta(c) and
                str(nbgrader_meta(c)["grade_id"]) == grade_id)


def _finish(cells: list[dict[str, Any]], tests: dict[str, TestResult]) -> None:
    """Code cells get verdict outputs (test cells) or none; ids become unique and valid."""
    taken: set[str] = set()
    for index, cell in enumerate(cells):
        if cell["cell_type"] == "code":
            meta = nbgrader_meta(cell) or {}
            is_test = meta.get("grade") and not meta.get("solution")
            cell["outputs"] = verdict_outputs(tests.get(str(meta.get("grade_id")))) if is_test else []
            cell["execution_count"] = None
        ident, k = cell.get("id"), 0
        while not isinstance(ident, str) or not CELL_ID.match(ident) or ident in taken:
            ident, k = f"autograded-{index}" + (f"-{k}" if k else ""), k + 1
        taken.add(ident)
        cell["id"] = ident


def cell_grades(cells: list[dict[str, Any]], tests: dict[str, TestResult]
                ) -> tuple[tuple[CellGrade, ...], tuple[CellComment, ...]]:
    """The rows ``SaveAutoGrades`` would write: a test's points are the grader's; other
    grade cells by ``determine_grade``; answer cells get ``"No response."`` if untouched."""
    from nbformat import from_dict
    from nbgrader.utils import determine_grade, is_grade, is_solution, is_task

    grades, comments = [], []
    for raw in cells:
        if nbgrader_meta(raw) is None:
            continue
        cell = from_dict(raw)
        grade_id = str(cell.metadata.nbgrader["grade_id"])
        if is_grade(cell):
            test = tests.get(grade_id)
            if cell.cell_type == "code" and not is_solution(cell):
                grades.append(CellGrade(grade_id, float(test.points) if test else 0.0))
            else:
                grades.append(CellGrade(grade_id, determine_grade(cell)[0]))
        if is_solution(cell) or is_task(cell):
            untouched = cell.metadata.nbgrader.get("checksum") == checksum(raw)
            comments.append(CellComment(grade_id, NO_RESPONSE if untouched and not is_task(cell)
                                        else None))
    return tuple(grades), tuple(comments)


def autograde(student: str, nb: dict[str, Any], spec: AssignmentSpec,
              sources: dict[str, SourceCell], result: SubmissionResult) -> Autograded:
    """The autograded notebook of one gradable submission and its gradebook rows."""
    tests = {t.test: t for t in result.tests}
    trusted = frozenset(normalise(c.source) for c in spec.cells if c.cell_type != "code") \
        | {normalise(c.source) for c in sources.values() if c.cell_type != "code"}  # stubs
    cells = merged_cells(nb.get("cells") or [], sources, trusted)
    _finish(cells, tests)
    grades, comments = cell_grades(cells, tests)
    meta, minor = instructor_metadata(spec.source_path)
    notebook = {"cells": cells, "metadata": json.loads(meta), "nbformat": 4,
                "nbformat_minor": minor}
    return Autograded(student, notebook, grades, comments)


@functools.lru_cache(maxsize=8)
def instructor_metadata(path: Path) -> tuple[str, int]:
    """The instructor notebook's kernelspec and language_info (as JSON text, so a cached
    value is never shared mutable state) and its nbformat_minor (at least 5: cell ids)."""
    with Path(path).open(encoding="utf-8") as fh:
        instructor = json.load(fh)
    meta = instructor.get("metadata", {})
    kept = {k: meta[k] for k in ("kernelspec", "language_info") if k in meta}
    return json.dumps(kept), max(int(instructor.get("nbformat_minor", 5)), 5)


def read_submission(student: str, folder: Path, ctx: Context) -> dict[str, Any]:
    """The submitted notebook read again by steps 2-3 (confined, no links, size-capped)."""
    from course_nn.grading.hardened import load

    sub = Submission(student, folder, ctx.submitted)
    load.find_notebook(sub, ctx)
    load.read_notebook(sub, ctx)
    return sub.notebook


def gradable(result: SubmissionResult) -> bool:
    """Did the grader read the notebook (not every test ungradable)?"""
    return any(t.status != "ungradable" for t in result.tests) or not result.tests


def autograde_batch(ctx: Context, students: list[tuple[str, Path]],
                    results: list[SubmissionResult], sources: dict[str, SourceCell]
                    ) -> tuple[dict[str, Autograded], list[str]]:
    """Every gradable submission's :class:`Autograded` (by student), and notes on the
    submissions that could not be made into one (never raises for one student)."""
    folders = dict(students)
    made: dict[str, Autograded] = {}
    notes: list[str] = []
    for result in results:
        if not gradable(result) or result.student not in folders:
            continue
        try:
            nb = read_submission(result.student, folders[result.student], ctx)
            made[result.student] = autograde(result.student, nb, ctx.spec, sources, result)
            made[result.student].timestamp = submission_timestamp(folders[result.student])
        except Exception as err:  # Ungradable, or a bug: one notebook never stops the batch
            notes.append(f"warning: no autograded notebook for {clean(result.student)!r}: "
                         f"{clean(err, 300)}")
    return made, notes


def read_autograded(folder: Path, spec: AssignmentSpec, results: list[SubmissionResult],
                    submitted: Path | None = None) -> dict[str, Autograded]:
    """The gradebook rows of autograded notebooks already in ``folder`` (e.g. copied from
    shards by ``course-nn merge``); links are not followed, sizes are capped. Times come
    from ``submitted/<student>/<assignment>/timestamp.txt`` when that folder is here."""
    from course_nn.grading.hardened.load import MAX_NOTEBOOK_BYTES, read_limited
    from course_nn.grading.hardened.pipeline import discover

    # ids map to folders as the grader found them (a hashed id is not a folder name, and a
    # folder named like a classmate's hashed id must not lend that classmate its time)
    folders = dict(discover(submitted, spec.name)) if submitted and submitted.is_dir() else {}
    made = {}
    for result in results:
        path = folder / result.student / spec.name / spec.notebook
        if not gradable(result) or any(p.is_symlink() for p in (path.parent.parent, path.parent)):
            continue
        try:
            nb = json.loads(read_limited(path, MAX_NOTEBOOK_BYTES))
            cells = [c for c in nb["cells"] if isinstance(c, dict)]
        except Exception:  # missing or unreadable: the student gets nbgrader's missing rows
            continue
        grades, comments = cell_grades(cells, {t.test: t for t in result.tests})
        own = folders.get(result.student)
        stamp = (submission_timestamp(own)
                 if own is not None and not own.parent.is_symlink() else None)
        made[result.student] = Autograded(result.student, nb, grades, comments, stamp)
    return made


def autograded_folder(course_root: Path, config) -> Path:
    """nbgrader's ``CourseDirectory.autograded_directory`` of the course."""
    directory = config.get("CourseDirectory", {}) if config is not None else {}
    return Path(course_root) / str(directory.get("autograded_directory", "autograded"))


def hand_grading(course_root: Path, spec: AssignmentSpec, results: list[SubmissionResult],
                 ctx: Context | None = None, students: list[tuple[str, Path]] | None = None
                 ) -> tuple[dict[str, Autograded], dict[str, SourceCell], list[str]]:
    """Write the autograded notebooks of a batch (with ``ctx`` and ``students``) or read
    those already in place (a merge); return them, the source cells and notes."""
    config = load_config(course_root)
    sources = source_cells(spec, config)
    folder = autograded_folder(course_root, config)
    if ctx is None or students is None:
        return read_autograded(folder, spec, results, Path(course_root) / "submitted"), sources, []
    made, notes = autograde_batch(ctx, students, results, sources)
    notes += write_autograded(folder, spec.name, spec.notebook, made)
    notes.append(f"autograded notebooks of {len(made)} submission(s) in {folder}/ "
                 "(grade the written answers in formgrader)")
    return made, sources, notes


def write_autograded(folder: Path, assignment: str, notebook: str,
                     made: dict[str, Autograded]) -> list[str]:
    """``folder/<student>/<assignment>/<notebook>`` for each, staged then renamed into place.

    Every notebook is written to a staging folder first; only then are they renamed over
    the previous ones (a failed run leaves the previous notebooks). A student folder
    that is a symbolic link is replaced, never followed. Returns notes on failures."""
    folder.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=".course-nn-staging.", dir=folder))
    notes: list[str] = []
    try:
        ready = []
        for k, (student, item) in enumerate(sorted(made.items())):
            path = staged / f"{k}.ipynb"
            path.write_text(json.dumps(item.notebook, indent=1, sort_keys=True) + "\n",
                            encoding="utf-8")
            ready.append((student, path))
        for student, path in ready:
            try:
                target = _real_folder(folder, student) / assignment
                target = _real_folder(target.parent, assignment)
                os.replace(path, target / notebook)
            except OSError as err:
                notes.append(f"warning: no autograded notebook for {clean(student)!r}: "
                             f"{clean(err, 300)}")
    finally:
        shutil.rmtree(staged, ignore_errors=True)
    return notes


def _real_folder(parent: Path, name: str) -> Path:
    """``parent/name`` as a real folder: a link or file there is removed, never followed."""
    path = parent / name
    if path.is_symlink() or (path.exists() and not path.is_dir()):
        path.unlink()
    path.mkdir(mode=0o755, exist_ok=True)
    return path
