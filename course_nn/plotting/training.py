"""Plots for the training chapters' experiments: optimiser paths, gradient norms per
layer, and training against validation curves (chapters 3 and 6)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from course_nn.plotting.style import curve_style


def plot_optimiser_paths(
    f: Callable[[np.ndarray], float],
    paths: Mapping[str, ArrayLike],
    xlim: Sequence[float],
    ylim: Sequence[float],
    ax: Axes | None = None,
) -> Axes:
    """Contours of a function of two parameters ``f(theta)`` and each optimiser's path
    ``label -> array (steps + 1, 2)``, with a cross at the minimum of the grid."""
    ax = ax or plt.subplots(figsize=(6, 3.6))[1]
    t1, t2 = np.meshgrid(np.linspace(*xlim, 200), np.linspace(*ylim, 200))
    values = np.array([f(np.array(point)) for point in zip(t1.ravel(), t2.ravel(), strict=True)])
    ax.contour(t1, t2, values.reshape(t1.shape), levels=np.quantile(values, np.linspace(0.01, 0.9, 12)),
               colors="0.75", linewidths=0.8)
    for number, (label, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=float)
        ax.plot(path[:, 0], path[:, 1], lw=1.4, label=label,  # one marker per step
                **dict(curve_style(number), markevery=1, ms=2.5))
    best = np.unravel_index(np.argmin(values), t1.shape)
    ax.plot(t1[best], t2[best], "kx", ms=8)
    ax.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", xlim=xlim, ylim=ylim)
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_layer_norms(
    norms: Mapping[str, ArrayLike], ax: Axes | None = None, ylabel: str = r"$\|\partial J/\partial W^{(l)}\|$"
) -> Axes:
    """One line per run ``label -> values per layer`` against the layer l = 1, 2, ...,
    on a log scale: how a quantity grows or shrinks through the depth."""
    ax = ax or plt.subplots(figsize=(5.5, 3.4))[1]
    for number, (label, values) in enumerate(norms.items()):
        values = np.asarray(values, dtype=float)
        ax.semilogy(np.arange(1, len(values) + 1), values, lw=1.6, label=label,
                    **dict(curve_style(number), markevery=1, ms=3))
    ax.set(xlabel="layer $l$", ylabel=ylabel)
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_train_validation(
    curves: Mapping[str, tuple[ArrayLike, ArrayLike]],
    stops: Mapping[str, int] | None = None,
    ax: Axes | None = None,
    ylabel: str = "loss",
) -> Axes:
    """Training (solid) and validation (dashed, same colour and marker) curves of each run
    ``label -> (train, validation)`` against the epoch; a dotted vertical line at each
    ``label -> epoch`` in ``stops`` (where early stopping keeps the parameters)."""
    ax = ax or plt.subplots(figsize=(5.5, 3.4))[1]
    for number, (label, (train, val)) in enumerate(curves.items()):
        style = dict(curve_style(number), ls="-")
        colour = style["color"]
        ax.plot(np.asarray(train, dtype=float), lw=1.8, label=f"{label}: training", **style)
        ax.plot(np.asarray(val, dtype=float), lw=1.8, label=f"{label}: validation",
                **dict(style, ls="--", markerfacecolor="w"))
        if stops and label in stops:
            ax.axvline(stops[label], color=colour, ls=":", lw=1.2)
    ax.set(xlabel="epoch", ylabel=ylabel)
    ax.legend(frameon=False, fontsize=8)
    return ax
