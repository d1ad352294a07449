"""A student folder name made a safe student id (``text.student_id``, ``pipeline.discover``).

The id is what nbgrader's gradebook, ``autograded/<id>/``, the CSVs, the feedback file
names and the shards carry; nbgrader's own pages print it unescaped (issue #19), so it
must be a short token no page reads as markup, and two folders never share one.
"""

from __future__ import annotations

import csv
import html
import io
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_nn.grading.hardened import outputs, text
from course_nn.grading.hardened.assignment import load_spec
from course_nn.grading.hardened.model import Context
from course_nn.grading.hardened.pipeline import discover, grade_submission
from course_nn.grading.hardened.testing import ROOT

pytestmark = pytest.mark.grading

A = "ex01_linear_regression"
XSS = '<img src=x onerror="window.__xss=1">'
HOSTILE = [
    "<img src=x onerror=alert(1)>", XSS, "<script>alert(1)</script>", "../x", "..", "a/b",
    "alice smith", "alice~smith", "Jos\u00e9", "\u65e5\u672c\u8a9e", "al\u200bice",
    "\u202eecila", "bob\u2066", "x\ufeff", "bad\udcffname", "=1+2", "@SUM(A1)", "+cmd", "-rf",
    ".hidden", "trailing.", "tab\there", "new\nline", "", "a" * 65, "\U0001f600" * 300,
    "x--0123456789abcdef",  # a safe token of the hashed form: hashed too
    "x--0123456789ABCDEF",
]


@pytest.mark.parametrize("name", ["alice", "alice_smith", "Alice.Smith", "a.b@uni.edu",
                                  "s0001", "x-1", "A" * 64, "9lives"])
def test_a_safe_folder_name_is_its_own_id(name):
    """Does a name that already is a safe token stay as it is (nbgrader's usual ids)?"""
    assert text.student_id(name) == name
    assert text.is_student_id(name)


@pytest.mark.parametrize("name", HOSTILE)
def test_a_hostile_folder_name_gets_a_safe_hashed_id(name):
    """Is every other name a bounded token ``<safe prefix>--<16 hex>``, stable?"""
    sid = text.student_id(name)
    assert sid != name
    assert text.is_student_id(sid)
    assert text.SAFE_ID.fullmatch(sid) and len(sid) <= text.ID_LIMIT
    prefix, digest = sid.rsplit("--", 1)
    assert len(digest) == 16 and all(c in "0123456789abcdef" for c in digest)
    assert prefix[0].isalnum() and prefix.isascii()
    assert text.student_id(name) == sid  # a pure function of the name


def test_examples_are_readable():
    """Does the id keep what can be read of the name (the instructor recognises it)?"""
    assert text.student_id("<img src=x onerror=alert(1)>").startswith("img-src-x-onerror-alert-1--")
    assert text.student_id("alice smith").startswith("alice-smith--")
    assert text.student_id("Jos\u00e9").startswith("Jose--")
    assert text.student_id("../x").startswith("x--")
    assert text.student_id(".hidden").startswith("hidden--")
    assert text.student_id("\u65e5\u672c\u8a9e").startswith("student--")
    assert text.student_id("a" * 500) == "a" * 40 + "--" + text.student_id("a" * 500)[-16:]


def test_look_alike_names_get_different_ids_without_invisible_characters():
    """``alice`` and ``al\\u200bice`` (and an RTL override): different ids, all visible?"""
    plain, zero_width, rtl = (text.student_id(n) for n in ("alice", "al\u200bice", "\u202eecila"))
    assert plain == "alice"
    assert zero_width.startswith("al-ice--") and zero_width != plain
    assert rtl.startswith("ecila--")
    for sid in (plain, zero_width, rtl):
        assert sid.isascii() and sid.isprintable()
    assert text.clean("al\u200bice") != text.clean("alice")


def test_a_hashed_form_name_cannot_take_another_students_id():
    """A folder named like another's hashed id gets its own id, not the victim's."""
    victim = text.student_id(XSS)
    assert text.student_id(victim) != victim
    assert text.student_id(victim.upper()) != victim  # case-insensitively too


def test_names_differing_only_by_case_get_ids_distinct_case_insensitively():
    """``alice``, ``Alice``, ``ALICE``: the lowercase one keeps its name, the others are
    hashed, and no two ids are one folder on a case-insensitive file system."""
    ids = text.student_ids(["Alice", "alice", "ALICE", "bob", "Carol", "CAROL"])
    assert ids["alice"] == "alice" and ids["bob"] == "bob"
    assert ids["Alice"].startswith("Alice--") and ids["ALICE"].startswith("ALICE--")
    assert ids["Carol"].startswith("Carol--") and ids["CAROL"].startswith("CAROL--")
    assert len({sid.lower() for sid in ids.values()}) == 6
    assert text.student_ids(["Alice", "bob"]) == {"Alice": "Alice", "bob": "bob"}


NAMES = st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=80) | \
    st.text(alphabet="aAbB._@-~<>/ 0", max_size=20) | \
    st.builds(lambda n: text.student_id(n), st.text(max_size=10))  # hashed-form names


@given(st.lists(NAMES, max_size=12, unique=True))
def test_ids_are_safe_and_never_merge(names):
    """For any class: every id a safe bounded token, distinct case-insensitively, and
    each name's id its own (pure) id unless the class forced a hashed one."""
    ids = text.student_ids(names)
    assert set(ids) == set(names)
    for name, sid in ids.items():
        assert text.is_student_id(sid) and len(sid) <= text.ID_LIMIT, (name, sid)
        assert not sid.startswith(".")
        assert sid in (text.student_id(name), text.student_id(name, hashed=True))
    assert len({sid.lower() for sid in ids.values()}) == len(names)


@given(NAMES, NAMES)
def test_two_names_never_share_an_id(a, b):
    """Distinct raw names, distinct ids (the per-name function alone)."""
    if a != b:
        assert text.student_id(a) != text.student_id(b)


def make_submitted(root: Path, names: list[str]) -> Path:
    submitted = root / "submitted"
    for name in names:
        (submitted / name / A).mkdir(parents=True)
    (submitted / ".hidden").mkdir()
    return submitted


def test_discover_gives_safe_distinct_ids(tmp_path):
    """Does ``discover`` list every folder (hidden ones aside) with a safe id, the raw
    folder kept for reading the submission?"""
    names = [XSS, "alice", "Alice", "al\u200bice", "alice smith", "bad\udcffname", "bob"]
    submitted = make_submitted(tmp_path, names)
    found = discover(submitted, A)
    assert len(found) == len(names)
    assert {folder.parent.name for _, folder in found} == set(names)
    ids = [sid for sid, _ in found]
    assert all(text.is_student_id(sid) for sid in ids)
    assert len({sid.lower() for sid in ids}) == len(names)
    by_folder = {folder.parent.name: sid for sid, folder in found}
    assert by_folder["alice"] == "alice" and by_folder["bob"] == "bob"
    assert by_folder["Alice"].startswith("Alice--")


def test_a_renamed_student_is_flagged_with_the_folder_name_escaped(tmp_path):
    """The raw name stays visible to the instructor: a flag on the row (summary.csv,
    the class report, the feedback page), escaped in the page; the id is the safe one."""
    submitted = make_submitted(tmp_path, [XSS, "alice"])
    spec = load_spec(ROOT / "solutions" / A / f"{A}.ipynb")
    ctx = Context(spec, submitted=submitted.resolve())
    results = [grade_submission(sid, folder, ctx, ctx.submitted)  # no notebook: ungradable
               for sid, folder in discover(submitted.resolve(), A)]
    hostile = next(r for r in results if r.student != "alice")
    alice = next(r for r in results if r.student == "alice")
    assert hostile.student == text.student_id(XSS)
    assert hostile.flags[0] == (f"folder name {XSS!r} is not a safe student id: "
                                f"recorded as {hostile.student}")
    assert not any("safe student id" in f for f in alice.flags)
    files = outputs.render_outputs(spec, results)
    summary = list(csv.DictReader(io.StringIO(files["summary.csv"].decode())))
    row = next(r for r in summary if r["student"] == hostile.student)
    assert XSS in row["flags"]
    page = files[f"feedback/{row['feedback']}"].decode()
    assert "<img" not in page and html.escape(XSS) in page
    assert {r["student"] for r in csv.DictReader(io.StringIO(files["grades.csv"].decode()))} \
        == {"alice", hostile.student}


def test_an_unsafe_folder_name_is_named_in_a_warning_with_its_id(tmp_path):
    """Does `course-nn grade` tell the instructor to rename a folder whose raw name
    nbgrader's pages would print (and not one that is its own id)?"""
    from course_nn.grading.hardened.grade import unsafe_folder_warnings
    from course_nn.grading.hardened.pipeline import discover

    for name in ("alice", '<img src=x onerror="window.__xss=1">'):
        (tmp_path / name / "a1").mkdir(parents=True)
    warnings = unsafe_folder_warnings(discover(tmp_path, "a1"))
    hostile = text.student_id('<img src=x onerror="window.__xss=1">')
    assert len(warnings) == 1
    assert f"is graded as {hostile!r}; rename it to {hostile}" in warnings[0]
    assert "before opening formgrader" in warnings[0]
