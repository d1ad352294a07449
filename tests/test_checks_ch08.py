"""Exercise 8's graded items (the capstone): typical wrong answers score 0 with a hint that
names the mistake, right answers written differently score full marks, in both grading
paths (``tests/exercise_items.py``); and the judges of the re-run items (the sanity checks
and the tuned network, judged on a test split only the grader draws) accept and refuse
what they should.

Every answer is the whole source of one solution cell; most are the instructor's cell
with one typical mistake put in (:func:`mistake`), so each variant differs from the
solution in exactly the way its name says.
"""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.datasets.workflow import load_capstone_data
from course_nn.grading import REGISTRY
from course_nn.grading.checks.ch08 import (
    ACCURACY_FLOOR,
    BUGGY_TRAIN_CURVES,
    INIT_LOSS_TOLERANCE,
    PUBLIC_TEST_DRAW,
    capstone_case,
    judge_initial_loss,
    judge_overfit,
    judge_tuned,
    train_curves,
)
from course_nn.train import train_mlp, train_softmax_regression
from tests.exercise_items import (
    GIVEN,
    Item,
    Wrong,
    assert_outcomes,
    assert_table,
    assert_written_answers_private,
    cell_source,
    hardened_scores,
    hint_problems,
    instructor,
    likely_bug,
    nbgrader_meta,
    notebook_scores,
)
from tests.notebooks import exercise_path, read

pytestmark = [pytest.mark.ch8, pytest.mark.grading]

A = "ex08_capstone"
MARKER_LINES = ("### BEGIN SOLUTION", "### END SOLUTION")


def solution(cell_id: str) -> str:
    """The instructor's solution cell ``cell_id`` without nbgrader's markers."""
    for cell in instructor(A)["cells"]:
        meta = nbgrader_meta(cell) or {}
        if meta.get("grade_id") == cell_id and meta.get("solution"):
            lines = cell_source(cell).splitlines()
            return "\n".join(line for line in lines if line.strip() not in MARKER_LINES)
    raise KeyError(cell_id)


def mistake(cell_id: str, *edits: tuple[str, str]) -> str:
    """The solution cell with each (old, new) replacement made; each old text must occur."""
    source = solution(cell_id)
    for old, new in edits:
        assert old in source, f"{cell_id}: {old!r} not in the solution"
        source = source.replace(old, new)
    return source


# --- answers ------------------------------------------------------------------------------
AFFINE_EINSUM = '''class Affine:
    def __init__(self, W, b):
        self.W, self.b = np.asarray(W, dtype=float), np.asarray(b, dtype=float)

    def forward(self, X):
        self.cache = np.array(X, dtype=float)
        return np.einsum("ni,oi->no", self.cache, self.W) + self.b

    def backward(self, dY):
        self.dW = np.einsum("no,ni->oi", dY, self.cache)
        self.db = np.einsum("no->o", dY)
        return np.einsum("no,oi->ni", dY, self.W)


def affine_layer(W, b, X, dY):
    layer = Affine(W, b)
    Y = layer.forward(X)
    return Y, layer.backward(dY), layer.dW, layer.db'''

RELU_MULTIPLY = '''class ReLU:
    def forward(self, Z):
        self.Z = np.array(Z, dtype=float)
        return np.maximum(self.Z, 0.0)

    def backward(self, dQ):
        return dQ * (self.Z > 0)


def relu_layer(Z, dY):
    unit = ReLU()
    Q = unit.forward(Z)
    dZ = unit.backward(dY)
    return Q, dZ'''

CE_SCIPY = '''from scipy.special import logsumexp, softmax


class SoftmaxCrossEntropy:
    def forward(self, Z, y):
        self.A = softmax(Z, axis=1)
        self.Y = np.eye(Z.shape[1])[y]
        return float(np.mean(logsumexp(Z, axis=1) - Z[np.arange(len(y)), y]))

    def backward(self):
        return (self.A - self.Y) / len(self.Y)


def softmax_ce_layer(Z, y):
    head = SoftmaxCrossEntropy()
    return head.forward(np.asarray(Z, dtype=float), y), head.backward()'''

NETWORK_ITER = '''class Sequential:
    def __init__(self, layers):
        self.layers = layers

    def forward(self, X):
        out = X
        for layer in self.layers:
            out = layer.forward(out)
        return out

    def backward(self, dOut):
        for layer in self.layers[::-1]:
            dOut = layer.backward(dOut)
        return dOut


def network_loss_and_grads(X, y, *arrays):
    affines = [Affine(arrays[k], arrays[k + 1]) for k in range(0, len(arrays), 2)]
    layers = [affines[0]]
    for affine in affines[1:]:
        layers += [ReLU(), affine]
    net, head = Sequential(layers), SoftmaxCrossEntropy()
    loss = head.forward(net.forward(X), y)
    net.backward(head.backward())
    return loss, [(a.dW, a.db) for a in affines]'''

ADAM_TORCH_FORM = '''def adam_update(theta, grad, m, v, t, learning_rate, beta1, beta2, eps):
    m = beta1 * m + (1 - beta1) * grad
    v = beta2 * v + (1 - beta2) * grad * grad
    denom = np.sqrt(v) / np.sqrt(1 - beta2 ** t) + eps
    return theta - (learning_rate / (1 - beta1 ** t)) * m / denom, m, v'''

LOOP_BATCH_LIST = '''def sgd_epochs(X, y, learning_rate, epochs, batch_size, seed, *arrays):
    rng = np.random.default_rng(seed)
    net = [(arrays[k].copy(), arrays[k + 1].copy()) for k in range(0, len(arrays), 2)]
    history = np.zeros(epochs)
    for epoch in range(epochs):
        order = rng.permutation(len(X))
        batches = [order[i:i + batch_size] for i in range(0, len(X), batch_size)]
        for rows in batches:
            grads = network_loss_and_grads(X[rows], y[rows], *flat(net))[1]
            net = [(W - learning_rate * gW, b - learning_rate * gb)
                   for (W, b), (gW, gb) in zip(net, grads)]
        history[epoch] = network_loss_and_grads(X, y, *flat(net))[0]
    return history, net'''

INIT_ZERO_LAST = '''def init_network(sizes, rng):
    params = [(rng.normal(0.0, np.sqrt(2.0 / n_in), size=(n_out, n_in)), np.zeros(n_out))
              for n_in, n_out in zip(sizes[:-2], sizes[1:-1])]
    return params + [(np.zeros((sizes[-1], sizes[-2])), np.zeros(sizes[-1]))]


def initial_loss_check(X, y, seed):
    params = init_network([X.shape[1], 16, 16, 3], np.random.default_rng(seed))
    loss, _ = network_loss_and_grads(X, y, *flat(params))
    return loss, params'''

OVERFIT_MOMENTUM = '''def overfit_tiny_batch(X, y, seed):
    params = init_network([X.shape[1], 32, 3], np.random.default_rng(seed))
    velocity = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
    losses = []
    for _ in range(400):
        loss, grads = network_loss_and_grads(X, y, *flat(params))
        losses.append(loss)
        moved = [momentum_update(W, dW, vW, 0.1, 0.9) + momentum_update(b, db, vb, 0.1, 0.9)
                 for (W, b), (dW, db), (vW, vb) in zip(params, grads, velocity)]
        params = [(W, b) for W, _, b, _ in moved]
        velocity = [(vW, vb) for _, vW, _, vb in moved]
    losses.append(network_loss_and_grads(X, y, *flat(params))[0])
    return losses, params'''


MOMENTUM_NUMPY_CALLS = '''def momentum_update(theta, grad, velocity, learning_rate, momentum):
    new_velocity = np.add(np.multiply(momentum, velocity), grad)
    return np.subtract(theta, learning_rate * new_velocity), new_velocity'''

TUNE_ADAM = '''def tune_and_train(X_train, y_train, X_val, y_val):
    best = None
    for learning_rate in (0.003, 0.01, 0.03):
        for l2 in (0.01, 0.03, 0.1):
            params = init_network([X_train.shape[1], 32, 3], np.random.default_rng(1))
            m = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
            v = [(np.zeros_like(W), np.zeros_like(b)) for W, b in params]
            for t in range(1, 121):
                _, grads = network_loss_and_grads(X_train, y_train, *flat(params))
                new = []
                for k, ((W, b), (dW, db)) in enumerate(zip(params, grads)):
                    W, mW, vW = adam_update(W, dW + l2 * W, m[k][0], v[k][0], t, learning_rate,
                                            0.9, 0.999, 1e-8)
                    b, mb, vb = adam_update(b, db, m[k][1], v[k][1], t, learning_rate,
                                            0.9, 0.999, 1e-8)
                    new.append((W, b))
                    m[k], v[k] = (mW, mb), (vW, vb)
                params = new
                val = network_loss_and_grads(X_val, y_val, *flat(params))[0]
                if best is None or val < best[0]:
                    best = (val, (learning_rate, l2, t), params)
    return best[1], best[2]'''

TUNE_BY_TRAINING = mistake(
    "tune_and_train",
    ("            epoch = int(np.nanargmin(val_losses))\n"
     "            if best is None or val_losses[epoch] < best[0]:\n"
     "                best = (val_losses[epoch], (learning_rate, l2, epoch + 1), kept[epoch])",
     "            epoch = len(kept) - 1\n"
     "            train_loss = network_loss_and_grads(X_train, y_train, *flat(kept[epoch]))[0]\n"
     "            if best is None or train_loss < best[0]:\n"
     "                best = (train_loss, (learning_rate, l2, epoch + 1), kept[epoch])"),
    ("for l2 in (0.003, 0.01, 0.03)", "for l2 in (0.0, 0.003, 0.01)"),
)

TUNE_LINEAR = mistake(
    "tune_and_train",
    ("init_network([X_train.shape[1], 32, 3], np.random.default_rng(0))",
     "[(np.zeros((3, X_train.shape[1])), np.zeros(3))]"),
)


def _curves_inline() -> str:
    return mistake("train_curves", (
        "        X_epoch, y_epoch = shuffled(X_train, y_train)",
        "        order = rng.permutation(n)\n        X_epoch, y_epoch = X_train[order], y_train[order]"))


ITEMS = [
    Item("affine_layer", points=2, kind="implement", wrong=[
        Wrong(mistake("affine_layer", ("self.dW = dY.T @ self.X", "self.dW = self.X.T @ dY")),
              hint_contains="weight gradient is transposed"),
        Wrong(mistake("affine_layer", ("self.db = dY.sum(axis=0)", "self.db = dY.mean(axis=0)")),
              hint_contains="averaged over the samples"),
        Wrong(mistake("affine_layer", (
            "self.X = np.array(X, dtype=float)  # the backward pass needs the input\n"
            "        return self.X @ self.W.T + self.b",
            "self.X = np.array(X, dtype=float) @ self.W.T + self.b\n        return self.X")),
              hint_contains="computed from the layer's output"),
    ], right=[solution("affine_layer"), AFFINE_EINSUM]),
    Item("relu_layer", points=1, kind="implement", wrong=[
        Wrong(mistake("relu_layer", ("np.asarray(Z) > 0", "np.asarray(Z) >= 0")),
              hint_contains="slope at exactly zero"),
        Wrong(mistake("relu_layer", ("return np.where(self.active, dQ, 0.0)",
                                     "return self.active.astype(float)")),
              hint_contains="ignores the upstream gradient"),
        Wrong(mistake("relu_layer", ("return np.where(self.active, dQ, 0.0)", "return dQ")),
              hint_contains="passes through every unit"),
    ], right=[solution("relu_layer"), RELU_MULTIPLY]),
    Item("softmax_ce_layer", points=1, kind="implement", wrong=[
        Wrong(mistake("softmax_ce_layer", ("return dZ / len(self.y)", "return dZ")),
              hint_contains="not divided by the number of samples"),
        Wrong(mistake("softmax_ce_layer", ("return dZ / len(self.y)", "return -dZ / len(self.y)")),
              hint_contains="wrong sign"),
        Wrong(mistake("softmax_ce_layer", ("shifted = Z - Z.max(axis=1, keepdims=True)", "shifted = Z")),
              hint_contains="overflows"),
        Wrong(mistake("softmax_ce_layer", ("return float(-np.mean(", "return float(-np.sum(")),
              hint_contains="sum over the samples"),
    ], right=[solution("softmax_ce_layer"), CE_SCIPY]),
    Item("network_loss_and_grads", points=3, kind="implement", wrong=[
        Wrong(mistake("network_loss_and_grads", (
            "    layers = []\n", "    layers, relu = [], ReLU()\n"), (
            "layers.append(ReLU())  # a new object each time: its own cache",
            "layers.append(relu)")), hint_contains="needs its own cache"),
        Wrong(mistake("network_loss_and_grads", (
            "return loss, [(layer.dW, layer.db) for layer in layers if isinstance(layer, Affine)]",
            "return loss, [(layer.dW, layer.db) for layer in reversed(layers) "
            "if isinstance(layer, Affine)]")), hint_contains="from the last layer to the first"),
        Wrong(mistake("network_loss_and_grads", (
            "    net.backward(head.backward())\n"
            "    return loss, [(layer.dW, layer.db) for layer in layers if isinstance(layer, Affine)]",
            "    grads = [(layer.dW, layer.db) for layer in layers if isinstance(layer, Affine)]\n"
            "    net.backward(head.backward())\n    return loss, grads")),
              hint_contains="every gradient is zero"),
    ], right=[solution("network_loss_and_grads"), NETWORK_ITER]),
    Item("momentum_update", points=1, kind="implement", wrong=[
        Wrong('''def momentum_update(theta, grad, velocity, learning_rate, momentum):
    velocity = momentum * velocity - learning_rate * grad
    return theta + velocity, velocity''', hint_contains="other common form of momentum"),
        Wrong('''def momentum_update(theta, grad, velocity, learning_rate, momentum):
    velocity = momentum * velocity + (1 - momentum) * grad
    return theta - learning_rate * velocity, velocity''', hint_contains="damped"),
        Wrong('''def momentum_update(theta, grad, velocity, learning_rate, momentum):
    return theta - learning_rate * velocity, momentum * velocity + grad''',
              hint_contains="velocity from before this update"),
        Wrong('''def momentum_update(theta, grad, velocity, learning_rate, momentum):
    velocity *= momentum
    velocity += grad
    return theta - learning_rate * velocity, velocity''', hint_contains="modified its input velocity"),
    ], right=[solution("momentum_update"), MOMENTUM_NUMPY_CALLS]),
    Item("adam_update", points=2, kind="implement", wrong=[
        Wrong(mistake("adam_update", ("m / (1 - beta1**t)", "m"), ("v / (1 - beta2**t)", "v")),
              hint_contains="not corrected for starting at zero"),
        Wrong(mistake("adam_update", ("v / (1 - beta2**t)", "v")),
              hint_contains="only one of the two running averages"),
        Wrong(mistake("adam_update", ("m / (1 - beta1**t)", "m / (1 - beta1**(t + 1))"),
                      ("v / (1 - beta2**t)", "v / (1 - beta2**(t + 1))")),
              hint_contains="wrong step number"),
        Wrong(mistake("adam_update", ("(np.sqrt(v_hat) + eps)", "np.sqrt(v_hat + eps)")),
              hint_contains="outside the square root"),
    ], right=[solution("adam_update"), ADAM_TORCH_FORM]),
    Item("sgd_epochs", points=3, kind="implement", wrong=[
        Wrong(mistake("sgd_epochs", ("    for _ in range(epochs):\n        order = rng.permutation(len(y))\n",
                                     "    order = rng.permutation(len(y))\n    for _ in range(epochs):\n")),
              hint_contains="each epoch needs a fresh order"),
        Wrong(mistake("sgd_epochs", (
            "            _, grads = network_loss_and_grads(X[rows], y[rows], *flat(params))",
            "            labels = shuffled_labels[start:start + batch_size]\n"
            "            _, grads = network_loss_and_grads(X[rows], y[labels], *flat(params))"), (
            "        order = rng.permutation(len(y))\n",
            "        order = rng.permutation(len(y))\n        shuffled_labels = rng.permutation(len(y))\n")),
              hint_contains="inputs and labels were put in two different orders"),
        Wrong(mistake("sgd_epochs", ("for start in range(0, len(y), batch_size):",
                                     "for start in range(0, len(y) - batch_size + 1, batch_size):")),
              hint_contains="last, smaller batch"),
    ], right=[solution("sgd_epochs"), LOOP_BATCH_LIST]),
    Item("init_loss_by_hand", points=1, kind="by-hand", wrong=[
        Wrong('''def init_loss_by_hand():
    return np.log2(3), 1 / 3''', hint_contains="in bits"),
        Wrong('''def init_loss_by_hand():
    return np.log(1 / 3), 1 / 3''', hint_contains="negative logarithm"),
        Wrong('''def init_loss_by_hand():
    return 1 / 3, 1 / 3''', hint_contains="not a probability"),
    ], right=['''def init_loss_by_hand():
    return 1.0986, 0.3333''', '''def init_loss_by_hand():
    return [-np.log(1 / 3), 1 / 3]''']),
    Item("initial_loss_check", points=1, kind="implement", wrong=[
        Wrong(mistake("initial_loss_check", (
            "params.append((rng.normal(0.0, scale, size=(fan_out, fan_in)), np.zeros(fan_out)))",
            "params.append((np.zeros((fan_out, fan_in)), np.zeros(fan_out)))")),
              hint_contains="units that start alike"),
        Wrong(mistake("initial_loss_check", ("(0.01 if number == len(sizes) - 1 else 1.0)", "1.0"),
                      ("np.sqrt(2.0 / fan_in)", "1.0")),
              hint_contains="confident before it has learned"),
        Wrong(mistake("initial_loss_check", ("return network_loss_and_grads(X, y, *flat(params))[0], params",
                                             "return np.log(3) + 0.05, params")),
              hint_contains="compute the loss with the network you return"),
    ], right=[solution("initial_loss_check"), INIT_ZERO_LAST]),
    Item("overfit_tiny_batch", points=2, kind="implement", wrong=[
        Wrong(mistake("overfit_tiny_batch", ("adam_update(W, dW, mW", "adam_update(W, dW + 0.3 * W, mW")),
              hint_contains="stops well above zero"),
        Wrong(mistake("overfit_tiny_batch", ("    return np.array(losses), params",
                                             "    return np.array(losses), init_network("
                                             "[X.shape[1], 32, 3], np.random.default_rng(seed))")),
              hint_contains="not the trained one"),
        Wrong(mistake("overfit_tiny_batch", ("t, 0.01, 0.9, 0.999, 1e-8)", "t, 1e-6, 0.9, 0.999, 1e-8)")),
              hint_contains="did not learn at all"),
    ], right=[solution("overfit_tiny_batch"), OVERFIT_MOMENTUM]),
    Item("train_curves", points=2, kind="debugging", wrong=[
        Wrong(BUGGY_TRAIN_CURVES.replace("_given", ""), hint_contains=GIVEN),
        Wrong(mistake("train_curves", ("        X_epoch, y_epoch = shuffled(X_train, y_train)",
                                       "        X_epoch, y_epoch = X_train, y_train")),
              hint_contains="differ along the way"),
        Wrong(mistake("train_curves", ("        order = rng.permutation(len(arrays[0]))",
                                       "        order = np.random.default_rng(seed).permutation("
                                       "len(arrays[0]))")),
              hint_contains="differ along the way"),
        Wrong(mistake("train_curves", ("        return [a[order] for a in arrays]",
                                       "        return [arrays[0][order], arrays[1]]")),
              hint_contains="never falls below the level of a model that ignores its inputs"),
    ], right=[solution("train_curves"), _curves_inline()]),
    Item("tune_and_train", points=4, kind="transfer", wrong=[
        Wrong(TUNE_BY_TRAINING, hint_contains="memorised noise"),
        Wrong(TUNE_LINEAR, hint_contains="a linear model cannot cut out the disc"),
        Wrong(mistake("tune_and_train", ("    return best[1], best[2]", "    return best[2]")),
              hint_contains="expected the chosen configuration"),
    ], right=[solution("tune_and_train"), TUNE_ADAM]),
]


# --- the table --------------------------------------------------------------------------
def test_the_table_covers_every_graded_cell():
    """Does the table list each graded cell with its points, every kind, and enough answers?"""
    assert_table(A, ITEMS)


def test_written_answers_keep_model_answer_and_rubric_private():
    assert_written_answers_private(A)


def test_the_given_run_is_released_and_fails():
    """Is the planted bug in the student's notebook, and does the check refuse it?"""
    text = "".join("".join(c["source"]) for c in read(exercise_path(A))["cells"])
    assert BUGGY_TRAIN_CURVES.strip() in text
    assert "Model answer" not in text


def test_items_in_the_notebook_path():
    """Through the in-notebook check (nbgrader's path): wrong 0 with the hint, right full;
    every hint shown obeys the rules (no code, numbers or formulas)."""
    outcomes = notebook_scores(A, ITEMS)
    assert_outcomes(ITEMS, outcomes, "notebook")
    for key, outcome in outcomes.items():
        assert not hint_problems(likely_bug(outcome.message)), (key, outcome.message)


@pytest.mark.slow
def test_items_in_the_hardened_path(tmp_path):
    """Through course-nn grade (one batch): the same outcomes."""
    assert_outcomes(ITEMS, hardened_scores(A, ITEMS, tmp_path), "hardened")


# --- the judges of the re-run items -------------------------------------------------------
def test_the_given_run_shows_its_bug_only_in_the_curves():
    """The given run's training loss stays at chance level (ln 3) on the exercise's data;
    the repaired run learns. That is what the student is asked to read from the curves."""
    X_train, y_train, X_val, y_val = load_capstone_data()
    given = REGISTRY["train_curves"].given(X_train, y_train, X_val, y_val, 0)
    fixed = train_curves(X_train, y_train, X_val, y_val, 0)
    assert np.min(given[0]) > np.log(3) - INIT_LOSS_TOLERANCE
    assert np.max(fixed[0]) < np.log(3) - 0.3 and np.max(fixed[1]) < np.log(3) - 0.2


def test_the_initial_loss_judge_rebuilds_the_network():
    X, y, _, _ = load_capstone_data()
    case = REGISTRY["initial_loss_check"].cases(hidden=False)[0]
    rng = np.random.default_rng(0)
    params = [(rng.normal(0, 0.2, size=(8, X.shape[1])), np.zeros(8)), (np.zeros((3, 8)), np.zeros(3))]
    assert judge_initial_loss(case, None, (np.log(3), params)) is None
    assert "not the mean cross-entropy" in judge_initial_loss(case, None, (1.2, params))
    big = [params[0], (rng.normal(0, 5.0, size=(3, 8)), np.zeros(3))]
    from course_nn.losses import softmax_cross_entropy
    from course_nn.mlp import mlp_forward
    loss = softmax_cross_entropy(mlp_forward(big, X, "relu"), y)
    assert loss > np.log(3) + INIT_LOSS_TOLERANCE
    assert "more than" in judge_initial_loss(case, None, (loss, big))
    assert "do not chain" in judge_initial_loss(case, None, (np.log(3), [params[0][0].T, params[0][1],
                                                                         *params[1]]))


def test_the_overfit_judge_wants_the_trained_network():
    case = REGISTRY["overfit_tiny_batch"].cases(hidden=False)[0]
    X, y, _ = case.args
    history = train_mlp(X, y, [X.shape[1], 32, 3], l2=0.0, learning_rate=0.1, epochs=300,
                        batch_size=None, progress=False)
    assert judge_overfit(case, None, (np.array(history.loss), history.params)) is None
    weak = train_mlp(X, y, [X.shape[1], 32, 3], l2=0.0, learning_rate=0.01, epochs=3,
                     batch_size=None, progress=False)
    assert "below 0.05" in judge_overfit(case, None, (np.array(weak.loss), weak.params))


@pytest.mark.slow
def test_the_floor_refuses_linear_and_untuned_models_on_the_graders_split():
    """Softmax regression and the MLP of the digits lab's settings (the ``untuned`` MLP) stay
    below the floor on the public case's test split, which the student never sees."""
    case = capstone_case(0, PUBLIC_TEST_DRAW, "public")
    X_train, y_train, _, _ = case.args
    linear = train_softmax_regression(X_train, y_train, 3, epochs=100, learning_rate=0.05,
                                      progress=False)
    untuned = train_mlp(X_train, y_train, [X_train.shape[1], 128, 3], progress=False)
    for model in (linear, untuned):
        problem = judge_tuned(case, None, ((0.1, 0.0, 1.0), model.params))
        assert problem is not None and f"below the floor {ACCURACY_FLOOR:.2f}" in problem
