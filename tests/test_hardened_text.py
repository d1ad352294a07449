"""Strings from a submission made safe once at entry (``hardened/text.py``)."""

from __future__ import annotations

import pytest

from course_nn.grading.hardened.text import clean, clean_tree

pytestmark = pytest.mark.grading


@pytest.mark.parametrize(("raw", "safe"), [
    ("plain text\nwith\ttabs", "plain text\nwith\ttabs"),
    ("lone \udcff surrogate", "lone \ufffd surrogate"),
    ("\ud800\udc00 pair of halves", "\ufffd\ufffd pair of halves"),
    ("escape \x1b[31m red \x07 bell \x00 nul \r return",
     "escape \ufffd[31m red \ufffd bell \ufffd nul \ufffd return"),
    ("bidi \u202e override", "bidi \ufffd override"),
])
def test_clean_replaces_what_no_writer_accepts(raw, safe):
    """Are surrogates, control characters and bidi overrides replaced, text kept?"""
    assert clean(raw) == safe
    clean(raw).encode("utf-8")  # strict: never raises


def test_clean_bounds_and_survives_hostile_objects():
    """Is a long value cut, and an object whose __str__ raises still printable?"""
    class Hostile:
        def __str__(self):
            raise RuntimeError("no")

    assert clean("x" * 100, limit=10) == "x" * 7 + "..."
    assert clean(Hostile()) == "(unprintable Hostile)"


def test_clean_tree_cleans_keys_and_values():
    """Is every string of a JSON record cleaned, numbers untouched?"""
    record = {"k\udcff": ["v\x1b", 1, {"n": 2.5, "s": "\udcfe"}]}
    assert clean_tree(record) == {"k\ufffd": ["v\ufffd", 1, {"n": 2.5, "s": "\ufffd"}]}
