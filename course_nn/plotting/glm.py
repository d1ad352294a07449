"""Plots for chapter 2: activation functions, decision regions, Boolean units.

Book: chapter 2, *Activations and generalised linear models*
(``book/ch02_activations.ipynb``); chapter 3 reuses :func:`plot_decision_regions`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray

from course_nn.plotting.style import MARKERS, PALETTE, class_style, curve_style

#: The map for p(y = 1 | x): blue to red through white, readable with the common
#: colour-vision deficiencies (the classes' points also differ by marker).
PROBABILITY_CMAP = "RdBu_r"
#: Style of the points of class 0 and class 1: the ends of PROBABILITY_CMAP, two markers.
CLASS_STYLES = ({"color": PALETTE[0], "marker": MARKERS[0]}, {"color": PALETTE[3], "marker": MARKERS[1]})

#: The four inputs of a two-input Boolean function, one per row: 00, 01, 10, 11.
CORNERS = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])


def plot_functions(
    functions: Mapping[str, Callable[[NDArray[np.float64]], ArrayLike]],
    x_range: tuple[float, float] = (-5.0, 5.0),
    ax: Axes | None = None,
    title: str = "",
) -> Axes:
    """Draw each scalar function ``label -> f`` (applied element-wise) over ``x_range``."""
    ax = ax or plt.subplots(figsize=(4.5, 3.2))[1]
    x = np.linspace(*x_range, 401)
    for k, (label, f) in enumerate(functions.items()):
        ax.plot(x, np.asarray(f(x), dtype=float), lw=2, label=label, **curve_style(k))
    ax.axhline(0, color="0.8", lw=0.8, zorder=0)
    ax.axvline(0, color="0.8", lw=0.8, zorder=0)
    ax.set(xlabel="$x$", title=title, xlim=x_range)
    ax.legend(frameon=False)
    return ax


def _grid(xlim: Sequence[float], ylim: Sequence[float], resolution: int):
    """A ``resolution`` x ``resolution`` grid and its points as rows of an (n, 2) array."""
    g1, g2 = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    return g1, g2, np.column_stack([g1.ravel(), g2.ravel()])


def _limits(X: NDArray[np.float64] | None, margin: float = 0.6):
    if X is None:
        return (-0.5, 1.5), (-0.5, 1.5)
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    return (low[0], high[0]), (low[1], high[1])


def plot_decision_regions(
    predict_proba: Callable[[NDArray[np.float64]], ArrayLike],
    X: ArrayLike | None = None,
    y: ArrayLike | None = None,
    ax: Axes | None = None,
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
    resolution: int = 200,
    threshold: float = 0.5,
    title: str = "",
    colorbar: bool = True,
) -> Axes:
    """Shade :math:`p(y = 1 \\mid \\mathbf x)` over the plane, draw the decision boundary, scatter data.

    Parameters
    ----------
    predict_proba : maps points of shape (n, 2) to probabilities of class 1, shape (n,)
    X, y : optional data to scatter, X of shape (n, 2) and labels y of shape (n,)
    xlim, ylim : the plotted window (default: the data's range plus a margin, or the
        unit square with a margin when there is no data)
    threshold : the probability drawn as the decision boundary (black line)
    colorbar : add a colour bar for the probability
    """
    ax = ax or plt.subplots(figsize=(4.5, 4))[1]
    X = None if X is None else np.asarray(X, dtype=float)
    default_x, default_y = _limits(X)
    g1, g2, points = _grid(xlim or default_x, ylim or default_y, resolution)
    p = np.asarray(predict_proba(points), dtype=float).reshape(g1.shape)
    filled = ax.contourf(g1, g2, p, levels=np.linspace(0, 1, 11), cmap=PROBABILITY_CMAP, alpha=0.45)
    if p.min() < threshold < p.max():
        ax.contour(g1, g2, p, levels=[threshold], colors="k", linewidths=2)
    if X is not None:
        labels = np.zeros(len(X), dtype=int) if y is None else np.asarray(y).astype(int)
        for label in np.unique(labels):
            mine = labels == label
            style = CLASS_STYLES[label] if label < 2 else class_style(label)
            ax.scatter(X[mine, 0], X[mine, 1], s=20, edgecolor="k", linewidth=0.5,
                       label=f"class {label}", **style)
        ax.legend(frameon=True, loc="upper left")
    if colorbar:
        ax.figure.colorbar(filled, ax=ax, label="$p(y=1\\mid \\mathbf{x})$", shrink=0.8)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title, aspect="equal")
    return ax


def plot_truth_table(
    predict: Callable[[NDArray[np.float64]], ArrayLike],
    ax: Axes | None = None,
    title: str = "",
    colorbar: bool = False,
) -> Axes:
    """A two-input Boolean unit over the plane, each corner 00, 01, 10, 11 labelled by its output.

    Filled circles mark the corners whose output rounds to 1, open squares those that
    round to 0; the black line is where the unit's output crosses 1/2.
    """
    ax = plot_decision_regions(predict, ax=ax, xlim=(-0.5, 1.5), ylim=(-0.5, 1.5),
                               resolution=150, title=title, colorbar=colorbar)
    out = np.asarray(predict(CORNERS), dtype=float)
    for (x1, x2), value in zip(CORNERS, out, strict=True):
        on = value > 0.5
        ax.scatter([x1], [x2], s=90, facecolor="k" if on else "w", edgecolor="k", zorder=3,
                   marker=MARKERS[0] if on else MARKERS[1])
        ax.annotate(f"{value:.2f}", (x1, x2), xytext=(8, 8), textcoords="offset points",
                    fontsize=10, bbox=dict(boxstyle="round", fc="w", ec="0.6", alpha=0.9))
    ax.set_xticks([0, 1])
    ax.set_yticks([0, 1])
    return ax
