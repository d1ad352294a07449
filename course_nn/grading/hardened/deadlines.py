"""Deadlines and late work: when a submission was due, how late it came, what that costs.

Book: none (instructor tooling); docs/instructor.md, "Deadlines and late work";
docs/grading.md, "12. Gradebook".

Read as four one-job steps, each a small pure function:

1. :func:`submitted_at`: the submission's time, from ``timestamp.txt`` as ``nbgrader
   autograde`` reads it (:func:`.autograded.submission_timestamp`), stored with the
   result (``SubmissionResult.submitted``, ISO 8601 in UTC) so a regrade keeps it;
2. :func:`due_for`: the student's due date: the assignment's (nbgrader's gradebook,
   ``Assignment.duedate``, set by ``nbgrader db assignment add --duedate`` or
   formgrader) plus the student's extension (the course's ``nbgrader_config.py``,
   :class:`LateWork` ``extensions``: extra hours, or a new due date);
3. :func:`seconds_late`: how many seconds after that it came (0 when on time, when
   there is no due date, or no time), exactly nbgrader's ``total_seconds_late``;
4. :func:`late_penalty`: the points taken off for it under the course's
   :class:`LatePolicy` (``none``, ``zero``, ``per_hour``, ``per_day``), bounded to
   ``[0, score]`` as nbgrader's ``AssignLatePenalties`` bounds a plugin's answer.

:class:`LateWork` is an nbgrader ``LateSubmissionPlugin``: with
``c.AssignLatePenalties.plugin_class`` naming it, ``nbgrader autograde`` computes the
same penalties as ``course-nn grade`` (it also reads ``c.LateSubmissionPlugin
.penalty_method``, nbgrader's own setting). All times are compared timezone-aware in
UTC; nbgrader stores them naive in UTC, which :func:`utc` reads as such.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from traitlets import Dict, Enum, Float

try:  # nbgrader is the course's grading dependency; the plugin base is its own
    from nbgrader.plugins import LateSubmissionPlugin
except ImportError:  # pragma: no cover (nbgrader is in requirements.txt)
    from traitlets.config import LoggingConfigurable as LateSubmissionPlugin

METHODS = ("none", "zero", "per_hour", "per_day")
UNIT_SECONDS = {"per_hour": 3600, "per_day": 86400}
ALL = "*"  # an extension under this key holds for every assignment


class DeadlineError(ValueError):
    """The course's late-work settings are not what :class:`LateWork` documents."""


@dataclass(frozen=True)
class LatePolicy:
    """How late work is penalised (docs/instructor.md, "Deadlines and late work").

    ``none``: no penalty (nbgrader's default); ``zero``: the whole score (nbgrader's
    ``zero``); ``per_hour`` / ``per_day``: ``rate`` of the score for each hour / day
    begun after the due date, at most ``cap`` of it (``rate=0.1, cap=0.5``: a day late
    costs 10 %, a second late already counts as one day begun, five days or more 50 %)."""

    method: str = "none"
    rate: float = 0.0
    cap: float = 1.0

    def __post_init__(self) -> None:
        if self.method not in METHODS:
            raise DeadlineError(f"late penalty method {self.method!r}: expected one of "
                                f"{', '.join(METHODS)}")
        for name in ("rate", "cap"):
            value = getattr(self, name)
            if not (isinstance(value, int | float) and 0 <= value <= 1):
                raise DeadlineError(f"late penalty {name} {value!r}: expected a fraction in "
                                    "[0, 1]")

    def describe(self) -> str:
        if self.method == "zero":
            return "late work scores 0"
        if self.method in UNIT_SECONDS:
            unit = "hour" if self.method == "per_hour" else "day"
            return (f"{self.rate:.0%} of the score per {unit} begun after the deadline, "
                    f"at most {self.cap:.0%}")
        return "no late penalty"


@dataclass(frozen=True)
class Extension:
    """Extra time for one student: ``hours`` more, or a new due date ``until`` (UTC)."""

    hours: float | None = None
    until: datetime | None = None

    def delta(self, due: datetime) -> timedelta:
        """The extension as nbgrader stores it (``SubmittedAssignment.extension``); a new
        due date before the assignment's gives no extension (never an earlier deadline)."""
        if self.until is not None:
            return max(timedelta(0), utc(self.until) - utc(due))
        return timedelta(hours=self.hours or 0.0)


@dataclass(frozen=True)
class Deadlines:
    """The course's late-work settings: the policy and every extension granted."""

    policy: LatePolicy = LatePolicy()
    #: assignment (or ``"*"``: every assignment) -> student id -> extension
    extensions: dict[str, dict[str, Extension]] = field(default_factory=dict)

    def extension(self, assignment: str, student: str) -> Extension | None:
        """The student's extension for ``assignment`` (one for that assignment wins over
        one for every assignment)."""
        for key in (assignment, ALL):
            found = self.extensions.get(key, {}).get(student)
            if found is not None:
                return found
        return None


@dataclass(frozen=True)
class Lateness:
    """One submission against its deadline: what every output shows."""

    submitted: datetime | None  # UTC, from timestamp.txt
    due: datetime | None  # UTC, the student's (with any extension)
    extended: bool = False
    policy: LatePolicy = LatePolicy()

    @property
    def seconds(self) -> float:
        return seconds_late(self.submitted, self.due)

    @property
    def late(self) -> bool:
        return self.seconds > 0

    def penalty(self, score: float) -> float:
        """Points taken off ``score`` (the total so far: automatic and hand grades)."""
        return late_penalty(self.policy, score, self.seconds)

    def describe(self) -> str:
        """"2 days 3 hours" late, or "" when on time."""
        return describe_late(self.seconds) if self.late else ""


ON_TIME = Lateness(None, None)


# --- the pure functions --------------------------------------------------------------------
def utc(moment: datetime) -> datetime:
    """A timezone-aware time in UTC; a naive one is UTC already (nbgrader's convention)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def parse_time(text: str) -> datetime:
    """A time as nbgrader reads it (``timestamp.txt``, ``--duedate``: "2026-03-01
    23:59:00 Europe/Berlin", ISO 8601, a numeric offset; no zone means UTC), in UTC."""
    from nbgrader.utils import parse_utc

    return utc(parse_utc(text))


def iso(moment: datetime | None) -> str:
    """The stored form of a time: ISO 8601 in UTC, "" for none."""
    return utc(moment).isoformat() if moment is not None else ""


def from_iso(text: str) -> datetime | None:
    """:func:`iso` read back (None for "" or a text that is no time)."""
    try:
        return utc(datetime.fromisoformat(text)) if text else None
    except ValueError:
        return None


def due_for(due: datetime | None, extension: Extension | None) -> datetime | None:
    """The student's due date: the assignment's plus their extension (None: no due date)."""
    if due is None:
        return None
    due = utc(due)
    return due + extension.delta(due) if extension is not None else due


def seconds_late(submitted: datetime | None, due: datetime | None) -> float:
    """Seconds between the due date and the submission, 0 when on time or either is
    unknown: nbgrader's ``SubmittedAssignment.total_seconds_late``."""
    if submitted is None or due is None:
        return 0.0
    return max(0.0, (utc(submitted) - utc(due)).total_seconds())


def plugin_penalty(policy: LatePolicy, score: float, late: float) -> float | None:
    """What the late-submission plugin answers for a notebook ``late`` seconds late
    (None: no penalty assigned), before nbgrader bounds it."""
    if policy.method == "zero":
        return score
    if policy.method in UNIT_SECONDS:
        units = math.ceil(late / UNIT_SECONDS[policy.method])
        return score * min(policy.cap, policy.rate * units)
    return None


def bounded(penalty: float | None, score: float) -> float | None:
    """nbgrader's ``AssignLatePenalties._check_late_penalty``: below 0 is 0, above the
    score is the score."""
    if penalty is None:
        return None
    return 0.0 if penalty < 0 else score if penalty > score else penalty


def gradebook_penalty(policy: LatePolicy, score: float, late: float) -> float | None:
    """The ``late_submission_penalty`` nbgrader's ``AssignLatePenalties`` stores for a
    notebook with ``score`` submitted ``late`` seconds late (None when on time or no
    penalty is assigned)."""
    return bounded(plugin_penalty(policy, score, late), score) if late > 0 else None


def late_penalty(policy: LatePolicy, score: float, late: float) -> float:
    """Points taken off ``score`` for a submission ``late`` seconds after its due date."""
    return gradebook_penalty(policy, score, late) or 0.0


def describe_late(seconds: float) -> str:
    """A lateness in words, its two largest units, rounded down: "2 days 3 hours",
    "5 minutes 2 seconds", "1 second"."""
    left = int(seconds)
    parts = []
    for name, size in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        count, left = divmod(left, size)
        if count or parts:
            parts.append((count, name))
    shown = [f"{n} {name}{'s' if n != 1 else ''}" for n, name in parts[:2] if n]
    return " ".join(shown) or "less than a second"


# --- the configuration (nbgrader_config.py) ------------------------------------------------
class LateWork(LateSubmissionPlugin):
    """The course's late-work policy and extensions, read from ``nbgrader_config.py``.

    ``c.AssignLatePenalties.plugin_class = "course_nn.grading.hardened.deadlines.LateWork"``
    makes ``nbgrader autograde`` apply the same penalties as ``course-nn grade``."""

    penalty_method = Enum(METHODS, default_value="none", help=(
        "none: no penalty; zero: late work scores 0; per_hour / per_day: `rate` of the "
        "score per hour / day begun after the due date, at most `cap`")).tag(config=True)
    rate = Float(0.0, min=0.0, max=1.0, help="fraction of the score per hour or day begun"
                 ).tag(config=True)
    cap = Float(1.0, min=0.0, max=1.0, help="the largest fraction of the score taken off"
                ).tag(config=True)
    extensions = Dict(help=(
        "assignment (or '*' for every one) -> {student id: extra hours, or a new due date "
        "such as '2026-03-05 12:00:00 Europe/Berlin'}")).tag(config=True)

    @property
    def policy(self) -> LatePolicy:
        return LatePolicy(self.penalty_method, float(self.rate), float(self.cap))

    def late_submission_penalty(self, student_id: str, score: float,
                                total_seconds_late: float) -> float | None:
        """nbgrader's plugin call: the penalty of one notebook (bounded by nbgrader)."""
        return plugin_penalty(self.policy, score, total_seconds_late)


def read_extension(value: object, where: str) -> Extension:
    """One configured extension: a number of hours (>= 0) or a due date nbgrader reads."""
    if isinstance(value, bool):
        raise DeadlineError(f"{where}: expected hours or a due date, got {value!r}")
    if isinstance(value, int | float):
        if not (math.isfinite(value) and 0 <= value <= 24 * 366):
            raise DeadlineError(f"{where}: {value!r} hours is not between 0 and a year")
        return Extension(hours=float(value))
    if isinstance(value, datetime):
        return Extension(until=utc(value))
    if isinstance(value, str):
        try:
            return Extension(until=parse_time(value))
        except (ValueError, OverflowError):
            pass
    raise DeadlineError(f"{where}: {value!r} is neither hours nor a due date nbgrader reads")


def deadlines_from_config(config) -> Deadlines:
    """The :class:`Deadlines` of a traitlets Config (``nbgrader_config.py``), checked:
    raises :class:`DeadlineError` naming the setting that is wrong."""
    from traitlets import TraitError

    try:
        work = LateWork(config=config)
    except TraitError as err:
        raise DeadlineError(f"nbgrader_config.py, LateWork: {err}") from None
    extensions: dict[str, dict[str, Extension]] = {}
    for assignment, students in work.extensions.items():
        where = f"nbgrader_config.py, LateWork.extensions[{assignment!r}]"
        if not isinstance(students, dict):
            raise DeadlineError(f"{where}: expected {{student id: hours or due date}}")
        extensions[str(assignment)] = {str(s): read_extension(v, f"{where}[{s!r}]")
                                       for s, v in students.items()}
    return Deadlines(work.policy, extensions)


# --- the submission's time -----------------------------------------------------------------
def submitted_at(folder: Path) -> str:
    """Step 1: ``folder/timestamp.txt`` (the submission's folder) as :func:`iso`, "" when
    there is none, it is a link, or it is no time nbgrader reads. The folder and its
    parent are not followed when they are links (a hostile student folder)."""
    from course_nn.grading.hardened.autograded import submission_timestamp

    folder = Path(folder)
    if folder.parent.is_symlink() or folder.is_symlink() or not folder.is_dir():
        return ""
    try:
        return iso(submission_timestamp(folder))
    except (ValueError, OverflowError):  # a time that cannot be placed in UTC
        return ""


def lateness(deadlines: Deadlines, assignment: str, student: str, submitted: str,
             due: datetime | None, granted: timedelta | None = None) -> Lateness:
    """Steps 2-3 for one student: their time (stored), the assignment's due date, their
    extension (the configured one, else ``granted``: one the gradebook already holds)."""
    extension = deadlines.extension(assignment, student)
    if extension is None and granted:
        extension = Extension(hours=granted.total_seconds() / 3600)
    return Lateness(from_iso(submitted), due_for(due, extension), extension is not None,
                    deadlines.policy)
