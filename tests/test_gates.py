"""Tests for course_nn.gates: add distributes, multiply swaps, max routes (autograd oracle)."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.gates import gate_backward, gate_forward

pytestmark = pytest.mark.ch6

TORCH_OPS = {"add": lambda a, b: a + b, "multiply": lambda a, b: a * b, "max": lambda a, b: a.maximum(b)}


@pytest.mark.parametrize("gate", ["add", "multiply", "max"])
def test_gate_gradients_match_autograd(torch, rng, gate):
    x1, x2, up = rng.normal(size=(3, 7))
    t1, t2 = torch.tensor(x1, requires_grad=True), torch.tensor(x2, requires_grad=True)
    out = TORCH_OPS[gate](t1, t2)
    out.backward(torch.tensor(up))
    np.testing.assert_allclose(gate_forward(gate, x1, x2), out.detach().numpy())
    dx1, dx2 = gate_backward(gate, x1, x2, up)
    np.testing.assert_allclose(dx1, t1.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx2, t2.grad.numpy(), rtol=1e-12)


def test_the_three_rules_on_numbers():
    assert gate_backward("add", 3.0, -4.0, 2.0) == (2.0, 2.0)
    assert gate_backward("multiply", 3.0, -4.0, 2.0) == (-8.0, 6.0)
    assert gate_backward("max", 3.0, -4.0, 2.0) == (2.0, 0.0)
    assert gate_backward("max", -5.0, -4.0, 2.0) == (0.0, 2.0)


def test_unknown_gate_and_shape_mismatch_raise():
    with pytest.raises(ValueError, match="gate must be one of"):
        gate_backward("divide", 1.0, 2.0, 1.0)
    with pytest.raises(ValueError, match="one shape"):
        gate_backward("add", np.ones(2), np.ones(3), np.ones(2))
