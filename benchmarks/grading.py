"""Benchmark: seconds per submission, ``nbgrader autograde`` vs ``course-nn grade``.

Both grade the same N honest submissions of the heaviest assignment (most check
calls) in one throw-away course, each writing its gradebook. Prints seconds per
submission for both and the throughput ratio. Target: ``course-nn grade`` at least
2x nbgrader's throughput on 2 cores at N = 40.

    python benchmarks/grading.py --n 40
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_nn.grading.hardened import testing as T
from course_nn.release import tool_env


def run(cmd: list[str], cwd: Path) -> float:
    """Run ``cmd`` in ``cwd``; return its wall-clock seconds (fails loudly)."""
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, env=tool_env())
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} failed:\n{proc.stdout}\n{proc.stderr}")
    return seconds


def make_submissions(course: Path, assignment: str, n: int) -> None:
    released = T.read(course / "exercises" / assignment / f"{assignment}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / assignment / f"{assignment}.ipynb"))
    honest = T.with_sources(released, sol)
    for i in range(n):
        T.submit(course, f"student{i:03d}", assignment, honest)


def full_marks(course: Path, out: Path) -> bool:
    with (out / "summary.csv").open() as fh:
        return all(r["score"] == r["max_score"] for r in csv.DictReader(fh))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=40, help="submissions [40]")
    parser.add_argument("--assignment", help="default: the heaviest in solutions/")
    parser.add_argument("--jobs", type=int, help="course-nn grade --jobs [all cores]")
    args = parser.parse_args(argv)
    assignment = args.assignment or T.heaviest_assignment()
    cores = len(os.sched_getaffinity(0))
    with tempfile.TemporaryDirectory(prefix="course-nn-bench-") as tmp:
        course = T.make_course(Path(tmp) / "course", [assignment])
        make_submissions(course, assignment, args.n)
        nbgrader = [sys.executable, "-m", "nbgrader"]
        run([*nbgrader, "generate_assignment", assignment, "--force", "--log-level=ERROR"], course)
        standard = run([*nbgrader, "autograde", assignment, "--force", "--log-level=ERROR"], course)
        out = course / "hardened"
        grade = [sys.executable, "-m", "course_nn.cli", "grade", assignment, "--quiet",
                 "--out", str(out)] + (["--jobs", str(args.jobs)] if args.jobs else [])
        hardened = run(grade, course)
        ok = full_marks(course, out)
    n = args.n
    print(f"assignment {assignment}, N = {n} honest submissions, {cores} core(s)")
    print(f"nbgrader autograde: {standard:7.1f} s  {standard / n:6.3f} s/submission")
    print(f"course-nn grade:    {hardened:7.1f} s  {hardened / n:6.3f} s/submission")
    print(f"throughput ratio (course-nn / nbgrader): {standard / hardened:.1f}x "
          f"(target >= 2x){'' if ok else '  WARNING: not every honest submission got full marks'}")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
