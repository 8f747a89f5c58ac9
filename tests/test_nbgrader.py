"""One real nbgrader run per graded notebook, in one throw-away course for the whole session.

The class of each notebook: ``solution`` (the release with the solution's answers) and the student of
its catalogue's ``CLASS``, who hands in a catalogue entry (a mistake or an alternative) for each
exercise on top of the solution's other answers; for notebook 01 also ``untouched`` (the release
as handed out: the catalogue harness shows that every stub of every notebook fails its check).
The solution's submission is a full execution of the notebook, the costly part of the suite; the
others hand in the notebook's graded part (``graded_part``: text, imports, answers, checks), which
is all their scores depend on. The catalogue harness (``test_catalogues.py``) tries every catalogued
answer in-process, and this run shows that what it checks is what nbgrader scores. Points come from
the notebook metadata.

* scores: a student loses exactly the exercises of the mistakes handed in, nothing for alternatives
  (a correct answer that warns and writes to stderr included);
* feedback: names each mistake;
* a failed check shows as a short message: at most 8 lines, no traceback, no path into the course's code;
* the solution notebook runs top to bottom without an error (its only end-to-end run in the suite),
  shows its figures, and every check cell prints its pass line.
"""
from __future__ import annotations

import html
import re
import shutil
import time

import pytest

from catalogue import Alternative, Mistake, catalogues
from course_autograde.course import GradingCourse
from course_autograde.notebook_code import (answer_sources, check_cells, graded_part, notebook_path, read_notebook,
                                            replace_answers)
from course_utils import checks

pytestmark = pytest.mark.nbgrader
ASSIGNMENTS = list(checks.ASSIGNMENTS)
UNTOUCHED_IN = "01_convolutions"
ANSI = re.compile(r"\x1b\[[0-9;]*m")
CATALOGUES = catalogues()


def points(assignment: str) -> dict[str, float]:
    """Check-cell grade_id -> points, from the solution notebook's metadata."""
    return {grade_id: value for grade_id, (_, value) in check_cells(read_notebook(notebook_path(assignment))).items()}


def handed_in(assignment: str) -> dict[str, list]:
    """student -> the catalogue entries they hand in."""
    catalogue = CATALOGUES[assignment]
    by_id = {e.id: e for e in catalogue.MISTAKES + catalogue.HARD_CODED + catalogue.ALTERNATIVES}
    return {student: [by_id[i] for i in ids] for student, ids in catalogue.CLASS.items()}


@pytest.fixture(scope="session")
def course(generated_course):
    assert generated_course.assignments == ASSIGNMENTS
    return generated_course


@pytest.fixture(scope="session")
def graded(course, report_time, executed_notebooks):
    """``graded(assignment)``: the course after its class was autograded (once per assignment).

    The solution's notebook as nbgrader executed it goes to ``executed_notebooks`` (the book's test
    builds the book from it), or ``<assignment>.failed`` when grading failed."""
    done = set()

    def grade(assignment: str) -> GradingCourse:
        if assignment not in done:
            try:
                grade_class(assignment)
            except BaseException:
                (executed_notebooks / f"{assignment}.failed").touch()
                raise
            partial = executed_notebooks / f"{assignment}.ipynb.part"
            shutil.copy(course.autograded_path("solution", assignment), partial)
            partial.rename(executed_notebooks / f"{assignment}.ipynb")
            done.add(assignment)
        return course

    def grade_class(assignment: str) -> None:
        release = read_notebook(course.release_path(assignment))
        solution = answer_sources(read_notebook(notebook_path(assignment)))
        course.submit("solution", assignment, replace_answers(release, solution))
        # the solution's run is the notebook's one end-to-end run; the others hand in its graded part
        if assignment == UNTOUCHED_IN:
            course.submit("untouched", assignment, graded_part(release))
        for student, entries in handed_in(assignment).items():
            answers = {**solution, **{e.exercise: e.code for e in entries}}
            course.submit(student, assignment, graded_part(replace_answers(release, answers)))
        start = time.perf_counter()
        course.autograde(assignment)
        report_time(f"{assignment}: nbgrader autograde ({len(students(assignment))} students)",
                    time.perf_counter() - start)
        course.generate_feedback(assignment)
    return grade


def students(assignment: str) -> list[str]:
    return ["solution", *(["untouched"] if assignment == UNTOUCHED_IN else []), *handed_in(assignment)]


def check_scores(scores: dict) -> dict:
    return {name: value for name, value in scores.items() if name.startswith("check_")}


class NbgraderRun:
    """The tests of one assignment's nbgrader run. One class per assignment (made below), so that
    pytest-xdist's ``--dist loadscope`` runs an assignment's tests on one worker (its run made
    once there) while the six runs spread over the workers."""

    assignment: str

    def test_scores_lose_exactly_the_exercises_with_mistakes(self, graded):
        assignment = self.assignment
        scores = graded(assignment).scores(assignment)
        full = points(assignment)
        assert check_scores(scores["solution"]) == {name: (value, value) for name, value in full.items()}
        assert set(scores) == set(students(assignment))
        if assignment == UNTOUCHED_IN:
            assert check_scores(scores["untouched"]) == {name: (0.0, value) for name, value in full.items()}
        for student, entries in handed_in(assignment).items():
            lost = {f"check_{e.exercise}" for e in entries if not isinstance(e, Alternative)}
            expected = {name: (0.0 if name in lost else value, value) for name, value in full.items()}
            assert check_scores(scores[student]) == expected, student

    def test_feedback_names_each_mistake(self, graded):
        assignment = self.assignment
        course = graded(assignment)
        if assignment == UNTOUCHED_IN:
            assert "not written yet" in html.unescape(course.feedback_path("untouched", assignment).read_text())
        for student, entries in handed_in(assignment).items():
            text = html.unescape(course.feedback_path(student, assignment).read_text())
            for mistake in (e for e in entries if isinstance(e, Mistake)):
                for word in mistake.words:
                    assert word in text, f"{student}: the feedback on {mistake.exercise} does not say {word!r}"

    def test_solution_runs_without_errors_and_every_check_prints_its_pass_line(self, graded):
        assignment = self.assignment
        course = graded(assignment)
        assert course.error_outputs("solution", assignment) == []
        printed = "".join(o.get("text", "") for cell in course.autograded("solution", assignment).cells
                          if cell.cell_type == "code" for o in cell.get("outputs", []))
        shown = [o for cell in course.autograded("solution", assignment).cells if cell.cell_type == "code"
                 for o in cell.get("outputs", []) if o.get("output_type") in ("display_data", "execute_result")]
        assert shown, "the notebook shows nothing"
        for exercise in answer_sources(read_notebook(notebook_path(assignment))):
            assert f"\u2714 {exercise}: all checks passed." in printed
            assert f"\u2714 {exercise}: hidden checks passed." in printed


class FailedChecks:
    """For the assignments whose class has a student besides the solution."""

    def test_failed_check_shows_a_short_message_without_traceback(self, graded):
        assignment = self.assignment
        course = graded(assignment)
        failures = []
        for student in students(assignment)[1:]:
            for cell in course.autograded(student, assignment).cells:
                if cell.cell_type == "code" and cell.metadata.get("nbgrader", {}).get("grade"):
                    failures += [o for o in cell.get("outputs", []) if o.get("output_type") == "error"]
        assert failures
        for output in failures:
            text = ANSI.sub("", "\n".join(output["traceback"]))
            assert len(text.splitlines()) <= 8, text
            assert "Traceback" not in text and "course_utils" not in text and "site-packages" not in text, text
            assert "/utils/checks" not in text, text


class Notebook01Only:
    """What the student of notebook 01 hands in shows (the catalogue's CLASS says why)."""

    def test_a_correct_answer_that_warns_gets_full_marks_and_a_note(self, graded):
        assignment = "01_convolutions"
        course = graded(assignment)
        assert "warns_and_writes_to_stderr" in CATALOGUES[assignment].CLASS["student"]
        scores = check_scores(course.scores(assignment)["student"])
        assert scores["check_conv_output_size"][0] == scores["check_conv_output_size"][1] > 0, scores
        cells = course.autograded("student", assignment).cells
        outputs = [o for cell in cells if cell.cell_type == "code" for o in cell.get("outputs", [])
                   if o.get("output_type") == "stream"]
        assert not [o for o in outputs if o["name"] == "stderr"]
        assert "note (costs no points): UserWarning" in "".join(o["text"] for o in outputs)

    def test_a_crash_in_the_students_code_quotes_their_cell_and_line(self, graded):
        assignment = "01_convolutions"
        assert "static_batch_size" in CATALOGUES[assignment].CLASS["student"]
        cells = graded(assignment).autograded("student", assignment).cells
        check = next(c for c in cells if c.metadata.get("nbgrader", {}).get("grade_id") == "check_DepthPool")
        text = ANSI.sub("", "\n".join(line for o in check.outputs if o.get("output_type") == "error"
                                       for line in o["traceback"]))
        assert "raised TypeError" in text and "in your code:" in text, text
        assert re.search(r"Cell In\[\d+\], line \d+, in call: .*tf\.reshape", text), text


for _assignment in ASSIGNMENTS:
    _bases = (NbgraderRun, *([FailedChecks] if len(students(_assignment)) > 1 else []),
              *([Notebook01Only] if _assignment == UNTOUCHED_IN else []))
    _name = f"TestNbgrader_{_assignment}"
    globals()[_name] = type(_name, _bases, {"assignment": _assignment})
