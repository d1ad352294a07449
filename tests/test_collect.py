"""``course-nn collect``: a folder of GitHub Classroom clones -> ``submitted/`` (step 0).

Real git clones (``git init``, a commit at a fixed ``GIT_COMMITTER_DATE``), honest ones
and hostile ones: a notebook that is a link to the instructor's solutions, a folder on
the way that is a link, a weird folder name, a notebook over the size cap, no notebook,
no git history, a clone folder that is itself a link. Then ``course-nn grade`` grades
the collected class: one row per student.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.collect import (
    MAX_NOTEBOOK_BYTES,
    CollectError,
    collect,
    commit_time,
    read_roster,
)
from course_nn.grading.hardened.text import student_id

pytestmark = pytest.mark.grading

A = "ex01_linear_regression"
PREFIX = "ex01"  # the assignment's repository prefix in GitHub Classroom
WEIRD = "<img src=x onerror=alert(1)> Zoë"  # a folder name no GitHub login can have
TIMES = {"alice": "2026-03-01T09:15:00+01:00", "bob": "2026-03-02T23:59:59-05:00",
         "carol": "2026-03-01T10:00:00+00:00", WEIRD: "2026-03-03T08:00:00+00:00",
         "dave": "2026-03-01T11:00:00+00:00", "erin": "2026-03-01T12:00:00+00:00"}
NO_GIT_MTIME = datetime(2026, 3, 4, 7, 30, tzinfo=UTC)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


def stamp(when: datetime) -> str:
    return when.strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def git(clone: Path, *args: str, when: str | None = None) -> None:
    env = dict(os.environ, GIT_CONFIG_GLOBAL=os.devnull, GIT_CONFIG_NOSYSTEM="1",
               GIT_AUTHOR_NAME="Student", GIT_AUTHOR_EMAIL="s@example.org",
               GIT_COMMITTER_NAME="Student", GIT_COMMITTER_EMAIL="s@example.org")
    if when:
        env.update(GIT_AUTHOR_DATE=when, GIT_COMMITTER_DATE=when)
    subprocess.run(["git", "-C", str(clone), *args], env=env, check=True, capture_output=True)


def make_clone(root: Path, name: str, files: dict[str, bytes], when: str | None) -> Path:
    """A clone folder ``root/name`` holding ``files``; committed at ``when`` (None: no git)."""
    clone = root / name
    clone.mkdir(parents=True)
    for relative, data in files.items():
        (clone / relative).parent.mkdir(parents=True, exist_ok=True)
        (clone / relative).write_bytes(data)
    if when is not None:
        git(clone, "init", "-q", "-b", "main")
        git(clone, "add", "-A")
        git(clone, "commit", "-q", "--allow-empty", "-m", "work", when=when)
    return clone


@functools.cache
def notebooks() -> tuple[bytes, bytes]:
    """(an honest submission, the untouched released notebook), as JSON bytes."""
    released = T.read(T.ROOT / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(T.ROOT / "solutions" / A / f"{A}.ipynb"))
    return (json.dumps(T.with_sources(released, sol)).encode(), json.dumps(released).encode())


def make_classroom(root: Path) -> Path:
    """The folder `gh classroom clone student-repos` would leave, plus hostile entries."""
    honest, stub = notebooks()
    clones = root / "ex01-submissions"
    clones.mkdir(parents=True)
    nb = f"{A}.ipynb"
    make_clone(clones, f"{PREFIX}-alice", {nb: honest, "README.md": b"hi"}, TIMES["alice"])
    make_clone(clones, f"{PREFIX}-bob", {f"exercises/{A}/{nb}": stub}, TIMES["bob"])
    carol = make_clone(clones, f"{PREFIX}-carol", {}, None)
    (carol / nb).symlink_to(T.ROOT / "solutions" / A / nb)  # would hand in the answers
    git(carol, "init", "-q", "-b", "main")
    git(carol, "add", "-A")
    git(carol, "commit", "-q", "-m", "link", when=TIMES["carol"])
    make_clone(clones, f"{PREFIX}-{WEIRD}", {f"work/{nb}": honest}, TIMES[WEIRD])
    dave = make_clone(clones, f"{PREFIX}-dave", {"README.md": b"big"}, TIMES["dave"])
    with (dave / nb).open("wb") as fh:  # sparse: over the cap without using the disk
        fh.truncate(MAX_NOTEBOOK_BYTES + 1)
    make_clone(clones, f"{PREFIX}-erin", {"notes.txt": b"no notebook"}, TIMES["erin"])
    frank = make_clone(clones, f"{PREFIX}-frank", {nb: honest}, None)  # a zip, no history
    os.utime(frank / nb, (NO_GIT_MTIME.timestamp(),) * 2)
    (clones / f"{PREFIX}-mallory").symlink_to(T.ROOT)  # a "clone" that is a link
    (clones / "notes.txt").write_text("not a clone")
    return clones


@pytest.fixture(scope="module")
def classroom(tmp_path_factory):
    return make_classroom(tmp_path_factory.mktemp("classroom"))


def test_commit_time_is_the_last_commits_committer_time(classroom):
    """Does commit_time read the fixed GIT_COMMITTER_DATE, in UTC, and never a parent's?"""
    assert commit_time(classroom / f"{PREFIX}-alice") == utc(TIMES["alice"])
    assert commit_time(classroom / f"{PREFIX}-bob") == utc(TIMES["bob"])
    assert commit_time(classroom / f"{PREFIX}-frank") is None  # no .git: no discovery above


def test_collect_writes_nbgraders_layout_with_commit_times(classroom, tmp_path):
    """One folder per student clone, the notebook byte for byte, timestamp.txt = commit time;
    hostile clones end as empty submissions, links are never followed or copied."""
    to = tmp_path / "submitted"
    report = collect(A, classroom, to, prefix=PREFIX)
    weird = student_id(WEIRD)
    expected = {"alice", "bob", "carol", weird, "dave", "erin", "frank"}
    assert {p.name for p in to.iterdir()} == expected
    assert {c.student for c in report.collected} == expected
    honest, stub = notebooks()
    nb = f"{A}.ipynb"
    assert (to / "alice" / A / nb).read_bytes() == honest
    assert (to / "bob" / A / nb).read_bytes() == stub
    assert (to / weird / A / nb).read_bytes() == honest
    for student in ("alice", "bob", "carol", "dave", "erin"):
        assert (to / student / A / "timestamp.txt").read_text() == stamp(utc(TIMES[student])) + "\n"
    assert (to / weird / A / "timestamp.txt").read_text() == stamp(utc(TIMES[WEIRD])) + "\n"
    assert (to / "frank" / A / "timestamp.txt").read_text() == stamp(NO_GIT_MTIME) + "\n"
    for student in ("carol", "dave", "erin"):  # nothing readable: only the time
        assert sorted(p.name for p in (to / student / A).iterdir()) == ["timestamp.txt"]
    assert not any(p.is_symlink() for p in to.rglob("*"))
    assert {c.student: c.outcome for c in report.collected} == {
        "alice": "written", "bob": "written", weird: "written", "frank": "written",
        "carol": "empty", "dave": "empty", "erin": "empty"}
    warnings = "\n".join(report.warnings)
    assert "symbolic link (not followed)" in warnings and "larger than 32 MB" in warnings
    assert "no git history" in warnings and f"no {nb}" in warnings
    assert any("mallory" in s and "symbolic link" in s for s in report.skipped)
    assert any("notes.txt" in s for s in report.skipped)
    assert report.counts() == {"written": 4, "replaced": 0, "unchanged": 0, "kept": 0, "empty": 3}
    # every file written lies inside --to, and nothing else appeared beside it
    assert sorted(p.name for p in tmp_path.iterdir()) == ["submitted"]


def test_rerun_is_unchanged_newer_replaces_older_is_kept(tmp_path):
    """A rerun changes nothing; a newer commit replaces the submission; an older clone
    never overwrites a newer submission silently (it is kept and counted)."""
    honest, stub = notebooks()
    clones, to = tmp_path / "clones", tmp_path / "submitted"
    clone = make_clone(clones, f"{PREFIX}-alice", {f"{A}.ipynb": stub}, "2026-03-01T10:00:00Z")
    assert collect(A, clones, to, prefix=PREFIX).counts()["written"] == 1
    assert collect(A, clones, to, prefix=PREFIX).counts()["unchanged"] == 1
    (clone / f"{A}.ipynb").write_bytes(honest)
    git(clone, "commit", "-q", "-am", "done", when="2026-03-02T10:00:00Z")
    (to / "alice" / A / "stale.txt").write_text("left over")
    report = collect(A, clones, to, prefix=PREFIX)
    assert report.counts()["replaced"] == 1 and "older submission" in report.collected[0].note
    folder = to / "alice" / A
    assert (folder / f"{A}.ipynb").read_bytes() == honest
    assert sorted(p.name for p in folder.iterdir()) == [f"{A}.ipynb", "timestamp.txt"]
    # an older state of the repository (e.g. a stale clone) does not overwrite it
    git(clone, "reset", "-q", "--hard", "HEAD~1")
    report = collect(A, clones, to, prefix=PREFIX)
    assert report.counts()["kept"] == 1 and "newer" in report.collected[0].note
    assert (folder / f"{A}.ipynb").read_bytes() == honest
    assert (folder / "timestamp.txt").read_text() == stamp(utc("2026-03-02T10:00:00+00:00")) + "\n"
    assert not list(to.rglob(".collect-*")) and not list(to.rglob(".replaced-*"))


def test_roster_maps_usernames_to_ids_and_lists_the_missing(tmp_path):
    """Does a Classroom roster export rename students, and name who has no clone?"""
    honest, _ = notebooks()
    clones = tmp_path / "clones"
    make_clone(clones, f"{PREFIX}-Alice-W", {f"{A}.ipynb": honest}, "2026-03-01T10:00:00Z")
    make_clone(clones, f"{PREFIX}-zed", {f"{A}.ipynb": honest}, "2026-03-01T10:00:00Z")
    roster = tmp_path / "roster.csv"
    roster.write_text('"identifier","github_username","github_id","name"\n'
                      '"s1001","alice-w","1",""\n"=cmd|x","bob","2",""\n"s1003","","",""\n')
    ids = read_roster(roster)
    assert ids == {"alice-w": "s1001", "bob": student_id("=cmd|x")}
    report = collect(A, clones, tmp_path / "submitted", prefix=PREFIX, roster=ids)
    assert {c.student for c in report.collected} == {"s1001", "zed"}
    assert report.missing == [student_id("=cmd|x")]
    assert any("zed: not in the roster" in w for w in report.warnings)
    shared = tmp_path / "shared.csv"  # the roster `course-nn export` reads, plus GitHub logins
    shared.write_text("student_id,login,lms_id,github_username\ns1001,aw17,991,Alice-W\n")
    assert read_roster(shared) == {"alice-w": "s1001"}  # `login` is the LMS's, not GitHub's
    bad = tmp_path / "bad.csv"
    bad.write_text("name,login\nx,y\n")
    with pytest.raises(CollectError, match="GitHub username column"):
        read_roster(bad)


def test_refuses_links_in_the_destination_and_bad_names(tmp_path):
    """Never writes through a link in --to; rejects an assignment name with a path in it."""
    honest, _ = notebooks()
    clones = tmp_path / "clones"
    make_clone(clones, f"{PREFIX}-alice", {f"{A}.ipynb": honest}, "2026-03-01T10:00:00Z")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    to = tmp_path / "submitted"
    to.mkdir()
    (to / "alice").symlink_to(elsewhere)
    with pytest.raises(CollectError, match="symbolic link"):
        collect(A, clones, to, prefix=PREFIX)
    assert not any(elsewhere.iterdir())
    with pytest.raises(CollectError, match="not an assignment name"):
        collect("../ex01", clones, to, prefix=PREFIX)
    link = tmp_path / "link"
    link.symlink_to(elsewhere)
    with pytest.raises(CollectError, match="symbolic link"):
        collect(A, clones, link, prefix=PREFIX)


def test_a_folder_on_the_way_that_is_a_link_is_not_followed(tmp_path):
    """exercises/ as a link to the instructor's exercises: nothing is read through it."""
    clones = tmp_path / "clones"
    clone = make_clone(clones, f"{PREFIX}-eve", {"README.md": b"x"}, None)
    (clone / "exercises").symlink_to(T.ROOT / "solutions")
    report = collect(A, clones, tmp_path / "submitted", prefix=PREFIX)
    assert report.collected[0].outcome == "empty"
    assert "symbolic link" in report.collected[0].note
    assert not (tmp_path / "submitted" / "eve" / A / f"{A}.ipynb").exists()


def test_prefix_is_inferred_from_the_clone_names(tmp_path):
    _, stub = notebooks()
    clones = tmp_path / "clones"
    for user in ("ann", "bo-b"):
        make_clone(clones, f"nn-course-ex-1-{user}", {f"{A}.ipynb": stub}, "2026-03-01T10:00:00Z")
    report = collect(A, clones, tmp_path / "submitted")
    assert {c.student for c in report.collected} == {"ann", "bo-b"}


@pytest.mark.slow
def test_collect_then_grade_grades_the_class(classroom, tmp_path):
    """The CLI end to end: collect the clones, then `course-nn grade` gives one row per
    student (the hostile clones ungradable), and the gradebook holds the commit times."""
    course = T.make_course(tmp_path / "course", [A])
    run = subprocess.run([sys.executable, "-m", "course_nn.cli", "collect", A, "--from",
                          str(classroom), "--to", str(course / "submitted"), "--prefix", PREFIX],
                         capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert "4 written, 0 replaced, 0 unchanged, 0 kept, 3 empty" in run.stderr
    assert "warning: " in run.stderr
    run = subprocess.run([sys.executable, "-m", "course_nn.cli", "grade", A, "--course",
                          str(course), "--quiet", "--jobs", "2", "--timeout", "10"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    with (course / "graded" / A / "summary.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    scores = {r["student"]: float(r["score"]) for r in rows}
    full = load_spec(T.ROOT / "solutions" / A / f"{A}.ipynb").max_score
    weird = student_id(student_id(WEIRD))  # the grader hashes a hashed-form folder name again
    assert len(rows) == 7 and len(scores) == 7
    assert scores == {"alice": full, "bob": 0, "carol": 0, "dave": 0, "erin": 0, "frank": full,
                      weird: full}
    with (course / "graded" / A / "grades.csv").open(newline="") as fh:
        status = {(r["student"], r["status"]) for r in csv.DictReader(fh)}
    assert {s for s, st in status if st == "ungradable"} == {"carol", "dave", "erin"}
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        when = gb.find_submission(A, "bob").timestamp
    assert when == utc(TIMES["bob"]).replace(tzinfo=None)
    shutil.rmtree(course)
