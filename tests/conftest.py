"""Shared fixtures: repository paths, torch in float64, a seeded rng, and hypothesis profiles."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

ROOT = Path(__file__).resolve().parents[1]

# CI explores a fixed, larger set of examples (derandomize: a red CI is reproducible and
# never a coin toss); on a developer's machine each run draws new examples.
settings.register_profile(
    "ci", max_examples=60, deadline=None, derandomize=True, print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=30, deadline=None, print_blob=True)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(scope="session")
def root() -> Path:
    """The repository root."""
    return ROOT


@pytest.fixture
def rng() -> np.random.Generator:
    """A seeded generator, fresh per test."""
    return np.random.default_rng(12345)


@pytest.fixture
def torch():
    """PyTorch in float64: the independent oracle for values and gradients. The default
    dtype is restored after the test, so that code run later in the same worker (a
    student's ``nn.Linear`` in float32, the ex07 reference) sees PyTorch's own default."""
    import torch as _torch

    before = _torch.get_default_dtype()
    _torch.set_default_dtype(_torch.float64)
    yield _torch
    _torch.set_default_dtype(before)
