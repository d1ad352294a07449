"""Launch paths: a chapter runs with nothing but the course package and its dependencies.

What a Binder or Colab launch does, offline: build the wheel of ``course_nn``
(``pip wheel --no-deps``), install its dependencies into a fresh virtual environment (the
lock file as constraints, torch the CPU build), copy every chapter notebook into an empty
folder and execute it there, in a kernel of that environment. No repository files beside
the notebook, no myst-nb, no editable install.

The first notebook runs with ``course_nn`` uninstalled and ``COURSE_NN_INSTALL`` pointing at
the wheel: its first cell must install it (as on Colab). The others then find it importable,
and their first cell must do nothing. See docs/book.md, *The first cell*.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from tests.notebooks import ROOT

pytestmark = [pytest.mark.slow, pytest.mark.book]
CHAPTERS = sorted((ROOT / "book").glob("ch*.ipynb"))
KERNEL = "course-nn-launch"
#: The wheel's dependencies and what a chapter needs besides: the CPU torch and a kernel.
EXTRAS = ["torch==2.13.0+cpu", "ipykernel"]
TIMEOUT = 600  # per notebook; they normally take seconds to a minute


def run(*command, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    shown = " ".join(map(str, command))
    assert result.returncode == 0, f"{shown}\n{result.stdout[-3000:]}{result.stderr[-3000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """``pip wheel --no-deps`` of a copy of the package's files (keeps build/ out of the tree)."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    shutil.copytree(ROOT / "course_nn", source / "course_nn",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet",
        "--wheel-dir", out, source)
    (built,) = out.glob("course_nn-*.whl")
    return built


@pytest.fixture(scope="module")
def launch(tmp_path_factory, wheel):
    """A fresh venv with the wheel's dependencies (not the wheel itself) and a kernelspec for it."""
    env_dir = tmp_path_factory.mktemp("venv")
    run(sys.executable, "-m", "venv", env_dir)
    python = env_dir / "bin" / "python"
    # --no-compile: byte-compiling torch's thousands of files takes minutes and proves nothing
    run(python, "-m", "pip", "install", "--quiet", "--no-compile", "-c", ROOT / "requirements-lock.txt",
        wheel, *EXTRAS)
    run(python, "-m", "pip", "uninstall", "--yes", "--quiet", "course-nn")
    kernels = tmp_path_factory.mktemp("jupyter")
    spec = kernels / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(python), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "course-nn launch test", "language": "python"}))
    env = {**os.environ, "JUPYTER_PATH": str(kernels), "COURSE_NN_INSTALL": str(wheel),
           "MPLBACKEND": "agg", "PYTHONNOUSERSITE": "1"}
    env.pop("PYTHONPATH", None)
    yield python, env
    # a venv with torch is about a GB of small files: delete it without holding up the session
    subprocess.Popen(["rm", "-rf", str(env_dir)], start_new_session=True)


def execute(notebook: Path, env: dict) -> nbformat.NotebookNode:
    """Execute a notebook in place (its own folder as the working directory); return it."""
    run(Path(sys.executable).parent / "jupyter", "nbconvert", "--to", "notebook", "--execute", "--inplace",
        f"--ExecutePreprocessor.kernel_name={KERNEL}", f"--ExecutePreprocessor.timeout={TIMEOUT}",
        notebook, env=env, cwd=notebook.parent, timeout=2 * TIMEOUT)
    return nbformat.read(notebook, as_version=4)


def first_cell_output(nb: nbformat.NotebookNode) -> str:
    cell = next(c for c in nb.cells if c.cell_type == "code")
    return "".join(o.get("text", "") for o in cell.outputs)


def test_every_chapter_runs_from_the_wheel_in_an_empty_folder(tmp_path, launch):
    python, env = launch
    copies = []
    for chapter in CHAPTERS:  # each in its own empty folder, with nothing beside it
        folder = tmp_path / chapter.stem
        folder.mkdir()
        copies.append(Path(shutil.copy(chapter, folder)))

    # Colab: course_nn missing, so the first cell installs it (here from the wheel).
    first = execute(copies[0], env)
    assert f"installing {env['COURSE_NN_INSTALL']}" in first_cell_output(first)
    installed = run(python, "-c", "import course_nn; print(course_nn.__file__)", cwd=tmp_path).stdout
    assert str(ROOT) not in installed, "the chapter must use the installed wheel, not the repository"

    # Binder: course_nn importable, so the first cell does nothing.
    with ThreadPoolExecutor(max_workers=2) as pool:
        executed = list(pool.map(lambda path: execute(path, env), copies[1:]))
    for path, nb in zip(copies[1:], executed, strict=True):
        assert "installing" not in first_cell_output(nb), f"{path.name}: installed although importable"
        errors = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs if o.output_type == "error"]
        assert not errors, f"{path.name}: {errors[0]['ename']}: {errors[0]['evalue']}"


def test_binder_environment_installs_the_cpu_torch_and_the_package():
    requirements = (ROOT / "binder/requirements.txt").read_text().splitlines()
    assert "--extra-index-url https://download.pytorch.org/whl/cpu" in requirements
    assert "torch==2.13.0+cpu" in requirements
    post_build = ROOT / "binder/postBuild"
    assert os.access(post_build, os.X_OK)
    assert "pip install" in post_build.read_text() and " ." in post_build.read_text()
    # JupyterLab on Binder renders the chapters' MyST and starts without the news pop-up
    assert "jupyterlab-myst==2.7.0" in requirements
    assert "jupyterlab/overrides.json" in post_build.read_text()
    assert "share/jupyter/lab/settings/overrides.json" in post_build.read_text()
    pins = {line.split("==")[0]: line for line in requirements if "==" in line}
    top = {line.split("==")[0]: line for line in (ROOT / "requirements.txt").read_text().splitlines()
           if "==" in line and not line.startswith("#")}
    assert all(top[name] == line for name, line in pins.items()), "binder/ pins differ from requirements.txt"


def test_binder_post_build_installs_the_jupyterlab_overrides(tmp_path):
    """The postBuild line that installs the course's JupyterLab defaults, run with a
    temporary NB_PYTHON_PREFIX (the rest of postBuild installs the package: not run here)."""
    line = next(ln for ln in (ROOT / "binder/postBuild").read_text().splitlines()
                if "overrides.json" in ln and not ln.startswith("#"))
    env = {**os.environ, "NB_PYTHON_PREFIX": str(tmp_path)}
    subprocess.run(["bash", "-euo", "pipefail", "-c", line], cwd=ROOT, env=env, check=True)
    installed = tmp_path / "share/jupyter/lab/settings/overrides.json"
    assert installed.read_bytes() == (ROOT / "jupyterlab/overrides.json").read_bytes()


def test_requirements_cannot_pull_a_gpu_build():
    """Only the CPU build (local version +cpu) satisfies the torch pin, in both files."""
    for name in ("requirements.txt", "requirements-lock.txt"):
        pins = [ln for ln in (ROOT / name).read_text().splitlines() if ln.startswith("torch==")]
        assert pins == ["torch==2.13.0+cpu"], (name, pins)
