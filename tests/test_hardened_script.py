"""The program the child runs (``script.py``)."""

from __future__ import annotations

import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import strip_hidden
from course_nn.grading.hardened.script import without_course_imports, without_magics

pytestmark = pytest.mark.grading

ROOT = T.ROOT
A = "ex01_linear_regression"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())


def test_script_helpers():
    """Are course_nn imports blanked (lines kept) and magics commented out?"""
    source = "import numpy as np\n\nfrom course_nn.grading import check\nx = 1"
    assert without_course_imports(source) == "import numpy as np\n\n\nx = 1"
    assert without_magics("%matplotlib inline\nx = 1") == "# (magic removed) %matplotlib inline\nx = 1"
    assert without_magics("x = 1 % 2") == "x = 1 % 2"
    assert strip_hidden("a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc") == "a\nc"
