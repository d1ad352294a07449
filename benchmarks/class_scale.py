"""Benchmark: a whole class of one exercise (1,000 submissions) graded on all cores.

The class is generated: honest, wrong (the typical mistakes of the exercise's item
table) and hazardous submissions (a raise, an import of the reference code, stderr
output, a crash, a memory hog, an endless loop), mixed. Exercise 1's class is
``tests/mixed_class.py``'s; exercise 8's (``--assignment ex08_capstone``) is built here
by :func:`capstone_plan`: honest = the solution notebook's solution cells, wrong = the
answers of ``tests/test_checks_ch08.py``'s table, hazardous = the same hazards in
``momentum_update``. The batch must end with one summary row per submission. Prints
seconds per submission and the grader's overhead::

    overhead = wall time / (sum of the children's own run times / cores)

where a child's run time is the wall time of its runs (``SubmissionResult.child_seconds``,
all attempts). 1.0 means the cores did nothing but run students' code; the target is
at most 1.15 (issue #22). The grader's own CPU time (this process, children excluded) is printed
too: it is where the rest goes (references of hidden cases are computed here). Last,
the class report is built on the batch (``course-nn report``: similarity over every pair
of students is its quadratic step) and its time printed.
Design: docs/instructor.md, "Grading a class in shards".

    python benchmarks/class_scale.py --n 1000
    python benchmarks/class_scale.py --assignment ex08_capstone --n 200
"""

from __future__ import annotations

import argparse
import csv
import random
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
from tests.mixed_class import SHARES, mixed_class  # noqa: E402

#: Exercise 8's hazards: tests/mixed_class.py's (exercise 1's ``mse``), in the capstone's
#: ``momentum_update`` (the stderr one still returns the right answer).
CAPSTONE_SIGNATURE = "def momentum_update(theta, grad, velocity, learning_rate, momentum):\n"
CAPSTONE_HAZARDS = {
    "raises": CAPSTONE_SIGNATURE + "    raise RuntimeError('not done yet')\n",
    "imports_reference": "from course_nn.optim import momentum_step as momentum_update\n",
    "stderr": ("import sys\n\n" + CAPSTONE_SIGNATURE
               + "    print('debug', theta, file=sys.stderr)\n"
                 "    velocity = momentum * velocity + grad\n"
                 "    return theta - learning_rate * velocity, velocity\n"),
    "crashes": "import os\n\n" + CAPSTONE_SIGNATURE + "    os._exit(3)\n",
    "memory_hog": CAPSTONE_SIGNATURE + "    hog = bytearray(8 * 2**30)\n    return theta, velocity\n",
    "endless_loop": CAPSTONE_SIGNATURE + "    while True:\n        pass\n",
}
CAPSTONE = "ex08_capstone"


def capstone_plan(n: int, seed: int) -> dict[str, tuple[str, str | None, str]]:
    """student -> (kind, solution cell grade_id or None, source) for ``n`` students of
    exercise 8, in ``tests/mixed_class.py``'s shares; a pure function of ``(n, seed)``."""
    from tests.test_checks_ch08 import ITEMS

    rng = random.Random(seed)
    wrong = [(item.cell_id, w.source) for item in ITEMS for w in item.wrong]
    hazards = sorted(CAPSTONE_HAZARDS.items())
    kinds, weights = zip(*SHARES, strict=True)
    students = {}
    for i in range(n):
        kind = rng.choices(kinds, weights)[0]
        if kind == "honest":
            students[f"s{i:04d}"] = ("honest", None, "")
        elif kind == "wrong":
            cell, source = rng.choice(wrong)
            students[f"s{i:04d}"] = ("wrong", cell, source)
        else:
            name, source = rng.choice(hazards)
            students[f"s{i:04d}"] = (f"hazardous:{name}", "momentum_update", source)
    return students


def capstone_class(course: Path, n: int, seed: int = 12
                   ) -> dict[str, tuple[str, str | None, str]]:
    """Write ``n`` submissions of exercise 8 into ``course/submitted/``; return the plan."""
    released = T.read(course / "exercises" / CAPSTONE / f"{CAPSTONE}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / CAPSTONE / f"{CAPSTONE}.ipynb"))
    students = capstone_plan(n, seed)
    for student, (_, cell, source) in students.items():
        T.submit(course, student, CAPSTONE,
                 T.with_sources(released, dict(sol, **({cell: source} if cell else {}))))
    return students


#: assignment -> (course, n, seed) -> the generated class's plan.
CLASSES = {
    "ex01_linear_regression": lambda course, n, seed: mixed_class(course, n, seed, slow=True),
    CAPSTONE: capstone_class,
}


def overhead(wall: float, child_seconds: list[float], cores: int) -> float:
    """Wall time over the time the children alone would need on ``cores`` cores."""
    ideal = sum(child_seconds) / cores
    return wall / ideal if ideal else float("inf")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", choices=sorted(CLASSES), default="ex01_linear_regression",
                        help="the exercise whose class is generated [ex01_linear_regression]")
    parser.add_argument("--n", type=int, default=1000, help="submissions [1000]")
    parser.add_argument("--jobs", type=int, default=default_jobs(), help="[all cores]")
    parser.add_argument("--seed", type=int, default=12, help="the class's plan [12]")
    parser.add_argument("--timeout", type=float, default=5, help="seconds per test [5]")
    parser.add_argument("--hidden-seed", type=int,
                        help="one seed for every student's hidden cases [fresh per submission]")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="course-nn-class-scale-"))
    try:
        A = args.assignment
        course = T.make_course(base / "course", [A])
        students = CLASSES[A](course, args.n, args.seed)
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
        print(f"{A}: {len(rows)} rows for {args.n} ({dict(sorted(kinds.items()))}); "
              f"sandbox: {report.sandbox}")
        print(f"test statuses: {dict(sorted(statuses.items()))}")
        print(f"wall time: {wall:.1f} s on {args.jobs} job(s): "
              f"{wall / args.n:.3f} s per submission")
        print(f"children's own run time: {sum(children):.1f} s in all "
              f"(median {sorted(children)[len(children) // 2]:.2f} s per submission)")
        print(f"the grader's own CPU time (this process, all threads, children excluded): "
              f"{grader_cpu:.1f} s ({grader_cpu / args.n:.3f} s per submission)")
        print(f"overhead = wall / (children's time / cores) = "
              f"{overhead(wall, children, args.jobs):.2f} (target <= 1.15)")
        start = time.perf_counter()
        page = write_report(build_report(A, report.out, course / "submitted"), report.out)
        print(f"class report (course-nn report): {time.perf_counter() - start:.1f} s for "
              f"{args.n} submissions, {page.stat().st_size / 1e6:.1f} MB")
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
