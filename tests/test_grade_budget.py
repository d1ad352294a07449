"""One student cannot stall the class: one time budget per submission that added cells
cannot grow, a shared allowance for added cells, and a cap on how many are run.

Design: docs/grading.md, "4. Match" (the cap) and "8. Run", **Time** (the budget).
Unit tests for the budget formula, the step clock and the cap; the launcher with a
sleeping job and a job forging progress to hit the whole budget; and a small class
graded end to end: an honest student, a student with 30 added cells of
``time.sleep(1.8)`` at a 2 s timeout, and one with 20,000 added cells.
"""

from __future__ import annotations

import copy
import dataclasses
import time
from pathlib import Path

import pytest

from course_nn.grading.hardened import grade_assignment, sandbox, structure
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.model import CellStep, CollectStep, Context, Job, Submission
from course_nn.grading.hardened.model import TestJob as GradeJob
from course_nn.grading.hardened.sandbox import AddedTime, Limits, StepClock, job_budget
from course_nn.grading.hardened.script import build_job
from course_nn.grading.hardened.structure import MAX_ADDED_CELLS, MAX_ADDED_CHARS, match_cells

pytestmark = pytest.mark.grading

A = "ex01_linear_regression"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb")
RELEASED = T.read(T.ROOT / "exercises" / A / f"{A}.ipynb")
SOLUTIONS = T.solutions(T.read(T.ROOT / "solutions" / A / f"{A}.ipynb"))
TESTS = {t.grade_id: t.points for t in SPEC.tests}
MAX = sum(TESTS.values())
SLEEP = "import time\ntime.sleep(1.8)\n"
SLEEPING_CELLS = 30
MANY_CELLS = 20_000


def _code_cell(source: str, cell_id: str) -> dict:
    return {"cell_type": "code", "id": cell_id, "metadata": {}, "source": source,
            "outputs": [], "execution_count": None}


def _with_added(nb: dict, sources: list[str]) -> dict:
    """``nb`` with ``sources`` added as code cells at the top (they run before everything)."""
    nb = copy.deepcopy(nb)
    nb["cells"][:0] = [_code_cell(s, f"added-{i}") for i, s in enumerate(sources)]
    return nb


def _job(nb: dict) -> Submission:
    sub = Submission("s", Path("."))
    sub.notebook = nb
    match_cells(sub, Context(SPEC))
    build_job(sub, Context(SPEC))
    return sub


def _instructor_steps(job: Job) -> int:
    return sum(not (isinstance(s, CellStep) and s.added) for s in job.steps)


# --- the budget formula ------------------------------------------------------------------
def test_added_cells_do_not_grow_the_budget():
    """Is the budget the same for 0, 30 and 20,000 added cells, and does it count only the
    instructor's steps and tests plus the fixed allowance?"""
    limits = Limits(timeout=2, startup=15)
    honest = T.with_sources(RELEASED, SOLUTIONS)
    jobs = {n: _job(_with_added(honest, [SLEEP] * n)).job for n in (0, SLEEPING_CELLS, MANY_CELLS)}
    for job in jobs.values():
        job.tests = [GradeJob(i, ()) for i in range(len(SPEC.tests))]
    assert [len(sandbox.added_steps(j)) for j in jobs.values()] == [0, SLEEPING_CELLS, MAX_ADDED_CELLS]
    budgets = {n: job_budget(limits, j) for n, j in jobs.items()}
    steps = _instructor_steps(jobs[0])
    assert steps == len(jobs[0].steps) > len(SPEC.tests)
    expected = 15 + 2 * (steps + len(SPEC.tests)) + limits.added_allowance
    assert budgets == {0: expected, SLEEPING_CELLS: expected, MANY_CELLS: expected}
    assert limits.added_allowance == 2 * limits.added_timeouts == 4
    unbounded = Job([CellStep(f"added cell {i}", "pass", added=True) for i in range(1000)]
                    + jobs[0].steps, jobs[0].tests)
    assert job_budget(limits, unbounded) == expected


def test_the_cpu_limit_is_what_is_left_of_the_budget():
    limits = {which: soft for which, soft, _ in sandbox.rlimits(Limits(), 12.2, True)}
    assert limits[sandbox.resource.RLIMIT_CPU] == 14


# --- the step clock (pure: times are given) -------------------------------------------------
def test_the_step_clock_charges_added_steps_only_and_stops_at_the_allowance():
    """Do instructor steps cost the allowance nothing, added steps their own time, and does
    an added step end at whichever comes first: its timeout or the allowance left?"""
    added = AddedTime(4.0, frozenset({1, 2}))
    clock = StepClock(Limits(timeout=3, startup=10), added, overall=100.0, now=0.0)
    assert clock.end() == (10.0, "step")  # waiting for the child to be ready
    clock.step(None, 0.5)  # "R": ready
    assert clock.end() == (3.5, "step")
    clock.step(("S", 0), 1.0)  # an instructor cell
    clock.step(("S", 1), 2.0)  # an added cell: 3 s timeout, 4 s left
    assert clock.end() == (5.0, "step") and added.used == 0
    clock.step(("S", 2), 3.8)  # the next added cell: 2.2 s left, before its 3 s timeout
    assert added.used == pytest.approx(1.8)
    assert clock.end() == (pytest.approx(6.0), "added")
    clock.stop(6.0)
    assert added.used == pytest.approx(4.0) and added.left == 0
    clock.step(("T", 0), 6.0)  # a test: no allowance involved
    assert clock.end() == (9.0, "step")
    clock.finish(6.5)
    assert clock.end() == (6.5 + sandbox.DRAIN, "step")
    late = StepClock(Limits(timeout=3, startup=10), AddedTime(4.0), overall=2.0, now=0.0)
    assert late.end() == (2.0, "budget")


# --- the cap (step 4) ----------------------------------------------------------------------
def test_twenty_thousand_added_cells_are_capped_and_flagged():
    """Are only the first MAX_ADDED_CELLS added cells kept (in order), the rest counted
    without being parsed, and the submission flagged in words a student understands?"""
    honest = T.with_sources(RELEASED, SOLUTIONS)
    nb = _with_added(honest, [f"_x{i} = {i}\n" for i in range(MANY_CELLS)])
    calls = []
    original = structure.defined_names
    try:
        structure.defined_names = lambda source: calls.append(source) or original(source)
        start = time.perf_counter()
        sub = _job(nb)
        seconds = time.perf_counter() - start
    finally:
        structure.defined_names = original
    assert len(sub.added_cells) == MAX_ADDED_CELLS == 200
    assert [c.defines for c in sub.added_cells[:2]] == [("_x0",), ("_x1",)]
    assert sub.added_cells[-1].defines == (f"_x{MAX_ADDED_CELLS - 1}",)
    assert len(calls) == MAX_ADDED_CELLS  # the 19,800 others were never parsed
    (flag,) = sub.flags
    assert flag.startswith("too many added cells")
    assert f"at most {MAX_ADDED_CELLS} code cells you added" in flag
    assert f"your first {MAX_ADDED_CELLS} ran" in flag
    assert f"the {MANY_CELLS - MAX_ADDED_CELLS:,} after them" in flag
    assert len(sandbox.added_steps(sub.job)) == MAX_ADDED_CELLS
    assert seconds < 30, seconds  # linear, no parse per cell: well under a second here


def test_added_code_beyond_the_size_cap_is_not_run():
    """Are added cells beyond MAX_ADDED_CHARS of source in all left out and flagged?"""
    big = "# a long comment\n" + "#" * 99_983 + "\nbig = 1\n"
    assert 2 * len(big) <= MAX_ADDED_CHARS < 3 * len(big)
    sub = _job(_with_added(RELEASED, [big, big, big, "def helper():\n    return 1\n"]))
    assert len(sub.added_cells) == 2
    (flag,) = sub.flags
    assert "your first 2 ran, the 2 after them" in flag
    assert f"({MAX_ADDED_CHARS // 1024} KB of code in all)" in flag


def test_a_few_helper_cells_are_not_capped():
    """Does a student who adds a few helper cells keep them all, with no flag?"""
    helpers = [f"def helper_{i}(x):\n    return x + {i}\n" for i in range(12)]
    sub = _job(_with_added(T.with_sources(RELEASED, SOLUTIONS), helpers))
    assert len(sub.added_cells) == 12 and sub.flags == []


# --- the launcher: the allowance and the whole budget ------------------------------------------
@pytest.fixture(scope="module")
def launcher():
    return sandbox.Launcher.create(Limits(timeout=1, startup=15, memory_mb=512))


def _run(launcher: sandbox.Launcher, job: Job) -> tuple[sandbox.RunOutcome, float, list[bool]]:
    """Run ``job`` in a fresh scratch; (outcome, wall seconds, which tests were answered)."""
    with launcher.scratch() as box:
        launcher.prepare(box.root, {})
        start = time.monotonic()
        outcome = launcher.run(box.root, job, box.mounted)
        seconds = time.monotonic() - start
        answered = [sandbox.answered(box.root, t.index) for t in job.tests]
    return outcome, seconds, answered


@pytest.mark.slow
def test_sleeping_added_cells_share_one_allowance(launcher):
    """Do 30 sleeping added cells stop when their shared allowance is used up, skip the
    others from then on, and leave the instructor's cells and the test their own time?"""
    limits = launcher.limits
    sleeping = [CellStep(f"added cell {i + 1}", "import time\ntime.sleep(0.6)\n", added=True)
                for i in range(SLEEPING_CELLS)]
    job = Job([*sleeping, CellStep("setup", "def f():\n    return 1\n"),
               CollectStep("test_f", 0, ("f",))], [GradeJob(0, ())])
    outcome, seconds, answered = _run(launcher, job)
    added = outcome.added
    assert added.spent and not outcome.budget_spent
    assert limits.added_allowance <= added.used < limits.added_allowance + 1.0
    assert answered == [True] and outcome.test_failures == {}
    assert set(outcome.step_failures) == set(range(SLEEPING_CELLS))
    stopped = outcome.step_failures[added.stopped]
    assert stopped[0] == "timeout" and "used up the 2 s they share" in stopped[1]
    assert outcome.skipped_added == SLEEPING_CELLS - 1
    (flag,) = outcome.flags
    assert flag.startswith("the cells you added used up the 2 s of running time they share")
    assert f"the other {SLEEPING_CELLS - 1} added cell(s) were skipped" in flag
    assert seconds <= job_budget(limits, job) + 5, seconds
    assert seconds < SLEEPING_CELLS * 0.6  # they did not all sleep


FORGE = '''import os, sys, time
_fd = int(sys.argv[-1])
for _line in {lines!r}:
    os.write(_fd, _line.encode() + b"\\n")  # claims the next step early: a fresh timeout
    time.sleep({pause})
while True:
    time.sleep(1)
'''


@pytest.mark.slow
def test_a_submission_that_hits_its_budget_is_flagged_and_its_tests_are_timeouts(launcher):
    """Does a child that forges progress (each claimed step buys a fresh timeout) end at
    the submission's one budget, flagged, with every unanswered test a timeout?"""
    limits = Limits(timeout=1, startup=5, memory_mb=512)
    forging = dataclasses.replace(launcher, limits=limits)
    tests = 8
    lines = ["S 1", *[f"T {t}" for t in range(tests)]]
    job = Job([CellStep("setup", FORGE.format(lines=lines, pause=0.8)),
               CellStep("solution", "def f():\n    return 1\n")],
              [GradeJob(t, ()) for t in range(tests)])
    budget = job_budget(limits, job)
    assert budget == 5 + 1 * (2 + tests) + 2
    # each attempt claims its remaining lines 0.8 s apart, then waits out a 1 s timeout:
    # at least 7.4 + 6.6 + 5.8 s over three attempts, more than the 17 s budget
    outcome, seconds, answered = _run(forging, job)
    assert outcome.budget_spent and not any(answered)
    assert set(outcome.test_failures) == set(range(tests))
    assert {status for status, _ in outcome.test_failures.values()} == {"timeout"}
    assert budget <= seconds <= budget + 5, seconds
    assert f"used up its time budget ({budget:g} s)" in " ".join(outcome.flags)
    assert len(outcome.attempts) >= 3


# --- a class graded end to end -------------------------------------------------------------------
CLASS_LIMITS = Limits(timeout=2, startup=15, memory_mb=512)


def _class(base: Path) -> Path:
    course = T.make_course(base / "course", [A])
    honest = T.with_sources(RELEASED, SOLUTIONS)
    T.submit(course, "honest", A, honest)
    T.submit(course, "sleeping_cells", A, _with_added(honest, [SLEEP] * SLEEPING_CELLS))
    T.submit(course, "many_cells", A,
             _with_added(honest, [f"_x{i} = {i}\n" for i in range(MANY_CELLS)]))
    return course


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = _class(tmp_path_factory.mktemp("budget"))
    start = time.perf_counter()
    report = grade_assignment(A, course=course, jobs=2, progress=False, gradebook=False,
                              limits=CLASS_LIMITS)
    return {"results": {r.student: r for r in report.results}, "course": course,
            "seconds": time.perf_counter() - start,
            "budget": CLASS_LIMITS.budget(_instructor_steps(_job(RELEASED).job) + len(TESTS))}


@pytest.mark.slow
def test_the_class_ends_with_one_row_each_and_the_honest_student_untouched(graded):
    results = graded["results"]
    assert set(results) == {"honest", "sleeping_cells", "many_cells"}
    for result in results.values():
        assert {t.test for t in result.tests} == set(TESTS)
    honest = results["honest"]
    assert honest.score == MAX and honest.flags == []
    assert {t.status for t in honest.tests} == {"passed"}


@pytest.mark.slow
def test_the_sleeping_student_is_bounded_by_its_budget(graded):
    """Does 30 x 1.8 s of added sleeping at a 2 s timeout end inside the budget (not
    the 54 s it would sleep), with the correct solutions still graded?

    Decided: the added cells stop when their shared allowance (2 x 2 s) is used up and
    are skipped from then on; the instructor's cells and the tests keep their own time,
    so the student's right answers keep their points (as under nbgrader, where the
    tests run after the added cells), and the instructor sees a flag."""
    result, budget = graded["results"]["sleeping_cells"], graded["budget"]
    assert result.child_seconds <= budget + 5, result.child_seconds
    assert result.child_seconds < SLEEPING_CELLS * 1.8  # the cells did not all sleep
    assert result.seconds <= budget + 30, result.seconds
    assert result.score == MAX, [(t.test, t.status, t.message) for t in result.tests]


@pytest.mark.slow
def test_the_sleeping_student_is_flagged(graded):
    flags = " ".join(graded["results"]["sleeping_cells"].flags)
    assert "the cells you added used up the 4 s of running time they share" in flags


@pytest.mark.slow
def test_twenty_thousand_added_cells_grade_in_bounded_time(graded):
    """Is a 2.5 MB notebook of 20,000 added cells capped, flagged, and graded in time?"""
    result, budget = graded["results"]["many_cells"], graded["budget"]
    assert any(f.startswith("too many added cells") for f in result.flags), result.flags
    assert result.score == MAX, [(t.test, t.status, t.message) for t in result.tests]
    assert result.seconds <= budget + 30, result.seconds
    notebook = graded["course"] / "submitted" / "many_cells" / A / f"{A}.ipynb"
    assert notebook.stat().st_size > 2_000_000
