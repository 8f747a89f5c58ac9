"""Checks of notebook 05 (ResNet-34 from a ``ResidualUnit`` layer).

``check_ResidualUnit`` reads the student's layer in three ways:

* its structure (the Conv2D and BatchNormalization layers it holds, their
  kernel sizes, strides, padding and biases), which names most mistakes
  directly;
* its outputs, for strides 1 and 2 (and 3), in inference and in training
  mode, after every weight has been set from a fixed formula
  (:func:`set_known_weights`), so the comparison with the solution's outputs
  does not depend on random initialisation. When the values differ, the
  outputs of known mistakes (computed here by :func:`unit_variant`) name the
  mistake;
* its configuration: ``get_config``/``from_config`` and a ``.keras``
  save/load round trip of a model holding the unit.

``check_build_resnet34`` builds the student's model with a light stand-in for
``ResidualUnit`` (so this exercise is graded on its own, whatever the state of
the previous one), reads the layer sequence (stem, 16 units with their filters
and strides, head) and compares the parameter counts with the solution's.
No image goes through the 224x224 model, so the check takes a few seconds.

Inputs (shapes, seeds) are defined here; outputs come from the solution
notebook through :func:`build_references`.
"""
from __future__ import annotations

import functools
import contextlib
import tempfile
import warnings
from pathlib import Path

import numpy as np

from .. import references
from .core import CheckFailed, call_student, diagnose, fail, matches, part_name, passed, short

ASSIGNMENT = "05_resnet34"

# ----------------------------------------------------------------------------- cases
# ResidualUnit: name -> seed of the input, input shape, filters, strides, activation (a name)
UNIT_CASES = {
    "visible": {
        "strides1_relu": dict(seed=1, shape=(2, 6, 6, 4), filters=4, strides=1, activation="relu"),
        "strides2_relu": dict(seed=2, shape=(2, 7, 7, 3), filters=5, strides=2, activation="relu"),
        "strides2_elu": dict(seed=3, shape=(2, 6, 5, 2), filters=3, strides=2, activation="elu"),
    },
    "hidden": {
        "strides1_tanh": dict(seed=11, shape=(3, 5, 4, 6), filters=6, strides=1, activation="tanh"),
        "strides2_odd": dict(seed=12, shape=(2, 9, 8, 4), filters=6, strides=2, activation="relu"),
        "strides3": dict(seed=13, shape=(1, 10, 9, 2), filters=4, strides=3, activation="relu"),
        "strides1_elu_wide": dict(seed=14, shape=(1, 4, 4, 8), filters=8, strides=1, activation="elu"),
    },
}
MODES = ("inference", "training")

# Configuration and save/load: the activation is passed as a FUNCTION (keras.activations.<name>), which
# Keras 3 cannot record by itself: only a real get_config() makes the layer reloadable.
CONFIG_CASES = {
    "visible": dict(filters=7, strides=2, activation="elu"),
    "hidden": dict(filters=5, strides=3, activation="tanh"),
}
SAVE_CASES = {
    "visible": dict(seed=21, shape=(2, 8, 8, 3), units=[(4, 2, "relu"), (4, 1, "relu")]),
    "hidden": dict(seed=22, shape=(1, 9, 7, 2), units=[(2, 1, "elu"), (5, 2, "elu")]),
}

# build_resnet34: name -> keyword arguments (None: call with the defaults)
MODEL_CASES = {
    "visible": {"224x224x3_10_classes": dict(input_shape=(224, 224, 3), classes=10)},
    "hidden": {"64x64x3_2_classes": dict(input_shape=(64, 64, 3), classes=2),
               "96x96x1_5_classes": dict(input_shape=(96, 96, 1), classes=5),
               "defaults": None},
}
STAGES = ((64, 3), (128, 4), (256, 6), (512, 3))
SCHEDULE = [(filters, 2 if stage > 0 and i == 0 else 1)
            for stage, (filters, units) in enumerate(STAGES) for i in range(units)]
BN_EPSILON = 1e-3  # Keras' default


def random_input(seed: int, shape) -> np.ndarray:
    """The deterministic float32 input of a case (standard normal values)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ----------------------------------------------------------------------------- known weights
def known_values(kind: str, shape) -> np.ndarray:
    """The value of every weight, from its kind (kernel, gamma, ...) and shape only.

    Only the shape is used, not the weight's position in the layer, so the
    values do not depend on the order in which a student created the layers.
    """
    from ..blocks import KnownWeights

    shape = tuple(int(d) for d in shape)
    base = np.asarray(KnownWeights(seed=0)(shape, dtype="float32"), dtype=np.float64)
    n = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    if kind == "kernel":
        return (2.0 * base).astype(np.float32)  # a bit larger than Glorot, so the activations stay lively
    if kind == "gamma":
        return (1.0 + 0.3 * np.sin(1.3 * n + 0.4)).astype(np.float32)
    if kind == "beta":
        return (0.2 * np.cos(0.7 * n + 0.1)).astype(np.float32)
    if kind == "moving_mean":
        return (0.1 * np.sin(0.9 * n + 1.0)).astype(np.float32)
    if kind == "moving_variance":
        return (0.7 + 0.5 * np.cos(0.6 * n) ** 2).astype(np.float32)
    return (0.1 * np.cos(1.1 * n + 0.3)).astype(np.float32)  # biases and anything else


def set_known_weights(layer) -> None:
    """Give every weight of ``layer`` (and of the layers inside it) its :func:`known_values`."""
    for weight in layer.weights:
        kind = weight.name.split("/")[-1]
        weight.assign(known_values(kind, weight.shape))


def run_unit(unit, x, mode: str) -> np.ndarray:
    """Output of ``unit`` on ``x`` with known weights (set again: training mode updates the statistics)."""
    if not unit.built or not unit.weights:
        unit(x, training=False)  # create the weights first
    set_known_weights(unit)
    return np.asarray(unit(x, training=(mode == "training")))


# ----------------------------------------------------------------------------- the unit and its mistakes
def unit_variant(x, filters, strides, activation, mode, variant="correct"):
    """What a ResidualUnit with known weights outputs, or what a known mistake outputs instead."""
    import keras
    from keras import ops

    x = ops.convert_to_tensor(x)
    channels = int(x.shape[-1])
    act = keras.activations.get("relu" if variant == "relu_always" else activation)
    bn_mode = {"bn_always_training": "training", "bn_never_training": "inference"}.get(variant, mode)

    def conv(z, size, c_in, stride):
        kernel = known_values("kernel", (size, size, c_in, filters))
        return ops.conv(z, kernel, strides=stride, padding="same")

    def bn(z):
        gamma, beta = known_values("gamma", (filters,)), known_values("beta", (filters,))
        if bn_mode == "training":
            mean, variance = ops.moments(z, axes=[0, 1, 2])
        else:
            mean, variance = known_values("moving_mean", (filters,)), known_values("moving_variance", (filters,))
        return (z - mean) / ops.sqrt(variance + BN_EPSILON) * gamma + beta

    first, second = (1, strides) if variant == "stride_on_second" else (strides, 1)
    z = conv(x, 3, channels, first)
    if variant == "act_before_bn":
        z = bn(act(z))
    elif variant == "no_inner_activation":
        z = bn(z)
    else:
        z = act(bn(z))
    main = bn(conv(z, 3, filters, second))
    shortcut = x if strides == 1 else bn(conv(x, 1, channels, strides))
    if variant == "no_final_activation":
        out = main + shortcut
    elif variant == "activation_before_add":
        out = act(main) + shortcut
    elif variant == "extra_activation":
        out = act(act(main) + shortcut)
    elif variant == "no_shortcut":
        out = act(main)
    else:
        out = act(main + shortcut)
    return np.asarray(out)


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
}


def _unit_hint(x, case, mode, found):
    def output(variant):
        return unit_variant(x, case["filters"], case["strides"], case["activation"], mode, variant)

    correct = output("correct")
    probes = {}
    for variant, hint in UNIT_HINTS.items():
        # a mistake that gives the right answer on this case (e.g. a stride on the second conv when
        # strides=1) cannot be the explanation
        probes[hint] = lambda v=variant: (None if matches(output(v), correct, atol=1e-5) else output(v))
    return diagnose(found, probes)


# ----------------------------------------------------------------------------- references
def _case_unit(unit_class, case):
    return unit_class(case["filters"], strides=case["strides"], activation=case["activation"])


def build_references(ns: dict) -> dict:
    """Run the solution (namespace ``ns``) on every case; the values stored as references."""
    values = {"ResidualUnit": {}, "build_resnet34": {}}
    for part in ("visible", "hidden"):
        values["ResidualUnit"][part] = {}
        for name, case in UNIT_CASES[part].items():
            x = random_input(case["seed"], case["shape"])
            unit = _case_unit(ns["ResidualUnit"], case)
            values["ResidualUnit"][part][name] = {mode: run_unit(unit, x, mode).astype(np.float32)
                                                  for mode in MODES}
        values["build_resnet34"][part] = {}
        for name, kwargs in MODEL_CASES[part].items():
            model = ns["build_resnet34"](**(kwargs or {}))
            values["build_resnet34"][part][name] = _model_counts(model)
    return values


def _model_counts(model) -> dict:
    trainable = int(sum(int(np.prod(w.shape)) for w in model.trainable_weights))
    total = int(model.count_params())
    return {"params": total, "trainable": trainable, "non_trainable": total - trainable,
            "input_shape": [int(d) for d in model.inputs[0].shape[1:]],
            "output_shape": [int(d) for d in model.outputs[0].shape[1:]]}


stored = functools.partial(references.stored, ASSIGNMENT)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return (text.splitlines()[0] if text else type(error).__name__)[:300]


# ----------------------------------------------------------------------------- exercise 1: structure
def inner_layers(layer) -> list:
    """Every layer inside ``layer`` (attributes, lists, Sequential models...), in creation order."""
    return list(layer._flatten_layers(include_self=False, recursive=True))


def _pair(value) -> tuple:
    return tuple(value) if isinstance(value, (list, tuple)) else (value, value)


def _describe(case) -> str:
    return f"ResidualUnit({case['filters']}, strides={case['strides']}, activation={case['activation']!r})"


def check_unit_structure(unit, case, built: bool) -> None:
    """Name structural mistakes from the Conv2D/BatchNormalization layers the unit holds."""
    from keras import layers

    what = _describe(case)
    filters, strides = case["filters"], case["strides"]
    inner = inner_layers(unit)
    convs = [layer for layer in inner if isinstance(layer, layers.Conv2D)]
    norms = [layer for layer in inner if isinstance(layer, layers.BatchNormalization)]
    if not convs and not built:
        return  # layers created in build(): look again after the first call
    if not convs:
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
    sizes = [_pair(layer.kernel_size) for layer in convs]
    odd = [s for s in sizes if s not in ((3, 3), (1, 1))]
    if odd:
        fail(f"{what}: a Conv2D has a {odd[0][0]}x{odd[0][1]} kernel", expected="3x3 (main path) and 1x1 "
             "(shortcut)", found=[f"{a}x{b}" for a, b in sizes],
             hint="the basic unit's main path has two 3x3 convolutions; the shortcut's projection is 1x1.")
    main = [layer for layer in convs if _pair(layer.kernel_size) == (3, 3)]
    projection = [layer for layer in convs if _pair(layer.kernel_size) == (1, 1)]
    if len(main) != 2:
        fail(f"{what}: expected two 3x3 convolutions on the main path, found {len(main)}",
             expected=2, found=len(main), hint="main path: Conv2D 3x3 -> BN -> activation -> Conv2D 3x3 -> BN.")
    if strides == 1 and projection:
        fail(f"{what}: the shortcut has a 1x1 convolution although strides=1",
             expected="an identity shortcut (the input itself)", found=f"{len(projection)} 1x1 Conv2D",
             hint="skip path always present: when strides == 1 the shortcut is the input itself; create the 1x1 "
                  "convolution and its BatchNorm only `if strides > 1`.")
    if strides > 1 and len(projection) != 1:
        fail(f"{what}: expected one 1x1 convolution on the shortcut, found {len(projection)}", expected=1,
             found=len(projection),
             hint="skip path missing: with strides > 1 the main path halves the image and changes the channels, "
                  "so the shortcut must be projected: Conv2D(filters, 1, strides=strides) -> BatchNormalization.")
    if projection and _pair(projection[0].strides) != (strides, strides):
        fail(f"{what}: the shortcut's 1x1 convolution has strides {_pair(projection[0].strides)}",
             expected=(strides, strides), found=_pair(projection[0].strides),
             hint="skip conv without stride: the 1x1 convolution of the shortcut needs strides=strides, like the "
                  "first 3x3 convolution, so both paths have the same height and width.")
    main_strides = sorted(_pair(layer.strides) for layer in main)
    if main_strides != sorted([(strides, strides), (1, 1)]):
        fail(f"{what}: the 3x3 convolutions have strides {main_strides}",
             expected=f"strides={strides} on the first, 1 on the second", found=main_strides,
             hint="only the FIRST 3x3 convolution is strided (strides=strides); the second has strides=1.")
    expected_norms = 2 + (strides > 1)
    if len(norms) != expected_norms:
        where = "one after each 3x3 convolution" + (" and one after the shortcut's 1x1 convolution"
                                                     if strides > 1 else "")
        fail(f"{what}: expected {expected_norms} BatchNormalization layers, found {len(norms)}",
             expected=f"{expected_norms} ({where})", found=len(norms),
             hint=("BatchNorm missing" if len(norms) < expected_norms else "too many BatchNormalization layers")
             + f": a BatchNormalization follows every convolution ({where}), nothing else.")
    if built and strides > 1 and case["shape"][-1] != filters:
        first = [layer for layer in main if int(layer.kernel.shape[2]) == case["shape"][-1]]
        if first and _pair(first[0].strides) != (strides, strides):
            fail(f"{what}: the stride is on the second 3x3 convolution", expected="strides on the first one",
                 found="strides on the second one", hint=UNIT_HINTS["stride_on_second"])


# ----------------------------------------------------------------------------- exercise 1: outputs
def _check_unit_case(unit_class, case, expected: dict) -> None:
    what = _describe(case)
    x = random_input(case["seed"], case["shape"])
    unit = call_student(unit_class, case["filters"], strides=case["strides"], activation=case["activation"],
                        name="ResidualUnit")
    check_unit_structure(unit, case, built=False)
    try:
        unit(x, training=False)
    except NotImplementedError:
        fail("ResidualUnit.call is not written yet",
             hint="replace `raise NotImplementedError()` in the exercise cell with your code, then run that cell "
                  "again.")
    except Exception as error:
        check_unit_structure(unit, case, built=True)
        fail(f"{what} on an input of shape {case['shape']} raised {type(error).__name__}", found=_first_line(error),
             hint="read the error; run your layer on np.zeros(" f"{case['shape']}, 'float32') to debug it.")
    check_unit_structure(unit, case, built=True)
    for mode in MODES:
        found = run_unit(unit, x, mode)
        want = expected[mode]
        label = f"{what} on an input of shape {case['shape']}, {mode} mode (known weights)"
        if found.shape != want.shape:
            hint = None
            if found.shape[1:3] == x.shape[1:3] and case["strides"] > 1:
                hint = "the output was not downsampled: the first 3x3 convolution and the shortcut take strides."
            elif found.shape[-1] != want.shape[-1]:
                hint = "the output has `filters` channels."
            fail(f"{label}: wrong output shape", expected=want.shape, found=found.shape,
                 hint=hint or "use padding='same' and strides only on the first 3x3 conv and on the shortcut.")
        if not matches(found, want, atol=2e-4, rtol=2e-4):
            hint = _unit_hint(x, case, mode, found)
            diff = np.abs(found.astype(np.float64) - want)
            index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
            fail(f"{label}: wrong values (largest difference {diff.max():.4g} at index {index})",
                 expected=round(float(want[index]), 5), found=round(float(found[index]), 5),
                 hint=hint or "compare your call() with the order conv -> BN -> activation -> conv -> BN, plus "
                              "the shortcut, then the activation after the addition.")


# ----------------------------------------------------------------------------- exercise 1: configuration
def _registered_objects(unit_class) -> dict:
    import keras

    objects = {unit_class.__name__: unit_class}
    with contextlib.suppress(Exception):
        objects[keras.saving.get_registered_name(unit_class)] = unit_class
    return objects


def _check_config(unit_class, settings: dict) -> None:
    import keras

    filters, strides, name = settings["filters"], settings["strides"], settings["activation"]
    function = keras.activations.get(name)
    what = f"ResidualUnit({filters}, strides={strides}, activation=keras.activations.{name}).get_config()"
    unit = call_student(unit_class, filters, strides=strides, activation=function, name="ResidualUnit")
    try:
        config = unit.get_config()
    except NotImplementedError:
        fail(f"{what} raised NotImplementedError", expected="a dict with filters, strides and activation",
             found="no get_config()",
             hint="missing get_config: Keras 3 records constructor arguments by itself only when they are "
                  "plain values; with a function as activation it cannot. Define get_config() returning "
                  "{**super().get_config(), 'filters': ..., 'strides': ..., 'activation': "
                  "keras.activations.serialize(self.activation)}.")
    except Exception as error:
        fail(f"{what} raised {type(error).__name__}", found=_first_line(error),
             hint="get_config() returns {**super().get_config(), 'filters': self.filters, 'strides': "
                  "self.strides, 'activation': keras.activations.serialize(self.activation)}.")
    if not isinstance(config, dict):
        fail(f"{what} should return a dict", expected="dict", found=type(config).__name__)
    missing = [key for key in ("filters", "strides", "activation", "name") if key not in config]
    if missing:
        fail(f"{what} lacks {', '.join(missing)}", expected="keys filters, strides, activation (and the base "
             "layer's keys such as name)", found=sorted(config),
             hint="get_config must record every argument of __init__ (start from super().get_config()), or a "
                  "reloaded model rebuilds a different layer.")
    if config["filters"] != filters or config["strides"] != strides:
        fail(f"{what} records the wrong values", expected={"filters": filters, "strides": strides},
             found={"filters": config["filters"], "strides": config["strides"]},
             hint="record the arguments as given to __init__.")
    try:
        recorded = keras.activations.serialize(keras.activations.get(config["activation"]))
    except Exception as error:
        recorded = f"something keras.activations.get cannot read ({_first_line(error)})"
    if recorded != name:
        fail(f"{what} records the activation as {short(config['activation'])}", expected=repr(name),
             found=recorded, hint="store keras.activations.serialize(self.activation), which gives its name.")
    try:
        clone = unit_class.from_config(config)
        clone_config = clone.get_config()
    except Exception as error:
        fail(f"ResidualUnit.from_config({what}) failed with {type(error).__name__}", found=_first_line(error),
             hint="__init__ must accept **kwargs and pass them to super().__init__(**kwargs); get_config() keys "
                  "must match the arguments of __init__.")
    if (clone_config.get("filters"), clone_config.get("strides")) != (filters, strides):
        fail("ResidualUnit.from_config(config) rebuilt a different unit",
             expected=(filters, strides), found=(clone_config.get("filters"), clone_config.get("strides")),
             hint="__init__ must store the filters and strides it is given.")


def _check_save_load(unit_class, case: dict) -> None:
    import keras

    units = case["units"]
    description = " -> ".join(f"ResidualUnit({f}, strides={s}, activation=keras.activations.{a})"
                              for f, s, a in units)
    what = f"a model Input{case['shape'][1:]} -> {description}"
    inputs = keras.Input(case["shape"][1:])
    x = inputs
    for filters, strides, name in units:
        x = call_student(unit_class, filters, strides=strides, activation=keras.activations.get(name),
                         name="ResidualUnit")(x)
    model = keras.Model(inputs, x)
    set_known_weights(model)
    data = random_input(case["seed"], case["shape"])
    before = np.asarray(model(data, training=False))
    # Keras warns that a layer without build() "has unbuilt state" while loading: harmless here (the model
    # calls the layer on symbolic inputs, which builds its inner layers), and not the student's concern.
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*unbuilt state.*")
        path = Path(folder) / "units.keras"
        try:
            model.save(path)
        except Exception as error:
            fail(f"{what} could not be saved to a .keras file: {type(error).__name__}", found=_first_line(error),
                 hint="missing get_config: define get_config() returning the base config plus filters, strides and "
                      "activation (keras.activations.serialize(self.activation)).")
        try:
            reloaded = keras.models.load_model(path, custom_objects=_registered_objects(unit_class))
        except Exception as error:
            fail(f"{what} was saved but could not be loaded back: {type(error).__name__}",
                 found=_first_line(error),
                 hint="get_config() must return exactly the arguments __init__ accepts (filters, strides, "
                      "activation) plus the base layer's config, and __init__ must pass **kwargs to "
                      "super().__init__.")
    after = np.asarray(reloaded(data, training=False))
    if not matches(after, before, atol=1e-6, rtol=1e-6):
        fail(f"{what}: the reloaded model gives different outputs",
             expected="identical outputs before and after the round trip",
             found=f"largest difference {np.max(np.abs(after - before)) if after.shape == before.shape else after.shape}",
             hint="the reloaded layer differs from the saved one: does get_config() record the activation "
                  "(keras.activations.serialize) and the strides, and does __init__ use them?")


def check_ResidualUnit(ResidualUnit, hidden: bool = False) -> None:  # noqa: N802,N803 (named after the class)
    import keras

    part = part_name(hidden)
    if not (isinstance(ResidualUnit, type) and issubclass(ResidualUnit, keras.layers.Layer)):
        fail("ResidualUnit should be a Keras layer class", expected="class ResidualUnit(keras.layers.Layer)",
             found=short(ResidualUnit), hint="subclass keras.layers.Layer.")
    expected = stored("ResidualUnit", part)
    for name, case in UNIT_CASES[part].items():
        _check_unit_case(ResidualUnit, case, expected[name])
    _check_config(ResidualUnit, CONFIG_CASES[part])
    _check_save_load(ResidualUnit, SAVE_CASES[part])
    passed("ResidualUnit", hidden=hidden)


# ----------------------------------------------------------------------------- exercise 2: the stand-in unit
def _stand_in_class():
    """A light layer with the signature and the weights of a ResidualUnit (but not its computation).

    ``check_build_resnet34`` builds the student's model with it, to read the
    schedule of units and count the parameters without depending on the
    student's own ResidualUnit.
    """
    import keras

    class ResidualUnitStandIn(keras.layers.Layer):
        def __init__(self, filters, strides=1, activation="relu", **kwargs):
            super().__init__(**kwargs)
            self.filters, self.strides, self.activation = filters, strides, activation

        def build(self, input_shape):
            channels, f = int(input_shape[-1]), self.filters
            self.channels = channels
            kernels = [(3, 3, channels, f), (3, 3, f, f)] + ([(1, 1, channels, f)] if self.strides > 1 else [])
            for shape in kernels:
                self.add_weight(shape=shape, initializer="zeros", name="kernel")
            for _ in range(2 + (self.strides > 1)):
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


def _flat_layers(model) -> list:
    """The model's layers in order, nested models opened up, InputLayer left out."""
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            found += _flat_layers(layer)
        elif type(layer).__name__ != "InputLayer":
            found.append(layer)
    return found


def _activation_name(layer) -> str | None:
    """'relu' for Activation('relu') and ReLU(); the activation name of other layers; else None."""
    from keras import layers

    if isinstance(layer, layers.ReLU):
        return "relu"
    if isinstance(layer, layers.Activation) or hasattr(layer, "activation"):
        try:
            import keras

            return keras.activations.serialize(keras.activations.get(layer.activation))
        except Exception:
            return str(getattr(layer, "activation", None))
    return None


def _stage_of(index: int) -> str:
    """'first of the 128-filter stage', 'unit 3 of the 256-filter stage'..."""
    filters = SCHEDULE[index][0]
    position = [i for i, (f, _) in enumerate(SCHEDULE) if f == filters].index(index)
    return f"{'first' if position == 0 else f'unit {position + 1}'} of the {filters}-filter stage"


def _check_schedule(units) -> None:
    found = [(int(u.filters), int(_pair(u.strides)[0])) for u in units]
    if len(found) != len(SCHEDULE):
        per_stage = {}
        for f, _ in found:
            per_stage[f] = per_stage.get(f, 0) + 1
        fail(f"expected {len(SCHEDULE)} residual units, found {len(found)}",
             expected="3, 4, 6 and 3 units with 64, 128, 256 and 512 filters",
             found=", ".join(f"{n} with {f}" for f, n in per_stage.items()) or "none",
             hint="wrong filter schedule: ResNet-34 uses [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3.")
    for index, ((filters, strides), (want_filters, want_strides)) in enumerate(zip(found, SCHEDULE)):
        label = f"unit {index + 1} ({_stage_of(index)})"
        if filters != want_filters:
            fail(f"{label} has {filters} filters, expected {want_filters}", expected=want_filters, found=filters,
                 hint="wrong filter schedule: ResNet-34 uses [64] * 3 + [128] * 4 + [256] * 6 + [512] * 3.")
        if strides != want_strides:
            if index == 0:
                hint = ("the first stage keeps the 56x56 size (the max pooling already halved it): stride 1 for "
                        "every 64-filter unit.")
            elif want_strides == 2:
                hint = "use strides=2 whenever the number of filters changes (the first unit of stages 2, 3, 4)."
            else:
                hint = "only the first unit of a stage is strided; the others use strides=1."
            fail(f"{label} has strides {strides}, expected {want_strides}", expected=want_strides, found=strides,
                 hint=hint)


def _check_stem(stem) -> None:
    from keras import layers

    kinds = [type(layer).__name__ for layer in stem]
    convs = [layer for layer in stem if isinstance(layer, layers.Conv2D)]
    if len(convs) != 1:
        fail(f"expected one Conv2D before the first residual unit (the stem), found {len(convs)}",
             expected="Conv2D(64, 7, strides=2) -> BatchNormalization -> ReLU -> MaxPool2D", found=kinds,
             hint="the stem is one 7x7 convolution with 64 filters, then BN, ReLU and a 3x3 max pooling.")
    conv = convs[0]
    settings = {"filters": conv.filters, "kernel_size": _pair(conv.kernel_size), "strides": _pair(conv.strides),
                "padding": conv.padding}
    wanted = {"filters": 64, "kernel_size": (7, 7), "strides": (2, 2), "padding": "same"}
    for key, value in wanted.items():
        if settings[key] != value:
            hint = {"padding": "the stem conv uses padding='same' (no ZeroPadding2D needed)."}.get(
                key, "the stem is Conv2D(64, 7, strides=2, padding='same', use_bias=False).")
            fail(f"the stem conv has {key}={settings[key]!r}, expected {value!r}", expected=value,
                 found=settings[key], hint=hint)
    if conv.use_bias:
        fail("the stem conv has a bias: expected use_bias=False (BatchNorm follows)", expected="use_bias=False",
             found="use_bias=True", hint="bias left on: the BatchNormalization after the convolution removes the "
                                         "mean, so the bias is wasted (64 parameters).")
    if _activation_name(conv) not in ("linear", None):
        fail(f"the stem conv applies {_activation_name(conv)!r} itself, before the BatchNormalization",
             expected="Conv2D without activation -> BatchNormalization -> Activation('relu')",
             found=f"Conv2D(..., activation={_activation_name(conv)!r})",
             hint="remove activation= from the Conv2D; put Activation('relu') after the BatchNormalization.")
    after = stem[stem.index(conv) + 1:]
    norm = [i for i, layer in enumerate(after) if isinstance(layer, layers.BatchNormalization)]
    relu = [i for i, layer in enumerate(after) if _activation_name(layer) == "relu"
            and isinstance(layer, (layers.Activation, layers.ReLU))]
    pool = [i for i, layer in enumerate(after) if isinstance(layer, layers.MaxPooling2D)]
    if not norm:
        fail("the stem has no BatchNormalization after its convolution", expected=kinds[:1] + [
             "BatchNormalization", "Activation", "MaxPooling2D"], found=kinds, hint="BatchNorm missing in the stem.")
    if not relu or relu[0] < norm[0]:
        fail("the stem has no ReLU after its BatchNormalization",
             expected="Conv2D -> BatchNormalization -> Activation('relu') -> MaxPool2D", found=kinds,
             hint="add layers.Activation('relu') (or layers.ReLU()) right after the BatchNormalization.")
    if not pool or pool[0] < relu[0]:
        fail("the stem has no max pooling after its ReLU",
             expected="Conv2D -> BatchNormalization -> Activation('relu') -> MaxPool2D", found=kinds,
             hint="end the stem with layers.MaxPool2D(pool_size=3, strides=2, padding='same').")
    pooling = after[pool[0]]
    got = {"pool_size": _pair(pooling.pool_size), "strides": _pair(pooling.strides), "padding": pooling.padding}
    for key, value in {"pool_size": (3, 3), "strides": (2, 2), "padding": "same"}.items():
        if got[key] != value:
            hint = ("with padding='valid' a 112x112 map pools to 55x55 instead of 56x56: use padding='same'."
                    if key == "padding" else "the stem's pooling is MaxPool2D(pool_size=3, strides=2, "
                                             "padding='same').")
            fail(f"the stem's max pooling has {key}={got[key]!r}, expected {value!r}",
                 expected=value, found=got[key], hint=hint)


def _check_head(head, classes: int) -> None:
    from keras import layers

    kinds = [type(layer).__name__ for layer in head]
    if not any(isinstance(layer, layers.GlobalAveragePooling2D) for layer in head):
        fail("no GlobalAveragePooling2D after the last residual unit", expected="GlobalAveragePooling2D -> Dense",
             found=kinds, hint="average each of the 512 feature maps with layers.GlobalAveragePooling2D() before "
                               "the Dense layer (Flatten alone keeps every position: many more weights).")
    if not head or not isinstance(head[-1], layers.Dense):
        fail("the model should end with a Dense layer", expected="... -> Dense(classes, activation='softmax')",
             found=kinds, hint="end with layers.Dense(classes, activation='softmax').")
    extra = [type(layer).__name__ for layer in head[:-1]
             if not isinstance(layer, (layers.GlobalAveragePooling2D, layers.Flatten))]
    if extra:
        fail(f"unexpected layers in the head: {', '.join(extra)}",
             expected="GlobalAveragePooling2D -> (Flatten) -> Dense", found=kinds,
             hint="ResNet-34's head is only the global average pooling and one Dense layer.")
    dense = head[-1]
    if dense.units != classes:
        fail(f"the Dense layer has {dense.units} units, expected {classes}", expected=classes, found=dense.units,
             hint="use Dense(classes, ...) with the `classes` argument, not a fixed number.")
    if _activation_name(dense) != "softmax":
        fail(f"the Dense layer has activation {_activation_name(dense)!r}", expected="'softmax'",
             found=_activation_name(dense), hint="use Dense(classes, activation='softmax').")


def _check_model_case(build_resnet34, name: str, kwargs, expected: dict) -> None:
    import keras

    call = ("build_resnet34(" + ", ".join(f"{k}={v!r}" for k, v in (kwargs or {}).items()) + ")")
    with _stand_in_for(build_resnet34) as stand_in:
        model = call_student(build_resnet34, **(kwargs or {}), name="build_resnet34")
        if not isinstance(model, keras.Model):
            fail(f"{call} should return a Keras model", expected="keras.Model or keras.Sequential",
                 found=type(model).__name__, hint="return the model at the end of the function.")
        if not model.built or not model.inputs:
            fail(f"{call} returned a model that is not built", expected="a model with a known input shape",
                 found="no input shape", hint="start from keras.Input(shape=input_shape).")
        found_in = [None if d is None else int(d) for d in model.inputs[0].shape[1:]]
        if found_in != expected["input_shape"]:
            fail(f"{call}: wrong input shape", expected=tuple(expected["input_shape"]), found=tuple(found_in),
                 hint="use keras.Input(shape=input_shape) with the argument, not a fixed shape.")
        flat = _flat_layers(model)
        units = [layer for layer in flat if isinstance(layer, stand_in)]
        if not units:
            custom = [type(layer).__name__ for layer in flat if not type(layer).__module__.startswith("keras")]
            fail(f"{call}: expected 16 residual units, found 0", expected="16 ResidualUnit layers",
                 found=", ".join(custom) or "only built-in Keras layers",
                 hint="build the stages with your ResidualUnit class: ResidualUnit(filters, strides=...).")
        first, last = flat.index(units[0]), flat.index(units[-1])
        between = [type(layer).__name__ for layer in flat[first:last + 1] if not isinstance(layer, stand_in)]
        if between:
            fail(f"{call}: unexpected layers between the residual units: {', '.join(between)}",
                 expected="16 ResidualUnit layers one after the other", found=between,
                 hint="the units follow each other directly; each already ends with its activation.")
        _check_stem(flat[:first])
        _check_schedule(units)
        _check_head(flat[last + 1:], expected["output_shape"][-1])
        found_out = [None if d is None else int(d) for d in model.outputs[0].shape[1:]]
        if found_out != expected["output_shape"]:
            fail(f"{call}: wrong output shape", expected=tuple(expected["output_shape"]), found=tuple(found_out),
                 hint="one probability per class: Dense(classes, activation='softmax').")
        counts = _model_counts(model)
    for key, label in (("params", "parameters"), ("trainable", "trainable parameters"),
                       ("non_trainable", "non-trainable parameters (BatchNorm statistics)")):
        if counts[key] != expected[key]:
            fail(f"{call} has {counts[key]:,} {label}, expected {expected[key]:,}",
                 expected=f"{expected[key]:,}", found=f"{counts[key]:,} (difference {counts[key] - expected[key]:+,})",
                 hint="compare your layers with the table above the exercise (stem, 16 units, head); a bias or "
                      "an extra layer changes the count.")


def check_build_resnet34(build_resnet34, hidden: bool = False) -> None:
    if not callable(build_resnet34):
        fail("build_resnet34 should be a function", expected="def build_resnet34(input_shape, classes)",
             found=short(build_resnet34))
    part = part_name(hidden)
    expected = stored("build_resnet34", part)
    for name, kwargs in MODEL_CASES[part].items():
        _check_model_case(build_resnet34, name, kwargs, expected[name])
    passed("build_resnet34", hidden=hidden)


__all__ = ["check_ResidualUnit", "check_build_resnet34", "CheckFailed", "unit_variant", "set_known_weights",
           "known_values", "build_references"]
