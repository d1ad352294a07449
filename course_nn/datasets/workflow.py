r"""A classification problem where the workflow matters: a disc and two half-rings hidden
among noise features, with noisy labels (exercise 8, the capstone).

Book: chapter 8, *The workflow: build, check, tune* (the exercise's data; the chapter's
own demonstrations use the digits). Exercise: ``exercises/ex08_capstone``.

Three classes live in a plane: class 0 is the disc of radius :data:`DISC_RADIUS`, classes
1 and 2 the two halves of the rest of the square :math:`[-2, 2]^2`, cut by a line through
the centre. The plane is hidden among ``p - 2`` standard-normal noise features and the
whole is rotated, so every feature mixes signal and noise. A share
:data:`LABEL_NOISE` of the labels is redrawn uniformly. With few samples the problem
rewards a careful workflow: softmax regression cannot cut out the disc, an MLP trained
with the settings of the digits lab memorises the noise, and an MLP whose learning rate,
weight decay and stopping epoch are chosen on a validation split does clearly better
(the figures are in :data:`course_nn.grading.checks.ch08.ACCURACY_FLOOR`'s comment and
checked by ``tests/test_capstone_reference.py``).

``seed`` picks the problem (the rotation and the cutting line), ``draw`` the samples:
the same ``seed`` with different draws gives independent samples of one problem, so a
grader can hold a test split back by drawing it with a number the students never use.
Per-student variants of the problem are a later step; ``seed`` is their hook.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

#: Number of input features and classes of the exercise's problem.
NUM_FEATURES = 30
NUM_CLASSES = 3
#: Radius of class 0's disc in the hidden plane; the plane's square is [-2, 2]^2.
DISC_RADIUS = 1.3
#: Share of labels redrawn uniformly over the classes (some of them land on the true class).
LABEL_NOISE = 0.05
#: Sizes of the splits the exercise hands out (training and validation).
N_TRAIN, N_VAL = 400, 200
#: The draws of the exercise's training and validation splits.
TRAIN_DRAW, VAL_DRAW = 0, 1


def _problem(seed: int, p: int) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The rotation (p, p) and the direction of the cutting line of problem ``seed``."""
    rng = np.random.default_rng([int(seed), 0])
    rotation, _ = np.linalg.qr(rng.standard_normal((p, p)))
    angle = rng.uniform(0.0, np.pi)
    return rotation, np.array([np.cos(angle), np.sin(angle)])


def make_disc_in_noise(
    n: int, seed: int = 0, draw: int = 0, p: int = NUM_FEATURES, label_noise: float = LABEL_NOISE
) -> tuple[NDArray[np.float64], NDArray[np.int64]]:
    """``n`` samples of problem ``seed`` (see the module), draw number ``draw``.

    Parameters
    ----------
    n : int >= 1, number of samples
    seed : int >= 0, the problem (rotation and cutting line); the exercise uses 0
    draw : int >= 0, which samples: each draw is independent of the others
    p : int >= 2, number of features (2 carry the classes, p - 2 are noise)
    label_noise : float in [0, 1), share of labels redrawn uniformly

    Returns
    -------
    X : float array (n, p); y : int array (n,), labels 0, 1, 2
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int, got {n!r}")
    if int(p) < 2:
        raise ValueError(f"p must be at least 2, got {p}")
    if not 0 <= label_noise < 1:
        raise ValueError(f"label_noise must be in [0, 1), got {label_noise}")
    rotation, normal = _problem(seed, int(p))
    rng = np.random.default_rng([int(seed), 1, int(draw)])
    plane = rng.uniform(-2.0, 2.0, size=(n, 2))
    y = np.where(np.hypot(plane[:, 0], plane[:, 1]) < DISC_RADIUS, 0,
                 np.where(plane @ normal > 0, 1, 2)).astype(np.int64)
    redraw = rng.random(n) < label_noise
    y = np.where(redraw, rng.integers(0, NUM_CLASSES, size=n), y)
    hidden = np.column_stack([plane, rng.standard_normal((n, int(p) - 2))])
    return hidden @ rotation.T, y


def load_capstone_data(
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.int64], NDArray[np.float64], NDArray[np.int64]]:
    """The exercise's training and validation splits: ``X_train, y_train, X_val, y_val``
    (:data:`N_TRAIN` and :data:`N_VAL` samples of problem ``seed``). There is no test split
    here: the grader draws its own."""
    X_train, y_train = make_disc_in_noise(N_TRAIN, seed, TRAIN_DRAW)
    X_val, y_val = make_disc_in_noise(N_VAL, seed, VAL_DRAW)
    return X_train, y_train, X_val, y_val
