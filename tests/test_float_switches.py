"""Switching NumPy's floating-point checks off in a no-overflow item (issue #19, part 4).

A naive sigmoid inside ``np.errstate(all="ignore")`` has the right numbers, and its own
setting overrides the grader's. Both grading paths read the code instead: the static
read (``float_switches``, step 5 of the hardened grader), the judge (step 10) and the
in-notebook ``check``; and both check after the call that the grader's setting is
still in force (``np.seterr`` inside the function leaks).
"""

from __future__ import annotations

import itertools
import linecache
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from course_nn.grading import CheckFailure, check
from course_nn.grading.float_switches import FLAG, MESSAGE, analyse_cell, reached_switches
from course_nn.grading.hardened import Limits, grade_assignment
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.cases import draw_cases
from course_nn.grading.hardened.judge import judge_tests
from course_nn.grading.hardened.model import AddedCell, Context, Submission
from course_nn.grading.hardened.sandbox import RunOutcome
from course_nn.grading.hardened.scan import scan_solutions

pytestmark = pytest.mark.grading

A = "ex02_activations"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb")
TESTS = [t.grade_id for t in SPEC.tests]

NAIVE = "    x = np.asarray(x, dtype=float)\n    return 1 / (1 + np.exp(-x))\n"
ERRSTATE = ("def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
            "    with np.errstate(all='ignore'):\n        return 1 / (1 + np.exp(-x))\n")
#: Every way a student switches the checks off, as the whole sigmoid solution cell.
SWITCHED = {
    "errstate": ERRSTATE,
    "seterr at cell level": "np.seterr(all='ignore')\n\ndef sigmoid(x):\n" + NAIVE,
    "seterr inside": "def sigmoid(x):\n    np.seterr(all='ignore')\n" + NAIVE,
    "alias import": "from numpy import errstate as quiet\n\ndef sigmoid(x):\n"
                    "    x = np.asarray(x, dtype=float)\n    with quiet(over='ignore'):\n"
                    "        return 1 / (1 + np.exp(-x))\n",
    "module alias": "import numpy as n\n\ndef sigmoid(x):\n    with n.errstate(over='ignore'):\n"
                    "        return 1 / (1 + n.exp(-n.asarray(x, dtype=float)))\n",
    "warnings": "import warnings\nwarnings.simplefilter('ignore')\n\ndef sigmoid(x):\n" + NAIVE,
    "getattr": "def sigmoid(x):\n    with getattr(np, 'errstate')(all='ignore'):\n"
               "        return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))\n",
    "built name": "def sigmoid(x):\n    with getattr(np, ('etats' + 'rre')[::-1])(all='ignore'):\n"
                  "        return 1 / (1 + np.exp(-np.asarray(x, dtype=float)))\n",
    "module dict": "def sigmoid(x):\n    np.__dict__['seterr'](all='ignore')\n" + NAIVE,
    "decorator": "@np.errstate(over='ignore')\ndef sigmoid(x):\n" + NAIVE,
    "fresh context": "import contextvars\n\ndef sigmoid(x):\n    x = np.asarray(x, dtype=float)\n"
                     "    return contextvars.Context().run(lambda: 1 / (1 + np.exp(-x)))\n",
    "exec of a string": "def sigmoid(x):\n    exec(\"np.seterr(over='ignore')\")\n" + NAIVE,
}
STABLE = ("def sigmoid(x):\n    x = np.asarray(x, dtype=float)\n    e = np.exp(-np.abs(x))\n"
          "    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))\n")
RELU_ERRSTATE = ("def relu(x):\n    with np.errstate(all='ignore'):\n"
                 "        return np.maximum(np.asarray(x, dtype=float), 0.0)\n")
HELPER = "def _quiet_exp(z):\n    with np.errstate(over='ignore'):\n        return np.exp(z)\n"
USES_HELPER = "def sigmoid(x):\n    return 1 / (1 + _quiet_exp(-np.asarray(x, dtype=float)))\n"


def test_the_message_names_the_promise_and_the_concept_never_the_fix():
    from tests.exercise_items import hint_problems

    assert "no overflow" in MESSAGE and "review" in MESSAGE and not hint_problems(MESSAGE)


def _switches(source: str, name: str = "sigmoid") -> list[str]:
    return reached_switches([("cell", analyse_cell(source))], {name})


# --- the static read ------------------------------------------------------------------
@pytest.mark.parametrize("variant", sorted(SWITCHED))
def test_every_way_of_switching_is_found(variant):
    """Is each switch found, by the AST, in the function a no-overflow check calls?"""
    assert _switches(SWITCHED[variant]), variant


@pytest.mark.parametrize("source", [
    "import threading\n\ndef sigmoid(x):\n    t = threading.Thread(target=print)\n",
    "from concurrent.futures import ThreadPoolExecutor\n\ndef sigmoid(x):\n"
    "    return ThreadPoolExecutor().submit(np.exp, x).result()\n",
    "def sigmoid(x):\n    f = getattr(np, NAME)\n",  # a computed name cannot be read
    "def sigmoid(x):\n    return eval(CODE)\n",
    "def sigmoid(x):\n    n = ''.join([chr(115), 'eterr'])\n    return vars(np)[n]\n",
    "import inspect\n\ndef sigmoid(x):\n    m = dict(inspect.getmembers(np))\n",
    "import functools\n\ndef sigmoid(x):\n    return functools.reduce(getattr, PATH, np)\n",
    "from somewhere import np_errstate\n\ndef sigmoid(x):\n    with np_errstate():\n        pass\n",
    "np.errstate = lambda **k: None\n",  # replaces NumPy's own: every function
    "np.__dict__['seterr'] = print\n",
    "import warnings as w\n\nw.filters[:] = []\n",
])
def test_threads_computed_names_and_replacements_are_found(source):
    """Another thread or a computed name hides what runs; replacing NumPy's functions
    counts whatever function is checked."""
    assert _switches(source), source


@pytest.mark.parametrize("source", [
    STABLE,
    "import scipy.special\n\ndef sigmoid(x):\n    return scipy.special.expit(x)\n",
    "import warnings\n\ndef sigmoid(x):\n    '''No errstate needed here.'''\n"
    "    warnings.warn('careful')\n    return 0.5 * (1 + np.tanh(0.5 * np.asarray(x, dtype=float)))\n",
    "def sigmoid(x):\n    return getattr(np, 'tanh')(x)\n",
    "def relu(x):\n    with getattr(np, 'errstate')(all='ignore'):\n        return np.maximum(x, 0)\n\n"
    "def sigmoid(x):\n    return 0.5 * (1 + np.tanh(0.5 * x))\n",
    RELU_ERRSTATE + "\n\ndef sigmoid(x):\n    return 0.5 * (1 + np.tanh(0.5 * x))\n",
])
def test_honest_code_and_other_functions_are_left_alone(source):
    """No switch in a right sigmoid; an errstate in relu is not reached from sigmoid."""
    assert _switches(source) == []


def test_a_helper_in_another_cell_is_reached():
    """A switch in a helper the checked function calls counts, from any cell."""
    cells = [("added cell 3", analyse_cell(HELPER)), ("cell 'sigmoid'", analyse_cell(USES_HELPER))]
    (found,) = reached_switches(cells, {"sigmoid"})
    assert "np.errstate" in found and "added cell 3, line 2" in found
    assert reached_switches(cells, {"relu"}) == []


def test_instructor_solutions_switch_nothing_the_checks_promise():
    """No no-overflow test of any assignment is flagged for the instructor's own solutions
    (ex05's kl_divergence uses np.errstate: it promises nothing about overflow)."""
    for path in sorted((T.ROOT / "solutions").iterdir()):
        notebook = path / f"{path.name}.ipynb"
        if not notebook.is_file():
            continue
        sub = Submission("s", T.ROOT)
        sub.solution_sources = T.solutions(T.read(notebook))
        scan_solutions(sub, Context(load_spec(notebook)))
        assert not [f for flags in sub.test_flags.values() for f in flags if f.startswith(FLAG)]


# --- the hardened grader: scan and judge -------------------------------------------------
def _judged(sources: dict[str, str], added: tuple[str, ...] = (), record_extra=None) -> dict:
    """Scan and judge ex02 with ``sources`` replacing solution cells; the child's numbers
    are the references' for test_sigmoid and test_relu (its other tests crash)."""
    ctx = Context(SPEC, seed=1)
    sub = Submission("s", T.ROOT)
    sub.solution_sources = dict(T.solutions(T.read(T.ROOT / "solutions" / A / f"{A}.ipynb")),
                                **sources)
    sub.added_cells = [AddedCell(20 + i, "sigmoid", src, ("_quiet_exp",))
                       for i, src in enumerate(added)]
    scan_solutions(sub, ctx)
    draw_cases(sub, ctx)
    sub.run = RunOutcome()
    for test in ("test_sigmoid", "test_relu"):
        index, arrays, calls = TESTS.index(test), {}, []
        for number, call in enumerate(sub.cases[index]):
            records = []
            for k, expected in enumerate(call.expected):
                key = f"c{number}_k{k}_0"
                arrays[key] = np.asarray(expected)
                records.append({"leaves": [{"n": 0, "key": key}], **(record_extra or {})})
            calls.append({"cases": records})
        sub.outputs[index] = ({"calls": calls}, arrays)
    judge_tests(sub, ctx)
    return {r.test: r for r in sub.results}


@pytest.mark.parametrize("variant", sorted(SWITCHED))
def test_a_switched_sigmoid_with_right_numbers_is_held_for_review(variant):
    """Right numbers, checks switched off: flagged, 0 points, the concept named."""
    rows = _judged({"sigmoid": SWITCHED[variant]})
    sigmoid = rows["test_sigmoid"]
    assert (sigmoid.status, sigmoid.points, sigmoid.max_points) == ("flagged", 0.0, 2.0)
    assert MESSAGE in sigmoid.message and any(f.startswith(FLAG) for f in sigmoid.flags)
    assert (rows["test_relu"].status, rows["test_relu"].points) == ("passed", 1.0)


def test_an_errstate_in_relu_zeroes_nothing():
    """relu promises nothing about overflow: its errstate is ordinary code."""
    rows = _judged({"relu": RELU_ERRSTATE})
    for test, points in (("test_sigmoid", 2.0), ("test_relu", 1.0)):
        assert (rows[test].status, rows[test].points, rows[test].flags) == ("passed", points, [])


def test_a_right_stable_sigmoid_keeps_its_points():
    rows = _judged({"sigmoid": STABLE})
    assert (rows["test_sigmoid"].status, rows["test_sigmoid"].points) == ("passed", 2.0)


def test_a_switch_in_an_added_helper_cell_is_reached():
    rows = _judged({"sigmoid": USES_HELPER}, added=(HELPER,))
    assert (rows["test_sigmoid"].status, rows["test_sigmoid"].points) == ("flagged", 0.0)
    assert "added cell 21" in rows["test_sigmoid"].message
    assert rows["test_relu"].points == 1.0


def test_a_setting_left_switched_by_the_call_is_held_for_review():
    """The child's runtime record (np.geterr() after the call) flags the test too."""
    rows = _judged({}, record_extra={"float_switch": ["over", "<script>"]})
    sigmoid = rows["test_sigmoid"]
    assert (sigmoid.status, sigmoid.points) == ("flagged", 0.0)
    assert "(over)" in sigmoid.message and "<script>" not in sigmoid.message
    assert rows["test_relu"].status == "passed"  # no float_errors: the record is not read


# --- the child's runtime check ------------------------------------------------------------
@pytest.fixture(scope="module")
def child():
    return T.child_module()


def test_the_child_records_a_setting_the_call_left_switched(child):
    def leaky(x):
        np.seterr(all="ignore")
        return 1 / (1 + np.exp(-x))

    before = np.geterr()
    record, _ = child.call_case(leaky, [np.array([-1000.0, 0.0])], np, 10**6, "leaf",
                                float_errors=True)
    assert record["float_switch"] == ["over", "invalid", "divide"]
    assert np.geterr() == before, "the grader's errstate restores the setting"
    contained = lambda x: np.exp(x)  # noqa: E731 (no switch: the overflow raises)
    record, _ = child.call_case(contained, [np.array([1.0])], np, 10**6, "leaf", float_errors=True)
    assert "float_switch" not in record and "exception" not in record


# --- the in-notebook check ----------------------------------------------------------------
_CELLS = itertools.count()


@pytest.fixture
def notebook():
    """Run sources as IPython runs cells: each compiled under its own name, kept in
    ``linecache`` (where ``inspect`` and the check read them back)."""
    names, namespace = [], {"np": np, "__name__": "__main__"}

    def run(source: str) -> dict:
        name = f"<ipython-input-{next(_CELLS)}-float-switches>"
        names.append(name)
        linecache.cache[name] = (len(source), None, source.splitlines(True), name)
        exec(compile(source, name, "exec"), namespace)
        return namespace

    yield run
    for name in names:
        linecache.cache.pop(name, None)


@pytest.mark.parametrize("variant", sorted(SWITCHED))
def test_check_refuses_a_switched_sigmoid_in_the_notebook(notebook, variant):
    """The student learns it before submitting, whatever the numbers."""
    before = np.geterr()
    namespace = notebook(SWITCHED[variant])
    np.seterr(**before)  # a cell-level np.seterr must not leak into the next test
    with pytest.raises(CheckFailure) as info:
        check("sigmoid", namespace["sigmoid"])
    message = str(info.value)
    assert message.startswith("sigmoid: held for review") and MESSAGE in message


def test_check_follows_a_helper_in_another_cell(notebook):
    notebook(HELPER)
    with pytest.raises(CheckFailure, match="held for review") as info:
        check("sigmoid", notebook(USES_HELPER)["sigmoid"])
    assert "the cell defining _quiet_exp, line 2" in str(info.value)


def test_check_passes_a_stable_sigmoid_and_a_relu_with_errstate(notebook, capsys):
    namespace = notebook(STABLE)
    check("sigmoid", namespace["sigmoid"], hidden=True, seed=3)
    check("relu", notebook(RELU_ERRSTATE)["relu"])
    assert "sigmoid: " in capsys.readouterr().out


def test_check_sees_a_leaked_setting_when_the_source_is_unknown():
    """Without source (exec'd, not in linecache) the runtime check still applies."""
    namespace = {"np": np}
    exec("def sigmoid(x):\n    np.seterr(all='ignore')\n" + NAIVE, namespace)
    with pytest.raises(CheckFailure, match="NumPy's setting was over='ignore'") as info:
        check("sigmoid", namespace["sigmoid"])
    assert MESSAGE in str(info.value)


def test_check_refuses_it_in_a_real_ipython_shell():
    """IPython keeps each cell in linecache: the check reads the student's cell there."""
    script = textwrap.dedent(f'''
        from IPython.core.interactiveshell import InteractiveShell
        shell = InteractiveShell.instance()
        shell.run_cell("import numpy as np\\nfrom course_nn.grading import check")
        shell.run_cell({ERRSTATE!r})
        result = shell.run_cell("check('sigmoid', sigmoid)")
        print("RESULT", type(result.error_in_exec).__name__)
        shell.run_cell({STABLE!r})
        result = shell.run_cell("check('sigmoid', sigmoid)")
        print("RESULT", type(result.error_in_exec).__name__)
    ''')
    run = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         timeout=120, cwd=T.ROOT)
    assert run.stdout.count("RESULT") == 2, run.stderr[-2000:]
    assert "RESULT CheckFailure" in run.stdout and "RESULT NoneType" in run.stdout
    assert "held for review" in run.stdout


# --- end to end: course-nn grade on ex02 ---------------------------------------------------
@pytest.mark.slow
def test_the_hardened_grader_holds_switched_sigmoids_for_review(tmp_path):
    """One batch: every switch scores 0 on sigmoid (flagged when its numbers are right),
    the stable sigmoid and the relu with errstate keep their points."""
    course = T.make_course(tmp_path / "course", [A])
    base = T.solutions(T.read(T.ROOT / "solutions" / A / f"{A}.ipynb"))
    released = T.read(T.ROOT / "exercises" / A / f"{A}.ipynb")
    plan = {f"switch{i:02d}": {"sigmoid": src} for i, src in enumerate(SWITCHED.values())}
    plan |= {"stable": {"sigmoid": STABLE}, "relu_errstate": {"relu": RELU_ERRSTATE}}
    for student, sources in plan.items():
        T.submit(course, student, A, T.with_sources(released, dict(base, **sources)))
    report = grade_assignment(A, course=course, jobs=2, progress=False, gradebook=False,
                              out=course / "graded", limits=Limits(timeout=60))
    rows = {r.student: {t.test: t for t in r.tests} for r in report.results}
    assert sorted(rows) == sorted(plan)
    for i, variant in enumerate(SWITCHED):
        sigmoid = rows[f"switch{i:02d}"]["test_sigmoid"]
        assert sigmoid.points == 0.0 and any(f.startswith(FLAG) for f in sigmoid.flags), variant
        assert sigmoid.status in ("flagged", "failed"), variant  # failed: the overflow still raised
        assert rows[f"switch{i:02d}"]["test_relu"].points == 1.0, variant
    assert rows["switch00"]["test_sigmoid"].status == "flagged"  # errstate: right numbers
    assert MESSAGE in rows["switch00"]["test_sigmoid"].message
    for student in ("stable", "relu_errstate"):
        assert rows[student]["test_sigmoid"].points == 2.0, student
        assert rows[student]["test_relu"].points == 1.0, student
        assert not rows[student]["test_relu"].flags, student


def test_strings_built_past_the_budget_are_a_finding_not_a_cost():
    """A cell that builds megabytes of strings is read in bounded time and memory; what
    cannot be read is a finding (held for review), never a grader error."""
    bomb = "def sigmoid(x):\n    return [" + ",".join(["'a' * 9000"] * 6000) + "]\n"
    assert len(bomb) < 100_000
    found = _switches(bomb)
    assert found and all("more strings than can be read" in f for f in found)
