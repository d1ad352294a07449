"""Data sets that work offline: generated (seeded) or shipped in a dependency.

Bigger data (MNIST, Fashion-MNIST) is read from IDX files at a path; see ``idx``.
"""

from course_nn.datasets.digits import load_digits, load_digits_split, train_test_split_stratified
from course_nn.datasets.synthetic import RegressionData, make_linear_regression

__all__ = [
    "RegressionData",
    "load_digits",
    "load_digits_split",
    "make_linear_regression",
    "train_test_split_stratified",
]
