"""Notebook 06 (transfer learning and class activation maps): what is specific to its checks and references.

The answer catalogue (mistakes, hard-coded and alternative answers) is in ``catalogues/cam.py`` and is run by
``test_catalogues.py``; the nbgrader run by ``test_nbgrader.py``. Here the stored references are proved right
independently of the solution's code, where possible:

* a CAM is the Dense kernel's column applied to the feature maps (a one-hot kernel gives that channel back), and
  at the last feature map of a GAP + Dense model Grad-CAM is ReLU(CAM) / (H W);
* Grad-CAM equals the checks' own computation on a flat graph of the same layers, whatever the nesting;
* bilinear upsampling agrees with a NumPy half-pixel resize and with tf.image.resize;
* the pointing game and the mass inside agree with plain loops, and with hand-made masks worked out by hand;
* the transfer model's probabilities are softmax(mean(base(x)) @ kernel + bias), its unfreezing follows the names.
"""
from __future__ import annotations

import inspect

import numpy as np
import pytest

from course_autograde.notebook_code import answer_sources, notebook_path, read_notebook
from course_utils import cam, references
from course_utils.checks import cam as checks
from course_utils.checks.mistakes import cam as mistakes

ID = "06_transfer_cam"
PARTS = ("visible", "hidden")


@pytest.fixture(scope="module")
def stored():
    return references.load(ID)


def cases(exercise):
    return [(part, case) for part in PARTS for case in checks.CHECKS.by_name[exercise].cases[part]]


# ============================================================================ one source of truth
def test_answer_cells_hold_the_code_of_course_utils_cam():
    answers = answer_sources(read_notebook(notebook_path(ID)))
    assert list(answers) == ["build_transfer_model", "unfreeze_top", "class_activation_map", "upsample_and_normalise",
                             "grad_cam", "pointing_game_hit", "mass_inside"]
    for name, source in answers.items():
        without_markers = "\n".join(line for line in source.splitlines()
                                    if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))
        assert without_markers.strip() == inspect.getsource(getattr(cam, name)).strip(), name


# ============================================================================ class activation maps
def test_cam_of_a_one_hot_kernel_is_that_channel():
    maps = np.random.default_rng(0).random((5, 7, 4)).astype(np.float32)
    kernel = np.zeros((4, 3), dtype=np.float32)
    kernel[2, 1] = 1.0
    np.testing.assert_array_equal(cam.class_activation_map(maps, kernel, 1), maps[:, :, 2])
    np.testing.assert_array_equal(cam.class_activation_map(maps, kernel, 0), np.zeros((5, 7)))


def test_cam_references_are_the_weighted_sum_of_the_channels(stored):
    for part, case in cases("class_activation_map"):
        maps, kernel = checks.cam_inputs(case)
        expected = sum(kernel[k, case["class_index"]] * maps[:, :, k] for k in range(maps.shape[-1]))
        np.testing.assert_allclose(stored["class_activation_map"][part][case.name], expected, atol=1e-5)


def test_grad_cam_at_the_last_feature_map_is_the_relu_of_the_cam_over_its_area(stored):
    """d logit_c / d f_k(x, y) = w_k^c / (H W) after a global average pooling: Grad-CAM = ReLU(CAM) / (H W)."""
    checked = 0
    for part, case in cases("grad_cam"):
        stages = case["base"]["stages"]
        if case["layer"] != f"conv{len(stages) + 1}_block{stages[-1][1]}_out":  # not the last feature map
            continue
        model, probe = checks.grad_cam_models(case)
        features = np.asarray(probe(checks.grad_cam_images(case))[1])
        kernel = np.asarray(model.get_layer(checks.DENSE).kernel)
        maps = np.stack([cam.class_activation_map(f, kernel, case["class_index"]) for f in features])
        area = features.shape[1] * features.shape[2]
        np.testing.assert_allclose(stored["grad_cam"][part][case.name], np.maximum(maps, 0) / area,
                                   atol=1e-6, rtol=1e-4, err_msg=case.name)
        checked += 1
    assert checked >= 2


def test_grad_cam_references_agree_with_the_checks_flat_graph(stored):
    for part, case in cases("grad_cam"):
        np.testing.assert_allclose(stored["grad_cam"][part][case.name], mistakes.grad_cam_variant(case),
                                   atol=1e-6, rtol=1e-4, err_msg=case.name)


def test_grad_cam_is_the_same_for_a_sequential_and_a_doubly_nested_model():
    """Two nestings a student may build: a Sequential transfer model, and a classifier nested after a
    preprocessing layer (as keras.applications models often are), its base nested inside it."""
    import keras
    from keras import layers

    case = checks.GRAD_CAM_CASES["visible"][0]
    model, _ = checks.grad_cam_models(case)
    images = checks.grad_cam_images(case)
    expected = cam.grad_cam(model, images, case["layer"], case["class_index"])
    base, _ = checks.tiny_base(case["base"])
    sequential = keras.Sequential([keras.Input(case["base"]["input"]), base,
                                   layers.GlobalAveragePooling2D(name="avg_pool"),
                                   layers.Dense(case["classes"], activation="softmax", name="predictions")])
    checks.set_model_weights(sequential)
    inner_base, _ = checks.tiny_base({**case["base"], "name": "resnet_features"})
    pooled = layers.GlobalAveragePooling2D(name="avg_pool")(inner_base.output)
    classifier = keras.Model(inner_base.input, layers.Dense(case["classes"], activation="softmax",
                                                            name="predictions")(pooled), name="resnet")
    checks.set_model_weights(classifier)
    inputs = keras.Input(case["base"]["input"])
    outer = keras.Model(inputs, classifier(layers.Identity(name="preprocess")(inputs)))
    for other in (sequential, outer):
        np.testing.assert_allclose(cam.grad_cam(other, images, case["layer"], case["class_index"]), expected,
                                   atol=1e-6, rtol=1e-5)


def test_visible_grad_cam_cases_cover_the_nested_trap_and_a_flat_model():
    visible = checks.GRAD_CAM_CASES["visible"]
    assert {case["nested"] for case in visible} == {True, False}
    assert len({case["layer"] for case in visible if case["nested"]}) == 2  # the last and an inner layer of the base
    visible_names = {case["base"]["name"] for case in visible if case["nested"]}
    assert not visible_names & {case["base"]["name"] for case in checks.GRAD_CAM_CASES["hidden"] if case["nested"]}


def test_strided_shortcuts_of_the_check_models_read_at_least_16_channels():
    """TensorFlow 2.21's oneDNN gradient of a 1x1 stride-2 convolution with < 16 input channels and an odd batch
    corrupts memory: no check model may have one."""
    from keras import layers

    for _, case in cases("grad_cam"):
        model, _ = checks.grad_cam_models(case)
        for layer in checks.flat_layers(model):
            if isinstance(layer, layers.Conv2D) and tuple(layer.kernel_size) == (1, 1) and layer.strides != (1, 1):
                assert layer.kernel.shape[2] >= 16, (case.name, layer.name)


# ============================================================================ upsampling
def test_numpy_bilinear_agrees_with_tf_image_resize():
    import tensorflow as tf

    for _, case in cases("upsample_and_normalise"):
        x, size = checks.upsample_input(case), tuple(case["size"])
        np.testing.assert_allclose(mistakes.bilinear(x, size), tf.image.resize(x[..., None], size).numpy()[..., 0],
                                   atol=1e-5)


def test_upsampling_references_are_min_max_of_the_numpy_bilinear_resize(stored):
    for part, case in cases("upsample_and_normalise"):
        resized = mistakes.bilinear(checks.upsample_input(case), tuple(case["size"]))
        spread = resized.max() - resized.min()
        expected = np.zeros_like(resized) if spread < 1e-12 else (resized - resized.min()) / spread
        found = stored["upsample_and_normalise"][part][case.name]
        np.testing.assert_allclose(found, expected, atol=1e-5, err_msg=case.name)
        assert found.min() >= 0 and found.max() <= 1 and not np.isnan(found).any()


# ============================================================================ localisation
def test_pointing_game_and_mass_on_hand_made_masks():
    mask = np.zeros((6, 8), dtype=np.uint8)
    mask[1:3, 5:7] = 2          # a dog: rows 1-2, columns 5-6
    mask[0, 4:8] = 255          # its boundary above and to the left
    mask[1:4, 4] = 255
    peak = np.zeros((6, 8))
    peak[5, 1] = 1.0            # 3 rows and 4 columns from the dog's pixel (2, 5): 5 pixels away
    assert cam.pointing_game_hit(peak, mask, tolerance=5) is True
    assert cam.pointing_game_hit(peak, mask, tolerance=4.9) is False
    assert cam.pointing_game_hit(peak, np.where(mask == 2, 1, mask), tolerance=5) is True  # a cat counts too
    assert cam.pointing_game_hit(peak, np.where(mask == 2, 0, mask), tolerance=5) is False  # the boundary does not
    assert cam.pointing_game_hit(peak, np.zeros_like(mask)) is False
    uniform = np.ones((6, 8))
    assert cam.mass_inside(uniform, mask) == pytest.approx(4 / 48)  # 4 dog pixels of 48, the boundary excluded
    weights = np.zeros((6, 8))
    weights[1, 5], weights[0, 4], weights[5, 0] = 3.0, 1.0, 4.0  # on the dog, on the boundary, on the background
    assert cam.mass_inside(weights, mask) == pytest.approx(3 / 8)


def test_pointing_references_agree_with_a_loop_over_the_pixels(stored):
    for part, case in cases("pointing_game_hit"):
        cam_map, mask = checks.peak_map(case), checks.case_mask(case)
        row, col = divmod(int(np.argmax(cam_map)), cam_map.shape[1])
        assert (row, col) == tuple(case["peak"])
        tolerance = 15 if case["tolerance"] is None else case["tolerance"]
        hit = any((r - row) ** 2 + (c - col) ** 2 <= tolerance ** 2
                  for r in range(mask.shape[0]) for c in range(mask.shape[1]) if mask[r, c] in (1, 2))
        assert stored["pointing_game_hit"][part][case.name] is hit, case.name


def test_mass_references_agree_with_a_loop_over_the_pixels(stored):
    for part, case in cases("mass_inside"):
        cam_map, mask = checks.mass_inputs(case)
        inside = sum(float(cam_map[r, c]) for r in range(mask.shape[0]) for c in range(mask.shape[1])
                     if mask[r, c] in (1, 2))
        assert 0 < stored["mass_inside"][part][case.name] < 1
        assert stored["mass_inside"][part][case.name] == pytest.approx(inside / float(cam_map.astype(np.float64).sum()),
                                                                       rel=1e-6)


def test_visible_pointing_cases_tell_every_catalogued_mistake_apart():
    """Each known mistake answers wrongly on some visible case, and no two give the same answers."""
    visible = checks.POINTING_CASES["visible"]
    answers = {variant: tuple(mistakes.pointing_variant(case, variant) for case in visible)
               for variant in ["correct", *mistakes.POINTING_HINTS]}
    assert len(set(answers.values())) == len(answers)


# ============================================================================ transfer learning
def test_transfer_probabilities_are_the_softmax_of_the_pooled_features_times_the_kernel(stored):
    import keras

    for part, case in cases("build_transfer_model"):
        base, _ = checks.tiny_base(case["base"])
        checks.set_model_weights(base)
        features = np.asarray(base(checks.case_images(case["seed"], (2, *case["base"]["input"]))), dtype=np.float64)
        channels, classes = features.shape[-1], case["num_classes"]
        logits = features.mean(axis=(1, 2)) @ checks.head_values("kernel", (channels, classes)) + \
            checks.head_values("bias", (classes,))
        expected = np.asarray(keras.ops.softmax(logits))
        reference = stored["build_transfer_model"][part][case.name]
        np.testing.assert_allclose(reference["probabilities"], expected, atol=1e-5)
        assert reference["training"] is False and reference["base_trainable"] == 0
        assert reference["trainable"] == (channels + 1) * classes


def test_unfreezing_references_follow_the_block_names(stored):
    for part, case in cases("unfreeze_top"):
        reference = stored["unfreeze_top"][part][case.name]
        assert reference == mistakes.unfreeze_variant(case)
        unfrozen = {name for name, trainable in reference["layer.trainable"].items() if trainable}
        blocks = checks._blocks_of(case["base"])
        top = blocks[len(blocks) - case["n_blocks"]:] if case["n_blocks"] else []
        assert {name.rsplit("_", 2)[0] for name in unfrozen} == set(top)
        assert not any(name.endswith("_bn") for name in unfrozen)
