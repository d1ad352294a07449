"""The PyTorch twin: same network, same minibatches, torch.optim.SGD, same end point as fit."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.mlp import init_mlp, mlp_forward
from course_nn.torch_twin import (
    fit_torch,
    from_torch,
    predict_torch,
    to_torch,
    tuned_hyperparameters,
)
from course_nn.train import fit, train_mlp, train_softmax_regression

pytestmark = pytest.mark.ch7


@pytest.fixture
def blobs(rng):
    X = np.vstack([rng.normal(c, 0.7, size=(30, 3)) for c in (-1.0, 0.0, 1.5)])
    return X, np.repeat(np.arange(3), 30)


@pytest.mark.parametrize("activation", ["relu", "tanh", "sigmoid"])
def test_to_torch_computes_mlp_forward_and_round_trips(torch, rng, activation):
    params = init_mlp([3, 5, 4, 2], rng=1, activation=activation)
    X = rng.normal(size=(7, 3))
    model = to_torch(params, activation)
    np.testing.assert_allclose(model(torch.from_numpy(X)).detach().numpy(),
                               mlp_forward(params, X, activation), rtol=1e-12, atol=1e-14)
    for (W, b), (W2, b2) in zip(params, from_torch(model), strict=True):
        np.testing.assert_array_equal(W, W2)
        np.testing.assert_array_equal(b, b2)


@pytest.mark.parametrize(("batch_size", "momentum", "activation"),
                         [(None, 0.0, "relu"), (8, 0.9, "relu"), (16, 0.5, "tanh")])
def test_fit_torch_ends_where_fit_ends(blobs, batch_size, momentum, activation):
    """Does the twin, from the same start, reach our parameters to rounding error?"""
    X, y = blobs
    hp = dict(l2=1e-2, learning_rate=0.1, epochs=5, batch_size=batch_size, momentum=momentum, seed=3)
    params = init_mlp([3, 6, 3], rng=0, activation=activation)
    ours = fit(params, X, y, activation, progress=False, **hp)
    model = to_torch(params, activation)
    seconds = fit_torch(model, X, y, **hp)
    assert len(seconds) == 5 and all(s >= 0 for s in seconds)
    for (W, b), (W2, b2) in zip(ours.params, from_torch(model), strict=True):
        np.testing.assert_allclose(W2, W, rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(b2, b, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(predict_torch(model, X), ours.predict(X))


def test_tuned_hyperparameters_are_the_trainers_defaults():
    hp = tuned_hyperparameters(train_mlp)
    assert set(hp) == {"l2", "learning_rate", "epochs", "batch_size", "momentum", "seed"}
    assert hp["epochs"] == 60 and hp["batch_size"] == 32
    assert tuned_hyperparameters(train_softmax_regression)["learning_rate"] == 0.1
