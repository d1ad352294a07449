"""Tests for course_nn.validation: early stopping on known curves, and the recorded curves
agree with fit (itself checked against torch.optim.SGD) and with a direct evaluation."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.losses import softmax_cross_entropy
from course_nn.mlp import init_mlp, mlp_forward
from course_nn.train import fit
from course_nn.validation import EarlyStop, early_stopping, train_with_validation

pytestmark = pytest.mark.ch6


@pytest.mark.parametrize(
    ("curve", "patience", "expected"),
    [
        ([5, 4, 3, 2, 1], 2, EarlyStop(best=4, stop=4)),  # always improving: run to the end
        ([5, 3, 4, 4, 4, 4], 3, EarlyStop(best=1, stop=4)),  # 3 epochs without improvement
        ([5, 3, 4, 2.5, 4, 4], 2, EarlyStop(best=3, stop=5)),  # the wait restarts at 2.5
        ([1.0], 5, EarlyStop(best=0, stop=0)),
    ],
)
def test_early_stopping_on_known_curves(curve, patience, expected):
    assert early_stopping(curve, patience) == expected


def test_min_delta_ignores_tiny_improvements():
    assert early_stopping([1.0, 0.999, 0.998, 0.997], patience=2, min_delta=0.01) == EarlyStop(0, 2)
    with pytest.raises(ValueError, match="patience"):
        early_stopping([1.0, 2.0], patience=0)


def test_curves_agree_with_fit_and_a_direct_evaluation(rng):
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 3, size=40)
    X_val, y_val = rng.normal(size=(15, 3)), rng.integers(0, 3, size=15)
    params = init_mlp([3, 8, 3], rng=0, activation="tanh")
    curves = train_with_validation(params, X, y, X_val, y_val, "tanh", l2=0.01,
                                   learning_rate=0.2, epochs=7, momentum=0.5)
    history = fit(params, X, y, "tanh", l2=0.01, learning_rate=0.2, epochs=7, momentum=0.5,
                  progress=False)
    for (W, b), (W_ref, b_ref) in zip(curves.params[-1], history.params, strict=True):
        np.testing.assert_allclose(W, W_ref, rtol=1e-12)
        np.testing.assert_allclose(b, b_ref, rtol=1e-12)
    assert len(curves.val_loss) == 8 and len(curves.params) == 8
    direct = softmax_cross_entropy(mlp_forward(curves.params[3], X_val, "tanh"), y_val)
    assert curves.val_loss[3] == pytest.approx(direct)
    np.testing.assert_allclose(curves.train_accuracy[1:], history.train_accuracy)
