"""Step 13: a student's Markdown made safe to show in the instructor's formgrader.

Book: none (instructor tooling); docs/grading.md, "13. Autograded notebooks";
docs/instructor.md, "Hand grading in formgrader".

formgrader renders an autograded notebook's Markdown with nbconvert (mistune, raw HTML
passed through, headings given an ``id`` from their text) inside the instructor's
logged-in page, whose script finds a grade box with ``$("#" + grade_id)``. A student's
Markdown cell is therefore never stored as Markdown:

1. it is parsed by a real CommonMark parser (markdown-it-py, with tables, strikethrough
   and ``$``/``$$`` math), which decodes entities and backslash escapes in link targets
   and drops ``javascript:``-style links;
2. the HTML is cleaned by nh3 (Ammonia) with an allow-list of tags and attributes and of
   URL schemes (http, https, mailto; relative URLs and ``#`` fragments): no ``id``,
   ``name``, ``class``, ``style`` or event attribute, no script, no form, no frame;
3. it is stored as one CommonMark HTML block (``<div>`` ... ``</div>`` with no blank
   line: a blank line inside becomes ``&#10;``), which nbconvert passes through as it
   is: nothing is read as Markdown again and no heading gets an ``id``.

Math stays ``$...$`` text for formgrader's MathJax, which loads its ``Safe`` extension
(``\\href`` only to http/https/file, ``\\cssId``/``\\class`` only ``MJX-`` names).
:func:`sanitise_markdown` is idempotent: a stored cell cleaned again is unchanged.
"""

from __future__ import annotations

import functools
import html

WRAP_OPEN, WRAP_CLOSE = "<div>\n", "\n</div>"
#: Characters of one cell, and of one notebook, parsed as Markdown (the parser is
#: superlinear on hostile input: 20,000 characters of ``*[`` take 0.3-1.9 s on a busy
#: 2-core machine, 150,000 of ``*a `` 21 s); longer cells, and cells past the
#: notebook's budget, are shown as preformatted text (a page of prose is ~3,000).
MAX_MARKDOWN_CELL = 10_000
MAX_MARKDOWN_NOTEBOOK = 50_000

#: Tags a written answer may use; everything else is dropped (its text kept, except
#: ``script`` and ``style``, dropped whole).
TAGS = frozenset({
    "a", "abbr", "b", "blockquote", "br", "caption", "cite", "code", "dd", "del", "details",
    "div", "dl", "dt", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr", "i", "ins",
    "kbd", "li", "mark", "ol", "p", "pre", "q", "s", "samp", "small", "span", "strong",
    "sub", "summary", "sup", "table", "tbody", "td", "tfoot", "th", "thead", "tr", "u",
    "ul", "var",
})
#: Attributes per tag (none on any other tag: no id, name, class, style or on*). No
#: ``img``: a picture would be fetched when the instructor opens the page (a beacon, or
#: a request to the server as the instructor); a Markdown image becomes a link to it.
ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "td": {"colspan", "rowspan"},
              "th": {"colspan", "rowspan"}}
#: Absolute URLs allowed in href/src; relative URLs and fragments are kept as they are.
URL_SCHEMES = frozenset({"http", "https", "mailto"})


@functools.lru_cache(maxsize=1)
def _parser():
    """markdown-it-py in CommonMark mode, raw HTML on (nh3 cleans it), tables,
    strikethrough and dollar math rendered back as ``$...$`` text for MathJax."""
    from markdown_it import MarkdownIt
    from mdit_py_plugins.dollarmath import dollarmath_plugin

    md = MarkdownIt("commonmark", {"html": True}).enable(["table", "strikethrough"])
    md.use(dollarmath_plugin, allow_space=True, allow_digits=True, double_inline=True,
           renderer=_math)
    md.add_render_rule("image", _image_link)
    return md


def _image_link(self, tokens, idx, options, env) -> str:
    """A Markdown image as a link to it (``image: <alt text>``), never fetched by itself."""
    token = tokens[idx]
    alt = self.renderInlineAsText(token.children or [], options, env) or "image"
    src = html.escape(str(token.attrGet("src") or ""))
    return f'<a href="{src}">image: {html.escape(alt, quote=False)}</a>'


def _math(content: str, options: dict) -> str:
    """Math as nbconvert writes it for MathJax: ``$...$`` inline, ``$$...$$`` displayed."""
    delimiter = "$$" if options.get("display_mode") else "$"
    return f"{delimiter}{html.escape(content, quote=False)}{delimiter}"


def clean_html(fragment: str) -> str:
    """``fragment`` cleaned by nh3 with the allow-lists above (comments dropped)."""
    import nh3

    return nh3.clean(fragment, tags=set(TAGS), attributes={k: set(v) for k, v in ATTRIBUTES.items()},
                     url_schemes=set(URL_SCHEMES), strip_comments=True,
                     link_rel="noopener noreferrer nofollow")


def one_html_block(fragment: str) -> str:
    """Clean HTML as one CommonMark HTML block: wrapped in ``<div>`` and with no blank
    line inside (the line break before a blank line is written ``&#10;``, the same
    character to HTML), so a Markdown renderer passes it through untouched."""
    lines = fragment.replace("\r\n", "\n").replace("\r", "\n").strip("\n").split("\n")
    out = lines[0]
    for line in lines[1:]:
        out += ("&#10;" if not line.strip() else "\n") + line
    return WRAP_OPEN + out + WRAP_CLOSE if out.strip() else WRAP_OPEN.rstrip("\n") + WRAP_CLOSE


def is_stored(text: str) -> bool:
    """Is ``text`` in the stored form (an HTML block made by :func:`one_html_block`)?"""
    return text.startswith(WRAP_OPEN.rstrip("\n")) and text.endswith(WRAP_CLOSE) \
        and not any(not line.strip() for line in text.split("\n"))


def sanitise_markdown(text: str, as_markdown: bool = True) -> str:
    """A student's Markdown cell source as safe HTML for the autograded notebook.

    Text already in the stored form is only cleaned again as HTML (so cleaning is
    idempotent); other text is rendered as CommonMark first, or, when ``as_markdown``
    is false or it is longer than :data:`MAX_MARKDOWN_CELL`, shown as preformatted text.
    The result renders in formgrader as the student's answer would, with no script, no
    script URL and no ``id`` (see the module docstring).

    Examples
    --------
    >>> sanitise_markdown("[plot](&#106;avascript:alert(1)) and *a < b*")
    '<div>\\n<p>[plot](javascript:alert(1)) and <em>a &lt; b</em></p>\\n</div>'
    >>> sanitise_markdown(sanitise_markdown("## written_x")) == sanitise_markdown("## written_x")
    True
    """
    if is_stored(text):
        return one_html_block(clean_html(text[len(WRAP_OPEN.rstrip("\n")):-len(WRAP_CLOSE)]))
    if not as_markdown or len(text) > MAX_MARKDOWN_CELL:
        return one_html_block(clean_html(f"<pre>{html.escape(text, quote=False)}</pre>"))
    return one_html_block(clean_html(_parser().render(text)))


def sanitise_cells(sources: list[str]) -> list[str]:
    """:func:`sanitise_markdown` of a notebook's untrusted cells, in order; cells past
    :data:`MAX_MARKDOWN_NOTEBOOK` characters parsed as Markdown are shown as text."""
    budget, out = MAX_MARKDOWN_NOTEBOOK, []
    for text in sources:
        parse = not is_stored(text) and len(text) <= min(budget, MAX_MARKDOWN_CELL)
        budget -= len(text) if parse else 0
        out.append(sanitise_markdown(text, as_markdown=parse))
    return out
