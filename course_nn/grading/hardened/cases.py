"""Step 7: draw the cases, compute the expected answers here, and pack the inputs.

Book: none (instructor tooling); docs/grading.md, "7. Cases".

Public cases are the fixed ones the student saw; hidden cases are drawn now with a
fresh seed per submission (reported, so a failure can be replayed with
``check(name, f, hidden=True, seed=...)``). The references are computed in this
process; the child receives only the inputs: arrays in an ``.npz`` (loaded with
``allow_pickle=False``) and plain numbers and strings in JSON. Draws that every
submission of a batch shares (the public cases; hidden cases under a fixed seed) are
computed once per batch (:func:`shared_draw`).

A by-hand item with numbers of one's own (``Check.variant_params``) is drawn for the
variant of the submission's student id (``Submission.student``, the folder's id; the
notebook's ``STUDENT_ID`` is never trusted), and its references are that variant's
answers. A notebook whose ``STUDENT_ID`` literal names an id of another variant is
flagged: it worked on the numbers of another student id.
"""

from __future__ import annotations

import copy
import secrets
from dataclasses import dataclass, replace
from typing import Any

import numpy as np

from course_nn.grading import get_check
from course_nn.grading.core import Case, Check, NoExpectedValues
from course_nn.grading.hardened.model import CallJob, Context, Submission, TestJob
from course_nn.grading.hardened.scan import student_id_literal
from course_nn.grading.variant import variant_number

#: The flag of a notebook that worked on another student id's numbers.
OTHER_VARIANT = "worked on the numbers of another student id"


@dataclass
class DrawnCall:
    """One check call of a test: its cases and the references computed in the parent."""

    check: Check
    hidden: bool
    seed: int | None
    cases: list[Case]
    expected: list[Any]
    problem: str | None = None  # the instructor's side failed (a bug to report)


class Packer:
    """Turns case arguments into JSON descriptions plus named arrays."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}

    def _store(self, value: np.ndarray) -> str:
        if value.dtype.kind not in "biufc":
            raise TypeError(f"an array of dtype {value.dtype} is not plain data")
        key = f"i{len(self.arrays)}"
        self.arrays[key] = np.array(value, order="C", copy=True)  # 0-d stays 0-d
        return key

    def pack(self, value: Any) -> dict[str, Any]:
        if isinstance(value, np.ndarray):
            return {"a": self._store(value)}
        if isinstance(value, np.generic):
            return {"s": self._store(np.asarray(value))}
        if value is None or isinstance(value, (bool, int, float, str)):
            return {"v": value}
        if isinstance(value, (tuple, list)):
            return {"t" if isinstance(value, tuple) else "l": [self.pack(v) for v in value]}
        if isinstance(value, dict) and all(isinstance(k, str) for k in value):
            return {"d": {k: self.pack(v) for k, v in value.items()}}
        raise TypeError(f"a {type(value).__name__} is not plain data")


def output_structure(obj: Any) -> Any:
    """``"leaf"`` for one array, else a list of the parts' structures: the same split as
    :func:`course_nn.grading.compare.flatten_output`, sent to the child so that it reads
    the student's output the way the reference's is built."""
    if isinstance(obj, FormOnly):  # its structure is not known here: every number
        return "flat"
    if isinstance(obj, (tuple, list)) and any(
        isinstance(item, (tuple, list, np.ndarray)) or hasattr(item, "__array__") for item in obj
    ):
        return [output_structure(item) for item in obj]
    return "leaf"


@dataclass(frozen=True)
class FormOnly:
    """Stands for the expected output of a by-hand item whose values this release does not
    hold (the for-credit bundle, :class:`.core.NoExpectedValues`): an answer of ``size``
    numbers has the form the task asks for; its values are graded on submission."""

    size: int


def _expected(check: Check, case: Case) -> Any:
    try:
        return check.expected(case)
    except NoExpectedValues as err:  # the for-credit release: the form only, as check() does
        return FormOnly(err.size)


def _draw(check_name: str, hidden: bool, seed: int | None, variant: int = 0) -> DrawnCall:
    check = get_check(check_name)
    cases = check.cases(hidden=hidden, seed=seed, variant=variant)
    expected = [_expected(check, case) for case in cases]
    return DrawnCall(check, hidden, seed if hidden else None, cases, expected)


def student_variant(check_name: str, student: str, ctx: Context) -> int:
    """The variant of ``student`` (the submission's id) for ``check_name``: 0 for a check
    without numbers of one's own, or when the class switch is off."""
    check = get_check(check_name)
    if check.variant_params is None:
        return 0
    return variant_number(check.variant_key, student, ctx.variants)


def flag_other_variant(sub: Submission, ctx: Context, grade_id: str, check_name: str,
                       variant: int) -> None:
    """Flag the test when the notebook's ``STUDENT_ID`` literal names an id whose variant
    of ``check_name`` is not ``variant`` (an empty or missing literal says nothing)."""
    typed = student_id_literal(sub.notebook)
    check = get_check(check_name)
    if not typed or not typed.strip() or check.variant_params is None:
        return
    if variant_number(check.variant_key, typed, ctx.variants) != variant:
        sub.flag_test(grade_id, f"{OTHER_VARIANT} (the notebook's STUDENT_ID is not this "
                                "submission's id; graded on this submission's numbers)")
        sub.flag(OTHER_VARIANT)


def shared_draw(ctx: Context, check_name: str, hidden: bool, seed: int | None,
                variant: int = 0) -> DrawnCall:
    """A draw every submission of the batch shares (public cases, or hidden ones under a
    fixed seed; by-hand items per variant): drawn and its references computed once; each
    submission gets its own copy of the cases and references."""
    key = (check_name, hidden, seed if hidden else None, variant)
    if key not in ctx.drawn:  # two threads may both compute it: same values, no harm
        ctx.drawn[key] = _draw(check_name, hidden, seed, variant)
    item = ctx.drawn[key]
    return replace(item, cases=copy.deepcopy(item.cases), expected=copy.deepcopy(item.expected))


def draw_cases(sub: Submission, ctx: Context) -> None:
    """Fill ``sub.cases`` (per test, per call), ``sub.job.tests`` and ``sub.inputs``."""
    seed = secrets.randbits(32) if ctx.seed is None else ctx.seed
    packer = Packer()
    for index, test in enumerate(ctx.spec.tests):
        drawn: list[DrawnCall | None] = []
        calls: list[CallJob] = []
        for call in test.calls:
            if call.hidden and not ctx.hidden:  # the self-check runs public cases only
                drawn.append(None)
                calls.append(CallJob())
                continue
            try:
                call_seed = call.seed if call.seed is not None else seed
                fresh = call.hidden and call.seed is None and ctx.seed is None
                variant = student_variant(call.check, sub.student, ctx)
                item = (_draw(call.check, call.hidden, call_seed, variant) if fresh
                        else shared_draw(ctx, call.check, call.hidden, call_seed, variant))
                flag_other_variant(sub, ctx, test.grade_id, call.check, variant)
                packed = [[packer.pack(arg) for arg in case.args] for case in item.cases]
                structures = [output_structure(e) for e in item.expected]
            except Exception as err:  # the reference or the generator failed
                item = DrawnCall(get_check(call.check), call.hidden, seed, [], [],
                                 f"cases of {call.check!r} could not be prepared "
                                 f"(instructor bug): {type(err).__name__}: {err}")
                packed, structures = [], []
            drawn.append(item)
            calls.append(CallJob(tuple(packed), tuple(structures),
                                 bool(getattr(item.check, "float_errors", False)),
                                 bool(getattr(item.check, "fresh_arrays", False))))
        sub.cases.append(drawn)
        sub.job.tests.append(TestJob(index, tuple(calls)))
    sub.inputs = packer.arrays
