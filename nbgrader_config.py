"""nbgrader configuration for course-nn.

The instructor notebooks in ``solutions/`` are the single source of each exercise;
``make release`` runs ``nbgrader generate_assignment`` to write the student
versions into ``exercises/``.
"""

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
