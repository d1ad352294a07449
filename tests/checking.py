"""Shared assertion for the check tests: a typical mistake fails, and the message teaches."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from course_nn.grading import CheckFailure, check


def assert_teaches(name: str, wrong: Callable, hint: str, likely_bug: bool = True) -> str:
    """Does ``check(name, wrong)`` fail on a public case with the input, expected vs got
    and ``hint`` in its message (as the likely bug, unless ``likely_bug`` is False)?"""
    with pytest.raises(CheckFailure, match=hint) as info:
        check(name, wrong)
    message = str(info.value)
    assert message.startswith(f"{name}: public case")
    assert "input:" in message and "expected:" in message and "got:" in message
    if likely_bug:
        assert "likely bug:" in message
    return message
