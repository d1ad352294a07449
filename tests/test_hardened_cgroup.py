"""Memory and process limits on a submission's whole tree (``cgroup.py``)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from course_nn.grading.hardened import cgroup

pytestmark = pytest.mark.grading
TREE = cgroup.hierarchy()
needs_cgroup = pytest.mark.skipif(TREE is None, reason="no writable cgroup memory+pids here")

FORKER = """
import os, sys, time
for _ in range(int(sys.argv[1])):
    if os.fork() == 0:
        os.setsid()  # leave the process group: killpg would miss it
        hog = bytearray(int(sys.argv[2]) * 2**20)
        time.sleep(60)
        os._exit(0)
time.sleep(60)
"""


def _mine() -> list:
    found = []
    for base in (TREE.memory, TREE.pids):
        found += [p for p in base.iterdir() if p.name.startswith(f"{cgroup.PREFIX}{os.getpid()}-")]
    return found


def _start(group: cgroup.Group, *args: str) -> subprocess.Popen:
    def join():
        for path in group.join_paths():
            with open(path, "w") as fh:
                fh.write(str(os.getpid()))

    return subprocess.Popen([sys.executable, "-c", FORKER, *args], preexec_fn=join,
                            start_new_session=True)


@needs_cgroup
def test_a_group_is_removed_with_every_process_in_it():
    """Are processes that left the process group killed, and the group's folders gone?"""
    group = cgroup.Group.create(TREE, 512 << 20, 64)
    proc = _start(group, "3", "1")
    try:
        for _ in range(200):
            if len(group.pids()) >= 4:
                break
            os.sched_yield()
            __import__("time").sleep(0.02)
        assert len(group.pids()) >= 4
    finally:
        group.remove()
        proc.wait(timeout=30)
    assert not any(folder.exists() for folder in group.folders)
    assert _mine() == []


@needs_cgroup
def test_a_spawning_memory_bomb_stays_under_the_tree_limit():
    """Do four children of 200 MB each stay under one 256 MB limit for the tree?"""
    group = cgroup.Group.create(TREE, 256 << 20, 64)
    proc = _start(group, "4", "200")
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
    finally:
        peak, killed = group.peak_bytes(), group.oom_kills()
        group.remove()
        proc.wait(timeout=30)
    assert 0 < peak <= 256 << 20
    assert killed >= 1
    assert _mine() == []


@needs_cgroup
def test_the_process_limit_counts_the_whole_tree():
    """Does pids.max stop a fork loop that RLIMIT_NPROC would not (root)?"""
    group = cgroup.Group.create(TREE, 512 << 20, 8)
    proc = _start(group, "20", "0")
    try:
        __import__("time").sleep(1.0)
        assert 0 < len(group.pids()) <= 8
    finally:
        group.remove()
        proc.wait(timeout=30)
    assert _mine() == []


@needs_cgroup
def test_groups_of_a_killed_grader_are_swept():
    """Are the groups a dead grader left (name carries its pid) killed and removed?"""
    import subprocess

    dead = int(subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                              capture_output=True, text=True, check=True).stdout)
    stale = []
    for base in dict.fromkeys((TREE.memory, TREE.pids)):  # as the dead process made them
        (base / f"{cgroup.PREFIX}{dead}-stale").mkdir()
        stale.append(base / f"{cgroup.PREFIX}{dead}-stale")
    mine = cgroup.Group.create(TREE, 64 << 20, 8)  # a live grader's group stays
    try:
        removed = cgroup.sweep_stale(TREE)
        assert set(stale) <= set(removed) and not any(p.exists() for p in stale)
        assert all(folder.exists() for folder in mine.folders)
    finally:
        mine.remove()
