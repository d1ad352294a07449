"""The numbers of each by-hand item, one function ``params(variant) -> dict`` per item.

Book: none (course tooling); docs/exercise_items.md, "Numbers of one's own".

PrairieLearn's ``generate(data)``: variant 0 gives the book's own example (the numbers
every student had before variants); any other variant draws hand-friendly numbers (small
integers, halves) from ``numpy.random.default_rng(variant)``, redrawing until the
example is not degenerate, so that every quantity of the task is worth computing. The
keys are the keyword arguments of the item's reference (``checks/chNN.py``): one
function from parameters to answers, shared by the page and the grader. This module
holds no answer, so the for-credit bundle ships it as it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from course_nn.grading.variant import register_params

#: Draws before giving up on a non-degenerate example (never reached in practice).
MAX_DRAWS = 1000


def linear_by_hand_params(variant: int) -> dict[str, Any]:
    """Ex01 part 5: a linear model ``W``, ``b`` on three inputs ``X`` with targets ``y``."""
    if variant == 0:  # chapter 1's example model and inputs
        return {"X": [[1.0, 3.0], [0.0, 0.0], [2.0, 1.0]], "W": [2.0, -1.0], "b": 0.5,
                "y": [1.0, 0.0, 2.0]}
    rng = np.random.default_rng(variant)
    for _ in range(MAX_DRAWS):
        X = rng.integers(-2, 4, size=(3, 2)).astype(float)
        W = rng.choice([-2.0, -1.0, 1.0, 2.0, 3.0], size=2)
        b = float(rng.choice([-1.0, -0.5, 0.5, 1.0]))
        y = rng.integers(-1, 4, size=3).astype(float)
        errors = X @ W + b - y
        if (np.count_nonzero(errors) >= 2 and abs(errors.sum()) > 0 and np.abs(errors).max() <= 4
                and (X != 0).sum(0).all()):
            return {"X": X.tolist(), "W": W.tolist(), "b": b, "y": y.tolist()}
    raise RuntimeError(f"no usable numbers for variant {variant}")


def logistic_by_hand_params(variant: int) -> dict[str, Any]:
    """Ex02 part 5: a logistic unit ``w``, ``b`` and one input ``x`` of label 1."""
    if variant == 0:  # chapter 1's example model, now with a sigmoid
        return {"w": [2.0, -1.0], "b": 0.5, "x": [1.0, 3.0]}
    rng = np.random.default_rng(variant)
    for _ in range(MAX_DRAWS):
        w = rng.choice([-2.0, -1.0, 1.0, 2.0], size=2)
        b = float(rng.choice([-1.0, -0.5, 0.5, 1.0]))
        x = rng.integers(-1, 4, size=2).astype(float)
        z = float(w @ x + b)
        if 0.5 <= abs(z) <= 4.0 and np.all(x != 0) and x[0] != x[1]:
            return {"w": w.tolist(), "b": b, "x": x.tolist()}
    raise RuntimeError(f"no usable numbers for variant {variant}")


def parameters_by_hand_params(variant: int) -> dict[str, Any]:
    """Ex03 part 5: square grey images of ``side`` pixels, two hidden layers, ``classes``."""
    if variant == 0:  # the digits: 28 x 28 images, 100 and 50 hidden units, 10 classes
        return {"side": 28, "hidden": [100, 50], "classes": 10}
    rng = np.random.default_rng(variant)
    side = int(rng.choice([16, 20, 24, 28, 32]))
    hidden = [int(rng.choice([64, 100, 120, 128, 200])), int(rng.choice([20, 30, 32, 50, 64]))]
    classes = int(rng.choice([4, 5, 6, 10, 26]))
    return {"side": side, "hidden": hidden, "classes": classes}


register_params("linear_by_hand", "ex01_linear_regression", linear_by_hand_params)
register_params("logistic_by_hand", "ex02_activations", logistic_by_hand_params)
register_params("parameters_by_hand", "ex03_mlp", parameters_by_hand_params)
