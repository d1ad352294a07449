"""The submission's temp folder: limited, and removed whatever it holds (``scratch.py``)."""

from __future__ import annotations

import os
import sys

import pytest

from course_nn.grading.hardened import scratch

pytestmark = pytest.mark.grading


def _deep_tree(root, depth: int) -> None:
    here = os.open(root, os.O_RDONLY)
    for level in range(depth):
        os.mkdir("d", dir_fd=here)
        below = os.open("d", os.O_RDONLY, dir_fd=here)
        with os.fdopen(os.open("f", os.O_CREAT | os.O_WRONLY, dir_fd=below), "w") as fh:
            fh.write(str(level))
        os.close(here)
        here = below
    os.symlink("/etc", "link_out", dir_fd=here)  # must be removed, never followed
    os.close(here)


def test_remove_tree_survives_a_3000_level_tree(tmp_path):
    """Is a tree deeper than the recursion limit and PATH_MAX removed completely?"""
    root = tmp_path / "box"
    root.mkdir()
    _deep_tree(root, 3000)
    assert 3000 > sys.getrecursionlimit()
    scratch.remove_tree(root)
    assert not root.exists()
    assert os.path.isdir("/etc")


def test_remove_tree_opens_folders_the_student_locked(tmp_path):
    """Are folders made unreadable (mode 000) still emptied and removed?"""
    root = tmp_path / "box"
    (root / "a" / "b").mkdir(parents=True)
    (root / "a" / "b" / "f").write_text("x")
    os.chmod(root / "a" / "b", 0)
    os.chmod(root / "a", 0)
    scratch.remove_tree(root)
    assert not root.exists()


@pytest.mark.skipif(not scratch.can_mount(), reason="this process may not mount tmpfs")
def test_the_scratch_tmpfs_limits_size_and_inodes():
    """Does the private tmpfs refuse more bytes and more files than allowed, then vanish?"""
    with scratch.Scratch.create(1 << 20, 64, None, use_mount=True) as box:
        assert box.mounted
        work = box.root / "rw" / "work"
        with pytest.raises(OSError, match="No space left"):
            (work / "big").write_bytes(b"x" * (2 << 20))
        (work / "big").unlink()
        with pytest.raises(OSError, match="No space left"):
            for k in range(200):
                (work / f"f{k}").touch()
        root = box.root
    assert not root.exists()


def test_what_a_killed_grader_left_is_swept(tmp_path):
    """Are scratch folders of dead graders removed, and those of live ones kept?"""
    import subprocess
    import sys

    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True)
    stale = tmp_path / f"{scratch.PREFIX}{dead.stdout.strip()}-abc"
    (stale / "rw" / "work" / "deep").mkdir(parents=True)
    live = tmp_path / f"{scratch.PREFIX}{os.getpid()}-xyz"
    live.mkdir()
    assert scratch.sweep_stale(tmp_path) == [stale]
    assert not stale.exists() and live.exists()
