"""Tests for course_nn.optim: momentum and Adam against torch.optim on the same gradients."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.optim import AdamState, adam_step, momentum_step, optimise

pytestmark = pytest.mark.ch3


def _gradient_sequence(rng, steps, shape):
    """Gradients of very different scales per coordinate, as Adam is meant for."""
    return [rng.normal(size=shape) * np.array([1e-3, 1.0, 1e2])[: shape[-1]] for _ in range(steps)]


def _torch_run(torch, optimiser_class, theta0, grads, **hyper):
    """Feed the same gradients to a torch optimiser and return the parameters after each step."""
    param = torch.tensor(theta0.copy(), requires_grad=True)
    optimiser = optimiser_class([param], **hyper)
    path = []
    for g in grads:
        optimiser.zero_grad()
        param.grad = torch.tensor(g)
        optimiser.step()
        path.append(param.detach().numpy().copy())
    return path


@pytest.mark.parametrize("momentum", [0.0, 0.5, 0.9])
def test_momentum_matches_torch_sgd(torch, rng, momentum):
    theta0 = rng.normal(size=(4, 3))
    grads = _gradient_sequence(rng, 12, (4, 3))
    expected = _torch_run(torch, torch.optim.SGD, theta0, grads, lr=0.05, momentum=momentum)
    theta, velocity = theta0, np.zeros_like(theta0)
    for g, want in zip(grads, expected, strict=True):
        theta, velocity = momentum_step(theta, g, velocity, 0.05, momentum)
        np.testing.assert_allclose(theta, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize(("lr", "betas", "eps"), [(0.001, (0.9, 0.999), 1e-8), (0.1, (0.5, 0.9), 1e-3)])
def test_adam_matches_torch_adam(torch, rng, lr, betas, eps):
    theta0 = rng.normal(size=(5, 3))
    grads = _gradient_sequence(rng, 15, (5, 3))
    expected = _torch_run(torch, torch.optim.Adam, theta0, grads, lr=lr, betas=betas, eps=eps)
    theta, state = theta0, AdamState.zeros_like(theta0)
    for g, want in zip(grads, expected, strict=True):
        theta, state = adam_step(theta, g, state, lr, betas[0], betas[1], eps)
        np.testing.assert_allclose(theta, want, rtol=1e-10, atol=1e-12)
    assert state.t == len(grads)


def test_adam_first_step_moves_every_coordinate_by_the_learning_rate(rng):
    """Bias correction: the first step is alpha * sign(g), whatever the gradient's scale."""
    g = np.array([1e-4, -3.0, 5e3])
    theta, _ = adam_step(np.zeros(3), g, AdamState.zeros_like(np.zeros(3)), learning_rate=0.01, eps=0.0)
    np.testing.assert_allclose(theta, -0.01 * np.sign(g), rtol=1e-12)


def test_inputs_are_not_changed_and_bad_momentum_raises(rng):
    theta, g, v = rng.normal(size=3), rng.normal(size=3), rng.normal(size=3)
    copies = theta.copy(), g.copy(), v.copy()
    momentum_step(theta, g, v, 0.1, 0.9)
    for a, b in zip((theta, g, v), copies, strict=True):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="momentum"):
        momentum_step(theta, g, v, 0.1, 1.0)


def test_optimise_paths_reach_the_minimum_of_a_ravine():
    """On f = (t1^2 + 25 t2^2)/2 all three methods end near 0; momentum beats plain GD."""
    scale = np.array([1.0, 25.0])

    def grad(theta):
        return scale * theta

    start = np.array([-4.0, 1.0])
    gd = optimise(grad, start, "gd", 60, learning_rate=0.07)
    heavy = optimise(grad, start, "momentum", 60, learning_rate=0.07, momentum=0.6)
    adam = optimise(grad, start, "adam", 200, learning_rate=0.1)
    assert gd.shape == (61, 2) and adam.shape == (201, 2)
    assert np.linalg.norm(heavy[-1]) < np.linalg.norm(gd[-1]) < 0.1
    assert np.linalg.norm(adam[-1]) < 0.1
    with pytest.raises(ValueError, match="method"):
        optimise(grad, start, "rmsprop", 3, learning_rate=0.1)
