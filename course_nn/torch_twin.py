"""PyTorch twins of our networks and of :func:`course_nn.train.fit`.

Book: chapter 7, the digits lab (``book/ch07_lab_digits.ipynb``); also used by
``benchmarks/digits.py``. The twin is the same network as ``nn.Linear`` layers (weights
of shape (out, in), as ours), trained by ``torch.optim.SGD`` on the same minibatches in
the same order with the same L2 penalty on the weights only. Started from the same
parameters it must end at ours up to rounding: an end-to-end check of our
backpropagation. Needs torch (``pip install torch==2.13.0``).
"""

from __future__ import annotations

import inspect
import time
from collections.abc import Callable, Sequence

import numpy as np
import torch
from numpy.typing import NDArray

from course_nn.train import minibatches

#: Our activation names -> the torch module applied after each hidden layer.
TORCH_ACTIVATIONS: dict[str, Callable[[], torch.nn.Module]] = {
    "relu": torch.nn.ReLU,
    "tanh": torch.nn.Tanh,
    "sigmoid": torch.nn.Sigmoid,
    "identity": torch.nn.Identity,
}

#: The keyword arguments of :func:`fit_torch`, also the tuned defaults of our trainers.
HYPERPARAMETERS = ("l2", "learning_rate", "epochs", "batch_size", "momentum", "seed")


def tuned_hyperparameters(train: Callable) -> dict:
    """The tuned defaults of ``train_softmax_regression`` or ``train_mlp``, as a dict."""
    parameters = inspect.signature(train).parameters
    return {name: parameters[name].default for name in HYPERPARAMETERS}


def to_torch(params: Sequence[tuple[NDArray, NDArray]], activation: str = "relu") -> torch.nn.Sequential:
    """``nn.Sequential`` of float64 ``nn.Linear`` layers holding copies of ``params``,
    with ``activation`` after every layer but the last (whose outputs are the logits)."""
    layers: list[torch.nn.Module] = []
    for index, (W, b) in enumerate(params):
        linear = torch.nn.Linear(W.shape[1], W.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.as_tensor(W, dtype=torch.float64))
            linear.bias.copy_(torch.as_tensor(b, dtype=torch.float64))
        layers.append(linear)
        if index < len(params) - 1:
            layers.append(TORCH_ACTIVATIONS[activation]())
    return torch.nn.Sequential(*layers)


def from_torch(model: torch.nn.Module) -> list[tuple[NDArray[np.float64], NDArray[np.float64]]]:
    """The (W, b) of every ``nn.Linear`` in ``model``, as NumPy copies, in order."""
    return [(m.weight.detach().numpy().copy(), m.bias.detach().numpy().copy())
            for m in model.modules() if isinstance(m, torch.nn.Linear)]


def fit_torch(
    model: torch.nn.Module, X: NDArray, y: NDArray, *, l2: float, learning_rate: float,
    epochs: int, batch_size: int | None, momentum: float, seed: int | None,
) -> list[float]:
    """Train ``model`` in place as :func:`course_nn.train.fit` trains ours; return the
    seconds each epoch took (updates only)."""
    optimiser = torch.optim.SGD(model.parameters(), lr=learning_rate, momentum=momentum)
    weights = [m.weight for m in model.modules() if isinstance(m, torch.nn.Linear)]
    X_t, y_t = torch.as_tensor(X, dtype=torch.float64), torch.as_tensor(y)
    order_rng = np.random.default_rng(seed)  # the same permutations as fit(..., seed=seed)
    epoch_seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        for batch in minibatches(len(y), batch_size, order_rng):
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X_t[batch]), y_t[batch])
            loss = loss + l2 / 2 * sum((W**2).sum() for W in weights)  # biases not penalised
            loss.backward()
            optimiser.step()
        epoch_seconds.append(time.perf_counter() - start)
    return epoch_seconds


def predict_torch(model: torch.nn.Module, X: NDArray) -> NDArray[np.int64]:
    """The class with the largest logit, for every row of ``X``."""
    with torch.no_grad():
        return model(torch.as_tensor(X, dtype=torch.float64)).argmax(dim=1).numpy()
