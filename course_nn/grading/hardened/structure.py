"""Step 4: compare the submission's cells with the instructor notebook by grade_id.

Book: none (instructor tooling); docs/grading.md, "4. Match".

Missing, duplicated, reordered, edited or re-typed cells are flagged, never fatal:
the grader always runs the instructor's own setup and test cells, and takes the
solution cells from the student. A solution cell that lost its nbgrader metadata is
still found by the function it defines. Code cells the student *added* (no nbgrader
metadata, neither the id nor the source of an instructor cell) are kept with the
instructor cell they follow, and run there, as nbgrader runs every cell, up to a cap
(``MAX_ADDED_CELLS`` cells, ``MAX_ADDED_CHARS`` characters of source in all): the
cells after the cap are not run, not parsed and not scanned, and the submission is
flagged saying so.
"""

from __future__ import annotations

import ast
from typing import Any

from course_nn.grading.hardened import parsing
from course_nn.grading.hardened.assignment import (
    cell_source,
    defined_names,
    nbgrader_meta,
    normalise,
    strip_hidden,
)
from course_nn.grading.hardened.model import AddedCell, AssignmentSpec, CellSpec, Context, Submission

# The cells a student added that are run (docs/grading.md, "4. Match"). Students add a
# few helper or exploration cells (a few KB); these caps are far above that, and keep
# a notebook of 20,000 added cells from costing the grader a parse per cell and the
# child a progress line per cell. All added cells also share one time allowance
# (``sandbox.Limits.added_allowance``), whatever their number.
MAX_ADDED_CELLS = 200
MAX_ADDED_CHARS = 256 * 1024


def tests_using(spec: AssignmentSpec, names: tuple[str, ...]) -> list[str]:
    """Grade ids of the tests whose checked functions are among ``names``."""
    used = []
    for test in spec.tests:
        called = {n.id for c in test.calls for n in ast.walk(parsing.parse(c.expr, mode="eval"))
                  if isinstance(n, ast.Name)}
        if called & set(names):
            used.append(test.grade_id)
    return used


def _flag_solution(sub: Submission, spec: AssignmentSpec, cell: CellSpec, reason: str) -> None:
    tests = tests_using(spec, cell.defines)
    for grade_id in tests:
        sub.flag_test(grade_id, reason)
    if not tests:
        sub.flag(reason)


def _unmarked_definition(cells: list[dict[str, Any]], names: tuple[str, ...]) -> str | None:
    """The source of an ordinary code cell defining all of ``names`` (lost metadata)."""
    for cell in cells:
        if cell.get("cell_type") == "code" and nbgrader_meta(cell) is None:
            source = cell_source(cell)
            if names and set(names) <= set(defined_names(source)):
                return source
    return None


def _retyped(cell: dict[str, Any], spec_cell: CellSpec) -> str | None:
    meta = nbgrader_meta(cell) or {}
    if cell.get("cell_type") != spec_cell.cell_type:
        return f"{spec_cell.cell_type} cell turned into {cell.get('cell_type')}"
    for key in ("solution", "grade", "locked"):
        if bool(meta.get(key)) != getattr(spec_cell, key):
            return f"nbgrader {key!r} changed"
    try:
        points = float(meta.get("points") or 0)
    except (TypeError, ValueError):
        points = None
    if spec_cell.grade and points != spec_cell.points:
        return f"points changed to {meta.get('points')!r} (the instructor's {spec_cell.points:g} count)"
    return None


def _match(sub: Submission, spec: AssignmentSpec, spec_cell: CellSpec,
           found: list[dict[str, Any]], cells: list[dict[str, Any]]) -> None:
    """Flag one instructor cell's counterpart(s) and keep the student's solution source."""
    role, gid = spec_cell.role, spec_cell.grade_id
    if not found:
        if role == "solution":
            source = _unmarked_definition(cells, spec_cell.defines)
            if source is not None:
                sub.solution_sources[gid] = source
                _flag_solution(sub, spec, spec_cell, f"solution cell {gid!r} lost its nbgrader metadata")
            else:
                _flag_solution(sub, spec, spec_cell, f"solution cell {gid!r} deleted")
        elif role == "test":
            sub.flag_test(gid, "test cell deleted (the instructor's test was run)")
        else:
            sub.flag(f"{role} cell {gid!r} deleted")
        return
    cell = found[0]
    if len(found) > 1:
        sub.flag(f"cell {gid!r} duplicated {len(found)} times (the first is graded)")
    retyped = _retyped(cell, spec_cell)
    if retyped:
        reason = f"cell {gid!r} re-typed: {retyped}"
        if role == "test":
            sub.flag_test(gid, reason)
        elif role == "solution":
            _flag_solution(sub, spec, spec_cell, reason)
        else:
            sub.flag(reason)
    if role == "solution" and cell.get("cell_type") == "code":
        sub.solution_sources[gid] = cell_source(cell)
    elif role in ("test", "setup") and normalise(cell_source(cell)) != normalise(
            strip_hidden(spec_cell.source)):
        if role == "test":
            sub.flag_test(gid, "test cell edited (the instructor's test was run)")
        else:
            sub.flag(f"setup cell {gid!r} edited (the instructor's version was run)")


def match_cells(sub: Submission, ctx: Context) -> None:
    """Flag structural differences; collect the student's solution sources."""
    spec = ctx.spec
    cells = [c for c in sub.notebook["cells"] if isinstance(c, dict)]
    by_id: dict[str, list[dict[str, Any]]] = {}
    for cell in cells:
        meta = nbgrader_meta(cell)
        if meta is not None:
            by_id.setdefault(str(meta["grade_id"]), []).append(cell)
    known = spec.by_id()
    for spec_cell in known.values():
        _match(sub, spec, spec_cell, by_id.get(spec_cell.grade_id, []), cells)
    order = [str(nbgrader_meta(c)["grade_id"]) for c in cells if nbgrader_meta(c)]
    seen = list(dict.fromkeys(g for g in order if g in known))
    if seen != [g for g in known if g in seen]:
        sub.flag("cells reordered (graded in the instructor's order)")
    unknown = sorted(set(order) - set(known))
    if unknown:
        sub.flag(f"unknown nbgrader cells: {', '.join(unknown[:6])}")
    _added_cells(sub, spec, cells)


def _added_cells(sub: Submission, spec: AssignmentSpec, cells: list[dict[str, Any]]) -> None:
    """Keep the code cells the student added, each with the instructor cell before it,
    in notebook order up to ``MAX_ADDED_CELLS`` cells and ``MAX_ADDED_CHARS`` characters;
    count the rest (never parsed) and flag the submission when some are left out."""
    plain = [c for c in spec.cells if c.role == "plain" and c.cell_type == "code"]
    plain_ids = {c.cell_id for c in plain if c.cell_id}
    plain_sources = {normalise(c.source) for c in plain}
    taken = {normalise(s) for s in sub.solution_sources.values()}
    known, after = spec.by_id(), None
    kept_chars = left_out = left_out_chars = 0
    for position, cell in enumerate(cells):
        meta = nbgrader_meta(cell)
        if meta is not None:
            after = str(meta["grade_id"]) if str(meta["grade_id"]) in known else after
            continue
        if cell.get("cell_type") != "code":
            continue
        source = cell_source(cell)
        text = normalise(source)
        if not text or cell.get("id") in plain_ids or text in plain_sources or text in taken:
            continue
        if left_out or len(sub.added_cells) >= MAX_ADDED_CELLS \
                or kept_chars + len(source) > MAX_ADDED_CHARS:  # over the cap: never parsed
            left_out, left_out_chars = left_out + 1, left_out_chars + len(source)
            continue
        sub.added_cells.append(AddedCell(position, after, source, defined_names(source)))
        kept_chars += len(source)
    if left_out:
        sub.flag(added_cells_capped(len(sub.added_cells), left_out, left_out_chars))
    if sub.added_cells:
        sub.note(f"{len(sub.added_cells)} code cell(s) you added were run in notebook order, "
                 "as nbgrader does")


def added_cells_capped(kept: int, left_out: int, left_out_chars: int) -> str:
    """The flag of a notebook with more added code than the grader runs, in the
    student's words: what was run, what was not, and the caps."""
    return (f"too many added cells: the grader runs at most {MAX_ADDED_CELLS} code cells you "
            f"added ({MAX_ADDED_CHARS // 1024} KB of code in all); your first {kept} ran, the "
            f"{left_out:,} after them ({left_out_chars:,} characters) were not run")
