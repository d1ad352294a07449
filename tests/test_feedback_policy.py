"""The feedback policy's done-criteria of issue 20, through both whole grading paths.

* "A by-hand answer of zeros gets no expected value back in either grading path";
* "each given function submitted unchanged scores 0 with no diagnosis text".

Each exercise's by-hand cell is replaced by zeros and its debugging cell by the given
function, renamed as the task asks; both run through the notebook path (the solution and
grade cells in one namespace, as nbgrader does) and through the hardened grader
(``grade_assignment`` on one batch of submissions), as the chapter tables run their
answers (``tests/exercise_items.py``). The registry-wide policy tests at the level of the
two message paths are in ``tests/test_hints.py``; the policy is in docs/exercise_items.md.
"""

from __future__ import annotations

import dataclasses
import importlib
import re

import pytest

from course_nn.grading import REGISTRY
from course_nn.grading.messages import GIVEN_BEHAVIOUR
from tests import exercise_items as E
from tests.test_hints import leaked_numbers, zeros_like_answer

pytestmark = pytest.mark.grading

CHAPTERS = range(1, 9)


def _table(chapter: int):
    module = importlib.import_module(f"tests.test_checks_ch{chapter:02d}")
    return module.A, module.ITEMS


def given_source(name: str) -> str:
    """The given function of debugging check ``name`` (a ``BUGGY_*`` text of the chapter
    check modules), renamed as the student's repaired function (the notebook shows it as
    ``<name>_given``)."""
    sources = [v for chapter in CHAPTERS
               for k, v in vars(importlib.import_module(
                   f"course_nn.grading.checks.ch{chapter:02d}")).items()
               if k.startswith("BUGGY_") and re.search(rf"^def {name}(_given)?\(", v, re.M)]
    assert len(sources) == 1, name
    return sources[0].replace(f"def {name}_given(", f"def {name}(")


def policy_items(chapter: int) -> tuple[str, list[E.Item]]:
    """The exercise's by-hand item answered with zeros, its debugging item with the given
    function unchanged (one wrong answer each, no right answers)."""
    assignment, items = _table(chapter)
    chosen = []
    for item in items:
        if item.kind == "by-hand":
            zeros = zeros_like_answer(REGISTRY[item.check].reference())
            source = f"def {item.check}():\n    return {zeros!r}"
        elif item.kind == "debugging":
            source = given_source(item.check)
        else:
            continue
        chosen.append(dataclasses.replace(item, wrong=[E.Wrong(source, "")], right=[]))
    assert sorted(i.kind for i in chosen) == ["by-hand", "debugging"], assignment
    return assignment, chosen


def assert_policy(items: list[E.Item], outcomes: dict, path: str) -> None:
    """Zeros: 0 points, no expected value; the given function: 0 points, the one line."""
    for (i, _, _), outcome in outcomes.items():
        item = items[i]
        message = re.sub(r"^(CheckFailure: |\[failed\] )", "", outcome.message)
        assert outcome.points == 0, (path, item.check, outcome)
        if item.kind == "by-hand":
            reference = REGISTRY[item.check].reference()
            assert "expected:" not in message, (path, message)
            assert not leaked_numbers(message, reference, zeros_like_answer(reference)), \
                (path, message)
        else:
            line = re.escape(f"\n  problem: {GIVEN_BEHAVIOUR}")
            assert re.fullmatch(rf"{item.check}: public case \d+ of \d+ \(.*\) failed{line}",
                                message), (path, message)
            assert "likely bug" not in message


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_zeros_and_the_given_function_in_the_notebook_path(chapter):
    assignment, items = policy_items(chapter)
    assert_policy(items, E.notebook_scores(assignment, items), "notebook")


@pytest.mark.slow
@pytest.mark.parametrize("chapter", CHAPTERS)
def test_zeros_and_the_given_function_in_the_hardened_path(chapter, tmp_path):
    assignment, items = policy_items(chapter)
    outcomes = E.hardened_scores(assignment, items, tmp_path)
    assert len(outcomes) == 2
    assert_policy(items, outcomes, "hardened")


def test_every_debugging_check_has_its_given_function_in_a_table():
    """Is every debugging check's given code found, and is ``Check.given`` that code?"""
    import numpy as np

    from course_nn.grading.compare import same_answer
    from course_nn.grading.core import given_function

    debugging = sorted(n for n, c in REGISTRY.items() if c.kind == "debugging")
    assert len(debugging) == 8  # one per exercise, ex01-ex08
    for name in debugging:
        spec = REGISTRY[name]
        names = {"sigmoid": importlib.import_module("course_nn.activations").sigmoid,
                 "vector_to_params": importlib.import_module("course_nn.mlp").vector_to_params}
        from_text = given_function(given_source(name), **names)
        for case in spec.cases(False):
            with np.errstate(all="ignore"):
                try:
                    a = spec.given(*case.args)
                except ValueError:
                    with pytest.raises(ValueError):
                        from_text(*case.args)
                    continue
                assert same_answer(from_text(*case.args), a), name
