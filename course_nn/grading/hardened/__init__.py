"""The hardened grader behind ``course-nn grade`` and ``course-nn check``.

Book: none (instructor tooling); docs/grading.md (the design and the step numbers).

Student code never runs in this process. Per submission (``pipeline.py``):

1. ``load``: find the notebook in ``submitted/<student>/<a>/`` and parse its JSON;
2. ``structure``: compare its cells with the instructor notebook by grade_id;
3. ``scan``: read the solution cells for ``course_nn`` imports and tampering;
4. ``script``: rebuild the program from the instructor's cells and the student's
   solution cells, with the test cells replaced by collectors;
5. ``cases``: draw public and fresh hidden cases; compute the references here;
6. ``sandbox`` + ``child.py``: run it in a child (``python -I -S``, rlimits, timeouts
   that kill the process group, bubblewrap and Landlock when available);
7. ``results``: read back only numbers (npz without pickle, JSON);
8. ``judge``: compare with :func:`course_nn.grading.diagnose`; one status per test;
9. ``outputs`` and ``gradebook``: grades.csv, summary.csv, feedback pages, nbgrader.
"""

from course_nn.grading.hardened.grade import (
    BatchReport,
    GradingError,
    check_notebook,
    grade_assignment,
)
from course_nn.grading.hardened.sandbox import Limits

__all__ = ["BatchReport", "GradingError", "Limits", "check_notebook", "grade_assignment"]
