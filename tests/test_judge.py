"""The check cells' verdicts made outside the sandbox (``JudgeChecks``), on the tiny assignment's checks.

The whole path (a sandboxed kernel publishing observations, the grader judging them) runs in
``test_grade.py``; here each rule of the judge on hand-made cells.
"""
from __future__ import annotations

import logging

import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

import tiny_checks
from course_autograde.preprocessors import JudgeChecks
from course_autograde.preprocessors.judge_checks import engine_calls
from course_utils.checks import engine
from course_utils.references import HIDDEN_REFERENCES_ENV

MEAN = "tiny_checks.check_mean(mean)\n### BEGIN HIDDEN TESTS\ntiny_checks.check_mean(mean, hidden=True)\n### END HIDDEN TESTS"


@pytest.fixture(autouse=True)
def hidden_references(monkeypatch):
    monkeypatch.setenv(HIDDEN_REFERENCES_ENV, str(tiny_checks.HIDDEN_REFERENCE_DIR))


def observed(mean, part: str) -> dict:
    return new_output("display_data", data={engine.OBSERVATION_MIME: engine.observe(tiny_checks.MEAN, mean, part)})


def check_cell(outputs, source: str = MEAN):
    return new_code_cell(source, outputs=outputs, metadata={"nbgrader": {
        "grade": True, "solution": False, "locked": True, "grade_id": "check_mean", "points": 2}})


def judged(*cells):
    nb = new_notebook(cells=list(cells))
    JudgeChecks(checks="tiny_checks.assignment_checks").preprocess(nb, {"nbgrader": {"assignment": "tiny"}})
    return nb.cells


def texts(cell) -> list[str]:
    return [o.get("text", "") if o.output_type == "stream" else f"{o.ename}: {o.evalue}" for o in cell.outputs]


def right(values):
    return sum(values) / len(values)


def rounded(values):
    return round(sum(values) / len(values))


def test_the_calls_of_a_check_cell_are_read_from_its_source():
    assert engine_calls(check_cell([]), tiny_checks.CHECKS) == [("mean", "visible"), ("mean", "hidden")]
    assert engine_calls(check_cell([], "assert mean([1]) == 1"), tiny_checks.CHECKS) == []
    answer = new_code_cell(MEAN, metadata={"nbgrader": {"grade": False, "solution": True, "grade_id": "mean"}})
    assert engine_calls(answer, tiny_checks.CHECKS) == []


def test_right_outputs_pass_and_the_kernels_own_pass_lines_are_dropped():
    cell, = judged(check_cell([new_output("stream", name="stdout", text="\u2714 mean: all checks passed.\nworking\n"),
                               observed(right, "visible"), observed(right, "hidden")]))
    assert texts(cell) == ["working\n", "\u2714 mean: all checks passed.\n", "\u2714 mean: hidden checks passed.\n"]


def test_a_wrong_hidden_output_fails_with_the_engines_message_and_no_pass_line_for_it():
    cell, = judged(check_cell([observed(rounded, "visible"), observed(rounded, "hidden")]))
    assert texts(cell)[0] == "\u2714 mean: all checks passed.\n"
    assert cell.outputs[-1].ename == "CheckFailed" and len(cell.outputs) == 2
    assert "expected: 0.1" in cell.outputs[-1].evalue and "the mean was rounded" in cell.outputs[-1].evalue


def test_an_error_in_the_kernel_without_an_observation_fails_and_quotes_the_error():
    cell, = judged(check_cell([new_output("error", ename="NameError", evalue="name 'mean' is not defined",
                                          traceback=["NameError"])]))
    assert len(cell.outputs) == 1 and cell.outputs[0].ename == "CheckFailed"
    assert "did not run" in cell.outputs[0].evalue and "NameError: name 'mean' is not defined" in cell.outputs[0].evalue


def test_a_kernel_that_claims_a_pass_without_observations_gets_none():
    cell, = judged(check_cell([new_output("stream", name="stdout", text="\u2714 mean: all checks passed.\n")]))
    assert [o.output_type for o in cell.outputs] == ["error"] and "did not run" in cell.outputs[0].evalue


def test_an_observation_of_another_exercise_or_part_does_not_count():
    forged = observed(right, "hidden")
    forged.data[engine.OBSERVATION_MIME]["exercise"] = "add"
    cell, = judged(check_cell([observed(right, "visible"), forged]))
    assert cell.outputs[-1].ename == "CheckFailed" and "mean (hidden cases) did not run" in cell.outputs[-1].evalue


def test_a_crash_recorded_in_the_sandbox_is_shown_with_the_students_line():
    def crashing(values):
        return values.total()

    cell, = judged(check_cell([observed(crashing, "visible")]))
    assert "raised AttributeError" in cell.outputs[-1].evalue and "in your code:" in cell.outputs[-1].evalue


def test_a_cell_the_sandbox_did_not_run_keeps_its_reason():
    stopped = new_output("error", ename="NotRun", evalue="not run: grading stopped at cell 'mean'", traceback=["x"])
    cell, = judged(check_cell([stopped]))
    assert cell.outputs == [stopped]


def test_a_bug_of_the_grader_is_flagged_not_blamed_on_the_student(caplog):
    broken = observed(right, "visible")
    broken.data[engine.OBSERVATION_MIME]["outputs"] = {"three": {"__array__": "x", "dtype": "no such dtype", "shape": []}}
    nb = new_notebook(cells=[check_cell([broken])])
    with caplog.at_level(logging.ERROR):
        JudgeChecks(checks="tiny_checks.assignment_checks").preprocess(nb, {"nbgrader": {"assignment": "tiny"}})
    assert nb.cells[0].outputs[-1].ename == "GraderError" and "by hand" in nb.cells[0].outputs[-1].traceback[0]
    assert nb.metadata["sandbox"]["judge_problems"]
