"""Reading the child's answers: validated before anything is loaded (``results.py``)."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.results import Budget, Unreadable, read_npz

ROOT = T.ROOT
A = "ex01_linear_regression"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())

pytestmark = pytest.mark.grading


def _npy(shape, descr="<f8", data: bytes = b"") -> bytes:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": descr, "fortran_order": False,
                                                  "shape": shape})
    return header.getvalue() + data


def _zip(path, members: list[tuple[str, bytes]]):
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members:
            archive.writestr(name, data)
    return path


def test_a_negative_dimension_is_refused(tmp_path):
    """Can a negative shape no longer make the size check pass?"""
    path = _zip(tmp_path / "neg.npz", [("x.npy", _npy((-1, 10**9)))])
    with pytest.raises(Unreadable, match="invalid shape"):
        read_npz(path)


def test_duplicate_member_names_are_refused(tmp_path):
    """Can a second member of the same name no longer slip past the size check?"""
    small = _npy((1,), data=np.zeros(1).tobytes())
    path = tmp_path / "dup.npz"
    with pytest.warns(UserWarning, match="Duplicate name"):
        _zip(path, [("x.npy", small), ("x.npy", _npy((10**5, 10**4)))])
    with pytest.raises(Unreadable, match="same name"):
        read_npz(path)


@pytest.mark.parametrize("descr", ["<U8", "|S4", "|V8", "<M8[s]", "<m8[s]"])
def test_only_numeric_dtypes_are_accepted(tmp_path, descr):
    """Are strings, raw bytes, records and dates refused before loading?"""
    path = _zip(tmp_path / "t.npz", [("x.npy", _npy((2,), descr, b"\0" * 64))])
    with pytest.raises(Unreadable, match="not plain numbers"):
        read_npz(path)


def test_the_cap_counts_the_float64_size_over_the_whole_submission(tmp_path):
    """Is an int8 answer counted as the float64 it becomes, across every test file?"""
    data = np.zeros(1000, dtype=np.int8)
    one = tmp_path / "one.npz"
    np.savez(one, c0_k0_0=data)
    budget = Budget(limit=12_000)  # 1000 int8 = 1000 bytes raw, 8000 as float64
    assert read_npz(one, budget)["c0_k0_0"].shape == (1000,)
    with pytest.raises(Unreadable, match="larger than"):
        read_npz(one, budget)  # the second test's answers exceed what is left


def test_a_member_shorter_than_its_header_is_refused(tmp_path):
    """Does a header claiming more data than stored fail cleanly?"""
    path = _zip(tmp_path / "short.npz", [("x.npy", _npy((100,), data=b"\0" * 8))])
    with pytest.raises(Unreadable, match="does not match"):
        read_npz(path)


def test_honest_answers_load(tmp_path):
    """Do the child's own arrays (every numeric kind) still load?"""
    path = tmp_path / "ok.npz"
    arrays = {"a": np.arange(3.0), "b": np.array(True), "c": np.array([1 + 2j]), "d": np.int8(3)}
    np.savez(path, **arrays)
    loaded = read_npz(path)
    assert set(loaded) == set(arrays) and loaded["c"][0] == 1 + 2j


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


def _peak_mb(fn) -> tuple[object, float]:
    """``fn()``'s result (or exception) and the most memory Python held meanwhile, in MB."""
    import tracemalloc

    tracemalloc.start()
    try:
        try:
            out = fn()
        except Exception as err:  # the caller asserts which
            out = err
        return out, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def test_a_record_of_millions_of_empty_objects_is_refused_in_bounded_memory(tmp_path):
    """Is 8 MB of ``{},`` (2.8 million dicts: 388 MB at the peak when parsed) refused by
    the item cap while read, with the reader's memory far below a parse's, and does an
    honest record of as many cases as the job asked still read?"""
    from course_nn.grading.hardened.model import CallJob, Submission, TestJob
    from course_nn.grading.hardened.results import (
        MAX_JSON_BYTES,
        read_json,
        read_results,
        record_items,
    )

    test = TestJob(0, (CallJob(cases=((),) * 12), CallJob(cases=((),) * 8)))
    n = (MAX_JSON_BYTES - 20) // 3
    forged = tmp_path / "test_0.json"
    forged.write_bytes(b'{"calls": [' + b"{}," * (n - 1) + b"{}]}")
    assert forged.stat().st_size <= MAX_JSON_BYTES  # within the byte cap: items must stop it
    err, peak = _peak_mb(lambda: read_json(forged, record_items(test)))
    assert isinstance(err, Unreadable) and "more than" in str(err) and "JSON items" in str(err)
    assert peak < 20, peak  # one piece of the file and the count; a parse took 388 MB

    sub = Submission("ann", tmp_path)
    sub.job.tests.append(test)
    read_results(sub, tmp_path)
    assert isinstance(sub.outputs[0], Unreadable)  # a crashed test, not a grader error

    leaves = [{"n": i, "key": f"c0_k0_{i}"} for i in range(3)]
    honest = {"calls": [{"cases": [{"leaves": leaves, "mutated": [], "warning": "w"}] * 12},
                        {"unavailable": {"type": "NameError", "message": "f"}}]}
    forged.write_text(json.dumps(honest))
    np.savez(tmp_path / "test_0.npz", **{f"c0_k0_{i}": np.zeros(2) for i in range(3)})
    read_results(sub, tmp_path)
    record, arrays = sub.outputs[0]
    assert record == honest and sorted(arrays) == ["c0_k0_0", "c0_k0_1", "c0_k0_2"]


def test_cells_json_is_capped_by_the_steps_of_the_job(tmp_path):
    """Is a cells.json with far more entries than the job has steps read as no errors?"""
    from course_nn.grading.hardened.model import CellStep, Submission
    from course_nn.grading.hardened.results import read_results

    sub = Submission("ann", tmp_path)
    sub.job.steps.append(CellStep("c1", "x = 1"))
    error = {"type": "ValueError", "message": "m", "where": "<cell c1> line 1"}
    (tmp_path / "cells.json").write_text(json.dumps({"0": error}))
    read_results(sub, tmp_path)
    assert sub.cell_errors == {"0": error}
    (tmp_path / "cells.json").write_text(json.dumps({str(i): error for i in range(10_000)}))
    read_results(sub, tmp_path)
    assert sub.cell_errors == {}
