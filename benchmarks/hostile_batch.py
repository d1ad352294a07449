"""Benchmark: a class with every hostile submission mixed in, next to an honest class.

Grades an honest class (``--honest N`` extra honest students) with the hostile
submissions of ``course_nn.grading.hardened.testing.hostile_class`` (surrogates,
formula names, symlinked folders, forged progress and answers, a 3000-level tree, a
disk filler, a spawning memory bomb, ...) and those of issue 19 (30 added cells of
``time.sleep(1.8)``; a notebook of 20,000 added cells) in one batch, then an honest
class of the same size, each graded in its own process (so each peak RSS is the
grader's alone: the classes are built by this one), with the grader's temp folder
pointed at a private, empty folder. Prints, per class, the
wall time, the grader's peak RSS (``ru_maxrss`` of that process, children excluded)
and what the batch left behind in the temp folder, which must be 0 bytes in 0 entries;
and for the issue-19 students their time and flags.

    python benchmarks/hostile_batch.py --honest 20
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_nn.grading.hardened import grade_assignment
from course_nn.grading.hardened import testing as T

A = T.HOSTILE_ASSIGNMENT
SLEEPING_CELLS = 30  # issue 19: each sleeps 1.8 s, under any step timeout >= 2 s
MANY_CELLS = 20_000  # issue 19: a 2.5 MB notebook of added cells
ISSUE_19 = ("sleeping_cells", "many_cells")


def left_behind(folder: Path) -> tuple[int, int]:
    """(bytes, entries) under ``folder`` (links not followed)."""
    size = count = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        for name in dirnames + filenames:
            count += 1
            size += os.lstat(os.path.join(dirpath, name)).st_size
    return size, count


def with_added_cells(nb: dict, sources: list[str]) -> dict:
    """``nb`` with ``sources`` added as code cells at the top (they run first)."""
    nb = copy.deepcopy(nb)
    nb["cells"][:0] = [{"cell_type": "code", "id": f"added-{i}", "metadata": {}, "source": s,
                        "outputs": [], "execution_count": None} for i, s in enumerate(sources)]
    return nb


def build(base: Path, kind: str, honest: int) -> int:
    """The course under ``base``: the hostile class (issue 9 and 19) plus ``honest``
    honest students, or (``kind == "honest"``) an honest class of the same size."""
    course, students = T.hostile_class(base)
    released = T.read(course / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / A / f"{A}.ipynb"))
    honest_nb = T.with_sources(released, sol)
    size = len(students) + len(ISSUE_19) + honest
    if kind == "honest":
        shutil.rmtree(course / "submitted")
        for i in range(size):
            T.submit(course, f"class_{i:03d}", A, honest_nb)
        return size
    T.submit(course, "sleeping_cells", A,
             with_added_cells(honest_nb, ["import time\ntime.sleep(1.8)\n"] * SLEEPING_CELLS))
    T.submit(course, "many_cells", A,
             with_added_cells(honest_nb, [f"_x{i} = {i}\n" for i in range(MANY_CELLS)]))
    for i in range(honest):
        T.submit(course, f"class_{i:03d}", A, honest_nb)
    return size


def measure(kind: str, course: Path, jobs: int) -> dict:
    """Grade one built class in this process (the grader alone: the class was built by
    another process, so this one's peak RSS is the grader's); its figures."""
    scratch = course.parent / "tmp"
    scratch.mkdir()
    tempfile.tempdir = str(scratch)  # every temp folder the grader makes lands here
    try:
        rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        start = time.perf_counter()
        report = grade_assignment(A, course=course, jobs=jobs, progress=False,
                                  gradebook=False, limits=T.hostile_limits())
        seconds = time.perf_counter() - start
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    finally:
        tempfile.tempdir = None
    by_student = {r.student: r for r in report.results}
    slowest = sorted(report.results, key=lambda r: -r.seconds)[:5]
    return {
        "kind": kind, "rows": len(report.results),
        "full": sum(r.score == r.max_score for r in report.results),
        "sandbox": report.sandbox, "seconds": seconds,
        "rss_mb": rss / 1024, "rss_before_mb": rss_before / 1024,
        "child_peak_mb": max(r.peak_bytes for r in report.results) / 2**20,
        "left": left_behind(scratch),
        "slowest": [(r.student, r.seconds) for r in slowest],
        "issue_19": {s: {"score": by_student[s].score, "max": by_student[s].max_score,
                         "seconds": by_student[s].seconds,
                         "child_seconds": by_student[s].child_seconds,
                         "flags": by_student[s].flags}
                     for s in ISSUE_19 if s in by_student},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--honest", type=int, default=20, help="extra honest students [20]")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--grade", nargs=2, metavar=("KIND", "COURSE"),
                        help="grade one built class in this process; print its figures as JSON")
    args = parser.parse_args()
    if args.grade:
        print(json.dumps(measure(args.grade[0], Path(args.grade[1]), args.jobs)))
        return
    found = {}
    for kind in ("hostile", "honest"):
        base = Path(tempfile.mkdtemp(prefix="course-nn-hostile-bench-"))
        try:
            build(base, kind, args.honest)
            run = subprocess.run([sys.executable, __file__, "--jobs", str(args.jobs),
                                  "--grade", kind, str(base / "course")],
                                 capture_output=True, text=True, check=True)
            found[kind] = json.loads(run.stdout.strip().splitlines()[-1])
        finally:
            shutil.rmtree(base, ignore_errors=True)
    print(f"sandbox: {found['hostile']['sandbox']}; --jobs {args.jobs}; {T.hostile_limits()}")
    for kind, figures in found.items():
        print(f"{kind} class: {figures['rows']} submissions, {figures['full']} with full marks; "
              f"wall time {figures['seconds']:.1f} s "
              f"({figures['seconds'] / figures['rows']:.2f} s per submission); "
              f"grader peak RSS {figures['rss_mb']:.0f} MB (before grading: "
              f"{figures['rss_before_mb']:.0f} MB); largest child tree peak (cgroup) "
              f"{figures['child_peak_mb']:.0f} MB; left in the temp folder: "
              f"{figures['left'][0]} bytes in {figures['left'][1]} entries")
        print("  slowest: " + ", ".join(f"{s} {t:.1f} s" for s, t in figures["slowest"]))
    for student, row in found["hostile"]["issue_19"].items():
        print(f"  {student}: {row['score']:g}/{row['max']:g} points, child {row['child_seconds']:.1f} s, "
              f"submission {row['seconds']:.1f} s; flags: {'; '.join(row['flags']) or 'none'}")


if __name__ == "__main__":
    main()
