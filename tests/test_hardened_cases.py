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
