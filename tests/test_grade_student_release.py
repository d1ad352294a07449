"""``make student-release``: the student bundle has what students need and nothing of the solutions."""

from __future__ import annotations

import json
import shutil

import pytest
import yaml

from course_nn.grading.hardened import testing as T
from course_nn.student_release import build, find_leaks

pytestmark = pytest.mark.grading

ROOT = T.ROOT


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    return build(tmp_path_factory.mktemp("release") / "student")


def test_bundle_has_what_students_need(bundle):
    """Book sources, course_nn (with the checks), every released exercise, README, requirements."""
    for name in ("README.md", "requirements.txt", "pyproject.toml", "_toc.yml", "_config.yml",
                 "course_nn/grading/checks/ch01.py", "course_nn/cli.py",
                 "course_nn/grading/hardened/child.py", ".github/workflows/autograde.yml"):
        assert (bundle / name).exists(), name
    released = sorted(p.name for p in (ROOT / "exercises").iterdir() if p.is_dir())
    assert sorted(p.name for p in (bundle / "exercises").iterdir()) == released
    assert (bundle / "book").is_dir()


def test_bundle_has_no_solutions_gradebook_or_caches(bundle):
    names = {p.name for p in bundle.rglob("*")}
    assert not names & {"solutions", "gradebook.db", "submitted", "autograded", "__pycache__",
                        ".ipynb_checkpoints", "ci.yml"}
    assert not (bundle / "tests").exists() and not (bundle / "benchmarks").exists()


def test_nothing_of_the_solutions_leaks(bundle):
    """No solution code, written answer, hidden test or nbgrader marker reaches the bundle."""
    assert find_leaks(bundle) == []
    for notebook in (bundle / "exercises").rglob("*.ipynb"):
        text = "".join("".join(c["source"]) for c in json.loads(notebook.read_text())["cells"])
        assert "hidden=True" not in text and "BEGIN SOLUTION" not in text


def test_a_planted_leak_is_caught(bundle, tmp_path):
    """Would a solution pasted into a bundled notebook be found (the check can fail)?"""
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    a = "ex01_linear_regression"
    sol = T.solutions(T.read(ROOT / "solutions" / a / f"{a}.ipynb"))
    released = T.read(copy / "exercises" / a / f"{a}.ipynb")
    T.write(copy / "book" / "leaked.ipynb", T.with_sources(released, sol))
    (copy / "solutions").mkdir()
    leaks = find_leaks(copy)
    assert any("book/leaked.ipynb: solution text" in leak for leak in leaks)
    assert any("solutions must not be in the bundle" in leak for leak in leaks)


def test_book_table_of_contents_resolves_in_the_bundle(bundle):
    """Can the bundle build its book: does every _toc.yml entry exist there?"""
    toc = yaml.safe_load((bundle / "_toc.yml").read_text())
    files = [toc["root"]]
    stack = list(toc.get("chapters", [])) + [e for p in toc.get("parts", []) for e in p["chapters"]]
    while stack:
        entry = stack.pop()
        if "file" in entry:
            files.append(entry["file"])
        stack += entry.get("sections", [])
    for name in files:
        assert any((bundle / f"{name}{ext}").exists() for ext in ("", ".md", ".ipynb")), name


def test_open_is_the_default_mode_and_keeps_the_references(tmp_path, capsys):
    """Does `make student-release` (no MODE) still write the open bundle, references and all?"""
    from course_nn.student_release import main

    assert main(["--dest", str(tmp_path / "student")]) == 0
    assert "student bundle (open)" in capsys.readouterr().out
    softmax = (tmp_path / "student" / "course_nn" / "softmax.py").read_text()
    assert softmax == (ROOT / "course_nn" / "softmax.py").read_text()
    assert not (tmp_path / "student" / "course_nn" / "grading" / "checks" / "ch04.json").exists()
