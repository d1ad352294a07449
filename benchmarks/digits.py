"""Digits benchmark: our NumPy softmax regression and MLP next to scikit-learn and PyTorch.

Run with ``.venv/bin/python benchmarks/digits.py``. Everything runs on one core
(``torch.set_num_threads(1)`` and BLAS limited to one thread) on the seeded 75/25
split of ``course_nn.datasets.load_digits_split()``.

* ours: ``train_softmax_regression`` and ``train_mlp(..., [64, 128, 10])`` with their
  tuned defaults (minibatch SGD with momentum, float64);
* PyTorch (``course_nn.torch_twin``): the same architecture, the same initial weights, the same minibatches in
  the same order, ``torch.optim.SGD`` with the same momentum and the same L2 term
  (weights only), float64, so both runs should end at the same parameters;
* scikit-learn: ``LogisticRegression`` (lbfgs, its defaults) and ``MLPClassifier``
  with one hidden layer of 128 ReLU units and the same SGD settings (its ``alpha``
  penalises ``alpha / (2 B)`` per minibatch of size B, so ``alpha = l2 * B``).

The last line is the ratio of our NumPy epoch time to PyTorch's for the MLP (the time
of the updates only, evaluation excluded; target <= 1.5).
"""

from __future__ import annotations

import time
import warnings

import numpy as np
import torch
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from threadpoolctl import threadpool_limits

from course_nn.datasets import load_digits_split
from course_nn.losses import accuracy
from course_nn.mlp import init_mlp, mlp_forward
from course_nn.torch_twin import fit_torch, from_torch, to_torch, tuned_hyperparameters
from course_nn.train import train_mlp, train_softmax_regression

HIDDEN = 128
SEED = 0


def timed(func, *args, **kwargs):
    start = time.perf_counter()
    out = func(*args, **kwargs)
    return out, time.perf_counter() - start


def torch_twin(params, X, y, hp) -> tuple[list, list[float]]:
    """The PyTorch twin trained from ``params`` as ours is; its final params and epoch times."""
    model = to_torch(params, "relu")
    epoch_seconds = fit_torch(model, X, y, **hp)
    return from_torch(model), epoch_seconds


def held_out_accuracy(params, X, y) -> float:
    return accuracy(mlp_forward(params, X, "relu"), y)


def max_difference(a, b) -> float:
    return max(float(np.max(np.abs(x - z))) for p, q in zip(a, b, strict=True)
               for x, z in zip(p, q, strict=True))


def row(name: str, acc: float, seconds: float, note: str = "") -> None:
    print(f"{name:<48} {acc:>8.4f} {seconds:>9.2f}  {note}")


def main() -> None:
    torch.set_num_threads(1)
    X_train, X_test, y_train, y_test = load_digits_split(seed=SEED)
    p, M = X_train.shape[1], int(y_train.max()) + 1
    print(f"digits: {len(y_train)} train / {len(y_test)} test, {p} features, {M} classes; "
          f"one thread; torch {torch.__version__}\n")
    print(f"{'model':<48} {'test acc':>8} {'train s':>9}")

    hp_sm, hp_mlp = tuned_hyperparameters(train_softmax_regression), tuned_hyperparameters(train_mlp)
    sm, t_sm = timed(train_softmax_regression, X_train, y_train, progress=False)
    row("ours: softmax regression (NumPy SGD)", accuracy(sm.predict(X_test), y_test), t_sm,
        f"lr={hp_sm['learning_rate']} epochs={hp_sm['epochs']} B={hp_sm['batch_size']} "
        f"momentum={hp_sm['momentum']} l2={hp_sm['l2']}")
    sizes = [p, HIDDEN, M]
    mlp, t_mlp = timed(train_mlp, X_train, y_train, sizes, progress=False)
    row(f"ours: MLP {sizes} relu (NumPy SGD)", accuracy(mlp.predict(X_test), y_test), t_mlp,
        f"lr={hp_mlp['learning_rate']} epochs={hp_mlp['epochs']} B={hp_mlp['batch_size']} "
        f"momentum={hp_mlp['momentum']} l2={hp_mlp['l2']}")

    zero = [(np.zeros((M, p)), np.zeros(M))]
    (sm_t, sm_epochs), t = timed(torch_twin, zero, X_train, y_train, hp_sm)
    row("PyTorch: softmax regression (same SGD)", held_out_accuracy(sm_t, X_test, y_test), t,
        f"max |theta_ours - theta_torch| = {max_difference(sm.params, sm_t):.1e}")
    init = init_mlp(sizes, rng=SEED, activation="relu")
    (mlp_t, mlp_epochs), t = timed(torch_twin, init, X_train, y_train, hp_mlp)
    row(f"PyTorch: MLP {sizes} relu (same SGD)", held_out_accuracy(mlp_t, X_test, y_test), t,
        f"max |theta_ours - theta_torch| = {max_difference(mlp.params, mlp_t):.1e}")

    logreg, t = timed(LogisticRegression(max_iter=2000).fit, X_train, y_train)
    row("scikit-learn: LogisticRegression (lbfgs)", logreg.score(X_test, y_test), t, "C=1.0")
    sk_mlp = MLPClassifier(
        hidden_layer_sizes=(HIDDEN,), activation="relu", solver="sgd",
        learning_rate_init=hp_mlp["learning_rate"], momentum=hp_mlp["momentum"],
        nesterovs_momentum=False, batch_size=hp_mlp["batch_size"], max_iter=hp_mlp["epochs"],
        alpha=hp_mlp["l2"] * hp_mlp["batch_size"], n_iter_no_change=hp_mlp["epochs"] + 1,
        random_state=SEED,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # it stops at max_iter on purpose
        sk_mlp, t = timed(sk_mlp.fit, X_train, y_train)
    row(f"scikit-learn: MLPClassifier {sizes} (sgd)", sk_mlp.score(X_test, y_test), t,
        "same lr, momentum, batch, epochs")

    ours, theirs = np.median(mlp.epoch_seconds), np.median(mlp_epochs)
    print(f"\nMLP epoch time (updates only, median): NumPy {1e3 * ours:.1f} ms, "
          f"PyTorch {1e3 * theirs:.1f} ms; ratio NumPy / PyTorch = {ours / theirs:.2f} "
          f"(target <= 1.5)")
    ours_sm, theirs_sm = np.median(sm.epoch_seconds), np.median(sm_epochs)
    print(f"softmax regression epoch time: NumPy {1e3 * ours_sm:.1f} ms, "
          f"PyTorch {1e3 * theirs_sm:.1f} ms; ratio {ours_sm / theirs_sm:.2f}")


if __name__ == "__main__":
    with threadpool_limits(1):
        main()
