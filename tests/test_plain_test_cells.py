"""Plain nbgrader test cells (``assert f(2) == 4``, no ``check(...)``) in the hardened grader.

An instructor's own exercise may grade a cell the nbgrader way: the cell's source (the
instructor's, hidden tests included) runs in the sandbox child where nbgrader runs it,
and passes when nothing is raised. A small assignment mixing an assert cell and a check
cell is built here; a right, a wrong, a raising and an untouched student are graded by
``nbgrader autograde`` and by the hardened grader, which must agree on every cell's
points and status (docs/grading.md, "Plain test cells"; docs/adding_an_exercise.md).
"""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys

import nbformat
import pytest

from course_nn.grading.hardened import Limits, grade_assignment
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import cell_source, load_spec
from course_nn.grading.hardened.judge import in_hidden_block
from course_nn.grading.hardened.model import CollectStep, Context, Submission, TestCellStep
from course_nn.grading.hardened.script import build_job
from course_nn.release import tool_env

pytestmark = pytest.mark.grading

A = "ex99_plain"
DOUBLE_TEST = '''assert double(2) == 4, "double(2) should be 4"
### BEGIN HIDDEN TESTS
assert double(-3) == -6
### END HIDDEN TESTS'''
MSE_TEST = 'check("mse", mse)\n### BEGIN HIDDEN TESTS\ncheck("mse", mse, hidden=True)\n### END HIDDEN TESTS'
SOLUTIONS = {
    "double": "def double(x):\n    ### BEGIN SOLUTION\n    return 2 * x\n    ### END SOLUTION",
    "mse": ("def mse(y_hat, y):\n    ### BEGIN SOLUTION\n"
            "    return float(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2))\n"
            "    ### END SOLUTION"),
    "my_by_hand": "def my_by_hand():\n    ### BEGIN SOLUTION\n    return 1 / 4, -1.5\n    ### END SOLUTION",
    "why": "### BEGIN SOLUTION\nBecause.\n### END SOLUTION",
}
BY_HAND_TEST = ('check("ex99_by_hand", my_by_hand)\n### BEGIN HIDDEN TESTS\n'
                'check("ex99_by_hand", my_by_hand, hidden=True)\n### END HIDDEN TESTS')
WRONG_BY_HAND = "def my_by_hand():\n    return 0.5, 1.5"
#: The instructor's own by-hand check, registered by an ordinary cell of the notebook (run
#: by nbgrader's kernel; the hardened grader never runs instructor cells without metadata)
#: and, for the hardened grader's judge, in this process by :func:`registered`.
REGISTER = '''from course_nn.grading.core import REGISTRY, Case, Check, numbers_judge, register

if "ex99_by_hand" not in REGISTRY:
    register(Check(
        name="ex99_by_hand", reference=lambda: (0.25, -1.5),
        public_cases=lambda: [Case((), "your two numbers")],
        hidden_cases=lambda rng: [Case((), "your two numbers")],
        arg_names=(), judge=numbers_judge(1e-3, ("p", "q")), parts=("p", "q"),
        kind="by_hand"))
'''
POINTS = {"test_double": 2.0, "test_mse": 1.0, "test_by_hand": 1.0}
STUDENTS = {
    "right": {"double": "def double(x):\n    return x + x",
              "mse": "def mse(y_hat, y):\n    return float(np.mean((np.asarray(y_hat) - y) ** 2))",
              "my_by_hand": "def my_by_hand():\n    return 0.25, -1.5",
              "why": "Because doubling is linear."},
    # right on the public assert, wrong on the hidden one
    "wrong": {"double": "def double(x):\n    return 4 if x == 2 else x",
              "mse": "def mse(y_hat, y):\n    return float(np.sum((np.asarray(y_hat) - y) ** 2))",
              "my_by_hand": WRONG_BY_HAND, "why": "No idea."},
    "raising": {"double": "def double(x):\n    return {}[x]",
                "mse": "def mse(y_hat, y):\n    raise ValueError('no idea')",
                "my_by_hand": WRONG_BY_HAND},
    "untouched": {},
}
#: What the hardened grader must say, per student and cell (nbgrader gives the same points).
EXPECTED = {
    "right": {"test_double": "passed", "test_mse": "passed", "test_by_hand": "passed"},
    "wrong": {"test_double": "failed", "test_mse": "failed", "test_by_hand": "failed"},
    "raising": {"test_double": "error", "test_mse": "error", "test_by_hand": "failed"},
    "untouched": {"test_double": "error", "test_mse": "error", "test_by_hand": "error"},
}


@contextlib.contextmanager
def registered():
    """The instructor's check registered in this process while the block runs (removed
    after, so the course's own registry tests never see it)."""
    from course_nn.grading.core import REGISTRY

    added = "ex99_by_hand" not in REGISTRY
    exec(REGISTER, {})
    try:
        yield
    finally:
        if added:
            REGISTRY.pop("ex99_by_hand", None)


@pytest.fixture(autouse=True)
def own_check():
    """Every test sees the instructor's by-hand check (the grader validates check names)."""
    with registered():
        yield


def _meta(grade_id: str, *, solution=False, grade=False, locked=False, points=None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3,
            "solution": solution, "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def instructor_notebook() -> nbformat.NotebookNode:
    """The instructor notebook: a setup cell, an assert-graded and a check-graded exercise."""
    cell = nbformat.v4.new_code_cell
    cells = [
        nbformat.v4.new_markdown_cell("# Exercise 99: plain test cells"),
        cell("import numpy as np\n\nfrom course_nn.grading import check",
             metadata=_meta("setup", locked=True)),
        cell(SOLUTIONS["double"], metadata=_meta("double", solution=True)),
        cell(DOUBLE_TEST, metadata=_meta("test_double", grade=True, locked=True, points=2)),
        cell(SOLUTIONS["mse"], metadata=_meta("mse", solution=True)),
        cell(MSE_TEST, metadata=_meta("test_mse", grade=True, locked=True, points=1)),
        cell(REGISTER),  # an ordinary cell: the instructor's own check
        cell(SOLUTIONS["my_by_hand"], metadata=_meta("my_by_hand", solution=True)),
        cell(BY_HAND_TEST, metadata=_meta("test_by_hand", grade=True, locked=True, points=1)),
        nbformat.v4.new_markdown_cell(SOLUTIONS["why"], metadata=_meta(
            "why", solution=True, grade=True, points=1)),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python",
                                 "name": "python3"}
    return nb


def _course(folder):
    course = folder / "course"
    course.mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(
        (T.ROOT / "nbgrader_config.py").read_text(encoding="utf-8"), encoding="utf-8")
    source = course / "solutions" / A / f"{A}.ipynb"
    source.parent.mkdir(parents=True)
    nbformat.write(instructor_notebook(), source)
    return course


def test_spec_reads_assert_cells_as_plain_tests(tmp_path):
    """Is a grade cell without check(...) a plain test (no problem, its full source kept),
    and a check cell still a check cell, in one notebook?"""
    course = _course(tmp_path)
    spec = load_spec(course / "solutions" / A / f"{A}.ipynb")
    double, mse, by_hand = spec.tests
    assert (double.grade_id, double.plain, double.problem, double.calls) == (
        "test_double", True, None, ())
    assert double.source == DOUBLE_TEST and "double(-3)" not in double.released_source
    assert not mse.plain and [c.hidden for c in mse.calls] == [False, True]
    assert by_hand.calls[0].check == "ex99_by_hand" and not by_hand.plain
    assert spec.max_score == 4


@pytest.mark.parametrize("hidden", [True, False])
def test_job_runs_the_instructor_source_in_place(tmp_path, hidden):
    """Does the job run the assert cell (the instructor's source, hidden blocks only when
    grading) where nbgrader runs it: after the solution it tests, before the next one?"""
    spec = load_spec(_course(tmp_path) / "solutions" / A / f"{A}.ipynb")
    sub = Submission("ann", tmp_path)
    sub.solution_sources = {"double": "def double(x):\n    return 0", "mse": "mse = None"}
    sub.test_flags = {}
    build_job(sub, Context(spec, hidden=hidden))
    ids = [(type(s).__name__, s.id) for s in sub.job.steps]
    assert ids[:5] == [("CellStep", "setup"), ("CellStep", "double"),
                       ("TestCellStep", "test_double"), ("CellStep", "mse"),
                       ("CollectStep", "test_mse")]
    step = sub.job.steps[2]
    assert isinstance(step, TestCellStep) and step.test == 0
    assert ("double(-3)" in step.source) is hidden
    assert "double(-3)" not in sub.solution_sources["double"]
    assert isinstance(sub.job.steps[4], CollectStep)


def test_hidden_block_lines():
    """Are the lines of a hidden block (markers included) told from public lines?"""
    assert [in_hidden_block(DOUBLE_TEST, n) for n in range(1, 6)] == [
        False, True, True, True, False]


def _nbgrader(course, *args: str) -> None:
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=ERROR"],
                         cwd=course, capture_output=True, text=True, env=tool_env(), timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr


def _nbgrader_status(outputs: list) -> str:
    """A test cell's status as nbgrader's autograded notebook shows it."""
    errors = [o for o in outputs if o.get("output_type") == "error"]
    if not errors:
        return "passed"
    return "failed" if errors[0].get("ename") in ("AssertionError", "CheckFailure") else "error"


def _grade_both(folder) -> dict:
    with registered():
        return _grade_both_registered(folder)


def _grade_both_registered(folder) -> dict:
    course = _course(folder)
    _nbgrader(course, "generate_assignment", A, "--force")
    released = T.read(course / "exercises" / A / f"{A}.ipynb")
    for student, sources in STUDENTS.items():
        T.submit(course, student, A, T.with_sources(released, sources))
    _nbgrader(course, "autograde", A, "--force")
    from nbgrader.api import Gradebook

    standard = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in STUDENTS:
            autograded = T.read(course / "autograded" / student / A / f"{A}.ipynb")
            outputs = {c["metadata"]["nbgrader"]["grade_id"]: c.get("outputs", [])
                       for c in autograded["cells"] if c["metadata"].get("nbgrader")}
            for test in POINTS:
                standard[f"{student}/{test}"] = [gb.find_grade(test, A, A, student).score,
                                                 _nbgrader_status(outputs[test])]
    out = course / "hardened"  # nbgrader's gradebook is read: now the grader rewrites it
    report = grade_assignment(A, course=course, jobs=2, progress=False, out=out,
                              limits=Limits(timeout=30))
    hardened = {f"{r.student}/{t.test}": [t.points, t.status, t.message, t.answer]
                for r in report.results for t in r.tests}
    pages = {s: (out / "feedback" / f"{s}.html").read_text(encoding="utf-8") for s in STUDENTS}
    from course_nn.grading.report import build_report, render_html

    return {"standard": standard, "hardened": hardened, "pages": pages,
            "report": render_html(build_report(A, out)),
            "released": "\n".join(cell_source(c) for c in released["cells"]),
            "released_notebook": released}


@pytest.fixture(scope="module")
def both(tmp_path_factory):
    """nbgrader's and the hardened grader's results on the four students, once (the
    hardened grader writes the gradebook after nbgrader's scores are read)."""
    return T.shared_result(tmp_path_factory.getbasetemp(), "plain-test-cells", _grade_both)


@pytest.mark.slow
def test_released_notebook_hides_the_hidden_assert(both):
    """Did nbgrader's release strip the hidden assert (so students never see it)?"""
    assert "double(-3)" not in both["released"] and "double(2) == 4" in both["released"]


@pytest.mark.slow
@pytest.mark.parametrize("student", list(STUDENTS))
def test_hardened_and_nbgrader_agree_on_plain_and_check_cells(both, student):
    """Does every cell get the same points from both graders, the plain cell the same
    status as nbgrader's error output says (a check cell's ``check`` wraps a raising
    function in its own failure under nbgrader, so there only the points compare), and
    every cell the status the contract names?"""
    for test, status in EXPECTED[student].items():
        key = f"{student}/{test}"
        points, mine, message, _ = both["hardened"][key]
        score, theirs = both["standard"][key]
        full = POINTS[test]
        assert points == score == (full if status == "passed" else 0.0), (key, message)
        assert mine == status, (key, message)
        if test == "test_double":
            assert theirs == mine, (key, message)


@pytest.mark.slow
def test_messages_teach_without_showing_hidden_tests(both):
    """Does a failed public assert quote its line and message, a failed hidden assert say
    only "a hidden test", a raising student read the exception, an untouched one "not
    attempted"?"""
    hardened = {k: v[2] for k, v in both["hardened"].items()}
    assert hardened["right/test_double"] == "the test cell passed"
    wrong = hardened["wrong/test_double"]
    assert wrong.startswith("the test cell failed in a hidden test: AssertionError")
    assert "double(-3)" not in wrong and "-6" not in wrong
    raising = hardened["raising/test_double"]
    assert raising.startswith("the test cell raised KeyError: 2 on line 1: assert double(2) == 4")
    assert "<cell double> line 2" in raising
    assert hardened["untouched/test_double"] == (
        "not attempted: double is not implemented yet (it still raises NotImplementedError)")
    assert hardened["untouched/test_mse"].startswith("not attempted: ")
    assert "NotImplementedError" in hardened["untouched/test_double"]


def test_record_of_a_test_cell_in_the_child(tmp_path):
    """Does the child save a test cell's outcome at its step (passed, or the exception and
    the test cell's line), and skip it in the test phase?"""
    import numpy as np

    child = T.child_module()
    out = tmp_path / "out"
    out.mkdir()
    job = {"steps": [{"kind": "cell", "id": "double", "source": "def double(x):\n    return x"},
                     {"kind": "test", "id": "t0", "test": 0, "source": "assert double(1) == 1"},
                     {"kind": "test", "id": "t1", "test": 1,
                      "source": "x = 1\nassert double(2) == 4, 'no'"}]}

    class Quiet:
        def send(self, line):
            pass

    errors, _ = child.run_cells(job, {"__builtins__": __builtins__}, Quiet(), set(), str(out), np)
    assert errors == {}
    first = json.loads((out / "test_0.json").read_text())
    second = json.loads((out / "test_1.json").read_text())
    assert first == {"calls": [], "cell": {"passed": True}}
    assert second["cell"]["line"] == 2
    assert second["cell"]["exception"]["type"] == "AssertionError"
    assert second["cell"]["exception"]["message"] == "no"
    with np.load(out / "test_1.npz") as data:
        assert data.files == []


@pytest.mark.slow
def test_untouched_work_reads_not_attempted_on_the_page(both):
    """Does the feedback page say "not attempted" (not "your code raised an error") for
    the stubs, and keep "your code raised an error" for code that raised?"""
    untouched, raising = both["pages"]["untouched"], both["pages"]["raising"]
    assert untouched.count(">not attempted</span>") == 3
    assert "your code raised an error" not in untouched
    assert raising.count(">your code raised an error</span>") == 2


@pytest.mark.slow
def test_an_unanswered_written_answer_shows_its_zero_at_once(both):
    """Does `grade` (which writes the gradebook) show the 0 nbgrader's rule gives a written
    answer left as released, and leave an answered one pending for a person?"""
    assert "graded by hand: <strong>0 / 1</strong>" in both["pages"]["untouched"]
    assert "No response." in both["pages"]["untouched"]
    assert "graded by hand: pending (1 points)" in both["pages"]["right"]


@pytest.mark.slow
def test_wrong_by_hand_numbers_are_stored_and_counted(both):
    """Are a by-hand item's wrong numbers stored with the result (only for wrong answers)
    and counted in the class report, together with the item statistics?"""
    answers = {k: v[3] for k, v in both["hardened"].items()}
    assert answers["wrong/test_by_hand"] == answers["raising/test_by_hand"] == "0.5, 1.5"
    assert answers["right/test_by_hand"] == answers["untouched/test_by_hand"] == ""
    assert answers["wrong/test_double"] == ""
    page = both["report"]
    assert "<td>test_by_hand</td><td><code>0.5, 1.5</code></td><td>2</td>" in page
    assert "<td>test_double</td><td>4</td><td>0.25</td>" in page


def test_a_test_cell_counts_in_the_budget_as_an_instructor_step(tmp_path):
    """Does a plain test cell count in the submission's budget as an instructor step (as a
    check cell's collector does), never as a cell the student added?"""
    from course_nn.grading.hardened.sandbox import added_steps, job_budget

    spec = load_spec(_course(tmp_path) / "solutions" / A / f"{A}.ipynb")
    sub = Submission("ann", tmp_path)
    sub.solution_sources = {"double": "def double(x):\n    return 0"}
    build_job(sub, Context(spec))
    limits = Limits(timeout=5, startup=0)
    steps = len(sub.job.steps)
    assert added_steps(sub.job) == frozenset()
    assert job_budget(limits, sub.job) == limits.budget(steps) == 5 * steps + limits.added_allowance


LOOPS = "def double(x):\n    while True:\n        pass"


@pytest.mark.slow
def test_a_looping_test_cell_times_out_alone_and_the_students_copy_is_ignored(both, tmp_path):
    """Does a test cell whose function never returns time out on its own step (the next
    tests still graded), and does a student who emptied the test cell still get the
    instructor's asserts?"""
    course = _course(tmp_path)
    released = both["released_notebook"]
    T.submit(course, "loops", A, T.with_sources(released, {**STUDENTS["right"], "double": LOOPS}))
    emptied = T.with_sources(released, {**STUDENTS["wrong"], "test_double": "pass"})
    T.submit(course, "emptied", A, emptied)
    report = grade_assignment(A, course=course, jobs=1, progress=False, gradebook=False,
                              out=course / "hardened", limits=Limits(timeout=2, startup=30))
    rows = {(r.student, t.test): t for r in report.results for t in r.tests}
    looped = rows[("loops", "test_double")]
    assert (looped.status, looped.points) == ("timeout", 0.0)
    assert "the test cell 'test_double' did not finish" in looped.message
    assert rows[("loops", "test_mse")].status == "passed"
    emptied_row = rows[("emptied", "test_double")]
    assert (emptied_row.status, emptied_row.points) == ("failed", 0.0)
    assert "hidden test" in emptied_row.message
    assert "test cell edited (the instructor's test was run)" in emptied_row.flags


def test_not_attempted_is_the_verdict_of_an_untouched_stub_in_both_paths():
    """Does the stub read "not attempted" in the notebook's check, in the grader's message
    and as the page's verdict, while other errors keep "your code raised an error"?"""
    from course_nn.grading import check
    from course_nn.grading.hardened.feedback import verdict
    from course_nn.grading.messages import not_attempted

    def stub(y_hat, y):
        raise NotImplementedError()

    with pytest.raises(NotImplementedError, match="mse: not implemented yet \\(not attempted\\)"):
        check("mse", stub)
    message = not_attempted("mse")
    assert message.startswith("not attempted: mse ")
    assert verdict("error", message) == "not attempted"
    assert verdict("error", "mse: public case 1 of 3 raised ValueError: no") == \
        "your code raised an error"
    assert verdict("failed", message) == "wrong answer"  # only an error reads so
