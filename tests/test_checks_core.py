"""The shared message style of every exercise check."""
import numpy as np
import pytest

from course_utils.checks import core
from course_utils.checks.core import CheckFailed


def test_message_has_what_expected_found_and_hint():
    with pytest.raises(CheckFailed) as caught:
        core.fail("conv_output_size(28, 3)", expected=26, found=25, hint="did you forget the +1?")
    text = str(caught.value)
    assert "conv_output_size(28, 3)" in text
    assert "expected: 26" in text and "found:    25" in text
    assert "hint:     did you forget the +1?" in text


def test_untouched_stub_is_reported_as_not_written_yet():
    def answer(x):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not written yet") as caught:
        core.call_student(answer, 1)
    assert "raise NotImplementedError()" in caught.value.hint


def test_a_crash_in_student_code_becomes_a_check_failure_naming_the_error():
    def answer(x):
        return x @ x  # (2, 3) @ (2, 3) is not defined

    with pytest.raises(CheckFailed, match="ValueError") as caught:
        core.call_student(answer, np.ones((2, 3)))
    assert "array of shape (2, 3)" in caught.value.what


def test_expect_close_reports_shape_then_values():
    with pytest.raises(CheckFailed, match="wrong shape"):
        core.expect_close("out", np.zeros((2, 2)), np.zeros((2, 3)), hint="padding?")
    with pytest.raises(CheckFailed, match=r"largest difference 5 at index \(1, 0\)"):
        core.expect_close("out", np.array([[0, 0], [5, 0]]), np.zeros((2, 2)))
    core.expect_close("out", np.ones(3) + 1e-7, np.ones(3))


def test_diagnose_returns_the_first_matching_mistake_and_skips_broken_probes():
    found = np.array([1.0, 2.0])
    hint = core.diagnose(found, {
        "probe that crashes": lambda: 1 / 0,
        "no match": lambda: np.array([0.0, 0.0]),
        "kernel flipped": lambda: np.array([1.0, 2.0]),
    })
    assert hint == "kernel flipped"
    assert core.diagnose(found, {"no match": lambda: np.zeros(2)}) is None


def test_not_callable_answer():
    with pytest.raises(CheckFailed, match="not a function"):
        core.call_student(42, name="conv_output_size")


def test_to_numpy_fails_clearly_on_something_that_is_not_an_array():
    from course_utils.checks.core import to_numpy

    np.testing.assert_array_equal(to_numpy([[1, 2]], "rows", dtype=np.float64), np.array([[1.0, 2.0]]))
    with pytest.raises(CheckFailed) as caught:
        to_numpy([[1, 2], [3]], "the output of conv2d_numpy", dtype=np.float64, hint="return the output array")
    message = str(caught.value)
    assert "the output of conv2d_numpy could not be turned into an array" in message
    assert "hint:     return the output array" in message
