"""The one harness of every notebook's answer catalogue (``tests/catalogues/``, format in ``catalogue.py``).

For every graded exercise of every notebook in the registry:

* each catalogued mistake fails the visible check, with a message that names it (the fairness rule);
* each hard-coded answer passes the visible check and fails the hidden one (the only kind that may);
* each alternative correct answer passes both; the solution passes both;
* the untouched stub says "not written yet";
* the course's own implementations give the reference values of the exercises they implement, and an
  answer that calls them is refused.
"""
from __future__ import annotations

import dataclasses
import time

import pytest

from catalogue import Alternative, HardCoded, Mistake, catalogues
from course_autograde.notebook_code import RELEASE_DIR, answer_sources, notebook_path, read_notebook, solution_namespace
from course_utils import checks, references
from course_utils.checks import CheckFailed, engine

CATALOGUES = catalogues()


def test_every_graded_notebook_has_a_catalogue():
    assert set(CATALOGUES) == set(checks.ASSIGNMENTS), "add tests/catalogues/<checks module>.py"


def exercises(assignment: str) -> list[str]:
    return list(answer_sources(read_notebook(notebook_path(assignment))))


def run_check(assignment: str, exercise: str, answer, hidden: bool) -> None:
    getattr(checks.module(assignment), f"check_{exercise}")(answer, hidden=hidden)


def namespace(assignment: str, entry=None) -> dict:
    return solution_namespace(notebook_path(assignment), {entry.exercise: entry.code} if entry else None)


def entries(kind) -> list:
    return [pytest.param(assignment, entry, id=f"{assignment[:2]}-{entry.exercise}-{entry.id}")
            for assignment, catalogue in CATALOGUES.items()
            for entry in {Mistake: catalogue.MISTAKES, HardCoded: catalogue.HARD_CODED,
                          Alternative: catalogue.ALTERNATIVES}[kind]]


def visible_messages(assignment: str, exercise: str, answer, monkeypatch) -> dict[str, str]:
    """The visible check's failure message, judged with the mistakes computed (the instructor's side) and
    with their stored outputs (a student's package, which has no code for them): one run of the answer."""
    assignment_checks = checks.assignment_checks(assignment)
    observation = engine.observe(assignment_checks.by_name[exercise], answer, "visible")
    messages = {}
    for source, stored in (("computed", False), ("stored", True)):
        monkeypatch.setattr(engine, "USE_STORED_MISTAKES", stored)
        with pytest.raises(CheckFailed) as failure:
            assignment_checks.judge(observation)
        messages[source] = failure.value.message()
    return messages


@pytest.mark.parametrize("assignment, mistake", entries(Mistake))
def test_mistake_fails_the_visible_check_with_a_message_that_names_it(assignment, mistake, monkeypatch):
    answer = namespace(assignment, mistake)[mistake.exercise]
    messages = visible_messages(assignment, mistake.exercise, answer, monkeypatch)
    assert messages["stored"] == messages["computed"], "the student's package diagnoses otherwise"
    message = messages["computed"]
    for word in mistake.words:
        assert word in message, f"{mistake.id}: {word!r} not in the message:\n{message}"
    assert "hint:" in message
    assert len(message.splitlines()) <= 8, message


@pytest.mark.parametrize("assignment, answer", entries(HardCoded))
def test_hard_coded_answer_passes_the_visible_check_and_fails_the_hidden_one(assignment, answer):
    function = namespace(assignment, answer)[answer.exercise]
    run_check(assignment, answer.exercise, function, hidden=False)
    with pytest.raises(CheckFailed):
        run_check(assignment, answer.exercise, function, hidden=True)


@pytest.mark.parametrize("assignment, alternative", entries(Alternative))
def test_alternative_correct_answer_passes_both_checks(assignment, alternative):
    answer = namespace(assignment, alternative)[alternative.exercise]
    run_check(assignment, alternative.exercise, answer, hidden=False)
    run_check(assignment, alternative.exercise, answer, hidden=True)


@pytest.mark.parametrize("assignment", list(CATALOGUES))
def test_solution_passes_both_checks_and_reports_their_time(assignment, report_time, capsys):
    ns = namespace(assignment)
    for exercise in exercises(assignment):
        for hidden in (False, True):
            start = time.perf_counter()
            run_check(assignment, exercise, ns[exercise], hidden=hidden)
            report_time(f"{assignment}: {'hidden' if hidden else 'visible'} check of {exercise}",
                        time.perf_counter() - start)
    printed = capsys.readouterr().out
    for exercise in exercises(assignment):
        assert f"\u2714 {exercise}: all checks passed." in printed
        assert f"\u2714 {exercise}: hidden checks passed." in printed


@pytest.mark.parametrize("assignment", list(CATALOGUES))
def test_untouched_stub_says_not_written_yet(assignment):
    stubs = answer_sources(read_notebook(notebook_path(assignment, root=RELEASE_DIR)))
    for exercise in exercises(assignment):
        assert "raise NotImplementedError()" in stubs[exercise]
        answer = solution_namespace(notebook_path(assignment), {exercise: stubs[exercise]})[exercise]
        with pytest.raises(CheckFailed, match="not written yet"):
            run_check(assignment, exercise, answer, hidden=False)


@pytest.mark.parametrize("assignment", list(CATALOGUES))
def test_catalogue_covers_every_exercise(assignment):
    catalogue = CATALOGUES[assignment]
    for exercise in exercises(assignment):
        assert len([m for m in catalogue.MISTAKES if m.exercise == exercise]) >= 8, exercise
        assert len([a for a in catalogue.ALTERNATIVES if a.exercise == exercise]) >= 2, exercise
    assert catalogue.HARD_CODED, "add an answer that special-cases the visible inputs"
    known = {e.id for e in catalogue.MISTAKES + catalogue.HARD_CODED + catalogue.ALTERNATIVES}
    for student, handed_in in catalogue.CLASS.items():
        assert set(handed_in) <= known, student
    ids = [e.id for e in catalogue.MISTAKES + catalogue.HARD_CODED + catalogue.ALTERNATIVES]
    assert len(ids) == len(set(ids)), "catalogue ids must be unique within a notebook's catalogue"


def test_catalogue_counts_are_reported(report_line):
    for assignment, catalogue in CATALOGUES.items():
        report_line(f"{assignment}: {len(catalogue.MISTAKES)} mistakes, {len(catalogue.HARD_CODED)} hard-coded, "
                    f"{len(catalogue.ALTERNATIVES)} alternatives")


# The course's own implementations, which later notebooks reuse: each exercise declares its own.
IMPLEMENTED = [(assignment, exercise) for assignment in checks.ASSIGNMENTS
               for exercise, description in checks.module(assignment).CHECKS.by_name.items()
               if description.implementation]


def test_the_reused_exercises_declare_their_course_implementation():
    assert {a for a, _ in IMPLEMENTED} == {"02_identity_block", "03_convolutional_block", "04_resnet50",
                                           "06_transfer_cam"}
    assert len(IMPLEMENTED) == 10


@pytest.mark.parametrize("assignment, exercise", IMPLEMENTED, ids=[f"{a[:2]}-{e}" for a, e in IMPLEMENTED])
def test_course_implementation_gives_the_reference_values_and_is_refused_as_an_answer(assignment, exercise):
    description = checks.module(assignment).CHECKS.by_name[exercise]
    implementation = engine.implementation_of(description)
    unwatched = dataclasses.replace(description, implementation=None)
    for hidden in (False, True):  # what the later notebooks rely on
        engine.check(unwatched, implementation, references.stored(assignment, exercise, "hidden" if hidden
                                                                  else "visible"), hidden)

    def answer(*args, **kwargs):  # a thin wrapper, as a student would write it
        return implementation(*args, **kwargs)

    with pytest.raises(CheckFailed) as failure:
        run_check(assignment, exercise, answer, hidden=False)
    assert "course's own" in failure.value.message() and "scores 0" in failure.value.message()
