"""The book's glued_alt extension fills glue placeholders in figures' alt text
(book/_ext/glued_alt.py, docs/accessibility.md)."""

from __future__ import annotations

import importlib.util

import pytest

from tests.notebooks import ROOT

pytestmark = pytest.mark.book


def _extension():
    spec = importlib.util.spec_from_file_location("glued_alt", ROOT / "book/_ext/glued_alt.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_placeholders_are_filled_as_the_prose_role_formats_them():
    ga = _extension()
    glued = ga.plain_values({
        "loss": {"data": {"text/plain": "0.38941"}},
        "count": {"data": {"text/plain": "46"}},
        "digit": {"data": {"text/plain": "'9'", "text/markdown": "9"}},
        "share": {"data": {"text/plain": "0.9612"}},
    })
    alt = ("Loss {glue:text}`loss:.2f` after {glue:text}`count` epochs; "
           "a {glue}`digit` at {glue:text}`share:.1%` and {glue:text}`loss:.1e`.")
    text, missing = ga.fill(alt, glued)
    assert text == "Loss 0.39 after 46 epochs; a 9 at 96.1% and 3.9e-01."
    assert missing == []


def test_an_unknown_key_is_reported_and_left_visible():
    ga = _extension()
    text, missing = ga.fill("falls to {glue:text}`final:.2f` then {glue:text}`gone`", {"final": "0.25"})
    assert text == "falls to 0.25 then {glue:text}`gone`"
    assert missing == ["gone"]


def test_text_without_placeholders_is_unchanged():
    ga = _extension()
    alt = "Contour plot of the cost over W and b, with `code` and {cite} left alone"
    assert ga.fill(alt, {}) == (alt, [])
