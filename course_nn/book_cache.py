"""The book's execution cache follows ``course_nn``, not only the notebooks' code.

Book: none (maintainer tooling); docs/book.md, "The execution cache".

myst-nb's jupyter-cache re-runs a chapter only when the chapter's own code cells
change. The chapters' numbers, figures and ``show_source`` listings come from
``course_nn``, so after a change to the package a cached chapter would show the old
numbers. ``make book`` therefore runs this module first: it fingerprints every file of
the package and empties the execution cache when the fingerprint differs from the one
stored beside it (every chapter then executes again with the new code).

    python -m course_nn.book_cache _build/.jupyter_cache
"""

from __future__ import annotations

import hashlib
import shutil
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent
#: The fingerprint is kept beside the cache folder, not in it (jupyter-cache owns it).
STAMP_SUFFIX = ".course_nn.sha256"


def package_files(package: Path = PACKAGE) -> list[Path]:
    """Every file of the package that can change a chapter's output: sources and data,
    not bytecode."""
    return sorted(p for p in package.rglob("*") if p.is_file()
                  and "__pycache__" not in p.parts and p.suffix not in {".pyc", ".pyo"})


def fingerprint(package: Path = PACKAGE) -> str:
    """SHA-256 over (relative path, contents) of :func:`package_files`, in path order."""
    digest = hashlib.sha256()
    for path in package_files(package):
        digest.update(path.relative_to(package).as_posix().encode() + b"\0")
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def stamp_path(cache: Path) -> Path:
    return cache.with_name(cache.name + STAMP_SUFFIX)


def refresh(cache: Path, package: Path = PACKAGE) -> bool:
    """Empty ``cache`` when the package changed since the stored fingerprint (or when no
    fingerprint is stored: a cache of unknown origin), then store the current one.
    Returns whether a cache was emptied."""
    stamp, current = stamp_path(cache), fingerprint(package)
    stored = stamp.read_text().strip() if stamp.is_file() else None
    emptied = stored != current and cache.exists()
    if emptied:
        shutil.rmtree(cache)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return emptied


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        print("usage: python -m course_nn.book_cache CACHE_FOLDER", file=sys.stderr)
        return 2
    if refresh(Path(args[0])):
        print("course_nn changed since the book was last built: every chapter executes again")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
