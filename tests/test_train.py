"""Tests for course_nn.train: the update against torch.optim.SGD, seeding, History, digits."""

from __future__ import annotations

import time

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from course_nn.datasets import load_digits_split
from course_nn.losses import accuracy
from course_nn.mlp import init_mlp, mlp_forward
from course_nn.train import History, fit, train_mlp, train_softmax_regression

pytestmark = pytest.mark.ch6


@pytest.fixture
def blobs(rng):
    """Three well separated Gaussian blobs in 2-D, 60 points."""
    centres = np.array([[0.0, 3.0], [3.0, -2.0], [-3.0, -2.0]])
    y = np.repeat(np.arange(3), 20)
    return centres[y] + rng.normal(scale=0.7, size=(60, 2)), y


def _torch_trajectory(torch, params, X, y, batches, activation, lr, momentum, l2):
    """The same network trained by torch.optim.SGD on the same sequence of minibatches."""
    tensors = [torch.tensor(a, requires_grad=True) for W, b in params for a in (W, b)]
    optimiser = torch.optim.SGD(tensors, lr=lr, momentum=momentum)
    Xt, yt = torch.tensor(X), torch.tensor(y)
    for batch in batches:
        optimiser.zero_grad()
        Q = Xt[batch]
        for l in range(0, len(tensors), 2):
            Q = Q @ tensors[l].T + tensors[l + 1]
            if l + 2 < len(tensors):
                Q = getattr(torch, activation)(Q)
        loss = torch.nn.functional.cross_entropy(Q, yt[batch])
        loss = loss + l2 / 2 * sum((W**2).sum() for W in tensors[::2])
        loss.backward()
        optimiser.step()
    return [t.detach().numpy() for t in tensors]


@pytest.mark.parametrize(("batch_size", "momentum"), [(None, 0.0), (None, 0.9), (16, 0.9), (1, 0.5)])
def test_updates_match_torch_sgd(torch, blobs, batch_size, momentum):
    X, y = blobs
    params = init_mlp([2, 5, 3], rng=0, activation="tanh")
    epochs, seed = 3, 11
    history = fit(params, X, y, "tanh", l2=0.01, learning_rate=0.1, epochs=epochs,
                  batch_size=batch_size, momentum=momentum, seed=seed, progress=False)
    order = np.random.default_rng(seed)  # the same minibatch order as fit draws
    batches = []
    for _ in range(epochs):
        if batch_size is None:
            batches.append(slice(None))
        else:
            perm = order.permutation(len(y))
            batches += [perm[i : i + batch_size] for i in range(0, len(y), batch_size)]
    want = _torch_trajectory(torch, params, X, y, batches, "tanh", 0.1, momentum, 0.01)
    got = [a for W, b in history.params for a in (W, b)]
    for g, w in zip(got, want, strict=True):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


def test_full_batch_gradient_descent_decreases_the_loss(blobs):
    X, y = blobs
    history = fit(init_mlp([2, 8, 3], rng=1), X, y, learning_rate=0.1, epochs=30, progress=False)
    assert np.all(np.diff(history.loss) < 0)
    assert history.train_accuracy[-1] > 0.95


def test_history_fields(blobs):
    X, y = blobs
    h = train_mlp(X, y, [2, 6, 3], epochs=4, X_val=X[:10], y_val=y[:10], progress=False)
    assert isinstance(h, History)
    assert len(h.loss) == len(h.train_accuracy) == len(h.val_accuracy) == len(h.epoch_seconds) == 4
    assert all(isinstance(v, float) for v in h.loss + h.train_accuracy + h.val_accuracy)
    assert [W.shape for W, _ in h.params] == [(6, 2), (3, 6)] and h.activation == "relu"
    assert h.train_accuracy[-1] == accuracy(mlp_forward(h.params, X, "relu"), y)
    np.testing.assert_array_equal(h.predict(X), np.argmax(mlp_forward(h.params, X), axis=1))
    assert train_mlp(X, y, [2, 6, 3], epochs=2, progress=False).val_accuracy is None


def test_training_is_seeded_and_leaves_inputs_alone(blobs):
    X, y = blobs
    params = init_mlp([2, 4, 3], rng=3)
    before = [(W.copy(), b.copy()) for W, b in params]
    a = fit(params, X, y, epochs=3, batch_size=8, seed=5, progress=False)
    b = fit(params, X, y, epochs=3, batch_size=8, seed=5, progress=False)
    c = fit(params, X, y, epochs=3, batch_size=8, seed=6, progress=False)
    assert a.loss == b.loss and a.loss != c.loss
    for (W, b_), (W0, b0) in zip(params, before, strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b_, b0)


def test_softmax_regression_is_the_one_layer_network(blobs):
    X, y = blobs
    h = train_softmax_regression(X, y, epochs=5, progress=False)
    assert h.activation == "identity" and [W.shape for W, _ in h.params] == [(3, 2)]
    assert h.train_accuracy[-1] > 0.95
    assert train_softmax_regression(X, y, num_classes=5, epochs=1,
                                    progress=False).params[0][0].shape == (5, 2)


def test_progress_bar_only_when_asked(blobs, capsys):
    X, y = blobs
    train_softmax_regression(X, y, epochs=2)  # stderr is not a terminal under pytest
    assert capsys.readouterr().err == ""
    train_softmax_regression(X, y, epochs=2, progress=False)
    assert capsys.readouterr().err == ""
    train_softmax_regression(X, y, epochs=2, progress=True)
    assert "epoch" in capsys.readouterr().err


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"learning_rate": 0.0}, "learning_rate must be positive, got 0.0"),
    ({"momentum": 1.0}, r"momentum must be in \[0, 1\), got 1.0"),
    ({"batch_size": 0}, "batch_size must be a positive integer or None, got 0"),
    ({"epochs": -1}, "epochs must be a non-negative integer, got -1"),
])
def test_bad_hyperparameters(blobs, kwargs, message):
    X, y = blobs
    with pytest.raises(ValueError, match=message):
        train_mlp(X, y, [2, 3, 3], progress=False, **kwargs)


def test_layer_sizes_must_fit_the_data(blobs):
    X, y = blobs
    with pytest.raises(ValueError, match=r"layer_sizes\[0\] must be the number of inputs 2"):
        train_mlp(X, y, [3, 4, 3])


# --- the digits lab: the tuned defaults reach the targets ---------------------------------
@pytest.fixture(scope="module")
def digits():
    return load_digits_split()


def test_digits_softmax_regression_accuracy(digits):
    X_train, X_test, y_train, y_test = digits
    start = time.perf_counter()
    with threadpool_limits(1):  # one core, as the targets say
        h = train_softmax_regression(X_train, y_train, progress=False)
    assert time.perf_counter() - start < 10
    assert accuracy(h.predict(X_test), y_test) >= 0.95


def test_digits_mlp_accuracy(digits):
    X_train, X_test, y_train, y_test = digits
    start = time.perf_counter()
    with threadpool_limits(1):
        h = train_mlp(X_train, y_train, [64, 128, 10], progress=False)
    assert time.perf_counter() - start < 10
    assert accuracy(h.predict(X_test), y_test) >= 0.97
