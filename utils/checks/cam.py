"""Checks of notebook 06 (transfer learning and class activation maps), described as data for :mod:`.engine`.

No check trains a network or loads a pretrained one. The models are tiny ResNet-style
networks built here (:func:`tiny_base`: a stem ``conv1`` and residual blocks named
``conv{stage}_block{n}_...`` as in keras.applications and the course backbone), whose
weights are set from a formula (:func:`set_model_weights`), so every output is known;
the inputs are fixed seeded arrays and hand-made masks. Seven exercises:

* ``build_transfer_model``: the model is described (input shape, the base as one nested
  layer and the ``training=`` argument it is called with, the head's layers, names and
  settings, trainable and frozen parameter counts, its probabilities with known weights)
  and compared by :func:`compare_transfer`, which names a wrong part first;
* ``unfreeze_top``: the ``trainable`` flag of the base and of each of its layers with
  weights, on bases of 4 blocks (+ a stem and a ``top_conv``), for 0 to 3 blocks;
* ``class_activation_map``, ``upsample_and_normalise``, ``grad_cam``: arrays compared
  with the solution's, a difference explained by the outputs of known mistakes, computed
  in :mod:`.mistakes.cam` on the instructor's side (Grad-CAM's from the checks' own graph
  of the model, not from the student's way of reaching a nested layer) and stored for the
  visible cases. ``grad_cam`` is run on transfer models whose base is ONE nested layer
  (the layer asked for is inside it: the "Graph disconnected" trap) and on a model whose
  layers are its own;
* ``pointing_game_hit`` and ``mass_inside``: hand-made masks (0 background, 1 cat,
  2 dog, 255 boundary) and maps with one known peak, placed so that each known mistake
  gives another answer on at least one visible case.

Accepted, because they behave the same: NumPy, TensorFlow or keras.ops code, any float
dtype, an array-like or tensor output (``np.bool_`` for a hit, a NumPy float for a
share); ``np.einsum``, ``np.tensordot``, ``@`` or a loop; ``tf.image.resize``,
``keras.ops.image.resize`` or PIL's bilinear resize (same half-pixel grid); a min-max
with a tiny epsilon; ``GlobalAvgPool2D`` or ``GlobalAveragePooling2D``, ``"softmax"`` or
``keras.activations.softmax``; the base frozen as a whole or layer by layer, before or
after building the model; blocks found with a regular expression or by splitting names;
``unfreeze_top`` returning None or the base; Grad-CAM through a rebuilt functional graph,
a linear copy of the Dense layer or its kernel and bias by hand; ``np.isin`` or
``(mask == 1) | (mask == 2)``.

Rejected, and why (the messages say so):

* a base left trainable, its layers copied into the model (``keras.Model(base.input, ...)``),
  a Flatten or max pooling instead of the global average pooling, extra head layers
  (Dropout, a hidden Dense), a separate softmax Activation, other layer names than
  ``avg_pool`` and ``predictions``: later cells and ``grad_cam`` find the head by these
  names and read the Dense kernel on the pooled features (that is what a CAM is);
* NOT rejected: the base called without ``training=False``, or a Sequential model (which
  cannot pass it). Both behave the same as the Keras recipe in Keras 3: ``fit`` passes its own
  ``training=True`` through a recorded ``training=False`` (keras-team/keras#20285), and what
  keeps BatchNorm in inference mode is that the frozen base's BatchNormalization layers are
  not trainable (``unfreeze_top`` keeps them so). The notebook explains this Keras 3 change;
* counting layers instead of blocks, ``blocks[-n:]`` (``-0`` is every block), BatchNorm
  unfrozen, layers outside the blocks (stem, ``top_conv``) left trainable;
* a CAM or Grad-CAM with a ReLU, a normalisation or a bias where the formula has none (or
  without the ReLU Grad-CAM has), the gradient of the softmax probability instead of the
  logit (it vanishes when the model is confident), sums instead of means, absolute or
  clipped gradients, BatchNorm in training mode;
* a resize other than bilinear on TensorFlow's half-pixel grid (nearest, bicubic, aligned
  corners), a max-only normalisation, NaN for a constant map;
* the 255 boundary counted as animal, a row/column swap, a tolerance that is ignored,
  strict, squared or not Euclidean, a share of pixels instead of a share of mass.
"""
from __future__ import annotations

import numbers

import numpy as np

from . import engine
from .core import difference, fail, short, to_numpy
from .engine import Case, CrashHint, Exercise, Mistake
from .graph import activation_name, call_arguments, flat_layers, history, kind, producer
from .known_weights import set_known_weights

COURSE_MODULE = "course_utils.cam"  # the course's own answers, which later cells use

ASSIGNMENT = "06_transfer_cam"
POOL, DENSE = "avg_pool", "predictions"
ANIMAL, BOUNDARY = (1, 2), 255


# ============================================================================ known-weight models and inputs
def tiny_base(spec: dict):
    """A small ResNet-style feature extractor, and the output tensor of each of its layers by name.

    ``spec``: ``input`` (h, w, c), ``stages`` ((filters, blocks, stride of the first block),
    ...), ``name``, ``stem`` (filters of ``conv1``), ``top`` (end with a 1x1 ``top_conv``,
    ``top_bn``, ``top_relu``, like EfficientNet). Layers are named like keras.applications:
    ``conv1_conv``, ``conv2_block1_1_conv``, ``conv2_block1_1_bn``, ..., ``conv2_block1_out``.
    """
    import keras
    from keras import layers

    tensors = {}

    def keep(x):
        tensors[producer(x).name] = x
        return x

    def conv_bn(x, filters, size, strides, prefix, relu=True):
        x = keep(layers.Conv2D(filters, size, strides=strides, padding="same", use_bias=False,
                               name=f"{prefix}_conv")(x))
        x = keep(layers.BatchNormalization(name=f"{prefix}_bn")(x))
        return keep(layers.ReLU(name=f"{prefix}_relu")(x)) if relu else x

    inputs = keras.Input(spec["input"], name="images")
    x = keep(layers.Rescaling(1 / 127.5, offset=-1.0, name="normalize")(inputs))
    x = conv_bn(x, spec.get("stem", 4), 3, 1, "conv1")
    for stage, (filters, blocks, strides) in enumerate(spec["stages"], start=2):
        for block in range(1, blocks + 1):
            prefix, s = f"conv{stage}_block{block}", strides if block == 1 else 1
            shortcut = x
            if s != 1 or x.shape[-1] != filters:
                shortcut = conv_bn(x, filters, 1, s, f"{prefix}_0", relu=False)
            y = conv_bn(x, filters, 3, s, f"{prefix}_1")
            y = conv_bn(y, filters, 3, 1, f"{prefix}_2", relu=False)
            y = keep(layers.Add(name=f"{prefix}_add")([shortcut, y]))
            x = keep(layers.ReLU(name=f"{prefix}_out")(y))
    if spec.get("top"):
        x = conv_bn(x, spec["stages"][-1][0], 1, 1, "top")
    return keras.Model(inputs, x, name=spec["name"]), tensors


def head_values(kind_of_weight: str, shape) -> np.ndarray:
    """Dense weights with both signs in every column, small enough for lively probabilities."""
    shape = tuple(int(d) for d in shape)
    if kind_of_weight == "kernel":
        rows, cols = np.indices(shape)
        return (0.6 * np.sin(1.9 * rows + 2.9 * cols + 0.3)).astype(np.float32)
    return (0.1 * np.cos(1.3 * np.arange(shape[0]) + 0.2)).astype(np.float32)


def set_model_weights(model) -> None:
    """Every weight from a formula: convolutions and BatchNorms as in notebook 05, Dense layers by
    :func:`head_values`."""
    from keras import layers

    set_known_weights(model)
    for layer in flat_layers(model):
        if isinstance(layer, layers.Dense):
            for weight in layer.weights:
                weight.assign(head_values(weight.name.split("/")[-1], weight.shape))


def case_images(seed: int, shape) -> np.ndarray:
    """Photos with values 0-255: a coarse random colour field (blobs 4 pixels wide) plus fine noise."""
    rng = np.random.default_rng(seed)
    n, h, w, c = shape
    coarse = rng.uniform(0, 255, (n, -(-h // 4), -(-w // 4), c))
    smooth = np.repeat(np.repeat(coarse, 4, axis=1), 4, axis=2)[:, :h, :w]
    return np.clip(smooth + rng.normal(0, 20, shape), 0, 255).astype(np.float32)


def describe_base(spec: dict) -> str:
    blocks = sum(b for _, b, _ in spec["stages"])
    h, w, c = spec["input"]
    return f"base {spec['name']!r} (input {h}x{w}x{c}, {blocks} residual blocks)"


# ============================================================================ exercise 1: build_transfer_model
def _transfer_case(name, seed, size, stages, classes, base_name="tiny_base") -> Case:
    return Case(name, {"seed": seed, "num_classes": classes,
                       "base": {"input": (*size, 3), "stages": stages, "name": base_name, "stem": 4}})


TRANSFER_CASES = engine.Parts(
    visible=[_transfer_case("8x8_3_classes", 1, (8, 8), ((4, 1, 1), (6, 1, 2)), 3),
             _transfer_case("10x6_5_classes", 2, (10, 6), ((4, 1, 1), (5, 1, 2)), 5)],
    hidden=engine.hidden_cases(ASSIGNMENT, "TRANSFER_CASES"))


def describe_transfer_case(case: Case) -> str:
    return f"build_transfer_model({describe_base(case['base'])}, num_classes={case['num_classes']})"


def base_call_training(model, base):
    """The ``training=`` argument recorded where ``model`` calls ``base``: False, True, or "not given"."""
    for layer in model.layers:
        for node in getattr(layer, "_inbound_nodes", []):
            for tensor in node.input_tensors:
                if history(tensor) is not None and producer(tensor) is base:
                    return call_arguments(tensor)[1].get("training", "not given")
    return "not given"


def _head_entry(layer) -> dict:
    from keras import layers

    entry = {"kind": kind(layer), "name": layer.name}
    if isinstance(layer, layers.Dense):
        entry.update(units=int(layer.units), activation=activation_name(layer))
    elif isinstance(layer, layers.Activation):
        entry.update(activation=activation_name(layer))
    return entry


def _count(weights) -> int:
    return int(sum(int(np.prod(w.shape)) for w in weights))


def run_build_transfer_model(build_transfer_model, case: Case) -> dict:
    """The model built on a known-weight base, described (see :func:`compare_transfer`)."""
    import keras

    base, _ = tiny_base(case["base"])
    set_known_weights(base)
    model = build_transfer_model(base, case["num_classes"])
    what = describe_transfer_case(case)
    if not isinstance(model, keras.Model):
        fail(f"{what} should return a Keras model", expected="keras.Model", found=short(model),
             hint="return keras.Model(inputs, outputs) at the end of the function.")
    inputs = getattr(model, "inputs", None) if model.built else None
    if not inputs:
        fail(f"{what} returned a model that is not built", expected="a model with a known input shape",
             found="no input shape", hint="start from inputs = keras.Input(base.input_shape[1:]).")
    nested = any(layer is base for layer in model.layers)
    own = {id(layer) for layer in base.layers}
    head = [layer for layer in model.layers
            if layer is not base and id(layer) not in own and not isinstance(layer, keras.layers.InputLayer)]
    set_model_weights(model)
    images = case_images(case["seed"], (2, *case["base"]["input"]))
    total = int(model.count_params())
    trainable = _count(model.trainable_weights)
    return {"input_shape": [int(d) for d in inputs[0].shape[1:]],
            "output_shape": [None if d is None else int(d) for d in model.outputs[0].shape[1:]],
            "base_is_a_layer": nested, "sequential": isinstance(model, keras.Sequential),
            "training": base_call_training(model, base) if nested else "not given",
            "head": [_head_entry(layer) for layer in head],
            "base_trainable": _count(base.trainable_weights), "trainable": trainable, "frozen": total - trainable,
            "probabilities": np.asarray(model(images, training=False), dtype=np.float32)}


HEAD = "GlobalAveragePooling2D(name='avg_pool') -> Dense(num_classes, activation='softmax', name='predictions')"


def compare_transfer(found: dict, expected: dict, case: Case) -> None:
    """Name a wrong part of the model first: base, input, freezing, head layers, names, settings, flag."""
    what = describe_transfer_case(case)
    if not found["base_is_a_layer"]:
        fail(f"{what}: the base is not one layer of your model", expected="Input -> base -> avg_pool -> predictions",
             found="the base's layers copied into your model",
             hint="build on a new keras.Input and call base(inputs, training=False): with keras.Model(base.input, ...) "
                  "the base is no longer one layer, and later cells (unfreeze_top, grad_cam) cannot find it.")
    if found["input_shape"] != expected["input_shape"]:
        fail(f"{what}: wrong input shape", expected=tuple(expected["input_shape"]), found=tuple(found["input_shape"]),
             hint="input shape hard-coded: use keras.Input(base.input_shape[1:]), the shape of the base's input.")
    kinds = [entry["kind"] for entry in found["head"]]
    dense_expected = expected["head"][-1]
    if found["base_trainable"]:
        fail(f"{what}: {found['base_trainable']:,} trainable parameters in the base", expected="0 (a frozen base)",
             found=f"{found['base_trainable']:,}",
             hint="base not frozen: set base.trainable = False, so that training only changes the new head "
                  "and the pretrained features are kept.")
    if "Flatten" in kinds:
        fail(f"{what}: the head flattens the feature map", expected=HEAD, found=kinds,
             hint="Flatten instead of GlobalAveragePooling2D: average each feature map to one number with "
                  "GlobalAveragePooling2D (fewer weights, any image size, and what a class activation map needs).")
    if "GlobalMaxPooling2D" in kinds:
        fail(f"{what}: the head uses global max pooling", expected=HEAD, found=kinds,
             hint="GlobalMaxPooling2D instead of GlobalAveragePooling2D: a class activation map is the Dense kernel "
                  "applied to AVERAGED feature maps.")
    if "GlobalAveragePooling2D" not in kinds or "Dense" not in kinds:
        fail(f"{what}: the head should be global average pooling then a Dense layer", expected=HEAD, found=kinds,
             hint=f"add the new head after the base: {HEAD}.")
    extra = [k for k in kinds if k not in ("GlobalAveragePooling2D", "Dense")] + ["Dense"] * (kinds.count("Dense") - 1)
    if extra:
        softmax = any(e["kind"].startswith("Activation") and e.get("activation") == "softmax" for e in found["head"])
        fail(f"{what}: extra layers in the head: {', '.join(extra)}", expected=HEAD, found=kinds,
             hint=("the softmax belongs in the Dense layer: Dense(num_classes, activation='softmax', "
                   "name='predictions') (later cells read the probabilities and the kernel from that one layer)."
                   if softmax else
                   "the head is only the global average pooling and one Dense layer: grad_cam and the class "
                   "activation map read the Dense kernel on the pooled features."))
    if kinds != ["GlobalAveragePooling2D", "Dense"]:
        fail(f"{what}: the head's layers are in the wrong order", expected=HEAD, found=kinds,
             hint="pool first (one number per feature map), then the Dense layer.")
    names = [entry["name"] for entry in found["head"]]
    if names != [POOL, DENSE]:
        fail(f"{what}: the head's layers are named {names}", expected=[POOL, DENSE], found=names,
             hint="name them: GlobalAveragePooling2D(name='avg_pool') and Dense(..., name='predictions'); later "
                  "cells and grad_cam find them by these names.")
    dense = found["head"][-1]
    if dense["units"] != dense_expected["units"]:
        fail(f"{what}: the Dense layer has {dense['units']} units", expected=dense_expected["units"],
             found=dense["units"], hint="units hard-coded: use Dense(num_classes, ...), the argument.")
    if dense["activation"] != "softmax":
        fail(f"{what}: the Dense layer has activation {dense['activation']!r}", expected="'softmax'",
             found=repr(dense["activation"]),
             hint="missing softmax: use Dense(num_classes, activation='softmax'); the model outputs probabilities.")
    if found["trainable"] < expected["trainable"]:
        fail(f"{what}: {found['trainable']:,} trainable parameters", expected=f"{expected['trainable']:,} (the head)",
             found=f"{found['trainable']:,}", hint="the new head was frozen too: freeze only the base.")
    for key in ("output_shape", "trainable", "frozen", "probabilities"):
        problem = difference(found[key], expected[key], 1e-5, 1e-4)
        if problem is not None:
            where, want, got = problem
            fail(f"{what}: {key} {where}".rstrip(), expected=want, found=got,
                 hint=f"compare your model with {HEAD} on top of the frozen base.")


BUILD_TRANSFER_MODEL = Exercise(
    name="build_transfer_model", implementation=f"{COURSE_MODULE}:build_transfer_model",
    cases=TRANSFER_CASES, run=run_build_transfer_model,
    describe=describe_transfer_case, hint=f"Input -> base(inputs, training=False) -> {HEAD}.",
    compare=compare_transfer, requires=engine.callable_answer("build_transfer_model"),
    crashes=(CrashHint(("is incompatible with the layer",), "input shape hard-coded: build the input with "
                       "keras.Input(base.input_shape[1:]), the shape the base expects.", ValueError),))


# ============================================================================ exercise 2: unfreeze_top
BASE_A = {"input": (8, 8, 3), "stages": ((4, 2, 1), (6, 2, 2)), "name": "base_a", "top": True}
BASE_B = {"input": (8, 8, 3), "stages": ((3, 1, 1), (4, 2, 2), (5, 2, 2)), "name": "base_b", "top": True}
BASE_C = {"input": (6, 6, 3), "stages": ((4, 3, 1), (4, 1, 2)), "name": "base_c", "top": False}
UNFREEZE_CASES = engine.Parts(
    visible=engine.cases({f"4_blocks_unfreeze_{n}": {"base": BASE_A, "n_blocks": n} for n in (1, 2, 3, 0)}),
    hidden=engine.hidden_cases(ASSIGNMENT, "UNFREEZE_CASES"))


def _blocks_of(spec) -> list[str]:
    return [f"conv{stage}_block{block}" for stage, (_, blocks, _) in enumerate(spec["stages"], start=2)
            for block in range(1, blocks + 1)]


def describe_unfreeze(case: Case) -> str:
    spec = case["base"]
    blocks = _blocks_of(spec)
    top = ", then top_conv" if spec.get("top") else ""
    return (f"unfreeze_top(base with conv1, blocks {blocks[0]} ... {blocks[-1]} ({len(blocks)} blocks){top}, "
            f"n_blocks={case['n_blocks']})")


def run_unfreeze_top(unfreeze_top, case: Case) -> dict:
    """The trainable flags after the call, on a base frozen as build_transfer_model leaves it."""
    base, _ = tiny_base(case["base"])
    base.trainable = False
    unfreeze_top(base, case["n_blocks"])
    return {"base.trainable": bool(base.trainable),
            "layer.trainable": {layer.name: bool(layer.trainable) for layer in base.layers if layer.weights}}













UNFREEZE_TOP = Exercise(
    name="unfreeze_top", implementation=f"{COURSE_MODULE}:unfreeze_top",
    cases=UNFREEZE_CASES, run=run_unfreeze_top, describe=describe_unfreeze,
    hint="base.trainable = True; then layer.trainable = (the layer is in one of the last n_blocks blocks) and it is "
         "not a BatchNormalization, for every layer of base.layers.",
    catalogue="cam", requires=engine.callable_answer("unfreeze_top"))


# ============================================================================ exercise 3: class_activation_map
def _cam_case(name, seed, size, channels, classes, class_index) -> Case:
    return Case(name, {"seed": seed, "size": size, "channels": channels, "classes": classes,
                       "class_index": class_index})


CAM_CASES = engine.Parts(
    visible=[_cam_case("4x6_3_channels_3_classes", 21, (4, 6), 3, 3, 1),
             _cam_case("7x7_5_channels_4_classes", 22, (7, 7), 5, 4, 2),
             _cam_case("5x3_6_channels_2_classes", 23, (5, 3), 6, 2, 1)],
    hidden=engine.hidden_cases(ASSIGNMENT, "CAM_CASES"))


def cam_inputs(case: Case):
    """(feature_maps (H, W, K), non-negative like a ReLU's output; dense_kernel (K, classes), both signs)."""
    rng = np.random.default_rng(case["seed"])
    maps = np.maximum(rng.standard_normal((*case["size"], case["channels"])), 0) * 2
    kernel = rng.standard_normal((case["channels"], case["classes"]))
    return maps.astype(np.float32), kernel.astype(np.float32)


def describe_cam(case: Case) -> str:
    h, w = case["size"]
    return (f"class_activation_map(feature_maps of shape ({h}, {w}, {case['channels']}), dense_kernel of shape "
            f"({case['channels']}, {case['classes']}), class_index={case['class_index']})")


def run_cam(class_activation_map, case: Case) -> np.ndarray:
    maps, kernel = cam_inputs(case)
    found = class_activation_map(maps.copy(), kernel.copy(), case["class_index"])
    return to_numpy(found, "the output of class_activation_map", dtype=np.float32, hint="return the (H, W) map.")




# Mistakes told by the output found; those told by their outputs: mistakes.cam.
CAM_MISTAKES = [
    Mistake("the channels were not summed: the map has one value per position, shape (H, W).",
            test=lambda case, found, expected: np.ndim(found) == 3),
]
KERNEL_CRASH = CrashHint((), "a shape mismatch, most likely the kernel indexed [class] instead of [:, class]: "
                             "dense_kernel has shape (K, classes), one COLUMN per class, so the weights of class c are "
                             "dense_kernel[:, c] (shape (K,)), to sum with the K feature maps.",
                         ValueError)

CLASS_ACTIVATION_MAP = Exercise(
    name="class_activation_map", implementation=f"{COURSE_MODULE}:class_activation_map",
    cases=CAM_CASES, run=run_cam, describe=describe_cam, mistakes=CAM_MISTAKES, catalogue="cam",
    hint="M_c(x, y) = sum_k dense_kernel[k, c] * feature_maps[x, y, k], e.g. feature_maps @ dense_kernel[:, c].",
    crashes=(KERNEL_CRASH,), requires=engine.callable_answer("class_activation_map"), atol=1e-4, rtol=1e-4)


# ============================================================================ exercise 4: upsample_and_normalise
def _upsample_case(name, seed, shape, size, constant=None, offset=0.0) -> Case:
    return Case(name, {"seed": seed, "shape": shape, "size": size, "constant": constant, "offset": offset})


UPSAMPLE_CASES = engine.Parts(
    visible=[_upsample_case("7x7_to_28x28", 41, (7, 7), (28, 28)),
             _upsample_case("4x6_to_20x30", 42, (4, 6), (20, 30), offset=3.0),
             _upsample_case("5x7_to_16x23", 43, (5, 7), (16, 23)),
             _upsample_case("constant_3x3_to_12x12", 44, (3, 3), (12, 12), constant=0.7)],
    hidden=engine.hidden_cases(ASSIGNMENT, "UPSAMPLE_CASES"))


def upsample_input(case: Case) -> np.ndarray:
    if case["constant"] is not None:
        return np.full(case["shape"], case["constant"], dtype=np.float32)
    return (np.random.default_rng(case["seed"]).standard_normal(case["shape"]) + case["offset"]).astype(np.float32)


def describe_upsample(case: Case) -> str:
    values = f"constant {case['constant']}" if case["constant"] is not None else "values of both signs"
    if case["constant"] is None and case["offset"] > 0:
        values = f"values around {case['offset']}"
    return f"upsample_and_normalise(cam of shape {case['shape']} ({values}), size={case['size']})"


def run_upsample(upsample_and_normalise, case: Case) -> np.ndarray:
    found = upsample_and_normalise(upsample_input(case), tuple(case["size"]))
    return to_numpy(found, "the output of upsample_and_normalise", dtype=np.float32,
                    hint="return the resized, normalised map (H, W).")









UPSAMPLE_MISTAKES = [
    Mistake("a constant map gives NaN (0 / 0): when max == min return zeros, np.zeros(size).",
            test=lambda case, found, expected: bool(np.isnan(np.asarray(found, dtype=np.float64)).any())),
    Mistake("(width, height) swapped: size is (height, width), which tf.image.resize takes as it is (PIL's resize "
            "takes (width, height)).", test=lambda case, found, expected: np.shape(found) == tuple(case["size"])[::-1]),
    Mistake("drop the channel axis: return an (H, W) map (tf.image.resize gives (H, W, 1): take [..., 0]).",
            test=lambda case, found, expected: np.shape(found) == (*case["size"], 1)),
]
UPSAMPLE_AND_NORMALISE = Exercise(
    name="upsample_and_normalise", implementation=f"{COURSE_MODULE}:upsample_and_normalise",
    cases=UPSAMPLE_CASES, run=run_upsample, describe=describe_upsample,
    mistakes=UPSAMPLE_MISTAKES, catalogue="cam", requires=engine.callable_answer("upsample_and_normalise"),
    hint="resize with tf.image.resize(cam[..., None], size, method='bilinear')[..., 0], then "
         "(x - x.min()) / (x.max() - x.min()), zeros when the map is constant.", atol=1e-4, rtol=1e-4)


# ============================================================================ exercise 5: grad_cam
def _grad_cam_case(name, seed, size, stages, classes, layer, class_index, nested=True, base_name="tiny_base",
                   images=2) -> Case:
    return Case(name, {"seed": seed, "images": images, "classes": classes, "layer": layer,
                       "class_index": class_index, "nested": nested,
                       "base": {"input": (*size, 3), "stages": stages, "name": base_name, "stem": 4}})


# Every 1x1 stride-2 shortcut convolution reads at least 16 channels: on TensorFlow 2.21's oneDNN CPU kernels, the
# gradient of a 1x1 stride-2 convolution with fewer input channels and an odd batch corrupts memory (and crashes).
GRAD_CAM_CASES = engine.Parts(
    visible=[
        _grad_cam_case("nested_base_last_layer", 61, (12, 12), ((16, 1, 1), (8, 1, 2)), 4, "conv3_block1_out", 1),
        _grad_cam_case("nested_base_inner_layer", 61, (12, 12), ((16, 1, 1), (8, 1, 2)), 4, "conv2_block1_out", 2),
        _grad_cam_case("flat_model_1_image", 62, (10, 14), ((16, 1, 1), (6, 1, 2)), 3, "conv3_block1_out", 0,
                       nested=False, images=1),
    ],
    hidden=engine.hidden_cases(ASSIGNMENT, "GRAD_CAM_CASES"))


def describe_grad_cam(case: Case) -> str:
    spec = case["base"]
    model = (f"transfer model whose base {spec['name']!r} is one nested layer" if case["nested"]
             else "model whose layers are its own (no nested base)")
    h, w, _ = spec["input"]
    return (f"grad_cam({model}, {case['images']} images {h}x{w}, layer_name={case['layer']!r}, "
            f"class_index={case['class_index']})")


def grad_cam_models(case: Case):
    """(the model grad_cam gets, a probe: images -> [output of the case's layer, last feature map]), known weights."""
    import keras
    from keras import layers

    base, tensors = tiny_base(case["base"])
    probe = keras.Model(base.input, [tensors[case["layer"]], base.output])
    if case["nested"]:
        inputs = keras.Input(case["base"]["input"], name="photos")
        features = base(inputs, training=False)
    else:
        inputs, features = base.input, base.output
    pooled = layers.GlobalAveragePooling2D(name=POOL)(features)
    outputs = layers.Dense(case["classes"], activation="softmax", name=DENSE)(pooled)
    model = keras.Model(inputs, outputs, name="transfer_model" if case["nested"] else case["base"]["name"])
    set_model_weights(model)
    return model, probe


def grad_cam_images(case: Case) -> np.ndarray:
    return case_images(case["seed"], (case["images"], *case["base"]["input"]))


def run_grad_cam(grad_cam, case: Case) -> np.ndarray:
    model, _ = grad_cam_models(case)
    found = grad_cam(model, grad_cam_images(case), case["layer"], case["class_index"])
    return to_numpy(found, "the output of grad_cam", dtype=np.float32, hint="return the maps as an array (N, H, W).")












def _last_feature_map_shape(case: Case) -> tuple:
    h, w, _ = case["base"]["input"]
    for _, _, strides in case["base"]["stages"]:
        h, w = -(-h // strides), -(-w // strides)
    return case["images"], h, w


GRAD_CAM_MISTAKES = [
    Mistake("no normalisation in grad_cam: return ReLU(sum_k alpha_k A_k) as it is (upsample_and_normalise scales it "
            "later).", test=lambda case, found, expected: np.allclose(np.max(found, axis=(1, 2)), 1.0)),
    Mistake("layer_name is ignored: the map has the size of the LAST feature map; use the output of the layer "
            "named layer_name.", test=lambda case, found, expected: np.shape(found) == _last_feature_map_shape(case)
            and case["layer"] != f"conv{len(case['base']['stages']) + 1}_block{case['base']['stages'][-1][1]}_out"),
    Mistake("return one map per image, shape (N, H, W): keep the batch axis, also for a single image.",
            test=lambda case, found, expected: np.ndim(found) != 3),
]
NESTED = ("layer_name is inside the base, a model nested as ONE layer of the transfer model: search model.layers "
          "for a keras.Model that holds it and build the feature model from THAT model's input "
          "(keras.Model(base.input, [base.get_layer(layer_name).output, base.output])), then apply the head.")
GRAD_CAM_CRASHES = (
    CrashHint(("No such layer",), NESTED, ValueError),
    CrashHint(("is not connected to",), "Graph disconnected: " + NESTED, ValueError),
    CrashHint(("has never been called",), "a layer of a nested model has no output in the outer graph: " + NESTED),
    CrashHint(("has no attribute 'get_layer'",), "layer_name may also be one of the model's OWN layers (no nested "
              "base): look for it in model.layers first."),
    CrashHint(("StopIteration",), "layer_name may also be one of the model's OWN layers (no nested base): look for "
              "it in model.layers first.", (StopIteration, RuntimeError)),
    CrashHint(("list index out of range",), "layer_name may also be one of the model's OWN layers (no nested "
              "base): look for it in model.layers first.", IndexError),
)

GRAD_CAM = Exercise(
    name="grad_cam", implementation=f"{COURSE_MODULE}:grad_cam",
    cases=GRAD_CAM_CASES, run=run_grad_cam, describe=describe_grad_cam, mistakes=GRAD_CAM_MISTAKES, catalogue="cam",
    hint="with a GradientTape: A = output of layer_name, score = logit of class_index (pooled features @ kernel + "
         "bias of 'predictions'); alpha = mean over (1, 2) of d score / d A; map = ReLU(sum_k alpha_k A_k).",
    crashes=GRAD_CAM_CRASHES, requires=engine.callable_answer("grad_cam"), atol=1e-5, rtol=1e-3)


# ============================================================================ exercises 6 and 7: localisation
AMBIGUOUS = CrashHint(("truth value of an array",), "combine element-wise conditions with | (or np.isin(mask, "
                                                    "(1, 2))): `mask == 1 or mask == 2` asks Python for ONE truth "
                                                    "value.")


def _mask_case(name, size, animals, peak, tolerance=None, boundary=2) -> Case:
    return Case(name, {"size": size, "animals": animals, "peak": peak, "tolerance": tolerance, "boundary": boundary})


def case_mask(case: Case) -> np.ndarray:
    """0 background, the animals' labels (1 cat, 2 dog) in their rectangles, a 255 ring around each."""
    mask = np.zeros(case["size"], dtype=np.uint8)
    b = case["boundary"]
    for r0, r1, c0, c1, label in case["animals"]:
        ring = mask[max(r0 - b, 0):r1 + b, max(c0 - b, 0):c1 + b]
        ring[ring == 0] = BOUNDARY
    for r0, r1, c0, c1, label in case["animals"]:
        mask[r0:r1, c0:c1] = label
    return mask


def peak_map(case: Case) -> np.ndarray:
    """A smooth map whose one maximum is at ``peak`` (row, column)."""
    rows, cols = np.indices(case["size"])
    r, c = case["peak"]
    return np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / 50.0).astype(np.float32)


def describe_pointing(case: Case) -> str:
    h, w = case["size"]
    animals = "; ".join(f"label {label} at rows {r0}-{r1 - 1}, cols {c0}-{c1 - 1}"
                        for r0, r1, c0, c1, label in case["animals"])
    tolerance = "" if case["tolerance"] is None else f", tolerance={case['tolerance']}"
    rows, cols = np.nonzero(np.isin(case_mask(case), ANIMAL))
    nearest = np.hypot(rows - case["peak"][0], cols - case["peak"][1]).min()
    return (f"pointing_game_hit(map {h}x{w} peaking at row {case['peak'][0]}, col {case['peak'][1]}; mask: "
            f"{animals}, 255 ring of {case['boundary']} around{tolerance}) [nearest animal pixel {nearest:.1f} px "
            f"away]")


def run_pointing(pointing_game_hit, case: Case):
    cam, mask = peak_map(case), case_mask(case)
    found = (pointing_game_hit(cam, mask) if case["tolerance"] is None
             else pointing_game_hit(cam, mask, tolerance=case["tolerance"]))
    if isinstance(found, (bool, np.bool_)) or (hasattr(found, "shape") and np.shape(found) == ()
                                                and np.asarray(found).dtype == np.bool_):  # a 0-d array or tensor
        return bool(found)
    fail(f"{describe_pointing(case)} should return True or False", expected="a bool", found=short(found),
         hint="return whether the peak is within tolerance of an animal pixel: a comparison gives a bool.")




# 40x60 masks; the animal's rectangle and the peak are placed so each mistake answers wrongly somewhere.
CAT = (10, 20, 30, 50, 1)
DOG = (10, 20, 30, 50, 2)
POINTING_CASES = engine.Parts(
    visible=[
        _mask_case("peak_on_a_dog", (40, 60), [DOG], (18, 48)),
        _mask_case("swapped_peak_would_hit", (40, 60), [CAT], (35, 12)),
        _mask_case("peak_near_the_ring_only", (40, 60), [CAT], (3, 40), tolerance=6),
        _mask_case("animal_20_px_away", (40, 60), [DOG], (39, 40), tolerance=20),
        _mask_case("peak_3_px_away", (40, 60), [CAT], (22, 40)),
        _mask_case("diagonal_12_12_away", (40, 60), [CAT], (31, 18)),
        _mask_case("diagonal_8_8_away", (40, 60), [DOG], (27, 22)),
        _mask_case("exactly_15_px_away", (40, 60), [CAT], (31, 21)),
        _mask_case("6_px_away_tolerance_8", (40, 60), [CAT], (25, 40), tolerance=8),
        _mask_case("peak_on_a_big_cat_far_from_its_centre", (40, 60), [(2, 38, 2, 58, 1)], (4, 5), tolerance=4),
    ],
    hidden=engine.hidden_cases(ASSIGNMENT, "POINTING_CASES"))



POINTING_GAME_HIT = Exercise(
    name="pointing_game_hit", implementation=f"{COURSE_MODULE}:pointing_game_hit",
    cases=POINTING_CASES, run=run_pointing, describe=describe_pointing,
    catalogue="cam", crashes=(AMBIGUOUS,), requires=engine.callable_answer("pointing_game_hit"),
    hint="row, col = np.unravel_index(np.argmax(cam), cam.shape); hit when the smallest Euclidean distance from "
         "(row, col) to a pixel with mask 1 or 2 is <= tolerance.")


def _mass_case(name, seed, size, animals, boundary=2, offset=0.1) -> Case:
    return Case(name, {"seed": seed, "size": size, "animals": animals, "boundary": boundary, "offset": offset})


MASS_CASES = engine.Parts(
    visible=[_mass_case("cat_and_dog_30x40", 81, (30, 40), [(3, 12, 4, 15, 1), (15, 27, 20, 36, 2)]),
             _mass_case("one_dog_24x24", 82, (24, 24), [(6, 18, 5, 14, 2)], offset=0.5)],
    hidden=engine.hidden_cases(ASSIGNMENT, "MASS_CASES"))


def mass_inputs(case: Case):
    """(a non-negative map: smooth bumps plus an offset, the case's mask)."""
    rng = np.random.default_rng(case["seed"])
    rows, cols = np.indices(case["size"])
    cam = np.full(case["size"], case["offset"])
    for _ in range(3):
        r, c = rng.uniform(0, case["size"][0]), rng.uniform(0, case["size"][1])
        cam += rng.uniform(0.5, 2) * np.exp(-((rows - r) ** 2 + (cols - c) ** 2) / rng.uniform(10, 60))
    return cam.astype(np.float32), case_mask(case)


def describe_mass(case: Case) -> str:
    h, w = case["size"]
    labels = sorted({animal[-1] for animal in case["animals"]})
    return (f"mass_inside(a non-negative map {h}x{w}, mask with labels {labels} and a 255 ring of "
            f"{case['boundary']} around each animal)")


def run_mass(mass_inside, case: Case) -> float:
    cam, mask = mass_inputs(case)
    found = mass_inside(cam.copy(), mask.copy())
    if isinstance(found, bool) or not (isinstance(found, numbers.Real) or np.shape(found) == ()):
        fail(f"{describe_mass(case)} should return a number", expected="a float between 0 and 1",
             found=short(found), hint="return the share: mass on the animal / total mass.")
    return float(found)





MASS_INSIDE = Exercise(
    name="mass_inside", implementation=f"{COURSE_MODULE}:mass_inside",
    cases=MASS_CASES, run=run_mass, describe=describe_mass, catalogue="cam",
    crashes=(AMBIGUOUS,), requires=engine.callable_answer("mass_inside"), atol=1e-5, rtol=1e-5,
    hint="animal = np.isin(mask, (1, 2)); return cam[animal].sum() / cam.sum().")


# ============================================================================ the assignment
CHECKS = engine.Assignment(ASSIGNMENT, [BUILD_TRANSFER_MODEL, UNFREEZE_TOP, CLASS_ACTIVATION_MAP,
                                        UPSAMPLE_AND_NORMALISE, GRAD_CAM, POINTING_GAME_HIT, MASS_INSIDE],
                           uses_backbone=True)
build_references = CHECKS.build_references
check_build_transfer_model = CHECKS.checker("build_transfer_model")
check_unfreeze_top = CHECKS.checker("unfreeze_top")
check_class_activation_map = CHECKS.checker("class_activation_map")
check_upsample_and_normalise = CHECKS.checker("upsample_and_normalise")
check_grad_cam = CHECKS.checker("grad_cam")
check_pointing_game_hit = CHECKS.checker("pointing_game_hit")
check_mass_inside = CHECKS.checker("mass_inside")

__all__ = ["CHECKS", "build_references", "check_build_transfer_model", "check_unfreeze_top",
           "check_class_activation_map", "check_upsample_and_normalise", "check_grad_cam",
           "check_pointing_game_hit", "check_mass_inside", "tiny_base", "set_model_weights", "case_images",
           "grad_cam_models"]
