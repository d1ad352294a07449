"""``course-nn grade`` then ``course-nn report`` on a generated class with known mistakes.

The class of ex01 (``CLASS``): three students leave the bias out of ``linear_forward``,
two take a sum instead of a mean in ``mse``, one copies another's notebook with renamed
variables, new comments and other spacing, three are honest, one hands in the untouched
notebook. Every student writes their code a little differently (as real students do),
so the only pair whose normalised code is identical is the planted copy. The report's
counts must equal the planted counts, and the copy must be the first pair listed.
"""

from __future__ import annotations

import csv
import re
import subprocess
import sys
from pathlib import Path

import pytest

from course_nn.grading.hardened import testing as T
from tests.test_accessibility import axe_source  # noqa: F401  (fixture)
from tests.test_book import browser  # noqa: F401  (fixture)

pytestmark = [pytest.mark.grading, pytest.mark.slow]

ASSIGNMENT = "ex01_linear_regression"
SIG_FORWARD = "def linear_forward(X, W, b):\n"
SIG_MSE = "def mse(y_hat, y):\n"
SIG_GRADS = "def linear_mse_grads(X, y, W, b):\n"

#: linear_forward, right (A, B, C) and with the bias missing (A_nobias, ...).
FORWARD = {
    "A": "    return np.asarray(X, dtype=float) @ np.asarray(W, dtype=float).T{bias}\n",
    "B": ("    Xa = np.asarray(X, dtype=float)\n    Wa = np.asarray(W, dtype=float)\n"
          "    return np.dot(Xa, Wa.T){bias}\n"),
    "C": ("    out = np.matmul(np.asarray(X, float), np.asarray(W, float).T)\n"
          "    out = out{bias}\n    return out\n"),
}
#: mse, right (A, B, C) and summed instead of averaged (sumA, sumB).
MSE = {
    "A": "    return float(np.mean((np.asarray(y_hat) - np.asarray(y)) ** 2))\n",
    "B": ("    d = np.asarray(y_hat, float) - np.asarray(y, float)\n"
          "    return float((d * d).mean())\n"),
    "C": "    return float(np.average(np.square(np.subtract(y_hat, y))))\n",
    "sumA": "    return float(np.sum((np.asarray(y_hat) - np.asarray(y)) ** 2))\n",
    "sumB": ("    d = np.asarray(y_hat, float) - np.asarray(y, float)\n"
             "    return float((d * d).sum())\n"),
}
#: linear_mse_grads, right, three ways.
GRADS = {
    "A": ("    delta = 2.0 * (linear_forward(X, W, b) - y) / np.size(y)\n"
          "    return delta.T @ X, delta.sum(axis=0)\n"),
    "B": ("    r = linear_forward(X, W, b) - y\n    n = np.size(y)\n"
          "    return 2.0 * r.T @ X / n, 2.0 * r.sum(axis=0) / n\n"),
    "C": ("    scale = 2.0 / np.size(y)\n    delta = scale * (linear_forward(X, W, b) - y)\n"
          "    dW = delta.T @ X\n    db = delta.sum(axis=0)\n    return dW, db\n"),
}
#: student -> (linear_forward variant, bias kept?, mse variant, grads variant).
CLASS = {
    "bias_1": ("A", False, "A", "A"), "bias_2": ("B", False, "B", "B"),
    "bias_3": ("C", False, "C", "C"),
    "sum_1": ("A", True, "sumA", "B"), "sum_2": ("B", True, "sumB", "C"),
    "honest_1": ("A", True, "A", "A"), "honest_2": ("B", True, "C", "A"),
    "honest_3": ("C", True, "B", "B"),
}
COPIER, ORIGINAL, STUB = "zz_copier", "honest_3", "stub"
STUDENTS = sorted([*CLASS, COPIER, STUB])
#: What the copier changed: local names, comments, blank lines and spacing.
RENAMES = {"out": "result", "d": "diff", "r": "residual", "n": "count"}


def student_code(student: str) -> dict[str, str]:
    """grade_id -> the student's source of the three functions that differ."""
    forward, bias, loss, grads = CLASS[student]
    return {"linear_forward": SIG_FORWARD + FORWARD[forward].format(bias=" + b" if bias else ""),
            "mse": SIG_MSE + MSE[loss], "linear_mse_grads": SIG_GRADS + GRADS[grads]}


def disguised(code: str) -> str:
    """The copier's version: locals renamed, comments and blank lines added, spacing changed."""
    for old, new in RENAMES.items():
        code = re.sub(rf"\b{old}\b", new, code)
    lines = [line.replace(" * ", "*").replace(", ", ",") for line in code.splitlines()]
    return "\n".join([lines[0], "    # my own solution, written at home", "", *lines[1:]]) + "\n"


def make_class(course: Path) -> None:
    """``submitted/<student>/ex01/`` for every student of ``CLASS``, the copier and the stub."""
    released = T.read(T.ROOT / "exercises" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb")
    solved = T.solutions(T.read(T.ROOT / "solutions" / ASSIGNMENT / f"{ASSIGNMENT}.ipynb"))
    for student in CLASS:
        T.submit(course, student, ASSIGNMENT, T.with_sources(released, {**solved, **student_code(
            student)}))
    copied = {k: disguised(v) for k, v in student_code(ORIGINAL).items()}
    T.submit(course, COPIER, ASSIGNMENT, T.with_sources(released, {**solved, **copied}))
    T.submit(course, STUB, ASSIGNMENT, released)


def run_cli(*args: str) -> subprocess.CompletedProcess:
    run = subprocess.run([sys.executable, "-m", "course_nn.cli", *args], capture_output=True,
                         text=True, timeout=1800)
    assert run.returncode == 0, run.stderr
    return run


@pytest.fixture(scope="module")
def graded(tmp_path_factory) -> dict:
    """The class graded by ``course-nn grade`` and reported by ``course-nn report``."""
    course = T.make_course(tmp_path_factory.mktemp("class") / "course", [ASSIGNMENT])
    make_class(course)
    out = course / "graded" / ASSIGNMENT
    run_cli("grade", ASSIGNMENT, "--course", str(course), "--no-gradebook", "--quiet",
            "--timeout", "120")
    run = run_cli("report", ASSIGNMENT, "--course", str(course))
    with (out / "grades.csv").open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    return {"course": course, "out": out, "rows": rows, "stdout": run.stdout,
            "page": (out / "report.html").read_text(encoding="utf-8")}


def full_page_screenshot(driver, path: Path, width: int = 1280) -> Path:
    """The whole page (not only the window) as a PNG at ``path``, through Chromium's
    DevTools ``Page.captureScreenshot``."""
    import base64

    driver.set_window_size(width, 900)
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16_000),
            "scale": 1}
    data = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True, "clip": clip})["data"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(base64.b64decode(data))
    return path


def table_rows(page: str, caption: str) -> list[list[str]]:
    """The body rows of the page's table with this caption, as cell texts (tags dropped)."""
    table = page[page.index(f"<caption>{caption}"):]
    body = table[table.index("<tbody>"):table.index("</tbody>")]
    return [[re.sub(r"<[^>]+>", "", c) for c in re.findall(r"<td>(.*?)</td>", row)]
            for row in re.findall(r"<tr>(.*?)</tr>", body)]


def test_status_counts_equal_the_planted_ones(graded):
    """Per test, do the report's passed/failed/error counts equal the planted mistakes?"""
    shares = {r[0]: r[1:] for r in table_rows(graded["page"], "Students per test and status")}
    # columns: passed, flagged, failed, error, timeout, crashed, ungradable
    assert shares["test_linear_forward"][:4] == ["6", "0", "3", "1"]  # bias x3, stub
    assert shares["test_mse"][:4] == ["7", "0", "2", "1"]  # sum x2, stub
    assert shares["test_fit_least_squares"][:4] == ["9", "0", "0", "1"]
    assert all(sum(map(int, counts)) == len(STUDENTS) for counts in shares.values())


def test_likely_bugs_are_counted_over_students_most_frequent_first(graded):
    """Are the two planted misconceptions the top diagnoses, with exactly their students?"""
    rows = table_rows(graded["page"], "Diagnosed mistakes, most frequent first")
    (count, test, bug, who), (count2, test2, bug2, who2) = rows[:2]
    assert (count, test, who) == ("3", "test_linear_forward", "bias_1, bias_2, bias_3")
    assert "offset" in bug or "bias" in bug
    assert (count2, test2, who2) == ("2", "test_mse", "sum_1, sum_2")
    assert "mean" in bug2
    assert all(int(r[0]) <= 3 for r in rows)


def test_the_planted_copy_is_the_first_pair_and_the_stub_is_in_none(graded):
    """Is the renamed, recommented copy listed first, identical after normalising?"""
    rows = table_rows(graded["page"], "Pairs at or above")
    assert rows[0] == ["1.000", ORIGINAL, COPIER]
    assert all(float(r[0]) < 1.0 for r in rows[1:])  # every other student wrote their own
    assert all(STUB not in r[1:] for r in rows)  # the released stubs are the baseline


def test_every_student_links_to_an_existing_feedback_page(graded):
    """Does each student's row link to the page `course-nn grade` wrote for them?"""
    links = re.findall(r'<a href="feedback/([^"]+)">([^<]+)</a>', graded["page"])
    assert sorted(student for _, student in links) == STUDENTS
    for name, student in links:
        page = (graded["out"] / "feedback" / name).read_text(encoding="utf-8")
        assert f"<strong>{student}</strong>" in page
    assert "Ungradable: none." in graded["page"]
    assert str(graded["out"] / "report.html") in graded["stdout"]


def test_report_page_is_offline(graded):
    """Are the figures embedded, with nothing fetched and no script?"""
    page = graded["page"]
    assert page.count('src="data:image/png;base64,') == 2
    assert "http://" not in page and "https://" not in page and "<script" not in page


@pytest.mark.browser
def test_report_screenshot_and_no_serious_axe_violation(graded, browser, axe_source):  # noqa: F811
    """Does the report render in headless Chromium (screenshot kept) and pass axe?"""
    from tests.notebooks import ROOT
    from tests.test_accessibility import axe_violations, impact_counts, serious

    violations = axe_violations(browser, (graded["out"] / "report.html").as_uri(), axe_source)
    print("report", dict(impact_counts(violations)), sorted(v["id"] for v in violations))
    assert serious(violations) == {}
    shot = full_page_screenshot(browser, ROOT / "_build" / "screenshots" /
                                f"report_{ASSIGNMENT}.png")
    assert shot.stat().st_size > 20_000
    assert browser.find_element("css selector", "main h1").text.endswith("class report")
