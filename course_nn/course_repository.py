"""The course's one repository setting and every place derived from it.

Book: none (tooling); docs/for_credit.md, "One repository setting".

The setting is ``repository.url`` (and ``repository.branch``) in ``_config.yml``: the
public repository students use (the open course's own repository, or, for a course run
for credit, the public student repository built from the for-credit bundle). Jupyter
Book derives the book's repository, issue, Binder and Colab buttons from it. Two other
places must name it literally, because they are read where ``_config.yml`` is not:

* the install line of every chapter's first code cell (``book/ch0*.ipynb``), which runs
  on Colab with the notebook alone: ``course-nn @ git+<url>@<branch>``;
* the default of ``COURSE_REPOSITORY`` (``<owner>/<name>``) and ``COURSE_REF`` in
  ``.github/workflows/autograde.yml``, which a student's repository runs.

``python -m course_nn.course_repository --set URL [--branch B]`` writes the setting and
rewrites those places (only the lines that name the repository, the files' formatting
kept byte for byte); ``--check`` exits 1 when a place disagrees with the setting.
tests/test_course_repository.py checks that they agree and that no other file names
the repository.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONFIG = "_config.yml"
WORKFLOW = ".github/workflows/autograde.yml"
CHAPTERS = "book/ch0*.ipynb"
URL = re.compile(r"https://github\.com/([A-Za-z0-9-]{1,39})/([A-Za-z0-9_.-]{1,100})", re.ASCII)
BRANCH = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,99}", re.ASCII)
INSTALL = re.compile(r'"COURSE_NN_INSTALL", "course-nn @ git\+(?P<url>[^"@]+)@(?P<branch>[^"]+)"')
#: The same line as it is stored in the notebook's JSON (quotes escaped).
RAW_INSTALL = re.compile(r'\\"COURSE_NN_INSTALL\\", \\"course-nn @ git\+[^"\\@]+@[^"\\]+\\"')
WORKFLOW_REPO = re.compile(r"vars\.COURSE_REPOSITORY \|\| '(?P<slug>[^']*)'")
WORKFLOW_REF = re.compile(r"vars\.COURSE_REF \|\| '(?P<ref>[^']*)'")
CONFIG_URL = re.compile(r"^(?P<lead>  url: ).*$", re.M)
CONFIG_BRANCH = re.compile(r"^(?P<lead>  branch: ).*$", re.M)


class SettingError(ValueError):
    """Not a GitHub repository URL or branch the course can use."""


@dataclass(frozen=True)
class Repository:
    """``https://github.com/<owner>/<name>`` at ``branch``."""

    url: str
    branch: str

    def __post_init__(self) -> None:
        if not URL.fullmatch(self.url) or self.url.endswith(".git"):
            raise SettingError(f"not a GitHub repository URL (https://github.com/OWNER/NAME): "
                               f"{self.url!r}")
        if not BRANCH.fullmatch(self.branch) or ".." in self.branch:
            raise SettingError(f"not a branch name: {self.branch!r}")

    @property
    def slug(self) -> str:
        """``<owner>/<name>``, as ``actions/checkout`` takes it."""
        return self.url.removeprefix("https://github.com/")

    @property
    def install(self) -> str:
        """What a chapter's first cell installs when ``course_nn`` is missing."""
        return f"course-nn @ git+{self.url}@{self.branch}"


def setting(root: Path = ROOT) -> Repository:
    """The setting: ``repository.url`` and ``repository.branch`` of ``_config.yml``."""
    config = yaml.safe_load((root / CONFIG).read_text(encoding="utf-8"))
    repo = config.get("repository") or {}
    return Repository(str(repo.get("url", "")), str(repo.get("branch", "main")))


def chapters(root: Path = ROOT) -> list[Path]:
    return sorted(root.glob(CHAPTERS))


def install_cell(path: Path) -> str:
    """The source of a chapter's first code cell (the install-and-import cell)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    cell = next(c for c in cells if c["cell_type"] == "code")
    return "".join(cell["source"])


def places(root: Path = ROOT) -> dict[str, Repository | None]:
    """Every derived place -> the repository it names (None: it names none)."""
    found: dict[str, Repository | None] = {}
    for path in chapters(root):
        match = INSTALL.search(install_cell(path))
        found[str(path.relative_to(root))] = (
            Repository(match["url"], match["branch"]) if match else None)
    text = (root / WORKFLOW).read_text(encoding="utf-8")
    repo, ref = WORKFLOW_REPO.search(text), WORKFLOW_REF.search(text)
    found[WORKFLOW] = (Repository(f"https://github.com/{repo['slug']}", ref["ref"])
                       if repo and ref else None)
    return found


def disagreements(root: Path = ROOT) -> list[str]:
    """The places that do not name the setting's repository, each with what they name."""
    want = setting(root)
    return [f"{place}: {have.url + '@' + have.branch if have else 'no repository found'} "
            f"(the setting: {want.url}@{want.branch})"
            for place, have in places(root).items() if have != want]


def _replace_once(pattern: re.Pattern[str], text: str, new: str, where: str) -> str:
    result, n = pattern.subn(lambda m: m["lead"] + new if "lead" in m.groupdict() else new,
                             text, count=1)
    if n != 1:
        raise SettingError(f"{where}: the line to rewrite was not found")
    return result


def write(repo: Repository, root: Path = ROOT) -> list[str]:
    """Write ``repo`` as the setting and into every derived place; the files changed."""
    changed = []
    config = root / CONFIG
    text = config.read_text(encoding="utf-8")
    block = text.index("\nrepository:\n")
    head, tail = text[:block], text[block:]
    tail = _replace_once(CONFIG_URL, tail, repo.url, CONFIG)
    tail = _replace_once(CONFIG_BRANCH, tail, repo.branch, CONFIG)
    changed += _save(config, text, head + tail)
    for path in chapters(root):
        text = path.read_text(encoding="utf-8")
        line = json.dumps(f'"COURSE_NN_INSTALL", "{repo.install}"')[1:-1]  # JSON-escaped
        if len(RAW_INSTALL.findall(text)) != 1:
            raise SettingError(f"{path.relative_to(root)}: not exactly one install line")
        changed += _save(path, text, RAW_INSTALL.sub(lambda m, line=line: line, text, count=1))
    workflow = root / WORKFLOW
    text = workflow.read_text(encoding="utf-8")
    new = WORKFLOW_REPO.sub(f"vars.COURSE_REPOSITORY || '{repo.slug}'", text, count=1)
    new = WORKFLOW_REF.sub(f"vars.COURSE_REF || '{repo.branch}'", new, count=1)
    changed += _save(workflow, text, new)
    return changed


def _save(path: Path, old: str, new: str) -> list[str]:
    if new == old:
        return []
    path.write_text(new, encoding="utf-8")
    return [str(path)]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m course_nn.course_repository",
                                     description=__doc__.splitlines()[0])
    parser.add_argument("--set", dest="url", metavar="URL",
                        help="the public repository students use, https://github.com/OWNER/NAME")
    parser.add_argument("--branch", help="its branch [the setting's, else main]")
    parser.add_argument("--check", action="store_true",
                        help="exit 1 when a place disagrees with the setting")
    parser.add_argument("--root", type=Path, default=ROOT, help="the course folder")
    args = parser.parse_args(argv)
    try:
        if args.url:
            current = setting(args.root)
            repo = Repository(args.url.rstrip("/"), args.branch or current.branch)
            for path in write(repo, args.root):
                print(f"rewrote {path}")
        wrong = disagreements(args.root)
    except SettingError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    for line in wrong:
        print(f"disagrees: {line}", file=sys.stderr)
    if not wrong:
        current = setting(args.root)
        print(f"every place names {current.url} (branch {current.branch})")
    return 1 if wrong else 0


if __name__ == "__main__":
    raise SystemExit(main())
