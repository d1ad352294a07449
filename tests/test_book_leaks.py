"""No transfer or debugging item can be solved by copying the book (issue 20, part 3).

Every graded function of ``solutions/*/*.ipynb`` (the function of a solution cell that
its test cell passes to ``check("<name>", ...)``) is compared with every piece of code a
student can read while doing the exercise:

* every code cell of ``book/*.ipynb`` (the chapters' source, not the built HTML), and
  every fenced Python block of their Markdown cells;
* every function a chapter displays with ``show_source(...)`` (the shown object is
  resolved through the chapter's own imports, its code read with ``inspect.getsource``);
* every public function (module-level, no leading ``_``) of every module of
  ``course_nn`` except ``course_nn.grading`` and ``course_nn.release_credit``.

How a match is decided (docs/exercise_items.md, *How the book-leak test decides*): a
function's body is a list of statements, normalised as the for-credit leak test does
(``course_nn.release_credit.leaks``: docstrings, comments, layout and annotations
dropped; every identifier, arguments and globals included, renamed canonically in order
of first use; attribute names and constants kept), plus two steps that a copy from
inline book code needs: ``return e`` counts as the expression ``e``, and a conversion of
an input (``x = np.asarray(x, dtype=float)``, ``float(t)``, ``int(k)``) is dropped. A
solution *matches* a book piece when its whole normalised body equals a contiguous run
of the piece's statements (a book function's body, or a cell's top-level statements),
renamed from the run's first statement. Bodies under :data:`MIN_NODES` nodes are not
compared. A transfer or debugging item that matches fails; an implement, by-hand or
structure item that matches is reported as a warning (the book derives those).

A debugging item's repair target, the check's reference (``Check.reference``), is
compared in the same way: the book must not display the fixed function.
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import json
import re
import textwrap
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest
from markdown_it import MarkdownIt

from course_nn.grading import REGISTRY
from course_nn.grading.core import get_check
from course_nn.release_credit.leaks import _Canonical, _strip_docstrings

ROOT = Path(__file__).resolve().parents[1]

#: The smallest body compared, in AST nodes (load/store contexts not counted). Below 10
#: nodes a body is one operation on its arguments (``return X @ W.T + b`` is 9 nodes,
#: ``return np.maximum(0, x)`` 7): the task's own equation written as NumPy, which every
#: student spells the same way, so equality with a book line is no evidence of copying.
#: From 10 nodes a body combines operations (``np.diag(C) / C.sum(axis=1)`` is 12, a
#: repair target that must still be compared). With no threshold at all the solutions of
#: ex01-ex08 match the book in one place only, so 10 costs no false alarm.
MIN_NODES = 10

#: Kinds whose answer must not be in the book (docs/exercise_items.md, *Repairs the book
#: cannot solve, transfers the closed form cannot pass*).
MUST_NOT_MATCH = ("transfer", "debugging")

#: Calls that only convert an input (``x = np.asarray(x, dtype=float)``): not a step.
CONVERSIONS = frozenset({"asarray", "asanyarray", "array", "float", "int"})

#: Packages whose public functions are not course material students read with the book.
NOT_COURSE = ("course_nn.grading", "course_nn.release_credit")


# --- normalisation -------------------------------------------------------------------------
def _is_conversion(stmt: ast.stmt) -> bool:
    """``name = np.asarray(name, ...)`` and the like: converts an input, computes nothing."""
    if not (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
            and isinstance(stmt.targets[0], ast.Name) and isinstance(stmt.value, ast.Call)):
        return False
    func, args = stmt.value.func, stmt.value.args
    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
    return name in CONVERSIONS and len(args) == 1 and isinstance(args[0], ast.Name)


def _statements(body: list[ast.stmt]) -> list[ast.stmt]:
    """A body without its docstring and input conversions, ``return e`` as ``e``."""
    holder = ast.Module(body=copy.deepcopy(body), type_ignores=[])
    _strip_docstrings(holder)
    for node in ast.walk(holder):  # nested functions lose their docstrings too
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            _strip_docstrings(node)
    kept = []
    for stmt in holder.body:
        if _is_conversion(stmt) or isinstance(stmt, ast.Pass):
            continue
        if isinstance(stmt, ast.Return) and stmt.value is not None:
            stmt = ast.Expr(stmt.value)
        kept.append(stmt)
    return kept


def _forms_from(stmts: list[ast.stmt]) -> list[str]:
    """Each statement's dump, identifiers renamed in order of first use from ``stmts[0]``."""
    renamer = _Canonical()
    return [ast.dump(renamer.visit(copy.deepcopy(s)), annotate_fields=False,
                     include_attributes=False) for s in stmts]


def size(stmts: list[ast.stmt]) -> int:
    """AST nodes of ``stmts``, load/store contexts not counted."""
    return sum(1 for s in stmts for n in ast.walk(s) if not isinstance(n, ast.expr_context))


@dataclass(frozen=True)
class Piece:
    """Code a student can read: where it is, and its statements."""

    where: str
    stmts: tuple[ast.stmt, ...]


class Book:
    """Every run of normalised statements of the pieces, indexed by its first statement."""

    def __init__(self, pieces: list[Piece]) -> None:
        self.runs: dict[str, list[tuple[str, list[str]]]] = {}
        for piece in pieces:
            stmts = _statements(list(piece.stmts))
            for start in range(len(stmts)):
                forms = _forms_from(stmts[start:])
                self.runs.setdefault(forms[0], []).append((piece.where, forms))

    def matches(self, body: list[ast.stmt]) -> list[str]:
        """Where the whole of ``body`` (normalised) is a run of a piece; none if too small."""
        stmts = _statements(body)
        if not stmts or size(stmts) < MIN_NODES:
            return []
        forms = _forms_from(stmts)
        return sorted({where for where, run in self.runs.get(forms[0], [])
                       if run[:len(forms)] == forms})


# --- the book's pieces ---------------------------------------------------------------------
def _parse(source: str) -> ast.Module | None:
    """A cell's Python without IPython magics and shell escapes; None if it is not Python."""
    lines = [ln for ln in source.splitlines() if not ln.lstrip().startswith(("%", "!"))]
    try:
        return ast.parse(textwrap.dedent("\n".join(lines)))
    except (SyntaxError, ValueError):
        return None


def _functions(tree: ast.AST) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


def _pieces_of(tree: ast.Module, where: str) -> Iterator[Piece]:
    """The top-level statements of a cell or listing, and the body of each function in it."""
    yield Piece(where, tuple(tree.body))
    for func in _functions(tree):
        yield Piece(f"{where}, function {func.name}", tuple(func.body))


def _fenced_python(markdown: str) -> Iterator[str]:
    for token in MarkdownIt("commonmark").parse(markdown):
        if token.type == "fence" and token.info.strip().strip("{}") in ("python", "ipython3",
                                                                         "code-cell", ""):
            yield token.content


def chapters() -> list[Path]:
    return sorted((ROOT / "book").glob("*.ipynb"))


def _cells(notebook: Path) -> list[dict]:
    return json.loads(notebook.read_text(encoding="utf-8"))["cells"]


def cell_pieces() -> Iterator[Piece]:
    """Every code cell, and every fenced Python block of a Markdown cell, of every chapter."""
    for notebook in chapters():
        for number, cell in enumerate(_cells(notebook), start=1):
            source = "".join(cell.get("source", []))
            blocks = [source] if cell["cell_type"] == "code" else (
                list(_fenced_python(source)) if cell["cell_type"] == "markdown" else [])
            for block in blocks:
                tree = _parse(block)
                if tree is not None:
                    yield from _pieces_of(tree, f"{notebook.name} cell {number}")


def _bindings(notebook: Path) -> dict[str, tuple[str, str | None]]:
    """Name -> (module, attribute or None) bound by the imports of a chapter's code cells."""
    bound: dict[str, tuple[str, str | None]] = {}
    for cell in _cells(notebook):
        tree = _parse("".join(cell.get("source", []))) if cell["cell_type"] == "code" else None
        for node in ast.walk(tree) if tree is not None else ():
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                for alias in node.names:
                    bound[alias.asname or alias.name] = (node.module, alias.name)
            elif isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname:
                        bound[alias.asname] = (alias.name, None)
                    else:
                        top = alias.name.split(".")[0]
                        bound[top] = (top, None)
    return bound


def _resolve(expr: ast.expr, bound: dict[str, tuple[str, str | None]]) -> object:
    """The object a ``show_source`` argument names (a name or ``module.attr`` chain)."""
    if isinstance(expr, ast.Attribute):
        return getattr(_resolve(expr.value, bound), expr.attr)
    if isinstance(expr, ast.Name) and expr.id in bound:
        module, attribute = bound[expr.id]
        if attribute is None:
            return importlib.import_module(module)
        try:
            return getattr(importlib.import_module(module), attribute)
        except AttributeError:  # ``from package import submodule``
            return importlib.import_module(f"{module}.{attribute}")
    raise LookupError(f"show_source argument {ast.unparse(expr)} is not imported")


def shown_objects() -> Iterator[tuple[str, str, object]]:
    """(chapter, argument text, object) of every ``show_source(...)`` argument."""
    for notebook in chapters():
        bound = _bindings(notebook)
        for cell in _cells(notebook):
            tree = _parse("".join(cell.get("source", []))) if cell["cell_type"] == "code" else None
            for node in ast.walk(tree) if tree is not None else ():
                if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "show_source":
                    for arg in node.args:
                        yield notebook.name, ast.unparse(arg), _resolve(arg, bound)


def listing_pieces() -> Iterator[Piece]:
    """Every function (nested ones too) of every ``show_source`` listing."""
    for chapter, text, obj in shown_objects():
        tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
        for func in _functions(tree):
            yield Piece(f"{chapter} show_source({text}), function {func.name}", tuple(func.body))


def course_modules() -> list[str]:
    package = ROOT / "course_nn"
    names = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(ROOT).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if not name.startswith(NOT_COURSE):
            names.append(name)
    return names


def course_pieces() -> Iterator[Piece]:
    """Every public module-level function of ``course_nn`` (outside the grader), read
    from its source file."""
    for name in course_modules():
        spec = importlib.util.find_spec(name)
        tree = ast.parse(Path(spec.origin).read_text(encoding="utf-8"))
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) \
                    and not node.name.startswith("_"):
                yield Piece(f"{name}.{node.name}", tuple(node.body))


@cache
def book() -> Book:
    return Book([*cell_pieces(), *listing_pieces(), *course_pieces()])


# --- the solutions -------------------------------------------------------------------------
SOLUTION_BEGIN, SOLUTION_END = "### BEGIN SOLUTION", "### END SOLUTION"
CHECK_CALL = re.compile(r'^check\("(\w+)", (\w+)\)$', re.M)


@dataclass(frozen=True)
class Solution:
    """The instructor's answer to one graded item."""

    exercise: str
    item: str  # the check's name
    kind: str
    function: ast.FunctionDef


def exercises() -> list[str]:
    return sorted(p.parent.name for p in (ROOT / "solutions").glob("*/*.ipynb")
                  if p.stem == p.parent.name)


def _without_markers(source: str) -> str:
    return "\n".join(ln for ln in source.splitlines()
                     if ln.strip() not in (SOLUTION_BEGIN, SOLUTION_END))


def solutions(exercise: str) -> list[Solution]:
    """Every graded function of an exercise: a function of a solution cell holding a
    solution region, passed by a test cell to ``check``."""
    cells = _cells(ROOT / "solutions" / exercise / f"{exercise}.ipynb")
    checked: dict[str, str] = {}  # function name -> check name
    for cell in cells:
        if cell["cell_type"] == "code" and cell.get("metadata", {}).get("nbgrader", {}).get("grade"):
            for item, function in CHECK_CALL.findall("".join(cell["source"])):
                checked[function] = item
    found = []
    for cell in cells:
        source = "".join(cell.get("source", []))
        if cell["cell_type"] != "code" or SOLUTION_BEGIN not in source:
            continue
        for node in ast.parse(_without_markers(source)).body:
            if isinstance(node, ast.FunctionDef) and node.name in checked:
                item = checked[node.name]
                found.append(Solution(exercise, item, get_check(item).kind, node))
    return found


# --- the tests -----------------------------------------------------------------------------
def test_every_graded_item_of_every_exercise_has_its_solution():
    """The comparison covers every exercise under solutions/ (ex08 included) and every
    item its test cells check: none is silently left out."""
    assert len(exercises()) >= 8, exercises()
    for exercise in exercises():
        cells = _cells(ROOT / "solutions" / exercise / f"{exercise}.ipynb")
        checked = {item for c in cells if c["cell_type"] == "code"
                   for item, _ in CHECK_CALL.findall("".join(c["source"]))}
        assert checked, exercise
        assert {s.item for s in solutions(exercise)} == checked, exercise


def test_every_show_source_listing_resolves():
    """Every object a chapter shows is found and read (a listing that could not be read
    would be a listing the test never compares)."""
    shown = list(shown_objects())
    assert len(shown) >= 15, shown
    for chapter, text, obj in shown:
        assert inspect.getsource(obj).strip(), (chapter, text)


def test_the_pieces_cover_cells_listings_and_course_nn():
    wheres = [p.where for p in [*cell_pieces(), *listing_pieces(), *course_pieces()]]
    assert any("ch01_linear_regression.ipynb cell" in w for w in wheres)
    assert any("show_source(gradient_descent), function gradient_descent" in w for w in wheres)
    assert any(w == "course_nn.softmax.softmax" for w in wheres)
    assert not any(w.startswith(NOT_COURSE) for w in wheres)


@pytest.mark.parametrize("exercise", exercises())
def test_no_transfer_or_debugging_solution_is_in_the_book(exercise):
    """A transfer or debugging item whose solution is the book's code renamed fails;
    implement, by-hand and structure items that match are reported (the book derives
    them)."""
    leaks, derived = [], []
    for solution in solutions(exercise):
        for where in book().matches(solution.function.body):
            line = f"{exercise}: {solution.kind} item {solution.item} matches {where}"
            (leaks if solution.kind in MUST_NOT_MATCH else derived).append(line)
    if derived:
        warnings.warn("the book derives these graded items:\n" + "\n".join(derived),
                      UserWarning, stacklevel=1)
    assert leaks == [], "\n".join(leaks)


DEBUGGING = sorted(name for name, check in REGISTRY.items() if check.kind == "debugging")


def _definition(func) -> ast.FunctionDef:
    """The ``def`` of ``func``: from its source file, or, for a function made from text by
    ``core.given_function``, from the string of its checks module that compiles to it."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
        candidates = [tree]
    except (OSError, TypeError):
        candidates = []
        for module in {c.public_cases.__module__ for c in REGISTRY.values()}:
            for value in vars(importlib.import_module(module)).values():
                if isinstance(value, str) and f"def {func.__name__}(" in value:
                    code = compile(value, "<given function>", "exec")
                    if any(getattr(c, "co_code", None) == func.__code__.co_code
                           for c in code.co_consts):
                        candidates.append(ast.parse(value))
    return next(f for tree in candidates for f in _functions(tree) if f.name == func.__name__)


def _same_module_helpers(func, seen: set[str]) -> Iterator[ast.FunctionDef]:
    """The functions of ``func``'s own module that it calls, transitively: where a
    reference written as ``return _helper(...)`` keeps its logic."""
    module = importlib.import_module(func.__module__) if func.__module__ else None
    for node in ast.walk(_definition(func)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) \
                and node.func.id not in seen and module is not None:
            helper = getattr(module, node.func.id, None)
            if inspect.isfunction(helper) and helper.__module__ == func.__module__:
                seen.add(node.func.id)
                yield _definition(helper)
                yield from _same_module_helpers(helper, seen)


def fixed_versions(item: str) -> list[tuple[str, ast.FunctionDef]]:
    """The repaired function of a debugging item: the check's reference with the helpers of
    its module it calls, and the instructor's repair in solutions/."""
    reference = inspect.unwrap(REGISTRY[item].reference)
    found = [(f"reference {reference.__name__}", _definition(reference))]
    found += [(f"helper {h.name}", h) for h in _same_module_helpers(reference, {reference.__name__})]
    found += [(f"solution {s.exercise}", s.function) for e in exercises()
              for s in solutions(e) if s.item == item]
    return found


@pytest.mark.parametrize("item", DEBUGGING)
def test_the_book_does_not_display_a_repair_target(item):
    """The fixed function of a debugging item (the check's reference, the helpers it calls,
    the instructor's repair) is in no book cell, no listing and no public function of
    course_nn."""
    assert REGISTRY[item].given is not None, item
    versions = fixed_versions(item)
    compared = [(what, f) for what, f in versions if size(_statements(f.body)) >= MIN_NODES]
    assert compared, f"{item}: no fixed version large enough to compare: {versions}"
    shown = {what: book().matches(f.body) for what, f in compared}
    assert all(w == [] for w in shown.values()), f"{item}: the book displays {shown}"


def test_the_repair_targets_of_every_exercise_are_checked():
    kinds = {s.item: s.kind for e in exercises() for s in solutions(e)}
    assert {i for i, k in kinds.items() if k == "debugging"} <= set(DEBUGGING)
    assert len(DEBUGGING) >= 8, DEBUGGING


# --- negative controls: the test can fail --------------------------------------------------
COPIED = '''
def my_descent(features, targets, step, iterations):
    """Not what the book calls it, nor its names, comments or layout."""
    {body}
'''


def _listing(chapter: str, shown: str) -> ast.FunctionDef:
    obj = next(o for c, t, o in shown_objects() if c.startswith(chapter) and t == shown)
    tree = ast.parse(textwrap.dedent(inspect.getsource(obj)))
    return next(f for f in _functions(tree) if f.name == obj.__name__)


def test_a_renamed_copy_of_a_listing_is_caught():
    """A synthetic transfer solution copied from a book listing, every name changed and
    an input conversion added, matches that listing."""
    original = _listing("ch01", "gradient_descent")
    renamer = _Canonical()
    body = [renamer.visit(copy.deepcopy(s)) for s in _statements(original.body)]
    for node in ast.walk(ast.Module(body=body, type_ignores=[])):
        if isinstance(node, ast.Name):
            node.id = f"my_{node.id}"
        elif isinstance(node, ast.arg):
            node.arg = f"my_{node.arg}"
    conversion = ast.parse("my_v1 = np.asarray(my_v1, dtype=float)  # a comment").body
    text = "\n".join(ast.unparse(s) for s in conversion + body)
    copied = ast.parse(COPIED.format(body=textwrap.indent(text, "    ").lstrip())).body[0]
    assert ast.unparse(copied) != ast.unparse(original)
    assert any("show_source(gradient_descent), function gradient_descent" in w
               for w in book().matches(copied.body))


def test_inline_book_code_wrapped_in_a_function_is_caught():
    """A solution that wraps a chapter cell's top-level statements into a function (the
    last expression returned) matches that cell."""
    for notebook in chapters():
        for number, cell in enumerate(_cells(notebook), start=1):
            tree = _parse("".join(cell["source"])) if cell["cell_type"] == "code" else None
            stmts = [s for s in (tree.body if tree else []) if isinstance(s, (ast.Assign,
                                                                                ast.Expr))]
            if len(stmts) >= 3 and size(_statements(stmts)) >= MIN_NODES:
                body = [*stmts[:-1], ast.Return(stmts[-1].value)]
                func = ast.FunctionDef("wrapped", ast.arguments([], [], None, [], [], None, []),
                                       body, [], None, None)
                assert f"{notebook.name} cell {number}" in book().matches(func.body)
                return
    pytest.fail("no chapter cell with three top-level statements")


def test_a_short_or_different_body_is_not_a_match():
    """A one-line formula is below the threshold; changing a constant (an axis) makes
    another computation."""
    one_line = ast.parse("def f(X, W, b):\n    return X @ W.T + b").body[0]
    assert size(_statements(one_line.body)) < MIN_NODES
    assert book().matches(one_line.body) == []
    original = _listing("ch01", "gradient_descent")
    changed = copy.deepcopy(original)
    constants = [n for n in ast.walk(changed) if isinstance(n, ast.Constant)
                 and isinstance(n.value, (int, float)) and not isinstance(n.value, bool)]
    assert constants, ast.unparse(original)
    for node in constants:
        node.value = node.value + 7
    assert not any("show_source(gradient_descent)" in w for w in book().matches(changed.body))
