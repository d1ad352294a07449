"""results.json of a shard is capped by the class before it is parsed (``merge.ShardLimits``,
``boundedjson``): memory stays bounded whatever the file holds (docs/grading.md, "Shards")."""

from __future__ import annotations

import json
import random
import tracemalloc
from pathlib import Path

import pytest

from course_nn.grading.hardened import merge as M
from course_nn.grading.hardened import model
from course_nn.grading.hardened.boundedjson import CHUNK, ItemCounter, RefusedJSON, read_json_bytes

pytestmark = pytest.mark.grading

SPEC = model.AssignmentSpec("a1", "a1.ipynb", Path("/nonexistent/a1.ipynb"), (),
                      tuple(model.TestSpec(f"t{i}", 1.0, (), "") for i in range(3)))
#: 39 MB of ``[{},{},...]``: 13 million empty dicts; parsed whole it took 797 MB.
EMPTY_DICTS = b"[" + b"{}," * 13_000_000 + b"{}]"


def peak_mb(fn) -> tuple[object, float]:
    """``fn()``'s result or exception, and the most memory Python held meanwhile (MB)."""
    tracemalloc.start()
    try:
        try:
            out = fn()
        except Exception as err:  # the caller asserts which
            out = err
        return out, tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


@pytest.fixture
def forged(tmp_path) -> Path:
    folder = tmp_path / "1-of-2"
    folder.mkdir()
    (folder / M.RESULTS).write_bytes(EMPTY_DICTS)
    return folder


def test_millions_of_empty_objects_are_refused_by_the_item_count_in_bounded_memory(forged):
    """With a byte cap large enough to let 39 MB in (no submitted/ folder: 5,000 students
    assumed), is the file refused by its JSON items while read, in a few MB, never parsed?"""
    limits = M.class_limits(SPEC)
    assert limits.students == M.MAX_CLASS and limits.max_bytes > len(EMPTY_DICTS)
    err, peak = peak_mb(lambda: M.read_shard(forged, SPEC, limits))
    assert isinstance(err, M.ShardError), err
    assert f"results.json holds more than {limits.max_items} JSON items" in str(err)
    assert "refused before parsing" in str(err) and "a class of 5000 students and 3 tests" in str(err)
    assert peak < 100, peak  # the old whole parse: 797 MB
    assert peak < 3 * limits.max_items / 2**20 + 4 * CHUNK / 2**20, peak


def test_a_file_past_the_class_byte_cap_is_refused_before_reading(forged, tmp_path):
    """For a class of 17 counted in submitted/, is 39 MB refused by its size, unread?"""
    course = tmp_path / "course"
    for i in range(17):
        (course / "submitted" / f"s{i}" / "a1").mkdir(parents=True)
    (course / "submitted" / ".hidden").mkdir()
    limits = M.class_limits(SPEC, course)
    assert (limits.students, limits.tests) == (17, 3)
    assert limits.max_bytes < len(EMPTY_DICTS)
    err, peak = peak_mb(lambda: M.read_shard(forged, SPEC, limits))
    assert isinstance(err, M.ShardError)
    assert (f"no readable results.json (results.json has {len(EMPTY_DICTS)} bytes (at most "
            f"{limits.max_bytes} for a class of 17 students and 3 tests))") in str(err)
    assert peak < 1, peak


def test_the_caps_grow_with_the_class_and_the_tests():
    """Does a larger class or more tests allow more, and a legit row fit many times over?"""
    small, large = M.ShardLimits(10, 3), M.ShardLimits(1000, 3)
    assert large.max_items > small.max_items and large.max_bytes > small.max_bytes
    assert M.ShardLimits(10, 9).max_items > small.max_items
    assert M.ShardLimits(100_000, 3).max_bytes == M.MAX_RESULTS_BYTES
    row = {"test": "t0", "status": "failed", "points": 0.0, "max_points": 1.0,
           "message": "x" * 2000, "flags": ["edited"], "diagnosis": "no bias"}
    student = {"student": "ann", "tests": [row] * 3, "flags": ["f"] * 5, "notes": ["n"] * 5,
               "stdout": "o" * 32_000, "stderr": "", "seconds": 1.0, "child_seconds": 1.0,
               "peak_bytes": 1}
    pages = [{"path": "feedback/ann.html", "size": 1, "sha256": "0" * 64}] * 2
    counter = ItemCounter(10**9, "x")
    counter.feed(json.dumps([student, pages], indent=1).encode())
    assert 3 * counter.items < M.STUDENT_ITEMS + 3 * M.TEST_ITEMS  # a wide margin
    size = len(json.dumps([student, pages], indent=1))
    assert 3 * size < 12 * M.MAX_OUTPUT + M.STUDENT_BYTES + 3 * M.TEST_BYTES


def reference_count(doc: str) -> int:
    """Items (``{``, ``[``, ``,`` outside strings), one character at a time."""
    count, inside, escaped = 0, False, False
    for ch in doc:
        if inside:
            escaped, inside = (False, inside) if escaped else (ch == "\\", ch != '"')
        elif ch == '"':
            inside = True
        elif ch in "{[,":
            count += 1
    return count


def test_the_item_count_skips_strings_and_escapes_across_pieces():
    """Does the streaming count equal a character-by-character one on documents full of
    quotes, backslashes and brackets inside strings, however the bytes are split?"""
    rnd = random.Random(19)

    def value(depth=0):
        r = rnd.random()
        if depth > 4 or r < 0.3:
            return rnd.choice([1, 2.5, None, True, "a,b{[", '\\"x,', "\\", "", 'q"[,', "é,"])
        if r < 0.6:
            return [value(depth + 1) for _ in range(rnd.randint(0, 4))]
        return {rnd.choice(["k,", "{x", "\\", '"']) + str(i): value(depth + 1)
                for i in range(rnd.randint(0, 4))}

    for _ in range(200):
        doc = json.dumps(value(), ensure_ascii=rnd.random() < 0.5).encode()
        for step in (1, 2, 3, 7, len(doc)):
            counter, data = ItemCounter(10**9, "x"), bytearray()
            for start in range(0, len(doc), step):
                data += doc[start:start + step]
                counter.feed(data)
            assert counter.items == reference_count(doc.decode()), doc
            assert not counter.in_string and counter.pos == len(doc)


def test_a_long_escaped_string_is_counted_in_one_pass(tmp_path):
    """Is an 8 MB string of escaped backslashes one value, read over several pieces?"""
    path = tmp_path / "s.json"
    path.write_bytes(b'["' + b"\\\\" * 4_000_000 + b'", 1]')
    with path.open("rb") as fh:
        data = read_json_bytes(fh, 10**8, 2, "s.json")
    assert len(data) == path.stat().st_size
    with path.open("rb") as fh, pytest.raises(RefusedJSON, match="more than 1 JSON items"):
        read_json_bytes(fh, 10**8, 1, "s.json")


def test_the_diagnosis_of_a_test_row_is_checked_like_its_message():
    """Does a shard's test row need its diagnosis, as clean text?"""
    row = {"test": "t0", "status": "failed", "points": 0.0, "max_points": 1.0,
           "message": "m", "flags": [], "diagnosis": "the bias is missing"}
    assert M.read_test_row(row, ("t0", 1.0), "w").diagnosis == "the bias is missing"
    with pytest.raises(M.ShardError, match="not clean text"):
        M.read_test_row(dict(row, diagnosis="bad\x1b[31m"), ("t0", 1.0), "w")
    with pytest.raises(M.ShardError, match="expected the keys"):
        M.read_test_row({k: v for k, v in row.items() if k != "diagnosis"}, ("t0", 1.0), "w")
