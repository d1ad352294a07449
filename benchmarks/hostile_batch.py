"""Benchmark: a class with every hostile submission of issue 9 mixed in.

Grades an honest class (``--honest N`` extra honest students) with the hostile
submissions of ``course_nn.grading.hardened.testing.hostile_class`` (surrogates,
formula names, symlinked folders, forged progress and answers, a 3000-level tree, a
disk filler, a spawning memory bomb, ...) in one batch, with the grader's temp folder
pointed at a private, empty folder. Prints the wall time, the grader's own peak RSS
(``ru_maxrss`` of this process, children excluded) and what the batch left behind in
the temp folder, which must be 0 bytes in 0 entries.

    python benchmarks/hostile_batch.py --honest 20
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from course_nn.grading.hardened import grade_assignment
from course_nn.grading.hardened import testing as T


def left_behind(folder: Path) -> tuple[int, int]:
    """(bytes, entries) under ``folder`` (links not followed)."""
    size = count = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            count += 1
            size += os.lstat(os.path.join(dirpath, name)).st_size
    return size, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--honest", type=int, default=20, help="extra honest students [20]")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="course-nn-hostile-bench-"))
    try:
        course, students = T.hostile_class(base)
        released = T.read(course / "exercises" / T.HOSTILE_ASSIGNMENT
                          / f"{T.HOSTILE_ASSIGNMENT}.ipynb")
        sol = T.solutions(T.read(course / "solutions" / T.HOSTILE_ASSIGNMENT
                                 / f"{T.HOSTILE_ASSIGNMENT}.ipynb"))
        for i in range(args.honest):
            T.submit(course, f"class_{i:03d}", T.HOSTILE_ASSIGNMENT, T.with_sources(released, sol))
        scratch = base / "tmp"
        scratch.mkdir()
        tempfile.tempdir = str(scratch)  # every temp folder the grader makes lands here
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        report = grade_assignment(T.HOSTILE_ASSIGNMENT, course=course, jobs=args.jobs,
                                  progress=False, gradebook=False, limits=T.hostile_limits())
        seconds = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        tempfile.tempdir = None
        size, count = left_behind(scratch)
        full = sum(r.score == r.max_score for r in report.results)
        print(f"submissions: {len(report.results)} ({len(students)} of the hostile class "
              f"incl. {len(T.HOSTILE_HONEST)} honest, + {args.honest} honest); "
              f"{full} with full marks")
        print(f"sandbox: {report.sandbox}")
        print(f"wall time: {seconds:.1f} s ({seconds / len(report.results):.2f} s per submission, "
              f"--jobs {args.jobs})")
        print(f"grader peak RSS: {rss / 1024:.0f} MB (before grading: {rss_before / 1024:.0f} MB)")
        peak = max(r.peak_bytes for r in report.results)
        print(f"largest child tree peak (cgroup): {peak / 2**20:.0f} MB")
        print(f"left in the temp folder: {size} bytes in {count} entries")
    finally:
        tempfile.tempdir = None
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
