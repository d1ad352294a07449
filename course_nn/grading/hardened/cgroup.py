"""Memory and process limits on a submission's whole process tree (Linux cgroups).

Book: none (instructor tooling); docs/grading.md, "8. Run: limits on the whole tree".

``setrlimit`` limits one process: four children of 600 MB each stay under a 1 GB
address-space limit, and the kernel ignores ``RLIMIT_NPROC`` for root. A cgroup
counts the whole tree. cgroup v2 (``memory.max``, ``pids.max``) is used when the
unified hierarchy offers both controllers; otherwise cgroup v1's ``memory``
(``memory.limit_in_bytes``) and ``pids`` (``pids.max``) hierarchies, where root may
create groups. The child joins its group before it runs anything (in ``preexec_fn``,
before the uid drop); :meth:`Group.remove` kills whatever is left in the group
(including processes that left the process group) and deletes it.
"""

from __future__ import annotations

import functools
import os
import signal
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

CGROUP = Path("/sys/fs/cgroup")
PREFIX = "course-nn-"  # every group the grader makes is named so (and removed)


@dataclass(frozen=True)
class Hierarchy:
    """Where groups are made and which files set the limits."""

    version: int
    memory: Path  # parent folder for memory groups (the same as pids on v2)
    pids: Path

    def describe(self) -> str:
        return f"cgroup v{self.version}"


def _writable(path: Path) -> bool:
    return path.is_dir() and os.access(path, os.W_OK)


def _v2() -> Hierarchy | None:
    controllers = CGROUP / "cgroup.controllers"
    try:
        available = set(controllers.read_text().split())
        enabled = set((CGROUP / "cgroup.subtree_control").read_text().split())
    except OSError:
        return None
    if not {"memory", "pids"} <= available or not _writable(CGROUP):
        return None
    if not {"memory", "pids"} <= enabled:
        try:
            (CGROUP / "cgroup.subtree_control").write_text("+memory +pids")
        except OSError:
            return None
    return Hierarchy(2, CGROUP, CGROUP)


def _v1() -> Hierarchy | None:
    memory, pids = CGROUP / "memory", CGROUP / "pids"
    if (memory / "memory.limit_in_bytes").is_file() and (pids / "cgroup.procs").is_file() \
            and _writable(memory) and _writable(pids):
        return Hierarchy(1, memory, pids)
    return None


@functools.cache
def hierarchy() -> Hierarchy | None:
    """The cgroup hierarchy this process may create limited groups in, or None."""
    found = _v2() or _v1()
    if found is None:
        return None
    try:  # prove it: make and delete a group
        group = Group.create(found, 64 << 20, 8)
        group.remove()
    except OSError:
        return None
    return found


@dataclass
class Group:
    """One submission's group (on v1: one folder in each of memory/ and pids/)."""

    hierarchy: Hierarchy
    folders: tuple[Path, ...]

    @classmethod
    def create(cls, found: Hierarchy, memory_bytes: int, processes: int) -> Group:
        name = f"{PREFIX}{os.getpid()}-{uuid.uuid4().hex[:12]}"
        if found.version == 2:
            folder = found.memory / name
            folder.mkdir()
            group = cls(found, (folder,))
            try:
                (folder / "memory.max").write_text(str(memory_bytes))
                if (folder / "memory.swap.max").exists():
                    (folder / "memory.swap.max").write_text("0")
                (folder / "pids.max").write_text(str(processes))
            except OSError:
                group.remove()
                raise
            return group
        memory, pids = found.memory / name, found.pids / name
        memory.mkdir()
        group = cls(found, (memory,))
        try:
            pids.mkdir()
            group = cls(found, (memory, pids))
            (memory / "memory.limit_in_bytes").write_text(str(memory_bytes))
            (pids / "pids.max").write_text(str(processes))
        except OSError:
            group.remove()
            raise
        return group

    def join_paths(self) -> list[str]:
        """The ``cgroup.procs`` files the child writes its pid to (before it drops root)."""
        return [str(folder / "cgroup.procs") for folder in self.folders]

    def pids(self) -> list[int]:
        found: set[int] = set()
        for folder in self.folders:
            try:
                found |= {int(p) for p in (folder / "cgroup.procs").read_text().split()}
            except (OSError, ValueError):
                continue
        return sorted(found)

    def peak_bytes(self) -> int:
        """The most memory the tree used at once (0 if the kernel does not say)."""
        name = "memory.peak" if self.hierarchy.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int((self.folders[0] / name).read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return 0

    def oom_kills(self) -> int:
        """How many processes the out-of-memory killer ended in this group."""
        name = "memory.events" if self.hierarchy.version == 2 else "memory.oom_control"
        try:
            for line in (self.folders[0] / name).read_text().splitlines():
                key, _, value = line.partition(" ")
                if key == "oom_kill":
                    return int(value)
        except (OSError, ValueError):
            pass
        return 0

    def kill(self, patience: float = 5.0) -> None:
        """SIGKILL every process of the group until it is empty (forks race the loop)."""
        end = time.monotonic() + patience
        while time.monotonic() < end:
            pids = self.pids()
            if not pids:
                return
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            time.sleep(0.01)

    def remove(self) -> None:
        """Kill what is left and delete the group's folders (waits for the dead to go)."""
        self.kill()
        for folder in self.folders:
            for _ in range(500):
                try:
                    folder.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:  # EBUSY while killed processes are still exiting
                    time.sleep(0.01)


def sweep_stale(found: Hierarchy) -> list[Path]:
    """Remove the groups of graders that died before their cleanup ran
    (``course-nn-<pid>-*`` whose ``pid`` is gone): their processes killed first."""
    from course_nn.grading.hardened.scratch import alive

    stale: dict[str, list[Path]] = {}
    for base in dict.fromkeys((found.memory, found.pids)):
        for folder in base.glob(f"{PREFIX}*"):
            pid = folder.name[len(PREFIX):].split("-", 1)[0]
            if folder.is_dir() and pid.isdigit() and not alive(int(pid)):
                stale.setdefault(folder.name, []).append(folder)
    for folders in stale.values():
        Group(found, tuple(folders)).remove()
    return [f for folders in stale.values() for f in folders if not f.exists()]
