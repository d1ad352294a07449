r"""Gradient checking: compare backpropagation with central differences.

Book: chapter 6, *Backpropagation and training*, section "Checking gradients".

The central difference :math:`(f(x + \varepsilon e_k) - f(x - \varepsilon e_k)) / 2\varepsilon`
has error :math:`O(\varepsilon^2)`, against :math:`O(\varepsilon)` for the one-sided
difference; with float64 and :math:`\varepsilon = 10^{-6}` a correct gradient agrees to a
relative error around :math:`10^{-8}` or better, while a bug typically gives
:math:`10^{-2}` or more.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn._validate import as_float_array
from course_nn.backprop import mlp_loss, mlp_loss_and_grads
from course_nn.mlp import check_params

Array = NDArray[np.float64]


def numerical_gradient(f: Callable[[Array], float], x: ArrayLike, eps: float = 1e-6) -> Array:
    r"""Central-difference gradient of a scalar function ``f`` at ``x``.

    Parameters
    ----------
    f : callable taking an array of the shape of ``x`` and returning a number
    x : array of any shape
    eps : step :math:`\varepsilon`

    Returns
    -------
    grad : array of the shape of ``x``

    Math
    ----
    :math:`\partial f / \partial x_k \approx (f(x + \varepsilon e_k) - f(x - \varepsilon e_k))
    / 2\varepsilon`. ``x`` itself is never changed: ``f`` sees a perturbed copy.
    """
    if not eps > 0:
        raise ValueError(f"eps must be positive, got {eps}")
    x_work = as_float_array(x, "x").copy()
    grad = np.zeros_like(x_work)
    flat, grad_flat = x_work.reshape(-1), grad.reshape(-1)  # views of the copies
    for k in range(flat.size):
        original = flat[k]
        flat[k] = original + eps
        f_plus = float(f(x_work))
        flat[k] = original - eps
        f_minus = float(f(x_work))
        flat[k] = original
        grad_flat[k] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(a: ArrayLike, b: ArrayLike) -> float:
    r"""Scale-free distance of two arrays: :math:`\max|a - b| / \max(|a| + |b|)`.

    Returns 0 when both are all zero (the denominator is floored at the smallest
    positive float).
    """
    a = as_float_array(a, "a")
    b = as_float_array(b, "b")
    if a.shape != b.shape:
        raise ValueError(f"a and b must have the same shape, got {a.shape} and {b.shape}")
    if a.size == 0:
        return 0.0
    scale = max(float(np.max(np.abs(a) + np.abs(b))), np.finfo(np.float64).tiny)
    return float(np.max(np.abs(a - b))) / scale


@dataclass(frozen=True)
class ParameterCheck:
    """The comparison for one parameter array, e.g. ``name="W2"`` (layer 2 weights)."""

    name: str
    relative_error: float
    ok: bool

    def describe(self) -> str:
        kind = "weights" if self.name.startswith("W") else "bias"
        return f"layer {self.name[1:]} {kind}"


@dataclass(frozen=True)
class GradientCheckReport:
    """Per-parameter results of :func:`check_gradients`; ``str`` names the worst one."""

    checks: tuple[ParameterCheck, ...]
    tol: float

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)

    @property
    def worst(self) -> ParameterCheck:
        return max(self.checks, key=lambda c: c.relative_error)

    def __bool__(self) -> bool:
        return self.ok

    def __str__(self) -> str:
        worst = self.worst
        if self.ok:
            return (
                f"all {len(self.checks)} gradients match (tolerance {self.tol:g}); worst: "
                f"{worst.describe()} with relative error {worst.relative_error:.2g}"
            )
        bad = ", ".join(c.name for c in self.checks if not c.ok)
        if np.isinf(worst.relative_error):
            return f"gradient of {worst.describe()} has the wrong shape (wrong: {bad})"
        return (
            f"gradient of {worst.describe()} off by relative error {worst.relative_error:.2g} "
            f"(tolerance {self.tol:g}; wrong: {bad})"
        )


LossAndGrads = Callable[..., tuple[float, list]]


def check_gradients(
    params: Sequence[tuple[ArrayLike, ArrayLike]],
    X: ArrayLike,
    y: ArrayLike,
    activation: str = "relu",
    l2: float = 0.0,
    loss_and_grads: LossAndGrads = mlp_loss_and_grads,
    eps: float = 1e-6,
    tol: float = 1e-6,
) -> GradientCheckReport:
    """Compare ``loss_and_grads`` with central differences of the loss, parameter by parameter.

    Parameters
    ----------
    params, X, y, activation, l2 : as for :func:`course_nn.backprop.mlp_loss_and_grads`
    loss_and_grads : the implementation under test (default: the reference), called as
        ``loss_and_grads(params, X, y, activation, l2)`` and returning (loss, [(dW, db)])
    eps : finite-difference step
    tol : largest relative error counted as a match

    Returns
    -------
    GradientCheckReport
        ``report.ok`` is True when every parameter matches; ``str(report)`` names the
        worst, e.g. "gradient of layer 2 weights off by relative error 0.31".
    """
    params = check_params(params)
    _, grads = loss_and_grads(params, X, y, activation, l2)
    checks = []
    for l, ((W, b), (dW, db)) in enumerate(zip(params, grads, strict=True), start=1):
        for name, value, analytic in ((f"W{l}", W, dW), (f"b{l}", b, db)):
            numeric = numerical_gradient(
                lambda v, l=l, name=name: mlp_loss(_replace(params, l, name, v), X, y, activation, l2),
                value,
                eps,
            )
            analytic = np.asarray(analytic, dtype=np.float64)
            same_shape = analytic.shape == numeric.shape
            err = relative_error(analytic, numeric) if same_shape else float("inf")
            checks.append(ParameterCheck(name, err, err <= tol))
    return GradientCheckReport(tuple(checks), tol)


def _replace(params: list, l: int, name: str, value: Array) -> list:
    """A copy of the params list with layer ``l``'s W or b (from ``name``) set to ``value``."""
    W, b = params[l - 1]
    layer = (value, b) if name.startswith("W") else (W, value)
    return params[: l - 1] + [layer] + params[l:]
