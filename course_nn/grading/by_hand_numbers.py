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


def softmax_by_hand_params(variant: int) -> dict[str, Any]:
    """Ex04 part 3: softmax regression's weights ``W`` (3 classes x 2 features), biases ``b``
    and one point ``x``: small integers whose three logits differ (by at most 3, so that
    no probability is below 0.03), and biases that are not all equal (equal biases would
    not change the probabilities)."""
    if variant == 0:  # the lectures' three-class toy problem
        return {"W": [[2.0, -1.0], [0.0, 1.0], [1.0, 1.0]], "b": [0.0, 1.0, -2.0], "x": [1.0, 2.0]}
    rng = np.random.default_rng(variant)
    for _ in range(MAX_DRAWS):
        W = rng.integers(-2, 3, size=(3, 2)).astype(float)
        b = rng.integers(-2, 3, size=3).astype(float)
        x = rng.choice([-1.0, 1.0, 2.0], size=2)
        z = W @ x + b
        if (np.all(np.abs(z) <= 4) and 1 <= np.ptp(z) <= 3 and len(set(z.tolist())) == 3
                and abs(z.sum()) >= 1 and np.ptp(b) > 0 and np.all(W.any(axis=1))):
            return {"W": W.tolist(), "b": b.tolist(), "x": x.tolist()}
    raise RuntimeError(f"no usable numbers for variant {variant}")


def cross_entropy_by_hand_params(variant: int) -> dict[str, Any]:
    """Ex05 part 5: the predictions ``P`` (2 samples x 4 classes, rows summing to one, in
    steps of 0.05) and the labels ``y`` of a batch of two: each true class's probability
    at least 0.1, and the classes next to the true ones (a label counted from 1) giving
    a product of probabilities at least 10% away from the true classes' one, so that
    the wrong class is told apart from the right one."""
    if variant == 0:  # the lectures' classes 3 and 1 are labels 2 and 0
        return {"P": [[0.1, 0.2, 0.5, 0.2], [0.25, 0.25, 0.25, 0.25]], "y": [2, 0]}
    rng = np.random.default_rng(variant)
    for _ in range(MAX_DRAWS):
        steps = rng.multinomial(16, [0.25] * 4, size=2) + 1  # each entry >= 0.05, rows 20 steps
        y = rng.integers(0, 4, size=2)
        true = steps[np.arange(2), y]
        neighbours = [steps[np.arange(2), (y + k) % 4] for k in (-1, 1)]
        if (np.all(true >= 2) and not np.array_equal(steps[0], steps[1])
                and all(abs(np.log(other.prod() / true.prod())) >= np.log(1.1)
                        for other in neighbours)):
            return {"P": (steps / 20).round(2).tolist(), "y": [int(v) for v in y]}
    raise RuntimeError(f"no usable numbers for variant {variant}")


def backprop_by_hand_params(variant: int) -> dict[str, Any]:
    """Ex06 part 4: a two-layer sigmoid network ``theta1``, ``theta2`` (2 x 3, bias column
    first, one decimal), an input ``x`` and its ``label`` (0 or 1).

    The conditions are on the numbers and the hidden pre-activations (this module computes
    no activation, so that it ships without answers): each hidden pre-activation stays
    within 1.5 in size, so no sigmoid saturates (slope at least 0.14), and one is at least
    1.2 or at most -0.9, where the sigmoid's slope at the pre-activation and at the
    activation differ by 0.04 (so that mistake shows); whatever the hidden activations in (0, 1),
    the output logits favour the true class by at most 0.8, so the output error is at
    least 0.3 in size; the two output rows differ by 0.6 or more on each hidden unit, in
    opposite directions on the two, so each hidden error is at least 0.025 (well above
    the 0.005 a typed answer may be off) and the two have opposite signs; the
    two inputs differ and neither is 1, so the asked gradient entry is told apart from its
    neighbours."""
    if variant == 0:  # the lectures' network; the true class 2 of the lectures is label 1
        return {"theta1": [[0.1, 0.4, -0.3], [-0.2, 0.2, 0.5]],
                "theta2": [[0.3, -0.6, 0.8], [-0.1, 0.5, -0.4]], "x": [1.0, 2.0], "label": 1}
    rng = np.random.default_rng(variant)
    tenths = np.array([t for t in range(-8, 9) if t != 0]) / 10
    first = second = None
    for _ in range(MAX_DRAWS):  # the input and the first layer
        theta1 = rng.choice(tenths[np.abs(tenths) <= 0.6], size=(2, 3))
        x = rng.choice([-1.0, 2.0, -2.0], size=2)
        z2 = theta1 @ np.concatenate([[1.0], x])
        if x[0] != x[1] and np.all(np.abs(z2) <= 1.5) and np.any((z2 >= 1.2) | (z2 <= -0.9)):
            first = {"theta1": theta1.tolist(), "x": x.tolist()}
            break
    for _ in range(MAX_DRAWS):  # the second layer and the true class
        theta2 = rng.choice(tenths, size=(2, 3))
        label = int(rng.integers(0, 2))
        rows = theta2[0] - theta2[1]  # logit of label 0 minus that of label 1 = rows @ [1; a2]
        low = rows[0] + np.minimum(rows[1:], 0).sum()
        high = rows[0] + np.maximum(rows[1:], 0).sum()
        favours_true = -low if label == 1 else high
        if favours_true <= 0.8 and np.all(np.abs(rows[1:]) >= 0.6) and rows[1] * rows[2] < 0:
            second = {"theta2": theta2.tolist(), "label": label}
            break
    if first is not None and second is not None:
        return {"theta1": first["theta1"], "theta2": second["theta2"], "x": first["x"],
                "label": second["label"]}
    raise RuntimeError(f"no usable numbers for variant {variant}")


def confusion_by_hand_params(variant: int) -> dict[str, Any]:
    """Ex07 part 3: a three-class ``confusion`` matrix of counts (rows: true class)."""
    if variant == 0:  # 150 test samples
        return {"confusion": [[50, 2, 3], [4, 40, 6], [1, 19, 25]]}
    rng = np.random.default_rng(variant)
    for _ in range(MAX_DRAWS):
        C = rng.integers(0, 13, size=(3, 3))
        C[np.diag_indices(3)] = rng.integers(15, 51, size=3)
        if C[:, 1].sum() == 0 or C[1].sum() == 0:
            continue
        precision, recall = C[1, 1] / C[:, 1].sum(), C[1, 1] / C[1].sum()
        accuracy = np.trace(C) / C.sum()
        mean_recall = np.mean(np.diag(C) / C.sum(axis=1))
        if abs(precision - recall) >= 0.02 and abs(accuracy - mean_recall) >= 0.01:
            return {"confusion": C.tolist()}
    raise RuntimeError(f"no usable numbers for variant {variant}")


register_params("softmax_by_hand", "ex04_softmax", softmax_by_hand_params)
register_params("cross_entropy_by_hand", "ex05_cross_entropy", cross_entropy_by_hand_params)
register_params("backprop_by_hand", "ex06_backprop", backprop_by_hand_params)
register_params("confusion_by_hand", "ex07_lab", confusion_by_hand_params)
