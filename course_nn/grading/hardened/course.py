"""Where a course keeps things: nbgrader_config.py's folders, gradebook and late-work rules.

Book: none (instructor tooling); docs/instructor.md, "Deadlines and late work".

The late-work rules (the penalty policy and the extensions granted) are the
``LateWork`` section of ``nbgrader_config.py`` (:class:`.deadlines.LateWork`; nbgrader's
own ``LateSubmissionPlugin.penalty_method`` counts too), checked when the course is
loaded: a wrong setting is a :class:`.deadlines.DeadlineError` naming it, before
anything is graded. Due dates are nbgrader's (the gradebook's ``Assignment.duedate``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # types only: deadlines imports nbgrader, read when a course has a config
    from course_nn.grading.hardened.deadlines import Deadlines


@dataclass(frozen=True)
class Course:
    """The course folders the grader needs (nbgrader's names and defaults)."""

    root: Path
    source: str = "source"
    release: str = "release"
    db_url: str | None = None
    late_work: Deadlines | None = field(default=None, compare=False)

    @property
    def deadlines(self) -> Deadlines:
        """The late-work rules (none configured: no penalty, no extension)."""
        from course_nn.grading.hardened.deadlines import Deadlines

        return self.late_work if self.late_work is not None else Deadlines()

    @classmethod
    def load(cls, root: Path) -> Course:
        """Read ``root/nbgrader_config.py`` when there is one (it is the instructor's file);
        raises :class:`.deadlines.DeadlineError` when its late-work settings are wrong."""
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
        from course_nn.grading.hardened.deadlines import deadlines_from_config

        return cls(root, str(directory.get("source_directory", "source")),
                   str(directory.get("release_directory", "release")), db_url,
                   deadlines_from_config(config))

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
