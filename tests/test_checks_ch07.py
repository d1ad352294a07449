"""Exercise 7's checks: references pass, typical mistakes fail with a teaching hint, and the
accuracy-judged ``train_and_predict`` passes a trained model and fails a constant or a
random predictor, on the notebook path (``check``) and on the hardened grader's path
(``diagnose`` in the parent with answers rebuilt as float arrays).

The table ``ITEMS`` lists every graded cell of ``ex07_lab`` with typical wrong answers
(each must score 0 with a hint naming the mistake) and right answers written differently
(each must score full marks), run through both grading paths (``tests/exercise_items.py``).
"""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from course_nn.grading import REGISTRY, CheckFailure, check, diagnose
from course_nn.grading.checks.ch07 import (
    ACCURACY_FLOOR,
    BUGGY_PER_CLASS_RECALL,
    LOSS_CEILING,
    PUBLIC_QUADRANT_SEED,
    confusion_by_hand_reference,
    digits_case,
    held_out_loss,
    judge_accuracy,
    judge_tuned_model,
    quadrants_case,
    true_quadrant_labels,
    true_test_labels,
)
from course_nn.train import train_softmax_regression
from tests.exercise_items import (
    GIVEN,
    Item,
    Wrong,
    assert_outcomes,
    assert_table,
    assert_written_answers_private,
    hardened_scores,
    hint_problems,
    likely_bug,
    notebook_scores,
)
from tests.notebooks import exercise_path, read

pytestmark = [pytest.mark.ch7, pytest.mark.grading]


# --- confusion_matrix: typical mistakes ----------------------------------------------------
def confusion_with(mistake):
    def confusion(y_true, y_pred, num_classes):
        C = np.zeros((num_classes, num_classes))
        if mistake == "fancy_index":
            C[y_true, y_pred] += 1
            return C
        for t, p in zip(y_true, y_pred, strict=True):
            C[t, p] += 1
        return {"transposed": C.T, "fractions": C / len(y_true), None: C}[mistake]
    return confusion


def test_student_style_confusion_matrix_passes():
    check("confusion_matrix", confusion_with(None))
    check("confusion_matrix", confusion_with(None), hidden=True, seed=5)


@pytest.mark.parametrize("mistake, hint", [
    ("transposed", "rows are the true classes"),
    ("fancy_index", "every sample must add one"),
    ("fractions", "the counts, not fractions"),
])
def test_confusion_mistakes_are_named(mistake, hint):
    with pytest.raises(CheckFailure, match=hint):
        check("confusion_matrix", confusion_with(mistake))


# --- most_confident_mistakes: typical mistakes ---------------------------------------------
def mistakes_with(mistake=None):
    def mistakes(P, y, k):
        predicted = P.argmax(axis=1)
        if mistake == "mask":
            return predicted != y
        candidates = np.arange(len(y)) if mistake == "all" else np.flatnonzero(predicted != y)
        confidence = P[candidates, y[candidates]] if mistake == "true_class" else P[candidates].max(axis=1)
        order = np.argsort(confidence if mistake == "ascending" else -confidence, kind="stable")
        return candidates[order][:k]
    return mistakes


def test_student_style_mistakes_pass():
    check("most_confident_mistakes", mistakes_with())
    check("most_confident_mistakes", mistakes_with(), hidden=True, seed=3)


@pytest.mark.parametrize("mistake, hint", [
    ("all", "classified correctly"),
    ("ascending", "decreasing confidence"),
    ("true_class", "probability of the predicted class"),
    ("mask", "not a mask"),
])
def test_mistake_finding_errors_are_named(mistake, hint):
    with pytest.raises(CheckFailure, match=hint):
        check("most_confident_mistakes", mistakes_with(mistake))


# --- train_and_predict: accuracy against a floor ------------------------------------------
def numpy_softmax_regression(X_train, y_train, X_test):
    """What a student writes: softmax regression by minibatch SGD with momentum, NumPy only."""
    rng = np.random.default_rng(0)
    n, p = X_train.shape
    W, b = np.zeros((10, p)), np.zeros(10)
    vW, vb = np.zeros_like(W), np.zeros_like(b)
    for _ in range(30):
        order = rng.permutation(n)
        for start in range(0, n, 32):
            batch = order[start:start + 32]
            Z = X_train[batch] @ W.T + b
            G = np.exp(Z - Z.max(axis=1, keepdims=True))
            G /= G.sum(axis=1, keepdims=True)
            G[np.arange(len(batch)), y_train[batch]] -= 1
            G /= len(batch)
            vW, vb = 0.9 * vW + G.T @ X_train[batch] + 1e-4 * W, 0.9 * vb + G.sum(axis=0)
            W, b = W - 0.1 * vW, b - 0.1 * vb
    return np.argmax(X_test @ W.T + b, axis=1)


def course_nn_model(X_train, y_train, X_test):
    return train_softmax_regression(X_train, y_train, progress=False).predict(X_test)


@pytest.mark.parametrize("train_and_predict", [numpy_softmax_regression, course_nn_model])
def test_a_trained_model_passes_public_and_hidden(train_and_predict, capsys):
    check("train_and_predict", train_and_predict)
    check("train_and_predict", train_and_predict, hidden=True, seed=7)
    assert "\u2713 train_and_predict" in capsys.readouterr().out


def constant(X_train, y_train, X_test):
    return np.full(len(X_test), 3)


def random_labels(X_train, y_train, X_test):
    return np.random.default_rng(0).integers(0, 10, size=len(X_test))


def test_a_constant_predictor_fails_naming_accuracy_and_floor():
    with pytest.raises(CheckFailure) as failure:
        check("train_and_predict", constant)
    message = str(failure.value)
    assert "test accuracy 0.1" in message and f"below the floor {ACCURACY_FLOOR:.2f}" in message
    assert "every image gets the same label: the model did not learn" in message


def test_a_random_predictor_fails_at_chance_level():
    with pytest.raises(CheckFailure, match=r"test accuracy 0\.\d+ \(\d+ of 450 test images right\) "
                                           r"is below the floor 0\.94[\s\S]*chance level"):
        check("train_and_predict", random_labels)


def test_a_weak_model_is_told_to_train_more():
    def one_epoch_of_gradient_descent(X_train, y_train, X_test):
        return train_softmax_regression(X_train, y_train, epochs=1, batch_size=None, momentum=0.0,
                                        progress=False).predict(X_test)
    with pytest.raises(CheckFailure, match="below the floor[\\s\\S]*train for more epochs"):
        check("train_and_predict", one_epoch_of_gradient_descent)


@pytest.mark.parametrize("answer, problem", [
    (lambda X_tr, y_tr, X_te: np.eye(10)[np.zeros(len(X_te), dtype=int)], "return the labels"),
    (lambda X_tr, y_tr, X_te: np.zeros(len(X_tr)), "predict on X_test, not X_train"),
    (lambda X_tr, y_tr, X_te: np.full(len(X_te), 0.5), "whole class labels"),
])
def test_wrong_kinds_of_answers_are_explained(answer, problem):
    with pytest.raises(CheckFailure, match=problem):
        check("train_and_predict", answer)


def test_the_hardened_path_judges_the_same_way():
    """The parent makes the case and the reference, the child returns only numbers (labels
    as floats), and ``diagnose`` judges them with the case the parent made."""
    spec = REGISTRY["train_and_predict"]
    [case] = spec.cases(hidden=False)
    expected = spec.reference(*copy.deepcopy(case.args))
    X_train, y_train, X_test = copy.deepcopy(case.args)  # what the child receives
    good = np.asarray(numpy_softmax_regression(X_train, y_train, X_test), dtype=float)
    assert diagnose(spec, case, expected, good) is None
    assert "below the floor" in diagnose(spec, case, expected, np.zeros(len(X_test)))
    assert diagnose(spec, case, expected, np.asarray(expected, dtype=float)) is None


def test_the_reference_knows_only_the_splits_it_made():
    case = digits_case(123, "seed 123")
    labels = true_test_labels(*copy.deepcopy(case.args))
    assert labels.shape == (len(case.args[2]),) and set(labels) == set(range(10))
    with pytest.raises(ValueError, match="not made by digits_case"):
        true_test_labels(case.args[0], case.args[1], case.args[2][:-1])


def test_the_judge_needs_the_floor_exactly():
    case = digits_case(0, "seed 0")
    y_test = true_test_labels(*case.args)
    n = len(y_test)
    right = int(np.ceil(ACCURACY_FLOOR * n))
    pred = y_test.copy()
    pred[right:] = (pred[right:] + 1) % 10  # exactly `right` correct
    assert judge_accuracy(case, y_test, pred) is None
    pred[right - 1] = (pred[right - 1] + 1) % 10
    assert "below the floor" in judge_accuracy(case, y_test, pred)


# --- the new items: by hand, debugging, the PyTorch classifier -----------------------------
def test_by_hand_numbers():
    """115 of 150 right; class 1: 40 of 61 predicted, 40 of 50 found."""
    assert confusion_by_hand_reference() == pytest.approx((115 / 150, 40 / 61, 40 / 50))


def test_the_given_recall_is_released_and_fails():
    """Is the planted bug in the student's notebook, and does the check reject it?"""
    text = "".join("".join(c["source"]) for c in read(exercise_path(A))["cells"])
    assert BUGGY_PER_CLASS_RECALL.strip() in text
    namespace = {"np": np}
    exec(BUGGY_PER_CLASS_RECALL, namespace)
    with pytest.raises(CheckFailure, match=GIVEN):
        check("per_class_recall", namespace["per_class_recall_given"])


def _tuned(X_train, y_train, X_val, y_val, X_test, decays=(0.0, 1e-3, 1e-2, 3e-2), epochs=400,
           early=True, hidden=(64, 64)):
    """The procedure of the solution: [2, 64, 64, 2] ReLU, weight decay and epoch chosen by
    the validation loss (early=False: the last epoch of the unpenalised network)."""
    torch.set_num_threads(1)
    X, y = torch.as_tensor(X_train, dtype=torch.float32), torch.as_tensor(y_train)
    Xv, yv = torch.as_tensor(X_val, dtype=torch.float32), torch.as_tensor(y_val)
    best = (np.inf, None)
    for decay in decays:
        torch.manual_seed(0)
        layers, fan_in = [], 2
        for width in hidden:
            layers += [torch.nn.Linear(fan_in, width), torch.nn.ReLU()]
            fan_in = width
        model = torch.nn.Sequential(*layers, torch.nn.Linear(fan_in, 2))
        optimiser = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9, weight_decay=decay)
        for _ in range(epochs):
            optimiser.zero_grad()
            torch.nn.functional.cross_entropy(model(X), y).backward()
            optimiser.step()
            with torch.no_grad():
                val = torch.nn.functional.cross_entropy(model(Xv), yv).item()
            if early and val < best[0]:
                best = (val, {k: t.clone() for k, t in model.state_dict().items()})
    if early:
        model.load_state_dict(best[1])
    with torch.no_grad():
        P = torch.softmax(model(torch.as_tensor(X_test, dtype=torch.float32)), dim=1)
    return P.numpy(), [p.detach().numpy().copy() for p in model.parameters()]


@pytest.mark.slow
@pytest.mark.parametrize("seed", [PUBLIC_QUADRANT_SEED, 17, 23])
def test_the_ceiling_passes_a_chosen_model_and_fails_linear_and_overfit(seed):
    """On three splits: the validation-chosen network is under the ceiling; a linear model
    (any straight boundary) and the network trained to the end without a penalty are not."""
    case = quadrants_case(seed, f"seed {seed}")
    y_test = true_quadrant_labels(*case.args)
    chosen = _tuned(*case.args)
    assert judge_tuned_model(case, None, chosen) is None
    assert held_out_loss(chosen[0], y_test) <= LOSS_CEILING - 0.03, "a margin for other choices"
    for wrong in (_tuned(*case.args, hidden=()), _tuned(*case.args, decays=(0.0,), early=False)):
        assert "above the ceiling" in judge_tuned_model(case, None, wrong)


def test_the_tuned_judge_wants_a_torch_models_parameters():
    """The chosen model's own answer passes; the same probabilities with float64 parameters
    (a NumPy model), with parameters that do not give them, or as raw scores, fail."""
    case = quadrants_case(PUBLIC_QUADRANT_SEED, "public")
    P, params = _tuned(*case.args, decays=(1e-2,), epochs=60)
    assert judge_tuned_model(case, None, (P, *params)) is None
    as_float64 = [p.astype(np.float64) + 1e-9 for p in params]
    assert "not float32" in judge_tuned_model(case, None, (P, *as_float64))
    assert "chain as nn.Linear" in judge_tuned_model(case, None, (P, params[0].T, *params[1:]))
    flipped = [*params[:-2], -params[-2], -params[-1]]
    assert "not those of the returned parameters" in judge_tuned_model(case, None, (P, *flipped))
    assert "not probabilities" in judge_tuned_model(case, None, (np.log(P), *params))
    assert "shape" in judge_tuned_model(case, None, (P[:, :1], *params))


def test_the_held_out_labels_stay_in_the_grader():
    """The case carries training and validation points and the held-out inputs, never the
    held-out labels; the reference finds them by the inputs."""
    case = quadrants_case(5, "seed 5")
    X_train, y_train, X_val, y_val, X_test = case.args
    assert X_train.shape == (100, 2) and X_val.shape == (400, 2) and X_test.shape == (2000, 2)
    labels = true_quadrant_labels(*case.args)
    assert labels.shape == (2000,) and set(labels) == {0, 1}
    assert all(a is not labels for a in case.args)


# --- the table of graded items -------------------------------------------------------------
A = "ex07_lab"

NUMPY_SOFTMAX_REGRESSION = '''def train_and_predict(X_train, y_train, X_test):
    rng = np.random.default_rng(0)
    n, p = X_train.shape
    W, b = np.zeros((10, p)), np.zeros(10)
    vW, vb = np.zeros_like(W), np.zeros_like(b)
    for _ in range(30):
        order = rng.permutation(n)
        for start in range(0, n, 32):
            batch = order[start:start + 32]
            Z = X_train[batch] @ W.T + b
            G = np.exp(Z - Z.max(axis=1, keepdims=True))
            G /= G.sum(axis=1, keepdims=True)
            G[np.arange(len(batch)), y_train[batch]] -= 1
            G /= len(batch)
            vW, vb = 0.9 * vW + G.T @ X_train[batch] + 1e-4 * W, 0.9 * vb + G.sum(axis=0)
            W, b = W - 0.1 * vW, b - 0.1 * vb
    return {RETURN}'''


def numpy_model(ret="np.argmax(X_test @ W.T + b, axis=1)", epochs=30):
    return NUMPY_SOFTMAX_REGRESSION.replace("{RETURN}", ret).replace(
        "range(30)", f"range({epochs})")


TORCH = '''import copy

import torch


def torch_train_and_predict(X_train, y_train, X_val, y_val, X_test):
    torch.set_num_threads(1)
    X, y = torch.tensor(X_train, dtype=torch.float32), torch.tensor(y_train)
    Xv, yv = torch.tensor(X_val, dtype=torch.float32), torch.tensor(y_val)
    best = (float("inf"), None)
    for decay in {DECAYS}:
        torch.manual_seed(0)
        model = {MODEL}
        optimiser = torch.optim.Adam(model.parameters(), lr=0.01, weight_decay=decay)
        for epoch in range({EPOCHS}):
            optimiser.zero_grad()
            loss = torch.nn.functional.cross_entropy(model(X), y)
            loss.backward()
            optimiser.step()
            with torch.no_grad():
                val = torch.nn.functional.cross_entropy(model(Xv), yv).item()
            if {KEEP} < best[0]:
                best = ({KEEP}, copy.deepcopy(model))
    model = best[1]
    with torch.no_grad():
        scores = model(torch.tensor(X_test, dtype=torch.float32))
    return {RETURN}'''
TANH_NET = ("torch.nn.Sequential(torch.nn.Linear(2, 32), torch.nn.Tanh(), torch.nn.Linear(32, 32), "
            "torch.nn.Tanh(), torch.nn.Linear(32, 2))")


def torch_model(decays="(0.0, 1e-3, 1e-2)", model=TANH_NET, epochs="300", keep="val",
                ret="torch.softmax(scores, dim=1).numpy(), list(model.parameters())"):
    return (TORCH.replace("{DECAYS}", decays).replace("{MODEL}", model).replace("{EPOCHS}", epochs)
            .replace("{KEEP}", keep).replace("{RETURN}", ret))


ITEMS = [
    Item("confusion_matrix", points=2, kind="implement", wrong=[
        Wrong('''def confusion_matrix(y_true, y_pred, num_classes):
    C = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(C, (y_pred, y_true), 1)
    return C''', hint_contains="transposed"),
        Wrong('''def confusion_matrix(y_true, y_pred, num_classes):
    C = np.zeros((num_classes, num_classes), dtype=int)
    C[y_true, y_pred] += 1
    return C''', hint_contains="every sample must add one"),
        Wrong('''def confusion_matrix(y_true, y_pred, num_classes):
    C = np.zeros((num_classes, num_classes))
    np.add.at(C, (y_true, y_pred), 1)
    return C / len(y_true)''', hint_contains="not fractions"),
    ], right=[
        '''def confusion_matrix(y_true, y_pred, num_classes):
    C = np.zeros((num_classes, num_classes), dtype=int)
    np.add.at(C, (y_true, y_pred), 1)
    return C''',
        '''def confusion_matrix(y_true, y_pred, num_classes):
    return np.array([[np.sum((y_true == i) & (y_pred == j)) for j in range(num_classes)]
                     for i in range(num_classes)])''',
        '''def confusion_matrix(y_true, y_pred, num_classes):
    return np.eye(num_classes, dtype=int)[y_true].T @ np.eye(num_classes, dtype=int)[y_pred]''',
    ]),
    Item("most_confident_mistakes", points=2, kind="implement", wrong=[
        Wrong('''def most_confident_mistakes(P, y, k):
    return np.argsort(-P.max(axis=1), kind="stable")[:k]''', hint_contains="classified correctly"),
        Wrong('''def most_confident_mistakes(P, y, k):
    wrong = np.flatnonzero(P.argmax(axis=1) != y)
    return wrong[np.argsort(P[wrong].max(axis=1), kind="stable")][:k]''',
              hint_contains="decreasing confidence"),
        Wrong('''def most_confident_mistakes(P, y, k):
    wrong = np.flatnonzero(P.argmax(axis=1) != y)
    return wrong[np.argsort(-P[wrong, y[wrong]], kind="stable")][:k]''',
              hint_contains="probability of the predicted class"),
        Wrong('''def most_confident_mistakes(P, y, k):
    return P.argmax(axis=1) != y''', hint_contains="not a mask"),
    ], right=[
        '''def most_confident_mistakes(P, y, k):
    wrong = [i for i in range(len(y)) if np.argmax(P[i]) != y[i]]
    return np.array(sorted(wrong, key=lambda i: (-np.max(P[i]), i))[:k], dtype=int)''',
        '''def most_confident_mistakes(P, y, k):
    confidence = np.where(P.argmax(axis=1) != y, P.max(axis=1), -1.0)
    order = np.argsort(-confidence, kind="mergesort")
    return order[confidence[order] >= 0][:k]''',
    ]),
    Item("confusion_by_hand", points=2, kind="by-hand", wrong=[
        Wrong('''def confusion_by_hand():
    return 115 / 150, 40 / 50, 40 / 61''', hint_contains="swapped"),
        Wrong('''def confusion_by_hand():
    return (50 / 55 + 40 / 50 + 25 / 45) / 3, 40 / 61, 40 / 50''',
              hint_contains="not the mean of the classes' recalls"),
        Wrong('''def confusion_by_hand():
    return 115 / 150, 40 / 150, 40 / 150''', hint_contains="not by all samples"),
        Wrong('''def confusion_by_hand():
    return 0.77, 0.66''', hint_contains="return three numbers"),
    ], right=[
        '''def confusion_by_hand():
    return 0.767, 0.656, 0.800''',
        '''def confusion_by_hand():
    C = np.array([[50, 2, 3], [4, 40, 6], [1, 19, 25]])
    return np.trace(C) / C.sum(), C[1, 1] / C[:, 1].sum(), C[1, 1] / C[1].sum()''',
    ]),
    Item("per_class_recall", points=2, kind="debugging", wrong=[
        Wrong(BUGGY_PER_CLASS_RECALL.replace("_given", ""), hint_contains=GIVEN),
        Wrong('''def per_class_recall(C):
    return np.diag(C) / np.sum(C)''', hint_contains="add up to the accuracy"),
        Wrong('''def per_class_recall(C):
    return np.diag(C).astype(float)''', hint_contains="counts, not shares"),
    ], right=[
        '''def per_class_recall(C):
    return np.array([C[k, k] / C[k].sum() for k in range(len(C))])''',
        '''def per_class_recall(C):
    C = np.asarray(C, dtype=float)
    return np.einsum("kk->k", C) / np.einsum("kj->k", C)''',
    ]),
    Item("train_and_predict", points=3, kind="implement", wrong=[
        Wrong('''def train_and_predict(X_train, y_train, X_test):
    return np.full(len(X_test), 3)''', hint_contains="same label"),
        Wrong(numpy_model(epochs=1).replace("0.9 *", "0.0 *").replace("- 0.1 *", "- 0.001 *"),
              hint_contains="below the floor"),
        Wrong(numpy_model(ret="X_test @ W.T + b"), hint_contains="return the labels"),
        Wrong(numpy_model(ret="np.argmax(X_train @ W.T + b, axis=1)"),
              hint_contains="predict on X_test"),
    ], right=[
        numpy_model(),
        numpy_model(ret="np.array([int(np.argmax(W @ x + b)) for x in X_test])"),
    ]),
    Item("torch_train_and_predict", points=4, kind="transfer", wrong=[
        Wrong(torch_model(decays="(0.0,)", epochs="400", keep="-epoch"),
              hint_contains="confidently wrong on many fresh points"),
        Wrong(torch_model(model="torch.nn.Linear(2, 2)"), hint_contains="straight boundary"),
        Wrong(torch_model(ret="scores.numpy(), list(model.parameters())"),
              hint_contains="look like scores"),
        Wrong(torch_model(ret="torch.softmax(scores, dim=1).numpy(), list(torch.nn.Sequential("
                              "torch.nn.Linear(2, 32), torch.nn.Linear(32, 2)).parameters())"),
              hint_contains="not those of the returned parameters"),
        Wrong(torch_model(ret="torch.softmax(scores, dim=1).numpy()"),
              hint_contains="list of the chosen model's parameters"),
    ], right=[
        torch_model(),
        '''import torch


def torch_train_and_predict(X_train, y_train, X_val, y_val, X_test):
    torch.set_num_threads(1)
    tensors = [torch.as_tensor(np.asarray(a), dtype=torch.float32) for a in (X_train, X_val, X_test)]
    y, yv = torch.as_tensor(y_train, dtype=torch.int64), torch.as_tensor(y_val, dtype=torch.int64)
    candidates = []
    for decay in (0.0, 1e-3, 1e-2, 3e-2):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(2, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),
                                  torch.nn.ReLU(), torch.nn.Linear(64, 2))
        optimiser = torch.optim.SGD(net.parameters(), lr=0.05, momentum=0.9, weight_decay=decay)
        for epoch in range(1, 401):
            optimiser.zero_grad()
            torch.nn.CrossEntropyLoss()(net(tensors[0]), y).backward()
            optimiser.step()
            with torch.no_grad():
                val = torch.nn.CrossEntropyLoss()(net(tensors[1]), yv).item()
            candidates.append((val, decay, epoch, [p.detach().clone() for p in net.parameters()]))
    val, decay, epoch, params = min(candidates, key=lambda c: c[0])
    with torch.no_grad():
        for p, chosen in zip(net.parameters(), params):
            p.copy_(chosen)
        P = torch.nn.functional.softmax(net(tensors[2]), dim=-1)
    return P.numpy(), [p.detach() for p in net.parameters()]''',
    ]),
]


def test_written_answers_keep_model_answer_and_rubric_private():
    """Does every written answer hold a model answer and a rubric (points per criterion)
    in the instructor notebook only?"""
    assert_written_answers_private(A)


def test_the_table_covers_every_graded_cell():
    """Does the table list each graded cell with its points, every kind, and enough answers?"""
    assert_table(A, ITEMS)


def test_items_in_the_notebook_path():
    """Through the in-notebook check (nbgrader's path): wrong 0 with the hint, right full;
    and every hint shown obeys the registry's rules (no code, numbers or formulas)."""
    outcomes = notebook_scores(A, ITEMS)
    assert_outcomes(ITEMS, outcomes, "notebook")
    for key, outcome in outcomes.items():
        assert not hint_problems(likely_bug(outcome.message)), (key, outcome.message)


@pytest.mark.slow
def test_items_in_the_hardened_path(tmp_path):
    """Through course-nn grade (one batch): the same outcomes."""
    assert_outcomes(ITEMS, hardened_scores(A, ITEMS, tmp_path), "hardened")
