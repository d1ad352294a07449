r"""Update rules beyond plain gradient descent: momentum and Adam, on one parameter array.

Book: chapter 3, *Deep neural networks* (section *Better steps: momentum and Adam*,
before the first use of Adam); chapter 6 trains with momentum through
:func:`course_nn.train.sgd_step`. Design notes in ``docs/practice_and_gaps.md``.

With the gradient :math:`g_t = \partial J/\partial\theta` at step t:

* **momentum** (as ``torch.optim.SGD(momentum=beta)``): :math:`m_t = \beta m_{t-1} + g_t`,
  :math:`\theta_t = \theta_{t-1} - \alpha m_t`. The velocity :math:`m` is a running sum
  of gradients: steps add up along a steady direction and cancel across a zig-zag.
* **Adam** (Kingma and Ba 2015, as ``torch.optim.Adam``):
  :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`,
  :math:`v_t = \beta_2 v_{t-1} + (1-\beta_2) g_t^2`,
  :math:`\hat m_t = m_t/(1-\beta_1^t)`, :math:`\hat v_t = v_t/(1-\beta_2^t)`,
  :math:`\theta_t = \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat v_t} + \varepsilon)`.
  Each coordinate's step is divided by a running size of its own gradients, so every
  parameter moves by about :math:`\alpha` per step, whatever the scale of its gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array

Array = NDArray[np.float64]


def momentum_step(
    theta: ArrayLike, grad: ArrayLike, velocity: ArrayLike, learning_rate: float, momentum: float
) -> tuple[Array, Array]:
    r"""One step of gradient descent with momentum.

    Parameters
    ----------
    theta, grad, velocity : arrays of one shape (any)
    learning_rate : :math:`\alpha > 0`
    momentum : :math:`\beta \in [0, 1)`; 0 is plain gradient descent

    Returns
    -------
    theta, velocity : the new arrays (the inputs are not changed)

    Math
    ----
    :math:`m \leftarrow \beta m + g`, :math:`\theta \leftarrow \theta - \alpha m`.
    """
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    velocity = momentum * as_float_array(velocity, "velocity") + as_float_array(grad, "grad")
    return as_float_array(theta, "theta") - learning_rate * velocity, velocity  # velocity: m


@dataclass(frozen=True)
class AdamState:
    """Adam's running averages: ``m`` of the gradients, ``v`` of their squares, step ``t``."""

    m: Array
    v: Array
    t: int = 0

    @classmethod
    def zeros_like(cls, theta: ArrayLike) -> AdamState:
        """The state before the first step: zero averages, t = 0."""
        theta = as_float_array(theta, "theta")
        return cls(m=np.zeros_like(theta), v=np.zeros_like(theta), t=0)


def adam_step(
    theta: ArrayLike,
    grad: ArrayLike,
    state: AdamState,
    learning_rate: float = 0.001,
    beta1: float = 0.9,
    beta2: float = 0.999,
    eps: float = 1e-8,
) -> tuple[Array, AdamState]:
    r"""One Adam step, the same arithmetic as ``torch.optim.Adam`` (no weight decay).

    Parameters
    ----------
    theta, grad : arrays of one shape (any)
    state : :class:`AdamState` from the previous step (``AdamState.zeros_like(theta)`` first)
    learning_rate, beta1, beta2, eps : :math:`\alpha, \beta_1, \beta_2, \varepsilon`

    Returns
    -------
    theta, state : the new parameters and state

    Math
    ----
    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`v \leftarrow \beta_2 v + (1-\beta_2) g^2`,
    :math:`\theta \leftarrow \theta - \alpha \frac{m/(1-\beta_1^t)}{\sqrt{v/(1-\beta_2^t)} + \varepsilon}`.
    """
    grad = as_float_array(grad, "grad")
    t = state.t + 1
    m = beta1 * state.m + (1 - beta1) * grad
    v = beta2 * state.v + (1 - beta2) * grad**2
    m_hat, v_hat = m / (1 - beta1**t), v / (1 - beta2**t)
    theta = as_float_array(theta, "theta") - learning_rate * m_hat / (np.sqrt(v_hat) + eps)
    return theta, AdamState(m=m, v=v, t=t)


def optimise(
    grad: Callable[[Array], Array], theta0: ArrayLike, method: str, steps: int, **hyper: float
) -> Array:
    """The path of ``method`` ("gd", "momentum" or "adam") from ``theta0`` for ``steps`` steps.

    ``grad(theta)`` returns the gradient at ``theta``; ``hyper`` holds the learning rate
    and the method's other settings (``momentum=`` for "momentum"; ``beta1=`` ... for
    "adam"). Returns an array of shape (steps + 1, *theta0.shape): every point visited.
    """
    theta = as_float_array(theta0, "theta0").copy()
    path, velocity, state = [theta], np.zeros_like(theta), AdamState.zeros_like(theta)
    for _ in range(int(steps)):
        g = grad(theta)
        if method == "gd":
            theta = theta - hyper["learning_rate"] * g
        elif method == "momentum":
            theta, velocity = momentum_step(theta, g, velocity, hyper["learning_rate"],
                                            hyper.get("momentum", 0.9))
        elif method == "adam":
            theta, state = adam_step(theta, g, state, **hyper)
        else:
            raise ValueError(f"method must be 'gd', 'momentum' or 'adam', got {method!r}")
        path.append(theta)
    return np.array(path)
