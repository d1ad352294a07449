"""Build throw-away courses and submissions: for the grading tests and the benchmark.

Book: none (instructor tooling).

An *honest* submission is the released notebook with the instructor's solution code
pasted into the student's solution cells (markers removed), which is what a student
who solved everything hands in.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

from course_nn.grading.hardened.assignment import cell_source, nbgrader_meta

ROOT = Path(__file__).resolve().parents[3]
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def read(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write(path: Path, nb: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def solutions(instructor: dict[str, Any]) -> dict[str, str]:
    """grade_id -> the instructor's solution code without the nbgrader markers."""
    found = {}
    for cell in instructor["cells"]:
        meta = nbgrader_meta(cell)
        if meta and meta.get("solution") and cell.get("cell_type") == "code":
            lines = cell_source(cell).splitlines()
            found[meta["grade_id"]] = "\n".join(
                line for line in lines if line.strip() not in MARKERS)
    return found


def with_sources(released: dict[str, Any], sources: dict[str, str]) -> dict[str, Any]:
    """A copy of ``released`` whose cells (by grade_id) hold the given sources."""
    nb = copy.deepcopy(released)
    for cell in nb["cells"]:
        meta = nbgrader_meta(cell)
        if meta and meta["grade_id"] in sources:
            cell["source"] = sources[meta["grade_id"]]
    return nb


def make_course(dest: Path, names: list[str], root: Path = ROOT) -> Path:
    """A course folder: nbgrader_config.py, solutions/<a>/ and exercises/<a>/ copied."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "nbgrader_config.py", dest / "nbgrader_config.py")
    for name in names:
        for folder in ("solutions", "exercises"):
            shutil.copytree(root / folder / name, dest / folder / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dest


def submit(course: Path, student: str, assignment: str, nb: dict[str, Any] | None,
           name: str | None = None, raw: bytes | None = None) -> Path:
    """Place a notebook (or raw bytes) at ``submitted/<student>/<assignment>/<name>``."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{assignment}.ipynb")
    if raw is not None:
        path.write_bytes(raw)
    elif nb is not None:
        write(path, nb)
    return path


def heaviest_assignment(root: Path = ROOT) -> str:
    """The released assignment with the most check calls (the benchmark's pick)."""
    best, weight = None, -1
    for folder in sorted((root / "solutions").iterdir()):
        notebook = folder / f"{folder.name}.ipynb"
        released = root / "exercises" / folder.name / f"{folder.name}.ipynb"
        if notebook.is_file() and released.is_file():
            text = notebook.read_text(encoding="utf-8")
            if text.count("check(") > weight:
                best, weight = folder.name, text.count("check(")
    if best is None:
        raise FileNotFoundError(f"no assignment in {root / 'solutions'}")
    return best


def shared_result(base: Path, name: str, compute) -> Any:
    """``compute(folder)`` once per test session, even across pytest-xdist workers.

    ``base`` is ``tmp_path_factory.getbasetemp()``; workers share its parent. The first
    caller computes under a file lock and stores the JSON result; the others read it.
    """
    import fcntl
    import os

    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    data = root / f"{name}.json"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not data.exists():
            data.write_text(json.dumps(compute(root / name)), encoding="utf-8")
        return json.loads(data.read_text(encoding="utf-8"))
