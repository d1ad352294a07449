"""The static scan of the student's cells (``scan.py``)."""

from __future__ import annotations

import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.scan import scan_source

pytestmark = pytest.mark.grading

ROOT = T.ROOT
A = "ex01_linear_regression"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_instructor_solutions_scan_clean(assignment):
    """Do the instructor's own solutions raise no flag (no false alarms for honest code)?"""
    nb = T.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    for grade_id, source in T.solutions(nb).items():
        assert scan_source(source) == [], grade_id


@pytest.mark.parametrize(("source", "words"), [
    ("from course_nn.linear import mse", "forbidden import"),
    ("import course_nn as c", "forbidden import"),
    ("m = __import__('course_nn')", "forbidden import"),
    ("np.testing.assert_allclose = lambda *a, **k: None", "tampering: assigns np.testing"),
    ("setattr(np, 'allclose', lambda *a: True)", "tampering: setattr"),
    ("check = print", "tampering: redefines check"),
    ("def check(*a):\n    pass", "tampering: redefines check"),
    ("get_ipython().events.register('pre_run_cell', f)", "IPython"),
    ("import sys\nsys.modules['numpy'] = None", "tampering"),
    ("import builtins\nbuiltins.print = None", "tampering"),
    ("open('../../gradebook.db', 'wb')", "gradebook"),
    ("import os\nos._exit(0)", "exits the process"),
    ("import ctypes", "ctypes"),
    ("import os\nos.remove('x')", "writes or deletes files"),
])
def test_scan_finds_cheating_routes(source, words):
    """Does the static scan name each cheating route?"""
    assert any(words in finding for finding in scan_source(source)), scan_source(source)


@pytest.mark.parametrize("source", [
    "import numpy as np\ny = np.stack([x, x]).sum(axis=0)",
    "items = [1, 2]\nitems.remove(1)\nname = 'a'.replace('a', 'b')",
    "import os\np = os.path.join('a', 'b')",
    "import sys\nprint('note', file=sys.stderr)",
    "import warnings\nwarnings.warn('careful')",
])
def test_scan_leaves_ordinary_code_alone(source):
    """Does ordinary NumPy/Python code raise no flag?"""
    assert scan_source(source) == []
