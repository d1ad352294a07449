"""Regenerate the student notebooks in ``exercises/`` from ``solutions/`` (``make release``).

nbgrader's ``generate_assignment`` runs in a throw-away course directory, so the
repository gets no ``gradebook.db`` and the result can also be written elsewhere
(the staleness test compares a fresh release with the committed ``exercises/``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def assignments(solutions: Path = ROOT / "solutions") -> list[str]:
    """Names of the assignments: folders of ``solutions/`` holding ``<name>.ipynb``."""
    return sorted(p.name for p in solutions.iterdir() if (p / f"{p.name}.ipynb").is_file())


def tool_env() -> dict[str, str]:
    """The environment with this interpreter's ``bin/`` first on PATH: nbgrader runs
    ``alembic`` (and autograde runs a kernel) by name, which must come from the venv."""
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    return env


def generate(dest: Path, names: list[str] | None = None, root: Path = ROOT) -> list[Path]:
    """Write the released notebooks of ``names`` (default: all) into ``dest/<name>/``.

    Returns the written notebook paths. Raises ``RuntimeError`` with nbgrader's output
    when nbgrader fails.
    """
    names = names or assignments(root / "solutions")
    written = []
    with tempfile.TemporaryDirectory(prefix="course-nn-release-") as tmp:
        course = Path(tmp)
        shutil.copy(root / "nbgrader_config.py", course / "nbgrader_config.py")
        for name in names:
            shutil.copytree(root / "solutions" / name, course / "solutions" / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
            cmd = [sys.executable, "-m", "nbgrader", "generate_assignment", name,
                   "--force", "--log-level=WARN"]
            run = subprocess.run(cmd, cwd=course, capture_output=True, text=True, env=tool_env())
            if run.returncode != 0:
                raise RuntimeError(f"nbgrader generate_assignment {name} failed:\n{run.stderr}")
            target = dest / name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(course / "exercises" / name, target)
            written.extend(sorted(target.glob("*.ipynb")))
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", help="assignments to release (default: all)")
    parser.add_argument("--dest", type=Path, default=ROOT / "exercises")
    args = parser.parse_args(argv)
    for path in generate(args.dest, args.names or None):
        print(f"released {path.relative_to(args.dest.parent) if args.dest.is_absolute() else path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
