"""Strings from a submission made safe once, where they enter the grader.

Book: none (instructor tooling); docs/grading.md, "1. Entry: hostile strings".

A student controls many strings the grader reports: folder and file names, cell ids,
exception and warning messages, printed output. Any of them may hold a lone surrogate
(``'\\udcff'``, which no strict UTF-8 writer accepts), control characters (terminal
escapes, NUL, carriage returns that hide a line in a CSV viewer), or be huge.
:func:`clean` turns any value into printable text that encodes as UTF-8, once, at
the entry; everything downstream may assume clean text.
"""

from __future__ import annotations

import re
from typing import Any

KEEP = "\n\t"  # the only control characters kept (multi-line messages, indentation)
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def clean(value: Any, limit: int | None = None) -> str:
    """``value`` as printable UTF-8-safe text.

    Lone surrogates and control characters (except newline and tab) become U+FFFD,
    bidirectional overrides too (they reorder what an instructor reads); the result
    is cut to ``limit`` characters when given.

    Examples
    --------
    >>> clean("bad\\udcff\\x1b[31m")
    'bad\\ufffd\\ufffd[31m'
    """
    try:
        text = value if isinstance(value, str) else str(value)
    except Exception:  # a hostile __str__
        text = f"(unprintable {type(value).__name__})"
    text = _CONTROL.sub(REPLACEMENT, _SURROGATE.sub(REPLACEMENT, text))
    if limit is not None and len(text) > limit:
        text = text[: max(limit - 3, 0)] + "..."
    return text


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
