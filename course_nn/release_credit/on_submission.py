"""Judges of the for-credit bundle that need a function it leaves out (docs/releases.md).

Book: none (ships in the for-credit bundle's ``course_nn``; the open course never uses it).

A few judges run course code on the student's answer: ``fit_temperature``'s names the
loss at a wrong temperature (:func:`course_nn.losses.temperature_nll`), and the
capstone's sanity checks and tuned network are judged by running the returned network
(:func:`course_nn.mlp.mlp_forward`). Those functions are answers, so the bundle leaves
them out. Its copy of such a judge is the course's own code, with each left-out function
bound to :func:`left_out`, a stand-in that raises :class:`GradedWhenYouSubmit`, and is
wrapped by :func:`on_submission`, which says what the bundle's ``check()`` does when the
judge gets there (:data:`course_nn.release_credit.graded.GRADED_ON_SUBMISSION`):

* ``"wrong"``: only a wrong answer gets there (a right one is decided before): the case
  fails with :data:`WRONG`, without the numbers the left-out function would give;
* ``"form"``: the answer's form was checked (shapes, finite numbers, layers that chain);
  whether it is right is decided when the student submits: the case passes, as a
  by-hand item with numbers of one's own passes on its form, and :data:`FORM` is printed
  first, so the pass reads as what it is. (Raising instead would stop ``course-nn
  check``, whose grader takes an exception in a judge for its own error.)
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

#: The problem line of a wrong answer whose details need a left-out function.
WRONG = ("not the expected answer; the numbers that say how far off it is are shown when "
         "you submit (computing them needs {names}, which this release leaves out)")
#: What ``check()`` prints when only the answer's form can be checked in the bundle.
FORM = ("note: {check}: the form of your answer is right; whether it passes is graded when "
        "you submit: judging it runs your network with {names}, which this release leaves "
        "out (each is an exercise's answer)")


class GradedWhenYouSubmit(LookupError):
    """The bundle cannot finish this check: it needs a function the release leaves out."""

    def __init__(self, message: str, names: tuple[str, ...] = ()):
        super().__init__(message)
        self.names = names


def left_out(name: str) -> Callable[..., Any]:
    """A stand-in for the left-out course function ``name``: it raises."""

    def stand_in(*args: Any, **kwargs: Any) -> Any:
        raise GradedWhenYouSubmit(f"{name} is not in the for-credit release", (name,))

    stand_in.__name__ = stand_in.__qualname__ = name
    return stand_in


def on_submission(judge: Callable[..., str | None], mode: str, check: str
                  ) -> Callable[..., str | None]:
    """``judge`` as the bundle runs it: where it reaches a left-out function, the case
    fails (``mode == "wrong"``), or passes on its form after printing that the rest is
    graded when you submit (``mode == "form"``)."""

    def judged(case: Any, expected: Any, got: Any) -> str | None:
        try:
            return judge(case, expected, got)
        except GradedWhenYouSubmit as err:
            names = ", ".join(f"`{n}`" for n in err.names) or "course functions"
            if mode == "wrong":
                return WRONG.format(names=names)
            print(FORM.format(check=check, names=names))
            return None

    judged.__name__ = f"{getattr(judge, '__name__', 'judge')}_in_the_bundle"
    return judged
