"""Run a submission's child process under limits, and restart it after a crash or timeout.

Book: none (instructor tooling); docs/grading.md, "8. Run: limits on the whole tree".

Layers, outermost first (each optional layer is used when the machine has it; the
design holds without them):

* bubblewrap (``bwrap``), when installed: a new mount namespace showing only the Python
  installation, its site-packages, the job's control folder (read-only) and its
  writable folder; no network, own PID namespace;
* Landlock, when the kernel has it (applied by the child before student code): the
  same allow-list enforced by the kernel, plus no TCP and no signals to the outside;
* a cgroup per attempt (``cgroup.py``): memory and process limits on the whole tree,
  and every process of the tree killed at the end, even those that left the group;
* a size- and inode-limited scratch (``scratch.py``): ``rw/work`` and ``rw/out`` are
  private tmpfs when the grader may mount, and bubblewrap's ``--size`` tmpfs holds
  ``/tmp`` (and the working folder when the grader may not mount);
* never root: as root the child drops to ``nobody`` before it reads anything of the
  job (inside bubblewrap, which then runs without a user namespace and keeps only
  ``CAP_SETUID``/``CAP_SETGID`` for that; without bubblewrap only when ``nobody``
  can reach the interpreter);
* always: ``python -I -S -B`` (no user site, no ``.pth`` files, so the editable
  install's path to the course is not on ``sys.path``), a minimal environment, a temp
  working directory, ``setrlimit`` on memory, CPU seconds, file size and processes,
  a wall-clock limit per step that kills the whole process group, bounded capture of
  stdout and stderr; the child refuses ``import course_nn``.

Each submission gets a temp folder ``root`` with ``control/`` (the child script, the
job and the inputs: written by the grader, read-only to the child, rewritten before
each start) and ``rw/`` (``work/``, the student's working directory, and ``out/``, the
answers). After a timeout or crash the child is started again with the guilty step
skipped, so the student's other tests are still graded.

Time (docs/grading.md, "8. Run", **Time**): each step has ``timeout`` seconds; the cells
the student added share one allowance (``Limits.added_allowance``) over every attempt,
and when it runs out the running added cell is stopped and no added cell runs again;
the submission has one budget (:meth:`Limits.budget`) that added cells never grow.
"""

from __future__ import annotations

import ctypes
import functools
import math
import os
import resource
import selectors
import shutil
import signal
import site
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from course_nn.grading.hardened import cgroup, scratch
from course_nn.grading.hardened.model import CRASHED, TIMEOUT, CellStep, Job, Launch

CHILD = Path(__file__).with_name("child.py")
OUTPUT_HEAD = 32_000  # bytes of stdout/stderr kept for the feedback
DRAIN = 1.0  # seconds to collect the last output after the child said "done"
ISOLATIONS = ("auto", "bwrap", "landlock", "basic")
NOBODY = 65534


@dataclass(frozen=True)
class Limits:
    """Per-submission limits; ``timeout`` is per step (a cell or a test).

    ``memory_mb`` bounds each process (address space) and the whole tree (cgroup);
    ``processes`` the tree's tasks; ``disk_mb`` and ``inodes`` the scratch folder;
    :meth:`budget` is the one wall-clock budget of a submission, over all restarts;
    ``added_timeouts`` sets :attr:`added_allowance`, the time all added cells share."""

    timeout: float = 30.0
    startup: float = 60.0  # interpreter start and ``import numpy`` on a loaded machine
    # All the cells a student added share this many step timeouts, whatever their number
    # (one minute at the default 30 s): helper cells take milliseconds, an exploration
    # cell a few seconds; 1,000 sleeping cells no longer stall the class for hours.
    added_timeouts: float = 2.0
    memory_mb: int = 2048
    file_mb: int = 64
    processes: int = 256
    disk_mb: int = 256
    inodes: int = 10_000

    @property
    def added_allowance(self) -> float:
        """Seconds all the cells a student added share, over every attempt."""
        return self.added_timeouts * self.timeout

    def budget(self, steps: int) -> float:
        """The submission's one wall-clock budget, over every restart: ``startup``, one
        ``timeout`` per instructor step (the released notebook's cells and collectors)
        and per test, and the fixed :attr:`added_allowance`; ``steps`` never counts the
        cells the student added, so they cannot grow it (see :func:`job_budget`)."""
        return self.startup + self.timeout * max(steps, 1) + self.added_allowance

    @property
    def tree_bytes(self) -> int:
        """The cgroup's memory limit for the whole tree: one process's address space, the
        scratch tmpfs (its pages count as memory) and some room for the interpreters'
        shared libraries, so a single process meets its own limit first (a clean
        ``MemoryError``) and only a tree of processes meets this one."""
        return (self.memory_mb + self.disk_mb + 256) * 1024 * 1024


def added_steps(job: Job) -> frozenset[int]:
    """Indices of the job's steps that are cells the student added."""
    return frozenset(i for i, step in enumerate(job.steps)
                     if isinstance(step, CellStep) and step.added)


def job_budget(limits: Limits, job: Job) -> float:
    """The wall-clock budget of one submission's job: its instructor steps and tests
    (``Limits.budget``); the cells the student added only share the fixed allowance."""
    return limits.budget(len(job.steps) - len(added_steps(job)) + len(job.tests))


@dataclass
class AddedTime:
    """The running time of the student's added cells, over every attempt of a submission:
    together they may use ``allowance`` seconds (``Limits.added_allowance``)."""

    allowance: float
    steps: frozenset[int] = frozenset()  # indices of the added steps in the job
    used: float = 0.0
    spent: bool = False  # the allowance ran out: an added cell was stopped, none runs again
    stopped: int | None = None  # the step that was running when it ran out

    @property
    def left(self) -> float:
        return max(self.allowance - self.used, 0.0)


class StepClock:
    """The deadlines of one attempt: the running step's ``timeout`` (``startup`` until
    the child is ready), the allowance left to added cells while one runs, and the
    submission's overall end. Charges each added step's time to :class:`AddedTime`."""

    def __init__(self, limits: Limits, added: AddedTime, overall: float, now: float):
        self.limits, self.added, self.overall = limits, added, overall
        self.deadline = now + limits.startup
        self.added_deadline = math.inf
        self.added_start: float | None = None  # when the running added step began

    def step(self, last: tuple[str, int] | None, now: float) -> None:
        """A new step began (``last``: the child's latest ``("S", i)``/``("T", t)``)."""
        self.stop(now)
        self.deadline = now + self.limits.timeout
        if last is not None and last[0] == "S" and last[1] in self.added.steps:
            self.added_start, self.added_deadline = now, now + self.added.left
        else:
            self.added_deadline = math.inf

    def finish(self, now: float) -> None:
        """The child said it is done: a short drain, no added step runs any more."""
        self.stop(now)
        self.deadline = min(self.deadline, now + DRAIN)
        self.added_deadline = math.inf

    def stop(self, now: float) -> None:
        """Charge the running added step (if any) up to ``now``."""
        if self.added_start is not None:
            self.added.used += max(now - self.added_start, 0.0)
            self.added_start = None

    def end(self) -> tuple[float, str]:
        """The first deadline and which it is: ``"step"``, ``"added"`` or ``"budget"``."""
        return min((self.deadline, "step"), (self.added_deadline, "added"),
                   (self.overall, "budget"))


@dataclass
class Attempt:
    """One run of the child: how far it got and how it ended."""

    finished: bool = False
    last: tuple[str, int] | None = None  # ("S", step) or ("T", test) in progress
    status: str | None = None  # TIMEOUT or CRASHED when not finished
    detail: str = ""
    landlock_abi: int = 0
    stdout: bytes = b""
    stderr: bytes = b""
    stdout_total: int = 0
    stderr_total: int = 0
    forged: int = 0  # progress lines that did not follow the job (the student wrote them)
    peak_bytes: int = 0  # the tree's peak memory (cgroup), 0 when unknown
    oom_kills: int = 0
    expired: str | None = None  # the deadline that ended it: "step", "added" or "budget"


@dataclass
class RunOutcome:
    """All attempts of one submission, with the steps and tests that had to be skipped."""

    step_failures: dict[int, tuple[str, str]] = field(default_factory=dict)
    test_failures: dict[int, tuple[str, str]] = field(default_factory=dict)
    startup_failure: tuple[str, str] | None = None
    attempts: list[Attempt] = field(default_factory=list)
    budget_spent: bool = False  # the total wall-clock budget ran out
    budget: float = 0.0  # that budget, in seconds
    added: AddedTime | None = None  # the time the added cells used
    stopped_cell: str = ""  # the added cell stopped when their allowance ran out
    skipped_added: int = 0  # added cells not run because of that

    @property
    def flags(self) -> list[str]:
        """What the instructor should know about the run, in the student's words."""
        found = []
        if self.added is not None and self.added.spent:
            found.append(
                f"the cells you added used up the {self.added.allowance:g} s of running time "
                f"they share (they ran for {self.added.used:.1f} s in all): {self.stopped_cell} "
                f"was stopped, and the other {self.skipped_added} added cell(s) were skipped "
                "from then on")
        if self.budget_spent:
            found.append(f"used up its time budget ({self.budget:g} s): the tests not answered "
                         "by then are timeouts with no points")
        return found

    @property
    def forged(self) -> int:
        return sum(a.forged for a in self.attempts)

    @property
    def peak_bytes(self) -> int:
        return max((a.peak_bytes for a in self.attempts), default=0)

    def output(self, name: str) -> str:
        """The kept head of stdout or stderr over all attempts, with what was dropped."""
        head = b"".join(getattr(a, name) for a in self.attempts)[:OUTPUT_HEAD]
        total = sum(getattr(a, f"{name}_total") for a in self.attempts)
        text = head.decode("utf-8", "replace")
        if total > len(head):
            text += f"\n[... {total - len(head)} more bytes not kept]"
        return text


# --- what the machine offers ----------------------------------------------------------
def namespaces() -> list[str]:
    """bubblewrap's isolation flags. As root: no user namespace (it would map the child's
    uid back to root), every capability dropped but the two the child needs to drop
    to ``nobody`` itself; otherwise everything unshared, user namespace included."""
    if os.geteuid() == 0:
        return ["--unshare-ipc", "--unshare-pid", "--unshare-net", "--unshare-uts",
                "--unshare-cgroup-try", "--cap-drop", "ALL", "--cap-add", "CAP_SETUID",
                "--cap-add", "CAP_SETGID"]
    return ["--unshare-all"]


@functools.cache
def bwrap_works() -> bool:
    """``bwrap`` is installed and can create namespaces here (containers may forbid it)."""
    exe = shutil.which("bwrap")
    if not exe:
        return False
    probe = [exe, *namespaces(), "--die-with-parent", "--ro-bind", "/", "/", "true"]
    try:
        return subprocess.run(probe, capture_output=True, timeout=20).returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False


@functools.cache
def landlock_abi() -> int:
    """The kernel's Landlock ABI version, 0 when unavailable."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        return max(int(libc.syscall(ctypes.c_long(444), None, ctypes.c_size_t(0),
                                    ctypes.c_uint32(1))), 0)
    except (OSError, AttributeError):
        return 0


def layers(isolation: str) -> tuple[bool, bool]:
    """(use bwrap, use Landlock) for an isolation setting; raises if one is required but absent."""
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {ISOLATIONS}, got {isolation!r}")
    if isolation == "bwrap" and not bwrap_works():
        raise RuntimeError("--isolation bwrap: bubblewrap is not installed or cannot run here")
    if isolation == "landlock" and not landlock_abi():
        raise RuntimeError("--isolation landlock: this kernel has no Landlock")
    use_bwrap = isolation == "bwrap" or (isolation == "auto" and bwrap_works())
    use_landlock = isolation in ("auto", "bwrap", "landlock") and landlock_abi() > 0
    return use_bwrap, use_landlock


def site_paths() -> list[str]:
    """Where the child finds numpy (and torch): site-packages, never the course checkout."""
    import numpy

    candidates = [*site.getsitepackages(), str(Path(numpy.__file__).resolve().parents[1])]
    return [p for p in dict.fromkeys(candidates) if Path(p).is_dir() and not _is_checkout(p)]


def _is_checkout(path: str) -> bool:
    """A source checkout of the course (its ``course_nn/`` next to ``pyproject.toml``)."""
    return (Path(path) / "course_nn").is_dir() and (Path(path) / "pyproject.toml").is_file()


def python_executable() -> str:
    """The real interpreter (a venv's ``python`` is a symlink to it)."""
    return os.path.realpath(sys.executable)


def read_paths(sites: list[str]) -> list[str]:
    """What the child may read: the interpreter, its site-packages, system libraries."""
    base = [sys.base_prefix, str(Path(python_executable()).parent), *sites]
    system = ["/usr", "/lib", "/lib64", "/bin", "/etc/ld.so.cache", "/etc/localtime",
              "/proc", "/sys/devices/system/cpu", "/dev"]
    return [p for p in dict.fromkeys(base + system) if os.path.exists(p)]


def _ancestors(paths: list[str]) -> list[str]:
    """Every folder above ``paths`` (bubblewrap would make them mode 0700: unreachable
    for ``nobody``), parents first."""
    found = {str(parent) for path in paths for parent in Path(path).parents if str(parent) != "/"}
    return sorted(found, key=lambda p: (p.count("/"), p))


def bwrap_prefix(sites: list[str], root: Path, limits: Limits, scratch_mounted: bool) -> list[str]:
    """The bubblewrap command line: a fresh root with read-only system parts, the control
    folder read-only, only ``rw/`` writable, ``/tmp`` a size-limited tmpfs (and the
    working folder too, when ``rw/`` is not a limited tmpfs already)."""
    size = str(limits.disk_mb * 1024 * 1024)
    control, rw = root / "control", root / "rw"
    reads = [p for p in read_paths(sites) if p not in ("/proc", "/dev")]
    cmd = [shutil.which("bwrap") or "bwrap", *namespaces(), "--die-with-parent",
           "--proc", "/proc", "--dev", "/dev", "--size", size, "--tmpfs", "/tmp"]
    for folder in _ancestors([*reads, str(control), str(rw)]):
        if folder not in ("/tmp", "/proc", "/dev"):
            cmd += ["--perms", "0755", "--dir", folder]
    for path in reads:
        cmd += ["--ro-bind", path, path]
    for path in sites:  # a non-editable course_nn install stays hidden
        if (Path(path) / "course_nn").exists():
            cmd += ["--tmpfs", str(Path(path) / "course_nn")]
    cmd += ["--ro-bind", str(control), str(control), "--bind", str(rw), str(rw)]
    if not scratch_mounted:
        cmd += ["--size", size, "--tmpfs", str(rw / "work")]
    return cmd + ["--chdir", str(rw / "work"), "--"]


def _enter(procs_files: list[str], limits: list[tuple[int, int, int]]) -> None:
    """Runs in the forked child before exec: join the cgroup(s), then set the rlimits."""
    pid = str(os.getpid()).encode()
    for path in procs_files:
        fd = os.open(path, os.O_WRONLY)
        try:
            os.write(fd, pid)
        finally:
            os.close(fd)
    for which, soft, hard in limits:
        resource.setrlimit(which, (soft, hard))


def rlimits(limits: Limits, seconds: float, tree_limited: bool = False) -> list[tuple[int, int, int]]:
    """(resource, soft, hard): address space, CPU seconds (``seconds``, what is left of the
    budget; SIGXCPU at the soft limit tells a CPU timeout from a kill), file size, no core
    dumps, and processes when no cgroup counts them (``RLIMIT_NPROC`` counts every
    process of the user)."""
    mib = 1024 * 1024
    cpu = math.ceil(max(seconds, 0)) + 1
    found = [
        (resource.RLIMIT_AS, limits.memory_mb * mib, limits.memory_mb * mib),
        (resource.RLIMIT_CPU, cpu, cpu + 5),
        (resource.RLIMIT_FSIZE, limits.file_mb * mib, limits.file_mb * mib),
        (resource.RLIMIT_CORE, 0, 0),
    ]
    if not tree_limited:
        nproc = _user_tasks() + limits.processes
        found.append((resource.RLIMIT_NPROC, nproc, nproc))
    return found


@functools.cache
def _user_tasks() -> int:
    """How many threads this user ran when grading began (RLIMIT_NPROC counts them all)."""
    uid, count = os.getuid(), 0
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and proc.stat().st_uid == uid:
                count += len(os.listdir(proc / "task"))
        except OSError:
            continue
    return count


def child_env(root: Path) -> dict[str, str]:
    """A minimal environment: no PYTHONPATH, no secrets, single-threaded BLAS."""
    work = str(root / "rw" / "work")
    return {"PATH": "/usr/bin:/bin", "HOME": work, "TMPDIR": work, "LANG": "C.UTF-8",
            "MPLBACKEND": "Agg", "MPLCONFIGDIR": work, "OPENBLAS_NUM_THREADS": "1",
            "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


# --- one attempt ----------------------------------------------------------------------
def _signal_name(code: int) -> str:
    try:
        return signal.Signals(code).name
    except ValueError:
        return f"signal {code}"


def _ending(returncode: int, via_bwrap: bool) -> tuple[str, str]:
    """(status, detail) for a child that stopped without finishing."""
    sig = -returncode if returncode < 0 else (returncode - 128 if via_bwrap and returncode > 128 else 0)
    if sig == signal.SIGXCPU:
        return TIMEOUT, f"CPU time limit reached ({_signal_name(sig)})"
    if sig:
        what = {signal.SIGSEGV: "segmentation fault", signal.SIGABRT: "abort",
                signal.SIGBUS: "bus error", signal.SIGXFSZ: "file size limit",
                signal.SIGKILL: "killed (out of memory?)"}.get(sig, "killed")
        return CRASHED, f"the process died: {what} ({_signal_name(sig)})"
    return CRASHED, f"the process exited early with code {returncode} (os._exit or a crash)"


def progress_plan(job: Job, skip_tests: tuple[int, ...] = ()) -> list[str]:
    """The progress lines an honest child sends for ``job``, in order (``R`` carries the
    Landlock ABI, matched by kind only)."""
    return (["R"] + [f"S {i}" for i in range(len(job.steps))]
            + [f"T {t.index}" for t in job.tests if t.index not in skip_tests] + ["D"])


class _Watch:
    """Reads progress, stdout and stderr of a running child; keeps bounded heads.

    Progress lines must follow :func:`progress_plan` exactly: each valid line is the
    next one expected. Anything else (a step out of order, repeated, out of range,
    garbage) is counted as forged and ignored, so student code writing to the pipe can
    at most claim the real next steps early, which only spends its own budget."""

    def __init__(self, attempt: Attempt, plan: list[str]):
        self.attempt, self.plan, self.position = attempt, plan, 0
        self.partial = b""

    def progress(self, data: bytes) -> bool:
        """Handle progress lines; True when the deadline restarts (a new step began)."""
        *lines, self.partial = (self.partial + data).split(b"\n")
        if len(self.partial) > 64:  # no honest line is that long
            self.attempt.forged += 1
            self.partial = b""
        moved = False
        for raw in lines:
            line = raw.decode("ascii", "replace").strip()
            expected = self.plan[self.position] if self.position < len(self.plan) else None
            kind, _, value = line.partition(" ")
            if expected == "R" and kind == "R" and value.isdigit() and len(value) < 4:
                self.attempt.landlock_abi = int(value)
            elif expected is None or line != expected:
                self.attempt.forged += 1
                continue
            self.position += 1
            if kind == "D":
                self.attempt.finished = True
            elif kind in ("S", "T"):
                self.attempt.last = (kind, int(value))
            moved = True
        return moved

    def output(self, name: str, data: bytes) -> None:
        kept = getattr(self.attempt, name)
        if len(kept) < OUTPUT_HEAD:
            setattr(self.attempt, name, kept + data[: OUTPUT_HEAD - len(kept)])
        setattr(self.attempt, f"{name}_total", getattr(self.attempt, f"{name}_total") + len(data))


def _pump(proc: subprocess.Popen, progress_fd: int, watch: _Watch, clock: StepClock) -> str | None:
    """Read the child's pipes until it ends; None when it ended in time, else the deadline
    that passed first (:meth:`StepClock.end`: the step's own, the added cells'
    allowance, or the end of the submission's total budget)."""
    selector = selectors.DefaultSelector()
    selector.register(progress_fd, selectors.EVENT_READ, "progress")
    selector.register(proc.stdout, selectors.EVENT_READ, "stdout")
    selector.register(proc.stderr, selectors.EVENT_READ, "stderr")
    try:
        while selector.get_map():
            now = time.monotonic()
            end, which = clock.end()
            if now >= end:
                return which
            for key, _ in selector.select(timeout=end - now):
                data = os.read(key.fd if key.data == "progress" else key.fileobj.fileno(), 65536)
                if not data:
                    selector.unregister(key.fileobj)
                elif key.data == "progress":
                    if watch.progress(data):
                        if watch.attempt.finished:  # "done": drain what is left, briefly
                            clock.finish(time.monotonic())
                        else:
                            clock.step(watch.attempt.last, time.monotonic())
                else:
                    watch.output(key.data, data)
        if watch.attempt.finished:
            return None
        end, which = clock.end()
        try:  # the pipes closed: the child is ending (or it closed them itself)
            proc.wait(timeout=max(end - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            return which
        return None
    finally:
        clock.stop(time.monotonic())
        selector.close()


def _expired_detail(which: str, limits: Limits) -> str:
    """Why an attempt was killed, for the step or test that was running."""
    return {"step": f"no answer within {limits.timeout:g} s (killed)",
            "added": f"stopped: the cells you added used up the {limits.added_allowance:g} s "
                     "they share (killed)",
            "budget": "the submission's total time budget was used up (killed)"}[which]


def run_once(command: list[str], root: Path, limits: Limits, via_bwrap: bool,
             plan: list[str], overall: float, added: AddedTime,
             tree: cgroup.Hierarchy | None = None) -> Attempt:
    """Start the child (in a fresh cgroup when there is one), watch it, and kill its
    process group and every process of its cgroup at the end, whatever happened.
    ``overall`` is the monotonic end of the submission's budget; ``added`` is charged
    the time of the added cells this attempt runs."""
    attempt = Attempt()
    group = (cgroup.Group.create(tree, limits.tree_bytes, limits.processes)
             if tree else None)
    try:
        read_fd, write_fd = os.pipe()
        try:
            proc = subprocess.Popen(
                [*command, str(write_fd)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.PIPE, pass_fds=(write_fd,), cwd=root / "rw" / "work",
                env=child_env(root), start_new_session=True,
                preexec_fn=functools.partial(
                    _enter, group.join_paths() if group else [],
                    rlimits(limits, overall - time.monotonic(), group is not None)),
            )
        except BaseException:
            os.close(read_fd)
            raise
        finally:
            os.close(write_fd)
        watch = _Watch(attempt, plan)
        try:
            expired = _pump(proc, read_fd, watch,
                            StepClock(limits, added, overall, time.monotonic()))
        finally:
            try:
                os.killpg(proc.pid, signal.SIGKILL)  # the group, while the zombie holds its id
            except (ProcessLookupError, PermissionError):
                pass
            if group:
                group.kill()  # also what left the process group (setsid, double fork)
            proc.wait()
            for pipe in (proc.stdout, proc.stderr):
                pipe.close()
            os.close(read_fd)
    finally:
        if group:
            attempt.peak_bytes, attempt.oom_kills = group.peak_bytes(), group.oom_kills()
            group.remove()
    if not attempt.finished:
        if expired:
            attempt.status, attempt.expired = TIMEOUT, expired
            attempt.detail = _expired_detail(expired, limits)
        else:
            attempt.status, attempt.detail = _ending(proc.returncode, via_bwrap)
            if attempt.oom_kills:
                attempt.detail = (f"the process tree ran out of memory (all its processes "
                                  f"together may use {limits.tree_bytes >> 20} MB); {attempt.detail}")
    return attempt


# --- a whole submission -----------------------------------------------------------------
def answered(root: Path, test: int) -> bool:
    """Did the child leave an answer record for ``test`` (whatever it holds)?"""
    return os.path.lexists(root / "rw" / "out" / f"test_{test}.json")


def write_new(path: Path, data: bytes) -> None:
    """Replace ``path`` without following a link someone may have put there."""
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)


def _reachable_by_others(path: str) -> bool:
    """Can a user other than the owner read ``path`` (every parent searchable)?"""
    p = Path(path).resolve()
    dirs_ok = all(os.stat(d).st_mode & 0o001 for d in [*p.parents][::-1] if d != p)
    return dirs_ok and bool(os.stat(p).st_mode & 0o004)


def unprivileged_user(python: str, sites: list[str], use_bwrap: bool) -> int | None:
    """The uid the child drops to: ``nobody`` when we are root, else None (we are not).

    Inside bubblewrap the paths the child reads are re-created reachable; without it,
    ``nobody`` must be able to reach the interpreter and site-packages as they are.
    Raises ``RuntimeError`` when we are root and the child could not run as ``nobody``."""
    if os.geteuid() != 0:
        return None
    if use_bwrap:
        return NOBODY
    try:
        ok = all(_reachable_by_others(p) for p in [python, sys.base_prefix, *sites])
    except OSError:
        ok = False
    if not ok:
        raise RuntimeError(
            f"the student's code would run as root: user nobody cannot reach {python} and "
            "its site-packages; install bubblewrap (apt-get install bubblewrap, or "
            "`make system-deps`), or install Python where every user can read it")
    return NOBODY


def containment_gaps(tree: cgroup.Hierarchy | None, use_bwrap: bool, mount: bool) -> list[str]:
    """What is missing for limits on the whole tree and the disk, with what to do."""
    gaps = []
    if tree is None:
        gaps.append("memory and process limits on the whole process tree need cgroups: run "
                    "the grader as root where /sys/fs/cgroup has cgroup v2 with the memory and "
                    "pids controllers, or cgroup v1 memory and pids hierarchies")
    if not (mount or use_bwrap):
        gaps.append("a size-limited scratch folder needs bubblewrap (apt-get install "
                    "bubblewrap, or `make system-deps`) or a grader allowed to mount tmpfs (root)")
    return gaps


@dataclass(frozen=True)
class Launcher:
    """How children are started for a batch (decided once: layers, paths, limits)."""

    limits: Limits
    use_bwrap: bool
    use_landlock: bool
    sites: tuple[str, ...]
    python: str
    user: int | None  # the uid the child drops to (None: the grader is not root)
    tree: cgroup.Hierarchy | None = None
    mount_scratch: bool = False
    unsafe: bool = False

    @classmethod
    def create(cls, limits: Limits, isolation: str = "auto", unsafe: bool = False) -> Launcher:
        """Decide the layers; refuse (``RuntimeError`` saying what to install) when the
        whole tree, the disk or the uid cannot be limited, unless ``unsafe``."""
        use_bwrap, use_landlock = layers(isolation)
        sites, python = site_paths(), python_executable()
        try:
            user = unprivileged_user(python, sites, use_bwrap)
        except RuntimeError:
            if not unsafe:
                raise
            user = None
        tree, mount = cgroup.hierarchy(), scratch.can_mount()
        scratch.sweep_stale()  # what a killed grader left behind (its cleanup never ran)
        if tree is not None:
            cgroup.sweep_stale(tree)
        gaps = containment_gaps(tree, use_bwrap, mount)
        if gaps and not unsafe:
            raise RuntimeError("refusing to run untrusted code without: " + "; ".join(gaps)
                               + " (or pass --unsafe to grade anyway)")
        return cls(limits, use_bwrap, use_landlock, tuple(sites), python, user, tree, mount,
                   unsafe)

    def describe(self) -> str:
        used = [name for name, on in (("bubblewrap", self.use_bwrap),
                                      ("Landlock", self.use_landlock),
                                      ("user nobody", self.user is not None),
                                      (self.tree.describe() if self.tree else "", bool(self.tree)),
                                      ("tmpfs scratch", self.mount_scratch or self.use_bwrap),
                                      ("UNSAFE", self.unsafe)) if on]
        return ", ".join(used + ["rlimits", "python -I -S", "course_nn blocked"])

    def scratch(self) -> scratch.Scratch:
        """A fresh temp folder for one submission (removed by ``close``, whatever it holds)."""
        mib = 1024 * 1024
        return scratch.Scratch.create(self.limits.disk_mb * mib, self.limits.inodes, self.user,
                                      self.mount_scratch)

    def command(self, root: Path, scratch_mounted: bool = False) -> list[str]:
        control = root / "control"
        child = [self.python, "-I", "-S", "-B", "-u", str(control / "child.py"), str(control),
                 str(root / "rw"), str(self.user if self.user is not None else -1)]
        prefix = (bwrap_prefix(list(self.sites), root, self.limits, scratch_mounted)
                  if self.use_bwrap else [])
        return prefix + child

    def prepare(self, root: Path, inputs: dict) -> None:
        """``control/``: the child script and the inputs (``rw/`` is made by the scratch)."""
        import numpy as np

        control = root / "control"
        control.mkdir(mode=0o755)
        shutil.copyfile(CHILD, control / "child.py")
        np.savez(control / "inputs.npz", **inputs)
        for path in control.iterdir():
            os.chmod(path, 0o644)

    def run(self, root: Path, job: Job, scratch_mounted: bool = False) -> RunOutcome:
        """Run the child until it finishes, skipping each step that timed out or crashed,
        all within one wall-clock budget for the submission (:func:`job_budget`); the
        cells the student added share ``Limits.added_allowance``, and once it is used up
        none of them runs again."""
        tests = [t.index for t in job.tests]
        added = AddedTime(self.limits.added_allowance, added_steps(job))
        outcome = RunOutcome(budget=job_budget(self.limits, job), added=added)
        overall = time.monotonic() + outcome.budget
        skip_steps: set[int] = set()
        skip_tests: set[int] = set()
        for _ in range(len(job.steps) + len(tests) + 1):
            done = {t for t in tests if answered(root, t)}
            if time.monotonic() >= overall:
                outcome.budget_spent = True
                break
            launch = Launch(self.sites, (*read_paths(list(self.sites)), str(root / "control")),
                            self.use_landlock, tuple(sorted(skip_steps)),
                            tuple(sorted(skip_tests | done)))
            write_new(root / "control" / "job.json", job.to_json(launch).encode())
            attempt = run_once(self.command(root, scratch_mounted), root, self.limits,
                               self.use_bwrap, progress_plan(job, launch.skip_tests), overall,
                               added, self.tree)
            outcome.attempts.append(attempt)
            if attempt.finished:
                break
            kind, index = attempt.last or ("", -1)
            if kind == "S":
                outcome.step_failures[index] = (attempt.status, attempt.detail)
                skip_steps.add(index)
            elif kind == "T":
                if not answered(root, index):
                    outcome.test_failures[index] = (attempt.status, attempt.detail)
                skip_tests.add(index)
            else:
                outcome.startup_failure = (attempt.status or CRASHED, attempt.detail)
                break
            if attempt.expired == "added":
                _stop_added_cells(outcome, job, index, skip_steps)
        if outcome.budget_spent or time.monotonic() >= overall:
            outcome.budget_spent = True
            for t in tests:
                if not answered(root, t) and t not in outcome.test_failures:
                    outcome.test_failures[t] = (
                        TIMEOUT, f"the submission's total time budget ({outcome.budget:g} s) "
                                 "was used up")
        return outcome


def _stop_added_cells(outcome: RunOutcome, job: Job, stopped: int, skip_steps: set[int]) -> None:
    """The added cells' allowance ran out while step ``stopped`` ran: no added cell runs
    again (each is a step failure, so a test needing a function one defines says why)."""
    added = outcome.added
    if added is None:
        return
    added.spent, added.stopped = True, stopped
    outcome.stopped_cell = job.steps[stopped].id
    reason = (TIMEOUT, f"not run: the cells you added used up the {added.allowance:g} s "
                       "they share")
    for index in sorted(added.steps - skip_steps):
        outcome.step_failures[index] = reason
        outcome.skipped_added += 1
    skip_steps |= added.steps
