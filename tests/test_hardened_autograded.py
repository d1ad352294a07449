"""Autograded notebooks and gradebook rows for hand grading (issue 12, item 1).

A small class of exercise 1 is graded by ``course-nn grade`` with the gradebook: an
honest student who wrote an answer, a partial one who left the written answer as
released, one who deleted a test cell and duplicated a solution, and an unreadable
notebook. The autograded notebooks must carry nbgrader's metadata and checksums, the
grader's verdicts as outputs that ``determine_grade`` reads back as the same points,
and the gradebook the rows ``nbgrader autograde`` would leave. See docs/instructor.md,
"Hand grading in formgrader".
"""

from __future__ import annotations

import copy
import csv
import json
import subprocess
import sys

import nbformat
import pytest

from course_nn.grading.hardened import Limits, grade_assignment
from course_nn.grading.hardened import testing as T
from course_nn.grading.hardened.assignment import load_spec, nbgrader_meta
from course_nn.grading.hardened.autograded import NO_RESPONSE, load_config, source_cells
from course_nn.grading.hardened.sanitise import sanitise_markdown
from course_nn.release import tool_env

pytestmark = [pytest.mark.grading, pytest.mark.slow]

A = "ex01_linear_regression"
WRITTEN = "written_standardising"
ANSWER = "With learning rate 0.1 the unscaled features diverged; standardised ones converged."
#: A written answer that would run script in the instructor's formgrader page.
HOSTILE_ANSWER = ('My answer <script>alert("x")</script> <img src=x onerror="alert(1)"> '
                  '[see](javascript:alert(2)) <a href="JaVaScript:alert(3)">me</a>, and a < b.')
WRONG_MSE = "def mse(y_hat, y):\n    return float(np.sum((np.asarray(y_hat) - y) ** 2))\n"


def _class(course):
    released = T.read(course / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / A / f"{A}.ipynb"))
    T.submit(course, "honest", A, T.with_sources(released, {**sol, WRITTEN: ANSWER}))
    path = T.submit(course, "partial", A, T.with_sources(released, {**sol, "mse": WRONG_MSE}))
    (path.parent / "timestamp.txt").write_text("2026-11-20 10:30:00.000000 UTC\n")
    edited = T.with_sources(released, sol)
    cells = [c for c in edited["cells"] if (nbgrader_meta(c) or {}).get("grade_id") != "test_mse"]
    mse = next(c for c in cells if (nbgrader_meta(c) or {}).get("grade_id") == "mse")
    edited["cells"] = cells + [copy.deepcopy(mse)]
    path = T.submit(course, "edited", A, edited)
    (path.parent / "timestamp.txt").write_bytes(b"not a time \xff\x00")
    T.submit(course, "garbage", A, None, raw=b'{"cells": [')
    hostile = T.with_sources(released, {**sol, WRITTEN: HOSTILE_ANSWER})
    hostile["cells"].insert(1, {"cell_type": "markdown", "metadata": {}, "source": HOSTILE_ANSWER})
    hostile["cells"].insert(1, {"cell_type": "raw", "metadata": {"format": "text/html"},
                                "source": "<script>alert('raw')</script>"})
    T.submit(course, "html_answer", A, hostile)


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    course = T.make_course(tmp_path_factory.mktemp("autograded") / "course", [A])
    _class(course)
    report = grade_assignment(A, course=course, jobs=2, progress=False,
                              limits=Limits(timeout=30))
    with (report.out / "grades.csv").open() as fh:
        points = {(r["student"], r["test"]): (r["status"], float(r["points"]), r["message"])
                  for r in csv.DictReader(fh)}
    return {"course": course, "report": report, "points": points}


def autograded(course, student):
    return nbformat.read(course / "autograded" / student / A / f"{A}.ipynb", as_version=4)


def by_id(nb):
    return {c.metadata.nbgrader.grade_id: c for c in nb.cells if "nbgrader" in c.metadata}


def test_every_gradable_submission_has_an_autograded_notebook(graded):
    """honest, partial and edited get one; the unreadable notebook none?"""
    course = graded["course"]
    students = {p.name for p in (course / "autograded").iterdir()}
    assert students == {"honest", "partial", "edited", "html_answer"}
    assert not [p for p in (course / "autograded").iterdir() if p.name.startswith(".")]
    for student in students:
        nbformat.validate(autograded(course, student))


def test_checksums_and_metadata_are_nbgraders(graded):
    """Instructor metadata, nbgrader's checksums, locked test cells with the instructor's
    source (hidden tests included, as nbgrader's OverwriteCells), instructor kernelspec?"""
    from nbgrader.utils import compute_checksum

    course = graded["course"]
    spec = load_spec(course / "solutions" / A / f"{A}.ipynb", A)
    sources = source_cells(spec, load_config(course))
    instructor = T.read(spec.source_path)
    for student in ("honest", "partial", "edited"):
        nb = autograded(course, student)
        cells = by_id(nb)
        assert set(cells) == set(sources)  # edited's deleted test cell is back
        assert nb.metadata.kernelspec == instructor["metadata"]["kernelspec"]
        for grade_id, cell in cells.items():
            meta = cell.metadata.nbgrader
            assert meta.checksum == sources[grade_id].checksum
            assert {k: meta[k] for k in ("grade", "solution", "locked", "grade_id")} == {
                k: sources[grade_id].meta[k] for k in ("grade", "solution", "locked", "grade_id")}
            if meta.locked:
                assert compute_checksum(cell) == meta.checksum
                assert cell.source == sources[grade_id].source
        assert "### BEGIN HIDDEN TESTS" in cells["test_mse"].source
    assert compute_checksum(by_id(autograded(course, "partial"))[WRITTEN]) == \
        sources[WRITTEN].checksum  # left as released
    honest = by_id(autograded(course, "honest"))[WRITTEN]
    assert honest.source == sanitise_markdown(ANSWER)  # stored as clean HTML (step 13)
    assert ANSWER in honest.source and compute_checksum(honest) != sources[WRITTEN].checksum


def test_test_cell_outputs_are_the_verdicts(graded):
    """No output for a pass, an error output with the grader's message for a failure,
    and determine_grade reads the grader's points back; no other cell has outputs?"""
    from nbgrader.utils import determine_grade

    course, points = graded["course"], graded["points"]
    for student in ("honest", "partial", "edited"):
        for cell in autograded(course, student).cells:
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            if not (meta.get("grade") and not meta.get("solution")):
                assert cell.outputs == [] and cell.execution_count is None
                continue
            status, got, message = points[(student, meta.grade_id)]
            assert determine_grade(cell)[0] == got
            if status == "passed":
                assert cell.outputs == []
            elif status != "flagged":
                (out,) = cell.outputs
                assert out.output_type == "error" and status in out.ename
                assert "\n".join(out.traceback[1:]) == message
    assert points[("partial", "test_mse")][0] == "failed"
    assert points[("honest", "test_mse")][:2] == ("passed", 1.0)


def test_gradebook_rows_are_autogrades(graded):
    """Tests: the grader's points, nothing to grade; an answered written answer needs a
    grade; an untouched one scores 0 with "No response."; an unreadable notebook 0?"""
    from nbgrader.api import Gradebook

    course, points = graded["course"], graded["points"]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in ("honest", "partial", "edited", "garbage"):
            for test in ("test_mse", "test_linear_forward", "test_fit_standardised"):
                grade = gb.find_grade(test, A, A, student)
                assert grade.auto_score == points[(student, test)][1]
                assert not grade.needs_manual_grade
        answered = gb.find_grade(WRITTEN, A, A, "honest")
        assert answered.auto_score is None and answered.needs_manual_grade
        assert gb.find_comment(WRITTEN, A, A, "honest").auto_comment is None
        untouched = gb.find_grade(WRITTEN, A, A, "partial")
        assert untouched.auto_score == 0 and not untouched.needs_manual_grade
        assert gb.find_comment(WRITTEN, A, A, "partial").auto_comment == NO_RESPONSE
        missing = gb.find_grade(WRITTEN, A, A, "garbage")
        assert missing.auto_score == 0 and not missing.needs_manual_grade
        assert gb.find_submission_notebook(A, A, "honest").needs_manual_grade
        assert not gb.find_submission_notebook(A, A, "partial").needs_manual_grade


def test_regrading_keeps_a_hand_given_score_and_asks_for_review(graded):
    """A score given by hand survives re-grading; the cell is then flagged for review,
    as nbgrader's SaveAutoGrades does?"""
    from nbgrader.api import Gradebook

    course = graded["course"]
    db = f"sqlite:///{course / 'gradebook.db'}"
    with Gradebook(db) as gb:
        grade = gb.find_grade(WRITTEN, A, A, "honest")
        grade.manual_score, grade.needs_manual_grade = 2.5, False
        gb.db.commit()
    from course_nn.grading.hardened.gradebook import write_gradebook

    report = graded["report"]
    spec = load_spec(course / "solutions" / A / f"{A}.ipynb", A)
    from course_nn.grading.hardened.autograded import hand_grading

    made, sources, _ = hand_grading(course, spec, report.results)  # read back, as a merge
    assert set(made) == {"honest", "partial", "edited", "html_answer"}
    write_gradebook(db, spec, report.results, made, sources)
    with Gradebook(db) as gb:
        grade = gb.find_grade(WRITTEN, A, A, "honest")
        assert grade.manual_score == 2.5 and grade.score == 2.5
        assert grade.needs_manual_grade  # answered: auto_score None
        grade.needs_manual_grade = False
        gb.db.commit()


def test_source_cells_equal_what_generate_assignment_saves(tmp_path):
    """Do our source cells (stubs, checksums) equal nbgrader generate_assignment's?"""
    from nbgrader.api import Gradebook

    course = T.make_course(tmp_path / "course", [A])
    run = subprocess.run([sys.executable, "-m", "nbgrader", "generate_assignment", A, "--force",
                          "--log-level=ERROR"], cwd=course, capture_output=True, text=True,
                         env=tool_env(), timeout=600)
    assert run.returncode == 0, run.stdout + run.stderr
    spec = load_spec(course / "solutions" / A / f"{A}.ipynb", A)
    ours = source_cells(spec, load_config(course))
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        theirs = {c.name: (c.cell_type, c.source, c.checksum, c.locked)
                  for c in gb.find_notebook(A, A).source_cells}
    assert {k: (c.cell_type, c.source, c.checksum, c.locked) for k, c in ours.items()} == theirs
    assert json.dumps(sorted(theirs))  # every grade id of the instructor notebook


def test_student_markdown_runs_nothing_in_formgrader(graded):
    """Rendered as formgrader renders it, does a hostile answer keep its words but lose
    every tag, event handler and script link (instructor Markdown untouched)?"""
    import nbgrader.server_extensions.formgrader.handlers as handlers
    from nbconvert import HTMLExporter
    from traitlets.config import Config

    course = graded["course"]
    nb = autograded(course, "html_answer")
    config = Config()
    config.HTMLExporter.template_name = "formgrade"
    config.HTMLExporter.extra_template_basedirs = [handlers.template_path]
    page, _ = HTMLExporter(config=config).from_notebook_node(nb, resources={
        "base_url": "", "notebook_id": A, "assignment_id": A, "submission_id": "x",
        "index": 0, "total": 1, "student": "html_answer", "notebook_path": "p"})
    student_part = page[page.index("My answer"):]
    for bad in ("<script>alert", "<img", 'href="javascript', "JaVaScript:alert(3)\">"):
        assert bad not in student_part, bad
    assert "[see](javascript:alert(2))" in student_part  # no link: shown as text
    assert "javascript:" not in student_part.lower().replace("[see](javascript:", "")
    assert page.count("My answer") == 2 and "a &lt; b" in page  # shown as text
    assert "<script>alert('raw')" not in page
    instructor = T.read(course / "solutions" / A / f"{A}.ipynb")
    prose = [c for c in instructor["cells"] if c["cell_type"] == "markdown"
             and "nbgrader" not in c["metadata"]]
    assert {"".join(c["source"]) for c in prose} <= {c.source for c in nb.cells}
    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        assert gb.find_grade(WRITTEN, A, A, "html_answer").needs_manual_grade


def test_writing_never_follows_a_link_and_survives_a_bad_name(tmp_path):
    """A student folder that is a symbolic link is replaced (its target untouched); a
    name too long for the file system is a note, and the others are still written?"""
    from course_nn.grading.hardened.autograded import Autograded, write_autograded

    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "autograded"
    folder.mkdir()
    (folder / "linked").symlink_to(outside, target_is_directory=True)
    nb = {"cells": [], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    made = {name: Autograded(name, nb, (), ()) for name in
            ("linked", "\ufffd" * 200 + "~0123abcd", "plain")}
    notes = write_autograded(folder, A, f"{A}.ipynb", made)
    assert len(notes) == 1 and "no autograded notebook" in notes[0]
    assert not list(outside.iterdir())
    assert not (folder / "linked").is_symlink()
    for name in ("linked", "plain"):
        assert json.loads((folder / name / A / f"{A}.ipynb").read_text()) == nb
    assert sorted(p.name for p in folder.iterdir()) == ["linked", "plain"]  # no staging left


def _rows(course, students):
    """Per student and grade cell: (auto_score, needs_manual_grade, auto_comment)."""
    from nbgrader.api import Gradebook

    rows = {}
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gb:
        for student in students:
            notebook = gb.find_submission_notebook(A, A, student)
            comments = {c.name: c.auto_comment for c in notebook.comments}
            for grade in notebook.grades:
                rows[(student, grade.name)] = (grade.auto_score, grade.needs_manual_grade,
                                               comments.get(grade.name))
    return rows


def _cells(course, student):
    nb = T.read(course / "autograded" / student / A / f"{A}.ipynb")
    keep = ("grade", "solution", "locked", "points", "checksum", "grade_id")
    return [(c["cell_type"], {k: c["metadata"]["nbgrader"].get(k) for k in keep},
             "".join(c["source"]) if c["metadata"]["nbgrader"].get("locked") else None)
            for c in nb["cells"] if "nbgrader" in c["metadata"]]


def test_rows_and_cells_equal_nbgrader_autograde(tmp_path):
    """On honest work (one with a written answer, one left as released), do our
    gradebook rows and autograded notebooks' nbgrader cells equal ``nbgrader
    autograde``'s?"""
    course = T.make_course(tmp_path / "course", [A])
    released = T.read(course / "exercises" / A / f"{A}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / A / f"{A}.ipynb"))
    T.submit(course, "answered", A, T.with_sources(released, {**sol, WRITTEN: ANSWER}))
    T.submit(course, "untouched", A, T.with_sources(released, sol))
    students = ("answered", "untouched")
    for args in (("generate_assignment", A, "--force"), ("autograde", A, "--force")):
        run = subprocess.run([sys.executable, "-m", "nbgrader", *args, "--log-level=ERROR"],
                             cwd=course, capture_output=True, text=True, env=tool_env(),
                             timeout=900)
        assert run.returncode == 0, run.stdout + run.stderr
    theirs = _rows(course, students)
    their_cells = {s: _cells(course, s) for s in students}
    grade_assignment(A, course=course, jobs=2, progress=False, out=course / "hardened",
                     limits=Limits(timeout=30))
    assert _rows(course, students) == theirs
    assert theirs[("answered", WRITTEN)] == (None, True, None)
    assert theirs[("untouched", WRITTEN)] == (0, False, NO_RESPONSE)
    assert {s: _cells(course, s) for s in students} == their_cells


def test_submission_time_is_recorded(graded):
    """timestamp.txt becomes the submission's time, as under nbgrader autograde; an
    unreadable one leaves none (and breaks nothing)?"""
    from datetime import datetime

    from nbgrader.api import Gradebook

    with Gradebook(f"sqlite:///{graded['course'] / 'gradebook.db'}") as gb:
        assert gb.find_submission(A, "partial").timestamp == datetime(2026, 11, 20, 10, 30)
        assert gb.find_submission(A, "edited").timestamp is None
        assert gb.find_submission(A, "honest").timestamp is None


def test_cell_ids_are_valid_and_unique():
    """Missing, invalid, duplicated and squatted cell ids all end valid and unique?"""
    from course_nn.grading.hardened.autograded import _finish

    cells = [{"cell_type": "markdown", "source": "", "metadata": {}, "id": ident}
             for ident in ("autograded-2", None, "x" * 80, "ok", "ok", "bad id!")]
    _finish(cells, {})
    ids = [c["id"] for c in cells]
    assert len(set(ids)) == len(ids) == 6 and ids[0] == "autograded-2" and ids[3] == "ok"
    nb = {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    nbformat.validate(nbformat.from_dict(nb))
