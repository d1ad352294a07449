"""Step 8: read what the child handed back: numbers only, sizes checked before loading.

Book: none (instructor tooling); DESIGN.md, "Grading: two paths, one set of checks", step d.

The child's files are untrusted (the student's code ran in that process and could
have rewritten them): files are opened without following links or blocking on
FIFOs, JSON is size-checked before parsing, and each array of the ``.npz`` has its
header read and its size checked before it is loaded, always with
``allow_pickle=False``. Anything unreadable becomes a crashed test, never an error in
the grader.
"""

from __future__ import annotations

import io
import json
import os
import stat
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from course_nn.grading.hardened.model import Submission

MAX_JSON_BYTES = 8 * 1024 * 1024
MAX_ARRAY_BYTES = 512 * 1024 * 1024  # all arrays of one test, once loaded
MAX_FILE_BYTES = 128 * 1024 * 1024  # one answer file (the child's file-size limit is lower)
MAX_MEMBERS = 100_000
HEADER_READERS = {(1, 0): np.lib.format.read_array_header_1_0,
                  (2, 0): np.lib.format.read_array_header_2_0}


class Unreadable(Exception):
    """The child's answer file is damaged or too large."""


def read_bytes(path: Path, limit: int) -> bytes:
    """The bytes of a regular file, never following a link nor blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        raise Unreadable(f"{path.name}: {err.strerror}") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Unreadable(f"{path.name} is not a regular file")
        if info.st_size > limit:
            raise Unreadable(f"{path.name} is larger than {limit} bytes")
        return fh.read(limit + 1)[:limit]


def read_json(path: Path) -> Any:
    try:
        return json.loads(read_bytes(path, MAX_JSON_BYTES))
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise Unreadable(f"{path.name}: {err}") from None


def read_npz(path: Path, max_bytes: int = MAX_ARRAY_BYTES) -> dict[str, np.ndarray]:
    """Every array of an ``.npz``; headers are checked before any data is read."""
    data, arrays, total = io.BytesIO(read_bytes(path, MAX_FILE_BYTES)), {}, 0
    try:
        with zipfile.ZipFile(data) as archive:
            if len(archive.infolist()) > MAX_MEMBERS:
                raise Unreadable(f"more than {MAX_MEMBERS} arrays")
            for info in archive.infolist():
                with archive.open(info) as member:
                    version = np.lib.format.read_magic(member)
                    if version not in HEADER_READERS:
                        raise Unreadable(f"{info.filename}: .npy format {version} not accepted")
                    shape, _, dtype = HEADER_READERS[version](member)
                    if dtype.hasobject:
                        raise Unreadable(f"{info.filename} holds Python objects")
                    total += int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
                    if total > max_bytes:
                        raise Unreadable(f"the answers are larger than {max_bytes} bytes")
        data.seek(0)
        with np.load(data, allow_pickle=False) as npz:
            for key in npz.files:
                arrays[key] = npz[key]
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        raise Unreadable(f"{path.name}: {err}") from None
    return arrays


def read_results(sub: Submission, out: Path) -> None:
    """``sub.outputs[t] = (json record, arrays)`` or an ``Unreadable`` for each answered test."""
    for test in sub.job["tests"]:
        index = test["index"]
        record_path = out / f"test_{index}.json"
        if not os.path.lexists(record_path):
            continue
        try:
            record = read_json(record_path)
            if not isinstance(record, dict) or not isinstance(record.get("calls"), list):
                raise Unreadable("the answer record has the wrong form")
            sub.outputs[index] = (record, read_npz(out / f"test_{index}.npz"))
        except Unreadable as err:
            sub.outputs[index] = err
    try:
        errors = read_json(out / "cells.json") if os.path.lexists(out / "cells.json") else {}
    except Unreadable:
        errors = {}
    sub.cell_errors = errors if isinstance(errors, dict) else {}
