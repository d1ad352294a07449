"""Write the for-credit student bundle (``make student-release MODE=for-credit``).

Book: none (instructor tooling; not in the bundle). Design: docs/releases.md.

The steps, in order (each a small function below):

1. check that the book was built (``_build/html`` and the executed chapters);
2. copy what a student needs: exercises, requirements, the autograding workflow set
   to for-credit mode, and ``course_nn`` without the instructor's release tooling;
3. stub every graded function in the bundle's ``course_nn``, and every answer under
   another name (:data:`.graded.ANSWERS_UNDER_OTHER_NAMES`) (:mod:`.stubs`);
4. replace every check module with one that loads stored data (:mod:`.record`,
   :mod:`.stored`);
5. add the book as built HTML plus the chapter notebooks with the outputs of their last
   execution (from the book's execution cache), any displayed source of an answer
   redacted; a chapter notebook that calls stubbed functions opens with a note naming
   them, and the README lists those chapters;
6. refuse the bundle (delete it, raise) if the text leak test of the open release or
   the semantic and data leak tests (:mod:`.leaks`) find anything, or if its
   ``course_nn`` does not import with every check of the course (a smoke test).
"""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from course_nn.grading import REGISTRY
from course_nn.release_credit import leaks as L
from course_nn.release_credit.graded import (
    GRADED_ON_SUBMISSION,
    GradedFunction,
    check_module,
    functions_to_stub,
    released_checks,
)
from course_nn.release_credit.record import Packer, outputs_are_numbers, record_check
from course_nn.release_credit.stubs import check_module_source, code_hints, stub_source

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DEST = ROOT / "dist" / "student-for-credit"
#: What is copied, each under its own name: requirements-student.txt is what the README
#: installs (no test tools); requirements.txt stays only because autograde.yml reads its
#: torch pin (course/requirements.txt) until the copy ships the student's file under that name.
INCLUDE = ("requirements-student.txt", "requirements.txt", "requirements-lock.txt",
           "pyproject.toml", "nbgrader_config.py", "LICENSE", ".gitignore", "exercises",
           ".github/workflows/autograde.yml")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info",
                              ".DS_Store", "gradebook.db")
#: Instructor tooling that stays out of the bundle's course_nn (paths inside the package).
INSTRUCTOR_ONLY = ("student_release.py", "release_credit/graded.py", "release_credit/record.py",
                   "release_credit/stubs.py", "release_credit/leaks.py",
                   "release_credit/bundle.py", "release_credit/behaviour.py")
REDACTED = ("# The source of {what} is not in the for-credit release:\n"
            "# it answers an exercise.")
PACKAGE_DATA = ('\n[tool.setuptools.package-data]\n'
                '"course_nn.grading.checks" = ["*.json", "*.npz"]\n')
#: The for-credit bundle's README (the chapters it cannot re-run are appended). Every
#: command in its ``bash`` blocks runs, as written, in the bundle
#: (tests/test_bundle_readme.py); docs/releases.md, "The bundles' READMEs".
README = """# course-nn for credit: your copy of the course

This is the for-credit release of the course: the book, the exercises, and the
`course_nn` package with the checks that give you feedback as you work, but no answer
code. Graded functions are yours to write; calling `course_nn`'s copy of one says which
exercise asks for it. Once installed, everything works offline.

## Install

You need Python 3.11 or newer. Create a virtual environment in this folder
(`python -m venv .venv`, then `source .venv/bin/activate`; on Windows
`.venv\\Scripts\\activate`) and, from this folder, run:

```bash
python -m pip install -r requirements-student.txt
python -m pip install --no-deps --no-build-isolation -e .
python -c "import course_nn; print('course_nn from', course_nn.__file__)"
jupyter lab --version
```

The first line installs the pinned stack. `requirements-student.txt` asks for PyTorch's
CPU build (`torch==2.13.0+cpu`) and names PyTorch's CPU index, which serves it; a GPU
build does not satisfy it. The second installs this folder's `course_nn` and the
`course-nn` command, in place. The last two say where `course_nn` was found (this
folder) and which JupyterLab you have.

## Read the book

Open `book/html/index.html` in your browser. The chapter notebooks, with the outputs
of the course's own run, are in `book/notebooks/`: they are for reading, since some
call course functions this release leaves out (listed at the end).

## Do the exercises

```bash
jupyter lab
```

JupyterLab opens in your browser, in this folder. Open
`exercises/<name>/<name>.ipynb`, replace each `raise NotImplementedError()` with your
code and run the test cell under it: its `check(...)` runs the public cases at once
and, when something is wrong, says what looks wrong without giving the answer.
Written answers go in the Markdown cells that ask for them.

## Check your work

```bash
course-nn check exercises/ex01_linear_regression/ex01_linear_regression.ipynb
```

runs a whole notebook's public checks as the grader does, in a fresh process, and
prints one line per test and your points. It exits with 0 when every public check
passes and 1 while one does not (an untouched exercise scores 0). Use any exercise's
path. Feedback here uses the public cases only; final grades also run hidden checks
on random inputs, drawn by your instructor's grader, so make your functions general.

## Submit

Hand in your `exercises/<name>/<name>.ipynb` files the way your instructor says. If
your course grades through GitHub, push this folder to your repository: the workflow
`.github/workflows/autograde.yml` runs the public checks on each push and puts your
score in the run's summary.
"""


class BuildError(RuntimeError):
    """The for-credit bundle cannot be built (or would leak)."""


# --- 1. the built book --------------------------------------------------------------------
def built_book(root: Path) -> tuple[Path, dict[str, dict[str, Any]]]:
    """``_build/html`` and every chapter notebook with the outputs of its last execution.

    The outputs come from the book's execution cache (``_build/.jupyter_cache``; myst-nb
    writes ``_build/jupyter_execute`` without them on a cache hit), matched on the
    chapter's current code: a chapter edited since the last ``make book`` has none.
    """
    html, cache_dir = root / "_build" / "html", root / "_build" / ".jupyter_cache"
    if not (html / "index.html").is_file() or not cache_dir.is_dir():
        raise BuildError("the for-credit bundle ships the built book: run "
                         "`flock /tmp/course-nn-build.lock make book` first")
    from jupyter_cache import get_cache

    cache, executed, stale = get_cache(str(cache_dir)), {}, []
    for chapter in sorted((root / "book").glob("*.ipynb")):
        try:
            _, nb = cache.merge_match_into_file(str(chapter))
        except KeyError:
            stale.append(chapter.name)
            continue
        executed[chapter.name] = json.loads(json.dumps(nb))
    if stale:
        raise BuildError(f"no executed version of {', '.join(stale)} with its current code in "
                         "_build: run `flock /tmp/course-nn-build.lock make book` first")
    return html, executed


# --- 2. copy -------------------------------------------------------------------------------
def _copy(src: Path, dest: Path) -> None:
    from course_nn.student_release import copy_path

    copy_path(src, dest, ignore=SKIP)


def copy_student_files(root: Path, dest: Path) -> None:
    for name in INCLUDE:
        if (root / name).exists():
            _copy(root / name, dest / name)
    (dest / "README.md").write_text(README, encoding="utf-8")
    pyproject = dest / "pyproject.toml"
    pyproject.write_text(pyproject.read_text(encoding="utf-8") + PACKAGE_DATA, encoding="utf-8")
    workflow = dest / ".github/workflows/autograde.yml"
    if workflow.exists():
        text = workflow.read_text(encoding="utf-8")
        workflow.write_text(text.replace("vars.COURSE_MODE || 'open'",
                                         "vars.COURSE_MODE || 'for-credit'"), encoding="utf-8")
    _copy(root / "course_nn", dest / "course_nn")
    for name in INSTRUCTOR_ONLY:
        (dest / "course_nn" / name).unlink(missing_ok=True)


# --- 3. stubs ------------------------------------------------------------------------------
def _imported_names(package: Path) -> set[str]:
    """Names some module imports from a ``course_nn`` module (they must stay defined)."""
    names = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_nn"):
                names |= {alias.name for alias in node.names}
    return names


def _stub(dest: Path, graded: list[GradedFunction]) -> None:
    by_module: dict[str, list[GradedFunction]] = defaultdict(list)
    for g in graded:
        by_module[g.module].append(g)
    imported = _imported_names(dest / "course_nn")
    for module, functions in by_module.items():
        path = dest / (module.replace(".", "/") + ".py")
        path.write_text(stub_source(path.read_text(encoding="utf-8"), functions, imported),
                        encoding="utf-8")


def _copies_of_answers(dest: Path, answers: list[L.Answer]) -> list[GradedFunction]:
    """Top-level functions of the bundle's course_nn whose code is an answer's code, and
    classes with a method that is (``Sequential`` of exercise 8)."""
    forms = {a.form: a for a in answers}
    found = []
    for path in sorted((dest / "course_nn").rglob("*.py")):
        module = ".".join(path.relative_to(dest).with_suffix("").parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            defs = ([node] if isinstance(node, ast.FunctionDef) else
                    [m for m in node.body if isinstance(m, ast.FunctionDef)]
                    if isinstance(node, ast.ClassDef) else [])
            answer = next((forms[f] for f in map(L.normalise, defs) if f in forms), None)
            if answer is not None:
                found.append(GradedFunction(module, node.name, answer.what, answer.exercise))
    return found


def stub_graded(dest: Path, graded: list[GradedFunction], answers: list[L.Answer]) -> None:
    """Stub the graded functions, then any other function that is a copy of an answer."""
    _stub(dest, graded)
    _stub(dest, _copies_of_answers(dest, answers))


# --- 4. checks from stored data --------------------------------------------------------------
def write_checks(dest: Path, root: Path) -> int:
    """Replace every check module by a generated one plus its data; the number of checks."""
    folder = dest / "course_nn" / "grading" / "checks"
    for old in folder.glob("ch*.py"):
        old.unlink()
    exercises = released_checks(root)
    by_module: dict[str, list[str]] = defaultdict(list)
    for name in REGISTRY:
        by_module[check_module(name)].append(name)
    for module, names in sorted(by_module.items()):
        short = module.rsplit(".", 1)[-1]
        packer = Packer()
        judges = {f"judge_{n}": REGISTRY[n].judge for n in names if REGISTRY[n].judge}
        # a check graded on submission keeps no hint that reads the inputs: its hints run
        # the same left-out functions as its judge (they get no table either)
        hints = {n: code_hints(REGISTRY[n].hints, outputs_are_numbers(REGISTRY[n])
                               or n in GRADED_ON_SUBMISSION) for n in names}
        deferred = {f"judge_{n}": (GRADED_ON_SUBMISSION[n], n) for n in names
                    if n in GRADED_ON_SUBMISSION and REGISTRY[n].judge}
        entries = [record_check(REGISTRY[n], packer, f"judge_{n}" if REGISTRY[n].judge else None,
                                set(hints[n])) for n in names]
        (folder / f"{short}.json").write_text(
            json.dumps({"format": 1, "module": short, "checks": entries}, indent=1),
            encoding="utf-8")
        np.savez_compressed(folder / f"{short}.npz", **packer.arrays)
        exercise = next((exercises[n] for n in names if n in exercises), None)
        (folder / f"{short}.py").write_text(
            check_module_source(module, exercise, judges, hints, deferred), encoding="utf-8")
    return len(REGISTRY)


# --- 5. the book -----------------------------------------------------------------------------
def _forbidden_forms(answers: list[L.Answer]) -> dict[str, str]:
    forms: dict[str, str] = {}
    for answer in answers:
        forms.setdefault(answer.form, answer.what)
    return forms


def _answer_in(code: str, forbidden: dict[str, str]) -> str | None:
    for node in L.functions_in(code):
        what = forbidden.get(L.normalise(node))
        if what:
            return what
    return None


def redact_html(text: str, forbidden: dict[str, str]) -> str:
    """Every ``<pre>`` block that holds an answer becomes a two-line note."""
    def replace(match: re.Match[str]) -> str:
        what = _answer_in(L.html.unescape(re.sub(r"<[^>]+>", "", match.group(2))), forbidden)
        if what is None:
            return match.group(0)
        return match.group(1) + L.html.escape(REDACTED.format(what=what)) + match.group(3)
    return re.sub(r"(<pre[^>]*>)(.*?)(</pre>)", replace, text, flags=re.S)


def redact_notebook(nb: dict[str, Any], forbidden: dict[str, str]) -> dict[str, Any]:
    """Code blocks of outputs (``show_source``) that hold an answer become a note."""
    def replace(match: re.Match[str]) -> str:
        what = _answer_in(match.group(2), forbidden)
        return match.group(0) if what is None else (
            match.group(1) + REDACTED.format(what=what) + "\n" + match.group(3))

    for cell in nb.get("cells", []):
        for output in cell.get("outputs", []):
            for kind, value in output.get("data", {}).items():
                if kind in ("text/markdown", "text/plain"):
                    text = "".join(value) if isinstance(value, list) else value
                    output["data"][kind] = re.sub(r"(```(?:python)?\n)(.*?)(```)", replace, text,
                                                  flags=re.S)
                elif kind == "text/html":
                    text = "".join(value) if isinstance(value, list) else value
                    output["data"][kind] = redact_html(text, forbidden)
    return nb


#: The note a chapter notebook of the bundle opens with when it calls left-out functions.
CHAPTER_NOTE = ("**For-credit release.** This chapter was executed with the full course and "
                "shows the outputs of that run. It calls {names}, which this release leaves "
                "out (each is, or gives, an exercise's answer), so its code cells cannot be "
                "re-run here.")
README_CHAPTERS = """
## Chapters you cannot re-run with this release

The chapters were executed with the full course; `book/notebooks/` and the HTML show
the outputs of that run. Re-running a chapter's code needs the functions listed here,
which this release leaves out (each is, or gives, an exercise's answer), and the course
functions built on them:

"""


def _code_of(cell: dict[str, Any]) -> str:
    """A code cell's Python, IPython magics and shell lines blanked."""
    source = "".join(cell.get("source", []))
    return "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                     for line in source.splitlines())


def left_out_calls(nb: dict[str, Any], stubbed: list[GradedFunction]) -> list[str]:
    """The stubbed functions a chapter imports from ``course_nn`` (sorted names)."""
    by_module = {(g.module, g.name) for g in stubbed}
    names = {g.name for g in stubbed}
    found = set()
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        try:
            tree = ast.parse(_code_of(cell))
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_nn"):
                found |= {a.name for a in node.names if (node.module, a.name) in by_module
                          or (node.module == "course_nn" and a.name in names)}
    return sorted(found)


def with_chapter_note(nb: dict[str, Any], names: list[str]) -> dict[str, Any]:
    """``nb`` opening with :data:`CHAPTER_NOTE` (nothing changes without ``names``)."""
    if not names:
        return nb
    listed = ", ".join(f"`{n}`" for n in names)
    note = {"cell_type": "markdown", "id": "for-credit-note",
            "metadata": {"tags": ["for-credit-note"]},
            "source": CHAPTER_NOTE.format(names=listed)}
    return {**nb, "cells": [note, *nb.get("cells", [])]}


def write_book(root: Path, dest: Path, forbidden: dict[str, str],
               stubbed: list[GradedFunction] = ()) -> dict[str, list[str]]:
    """The built HTML and the executed chapters, answers redacted; a chapter that calls
    stubbed functions opens with a note. Returns chapter -> the stubbed names it calls."""
    html, executed = built_book(root)
    out = dest / "book" / "html"
    shutil.copytree(html, out, ignore=shutil.ignore_patterns(".buildinfo", "*.ipynb"))
    for page in out.rglob("*.html"):
        page.write_text(redact_html(page.read_text(encoding="utf-8"), forbidden), encoding="utf-8")
    calls = {name: left_out_calls(nb, list(stubbed)) for name, nb in executed.items()}
    for name, nb in executed.items():
        nb = with_chapter_note(redact_notebook(nb, forbidden), calls[name])
        text = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
        for folder in (dest / "book" / "notebooks", out / "_sources" / "book"):
            folder.mkdir(parents=True, exist_ok=True)  # the pages' download button too
            (folder / name).write_text(text, encoding="utf-8")
    return {name: names for name, names in calls.items() if names}


def add_readme_chapters(dest: Path, calls: dict[str, list[str]]) -> None:
    """The bundle's README lists the chapters that call left-out functions, and which."""
    if not calls:
        return
    lines = [f"* `book/notebooks/{chapter}`: " + ", ".join(f"`{n}`" for n in names)
             for chapter, names in sorted(calls.items())]
    readme = dest / "README.md"
    readme.write_text(readme.read_text(encoding="utf-8") + README_CHAPTERS + "\n".join(lines)
                      + "\n", encoding="utf-8")


# --- 6. leak tests ---------------------------------------------------------------------------
SMOKE = ("import json, course_nn, course_nn.cli\n"
         "from course_nn.grading import REGISTRY\n"
         "print(json.dumps([course_nn.__file__, sorted(REGISTRY)]))")


def smoke_test(dest: Path) -> list[str]:
    """Does the bundle's course_nn import, from the bundle, with every live check?"""
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    run = subprocess.run([sys.executable, "-c", SMOKE], cwd=dest, capture_output=True,
                         text=True, env=dict(env, PYTHONPATH=str(dest)), timeout=600)
    if run.returncode != 0:
        return [f"the bundle's course_nn does not import: {run.stderr.strip()[-600:]}"]
    origin, names = json.loads(run.stdout.strip().splitlines()[-1])
    problems = [] if Path(origin).resolve().is_relative_to(dest.resolve()) else [
        f"course_nn was imported from {origin}, not from the bundle"]
    if names != sorted(REGISTRY):
        problems.append(f"the bundle's checks differ from the course's: {names}")
    return problems


def find_all_leaks(dest: Path, root: Path, graded: list[GradedFunction]) -> list[str]:
    from course_nn.student_release import find_leaks

    found = [leak for leak in find_leaks(dest, root)]
    found += L.find_semantic_leaks(dest, root, graded)
    found += L.find_data_leaks(dest)
    return found


def build(dest: Path = DEFAULT_DEST, root: Path = ROOT, archive: bool = False) -> Path:
    """Write the for-credit bundle to ``dest`` (replacing it); ``BuildError`` on any leak."""
    built_book(root)
    graded = functions_to_stub(root)
    answers = L.answers(root, graded)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    try:
        copy_student_files(root, dest)
        stub_graded(dest, graded, answers)
        write_checks(dest, root)
        add_readme_chapters(dest, write_book(root, dest, _forbidden_forms(answers), graded))
        leaks = find_all_leaks(dest, root, graded)
        broken = smoke_test(dest)
    except BaseException:
        shutil.rmtree(dest, ignore_errors=True)
        raise
    if leaks or broken:
        shutil.rmtree(dest)
        raise BuildError("the for-credit bundle would leak or does not work:\n  "
                         + "\n  ".join(leaks + broken))
    if archive:
        shutil.make_archive(str(dest), "zip", dest)
    return dest
