"""Tests of course_nn.losses: cross-entropy, log loss, entropy, KL divergence (chapter 5)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import course_nn.linear
from course_nn.losses import (
    BITS_PER_NAT,
    NATS_PER_BIT,
    accuracy,
    binary_cross_entropy,
    bits_to_nats,
    cross_entropy,
    cross_entropy_between,
    entropy,
    kl_divergence,
    mse,
    nats_to_bits,
    regularised_cost,
    softmax_cross_entropy,
)
from course_nn.softmax import one_hot, softmax
from tests.strategies import distribution_pairs, distributions, huge_floats, matrices

pytestmark = pytest.mark.ch5

F_EPS = np.finfo(np.float64).eps


def _problem(rng, n=6, M=4, scale=2.0):
    return scale * rng.normal(size=(n, M)), rng.integers(0, M, size=n)


# --- PyTorch as the oracle ----------------------------------------------------------------
@pytest.mark.parametrize("n, M", [(6, 4), (1, 3), (20, 10)])
def test_softmax_cross_entropy_matches_torch(torch, rng, n, M):
    """Labels and one-hot targets give torch.nn.functional.cross_entropy."""
    Z, y = _problem(rng, n, M)
    want = torch.nn.functional.cross_entropy(torch.tensor(Z), torch.tensor(y)).item()
    assert softmax_cross_entropy(Z, y) == pytest.approx(want, rel=1e-12)
    assert softmax_cross_entropy(Z, one_hot(y, M)) == pytest.approx(want, rel=1e-12)


def test_soft_targets_match_torch(torch, rng):
    """Probability targets give torch's cross_entropy with class-probability targets."""
    Z, Y = rng.normal(size=(5, 3)), softmax(rng.normal(size=(5, 3)))
    want = torch.nn.functional.cross_entropy(torch.tensor(Z), torch.tensor(Y)).item()
    assert softmax_cross_entropy(Z, Y) == pytest.approx(want, rel=1e-12)
    assert cross_entropy(softmax(Z), Y) == pytest.approx(want, rel=1e-12)


def test_vector_input_matches_torch_unbatched(torch, rng):
    """One sample as a 1-D vector with one label is torch's unbatched cross_entropy."""
    z = rng.normal(size=5)
    want = torch.nn.functional.cross_entropy(torch.tensor(z), torch.tensor(3)).item()
    assert softmax_cross_entropy(z, 3) == pytest.approx(want, rel=1e-12)
    assert cross_entropy(softmax(z), 3) == pytest.approx(want, rel=1e-12)


def test_cross_entropy_matches_nll_loss(torch, rng):
    """Cross-entropy of probabilities is nll_loss of their logarithm."""
    Z, y = _problem(rng, 8, 5)
    P = softmax(Z)
    want = torch.nn.functional.nll_loss(torch.log(torch.tensor(P)), torch.tensor(y)).item()
    assert cross_entropy(P, y) == pytest.approx(want, rel=1e-12)


def test_huge_logits_match_torch(torch, rng):
    """Logits up to 1e4 give torch's finite loss."""
    Z, y = 1e4 * rng.uniform(-1, 1, size=(6, 4)), rng.integers(0, 4, size=6)
    want = torch.nn.functional.cross_entropy(torch.tensor(Z), torch.tensor(y)).item()
    assert softmax_cross_entropy(Z, y) == pytest.approx(want, rel=1e-12)


def test_binary_cross_entropy_matches_torch(torch, rng):
    """Log loss in the open interval (0, 1) is torch's binary_cross_entropy."""
    p, y = rng.uniform(0.01, 0.99, size=12), rng.integers(0, 2, size=12).astype(float)
    want = torch.nn.functional.binary_cross_entropy(torch.tensor(p), torch.tensor(y)).item()
    assert binary_cross_entropy(p, y) == pytest.approx(want, rel=1e-12)
    P2 = p.reshape(3, 4)
    assert binary_cross_entropy(P2, y.reshape(3, 4)) == pytest.approx(want, rel=1e-12)


def test_kl_divergence_matches_torch_kl_div(torch, rng):
    """KL(P||Q) row by row is torch's kl_div(log q, p) summed over the classes."""
    P, Q = softmax(rng.normal(size=(4, 5))), softmax(rng.normal(size=(4, 5)))
    P[0, 1] = 0.0
    P[0] /= P[0].sum()
    want = torch.nn.functional.kl_div(torch.log(torch.tensor(Q)), torch.tensor(P),
                                      reduction="none").sum(dim=1).numpy()
    np.testing.assert_allclose(kl_divergence(P, Q), want, rtol=1e-12)


def test_entropy_matches_torch_categorical(torch, rng):
    """Entropy (with zeros) is torch.distributions.Categorical's entropy, in nats."""
    P = softmax(rng.normal(size=(4, 6)))
    P[1, :3] = 0.0
    P[1] /= P[1].sum()
    want = torch.distributions.Categorical(probs=torch.tensor(P)).entropy().numpy()
    np.testing.assert_allclose(entropy(P), want, rtol=1e-12)


# --- the gradient: prediction minus truth ---------------------------------------------
def test_torch_gradient_is_softmax_minus_one_hot(torch, rng):
    """Autograd of the summed loss w.r.t. the logits equals softmax(Z) - one_hot(y)."""
    Z, y = _problem(rng, 5, 4)
    Zt = torch.tensor(Z, requires_grad=True)
    torch.nn.functional.cross_entropy(Zt, torch.tensor(y), reduction="sum").backward()
    np.testing.assert_allclose(Zt.grad.numpy(), softmax(Z) - one_hot(y, 4), rtol=1e-10,
                               atol=1e-14)


def test_our_loss_has_gradient_softmax_minus_one_hot(rng):
    """Central differences of softmax_cross_entropy give (softmax(Z) - one_hot(y)) / n."""
    Z, y = _problem(rng, 3, 4)
    eps, grad = 1e-6, np.zeros_like(Z)
    for index in np.ndindex(Z.shape):
        step = np.zeros_like(Z)
        step[index] = eps
        grad[index] = (softmax_cross_entropy(Z + step, y)
                       - softmax_cross_entropy(Z - step, y)) / (2 * eps)
    np.testing.assert_allclose(grad, (softmax(Z) - one_hot(y, 4)) / 3, atol=1e-8)


# --- properties ----------------------------------------------------------------------------
@given(distribution_pairs())
def test_cross_entropy_is_entropy_plus_kl(pq):
    """H(P, Q) = H(P) + KL(P||Q), and so H(P, Q) >= H(P)."""
    p, q = pq
    H_pq = cross_entropy_between(p, q)
    assert H_pq == pytest.approx(entropy(p) + kl_divergence(p, q), rel=1e-9, abs=1e-12)
    assert H_pq >= entropy(p) - 1e-12


@given(distribution_pairs())
def test_kl_non_negative_and_zero_only_at_equality(pq):
    """KL(P||Q) >= 0; KL(P||P) = 0; KL > 0 where P and Q differ visibly."""
    p, q = pq
    assert kl_divergence(p, q) >= 0
    assert kl_divergence(p, p) == 0
    if np.max(np.abs(p - q)) > 1e-3:  # Pinsker: KL >= ||p - q||_1^2 / 2 >= 5e-7
        assert kl_divergence(p, q) > 1e-7


@given(distributions())
def test_entropy_between_zero_and_log_m(p):
    """0 <= H(P) <= ln M, in nats; in bits the same divided by ln 2."""
    H = entropy(p)
    assert -1e-15 <= H <= np.log(p.size) + 1e-12
    assert entropy(p, base=2) == pytest.approx(nats_to_bits(H), rel=1e-12, abs=1e-15)


@given(matrices(min_cols=2, elements=huge_floats), st.data())
def test_fused_loss_finite_and_equal_to_probability_form(Z, data):
    """The fused loss is finite for any finite logits and equals cross_entropy(softmax(Z), y)."""
    y = np.array(data.draw(st.lists(st.integers(0, Z.shape[1] - 1), min_size=Z.shape[0],
                                    max_size=Z.shape[0])))
    loss = softmax_cross_entropy(Z, y)
    assert np.isfinite(loss) and loss >= 0
    via_probabilities = cross_entropy(softmax(Z), y)
    if np.isfinite(via_probabilities):
        assert loss == pytest.approx(via_probabilities, rel=1e-9, abs=1e-12)


# --- the lectures' numbers ------------------------------------------------------------------
@pytest.mark.parametrize("p_true, want", [(0.03, 3.51), (0.68, 0.39), (0.95, 0.05)])
def test_lectures_worked_example(p_true, want):
    """M = 3, true class y = 2 (label 1): -ln 0.03 = 3.51, -ln 0.68 = 0.39, -ln 0.95 = 0.05."""
    rest = (1 - p_true) / 2
    P = np.array([[rest, p_true, rest]])
    assert round(cross_entropy(P, np.array([1])), 2) == want
    assert round(cross_entropy(P, one_hot(np.array([1]), 3)), 2) == want
    assert round(softmax_cross_entropy(np.log(P), np.array([1])), 2) == want


def test_nats_and_bits():
    """1 nat = 1/ln 2 ~ 1.44 bits; a fair coin has 1 bit = ln 2 nats of entropy."""
    assert round(float(nats_to_bits(1.0)), 2) == 1.44
    assert BITS_PER_NAT == pytest.approx(1.4426950408889634)
    assert NATS_PER_BIT == pytest.approx(np.log(2))
    assert float(bits_to_nats(nats_to_bits(0.7))) == pytest.approx(0.7)
    assert entropy([0.5, 0.5], base=2) == pytest.approx(1.0)
    assert entropy([0.5, 0.5]) == pytest.approx(np.log(2))
    assert entropy(np.full(8, 1 / 8), base=2) == pytest.approx(3.0)


# --- edge cases ---------------------------------------------------------------------------
def test_zero_probability_on_a_wrong_class_is_finite():
    """p = 0 on a wrong class is fine; only the true class's log is taken."""
    P = np.array([[0.0, 1.0, 0.0], [0.25, 0.0, 0.75]])
    assert cross_entropy(P, np.array([1, 2])) == pytest.approx(-np.log(0.75) / 2)
    assert cross_entropy(P, one_hot(np.array([1, 2]), 3)) == pytest.approx(-np.log(0.75) / 2)
    assert cross_entropy(np.array([0.0, 1.0, 0.0]), 1) == 0.0


def test_zero_probability_on_the_true_class_is_inf_without_warning():
    """p = 0 on the true class: the data is impossible under the model, the loss +inf."""
    assert cross_entropy(np.array([[0.0, 1.0]]), np.array([0])) == np.inf
    assert cross_entropy(np.array([1.0, 0.0]), np.array([0.0, 1.0])) == np.inf


def test_huge_logits_are_exact():
    """Logits of +-1e4: loss 0 when right, 2e4 when wrong, no overflow."""
    Z = np.array([[1e4, -1e4], [1e4, -1e4]])
    assert softmax_cross_entropy(Z[:1], np.array([0])) == 0.0
    assert softmax_cross_entropy(Z[:1], np.array([1])) == 2e4
    assert softmax_cross_entropy(Z, np.array([0, 1])) == 1e4


def test_binary_cross_entropy_clips_zero_and_one():
    """p = 0 or 1 gives a finite loss: -ln(eps) when confidently wrong, ~0 when right."""
    assert binary_cross_entropy(np.array([0.0, 1.0]), np.array([1.0, 0.0])) == pytest.approx(
        -np.log(F_EPS))
    assert binary_cross_entropy(np.array([0.0, 1.0]), np.array([0.0, 1.0])) < 1e-15


def test_kl_infinite_where_q_is_zero_and_p_is_not():
    """KL = inf where q = 0 < p; terms with p = 0 count as 0; no warnings."""
    assert kl_divergence([0.5, 0.5], [1.0, 0.0]) == np.inf
    assert kl_divergence([1.0, 0.0], [0.5, 0.5]) == pytest.approx(np.log(2))
    assert cross_entropy_between([0.5, 0.5], [1.0, 0.0]) == np.inf
    np.testing.assert_allclose(kl_divergence([[1.0, 0.0], [0.5, 0.5]], [[0.5, 0.5], [0.5, 0.5]]),
                               [np.log(2), 0.0])


def test_entropy_of_certain_outcome_is_zero():
    """0 log 0 = 0: a certain outcome has entropy exactly 0 (not -0.0 or NaN)."""
    H = entropy(np.array([0.0, 1.0, 0.0]))
    assert H == 0.0 and not np.signbit(H)
    assert entropy(np.array([1.0])) == 0.0
    assert entropy(np.eye(3)).shape == (3,)


def test_batch_of_one_and_vector_input(rng):
    """A (1, M) batch and its 1-D row give the same loss."""
    z, label = rng.normal(size=4), 2
    assert softmax_cross_entropy(z[None, :], np.array([label])) == pytest.approx(
        softmax_cross_entropy(z, label), rel=1e-15)
    assert cross_entropy(softmax(z)[None, :], [label]) == pytest.approx(
        cross_entropy(softmax(z), label), rel=1e-15)


def test_losses_do_not_modify_inputs(rng):
    """Are the inputs left as they were (binary_cross_entropy clips a copy)?"""
    p = np.array([0.0, 0.5, 1.0])
    Z, y = _problem(rng)
    before = p.copy(), Z.copy()
    binary_cross_entropy(p, np.array([0.0, 1.0, 1.0]))
    softmax_cross_entropy(Z, y)
    np.testing.assert_array_equal(p, before[0])
    np.testing.assert_array_equal(Z, before[1])


# --- accuracy, regularisation and the re-exported mse ---------------------------------------
def test_accuracy_from_labels_and_scores():
    """1-D predictions are labels, 2-D are scores whose row argmax is the label."""
    y = np.array([0, 1, 2, 1])
    assert accuracy(np.array([0, 1, 1, 1]), y) == 0.75
    scores = np.array([[3.0, 1, 0], [0, 2, 1], [0, 0, 9], [5, 0, 0]])
    assert accuracy(scores, y) == 0.75
    assert accuracy(softmax(scores), y) == 0.75


def test_regularised_cost_matches_torch(torch, rng):
    """J = mean loss + lambda/(2n) sum of squared weights; biases are not penalised."""
    W1, b1, W2, b2 = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=(2, 3)), 9.0
    want = 0.5 + 0.1 / (2 * 40) * sum(torch.sum(torch.tensor(W) ** 2).item() for W in (W1, W2))
    assert regularised_cost(0.5, [W1, W2], l2=0.1, n=40) == pytest.approx(want, rel=1e-12)
    assert regularised_cost(0.5, [W1, W2], l2=0.0, n=40) == 0.5
    params = [(W1, b1), (W2, np.full(2, b2))]
    assert regularised_cost(0.5, [W for W, _ in params], 0.1, 40) == pytest.approx(want)


def test_mse_is_reexported_from_linear():
    """mse sits next to the other losses, the very function of chapter 1."""
    assert mse is course_nn.linear.mse


# --- bad input -------------------------------------------------------------------------------
def test_cross_entropy_bad_input():
    """Labels out of range, non-probabilities and shape mismatches name what came."""
    P = np.array([[0.2, 0.8], [0.5, 0.5]])
    with pytest.raises(ValueError, match=r"labels in 0..1, got values in 0..2"):
        cross_entropy(P, np.array([0, 2]))
    with pytest.raises(ValueError, match=r"probabilities in \[0, 1\], got values in -1..2"):
        cross_entropy(np.array([[-1.0, 2.0]]), np.array([0]))
    with pytest.raises(ValueError, match=r"one label per sample: 2 .* got 3"):
        cross_entropy(P, np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"integer labels of shape \(2,\) or one-hot targets"):
        cross_entropy(P, np.ones((2, 3)))
    with pytest.raises(ValueError, match="integer class labels, got dtype float64"):
        softmax_cross_entropy(P, np.array([0.5, 1.0]))
    with pytest.raises(ValueError, match="must be finite"):
        softmax_cross_entropy(np.array([[np.inf, 0.0]]), np.array([0]))
    with pytest.raises(ValueError, match="empty batch"):
        softmax_cross_entropy(np.zeros((0, 3)), np.zeros(0, dtype=int))


def test_information_theory_bad_input():
    """Non-distributions, mismatched shapes and a bad base raise ValueError."""
    with pytest.raises(ValueError, match="p must sum to 1 along the last axis, got a sum of 1.2"):
        entropy([0.6, 0.6])
    with pytest.raises(ValueError, match=r"q must hold probabilities in \[0, 1\]"):
        kl_divergence([0.5, 0.5], [1.5, -0.5])
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        cross_entropy_between([0.5, 0.5], [0.2, 0.3, 0.5])
    with pytest.raises(ValueError, match="base must be a positive number other than 1"):
        entropy([0.5, 0.5], base=1)


def test_other_bad_input():
    """binary_cross_entropy, accuracy and regularised_cost reject bad input with messages."""
    with pytest.raises(ValueError, match=r"same shape, got \(2,\) and \(3,\)"):
        binary_cross_entropy(np.array([0.1, 0.2]), np.array([0.0, 1.0, 1.0]))
    with pytest.raises(ValueError, match=r"p must hold probabilities in \[0, 1\]"):
        binary_cross_entropy(np.array([2.0]), np.array([1.0]))
    with pytest.raises(ValueError, match="same number of samples"):
        accuracy(np.array([0, 1]), np.array([0, 1, 1]))
    with pytest.raises(ValueError, match=r"labels \(n,\) or scores \(n, M\), got shape"):
        accuracy(np.zeros((2, 2, 2)), np.array([0, 1]))
    with pytest.raises(ValueError, match="l2 must be >= 0, got -1"):
        regularised_cost(0.5, [np.ones((2, 2))], l2=-1, n=4)
    with pytest.raises(ValueError, match="n must be a positive int"):
        regularised_cost(0.5, [np.ones((2, 2))], l2=0.1, n=0)
