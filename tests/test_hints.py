"""Every check's hints diagnose without dictating: no code, no numbers, no formula to type.

The texts come from the registry itself: for each registered check, the string
literals of its hint functions' source (docstrings and short keys left out), the
strings they close over, and the string values of module-level dicts they read
(such as a table of advice per target). A hint names the symptom and the concept;
the task text states the math.
"""

from __future__ import annotations

import ast
import inspect
import textwrap

import pytest

from course_nn.grading import REGISTRY
from course_nn.grading.core import float_error_advice
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
