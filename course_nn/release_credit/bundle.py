"""Write the for-credit student bundle (``make student-release MODE=for-credit``).

Book: none (instructor tooling; not in the bundle). Design: docs/releases.md.

The steps, in order (each a small function below):

1. check that the book was built (``_build/html`` and the executed chapters);
2. copy what a student needs: exercises, requirements, the autograding workflow set
   to for-credit mode, and ``course_nn`` without the instructor's release tooling;
3. stub every graded function in the bundle's ``course_nn`` (:mod:`.stubs`);
4. replace every check module with one that loads stored data (:mod:`.record`,
   :mod:`.stored`);
5. add the book as built HTML plus the chapter notebooks with the outputs of their last
   execution (from the book's execution cache), any displayed source of an answer
   redacted;
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
    GradedFunction,
    check_module,
    graded_functions,
    released_checks,
)
from course_nn.release_credit.record import Packer, outputs_are_numbers, record_check
from course_nn.release_credit.stubs import check_module_source, code_hints, stub_source

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_DEST = ROOT / "dist" / "student-for-credit"
INCLUDE = ("requirements.txt", "requirements-lock.txt", "pyproject.toml", "nbgrader_config.py",
           "LICENSE", ".gitignore", "exercises", ".github/workflows/autograde.yml")
SKIP = shutil.ignore_patterns("__pycache__", "*.pyc", ".ipynb_checkpoints", "*.egg-info",
                              ".DS_Store", "gradebook.db")
#: Instructor tooling that stays out of the bundle's course_nn (paths inside the package).
INSTRUCTOR_ONLY = ("student_release.py", "release_credit/graded.py", "release_credit/record.py",
                   "release_credit/stubs.py", "release_credit/leaks.py",
                   "release_credit/bundle.py")
REDACTED = ("# The source of {what} is not in the for-credit release:\n"
            "# it answers an exercise.")
PACKAGE_DATA = ('\n[tool.setuptools.package-data]\n'
                '"course_nn.grading.checks" = ["*.json", "*.npz"]\n')
README = """# course-nn for credit: the student bundle

This is the for-credit release of the course: everything you need to read the book and
do the exercises, and no answer code. Graded functions are yours to write; calling
`course_nn`'s copy of one says which exercise asks for it.

* **Read the book**: open `book/html/index.html` in a browser. The chapter notebooks,
  with their outputs, are in `book/notebooks/` (for reading: they call course
  functions this release does not include).
* **Install**: `python -m pip install -r requirements.txt && python -m pip install -e .`
* **Do an exercise**: open `exercises/<name>/<name>.ipynb` in JupyterLab, replace each
  `raise NotImplementedError()`, run the test cell under it for instant feedback.
* **Check a notebook as the grader will**: `course-nn check exercises/<name>/<name>.ipynb`
  (exit code 0 when every public check passes).

Feedback here uses the public cases only; final grades also run hidden checks on
random inputs, drawn by your instructor's grader, so make your functions general.
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
    """Top-level functions of the bundle's course_nn whose code is an answer's code."""
    forms = {a.form: a for a in answers}
    found = []
    for path in sorted((dest / "course_nn").rglob("*.py")):
        module = ".".join(path.relative_to(dest).with_suffix("").parts)
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            answer = forms.get(L.normalise(node)) if isinstance(node, ast.FunctionDef) else None
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
        hints = {n: code_hints(REGISTRY[n].hints, outputs_are_numbers(REGISTRY[n]))
                 for n in names}
        entries = [record_check(REGISTRY[n], packer, f"judge_{n}" if REGISTRY[n].judge else None,
                                set(hints[n])) for n in names]
        (folder / f"{short}.json").write_text(
            json.dumps({"format": 1, "module": short, "checks": entries}, indent=1),
            encoding="utf-8")
        np.savez_compressed(folder / f"{short}.npz", **packer.arrays)
        exercise = next((exercises[n] for n in names if n in exercises), None)
        (folder / f"{short}.py").write_text(
            check_module_source(module, exercise, judges, hints), encoding="utf-8")
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


def write_book(root: Path, dest: Path, forbidden: dict[str, str]) -> None:
    html, executed = built_book(root)
    out = dest / "book" / "html"
    shutil.copytree(html, out, ignore=shutil.ignore_patterns(".buildinfo", "*.ipynb"))
    for page in out.rglob("*.html"):
        page.write_text(redact_html(page.read_text(encoding="utf-8"), forbidden), encoding="utf-8")
    for name, nb in executed.items():
        text = json.dumps(redact_notebook(nb, forbidden), indent=1, ensure_ascii=False) + "\n"
        for folder in (dest / "book" / "notebooks", out / "_sources" / "book"):
            folder.mkdir(parents=True, exist_ok=True)  # the pages' download button too
            (folder / name).write_text(text, encoding="utf-8")


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
    graded = graded_functions(root)
    answers = L.answers(root, graded)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    try:
        copy_student_files(root, dest)
        stub_graded(dest, graded, answers)
        write_checks(dest, root)
        write_book(root, dest, _forbidden_forms(answers))
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
