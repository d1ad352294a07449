"""Step 9: read what the child handed back: numbers only, sizes checked before loading.

Book: none (instructor tooling); docs/grading.md, "9. Read back".

The child's files are untrusted (the student's code ran in that process and could
have rewritten them): files are opened without following links or blocking on
FIFOs, JSON is capped in bytes and in JSON items before parsing (the items counted
as it is read, :mod:`.boundedjson`: 8 MB of ``{},`` would otherwise become 2.8
million dicts, 194 MB kept and 388 MB at the peak, per file), the item cap
derived from what the job asked (a record per case, an exception per cell), and
every string in it is cleaned (:mod:`.text`), and each member of an ``.npz`` is validated before anything is
loaded: a ``.npy`` name, no duplicate names, a header with non-negative integer
dimensions, a numeric dtype (bool, int, float, complex; never objects, strings,
records or dates), a stored size that matches the header, and a byte cap for the
whole *submission*, counted on the float64 size each array becomes when judged.
Loading is always ``allow_pickle=False``. Anything unreadable becomes a crashed test,
never an error in the grader.
"""

from __future__ import annotations

import io
import math
import os
import stat
import zipfile
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np

from course_nn.grading.hardened import parsing
from course_nn.grading.hardened.boundedjson import loads, read_json_bytes
from course_nn.grading.hardened.model import Submission, TestJob
from course_nn.grading.hardened.text import clean_tree

MESSAGE_LIMIT = 4000  # characters of any one string the child reports

MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_ARRAY_BYTES = 512 * 1024 * 1024  # all arrays of one submission, as float64
MAX_FILE_BYTES = 128 * 1024 * 1024  # one answer file (the child's file-size limit is lower)
MAX_MEMBERS = 100_000
# JSON items (boundedjson: each "{", "[" and "," outside strings) the child may write:
RECORD_ITEMS = 64  # a test's answer record, besides its calls and cases ...
CALL_ITEMS = 16  # ... per check call (its cases, or why its function is unavailable) ...
CASE_ITEMS = 1024  # ... and per case (a record with up to about 300 returned arrays)
CELL_ITEMS = 16  # cells.json: per step, the exception it raised
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                  (2, 0): np.lib.format.read_array_header_2_0}


class Unreadable(Exception):
    """The child's answer file is damaged or too large."""


def open_regular(path: Path, limit: int) -> BinaryIO:
    """A regular file of at most ``limit`` bytes, opened never following a link nor
    blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        raise Unreadable(f"{path.name}: {err.strerror}") from None
    fh = os.fdopen(fd, "rb")
    info = os.fstat(fd)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        fh.close()
        raise Unreadable(f"{path.name} is not a regular file" if not stat.S_ISREG(info.st_mode)
                         else f"{path.name} is larger than {limit} bytes")
    return fh


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, never following a link nor blocking on a FIFO."""
    with open_regular(path, limit) as fh:
        return fh.read(limit + 1)[:limit]


def read_json(path: Path, max_items: int) -> Any:
    """A JSON file the child wrote, within :data:`MAX_JSON_BYTES` and ``max_items`` JSON
    items (both counted while it is read, before parsing), every string cleaned."""
    try:
        with open_regular(path, MAX_JSON_BYTES) as fh:
            data = read_json_bytes(fh, MAX_JSON_BYTES, max_items, "the file")
        return clean_tree(loads(data, "the file"), MESSAGE_LIMIT)
    except (ValueError, UnicodeDecodeError, RecursionError) as err:  # RefusedJSON included
        raise Unreadable(f"{path.name}: {err}") from None


def record_items(test: TestJob) -> int:
    """The JSON items a test's answer record may hold: one entry per check call and one
    record per case the job asked."""
    return (RECORD_ITEMS + CALL_ITEMS * len(test.calls)
            + CASE_ITEMS * sum(len(call.cases) for call in test.calls))


class Budget:
    """Bytes the answers of one submission may still take once judged (as float64)."""

    def __init__(self, limit: int = MAX_ARRAY_BYTES):
        self.left = limit

    def spend(self, what: str, elements: int, complex_: bool) -> None:
        self.left -= elements * (16 if complex_ else 8)
        if self.left < 0:
            raise Unreadable(f"{what}: the answers are larger than {MAX_ARRAY_BYTES} bytes "
                             "as float64")


def check_header(name: str, shape: Any, dtype: np.dtype) -> int:
    """The number of elements of a valid numeric ``.npy`` header (else ``Unreadable``)."""
    if not isinstance(shape, tuple) or not all(type(d) is int and d >= 0 for d in shape):
        raise Unreadable(f"{name}: invalid shape {shape!r}")
    if dtype.hasobject:
        raise Unreadable(f"{name} holds Python objects")
    if dtype.kind not in "biufc" or dtype.fields is not None \
            or dtype.subdtype is not None:
        raise Unreadable(f"{name}: dtype {dtype} is not plain numbers")
    return math.prod(shape)


def read_npz(path: Path, budget: Budget | None = None) -> dict[str, np.ndarray]:
    """Every array of an ``.npz``; every member validated before any data is loaded.

    NumPy parses each ``.npy`` header with ``ast.literal_eval``: the reading holds
    :data:`~course_nn.grading.hardened.parsing.AST_LOCK` (not thread-safe in CPython)."""
    budget = budget or Budget()
    data = io.BytesIO(read_bytes(path, MAX_FILE_BYTES))
    with parsing.AST_LOCK:
        return _read_members(data, path, budget)


def _read_members(data: io.BytesIO, path: Path, budget: Budget) -> dict[str, np.ndarray]:
    """The members of an in-memory ``.npz`` (the caller holds the parse lock)."""
    arrays: dict[str, np.ndarray] = {}
    try:
        with zipfile.ZipFile(data) as archive:
            members = archive.infolist()
            if len(members) > MAX_MEMBERS:
                raise Unreadable(f"more than {MAX_MEMBERS} arrays")
            names = [info.filename for info in members]
            if len(set(names)) != len(names):
                raise Unreadable("an answer file holds two arrays of the same name")
            for info in members:
                if not info.filename.endswith(".npy") or info.is_dir():
                    raise Unreadable(f"{info.filename!r} is not an array")
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    if version not in HEADER_READERS:
                        raise Unreadable(f"{info.filename}: .npy format {version} not accepted")
                    shape, _, dtype = HEADER_READERS[version](member)
                    elements = check_header(info.filename, shape, dtype)
                    header = member.tell()
                budget.spend(info.filename, elements, dtype.kind == "c")
                if info.file_size != header + elements * dtype.itemsize:
                    raise Unreadable(f"{info.filename}: stored size does not match its header")
        data.seek(0)
        with np.load(data, allow_pickle=False) as npz:
            for key in npz.files:
                arrays[key] = npz[key]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError, RuntimeError) as err:
        raise Unreadable(f"{path.name}: {err}") from None
    return arrays


def read_results(sub: Submission, out: Path) -> None:
    """``sub.outputs[t] = (json record, arrays)`` or an ``Unreadable`` for each answered test."""
    budget = Budget()
    for test in sub.job.tests:
        index = test.index
        record_path = out / f"test_{index}.json"
        if not os.path.lexists(record_path):
            continue
        try:
            record = read_json(record_path, record_items(test))
            if not isinstance(record, dict) or not isinstance(record.get("calls"), list):
                raise Unreadable("the answer record has the wrong form")
            sub.outputs[index] = (record, read_npz(out / f"test_{index}.npz", budget))
        except Unreadable as err:
            sub.outputs[index] = err
    try:
        errors = (read_json(out / "cells.json", RECORD_ITEMS + CELL_ITEMS * len(sub.job.steps))
                  if os.path.lexists(out / "cells.json") else {})
    except Unreadable:
        errors = {}
    sub.cell_errors = errors if isinstance(errors, dict) else {}
