"""Seeded synthetic data sets the book and the exercises generate offline.

Book: chapter 1 (regression).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import NDArray


class RegressionData(NamedTuple):
    """A synthetic regression problem and the parameters that generated it."""

    X: NDArray[np.float64]  # (n, p)
    y: NDArray[np.float64]  # (n,)
    W: NDArray[np.float64]  # (p,) true weights
    b: float  # true offset


def make_linear_regression(
    n_samples: int = 100, n_features: int = 1, noise: float = 0.5, seed: int = 0
) -> RegressionData:
    r"""Draw :math:`y = X W^\top + b + \varepsilon` with :math:`\varepsilon \sim N(0, \text{noise}^2)`.

    ``X`` is uniform on [-3, 3], the true ``W`` standard normal and ``b`` uniform on
    [-2, 2], all from ``numpy.random.default_rng(seed)``: the same seed gives the
    same data on every machine.
    """
    if n_samples < 1 or n_features < 1:
        raise ValueError(
            f"n_samples and n_features must be >= 1, got {n_samples} and {n_features}"
        )
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    rng = np.random.default_rng(seed)
    W = rng.standard_normal(n_features)
    b = float(rng.uniform(-2, 2))
    X = rng.uniform(-3, 3, size=(n_samples, n_features))
    y = X @ W + b + noise * rng.standard_normal(n_samples)
    return RegressionData(X, y, W, b)
