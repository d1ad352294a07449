"""Data sets that work offline: generated (seeded) or shipped in a dependency.

Bigger data (MNIST, Fashion-MNIST) is read from IDX files at a path; see ``idx``.
"""

from course_nn.datasets.digits import load_digits, load_digits_split, train_test_split_stratified
from course_nn.datasets.idx import FASHION_MNIST_CLASSES, load_fashion_mnist, load_mnist, read_idx
from course_nn.datasets.synthetic import RegressionData, make_linear_regression
from course_nn.datasets.toy import TOY_CLASS_NAMES, make_three_class_toy, make_two_class_toy
from course_nn.datasets.workflow import load_capstone_data, make_disc_in_noise

__all__ = [
    "FASHION_MNIST_CLASSES",
    "load_fashion_mnist",
    "load_mnist",
    "read_idx",
    "TOY_CLASS_NAMES",
    "RegressionData",
    "load_digits",
    "load_capstone_data",
    "load_digits_split",
    "make_disc_in_noise",
    "make_linear_regression",
    "make_three_class_toy",
    "make_two_class_toy",
    "train_test_split_stratified",
]
