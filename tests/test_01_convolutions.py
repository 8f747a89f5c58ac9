"""Notebook 01 (convolution filters and pooling): the stored references agree with TensorFlow itself.

The catalogue of answers is in ``catalogues/conv.py`` (run by ``test_catalogues.py``), the nbgrader
run in ``test_nbgrader.py``; this module proves the reference outputs right, independently of the solution.
"""
from __future__ import annotations

import numpy as np
import pytest

from course_utils import references
from course_utils.checks import conv as checks

ID = "01_convolutions"


@pytest.fixture(scope="module")
def stored():
    return references.load(ID)


def every_case(cases):
    return [(part, case) for part, part_cases in cases.items() for case in part_cases]


def test_reference_output_sizes_agree_with_tensorflow(stored):
    import tensorflow as tf

    for part, case in every_case(checks.OUTPUT_SIZE_CASES):
        value = stored["conv_output_size"][part][case.name]
        if case["padding"] not in checks.PADDINGS:
            assert value == checks.RAISED, case
            continue
        n, k, padding, s = case["n"], case["k"], case["padding"], case["stride"]
        measured = tf.nn.conv2d(tf.zeros((1, n, 1, 1)), tf.zeros((k, 1, 1, 1)), strides=s,
                                padding=padding.upper()).shape[1]
        assert value == measured, case


def test_reference_convolutions_agree_with_tf_nn_conv2d(stored):
    import tensorflow as tf

    for part, case in every_case(checks.CONV_CASES):
        images, kernels, stride, padding = checks.conv_inputs(case)
        expected = tf.nn.conv2d(images, kernels, strides=stride, padding=padding.upper()).numpy()
        np.testing.assert_allclose(stored["conv2d_numpy"][part][case.name], expected, atol=1e-4, err_msg=case.name)


def test_reference_max_pools_agree_with_keras_maxpool2d(stored):
    import keras

    for part, case in every_case(checks.POOL_CASES):
        expected = keras.layers.MaxPool2D(case["pool_size"], strides=case["stride"])(checks.pool_input(case))
        np.testing.assert_array_equal(stored["max_pool_numpy"][part][case.name], np.asarray(expected),
                                      err_msg=case.name)


def test_reference_depth_pools_agree_with_tf_depthwise_max_pool(stored):
    import tensorflow as tf

    for part, case in every_case(checks.DEPTH_CASES):
        x = checks.random_input(case["seed"], case["shape"])
        p = case["pool_size"]
        expected = tf.nn.max_pool(x, ksize=(1, 1, 1, p), strides=(1, 1, 1, p), padding="VALID")
        np.testing.assert_array_equal(stored["DepthPool"][part][case.name], expected.numpy(), err_msg=case.name)


def test_reference_costs_agree_with_keras_and_the_course_figures(stored):
    import keras

    example = stored["conv_layer_cost"]["visible"]["course_example"]
    assert example == {"parameters": 15_200, "multiplications": 225_000_000, "output_bytes": 12_000_000}
    assert stored["conv_layer_cost"]["visible"]["course_example_batch100"]["output_bytes"] == 1_200_000_000
    for part, case in every_case(checks.COST_CASES):
        kwargs = case.params
        layer = keras.layers.Conv2D(kwargs["filters"], kwargs["kernel_size"], strides=kwargs.get("stride", 1),
                                    padding=kwargs.get("padding", "same"))
        input_shape = (kwargs.get("batch_size", 1), kwargs["height"], kwargs["width"], kwargs["channels"])
        layer.build(input_shape)
        _, out_h, out_w, filters = layer.compute_output_shape(input_shape)
        values = out_h * out_w * filters * input_shape[0]
        expected = {"parameters": layer.count_params(),
                    "multiplications": values * kwargs["kernel_size"] ** 2 * kwargs["channels"],
                    "output_bytes": values * kwargs.get("bytes_per_value", 4)}
        assert stored["conv_layer_cost"][part][case.name] == expected, case.name


def test_every_visible_size_case_of_a_kind_has_a_hidden_case_of_other_values():
    visible = {(c["padding"] in checks.PADDINGS, c["padding"]) for c in checks.OUTPUT_SIZE_CASES["visible"]}
    hidden = {(c["padding"] in checks.PADDINGS, c["padding"]) for c in checks.OUTPUT_SIZE_CASES["hidden"]}
    assert {kind for kind, _ in visible} == {kind for kind, _ in hidden}
    names = {c.name for c in checks.OUTPUT_SIZE_CASES["visible"]}
    assert not names & {c.name for c in checks.OUTPUT_SIZE_CASES["hidden"]}
