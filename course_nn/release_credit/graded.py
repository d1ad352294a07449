"""Which ``course_nn`` functions the released exercises grade (docs/releases.md).

Book: none (instructor tooling; not in the bundle).

An exercise grades a function when a test cell of its instructor notebook calls
``check("<name>", ...)``. The check's reference is then graded: directly when it
lives in ``course_nn`` (``course_nn.softmax.softmax``), or through a wrapper in
``course_nn.grading.checks`` (``mlp_forward_theta``), in which case every ``course_nn``
function (or class: the layers of exercise 8) the wrapper calls, and the ``course_nn``
function of the check's own name, are graded too. Input validation
(:data:`NOT_ANSWERS`) is infrastructure, never an answer.
"""

from __future__ import annotations

import dataclasses
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
#: Course modules a wrapper may call that hold no answer (argument checks shared by
#: every function of the course): never stubbed.
NOT_ANSWERS = ("course_nn._validate",)


@dataclass(frozen=True)
class GradedFunction:
    """A ``course_nn`` function (or class) whose code answers an exercise."""

    module: str  # "course_nn.softmax"
    name: str  # "softmax"
    check: str  # the check that grades it (or whose answer it gives, for an equivalent)
    exercise: str  # "ex04_softmax"
    #: "graded": the check's reference; "equivalent": another function that gives the
    #: answer behind a rename or a line of glue (:data:`ANSWERS_UNDER_OTHER_NAMES`).
    kind: str = "graded"


#: Functions no check grades whose code is still a graded answer under another name:
#: renamed, behind one line of glue, or as the loop to adapt (issue 19). (module, name)
#: -> the check whose answer it gives. :mod:`.behaviour` finds such functions by what they
#: do (``tests/test_for_credit_release.py`` fails on one missing here); the build stubs
#: them like graded functions. A transform that gives nothing alone stays
#: (``bias_unit_form``, ``tuned_hyperparameters``): the function it feeds is stubbed.
ANSWERS_UNDER_OTHER_NAMES: dict[tuple[str, str], str] = {
    # exp(Z - logsumexp(Z)[:, None]) is softmax
    ("course_nn.softmax", "logsumexp"): "softmax",
    # exp(log_softmax(Z)) is softmax (no check grades log_softmax since 8 December 2026)
    ("course_nn.softmax", "log_softmax"): "softmax",
    # H(p, p) is the entropy; H(p, q) - H(p, p) is the KL divergence
    ("course_nn.losses", "cross_entropy_between"): "entropy",
    # mlp_forward_bias_unit(bias_unit_form(params), X, activation) is mlp_forward
    ("course_nn.mlp", "mlp_forward_bias_unit"): "mlp_forward",
    # the binning of expected_calibration_error (confidences nudged off the bin edges)
    ("course_nn.plotting.softmax", "calibration_bins"): "expected_calibration_error",
    # a torch model trained in place on the split: torch_train_and_predict
    ("course_nn.torch_twin", "fit_torch"): "torch_train_and_predict",
    # one sigmoid output unit, but its layer loop is layer_backward's and mlp_loss_and_grads'
    ("course_nn.backprop", "binary_backprop"): "mlp_loss_and_grads",
    # the forward and backward loops over the layers that exercise 8 asks for (its
    # __init__ is handed out; the class is stubbed whole, like the layers it runs)
    ("course_nn.layers", "Sequential"): "network_loss_and_grads",
}


#: Checks whose judge runs a course function that is an answer, so the bundle leaves it
#: out (:mod:`.on_submission`), and what the bundle's ``check()`` does when the judge gets
#: to it: ``"wrong"`` (only a wrong answer does: the case fails, without the numbers the
#: function would give) or ``"form"`` (the answer's form is checked; whether it passes is
#: graded when the student submits). Documented in docs/releases.md.
GRADED_ON_SUBMISSION: dict[str, str] = {
    "fit_temperature": "wrong",  # the loss and slope at a wrong T: temperature_nll
    "initial_loss_check": "form",  # the returned network's loss: mlp_forward
    "overfit_tiny_batch": "form",
    "tune_and_train": "form",  # the returned network's test accuracy: mlp_forward
}


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
    return (v for v in global_values(func) if isinstance(v, types.FunctionType))


def global_values(func: Callable[..., Any]) -> Iterator[Any]:
    """The functions and classes ``func``'s code (and its nested code, and closure) refers
    to by name."""
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
                if isinstance(value, (types.FunctionType, type)):
                    yield value
        stack += [c for c in current.co_consts if isinstance(c, types.CodeType)]
    for cell in getattr(func, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:
            continue
        if isinstance(value, (types.FunctionType, type)):
            yield value


def _in_course(func: Callable[..., Any]) -> bool:
    """A course function or class that can answer (a dataclass holds data: ``AdamState``)."""
    module = getattr(func, "__module__", "") or ""
    return (module.startswith("course_nn.") and not module.startswith(GRADING)
            and module not in NOT_ANSWERS
            and not (isinstance(func, type) and dataclasses.is_dataclass(func)))


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
        for callee in global_values(func):
            if _in_course(callee):
                found.add(callee)
            elif (isinstance(callee, types.FunctionType)
                  and (getattr(callee, "__module__", "") or "").startswith(GRADING)):
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


def equivalent_functions(root: Path) -> list[GradedFunction]:
    """The functions of :data:`ANSWERS_UNDER_OTHER_NAMES` whose check an exercise grades."""
    exercises = released_checks(root)
    return [GradedFunction(module, name, check, exercises[check], kind="equivalent")
            for (module, name), check in sorted(ANSWERS_UNDER_OTHER_NAMES.items())
            if check in exercises]


def functions_to_stub(root: Path) -> list[GradedFunction]:
    """Graded functions and their equivalents: every function the bundle holds as a stub."""
    graded = graded_functions(root)
    known = {(g.module, g.name) for g in graded}
    return graded + [e for e in equivalent_functions(root) if (e.module, e.name) not in known]
