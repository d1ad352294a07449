"""Drawing cases and packing their inputs for the child (``cases.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.cases import Packer

pytestmark = pytest.mark.grading

ROOT = T.ROOT
A = "ex01_linear_regression"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())


def test_inputs_survive_the_trip_to_the_child():
    """Do arrays, numpy scalars, numbers, strings and nested lists come back as they left?"""
    value = [np.arange(6.0).reshape(2, 3), np.float64(2.5), 3, "relu", None,
             [(np.ones(2), np.zeros(1))], {"lr": 0.1}, np.array(4.0)]
    packer = Packer()
    packed = packer.pack(value)
    back = T.child_module().decode(packed, packer.arrays)
    assert isinstance(back[1], np.float64) and back[1] == 2.5
    assert back[2] == 3 and back[3] == "relu" and back[4] is None and back[6] == {"lr": 0.1}
    np.testing.assert_array_equal(back[0], value[0])
    assert isinstance(back[5][0], tuple) and back[7].shape == ()
    back[0][0, 0] = 99.0  # the child gets copies: one case cannot spoil the next
    assert packer.arrays["i0"][0, 0] == 0.0


def test_packer_refuses_what_is_not_plain_data():
    """Are callables and object arrays refused (the child gets numbers only)?"""
    with pytest.raises(TypeError, match="not plain data"):
        Packer().pack(len)
    with pytest.raises(TypeError, match="not plain data"):
        Packer().pack(np.array([None, 1], dtype=object))


def _drawn(ctx, n: int) -> list:
    """draw_cases for ``n`` submissions of one batch context."""
    from course_nn.grading.hardened.cases import draw_cases
    from course_nn.grading.hardened.model import Submission

    subs = [Submission(f"s{i}", ROOT) for i in range(n)]
    for sub in subs:
        draw_cases(sub, ctx)
    return subs


def test_shared_draws_are_computed_once_per_batch_and_copied(monkeypatch):
    """Public cases (and hidden ones under a fixed seed) are drawn once per batch; every
    submission gets its own copy; fresh hidden seeds are never shared."""
    from course_nn.grading.hardened import cases
    from course_nn.grading.hardened.assignment import load_spec
    from course_nn.grading.hardened.model import Context

    spec = load_spec(ROOT / "solutions" / A / f"{A}.ipynb")
    calls = [(c.check, c.hidden) for t in spec.tests for c in t.calls]
    assert any(h for _, h in calls) and any(not h for _, h in calls)
    counted = []
    real = cases._draw
    monkeypatch.setattr(cases, "_draw", lambda *a: counted.append(a) or real(*a))
    first, second = _drawn(Context(spec, seed=7), 2)
    assert len(counted) == len(set(calls))  # once per (check, hidden) for the whole batch
    a, b = first.cases[0][0], second.cases[0][0]
    np.testing.assert_array_equal(np.asarray(a.expected[0]), np.asarray(b.expected[0]))
    assert a.expected is not b.expected and a.cases is not b.cases  # copies: no sharing
    counted.clear()
    fresh = _drawn(Context(spec), 2)
    public = sum(not h for _, h in set(calls))
    assert len(counted) == public + 2 * sum(h for _, h in calls)  # hidden: per submission
    seeds = {d.seed for sub in fresh for test in sub.cases for d in test if d and d.hidden}
    assert len(seeds) == 2
