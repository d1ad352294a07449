"""Numbers of one's own: a variant per student, derived from the student's id.

Book: none (course tooling); docs/exercise_items.md, "Numbers of one's own"; docs/grading.md,
"7. Cases".

As in PrairieLearn, a by-hand item draws its numbers (its *parameters*) from a variant
number, and one function maps the parameters to the correct answers, shared by the page
(the notebook prints the student's numbers) and the grader (which recomputes that
student's answers). The variant is a stable hash of ``salt:assignment:student_id``, so
it needs no table: the notebook and the grader derive the same number independently.
Variant 0 is the book's own example (today's numbers); it is everyone's variant when
the class switch is off, and never a student's when it is on.

The class switch and the salt are the instructor's: the environment variables
:data:`SWITCH_VARIABLE` (``on``/``off``; unset: :data:`DEFAULT_ENABLED`) and
:data:`SALT_VARIABLE`, set the same way for the students' servers (JupyterHub's
``Spawner.environment``) and for the grader. The grader trusts only the id of the
submission's folder, never the notebook's ``STUDENT_ID``.
"""

from __future__ import annotations

import hashlib
import os
import sys
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: The course's default salt: another course offering sets its own (:data:`SALT_VARIABLE`).
DEFAULT_SALT = "course-nn"
#: Environment variable of the class switch: ``on`` (``1``, ``true``, ``yes``) gives every
#: student their own variant, ``off`` (``0``, ``false``, ``no``) one variant for everyone.
SWITCH_VARIABLE = "COURSE_NN_VARIANTS"
#: The switch when the variable is unset: off, so that a notebook run anywhere (a laptop, the
#: book's build, a test) and a grader without the setting agree on the book's numbers. A class
#: turns variants on for its students' servers and its grader alike.
DEFAULT_ENABLED = False
#: Environment variable of the salt.
SALT_VARIABLE = "COURSE_NN_VARIANT_SALT"
#: Variants of students are 1 .. VARIANT_SPACE - 1; 0 is the book's example.
VARIANT_SPACE = 2**31 - 1
ON_WORDS = frozenset({"on", "1", "true", "yes"})
OFF_WORDS = frozenset({"off", "0", "false", "no"})



@dataclass(frozen=True)
class ItemNumbers:
    """A by-hand item's numbers: its assignment (the hash's key) and ``params(variant)``."""

    assignment: str
    params: Callable[[int], dict[str, Any]]


#: The numbers of each by-hand item, by check name (:func:`register_params`): the page,
#: the grader and the for-credit bundle all read them from here.
PARAMS: dict[str, ItemNumbers] = {}


@dataclass(frozen=True)
class VariantSettings:
    """The class-wide switch and the salt (docs/exercise_items.md, "Numbers of one's own")."""

    enabled: bool = DEFAULT_ENABLED
    salt: str = DEFAULT_SALT


def settings_from(environ: Mapping[str, str]) -> VariantSettings:
    """The settings an environment gives (:data:`SWITCH_VARIABLE`, :data:`SALT_VARIABLE`)."""
    switch = environ.get(SWITCH_VARIABLE, "").strip().casefold()
    enabled = True if switch in ON_WORDS else False if switch in OFF_WORDS else DEFAULT_ENABLED
    return VariantSettings(enabled, environ.get(SALT_VARIABLE, "") or DEFAULT_SALT)


def current_settings() -> VariantSettings:
    """The settings of this process's environment."""
    return settings_from(os.environ)


def normalise_id(student_id: object) -> str:
    """The id as hashed: NFKC, no surrounding blanks, case folded ("Ada " and "ada" agree)."""
    if not isinstance(student_id, str):
        return ""
    return unicodedata.normalize("NFKC", student_id).strip().casefold()


def variant_number(assignment: str, student_id: object,
                   settings: VariantSettings | None = None) -> int:
    """The student's variant of ``assignment``: 0 when variants are off or the id is
    empty, else ``1 + sha256(salt:assignment:id) mod (VARIANT_SPACE - 1)``."""
    settings = settings or current_settings()
    who = normalise_id(student_id)
    if not settings.enabled or not who:
        return 0
    digest = hashlib.sha256(f"{settings.salt}:{assignment}:{who}".encode()).digest()
    return 1 + int.from_bytes(digest[:8], "big") % (VARIANT_SPACE - 1)


def run_seed(variant: int, default: int) -> int:
    """The seed of a "your own runs" cell: the book's ``default`` for variant 0, else the
    variant (so each student's runs, and so their written answer's numbers, are theirs)."""
    return default if variant == 0 else variant


def register_params(name: str, assignment: str,
                    params: Callable[[int], dict[str, Any]]) -> Callable[[int], dict[str, Any]]:
    """Register the parameter function of the by-hand item ``name`` of ``assignment``."""
    PARAMS[name] = ItemNumbers(assignment, params)
    return params


def notebook_student_id() -> str:
    """The id the notebook works for: its ``STUDENT_ID`` (set in the cell under the setup
    cell), else the JupyterHub user (``JUPYTERHUB_USER``), else ""."""
    main = sys.modules.get("__main__")
    typed = getattr(main, "STUDENT_ID", "")
    if isinstance(typed, str) and typed.strip():
        return typed.strip()
    return os.environ.get("JUPYTERHUB_USER", "").strip()


def notebook_variant(assignment: str, student_id: str | None = None) -> int:
    """The variant the notebook shows: of ``student_id`` (default
    :func:`notebook_student_id`) under the environment's settings."""
    who = notebook_student_id() if student_id is None else student_id
    return variant_number(assignment, who)


NO_ID = ("note: STUDENT_ID is empty, so these are the book's example numbers, not yours; "
         "set STUDENT_ID in the cell under the setup cell and run this cell again")


def numbers_text(name: str, variant: int) -> str:
    """The by-hand item's numbers for ``variant``, one ``name = value`` per line."""
    import numpy as np

    params = registered_items()[name].params(variant)
    lines = [f"{key} = {np.array2string(np.asarray(value), separator=', ', prefix=f'{key} = ')}"
             if isinstance(value, (list, tuple, np.ndarray)) else f"{key} = {value!r}"
             for key, value in params.items()]
    return "\n".join(lines)


def show_numbers(name: str, student_id: str | None = None) -> None:
    """Print the student's own numbers of the by-hand item ``name`` (the notebook's page)."""
    who = notebook_student_id() if student_id is None else student_id
    variant = variant_number(registered_items()[name].assignment, who)
    settings = current_settings()
    if not settings.enabled:
        print("Everyone in the class works on the same numbers:")
    elif variant == 0:
        print(NO_ID)
    else:
        print(f"Your numbers (student id {who!r}):")
    print(numbers_text(name, variant))


def expected_answers(name: str, student_id: str, settings: VariantSettings | None = None
                     ) -> tuple[int, dict[str, Any], Any]:
    """(variant, numbers, correct answers) of the by-hand item ``name`` for ``student_id``:
    what the instructor reads to grade any variant by hand (``python -m
    course_nn.grading.own_numbers NAME STUDENT_ID``)."""
    from course_nn.grading import get_check

    item = registered_items()[name]
    variant = variant_number(item.assignment, student_id, settings)
    params = item.params(variant)
    return variant, params, get_check(name).reference(**params)


def registered_items() -> dict[str, ItemNumbers]:
    import course_nn.grading  # noqa: F401 (registers the checks and their numbers)
    import course_nn.grading.by_hand_numbers  # noqa: F401 (and every item's numbers)

    return PARAMS
