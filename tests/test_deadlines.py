"""Issue 23: deadlines, extensions and late penalties (``hardened/deadlines.py``), and
their agreement with nbgrader's own ``LateSubmissionPlugin`` / ``AssignLatePenalties``.

Design: docs/instructor.md, "Deadlines and late work".
"""

from __future__ import annotations

import os
import shutil
import warnings
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from types import SimpleNamespace

import pytest
from traitlets.config import Config

from course_nn.grading.hardened import deadlines as D
from course_nn.grading.hardened.course import Course

DUE = datetime(2026, 3, 1, 23, 59, tzinfo=UTC)
SECOND = timedelta(seconds=1)
LATE = timedelta(days=2, hours=3)  # the "two days late" submission
PER_DAY = D.LatePolicy("per_day", rate=0.1, cap=0.5)
PER_HOUR = D.LatePolicy("per_hour", rate=0.02, cap=0.25)
POLICIES = [D.LatePolicy(), D.LatePolicy("zero"), PER_DAY, PER_HOUR,
            D.LatePolicy("per_day", rate=0.3, cap=1.0)]


# --- lateness ------------------------------------------------------------------------------
def test_on_time_and_one_second_late():
    assert D.seconds_late(DUE, DUE) == 0
    assert D.seconds_late(DUE - timedelta(days=3), DUE) == 0
    assert D.seconds_late(DUE + SECOND, DUE) == 1
    assert D.seconds_late(DUE + LATE, DUE) == LATE.total_seconds() == 183600
    assert D.seconds_late(None, DUE) == D.seconds_late(DUE, None) == 0


def test_times_compare_in_utc_whatever_their_zone():
    """nbgrader stores naive UTC; a due date given in Berlin time is the same instant."""
    berlin = timezone(timedelta(hours=1))
    assert D.seconds_late(datetime(2026, 3, 2, 0, 59, 1, tzinfo=berlin), DUE) == 1
    assert D.seconds_late(datetime(2026, 3, 1, 23, 59, 1), DUE) == 1  # naive: UTC
    assert D.parse_time("2026-03-02 00:59:00 Europe/Berlin") == DUE
    assert D.parse_time("2026-03-01 23:59:00.000000 UTC") == DUE  # timestamp.txt's form
    assert D.from_iso(D.iso(DUE + SECOND)) == DUE + SECOND
    assert D.from_iso("") is None and D.from_iso("not a time") is None


def test_an_extension_moves_the_deadline():
    hours = D.Extension(hours=48)
    assert D.due_for(DUE, hours) == DUE + timedelta(hours=48)
    assert D.seconds_late(DUE + LATE, D.due_for(DUE, hours)) == 3 * 3600
    until = D.Extension(until=DUE + timedelta(days=3))
    assert D.seconds_late(DUE + LATE, D.due_for(DUE, until)) == 0
    assert D.due_for(DUE, D.Extension(until=DUE - timedelta(days=1))) == DUE  # never earlier
    assert D.due_for(None, hours) is None  # no due date: never late


def test_one_extension_for_an_assignment_wins_over_one_for_all():
    rules = D.Deadlines(extensions={"a1": {"ann": D.Extension(hours=1)},
                                    "*": {"ann": D.Extension(hours=9), "bob": D.Extension(2)}})
    assert rules.extension("a1", "ann").hours == 1
    assert rules.extension("a2", "ann").hours == 9
    assert rules.extension("a1", "bob").hours == 2
    assert rules.extension("a1", "cat") is None
    late = D.lateness(rules, "a1", "bob", D.iso(DUE + LATE), DUE.replace(tzinfo=None))
    assert late.extended and late.due == DUE + timedelta(hours=2)
    granted = D.lateness(rules, "a1", "cat", D.iso(DUE + LATE), DUE, timedelta(hours=51))
    assert granted.extended and not granted.late  # the gradebook's own extension counts


def test_lateness_in_words():
    assert D.describe_late(1) == "1 second"
    assert D.describe_late(LATE.total_seconds()) == "2 days 3 hours"
    assert D.describe_late(3600) == "1 hour"
    assert D.describe_late(86400 + 3600 + 61) == "1 day 1 hour"
    assert D.describe_late(302) == "5 minutes 2 seconds"
    assert D.describe_late(86400 * 3 + 59) == "3 days"


# --- penalties -----------------------------------------------------------------------------
@pytest.mark.parametrize("policy", POLICIES, ids=lambda p: f"{p.method}-{p.rate}-{p.cap}")
def test_no_penalty_on_time(policy):
    assert D.late_penalty(policy, 7.0, 0) == 0
    assert D.gradebook_penalty(policy, 7.0, 0) is None


def test_each_policy_one_second_and_two_days_late():
    score = 8.0
    assert D.late_penalty(D.LatePolicy(), score, 1) == 0
    assert D.gradebook_penalty(D.LatePolicy(), score, 1) is None  # nbgrader's None
    assert D.late_penalty(D.LatePolicy("zero"), score, 1) == score
    assert D.late_penalty(PER_DAY, score, 1) == pytest.approx(0.8)  # a day begun
    assert D.late_penalty(PER_DAY, score, LATE.total_seconds()) == pytest.approx(2.4)  # 3 days
    assert D.late_penalty(PER_HOUR, score, 1) == pytest.approx(0.16)
    assert D.late_penalty(PER_HOUR, score, 3 * 3600) == pytest.approx(0.48)


def test_the_cap_bounds_the_penalty():
    assert D.late_penalty(PER_DAY, 10.0, 4 * 86400) == pytest.approx(4.0)
    assert D.late_penalty(PER_DAY, 10.0, 5 * 86400 + 1) == pytest.approx(5.0)  # 6 days: cap
    assert D.late_penalty(PER_DAY, 10.0, 300 * 86400) == pytest.approx(5.0)
    assert D.late_penalty(D.LatePolicy("per_day", 0.6, 1.0), 10.0, 3 * 86400) == 10.0
    assert D.late_penalty(PER_DAY, 0.0, 86400) == 0


@pytest.mark.parametrize("bad", [dict(method="half"), dict(method="per_day", rate=1.5),
                                 dict(method="per_day", cap=-0.1)])
def test_a_wrong_policy_is_refused(bad):
    with pytest.raises(D.DeadlineError):
        D.LatePolicy(**bad)


# --- the configuration -----------------------------------------------------------------------
def test_nbgraders_own_setting_counts_and_late_work_overrides_it():
    config = Config()
    config.LateSubmissionPlugin.penalty_method = "zero"
    assert D.deadlines_from_config(config).policy == D.LatePolicy("zero")
    config.LateWork.penalty_method = "per_day"
    config.LateWork.rate = 0.1
    config.LateWork.cap = 0.5
    config.LateWork.extensions = {"a1": {"ann": 48, "bob": "2026-03-05 12:00:00 Europe/Berlin"}}
    rules = D.deadlines_from_config(config)
    assert rules.policy == PER_DAY
    assert rules.extension("a1", "ann") == D.Extension(hours=48.0)
    assert rules.extension("a1", "bob") == D.Extension(until=datetime(2026, 3, 5, 11, tzinfo=UTC))


@pytest.mark.parametrize("setting, needle", [
    (("penalty_method", "half"), "penalty_method"),
    (("rate", 2.0), "rate"),
    (("extensions", {"a1": {"ann": "next tuesday-ish"}}), "a1"),
    (("extensions", {"a1": {"ann": -4}}), "ann"),
    (("extensions", {"a1": {"ann": True}}), "ann"),
    (("extensions", {"a1": ["ann"]}), "a1"),
])
def test_a_wrong_setting_is_named(setting, needle):
    config = Config()
    setattr(config.LateWork, *setting)
    with pytest.raises(D.DeadlineError, match=needle):
        D.deadlines_from_config(config)


def test_the_course_loader_reads_and_checks_the_rules(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text(
        "c = get_config()\nc.LateWork.penalty_method = 'per_hour'\nc.LateWork.rate = 0.02\n"
        "c.LateWork.cap = 0.25\nc.LateWork.extensions = {'*': {'ann': 24}}\n")
    course = Course.load(tmp_path)
    assert course.deadlines.policy == PER_HOUR
    assert course.deadlines.extension("any", "ann").hours == 24
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nc.LateWork.cap = 3\n")
    with pytest.raises(D.DeadlineError, match="cap"):
        Course.load(tmp_path)
    assert Course.load(tmp_path / "nowhere").deadlines == D.Deadlines()  # no config: none


def test_the_repository_config_names_the_plugin_and_an_ignored_export_file():
    """`nbgrader autograde` uses our plugin; `nbgrader export` never writes ./grades.csv."""
    from course_nn.grading.hardened.autograded import load_config

    root = Path(__file__).resolve().parents[1]
    config = load_config(root)
    assert config.AssignLatePenalties.plugin_class == "course_nn.grading.hardened.deadlines.LateWork"
    target = config.CsvExportPlugin.to
    assert target.startswith("graded/") and target != "grades.csv"
    ignored = (root / ".gitignore").read_text().splitlines()
    assert "graded/" in ignored and "/grades.csv" in ignored and "roster.csv" in ignored


# --- the submission's time -------------------------------------------------------------------
def test_the_time_comes_from_timestamp_txt_and_never_through_a_link(tmp_path):
    folder = tmp_path / "submitted" / "ann" / "a1"
    folder.mkdir(parents=True)
    assert D.submitted_at(folder) == ""  # no timestamp.txt
    (folder / "timestamp.txt").write_text("2026-03-04 02:59:00.000000 UTC\n")
    assert D.submitted_at(folder) == D.iso(DUE + LATE)
    (folder / "timestamp.txt").write_text("whenever\n")
    assert D.submitted_at(folder) == ""
    (folder / "timestamp.txt").write_text("9" * 5000)  # larger than nbgrader's 1 kB read
    assert D.submitted_at(folder) == ""
    other = tmp_path / "elsewhere"
    other.mkdir()
    (other / "timestamp.txt").write_text("2026-03-01 00:00:00 UTC")
    (folder / "timestamp.txt").unlink()
    os.symlink(other / "timestamp.txt", folder / "timestamp.txt")
    assert D.submitted_at(folder) == ""
    linked = tmp_path / "submitted" / "bob"
    os.symlink(other, linked)
    assert D.submitted_at(linked) == ""


# --- agreement with nbgrader -----------------------------------------------------------------
@pytest.mark.parametrize("method", ["none", "zero"])
def test_nbgraders_plugin_gives_the_same_penalty(method):
    """nbgrader's LateSubmissionPlugin, bounded as AssignLatePenalties bounds it."""
    from nbgrader.plugins import LateSubmissionPlugin
    from nbgrader.preprocessors import AssignLatePenalties

    plugin = LateSubmissionPlugin(penalty_method=method)
    bounder = AssignLatePenalties()
    for score in (0.0, 3.5, 10.0):
        for late in (1.0, 7200.0, LATE.total_seconds()):
            theirs = plugin.late_submission_penalty("ann", score, late)
            if theirs is not None:
                theirs = bounder._check_late_penalty(SimpleNamespace(score=score), theirs)
            assert D.gradebook_penalty(D.LatePolicy(method), score, late) == theirs


@pytest.fixture(scope="module")
def gradebook(tmp_path_factory):
    """One assignment (a 10-point cell) and one submission, in nbgrader's gradebook."""
    from nbgrader.api import Gradebook

    from course_nn.grading.hardened.gradebook import _alembic_on_path

    _alembic_on_path()
    folder = tmp_path_factory.mktemp("late-gradebook")
    url = f"sqlite:///{folder / 'gradebook.db'}"
    with warnings.catch_warnings(), Gradebook(url) as gb:
        warnings.simplefilter("ignore")  # nbgrader's add_submission autoflushes
        gb.update_or_create_assignment("a1", duedate=DUE.replace(tzinfo=None))
        gb.add_notebook("a1", "a1")
        gb.add_grade_cell("c1", "a1", "a1", max_score=10, cell_type="code")
        gb.add_student("ann")
        gb.add_submission("a1", "ann")
        gb.find_grade("c1", "a1", "a1", "ann").auto_score = 7.0
        gb.db.commit()
    yield url
    shutil.rmtree(folder, ignore_errors=True)


def _stored_penalty(url: str) -> float | None:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        return gb.find_submission_notebook("a1", "a1", "ann").late_submission_penalty


def _submit(url: str, when: datetime, extension: timedelta | None) -> None:
    from nbgrader.api import Gradebook

    with Gradebook(url) as gb:
        submission = gb.find_submission("a1", "ann")
        submission.timestamp = when.astimezone(UTC).replace(tzinfo=None)
        submission.extension = extension
        gb.find_submission_notebook("a1", "a1", "ann").late_submission_penalty = 123.0
        gb.db.commit()


@pytest.mark.grading
@pytest.mark.slow  # a fresh gradebook runs alembic: about 10 s on a loaded machine
def test_the_gradebook_penalty_is_the_one_nbgrader_autograde_stores(gradebook):
    """For every policy and lateness (extension included), our gradebook write and
    nbgrader's own AssignLatePenalties (with nbgrader's plugin, or ours where nbgrader has
    no such method) leave the same late_submission_penalty."""
    from nbformat.v4 import new_notebook
    from nbgrader.api import Gradebook
    from nbgrader.preprocessors import AssignLatePenalties

    from course_nn.grading.hardened.gradebook import apply_late_penalties

    cases = [(DUE - SECOND, None), (DUE + SECOND, None), (DUE + LATE, None),
             (DUE + LATE, timedelta(hours=72)), (DUE + LATE, timedelta(hours=24))]
    resources = {"nbgrader": {"notebook": "a1", "assignment": "a1", "student": "ann",
                              "db_url": gradebook}}
    checked = 0
    for policy in POLICIES:
        config = Config()
        if policy.method in ("none", "zero"):  # nbgrader's own plugin and setting
            config.LateSubmissionPlugin.penalty_method = policy.method
        else:
            config.AssignLatePenalties.plugin_class = D.LateWork
            config.LateWork.penalty_method = policy.method
            config.LateWork.rate = policy.rate
            config.LateWork.cap = policy.cap
        for when, extension in cases:
            _submit(gradebook, when, extension)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                AssignLatePenalties(config=config).preprocess(new_notebook(), resources)
            theirs = _stored_penalty(gradebook)
            _submit(gradebook, when, extension)
            with Gradebook(gradebook) as gb:
                apply_late_penalties(gb, "a1", D.Deadlines(policy))
            ours = _stored_penalty(gradebook)
            assert ours == (pytest.approx(theirs) if theirs is not None else None), \
                (policy, when, extension)
            late = D.seconds_late(when, D.due_for(DUE, D.Extension(
                hours=extension.total_seconds() / 3600) if extension else None))
            assert (ours or 0.0) == pytest.approx(D.late_penalty(policy, 7.0, late))
            checked += theirs is not None and theirs > 0
    assert checked >= 8  # the late cases of zero, per_day and per_hour did charge
