"""``course-nn grade`` and ``course-nn check`` as functions: the batch and the self-check.

Book: none (instructor tooling); docs/grading.md, "The pipeline" (a batch), "8. Run"
(refusal) and "11. Outputs" (the store: resuming, ``--student``, partial runs).

A batch picks the students to grade (every one, ``--student`` ids, or those whose
stored result is not current), stores each result as it finishes (:mod:`.store`), does
steps 12-13 for the students graded (:mod:`.publish`), then writes the class's outputs
from every stored result.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_nn.grading.hardened.assignment import SpecError, load_spec
from course_nn.grading.hardened.course import Course
from course_nn.grading.hardened.feedback import hand_grades
from course_nn.grading.hardened.merge import notebook_digest
from course_nn.grading.hardened.model import (
    FLAGGED,
    PASSED,
    AssignmentSpec,
    Context,
    SubmissionResult,
)
from course_nn.grading.hardened.outputs import write_outputs
from course_nn.grading.hardened.pipeline import (
    default_jobs,
    discover,
    grade_batch,
    grade_submission,
    shard,
)
from course_nn.grading.hardened.sandbox import Launcher, Limits
from course_nn.grading.hardened.store import (
    Stored,
    StoreError,
    class_results,
    is_current,
    mark_published,
    now,
    read_store,
    store_folder,
    submission_digest,
    write_record,
)
from course_nn.grading.hardened.text import clean

DEFAULT_LIMITS = Limits()


class GradingError(Exception):
    """Grading itself cannot run (no such assignment, no submissions folder, ...)."""


@dataclass
class BatchReport:
    """What a batch produced, for the command line and the tests.

    ``results``: the class as the outputs show it (every stored result); ``graded``:
    the students graded by this run; ``kept``: those skipped as unchanged."""

    results: list[SubmissionResult]
    out: Path
    seconds: float
    sandbox: str
    notes: list[str] = field(default_factory=list)
    graded: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def _launcher(limits: Limits, isolation: str, unsafe: bool = False) -> Launcher:
    try:
        return Launcher.create(limits, isolation, unsafe)
    except (RuntimeError, ValueError) as err:
        raise GradingError(str(err)) from None


def _say(text: str) -> None:
    print(f"course-nn grade: {text}", file=sys.stderr, flush=True)


def grade_assignment(
    assignment: str, course: Path = Path("."), submitted: Path | None = None,
    out: Path | None = None, source: Path | None = None, jobs: int | None = None,
    limits: Limits = DEFAULT_LIMITS, shard_of: tuple[int, int] = (1, 1), isolation: str = "auto",
    gradebook: bool = True, progress: bool = True, seed: int | None = None,
    unsafe: bool = False, only: list[str] | None = None, regrade: bool = False,
) -> BatchReport:
    """Grade ``submitted/<student>/<assignment>/`` of every student (of this shard).

    Unsharded, each student's result is stored as it finishes (:mod:`.store`) and the
    class's outputs are rendered from every stored result: a student whose submission
    and instructor notebook are unchanged since their stored result is not graded again
    (``regrade``: grade them anyway); ``only``: grade just these student ids.

    Refuses (:class:`GradingError` saying what to install) when the student's code
    could not be limited as a whole tree, on disk, and as a non-root user, unless
    ``unsafe``."""
    start = time.perf_counter()
    info, spec = load_assignment(assignment, course, source)
    submitted = Path(submitted) if submitted else info.root / "submitted"
    if not submitted.is_dir():
        raise GradingError(f"no submissions folder {submitted} (nbgrader layout: "
                           f"{submitted}/<student>/{assignment}/{spec.notebook})")
    k, n = shard_of
    if only and n > 1:
        raise GradingError("--student regrades students into the class's outputs; "
                           "it cannot be combined with --shard")
    submitted = submitted.resolve()
    found = [s for s in discover(submitted, assignment)
             if s[1].parent.is_symlink() or os.path.lexists(s[1])]
    students = select(found, only, submitted) if only else shard(found, k, n)
    ctx = Context(spec, _launcher(limits, isolation, unsafe), seed=seed, submitted=submitted)
    if n > 1:  # a shard: self-contained results for `course-nn merge`, no gradebook
        from course_nn.grading.hardened.merge import grade_shard, shard_folder

        results = grade_batch(students, ctx, jobs or default_jobs(), progress)
        out = Path(out) if out else shard_folder(info.root, assignment, k, n)
        notes = grade_shard(out, spec, results, k, n, ctx, students, info.root)
        return BatchReport(results, out, time.perf_counter() - start, ctx.launcher.describe(),
                           notes, sorted(r.student for r in results))
    out = Path(out) if out else info.root / "graded" / assignment
    stored, notes = read_store(store_folder(out), spec)
    notes += unsafe_folder_warnings(students)
    digests = {s: submission_digest(f) for s, f in students}
    instructor = notebook_digest(spec)
    due = {s for s, _ in students
           if only or regrade or not is_current(stored.get(s), digests[s], instructor, seed)}
    todo = [(s, f) for s, f in students if s in due]
    kept = sorted(s for s, _ in students if s not in due)
    if kept:
        _say(f"{len(kept)} submission(s) unchanged since their stored result, not graded "
             f"again (--regrade or --student ID to grade them): {_names(kept)}")
    fresh: dict[str, Stored] = {}

    def save(student: str, result: SubmissionResult, used_seed: int | None) -> None:
        record = Stored(result, used_seed, digests.get(student), instructor, now())
        fresh[result.student] = record
        try:
            write_record(store_folder(out), record, spec)
        except (OSError, StoreError) as err:  # the row is still written from memory
            notes.append(f"warning: the result of {clean(result.student)!r} could not be "
                         f"stored ({clean(err, 300)}); the next run grades it again")

    grade_batch(todo, ctx, jobs or default_jobs(), progress, on_result=save)
    stored.update(fresh)
    older = sorted(s for s, r in stored.items() if r.notebook_sha256 != instructor)
    if older:
        notes.append(f"warning: {len(older)} stored result(s) were graded against another "
                     f"version of {spec.notebook}: {_names(older)}; `course-nn grade "
                     f"{assignment}` grades those still in {submitted} again")
    unpublished = [(s, f) for s, f in students if s in stored and not stored[s].published]
    notes += finish_batch(info, spec, out, stored, unpublished, gradebook, ctx)
    return BatchReport(class_results(stored), out, time.perf_counter() - start,
                       ctx.launcher.describe(), notes, sorted(fresh), kept)


def _names(students: list[str], shown: int = 10) -> str:
    more = f" and {len(students) - shown} more" if len(students) > shown else ""
    return ", ".join(students[:shown]) + more


def select(found: list[tuple[str, Path]], only: list[str], submitted: Path
           ) -> list[tuple[str, Path]]:
    """The (student, folder) pairs of the ids asked for (``--student``), in batch order;
    an id with no folder in ``submitted/`` is an error naming it."""
    folders = dict(found)
    missing = [s for s in dict.fromkeys(only) if s not in folders]
    if missing:
        raise GradingError(f"no submission of {_names([repr(clean(s, 80)) for s in missing])} "
                           f"in {submitted} (student ids are the folder names, as in "
                           "summary.csv)")
    wanted = set(only)
    return [(s, f) for s, f in found if s in wanted]


def unsafe_folder_warnings(students: list[tuple[str, Path]]) -> list[str]:
    """One warning per student folder whose name is not its id: nbgrader's own pages list
    the folders of ``submitted/`` by their raw names and print them unescaped, so such a
    folder must be renamed to its id before formgrader is opened."""
    return [f"warning: the folder {clean(folder.parent.name, 200)!r} is graded as {sid!r}; "
            f"rename it to {sid} (or collect with `course-nn collect`) before opening "
            "formgrader, which shows folder names as they are"
            for sid, folder in students if folder.parent.name != sid]


def load_assignment(assignment: str, course: Path = Path("."), source: Path | None = None
                    ) -> tuple[Course, AssignmentSpec]:
    """The course's folders and the assignment's spec, read from the instructor notebook."""
    from course_nn.grading.hardened.deadlines import DeadlineError

    try:
        info = Course.load(course)
    except DeadlineError as err:  # the late-work settings: said before anything is graded
        raise GradingError(str(err)) from None
    source = source or info.notebook(assignment)
    if source is None or not Path(source).is_file():
        raise GradingError(f"no assignment {assignment!r}: no notebook in "
                           f"{info.root / info.source / assignment} (nor in {info.release}/)")
    try:
        return info, load_spec(Path(source), assignment)
    except SpecError as err:
        raise GradingError(str(err)) from None


def write_batch(info: Course, spec: AssignmentSpec, results: list[SubmissionResult], out: Path,
                gradebook: bool = True, ctx: Context | None = None,
                students: list[tuple[str, Path]] | None = None) -> list[str]:
    """Store ``results`` and write the class's outputs from every stored result (steps
    11-13); returns notes. ``course-nn merge`` ends here: its results were graded
    elsewhere, so their records carry no seed and no submission digest (a later full
    ``grade`` run grades those students again; ``--student`` runs keep them)."""
    folder = store_folder(out)
    stored, notes = read_store(folder, spec)
    instructor = notebook_digest(spec)
    for result in results:
        record = Stored(result, None, None, instructor, now())
        stored[result.student] = record
        try:
            write_record(folder, record, spec)
        except (OSError, StoreError) as err:
            notes.append(f"warning: the result of {clean(result.student)!r} could not be "
                         f"stored ({clean(err, 300)})")
    folders = dict(students or [])
    publish = [(r.student, folders.get(r.student, Path())) for r in results]
    return notes + finish_batch(info, spec, out, stored, publish, gradebook,
                                ctx if students is not None else None)


def finish_batch(info: Course, spec: AssignmentSpec, out: Path, stored: dict[str, Stored],
                 publish: list[tuple[str, Path]], gradebook: bool = True,
                 ctx: Context | None = None) -> list[str]:
    """Steps 12-13 for the students of ``publish`` (their autograded notebooks, made from
    their folders with ``ctx``, and gradebook rows; then their records are marked
    published), then step 11 for the whole class: grades.csv, summary.csv and every
    feedback page, rendered from every stored result with the gradebook's hand grades.
    One unsharded run and ``course-nn merge`` both end here, so they write the same
    files. Returns notes."""
    from course_nn.grading.hardened.publish import publish as publish_rows

    notes: list[str] = []
    records = [stored[s] for s, _ in publish if s in stored]
    if gradebook and records:
        try:
            notes += publish_rows(info, spec, [r.result for r in records], ctx,
                                  publish if ctx is not None else None)
            stored.update({r.student: r for r in mark_published(store_folder(out), records,
                                                                 spec)})
        except Exception as err:  # the CSVs and feedback are still written: say so
            notes.append(f"warning: the gradebook {info.db_url} could not be updated "
                         f"({type(err).__name__}: {clean(err, 300)}); grades.csv has every "
                         "score, and the next run tries again")
    hand = None
    if gradebook and stored:
        try:
            hand = hand_grades(info.db_url, spec, sorted(stored))
        except Exception as err:
            notes.append(f"warning: the hand grades could not be read from {info.db_url} "
                         f"({type(err).__name__}: {clean(err, 300)}); pages show them pending")
    late = None
    try:  # the due date and extensions (docs/instructor.md, "Deadlines and late work")
        from course_nn.grading.hardened.gradebook import read_lateness

        late = read_lateness(info.db_url, info.deadlines, spec.name, class_results(stored))
    except Exception as err:
        notes.append(f"warning: the due date could not be read from {info.db_url} "
                     f"({type(err).__name__}: {clean(err, 300)}); no lateness is shown")
    write_outputs(out, spec, class_results(stored), hand, late)
    return notes


def check_notebook(path: Path, limits: Limits = DEFAULT_LIMITS, isolation: str = "auto"
                   ) -> SubmissionResult:
    """The student's self-check: the notebook's own public checks, run like the grader."""
    path = Path(path)
    if not path.is_file():
        raise GradingError(f"no notebook {path}")
    try:
        spec = load_spec(path, path.parent.name, add_hidden=False)
    except SpecError as err:
        raise GradingError(str(err)) from None
    # The student's own code on the student's own machine: no refusal without cgroups.
    ctx = Context(spec, _launcher(limits, isolation, unsafe=True), hidden=False)
    return grade_submission("you", path.parent, ctx)


def passed(result: SubmissionResult) -> bool:
    return all(t.status in (PASSED, FLAGGED) for t in result.tests)
