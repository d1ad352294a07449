"""The built book (make book): pages exist, nothing of the solutions leaks, and in a real
headless browser the math renders offline, images load and navigation is right."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import nbformat
import pytest
import yaml

from tests.notebooks import ROOT, assignment_names, solution_texts

pytestmark = pytest.mark.book
HTML = ROOT / "_build" / "html"
SCREENSHOTS = ROOT / "_build" / "screenshots"


def toc_pages() -> list[str]:
    """The book's pages in reading order, as paths under book/ without suffix."""
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [toc["root"]]
    for part in toc["parts"]:
        pages += [chapter["file"] for chapter in part["chapters"]]
    return pages


def page_title(page: str) -> str:
    """The first level-1 heading of a page's source (notebook or Markdown)."""
    source = ROOT / f"{page}.ipynb"
    if source.is_file():
        text = "\n".join(c.source for c in nbformat.read(source, as_version=4).cells
                         if c.cell_type == "markdown")
    else:
        text = (ROOT / f"{page}.md").read_text()
    return next(line[2:].strip() for line in text.splitlines() if line.startswith("# "))


PAGES = toc_pages()
CHAPTERS = [p for p in PAGES if p.split("/")[-1].startswith("ch")]


@pytest.fixture(scope="module")
def html() -> Path:
    if not (HTML / "index.html").is_file():
        if os.environ.get("COURSE_NN_REQUIRE_BROWSER"):
            pytest.fail("the book is not built: run `make book` first")
        pytest.skip("the book is not built (make book)")
    return HTML


def test_every_toc_page_is_built(html):
    assert len(CHAPTERS) >= 1
    for page in PAGES:
        assert (html / f"{page}.html").is_file(), page


def test_solutions_and_exercises_are_not_published(html):
    published = {p.relative_to(html).parts[0] for p in html.rglob("*")}
    assert "solutions" not in published and "exercises" not in published


@pytest.mark.parametrize("name", assignment_names())
def test_no_solution_text_in_the_build(html, name):
    leaks = []
    lines = solution_texts(name)
    published = [*(ROOT / "_build/html").rglob("*"), *(ROOT / "_build/jupyter_execute").rglob("*")]
    for path in published:
        if path.suffix in {".html", ".ipynb", ".md", ".txt", ".js", ".py"} and path.is_file():
            text = path.read_text(errors="ignore")
            leaks += [(path.name, ln) for ln in lines if ln in text]
    assert not leaks, f"solution text in _build: {leaks[:3]}"


def first_code_cell(page: str) -> nbformat.NotebookNode:
    cells = nbformat.read(ROOT / f"{page}.ipynb", as_version=4).cells
    return next(c for c in cells if c.cell_type == "code")


@pytest.mark.parametrize("page", CHAPTERS)
def test_first_cell_installs_course_nn_when_missing_and_is_folded(page):
    """docs/book.md, *The first cell*: install on Colab, nothing elsewhere, imports folded."""
    cell = first_code_cell(page)
    assert "hide-input" in cell.metadata.get("tags", []), "the import cell must be folded (tag hide-input)"
    guard = cell.source.find('if importlib.util.find_spec("course_nn") is None:')
    assert guard != -1 and "COURSE_NN_INSTALL" in cell.source and '"pip", "install"' in cell.source
    assert guard < cell.source.find("from course_nn"), "install before the first course_nn import"


@pytest.mark.parametrize("page", CHAPTERS)
def test_imports_live_in_the_first_cell(page):
    """The story starts on the first screen: later code cells import nothing."""
    cells = [c for c in nbformat.read(ROOT / f"{page}.ipynb", as_version=4).cells if c.cell_type == "code"]
    late = [(c.get("id"), line) for c in cells[1:] for line in c.source.splitlines()
            if line.startswith("import ") or (line.startswith("from ") and " import " in line)]
    assert not late, f"move these imports into the first cell: {late}"


@pytest.mark.parametrize("page", CHAPTERS)
def test_the_import_cell_is_folded_in_the_built_page(html, page):
    """hide-input renders the first cell's code inside a closed <details>, its output visible."""
    text = (html / f"{page}.html").read_text()
    start = text.find('class="cell tag_hide-input')
    assert start != -1, "no hide-input cell in the page"
    end = re.compile(r'class="cell[ "]').search(text, start + 10)
    cell = text[start:end.start() if end else len(text)]
    assert "<details" in cell and "hide above-input" in cell and "<details open" not in cell
    assert "importlib.util" in cell and "course_nn" in cell


def test_math_is_served_locally(html):
    page = (html / f"{CHAPTERS[0]}.html").read_text()
    assert "_static/mathjax/tex-chtml.js" in page
    assert (html / "_static/mathjax/tex-chtml.js").is_file()
    assert "cdn.jsdelivr" not in page and "mathjax@" not in page


# --- headless Chromium ------------------------------------------------------------------
def find_browser() -> tuple[str, str] | None:
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chrome, driver) if chrome and driver else None


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    found = find_browser()
    if not found:
        if os.environ.get("COURSE_NN_REQUIRE_BROWSER"):
            pytest.fail("chromium/chromedriver not found: run `make system-deps`")
        pytest.skip("no headless Chromium (make system-deps installs it)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--window-size=1280,1600",
                 f"--user-data-dir={tmp_path_factory.mktemp('chromium')}"]:
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(found[1]), options=options)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()


WAIT_FOR_MATHJAX = """
const done = arguments[arguments.length - 1];
const start = Date.now();
(function poll() {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    MathJax.startup.promise.then(() => done(true), () => done(false));
  } else if (Date.now() - start > 30000) { done(false); } else { setTimeout(poll, 100); }
})();
"""

PAGE_FACTS = """
const main = document.querySelector('main') || document.body;
const prose = main.cloneNode(true);
prose.querySelectorAll('pre, .highlight, .cell_output').forEach(e => e.remove());
const imgs = Array.from(main.querySelectorAll('img'));
return {
  title: document.title,
  rendered: main.querySelectorAll('mjx-container').length,
  unrendered: Array.from(main.querySelectorAll('.math')).filter(
      e => !e.querySelector('mjx-container')).map(e => e.textContent.slice(0, 60)),
  text: main.innerText,
  prose: prose.textContent,
  images: imgs.map(i => ({src: i.getAttribute('src'), ok: i.complete && i.naturalWidth > 0})),
  nav: Array.from(document.querySelectorAll('nav.bd-links a')).map(a => a.textContent.trim()),
  prev: (document.querySelector('a.left-prev') || {}).href || null,
  next: (document.querySelector('a.right-next') || {}).href || null,
};
"""


@pytest.mark.browser
@pytest.mark.parametrize("page", CHAPTERS)
def test_chapter_renders_in_a_browser(html, browser, page):
    browser.get((html / f"{page}.html").as_uri())
    assert browser.execute_async_script(WAIT_FOR_MATHJAX), "MathJax did not start (offline copy?)"
    facts = browser.execute_script(PAGE_FACTS)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / (Path(page).stem + ".png")))

    assert page_title(page) in facts["title"]
    assert facts["rendered"] >= 10, "display and inline equations should be typeset by MathJax"
    assert facts["unrendered"] == []
    assert "$$" not in facts["prose"] and "\\frac" not in facts["prose"], "raw TeX left in the page"
    assert facts["images"] and all(img["ok"] for img in facts["images"]), facts["images"]
    assert "BEGIN SOLUTION" not in facts["text"]
    for line in (ln for name in assignment_names() for ln in solution_texts(name)):
        assert line not in facts["text"]
    nav_titles = {n.split(". ", 1)[-1] for n in facts["nav"]}
    assert {page_title(p) for p in PAGES[1:]} <= nav_titles, facts["nav"]
    index = PAGES.index(page)
    assert facts["prev"] and facts["prev"].endswith(f"{PAGES[index - 1]}.html")
    if index + 1 < len(PAGES):
        assert facts["next"] and facts["next"].endswith(f"{PAGES[index + 1]}.html")


@pytest.mark.browser
def test_intro_page_links_every_chapter(html, browser):
    browser.get((html / "book/intro.html").as_uri())
    hrefs = browser.execute_script(
        "return Array.from(document.querySelectorAll('main a')).map(a => a.href)")
    for page in CHAPTERS:
        assert any(h.endswith(f"{page}.html") for h in hrefs), page
