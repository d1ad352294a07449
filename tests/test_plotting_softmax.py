"""Tests of course_nn.plotting.softmax: calibration bins, ECE, and that each plot draws."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_nn.plotting.softmax import (  # noqa: E402
    calibration_bins,
    class_colours,
    expected_calibration_error,
    plot_class_probabilities,
    plot_class_regions,
    plot_probability_bars,
    plot_reliability,
)
from course_nn.plotting.style import PALETTE, class_style  # noqa: E402
from course_nn.softmax import softmax  # noqa: E402

pytestmark = [pytest.mark.ch4, pytest.mark.ch5]

W = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])


def proba(points):
    return softmax(points @ W.T)


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def test_named_classes_get_their_colour():
    """Do "red", "blue", "green" get the colour-blind-safe palette's red, blue and green,
    and ten unnamed classes ten different colour-and-marker styles?"""
    assert class_colours(["red", "blue", "green"]) == [PALETTE[3], PALETTE[0], PALETTE[2]]
    styles = {tuple(class_style(m, f"class {m}").values()) for m in range(10)}
    assert len(styles) == 10


def test_calibration_bins_by_hand():
    """Are predictions grouped by confidence, with per-bin accuracy, mean confidence and count?"""
    confidence = np.array([0.05, 0.45, 0.55, 0.55, 0.95, 1.0])
    correct = np.array([False, True, True, False, True, True])
    bins = calibration_bins(confidence, correct, n_bins=2)
    np.testing.assert_array_equal(bins.edges, [0.0, 0.5, 1.0])
    np.testing.assert_array_equal(bins.count, [2, 4])
    np.testing.assert_allclose(bins.accuracy, [0.5, 0.75])
    np.testing.assert_allclose(bins.confidence, [0.25, (0.55 + 0.55 + 0.95 + 1.0) / 4])


def test_empty_bins_are_nan_and_ece_ignores_them():
    """Do empty bins give NaN (no warning), and is ECE the weighted |accuracy - confidence|?"""
    bins = calibration_bins(np.array([0.5, 0.5, 0.9, 0.9]), np.array([1, 0, 1, 0]), n_bins=10)
    assert bins.count.sum() == 4 and np.isnan(bins.accuracy[0])
    # bin of 0.5: accuracy 0.5, calibrated; bin of 0.9: accuracy 0.5, gap 0.4, half the data
    assert expected_calibration_error(bins) == pytest.approx(0.2)


def test_a_calibrated_sample_has_small_ece():
    """Does ECE go to 0 for labels drawn with the stated probabilities?"""
    rng = np.random.default_rng(0)
    confidence = rng.uniform(0.3, 1.0, size=200_000)
    correct = rng.random(confidence.size) < confidence
    assert expected_calibration_error(calibration_bins(confidence, correct)) < 0.01


def test_calibration_bins_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        calibration_bins(np.ones(3), np.ones(4))


def test_region_and_probability_plots_draw():
    """Do the plane plots return their Axes, with the data and one panel per class?"""
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(30, 2)), rng.integers(0, 3, size=30)
    ax = plot_class_regions(proba, X, y, ["red", "blue", "green"], resolution=40)
    assert ax.get_legend() is not None and len(ax.images) == 1
    assert {t.get_text() for t in ax.texts} == {"red", "blue", "green"}  # regions named
    axes = plot_class_probabilities(proba, X, y, ["red", "blue", "green"], resolution=30)
    assert len(axes) == 3 and "red" in axes[0].get_title()
    with pytest.raises(ValueError, match="xlim and ylim"):
        plot_class_regions(proba)


def test_bars_and_reliability_draw():
    """Does each row of P become a bar chart, and each model one reliability curve?"""
    P = np.array([[0.57, 0.03, 0.40], [0.12, 0.68, 0.20]])
    axes = plot_probability_bars(P, ["1", "2", "3"], true_class=1, titles=["a", "b"])
    assert len(axes) == 2 and len(axes[0].patches) == 3
    assert axes[0].patches[1].get_hatch() == "//"
    rng = np.random.default_rng(2)
    confidence = rng.uniform(0.4, 1, size=500)
    ax = plot_reliability({"model": (confidence, rng.random(500) < confidence)})
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels[0] == "calibrated" and labels[1].startswith("model (ECE")
