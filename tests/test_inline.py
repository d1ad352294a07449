"""The in-notebook ``check``: a failing check shows only its message, and still fails.

Questions asked here: does IPython render a check's failure and a stub as the message
alone (``_render_traceback_``), while nbval, nbgrader's autograde and validate still see
a failing cell? Does a student's exception keep the student's frames and drop the
course's, with a likely bug for known causes? See docs/inline_feedback.md.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import numpy as np
import pytest
from nbclient import NotebookClient

from course_nn.grading import CheckFailure, check
from course_nn.grading.compare import exception_hint
from course_nn.grading.inline import WRAP, render_message
from course_nn.release import tool_env

pytestmark = pytest.mark.grading

ROOT = Path(__file__).resolve().parents[1]


def softmax_without_keepdims(Z):
    E = np.exp(Z - Z.max(axis=1))  # the row maxima as an (n,) array
    return E / E.sum(axis=1, keepdims=True)


def softmax_global_max(Z):
    E = np.exp(Z - np.max(Z))
    return E / E.sum(axis=1, keepdims=True)


def stub(Z):
    raise NotImplementedError()


# --- the message and its rendering --------------------------------------------------------
def test_failure_renders_as_its_message_only():
    """Is the rendered traceback of a CheckFailure the message's lines, first one in red?"""
    with pytest.raises(CheckFailure) as info:
        check("softmax", softmax_global_max)
    lines = info.value._render_traceback_()
    assert "softmax: public case" in lines[0] and lines[0].startswith("\x1b[31m")
    text = "\n".join(lines)
    assert "course_nn" not in text and "Traceback" not in text
    assert "likely bug:" in text
    assert all(len(line) <= WRAP or line.lstrip().startswith(("[", "Z =")) for line in lines[1:])


def test_a_function_without_arguments_says_it_has_no_input():
    """Does a by-hand answer's failure say it takes no arguments instead of an empty input?"""
    with pytest.raises(CheckFailure) as info:
        check("linear_by_hand", lambda: (0.0, [0.0, 0.0], 0.0))
    message = str(info.value)
    assert "  input:\n    none (this function takes no arguments)\n  got:" in message
    assert "expected:" not in message  # a by-hand item never shows the expected numbers


def test_long_lines_wrap_under_their_label():
    """Are prose lines wrapped at WRAP with the continuation under the text, words intact?"""
    line = "  likely bug: " + " ".join(["word"] * 60)
    lines = render_message("head\n" + line)
    assert len(lines) > 2 and all(len(x) <= WRAP for x in lines[1:])
    assert all(x.startswith(" " * len("  likely bug: ")) for x in lines[2:])
    assert " ".join(x.strip() for x in lines[1:]) == line.strip()


def test_stub_is_still_a_not_implemented_error_in_one_line():
    """A stub: NotImplementedError (nbgrader and nbval see it), rendered as one line?"""
    with pytest.raises(NotImplementedError, match="softmax: not implemented yet") as info:
        check("softmax", stub)
    assert type(info.value) is NotImplementedError
    lines = info.value._render_traceback_()
    assert len(lines) == 1 and "softmax: not implemented yet" in lines[0]


def test_student_exception_keeps_student_frames_and_drops_the_course():
    """The student's frame (this file, the offending line) is shown; course_nn's are not?"""
    with pytest.raises(CheckFailure) as info:
        check("softmax", softmax_without_keepdims)
    message = str(info.value)
    assert "raised ValueError: operands could not be broadcast" in message
    assert "in your code:" in message
    assert f'File "{Path(__file__).resolve()}"' in message and "in softmax_without_keepdims" in message
    assert "E = np.exp(Z - Z.max(axis=1))" in message
    assert "course_nn" not in message and "site-packages" not in message
    assert "likely bug: a sum or maximum over each row dropped that axis" in message
    assert "got:      no result: your function raised" in message


# --- likely bugs for known exception causes ------------------------------------------------
@pytest.mark.parametrize("kind, message, expected", [
    ("ValueError", "operands could not be broadcast together with shapes (2,3) (2,) ", "keepdims"),
    ("ValueError", "operands could not be broadcast together with shapes (4,3) (2,5) ",
     "shapes do not line up"),
    ("IndexError", "index 3 is out of bounds for axis 1 with size 3", "one-based label"),
    ("ValueError", "matmul: Input operand 1 has a mismatch in its core dimension 0, with gufunc "
                   "signature (n?,k),(k,m?)->(n?,m?) (size 3 is different from 4)", "transposed"),
    ("ValueError", "The truth value of an array with more than one element is ambiguous. "
                   "Use a.any() or a.all()", "element-wise"),
])
def test_exception_hint_names_the_typical_cause(kind, message, expected):
    assert expected in exception_hint(kind, message)


@pytest.mark.parametrize("kind, message", [
    ("IndexError", "index 7 is out of bounds for axis 0 with size 3"),  # not an off-by-one
    ("KeyError", "'W'"),
    ("ValueError", "something else"),
])
def test_exception_hint_stays_silent_when_unsure(kind, message):
    assert exception_hint(kind, message) is None


def test_one_based_labels_get_the_likely_bug():
    """A one_hot indexing with labels shifted by one raises IndexError: is the cause named?"""
    def one_hot(y, num_classes):
        Y = np.zeros((len(y), num_classes))
        Y[np.arange(len(y)), y + 1] = 1.0  # the lectures' classes 1..M
        return Y

    with pytest.raises(CheckFailure, match="one-based label") as info:
        check("one_hot", one_hot, hidden=True, seed=0)
    assert "raised IndexError" in str(info.value)


# --- in a kernel: nbclient (as nbgrader runs it), nbval, nbgrader ----------------------------
SOFTMAX_CELLS = [
    "import numpy as np\nfrom course_nn.grading import check",
    "def softmax(Z, axis=-1):\n    E = np.exp(Z - np.max(Z))\n"
    "    return E / E.sum(axis=axis, keepdims=True)",
    'check("softmax", softmax)',
]


def notebook(cells: list[str]) -> nbformat.NotebookNode:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in cells]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return nb


@pytest.mark.slow
def test_kernel_error_output_is_the_message(tmp_path):
    """Executed in a kernel, is the error output's traceback the message, with no course frame?"""
    nb = notebook(SOFTMAX_CELLS)
    NotebookClient(nb, timeout=120, allow_errors=True, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for o in nb.cells[-1].outputs if o.output_type == "error"]
    assert len(errors) == 1, "the check cell still ends in an error"
    assert errors[0].ename == "CheckFailure"
    traceback = "\n".join(errors[0].traceback)
    assert "softmax: public case" in traceback and "likely bug:" in traceback
    assert "course_nn" not in traceback and "----> " not in traceback


@pytest.mark.slow
def test_nbval_still_fails_the_cell(tmp_path):
    """Does nbval (--nbval-lax, as make test runs it) report the failing check cell?"""
    path = tmp_path / "wrong_softmax.ipynb"
    nbformat.write(notebook(SOFTMAX_CELLS), path)
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--nbval-lax", "--nbval-current-env", str(path), "-o", "addopts="],
                         cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 1, run.stdout[-2000:]
    assert "1 failed" in run.stdout and "softmax: public case" in run.stdout


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """A course with ex04 released; bob submits the stub, carol a wrong softmax; autograded."""
    course = tmp_path_factory.mktemp("course")
    shutil.copy(ROOT / "nbgrader_config.py", course)
    name = "ex04_softmax"
    shutil.copytree(ROOT / "solutions" / name, course / "solutions" / name)
    nbgrader(course, "generate_assignment", name, "--force")
    released = nbformat.read(course / "exercises" / name / f"{name}.ipynb", as_version=4)
    for student, source in [("bob", None), ("carol", SOFTMAX_CELLS[1])]:
        nb = nbformat.from_dict(released)
        if source:
            cell = next(c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id")
                        == "softmax" and c.cell_type == "code")
            cell.source = source
        folder = course / "submitted" / student / name
        folder.mkdir(parents=True)
        nbformat.write(nb, folder / f"{name}.ipynb")
    nbgrader(course, "autograde", name, "--force")
    return course


def nbgrader(course: Path, *args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=course,
                         capture_output=True, text=True, env=tool_env(), timeout=900)
    assert run.returncode == 0, f"nbgrader {args[0]}:\n{run.stdout}\n{run.stderr}"
    return run


def autograded_errors(course: Path, student: str) -> dict[str, list]:
    nb = nbformat.read(course / "autograded" / student / "ex04_softmax" / "ex04_softmax.ipynb",
                       as_version=4)
    return {c.metadata["nbgrader"]["grade_id"]: [o for o in c.outputs if o.output_type == "error"]
            for c in nb.cells if c.cell_type == "code" and c.metadata.get("nbgrader", {}).get("grade")}


@pytest.mark.slow
def test_nbgrader_autograde_sees_the_failures(course):
    """Autograded: the stub's and the wrong softmax's test cells hold errors (0 points) that
    read as the message, and nbgrader prints no config warning?"""
    stub_errors, wrong_errors = autograded_errors(course, "bob"), autograded_errors(course, "carol")
    assert stub_errors["test_softmax"] and wrong_errors["test_softmax"]
    assert stub_errors["test_softmax"][0].ename == "NotImplementedError"
    stub_text = "\n".join(stub_errors["test_softmax"][0].traceback)
    assert "softmax: not implemented yet" in stub_text and "course_nn" not in stub_text
    wrong = wrong_errors["test_softmax"][0]
    assert wrong.ename == "CheckFailure" and "course_nn" not in "\n".join(wrong.traceback)
    run = nbgrader(course, "autograde", "ex04_softmax", "--force")
    assert "not recognized" not in run.stdout + run.stderr


@pytest.mark.slow
def test_validate_has_no_config_warning_and_cuts_no_line(course):
    """`nbgrader validate` on the wrong softmax: no config warning, every message line whole?"""
    path = course / "submitted" / "carol" / "ex04_softmax" / "ex04_softmax.ipynb"
    run = nbgrader(course, "validate", str(path))
    assert "not recognized" not in run.stdout + run.stderr
    assert "softmax: public case" in run.stdout and "likely bug:" in run.stdout
    cut = [line for line in run.stdout.splitlines() if line.endswith("...")]
    assert not cut, cut


# --- a mistake the task text warns about fails a PUBLIC case -------------------------------
def _sig(x):
    x = np.asarray(x, dtype=float)
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


def _sm(Z):
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def _confusion_fancy(y_true, y_pred, num_classes):
    C = np.zeros((num_classes, num_classes), dtype=int)
    C[y_true, y_pred] += 1  # "counts a repeated pair only once"
    return C


def _unstack_as_views(theta, layer_sizes):
    params, k = [], 0
    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:], strict=False):
        params.append((theta[k:k + fan_in * fan_out].reshape(fan_out, fan_in),
                       theta[k + fan_in * fan_out:k + fan_in * fan_out + fan_out]))
        k += fan_in * fan_out + fan_out
    return params


#: (check, the task's warning, a function making that mistake)
WARNED = [
    ("softmax", "subtract each row's own maximum", lambda Z, axis=-1: np.exp(Z - np.max(Z))
     / np.exp(Z - np.max(Z)).sum(axis=axis, keepdims=True)),
    ("softmax", "np.exp(1000.0) is inf", lambda Z, axis=-1: np.exp(Z)
     / np.exp(Z).sum(axis=axis, keepdims=True)),
    ("softmax", "rows sum to 1 (a row maximum without keepdims)", softmax_without_keepdims),
    ("one_hot", "the lectures count classes from 1", lambda y, M: np.eye(M)[y - 1]),
    ("one_hot", "num_classes columns even for classes missing from y",
     lambda y, M: np.eye(y.max() + 1)[y]),
    ("cross_entropy", "a wrong class may have probability exactly 0",
     lambda P, y: float(-np.mean(np.sum(np.eye(P.shape[1])[y] * np.log(P), axis=1)))),
    ("softmax_cross_entropy", "np.log(softmax(Z)) fails",
     lambda Z, y: float(-np.mean(np.log(_sm(Z))[np.arange(len(y)), y]))),
    ("softmax_cross_entropy", "c the row's maximum", lambda Z, y: float(np.mean(
        Z.max() + np.log(np.exp(Z - Z.max()).sum(axis=1)) - Z[np.arange(len(y)), y]))),
    ("kl_divergence", "the order matters", lambda p, q: np.sum(
        np.where(q > 0, q * np.log(np.where(q > 0, q, 1) / np.where(p > 0, p, 1)), 0), axis=-1)),
    ("kl_divergence", "do not hide that with a small epsilon", lambda p, q: np.sum(
        np.where(p > 0, p * np.log(np.where(p > 0, p, 1) / (q + 1e-12)), 0), axis=-1)),
    ("sigmoid_grad", "must not compute x * (1 - x)", lambda x: np.asarray(x) * (1 - np.asarray(x))),
    ("tanh_grad", "the activation's input, not its output", lambda x: 1 - np.asarray(x) ** 2),
    ("relu", "Python's built-in max does not work element-wise", lambda x: max(0, x)),
    ("binary_cross_entropy_with_logits", "not a clipped 36", lambda z, y: float(-np.mean(
        y * np.log(np.clip(_sig(z), 1e-16, 1)) + (1 - y) * np.log(np.clip(1 - _sig(z), 1e-16, 1))))),
    ("mlp_forward_2layer", "the last layer has none", lambda X, W1, b1, W2, b2: np.maximum(
        0, np.maximum(0, X @ W1.T + b1) @ W2.T + b2)),
    ("params_to_vector", "row after row", lambda *wb: np.concatenate(
        [np.ravel(a, order="F") for a in wb])),
    ("count_parameters", "a bias of U_l entries", lambda sizes: int(
        sum(a * b for a, b in zip(sizes[:-1], sizes[1:], strict=False)))),
    ("confusion_matrix", "C[y_true, y_pred] += 1 counts a repeated pair only once", _confusion_fancy),
    ("mse", "the mean over all N entries", lambda y_hat, y: float(np.sum((y_hat - y) ** 2))),
    ("vector_to_params", "must be new arrays", _unstack_as_views),
]


@pytest.mark.parametrize("name, warning, wrong", WARNED, ids=[f"{n}: {w}" for n, w, _ in WARNED])
def test_a_warned_mistake_fails_a_public_case(name, warning, wrong):
    """Does the mistake the task warns about fail on a printed case, before any hidden one?"""
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        with pytest.raises(CheckFailure) as info:
            check(name, wrong)
    assert str(info.value).startswith(f"{name}: public case"), str(info.value)[:300]
