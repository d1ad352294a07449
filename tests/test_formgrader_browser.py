"""Hand grading in nbgrader's formgrader after ``course-nn grade``, in headless Chromium.

A temporary course (``nbgrader_config.py``, ``source/`` from ``solutions/``, two
students in ``submitted/``) is graded by ``course-nn grade``; then ``jupyter server``
(nbgrader's formgrader extension) serves it on 127.0.0.1 with a token, a free port and
private Jupyter folders. Chromium opens every submission in formgrader, gives the
honest student's written answer a score and a comment, and saves. With the server
stopped, ``nbgrader export``'s CSV and ``nbgrader generate_feedback``'s page must
show both the autograded points and the hand-given ones. A screenshot goes to
``_build/screenshots/formgrader_written_answer.png``. See docs/instructor.md, "Hand
grading in formgrader".
"""

from __future__ import annotations

import contextlib
import csv
import html
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from course_nn.grading.hardened import testing as T
from course_nn.release import tool_env
from tests.test_jupyterlab_browser import (  # noqa: F401  (browser is a fixture)
    SCREENSHOTS,
    browser,
    free_port,
    wait_for,
    wait_until_up,
)

pytestmark = [pytest.mark.browser, pytest.mark.grading, pytest.mark.slow]

A = "ex01_linear_regression"
WRITTEN = "written_standardising"
ANSWER = "Unscaled, the rate 0.1 diverged; after standardising, the same rate converged."
WRONG_MSE = "def mse(y_hat, y):\n    return float(np.sum((np.asarray(y_hat) - y) ** 2))\n"
HAND_SCORE, COMMENT = 2.5, "Good: you saw the divergence. Say why the scale matters."
BIN = Path(sys.executable).parent
CONFIG = '''c = get_config()  # noqa: F821
c.CourseDirectory.course_id = "course-nn"
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
c.CsvExportPlugin.to = "graded/nbgrader_grades.csv"  # as the repository's nbgrader_config.py
'''


def make_course(root: Path) -> Path:
    """nbgrader_config.py, source/ex01 from solutions/, submitted/{honest,partial}."""
    course = root / "course"
    (course / "source").mkdir(parents=True)
    (course / "nbgrader_config.py").write_text(CONFIG)
    shutil.copytree(T.ROOT / "solutions" / A, course / "source" / A,
                    ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    released = T.read(T.ROOT / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "source" / A / f"{A}.ipynb"))
    T.submit(course, "honest", A, T.with_sources(released, {**sol, WRITTEN: ANSWER}))
    T.submit(course, "partial", A, T.with_sources(released, {**sol, "mse": WRONG_MSE}))
    return course


def run(course: Path, *command: str) -> subprocess.CompletedProcess:
    done = subprocess.run(list(command), cwd=course, capture_output=True, text=True,
                          env=tool_env(), timeout=900)
    assert done.returncode == 0, done.stdout + done.stderr
    return done


@contextlib.contextmanager
def jupyter_server(course: Path):
    """``jupyter server`` over the course (formgrader enabled in the venv); stopped after."""
    port, token = free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="course-nn-formgrader-") as private:
        env = {**tool_env(), **{f"JUPYTER_{k}_DIR": str(Path(private) / k.lower())
                                for k in ("CONFIG", "RUNTIME", "DATA")}}
        command = [str(BIN / "jupyter-server"), "--no-browser", "--ServerApp.ip=127.0.0.1",
                   f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
                   f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={course}"]
        if os.geteuid() == 0:
            command.append("--allow-root")
        log_path = Path(private) / "server.log"
        with log_path.open("wb") as log:
            process = subprocess.Popen(command, cwd=course, env=env, stdout=log,
                                       stderr=subprocess.STDOUT, start_new_session=True)
            try:
                url = f"http://127.0.0.1:{port}"
                try:
                    wait_until_up(url, token, process)
                except (RuntimeError, TimeoutError) as err:
                    raise RuntimeError(f"{err}\n{log_path.read_text()[-3000:]}") from None
                yield url, token
            finally:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    with contextlib.suppress(ProcessLookupError):
                        os.killpg(process.pid, signal.SIGKILL)
                    process.wait(timeout=10)


def submission_ids(course: Path) -> dict[str, str]:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        return {s: gb.find_submission_notebook(A, A, s).id for s in ("honest", "partial")}


#: What a formgrader submission page shows (null until its grade widgets are loaded).
PAGE_FACTS = """
const inputs = document.querySelectorAll('input.score');
if (!document.querySelector('#notebook-container') || inputs.length === 0) { return null; }
const errors = Array.from(document.querySelectorAll('.output_error, .output_stderr'));
return {title: document.title, scores: inputs.length, text: document.body.innerText,
        errors: errors.map(e => e.innerText)};
"""

SAVED = """
const icon = document.querySelector(arguments[0]);
return icon !== null && getComputedStyle(icon).display !== 'none'
  && getComputedStyle(icon).opacity !== '0';
"""


def grade_by_hand(driver, url: str) -> None:
    """Open a submission, type a score and a comment for the written answer, save both."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    driver.get(url)
    wait_for(driver, PAGE_FACTS, timeout=60)
    comment = driver.find_element(By.ID, f"{WRITTEN}-comment")
    score = driver.find_element(By.ID, WRITTEN)
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", score)
    comment.clear()
    comment.send_keys(COMMENT)
    comment.send_keys(Keys.TAB)  # a change event: formgrader saves on change
    score.clear()
    score.send_keys(str(HAND_SCORE))
    score.send_keys(Keys.TAB)
    time.sleep(1.0)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(SCREENSHOTS / "formgrader_written_answer.png"))


def saved_in_gradebook(course: Path) -> bool:
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        grade = gb.find_grade(WRITTEN, A, A, "honest")
        comment = gb.find_comment(WRITTEN, A, A, "honest")
        return grade.manual_score == HAND_SCORE and comment.manual_comment == COMMENT


@pytest.fixture(scope="module")
def hand_graded(browser):  # noqa: F811 (the imported fixture)
    """The course after grading, formgrader visits and the hand-given score."""
    with tempfile.TemporaryDirectory(prefix="course-nn-formgrader-course-") as root:
        course = make_course(Path(root))
        run(course, str(BIN / "course-nn"), "grade", A, "--course", str(course), "--jobs", "2",
            "--quiet", "--timeout", "60")
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
            before = {s: gb.find_submission_notebook(A, A, s).needs_manual_grade
                      for s in ("honest", "partial")}
        pages = {}
        with jupyter_server(course) as (url, token):
            browser.get(f"{url}/formgrader?token={token}")  # logs in (cookie)
            wait_for(browser, "return document.readyState === 'complete';", timeout=60)
            for student, ident in submission_ids(course).items():
                browser.get(f"{url}/formgrader/submissions/{ident}/")
                pages[student] = wait_for(browser, PAGE_FACTS, timeout=60)
            grade_by_hand(browser, f"{url}/formgrader/submissions/"
                                   f"{submission_ids(course)['honest']}/")
            deadline = time.monotonic() + 60
            while not saved_in_gradebook(course) and time.monotonic() < deadline:
                time.sleep(0.5)
        run(course, str(BIN / "nbgrader"), "generate_feedback", A, "--force",
            "--log-level=ERROR")
        run(course, str(BIN / "nbgrader"), "export", "--log-level=ERROR")
        with (course / "graded" / A / "grades.csv").open() as fh:
            auto = {}
            for row in csv.DictReader(fh):
                auto[row["student"]] = auto.get(row["student"], 0.0) + float(row["points"])
        with (course / "graded" / "nbgrader_grades.csv").open() as fh:  # CsvExportPlugin.to
            exported = {r["student_id"]: r for r in csv.DictReader(fh)}
        feedback = {s: (course / "feedback" / s / A / f"{A}.html").read_text(encoding="utf-8")
                    for s in ("honest", "partial")}
        yield {"pages": pages, "before": before, "saved": saved_in_gradebook(course),
               "auto": auto, "exported": exported, "feedback": feedback}


def test_formgrader_opens_every_submission(hand_graded):
    """Does formgrader render both submissions (no 404), the failure's message included?"""
    pages = hand_graded["pages"]
    assert set(pages) == {"honest", "partial"}
    for facts in pages.values():
        assert facts["scores"] >= 7  # six test cells and the written answer
        assert "Student's answer" in facts["text"]
    assert not pages["honest"]["errors"]
    assert any("mse" in e and "failed" in e for e in pages["partial"]["errors"]), \
        pages["partial"]["errors"]
    assert ANSWER in pages["honest"]["text"]


def test_answered_written_answer_needed_a_grade(hand_graded):
    """Before hand grading, did the gradebook ask for a grade where one was written?"""
    assert hand_graded["before"] == {"honest": True, "partial": False}


def test_score_and_comment_saved(hand_graded):
    """Did formgrader save the hand-given score and comment into the gradebook?"""
    assert hand_graded["saved"]


def test_export_carries_both_parts(hand_graded):
    """nbgrader export: raw_score = the grader's points + the hand-given points?"""
    exported, auto = hand_graded["exported"], hand_graded["auto"]
    assert auto["honest"] > auto["partial"] > 0
    assert float(exported["honest"]["raw_score"]) == pytest.approx(auto["honest"] + HAND_SCORE)
    assert float(exported["partial"]["raw_score"]) == pytest.approx(auto["partial"])
    assert float(exported["honest"]["max_score"]) == pytest.approx(auto["honest"] + 3)


def test_feedback_carries_both_parts(hand_graded):
    """nbgrader generate_feedback: the total, the hand-given score and comment, the
    autograded verdict of the failed test?"""
    honest, partial = hand_graded["feedback"]["honest"], hand_graded["feedback"]["partial"]
    total = hand_graded["auto"]["honest"] + HAND_SCORE
    assert f"{total:g}" in honest and COMMENT in html.unescape(honest)
    assert f"{HAND_SCORE:g}" in honest
    assert "failed" in partial and "No response." in partial
