"""The semantic leak test of the for-credit bundle (docs/releases.md, *Leak test*).

Book: none (instructor tooling; not in the bundle).

A function leaks an answer when, after normalisation, it *is* the answer: the same
abstract syntax tree once docstrings, comments, formatting, type annotations and every
identifier (the function's name, its arguments, its locals and the globals it names)
are dropped or renamed canonically in order of first use. Attribute names stay
(``np.exp`` is not ``np.log``), and so do constants.

What is compared:

* *answers*: for every graded function (every method of a graded class) and every
  answer under another name
  (:data:`~course_nn.release_credit.graded.ANSWERS_UNDER_OTHER_NAMES`), the ``course_nn``
  reference and the instructor's solution function of the same exercise
  (``solutions/``), except a function the released notebook hands out as it is (a
  helper, or the part of a given function the repair keeps); also every hidden-case
  generator of the registry (the way hidden cases are drawn);
* *bundle functions*: every function definition in the bundle's Python files, in the
  code cells of its notebooks, in code blocks of notebook outputs and in the ``<pre>``
  blocks of its HTML pages.

Stored data is checked separately: no array of the bundle's ``.npz`` files equals an
argument of a hidden case (drawn with several seeds).
"""

from __future__ import annotations

import ast
import copy
import html
import inspect
import json
import re
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from course_nn.grading import REGISTRY
from course_nn.release_credit.graded import GradedFunction, functions_to_stub

DOCSTRING_OWNERS = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module)


class _Canonical(ast.NodeTransformer):
    """Renames identifiers v0, v1, ... in order of first appearance; drops annotations."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _rename(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.name = self._rename(node.name)
        node.returns, node.decorator_list = None, []
        self.generic_visit(node)
        return node

    visit_AsyncFunctionDef = visit_FunctionDef  # type: ignore[assignment]

    def visit_arg(self, node: ast.arg) -> ast.AST:
        node.arg, node.annotation = self._rename(node.arg), None
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        node.id = self._rename(node.id)
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        self.generic_visit(node)
        node.annotation = ast.Constant(None)
        return node


def _strip_docstrings(tree: ast.AST) -> None:
    for node in ast.walk(tree):
        if isinstance(node, DOCSTRING_OWNERS) and node.body:
            first = node.body[0]
            if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
                    and isinstance(first.value.value, str):
                node.body = node.body[1:] or [ast.Pass()]


def normalise(func: ast.FunctionDef | ast.AsyncFunctionDef) -> str:
    """The canonical form of a function: equal for two spellings of the same code."""
    node = copy.deepcopy(func)
    _strip_docstrings(node)
    node = _Canonical().visit(node)
    return ast.dump(node, annotate_fields=False, include_attributes=False)


def functions_in(source: str) -> Iterator[ast.FunctionDef | ast.AsyncFunctionDef]:
    """Every function definition (nested ones too) of a piece of Python; none if invalid."""
    try:
        tree = ast.parse(textwrap.dedent(source))
    except (SyntaxError, ValueError):
        return
    for node in ast.walk(tree):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield node


# --- the answers ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Answer:
    """The canonical form of one piece of code that must not reach students."""

    what: str  # "reference course_nn.softmax.softmax (ex04_softmax)"
    form: str
    exercise: str = ""


def _solution_functions(root: Path) -> Iterator[tuple[str, str, ast.FunctionDef]]:
    for notebook in sorted((root / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") == "code" and meta.get("solution"):
                for func in functions_in("".join(cell.get("source", []))):
                    yield notebook.parent.name, meta.get("grade_id", "?"), func


def _given_forms(root: Path) -> dict[str, set[str]]:
    """exercise -> the normalised functions its released notebook hands out (a helper or a
    given function that the solution keeps as it is: handed out, so not an answer)."""
    given: dict[str, set[str]] = {}
    for notebook in sorted((root / "exercises").glob("*/*.ipynb")):
        forms = given.setdefault(notebook.parent.name, set())
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            if cell.get("cell_type") == "code":
                forms |= {normalise(f) for f in functions_in("".join(cell.get("source", [])))}
    return given


def answers(root: Path, graded: list[GradedFunction] | None = None) -> list[Answer]:
    """References of the graded functions, the instructor's solutions, hidden generators."""
    import importlib

    graded = functions_to_stub(root) if graded is None else graded
    given = _given_forms(root)
    found = []
    for g in graded:
        func = getattr(importlib.import_module(g.module), g.name)
        for node in functions_in(inspect.getsource(func)):
            if isinstance(func, type):  # a graded class (a layer): every method not handed out
                if normalise(node) not in given.get(g.exercise, set()):
                    found.append(Answer(f"reference {g.module}.{g.name}.{node.name} "
                                        f"({g.exercise})", normalise(node), g.exercise))
            elif node.name == g.name:
                found.append(Answer(f"reference {g.module}.{g.name} ({g.exercise})",
                                    normalise(node), g.exercise))
    exercises = {g.exercise for g in graded}
    for exercise, grade_id, node in _solution_functions(root):
        form = normalise(node)
        if exercise in exercises and form not in given.get(exercise, set()):
            found.append(Answer(f"solution {exercise}/{grade_id} {node.name}", form, exercise))
    for name, check in REGISTRY.items():
        generator = getattr(check.hidden_cases, "__wrapped__", check.hidden_cases)
        try:
            source = inspect.getsource(generator)
        except (OSError, TypeError):
            continue
        for node in functions_in(source):  # a lambda is no def: nothing to match
            if node.name == generator.__name__:
                found.append(Answer(f"hidden-case generator of {name}", normalise(node)))
                break
    return found


# --- the bundle's code ---------------------------------------------------------------------
def _html_code_blocks(text: str) -> Iterator[str]:
    for block in re.findall(r"<pre[^>]*>(.*?)</pre>", text, re.S):
        yield html.unescape(re.sub(r"<[^>]+>", "", block))


def _notebook_code(text: str) -> Iterator[str]:
    try:
        nb = json.loads(text)
    except ValueError:
        return
    for cell in nb.get("cells", []):
        source = "".join(cell.get("source", []))
        if cell.get("cell_type") == "code":
            yield source
        else:
            yield from re.findall(r"```(?:python|ipython3?)?\n(.*?)```", source, re.S)
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            for kind in ("text/markdown", "text/plain", "text/html"):
                value = "".join(data.get(kind, []))
                yield from re.findall(r"```(?:python)?\n(.*?)```", value, re.S)
                yield from _html_code_blocks(value)


def code_pieces(bundle: Path) -> Iterator[tuple[str, str]]:
    """(where, Python source) for every piece of code a student can read in the bundle."""
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        where = str(path.relative_to(bundle))
        if path.suffix not in (".py", ".ipynb", ".html", ".md", ".txt"):
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        if path.suffix == ".py":
            yield where, text
        elif path.suffix == ".ipynb":
            for piece in _notebook_code(text):
                yield where, piece
        elif path.suffix == ".html":
            for piece in _html_code_blocks(text):
                yield where, piece
        else:
            for piece in re.findall(r"```(?:python)?\n(.*?)```", text, re.S):
                yield where, piece


def find_semantic_leaks(bundle: Path, root: Path,
                        graded: list[GradedFunction] | None = None) -> list[str]:
    """Every function in ``bundle`` that is an answer after normalisation; empty if none."""
    forbidden: dict[str, str] = {}
    for answer in answers(root, graded):
        forbidden.setdefault(answer.form, answer.what)
    leaks = []
    for where, piece in code_pieces(bundle):
        for node in functions_in(piece):
            what = forbidden.get(normalise(node))
            if what is not None:
                leaks.append(f"{where}: function {node.name} is the {what}")
    return sorted(set(leaks))


# --- the stored data -----------------------------------------------------------------------
def hidden_cases(seeds: range = range(8)) -> list[tuple[str, tuple]]:
    """(check name, arguments) of the hidden cases of every check, drawn with ``seeds``."""
    found = []
    for name, check in REGISTRY.items():
        for seed in seeds:
            try:
                cases = check.cases(hidden=True, seed=seed)
            except Exception:
                continue
            found += [(name, case.args) for case in cases]
    return found


def _informative(arr: np.ndarray) -> bool:
    """Random enough that an equal stored array cannot be a coincidence (0/1 labels can)."""
    return arr.dtype.kind in "biuf" and arr.size >= 5 and np.unique(arr).size >= 4


def _fingerprint(arr: np.ndarray) -> tuple:
    return arr.shape, np.asarray(arr, dtype=np.float64).tobytes()


def find_data_leaks(bundle: Path, seeds: range = range(8)) -> list[str]:
    """Stored data that holds a hidden case: its whole arguments (unless the same case is
    also public: a fixed edge case both lists share), or one of its arrays that is
    informative (5 or more entries, 4 or more distinct values)."""
    from course_nn.release_credit.stored import digest, unpack

    hidden = hidden_cases(seeds)
    public = {digest(case.args) for check in REGISTRY.values() for case in check.cases(False)}
    by_digest = {digest(args): name for name, args in hidden if digest(args) not in public}
    by_array = {_fingerprint(a): name for name, args in hidden for a in args
                if isinstance(a, np.ndarray) and _informative(a)}
    leaks = []
    for path in sorted(bundle.rglob("*.npz")):
        with np.load(path, allow_pickle=False) as npz:
            arrays = {key: npz[key] for key in npz.files}
        for key, arr in arrays.items():
            if _informative(arr) and _fingerprint(arr) in by_array:
                leaks.append(f"{path.relative_to(bundle)}[{key}] is an input of a hidden case "
                             f"of {by_array[_fingerprint(arr)]}")
        spec = path.with_suffix(".json")
        if not spec.exists():
            continue
        for check in json.loads(spec.read_text(encoding="utf-8")).get("checks", []):
            for case in check["cases"]:
                args = tuple(unpack(a, arrays) for a in case["args"])
                if digest(args) in by_digest:
                    leaks.append(f"{spec.relative_to(bundle)}: {check['name']} stores a hidden "
                                 f"case of {by_digest[digest(args)]} ({case['label']})")
    return leaks
