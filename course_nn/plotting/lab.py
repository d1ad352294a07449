"""Plots for the image-classification lab: image grids, weight images, confusion matrices.

Book: chapter 7, *Lab: image classification* (``book/ch07_lab_digits.ipynb``); chapter 6
uses :func:`plot_images` to show that zero-initialised hidden units stay identical.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from numpy.typing import ArrayLike, NDArray


def _side(size: int) -> tuple[int, int]:
    """The square image shape of an unrolled image with ``size`` pixels."""
    side = int(round(np.sqrt(size)))
    if side * side != size:
        raise ValueError(f"cannot guess the image shape of {size} pixels: pass shape=(h, w)")
    return side, side


def plot_images(
    images: ArrayLike,
    titles: Sequence[str] | None = None,
    shape: tuple[int, int] | None = None,
    ncols: int = 8,
    diverging: bool = False,
    axes: Sequence[Axes] | None = None,
    size: float = 1.2,
) -> NDArray:
    """Draw unrolled images (one per row of ``images``) on a grid, row by row.

    Pixel images use a grey scale from white (0) to black (the largest value). With
    ``diverging=True`` (for weights), positive values are red, negative blue, and 0
    white, on one symmetric scale shared by all images so that they compare. Returns
    the Axes (a flat array; unused cells of the grid are hidden).
    """
    images = np.asarray(images, dtype=float)
    images = images.reshape(len(images), -1)
    shape = shape or _side(images.shape[1])
    ncols = max(1, min(ncols, len(images)))
    nrows = int(np.ceil(len(images) / ncols))
    if axes is None:
        fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows * 1.15),
                                 squeeze=False)
    axes = np.asarray(axes).ravel()
    limit = float(np.abs(images).max()) or 1.0
    style = (dict(cmap="RdBu_r", vmin=-limit, vmax=limit) if diverging
             else dict(cmap="gray_r", vmin=0.0, vmax=max(limit, 1e-12)))
    for k, ax in enumerate(axes):
        ax.set_axis_off()
        if k < len(images):
            ax.imshow(images[k].reshape(shape), interpolation="nearest", **style)
            if titles is not None:
                ax.set_title(titles[k], fontsize=8)
    return axes


def plot_confusion_matrix(
    cm: ArrayLike,
    class_names: Sequence[str] | None = None,
    ax: Axes | None = None,
    title: str = "",
) -> Axes:
    """Draw a confusion matrix (rows: true class, columns: predicted class) with counts.

    The diagonal (correct answers) dominates any colour scale, so colours show the
    off-diagonal counts (the mistakes) and the diagonal is drawn in grey.
    """
    cm = np.asarray(cm)
    if cm.ndim != 2 or cm.shape[0] != cm.shape[1]:
        raise ValueError(f"a confusion matrix is square (M, M), got shape {cm.shape}")
    M = cm.shape[0]
    names = list(class_names) if class_names is not None else [str(m) for m in range(M)]
    ax = ax or plt.subplots(figsize=(0.5 * M + 2, 0.5 * M + 1.5))[1]
    mistakes = np.where(np.eye(M, dtype=bool), 0, cm)
    ax.imshow(mistakes, cmap="Reds", vmin=0, vmax=max(int(mistakes.max()), 1))
    for i in range(M):
        for j in range(M):
            if cm[i, j] or i == j:
                ax.text(j, i, str(int(cm[i, j])), ha="center", va="center", fontsize=8,
                        color="0.45" if i == j else "black")
    rotate = max(map(len, names)) > 2  # long class names would overlap
    ax.set_xticks(range(M), names, rotation=45 if rotate else 0, ha="right" if rotate else "center")
    ax.set_yticks(range(M), names)
    ax.set(xlabel="predicted class", ylabel="true class", title=title)
    return ax
