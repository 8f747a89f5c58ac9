"""Exercise checks: one engine (:mod:`.engine`), one module of exercise descriptions per notebook.

:data:`ASSIGNMENTS` is the one registry of graded notebooks: assignment id ->
the checks module that describes its exercises. ``make_references``, ``sync``
and the tests all read it. Every notebook imports its checks the same way::

    from course_utils.checks import conv as checks
    checks.check_conv_output_size(conv_output_size)
"""
from __future__ import annotations

import importlib
from types import ModuleType

from .core import CheckFailed  # noqa: F401

ASSIGNMENTS = {
    "01_convolutions": "conv",
    "02_identity_block": "identity_block",
    "03_convolutional_block": "convolutional_block",
    "04_resnet50": "resnet50",
    "05_resnet34": "resnet34",
    "06_transfer_cam": "cam",
}


def module(assignment: str) -> ModuleType:
    """The checks module of ``assignment`` (its ``CHECKS`` is an :class:`.engine.Assignment`)."""
    if assignment not in ASSIGNMENTS:
        raise KeyError(f"no graded assignment {assignment!r}; the course has {sorted(ASSIGNMENTS)}")
    return importlib.import_module(f"{__name__}.{ASSIGNMENTS[assignment]}")


def assignment_checks(assignment: str):
    """The :class:`.engine.Assignment` of ``assignment`` (KeyError when it has none): what the
    grader judges a graded notebook's check cells with."""
    return module(assignment).CHECKS
