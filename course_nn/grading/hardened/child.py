"""Child side of the hardened grader: runs one submission's code and hands back numbers.

Book: none (instructor tooling); docs/grading.md, "8. Run" and "9. Read back".

Run by path, never imported: ``python -I -S -B -u child.py CONTROL RW UID PROGRESS_FD``.
It imports only the standard library until the sandbox is closed, never ``course_nn``, and
``course_nn`` cannot be imported by the student's code either. Steps, in order:

0. when started as root, drop to ``UID`` (``nobody``) before reading anything;
1. read ``CONTROL/job.json`` (what to run) and ``CONTROL/inputs.npz`` (the case inputs);
2. close the sandbox: Landlock (when the kernel has it) allows reading the Python
   installation and CONTROL, and writing only inside RW; a meta-path finder refuses
   ``course_nn``;
3. run the cells (instructor setup cells, the student's solution cells and the cells
   the student added, in notebook order) in one namespace, each in its own ``try``,
   and collect the graded functions; a plain test cell (the instructor's ``assert``
   cell) runs in its place too and its outcome is saved at once as its test's record;
4. call each graded function on each case (under ``np.errstate(... "raise")`` when the
   check promises no overflow) and save its outputs, split as the reference's output
   is (one array, or a tuple of them), to ``RW/out/test_<t>.npz`` (no pickles) plus a
   JSON of what happened.

Progress lines go to PROGRESS_FD so the parent can give each step its own time
limit and, after a crash or timeout, knows which step to blame and skip.
"""

import copy
import json
import os
import signal
import sys
import traceback
import warnings

MESSAGE_LIMIT = 2000
BLOCKED = "course_nn"


# --- progress ----------------------------------------------------------------------
class Progress:
    """Writes one line per step to the parent; never fails (the student may close the fd)."""

    def __init__(self, fd):
        self.fd = fd

    def send(self, line):
        try:
            os.write(self.fd, (line + "\n").encode())
        except OSError:
            pass


# --- sandbox -----------------------------------------------------------------------
def drop_privileges(uid):
    """Become ``uid`` for good (no groups, no capabilities left); -1 keeps the user."""
    if uid < 0 or os.getuid() == uid:
        return
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise SystemExit("could not drop privileges")


class BlockCourseNN:
    """Meta-path finder: ``import course_nn`` fails while grading, with a reason."""

    def find_spec(self, name, path=None, target=None):
        if name == BLOCKED or name.startswith(BLOCKED + "."):
            raise ModuleNotFoundError(
                f"No module named {name!r}: the course's reference code is not available "
                "while grading; write the function yourself", name=name)
        return None

    def find_module(self, name, path=None):  # pragma: no cover (old protocol)
        return None


# Landlock (Linux >= 5.13): an unprivileged, per-process file-system allow-list.
LL_FS_EXECUTE, LL_FS_WRITE_FILE, LL_FS_READ_FILE, LL_FS_READ_DIR = 1, 2, 4, 8
LL_FS_REFER, LL_FS_TRUNCATE, LL_FS_IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
LL_READ = LL_FS_EXECUTE | LL_FS_READ_FILE | LL_FS_READ_DIR
LL_FILE_ONLY = LL_FS_EXECUTE | LL_FS_WRITE_FILE | LL_FS_READ_FILE | LL_FS_TRUNCATE | LL_FS_IOCTL_DEV
SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446
PR_SET_NO_NEW_PRIVS = 38


def _handled_fs(abi):
    access = (1 << 13) - 1  # execute .. make_sym, every ABI
    if abi >= 2:
        access |= LL_FS_REFER
    if abi >= 3:
        access |= LL_FS_TRUNCATE
    if abi >= 5:
        access |= LL_FS_IOCTL_DEV
    return access


def landlock(read_paths, write_paths):
    """Allow reading ``read_paths`` and writing ``write_paths`` only; also deny TCP
    (ABI >= 4) and signals to processes outside (ABI >= 6). Returns the ABI, 0 if absent."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    abi = libc.syscall(ctypes.c_long(SYS_CREATE_RULESET), None, ctypes.c_size_t(0),
                       ctypes.c_uint32(1))
    if abi < 1:
        return 0

    class RulesetAttr(ctypes.Structure):
        _fields_ = [("fs", ctypes.c_uint64), ("net", ctypes.c_uint64), ("scoped", ctypes.c_uint64)]

    class PathBeneath(ctypes.Structure):
        _pack_ = 1
        _fields_ = [("allowed", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]

    handled = _handled_fs(abi)
    attr = RulesetAttr(handled, 3 if abi >= 4 else 0, 3 if abi >= 6 else 0)
    size = 8 if abi < 4 else 16 if abi < 6 else 24
    ruleset = libc.syscall(ctypes.c_long(SYS_CREATE_RULESET), ctypes.byref(attr),
                           ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return 0
    rules = [(p, LL_READ | LL_FS_IOCTL_DEV) for p in read_paths]
    rules += [(p, handled) for p in write_paths]
    for path, access in rules:
        try:
            fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
        except OSError:
            continue
        is_dir = os.path.isdir(path)
        rule = PathBeneath(access & handled & (~0 if is_dir else LL_FILE_ONLY), fd)
        libc.syscall(ctypes.c_long(SYS_ADD_RULE), ctypes.c_int(ruleset), ctypes.c_int(1),
                     ctypes.byref(rule), ctypes.c_uint32(0))
        os.close(fd)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if libc.syscall(ctypes.c_long(SYS_RESTRICT_SELF), ctypes.c_int(ruleset), ctypes.c_uint32(0)):
        return 0
    os.close(ruleset)
    return abi


# --- inputs and outputs ------------------------------------------------------------
def decode(spec, arrays):
    """Rebuild an argument from its JSON description; arrays are fresh copies."""
    if "a" in spec:
        return arrays[spec["a"]].copy()
    if "s" in spec:
        return arrays[spec["s"]][()]
    if "v" in spec:
        return spec["v"]
    if "t" in spec:
        return tuple(decode(item, arrays) for item in spec["t"])
    if "l" in spec:
        return [decode(item, arrays) for item in spec["l"]]
    if "d" in spec:
        return {key: decode(item, arrays) for key, item in spec["d"].items()}
    raise ValueError(f"unknown input spec {spec!r}")


def same(a, b, np):
    """Did a call leave its argument unchanged? (The in-place mutation check.)"""
    if isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
        a, b = np.asarray(a), np.asarray(b)
        return a.shape == b.shape and bool(np.array_equal(a, b, equal_nan=a.dtype.kind in "fc"))
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(same(x, y, np) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same(a[k], b[k], np) for k in a)
    try:
        return bool(a == b) or (a != a and b != b)
    except Exception:
        return False


def flatten_output(obj, np):
    """The same rule as course_nn.grading.compare.flatten_output (kept in sync by a test)."""
    if isinstance(obj, (tuple, list)) and any(
        isinstance(item, (tuple, list, np.ndarray)) or hasattr(item, "__array__") for item in obj
    ):
        return [leaf for item in obj for leaf in flatten_output(item, np)]
    return [obj]


def by_structure(obj, structure):
    """The leaves of ``obj`` split as the reference's output is (``"leaf"``: one array,
    a list: a tuple of parts), or None when ``obj`` does not have that structure."""
    if structure == "leaf":
        return [obj]
    if structure == "flat":  # a form-only answer: every number, however it is nested
        return flat_leaves(obj)
    if not isinstance(structure, list) or not isinstance(obj, (tuple, list)) \
            or len(obj) != len(structure):
        return None
    leaves = []
    for item, part in zip(obj, structure, strict=True):
        found = by_structure(item, part)
        if found is None:
            return None
        leaves += found
    return leaves


def flat_leaves(obj, depth=8):
    """The leaves of nested tuples and lists (at most ``depth`` levels; deeper, the rest is
    one leaf, which then is not numbers)."""
    if depth and isinstance(obj, (tuple, list)):
        return [leaf for item in obj for leaf in flat_leaves(item, depth - 1)]
    return [obj]


def convert(leaves, np, limit):
    """``[(array or None, problem or None)]`` for each leaf; None when there are none."""
    if leaves is None:
        return None
    return [to_numbers(leaf, np, limit) for leaf in leaves]


def to_numbers(leaf, np, limit):
    """A numeric array for ``leaf``, or a short reason why it is not numbers."""
    try:
        if hasattr(leaf, "detach"):
            leaf = leaf.detach().cpu().numpy()
        arr = np.asarray(leaf)
        if arr.dtype.kind == "O":
            arr = np.asarray(leaf, dtype=float)
    except Exception:
        return None, type(leaf).__name__
    if arr.dtype.kind not in "biufc":
        return None, type(leaf).__name__
    if arr.size > limit:
        return None, f"array of {arr.size} entries (more than {limit})"
    return np.array(arr, order="C", copy=True), None  # keeps 0-d arrays 0-d


def describe(err):
    """``{"type": ..., "message": ..., "where": ...}`` for an exception, bounded in size."""
    frames = [f for f in traceback.extract_tb(err.__traceback__) if f.filename.startswith("<")]
    where = f"{frames[-1].filename} line {frames[-1].lineno}" if frames else ""
    try:
        text = str(err)
    except Exception:
        text = "(unprintable)"
    return {"type": type(err).__name__, "message": text[:MESSAGE_LIMIT], "where": where}


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh)
    os.replace(tmp, path)


# --- running -----------------------------------------------------------------------
def save_record(out, index, record, saved, np):
    """``out/test_<index>.npz`` and ``.json``: one test's answers, each file atomic."""
    path = os.path.join(out, f"test_{index}")
    np.savez(path + ".tmp.npz", **saved)
    os.replace(path + ".tmp.npz", path + ".npz")
    write_json(path + ".json", record)


def run_test_cell(step, namespace):
    """Run a plain test cell as nbgrader runs it: it passes when nothing is raised.

    The record says what was raised and on which line of the test cell (``line``, 0 when
    no frame of the test cell is on the traceback), so the parent can tell a public
    line from a hidden test without the child knowing which is which."""
    filename = f"<test {step['id']}>"
    try:
        exec(compile(step["source"], filename, "exec"), namespace)
    except BaseException as err:  # noqa: BLE001 (SystemExit, KeyboardInterrupt too)
        lines = [f.lineno for f in traceback.extract_tb(err.__traceback__)
                 if f.filename == filename]
        if isinstance(err, SyntaxError) and err.filename == filename:
            lines.append(err.lineno or 0)
        return {"exception": describe(err), "line": lines[-1] if lines else 0}
    return {"passed": True}


def run_cells(job, namespace, progress, skip, out=None, np=None):
    """Child step 3: run every cell; collectors record the graded functions (or why not);
    a plain test cell's outcome is saved to ``out`` as soon as it is known."""
    errors, functions = {}, {}
    for index, step in enumerate(job["steps"]):
        progress.send(f"S {index}")
        if index in skip:
            continue
        if step["kind"] == "cell":
            try:
                code = compile(step["source"], f"<cell {step['id']}>", "exec")
                exec(code, namespace)
            except BaseException as err:  # noqa: BLE001 (SystemExit, KeyboardInterrupt too)
                errors[str(index)] = describe(err)
        elif step["kind"] == "test":
            outcome = run_test_cell(step, namespace)
            if out is not None:
                save_record(out, step["test"], {"calls": [], "cell": outcome}, {}, np)
        else:
            for number, expr in enumerate(step["exprs"]):
                try:
                    functions[(step["test"], number)] = eval(expr, namespace)
                except BaseException as err:  # noqa: BLE001
                    functions[(step["test"], number)] = describe(err)
    return errors, functions


def array_leaves(obj, np, depth=8):
    """The NumPy arrays in ``obj`` (nested tuples, lists and dicts), at most ``depth`` deep
    (``course_nn.grading.core.array_leaves``, which the child cannot import)."""
    if isinstance(obj, np.ndarray):
        return [obj]
    if depth <= 0:
        return []
    parts = obj.values() if isinstance(obj, dict) else obj if isinstance(obj, (tuple, list)) else ()
    return [leaf for part in parts for leaf in array_leaves(part, np, depth - 1)]


def shares_memory(got, args, np):
    """Does an array of the answer lie in the memory of an input array (a view of it)?"""
    inputs = array_leaves(list(args), np)
    return any(np.may_share_memory(out, arg) for out in array_leaves(got, np) for arg in inputs)


def call_case(func, args, np, limit, structure=None, float_errors=False, fresh_arrays=False):
    """Call ``func(*args)``; return (result record, arrays to save).

    With ``float_errors`` the record's ``float_switch`` lists the error kinds the call
    left switched away from "raise" (``np.seterr`` inside the function leaks past it)."""
    pristine = copy.deepcopy(args)
    raised = ("over", "invalid", "divide")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            if float_errors:
                with np.errstate(over="raise", invalid="raise", divide="raise"):
                    got = func(*args)
                    state = np.geterr()  # still the grader's setting?
                switched = [k for k in raised if not isinstance(state, dict) or state.get(k) != "raise"]
            else:
                got, switched = func(*args), []
        except BaseException as err:  # noqa: BLE001
            return {"exception": describe(err)}, []
    record = {"leaves": []}
    if switched:
        record["float_switch"] = switched
    if caught:
        first = caught[0]
        record["warning"] = f"{first.category.__name__}: {first.message}"[:MESSAGE_LIMIT]
    record["mutated"] = [i for i, (a, b) in enumerate(zip(pristine, args, strict=True))
                        if not same(a, b, np)]
    try:
        if fresh_arrays and shares_memory(got, args, np):
            record["shares_input"] = True
        found = convert(by_structure(got, structure), np, limit) if structure is not None else None
        if found is None or any(problem for _, problem in found):
            found = convert(flatten_output(got, np), np, limit)
        elif any(isinstance(leaf, (list, tuple)) for leaf in by_structure(got, structure)):
            record["note"] = ("returned a list where the reference returns an array; "
                              "it was read with np.asarray")
    except BaseException as err:  # noqa: BLE001
        return {"exception": describe(err)}, []
    arrays = []
    for arr, problem in found:
        record["leaves"].append({"type": problem} if problem else {"n": len(arrays)})
        if arr is not None:
            arrays.append(arr)
    return record, arrays


def run_test(job, test, functions, arrays, np, out):
    """Child step 4 for one test: every case of every check call, saved as soon as done."""
    result, saved = {"calls": []}, {}
    for number, call in enumerate(test["calls"]):
        func = functions.get((test["index"], number))
        if not callable(func):
            missing = {"type": "TypeError", "message": f"{func!r} is not a function"}
            result["calls"].append({"unavailable": func if isinstance(func, dict) else missing})
            continue
        records, shapes = [], call.get("structures") or []
        for k, case in enumerate(call["cases"]):
            args = [decode(spec, arrays) for spec in case]
            record, leaves = call_case(func, args, np, job["max_leaf_elements"],
                                       shapes[k] if k < len(shapes) else None,
                                       bool(call.get("float_errors")),
                                       bool(call.get("fresh_arrays")))
            for leaf in record.get("leaves", []):
                if "n" in leaf:
                    key = f"c{number}_k{k}_{leaf['n']}"
                    saved[key] = leaves[leaf["n"]]
                    leaf["key"] = key
            records.append(record)
            if "exception" in record:
                break  # the first exception decides the test: skip the remaining cases
        result["calls"].append({"cases": records})
    save_record(out, test["index"], result, saved, np)


def main(control, rw, uid, progress_fd):
    drop_privileges(uid)
    progress = Progress(progress_fd)
    with open(os.path.join(control, "job.json"), encoding="utf-8") as fh:
        job = json.load(fh)
    out = os.path.join(rw, "out")
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a too-large file is an OSError, not a kill
    abi = landlock(job["read_paths"], [rw]) if job.get("landlock") else 0
    sys.meta_path.insert(0, BlockCourseNN())
    sys.path.extend(job["site_paths"])
    import numpy as np

    with np.load(os.path.join(control, "inputs.npz"), allow_pickle=False) as data:
        arrays = {key: data[key] for key in data.files}
    progress.send(f"R {abi}")
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    errors, functions = run_cells(job, namespace, progress, set(job["skip_steps"]), out, np)
    write_json(os.path.join(out, "cells.json"), errors)
    test_cells = {step["test"] for step in job["steps"] if step["kind"] == "test"}
    for test in job["tests"]:
        if test["index"] in job["skip_tests"]:
            continue
        progress.send(f"T {test['index']}")
        if test["index"] not in test_cells:  # a test cell's record was saved in its step
            run_test(job, test, functions, arrays, np, out)
    progress.send("D")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    sys.stdout.flush()
    os._exit(0)  # skip interpreter teardown: student atexit hooks and __del__ do not run
