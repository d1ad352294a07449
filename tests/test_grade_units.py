"""Unit tests of the hardened grader's steps (fast; the end-to-end runs are elsewhere)."""

from __future__ import annotations

import ast
import importlib.util
import io
import zipfile
from pathlib import Path

import numpy as np
import pytest

from course_nn.grading import compare
from course_nn.grading.hardened import sandbox
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import SpecError, load_spec, strip_hidden
from course_nn.grading.hardened.cases import Packer
from course_nn.grading.hardened.model import Submission
from course_nn.grading.hardened.pipeline import shard
from course_nn.grading.hardened.results import Unreadable, read_npz
from course_nn.grading.hardened.scan import scan_source
from course_nn.grading.hardened.script import without_course_imports, without_magics
from course_nn.grading.hardened.structure import match_cells

pytestmark = pytest.mark.grading

ROOT = T.ROOT
A = "ex01_linear_regression"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())


def _child():
    """The child script as a module (the tests may import it; the grader never does)."""
    spec = importlib.util.spec_from_file_location("grader_child", sandbox.CHILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_child_script_imports_no_course_code():
    """Does the child script stay free of course_nn imports?"""
    tree = ast.parse(sandbox.CHILD.read_text())
    imported = {a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names}
    imported |= {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)}
    assert not any(name.startswith("course_nn") for name in imported)


@pytest.mark.parametrize("value", [
    np.ones(3), (np.ones(2), 1.5), [np.ones(2), [np.zeros(1), 2.0]], [1.0, 2.0], 3.0,
    ((np.ones((2, 2)), np.ones(2)), [(np.ones(1), np.ones(1))]), [], (), "text", None,
])
def test_child_flattens_outputs_like_compare(value):
    """Does the child's copy of flatten_output split outputs exactly like compare's?"""
    mine = _child().flatten_output(value, np)
    theirs = compare.flatten_output(value)
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert a is b


def test_inputs_survive_the_trip_to_the_child():
    """Do arrays, numpy scalars, numbers, strings and nested lists come back as they left?"""
    value = [np.arange(6.0).reshape(2, 3), np.float64(2.5), 3, "relu", None,
             [(np.ones(2), np.zeros(1))], {"lr": 0.1}, np.array(4.0)]
    packer = Packer()
    packed = packer.pack(value)
    back = _child().decode(packed, packer.arrays)
    assert isinstance(back[1], np.float64) and back[1] == 2.5
    assert back[2] == 3 and back[3] == "relu" and back[4] is None and back[6] == {"lr": 0.1}
    np.testing.assert_array_equal(back[0], value[0])
    assert isinstance(back[5][0], tuple) and back[7].shape == ()
    back[0][0, 0] = 99.0  # the child gets copies: one case cannot spoil the next
    assert packer.arrays["i0"][0, 0] == 0.0


def test_packer_refuses_what_is_not_plain_data():
    """Are callables and object arrays refused (the child gets numbers only)?"""
    with pytest.raises(TypeError, match="not plain data"):
        Packer().pack(len)
    with pytest.raises(TypeError, match="not plain data"):
        Packer().pack(np.array([None, 1], dtype=object))


def _npz_with_header(shape, dtype="<f8") -> bytes:
    """An npz whose one member claims ``shape`` but holds no data (a lying child)."""
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": dtype, "fortran_order": False,
                                                  "shape": shape})
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("x.npy", header.getvalue())  # the header writer adds the magic
    return out.getvalue()


def test_answers_are_size_checked_before_loading(tmp_path):
    """Does a forged header claiming a huge array fail cleanly instead of allocating?"""
    path = tmp_path / "huge.npz"
    path.write_bytes(_npz_with_header((10**7, 10**7)))
    with pytest.raises(Unreadable, match="larger than"):
        read_npz(path)


def test_answers_with_pickles_are_refused(tmp_path):
    """Is an object array (a pickle) in the answers refused?"""
    path = tmp_path / "obj.npz"
    np.savez(path, x=np.array([{"a": 1}], dtype=object))
    with pytest.raises(Unreadable, match="Python objects"):
        read_npz(path)
    path.write_bytes(b"not a zip file")
    with pytest.raises(Unreadable):
        read_npz(path)


def test_instructor_notebook_gives_points_and_hidden_calls():
    """Are points and public + hidden check calls read from the instructor notebook?"""
    spec = load_spec(ROOT / "solutions" / A / f"{A}.ipynb")
    assert spec.max_score == 10
    assert [t.grade_id for t in spec.tests][:2] == ["test_linear_forward", "test_mse"]
    for test in spec.tests:
        assert [c.hidden for c in test.calls] == [False, True]
        assert "HIDDEN" not in test.released_source


def test_released_notebook_gets_hidden_twins():
    """Does a released notebook (no hidden blocks) still get hidden checks?"""
    spec = load_spec(ROOT / "exercises" / A / f"{A}.ipynb")
    assert all([c.hidden for c in t.calls] == [False, True] for t in spec.tests)
    plain = load_spec(ROOT / "exercises" / A / f"{A}.ipynb", add_hidden=False)
    assert plain.tests[0].calls[-1].hidden is False


def test_unknown_check_stops_grading_early(tmp_path):
    """Is a grade cell naming an unregistered check an error before any student runs?"""
    nb = T.read(ROOT / "solutions" / A / f"{A}.ipynb")
    for cell in nb["cells"]:
        if "check(\"mse\"" in "".join(cell["source"]):
            cell["source"] = 'check("no_such_check", mse)'
    with pytest.raises(SpecError, match="no registered check named 'no_such_check'"):
        load_spec(T.write(tmp_path / "x.ipynb", nb))


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_instructor_solutions_scan_clean(assignment):
    """Do the instructor's own solutions raise no flag (no false alarms for honest code)?"""
    nb = T.read(ROOT / "solutions" / assignment / f"{assignment}.ipynb")
    for grade_id, source in T.solutions(nb).items():
        assert scan_source(source) == [], grade_id


@pytest.mark.parametrize(("source", "words"), [
    ("from course_nn.linear import mse", "forbidden import"),
    ("import course_nn as c", "forbidden import"),
    ("m = __import__('course_nn')", "forbidden import"),
    ("np.testing.assert_allclose = lambda *a, **k: None", "tampering: assigns np.testing"),
    ("setattr(np, 'allclose', lambda *a: True)", "tampering: setattr"),
    ("check = print", "tampering: redefines check"),
    ("def check(*a):\n    pass", "tampering: redefines check"),
    ("get_ipython().events.register('pre_run_cell', f)", "IPython"),
    ("import sys\nsys.modules['numpy'] = None", "tampering"),
    ("import builtins\nbuiltins.print = None", "tampering"),
    ("open('../../gradebook.db', 'wb')", "gradebook"),
    ("import os\nos._exit(0)", "exits the process"),
    ("import ctypes", "ctypes"),
    ("import os\nos.remove('x')", "writes or deletes files"),
])
def test_scan_finds_cheating_routes(source, words):
    """Does the static scan name each cheating route?"""
    assert any(words in finding for finding in scan_source(source)), scan_source(source)


@pytest.mark.parametrize("source", [
    "import numpy as np\ny = np.stack([x, x]).sum(axis=0)",
    "items = [1, 2]\nitems.remove(1)\nname = 'a'.replace('a', 'b')",
    "import os\np = os.path.join('a', 'b')",
    "import sys\nprint('note', file=sys.stderr)",
    "import warnings\nwarnings.warn('careful')",
])
def test_scan_leaves_ordinary_code_alone(source):
    """Does ordinary NumPy/Python code raise no flag?"""
    assert scan_source(source) == []


def _submission(nb) -> Submission:
    sub = Submission("s", Path("."))
    sub.notebook = nb
    return sub


def test_structure_flags_edits_deletions_and_retyping():
    """Are edited, deleted and re-typed cells flagged against the instructor notebook?"""
    spec = load_spec(ROOT / "solutions" / A / f"{A}.ipynb")
    nb = T.read(ROOT / "exercises" / A / f"{A}.ipynb")
    by_id = {c["metadata"]["nbgrader"]["grade_id"]: c for c in nb["cells"]
             if "nbgrader" in c.get("metadata", {})}
    by_id["test_mse"]["source"] = "pass"
    by_id["test_linear_forward"]["metadata"]["nbgrader"]["grade"] = False
    by_id["test_linear_mse_grads"]["metadata"]["nbgrader"]["points"] = 100
    nb["cells"].remove(by_id["test_fit_least_squares"])
    sub = _submission(nb)
    match_cells(sub, spec)
    assert any("edited" in f for f in sub.test_flags["test_mse"])
    assert any("re-typed" in f for f in sub.test_flags["test_linear_forward"])
    assert any("deleted" in f for f in sub.test_flags["test_fit_least_squares"])
    assert any("points changed to 100" in f for f in sub.test_flags["test_linear_mse_grads"])
    assert set(sub.solution_sources) == {"linear_forward", "mse", "linear_mse_grads",
                                         "fit_least_squares"}


def test_released_cells_match_their_instructor_version():
    """Does an untouched released notebook raise no structural flag at all?"""
    spec = load_spec(ROOT / "solutions" / A / f"{A}.ipynb")
    sub = _submission(T.read(ROOT / "exercises" / A / f"{A}.ipynb"))
    match_cells(sub, spec)
    assert sub.flags == [] and sub.test_flags == {}


def test_script_helpers():
    """Are course_nn imports blanked (lines kept) and magics commented out?"""
    source = "import numpy as np\n\nfrom course_nn.grading import check\nx = 1"
    assert without_course_imports(source) == "import numpy as np\n\n\nx = 1"
    assert without_magics("%matplotlib inline\nx = 1") == "# (magic removed) %matplotlib inline\nx = 1"
    assert without_magics("x = 1 % 2") == "x = 1 % 2"
    assert strip_hidden("a\n### BEGIN HIDDEN TESTS\nb\n### END HIDDEN TESTS\nc") == "a\nc"


def test_shards_cover_every_student_once():
    """Do the k/N shards split the students without overlap?"""
    students = [f"s{i}" for i in range(7)]
    parts = [shard(students, k, 3) for k in (1, 2, 3)]
    assert sorted(sum(parts, [])) == students


def test_required_isolation_layers_must_exist(monkeypatch):
    """Does asking for bubblewrap or Landlock where there is none fail with a clear message?"""
    monkeypatch.setattr(sandbox, "bwrap_works", lambda: False)
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: 0)
    with pytest.raises(RuntimeError, match="bubblewrap is not installed"):
        sandbox.layers("bwrap")
    with pytest.raises(RuntimeError, match="no Landlock"):
        sandbox.layers("landlock")
    assert sandbox.layers("auto") == (False, False)
    with pytest.raises(ValueError, match="isolation must be one of"):
        sandbox.layers("docker")


def test_child_never_sees_the_course_checkout():
    """Is the course checkout (with course_nn/) kept off the child's sys.path?"""
    paths = sandbox.site_paths()
    assert str(ROOT) not in paths and not any(sandbox._is_checkout(p) for p in paths)
    assert any((Path(p) / "numpy").is_dir() for p in paths)
