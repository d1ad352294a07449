"""``course-nn grade`` and ``course-nn check`` as functions: the batch and the self-check.

Book: none (instructor tooling); docs/grading.md, "The pipeline" (a batch) and "8. Run"
(refusal).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_nn.grading.hardened.assignment import SpecError, load_spec
from course_nn.grading.hardened.course import Course
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

DEFAULT_LIMITS = Limits()


class GradingError(Exception):
    """Grading itself cannot run (no such assignment, no submissions folder, ...)."""


@dataclass
class BatchReport:
    """What a batch produced, for the command line and the tests."""

    results: list[SubmissionResult]
    out: Path
    seconds: float
    sandbox: str
    notes: list[str] = field(default_factory=list)


def _launcher(limits: Limits, isolation: str, unsafe: bool = False) -> Launcher:
    try:
        return Launcher.create(limits, isolation, unsafe)
    except (RuntimeError, ValueError) as err:
        raise GradingError(str(err)) from None


def grade_assignment(
    assignment: str, course: Path = Path("."), submitted: Path | None = None,
    out: Path | None = None, source: Path | None = None, jobs: int | None = None,
    limits: Limits = DEFAULT_LIMITS, shard_of: tuple[int, int] = (1, 1), isolation: str = "auto",
    gradebook: bool = True, progress: bool = True, seed: int | None = None,
    unsafe: bool = False,
) -> BatchReport:
    """Grade ``submitted/<student>/<assignment>/`` of every student (of this shard).

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
    submitted = submitted.resolve()
    students = shard([s for s in discover(submitted, assignment)
                      if s[1].parent.is_symlink() or os.path.lexists(s[1])], k, n)
    ctx = Context(spec, _launcher(limits, isolation, unsafe), seed=seed, submitted=submitted)
    results = grade_batch(students, ctx, jobs or default_jobs(), progress)
    if n > 1:  # a shard: self-contained results for `course-nn merge`, no gradebook
        from course_nn.grading.hardened.merge import grade_shard, shard_folder

        out = Path(out) if out else shard_folder(info.root, assignment, k, n)
        notes = grade_shard(out, spec, results, k, n, ctx, students, info.root)
    else:
        out = Path(out) if out else info.root / "graded" / assignment
        notes = write_batch(info, spec, results, out, gradebook, ctx, students)
    return BatchReport(results, out, time.perf_counter() - start, ctx.launcher.describe(), notes)


def load_assignment(assignment: str, course: Path = Path("."), source: Path | None = None
                    ) -> tuple[Course, AssignmentSpec]:
    """The course's folders and the assignment's spec, read from the instructor notebook."""
    info = Course.load(course)
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
    """Everything a whole batch writes from its results (steps 11-13); returns notes.

    One unsharded run and ``course-nn merge`` of its shards both end here, so they
    write the same files. With the gradebook, a batch (``ctx``, ``students``) also
    writes the autograded notebooks formgrader opens; a merge reads those copied."""
    write_outputs(out, spec, results)
    notes = []
    if gradebook and results:
        from course_nn.grading.hardened.autograded import hand_grading
        from course_nn.grading.hardened.gradebook import write_gradebook

        try:
            made, sources, written = hand_grading(info.root, spec, results, ctx, students)
            notes += written
            write_gradebook(info.db_url, spec, results, made, sources)
            notes.append(f"scores written to the gradebook {info.db_url}")
        except Exception as err:  # the CSVs and feedback are written: say so, do not lose them
            notes.append(f"warning: the gradebook {info.db_url} could not be updated "
                         f"({type(err).__name__}: {err}); grades.csv has every score")
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
