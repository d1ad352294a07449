r"""Update rules beyond plain gradient descent: momentum and Adam, on one parameter array.

Book: chapter 3, *Deep neural networks* (section *Better steps: momentum and Adam*,
before the first use of Adam); chapter 6 trains with momentum through
:func:`course_nn.train.sgd_step`. Design notes in ``docs/practice_and_gaps.md``.

With the gradient :math:`g_t = \partial J/\partial\theta` at step t:

* **momentum** (as ``torch.optim.SGD(momentum=mu)``): :math:`v_t = \mu v_{t-1} + g_t`,
  :math:`\theta_t = \theta_{t-1} - \alpha v_t`. The velocity :math:`v` is a running sum
  of gradients: steps add up along a steady direction and cancel across a zig-zag.
* **Adam** (Kingma and Ba 2015, as ``torch.optim.Adam``):
  :math:`m_t = \beta_1 m_{t-1} + (1-\beta_1) g_t`,
  :math:`s_t = \beta_2 s_{t-1} + (1-\beta_2) g_t^2`,
  :math:`\hat m_t = m_t/(1-\beta_1^t)`, :math:`\hat s_t = s_t/(1-\beta_2^t)`,
  :math:`\theta_t = \theta_{t-1} - \alpha\, \hat m_t / (\sqrt{\hat s_t} + \epsilon)`.
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
    momentum : :math:`\mu \in [0, 1)`; 0 is plain gradient descent

    Returns
    -------
    theta, velocity : the new arrays (the inputs are not changed)

    Math
    ----
    :math:`v \leftarrow \mu v + g`, :math:`\theta \leftarrow \theta - \alpha v`.
    """
    if not 0 <= momentum < 1:
        raise ValueError(f"momentum must be in [0, 1), got {momentum}")
    velocity = momentum * as_float_array(velocity, "velocity") + as_float_array(grad, "grad")
    return as_float_array(theta, "theta") - learning_rate * velocity, velocity


@dataclass(frozen=True)
class AdamState:
    """Adam's running averages: ``m`` of the gradients, ``s`` of their squares, step ``t``."""

    m: Array
    s: Array
    t: int = 0

    @classmethod
    def zeros_like(cls, theta: ArrayLike) -> AdamState:
        """The state before the first step: zero averages, t = 0."""
        theta = as_float_array(theta, "theta")
        return cls(m=np.zeros_like(theta), s=np.zeros_like(theta), t=0)


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
    learning_rate, beta1, beta2, eps : :math:`\alpha, \beta_1, \beta_2, \epsilon`

    Returns
    -------
    theta, state : the new parameters and state

    Math
    ----
    :math:`m \leftarrow \beta_1 m + (1-\beta_1) g`, :math:`s \leftarrow \beta_2 s + (1-\beta_2) g^2`,
    :math:`\theta \leftarrow \theta - \alpha \frac{m/(1-\beta_1^t)}{\sqrt{s/(1-\beta_2^t)} + \epsilon}`.
    """
    grad = as_float_array(grad, "grad")
    t = state.t + 1
    m = beta1 * state.m + (1 - beta1) * grad
    s = beta2 * state.s + (1 - beta2) * grad**2
    m_hat, s_hat = m / (1 - beta1**t), s / (1 - beta2**t)
    theta = as_float_array(theta, "theta") - learning_rate * m_hat / (np.sqrt(s_hat) + eps)
    return theta, AdamState(m=m, s=s, t=t)


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
