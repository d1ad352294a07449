"""Checks rebuilt from stored numbers: the for-credit bundle's registry (docs/releases.md).

Book: none (grading machinery).

In the for-credit bundle every ``course_nn/grading/checks/chNN.py`` is two lines that
call :func:`register_stored`. The check keeps its name, argument names, tolerances and
public cases; its reference becomes a lookup of the expected output stored for each
public case, and its hints a lookup of the outputs of the typical mistakes that the
full course's hints name, with the hint the full course gives for each. Everything is
plain data: ``chNN.json`` (structure, labels, hints) beside ``chNN.npz`` (numbers,
loaded with ``allow_pickle=False``). Hidden cases are not there: they stay with the
instructor's grader.

Packed values (JSON): ``{"a": key}`` an array, ``{"s": key}`` a NumPy scalar, ``{"f": key}``
a Python float, ``{"v": x}`` an int, bool, str or None, ``{"t": [...]}`` a tuple,
``{"l": [...]}`` a list; ``key`` names an array of the ``.npz``. An expected output that
is not numbers (a network's structure, printed without its weights) is stored as its
printed text, ``{"r": text}``; such a check's judge and hints ship as code, since there
are no numbers to compare a mistake with.

A by-hand item with numbers of one's own (``"variants"`` in its entry) stores no case and
no expected value of any variant: its numbers come from the shipped
:mod:`course_nn.grading.by_hand_numbers`, and its reference raises
:class:`course_nn.grading.core.NoExpectedValues`, so ``check()`` checks only the answer's
form and says that its values are graded on submission (docs/releases.md).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from course_nn.grading.compare import flatten_output, to_float_array
from course_nn.grading.core import Case, Check, NoExpectedValues, register
from course_nn.grading.variant import PARAMS

#: What a hidden-case request says in the bundle.
NO_HIDDEN = ("hidden cases are not in the for-credit bundle: they are drawn by the "
             "instructor's grader when grading")


class Printed:
    """An expected output stored as how it prints (a structure whose weights are hidden)."""

    def __init__(self, text: str):
        self.text = text

    def __repr__(self) -> str:
        return self.text


def unpack(packed: Any, arrays: Any) -> Any:
    """The value a packed description stands for (see the module docstring)."""
    if "r" in packed:
        return Printed(packed["r"])
    if "a" in packed:
        return np.array(arrays[packed["a"]])
    if "s" in packed:
        return np.array(arrays[packed["s"]])[()]
    if "f" in packed:
        return float(arrays[packed["f"]])
    if "v" in packed:
        return packed["v"]
    if "t" in packed:
        return tuple(unpack(item, arrays) for item in packed["t"])
    if "l" in packed:
        return [unpack(item, arrays) for item in packed["l"]]
    raise ValueError(f"not a packed value: {packed!r}")


def digest(args: Any) -> str:
    """A fingerprint of a case's arguments: type, dtype, shape and bytes of every part."""
    h = hashlib.sha256()

    def feed(value: Any) -> None:
        if isinstance(value, (np.ndarray, np.generic)):
            arr = np.ascontiguousarray(value)
            h.update(f"a{arr.dtype.str}{arr.shape}".encode())
            h.update(arr.tobytes())
        elif isinstance(value, (tuple, list)):
            h.update(f"{type(value).__name__}{len(value)}(".encode())
            for item in value:
                feed(item)
            h.update(b")")
        else:
            h.update(f"{type(value).__name__}:{value!r};".encode())

    feed(args)
    return h.hexdigest()


def _close(got: Any, alt: np.ndarray) -> bool:
    """Does one output part equal a stored mistake (NaN where it has NaN)?"""
    try:
        g = to_float_array(got)
    except (TypeError, ValueError):
        return False
    if g.size == 1 and alt.ndim == 0:
        g = g.reshape(())
    return g.shape == alt.shape and bool(np.allclose(g, alt, rtol=1e-6, atol=1e-8,
                                                     equal_nan=True))


def _leaves(got: Any) -> list[np.ndarray] | None:
    try:
        return [to_float_array(leaf) for leaf in flatten_output(got)]
    except (TypeError, ValueError):
        return None


def _non_finite(expected: list[np.ndarray], got: list[np.ndarray]) -> bool:
    """Some part is NaN or infinite where the expected output is finite."""
    return any(e.shape == g.shape and bool(np.any(np.isfinite(e) & ~np.isfinite(g)))
               for e, g in zip(expected, got, strict=True))


def _finite_where_infinite(expected: list[np.ndarray], got: list[np.ndarray]) -> bool:
    """Some part is finite where the expected output is infinite."""
    return any(e.shape == g.shape and bool(np.any(~np.isfinite(e) & np.isfinite(g)))
               for e, g in zip(expected, got, strict=True))


#: Properties of a wrong output that select a stored hint without a stored output.
PROPERTIES: dict[str, Callable[[list[np.ndarray], list[np.ndarray]], bool]] = {
    "non_finite": _non_finite,
    "finite_where_infinite": _finite_where_infinite,
}


@dataclass(frozen=True)
class Mistake:
    """A typical mistake on one case: these output parts, and the hint for them."""

    hint: int  # the position of the hint that gives the advice
    parts: tuple[int, ...]
    values: tuple[np.ndarray, ...]
    advice: str

    def matches(self, got: list[Any], expected: list[np.ndarray]) -> bool:
        """Is ``got`` this mistake: its parts equal the stored values, every other part the
        expected output (the output the full course's hint was asked about when the
        bundle was built, so the bundle never gives a hint the full course would not)."""
        if len(got) != len(expected):
            return False
        mine = dict(zip(self.parts, self.values, strict=True))
        return all(_close(g, mine.get(i, expected[i])) for i, g in enumerate(got))


@dataclass(frozen=True)
class StoredCase:
    """One public case with its expected output and the hints recorded for it."""

    case: Case
    expected: Any
    mistakes: tuple[Mistake, ...]
    properties: tuple[tuple[int, str, str], ...]  # (hint, kind, advice)
    given: dict[str, Any] | None = None  # a debugging item's given function: output or raises


class StoredHint:
    """Hint number ``index`` of a check, answered from its table: the mistakes and
    properties stored for ``case``, with what that hint said about each."""

    def __init__(self, cases: dict[str, StoredCase], index: int):
        self.cases, self.index = cases, index
        self.__name__ = f"stored_hint_{index}"

    def __call__(self, case: Case, expected: Any, got: Any) -> str | None:
        stored = self.cases.get(digest(case.args))
        if stored is None:
            return None
        parts = flatten_output(got)
        want, have = _leaves(stored.expected), _leaves(got)
        for mistake in stored.mistakes:
            if mistake.hint == self.index and want is not None and mistake.matches(parts, want):
                return mistake.advice
        if want is None or have is None or len(want) != len(have):
            return None
        for hint, kind, advice in stored.properties:
            if hint == self.index and PROPERTIES[kind](want, have):
                return advice
        return None


class StoredReference:
    """The reference of a check: the stored expected output of each public case."""

    def __init__(self, name: str, cases: dict[str, StoredCase]):
        self.name, self.cases = name, cases
        self.__name__ = f"{name}_expected_output"

    def __call__(self, *args: Any) -> Any:
        stored = self.cases.get(digest(args))
        if stored is None:
            raise LookupError(f"{self.name}: the for-credit bundle holds the expected outputs "
                              "of the public cases only")
        return copy.deepcopy(stored.expected)


class GivenRaised(Exception):
    """Stands for the exception a given function raised when the bundle was built."""


class StoredGiven:
    """A debugging item's given function, as it behaved on each public case: its stored
    output, or an exception of the stored name (what :func:`.messages.behaves_like_given`
    compares)."""

    def __init__(self, name: str, cases: dict[str, StoredCase]):
        self.name, self.cases = name, cases
        self.__name__ = f"{name}_given_behaviour"

    def __call__(self, *args: Any) -> Any:
        stored = self.cases.get(digest(args))
        if stored is None or stored.given is None:
            raise LookupError(f"{self.name}: the for-credit bundle holds the given function's "
                              "behaviour on the public cases only")
        if "raises" in stored.given:
            raise type(str(stored.given["raises"]), (GivenRaised,), {})()
        return copy.deepcopy(stored.given["output"])


def _no_hidden_cases(rng: np.random.Generator) -> list[Case]:
    raise RuntimeError(NO_HIDDEN)


def _stored_case(entry: dict[str, Any], arrays: Any) -> StoredCase:
    args = tuple(unpack(a, arrays) for a in entry["args"])
    fields = {name: unpack(value, arrays) for name, value in entry.get("fields", {}).items()}
    fields["label"] = entry["label"]
    mistakes = tuple(
        Mistake(m["hint"], tuple(m["parts"]),
                tuple(np.asarray(unpack(v, arrays), dtype=np.float64) for v in m["values"]),
                m["advice"])
        for m in entry["mistakes"])
    properties = tuple((p["hint"], p["kind"], p["advice"]) for p in entry["properties"])
    given = entry.get("given")
    if given is not None and "output" in given:
        given = {"output": unpack(given["output"], arrays)}
    return StoredCase(Case(args, **fields), unpack(entry["expected"], arrays),
                      mistakes, properties, given)


class GradedOnSubmission:
    """The reference of a by-hand item with numbers of one's own in the bundle: it holds no
    expected value, only how many numbers an answer has."""

    def __init__(self, name: str, size: int):
        self.name, self.size = name, size
        self.__name__ = f"{name}_graded_on_submission"

    def __call__(self, *args: Any, **params: Any) -> Any:
        raise NoExpectedValues(self.name, self.size)


def variant_check(entry: dict[str, Any], judges: dict[str, Callable[..., str | None]]) -> Check:
    """The bundle's check of a by-hand item with numbers of one's own (no expected values)."""
    import course_nn.grading.by_hand_numbers  # noqa: F401 (registers the items' numbers)

    about = entry["variants"]
    fields = {name: tuple(v) if isinstance(v, list) else v
              for name, v in entry["fields"].items()}
    cases = lambda *_: [Case((), str(about["label"]))]  # noqa: E731
    return Check(name=entry["name"], reference=GradedOnSubmission(entry["name"], int(about["size"])),
                 public_cases=cases, hidden_cases=cases,
                 judge=judges[entry["judge"]] if entry["judge"] else None,
                 variant_params=PARAMS[entry["name"]].params, **fields)


def stored_check(entry: dict[str, Any], arrays: Any,
                 judges: dict[str, Callable[..., str | None]],
                 code: dict[int, Callable[..., str | None]] | None = None) -> Check:
    """The :class:`Check` described by one entry of a ``chNN.json``; ``code`` holds the
    hints that ship as code, by position (the others answer from their tables)."""
    if "variants" in entry:
        return variant_check(entry, judges)
    stored = [_stored_case(c, arrays) for c in entry["cases"]]
    by_key = {digest(s.case.args): s for s in stored}

    def public_cases() -> list[Case]:
        return [copy.deepcopy(s.case) for s in stored]

    fields = {name: tuple(v) if isinstance(v, list) else v
              for name, v in entry["fields"].items()}
    return Check(
        name=entry["name"],
        reference=StoredReference(entry["name"], by_key),
        public_cases=public_cases,
        hidden_cases=_no_hidden_cases,
        hints=tuple((code or {}).get(i) or StoredHint(by_key, i) for i in range(entry["hints"])),
        judge=judges[entry["judge"]] if entry["judge"] else None,
        given=(StoredGiven(entry["name"], by_key)
               if any(s.given is not None for s in stored) else None),
        **fields,
    )


def register_stored(module_file: str,
                    judges: dict[str, Callable[..., str | None]] | None = None,
                    hints: dict[str, dict[int, Callable[..., str | None]]] | None = None
                    ) -> list[Check]:
    """Register every check stored beside ``module_file`` (``chNN.json`` and ``chNN.npz``)."""
    path = Path(module_file).with_suffix("")
    spec = json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))
    with np.load(path.with_suffix(".npz"), allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    hints = hints or {}
    return [register(stored_check(entry, arrays, judges or {}, hints.get(entry["name"])))
            for entry in spec["checks"]]
