"""Benchmark: a whole term of exercise 1, command by command, for a generated class of 200.

Runs, in a throw-away course folder (``nbgrader_config.py``, ``solutions/`` and the
released ``exercises/`` of the assignment copied from the repository, as the tests set a
course up), the instructor's commands of docs/instructor.md, "A whole term, command by
command", exactly as an instructor types them (the ``course-nn`` and ``nbgrader`` console
scripts, the course folder as working directory), and prints each command and its wall
time:

1. the release is the committed ``exercises/`` (``make release``);
2. the class is generated: ``--n`` GitHub Classroom clones ``ex01-<github-username>``
   (``--assignment``: exercise 1 by default),
   each a git repository whose last commit carries the student's submission time (a few
   after the deadline, one of them with an extension), holding an honest, a wrong (the
   typical mistakes of exercise 1) or a hazardous notebook (``tests/mixed_class.py``),
   and a ``roster.csv`` (GitHub username, student id, name, email, LMS ids, section);
3. ``course-nn collect``; 4. a due date (``nbgrader db assignment add --duedate``), a
   ``per_day`` late policy and one extension (``LateWork`` in ``nbgrader_config.py``),
   then ``course-nn grade`` of the whole class; 5. one student pushes a corrected
   notebook before the deadline: ``course-nn collect`` again, then ``course-nn grade
   --student``; 6. hand grading (formgrader's writes to the gradebook, simulated);
7. ``course-nn feedback``, ``course-nn report``, ``course-nn export --roster``.

Each step is checked (one row per student, penalties exactly for the late students,
the other students' rows byte-identical after the single regrade, exports with one
row per student) and the table of commands, times and checks is printed last. A failed
check is printed as FAIL and makes the exit code 1.

    python benchmarks/term.py --n 200 --jobs 2
    python benchmarks/term.py --assignment ex03_mlp    # exercise 3's items and mistakes
"""

from __future__ import annotations

import argparse
import csv
import os
import random
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # tests/mixed_class.py builds the class

from course_nn.grading.hardened import testing as T  # noqa: E402
from course_nn.grading.hardened.assignment import load_spec  # noqa: E402
from tests.mixed_class import HAZARDS, SHARES, SLOW_HAZARDS, A, plan  # noqa: E402

BIN = Path(sys.executable).parent
DUE = datetime(2026, 11, 20, 23, 59, tzinfo=UTC)
#: How late the late students are: minutes, a day and hours, days, past the 50 % cap.
LATENESS = (timedelta(minutes=30), timedelta(days=1, hours=3), timedelta(days=4),
            timedelta(days=9))
LATE_SHARE = 0.06  # of the class
EXTENSION_HOURS = 48  # one late student (1 day late) has this extension: on time
SECTIONS = ("L1", "L2", "L3")


@dataclass
class Step:
    """One row of the table: what was run, how long it took, what was checked."""

    command: str
    seconds: float
    check: str = ""
    ok: bool = True


# --- the class ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Student:
    sid: str  # the course's id (submitted/<sid>/)
    github: str
    kind: str  # honest, wrong, hazardous:<name>
    submitted: datetime  # the clone's commit time
    late: bool  # after the deadline and no extension covers it
    extension: bool = False


def class_plan(a: str, n: int, seed: int) -> dict[str, tuple[str, str | None, str]]:
    """student -> (kind, solution cell grade_id or None, source): exercise 1's mixed class
    (``tests/mixed_class.py``), or for another exercise the same shares of honest, wrong
    (its item table's typical mistakes, ``tests/test_checks_chNN.py``) and hazardous
    notebooks (exercise 1's hazards, written into one of its solution functions)."""
    if a == A:
        return plan(n, seed, slow=True)
    import importlib

    items = importlib.import_module(f"tests.test_checks_ch{a[2:4]}").ITEMS
    wrong = [(item.cell_id, w.source) for item in items for w in item.wrong]
    functions = sorted({item.cell_id for item in items})
    hazards = sorted({**HAZARDS, **SLOW_HAZARDS}.items())
    rng = random.Random(seed)
    students = {}
    for i in range(n):
        kind = rng.choices([k for k, _ in SHARES], [w for _, w in SHARES])[0]
        if kind == "honest":
            students[f"s{i:04d}"] = ("honest", None, "")
        elif kind == "wrong":
            students[f"s{i:04d}"] = ("wrong", *rng.choice(wrong))
        else:
            name, source = rng.choice(hazards)
            target = rng.choice(functions)
            students[f"s{i:04d}"] = (f"hazardous:{name}", target,
                                     source.replace("mse(y_hat, y)", f"{target}(*args, **kw)"))
    return students


def github_name(i: int) -> str:
    return f"octo-{random.Random(i).choice(('kat', 'fox', 'owl', 'elk'))}{i:03d}"


def make_class(a: str, n: int, seed: int) -> dict[str, Student]:
    """The class: the kinds of ``tests/mixed_class.plan`` and submission times, a few late."""
    rng = random.Random(seed + 1)
    kinds = class_plan(a, n, seed)
    late = set(rng.sample(sorted(kinds), max(len(LATENESS) + 1, round(LATE_SHARE * n))))
    extended = sorted(late)[0]
    students = {}
    for i, (sid, (kind, _, _)) in enumerate(sorted(kinds.items())):
        if sid == extended:
            when, is_late = DUE + timedelta(days=1), False
        elif sid in late:
            when, is_late = DUE + LATENESS[i % len(LATENESS)], True
        else:
            when, is_late = DUE - timedelta(minutes=rng.randrange(30, 14 * 24 * 60)), False
        students[sid] = Student(sid, github_name(i), kind, when, is_late, sid == extended)
    return students


def notebook_of(course: Path, a: str, sid: str, kinds: dict, answer: str) -> dict:
    """The student's notebook: the plan's solution sources and a written answer."""
    released = T.read(course / "exercises" / a / f"{a}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / a / f"{a}.ipynb"))
    _, cell, source = kinds[sid]
    return T.with_sources(released, {**sol, **({cell: source} if cell else {}),
                                     **dict.fromkeys(written_cells(course, a), answer)})


def written_cells(course: Path, a: str) -> dict[str, float]:
    """grade_id -> points of the answers graded by hand (Markdown solution cells)."""
    spec = load_spec(course / "solutions" / a / f"{a}.ipynb", a)
    return {c.grade_id: c.points for c in spec.cells
            if c.cell_type == "markdown" and c.solution and c.grade}


def git_commit(clone: Path, when: datetime, message: str) -> None:
    """Commit everything in ``clone`` with ``when`` as author and committer time."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%S+00:00")
    env = {"PATH": os.environ["PATH"], "HOME": str(clone.parent), "GIT_CONFIG_NOSYSTEM": "1",
           "GIT_AUTHOR_NAME": "student", "GIT_AUTHOR_EMAIL": "s@example.org",
           "GIT_COMMITTER_NAME": "student", "GIT_COMMITTER_EMAIL": "s@example.org",
           "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}
    for args in (["add", "-A"], ["commit", "-q", "-m", message]):
        subprocess.run(["git", "-C", str(clone), *args], env=env, check=True,
                       capture_output=True)


def make_clones(course: Path, a: str, prefix: str, clones: Path, students: dict[str, Student],
                seed: int) -> None:
    """One ``ex01-<github>`` git repository per student, its notebook at the top."""
    kinds = class_plan(a, len(students), seed)
    for s in students.values():
        clone = clones / f"{prefix}-{s.github}"
        clone.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "-b", "main", str(clone)], check=True,
                       capture_output=True)
        T.write(clone / f"{a}.ipynb", notebook_of(course, a, s.sid, kinds,
                                                  f"Scaling matters because ... ({s.sid})"))
        git_commit(clone, s.submitted, "my solution")


def write_roster(path: Path, students: dict[str, Student]) -> None:
    """One roster.csv for collect (github_username -> student_id) and export (the LMS)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        out = csv.writer(fh)
        out.writerow(["github_username", "student_id", "name", "email", "lms_id", "sis_id",
                      "login", "section"])
        for i, s in enumerate(students.values()):
            out.writerow([s.github, s.sid, f"Student {i:03d}, Test", f"{s.sid}@uni.example",
                          str(20000 + i), f"S-{i:05d}", s.github, SECTIONS[i % 3]])


# --- running and checking -------------------------------------------------------------------
def run(course: Path, *argv: str, timeout: float = 3600) -> tuple[float, subprocess.CompletedProcess]:
    """Run a console script of the venv in the course folder; print it; (seconds, result)."""
    shown = " ".join(shlex.quote(a) for a in argv)
    print(f"$ {shown}", flush=True)
    start = time.perf_counter()
    env = dict(os.environ, PATH=os.pathsep.join([str(BIN), os.environ.get("PATH", "")]),
               VIRTUAL_ENV=str(BIN.parent))  # as with the venv activated (nbgrader runs alembic)
    done = subprocess.run([str(BIN / argv[0]), *argv[1:]], cwd=course, capture_output=True,
                          text=True, timeout=timeout, env=env)
    seconds = time.perf_counter() - start
    tail = (done.stdout + done.stderr).strip().splitlines()[-3:]
    for line in tail:
        print(f"    {line[:150]}")
    print(f"    [{seconds:.1f} s, exit {done.returncode}]", flush=True)
    return seconds, done


def csv_rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def raw_lines_by_student(path: Path, column: str = "student") -> dict[str, list[str]]:
    """The file's raw lines (bytes as text), grouped by the student column."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    reader = csv.reader(lines)  # a quoted cell may span lines: line_num says where a row ends
    index = next(reader).index(column)
    grouped: dict[str, list[str]] = {}
    start = reader.line_num
    for row in reader:
        grouped.setdefault(row[index], []).append("".join(lines[start:reader.line_num]))
        start = reader.line_num
    return grouped


def verdict(problems: list[str], good: str) -> tuple[str, bool]:
    return ("FAIL: " + "; ".join(problems), False) if problems else (good, True)


def check_grade(course: Path, a: str, students: dict[str, Student], n: int) -> tuple[str, bool]:
    """One summary row per student; late (and penalty if there are points) exactly for the late."""
    rows = {r["student"]: r for r in csv_rows(course / "graded" / a / "summary.csv")}
    problems = [] if len(rows) == n and set(rows) == set(students) else \
        [f"{len(rows)} summary rows for {n} students"]
    late = {s for s, r in rows.items() if r["late"]}
    want = {s.sid for s in students.values() if s.late}
    if late != want:
        problems.append(f"late {sorted(late ^ want)[:5]} differ from the plan")
    penalised = {s for s, r in rows.items() if float(r["penalty"] or 0) > 0}
    expected = {s for s in want if float(rows[s]["score"]) > 0}
    if penalised != expected:
        problems.append(f"penalties on {sorted(penalised ^ expected)[:5]} differ")
    pages = len(list((course / "graded" / a / "feedback").glob("*.html")))
    if pages != n:
        problems.append(f"{pages} feedback pages")
    statuses = Counter(r["status"] for r in csv_rows(course / "graded" / a / "grades.csv"))
    return verdict(problems, f"{len(rows)} rows, {len(late)} late, {len(penalised)} "
                             f"penalised, {pages} pages; tests: "
                             + ", ".join(f"{k} {v}" for k, v in sorted(statuses.items())))


def snapshot(course: Path, a: str) -> dict[str, dict[str, list[str]]]:
    graded = course / "graded" / a
    return {name: raw_lines_by_student(graded / name) for name in ("grades.csv", "summary.csv")}


def check_regrade(course: Path, a: str, before: dict, pages_before: dict[str, bytes], sid: str,
                  full: float) -> tuple[str, bool]:
    """The other students' lines and pages byte-identical; the student's score is now full."""
    after = snapshot(course, a)
    problems = []
    for name in before:
        others = {s: v for s, v in before[name].items() if s != sid}
        now = {s: v for s, v in after[name].items() if s != sid}
        if others != now:
            changed = [s for s in others if others[s] != now.get(s)]
            problems.append(f"{name}: {len(changed)} other rows changed ({changed[:3]})")
    feedback = course / "graded" / a / "feedback"
    changed = [s for s, data in pages_before.items()
               if s != sid and (feedback / f"{s}.html").read_bytes() != data]
    if changed:
        problems.append(f"{len(changed)} other feedback pages changed")
    row = {r["student"]: r for r in csv_rows(course / "graded" / a / "summary.csv")}[sid]
    if float(row["score"]) != full:
        problems.append(f"{sid} scored {row['score']} after the fix, not {full:g}")
    others_n = len([s for s in before["summary.csv"] if s != sid])
    return verdict(problems, f"{others_n} other rows and pages byte-identical; "
                             f"{sid} {row['score']}/{full:g}")


def hand_grade(course: Path, a: str, students: dict[str, Student], seed: int) -> int:
    """What formgrader stores when the instructor scores each written answer."""
    from nbgrader.api import Gradebook, MissingEntry

    from course_nn.grading.hardened.gradebook import _alembic_on_path

    _alembic_on_path()
    rng = random.Random(seed + 2)
    given = 0
    cells = written_cells(course, a)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            for sid in students:
                for cell, points in cells.items():
                    try:
                        grade = gb.find_grade(cell, a, a, sid)
                    except MissingEntry:  # an ungradable submission has no grade cells
                        continue
                    grade.manual_score = rng.choice([points, points, points / 2, 0.0])
                    grade.needs_manual_grade = False
                    gb.find_comment(cell, a, a, sid).manual_comment = "Graded by hand."
                    given += 1
            gb.db.commit()
    return given


def check_exports(course: Path, a: str, students: dict[str, Student], n: int) -> tuple[str, bool]:
    """Canvas, Moodle and plain: one row per student; a penalty exactly where late with points."""
    folder = course / "graded" / "export"
    canvas = list(csv.reader((folder / f"canvas-{a}.csv").open(newline="")))
    moodle = list(csv.reader((folder / f"moodle-{a}.csv").open(newline="")))
    plain = csv_rows(folder / f"grades-{a}.csv")
    problems = []
    if len(canvas) - 2 != n or canvas[1][0] != "Points Possible":
        problems.append(f"canvas: {len(canvas) - 2} rows")
    if len(moodle) - 1 != n:
        problems.append(f"moodle: {len(moodle) - 1} rows")
    if len(plain) != n or {r["student_id"] for r in plain} != set(students):
        problems.append(f"plain: {len(plain)} rows")
    penalised = {r["student_id"] for r in plain if float(r["penalty"]) > 0}
    late = {r["student_id"] for r in plain if students[r["student_id"]].late
            and float(r["auto"]) + float(r["hand"]) > 0}
    if penalised != late:
        problems.append(f"penalties on {sorted(penalised ^ late)[:5]} differ")
    bad = [r["student_id"] for r in plain if abs(float(r["total"]) - max(
        0.0, float(r["auto"]) + float(r["hand"]) - float(r["penalty"]))) > 1e-6]
    if bad:
        problems.append(f"total != auto + hand - penalty for {bad[:3]}")
    if any(r["lms_id"] == "" for r in plain):
        problems.append("a student without an LMS id")
    return verdict(problems, f"canvas {len(canvas) - 2}, moodle {len(moodle) - 1}, plain "
                             f"{len(plain)} rows; {len(penalised)} penalised")


# --- the term -------------------------------------------------------------------------------
def term(base: Path, a: str, n: int, jobs: int, timeout: float, seed: int) -> list[Step]:
    steps: list[Step] = []

    def step(command: str, seconds: float, check: tuple[str, bool] | str = "") -> None:
        text, ok = (check, True) if isinstance(check, str) else check
        steps.append(Step(command, seconds, text, ok))

    def ran(done: subprocess.CompletedProcess, then: Callable[[], tuple[str, bool]]):
        if done.returncode != 0:
            return (f"FAIL: exit {done.returncode}: {done.stderr.strip()[-200:]}", False)
        return then()

    course = T.make_course(base / "course", [a])
    prefix = a.split("_")[0]  # the Classroom assignment's repository prefix, e.g. ex01
    step("make release (exercises/ as committed; the course folder copied)", 0.0,
         f"{a} released")
    start = time.perf_counter()
    students = make_class(a, n, seed)
    make_clones(course, a, prefix, base / "clones", students, seed)
    write_roster(course / "roster.csv", students)
    step(f"(setup) {n} Classroom clones {prefix}-<github> with git history, roster.csv",
         time.perf_counter() - start,
         f"{sum(s.late for s in students.values())} late, 1 with an extension")
    clones = str(base / "clones")

    seconds, done = run(course, "course-nn", "collect", a, "--from", clones, "--prefix", prefix,
                        "--roster", "roster.csv")
    submitted = sorted(p.name for p in (course / "submitted").iterdir())
    step(f"course-nn collect {a} --from clones/ --prefix {prefix} --roster roster.csv", seconds,
         ran(done, lambda: verdict([] if submitted == sorted(students) else
                                   [f"{len(submitted)} folders"], f"{len(submitted)} written")))

    due = DUE.strftime("%Y-%m-%d %H:%M:%S UTC")
    seconds, done = run(course, "nbgrader", "db", "assignment", "add", a, f"--duedate={due}")
    step(f'nbgrader db assignment add {a} --duedate="{due}"', seconds,
         ran(done, lambda: ("due date set", True)))
    extended = next(s.sid for s in students.values() if s.extension)
    with (course / "nbgrader_config.py").open("a") as fh:
        fh.write("\nc.LateWork.penalty_method = 'per_day'\nc.LateWork.rate = 0.1\n"
                 f"c.LateWork.cap = 0.5\nc.LateWork.extensions = "
                 f"{{{a!r}: {{{extended!r}: {EXTENSION_HOURS}}}}}\n")
    step("(edit) nbgrader_config.py: LateWork per_day 10 %, cap 50 %, one 48 h extension", 0.0)

    grade = ("--jobs", str(jobs), "--timeout", f"{timeout:g}", "--quiet")
    seconds, done = run(course, "course-nn", "grade", a, *grade)
    step(f"course-nn grade {a} {' '.join(grade)}", seconds,
         ran(done, lambda: check_grade(course, a, students, n)))

    # 5. one student with a wrong answer pushes the fix before the deadline
    rows = {r["student"]: r for r in csv_rows(course / "graded" / a / "summary.csv")}
    spec = load_spec(course / "solutions" / a / f"{a}.ipynb", a)
    fixer = next(s for s in students.values() if s.kind == "wrong" and not s.late
                 and rows[s.sid]["late"] == "")
    clone = base / "clones" / f"{prefix}-{fixer.github}"
    honest = dict.fromkeys(students, ("honest", None, ""))
    T.write(clone / f"{a}.ipynb", notebook_of(course, a, fixer.sid, honest,
                                              f"Scaling matters because ... ({fixer.sid})"))
    git_commit(clone, min(fixer.submitted + timedelta(hours=6), DUE - timedelta(minutes=1)),
               "fix")
    before = snapshot(course, a)
    feedback = course / "graded" / a / "feedback"
    pages = {p.stem: p.read_bytes() for p in feedback.glob("*.html")}
    seconds, done = run(course, "course-nn", "collect", a, "--from", clones, "--prefix", prefix,
                        "--roster", "roster.csv")
    outcomes = [line.split("\t")[:2] for line in done.stdout.splitlines()]
    replaced = sorted(sid for sid, outcome in outcomes if outcome == "replaced")
    unchanged = sum(outcome == "unchanged" for _, outcome in outcomes)
    step(f"course-nn collect {a} --from clones/ --prefix {prefix} --roster roster.csv "
         f"(again: {fixer.sid} pushed a fix)", seconds,
         ran(done, lambda: verdict(
             [] if replaced == [fixer.sid] and unchanged == n - 1
             else [f"replaced {replaced[:3]}, {unchanged} unchanged"],
             f"{fixer.sid} replaced, {unchanged} unchanged")))
    seconds, done = run(course, "course-nn", "grade", a, "--student", fixer.sid, *grade)
    step(f"course-nn grade {a} --student {fixer.sid} {' '.join(grade)}", seconds,
         ran(done, lambda: check_regrade(course, a, before, pages, fixer.sid, spec.max_score)))

    # 6. hand grading in formgrader, simulated as its gradebook writes
    start = time.perf_counter()
    given = hand_grade(course, a, students, seed)
    step("(formgrader) hand grades written to gradebook.db", time.perf_counter() - start,
         f"{given} written answers graded")

    # 7. feedback, report, export
    seconds, done = run(course, "course-nn", "feedback", a)
    step(f"course-nn feedback {a}", seconds, ran(done, lambda: verdict(
        [] if len(list(feedback.glob("*.html"))) == n else ["pages missing"],
        f"{len(list(feedback.glob('*.html')))} pages with hand grades")))
    seconds, done = run(course, "course-nn", "report", a)
    report = course / "graded" / a / "report.html"
    step(f"course-nn report {a}", seconds, ran(done, lambda: verdict(
        [] if report.is_file() else ["no report.html"],
        f"report.html {report.stat().st_size / 1e6:.1f} MB" if report.is_file() else "")))
    seconds, done = run(course, "course-nn", "export", a, "--roster", "roster.csv")
    step(f"course-nn export {a} --roster roster.csv", seconds,
         ran(done, lambda: check_exports(course, a, students, n)))
    return steps


def table(steps: list[Step]) -> str:
    width = max(len(s.command) for s in steps)
    lines = [f"{'command':<{width}}  {'wall s':>7}  check", "-" * (width + 40)]
    lines += [f"{s.command:<{width}}  {s.seconds:7.1f}  {s.check}" for s in steps]
    total = sum(s.seconds for s in steps)
    lines.append(f"{'total':<{width}}  {total:7.1f}")
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default=A, help=f"a released exercise [{A}]")
    parser.add_argument("--n", type=int, default=200, help="students [200]")
    parser.add_argument("--jobs", type=int, default=2, help="submissions graded at once [2]")
    parser.add_argument("--timeout", type=float, default=10, help="seconds per test [10]")
    parser.add_argument("--seed", type=int, default=12, help="the class's plan [12]")
    parser.add_argument("--keep", action="store_true", help="keep the course folder")
    args = parser.parse_args()
    base = Path(tempfile.mkdtemp(prefix="course-nn-term-"))
    try:
        steps = term(base, args.assignment, args.n, args.jobs, args.timeout, args.seed)
        print()
        print(table(steps))
        return 0 if all(s.ok for s in steps) else 1
    finally:
        if args.keep:
            print(f"kept {base}")
        else:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
