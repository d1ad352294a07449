"""Grading a class in shards: self-contained shard results, and their merge.

Book: none (instructor tooling); docs/instructor.md, "Grading a class in shards";
docs/grading.md, "11. Outputs" and "12. Gradebook".

``course-nn grade A --shard k/N`` grades every N-th student and writes a shard folder
(:func:`write_shard`) instead of the class's outputs:

* ``results.json``: the typed per-student results (:class:`SubmissionResult` as JSON),
  the shard's ``k`` and ``N``, the assignment and a digest of the instructor notebook,
  and a manifest of every other file with its size and SHA-256;
* ``grades.csv``, ``summary.csv`` and ``feedback/`` of this shard's students (to read);
* ``autograded/...`` when the batch writes autograded notebooks (made again by the
  merge from the validated results, never copied as they are: :func:`rebuilt_notebook`).

No gradebook is written: N runners would race on one SQLite file.
``course-nn merge A SHARD_DIR...`` (:func:`merge_assignment`) reads the N folders as
hostile data (a shard comes back from a CI artifact store): :func:`read_shard` caps
``results.json``'s bytes and JSON items by the class (:class:`ShardLimits`), counted
while it is read and before it is parsed, then checks its schema exactly (keys, types,
statuses, points, the assignment's tests), every string is already clean text, every
manifest path is a plain relative path inside the shard (no ``..``, no link on the
way) whose file has the size and digest listed. :func:`check_shards` then wants
shards 1..N each exactly once, one instructor notebook, and no student twice. Only
when every shard is valid is anything written, through the same function an
unsharded run ends with (:func:`.grade.write_batch`), so the outputs are the same
files, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import stat
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import BinaryIO

from course_nn.grading.hardened.boundedjson import RefusedJSON, loads, read_json_bytes
from course_nn.grading.hardened.model import (
    STATUSES,
    AssignmentSpec,
    Context,
    SubmissionResult,
    TestResult,
)
from course_nn.grading.hardened.outputs import render_outputs
from course_nn.grading.hardened.sandbox import OUTPUT_HEAD
from course_nn.grading.hardened.text import clean, is_student_id

FORMAT = "course-nn shard"
VERSION = 2  # 2: a test row has its ``diagnosis``
RESULTS = "results.json"
MAX_RESULTS_BYTES = 256 * 2**20  # results.json is parsed whole: cap it before reading
# results.json's caps grow with the class (ShardLimits), pooled over the shard, not per field
MAX_CLASS = 5_000  # students assumed when the course has no submitted/ folder to count
BASE_BYTES, BASE_ITEMS = 2**20, 1024  # the top keys and the rest of the document
STUDENT_BYTES = 256 * 1024  # a student's record, flags, notes and manifest entries ...
TEST_BYTES = 64 * 1024  # ... and each test row (message and flags)
STUDENT_ITEMS = 128  # JSON items (see boundedjson): about 30 in a student's record ...
TEST_ITEMS = 16  # ... and 8 in a test row
MAX_FILE_BYTES = 64 * 2**20  # one feedback page or autograded notebook
MAX_FILES = 200_000
MAX_ID = 256  # characters of a student id or a test name (ids are cut at 200 + a hash)
MAX_TEXT = 200_000  # characters of a message, flag or note
MAX_OUTPUT = OUTPUT_HEAD + 200  # stdout/stderr: the kept head and the "not kept" line
COPIED = ("autograded",)  # manifest folders copied by the merge (the rest is re-rendered)
LISTED = ("feedback", *COPIED)
_PART = re.compile(r"[^/\\\x00]{1,255}")
_SHA256 = re.compile(r"[0-9a-f]{64}")

RESULT_KEYS = {"student": str, "tests": list, "flags": list, "notes": list, "stdout": str,
               "stderr": str, "seconds": float, "child_seconds": float, "peak_bytes": int,
               "submitted": str}
#: keys a record written before they existed may lack, with the value they then mean
RESULT_DEFAULTS = {"submitted": ""}
MAX_TIME = 64  # characters of a stored time (ISO 8601)
TEST_KEYS = {"test": str, "status": str, "points": float, "max_points": float,
             "message": str, "flags": list, "diagnosis": str, "answer": str}
#: test keys a record written before they existed may lack, with the value they then mean
TEST_DEFAULTS = {"answer": ""}
MAX_ANSWER = 200  # characters of a by-hand item's stored answer (judge.ANSWER_LIMIT)
TOP_KEYS = {"format", "version", "assignment", "notebook", "notebook_sha256", "shard",
            "results", "files"}


class ShardError(Exception):
    """A shard folder is not what ``course-nn grade --shard`` writes (or shards disagree)."""


@dataclass(frozen=True)
class ShardLimits:
    """How much one shard's results.json may hold, from the class it is part of:
    ``students`` (the class, or :data:`MAX_CLASS`) and the assignment's ``tests``.

    Both caps are checked while the file is read, before it is parsed
    (:func:`.boundedjson.read_json_bytes`), so reading a shard takes memory in
    proportion to the class, whatever the file holds."""

    students: int
    tests: int

    @property
    def max_bytes(self) -> int:
        """stdout and stderr (each up to 6 bytes a character once escaped), then the rest."""
        student = 12 * MAX_OUTPUT + STUDENT_BYTES + self.tests * TEST_BYTES
        return min(MAX_RESULTS_BYTES, BASE_BYTES + self.students * student)

    @property
    def max_items(self) -> int:
        return BASE_ITEMS + self.students * (STUDENT_ITEMS + self.tests * TEST_ITEMS)

    def describe(self) -> str:
        return f"a class of {self.students} students and {self.tests} tests"


def class_limits(spec: AssignmentSpec, course: Path | None = None) -> ShardLimits:
    """The caps of a shard of ``course``'s class: its student folders in ``submitted/``
    (as ``grade`` finds them), or :data:`MAX_CLASS` students without that folder."""
    submitted = Path(course) / "submitted" if course is not None else None
    students = MAX_CLASS
    if submitted is not None and submitted.is_dir() and not submitted.is_symlink():
        with os.scandir(submitted) as entries:
            students = sum(1 for e in entries if not e.name.startswith("."))
    return ShardLimits(max(students, 1), len(spec.tests))


@dataclass(frozen=True)
class ShardFile:
    """A file of the shard folder besides results.json, as the manifest lists it."""

    path: str  # relative, "/"-separated, under one of LISTED
    size: int
    sha256: str


@dataclass(frozen=True)
class Shard:
    """One shard folder, read and validated."""

    folder: Path
    k: int
    n: int
    assignment: str
    notebook_sha256: str
    results: list[SubmissionResult]
    files: tuple[ShardFile, ...]


# --- writing a shard ----------------------------------------------------------------------
def shard_folder(course: Path, assignment: str, k: int, n: int) -> Path:
    """The default folder of shard ``k`` of ``n``: ``COURSE/shards/<assignment>/<k>-of-<n>``."""
    return Path(course) / "shards" / assignment / f"{k}-of-{n}"


def notebook_digest(spec: AssignmentSpec) -> str:
    """SHA-256 of the instructor notebook: every shard must be graded against the same one."""
    return hashlib.sha256(Path(spec.source_path).read_bytes()).hexdigest()


def result_json(result: SubmissionResult) -> dict:
    """One student's result as the JSON object of results.json (every field, typed)."""
    return {key: value for key, value in asdict(result).items() if key in RESULT_KEYS}


def shard_json(spec: AssignmentSpec, results: list[SubmissionResult], k: int, n: int,
               files: dict[str, bytes]) -> dict:
    """results.json's content: the results and a manifest of ``files``."""
    manifest = [{"path": rel, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
                for rel, data in sorted(files.items())]
    return {"format": FORMAT, "version": VERSION, "assignment": spec.name,
            "notebook": spec.notebook, "notebook_sha256": notebook_digest(spec),
            "shard": [k, n], "results": [result_json(r) for r in results], "files": manifest}


def write_shard(out: Path, spec: AssignmentSpec, results: list[SubmissionResult], k: int, n: int,
                extra: dict[str, bytes] | None = None) -> None:
    """Write shard ``k`` of ``n`` to ``out/`` (replaced whole, atomically).

    ``extra`` maps further files (e.g. ``autograded/<student>/<a>/<nb>.ipynb``) to their
    bytes; they are listed in the manifest and copied by the merge."""
    files = {rel: data for rel, data in render_outputs(spec, results).items()}
    files.update(extra or {})
    for rel in files:
        _check_path(rel, "a shard file")
    listed = {rel: data for rel, data in files.items() if rel.split("/")[0] in LISTED}
    document = json.dumps(shard_json(spec, results, k, n, listed), indent=1, allow_nan=False)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        os.chmod(staged, 0o755)
        for rel, data in {**files, RESULTS: document.encode("utf-8")}.items():
            (staged / rel).parent.mkdir(parents=True, exist_ok=True)
            (staged / rel).write_bytes(data)
        _swap_in(staged, out)
    finally:
        _remove(staged)


def autograded_files(spec: AssignmentSpec, results: list[SubmissionResult], ctx: Context,
                     students: list[tuple[str, Path]], course: Path
                     ) -> tuple[dict[str, bytes], list[str]]:
    """The autograded notebooks a batch would write (step 13), as shard files
    ``autograded/<student>/<assignment>/<notebook>``, and notes on those not made."""
    from course_nn.grading.hardened.autograded import autograde_batch, load_config, source_cells

    made, notes = autograde_batch(ctx, students, results,
                                  source_cells(spec, load_config(Path(course))))
    files = {}
    for student, item in sorted(made.items()):
        rel = autograded_path(spec, student)
        try:
            files[_check_path(rel, "an autograded notebook")] = notebook_bytes(item.notebook)
        except ShardError as err:  # e.g. a backslash in the folder name: the scores still count
            notes.append(f"warning: no autograded notebook for {student!r} in the shard ({err})")
    return files, notes


def autograded_path(spec: AssignmentSpec, student: str) -> str:
    """Where a student's autograded notebook is in a shard (nbgrader's layout)."""
    return f"autograded/{student}/{spec.name}/{spec.notebook}"


def notebook_bytes(nb: dict) -> bytes:
    """An autograded notebook as :func:`.autograded.write_autograded` writes it."""
    return (json.dumps(nb, indent=1, sort_keys=True) + "\n").encode("utf-8")


def grade_shard(out: Path, spec: AssignmentSpec, results: list[SubmissionResult], k: int, n: int,
                ctx: Context, students: list[tuple[str, Path]], course: Path) -> list[str]:
    """What ``grade --shard k/N`` writes instead of the class's outputs; returns notes."""
    extra, notes = autograded_files(spec, results, ctx, students, course)
    write_shard(out, spec, results, k, n, extra)
    return notes + [f"shard {k}/{n} written to {out}/ (no gradebook): combine all {n} with "
                    f"`course-nn merge {spec.name} SHARD_DIR...`"]


def _swap_in(staged: Path, out: Path) -> None:
    """Put ``staged`` where ``out`` is; the old folder (if any) is removed afterwards."""
    retired = out.parent / f".{out.name}.old.{os.getpid()}"
    if os.path.lexists(out):
        if out.is_symlink() or not out.is_dir():
            out.unlink()
        else:
            os.replace(out, retired)
    os.replace(staged, out)
    _remove(retired)


def _remove(folder: Path) -> None:
    from course_nn.grading.hardened.scratch import remove_tree

    if os.path.lexists(folder):
        remove_tree(folder)


# --- reading a shard (hostile data) -------------------------------------------------------
def _check_path(rel: object, what: str) -> str:
    """A manifest path: relative, "/"-separated, no empty, ``.`` or ``..`` part, under LISTED."""
    if not isinstance(rel, str) or len(rel) > 4096:
        raise ShardError(f"{what}: a path must be text of at most 4096 characters")
    parts = rel.split("/")
    if (rel.startswith("/") or any(p in ("", ".", "..") or not _PART.fullmatch(p) for p in parts)
            or clean(rel) != rel):
        raise ShardError(f"{what}: path {clean(rel, 200)!r} is not a plain relative path "
                         "inside the shard")
    if parts[0] not in LISTED and rel not in ("grades.csv", "summary.csv"):
        raise ShardError(f"{what}: path {clean(rel, 200)!r} is outside {', '.join(LISTED)}/")
    return rel


def _open_leaf(folder: Path, rel: str, limit: int, why: str = "") -> BinaryIO:
    """``folder/rel`` open for reading, every component opened without following links,
    checked to be a regular file of at most ``limit`` bytes (``why``: the limit's reason)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(folder, flags | os.O_DIRECTORY)
    try:
        for part in rel.split("/")[:-1]:
            next_fd = os.open(part, flags | os.O_DIRECTORY, dir_fd=fd)
            os.close(fd)
            fd = next_fd
        leaf = os.open(rel.split("/")[-1], flags | os.O_NONBLOCK, dir_fd=fd)
    finally:
        os.close(fd)
    fh = os.fdopen(leaf, "rb")
    info = os.fstat(fh.fileno())
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        fh.close()
        raise ShardError(f"{rel} is not a regular file" if not stat.S_ISREG(info.st_mode)
                         else f"{rel} has {info.st_size} bytes (at most {limit}{why})")
    return fh


def _open_inside(folder: Path, rel: str, limit: int) -> bytes:
    """The bytes of ``folder/rel``, every component opened without following links."""
    with _open_leaf(folder, rel, limit) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ShardError(f"{rel} grew past {limit} bytes while read")
    return data


def _typed(value: object, kind: type, where: str) -> object:
    if kind is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, kind) or isinstance(value, bool) and kind is not bool:
        raise ShardError(f"{where}: expected {kind.__name__}, got {type(value).__name__}")
    if isinstance(value, float) and not math.isfinite(value):
        raise ShardError(f"{where}: not a finite number")
    return value


def _text(value: object, limit: int, where: str) -> str:
    text = _typed(value, str, where)
    if len(text) > limit or clean(text) != text:
        raise ShardError(f"{where}: not clean text of at most {limit} characters")
    return text


def _record(value: object, keys: dict[str, type], where: str) -> dict:
    """A JSON object with exactly ``keys``, each of its type."""
    if not isinstance(value, dict) or set(value) != set(keys):
        have = sorted(value) if isinstance(value, dict) else type(value).__name__
        raise ShardError(f"{where}: expected the keys {sorted(keys)}, got {have}")
    return {key: _typed(value[key], kind, f"{where}.{key}") for key, kind in keys.items()}


def _texts(value: list, where: str) -> list[str]:
    if len(value) > 10_000:
        raise ShardError(f"{where}: more than 10000 entries")
    return [_text(v, MAX_TEXT, f"{where}[{i}]") for i, v in enumerate(value)]


def read_test_row(value: object, spec_test: tuple[str, float], where: str) -> TestResult:
    """One row of a student's tests, checked against the assignment's test of that index."""
    if isinstance(value, dict):  # a record from before a field existed: its default
        value = {**{k: v for k, v in TEST_DEFAULTS.items() if k not in value}, **value}
    row = _record(value, TEST_KEYS, where)
    grade_id, points = spec_test
    if row["test"] != grade_id:
        raise ShardError(f"{where}: test {clean(row['test'], 200)!r} where the assignment "
                         f"has {grade_id!r}")
    if row["status"] not in STATUSES:
        raise ShardError(f"{where}: unknown status {clean(row['status'], 50)!r}")
    if row["max_points"] != points or not 0 <= row["points"] <= points:
        raise ShardError(f"{where}: points {row['points']:g} / {row['max_points']:g}, but the "
                         f"test is worth {points:g}")
    return TestResult(row["test"], row["status"], row["points"], row["max_points"],
                      _text(row["message"], MAX_TEXT, f"{where}.message"),
                      _texts(row["flags"], f"{where}.flags"),
                      _text(row["diagnosis"], MAX_TEXT, f"{where}.diagnosis"),
                      _text(row["answer"], MAX_ANSWER, f"{where}.answer"))


def submission_result(value: object, spec: AssignmentSpec, where: str) -> SubmissionResult:
    """One student's result from results.json, every field checked."""
    if isinstance(value, dict):  # a record from before a field existed: its default
        value = {**{k: v for k, v in RESULT_DEFAULTS.items() if k not in value}, **value}
    row = _record(value, RESULT_KEYS, where)
    student = _text(row["student"], MAX_ID, f"{where}.student")
    if not is_student_id(student):  # ids reach nbgrader's pages, which print them raw
        raise ShardError(f"{where}.student: not a safe student id")
    tests = [(t.grade_id, t.points) for t in spec.tests]
    if len(row["tests"]) != len(tests):
        raise ShardError(f"{where}: {len(row['tests'])} tests, the assignment has {len(tests)}")
    if row["peak_bytes"] < 0 or row["seconds"] < 0 or row["child_seconds"] < 0:
        raise ShardError(f"{where}: negative time or memory")
    return SubmissionResult(
        student, [read_test_row(t, s, f"{where}.tests[{i}]")
                  for i, (t, s) in enumerate(zip(row["tests"], tests, strict=True))],
        _texts(row["flags"], f"{where}.flags"), _texts(row["notes"], f"{where}.notes"),
        _text(row["stdout"], MAX_OUTPUT, f"{where}.stdout"),
        _text(row["stderr"], MAX_OUTPUT, f"{where}.stderr"),
        row["seconds"], row["child_seconds"], row["peak_bytes"],
        _time(row["submitted"], f"{where}.submitted"))


def _time(value: str, where: str) -> str:
    """A stored submission time: "" or ISO 8601 with a zone (as :func:`.deadlines.iso`)."""
    from datetime import datetime

    text = _text(value, MAX_TIME, where)
    try:
        if text and datetime.fromisoformat(text).tzinfo is None:
            raise ValueError
    except ValueError:
        raise ShardError(f"{where}: not an ISO 8601 time with a zone") from None
    return text


def _manifest(value: object, folder: Path) -> tuple[ShardFile, ...]:
    if not isinstance(value, list) or len(value) > MAX_FILES:
        raise ShardError(f"files: expected a list of at most {MAX_FILES} entries")
    files, seen = [], set()
    for i, entry in enumerate(value):
        row = _record(entry, {"path": str, "size": int, "sha256": str}, f"files[{i}]")
        rel = _check_path(row["path"], f"files[{i}]")
        if rel.lower() in seen:
            raise ShardError(f"files[{i}]: {rel!r} listed twice")
        seen.add(rel.lower())
        if not _SHA256.fullmatch(row["sha256"]) or not 0 <= row["size"] <= MAX_FILE_BYTES:
            raise ShardError(f"files[{i}]: bad size or digest")
        try:
            data = _open_inside(folder, rel, MAX_FILE_BYTES)
        except OSError as err:
            raise ShardError(f"{rel}: cannot be read without following a link "
                             f"({type(err).__name__}: {err.strerror})") from None
        if len(data) != row["size"] or hashlib.sha256(data).hexdigest() != row["sha256"]:
            raise ShardError(f"{rel}: its size or digest differs from the manifest (truncated "
                             "or altered)")
        files.append(ShardFile(rel, row["size"], row["sha256"]))
    return tuple(files)


def _no_constants(name: str) -> None:
    raise ShardError(f"{RESULTS}: {name} is not JSON")


def read_results_json(folder: Path, limits: ShardLimits) -> object:
    """results.json parsed, once its bytes and JSON items are within ``limits`` (both
    counted while it is read, so a refused file costs at most a piece past the cap)."""
    why = f" for {limits.describe()}"
    try:
        with _open_leaf(folder, RESULTS, limits.max_bytes, why) as fh:
            raw = read_json_bytes(fh, limits.max_bytes, limits.max_items, RESULTS)
    except (OSError, ShardError) as err:
        raise ShardError(f"no readable {RESULTS} ({err})") from None
    except RefusedJSON as err:
        raise ShardError(f"{err} (at most {limits.max_bytes} bytes and {limits.max_items} "
                         f"items{why})") from None
    try:
        return loads(raw, RESULTS)
    except RefusedJSON as err:
        raise ShardError(str(err)) from None
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as err:
        raise ShardError(f"{RESULTS} is not JSON ({type(err).__name__})") from None


def read_shard(folder: Path, spec: AssignmentSpec, limits: ShardLimits | None = None) -> Shard:
    """Read and validate one shard folder against the assignment; raises :class:`ShardError`.

    ``limits``: the caps of results.json (default: a class of :data:`MAX_CLASS`)."""
    folder = Path(folder)
    where = f"shard {folder}"
    limits = limits or class_limits(spec)
    try:
        top = read_results_json(folder, limits)
        if not isinstance(top, dict) or set(top) != TOP_KEYS:
            raise ShardError(f"expected the keys {sorted(TOP_KEYS)}")
        if top["format"] != FORMAT or top["version"] != VERSION:
            raise ShardError(f"not a {FORMAT!r} version {VERSION} file")
        k, n = _shard_numbers(top["shard"])
        if top["assignment"] != spec.name or top["notebook"] != spec.notebook:
            raise ShardError(f"graded {clean(top['assignment'], 200)!r}, not {spec.name!r}")
        if top["notebook_sha256"] != notebook_digest(spec):
            raise ShardError(f"graded against another version of {spec.notebook}")
        if not isinstance(top["results"], list):
            raise ShardError("results: expected a list")
        results = [submission_result(r, spec, f"results[{i}]")
                   for i, r in enumerate(top["results"])]
        files = _manifest(top["files"], folder)
        _own_notebooks(files, results, spec)
    except ShardError as err:
        raise ShardError(f"{where}: {err}") from None
    return Shard(folder, k, n, spec.name, top["notebook_sha256"], results, files)


def _own_notebooks(files: tuple[ShardFile, ...], results: list[SubmissionResult],
                   spec: AssignmentSpec) -> None:
    """Each autograded file is ``autograded/<student>/<A>/<notebook>`` of a student of
    this shard (a shard never brings another student's notebook)."""
    allowed = {autograded_path(spec, r.student) for r in results}
    for f in files:
        if f.path.split("/")[0] == "autograded" and f.path not in allowed:
            raise ShardError(f"{f.path} is not the autograded notebook of a student of "
                             "this shard")


def _shard_numbers(value: object) -> tuple[int, int]:
    if (not isinstance(value, list) or len(value) != 2
            or not all(isinstance(v, int) and not isinstance(v, bool) for v in value)
            or not 1 <= value[0] <= value[1] <= 100_000):
        raise ShardError("shard: expected [k, N] with 1 <= k <= N")
    return value[0], value[1]


def check_shards(shards: list[Shard]) -> list[SubmissionResult]:
    """Shards 1..N each once, no student twice; the class's results sorted as a batch's."""
    if not shards:
        raise ShardError("no shard folders given")
    n = shards[0].n
    if any(s.n != n for s in shards):
        raise ShardError("the shards were cut for different N: "
                         + ", ".join(f"{s.folder} ({s.k}/{s.n})" for s in shards))
    seen: dict[int, Path] = {}
    for s in shards:
        if s.k in seen:
            raise ShardError(f"shard {s.k}/{n} given twice: {seen[s.k]} and {s.folder}")
        seen[s.k] = s.folder
    missing = sorted(set(range(1, n + 1)) - set(seen))
    if missing:
        raise ShardError(f"missing shard(s) {', '.join(f'{k}/{n}' for k in missing)}")
    owner: dict[str, Path] = {}
    for s in shards:
        for r in s.results:
            if r.student in owner:
                raise ShardError(f"student {r.student!r} is in two shards: {owner[r.student]} "
                                 f"and {s.folder}")
            owner[r.student] = s.folder
    copied = [f.path for s in shards for f in s.files if f.path.split("/")[0] in COPIED]
    twice = sorted({p for p in copied if copied.count(p) > 1})
    if twice:
        raise ShardError(f"{twice[0]} is in two shards")
    return sorted((r for s in shards for r in s.results), key=lambda r: r.student)


# --- the merge ------------------------------------------------------------------------------
def destinations(course: Path) -> dict[str, Path]:
    """Where each COPIED folder of a shard goes in the course (nbgrader's configured
    ``autograded_directory``)."""
    from course_nn.grading.hardened.autograded import autograded_folder, load_config

    return {"autograded": autograded_folder(Path(course), load_config(Path(course)))}


def copy_files(shards: list[Shard], course: Path, spec: AssignmentSpec) -> list[str]:
    """Write every shard's autograded notebooks into the course, each made again from
    validated data (:func:`rebuilt_notebook`), never copied as it is; all are rebuilt
    before any is written (atomically per file, no link followed on the way). Returns
    the relative paths written."""
    from course_nn.grading.hardened.autograded import gradable, load_config, source_cells
    from course_nn.grading.hardened.outputs import _replace

    roots = destinations(course)
    sources = source_cells(spec, load_config(Path(course)))
    ready = []
    for s in shards:
        owners = {autograded_path(spec, r.student): r for r in s.results}
        for f in s.files:
            top, *rest = f.path.split("/")
            if top not in COPIED or not gradable(owners[f.path]):
                continue
            data = _open_inside(s.folder, f.path, MAX_FILE_BYTES)
            if hashlib.sha256(data).hexdigest() != f.sha256:  # changed since it was checked
                raise ShardError(f"{s.folder}/{f.path} changed during the merge")
            ready.append((f.path, rebuilt_notebook(data, owners[f.path], spec, sources,
                                                   f"{s.folder}/{f.path}")))
    written = []
    for rel, data in ready:
        top, *rest = rel.split("/")
        target = roots[top]
        target.mkdir(parents=True, exist_ok=True)
        for part in rest[:-1]:
            target = target / part
            if target.is_symlink():
                raise ShardError(f"{target} is a link: not written through")
            target.mkdir(exist_ok=True)
        _replace(target / rest[-1], data)
        written.append(rel)
    return written


def rebuilt_notebook(data: bytes, result: SubmissionResult, spec: AssignmentSpec,
                     sources: dict, where: str) -> bytes:
    """A shard's autograded notebook made again as step 13 makes it, from the shard's
    cells read as a student's notebook and the student's validated result: the
    instructor's metadata and locked sources, Markdown through the sanitiser, test cells'
    outputs the grader's verdicts (every other output, attachment and metadata dropped).

    An honest shard's notebook is already what this makes: it comes back byte for byte.
    Raises :class:`ShardError` for a file that is not a notebook."""
    from course_nn.grading.hardened.autograded import autograde

    try:
        nb = json.loads(data.decode("utf-8"), parse_constant=_no_constants)
        if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
            raise ShardError("no list of cells")
        made = autograde(result.student, nb, spec, sources, result)
        return notebook_bytes(made.notebook)
    except Exception as err:  # hostile JSON of any shape: the shard is refused
        raise ShardError(f"{where}: not an autograded notebook ({clean(err, 200)})") from None


@dataclass
class MergeReport:
    """What a merge wrote, for the command line and the tests."""

    results: list[SubmissionResult]
    out: Path
    copied: list[str]
    notes: list[str]


def merge_assignment(assignment: str, folders: list[Path], course: Path = Path("."),
                     out: Path | None = None, source: Path | None = None,
                     gradebook: bool = True) -> MergeReport:
    """``course-nn merge``: N shard folders -> what one unsharded run writes.

    Every shard is read and validated first; a :class:`ShardError` leaves every output
    untouched."""
    from course_nn.grading.hardened.grade import load_assignment, write_batch

    info, spec = load_assignment(assignment, course, source)
    limits = class_limits(spec, info.root)
    shards = [read_shard(Path(f), spec, limits) for f in folders]
    results = check_shards(shards)
    out = Path(out) if out else info.root / "graded" / assignment
    copied = copy_files(shards, info.root, spec) if gradebook else []  # the gradebook reads them
    notes = write_batch(info, spec, results, out, gradebook)
    return MergeReport(results, out, copied, notes)
