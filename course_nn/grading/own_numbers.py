"""``python -m course_nn.grading.own_numbers ITEM STUDENT_ID``: a student's by-hand numbers.

Book: none (instructor tooling); docs/exercise_items.md, "Numbers of one's own".

Prints the student's variant of the by-hand item, its numbers (what the student's notebook
showed) and the correct answers, under the environment's switch and salt: what the
instructor reads to grade a by-hand item or a written answer of any variant by hand. A
module of its own so that ``python -m`` does not run a second copy of
:mod:`course_nn.grading.variant`, whose registry the checks fill.
"""

from __future__ import annotations

import sys

from course_nn.grading.variant import expected_answers, numbers_text, registered_items


def main(argv: list[str] | None = None) -> int:
    """``python -m course_nn.grading.own_numbers NAME STUDENT_ID``: a student's numbers and answers."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 2 or args[0] not in registered_items():
        print(f"usage: python -m course_nn.grading.own_numbers NAME STUDENT_ID; NAME one of "
              f"{', '.join(sorted(registered_items()))}", file=sys.stderr)
        return 2
    variant, _, answers = expected_answers(args[0], args[1])
    print(f"{args[0]}, student id {args[1]!r}: variant {variant}")
    print(numbers_text(args[0], variant))
    print(f"correct answers: {answers}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
