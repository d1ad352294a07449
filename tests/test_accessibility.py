"""WCAG 2.1 AA for the built book and the grader's feedback page (issue 14,
docs/accessibility.md): axe-core in headless Chromium finds no serious or critical
violation on any page, and every figure has a caption and real alternative text.

axe-core is the npm package pinned in package.json / package-lock.json (``npm ci``,
run by ``make test``); the test injects ``node_modules/axe-core/axe.min.js`` into each
page, so nothing is fetched from a CDN.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections import Counter
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.notebooks import ROOT
from tests.test_book import PAGES, browser, html  # noqa: F401  (fixtures)

pytestmark = pytest.mark.book
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: What axe checks: WCAG 2.0 and 2.1, levels A and AA, and axe's best practices.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
#: Impacts that fail the test; "moderate" and "minor" are reported, not failed.
FAILING = {"serious", "critical"}
#: Built pages beyond the table of contents that a reader reaches from every page.
EXTRA_PAGES = ["genindex", "search"]
IMAGE_FILE = re.compile(r"(^|/)[^/\s]+\.(png|jpe?g|gif|svg|webp)$", re.IGNORECASE)


@pytest.fixture(scope="module")
def axe_source() -> str:
    if not AXE.is_file():
        if os.environ.get("COURSE_NN_REQUIRE_BROWSER"):
            pytest.fail("axe-core is not installed: run `npm ci` at the repository root")
        pytest.skip("axe-core is not installed (npm ci)")
    return AXE.read_text(encoding="utf-8")


WAIT_FOR_PAGE = """
const done = arguments[arguments.length - 1];
const start = Date.now();
(function poll() {
  const pending = document.querySelector('script[src*="mathjax"]');
  if (!pending) { done(true); return; }          // a page without math loads no MathJax
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done(true), () => done(false));
  } else if (Date.now() - start > 30000) { done(false); } else { setTimeout(poll, 100); }
})();
"""

RUN_AXE = """
const done = arguments[arguments.length - 1];
axe.run(document, {runOnly: {type: 'tag', values: arguments[0]}, resultTypes: ['violations']})
  .then(r => done(r.violations.map(v => ({
      id: v.id, impact: v.impact, help: v.help,
      nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5), count: v.nodes.length}))))
  .catch(e => done('axe failed: ' + e));
"""


def axe_violations(driver, url: str, axe_source: str) -> list[dict]:
    """Open ``url``, wait for the math to be typeset, run axe; its violations."""
    driver.get(url)
    assert driver.execute_async_script(WAIT_FOR_PAGE), f"MathJax did not start on {url}"
    driver.execute_script(axe_source)
    violations = driver.execute_async_script(RUN_AXE, AXE_TAGS)
    assert isinstance(violations, list), violations
    return violations


def serious(violations: list[dict]) -> dict[str, list[str]]:
    """rule id -> the first offending nodes, for the violations that fail the test."""
    return {v["id"]: v["nodes"] for v in violations if v["impact"] in FAILING}


def impact_counts(violations: list[dict]) -> Counter:
    """Number of offending nodes per impact."""
    counts = Counter()
    for v in violations:
        counts[v["impact"]] += v["count"]
    return counts


# --- every page of the book -------------------------------------------------------------
@pytest.mark.browser
@pytest.mark.parametrize("page", PAGES + EXTRA_PAGES)
def test_no_serious_axe_violation_on_a_book_page(html, browser, axe_source, page):  # noqa: F811
    violations = axe_violations(browser, (html / f"{page}.html").as_uri(), axe_source)
    print(page, dict(impact_counts(violations)), sorted(v["id"] for v in violations))
    assert serious(violations) == {}
    # a table header holding only a formula is empty to axe (it does not read MathML):
    # headers name their column in words too ("input $x_1$"), docs/accessibility.md
    assert "empty-table-header" not in {v["id"] for v in violations}


MATH_FACTS = """
const containers = Array.from(document.querySelectorAll('mjx-container'));
return {
  setting: MathJax.config.options.menuOptions.settings.assistiveMml,
  formulas: containers.length,
  with_mathml: containers.filter(c => c.querySelector('mjx-assistive-mml > math')).length,
};
"""


@pytest.mark.browser
def test_every_formula_has_a_mathml_copy_for_screen_readers(html, browser):  # noqa: F811
    """Is MathJax's assistive MathML on (set in _config.yml), so that every typeset formula
    carries a hidden <math> element that screen readers read?"""
    chapter = next(p for p in PAGES if p.split("/")[-1].startswith("ch"))
    browser.get((html / f"{chapter}.html").as_uri())
    assert browser.execute_async_script(WAIT_FOR_PAGE)
    facts = browser.execute_script(MATH_FACTS)
    assert facts["setting"] is True
    assert facts["formulas"] >= 10 and facts["with_mathml"] == facts["formulas"], facts


# --- the grader's feedback page ----------------------------------------------------------
@pytest.fixture(scope="module")
def feedback_page(tmp_path_factory) -> Path:
    """The feedback page of a student who passed some checks and failed others, written
    by ``course-nn grade`` for a class of one."""
    from course_nn.grading.hardened import testing as T

    assignment = "ex01_linear_regression"
    course = T.make_course(tmp_path_factory.mktemp("a11y") / "course", [assignment])
    released = T.read(T.ROOT / "exercises" / assignment / f"{assignment}.ipynb")
    sol = T.solutions(T.read(T.ROOT / "solutions" / assignment / f"{assignment}.ipynb"))
    wrong = dict(sol, mse="def mse(y_hat, y):\n    return float(np.sum((y_hat - y) ** 2))")
    T.submit(course, "ann", assignment, T.with_sources(released, wrong))
    out = course / "graded"
    run = subprocess.run([sys.executable, "-m", "course_nn.cli", "grade", assignment, "--course",
                          str(course), "--out", str(out), "--no-gradebook", "--quiet",
                          "--jobs", "1", "--timeout", "60"],
                         capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    page = out / "feedback" / "ann.html"
    assert page.is_file()
    return page


@pytest.mark.browser
@pytest.mark.grading
@pytest.mark.slow
def test_no_serious_axe_violation_on_the_feedback_page(browser, axe_source, feedback_page):  # noqa: F811
    """Does the feedback page a student opens (course_nn/grading/hardened/outputs.py)
    break no serious or critical rule?"""
    violations = axe_violations(browser, feedback_page.as_uri(), axe_source)
    print("feedback", dict(impact_counts(violations)), sorted(v["id"] for v in violations))
    assert serious(violations) == {}


# --- figures: caption and alternative text ------------------------------------------------
class _Images(HTMLParser):
    """Each <img> of a page with its alt text and the caption of its enclosing <figure>."""

    def __init__(self):
        super().__init__()
        self.images: list[dict] = []
        self._figures: list[dict] = []  # open <figure>s, innermost last
        self._in_caption = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "figure":
            self._figures.append({"caption": ""})
        elif tag == "figcaption":
            self._in_caption = True
        elif tag == "img":
            self.images.append({"src": attrs.get("src", ""), "alt": attrs.get("alt"),
                                "figure": self._figures[-1] if self._figures else None})

    def handle_endtag(self, tag):
        if tag == "figure" and self._figures:
            self._figures.pop()
        elif tag == "figcaption":
            self._in_caption = False

    def handle_data(self, data):
        if self._in_caption and self._figures:
            self._figures[-1]["caption"] += data


def built_images(html_root: Path) -> list[tuple[str, dict]]:
    """(page, image) for every <img> of every built HTML page."""
    found = []
    for page in sorted(html_root.rglob("*.html")):
        if {"_static", "_sources"} & set(page.relative_to(html_root).parts):
            continue
        parser = _Images()
        parser.feed(page.read_text(encoding="utf-8"))
        found += [(str(page.relative_to(html_root)), image) for image in parser.images]
    return found


def alt_problem(image: dict) -> str | None:
    """Why an image's alt text is not real alternative text, or None if it is."""
    alt = (image["alt"] or "").strip()
    if not alt:
        return "no alt text"
    if IMAGE_FILE.search(alt) or alt == image["src"] or "_images/" in alt:
        return f"alt text is a file name: {alt!r}"
    if "{glue" in alt or "`" in alt:
        return f"alt text with an unfilled glue placeholder: {alt!r}"
    if "_images/" in image["src"] and len(alt.split()) < 8:
        return f"alt text of a figure should say what it shows, not {alt!r}"
    return None


def test_alt_problem_rejects_file_names_and_empty_text():
    """Does the check catch what the book had before (hashed file names) and empty alts?"""
    src = "../_images/ebfccf82a1.png"
    assert alt_problem({"src": src, "alt": src}) is not None
    assert alt_problem({"src": src, "alt": "ebfccf82a1.png"}) is not None
    assert alt_problem({"src": src, "alt": ""}) is not None
    assert alt_problem({"src": src, "alt": None}) is not None
    assert alt_problem({"src": src, "alt": "a plot"}) is not None
    assert alt_problem({"src": "logo.svg", "alt": "Binder logo"}) is None
    glued = "Line plot of the loss against the epoch, falling to {glue:text}`final:.2f` at the end"
    assert "placeholder" in alt_problem({"src": src, "alt": glued})
    assert alt_problem({"src": src, "alt": "Line plot of the loss against the epoch: "
                                          "it falls quickly, then levels off."}) is None


def test_every_image_has_real_alt_text(html):  # noqa: F811
    """Does every <img> of the built book have alt text that is not empty or a file name?"""
    images = built_images(html)
    figures = [image for _, image in images if "_images/" in image["src"]]
    assert len(figures) >= 40, "the chapters' figures should be in the build"
    problems = [(page, image["src"], alt_problem(image)) for page, image in images
                if alt_problem(image)]
    assert problems == [], problems[:5]


def test_alt_text_placeholders_are_filled_with_the_glued_values(html):  # noqa: F811
    """Does every figure whose alt text holds glue placeholders reach the page with the
    values its chapter glued in this build (book/_ext/glued_alt.py)?"""
    import importlib.util
    import json

    import nbformat

    spec = importlib.util.spec_from_file_location("glued_alt", ROOT / "book/_ext/glued_alt.py")
    ga = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(ga)
    alts_by_page: dict[str, set[str]] = {}
    for page, image in built_images(html):
        alts_by_page.setdefault(page, set()).add((image["alt"] or "").strip())
    checked = 0
    for chapter in sorted((ROOT / "book").glob("ch*.ipynb")):
        glue_file = html.parent / "jupyter_execute" / "book" / f"{chapter.stem}.glue.json"
        glued = ga.plain_values(json.loads(glue_file.read_text())) if glue_file.is_file() else {}
        for cell in nbformat.read(chapter, as_version=4).cells:
            alt = cell.metadata.get("mystnb", {}).get("image", {}).get("alt", "")
            if "{glue" not in alt:
                continue
            filled, missing = ga.fill(alt, glued)
            assert missing == [], f"{chapter.name}: alt text keys not glued: {missing}"
            assert filled.strip() in alts_by_page[f"book/{chapter.stem}.html"], (chapter.name, filled)
            checked += 1
    assert checked >= 10, "the chapters' computed alt-text numbers should be glued"


def test_every_figure_has_a_caption(html):  # noqa: F811
    """Is every figure of the chapters (an image under _images/) inside a <figure> with a
    non-empty caption (myst-nb cell metadata ``mystnb.figure.caption``)?"""
    missing = [(page, image["src"]) for page, image in built_images(html)
               if "_images/" in image["src"]
               and not (image["figure"] and image["figure"]["caption"].strip())]
    assert missing == [], missing[:5]
