"""Strings from a submission made safe once, where they enter the grader.

Book: none (instructor tooling); docs/grading.md, "1. Entry: hostile strings".

A student controls many strings the grader reports: folder and file names, cell ids,
exception and warning messages, printed output. Any of them may hold a lone surrogate
(``'\\udcff'``, which no strict UTF-8 writer accepts), control characters (terminal
escapes, NUL, carriage returns that hide a line in a CSV viewer), invisible format
characters (a zero-width space that makes ``al\\u200bice`` look like ``alice``, a
right-to-left override that reorders what an instructor reads), or be huge.
:func:`clean` turns any value into printable text that encodes as UTF-8, once, at
the entry; everything downstream may assume clean text.

A student folder name also becomes the student's id in nbgrader's gradebook, whose
own pages print it unescaped: :func:`student_id` makes it a short token of letters,
digits and ``_ . @ -`` that no page, path, URL, shell or spreadsheet reads as markup.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable
from typing import Any

import numpy as np

REPLACEMENT = "\ufffd"
#: Unicode categories no report shows as they are: control (Cc), format (Cf: zero-width
#: and bidirectional marks), surrogate (Cs), private use (Co), unassigned (Cn), and the
#: line and paragraph separators (Zl, Zp). Newline and tab are kept.
HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _hidden(char: str) -> bool:
    return char not in "\n\t" and unicodedata.category(char) in HIDDEN_CATEGORIES


def _bmp_class() -> re.Pattern[str]:
    """One character class of every hidden character of the Basic Multilingual Plane,
    read from :mod:`unicodedata` (about 350 ranges; ``re`` compiles a class of 16-bit
    code points to a bitmap, so a search costs one lookup per character)."""
    ranges, start = [], None
    for point in range(0x10000):
        if _hidden(chr(point)):
            start = point if start is None else start
        elif start is not None:
            ranges.append((start, point - 1))
            start = None
    if start is not None:
        ranges.append((start, 0xFFFF))
    return re.compile("[" + "".join(f"\\u{a:04x}" if a == b else f"\\u{a:04x}-\\u{b:04x}"
                                    for a, b in ranges) + "]")


_HIDDEN_BMP = _bmp_class()
_ASTRAL = re.compile("[\U00010000-\U0010ffff]")
_PLANES: dict[int, np.ndarray] = {}  # plane -> hidden?, per code point of the plane


def _plane(plane: int) -> np.ndarray:
    """Which code points of an upper plane are hidden, read from :mod:`unicodedata` the
    first time a character of that plane is met (about 15 ms a plane; kept)."""
    if plane not in _PLANES:  # two threads may both build it: same values
        base = plane << 16
        _PLANES[plane] = np.fromiter((_hidden(chr(base + i)) for i in range(0x10000)),
                                     dtype=bool, count=0x10000)
    return _PLANES[plane]


def _replace_hidden(text: str) -> str:
    """Every hidden character as U+FFFD: the plane-0 ones in one regular-expression
    pass; when characters of upper planes are present (emoji, tags, private planes),
    all code points at once through a table per plane (NumPy)."""
    text = _HIDDEN_BMP.sub(REPLACEMENT, text)
    if text.isascii() or _ASTRAL.search(text) is None:
        return text
    points = np.frombuffer(text.encode("utf-32-le"), dtype="<u4").copy()
    planes = points >> 16
    hidden = np.zeros(points.shape, dtype=bool)
    for plane in np.unique(planes[planes > 0]).tolist():
        here = planes == plane
        hidden[here] = _plane(plane)[points[here] & 0xFFFF]
    if not hidden.any():
        return text
    points[hidden] = ord(REPLACEMENT)
    return points.tobytes().decode("utf-32-le")


def clean(value: Any, limit: int | None = None) -> str:
    """``value`` as printable UTF-8-safe text.

    Every character of the categories :data:`HIDDEN_CATEGORIES` except newline and tab
    becomes U+FFFD (replaced, not dropped: dropping would turn ``al\\u200bice`` into
    ``alice``, a look-alike of another name); the result is cut to ``limit``
    characters when given (before the replacing, so a long value costs no more).

    Examples
    --------
    >>> clean("bad\\udcff\\x1b[31m al\\u200bice")
    'bad\\ufffd\\ufffd[31m al\\ufffdice'
    """
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # a hostile __str__
        text = f"(unprintable {type(value).__name__})"
    if limit is not None and len(text) > limit:  # first: replacing is one for one
        text = text[: max(limit - 3, 0)] + "..."
    return _replace_hidden(text)


def clean_tree(value: Any, limit: int | None = None) -> Any:
    """Every string inside a JSON value (dict keys too) cleaned; other leaves kept."""
    if isinstance(value, str):
        return clean(value, limit)
    if isinstance(value, list):
        return [clean_tree(v, limit) for v in value]
    if isinstance(value, dict):
        return {clean(k, limit): clean_tree(v, limit) for k, v in value.items()}
    return value


def name_of(path_name: str) -> str:
    """A file or folder name (``os.listdir`` gives undecodable bytes as surrogates)."""
    return clean(path_name, 200)


# --- student ids (docs/grading.md, "1. Entry: hostile strings") ---------------------------
ID_LIMIT = 64  # characters of a student id (nbgrader's column holds 128)
#: A safe student id: ASCII letters, digits and ``_ . @ -``, starting with a letter or
#: digit (never hidden, never an option, never a formula), not ending with ``.``.
SAFE_ID = re.compile(rf"[A-Za-z0-9](?:[A-Za-z0-9_.@-]{{0,{ID_LIMIT - 2}}}[A-Za-z0-9_@-])?",
                     re.ASCII)
HASH_CHARS = 16  # lowercase hex digits (64 bits) of the raw name's SHA-256
#: The form of a hashed id, ``<prefix>--<16 hex digits>`` (case-insensitively): a folder
#: name of this form is hashed too, so no folder can take another's hashed id.
HASHED_ID = re.compile(rf".*--[0-9a-f]{{{HASH_CHARS}}}", re.ASCII | re.IGNORECASE)
PREFIX_LIMIT = 40


def is_student_id(text: str) -> bool:
    """Is ``text`` a safe student id (:data:`SAFE_ID`), as :func:`student_id` makes?"""
    return isinstance(text, str) and SAFE_ID.fullmatch(text) is not None


def _prefix(name: str) -> str:
    """A readable safe start of a hashed id: the cleaned name with accents dropped, every
    run of other characters as one ``-``, trimmed to start with a letter or digit."""
    decomposed = unicodedata.normalize("NFKD", clean(name, 4 * PREFIX_LIMIT))
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    prefix = re.sub(r"[^A-Za-z0-9_.@-]+", "-", bare, flags=re.ASCII)
    prefix = re.sub(r"^[^A-Za-z0-9]+", "", prefix)[:PREFIX_LIMIT].rstrip(".-")
    return prefix or "student"


def student_id(name: str, hashed: bool = False) -> str:
    """The student id of a submitted folder name: the name itself when it is a safe id
    (:data:`SAFE_ID`, not of the hashed form), else ``<prefix>--<hash>``, the hash
    being the first 16 hex digits of the SHA-256 of the raw name (undecodable bytes
    included). Two different names never share an id; ``hashed`` forces the second
    form (:func:`student_ids` uses it for names that differ only by case).

    Examples
    --------
    >>> student_id("alice")
    'alice'
    >>> student_id('<img src=x onerror="alert(1)">')
    'img-src-x-onerror-alert-1--bd32843d167b8189'
    """
    if not hashed and is_student_id(name) and not HASHED_ID.fullmatch(name):
        return name
    raw = name.encode("utf-8", "surrogatepass")
    return f"{_prefix(name)}--{hashlib.sha256(raw).hexdigest()[:HASH_CHARS]}"


def student_ids(names: Iterable[str]) -> dict[str, str]:
    """Folder name -> student id for a whole class, distinct even case-insensitively.

    nbgrader's folders may end on a case-insensitive file system, where ``Alice`` and
    ``alice`` are one folder: of names whose ids differ only by case, the all-lowercase
    one keeps its name and the others get hashed ids (their hashes differ)."""
    names = sorted(set(names))
    ids = {name: student_id(name) for name in names}
    groups: dict[str, list[str]] = {}
    for name, sid in ids.items():
        groups.setdefault(sid.lower(), []).append(name)
    for members in groups.values():
        if len(members) > 1:
            for name in members:
                if ids[name] != ids[name].lower():
                    ids[name] = student_id(name, hashed=True)
    return ids


def renamed_flag(folder: str, sid: str) -> str:
    """The flag of a student whose folder name is not a safe id: the name, cleaned, so
    the instructor can tell who it is (pages escape it; CSVs guard it)."""
    return f"folder name {clean(folder, 200)!r} is not a safe student id: recorded as {sid}"

