"""The course's one repository setting (``_config.yml``'s ``repository.url``) drives every
place that names the repository, and no other file names it (docs/for_credit.md)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from course_nn import course_repository as R

ROOT = Path(__file__).resolve().parents[1]
#: Files that may name the repository: the setting, the places derived from it (checked
#: against it below) and the guide that explains the setting.
ALLOWED = {"_config.yml", R.WORKFLOW, "docs/for_credit.md",
           *(str(p.relative_to(ROOT)) for p in R.chapters(ROOT))}


def test_every_place_agrees_with_the_setting():
    """The eight chapters' install lines and autograde.yml's defaults name the setting."""
    found = R.places(ROOT)
    assert len(found) == 9 and len(R.chapters(ROOT)) == 8
    assert R.disagreements(ROOT) == []
    want = R.setting(ROOT)
    assert all(have == want for have in found.values())
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    assert config["html"]["use_repository_button"] and config["launch_buttons"]["colab_url"]
    assert config["launch_buttons"]["binderhub_url"]  # buttons Jupyter Book derives from the url


def _tree_files() -> list[str]:
    run = subprocess.run(["git", "-C", str(ROOT), "ls-files", "-co", "--exclude-standard", "-z"],
                         capture_output=True, check=True)
    return [name for name in run.stdout.decode().split("\0") if name]


def test_no_other_file_names_the_repository():
    """grep the tree: the repository's owner/name appears only in the allowed files."""
    slugs = {R.setting(ROOT).slug, "course-nn" + "/" + "course-nn"}  # the setting and upstream
    naming = []
    for name in _tree_files():
        path = ROOT / name
        if not path.is_file() or path.is_symlink() or path.stat().st_size > 5 * 2**20:
            continue
        text = path.read_bytes().decode("utf-8", "ignore")
        if any(slug in text for slug in slugs) and name not in ALLOWED:
            naming.append(name)
    assert naming == [], f"these files name the repository; derive it from the setting: {naming}"


@pytest.fixture
def course_copy(tmp_path):
    for name in ("_config.yml", R.WORKFLOW, *(str(p.relative_to(ROOT)) for p in R.chapters(ROOT))):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / name, tmp_path / name)
    return tmp_path


def test_set_rewrites_every_place_and_nothing_else(course_copy, capsys):
    """--set changes the setting and each derived line, every other byte stays."""
    before = {p: p.read_text() for p in course_copy.rglob("*") if p.is_file()}
    url = "https://github.com/uni-x/nn-2027-students"
    assert R.main(["--set", url, "--branch", "spring", "--root", str(course_copy)]) == 0
    assert R.setting(course_copy) == R.Repository(url, "spring")
    assert R.disagreements(course_copy) == []
    for path, old in before.items():
        new = path.read_text()
        assert len(old.splitlines()) == len(new.splitlines())
        changed = [(a, b) for a, b in zip(old.splitlines(), new.splitlines(), strict=True)
                   if a != b]
        expected = 2 if path.suffix == ".yml" else 1  # url+branch, repository+ref, install line
        assert len(changed) == expected, (path, changed)
        assert all("uni-x/nn-2027-students" in b or "spring" in b for _, b in changed)
        if path.suffix == ".ipynb":
            source = R.install_cell(path)
            assert f'"course-nn @ git+{url}@spring"' in source
            new_cells, old_cells = json.loads(new)["cells"], json.loads(old)["cells"]
            first = next(i for i, c in enumerate(old_cells) if c["cell_type"] == "code")
            del new_cells[first], old_cells[first]  # only the install cell differs
            assert new_cells == old_cells
    assert "'uni-x/nn-2027-students'" in (course_copy / R.WORKFLOW).read_text()
    assert R.main(["--check", "--root", str(course_copy)]) == 0
    # a place edited by hand is caught
    chapter = R.chapters(course_copy)[0]
    chapter.write_text(chapter.read_text().replace("uni-x/nn-2027-students", "someone/fork"))
    assert R.main(["--check", "--root", str(course_copy)]) == 1
    assert "disagrees: book/" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["http://github.com/a/b", "https://gitlab.com/a/b",
                                 "https://github.com/a/b.git", 'https://github.com/a/b"; rm -rf ~',
                                 "https://github.com/a", "https://github.com/a/b/tree/main"])
def test_setting_refuses_what_is_not_a_github_repository(url, course_copy):
    with pytest.raises(R.SettingError):
        R.Repository(url, "main")
    assert R.main(["--set", url, "--root", str(course_copy)]) == 2
    assert R.disagreements(course_copy) == []  # nothing was written
