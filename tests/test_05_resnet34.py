"""Notebook 05 (ResNet-34 from a ResidualUnit layer): what is specific to its checks and references.

The answer catalogue (mistakes, hard-coded and alternative answers) is in ``catalogues/resnet34.py`` and is
run by ``test_catalogues.py``; the nbgrader run by ``test_nbgrader.py``. Here:

* the ResNet-34 check grades the model on its own, with a stand-in unit of the same weights;
* the stored references are right: the unit's outputs agree with an independent computation
  (:func:`course_utils.checks.mistakes.resnet34.unit_variant`), the parameter counts with the published 21,306,826;
* the visible cases cover every stride the hidden ones use (hidden cases are other sizes and values).
"""
from __future__ import annotations

import numpy as np
import pytest

from course_autograde.notebook_code import answer_sources, notebook_path, read_notebook, solution_namespace
from course_utils import references
from course_utils.checks import resnet34 as checks
from course_utils.checks.mistakes import resnet34 as mistakes

ID = "05_resnet34"


def test_model_check_does_not_depend_on_the_students_unit():
    """A broken ResidualUnit costs the unit's points only: the ResNet-34 check uses a stand-in."""
    unit = answer_sources(read_notebook(notebook_path(ID)))["ResidualUnit"]
    broken = unit.replace("        self.filters = filters\n", "        raise ValueError('broken')\n")
    assert broken != unit
    namespace = solution_namespace(notebook_path(ID), {"ResidualUnit": broken})
    checks.check_build_resnet34(namespace["build_resnet34"])
    checks.check_build_resnet34(namespace["build_resnet34"], hidden=True)
    assert namespace["ResidualUnit"].__name__ == "ResidualUnit"  # the stand-in was removed again


def test_visible_cases_cover_every_stride_the_hidden_ones_use():
    strides = {part: {case["strides"] for case in checks.UNIT_CASES[part]} for part in ("visible", "hidden")}
    assert strides["hidden"] <= strides["visible"] == {1, 2, 3}
    visible_shapes = {case["shape"] for case in checks.UNIT_CASES["visible"]}
    assert not visible_shapes & {case["shape"] for case in checks.UNIT_CASES["hidden"]}


# ============================================================================ references
@pytest.fixture(scope="module")
def stored():
    return references.load(ID)


def test_references_agree_with_an_independent_computation(stored):
    """The solution's outputs (known weights) equal a plain keras.ops computation of the unit."""
    for part, cases in checks.UNIT_CASES.items():
        for case in cases:
            computed = mistakes.unit_outputs(case)
            for mode in checks.MODES:
                np.testing.assert_allclose(stored["ResidualUnit"][part][case.name][mode], computed[mode], atol=2e-5,
                                           err_msg=f"{part}/{case.name}/{mode}")


def test_references_cover_both_modes(stored):
    for part in ("visible", "hidden"):
        for case in checks.RESIDUAL_UNIT.cases[part]:
            outputs = stored["ResidualUnit"][part][case.name]
            assert set(outputs) == {"inference", "training"}
            assert not np.allclose(outputs["inference"], outputs["training"])


def test_resnet34_has_the_published_parameter_counts(stored):
    counts = stored["build_resnet34"]["visible"]["224x224x3_10_classes"]
    assert (counts["params"], counts["trainable"], counts["non_trainable"]) == (21_306_826, 21_289_802, 17_024)
    assert [tuple(strides) for _, strides in counts["units"]] == [(s, s) for _, s in checks.SCHEDULE]
    assert stored["build_resnet34"]["hidden"]["defaults"] == counts


def test_stand_in_unit_has_the_weights_of_a_real_unit():
    namespace = solution_namespace(notebook_path(ID))
    stand_in = checks._stand_in_class()
    for filters, strides, channels in ((8, 1, 8), (8, 2, 4), (6, 3, 3)):
        real, light = namespace["ResidualUnit"](filters, strides=strides), stand_in(filters, strides=strides)
        for layer in (real, light):
            layer(np.zeros((1, 9, 9, channels), "float32"))
        assert real.count_params() == light.count_params()
        shapes = [sorted(tuple(int(d) for d in w.shape) for w in layer.trainable_weights) for layer in (real, light)]
        assert shapes[0] == shapes[1]


def test_known_weights_do_not_depend_on_random_initialisation():
    import keras

    namespace = solution_namespace(notebook_path(ID))
    case = checks.UNIT_CASES["visible"][1]
    x = checks.random_input(case["seed"], case["shape"])
    outputs = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        unit = namespace["ResidualUnit"](case["filters"], strides=case["strides"])
        outputs.append(checks.run_unit(unit, x, "inference"))
    np.testing.assert_array_equal(outputs[0], outputs[1])
