"""Reading the child's answers: validated before anything is loaded (``results.py``)."""

from __future__ import annotations

import io
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
