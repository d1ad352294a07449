"""The hardened grader's pipeline: one submission through ordered one-job steps, and a batch.

Book: none (instructor tooling); docs/grading.md, "The pipeline".

Like nbgrader's preprocessors, each step does one thing to a :class:`Submission`;
the order matters and is explained next to each step. A step raises ``Ungradable``
to end a submission early (every test ungradable); nothing ends the batch.
"""

from __future__ import annotations

import os
import sys
import time
import traceback
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

from course_nn.grading.hardened import cases, judge, load, results, scan, script, structure, text
from course_nn.grading.hardened.model import Context, Submission, SubmissionResult, Ungradable
from course_nn.grading.hardened.sandbox import Launcher, Limits
from course_nn.grading.hardened.text import clean

Step = Callable[[Submission, Context], None]


def run_child(sub: Submission, ctx: Context) -> None:
    """Steps 8-9: the child in a fresh, limited scratch folder, then its answers read
    back; the folder (and any tmpfs) is removed whatever the child left in it."""
    if ctx.launcher is None:
        raise RuntimeError("no launcher: this context cannot run student code")
    with ctx.launcher.scratch() as box:
        ctx.launcher.prepare(box.root, sub.inputs)
        start = time.perf_counter()
        sub.run = ctx.launcher.run(box.root, sub.job, box.mounted)
        sub.child_seconds = time.perf_counter() - start
        results.read_results(sub, box.root / "rw" / "out")
    for reason in sub.run.flags:  # the time budget or the added cells' allowance ran out
        sub.flag(reason)
    if sub.run.forged:
        sub.flag(f"wrote {sub.run.forged} forged line(s) to the grader's progress pipe "
                 "(ignored)")


# Every submission goes through these, in this order (numbers: docs/grading.md).
STEPS: tuple[Step, ...] = (
    load.find_notebook,  # 2. submitted/<student>/<a>/, no link on the way; flag renames, extras
    load.read_notebook,  # 3. parse JSON (truncated/garbage -> ungradable); flag kernelspec, markers
    structure.match_cells,  # 4. by grade_id: flag edits; take solutions and added cells
    scan.scan_solutions,  # 5. static scan of solutions and added cells (needs 4)
    script.build_job,  # 6. instructor cells + student cells + collectors (needs 4)
    cases.draw_cases,  # 7. fresh hidden seed; references here; inputs packed (needs 6)
    run_child,  # 8-9. the child under limits; its numbers read back (needs 6, 7)
    judge.judge_tests,  # 10. diagnose; one status per test; flags applied
)


def grade_submission(student: str, folder: Path, ctx: Context,
                     root: Path | None = None) -> SubmissionResult:
    """Grade one submission; never raises. ``root`` is ``submitted/``: the folder must
    stay inside it, with no link on the way."""
    start = time.perf_counter()
    sub = Submission(clean(student, 200), folder, root)
    if root is not None and folder.parent.name != student:  # a hashed id: name the folder
        sub.flag(text.renamed_flag(folder.parent.name, student))
    try:
        for step in STEPS:
            step(sub, ctx)
    except Ungradable as err:
        sub.results = judge.ungradable_results(ctx.spec, clean(err))
    except Exception as err:  # a grader bug must not end the batch: report it on the row
        detail = clean("".join(traceback.format_exception_only(type(err), err)).strip())
        sub.results = judge.ungradable_results(ctx.spec, f"internal grader error: {detail}")
        print(f"course-nn grade: {sub.student}: {clean(traceback.format_exc())}", file=sys.stderr)
    run = sub.run
    from course_nn.grading.hardened.deadlines import submitted_at

    return SubmissionResult(
        sub.student, sub.results, sub.flags, sub.notes,
        stdout=clean(run.output("stdout")) if run else "",
        stderr=clean(run.output("stderr")) if run else "",
        seconds=time.perf_counter() - start, child_seconds=sub.child_seconds,
        peak_bytes=run.peak_bytes if run else 0,
        submitted=submitted_at(folder) if root is not None else "")  # timestamp.txt


def student_id(name: str, hashed: bool = False) -> str:
    """The student id written for a folder name (gradebook, autograded/, CSVs, feedback,
    shards): the name when it is a safe token, else a readable prefix and a hash of the
    raw name (:func:`.text.student_id`; docs/grading.md, "1. Entry: hostile strings")."""
    return text.student_id(name, hashed)


def discover(submitted: Path, assignment: str) -> list[tuple[str, Path]]:
    """(student id, folder) for every student folder of ``submitted/`` (nbgrader layout).

    Ids are distinct even case-insensitively (:func:`.text.student_ids`). Links are
    listed too (never followed): they end as ungradable rows, not silence."""
    folders = [p for p in sorted(submitted.iterdir())
               if not p.name.startswith(".") and (p.is_symlink() or p.is_dir())]
    ids = text.student_ids(p.name for p in folders)
    return [(ids[p.name], p / assignment) for p in folders]


def shard(items: list, k: int, n: int) -> list:
    """The k-th of n interleaved shares (k from 1), for a CI matrix."""
    return items[k - 1::n]


def grade_batch(students: list[tuple[str, Path]], ctx: Context, jobs: int,
                progress: bool = True,
                on_result: Callable[[str, SubmissionResult, int | None], None] | None = None,
                ) -> list[SubmissionResult]:
    """Grade in parallel (the children are processes; threads wait on them and judge).

    Each submission's hidden seed is chosen here (``ctx.seed``, else a fresh one) so it
    can be stored with the result: ``on_result(student, result, seed)`` is called in this
    thread as each submission finishes (docs/grading.md, "11. Outputs": the store). An
    exception there, or a KeyboardInterrupt, cancels the submissions not started yet.

    The judging threads compute references with NumPy (and PyTorch) in this process, so
    the BLAS and OpenMP pools are held to one thread each for the batch: the parallelism
    is the submissions', and OpenBLAS called from several Python threads at once beside
    PyTorch's OpenMP pool can spin for minutes on two cores.
    """
    import dataclasses
    import secrets

    from threadpoolctl import threadpool_limits
    from tqdm import tqdm

    def one(student: str, folder: Path) -> tuple[SubmissionResult, int]:
        seed = ctx.seed if ctx.seed is not None else secrets.randbits(32)
        own = ctx if ctx.seed is not None else dataclasses.replace(ctx, seed=seed)
        try:
            return grade_submission(student, folder, own, ctx.submitted), seed
        finally:
            if ctx.seed is None:  # this submission's hidden draws are not shared: drop them
                for key in [k for k in list(ctx.drawn)
                            if isinstance(k, tuple) and len(k) >= 3 and k[1] and k[2] == seed]:
                    ctx.drawn.pop(key, None)

    done: list[SubmissionResult] = []
    with threadpool_limits(limits=1), ThreadPoolExecutor(max_workers=max(jobs, 1)) as pool, tqdm(
        total=len(students), unit="submission", file=sys.stderr, disable=not progress,
        desc=f"grading {ctx.spec.name}", dynamic_ncols=True,
    ) as bar:
        futures = {pool.submit(one, s, f): s for s, f in students}
        try:
            for future in as_completed(futures):
                result, seed = future.result()
                if on_result is not None:
                    on_result(futures[future], result, seed)
                done.append(result)
                bar.update()
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    return sorted(done, key=lambda r: r.student)


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover (not Linux)
        return os.cpu_count() or 1


__all__ = ["STEPS", "Context", "Launcher", "Limits", "discover", "grade_batch",
           "grade_submission", "shard"]
