"""Notebook 05 (ResNet-34 from a ResidualUnit layer): checks, mistake catalogue, references, nbgrader.

* Every catalogued mistake (a wrong answer cell, written as an edit of the solution) fails its check with a
  message naming the mistake.
* Other correct implementations (layers in lists, a Sequential main path built in build(), keras.ops.add,
  Add/Activation layers, a Sequential ResNet-34, a nested stem) pass.
* The stored references are right: the unit's outputs agree with an independent computation
  (:func:`checks.unit_variant`), the parameter counts with the published 21,306,826.
* One real nbgrader run grades the solution, an untouched release, two students with mistakes and one with
  alternative answers, with exact scores and feedback naming the mistakes.
"""
from __future__ import annotations

import textwrap

import numpy as np
import pytest

import grading
from course_autograde.notebook_code import answer_sources, notebook_path, read_notebook, solution_namespace
from course_utils import references
from course_utils.checks import resnet34 as checks

ID = "05_resnet34"
EXERCISES = ["ResidualUnit", "build_resnet34"]
POINTS = {"ResidualUnit": 3.0, "build_resnet34": 2.0}
SOLUTION = answer_sources(read_notebook(notebook_path(ID)))


def src(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def edit(exercise: str, *changes: tuple[str, str]) -> str:
    """The solution of ``exercise`` with each (old, new) text replaced (every old text must be there)."""
    source = SOLUTION[exercise]
    for old, new in changes:
        assert old in source, f"{old!r} is not in the solution of {exercise}"
        source = source.replace(old, new)
    return source


def run_checks(exercise: str, namespace: dict) -> None:
    grading.run_exercise_checks(checks, exercise, namespace)


# ============================================================================ wrong answers
CONV1 = 'self.conv1 = layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False)'
CONV2 = 'self.conv2 = layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False)'
SKIP = 'self.shortcut_conv = layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False)'
RETURN = "return self.activation(z + shortcut)"
MAIN2 = "z = self.bn2(self.conv2(z), training=training)"
MAIN1 = "z = self.activation(self.bn1(z, training=training))"
GET_CONFIG = SOLUTION["ResidualUnit"][SOLUTION["ResidualUnit"].index("    def get_config(self):"):]
STEM = 'x = layers.Conv2D(64, 7, strides=2, padding="same", use_bias=False)(inputs)'
UNIT_STRIDES = "strides=2 if stage > 0 and unit == 0 else 1"
POOL = 'x = layers.MaxPool2D(pool_size=3, strides=2, padding="same")(x)'
HEAD = "x = layers.GlobalAveragePooling2D()(x)"
DENSE = 'outputs = layers.Dense(classes, activation="softmax")(x)'
SCHEDULE = "[(64, 3), (128, 4), (256, 6), (512, 3)]"

# exercise -> {mistake id: (answer source, words the failure message must contain)}
MISTAKES = {
    "ResidualUnit": {
        "skip_path_always_present": (edit("ResidualUnit", ("self.projection = strides > 1", "self.projection = True")),
                                     ["skip path always present", "strides=1"]),
        "skip_path_never_present": (edit("ResidualUnit", ("self.projection = strides > 1",
                                                          "self.projection = False")),
                                    ["skip path missing", "1x1"]),
        "skip_conv_without_stride": (edit("ResidualUnit", (SKIP, SKIP.replace("1, strides=strides", "1, strides=1"))),
                                     ["skip conv without stride", "strides"]),
        "activation_before_addition_only": (edit("ResidualUnit", (RETURN, "return self.activation(z) + shortcut")),
                                            ["BEFORE the addition", "activation(main + shortcut)"]),
        "final_activation_missing": (edit("ResidualUnit", (RETURN, "return z + shortcut")),
                                     ["no activation after the addition"]),
        "activation_before_and_after_addition": (
            edit("ResidualUnit", (MAIN2, "z = self.activation(self.bn2(self.conv2(z), training=training))")),
            ["both before and after the addition"]),
        "batchnorm_missing_in_main_path": (edit("ResidualUnit", ("        self.bn2 = layers.BatchNormalization()\n", ""),
                                                (MAIN2, "z = self.conv2(z)")),
                                           ["BatchNorm missing", "expected 2 BatchNormalization"]),
        "batchnorm_missing_in_skip_path": (
            edit("ResidualUnit", ("            self.shortcut_bn = layers.BatchNormalization()\n", ""),
                 ("shortcut = self.shortcut_bn(self.shortcut_conv(inputs), training=training)",
                  "shortcut = self.shortcut_conv(inputs)")),
            ["BatchNorm missing", "expected 3 BatchNormalization", "after the shortcut"]),
        "bias_left_on": (edit("ResidualUnit", (", use_bias=False", "")), ["bias left on", "use_bias=False"]),
        "stride_on_second_conv": (edit("ResidualUnit", (CONV1, CONV1.replace("strides=strides", "strides=1")),
                                       (CONV2, CONV2.replace("strides=1", "strides=strides"))),
                                  ["stride is on the second 3x3 convolution"]),
        "missing_get_config": (edit("ResidualUnit", (GET_CONFIG, "")), ["missing get_config", "NotImplementedError"]),
        "get_config_without_activation": (
            edit("ResidualUnit", (',\n                "activation": keras.activations.serialize(self.activation)',
                                  "")),
            ["lacks activation"]),
        "activation_argument_ignored": (edit("ResidualUnit", ("self.activation = keras.activations.get(activation)",
                                                              "self.activation = keras.activations.relu")),
                                        ["you always use ReLU", "activation='elu'"]),
        "batchnorm_always_in_training_mode": (edit("ResidualUnit", ("training=training", "training=True")),
                                              ["training mode", "although training=False"]),
        "no_activation_between_convs": (edit("ResidualUnit", (MAIN1, "z = self.bn1(z, training=training)")),
                                        ["activation between the two convolutions is missing"]),
        "activation_before_batchnorm": (edit("ResidualUnit", (MAIN1, "z = self.bn1(self.activation(z), "
                                                                     "training=training)")),
                                        ["activation comes before the BatchNorm"]),
        "padding_valid": (edit("ResidualUnit", (CONV1, CONV1.replace('"same"', '"valid"'))), ["padding='valid'"]),
        "no_shortcut_added": (edit("ResidualUnit", (RETURN, "return self.activation(z)")),
                              ["shortcut is missing"]),
    },
    "build_resnet34": {
        "fifteen_units": (edit("build_resnet34", (SCHEDULE, SCHEDULE.replace("(256, 6)", "(256, 5)"))),
                          ["expected 16 residual units, found 15", "wrong filter schedule"]),
        "wrong_filter_schedule": (edit("build_resnet34", (SCHEDULE, SCHEDULE.replace("(512, 3)", "(1024, 3)"))),
                                  ["unit 14 (first of the 512-filter stage) has 1024 filters, expected 512"]),
        "stride_2_at_the_first_stage": (edit("build_resnet34", (UNIT_STRIDES, "strides=2 if unit == 0 else 1")),
                                        ["unit 1 (first of the 64-filter stage) has strides 2, expected 1"]),
        "no_stride_2_anywhere": (edit("build_resnet34", (UNIT_STRIDES, "strides=1")),
                                 ["unit 4 (first of the 128-filter stage) has strides 1, expected 2"]),
        "every_unit_strided": (edit("build_resnet34", (UNIT_STRIDES, "strides=1 if stage == 0 else 2")),
                               ["unit 5 (unit 2 of the 128-filter stage) has strides 2, expected 1"]),
        "maxpool_padding_valid": (edit("build_resnet34", (POOL, POOL.replace('"same"', '"valid"'))),
                                  ["max pooling has padding='valid', expected 'same'", "55x55"]),
        "stem_conv_with_bias": (edit("build_resnet34", (STEM, STEM.replace(", use_bias=False", ""))),
                                ["the stem conv has a bias: expected use_bias=False (BatchNorm follows)"]),
        "stem_relu_inside_the_conv": (edit("build_resnet34", (STEM, STEM.replace("use_bias=False",
                                                                                 'use_bias=False, activation="relu"')),
                                           ('    x = layers.Activation("relu")(x)\n', "")),
                                      ["the stem conv applies 'relu' itself"]),
        "stem_stride_1": (edit("build_resnet34", (STEM, STEM.replace("strides=2", "strides=1"))),
                          ["the stem conv has strides=(1, 1), expected (2, 2)"]),
        "flatten_instead_of_global_pooling": (edit("build_resnet34", (HEAD, "x = layers.Flatten()(x)")),
                                              ["no GlobalAveragePooling2D"]),
        "no_softmax": (edit("build_resnet34", (DENSE, "outputs = layers.Dense(classes)(x)")),
                       ["expected: 'softmax'"]),
        "fixed_number_of_classes": (edit("build_resnet34", (DENSE, DENSE.replace("(classes,", "(10,"))),
                                    ["the Dense layer has 10 units, expected 2"]),
    },
}


# ============================================================================ other correct answers
UNIT_HEAD = '''
class ResidualUnit(layers.Layer):
    def __init__(self, filters, strides=1, activation="relu", **kwargs):
        super().__init__(**kwargs)
        self.filters, self.strides = filters, strides
        self.activation = keras.activations.get(activation)
'''
UNIT_CONFIG = '''
    def get_config(self):
        config = super().get_config()
        config.update(filters=self.filters, strides=self.strides,
                      activation=keras.activations.serialize(self.activation))
        return config
'''
ALTERNATIVES = {
    "ResidualUnit": {
        # Layers kept in two lists, applied in loops; no registration (custom_objects is used to reload).
        "layers_in_lists": src(UNIT_HEAD) + "\n" + textwrap.indent(src('''
            self.main_layers = [
                layers.Conv2D(filters, 3, strides=strides, padding="same", use_bias=False),
                layers.BatchNormalization(),
                layers.Activation(self.activation),
                layers.Conv2D(filters, 3, strides=1, padding="same", use_bias=False),
                layers.BatchNormalization(),
            ]
            self.skip_layers = []
            if strides > 1:
                self.skip_layers = [layers.Conv2D(filters, 1, strides=strides, padding="same", use_bias=False),
                                    layers.BatchNormalization()]
        '''), " " * 8) + "\n" + textwrap.indent(src('''
        def call(self, inputs, training=None):
            main, skip = inputs, inputs
            for layer in self.main_layers:
                main = layer(main, training=training)
            for layer in self.skip_layers:
                skip = layer(skip, training=training)
            return self.activation(main + skip)
        '''), " " * 4) + "\n" + textwrap.indent(src(UNIT_CONFIG), " " * 4),
        # A Sequential main path and shortcut created in build(), keras.ops.add, registered without a package.
        "sequential_paths_built_in_build": "@keras.saving.register_keras_serializable()\n" + src(UNIT_HEAD) + "\n"
        + textwrap.indent(src('''
        def build(self, input_shape):
            conv = lambda size, stride: layers.Conv2D(self.filters, size, strides=stride, padding="same",
                                                      use_bias=False)
            self.main = keras.Sequential([conv(3, self.strides), layers.BatchNormalization(),
                                          layers.Activation(self.activation), conv(3, 1),
                                          layers.BatchNormalization()])
            self.shortcut = None
            if self.strides > 1:
                self.shortcut = keras.Sequential([conv(1, self.strides), layers.BatchNormalization()])
                self.shortcut.build(input_shape)
            self.main.build(input_shape)

        def call(self, inputs, training=None):
            skip = inputs if self.shortcut is None else self.shortcut(inputs, training=training)
            return self.activation(keras.ops.add(self.main(inputs, training=training), skip))
        '''), " " * 4) + "\n" + textwrap.indent(src(UNIT_CONFIG), " " * 4),
        # Shortcut created first, Add and Activation layers, training reaching the BatchNorms through Keras' call
        # context (Keras 3) rather than explicitly.
        "add_layer_shortcut_first": src(UNIT_HEAD) + "\n" + textwrap.indent(src('''
            self.has_projection = strides != 1
            if self.has_projection:
                self.skip_conv = layers.Conv2D(filters, (1, 1), strides=(strides, strides), use_bias=False,
                                               padding="same")
                self.skip_norm = layers.BatchNormalization(axis=-1)
            self.conv_a = layers.Conv2D(filters, (3, 3), strides=(strides, strides), use_bias=False, padding="same")
            self.norm_a = layers.BatchNormalization(axis=-1)
            self.act_a = layers.Activation(self.activation)
            self.conv_b = layers.Conv2D(filters, (3, 3), use_bias=False, padding="same")
            self.norm_b = layers.BatchNormalization(axis=-1)
            self.add = layers.Add()
            self.act_out = layers.Activation(self.activation)
        '''), " " * 8) + "\n" + textwrap.indent(src('''
        def call(self, inputs):
            skip = self.skip_norm(self.skip_conv(inputs)) if self.has_projection else inputs
            main = self.norm_b(self.conv_b(self.act_a(self.norm_a(self.conv_a(inputs)))))
            return self.act_out(self.add([main, skip]))
        '''), " " * 4) + "\n" + textwrap.indent(src(UNIT_CONFIG), " " * 4),
    },
    "build_resnet34": {
        # Sequential, a previous-filters loop, ReLU() and MaxPooling2D classes, Flatten after the pooling.
        "sequential_previous_filters": src('''
            def build_resnet34(input_shape=(224, 224, 3), classes=10):
                model = keras.Sequential([
                    keras.Input(shape=input_shape),
                    layers.Conv2D(64, (7, 7), strides=(2, 2), padding="same", use_bias=False),
                    layers.BatchNormalization(),
                    layers.ReLU(),
                    layers.MaxPooling2D(pool_size=(3, 3), strides=(2, 2), padding="same"),
                ])
                previous = 64
                for filters in [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3:
                    model.add(ResidualUnit(filters, strides=1 if filters == previous else 2))
                    previous = filters
                model.add(layers.GlobalAveragePooling2D())
                model.add(layers.Flatten())
                model.add(layers.Dense(classes, activation="softmax"))
                return model
        '''),
        # The stem as a nested Sequential model, positional strides, units listed per stage.
        "nested_stem_positional_strides": src('''
            def build_resnet34(input_shape=(224, 224, 3), classes=10):
                stem = keras.Sequential([layers.Conv2D(64, 7, 2, padding="same", use_bias=False),
                                         layers.BatchNormalization(), layers.Activation("relu"),
                                         layers.MaxPool2D(3, 2, padding="same")], name="stem")
                units = []
                for filters, count in zip([64, 128, 256, 512], [3, 4, 6, 3]):
                    units.append(ResidualUnit(filters, 1 if filters == 64 else 2, "relu"))
                    units += [ResidualUnit(filters, 1) for _ in range(count - 1)]
                inputs = keras.Input(input_shape)
                x = stem(inputs)
                for unit in units:
                    x = unit(x)
                x = layers.GlobalAvgPool2D()(x)
                return keras.Model(inputs, layers.Dense(classes, activation="softmax")(x))
        '''),
    },
}

globals().update(grading.exercises_catalogue_tests(ID, checks, MISTAKES, ALTERNATIVES))


def test_model_check_does_not_depend_on_the_students_unit():
    """A broken ResidualUnit costs the unit's points only: the ResNet-34 check uses a stand-in."""
    broken = MISTAKES["ResidualUnit"]["missing_get_config"][0].replace(
        "        self.filters = filters\n", "        raise ValueError('broken')\n")
    namespace = solution_namespace(notebook_path(ID), {"ResidualUnit": broken})
    run_checks("build_resnet34", namespace)
    assert namespace["ResidualUnit"].__name__ == "ResidualUnit"  # the stand-in was removed again


def test_catalogue_size():
    assert len(MISTAKES["ResidualUnit"]) >= 8 and len(MISTAKES["build_resnet34"]) >= 6
    assert all(len(ALTERNATIVES[exercise]) >= 2 for exercise in EXERCISES)


# ============================================================================ references
@pytest.fixture(scope="module")
def stored():
    return references.load(ID)


def test_references_agree_with_an_independent_computation(stored):
    """The solution's outputs (known weights) equal a plain keras.ops computation of the unit."""
    for part, cases in checks.UNIT_CASES.items():
        for name, case in cases.items():
            x = checks.random_input(case["seed"], case["shape"])
            for mode in checks.MODES:
                computed = checks.unit_variant(x, case["filters"], case["strides"], case["activation"], mode)
                np.testing.assert_allclose(stored["ResidualUnit"][part][name][mode], computed, atol=2e-5,
                                           err_msg=f"{part}/{name}/{mode}")


def test_references_cover_both_strides_and_modes(stored):
    strides = {case["strides"] for cases in checks.UNIT_CASES.values() for case in cases.values()}
    assert {1, 2} <= strides
    for part in ("visible", "hidden"):
        for outputs in stored["ResidualUnit"][part].values():
            assert set(outputs) == {"inference", "training"}
            assert not np.allclose(outputs["inference"], outputs["training"])


def test_resnet34_has_the_published_parameter_counts(stored):
    counts = stored["build_resnet34"]["visible"]["224x224x3_10_classes"]
    assert (counts["params"], counts["trainable"], counts["non_trainable"]) == (21_306_826, 21_289_802, 17_024)
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
    namespace = solution_namespace(notebook_path(ID))
    case = checks.UNIT_CASES["visible"]["strides2_relu"]
    x = checks.random_input(case["seed"], case["shape"])
    import keras

    outputs = []
    for seed in (1, 2):
        keras.utils.set_random_seed(seed)
        unit = namespace["ResidualUnit"](case["filters"], strides=case["strides"])
        outputs.append(checks.run_unit(unit, x, "inference"))
    np.testing.assert_array_equal(outputs[0], outputs[1])


# ============================================================================ one real nbgrader run
STUDENT_MISTAKES = {
    "mistakes_a": {"ResidualUnit": "final_activation_missing", "build_resnet34": "stride_2_at_the_first_stage"},
    "mistakes_b": {"ResidualUnit": "missing_get_config"},
}
ALTERNATIVE_STUDENT = {"ResidualUnit": "sequential_paths_built_in_build",
                       "build_resnet34": "sequential_previous_filters"}
STUDENTS, HINTS = grading.class_from_catalogue(MISTAKES, ALTERNATIVES, STUDENT_MISTAKES, ALTERNATIVE_STUDENT)
globals().update(grading.nbgrader_tests(ID, POINTS, STUDENTS, HINTS))
