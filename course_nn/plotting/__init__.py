"""Plots the book draws, one module per topic; every function returns the matplotlib Axes.

Plotting code is kept out of the chapters so that a chapter's cells show the idea,
not the styling. Importing this package makes the book's colour-blind-safe style
(:mod:`course_nn.plotting.style`, design in ``docs/accessibility.md``) matplotlib's
default, so the chapters' own plots use it too.
"""

from course_nn.plotting.backprop import (
    plot_graph,
    plot_loss_against,
    plot_step_errors,
    plot_training_curves,
)
from course_nn.plotting.glm import plot_decision_regions, plot_functions, plot_truth_table
from course_nn.plotting.lab import plot_confusion_matrix, plot_images
from course_nn.plotting.mlp import draw_network, plot_theta_layout, plot_unrolled_image
from course_nn.plotting.regression import plot_loss_curves, plot_regression_fit
from course_nn.plotting.softmax import (
    CalibrationBins,
    calibration_bins,
    expected_calibration_error,
    plot_class_probabilities,
    plot_class_regions,
    plot_probability_bars,
    plot_reliability,
    scatter_classes,
)
from course_nn.plotting.style import (
    LINESTYLES,
    MARKERS,
    PALETTE,
    class_colours,
    class_style,
    curve_style,
    use_style,
)
from course_nn.plotting.training import plot_layer_norms, plot_optimiser_paths, plot_train_validation

use_style()

__all__ = [
    "LINESTYLES",
    "MARKERS",
    "PALETTE",
    "class_style",
    "curve_style",
    "scatter_classes",
    "use_style",
    "plot_confusion_matrix",
    "plot_graph",
    "plot_images",
    "plot_loss_against",
    "plot_step_errors",
    "plot_training_curves",
    "draw_network",
    "plot_decision_regions",
    "plot_functions",
    "plot_theta_layout",
    "plot_truth_table",
    "plot_unrolled_image",
    "CalibrationBins",
    "calibration_bins",
    "class_colours",
    "expected_calibration_error",
    "plot_class_probabilities",
    "plot_class_regions",
    "plot_loss_curves",
    "plot_probability_bars",
    "plot_regression_fit",
    "plot_reliability",
    "plot_layer_norms",
    "plot_optimiser_paths",
    "plot_train_validation",
]
