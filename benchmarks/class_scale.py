"""Benchmark: a whole class of exercise 1 (1,000 submissions) graded on all cores.

The class is generated (``tests/mixed_class.py``): honest, wrong (the typical mistakes
of exercise 1's item table) and hazardous submissions (a raise, an import of the
reference code, stderr output, a crash, a memory hog, an endless loop), mixed. The
batch must end with one summary row per submission. Prints seconds per submission
and the grader's overhead::

    overhead = wall time / (sum of the children's own run times / cores)

where a child's run time is the wall time of its runs (``SubmissionResult.child_seconds``,
all attempts). 1.0 means the cores did nothing but run students' code; the target is
at most 1.3. The grader's own CPU time (this process, children excluded) is printed
too: it is where the rest goes (references of hidden cases are computed here). Last,
the class report is built on the batch (``course-nn report``: similarity over every pair
of students is its quadratic step) and its time printed.
Design: docs/instructor.md, "Grading a class in shards".

    python benchmarks/class_scale.py --n 1000
"""

from __future__ import annotations

import argparse
import csv
import resource
import shutil
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/mixed_class.py builds the class

from course_nn.grading.hardened import grade_assignment  # noqa: E402
from course_nn.grading.hardened import testing as T  # noqa: E402
from course_nn.grading.hardened.pipeline import default_jobs  # noqa: E402
from course_nn.grading.hardened.sandbox import Limits  # noqa: E402
from course_nn.grading.report import build_report, write_report  # noqa: E402
from tests.mixed_class import A, mixed_class  # noqa: E402


def overhead(wall: float, child_seconds: list[float], cores: int) -> float:
    """Wall time over the time the children alone would need on ``cores`` cores."""
    ideal = sum(child_seconds) / cores
    return wall / ideal if ideal else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=1000, help="submissions [1000]")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="[all cores]")
    parser.add_argument("--seed", type=int, default=12, help="the class's plan [12]")
    parser.add_argument("--timeout", type=float, default=5, help="seconds per test [5]")
    parser.add_argument("--hidden-seed", type=int,
                        help="one seed for every student's hidden cases [fresh per submission]")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="course-nn-class-scale-"))
    try:
        course = T.make_course(base / "course", [A])
        students = mixed_class(course, args.n, args.seed, slow=True)
        start, own_start = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF)
        report = grade_assignment(A, course=course, jobs=args.jobs, progress=False,
                                  seed=args.hidden_seed,
                                  gradebook=False, limits=Limits(timeout=args.timeout, startup=15))
        wall = time.perf_counter() - start
        own = resource.getrusage(resource.RUSAGE_SELF)
        grader_cpu = own.ru_utime + own.ru_stime - own_start.ru_utime - own_start.ru_stime
        with (report.out / "summary.csv").open(newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert len(rows) == args.n, f"{len(rows)} summary rows for {args.n} submissions"
        kinds = Counter(kind.split(":")[0] for kind, _, _ in students.values())
        statuses = Counter(t.status for r in report.results for t in r.tests)
        children = [r.child_seconds for r in report.results]
        print(f"submissions: {len(rows)} rows for {args.n} ({dict(sorted(kinds.items()))}); "
              f"sandbox: {report.sandbox}")
        print(f"test statuses: {dict(sorted(statuses.items()))}")
        print(f"wall time: {wall:.1f} s on {args.jobs} job(s): "
              f"{wall / args.n:.3f} s per submission")
        print(f"children's own run time: {sum(children):.1f} s in all "
              f"(median {sorted(children)[len(children) // 2]:.2f} s per submission)")
        print(f"the grader's own CPU time (this process, all threads, children excluded): "
              f"{grader_cpu:.1f} s ({grader_cpu / args.n:.3f} s per submission)")
        print(f"overhead = wall / (children's time / cores) = "
              f"{overhead(wall, children, args.jobs):.2f} (target <= 1.3)")
        start = time.perf_counter()
        page = write_report(build_report(A, report.out, course / "submitted"), report.out)
        print(f"class report (course-nn report): {time.perf_counter() - start:.1f} s for "
              f"{args.n} submissions, {page.stat().st_size / 1e6:.1f} MB")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
