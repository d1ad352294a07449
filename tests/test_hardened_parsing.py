"""The grader parses Python under one lock: CPython's ast is not thread-safe
(course_nn/grading/hardened/parsing.py, python/cpython#106905).

The stress: four threads parse while the garbage collector keeps running finalizers
that are Python code (a thread switch in the middle of a C-to-Python AST conversion).
Unlocked, ``ast.parse`` in this stress raised "SystemError: AST constructor recursion
depth mismatch" in every one of five runs on the development machine; a CI run of
``make test`` hit the same error inside the grader, scoring a right answer 0.
"""

from __future__ import annotations

import gc
import sys
import threading
import time

import numpy as np
import pytest

from course_nn.grading.hardened import parsing
from course_nn.grading.hardened.results import read_npz

pytestmark = pytest.mark.grading

SOURCE = "\n".join(f"def f{i}(x):\n    return [(a, {{'k': (b, c)}}) for a in x for b in a if (b and c or d)]"
                   for i in range(30))


class _Cycle:
    """Garbage only the cycle collector frees, with a finalizer that lets threads switch."""

    def __init__(self):
        self.me = self

    def __del__(self):
        time.sleep(0)


def _stress(work, threads: int = 4, rounds: int = 100) -> list[str]:
    errors: list[str] = []

    def loop():
        for _ in range(rounds):
            junk = [_Cycle() for _ in range(50)]
            del junk
            try:
                work()
            except SystemError as err:
                errors.append(str(err))

    interval, threshold = sys.getswitchinterval(), gc.get_threshold()
    sys.setswitchinterval(1e-6)
    gc.set_threshold(10, 1, 1)
    try:
        workers = [threading.Thread(target=loop) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
    finally:
        sys.setswitchinterval(interval)
        gc.set_threshold(*threshold)
    return errors


def test_parse_and_literal_eval_survive_threads_and_finalizers():
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (3, 4), }"

    def work():
        parsing.parse(SOURCE)
        assert parsing.literal_eval(header)["shape"] == (3, 4)

    assert _stress(work) == []


def test_reading_answer_files_survives_threads_and_finalizers(tmp_path):
    path = tmp_path / "test_0.npz"
    np.savez(path, a0=np.arange(12.0).reshape(3, 4), a1=np.array(True))

    def work():
        parsing.parse(SOURCE)  # a parse beside NumPy's header parsing, as in a batch
        arrays = read_npz(path)
        assert arrays["a0"].shape == (3, 4) and arrays["a1"].dtype == np.bool_

    assert _stress(work) == []


def test_the_lock_is_reentrant():
    """A finalizer that runs while the lock is held may itself parse."""
    with parsing.AST_LOCK:
        assert parsing.literal_eval("(1, 2)") == (1, 2)
