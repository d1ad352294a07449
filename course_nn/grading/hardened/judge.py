"""Step 10: compare the child's numbers with the references and give each test one status.

Book: none (instructor tooling); docs/grading.md, "10. Judge".

Each answer is converted with ``np.asarray(..., dtype=float)`` (booleans stay
booleans: a check may refuse truth values where it asks for numbers) and compared by
:func:`course_nn.grading.core.diagnose` (shape, finiteness, tolerance, then the check's
hints), so a failure reads exactly like the notebook's ``check``. A test passes only
when every case of every check call passes. Flags never hide a score: a passing test
with flags becomes ``flagged`` with its points; a failing one keeps its status and
shows the flags in its message.

A plain test cell (no ``check(...)`` call) is judged the nbgrader way: it passes when
its source raised nothing; an ``AssertionError`` is ``failed`` and any other exception
``error``, with the exception's message and the public line that raised (a line inside a
hidden test block is never shown). An untouched stub (``NotImplementedError``) reads
"not attempted" in both kinds of test (status ``error``, no points).
"""

from __future__ import annotations

import ast
import warnings
from typing import Any

import numpy as np

from course_nn.grading import float_switches
from course_nn.grading.compare import exception_hint
from course_nn.grading.core import (
    FLOAT_ERRORS,
    VIEW_PROBLEM,
    describe_case,
    diagnose,
    flat_numbers,
    float_error_advice,
)
from course_nn.grading.hardened import parsing
from course_nn.grading.hardened.assignment import HIDDEN_BEGIN, HIDDEN_END
from course_nn.grading.hardened.cases import DrawnCall, FormOnly
from course_nn.grading.hardened.model import (
    CRASHED,
    ERROR,
    FAILED,
    FLAGGED,
    PASSED,
    UNGRADABLE,
    AssignmentSpec,
    Context,
    Submission,
    TestCellStep,
    TestResult,
    TestSpec,
)
from course_nn.grading.hardened.results import Unreadable
from course_nn.grading.hardened.text import clean
from course_nn.grading.messages import (
    behaves_like_given,
    given_behaviour,
    mutation_problem,
    not_attempted,
    render_failure,
)

LINE_LIMIT = 200  # characters of a test cell's line quoted in a message
ANSWER_NUMBERS = 12  # numbers of a by-hand answer kept for the class report
ANSWER_LIMIT = 200  # characters of that answer


class Verdict(Exception):
    """Raised while judging a test: its (status, message), and the likely bug the check's
    hints named (``diagnosis``, "" if none), which the class report counts."""

    def __init__(self, status: str, message: str, diagnosis: str = "", answer: str = ""):
        super().__init__(message)
        self.status, self.message, self.diagnosis = status, message, diagnosis
        self.answer = answer  # a by-hand item's wrong numbers (:func:`answer_text`)


def answer_text(got: Any) -> str:
    """A by-hand answer as short text for the class report: its numbers in order, each
    to 4 significant digits (``-0.25, 1.5``), at most :data:`ANSWER_NUMBERS` of them and
    :data:`ANSWER_LIMIT` characters; "" when it holds anything but numbers."""
    try:
        numbers = flat_numbers(got)
    except (TypeError, ValueError):
        return ""
    text = ", ".join(f"{float(v):.4g}" for v in numbers[:ANSWER_NUMBERS])
    if numbers.size > ANSWER_NUMBERS:
        text += f", ... ({numbers.size} numbers)"
    return clean(text, ANSWER_LIMIT)


def _cause_of_missing(sub: Submission, spec: AssignmentSpec, expr: str, err: dict) -> Verdict:
    """Why a checked function is not there: its cell timed out, crashed, raised, or is gone."""
    names = {n.id for n in ast.walk(parsing.parse(expr, mode="eval")) if isinstance(n, ast.Name)}
    defines = {cid: c.defines for cid, c in spec.by_id().items()}
    defines |= {c.step_id: c.defines for c in sub.added_cells}
    for index, step in enumerate(sub.job.steps):
        if step.kind != "cell" or not names & set(defines.get(step.id, ())):
            continue
        if index in sub.run.step_failures:
            status, detail = sub.run.step_failures[index]
            return Verdict(status, f"the cell {step.id!r} did not finish: {detail}")
        if str(index) in sub.cell_errors:
            e = sub.cell_errors[str(index)]
            return Verdict(ERROR, f"the cell {step.id!r} raised {e.get('type')}: "
                                  f"{e.get('message')} ({e.get('where')}), so {expr} is not defined")
    missing = [c.grade_id for c in spec.cells if c.role == "solution" and names & set(c.defines)
               and c.grade_id not in sub.solution_sources]
    if missing:
        return Verdict(ERROR, f"{expr} is not defined: its solution cell {missing[0]!r} is missing")
    return Verdict(ERROR, f"{expr} is not available: {err.get('type')}: {err.get('message')}")


def _header(call: DrawnCall, number: int) -> str:
    kind = "hidden" if call.hidden else "public"
    case = call.cases[number]
    label = f" ({case.label})" if case.label else ""
    replay = f" [seed {call.seed}]" if call.hidden else ""
    return f"{call.check.name}: {kind} case {number + 1} of {len(call.cases)}{label}{replay}"


def _answer(record: dict, arrays: dict[str, np.ndarray]) -> Any:
    """The student's output rebuilt from numbers: one array, or a list of them."""
    leaves = []
    for index, leaf in enumerate(record.get("leaves", [])):
        if "type" in leaf:
            part = f"output {index}: " if len(record["leaves"]) > 1 else ""
            raise Verdict(FAILED, f"{part}returned a {leaf['type']}, expected numbers")
        if leaf.get("key") not in arrays:
            raise Verdict(CRASHED, "an answer is missing from the child's output")
        with warnings.catch_warnings():
            warnings.simplefilter("error", np.exceptions.ComplexWarning)
            try:
                value = arrays[leaf["key"]]  # booleans stay booleans, as check() sees them
                leaves.append(value if value.dtype == np.bool_ else np.asarray(value, dtype=float))
            except (np.exceptions.ComplexWarning, TypeError, ValueError):
                raise Verdict(FAILED, "returned complex numbers, expected real ones") from None
    if not leaves:
        raise Verdict(CRASHED, "the child returned no values")
    return leaves[0] if len(leaves) == 1 else leaves


def _judge_case(call: DrawnCall, number: int, record: Any, arrays: dict) -> str | None:
    """Raise a Verdict for a wrong case; return a warning note (or None) for a right one."""
    if not isinstance(record, dict):
        raise Verdict(CRASHED, "the child's answer record is damaged")
    case, head = call.cases[number], _header(call, number)
    inputs = f"\n  input:\n{describe_case(call.check, case)}"
    if "exception" in record:
        err = record["exception"] if isinstance(record["exception"], dict) else {}
        if err.get("type") == "NotImplementedError":
            raise Verdict(ERROR, not_attempted(call.check.name))
        if behaves_like_given(call.check, case, None, str(err.get("type"))):
            raise Verdict(FAILED, given_behaviour(head))  # the given code raises here too
        if err.get("type") == "FloatingPointError":  # the check promises no overflow
            raise Verdict(FAILED, f"{head} failed{inputs}\n  problem: "
                                  f"{float_error_advice(str(err.get('message')))}",
                          diagnosis=float_error_advice("").partition("likely bug: ")[2])
        advice = exception_hint(str(err.get("type")), str(err.get("message")))
        raise Verdict(ERROR, f"{head} raised {err.get('type')}: {err.get('message')} "
                             f"({err.get('where')}){inputs}"
                             + (f"\n  likely bug: {advice}" if advice else ""),
                      diagnosis=advice or "")
    if record.get("mutated"):
        changed = record["mutated"] if isinstance(record["mutated"], list) else []
        changed = [i for i in changed if isinstance(i, int)]
        raise Verdict(FAILED, f"{head} failed{inputs}\n  problem: "
                              f"{mutation_problem(call.check.arg_names, changed)}")
    try:
        got = _answer(record, arrays)
    except Verdict as verdict:
        raise Verdict(verdict.status, f"{head} failed{inputs}\n  problem: {verdict.message}") from None
    if isinstance(call.expected[number], FormOnly):  # values graded on submission
        return _form_only(call, head, got, call.expected[number].size)
    problem = diagnose(call.check, case, call.expected[number], got)
    if problem is None and record.get("shares_input") and call.check.fresh_arrays:
        problem = VIEW_PROBLEM  # right values, but views of an input the task said to keep
    if problem is not None:  # one renderer for both grading paths, policy by kind
        raise Verdict(FAILED, render_failure(call.check, case, head, call.expected[number],
                                             got, problem),  # diagnose() appends the hint:
                      diagnosis=problem.partition("\n  likely bug: ")[2],
                      answer=answer_text(got) if call.check.kind == "by_hand" else "")
    notes = [f"note: your function warned: {record['warning']}"] if record.get("warning") else []
    if record.get("note"):
        notes.append(f"note: {call.check.name} {record['note']}")
    return "\n".join(notes) or None


def _form_only(call: DrawnCall, head: str, got: Any, size: int) -> str:
    """A by-hand answer this release can only check for its form (``size`` numbers), as
    the notebook's ``check()`` does there; returns the note a passed test carries."""
    try:
        count = flat_numbers(got).size
    except (TypeError, ValueError):
        raise Verdict(FAILED, f"{head} failed\n  problem: returned something that is not "
                              "numbers") from None
    if count != size:
        raise Verdict(FAILED, f"{head} failed\n  problem: returned {count} number(s); the "
                              f"task asks for {size}")
    return (f"note: {call.check.name}: {size} numbers, the form the task asks for; their "
            "values are graded when you submit")


def _flag_leaked_switch(sub: Submission, test: TestSpec, answer: Any) -> None:
    """Flag a no-overflow test whose function left NumPy's error checks switched off (the
    child compares ``np.geterr()`` after the call with the grader's setting)."""
    changed = answer.get("float_switch") if isinstance(answer, dict) else None
    if isinstance(changed, list) and changed:
        names = [k for k in FLOAT_ERRORS if k in changed] or ["the error state"]
        sub.flag_test(test.grade_id, f"{float_switches.FLAG}: the function changed NumPy's "
                                     f"floating-point error setting ({', '.join(names)}) and "
                                     "left it changed")


def in_hidden_block(source: str, line: int) -> bool:
    """Is line ``line`` (from 1) of a test cell's source inside a hidden test block?"""
    hidden = False
    for number, text in enumerate(source.splitlines(), start=1):
        if text.strip() in (HIDDEN_BEGIN, HIDDEN_END):
            hidden = text.strip() == HIDDEN_BEGIN
        if number == line:
            return hidden or text.strip() in (HIDDEN_BEGIN, HIDDEN_END)
    return False


def _where_in_test(source: str, line: object) -> str:
    """Which line of the test cell raised, as the student may read it: the public line's
    text, "a hidden test", or "" when no line of the test cell is known."""
    if not isinstance(line, int) or isinstance(line, bool) or line < 1:
        return ""
    if in_hidden_block(source, line):
        return " in a hidden test"
    lines = source.splitlines()
    text = lines[line - 1].strip()[:LINE_LIMIT] if line <= len(lines) else ""
    return f" on line {line}" + (f": {text}" if text else "")


def _earlier_failures(sub: Submission, step: int) -> str:
    """A note naming the first instructor or solution cell before ``step`` that raised or
    did not finish (a plain test often fails only because of it), "" if none."""
    for index, item in enumerate(sub.job.steps[:step]):
        if item.kind != "cell":
            continue
        if index in sub.run.step_failures:
            return f"\n  note: the cell {item.id!r} before this test did not finish: " \
                   f"{sub.run.step_failures[index][1]}"
        if str(index) in sub.cell_errors and isinstance(sub.cell_errors[str(index)], dict):
            err = sub.cell_errors[str(index)]
            return (f"\n  note: the cell {item.id!r} before this test raised "
                    f"{err.get('type')}: {err.get('message')}")
    return ""


def _judge_test_cell(sub: Submission, index: int, test: TestSpec, source: str) -> str:
    """Raise the Verdict of a plain test cell that did not pass (``source``: what ran)."""
    step = next((i for i, s in enumerate(sub.job.steps)
                 if isinstance(s, TestCellStep) and s.test == index), None)
    if step is not None and step in sub.run.step_failures:
        status, detail = sub.run.step_failures[step]
        raise Verdict(status, f"the test cell {test.grade_id!r} did not finish: {detail}")
    if index in sub.run.test_failures:
        status, detail = sub.run.test_failures[index]
        raise Verdict(status, f"{detail} while checking {test.grade_id}")
    if sub.run.startup_failure:
        status, detail = sub.run.startup_failure
        raise Verdict(status, f"the grading process did not start: {detail}")
    output = sub.outputs.get(index)
    if output is None or isinstance(output, Unreadable):
        raise Verdict(CRASHED, f"no readable answers came back ({output or 'none'})")
    cell = output[0].get("cell")
    if not isinstance(cell, dict) or not (cell.get("passed") is True or "exception" in cell):
        raise Verdict(CRASHED, "the test cell's record is damaged")
    if cell.get("passed") is True:
        return "the test cell passed"
    err = cell["exception"] if isinstance(cell["exception"], dict) else {}
    kind, raised_in = str(err.get("type")), str(err.get("where") or "")
    if kind == "NotImplementedError":
        raise Verdict(ERROR, not_attempted(_stub_name(sub, raised_in)))
    told = f": {err.get('message')}" if err.get("message") else ""
    where = _where_in_test(source, cell.get("line"))
    earlier = _earlier_failures(sub, step if step is not None else 0)
    if kind == "AssertionError":
        raise Verdict(FAILED, f"the test cell failed{where}: AssertionError{told}{earlier}")
    advice = exception_hint(kind, str(err.get("message")))
    inside = raised_in and not raised_in.startswith("<test ")  # the test's line is in `where`
    raise Verdict(ERROR, f"the test cell raised {kind}{told}{where}"
                         + (f" ({raised_in})" if inside else "")
                         + (f"\n  likely bug: {advice}" if advice else "") + earlier,
                  diagnosis=advice or "")


def _stub_name(sub: Submission, raised_in: str) -> str:
    """The solution cell a ``NotImplementedError`` came from (the child's ``<cell ID> line
    N``, ID one of this job's cells), else "the code this test calls"."""
    for step in sub.job.steps:
        if step.kind == "cell" and raised_in.startswith(f"<cell {step.id}> line "):
            return step.id
    return "the code this test calls"


def _judge_test(sub: Submission, spec: AssignmentSpec, index: int, test: TestSpec,
                hidden: bool = True) -> str:
    """Raise the Verdict of a test that did not pass; return the summary of one that did."""
    if test.problem:
        raise Verdict(UNGRADABLE, test.problem)
    if test.plain:
        return _judge_test_cell(sub, index, test, test.source if hidden else test.released_source)
    drawn = [d for d in sub.cases[index] if d is not None]
    for call in drawn:
        if call.problem:
            raise Verdict(UNGRADABLE, call.problem)
    if index in sub.run.test_failures:
        status, detail = sub.run.test_failures[index]
        raise Verdict(status, f"{detail} while checking {test.grade_id}")
    if sub.run.startup_failure:
        status, detail = sub.run.startup_failure
        raise Verdict(status, f"the grading process did not start: {detail}")
    output = sub.outputs.get(index)
    if output is None or isinstance(output, Unreadable):
        raise Verdict(CRASHED, f"no readable answers came back ({output or 'none'})")
    record, arrays = output
    notes, counts = [], {}
    for number, call in enumerate(sub.cases[index]):
        if call is None:
            continue
        entry = record["calls"][number] if number < len(record["calls"]) else None
        if not isinstance(entry, dict):
            raise Verdict(CRASHED, "the child's answers are incomplete")
        if "unavailable" in entry:
            raise _cause_of_missing(sub, spec, spec.tests[index].calls[number].expr,
                                    entry["unavailable"] if isinstance(entry["unavailable"], dict) else {})
        answers = entry.get("cases")
        if not isinstance(answers, list) or len(answers) > len(call.cases):
            raise Verdict(CRASHED, "the child's answers are damaged")
        for k, answer in enumerate(answers):
            note = _judge_case(call, k, answer, arrays)
            if note:
                notes += note.split("\n")
            if call.check.float_errors:
                _flag_leaked_switch(sub, test, answer)
        if len(answers) < len(call.cases):  # the child stops only after an exception
            raise Verdict(CRASHED, "the child's answers are incomplete")
        kind = "hidden" if call.hidden else "public"
        counts[kind] = counts.get(kind, 0) + len(call.cases)
    seeds = sorted({c.seed for c in drawn if c.hidden})
    summary = ", ".join(f"{n} {kind} cases" for kind, n in counts.items()) + " passed"
    summary += f" (seed {seeds[0]})" if len(seeds) == 1 else ""
    return "\n".join([summary, *dict.fromkeys(notes)])


def judge_tests(sub: Submission, ctx: Context) -> None:
    """One :class:`TestResult` per grade cell, flags applied."""
    spec = ctx.spec
    for index, test in enumerate(spec.tests):
        try:
            status, message, diagnosis, answer = PASSED, _judge_test(sub, spec, index, test,
                                                                     ctx.hidden), "", ""
        except Verdict as verdict:
            status, message, diagnosis = verdict.status, verdict.message, verdict.diagnosis
            answer = verdict.answer
        flags = list(sub.test_flags.get(test.grade_id, []))
        if status == PASSED and any(f.startswith(float_switches.FLAG) for f in flags):
            status, message = FLAGGED, f"{float_switches.MESSAGE}\n{message}"  # held for review
        points = test.points if status == PASSED else 0.0
        if flags:
            message = "flagged: " + "; ".join(flags) + "\n" + message
            status = FLAGGED if status == PASSED else status
        sub.results.append(TestResult(test.grade_id, status, points, test.points, message, flags,
                                      diagnosis, answer))


def ungradable_results(spec: AssignmentSpec, reason: str) -> list[TestResult]:
    """Every test ungradable, for a submission that could not be read."""
    return [TestResult(t.grade_id, UNGRADABLE, 0.0, t.points, reason) for t in spec.tests]
