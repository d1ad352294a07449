r"""Overfitting and the validation protocol: train/validation curves and early stopping.

Book: chapter 6, *Backpropagation and training* (section *Overfitting, validation and
early stopping*). Design notes in ``docs/practice_and_gaps.md``.

The protocol: split the training data into a part to fit on and a *validation* part
that the updates never see; record both losses after every epoch; choose the epoch
(and any hyperparameter such as the L2 weight :math:`\lambda`) by the validation loss;
touch the test set once, at the very end. *Early stopping* keeps the parameters of the
epoch with the lowest validation loss and stops once ``patience`` epochs in a row have
not improved on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from course_nn.backprop import mlp_loss_and_grads
from course_nn.losses import accuracy, softmax_cross_entropy
from course_nn.mlp import Params, check_params, mlp_forward
from course_nn.train import sgd_step

Array = NDArray[np.float64]


@dataclass
class Curves:
    """Per-epoch numbers of a run (index 0 = before training): losses are the mean
    cross-entropy without the penalty, so that train and validation compare;
    ``params`` holds the parameters after each epoch."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_accuracy: list[float] = field(default_factory=list)
    val_accuracy: list[float] = field(default_factory=list)
    params: list[Params] = field(default_factory=list)


def _record(curves: Curves, params: Params, data: tuple, activation: str) -> None:
    X, y, X_val, y_val = data
    for (X_, y_), loss, acc in (((X, y), curves.train_loss, curves.train_accuracy),
                                ((X_val, y_val), curves.val_loss, curves.val_accuracy)):
        logits = mlp_forward(params, X_, activation)
        loss.append(softmax_cross_entropy(logits, y_))
        acc.append(accuracy(logits, y_))
    curves.params.append(params)


def train_with_validation(
    params: Sequence[tuple[ArrayLike, ArrayLike]],
    X: ArrayLike,
    y: ArrayLike,
    X_val: ArrayLike,
    y_val: ArrayLike,
    activation: str = "relu",
    *,
    l2: float = 0.0,
    learning_rate: float = 0.1,
    epochs: int = 100,
    momentum: float = 0.0,
) -> Curves:
    r"""Full-batch gradient descent (with momentum) on
    :math:`J = \frac1n\sum L + \frac{\ell_2}{2}\sum\lVert W\rVert^2`,
    recording the training and validation loss and accuracy before training and after
    every epoch. The same update as :func:`course_nn.train.fit` with ``batch_size=None``.

    Parameters
    ----------
    params : list of (W, b) to start from (not changed)
    X, y : training inputs (n, p) and labels (n,); X_val, y_val : validation data
    activation, l2, learning_rate, epochs, momentum : as :func:`course_nn.train.fit`

    Returns
    -------
    Curves, with ``epochs + 1`` entries in each list
    """
    params = check_params(params)
    velocity = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    curves = Curves()
    data = (X, y, X_val, y_val)
    _record(curves, params, data, activation)
    for _ in range(int(epochs)):
        _, grads = mlp_loss_and_grads(params, X, y, activation, l2)
        params, velocity = sgd_step(params, grads, velocity, learning_rate, momentum)
        _record(curves, params, data, activation)
    return curves


@dataclass(frozen=True)
class EarlyStop:
    """``best``: the epoch with the lowest validation loss; ``stop``: the epoch at which
    training stops (``patience`` epochs after ``best``, or the last epoch)."""

    best: int
    stop: int


def early_stopping(val_loss: ArrayLike, patience: int = 10, min_delta: float = 0.0) -> EarlyStop:
    r"""Where early stopping stops on a validation curve ``val_loss`` (index = epoch).

    An epoch *improves* when its loss is below the best so far by more than
    ``min_delta``. Training stops at the first epoch that ends ``patience`` epochs in a
    row without an improvement; the kept parameters are those of the best epoch.

    Parameters
    ----------
    val_loss : array of shape (E,), the validation loss after each epoch
    patience : int >= 1; min_delta : float >= 0

    Returns
    -------
    EarlyStop(best, stop), indices into ``val_loss``
    """
    val_loss = np.asarray(val_loss, dtype=float)
    if val_loss.ndim != 1 or len(val_loss) == 0:
        raise ValueError(f"val_loss must be a non-empty 1-D sequence, got shape {val_loss.shape}")
    if patience < 1:
        raise ValueError(f"patience must be >= 1, got {patience}")
    best, waited = 0, 0
    for epoch in range(1, len(val_loss)):
        if val_loss[epoch] < val_loss[best] - min_delta:
            best, waited = epoch, 0
        else:
            waited += 1
            if waited >= patience:
                return EarlyStop(best=best, stop=epoch)
    return EarlyStop(best=best, stop=len(val_loss) - 1)


def noisy_quadrants(n: int, rng: np.random.Generator | int | None = None,
                    flip: float = 0.15) -> tuple[Array, NDArray[np.int64]]:
    r"""``n`` points :math:`\mathcal N(0, I)` in the plane, label 1 where :math:`x_1 x_2 > 0`
    (the quadrants, XOR's continuous cousin), with a fraction ``flip`` of the labels flipped
    at random: no straight line separates the classes, and the flipped labels are noise a
    large network can learn by heart. Exercise 7 grades a model chosen on a validation
    split by its loss on fresh points of this kind."""
    rng = np.random.default_rng(rng)
    X = rng.normal(size=(int(n), 2))
    y = (X[:, 0] * X[:, 1] > 0).astype(np.int64)
    flipped = rng.random(int(n)) < flip
    y[flipped] = 1 - y[flipped]
    return X, y


def quadrants_split(seed: int, n_train: int = 100, n_val: int = 400, n_test: int = 2000,
                    flip: float = 0.15) -> tuple[tuple[Array, NDArray[np.int64]], ...]:
    """Training, validation and test parts of :func:`noisy_quadrants`, all drawn from one
    generator seeded with ``seed``: ``((X_train, y_train), (X_val, y_val), (X_test, y_test))``."""
    rng = np.random.default_rng(int(seed))
    return tuple(noisy_quadrants(n, rng, flip) for n in (n_train, n_val, n_test))
