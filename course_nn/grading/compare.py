"""Compare a student's output with the reference and say what is wrong.

Outputs are flattened into a list of float arrays (tuples and lists of arrays are
walked in order), so a function returning ``(W, b)`` or ``(loss, [(dW, db), ...])``
compares part by part. The same flattening runs in the hardened grader's child,
which hands back only these arrays.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
from numpy.typing import NDArray


def flatten_output(obj: Any) -> list[Any]:
    """Walk tuples/lists of arrays in order; a list of plain numbers stays one array."""
    if isinstance(obj, (tuple, list)) and any(
        isinstance(item, (tuple, list, np.ndarray)) or hasattr(item, "__array__") for item in obj
    ):
        return [leaf for item in obj for leaf in flatten_output(item)]
    return [obj]


def to_float_array(value: Any) -> NDArray[np.float64]:
    """``np.asarray(value, dtype=float)``, detaching torch tensors first."""
    if hasattr(value, "detach"):
        value = value.detach().cpu().numpy()
    return np.asarray(value, dtype=np.float64)


def same_answer(got: Any, alternative: Any, rtol: float = 1e-6, atol: float = 1e-8) -> bool:
    """Does ``got`` equal ``alternative`` (a known wrong answer), part by part?

    The one helper the checks' hints use to recognise a mistake: both are flattened
    like :func:`flatten_output`, a one-element answer matches a scalar, NaN matches NaN,
    and anything that is not numbers matches nothing."""
    try:
        want = [np.asarray(a, dtype=np.float64) for a in flatten_output(alternative)]
        have = [to_float_array(g) for g in flatten_output(got)]
    except (TypeError, ValueError):
        return False
    if len(want) != len(have):
        return False
    for w, h in zip(want, have, strict=True):
        if w.ndim == 0 and h.size == 1:
            h = h.reshape(())
        if w.shape != h.shape or not np.allclose(h, w, rtol=rtol, atol=atol, equal_nan=True):
            return False
    return True


def format_array(x: Any, limit: int = 600, indent: int = 14) -> str:
    """A short printable form of ``x``: arrays abbreviated to four significant digits,
    tuples and lists part by part, continuation lines indented to sit under the first."""
    if isinstance(x, (tuple, list)) and len(flatten_output(x)) > 1:
        text = "(" + ", ".join(format_array(item, limit, indent) for item in x) + ")"
    elif isinstance(x, (np.ndarray, np.generic, float, int)) and not isinstance(x, bool):
        arr = np.asarray(x)
        text = np.array2string(arr, precision=4, threshold=24, edgeitems=3, suppress_small=True)
        if arr.ndim:
            text = f"{text}  (shape {arr.shape})"
    else:
        text = repr(x)
    text = text.replace("\n", "\n" + " " * indent)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _shape_problem(expected: NDArray, got: NDArray, causes: bool = True) -> str:
    """The wrong shape, and (with ``causes``) the likely mistake behind it."""
    msg = f"wrong shape: expected {expected.shape}, got {got.shape}"
    if got.ndim == 2 and got.shape == expected.shape[::-1]:
        return msg + ("; the result looks transposed" +
                      (" (check the order of a matrix product)" if causes else ""))
    if got.size == expected.size:
        return msg + ("; same number of entries, so check reshape/keepdims or the axis you "
                      "reduce" if causes else "; the same number of entries")
    if got.ndim > expected.ndim:
        return msg + ("; did you forget to reduce (sum or mean) over an axis?" if causes
                      else "; more axes than expected")
    if got.ndim < expected.ndim:
        return msg + ("; did you reduce over an axis that should stay?" if causes
                      else "; fewer axes than expected")
    return msg


def _value_problem(expected: NDArray, got: NDArray, rtol: float, atol: float,
                   causes: bool = True) -> str | None:
    """Where the values differ, and (with ``causes``) a likely cause of the pattern."""
    if np.all(np.isfinite(expected)) and not np.all(np.isfinite(got)):
        bad = np.argwhere(~np.isfinite(got))[0] if got.ndim else ()
        return (
            f"got a non-finite value ({got[tuple(bad)]}) at index {tuple(int(i) for i in bad)} "
            "where the answer is finite" + (": an overflow or log(0)?" if causes else "")
        )
    close = np.isclose(got, expected, rtol=rtol, atol=atol, equal_nan=True)
    if np.all(close):
        return None
    err = np.abs(got - expected)
    worst = np.unravel_index(np.nanargmax(np.where(close, -1.0, err)), got.shape) if got.ndim else ()
    where = f" at index {tuple(int(i) for i in worst)}" if got.ndim else ""
    msg = (
        f"values differ{where}: expected {expected[worst]:.6g}, got {got[worst]:.6g} "
        f"({int((~close).sum())} of {close.size} entries off, largest error {np.nanmax(err):.3g})"
    )
    return msg + _scale_hint(expected, got, rtol, causes)


def _scale_hint(expected: NDArray, got: NDArray, rtol: float, causes: bool = True) -> str:
    mask = np.abs(expected) > 1e-12
    if mask.sum() < 2 or not np.all(np.isfinite(got)):  # one entry: any value is "a factor"
        return ""
    ratios = got[mask] / expected[mask]
    ratio = float(np.median(ratios))
    if abs(ratio) > 1e-12 and abs(ratio - 1) > 1e-3 and np.allclose(ratios, ratio, rtol=1e-6, atol=0):
        if np.isclose(ratio, -1):
            return "; the sign is flipped"
        return f"; off by a constant factor {ratio:.6g}" + (
            " (check a 1/n, a mean vs a sum, or a factor 2)" if causes else "")
    return ""


def compare_outputs(
    expected: Any, got: Any, rtol: float = 1e-6, atol: float = 1e-8,
    names: tuple[str, ...] = (), causes: bool = True,
) -> str | None:
    """Return ``None`` when ``got`` matches ``expected``, else a sentence saying how not.

    ``names`` name the parts of a tuple output (default "output 0", "output 1", ...);
    ``causes=False`` states the symptom only, without a guess at the mistake (the policy
    for a debugging item's partial repair, docs/exercise_items.md)."""
    want, have = flatten_output(expected), flatten_output(got)
    if len(want) != len(have):
        return f"returned {len(have)} value(s), expected {len(want)}"
    for index, (e, g) in enumerate(zip(want, have, strict=True)):
        label = names[index] if len(names) == len(want) else f"output {index}"
        part = f"{label}: " if len(want) > 1 else ""
        try:
            g_arr = to_float_array(g)
        except (TypeError, ValueError):
            return f"{part}returned a {type(g).__name__}, expected numbers"
        e_arr = to_float_array(e)
        if e_arr.ndim == 0 and g_arr.size == 1:
            g_arr = g_arr.reshape(())  # a scalar in a 1-element array is fine
        if g_arr.shape != e_arr.shape:
            return part + _shape_problem(e_arr, g_arr, causes)
        problem = _value_problem(e_arr, g_arr, rtol, atol, causes)
        if problem:
            return part + problem
    return None


# --- exceptions with a known typical cause ----------------------------------------------
def _shape(text: str) -> tuple[int, ...]:
    """``"2,3"`` -> ``(2, 3)``; ``""`` -> ``()``."""
    return tuple(int(s) for s in text.split(",") if s.strip())


def _broadcast_hint(message: str) -> str | None:
    found = re.search(r"broadcast together with (?:remapped )?shapes \(([\d,]*)\) \(([\d,]*)\)", message)
    if not found:
        return None
    a, b = _shape(found.group(1)), _shape(found.group(2))
    if a[:-1] == b or b[:-1] == a:
        return ("a sum or maximum over each row dropped that axis, so an (n, M) array meets "
                "an (n,) one: keep the reduced axis (NumPy's keepdims) so each row is "
                "combined with its own value")
    return ("the two arrays' shapes do not line up: check the axis you reduce over, whether "
            "it is kept, and whether a matrix needs transposing")


def _index_hint(message: str) -> str | None:
    found = re.search(r"index (-?\d+) is out of bounds for axis \d+ with size (\d+)", message)
    if found and int(found.group(1)) == int(found.group(2)):
        return ("an index equal to the axis's size: labels and positions count from 0 here, "
                "so the last of M classes is M - 1 (the lectures count classes from 1); "
                "look for a one-based label or an index shifted by one")
    if "arrays used as indices must be of integer" in message:
        return "labels used as indices must be integers: convert them before indexing"
    return None


def _matmul_hint(message: str) -> str | None:
    if "mismatch in its core dimension" in message or "not aligned" in message:
        return ("the inner sizes of a matrix product differ: a weight matrix is stored as "
                "(out, in) and samples are rows, so check which factor is transposed")
    return None


def _truth_value_hint(message: str) -> str | None:
    if "truth value of an array with more than one element is ambiguous" in message:
        return ("Python's max, if, and/or look at a whole array as one truth value: use "
                "NumPy's element-wise functions instead")
    return None


#: Diagnoses of an exception from its type and NumPy's message, tried in order.
EXCEPTION_HINTS = {
    "ValueError": (_broadcast_hint, _matmul_hint, _truth_value_hint),
    "IndexError": (_index_hint,),
}


def exception_hint(kind: str, message: str) -> str | None:
    """The likely bug behind an exception the student's function raised, or ``None``.

    Parameters
    ----------
    kind : the exception's type name, e.g. ``"ValueError"``.
    message : its message, e.g. ``"operands could not be broadcast together with
        shapes (2,3) (2,)"`` (a row maximum without keepdims).

    Only the type name and the text are used, so the hardened grader, which gets
    both back from its child as strings, can ask the same question.
    """
    for hint in EXCEPTION_HINTS.get(kind, ()):
        advice = hint(message)
        if advice:
            return advice
    return None
