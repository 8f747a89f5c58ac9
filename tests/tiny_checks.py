"""The checks of the tiny assignment (``tiny_course.py``), on the course's check engine.

As in the course: the visible cases' reference outputs sit beside the checks
(``tiny_references/``, mounted read-only into the grading sandbox), the hidden
ones' in ``tiny_hidden_references/``, which only the grader reads (it is named
by ``COURSE_HIDDEN_REFERENCES``). Both are the outputs of the tiny solution
(``tiny_course.CORRECT``), produced by ``CHECKS.build_references``; a test
checks that they still are.
"""
from __future__ import annotations

from pathlib import Path

from course_utils.checks import engine
from course_utils.checks.engine import Case, Exercise, Mistake, callable_answer

ASSIGNMENT = "tiny"
REFERENCE_DIR = Path(__file__).with_name("tiny_references")
HIDDEN_REFERENCE_DIR = Path(__file__).with_name("tiny_hidden_references")

ADD = Exercise(
    "add",
    cases={"visible": [Case("small", {"a": 1, "b": 2})],
           "hidden": [Case("negative", {"a": -1, "b": 1}), Case("floats", {"a": 2.5, "b": 0.5})]},
    run=lambda answer, case: answer(case["a"], case["b"]),
    describe=lambda case: f"add({case['a']}, {case['b']})",
    hint="add(a, b) returns a + b.",
    mistakes=[Mistake("add subtracted: return a + b, not a - b.", output=lambda case: case["a"] - case["b"])],
    requires=callable_answer("add"),
)
MEAN = Exercise(
    "mean",
    cases={"visible": [Case("three", {"values": [1, 2, 3]})],
           "hidden": [Case("one", {"values": [5]}), Case("tenths", {"values": [0.1] * 10})]},
    run=lambda answer, case: answer(list(case["values"])),
    describe=lambda case: f"mean({case['values'][:3]}{'...' if len(case['values']) > 3 else ''})",
    hint="the mean is the sum of the values divided by how many there are.",
    mistakes=[Mistake("the mean was rounded: return the exact quotient.",
                      output=lambda case: round(sum(case["values"]) / len(case["values"])))],
    requires=callable_answer("mean"),
    atol=1e-9,
)
CHECKS = engine.Assignment(ASSIGNMENT, [ADD, MEAN], reference_dir=str(REFERENCE_DIR))
check_add = CHECKS.checker("add")
check_mean = CHECKS.checker("mean")


def assignment_checks(assignment: str) -> engine.Assignment:
    """``c.JudgeChecks.checks`` of the tiny course."""
    if assignment != ASSIGNMENT:
        raise KeyError(assignment)
    return CHECKS
