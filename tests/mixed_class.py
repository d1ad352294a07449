"""A generated class of exercise 1: honest, wrong and hazardous submissions, mixed.

Design: docs/instructor.md, "Grading a class in shards" (the merge test and
``benchmarks/class_scale.py`` both grade such a class).

Wrong answers are the typical mistakes of exercise 1's item table
(``tests/test_checks_ch01.py``); hazardous ones are code a grader must survive
without a stopped batch: a raise, an import of the course's reference code, output
on stderr, a crash, a memory hog and (``slow=True`` only) an endless loop. The class is a
pure function of ``(n, seed)``, so two courses built alike grade alike.
"""

from __future__ import annotations

import random
from pathlib import Path

from course_nn.grading.hardened import testing as T

A = "ex01_linear_regression"

HAZARDS = {
    "raises": "def mse(y_hat, y):\n    raise RuntimeError('not done yet')\n",
    "imports_reference": "from course_nn.linear import mse\n",
    "stderr": ("import sys\n\ndef mse(y_hat, y):\n    print('debug', y_hat, file=sys.stderr)\n"
               "    return float(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2))\n"),
    "crashes": "import os\n\ndef mse(y_hat, y):\n    os._exit(3)\n",
    "memory_hog": "def mse(y_hat, y):\n    hog = bytearray(8 * 2**30)\n    return 0.0\n",
}
SLOW_HAZARDS = {"endless_loop": "def mse(y_hat, y):\n    while True:\n        pass\n"}
SHARES = (("honest", 0.6), ("wrong", 0.25), ("hazardous", 0.15))


def wrong_answers() -> list[tuple[str, str]]:
    """(solution cell grade_id, source) for every typical mistake of exercise 1's table."""
    from tests.test_checks_ch01 import ITEMS

    return [(item.cell_id, w.source) for item in ITEMS for w in item.wrong]


def plan(n: int, seed: int, slow: bool = False) -> dict[str, tuple[str, str | None, str]]:
    """student -> (kind, solution cell grade_id or None, source) for ``n`` students."""
    rng = random.Random(seed)
    wrong = wrong_answers()
    hazards = sorted({**HAZARDS, **(SLOW_HAZARDS if slow else {})}.items())
    kinds = [kind for kind, _ in SHARES]
    weights = [share for _, share in SHARES]
    students = {}
    for i in range(n):
        kind = rng.choices(kinds, weights)[0]
        if kind == "honest":
            students[f"s{i:04d}"] = ("honest", None, "")
        elif kind == "wrong":
            cell, source = rng.choice(wrong)
            students[f"s{i:04d}"] = ("wrong", cell, source)
        else:
            name, source = rng.choice(hazards)
            students[f"s{i:04d}"] = (f"hazardous:{name}", "mse", source)
    return students


def mixed_class(course: Path, n: int, seed: int = 12, slow: bool = False
                ) -> dict[str, tuple[str, str | None, str]]:
    """Write ``n`` submissions of exercise 1 into ``course/submitted/``; return the plan."""
    released = T.read(course / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / A / f"{A}.ipynb"))
    students = plan(n, seed, slow)
    for student, (_, cell, source) in students.items():
        sources = dict(sol, **({cell: source} if cell else {}))
        T.submit(course, student, A, T.with_sources(released, sources))
    return students
