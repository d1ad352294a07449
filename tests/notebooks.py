"""Helpers for tests that read, execute and fake-submit the exercise notebooks."""

from __future__ import annotations

import copy
import re
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

SOLUTION_REGION = re.compile(r"### BEGIN SOLUTION\n(.*?)### END SOLUTION", re.S)
HIDDEN_REGION = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS", re.S)
CHECK_CALL = re.compile(r'^check\("(\w+)", (\w+)(, hidden=True)?\)$')


def assignment_names() -> list[str]:
    return sorted(p.name for p in SOLUTIONS.iterdir() if (p / f"{p.name}.ipynb").is_file())


def solution_path(name: str) -> Path:
    return SOLUTIONS / name / f"{name}.ipynb"


def exercise_path(name: str) -> Path:
    return EXERCISES / name / f"{name}.ipynb"


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


#: Lines of the PyTorch and NumPy training-loop idiom that solutions share with the book's
#: own loops (ch01, ch03, ch06, ch07 and ``course_nn.torch_twin`` wrote them first): they
#: say nothing of an answer. Every other solution line of 20 characters or more counts.
IDIOMS = frozenset({"for _ in range(epochs):", "for _ in range(100):", "optimiser.zero_grad()",
                    "torch.manual_seed(0)"})


def given_lines(name: str) -> set[str]:
    """Every line the instructor hands out as it is: the notebook's text outside solution
    regions, hidden tests and model answers (a debugging item's given function shares most
    lines with its repair; those lines are the task, not a leak)."""
    given = set()
    for cell in read(solution_path(name)).cells:
        meta = nbgrader_meta(cell)
        if meta.get("solution") and cell.cell_type == "markdown":
            continue
        released = HIDDEN_REGION.sub("", SOLUTION_REGION.sub("", cell.source))
        given |= {ln.strip() for ln in released.splitlines()}
    return given


def solution_texts(name: str) -> list[str]:
    """Every line of solution code, hidden test and written model answer of an assignment
    that the instructor does not also hand out (:func:`given_lines`), without
    :data:`IDIOMS`."""
    lines = []
    for cell in read(solution_path(name)).cells:
        meta = nbgrader_meta(cell)
        regions = SOLUTION_REGION.findall(cell.source) + HIDDEN_REGION.findall(cell.source)
        if meta.get("solution") and cell.cell_type == "markdown":
            regions.append(cell.source)
        for region in regions:
            lines += [ln.strip() for ln in region.splitlines()]
    given = given_lines(name)
    # short or generic lines (a bare "return x") could occur anywhere; keep distinctive ones
    return [ln for ln in lines if len(ln) >= 20 and not ln.startswith("#")
            and ln not in IDIOMS and ln not in given]


def fill_solutions(released: nbformat.NotebookNode, name: str, replace: dict[str, str] | None = None):
    """A submission: the released notebook with each solution cell taken from the instructor's
    notebook (markers removed), or from ``replace[grade_id]`` where given."""
    instructor = {nbgrader_meta(c).get("grade_id"): c for c in read(solution_path(name)).cells}
    nb = copy.deepcopy(released)
    for cell in nb.cells:
        meta = nbgrader_meta(cell)
        if not meta.get("solution") or cell.cell_type != "code":
            continue
        grade_id = meta["grade_id"]
        if replace and grade_id in replace:
            cell.source = replace[grade_id]
        else:
            source = instructor[grade_id].source
            cell.source = re.sub(r"\s*### (BEGIN|END) SOLUTION", "", source)
    return nb
