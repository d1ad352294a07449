"""Do the plot helpers of chapters 2 and 3 draw what they say, return their Axes, and stay quiet?"""

from __future__ import annotations

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pytest
from matplotlib.axes import Axes

from course_nn.activations import relu, sigmoid
from course_nn.logistic import BOOLEAN_WEIGHTS, boolean_unit, xor_network
from course_nn.plotting.glm import (
    CORNERS,
    plot_decision_regions,
    plot_functions,
    plot_truth_table,
)
from course_nn.plotting.mlp import draw_network, plot_theta_layout, plot_unrolled_image

pytestmark = [pytest.mark.ch2, pytest.mark.ch3]


@pytest.fixture(autouse=True)
def _close_figures():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning here would be a build error in the book
        yield
    plt.close("all")


def test_plot_functions_draws_one_line_per_function():
    ax = plot_functions({"sigmoid": sigmoid, "relu": relu}, x_range=(-2.0, 2.0))
    assert isinstance(ax, Axes)
    assert [line.get_label() for line in ax.get_lines()][:2] == ["sigmoid", "relu"]
    x, y = ax.get_lines()[1].get_data()
    assert np.allclose(y, np.maximum(x, 0.0))


def test_decision_regions_with_data_and_without():
    X = np.array([[-1.0, -1.0], [1.0, 1.0], [0.5, -0.5]])
    ax = plot_decision_regions(lambda P: sigmoid(P.sum(axis=1)), X, np.array([0, 1, 1]))
    assert isinstance(ax, Axes)
    assert ax.get_legend() is not None
    assert len(ax.figure.axes) == 2  # the plot and its colour bar
    ax = plot_decision_regions(lambda P: np.full(len(P), 0.9), colorbar=False)
    assert len(ax.figure.axes) == 1  # constant probability: no boundary, no warning


def test_truth_table_labels_every_corner_with_the_output():
    w, b = BOOLEAN_WEIGHTS["AND"]
    ax = plot_truth_table(lambda P: boolean_unit(P, w, b), title="AND")
    labels = [text.get_text() for text in ax.texts]
    assert labels == ["0.00", "0.00", "0.00", "1.00"]
    ax = plot_truth_table(xor_network)
    assert [text.get_text() for text in ax.texts] == ["0.00", "1.00", "1.00", "0.00"]
    assert CORNERS.shape == (4, 2)


@pytest.mark.parametrize("sizes", [[3, 4, 1], [3, 4, 5, 2], [400, 25, 4]])
def test_draw_network_has_a_column_per_layer(sizes):
    ax = draw_network(sizes, show_bias=True)
    assert isinstance(ax, Axes)
    text = " ".join(t.get_text() for t in ax.texts)
    for size in sizes:
        assert f"{size} units" in text
    assert ("⋮" in text) == (max(sizes) > 8)


def test_theta_layout_blocks_cover_theta():
    ax = plot_theta_layout([3, 4, 5, 2])
    widths = [patch.get_width() for patch in ax.patches]
    assert widths == [12, 4, 20, 5, 10, 2]
    assert ax.get_xlim() == (0.0, 53.0)


def test_unrolled_image_shows_the_row_major_vector():
    image = np.arange(12.0).reshape(3, 4)
    ax_image, ax_vector = plot_unrolled_image(image)
    assert np.array_equal(ax_vector.images[0].get_array().ravel(), image.ravel())
    assert np.array_equal(ax_image.images[0].get_array(), image)
