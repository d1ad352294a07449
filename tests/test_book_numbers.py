"""Numbers in the book's prose come from its code (docs/book.md, *Glue*).

The rule, for every chapter ``book/ch*.ipynb`` (and for every helper who writes prose in one):

* A number that code computes (an accuracy, a loss, a count of mistakes, a threshold, a
  timing) is never typed into a Markdown cell. The code cell that computes it records it
  with ``course_nn.display.glue("key", value)`` and the prose writes ``{glue:text}`key:.3f```
  (or ``{glue:md}`key``` for a glued Markdown string). A grading threshold is glued from the
  one constant the grader uses, imported from ``course_nn.grading.checks``.
* The test below fails when a chapter's prose holds a **decimal number with three or more
  significant digits** (``0.976``, ``97.6%``, ``3.51``, ``709.8``) outside math (``$...$``,
  ``$$...$$``, ``\\begin{..}``), code (`` `...` ``, fenced blocks) and MyST roles (``{glue:...}``,
  ``{cite}``, ...), unless the number is on that chapter's short list of **cited figures**,
  :data:`CITED`, each with its source. Figures from a paper, a lecture or a benchmark outside
  the chapter go there; anything the chapter itself computes is glued instead.
* Every ``{glue...}`` key the prose uses is recorded by a ``glue("key", ...)`` call in a code
  cell of the same chapter.

Prose inside ``:::{dropdown}`` answers ("try it yourself") is prose too: the rule applies.
So is a figure's alt text (cell metadata ``mystnb.image.alt``): it writes a computed number
with the same ``{glue:text}`key:fmt``` placeholder, filled at build time by the book's
``glued_alt`` extension (``book/_ext/glued_alt.py``, docs/accessibility.md).
"""

from __future__ import annotations

import re

import nbformat
import pytest

from tests.notebooks import ROOT

pytestmark = pytest.mark.book
CHAPTERS = sorted((ROOT / "book").glob("ch*.ipynb"))

#: Per chapter: the decimal figures prose may quote, each with its source. Keep it short.
CITED: dict[str, dict[str, str]] = {
    "ch01_linear_regression": {},
    "ch02_activations": {},
    "ch03_mlp": {},
    "ch04_softmax": {},
    "ch05_cross_entropy": {
        "3.51": "the lectures' worked example: -ln 0.03 (M = 3, y = 2); the cell below it computes it",
    },
    "ch06_backprop": {},
    "ch07_lab_digits": {},
    "ch08_workflow": {},
}

FENCE = re.compile(r"^(```|~~~).*?^\1\s*$", re.S | re.M)
DISPLAY_MATH = re.compile(r"\$\$.*?\$\$", re.S)
ENVIRONMENT = re.compile(r"\\begin\{(\w+\*?)\}.*?\\end\{\1\}", re.S)
INLINE_MATH = re.compile(r"(?<!\\)\$[^$]+?(?<!\\)\$")
ROLE = re.compile(r"\{[\w:.-]+\}`[^`]*`")
INLINE_CODE = re.compile(r"`[^`\n]+`")
LINK_TARGET = re.compile(r"\]\([^)]*\)")
COMMENT = re.compile(r"<!--.*?-->", re.S)
#: A decimal number: digits, a point, digits (thousands separators allowed before the point).
DECIMAL = re.compile(r"(?<![\w.])\d{1,3}(?:,\d{3})*\.\d+(?![\w.])|(?<![\w.,])\d+\.\d+(?![\w.])")
GLUE_USE = re.compile(r"\{glue(?::\w+)?\}`([\w.-]+)(?::[^`]*)?`")
GLUE_DEF = re.compile(r"""\bglue\(\s*["']([\w.-]+)["']""")
GLUE_DEF_PREFIX = re.compile(r"""\bglue\(\s*f["']([\w.-]*)\{""")  # glue(f"p_{name}", ...) in a loop


def prose_of(markdown: str) -> str:
    """A Markdown cell without its math, code, roles, link targets and comments."""
    for pattern in (COMMENT, FENCE, DISPLAY_MATH, ENVIRONMENT, ROLE, INLINE_CODE, INLINE_MATH,
                    LINK_TARGET):
        markdown = pattern.sub(" ", markdown)
    return markdown


def significant_digits(number: str) -> int:
    """``0.976`` -> 3, ``0.05`` -> 1, ``97.6`` -> 3, ``0.950`` -> 3, ``1,234.5`` -> 5."""
    return len(number.replace(",", "").replace(".", "").lstrip("0"))


def typed_figures(markdown: str) -> list[str]:
    """The decimal numbers with three or more significant digits in a cell's prose."""
    return [m.group() for m in DECIMAL.finditer(prose_of(markdown)) if significant_digits(m.group()) >= 3]


def cells(path, kind: str) -> list[str]:
    return [c.source for c in nbformat.read(path, as_version=4).cells if c.cell_type == kind]


def alt_texts(path) -> list[str]:
    """The figures' alt texts of a chapter (code cells' ``mystnb.image.alt``)."""
    return [c.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            for c in nbformat.read(path, as_version=4).cells if c.cell_type == "code"]


def recorded_keys(path) -> tuple[set[str], tuple[str, ...]]:
    """Glue keys a chapter's code records, and the prefixes of keys glued in a loop."""
    code = cells(path, "code")
    recorded = {key for source in code for key in GLUE_DEF.findall(source)}
    prefixes = tuple(prefix for source in code for prefix in GLUE_DEF_PREFIX.findall(source) if prefix)
    return recorded, prefixes or ("\0",)


def test_the_rule_itself():
    """Does the scanner find typed figures and skip math, code, roles and short numbers?"""
    text = ("Accuracy 0.976 and 97.6% and 1,234.5; but 0.05, 97%, 3.5, 2012, $0.123$, `0.456`,\n"
            "{glue:text}`acc:.3f`, {cite}`a2020`, [v1.234](https://x.org/0.789), and\n"
            "$$\nJ = 0.333\n$$\n```python\nprint(0.111)\n```\n")
    assert typed_figures(text) == ["0.976", "97.6", "1,234.5"]
    assert [significant_digits(n) for n in ("0.976", "0.05", "0.950", "709.8")] == [3, 1, 3, 4]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_prose_numbers_are_glued_or_cited(path):
    cited = CITED[path.stem]
    typed = [n for source in cells(path, "markdown") for n in typed_figures(source)]
    stray = sorted(set(typed) - set(cited))
    assert not stray, (f"{path.name}: typed numbers {stray} in prose; glue them from the code that "
                       f"computes them (docs/book.md) or add them with their source to CITED")
    unused = sorted(set(cited) - set(typed))
    assert not unused, f"{path.name}: CITED lists {unused}, which the prose no longer quotes"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_glue_key_is_recorded_by_the_chapter(path):
    used = {key for source in cells(path, "markdown") + alt_texts(path)
            for key in GLUE_USE.findall(source)}
    recorded, prefixes = recorded_keys(path)
    missing = sorted(key for key in used - recorded if not key.startswith(prefixes))
    assert not missing, f"{path.name}: glue keys used but never recorded: {missing}"


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_alt_text_numbers_are_glued_or_cited(path):
    """A figure's alt text follows the prose rule: a computed figure is a glue placeholder."""
    cited = CITED[path.stem]
    typed = sorted({n for alt in alt_texts(path) for n in typed_figures(alt)} - set(cited))
    assert not typed, (f"{path.name}: typed numbers {typed} in alt text; write them as "
                       f"{{glue:text}}`key:fmt` placeholders (docs/accessibility.md)")


def test_the_lab_glues_the_graders_accuracy_floor():
    """Chapter 7 quotes the exercise's accuracy floor from the grader's own constant."""
    path = ROOT / "book/ch07_lab_digits.ipynb"
    code = "\n".join(cells(path, "code"))
    prose = "\n".join(cells(path, "markdown"))
    assert re.search(r"from course_nn\.grading\.checks\.ch07 import [^\n]*\bACCURACY_FLOOR\b", code)
    assert re.search(r"""glue\(\s*["']accuracy_floor["'],[^)]*ACCURACY_FLOOR""", code)
    assert "{glue:text}`accuracy_floor" in prose
    assert not re.search(r"\b9\d(\.\d)?\s*%\s*test accuracy", prose_of(prose))


#: Phrases that contradicted the executed cells (issue 11), and must not come back.
CONTRADICTIONS = {
    "ch07_lab_digits": [r"a 4 and a 9", r"3-8-9", r"must reach 9\d%"],
    "ch05_cross_entropy": [r"always has the same form"],
    "ch02_activations": [r"barely more"],
    "ch04_softmax": [r"convex polygon"],
    "ch06_backprop": [r"nearly the\s+same training cost and test accuracy"],
    "ch03_mlp": [r"chapter 6 returns to it", r"which chapter 6 takes up"],
}


@pytest.mark.parametrize("stem", sorted(CONTRADICTIONS))
def test_prose_no_longer_contradicts_the_cells(stem):
    prose = "\n".join(cells(ROOT / f"book/{stem}.ipynb", "markdown"))
    found = [p for p in CONTRADICTIONS[stem] if re.search(p, prose)]
    assert not found, f"{stem}: {found}"
