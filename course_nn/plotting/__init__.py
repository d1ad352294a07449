"""Plots the book draws, one module per topic; every function returns the matplotlib Axes.

Plotting code is kept out of the chapters so that a chapter's cells show the idea,
not the styling.
"""

from course_nn.plotting.regression import plot_loss_curves, plot_regression_fit

__all__ = ["plot_loss_curves", "plot_regression_fit"]
