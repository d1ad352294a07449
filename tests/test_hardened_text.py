"""Strings from a submission made safe once at entry (``hardened/text.py``)."""

from __future__ import annotations

import sys
import time
import unicodedata

import pytest
from hypothesis import given
from hypothesis import strategies as st

from course_nn.grading.hardened.text import HIDDEN_CATEGORIES, REPLACEMENT, clean, clean_tree

pytestmark = pytest.mark.grading


@pytest.mark.parametrize(("raw", "safe"), [
    ("plain text\nwith\ttabs", "plain text\nwith\ttabs"),
    ("lone \udcff surrogate", "lone \ufffd surrogate"),
    ("\ud800\udc00 pair of halves", "\ufffd\ufffd pair of halves"),
    ("escape \x1b[31m red \x07 bell \x00 nul \r return",
     "escape \ufffd[31m red \ufffd bell \ufffd nul \ufffd return"),
    ("bidi \u202e override", "bidi \ufffd override"),
    ("zero\u200bwidth \u200c\u200d\u200e\u200f marks", "zero\ufffdwidth \ufffd\ufffd\ufffd\ufffd marks"),
    ("arabic\u061cmark, bom\ufeff, tag\U000e0041", "arabic\ufffdmark, bom\ufffd, tag\ufffd"),
    ("private \ue000 \U000f0000, unassigned \U000e0080", "private \ufffd \ufffd, unassigned \ufffd"),
    ("lines\u2028and\u2029paragraphs", "lines\ufffdand\ufffdparagraphs"),
    ("emoji \U0001f600, \u00e9 \u65e5\u00a0kept", "emoji \U0001f600, \u00e9 \u65e5\u00a0kept"),
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


def test_clean_replaces_exactly_the_hidden_categories_of_every_code_point():
    """Over all of Unicode: is a character replaced iff its category is Cc, Cf, Cs, Co,
    Cn, Zl or Zp (newline and tab kept), one for one, everything else untouched?"""
    everything = "".join(map(chr, range(sys.maxunicode + 1)))
    got = clean(everything)
    assert len(got) == len(everything)
    wrong = [hex(i) for i, (a, b) in enumerate(zip(everything, got, strict=True))
             if b != (REPLACEMENT if a not in "\n\t"
                      and unicodedata.category(a) in HIDDEN_CATEGORIES else a)]
    assert wrong == []
    got.encode("utf-8")  # no surrogate left


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())))
def test_clean_leaves_no_hidden_character(raw):
    """Whatever the text: same length, valid UTF-8, and no hidden character but \\n, \\t?"""
    got = clean(raw)
    assert len(got) == len(raw)
    got.encode("utf-8")
    assert all(c in "\n\t" or unicodedata.category(c) not in HIDDEN_CATEGORIES for c in got)


def test_look_alike_names_stay_apart():
    """``al\u200bice`` never shows as ``alice``: the invisible character is visible."""
    assert clean("al\u200bice") == "al\ufffdice" != clean("alice")
    assert clean("\u202eecila") == "\ufffdecila"


@pytest.mark.parametrize("sample", [
    ("x = 1.2345  loss 0.001\n" * 45_000)[:1_000_000],  # typical printed output
    ("h\u00e9llo \u03b1\u03b2 \u65e5\u672c \U0001f600\n" * 60_000)[:1_000_000],
    ("ab\x1bc\u200b\n" * 200_000)[:1_000_000],  # every third character hidden
    "".join(map(chr, range(0x100000, 0x10FFFE))) * 15,  # distinct private-use characters
])
def test_clean_of_a_megabyte_is_fast(sample):
    """Is a megabyte (the child's answers file may hold that much text) cleaned within a
    loose bound? Measured: 3 to 120 ms on a loaded 2-core machine; the bound never
    fails a busy machine and still catches a gross (e.g. quadratic) regression."""
    start = time.perf_counter()
    got = clean(sample)
    assert time.perf_counter() - start < 2.0
    assert len(got) == len(sample)


@given(st.text(alphabet=st.characters(codec=None, exclude_categories=())),
       st.integers(min_value=0, max_value=40))
def test_clean_cuts_like_cleaning_then_cutting(raw, limit):
    """Cutting before replacing (the bounded cost) gives what cutting after would."""
    whole = clean(raw)
    expected = whole if len(whole) <= limit else whole[: max(limit - 3, 0)] + "..."
    assert clean(raw, limit) == expected
