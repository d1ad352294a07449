r"""Feature standardisation: rescale every feature to mean 0 and standard deviation 1.

Book: chapter 1, *Linear regression* (section *Rescaling the features*); design notes in
``docs/practice_and_gaps.md``.

Gradient descent on the squared error converges only for a learning rate below
:math:`2/\lambda_{\max}(H)`, and the Hessian :math:`H` grows with the square of the
inputs' scale. Standardising,

.. math::

    x'_{ij} = \frac{x_{ij} - \mu_j}{s_j}, \qquad
    \mu_j = \frac1n \sum_i x_{ij}, \quad s_j = \sqrt{\frac1n \sum_i (x_{ij} - \mu_j)^2},

puts every feature on the same scale, so one learning rate suits all of them. The mean
and scale are computed on the training data only and reused, unchanged, on new data.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array

Array = NDArray[np.float64]


@dataclass(frozen=True)
class Standardisation:
    """The per-feature mean ``mean`` (p,) and scale ``scale`` (p,) of the training data."""

    mean: Array
    scale: Array

    def transform(self, X: ArrayLike) -> Array:
        r"""Standardise ``X`` of shape (n, p): :math:`(X - \mu) / s`, row by row."""
        X = as_float_array(X, "X", ndim=2)
        if X.shape[1] != self.mean.shape[0]:
            raise ValueError(
                f"X has {X.shape[1]} features, the standardisation was fitted on "
                f"{self.mean.shape[0]}"
            )
        return (X - self.mean) / self.scale

    def inverse_transform(self, X_std: ArrayLike) -> Array:
        r"""Undo :meth:`transform`: :math:`X' s + \mu`."""
        return as_float_array(X_std, "X_std", ndim=2) * self.scale + self.mean


def fit_standardisation(X: ArrayLike) -> Standardisation:
    r"""Mean and (population) standard deviation of each column of ``X`` (n, p).

    A constant feature has :math:`s_j = 0`; its scale is set to 1 so that it maps to 0
    instead of dividing by zero (as ``sklearn.preprocessing.StandardScaler`` does).
    """
    X = as_float_array(X, "X", ndim=2)
    scale = X.std(axis=0)
    return Standardisation(mean=X.mean(axis=0), scale=np.where(scale > 0, scale, 1.0))


def standardise(X: ArrayLike) -> tuple[Array, Standardisation]:
    """Standardise ``X`` (n, p) with its own mean and scale; returns (X_std, the fit)."""
    fitted = fit_standardisation(X)
    return fitted.transform(X), fitted
