"""Exercise 1's checks: the reference passes, typical mistakes fail with a teaching hint."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.grading import REGISTRY, CheckFailure, check
from course_nn.grading.checks import ch01
from course_nn.linear import fit_least_squares, linear_forward, linear_mse_grads, mse
from tests import exercise_items as E
from tests.checking import assert_teaches
from tests.exercise_items import Item, Wrong

pytestmark = [pytest.mark.ch1, pytest.mark.grading]

REFERENCES = {
    "linear_forward": linear_forward,
    "mse": mse,
    "linear_mse_grads": linear_mse_grads,
    "fit_least_squares": fit_least_squares,
}


def test_hidden_cases_are_random_but_replayable():
    spec = REGISTRY["linear_forward"]
    a, b, c = spec.cases(True, seed=5), spec.cases(True, seed=5), spec.cases(True, seed=6)
    assert all(np.array_equal(x.args[0], y.args[0]) for x, y in zip(a, b, strict=True))
    assert not all(
        x.args[0].shape == y.args[0].shape and np.array_equal(x.args[0], y.args[0])
        for x, y in zip(a, c, strict=True)
    )


WRONG = [
    ("linear_forward", lambda X, W, b: X @ W.T, "the offset is missing"),
    ("linear_forward", lambda X, W, b: (X @ W.T + b).T, "transposed"),
    ("mse", lambda y_hat, y: float(np.sum((y_hat - y) ** 2)), "you summed the squared errors"),
    ("mse", lambda y_hat, y: float(np.mean(np.abs(y_hat - y))), "mean absolute error"),
    ("linear_mse_grads",
     lambda X, y, W, b: tuple(-g for g in linear_mse_grads(X, y, W, b)), "sign is flipped"),
    ("linear_mse_grads",
     lambda X, y, W, b: tuple(g * np.size(y) / 2 for g in linear_mse_grads(X, y, W, b)),
     "too large by a constant factor"),
    ("fit_least_squares",
     lambda X, y: (np.linalg.lstsq(X, y, rcond=None)[0], 0.0), "offset was not fitted"),
    ("fit_least_squares", lambda X, y: fit_least_squares(X, y)[0], "return two things"),
]


@pytest.mark.parametrize(("name", "wrong", "hint"), WRONG, ids=[f"{n}-{h}" for n, _, h in WRONG])
def test_typical_mistakes_fail_with_their_hint(name, wrong, hint):
    assert_teaches(name, wrong, hint, likely_bug=False)


def test_exceptions_in_student_code_are_reported_with_the_input():
    def broken(X, W, b):
        return np.dot(W, X) + b  # W (p,) cannot multiply X (n, p) from the left
    with pytest.raises(CheckFailure, match=r"raised ValueError: shapes .* not aligned"):
        check("linear_forward", broken)


def test_stub_not_implemented_passes_through():
    def stub(X, W, b):
        raise NotImplementedError()
    with pytest.raises(NotImplementedError):
        check("linear_forward", stub)


def test_in_place_mutation_is_a_failure():
    def mutating(y_hat, y):
        y_hat -= y
        return float(np.mean(y_hat ** 2))
    with pytest.raises(CheckFailure, match="modified its input y_hat in place"):
        check("mse", mutating)


def test_warning_in_student_code_is_reported_on_stdout_not_stderr(capsys):
    def noisy(y_hat, y):
        import warnings
        warnings.warn("just a warning", UserWarning, stacklevel=1)
        return mse(y_hat, y)
    check("mse", noisy)
    captured = capsys.readouterr()
    assert "note: your function warned: UserWarning: just a warning" in captured.out
    assert captured.err == ""


def test_failure_on_hidden_case_prints_the_seed():
    def only_public(X, W, b):
        if X.shape == (3, 2):
            return linear_forward(X, W, b)
        return np.zeros((X.shape[0],) + np.shape(b))
    check("linear_forward", only_public)
    with pytest.raises(CheckFailure, match=r"hidden case \d+ of \d+ .*\[seed 42\]"):
        check("linear_forward", only_public, hidden=True, seed=42)


def test_unknown_check_lists_known_names():
    with pytest.raises(KeyError, match="known checks: .*linear_forward"):
        check("no_such_function", lambda: None)


# --- the exercise's items, each against typical wrong answers and alternative right ones ---
A = "ex01_linear_regression"
ITEMS = [
    Item("linear_forward", points=2, kind="implement", wrong=[
        Wrong("def linear_forward(X, W, b):\n    return X @ W.T", "offset is missing"),
        Wrong("def linear_forward(X, W, b):\n    return X @ W + b", "applied transposed"),
        Wrong("def linear_forward(X, W, b):\n    return (X @ W.T + b).T", "looks transposed"),
        Wrong("def linear_forward(X, W, b):\n    return W @ X.T + b", "shapes"),
    ], right=[
        "def linear_forward(X, W, b):\n    return np.einsum('np,...p->n...', X, W) + b",
        "def linear_forward(X, W, b):\n"
        "    W = np.atleast_2d(W)\n"
        "    out = np.array([[x @ w for w in W] for x in X]) + np.reshape(b, -1)\n"
        "    return out[:, 0] if np.ndim(b) == 0 else out",
    ]),
    Item("mse", points=1, kind="implement", wrong=[
        Wrong("def mse(y_hat, y):\n    return float(np.sum((y_hat - y) ** 2))", "their mean"),
        Wrong("def mse(y_hat, y):\n    return float(np.mean(np.abs(y_hat - y)))",
              "mean absolute error"),
        Wrong("def mse(y_hat, y):\n    return float(np.mean((y_hat - y) ** 2) ** 0.5)",
              "values differ"),
    ], right=[
        "def mse(y_hat, y):\n    d = np.subtract(y_hat, y).ravel()\n    return float(d @ d / d.size)",
        "def mse(y_hat, y):\n    return float(np.square(np.asarray(y_hat) - y).mean())",
    ]),
    Item("linear_mse_grads", points=3, kind="implement", wrong=[
        Wrong("def linear_mse_grads(X, y, W, b):\n"
              "    d = 2 * (y - linear_forward(X, W, b)) / np.size(y)\n"
              "    return d.T @ X, d.sum(axis=0)", "sign is flipped"),
        Wrong("def linear_mse_grads(X, y, W, b):\n"
              "    d = 2 * (linear_forward(X, W, b) - y)\n"
              "    return d.T @ X, d.sum(axis=0)", "summed over the entries"),
        Wrong("def linear_mse_grads(X, y, W, b):\n"
              "    d = (linear_forward(X, W, b) - y) / np.size(y)\n"
              "    return d.T @ X, d.sum(axis=0)", "half as large"),
        Wrong("def linear_mse_grads(X, y, W, b):\n"
              "    d = linear_forward(X, W, b) - y\n"
              "    return d.T @ X, d.sum(axis=0)", "constant factor"),
    ], right=[
        "def linear_mse_grads(X, y, W, b):\n"
        "    d = 2 * (linear_forward(X, W, b) - y) / np.size(y)\n"
        "    return np.einsum('n...,np->...p', d, X), np.einsum('n...->...', d)",
        "def linear_mse_grads(X, y, W, b):\n"
        "    d = 2 * (linear_forward(X, W, b) - y) / np.size(y)\n"
        "    dW = sum(np.multiply.outer(d[i], X[i]) for i in range(len(X)))\n"
        "    return dW, d.sum(axis=0)",
    ]),
    Item("fit_least_squares", points=2, kind="implement", wrong=[
        Wrong("def fit_least_squares(X, y):\n"
              "    return np.linalg.lstsq(X, y, rcond=None)[0], 0.0", "offset was not fitted"),
        Wrong("def fit_least_squares(X, y):\n"
              "    D = np.hstack([X, np.ones((len(X), 1))])\n"
              "    return np.linalg.lstsq(D, y, rcond=None)[0]", "return two things"),
        Wrong("def fit_least_squares(X, y):\n"
              "    D = np.hstack([np.ones((len(X), 1)), X])\n"
              "    t = np.linalg.lstsq(D, y, rcond=None)[0]\n"
              "    return t[:-1], t[-1]", "values differ"),
    ], right=[
        "def fit_least_squares(X, y):\n"
        "    D = np.column_stack([X, np.ones(len(X))])\n"
        "    t = np.linalg.solve(D.T @ D, D.T @ y)\n"
        "    return t[:-1], float(t[-1])",
        "import scipy.linalg\n\n"
        "def fit_least_squares(X, y):\n"
        "    mx, my = X.mean(axis=0), y.mean()\n"
        "    W = scipy.linalg.lstsq(X - mx, y - my)[0]\n"
        "    return W, float(my - mx @ W)",
    ]),
    Item("linear_by_hand", points=2, kind="by-hand", wrong=[
        Wrong("def linear_by_hand():\n    return 4.75, [3.0, -6.0], 1.0", "not their sum"),
        Wrong("def linear_by_hand():\n    return 1.583, [-1.0, 2.0], -0.333", "wrong sign"),
        Wrong("def linear_by_hand():\n    return 1.583, [0.5, -1.0], 0.167", "half as large"),
        Wrong("def linear_by_hand():\n    return 1.583, [1.0, -2.0], 0.5", "offset's is not"),
        Wrong("def linear_by_hand():\n    return 1.167, [1.0, -2.0], 0.333", "mean absolute"),
    ], right=[
        "def linear_by_hand():\n    return 1.583, [1.0, -2.0], 0.333",
        "def linear_by_hand():\n    return 19 / 12, np.array([1, -2]), 1 / 3",
    ]),
    Item("minibatch_descent", points=2, kind="debugging", wrong=[
        Wrong(ch01.BUGGY_MINIBATCH_DESCENT, E.GIVEN),
        Wrong(ch01.BUGGY_MINIBATCH_DESCENT.replace("/ n", "/ batch_size"), "last batch"),
        Wrong(ch01.BUGGY_MINIBATCH_DESCENT.replace("/ n", "/ len(y_batch)")
              .replace("range(0, n, batch_size)", "range(0, n - batch_size + 1, batch_size)"),
              "never move the parameters"),
        Wrong(ch01.BUGGY_MINIBATCH_DESCENT.replace("/ n", "/ len(y_batch)")
              .replace("W = W - learning_rate", "W = W + learning_rate")
              .replace("b = b - learning_rate", "b = b + learning_rate"), "grows from epoch"),
        Wrong(ch01.BUGGY_MINIBATCH_DESCENT.replace("/ n", "")
              , "grow with the size of the batch"),
        Wrong(ch01.BUGGY_MINIBATCH_DESCENT.replace("/ n", "/ len(y_batch)")
              .replace("            b = b - learning_rate * delta.sum()\n",
                       "            b = b - learning_rate * delta.sum()\n"
                       "            losses.append(np.mean((X @ W + b - y) ** 2))\n"),
              "wrong length"),
    ], right=[
        ch01.BUGGY_MINIBATCH_DESCENT.replace("/ n", "/ len(y_batch)"),
        "def minibatch_descent(X, y, learning_rate, epochs, batch_size):\n"
        "    theta = np.zeros(X.shape[1] + 1)  # [b, W]\n"
        "    D = np.column_stack([np.ones(len(y)), X])\n"
        "    cost = lambda: float(np.mean((D @ theta - y) ** 2))\n"
        "    losses = [cost()]\n"
        "    for _ in range(epochs):\n"
        "        start = 0\n"
        "        while start < len(y):\n"
        "            Db, yb = D[start:start + batch_size], y[start:start + batch_size]\n"
        "            theta = theta - learning_rate * 2 * Db.T @ (Db @ theta - yb) / len(yb)\n"
        "            start += batch_size\n"
        "        losses.append(cost())\n"
        "    return theta[1:], theta[0], losses",
    ]),
    Item("fit_standardised", points=3, kind="transfer", wrong=[
        Wrong("def fit_standardised(X, y, learning_rate, epochs):\n"
              "    W, b, _ = minibatch_descent(X, y, learning_rate, epochs, len(y))\n"
              "    return W, b", "diverged"),
        Wrong("def fit_standardised(X, y, learning_rate, epochs):\n"
              "    return fit_least_squares(X, y)", "least-squares line"),
        Wrong("def fit_standardised(X, y, learning_rate, epochs):\n"
              "    mu, s = X.mean(axis=0), X.std(axis=0)\n"
              "    W, b, _ = minibatch_descent((X - mu) / s, y, learning_rate, epochs, len(y))\n"
              "    return W, b", "standardised model's parameters"),
        Wrong("def fit_standardised(X, y, learning_rate, epochs):\n"
              "    mu, s = X.mean(axis=0), X.std(axis=0)\n"
              "    W, b, _ = minibatch_descent((X - mu) / s, y, learning_rate, epochs, len(y))\n"
              "    return W / s, b", "offset is not"),
        Wrong("def fit_standardised(X, y, learning_rate, epochs):\n"
              "    mu, s = X.mean(axis=0), X.std(axis=0)\n"
              "    W, b, _ = minibatch_descent((X - mu) / s, y, learning_rate, epochs, len(y))\n"
              "    return W * s, b - (W * s) @ mu", "multiplied by the features' scales"),
        Wrong("def fit_standardised(X, y, learning_rate, epochs):\n"
              "    mu, s = X.mean(axis=0), X.std(axis=0)\n"
              "    W, b, _ = minibatch_descent((X - mu) / s, y, learning_rate, epochs - 1,\n"
              "                                len(y))\n"
              "    return W / s, b - np.sum(W * mu / s)", "given number of full-batch steps"),
    ], right=[
        "def fit_standardised(X, y, learning_rate, epochs):\n"
        "    mu, s = X.mean(axis=0), X.std(axis=0, ddof=1)\n"
        "    W, b, _ = minibatch_descent((X - mu) / s, y, learning_rate, epochs, len(y))\n"
        "    return W / s, b - np.sum(W * mu / s)",
        "def fit_standardised(X, y, learning_rate, epochs):\n"
        "    mu = np.mean(X, axis=0)\n"
        "    s = np.sqrt(np.mean((X - mu) ** 2, axis=0))\n"
        "    W, b, _ = minibatch_descent((X - mu) / s, y, learning_rate, epochs, len(y))\n"
        "    W_orig = np.array([w / sj for w, sj in zip(W, s)])\n"
        "    return W_orig, float(b - np.dot(W_orig, mu))",
        "def fit_standardised(X, y, learning_rate, epochs):\n"
        "    Z = (X - X.mean(axis=0)) / X.std(axis=0)\n"
        "    D = np.column_stack([np.ones(len(y)), Z])\n"
        "    theta = np.zeros(D.shape[1])\n"
        "    for _ in range(epochs):\n"
        "        theta -= learning_rate * 2 / len(y) * D.T @ (D @ theta - y)\n"
        "    W = theta[1:] / X.std(axis=0)\n"
        "    return W, theta[0] - W @ X.mean(axis=0)",
    ]),
]


def test_the_table_covers_every_graded_item_of_the_exercise():
    E.assert_table(A, ITEMS)


def test_every_answer_in_the_notebook_path():
    """Each wrong answer scores 0 with its hint, each right answer full points (nbgrader's way)."""
    outcomes = E.notebook_scores(A, ITEMS)
    E.assert_outcomes(ITEMS, outcomes, "notebook")
    for key, outcome in outcomes.items():  # the hints shown obey the registry's rules
        assert not E.hint_problems(E.likely_bug(outcome.message)), (key, outcome.message)


@pytest.mark.slow
def test_every_answer_in_the_hardened_path(tmp_path):
    E.assert_outcomes(ITEMS, E.hardened_scores(A, ITEMS, tmp_path), "hardened")


def test_the_given_loop_in_the_notebook_is_the_buggy_one():
    source = "".join(c["source"] if isinstance(c["source"], str) else "".join(c["source"])
                     for c in E.instructor(A)["cells"])
    assert ch01.BUGGY_MINIBATCH_DESCENT.replace(
        "def minibatch_descent(", "def minibatch_descent_given(").strip() in source


def test_the_repair_target_is_not_printed_by_the_book():
    """The book shows no minibatch loop, so the bug is found from behaviour, not from a diff."""
    import json
    from pathlib import Path

    book = Path(__file__).resolve().parents[1] / "book"
    text = "".join("".join(cell["source"]) for path in sorted(book.glob("ch*.ipynb"))
                   for cell in json.loads(path.read_text())["cells"])
    assert "minibatch_descent" not in text
    assert "for start in range(0, n, batch_size)" not in text


def test_the_given_loop_is_right_for_full_batches_and_wrong_for_minibatches():
    """Why its author trusted it: with one batch it is gradient descent; with several it is
    not (the reference takes each batch's mean)."""
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(12, 2)), rng.normal(size=12)
    given, reference = REGISTRY["minibatch_descent"].given, ch01.minibatch_descent_reference
    for got, want in zip(given(X, y, 0.05, 3, 12), reference(X, y, 0.05, 3, 12), strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12)
    assert not np.allclose(given(X, y, 0.05, 3, 4)[0], reference(X, y, 0.05, 3, 4)[0])


def test_the_least_squares_line_scores_0_as_fit_standardised():
    """Graded before convergence: the closed form misses every case, public and hidden."""
    from course_nn.grading.core import diagnose

    spec = REGISTRY["fit_standardised"]
    for hidden, seed in [(False, None)] + [(True, s) for s in range(20)]:
        for case in spec.cases(hidden, seed):
            X, y = case.args[:2]
            answer = fit_least_squares(X, y)
            problem = diagnose(spec, case, spec.reference(*case.args), answer)
            assert problem is not None and "least-squares line" in problem, (case.label, problem)


def test_the_written_answer_keeps_its_model_answer_and_rubric_private():
    E.assert_written_answers_private(A)


@pytest.mark.parametrize("seed", range(40))
def test_fit_standardised_reference_descends_like_gradient_descent(seed):
    """The grader's reference takes the epochs as one matrix power; the oracle is the loop
    of ``course_nn.linear.gradient_descent`` (one or several outputs, n = 1, no epochs)."""
    from course_nn.linear import gradient_descent

    rng = np.random.default_rng(seed)
    n, p = int(rng.integers(1, 40)), int(rng.integers(1, 5))
    X = rng.normal(size=(n, p))
    y = rng.normal(size=n) if seed % 2 else rng.normal(size=(n, int(rng.integers(1, 4))))
    design = np.hstack([X, np.ones((n, 1))])
    largest = np.linalg.eigvalsh(2 / y.size * design.T @ design).max()
    rate = float(rng.uniform(0.05, 1.9)) / largest  # below 2/λ_max: the loop converges
    epochs = [0, 1, 7, 1500][seed % 4]
    run = gradient_descent(X, y, learning_rate=rate, epochs=epochs)
    W, b = ch01.descend_at_once(X, y, rate, epochs)
    assert W.shape == run.W.shape and np.shape(b) == np.shape(run.b)
    np.testing.assert_allclose(W, run.W, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(b, run.b, rtol=1e-9, atol=1e-12)


def test_fit_standardised_reference_overflows_where_gradient_descent_diverges():
    from course_nn.linear import gradient_descent

    X = np.array([[1000.0], [2000.0], [3000.0]])
    y = np.array([1.0, 2.0, 2.5])
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(ValueError, match="NaN"):
        gradient_descent(X, y, learning_rate=0.1, epochs=400)  # inf - inf, then refused
    W, b = ch01.descend_at_once(X, y, 0.1, 400)
    assert not np.all(np.isfinite(W)) and not np.isfinite(b)
    assert ch01.descend_at_once(X, y, 0.1, -3)[0].tolist() == [0.0]
