"""Checks for exercise 1, linear regression (book chapter 1).

Graded items (kind, function):

* implement: ``linear_forward``, ``mse``, ``linear_mse_grads``, ``fit_least_squares``;
* by hand: ``linear_by_hand() -> (J, dJ/dW, dJ/db)`` for the chapter's example model
  W = [2, -1], b = 0.5 on its three inputs, with the targets :data:`BY_HAND_Y`;
* debugging: ``minibatch_descent(X, y, learning_rate, epochs, batch_size) -> (W, b,
  losses)``, given with each batch's gradient divided by the size of the data set instead
  of the batch's (:data:`BUGGY_MINIBATCH_DESCENT`; the book prints no minibatch loop, and
  the given code is right for full batches, so the bug is found from its behaviour);
* transfer: ``fit_standardised(X, y, learning_rate, epochs) -> (W, b)``: ``epochs``
  full-batch steps on standardised features, the model mapped back to the original
  units. Graded before convergence against gradient descent's own iterate
  (:func:`descend_at_once`), so the least-squares line scores 0.

Hints name the symptom and the concept, never the code (``tests/test_hints.py``);
the design of the items is in docs/exercise_items.md.
"""

from __future__ import annotations

import numpy as np

from course_nn.grading.by_hand_numbers import linear_by_hand_params
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.core import (
    Case,
    Check,
    flat_numbers,
    given_function,
    numbers_judge,
    register,
)
from course_nn.grading.variant import PARAMS
from course_nn.linear import (
    fit_least_squares,
    linear_forward,
    linear_mse_grads,
    mse,
)


def _regression_problem(rng: np.random.Generator, n: int, p: int, k: int | None):
    X = rng.normal(size=(n, p))
    W = rng.normal(size=(p,) if k is None else (k, p))
    b = rng.normal() if k is None else rng.normal(size=k)
    return X, W, np.asarray(b)


def _random_shapes(rng: np.random.Generator, count: int):
    """(n, p, k) triples including the edge cases n = 1, p = 1 and one or several outputs."""
    fixed = [(1, 1, None), (1, 3, 2), (5, 1, None), (4, 2, 1)]
    drawn = [
        (int(rng.integers(1, 40)), int(rng.integers(1, 8)), rng.choice([None, 1, 2, 3]))
        for _ in range(count)
    ]
    return fixed + drawn


# --- linear_forward -----------------------------------------------------------------
def _linear_forward_public():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, -1.0]])
    return [
        Case((X, np.array([0.5, -1.0]), np.array(2.0)), "one output: W (p,), scalar b"),
        Case((X, np.array([[1.0, 0.0], [1.0, 1.0]]), np.array([0.0, -1.0])),
             "two outputs: W (2, p), b (2,)"),
    ]


def _linear_forward_hidden(rng):
    return [Case(_regression_problem(rng, n, p, k), f"n={n}, p={p}, k={k}")
            for n, p, k in _random_shapes(rng, 8)]


def _hint_transposed_weights(case, expected, got):
    X, W, b = case.args
    if W.ndim == 2 and W.shape[0] != W.shape[1]:
        return None
    try:
        alt = X @ W + b
    except ValueError:
        return None
    g = to_float_array(got)
    if g.shape == alt.shape and np.allclose(g, alt):
        return ("the weight matrix is applied transposed: each row of W holds the weights of "
                "one output, one weight per input feature")
    return None


def _hint_missing_bias(case, expected, got):
    X, W, b = case.args
    g = to_float_array(got)
    if g.shape == np.shape(expected) and np.allclose(g, X @ W.T):
        return "the offset is missing: every prediction of an output is shifted by its bias"
    return None


register(Check(
    name="linear_forward",
    reference=linear_forward,
    public_cases=_linear_forward_public,
    hidden_cases=_linear_forward_hidden,
    arg_names=("X", "W", "b"),
    hints=(_hint_missing_bias, _hint_transposed_weights),
    kind="implement",
))


# --- mse ----------------------------------------------------------------------------
def _mse_public():
    return [
        Case((np.array([1.0, 2.0, 3.0]), np.array([1.0, 2.0, 5.0])), "one wrong prediction"),
        Case((np.array([[1.0, 0.0], [2.0, 2.0]]), np.array([[0.0, 0.0], [2.0, 4.0]])),
             "two outputs"),
        Case((np.array([0.5, -0.5]), np.array([0.5, -0.5])), "perfect predictions"),
    ]


def _mse_hidden(rng):
    cases = []
    for n, _, k in _random_shapes(rng, 6):
        shape = (n,) if k is None else (n, k)
        cases.append(Case((rng.normal(size=shape), rng.normal(size=shape)), f"shape {shape}"))
    y = rng.normal(size=7)
    cases.append(Case((y, y.copy()), "perfect predictions"))
    cases.append(Case((1e6 * rng.normal(size=5), 1e6 * rng.normal(size=5)), "large values"))
    return cases


def _hint_mse_sum(case, expected, got):
    y_hat, y = case.args
    if np.isclose(float(to_float_array(got)), np.sum((y_hat - y) ** 2)):
        return "you summed the squared errors; the loss is their mean"
    if np.isclose(float(to_float_array(got)), np.mean(np.abs(y_hat - y))):
        return "you took the mean absolute error; square the errors instead"
    return None


register(Check(
    name="mse",
    reference=mse,
    public_cases=_mse_public,
    hidden_cases=_mse_hidden,
    arg_names=("y_hat", "y"),
    hints=(_hint_mse_sum,),
    kind="implement",
))


# --- linear_mse_grads ---------------------------------------------------------------
def _grads_public():
    X = np.array([[1.0, 2.0], [3.0, 4.0], [0.0, -1.0]])
    return [
        Case((X, np.array([1.0, 0.0, 2.0]), np.array([0.5, -1.0]), np.array(2.0)), "one output"),
        Case((X, np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]]),
              np.array([[1.0, 0.0], [0.0, 1.0]]), np.array([0.0, 1.0])), "two outputs"),
    ]


def _grads_hidden(rng):
    cases = []
    for n, p, k in _random_shapes(rng, 6):
        X, W, b = _regression_problem(rng, n, p, k)
        y = rng.normal(size=(n,) if k is None else (n, k))
        cases.append(Case((X, y, W, b), f"n={n}, p={p}, k={k}"))
    return cases


def _hint_grad_sign(case, expected, got):
    parts = [to_float_array(g) for g in flatten_output(got)]
    want = [to_float_array(e) for e in flatten_output(expected)]
    if len(parts) == 2 and all(p.shape == w.shape and np.allclose(p, -w)
                               for p, w in zip(parts, want, strict=True)):
        return ("the sign is flipped: the gradient points towards larger cost, so it grows "
                "with prediction minus target, not target minus prediction")
    n = np.size(case.args[1])
    for factor, advice in [
        (n / 2, "the gradient is too large by a constant factor: a mean of squares contributes "
                "the square's factor and the division by the number of entries"),
        (n, "the gradient was summed over the entries: the cost is a mean, so its gradient "
            "is divided by the number of entries too"),
        (0.5, "the gradient is half as large as it should be: the derivative of a square "
              "carries the exponent as a factor"),
    ]:
        if len(parts) == 2 and all(p.shape == w.shape and np.allclose(p, w * factor)
                                   for p, w in zip(parts, want, strict=True)):
            return advice
    return None


register(Check(
    name="linear_mse_grads",
    reference=linear_mse_grads,
    public_cases=_grads_public,
    hidden_cases=_grads_hidden,
    arg_names=("X", "y", "W", "b"),
    hints=(_hint_grad_sign,),
    kind="implement",
    parts=("dW", "db"),
))


# --- fit_least_squares --------------------------------------------------------------
def _fit_public():
    X = np.array([[0.0], [1.0], [2.0], [3.0]])
    return [
        Case((X, 2.0 * X[:, 0] + 1.0), "points on the line y = 2x + 1"),
        Case((X, np.array([1.0, 2.0, 2.0, 4.0])), "noisy points"),
    ]


def _fit_hidden(rng):
    cases = []
    for _ in range(6):
        n, p = int(rng.integers(5, 60)), int(rng.integers(1, 6))
        X = rng.normal(size=(n + p, p))  # more samples than parameters: a unique solution
        y = X @ rng.normal(size=p) + rng.normal() + 0.1 * rng.normal(size=n + p)
        cases.append(Case((X, y), f"n={n + p}, p={p}"))
    X = rng.normal(size=(30, 3))
    cases.append(Case((X, X @ np.array([1.0, -2.0, 0.5]) - 3.0), "noise-free data"))
    return cases


def _hint_fit_no_intercept(case, expected, got):
    X, y = case.args
    parts = flatten_output(got)
    if len(parts) != 2:
        return "return two things, the weights and the offset"
    W_no_b, *_ = np.linalg.lstsq(X, y, rcond=None)
    if np.allclose(to_float_array(parts[0]).ravel(), W_no_b):
        return ("the offset was not fitted, so the line is forced through the origin: the "
                "offset is one more parameter, whose input is always one")
    return None


register(Check(
    name="fit_least_squares",
    reference=fit_least_squares,
    public_cases=_fit_public,
    hidden_cases=_fit_hidden,
    arg_names=("X", "y"),
    hints=(_hint_fit_no_intercept,),
    rtol=1e-5,
    atol=1e-7,
    kind="implement",
    parts=("W", "b"),
))


# --- linear_by_hand: the chapter's example worked out on paper ------------------------
#: The chapter's example model and inputs, and the targets of the by-hand task: the
#: numbers of variant 0 (docs/exercise_items.md, "Numbers of one's own").
BY_HAND_X = np.array([[1.0, 3.0], [0.0, 0.0], [2.0, 1.0]])
BY_HAND_W = np.array([2.0, -1.0])
BY_HAND_B = 0.5
BY_HAND_Y = np.array([1.0, 0.0, 2.0])


def linear_by_hand_reference(X=BY_HAND_X, W=BY_HAND_W, b=BY_HAND_B, y=BY_HAND_Y):
    """(J, dJ/dW, dJ/db) of a variant's example (default: the book's): the mean squared
    error and its gradient."""
    X, W, y = (np.asarray(v, dtype=np.float64) for v in (X, W, y))
    y_hat = linear_forward(X, W, float(b))
    dW, db = linear_mse_grads(X, y, W, float(b))
    return mse(y_hat, y), dW, float(db)


#: The numbers of the by-hand answer, named as in the task.
LINEAR_BY_HAND_NAMES = ("J", "dJ/dW1", "dJ/dW2", "dJ/db")


def _by_hand_cases():
    return [Case((), "your numbers for the example of the task")]


def _by_hand_numbers(case):
    """The variant's (X, W, b, y) a case carries (the book's when it carries none)."""
    params = case.probe if case.probe is not None else linear_by_hand_params(0)
    X, W, y = (np.asarray(params[k], dtype=np.float64) for k in ("X", "W", "y"))
    return X, W, float(params["b"]), y


def _parts(got, sizes):
    """The numbers of the student's answer cut into parts of the given sizes, or None."""
    try:
        numbers = flat_numbers(got)
    except (TypeError, ValueError):
        return None
    if numbers.size != sum(sizes):
        return None
    return np.split(numbers, np.cumsum(sizes)[:-1])


def _hint_linear_by_hand(case, expected, got):
    parts = _parts(got, (1, 2, 1))
    if parts is None:
        return ("return three things: the cost, its derivative with respect to each of the "
                "two weights, and its derivative with respect to the offset")
    J, dW, db = parts[0][0], parts[1], parts[2][0]
    J_ref, dW_ref, db_ref = expected
    X, W, b, y = _by_hand_numbers(case)
    n = len(y)
    close = lambda a, b: bool(np.allclose(a, b, rtol=0, atol=2e-3))  # noqa: E731
    if not close(J, J_ref):
        if close(J, n * J_ref):
            return "the cost is the mean of the squared errors, not their sum"
        if close(J, np.mean(np.abs(linear_forward(X, W, b) - y))):
            return "that is the mean absolute error: the cost squares each error"
        return ("the cost is off: work out each prediction first (both weights times the "
                "features, plus the offset), then each error")
    for factor, advice in [
        (-1.0, "the derivatives have the wrong sign: each error is prediction minus target"),
        (0.5, "the derivatives are half as large as they should be: the square brings a factor"),
        (float(n), "the derivatives are those of the sum of squared errors: the cost is a mean"),
    ]:
        if close(dW, factor * dW_ref) and close(db, factor * db_ref):
            return advice
    if close(dW, dW_ref) and not close(db, db_ref):
        return ("the weights' derivatives are right but the offset's is not: the offset's "
                "input is one for every sample")
    return ("a derivative is off: by the chain rule each sample contributes its error's "
            "derivative times the input that multiplies the parameter")


register(Check(
    name="linear_by_hand",
    reference=linear_by_hand_reference,
    public_cases=_by_hand_cases,
    hidden_cases=lambda rng: _by_hand_cases(),
    arg_names=(),
    hints=(_hint_linear_by_hand,),
    judge=numbers_judge(2e-3, LINEAR_BY_HAND_NAMES),  # three decimals typed by hand, any grouping
    kind="by_hand",
    parts=LINEAR_BY_HAND_NAMES,
    variant_params=linear_by_hand_params,  # numbers of one's own
    variant_key=PARAMS["linear_by_hand"].assignment,
))


# --- minibatch_descent: debugging the given loop ------------------------------------------
#: The loop handed out in the exercise, with its bug: each batch's gradient is divided by the
#: size of the whole data set instead of the batch's, so a step is len(batch)/n of what the
#: batch's mean squared error asks for. Right for full batches (and n = 1), which is why its
#: author trusted it; the book prints no minibatch loop, and no text names the bug.
BUGGY_MINIBATCH_DESCENT = '''def minibatch_descent(X, y, learning_rate, epochs, batch_size):
    """Minibatch gradient descent on the mean squared error from W = 0, b = 0.

    Each epoch visits the rows in order, batch_size consecutive rows at a time (the last
    batch shorter when batch_size does not divide n), one step per batch.
    Returns W (p,), b (a float) and the losses: the cost on all the data before the first
    epoch and after every epoch.
    """
    n, p = X.shape
    W, b = np.zeros(p), 0.0
    losses = [np.mean((X @ W + b - y) ** 2)]
    for epoch in range(epochs):
        for start in range(0, n, batch_size):
            X_batch, y_batch = X[start:start + batch_size], y[start:start + batch_size]
            delta = 2 * (X_batch @ W + b - y_batch) / n
            W = W - learning_rate * (delta @ X_batch)
            b = b - learning_rate * delta.sum()
        losses.append(np.mean((X @ W + b - y) ** 2))
    return W, b, np.array(losses)
'''


def _batch_variant(X, y, rate, epochs, batch_size, divide_by="batch", sign=1.0,
                   update_b=True, keep_last=True, record="epoch"):
    """The minibatch loop with a configurable mistake (the hints' symptoms).

    ``divide_by``: "batch" (right), "n", "batch_size" (right except the shorter last batch)
    or "none"; ``keep_last=False`` skips the shorter last batch; ``record`` "epoch" (right)
    or "step" (a cost after every step)."""
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n = len(y)
    size = max(int(batch_size), 1)
    W, b = np.zeros(X.shape[1]), 0.0
    cost = lambda: float(np.mean((X @ W + b - y) ** 2))  # noqa: E731
    losses = [cost()]
    starts = range(0, n - size + 1, size) if not keep_last else range(0, n, size)
    with np.errstate(all="ignore"):
        for _ in range(int(epochs)):
            for start in starts:
                Xb, yb = X[start:start + size], y[start:start + size]
                scale = {"batch": len(yb), "n": n, "batch_size": size, "none": 1}[divide_by]
                delta = 2 * (Xb @ W + b - yb) / scale
                W = W - sign * rate * (delta @ Xb)
                if update_b:
                    b = b - sign * rate * delta.sum()
                if record == "step":
                    losses.append(cost())
            if record == "epoch":
                losses.append(cost())
    return W, b, np.array(losses)


def minibatch_descent_reference(X, y, learning_rate, epochs, batch_size):
    """(W, b, losses) of minibatch gradient descent from zeros: rows in order, one step per
    batch along the gradient of the batch's mean squared error, the cost on all the data
    before the first epoch and after each."""
    return _batch_variant(X, y, float(learning_rate), int(epochs), int(batch_size))


def _mb_public():
    X = np.array([[1.0, 2.0], [2.0, 0.0], [0.0, 1.0], [3.0, 1.0], [1.0, 1.0], [2.0, 2.0],
                  [0.5, 1.5]])
    y = np.array([3.0, 2.0, 1.0, 5.0, 2.5, 4.0, 2.0])
    return [
        Case((X[:6], y[:6], 0.05, 3, 2), "six samples in batches of two, three epochs"),
        Case((X, y, 0.05, 5, 3), "seven samples in batches of three (the last of one), "
                                 "five epochs"),
    ]


def _mb_hidden(rng):
    cases = [Case((rng.normal(size=(2, 2)), rng.normal(size=2), 0.05, 4, 1),
                  "two samples, one at a time")]
    for _ in range(5):
        n, p = int(rng.integers(5, 60)), int(rng.integers(1, 4))
        X = rng.normal(size=(n, p))
        y = X @ rng.normal(size=p) + rng.normal() + 0.3 * rng.normal(size=n)
        size = int(rng.integers(1, n))  # smaller than n: a full batch is plain descent
        rate, epochs = float(rng.choice([0.01, 0.02, 0.05])), int(rng.integers(1, 8))
        cases.append(Case((X, y, rate, epochs, size),
                          f"n={n}, p={p}, batches of {size}, rate {rate}, {epochs} epochs"))
    return cases


def _hint_minibatch_descent(case, expected, got):
    """Symptoms of a partial repair (never the cause: the student debugs)."""
    X, y, rate, epochs, size = case.args
    parts = flatten_output(got)
    if len(parts) != 3:
        return "the task asks for three things: the weights, the offset and the list of losses"
    if len(to_float_array(parts[2]).ravel()) != int(epochs) + 1:
        return ("the list of losses has the wrong length: the task asks for the cost before "
                "the first epoch and once after every epoch")
    for variant, symptom in [
        (dict(sign=-1.0), "the cost grows from epoch to epoch instead of falling"),
        (dict(update_b=False), "the offset never moves from its starting value"),
        (dict(divide_by="none"), "the steps grow with the size of the batch: the same rate "
                                 "that suits a batch of one is far too large for a batch of ten"),
        (dict(divide_by="batch_size"), "right when the batch size divides the number of "
                                       "samples, wrong when the last batch of an epoch is "
                                       "shorter"),
        (dict(keep_last=False), "the last rows of the data never move the parameters when "
                                "the batch size does not divide the number of samples"),
    ]:
        if _same_parts(got, _batch_variant(X, y, rate, epochs, size, **variant)):
            return symptom
    return None


def _same_parts(got, alternative) -> bool:
    try:
        have = [to_float_array(g) for g in flatten_output(got)]
    except (TypeError, ValueError):
        return False
    want = [np.asarray(a, dtype=np.float64) for a in flatten_output(alternative)]
    return len(have) == len(want) and all(
        h.size == w.size and np.allclose(h.ravel(), w.ravel(), rtol=1e-6, atol=1e-8,
                                         equal_nan=True)
        for h, w in zip(have, want, strict=True))


register(Check(
    name="minibatch_descent",
    reference=minibatch_descent_reference,
    public_cases=_mb_public,
    hidden_cases=_mb_hidden,
    arg_names=("X", "y", "learning_rate", "epochs", "batch_size"),
    hints=(_hint_minibatch_descent,),
    kind="debugging",
    parts=("W", "b", "losses"),
    given=given_function(BUGGY_MINIBATCH_DESCENT),
))


# --- fit_standardised: transfer --------------------------------------------------------
def fit_standardised_reference(X, y, learning_rate, epochs):
    r"""Gradient descent on :math:`x'_j = (x_j - \mu_j)/s_j`, mapped back to the original units.

    The standardised model :math:`\hat y = \sum_j W'_j (x_j - \mu_j)/s_j + b'` is the model
    :math:`W_j = W'_j / s_j`, :math:`b = b' - \sum_j W'_j \mu_j / s_j` in the original units.
    """
    X = np.asarray(X, dtype=np.float64)
    mu, s = X.mean(axis=0), X.std(axis=0)
    W, b = descend_at_once((X - mu) / s, y, float(learning_rate), int(epochs))
    return W / s, float(b - np.sum(W * mu / s))


def descend_at_once(X, y, learning_rate: float, epochs: int):
    r"""The ``(W, b)`` of :func:`course_nn.linear.gradient_descent` from zeros, without the loop.

    The grader computes this reference for every student's fresh hidden cases (4 cases,
    graded before convergence: 3 to 12 epochs; it once graded 1,500), so it must cost
    microseconds whatever the number of epochs, not a loop of epochs. On the squared
    error one epoch is an affine map of :math:`\theta = (W, b)`: with the design matrix
    :math:`D = [X, \mathbf 1]` of shape (n, p+1), targets ``y`` of shape (n,) or (n, k)
    and :math:`N` = ``y.size``,

    .. math:: \theta \leftarrow \theta - \alpha \tfrac{2}{N} D^\top (D\theta - y)
              = A\theta + C, \quad A = I - \alpha \tfrac{2}{N} D^\top D,
              \quad C = \alpha \tfrac{2}{N} D^\top y.

    ``epochs`` epochs from :math:`\theta = 0` are the top-right block of the
    ``epochs``-th power of the augmented matrix :math:`M = [[A, C], [0, I_k]]`
    (``numpy.linalg.matrix_power``: about :math:`2\log_2` ``epochs`` products of
    (p+1+k)-square matrices). The same numbers up to rounding (tested against
    ``gradient_descent``, relative 1e-9); a divergent rate overflows here as there, and
    no epochs (or a negative count, an empty loop there) leave the zeros.

    Returns ``W`` of shape (p,) or (k, p) and ``b`` of shape () or (k,).
    """
    X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    Y = y.reshape(len(y), -1)  # (n, k)
    n, p = X.shape
    k = Y.shape[1]
    D = np.hstack([X, np.ones((n, 1))])
    rate = learning_rate * 2.0 / y.size
    M = np.eye(p + 1 + k)
    M[: p + 1, : p + 1] -= rate * D.T @ D
    M[: p + 1, p + 1 :] = rate * D.T @ Y
    with np.errstate(over="ignore", invalid="ignore"):
        theta = np.linalg.matrix_power(M, max(epochs, 0))[: p + 1, p + 1 :]  # (p+1, k)
    if y.ndim == 1:
        return theta[:p, 0], theta[p, 0]
    return theta[:p].T, theta[p]


def _features_of_mixed_scale(rng, n, scales, offsets):
    X = offsets + scales * rng.normal(size=(n, len(scales)))
    W = rng.normal(size=len(scales)) / scales
    return X, X @ W + rng.normal() + 0.1 * rng.normal(size=n)


def _standardised_public():
    rng = np.random.default_rng(1)
    X, y = _features_of_mixed_scale(rng, 30, np.array([20.0, 1.0]), np.array([100.0, 3.0]))
    return [
        Case((np.round(X, 1), np.round(y, 2), 0.1, 10),
             "floor area (around 100) and rooms (around 3), ten steps"),
        Case((np.array([[1000.0], [2000.0], [3000.0], [4000.0]]),
              np.array([1.0, 2.0, 2.5, 4.0]), 0.1, 8), "one feature in the thousands, eight steps"),
    ]


def _standardised_hidden(rng):
    """Few steps at a moderate rate: the iterate is still measurably short of the
    least-squares line (at least 1e-3 relative), so the closed form scores 0."""
    cases = []
    for _ in range(4):
        p = int(rng.integers(1, 4))
        scales = 10.0 ** rng.integers(-2, 4, size=p)
        offsets = rng.choice([0.0, 50.0, 2000.0], size=p)
        n = int(rng.integers(15, 60))
        X, y = _features_of_mixed_scale(rng, n, scales, offsets)
        rate, epochs = float(rng.choice([0.05, 0.1])), int(rng.integers(3, 13))
        cases.append(Case((X, y, rate, epochs),
                          f"n={n}, feature scales {scales.tolist()}, rate {rate}, {epochs} steps"))
    return cases


def _standardised_with(X, y, rate, epochs, ddof):
    X = np.asarray(X, dtype=np.float64)
    mu, s = X.mean(axis=0), X.std(axis=0, ddof=ddof)
    W, b = descend_at_once((X - mu) / s, y, float(rate), int(epochs))
    return W / s, float(b - np.sum(W * mu / s))


_STD_RTOL, _STD_ATOL = 1e-5, 1e-8


def _standardised_judge(case, expected, got):
    """The reference's iterate, or the same descent with the sample standard deviation
    (divided by n - 1; both conventions standardise), to the check's tolerance."""
    from course_nn.grading.compare import compare_outputs

    problem = compare_outputs(expected, got, rtol=_STD_RTOL, atol=_STD_ATOL, names=("W", "b"))
    if problem is None:
        return None
    X, y, rate, epochs = case.args
    if len(y) > 1 and compare_outputs(_standardised_with(X, y, rate, epochs, 1), got,
                                      rtol=_STD_RTOL, atol=_STD_ATOL) is None:
        return None
    return problem


def _hint_standardised(case, expected, got):
    X, y, rate, epochs = case.args
    parts = _parts(got, (X.shape[1], 1))
    if parts is None:
        return "return two things: one weight per feature and the offset"
    W, b = parts[0], parts[1][0]
    with np.errstate(all="ignore"):
        spread = float(np.abs(X @ W + b - np.mean(y)).max())
    if not np.isfinite(spread) or spread > 1e3 * (np.ptp(y) + 1.0):
        return ("the steps diverged: on the raw features one learning rate cannot suit a "
                "feature measured in thousands and one measured in units at once")
    close = lambda a, c: bool(np.allclose(a, c, rtol=1e-4, atol=1e-8))  # noqa: E731
    W_ls, b_ls = fit_least_squares(X, y)
    if close(W, W_ls) and close(b, b_ls):
        return ("this is the least-squares line, which gradient descent only approaches: the "
                "task asks for the model after the given number of steps, not at convergence")
    mu, s = X.mean(axis=0), X.std(axis=0)
    W_std = expected[0] * s
    b_std = expected[1] + np.sum(W_std * mu / s)
    if close(W, W_std) and close(b, b_std):
        return ("these are the standardised model's parameters: a weight there is the effect of "
                "one standard deviation of its feature, not of one unit")
    if close(W, expected[0]) and close(b, b_std):
        return ("the weights are in the original units but the offset is not: the features' "
                "means shift the offset when the model is written in the original units")
    if close(W, W_std * s):
        return ("the weights were multiplied by the features' scales instead of divided: a "
                "feature measured in larger units needs a smaller weight")
    return ("not the standardised descent's model in the original units: standardise with the "
            "training features' means and scales, take the given number of full-batch steps "
            "from zero, then express the model in the original units")


register(Check(
    name="fit_standardised",
    reference=fit_standardised_reference,
    public_cases=_standardised_public,
    hidden_cases=_standardised_hidden,
    arg_names=("X", "y", "learning_rate", "epochs"),
    hints=(_hint_standardised,),
    rtol=_STD_RTOL,
    atol=_STD_ATOL,
    judge=_standardised_judge,
    kind="transfer",
    parts=("W", "b"),
))
