"""The student's JupyterLab, in a real headless Chromium: check feedback and MyST.

A JupyterLab server is started on 127.0.0.1 (a token, a free port, temporary Jupyter
config, runtime, settings and workspace folders) on a temporary copy of released
material, and stopped by the fixture that started it. Two pages are looked at:

* exercise 4 with a wrong softmax filled in (the global maximum subtracted instead of
  each row's own), run with Run > Run All Cells: the softmax test cell must show the
  check's message (what failed, the input, expected and got, the likely bug) and no
  frame of ``course_nn``;
* chapter 4: its ``{cite}`` roles must render as citations (jupyterlab-myst), not as
  literal text.

Screenshots go to ``_build/screenshots/jupyterlab_*.png``. See docs/inline_feedback.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOTS = ROOT / "_build" / "screenshots"
EXERCISE = ROOT / "exercises" / "ex04_softmax" / "ex04_softmax.ipynb"
CHAPTER = ROOT / "book" / "ch04_softmax.ipynb"
OVERRIDES = Path(sys.prefix) / "share" / "jupyter" / "lab" / "settings" / "overrides.json"

pytestmark = [pytest.mark.browser, pytest.mark.grading, pytest.mark.ch4]

#: The mistake the task text warns about: the maximum of the whole array, not each row's.
WRONG_SOFTMAX = '''def softmax(Z, axis=-1):
    """Probabilities softmax(Z) along `axis` (default: each row of an (n, M) array)."""
    E = np.exp(Z - np.max(Z))
    return E / E.sum(axis=axis, keepdims=True)
'''


@dataclass(frozen=True)
class Lab:
    """A running JupyterLab: where to reach it and the folder it serves."""

    url: str
    token: str
    root_dir: Path


def free_port() -> int:
    """A TCP port on the loopback address that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(url: str, token: str, process: subprocess.Popen, timeout: float = 90) -> None:
    """Poll ``/api/status`` until the server answers; fail if it exits or never does."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"jupyter lab exited with status {process.returncode}")
        try:
            request = urllib.request.Request(f"{url}/api/status",
                                             headers={"Authorization": f"token {token}"})
            with urllib.request.urlopen(request, timeout=5) as reply:
                if reply.status == 200:
                    return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"jupyter lab did not answer at {url} within {timeout} s")


#: The test's own user settings: every cell attached to the page (JupyterLab renders
#: Markdown cells far below the viewport lazily otherwise), and no kernel dialog.
TEST_SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
                 {"windowingMode": "none", "autoStartDefaultKernel": True}}


def write_user_settings(folder: Path) -> None:
    """Write :data:`TEST_SETTINGS` into a ``JUPYTERLAB_SETTINGS_DIR``."""
    for name, values in TEST_SETTINGS.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))


@contextlib.contextmanager
def jupyter_lab(root_dir: Path, env: dict[str, str] | None = None) -> Iterator[Lab]:
    """Run ``jupyter lab`` on 127.0.0.1 with a token and private Jupyter folders; stop it after.

    ``env`` adds variables for the server and its kernels (e.g. a ``PYTHONPATH``).
    """
    port, token = free_port(), secrets.token_hex(16)
    with tempfile.TemporaryDirectory(prefix="course-nn-lab-") as private:
        folders = {name: Path(private) / name for name in ("config", "runtime", "settings", "ws")}
        for folder in folders.values():
            folder.mkdir()
        write_user_settings(folders["settings"])
        server_env = {**os.environ, **(env or {}),
                      "JUPYTER_CONFIG_DIR": str(folders["config"]),
                      "JUPYTER_RUNTIME_DIR": str(folders["runtime"]),
                      "JUPYTERLAB_SETTINGS_DIR": str(folders["settings"]),
                      "JUPYTERLAB_WORKSPACES_DIR": str(folders["ws"])}
        command = [str(Path(sys.executable).parent / "jupyter-lab"), "--no-browser",
                   "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
                   "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
                   f"--ServerApp.root_dir={root_dir}"]
        if hasattr(os, "geteuid") and os.geteuid() == 0:
            command.append("--allow-root")
        log = open(Path(private) / "server.log", "wb")  # noqa: SIM115 (closed below)
        process = subprocess.Popen(command, cwd=root_dir, env=server_env, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)
        try:
            url = f"http://127.0.0.1:{port}"
            try:
                wait_until_up(url, token, process)
            except (RuntimeError, TimeoutError) as err:
                log.flush()
                raise RuntimeError(f"{err}\n{(Path(private) / 'server.log').read_text()[-3000:]}") \
                    from None
            yield Lab(url, token, root_dir)
        finally:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)  # the server and its kernels
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)
            log.close()


def exercise_with(source: str, path: Path) -> None:
    """Write the released exercise 4 to ``path`` with ``source`` as its softmax solution cell."""
    nb = nbformat.read(EXERCISE, as_version=4)
    cells = [c for c in nb.cells
             if c.metadata.get("nbgrader", {}).get("grade_id") == "softmax"
             and c.cell_type == "code"]
    assert len(cells) == 1, "exercise 4 has one softmax solution cell"
    cells[0].source = source
    nbformat.write(nb, path)


# --- the browser --------------------------------------------------------------------------
def find_browser() -> tuple[str, str] | None:
    chrome = shutil.which("chromium") or shutil.which("chromium-browser")
    driver = shutil.which("chromedriver")
    return (chrome, driver) if chrome and driver else None


@pytest.fixture(scope="module")
def browser():
    found = find_browser()
    if not found:
        if os.environ.get("COURSE_NN_REQUIRE_BROWSER"):
            pytest.fail("chromium/chromedriver not found: run `make system-deps`")
        pytest.skip("no headless Chromium (make system-deps installs it)")
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    with tempfile.TemporaryDirectory(prefix="course-nn-chromium-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = found[0]
        for flag in ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                     "--no-first-run", "--disable-background-networking",
                     "--disable-component-update", "--disable-sync", "--window-size=1400,1000",
                     "--disable-dev-shm-usage", f"--user-data-dir={profile}"]:
            options.add_argument(flag)
        driver = webdriver.Chrome(service=Service(found[1]), options=options)
        driver.set_page_load_timeout(60)
        driver.set_script_timeout(60)
        try:
            yield driver
        finally:
            driver.quit()


def wait_for(driver, script: str, *args, timeout: float = 60, poll: float = 0.25):
    """Run ``script`` (a JS function body, ``return ...``) until it returns a truthy value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = driver.execute_script(script, *args)
        if value:
            return value
        time.sleep(poll)
    raise TimeoutError(f"timed out after {timeout} s waiting for: {script[:200]}")


#: Prepended to the scripts: the notebook panel on show (other open tabs stay in the page).
PANEL = """
const panel = () => document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)') || document;
"""

ACCEPT_DIALOG = """
const ok = document.querySelector('.jp-Dialog .jp-mod-accept');
if (ok) { ok.click(); return false; }
"""

KERNEL_IDLE = PANEL + """
const status = panel().querySelector('.jp-Notebook-ExecutionIndicator');
const cells = panel().querySelectorAll('.jp-Notebook .jp-Cell');
return cells.length > 0 && status !== null && status.getAttribute('data-status') === 'idle'
  && !document.querySelector('.jp-Dialog');
"""

#: Text of the cells' outputs only (inputs import course_nn, which is fine to show).
OUTPUT_FACTS = PANEL + """
const outputs = Array.from(panel().querySelectorAll('.jp-Notebook .jp-OutputArea-output'));
const errors = outputs.filter(o => o.getAttribute('data-mime-type') === 'application/vnd.jupyter.stderr');
return {
  text: outputs.map(o => o.textContent).join('\\n'),
  errors: errors.map(o => o.textContent),
  toasts: Array.from(document.querySelectorAll('.jp-toast-message, .Toastify__toast')).map(t => t.innerText),
};
"""


def click_menu(driver, menu: str, command: str) -> None:
    """Open a main-menu entry by its label and click the item running ``command``."""
    from selenium.webdriver.common.by import By

    for item in driver.find_elements(By.CSS_SELECTOR, "#jp-MainMenu .lm-MenuBar-itemLabel"):
        if item.text.strip() == menu:
            item.click()
            break
    else:
        raise AssertionError(f"no main menu {menu!r}")
    wait_for(driver, f"return document.querySelector('.lm-Menu [data-command=\"{command}\"]');",
             timeout=10)
    driver.find_element(By.CSS_SELECTOR, f'.lm-Menu [data-command="{command}"]').click()


def open_notebook(driver, lab: Lab, name: str) -> None:
    """Open ``name`` in JupyterLab and wait until its kernel is idle."""
    driver.get(f"{lab.url}/lab/tree/{name}?token={lab.token}&reset")
    for _ in range(2):  # a kernel dialog, if any, opens just after the notebook: accept it
        wait_for(driver, ACCEPT_DIALOG + KERNEL_IDLE, timeout=90)
        time.sleep(1)
    wait_for(driver, ACCEPT_DIALOG + KERNEL_IDLE, timeout=60)


def run_all_and_wait_for_error(driver) -> dict:
    """Run > Run All Cells, then wait until a cell shows an error output."""
    click_menu(driver, "Run", "runmenu:run-all")
    wait_for(driver, PANEL + "return panel().querySelector("
                     "'.jp-OutputArea-output[data-mime-type=\"application/vnd.jupyter.stderr\"]');",
             timeout=40)
    wait_for(driver, KERNEL_IDLE, timeout=60)
    return driver.execute_script(OUTPUT_FACTS)


def screenshot_of_first_error(driver, name: str) -> Path:
    """Scroll the first error output into view and save a screenshot as ``name``."""
    driver.execute_script(
        PANEL + "const e = panel().querySelector('.jp-OutputArea-output"
        "[data-mime-type=\"application/vnd.jupyter.stderr\"]');"
        "if (e) { e.closest('.jp-Cell').scrollIntoView({block: 'center'}); }")
    time.sleep(0.5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    driver.save_screenshot(str(path))
    return path


# --- the tests ----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def lab(browser):
    """JupyterLab over a temporary folder holding exercise 4 (wrong softmax) and chapter 4."""
    with tempfile.TemporaryDirectory(prefix="course-nn-lab-root-") as root:
        root_dir = Path(root)
        exercise_with(WRONG_SOFTMAX, root_dir / "ex04_softmax.ipynb")
        shutil.copy(EXERCISE, root_dir / "ex04_stub.ipynb")
        nbformat.write(directives_notebook(), root_dir / "directives.ipynb")
        shutil.copy(CHAPTER, root_dir / CHAPTER.name)
        shutil.copy(ROOT / "book" / "references.bib", root_dir / "references.bib")
        with jupyter_lab(root_dir) as running:
            yield running


def test_course_settings_are_installed():
    """Does the venv's JupyterLab read the course's settings (no news pop-up)?"""
    assert OVERRIDES.is_file(), f"{OVERRIDES} is missing: run `make venv`"
    installed = json.loads(OVERRIDES.read_text())
    assert installed == json.loads((ROOT / "jupyterlab" / "overrides.json").read_text())
    assert installed["@jupyterlab/apputils-extension:notification"]["fetchNews"] == "false"


def test_failing_check_shows_its_message_and_no_course_frames(browser, lab):
    """Run All on exercise 4 with a wrong softmax: the message, and no course_nn frame?"""
    open_notebook(browser, lab, "ex04_softmax.ipynb")
    facts = run_all_and_wait_for_error(browser)
    shot = screenshot_of_first_error(browser, "jupyterlab_ex04_wrong_softmax_after.png")
    assert shot.is_file()
    first = facts["errors"][0]
    assert first.startswith("softmax: public case"), first[:300]
    for part in ("input:", "expected:", "got:", "problem:", "likely bug:"):
        assert part in first, f"{part!r} missing from the message:\n{first}"
    for frame in ("course_nn", "site-packages", "Traceback", "inline.py"):
        assert frame not in facts["text"], f"{frame!r} shown:\n{facts['text'][:2000]}"
    assert not any("news" in t.lower() for t in facts["toasts"]), facts["toasts"]


def test_stub_shows_one_line(browser, lab):
    """Run All on exercise 4 as released: the first stub reads "not implemented yet", alone?"""
    open_notebook(browser, lab, "ex04_stub.ipynb")
    facts = run_all_and_wait_for_error(browser)
    screenshot_of_first_error(browser, "jupyterlab_ex04_stub_after.png")
    first = facts["errors"][0].strip()
    assert first.startswith("softmax: not implemented yet"), first[:500]
    assert len(first.splitlines()) == 1, first
    assert "course_nn" not in facts["text"] and "Traceback" not in facts["text"]


def test_chapter_citations_render(browser, lab):
    """Chapter 4 in JupyterLab: do its {cite} roles render (jupyterlab-myst), not as text?"""
    keys = cited_keys(CHAPTER)
    assert keys, "chapter 4 cites the literature"
    browser.get(f"{lab.url}/lab/tree/{CHAPTER.name}?token={lab.token}&reset")
    facts = wait_for(browser, MYST_FACTS, len(keys), timeout=90)
    browser.execute_script(
        PANEL + "const c = panel().querySelector('.jp-MarkdownCell .myst [title*=\"Citation\"], "
        ".jp-MarkdownCell .myst cite'); if (c) { c.scrollIntoView({block: 'center'}); }")
    time.sleep(0.5)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / "jupyterlab_ch04_citation_after.png"))
    assert facts["cites"] >= len(keys), facts["cites"]
    for key in keys:
        assert key in facts["text"], f"citation {key} is not shown"
    for raw in ("{cite", "```{", ":::{"):  # roles, directives (admonitions, dropdowns)
        assert raw not in facts["text"], f"MyST shown as raw text: {raw}"


def cited_keys(path: Path) -> set[str]:
    """The keys of the {cite} roles in a notebook's Markdown cells."""
    nb = nbformat.read(path, as_version=4)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    return {key.strip() for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", text)
            for key in keys.split(",")}


#: The Markdown cells jupyterlab-myst rendered: their text and their citation elements.
MYST_FACTS = PANEL + """
const cells = panel().querySelectorAll('.jp-MarkdownCell');
const prose = Array.from(panel().querySelectorAll('.jp-MarkdownCell .myst'));
const cites = panel().querySelectorAll(
    '.jp-MarkdownCell .myst cite, .jp-MarkdownCell .myst [title*="Citation"]').length;
if (cells.length === 0 || prose.length < cells.length || cites < arguments[0]) { return null; }
return {text: prose.map(p => p.textContent).join('\\n'), cites: cites};
"""


ADMONITION, DROPDOWN = "Subtract the maximum of each row.", "The answer is hidden here."


def directives_notebook() -> nbformat.NotebookNode:
    """A notebook with the MyST directives the book uses: an admonition and a dropdown."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(f"```{{note}}\n{ADMONITION}\n```"),
                nbformat.v4.new_markdown_cell(f":::{{dropdown}} Show the answer\n{DROPDOWN}\n:::")]
    return nb


#: How jupyterlab-myst rendered the two directives (null until both cells are rendered).
DIRECTIVE_FACTS = PANEL + """
const prose = Array.from(panel().querySelectorAll('.jp-MarkdownCell .myst'));
if (prose.length < 2) { return null; }
const admonition = Array.from(panel().querySelectorAll('.jp-MarkdownCell .myst aside, '
    + '.jp-MarkdownCell .myst .admonition')).map(e => e.textContent);
const dropdown = Array.from(panel().querySelectorAll('.jp-MarkdownCell .myst details'))
    .map(e => ({summary: (e.querySelector('summary') || {}).textContent, open: e.open}));
return {text: prose.map(p => p.textContent).join('\\n'), admonition: admonition, dropdown: dropdown};
"""


def test_admonitions_and_dropdowns_render(browser, lab):
    """Do a {note} admonition and a {dropdown} render as such in JupyterLab, not as text?"""
    browser.get(f"{lab.url}/lab/tree/directives.ipynb?token={lab.token}&reset")
    facts = wait_for(browser, DIRECTIVE_FACTS, timeout=90)
    browser.save_screenshot(str(SCREENSHOTS / "jupyterlab_myst_directives_after.png"))
    assert any(ADMONITION in text for text in facts["admonition"]), facts
    assert [d["summary"].strip() for d in facts["dropdown"]] == ["Show the answer"], facts
    assert "```" not in facts["text"] and ":::" not in facts["text"]
