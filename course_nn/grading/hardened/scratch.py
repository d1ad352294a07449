"""A submission's temp folder: size- and inode-limited, and removed whatever it holds.

Book: none (instructor tooling); docs/grading.md, "8. Run: limits on the whole tree".

Each submission gets ``course-nn-grade-XXXX/`` in the system temp folder with
``control/`` (written by the grader, read-only to the child) and ``rw/`` (the child's
``work/`` and ``out/``). When the grader may mount (root with ``CAP_SYS_ADMIN``),
``work/`` and ``out/`` are private tmpfs with ``size=`` and ``nr_inodes=``: the
student cannot fill the disk nor exhaust inodes, and unmounting drops any tree at once. Without that,
bubblewrap's ``--size`` tmpfs holds the working folder (see ``sandbox.py``).

:func:`remove_tree` never recurses and never builds a long path: a subfolder is
renamed to the top of the tree before it is emptied, so a 3000-level tree made by
the student is removed like a flat one; it also survives folders made unreadable.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import stat
import tempfile
from dataclasses import dataclass
from pathlib import Path

PREFIX = "course-nn-grade-"
MS_NOSUID, MS_NODEV = 2, 4
MNT_DETACH = 2


def mount_tmpfs(target: Path, size_bytes: int, inodes: int, owner: int | None) -> bool:
    """Mount a private tmpfs on ``target``; False when this process may not mount."""
    libc = ctypes.CDLL(None, use_errno=True)
    uid = f",uid={owner},gid={owner}" if owner is not None else ""
    options = f"size={size_bytes},nr_inodes={inodes},mode=0711{uid}".encode()
    rc = libc.mount(b"tmpfs", str(target).encode(), b"tmpfs",
                    ctypes.c_ulong(MS_NOSUID | MS_NODEV), ctypes.c_char_p(options))
    return rc == 0


def unmount(target: Path) -> None:
    """Detach the tmpfs (lazily: whatever it holds is freed when the last user goes)."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.umount2(str(target).encode(), ctypes.c_int(MNT_DETACH))


@functools.cache
def can_mount() -> bool:
    """Can this process mount a tmpfs (probed once, on a throw-away folder)?"""
    if os.geteuid() != 0:
        return False
    probe = Path(tempfile.mkdtemp(prefix=PREFIX + "probe-"))
    try:
        if not mount_tmpfs(probe, 1 << 20, 16, None):
            return False
        unmount(probe)
        return True
    finally:
        os.rmdir(probe)


def _open_up(path: str) -> None:
    """Make a folder the student locked (mode 000) enterable again, without following links."""
    try:
        mode = os.lstat(path).st_mode
        if stat.S_ISDIR(mode) and (mode & 0o700) != 0o700:
            os.chmod(path, 0o700)
    except OSError:
        pass


def remove_tree(root: Path) -> None:
    """Delete ``root`` and everything under it, iteratively and at constant depth.

    Every subfolder found is first renamed to ``root/.rmN`` (one level deep), so no
    path ever grows with the tree's depth and nothing recurses. Links are removed,
    never followed. Raises ``OSError`` only if something is still left at the end."""
    root = Path(root)
    if not os.path.lexists(root):
        return
    if os.path.islink(root) or not os.path.isdir(root):
        os.unlink(root)
        return
    _open_up(str(root))
    pending, counter = [str(root)], 0
    while pending:
        folder = pending[-1]
        _open_up(folder)
        moved = False
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            pending.pop()
            continue
        for entry in entries:
            try:
                if entry.is_dir(follow_symlinks=False):
                    if folder == str(root) and entry.name.startswith(".rm"):
                        if entry.path not in pending:
                            pending.append(entry.path)
                            moved = True
                        continue
                    counter += 1
                    flat = os.path.join(root, f".rm{counter}")
                    while os.path.lexists(flat):
                        counter += 1
                        flat = os.path.join(root, f".rm{counter}")
                    os.rename(entry.path, flat)
                    pending.append(flat)
                    moved = True
                else:
                    os.unlink(entry.path)
            except FileNotFoundError:
                continue
        if moved:
            continue
        try:
            os.rmdir(folder)
        except OSError as err:
            if err.errno == errno.ENOENT:
                pass
            elif err.errno == errno.ENOTEMPTY:
                continue  # something appeared meanwhile: scan again
            else:
                raise
        pending.pop()
    if os.path.lexists(root):
        raise OSError(errno.ENOTEMPTY, "could not remove", str(root))


ANSWER_INODES = 1_000  # the child writes two files per test


def alive(pid: int) -> bool:
    """Does process ``pid`` still exist?"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def sweep_stale(folder: Path | None = None) -> list[Path]:
    """Remove the scratch folders of graders that died (killed before their cleanup ran):
    ``course-nn-grade-<pid>-*`` whose ``pid`` is gone, their tmpfs unmounted first.
    Returns what was removed."""
    folder = Path(folder or tempfile.gettempdir())
    removed = []
    for entry in folder.glob(f"{PREFIX}*"):
        pid = entry.name[len(PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or alive(int(pid)) or entry.is_symlink():
            continue
        for sub in ("work", "out"):
            if os.path.ismount(entry / "rw" / sub):
                unmount(entry / "rw" / sub)
        try:
            remove_tree(entry)
            removed.append(entry)
        except OSError:
            continue
    return removed


@dataclass
class Scratch:
    """The temp folder of one submission; a context manager that always removes it.

    When the grader may mount, ``rw/work`` (the student's working folder) and
    ``rw/out`` (the answers) are two private tmpfs, each of ``size_bytes``: a student
    who fills the working folder cannot keep the grader's answers from being written,
    and ``rw/`` itself is not writable by the child."""

    root: Path
    mounts: tuple[Path, ...] = ()

    @property
    def mounted(self) -> bool:
        return bool(self.mounts)

    @classmethod
    def create(cls, size_bytes: int, inodes: int, owner: int | None, use_mount: bool) -> Scratch:
        root = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))
        scratch = cls(root)
        try:
            rw = root / "rw"
            rw.mkdir()
            for sub in ("work", "out"):
                (rw / sub).mkdir()
            if use_mount:
                for sub, count in (("work", inodes), ("out", ANSWER_INODES)):
                    if not mount_tmpfs(rw / sub, size_bytes, count, owner):
                        break
                    scratch.mounts += (rw / sub,)
                if len(scratch.mounts) < 2:
                    for target in scratch.mounts:
                        unmount(target)
                    scratch.mounts = ()
            if owner is not None:  # the unprivileged child must reach rw/ and write below it
                os.chmod(root, 0o711)
                os.chmod(rw, 0o755)
                if not scratch.mounts:
                    for path in (rw, rw / "work", rw / "out"):
                        os.chown(path, owner, owner)
        except BaseException:
            scratch.close()
            raise
        return scratch

    def close(self) -> None:
        for target in self.mounts:
            unmount(target)
        self.mounts = ()
        remove_tree(self.root)

    def __enter__(self) -> Scratch:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
