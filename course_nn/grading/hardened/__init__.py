"""The hardened grader behind ``course-nn grade`` and ``course-nn check``.

Book: none (instructor tooling); docs/grading.md (the design and the step numbers).

Student code never runs in this process. A batch (``grade.py``) reads the instructor
notebook once and passes each submission through ``pipeline.STEPS``, numbered as in
docs/grading.md: 2-3 ``load``, 4 ``structure``, 5 ``scan``, 6 ``script``, 7 ``cases``,
8-9 ``pipeline.run_child`` (``sandbox``, ``child.py``, ``cgroup``, ``scratch``,
``results``), 10 ``judge``; then 11 ``outputs`` and 12 ``gradebook``. Strings from a
submission are cleaned where they enter (1, ``text``).

This package imports nothing at import time (the names below load on first use), so
no module of the grader and this ``__init__`` import each other.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {"BatchReport": "grade", "GradingError": "grade", "check_notebook": "grade",
            "grade_assignment": "grade", "Limits": "sandbox"}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        module = importlib.import_module(f"{__name__}.{_EXPORTS[name]}")
        return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
