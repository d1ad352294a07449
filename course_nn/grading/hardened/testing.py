"""Build throw-away courses and submissions: for the grading tests and the benchmark.

Book: none (instructor tooling).

An *honest* submission is the released notebook with the instructor's solution code
pasted into the student's solution cells (markers removed), which is what a student
who solved everything hands in.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any

from course_nn.grading.hardened.assignment import cell_source, nbgrader_meta

ROOT = Path(__file__).resolve().parents[3]
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION")


def read(path: Path) -> dict[str, Any]:
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write(path: Path, nb: dict[str, Any]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return path


def solutions(instructor: dict[str, Any]) -> dict[str, str]:
    """grade_id -> the instructor's solution code without the nbgrader markers."""
    found = {}
    for cell in instructor["cells"]:
        meta = nbgrader_meta(cell)
        if meta and meta.get("solution") and cell.get("cell_type") == "code":
            lines = cell_source(cell).splitlines()
            found[meta["grade_id"]] = "\n".join(
                line for line in lines if line.strip() not in MARKERS)
    return found


def with_sources(released: dict[str, Any], sources: dict[str, str]) -> dict[str, Any]:
    """A copy of ``released`` whose cells (by grade_id) hold the given sources."""
    nb = copy.deepcopy(released)
    for cell in nb["cells"]:
        meta = nbgrader_meta(cell)
        if meta and meta["grade_id"] in sources:
            cell["source"] = sources[meta["grade_id"]]
    return nb


def make_course(dest: Path, names: list[str], root: Path = ROOT) -> Path:
    """A course folder: nbgrader_config.py, solutions/<a>/ and exercises/<a>/ copied."""
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copy(root / "nbgrader_config.py", dest / "nbgrader_config.py")
    for name in names:
        for folder in ("solutions", "exercises"):
            shutil.copytree(root / folder / name, dest / folder / name, dirs_exist_ok=True,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    return dest


def submit(course: Path, student: str, assignment: str, nb: dict[str, Any] | None,
           name: str | None = None, raw: bytes | None = None) -> Path:
    """Place a notebook (or raw bytes) at ``submitted/<student>/<assignment>/<name>``."""
    folder = course / "submitted" / student / assignment
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (name or f"{assignment}.ipynb")
    if raw is not None:
        path.write_bytes(raw)
    elif nb is not None:
        write(path, nb)
    return path


def heaviest_assignment(root: Path = ROOT) -> str:
    """The released assignment with the most check calls (the benchmark's pick)."""
    best, weight = None, -1
    for folder in sorted((root / "solutions").iterdir()):
        notebook = folder / f"{folder.name}.ipynb"
        released = root / "exercises" / folder.name / f"{folder.name}.ipynb"
        if notebook.is_file() and released.is_file():
            text = notebook.read_text(encoding="utf-8")
            if text.count("check(") > weight:
                best, weight = folder.name, text.count("check(")
    if best is None:
        raise FileNotFoundError(f"no assignment in {root / 'solutions'}")
    return best


def shared_result(base: Path, name: str, compute) -> Any:
    """``compute(folder)`` once per test session, even across pytest-xdist workers.

    ``base`` is ``tmp_path_factory.getbasetemp()``; workers share its parent. The first
    caller computes under a file lock and stores the JSON result; the others read it.
    """
    import fcntl
    import os

    root = base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base
    data = root / f"{name}.json"
    with (root / f"{name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not data.exists():
            data.write_text(json.dumps(compute(root / name)), encoding="utf-8")
        return json.loads(data.read_text(encoding="utf-8"))


# --- issue 9: an honest class with every hostile submission mixed in -----------------
HOSTILE_ASSIGNMENT = "ex01_linear_regression"


def _spec(root: Path):
    from course_nn.grading.hardened.assignment import load_spec

    return load_spec(root / "solutions" / HOSTILE_ASSIGNMENT / f"{HOSTILE_ASSIGNMENT}.ipynb")


HOSTILE_HONEST = ["honest_1", "honest_2", "honest_3", "alice_smith"]
SURROGATE = "bad\udcffname"  # a folder whose name is not UTF-8 (b"bad\xffname" on disk)

RAISES_SURROGATE = '''def mse(y_hat, y):
    raise ValueError("lone surrogate \\udcff and an escape \\x1b[31m in my message")
'''
WARNS_SURROGATE = '''import warnings

def linear_forward(X, W, b):
    warnings.warn("surrogate \\udcff in a warning")
    print("printed \\x1b[31m escape and a bell \\x07", flush=True)
    return np.asarray(X, dtype=float) @ np.asarray(W, dtype=float).T + b
'''
HELPER_CELL = '''def _squared_errors(y_hat, y):
    return (np.asarray(y_hat, dtype=float) - np.asarray(y, dtype=float)) ** 2
'''
USES_HELPER = '''def mse(y_hat, y):
    return float(np.mean(_squared_errors(y_hat, y)))
'''
SCALAR_LIST = '''def linear_forward(X, W, b):
    X, W = np.asarray(X, dtype=float), np.asarray(W, dtype=float)
    return [np.float32(0) + np.dot(x, W.T) + b for x in X]  # a list of NumPy values
'''
FORGE_PROGRESS = '''import os, time

def _forge():
    lines = [b"S %d\\n" % i for i in range(60)] + [b"T %d\\n" % i for i in range(20)]
    for line in [b"R 0\\n", b"garbage\\n"] + lines:
        for fd in range(3, 40):
            try:
                os.write(fd, line)
            except OSError:
                pass
        time.sleep(0.4)
    while True:
        pass

_forge()
'''
FORGE_ANSWERS = '''import io, json, os, zipfile

def _npy(shape, descr="<f8"):
    header = repr({"descr": descr, "fortran_order": False, "shape": shape}).encode()
    header += b" " * (63 - len(header) % 64) + b"\\n"
    return b"\\x93NUMPY\\x01\\x00" + len(header).to_bytes(2, "little") + header

def mse(y_hat, y):
    out = os.path.join(os.getcwd(), "..", "out")
    with zipfile.ZipFile(os.path.join(out, "test_INDEX.npz"), "w") as archive:
        archive.writestr("c0_k0_0.npy", _npy((-1, 10**9)))
        archive.writestr("c0_k0_0.npy", _npy((10**5, 10**4)))
    with open(os.path.join(out, "test_INDEX.json"), "w") as fh:
        json.dump({"calls": [{"cases": [{"leaves": [{"n": 0, "key": "c0_k0_0"}]}]}]}, fh)
    os._exit(0)
'''
DEEP_TREE = '''import os, time
_here, _depth, _end = os.open(".", os.O_RDONLY), 0, time.monotonic() + 2.0
while _depth < 3000 and time.monotonic() < _end:  # Landlock makes deep paths slow
    os.mkdir("d", dir_fd=_here)
    _next = os.open("d", os.O_RDONLY, dir_fd=_here)
    os.close(_here)
    _here, _depth = _next, _depth + 1
os.close(_here)
print("tree depth", _depth)
'''
FILL_DISK = '''_written = 0
for _k in range(32):
    try:
        with open(f"big_{_k}.bin", "wb") as _fh:
            for _ in range(64):
                _fh.write(b"x" * 2**20)
        _written += 1
    except OSError as _err:
        print("disk full after", _written, "files:", type(_err).__name__)
        break
'''
SPAWN_BOMB = '''import os, time
for _ in range(4):
    if os.fork() == 0:
        try:
            _hog = bytearray(300 * 2**20)  # each child under its own limit, the tree over
            time.sleep(60)
        finally:
            os._exit(0)
time.sleep(60)
'''
WHO_AM_I = '''import os
print(f"child uid={os.getuid()} euid={os.geteuid()}")
'''


def _students(sol: dict[str, str], root: Path) -> dict[str, dict]:
    """student -> {"cells": {grade_id: source}, "added": [(after grade_id, source)], ...}."""
    mse_index = [t.grade_id for t in _spec(root).tests].index("test_mse")
    students = {name: {} for name in HOSTILE_HONEST}
    students.update({
        "alice~smith": {"cells": {"mse": "def mse(y_hat, y):\n    return 0.0\n"}},
        SURROGATE: {},
        "=1+2": {}, "@SUM(A1)": {}, "+cmd": {}, "-2+3": {},
        "surrogates": {"cells": {"mse": RAISES_SURROGATE, "linear_forward": WARNS_SURROGATE},
                       "grade_id": "x\udcff\x07y"},
        "helper_cell": {"cells": {"mse": USES_HELPER}, "added": [("linear_forward", HELPER_CELL)]},
        "scalar_list": {"cells": {"linear_forward": SCALAR_LIST}},
        "forged_progress": {"cells": {"mse": FORGE_PROGRESS + sol["mse"]}},
        "forged_answers": {"cells": {"mse": FORGE_ANSWERS.replace("INDEX", str(mse_index))}},
        "deep_tree": {"cells": {"linear_forward": DEEP_TREE + sol["linear_forward"]}},
        "fills_disk": {"cells": {"linear_forward": FILL_DISK + sol["linear_forward"]}},
        "spawn_bomb": {"cells": {"mse": SPAWN_BOMB + sol["mse"]}},
        "who_am_i": {"added": [(None, WHO_AM_I)]},
        "hidden_markers": {"added": [("mse", "### BEGIN HIDDEN TESTS\npass\n### END HIDDEN TESTS\n")]},
        "symlinked_assignment": {"link": "assignment"},
        "symlinked_student": {"link": "student"},
    })
    return students


def _hostile_notebook(released: dict, sol: dict[str, str], plan: dict) -> dict:
    nb = with_sources(with_sources(released, sol), plan.get("cells", {}))
    for after, source in reversed(plan.get("added", [])):
        ids = [(c.get("metadata", {}).get("nbgrader") or {}).get("grade_id") for c in nb["cells"]]
        at = ids.index(after) + 1 if after else 0
        nb["cells"].insert(at, {"cell_type": "code", "metadata": {}, "source": source,
                                "outputs": [], "execution_count": None, "id": f"added-{at}"})
    if "grade_id" in plan:
        nb["cells"].append({"cell_type": "code", "source": "x = 1", "outputs": [],
                            "execution_count": None, "metadata": {"nbgrader": {
                                "grade_id": plan["grade_id"], "solution": True, "grade": False,
                                "locked": False}}})
    return nb


def hostile_class(base: Path, root: Path = ROOT) -> tuple[Path, dict[str, dict]]:
    """A course whose ``submitted/`` holds an honest class with issue 9's hostile
    submissions mixed in; returns it and, per student, what was done."""
    course = make_course(base / "course", [HOSTILE_ASSIGNMENT], root)
    released = read(course / "exercises" / HOSTILE_ASSIGNMENT / f"{HOSTILE_ASSIGNMENT}.ipynb")
    sol = solutions(read(course / "solutions" / HOSTILE_ASSIGNMENT / f"{HOSTILE_ASSIGNMENT}.ipynb"))
    students = _students(sol, root)
    for student, plan in students.items():
        if plan.get("link") == "assignment":
            (course / "submitted" / student).mkdir(parents=True)
            (course / "submitted" / student / HOSTILE_ASSIGNMENT).symlink_to(
                course / "solutions" / HOSTILE_ASSIGNMENT)
        elif plan.get("link") == "student":
            (course / "submitted" / student).symlink_to(course / "solutions")
        else:
            submit(course, student, HOSTILE_ASSIGNMENT, _hostile_notebook(released, sol, plan))
    return course, students


def hostile_limits():
    """The limits the hostile class is graded with (tests and benchmark): short steps, a
    startup allowance for a loaded machine, 512 MB per process."""
    from course_nn.grading.hardened.sandbox import Limits

    return Limits(timeout=3, startup=15, memory_mb=512)


def child_module():
    """The child script as a module (tests may import it; the grader never does)."""
    import importlib.util

    from course_nn.grading.hardened.sandbox import CHILD

    spec = importlib.util.spec_from_file_location("grader_child", CHILD)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
