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
from course_nn.release_credit.bundle import BuildError, build, built_book
from course_nn.release_credit.graded import graded_functions

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
}

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
                 "course_nn/release_credit/bundle.py", "tests"):
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
    args = [None] * sum(p.default is p.empty and p.kind is p.POSITIONAL_OR_KEYWORD
                        for p in inspect.signature(func).parameters.values())
    try:
        func(*args)
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
    assert stored == {name: len(check.cases(hidden=False)) for name, check in REGISTRY.items()}
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
        assert mine == full, variant
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


@pytest.mark.slow
@pytest.mark.parametrize("a", EXERCISES)
def test_course_nn_check_gives_the_full_courses_verdicts_and_hints(bundle, tmp_path, a):
    """course-nn check in the bundle prints what the full course prints and exits alike."""
    for variant in ("solution", "stub", "wrong"):
        notebook = _notebook(bundle, a, variant, tmp_path)
        full = _course_nn_check(notebook, None, tmp_path)
        mine = _course_nn_check(notebook, bundle, tmp_path)
        assert mine == full, variant
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
    for k, case in enumerate(check.cases(hidden=False)):
        expected = check.reference(*copy.deepcopy(case.args))
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
            assert mine_problem == problem, key
            assert mine_advice in ("", advice), key
    hinted = [k for k, said in full.items() if said and "likely bug" in said]
    same = [k for k in hinted if mine[k] == full[k]]
    assert len(same) >= len(hinted) // 2, (len(same), len(hinted))
