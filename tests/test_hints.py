"""Every check's hints diagnose without dictating: no code, no numbers, no formula to type.

The texts come from the registry itself: for each registered check, the string
literals of its hint functions' source (docstrings and short keys left out), the
strings they close over, and the string values of module-level dicts they read
(such as a table of advice per target). A hint names the symptom and the concept;
the task text states the math.
"""

from __future__ import annotations

import ast
import copy
import inspect
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from course_nn.grading import REGISTRY, CheckFailure, check
from course_nn.grading.compare import flatten_output, same_answer
from course_nn.grading.core import KINDS, flat_numbers, float_error_advice
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.cases import DrawnCall
from course_nn.grading.hardened.judge import Verdict, _judge_case
from course_nn.grading.messages import GIVEN_BEHAVIOUR
from tests.exercise_items import hint_problems

pytestmark = pytest.mark.grading


def _strings_in_source(func) -> list[str]:
    """String literals (f-strings with their fields as X) in ``func``'s source, no docstrings."""
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return []
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    inside_fstring = {id(part) for node in ast.walk(tree) if isinstance(node, ast.JoinedStr)
                      for part in node.values}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            found.append("".join(p.value if isinstance(p, ast.Constant) else "X"
                                 for p in node.values))
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in docstrings and id(node) not in inside_fstring):
            found.append(node.value)
    return found


def _closed_over(func) -> list[str]:
    """Strings a hint closes over or reads from its module (an advice table, say)."""
    values = []
    for cell in getattr(func, "__closure__", None) or ():
        try:
            values.append(cell.cell_contents)
        except ValueError:
            continue
    code = getattr(func, "__code__", None)
    names = code.co_names if code else ()
    values += [func.__globals__[n] for n in names if n in getattr(func, "__globals__", {})]
    found = []
    for value in values:
        if isinstance(value, str):
            found.append(value)
        elif isinstance(value, dict):
            found += [v for v in value.values() if isinstance(v, str)]
    return found


def hint_texts(check) -> list[str]:
    """Every prose string (three words or more) the check's hints can show."""
    texts = []
    for hint in check.hints:
        texts += _strings_in_source(hint) + _closed_over(hint)
        for cell in getattr(hint, "__closure__", None) or ():  # a hint built by a helper
            inner = getattr(cell, "cell_contents", None)
            if callable(inner) and getattr(inner, "__code__", None) is not None:
                texts += _strings_in_source(inner)
    return [t for t in dict.fromkeys(texts) if len(t.split()) >= 3]


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_hints_diagnose_without_dictating(name):
    """Does no hint of the check contain code, numbers or a formula to type?"""
    problems = {text: hint_problems(text) for text in hint_texts(REGISTRY[name])}
    assert not {t: p for t, p in problems.items() if p}


def test_every_check_with_hints_has_readable_texts():
    """Are the hint texts found at all (so the test above cannot pass vacuously)?"""
    with_hints = [c for c in REGISTRY.values() if c.hints]
    found = [c.name for c in with_hints if hint_texts(c)]
    assert len(found) >= 0.8 * len(with_hints)


def test_the_float_error_advice_names_overflow_without_code():
    text = float_error_advice("overflow encountered in exp")
    assert "overflow" in text.split("likely bug:")[1]
    assert not hint_problems(text.split("likely bug:")[1])


@pytest.mark.parametrize("text, kind", [
    ("use np.exp(-np.abs(x)) and np.where", "code"),
    ("negate OR's weights and bias: g(10 - 20 x1 - 20 x2)", "call"),
    ("relu is max(0, x)", "call"),
    ("tanh'(x) = 1 - tanh(x)^2", "formula"),
    ("use 1[x > 0], strictly greater", "bracket"),
    ("scale up the weights and bias so every logit is at least 10 away", "number"),
    ("weights applied as X @ W instead", "operator"),
    ("the loss is `mean`", "code"),
])
def test_the_rules_catch_dictating_hints(text, kind):
    """Does each rule fire on an example of what it forbids?"""
    assert any(kind in p for p in hint_problems(text)), hint_problems(text)


@pytest.mark.parametrize("text", [
    "rows do not sum to 1",
    "the result changes when every logit is shifted by the same constant: the exponentials "
    "overflow",
    "you summed the squared errors; the loss is their mean",
    "a two-layer network needs a nonlinearity between its layers (row-major order)",
])
def test_the_rules_let_diagnoses_through(text):
    assert hint_problems(text) == []


def test_every_registered_check_is_used_by_an_exercise():
    """A check that no exercise calls is dead weight: remove it or use it (issue 10, item 6)."""
    import re

    from tests.exercise_items import T

    used = set()
    for notebook in sorted((T.ROOT / "solutions").glob("*/*.ipynb")):
        for cell in T.read(notebook)["cells"]:
            source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
            used |= set(re.findall(r'check\("(\w+)"', source))
    assert sorted(set(REGISTRY) - used) == []


# --- the feedback policy per kind of item (docs/exercise_items.md) --------------------------
# Every registered check is held to the policy of its kind, in both grading paths: the
# in-notebook ``check`` and the hardened judge's ``_judge_case`` (fed the numbers a child
# would send back). tests/test_feedback_policy.py runs the same answers through the whole
# hardened grader.

#: Words that tell the student what to do: a case title describes the case, never the fix.
FIX_WORDS = ("must", "should", "need", "needs", "instead", "shifted", "keep", "use",
             "make sure", "remember", "don't", "do not", "give", "gives", "still", "falls",
             "rounds", "counts", "exact", "saturates", "largest", "empty", "recovery")

#: A number written in a message (not a digit inside a name such as z1, b2 or Theta1_22).
NUMBER = re.compile(r"(?<![\w.])-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?")


def _by_kind(kind: str) -> list[str]:
    return sorted(name for name, c in REGISTRY.items() if c.kind == kind)


def zeros_like_answer(value):
    """The reference's answer with every number replaced by 0.0 (lists and floats)."""
    if isinstance(value, (tuple, list)):
        return type(value)(zeros_like_answer(v) for v in value)
    shape = np.shape(np.asarray(value, dtype=np.float64))
    return np.zeros(shape).tolist() if shape else 0.0


def leaked_numbers(message: str, reference, answer) -> list[str]:
    """Numbers of ``message`` (its header line dropped: case numbers, seed) that give away a
    value of ``reference`` the student's ``answer`` does not already hold.

    Compared numerically: a written number with d decimals reveals v when it equals v
    rounded to d decimals (an integer only when v is that integer); and the reference
    values formatted several ways (2 to 6 decimals, 4 and 6 significant digits, repr)
    must not appear as text either."""
    body = message.split("\n", 1)[1] if "\n" in message else ""
    typed = flat_numbers(answer)
    secrets_ = [float(v) for v in flat_numbers(reference)
                if not np.any(np.abs(typed - v) <= 1e-12)]
    found = []
    for token in NUMBER.findall(body):
        value = float(token)
        mantissa = token.lower().split("e")[0]
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        for v in secrets_:
            if "e" in token.lower():
                hit = np.isclose(value, v, rtol=1e-3, atol=0)
            elif decimals == 0:
                hit = abs(value - v) < 1e-9
            else:
                hit = abs(value - round(v, decimals)) < 1e-9
            if hit:
                found.append(f"{token} (reference {v:.6g})")
    for v in secrets_:
        forms = {f"{v:.{k}f}" for k in range(2, 7)} | {f"{v:.4g}", f"{v:.6g}", repr(v)}
        found += [f"text {form!r}" for form in forms
                  if len(form.strip("-0.")) > 1 and form in body]
    return found


def judged_message(check, got, number: int = 0, hidden: bool = False, seed: int = 0) -> str:
    """The hardened judge's message for ``got`` as the answer to case ``number``, as if a
    child had sent its numbers back (the answer's parts flattened into arrays)."""
    cases = check.cases(hidden, seed)
    expected = [check.reference(*c.args) for c in cases]
    call = DrawnCall(check, hidden, seed if hidden else None, cases, expected)
    leaves = flatten_output(got)
    arrays = {f"k{i}": np.asarray(leaf, dtype=np.float64) for i, leaf in enumerate(leaves)}
    record = {"leaves": [{"n": i, "key": f"k{i}"} for i in range(len(leaves))]}
    with pytest.raises(Verdict) as info:
        _judge_case(call, number, record, arrays)
    assert info.value.status == "failed"
    return info.value.message


def notebook_message(name: str, func, hidden: bool = False, seed: int | None = None) -> str:
    with pytest.raises(CheckFailure) as info:
        check(name, func, hidden=hidden, seed=seed)
    return str(info.value)


def test_every_check_declares_a_kind_that_fits_the_readme_table():
    """Is each check's kind one of the five, as the README's exercise table lists it?"""
    readme = (T.ROOT / "README.md").read_text()
    table = readme[readme.index("| exercise | implement | by hand |"):]
    columns = {1: "implement", 2: "by_hand", 3: "debugging", 4: "transfer"}
    listed = {}
    for row in table.splitlines()[2:]:
        if not row.startswith("| `ex"):
            break
        cells = row.split("|")[1:-1]
        for index, kind in columns.items():
            listed |= {name: kind for name in re.findall(r"`(\w+)`", cells[index])}
    assert set(listed) == set(REGISTRY), "the README lists every registered check once"
    for name, kind in listed.items():
        own = REGISTRY[name].kind
        assert own in KINDS, name
        assert own == kind or (own == "structure" and kind in ("implement", "transfer")), name
    assert set(_by_kind("structure")) == {"boolean_nor", "parity_network", "max_network",
                                          "initial_loss_check", "overfit_tiny_batch",
                                          "tune_and_train"}


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_case_titles_describe_the_case_not_the_fix(name):
    spec = REGISTRY[name]
    titles = {c.label for c in spec.cases(False)}
    if name not in ("train_and_predict", "torch_train_and_predict"):  # each draws a split
        for seed in range(3):
            titles |= {c.label for c in spec.cases(True, seed)}
    for title in titles:
        words = [w for w in FIX_WORDS if re.search(rf"\b{re.escape(w)}\b", title, re.I)]
        assert not words, f"{title!r}: {words}"


@pytest.mark.parametrize("name", _by_kind("by_hand"))
def test_a_by_hand_answer_of_zeros_gets_no_expected_value_back(name):
    """Zeros typed in, in either grading path: 0 points, the quantities named, no number of
    the reference in the message (the issue's done-criterion, judge level)."""
    spec = REGISTRY[name]
    reference = spec.reference()
    zeros = zeros_like_answer(reference)
    assert len(spec.parts) == flat_numbers(reference).size, "one name per number"
    for path, message in [("notebook", notebook_message(name, lambda: zeros)),
                          ("hardened", judged_message(spec, zeros))]:
        assert "expected:" not in message and "likely bug:" in message, (path, message)
        assert not leaked_numbers(message, reference, zeros), (path, message)
        problem = message.split("  problem: ", 1)[1]
        assert any(f"{part} is too" in problem or f"{part} has the wrong sign" in problem
                   for part in spec.parts), (path, message)


def test_a_by_hand_problem_says_which_way_each_quantity_is_off():
    message = notebook_message("linear_by_hand", lambda: (0.0, [0.0, 0.0], 0.0))
    assert "problem: J is too small, dJ/dW1 is too small, dJ/dW2 is too large, dJ/db is too " \
           "small\n" in message
    message = notebook_message("linear_by_hand", lambda: (19 / 12, [-1.0, 2.0], 1 / 3))
    assert "dJ/dW1 has the wrong sign, dJ/dW2 has the wrong sign; the other numbers are right" \
        in message
    assert "    dJ/dW2 = 2\n" in message  # the student's own numbers, one named line each


def _given_failures(spec):
    """The public cases on which the given function is wrong: (index, the child's record of
    its answer, the arrays of that record), as the hardened child would send them back."""
    found = []
    for k, case in enumerate(spec.cases(False)):
        try:
            with np.errstate(all="ignore"):
                out = spec.given(*copy.deepcopy(case.args))
        except Exception as err:  # the given code raises on this case
            found.append((k, {"exception": {"type": type(err).__name__, "message": str(err),
                                            "where": "line 1"}}, {}))
            continue
        if not same_answer(out, spec.reference(*copy.deepcopy(case.args)), spec.rtol, spec.atol):
            leaves = flatten_output(out)
            found.append((k, {"leaves": [{"n": i, "key": f"k{i}"} for i in range(len(leaves))]},
                          {f"k{i}": np.asarray(leaf, dtype=np.float64)
                           for i, leaf in enumerate(leaves)}))
    return found


@pytest.mark.parametrize("name", _by_kind("debugging"))
def test_the_given_function_unchanged_hears_only_that_it_behaves_like_it(name):
    """The given function scores 0 in both paths, and its message is the case header and
    the one line: no input, no expected value, no diagnosis (the issue's done-criterion)."""
    spec = REGISTRY[name]
    assert spec.given is not None
    header = rf"{name}: public case \d+ of \d+ \(.*\) failed"
    line = re.escape(f"\n  problem: {GIVEN_BEHAVIOUR}")
    assert re.fullmatch(header + line, notebook_message(name, spec.given)), name
    hidden = notebook_message(name, spec.given, hidden=True, seed=7)
    assert re.fullmatch(rf"{name}: hidden case \d+ of \d+ \(.*\) \[seed 7\] failed" + line, hidden)
    failures = _given_failures(spec)
    assert failures, "the given function fails a public case"
    cases = spec.cases(False)
    call = DrawnCall(spec, False, None, cases, [spec.reference(*c.args) for c in cases])
    for k, record, arrays in failures:
        with pytest.raises(Verdict) as info:
            _judge_case(call, k, record, arrays)
        assert info.value.status == "failed"
        assert re.fullmatch(header + line, info.value.message), (name, info.value.message)


@pytest.mark.parametrize("name", _by_kind("debugging"))
def test_debugging_hints_never_name_the_planted_bug(name):
    """A partial repair hears a symptom: no hint speaks of the given bug."""
    for text in hint_texts(REGISTRY[name]):
        assert not re.search(r"given|planted|still", text, re.I), text


def right_answer(name: str):
    """The first right answer of ``name`` in its chapter's table, as a function (for the
    items whose reference is no answer: a structure's description without weights, or a
    re-run item whose judge wants what the student returns, not what the reference does)."""
    import importlib

    for chapter in range(1, 9):
        table = importlib.import_module(f"tests.test_checks_ch{chapter:02d}").ITEMS
        for item in table:
            if item.check == name:
                namespace = {"np": np}
                exec(item.right[0], namespace)  # noqa: S102 (the tests' own answer)
                return namespace[name]
    raise KeyError(name)


def _right_weights(name: str):
    """The weights of the first right answer of structure ``name`` (no arguments)."""
    return right_answer(name)()


@pytest.mark.parametrize("name", [n for n in _by_kind("structure") if not REGISTRY[n].arg_names])
def test_a_structure_failure_shows_no_reference_weights(name):
    spec = REGISTRY[name]
    weights = getattr(spec.reference(), "params", None)
    if weights is None:  # a description without weights: compare with a right answer's
        weights = _right_weights(name)
    zeros = [(np.zeros((1, 2)), np.zeros(1))]
    for path, message in [("notebook", notebook_message(name, lambda: zeros)),
                          ("hardened", judged_message(spec, zeros))]:
        assert "expected:" not in message and "got:\n    W1 = " in message, (path, message)
        assert not leaked_numbers(message, weights, [0.0, 1.0, -1.0]), (path, message)


def test_tuple_outputs_print_one_labelled_line_per_part_in_both_paths():
    wrong = lambda X, y, W, b: (np.zeros_like(W), 1.0)  # noqa: E731
    spec = REGISTRY["linear_mse_grads"]
    for message in (notebook_message("linear_mse_grads", wrong),
                    judged_message(spec, wrong(*spec.cases(False)[0].args))):
        assert "\n  expected:\n    dW = [-1.3333 -2.6667]  (shape (2,))\n    db = 0.\n" in message
        assert "\n  got:\n    dW = [0. 0.]  (shape (2,))\n    db = 1.\n" in message
        assert "problem: dW: values differ" in message


def test_the_in_place_message_names_the_argument_in_both_paths():
    def mutating(y_hat, y):
        y -= 1.0
        return float(np.mean((y_hat - y) ** 2))
    assert "modified its input y in place" in notebook_message("mse", mutating)
    spec = REGISTRY["mse"]
    cases = spec.cases(False)
    call = DrawnCall(spec, False, None, cases, [spec.reference(*c.args) for c in cases])
    with pytest.raises(Verdict, match="modified its input y_hat and y in place"):
        _judge_case(call, 0, {"mutated": [0, 1], "leaves": []}, {})


def test_the_message_module_does_not_import_the_hardened_grader():
    code = ("import sys, course_nn.grading.messages; "
            "print(any(m.startswith('course_nn.grading.hardened') for m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


LINEAR = (19 / 12, [1.0, -2.0], 1 / 3)  # linear_by_hand's reference


@pytest.mark.parametrize(("leak", "reference"), [
    ("  expected: (1.5833, [ 1. -2.], 0.3333)", LINEAR),  # the old message of linear_by_hand
    ("  problem: number 1 of 4 is off: it should be 1.583", LINEAR),
    ("  likely bug: dJ/db is 0.33, not 0", LINEAR),
    ("  expected: (84060, 160, 83500)", (84060, 160, 83500)),  # parameters_by_hand's
])
def test_the_leak_detector_finds_reference_numbers(leak, reference):
    """Can the by-hand test fail: does it see a reference value in an old-style message?"""
    assert leaked_numbers("head\n" + leak, reference, zeros_like_answer(reference))
