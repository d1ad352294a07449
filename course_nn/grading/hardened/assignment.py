"""Read an assignment's instructor notebook into an :class:`AssignmentSpec`.

Book: none (instructor tooling); docs/grading.md, "The pipeline" (read once per batch).

The instructor notebook (``solutions/<a>/<a>.ipynb``) is the only authority: which
cells exist (by nbgrader ``grade_id``), their points, and the ``check(...)`` calls of
each grade cell, including the hidden ones; a grade cell with no ``check(...)`` call is
a plain test cell whose source (hidden tests included) the child runs. When only a
released notebook is at hand (a student's CI), every public call gets a hidden twin:
hidden cases are drawn at grading time, so they need no secret.
"""

from __future__ import annotations

import ast
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

from course_nn.grading.hardened import parsing
from course_nn.grading.hardened.model import AssignmentSpec, CellSpec, CheckCall, TestSpec

HIDDEN_BEGIN = "### BEGIN HIDDEN TESTS"
HIDDEN_END = "### END HIDDEN TESTS"
#: Larger cells are never parsed in the grader's process (``ast.parse`` of a few MB of
#: code costs GBs); the child still runs them, under its own limits, and they are flagged.
MAX_PARSE_CHARS = 100_000


class SpecError(Exception):
    """The instructor notebook cannot drive grading (a bug to fix before grading)."""


def cell_source(cell: Any) -> str:
    """A cell's source as one string, whatever form the JSON holds it in."""
    source = cell.get("source", "") if isinstance(cell, dict) else ""
    if isinstance(source, list):
        return "".join(part for part in source if isinstance(part, str))
    return source if isinstance(source, str) else ""


def nbgrader_meta(cell: Any) -> dict[str, Any] | None:
    """The cell's nbgrader metadata, or ``None`` for an ordinary cell."""
    meta = cell.get("metadata") if isinstance(cell, dict) else None
    nb = meta.get("nbgrader") if isinstance(meta, dict) else None
    return nb if isinstance(nb, dict) and nb.get("grade_id") else None


def strip_hidden(source: str) -> str:
    """The source as released: hidden test blocks removed, as nbgrader's ClearHiddenTests."""
    kept, hidden = [], False
    for line in source.splitlines():
        if line.strip() == HIDDEN_BEGIN:
            hidden = True
        elif line.strip() == HIDDEN_END:
            hidden = False
        elif not hidden:
            kept.append(line)
    return "\n".join(kept)


def normalise(source: str) -> str:
    """Source compared for edits: trailing spaces and blank edges ignored."""
    return "\n".join(line.rstrip() for line in source.strip().splitlines())


def defined_names(source: str) -> tuple[str, ...]:
    """Names a cell binds at top level (functions, classes, assignments, imports);
    none for a cell larger than ``MAX_PARSE_CHARS`` (it is not parsed here)."""
    if len(source) > MAX_PARSE_CHARS:
        return ()
    try:
        tree = parsing.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return ()
    names: list[str] = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names += [n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)]
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names += [(a.asname or a.name).split(".")[0] for a in node.names]
    return tuple(dict.fromkeys(names))


def _literal(node: ast.AST) -> Any:
    try:
        return parsing.literal_eval(node)
    except ValueError:
        raise SpecError(f"expected a literal, got {ast.unparse(node)!r}") from None


def _check_call(node: ast.Call) -> CheckCall:
    """``check("name", func, hidden=..., seed=...)`` with literal name and options."""
    if len(node.args) < 2:
        raise SpecError(f"{ast.unparse(node)!r}: check needs a name and a function")
    name = _literal(node.args[0])
    options = {"hidden": False, "seed": None}
    for key, value in zip(("hidden", "seed"), node.args[2:], strict=False):
        options[key] = _literal(value)
    for keyword in node.keywords:
        if keyword.arg not in options:
            raise SpecError(f"{ast.unparse(node)!r}: unknown option {keyword.arg!r}")
        options[keyword.arg] = _literal(keyword.value)
    return CheckCall(check=str(name), expr=ast.unparse(node.args[1]),
                     hidden=bool(options["hidden"]), seed=options["seed"])


def check_calls(source: str) -> tuple[CheckCall, ...]:
    """Every ``check(...)`` call of a grade cell, in order."""
    try:
        tree = parsing.parse(source)
    except SyntaxError as err:
        raise SpecError(f"grade cell does not parse: {err}") from None
    calls = [node for node in ast.walk(tree) if isinstance(node, ast.Call)
             and isinstance(node.func, ast.Name) and node.func.id == "check"]
    return tuple(_check_call(node) for node in sorted(calls, key=lambda n: (n.lineno, n.col_offset)))


def _cell_spec(index: int, cell: dict[str, Any]) -> CellSpec:
    meta = nbgrader_meta(cell) or {}
    source = cell_source(cell)
    return CellSpec(
        index=index, grade_id=meta.get("grade_id"), cell_type=str(cell.get("cell_type")),
        source=source, solution=bool(meta.get("solution")), grade=bool(meta.get("grade")),
        locked=bool(meta.get("locked")), points=float(meta.get("points") or 0),
        defines=defined_names(source) if cell.get("cell_type") == "code" else (),
        cell_id=cell.get("id") if isinstance(cell.get("id"), str) else None,
    )


def _test_spec(cell: CellSpec) -> TestSpec:
    """A grade cell with ``check(...)`` calls is graded by the checks; one without (a
    plain nbgrader test cell: ``assert f(2) == 4``) is run in the child as nbgrader
    would run it, hidden tests included (its ``source``)."""
    try:
        calls = check_calls(cell.source)
        problem = None
    except SpecError as err:
        calls, problem = (), str(err)
    plain = "" if calls or problem else cell.source
    return TestSpec(cell.grade_id or "", cell.points, calls, strip_hidden(cell.source), problem,
                    plain)


def _with_hidden_twins(test: TestSpec) -> TestSpec:
    twins = tuple(CheckCall(c.check, c.expr, hidden=True) for c in test.calls if not c.hidden)
    return replace(test, calls=test.calls + twins)


def _validate(spec: AssignmentSpec) -> None:
    """Unknown check names and duplicated grade ids are instructor bugs: stop early."""
    from course_nn.grading import REGISTRY

    problems = [f"{t.grade_id}: no registered check named {c.check!r}"
                for t in spec.tests for c in t.calls if c.check not in REGISTRY]
    ids = [c.grade_id for c in spec.cells if c.grade_id]
    problems += [f"grade_id {i!r} is used by more than one cell"
                 for i in sorted({i for i in ids if ids.count(i) > 1})]
    if problems:
        raise SpecError(f"{spec.source_path}: " + "; ".join(problems))


def load_spec(path: Path, name: str | None = None, add_hidden: bool | None = None) -> AssignmentSpec:
    """Read the notebook at ``path`` into an :class:`AssignmentSpec`.

    ``add_hidden`` (default: when the notebook has no hidden check at all, i.e. it is a
    released notebook) gives every public check call a hidden twin.
    """
    try:
        nb = json.loads(Path(path).read_text(encoding="utf-8"))
        raw_cells = nb["cells"]
    except (OSError, ValueError, KeyError, TypeError) as err:
        raise SpecError(f"cannot read the instructor notebook {path}: {err}") from None
    cells = tuple(_cell_spec(i, c) for i, c in enumerate(raw_cells) if isinstance(c, dict))
    tests = tuple(_test_spec(c) for c in cells if c.role == "test")
    if add_hidden is None:
        add_hidden = not any(call.hidden for t in tests for call in t.calls)
    if add_hidden:
        tests = tuple(_with_hidden_twins(t) for t in tests)
    spec = AssignmentSpec(name or Path(path).parent.name, Path(path).name, Path(path), cells, tests)
    _validate(spec)
    return spec
