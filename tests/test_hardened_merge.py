"""Grading in shards: ``grade --shard k/N`` folders merged equal one run, byte for byte,
and a shard folder is read as hostile data (docs/instructor.md, "Grading a class in shards")."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from course_nn.grading.hardened import grade_assignment
from course_nn.grading.hardened import merge as M
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.grade import load_assignment
from course_nn.grading.hardened.model import SubmissionResult
from course_nn.grading.hardened.sandbox import Limits
from tests.mixed_class import A, mixed_class

pytestmark = [pytest.mark.grading, pytest.mark.slow]

SEED = 20261129  # hidden cases drawn alike in every run
N = 4
LIMITS = Limits(timeout=60, startup=30)  # generous: no timeout may depend on the load


def files(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` by relative path (links are not followed)."""
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.is_symlink()}


def gradebook_scores(course: Path) -> dict[tuple[str, str], tuple[float | None, bool]]:
    """(student, cell) -> (auto_score, needs_manual_grade) in the course's gradebook."""
    from nbgrader.api import Gradebook

    from course_nn.grading.hardened.gradebook import _alembic_on_path

    _alembic_on_path()
    info, _ = load_assignment(A, course)
    with Gradebook(info.db_url) as gb:
        found = {}
        for sub in gb.assignment_submissions(A):
            for nb in sub.notebooks:
                for grade in nb.grades:
                    found[(sub.student.id, grade.name)] = (grade.auto_score,
                                                           grade.needs_manual_grade)
        return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One class graded twice: once whole (course ``one``), once as 4 shards merged (``merged``)."""
    base = tmp_path_factory.mktemp("merge")
    one = T.make_course(base / "one", [A])
    mixed_class(one, 14, seed=5)
    released = T.read(one / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(one / "solutions" / A / f"{A}.ipynb"))
    # names whose feedback pages depend on the whole class (case-insensitive clash, formula)
    for student in ("alice", "Alice", "=1+2"):
        T.submit(one, student, A, T.with_sources(released, sol))
    merged = base / "merged"
    shutil.copytree(one, merged)
    whole = grade_assignment(A, course=one, jobs=2, progress=False, seed=SEED, limits=LIMITS)
    shards = []
    for k in range(1, N + 1):
        report = grade_assignment(A, course=merged, jobs=2, progress=False, seed=SEED,
                                  limits=LIMITS, shard_of=(k, N))
        shards.append(report.out)
    no_gradebook_after_shards = not (merged / "gradebook.db").exists()
    run = subprocess.run([sys.executable, "-m", "course_nn.cli", "merge", A,
                          *map(str, shards), "--course", str(merged)],
                         capture_output=True, text=True, timeout=600)
    return {"one": one, "merged": merged, "shards": shards, "whole": whole, "run": run,
            "no_gradebook_after_shards": no_gradebook_after_shards, "base": base}


def test_a_shard_is_self_contained_and_writes_no_gradebook(graded):
    """Does each shard folder hold results.json, its CSVs and pages, and no gradebook appear?"""
    assert graded["no_gradebook_after_shards"]
    students = []
    for k, folder in enumerate(graded["shards"], start=1):
        assert folder == M.shard_folder(graded["merged"], A, k, N)
        names = set(files(folder))
        assert {"results.json", "grades.csv", "summary.csv"} <= names
        data = json.loads((folder / "results.json").read_text())
        assert data["shard"] == [k, N] and data["assignment"] == A
        listed = {f["path"] for f in data["files"]}
        assert listed == {n for n in names if n.startswith(("feedback/", "autograded/"))}
        assert any(p.startswith(f"autograded/{r['student']}/{A}/") for p in listed
                   for r in data["results"])  # the notebooks formgrader opens travel too
        students += [r["student"] for r in data["results"]]
        assert all(r["child_seconds"] > 0 for r in data["results"]
                   if r["tests"][0]["status"] != "ungradable")
    assert sorted(students) == sorted(r.student for r in graded["whole"].results)


def test_four_shards_merged_equal_one_run_byte_for_byte(graded):
    """grades.csv, summary.csv, every feedback page and autograded notebook: the same bytes."""
    run = graded["run"]
    assert run.returncode == 0, run.stderr
    assert f"merged {N} shard(s): 17 submission(s)" in run.stderr
    one = files(graded["one"] / "graded" / A)
    merged = files(graded["merged"] / "graded" / A)
    assert len([p for p in one if p.startswith("feedback/")]) == 17
    assert sorted(one) == sorted(merged)
    for rel in one:
        assert one[rel] == merged[rel], rel
    autograded = files(graded["one"] / "autograded")  # the notebooks formgrader opens
    assert len(autograded) >= 10 and files(graded["merged"] / "autograded") == autograded


def test_the_merged_gradebook_equals_the_one_of_one_run(graded):
    """Every student's auto_score per cell, as one run records it."""
    one = gradebook_scores(graded["one"])
    assert len({student for student, _ in one}) == 17
    assert gradebook_scores(graded["merged"]) == one


def test_the_class_is_mixed(graded):
    """Honest, wrong and hazardous work all reached the merge (statuses beyond passed)."""
    statuses = {t.status for r in graded["whole"].results for t in r.tests}
    assert {"passed", "failed", "error"} <= statuses


def test_results_json_carries_every_field_of_a_result():
    """A new field of SubmissionResult must be added to the shard format, never dropped."""
    assert set(M.RESULT_KEYS) == {f.name for f in dataclasses.fields(SubmissionResult)}


# --- hostile shards: a clear error, nothing written ------------------------------------------
@pytest.fixture
def copies(graded, tmp_path):
    """Fresh copies of the four shards and a course whose outputs exist from an earlier merge."""
    shards = []
    for folder in graded["shards"]:
        shards.append(tmp_path / "shards" / folder.name)
        shutil.copytree(folder, shards[-1], symlinks=True)
    return shards


def _edit(folder: Path, change) -> None:
    path = folder / "results.json"
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def _merge_fails(graded, shards, *needles: str) -> None:
    """The merge raises a ShardError naming the problem; the merged outputs are unchanged."""
    out = graded["merged"] / "graded" / A
    before = files(out)
    db = (graded["merged"] / "gradebook.db").read_bytes()
    with pytest.raises(M.ShardError) as err:
        M.merge_assignment(A, shards, course=graded["merged"])
    for needle in needles:
        assert needle in str(err.value), str(err.value)
    assert files(out) == before
    assert (graded["merged"] / "gradebook.db").read_bytes() == db
    assert not (graded["merged"] / "escaped.html").exists()


@pytest.mark.parametrize("path", ["../../escaped.html", "/etc/passwd", "feedback/../../x.html",
                                  "feedback//a.html", "gradebook.db", "autograded\\..\\x"])
def test_a_manifest_path_outside_the_shard_is_refused(graded, copies, path):
    def forge(data):
        data["files"][0]["path"] = path

    _edit(copies[1], forge)
    _merge_fails(graded, copies, "files[0]", "path")


def test_a_linked_file_is_not_followed(graded, copies, tmp_path):
    """A feedback page replaced by a link to a file outside, with the manifest forged to match."""
    secret = tmp_path / "secret.html"
    secret.write_text("not the shard's")
    data = json.loads((copies[0] / "results.json").read_text())
    page = copies[0] / data["files"][0]["path"]
    page.unlink()
    page.symlink_to(secret)
    import hashlib

    def forge(d):
        d["files"][0].update(size=secret.stat().st_size,
                             sha256=hashlib.sha256(secret.read_bytes()).hexdigest())

    _edit(copies[0], forge)
    _merge_fails(graded, copies, "without following a link")


def test_a_shard_cannot_bring_another_students_notebook(graded, copies):
    """An autograded notebook listed for a student the shard did not grade is refused."""
    data = json.loads((copies[0] / "results.json").read_text())
    other = json.loads((copies[1] / "results.json").read_text())["results"][0]["student"]
    entry = next(f for f in data["files"] if f["path"].startswith("autograded/"))
    planted = f"autograded/{other}/{A}/{A}.ipynb"
    (copies[0] / planted).parent.mkdir(parents=True)
    shutil.copy(copies[0] / entry["path"], copies[0] / planted)
    _edit(copies[0], lambda d: d["files"].append(dict(entry, path=planted)))
    _merge_fails(graded, copies, "is not the autograded notebook of a student of this shard")


def test_a_student_in_two_shards_is_refused(graded, copies):
    stolen = json.loads((copies[0] / "results.json").read_text())["results"][0]
    _edit(copies[2], lambda d: d["results"].append(stolen))
    _merge_fails(graded, copies, f"student {stolen['student']!r} is in two shards")


@pytest.mark.parametrize(("change", "needle"), [
    (lambda d: d["results"][0].pop("stdout"), "expected the keys"),
    (lambda d: d["results"][0]["tests"][0].update(points="2"), "expected float"),
    (lambda d: d["results"][0]["tests"][0].update(status="excellent"), "unknown status"),
    (lambda d: d["results"][0]["tests"][0].update(points=1e9), "is worth"),
    (lambda d: d["results"][0]["tests"][0].update(test="test_other"), "where the assignment has"),
    (lambda d: d["results"][0].update(student="bad\x1b[31mname"), "not clean text"),
    (lambda d: d.update(version=99), "version"),
    (lambda d: d.update(notebook_sha256="0" * 64), "another version"),
    (lambda d: d.update(shard=[5, 4]), "1 <= k <= N"),
])
def test_a_malformed_results_file_is_refused(graded, copies, change, needle):
    _edit(copies[3], change)
    _merge_fails(graded, copies, needle)


def test_nan_and_garbage_are_not_json(graded, copies):
    path = copies[0] / "results.json"
    path.write_text(path.read_text().replace('"child_seconds": ', '"child_seconds": NaN, "x": ', 1))
    _merge_fails(graded, copies, "NaN is not JSON")
    path.write_bytes(b"\xff\xfe{")
    _merge_fails(graded, copies, "is not JSON")


def test_a_truncated_page_and_a_missing_or_repeated_shard_are_refused(graded, copies):
    _merge_fails(graded, copies[:3], "missing shard(s) 4/4")
    _merge_fails(graded, [*copies, copies[0]], "shard 1/4 given twice")
    data = json.loads((copies[1] / "results.json").read_text())
    page = copies[1] / data["files"][0]["path"]
    page.write_bytes(page.read_bytes()[:10])
    _merge_fails(graded, copies, "differs from the manifest")


def test_an_oversized_or_linked_results_file_is_refused(graded, copies, monkeypatch, tmp_path):
    monkeypatch.setattr(M, "MAX_RESULTS_BYTES", 100)
    _merge_fails(graded, copies, "no readable results.json", "at most 100")
    monkeypatch.undo()
    real = copies[2] / "results.json"
    moved = tmp_path / "elsewhere.json"
    real.rename(moved)
    real.symlink_to(moved)
    _merge_fails(graded, copies, "no readable results.json")
