"""Tests of course_nn.plotting.backprop (chapter 6): each plot draws what it is given,
and bad input is refused with a clear message."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

from course_nn.plotting.backprop import (  # noqa: E402
    plot_graph,
    plot_loss_against,
    plot_step_errors,
    plot_training_curves,
)
from course_nn.train import History  # noqa: E402

pytestmark = [pytest.mark.ch6, pytest.mark.ch7]  # chapter 7 draws its training curves too


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def history(epochs=5, val=True):
    return History(loss=list(np.geomspace(2, 0.1, epochs)), train_accuracy=list(np.linspace(0.5, 1, epochs)),
                   val_accuracy=list(np.linspace(0.4, 0.9, epochs)) if val else None,
                   epoch_seconds=[0.1] * epochs)


def test_graph_draws_every_edge_and_colours_the_paths():
    nodes = {"a": (0, 0), "b": (1, 0), "c": (2, 0)}
    ax = plot_graph(nodes, [("a", "b", "x"), ("b", "c", "y")], paths=[["a", "b"]])
    arrows = [t for t in ax.texts if getattr(t, "arrow_patch", None) is not None]
    assert len(arrows) == 2
    assert {t.get_text() for t in ax.texts} >= {"a", "b", "c", "x", "y"}
    colours = [matplotlib.colors.to_hex(t.arrow_patch.get_edgecolor()) for t in arrows]
    assert colours[0] != colours[1]  # the highlighted edge differs from the plain one


def test_training_curves_draw_loss_and_both_accuracies():
    loss_ax, acc_ax = plot_training_curves({"run": history(), "no val": history(val=False)})
    assert len(loss_ax.lines) == 2 and loss_ax.get_yscale() == "log"
    assert len(acc_ax.lines) == 3  # train + test for the first run, train for the second
    np.testing.assert_allclose(loss_ax.lines[0].get_xdata(), np.arange(1, 6))


def test_loss_against_seconds_uses_cumulative_time():
    ax = plot_loss_against({"run": history()}, x="seconds")
    np.testing.assert_allclose(ax.lines[0].get_xdata(), np.cumsum([0.1] * 5))
    with pytest.raises(ValueError, match="x must be 'epoch' or 'seconds'"):
        plot_loss_against({"run": history()}, x="steps")


def test_step_errors_draw_reference_slopes():
    steps = np.logspace(-8, -1, 8)
    ax = plot_step_errors(steps, {"one": steps, "two": steps**2}, orders={"one": 1, "two": 2})
    assert len(ax.lines) == 4 and ax.get_xscale() == "log"
    slope = np.diff(np.log(ax.lines[3].get_ydata())) / np.diff(np.log(ax.lines[3].get_xdata()))
    np.testing.assert_allclose(slope, 2)
