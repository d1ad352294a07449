"""Practice in every chapter (docs/book.md, *Try it yourself*): 2 to 4 ungraded questions,
each with its answer's code folded (tag hide-cell) and a worked answer in a collapsed
dropdown; and the lectures' missing pieces each have their section with a figure or a
glued number."""

from __future__ import annotations

import re

import nbformat
import pytest

from tests.notebooks import ROOT

pytestmark = pytest.mark.book

CHAPTERS = sorted((ROOT / "book").glob("ch0*.ipynb"))
QUESTION = re.compile(r"^\*\*Try it (\d+): [^*]+\.\*\*", re.M)
ANSWER = re.compile(r"\A:::\{dropdown\} Answer (\d+)\n.+\n:::\Z", re.S)


def _practice_cells(path):
    cells = nbformat.read(path, as_version=4).cells
    start = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"
                  and re.search(r"^## Try it yourself$", c.source, re.M)), None)
    assert start is not None, f"{path.name}: no '## Try it yourself' section"
    end = next(i for i, c in enumerate(cells) if i > start and c.cell_type == "markdown"
               and re.search(r"^## ", c.source, re.M))
    return cells[start:end]


def test_there_is_a_chapter_to_check():
    assert len(CHAPTERS) == 8


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_every_chapter_has_two_to_four_questions_with_folded_answers(path):
    cells = _practice_cells(path)
    assert len(cells) % 3 == 0, f"{path.name}: questions must come as question, code, answer"
    numbers = []
    for question, answer_code, answer in zip(cells[::3], cells[1::3], cells[2::3], strict=True):
        found = QUESTION.search(question.source)
        assert question.cell_type == "markdown" and found, question.source[:200]
        number = int(found.group(1))
        assert answer_code.cell_type == "code" and "hide-cell" in answer_code.metadata.get("tags", []), \
            f"{path.name}, try it {number}: the answer's code must be a code cell tagged hide-cell"
        assert "glue(" in answer_code.source, f"{path.name}, try it {number}: glue the answer's numbers"
        match = ANSWER.match(answer.source.strip())
        assert answer.cell_type == "markdown" and match and int(match.group(1)) == number, \
            f"{path.name}, try it {number}: the answer must be one ':::{{dropdown}} Answer {number}' cell"
        assert "{glue:text}`" in answer.source, f"{path.name}, try it {number}: quote the computed numbers"
        numbers.append(number)
    assert 2 <= len(numbers) <= 4 and numbers == list(range(1, len(numbers) + 1)), numbers


# The lectures' missing pieces (issue 11, third list): chapter, section heading, and the
# function of course_nn it must call. Each section must compute something it shows.
GAPS = [
    ("ch01_linear_regression", "### Rescaling the features", "standardise("),
    ("ch03_mlp", "## Better steps: momentum and Adam", "optimise("),
    ("ch04_softmax", "### A $2 \\times 2$ image: cat, chicken or dog", "train_softmax_regression("),
    ("ch05_cross_entropy", "**In between.** {cite:t}`radford2019`", "count_parameters("),
    ("ch06_backprop", "### Three gates: add distributes, multiply swaps, max routes", "gate_backward("),
    ("ch06_backprop", "### A worked example with numbers: one sigmoid output", "binary_backprop("),
    ("ch06_backprop", "## Vanishing and exploding gradients", "layer_gradient_norms("),
    ("ch06_backprop", "### The lectures' version: the batch perceptron", "batch_perceptron("),
    ("ch06_backprop", "## Overfitting, validation and early stopping", "early_stopping("),
]


@pytest.mark.parametrize(("chapter", "heading", "call"), GAPS, ids=[g[1][:40] for g in GAPS])
def test_each_missing_piece_has_its_section_with_computed_numbers(chapter, heading, call):
    cells = nbformat.read(ROOT / "book" / f"{chapter}.ipynb", as_version=4).cells
    start = next((i for i, c in enumerate(cells) if c.cell_type == "markdown"
                  and heading in c.source), None)
    assert start is not None, f"{chapter}: no section {heading!r}"
    following = cells[start + 1:start + 6]
    codes = [c for c in following if c.cell_type == "code"]
    assert any(call in c.source for c in codes), f"{chapter}, {heading}: no code cell calls {call}"
    assert any("glue(" in c.source or "mystnb" in c.metadata for c in codes), \
        f"{chapter}, {heading}: neither a figure nor a glued number"


def test_gpt2_is_cited_in_the_bibliography():
    bib = (ROOT / "book" / "references.bib").read_text()
    entry = bib[bib.index("{radford2019,"):]
    assert "Language Models are Unsupervised Multitask Learners" in entry[:300]


@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_built_answers_are_collapsed_and_their_code_folded(path):
    """In the HTML every answer is a closed <details> dropdown, and each answer's code cell
    is folded (myst-nb renders hide-cell as a closed <details> too)."""
    page = ROOT / "_build" / "html" / "book" / f"{path.stem}.html"
    if not page.is_file():
        pytest.skip("the book is not built (make book)")
    page_html = page.read_text()
    section = page_html[page_html.index('id="try-it-yourself"'):]
    dropdowns = re.findall(r"<details[^>]*sd-dropdown[^>]*>", section)
    answers = re.findall(r"Answer \d+", section)
    assert len(dropdowns) >= 2 and len(set(answers)) == len(_practice_cells(path)) // 3
    assert not [d for d in dropdowns if re.search(r"\bopen\b", d)], "an answer is open by default"
    folded = re.findall(r'<details class="[^"]*hide[^"]*"', section)
    assert len(folded) >= len(dropdowns), "each answer's code cell must be folded (hide-cell)"


# --- headless Chromium: answers closed, math typeset inside them, one click opens them ----
from tests.test_book import WAIT_FOR_MATHJAX, browser, html  # noqa: E402, F401  (fixtures)

DROPDOWN_FACTS = """
const answers = Array.from(document.querySelectorAll('details.sd-dropdown')).filter(
    d => /Answer \\d+/.test(d.querySelector('summary').textContent));
const facts = answers.map(d => ({open: d.open, math: d.querySelectorAll('mjx-container').length,
                                 raw: /\\$|\\\\frac/.test(d.textContent.replace(/mjx-container/g, ''))}));
answers.forEach(d => d.querySelector('summary').click());
return {facts: facts, opened: answers.map(d => d.open),
        visible: answers.map(d => d.querySelector('.sd-summary-content, .sd-card-body').offsetHeight > 0)};
"""


@pytest.mark.browser
@pytest.mark.parametrize("path", CHAPTERS, ids=lambda p: p.stem)
def test_answers_are_closed_with_math_typeset_inside(html, browser, path):  # noqa: F811
    browser.get((html / "book" / f"{path.stem}.html").as_uri())
    assert browser.execute_async_script(WAIT_FOR_MATHJAX), "MathJax did not start"
    result = browser.execute_script(DROPDOWN_FACTS)
    answers = _practice_cells(path)[2::3]
    assert len(result["facts"]) == len(answers)
    for fact, answer in zip(result["facts"], answers, strict=True):
        assert not fact["open"], "answers must be collapsed by default"
        if "$" in answer.source:
            assert fact["math"] >= 1 and not fact["raw"], f"math in an answer not typeset: {fact}"
    assert all(result["opened"]) and all(result["visible"]), "one click must open every answer"
