"""End to end: a batch holding every hazard and cheating route, graded by ``course-nn grade``.

Each submission is made from the released chapter-1 notebook: honest (solutions
pasted in), partial, stub, and one per hazard of issue 3 (unreadable, missing,
renamed or symlinked notebooks, numpy.py beside it, a bogus kernelspec, sys.exit,
os._exit, a segfault, a memory bomb, loops that ignore SIGINT, 100 MB of output,
writes outside the sandbox, edits to the gradebook, deleted/edited test cells,
course_nn imports, monkeypatched numpy/check, IPython input transformers, a noisy
but correct answer, attacks on the runner and on the answer files, killing the
grader). The batch is graded once per session and every test asks one question.
"""

from __future__ import annotations

import csv
import hashlib
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import pytest

from course_nn.grading.hardened import GradingError, Limits, grade_assignment, sandbox
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.sandbox import bwrap_works, landlock_abi
from course_nn.release import tool_env

pytestmark = [pytest.mark.grading, pytest.mark.slow]

A = "ex01_linear_regression"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb")
TESTS = {t.grade_id: t.points for t in SPEC.tests}  # the instructor notebook decides
MAX = sum(TESTS.values())
MANUAL = sum(c.points for c in SPEC.cells if c.role == "manual")
CELL_OF = {"test_linear_forward": "linear_forward", "test_mse": "mse",
           "test_linear_mse_grads": "linear_mse_grads", "test_fit_least_squares": "fit_least_squares"}
TIMEOUT = 5.0
MARKER = b"pwned-by-student"
# Without bubblewrap or Landlock nothing stops a write outside the box (see sandbox.py).
FS_LAYER = bwrap_works() or landlock_abi() > 0

WRONG_MSE = "def mse(y_hat, y):\n    return 0.0\n"
HONEST_MSE_WITH_NOISE = '''import sys, warnings

def mse(y_hat, y):
    warnings.warn("this is only a warning", UserWarning)
    print("debug: computing the loss", file=sys.stderr)
    return float(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2))
'''
WRITES = '''import os
for target in {targets!r}:
    try:
        with open(target, "ab") as fh:
            fh.write({marker!r})
    except Exception as err:
        print("blocked:", target, type(err).__name__)
'''
FIND_GRADEBOOK = '''import os
here = os.getcwd()
for _ in range(8):
    for name in ("gradebook.db", "../gradebook.db"):
        try:
            with open(os.path.join(here, name), "r+b") as fh:
                fh.write({marker!r})
        except Exception:
            pass
    here = os.path.dirname(here)
'''
REWRITE_RUNNER = '''import glob, os, sys
control = os.path.dirname(os.path.abspath(sys.argv[0]))
for path in glob.glob(os.path.join(control, "*")):
    try:
        with open(path, "w") as fh:
            fh.write("raise SystemExit")
    except Exception as err:
        print("blocked:", path, type(err).__name__)


def mse(y_hat, y):
    os._exit(1)  # make the grader start the (rewritten?) runner again
'''
FIFO_ANSWERS = '''import os
for name in ("test_3.json", "test_3.npz"):
    try:
        os.mkfifo(os.path.join(os.getcwd(), "..", "out", name))
    except Exception as err:
        print(err)


def fit_least_squares(X, y):
    os._exit(0)  # leave the FIFOs where the answers of this test should be
'''
ESCAPE_BLOCKER = '''def linear_mse_grads(X, y, W, b):
    import pkgutil, sys
    for module in pkgutil.iter_modules():
        if module.name.startswith("__editable__"):
            __import__(module.name).install()
    sys.meta_path[:] = [f for f in sys.meta_path if "Block" not in type(f).__name__]
    sys.path.insert(0, {root!r})
    import course_nn
    return course_nn.linear_mse_grads(X, y, W, b)
'''


def _hazards(course: Path, sol: dict[str, str], tmp_marker: Path = Path("/m")) -> dict[str, dict]:
    """student -> {"cells": sources to change, "expect": {test: (status, points)}, ...}."""
    full = {t: ("passed", p) for t, p in TESTS.items()}

    def only(test, status, points=0, flagged_others=()):
        expect = dict(full)
        expect[test] = (status, points)
        for other in flagged_others:
            expect[other] = ("flagged", TESTS[other])
        return expect

    targets = ["../../gradebook.db", "../../../gradebook.db", str(course / "gradebook.db"),
               str(course / "solutions" / A / f"{A}.ipynb"), str(tmp_marker)]
    hazards = {
        "honest": {"expect": full},
        "partial": {"cells": {"mse": "def mse(y_hat, y):\n    return float(np.sum((y_hat - y) ** 2))"},
                    "expect": only("test_mse", "failed")},
        "stub": {"stub": True, "expect": {t: ("error", 0) for t in TESTS}},
        "truncated": {"raw": "half", "expect": {t: ("ungradable", 0) for t in TESTS}},
        "not_json": {"raw": b"\x00\x01PK\x03 this is not a notebook",
                     "expect": {t: ("ungradable", 0) for t in TESTS}},
        "missing_notebook": {"no_notebook": True, "expect": {t: ("ungradable", 0) for t in TESTS}},
        "symlinked_notebook": {"symlink": True, "expect": {t: ("ungradable", 0) for t in TESTS}},
        "renamed": {"name": "my_work.ipynb", "expect": full, "flag": "notebook renamed"},
        "numpy_py": {"extra": {"numpy.py": "allclose = lambda *a, **k: True\nraise SystemExit\n"},
                     "expect": full, "flag": "extra files"},
        "bogus_kernelspec": {"kernelspec": {"name": "no-such-kernel", "display_name": "Bogus",
                                            "language": "brainfuck"},
                             "expect": full, "flag": "kernelspec"},
        "sys_exit": {"cells": {"mse": "import sys\n\ndef mse(y_hat, y):\n    sys.exit(0)\n"},
                     "expect": only("test_mse", "error")},
        "os_exit": {"cells": {"mse": "import os\n\ndef mse(y_hat, y):\n    os._exit(3)\n"},
                    "expect": only("test_mse", "crashed")},
        "segfault": {"cells": {"linear_mse_grads": "import ctypes\nctypes.string_at(0)\n\n"
                                                   + sol["linear_mse_grads"]},
                     "expect": only("test_linear_mse_grads", "crashed")},
        "memory_bomb": {"cells": {"fit_least_squares": "def fit_least_squares(X, y):\n"
                                  "    hog = [bytearray(10**8) for _ in range(10**4)]\n    return hog\n"},
                        "expect": only("test_fit_least_squares", "error")},
        "infinite_loop": {"cells": {"mse": "def mse(y_hat, y):\n    while True:\n        pass\n"},
                          "expect": only("test_mse", "timeout")},
        "sigint_loop": {"cells": {"fit_least_squares": "import signal\n"
                                  "signal.signal(signal.SIGINT, signal.SIG_IGN)\n"
                                  "signal.signal(signal.SIGTERM, signal.SIG_IGN)\nwhile True:\n    pass\n\n"
                                  + sol["fit_least_squares"]},
                        "expect": only("test_fit_least_squares", "timeout")},
        "big_output": {"cells": {"linear_forward": "print('x' * 100_000_000)\n" + sol["linear_forward"]},
                       "expect": full},
        "writes_outside": {"cells": {"linear_forward": WRITES.format(targets=targets, marker=MARKER)
                                     + sol["linear_forward"]},
                           "expect": only("test_linear_forward", "flagged", TESTS["test_linear_forward"])},
        "gradebook_edit": {"cells": {"mse": FIND_GRADEBOOK.format(marker=MARKER) + WRONG_MSE},
                           "expect": only("test_mse", "failed")},
        "deleted_test_cell": {"delete": "test_mse", "expect": only("test_mse", "flagged", TESTS["test_mse"])},
        "edited_test_cell": {"cells": {"mse": WRONG_MSE, "test_mse": "pass"},
                             "expect": only("test_mse", "failed")},
        "lost_metadata": {"strip_meta": "mse", "expect": only("test_mse", "flagged", TESTS["test_mse"])},
        "syntax_error": {"cells": {"mse": "def mse(y_hat, y) return 0\n"},
                         "expect": only("test_mse", "error")},
        "imports_course_nn": {"cells": {
            "mse": "from course_nn.linear import mse as _reference\n\n"
                   "def mse(y_hat, y):\n    return _reference(y_hat, y)\n",
            "linear_forward": f"def linear_forward(X, W, b):\n    import sys\n"
                              f"    sys.path.insert(0, {str(T.ROOT)!r})\n    import course_nn\n"
                              f"    return course_nn.linear_forward(X, W, b)\n",
            "linear_mse_grads": ESCAPE_BLOCKER.format(root=str(T.ROOT))},
            "expect": {**full, "test_linear_forward": ("error", 0), "test_mse": ("error", 0),
                       "test_linear_mse_grads": ("error", 0) if FS_LAYER
                       else ("flagged", TESTS["test_linear_mse_grads"])}},
        "monkeypatch": {"cells": {"mse": "import numpy as np\n"
                                  "np.testing.assert_allclose = lambda *a, **k: None\n"
                                  "np.allclose = lambda *a, **k: True\n"
                                  "np.isclose = lambda *a, **k: True\n"
                                  "check = lambda *a, **k: None\n\n" + WRONG_MSE},
                        "expect": only("test_mse", "failed")},
        "ipython_transformer": {"cells": {"mse": "ip = get_ipython()\n"
                                          "ip.input_transformers_cleanup.append(\n"
                                          "    lambda lines: [l for l in lines if 'check(' not in l])\n\n"
                                          + WRONG_MSE},
                                "expect": only("test_mse", "error")},
        "stderr_warning": {"cells": {"mse": HONEST_MSE_WITH_NOISE}, "expect": full},
        "fifo_answers": {"cells": {"fit_least_squares": FIFO_ANSWERS},
                         "expect": only("test_fit_least_squares", "crashed")},
    }
    if FS_LAYER:  # without a file-system layer the student can sabotage their own runner
        hazards["rewrites_runner"] = {"cells": {"mse": REWRITE_RUNNER},
                                      "expect": only("test_mse", "crashed")}
    if bwrap_works() or landlock_abi() >= 6:  # without either, this would kill the grader
        hazards["kills_grader"] = {
            "cells": {"mse": "import os, signal\n\ndef mse(y_hat, y):\n"
                             "    os.kill(os.getppid(), signal.SIGKILL)\n    return 0.0\n"},
            "expect": {**full, "test_mse": ("*", 0)}}
    return hazards


def _notebook(released: dict, sol: dict[str, str], hazard: dict) -> dict:
    nb = T.with_sources(released, {} if hazard.get("stub") else sol)
    nb = T.with_sources(nb, hazard.get("cells", {}))
    cells = nb["cells"]
    if "delete" in hazard:
        nb["cells"] = [c for c in cells
                       if (c.get("metadata", {}).get("nbgrader") or {}).get("grade_id") != hazard["delete"]]
    if "strip_meta" in hazard:
        for c in cells:
            if (c.get("metadata", {}).get("nbgrader") or {}).get("grade_id") == hazard["strip_meta"]:
                c["metadata"] = {}
    if "kernelspec" in hazard:
        nb["metadata"]["kernelspec"] = hazard["kernelspec"]
    return nb


def tmp_marker() -> Path:
    """A fresh path outside every course, which a student's code tries to write."""
    return Path(tempfile.gettempdir()) / f"grader-hazard-{uuid.uuid4().hex}"


def build_course(base: Path, names: list[str] | None = None,
                 marker: Path = Path("/m")) -> tuple[Path, dict]:
    """A course with one submission per hazard; returns it and the hazards."""
    course = T.make_course(base / "course", [A])
    released = T.read(course / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / A / f"{A}.ipynb"))
    hazards = _hazards(course, sol, marker)
    if names is not None:
        hazards = {k: v for k, v in hazards.items() if k in names}
    for student, hazard in hazards.items():
        nb = _notebook(released, sol, hazard)
        if hazard.get("no_notebook"):
            folder = T.submit(course, student, A, None).parent
            (folder / "notes.txt").write_text("I forgot the notebook\n")
        elif hazard.get("symlink"):
            folder = T.submit(course, student, A, None).parent
            (folder / f"{A}.ipynb").symlink_to(course / "solutions" / A / f"{A}.ipynb")
        elif "raw" in hazard:
            text = T.write(base / "tmp.ipynb", nb).read_bytes()
            T.submit(course, student, A, None, raw=text[: len(text) // 2]
                     if hazard["raw"] == "half" else hazard["raw"])
        else:
            path = T.submit(course, student, A, nb, name=hazard.get("name"))
            for name, text in hazard.get("extra", {}).items():
                (path.parent / name).write_text(text)
    return course, hazards


def fingerprint(course: Path) -> dict[str, str]:
    """Hash of every course file the grader must not change (its own outputs excluded)."""
    return {str(p.relative_to(course)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(course.rglob("*"))
            if p.is_file() and not p.is_symlink() and not {"graded", "autograded"} & set(p.parts)
            and p.name not in ("gradebook.db", "grades.csv")}


def rows(report) -> dict[str, dict[str, tuple[str, float, str]]]:
    return {r.student: {t.test: (t.status, t.points, t.message) for t in r.tests}
            for r in report.results}


def _run_batch(folder: Path) -> dict:
    """Build the course, grade it once, keep what the tests ask about (as JSON)."""
    marker = tmp_marker()
    course, _ = build_course(folder, marker=marker)
    before = fingerprint(course)
    report = grade_assignment(A, course=course, jobs=2, progress=False,
                              limits=Limits(timeout=TIMEOUT, memory_mb=1024))
    return {"course": str(course), "out": str(report.out), "rows": rows(report),
            "before": before, "marker": str(marker)}


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    """The hazard batch, graded once per session (shared by pytest-xdist workers)."""
    data = T.shared_result(tmp_path_factory.getbasetemp(), "hazard-batch", _run_batch)
    course, marker = Path(data["course"]), Path(data["marker"])
    sol = T.solutions(T.read(T.ROOT / "solutions" / A / f"{A}.ipynb"))
    got = {s: {t: tuple(v) for t, v in tests.items()} for s, tests in data["rows"].items()}
    yield {"course": course, "out": Path(data["out"]), "rows": got, "before": data["before"],
           "marker": marker, "hazards": _hazards(course, sol, marker)}
    marker.unlink(missing_ok=True)


def test_every_submission_has_a_row_per_test(batch):
    """Does the batch complete with one row per (student, test)?"""
    assert set(batch["rows"]) == set(batch["hazards"])
    for student, tests in batch["rows"].items():
        assert set(tests) == set(TESTS), student
    with (batch["out"] / "grades.csv").open() as fh:
        assert len(list(csv.DictReader(fh))) == len(batch["hazards"]) * len(TESTS)
    with (batch["out"] / "summary.csv").open() as fh:
        assert {r["student"] for r in csv.DictReader(fh)} == set(batch["hazards"])


@pytest.mark.parametrize("student", sorted(_hazards(Path("/c"), {k: "" for k in CELL_OF.values()})))
def test_each_hazard_ends_in_the_expected_status(batch, student):
    """Does each hazard end as the status we expect, with the points we expect?"""
    got = batch["rows"][student]
    for test, (status, points) in batch["hazards"][student]["expect"].items():
        if status != "*":
            assert got[test][0] == status, (student, test, got[test])
        assert got[test][1] == points, (student, test, got[test])


def test_no_wrong_answer_gains_points_and_honest_ones_lose_none(batch):
    """Are all points exactly those of the honest functions?"""
    for student, hazard in batch["hazards"].items():
        for test, (_, points) in hazard["expect"].items():
            assert batch["rows"][student][test][1] == points
            assert points in (0, TESTS[test])


def test_submission_wide_flags_reach_the_summary(batch):
    """Are renamed notebooks, extra files and strange kernelspecs flagged (not penalised)?"""
    with (batch["out"] / "summary.csv").open() as fh:
        summary = {r["student"]: r for r in csv.DictReader(fh)}
    for student, hazard in batch["hazards"].items():
        if "flag" in hazard:
            assert hazard["flag"] in summary[student]["flags"], student
    assert summary["honest"]["flags"] == ""
    assert summary["stderr_warning"]["flags"] == ""
    assert float(summary["honest"]["score"]) == float(summary["honest"]["max_score"]) == MAX


def test_cheating_routes_are_flagged(batch):
    """Do the cheating routes show up as flags the instructor can find?"""
    expected = {"imports_course_nn": "forbidden import", "monkeypatch": "tampering",
                "ipython_transformer": "IPython", "gradebook_edit": "gradebook",
                "writes_outside": "opens a file for writing", "edited_test_cell": "test cell edited",
                "deleted_test_cell": "test cell deleted", "lost_metadata": "lost its nbgrader"}
    for student, words in expected.items():
        messages = " ".join(m for _, _, m in batch["rows"][student].values())
        assert words in messages, (student, messages)


@pytest.mark.skipif(not FS_LAYER, reason="neither bubblewrap nor Landlock on this machine")
def test_nothing_in_the_course_changes(batch):
    """Do student writes (relative, absolute, the gradebook) leave the course untouched?"""
    course = batch["course"]
    assert fingerprint(course) == batch["before"]
    assert MARKER not in (course / "gradebook.db").read_bytes()
    assert not batch["marker"].exists()


def test_teaching_messages_survive_the_sandbox(batch):
    """Does a wrong answer get the same kind of teaching message as the notebook's check?"""
    status, _, message = batch["rows"]["partial"]["test_mse"]
    assert status == "failed"
    assert "public case 1 of 3" in message and "expected" in message and "got" in message
    assert "likely bug: you summed the squared errors" in message
    assert "not implemented" in batch["rows"]["stub"]["test_mse"][2]
    assert "SystemExit" in batch["rows"]["sys_exit"]["test_mse"][2]
    assert "MemoryError" in batch["rows"]["memory_bomb"]["test_fit_least_squares"][2]
    assert "SIGSEGV" in batch["rows"]["segfault"]["test_linear_mse_grads"][2]


def test_feedback_pages_are_written(batch):
    """Is there one escaped feedback page per student, naming every test?"""
    pages = {p.stem: p.read_text() for p in (batch["out"] / "feedback").glob("*.html")}
    assert set(pages) == set(batch["hazards"])
    assert all(test in pages["partial"] for test in TESTS)
    assert "<script" not in pages["big_output"]
    assert len(pages["big_output"]) < 200_000  # 100 MB printed, a bounded excerpt kept


@pytest.mark.skipif(not FS_LAYER, reason="without bubblewrap or Landlock a student can clobber it")
def test_nbgrader_export_sees_the_scores(batch):
    """Does ``nbgrader export`` read the scores the grader wrote to the gradebook?"""
    course = batch["course"]
    run = subprocess.run([sys.executable, "-m", "nbgrader", "export", "--log-level=ERROR"],
                         cwd=course, capture_output=True, text=True, env=tool_env())
    assert run.returncode == 0, run.stderr
    assert not (course / "grades.csv").exists()  # nbgrader_config.py: CsvExportPlugin.to
    with (course / "graded" / "nbgrader_grades.csv").open() as fh:
        exported = {r["student_id"]: r for r in csv.DictReader(fh)}
    assert float(exported["honest"]["raw_score"]) == MAX
    assert float(exported["partial"]["raw_score"]) == MAX - TESTS["test_mse"]
    assert float(exported["stub"]["raw_score"]) == 0
    assert float(exported["honest"]["max_score"]) == MAX + MANUAL  # + points graded by hand


@pytest.mark.skipif(not bwrap_works(), reason="bubblewrap not available: the batch ran without it")
@pytest.mark.parametrize("isolation", ["landlock", "basic"])
def test_without_bubblewrap_the_design_holds(tmp_path, isolation):
    """Without bubblewrap (Landlock only, or nothing but rlimits), do hazards still end well?"""
    if isolation == "landlock" and not landlock_abi():
        pytest.skip("no Landlock in this kernel")
    names = ["honest", "numpy_py", "imports_course_nn", "writes_outside", "os_exit", "monkeypatch"]
    marker = tmp_marker()
    course, hazards = build_course(tmp_path, names, marker)
    before = fingerprint(course)
    options = dict(course=course, jobs=2, progress=False, gradebook=False, isolation=isolation,
                   limits=Limits(timeout=TIMEOUT, memory_mb=1024))
    try:
        sandbox.unprivileged_user(sandbox.python_executable(), sandbox.site_paths(), False)
        unsafe = False
    except RuntimeError:  # root, and nobody cannot reach Python: the grader must refuse
        with pytest.raises(GradingError, match="would run as root"):
            grade_assignment(A, **options)
        unsafe = True  # the instructor insists: the other layers must still hold
    report = grade_assignment(A, unsafe=unsafe, **options)
    got = rows(report)
    for student, hazard in hazards.items():
        for test, (status, points) in hazard["expect"].items():
            escaped = (student == "imports_course_nn" and test == "test_linear_mse_grads"
                       and isolation == "basic")
            if escaped:  # with no file-system layer the reference is reachable: flagged
                assert got[student][test][0] in ("error", "flagged")
                assert "tampering" in got[student][test][2]
            else:
                assert got[student][test][:2] == (status, points), (student, test, got[student][test])
    if isolation == "landlock" or "user nobody" in report.sandbox:
        assert fingerprint(course) == before
        assert not marker.exists()
    marker.unlink(missing_ok=True)
