"""The ``course-nn`` command: ``grade`` (instructors, CI) and ``check`` (students).

Book: none (tooling); docs/grading.md; ``report`` and ``feedback``: docs/instructor.md.

Both delegate to :mod:`course_nn.grading.hardened`. Exit codes: ``grade`` returns 0
whenever the batch ran, whatever the students scored, and 1 with a message when
grading itself cannot run; ``check`` returns 0 when every public check passes, 1 when
one does not, 2 when the notebook cannot be checked.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from course_nn.grading.hardened.sandbox import ISOLATIONS, Limits


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(part) for part in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected k/N such as 1/4, got {text!r}") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"need 1 <= k <= N, got {text!r}")
    return k, n


def _positive(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be positive, got {text!r}")
    return value


def _limit_options(parser: argparse.ArgumentParser, timeout: float) -> None:
    parser.add_argument("--timeout", type=_positive, default=timeout,
                        help=f"seconds per test (and per cell) before it is killed [{timeout:g}]")
    parser.add_argument("--memory-mb", type=int, default=2048,
                        help="address-space limit of the student's process [2048]")
    parser.add_argument("--isolation", choices=ISOLATIONS, default="auto",
                        help="auto: bubblewrap and Landlock when available [auto]")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="course-nn", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    grade = commands.add_parser("grade", help="grade submitted/<student>/<assignment>/ (hardened)")
    grade.add_argument("assignment")
    grade.add_argument("--course", type=Path, default=Path("."), help="course folder [.]")
    grade.add_argument("--submitted", type=Path, help="submissions [COURSE/submitted]")
    grade.add_argument("--out", type=Path, help="grades.csv, summary.csv, feedback/ "
                                                "[COURSE/graded/ASSIGNMENT]")
    grade.add_argument("--source", type=Path,
                       help="instructor notebook [COURSE/<source_directory>/A/A.ipynb]")
    grade.add_argument("--jobs", type=int, help="submissions graded at once [all cores]")
    grade.add_argument("--shard", type=_shard, default=(1, 1), metavar="k/N",
                       help="grade only the k-th of N shares of the students and write a "
                            "shard folder for `merge` (no gradebook)")
    grade.add_argument("--seed", type=int,
                       help="one seed for every student's hidden cases: reproducible runs and "
                            "shards, references computed once [a fresh seed per submission]")
    grade.add_argument("--student", nargs="+", metavar="ID", dest="only",
                       help="grade again only these students (ids as in summary.csv: the "
                            "folder names in submitted/); everyone else's rows, pages, "
                            "notebooks and gradebook rows stay as they are")
    grade.add_argument("--regrade", action="store_true",
                       help="grade every student again, also those whose submission is "
                            "unchanged since their stored result (default: they are kept)")
    grade.add_argument("--no-gradebook", action="store_true",
                       help="do not write the scores to nbgrader's gradebook")
    grade.add_argument("--quiet", action="store_true", help="no progress bar")
    grade.add_argument("--unsafe", action="store_true",
                       help="grade even where the student's code cannot be limited as a whole "
                            "process tree (cgroups), on disk (tmpfs) and as a non-root user")
    _limit_options(grade, 30)
    report = commands.add_parser("report", help="the class report of a graded assignment "
                                                "(GRADED/report.html)")
    feedback = commands.add_parser("feedback", help="rewrite the feedback pages with the hand "
                                                    "grades from the gradebook (no code run)")
    for sub in (report, feedback):
        sub.add_argument("assignment")
        sub.add_argument("--course", type=Path, default=Path("."), help="course folder [.]")
        sub.add_argument("--out", type=Path, help="where `grade` wrote grades.csv, summary.csv "
                                                  "and feedback/ [COURSE/graded/ASSIGNMENT]")
    report.add_argument("--submitted", type=Path, help="submissions, for similarity "
                                                       "[COURSE/submitted]")
    feedback.add_argument("--source", type=Path,
                          help="instructor notebook [COURSE/<source_directory>/A/A.ipynb]")
    check = commands.add_parser("check", help="run a notebook's public checks, as the grader does")
    check.add_argument("notebook", type=Path)
    _limit_options(check, 30)
    merge = commands.add_parser("merge", help="combine the shard folders of `grade --shard k/N` "
                                              "into the class's outputs and gradebook")
    merge.add_argument("assignment")
    merge.add_argument("shards", type=Path, nargs="+", metavar="SHARD_DIR")
    merge.add_argument("--course", type=Path, default=Path("."), help="course folder [.]")
    merge.add_argument("--out", type=Path, help="grades.csv, summary.csv, feedback/ "
                                                "[COURSE/graded/ASSIGNMENT]")
    merge.add_argument("--source", type=Path,
                       help="instructor notebook [COURSE/<source_directory>/A/A.ipynb]")
    merge.add_argument("--no-gradebook", action="store_true",
                       help="do not write the scores to nbgrader's gradebook")
    _collect_parser(commands)
    _export_parser(commands)
    return parser


def _canvas_id(text: str) -> tuple[str, str]:
    assignment, _, canvas = text.partition("=")
    if not assignment or not canvas.strip().isdigit():
        raise argparse.ArgumentTypeError(f"expected ASSIGNMENT=CANVAS_ID such as "
                                         f"ex01_linear_regression=12345, got {text!r}")
    return assignment, canvas.strip()


def _export_parser(commands) -> None:
    """``export``: grades to Canvas, Moodle and plain CSV (docs/instructor.md)."""
    export = commands.add_parser(
        "export", help="write the gradebook's grades, less late penalties, as Canvas, Moodle "
                       "and plain CSV files in COURSE/graded/export/")
    export.add_argument("assignment", nargs="?", help="the assignment (or --all)")
    export.add_argument("--all", action="store_true", help="every assignment of the gradebook")
    export.add_argument("--course", type=Path, default=Path("."), help="course folder [.]")
    export.add_argument("--roster", type=Path, metavar="CSV",
                        help="id mapping: student_id and any of lms_id, sis_id, login, name, "
                             "email, section [COURSE/roster.csv if it exists]")
    export.add_argument("--out", type=Path, help="folder of the files [COURSE/graded/export]")
    export.add_argument("--canvas-id", type=_canvas_id, action="append", default=[],
                        metavar="A=ID", help="the Canvas assignment id of assignment A (its "
                                             "column then updates that Canvas assignment)")


def _collect_parser(commands) -> None:
    """``collect``: GitHub Classroom clones -> submitted/<student>/<a>/ (docs/for_credit.md)."""
    collect = commands.add_parser(
        "collect", help="copy each student's notebook out of a folder of GitHub Classroom "
                        "clones into submitted/<student>/<assignment>/ with a timestamp.txt")
    collect.add_argument("assignment")
    collect.add_argument("--from", dest="source", type=Path, required=True, metavar="DIR",
                         help="the folder of clones, one per student, named "
                              "<prefix>-<github-username> (as `gh classroom clone "
                              "student-repos` makes them)")
    collect.add_argument("--to", type=Path, default=Path("submitted"),
                         help="nbgrader's submitted folder [submitted]")
    collect.add_argument("--prefix", help="the assignment's repository prefix in GitHub "
                                          "Classroom [the start all clone names share]")
    collect.add_argument("--roster", type=Path, metavar="CSV",
                         help="map GitHub usernames to student ids (columns github_username "
                              "and identifier, as Classroom's roster export, or student_id)")


def _limits(args: argparse.Namespace) -> Limits:
    return Limits(timeout=args.timeout, memory_mb=args.memory_mb)


def grade(args: argparse.Namespace) -> int:
    from course_nn.grading.hardened import GradingError, grade_assignment

    try:
        report = grade_assignment(
            args.assignment, course=args.course, submitted=args.submitted, out=args.out,
            source=args.source, jobs=args.jobs, limits=_limits(args), shard_of=args.shard,
            isolation=args.isolation, gradebook=not args.no_gradebook, progress=not args.quiet,
            unsafe=args.unsafe, seed=args.seed, only=args.only, regrade=args.regrade)
    except GradingError as err:
        print(f"course-nn grade: error: {err}", file=sys.stderr)
        return 1
    n = len(report.graded)
    each = report.seconds / n if n else 0.0
    print(f"graded {n} submission(s) of {args.assignment} in {report.seconds:.1f} s "
          f"({each:.2f} s each; sandbox: {report.sandbox}); {len(report.results)} student(s) "
          "in the outputs", file=sys.stderr)
    for note in report.notes:
        print(note, file=sys.stderr)
    print(f"grades: {report.out / 'grades.csv'}\nsummary: {report.out / 'summary.csv'}\n"
          f"feedback: {report.out / 'feedback'}/")
    return 0


def class_report(args: argparse.Namespace) -> int:
    from course_nn.grading.hardened.course import Course
    from course_nn.grading.report import build_report, solution_code, write_report

    info = Course.load(args.course)
    out = args.out or info.root / "graded" / args.assignment
    if not (out / "grades.csv").is_file() or not (out / "summary.csv").is_file():
        print(f"course-nn report: error: no grades.csv and summary.csv in {out} "
              f"(run `course-nn grade {args.assignment}` first)", file=sys.stderr)
        return 1
    released = info.root / info.release / args.assignment / f"{args.assignment}.ipynb"
    baseline = solution_code(released) if released.is_file() else ""
    report = build_report(args.assignment, out, args.submitted or info.root / "submitted",
                          baseline)
    print(write_report(report, out))
    return 0


def feedback(args: argparse.Namespace) -> int:
    from course_nn.grading.hardened import GradingError
    from course_nn.grading.hardened.assignment import SpecError, load_spec
    from course_nn.grading.hardened.course import Course
    from course_nn.grading.hardened.feedback import regenerate

    info = Course.load(args.course)
    out = args.out or info.root / "graded" / args.assignment
    source = args.source or info.notebook(args.assignment)
    try:
        if source is None or not (out / "summary.csv").is_file():
            raise GradingError(f"need the instructor notebook of {args.assignment} and "
                               f"{out / 'summary.csv'} (run `course-nn grade` first)")
        spec = load_spec(Path(source), args.assignment)
    except (GradingError, SpecError) as err:
        print(f"course-nn feedback: error: {err}", file=sys.stderr)
        return 1
    pages = regenerate(spec, out, info.db_url, info.deadlines)
    print(f"{len(pages)} feedback page(s) rewritten in {out / 'feedback'}/")
    return 0


def check(args: argparse.Namespace) -> int:
    from course_nn.grading.hardened import GradingError, check_notebook
    from course_nn.grading.hardened.grade import passed

    try:
        result = check_notebook(args.notebook, _limits(args), args.isolation)
    except GradingError as err:
        print(f"course-nn check: error: {err}", file=sys.stderr)
        return 2
    for test in result.tests:
        mark = "\u2713" if test.status in ("passed", "flagged") else "\u2717"
        print(f"{mark} {test.test}: {test.status} ({test.points:g} / {test.max_points:g})")
        if test.status != "passed":
            print("    " + test.message.replace("\n", "\n    "))
    for flag in result.flags:
        print(f"note: {flag}")
    ok = passed(result)
    print(f"public checks: {result.score:g} / {result.max_score:g} points"
          + ("" if ok else "; not all checks pass yet"))
    return 0 if ok else 1


def merge(args: argparse.Namespace) -> int:
    from course_nn.grading.hardened import GradingError
    from course_nn.grading.hardened.merge import ShardError, merge_assignment

    try:
        report = merge_assignment(args.assignment, args.shards, course=args.course, out=args.out,
                                  source=args.source, gradebook=not args.no_gradebook)
    except (GradingError, ShardError) as err:
        print(f"course-nn merge: error: {err} (nothing was written)", file=sys.stderr)
        return 1
    print(f"merged {len(args.shards)} shard(s): {len(report.results)} submission(s) of "
          f"{args.assignment}", file=sys.stderr)
    for note in report.notes:
        print(note, file=sys.stderr)
    print(f"grades: {report.out / 'grades.csv'}\nsummary: {report.out / 'summary.csv'}\n"
          f"feedback: {report.out / 'feedback'}/")
    return 0


def collect(args: argparse.Namespace) -> int:
    """Exit 0 when the folder was collected (whatever individual clones held), 1 when
    collecting cannot start."""
    from course_nn.grading.hardened.collect import CollectError, read_roster
    from course_nn.grading.hardened.collect import collect as collect_clones

    try:
        roster = read_roster(args.roster) if args.roster else None
        report = collect_clones(args.assignment, args.source, args.to, prefix=args.prefix,
                                roster=roster)
    except CollectError as err:
        print(f"course-nn collect: error: {err}", file=sys.stderr)
        return 1
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    if report.missing:
        print("roster students without a clone: " + ", ".join(report.missing), file=sys.stderr)
    for row in report.collected:
        print(f"{row.student}\t{row.outcome}\t{row.timestamp:%Y-%m-%d %H:%M:%S} UTC")
    print(report.summary(), file=sys.stderr)
    return 0


def export(args: argparse.Namespace) -> int:
    """Exit 0 when the files are written (students that could not be mapped are listed
    on stderr), 1 when the export cannot run."""
    from course_nn.grading.hardened.course import Course
    from course_nn.grading.hardened.deadlines import DeadlineError
    from course_nn.grading.hardened.lms import ExportError, export_grades

    if bool(args.assignment) == bool(args.all):
        print("course-nn export: error: name one assignment or --all", file=sys.stderr)
        return 1
    try:
        info = Course.load(args.course)
        done = export_grades(info, None if args.all else [args.assignment], args.roster,
                             args.out, dict(args.canvas_id))
    except (ExportError, DeadlineError) as err:
        print(f"course-nn export: error: {err} (nothing was written)", file=sys.stderr)
        return 1
    if done.unmapped:
        print(f"not in the roster, exported with blank LMS fields ({len(done.unmapped)}): "
              + ", ".join(done.unmapped), file=sys.stderr)
    if done.unknown:
        print(f"in the roster but not in the gradebook, exported with no grade "
              f"({len(done.unknown)}): " + ", ".join(done.unknown), file=sys.stderr)
    for path in done.paths:
        print(path)
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return {"grade": grade, "check": check, "merge": merge, "report": class_report,
            "feedback": feedback, "collect": collect, "export": export}[args.command](args)


if __name__ == "__main__":
    raise SystemExit(main())
