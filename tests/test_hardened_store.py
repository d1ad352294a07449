"""The per-student result store (``store.py``): records, names, digests, the resume rule.

No student code runs here; the end-to-end contract (``--student``, partial runs, an
interrupted batch) is tests/test_grade_incremental.py.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from course_nn.grading.hardened import store
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.model import SubmissionResult
from course_nn.grading.hardened.model import TestResult as Row

pytestmark = pytest.mark.grading

A = "ex01_linear_regression"
SPEC = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb", A)
SHA = "ab" * 32


def result(student: str = "ann", points: float | None = None) -> SubmissionResult:
    tests = [Row(t.grade_id, "passed", t.points if points is None else points, t.points,
                 f"ok {t.grade_id}") for t in SPEC.tests]
    return SubmissionResult(student, tests, ["a flag"], ["a note"], "out", "", 1.5, 1.0, 2**20)


def record(student: str = "ann", **changes) -> store.Stored:
    fields = dict(result=result(student), seed=7, submission_sha256=SHA, notebook_sha256=SHA,
                  graded_at="2026-12-08T00:00:00+00:00", published=False)
    return store.Stored(**{**fields, **changes})


def test_a_record_round_trips_every_field(tmp_path):
    """Is what is read back equal to what was stored, through the shards' one serialisation?"""
    from course_nn.grading.hardened.merge import result_json

    written = store.write_record(tmp_path, record(), SPEC)
    assert written == tmp_path / "ann.json"
    data = json.loads(written.read_text())
    assert data["result"] == result_json(result()) and data["seed"] == 7
    assert store.read_record(written, SPEC) == record()
    assert [p.name for p in tmp_path.iterdir()] == ["ann.json"]  # no temporary file left


@pytest.mark.parametrize(("change", "words"), [
    (lambda d: d.update(assignment="ex02_logistic"), "a result of 'ex02_logistic'"),
    (lambda d: d.update(seed="7"), "seed"),
    (lambda d: d.update(notebook_sha256="x"), "notebook_sha256"),
    (lambda d: d.pop("published"), "expected the keys"),
    (lambda d: d["result"]["tests"].pop(), "tests, the assignment has"),
    (lambda d: d["result"]["tests"][0].update(points=99.0), "points"),
    (lambda d: d["result"].update(student="bob"), "holds the result of 'bob'"),
])
def test_a_damaged_or_foreign_record_is_refused(tmp_path, change, words):
    """Is a record of another assignment, a wrong type, a missing key, a result that
    does not fit the assignment, or a file under another student's name refused?"""
    path = store.write_record(tmp_path, record(), SPEC)
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))
    with pytest.raises(store.StoreError, match=words):
        store.read_record(path, SPEC)
    found, notes = store.read_store(tmp_path, SPEC)
    assert found == {} and len(notes) == 1 and "grade that student again" in notes[0]


def test_half_written_and_linked_records_are_not_read(tmp_path):
    """A cut-short temporary file is ignored; a truncated record or a link is refused."""
    store.write_record(tmp_path, record("ann"), SPEC)
    (tmp_path / ".bob.json.123.tmp").write_text("{")
    (tmp_path / "cat.json").write_bytes(store.write_record(
        tmp_path / "x", record("cat"), SPEC).read_bytes()[:50])
    os.symlink(tmp_path / "ann.json", tmp_path / "dave.json")
    found, notes = store.read_store(tmp_path, SPEC)
    assert list(found) == ["ann"]
    assert len(notes) == 2 and any("not JSON" in n for n in notes)


def test_record_names_are_distinct_and_stable():
    """One file per id, whatever the other ids, distinct also on a case-blind disk?"""
    ids = ["ann", "Ann", "ANN", "a/b", "a_b", "..", "=1+2", "bad\ufffdname~1234", "a" * 300]
    names = [store.record_name(s) for s in ids]
    assert names[0] == "ann.json" and names[4] == "a_b.json"
    assert len({n.lower() for n in names}) == len(ids)
    assert all("/" not in n and not n.startswith(".") and len(n) < 120 for n in names)


def test_the_digest_sees_what_the_grader_reads(tmp_path):
    """Does the digest change with the notebook, timestamp.txt, an extra file, a link,
    and stay the same when nothing changed (no link followed)?"""
    folder = tmp_path / "submitted" / "ann" / A
    nb = T.write(folder / f"{A}.ipynb", {"cells": []})
    first = store.submission_digest(folder)
    assert store.submission_digest(folder) == first
    digests = {first}
    for change in (lambda: T.write(nb, {"cells": [], "x": 1}),
                   lambda: (folder / "timestamp.txt").write_text("2026-12-01 10:00:00"),
                   lambda: (folder / "extra.py").write_text("x = 1"),
                   lambda: (folder / "extra.py").write_text("x = 22")):
        change()
        digests.add(store.submission_digest(folder))
    assert len(digests) == 5
    outside = T.write(tmp_path / "solutions.ipynb", {"cells": []})
    nb.unlink()
    nb.symlink_to(outside)
    linked = store.submission_digest(folder)
    outside.write_text("changed")
    assert store.submission_digest(folder) == linked not in digests
    assert store.submission_digest(tmp_path / "submitted" / "nobody" / A) != linked


def test_the_resume_rule():
    """Kept only when the submission, the instructor notebook and a given seed match."""
    stored = record()
    assert store.is_current(stored, SHA, SHA)
    assert store.is_current(stored, SHA, SHA, seed=7)
    assert not store.is_current(stored, SHA, SHA, seed=8)
    assert not store.is_current(stored, "cd" * 32, SHA)
    assert not store.is_current(stored, SHA, "cd" * 32)
    assert not store.is_current(record(submission_sha256=None), SHA, SHA)  # merged: unknown
    assert not store.is_current(None, SHA, SHA)


def test_a_linked_store_folder_is_neither_read_nor_written(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "results").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(store.StoreError, match="is a link"):
        store.write_record(tmp_path / "results", record(), SPEC)
    found, notes = store.read_store(tmp_path / "results", SPEC)
    assert found == {} and "is a link" in notes[0]
    assert list(Path(tmp_path / "elsewhere").iterdir()) == []
