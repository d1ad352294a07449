"""Plots for chapter 3: network diagrams, the layout of θ, unrolled images.

Book: chapter 3, *Deep neural networks* (``book/ch03_mlp.ipynb``).
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike

from course_nn.plotting.style import PALETTE


def _layer_names(n_layers: int) -> list[str]:
    """Names under the columns of a diagram: input x, hidden q(1), ..., output y_hat."""
    hidden = [f"hidden $\\mathbf{{q}}^{{({l})}}$" for l in range(1, n_layers - 1)]
    return ["input $\\mathbf{x}$", *hidden, "output $\\hat{\\mathbf{y}}$"]


def _unit_positions(size: int, max_units: int) -> tuple[np.ndarray, bool]:
    """Vertical positions of the drawn units of one layer, and whether some are elided."""
    shown = min(size, max_units)
    return np.linspace(-(shown - 1) / 2, (shown - 1) / 2, shown), size > max_units


def draw_network(
    layer_sizes: Sequence[int],
    ax: Axes | None = None,
    max_units: int = 8,
    show_bias: bool = False,
) -> Axes:
    """Draw a fully connected network: one column of units per layer, every edge a weight.

    Parameters
    ----------
    layer_sizes : [p, U1, ..., M], the number of units of each layer
    max_units : layers with more units are drawn with ``max_units`` and a "⋮"
    show_bias : draw the bias unit "1" above every non-output layer (the notation of
        :func:`course_nn.mlp.bias_unit_form`), its edges dashed
    """
    sizes = [int(s) for s in layer_sizes]
    ax = ax or plt.subplots(figsize=(1.9 * len(sizes) + 1, 3.6))[1]
    positions = [_unit_positions(s, max_units) for s in sizes]
    top = max(len(p) for p, _ in positions) / 2 + 0.6
    for l, ((ys, _), (ys_next, _)) in enumerate(zip(positions[:-1], positions[1:], strict=True)):
        for y in ys:
            for y_next in ys_next:
                ax.plot([l, l + 1], [y, y_next], color="0.75", lw=0.7, zorder=1)
        if show_bias:
            for y_next in ys_next:
                ax.plot([l, l + 1], [top, y_next], color="C1", lw=0.7, ls="--", zorder=1)
            ax.scatter([l], [top], s=260, color="w", edgecolor="C1", zorder=2)
            ax.text(l, top, "1", ha="center", va="center", fontsize=9, zorder=3)
    colours = ["C0"] + ["C2"] * (len(sizes) - 2) + ["C3"]
    for l, ((ys, elided), colour, name, size) in enumerate(
            zip(positions, colours, _layer_names(len(sizes)), sizes, strict=True)):
        ax.scatter(np.full(len(ys), l), ys, s=260, color="w", edgecolor=colour, lw=2, zorder=2)
        if elided:
            ax.text(l, 0, "⋮", ha="center", va="center", fontsize=14, zorder=3,
                    bbox=dict(fc="w", ec="none"))
        ax.text(l, ys.min() - 0.9, f"{name}\n{size} units", ha="center", va="top", fontsize=10)
    ax.set(xlim=(-0.6, len(sizes) - 0.4), ylim=(-top - 1.6, top + 0.6))
    ax.axis("off")
    return ax


def plot_theta_layout(layer_sizes: Sequence[int], ax: Axes | None = None) -> Axes:
    """The parameter vector θ as a bar of blocks: vec W⁽¹⁾, b⁽¹⁾, vec W⁽²⁾, b⁽²⁾, ...

    Each block's width is its number of entries; the labels give its index range.
    """
    sizes = [int(s) for s in layer_sizes]
    ax = ax or plt.subplots(figsize=(9, 1.6))[1]
    start = 0
    for l, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True), start=1):
        for kind, length, shade in [("W", fan_in * fan_out, 0.85), ("b", fan_out, 0.45)]:
            colour = PALETTE[(l - 1) % len(PALETTE)]
            ax.barh(0, length, left=start, color=colour, alpha=shade, edgecolor="k")
            label = f"vec $W^{{({l})}}$" if kind == "W" else f"$\\mathbf{{b}}^{{({l})}}$"
            ax.text(start + length / 2, 0.55, f"{label}\n{start}…{start + length - 1}",
                    ha="center", va="bottom", fontsize=8)
            start += length
    ax.set(xlim=(0, start), ylim=(-0.5, 1.6), yticks=[], xlabel="index in $\\theta$")
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    return ax


def plot_unrolled_image(image: ArrayLike, axes: Sequence[Axes] | None = None) -> np.ndarray:
    """An image next to its unrolled (row-major) vector, the input a network sees.

    Returns the two Axes (image, vector) as an array, like ``plt.subplots``.
    """
    image = np.asarray(image, dtype=float)
    if axes is None:
        fig, axes = plt.subplots(2, 1, figsize=(9, 3.2), gridspec_kw={"height_ratios": [4, 1]})
    ax_image, ax_vector = axes
    ax_image.imshow(image, cmap="gray_r")
    ax_image.set_title(f"image, {image.shape[0]} × {image.shape[1]} pixels")
    ax_image.set_xticks(range(image.shape[1]))
    ax_image.set_yticks(range(image.shape[0]))
    vector = image.ravel()[None, :]
    ax_vector.imshow(vector, cmap="gray_r", aspect="auto")
    ax_vector.set_yticks([])
    for row in range(1, image.shape[0]):  # where each image row starts in the vector
        ax_vector.axvline(row * image.shape[1] - 0.5, color="C3", lw=0.8)
    ax_vector.set_xlabel(f"unrolled input vector $\\mathbf{{x}}$, {vector.size} entries "
                         "(red lines: start of the next image row)")
    return np.array([ax_image, ax_vector])
