"""Hypothesis strategies shared by the property tests (one place, reused everywhere)."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

#: Finite float64 values of a moderate size (products and sums stay exact enough).
moderate_floats = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)

#: Finite float64 values up to 1e4 in magnitude: "huge logits" for softmax-style code.
huge_floats = st.floats(min_value=-1e4, max_value=1e4, allow_nan=False, allow_infinity=False)


def matrices(min_rows=1, max_rows=8, min_cols=1, max_cols=6, elements=moderate_floats):
    """2-D float64 arrays of shape (n, p) within the given bounds."""
    shapes = st.tuples(st.integers(min_rows, max_rows), st.integers(min_cols, max_cols))
    return shapes.flatmap(lambda s: arrays(np.float64, s, elements=elements))


def vectors(min_size=1, max_size=10, elements=moderate_floats):
    """1-D float64 arrays."""
    return st.integers(min_size, max_size).flatmap(
        lambda n: arrays(np.float64, (n,), elements=elements)
    )


def any_arrays(max_dims=3, elements=moderate_floats):
    """float64 arrays of 0 to ``max_dims`` dimensions (each side 1..5)."""
    return arrays(np.float64, array_shapes(min_dims=0, max_dims=max_dims, max_side=5),
                  elements=elements)


def seeds():
    """Seeds for numpy.random.default_rng."""
    return st.integers(0, 2**32 - 1)


def distributions(min_classes=1, max_classes=8, rows=None, allow_zeros=True):
    """Probability vectors along the last axis: (M,) if ``rows`` is None, else (rows, M).

    Entries are >= 0 (exact zeros included when ``allow_zeros``) and each vector sums
    to 1; no vector is all zero.
    """
    low = 0.0 if allow_zeros else 1e-3
    weights = st.floats(min_value=low, max_value=1.0, allow_nan=False, allow_infinity=False)

    def normalise(w):
        w = w.copy()
        w[..., 0] += np.all(w == 0, axis=-1)  # an all-zero vector becomes a certain outcome
        return w / w.sum(axis=-1, keepdims=True)

    def shaped(m):
        shape = (m,) if rows is None else (rows, m)
        return arrays(np.float64, shape, elements=weights).map(normalise)

    return st.integers(min_classes, max_classes).flatmap(shaped)


def distribution_pairs(min_classes=1, max_classes=8, allow_zeros=True):
    """Pairs (p, q) of probability vectors over the same M outcomes; q has no zeros."""
    def pair(m):
        return st.tuples(distributions(m, m, allow_zeros=allow_zeros),
                         distributions(m, m, allow_zeros=False))

    return st.integers(min_classes, max_classes).flatmap(pair)


def layer_size_lists(min_layers=1, max_layers=4, max_size=6):
    """MLP ``layer_sizes`` [p, U1, ..., M]: ``min_layers``..``max_layers`` weight layers."""
    return st.lists(st.integers(1, max_size), min_size=min_layers + 1, max_size=max_layers + 1)
