"""Notebook 02 (identity block): the references agree with NumPy, and a crash gets the hint of its own error.

The catalogue of answers is in ``catalogues/identity_block.py`` (run by ``test_catalogues.py``).
"""
from __future__ import annotations

import numpy as np
import pytest

from catalogues import identity_block as catalogue
from course_autograde.notebook_code import notebook_path, solution_namespace
from course_utils import references
from course_utils.checks.known_weights import KnownWeights
from course_utils.checks import CheckFailed, _blocks, engine
from course_utils.checks import identity_block as checks

ID = "02_identity_block"
EXERCISE = "identity_block"


def numpy_block(x, f, filters, training, s=None):
    """The block with known weights in NumPy (no Keras): the identity block, or with ``s`` the convolutional one."""
    def conv(x, filters, k, stride=1):
        w = np.asarray(KnownWeights(seed=0)((k, k, x.shape[-1], filters)), np.float64)
        if k > 1:  # 'same' padding, stride 1: TensorFlow puts the odd pixel at the bottom and right
            x = np.pad(x, ((0, 0), ((k - 1) // 2, k // 2), ((k - 1) // 2, k // 2), (0, 0)))
        x = x[:, ::stride, ::stride]
        h, w_ = x.shape[1] - k + 1, x.shape[2] - k + 1
        return sum(x[:, i:i + h, j:j + w_] @ w[i, j] for i in range(k) for j in range(k))

    def bn(x):
        if training:
            return (x - x.mean(axis=(0, 1, 2))) / np.sqrt(x.var(axis=(0, 1, 2)) + 1e-3)
        return x / np.sqrt(1 + 1e-3)

    F1, F2, F3 = filters
    stride = 1 if s is None else s
    out = np.maximum(bn(conv(x, F1, 1, stride)), 0)
    out = np.maximum(bn(conv(out, F2, f)), 0)
    out = bn(conv(out, F3, 1))
    shortcut = x if s is None else bn(conv(x, F3, 1, stride))
    return np.maximum(out + shortcut, 0)


def check_references_against_numpy(assignment: str, exercise, stride) -> None:
    """Every stored case of ``exercise``: known-weights outputs equal :func:`numpy_block`; Glorot has their shape."""
    for part in engine.PARTS:
        stored = references.stored(assignment, exercise.name, part)
        for case in exercise.cases[part]:
            x = _blocks.data(case).astype(np.float64)
            for mode in _blocks.MODES:
                expected = numpy_block(x, case["f"], case["filters"], mode == "training", stride(case))
                np.testing.assert_allclose(stored[case.name][f"known_{mode}"], expected, atol=1e-4, rtol=1e-4,
                                           err_msg=f"{part} {case.name} {mode}")
                assert stored[case.name][f"glorot_{mode}"].shape == expected.shape


def test_references_agree_with_a_numpy_forward_pass():
    check_references_against_numpy(ID, checks.CHECKS.by_name[EXERCISE], stride=lambda case: None)


def failure(entry_id: str) -> str:
    entry = next(m for m in catalogue.MISTAKES if m.id == entry_id)
    answer = solution_namespace(notebook_path(ID), {EXERCISE: entry.code})[EXERCISE]
    with pytest.raises(CheckFailed) as raised:
        checks.check_identity_block(answer)
    return raised.value.message()


def test_a_tensorflow_function_on_a_keras_tensor_is_not_blamed_on_the_add():
    message = failure("tf_nn_relu_on_keras_tensor")
    assert "keras.ops" in message and "layers.ReLU()" in message
    assert "same shape" not in message and "Traceback" not in message


def test_an_add_of_two_shapes_gets_the_shape_hint_and_the_students_line():
    message = failure("shortcut_added_too_early_crash")
    assert "the two tensors added must have the same shape" in message
    assert "X = Add()([X, X_shortcut])" in message
