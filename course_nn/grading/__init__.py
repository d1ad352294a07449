"""Grading: registered checks, the in-notebook ``check`` and the hardened grader.

Exercises import only :func:`check`; instructors use ``course-nn grade``.
"""

from course_nn.grading import checks as _checks  # noqa: F401  (registers every check)
from course_nn.grading.compare import compare_outputs, flatten_output
from course_nn.grading.core import REGISTRY, Case, Check, get_check, register
from course_nn.grading.inline import CheckFailure, check, diagnose

__all__ = [
    "REGISTRY",
    "Case",
    "Check",
    "CheckFailure",
    "check",
    "compare_outputs",
    "diagnose",
    "flatten_output",
    "get_check",
    "register",
]
