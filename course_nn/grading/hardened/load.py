"""Steps 2-3: find the submitted notebook, confined to ``submitted/``, and read it.

Book: none (instructor tooling); docs/grading.md, "2. Find" and "3. Read".

The nbgrader layout is ``submitted/<student>/<assignment>/<notebook>.ipynb``. Every
component of that path is checked without following links: a student folder, an
assignment folder or a notebook that is a symbolic link (it could point at the
instructor's ``solutions/``) makes the submission ungradable, and the resolved folder
must lie inside ``submitted/``. The notebook is opened with ``O_NOFOLLOW``, its size
checked on the open file. Renamed notebooks, extra files and a strange kernelspec are
flagged, never fatal; a notebook holding the hidden-test markers is flagged (the
instructor's version of a test cell reached the student).
"""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from course_nn.grading.hardened.assignment import HIDDEN_BEGIN, HIDDEN_END, cell_source
from course_nn.grading.hardened.model import Context, Submission, Ungradable
from course_nn.grading.hardened.text import name_of

MAX_NOTEBOOK_BYTES = 32 * 1024 * 1024
IGNORED = {"timestamp.txt", ".ipynb_checkpoints", "__pycache__", ".DS_Store"}


def confined_folder(sub: Submission) -> Path:
    """The submission folder, checked link-free component by component below ``root``."""
    folder = sub.directory
    root = sub.root
    if root is None:  # the self-check: only the folder itself
        if folder.is_symlink():
            raise Ungradable(f"the folder {name_of(folder.name)!r} is a symbolic link")
        return folder
    try:
        parts = folder.relative_to(root).parts
    except ValueError:
        raise Ungradable(f"{name_of(str(folder))!r} is not inside the submissions folder") from None
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            raise Ungradable(f"{name_of(str(current.relative_to(root)))!r} is a symbolic link: "
                             "a submission must be plain folders and files (not graded)")
    if not current.is_dir():
        raise Ungradable(f"no folder {name_of(folder.name)!r} in this student's submission")
    if not current.resolve().is_relative_to(root.resolve()):
        raise Ungradable("the submission folder resolves outside the submissions folder")
    return current


def find_notebook(sub: Submission, ctx: Context) -> None:
    """Pick the notebook to grade; flag a renamed one and any extra files."""
    spec = ctx.spec
    folder = confined_folder(sub)
    entries = sorted(p for p in folder.iterdir() if p.name not in IGNORED)
    notebooks = [p for p in entries if p.suffix == ".ipynb"]
    expected = folder / spec.notebook
    if expected in notebooks:
        chosen = expected
    elif len(notebooks) == 1:
        chosen = notebooks[0]
        sub.flag(f"notebook renamed: {name_of(chosen.name)} (expected {spec.notebook})")
    elif not notebooks:
        raise Ungradable(f"no notebook: expected {spec.notebook}")
    else:
        names = ", ".join(name_of(p.name) for p in notebooks[:6])
        raise Ungradable(f"several notebooks ({names}) and none named {spec.notebook}")
    extra = [name_of(p.name) + ("/" if p.is_dir() and not p.is_symlink() else "")
             for p in entries if p != chosen]
    if extra:
        shown = ", ".join(extra[:6]) + (f" and {len(extra) - 6} more" if len(extra) > 6 else "")
        sub.flag(f"extra files (not used by the grader): {shown}")
    sub.notebook_path = chosen


def read_limited(path: Path, limit: int) -> bytes:
    """A regular file's bytes, never following a link nor blocking on a FIFO."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    except OSError:
        raise Ungradable(f"{name_of(path.name)} is not a regular file (a symbolic link?)") from None
    with os.fdopen(fd, "rb") as fh:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise Ungradable(f"{name_of(path.name)} is not a regular file")
        if info.st_size > limit:
            raise Ungradable(f"{name_of(path.name)} is larger than {limit // 2**20} MB")
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise Ungradable(f"{name_of(path.name)} is larger than {limit // 2**20} MB")
    return data


def has_hidden_markers(nb: dict) -> bool:
    """Does any cell hold ``### BEGIN/END HIDDEN TESTS`` (only the instructor's do)?"""
    return any(HIDDEN_BEGIN in cell_source(c) or HIDDEN_END in cell_source(c)
               for c in nb["cells"] if isinstance(c, dict))


def read_notebook(sub: Submission, ctx: Context) -> None:
    """Parse the notebook's JSON; flag a kernelspec that is not Python (it is ignored)
    and the hidden-test markers."""
    path = sub.notebook_path
    data = read_limited(path, MAX_NOTEBOOK_BYTES)
    try:
        nb = json.loads(data)
    except (ValueError, UnicodeDecodeError) as err:
        raise Ungradable(f"{name_of(path.name)} is not valid notebook JSON (truncated?): "
                         f"{err}") from None
    except RecursionError:
        raise Ungradable(f"{name_of(path.name)} is nested too deeply to be a notebook") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise Ungradable(f"{name_of(path.name)} is not a Jupyter notebook (no list of cells)")
    if nb.get("nbformat") not in (4, None):
        raise Ungradable(f"{name_of(path.name)} has nbformat {nb.get('nbformat')!r}; expected 4")
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    kernel = meta.get("kernelspec") if isinstance(meta.get("kernelspec"), dict) else {}
    name, language = str(kernel.get("name", "python3")), str(kernel.get("language", "python"))
    if not name.startswith("python") or language.lower() != "python":
        sub.flag(f"kernelspec {name!r} ({language}) is not Python; ignored: the grader runs Python")
    if has_hidden_markers(nb):
        sub.flag("the notebook holds the hidden-test markers (### BEGIN HIDDEN TESTS): the "
                 "instructor's version of a test cell reached this student")
    sub.notebook = nb
