"""Step 10: write grades.csv, summary.csv and a feedback page per student.

Book: none (instructor tooling); DESIGN.md, "Grading: two paths, one set of checks", step g.
"""

from __future__ import annotations

import csv
import html
import re
from pathlib import Path

from course_nn.grading.hardened.model import AssignmentSpec, SubmissionResult

GRADES_COLUMNS = ("student", "test", "status", "points", "max_points", "message")
SUMMARY_COLUMNS = ("student", "score", "max_score", "flags")
COLOURS = {"passed": "#1a7f37", "flagged": "#9a6700", "failed": "#cf222e", "error": "#cf222e",
           "timeout": "#8250df", "crashed": "#8250df", "ungradable": "#57606a"}


def number(x: float) -> str:
    return f"{x:g}"


def safe_name(student: str) -> str:
    """A file name for a student id (ids come from folder names)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", student) or "_"


def summary_flags(result: SubmissionResult) -> list[str]:
    flags = list(result.flags)
    for test in result.tests:
        flags += [f"{test.test}: {f}" for f in test.flags]
    return list(dict.fromkeys(flags))


def write_grades(path: Path, results: list[SubmissionResult]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(GRADES_COLUMNS)
        for result in results:
            for t in result.tests:
                writer.writerow([result.student, t.test, t.status, number(t.points),
                                 number(t.max_points), t.message])


def write_summary(path: Path, results: list[SubmissionResult]) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(SUMMARY_COLUMNS)
        for r in results:
            writer.writerow([r.student, number(r.score), number(r.max_score),
                             "; ".join(summary_flags(r))])


def feedback_html(spec: AssignmentSpec, result: SubmissionResult) -> str:
    """A self-contained page: every test, its status, points and teaching message."""
    esc = html.escape
    rows = "".join(
        f'<tr><td>{esc(t.test)}</td><td style="color:{COLOURS.get(t.status, "#000")}">'
        f"<b>{esc(t.status)}</b></td><td>{number(t.points)} / {number(t.max_points)}</td>"
        f"<td><pre>{esc(t.message)}</pre></td></tr>"
        for t in result.tests)
    flags = "".join(f"<li>{esc(f)}</li>" for f in result.flags)
    notes = "".join(f"<li>{esc(n)}</li>" for n in result.notes)
    output = "".join(
        f"<details><summary>{name} of your code</summary><pre>{esc(text)}</pre></details>"
        for name, text in (("printed output", result.stdout), ("error output", result.stderr))
        if text.strip())
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<title>{esc(spec.name)}: feedback for {esc(result.student)}</title>
<style>body{{font-family:sans-serif;max-width:60rem;margin:2rem auto}}
table{{border-collapse:collapse}}td,th{{border:1px solid #ccc;padding:.4rem;vertical-align:top}}
pre{{white-space:pre-wrap;margin:0}}</style></head><body>
<h1>{esc(spec.name)}: {esc(result.student)}</h1>
<p>Autograded score: <b>{number(result.score)} / {number(result.max_score)}</b>
(written answers are graded by hand).</p>
{f"<h2>Flags</h2><ul>{flags}</ul>" if flags else ""}
{f"<h2>Notes</h2><ul>{notes}</ul>" if notes else ""}
<table><tr><th>test</th><th>status</th><th>points</th><th>message</th></tr>{rows}</table>
{output}
</body></html>
"""


def write_outputs(out: Path, spec: AssignmentSpec, results: list[SubmissionResult]) -> None:
    """``out/grades.csv``, ``out/summary.csv`` and ``out/feedback/<student>.html``."""
    (out / "feedback").mkdir(parents=True, exist_ok=True)
    write_grades(out / "grades.csv", results)
    write_summary(out / "summary.csv", results)
    for result in results:
        page = out / "feedback" / f"{safe_name(result.student)}.html"
        page.write_text(feedback_html(spec, result), encoding="utf-8")
