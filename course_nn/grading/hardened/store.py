"""Steps 11-12's memory: one stored, typed result per student, written as each finishes.

Book: none (instructor tooling); docs/grading.md, "11. Outputs"; docs/instructor.md,
"Regrading one student".

``course-nn grade`` keeps ``OUT/results/<student>.json`` (``OUT`` is ``graded/<a>/``)
for every student it graded: the :class:`.SubmissionResult` in the one serialisation
shards use (:func:`.merge.result_json`, read back by :func:`.merge.submission_result`,
every field checked against the assignment), and what reproduces it: the hidden seed,
a digest of the submitted folder (:func:`submission_digest`), a digest of the
instructor notebook, and when it was graded. Each record is written to a temporary
file beside its target, flushed to disk and renamed into place, so a batch killed at
any moment leaves every finished student's record whole and no other.

The class's outputs are then rendered from *all* the stored records, so a partial run
(``--student``, a ``--submitted`` folder holding some students, a merge) changes only
the rows and pages of the students it graded. A record is *current* for a submission
(:func:`is_current`) when it was graded from the same submitted files, against the
same instructor notebook (and under the same ``--seed``, when one is given): such a
student is not graded again when a batch resumes. ``published`` says whether the
gradebook rows and the autograded notebook of this record were written (step 12-13),
so a batch killed before that step finishes it on its next run.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from course_nn.grading.hardened.load import MAX_NOTEBOOK_BYTES
from course_nn.grading.hardened.model import AssignmentSpec, SubmissionResult
from course_nn.grading.hardened.text import clean

FORMAT = "course-nn result"
VERSION = 1
FOLDER = "results"
MAX_RECORD_BYTES = 16 * 2**20  # one student's record is parsed whole: cap it first
HASHED = (".ipynb", "timestamp.txt")  # files whose bytes the grader reads (others: name, size)
_SAFE = re.compile(r"[a-z0-9_][a-z0-9._-]{0,79}")
_SHA256 = re.compile(r"[0-9a-f]{64}")
TOP_KEYS = {"format", "version", "assignment", "notebook_sha256", "submission_sha256", "seed",
            "graded_at", "published", "result"}


class StoreError(Exception):
    """A stored record is not what :func:`write_record` writes (or not of this assignment)."""


@dataclass(frozen=True)
class Stored:
    """One student's stored result and what reproduces it."""

    result: SubmissionResult
    seed: int | None  # the hidden cases' seed (None: not known, e.g. merged from shards)
    submission_sha256: str | None  # :func:`submission_digest` (None: not known)
    notebook_sha256: str  # the instructor notebook graded against
    graded_at: str  # ISO 8601, UTC
    published: bool = False  # gradebook rows and autograded notebook written

    @property
    def student(self) -> str:
        return self.result.student


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def record_name(student: str) -> str:
    """The record's file name: the id itself when it is a lower-case safe name, else its
    safe form plus a hash of the id (stable whatever the other ids, distinct for distinct
    ids, also on a case-blind disk)."""
    if _SAFE.fullmatch(student):
        return f"{student}.json"
    stem = re.sub(r"[^a-z0-9_.-]", "_", student.lower()).lstrip(".")[:60] or "_"
    digest = hashlib.sha256(student.encode("utf-8", "surrogatepass")).hexdigest()[:16]
    return f"{stem}~{digest}.json"


def store_folder(out: Path) -> Path:
    return Path(out) / FOLDER


# --- the digest of a submission (hostile files: no link followed, sizes capped) --------------
def _file_digest(path: Path, limit: int) -> str:
    """SHA-256 of a regular file's first ``limit`` bytes and its size; never follows a link
    nor blocks on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError as err:
        return f"unreadable:{err.errno}"
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return "not a file"
        if info.st_size > limit:  # the grader refuses it unread: its size says enough
            return f"too large:{info.st_size}:{info.st_mtime_ns}"
        digest = hashlib.sha256()
        left = limit + 1
        while left and (chunk := fh.read(min(left, 2**20))):
            digest.update(chunk)
            left -= len(chunk)
        return f"{info.st_size}:{digest.hexdigest()}"


def submission_digest(folder: Path, limit: int = MAX_NOTEBOOK_BYTES) -> str:
    """A digest of what the grader reads of ``submitted/<student>/<a>/``: whether the
    folders are links, every entry's name and kind, the bytes of notebooks and
    ``timestamp.txt``, and the size of other files (the grader only names them)."""
    digest = hashlib.sha256()

    def add(*parts: str | bytes) -> None:
        for part in parts:
            data = part if isinstance(part, bytes) else part.encode("utf-8", "surrogatepass")
            digest.update(len(data).to_bytes(8, "big") + data)

    folder = Path(folder)
    for path in (folder.parent, folder):
        add("link" if path.is_symlink() else "dir" if path.is_dir() else "missing")
    if folder.parent.is_symlink() or folder.is_symlink() or not folder.is_dir():
        return digest.hexdigest()
    try:
        entries = sorted(os.scandir(folder), key=lambda e: os.fsencode(e.name))
    except OSError as err:
        add("unlistable", str(err.errno))
        return digest.hexdigest()
    for entry in entries:
        add(os.fsencode(entry.name))
        if entry.is_symlink():
            add("link")
        elif entry.is_dir(follow_symlinks=False):
            add("dir")
        elif entry.is_file(follow_symlinks=False):
            if entry.name.endswith(HASHED):
                add("file", _file_digest(Path(entry.path), limit))
            else:
                add("file", str(entry.stat(follow_symlinks=False).st_size))
        else:
            add("other")
    return digest.hexdigest()


def is_current(stored: Stored | None, submission_sha256: str, notebook_sha256: str,
               seed: int | None = None) -> bool:
    """The resume rule: is ``stored`` what grading this submission now would give?
    Yes when it was graded from the same submitted files against the same instructor
    notebook (and, when a ``--seed`` is given, under that seed)."""
    return (stored is not None and stored.submission_sha256 == submission_sha256
            and stored.notebook_sha256 == notebook_sha256
            and (seed is None or stored.seed == seed))


# --- writing ---------------------------------------------------------------------------------
def record_json(stored: Stored, spec: AssignmentSpec) -> dict:
    """A record's JSON object (the result through :func:`.merge.result_json`)."""
    from course_nn.grading.hardened.merge import result_json

    return {"format": FORMAT, "version": VERSION, "assignment": spec.name,
            "notebook_sha256": stored.notebook_sha256,
            "submission_sha256": stored.submission_sha256, "seed": stored.seed,
            "graded_at": stored.graded_at, "published": stored.published,
            "result": result_json(stored.result)}


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:  # some file systems cannot sync a folder: the rename is still atomic
        pass
    finally:
        os.close(fd)


def write_record(folder: Path, stored: Stored, spec: AssignmentSpec) -> Path:
    """Store one student's record atomically (temporary file, fsync, rename); returns it.

    A link at the record's place is replaced, never followed."""
    from course_nn.grading.hardened.outputs import _replace

    folder = Path(folder)
    if folder.is_symlink():
        raise StoreError(f"{folder} is a link: no result is written through it")
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / record_name(stored.student)
    data = (json.dumps(record_json(stored, spec), indent=1, sort_keys=True,
                       ensure_ascii=False) + "\n").encode("utf-8")
    _replace(path, data)
    _fsync_folder(folder)
    return path


def mark_published(folder: Path, records: list[Stored], spec: AssignmentSpec) -> list[Stored]:
    """Rewrite ``records`` as published (their gradebook rows and notebooks are written)."""
    done = [replace(r, published=True) for r in records]
    for record in done:
        write_record(folder, record, spec)
    return done


# --- reading (a record is data on disk: checked, never trusted) ------------------------------
def _no_constants(name: str) -> None:
    raise StoreError(f"{name} is not JSON")


def parse_record(data: bytes, spec: AssignmentSpec, where: str = "record") -> Stored:
    """A record's bytes, every field checked against the assignment; raises StoreError."""
    from course_nn.grading.hardened.merge import ShardError, submission_result

    try:
        top = json.loads(data.decode("utf-8"), parse_constant=_no_constants)
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise StoreError(f"{where}: not JSON ({type(err).__name__})") from None
    if not isinstance(top, dict) or set(top) != TOP_KEYS:
        raise StoreError(f"{where}: expected the keys {sorted(TOP_KEYS)}")
    if top["format"] != FORMAT or top["version"] != VERSION:
        raise StoreError(f"{where}: not a {FORMAT!r} version {VERSION} record")
    if top["assignment"] != spec.name:
        raise StoreError(f"{where}: a result of {clean(str(top['assignment']), 100)!r}")
    for key in ("notebook_sha256", "submission_sha256"):
        value = top[key]
        if not (isinstance(value, str) and _SHA256.fullmatch(value)
                or value is None and key == "submission_sha256"):
            raise StoreError(f"{where}: {key} is not a SHA-256")
    seed = top["seed"]
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool) or seed < 0):
        raise StoreError(f"{where}: seed is not a non-negative integer")
    if not isinstance(top["graded_at"], str) or len(top["graded_at"]) > 64 \
            or not isinstance(top["published"], bool):
        raise StoreError(f"{where}: graded_at or published of the wrong type")
    try:
        result = submission_result(top["result"], spec, f"{where}.result")
    except ShardError as err:
        raise StoreError(str(err)) from None
    return Stored(result, seed, top["submission_sha256"], top["notebook_sha256"],
                  clean(top["graded_at"], 64), top["published"])


def read_record(path: Path, spec: AssignmentSpec) -> Stored:
    """One record file (no link followed, size capped), checked; raises StoreError."""
    from course_nn.grading.hardened.load import read_limited
    from course_nn.grading.hardened.model import Ungradable

    try:
        data = read_limited(path, MAX_RECORD_BYTES)
    except Ungradable as err:
        raise StoreError(f"{path.name}: {err}") from None
    stored = parse_record(data, spec, path.name)
    if record_name(stored.student) != path.name:
        raise StoreError(f"{path.name}: holds the result of {stored.student!r}, whose record "
                         f"is {record_name(stored.student)}")
    return stored


def read_store(folder: Path, spec: AssignmentSpec) -> tuple[dict[str, Stored], list[str]]:
    """Every readable record of ``folder`` by student, and a warning per unreadable one."""
    folder = Path(folder)
    if folder.is_symlink() or not folder.is_dir():
        return {}, ([f"warning: {folder} is a link: its results are not read"]
                    if folder.is_symlink() else [])
    found: dict[str, Stored] = {}
    notes = []
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or not path.name.endswith(".json"):
            continue  # a temporary file of a write that was cut short
        try:
            stored = read_record(path, spec)
        except StoreError as err:
            notes.append(f"warning: stored result {clean(path.name, 120)} cannot be used "
                         f"({clean(err, 300)}); grade that student again")
            continue
        found[stored.student] = stored
    return found, notes


def class_results(stored: dict[str, Stored]) -> list[SubmissionResult]:
    """The class's results in a batch's order (by student id)."""
    return [stored[s].result for s in sorted(stored)]
