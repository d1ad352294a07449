"""A hostile student folder name runs no script in nbgrader's own pages (issue #19).

nbgrader's Manage Students pages print the gradebook's student id unescaped
(``manage_students_assignments.tpl``: ``<li class="active">{{ student_id }}</li>``), so
the id ``course-nn grade`` writes must be a safe token (``text.student_id``). A course
whose ``submitted/`` holds a folder named ``<img src=x onerror="window.__xss=1">`` and
an honest ``alice`` is graded by ``course-nn grade``; ``jupyter server`` with formgrader
(127.0.0.1, a token, a free port: ``tests/test_formgrader_browser.py``) serves it; headless
Chromium opens Manage Students, follows the student's link to their assignments and
their notebook submissions, and no script may run. A control opens the same page
with the raw name as the id: nbgrader does run it, which is why the id is hashed.
(nbgrader also lists the folders of ``submitted/`` by their raw names, a 0/0 row whose
link opens that page: that is nbgrader reading the folder, not an id the grader wrote;
docs/grading.md, "1. Entry: hostile strings", tells the instructor to move it.)
"""

from __future__ import annotations

import shutil
import tempfile
import time
import urllib.parse
from pathlib import Path

import pytest

from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.text import student_id
from tests.test_formgrader_browser import BIN, CONFIG, jupyter_server, run
from tests.test_jupyterlab_browser import (  # noqa: F401  (browser is a fixture)
    SCREENSHOTS,
    browser,
    wait_for,
)

pytestmark = [pytest.mark.browser, pytest.mark.grading, pytest.mark.slow]

A = "ex01_linear_regression"
XSS = '<img src=x onerror="window.__xss=1">'
SAFE = student_id(XSS)

#: Has any injected script run, or an injected element reached the page?
INJECTED = """
return {ran: typeof window.__xss !== 'undefined',
        images: document.querySelectorAll('img[onerror], img[src="x"]').length,
        text: document.body.innerText};
"""

#: The href of the link of the row naming ``arguments[0]`` in Manage Students (null until
#: the table is loaded from formgrader's API).
STUDENT_LINK = """
const row = Array.from(document.querySelectorAll('tbody tr'))
  .find(r => r.innerText.includes(arguments[0]));
const link = row ? row.querySelector('a[href*="/manage_students/"]') : null;
return link ? link.href : null;
"""


def make_course(root: Path) -> Path:
    """nbgrader_config.py, source/ex01 from solutions/, submitted/{alice, <hostile>}."""
    course = root / "course"
    (course / "source").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(CONFIG)
    shutil.copytree(T.ROOT / "solutions" / A, course / "source" / A,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    released = T.read(T.ROOT / "exercises" / A / f"{A}.ipynb")
    solved = T.with_sources(released, T.solutions(T.read(course / "source" / A / f"{A}.ipynb")))
    for student in ("alice", XSS):
        T.submit(course, student, A, solved)
    return course


def settled(driver, loaded: str) -> dict:
    """The page's :data:`INJECTED` facts once ``loaded`` is in its text and a second more
    has passed (an ``onerror`` fires after the image fails to load)."""
    wait_for(driver, "return document.readyState === 'complete' "
                     "&& document.body.innerText.includes(arguments[0]);", loaded, timeout=60)
    time.sleep(1.0)
    return driver.execute_script(INJECTED)


@pytest.fixture(scope="module")
def visited(browser):  # noqa: F811 (the imported fixture)
    """The course graded, and what each of nbgrader's student pages showed."""
    with tempfile.TemporaryDirectory(prefix="course-nn-students-course-") as root:
        course = make_course(Path(root))
        run(course, str(BIN / "course-nn"), "grade", A, "--course", str(course), "--jobs", "2",
            "--quiet", "--timeout", "60")
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            students = sorted(s.id for s in gb.students)
        autograded = sorted(p.name for p in (course / "autograded").iterdir())
        pages = {}
        with jupyter_server(course) as (url, token):
            browser.get(f"{url}/formgrader?token={token}")  # logs in (cookie)
            wait_for(browser, "return document.readyState === 'complete';", timeout=60)
            browser.get(f"{url}/formgrader/manage_students")
            link = wait_for(browser, STUDENT_LINK, SAFE, timeout=60)
            pages["students"] = settled(browser, SAFE)
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            browser.save_screenshot(str(SCREENSHOTS / "nbgrader_students_hostile_folder.png"))
            browser.get(link)  # the student's assignments, as the instructor reaches them
            pages["assignments"] = settled(browser, A)
            browser.get(f"{link.rstrip('/')}/{A}")  # the student's notebook submissions
            pages["submissions"] = settled(browser, A)
            raw = urllib.parse.quote(XSS, safe="")
            browser.get(f"{url}/formgrader/manage_students/{raw}")  # control: the raw name
            try:
                wait_for(browser, "return window.__xss === 1;", timeout=15)
                control = True
            except TimeoutError:
                control = False
        yield {"students": students, "autograded": autograded, "link": link, "pages": pages,
               "control": control}


def test_the_gradebook_and_autograded_hold_the_safe_id(visited):
    """Did ``course-nn grade`` record the hostile folder under its safe id only?"""
    assert SAFE.startswith("img-src-x-onerror-window.__xss-1--")
    assert visited["students"] == sorted(["alice", SAFE])
    assert visited["autograded"] == sorted(["alice", SAFE])


def test_manage_students_lists_the_safe_id_and_runs_nothing(visited):
    """Manage Students: the safe id listed, alice too, no script run, no image injected."""
    page = visited["pages"]["students"]
    assert SAFE in page["text"] and "alice" in page["text"]
    assert not page["ran"] and page["images"] == 0
    assert visited["link"].endswith(f"/formgrader/manage_students/{SAFE}")


@pytest.mark.parametrize("page", ["assignments", "submissions"])
def test_the_students_own_pages_run_nothing(visited, page):
    """The student's assignments and notebook submissions (the pages that print the id
    unescaped): the safe id shown, no script run, no image injected."""
    facts = visited["pages"][page]
    assert SAFE in facts["text"]
    assert not facts["ran"] and facts["images"] == 0


def test_control_nbgrader_runs_a_raw_hostile_id(visited):
    """The hazard is real: with the raw folder name as the id, nbgrader's page runs it.
    (If this fails, nbgrader now escapes student ids; the safe ids stay harmless.)"""
    assert visited["control"]
