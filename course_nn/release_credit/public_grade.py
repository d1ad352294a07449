"""Public checks of a student's repository, for the for-credit autograding workflow.

Book: none (tooling; ships in the for-credit bundle). Design: docs/releases.md.

The for-credit bundle has no hidden cases, so its workflow cannot run ``course-nn
grade`` (which always adds them). Instead, for every released exercise the student
has a copy of, this puts the student's *solution cells* (by nbgrader grade_id) into
the course's own released notebook, so edited or deleted test cells do not count,
runs :func:`course_nn.grading.hardened.check_notebook` on it (the same sandbox as
``course-nn check``), and writes ``<out>/<assignment>/grades.csv`` in the hardened
grader's columns. Final grades come from the instructor's ``course-nn grade``, which
adds the hidden checks.

``python -m course_nn.release_credit.public_grade --course COURSE --submission SUB --out DIR``
"""

from __future__ import annotations

import argparse
import copy
import csv
import json
from pathlib import Path
from typing import Any

from course_nn.grading.hardened import Limits, check_notebook
from course_nn.grading.hardened.assignment import nbgrader_meta

COLUMNS = ("student", "test", "status", "points", "max_points", "message")


def solution_cells(notebook: dict[str, Any]) -> dict[str, Any]:
    """grade_id -> the student's solution cell (code or written answer)."""
    return {meta["grade_id"]: cell for cell in notebook.get("cells", [])
            if (meta := nbgrader_meta(cell)) and meta.get("solution")}


def merged(released: dict[str, Any], submitted: dict[str, Any]) -> dict[str, Any]:
    """The released notebook with the student's solution cells in place of its own."""
    answers = solution_cells(submitted)
    nb = copy.deepcopy(released)
    for index, cell in enumerate(nb["cells"]):
        meta = nbgrader_meta(cell)
        if meta and meta.get("solution") and meta["grade_id"] in answers:
            nb["cells"][index] = dict(cell, source=answers[meta["grade_id"]].get("source", ""))
    return nb


def check_assignment(released: Path, submitted: Path, out: Path, student: str,
                     timeout: float = 60) -> Path:
    """Check one exercise's public cases; the path of its ``grades.csv``."""
    nb = merged(json.loads(released.read_text(encoding="utf-8")),
                json.loads(submitted.read_text(encoding="utf-8")))
    out.mkdir(parents=True, exist_ok=True)
    work = out / "work" / released.parent.name
    work.mkdir(parents=True, exist_ok=True)
    notebook = work / released.name
    notebook.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    result = check_notebook(notebook, Limits(timeout=timeout))
    grades = out / "grades.csv"
    with grades.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(COLUMNS)
        for test in result.tests:
            writer.writerow([student, test.test, test.status, test.points, test.max_points,
                             test.message])
    return grades


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--course", type=Path, required=True, help="the for-credit bundle")
    parser.add_argument("--submission", type=Path, required=True,
                        help="the student's repository (exercises/<a>/<a>.ipynb)")
    parser.add_argument("--out", type=Path, default=Path("feedback"))
    parser.add_argument("--student", default="you")
    parser.add_argument("--timeout", type=float, default=60)
    args = parser.parse_args(argv)
    for released in sorted((args.course / "exercises").glob("*/*.ipynb")):
        submitted = args.submission / "exercises" / released.parent.name / released.name
        if submitted.is_file():
            grades = check_assignment(released, submitted, args.out / released.parent.name,
                                      args.student, args.timeout)
            print(f"{released.parent.name}: {grades}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
