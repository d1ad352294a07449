"""Table-driven tests of an exercise's graded items, in both grading paths.

Design: docs/exercise_items.md (kinds of item, structures, stability, hint rules).

The format (one table per chapter, in ``tests/test_checks_chNN.py``)
-----------------------------------------------------------------------
An exercise's table is a list of :class:`Item`, one per graded test cell::

    ITEMS = [
        Item("mse", points=1, kind="implement",
             wrong=[Wrong('''def mse(y_hat, y):
        return float(np.sum((y_hat - y) ** 2))''', hint_contains="their mean"),
                    ...],                      # >= 3 typical mistakes
             right=['''def mse(y_hat, y):
        return float(np.mean(np.square(np.subtract(y_hat, y))))''',
                    ...]),                     # >= 2 correct answers written differently
        Item("parameter_count_by_hand", points=1, kind="by-hand",
             wrong=[Wrong("n_parameters = 40", hint_contains="bias")], right=[...]),
    ]

- ``check`` is the registered check the test cell calls; ``points`` the test cell's
  points in the instructor notebook (asserted, so the table documents the weights).
- ``kind`` is what the item asks of the student: ``implement`` (write a function the
  chapter derives), ``by-hand`` (a number worked out on paper, entered as a variable),
  ``debugging`` (repair a given function with a planted bug), ``transfer`` (something
  the chapter does not print).
- Every source is the **whole content** of one solution cell, written as a student
  would (NumPy is imported as ``np`` by the setup cell; other solution cells keep the
  instructor's code, so a source may call the student's earlier functions).
  ``cell`` is that cell's grade_id (default: ``check``); ``test`` the grade cell's
  (default: ``"test_" + check``).
- A :class:`Wrong` answer must score 0 on its item and its failure message must
  contain ``hint_contains`` (a phrase of the check's hint, the diagnosis it teaches);
  a right answer must score full points.

Helpers
-------
``notebook_scores(assignment, items)`` runs every answer as nbgrader would (the
setup and solution cells in order, then the whole grade cell, hidden tests included,
in one namespace), in this process. ``hardened_scores(assignment, items, folder)``
writes one submission per answer (the released notebook with the instructor's
solutions, the answer's cell replaced) and the untouched released notebook (a stub,
which must score 0) into a temporary course and grades them all with ``course-nn
grade``'s :func:`grade_assignment` in ONE batch. Both return
:class:`Outcome` per (item index, "w"/"r", variant index); ``assert_outcomes`` checks
them against the table, and ``assert_table`` checks the table itself (counts, points,
every graded cell listed).
"""

from __future__ import annotations

import contextlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from course_nn.grading import REGISTRY
from course_nn.grading.hardened import Limits, grade_assignment
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import cell_source, nbgrader_meta  # noqa: F401 (re-exported)
from course_nn.grading.messages import GIVEN_BEHAVIOUR

#: The whole feedback a debugging item gives an answer that behaves like the given function.
GIVEN = GIVEN_BEHAVIOUR

Kind = Literal["implement", "by-hand", "debugging", "transfer"]
KINDS: tuple[str, ...] = ("implement", "by-hand", "debugging", "transfer")
MARKERS = re.compile(r"^\s*### (BEGIN|END) SOLUTION\s*$", re.M)


@dataclass(frozen=True)
class Wrong:
    """A typical wrong answer (a whole solution cell) and a phrase its hint must contain."""

    source: str
    hint_contains: str


@dataclass(frozen=True)
class Item:
    """One graded test cell of an exercise and the answers it is tested against."""

    check: str
    points: float
    kind: Kind
    wrong: list[Wrong] = field(default_factory=list)
    right: list[str] = field(default_factory=list)
    cell: str | None = None  # the solution cell's grade_id (default: check)
    test: str | None = None  # the grade cell's grade_id (default: "test_" + check)

    @property
    def cell_id(self) -> str:
        return self.cell or self.check

    @property
    def test_id(self) -> str:
        return self.test or f"test_{self.check}"

    def variants(self) -> Iterator[tuple[str, int, str]]:
        """("w" or "r", index, source) for every answer of the item."""
        for j, wrong in enumerate(self.wrong):
            yield "w", j, wrong.source
        for j, source in enumerate(self.right):
            yield "r", j, source


@dataclass(frozen=True)
class Outcome:
    """What one grading path gave one answer: points on the item and the message."""

    points: float
    message: str


Key = tuple[int, str, int]  # (item index, "w" or "r", variant index)


def instructor(assignment: str) -> dict:
    return T.read(T.ROOT / "solutions" / assignment / f"{assignment}.ipynb")


def released(assignment: str) -> dict:
    return T.read(T.ROOT / "exercises" / assignment / f"{assignment}.ipynb")


def graded_cells(assignment: str) -> dict[str, float]:
    """grade_id -> points of every auto-graded (code) grade cell of the instructor notebook."""
    return {meta["grade_id"]: float(meta.get("points") or 0)
            for cell in instructor(assignment)["cells"]
            if (meta := nbgrader_meta(cell)) and meta.get("grade") and not meta.get("solution")
            and cell.get("cell_type") == "code"}


def assert_table(assignment: str, items: list[Item], min_wrong: int = 3, min_right: int = 2) -> None:
    """Does the table list every graded cell with its points, and enough answers per item,
    and does the exercise have each kind of item?"""
    cells = graded_cells(assignment)
    assert sorted(i.test_id for i in items) == sorted(cells), "every graded cell, once"
    for item in items:
        assert cells[item.test_id] == item.points, f"{item.test_id}: points in the notebook"
        assert len(item.wrong) >= min_wrong, f"{item.check}: at least {min_wrong} wrong answers"
        assert len(item.right) >= min_right, f"{item.check}: at least {min_right} right answers"
        assert len(set(item.right)) == len(item.right), f"{item.check}: right answers differ"
        assert check_kind_fits(item), f"{item.check}: Check.kind {REGISTRY[item.check].kind}"
    kinds = {item.kind for item in items}
    assert {"by-hand", "debugging", "transfer"} <= kinds, f"kinds present: {sorted(kinds)}"


def check_kind_fits(item: Item) -> bool:
    """Does the registered check's ``kind`` (its feedback policy) fit the table's kind?
    A structure (the student gives weights) is an implement or a transfer item."""
    kind = REGISTRY[item.check].kind
    return kind == item.kind.replace("-", "_") or (
        kind == "structure" and item.kind in ("implement", "transfer"))


# --- the notebook path (nbgrader's: one namespace, checks in process) ---------------------
def _code_cells(nb: dict) -> list[tuple[dict, str]]:
    return [(nbgrader_meta(c) or {}, cell_source(c)) for c in nb["cells"]
            if c.get("cell_type") == "code"]


def _run_in_notebook(cells: list[tuple[dict, str]], item: Item, source: str) -> Outcome:
    namespace: dict = {"__name__": "__main__"}
    sink = io.StringIO()
    try:
        with contextlib.redirect_stdout(sink):
            for meta, code in cells:
                grade_id = meta.get("grade_id")
                if meta.get("solution"):
                    code = source if grade_id == item.cell_id else MARKERS.sub("", code)
                elif grade_id == "setup":
                    pass
                elif grade_id == item.test_id:
                    exec(compile(code, f"<{grade_id}>", "exec"), namespace)
                    return Outcome(item.points, sink.getvalue())
                else:
                    continue  # other grade cells and plain (plotting) cells
                exec(compile(code, f"<{grade_id}>", "exec"), namespace)
    except BaseException as err:  # noqa: BLE001 (the test cell failing is the point)
        return Outcome(0.0, f"{type(err).__name__}: {err}")
    raise AssertionError(f"no grade cell {item.test_id!r}")


def notebook_scores(assignment: str, items: list[Item]) -> dict[Key, Outcome]:
    """Every answer of every item through the in-notebook ``check`` (hidden tests included)."""
    cells = _code_cells(instructor(assignment))
    return {(i, kind, j): _run_in_notebook(cells, item, source)
            for i, item in enumerate(items) for kind, j, source in item.variants()}


# --- the hardened path (course-nn grade, one batch) ----------------------------------------
def hardened_scores(assignment: str, items: list[Item], folder: Path,
                    timeout: float = 60) -> dict[Key, Outcome]:
    """Every answer as one student's submission, all graded by ``grade_assignment`` at once."""
    course = T.make_course(folder / "course", [assignment])
    base = T.solutions(instructor(assignment))
    nb = released(assignment)
    students: dict[str, tuple[Key, str]] = {}
    for i, item in enumerate(items):
        for kind, j, source in item.variants():
            student = f"s{i:02d}{kind}{j}"
            students[student] = ((i, kind, j), item.test_id)
            T.submit(course, student, assignment,
                     T.with_sources(nb, dict(base, **{item.cell_id: source})))
    T.submit(course, "stub", assignment, nb)  # the released notebook, untouched
    report = grade_assignment(assignment, course=course, jobs=2, progress=False, gradebook=False,
                              out=course / "graded", limits=Limits(timeout=timeout))
    found = {}
    for result in report.results:
        if result.student == "stub":
            assert result.tests and result.score == 0, "an untouched notebook scores 0"
            continue
        key, test_id = students[result.student]
        (test,) = [t for t in result.tests if t.test == test_id]
        found[key] = Outcome(test.points, f"[{test.status}] {test.message}")
    assert len(found) == len(students), "every submission graded"
    return found


def assert_outcomes(items: list[Item], outcomes: dict[Key, Outcome], path: str) -> None:
    """Each wrong answer 0 with its hint, each right answer full points; all failures at once."""
    problems = []
    for (i, kind, j), outcome in sorted(outcomes.items()):
        item = items[i]
        if kind == "w":
            hint = item.wrong[j].hint_contains
            if outcome.points != 0 or hint not in outcome.message:
                problems.append(f"{item.check} wrong #{j}: {outcome.points} points, hint "
                                f"{hint!r} {'found' if hint in outcome.message else 'missing'}"
                                f"\n{outcome.message}")
        elif outcome.points != item.points:
            problems.append(f"{item.check} right #{j}: {outcome.points} of {item.points}"
                            f"\n{outcome.message}")
    assert not problems, f"{path} path:\n" + "\n\n".join(problems)


def summary(items: list[Item]) -> list[tuple[str, str, float, int, int]]:
    """(check, kind, points, wrong answers, right answers) per item, for the README table."""
    return [(i.check, i.kind, i.points, len(i.wrong), len(i.right)) for i in items]


# --- what a hint may say (tests/test_hints.py applies this to the whole registry) ----------
HINT_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("code: a library call or attribute", re.compile(r"\b(np|numpy|torch|scipy)\.|\.\w+\(|\.T\b")),
    ("code: backticks", re.compile(r"`")),
    ("call: a function applied to arguments", re.compile(r"\b[A-Za-z_][\w']*\(")),
    ("formula: an equation or comparison", re.compile(r"[=<>]")),
    ("bracket: indexing or a list", re.compile(r"[\[\]]")),
    ("operator: arithmetic between terms",
     re.compile(r"\w\s*[+*/^@]\s*[\w(]|\w\s+-\s+[\w(]|(?<!\w)-\w")),
    ("number: a constant other than 0 and 1", re.compile(r"(?<![\w.])(\d*\.\d+|\d{2,}|[2-9])\b")),
)


def hint_problems(text: str) -> list[str]:
    """The rules ``text`` breaks (empty when it diagnoses without dictating)."""
    return [rule for rule, pattern in HINT_RULES if pattern.search(text)]


def likely_bug(message: str) -> str:
    """The hint part of a failure message ('' when it has none)."""
    return message.split("likely bug:", 1)[1] if "likely bug:" in message else ""


def assert_written_answers_private(assignment: str) -> None:
    """Does every hand-graded answer cell hold a model answer and a rubric with points per
    criterion in the instructor notebook, and does neither reach the released notebook?"""
    cells = [(cell_source(c), float(meta.get("points") or 0))
             for c in instructor(assignment)["cells"]
             if (meta := nbgrader_meta(c)) and meta.get("grade") and meta.get("solution")
             and c.get("cell_type") == "markdown"]
    assert cells, "at least one written answer"
    manual = [text for text, _ in cells]
    for text, points in cells:
        assert "**Model answer.**" in text and "**Rubric" in text, text[:80]
        criteria = [int(n) for n in re.findall(r"^- (\d+) points?:", text, re.M)]
        assert len(criteria) >= 2 and sum(criteria) == points, "points per criterion add up"
    released_text = "\n".join(cell_source(c) for c in released(assignment)["cells"])
    assert "Model answer" not in released_text and "Rubric" not in released_text
    for text in manual:  # not a single distinctive line of it
        for line in text.splitlines():
            if len(line.strip()) >= 30:
                assert line.strip() not in released_text, line
