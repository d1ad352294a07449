"""The child's reading of a student's output: the reference's structure (``child.py``)."""

from __future__ import annotations

import ast
import importlib.util

import numpy as np
import pytest

from course_nn.grading import compare
from course_nn.grading.hardened import sandbox
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.cases import output_structure

ROOT = T.ROOT
A = "ex01_linear_regression"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())

pytestmark = pytest.mark.grading


@pytest.fixture(scope="module")
def child():
    spec = importlib.util.spec_from_file_location("grader_child", sandbox.CHILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _leaves(child, func, reference):
    record, arrays = child.call_case(func, [], np, 10**6, output_structure(reference))
    return record, arrays


@pytest.mark.parametrize("answer", [
    [[1.0, 2.0], [3.0, 4.0]],  # nested lists
    [np.float32(1), np.float32(2)],  # a list of NumPy scalars (was "2 values, expected 1")
    [np.array([1.0, 2.0]), np.array([3.0, 4.0])],  # rows as arrays
])
def test_an_array_like_is_one_answer_with_a_note(child, answer):
    """Does a list the reference returns as one array become one array, with a note?"""
    reference = np.asarray(answer, dtype=float)
    record, arrays = _leaves(child, lambda: answer, reference)
    assert len(record["leaves"]) == 1 and "np.asarray" in record["note"]
    np.testing.assert_array_equal(arrays[0], reference)


def test_a_tuple_of_outputs_follows_the_reference(child):
    """Is (W, b) split in two like the reference's, a list for W included?"""
    reference = (np.ones(2), 0.5)
    record, arrays = _leaves(child, lambda: ([1.0, 1.0], 0.5), reference)
    assert len(arrays) == 2 and arrays[0].shape == (2,)


def test_a_tuple_where_one_array_is_expected_still_counts_its_parts(child):
    """Does a ragged tuple for a one-array reference stay 'returned 2 values'?"""
    record, arrays = _leaves(child, lambda: (np.ones(2), 0.5), np.ones(2))
    assert len(record["leaves"]) == 2 and "note" not in record


def test_float_errors_raise_in_the_child(child):
    """With float_errors, does an overflow become a FloatingPointError record?"""
    record, _ = child.call_case(lambda x: np.exp(x), [np.array([1000.0])], np, 10**6,
                                "leaf", float_errors=True)
    assert record["exception"]["type"] == "FloatingPointError"
    record, _ = child.call_case(lambda x: np.exp(x), [np.array([1000.0])], np, 10**6, "leaf")
    assert "exception" not in record


def test_child_script_imports_no_course_code():
    """Does the child script stay free of course_nn imports?"""
    tree = ast.parse(sandbox.CHILD.read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(name.startswith("course_nn") for name in imported)


@pytest.mark.parametrize("value", [
    np.ones(3), (np.ones(2), 1.5), [np.ones(2), [np.zeros(1), 2.0]], [1.0, 2.0], 3.0,
    ((np.ones((2, 2)), np.ones(2)), [(np.ones(1), np.ones(1))]), [], (), "text", None,
])
def test_child_flattens_outputs_like_compare(value):
    """Does the child's copy of flatten_output split outputs exactly like compare's?"""
    mine = T.child_module().flatten_output(value, np)
    theirs = compare.flatten_output(value)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert a is b
