"""The one harness of every notebook's answer catalogue (``tests/catalogues/``, format in ``catalogue.py``).

For every graded exercise of every notebook in the registry:

* each catalogued mistake fails the visible check, with a message that names it (the fairness rule);
* each hard-coded answer passes the visible check and fails the hidden one (the only kind that may);
* each alternative correct answer passes both; the solution passes both;
* the untouched stub says "not written yet";
* the course's own implementations pass the checks of the exercises they implement.
"""
from __future__ import annotations

import importlib
import time

import pytest

from catalogue import Alternative, HardCoded, Mistake, catalogues
from course_autograde.notebook_code import RELEASE_DIR, answer_sources, notebook_path, read_notebook, solution_namespace
from course_utils import checks
from course_utils.checks import CheckFailed

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


@pytest.mark.parametrize("assignment, mistake", entries(Mistake))
def test_mistake_fails_the_visible_check_with_a_message_that_names_it(assignment, mistake):
    answer = namespace(assignment, mistake)[mistake.exercise]
    with pytest.raises(CheckFailed) as failure:
        run_check(assignment, mistake.exercise, answer, hidden=False)
    message = failure.value.message()
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


# The course's own implementations, reused by later notebooks, and the exercise each one answers.
IMPLEMENTATIONS = [("02_identity_block", "identity_block", "course_utils.blocks", "identity_block"),
                   ("03_convolutional_block", "convolutional_block", "course_utils.blocks", "convolutional_block"),
                   ("04_resnet50", "ResNet50", "course_utils.models", "resnet50"),
                   *[("06_transfer_cam", name, "course_utils.cam", name)
                     for name in ("build_transfer_model", "unfreeze_top", "class_activation_map",
                                  "upsample_and_normalise", "grad_cam", "pointing_game_hit", "mass_inside")]]


@pytest.mark.parametrize("assignment, exercise, module, name", IMPLEMENTATIONS,
                         ids=[f"{i[0][:2]}-{i[1]}" for i in IMPLEMENTATIONS])
def test_course_implementation_passes_the_checks_of_its_exercise(assignment, exercise, module, name):
    implementation = getattr(importlib.import_module(module), name)
    run_check(assignment, exercise, implementation, hidden=False)
    run_check(assignment, exercise, implementation, hidden=True)
