"""Launching the child: validated progress, one budget, what the machine must offer (``sandbox.py``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from course_nn.grading.hardened import sandbox
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.model import CellStep, CollectStep, Job, Launch
from course_nn.grading.hardened.model import TestJob as GradeJob
from course_nn.grading.hardened.sandbox import Attempt, _Watch, progress_plan

ROOT = T.ROOT
A = "ex01_linear_regression"
ASSIGNMENTS = sorted(p.name for p in (ROOT / "solutions").iterdir()
                     if (p / f"{p.name}.ipynb").is_file())

pytestmark = pytest.mark.grading

JOB = Job([CellStep("a", ""), CellStep("b", ""), CollectStep("test_f", 0, ("f",))],
          [GradeJob(0, ()), GradeJob(1, ())])
SKIP = (1,)


def test_the_plan_is_every_step_then_every_test_to_run():
    assert progress_plan(JOB, SKIP) == ["R", "S 0", "S 1", "S 2", "T 0", "D"]


def test_forged_progress_lines_are_ignored_and_counted():
    """Do repeated, skipped, out-of-range and garbage lines move nothing?"""
    attempt = Attempt()
    watch = _Watch(attempt, progress_plan(JOB, SKIP))
    assert watch.progress(b"R 6\nS 0\n")
    assert attempt.landlock_abi == 6 and attempt.last == ("S", 0)
    forged = b"S 0\nS 2\nS 99\nT 1\nD\nR 1\nS -1\n\xff\xfe\n"
    assert not watch.progress(forged)
    assert attempt.forged == 8 and attempt.last == ("S", 0) and not attempt.finished
    assert watch.progress(b"S 1\nS 2\nT 0\nD\n")
    assert attempt.finished and attempt.last == ("T", 0)


def test_a_line_without_end_cannot_grow_forever():
    attempt = Attempt()
    watch = _Watch(attempt, progress_plan(JOB, SKIP))
    watch.progress(b"S" * 10_000)
    assert attempt.forged == 1 and watch.partial == b""


def test_grading_refuses_without_tree_limits_unless_unsafe(monkeypatch):
    """Without cgroups, does the launcher refuse, say what to install, and yield to --unsafe?"""
    monkeypatch.setattr(sandbox.cgroup, "hierarchy", lambda: None)
    monkeypatch.setattr(sandbox.scratch, "can_mount", lambda: False)
    monkeypatch.setattr(sandbox, "layers", lambda isolation: (False, False))
    monkeypatch.setattr(sandbox, "unprivileged_user", lambda *a: None)
    with pytest.raises(RuntimeError, match="cgroups") as refused:
        sandbox.Launcher.create(sandbox.Limits(), "basic")
    assert "bubblewrap" in str(refused.value) and "--unsafe" in str(refused.value)
    launcher = sandbox.Launcher.create(sandbox.Limits(), "basic", unsafe=True)
    assert "UNSAFE" in launcher.describe()


def test_the_budget_is_one_total_for_the_submission():
    """startup + timeout x (instructor steps and tests) + the added cells' fixed allowance."""
    limits = sandbox.Limits(timeout=2, startup=5)
    assert limits.added_allowance == 2 * 2
    assert limits.budget(10) == 5 + 2 * 10 + 4
    assert limits.tree_bytes > limits.memory_mb * 2**20


def test_required_isolation_layers_must_exist(monkeypatch):
    """Does asking for bubblewrap or Landlock where there is none fail with a clear message?"""
    monkeypatch.setattr(sandbox, "bwrap_works", lambda: False)
    monkeypatch.setattr(sandbox, "landlock_abi", lambda: 0)
    with pytest.raises(RuntimeError, match="bubblewrap is not installed"):
        sandbox.layers("bwrap")
    with pytest.raises(RuntimeError, match="no Landlock"):
        sandbox.layers("landlock")
    assert sandbox.layers("auto") == (False, False)
    with pytest.raises(ValueError, match="isolation must be one of"):
        sandbox.layers("docker")


def test_child_never_sees_the_course_checkout():
    """Is the course checkout (with course_nn/) kept off the child's sys.path?"""
    paths = sandbox.site_paths()
    assert str(ROOT) not in paths and not any(sandbox._is_checkout(p) for p in paths)
    assert any((Path(p) / "numpy").is_dir() for p in paths)


def test_the_job_has_one_serialisation_the_child_reads():
    """Does Job.to_json carry the typed steps, tests and launch data as child.py reads them?"""
    import json

    job = Job([CellStep("setup", "x = 1"), CollectStep("test_f", 0, ("f", "g"))],
              [GradeJob(0, ())], max_leaf_elements=7)
    data = json.loads(job.to_json(Launch(("/site",), ("/usr",), True, (0,), (1,))))
    assert data["steps"] == [{"id": "setup", "source": "x = 1", "kind": "cell", "added": False},
                             {"id": "test_f", "test": 0, "exprs": ["f", "g"], "kind": "collect"}]
    assert data["tests"] == [{"index": 0, "calls": []}] and data["max_leaf_elements"] == 7
    assert (data["site_paths"], data["landlock"], data["skip_steps"], data["skip_tests"]) == (
        ["/site"], True, [0], [1])
