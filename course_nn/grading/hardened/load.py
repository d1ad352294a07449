"""Steps 1-2: find the submitted notebook and read it, or say why it cannot be graded.

Book: none (instructor tooling); DESIGN.md, "Grading: two paths, one set of checks".

The nbgrader layout is ``submitted/<student>/<assignment>/<notebook>.ipynb``. Renamed
notebooks, extra files and a strange kernelspec are flagged, never fatal: the grader
reads only the notebook's JSON and runs no Jupyter kernel, so none of them matter to
the score. A notebook that is missing, not JSON, or a symbolic link (it could point at
the instructor's solutions) is ungradable.
"""

from __future__ import annotations

import json

from course_nn.grading.hardened.model import AssignmentSpec, Submission, Ungradable

MAX_NOTEBOOK_BYTES = 100 * 1024 * 1024
IGNORED = {"timestamp.txt", ".ipynb_checkpoints", "__pycache__", ".DS_Store"}


def find_notebook(sub: Submission, spec: AssignmentSpec) -> None:
    """Pick the notebook to grade; flag a renamed one and any extra files."""
    folder = sub.directory
    if not folder.is_dir():
        raise Ungradable(f"no folder {folder.name!r} in this student's submission")
    entries = sorted(p for p in folder.iterdir() if p.name not in IGNORED)
    notebooks = [p for p in entries if p.suffix == ".ipynb"]
    expected = folder / spec.notebook
    if expected in notebooks:
        chosen = expected
    elif len(notebooks) == 1:
        chosen = notebooks[0]
        sub.flag(f"notebook renamed: {chosen.name} (expected {spec.notebook})")
    elif not notebooks:
        raise Ungradable(f"no notebook: expected {spec.notebook}")
    else:
        names = ", ".join(p.name for p in notebooks)
        raise Ungradable(f"several notebooks ({names}) and none named {spec.notebook}")
    extra = [p.name + ("/" if p.is_dir() else "") for p in entries if p != chosen]
    if extra:
        shown = ", ".join(extra[:6]) + (f" and {len(extra) - 6} more" if len(extra) > 6 else "")
        sub.flag(f"extra files (not used by the grader): {shown}")
    sub.notebook_path = chosen


def read_notebook(sub: Submission, spec: AssignmentSpec) -> None:
    """Parse the notebook's JSON; flag a kernelspec that is not Python (it is ignored)."""
    path = sub.notebook_path
    if path.is_symlink() or not path.is_file():
        raise Ungradable(f"{path.name} is not a regular file (a symbolic link?)")
    if path.stat().st_size > MAX_NOTEBOOK_BYTES:
        raise Ungradable(f"{path.name} is larger than {MAX_NOTEBOOK_BYTES // 2**20} MB")
    try:
        nb = json.loads(path.read_bytes())
    except (ValueError, UnicodeDecodeError) as err:
        raise Ungradable(f"{path.name} is not valid notebook JSON (truncated?): {err}") from None
    except RecursionError:
        raise Ungradable(f"{path.name} is nested too deeply to be a notebook") from None
    if not isinstance(nb, dict) or not isinstance(nb.get("cells"), list):
        raise Ungradable(f"{path.name} is not a Jupyter notebook (no list of cells)")
    if nb.get("nbformat") not in (4, None):
        raise Ungradable(f"{path.name} has nbformat {nb.get('nbformat')!r}; expected 4")
    meta = nb.get("metadata") if isinstance(nb.get("metadata"), dict) else {}
    kernel = meta.get("kernelspec") if isinstance(meta.get("kernelspec"), dict) else {}
    name, language = str(kernel.get("name", "python3")), str(kernel.get("language", "python"))
    if not name.startswith("python") or language.lower() != "python":
        sub.flag(f"kernelspec {name!r} ({language}) is not Python; ignored: the grader runs Python")
    sub.notebook = nb
