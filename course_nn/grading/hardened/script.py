"""Step 6: rebuild the program the child runs, from the instructor's cells.

Book: none (instructor tooling); docs/grading.md, "6. Script".

In the instructor's order: setup cells as the instructor wrote them (minus the
``course_nn`` imports, which the child cannot satisfy), the student's solution cells,
the cells the student added (each after the instructor cell it follows in the
student's notebook, so a helper defined in an added cell is there when the solution
needs it, as under nbgrader), and for each grade cell a *collector* that only looks
up the functions its ``check(...)`` calls name. The checks themselves never run in
the child. A plain test cell (no ``check(...)`` call) runs instead, where nbgrader runs
it: the instructor's source (never the student's copy), with its hidden tests unless
this is the student's self-check; it is an instructor step with its own timeout.
The instructor's ordinary cells (plots, exploration) are not run.
Added cells are marked (``CellStep.added``): they share one time allowance
(``sandbox.Limits.added_allowance``) and never grow the submission's budget.
"""

from __future__ import annotations

import ast
import re

from course_nn.grading.hardened import parsing
from course_nn.grading.hardened.assignment import MAX_PARSE_CHARS
from course_nn.grading.hardened.model import (
    CellStep,
    CollectStep,
    Context,
    Job,
    Submission,
    TestCellStep,
    TestSpec,
)

MAGIC = re.compile(r"^\s*(%|!)")


def without_course_imports(source: str) -> str:
    """Blank out ``import course_nn...`` statements, keeping line numbers."""
    try:
        tree = parsing.parse(source)
    except SyntaxError:
        return source
    lines = source.splitlines()
    for node in tree.body:
        modules = ([a.name for a in node.names] if isinstance(node, ast.Import)
                   else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        if modules and all(m.split(".")[0] == "course_nn" for m in modules):
            for number in range(node.lineno - 1, node.end_lineno):
                lines[number] = ""
    return "\n".join(lines)


def without_magics(source: str) -> str:
    """IPython magics and shell escapes become comments when plain Python cannot parse them.

    A cell larger than ``MAX_PARSE_CHARS`` is passed on as it is (never compiled here)."""
    if len(source) > MAX_PARSE_CHARS:
        return source
    try:
        compile(source, "<cell>", "exec", dont_inherit=True)
        return source
    except (SyntaxError, ValueError, RecursionError, MemoryError, OverflowError):
        pass
    return "\n".join("# (magic removed) " + line if MAGIC.match(line) else line
                     for line in source.splitlines())


def test_cell_step(test: TestSpec, index: int, hidden: bool) -> TestCellStep:
    """The step that runs a plain test cell: the instructor's source, hidden test blocks
    kept for grading (``hidden``) and stripped for the student's self-check."""
    source = test.source if hidden else test.released_source
    return TestCellStep(test.grade_id, index, without_magics(source))


def build_job(sub: Submission, ctx: Context) -> None:
    """The child's steps: cells to run and collectors, in the instructor's order, with
    the student's added cells after the instructor cell they follow."""
    spec = ctx.spec
    steps: list[CellStep | CollectStep | TestCellStep] = []
    tests = {t.grade_id: i for i, t in enumerate(spec.tests)}
    added: dict[str | None, list] = {}
    for cell in sub.added_cells:
        added.setdefault(cell.after, []).append(cell)

    def run_added(after: str | None) -> None:
        for cell in added.get(after, []):
            steps.append(CellStep(cell.step_id, without_magics(cell.source), added=True))

    run_added(None)
    for cell in spec.cells:
        if cell.role == "setup" and cell.cell_type == "code":
            steps.append(CellStep(cell.grade_id, without_course_imports(cell.source)))
        elif cell.role == "solution" and cell.grade_id in sub.solution_sources:
            steps.append(CellStep(cell.grade_id, without_magics(sub.solution_sources[cell.grade_id])))
        elif cell.role == "test":
            test = spec.tests[tests[cell.grade_id]]
            steps.append(test_cell_step(test, tests[cell.grade_id], ctx.hidden) if test.plain
                         else CollectStep(cell.grade_id, tests[cell.grade_id],
                                          tuple(call.expr for call in test.calls)))
        if cell.grade_id is not None:
            run_added(cell.grade_id)
    sub.job = Job(steps)
