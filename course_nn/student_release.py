"""Write the student bundle (``make student-release``): everything a student needs, nothing more.

Book: none (instructor tooling); DESIGN.md, "Exercises: one source of truth per check";
docs/releases.md, "Open or for credit".

Two modes. ``open`` (this module, the default) is the open course as a bundle: book
sources and the whole ``course_nn`` with its reference implementations, for
self-learners. ``for-credit`` (``--mode for-credit``, ``make student-release
MODE=for-credit``) holds no answer code: see :mod:`course_nn.release_credit.bundle`.

The bundle holds the book sources, the ``course_nn`` package (with its checks, so
``check(...)`` and ``course-nn check`` work offline), the released ``exercises/``,
the README, the requirements and the autograding workflow for a student's
repository. It never holds ``solutions/``, a gradebook, submissions, or any hidden
test or solution text: :func:`find_leaks` checks the written bundle against every
instructor notebook and the build fails if anything leaked.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
INCLUDE = ("README.md", "LICENSE", ".gitignore", "requirements.txt", "requirements-lock.txt",
           "pyproject.toml", "nbgrader_config.py", "_config.yml", "_toc.yml", "book",
           "course_nn", "exercises", ".github/workflows/autograde.yml")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info",
                              "_build", ".jupyter_cache", "gradebook.db", ".DS_Store")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
FORBIDDEN_NAMES = ("solutions", "gradebook.db", "submitted", "autograded", "feedback", "graded")
STUDENT_README = """# course-nn: neural networks, for students

* Read the book: `jupyter-book build .` then open `_build/html/index.html`.
* Install: `python -m pip install -r requirements.txt && python -m pip install -e .`
* Work on `exercises/<name>/<name>.ipynb`: replace each `raise NotImplementedError()`,
  run the test cell under each function for instant feedback.
* Check a whole notebook as the grader will: `course-nn check exercises/<name>/<name>.ipynb`
  (exit code 0 when every public check passes). Grading adds hidden checks on random inputs.
"""


def copy_path(src: Path, dest: Path, ignore=SKIP) -> None:
    """Copy a file or a folder (without what ``ignore`` names) to ``dest``, making its parent."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    if src.is_dir():
        shutil.copytree(src, dest, ignore=ignore)
    else:
        shutil.copy2(src, dest)


def _instructor_texts(root: Path) -> tuple[list[str], list[str]]:
    """(solution blocks, hidden test blocks) of every instructor notebook, as text."""
    solutions, hidden = [], []
    for notebook in sorted((root / "solutions").glob("*/*.ipynb")):
        for cell in json.loads(notebook.read_text(encoding="utf-8"))["cells"]:
            source = "".join(cell.get("source", []))
            meta = cell.get("metadata", {}).get("nbgrader", {})
            solutions += re.findall(r"### BEGIN SOLUTION\n(.*?)\n\s*### END SOLUTION", source, re.S)
            hidden += re.findall(r"### BEGIN HIDDEN TESTS\n(.*?)\n\s*### END HIDDEN TESTS", source, re.S)
            if cell.get("cell_type") == "markdown" and meta.get("solution"):
                solutions.append(source.strip())
    return [s.strip() for s in solutions if s.strip()], [h.strip() for h in hidden if h.strip()]


def _squash(text: str) -> str:
    """Whitespace-insensitive form (JSON escapes and indentation must not hide a leak)."""
    return re.sub(r"\s+", "", text)


def find_leaks(bundle: Path, root: Path = ROOT) -> list[str]:
    """Everything in ``bundle`` that a student must not get; empty when the bundle is clean.

    ``course_nn/`` is the reference package, shipped by design: solution code is looked
    for everywhere else (notebooks, book, README); hidden tests everywhere; nbgrader's
    markers in every notebook (documentation may name them).
    """
    leaks = [f"{p.relative_to(bundle)} must not be in the bundle" for p in bundle.rglob("*")
             if p.name in FORBIDDEN_NAMES]
    solutions, hidden = _instructor_texts(root)
    for path in sorted(p for p in bundle.rglob("*") if p.is_file()):
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        name = path.relative_to(bundle)
        flat = _squash(_notebook_text(text) if path.suffix == ".ipynb" else text)
        in_package = name.parts[0] == "course_nn"
        leaks += [f"{name}: nbgrader marker {m!r}" for m in MARKERS
                  if path.suffix == ".ipynb" and f"### {m}" in text]
        leaks += [f"{name}: hidden test text {h[:40]!r}" for h in hidden if _squash(h) in flat]
        if not in_package:
            leaks += [f"{name}: solution text {s[:40]!r}" for s in solutions if _squash(s) in flat]
    return leaks


def _notebook_text(text: str) -> str:
    """All cell sources (and outputs) of a notebook as plain text."""
    try:
        nb = json.loads(text)
    except ValueError:
        return text
    parts = []
    for cell in nb.get("cells", []):
        parts.append("".join(cell.get("source", [])))
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", [])))
    return "\n".join(parts)


def build(dest: Path = ROOT / "dist" / "student", root: Path = ROOT, archive: bool = False) -> Path:
    """Write the bundle to ``dest`` (replacing it); raise ``RuntimeError`` on any leak."""
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in INCLUDE:
        if (root / name).exists():
            copy_path(root / name, dest / name)
    if not (dest / "README.md").exists():
        (dest / "README.md").write_text(STUDENT_README, encoding="utf-8")
    leaks = find_leaks(dest, root)
    if leaks:
        shutil.rmtree(dest)
        raise RuntimeError("the student bundle would leak:\n  " + "\n  ".join(leaks))
    if archive:
        shutil.make_archive(str(dest), "zip", dest)
    return dest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=("open", "for-credit"), default="open",
                        help="open: the open course; for-credit: no answer code [open]")
    parser.add_argument("--dest", type=Path,
                        help="[dist/student, or dist/student-for-credit with --mode for-credit]")
    parser.add_argument("--zip", action="store_true", help="also write DEST.zip")
    args = parser.parse_args(argv)
    if args.mode == "for-credit":
        from course_nn.release_credit.bundle import DEFAULT_DEST, BuildError
        from course_nn.release_credit.bundle import build as build_for_credit

        try:
            bundle = build_for_credit(args.dest or DEFAULT_DEST, archive=args.zip)
        except BuildError as err:
            print(f"student-release: error: {err}", file=sys.stderr)
            return 1
        what = "no answer code, no solutions, gradebook or hidden cases"
    else:
        bundle = build(args.dest or ROOT / "dist" / "student", archive=args.zip)
        what = "no solutions, gradebook or hidden tests"
    files = [p for p in bundle.rglob("*") if p.is_file()]
    size = sum(p.stat().st_size for p in files) / 2**20
    print(f"student bundle ({args.mode}): {bundle} ({len(files)} files, {size:.1f} MiB; {what})")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
