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
    """grades.csv, summary.csv, every feedback page and autograded notebook: the same bytes;
    every stored result the same (its seed, times and memory are the run's own)."""
    run = graded["run"]
    assert run.returncode == 0, run.stderr
    assert f"merged {N} shard(s): 17 submission(s)" in run.stderr
    one = files(graded["one"] / "graded" / A)
    merged = files(graded["merged"] / "graded" / A)
    assert len([p for p in one if p.startswith("feedback/")]) == 17
    assert sorted(one) == sorted(merged)
    for rel in one:
        if rel.startswith("results/"):  # the store: same result; seed, digest and time differ
            continue
        assert one[rel] == merged[rel], rel
    stored = [rel for rel in one if rel.startswith("results/")]
    assert len(stored) == 17
    measured = {"seconds", "child_seconds", "peak_bytes"}  # each run's own measurements
    for rel in stored:
        results = [json.loads(side[rel])["result"] for side in (one, merged)]
        assert [{k: v for k, v in r.items() if k not in measured} for r in results] == [
            {k: v for k, v in results[0].items() if k not in measured}] * 2, rel
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


# --- autograded notebooks are rebuilt, never copied (issue 19) -------------------------------
def _forge_notebook(shard: Path, change) -> tuple[str, dict]:
    """Edit a shard's first autograded notebook with ``change(nb)`` (or write the bytes it
    returns) and re-hash the manifest to match; returns its path and its student's row."""
    import hashlib

    data = json.loads((shard / "results.json").read_text())
    entry = next(f for f in data["files"] if f["path"].startswith("autograded/"))
    path = shard / entry["path"]
    try:
        nb = json.loads(path.read_bytes())
    except ValueError:  # forged before
        nb = {}
    raw = change(nb)
    raw = raw if isinstance(raw, bytes) else json.dumps(nb, indent=1).encode()
    path.write_bytes(raw)
    entry.update(size=len(raw), sha256=hashlib.sha256(raw).hexdigest())
    (shard / "results.json").write_text(json.dumps(data))
    student = entry["path"].split("/")[1]
    return entry["path"], next(r for r in data["results"] if r["student"] == student)


def _is_test(cell: dict) -> bool:
    meta = cell.get("metadata", {}).get("nbgrader", {})
    return cell["cell_type"] == "code" and meta.get("grade") and not meta.get("solution")


HOSTILE_MD = '<img src=x onerror="window.__xss=1">\n\n[go](&#106;avascript:alert(1))'


def test_a_forged_autograded_notebook_is_rebuilt_not_copied(graded, copies, tmp_path):
    """A shard's notebook edited (manifest re-hashed) to carry raw-HTML Markdown with an
    attachment, and text/html and JavaScript outputs on a test cell: the merge writes the
    notebook step 13 makes (sanitised Markdown, the grader's verdicts as outputs), and
    every honest shard's notebook as one run wrote it, byte for byte?"""
    from course_nn.grading.hardened.autograded import verdict_outputs
    from course_nn.grading.hardened.model import TestResult
    from course_nn.grading.hardened.sanitise import sanitise_markdown

    def forge(nb):
        nb["cells"].insert(0, {"cell_type": "markdown", "id": "forged", "source": HOSTILE_MD,
                               "metadata": {"tags": ["x"]},
                               "attachments": {"a.png": {"image/png": "iVBORw0KGgo="}}})
        for cell in filter(_is_test, nb["cells"]):
            cell["outputs"] = [{"output_type": "display_data", "metadata": {}, "data": {
                "text/html": "<script>window.__xss=2</script>",
                "application/javascript": "window.__xss=3", "text/plain": "1"}}]

    rel, row = _forge_notebook(copies[0], forge)
    course = tmp_path / "course"
    shutil.copytree(graded["merged"], course, symlinks=True)
    report = M.merge_assignment(A, copies, course=course)
    assert rel in report.copied
    written = (course / rel).read_text()
    for bad in ("onerror", "<img", "href=\"javascript", "text/html", "application/javascript",
                "attachments", "<script", "__xss", '"tags"'):
        assert bad not in written, bad
    nb = json.loads(written)
    assert nb["cells"][0]["source"] == sanitise_markdown(HOSTILE_MD)
    tests = {t["test"]: TestResult(**t) for t in row["tests"]}
    checked = [c for c in nb["cells"] if _is_test(c)]
    assert len(checked) == len(tests)
    for cell in checked:
        assert cell["outputs"] == verdict_outputs(tests[cell["metadata"]["nbgrader"]["grade_id"]])
    one = files(graded["one"] / "autograded")
    merged = files(course / "autograded")
    assert sorted(one) == sorted(merged)
    assert {p for p in one if one[p] != merged[p]} == {rel.removeprefix("autograded/")}


def test_an_autograded_file_that_is_no_notebook_is_refused(graded, copies):
    """Not JSON, or JSON without cells (manifest re-hashed): a clear error, nothing written?"""
    _forge_notebook(copies[1], lambda nb: b"\x00not json")
    _merge_fails(graded, copies, "not an autograded notebook")
    _forge_notebook(copies[1], lambda nb: b'{"cells": 3}')
    _merge_fails(graded, copies, "not an autograded notebook")


# --- results.json capped by the class before it is parsed (issue 19) ------------------------
def test_results_json_carries_every_field_of_a_test_row():
    """A new field of TestResult (e.g. its diagnosis) must travel in the shard format."""
    from course_nn.grading.hardened.model import TestResult

    assert set(M.TEST_KEYS) == {f.name for f in dataclasses.fields(TestResult)}


def test_a_results_file_past_the_class_caps_is_refused(graded, copies):
    """39 MB of ``[{},...]`` (797 MB when it was parsed whole) is refused by its size for
    this class of 17, and a smaller one within the byte cap by its JSON items, each with a
    message naming the cap; nothing is written."""
    spec = load_assignment(A, graded["merged"])[1]
    limits = M.class_limits(spec, graded["merged"])
    assert (limits.students, limits.tests) == (17, len(spec.tests))
    path = copies[1] / "results.json"
    path.write_bytes(b"[" + b"{}," * 13_000_000 + b"{}]")
    _merge_fails(graded, copies, "no readable results.json", f"at most {limits.max_bytes} for "
                 f"a class of 17 students and {len(spec.tests)} tests")
    path.write_bytes(b"[" + b"{}," * 1_000_000 + b"{}]")
    assert path.stat().st_size < limits.max_bytes
    _merge_fails(graded, copies, f"results.json holds more than {limits.max_items} JSON items",
                 "refused before parsing")


def test_diagnoses_travel_through_the_shards(graded):
    """Does the merged grades.csv carry the judge's diagnoses, as one run's does?"""
    import csv

    with (graded["merged"] / "graded" / A / "grades.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert all("diagnosis" in r for r in rows)
    assert any(r["diagnosis"] for r in rows if r["status"] in ("failed", "error"))
    assert all(not r["diagnosis"] for r in rows if r["status"] == "passed")
