"""Step 0: collect a class's GitHub Classroom clones into nbgrader's ``submitted/`` layout.

Book: none (instructor tooling); docs/for_credit.md, "Collect"; docs/grading.md, step 1
(hostile strings) and steps 2-3 (links, sizes) apply here too.

GitHub Classroom creates one repository per student named ``<prefix>-<github-username>``;
``gh classroom clone student-repos`` (or ``git clone`` in CI) puts one clone per student
in a folder. :func:`collect` turns that folder into
``submitted/<student>/<a>/<a>.ipynb`` plus a ``timestamp.txt`` in nbgrader's format, the
time being the clone's last commit's committer time (``git log -1 --format=%cI``, run
with ``git -C`` on the clone: no network, no pager, no hooks, no repository discovery
above the clone); a clone without git history gets the notebook's modification time
and a warning. The committer time is what the student's git recorded, so it is a
record, not proof: a deadline is enforced by collecting at the deadline.

Everything in a clone is hostile. Folder names become safe student ids
(:func:`.text.student_id`; a roster CSV may map GitHub usernames to the course's ids);
no link is followed (a clone, a folder on the way or a notebook that is a link is not
read); the notebook's size is capped on the open file (:data:`.load.MAX_NOTEBOOK_BYTES`)
and the search for it is bounded in depth and entries; nothing is written outside
``--to``. A student whose clone holds no readable notebook still gets a folder (only
its ``timestamp.txt``), so ``course-nn grade`` gives them an ungradable row instead of
no row. An existing submission is replaced only by a newer one (by its
``timestamp.txt``); a newer one already in place is kept, and every outcome is counted
in the :class:`CollectReport`.
"""

from __future__ import annotations

import csv
import io
import os
import re
import shutil
import stat
import subprocess
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from course_nn.grading.hardened.load import MAX_NOTEBOOK_BYTES
from course_nn.grading.hardened.text import clean, name_of, student_id

#: nbgrader's ``Exchange.timestamp_format`` (timezone UTC), as ``nbgrader collect`` writes it.
TIMESTAMP_FORMAT = "%Y-%m-%d %H:%M:%S.%f %Z"
ASSIGNMENT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}", re.ASCII)
#: A GitHub login: letters, digits, single hyphens, at most 39 characters.
GITHUB_LOGIN = re.compile(r"[A-Za-z0-9](?:-?[A-Za-z0-9]){0,38}", re.ASCII)
MAX_DEPTH = 4  # folders below the clone searched for the notebook
MAX_ENTRIES = 20_000  # directory entries looked at per clone
MAX_ROSTER_BYTES = 4 * 2**20
GIT_TIMEOUT = 20.0  # seconds for `git log` on one clone
#: What each clone became: written (first time), replaced (an older one was there),
#: unchanged (the same notebook and time), kept (a newer submission is already there),
#: empty (no readable notebook: a folder with only timestamp.txt).
OUTCOMES = ("written", "replaced", "unchanged", "kept", "empty")


class CollectError(Exception):
    """Collecting cannot start (bad assignment name, missing folder, unreadable roster)."""


@dataclass(frozen=True)
class Found:
    """A clone's notebook (or why there is none) and its submission time."""

    notebook: bytes | None
    reason: str  # why there is no notebook ("" when there is one)
    timestamp: datetime
    from_git: bool


@dataclass(frozen=True)
class Collected:
    """One student's outcome (:data:`OUTCOMES`); ``note`` says why, for people."""

    student: str
    clone: str  # the clone folder's name, cleaned
    outcome: str
    timestamp: datetime
    note: str = ""


@dataclass
class CollectReport:
    """Per student what happened, the clones skipped and the roster's students missing."""

    assignment: str
    to: Path
    collected: list[Collected] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # not a student clone: no row
    warnings: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)  # roster ids without a clone

    def counts(self) -> dict[str, int]:
        return {o: sum(c.outcome == o for c in self.collected) for o in OUTCOMES}

    def summary(self) -> str:
        counts = ", ".join(f"{n} {o}" for o, n in self.counts().items())
        return (f"collected {len(self.collected)} student(s) of {self.assignment} into "
                f"{self.to}: {counts}; {len(self.skipped)} folder(s) skipped"
                + (f"; {len(self.missing)} roster student(s) without a clone"
                   if self.missing else ""))


# --- the roster -----------------------------------------------------------------------------
ROSTER_USER = ("github_username", "github")
ROSTER_ID = ("student_id", "identifier", "roster_identifier", "id")


def read_roster(path: Path) -> dict[str, str]:
    """GitHub username (lower case) -> student id, from a CSV with a header: the username
    in ``github_username`` (GitHub Classroom's roster export) or ``github``, the id in
    ``student_id`` (the column ``course-nn export``'s roster uses, so one roster.csv can
    serve both), ``identifier`` (Classroom's), ``roster_identifier`` or ``id``.
    Ids are made safe (:func:`.text.student_id`); blank rows are skipped."""
    try:
        with open(path, "rb") as fh:
            data = fh.read(MAX_ROSTER_BYTES + 1)
    except OSError as err:
        raise CollectError(f"cannot read the roster {path}: {err.strerror}") from None
    if len(data) > MAX_ROSTER_BYTES:
        raise CollectError(f"the roster {path} is larger than {MAX_ROSTER_BYTES // 2**20} MB")
    rows = csv.DictReader(io.StringIO(data.decode("utf-8-sig", "replace"), newline=""))
    header = {(h or "").strip().lower(): h for h in rows.fieldnames or []}
    user = next((header[k] for k in ROSTER_USER if k in header), None)
    sid = next((header[k] for k in ROSTER_ID if k in header), None)
    if user is None or sid is None:
        raise CollectError(f"the roster {path} needs a GitHub username column "
                           f"({', '.join(ROSTER_USER)}) and an id column ({', '.join(ROSTER_ID)})")
    roster: dict[str, str] = {}
    for row in rows:
        login, ident = (row.get(user) or "").strip(), (row.get(sid) or "").strip()
        if login and ident:
            roster[login.lower()] = student_id(ident)
    return roster


# --- one clone ------------------------------------------------------------------------------
def username_of(folder_name: str, prefix: str) -> str | None:
    """The GitHub username of a clone named ``<prefix>-<username>`` (None: another folder)."""
    start = f"{prefix}-"
    if not folder_name.startswith(start) or len(folder_name) == len(start):
        return None
    return folder_name[len(start):]


def candidates(assignment: str) -> list[str]:
    """Where a notebook usually is in a student's repository, most likely first."""
    nb = f"{assignment}.ipynb"
    return [nb, f"exercises/{assignment}/{nb}", f"{assignment}/{nb}"]


def _is_link_free(clone: Path, relative: str) -> bool:
    """Is every component of ``clone/relative`` a real folder or file (no link)?"""
    current = clone
    for part in Path(relative).parts:
        current = current / part
        try:
            if stat.S_ISLNK(os.lstat(current).st_mode):
                return False
        except OSError:
            return False
    return True


def _search(clone: Path, name: str) -> tuple[list[str], list[str]]:
    """(paths of files called ``name``, paths of links called ``name``) below ``clone``,
    at most :data:`MAX_DEPTH` folders down and :data:`MAX_ENTRIES` entries in all; links
    and ``.git`` are never entered."""
    found: list[str] = []
    links: list[str] = []
    seen = 0
    stack: list[tuple[Path, int]] = [(clone, 0)]
    while stack and seen < MAX_ENTRIES:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError:
            continue
        for entry in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                break
            relative = str(Path(entry.path).relative_to(clone))
            if entry.is_symlink():
                if entry.name == name:
                    links.append(relative)
                continue
            if entry.is_dir(follow_symlinks=False):
                if entry.name != ".git" and depth < MAX_DEPTH:
                    stack.append((Path(entry.path), depth + 1))
            elif entry.name == name and entry.is_file(follow_symlinks=False):
                found.append(relative)
    return sorted(found, key=lambda p: (p.count("/"), p)), sorted(links)


def locate(clone: Path, assignment: str) -> tuple[str | None, str]:
    """(path of the notebook inside the clone, "") or (None, why not): the usual places
    first (:func:`candidates`), else the shallowest file named ``<a>.ipynb``. A link on
    the way or as the notebook is never followed."""
    name = f"{assignment}.ipynb"
    for relative in candidates(assignment):
        path = clone / relative
        if not _is_link_free(clone, relative):
            if os.path.lexists(path):
                return None, f"{relative} is a symbolic link (not followed)"
            continue
        if path.is_file():
            return relative, ""
    found, links = _search(clone, name)
    if found:
        return found[0], ""
    if links:
        return None, f"{name_of(links[0])} is a symbolic link (not followed)"
    return None, f"no {name} in the repository"


def read_notebook(path: Path, limit: int = MAX_NOTEBOOK_BYTES) -> tuple[bytes | None, str]:
    """A regular file's bytes, never following a link, its size checked on the open file."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        return None, f"{name_of(path.name)} cannot be opened (a symbolic link?)"
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None, f"{name_of(path.name)} is not a regular file"
        if info.st_size > limit:
            return None, f"{name_of(path.name)} is larger than {limit // 2**20} MB"
        data = fh.read(limit + 1)
    if len(data) > limit:
        return None, f"{name_of(path.name)} is larger than {limit // 2**20} MB"
    return data, ""


def git_env() -> dict[str, str]:
    """The environment of ``git log`` on a clone: no system or global config, no prompt,
    no optional locks, no replace objects, and no repository discovery above the clone
    (``GIT_CEILING_DIRECTORIES`` is set per call)."""
    keep = {k: v for k, v in os.environ.items() if k in ("PATH", "HOME", "LANG", "TZ")}
    return {**keep, "GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull,
            "GIT_TERMINAL_PROMPT": "0", "GIT_OPTIONAL_LOCKS": "0",
            "GIT_NO_REPLACE_OBJECTS": "1", "LC_ALL": "C"}


def commit_time(clone: Path) -> datetime | None:
    """The committer time of the clone's last commit (``git -C clone log -1
    --format=%cI``), in UTC; None when the clone has no history git can read (no
    ``.git`` folder, a ``.git`` that is a link, no commit, git refusing the folder)."""
    dot_git = clone / ".git"
    try:
        if not stat.S_ISDIR(os.lstat(dot_git).st_mode):
            return None
    except OSError:
        return None
    command = ["git", "--no-pager", "-c", "core.fsmonitor=false", "-c", "core.hooksPath=/dev/null",
               "-C", str(clone), "log", "-1", "--no-show-signature", "--format=%cI"]
    env = dict(git_env(), GIT_CEILING_DIRECTORIES=str(clone.parent.resolve()))
    try:
        run = subprocess.run(command, env=env, capture_output=True, timeout=GIT_TIMEOUT,
                             stdin=subprocess.DEVNULL)
    except (OSError, subprocess.TimeoutExpired):
        return None
    text = run.stdout[:100].decode("ascii", "replace").strip()
    if run.returncode != 0 or not text:
        return None
    try:
        when = datetime.fromisoformat(text)
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo else None


def nbgrader_timestamp(when: datetime) -> str:
    """``when`` as nbgrader writes ``timestamp.txt``: ``2026-01-05 09:00:00.000000 UTC``."""
    return when.astimezone(UTC).strftime(TIMESTAMP_FORMAT)


def read_timestamp(folder: Path) -> datetime | None:
    """An existing submission's ``timestamp.txt`` (as the grader reads it), or None."""
    from course_nn.grading.hardened.autograded import submission_timestamp

    return submission_timestamp(folder)


def inspect_clone(clone: Path, assignment: str) -> tuple[Found, list[str]]:
    """The clone's notebook and time, and the warnings worth telling the instructor."""
    warnings: list[str] = []
    relative, reason = locate(clone, assignment)
    data = None
    if relative is not None:
        data, reason = read_notebook(clone / relative)
    when = commit_time(clone)
    from_git = when is not None
    if when is None:
        source = clone / relative if data is not None else clone
        try:
            mtime = os.lstat(source).st_mtime
        except OSError:
            mtime = 0.0
        when = datetime.fromtimestamp(mtime, UTC)
        warnings.append(f"{name_of(clone.name)}: no git history; the time is the file's "
                        f"modification time, {nbgrader_timestamp(when)}")
    if data is None:
        warnings.append(f"{name_of(clone.name)}: {reason}; recorded as an empty submission")
    return Found(data, reason, when, from_git), warnings


# --- writing into --to ----------------------------------------------------------------------
def _real_folder(root: Path, parts: tuple[str, ...]) -> Path:
    """``root/parts...`` created as real folders; a link on the way is an error."""
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise CollectError(f"{current} is a symbolic link: refusing to write through it")
        current.mkdir(exist_ok=True)
    return current


def _same(folder: Path, notebook: str, found: Found) -> bool:
    """Does ``folder`` already hold exactly this notebook (or none) and this time?"""
    have = sorted(p.name for p in folder.iterdir())
    want = sorted(["timestamp.txt"] + ([notebook] if found.notebook is not None else []))
    if have != want or read_timestamp(folder) != found.timestamp.replace(tzinfo=None):
        return False
    if found.notebook is None:
        return True
    data, _ = read_notebook(folder / notebook)
    return data == found.notebook


def _decide(folder: Path, notebook: str, found: Found) -> tuple[str, str]:
    """(outcome, note) for writing ``found`` where ``folder`` may already hold one."""
    if not folder.exists():
        return ("empty" if found.notebook is None else "written"), found.reason
    if _same(folder, notebook, found):
        return "unchanged", ""
    old = read_timestamp(folder)
    new = found.timestamp.replace(tzinfo=None)  # nbgrader's parse_utc gives naive UTC
    has_notebook = (folder / notebook).is_file()
    if old is not None and old > new:
        return "kept", (f"the submission already there is newer ({old:%Y-%m-%d %H:%M:%S} UTC "
                        f"> {new:%Y-%m-%d %H:%M:%S} UTC): kept")
    if found.notebook is None and has_notebook:
        return "kept", f"{found.reason}: the notebook already there is kept"
    if old is None:
        return "replaced", "the submission already there has no timestamp.txt: replaced"
    return "replaced", f"an older submission ({old:%Y-%m-%d %H:%M:%S} UTC) was replaced"


def write_submission(folder: Path, notebook: str, found: Found) -> None:
    """Make ``folder`` hold exactly the notebook (if any) and ``timestamp.txt``: built in a
    temporary sibling, then swapped in, so an interrupted run leaves old or new whole."""
    parent = folder.parent
    staging = Path(tempfile.mkdtemp(prefix=".collect-", dir=parent))
    try:
        if found.notebook is not None:
            (staging / notebook).write_bytes(found.notebook)
        (staging / "timestamp.txt").write_text(nbgrader_timestamp(found.timestamp) + "\n")
        if folder.exists():
            old = Path(tempfile.mkdtemp(prefix=".replaced-", dir=parent))
            os.replace(folder, old / "old")
            os.replace(staging, folder)
            shutil.rmtree(old)
        else:
            os.replace(staging, folder)
    finally:
        if staging.exists():
            shutil.rmtree(staging)


# --- the class ------------------------------------------------------------------------------
def clone_folders(source: Path, prefix: str) -> tuple[list[tuple[Path, str]], list[str]]:
    """(clone folder, username) for every ``<prefix>-<username>`` folder of ``source``,
    and what was skipped (links, files, hidden and other folders), each with why."""
    clones: list[tuple[Path, str]] = []
    skipped: list[str] = []
    for entry in sorted(os.scandir(source), key=lambda e: e.name):
        shown = name_of(entry.name)
        if entry.name.startswith("."):
            continue
        if entry.is_symlink():
            skipped.append(f"{shown}: a symbolic link (not followed)")
        elif not entry.is_dir(follow_symlinks=False):
            skipped.append(f"{shown}: not a folder")
        elif (user := username_of(entry.name, prefix)) is None:
            skipped.append(f"{shown}: not named {prefix}-<github-username>")
        else:
            clones.append((Path(entry.path), user))
    return clones, skipped


def infer_prefix(source: Path, assignment: str) -> str:
    """The Classroom prefix when none is given: the longest start, ending before a ``-``,
    that every clone folder shares (the assignment name when that is the start)."""
    names = [e.name for e in os.scandir(source)
             if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
    if not names:
        raise CollectError(f"no clone folders in {source}")
    if all(n.startswith(f"{assignment}-") for n in names):
        return assignment
    common = os.path.commonprefix(names)
    cut = common.rfind("-")
    if cut <= 0 or len(names) < 2:
        raise CollectError("cannot tell the GitHub Classroom prefix from the folder names: "
                           "pass --prefix (the assignment's repository prefix)")
    return common[:cut]


def student_of(user: str, roster: dict[str, str] | None) -> tuple[str, str]:
    """(student id, warning) of a clone's GitHub username."""
    if roster is not None:
        if user.lower() in roster:
            return roster[user.lower()], ""
        sid = student_id(user)
        return sid, f"{name_of(user)}: not in the roster, collected as {sid}"
    sid = student_id(user)
    note = "" if GITHUB_LOGIN.fullmatch(user) else \
        f"{name_of(user)}: not a GitHub username; collected as {sid}"
    return sid, note


def collect(assignment: str, source: Path, to: Path, prefix: str | None = None,
            roster: dict[str, str] | None = None) -> CollectReport:
    """Collect every clone of ``source`` into ``to/<student>/<assignment>/`` (step 0)."""
    if not ASSIGNMENT.fullmatch(assignment):
        raise CollectError(f"not an assignment name: {clean(assignment, 100)!r}")
    source = Path(source)
    if not source.is_dir():
        raise CollectError(f"no folder {source}")
    if prefix is None:
        prefix = infer_prefix(source, assignment)
    to = Path(to)
    if to.is_symlink():
        raise CollectError(f"{to} is a symbolic link: refusing to write through it")
    to.mkdir(parents=True, exist_ok=True)
    report = CollectReport(assignment, to)
    clones, report.skipped = clone_folders(source, prefix)
    report.warnings += [f"skipped {s}" for s in report.skipped]
    students: dict[str, list[tuple[Path, str]]] = {}
    for clone, user in clones:
        sid, warning = student_of(user, roster)
        if warning:
            report.warnings.append(warning)
        students.setdefault(sid, []).append((clone, user))
    for sid, owners in sorted(students.items()):
        if len(owners) > 1:
            shown = ", ".join(name_of(c.name) for c, _ in owners)
            report.warnings.append(f"{shown}: all map to student {sid}; none collected")
            report.skipped += [f"{name_of(c.name)}: shares student id {sid}" for c, _ in owners]
            continue
        clone, _ = owners[0]
        found, warnings = inspect_clone(clone, assignment)
        report.warnings += warnings
        folder = _real_folder(to, (sid,)) / assignment
        if folder.is_symlink():
            raise CollectError(f"{folder} is a symbolic link: refusing to write through it")
        notebook = f"{assignment}.ipynb"
        outcome, note = _decide(folder, notebook, found)
        if outcome in ("written", "replaced", "empty"):
            write_submission(folder, notebook, found)
        if outcome == "kept" or (outcome == "replaced" and note):
            report.warnings.append(f"{sid}: {note}")
        report.collected.append(Collected(sid, name_of(clone.name), outcome, found.timestamp,
                                          note))
    if roster is not None:
        report.missing = sorted(set(roster.values()) - set(students))
    return report
