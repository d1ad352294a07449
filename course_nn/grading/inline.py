"""``check(name, func)``: run a registered check on a student's function, in process.

This is what an exercise's test cell calls. It prints one line per passed check to
stdout and raises :class:`CheckFailure` (an ``AssertionError``) with a teaching
message on the first failing case. A stub's ``NotImplementedError`` is raised again
as "<name>: not implemented yet (not attempted)", so an untouched exercise reads
"not attempted", not "wrong".

In a notebook both exceptions render as their message alone (IPython's
``_render_traceback_``): no frames of ``course_nn``, while the cell still ends in an
error, so nbgrader and nbval see a failing test. When the student's function raises,
the message keeps the student's own frames and the likely cause of the exception
(:func:`course_nn.grading.compare.exception_hint`). See docs/inline_feedback.md.
"""

from __future__ import annotations

import contextlib
import copy
import re
import secrets
import sys
import textwrap
import traceback
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from course_nn.grading import float_switches
from course_nn.grading.compare import compare_outputs, exception_hint
from course_nn.grading.core import (
    FLOAT_ERRORS,
    VIEW_PROBLEM,
    Case,
    Check,
    NoExpectedValues,
    diagnose,
    flat_numbers,
    float_error_advice,
    get_check,
    shares_memory,
)
from course_nn.grading.messages import (
    NOT_ATTEMPTED,
    case_header,
    mutation_problem,
    render_failure,
)
from course_nn.grading.variant import notebook_variant

RED, BOLD, RESET = "\x1b[31m", "\x1b[1m", "\x1b[0m"


#: Lines of prose in a rendered message are wrapped at this width (nbgrader's Validate
#: cuts lines at ``Validator.width - 3``, set to 120 in nbgrader_config.py).
WRAP = 100


def _wrap(line: str) -> list[str]:
    """``line`` wrapped at :data:`WRAP`, continuation lines indented under its text."""
    if len(line) <= WRAP:
        return [line]
    label = re.match(r"\s*(?:[a-z ]+: )?", line)
    indent = " " * (label.end() if label and label.end() < WRAP // 2 else 4)
    return textwrap.wrap(line, WRAP, subsequent_indent=indent, break_on_hyphens=False)


def render_message(message: str) -> list[str]:
    """The lines a notebook shows for a failed check: the message, its first line in red.

    This is the whole traceback IPython prints for a check's exception (see
    :meth:`CheckFailure._render_traceback_`); frames of ``course_nn`` teach nothing.
    Long lines of prose are wrapped (see :data:`WRAP`); array lines are left as printed.
    """
    first, *rest = message.splitlines() or [""]
    lines = [line for text in rest for line in _wrap(text)]
    return [f"{RED}{BOLD}{first}{RESET}", *lines]


class CheckFailure(AssertionError):
    """A student's function gave a wrong answer; the message says which and why."""

    def _render_traceback_(self) -> list[str]:
        """IPython shows these lines instead of the traceback: the message only."""
        return render_message(str(self))


def not_implemented(name: str) -> NotImplementedError:
    """The exception for a stub: a ``NotImplementedError`` that renders as one line.

    It stays a plain ``NotImplementedError`` (nbgrader, nbval and the release test see
    the stub's error name); only its message and IPython rendering are the course's.
    """
    err = NotImplementedError(f"{name}: not implemented yet ({NOT_ATTEMPTED})")  # one short line
    err._render_traceback_ = lambda: render_message(str(err))  # type: ignore[attr-defined]
    return err


class _Raised:
    """What the student's function "returned" when it raised: printed as such."""

    def __repr__(self) -> str:
        return "no result: your function raised an exception (see the problem below)"


RAISED = _Raised()

#: Frames in these folders are not the student's: the course package, Python, NumPy.
_NOT_STUDENT = tuple(
    str(Path(p).resolve())
    for p in {Path(__file__).resolve().parents[1], sys.prefix, sys.base_prefix, sys.exec_prefix}
)


def _place(filename: str) -> str:
    """``Cell In[5]`` for a notebook cell (as IPython names it), else ``File "path"``."""
    try:
        from IPython import get_ipython

        shell = get_ipython()
        named = shell.compile.format_code_name(filename) if shell is not None else None
    except Exception:  # no IPython, or an IPython without cell names: the path will do
        named = None
    return " ".join(named) if named else f'File "{filename}"'


def student_frames(err: BaseException) -> list[str]:
    """The frames of ``err``'s traceback in the student's code, innermost last.

    Frames of ``course_nn`` (the check calling the function) and of Python's and
    NumPy's own files are dropped: the student can act only on their own lines.
    """
    lines = []
    for frame in traceback.extract_tb(err.__traceback__):
        try:
            path = str(Path(frame.filename).resolve())
        except (OSError, ValueError):
            path = frame.filename
        if path.startswith(_NOT_STUDENT) or frame.filename.startswith("<frozen"):
            continue
        lines.append(f"    {_place(frame.filename)}, line {frame.lineno}, in {frame.name}")
        if frame.line:
            lines.append(f"      {frame.line.strip()}")
    return lines


def exception_problem(err: Exception) -> str:
    """``raised <Type>: <message>``, the student's frames, and the likely bug if known."""
    kind, text = type(err).__name__, str(err)
    problem = f"raised {kind}: {text}"
    frames = student_frames(err)
    if frames:
        problem += "\n  in your code:\n" + "\n".join(frames)
    advice = exception_hint(kind, text)
    return f"{problem}\n  likely bug: {advice}" if advice else problem


def _call_student(func: Callable[..., Any], case: Case, float_errors: bool = False,
                  fresh_arrays: bool = False,
                  arg_names: tuple[str, ...] = ()) -> tuple[Any, str | None, bool]:
    """Call ``func`` on copies of the inputs; return (output, problem or None, views).

    With ``float_errors`` NumPy's overflow, invalid and divide errors are raised while
    ``func`` runs, and a ``FloatingPointError`` becomes the problem. With
    ``fresh_arrays``, ``views`` says whether the output shares memory with an input; it
    is a problem only once the values are right (the values are the first lesson).
    """
    args = copy.deepcopy(case.args)
    strict = np.errstate(**FLOAT_ERRORS) if float_errors else contextlib.nullcontext()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            with strict:
                got = func(*args)  # NotImplementedError and friends propagate to the caller
                state = np.geterr() if float_errors else {}  # still the grader's setting?
        except FloatingPointError as err:
            if not float_errors:
                raise
            return RAISED, float_error_advice(str(err)), False
    switched = float_switches.leaked(state, FLOAT_ERRORS) if float_errors else []
    if switched:  # np.seterr inside the function outlives the call
        return got, (f"{float_switches.MESSAGE} (after the call NumPy's setting was "
                     f"{', '.join(switched)})"), False
    changed = [i for i, (original, passed) in enumerate(zip(case.args, args, strict=True))
               if not isinstance(original, str)  # an activation's name: immutable
               and compare_outputs(original, passed, rtol=0, atol=0) is not None]
    if changed:
        return got, mutation_problem(arg_names, changed), False
    if caught:
        print(f"  note: your function warned: {caught[0].category.__name__}: {caught[0].message}")
    return got, None, fresh_arrays and shares_memory(got, args)


def refuse_float_switches(name: str, func: Callable[..., Any]) -> None:
    """Raise :class:`CheckFailure` when ``func``, checked for no overflow, can reach code
    that switches NumPy's floating-point error checks (or Python's warnings) off.

    Reads the cell ``func`` was defined in and the notebook functions it calls
    (:func:`course_nn.grading.float_switches.function_switches`); when that source
    cannot be read, only the runtime check of ``_call_student`` applies."""
    try:
        found = float_switches.function_switches(func)
    except Exception:  # reading is a courtesy: the runtime check still applies
        found = None
    if found:
        raise CheckFailure(f"{name}: held for review, not checked\n  problem: "
                           f"{float_switches.MESSAGE}\n  in your code: {'; '.join(found[:3])}")


def student_variant(spec: Check, student_id: str | None = None) -> int:
    """The variant a by-hand item with numbers of one's own is checked on in the notebook:
    that of ``student_id``, by default the notebook's ``STUDENT_ID`` (or the JupyterHub
    user); 0 for every other check (docs/exercise_items.md, "Numbers of one's own")."""
    if spec.variant_params is None:
        return 0
    return notebook_variant(spec.variant_key, student_id)


def check_form_only(name: str, func: Callable[..., Any], size: int) -> None:
    """A by-hand answer where no expected values are at hand (the for-credit release):
    only its form, ``size`` numbers, is checked; its values are graded on submission."""
    try:
        got = func()
    except NotImplementedError:
        raise not_implemented(name) from None
    except Exception as err:  # the student's code failed: say where
        raise CheckFailure(f"{name}: failed\n  problem: {exception_problem(err)}") from None
    try:
        count = flat_numbers(got).size
    except (TypeError, ValueError):
        raise CheckFailure(f"{name}: failed\n  problem: returned something that is not "
                           "numbers") from None
    if count != size:
        raise CheckFailure(f"{name}: failed\n  problem: returned {count} number(s); the task "
                           f"asks for {size}")
    print(f"\u2713 {name}: {size} numbers, the form the task asks for; their values are "
          "graded when you submit")


def check(name: str, func: Callable[..., Any], hidden: bool = False, seed: int | None = None,
          student_id: str | None = None) -> None:
    """Compare ``func`` with the reference on the public (or hidden) cases of check ``name``.

    Parameters
    ----------
    name : the registered check, the function's name in the exercise.
    func : the student's function.
    hidden : use random cases drawn now (the grader's hidden tests) instead of the
        fixed public ones.
    seed : fixes the hidden cases (printed on failure, so a failure can be replayed).
    student_id : for a by-hand item with numbers of one's own, whose numbers to check
        (default: the notebook's ``STUDENT_ID``, else the JupyterHub user).

    Raises
    ------
    CheckFailure
        On the first case whose output is wrong, with the input, expected vs got,
        and the likely bug.
    """
    spec = get_check(name)
    if not callable(func):
        raise CheckFailure(f"{name}: expected a function, got {type(func).__name__}")
    if spec.float_errors:
        refuse_float_switches(name, func)
    if hidden and seed is None:
        seed = secrets.randbits(32)
    cases = spec.cases(hidden=hidden, seed=seed, variant=student_variant(spec, student_id))
    kind = "hidden" if hidden else "public"
    for number, case in enumerate(cases, start=1):
        try:
            expected = spec.expected(case)
        except NoExpectedValues as err:  # the for-credit release: the form only
            check_form_only(name, func, err.size)
            return
        try:
            got, problem, views = _call_student(func, case, spec.float_errors, spec.fresh_arrays,
                                                spec.arg_names)
        except NotImplementedError:
            raise not_implemented(name) from None
        except Exception as err:  # the student's code failed: say where and on what
            got, problem, views = RAISED, exception_problem(err), False
            raised = type(err).__name__
        else:  # RAISED here: a FloatingPointError under the check's float_errors
            raised = "FloatingPointError" if got is RAISED else None
        if problem is None:
            problem = diagnose(spec, case, expected, got)
        if problem is None and views:
            problem = VIEW_PROBLEM
        if problem is not None:  # one renderer for both grading paths, policy by kind
            head = case_header(spec, case, number, len(cases), hidden, seed)
            raise CheckFailure(render_failure(spec, case, head, expected, got, problem,
                                              raised)) from None
    print(f"\u2713 {name}: {len(cases)} {kind} case(s) passed")
