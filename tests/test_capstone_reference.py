"""Exercise 8's references against PyTorch: the layers against autograd, the optimiser
steps against ``torch.optim.SGD(momentum=...)`` and ``torch.optim.Adam`` over several
steps on the checks' own hidden cases, the minibatch loop against a PyTorch loop that
draws the same batches; and the exercise's data set's promise (a tuned MLP beats softmax
regression by at least 5 points of test accuracy, the digits lab's untuned MLP does not).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from course_nn.datasets.workflow import (
    NUM_FEATURES,
    load_capstone_data,
    make_disc_in_noise,
)
from course_nn.grading import REGISTRY
from course_nn.grading.checks.ch08 import (
    ACCURACY_FLOOR,
    adam_update,
    affine_layer,
    momentum_update,
    network_loss_and_grads,
    relu_layer,
    sgd_epochs,
    softmax_ce_layer,
)
from course_nn.layers import Tanh
from course_nn.mlp import init_mlp, mlp_forward
from course_nn.train import train_mlp, train_softmax_regression
from course_nn.validation import train_with_validation

pytestmark = [pytest.mark.ch8, pytest.mark.grading]


def t(a, grad=False):
    return torch.tensor(np.asarray(a, dtype=np.float64), requires_grad=grad)


def cases(name, seeds=(1, 2, 3)):
    check = REGISTRY[name]
    return list(check.cases(hidden=False)) + [c for s in seeds for c in check.cases(hidden=True, seed=s)]


# --- layers against autograd ---------------------------------------------------------------
@pytest.mark.parametrize("case", cases("affine_layer"), ids=lambda c: c.label)
def test_affine_layer_matches_autograd(case):
    W, b, X, dY = case.args
    Wt, bt, Xt = t(W, True), t(b, True), t(X, True)
    Y = Xt @ Wt.T + bt
    Y.backward(t(dY))
    got = affine_layer(W, b, X, dY)
    for mine, theirs in zip(got, (Y, Xt.grad, Wt.grad, bt.grad), strict=True):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", cases("relu_layer"), ids=lambda c: c.label)
def test_relu_layer_matches_autograd_including_the_slope_at_zero(case):
    Z, dY = case.args
    Zt = t(Z, True)
    Q = torch.relu(Zt)
    Q.backward(t(dY))
    got = relu_layer(Z, dY)
    np.testing.assert_array_equal(got[0], Q.detach().numpy())
    np.testing.assert_array_equal(got[1], Zt.grad.numpy())


def test_tanh_layer_matches_autograd():
    rng = np.random.default_rng(0)
    Z, dY = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    layer = Tanh()
    Q = layer.forward(Z)
    Zt = t(Z, True)
    torch.tanh(Zt).backward(t(dY))
    np.testing.assert_allclose(Q, np.tanh(Z))
    np.testing.assert_allclose(layer.backward(dY), Zt.grad.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", cases("softmax_ce_layer"), ids=lambda c: c.label)
def test_softmax_ce_layer_matches_autograd(case):
    Z, y = case.args
    Zt = t(Z, True)
    loss = torch.nn.functional.cross_entropy(Zt, torch.as_tensor(y))
    loss.backward()
    got_loss, got_dZ = softmax_ce_layer(Z, y)
    assert got_loss == pytest.approx(loss.item(), rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(got_dZ, Zt.grad.numpy(), rtol=1e-10, atol=1e-14)


@pytest.mark.parametrize("case", cases("network_loss_and_grads"), ids=lambda c: c.label)
def test_the_stack_matches_autograd(case):
    X, y, *arrays = case.args
    tensors = [(t(W, True), t(b, True)) for W, b in zip(arrays[0::2], arrays[1::2], strict=True)]
    out = t(X)
    for number, (W, b) in enumerate(tensors):
        out = out @ W.T + b
        if number < len(tensors) - 1:
            out = torch.relu(out)
    loss = torch.nn.functional.cross_entropy(out, torch.as_tensor(y))
    loss.backward()
    got_loss, got_grads = network_loss_and_grads(X, y, *arrays)
    assert got_loss == pytest.approx(loss.item(), rel=1e-12)
    for (dW, db), (W, b) in zip(got_grads, tensors, strict=True):
        np.testing.assert_allclose(dW, W.grad.numpy(), rtol=1e-10, atol=1e-13)
        np.testing.assert_allclose(db, b.grad.numpy(), rtol=1e-10, atol=1e-13)


# --- optimisers against torch.optim ------------------------------------------------------------
def torch_steps(optimiser_class, theta, grads, **options):
    """Parameters after ``optimiser_class`` took one step per gradient in ``grads``."""
    param = torch.nn.Parameter(t(theta))
    optimiser = optimiser_class([param], **options)
    for grad in grads:
        param.grad = t(grad)
        optimiser.step()
    return param.detach().numpy(), optimiser.state[param]


@pytest.mark.parametrize("case", cases("momentum_update"), ids=lambda c: c.label)
def test_momentum_matches_torch_sgd_over_five_steps(case):
    theta, grad, _, lr, mu = case.args
    rng = np.random.default_rng(0)
    grads = [grad] + [rng.normal(size=np.shape(grad)) for _ in range(4)]
    mine, velocity = np.asarray(theta, float), np.zeros(np.shape(theta))
    for g in grads:
        mine, velocity = momentum_update(mine, g, velocity, lr, mu)
    theirs, state = torch_steps(torch.optim.SGD, theta, grads, lr=lr, momentum=mu)
    np.testing.assert_allclose(mine, theirs, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(velocity, state["momentum_buffer"].numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("case", cases("adam_update"), ids=lambda c: c.label)
def test_adam_matches_torch_adam_from_the_first_step(case):
    theta, grad, _, _, _, lr, beta1, beta2, eps = case.args
    rng = np.random.default_rng(1)
    grads = [grad] + [np.asarray(grad) * rng.normal(size=np.shape(grad)) for _ in range(6)]
    mine, m, v = np.asarray(theta, float), np.zeros(np.shape(theta)), np.zeros(np.shape(theta))
    for step, g in enumerate(grads, start=1):
        mine, m, v = adam_update(mine, g, m, v, step, lr, beta1, beta2, eps)
    theirs, state = torch_steps(torch.optim.Adam, theta, grads, lr=lr, betas=(beta1, beta2), eps=eps)
    np.testing.assert_allclose(mine, theirs, rtol=1e-10, atol=1e-13)
    np.testing.assert_allclose(m, state["exp_avg"].numpy(), rtol=1e-10, atol=1e-15)
    np.testing.assert_allclose(v, state["exp_avg_sq"].numpy(), rtol=1e-10, atol=1e-18)


@pytest.mark.parametrize("case", cases("adam_update"), ids=lambda c: c.label)
def test_adam_one_step_from_a_given_state_matches_torch(case):
    """The graded call: step t from (m, v); PyTorch is given the same state and step count."""
    theta, grad, m, v, step, lr, beta1, beta2, eps = case.args
    param = torch.nn.Parameter(t(theta))
    optimiser = torch.optim.Adam([param], lr=lr, betas=(beta1, beta2), eps=eps)
    optimiser.state[param] = {"step": torch.tensor(float(step - 1)), "exp_avg": t(m).clone(),
                              "exp_avg_sq": t(v).clone()}
    param.grad = t(grad)
    optimiser.step()
    mine = adam_update(theta, grad, m, v, step, lr, beta1, beta2, eps)
    np.testing.assert_allclose(mine[0], param.detach().numpy(), rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("case", cases("sgd_epochs", seeds=(4,)), ids=lambda c: c.label)
def test_the_minibatch_loop_matches_a_torch_loop_with_the_same_batches(case):
    X, y, lr, epochs, batch, seed, *arrays = case.args
    tensors = [torch.nn.Parameter(t(a)) for a in arrays]
    optimiser = torch.optim.SGD(tensors, lr=lr)
    rng = np.random.default_rng(seed)
    losses = []

    def forward(rows):
        out = t(X[rows])
        for k in range(0, len(tensors), 2):
            out = out @ tensors[k].T + tensors[k + 1]
            if k < len(tensors) - 2:
                out = torch.relu(out)
        return torch.nn.functional.cross_entropy(out, torch.as_tensor(y[rows]))

    for _ in range(epochs):
        order = rng.permutation(len(y))
        for start in range(0, len(y), batch):
            optimiser.zero_grad()
            forward(order[start:start + batch]).backward()
            optimiser.step()
        with torch.no_grad():
            losses.append(forward(np.arange(len(y))).item())
    got_losses, got_params = sgd_epochs(*case.args)
    np.testing.assert_allclose(got_losses, losses, rtol=1e-10)
    for mine, theirs in zip([a for pair in got_params for a in pair], tensors, strict=True):
        np.testing.assert_allclose(mine, theirs.detach().numpy(), rtol=1e-10, atol=1e-12)


# --- the data set: where design matters ---------------------------------------------------------
def test_the_generator_is_seeded_and_draws_are_independent():
    X1, y1 = make_disc_in_noise(50, seed=0, draw=0)
    X2, y2 = make_disc_in_noise(50, seed=0, draw=0)
    X3, _ = make_disc_in_noise(50, seed=0, draw=1)
    X4, _ = make_disc_in_noise(50, seed=1, draw=0)
    np.testing.assert_array_equal(X1, X2)
    np.testing.assert_array_equal(y1, y2)
    assert X1.shape == (50, NUM_FEATURES) and set(np.unique(y1)) <= {0, 1, 2}
    assert not np.allclose(X1, X3) and not np.allclose(X1, X4)
    X_train, y_train, X_val, y_val = load_capstone_data()
    assert X_train.shape == (400, NUM_FEATURES) and X_val.shape == (200, NUM_FEATURES)
    assert np.all(np.bincount(y_train) > 100), "three classes of about equal size"
    with pytest.raises(ValueError):
        make_disc_in_noise(0)


def tuned_mlp(X_train, y_train, X_val, y_val):
    """The workflow of chapter 8: a log grid of learning rate and weight decay, full-batch
    momentum, the epoch with the lowest validation loss."""
    best = None
    for lr in (0.3, 1.0, 3.0):
        for l2 in (0.003, 0.01, 0.03):
            curves = train_with_validation(init_mlp([X_train.shape[1], 32, 3], rng=0), X_train, y_train,
                                           X_val, y_val, l2=l2, learning_rate=lr, epochs=100,
                                           momentum=0.9)
            epoch = int(np.nanargmin(curves.val_loss))
            if best is None or curves.val_loss[epoch] < best[0]:
                best = (curves.val_loss[epoch], curves.params[epoch])
    return best[1]


@pytest.mark.slow
def test_a_tuned_mlp_beats_softmax_regression_by_five_points_and_an_untuned_one_does_not():
    """On three independent draws of the exercise's problem (test split of 2,000 samples)."""
    for draw in (0, 50, 90):
        X_train, y_train = make_disc_in_noise(400, 0, 2 * draw)
        X_val, y_val = make_disc_in_noise(200, 0, 2 * draw + 1)
        X_test, y_test = make_disc_in_noise(2000, 0, 10_000 + draw)
        linear = train_softmax_regression(X_train, y_train, 3, epochs=100, learning_rate=0.05,
                                          progress=False)
        untuned = train_mlp(X_train, y_train, [X_train.shape[1], 128, 3], progress=False)
        tuned = tuned_mlp(X_train, y_train, X_val, y_val)
        acc = {name: float(np.mean(np.argmax(mlp_forward(p, X_test, a), axis=1) == y_test))
               for name, p, a in (("linear", linear.params, "identity"),
                                  ("untuned", untuned.params, "relu"), ("tuned", tuned, "relu"))}
        assert acc["tuned"] >= acc["linear"] + 0.05, (draw, acc)
        assert acc["untuned"] < acc["linear"] + 0.05, (draw, acc)
        assert acc["tuned"] >= ACCURACY_FLOOR > max(acc["linear"], acc["untuned"]), (draw, acc)
