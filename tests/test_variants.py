"""Numbers of one's own (issue #20): a by-hand variant per student id.

docs/exercise_items.md, "Numbers of one's own". Both grading paths: the notebook's
``check()`` works on the notebook's ``STUDENT_ID`` (or the JupyterHub user); the hardened
grader on the submission folder's id, flagging a notebook that worked on another id's
numbers. The for-credit bundle stores no expected value of any variant.
"""

from __future__ import annotations

import copy
import hashlib
import json
import sys

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_nn.grading import REGISTRY, check
from course_nn.grading.hardened import testing as T
from course_nn.grading.inline import CheckFailure
from course_nn.grading.variant import (
    PARAMS,
    SWITCH_VARIABLE,
    VARIANT_SPACE,
    VariantSettings,
    expected_answers,
    normalise_id,
    run_seed,
    settings_from,
    variant_number,
)

ON = VariantSettings(enabled=True)
OFF = VariantSettings(enabled=False)
ITEMS = ("linear_by_hand", "logistic_by_hand", "parameters_by_hand", "softmax_by_hand",
         "cross_entropy_by_hand", "backprop_by_hand", "confusion_by_hand")
#: The by-hand items of ex04-ex07 (issue #20, part 2) and their assignments.
LATER_ITEMS = {"softmax_by_hand": "ex04_softmax", "cross_entropy_by_hand": "ex05_cross_entropy",
               "backprop_by_hand": "ex06_backprop", "confusion_by_hand": "ex07_lab"}


def _softmax(z):
    e = np.exp(np.asarray(z, dtype=float) - np.max(z))
    return e / e.sum()


def _lectures_backward_pass() -> list[float]:
    """Chapter 6's example worked out independently of the grader: a(2), delta(3), delta(2),
    dJ/dTheta1_22 (row 2 = hidden unit 2, column 2 = x_2)."""
    a2 = 1 / (1 + np.exp(-np.array([0.1 + 0.4 - 0.6, -0.2 + 0.2 + 1.0])))
    delta3 = _softmax([0.3 - 0.6 * a2[0] + 0.8 * a2[1], -0.1 + 0.5 * a2[0] - 0.4 * a2[1]]) - [0, 1]
    delta2 = np.array([-0.6 * delta3[0] + 0.5 * delta3[1],
                       0.8 * delta3[0] - 0.4 * delta3[1]]) * a2 * (1 - a2)
    return [*a2, *delta3, *delta2, delta2[1] * 2.0]


#: The numbers every student had before variants (the book's examples, worked out).
TODAY = {
    "linear_by_hand": [19 / 12, 1.0, -2.0, 1 / 3],
    "logistic_by_hand": [-0.5, 1 / (1 + np.exp(0.5)), np.log(1 + np.exp(0.5)),
                         1 / (1 + np.exp(0.5)) - 1, 3 * (1 / (1 + np.exp(0.5)) - 1)],
    "parameters_by_hand": [84_060, 160, 83_500],
    "softmax_by_hand": [0.0, 3.0, 1.0, *_softmax([0.0, 3.0, 1.0])],
    "cross_entropy_by_hand": [(np.log(2) + np.log(4)) / 2, 1.5],
    "backprop_by_hand": _lectures_backward_pass(),
    "confusion_by_hand": [115 / 150, 40 / 61, 40 / 50],
}


def flat(value) -> np.ndarray:
    from course_nn.grading.core import flat_numbers

    return flat_numbers(value)


def numbers_in(value) -> list[float]:
    """Every number of a JSON value."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers_in(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers_in(v)]
    return [value] if isinstance(value, (int, float)) and not isinstance(value, bool) else []


def answers_of(name: str, student: str, setting: VariantSettings = ON):
    """The right answer of ``student`` for item ``name`` (what a careful student types)."""
    return expected_answers(name, student, setting)[2]


@settings(max_examples=60, deadline=None)
@given(assignment=st.text(min_size=1, max_size=20), student=st.text(max_size=30),
       salt=st.text(min_size=1, max_size=12))
def test_the_variant_is_a_pure_function_of_assignment_id_and_salt(assignment, student, salt):
    """Same (assignment, id, salt) -> same variant, the documented hash; blanks around the id
    do not count; an empty id or variants off -> 0; otherwise never 0 (the book's)."""
    setting = VariantSettings(True, salt)
    first = variant_number(assignment, student, setting)
    assert first == variant_number(assignment, student, setting)
    assert first == variant_number(assignment, f"  {student}\t", setting)
    who = normalise_id(student)
    if not who:
        assert first == 0
    else:
        digest = hashlib.sha256(f"{salt}:{assignment}:{who}".encode()).digest()
        assert first == 1 + int.from_bytes(digest[:8], "big") % (VARIANT_SPACE - 1)
        assert 1 <= first < VARIANT_SPACE
    assert variant_number(assignment, student, VariantSettings(False, salt)) == 0


def test_the_id_salt_and_assignment_each_change_the_variant():
    base = variant_number("ex01", "ada", ON)
    assert variant_number("ex01", "bob", ON) != base
    assert variant_number("ex02", "ada", ON) != base
    assert variant_number("ex01", "ada", VariantSettings(True, "other-year")) != base
    assert variant_number("ex01", "ADA", ON) == base  # ids compare case-blind


def test_variants_off_gives_everyone_variant_zero_and_the_book_seed():
    ids = ["ada", "bob", "carol", "x" * 40]
    assert {variant_number("ex01_linear_regression", i, OFF) for i in ids} == {0}
    assert run_seed(0, 7) == 7 and run_seed(12345, 7) == 12345
    for name in ITEMS:
        assert {json.dumps(expected_answers(name, i, OFF)[1]) for i in ids} == {
            json.dumps(PARAMS[name].params(0))}


def test_the_class_switch_reads_the_environment():
    assert settings_from({}).enabled is False  # unset: one variant (DEFAULT_ENABLED)
    assert settings_from({SWITCH_VARIABLE: "on"}).enabled is True
    assert settings_from({SWITCH_VARIABLE: " OFF "}).enabled is False
    assert settings_from({"COURSE_NN_VARIANT_SALT": "2027"}).salt == "2027"


@pytest.mark.parametrize("name", ITEMS)
def test_variant_zero_reproduces_todays_numbers(name):
    spec = REGISTRY[name]
    (case,) = spec.cases(hidden=False, variant=0)
    np.testing.assert_allclose(flat(spec.expected(case)), TODAY[name], rtol=1e-12)
    np.testing.assert_allclose(flat(spec.reference()), TODAY[name], rtol=1e-12)  # defaults
    (hidden,) = spec.cases(hidden=True, seed=3, variant=0)
    assert hidden.probe == case.probe


@pytest.mark.parametrize("name", ITEMS)
def test_numbers_of_many_ids_are_distinct_and_usable(name):
    """Ids get different numbers (almost always), and every variant's answers are finite."""
    spec = REGISTRY[name]
    params = [json.dumps(PARAMS[name].params(variant_number(spec.variant_key, f"s{i}", ON)))
              for i in range(40)]
    assert len(set(params)) >= 30
    for i in range(40):
        assert np.all(np.isfinite(flat(answers_of(name, f"s{i}"))))


@pytest.fixture
def notebook_id(monkeypatch):
    """Set the notebook's STUDENT_ID (in ``__main__``, as IPython's user namespace is) with
    variants on; returns the setter."""
    monkeypatch.setenv(SWITCH_VARIABLE, "on")
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    main = sys.modules["__main__"]

    def set_id(value: str) -> None:
        monkeypatch.setattr(main, "STUDENT_ID", value, raising=False)

    return set_id


@pytest.mark.parametrize("name", ITEMS)
def test_inline_check_grades_each_id_against_its_own_numbers(name, notebook_id, capsys):
    """Two ids, two sets of numbers: each right answer passes under its own STUDENT_ID and
    fails under the other's, and the failure never prints the expected numbers."""
    ada, bob = answers_of(name, "ada"), answers_of(name, "bob")
    assert not np.allclose(flat(ada), flat(bob))
    notebook_id("ada")
    check(name, lambda: copy.deepcopy(ada))
    assert "passed" in capsys.readouterr().out
    with pytest.raises(CheckFailure) as failure:
        check(name, lambda: copy.deepcopy(bob))
    message = str(failure.value)
    assert "expected" not in message.lower()  # the by-hand policy: never the right numbers
    for number in flat(ada):
        if number != round(number) and not np.isclose(flat(bob), number, atol=1e-3).any():
            assert f"{number:.3f}" not in message, message
    notebook_id("bob")
    check(name, lambda: copy.deepcopy(bob))


def test_inline_check_falls_back_on_the_jupyterhub_user(notebook_id, monkeypatch):
    notebook_id("")
    monkeypatch.setenv("JUPYTERHUB_USER", "carol")
    check("linear_by_hand", lambda: answers_of("linear_by_hand", "carol"))
    with pytest.raises(CheckFailure):
        check("linear_by_hand", lambda: TODAY["linear_by_hand"])


def test_hints_read_the_variant_numbers(notebook_id):
    """A typical mistake on one's own numbers is named (the hints use the case's numbers)."""
    notebook_id("ada")
    J, dW, db = answers_of("linear_by_hand", "ada")
    with pytest.raises(CheckFailure, match="mean of the squared errors, not their sum"):
        check("linear_by_hand", lambda: (3 * J, dW, db))


def _typical_mistake(name: str, student: str):
    """(a typical wrong answer on the student's own numbers, the words of its hint): each
    needs the variant's numbers, not the book's, to be recognised."""
    params = PARAMS[name].params(variant_number(PARAMS[name].assignment, student))
    right = answers_of(name, student)
    if name == "softmax_by_hand":
        logits = np.asarray(params["W"]) @ params["x"]
        return (logits, _softmax(logits)), "biases are missing"
    if name == "cross_entropy_by_hand":
        return (2 * right[0], 2 * right[1]), "summed over the samples"
    if name == "backprop_by_hand":
        a2, delta3, delta2, entry = right
        return (a2, -np.asarray(delta3), delta2, entry), "output error has the wrong sign"
    accuracy, precision, recall = right  # confusion_by_hand
    C = np.asarray(params["confusion"], dtype=float)
    if student.endswith("2"):
        return (np.mean(np.diag(C) / C.sum(axis=1)), precision, recall), "mean of the classes"
    return (accuracy, recall, precision), "precision and recall are swapped"


@pytest.mark.parametrize("name", LATER_ITEMS)
@pytest.mark.parametrize("student", ["ada", "s2"])
def test_later_hints_read_the_variant_numbers(name, student, notebook_id):
    """ex04-ex07: the hint of a typical mistake is found on the student's own numbers."""
    notebook_id(student)
    wrong, words = _typical_mistake(name, student)
    with pytest.raises(CheckFailure, match=words):
        check(name, lambda: copy.deepcopy(wrong))


@pytest.mark.parametrize("name", LATER_ITEMS)
def test_every_variant_is_worth_working_out(name):
    """ex04-ex07, 200 ids: every number of the answer is away from zero by more than a
    typed answer may be off (so no 0 passes), and a typical mistake gets its hint."""
    from course_nn.grading.core import Case

    spec = REGISTRY[name]
    tolerance = 5e-3
    for i in range(200):
        student = f"id{i}"
        variant = variant_number(spec.variant_key, student, ON)
        (case,) = spec.cases(hidden=False, variant=variant)
        right = flat(spec.expected(case))
        assert np.all(np.isfinite(right))
        if name != "softmax_by_hand":  # a logit may be 0 (the book's first one is)
            assert np.abs(right).min() > 4 * tolerance, (student, case.probe, right)
        else:
            assert np.abs(right[3:]).min() > 4 * tolerance, (student, case.probe, right)
        assert spec.judge(case, spec.expected(case), spec.expected(case)) is None
        for hint in spec.hints:
            assert hint(Case((), "", probe=case.probe), spec.expected(case),
                        spec.expected(case)) is None, (student, case.probe)


# --- the hardened grader --------------------------------------------------------------------
def _code(source: str) -> dict:
    return {"cell_type": "code", "metadata": {}, "source": source, "outputs": []}


def _drawn_for(student: str, notebook: dict, setting: VariantSettings = ON,
               a: str = "ex01_linear_regression", item: str = "linear_by_hand"):
    from course_nn.grading.hardened.assignment import load_spec
    from course_nn.grading.hardened.cases import draw_cases
    from course_nn.grading.hardened.model import Context, Submission

    ctx = Context(load_spec(T.ROOT / "solutions" / a / f"{a}.ipynb"), seed=1, variants=setting)
    sub = Submission(student, T.ROOT, notebook=notebook)
    draw_cases(sub, ctx)
    (call,) = [d for test in sub.cases for d in test
               if d is not None and d.check.name == item and not d.hidden]
    return sub, call


@pytest.mark.parametrize("item", LATER_ITEMS)
def test_the_grader_draws_later_items_for_the_folder_id(item):
    """ex04-ex07: the hardened grader's by-hand case is the folder id's, whatever id the
    notebook typed, and another id's literal is flagged."""
    from course_nn.grading.hardened.cases import OTHER_VARIANT

    a = LATER_ITEMS[item]
    sub, call = _drawn_for("ada", {"cells": [_code('STUDENT_ID = "bob"')]}, a=a, item=item)
    np.testing.assert_allclose(flat(call.expected[0]), flat(answers_of(item, "ada")))
    assert OTHER_VARIANT in sub.flags
    sub, call = _drawn_for("ada", {"cells": [_code('STUDENT_ID = "bob"')]}, OFF, a=a, item=item)
    np.testing.assert_allclose(flat(call.expected[0]), TODAY[item], rtol=1e-12)
    assert not sub.flags


def test_the_grader_uses_the_folder_id_and_flags_another_ids_numbers():
    from course_nn.grading.hardened.cases import OTHER_VARIANT

    ada = answers_of("linear_by_hand", "ada")
    sub, call = _drawn_for("ada", {"cells": [_code('STUDENT_ID = "ada"')]})
    np.testing.assert_allclose(flat(call.expected[0]), flat(ada))
    assert not sub.flags
    sub, call = _drawn_for("ada", {"cells": [_code('STUDENT_ID = "bob"')]})
    np.testing.assert_allclose(flat(call.expected[0]), flat(ada))  # never the notebook's id
    assert OTHER_VARIANT in sub.flags
    assert any(OTHER_VARIANT in f for f in sub.test_flags["test_linear_by_hand"])
    for unknown in ('STUDENT_ID = ""', 'import os\nSTUDENT_ID = os.environ["USER"]'):
        sub, _ = _drawn_for("ada", {"cells": [_code(unknown)]})
        assert not sub.flags  # nothing says which id it worked for
    sub, call = _drawn_for("ada", {"cells": [_code('STUDENT_ID = "bob"')]}, OFF)
    assert not sub.flags  # one variant for everyone
    np.testing.assert_allclose(flat(call.expected[0]), TODAY["linear_by_hand"])


def test_the_student_id_literal_is_read_without_running_code():
    from course_nn.grading.hardened.assignment import MAX_PARSE_CHARS
    from course_nn.grading.hardened.scan import student_id_literal

    cells = [_code('STUDENT_ID = "ada"'), {"cell_type": "markdown", "source": 'STUDENT_ID = "x"'},
             _code('def f():\n    STUDENT_ID = "inner"\n'), _code(['STUDENT_ID', ' = "bob"'])]
    assert student_id_literal({"cells": cells}) == "bob"  # the last top-level literal
    assert student_id_literal({"cells": cells[:3]}) == "ada"
    assert student_id_literal({"cells": [_code("STUDENT_ID = 3")]}) is None
    assert student_id_literal({"cells": [_code('STUDENT_ID = "z"' + " " * MAX_PARSE_CHARS)]}) is None
    assert student_id_literal({"cells": "junk"}) is None and student_id_literal(None) is None


def _by_hand_notebook(assignment: str, item: str, answer, typed_id: str) -> dict:
    """The released notebook with the instructor's solutions, the by-hand answer typed as
    literals, and ``typed_id`` in the STUDENT_ID cell."""
    released = T.read(T.ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    sources = T.solutions(T.read(T.ROOT / "solutions" / assignment / f"{assignment}.ipynb"))
    sources[item] = f"def {item}():\n    return {[float(v) for v in flat(answer)]!r}\n"
    nb = T.with_sources(released, sources)
    (cell,) = [c for c in nb["cells"] if c.get("id") == "student-id"]
    cell["source"] = f'STUDENT_ID = "{typed_id}"\n'
    return nb


def test_the_hardened_grader_grades_each_folder_on_its_own_numbers(tmp_path, monkeypatch):
    """Three submission folders under variants on: ada and bob each typed their own numbers
    (full marks); carol typed ada's numbers and ada's id (the by-hand test fails, flagged)."""
    from course_nn.grading.hardened import grade_assignment
    from course_nn.grading.hardened.cases import OTHER_VARIANT
    from course_nn.grading.hardened.sandbox import Limits

    monkeypatch.setenv(SWITCH_VARIABLE, "on")
    a, item = "ex03_mlp", "parameters_by_hand"
    course = T.make_course(tmp_path / "course", [a])
    for student, typed in [("ada", "ada"), ("bob", "bob"), ("carol", "ada")]:
        T.submit(course, student, a, _by_hand_notebook(a, item, answers_of(item, typed), typed))
    report = grade_assignment(a, course=course, jobs=2, progress=False, gradebook=False,
                              limits=Limits(timeout=60))
    rows = {r.student: {t.test: t for t in r.tests} for r in report.results}
    for student in ("ada", "bob"):
        assert all(t.status == "passed" for t in rows[student].values()), rows[student]
    carol = rows["carol"][f"test_{item}"]
    assert carol.status == "failed" and carol.points == 0
    assert OTHER_VARIANT in carol.message and OTHER_VARIANT in carol.flags[0]
    assert all(t.status == "passed" for name, t in rows["carol"].items() if name != f"test_{item}")


# --- the for-credit bundle ------------------------------------------------------------------
@pytest.mark.parametrize("name", ITEMS)
def test_the_bundle_stores_no_expected_value_and_checks_the_form(name, notebook_id, capsys):
    from course_nn.release_credit.record import Packer, record_check
    from course_nn.release_credit.stored import stored_check

    live = REGISTRY[name]
    packer = Packer()
    entry = record_check(live, packer, "judge_x", set())
    assert entry["cases"] == [] and not packer.arrays
    text = json.dumps(entry)
    assert entry["variants"] == {"size": len(TODAY[name]), "label": live.public_cases()[0].label}
    assert set(numbers_in(entry)) <= {len(TODAY[name]), live.rtol, live.atol, 0}  # no answer
    bundled = stored_check(json.loads(text), {}, {"judge_x": live.judge})
    assert bundled.variant_params is PARAMS[name].params
    notebook_id("ada")
    size = len(TODAY[name])
    import course_nn.grading.core as core

    monkey = dict(core.REGISTRY)
    try:
        core.REGISTRY[name] = bundled
        check(name, lambda: [0.0] * size)  # any values: the form only
        assert "graded when you submit" in capsys.readouterr().out
        with pytest.raises(CheckFailure, match=f"the task asks for {size}"):
            check(name, lambda: [0.0] * (size + 1))
    finally:
        core.REGISTRY.clear()
        core.REGISTRY.update(monkey)


def test_the_instructor_reads_any_students_numbers_and_answers(monkeypatch, capsys):
    from course_nn.grading.own_numbers import main

    monkeypatch.setenv(SWITCH_VARIABLE, "on")
    assert main(["parameters_by_hand", "ada"]) == 0
    out = capsys.readouterr().out
    variant, params, answers = expected_answers("parameters_by_hand", "ada", ON)
    assert f"variant {variant}" in out and f"side = {params['side']}" in out
    assert str(answers[0]) in out
    assert main(["no_such_item", "ada"]) == 2


#: The cells of ex05 and ex06 whose runs a written answer reports, and the book's seeds.
OWN_RUN_CELLS = {("ex05_cross_entropy", "cell-029"): ["0"],
                 ("ex06_backprop", "cell-018"): ["5", "0"],
                 ("ex06_backprop", "cell-024"): ["1"]}


@pytest.mark.parametrize(("assignment", "cell_id"), OWN_RUN_CELLS)
def test_the_written_answers_runs_are_seeded_from_the_variant(assignment, cell_id):
    """Every seed of a "your own runs" cell's random draws (generators, toy data) is
    ``run_seed(variant, book seed)``: no literal seed is left, and the book's seeds are kept
    for variant 0. (The digits' split, ``load_digits_split(seed=0)``, is the class's.)"""
    import ast

    nb = T.read(T.ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    (cell,) = [c for c in nb["cells"] if c.get("id") == cell_id]
    tree = ast.parse("".join(cell["source"]))
    name = lambda call: getattr(call.func, "attr", getattr(call.func, "id", ""))  # noqa: E731
    draws = [n for n in ast.walk(tree) if isinstance(n, ast.Call)
             and name(n) in ("default_rng", "make_three_class_toy")]
    assert draws
    for call in draws:
        seed = call.args[0] if name(call) == "default_rng" else next(
            k.value for k in call.keywords if k.arg == "seed")
        assert not isinstance(seed, ast.Constant), ast.unparse(call)
    text = ast.unparse(tree)
    assert f"notebook_variant('{assignment}')" in text
    assert sorted(ast.unparse(n.args[1]) for n in ast.walk(tree) if isinstance(n, ast.Call)
                  and getattr(n.func, "id", "") == "run_seed") == sorted(OWN_RUN_CELLS[
                      (assignment, cell_id)])


@pytest.mark.parametrize(("assignment", "item"), [
    ("ex01_linear_regression", "linear_by_hand"), ("ex02_activations", "logistic_by_hand"),
    ("ex03_mlp", "parameters_by_hand"),
    *((assignment, item) for item, assignment in LATER_ITEMS.items())])
def test_the_released_notebook_asks_for_the_id_and_prints_the_numbers(assignment, item):
    """The released notebook has the STUDENT_ID placeholder under the setup cell and prints
    the item's numbers before its solution cell; no variant's answer is in it."""
    nb = T.read(T.ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    ids = [c.get("id") for c in nb["cells"]]
    assert ids[ids.index("setup") + 1] == "student-id"
    assert "".join(nb["cells"][ids.index("student-id")]["source"]).rstrip().endswith(
        'STUDENT_ID = ""')
    numbers = ids.index(f"numbers-{item.replace('_', '-')}")
    assert "".join(nb["cells"][numbers]["source"]) == f'show_numbers("{item}")'
    assert nb["cells"][numbers + 1]["metadata"]["nbgrader"]["grade_id"] == item
    assert REGISTRY[item].variant_key == assignment == PARAMS[item].assignment
