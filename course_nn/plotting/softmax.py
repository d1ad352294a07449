"""Plots for chapters 4 and 5: multi-class decision regions, class probabilities,
predicted distributions as bars, and reliability (calibration) diagrams.

Book: chapter 4, *Softmax and multi-class classification* (``book/ch04_softmax.ipynb``),
and chapter 5, *Cross-entropy and maximum likelihood* (``book/ch05_cross_entropy.ipynb``).

A classifier is passed as ``predict_proba``, a function from points of shape (n, 2) to
class probabilities of shape (n, M) whose rows sum to 1, so the same plots work for
softmax regression, one-vs-rest sigmoids and MLPs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import NamedTuple

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from numpy.typing import ArrayLike, NDArray

from course_nn.plotting.style import SEQUENTIAL_CMAP, class_colours, class_style, curve_style

Array = NDArray[np.float64]
ProbaFunction = Callable[[Array], ArrayLike]



def _window(X: Array | None, xlim, ylim, margin: float = 0.8):
    """The plotted window: given limits, else the data's range plus a margin."""
    if xlim is not None and ylim is not None:
        return tuple(xlim), tuple(ylim)
    if X is None:
        raise ValueError("pass xlim and ylim, or data X to take the window from")
    low, high = X.min(axis=0) - margin, X.max(axis=0) + margin
    return xlim or (low[0], high[0]), ylim or (low[1], high[1])


def _probabilities_on_grid(predict_proba: ProbaFunction, xlim, ylim, resolution: int):
    """Grid coordinates and the (resolution, resolution, M) class probabilities on it."""
    g1, g2 = np.meshgrid(np.linspace(*xlim, resolution), np.linspace(*ylim, resolution))
    P = np.asarray(predict_proba(np.column_stack([g1.ravel(), g2.ravel()])), dtype=float)
    if P.ndim != 2:
        raise ValueError(f"predict_proba must return an (n, M) array, got shape {P.shape}")
    return g1, g2, P.reshape(*g1.shape, P.shape[1])


def scatter_classes(ax: Axes, X: ArrayLike, y: ArrayLike, class_names: Sequence[str],
                    s: float = 18) -> Axes:
    """Scatter points X (n, 2) with labels y (n,), each class in its own colour and
    marker (:func:`course_nn.plotting.style.class_style`) and labelled for the legend."""
    X, y = np.asarray(X, dtype=float), np.asarray(y).astype(int)
    for m, name in enumerate(class_names):
        mine = y == m
        if mine.any():
            ax.scatter(X[mine, 0], X[mine, 1], s=s, edgecolor="k", linewidth=0.4, label=name,
                       **class_style(m, name))
    return ax


def _label_regions(ax: Axes, g1: Array, g2: Array, P: Array, names: Sequence[str]):
    """Write each class's name at the centre of its region (as far as it lies inside the
    middle 70% of the window, so that labels stay clear of the frame), so that regions
    are told apart by text as well as by colour."""
    best = P.argmax(axis=-1)
    n1, n2 = g1.shape
    inner = np.zeros_like(best, dtype=bool)
    inner[int(0.15 * n1):int(0.85 * n1) + 1, int(0.15 * n2):int(0.85 * n2) + 1] = True
    for m, name in enumerate(names):
        mine = (best == m) & inner
        if mine.any():
            ax.text(g1[mine].mean(), g2[mine].mean(), name, ha="center", va="center", fontsize=9,
                    bbox=dict(boxstyle="round,pad=0.2", fc="w", ec="0.4", alpha=0.85))


def plot_class_regions(
    predict_proba: ProbaFunction,
    X: ArrayLike | None = None,
    y: ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
    resolution: int = 250,
    title: str = "",
    label_regions: bool = True,
) -> Axes:
    """Colour the plane by the most probable class and draw the decision boundaries.

    Parameters
    ----------
    predict_proba : maps points (n, 2) to class probabilities (n, M)
    X, y : optional data to scatter, X of shape (n, 2) and int labels y of shape (n,)
    class_names : names of the M classes (default "class 0", ...); names that are
        colours ("red", "blue", "green") give the class that colour
    xlim, ylim : the window (default: the data's range plus a margin)
    label_regions : write each class's name inside its region

    The colour is the most probable class's, faded towards white as that probability
    falls to 1/M, so uncertain areas look pale. The black lines are the decision
    boundaries: where the top two classes are equally probable. Classes never differ by
    colour alone: each has its own marker, and its name is written in its region.
    """
    ax = ax or plt.subplots(figsize=(4.6, 4.2))[1]
    X = None if X is None else np.asarray(X, dtype=float)
    xlim, ylim = _window(X, xlim, ylim)
    g1, g2, P = _probabilities_on_grid(predict_proba, xlim, ylim, resolution)
    M = P.shape[-1]
    names = list(class_names or [f"class {m}" for m in range(M)])
    colours = np.array([to_rgb(c) for c in class_colours(names)])
    confidence = (P.max(axis=-1) - 1 / M) / (1 - 1 / M)  # 0 when uniform, 1 when certain
    strength = 0.25 + 0.45 * confidence[..., None]
    image = 1 - strength * (1 - colours[P.argmax(axis=-1)])
    ax.imshow(image, origin="lower", extent=(*xlim, *ylim), aspect="auto", interpolation="bilinear")
    for m in range(M):  # the edge of class m's region: p_m equals the best other class
        others = np.delete(P, m, axis=-1).max(axis=-1)
        margin = P[..., m] - others
        if margin.min() < 0 < margin.max():
            ax.contour(g1, g2, margin, levels=[0.0], colors="k", linewidths=1.5)
    if label_regions:
        _label_regions(ax, g1, g2, P, names)
    if X is not None and y is not None:
        scatter_classes(ax, X, y, names)
        ax.legend(frameon=True, loc="upper left", fontsize=9)
    ax.set(xlabel="$x_1$", ylabel="$x_2$", title=title, xlim=xlim, ylim=ylim)
    ax.set_aspect("equal")
    return ax


def plot_class_probabilities(
    predict_proba: ProbaFunction,
    X: ArrayLike | None = None,
    y: ArrayLike | None = None,
    class_names: Sequence[str] | None = None,
    axes: Sequence[Axes] | None = None,
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
    resolution: int = 150,
) -> NDArray:
    r"""One map per class of :math:`p(y = m \mid \mathbf x)`, with the 0.5 contour and that class's data.

    Same parameters as :func:`plot_class_regions`; ``axes`` holds one Axes per class.
    Returns the array of Axes.
    """
    X = None if X is None else np.asarray(X, dtype=float)
    xlim, ylim = _window(X, xlim, ylim)
    g1, g2, P = _probabilities_on_grid(predict_proba, xlim, ylim, resolution)
    M = P.shape[-1]
    names = list(class_names or [f"class {m}" for m in range(M)])
    if axes is None:
        axes = plt.subplots(1, M, figsize=(3.3 * M, 3.3), sharey=True, layout="constrained")[1]
    axes = np.atleast_1d(np.asarray(axes, dtype=object))
    for m, ax in enumerate(axes):  # one colour map for all: the colour bar is shared
        filled = ax.contourf(g1, g2, P[..., m], levels=np.linspace(0, 1, 11),
                             cmap=SEQUENTIAL_CMAP, vmin=0.0, vmax=1.0, alpha=0.8)
        if P[..., m].min() < 0.5 < P[..., m].max():
            ax.contour(g1, g2, P[..., m], levels=[0.5], colors="k", linewidths=1.2)
        if X is not None and y is not None:
            mine = np.asarray(y).astype(int) == m
            ax.scatter(X[mine, 0], X[mine, 1], s=12, edgecolor="w", linewidth=0.4,
                       **class_style(m, names[m]))
        ax.set(title=f"$p(y = \\mathrm{{{names[m]}}} \\mid \\mathbf{{x}})$", xlabel="$x_1$",
               xlim=xlim, ylim=ylim)
        ax.set_aspect("equal")
    axes[0].set_ylabel("$x_2$")
    axes[0].figure.colorbar(filled, ax=list(axes), shrink=0.8, label="probability")
    return axes


def plot_probability_bars(
    P: ArrayLike,
    class_names: Sequence[str],
    true_class: int | Sequence[int] | None = None,
    titles: Sequence[str] | None = None,
    axes: Sequence[Axes] | None = None,
) -> NDArray:
    """Each row of ``P`` (a predicted distribution over the classes) as a bar chart.

    Parameters
    ----------
    P : array of shape (k, M) or (M,)
        k predicted distributions.
    class_names : the M class names, on the x axis
    true_class : the label of the true class, drawn in the palette's red (C3) and hatched (one label for all
        rows, or one per row)
    titles : one title per row of ``P``

    Probabilities are written above the bars (for more than six classes only those of
    at least 0.05, to keep them readable).

    Returns the array of k Axes.
    """
    P = np.atleast_2d(np.asarray(P, dtype=float))
    k, M = P.shape
    if axes is None:
        axes = plt.subplots(1, k, figsize=(2.6 * k + 0.4, 2.6), sharey=True, layout="constrained")[1]
    axes = np.atleast_1d(np.asarray(axes, dtype=object))
    truths = [None] * k if true_class is None else np.broadcast_to(true_class, (k,))
    for i, ax in enumerate(axes):
        colours = ["C3" if m == truths[i] else "C7" for m in range(M)]
        bars = ax.bar(range(M), P[i], color=colours, edgecolor="k", linewidth=0.6)
        if truths[i] is not None:
            bars[int(truths[i])].set_hatch("//")
        for m, p in enumerate(P[i]):
            if M <= 6 or p >= 0.05:
                ax.text(m, p + 0.02, f"{p:.2f}", ha="center", va="bottom", fontsize=8)
        ax.set_xticks(range(M), class_names)
        ax.set(ylim=(0, 1.12), title=titles[i] if titles else "")
    axes[0].set_ylabel("predicted probability")
    return axes


class CalibrationBins(NamedTuple):
    """Predictions grouped by confidence: per bin, the mean confidence, accuracy and count."""

    edges: Array
    confidence: Array
    accuracy: Array
    count: NDArray[np.int64]


def calibration_bins(confidence: ArrayLike, correct: ArrayLike, n_bins: int = 10) -> CalibrationBins:
    """Group predictions into ``n_bins`` equal-width confidence bins over [0, 1].

    Parameters
    ----------
    confidence : array of shape (n,)
        The probability each prediction gave to the class it predicted.
    correct : bool array of shape (n,)
        Whether each prediction was right.

    Returns
    -------
    CalibrationBins
        Empty bins have ``count`` 0 and NaN confidence and accuracy. A calibrated
        model has accuracy close to confidence in every bin: of all predictions made
        with probability 0.5, half are right.
    """
    confidence = np.asarray(confidence, dtype=float)
    correct = np.asarray(correct, dtype=float)
    if confidence.shape != correct.shape or confidence.ndim != 1:
        raise ValueError(f"confidence and correct must be 1-D of the same shape, got "
                         f"{confidence.shape} and {correct.shape}")
    edges = np.linspace(0.0, 1.0, n_bins + 1)
    index = np.clip(np.digitize(confidence, edges[1:-1]), 0, n_bins - 1)
    count = np.bincount(index, minlength=n_bins)
    with np.errstate(invalid="ignore"):  # empty bins: 0/0 is NaN on purpose
        mean_confidence = np.bincount(index, weights=confidence, minlength=n_bins) / count
        accuracy = np.bincount(index, weights=correct, minlength=n_bins) / count
    return CalibrationBins(edges, mean_confidence, accuracy, count)


def expected_calibration_error(bins: CalibrationBins) -> float:
    r"""ECE: :math:`\sum_b \frac{n_b}{n} \lvert \mathrm{acc}_b - \mathrm{conf}_b \rvert`
    over the non-empty bins (Guo et al., 2017)."""
    full = bins.count > 0
    weights = bins.count[full] / bins.count.sum()
    return float(np.sum(weights * np.abs(bins.accuracy[full] - bins.confidence[full])))


def plot_reliability(
    models: Mapping[str, tuple[ArrayLike, ArrayLike]],
    n_bins: int = 10,
    ax: Axes | None = None,
    title: str = "",
    min_count: int = 10,
) -> Axes:
    """Reliability diagram: accuracy against confidence per bin, one curve per model.

    Parameters
    ----------
    models : ``label -> (confidence, correct)``, see :func:`calibration_bins`
    n_bins : equal-width confidence bins over [0, 1]
    min_count : bins with fewer predictions are not drawn (their accuracy is mostly
        noise); they still count in the ECE

    Points on the diagonal are calibrated; below it the model is overconfident, above
    it underconfident. Marker area grows with the number of predictions in the bin;
    the legend gives each model's expected calibration error.
    """
    ax = ax or plt.subplots(figsize=(4.4, 4.2))[1]
    ax.plot([0, 1], [0, 1], ls="--", color="0.5", lw=1, label="calibrated")
    for k, (label, (confidence, correct)) in enumerate(models.items()):
        bins = calibration_bins(confidence, correct, n_bins)
        full = bins.count >= max(min_count, 1)
        sizes = 12 + 250 * bins.count[full] / bins.count.max()
        style = curve_style(k)
        ax.plot(bins.confidence[full], bins.accuracy[full], lw=1.5, color=style["color"],
                ls=style["ls"], marker=style["marker"], ms=5, markeredgecolor="k",
                label=f"{label} (ECE {expected_calibration_error(bins):.3f})")
        ax.scatter(bins.confidence[full], bins.accuracy[full], s=sizes, color=style["color"],
                   marker=style["marker"], edgecolor="k", linewidth=0.4, zorder=3)
    ax.set(xlabel="confidence (probability of the predicted class)", ylabel="accuracy",
           xlim=(0, 1.02), ylim=(0, 1.02), title=title)
    ax.set_aspect("equal")
    ax.legend(frameon=False, fontsize=8, loc="upper left")
    return ax


def class_legend_handles(class_names: Sequence[str]) -> list[Line2D]:
    """Legend entries (each class's marker and colour), for plots that draw no data."""
    return [Line2D([], [], ls="", markeredgecolor="k", label=name, **class_style(m, name))
            for m, name in enumerate(class_names)]
