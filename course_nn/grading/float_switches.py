"""Find code that switches NumPy's floating-point error checks (or Python's warnings) off.

Book: none (grading tooling); docs/grading.md, "5. Scan" and "10. Judge";
docs/exercise_items.md, "Stability is graded where the task promises it".

A check with ``float_errors`` calls the student's function under
``np.errstate(over=, invalid=, divide="raise")``. Code that runs inside that call can
put its own setting on top (``with np.errstate(all="ignore")``, ``np.seterr``, an
``errstate`` decorator, a fresh ``contextvars.Context`` or another thread, where the
defaults apply again), and then a naive computation that overflows passes. Such code
cannot be told apart from honest code by its numbers, so both grading paths read it:

* :func:`analyse_cell` reads one cell (by AST, never by regular expressions over the
  text) into its top-level statements, each with the names it binds, the names it
  uses and the switches it contains;
* :func:`reached_switches` follows the names a graded function uses through the cells
  (a helper in another cell counts) and returns the switches the function can reach;
* :func:`function_switches` does the same for a live function in a notebook (its
  cell's source, from ``linecache`` as IPython registers it, and the notebook
  functions it calls);
* :func:`leaked` is the runtime check both paths make after the call: is the grader's
  setting still in force (``np.seterr`` without a context manager leaks)?

A switch counts only for a check that promises no overflow; elsewhere ``np.errstate``
is ordinary code. What counts: any name, attribute or import whose identifier contains
NumPy's ``errstate``, ``seterr`` (``seterrcall``, ``seterrobj``) or ``extobj`` (the
error-state internals ``_extobj_contextvar``, ``_make_extobj``), under any alias; the
``warnings`` filters (``filterwarnings``, ``simplefilter``, ``resetwarnings``,
``catch_warnings``, ``warnings.filters``, ``suppress_warnings``); threads and fresh
``contextvars.Context`` objects; replacing ``np.geterr``; and code whose names cannot
be read: ``getattr``/``setattr``/``__dict__``/``vars()``/``__getattribute__`` lookups
and ``exec``/``eval``/``compile``/``__import__`` with a name or source built at run
time, ``inspect.getmembers``, and those functions passed around uncalled. Strings built
from constants (``+``, f-strings, ``join``, slices, ``chr``, case methods) are folded
and read, so ``getattr(np, "err" + "state")`` counts like ``np.errstate``.
"""

from __future__ import annotations

import ast
import inspect
import linecache
import os
import sysconfig
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: NumPy's floating-point error state: the functions and the internals behind them.
NUMPY_SWITCHES = frozenset({"errstate", "seterr", "seterrcall", "seterrobj", "extobj"})
#: Python's warnings filters (NumPy reports overflow as a RuntimeWarning by default).
WARNING_SWITCHES = frozenset({"filterwarnings", "simplefilter", "resetwarnings",
                              "catch_warnings", "suppress_warnings"})
#: Where NumPy's error state starts again from the defaults: another thread.
THREADS = frozenset({"Thread", "ThreadPoolExecutor", "ThreadPool", "start_new_thread",
                     "start_joinable_thread"})
THREAD_MODULES = frozenset({"threading", "_thread", "concurrent", "multiprocessing"})
NAMED = NUMPY_SWITCHES | WARNING_SWITCHES
#: Harmless to call, but replacing them blinds the grader's runtime check.
READERS = frozenset({"geterr", "geterrcall"})
LISTS_NAMESPACE = frozenset({"getmembers", "getmembers_static"})  # every (name, value) pair
DYNAMIC_LOOKUPS = frozenset({"getattr", "setattr", "delattr", "attrgetter",
                             "methodcaller", "__getattribute__", "import_module", "__import__"})
RUNS_SOURCE = frozenset({"exec", "eval", "compile"})
STRING_METHODS = frozenset({"lower", "upper", "casefold", "strip", "lstrip", "rstrip", "title",
                            "capitalize", "swapcase", "replace", "removeprefix", "removesuffix"})
MAX_CHARS = 100_000  # a larger source is not parsed (the hardened scan's MAX_PARSE_CHARS)
MAX_FOLD = 10_000  # the longest string folded from constants
MAX_DEPTH = 3  # exec("exec('...')") nesting read
MAX_SCANNED = 1_000_000  # characters of strings searched for switch names in one cell
MAX_FUNCTIONS = 32  # notebook functions followed from one checked function

#: Starts every flag the hardened scan puts on a test for a switch (the judge reads it).
FLAG = "float-error switch"
#: The check's message (both paths): the promise, the concept, the review; never the fix.
MESSAGE = ("this item promises no overflow warnings; your code switches NumPy's "
           "floating-point error checks (or the warnings that report them) off, so the "
           "grader cannot check that promise; your instructor will review it")


@dataclass(frozen=True)
class Switch:
    """One place that switches the checks off (or hides what it runs)."""

    what: str
    line: int
    everywhere: bool = False  # replaces NumPy's or warnings' own functions: every call

    def describe(self, where: str = "") -> str:
        place = f"{where}, line {self.line}" if where else f"line {self.line}"
        return f"{self.what} ({place})"


@dataclass(frozen=True)
class Statement:
    """A top-level statement of a cell: what it binds, uses, and switches."""

    binds: frozenset[str]
    uses: frozenset[str]
    switches: tuple[Switch, ...]
    first: int = 0  # its lines in the cell
    last: int = 0


@dataclass(frozen=True)
class CellAnalysis:
    """A cell read statement by statement (``problem`` when it could not be read)."""

    statements: tuple[Statement, ...] = ()
    problem: Switch | None = None

    @property
    def defines(self) -> frozenset[str]:
        return frozenset().union(*(s.binds for s in self.statements))


# --- folding strings built from constants -----------------------------------------------
def fold(node: ast.AST, depth: int = 0) -> str | None:
    """The string ``node`` evaluates to when it is built from constants only, else None."""
    if depth > 20:
        return None
    text = _fold(node, depth + 1)
    return text if text is None or len(text) <= MAX_FOLD else None


def _fold(node: ast.AST, depth: int) -> str | None:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bytes):
            return node.value.decode("latin-1")
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.JoinedStr):
        return _fold_joined("", [v.value if isinstance(v, ast.FormattedValue) else v
                                 for v in node.values], depth)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = fold(node.left, depth), fold(node.right, depth)
        return None if left is None or right is None else left + right
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
        for text, times in ((node.left, node.right), (node.right, node.left)):
            value = fold(text, depth)
            if value is not None and isinstance(times, ast.Constant) and isinstance(times.value, int) \
                    and 0 <= times.value * len(value) <= MAX_FOLD:
                return value * times.value
        return None
    if isinstance(node, ast.Subscript):
        return _fold_subscript(node, depth)
    if isinstance(node, ast.Call):
        return _fold_call(node, depth)
    return None


def _fold_joined(separator: str, nodes: list[ast.AST], depth: int) -> str | None:
    """``separator.join`` of the folded ``nodes``, or None as soon as one is unknown or the
    result would be too long (the grader's time and memory stay bounded)."""
    parts, total = [], 0
    for node in nodes:
        part = fold(node, depth)
        total += len(separator) + (len(part) if part is not None else 0)
        if part is None or total > MAX_FOLD:
            return None
        parts.append(part)
    return separator.join(parts)


def _constant_int(node: ast.AST | None) -> int | None:
    if node is None:
        return None
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        value = _constant_int(node.operand)
        return None if value is None else -value
    return node.value if isinstance(node, ast.Constant) and type(node.value) is int else None


def _fold_subscript(node: ast.Subscript, depth: int) -> str | None:
    text = fold(node.value, depth)
    if text is None:
        return None
    index = node.slice
    if isinstance(index, ast.Slice):
        bounds = [_constant_int(b) for b in (index.lower, index.upper, index.step)]
        given = [b for b in (index.lower, index.upper, index.step)]
        if any(g is not None and b is None for g, b in zip(given, bounds, strict=True)) or bounds[2] == 0:
            return None
        return text[bounds[0]:bounds[1]:bounds[2]]
    position = _constant_int(index)
    return text[position] if position is not None and -len(text) <= position < len(text) else None


def _fold_call(node: ast.Call, depth: int) -> str | None:
    func = node.func
    if isinstance(func, ast.Name) and func.id == "chr" and len(node.args) == 1:
        code = _constant_int(node.args[0])
        return chr(code) if code is not None and 0 <= code < 0x110000 else None
    if isinstance(func, ast.Name) and func.id in ("str", "reversed") and len(node.args) == 1:
        text = fold(node.args[0], depth)
        return text if text is None or func.id == "str" else text[::-1]
    if not isinstance(func, ast.Attribute):
        return None
    owner = fold(func.value, depth)
    if owner is None:
        return None
    if func.attr == "join" and len(node.args) == 1:
        items = node.args[0]
        if isinstance(items, (ast.List, ast.Tuple, ast.Set)):
            return _fold_joined(owner, items.elts, depth)
        text = fold(items, depth)  # "".join("abc") or "".join(reversed("cba"))
        too_long = text is None or len(text) * (len(owner) + 1) > MAX_FOLD
        return None if too_long else owner.join(text)
    if func.attr == "decode" and not node.args:
        return owner
    if func.attr in STRING_METHODS:
        args = [fold(a, depth) for a in node.args]
        if None in args or node.keywords:
            return None
        if func.attr == "replace" and len(args) > 1 and \
                len(owner) * max(len(args[1]), 1) + len(args[1]) > MAX_FOLD:
            return None  # the result could be far longer than anything read
        try:
            return getattr(owner, func.attr)(*args)
        except (TypeError, ValueError):
            return None
    return None


def named_switches(text: str) -> list[str]:
    """The switch names ``text`` (a folded string or an identifier) mentions, in any case."""
    lowered = text.lower()
    return sorted(name for name in NAMED if name in lowered)


# --- reading one cell -------------------------------------------------------------------
def _is_docstring(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    parent = parents.get(node)
    owner = parents.get(parent) if isinstance(parent, ast.Expr) else None
    body = getattr(owner, "body", None)
    return bool(body) and body[0] is parent and isinstance(
        owner, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))


class _Finder(ast.NodeVisitor):
    """Collects the :class:`Switch` es of one statement (and of the code it runs)."""

    def __init__(self, tree: ast.AST, depth: int, budget: list[int], aliases: dict[str, set[str]]):
        self.found: list[Switch] = []
        self.budget = budget  # characters of strings still to search, shared by the cell
        self.depth = depth
        self.parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        self.warnings_aliases = aliases["warnings"]  # the cell's names for the modules
        self.context_aliases = aliases["contextvars"]

    def add(self, what: str, node: ast.AST, everywhere: bool = False) -> None:
        self.found.append(Switch(what, getattr(node, "lineno", 0), everywhere))

    def names_in(self, text: str, node: ast.AST) -> list[str]:
        """The switch names a string mentions, while the cell's budget lasts; past it the
        strings cannot be read, and that is a finding."""
        self.budget[0] -= len(text)
        if self.budget[0] < 0:
            self.add("builds more strings than can be read", node)
            return []
        return named_switches(text)

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        top = (node.module or "").split(".")[0]
        for alias in node.names:
            name = alias.name
            if named_switches(name) or (top == "warnings" and name == "filters"):
                self.add(f"imports {name} from {node.module}", node)
            elif top in THREAD_MODULES and name in THREADS:
                self.add(f"imports {name} from {node.module} (another thread)", node)
            elif top == "contextvars" and name == "Context":
                self.add("imports contextvars.Context (a fresh context)", node)

    def visit_Name(self, node: ast.Name) -> None:
        if named_switches(node.id):
            self.add(f"uses {node.id}", node, not isinstance(node.ctx, ast.Load))
        elif node.id in RUNS_SOURCE | DYNAMIC_LOOKUPS | {"vars"} and isinstance(node.ctx, ast.Load):
            call = self.parents.get(node)
            if not (isinstance(call, ast.Call) and call.func is node):
                self.add(f"uses {node.id} without calling it", node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        root = node.value.id if isinstance(node.value, ast.Name) else None
        store = not isinstance(node.ctx, ast.Load)
        shown = ast.unparse(node)[:80]
        if named_switches(node.attr) or (store and node.attr in READERS):
            self.add(f"uses {shown}", node, store)
        elif node.attr == "filters" and root in self.warnings_aliases:
            self.add(f"uses {shown}", node, True)
        elif node.attr in THREADS:
            self.add(f"uses {shown} (another thread)", node)
        elif node.attr == "Context" and root in self.context_aliases:
            self.add(f"uses {shown} (a fresh context)", node)
        elif node.attr in ("__dict__", "__getattribute__", "__getattr__") and \
                not self._constant_key(node):
            self.add(f"looks names up by a computed key ({ast.unparse(node)[:60]})", node)
        self.generic_visit(node)

    def _constant_key(self, node: ast.AST) -> bool:
        """Is ``node`` (a namespace) subscripted or ``.get``-ed with a foldable key?"""
        parent = self.parents.get(node)
        if isinstance(parent, ast.Subscript) and parent.value is node:
            return self._check_key(fold(parent.slice), parent, not isinstance(parent.ctx, ast.Load))
        if isinstance(parent, ast.Attribute) and parent.attr in ("get", "__getitem__"):
            call = self.parents.get(parent)
            if isinstance(call, ast.Call) and call.args:
                return self._check_key(fold(call.args[0]), call)
        return False

    def _check_key(self, key: str | None, node: ast.AST, everywhere: bool = False) -> bool:
        """Record the switches a foldable ``key`` names; False when it cannot be folded."""
        if key is None:
            return False
        for name in self.names_in(key, node):
            self.add(f"looks up {name!r} by name", node, everywhere)
        return True

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""
        if name in DYNAMIC_LOOKUPS:
            key = node.args[1] if name in ("getattr", "setattr", "delattr") and \
                len(node.args) > 1 else node.args[0] if node.args else None
            replaces = name in ("setattr", "delattr")
            if key is not None and not self._check_key(fold(key), node, replaces):
                self.add(f"{name} with a computed name", node, replaces)
        elif name in LISTS_NAMESPACE:
            self.add(f"{name} (every attribute, by a name that cannot be read)", node)
        elif name == "vars" and isinstance(func, ast.Name) and node.args and \
                not self._constant_key(node):
            self.add("looks names up in vars(...) by a computed key", node)
        elif name in RUNS_SOURCE and isinstance(func, ast.Name):
            self._runs(name, node)
        self.generic_visit(node)

    def _runs(self, name: str, node: ast.Call) -> None:
        source = fold(node.args[0]) if node.args else None
        if source is None or self.depth >= MAX_DEPTH:
            self.add(f"{name} of code built at run time", node)
            return
        inner = analyse_cell(source, self.depth + 1)
        for switch in [s for stmt in inner.statements for s in stmt.switches] + \
                ([inner.problem] if inner.problem else []):
            self.add(f"{name} of code that {switch.what}", node, switch.everywhere)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, (str, bytes)) and not _is_docstring(node, self.parents):
            text = node.value.decode("latin-1") if isinstance(node.value, bytes) else node.value
            for name in self.names_in(text, node):
                self.add(f"names {name} in a string", node)

    def generic_visit(self, node: ast.AST) -> None:
        if isinstance(node, (ast.BinOp, ast.JoinedStr, ast.Call, ast.Subscript)):
            text = fold(node)  # a string built from constants, e.g. "err" + "state"
            if text is not None:
                for name in self.names_in(text, node):
                    self.add(f"builds the name {name} from strings", node)
        super().generic_visit(node)


def _bound_names(statement: ast.stmt) -> frozenset[str]:
    """Names a top-level statement binds (not the locals of the functions it defines)."""
    names: set[str] = set()
    todo: list[ast.AST] = [statement]
    while todo:
        node = todo.pop()
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            todo += node.decorator_list
            continue
        if isinstance(node, (ast.Lambda, ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            continue
        if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.update((a.asname or a.name).split(".")[0] for a in node.names if a.name != "*")
        todo.extend(ast.iter_child_nodes(node))
    return frozenset(names)


def _used_names(statement: ast.stmt) -> frozenset[str]:
    return frozenset(n.id for n in ast.walk(statement) if isinstance(n, ast.Name))


def analyse_cell(source: str, depth: int = 0) -> CellAnalysis:
    """One cell's top-level statements with their switches (docs/grading.md, step 5).

    A cell too large to parse is a problem (it cannot be read); one that does not parse
    has no switches (it does not run either)."""
    if len(source) > MAX_CHARS:
        return CellAnalysis((), Switch(f"a cell of {len(source)} characters, too large to read", 0))
    from course_nn.grading.hardened import parsing  # one lock for every parse (light module)

    try:
        tree = parsing.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return CellAnalysis()
    statements, budget = [], [MAX_SCANNED]
    aliases = {"warnings": {"warnings"}, "contextvars": {"contextvars"}}
    for node in ast.walk(tree):
        for alias in node.names if isinstance(node, ast.Import) else ():
            if alias.name.split(".")[0] in aliases:
                aliases[alias.name.split(".")[0]].add((alias.asname or alias.name).split(".")[0])
    for statement in tree.body:
        finder = _Finder(ast.Module(body=[statement], type_ignores=[]), depth, budget, aliases)
        try:
            finder.visit(statement)
        except RecursionError:
            finder.add("code nested too deeply to read", statement)
        statements.append(Statement(_bound_names(statement), _used_names(statement),
                                    tuple(dict.fromkeys(finder.found)),
                                    min([statement.lineno] + [d.lineno for d in
                                         getattr(statement, "decorator_list", [])]),
                                    statement.end_lineno or statement.lineno))
    return CellAnalysis(tuple(statements))


def reached_switches(cells: Sequence[tuple[str, CellAnalysis]], names: Iterable[str],
                     start: tuple[int, int] | None = None) -> list[str]:
    """The switches a function named in ``names`` can reach, as ``"what (where, line N)"``.

    ``cells`` are (where, analysis) of the code that runs with it. From ``names`` (and
    from the statement of cell ``start[0]`` that spans line ``start[1]``: a lambda has
    no name) the statements that bind them are followed, then the names those use,
    across cells. A reached cell's statements that bind nothing (``np.seterr(...)`` at
    cell level) count with it; switches that replace NumPy's or warnings' own functions,
    and cells too large to read, count whatever is reached.
    """
    reached: set[tuple[int, int]] = set()
    todo, seen = set(names), set()
    if start is not None:
        for s, stmt in enumerate(cells[start[0]][1].statements):
            if stmt.first <= start[1] <= stmt.last:
                reached.add((start[0], s))
                todo |= stmt.uses
    while todo:
        name = todo.pop()
        seen.add(name)
        for c, (_, cell) in enumerate(cells):
            for s, stmt in enumerate(cell.statements):
                if name in stmt.binds and (c, s) not in reached:
                    reached.add((c, s))
                    todo |= stmt.uses - seen
    cells_reached = {c for c, _ in reached}
    found = []
    for c, (where, cell) in enumerate(cells):
        if cell.problem:
            found.append(cell.problem.describe(where))
        for s, stmt in enumerate(cell.statements):
            counts = (c, s) in reached or (c in cells_reached and not stmt.binds)
            found += [sw.describe(where) for sw in stmt.switches if counts or sw.everywhere]
    return list(dict.fromkeys(found))


# --- a live function (the in-notebook check) ------------------------------------------
def _library_roots() -> tuple[str, ...]:
    """Folders of code that is not the student's: Python's, site-packages, ``course_nn``."""
    paths = {sysconfig.get_paths().get(k) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    paths |= {str(Path(__file__).resolve().parents[1])}  # course_nn itself
    return tuple(sorted(os.path.join(p, "") for p in paths if p and len(Path(p).parts) > 2))


def _code_of(func: Any) -> Any:
    """The code object behind a callable (through decorators, partials, bound methods)."""
    for _ in range(8):
        try:  # a decorated function: the student's own code, not the wrapper's
            func = inspect.unwrap(func)
        except ValueError:  # a cycle of __wrapped__
            return None
        code = getattr(func, "__code__", None)
        if code is not None:
            return code
        inner = getattr(func, "__func__", None) or getattr(func, "func", None)
        if inner is None and callable(func) and not isinstance(func, type):
            inner = type(func).__call__  # an instance with __call__
        if inner is None or inner is func:
            return None
        func = inner
    return None


def _global_names(code: Any) -> set[str]:
    """Every global and attribute name ``code`` (and the code nested in it) uses."""
    names, todo = set(), [code]
    while todo:
        current = todo.pop()
        names |= set(current.co_names)
        todo += [c for c in current.co_consts if hasattr(c, "co_names")]
    return names


def _source_of(func: Any, code: Any) -> str | None:
    """The whole cell (or module) ``func`` was defined in, else its own source."""
    lines = linecache.getlines(code.co_filename)
    if lines:
        return "".join(lines)
    try:
        return inspect.getsource(func)
    except (OSError, TypeError):
        return None


def function_switches(func: Callable[..., Any]) -> list[str] | None:
    """The switches ``func`` can reach in a live notebook; None when its source is unknown.

    Reads the cell ``func`` was defined in (``linecache`` holds IPython's cells), from
    the statement that defines it, then the cells of the notebook functions it calls,
    found by the names it uses in its globals. Library code (Python's, site-packages,
    ``course_nn``) is not followed."""
    library = _library_roots()
    code = _code_of(func)
    if code is None:
        return None
    queue, done, found = [(func, code)], set(), []
    while queue and len(done) < MAX_FUNCTIONS:
        current, current_code = queue.pop(0)
        key = (current_code.co_filename, current_code.co_firstlineno)
        if key in done or current_code.co_filename.startswith(library):
            continue
        done.add(key)
        source = _source_of(current, current_code)
        if source is None:
            if current is func:
                return None
            continue
        whole = linecache.getlines(current_code.co_filename) != []
        start = (0, current_code.co_firstlineno) if whole else (0, 1)
        where = f"the cell defining {current_code.co_name}"
        found += reached_switches([(where, analyse_cell(source))], (), start)
        namespace = getattr(current, "__globals__", None)
        for name in sorted(_global_names(current_code)):
            value = namespace.get(name) if isinstance(namespace, dict) else None
            called = _code_of(value) if callable(value) else None
            if called is not None:
                queue.append((value, called))
    return list(dict.fromkeys(found))


# --- the runtime check: is the grader's setting still there? --------------------------
def leaked(state: dict[str, str], expected: dict[str, str]) -> list[str]:
    """The entries of ``np.geterr()`` (``state``) a call changed from the grader's."""
    return [f"{k}={state.get(k)!r}" for k, v in expected.items() if state.get(k) != v]

