"""course_nn.evaluation: confusion matrices and most confident mistakes, against
scikit-learn and a direct loop, plus edge cases and input validation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sklearn.metrics import confusion_matrix as sklearn_confusion_matrix

from course_nn.evaluation import (
    confusion_matrix,
    most_confident_mistakes,
    predict_proba,
    top_confusions,
)
from course_nn.losses import accuracy
from course_nn.mlp import init_mlp

pytestmark = pytest.mark.ch7

labels = st.integers(1, 6).flatmap(
    lambda m: st.tuples(st.just(m), st.lists(st.tuples(st.integers(0, m - 1), st.integers(0, m - 1)),
                                             min_size=1, max_size=40)))


@pytest.mark.filterwarnings("ignore:A single label was found")  # sklearn, when M = 1
@given(labels)
def test_confusion_matrix_matches_sklearn(data):
    M, pairs = data
    y_true, y_pred = np.array(pairs).T
    C = confusion_matrix(y_true, y_pred, M)
    assert C.shape == (M, M) and C.dtype == np.int64
    np.testing.assert_array_equal(C, sklearn_confusion_matrix(y_true, y_pred, labels=range(M)))
    assert C.sum() == len(pairs)
    assert np.trace(C) / C.sum() == pytest.approx(accuracy(y_pred, y_true))


def test_confusion_matrix_counts_repeated_pairs_and_keeps_absent_classes():
    C = confusion_matrix([0, 0, 0, 1], [2, 2, 2, 1], num_classes=4)
    assert C[0, 2] == 3 and C[1, 1] == 1
    assert C.shape == (4, 4) and C[3].sum() == 0 and C[:, 3].sum() == 0


def test_confusion_matrix_rejects_bad_input():
    with pytest.raises(ValueError, match=r"y_pred must hold labels in 0\.\.2"):
        confusion_matrix([0, 1], [0, 3], 3)
    with pytest.raises(ValueError, match="same number of samples"):
        confusion_matrix([0, 1, 2], [0, 1], 3)
    with pytest.raises(ValueError, match="num_classes must be >= 1"):
        confusion_matrix([0], [0], 0)


def loop_mistakes(P, y, k):
    """The definition, one sample at a time."""
    found = [(-max(p), i) for i, (p, label) in enumerate(zip(P, y, strict=True))
             if int(np.argmax(p)) != label]
    return [i for _, i in sorted(found)][:k]


@given(st.integers(1, 30), st.integers(2, 5), st.integers(0, 8), st.integers(0, 10_000))
def test_most_confident_mistakes_matches_a_loop(n, M, k, seed):
    rng = np.random.default_rng(seed)
    P = rng.dirichlet(np.ones(M), size=n)
    y = rng.integers(0, M, size=n)
    got = most_confident_mistakes(P, y, k)
    assert got.dtype == np.int64
    assert got.tolist() == loop_mistakes(P, y, k)
    assert np.all(np.argmax(P[got], axis=1) != y[got])
    assert np.all(np.diff(P[got].max(axis=1)) <= 0)


def test_most_confident_mistakes_edge_cases():
    P = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    assert most_confident_mistakes(P, [0, 1, 0], 3).shape == (0,)  # no mistakes
    assert most_confident_mistakes(P, [1, 0, 1], 2).tolist() == [0, 1]  # 0.9 before 0.8
    assert most_confident_mistakes(P, [1, 0, 1], 0).shape == (0,)
    with pytest.raises(ValueError, match="k must be an int >= 0"):
        most_confident_mistakes(P, [1, 0, 1], -1)
    with pytest.raises(ValueError, match="P must be 2-D"):
        most_confident_mistakes(P[0], [1], 1)


def test_top_confusions():
    C = np.array([[5, 2, 0], [7, 4, 1], [0, 0, 9]])
    assert top_confusions(C, 2) == [(1, 0, 7), (0, 1, 2)]
    assert top_confusions(C, 10) == [(1, 0, 7), (0, 1, 2), (1, 2, 1)]
    with pytest.raises(ValueError, match="square"):
        top_confusions(np.zeros((2, 3)))


def test_predict_proba_rows_are_distributions_and_agree_with_torch(torch, rng):
    params = init_mlp([4, 5, 3], rng=0)
    X = rng.normal(size=(6, 4))
    P = predict_proba(params, X, "relu")
    (W1, b1), (W2, b2) = [(torch.tensor(W), torch.tensor(b)) for W, b in params]
    expected = torch.softmax(torch.relu(torch.tensor(X) @ W1.T + b1) @ W2.T + b2, dim=1).numpy()
    np.testing.assert_allclose(P, expected, rtol=1e-12)
    np.testing.assert_allclose(P.sum(axis=1), 1.0)
