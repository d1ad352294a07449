"""Plots for chapter 6: computational graphs, training curves and finite-difference errors.

Book: chapter 6, *Backpropagation and training* (``book/ch06_backprop.ipynb``); the lab,
chapter 7 (``book/ch07_lab_digits.ipynb``), reuses :func:`plot_training_curves`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray

from course_nn.plotting.style import LINESTYLES, PALETTE, curve_style
from course_nn.train import History

#: Colours and line styles of highlighted paths through a graph, in order (grey and
#: solid: on no highlighted path).
PATH_COLOURS = (PALETTE[3], PALETTE[0], PALETTE[2], PALETTE[1])
PATH_LINESTYLES = LINESTYLES[:4]


def _edge_styles(edges: Sequence[tuple[str, str, str]], paths: Sequence[Sequence[str]]):
    """Each edge's (colour, line style): those of the first highlighted path using it,
    else grey and solid."""
    styles = {}
    for style, path in zip(zip(PATH_COLOURS, PATH_LINESTYLES, strict=True), paths, strict=False):
        for src, dst in zip(path[:-1], path[1:], strict=True):
            styles.setdefault((src, dst), style)
    return [styles.get((src, dst), ("0.55", "-")) for src, dst, _ in edges]


def plot_graph(
    nodes: Mapping[str, tuple[float, float]],
    edges: Sequence[tuple[str, str, str]],
    paths: Sequence[Sequence[str]] = (),
    ax: Axes | None = None,
    title: str = "",
) -> Axes:
    """Draw a computational graph: ``nodes`` maps a label (TeX allowed) to its (x, y)
    position, each edge ``(src, dst, label)`` is an arrow labelled with its local
    derivative, and each of ``paths`` (node labels from input to output) has its own
    colour and line style, so the chain rule's "product along each path, sum over
    paths" can be read off."""
    ax = ax or plt.subplots(figsize=(6.5, 3.2))[1]
    for (src, dst, label), (colour, ls) in zip(edges, _edge_styles(edges, paths), strict=True):
        (x0, y0), (x1, y1) = nodes[src], nodes[dst]
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops=dict(arrowstyle="-|>", color=colour, lw=2, ls=ls, shrinkA=16,
                                    shrinkB=16))
        ax.text((x0 + x1) / 2, (y0 + y1) / 2 + 0.12, label, color=colour, ha="center",
                va="bottom", fontsize=11)
    for name, (x, y) in nodes.items():
        ax.text(x, y, name, ha="center", va="center", fontsize=13,
                bbox=dict(boxstyle="circle,pad=0.35", fc="white", ec="0.3"))
    xs, ys = np.array(list(nodes.values()), dtype=float).T
    ax.set(xlim=(xs.min() - 0.6, xs.max() + 0.6), ylim=(ys.min() - 0.7, ys.max() + 0.8), title=title)
    ax.axis("off")
    return ax


def _x_values(history: History, x: str) -> NDArray[np.float64]:
    if x == "epoch":
        return np.arange(1, len(history.loss) + 1, dtype=float)
    if x == "seconds":
        return np.cumsum(history.epoch_seconds)
    raise ValueError(f"x must be 'epoch' or 'seconds', got {x!r}")


def plot_loss_against(
    histories: Mapping[str, History],
    x: str = "epoch",
    ax: Axes | None = None,
    log: bool = True,
) -> Axes:
    """The training loss of each run ``label -> History`` against the epoch (``x="epoch"``)
    or the cumulative training time (``x="seconds"``); runs differ by colour, line style
    and marker (one marker per epoch for up to 40 epochs)."""
    ax = ax or plt.subplots(figsize=(5.5, 3.4))[1]
    for number, (label, history) in enumerate(histories.items()):
        style = curve_style(number)
        if len(history.loss) <= 40:
            style.update(markevery=1, ms=3)
        ax.plot(_x_values(history, x), history.loss, lw=2, label=label, **style)
    ax.set(xlabel="epoch" if x == "epoch" else "training time (s)", ylabel="training loss $J$",
           yscale="log" if log else "linear")
    ax.legend(frameon=False, fontsize=8)
    return ax


def plot_training_curves(
    histories: Mapping[str, History],
    axes: Sequence[Axes] | None = None,
    x: str = "epoch",
    log_loss: bool = True,
) -> NDArray:
    """Loss (left) and accuracy (right) of each training run ``label -> History``.

    The accuracy panel draws the training accuracy as a solid line and, when the run
    had validation data, the validation accuracy dashed, both in the run's colour and
    marker. ``x`` is
    "epoch" or "seconds" (cumulative training time). Returns the two Axes.
    """
    if axes is None:
        axes = plt.subplots(1, 2, figsize=(10, 3.4))[1]
    loss_ax, acc_ax = axes
    plot_loss_against(histories, x=x, ax=loss_ax, log=log_loss)
    for line in loss_ax.get_lines():  # here dashed means test accuracy: runs differ by marker
        line.set_linestyle("-")
    for number, (label, history) in enumerate(histories.items()):
        style = dict(curve_style(number), ls="-")
        t = _x_values(history, x)
        acc_ax.plot(t, history.train_accuracy, lw=2, label=f"{label}: train", **style)
        if history.val_accuracy:
            acc_ax.plot(t, history.val_accuracy, lw=1.5, label=f"{label}: test",
                        **dict(style, ls="--", markerfacecolor="w"))
    acc_ax.set(xlabel=loss_ax.get_xlabel(), ylabel="accuracy")
    acc_ax.legend(frameon=False, fontsize=8)
    return np.asarray(axes)


def plot_step_errors(
    steps: ArrayLike,
    errors: Mapping[str, ArrayLike],
    orders: Mapping[str, int] | None = None,
    ax: Axes | None = None,
) -> Axes:
    """Error of finite-difference derivatives against the step size on log-log axes, one
    line per method ``label -> errors``. For each ``label -> p`` in ``orders`` a grey
    reference line of slope p (error proportional to step^p) starts at that method's
    error at the largest step and runs over the largest steps, where truncation (not
    rounding) dominates."""
    ax = ax or plt.subplots(figsize=(5.5, 3.6))[1]
    steps = np.asarray(steps, dtype=float)
    big = int(np.argmax(steps))
    large = steps >= steps[big] * 1e-5  # below this, rounding errors take over
    for number, (label, err) in enumerate(errors.items()):
        err = np.asarray(err, dtype=float)
        style = dict(curve_style(number), markevery=1, ms=3)
        ax.loglog(steps, err, lw=1.5, label=label, **style)
        if orders and label in orders:
            p = orders[label]
            ax.loglog(steps[large], err[big] * (steps[large] / steps[big]) ** p, ls="--",
                      color="0.5", lw=1, marker="")
            ax.annotate(f"slope {p}", (steps[large].min(), err[big] * (steps[large].min()
                        / steps[big]) ** p), textcoords="offset points", xytext=(-40, -4),
                        fontsize=8, color="0.4")
    ax.set(xlabel=r"step $\varepsilon$", ylabel="absolute error")
    ax.legend(frameon=False, fontsize=8)
    return ax
