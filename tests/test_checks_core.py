"""The check engine and its message style, on a toy exercise (no TensorFlow)."""
import dataclasses
import sys
import warnings

import numpy as np
import pytest

from course_utils.checks import core, engine
from course_utils.checks.core import CheckFailed
from course_utils.checks.engine import Case, CrashHint, Exercise, Mistake

# A toy exercise: double(x) on arange(n), with one catalogued mistake.
DOUBLE = Exercise(
    name="double",
    cases={"visible": [Case("n2", {"n": 2}), Case("n3", {"n": 3})], "hidden": [Case("n5", {"n": 5})]},
    run=lambda answer, case: np.asarray(answer(np.arange(case["n"]))),
    describe=lambda case: f"double(np.arange({case['n']}))",
    hint="multiply by 2",
    mistakes=[Mistake("you added 2 instead of doubling", output=lambda case: np.arange(case["n"]) + 2),
              Mistake("you squared", output=lambda case: np.arange(case["n"]) ** 2)],
    requires=engine.callable_answer("double"),
    crashes=[CrashHint(("no attribute",), "x is an array: use x * 2")],
)
REFERENCES = {"n2": np.arange(2) * 2, "n3": np.arange(3) * 2, "n5": np.arange(5) * 2}


def failure(answer, hidden=False) -> CheckFailed:
    with pytest.raises(CheckFailed) as caught:
        engine.check(DOUBLE, answer, REFERENCES, hidden=hidden)
    return caught.value


def test_message_has_what_expected_found_and_hint_and_renders_without_traceback():
    error = CheckFailed("conv_output_size(28, 3)", expected=26, found=25, hint="did you forget the +1?")
    assert str(error).strip().splitlines() == ["conv_output_size(28, 3)", "  expected: 26", "  found:    25",
                                               "  hint:     did you forget the +1?"]
    rendered = error._render_traceback_()
    assert "conv_output_size(28, 3)" in rendered[0] and len(rendered) == 4
    assert not any("Traceback" in line or ".py" in line for line in rendered)


def test_a_correct_answer_passes_with_the_pass_line(capsys):
    engine.check(DOUBLE, lambda x: x * 2, REFERENCES)
    engine.check(DOUBLE, lambda x: x + x, REFERENCES, hidden=True)
    assert capsys.readouterr().out.splitlines() == ["\u2714 double: all checks passed.",
                                                    "\u2714 double: hidden checks passed."]


def test_a_known_mistake_is_named_with_the_first_difference():
    error = failure(lambda x: x + 2)
    assert error.what == "double(np.arange(2)): wrong values (largest difference 2 at index (0,))"
    assert (error.expected, error.found, error.hint) == (0, 2, "you added 2 instead of doubling")


def test_the_mistake_that_explains_every_case_wins_over_one_that_explains_the_failing_case_only():
    only_first = Mistake("matches n=2 only", output=lambda case: np.array([2, 3]) if case["n"] == 2 else np.zeros(9))
    exercise = dataclasses.replace(DOUBLE, mistakes=[only_first, *DOUBLE.mistakes])
    with pytest.raises(CheckFailed) as caught:
        engine.check(exercise, lambda x: x + 2, REFERENCES)
    assert caught.value.hint == "you added 2 instead of doubling"
    with pytest.raises(CheckFailed) as caught:  # no mistake explains every case: the first that explains this one
        engine.check(exercise, lambda x: x + 2 if len(x) == 2 else x * 5, REFERENCES)
    assert caught.value.hint == "matches n=2 only"


def test_an_unknown_difference_gets_the_generic_hint():
    assert failure(lambda x: x * 3).hint == "multiply by 2"


def test_untouched_stub_is_reported_as_not_written_yet():
    def double(x):
        raise NotImplementedError()

    error = failure(double)
    assert error.what == "double is not written yet" and "raise NotImplementedError()" in error.hint


def test_a_crash_shows_the_error_the_students_line_and_a_hint_naming_it():
    def double(x):
        return x.doubled

    error = failure(double)
    assert error.what == "double(np.arange(2)) raised AttributeError"
    assert "no attribute 'doubled'" in error.found and error.hint == "x is an array: use x * 2"
    assert any("in double: return x.doubled" in line for line in error.student_lines)
    assert not any("engine.py" in line for line in error.student_lines)
    assert error.__cause__ is None and error.__suppress_context__


def test_a_tensorflow_function_on_a_keras_tensor_gets_the_keras_ops_hint():
    error = engine.crash(ValueError("A KerasTensor cannot be used as input to a TensorFlow function. ..."),
                         "block(X)")
    assert "keras.ops" in error.hint and "layer" in error.hint


def test_keras_wrapping_is_dropped_from_the_error_text():
    wrapped = TypeError("Could not automatically infer the output shape / dtype of 'unit' (of type Unit). "
                        "Either ... Error encountered:\n\nshapes (2, 3) and (4,) are incompatible\n\n"
                        "Arguments received by Unit.call():\n  • inputs=<KerasTensor shape=(None, 3)>")
    assert core.error_text(wrapped) == "shapes (2, 3) and (4,) are incompatible"


def test_not_callable_answer():
    error = failure(42)
    assert error.what == "double should be a function"


def test_warnings_and_stderr_of_the_students_code_become_notes_on_stdout(capsys):
    def double(x):
        warnings.warn("careful")
        print("debugging", file=sys.stderr)
        return x * 2

    engine.check(DOUBLE, double, REFERENCES)
    captured = capsys.readouterr()
    assert captured.err == ""
    assert "note (costs no points): UserWarning: careful" in captured.out
    assert "note (costs no points): written to stderr: debugging" in captured.out


def test_difference_compares_dicts_by_key_and_arrays_by_shape_then_values():
    assert core.difference({"a": 1, "b": 2}, {"a": 1, "b": 3}) == ("['b']", "3", "2")
    assert core.difference({"a": 1}, {"a": 1, "b": 3})[0] == "keys missing"
    assert core.difference(np.zeros((2, 2)), np.zeros((2, 3)))[0] == "wrong output shape"
    assert core.difference(np.ones(3) + 1e-7, np.ones(3)) is None
    assert core.difference(True, 1) is not None  # a bool is not a count
    assert core.difference(np.array([np.nan]), np.array([1.0])) is not None


def test_the_assignment_builds_references_through_the_same_run_as_the_checks():
    assignment = engine.Assignment("toy", [DOUBLE])
    values = assignment.build_references({"double": lambda x: x * 2})
    assert set(values["double"]) == {"visible", "hidden"}
    np.testing.assert_array_equal(values["double"]["hidden"]["n5"], REFERENCES["n5"])
    assert assignment.checker("double").__name__ == "check_double"


def test_to_numpy_fails_clearly_on_something_that_is_not_an_array():
    np.testing.assert_array_equal(core.to_numpy([[1, 2]], "rows", dtype=np.float64), np.array([[1.0, 2.0]]))
    with pytest.raises(CheckFailed) as caught:
        core.to_numpy([[1, 2], [3]], "the output of conv2d_numpy", dtype=np.float64, hint="return the output array")
    assert "the output of conv2d_numpy could not be turned into an array" in str(caught.value)


def test_notes_are_printed_even_when_the_check_fails(capsys):
    def double(x):
        warnings.warn("careful")
        return x + 2

    failure(double)
    assert "UserWarning: careful" in capsys.readouterr().out


def course_double(x):
    """Stands for the course's own implementation of the toy exercise."""
    return x * 2


WATCHED = dataclasses.replace(DOUBLE, implementation=f"{__name__}:course_double")


@pytest.mark.parametrize("route", ["alias", "wrapper", "partial", "module attribute"])
def test_an_answer_that_reaches_the_course_implementation_is_refused(route):
    import functools
    import importlib

    original = importlib.import_module(__name__).course_double
    answers = {
        "alias": original,
        "wrapper": lambda x: original(x),
        "partial": functools.partial(original),
        "module attribute": lambda x: importlib.import_module(__name__).course_double(x),
    }
    with pytest.raises(CheckFailed) as caught:
        engine.check(WATCHED, answers[route], REFERENCES)
    assert "course's own" in caught.value.message() and "scores 0" in caught.value.message()
    assert original.__code__.co_name == "course_double" and original(3) == 6  # put back as it was


def test_an_answer_of_its_own_passes_a_watched_exercise(capsys):
    engine.check(WATCHED, lambda x: x + x, REFERENCES)
    assert "all checks passed" in capsys.readouterr().out


# ---------------------------------------------------------------------------- hidden parts on the instructor's side


def hidden_double() -> Exercise:
    """DOUBLE with its hidden case read from tiny_hidden.py in the hidden cases' folder."""
    return dataclasses.replace(DOUBLE, cases=engine.Parts(visible=DOUBLE.cases["visible"],
                                                          hidden=engine.hidden_cases("tiny_hidden", "DOUBLE")))


def test_hidden_cases_are_read_as_data_from_the_instructors_folder(tmp_path, monkeypatch):
    (tmp_path / "tiny_hidden.py").write_text("# a comment\n{'DOUBLE': {'n5': {'n': 5}}}\n")
    monkeypatch.setenv(engine.HIDDEN_CASES_ENV, str(tmp_path))
    exercise = hidden_double()
    assert exercise.cases["hidden"] == [Case("n5", {"n": 5})]
    engine.check(exercise, lambda x: x * 2, REFERENCES, hidden=True)
    (tmp_path / "tiny_hidden.py").write_text("__import__('os').system('true')")  # code is refused
    engine.hidden_cases_file.cache_clear()
    with pytest.raises(ValueError):
        hidden_double().cases["hidden"]


def test_without_the_hidden_cases_the_visible_check_works_and_the_hidden_one_says_why(tmp_path, monkeypatch):
    monkeypatch.setenv(engine.HIDDEN_CASES_ENV, str(tmp_path))  # a student's installation: no file there
    exercise = hidden_double()
    engine.check(exercise, lambda x: x * 2, REFERENCES)
    with pytest.raises(CheckFailed) as caught:
        engine.check(exercise, lambda x: x * 2, REFERENCES, hidden=True)
    assert "the hidden cases of tiny_hidden are not in this installation" in str(caught.value)
    assert "instructor grades" in str(caught.value)


def test_every_hidden_part_of_the_course_is_in_the_hidden_cases_files_and_nothing_else_is():
    import ast

    from course_utils import checks

    for assignment in checks.ASSIGNMENTS:
        module = checks.module(assignment)
        used = {value.declared["hidden"].key for value in [*vars(module).values(),
                                                            *(e.cases for e in module.CHECKS.exercises)]
                if isinstance(value, engine.Parts) and isinstance(value.declared["hidden"], engine.Hidden)}
        stored = ast.literal_eval((engine.hidden_cases_dir() / f"{assignment}.py").read_text())
        assert used == set(stored), assignment
        for exercise in module.CHECKS.exercises:
            visible = {case.name for case in exercise.cases["visible"]}
            assert exercise.cases["hidden"] and not visible & {case.name for case in exercise.cases["hidden"]}
