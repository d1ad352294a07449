r"""The perceptron, the lectures' batch version: add up the mistakes, step, stop when small.

Book: chapter 6, *Backpropagation and training* (section *A historical precursor: the
perceptron*). Design notes in ``docs/practice_and_gaps.md``.

Labels are :math:`y_i \in \{-1, +1\}` and the prediction is
:math:`\mathrm{sign}(W\mathbf x_i + b)`. Each epoch sums the corrections of the
misclassified samples (those with :math:`y_i (W\mathbf x_i + b) \le 0`),

.. math::

    \Delta = \sum_{i\ \text{wrong}} y_i \,[1, \mathbf x_i], \qquad
    [b, W] \leftarrow [b, W] + \alpha\, \Delta / n,

and stops when :math:`\lVert\Delta\rVert < \epsilon` (no mistakes left when
:math:`\epsilon` is small on separable data) or after ``max_epochs``. A small
:math:`\lVert\Delta\rVert` is not the same as no mistakes: on XOR from zero weights the
four corrections cancel and the rule stops at once with every sample wrong.
:math:`-\Delta/n` is the gradient of the perceptron criterion
:math:`\frac1n\sum_i \max(0, -y_i(W\mathbf x_i + b))`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array, check_same_length

Array = NDArray[np.float64]


@dataclass
class PerceptronResult:
    """Weights ``W`` (p,), offset ``b``, and per epoch ``delta_norms`` (‖Δ‖) and ``mistakes``."""

    W: Array
    b: float
    delta_norms: list[float] = field(default_factory=list)
    mistakes: list[int] = field(default_factory=list)

    @property
    def epochs(self) -> int:
        """Number of epochs run (the last one found ‖Δ‖ < ε, unless max_epochs was hit)."""
        return len(self.delta_norms)


def perceptron_delta(X: ArrayLike, y_pm: ArrayLike, W: ArrayLike, b: float) -> tuple[Array, int]:
    r"""The batch correction :math:`\Delta = \sum_{i\ \text{wrong}} y_i [1, \mathbf x_i]`.

    Parameters
    ----------
    X : array of shape (n, p)
    y_pm : array of shape (n,), labels -1 or +1
    W : array of shape (p,); b : float

    Returns
    -------
    delta : array of shape (p + 1,), ordered [b, W1, ..., Wp]
    mistakes : int, the number of samples with :math:`y_i (W\mathbf x_i + b) \le 0`
    """
    X = as_float_array(X, "X", ndim=2)
    y_pm = as_float_array(y_pm, "y_pm", ndim=1)
    check_same_length(X, y_pm, "X", "y_pm")
    if not np.all(np.abs(y_pm) == 1):
        raise ValueError("y_pm must hold labels -1 and +1")
    wrong = y_pm * (X @ as_float_array(W, "W", ndim=1) + b) <= 0
    design = np.column_stack([np.ones(len(X)), X])
    return y_pm[wrong] @ design[wrong], int(wrong.sum())


def batch_perceptron(
    X: ArrayLike,
    y_pm: ArrayLike,
    learning_rate: float = 1.0,
    epsilon: float = 1e-8,
    max_epochs: int = 1000,
) -> PerceptronResult:
    r"""Train the lectures' batch perceptron from zero weights.

    Each epoch: :math:`\Delta` from :func:`perceptron_delta`; stop if
    :math:`\lVert\Delta\rVert < \epsilon`; else :math:`[b, W] \leftarrow [b, W] +
    \alpha\Delta/n`. On linearly separable data it stops with no mistakes.

    Parameters
    ----------
    X : array of shape (n, p); y_pm : array of shape (n,), labels -1 or +1
    learning_rate : :math:`\alpha`; epsilon : :math:`\epsilon`; max_epochs : int

    Returns
    -------
    PerceptronResult
    """
    X = as_float_array(X, "X", ndim=2)
    theta = np.zeros(X.shape[1] + 1)
    result = PerceptronResult(W=theta[1:], b=0.0)
    for _ in range(int(max_epochs)):
        delta, mistakes = perceptron_delta(X, y_pm, theta[1:], theta[0])
        result.delta_norms.append(float(np.linalg.norm(delta)))
        result.mistakes.append(mistakes)
        if result.delta_norms[-1] < epsilon:
            break
        theta = theta + learning_rate * delta / len(X)
    result.W, result.b = theta[1:], float(theta[0])
    return result
