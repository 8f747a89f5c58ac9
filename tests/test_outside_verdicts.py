"""What the course's checks decide outside the student's process: the probes' records and the blocks' layer names.

In grading, the kernel only records (:func:`engine.observe`) and the grader judges. These tests take the
student's side of that split as a hostile kernel would shape it (the in-kernel inspection bypassed, records
copied from the visible references shipped to students), and show that the verdict still comes out right.
The catalogue of ordinary mistakes and their messages is run by ``test_catalogues.py``.
"""
from __future__ import annotations

import numpy as np
import pytest
from catalogue import edit
from catalogues import conv as conv_catalogue
from course_autograde.notebook_code import (
    answer_sources,
    notebook_path,
    read_notebook,
    solution_namespace,
)
from course_utils import references
from course_utils.checks import (
    CheckFailed,
    _blocks,
    conv,
    engine,
    identity_block,
    resnet34,
)


def answer(assignment: str, exercise: str, code: str | None = None):
    """The solution's ``exercise``, or ``code`` run in the solution notebook's namespace instead."""
    return solution_namespace(notebook_path(assignment), {exercise: code} if code else None)[exercise]


def test_the_kernel_records_what_get_config_gives_and_the_grader_says_what_is_wrong():
    code = next(m.code for m in conv_catalogue.MISTAKES if m.id == "get_config_without_pool_size")
    observation = engine.observe(conv.CHECKS.by_name["DepthPool"], answer("01_convolutions", "DepthPool", code),
                                 "hidden")
    assert observation["failure"] is None  # no verdict made where the student's code runs
    record = references.decode(observation["outputs"])["probe:get_config"]
    assert "pool_size" not in record["keys"] and "name" in record["keys"]
    with pytest.raises(CheckFailed, match="lacks pool_size"):
        conv.CHECKS.judge(observation)


def test_probe_records_copied_from_the_visible_references_fail_the_hidden_check():
    solution = answer("01_convolutions", "DepthPool")
    observation = engine.observe(conv.CHECKS.by_name["DepthPool"], solution, "hidden")
    conv.CHECKS.judge(observation)  # the solution's own record passes
    shipped = references.stored("01_convolutions", "DepthPool", "visible")["probe:get_config"]
    observation["outputs"]["probe:get_config"] = references.encode(shipped)
    with pytest.raises(CheckFailed, match="records pool_size"):
        conv.CHECKS.judge(observation)


def test_a_get_config_record_needs_the_output_of_the_rebuilt_layer_on_the_hidden_input():
    observation = engine.observe(conv.CHECKS.by_name["DepthPool"], answer("01_convolutions", "DepthPool"), "hidden")
    record = references.decode(observation["outputs"]["probe:get_config"])
    record["rebuilt_output"] = np.zeros_like(record["rebuilt_output"])
    observation["outputs"]["probe:get_config"] = references.encode(record)
    with pytest.raises(CheckFailed, match="the layer rebuilt by DepthPool.from_config"):
        conv.CHECKS.judge(observation)


def test_a_save_and_reload_record_must_give_the_solutions_outputs_not_just_equal_ones():
    unit = answer("05_resnet34", "ResidualUnit")
    observation = engine.observe(resnet34.CHECKS.by_name["ResidualUnit"], unit, "hidden")
    resnet34.CHECKS.judge(observation)
    record = references.decode(observation["outputs"]["probe:save and reload"])
    assert set(record) == {"before", "after"}
    faked = np.ones_like(record["after"])  # "identical before and after", made up in the kernel
    observation["outputs"]["probe:save and reload"] = references.encode({"before": faked, "after": faked})
    with pytest.raises(CheckFailed, match="with known weights: its output"):
        resnet34.CHECKS.judge(observation)


def test_a_missing_or_malformed_probe_record_fails_and_says_to_run_the_check_cell_as_given():
    observation = engine.observe(resnet34.CHECKS.by_name["ResidualUnit"], answer("05_resnet34", "ResidualUnit"),
                                 "visible")
    observation["outputs"]["probe:save and reload"] = "passed"  # a forged record, of no shape the check makes
    with pytest.raises(CheckFailed, match="record of your answer for its save and reload check cannot be read"):
        resnet34.CHECKS.judge(observation)
    del observation["outputs"]["probe:get_config"]
    with pytest.raises(CheckFailed, match="no result for its get_config check"):
        resnet34.CHECKS.judge(observation)


def test_layer_names_are_compared_by_the_grader_when_the_kernels_inspection_is_bypassed(monkeypatch):
    solution = answer_sources(read_notebook(notebook_path("02_identity_block")))["identity_block"]
    visible_case = identity_block.CHECKS.by_name["identity_block"].cases["visible"][0]
    fixed = f'"res{visible_case["stage"]}{visible_case["block"]}_branch"'  # names of the visible case only
    code = edit(solution, ('"res" + str(stage) + block + "_branch"', fixed))
    block = answer("02_identity_block", "identity_block", code)
    monkeypatch.setattr(_blocks.BlockInspector, "check_name", lambda self, step, expected: None)
    observation = engine.observe(identity_block.CHECKS.by_name["identity_block"], block, "hidden")
    assert observation["failure"] is None
    monkeypatch.undo()
    with pytest.raises(CheckFailed, match="names of its Conv2D and BatchNormalization layers") as failure:
        identity_block.CHECKS.judge(observation)
    assert "notebook 04 looks the layers up" in failure.value.message()
