"""Reference vectors: produced by the solution code, and they still match it."""
import numpy as np
import pytest

from course_autograde import make_references
from course_utils import checks, references
from course_utils.checks import engine

ASSIGNMENTS = list(checks.ASSIGNMENTS)


def test_round_trip_keeps_dtype_shape_and_exact_values(tmp_path, monkeypatch):
    values = {"a": np.random.default_rng(0).normal(size=(2, 3)).astype(np.float32),
              "n": np.arange(4, dtype=np.int64), "count": 15200, "name": "res2a_branch2a",
              "nested": {"x": np.float64(0.1)}}
    references.save("demo", values, tmp_path)
    loaded = references.load("demo", tmp_path)
    assert loaded["a"].dtype == np.float32 and np.array_equal(loaded["a"], values["a"])
    assert loaded["n"].dtype == np.int64 and loaded["count"] == 15200 and loaded["name"] == "res2a_branch2a"
    assert references.differences(values, loaded) == []
    assert set(references.recorded_versions("demo", tmp_path)) >= {"tensorflow", "keras", "numpy"}


def test_differences_are_reported_by_name():
    stored = {"a": np.zeros(3), "b": 1, "c": np.zeros(2)}
    fresh = {"a": np.array([0, 0, 1e-3]), "b": 2, "d": 0}
    problems = references.differences(stored, fresh)
    assert any(p.startswith("a: values differ") for p in problems)
    assert "b: 1 != 2" in problems
    assert any(p.startswith("c: only in stored") for p in problems)
    assert any(p.startswith("d: only in fresh") for p in problems)


def test_missing_reference_file_says_how_to_make_it(tmp_path):
    with pytest.raises(FileNotFoundError, match="make_references"):
        references.load("nope", tmp_path)


def test_missing_hidden_references_say_where_they_are(tmp_path, monkeypatch):
    monkeypatch.setenv(references.HIDDEN_REFERENCES_ENV, str(tmp_path))
    references.cached.cache_clear()
    try:
        with pytest.raises(references.HiddenReferencesUnavailable, match="instructor's grader"):
            references.stored(ASSIGNMENTS[0], next(iter(references.load_file(ASSIGNMENTS[0]))), "hidden")
    finally:
        references.cached.cache_clear()


def test_every_graded_notebook_has_references():
    assert ASSIGNMENTS, "the registry course_utils.checks.ASSIGNMENTS is empty"
    for name in ASSIGNMENTS:
        assert references.path(name).exists(), f"run python -m course_autograde.make_references {name}"
        assert references.path(name, references.hidden_dir()).exists(), name


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_package_data_holds_the_visible_cases_only(assignment):
    """The hidden cases' expected values stay on the instructor's side (autograde/hidden_references)."""
    shipped = references.load_file(assignment)
    hidden = references.load_file(assignment, references.hidden_dir())
    assert {part for parts in shipped.values() for part in parts} <= {"visible", "mistakes"}
    assert {part for parts in hidden.values() for part in parts} == {"hidden"}
    exercises = checks.assignment_checks(assignment).by_name
    assert set(shipped) == set(hidden) == set(exercises)
    # the outputs of the mistakes told by their outputs: on the visible cases only, one entry per mistake
    for name, parts in shipped.items():
        computed = engine.computed_mistakes(exercises[name])
        assert ("mistakes" in parts) == (computed is not None)
        for index, mistake in enumerate(computed or ()):
            entry = parts["mistakes"][str(index)]
            assert entry["hint"] == mistake.hint
            assert set(entry["outputs"]) == {case.name for case in exercises[name].cases["visible"]}
        # every probe's record on both parts, so that the grader judges it
        for probe in exercises[name].probes:
            assert probe.key in parts["visible"] and probe.key in hidden[name]["hidden"], (name, probe.name)


def test_the_tiny_assignments_references_are_its_solutions_outputs():
    import math

    import tiny_checks
    import tiny_course

    namespace = {"math": math}
    for code in tiny_course.CORRECT.values():
        exec(code, namespace)
    fresh = tiny_checks.CHECKS.build_references(namespace)
    stored = references.load("tiny", tiny_checks.REFERENCE_DIR, tiny_checks.HIDDEN_REFERENCE_DIR)
    assert references.differences(stored, fresh) == []


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_references_regenerate_identically_from_the_solution(assignment):
    assert make_references.check(assignment) == []


def test_regenerated_references_may_differ_by_round_off_not_by_what_grading_notices():
    stored = references.load("05_resnet34")
    exercise = checks.module("05_resnet34").CHECKS.by_name["ResidualUnit"]

    def moved(by):  # every float output of ResidualUnit moved by ``by`` times the grading tolerance
        def walk(value):
            if isinstance(value, dict):
                return {key: walk(inner) for key, inner in value.items()}
            if isinstance(value, np.ndarray) and value.dtype.kind == "f":
                return value + by * (exercise.atol + exercise.rtol * np.abs(value))
            return value
        return {**stored, "ResidualUnit": walk(stored["ResidualUnit"])}

    assert make_references.compare("05_resnet34", stored, moved(0.05)) == []  # another CPU's rounding
    problems = make_references.compare("05_resnet34", stored, moved(1.0))  # what a check would tell apart
    assert problems and all(problem.startswith("ResidualUnit.") for problem in problems)


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_references_record_the_installed_library_versions(assignment):
    recorded = references.recorded_versions(assignment)
    current = references.versions()
    assert (recorded["tensorflow"], recorded["keras"]) == (current["tensorflow"], current["keras"])
