"""Record what the for-credit bundle's checks need, from the live registry (docs/releases.md).

Book: none (instructor tooling; this module is not in the bundle).

For every public case of a check: its arguments, the reference's output, and the
*typical mistakes*: the outputs the check's hints compare a student's output with
(``X @ W.T`` without the bias, a softmax over the wrong axis, ...), each with the hint
the full course gives for it. The mistakes are found without knowing how a hint is
written: each hint runs on a few probe outputs while :func:`numpy.allclose` and
:func:`numpy.isclose` record what they are asked to compare (and answer "no", so the
hint goes on to its next comparison). Every recorded array that could be an output,
or a part of one, becomes a candidate; the full course's own chain of hints then says
what it would tell a student who returned it, and candidates with no hint are dropped.
Two properties that need no stored output (a NaN or inf where the answer is finite,
and the reverse) are recorded the same way, from a representative output.

Nothing here runs in the bundle: only the numbers and the sentences are stored.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np

from course_nn.grading.compare import compare_outputs, flatten_output, to_float_array
from course_nn.grading.core import Case, Check


def is_plain(value: Any) -> bool:
    """Numbers, strings, numeric arrays, and tuples and lists of them."""
    if isinstance(value, (tuple, list)):
        return all(is_plain(v) for v in value)
    if isinstance(value, np.ndarray):
        return value.dtype.kind in "biuf"
    return value is None or isinstance(value, (bool, int, float, str, np.generic))


def is_numeric(value: Any) -> bool:
    """Can the output be compared number by number (so its mistakes can be stored)?"""
    try:
        [to_float_array(leaf) for leaf in flatten_output(value)]
    except (TypeError, ValueError):
        return False
    return is_plain(value)


class Packer:
    """Turns values into packed JSON descriptions plus named arrays (see ``stored``)."""

    def __init__(self, prefix: str = "x") -> None:
        self.prefix = prefix
        self.arrays: dict[str, np.ndarray] = {}

    def _store(self, value: np.ndarray) -> str:
        if value.dtype.kind not in "biuf":
            raise TypeError(f"an array of dtype {value.dtype} is not plain data")
        key = f"{self.prefix}{len(self.arrays)}"
        self.arrays[key] = np.array(value, order="C", copy=True)
        return key

    def pack(self, value: Any, printed: bool = False) -> dict[str, Any]:
        """``printed``: a value that is not plain data is stored as its text (``repr``)."""
        if printed and not is_plain(value):
            return {"r": repr(value)}
        if isinstance(value, np.ndarray):
            return {"a": self._store(value)}
        if isinstance(value, np.generic):
            return {"s": self._store(np.asarray(value))}
        if isinstance(value, float):
            return {"f": self._store(np.asarray(value, dtype=np.float64))}
        if value is None or isinstance(value, (bool, int, str)):
            return {"v": value}
        if isinstance(value, (tuple, list)):
            return {"t" if isinstance(value, tuple) else "l": [self.pack(v) for v in value]}
        raise TypeError(f"a {type(value).__name__} is not plain data")


# --- the full course's verdict and hint ---------------------------------------------------
def live_problem(check: Check, case: Case, expected: Any, got: Any) -> str | None:
    """What the full course says is wrong with ``got`` (``None``: it is right)."""
    if check.judge is not None:
        return check.judge(case, expected, got)
    return compare_outputs(expected, got, rtol=check.rtol, atol=check.atol)


def hint_advice(check: Check, index: int, case: Case, expected: Any, got: Any) -> str | None:
    """What hint ``index`` alone says about a wrong ``got`` (``None``: right, or no answer)."""
    try:
        if live_problem(check, case, expected, got) is None:
            return None
        return check.hints[index](case, copy.deepcopy(expected), got) or None
    except Exception:
        return None


def live_advice(check: Check, case: Case, expected: Any, got: Any) -> str | None:
    """The full course's "likely bug" for a wrong ``got``; ``None`` if right or unexplained."""
    try:
        if live_problem(check, case, expected, got) is None:
            return None
    except Exception:
        return None
    for hint in check.hints:
        try:
            advice = hint(case, copy.deepcopy(expected), got)
        except Exception:
            advice = None
        if advice:
            return advice
    return None


# --- finding the mistakes the hints compare with -------------------------------------------
def _parts(value: Any) -> list[np.ndarray] | None:
    try:
        return [to_float_array(leaf) for leaf in flatten_output(value)]
    except (TypeError, ValueError):
        return None


@contextmanager
def recording_comparisons(yes_from: float) -> Iterator[list[tuple[Any, Any]]]:
    """Within the block, ``np.allclose``/``np.isclose`` record their two arguments and
    answer "no" to the first ``yes_from`` comparisons, "yes" to the later ones."""
    seen: list[tuple[Any, Any]] = []
    originals = np.allclose, np.isclose

    def record(a: Any, b: Any, *args: Any, **kwargs: Any) -> bool:
        seen.append((_parts(a), _parts(b)))
        return len(seen) > yes_from

    np.allclose, np.isclose = record, record
    try:
        yield seen
    finally:
        np.allclose, np.isclose = originals


def _comparisons(hint: Any, case: Case, expected: Any, got: Any,
                 yes_from: float) -> list[tuple[Any, Any]]:
    with recording_comparisons(yes_from) as seen:
        try:
            hint(copy.deepcopy(case), copy.deepcopy(expected), copy.deepcopy(got))
        except Exception:
            pass
    return seen


def _as_output(leaves: list[np.ndarray]) -> Any:
    return leaves[0] if len(leaves) == 1 else list(leaves)


def probes(expected: Any) -> list[Any]:
    """Outputs the hints are run on: the answer, all NaN, and twice the answer."""
    leaves = [to_float_array(leaf) for leaf in flatten_output(expected)]
    nan = [np.where(np.isfinite(e), np.nan, e) for e in leaves]
    double = [2.0 * e + 1.0 for e in leaves]
    return [expected, _as_output(nan), _as_output(double)]


def _placements(candidate: list[np.ndarray], want: list[np.ndarray]
                ) -> Iterator[tuple[tuple[int, ...], list[np.ndarray]]]:
    """Where a candidate fits in the expected output: whole, or as a run of its parts."""
    if len(want) == 1 and len(candidate) == 1:
        yield (0,), candidate
        return
    for start in range(len(want) - len(candidate) + 1):
        if all(c.shape == w.shape for c, w in zip(candidate, want[start:], strict=False)):
            yield tuple(range(start, start + len(candidate))), candidate


def candidates(check: Check, case: Case, expected: Any) -> list[list[np.ndarray]]:
    """Every array, or run of arrays, the hints compare a probe output with, on this case.

    A hint usually compares part by part (``all(np.allclose(g, a) for ...)``) and stops
    at the first "no". So each hint first runs with every comparison answered "no";
    then, for each comparison ``i`` of that run, once more with "yes" from ``i`` on,
    which walks through all parts of the ``i``-th alternative before the hint returns.
    """
    found: list[list[np.ndarray]] = []
    for probe in probes(expected):
        for hint in check.hints:
            first = _comparisons(hint, case, expected, probe, yes_from=float("inf"))
            runs = [first[i:i + 1] for i in range(len(first))]
            runs += [_comparisons(hint, case, expected, probe, i)[i:] for i in range(len(first))]
            for run in runs:
                for side in (0, 1):
                    for length in range(1, len(run) + 1):
                        parts = [run[k][side] for k in range(length)]
                        if all(p is not None for p in parts):
                            found.append([leaf for p in parts for leaf in p])
    return _distinct(found)


def _distinct(found: list[list[np.ndarray]]) -> list[list[np.ndarray]]:
    seen, kept = set(), []
    for leaves in found:
        key = tuple((leaf.shape, leaf.tobytes()) for leaf in leaves)
        if key not in seen:
            seen.add(key)
            kept.append(leaves)
    return kept


def _same_mistake(a: tuple, b: tuple) -> bool:
    return a[:2] == b[:2] and all(x.shape == y.shape and np.array_equal(x, y, equal_nan=True)
                                  for x, y in zip(a[2], b[2], strict=True))


def mistakes(check: Check, case: Case, expected: Any, packer: Packer,
             tables: list[int]) -> list[dict[str, Any]]:
    """The typical mistakes on ``case``: output parts, and what each hint in ``tables``
    (the hints that read the case's inputs) says about them."""
    want = [to_float_array(leaf) for leaf in flatten_output(expected)]
    kept: list[tuple[int, tuple[int, ...], list[np.ndarray], str]] = []
    for candidate in candidates(check, case, expected):
        for parts, values in _placements(candidate, want):
            got = list(want)
            for index, value in zip(parts, values, strict=True):
                got[index] = value
            for hint in tables:
                advice = hint_advice(check, hint, case, expected, _as_output(got))
                entry = (hint, parts, values, advice)
                if advice and not any(_same_mistake(entry, k) for k in kept):
                    kept.append(entry)
    return [{"hint": h, "parts": list(p), "values": [packer.pack(v) for v in vals], "advice": a}
            for h, p, vals, a in kept]


def properties(check: Check, case: Case, expected: Any, tables: list[int]
               ) -> list[dict[str, Any]]:
    """Hints chosen by a property of the output (NaN where finite, finite where infinite)."""
    want = [to_float_array(leaf) for leaf in flatten_output(expected)]
    representatives = {
        "non_finite": [np.where(np.isfinite(e), np.nan, e) for e in want],
        "finite_where_infinite": [np.where(np.isfinite(e), e, 0.0) for e in want],
    }
    found = []
    for kind, leaves in representatives.items():
        if all(np.array_equal(a, b, equal_nan=True) for a, b in zip(leaves, want, strict=True)):
            continue  # the property cannot occur on this case
        for hint in tables:
            advice = hint_advice(check, hint, case, expected, _as_output(leaves))
            if advice:
                found.append({"hint": hint, "kind": kind, "advice": advice})
    return found


#: Check fields the bundle replaces by stored data; every other field is copied as is.
REPLACED = ("name", "reference", "public_cases", "hidden_cases", "hints", "judge", "given",
            "variant_params")


def plain_fields(check: Check) -> dict[str, Any]:
    """The check's other settings (``arg_names``, tolerances, ``float_errors`` ...), which
    must be plain JSON values: the bundle's checks behave as the live ones."""
    found = {}
    for f in dataclasses.fields(check):
        if f.name in REPLACED:
            continue
        value = getattr(check, f.name)
        value = list(value) if isinstance(value, tuple) else value
        json.dumps(value, allow_nan=False)  # TypeError/ValueError: not plain, refuse
        found[f.name] = value
    return found


def given_behaviour(check: Check, case: Case, packer: Packer) -> dict[str, Any] | None:
    """What a debugging item's given function does on ``case``: its packed output, or the
    name of the exception it raises (None for other items). The bundle answers "behaves
    like the given function" from this, since the given code may call graded references
    that the bundle stubs; NumPy's error settings as :func:`.messages.behaves_like_given`
    sets them."""
    if check.given is None:
        return None
    strict = ({"over": "raise", "invalid": "raise", "divide": "raise"} if check.float_errors
              else {"all": "ignore"})
    try:
        with np.errstate(**strict), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            output = check.given(*copy.deepcopy(case.args))
    except Exception as err:  # noqa: BLE001 (the given code's own exception is its behaviour)
        return {"raises": type(err).__name__}
    return {"output": packer.pack(output, printed=True)}


def record_case(check: Check, case: Case, packer: Packer, tables: list[int]) -> dict[str, Any]:
    """One public case: every field of the Case packed, its expected output, and the
    tables of the hints in ``tables``."""
    expected = check.reference(*copy.deepcopy(case.args))
    fields = {f.name: packer.pack(getattr(case, f.name)) for f in dataclasses.fields(case)
              if f.name != "args"}
    numeric = is_numeric(expected) and bool(tables)
    return {
        "label": case.label,
        "args": [packer.pack(arg) for arg in case.args],
        "fields": fields,
        "expected": packer.pack(expected, printed=True),
        "mistakes": mistakes(check, case, expected, packer, tables) if numeric else [],
        "properties": properties(check, case, expected, tables) if numeric else [],
        "given": given_behaviour(check, case, packer),
    }


def answer_size(check: Check) -> int:
    """How many numbers a by-hand answer holds (the same for every variant)."""
    return int(flatten_numbers_size(check.expected(check.cases(hidden=False)[0])))


def flatten_numbers_size(value: Any) -> int:
    """The count of numbers in ``value`` (nested tuples and lists of numbers and arrays)."""
    return sum(int(np.asarray(to_float_array(leaf)).size) for leaf in flatten_output(value))


def record_variant_check(check: Check, judge: str | None) -> dict[str, Any]:
    """The entry of a by-hand item with numbers of one's own: no case, no expected value
    of any variant, no hint table; only the size of an answer, so the bundle's check()
    can check its form (docs/releases.md, "By-hand items with numbers of one's own")."""
    label = check.cases(hidden=False)[0].label
    return {"name": check.name, "judge": judge, "fields": plain_fields(check), "hints": 0,
            "code_hints": [], "cases": [], "variants": {"size": answer_size(check), "label": label}}


def record_check(check: Check, packer: Packer, judge: str | None,
                 code_hints: set[int]) -> dict[str, Any]:
    """One ``chNN.json`` entry: the check's public cases, outputs and hint tables as plain
    data; the hints in ``code_hints`` ship as code and get no table. A by-hand item with
    numbers of one's own stores no expected value (:func:`record_variant_check`)."""
    if check.variant_params is not None:
        return record_variant_check(check, judge)
    tables = [i for i in range(len(check.hints)) if i not in code_hints]
    cases = [record_case(check, case, packer, tables) for case in check.cases(hidden=False)]
    return {"name": check.name, "judge": judge, "fields": plain_fields(check),
            "hints": len(check.hints), "code_hints": sorted(code_hints), "cases": cases}


def outputs_are_numbers(check: Check) -> bool:
    """Can mistakes be stored as numbers (every public case's expected output is)?"""
    return all(is_numeric(check.expected(case)) for case in check.cases(hidden=False))
