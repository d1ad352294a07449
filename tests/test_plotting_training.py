"""Tests for course_nn.plotting.training: every plot draws what it is given."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_nn.plotting import plot_layer_norms, plot_optimiser_paths, plot_train_validation  # noqa: E402

pytestmark = pytest.mark.ch6


def test_optimiser_paths_draw_one_line_per_path():
    paths = {"a": np.array([[1.0, 1.0], [0.5, 0.2]]), "b": np.array([[1.0, 1.0], [0.0, 0.0]])}
    ax = plot_optimiser_paths(lambda t: t @ t, paths, (-2, 2), (-2, 2))
    drawn = [line for line in ax.get_lines() if line.get_label() in paths]
    assert len(drawn) == 2
    np.testing.assert_allclose(drawn[1].get_xydata(), paths["b"])
    plt.close(ax.figure)


def test_layer_norms_on_a_log_axis():
    ax = plot_layer_norms({"sigmoid": [1e-6, 1e-3, 1.0], "relu": [1.0, 1.0, 1.0]})
    assert ax.get_yscale() == "log" and len(ax.get_lines()) == 2
    np.testing.assert_allclose(ax.get_lines()[0].get_xdata(), [1, 2, 3])
    plt.close(ax.figure)


def test_train_validation_has_two_lines_per_run_and_a_stop_marker():
    ax = plot_train_validation({"run": ([3, 2, 1], [3, 2.5, 2.8])}, stops={"run": 1})
    styles = [line.get_linestyle() for line in ax.get_lines()]
    assert styles.count("-") == 1 and styles.count("--") == 1 and styles.count(":") == 1
    plt.close(ax.figure)
