"""The check registry: one registered :class:`Check` per graded function.

A check knows how to make public cases (small, fixed, printed on failure), how to
make hidden cases (random, drawn at grading time, plus edge cases), the reference
function, and how to explain a mismatch. Both grading paths use it:

* in a notebook, :func:`course_nn.grading.check` calls the student's function and the
  reference in one process (nbgrader's standard path, and the student's feedback);
* the hardened grader (``course-nn grade``) sends only the case *inputs* to a
  sandboxed child that runs the student's code, gets numbers back, and compares them
  here with references it computed itself.

So a case must be plain data: positional arguments that are arrays, numbers or
strings. Hidden cases need no secrecy: knowing the generator does not help
without a correct implementation.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Case:
    """One call of a graded function: ``func(*args)``, with a short label for messages.

    ``probe`` is data the judge uses but the student's function never receives: the
    points at which a returned structure (a network's weights) is evaluated. It stays
    in the grading process; only ``args`` reach the hardened grader's child.
    """

    args: tuple[Any, ...]
    label: str = ""
    probe: Any = None


#: The kinds of item (docs/exercise_items.md): what the student does, and so what the
#: feedback may show (:mod:`course_nn.grading.messages`).
KINDS = ("implement", "by_hand", "structure", "debugging", "transfer")

#: ``hint(case, expected, got) -> str | None``: names the likely bug for a mismatch.
Hint = Callable[[Case, Any, Any], "str | None"]


@dataclass(frozen=True)
class Check:
    """How one graded function is checked.

    Attributes
    ----------
    name : the function's name in the exercise (and the check's key).
    reference : the course_nn function the student's output is compared with.
    public_cases : ``() -> list[Case]``; fixed, small, shown in full on failure.
    hidden_cases : ``(rng) -> list[Case]``; random shapes and values plus edge cases.
    arg_names : names used when printing a case's inputs.
    hints : diagnoses tried in order on a mismatch; the first that answers is shown.
    rtol, atol : tolerance of the comparison (float64 code agrees far closer).
    judge : replaces the comparison with the reference when given (see below).
    float_errors : call the student's function with NumPy's floating-point errors
        raised (``np.errstate(over=, invalid=, divide="raise")``), for a task that
        promises a result "without overflow": a ``FloatingPointError`` fails the case
        with :func:`float_error_advice`, in the notebook and in the hardened grader
        (docs/exercise_items.md, "Stability is graded where the task promises it").
    fresh_arrays : the task promises that the returned arrays are new: one that shares
        memory with an input array fails the case (:func:`shares_memory`,
        :data:`VIEW_PROBLEM`; docs/exercise_items.md, "New arrays where the task
        promises them").
    kind : what the item asks of the student, one of :data:`KINDS`; it chooses the
        feedback policy of :func:`course_nn.grading.messages.render_failure`
        (docs/exercise_items.md, "Feedback policy per kind of item").
    parts : the names of the output's parts as the task names them, for the labelled
        lines of a tuple output (``("W", "b", "losses")``; a name with ``{l}`` repeats per
        layer, ``("loss", "dW{l}", "db{l}")``). For a by-hand item, one name per number
        (``("J", "dJ/dW1", "dJ/dW2", "dJ/db")``): the feedback names the quantity that is off.
    given : for a debugging item, the function handed out with its planted bug
        (:func:`given_function`): an answer that behaves like it on a case is told so
        and nothing more.
    variant_params : for a by-hand item whose numbers are the student's own,
        ``params(variant) -> dict`` (:mod:`course_nn.grading.by_hand_numbers`); its cases
        carry the variant's parameters in ``Case.probe`` and ``reference(**params)``
        gives the answers (docs/exercise_items.md, "Numbers of one's own").
    variant_key : the assignment whose variant the item uses (the hash's key).
    """

    name: str
    reference: Callable[..., Any]
    public_cases: Callable[[], Sequence[Case]]
    hidden_cases: Callable[[np.random.Generator], Sequence[Case]]
    arg_names: tuple[str, ...]
    hints: tuple[Hint, ...] = field(default=())
    rtol: float = 1e-6
    atol: float = 1e-8
    #: Optional ``judge(case, expected, got) -> str | None`` replacing the element-wise
    #: comparison, for answers that are right in more than one way (a trained model is
    #: judged by its accuracy on held-out data, not by equality with the reference's).
    judge: Callable[[Case, Any, Any], str | None] | None = None
    #: Raise NumPy floating-point errors while the student's function runs (see above).
    float_errors: bool = False
    #: The task promises new arrays: an answer sharing memory with an input (a view of
    #: it) fails the case with :data:`VIEW_PROBLEM`, in both grading paths.
    fresh_arrays: bool = False
    #: What the item asks of the student (:data:`KINDS`): chooses the feedback policy.
    kind: str = "implement"
    #: Names of the output's parts (one per number for a by-hand item), see above.
    parts: tuple[str, ...] = ()
    #: The given function of a debugging item (with its planted bug), see above.
    given: Callable[..., Any] | None = None
    #: ``params(variant) -> dict`` of a by-hand item with numbers of one's own, see above.
    variant_params: Callable[[int], dict[str, Any]] | None = None
    #: The assignment whose variant the item uses, see above.
    variant_key: str = ""

    def cases(self, hidden: bool, seed: int | None = None, variant: int = 0) -> list[Case]:
        """The public cases, or hidden cases drawn with ``seed``; for an item with
        ``variant_params``, each carries the parameters of ``variant`` in its probe."""
        drawn = (list(self.public_cases()) if not hidden
                 else list(self.hidden_cases(np.random.default_rng(seed))))
        if self.variant_params is None:
            return drawn
        params = self.variant_params(variant)
        return [replace(case, probe=copy.deepcopy(params)) for case in drawn]

    def expected(self, case: Case) -> Any:
        """The reference's answer for ``case``: ``reference(*args)``, or for an item with
        ``variant_params`` ``reference(**params)`` with the case's parameters."""
        if self.variant_params is None:
            return self.reference(*copy.deepcopy(case.args))
        params = case.probe if case.probe is not None else self.variant_params(0)
        return self.reference(**copy.deepcopy(params))


class NoExpectedValues(LookupError):
    """Raised by a reference that holds no expected values (the for-credit bundle's by-hand
    items with numbers of one's own): only the form of an answer can be checked, here
    ``size`` numbers (docs/releases.md)."""

    def __init__(self, name: str, size: int):
        super().__init__(f"{name}: graded when you submit (your numbers are your own; this "
                         "release holds no expected values)")
        self.name, self.size = name, size


#: The problem shown when an answer of a ``fresh_arrays`` check is a view of an input.
VIEW_PROBLEM = ("the arrays it returned share memory with an input (views of it, not new "
                "arrays): changing one of them would change that input")


def array_leaves(obj: Any, depth: int = 8) -> list[np.ndarray]:
    """The NumPy arrays in ``obj`` (nested tuples, lists and dicts), at most ``depth`` deep."""
    if isinstance(obj, np.ndarray):
        return [obj]
    if depth <= 0:
        return []
    parts = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (tuple, list)) else ()
    return [leaf for part in parts for leaf in array_leaves(part, depth - 1)]


def shares_memory(got: Any, args: Sequence[Any]) -> bool:
    """Does an array of the answer ``got`` share memory with an array among ``args``?

    ``np.may_share_memory`` compares memory bounds: an input is a fresh array, so an
    answer inside its bounds is a view of its buffer, and writing to it writes to the
    input."""
    inputs = array_leaves(list(args))
    return any(np.may_share_memory(out, arg) for out in array_leaves(got) for arg in inputs)


#: The ``np.errstate`` a check with ``float_errors=True`` runs the student's code under.
FLOAT_ERRORS = {"over": "raise", "invalid": "raise", "divide": "raise"}


def float_error_advice(message: str) -> str:
    """The diagnosis for a ``FloatingPointError`` raised under :data:`FLOAT_ERRORS`.

    It names the symptom and the concept, never the code: ``message`` is NumPy's own
    (e.g. "overflow encountered in exp").
    """
    return (f"raised FloatingPointError: {message}\n  likely bug: an intermediate value "
            "overflows (or is divided by zero) for inputs of large magnitude, even if the "
            "final result looks finite; the task asks for a computation without overflow, "
            "so no step may leave the floating-point range")


def diagnose(check: Check, case: Case, expected: Any, got: Any) -> str | None:
    """``None`` if ``got`` is right for ``case``; else the problem plus the likely bug.

    Used by both grading paths: the in-notebook ``check`` and the hardened grader's
    judge, which must not depend on the in-notebook module."""
    from course_nn.grading.compare import compare_outputs

    if check.judge is not None:
        problem = check.judge(case, expected, got)
    else:  # a debugging item's partial repair hears the symptom, never a likely cause
        problem = compare_outputs(expected, got, rtol=check.rtol, atol=check.atol,
                                  names=tuple(part_names(check, expected)),
                                  causes=check.kind != "debugging")
    if problem is None:
        return None
    for hint in check.hints:
        try:
            advice = hint(case, expected, got)
        except Exception:  # a hint must never hide the failure it explains
            advice = None
        if advice:
            return f"{problem}\n  likely bug: {advice}"
    return problem


def describe_case(check: Check, case: Case) -> str:
    """The case's inputs, one per line, named as in the exercise (or that there are none)."""
    from course_nn.grading.compare import format_array

    if not case.args:  # a by-hand answer or a structure: the function takes no arguments
        return "    none (this function takes no arguments)"
    names = check.arg_names or tuple(f"arg{i}" for i in range(len(case.args)))
    return "\n".join(
        f"    {n} = {format_array(a, indent=7 + len(n))}"
        for n, a in zip(names, case.args, strict=False)
    )


def flat_numbers(obj: Any) -> np.ndarray:
    """Every number of ``obj`` (nested tuples and lists of numbers and arrays), in order.

    ``None`` parts or text make it raise ``TypeError``/``ValueError``.
    """
    if isinstance(obj, (tuple, list)):
        parts = [flat_numbers(item) for item in obj]
        return np.concatenate(parts) if parts else np.zeros(0)
    if hasattr(obj, "detach"):
        obj = obj.detach().cpu().numpy()
    arr = np.asarray(obj, dtype=np.float64)
    return arr.ravel()


def numbers_judge(atol: float, names: Sequence[str] = ()) -> Callable[[Case, Any, Any], str | None]:
    """A judge for answers typed by hand: the same numbers in the same order, each within
    ``atol``, however they are grouped (a list of floats or an array, a tuple or a list).

    A mismatch names each number that is off by its name in the task (``names``, one per
    number) and which way it is off, never the expected value (docs/exercise_items.md,
    "Feedback policy per kind of item")."""

    def judge(case: Case, expected: Any, got: Any) -> str | None:
        want = flat_numbers(expected)
        try:
            have = flat_numbers(got)
        except (TypeError, ValueError):
            return "returned something that is not numbers"
        if have.size != want.size:
            return f"returned {have.size} number(s); the task asks for {want.size}"
        off = ~(np.abs(have - want) <= atol)
        if not off.any():
            return None
        labels = list(names) if len(names) == want.size else [
            f"number {i + 1}" for i in range(want.size)]
        wrong = [f"{labels[i]} {which_way(float(have[i]), float(want[i]), atol)}"
                 for i in np.flatnonzero(off)]
        rest = "; the other numbers are right" if not off.all() else ""
        return ", ".join(wrong) + rest

    return judge


def which_way(have: float, want: float, atol: float) -> str:
    """How a typed number is off, without the right value: its sign, or too large or small."""
    if not np.isfinite(have):
        return "is not a finite number"
    if abs(want) > atol and abs(have + want) <= atol:
        return "has the wrong sign"
    return "is too large" if have > want else "is too small"


def part_names(check: Check, value: Any) -> list[str]:
    """Names of ``value``'s parts (its flattened leaves) from ``check.parts``.

    A name with ``{l}`` repeats per layer (``"dW{l}"`` -> dW1, dW2, ...) after the fixed
    names; when the names do not fit the parts they are called "part 1", "part 2", ..."""
    from course_nn.grading.compare import flatten_output

    count = len(flatten_output(value))
    fixed = [n for n in check.parts if "{l}" not in n]
    repeated = [n for n in check.parts if "{l}" in n]
    if repeated and count > len(fixed) and (count - len(fixed)) % len(repeated) == 0:
        layers = (count - len(fixed)) // len(repeated)
        return fixed + [n.format(l=layer) for layer in range(1, layers + 1) for n in repeated]
    if len(check.parts) == count and not repeated and count > 1:
        return list(check.parts)
    return [f"part {i + 1}" for i in range(count)]


def given_function(source: str, **names: Any) -> Callable[..., Any]:
    """The function defined by ``source`` (a debugging item's given code, ours, not a
    student's), run with NumPy as ``np`` and ``names`` (e.g. the sigmoid it calls)."""
    namespace: dict[str, Any] = {"np": np, **names}
    exec(compile(source, "<given function>", "exec"), namespace)  # noqa: S102 (our own code)
    defined = [v for k, v in namespace.items() if callable(v) and k not in names and k != "np"
               and getattr(v, "__code__", None) is not None]
    if len(defined) != 1:
        raise ValueError(f"the given code defines {len(defined)} functions, expected one")
    return defined[0]


REGISTRY: dict[str, Check] = {}


def register(check: Check) -> Check:
    """Add ``check`` to the registry under its name (names are unique; the kind is one of
    :data:`KINDS`, and a debugging item brings its given function)."""
    if check.name in REGISTRY:
        raise ValueError(f"a check named {check.name!r} is already registered")
    if check.kind not in KINDS:
        raise ValueError(f"{check.name}: unknown kind {check.kind!r}; known kinds: {KINDS}")
    if check.kind == "debugging" and check.given is None:
        raise ValueError(f"{check.name}: a debugging item needs its given function")
    REGISTRY[check.name] = check
    return check


def get_check(name: str) -> Check:
    """The registered check called ``name``; ``KeyError`` lists the known names."""
    try:
        return REGISTRY[name]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise KeyError(f"no check named {name!r}; known checks: {known}") from None
