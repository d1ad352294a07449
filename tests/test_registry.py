"""Every registered check, whatever its chapter: the reference passes its own public and
hidden cases, and every case is plain data the hardened grader can send to its sandbox."""

from __future__ import annotations

import numpy as np
import pytest

from course_nn.grading import REGISTRY, check

pytestmark = pytest.mark.grading
NAMES = sorted(REGISTRY)
SEEDS = (0, 1, 2)
#: Items whose reference is not an answer: the judge re-runs what the student returns (a
#: model and its held-out probabilities), so a right answer from the table stands in.
RE_RUN = {"torch_train_and_predict"}


def test_every_chapter_registers_checks():
    modules = {spec.reference.__module__ for spec in REGISTRY.values()}
    assert len(NAMES) >= 30 and len(modules) >= 7, modules


@pytest.mark.parametrize("name", NAMES)
def test_reference_passes_public_and_hidden_cases(name, capsys):
    """Does the reference pass its public cases and hidden cases drawn with several seeds?

    A structure's reference is a description without weights (no answer is stored where a
    student can import it), and a re-run item's reference is no answer either: a right
    answer from its chapter's table stands in for them."""
    reference = REGISTRY[name].reference
    if REGISTRY[name].kind == "structure" and REGISTRY[name].arg_names:
        pytest.skip("a re-run item built on the notebook's other cells (ex08): its table's "
                    "right answers pass in the notebook in tests/test_checks_ch08.py")
    if REGISTRY[name].kind == "structure" or name in RE_RUN:
        from tests.test_hints import right_answer

        reference = right_answer(name)
    check(name, reference)
    for seed in SEEDS:
        check(name, reference, hidden=True, seed=seed)
    out = capsys.readouterr().out
    assert out.count(f"\u2713 {name}:") == 1 + len(SEEDS)


@pytest.mark.parametrize("name", NAMES)
def test_cases_are_plain_labelled_data(name):
    """Are case arguments arrays, numbers or strings, named and labelled for messages?"""
    spec = REGISTRY[name]
    public = spec.cases(hidden=False)
    assert 1 <= len(public) <= 8, "public cases are few and small"
    for case in public + spec.cases(hidden=True, seed=0):
        assert case.label, (name, case)
        assert len(case.args) <= len(spec.arg_names), (name, case.label)  # *args checks name the most
        for arg in case.args:
            assert isinstance(arg, (np.ndarray, np.integer, np.floating, int, float, str)), (
                name, case.label, type(arg))
            assert np.asarray(arg).dtype.kind in "biufU", (name, case.label)


@pytest.mark.parametrize("name", NAMES)
def test_hidden_cases_depend_on_the_seed(name):
    spec = REGISTRY[name]
    if not spec.arg_names:
        pytest.skip("a by-hand answer takes no input: there is nothing to draw")
    def signature(seed):
        return [tuple(np.asarray(a).tobytes() for a in c.args) for c in spec.cases(True, seed)]
    assert signature(3) == signature(3)
    assert signature(3) != signature(4), "hidden cases must be drawn at grading time"
