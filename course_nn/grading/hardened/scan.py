"""Step 5: read the student's solution cells (without running them) for cheating routes.

Book: none (instructor tooling); docs/grading.md, "5. Scan".

None of these routes can raise a score in the hardened grader (the checks run in the
parent, ``course_nn`` is not importable in the child, files outside the box are out
of reach); they are flagged so the instructor knows where to look:

* forbidden import: any use of ``course_nn`` (the reference implementations);
* tampering: assigning to attributes of modules (``np.testing.assert_allclose = ...``),
  redefining ``check``, IPython internals (``get_ipython``, input transformers), the
  import system, frames and globals, the gradebook;
* suspicious: process control (exit, kill, signals, subprocess, ctypes), file writes,
  paths that climb out of the folder, ``exec``/``eval``.

One route does raise a score, so it is handled apart (:func:`scan_float_switches`):
code that switches NumPy's floating-point error checks (or Python's warnings) off
inside a function whose check promises no overflow. Such a test gets a flag starting
with :data:`course_nn.grading.float_switches.FLAG`, and the judge holds its points for
review; elsewhere ``np.errstate`` is ordinary code and raises nothing.
"""

from __future__ import annotations

import ast
import re

from course_nn.grading import float_switches
from course_nn.grading.core import REGISTRY
from course_nn.grading.hardened import parsing
from course_nn.grading.hardened.assignment import MAX_PARSE_CHARS, cell_source
from course_nn.grading.hardened.model import Context, Submission, TestSpec
from course_nn.grading.hardened.structure import tests_using

MODULES = {"np", "numpy", "sys", "os", "builtins", "__builtins__", "importlib", "torch",
           "math", "warnings", "scipy", "IPython", "check", "get_ipython", "inspect", "gc"}
GRADER_NAMES = {"check", "get_ipython", "__import__", "__builtins__", "builtins"}
INTERNALS = {  # attributes that mean tampering whatever they hang from
    "f_back": "stack frames", "f_globals": "stack frames", "f_locals": "stack frames",
    "__globals__": "function globals", "__code__": "function code",
    "__subclasses__": "class internals", "input_transformers_cleanup": "IPython input transformers",
    "input_transformers_post": "IPython input transformers", "ast_transformers": "IPython AST",
}
MODULE_INTERNALS = {  # module attributes that mean tampering
    "sys": {"modules", "meta_path", "path", "path_hooks", "settrace", "setprofile", "_getframe"},
    "inspect": {"stack", "currentframe", "getouterframes"}, "gc": {"get_objects", "get_referrers"},
    "builtins": None, "importlib": None,  # anything
}
PROCESS = {"exit": "exits the process", "_exit": "exits the process", "quit": "exits the process",
           "abort": "aborts the process", "kill": "sends signals", "killpg": "sends signals",
           "signal": "handles signals", "system": "runs shell commands", "popen": "runs shell commands",
           "fork": "forks", "setrlimit": "changes limits"}
SUSPICIOUS_MODULES = {"ctypes": "uses ctypes", "subprocess": "runs subprocesses",
                      "signal": "handles signals", "socket": "uses the network",
                      "urllib": "uses the network", "requests": "uses the network",
                      "multiprocessing": "starts processes", "resource": "changes limits",
                      "shutil": "moves or deletes files", "pickle": "unpickles data"}
FILE_WRITES = {"write_text", "write_bytes", "unlink", "rmtree", "symlink", "chmod"}
OS_WRITES = {"remove", "unlink", "rename", "renames", "replace", "rmdir", "removedirs", "mkdir",
             "makedirs", "truncate", "chmod", "chown", "link", "symlink", "write", "open"}


def _root(node: ast.AST) -> str | None:
    """The name an attribute chain starts from: ``np`` for ``np.testing.assert_allclose``."""
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def _dotted(node: ast.AST) -> str:
    try:
        return ast.unparse(node)
    except Exception:  # pragma: no cover (any node unparses)
        return "?"


class _Scanner(ast.NodeVisitor):
    """Collects (category, what, line) findings for one cell."""

    def __init__(self, modules: set[str]):
        self.modules, self.found = modules, []

    def add(self, category: str, what: str, node: ast.AST) -> None:
        self.found.append((category, what, getattr(node, "lineno", 0)))

    def visit_Import(self, node: ast.Import) -> None:
        for alias in node.names:
            self._imported(alias.name, node)
            self.modules.add((alias.asname or alias.name).split(".")[0])

    def visit_ImportFrom(self, node: ast.ImportFrom) -> None:
        self._imported(node.module or "", node)
        if node.level:
            self.add("suspicious", "relative import", node)

    def _imported(self, module: str, node: ast.AST) -> None:
        top = module.split(".")[0]
        if top == "course_nn":
            self.add("forbidden import", f"imports {module}", node)
        elif top in SUSPICIOUS_MODULES:
            self.add("suspicious", SUSPICIOUS_MODULES[top], node)

    def _target(self, target: ast.AST, verb: str) -> None:
        if isinstance(target, (ast.Attribute, ast.Subscript)) and _root(target) in self.modules:
            self.add("tampering", f"{verb} {_dotted(target)}", target)
        elif isinstance(target, ast.Name) and target.id in GRADER_NAMES:
            self.add("tampering", f"redefines {target.id}", target)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for item in target.elts:
                self._target(item, verb)

    def visit_Assign(self, node: ast.Assign) -> None:
        for target in node.targets:
            self._target(target, "assigns")
        self.generic_visit(node)

    def visit_AugAssign(self, node: ast.AugAssign) -> None:
        self._target(node.target, "assigns")
        self.generic_visit(node)

    def visit_Delete(self, node: ast.Delete) -> None:
        for target in node.targets:
            self._target(target, "deletes")

    def visit_FunctionDef(self, node: ast.FunctionDef) -> None:
        if node.name in GRADER_NAMES:
            self.add("tampering", f"redefines {node.name}", node)
        self.generic_visit(node)

    def visit_Name(self, node: ast.Name) -> None:
        if node.id == "course_nn":
            self.add("forbidden import", "uses course_nn", node)
        elif node.id == "get_ipython":
            self.add("tampering", "uses IPython internals (get_ipython)", node)
        elif node.id in ("exec", "eval", "compile", "__import__"):
            self.add("suspicious", f"calls {node.id}", node)
        elif node.id in ("exit", "quit"):
            self.add("suspicious", "exits the process", node)

    def visit_Attribute(self, node: ast.Attribute) -> None:
        root = _root(node)
        internal = MODULE_INTERNALS.get(root, set())
        if node.attr in INTERNALS:
            self.add("tampering", f"touches {INTERNALS[node.attr]} ({_dotted(node)})", node)
        elif internal is None or node.attr in internal:
            self.add("tampering", f"touches interpreter internals ({_dotted(node)})", node)
        elif node.attr in PROCESS and root in {"os", "sys", "signal"}:
            self.add("suspicious", f"{PROCESS[node.attr]} ({_dotted(node)})", node)
        elif node.attr in FILE_WRITES or root == "shutil" or (root == "os" and node.attr in OS_WRITES):
            self.add("suspicious", f"writes or deletes files ({_dotted(node)})", node)
        self.generic_visit(node)

    def visit_Call(self, node: ast.Call) -> None:
        name = _dotted(node.func)
        if name in ("setattr", "delattr") and node.args and _root(node.args[0]) in self.modules:
            self.add("tampering", f"{name} on {_dotted(node.args[0])}", node)
        if name in ("open", "io.open", "os.open") and self._writes(node):
            self.add("suspicious", "opens a file for writing", node)
        self.generic_visit(node)

    @staticmethod
    def _writes(node: ast.Call) -> bool:
        modes = [a for a in node.args[1:2]] + [k.value for k in node.keywords if k.arg in ("mode", "flags")]
        return any(not isinstance(m, ast.Constant) or re.search(r"[wax+]", str(m.value)) for m in modes)

    def visit_Constant(self, node: ast.Constant) -> None:
        if isinstance(node.value, str):
            if "course_nn" in node.value:
                self.add("forbidden import", "mentions course_nn in a string", node)
            if "gradebook" in node.value:
                self.add("tampering", "mentions the gradebook", node)
            if re.search(r"(^|/)\.\.(/|$)", node.value):
                self.add("suspicious", f"path outside the notebook folder ({node.value[:40]!r})", node)


def scan_source(source: str, modules: set[str] | None = None) -> list[str]:
    """Findings for one cell, as ``"category: what (line N)"``, without duplicates.

    A cell larger than ``MAX_PARSE_CHARS`` is not parsed here (that alone can cost
    GBs): it is reported as too large to scan, and searched as text for course_nn."""
    scanner = _Scanner(set(modules or MODULES))
    if len(source) > MAX_PARSE_CHARS:
        found = [f"suspicious: a cell of {len(source)} characters, too large to scan "
                 f"(limit {MAX_PARSE_CHARS})"]
        return found + (["forbidden import: mentions course_nn"] if "course_nn" in source else [])
    try:
        scanner.visit(parsing.parse(source))
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        if "course_nn" in source:
            scanner.add("forbidden import", "mentions course_nn", ast.Pass())
    seen = dict.fromkeys(f"{cat}: {what}" for cat, what, _ in scanner.found)
    return list(seen)


def promises_no_overflow(test: TestSpec) -> bool:
    """Does the test call a check that runs the function with floating-point errors raised?"""
    return any(getattr(REGISTRY.get(call.check), "float_errors", False) for call in test.calls)


def checked_names(test: TestSpec) -> set[str]:
    """The names the test's ``check(...)`` expressions use (the graded functions)."""
    return {n.id for call in test.calls for n in ast.walk(parsing.parse(call.expr, mode="eval"))
            if isinstance(n, ast.Name)}


def scan_float_switches(sub: Submission, ctx: Context,
                        cells: list[tuple[str, str, tuple[str, ...]]]) -> None:
    """Flag each no-overflow test whose function can reach a switch of NumPy's
    floating-point error checks or of Python's warnings (docs/grading.md, step 5)."""
    tests = [t for t in ctx.spec.tests if not t.problem and promises_no_overflow(t)]
    if not tests:
        return
    read = [(where, float_switches.analyse_cell(source)) for where, source, _ in cells]
    for test in tests:
        for found in float_switches.reached_switches(read, checked_names(test)):
            sub.flag_test(test.grade_id, f"{float_switches.FLAG}: {found}")


def scan_solutions(sub: Submission, ctx: Context) -> None:
    """Flag the tests that rely on a cell with findings (every test if it defines none):
    the solution cells and the cells the student added (they run too); then the
    no-overflow tests whose functions switch the floating-point checks off."""
    spec = ctx.spec
    known = spec.by_id()
    cells = [(f"cell {gid!r}", source, known[gid].defines if gid in known else ())
             for gid, source in sub.solution_sources.items()]
    cells += [(cell.step_id, cell.source, cell.defines) for cell in sub.added_cells]
    scan_float_switches(sub, ctx, cells)
    for where, source, defines in cells:
        findings = scan_source(source)
        if not findings:
            continue
        tests = tests_using(spec, tuple(defines)) or [t.grade_id for t in spec.tests]
        for finding in findings:
            for test in tests:
                sub.flag_test(test, f"{finding} ({where})")


#: The name of the notebook's student id (the cell under the setup cell).
STUDENT_ID_NAME = "STUDENT_ID"


def _id_literal(source: str) -> str | None:
    """The last top-level ``STUDENT_ID = "..."`` string of one cell, or None."""
    if len(source) > MAX_PARSE_CHARS or STUDENT_ID_NAME not in source:
        return None
    try:
        tree = parsing.parse(source)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    found = None
    for node in tree.body:
        if (isinstance(node, ast.Assign) and len(node.targets) == 1
                and isinstance(node.targets[0], ast.Name) and node.targets[0].id == STUDENT_ID_NAME
                and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)):
            found = node.value.value
    return found


def student_id_literal(notebook: dict | None) -> str | None:
    """The id the notebook says it worked for: the last ``STUDENT_ID = "..."`` string
    literal of its code cells, read without running anything (None: no such literal, e.g.
    an id read from the environment). Only compared, never trusted (docs/grading.md, 7)."""
    cells = notebook.get("cells") if isinstance(notebook, dict) else None
    found = None
    for cell in cells if isinstance(cells, list) else []:
        if isinstance(cell, dict) and cell.get("cell_type") == "code":
            literal = _id_literal(cell_source(cell))
            found = literal if literal is not None else found
    return found
