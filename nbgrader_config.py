"""nbgrader configuration for course-nn.

The instructor notebooks in ``solutions/`` are the single source of each exercise;
``make release`` runs ``nbgrader generate_assignment`` to write the student
versions into ``exercises/``.
"""

import os

c = get_config()  # noqa: F821 (nbgrader injects get_config)

c.CourseDirectory.course_id = "course-nn"
c.CourseDirectory.source_directory = "solutions"
c.CourseDirectory.release_directory = "exercises"
c.CourseDirectory.db_url = "sqlite:///gradebook.db"

# Solution regions are replaced by this stub in the student notebook.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# Hidden test blocks (### BEGIN HIDDEN TESTS / ### END HIDDEN TESTS) are stripped on release.
c.ClearHiddenTests.enforce_metadata = True

# Cell timeout during autograding (the trait is Execute.timeout, not ExecutePreprocessor.timeout).
# Execute.allow_errors is not configurable in nbgrader 0.9.6 (setting it only prints
# "Config option 'allow_errors' not recognized"); its fixed value is already True.
c.Execute.timeout = 120

# `nbgrader validate` and the Validate button cut every line longer than width - 3
# characters (Validator._indent; default width 90). A check's message is wrapped at 100
# columns (course_nn.grading.inline.render_message) and arrays print at most about 90,
# so 120 shows every line whole. See docs/inline_feedback.md.
c.Validator.width = 120

# Released notebooks carry no outputs.
c.ClearOutput.enabled = True

# Late work (docs/instructor.md, "Deadlines and late work"). Due dates are nbgrader's:
# `nbgrader db assignment add A --duedate="2026-03-01 23:59:00 Europe/Berlin"` (or
# formgrader's "Manage Assignments"). `course-nn grade` and `nbgrader autograde` both
# apply this policy and record the penalty in the gradebook (late_submission_penalty).
c.AssignLatePenalties.plugin_class = "course_nn.grading.hardened.deadlines.LateWork"
c.LateWork.penalty_method = "none"  # none | zero | per_hour | per_day
# c.LateWork.rate = 0.1  # per_hour / per_day: this fraction of the score per hour/day begun
# c.LateWork.cap = 0.5  # ... and at most this fraction of it
# Extensions: assignment (or "*" for all) -> {student id: extra hours, or a new due date}.
# c.LateWork.extensions = {"ex01_linear_regression": {"alice": 48},
#                          "*": {"bob": "2026-03-05 12:00:00 Europe/Berlin"}}

# `nbgrader export` writes here (git-ignored), not ./grades.csv; `course-nn export` writes
# Canvas, Moodle and plain CSV files to graded/export/.
# (relative to the course root, where nbgrader runs; the folder is made here, since
# nbgrader opens the file without making its folder)
os.makedirs("graded", exist_ok=True)
c.CsvExportPlugin.to = "graded/nbgrader_grades.csv"
