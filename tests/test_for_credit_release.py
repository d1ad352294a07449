"""``make student-release MODE=for-credit``: no answer code, and checks that teach as before.

The done-test of issue 13. The bundle is built from this repository, zipped, and
unpacked into an empty folder. It runs with this venv's Python and ``PYTHONPATH``
set to the unpacked bundle (its third-party packages are this venv's; every run asserts
that ``course_nn`` was imported from the bundle, never from the repository). For every
released exercise, the instructor's solution, the untouched stub and a typical wrong
answer are run through ``check()`` (the notebook's test cells) and ``course-nn check``,
once with the full course and once with the bundle: verdicts and messages, hints
included, must be identical.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

from course_nn.grading import REGISTRY
from course_nn.grading.hardened import testing as T
from course_nn.release_credit import leaks as L
from course_nn.release_credit.behaviour import run_adapted, search
from course_nn.release_credit.bundle import BuildError, build, built_book
from course_nn.release_credit.graded import (
    ANSWERS_UNDER_OTHER_NAMES,
    GRADED_ON_SUBMISSION,
    equivalent_functions,
    graded_functions,
)
from course_nn.release_credit.on_submission import FORM
from course_nn.release_credit.on_submission import WRONG as WRONG_NOTE

pytestmark = pytest.mark.grading

ROOT = T.ROOT
PYTHON = sys.executable
EXERCISES = sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir())

#: One typical mistake per exercise: (function, wrong definition). Each gets a hint.
WRONG = {
    "ex01_linear_regression": ("mse", "def mse(y_hat, y):\n"
                               "    return float(np.sum((np.asarray(y_hat) - np.asarray(y)) ** 2))\n"),
    "ex02_activations": ("relu", "def relu(x):\n    return np.abs(np.asarray(x, dtype=float))\n"),
    "ex03_mlp": ("count_parameters", "def count_parameters(layer_sizes):\n"
                 "    s = [int(v) for v in layer_sizes]\n"
                 "    return sum(a * b for a, b in zip(s[:-1], s[1:]))\n"),
    "ex04_softmax": ("softmax", "def softmax(Z):\n    E = np.exp(np.asarray(Z, dtype=float))\n"
                     "    return E / E.sum(axis=1, keepdims=True)\n"),
    "ex05_cross_entropy": ("cross_entropy", "def cross_entropy(P, y):\n"
                           "    return float(-np.sum(np.log(P[np.arange(len(y)), y])))\n"),
    "ex06_backprop": ("softmax_jacobian", "def softmax_jacobian(a):\n"
                      "    return np.outer(a, a) - np.diag(a)\n"),
    "ex07_lab": ("confusion_matrix", "def confusion_matrix(y_true, y_pred, num_classes):\n"
                 "    C = np.zeros((num_classes, num_classes), dtype=int)\n"
                 "    np.add.at(C, (y_pred, y_true), 1)\n    return C\n"),
    "ex08_capstone": ("momentum_update", "def momentum_update(theta, grad, velocity, "
                      "learning_rate, momentum):\n"
                      "    velocity = momentum * velocity - learning_rate * grad\n"
                      "    return theta + velocity, velocity\n"),
}

#: Test cells whose check the bundle finishes on submission only (its judge runs a network
#: with functions the release leaves out): where the full course passes, the bundle passes
#: on the answer's form and prints that the rest is graded when you submit first
#: (docs/releases.md, "Judges that need a left-out function").
FORM_ONLY = {f"test_{name}": name for name, mode in GRADED_ON_SUBMISSION.items() if mode == "form"}


#: Checks whose wrong answers the bundle fails without the numbers a left-out function
#: gives (check -> the functions its message names).
WRONG_ONLY = {"fit_temperature": "`temperature_nll`"}
assert set(WRONG_ONLY) == {n for n, mode in GRADED_ON_SUBMISSION.items() if mode == "wrong"}


def _form_note(name: str) -> str:
    return FORM.format(check=name, names="`mlp_forward`")


#: By-hand items with numbers of one's own: the bundle holds no expected values, and
#: check() passes a right answer on its form (docs/releases.md).
OWN_NUMBERS = {f"test_{name}": name for name, c in REGISTRY.items() if c.variant_params}


def _form_only_pass(name: str) -> str:
    """What check() prints for a by-hand answer of the right form without expected values."""
    import contextlib
    import io

    from course_nn.grading.inline import check_form_only
    from course_nn.release_credit.record import answer_size

    size = answer_size(REGISTRY[name])
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        check_form_only(name, lambda: np.zeros(size), size)
    return printed.getvalue()


def _as_in_the_bundle(full: list) -> list:
    """The outcomes the bundle must give where the full course gives ``full``."""
    out = []
    for t in full:
        if t[0] in FORM_ONLY and t[1] == "ok":
            t = [t[0], "ok", _form_note(FORM_ONLY[t[0]]) + "\n" + t[2]]
        elif t[0] in OWN_NUMBERS and t[1] == "ok":
            t = [t[0], "ok", _form_only_pass(OWN_NUMBERS[t[0]])]
        out.append(t)
    return out

#: Runs a notebook's setup, solution and test cells as the kernel would; prints JSON:
#: where course_nn came from and, per test cell, "ok" + stdout or the exception + message.
RUNNER = r'''
import ast, contextlib, io, json, sys
import matplotlib
matplotlib.use("Agg")
import course_nn

def imports_only(source):
    try:
        return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.parse(source).body)
    except SyntaxError:
        return False

nb = json.load(open(sys.argv[1], encoding="utf-8"))
scope, tests = {"__name__": "__main__"}, []
for cell in nb["cells"]:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
    if cell["cell_type"] != "code" or not (meta or imports_only(source)):
        continue
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(source, meta.get("grade_id", "cell"), "exec"), scope)
        result = ["ok", out.getvalue()]
    except Exception as err:
        result = [type(err).__name__, str(err), out.getvalue()]
    if meta.get("grade") and not meta.get("solution"):
        tests.append([meta["grade_id"], *result])
print(json.dumps({"course_nn": course_nn.__file__, "tests": tests}))
'''


def _env(bundle: Path | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    if bundle is not None:
        env["PYTHONPATH"] = str(bundle)
    env["MPLBACKEND"] = "Agg"
    return env


def run_python(code: str, *args: str, bundle: Path | None, cwd: Path) -> str:
    run = subprocess.run([PYTHON, "-c", code, *args], cwd=cwd, env=_env(bundle),
                         capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, run.stdout + run.stderr
    return run.stdout


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    """The for-credit bundle, built from the repository, zipped and unpacked into an empty folder."""
    try:
        built_book(ROOT)
    except BuildError:
        pytest.skip("needs the built book: flock /tmp/course-nn-build.lock make book")
    made = build(tmp_path_factory.mktemp("for-credit") / "student-for-credit", archive=True)
    unpacked = tmp_path_factory.mktemp("unpacked")
    assert not any(unpacked.iterdir())
    shutil.unpack_archive(f"{made}.zip", unpacked)
    shutil.rmtree(made.parent)
    return unpacked


def test_bundle_imports_its_own_course_nn(bundle, tmp_path):
    """Does Python with PYTHONPATH=bundle import the bundle's course_nn, not the repository's?"""
    where = run_python("import course_nn, course_nn.cli; print(course_nn.__file__, "
                       "course_nn.cli.__file__)", bundle=bundle, cwd=tmp_path).split()
    assert all(Path(w).resolve().is_relative_to(bundle.resolve()) for w in where)


def test_bundle_has_the_book_exercises_and_checks_and_no_sources(bundle):
    """Built HTML, executed chapters, released exercises, data-backed checks; no chapter
    sources, solutions or release tooling."""
    assert (bundle / "book" / "html" / "index.html").is_file()
    notebooks = sorted((bundle / "book" / "notebooks").glob("*.ipynb"))
    assert [n.name for n in notebooks] == sorted(
        p.name for p in (ROOT / "book").glob("ch*.ipynb"))
    for notebook in notebooks:  # with outputs, for reading
        assert any(c.get("outputs") for c in json.loads(notebook.read_text())["cells"]), notebook
    assert sorted(p.name for p in (bundle / "exercises").iterdir()) == EXERCISES
    for gone in ("solutions", "_toc.yml", "_config.yml", "book/ch01_linear_regression.ipynb",
                 "course_nn/student_release.py", "course_nn/release_credit/record.py",
                 "course_nn/release_credit/bundle.py", "course_nn/release_credit/behaviour.py",
                 "tests"):
        assert not (bundle / gone).exists(), gone
    checks = bundle / "course_nn" / "grading" / "checks"
    for module in sorted((ROOT / "course_nn" / "grading" / "checks").glob("ch*.py")):
        for suffix in (".py", ".json", ".npz"):
            assert (checks / module.with_suffix(suffix).name).is_file()
    workflow = yaml.safe_load((bundle / ".github/workflows/autograde.yml").read_text())
    assert "'for-credit'" in workflow["env"]["COURSE_MODE"]


def test_graded_functions_are_stubs_naming_their_exercise(bundle, tmp_path):
    """Does calling the bundle's copy of each graded function raise, naming its exercise?"""
    graded = graded_functions(ROOT)
    assert len(graded) >= len(EXERCISES)
    code = r'''
import importlib, inspect, json, sys
out = {}
for spec in json.loads(sys.argv[1]):
    func = getattr(importlib.import_module(spec[0]), spec[1])
    params = inspect.signature(func).parameters.values()
    args = [None] * sum(p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD
                        for p in params)
    kwargs = {p.name: None for p in params if p.default is p.empty and p.kind is p.KEYWORD_ONLY}
    try:
        func(*args, **kwargs)
        out[spec[1]] = "returned"
    except NotImplementedError as err:
        out[spec[1]] = str(err)
print(json.dumps(out))
'''
    specs = json.dumps([[g.module, g.name] for g in graded])
    said = json.loads(run_python(code, specs, bundle=bundle, cwd=tmp_path))
    for g in graded:
        assert g.exercise in said[g.name] and "no answer" in said[g.name], (g, said[g.name])


def test_no_function_in_the_bundle_is_an_answer(bundle):
    """The semantic leak test: no reference, solution or hidden-case generator, renamed or not."""
    assert L.find_semantic_leaks(bundle, ROOT) == []


def test_no_stored_data_holds_hidden_cases(bundle):
    """Only public cases are stored, as plain data: npz without pickle, JSON."""
    assert L.find_data_leaks(bundle) == []
    folder = bundle / "course_nn" / "grading" / "checks"
    stored = {}
    for spec in folder.glob("ch*.json"):
        for entry in json.loads(spec.read_text())["checks"]:
            stored[entry["name"]] = len(entry["cases"])
        with np.load(spec.with_suffix(".npz"), allow_pickle=False) as npz:
            assert all(npz[k].dtype != object for k in npz.files)
    assert stored == {name: 0 if check.variant_params else len(check.cases(hidden=False))
                      for name, check in REGISTRY.items()}  # numbers of one's own: no case
    generated = "\n".join(p.read_text() for p in folder.glob("ch*.py"))
    assert "hidden_cases" not in generated and "default_rng" not in generated


def test_the_leak_tests_catch_a_renamed_copy_and_a_hidden_case(tmp_path):
    """Could the leak tests fail: a reference with other names, comments and layout, a
    solution function, and a hidden case's input stored in an npz?"""
    from course_nn.softmax import softmax

    source = inspect.getsource(softmax)
    renamed = re.sub(r"\baxis\b(?!=)", "dim", source.replace("def softmax(", "def my_probs(")
                     .replace("Z", "logits").replace("E", "exps"))
    renamed = renamed.replace('    r"""', '    # my own\n    r"""', 1).replace(" / ", "/")
    (tmp_path / "copy.py").write_text("import numpy as np\n\n" + renamed)
    leaks = L.find_semantic_leaks(tmp_path, ROOT)
    assert any("copy.py: function my_probs is the reference course_nn.softmax.softmax" in x
               for x in leaks), leaks
    check = REGISTRY["softmax"]
    hidden = next(a for c in check.cases(hidden=True, seed=3) for a in c.args
                  if isinstance(a, np.ndarray) and a.size >= 5)
    np.savez(tmp_path / "data.npz", x0=hidden)
    assert any("data.npz[x0]" in x for x in L.find_data_leaks(tmp_path))


def _notebook(bundle: Path, a: str, variant: str, folder: Path) -> Path:
    """The released notebook (from the bundle) with the variant's solution cells."""
    released = T.read(bundle / "exercises" / a / f"{a}.ipynb")
    sources: dict[str, str] = {}
    if variant != "stub":
        sources = T.solutions(T.read(ROOT / "solutions" / a / f"{a}.ipynb"))
    if variant == "wrong":
        name, wrong = WRONG[a]
        cell = next(k for k, v in sources.items() if f"def {name}(" in v)
        sources[cell] = sources[cell] + "\n\n" + wrong
    return T.write(folder / variant / a / f"{a}.ipynb", T.with_sources(released, sources))


def _outcomes(notebook: Path, bundle: Path | None, cwd: Path) -> list:
    result = json.loads(run_python(RUNNER, str(notebook), bundle=bundle, cwd=cwd))
    origin = Path(result["course_nn"]).resolve()
    assert origin.is_relative_to((bundle or ROOT).resolve()), origin
    return result["tests"]


@pytest.mark.slow
@pytest.mark.parametrize("a", EXERCISES)
def test_check_gives_the_full_courses_verdicts_and_hints(bundle, tmp_path, a):
    """check() in the bundle: same outcome and message, test cell by test cell, as the full
    course, for the solution, the stub and a typical wrong answer."""
    for variant in ("solution", "stub", "wrong"):
        notebook = _notebook(bundle, a, variant, tmp_path)
        full = _outcomes(notebook, None, tmp_path)
        mine = _outcomes(notebook, bundle, tmp_path)
        assert mine == _as_in_the_bundle(full), variant
        kinds = [t[1] for t in full]
        if variant == "solution":
            assert kinds == ["ok"] * len(full), full
        elif variant == "stub":
            assert set(kinds) == {"NotImplementedError"}, full
        else:
            failed = {t[0]: t[2] for t in full if t[1] == "CheckFailure"}
            assert "likely bug:" in failed[f"test_{WRONG[a][0]}"], full


def _course_nn_check(notebook: Path, bundle: Path | None, cwd: Path) -> tuple[int, str]:
    cli = Path(PYTHON).parent / "course-nn"
    run = subprocess.run([str(cli), "check", str(notebook), "--timeout", "120"], cwd=cwd,
                         env=_env(bundle), capture_output=True, text=True, timeout=900)
    return run.returncode, run.stdout


def _cli_in_the_bundle(full: tuple[int, str]) -> tuple[int, str]:
    """What ``course-nn check`` must print in the bundle where the full course prints
    ``full``: the same, after a note per form-only check that passed."""
    passed = [line.split()[1].rstrip(":") for line in full[1].splitlines()
              if line.startswith("\u2713 ")]
    notes = "".join(_form_note(FORM_ONLY[t]) + "\n" for t in passed if t in FORM_ONLY)
    return full[0], notes + full[1]


@pytest.mark.slow
@pytest.mark.parametrize("a", EXERCISES)
def test_course_nn_check_gives_the_full_courses_verdicts_and_hints(bundle, tmp_path, a):
    """course-nn check in the bundle prints what the full course prints and exits alike."""
    for variant in ("solution", "stub", "wrong"):
        notebook = _notebook(bundle, a, variant, tmp_path)
        full = _course_nn_check(notebook, None, tmp_path)
        mine = _course_nn_check(notebook, bundle, tmp_path)
        assert mine == _cli_in_the_bundle(full), variant
        assert full[0] == (0 if variant == "solution" else 1), full
        if variant == "wrong":
            assert "likely bug:" in full[1], full[1]


@pytest.mark.slow
def test_autograde_for_credit_runs_public_checks_and_says_so(bundle, tmp_path):
    """The workflow's for-credit steps on the bundle: public checks scored, and the summary
    says that final grades add hidden checks."""
    workflow = yaml.safe_load((bundle / ".github/workflows/autograde.yml").read_text())
    steps = {s.get("name"): s for s in workflow["jobs"]["grade"]["steps"]}
    shutil.copytree(bundle, tmp_path / "course")
    a = "ex01_linear_regression"
    T.write(tmp_path / "submission" / "exercises" / a / f"{a}.ipynb",
            T.read(_notebook(bundle, a, "solution", tmp_path / "made")))
    summary = tmp_path / "summary.md"
    env = dict(_env(tmp_path / "course"), GITHUB_REPOSITORY="course-org/alice",
               GITHUB_STEP_SUMMARY=str(summary), COURSE_MODE="for-credit",
               PATH=os.pathsep.join([str(Path(PYTHON).parent), os.environ["PATH"]]))
    assert steps["Grade"]["if"] == "env.COURSE_MODE != 'for-credit'"
    for name in ("Public checks (for-credit course)", "Score in the job summary"):
        script = steps[name]["run"].replace("${GITHUB_REPOSITORY##*/}", "alice")
        run = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=900)
        assert run.returncode == 0, run.stdout + run.stderr
    text = summary.read_text()
    assert "| ex01_linear_regression | test_mse | passed |" in text
    assert "Public checks only" in text and "Final grades add hidden checks" in text
    rows = (tmp_path / "feedback" / a / "grades.csv").read_text().splitlines()
    assert rows[0] == "student,test,status,points,max_points,message" and len(rows) > 2


def test_for_credit_refuses_without_a_built_book(tmp_path):
    """No built book, no for-credit bundle (the HTML is its book), and nothing half-written."""
    with pytest.raises(BuildError, match="make book"):
        build(tmp_path / "out", root=tmp_path)
    assert not (tmp_path / "out").exists()


def test_public_grade_runs_the_courses_test_cells_not_the_students(tmp_path):
    """A student who blanks the test cells still gets the course's public checks."""
    import csv

    from course_nn.release_credit.public_grade import main

    a = "ex01_linear_regression"
    released = T.read(ROOT / "exercises" / a / f"{a}.ipynb")
    tests = {c["metadata"]["nbgrader"]["grade_id"]: "pass" for c in released["cells"]
             if c["cell_type"] == "code" and c["metadata"].get("nbgrader", {}).get("grade")}
    T.write(tmp_path / "sub" / "exercises" / a / f"{a}.ipynb", T.with_sources(released, tests))
    assert main(["--course", str(ROOT), "--submission", str(tmp_path / "sub"),
                 "--out", str(tmp_path / "feedback"), "--student", "bob"]) == 0
    with (tmp_path / "feedback" / a / "grades.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert {r["test"] for r in rows} == set(tests)
    assert all(r["student"] == "bob" and float(r["points"]) == 0 for r in rows), rows
    assert any("not implemented" in r["message"] for r in rows), rows


#: Diagnoses of generic wrong outputs (scaled, shifted, NaN, transposed, summed) of every
#: public case of every check, as JSON: "check/case/variant" -> the diagnosis or None.
GENERIC = r'''
import copy, json
import numpy as np
from course_nn.grading import REGISTRY
from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.inline import diagnose

VARIANTS = {"2x": lambda l: 2 * l, "neg": lambda l: -l, "plus1": lambda l: l + 1,
            "half": lambda l: l / 2, "zero": lambda l: np.zeros_like(l),
            "nan": lambda l: np.full_like(l, np.nan), "T": lambda l: l.T.copy(),
            "sum": lambda l: np.asarray(l.sum())}
out = {}
for name, check in sorted(REGISTRY.items()):
    if check.variant_params is not None:
        continue  # by hand, numbers of one's own: no expected values in the bundle
    for k, case in enumerate(check.cases(hidden=False)):
        expected = check.expected(copy.deepcopy(case))
        try:
            leaves = [to_float_array(leaf) for leaf in flatten_output(expected)]
        except (TypeError, ValueError):
            continue  # a structure: judged by code that ships as it is
        for variant, f in VARIANTS.items():
            with np.errstate(all="ignore"):
                parts = [f(leaf) for leaf in leaves]
                got = parts[0] if len(parts) == 1 else parts
                try:
                    out[f"{name}/{k}/{variant}"] = diagnose(check, case, expected, got)
                except Exception as err:
                    out[f"{name}/{k}/{variant}"] = f"raised {type(err).__name__}"
print(json.dumps(out))
'''


@pytest.mark.slow
def test_generic_wrong_outputs_get_the_same_verdict_and_problem(bundle, tmp_path):
    """Beyond the typical mistakes: the same verdict and problem line on generic wrong
    outputs of every public case, and never a "likely bug" the full course does not give."""
    full = json.loads(run_python(GENERIC, bundle=None, cwd=tmp_path).splitlines()[-1])
    mine = json.loads(run_python(GENERIC, bundle=bundle, cwd=tmp_path).splitlines()[-1])
    assert mine.keys() == full.keys() and len(full) > 100
    for key, said in full.items():
        assert (said is None) == (mine[key] is None), key
        if said is not None:
            problem, _, advice = said.partition("\n  likely bug: ")
            mine_problem, _, mine_advice = mine[key].partition("\n  likely bug: ")
            if key.split("/")[0] in WRONG_ONLY and mine_problem != problem:
                # the details of a wrong answer need a left-out function: the verdict stays
                assert mine_problem == WRONG_NOTE.format(names=WRONG_ONLY[key.split("/")[0]]), key
                continue
            assert mine_problem == problem, key
            assert mine_advice in ("", advice), key
    hinted = [k for k, said in full.items() if said and "likely bug" in said]
    same = [k for k in hinted if mine[k] == full[k]]
    assert len(same) >= len(hinted) // 2, (len(same), len(hinted))


# --- answers under other names (issue 19): what functions do, not only their code -----------
#: The functions issue 19 found: no check grades them, but code adapted from them passed
#: check() on public and hidden cases.
ISSUE_19 = {"binary_backprop", "mlp_forward_bias_unit", "logsumexp", "cross_entropy_between",
            "calibration_bins", "fit_torch"}

#: Student code adapted from those functions, importing them from course_nn as a student
#: of the open course can. Each passes check() with the full course; none may with the bundle.
ADAPTED = [
    {"label": "softmax from logsumexp", "check": "softmax", "function": "softmax",
     "equivalent": "logsumexp", "code": (
         "from course_nn.softmax import logsumexp\n\n"
         "def softmax(Z):\n"
         "    Z = np.asarray(Z, dtype=float)\n"
         "    return np.exp(Z - logsumexp(Z, axis=1)[:, None])\n")},
    {"label": "softmax from log_softmax", "check": "softmax", "function": "softmax",
     "equivalent": "log_softmax", "code": (
         "from course_nn.softmax import log_softmax\n\n"
         "def softmax(Z):\n"
         "    return np.exp(log_softmax(Z))\n")},
    {"label": "entropy from cross_entropy_between", "check": "entropy", "function": "entropy",
     "equivalent": "cross_entropy_between", "code": (
         "from course_nn.losses import cross_entropy_between\n\n"
         "def entropy(p):\n"
         "    return cross_entropy_between(p, p)\n")},
    {"label": "kl_divergence from cross_entropy_between", "check": "kl_divergence",
     "function": "kl_divergence", "equivalent": "cross_entropy_between", "code": (
         "from course_nn.losses import cross_entropy_between\n\n"
         "def kl_divergence(p, q):\n"
         "    return cross_entropy_between(p, q) - cross_entropy_between(p, p)\n")},
    {"label": "mlp_forward from mlp_forward_bias_unit", "check": "mlp_forward",
     "function": "mlp_forward", "equivalent": "mlp_forward_bias_unit", "code": (
         "from course_nn.mlp import bias_unit_form, mlp_forward_bias_unit\n\n"
         "def vector_to_params(theta, layer_sizes):  # the student's own, from section 3\n"
         "    params, start = [], 0\n"
         "    for fan_in, fan_out in zip(layer_sizes[:-1], layer_sizes[1:]):\n"
         "        W = theta[start:start + fan_in * fan_out].reshape(fan_out, fan_in)\n"
         "        start += fan_in * fan_out\n"
         "        params.append((W, theta[start:start + fan_out]))\n"
         "        start += fan_out\n"
         "    return params\n\n"
         "def mlp_forward(theta, layer_sizes, X, activation):\n"
         "    params = vector_to_params(theta, layer_sizes)\n"
         "    return mlp_forward_bias_unit(bias_unit_form(params), X, activation)\n")},
    {"label": "expected_calibration_error from calibration_bins",
     "check": "expected_calibration_error", "function": "expected_calibration_error",
     "equivalent": "calibration_bins", "code": (
         "from course_nn.plotting.softmax import calibration_bins\n\n"
         "def expected_calibration_error(P, y, num_bins):\n"
         "    P = np.asarray(P, dtype=float)\n"
         "    # nudged: a confidence on a bin edge (0.6 of 5 bins) belongs to the upper bin\n"
         "    bins = calibration_bins(P.max(axis=1) + 1e-9, P.argmax(axis=1) == y, num_bins)\n"
         "    full = bins.count > 0\n"
         "    gaps = np.abs(bins.accuracy[full] - bins.confidence[full])\n"
         "    return float(np.sum(bins.count[full] / bins.count.sum() * gaps))\n")},
    {"label": "torch_train_and_predict from fit_torch", "check": "torch_train_and_predict",
     "function": "torch_train_and_predict", "equivalent": "fit_torch", "code": (
         "import torch\n"
         "from course_nn.torch_twin import fit_torch\n\n"
         "def torch_train_and_predict(X_train, y_train, X_val, y_val, X_test):\n"
         "    torch.set_num_threads(1)\n"
         "    val_x, test_x = torch.as_tensor(X_val), torch.as_tensor(X_test)\n"
         "    best_loss, best_state = np.inf, None\n"
         "    for decay in (0.0, 1e-3, 1e-2, 3e-2):\n"
         "        torch.manual_seed(0)\n"
         "        net = torch.nn.Sequential(\n"
         "            torch.nn.Linear(2, 64), torch.nn.ReLU(), torch.nn.Linear(64, 64),\n"
         "            torch.nn.ReLU(), torch.nn.Linear(64, 2)).double()\n"
         "        for _ in range(20):  # 400 full-batch epochs, the validation loss every 20\n"
         "            fit_torch(net, X_train, y_train, l2=decay, learning_rate=0.05, epochs=20,\n"
         "                      batch_size=None, momentum=0.9, seed=0)\n"
         "            with torch.no_grad():\n"
         "                val = torch.nn.functional.cross_entropy(\n"
         "                    net(val_x), torch.as_tensor(y_val)).item()\n"
         "            if val < best_loss:\n"
         "                best_loss = val\n"
         "                best_state = {k: t.clone() for k, t in net.state_dict().items()}\n"
         "    net.load_state_dict(best_state)\n"
         "    with torch.no_grad():\n"
         "        P = torch.softmax(net(test_x), dim=1).numpy()\n"
         "    return P, [p.detach().numpy().astype(np.float32) for p in net.parameters()]\n")},
    {"label": "layer_backward from binary_backprop", "check": "layer_backward",
     "function": "layer_backward", "equivalent": "binary_backprop", "code": (
         "from course_nn.activations import get_activation\n"
         "from course_nn.backprop import binary_backprop\n\n"
         "def layer_backward(dQ, Z, Q_prev, W, activation):\n"
         "    dQ, Z, Q_prev, W = (np.asarray(a, dtype=float) for a in (dQ, Z, Q_prev, W))\n"
         "    n, out = Z.shape\n"
         "    h, _ = get_activation(activation)\n"
         "    dZ = np.zeros_like(Z)\n"
         "    for j in range(out):  # a network Z -> h(Z) -> one sigmoid unit reading unit j\n"
         "        pick = np.zeros((1, out))\n"
         "        pick[0, j] = 1.0\n"
         "        params = [(np.eye(out), np.zeros(out)), (pick, np.zeros(1))]\n"
         "        a = 1.0 / (1.0 + np.exp(-h(Z)[:, j]))\n"
         "        run = binary_backprop(params, Z, a - n * dQ[:, j], activation)\n"
         "        dZ[:, j] = run.deltas[1][:, j]\n"
         "    return dZ @ W, dZ.T @ Q_prev, dZ.sum(axis=0)\n")},
]


def test_answers_under_other_names_are_stubs_in_the_bundle_only(bundle, tmp_path):
    """The functions of issue 19 are listed and raise in the bundle, saying they are not in
    the for-credit release; the repository's (the open course's, the book's) still work."""
    listed = {name for _, name in ANSWERS_UNDER_OTHER_NAMES}
    assert ISSUE_19 <= listed
    equivalents = equivalent_functions(ROOT)
    assert {e.name for e in equivalents} == listed
    code = r"""
import importlib, inspect, json, sys
out = {}
for module, name in json.loads(sys.argv[1]):
    func = getattr(importlib.import_module(module), name)
    params = inspect.signature(func).parameters.values()
    args = [None] * sum(p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD
                        for p in params)
    kwargs = {p.name: None for p in params if p.default is p.empty and p.kind is p.KEYWORD_ONLY}
    try:
        func(*args, **kwargs)
        out[name] = "returned"
    except NotImplementedError as err:
        out[name] = str(err)
    except Exception as err:
        out[name] = type(err).__name__
print(json.dumps(out))
"""
    specs = json.dumps([[e.module, e.name] for e in equivalents])
    said = json.loads(run_python(code, specs, bundle=bundle, cwd=tmp_path))
    live = json.loads(run_python(code, specs, bundle=None, cwd=tmp_path))
    for e in equivalents:
        assert said[e.name].startswith(f"{e.name} is not available in the for-credit release"), said
        assert e.exercise in said[e.name]
        assert "not available" not in live[e.name], live  # the open course is unchanged


@pytest.mark.slow
def test_adapted_answers_pass_with_the_full_course_and_not_with_the_bundle(bundle):
    """The issue's adapted code, one piece per listed function: with the repository's
    course_nn every piece passes check(); with the bundle's none does, each stopped by the
    stub of the function it adapts (the student's own answers of other exercises filled
    in, so that nothing else stops it)."""
    assert {p["equivalent"] for p in ADAPTED} == ISSUE_19 | {"log_softmax"}
    full = run_adapted(ADAPTED, None)
    assert Path(full["course_nn"]).resolve().is_relative_to(ROOT.resolve())
    assert {k: v["passed"] for k, v in full["outcomes"].items()} == {
        p["label"]: True for p in ADAPTED}, full["outcomes"]
    mine = run_adapted(ADAPTED, bundle)
    assert Path(mine["course_nn"]).resolve().is_relative_to(bundle.resolve())
    for piece in ADAPTED:
        outcome = mine["outcomes"][piece["label"]]
        assert not outcome["passed"], piece["label"]
        assert f"{piece['equivalent']} is not available in the for-credit release" in (
            outcome["raised"] or ""), (piece["label"], outcome)


@pytest.mark.slow
def test_no_function_of_the_bundle_gives_a_graded_answer_by_behaviour(bundle):
    """The behavioural search over the bundle's course_nn (every function, every check's
    public cases, views of the arguments, a transform first, one line of glue after)
    finds nothing that passes check(). It prints its size and time."""
    report = search(bundle)
    assert Path(report.course_nn).resolve().is_relative_to(bundle.resolve())
    assert report.checks == len(REGISTRY) and report.candidates >= 100
    assert len(report.answered) >= 20  # the student's own answers filled the stubs
    print(f"\nbehavioural search: {report.candidates} functions x {report.checks} checks, "
          f"{report.calls} calls in {report.seconds} s, {report.timed_out_calls} timed out "
          f"{report.slow}")
    assert report.findings == [], "\n".join(f"{f.check}: {f.recipe}" for f in report.findings)


@pytest.mark.slow
def test_the_search_finds_the_answers_under_other_names_when_they_are_live(bundle, tmp_path):
    """Could the search fail? The bundle's course_nn with the modules of issue 19 as they
    would be without ANSWERS_UNDER_OTHER_NAMES (graded functions stubbed, the rest live):
    it finds logsumexp, log_softmax, cross_entropy_between, bias_unit_form with
    mlp_forward_bias_unit, calibration_bins and fit_torch (train_and_predict's answer) by
    what they do. binary_backprop (one sigmoid output unit), and fit_torch for
    torch_train_and_predict (which chooses its model on a validation split), give no
    check's answer behind one line: the adapted-code test covers them."""
    from course_nn.release_credit.bundle import _imported_names
    from course_nn.release_credit.stubs import stub_source

    shutil.copytree(bundle / "course_nn", tmp_path / "course_nn")
    graded = graded_functions(ROOT)
    imported = _imported_names(tmp_path / "course_nn")
    for module in {m for m, _ in ANSWERS_UNDER_OTHER_NAMES}:
        relative = module.replace(".", "/") + ".py"
        source = (ROOT / relative).read_text(encoding="utf-8")
        (tmp_path / relative).write_text(
            stub_source(source, [g for g in graded if g.module == module], imported))
    import importlib

    functions = [f"{m}.{n}" for m, n in ANSWERS_UNDER_OTHER_NAMES  # classes are no candidates
                 if inspect.isfunction(getattr(importlib.import_module(m), n))] + [
        "course_nn.mlp.bias_unit_form"]
    checks = ["softmax", "entropy", "kl_divergence", "mlp_forward", "train_and_predict",
              "mlp_forward_2layer", "expected_calibration_error", "torch_train_and_predict",
              "layer_backward", "mlp_loss_and_grads"]
    report = search(tmp_path, functions=functions, checks=checks)
    assert Path(report.course_nn).resolve().is_relative_to(tmp_path.resolve())
    found = {(f.check, f.function.rsplit(".", 1)[-1]) for f in report.findings}
    assert found >= {
        ("softmax", "logsumexp"), ("softmax", "log_softmax"),
        ("entropy", "cross_entropy_between"), ("kl_divergence", "cross_entropy_between"),
        ("mlp_forward", "mlp_forward_bias_unit"), ("mlp_forward", "bias_unit_form"),
        ("mlp_forward_2layer", "mlp_forward_bias_unit"),
        ("expected_calibration_error", "calibration_bins"), ("train_and_predict", "fit_torch")}, found


def test_chapters_that_call_left_out_functions_say_so(bundle):
    """The bundle's README lists, per chapter, the left-out functions it calls, and each such
    chapter notebook opens with a note; the repository's chapters have no such note."""
    readme = (bundle / "README.md").read_text()
    assert "## Chapters you cannot re-run with this release" in readme
    line = next(x for x in readme.splitlines() if "ch04_softmax.ipynb" in x)
    assert "`logsumexp`" in line and "`softmax`" in line
    for folder in (bundle / "book" / "notebooks", bundle / "book" / "html" / "_sources" / "book"):
        nb = json.loads((folder / "ch04_softmax.ipynb").read_text())
        first = nb["cells"][0]
        assert first["cell_type"] == "markdown" and "for-credit-note" in first["metadata"]["tags"]
        assert "`logsumexp`" in first["source"] and "cannot be re-run" in first["source"]
    for chapter in sorted((ROOT / "book").glob("ch*.ipynb")):
        text = chapter.read_text()
        assert "for-credit-note" not in text and "For-credit release." not in text


# --- debugging items: the given function's behaviour, stored ----------------------------------
#: Runs the solution cells and the cells that define a debugging item's given function
#: (``<name>_given``), then check("<name>", <name>_given) for each: JSON of the outcomes.
GIVEN_RUNNER = r"""
import ast, contextlib, io, json, re, sys
import matplotlib
matplotlib.use("Agg")
import course_nn
from course_nn.grading.inline import check

def imports_only(source):
    try:
        return all(isinstance(n, (ast.Import, ast.ImportFrom)) for n in ast.parse(source).body)
    except SyntaxError:
        return False

out = {}
for path in sys.argv[1:]:
    scope = {"__name__": "__main__"}
    for cell in json.load(open(path, encoding="utf-8"))["cells"]:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        source = "".join(cell["source"])
        if cell["cell_type"] != "code" or (meta.get("grade") and not meta.get("solution")):
            continue
        if meta.get("solution") or imports_only(source) or re.search(r"^def \w+_given\(",
                                                                     source, re.M):
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(source, "cell", "exec"), scope)
    for name in [k for k in scope if k.endswith("_given") and callable(scope[k])]:
        printed = io.StringIO()
        try:
            with contextlib.redirect_stdout(printed):
                check(name[:-len("_given")], scope[name])
            out[name[:-len("_given")]] = ["ok", printed.getvalue()]
        except Exception as err:
            out[name[:-len("_given")]] = [type(err).__name__, str(err)]
print(json.dumps({"course_nn": course_nn.__file__, "given": out}))
"""


@pytest.mark.slow
def test_a_given_function_submitted_unchanged_hears_so_in_the_bundle(bundle, tmp_path):
    """Every debugging item: its given function, submitted unchanged, fails check() with
    "behaves like the given function on this case", in the bundle (from the stored
    behaviour of the given code) exactly as in the full course."""
    from course_nn.grading.messages import GIVEN_BEHAVIOUR

    notebooks = [str(_notebook(bundle, a, "solution", tmp_path)) for a in EXERCISES]
    full = json.loads(run_python(GIVEN_RUNNER, *notebooks, bundle=None, cwd=tmp_path))
    mine = json.loads(run_python(GIVEN_RUNNER, *notebooks, bundle=bundle, cwd=tmp_path))
    assert Path(mine["course_nn"]).resolve().is_relative_to(bundle.resolve())
    debugging = {n for n, c in REGISTRY.items() if c.kind == "debugging"}
    assert set(full["given"]) == debugging and len(debugging) >= len(EXERCISES)
    for name, outcome in full["given"].items():
        assert outcome[0] == "CheckFailure" and GIVEN_BEHAVIOUR in outcome[1], (name, outcome)
    assert mine["given"] == full["given"]


# --- issue 23: stub docstrings say the job, not the answer -------------------------------------
def _bundle_docstring(bundle: Path, module: str, name: str) -> str:
    import ast

    tree = ast.parse((bundle / (module.replace(".", "/") + ".py")).read_text())
    node = next(n for n in tree.body if getattr(n, "name", None) == name)
    return ast.get_docstring(node)


def test_stub_docstrings_keep_the_job_and_drop_the_formulas(bundle):
    """count_parameters, softmax, temperature_nll and mlp_forward in the bundle: summary,
    parameters, returns and shapes stay; the Math section, worked examples and formulas
    that state the answer are gone (the repository's docstrings keep them)."""
    from course_nn.losses import temperature_nll
    from course_nn.mlp import count_parameters, mlp_forward
    from course_nn.softmax import softmax

    doc = _bundle_docstring(bundle, "course_nn.mlp", "count_parameters")
    assert doc == "Number of weights and biases of an MLP."
    assert "s_{l-1} + 1" in count_parameters.__doc__ and "4·3 + 3" in count_parameters.__doc__
    doc = _bundle_docstring(bundle, "course_nn.softmax", "softmax")
    assert doc.startswith("Softmax along ``axis``: non-negative values that sum to 1")
    assert "Parameters\n----------\nZ : array of shape (n, M), (M,) or any shape" in doc
    assert "Returns\n-------\nA : array of Z's shape" in doc
    assert "Math" not in doc and ":math:" not in doc and "\\max_l z_l" in softmax.__doc__
    doc = _bundle_docstring(bundle, "course_nn.losses", "temperature_nll")
    assert doc.startswith("The mean cross-entropy of") and "T : float > 0" in doc
    assert "nll, dnll_dT : floats" in doc
    assert "Math" not in doc and "z_{i,y_i}" not in doc and "z_{i,y_i}" in temperature_nll.__doc__
    doc = _bundle_docstring(bundle, "course_nn.mlp", "mlp_forward")
    assert "X : array of shape (n, p)" in doc and "out : array of shape (n, M)" in doc
    assert "Q^{(l)} = h(Z^{(l)})" not in doc and "Q^{(l)} = h(Z^{(l)})" in mlp_forward.__doc__


def test_stub_docstring_drops_what_states_the_answer():
    """stub_docstring alone: a closing formula of the summary, a description with a formula,
    Notes, Math and Examples sections and free paragraphs go; the rest stays as written."""
    from course_nn.release_credit.stubs import stub_docstring

    doc = """Sum of squares, :math:`\\sum_i x_i^2`.

    It squares and adds.

    Parameters
    ----------
    x : array of shape (n,)
        The numbers.

    Returns
    -------
    s : float
        :math:`x^\\top x`, never negative.
    n : int

    Notes
    -----
    Use ``x @ x``.

    Examples
    --------
    >>> f([3, 4])
    25
    """
    assert stub_docstring(doc) == ("Sum of squares.\n\nParameters\n----------\n"
                                   "x : array of shape (n,)\n    The numbers.\n\n"
                                   "Returns\n-------\ns : float\nn : int")


# --- judges that need a left-out function ------------------------------------------------------
#: Diagnoses of the bundle's judges that need left-out functions, as JSON: the judged
#: answer -> [diagnosis, printed].
LEFT_OUT = r"""
import contextlib, io, json
import numpy as np
import course_nn
from course_nn.grading import REGISTRY
from course_nn.grading.core import diagnose

def judged(name, got):
    check = REGISTRY[name]
    case = check.cases(hidden=False)[0]
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        said = diagnose(check, case, check.expected(case), got)
    return [said, printed.getvalue()]

fit = REGISTRY["fit_temperature"]
T = float(fit.expected(fit.cases(hidden=False)[0]))
X, y, _ = REGISTRY["initial_loss_check"].cases(hidden=False)[0].args
p, M = X.shape[1], int(y.max()) + 1
rng = np.random.default_rng(0)
W1, W2 = rng.normal(scale=0.1, size=(8, p)), rng.normal(scale=0.1, size=(M, 8))
same = (float(np.log(M)), np.zeros((8, p)), np.zeros(8), np.zeros((M, 8)), np.zeros(M))
out = {
    "right T": judged("fit_temperature", T), "2T": judged("fit_temperature", 2 * T),
    "negative T": judged("fit_temperature", -T),
    "no network": judged("initial_loss_check", (1.0,)),
    "not chaining": judged("initial_loss_check", (1.0, W1, np.zeros(8), W1, np.zeros(8))),
    "units alike": judged("initial_loss_check", same),
}
print(json.dumps({"course_nn": course_nn.__file__, "out": out}))
"""


def test_judges_that_need_left_out_functions_keep_what_they_can(bundle, tmp_path):
    """fit_temperature: the same verdicts, a wrong T fails without the loss numbers;
    initial_loss_check: a malformed answer fails as in the full course, a well-formed one
    passes on its form with a note that the rest is graded when you submit."""
    full = json.loads(run_python(LEFT_OUT, bundle=None, cwd=tmp_path))["out"]
    made = json.loads(run_python(LEFT_OUT, bundle=bundle, cwd=tmp_path))
    assert Path(made["course_nn"]).resolve().is_relative_to(bundle.resolve())
    mine = made["out"]
    assert full["right T"] == mine["right T"] == [None, ""]
    assert full["2T"][0].startswith("the loss on these logits is")
    assert mine["2T"][0].startswith(WRONG_NOTE.format(names="`temperature_nll`"))
    for malformed in ("negative T", "no network", "not chaining"):
        assert mine[malformed] == full[malformed] and full[malformed][0], malformed
    assert "starts with the same weights" in full["units alike"][0]
    assert mine["units alike"] == [None, _form_note("initial_loss_check") + "\n"]
