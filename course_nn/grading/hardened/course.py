"""Where a course keeps things: nbgrader_config.py's folders and gradebook.

Book: none (instructor tooling).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Course:
    """The course folders the grader needs (nbgrader's names and defaults)."""

    root: Path
    source: str = "source"
    release: str = "release"
    db_url: str | None = None

    @classmethod
    def load(cls, root: Path) -> Course:
        """Read ``root/nbgrader_config.py`` when there is one (it is the instructor's file)."""
        root = Path(root).resolve()
        config_file = root / "nbgrader_config.py"
        if not config_file.is_file():
            return cls(root, db_url=f"sqlite:///{root / 'gradebook.db'}")
        from traitlets.config.loader import PyFileConfigLoader

        config = PyFileConfigLoader(config_file.name, path=str(root)).load_config()
        directory = config.get("CourseDirectory", {})
        db_url = str(directory.get("db_url", f"sqlite:///{root / 'gradebook.db'}"))
        prefix = "sqlite:///"
        if db_url.startswith(prefix) and not Path(db_url[len(prefix):]).is_absolute():
            db_url = prefix + str(root / db_url[len(prefix):])  # relative to the course
        return cls(root, str(directory.get("source_directory", "source")),
                   str(directory.get("release_directory", "release")), db_url)

    def notebook(self, assignment: str) -> Path | None:
        """The instructor notebook of ``assignment``, or the released one when only that exists."""
        for folder in (self.source, self.release):
            path = self.root / folder / assignment / f"{assignment}.ipynb"
            if path.is_file():
                return path
            candidates = sorted((self.root / folder / assignment).glob("*.ipynb"))
            if len(candidates) == 1:
                return candidates[0]
        return None
