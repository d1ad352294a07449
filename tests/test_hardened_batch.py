"""End to end: issue 9's hostile submissions mixed into an honest class, graded once.

One student can never spoil the batch: lone surrogates and control characters in
messages, warnings, cell ids and folder names; two ids with one safe file name;
folder names a spreadsheet would evaluate; a symlinked assignment (and student)
folder pointing at the instructor's solutions; a helper function in an added cell;
an answer returned as a list of NumPy scalars; forged progress lines; forged answer
files; a 3000-level directory tree; a disk filler; a spawning memory bomb; the
hidden-test markers; and a check that the child is not root. Every test asks one
question of the same batch (graded once per session, in a private temp folder).
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path

import pytest

from course_nn.grading.hardened import grade_assignment, sandbox, text
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.outputs import FORMULA_START

pytestmark = [pytest.mark.grading, pytest.mark.slow]

A = "ex01_linear_regression"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb")
TESTS = {t.grade_id: t.points for t in SPEC.tests}
MAX = sum(TESTS.values())
LIMITS = T.hostile_limits()
HONEST = T.HOSTILE_HONEST
SURROGATE = T.SURROGATE
FORMULAS = ("=1+2", "@SUM(A1)", "+cmd", "-2+3")  # folder names a spreadsheet would evaluate


def build(base: Path) -> tuple[Path, dict[str, dict]]:
    return T.hostile_class(base)


@pytest.fixture(scope="module")
def batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("hostile")
    course, students = build(base)
    scratch = base / "tmp"
    scratch.mkdir()
    old, tempfile.tempdir = tempfile.tempdir, str(scratch)  # the grader's temp folders land here
    try:
        report = grade_assignment(A, course=course, jobs=2, progress=False, gradebook=False,
                                  limits=LIMITS)
    finally:
        tempfile.tempdir = old
    results = {r.student: r for r in report.results}
    yield {"course": course, "students": students, "report": report, "results": results,
           "scratch": scratch}


def _id(results: dict, prefix: str) -> str:
    (found,) = [s for s in results if s.startswith(prefix)]
    return found


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8", errors="strict") as fh:
        return list(csv.reader(fh))


def test_the_batch_completes_with_one_row_per_student_and_test(batch):
    """Does every student, hostile or not, get exactly one row per test?"""
    results, students = batch["results"], batch["students"]
    assert len(results) == len(students)
    grades = _rows(batch["report"].out / "grades.csv")[1:]
    assert len(grades) == len(students) * len(TESTS)
    summary = _rows(batch["report"].out / "summary.csv")[1:]
    assert len(summary) == len(students)
    assert len({row[0] for row in summary}) == len(students)


def test_outputs_are_valid_utf8_without_surrogates_or_control_characters(batch):
    """Do lone surrogates and escapes from the student's code reach no output?"""
    out = batch["report"].out
    for path in [out / "grades.csv", out / "summary.csv", *(out / "feedback").iterdir()]:
        text = path.read_bytes().decode("utf-8", errors="strict")
        assert "\x1b" not in text and "\x07" not in text, path
    surrogates = batch["results"]["surrogates"]
    mse = {t.test: t for t in surrogates.tests}["test_mse"]
    assert mse.status == "error" and "lone surrogate \ufffd" in mse.message
    assert _id(batch["results"], "bad-name--") in batch["results"]


def test_no_csv_cell_is_a_formula(batch):
    """Are student ids a spreadsheet would evaluate neutralised, in both CSVs?"""
    out = batch["report"].out
    for path in (out / "grades.csv", out / "summary.csv"):
        for row in _rows(path):
            for value in row:
                assert not value.startswith(FORMULA_START), (path.name, value)
    summary = _rows(out / "summary.csv")[1:]
    for raw in FORMULAS:  # a safe id; the folder name in the flags column
        (row,) = [r for r in summary if r[0] == text.student_id(raw)]
        assert f"folder name {raw!r}" in row[3]


def test_feedback_pages_are_distinct_per_student(batch):
    """Do alice_smith and alice~smith (one safe name) get their own pages and scores?"""
    pages = list((batch["report"].out / "feedback").glob("*.html"))
    assert len(pages) == len(batch["students"])
    alice = (batch["report"].out / "feedback" / "alice_smith.html").read_text()
    (other,) = [p for p in pages if p.name.startswith("alice-smith--")]
    assert f"<b>{MAX:g} / {MAX:g}</b>" in alice
    assert "alice~smith" in other.read_text() and f"<b>{MAX:g} / {MAX:g}</b>" not in other.read_text()


def test_honest_students_lose_nothing(batch):
    """Does the honest class (and the harmless hostile names) keep full marks?"""
    for student in [*HONEST, *map(text.student_id, FORMULAS),
                    _id(batch["results"], "bad-name--")]:
        result = batch["results"][student]
        assert result.score == MAX, (student, [(t.test, t.status, t.message) for t in result.tests])


@pytest.mark.parametrize("student", ["symlinked_assignment", "symlinked_student"])
def test_a_symlinked_folder_scores_nothing(batch, student):
    """Does a folder linked to the instructor's solutions score 0, with a clear reason?"""
    result = batch["results"][student]
    assert result.score == 0
    assert all(t.status == "ungradable" and "symbolic link" in t.message for t in result.tests)


def test_a_helper_in_an_added_cell_grades_like_nbgrader(batch):
    """Does a solution using a helper from a cell the student added get full marks?"""
    result = batch["results"]["helper_cell"]
    assert result.score == MAX, [(t.test, t.status, t.message) for t in result.tests]
    assert any("added were run" in note for note in result.notes)


def test_an_array_like_answer_is_accepted_with_a_note(batch):
    """Is a list of NumPy scalars read as the one array the reference returns?"""
    result = batch["results"]["scalar_list"]
    forward = {t.test: t for t in result.tests}["test_linear_forward"]
    assert forward.status == "passed", forward.message
    assert "read with np.asarray" in forward.message
    assert result.score == MAX


def test_forged_progress_cannot_extend_the_run_past_the_budget(batch):
    """Does writing valid-looking progress lines buy no more than one total budget?"""
    result = batch["results"]["forged_progress"]
    steps = len(SPEC.cells) + 4  # every code cell at most, and added ones
    budget = LIMITS.budget(steps + len(TESTS))
    assert result.seconds < budget + 30, result.seconds
    assert any("forged" in flag for flag in result.flags)
    assert {t.test: t for t in result.tests}["test_mse"].points == 0


def test_forged_answer_files_are_refused(batch):
    """Do answer files with negative dimensions and duplicate names count as crashed?"""
    mse = {t.test: t for t in batch["results"]["forged_answers"].tests}["test_mse"]
    assert (mse.status, mse.points) == ("crashed", 0)
    assert "no readable answers" in mse.message


def test_deep_trees_and_disk_fillers_leave_nothing_behind(batch):
    """Is every temp folder removed, even after a 3000-level tree and a full disk?"""
    assert list(batch["scratch"].iterdir()) == []
    for student in ("deep_tree", "fills_disk"):
        assert batch["results"][student].score == MAX, student
    depth = int(batch["results"]["deep_tree"].stdout.split("tree depth")[1].split()[0])
    assert depth >= 1500  # deeper than any recursive removal survives
    assert "disk full after" in batch["results"]["fills_disk"].stdout
    for hierarchy in (Path("/sys/fs/cgroup/memory"), Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        if hierarchy.is_dir():
            assert not [p for p in hierarchy.iterdir() if p.name.startswith(f"course-nn-{os.getpid()}-")]


def test_a_spawning_memory_bomb_is_contained(batch):
    """Does a tree of processes stay under one memory limit, costing only its own test?"""
    result = batch["results"]["spawn_bomb"]
    assert {t.test: t for t in result.tests}["test_mse"].points == 0
    assert result.score == MAX - TESTS["test_mse"]
    if "cgroup" in batch["report"].sandbox:
        assert 0 < result.peak_bytes <= LIMITS.tree_bytes


def test_the_child_never_runs_as_root(batch):
    """Is the student's code run as nobody when the grader is root?"""
    stdout = batch["results"]["who_am_i"].stdout
    if os.geteuid() == 0:
        assert f"child uid={sandbox.NOBODY} euid={sandbox.NOBODY}" in stdout
    else:
        assert f"child uid={os.getuid()}" in stdout


def test_hidden_test_markers_are_flagged(batch):
    """Is a submission holding the hidden-test markers flagged (not penalised)?"""
    result = batch["results"]["hidden_markers"]
    assert any("hidden-test markers" in flag for flag in result.flags)
    assert result.score == MAX
