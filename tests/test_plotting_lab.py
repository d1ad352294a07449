"""Tests of course_nn.plotting.lab (chapter 7): image grids, weight images and confusion
matrices draw what they are given, and bad input is refused with a clear message."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_nn.plotting.lab import plot_confusion_matrix, plot_images  # noqa: E402

pytestmark = pytest.mark.ch7


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_images_are_drawn_on_a_grid_with_shared_scale():
    images = np.arange(3 * 64, dtype=float).reshape(3, 64) - 50
    axes = plot_images(images, titles=["a", "b", "c"], ncols=2, diverging=True)
    assert len(axes) == 4 and not axes[3].images  # the unused cell stays empty
    assert axes[0].images[0].get_array().shape == (8, 8)
    assert axes[0].images[0].get_clim() == axes[2].images[0].get_clim() == (-141.0, 141.0)
    with pytest.raises(ValueError, match="image shape of 10 pixels"):
        plot_images(np.zeros((2, 10)))


def test_confusion_matrix_plot_colours_only_the_mistakes():
    C = np.array([[9, 1], [2, 8]])
    ax = plot_confusion_matrix(C, class_names=["cat", "dog"])
    shown = ax.images[0].get_array()
    np.testing.assert_array_equal(shown, [[0, 1], [2, 0]])
    assert {t.get_text() for t in ax.texts} == {"9", "1", "2", "8"}
    assert [t.get_text() for t in ax.get_xticklabels()] == ["cat", "dog"]
    with pytest.raises(ValueError, match="square"):
        plot_confusion_matrix(np.zeros((2, 3)))
