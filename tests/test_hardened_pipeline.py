"""One submission through the pipeline: memory of the grader itself (``pipeline.py``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.pipeline import shard

ROOT = T.ROOT
A = "ex01_linear_regression"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())

pytestmark = [pytest.mark.grading, pytest.mark.slow]

A = "ex01_linear_regression"
MEASURE = """
import json, resource, sys
from pathlib import Path
from course_nn.grading.hardened import Limits, grade_assignment
report = grade_assignment(sys.argv[1], course=Path(sys.argv[2]), jobs=1, progress=False,
                          gradebook=False, limits=Limits(timeout=20))
print(json.dumps({"rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "rows": {r.student: [t.status for t in r.tests] for r in report.results}}))
"""


def _grade(course) -> dict:
    run = subprocess.run([sys.executable, "-c", MEASURE, A, str(course)], capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.splitlines()[-1])


def test_a_huge_notebook_keeps_the_graders_memory_bounded(tmp_path):
    """Does a 4.7 MB notebook (a padded solution cell) cost the grader no more than an
    honest one, give or take 200 MB (it cost 2.5 GB when parsed in the grader)?"""
    released = T.read(T.ROOT / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(T.ROOT / "solutions" / A / f"{A}.ipynb"))
    honest = T.make_course(tmp_path / "honest", [A])
    T.submit(honest, "ann", A, T.with_sources(released, sol))
    huge = T.make_course(tmp_path / "huge", [A])
    padded = sol["mse"] + "\n" + "x = [1, 2, 3]  # padding\n" * 190_000
    path = T.submit(huge, "zed", A, T.with_sources(released, {**sol, "mse": padded}))
    assert path.stat().st_size > 4_500_000
    baseline, attacked = _grade(honest), _grade(huge)
    assert set(attacked["rows"]["zed"]) != {"ungradable"}  # graded, not refused
    assert attacked["rss_kb"] - baseline["rss_kb"] < 200 * 1024, (baseline, attacked)


def test_shards_cover_every_student_once():
    """Do the k/N shards split the students without overlap?"""
    students = [f"s{i}" for i in range(7)]
    parts = [shard(students, k, 3) for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == students
