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
