"""Input validation shared by the reference code.

Every public function converts its inputs with these helpers, so that bad input
raises ``ValueError`` whose message names what was expected and what came.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray


def as_float_array(
    x: Any, name: str, ndim: int | tuple[int, ...] | None = None, allow_nan: bool = False
) -> NDArray[np.float64]:
    """Return ``x`` as a float64 array (a copy only when needed), checking ``ndim``.

    Raises
    ------
    ValueError
        If ``x`` is not numeric, has the wrong number of dimensions, or holds NaN
        (unless ``allow_nan``).
    """
    try:
        arr = np.asarray(x, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric array-like, got {type(x).__name__}") from err
    if ndim is not None:
        allowed = (ndim,) if isinstance(ndim, int) else ndim
        if arr.ndim not in allowed:
            want = " or ".join(f"{d}-D" for d in allowed)
            raise ValueError(f"{name} must be {want}, got shape {arr.shape} ({arr.ndim}-D)")
    if not allow_nan and np.isnan(arr).any():
        raise ValueError(f"{name} must not contain NaN")
    return arr


def as_labels(y: Any, name: str = "y", num_classes: int | None = None) -> NDArray[np.int64]:
    """Return integer class labels as a 1-D int64 array, checking range 0..M-1."""
    arr = np.asarray(y)
    if arr.ndim != 1:
        raise ValueError(f"{name} must be 1-D integer labels of shape (n,), got shape {arr.shape}")
    if arr.size and not np.issubdtype(arr.dtype, np.integer):
        whole = np.issubdtype(arr.dtype, np.floating) and np.all(np.isfinite(arr))
        if not (whole and np.all(arr == np.round(arr))):
            raise ValueError(f"{name} must hold integer class labels, got dtype {arr.dtype}")
    arr = arr.astype(np.int64)
    if num_classes is not None and arr.size and (arr.min() < 0 or arr.max() >= num_classes):
        raise ValueError(
            f"{name} must hold labels in 0..{num_classes - 1}, got values in "
            f"{arr.min()}..{arr.max()}"
        )
    return arr


def check_same_length(a: NDArray, b: NDArray, name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have the same number of rows."""
    if a.shape[0] != b.shape[0]:
        raise ValueError(
            f"{name_a} and {name_b} must have the same number of samples, got "
            f"{name_a}.shape={a.shape} and {name_b}.shape={b.shape}"
        )
