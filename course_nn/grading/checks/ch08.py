"""Checks for exercise 8, the capstone: build, check and tune a network (book chapter 8).

Graded items (kind, function); every argument is an array, a number or a string, and
classes are graded through small functions that use them:

implement
    ``affine_layer(W, b, X, dY) -> (Y, dX, dW, db)``: the student's ``Affine`` layer,
    forward then backward; ``relu_layer(Z, dY) -> (Q, dZ)``;
    ``softmax_ce_layer(Z, y) -> (loss, dZ)`` (mean cross-entropy, no overflow);
    ``network_loss_and_grads(X, y, W1, b1, W2, b2, ...) -> (loss, [(dW1, db1), ...])``: a
    stack of the layers (ReLU between affine layers), two hidden layers of one width in the
    cases so that a cache shared between layers shows (the layers' arrays are passed one by
    one: a case is plain arrays and numbers);
    ``momentum_update(theta, grad, velocity, learning_rate, momentum) -> (theta, velocity)``
    and ``adam_update(theta, grad, m, v, t, learning_rate, beta1, beta2, eps) -> (theta, m, v)``,
    the arithmetic of ``torch.optim.SGD`` and ``torch.optim.Adam`` (the references are
    checked against PyTorch in ``tests/test_capstone_reference.py``);
    ``sgd_epochs(X, y, learning_rate, epochs, batch_size, seed, W1, b1, ...) -> (losses, params)``:
    the minibatch loop, one permutation per epoch from ``np.random.default_rng(seed)``;
    ``initial_loss_check(X, y, seed) -> (loss, params)`` and
    ``overfit_tiny_batch(X, y, seed) -> (losses, params)``, the sanity checks, graded by
    re-running them: the returned network is rebuilt and judged (:func:`judge_initial_loss`,
    :func:`judge_overfit`).
by hand
    ``init_loss_by_hand() -> (loss, accuracy)`` at initialisation on three classes.
debugging
    ``train_curves(X_train, y_train, X_val, y_val, seed) -> (train_loss, val_loss)``, given
    with a shuffling helper that draws one permutation per array
    (:data:`BUGGY_TRAIN_CURVES`): inputs and labels part, which only the curves show.
transfer
    ``tune_and_train(X_train, y_train, X_val, y_val) -> ((learning_rate, l2, epochs), params)``:
    a search on the validation split with early stopping; the returned network is judged
    on a test split only the grader draws (:func:`capstone_case`, ``Case.probe``), against
    :data:`ACCURACY_FLOOR`, which softmax regression does not reach.

Hints name the symptom and the concept, never the code (``tests/test_hints.py``).
"""

from __future__ import annotations

import numpy as np

from course_nn.backprop import mlp_loss_and_grads
from course_nn.datasets.workflow import (
    N_TRAIN,
    N_VAL,
    NUM_CLASSES,
    TRAIN_DRAW,
    make_disc_in_noise,
)
from course_nn.grading.checks.ch02 import Structure
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.compare import same_answer as _same
from course_nn.grading.core import Case, Check, given_function, numbers_judge, register
from course_nn.layers import Affine, ReLU, SoftmaxCrossEntropy, relu_network
from course_nn.losses import softmax_cross_entropy
from course_nn.mlp import init_mlp, mlp_forward
from course_nn.optim import AdamState, adam_step, momentum_step
from course_nn.train import fit

#: The smallest test accuracy that passes ``tune_and_train``, on a test split of
#: :data:`N_TEST` samples only the grader draws. Measured on six draws of the problem (test
#: splits of 5,000 samples; tests/test_capstone_reference.py checks three): softmax
#: regression 0.68 to 0.72, an MLP trained with the digits lab's settings (``train_mlp``'s
#: defaults, no search, no early stopping) 0.69 to 0.71, an MLP whose learning rate,
#: weight decay and epoch are chosen on the validation split 0.78 to 0.83.
ACCURACY_FLOOR = 0.75
#: Size of the grader's test split.
N_TEST = 2000
#: The draw of the public case's test split (the exercise hands out draws 0 and 1 only).
PUBLIC_TEST_DRAW = 1_000_003
#: How far the loss at initialisation may be from that of uniform guessing, ln M.
INIT_LOSS_TOLERANCE = 0.1
#: The training loss a tiny batch must be driven below.
OVERFIT_LOSS = 0.05
#: Size of the tiny batch.
TINY_BATCH = 10
ACTIVATIONS = ("relu", "tanh")


# --- shared pieces -------------------------------------------------------------------------
def _parts(got):
    return [to_float_array(p) for p in flatten_output(got)]


def _layer_pairs(arrays: list[np.ndarray], p: int, classes: int) -> tuple[list, str | None]:
    """(W, b) pairs chaining from p inputs to ``classes`` outputs, or why not."""
    if len(arrays) < 2 or len(arrays) % 2:
        return [], "expected the network's weights and offsets in pairs, layer by layer"
    pairs, fan_in = [], p
    for W, b in zip(arrays[::2], arrays[1::2], strict=True):
        if W.ndim != 2 or W.shape[1] != fan_in or b.shape != (W.shape[0],):
            return [], (f"the layers do not chain: a weight of shape {W.shape} after {fan_in} "
                        f"inputs (W has shape (out, in), b shape (out,))")
        pairs.append((W, b))
        fan_in = W.shape[0]
    if fan_in != classes:
        return [], f"the last layer has {fan_in} outputs, not {classes} classes"
    if not all(np.all(np.isfinite(a)) for a in arrays):
        return [], "the network's parameters are not all finite numbers"
    return pairs, None


def _losses(pairs, X, y) -> dict[str, float]:
    with np.errstate(all="ignore"):
        return {a: float(softmax_cross_entropy(mlp_forward(pairs, X, a), y)) for a in ACTIVATIONS}


def _accuracies(pairs, X, y) -> dict[str, float]:
    with np.errstate(all="ignore"):
        return {a: float(np.mean(np.argmax(mlp_forward(pairs, X, a), axis=1) == y))
                for a in ACTIVATIONS}


# --- affine_layer ------------------------------------------------------------------------
def affine_layer(W, b, X, dY):
    """Reference: the affine layer's output and its three gradients, via :class:`Affine`."""
    layer = Affine(W, b)
    Y = layer.forward(X)
    dX = layer.backward(dY)
    return Y, dX, layer.dW, layer.db


def _affine_case(rng, n, fan_in, fan_out, label):
    return Case((rng.normal(size=(fan_out, fan_in)), rng.normal(size=fan_out),
                 rng.normal(size=(n, fan_in)), rng.normal(size=(n, fan_out))), label)


def _affine_public():
    rng = np.random.default_rng(80)
    return [
        Case((np.array([[1.0, 2.0, 0.0], [0.0, -1.0, 3.0]]), np.array([0.5, -0.5]),
              np.array([[1.0, 0.0, 2.0], [0.0, 1.0, -1.0]]), np.array([[1.0, 0.0], [0.5, -1.0]])),
             "two samples, three inputs, two outputs"),
        _affine_case(rng, 4, 3, 3, "four samples, as many inputs as outputs"),
    ]


def _affine_hidden(rng):
    return [_affine_case(rng, n, i, o, f"n={n}, {i} inputs, {o} outputs")
            for n, i, o in ((1, 1, 1), (int(rng.integers(2, 9)), 5, 3), (6, 4, 4), (30, 8, 16))]


def _hint_affine(case, expected, got):
    W, b, X, dY = case.args
    Y, dX, dW, db = expected
    parts = flatten_output(got)
    if len(parts) != 4:
        return "return four arrays: the output, then the gradients of the input, the weights and the offsets"
    have = [to_float_array(p) for p in parts]
    if have[2].shape == dW.T.shape and W.shape[0] != W.shape[1] or _same(have[2], dW.T) and dW.shape[0] > 1:
        return "the weight gradient is transposed: it has one row per output, like the weights"
    n = len(X)
    if n > 1 and _same(have[3], db / n):
        return ("the offsets' gradient is averaged over the samples; the upstream gradient "
                "already carries the mean, so the samples' contributions add up")
    if _same(have[2], dY.T @ Y):
        return ("the weight gradient was computed from the layer's output, not from the input "
                "that the forward pass saw and kept")
    if _same(have[1], dY @ np.linalg.pinv(W).T) or (W.shape[0] == W.shape[1] and _same(have[1], dY @ W.T)):
        return "the input's gradient goes back through the weights the wrong way round"
    if _same(have[0], Y - b):
        return "the output misses the offsets"
    return None


register(Check(
    name="affine_layer",
    reference=affine_layer,
    public_cases=_affine_public,
    hidden_cases=_affine_hidden,
    arg_names=("W", "b", "X", "dY"),
    hints=(_hint_affine,),
    kind="implement",
    parts=("Y", "dX", "dW", "db"),
))


# --- relu_layer ----------------------------------------------------------------------------
def relu_layer(Z, dY):
    """Reference: ReLU's output and the gradient with respect to its input, via :class:`ReLU`."""
    layer = ReLU()
    Q = layer.forward(Z)
    return Q, layer.backward(dY)


def _relu_public():
    return [
        Case((np.array([[-1.0, 0.0, 2.0], [3.0, -0.5, 0.0]]),
              np.array([[1.0, 2.0, 3.0], [-1.0, 4.0, 0.5]])), "two rows with zeros among the inputs"),
        Case((np.array([[0.5, -2.0]]), np.array([[2.0, 2.0]])), "one row"),
    ]


def _relu_hidden(rng):
    cases = []
    for n, u in ((1, 1), (5, 4), (20, 16)):
        Z = rng.normal(size=(n, u))
        Z[rng.random((n, u)) < 0.2] = 0.0
        cases.append(Case((Z, rng.normal(size=(n, u))), f"n={n}, {u} units, some zeros"))
    return cases


def _hint_relu(case, expected, got):
    Z, dY = case.args
    parts = flatten_output(got)
    if len(parts) != 2:
        return "return two arrays: the output and the gradient of the input"
    dZ = to_float_array(parts[1])
    if _same(dZ, np.where(Z >= 0, dY, 0.0)):
        return "the slope at exactly zero is taken as zero here, as PyTorch does"
    if _same(dZ, (Z > 0).astype(float)):
        return "the input's gradient ignores the upstream gradient: the chain rule multiplies them"
    if _same(dZ, dY * np.maximum(Z, 0.0)):
        return "the upstream gradient is multiplied by the output, not by the slope of the unit"
    if _same(dZ, dY):
        return "the gradient passes through every unit, also the ones that were switched off"
    return None


register(Check(
    name="relu_layer",
    reference=relu_layer,
    public_cases=_relu_public,
    hidden_cases=_relu_hidden,
    arg_names=("Z", "dY"),
    hints=(_hint_relu,),
    kind="implement",
    parts=("Q", "dZ"),
))


# --- softmax_ce_layer -----------------------------------------------------------------------
def softmax_ce_layer(Z, y):
    """Reference: the mean cross-entropy of softmax(Z) and dJ/dZ, via :class:`SoftmaxCrossEntropy`."""
    layer = SoftmaxCrossEntropy()
    loss = layer.forward(Z, y)
    return loss, layer.backward()


def _ce_public():
    return [
        Case((np.array([[2.0, 1.0, 0.1], [0.5, 2.5, -1.0]]), np.array([0, 2])), "two samples, three classes"),
        Case((np.array([[1000.0, 0.0, -1000.0], [0.0, 800.0, 0.0]]), np.array([1, 1])),
             "logits in the hundreds"),
    ]


def _ce_hidden(rng):
    cases = []
    for n, m, scale in ((1, 2, 1.0), (7, 3, 3.0), (40, 10, 2.0), (5, 4, 500.0)):
        cases.append(Case((rng.normal(scale=scale, size=(n, m)), rng.integers(0, m, size=n)),
                          f"n={n}, M={m}, logits of size about {scale:g}"))
    return cases


def _ce_pieces(Z, y):
    Z = np.asarray(Z, dtype=float)
    shifted = Z - Z.max(axis=1, keepdims=True)
    A = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
    return A, np.eye(Z.shape[1])[y]


def _hint_ce(case, expected, got):
    Z, y = case.args
    parts = flatten_output(got)
    if len(parts) != 2:
        return "return two things: the loss, a number, and the gradient of the logits"
    loss, dZ = expected
    A, Y = _ce_pieces(Z, y)
    n = len(y)
    have_loss, have_dZ = to_float_array(parts[0]), to_float_array(parts[1])
    if n > 1 and _same(have_dZ, A - Y):
        return ("the gradient is not divided by the number of samples: the loss is their mean, "
                "so each sample's part is shared out")
    if _same(have_dZ, Y - A) or _same(have_dZ, (Y - A) / n):
        return "the gradient has the wrong sign: it points to where the loss grows"
    if n > 1 and _same(have_loss, loss * n):
        return "the loss is the sum over the samples, the task asks for their mean"
    if _same(have_loss, -loss):
        return "the loss is negative: a cross-entropy is never below zero"
    return None


register(Check(
    name="softmax_ce_layer",
    reference=softmax_ce_layer,
    public_cases=_ce_public,
    hidden_cases=_ce_hidden,
    arg_names=("Z", "y"),
    hints=(_hint_ce,),
    float_errors=True,
    kind="implement",
    parts=("loss", "dZ"),
))


# --- network_loss_and_grads: the stack -------------------------------------------------------
def _pairs(layers) -> list[tuple[np.ndarray, np.ndarray]]:
    """``W1, b1, W2, b2, ...`` as the list ``[(W1, b1), (W2, b2), ...]``."""
    return list(zip(layers[0::2], layers[1::2], strict=True))


def network_loss_and_grads(X, y, *layers):
    """Reference: the mean cross-entropy of the ReLU network ``W1, b1, W2, b2, ...`` on
    (X, y) and its gradients, by the stack."""
    net, head = relu_network(_pairs(layers)), SoftmaxCrossEntropy()
    loss = head.forward(net.forward(X), y)
    net.backward(head.backward())
    return loss, [(dW.copy(), db.copy()) for dW, db in net.grads()]


def _network_case(rng, n, sizes, label):
    params = init_mlp(sizes, rng=rng)
    params = [(W, rng.normal(scale=0.3, size=b.shape)) for W, b in params]
    X = rng.normal(size=(n, sizes[0]))
    return Case((X, rng.integers(0, sizes[-1], size=n), *[a for pair in params for a in pair]), label)


def _network_public():
    rng = np.random.default_rng(81)
    return [
        _network_case(rng, 4, [3, 5, 2], "one hidden layer of five units"),
        _network_case(rng, 6, [4, 6, 6, 3], "two hidden layers of six units each"),
    ]


def _network_hidden(rng):
    return [_network_case(rng, n, sizes, f"n={n}, layer sizes {sizes}") for n, sizes in (
        (1, [2, 3, 2]), (8, [5, 7, 7, 3]), (16, [6, 8, 8, 8, 4]), (10, [3, 4])
    )]


def _shared_cache_grads(params, X, y):
    """The stack whose ReLU layers share one cache: the last forward pass's mask is used
    by every ReLU's backward pass."""
    net, head = relu_network(params), SoftmaxCrossEntropy()
    loss = head.forward(net.forward(X), y)
    relus = [layer for layer in net.layers if isinstance(layer, ReLU)]
    for layer in relus:
        layer._positive = relus[-1]._positive if relus else None
    try:
        net.backward(head.backward())
    except ValueError:
        return None
    return loss, [(dW, db) for dW, db in net.grads()]


def _hint_network(case, expected, got):
    X, y, *layers = case.args
    params = _pairs(layers)
    parts = flatten_output(got)
    want = flatten_output(expected)
    if len(parts) != len(want):
        return ("return the loss and one pair of gradients per layer, the weights' and the "
                "offsets', first layer first")
    have = [to_float_array(p) for p in parts]
    grads = expected[1]
    reverse = [a for pair in grads[::-1] for a in pair]
    if len(grads) > 1 and _same(have[1:], reverse):
        return "the gradients are listed from the last layer to the first"
    shared = _shared_cache_grads(params, X, y)
    if len(params) > 2 and shared is not None and _same(got, shared):
        return ("the last layers' gradients are right and earlier ones are wrong: a layer's "
                "backward pass used what another layer's forward pass saw, so each layer "
                "needs its own cache")
    if all(not np.any(a) for a in have[1:]):
        return "every gradient is zero: were they read before the backward pass stored them?"
    n = len(y)
    if n > 1 and _same(have[1:], [n * a for a in want[1:]]):
        return "the gradients are not averaged over the samples: the loss is their mean"
    last = [to_float_array(a) for a in want[-2:]]
    if _same(have[-2:], last) and not _same(have[1:-2], want[1:-2]):
        return ("the last layer's gradients are right, the ones before it are not: check what "
                "flows back through each hidden unit")
    return None


register(Check(
    name="network_loss_and_grads",
    reference=network_loss_and_grads,
    public_cases=_network_public,
    hidden_cases=_network_hidden,
    arg_names=("X", "y", "W1", "b1", "W2", "b2", "W3", "b3", "W4", "b4"),
    hints=(_hint_network,),
    kind="implement",
    parts=("loss", "dW{l}", "db{l}"),
))


# --- momentum_update and adam_update ------------------------------------------------------------
def momentum_update(theta, grad, velocity, learning_rate, momentum):
    """Reference: one step of ``torch.optim.SGD(lr, momentum)`` (no dampening, no Nesterov)."""
    return momentum_step(theta, grad, velocity, learning_rate, momentum)


def _momentum_public():
    return [
        Case((np.array([1.0, -2.0]), np.array([0.5, 0.5]), np.array([0.0, 0.0]), 0.1, 0.9),
             "the first step, from zero velocity"),
        Case((np.array([[1.0, 2.0], [3.0, 4.0]]), np.array([[0.1, -0.2], [0.3, 0.0]]),
              np.array([[1.0, 1.0], [-1.0, 0.5]]), 0.05, 0.8), "a later step"),
    ]


def _momentum_hidden(rng):
    cases = []
    for shape in ((1,), (5,), (3, 4)):
        cases.append(Case((rng.normal(size=shape), rng.normal(size=shape), rng.normal(size=shape),
                           float(rng.uniform(0.001, 0.5)), float(rng.uniform(0.5, 0.99))),
                          f"parameters of shape {shape}"))
    return cases


def _hint_momentum(case, expected, got):
    theta, grad, velocity, lr, mu = case.args
    if _same(got, (theta + mu * velocity - lr * grad, mu * velocity - lr * grad)):
        return ("this is the other common form of momentum, whose velocity already holds the "
                "learning rate; the task asks for the form of PyTorch's SGD, where the "
                "velocity sums raw gradients")
    v_ema = mu * velocity + (1 - mu) * grad
    if _same(got, (theta - lr * v_ema, v_ema)):
        return ("the gradient is damped before it enters the velocity: in this form the "
                "velocity adds the whole gradient")
    if _same(got, (theta - lr * velocity, mu * velocity + grad)):
        return "the step uses the velocity from before this update"
    return None


register(Check(
    name="momentum_update",
    reference=momentum_update,
    public_cases=_momentum_public,
    hidden_cases=_momentum_hidden,
    arg_names=("theta", "grad", "velocity", "learning_rate", "momentum"),
    hints=(_hint_momentum,),
    kind="implement",
    parts=("theta", "velocity"),
))


def adam_update(theta, grad, m, v, t, learning_rate, beta1, beta2, eps):
    """Reference: step number ``t`` (1 for the first) of ``torch.optim.Adam``."""
    new_theta, state = adam_step(theta, grad, AdamState(m=np.asarray(m, float), v=np.asarray(v, float),
                                                        t=int(t) - 1),
                                 learning_rate, beta1, beta2, eps)
    return new_theta, state.m, state.v


def _adam_public():
    return [
        Case((np.array([1.0, -1.0, 0.5]), np.array([0.2, -0.1, 0.0]), np.zeros(3), np.zeros(3), 1,
              0.01, 0.9, 0.999, 1e-8), "the first step, from zero averages"),
        Case((np.array([[0.5, 0.5], [1.0, -2.0]]), np.array([[0.01, -0.3], [0.2, 1e-6]]),
              np.array([[0.02, -0.1], [0.1, 0.0]]), np.array([[1e-4, 0.01], [0.004, 0.0]]), 3,
              0.001, 0.9, 0.999, 1e-8), "the third step, one gradient almost zero"),
    ]


def _adam_hidden(rng):
    cases = []
    for shape, t in (((1,), 1), ((6,), 2), ((3, 4), int(rng.integers(5, 50))), ((4,), 1000)):
        tiny = 1e-6 if t == 2 else 1.0  # gradients so small that the guard term matters
        cases.append(Case((rng.normal(size=shape), tiny * rng.normal(size=shape),
                           tiny * rng.normal(scale=0.1, size=shape),
                           tiny**2 * rng.uniform(0, 0.1, size=shape), t,
                           float(rng.uniform(1e-4, 0.1)), float(rng.uniform(0.8, 0.95)),
                           float(rng.uniform(0.99, 0.9999)), 1e-8), f"step {t}, shape {shape}"))
    return cases


def _adam_variant(theta, grad, m, v, t, lr, b1, b2, eps, correct_m=True, correct_v=True,
                  eps_inside=False, t_shift=0):
    m = b1 * m + (1 - b1) * grad
    v = b2 * v + (1 - b2) * grad**2
    s = t + t_shift
    m_hat = m / (1 - b1**s) if correct_m else m
    v_hat = v / (1 - b2**s) if correct_v else v
    root = np.sqrt(v_hat + eps) if eps_inside else np.sqrt(v_hat) + eps
    return theta - lr * m_hat / root, m, v


def _hint_adam(case, expected, got):
    args = case.args
    with np.errstate(all="ignore"):
        if _same(got, _adam_variant(*args, correct_m=False, correct_v=False)):
            return ("the running averages are not corrected for starting at zero, so the early "
                    "steps have the wrong size")
        if _same(got, _adam_variant(*args, correct_v=False)) or _same(
                got, _adam_variant(*args, correct_m=False)):
            return "only one of the two running averages is corrected for starting at zero"
        if _same(got, _adam_variant(*args, t_shift=-1)) or _same(got, _adam_variant(*args, t_shift=1)):
            return ("the correction for the zero start uses the wrong step number: the first "
                    "update is step one")
        if _same(got, _adam_variant(*args, eps_inside=True)):
            return "the small guard term goes outside the square root, after it is taken"
    return None


register(Check(
    name="adam_update",
    reference=adam_update,
    public_cases=_adam_public,
    hidden_cases=_adam_hidden,
    arg_names=("theta", "grad", "m", "v", "t", "learning_rate", "beta1", "beta2", "eps"),
    hints=(_hint_adam,),
    rtol=1e-6,
    atol=1e-10,
    kind="implement",
    parts=("theta", "m", "v"),
))


# --- sgd_epochs: the minibatch loop ------------------------------------------------------------
def sgd_epochs(X, y, learning_rate, epochs, batch_size, seed, *layers):
    """Reference: plain minibatch SGD on the mean cross-entropy of a ReLU network; each
    epoch one ``rng.permutation(n)`` of ``rng = np.random.default_rng(seed)``, its batches
    in order; returns (training loss after each epoch, final params)."""
    if int(batch_size) >= len(y):
        raise ValueError("the cases use batches smaller than the data")
    history = fit(_pairs(layers), X, y, "relu", learning_rate=learning_rate, epochs=int(epochs),
                  batch_size=int(batch_size), seed=int(seed))
    return np.array(history.loss), history.params


def _loop_case(rng, n, sizes, lr, epochs, batch, label):
    params = init_mlp(sizes, rng=rng)
    X = rng.normal(size=(n, sizes[0]))
    y = (X[:, 0] > 0).astype(np.int64) + (X[:, 1 % sizes[0]] > 0.5) % sizes[-1]
    return Case((X, y % sizes[-1], lr, epochs, batch, int(rng.integers(0, 10_000)),
                 *[a for pair in params for a in pair]), label)


def _loop_public():
    rng = np.random.default_rng(82)
    return [
        _loop_case(rng, 10, [3, 4, 2], 0.5, 3, 4, "ten samples in batches of four, three epochs"),
        _loop_case(rng, 24, [4, 8, 3], 0.2, 4, 8, "24 samples in batches of eight, four epochs"),
    ]


def _loop_hidden(rng):
    return [_loop_case(rng, n, sizes, lr, e, b, f"n={n}, batches of {b}, {e} epochs")
            for n, sizes, lr, e, b in ((7, [2, 3, 2], 0.3, 2, 3), (30, [5, 6, 6, 3], 0.1, 3, 7),
                                       (50, [4, 10, 3], 0.5, 5, 16))]


def _loop_variant(X, y, lr, epochs, batch, seed, *rest):
    """The loop with one typical mistake (``rest[-1]``, the mode), for the hints."""
    *layers, mode = rest
    rng = np.random.default_rng(int(seed))
    n = len(y)
    params = [(np.array(W, float), np.array(b, float)) for W, b in _pairs(layers)]
    losses, once = [], rng.permutation(n) if mode == "once" else None
    for _ in range(int(epochs)):
        if mode == "once":
            order, label_order = once, once
        elif mode == "apart":
            order, label_order = rng.permutation(n), rng.permutation(n)
        elif mode == "none":
            order = label_order = np.arange(n)
        else:
            order = label_order = rng.permutation(n)
        stop = n - n % batch if mode == "drop_last" else n
        for start in range(0, stop, batch):
            rows, labels = order[start:start + batch], label_order[start:start + batch]
            _, grads = mlp_loss_and_grads(params, X[rows], y[labels], "relu")
            params = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads, strict=True)]
        losses.append(softmax_cross_entropy(mlp_forward(params, X, "relu"), y))
    return np.array(losses), params


def _hint_loop(case, expected, got):
    args = case.args
    parts = flatten_output(got)
    if len(parts) != len(flatten_output(expected)):
        return "return the losses of every epoch first, then the final network, one pair per layer"
    if _same(got, _loop_variant(*args, "apart")):
        return ("inputs and labels were put in two different orders, so the batches pair "
                "samples with the wrong labels")
    if _same(got, _loop_variant(*args, "once")):
        return "every epoch visits the samples in the same order: each epoch needs a fresh order"
    if _same(got, _loop_variant(*args, "none")):
        return "the samples are visited in their stored order, not in a random order per epoch"
    if _same(got, _loop_variant(*args, "drop_last")):
        return "the last, smaller batch of an epoch is skipped: every sample is used once per epoch"
    losses = to_float_array(parts[0]).ravel()
    if losses.size == int(args[3]) and np.allclose(losses[:1], np.asarray(expected[0])[:1]):
        return "the first epoch is right and later ones are not: what changes from one epoch to the next?"
    return None


register(Check(
    name="sgd_epochs",
    reference=sgd_epochs,
    public_cases=_loop_public,
    hidden_cases=_loop_hidden,
    arg_names=("X", "y", "learning_rate", "epochs", "batch_size", "seed", "W1", "b1", "W2", "b2",
               "W3", "b3"),
    hints=(_hint_loop,),
    kind="implement",
    parts=("losses", "W{l}", "b{l}"),
))


# --- init_loss_by_hand ---------------------------------------------------------------------------
#: The numbers of the by-hand answer, named as in the task.
INIT_BY_HAND_NAMES = ("the loss at initialisation", "the accuracy at initialisation")


def init_loss_by_hand_reference():
    """ln M nats and 1/M for M = 3 balanced classes and logits that are all about equal."""
    return float(np.log(NUM_CLASSES)), 1.0 / NUM_CLASSES


def _by_hand_cases(rng=None):
    return [Case((), "your numbers for three classes")]


def _hint_init_by_hand(case, expected, got):
    try:
        have = np.concatenate([np.ravel(to_float_array(p)) for p in flatten_output(got)])
    except (TypeError, ValueError):
        return None
    if have.size != 2:
        return "return two numbers: the loss, then the accuracy"
    loss, acc = expected
    close = lambda u, v: abs(u - v) <= 5e-3  # noqa: E731
    if close(have[0], loss / np.log(2)):
        return "the loss is in bits; the cross-entropy of the course uses the natural logarithm"
    if close(have[0], -loss):
        return "a probability below one has a negative logarithm, and the loss is its negative"
    if close(have[0], acc) or close(have[0], 1 - acc):
        return ("the loss is the negative log of the probability of the true class, not a "
                "probability")
    if not close(have[1], acc):
        return "with equal logits every class is as likely, so a guess is right as often as chance"
    return None


register(Check(
    name="init_loss_by_hand",
    reference=init_loss_by_hand_reference,
    public_cases=_by_hand_cases,
    hidden_cases=_by_hand_cases,
    arg_names=(),
    hints=(_hint_init_by_hand,),
    judge=numbers_judge(5e-3, INIT_BY_HAND_NAMES),
    kind="by_hand",
    parts=INIT_BY_HAND_NAMES,
))


# --- initial_loss_check: the loss at initialisation, re-run ---------------------------------------

def _init_public():
    X, y = make_disc_in_noise(N_TRAIN, 0, TRAIN_DRAW)
    return [Case((X, y, 0), "the exercise's training split, seed 0")]


def _init_hidden(rng):
    draw, seed = int(rng.integers(10, 100_000)), int(rng.integers(1, 100_000))
    X, y = make_disc_in_noise(N_TRAIN, 0, draw)
    return [Case((X, y, seed), f"another training split, seed {seed}")]


def judge_initial_loss(case: Case, expected, got) -> str | None:
    """The returned loss is the returned network's loss on (X, y), it is within
    :data:`INIT_LOSS_TOLERANCE` of ln M, and no hidden layer starts with identical units."""
    X, y, _ = case.args
    arrays = _parts(got)
    if len(arrays) < 3 or arrays[0].size != 1:
        return "expected the loss at initialisation, a number, followed by the network's weights and offsets"
    loss = float(arrays[0].ravel()[0])
    pairs, problem = _layer_pairs(arrays[1:], X.shape[1], NUM_CLASSES)
    if problem:
        return problem
    actual = _losses(pairs, X, y)
    if not any(abs(loss - v) <= 1e-6 * max(1.0, abs(v)) for v in actual.values()):
        return (f"the returned loss {loss:.4f} is not the mean cross-entropy of the returned "
                f"network on X and y ({actual['relu']:.4f} with ReLU hidden units)")
    for number, (W, _) in enumerate(pairs[:-1], start=1):
        if W.shape[0] > 1 and np.all(np.ptp(W, axis=0) == 0):
            return f"every unit of hidden layer {number} starts with the same weights"
    target = float(np.log(NUM_CLASSES))
    if abs(loss - target) > INIT_LOSS_TOLERANCE:
        return (f"the loss at initialisation is {loss:.3f}, more than {INIT_LOSS_TOLERANCE} away "
                f"from that of a network that has not learned anything yet")
    return None


def _hint_initial(case, expected, got):
    X, y, _ = case.args
    arrays = _parts(got)
    if len(arrays) < 3:
        return None
    pairs, problem = _layer_pairs(arrays[1:], X.shape[1], NUM_CLASSES)
    if problem:
        return None
    loss = float(arrays[0].ravel()[0])
    if any(W.shape[0] > 1 and np.all(np.ptp(W, axis=0) == 0) for W, _ in pairs[:-1]):
        return ("units that start alike get alike gradients and stay alike: the symmetry must "
                "be broken at the start")
    if loss > np.log(NUM_CLASSES) + INIT_LOSS_TOLERANCE:
        return ("the network is confident before it has learned anything: its first logits are "
                "too large, so it starts out confidently wrong on many samples")
    if loss < np.log(NUM_CLASSES) - INIT_LOSS_TOLERANCE:
        return "a network that has not learned cannot beat guessing: is the loss a mean over the samples?"
    return "compute the loss with the network you return, by your own stack"


register(Check(
    name="initial_loss_check",
    reference=lambda *args: Structure("a network whose loss at initialisation is close to "
                                           "that of guessing"),
    public_cases=_init_public,
    hidden_cases=_init_hidden,
    arg_names=("X", "y", "seed"),
    hints=(_hint_initial,),
    judge=judge_initial_loss,
    kind="structure",
    parts=("loss", "W{l}", "b{l}"),
))


# --- overfit_tiny_batch: the second sanity check, re-run ------------------------------------------
def _tiny_public():
    X, y = make_disc_in_noise(N_TRAIN, 0, TRAIN_DRAW)
    return [Case((X[:TINY_BATCH], y[:TINY_BATCH], 0),
                 f"the first {TINY_BATCH} samples of the training split, seed 0")]


def _tiny_hidden(rng):
    X, y = make_disc_in_noise(TINY_BATCH, 0, int(rng.integers(10, 100_000)))
    seed = int(rng.integers(1, 100_000))
    return [Case((X, rng.integers(0, NUM_CLASSES, size=TINY_BATCH), seed),
                 f"{TINY_BATCH} samples with random labels, seed {seed}")]


def judge_overfit(case: Case, expected, got) -> str | None:
    """The returned network's loss on the tiny batch is below :data:`OVERFIT_LOSS`, and the
    returned per-epoch losses fell to about it."""
    X, y, _ = case.args
    arrays = _parts(got)
    if len(arrays) < 3 or arrays[0].ndim != 1 or arrays[0].size < 2:
        return ("expected the losses of the epochs (at least two), followed by the network's "
                "weights and offsets")
    losses = arrays[0]
    pairs, problem = _layer_pairs(arrays[1:], X.shape[1], NUM_CLASSES)
    if problem:
        return problem
    final = min(_losses(pairs, X, y).values())
    if not np.all(np.isfinite(losses)):
        return "the losses are not all finite numbers"
    if final >= OVERFIT_LOSS:
        return (f"the returned network's loss on the tiny batch is {final:.3f}; a working network "
                f"and training loop drive it below {OVERFIT_LOSS}")
    if abs(losses[-1] - final) > OVERFIT_LOSS or not losses[-1] < losses[0]:
        return ("the returned losses do not end at the loss of the returned network, or they "
                "did not fall")
    return None


def _hint_overfit(case, expected, got):
    X, y, _ = case.args
    arrays = _parts(got)
    if len(arrays) < 3 or arrays[0].ndim != 1:
        return None
    pairs, problem = _layer_pairs(arrays[1:], X.shape[1], NUM_CLASSES)
    if problem:
        return None
    final = min(_losses(pairs, X, y).values())
    if final >= OVERFIT_LOSS and arrays[0][-1] < OVERFIT_LOSS:
        return "the returned network is not the trained one"
    if final >= np.log(NUM_CLASSES) - INIT_LOSS_TOLERANCE:
        return "the network did not learn at all: the loss stays at the level of guessing"
    if final >= OVERFIT_LOSS:
        return ("the loss falls but stops well above zero: on so few samples a working network "
                "memorises every label unless something holds it back or it stops too early")
    return None


register(Check(
    name="overfit_tiny_batch",
    reference=lambda *args: Structure("a network that has memorised the tiny batch"),
    public_cases=_tiny_public,
    hidden_cases=_tiny_hidden,
    arg_names=("X", "y", "seed"),
    hints=(_hint_overfit,),
    judge=judge_overfit,
    kind="structure",
    parts=("losses", "W{l}", "b{l}"),
))


# --- train_curves: a training run with a bug only its curves show --------------------------------
#: The version the student is given: its shuffling helper draws a fresh permutation for
#: each array, so inputs and labels part company (the training loss stays at chance level).
BUGGY_TRAIN_CURVES = '''def train_curves_given(X_train, y_train, X_val, y_val, seed):
    rng = np.random.default_rng(seed)
    n, p = X_train.shape
    M = int(max(y_train.max(), y_val.max())) + 1
    W, b = np.zeros((M, p)), np.zeros(M)

    def shuffled(*arrays):
        """The arrays in a fresh random order, for one epoch."""
        return [a[rng.permutation(len(a))] for a in arrays]

    def loss(X, y):
        Z = X @ W.T + b
        Z = Z - Z.max(axis=1, keepdims=True)
        return float(np.mean(np.log(np.exp(Z).sum(axis=1)) - Z[np.arange(len(y)), y]))

    train_loss, val_loss = [], []
    for epoch in range(20):
        X_epoch, y_epoch = shuffled(X_train, y_train)
        for start in range(0, n, 20):
            Xb, yb = X_epoch[start:start + 20], y_epoch[start:start + 20]
            Z = Xb @ W.T + b
            A = np.exp(Z - Z.max(axis=1, keepdims=True))
            A = A / A.sum(axis=1, keepdims=True)
            A[np.arange(len(yb)), yb] -= 1
            W = W - 0.1 * A.T @ Xb / len(yb)
            b = b - 0.1 * A.mean(axis=0)
        train_loss.append(loss(X_train, y_train))
        val_loss.append(loss(X_val, y_val))
    return np.array(train_loss), np.array(val_loss)
'''

#: The repaired run: one permutation per epoch, applied to inputs and labels alike.
TRAIN_CURVES_REPAIRED = BUGGY_TRAIN_CURVES.replace("train_curves_given", "train_curves").replace(
    "        return [a[rng.permutation(len(a))] for a in arrays]",
    "        order = rng.permutation(len(arrays[0]))\n        return [a[order] for a in arrays]")

#: Reference of ``train_curves``: the given run repaired.
train_curves = given_function(TRAIN_CURVES_REPAIRED)


def _curves_case(draw: int, seed: int, label: str) -> Case:
    X_train, y_train = make_disc_in_noise(N_TRAIN, 0, draw)
    X_val, y_val = make_disc_in_noise(N_VAL, 0, draw + 1)
    return Case((X_train, y_train, X_val, y_val, seed), label)


def _curves_public():
    return [_curves_case(TRAIN_DRAW, 0, "the exercise's splits, seed 0")]


def _curves_hidden(rng):
    draw, seed = int(rng.integers(10, 100_000)), int(rng.integers(1, 100_000))
    return [_curves_case(draw, seed, f"other splits, seed {seed}")]


def _hint_curves(case, expected, got):
    """Symptoms of a partial repair (never the cause)."""
    parts = flatten_output(got)
    if len(parts) != 2:
        return "the run returns two curves: the training loss and the validation loss per epoch"
    train = to_float_array(parts[0]).ravel()
    if train.size and np.min(train) > np.log(NUM_CLASSES) - INIT_LOSS_TOLERANCE:
        return "the training loss never falls below the level of a model that ignores its inputs"
    want = np.asarray(expected[0])
    if train.shape == want.shape and abs(train[-1] - want[-1]) < 0.02:
        return "the curves end near the expected ones but differ along the way"
    return None


register(Check(
    name="train_curves",
    reference=train_curves,
    public_cases=_curves_public,
    hidden_cases=_curves_hidden,
    arg_names=("X_train", "y_train", "X_val", "y_val", "seed"),
    hints=(_hint_curves,),
    kind="debugging",
    parts=("train_loss", "val_loss"),
    given=given_function(BUGGY_TRAIN_CURVES),
))


# --- tune_and_train: judged on a test split only the grader draws -----------------------------------
def capstone_case(train_draw: int, test_draw: int, label: str) -> Case:
    """A case of ``tune_and_train``: training and validation splits of the exercise's problem
    (draws ``train_draw`` and ``train_draw + 1``) as arguments, and a test split (draw
    ``test_draw``) as the probe, which never reaches the student's function."""
    X_train, y_train = make_disc_in_noise(N_TRAIN, 0, train_draw)
    X_val, y_val = make_disc_in_noise(N_VAL, 0, train_draw + 1)
    return Case((X_train, y_train, X_val, y_val), label, probe=make_disc_in_noise(N_TEST, 0, test_draw))


def _tune_public():
    return [capstone_case(TRAIN_DRAW, PUBLIC_TEST_DRAW, "the exercise's splits; a test split you never see")]


def _tune_hidden(rng):
    train_draw = 2 * int(rng.integers(10, 50_000))
    test_draw = 2 * int(rng.integers(50_000, 500_000)) + 1
    return [capstone_case(train_draw, test_draw, "new training and validation splits of the same problem")]


def judge_tuned(case: Case, expected, got) -> str | None:
    """The configuration is three positive numbers (learning rate, weight decay, epochs), and
    the network reaches :data:`ACCURACY_FLOOR` on the grader's test split (ReLU or tanh)."""
    X_train = case.args[0]
    X_test, y_test = case.probe
    try:
        arrays = _parts(got)
    except (TypeError, ValueError):
        return "expected the chosen configuration and the network's weights and offsets"
    if len(arrays) < 3 or arrays[0].size != 3:
        return ("expected the chosen configuration, three numbers (learning rate, weight decay, "
                "epochs), followed by the network's weights and offsets")
    config = arrays[0].ravel()
    if not np.all(np.isfinite(config)) or config[0] <= 0 or config[1] < 0 or config[2] < 1:
        return ("the configuration must be a positive learning rate, a weight decay of 0 or "
                "more and at least one epoch")
    pairs, problem = _layer_pairs(arrays[1:], X_train.shape[1], NUM_CLASSES)
    if problem:
        return problem
    best = max(_accuracies(pairs, X_test, y_test).values())
    if best >= ACCURACY_FLOOR:
        return None
    right = int(round(best * len(y_test)))
    return (f"test accuracy {best:.3f} ({right} of {len(y_test)} test samples right) is below the "
            f"floor {ACCURACY_FLOOR:.2f}")


def _hint_tuned(case, expected, got):
    X_train, y_train, X_val, y_val = case.args
    try:
        arrays = _parts(got)
    except (TypeError, ValueError):
        return None
    pairs, problem = _layer_pairs(arrays[1:], X_train.shape[1], NUM_CLASSES)
    if problem or len(arrays) < 3:
        return None
    train = max(_accuracies(pairs, X_train, y_train).values())
    val = max(_accuracies(pairs, X_val, y_val).values())
    if len(pairs) == 1:
        return "a linear model cannot cut out the disc: the problem needs hidden units"
    if train - val > 0.15:
        return ("the network fits its training data far better than the validation data: it "
                "memorised noise; choose the weight decay and the stopping epoch by the "
                "validation split")
    if train < 0.7:
        return "the network underfits: its training accuracy is low too"
    return ("the chosen network does not generalise well enough: search more widely on a "
            "logarithmic scale and keep the epoch with the best validation result")


register(Check(
    name="tune_and_train",
    reference=lambda *args: Structure(
        "a network that classifies the held-back test split well"),
    public_cases=_tune_public,
    hidden_cases=_tune_hidden,
    arg_names=("X_train", "y_train", "X_val", "y_val"),
    hints=(_hint_tuned,),
    judge=judge_tuned,
    kind="structure",
    parts=("config", "W{l}", "b{l}"),
))
