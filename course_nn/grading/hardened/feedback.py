"""The feedback page a student reads: every test's verdict, the written answers, the total.

Book: none (instructor tooling); docs/instructor.md, "Feedback for students".

Read as three one-job steps:

1. :func:`written_answers`: the cells graded by hand (nbgrader ``grade`` cells that are
   not test cells: the written answers), each "graded by hand: pending";
2. :func:`hand_grades`: the score and comment an instructor gave each of them in
   formgrader, read from nbgrader's gradebook (a cell without a hand score stays pending);
3. :func:`feedback_html`: one offline page (no script, no external resource): a summary
   with the total of both parts (and, for late work, how late it came and the late
   penalty: :mod:`.deadlines`), then per test its verdict, points and message (a failed
   hidden case names its input in words: the case label the checks give it), then the
   written answers.

Every string a submission controls was cleaned at its entry (:mod:`.text`) and is
escaped here; comments from the gradebook are cleaned and escaped too.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from course_nn.grading.hardened.model import AssignmentSpec, SubmissionResult
from course_nn.grading.hardened.text import clean

if TYPE_CHECKING:
    from course_nn.grading.hardened.deadlines import Deadlines, Lateness

#: The words a student reads for each status (the CSVs keep the grader's own words).
VERDICTS = {"passed": "passed", "flagged": "passed, flagged for a look", "failed": "wrong answer",
            "error": "your code raised an error", "timeout": "too slow (stopped)",
            "crashed": "the run crashed", "ungradable": "could not be graded"}
#: Text colours with at least 4.5:1 contrast on their pale badge background (WCAG AA).
BADGES = {"passed": ("#0f5323", "#dafbe1"), "flagged": ("#6c4400", "#fff8c5"),
          "failed": ("#82071e", "#ffebe9"), "error": ("#82071e", "#ffebe9"),
          "timeout": ("#512a97", "#fbefff"), "crashed": ("#512a97", "#fbefff"),
          "ungradable": ("#32383f", "#eaeef2")}
CASE_HEADER = re.compile(r"^(\S+: (?:hidden|public) case \d+ of \d+(?: \([^\n]*?\))?)"
                         r"(?: \[seed \d+\])? (failed|raised)", re.MULTILINE)
COMMENT_LIMIT = 4000


@dataclass(frozen=True)
class HandGrade:
    """A written answer (a cell graded by hand): its points, and the hand grade once given."""

    grade_id: str
    max_points: float
    score: float | None = None  # None: not graded yet
    comment: str = ""

    @property
    def pending(self) -> bool:
        return self.score is None


def hand_score(answers: list[HandGrade]) -> float:
    """The points given by hand so far (pending answers count nothing yet)."""
    return float(sum(a.score for a in answers if not a.pending))


def written_answers(spec: AssignmentSpec) -> list[HandGrade]:
    """Step 1: every cell graded by hand, in notebook order, all pending."""
    return [HandGrade(c.grade_id, c.points) for c in spec.cells if c.role == "manual"]


def graded(grade) -> bool:
    """Has this gradebook ``Grade`` of a written answer a final score? Yes when a person
    scored it, or when the grader did and left nothing to grade by hand (an answer left
    as released: 0, "No response.")."""
    if grade.manual_score is not None:
        return True
    return grade.auto_score is not None and not grade.needs_manual_grade


def hand_grades(db_url: str | None, spec: AssignmentSpec, students: list[str]
                ) -> dict[str, list[HandGrade]]:
    """Step 2: per student, the written answers with the hand grades the gradebook holds.

    A cell counts as graded when :func:`graded` says so; anything missing (no
    gradebook, no submission, no such cell) leaves it pending."""
    pending = written_answers(spec)
    found = {s: list(pending) for s in students}
    if not pending or not db_url:
        return found
    from course_nn.grading.hardened.gradebook import _alembic_on_path

    if db_url.startswith("sqlite:///"):
        from pathlib import Path

        if not Path(db_url.removeprefix("sqlite:///")).is_file():
            return found
    from nbgrader.api import Gradebook, MissingEntry

    _alembic_on_path()
    notebook = spec.notebook.removesuffix(".ipynb")
    with Gradebook(db_url) as gb:
        for student in students:
            answers = []
            for cell in pending:
                try:
                    grade = gb.find_grade(cell.grade_id, notebook, spec.name, student)
                except MissingEntry:
                    answers.append(cell)
                    continue
                if not graded(grade):
                    answers.append(cell)
                    continue
                try:
                    comment = gb.find_comment(cell.grade_id, notebook, spec.name, student).comment
                except MissingEntry:
                    comment = None
                answers.append(replace(cell, score=float(grade.score),
                                       comment=clean(comment or "", COMMENT_LIMIT)))
            found[student] = answers
    return found


def failed_case(message: str) -> str | None:
    """The failing case of a test message in words ("hidden case 3 of 8 (n=5, ...)"), if any."""
    match = CASE_HEADER.search(message)
    return match.group(1) if match else None


def _number(x: float) -> str:
    return f"{x:g}"


def verdict(status: str, message: str = "") -> str:
    """The words a student reads for a test: "not attempted" for an untouched stub (an
    ``error`` whose grader message starts so, :func:`.messages.not_attempted`), else the
    status's :data:`VERDICTS`."""
    from course_nn.grading.messages import NOT_ATTEMPTED

    if status == "error" and message.startswith(NOT_ATTEMPTED + ":"):
        return NOT_ATTEMPTED
    return VERDICTS.get(status, status)


def _badge(status: str, message: str = "") -> str:
    fg, bg = BADGES.get(status, ("#1f2328", "#ffffff"))
    return (f'<span class="badge" style="color:{fg};background:{bg};border-color:{fg}">'
            f"{html.escape(verdict(status, message))}</span>")


def _test_section(t) -> str:
    esc = html.escape
    case = failed_case(t.message) if t.status not in ("passed", "flagged") else None
    failed = (f'<p class="case">The input that failed: <strong>{esc(case)}</strong>.</p>'
              if case else "")
    return (f'<section class="test" aria-labelledby="t-{esc(t.test)}">'
            f'<h3 id="t-{esc(t.test)}">{esc(t.test)}</h3>'
            f"<p>{_badge(t.status, t.message)} <span class=\"points\">{_number(t.points)} / "
            f"{_number(t.max_points)} points</span></p>{failed}"
            f"<pre>{esc(t.message)}</pre></section>")


def _written_section(answers: list[HandGrade]) -> str:
    esc = html.escape
    if not answers:
        return ""
    items = []
    for a in answers:
        if a.pending:
            body = (f"graded by hand: pending ({_number(a.max_points)} points)")
        else:
            comment = f"<blockquote>{esc(a.comment)}</blockquote>" if a.comment else ""
            body = (f"graded by hand: <strong>{_number(a.score)} / "
                    f"{_number(a.max_points)}</strong>{comment}")
        items.append(f"<li><strong>{esc(a.grade_id)}</strong>: {body}</li>")
    return f'<h2>Written answers</h2><ul class="written">{"".join(items)}</ul>'


STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;font-size:1.05rem;
line-height:1.55;color:#1f2328;background:#fff;max-width:46rem;margin:2rem auto;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2rem;border-bottom:1px solid #d0d7de}
h3{margin:0 0 .3rem;font-family:ui-monospace,monospace;font-size:1.05rem}
.total{font-size:1.15rem;background:#f6f8fa;border:1px solid #d0d7de;border-radius:6px;
padding:.8rem 1rem}
.test{border:1px solid #d0d7de;border-radius:6px;padding:.8rem 1rem;margin:1rem 0}
.badge{display:inline-block;border:1px solid;border-radius:1rem;padding:0 .6rem;font-weight:600}
.points{margin-left:.5rem}.case{margin:.4rem 0}
.late{background:#fff8c5;border:1px solid #6c4400;border-radius:6px;padding:.6rem 1rem}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:#f6f8fa;padding:.6rem;
border-radius:4px;font-size:.9rem;margin:.4rem 0 0}
blockquote{margin:.3rem 0 0 1rem;padding-left:.6rem;border-left:3px solid #8c959f}
"""


def late_paragraph(late: Lateness | None, score: float, max_score: float,
                   waiting: float) -> str:
    """How late the work came and what it cost ("" when on time or no deadline is set):
    the lateness in words, the deadline (with the extension, if any) and the penalty on
    the score so far."""
    if late is None or not late.late:
        return ""
    penalty = late.penalty(score)
    due = f"{late.due:%Y-%m-%d %H:%M} UTC" + (", with your extension" if late.extended else "")
    cost = (f"late penalty: <b>-{_number(penalty)} points</b> ({html.escape(late.policy.describe())}), "
            f"so the score is <b>{_number(score - penalty)} / {_number(max_score)}</b>"
            if penalty else "no late penalty")
    later = " (the penalty follows the hand grades still to come)" if waiting and penalty else ""
    return (f'<p class="late">Submitted {html.escape(late.describe())} after the deadline '
            f"({due}); {cost}{later}.</p>")


def feedback_html(spec: AssignmentSpec, result: SubmissionResult,
                  answers: list[HandGrade] | None = None, kept: dict[str, str] | None = None,
                  late: Lateness | None = None) -> str:
    """Step 3: a self-contained page: the total, every test, the written answers.

    ``answers`` defaults to every written answer pending (:func:`written_answers`).
    ``kept``: the flags/notes (``head``) and printed output (``output``) blocks of an
    earlier page, already escaped (:func:`kept_blocks`), used instead of ``result``'s.
    ``late``: the submission against its deadline (:mod:`.deadlines`; default: on time)."""
    esc = html.escape
    answers = written_answers(spec) if answers is None else answers
    hand = sum(a.score for a in answers if not a.pending)
    hand_max = sum(a.max_points for a in answers)
    waiting = sum(a.max_points for a in answers if a.pending)
    total = (f"<b>{_number(result.score)} / {_number(result.max_score)}</b> autograded")
    if answers:
        total += (f" + <b>{_number(hand)} / {_number(hand_max)}</b> graded by hand = "
                  f"<b>{_number(result.score + hand)} / {_number(result.max_score + hand_max)}"
                  "</b>")
        if waiting:
            total += f" ({_number(waiting)} points still to be graded by hand)"
    passed = sum(t.status in ("passed", "flagged") for t in result.tests)
    flags = "".join(f"<li>{esc(f)}</li>" for f in result.flags)
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
    output = "".join(
        f"<details><summary>{name} of your code</summary><pre>{esc(text)}</pre></details>"
        for name, text in (("printed output", result.stdout), ("error output", result.stderr))
        if text.strip())
    if kept:
        flags = notes = ""
        head, output = kept.get("head", ""), kept.get("output", "")
    else:
        head = (f"{f'<h2>Flags</h2><ul>{flags}</ul>' if flags else ''}\n"
                f"{f'<h2>Notes</h2><ul>{notes}</ul>' if notes else ''}")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(spec.name)}: feedback for {esc(result.student)}</title>
<style>{STYLE}</style></head><body><main>
<h1>{esc(spec.name)}</h1>
<p>Feedback for <strong>{esc(result.student)}</strong></p>
<p class="total">Score: {total}.<br>{passed} of {len(result.tests)} tests passed.</p>\
{late_paragraph(late, result.score + hand, result.max_score + hand_max, waiting)}
<!-- kept:head -->{head}<!-- /kept:head -->
<h2>Tests</h2>
{"".join(_test_section(t) for t in result.tests)}
{_written_section(answers)}
<!-- kept:output -->{output}<!-- /kept:output -->
</main></body></html>
"""


# --- `course-nn feedback`: the pages again, with the hand grades, no student code run ----
KEPT = re.compile(r"<!-- kept:(head|output) -->(.*?)<!-- /kept:\1 -->", re.DOTALL)
_GUARDED = re.compile(r"^'[=+\-@\t\r]")


def kept_blocks(page: str) -> dict[str, str]:
    """The flags/notes and printed-output blocks of a page :func:`feedback_html` wrote.

    They are HTML already escaped by the grader; a student's text cannot fake a marker
    (its ``<`` was escaped), so the first match of each is the grader's own."""
    return {m.group(1): m.group(2) for m in KEPT.finditer(page)}


def _plain(text: str) -> str:
    """Undo the CSV writer's formula guard (``outputs.cell``)."""
    return text[1:] if _GUARDED.match(text) else text


def results_from_csv(grades_csv, summary_csv) -> list[tuple[SubmissionResult, str]]:
    """(result, feedback file name) per student, rebuilt from the grader's two CSVs."""
    import csv

    from course_nn.grading.hardened.model import TestResult

    tests: dict[str, list[TestResult]] = {}
    with open(grades_csv, newline="", encoding="utf-8", errors="replace") as fh:
        for row in csv.DictReader(fh):
            tests.setdefault(row["student"], []).append(TestResult(
                clean(_plain(row["test"]), 200), clean(row["status"], 40),
                float(row["points"] or 0), float(row["max_points"] or 0),
                clean(_plain(row.get("message") or ""))))
    found = []
    with open(summary_csv, newline="", encoding="utf-8", errors="replace") as fh:
        for row in csv.DictReader(fh):
            page = _plain(row.get("feedback") or "")
            if not re.fullmatch(r"[A-Za-z0-9_-][A-Za-z0-9._-]*\.html", page):
                continue  # no page (an older summary.csv) or not a name the grader writes
            result = SubmissionResult(clean(_plain(row["student"]), 200),
                                      tests.get(row["student"], []), [],
                                      submitted=_stored_time(row.get("submitted") or ""))
            found.append((result, page))
    return found


def _stored_time(text: str) -> str:
    """summary.csv's ``submitted`` cell as the stored form ("" when it is no time)."""
    from course_nn.grading.hardened.deadlines import from_iso, iso

    return iso(from_iso(clean(text, 64)))


def regenerate(spec: AssignmentSpec, graded, db_url: str | None,
               deadlines: Deadlines | None = None) -> list[str]:
    """Rewrite ``graded/feedback/*.html`` from the CSVs and the gradebook's hand grades
    (and, with ``deadlines``, each student's lateness against the gradebook's due date).

    No student code runs; each page keeps its flags, notes and printed output; each is
    written atomically. Returns the page names written."""
    from pathlib import Path

    from course_nn.grading.hardened.gradebook import read_lateness
    from course_nn.grading.hardened.outputs import _replace

    graded = Path(graded)
    pairs = results_from_csv(graded / "grades.csv", graded / "summary.csv")
    hand = hand_grades(db_url, spec, [r.student for r, _ in pairs])
    late = (read_lateness(db_url, deadlines, spec.name, [r for r, _ in pairs])
            if deadlines is not None else {})
    (graded / "feedback").mkdir(exist_ok=True)
    written = []
    for result, name in pairs:
        path = graded / "feedback" / name
        old = path.read_text(encoding="utf-8", errors="replace") if path.is_file() \
            and not path.is_symlink() else ""
        page = feedback_html(spec, result, hand.get(result.student), kept_blocks(old) or None,
                             late.get(result.student))
        _replace(path, page.encode("utf-8"))
        written.append(name)
    return written
