"""The book's plot style: a palette that stays apart with colour-vision deficiencies,
and classes and curves that never differ by colour alone (issue 14, docs/accessibility.md)."""

from __future__ import annotations

import warnings
from itertools import combinations

import matplotlib

matplotlib.use("Agg")

import matplotlib as mpl  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

import course_nn.plotting  # noqa: E402, F401  (applies the style)
from course_nn.activations import relu, sigmoid, tanh  # noqa: E402
from course_nn.plotting.backprop import plot_loss_against, plot_training_curves  # noqa: E402
from course_nn.plotting.colour_vision import (  # noqa: E402
    DEFICIENCIES,
    delta_e,
    lab,
    simulate,
    worst_pair_distance,
)
from course_nn.plotting.glm import plot_decision_regions, plot_functions  # noqa: E402
from course_nn.plotting.regression import plot_loss_curves  # noqa: E402
from course_nn.plotting.softmax import plot_class_regions, plot_reliability  # noqa: E402
from course_nn.plotting.style import (  # noqa: E402
    LINESTYLES,
    MARKERS,
    NAMED_COLOURS,
    PALETTE,
    class_style,
    curve_style,
    rc_params,
)
from course_nn.softmax import softmax  # noqa: E402
from course_nn.train import History  # noqa: E402

#: The colours used together for classes (C0 to C3): every pair, seen with any of the
#: three dichromacies, at least this far apart in CIE76 Delta E (tab10's red and green
#: are 7 apart for a deuteranope, and the checks below must reject them).
MIN_DELTA_E = 15.0


@pytest.fixture(autouse=True)
def _close_figures():
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a warning here would be a build error in the book
        yield
    plt.close("all")


def test_simulation_keeps_grey_and_known_values():
    """Does the simulation leave greys grey (all three matrices have rows summing to 1),
    and Lab give white L* = 100 and black L* = 0?"""
    for deficiency in DEFICIENCIES:
        np.testing.assert_allclose(DEFICIENCIES[deficiency].sum(axis=1), 1.0, atol=1e-5)
        np.testing.assert_allclose(simulate("0.5", deficiency), [0.5, 0.5, 0.5], atol=2e-3)
    np.testing.assert_allclose(lab(np.ones(3)), [100, 0, 0], atol=1e-2)
    np.testing.assert_allclose(lab(np.zeros(3)), [0, 0, 0], atol=1e-9)
    assert delta_e("red", "red", "deuteranopia") == 0.0


def test_red_and_green_of_tab10_collapse_for_a_deuteranope():
    """Is the issue's complaint reproduced: tab:red and tab:green, far apart for normal
    vision, are nearly the same colour with deuteranopia?"""
    assert delta_e("tab:red", "tab:green") > 50
    distance, (_, _, deficiency) = worst_pair_distance(["tab:red", "tab:blue", "tab:green"])
    assert distance < MIN_DELTA_E and deficiency == "deuteranopia"


def test_class_colours_stay_apart_with_every_deficiency():
    """Do the four colours used for classes stay at least MIN_DELTA_E apart with normal
    vision, protanopia, deuteranopia and tritanopia, and the named ones too?"""
    distance, where = worst_pair_distance(list(PALETTE[:4]))
    assert distance >= MIN_DELTA_E, where
    named = [NAMED_COLOURS[name] for name in ("red", "blue", "green")]
    assert worst_pair_distance(named)[0] >= MIN_DELTA_E


def test_every_colour_has_its_own_marker_and_line_style():
    """Is the style a colour, a marker and a line style per index, all different?"""
    assert len(set(MARKERS)) == len(MARKERS) >= len(PALETTE)
    assert len(set(map(str, LINESTYLES))) == len(LINESTYLES) == len(PALETTE)
    cycle = rc_params()["axes.prop_cycle"].by_key()
    assert cycle["color"] == list(PALETTE) and cycle["linestyle"] == list(LINESTYLES)
    for k, l in combinations(range(len(PALETTE)), 2):
        a, b = curve_style(k), curve_style(l)
        assert a["color"] != b["color"] and a["marker"] != b["marker"] and a["ls"] != b["ls"]


def test_importing_course_nn_plotting_applies_the_style():
    """Do the chapters' own plots (plain ax.plot, colours "C0", ...) get the palette?"""
    assert to_hex(mpl.colors.to_rgb("C3")) == PALETTE[3].lower()
    fig, ax = plt.subplots()
    lines = [ax.plot([0, 1], [k, k])[0] for k in range(3)]
    assert [to_hex(line.get_color()) for line in lines] == [c.lower() for c in PALETTE[:3]]
    assert len({line.get_linestyle() for line in lines}) == 3


def _markers_of_collections(ax):
    """The marker path of each scatter (PathCollection) on ax, as vertex arrays."""
    return [c.get_paths()[0].vertices.round(6).tobytes() for c in ax.collections
            if c.get_offsets().shape[0] and c.get_label() and not c.get_label().startswith("_")]


def test_class_plots_separate_classes_by_marker_and_name():
    """Do the region plots of chapters 2 to 4 give each class its own marker, and do the
    multi-class regions carry their class's name?"""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 2)), np.repeat([0, 1, 2], 20)
    W = np.array([[0.0, 2.0], [-2.0, -1.0], [2.0, -1.0]])
    ax = plot_class_regions(lambda P: softmax(P @ W.T), X, y, ["red", "blue", "green"],
                            resolution=40)
    assert len(set(_markers_of_collections(ax))) == 3
    assert {t.get_text() for t in ax.texts} == {"red", "blue", "green"}
    ax = plot_decision_regions(lambda P: 1 / (1 + np.exp(-P[:, 0])), X, (y > 0).astype(int),
                               resolution=30, colorbar=False)
    assert len(set(_markers_of_collections(ax))) == 2
    assert class_style(0)["marker"] != class_style(1)["marker"]


def _line_styles(ax):
    return [(to_hex(line.get_color()), str(line.get_linestyle()), line.get_marker())
            for line in ax.get_lines() if not line.get_label().startswith("_")]


def test_curve_plots_separate_curves_by_line_style_and_marker():
    """Does each curve of the line plots differ from the others in line style and in
    marker, not only in colour?"""
    history = History(loss=[1.0, 0.5, 0.3], train_accuracy=[0.5, 0.7, 0.8],
                      val_accuracy=[0.4, 0.6, 0.7], epoch_seconds=[0.1, 0.1, 0.1])
    axes = [
        plot_functions({"sigmoid": sigmoid, "relu": relu, "tanh": tanh}),
        plot_loss_curves({"a": [1, 0.5, 0.2], "b": [1, 0.7, 0.5], "c": [1, 0.9, 0.8]}),
        plot_loss_against({"a": history, "b": history}),
        plot_reliability({"a": (np.linspace(0.4, 1, 300), np.ones(300, bool)),
                          "b": (np.linspace(0.4, 1, 300), np.zeros(300, bool))}),
    ]
    for ax in axes:
        styles = _line_styles(ax)
        curves = [s for s in styles if s[0] != to_hex("0.5")]  # not the grey reference
        assert len({s[1] for s in curves}) == len(curves) >= 2, styles
        assert len({s[2] for s in curves}) == len(curves), styles
    loss_ax, acc_ax = plot_training_curves({"a": history, "b": history})
    train_a, test_a, train_b, test_b = _line_styles(acc_ax)
    assert train_a[1] == "-" and test_a[1] == "--" and train_a[2] == test_a[2] != train_b[2]
