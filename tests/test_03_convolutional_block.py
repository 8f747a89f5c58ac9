"""Notebook 03 (convolutional block): the references agree with NumPy; the visible cases show every stride mistake.

The catalogue of answers is in ``catalogues/convolutional_block.py`` (run by ``test_catalogues.py``).
"""
from __future__ import annotations

from course_utils.checks import convolutional_block as checks
from test_02_identity_block import check_references_against_numpy

ID = "03_convolutional_block"
EXERCISE = "convolutional_block"


def test_references_agree_with_a_numpy_forward_pass():
    check_references_against_numpy(ID, checks.CHECKS.by_name[EXERCISE],
                                   stride=lambda case: 2 if case.get("s") is None else case["s"])


def test_the_visible_cases_leave_s_at_its_default_once_and_pass_another_s_once():
    strides = [case.get("s") for case in checks.CHECKS.by_name[EXERCISE].cases["visible"]]
    assert None in strides, "a wrong default s would only show in the hidden cases"
    assert any(s not in (None, 2) for s in strides), "a stride hard-coded to 2 would only show in the hidden cases"
