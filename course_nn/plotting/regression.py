"""Plots for chapter 1: data with fitted lines, and loss curves of gradient descent."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from course_nn.plotting.style import PALETTE, curve_style


def plot_regression_fit(
    x: ArrayLike,
    y: ArrayLike,
    lines: Mapping[str, tuple[float, float]] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Scatter one-feature data ``(x, y)`` (grey) and draw each line ``label -> (w, b)``,
    each in its own colour, line style and marker (:func:`~course_nn.plotting.style.curve_style`)."""
    x = np.asarray(x, dtype=float).ravel()
    ax = ax or plt.subplots(figsize=(5.5, 3.5))[1]
    ax.scatter(x, y, s=14, alpha=0.7, color=PALETTE[7], label="data")
    grid = np.linspace(x.min(), x.max(), 100)
    for k, (label, (w, b)) in enumerate((lines or {}).items()):
        ax.plot(grid, float(np.ravel(w)[0]) * grid + float(b), lw=2, label=label, **curve_style(k))
    ax.set(xlabel="$x$", ylabel="$y$")
    ax.legend(frameon=False)
    return ax


def plot_loss_curves(
    histories: Mapping[str, Sequence[float]],
    ax: Axes | None = None,
    log: bool = True,
    ylabel: str = "loss",
) -> Axes:
    """One curve per ``label -> losses`` against the epoch, on a log scale by default;
    curves differ by colour, line style and marker."""
    ax = ax or plt.subplots(figsize=(5.5, 3.5))[1]
    for k, (label, losses) in enumerate(histories.items()):
        ax.plot(np.arange(len(losses)), losses, lw=2, label=label, **curve_style(k))
    ax.set(xlabel="epoch", ylabel=ylabel, yscale="log" if log else "linear")
    ax.legend(frameon=False)
    return ax
