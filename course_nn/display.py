"""Show course_nn's own code in the book, so chapters never retype it (STYLE.md, d2l's lesson)."""

from __future__ import annotations

import inspect
from typing import Any


def source(obj: Any) -> str:
    """The source code of a function, class or module of course_nn, as a string."""
    return inspect.getsource(obj)


def show_source(*objs: Any) -> Any:
    """Display the source of ``objs`` as a highlighted Python block in a notebook or the book."""
    from IPython.display import Markdown

    body = "\n\n".join(source(obj).rstrip() for obj in objs)
    return Markdown(f"```python\n{body}\n```")


#: The MIME prefix myst-nb gives a glued value that is not displayed in the cell's output.
_GLUE_PREFIX = "application/papermill.record/"


def _plain(value: Any) -> Any:
    """A NumPy scalar as the Python number it holds, so its text is ``0.976``, not
    ``np.float64(0.976)`` (which a ``{glue:text}`key:.3f``` format could not parse)."""
    return value.item() if hasattr(value, "item") and getattr(value, "ndim", None) == 0 else value


def glue(name: str, value: Any, display: bool = False) -> None:
    """Record ``value`` under ``name`` for the book's prose, as myst-nb's ``glue`` does.

    The prose then writes ``{glue:text}`name:.3f``` instead of typing the number, so a
    number in the text is always the one the code computed (docs/book.md, *Glue*). Unlike
    ``myst_nb.glue`` this needs no myst-nb, so a chapter also runs on Colab or Binder, and
    NumPy scalars are stored as Python numbers.

    Parameters
    ----------
    name : the key the prose refers to; unique within a chapter
    value : a number (``{glue:text}`` can format it), a string (shown as written) or
        anything IPython can display
    display : also show the value in the cell's output (default: only record it)
    """
    from IPython.core.formatters import format_display_data
    from IPython.display import display as ipy_display

    if isinstance(value, str):  # as written (not repr() with quotes), for {glue:text} and {glue:md}
        mimebundle, metadata = {"text/plain": value, "text/markdown": value}, {}
    else:
        mimebundle, metadata = format_display_data(_plain(value))
    prefix = "" if display else _GLUE_PREFIX
    metadata["scrapbook"] = {"name": name, "mime_prefix": prefix}
    ipy_display({prefix + kind: data for kind, data in mimebundle.items()}, raw=True, metadata=metadata)
