"""Data passed between the steps of the hardened grader.

Book: none (instructor tooling); docs/grading.md, "The pipeline" and "Statuses".

An :class:`AssignmentSpec` is read once per batch from the instructor notebook; a
:class:`Submission` is filled in step by step (see ``pipeline.STEPS``) and ends as a
:class:`SubmissionResult` with one :class:`TestResult` per grade cell.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TypeAlias

from course_nn.grading.hardened.text import clean
from course_nn.grading.variant import VariantSettings, current_settings

if TYPE_CHECKING:  # types only: these modules import this one
    import numpy as np

    from course_nn.grading.hardened.cases import DrawnCall
    from course_nn.grading.hardened.results import Unreadable
    from course_nn.grading.hardened.sandbox import Launcher, RunOutcome

#: A parsed JSON value (a notebook, a record the child wrote).
JSON: TypeAlias = "dict[str, JSON] | list[JSON] | str | int | float | bool | None"

REASON_LIMIT = 2000  # characters of one flag or note (student-controlled names inside)
# Every test ends in exactly one of these (docs/grading.md, "Statuses").
PASSED = "passed"
FAILED = "failed"  # wrong answer; the message teaches
ERROR = "error"  # the student's code raised
TIMEOUT = "timeout"  # wall-clock or CPU limit
CRASHED = "crashed"  # the child died (signal, os._exit) before answering
UNGRADABLE = "ungradable"  # the notebook could not be read or the cell is missing
FLAGGED = "flagged"  # graded, but the instructor should look (never hides the score)
STATUSES = (PASSED, FAILED, ERROR, TIMEOUT, CRASHED, UNGRADABLE, FLAGGED)


class Ungradable(Exception):
    """Raised by a step when a submission cannot be graded at all (every test ungradable)."""


@dataclass(frozen=True)
class CheckCall:
    """One ``check("name", <expr>, hidden=...)`` in a grade cell."""

    check: str
    expr: str
    hidden: bool = False
    seed: int | None = None


@dataclass(frozen=True)
class CellSpec:
    """An nbgrader cell of the instructor notebook (or an unmarked code cell)."""

    index: int
    grade_id: str | None
    cell_type: str
    source: str
    solution: bool = False
    grade: bool = False
    locked: bool = False
    points: float = 0.0
    defines: tuple[str, ...] = ()
    cell_id: str | None = None  # nbformat's cell id (kept by nbgrader's release)

    @property
    def role(self) -> str:
        """setup, solution, test, manual (graded by hand) or plain (not nbgrader)."""
        if self.grade_id is None:
            return "plain"
        if self.grade and self.cell_type == "code" and not self.solution:
            return "test"
        if self.grade:
            return "manual"
        if self.solution:
            return "solution"
        return "setup"


@dataclass(frozen=True)
class TestSpec:
    """A grade cell: its points and the checks it runs (all must pass)."""

    grade_id: str
    points: float
    calls: tuple[CheckCall, ...]
    released_source: str
    problem: str | None = None  # why this cell cannot be graded here, if so
    #: a plain test cell (no ``check(...)`` call, e.g. ``assert f(2) == 4``): the
    #: instructor's source, hidden tests included, run in the child as nbgrader would
    source: str = ""

    @property
    def plain(self) -> bool:
        """Is this a plain nbgrader test cell, graded by running its source?"""
        return not self.calls and self.problem is None


@dataclass(frozen=True)
class AssignmentSpec:
    """What the instructor notebook says an assignment is."""

    name: str
    notebook: str  # file name, e.g. ex01_linear_regression.ipynb
    source_path: Path
    cells: tuple[CellSpec, ...]
    tests: tuple[TestSpec, ...]

    @property
    def max_score(self) -> float:
        return float(sum(t.points for t in self.tests))

    def by_id(self) -> dict[str, CellSpec]:
        return {c.grade_id: c for c in self.cells if c.grade_id is not None}


@dataclass
class TestResult:
    """One row of grades.csv."""

    test: str
    status: str
    points: float
    max_points: float
    message: str = ""
    flags: list[str] = field(default_factory=list)
    #: the likely bug the judge named from the check's hints ("" if none): the class
    #: report counts these, never text found in a message
    diagnosis: str = ""
    #: a by-hand item's wrong answer as short, cleaned text (e.g. "0.25, -1"), "" for
    #: other items and right answers: the class report counts the frequent ones
    answer: str = ""


@dataclass(frozen=True)
class AddedCell:
    """A code cell the student added (no nbgrader metadata, not an instructor cell).

    It runs in the child after the instructor cell it follows in the student's
    notebook (``after``: that cell's grade_id, None for the top), like nbgrader."""

    position: int  # index in the student's notebook
    after: str | None
    source: str
    defines: tuple[str, ...] = ()

    @property
    def step_id(self) -> str:
        return f"added cell {self.position + 1}"


# --- the job handed to the child (docs/grading.md, 6-8): one serialisation -----------
@dataclass(frozen=True)
class CellStep:
    """Run one cell's source in the child's namespace (``added``: a cell the student
    added, which shares ``Limits.added_allowance`` with the other added cells)."""

    id: str
    source: str
    kind: str = "cell"
    added: bool = False


@dataclass(frozen=True)
class TestCellStep:
    """Run a plain test cell (the instructor's source) where nbgrader would: its outcome
    is the answer record of test ``test`` (docs/grading.md, "Plain test cells")."""

    __test__ = False  # not a pytest class

    id: str
    test: int
    source: str
    kind: str = "test"


@dataclass(frozen=True)
class CollectStep:
    """Look up the functions a grade cell's ``check(...)`` calls name."""

    id: str
    test: int
    exprs: tuple[str, ...]
    kind: str = "collect"


@dataclass(frozen=True)
class CallJob:
    """One check call of a test: packed case inputs and what the reference returns."""

    cases: tuple[JSON, ...] = ()  # per case: the packed arguments (see ``cases.Packer``)
    structures: tuple[JSON, ...] = ()  # per case: ``"leaf"`` or a list of parts
    float_errors: bool = False
    fresh_arrays: bool = False  # an answer sharing memory with an input fails (a view)


@dataclass(frozen=True)
class TestJob:
    """The cases of one grade cell, by its index in ``AssignmentSpec.tests``."""

    index: int
    calls: tuple[CallJob, ...]


@dataclass(frozen=True)
class Launch:
    """What the launcher adds for one start of the child (paths, layers, what to skip)."""

    site_paths: tuple[str, ...] = ()
    read_paths: tuple[str, ...] = ()
    landlock: bool = False
    skip_steps: tuple[int, ...] = ()
    skip_tests: tuple[int, ...] = ()


@dataclass
class Job:
    """Everything the child runs: steps (script, step 6) and tests (cases, step 7).

    :meth:`to_json` is the one serialisation; ``child.py`` reads exactly that."""

    steps: list[CellStep | CollectStep | TestCellStep] = field(default_factory=list)
    tests: list[TestJob] = field(default_factory=list)
    max_leaf_elements: int = 10_000_000

    def to_json(self, launch: Launch = Launch()) -> str:
        return json.dumps({**asdict(self), **asdict(launch)})


@dataclass(frozen=True)
class Context:
    """What every submission of a batch shares; every step gets it."""

    spec: AssignmentSpec
    launcher: Launcher | None = None  # only step 8 needs it
    seed: int | None = None
    hidden: bool = True  # False for the student's self-check: public cases only
    submitted: Path | None = None  # resolved submitted/: every folder must stay inside
    # draws every submission shares (public cases; hidden ones under a fixed seed), so
    # their references are computed once per batch (cases.shared_draw)
    drawn: dict = field(default_factory=dict, compare=False, repr=False)
    # the class switch and salt of numbers of one's own (docs/exercise_items.md); by
    # default the grader's environment (variant.SWITCH_VARIABLE, variant.SALT_VARIABLE)
    variants: VariantSettings = field(default_factory=current_settings)


@dataclass
class Submission:
    """A submission as it moves through the pipeline; each step fills its part."""

    student: str
    directory: Path
    root: Path | None = None  # submitted/ (resolved): the folder must stay inside it
    notebook_path: Path | None = None
    notebook: dict[str, JSON] | None = None
    flags: list[str] = field(default_factory=list)  # submission-wide, for summary.csv
    notes: list[str] = field(default_factory=list)  # for the feedback only
    test_flags: dict[str, list[str]] = field(default_factory=dict)  # grade_id -> flags
    solution_sources: dict[str, str] = field(default_factory=dict)  # grade_id -> source
    added_cells: list[AddedCell] = field(default_factory=list)  # run in notebook order
    job: Job = field(default_factory=Job)
    cases: list[list[DrawnCall | None]] = field(default_factory=list)  # per test, per call
    inputs: dict[str, np.ndarray] = field(default_factory=dict)  # the case arrays, by key
    run: RunOutcome | None = None
    child_seconds: float = 0.0  # wall time of the child's runs (all attempts)
    # test index -> (the child's record, its arrays), or why they could not be read
    outputs: dict[int, tuple[dict[str, JSON], dict[str, np.ndarray]] | Unreadable] = field(
        default_factory=dict)
    cell_errors: dict[str, JSON] = field(default_factory=dict)  # step index -> exception
    results: list[TestResult] = field(default_factory=list)

    def flag_test(self, grade_id: str, reason: str) -> None:
        reason = clean(reason, REASON_LIMIT)
        self.test_flags.setdefault(grade_id, [])
        if reason not in self.test_flags[grade_id]:
            self.test_flags[grade_id].append(reason)

    def flag(self, reason: str) -> None:
        reason = clean(reason, REASON_LIMIT)
        if reason not in self.flags:
            self.flags.append(reason)

    def note(self, text: str) -> None:
        self.notes.append(clean(text, REASON_LIMIT))


@dataclass
class SubmissionResult:
    """Everything reported about one student."""

    student: str
    tests: list[TestResult]
    flags: list[str]
    notes: list[str] = field(default_factory=list)
    stdout: str = ""
    stderr: str = ""
    seconds: float = 0.0  # the whole submission in the grader
    child_seconds: float = 0.0  # of which the child ran (wall time, all attempts)
    peak_bytes: int = 0  # the most memory the child's whole tree used at once (cgroup)
    #: when it was submitted (``timestamp.txt``), ISO 8601 in UTC, "" if unknown: kept
    #: with the stored result; lateness is computed from it and the current deadline
    #: (:mod:`.deadlines`)
    submitted: str = ""

    @property
    def score(self) -> float:
        return float(sum(t.points for t in self.tests))

    @property
    def max_score(self) -> float:
        return float(sum(t.max_points for t in self.tests))
