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
c.Execute.timeout = 120
c.Execute.allow_errors = True

# Released notebooks carry no outputs.
c.ClearOutput.enabled = True
