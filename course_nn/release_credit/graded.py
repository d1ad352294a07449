"""Which ``course_nn`` functions the released exercises grade (docs/releases.md).

Book: none (instructor tooling; not in the bundle).

An exercise grades a function when a test cell of its instructor notebook calls
``check("<name>", ...)``. The check's reference is then graded: directly when it
lives in ``course_nn`` (``course_nn.softmax.softmax``), or through a wrapper in
``course_nn.grading.checks`` (``mlp_forward_theta``), in which case every ``course_nn``
function the wrapper calls, and the ``course_nn`` function of the check's own name,
are graded too.
"""

from __future__ import annotations

import dis
import json
import re
import types
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from course_nn.grading import REGISTRY

CHECK_CALL = re.compile(r"""\bcheck\(\s*["']([A-Za-z_][A-Za-z0-9_]*)["']""")
GRADING = "course_nn.grading"


@dataclass(frozen=True)
class GradedFunction:
    """A ``course_nn`` function whose code answers an exercise."""

    module: str  # "course_nn.softmax"
    name: str  # "softmax"
    check: str  # the check that grades it
    exercise: str  # "ex04_softmax"


def released_checks(root: Path) -> dict[str, str]:
    """check name -> the exercise whose instructor notebook calls it in a test cell."""
    found: dict[str, str] = {}
    for notebook in sorted((root / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell.get("source", []))
            for name in CHECK_CALL.findall(source):
                found.setdefault(name, notebook.parent.name)
    return found


def global_functions(func: Callable[..., Any]) -> Iterator[Callable[..., Any]]:
    """The functions ``func``'s code (and its nested code, and closure) refers to by name."""
    func = getattr(func, "__func__", func)
    code = getattr(func, "__code__", None)
    if code is None:
        return
    scope = getattr(func, "__globals__", {})
    stack = [code]
    while stack:
        current = stack.pop()
        for ins in dis.get_instructions(current):
            if ins.opname in ("LOAD_GLOBAL", "LOAD_NAME") and isinstance(ins.argval, str):
                value = scope.get(ins.argval)
                if isinstance(value, types.FunctionType):
                    yield value
        stack += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    for cell in getattr(func, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, types.FunctionType):
            yield value


def _in_course(func: Callable[..., Any]) -> bool:
    module = getattr(func, "__module__", "") or ""
    return module.startswith("course_nn.") and not module.startswith(GRADING)


def _course_functions(reference: Callable[..., Any]) -> set[Callable[..., Any]]:
    """``reference`` if it is in ``course_nn``, else the course functions its wrapper calls."""
    if _in_course(reference):
        return {reference}
    found, seen, stack = set(), set(), [reference]
    while stack:
        func = stack.pop()
        if id(func) in seen:
            continue
        seen.add(id(func))
        for callee in global_functions(func):
            if _in_course(callee):
                found.add(callee)
            elif (getattr(callee, "__module__", "") or "").startswith(GRADING):
                stack.append(callee)
    return found


def _named(name: str, modules: list[types.ModuleType]) -> Iterator[Callable[..., Any]]:
    for module in modules:
        value = getattr(module, name, None)
        if isinstance(value, types.FunctionType) and value.__module__ == module.__name__:
            yield value


def graded_functions(root: Path) -> list[GradedFunction]:
    """Every ``course_nn`` function a released exercise grades, with that exercise."""
    import importlib
    import pkgutil

    import course_nn

    modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(
        course_nn.__path__, "course_nn.") if not m.name.startswith(GRADING)
        and ".release_credit" not in m.name and not m.name.endswith("student_release")]
    graded: dict[tuple[str, str], GradedFunction] = {}
    for name, exercise in released_checks(root).items():
        check = REGISTRY.get(name)
        if check is None:
            continue
        funcs = _course_functions(check.reference) | set(_named(name, modules))
        for func in funcs:
            key = (func.__module__, func.__name__)
            graded.setdefault(key, GradedFunction(*key, name, exercise))
    return sorted(graded.values(), key=lambda g: (g.module, g.name))


def check_module(name: str) -> str:
    """The ``course_nn.grading.checks.chNN`` module that registers check ``name``."""
    check = REGISTRY[name]
    return check.public_cases.__module__
