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
    assert len(CHAPTERS) == 7


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
