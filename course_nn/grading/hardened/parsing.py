"""One lock for every Python parse in the grader's process (CPython's ``ast`` is not thread-safe).

Book: none (instructor tooling); docs/grading.md, "The pipeline".

The batch grades submissions in threads (:func:`~course_nn.grading.hardened.pipeline.grade_batch`).
CPython 3.11 keeps the recursion depth of its C-to-Python AST conversion in state shared
by every thread. When the garbage collector runs a finalizer (Python code) in the middle
of a conversion, another thread's parse can interleave, and one of them fails with
``SystemError: AST constructor recursion depth mismatch`` (python/cpython#106905). In a
CI run this turned a right answer into "internal grader error" and 0 points. Every
``ast.parse`` and ``ast.literal_eval`` of the grader's process goes through :data:`AST_LOCK`,
and so does NumPy's reading of ``.npy`` headers (which calls ``ast.literal_eval``).
Re-entrant, because a finalizer that runs while the lock is held may itself parse.
Test: ``tests/test_hardened_parsing.py``.
"""

from __future__ import annotations

import ast
import threading
from typing import Any

AST_LOCK = threading.RLock()


def parse(source: str, mode: str = "exec") -> ast.AST:
    """``ast.parse`` under :data:`AST_LOCK`."""
    with AST_LOCK:
        return ast.parse(source, mode=mode)


def literal_eval(node_or_string: str | ast.AST) -> Any:
    """``ast.literal_eval`` under :data:`AST_LOCK`."""
    with AST_LOCK:
        return ast.literal_eval(node_or_string)
