"""A student's Markdown in the instructor's formgrader runs nothing (issue 19, step 13).

Every case is rendered the way formgrader renders an autograded notebook's Markdown
cell: :func:`.sanitise.sanitise_markdown`, then nbconvert's own Markdown filter (the
``HTMLExporter.markdown2html`` of formgrader's exporter, and
``markdown2html_mistune``). The rendered HTML is parsed and every attribute checked:
no script URL (entities, escapes, tabs and case decoded as a browser would), no
``id``/``name``/``class``/``style``/event attribute, so no heading can take a grade
box's id. See docs/grading.md, "13. Autograded notebooks".
"""

from __future__ import annotations

import html
import time
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_nn.grading.hardened.sanitise import (
    MAX_MARKDOWN_CELL,
    MAX_MARKDOWN_NOTEBOOK,
    TAGS,
    is_stored,
    sanitise_cells,
    sanitise_markdown,
)

pytestmark = [pytest.mark.grading]

GRADE_IDS = ("written_learning_rates", "written_standardising")

#: The bypasses of the old regular expression (issue 19), and variants of each.
SCRIPT_LINKS = [
    "[plot](&#106;avascript:alert(1))",
    "[plot](jav&#x61;script:alert(1))",
    "[x][r]\n\n[r]: javascript&colon;alert(1)",
    "[x][r]\n\n[r]: javascript&#x3A;alert(1)",
    "[b](javascript\\:alert(1))",
    "[x][r]\n\n[r]: <javascript\\:alert(1)>",
    "[a](&#x6A;avascript:alert(1))",
    "[a](&#0000106avascript:alert(1))",
    "[a](&#106avascript:alert(1))",
    "[a](JaVaScRiPt:alert(1))",
    "[a](<javascript:alert(1)>)",
    "<javascript:alert(1)>",
    "[a](java&Tab;script:alert(1))",
    "[a](&#9;javascript:alert(1))",
    "[a](javascript&#58;alert(1))",
    "[a](&#x26;#106;avascript:alert(1))",
    "[a](vbscript:msgbox(1))",
    "[a](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "![i](javascript:alert(1))",
    "![i](&#106;avascript:alert(1))",
    '<a href="&#106;avascript:alert(1)">x</a>',
    '<a href="jav&#x09;ascript:alert(1)">x</a>',
    '<a href="  javascript:alert(1)">x</a>',
    "[formgrader](&#106;avascript:formgrader.grades.each(g=>g.save({manual_score:g.get('max_score')})))",
]

#: Headings and tags that would give an element the id of a grade box or its comment.
GRADE_ID_CAPTURES = [
    "## written_learning_rates\n\nMy answer.",
    "# written_learning_rates-comment",
    "written_standardising\n=====================",
    "### written standardising",  # nbconvert's anchor turns spaces into dashes, not _
    '<h2 id="written_learning_rates">x</h2>',
    '<a name="written_learning_rates">x</a>',
    '<textarea id="written_learning_rates-comment"></textarea>',
    '<span id=written_standardising class="score" style="position:fixed">x</span>',
]

#: OWASP XSS filter-evasion vectors, each setting ``window.__xss`` (or alerting) if it runs.
OWASP = [
    "<script>window.__xss='script'</script>",
    "<img src=x onerror=\"window.__xss='img onerror'\">",
    "<IMG SRC=x ONERROR=window.__xss='upper'>",
    "<svg/onload=window.__xss='svg onload'>",
    "<svg><animate onbegin=window.__xss='animate' attributeName=x dur=1s>",
    "<iframe srcdoc=\"<script>parent.__xss='srcdoc'</script>\"></iframe>",
    "<a href=\"jav&#x09;ascript:window.__xss='tab'\">tab link</a>",
    "<a href=\"jav&#x0A;ascript:window.__xss='newline'\">newline link</a>",
    "<a href=\"&#106&#97&#118&#97&#115&#99&#114&#105&#112&#116&#58window.__xss='nosemi'\">"
    "no-semicolon link</a>",
    "<a href=\"&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;"
    "window.__xss='hex'\">hex link</a>",
    "<a href=\"JAVASCRIPT:window.__xss='upper scheme'\">upper link</a>",
    "<a href=\"  javascript:window.__xss='space'\">space link</a>",
    "<a href=\"java\x00script:window.__xss='null'\">null link</a>",
    "<img src=x o\x00nerror=window.__xss='null attr'>",
    "<math><mtext><table><mglyph><style><img src=x onerror=window.__xss='mglyph'>",
    "<noscript><p title=\"</noscript><img src=x onerror=window.__xss='noscript'>\">",
    "<form action=\"javascript:window.__xss='form'\"><button>send</button></form>",
    "<button formaction=\"javascript:window.__xss='formaction'\">b</button>",
    "<object data=\"javascript:window.__xss='object'\"></object>",
    "<embed src=\"data:text/html,<script>parent.__xss='embed'</script>\">",
    "<base href=\"javascript:window.__xss='base'//\"><a href=\"rel\">relative</a>",
    "<meta http-equiv=\"refresh\" content=\"0;url=javascript:window.__xss='meta'\">",
    "<input autofocus onfocus=window.__xss='autofocus'>",
    "<details open ontoggle=window.__xss='ontoggle'><summary>s</summary></details>",
    "<div style=\"background:url(javascript:window.__xss='style')\">styled</div>",
    "<style>@import 'javascript:window.__xss=1';</style>",
    "<video><source onerror=\"window.__xss='video'\"></video>",
    "<body onload=window.__xss='body'>",
    "[md link](JaVaScRiPt:window.__xss='md-case')",
    "[md data](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[ref][r]\n\n[r]: javascript&colon;window.__xss='ref-colon'",
    "[escaped](javascript\\:window.__xss='escaped')",
    "![pic](&#106;avascript:window.__xss='image')",
    "<a name=\"formgrader\">clobber</a><form name=\"formgrader\"></form>",
    "<a href=\"javascript:alert('alert')\">alert link</a>",
]
SAFE_ATTRIBUTES = {"href", "title", "rel", "start", "colspan", "rowspan"}
SCRIPT_SCHEMES = ("javascript:", "vbscript:", "data:")


class Attributes(HTMLParser):
    """Every (tag, attribute, value) of an HTML text, values decoded as a browser does."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.found += [(tag, name, value or "") for name, value in attrs] or [(tag, "", "")]

    def handle_data(self, data):
        self.text.append(data)


def attributes(page: str) -> list[tuple[str, str, str]]:
    parser = Attributes()
    parser.feed(page)
    return parser.found


def text_of(page: str) -> str:
    parser = Attributes()
    parser.feed(page)
    return "".join(parser.text)


def url_scheme(value: str) -> str:
    """A URL as a browser reads its scheme: edges of C0 controls and spaces stripped, tab
    and newlines removed anywhere, lower case."""
    value = value.strip("".join(map(chr, range(0x21)))).lower()
    return "".join(c for c in value if c not in "\t\n\r")


def formgrader_markdown(source: str) -> str:
    """The Markdown filter of formgrader's own exporter (nbgrader's formgrade template)."""
    return _exporter().markdown2html({"cell": {}, "resources": {}}, source)


_EXPORTER = []


def _exporter():
    if not _EXPORTER:
        import nbgrader.server_extensions.formgrader.handlers as handlers
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        config = Config()
        config.HTMLExporter.template_name = "formgrade"
        config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
        _EXPORTER.append(HTMLExporter(config=config))
    return _EXPORTER[0]


def rendered(markdown: str) -> list[str]:
    """The sanitised cell through both of nbconvert's Markdown filters."""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    stored = sanitise_markdown(markdown)
    return [formgrader_markdown(stored), markdown2html_mistune(stored)]


def assert_inert(page: str) -> None:
    """No script URL, no attribute outside the safe ones, no grade box id in ``page``."""
    for tag, name, value in attributes(page):
        assert tag in TAGS, tag
        assert name in SAFE_ATTRIBUTES | {""}, (tag, name, value)
        if name in ("href", "src"):
            assert not url_scheme(value).startswith(SCRIPT_SCHEMES), (tag, value)
    for grade_id in GRADE_IDS:
        for ident in (grade_id, f"{grade_id}-comment"):
            assert f'id="{ident}"' not in page and f"id='{ident}'" not in page


@pytest.mark.parametrize("markdown", SCRIPT_LINKS)
def test_no_script_link_survives_rendering(markdown):
    """Each bypass of the old regular expression (entities, escapes, reference links,
    tabs, case) renders through nbconvert with no javascript:/vbscript:/data: URL?"""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    unsanitised = markdown2html_mistune(markdown)  # what nbconvert would make of it
    for page in rendered(markdown):
        assert_inert(page)
    if markdown.startswith("[plot]("):  # the reported attack: a live link before the fix
        assert 'href="javascript:' in unsanitised


@pytest.mark.parametrize("markdown", GRADE_ID_CAPTURES)
def test_no_element_takes_a_grade_box_id(markdown):
    """A heading or tag named after a grade id (or ``<grade_id>-comment``) gets no id,
    name, class or style at all, while its words still show?"""
    from nbconvert.filters.markdown_mistune import markdown2html_mistune

    for page in rendered(markdown):
        assert_inert(page)
        assert " id=" not in page and " name=" not in page
    if markdown.startswith("## written_learning_rates"):
        assert 'id="written_learning_rates"' in markdown2html_mistune(markdown)  # the attack
        assert "<h2>written_learning_rates</h2>" in rendered(markdown)[0]


@pytest.mark.parametrize("vector", OWASP)
def test_the_owasp_set_renders_inert_through_formgraders_exporter(vector):
    """Each classic filter-evasion vector, through formgrader's own Markdown filter: only
    allowed tags and attributes, no script URL, nothing for a browser to run?"""
    for page in rendered(vector):
        assert_inert(page)
        assert "<script" not in page.lower()


ORDINARY = {
    "- one\n- *two*\n\n1. first\n2. `code`": ["<ul>", "<li>one</li>", "<em>two</em>",
                                              "<ol>", "<code>code</code>"],
    "**bold** and _it_ and ~~gone~~": ["<strong>bold</strong>", "<em>it</em>", "<s>gone</s>"],
    "[notes](https://example.org/a?b=1&c=2) and [top](#top) and [nb](other.ipynb)": [
        'href="https://example.org/a?b=1&amp;c=2"', 'href="#top"', 'href="other.ipynb"'],
    "<mailto:me@example.org>": ['href="mailto:me@example.org"'],
    "a < b and b > c & d": ["a &lt; b and b &gt; c &amp; d"],
    "YOUR ANSWER HERE": ["<p>YOUR ANSWER HERE</p>"],
    "Rate $\\eta_1 * x_2$ and $$\\sum_i w_i^2$$": ["$\\eta_1 * x_2$", "$$\\sum_i w_i^2$$"],
    "$$\na < b\n$$": ["$$a &lt; b$$"],
    "| a | b |\n|---|--:|\n| 1 | 2 |": ["<table>", "<th>a</th>", "<td>2</td>"],
    "> quoted\n\n---\n\n## Heading": ["<blockquote>", "<hr>", "<h2>Heading</h2>"],
    "![a plot](https://example.org/p.png)": ['href="https://example.org/p.png"', "image: a plot"],
}


@pytest.mark.parametrize("markdown", list(ORDINARY))
def test_ordinary_markdown_still_reads_as_written(markdown):
    """Lists, emphasis, code, links, math (as $...$ for MathJax), tables, `a < b`, the
    stub: the page shows them as Markdown would?"""
    for page in rendered(markdown):
        assert_inert(page)
        for needle in ORDINARY[markdown]:
            assert needle in page, (needle, page)


def test_code_blocks_keep_their_blank_lines_and_the_cell_stays_one_html_block():
    """A fenced block with blank lines: stored without a blank line (so nbconvert reads no
    Markdown in it), yet the browser's text is the code as written?"""
    code = "x = 1\n\n\nif x < 2:\n    y = '<b>'\n"
    stored = sanitise_markdown(f"```python\n{code}```\n\nafter\n\n## written_standardising")
    assert is_stored(stored) and not any(not line.strip() for line in stored.split("\n"))
    for page in rendered(f"```python\n{code}```\n\nafter\n\n## written_standardising"):
        assert code in text_of(page)
        assert page.strip() == stored  # passed through untouched: nothing re-read
        assert_inert(page)


@pytest.mark.parametrize("markdown", SCRIPT_LINKS + GRADE_ID_CAPTURES + list(ORDINARY))
def test_sanitising_is_idempotent(markdown):
    """A stored cell sanitised again (the merge does) is unchanged, byte for byte?"""
    once = sanitise_markdown(markdown)
    assert sanitise_markdown(once) == once and is_stored(once)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(list("#*_[]()<>!:&;/\\`$=-| \n\tajvsciptxrh0169")
                               + ["&#106;", "javascript:", "<a href=", "<img ", "onerror=",
                                  "written_standardising", "<div>", "\n\n", "```", "&#10;",
                                  "</div>", "\r", "    ", "1. ", "- ", "> "]),
                max_size=60).map("".join))
def test_any_markdown_renders_inert_and_untouched(markdown):
    """Property: whatever the Markdown, the stored cell is one HTML block nbconvert passes
    through as it is, with only safe attributes; sanitising again changes nothing."""
    stored = sanitise_markdown(markdown)
    assert sanitise_markdown(stored) == stored
    page = formgrader_markdown(stored)
    assert page.strip() == stored
    assert_inert(page)


@pytest.mark.slow
def test_a_huge_or_hostile_cell_is_bounded_and_shown_as_text():
    """150,000 characters of ``*a `` (21 s in the Markdown parser) and a notebook of 40
    cells of 10,000 characters of ``*[``: shown as text past the budget, in bounded time?"""
    start = time.perf_counter()
    huge = sanitise_markdown("*a " * 50_000)
    many = sanitise_cells(["*[" * (MAX_MARKDOWN_CELL // 2)] * 40)
    elapsed = time.perf_counter() - start
    assert huge.startswith("<div>\n<pre>*a *a ") and "<em>" not in huge
    parsed = [c for c in many if "<pre>" not in c]
    assert len(parsed) == MAX_MARKDOWN_NOTEBOOK // MAX_MARKDOWN_CELL
    assert all("<em>[</em>" in c for c in parsed)  # read as Markdown
    assert all(html.unescape(c).count("*[") == MAX_MARKDOWN_CELL // 2 for c in many
               if c not in parsed)  # the rest shown as the text it is
    assert elapsed < 30, elapsed  # 1-3 s on 2 busy cores; unbounded, minutes


def test_formgrader_loads_mathjax_with_its_safe_extension():
    """formgrader's page loads MathJax 2 with ``Safe`` (\\href only to http/https/file,
    \\cssId and \\class only MJX- names), so math in an answer cannot make a script link
    or a grade box id. nbconvert/nbgrader changing that must fail here."""
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
        sanitise_markdown("$\\href{javascript:alert(1)}{x}$"))])
    page, _ = _exporter().from_notebook_node(nb, resources={
        "base_url": "", "notebook_id": "n", "assignment_id": "a", "submission_id": "s",
        "index": 0, "total": 1, "student": "s", "notebook_path": "p"})
    sources = [v for t, n, v in attributes(page) if t == "script" and n == "src"]
    mathjax = [s for s in sources if "mathjax" in s.lower()]
    assert mathjax and all("2.7." in s and "Safe" in s.split("config=")[1] for s in mathjax)
    assert "$\\href{javascript:alert(1)}{x}$" in page  # left to MathJax's Safe filter
