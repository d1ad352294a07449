"""The class report behind ``course-nn report``: what a lecturer reads after grading.

Book: none (instructor tooling); docs/instructor.md, "The class report".

Read as an ordered list of one-job steps (:func:`build_report`):

1. :func:`read_grades` and :func:`read_summary`: the grader's ``grades.csv`` and
   ``summary.csv`` (the only interface to the grader: the report never re-grades);
2. :func:`status_shares`: per test, how many students passed, failed, raised, timed out;
3. :func:`diagnosis_counts`: the likely bugs the grader's judge named (grades.csv's
   ``diagnosis`` column, written from ``TestResult.diagnosis``; never text found in a
   message, which a student's exception can fill), counted per test over students: the
   misconceptions to address in the next lecture;
3b. :func:`item_statistics`: per test, its difficulty (the share of students with full
   marks) and discrimination (the item-rest correlation: the test's points against the
   rest of the score; n/a without variance), and :func:`wrong_answers`: per by-hand item,
   the wrong numbers students typed most often (``TestResult.answer`` from the grader's
   result store, :func:`read_stored_tests`, which also counts the tests with flags: a
   separate dimension from the status);
4. :func:`similar_pairs`: near-identical solution code (names, comments, docstrings and
   layout normalised; :mod:`rapidfuzz`'s Indel similarity on the token sequence), a hint
   for a person and never a penalty. A notebook that cannot be read or tokenized (too
   large, not JSON, nested past the recursion limit, anything) is left out of the
   comparison and named on the page (:func:`read_tokens`); the report never stops on one;
5. :func:`render_html`: one offline page with the figures embedded as PNG data.

Everything read from the CSVs and the submissions is hostile text: it is escaped on the
page, and a submission's notebook is read under a size cap and tokenized, never parsed
into an AST or run.
"""

from __future__ import annotations

import base64
import csv
import html
import io
import json
import keyword
import tokenize
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

STATUS_ORDER = ("passed", "flagged", "failed", "error", "timeout", "crashed", "ungradable")
#: Colour-blind-safe (Okabe-Ito) colours, one per status; each bar is also labelled.
STATUS_COLOURS = {"passed": "#009E73", "flagged": "#F0E442", "failed": "#D55E00",
                  "error": "#CC79A7", "timeout": "#0072B2", "crashed": "#56B4E9",
                  "ungradable": "#999999"}
MAX_NOTEBOOK_BYTES = 4 * 1024 * 1024  # a submission's notebook read for similarity, at most
MAX_CODE_CHARS = 200_000  # solution code tokenized per student, at most
SIMILARITY_THRESHOLD = 0.9
MAX_PAIRS_SHOWN = 50  # the most similar pairs listed on the page; the rest are counted
MAX_WRONG_SHOWN = 5  # the most frequent wrong answers listed per by-hand item
MAX_ANSWER_CHARS = 200  # of one stored answer (the grader keeps no more)
MAX_RECORDS = 100_000  # stored results read, at most


@dataclass(frozen=True)
class GradeRow:
    """One row of ``grades.csv``: one student's result on one test."""

    student: str
    test: str
    status: str
    points: float
    max_points: float
    message: str
    diagnosis: str = ""  # the likely bug the judge named, "" if none


@dataclass(frozen=True)
class SummaryRow:
    """One row of ``summary.csv``: a student's total and flags."""

    student: str
    score: float
    max_score: float
    flags: str
    feedback: str = ""  # the feedback page's file name, relative to ``feedback/``
    late: str = ""  # how late ("2 days 3 hours"), "" on time (issue 23: deadlines)
    penalty: float = 0.0  # the late penalty in points


@dataclass(frozen=True)
class Diagnosis:
    """A likely bug the judge named for a test, and the students it was named for."""

    test: str
    text: str
    students: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.students)


@dataclass(frozen=True)
class Pair:
    """Two students whose normalised solution code is nearly the same."""

    first: str
    second: str
    similarity: float  # in [0, 1]


@dataclass
class ClassReport:
    """Everything the page shows, computed before anything is rendered."""

    assignment: str
    summary: list[SummaryRow]
    shares: dict[str, Counter]
    diagnoses: list[Diagnosis]
    pairs: list[Pair]
    flagged: list[SummaryRow] = field(default_factory=list)
    ungradable: list[str] = field(default_factory=list)
    #: (student, why) for each notebook left out of the similarity comparison
    unreadable: list[tuple[str, str]] = field(default_factory=list)
    has_diagnoses: bool = True  # False: grades.csv has no diagnosis column (older grader)
    items: list[ItemStats] = field(default_factory=list)
    wrong: list[WrongAnswer] = field(default_factory=list)
    #: per test, the students whose result has flags (whatever its status)
    with_flags: Counter = field(default_factory=Counter)
    stored: bool = False  # the grader's result store was read (flags, by-hand answers)


@dataclass(frozen=True)
class ItemStats:
    """How a test worked as an item over the class (classical test theory)."""

    test: str
    students: int
    difficulty: float  # the share of students with full marks
    discrimination: float | None  # item-rest correlation; None when either has no variance


@dataclass(frozen=True)
class WrongAnswer:
    """A wrong answer to a by-hand item and the students who typed it."""

    test: str
    answer: str
    students: tuple[str, ...]

    @property
    def count(self) -> int:
        return len(self.students)


@dataclass(frozen=True)
class StoredTest:
    """What the report takes from a stored result beyond grades.csv: per (student, test),
    whether the test has flags and a by-hand item's wrong answer."""

    flagged: bool
    answer: str = ""


class UnreadableNotebook(Exception):
    """A submission's notebook could not be read or tokenized for the similarity step."""


def _plain(cell: str) -> str:
    """Undo the grader's spreadsheet-formula guard (a leading apostrophe) for display."""
    return cell[1:] if cell[:2] in {"'=", "'+", "'-", "'@"} else cell


def _float(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return 0.0


def read_grades(path: Path) -> list[GradeRow]:
    """Step 1a: ``grades.csv`` as typed rows."""
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        return [GradeRow(_plain(r["student"]), _plain(r["test"]), r["status"],
                         _float(r["points"]), _float(r["max_points"]), r.get("message") or "",
                         _plain(r.get("diagnosis") or ""))
                for r in csv.DictReader(fh)]


def has_diagnosis_column(path: Path) -> bool:
    """Does ``grades.csv`` have the ``diagnosis`` column (a grader from issue 19 on)?"""
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        return "diagnosis" in (csv.DictReader(fh).fieldnames or ())


def read_summary(path: Path) -> list[SummaryRow]:
    """Step 1b: ``summary.csv`` as typed rows (``feedback`` when the grader wrote it)."""
    with path.open(newline="", encoding="utf-8", errors="replace") as fh:
        return [SummaryRow(_plain(r["student"]), _float(r["score"]), _float(r["max_score"]),
                           r.get("flags") or "", _plain(r.get("feedback") or ""),
                           _plain(r.get("late") or ""), _float(r.get("penalty") or "0"))
                for r in csv.DictReader(fh)]


def late_section(summary: list[SummaryRow]) -> str:
    """The late submissions: how many, the penalties' total, and who (issue 23)."""
    late = [r for r in summary if r.late]
    if not late:
        return "<p>No late submissions.</p>"
    e = html.escape
    total = sum(r.penalty for r in late)
    rows = [(e(r.student), e(r.late), f"{r.penalty:g}") for r in late]
    return (f"<p>{len(late)} late submission(s); late penalties {total:g} points in total.</p>"
            + _table(("student", "late", "penalty"), rows, "Late submissions"))


def status_shares(rows: list[GradeRow]) -> dict[str, Counter]:
    """Step 2: per test, the number of students in each status, tests in first-seen order."""
    shares: dict[str, Counter] = {}
    for row in rows:
        shares.setdefault(row.test, Counter())[row.status] += 1
    return shares


def diagnosis_counts(rows: list[GradeRow]) -> list[Diagnosis]:
    """Step 3: each (test, likely bug) with the students it was named for, most frequent first.

    Only the judge's structured ``diagnosis`` counts (one per test row, so a student
    counts once per diagnosis); the message is never searched: a student's own exception
    text saying "likely bug: ..." is the student's, not a diagnosis.
    """
    students: dict[tuple[str, str], set[str]] = defaultdict(set)
    for row in rows:
        if row.status in ("passed", "flagged") or not row.diagnosis.strip():
            continue
        students[(row.test, row.diagnosis.strip())].add(row.student)
    found = [Diagnosis(test, text, tuple(sorted(who))) for (test, text), who in students.items()]
    return sorted(found, key=lambda d: (-d.count, d.test, d.text))


def _pearson(x: list[float], y: list[float]) -> float | None:
    """The correlation of ``x`` and ``y``; None when either has no variance."""
    import numpy as np

    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return None
    a, b = a - a.mean(), b - b.mean()
    return float((a @ b) / np.sqrt((a @ a) * (b @ b)))


def item_statistics(rows: list[GradeRow]) -> list[ItemStats]:
    """Step 3b: per test (first-seen order), difficulty and discrimination over the
    students who have a row for it.

    Difficulty is the share of those students with full marks on the test (1: everyone,
    0: no one). Discrimination is the item-rest correlation: the Pearson correlation of
    the test's points with the student's total *without* that test, so a test does not
    correlate with itself; None (n/a) when the test's points or the rests do not vary."""
    totals: dict[str, float] = defaultdict(float)
    per_test: dict[str, dict[str, GradeRow]] = {}
    for row in rows:
        totals[row.student] += row.points
        per_test.setdefault(row.test, {})[row.student] = row
    found = []
    for test, by_student in per_test.items():
        students = sorted(by_student)
        points = [by_student[s].points for s in students]
        full = sum(r.max_points > 0 and r.points >= r.max_points for r in by_student.values())
        rest = [totals[s] - p for s, p in zip(students, points, strict=True)]
        found.append(ItemStats(test, len(students), full / len(students), _pearson(points, rest)))
    return found


def read_stored_tests(graded: Path) -> dict[tuple[str, str], StoredTest] | None:
    """Step 1c: per (student, test), the flags and by-hand answer of the grader's result
    store (``graded/results/*.json``, :mod:`course_nn.grading.hardened.store`); None
    when there is no store. Each record is read under the store's size cap, without
    following links; one that is not a record's shape is skipped; every text is cleaned
    and cut, and escaped when rendered."""
    from course_nn.grading.hardened.load import read_limited
    from course_nn.grading.hardened.store import FOLDER, FORMAT, MAX_RECORD_BYTES
    from course_nn.grading.hardened.text import clean

    folder = graded / FOLDER
    if folder.is_symlink() or not folder.is_dir():
        return None
    found: dict[tuple[str, str], StoredTest] = {}
    for path in sorted(folder.glob("*.json"))[:MAX_RECORDS]:
        try:
            record = json.loads(read_limited(path, MAX_RECORD_BYTES))
            result = record["result"] if record.get("format") == FORMAT else None
            if not isinstance(result, dict) or not isinstance(result.get("tests"), list):
                continue
            student = clean(result["student"], 200)
            for test in result["tests"]:
                answer = test.get("answer", "")
                found[(student, clean(test["test"], 200))] = StoredTest(
                    bool(test.get("flags")) and isinstance(test.get("flags"), list),
                    clean(answer, MAX_ANSWER_CHARS) if isinstance(answer, str) else "")
        except Exception:  # noqa: BLE001 (a damaged record: the grader warns about it)
            continue
    return found


def flag_counts(rows: list[GradeRow], stored: dict[tuple[str, str], StoredTest] | None
                ) -> Counter:
    """Per test, the students whose result has flags, whatever its status (an ``error``
    with flags counts); without a store, the ``flagged`` statuses (passed with flags)."""
    counts: Counter = Counter()
    for row in rows:
        item = stored.get((row.student, row.test)) if stored is not None else None
        if (item.flagged if item is not None else row.status == "flagged"):
            counts[row.test] += 1
    return counts


def wrong_answers(rows: list[GradeRow], stored: dict[tuple[str, str], StoredTest] | None,
                  shown: int = MAX_WRONG_SHOWN) -> list[WrongAnswer]:
    """Step 3b: per by-hand item (the tests with a stored answer), its ``shown`` most
    frequent wrong answers with the students who gave them, tests in first-seen order.
    Only a failed row's stored answer counts (the grader keeps none for a right one)."""
    if not stored:
        return []
    students: dict[str, dict[str, set[str]]] = {}
    for row in rows:
        item = stored.get((row.student, row.test))
        if row.status == "failed" and item is not None and item.answer.strip():
            students.setdefault(row.test, {}).setdefault(item.answer, set()).add(row.student)
    found = []
    for test, answers in students.items():
        ranked = sorted(answers.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:shown]
        found += [WrongAnswer(test, answer, tuple(sorted(who))) for answer, who in ranked]
    return found


def read_solution_code(notebook: Path) -> str:
    """The code of a submission's solution cells (nbgrader ``solution: true``); '' when
    there is no notebook. Raises :class:`UnreadableNotebook` for one that is a link,
    over the size cap, or fails to read in any way (not JSON, nested past the recursion
    limit, not a notebook's shape, ...)."""
    try:
        if notebook.is_symlink():
            raise UnreadableNotebook("a link")
        if not notebook.exists():
            return ""
        if notebook.stat().st_size > MAX_NOTEBOOK_BYTES:
            raise UnreadableNotebook(f"larger than {MAX_NOTEBOOK_BYTES} bytes")
        cells = json.loads(notebook.read_text(encoding="utf-8", errors="replace"))["cells"]
        parts = []
        for cell in cells:
            meta = cell.get("metadata", {}).get("nbgrader", {})
            if cell.get("cell_type") == "code" and meta.get("solution"):
                source = cell.get("source", "")
                parts.append("".join(source) if isinstance(source, list) else str(source))
        return "\n".join(parts)[:MAX_CODE_CHARS]
    except UnreadableNotebook:
        raise
    except Exception as err:  # whatever a hostile notebook does, the report goes on
        raise UnreadableNotebook(f"not readable ({type(err).__name__})") from None


def solution_code(notebook: Path) -> str:
    """:func:`read_solution_code`, or '' for a notebook that cannot be read."""
    try:
        return read_solution_code(notebook)
    except UnreadableNotebook:
        return ""


def read_tokens(notebooks: dict[str, Path]) -> tuple[dict[str, list[str]], list[tuple[str, str]]]:
    """Step 4a: each student's normalised solution tokens, and (student, why) for each
    notebook that could not be read or tokenized (left out of the comparison)."""
    tokens, unreadable = {}, []
    for student, notebook in notebooks.items():
        try:
            tokens[student] = normalised_tokens(read_solution_code(notebook))
        except UnreadableNotebook as err:
            unreadable.append((student, str(err)))
        except Exception as err:  # noqa: BLE001 (a tokenizer failure is the notebook's)
            unreadable.append((student, f"not tokenized ({type(err).__name__})"))
    return tokens, unreadable


def normalised_tokens(code: str) -> list[str]:
    """The code's token sequence with names numbered in order of appearance (afresh in
    each top-level ``def`` or ``class``, so that renaming a local in one function does
    not shift the numbers of the next), and without comments, docstrings, blank lines or
    layout: two copies that differ only in those match.

    Code that does not tokenize (a syntax error) keeps the tokens read before the error.
    """
    names: dict[str, str] = {}
    tokens: list[str] = []
    statement_start, dropped, depth = True, False, 0
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            kind, text = tok.type, tok.string
            if kind in (tokenize.COMMENT, tokenize.NL, tokenize.ENCODING, tokenize.ENDMARKER):
                continue
            if kind in (tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT):
                depth += {tokenize.INDENT: 1, tokenize.DEDENT: -1}.get(kind, 0)
                if not (dropped and kind == tokenize.NEWLINE):
                    tokens.append(tokenize.tok_name[kind])
                statement_start, dropped = True, False
                continue
            if kind == tokenize.STRING and statement_start:
                dropped = True  # a docstring or a bare string statement, with its NEWLINE
                continue
            if statement_start and depth == 0 and text in ("def", "class", "async"):
                names = {}  # each top-level definition numbers its own names
            statement_start = dropped = False
            if kind == tokenize.NAME and not keyword.iskeyword(text):
                text = names.setdefault(text, f"v{len(names)}")
            tokens.append(text)
    except (tokenize.TokenError, IndentationError, SyntaxError):
        pass
    return tokens


def similar_pairs(codes: dict[str, str], baseline: str = "",
                  threshold: float = SIMILARITY_THRESHOLD) -> list[Pair]:
    """Step 4: pairs of students whose normalised code is at least ``threshold`` similar,
    most similar first. Students whose code is empty or equals ``baseline`` (the released
    stubs) are left out: untouched notebooks are alike by construction."""
    return token_pairs({s: normalised_tokens(c) for s, c in codes.items()}, baseline, threshold)


def token_pairs(tokens: dict[str, list[str]], baseline: str = "",
                threshold: float = SIMILARITY_THRESHOLD) -> list[Pair]:
    """Step 4b: :func:`similar_pairs` on token sequences already normalised."""
    from rapidfuzz.distance import Indel

    base = normalised_tokens(baseline)
    tokens = {s: t for s, t in tokens.items() if t and t != base}
    pairs = []
    for a, b in combinations(sorted(tokens), 2):
        score = Indel.normalized_similarity(tokens[a], tokens[b])
        if score >= threshold:
            pairs.append(Pair(a, b, float(score)))
    return sorted(pairs, key=lambda p: (-p.similarity, p.first, p.second))


def _png(fig) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=96, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode("ascii")


def histogram_edges(top: float, most: int = 20) -> list[float]:
    """Bin edges of the score histogram, so that full marks have a bin of their own.

    Whole-point scores up to ``most`` points: one bin per score, centred on it (``-0.5 ..
    top + 0.5``), so 13 / 13 and 12 / 13 are two bars. Otherwise ``most`` equal bins
    over ``[0, top)`` and one more, as wide, from ``top``: only full marks fall in it
    (a plain ``range=(0, top)`` closes its last bin at ``top`` and mixes them in)."""
    import numpy as np

    if float(top).is_integer() and top <= most:
        return [k - 0.5 for k in range(int(top) + 2)]
    width = top / most
    return [float(x) for x in np.linspace(0.0, top, most + 1)] + [top + width]


def score_histogram(summary: list[SummaryRow]) -> str:
    """The score distribution as a base64 PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    top = max((r.max_score for r in summary), default=1.0) or 1.0
    fig, ax = plt.subplots(figsize=(6, 3))
    ax.hist([r.score for r in summary], bins=histogram_edges(top),
            color="#0072B2", edgecolor="black", hatch="//")
    ax.set_xlabel("autograded score")
    ax.set_ylabel("students")
    ax.set_title("Score distribution")
    data = _png(fig)
    plt.close(fig)
    return data


def status_chart(shares: dict[str, Counter]) -> str:
    """Per test, stacked horizontal bars of the share of students in each status (base64 PNG)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tests = list(shares)
    fig, ax = plt.subplots(figsize=(7, 0.45 * len(tests) + 1.2))
    left = [0.0] * len(tests)
    hatches = ("", "..", "//", "xx", "\\\\", "++", "--")
    for status, hatch in zip(STATUS_ORDER, hatches, strict=True):
        share = [shares[t][status] / max(sum(shares[t].values()), 1) for t in tests]
        if any(share):
            ax.barh(tests, share, left=left, label=status, color=STATUS_COLOURS[status],
                    hatch=hatch, edgecolor="black")
            left = [a + b for a, b in zip(left, share, strict=True)]
    ax.set_xlim(0, 1)
    ax.set_xlabel("share of students")
    ax.invert_yaxis()
    ax.legend(loc="lower center", bbox_to_anchor=(0.5, 1.0), ncol=4, frameon=False)
    data = _png(fig)
    plt.close(fig)
    return data


def build_report(assignment: str, graded: Path, submitted: Path | None = None,
                 baseline: str = "") -> ClassReport:
    """Steps 1-4 on a graded folder (and the submissions, for similarity)."""
    rows = read_grades(graded / "grades.csv")
    summary = read_summary(graded / "summary.csv")
    notebooks = {}
    if submitted is not None and submitted.is_dir():
        from course_nn.grading.hardened.pipeline import discover  # ids as the grader made them

        folders = dict(discover(submitted, assignment))
        notebooks = {row.student: folders[row.student] / f"{assignment}.ipynb"
                     for row in summary if row.student in folders}
    tokens, unreadable = read_tokens(notebooks)
    ungradable = sorted({r.student for r in rows if r.status == "ungradable"})
    stored = read_stored_tests(graded)
    return ClassReport(assignment, summary, status_shares(rows), diagnosis_counts(rows),
                       token_pairs(tokens, baseline), [r for r in summary if r.flags],
                       ungradable, sorted(unreadable),
                       has_diagnosis_column(graded / "grades.csv"), item_statistics(rows),
                       wrong_answers(rows, stored), flag_counts(rows, stored), stored is not None)


def _table(head: tuple[str, ...], rows: list[tuple[str, ...]], caption: str) -> str:
    th = "".join(f'<th scope="col">{h}</th>' for h in head)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><caption>{caption}</caption><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>"


def render_html(report: ClassReport) -> str:
    """Step 5: the page (offline: no external resource; every text escaped)."""
    e = html.escape
    n = len(report.summary)
    shares = [(e(t), *(str(c[s]) for s in STATUS_ORDER), str(report.with_flags[t]))
              for t, c in report.shares.items()]
    items = [(e(i.test), str(i.students), f"{i.difficulty:.2f}",
              "n/a" if i.discrimination is None else f"{i.discrimination:.2f}")
             for i in report.items]
    wrong = [(e(w.test), f"<code>{e(w.answer)}</code>", str(w.count), e(", ".join(w.students)))
             for w in report.wrong]
    no_wrong = ("<p>No wrong by-hand answer was stored.</p>" if report.stored else
                "<p>No result store next to grades.csv (graded/&lt;a&gt;/results/): grade "
                "again to count the wrong by-hand answers and the tests with flags.</p>")
    diag = [(str(d.count), e(d.test), e(d.text), e(", ".join(d.students))) for d in report.diagnoses]
    pairs = [(f"{p.similarity:.3f}", e(p.first), e(p.second))
             for p in report.pairs[:MAX_PAIRS_SHOWN]]
    more = len(report.pairs) - len(pairs)
    flags = [(e(r.student), e(r.flags)) for r in report.flagged]
    unreadable = "; ".join(f"{e(student)} ({e(why)})" for student, why in report.unreadable)
    no_diagnosis = ("<p>No mistake was diagnosed.</p>" if report.has_diagnoses else
                    "<p>This grades.csv has no diagnosis column (an older grader wrote it): "
                    "grade again to count the diagnoses.</p>")
    students = [(f'<a href="feedback/{e(r.feedback)}">{e(r.student)}</a>' if r.feedback
                 else e(r.student), f"{r.score:g} / {r.max_score:g}") for r in report.summary]
    mean = sum(r.score for r in report.summary) / n if n else 0.0
    top = max((r.max_score for r in report.summary), default=0.0)
    hist_alt = (f"Histogram of the autograded scores of {n} students, from 0 to {top:g} points; "
                f"mean {mean:.1f}.")
    chart_alt = ("Stacked bars, one per test, of the share of students whose result was passed, "
                 "failed, error, timeout, crashed or ungradable; the counts are in the table below.")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{e(report.assignment)}: class report</title>
<style>
body{{font-family:system-ui,sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;
color:#1f2328;line-height:1.5}}
table{{border-collapse:collapse;margin:1rem 0}}caption{{text-align:left;font-weight:600}}
td,th{{border:1px solid #8c959f;padding:.3rem .6rem;text-align:left;vertical-align:top}}
img{{max-width:100%}}
</style></head><body><main>
<h1>{e(report.assignment)}: class report</h1>
<p>{n} students; mean autograded score {mean:.2f} of {top:g}.</p>
<h2>Score distribution</h2>
<img src="data:image/png;base64,{score_histogram(report.summary)}" alt="{e(hist_alt)}">
<h2>Results per test</h2>
<img src="data:image/png;base64,{status_chart(report.shares)}" alt="{e(chart_alt)}">
{_table(("test", *STATUS_ORDER, "with flags"), shares, "Students per test and status; "
        "flagged: passed, held for a look; with flags: results with any flag, whatever "
        "their status")}
<h2>Item statistics</h2>
<p>Difficulty: the share of students with full marks on the test. Discrimination: the
correlation of the test's points with the rest of the student's score (item-rest); near
0 or negative, the test does not separate strong from weak work (n/a: no variance).</p>
{_table(("test", "students", "difficulty", "discrimination"), items,
        "Difficulty and discrimination per test") if items else "<p>No tests.</p>"}
<h2>Frequent wrong by-hand answers</h2>
<p>The numbers students typed for the by-hand items, most frequent wrong answer first
(at most {MAX_WRONG_SHOWN} per item).</p>
{_table(("test", "answer", "students", "who"), wrong, "Wrong by-hand answers, most frequent "
        "first") if wrong else no_wrong}
<h2>Most frequent likely bugs</h2>
<p>What the checks diagnosed, counted over students: the misconceptions worth a word in the
next lecture.</p>
{_table(("students", "test", "likely bug", "who"), diag, "Diagnosed mistakes, most frequent first")
 if diag else no_diagnosis}
<h2>Near-identical submissions</h2>
<p>Solution code compared after normalising names, comments, docstrings and layout. A hint
for a person to look at, never a penalty: short exercises have few right answers.</p>
{_table(("similarity", "student", "student"), pairs, "Pairs at or above "
        f"{SIMILARITY_THRESHOLD:.2f} similarity, most similar first") if pairs
 else "<p>No pair above the threshold.</p>"}
{f"<p>And {more} more pairs above the threshold, less similar (not listed).</p>" if more > 0
 else ""}
{f"<p>Not compared, their notebook could not be read: {unreadable}.</p>" if unreadable else ""}
<h2>Flags and ungradable submissions</h2>
{_table(("student", "flags"), flags, "Flagged submissions") if flags else "<p>No flags.</p>"}
<p>Ungradable: {e(", ".join(report.ungradable)) or "none"}.</p>
<h2>Late submissions</h2>
{late_section(report.summary)}
<h2>Students</h2>
{_table(("student", "score"), students, "Every student, with a link to their feedback")}
</main></body></html>
"""


def write_report(report: ClassReport, graded: Path) -> Path:
    """``graded/report.html``, written atomically."""
    page = graded / "report.html"
    tmp = page.with_name(".report.html.tmp")
    tmp.write_text(render_html(report), encoding="utf-8")
    tmp.replace(page)
    return page


__all__ = ["ClassReport", "Diagnosis", "GradeRow", "ItemStats", "Pair", "StoredTest",
           "SummaryRow", "UnreadableNotebook", "WrongAnswer", "build_report", "diagnosis_counts",
           "flag_counts", "histogram_edges", "item_statistics", "normalised_tokens",
           "read_grades", "read_stored_tests",
           "read_solution_code", "read_summary", "read_tokens", "render_html", "similar_pairs",
           "solution_code", "status_shares", "token_pairs", "write_report", "wrong_answers"]
