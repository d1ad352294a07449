"""Tests for course_nn.backprop: every gradient against PyTorch autograd, properties, edges."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_nn.backprop import (
    binary_backprop,
    layer_backward,
    mlp_loss,
    mlp_loss_and_grads,
    softmax_cross_entropy_grad,
    softmax_jacobian,
    softmax_regression_loss_and_grads,
)
from course_nn.mlp import init_mlp, mlp_forward
from course_nn.softmax import softmax
from course_nn.train import fit
from tests.strategies import huge_floats, matrices

pytestmark = pytest.mark.ch6

SIZES_BY_DEPTH = {1: [4, 3], 2: [4, 6, 3], 3: [4, 6, 5, 3], 4: [4, 5, 6, 5, 3]}
TORCH_H = {"relu": "relu", "tanh": "tanh", "sigmoid": "sigmoid", "identity": None}


def _random_problem(rng, sizes, n):
    params = [(rng.normal(size=(o, i)), rng.normal(size=o))
              for i, o in zip(sizes[:-1], sizes[1:], strict=True)]
    return params, rng.normal(size=(n, sizes[0])), rng.integers(0, sizes[-1], size=n)


def _torch_loss_and_grads(torch, params, X, y, activation, l2):
    """The same network and loss in PyTorch; gradients from autograd."""
    tensors = [(torch.tensor(W, requires_grad=True), torch.tensor(b, requires_grad=True))
               for W, b in params]
    Q = torch.tensor(X)
    for l, (W, b) in enumerate(tensors, start=1):
        Q = Q @ W.T + b
        if l < len(tensors) and TORCH_H[activation]:
            Q = getattr(torch, TORCH_H[activation])(Q)
    loss = torch.nn.functional.cross_entropy(Q, torch.tensor(y))
    loss = loss + l2 / 2 * sum((W**2).sum() for W, _ in tensors)
    loss.backward()
    return loss.item(), [(W.grad.numpy(), b.grad.numpy()) for W, b in tensors]


@pytest.mark.parametrize("n", [1, 7])
@pytest.mark.parametrize("l2", [0.0, 0.3])
@pytest.mark.parametrize("activation", sorted(TORCH_H))
@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_mlp_gradients_match_autograd(torch, rng, depth, activation, l2, n):
    params, X, y = _random_problem(rng, SIZES_BY_DEPTH[depth], n)
    loss, grads = mlp_loss_and_grads(params, X, y, activation, l2)
    want_loss, want_grads = _torch_loss_and_grads(torch, params, X, y, activation, l2)
    assert isinstance(loss, float)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-12)
    assert len(grads) == depth
    for (dW, db), (tW, tb), (W, b) in zip(grads, want_grads, params, strict=True):
        assert dW.shape == W.shape and db.shape == b.shape
        np.testing.assert_allclose(dW, tW, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(db, tb, rtol=1e-9, atol=1e-12)


def test_relu_derivative_at_exact_zero_matches_torch(torch, rng):
    """Pre-activations exactly 0 (zero inputs, zero bias): ReLU'(0) = 0, as in torch."""
    params = [(rng.normal(size=(5, 3)), np.zeros(5)), (rng.normal(size=(2, 5)), rng.normal(size=2))]
    X, y = np.zeros((4, 3)), np.array([0, 1, 1, 0])
    _, grads = mlp_loss_and_grads(params, X, y, "relu")
    _, want = _torch_loss_and_grads(torch, params, X, y, "relu", 0.0)
    for (dW, db), (tW, tb) in zip(grads, want, strict=True):
        np.testing.assert_allclose(dW, tW, atol=1e-15)
        np.testing.assert_allclose(db, tb, atol=1e-15)


def test_huge_inputs_give_finite_gradients(torch, rng):
    params, _, y = _random_problem(rng, [4, 6, 3], 5)
    X = rng.choice([-1e4, 1e4], size=(5, 4))
    for activation in ("sigmoid", "tanh", "relu"):
        loss, grads = mlp_loss_and_grads(params, X, y, activation)
        want_loss, want = _torch_loss_and_grads(torch, params, X, y, activation, 0.0)
        assert np.isfinite(loss) and all(np.all(np.isfinite(g)) for pair in grads for g in pair)
        np.testing.assert_allclose(loss, want_loss, rtol=1e-9)
        for (dW, db), (tW, tb) in zip(grads, want, strict=True):
            np.testing.assert_allclose(dW, tW, rtol=1e-7, atol=1e-9)
            np.testing.assert_allclose(db, tb, rtol=1e-7, atol=1e-9)


def test_l2_penalises_weights_not_biases(rng):
    params, X, y = _random_problem(rng, [4, 6, 3], 8)
    loss0, grads0 = mlp_loss_and_grads(params, X, y, "tanh", 0.0)
    loss1, grads1 = mlp_loss_and_grads(params, X, y, "tanh", 0.5)
    np.testing.assert_allclose(loss1 - loss0, 0.25 * sum(np.sum(W**2) for W, _ in params))
    for (dW0, db0), (dW1, db1), (W, _) in zip(grads0, grads1, params, strict=True):
        np.testing.assert_allclose(dW1 - dW0, 0.5 * W, atol=1e-14)
        np.testing.assert_array_equal(db1, db0)


def test_loss_alone_and_inputs_untouched(rng):
    params, X, y = _random_problem(rng, [4, 6, 3], 5)
    before = [(W.copy(), b.copy()) for W, b in params], X.copy(), y.copy()
    loss, _ = mlp_loss_and_grads(params, X, y, "sigmoid", 0.1)
    assert loss == pytest.approx(mlp_loss(params, X, y, "sigmoid", 0.1), rel=1e-14)
    for (W, b), (W0, b0) in zip(params, before[0], strict=True):
        np.testing.assert_array_equal(W, W0)
        np.testing.assert_array_equal(b, b0)
    np.testing.assert_array_equal(X, before[1])
    np.testing.assert_array_equal(y, before[2])


def test_bad_input_raises_with_a_clear_message(rng):
    params, X, y = _random_problem(rng, [4, 6, 3], 5)
    with pytest.raises(ValueError, match="l2 must be a finite number >= 0, got -1"):
        mlp_loss_and_grads(params, X, y, l2=-1.0)
    with pytest.raises(ValueError, match=r"labels in 0..2, got values in 0..3"):
        mlp_loss_and_grads(params, X, np.array([0, 1, 2, 3, 0]))
    with pytest.raises(ValueError, match="same number of samples"):
        mlp_loss_and_grads(params, X, y[:3])
    with pytest.raises(ValueError, match="unknown activation"):
        mlp_loss_and_grads(params, X, y, "gelu")


# --- softmax pieces ---------------------------------------------------------------------
def test_softmax_jacobian_matches_autograd(torch, rng):
    z = rng.normal(scale=3.0, size=5)
    want = torch.autograd.functional.jacobian(lambda t: torch.softmax(t, dim=0), torch.tensor(z))
    got = softmax_jacobian(softmax(z))
    assert got.shape == (5, 5)
    np.testing.assert_allclose(got, want.numpy(), rtol=1e-12, atol=1e-15)


def test_softmax_jacobian_batched_and_lecture_form(rng):
    A = softmax(rng.normal(size=(3, 4)), axis=1)
    J = softmax_jacobian(A)
    assert J.shape == (3, 4, 4)
    for a, Ja in zip(A, J, strict=True):
        np.testing.assert_allclose(np.diag(Ja), a * (1 - a))  # a_i (1 - a_i) on the diagonal
        np.testing.assert_allclose(Ja[0, 1], -a[0] * a[1])     # -a_i a_j off it
        np.testing.assert_allclose(Ja.sum(axis=0), 0.0, atol=1e-15)  # outputs always sum to 1
    with pytest.raises(ValueError, match="a must be 1-D or 2-D"):
        softmax_jacobian(np.ones((2, 2, 2)))


def test_chain_rule_through_the_jacobian_gives_prediction_minus_truth(rng):
    """dL/dz = J^T dL/da with dL/da = (0, ..., -1/a_y, ..., 0): the lecture's derivation."""
    z, y = rng.normal(size=4), 2
    a = softmax(z)
    dL_da = np.zeros(4)
    dL_da[y] = -1 / a[y]
    want = a - np.eye(4)[y]
    np.testing.assert_allclose(softmax_jacobian(a).T @ dL_da, want, atol=1e-15)
    np.testing.assert_allclose(softmax_cross_entropy_grad(z[None], [y])[0], want, atol=1e-15)


@pytest.mark.parametrize("n", [1, 6])
def test_softmax_cross_entropy_grad_matches_autograd(torch, rng, n):
    Z = rng.normal(scale=5.0, size=(n, 4))
    Z[0, :2] = [1e4, -1e4]
    y = rng.integers(0, 4, size=n)
    t = torch.tensor(Z, requires_grad=True)
    torch.nn.functional.cross_entropy(t, torch.tensor(y)).backward()
    got = softmax_cross_entropy_grad(Z, y)
    assert got.shape == Z.shape
    np.testing.assert_allclose(got, t.grad.numpy(), rtol=1e-12, atol=1e-15)


@given(Z=matrices(max_rows=6, min_cols=2, elements=huge_floats), data=st.data())
def test_softmax_cross_entropy_grad_rows_sum_to_zero(Z, data):
    y = np.array(data.draw(st.lists(st.integers(0, Z.shape[1] - 1), min_size=Z.shape[0],
                                    max_size=Z.shape[0])))
    G = softmax_cross_entropy_grad(Z, y)
    assert np.all(np.isfinite(G))
    np.testing.assert_allclose(G.sum(axis=1), 0.0, atol=1e-12)
    true_class = np.eye(Z.shape[1], dtype=bool)[y]
    assert np.all(G[true_class] <= 0) and np.all(G[~true_class] >= 0)  # push up y, others down


def test_softmax_regression_matches_autograd(torch, rng):
    W, b = rng.normal(size=(3, 5)), rng.normal(size=3)
    X, y = rng.normal(size=(8, 5)), rng.integers(0, 3, size=8)
    loss, dW, db = softmax_regression_loss_and_grads(W, b, X, y, l2=0.2)
    want_loss, [(tW, tb)] = _torch_loss_and_grads(torch, [(W, b)], X, y, "identity", 0.2)
    np.testing.assert_allclose(loss, want_loss, rtol=1e-12)
    np.testing.assert_allclose(dW, tW, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, tb, rtol=1e-10, atol=1e-14)
    # prediction minus truth, written out
    G = (softmax(X @ W.T + b, axis=1) - np.eye(3)[y]) / 8
    np.testing.assert_allclose(dW, G.T @ X + 0.2 * W, atol=1e-14)


# --- one layer ---------------------------------------------------------------------------
@pytest.mark.parametrize("activation", sorted(TORCH_H))
def test_layer_backward_matches_autograd(torch, rng, activation):
    Q_prev, W, b = rng.normal(size=(5, 4)), rng.normal(size=(3, 4)), rng.normal(size=3)
    dQ = rng.normal(size=(5, 3))
    tQ, tW, tb = (torch.tensor(a, requires_grad=True) for a in (Q_prev, W, b))
    Z = tQ @ tW.T + tb
    Q = getattr(torch, TORCH_H[activation])(Z) if TORCH_H[activation] else Z
    Q.backward(torch.tensor(dQ))
    dQ_prev, dW, db = layer_backward(dQ, Z.detach().numpy(), Q_prev, W, activation)
    np.testing.assert_allclose(dQ_prev, tQ.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(dW, tW.grad.numpy(), rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_layer_backward_shape_errors(rng):
    with pytest.raises(ValueError, match=r"W \(out, in\); got dQ \(5, 3\), Z \(5, 3\), "
                                         r"Q_prev \(5, 4\), W \(4, 3\)"):
        layer_backward(np.ones((5, 3)), np.ones((5, 3)), np.ones((5, 4)), np.ones((4, 3)), "relu")


# --- symmetry ----------------------------------------------------------------------------
def _hidden_units_identical(params):
    (W1, b1), (W2, _) = params
    return (np.allclose(W1, W1[0]) and np.allclose(b1, b1[0])
            and np.allclose(W2, W2[:, :1]))


def test_zero_initialised_network_stays_symmetric(rng):
    """All-zero weights: every hidden unit gets the same gradient, forever."""
    X, y = rng.normal(size=(30, 4)), rng.integers(0, 3, size=30)
    zeros = [(np.zeros((5, 4)), np.zeros(5)), (np.zeros((3, 5)), np.zeros(3))]
    trained = fit(zeros, X, y, "sigmoid", learning_rate=0.5, epochs=20, progress=False).params
    assert np.abs(trained[0][0]).max() > 1e-3  # the first layer did learn something ...
    assert _hidden_units_identical(trained)     # ... but all 5 hidden units learned the same
    random = fit(init_mlp([4, 5, 3], rng=0, activation="sigmoid"), X, y, "sigmoid",
                 learning_rate=0.5, epochs=20, progress=False).params
    assert not _hidden_units_identical(random)
    np.testing.assert_allclose(mlp_forward(trained, X[:1], "sigmoid").shape, (1, 3))


# --- binary classification: one sigmoid output unit (the lectures' example) -----------
@pytest.mark.parametrize("activation", ["sigmoid", "relu"])
def test_binary_backprop_matches_autograd(torch, rng, activation):
    params = init_mlp([3, 4, 2, 1], rng=3, activation=activation)
    X, y = rng.normal(size=(6, 3)), rng.integers(0, 2, size=6).astype(float)
    tensors = [torch.tensor(a, requires_grad=True) for W, b in params for a in (W, b)]
    Q = torch.tensor(X)
    for l in range(0, len(tensors), 2):
        Q = Q @ tensors[l].T + tensors[l + 1]
        if l + 2 < len(tensors):
            Q = getattr(torch, activation)(Q)
    loss = torch.nn.functional.binary_cross_entropy_with_logits(Q[:, 0], torch.tensor(y))
    loss.backward()
    result = binary_backprop(params, X, y, activation)
    assert result.loss == pytest.approx(loss.item(), rel=1e-12)
    for (dW, db), l in zip(result.grads, range(0, len(tensors), 2), strict=True):
        np.testing.assert_allclose(dW, tensors[l].grad.numpy(), rtol=1e-9, atol=1e-14)
        np.testing.assert_allclose(db, tensors[l + 1].grad.numpy(), rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(result.A[-1][:, 0], torch.sigmoid(Q[:, 0]).detach().numpy())
    np.testing.assert_allclose(result.deltas[-1][:, 0], (result.A[-1][:, 0] - y) / len(y))


def test_binary_backprop_needs_one_output_unit(rng):
    with pytest.raises(ValueError, match="one unit"):
        binary_backprop(init_mlp([2, 3, 2], rng=0), rng.normal(size=(2, 2)), [0.0, 1.0])
