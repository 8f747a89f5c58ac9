"""Checks of notebook 05 (ResNet-34 from a ``ResidualUnit`` layer), as data for :mod:`.engine`.

``ResidualUnit`` is read three ways:

* its structure (the Conv2D and BatchNormalization layers it holds: kernel
  sizes, strides, padding, biases, the projection shortcut), read right after
  the unit is built on each case and before its outputs are compared, so that
  most mistakes are named directly (:func:`inspect_unit`);
* its outputs on every case, in inference and in training mode, after every
  weight has been set from a fixed formula (:func:`set_known_weights`), so the
  comparison does not depend on random initialisation. A difference is
  explained by the outputs of known mistakes (computed in :mod:`.mistakes.resnet34`, stored for the visible cases);
* the Keras protocol (:mod:`.protocol`): ``get_config``/``from_config`` with
  the activation passed as a *function*, and a ``.keras`` save/load round trip.

``build_resnet34`` is built with a light stand-in for ``ResidualUnit`` (so it
is graded on its own, whatever the state of the previous exercise). Its
description (input and output shapes, the stem and head layers' settings, the
16 units' filters and strides, the parameter counts) is compared with the
solution's by :func:`compare_model`, which names a wrong stem, schedule or head.
No image goes through the 224x224 model, so the check takes a few seconds.

Accepted variants (they compute the same thing):

* ResidualUnit: layers created in ``__init__`` or in ``build()``, held as
  attributes, in lists or in ``keras.Sequential`` paths; the activation as
  the function, ``layers.Activation(...)`` or ``ReLU()``; ``z + shortcut``,
  ``layers.Add()`` or ``keras.ops.add``; ``3`` or ``(3, 3)``, ``strides`` or
  ``(strides, strides)``; ``BatchNormalization(axis=-1)`` or ``axis=3``; the
  projection made ``if strides > 1`` or ``if strides != 1``; ``training``
  passed explicitly or through Keras 3's call context; registered for
  serialisation or not (the reload passes ``custom_objects``).
* build_resnet34: functional or Sequential, nested models (a stem as its own
  Sequential), ``MaxPool2D``/``MaxPooling2D``, ``Activation("relu")``/
  ``ReLU()``, ``GlobalAvgPool2D``, a ``Flatten`` after the global pooling,
  positional arguments, and the Keras-applications stem
  ``ZeroPadding2D(3)`` + ``Conv2D(..., padding="valid")`` and
  ``ZeroPadding2D(1)`` + ``MaxPool2D(..., padding="valid")``, which gives the
  same output sizes as ``padding="same"`` for every input size and the same weights.

Rejected, and why (the messages say so):

* a bias on a convolution: the BatchNorm right after removes it (its beta is
  the bias), so the weights are wasted and ResNet-34's published count
  (21,306,826) changes;
* ``padding="valid"`` alone: the convolutions shrink the image, the shortcut
  no longer fits and the stem's 56x56 becomes 55x55;
* a projection shortcut when ``strides=1`` (the unit's shortcut is then the
  input itself), no projection when ``strides > 1``, the stride on the second
  3x3 convolution, a fixed stride or a stride in one direction only: each is
  a different network (other outputs, other shapes or other weights);
* no ``get_config``, or one without the activation: a model saved after
  training (as the notebook does) could not be rebuilt with the same layer;
* other layers between the units (each unit already ends with its
  activation), a ``Flatten`` instead of the global pooling (many more weights,
  and the model is tied to one image size), no softmax (the course trains
  with ``sparse_categorical_crossentropy`` on probabilities).

Inputs (shapes, seeds) are defined here; outputs come from the solution
notebook through the same ``run`` functions (``build_references``).
"""
from __future__ import annotations

import contextlib

import numpy as np

from . import engine, protocol
from .core import fail
from .graph import activation_name, flat_layers, inner_layers, kind, pair
from .known_weights import known_values, set_known_weights

BN_EPSILON = 1e-3  # Keras' default
MODES = ("inference", "training")

# ----------------------------------------------------------------------------- ResidualUnit: cases
# seed of the input, input shape, filters, strides, activation (a name). strides=3 is visible so that a
# stride written as a fixed 2 (or a projection made only when strides == 2) fails the visible check.
UNIT_CASES = engine.Parts(
    visible=engine.cases({
        "strides1_relu": dict(seed=1, shape=(2, 6, 6, 4), filters=4, strides=1, activation="relu"),
        "strides2_relu": dict(seed=2, shape=(2, 7, 7, 3), filters=5, strides=2, activation="relu"),
        "strides2_elu": dict(seed=3, shape=(2, 6, 5, 2), filters=3, strides=2, activation="elu"),
        "strides3_relu": dict(seed=4, shape=(2, 8, 7, 3), filters=4, strides=3, activation="relu"),
    }),
    hidden=engine.hidden_cases("05_resnet34", "UNIT_CASES"))
# The protocol: the activation is passed as a FUNCTION (keras.activations.<name>), which Keras 3 cannot
# record by itself: only a real get_config() makes the layer reloadable.
CONFIG_CASES = engine.Parts(
    visible=dict(filters=7, strides=2, activation="elu"),
    hidden=engine.hidden_value("05_resnet34", "CONFIG_CASES"))
SAVE_CASES = engine.Parts(
    visible=dict(seed=21, shape=(2, 8, 8, 3), units=[(4, 2, "relu"), (4, 1, "relu")]),
    hidden=engine.hidden_value("05_resnet34", "SAVE_CASES"))
GET_CONFIG = ("return {**super().get_config(), 'filters': self.filters, 'strides': self.strides, "
              "'activation': keras.activations.serialize(self.activation)}")


def random_input(seed: int, shape) -> np.ndarray:
    """The deterministic float32 input of a case (standard normal values)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def run_unit(unit, x, mode: str) -> np.ndarray:
    """Output of ``unit`` on ``x`` with known weights (set again: training mode updates the statistics)."""
    if not unit.built or not unit.weights:
        unit(x, training=False)  # create the weights first
    set_known_weights(unit)
    return np.asarray(unit(x, training=(mode == "training"))).astype(np.float32)


# ----------------------------------------------------------------------------- ResidualUnit: structure
def inspect_unit(unit, case, crashed: bool = False) -> None:
    """Name structural mistakes from the Conv2D/BatchNormalization layers the unit holds.

    ``crashed``: the unit's first call raised; only what can be read without
    that call is inspected (layers made in ``build()`` may not exist).
    """
    from keras import layers

    what = unit_call(case)
    filters, strides = case["filters"], case["strides"]
    inner = inner_layers(unit)
    convs = [layer for layer in inner if isinstance(layer, layers.Conv2D)]
    norms = [layer for layer in inner if isinstance(layer, layers.BatchNormalization)]
    if not convs:
        if crashed:
            return
        fail(f"{what} holds no Conv2D layer", expected="two 3x3 Conv2D (plus a 1x1 one when strides > 1)",
             found=", ".join(type(layer).__name__ for layer in inner) or "no layers",
             hint="create the layers in __init__ (e.g. self.conv1 = layers.Conv2D(...)) and use them in call().")
    with_bias = [layer for layer in convs if layer.use_bias]
    if with_bias:
        fail(f"{what}: {len(with_bias)} of its Conv2D layers have a bias", expected="use_bias=False everywhere",
             found=f"use_bias=True on {len(with_bias)} convolution(s)",
             hint="bias left on: pass use_bias=False to every Conv2D of the unit; the BatchNormalization right "
                  "after it removes the mean anyway (its beta acts as the bias).")
    not_same = [layer for layer in convs if layer.padding != "same"]
    if not_same:
        fail(f"{what}: a Conv2D uses padding={not_same[0].padding!r}", expected="padding='same' everywhere",
             found=f"padding={not_same[0].padding!r}",
             hint="with padding='valid' the 3x3 convolutions shrink the image and the shortcut no longer fits: "
                  "use padding='same'.")
    wrong_filters = [layer for layer in convs if layer.filters != filters]
    if wrong_filters:
        fail(f"{what}: a Conv2D has {wrong_filters[0].filters} filters", expected=f"{filters} filters in every "
             f"Conv2D", found=sorted({layer.filters for layer in convs}),
             hint="every convolution of the unit (main path and shortcut) has `filters` filters.")
    sizes = [pair(layer.kernel_size) for layer in convs]
    odd = [s for s in sizes if s not in ((3, 3), (1, 1))]
    if odd:
        fail(f"{what}: a Conv2D has a {odd[0][0]}x{odd[0][1]} kernel", expected="3x3 (main path) and 1x1 "
             "(shortcut)", found=[f"{a}x{b}" for a, b in sizes],
             hint="the basic unit's main path has two 3x3 convolutions; the shortcut's projection is 1x1.")
    main = [layer for layer in convs if pair(layer.kernel_size) == (3, 3)]
    projection = [layer for layer in convs if pair(layer.kernel_size) == (1, 1)]
    if len(main) != 2:
        fail(f"{what}: expected two 3x3 convolutions on the main path, found {len(main)}",
             expected=2, found=len(main), hint="main path: Conv2D 3x3 -> BN -> activation -> Conv2D 3x3 -> BN.")
    one_direction = [pair(layer.strides) for layer in convs if len(set(pair(layer.strides))) > 1]
    if one_direction:
        fail(f"{what}: a Conv2D has strides {one_direction[0]}", expected=f"({strides}, {strides}) or 1",
             found=one_direction[0],
             hint="stride applied in one direction only: strides=(s, 1) halves only the height. Pass "
                  "strides=strides (one number applies to both directions).")
    if strides == 1 and projection:
        fail(f"{what}: the shortcut has a 1x1 convolution although strides=1",
             expected="an identity shortcut (the input itself)", found=f"{len(projection)} 1x1 Conv2D",
             hint="skip path always present: when strides == 1 the shortcut is the input itself; create the 1x1 "
                  "convolution and its BatchNorm only `if strides > 1`.")
    if strides > 1 and len(projection) != 1:
        fail(f"{what}: expected one 1x1 convolution on the shortcut, found {len(projection)}", expected=1,
             found=len(projection),
             hint="skip path missing: whenever strides > 1 (2, 3...) the main path shrinks the image and changes "
                  "the channels, so the shortcut must be projected: Conv2D(filters, 1, strides=strides) -> "
                  "BatchNormalization.")
    if projection and pair(projection[0].strides) != (strides, strides):
        found = pair(projection[0].strides)
        fail(f"{what}: the shortcut's 1x1 convolution has strides {found}", expected=(strides, strides),
             found=found, hint=("skip conv without stride: the 1x1 convolution of the shortcut needs "
                                "strides=strides, like the first 3x3 convolution, so both paths have the same "
                                "height and width." if found == (1, 1) else
                                f"the shortcut's stride is a fixed {found[0]}: use strides=strides (here "
                                f"{strides}), the argument of __init__."))
    main_strides = sorted(pair(layer.strides) for layer in main)
    if main_strides != sorted([(strides, strides), (1, 1)]):
        fixed = [s for s in main_strides if s not in ((1, 1), (strides, strides))]
        hint = (f"the first 3x3 convolution's stride is a fixed {fixed[0][0]}: use strides=strides (here "
                f"{strides}), the argument of __init__." if fixed else
                "the main path is not strided: the first 3x3 convolution takes strides=strides."
                if main_strides == [(1, 1), (1, 1)] else
                "only the FIRST 3x3 convolution is strided (strides=strides); the second has strides=1.")
        fail(f"{what}: the 3x3 convolutions have strides {main_strides}",
             expected=f"strides={strides} on the first, 1 on the second", found=main_strides, hint=hint)
    expected_norms = 2 + (strides > 1)
    if len(norms) != expected_norms:
        where = "one after each 3x3 convolution" + (" and one after the shortcut's 1x1 convolution"
                                                     if strides > 1 else "")
        fail(f"{what}: expected {expected_norms} BatchNormalization layers, found {len(norms)}",
             expected=f"{expected_norms} ({where})", found=len(norms),
             hint=("BatchNorm missing" if len(norms) < expected_norms else "too many BatchNormalization layers")
             + f": a BatchNormalization follows every convolution ({where}), nothing else.")
    channels = case["shape"][-1]
    if not crashed and strides > 1 and channels != filters:
        first = [layer for layer in main if int(layer.kernel.shape[2]) == channels]
        if first and pair(first[0].strides) != (strides, strides):
            fail(f"{what}: the stride is on the second 3x3 convolution", expected="strides on the first one",
                 found="strides on the second one", hint=UNIT_HINTS["stride_on_second"])


# ----------------------------------------------------------------------------- ResidualUnit: outputs
def unit_call(case) -> str:
    return f"ResidualUnit({case['filters']}, strides={case['strides']}, activation={case['activation']!r})"


def describe_unit(case) -> str:
    return f"{unit_call(case)} on an input of shape {tuple(case['shape'])} (known weights)"


def run_residual_unit(unit_class, case) -> dict:
    """The unit's outputs with known weights, per mode; its structure is inspected first."""
    x = random_input(case["seed"], case["shape"])
    unit = unit_class(case["filters"], strides=case["strides"], activation=case["activation"])
    try:
        # builds the inner layers. Eagerly: a symbolic call would wrap the student's error in Keras'
        # "could not infer the output shape" message
        unit(x, training=False)
    except Exception:
        inspect_unit(unit, case, crashed=True)  # a structural mistake explains the crash better
        raise
    inspect_unit(unit, case)
    return {mode: run_unit(unit, x, mode) for mode in MODES}








UNIT_HINTS = {
    "no_final_activation": "there is no activation after the addition: return activation(main + shortcut).",
    "activation_before_add": "you applied the activation to the main path BEFORE the addition instead of after "
                             "it: the main path ends with BatchNorm, and the unit returns activation(main + "
                             "shortcut).",
    "extra_activation": "you applied the activation both before and after the addition: the main path ends "
                        "with BatchNorm (no activation), the activation comes only after the addition.",
    "no_inner_activation": "the activation between the two convolutions is missing (conv -> BN -> activation -> "
                           "conv -> BN).",
    "act_before_bn": "on the main path the activation comes before the BatchNorm; the order is conv -> BN -> "
                     "activation.",
    "stride_on_second": "the stride is on the SECOND 3x3 convolution: put strides=strides on the first one "
                        "(and the 1x1 shortcut), strides=1 on the second.",
    "relu_always": "you always use ReLU: use the activation given to __init__ "
                   "(self.activation = keras.activations.get(activation)) in both places.",
    "bn_always_training": "the BatchNorms ran in training mode (batch statistics) although training=False: "
                          "pass training=training to them instead of training=True.",
    "bn_never_training": "the BatchNorms ignored training=True (they used their running averages): pass "
                         "training=training to them instead of training=False.",
    "no_shortcut": "the shortcut is missing: add the input (or its 1x1 projection when strides > 1) to the "
                   "main path before the final activation.",
    "shortcut_activation": "the projected shortcut went through the activation: the shortcut is only "
                           "Conv2D 1x1 -> BatchNorm; the one activation comes after the addition.",
}


def _not_downsampled(case, found, expected) -> bool:
    return case["strides"] > 1 and tuple(np.shape(found["inference"])[1:3]) == tuple(case["shape"][1:3])


def _wrong_channels(case, found, expected) -> bool:
    return np.shape(found["inference"])[-1] != case["filters"]




# ----------------------------------------------------------------------------- ResidualUnit: protocol
def _activation_read(value) -> str:
    import keras

    return keras.activations.serialize(keras.activations.get(value))


def _function_call(filters, strides, activation: str) -> str:
    return f"ResidualUnit({filters}, strides={strides}, activation=keras.activations.{activation})"


def observe_config(unit_class, part: str) -> dict:
    """What get_config/from_config record of filters, strides and the activation (given as a function)."""
    import keras

    settings = CONFIG_CASES[part]
    arguments = {**settings, "activation": keras.activations.get(settings["activation"])}
    return protocol.observe_config(unit_class, arguments, _function_call(**settings),
                                   read={"activation": _activation_read})


def judge_config(found: dict, expected: dict, part: str) -> None:
    protocol.judge_config(found, expected, "ResidualUnit", _function_call(**CONFIG_CASES[part]), GET_CONFIG)


def _save_load_model(part: str) -> str:
    settings = SAVE_CASES[part]
    described = " -> ".join(_function_call(*unit) for unit in settings["units"])
    return f"a model Input{tuple(settings['shape'][1:])} -> {described}"


def observe_save_load(unit_class, part: str) -> dict:
    """A model of units (activations given as functions, known weights) before and after a .keras round trip."""
    import keras

    settings = SAVE_CASES[part]
    inputs = keras.Input(settings["shape"][1:])
    x = inputs
    for filters, strides, name in settings["units"]:
        unit = engine.call(unit_class, _function_call(filters, strides, name), filters, strides=strides,
                           activation=keras.activations.get(name), name="ResidualUnit")
        x = engine.call(unit, f"{_function_call(filters, strides, name)} on a keras.Input", x)
    model = keras.Model(inputs, x)
    set_known_weights(model)
    return protocol.observe_save_load(model, random_input(settings["seed"], settings["shape"]), unit_class)


def judge_save_load(found: dict, expected: dict, part: str) -> None:
    protocol.judge_save_load(found, expected, _save_load_model(part), GET_CONFIG)


# Mistakes told by the output found; those told by their outputs: mistakes.resnet34.
UNIT_MISTAKES = [
    engine.Mistake("the output was not downsampled: the first 3x3 convolution and the shortcut take "
                   "strides=strides.", test=_not_downsampled),
    engine.Mistake("the output has `filters` channels: every convolution of the unit has `filters` filters.",
                   test=_wrong_channels),
]


RESIDUAL_UNIT = engine.Exercise(
    name="ResidualUnit",
    cases=UNIT_CASES,
    run=run_residual_unit,
    describe=describe_unit,
    hint="compare your call() with the order conv -> BN -> activation -> conv -> BN, plus the shortcut, then "
         "the activation after the addition.",
    mistakes=UNIT_MISTAKES,
    catalogue="resnet34",
    probes=[engine.Probe("get_config", observe_config, judge_config),
            engine.Probe("save and reload", observe_save_load, judge_save_load)],
    requires=engine.layer_class("ResidualUnit"),
    atol=2e-4, rtol=2e-4,
)


# ----------------------------------------------------------------------------- build_resnet34: cases
# keyword arguments of the call ({}: the defaults)
MODEL_CASES = engine.Parts(
    visible=engine.cases({"224x224x3_10_classes": dict(input_shape=(224, 224, 3), classes=10)}),
    hidden=engine.hidden_cases("05_resnet34", "MODEL_CASES"))
STAGES = ((64, 3), (128, 4), (256, 6), (512, 3))
SCHEDULE = [(filters, 2 if stage > 0 and i == 0 else 1)
            for stage, (filters, units) in enumerate(STAGES) for i in range(units)]
COUNTS = (("params", "parameters"), ("trainable", "trainable parameters"),
          ("non_trainable", "non-trainable parameters (BatchNorm statistics)"))


def describe_model_case(case) -> str:
    return "build_resnet34(" + ", ".join(f"{k}={v!r}" for k, v in case.params.items()) + ")"


# ----------------------------------------------------------------------------- build_resnet34: stand-in
def _stand_in_class():
    """A light layer with the signature and the weights of a ResidualUnit (but not its computation).

    ``build_resnet34`` is built with it, to read the schedule of units and
    count the parameters without depending on the student's own ResidualUnit.
    """
    import keras

    class ResidualUnitStandIn(keras.layers.Layer):
        def __init__(self, filters, strides=1, activation="relu", **kwargs):
            super().__init__(**kwargs)
            self.filters, self.strides, self.activation = filters, strides, activation

        def build(self, input_shape):
            channels, f = int(input_shape[-1]), self.filters
            self.channels = channels
            projected = pair(self.strides) != (1, 1)
            kernels = [(3, 3, channels, f), (3, 3, f, f)] + ([(1, 1, channels, f)] if projected else [])
            for shape in kernels:
                self.add_weight(shape=shape, initializer="zeros", name="kernel")
            for _ in range(2 + projected):
                for name, trainable in (("gamma", True), ("beta", True), ("moving_mean", False),
                                        ("moving_variance", False)):
                    self.add_weight(shape=(f,), initializer="zeros", trainable=trainable, name=name)

        def call(self, inputs):
            import keras.ops as ops

            kernel = np.full((1, 1, self.channels, self.filters), 1.0 / self.channels, dtype=np.float32)
            return ops.conv(inputs, kernel, strides=self.strides, padding="same")

        def get_config(self):
            return {**super().get_config(), "filters": self.filters, "strides": self.strides,
                    "activation": self.activation}

    return ResidualUnitStandIn


@contextlib.contextmanager
def _stand_in_for(function, name="ResidualUnit"):
    """Replace the global ``ResidualUnit`` seen by ``function`` with the stand-in, for the duration."""
    namespace = getattr(function, "__globals__", {})
    stand_in = _stand_in_class()
    had, previous = name in namespace, namespace.get(name)
    namespace[name] = stand_in
    try:
        yield stand_in
    finally:
        if had:
            namespace[name] = previous
        else:
            namespace.pop(name, None)


# ----------------------------------------------------------------------------- build_resnet34: description
def layer_summary(layer) -> dict:
    """A layer's kind and the settings the stem and head checks read, as plain data."""
    from keras import layers

    entry = {"kind": kind(layer)}
    if isinstance(layer, layers.Conv2D):
        entry.update(filters=int(layer.filters), kernel_size=list(pair(layer.kernel_size)),
                     strides=list(pair(layer.strides)), padding=layer.padding, use_bias=bool(layer.use_bias),
                     activation=activation_name(layer))
    elif isinstance(layer, layers.MaxPooling2D):
        entry.update(pool_size=list(pair(layer.pool_size)), strides=list(pair(layer.strides)),
                     padding=layer.padding)
    elif isinstance(layer, layers.ZeroPadding2D):
        entry.update(padding=[list(pair(side)) for side in layer.padding])
    elif isinstance(layer, layers.Dense):
        entry.update(units=int(layer.units), activation=activation_name(layer))
    return entry


def model_counts(model) -> dict:
    trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    total = int(model.count_params())
    return {"params": total, "trainable": trainable, "non_trainable": total - trainable}


def _dims(tensor) -> list:
    return [None if d is None else int(d) for d in tensor.shape[1:]]


def run_build_resnet34(build_resnet34, case) -> dict:
    """The model built with the stand-in unit, described: shapes, stem, units, head, parameter counts."""
    import keras

    what = describe_model_case(case)
    with _stand_in_for(build_resnet34) as stand_in:
        model = build_resnet34(**case.params)
        if not isinstance(model, keras.Model):
            fail(f"{what} should return a Keras model", expected="keras.Model or keras.Sequential",
                 found=type(model).__name__, hint="return the model at the end of the function.")
        inputs = None
        with contextlib.suppress(Exception):
            inputs = model.inputs if model.built else None
        if not inputs:
            fail(f"{what} returned a model that is not built", expected="a model with a known input shape",
                 found="no input shape", hint="start from keras.Input(shape=input_shape).")
        flat = flat_layers(model)
        at = [index for index, layer in enumerate(flat) if isinstance(layer, stand_in)]
        if not at:
            custom = [type(layer).__name__ for layer in flat if not type(layer).__module__.startswith("keras")]
            fail(f"{what}: expected 16 residual units, found 0", expected="16 ResidualUnit layers",
                 found=", ".join(custom) or "only built-in Keras layers",
                 hint="build the stages with your ResidualUnit class: ResidualUnit(filters, strides=...).")
        body = flat[at[0]:at[-1] + 1]
        return {"input_shape": _dims(inputs[0]), "output_shape": _dims(model.outputs[0]),
                "stem": [layer_summary(layer) for layer in flat[:at[0]]],
                "units": [[int(layer.filters), list(pair(layer.strides))] for layer in body
                          if isinstance(layer, stand_in)],
                "between": [kind(layer) for layer in body if not isinstance(layer, stand_in)],
                "head": [layer_summary(layer) for layer in flat[at[-1] + 1:]],
                **model_counts(model)}


# ----------------------------------------------------------------------------- build_resnet34: comparison
SCHEDULE_HINT = "wrong filter schedule: ResNet-34 uses [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3."
STEM = "Conv2D(64, 7, strides=2) -> BatchNormalization -> ReLU -> MaxPool2D"


def _stage_of(index: int) -> str:
    """'first of the 128-filter stage', 'unit 3 of the 256-filter stage'..."""
    filters = SCHEDULE[index][0]
    position = [i for i, (f, _) in enumerate(SCHEDULE) if f == filters].index(index)
    return f"{'first' if position == 0 else f'unit {position + 1}'} of the {filters}-filter stage"


def check_schedule(units) -> None:
    found = [(int(filters), tuple(strides)) for filters, strides in units]
    if len(found) != len(SCHEDULE):
        per_stage = {}
        for filters, _ in found:
            per_stage[filters] = per_stage.get(filters, 0) + 1
        fail(f"expected {len(SCHEDULE)} residual units, found {len(found)}",
             expected="3, 4, 6 and 3 units with 64, 128, 256 and 512 filters",
             found=", ".join(f"{n} with {f}" for f, n in per_stage.items()), hint=SCHEDULE_HINT)
    for index, ((filters, strides), (want_filters, want_strides)) in enumerate(zip(found, SCHEDULE)):
        label = f"unit {index + 1} ({_stage_of(index)})"
        if filters != want_filters:
            fail(f"{label} has {filters} filters, expected {want_filters}", expected=want_filters, found=filters,
                 hint=SCHEDULE_HINT)
        if strides != (want_strides, want_strides):
            shown = strides[0] if len(set(strides)) == 1 else strides
            if index == 0:
                hint = ("the first stage keeps the 56x56 size (the max pooling already halved it): stride 1 for "
                        "every 64-filter unit.")
            elif len(set(strides)) > 1:
                hint = "stride applied in one direction only: pass strides=2 (one number), not a pair."
            elif want_strides == 2:
                hint = "use strides=2 whenever the number of filters changes (the first unit of stages 2, 3, 4)."
            else:
                hint = "only the first unit of a stage is strided; the others use strides=1."
            fail(f"{label} has strides {shown}, expected {want_strides}", expected=want_strides, found=shown,
                 hint=hint)


def _padded_by(layers_before: list, amount: int) -> bool:
    """The layer just before is ZeroPadding2D(amount): then padding='valid' equals padding='same'."""
    return (bool(layers_before) and layers_before[-1]["kind"] == "ZeroPadding2D"
            and layers_before[-1]["padding"] == [[amount, amount], [amount, amount]])


def check_stem(stem: list) -> None:
    kinds = [layer["kind"] for layer in stem]
    convs = [i for i, layer in enumerate(stem) if layer["kind"] == "Conv2D"]
    if len(convs) != 1:
        fail(f"expected one Conv2D before the first residual unit (the stem), found {len(convs)}",
             expected=STEM, found=kinds,
             hint="the stem is one 7x7 convolution with 64 filters, then BN, ReLU and a 3x3 max pooling.")
    conv = stem[convs[0]]
    padding = "valid" if _padded_by(stem[:convs[0]], 3) else "same"
    wanted = {"filters": 64, "kernel_size": (7, 7), "strides": (2, 2), "padding": padding}
    for key, value in wanted.items():
        setting = tuple(conv[key]) if isinstance(conv[key], list) else conv[key]
        if setting != value:
            hint = {"padding": "the stem conv uses padding='same' (no ZeroPadding2D needed)."}.get(
                key, "the stem is Conv2D(64, 7, strides=2, padding='same', use_bias=False).")
            fail(f"the stem conv has {key}={setting!r}, expected {value!r}", expected=value, found=setting,
                 hint=hint)
    if conv["use_bias"]:
        fail("the stem conv has a bias: expected use_bias=False (BatchNorm follows)", expected="use_bias=False",
             found="use_bias=True", hint="bias left on: the BatchNormalization after the convolution removes the "
                                         "mean, so the bias is wasted (64 parameters).")
    if conv["activation"] not in ("linear", None):
        fail(f"the stem conv applies {conv['activation']!r} itself, before the BatchNormalization",
             expected="Conv2D without activation -> BatchNormalization -> Activation('relu')",
             found=f"Conv2D(..., activation={conv['activation']!r})",
             hint="remove activation= from the Conv2D; put Activation('relu') after the BatchNormalization.")
    after = stem[convs[0] + 1:]
    norm = [i for i, layer in enumerate(after) if layer["kind"] == "BatchNormalization"]
    relu = [i for i, layer in enumerate(after) if layer["kind"] == "ReLU"]
    pool = [i for i, layer in enumerate(after) if layer["kind"] == "MaxPooling2D"]
    if not norm:
        fail("the stem has no BatchNormalization after its convolution", expected=STEM, found=kinds,
             hint="BatchNorm missing in the stem: add layers.BatchNormalization() right after the convolution.")
    if not relu or relu[0] < norm[0]:
        fail("the stem has no ReLU after its BatchNormalization", expected=STEM, found=kinds,
             hint="add layers.Activation('relu') (or layers.ReLU()) right after the BatchNormalization.")
    if not pool or pool[0] < relu[0]:
        fail("the stem has no max pooling after its ReLU", expected=STEM, found=kinds,
             hint="end the stem with layers.MaxPool2D(pool_size=3, strides=2, padding='same').")
    pooling = after[pool[0]]
    padding = "valid" if _padded_by(after[:pool[0]], 1) else "same"
    for key, value in {"pool_size": (3, 3), "strides": (2, 2), "padding": padding}.items():
        setting = tuple(pooling[key]) if isinstance(pooling[key], list) else pooling[key]
        if setting != value:
            hint = ("with padding='valid' a 112x112 map pools to 55x55 instead of 56x56: use padding='same'."
                    if key == "padding" else "the stem's pooling is MaxPool2D(pool_size=3, strides=2, "
                                             "padding='same').")
            fail(f"the stem's max pooling has {key}={setting!r}, expected {value!r}", expected=value,
                 found=setting, hint=hint)


def check_head(head: list, classes: int) -> None:
    kinds = [layer["kind"] for layer in head]
    if "GlobalAveragePooling2D" not in kinds:
        fail("no GlobalAveragePooling2D after the last residual unit", expected="GlobalAveragePooling2D -> Dense",
             found=kinds, hint="average each of the 512 feature maps with layers.GlobalAveragePooling2D() before "
                               "the Dense layer (Flatten alone keeps every position: many more weights).")
    if kinds[-1] != "Dense":
        fail("the model should end with a Dense layer", expected="... -> Dense(classes, activation='softmax')",
             found=kinds, hint="end with layers.Dense(classes, activation='softmax').")
    extra = [k for k in kinds[:-1] if k not in ("GlobalAveragePooling2D", "Flatten")]
    if extra:
        fail(f"unexpected layers in the head: {', '.join(extra)}",
             expected="GlobalAveragePooling2D -> (Flatten) -> Dense", found=kinds,
             hint="ResNet-34's head is only the global average pooling and one Dense layer.")
    dense = head[-1]
    if dense["units"] != classes:
        fail(f"the Dense layer has {dense['units']} units, expected {classes}", expected=classes,
             found=dense["units"], hint="use Dense(classes, ...) with the `classes` argument, not a fixed number.")
    if dense["activation"] != "softmax":
        fail(f"the Dense layer has activation {dense['activation']!r}", expected="'softmax'",
             found=dense["activation"],
             hint="use Dense(classes, activation='softmax'): the course's loss expects probabilities.")


def compare_model(found: dict, expected: dict, case) -> None:
    """Name a wrong stem, schedule or head first; then the shapes and parameter counts."""
    what = describe_model_case(case)
    if found["input_shape"] != expected["input_shape"]:
        fail(f"{what}: wrong input shape", expected=tuple(expected["input_shape"]), found=tuple(found["input_shape"]),
             hint="use keras.Input(shape=input_shape) with the argument, not a fixed shape.")
    if found["between"]:
        counted = ", ".join(f"{k} x{found['between'].count(k)}" for k in dict.fromkeys(found["between"]))
        fail(f"{what}: unexpected layers between the residual units: {counted}",
             expected="16 ResidualUnit layers one after the other", found=counted,
             hint="the units follow each other directly; each already ends with its activation.")
    check_stem(found["stem"])
    check_schedule(found["units"])
    check_head(found["head"], expected["output_shape"][-1])
    if found["output_shape"] != expected["output_shape"]:
        fail(f"{what}: wrong output shape", expected=tuple(expected["output_shape"]),
             found=tuple(found["output_shape"]),
             hint="one probability per class: Dense(classes, activation='softmax').")
    for key, label in COUNTS:
        if found[key] != expected[key]:
            fail(f"{what} has {found[key]:,} {label}, expected {expected[key]:,}", expected=f"{expected[key]:,}",
                 found=f"{found[key]:,} (difference {found[key] - expected[key]:+,})",
                 hint="compare your layers with the table above the exercise (stem, 16 units, head); a bias or "
                      "an extra layer changes the count.")


BUILD_RESNET34 = engine.Exercise(
    name="build_resnet34",
    cases=MODEL_CASES,
    run=run_build_resnet34,
    describe=describe_model_case,
    hint="compare your layers with the table above the exercise (stem, 16 units, head).",
    compare=compare_model,
    requires=engine.callable_answer("build_resnet34"),
)

CHECKS = engine.Assignment("05_resnet34", [RESIDUAL_UNIT, BUILD_RESNET34])
check_ResidualUnit = CHECKS.checker("ResidualUnit")  # noqa: N816 (named after the class)
check_build_resnet34 = CHECKS.checker("build_resnet34")
build_references = CHECKS.build_references

__all__ = ["CHECKS", "check_ResidualUnit", "check_build_resnet34", "build_references",
           "set_known_weights", "known_values", "random_input", "run_unit"]
