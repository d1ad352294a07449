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
#: What the bundle holds, each copied under its own name except :data:`SHIPPED_AS`'s. The
#: repository's README.md (the maintainers': ``make book``, ``make test``) is not among them:
#: the bundle has its own, :data:`STUDENT_README`.
INCLUDE = ("LICENSE", ".gitignore", "requirements-student.txt", "requirements-lock.txt",
           "pyproject.toml", "nbgrader_config.py", "_config.yml", "_toc.yml", "book",
           "course_nn", "exercises", ".github/workflows/autograde.yml")
#: Files shipped under another name: the student's requirements are the bundle's requirements.txt.
SHIPPED_AS = {"requirements-student.txt": "requirements.txt"}
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info",
                              "_build", ".jupyter_cache", "gradebook.db", ".DS_Store")
MARKERS = ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS")
FORBIDDEN_NAMES = ("solutions", "gradebook.db", "submitted", "autograded", "feedback", "graded")
#: The open bundle's README. Every command in its ``bash`` blocks runs, as written, in the
#: bundle (tests/test_bundle_readme.py); docs/releases.md, "The bundles' READMEs".
STUDENT_README = """# course-nn: neural networks from scratch (your copy)

This folder is the open course: the book's chapters (`book/`), the exercises
(`exercises/`), and the `course_nn` package, with its reference implementations and the
checks that give you feedback as you work. Once installed, everything works offline.

## Install

You need Python 3.11 or newer. Create a virtual environment in this folder
(`python -m venv .venv`, then `source .venv/bin/activate`; on Windows
`.venv\\Scripts\\activate`) and, from this folder, run:

```bash
python -m pip install -r requirements.txt
python -m pip install --no-deps --no-build-isolation -e .
python -c "import course_nn; print('course_nn from', course_nn.__file__)"
jupyter lab --version
```

The first line installs the pinned stack. `requirements.txt` asks for PyTorch's CPU
build (`torch==2.13.0+cpu`) and names PyTorch's CPU index, which serves it; a GPU build
does not satisfy it. The second installs this folder's `course_nn` and the `course-nn`
command, in place: `-e` means an edit here takes effect without reinstalling. The last
two say where `course_nn` was found (this folder) and which JupyterLab you have.

## Read the book and do the exercises

```bash
jupyter lab
```

JupyterLab opens in your browser, in this folder. The book is `book/`: start with
`book/intro.md`, then the chapters `book/ch01_linear_regression.ipynb` to
`book/ch08_workflow.ipynb`; run their cells to see every figure and number. Each
chapter has an exercise: `exercises/<name>/<name>.ipynb`. In an exercise, replace each
`raise NotImplementedError()` with your code and run the test cell under it: its
`check(...)` runs the public cases at once and, when something is wrong, says what
looks wrong without giving the answer. Written answers go in the Markdown cells that
ask for them.

## Check your work

```bash
course-nn check exercises/ex01_linear_regression/ex01_linear_regression.ipynb
```

runs a whole notebook's public checks as the grader does, in a fresh process, and
prints one line per test and your points. It exits with 0 when every public check
passes and 1 while one does not (an untouched exercise scores 0). Use any exercise's
path. Grading adds hidden checks on random inputs, so make your functions general,
not only right on the printed cases.

## Submit

Hand in your `exercises/<name>/<name>.ipynb` files the way your instructor says. If
your course grades through GitHub, push this folder to your repository: the workflow
`.github/workflows/autograde.yml` grades every exercise on each push and puts your
score in the run's summary and the feedback pages in its artifact.
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
            copy_path(root / name, dest / SHIPPED_AS.get(name, name))
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
