"""Run a submission's child process under limits, and restart it after a crash or timeout.

Book: none (instructor tooling); DESIGN.md, "Grading: two paths, one set of checks", step c.

Layers, outermost first (each optional layer is used when the machine has it; the
design holds without them):

* bubblewrap (``bwrap``), when installed: a new mount namespace showing only the Python
  installation, its site-packages, the job's control folder (read-only) and its
  writable folder; no network, own PID namespace;
* Landlock, when the kernel has it (applied by the child before student code): the
  same allow-list enforced by the kernel, plus no TCP and no signals to the outside;
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
"""

from __future__ import annotations

import ctypes
import functools
import json
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

from course_nn.grading.hardened.model import CRASHED, TIMEOUT

CHILD = Path(__file__).with_name("child.py")
OUTPUT_HEAD = 32_000  # bytes of stdout/stderr kept for the feedback
DRAIN = 1.0  # seconds to collect the last output after the child said "done"
ISOLATIONS = ("auto", "bwrap", "landlock", "basic")


@dataclass(frozen=True)
class Limits:
    """Per-submission limits; ``timeout`` is per step (a cell or a test)."""

    timeout: float = 30.0
    startup: float = 60.0  # interpreter start and ``import numpy`` on a loaded machine
    memory_mb: int = 2048
    file_mb: int = 64
    processes: int = 256  # on top of the processes the user already runs

    def budget(self, steps: int) -> float:
        return self.startup + self.timeout * max(steps, 1)


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


@dataclass
class RunOutcome:
    """All attempts of one submission, with the steps and tests that had to be skipped."""

    step_failures: dict[int, tuple[str, str]] = field(default_factory=dict)
    test_failures: dict[int, tuple[str, str]] = field(default_factory=dict)
    startup_failure: tuple[str, str] | None = None
    attempts: list[Attempt] = field(default_factory=list)

    def output(self, name: str) -> str:
        """The kept head of stdout or stderr over all attempts, with what was dropped."""
        head = b"".join(getattr(a, name) for a in self.attempts)[:OUTPUT_HEAD]
        total = sum(getattr(a, f"{name}_total") for a in self.attempts)
        text = head.decode("utf-8", "replace")
        if total > len(head):
            text += f"\n[... {total - len(head)} more bytes not kept]"
        return text


# --- what the machine offers ----------------------------------------------------------
@functools.cache
def bwrap_works() -> bool:
    """``bwrap`` is installed and can create namespaces here (containers may forbid it)."""
    exe = shutil.which("bwrap")
    if not exe:
        return False
    probe = [exe, "--unshare-all", "--die-with-parent", "--ro-bind", "/", "/", "true"]
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


def bwrap_prefix(sites: list[str], root: Path) -> list[str]:
    """The bubblewrap command line: a fresh root with read-only system parts, the control
    folder read-only and only ``rw/`` writable."""
    cmd = [shutil.which("bwrap") or "bwrap", "--unshare-all", "--die-with-parent",
           "--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"]
    for path in read_paths(sites):
        if path not in ("/proc", "/dev"):
            cmd += ["--ro-bind", path, path]
    for path in sites:  # a non-editable course_nn install stays hidden
        if (Path(path) / "course_nn").exists():
            cmd += ["--tmpfs", str(Path(path) / "course_nn")]
    control, rw = root / "control", root / "rw"
    return cmd + ["--ro-bind", str(control), str(control), "--bind", str(rw), str(rw),
                  "--chdir", str(rw / "work"), "--"]


def _set_limits(limits: list[tuple[int, int, int]]) -> None:  # runs in the child before exec
    for which, soft, hard in limits:
        resource.setrlimit(which, (soft, hard))


def rlimits(limits: Limits, steps: int) -> list[tuple[int, int, int]]:
    """(resource, soft, hard): address space, CPU seconds (the whole budget; SIGXCPU at the
    soft limit tells a CPU timeout from a kill), file size, processes, no core dumps."""
    mib = 1024 * 1024
    cpu = int(limits.budget(steps)) + 1
    nproc = _user_tasks() + limits.processes
    return [
        (resource.RLIMIT_AS, limits.memory_mb * mib, limits.memory_mb * mib),
        (resource.RLIMIT_CPU, cpu, cpu + 5),
        (resource.RLIMIT_FSIZE, limits.file_mb * mib, limits.file_mb * mib),
        (resource.RLIMIT_NPROC, nproc, nproc),
        (resource.RLIMIT_CORE, 0, 0),
    ]


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


class _Watch:
    """Reads progress, stdout and stderr of a running child; keeps bounded heads."""

    def __init__(self, attempt: Attempt, limits: Limits, steps: int):
        self.attempt, self.limits, self.steps = attempt, limits, steps
        self.seen: tuple[str, int] = ("", -1)
        self.partial = b""

    def progress(self, data: bytes) -> bool:
        """Handle progress lines; True when the deadline restarts (a new step began)."""
        *lines, self.partial = (self.partial + data).split(b"\n")
        moved = False
        for line in lines:
            kind, _, value = line.decode("ascii", "replace").partition(" ")
            if kind == "D":
                self.attempt.finished = True
            elif kind == "R" and value.isdigit() and self.seen == ("", -1):
                self.attempt.landlock_abi, self.seen, moved = int(value), ("R", 0), True
            elif kind in "ST" and kind and value.isdigit() and self._forward(kind, int(value)):
                self.attempt.last, self.seen, moved = (kind, int(value)), (kind, int(value)), True
        return moved

    def _forward(self, kind: str, value: int) -> bool:
        # Steps only move forward (a forged line cannot buy more than the budget).
        order = {"R": 0, "S": 1, "T": 2}
        return (order[kind], value) > (order.get(self.seen[0], -1), self.seen[1])

    def output(self, name: str, data: bytes) -> None:
        kept = getattr(self.attempt, name)
        if len(kept) < OUTPUT_HEAD:
            setattr(self.attempt, name, kept + data[: OUTPUT_HEAD - len(kept)])
        setattr(self.attempt, f"{name}_total", getattr(self.attempt, f"{name}_total") + len(data))


def _pump(proc: subprocess.Popen, progress_fd: int, watch: _Watch, limits: Limits,
          steps: int) -> bool:
    """Read the child's pipes until it ends; False when a deadline passed."""
    start = time.monotonic()
    overall = start + limits.budget(steps)
    deadline = start + limits.startup
    selector = selectors.DefaultSelector()
    selector.register(progress_fd, selectors.EVENT_READ, "progress")
    selector.register(proc.stdout, selectors.EVENT_READ, "stdout")
    selector.register(proc.stderr, selectors.EVENT_READ, "stderr")
    try:
        while selector.get_map():
            now = time.monotonic()
            if watch.attempt.finished:  # "done": drain what is left, briefly
                deadline = min(deadline, now + DRAIN)
            if now >= min(deadline, overall):
                break
            for key, _ in selector.select(timeout=min(deadline, overall) - now):
                data = os.read(key.fd if key.data == "progress" else key.fileobj.fileno(), 65536)
                if not data:
                    selector.unregister(key.fileobj)
                elif key.data == "progress":
                    if watch.progress(data):
                        deadline = time.monotonic() + limits.timeout
                else:
                    watch.output(key.data, data)
        if watch.attempt.finished:
            return True
        try:  # the pipes closed: the child is ending (or it closed them itself)
            proc.wait(timeout=max(min(deadline, overall) - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            return False
        return True
    finally:
        selector.close()


def run_once(command: list[str], root: Path, limits: Limits, steps: int, via_bwrap: bool,
             user: int | None) -> Attempt:
    """Start the child, watch it, kill its process group at the end whatever happened."""
    attempt = Attempt()
    read_fd, write_fd = os.pipe()
    try:
        proc = subprocess.Popen(
            [*command, str(write_fd)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, pass_fds=(write_fd,), cwd=root / "rw" / "work",
            env=child_env(root),
            start_new_session=True, user=user,
            preexec_fn=functools.partial(_set_limits, rlimits(limits, steps)),
        )
    finally:
        os.close(write_fd)
    watch = _Watch(attempt, limits, steps)
    try:
        in_time = _pump(proc, read_fd, watch, limits, steps)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)  # the group, while the zombie still holds its id
        except (ProcessLookupError, PermissionError):
            pass
        proc.wait()
        for pipe in (proc.stdout, proc.stderr):
            pipe.close()
        os.close(read_fd)
    if not attempt.finished:
        if not in_time:
            attempt.status = TIMEOUT
            attempt.detail = f"no answer within {limits.timeout:g} s (killed)"
        else:
            attempt.status, attempt.detail = _ending(proc.returncode, via_bwrap)
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


def unprivileged_user(python: str, sites: list[str]) -> int | None:
    """``nobody`` for the child when we are root and it can still reach Python, else None.

    Used when neither bubblewrap nor Landlock is there: as ``nobody`` the student's code
    cannot write the course's files nor signal the grader."""
    if os.geteuid() != 0:
        return None
    try:
        ok = all(_reachable_by_others(p) for p in [python, *sites])
    except OSError:
        ok = False
    return 65534 if ok else None


@dataclass(frozen=True)
class Launcher:
    """How children are started for a batch (decided once: layers, paths, limits)."""

    limits: Limits
    use_bwrap: bool
    use_landlock: bool
    sites: tuple[str, ...]
    python: str
    user: int | None

    @classmethod
    def create(cls, limits: Limits, isolation: str = "auto") -> Launcher:
        use_bwrap, use_landlock = layers(isolation)
        sites, python = site_paths(), python_executable()
        user = None if (use_bwrap or use_landlock) else unprivileged_user(python, sites)
        return cls(limits, use_bwrap, use_landlock, tuple(sites), python, user)

    def describe(self) -> str:
        used = [name for name, on in (("bubblewrap", self.use_bwrap),
                                      ("Landlock", self.use_landlock),
                                      ("user nobody", self.user is not None)) if on]
        return ", ".join(used + ["rlimits", "python -I -S", "course_nn blocked"])

    def command(self, root: Path) -> list[str]:
        control = root / "control"
        child = [self.python, "-I", "-S", "-B", "-u", str(control / "child.py"), str(control),
                 str(root / "rw")]
        return (bwrap_prefix(list(self.sites), root) if self.use_bwrap else []) + child

    def prepare(self, root: Path, job: dict, inputs: dict) -> None:
        """``control/``: the child script and the inputs; ``rw/``: empty work and out folders."""
        import numpy as np

        control = root / "control"
        control.mkdir(mode=0o755)
        for sub in ("work", "out"):
            (root / "rw" / sub).mkdir(parents=True)
        shutil.copyfile(CHILD, control / "child.py")
        np.savez(control / "inputs.npz", **inputs)
        job.update(site_paths=list(self.sites),
                   read_paths=[*read_paths(list(self.sites)), str(control)],
                   landlock=self.use_landlock)
        if self.user is not None:
            os.chmod(root, 0o711)  # the unprivileged child must reach control/ and rw/
            for path in [root / "rw", *(root / "rw").rglob("*")]:
                os.chown(path, self.user, self.user)

    def run(self, root: Path, job: dict) -> RunOutcome:
        """Run the child until it finishes, skipping each step that timed out or crashed."""
        outcome, steps = RunOutcome(), len(job["steps"])
        tests = [t["index"] for t in job["tests"]]
        skip_steps: set[int] = set()
        skip_tests: set[int] = set()
        for _ in range(steps + len(tests) + 1):
            done = {t for t in tests if answered(root, t)}
            job.update(skip_steps=sorted(skip_steps), skip_tests=sorted(skip_tests | done))
            write_new(root / "control" / "job.json", json.dumps(job).encode())
            todo = len(set(tests) - skip_tests - done)
            attempt = run_once(self.command(root), root, self.limits, steps + todo,
                               self.use_bwrap, self.user)
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
        return outcome
