"""Checks for exercise 7, the image-classification lab (book chapter 7).

Graded signatures (every argument an array, a number or a string):

``confusion_matrix(y_true, y_pred, num_classes) -> (M, M)``
    Counts: entry [i, j] is the number of samples of true class i predicted as j.
``most_confident_mistakes(P, y, k) -> (min(k, #mistakes),)``
    Indices of the misclassified rows of the probabilities P (n, M), sorted by the
    probability of the predicted class, largest first (ties: smaller index first).
``train_and_predict(X_train, y_train, X_test) -> (n_test,)``
    Trains any classifier on the digits' training part and returns one predicted label
    per test image. Judged by accuracy: it passes when at least
    :data:`ACCURACY_FLOOR` of the test images are right.

How the accuracy (and the held-out loss) is judged on both grading paths. The case's
arguments are the training images and labels and the test images, never the test labels
(for ``torch_train_and_predict``: the training and validation parts and the held-out
points of a quadrants split, made by :func:`quadrants_case` in the same way). Each case is
made by :func:`digits_case` from a seeded stratified split of the digits, which
records the split's true test labels under a digest of ``X_test``. The check's
reference, :func:`true_test_labels`, looks them up: the "expected output" is what a
perfect classifier would answer, and the judge compares the student's labels with it.
Cases and references are always made in the same process that judges them (the
notebook's kernel for ``check``; the parent process of the hardened grader, which sends
only ``case.args`` to the sandboxed child), so the lookup always finds them.
"""

from __future__ import annotations

import hashlib

import numpy as np
from numpy.typing import NDArray

from course_nn.datasets import load_digits_split
from course_nn.evaluation import confusion_matrix, most_confident_mistakes
from course_nn.grading.by_hand_numbers import confusion_by_hand_params
from course_nn.grading.checks.ch03 import _same
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.core import Case, Check, given_function, numbers_judge, register
from course_nn.grading.variant import PARAMS
from course_nn.validation import quadrants_split

#: The smallest test accuracy that passes ``train_and_predict``. On 40 random splits,
#: softmax regression trained as in chapter 6 (``train_softmax_regression``) scored 0.951
#: to 0.98 and an MLP [64, 64, 10] 0.958 to 0.98, so a correct model passes every split;
#: full-batch gradient descent with learning rate 0.1 scores 0.88 to 0.91 after 1 to 100
#: epochs (undertrained), guessing one class about 0.1.
ACCURACY_FLOOR = 0.94
#: The public split's seed; hidden cases draw other seeds.
PUBLIC_SEED = 0

_TEST_LABELS: dict[str, NDArray[np.int64]] = {}


# --- confusion_matrix -------------------------------------------------------------------
def _confusion_public():
    return [
        Case((np.array([0, 1, 2, 2, 1, 0]), np.array([0, 2, 2, 1, 1, 0]), 3),
             "6 samples, 3 classes, two mistakes"),
        Case((np.array([1, 1, 1, 0]), np.array([0, 0, 0, 0]), 2),
             "the same mistake three times"),
        Case((np.array([0, 1]), np.array([0, 1]), 4), "classes 2 and 3 never occur"),
    ]


def _confusion_hidden(rng):
    cases = []
    for n, m in ((1, 2), (int(rng.integers(5, 30)), 3), (int(rng.integers(50, 300)), 10)):
        y_true = rng.integers(0, m, size=n)
        right = rng.random(n) < 0.7  # mostly right, like a trained model
        y_pred = np.where(right, y_true, rng.integers(0, m, size=n))
        cases.append(Case((y_true, y_pred, m), f"n={n}, M={m}"))
    y_true = rng.integers(0, 3, size=12)
    cases.append(Case((y_true, y_true.copy(), 5), "all right, two classes absent"))
    return cases


def _hint_confusion(case, expected, got):
    y_true, y_pred, m = case.args
    if _same(got, np.asarray(expected).T):
        return ("the matrix is transposed: rows are the true classes and columns the predicted "
                "ones")
    once = np.zeros((m, m))
    once[y_true, y_pred] = 1
    if _same(got, once):
        return ("repeated pairs of true and predicted class were counted once: every sample "
                "must add one to its entry, also when the pair occurred before")
    rows = np.asarray(expected).sum(axis=1, keepdims=True)
    if _same(got, np.asarray(expected) / np.where(rows == 0, 1, rows)) or _same(
            got, np.asarray(expected) / len(y_true)):
        return "return the counts, not fractions"
    return None


register(Check(
    name="confusion_matrix",
    reference=confusion_matrix,
    public_cases=_confusion_public,
    hidden_cases=_confusion_hidden,
    arg_names=("y_true", "y_pred", "num_classes"),
    hints=(_hint_confusion,),
    kind="implement",
))


# --- most_confident_mistakes ------------------------------------------------------------
def _mistakes_public():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.6, 0.3], [0.05, 0.05, 0.9], [0.4, 0.35, 0.25],
                  [0.2, 0.2, 0.6], [0.15, 0.8, 0.05]])
    y = np.array([1, 1, 0, 0, 1, 2])
    return [
        Case((P, y, 2), "6 samples, 4 mistakes, k = 2"),
        Case((P, y, 10), "k larger than the number of mistakes"),
    ]


def _mistakes_hidden(rng):
    cases = []
    for n, m, k in ((int(rng.integers(5, 20)), 3, 3), (int(rng.integers(100, 400)), 10, 16)):
        P = rng.dirichlet(np.full(m, 0.5), size=n)
        cases.append(Case((P, rng.integers(0, m, size=n), k), f"n={n}, M={m}, k={k}"))
    P = rng.dirichlet(np.ones(4), size=8)
    cases.append(Case((P, np.argmax(P, axis=1), 3), "no mistakes"))
    P = rng.dirichlet(np.ones(2), size=1)
    cases.append(Case((P, np.array([int(np.argmin(P[0]))]), 1), "n = 1, wrong"))
    return cases


def _hint_mistakes(case, expected, got):
    P, y, k = case.args
    idx = to_float_array(flatten_output(got)[0]).ravel()
    if idx.size == len(y) and set(np.unique(idx)) <= {0.0, 1.0} and len(y) > 2:
        return "return the indices of the mistakes, not a mask of true and false"
    whole = idx.size and np.all(idx == np.round(idx)) and idx.min() >= 0 and idx.max() < len(y)
    if whole and np.any(np.argmax(P[idx.astype(int)], axis=1) == y[idx.astype(int)]):
        return ("some returned samples are classified correctly: only the rows whose most "
                "probable class is not the label are mistakes")
    wrong = np.flatnonzero(np.argmax(P, axis=1) != y)
    by_true = wrong[np.argsort(-P[wrong, y[wrong]], kind="stable")][:k]
    if _same(got, by_true) and not _same(got, expected):
        return "the confidence is the probability of the predicted class, not of the true class"
    ascending = wrong[np.argsort(P[wrong].max(axis=1), kind="stable")][:k]
    if _same(got, ascending) or _same(got, np.asarray(expected)[::-1]):
        return "sort by decreasing confidence: the most confident mistake comes first"
    return None


register(Check(
    name="most_confident_mistakes",
    reference=most_confident_mistakes,
    public_cases=_mistakes_public,
    hidden_cases=_mistakes_hidden,
    arg_names=("P", "y", "k"),
    hints=(_hint_mistakes,),
    kind="implement",
))


# --- train_and_predict: judged by test accuracy -------------------------------------------
def _digest(X_test) -> str:
    X = np.ascontiguousarray(np.asarray(X_test, dtype=np.float64))
    return hashlib.sha256(repr(X.shape).encode() + X.tobytes()).hexdigest()


def digits_case(seed: int, label: str) -> Case:
    """A case of ``train_and_predict``: the seeded stratified 75/25 digits split, with its
    test labels recorded for :func:`true_test_labels` (they are not in the case)."""
    X_train, X_test, y_train, y_test = load_digits_split(seed=int(seed))
    _TEST_LABELS[_digest(X_test)] = np.asarray(y_test, dtype=np.int64)
    return Case((X_train, y_train, X_test), label)


def true_test_labels(X_train, y_train, X_test) -> NDArray[np.int64]:
    """Reference of ``train_and_predict``: the true labels of ``X_test`` (a perfect classifier)."""
    try:
        return _TEST_LABELS[_digest(X_test)].copy()
    except KeyError:
        raise ValueError("these test images were not made by digits_case, so their labels are "
                         "unknown") from None


def _public_splits():
    return [digits_case(PUBLIC_SEED, f"digits, stratified 75/25 split with seed {PUBLIC_SEED}")]


def _hidden_splits(rng):
    seeds = rng.choice(np.arange(1, 100_000), size=2, replace=False)
    return [digits_case(int(s), f"digits, stratified 75/25 split with seed {int(s)}") for s in seeds]


def judge_accuracy(case: Case, expected, got) -> str | None:
    """``None`` if the predicted labels reach :data:`ACCURACY_FLOOR`, else what is wrong."""
    y_test = np.asarray(expected)
    parts = flatten_output(got)
    if len(parts) != 1:
        return f"expected one array of predicted labels, got {len(parts)} outputs"
    try:
        pred = to_float_array(parts[0])
    except (TypeError, ValueError):
        return f"expected an array of predicted labels, got {type(got).__name__}"
    n, classes = len(y_test), int(np.max(case.args[1])) + 1
    if pred.ndim == 2 and pred.shape == (n, classes):
        return (f"returned scores of shape {pred.shape}, one row per image: return the labels, "
                f"np.argmax(scores, axis=1), of shape ({n},)")
    if pred.shape != (n,):
        return (f"wrong shape: expected one label per test image, shape ({n},), got {pred.shape} "
                f"(predict on X_test, not X_train)")
    if not np.all(np.isfinite(pred)) or np.any(pred != np.round(pred)):
        return "the predictions must be whole class labels 0..9, got non-integer values"
    right = int(np.sum(pred == y_test))
    if right / n >= ACCURACY_FLOOR:
        return None
    return (f"test accuracy {right / n:.3f} ({right} of {n} test images right) is below the "
            f"floor {ACCURACY_FLOOR:.2f}")


def _hint_training(case, expected, got):
    pred = to_float_array(flatten_output(got)[0]).ravel()
    accuracy = float(np.mean(pred == np.asarray(expected)))
    if np.unique(pred).size == 1:
        return ("every image gets the same label: the model did not learn (check the sign of "
                "the update, the learning rate, and that the gradient is not zero)")
    if accuracy < 0.3:
        return ("about chance level: are the predictions in the order of the test images, and "
                "did the loss go down during training?")
    return ("the model learns but not well enough: train for more epochs, tune the learning "
            "rate (minibatches help), or add a hidden layer")


register(Check(
    name="train_and_predict",
    reference=true_test_labels,
    public_cases=_public_splits,
    hidden_cases=_hidden_splits,
    arg_names=("X_train", "y_train", "X_test"),
    hints=(_hint_training,),
    judge=judge_accuracy,
    kind="implement",
))


# --- confusion_by_hand: reading a confusion matrix on paper -------------------------------
#: The confusion matrix of the by-hand task (rows: true class, columns: predicted class):
#: the numbers of variant 0 (docs/exercise_items.md, "Numbers of one's own").
BY_HAND_CONFUSION = np.array([[50, 2, 3], [4, 40, 6], [1, 19, 25]])


#: The numbers of the by-hand answer, named as in the task.
CONFUSION_BY_HAND_NAMES = ("the accuracy", "the precision of class 1", "the recall of class 1")


def confusion_by_hand_reference(confusion=BY_HAND_CONFUSION):
    """(accuracy, precision of class 1, recall of class 1) of a variant's confusion matrix
    (default: the book's, :data:`BY_HAND_CONFUSION`)."""
    C = np.asarray(confusion, dtype=np.float64)
    return float(np.trace(C) / C.sum()), float(C[1, 1] / C[:, 1].sum()), float(C[1, 1] / C[1].sum())


def _by_hand_cases(rng=None):
    return [Case((), "the task's confusion matrix")]


def _hint_confusion_by_hand(case, expected, got):
    try:
        have = np.concatenate([np.ravel(to_float_array(p)) for p in flatten_output(got)])
    except (TypeError, ValueError):
        return None
    if have.size != 3:
        return "return three numbers: the accuracy, then the precision and the recall of class one"
    params = case.probe if case.probe is not None else confusion_by_hand_params(0)
    C = np.asarray(params["confusion"], dtype=np.float64)
    accuracy, precision, recall = expected
    close = lambda u, v: abs(u - v) <= 5e-3  # noqa: E731
    if close(have[1], recall) and close(have[2], precision):
        return ("precision and recall are swapped: precision asks how many of the predicted ones "
                "are right, recall how many of the true ones are found")
    if close(have[0], float(np.mean(np.diag(C) / C.sum(axis=1)))):
        return ("the accuracy is the share of all samples that are right, not the mean of the "
                "classes' recalls")
    if not close(have[0], accuracy):
        return "the accuracy is the share of all samples on the diagonal"
    if close(have[1], C[1, 1] / C.sum()) or close(have[2], C[1, 1] / C.sum()):
        return "divide by the column or the row of class one, not by all samples"
    if not close(have[1], precision):
        return ("the precision is off: of the samples in the column of class one, the share "
                "on the diagonal")
    if not close(have[2], recall):
        return ("the recall is off: of the samples in the row of class one, the share on the "
                "diagonal")
    return None


register(Check(
    name="confusion_by_hand",
    reference=confusion_by_hand_reference,
    public_cases=_by_hand_cases,
    hidden_cases=_by_hand_cases,
    arg_names=(),
    hints=(_hint_confusion_by_hand,),
    judge=numbers_judge(5e-3, CONFUSION_BY_HAND_NAMES),
    kind="by_hand",
    parts=CONFUSION_BY_HAND_NAMES,
    variant_params=confusion_by_hand_params,  # numbers of one's own
    variant_key=PARAMS["confusion_by_hand"].assignment,
))


# --- per_class_recall: a given function with a planted bug (the wrong axis) ------------------
#: The version the student is given: it divides by the column sums (the predicted counts),
#: which gives the precision, instead of the row sums.
BUGGY_PER_CLASS_RECALL = '''def per_class_recall_given(C):
    C = np.asarray(C, dtype=float)
    return np.diag(C) / C.sum(axis=0)
'''


def per_class_recall(C):
    """Reference: the share of each true class that is predicted correctly, C_kk / sum_j C_kj."""
    C = np.asarray(C, dtype=np.float64)
    return np.diag(C) / C.sum(axis=1)


def _recall_public():
    return [
        Case((np.array([[5, 1, 0], [2, 6, 2], [0, 3, 1]]),), "three classes"),
        Case((np.array([[8, 2], [0, 10]]),), "two classes"),
    ]


def _recall_hidden(rng):
    cases = []
    for m in (2, 4, 10):
        C = rng.integers(0, 20, size=(m, m))
        C[np.arange(m), np.arange(m)] += rng.integers(1, 60, size=m)
        cases.append(Case((C,), f"{m} classes"))
    return cases


def _hint_recall(case, expected, got):
    """Symptoms of a partial repair of the given function (never the cause)."""
    (C,) = case.args
    C = np.asarray(C, dtype=np.float64)
    if _same(got, np.diag(C) / C.sum()):
        return "the recalls of all classes add up to the accuracy"
    if _same(got, np.diag(C)):
        return "the results are counts, not shares"
    return None


register(Check(
    name="per_class_recall",
    reference=per_class_recall,
    public_cases=_recall_public,
    hidden_cases=_recall_hidden,
    arg_names=("C",),
    hints=(_hint_recall,),
    kind="debugging",
    given=given_function(BUGGY_PER_CLASS_RECALL),
))


# --- torch_train_and_predict: a model chosen on a validation split, graded on fresh points ---
#: The held-out mean cross-entropy (nats) that ``torch_train_and_predict`` must not exceed.
#: On 16 seeds (0-15) of :func:`course_nn.validation.quadrants_split` (100 training, 400
#: validation and 2000 held-out points, 15 % of the labels flipped) a [2, 64, 64, 2] ReLU
#: network whose weight decay (0, 1e-3, 1e-2 or 3e-2) and epoch (of 400, full batch, SGD
#: with momentum 0.9, learning rate 0.05) are chosen by the validation loss scored 0.510
#: to 0.593; the same network after all 400 epochs without weight decay 0.705 to 1.383, and
#: softmax regression (no hidden layer: no line separates these classes) 0.693 to 0.747.
LOSS_CEILING = 0.65
#: The public case's seed; hidden cases draw other seeds.
PUBLIC_QUADRANT_SEED = 0


def quadrants_case(seed: int, label: str) -> Case:
    """A case of ``torch_train_and_predict``: the seeded quadrants split's training and
    validation parts and the held-out points, whose labels are recorded for
    :func:`true_quadrant_labels` (they are not in the case)."""
    (X_train, y_train), (X_val, y_val), (X_test, y_test) = quadrants_split(int(seed))
    _TEST_LABELS[_digest(X_test)] = np.asarray(y_test, dtype=np.int64)
    return Case((X_train, y_train, X_val, y_val, X_test), label)


def true_quadrant_labels(X_train, y_train, X_val, y_val, X_test) -> NDArray[np.int64]:
    """Reference of ``torch_train_and_predict``: the labels of the held-out points."""
    return true_test_labels(X_train, y_train, X_test)


def _linear_layers(params: list[np.ndarray], fan_in: int, classes: int) -> str | None:
    """Why ``params`` are not the (weight, bias) pairs of nn.Linear layers
    fan_in -> ... -> classes (None if they are)."""
    if len(params) < 2 or len(params) % 2:
        return "expected the weights and biases of the model's linear layers, in pairs"
    for W, b in zip(params[::2], params[1::2], strict=True):
        if W.ndim != 2 or W.shape[1] != fan_in or b.shape != (W.shape[0],):
            return (f"the parameters do not chain as nn.Linear layers: a weight of shape "
                    f"{W.shape} after {fan_in} inputs")
        fan_in = W.shape[0]
    return None if fan_in == classes else f"the last layer has {fan_in} outputs, not {classes}"


def _forward_logits(params, X, activation):
    Q = np.asarray(X, dtype=np.float32)
    h = {"relu": lambda z: np.maximum(z, 0), "tanh": np.tanh,
         "sigmoid": lambda z: 1 / (1 + np.exp(-z))}[activation]
    pairs = list(zip(params[::2], params[1::2], strict=True))
    with np.errstate(all="ignore"):
        for number, (W, b) in enumerate(pairs, start=1):
            Q = Q @ W.astype(np.float32).T + b.astype(np.float32)
            if number < len(pairs):
                Q = h(Q)
    return Q


def _is_float32(params) -> bool:
    return all(np.array_equal(p, p.astype(np.float32).astype(np.float64)) for p in params)


def _probabilities_problem(P, n: int) -> str | None:
    if P.shape != (n, 2):
        return (f"wrong shape: expected one row of two class probabilities per held-out "
                f"point, shape ({n}, 2), got {P.shape}")
    if not np.all(np.isfinite(P)) or np.any(P < 0) or np.any(P > 1) or not np.allclose(
            P.sum(axis=1), 1.0, atol=1e-4):
        return "the rows are not probabilities: each must be two numbers in [0, 1] adding up to 1"
    return None


def held_out_loss(P, y) -> float:
    """Mean cross-entropy of the probabilities ``P`` (n, 2) for the labels ``y``."""
    with np.errstate(divide="ignore"):
        return float(-np.mean(np.log(P[np.arange(len(y)), y])))


def judge_tuned_model(case: Case, expected, got) -> str | None:
    """``None`` if the returned probabilities have a held-out cross-entropy at most
    :data:`LOSS_CEILING` and the returned parameters are a torch model's (float32
    nn.Linear layers from 2 inputs to 2 classes whose forward pass, with ReLU, tanh or
    sigmoid between the layers, predicts the returned probabilities' classes)."""
    parts = flatten_output(got)
    if len(parts) < 3:
        return ("expected the held-out probabilities followed by the model's parameters, got "
                f"{len(parts)} output(s)")
    y_test = true_test_labels(case.args[0], case.args[1], case.args[4])
    try:
        P = to_float_array(parts[0])
        params = [to_float_array(p) for p in parts[1:]]
    except (TypeError, ValueError):
        return "the probabilities and the parameters must be arrays or tensors"
    problem = _probabilities_problem(P, len(y_test))
    if problem:
        return problem
    loss = held_out_loss(P, y_test)
    if not loss <= LOSS_CEILING:
        return (f"held-out cross-entropy {loss:.3f} on {len(y_test)} fresh points is above the "
                f"ceiling {LOSS_CEILING:.2f}")
    problem = _linear_layers(params, 2, 2)
    if problem:
        return problem
    if not _is_float32(params):
        return ("the parameters are not float32: they do not come from a torch model trained in "
                "PyTorch's default precision")
    X_test, chosen = case.args[4], np.argmax(P, axis=1)
    agree = max(np.mean(np.argmax(_forward_logits(params, X_test, a), axis=1) == chosen)
                for a in ("relu", "tanh", "sigmoid"))
    if agree < 0.99:
        return (f"the returned probabilities are not those of the returned parameters "
                f"({agree:.0%} of the classes agree)")
    return None


def _hint_tuned(case, expected, got):
    """Symptoms of a model that is not chosen well, or not a torch model (never the fix)."""
    parts = flatten_output(got)
    if len(parts) < 3:
        return ("return the probabilities and the list of the chosen model's parameters, in "
                "the order the module holds them")
    try:
        P = to_float_array(parts[0])
        params = [to_float_array(p) for p in parts[1:]]
    except (TypeError, ValueError):
        return None
    y_test = true_test_labels(case.args[0], case.args[1], case.args[4])
    if _probabilities_problem(P, len(y_test)):
        if P.shape == (len(y_test), 2) and np.all(np.isfinite(P)):
            return ("these look like scores, not probabilities: the loss needs each row turned "
                    "into a distribution over the two classes")
        return None
    loss = held_out_loss(P, y_test)
    if loss > LOSS_CEILING:
        if np.ptp(P[:, 1]) < 0.05:
            return ("every point gets about the same probabilities: the model did not learn "
                    "anything about where the classes lie")
        if len(params) == 2:
            return ("a model without a hidden layer has a straight boundary, and no straight "
                    "boundary separates these classes: its loss stays near that of a coin flip")
        if np.mean(np.max(P, axis=1) > 0.95) > 0.5:
            return ("the model is confidently wrong on many fresh points: it has learned the "
                    "noise of its few training labels by heart, which its validation loss "
                    "shows")
        return ("the model does not do well enough on fresh points: its loss on the "
                "validation split estimates this loss")
    if _linear_layers(params, 2, 2) is None and not _is_float32(params):
        return ("this is not a torch model: train a module of linear layers with PyTorch's "
                "optimiser, not NumPy arrays")
    return None


def _public_quadrants():
    return [quadrants_case(PUBLIC_QUADRANT_SEED,
                           f"quadrants with flipped labels, split seed {PUBLIC_QUADRANT_SEED}")]


def _hidden_quadrants(rng):
    seed = int(rng.integers(1, 100_000))
    return [quadrants_case(seed, "quadrants with flipped labels, a split with an unseen seed")]


register(Check(
    name="torch_train_and_predict",
    reference=true_quadrant_labels,
    public_cases=_public_quadrants,
    hidden_cases=_hidden_quadrants,
    arg_names=("X_train", "y_train", "X_val", "y_val", "X_test"),
    hints=(_hint_tuned,),
    judge=judge_tuned_model,
    kind="transfer",
    parts=("probabilities", "W{l}", "b{l}"),
))
