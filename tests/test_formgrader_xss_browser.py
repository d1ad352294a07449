"""A student's Markdown attacks the instructor's formgrader, in headless Chromium (issue 19).

A temporary course (as in tests/test_formgrader_browser.py) has one submission whose
written answer holds the reported attack, a link written ``[plot](&#106;avascript:...)``
that would give every grade of the page full marks (``formgrader.grades.each(g =>
g.save({manual_score: max}))``), and whose added Markdown cells hold an OWASP
filter-evasion set and headings named after grade boxes. ``course-nn grade`` writes the
autograded notebook; ``jupyter server`` serves formgrader on 127.0.0.1 (a token, a free
port); Chromium opens the submission and:

* no vector ran (``window.__xss`` never set, no alert), no element has a script URL,
  and no element but formgrader's own has a grade box's id (or ``-comment`` id);
* the ``plot`` text is clicked: the gradebook's manual scores stay unset;
* a score typed into the written answer's box is saved to that grade (no heading
  captured the box).

The same vectors also go through formgrader's exporter without a server in
tests/test_sanitise.py. See docs/grading.md, "13. Autograded notebooks".
"""

from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import pytest

from course_nn.grading.hardened import testing as T
from tests.test_formgrader_browser import BIN, CONFIG, PAGE_FACTS, WRITTEN, A, jupyter_server, run
from tests.test_jupyterlab_browser import SCREENSHOTS, browser, wait_for  # noqa: F401
from tests.test_sanitise import OWASP

pytestmark = [pytest.mark.browser, pytest.mark.grading, pytest.mark.slow]

STUDENT = "mallory"
#: The reported attack: every grade of the page saved at full marks, on one click.
GRADE_ALL = ("[plot](&#106;avascript:formgrader.grades.each(g=>g.save("
             "{manual_score:g.get('max_score')})))")
ANSWER = f"Standardising made the rate converge; see the {GRADE_ALL} for the curves."
HAND_SCORE = 1.5

#: Markdown that would give an element a grade box's id (nbconvert's heading anchors).
CAPTURES = [f"## {WRITTEN}", f"# {WRITTEN}-comment", f'<span id="{WRITTEN}">span</span>']

#: What the submission page shows about the attacks (null until formgrader has loaded).
FACTS = """
if (!document.querySelector('#notebook-container')
    || document.querySelectorAll('input.score').length === 0) { return null; }
const scheme = v => (v || '').replace(/^[\\u0000-\\u0020]+/, '').replace(/[\\t\\n\\r]/g, '')
  .toLowerCase();
const bad = [];
for (const el of document.querySelectorAll('*')) {
  for (const name of ['href', 'src', 'action', 'formaction', 'data', 'srcdoc', 'xlink:href',
                      'background', 'poster']) {
    const v = scheme(el.getAttribute(name));
    if (/^(javascript|vbscript|data):/.test(v) || (name === 'srcdoc' && el.hasAttribute(name))) {
      bad.push(el.tagName + ' ' + name + '=' + v.slice(0, 60));
    }
  }
  if (el.tagName === 'A' && el.href && el.protocol === 'javascript:') { bad.push('A ' + el.href); }
}
const own = [];
for (const box of document.querySelectorAll('input.score, input.extra-credit, textarea.comment')) {
  own.push(box.id);
}
const clashes = own.filter(id => document.querySelectorAll('[id="' + id + '"], [name="' + id
  + '"]').length !== 1);
const rendered = Array.from(document.querySelectorAll('.text_cell_render'));
const dangerous = 'script, iframe, object, embed, form, svg, math, style, img, base, meta, '
  + 'input, textarea, button, video, audio, source, frame, link';
const tags = new Set();
for (const part of rendered) {  // instructor and student Markdown alike
  for (const el of part.querySelectorAll(dangerous)) { tags.add(el.tagName); }
}
// a student cell is stored as one attribute-free <div>: nothing in it has an attribute
// but href/title/rel (the instructor's headings keep nbconvert's ids and anchors)
const student = rendered.filter(p => p.children.length === 1
  && p.firstElementChild.tagName === 'DIV' && p.firstElementChild.attributes.length === 0);
for (const part of student) {
  for (const el of part.querySelectorAll('*')) {
    for (const a of el.attributes) {  // formgrader's own script gives links tabindex=-1
      if (!['href', 'title', 'rel', 'start', 'colspan', 'rowspan'].includes(a.name)
          && !(a.name === 'tabindex' && a.value === '-1')) {
        tags.add(el.tagName + '[' + a.name + ']');
      }
    }
  }
}
const links = Array.from(document.querySelectorAll('a')).filter(a => a.textContent === 'plot');
return {xss: window.__xss === undefined ? null : String(window.__xss), bad: bad,
        own: own, clashes: clashes, tags: Array.from(tags),
        formgrader: typeof window.formgrader === 'object' && !!window.formgrader.grades
                    && typeof window.formgrader.grades.each === 'function',
        plot_links: links.length, student_cells: student.length,
        text: document.body.innerText};
"""


def make_course(root: Path) -> Path:
    """nbgrader_config.py, source/ from solutions/, one hostile submission."""
    import shutil

    course = root / "course"
    (course / "source").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(CONFIG)
    shutil.copytree(T.ROOT / "solutions" / A, course / "source" / A,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    released = T.read(T.ROOT / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "source" / A / f"{A}.ipynb"))
    nb = T.with_sources(released, {**sol, WRITTEN: ANSWER})
    added = [{"cell_type": "markdown", "metadata": {}, "source": text, "id": f"attack-{k}"}
             for k, text in enumerate(CAPTURES + OWASP)]
    nb["cells"][1:1] = added  # before every grade box: a captured id would be found first
    T.submit(course, STUDENT, A, nb)
    return course


def manual_scores(course: Path) -> dict[str, float | None]:
    """grade id -> manual_score of the student's grades in the gradebook."""
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        sub = gb.find_submission_notebook(A, A, STUDENT)
        return {g.name: g.manual_score for g in sub.grades}


def click_plot(driver) -> str:
    """Click the ``plot`` link if there is one, else the text where it was written;
    return what was clicked."""
    from selenium.webdriver.common.by import By

    links = driver.find_elements(By.LINK_TEXT, "plot")
    target = links[0] if links else driver.find_element(
        By.XPATH, "//div[contains(@class,'text_cell_render')]//*[contains(text(),'plot')]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", target)
    what = f"{target.tag_name} {target.get_attribute('href') or ''}".strip()
    target.click()
    return what


def hand_grade(driver) -> None:
    """Type a score into the written answer's box and leave it (formgrader saves on change)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    score = driver.find_element(By.CSS_SELECTOR, f"input.score#{WRITTEN}")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", score)
    score.clear()
    score.send_keys(str(HAND_SCORE))
    score.send_keys(Keys.TAB)


def visit(driver, url: str, token: str, course: Path) -> dict:
    """Open the submission, read the facts, click ``plot``, then grade by hand; the
    gradebook's manual scores before, after the click and after hand grading."""
    from nbgrader.api import Gradebook
    from selenium.common.exceptions import NoAlertPresentException, UnexpectedAlertPresentException

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        ident = gb.find_submission_notebook(A, A, STUDENT).id
    before = manual_scores(course)
    driver.get(f"{url}/formgrader?token={token}")
    wait_for(driver, "return document.readyState === 'complete';", timeout=60)
    driver.get(f"{url}/formgrader/submissions/{ident}/")
    alerts = []
    try:
        wait_for(driver, PAGE_FACTS, timeout=60)
        time.sleep(1.5)  # onload/onerror handlers and autofocus would have run by now
        facts = wait_for(driver, FACTS, timeout=30)
        clicked = click_plot(driver)
        time.sleep(2.0)  # formgrader's saves are PUTs that finish within this
        after_click = wait_for(driver, FACTS, timeout=30)
    except UnexpectedAlertPresentException as err:
        alerts.append(str(err.alert_text))
        raise AssertionError(f"an alert ran: {err.alert_text}") from None
    try:
        alerts.append(driver.switch_to.alert.text)
    except NoAlertPresentException:
        pass
    clicked_scores = manual_scores(course)
    hand_grade(driver)
    deadline = time.monotonic() + 30
    while manual_scores(course).get(WRITTEN) != HAND_SCORE and time.monotonic() < deadline:
        time.sleep(0.5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "formgrader_xss_attempt.png"))
    return {"before": before, "facts": facts, "clicked": clicked, "after_click": after_click,
            "clicked_scores": clicked_scores, "graded_scores": manual_scores(course),
            "alerts": alerts}


@pytest.fixture(scope="module")
def attacked(browser):  # noqa: F811 (the imported fixture)
    with tempfile.TemporaryDirectory(prefix="course-nn-formgrader-xss-") as root:
        course = make_course(Path(root))
        run(course, str(BIN / "course-nn"), "grade", A, "--course", str(course), "--jobs", "1",
            "--quiet", "--timeout", "60")
        notebook = json.loads((course / "autograded" / STUDENT / A / f"{A}.ipynb").read_text())
        with jupyter_server(course) as (url, token):
            seen = visit(browser, url, token, course)
        yield {**seen, "notebook": notebook}


def test_no_vector_ran_and_no_script_url_is_left(attacked):
    """window.__xss never set, no alert, no element with a javascript:/vbscript:/data:
    URL or srcdoc, no dangerous element or id/name/style/class in rendered Markdown?"""
    for facts in (attacked["facts"], attacked["after_click"]):
        assert facts["xss"] is None, facts["xss"]
        assert facts["bad"] == [], facts["bad"]
        assert facts["tags"] == [], facts["tags"]
        assert facts["formgrader"]  # not clobbered
    assert attacked["alerts"] == []
    assert attacked["facts"]["student_cells"] == len(CAPTURES) + len(OWASP) + 1  # + answer
    text = attacked["facts"]["text"]
    assert "Standardising made the rate converge" in text and "tab link" in text


def test_no_element_but_formgraders_own_has_a_grade_box_id(attacked):
    """Each score, extra-credit and comment box id is unique in the page (headings named
    after them got none), and the written answer's box is among them?"""
    facts = attacked["facts"]
    assert facts["clashes"] == []
    assert WRITTEN in facts["own"] and f"{WRITTEN}-comment" in facts["own"]
    assert len(facts["own"]) >= 3 * 7  # six tests and the written answer, three boxes each


def test_clicking_the_grade_everything_link_changes_no_score(attacked):
    """The reported attack: the ``plot`` text is no link now; clicking where it is leaves
    every manual score unset (before the fix it set all of them to full marks)?"""
    assert attacked["after_click"]["plot_links"] == 0
    assert not attacked["clicked"].startswith("a ")
    assert attacked["before"] and all(v is None for v in attacked["before"].values())
    assert attacked["clicked_scores"] == attacked["before"]
    assert "[plot](javascript:formgrader.grades.each" in attacked["facts"]["text"]


def test_the_written_answer_box_still_grades_its_own_cell(attacked):
    """A score typed into the written answer's box lands on that grade alone (a heading
    named after it did not capture the box)?"""
    expected = {**attacked["before"], WRITTEN: HAND_SCORE}
    assert attacked["graded_scores"] == expected


def test_the_autograded_notebook_holds_only_sanitised_markdown(attacked):
    """Every student Markdown cell is stored as one clean HTML block: allowed tags and
    attributes only, no script URL (a vector CommonMark does not read as a tag is shown
    as its text)?"""
    from course_nn.grading.hardened.sanitise import is_stored
    from tests.test_sanitise import assert_inert

    cells = {c.get("id"): c for c in attacked["notebook"]["cells"]}
    attacks = [c for k, c in cells.items() if str(k).startswith("attack-")]
    assert len(attacks) == len(CAPTURES) + len(OWASP)
    for cell in attacks:
        source = "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]
        assert is_stored(source), source
        assert_inert(source)
