r"""Losses and information theory: cross-entropy, log loss, entropy, KL divergence.

Book: chapter 5, *Cross-entropy and maximum likelihood* (``book/ch05_cross_entropy.ipynb``);
squared error (:func:`mse`, chapter 1) is re-exported so the three losses sit side by side.

Logarithms are natural, so information is measured in nats; ``base=2`` gives bits
(1 nat = 1/ln 2 ~ 1.44 bits). The convention :math:`0 \log 0 = 0` is applied through
``scipy.special.xlogy``, which also returns the right infinities
without floating-point warnings.

Targets of the multi-class losses are integer labels ``y`` of shape (n,) or one-hot
(or any probability) rows ``Y`` of the shape of the predictions.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import xlogy

from course_nn._validate import as_float_array, as_labels, check_same_length
from course_nn.linear import mse
from course_nn.softmax import log_softmax, one_hot, softmax

Array = NDArray[np.float64]

#: Nats in one bit: :math:`\ln 2 \approx 0.693`.
NATS_PER_BIT = float(np.log(2.0))
#: Bits in one nat: :math:`1/\ln 2 \approx 1.44`.
BITS_PER_NAT = 1.0 / NATS_PER_BIT

__all__ = [
    "BITS_PER_NAT",
    "NATS_PER_BIT",
    "accuracy",
    "binary_cross_entropy",
    "bits_to_nats",
    "cross_entropy",
    "cross_entropy_between",
    "entropy",
    "fit_temperature",
    "kl_divergence",
    "mse",
    "nats_to_bits",
    "regularised_cost",
    "smoothed_targets",
    "softmax_cross_entropy",
    "temperature_nll",
]


def nats_to_bits(x: ArrayLike) -> Array | float:
    r"""Convert an amount of information from nats to bits: :math:`x / \ln 2`."""
    return np.asarray(x, dtype=np.float64) / NATS_PER_BIT


def bits_to_nats(x: ArrayLike) -> Array | float:
    r"""Convert an amount of information from bits to nats: :math:`x \ln 2`."""
    return np.asarray(x, dtype=np.float64) * NATS_PER_BIT


# --- validation ----------------------------------------------------------------------
def _as_probabilities(P: ArrayLike, name: str, ndim: tuple[int, ...] | None = None) -> Array:
    """``P`` as float64 with every entry in [0, 1]."""
    P = as_float_array(P, name, ndim=ndim)
    if P.size and (P.min() < 0 or P.max() > 1):
        raise ValueError(
            f"{name} must hold probabilities in [0, 1], got values in {P.min():.4g}..{P.max():.4g}"
            " (logits? use softmax_cross_entropy, or apply softmax first)"
        )
    return P


def _as_distributions(p: ArrayLike, name: str) -> Array:
    """``p`` as float64 probability vectors along the last axis (entries >= 0, sums 1)."""
    p = _as_probabilities(p, name)
    if p.ndim == 0:
        raise ValueError(f"{name} must have at least 1 dimension (the outcomes), got a scalar")
    sums = p.sum(axis=-1)
    if not np.allclose(sums, 1.0, rtol=0, atol=1e-6):
        worst = float(np.ravel(sums)[np.argmax(np.abs(np.ravel(sums) - 1))])
        raise ValueError(f"{name} must sum to 1 along the last axis, got a sum of {worst:.6g}")
    return p


def _targets(y: ArrayLike, shape: tuple[int, ...]) -> Array:
    r"""Targets as rows :math:`\tilde y` of ``shape``: labels are one-hot encoded.

    ``y`` of the predictions' shape is taken as one-hot (or soft) targets; otherwise
    ``y`` holds integer labels, (n,) for (n, M) predictions or one label for (M,).
    """
    y_arr = np.asarray(y)
    if y_arr.shape == shape:
        return _as_probabilities(y_arr, "y (one-hot targets)")
    if len(shape) == 1 and y_arr.size == 1 and y_arr.ndim <= 1:
        return one_hot(y_arr.reshape(()), shape[0])
    if len(shape) == 2 and y_arr.ndim == 1:
        if y_arr.shape[0] != shape[0]:
            raise ValueError(
                f"y must have one label per sample: {shape[0]} for predictions of shape "
                f"{shape}, got {y_arr.shape[0]}"
            )
        return one_hot(as_labels(y_arr, "y", num_classes=shape[1]), shape[1])
    raise ValueError(
        f"y must be integer labels of shape {shape[:-1] or '()'} or one-hot targets of shape "
        f"{shape}, got shape {y_arr.shape}"
    )


def _mean_over_samples(per_sample: Array) -> float:
    """Mean of a per-sample loss (a single sample's loss for 1-D predictions)."""
    if per_sample.size == 0:
        raise ValueError("the loss of an empty batch is undefined: got 0 samples")
    return float(np.mean(per_sample))


# --- multi-class losses --------------------------------------------------------------
def cross_entropy(P: ArrayLike, y: ArrayLike) -> float:
    r"""Cross-entropy loss from predicted probabilities, averaged over the samples.

    Parameters
    ----------
    P : array of shape (n, M) or (M,)
        Predicted class probabilities (e.g. softmax outputs), entries in [0, 1].
    y : int labels of shape (n,) (one int for (M,)), or one-hot targets of P's shape

    Returns
    -------
    loss : float
        Finite when a wrong class has probability 0 (only the true class's log is
        taken, through ``xlogy``); ``+inf`` when the true class has probability 0
        (the data is then impossible under the model), without a warning. Use
        :func:`softmax_cross_entropy` on logits to avoid that.

    Math
    ----
    :math:`L = -\frac{1}{n}\sum_i \sum_m \tilde y_{im} \ln p_{im}
    = -\frac{1}{n}\sum_i \ln p_{i, y_i}`. For M = 3 and true class 2 of the lectures
    (label 1), :math:`p = 0.03, 0.68, 0.95` give 3.51, 0.39, 0.05.
    """
    P = _as_probabilities(P, "P", ndim=(1, 2))
    Y = _targets(y, P.shape)
    return _mean_over_samples(np.atleast_1d(-np.sum(xlogy(Y, P), axis=-1)))


def softmax_cross_entropy(Z: ArrayLike, y: ArrayLike) -> float:
    r"""Cross-entropy of ``softmax(Z)`` against ``y``, fused and stable, from the logits.

    Parameters
    ----------
    Z : array of shape (n, M) or (M,)
        Finite logits.
    y : int labels of shape (n,) (one int for (M,)), or one-hot targets of Z's shape

    Returns
    -------
    loss : float, always finite (as ``torch.nn.functional.cross_entropy``)

    Math
    ----
    :math:`l = \log\sum_k e^{z_k} - \sum_j \tilde y_j z_j`, i.e.
    :math:`-\sum_j \tilde y_j \,\mathrm{log\_softmax}(z)_j`, averaged over the samples.
    Its gradient with respect to one sample's logits is :math:`\mathrm{softmax}(z) - \tilde y`
    (divided by n for the mean): prediction minus truth.
    """
    Z = as_float_array(Z, "Z", ndim=(1, 2))
    Y = _targets(y, Z.shape)
    # Y is 0 wherever it does not count, and log_softmax is finite: no 0 * inf here.
    return _mean_over_samples(np.atleast_1d(-np.sum(Y * log_softmax(Z, axis=-1), axis=-1)))



def smoothed_targets(y: ArrayLike, num_classes: int, eps: float) -> Array:
    r"""Label-smoothed targets: :math:`(1 - \varepsilon)\tilde{\mathbf y} + \varepsilon / M`.

    Parameters
    ----------
    y : int array of shape (n,)
        Labels in ``0..num_classes-1``.
    num_classes : int
        M.
    eps : float in [0, 1]
        The probability taken from the true class and spread evenly over all M classes
        (the true class included), as ``torch.nn.functional.cross_entropy(...,
        label_smoothing=eps)`` does.

    Returns
    -------
    T : array of shape (n, M), each row a distribution
    """
    if not 0.0 <= eps <= 1.0:
        raise ValueError(f"eps must be in [0, 1], got {eps}")
    Y = one_hot(np.asarray(y), num_classes)
    return (1.0 - eps) * np.atleast_2d(Y) + eps / num_classes


def temperature_nll(Z: ArrayLike, y: ArrayLike, T: float) -> tuple[float, float]:
    r"""The mean cross-entropy of :math:`\mathrm{softmax}(Z / T)` and its derivative in T.

    Parameters
    ----------
    Z : array of shape (n, M)
        Finite logits of a trained model (e.g. on a validation set).
    y : int array of shape (n,)
    T : float > 0
        The temperature.

    Returns
    -------
    nll, dnll_dT : floats; finite for any finite logits and T > 0.

    Math
    ----
    :math:`\mathrm{NLL}(T) = \frac1n\sum_i \big(\log\sum_m e^{z_{im}/T} - z_{i,y_i}/T\big)`
    and, since :math:`\partial(z/T)/\partial T = -z/T^2`,
    :math:`\frac{d\,\mathrm{NLL}}{dT} = \frac{1}{T^2}\,\frac1n\sum_i
    \big(z_{i,y_i} - \sum_m a_{im} z_{im}\big)` with :math:`A = \mathrm{softmax}(Z/T)`:
    the true logit minus the logit the model expects, averaged.
    """
    Z = as_float_array(Z, "Z", ndim=(2,))
    labels = as_labels(y, "y", num_classes=Z.shape[1])
    if not T > 0:
        raise ValueError(f"the temperature must be > 0, got {T}")
    log_A = log_softmax(Z / T, axis=-1)
    rows = np.arange(len(labels))
    nll = _mean_over_samples(-log_A[rows, labels])
    expected_logit = np.sum(np.exp(log_A) * Z, axis=1)
    return nll, float(np.mean(Z[rows, labels] - expected_logit)) / T**2


def _nll_in_beta(Z: Array, labels: NDArray[np.int64], beta: float) -> tuple[float, float, float]:
    """NLL of softmax(beta Z), its first and second derivatives in beta (convex in beta)."""
    A = softmax(beta * Z, axis=-1)
    rows = np.arange(len(labels))
    nll = float(np.mean(-log_softmax(beta * Z, axis=-1)[rows, labels]))
    mean_z = np.sum(A * Z, axis=1)
    grad = float(np.mean(mean_z - Z[rows, labels]))
    curvature = float(np.mean(np.sum(A * Z**2, axis=1) - mean_z**2))
    return nll, grad, curvature


def fit_temperature(Z: ArrayLike, y: ArrayLike, max_steps: int = 100) -> float:
    r"""The temperature T > 0 that minimises :func:`temperature_nll` on ``(Z, y)``.

    Temperature scaling {cite}`guo2017calibration`: one number fitted on held-out data
    after training, which changes every probability but no prediction.

    Math
    ----
    In :math:`\beta = 1/T` the NLL is convex: its second derivative is the mean over the
    samples of the variance of the logits under :math:`\mathrm{softmax}(\beta\mathbf z)`.
    Damped Newton steps in :math:`\beta` (halved until the NLL does not rise and
    :math:`\beta` stays positive) converge in a handful of steps.

    Raises
    ------
    ValueError
        If there is no finite optimum: the NLL keeps falling as :math:`T \to 0` (every
        prediction right with a margin) or as :math:`T \to \infty` (worse than uniform).
    """
    Z = as_float_array(Z, "Z", ndim=(2,))
    labels = as_labels(y, "y", num_classes=Z.shape[1])
    check_same_length(Z, labels, "Z", "y")
    if _nll_in_beta(Z, labels, 0.0)[1] >= 0:
        raise ValueError("no finite temperature: the logits do no better than uniform")
    # as beta -> infinity the slope tends to the mean gap between each row's largest logit
    # and the true one: 0 when every true class has the largest logit (loss falls forever)
    if np.all(Z[np.arange(len(labels)), labels] >= Z.max(axis=1)):
        raise ValueError("no finite temperature: the loss keeps falling as T -> 0")
    beta = 1.0
    nll, grad, curvature = _nll_in_beta(Z, labels, beta)
    for _ in range(max_steps):
        if abs(grad) <= 1e-12 * max(1.0, float(np.max(np.abs(Z)))):
            break
        step = -grad / curvature if curvature > 0 else -grad
        while beta + step <= 0 or _nll_in_beta(Z, labels, beta + step)[0] > nll + 1e-15:
            step /= 2
            if abs(step) < 1e-15 * beta:  # no step lowers the loss: at the optimum
                return 1.0 / beta
        beta += step
        if beta > 1e12:
            raise ValueError("no finite temperature: the loss keeps falling as T -> 0")
        nll, grad, curvature = _nll_in_beta(Z, labels, beta)
    return 1.0 / beta

def binary_cross_entropy(p: ArrayLike, y: ArrayLike) -> float:
    r"""Log loss of binary classification, averaged over all entries.

    Parameters
    ----------
    p : array of any shape, e.g. (n,)
        Predicted probabilities :math:`p(y = 1 \mid x)`, in [0, 1].
    y : array of p's shape
        Targets, 0 or 1 (values in between are allowed as soft targets).

    Returns
    -------
    loss : float
        ``p`` is clipped to :math:`[\epsilon, 1 - \epsilon]` with
        :math:`\epsilon` = ``np.finfo(float).eps`` (as scikit-learn does), so p = 0 or 1
        gives a large finite loss (at most :math:`-\ln\epsilon \approx 36.04` per
        sample) instead of ``inf``. PyTorch clamps the log at -100 instead, so the two
        agree only away from 0 and 1.

    Math
    ----
    :math:`L = -\frac{1}{N}\sum \left[y \ln p + (1 - y)\ln(1 - p)\right]`.
    """
    p = _as_probabilities(p, "p")
    y = _as_probabilities(y, "y")
    if p.shape != y.shape:
        raise ValueError(f"p and y must have the same shape, got {p.shape} and {y.shape}")
    eps = np.finfo(np.float64).eps
    p = np.clip(p, eps, 1 - eps)  # log(0) would be -inf: one confident mistake = inf loss
    return _mean_over_samples(np.atleast_1d(-(y * np.log(p) + (1 - y) * np.log1p(-p))))


# --- information theory --------------------------------------------------------------
def _log_base(base: float | None) -> float:
    """The natural log of ``base`` (1 for nats), to divide a result in nats by."""
    if base is None:
        return 1.0
    if not (np.isfinite(base) and base > 0 and base != 1):
        raise ValueError(f"base must be a positive number other than 1 (2 for bits), got {base}")
    return float(np.log(base))


def _pair(p: ArrayLike, q: ArrayLike) -> tuple[Array, Array]:
    """Two distributions of the same shape."""
    p, q = _as_distributions(p, "p"), _as_distributions(q, "q")
    if p.shape != q.shape:
        raise ValueError(f"p and q must have the same shape, got {p.shape} and {q.shape}")
    return p, q


def entropy(p: ArrayLike, base: float | None = None) -> Array | float:
    r"""Entropy :math:`H[P]` of distributions along the last axis, in nats by default.

    Parameters
    ----------
    p : array of shape (M,) or (..., M)
        Probabilities; each vector along the last axis sums to 1.
    base : float, optional
        Logarithm base; ``None`` for nats (natural log), 2 for bits.

    Returns
    -------
    H : float for a single distribution, else an array of shape p.shape[:-1]
        Between 0 (a certain outcome) and :math:`\log M` (uniform).

    Math
    ----
    :math:`H[P] = -\sum_j P(j) \log P(j)`, with :math:`0 \log 0 = 0`: the expected
    surprisal :math:`-\log P(j)`.
    """
    p = _as_distributions(p, "p")
    H = (0.0 - np.sum(xlogy(p, p), axis=-1)) / _log_base(base)  # 0.0 - x avoids "-0.0"
    return float(H) if H.ndim == 0 else H


def kl_divergence(p: ArrayLike, q: ArrayLike, base: float | None = None) -> Array | float:
    r"""Kullback-Leibler divergence :math:`D(P \| Q)` along the last axis, in nats by default.

    Parameters
    ----------
    p, q : arrays of the same shape, (M,) or (..., M)
        Distributions along the last axis. The order matters: ``p`` is the true
        (data) distribution, ``q`` the model.
    base : float, optional
        Logarithm base; ``None`` for nats, 2 for bits.

    Returns
    -------
    D : float for a single pair, else an array of shape p.shape[:-1]
        :math:`\ge 0`, 0 exactly when P = Q; ``inf`` where some :math:`q_j = 0 < p_j`.

    Math
    ----
    :math:`D(P \| Q) = \sum_j P(j) \log \frac{P(j)}{Q(j)} = H(P, Q) - H[P]`, with
    :math:`0 \log(0/q) = 0`.
    """
    p, q = _pair(p, q)
    # p log p - p log q rather than p log(p/q): p/q overflows for a tiny q. xlogy makes
    # 0 log 0 = 0 and p log 0 = -inf (so D = inf); the max removes -1e-17 rounding.
    D = np.maximum(np.sum(xlogy(p, p) - xlogy(p, q), axis=-1), 0.0) / _log_base(base)
    return float(D) if D.ndim == 0 else D


def cross_entropy_between(
    p: ArrayLike, q: ArrayLike, base: float | None = None
) -> Array | float:
    r"""Cross-entropy :math:`H(P, Q)` of two distributions along the last axis (nats by default).

    Same shapes and ``base`` as :func:`kl_divergence`; ``inf`` where some
    :math:`q_j = 0 < p_j`.

    Math
    ----
    :math:`H(P, Q) = -\sum_j P(j) \log Q(j) = H[P] + D(P \| Q) \ge H[P]`, with equality
    at P = Q. Minimising it over Q is minimising the KL divergence, since
    :math:`H[P]` does not depend on Q.
    """
    p, q = _pair(p, q)
    H = (0.0 - np.sum(xlogy(p, q), axis=-1)) / _log_base(base)
    return float(H) if H.ndim == 0 else H


# --- evaluation and regularisation ---------------------------------------------------
def accuracy(scores_or_labels: ArrayLike, y: ArrayLike) -> float:
    r"""Fraction of samples whose predicted class equals the label.

    Parameters
    ----------
    scores_or_labels : array of shape (n,) or (n, M)
        Predicted integer labels, or scores (logits or probabilities) whose row
        argmax is the prediction.
    y : int array of shape (n,)
        True labels.

    Returns
    -------
    accuracy : float in [0, 1]
    """
    pred = np.asarray(scores_or_labels)
    if pred.ndim == 2:
        pred = np.argmax(as_float_array(pred, "scores_or_labels"), axis=1)
    elif pred.ndim != 1:
        raise ValueError(
            f"scores_or_labels must be labels (n,) or scores (n, M), got shape {pred.shape}"
        )
    labels = as_labels(y, "y")
    pred = as_labels(pred, "scores_or_labels")
    check_same_length(pred, labels, "scores_or_labels", "y")
    return _mean_over_samples((pred == labels).astype(np.float64))


def regularised_cost(
    mean_loss: float, weights: Sequence[ArrayLike], l2: float, n: int
) -> float:
    r"""Regularised cost :math:`J(\Theta)`: the mean loss plus an L2 penalty on the weights.

    Parameters
    ----------
    mean_loss : float
        The data term, e.g. :func:`softmax_cross_entropy` (already a mean over n).
    weights : sequence of arrays
        The weight matrices :math:`W^{(1)}, \dots, W^{(L)}` only. Biases are not
        penalised (they shift a unit, they do not make it sensitive to its input);
        from an MLP's ``params`` pass ``[W for W, b in params]``.
    l2 : float
        :math:`\lambda \ge 0`.
    n : int
        The number of training samples the mean loss was taken over.

    Returns
    -------
    J : float

    Math
    ----
    :math:`J(\Theta) = \frac{1}{n}\sum_i L_i + \frac{\lambda}{2n}\sum_l \sum_{jk}
    (W^{(l)}_{jk})^2`. ``mlp_loss_and_grads(..., l2=lam)`` writes the penalty as
    :math:`\frac{\text{lam}}{2}\sum W^2`; the two agree with ``lam`` = :math:`\lambda / n`.
    """
    if not l2 >= 0:
        raise ValueError(f"l2 must be >= 0, got {l2}")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ValueError(f"n must be a positive int (the number of samples), got {n!r}")
    squares = sum(float(np.sum(as_float_array(W, "weights[i]") ** 2)) for W in weights)
    return float(mean_loss) + l2 / (2 * n) * squares
