"""Test scaffolding shared by the notebook tests.

* :func:`nbgrader_tests`: one real nbgrader run of a small class (the solution,
  the untouched notebook and some students) and the three tests every graded
  notebook gets from it: the scores, the feedback, and a clean run of the solution;
* :func:`catalogue_tests`: the tests of a one-exercise notebook's catalogue of
  wrong and alternative answers (notebooks 02 and 03).

Both return test functions (and fixtures) for a test module to take over with
``globals().update(...)``: pytest collects whatever ``test_*`` functions and
fixtures a module holds, wherever they were defined.
"""
from __future__ import annotations

import html
import time

import pytest

from course_autograde.notebook_code import (RELEASE_DIR, answer_sources, notebook_path, read_notebook,
                                            replace_answers, solution_namespace)
from course_utils.checks import CheckFailed


def grade_class(workdir, assignment: str, students: dict[str, dict[str, str]], report_time=None):
    """Autograde a class of ``assignment`` and write its feedback; returns the ``GradingCourse``.

    The class: ``solution`` (the released notebook with the solution's answers),
    ``untouched`` (the released notebook as handed out) and each of ``students``,
    a name -> {exercise: answer source} applied on top of the solution's answers,
    so that a student's mistakes can cost only those exercises.
    """
    from course_autograde.course import GradingCourse

    course = GradingCourse(workdir, [assignment])
    course.generate()
    release = read_notebook(course.release_path(assignment))
    solution = answer_sources(read_notebook(notebook_path(assignment)))
    course.submit("solution", assignment, replace_answers(release, solution))
    course.submit("untouched", assignment, release)
    for student, answers in students.items():
        course.submit(student, assignment, replace_answers(release, {**solution, **answers}))
    start = time.perf_counter()
    course.autograde(assignment)
    if report_time is not None:
        report_time(f"{assignment}: nbgrader autograde ({len(students) + 2} students)", time.perf_counter() - start)
    course.generate_feedback(assignment)
    return course


def check_scores(scores: dict) -> dict:
    """Only the graded check cells (``check_<exercise>``) of one student's scores."""
    return {name: value for name, value in scores.items() if name.startswith("check_")}


def expected_scores(points: dict[str, float], lost=()) -> dict[str, tuple[float, float]]:
    return {f"check_{exercise}": (0.0 if exercise in lost else value, value) for exercise, value in points.items()}


def feedback_text(course, student: str, assignment: str) -> str:
    return html.unescape(course.feedback_path(student, assignment).read_text())


def nbgrader_tests(assignment: str, points: dict[str, float], students: dict[str, dict[str, str]],
                   hints: dict[str, dict[str, str | tuple[str, ...]]]) -> dict:
    """A module fixture ``graded`` and three tests of one real nbgrader run.

    ``points``: exercise -> points of its check cell. ``students``: see
    :func:`grade_class`. ``hints``: student -> {exercise: words (or a tuple of
    them) the feedback must contain}; the student must lose exactly those
    exercises. Students without hints must get full marks.
    """

    @pytest.fixture(scope="module")
    def graded(tmp_path_factory, report_time):
        return grade_class(tmp_path_factory.mktemp(f"course{assignment[:2]}"), assignment, students, report_time)

    @pytest.mark.nbgrader
    def test_nbgrader_scores(graded):
        scores = graded.scores(assignment)
        assert check_scores(scores["solution"]) == expected_scores(points)
        assert check_scores(scores["untouched"]) == expected_scores(points, lost=set(points))
        for student in students:
            lost = set(hints.get(student, {}))
            assert check_scores(scores[student]) == expected_scores(points, lost), student

    @pytest.mark.nbgrader
    def test_nbgrader_feedback_names_the_mistakes(graded):
        for student in ["solution", "untouched", *students]:
            assert graded.feedback_path(student, assignment).exists(), student
        assert "not written yet" in feedback_text(graded, "untouched", assignment)
        for student, by_exercise in hints.items():
            text = feedback_text(graded, student, assignment)
            for exercise, words in by_exercise.items():
                for phrase in (words,) if isinstance(words, str) else words:
                    assert phrase in text, f"{student}: the feedback on {exercise} does not say {phrase!r}"

    @pytest.mark.nbgrader
    def test_nbgrader_solution_runs_without_errors(graded):
        assert graded.error_outputs("solution", assignment) == []

    return {"graded": graded, "test_nbgrader_scores": test_nbgrader_scores,
            "test_nbgrader_feedback_names_the_mistakes": test_nbgrader_feedback_names_the_mistakes,
            "test_nbgrader_solution_runs_without_errors": test_nbgrader_solution_runs_without_errors}


def catalogue_tests(assignment: str, exercise: str, check, mistakes: list[tuple], alternatives: dict[str, str]) -> dict:
    """Tests of a one-exercise notebook's catalogue, for ``check(function, hidden=...)``.

    ``mistakes``: (id, answer source, words the message must contain, hidden) with
    hidden None (either check), False (the visible one) or True (the hidden one);
    ``alternatives``: id -> a correct answer that must pass both checks.
    """

    def namespace(source: str) -> dict:
        return solution_namespace(notebook_path(assignment), {exercise: source})

    def run_checks(ns: dict, hidden: bool | None = None) -> None:
        if hidden in (None, False):
            check(ns[exercise])
        if hidden in (None, True):
            check(ns[exercise], hidden=True)

    @pytest.mark.parametrize("source, words, hidden", [m[1:] for m in mistakes], ids=[m[0] for m in mistakes])
    def test_mistake_is_caught_with_a_specific_message(source, words, hidden):
        with pytest.raises(CheckFailed) as caught:
            run_checks(namespace(source), hidden=hidden)
        assert words in str(caught.value), str(caught.value)

    def test_catalogue_is_large_enough():
        assert len(mistakes) >= 10 and len(alternatives) >= 3

    @pytest.mark.parametrize("name", list(alternatives))
    def test_other_correct_answers_pass(name):
        run_checks(namespace(alternatives[name]))

    def test_solution_passes_and_reports_the_check_time(report_time):
        ns = solution_namespace(notebook_path(assignment))
        check(ns[exercise])  # warm-up (first Keras calls)
        start = time.perf_counter()
        check(ns[exercise])
        report_time(f"{assignment}: visible check (after warm-up)", time.perf_counter() - start)
        check(ns[exercise], hidden=True)

    def test_untouched_stub_says_not_written_yet():
        release = read_notebook(notebook_path(assignment, root=RELEASE_DIR))
        stub = answer_sources(release)[exercise]
        assert "raise NotImplementedError()" in stub
        with pytest.raises(CheckFailed, match="not written yet"):
            run_checks(namespace(stub), hidden=False)

    return {name: value for name, value in locals().items() if name.startswith("test_")}


def class_from_catalogue(mistakes: dict, alternatives: dict, student_mistakes: dict[str, dict[str, str]],
                         alternative_student: dict[str, str]) -> tuple[dict, dict]:
    """``(students, hints)`` for :func:`nbgrader_tests` from a multi-exercise catalogue.

    ``mistakes``: exercise -> {mistake id: (source, (words, ...))}; ``alternatives``:
    exercise -> {id: source}. ``student_mistakes``: student -> {exercise: mistake id};
    ``alternative_student``: exercise -> alternative id, handed in as student "alternative".
    """
    students = {student: {exercise: mistakes[exercise][name][0] for exercise, name in chosen.items()}
                for student, chosen in student_mistakes.items()}
    students["alternative"] = {exercise: alternatives[exercise][name] for exercise, name in alternative_student.items()}
    hints = {student: {exercise: mistakes[exercise][name][1][0] for exercise, name in chosen.items()}
             for student, chosen in student_mistakes.items()}
    return students, hints


def run_exercise_checks(checks_module, exercise: str, namespace: dict) -> None:
    """The visible then the hidden check of ``exercise`` (``checks_module.check_<exercise>``)."""
    check = getattr(checks_module, f"check_{exercise}")
    check(namespace[exercise])
    check(namespace[exercise], hidden=True)


def exercises_catalogue_tests(assignment: str, checks_module, mistakes: dict, alternatives: dict) -> dict:
    """Tests of a several-exercise notebook's catalogue (notebooks 01 and 05).

    ``mistakes``: exercise -> {id: (answer source, [words the message must contain])};
    ``alternatives``: exercise -> {id: a correct answer that must pass both checks}.
    """
    exercises = list(alternatives)

    def namespace(replacements: dict | None = None) -> dict:
        return solution_namespace(notebook_path(assignment), replacements)

    mistake_cases = [pytest.param(exercise, name, source, words, id=f"{exercise}-{name}")
                     for exercise, catalogue in mistakes.items() for name, (source, words) in catalogue.items()]
    alternative_cases = [pytest.param(exercise, source, id=f"{exercise}-{name}")
                         for exercise, catalogue in alternatives.items() for name, source in catalogue.items()]

    @pytest.mark.parametrize("exercise,name,source,words", mistake_cases)
    def test_catalogued_mistake_is_caught_and_named(exercise, name, source, words):
        with pytest.raises(CheckFailed) as failure:
            run_exercise_checks(checks_module, exercise, namespace({exercise: source}))
        message = str(failure.value)
        for word in words:
            assert word in message, f"{name}: {word!r} not in the message:\n{message}"
        assert "hint:" in message

    @pytest.mark.parametrize("exercise,source", alternative_cases)
    def test_other_correct_answers_pass(exercise, source):
        run_exercise_checks(checks_module, exercise, namespace({exercise: source}))

    def test_solution_passes_every_check_and_reports_its_time(report_time):
        ns = namespace()
        for exercise in exercises:
            start = time.perf_counter()
            run_exercise_checks(checks_module, exercise, ns)
            report_time(f"{assignment}: checks of {exercise}", time.perf_counter() - start)

    @pytest.mark.parametrize("exercise", exercises)
    def test_untouched_exercise_says_not_written_yet(exercise):
        release = read_notebook(notebook_path(assignment, root=RELEASE_DIR))
        stub = answer_sources(release)[exercise]
        assert "raise NotImplementedError()" in stub
        with pytest.raises(CheckFailed) as failure:
            run_exercise_checks(checks_module, exercise, namespace({exercise: stub}))
        assert "not written yet" in str(failure.value)

    return {name: value for name, value in locals().items() if name.startswith("test_")}
