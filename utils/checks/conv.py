"""Checks of notebook 01 (convolution filters and pooling).

Each ``check_<exercise>(student_answer, hidden=False)`` runs the student's
code on the visible cases (or, with ``hidden=True``, on other cases the
student never sees), compares with the reference outputs stored in
``autograde/references/01_convolutions.json`` and, when they differ, names the
likely mistake by comparing the student's output with the outputs of known
mistakes (computed here, from the same inputs).

The inputs of every case are defined here (shapes and seeds); the expected
outputs are produced from the solution notebook by :func:`build_references`.
"""
from __future__ import annotations

import functools
import math
import numbers
import re

import numpy as np

from .. import references
from .core import CheckFailed, call_student, describe_call, diagnose, fail, matches, part_name, passed, short, to_numpy

ASSIGNMENT = "01_convolutions"

# ----------------------------------------------------------------------------- cases
# conv_output_size: (n, k, padding, stride)
OUTPUT_SIZE_CASES = {
    "visible": [(28, 3, "valid", 1), (28, 3, "same", 1), (150, 5, "same", 1), (224, 7, "same", 2),
                (7, 3, "valid", 2), (10, 3, "valid", 2), (8, 4, "valid", 3)],
    "hidden": [(224, 7, "valid", 2), (5, 2, "same", 2), (6, 3, "valid", 3), (9, 2, "valid", 3),
               (13, 1, "valid", 4), (227, 11, "valid", 4), (56, 1, "same", 2), (7, 7, "valid", 1),
               (9, 2, "same", 4), (112, 3, "same", 2), (5, 3, "valid", 5), (11, 4, "same", 3)],
}
BAD_PADDINGS = {"visible": ["full"], "hidden": ["causal", "symmetric"]}

# conv2d_numpy: name -> (seed, images shape, kernels shape, stride, padding)
CONV_CASES = {
    "visible": {
        "3x3_valid": (1, (2, 6, 7, 3), (3, 3, 3, 4), 1, "valid"),
        "3x3_same": (2, (2, 6, 7, 3), (3, 3, 3, 4), 1, "same"),
        "2x2_same_stride2": (3, (1, 7, 8, 2), (2, 2, 2, 3), 2, "same"),
    },
    "hidden": {
        "3x3_valid_stride2": (11, (2, 9, 9, 3), (3, 3, 3, 2), 2, "valid"),
        "4x4_same": (12, (1, 8, 8, 1), (4, 4, 1, 2), 1, "same"),
        "1x1_valid": (13, (2, 7, 6, 4), (1, 1, 4, 5), 1, "valid"),
        "3x2_same_stride3": (14, (1, 10, 9, 2), (3, 2, 2, 3), 3, "same"),
        "5x5_valid_to_1x1": (15, (1, 5, 5, 3), (5, 5, 3, 1), 1, "valid"),
        "2x3_valid_stride2": (16, (1, 8, 7, 2), (2, 3, 2, 2), 2, "valid"),
        "3x3_same_stride2": (17, (2, 8, 9, 3), (3, 3, 3, 2), 2, "same"),
    },
}

# max_pool_numpy: name -> (seed, images shape, pool_size, stride); stride None = use the default
POOL_CASES = {
    "visible": {
        "2x2": (21, (2, 6, 6, 3), 2, None),
        "2x2_odd_size": (22, (1, 7, 7, 2), 2, None),
        "3x3_stride2": (23, (1, 7, 8, 3), 3, 2),
    },
    "hidden": {
        "3x3": (31, (2, 9, 9, 1), 3, None),
        "2x2_stride1": (32, (1, 8, 8, 4), 2, 1),
        "4x4_stride3": (33, (1, 10, 7, 3), 4, 3),
        "4x4_to_1x1": (34, (3, 4, 4, 2), 4, None),
        "negative_only": (35, (1, 6, 5, 2), 2, None),
    },
}

# DepthPool: name -> (seed, input shape, pool_size)
DEPTH_CASES = {
    "visible": {"pool3_6ch": (41, (2, 3, 3, 6), 3), "pool2_4ch": (42, (1, 4, 4, 4), 2)},
    "hidden": {"pool4_8ch": (51, (2, 2, 3, 8), 4), "pool1_3ch": (52, (1, 2, 2, 3), 1),
               "pool2_in_model": (53, (3, 5, 5, 6), 2)},
}
DEPTH_BAD = {"visible": ((1, 2, 2, 5), 2), "hidden": ((1, 3, 3, 6), 4)}

# conv_layer_cost: name -> keyword arguments
COST_CASES = {
    "visible": {
        "course_example": dict(height=150, width=100, channels=3, filters=200, kernel_size=5),
        "course_example_batch100": dict(height=150, width=100, channels=3, filters=200, kernel_size=5,
                                        batch_size=100),
    },
    "hidden": {
        "resnet_stem": dict(height=224, width=224, channels=3, filters=64, kernel_size=7, stride=2,
                            padding="same", batch_size=32),
        "valid_half_precision": dict(height=32, width=32, channels=64, filters=128, kernel_size=3,
                                     padding="valid", batch_size=8, bytes_per_value=2),
        "valid_stride2": dict(height=28, width=28, channels=1, filters=32, kernel_size=5, stride=2,
                              padding="valid"),
        "pointwise": dict(height=56, width=56, channels=256, filters=64, kernel_size=1, batch_size=4),
        "same_stride3_odd": dict(height=31, width=17, channels=16, filters=8, kernel_size=3, stride=3,
                                 batch_size=2, bytes_per_value=8),
    },
}
COST_KEYS = ("parameters", "multiplications", "output_bytes")


def random_input(seed: int, shape) -> np.ndarray:
    """The deterministic float32 input of a case (standard normal values)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


def conv_inputs(case):
    seed, image_shape, kernel_shape, stride, padding = case
    return random_input(seed, image_shape), random_input(seed + 1000, kernel_shape), stride, padding


def all_negative(images: np.ndarray) -> np.ndarray:
    return -np.abs(images) - 0.1


def pool_input(name: str, case) -> np.ndarray:
    seed, shape, _, _ = case
    images = random_input(seed, shape)
    return all_negative(images) if name == "negative_only" else images


# ----------------------------------------------------------------------------- references
def _run_depth_pool(layer_class, name, case):
    import keras

    seed, shape, pool_size = case
    x = random_input(seed, shape)
    if name.endswith("in_model"):
        model = keras.Sequential([keras.Input(shape[1:]), layer_class(pool_size=pool_size)])
        return np.asarray(model(x, training=False))
    return np.asarray(layer_class(pool_size=pool_size)(x))


def build_references(ns: dict) -> dict:
    """Run the solution (namespace ``ns``) on every case; the values stored as references."""
    values = {"conv_output_size": {}, "conv2d_numpy": {}, "max_pool_numpy": {}, "DepthPool": {},
              "conv_layer_cost": {}}
    for part in ("visible", "hidden"):
        values["conv_output_size"][part] = np.array(
            [ns["conv_output_size"](*case) for case in OUTPUT_SIZE_CASES[part]], dtype=np.int64)
        values["conv2d_numpy"][part] = {
            name: np.asarray(ns["conv2d_numpy"](*conv_inputs(case)[:2], stride=case[3], padding=case[4]),
                             dtype=np.float32)
            for name, case in CONV_CASES[part].items()}
        values["max_pool_numpy"][part] = {
            name: np.asarray(_call_pool(ns["max_pool_numpy"], pool_input(name, case), case[2], case[3]),
                             dtype=np.float32)
            for name, case in POOL_CASES[part].items()}
        values["DepthPool"][part] = {name: _run_depth_pool(ns["DepthPool"], name, case).astype(np.float32)
                                     for name, case in DEPTH_CASES[part].items()}
        values["conv_layer_cost"][part] = {
            name: {key: int(ns["conv_layer_cost"](**kwargs)[key]) for key in COST_KEYS}
            for name, kwargs in COST_CASES[part].items()}
    return values


stored = functools.partial(references.stored, ASSIGNMENT)


# ----------------------------------------------------------------------------- exercise 1
def _size_valid(n, k, s):
    return (n - k) // s + 1


def _size_same(n, k, s):
    return -(-n // s)


def _sizes(valid, same):
    return lambda n, k, padding, s: valid(n, k, s) if padding == "valid" else same(n, k, s)


OUTPUT_SIZE_MISTAKES = {
    "'valid': you forgot the +1: with n = k there is still one position for the window, "
    "so the size is floor((n - k) / s) + 1.": _sizes(lambda n, k, s: (n - k) // s, _size_same),
    "'valid': you rounded (n - k) / s up (ceil); the window must fit entirely inside the image, so round "
    "down: floor((n - k) / s) + 1.": _sizes(lambda n, k, s: math.ceil((n - k) / s) + 1, _size_same),
    "'valid': you used round(); the number of window positions is floor((n - k) / s) + 1 (use //).":
        _sizes(lambda n, k, s: round((n - k) / s) + 1, _size_same),
    "'valid': the stride is ignored; with stride s only every s-th position is kept: "
    "floor((n - k) / s) + 1.": _sizes(lambda n, k, s: n - k + 1, _size_same),
    "'valid': you divided n - k + 1 by the stride and rounded down; the formula is "
    "floor((n - k) / s) + 1 (equivalently ceil((n - k + 1) / s)).":
        _sizes(lambda n, k, s: (n - k + 1) // s, _size_same),
    "'same': the stride is ignored; 'same' keeps the size only for stride 1, in general it is ceil(n / s).":
        _sizes(_size_valid, lambda n, k, s: n),
    "'same': you rounded n / s down; TensorFlow rounds up: ceil(n / s).":
        _sizes(_size_valid, lambda n, k, s: n // s),
    "'same': you used the formula of 'valid'; with 'same' the kernel size does not matter: ceil(n / s).":
        _sizes(_size_valid, lambda n, k, s: (n - k) // s + 1),
    "'same': you padded (k - 1) // 2 pixels on each side; that is wrong for even kernels. TensorFlow's 'same' "
    "output size is simply ceil(n / s), padding bottom/right with the extra pixel.":
        _sizes(_size_valid, lambda n, k, s: (n + 2 * ((k - 1) // 2) - k) // s + 1),
    "'same': you padded k // 2 pixels on each side; that is wrong for even kernels. TensorFlow's 'same' "
    "output size is simply ceil(n / s).":
        _sizes(_size_valid, lambda n, k, s: (n + 2 * (k // 2) - k) // s + 1),
    "'valid' and 'same' are swapped.": _sizes(_size_same, _size_valid),
}


def check_conv_output_size(conv_output_size, hidden: bool = False) -> None:
    part = part_name(hidden)
    cases = OUTPUT_SIZE_CASES[part]
    expected = [int(v) for v in stored("conv_output_size", part)]
    found = [call_student(conv_output_size, *case, name="conv_output_size") for case in cases]
    for case, value in zip(cases, found):
        if isinstance(value, bool) or not isinstance(value, numbers.Integral):
            fail(f"conv_output_size{describe_call(case)} should return an int",
                 expected="an int", found=f"{value!r} ({type(value).__name__})",
                 hint="sizes are whole numbers: use // for floor division, or int(math.ceil(...)); "
                      "np.floor / np.ceil return floats.")
    found = [int(v) for v in found]
    if found != expected:
        hint = None
        for mistake, formula in OUTPUT_SIZE_MISTAKES.items():
            if [formula(*case) for case in cases] == found:
                hint = mistake
                break
        index = next(i for i, (a, b) in enumerate(zip(found, expected)) if a != b)
        n, k, padding, s = cases[index]
        if hint is None:
            hint = _single_case_hint(cases[index], found[index])
        fail(f"conv_output_size(n={n}, k={k}, padding={padding!r}, stride={s})",
             expected=expected[index], found=found[index], hint=hint)
    for padding in BAD_PADDINGS[part]:
        try:
            result = conv_output_size(10, 3, padding, 1)
        except ValueError:
            continue
        except NotImplementedError:
            call_student(conv_output_size, 10, 3, padding, 1)
        except Exception as error:
            fail(f"conv_output_size(10, 3, {padding!r}, 1) should raise ValueError",
                 expected="ValueError", found=type(error).__name__,
                 hint="raise ValueError(...) yourself for a padding other than 'valid' or 'same'.")
        else:
            fail(f"conv_output_size(10, 3, {padding!r}, 1) should raise ValueError",
                 expected="ValueError", found=f"it returned {result!r}",
                 hint="only 'valid' and 'same' are allowed: end with `raise ValueError(f\"unknown padding "
                      "{padding!r}\")` instead of treating every other string as one of them.")
    passed("conv_output_size", hidden=hidden)


def _single_case_hint(case, value):
    for mistake, formula in OUTPUT_SIZE_MISTAKES.items():
        if formula(*case) == value:
            return mistake
    return ("'valid': floor((n - k) / s) + 1; 'same': ceil(n / s). Work this case out by hand: "
            "how many window positions fit?")


# ----------------------------------------------------------------------------- exercise 2
def tf_same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's 'same': the extra pixel goes after (bottom/right)."""
    total = max((_size_same(n, k, s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def conv_variant(images, kernels, stride, pads, flip=False, channels="sum", pad_mode="constant"):
    """A cross-correlation with explicit padding ((top, bottom), (left, right)) and optional mistakes."""
    images = np.asarray(images, dtype=np.float64)
    kernels = np.asarray(kernels, dtype=np.float64)
    if flip:
        kernels = kernels[::-1, ::-1]
    kh, kw = kernels.shape[:2]
    x = np.pad(images, ((0, 0), pads[0], pads[1], (0, 0)), mode=pad_mode)
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
    if channels == "last_only":
        return np.einsum("nhwij,ijo->nhwo", windows[..., -1, :, :], kernels[:, :, -1, :])
    if channels == "first_only":
        return np.einsum("nhwij,ijo->nhwo", windows[..., 0, :, :], kernels[:, :, 0, :])
    if channels == "not_summed":
        return np.einsum("nhwcij,ijco->nhwco", windows, kernels)
    out = np.einsum("nhwcij,ijco->nhwo", windows, kernels)
    return out / (kh * kw * kernels.shape[2]) if channels == "mean" else out


def _pads(images, kernels, stride, padding, kind="tf"):
    (_, h, w, _), (kh, kw) = images.shape, kernels.shape[:2]
    if padding == "valid":
        return (0, 0), (0, 0)
    if kind == "tf":
        return tf_same_padding(h, kh, stride), tf_same_padding(w, kw, stride)
    if kind == "top_left":
        return tf_same_padding(h, kh, stride)[::-1], tf_same_padding(w, kw, stride)[::-1]
    if kind == "half_floor":
        return ((kh - 1) // 2,) * 2, ((kw - 1) // 2,) * 2
    if kind == "half_ceil":
        return (kh // 2,) * 2, (kw // 2,) * 2
    if kind == "total_both_sides":
        th, tw = sum(tf_same_padding(h, kh, stride)), sum(tf_same_padding(w, kw, stride))
        return (th, th), (tw, tw)
    raise ValueError(kind)


PADDING_HINTS = {
    "half_floor": "'same' padding: you padded (k - 1) // 2 zeros on each side (symmetric). TensorFlow pads a total "
                  "of max((out - 1) * s + k - n, 0) and puts the extra pixel at the bottom/right.",
    "half_ceil": "'same' padding: you padded k // 2 zeros on each side (symmetric). TensorFlow pads a total of "
                 "max((out - 1) * s + k - n, 0) and puts the extra pixel at the bottom/right.",
    "total_both_sides": "'same' padding: you padded the TOTAL amount on both sides; split it: top = total // 2, "
                        "bottom = total - top (same for left/right).",
}


def _conv_mistakes(images, kernels, stride, padding):
    def variant(**options):
        kind = options.pop("kind", "tf")
        s = options.pop("stride", stride)
        return lambda: conv_variant(images, kernels, s, _pads(images, kernels, stride, padding, kind), **options)

    mistakes = {
        "you flipped the kernel (a true convolution). tf.nn.conv2d computes a cross-correlation: "
        "multiply each window by the kernel as it is, without kernel[::-1, ::-1].": variant(flip=True),
        "'same' padding: you put the extra row/column of zeros at the top/left; TensorFlow puts it at the "
        "bottom/right (top = total // 2, bottom = total - top).": variant(kind="top_left"),
        PADDING_HINTS["half_floor"]: variant(kind="half_floor"),
        PADDING_HINTS["half_ceil"]: variant(kind="half_ceil"),
        PADDING_HINTS["total_both_sides"]: variant(kind="total_both_sides"),
        "you padded with something other than zeros (e.g. np.pad's mode='edge' or 'reflect'); "
        "TensorFlow pads with zeros (mode='constant').": variant(pad_mode="edge"),
        "you padded with something other than zeros (mode='reflect'); TensorFlow pads with zeros.":
            variant(pad_mode="reflect"),
        "you only kept the last input channel: sum the products over ALL input channels (use += in "
        "the channel loop, or sum over the channel axis).": variant(channels="last_only"),
        "you only used the first input channel: sum the products over ALL input channels.":
            variant(channels="first_only"),
        "you averaged the products instead of summing them (np.mean instead of np.sum).":
            variant(channels="mean"),
    }
    if kernels.shape[0] != kernels.shape[1]:
        swapped = np.swapaxes(kernels, 0, 1)
        mistakes["kernel height and width are swapped: kernels have shape (kh, kw, C_in, C_out)."] = (
            lambda: conv_variant(images, swapped, stride, _pads(images, swapped, stride, padding)))
    return mistakes


def _conv_shape_hint(found_shape, images, kernels, stride, padding, expected_shape):
    (n, h, w, _), (kh, kw, c_in, c_out) = images.shape, kernels.shape
    valid = (n, _size_valid(h, kh, stride), _size_valid(w, kw, stride), c_out)
    stride1 = (n, *(_size_same(d, k, 1) if padding == "same" else _size_valid(d, k, 1)
                    for d, k in ((h, kh), (w, kw))), c_out)
    if len(found_shape) == 5 and found_shape[-2:] == (c_in, c_out):
        return "the input channels were not summed: each output value is ONE number, the sum over kh, kw AND C_in."
    if found_shape == expected_shape[:3]:
        return "the output channel axis is missing: one output channel per kernel (C_out = kernels.shape[3])."
    if stride != 1:
        (t, b), (l, r) = _pads(images, kernels, stride, padding)
        padded_stride1 = (n, h + t + b - kh + 1, w + l + r - kw + 1, c_out)
        if found_shape in (stride1, padded_stride1):
            return f"the stride is ignored: with stride={stride} move the window {stride} pixels at a time."
    if padding == "same" and found_shape == valid:
        return "padding='same' is ignored: pad the images with zeros first (TensorFlow: extra pixel bottom/right)."
    if padding == "valid" and found_shape == (n, _size_same(h, kh, stride), _size_same(w, kw, stride), c_out):
        return "you padded although padding='valid' means no padding at all."
    short_by_one = (n, expected_shape[1] - 1, expected_shape[2] - 1, c_out)
    if found_shape == short_by_one:
        return "one window position is missing in each direction: your loop stops too early (off by one)."
    if padding == "same":
        for kind, hint in PADDING_HINTS.items():
            (t, b), (l, r) = _pads(images, kernels, stride, padding, kind)
            shape = (n, _size_valid(h + t + b, kh, stride), _size_valid(w + l + r, kw, stride), c_out)
            if found_shape == shape:
                return hint
    return "the output has shape (N, H', W', C_out) with H', W' given by conv_output_size."


def check_conv2d_numpy(conv2d_numpy, hidden: bool = False) -> None:
    part = part_name(hidden)
    expected_outputs = stored("conv2d_numpy", part)
    for name, case in CONV_CASES[part].items():
        images, kernels, stride, padding = conv_inputs(case)
        found = call_student(conv2d_numpy, images.copy(), kernels.copy(), stride=stride, padding=padding,
                             name="conv2d_numpy")
        found = to_numpy(found, "the output of conv2d_numpy", dtype=np.float64,
                         hint="return the output array (did you forget return?)")
        expected = expected_outputs[name]
        what = (f"conv2d_numpy(images of shape {images.shape}, kernels of shape {kernels.shape}, "
                f"stride={stride}, padding={padding!r})")
        if found.shape != expected.shape:
            fail(f"{what}: wrong output shape", expected=expected.shape, found=found.shape,
                 hint=_conv_shape_hint(found.shape, images, kernels, stride, padding, expected.shape))
        if not matches(found, expected, atol=1e-3):
            hint = diagnose(found, _conv_mistakes(images, kernels, stride, padding))
            diff = np.abs(found - expected)
            index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
            fail(f"{what}: wrong values (largest difference {diff.max():.3g} at index {index})",
                 expected=round(float(expected[index]), 5), found=round(float(found[index]), 5),
                 hint=hint or "each output value is sum(window * kernel) over kh, kw and C_in, for a window "
                              "starting at (i * stride, j * stride) of the zero-padded image.")
    passed("conv2d_numpy", hidden=hidden)


# ----------------------------------------------------------------------------- exercise 3
def _call_pool(fn, images, pool_size, stride):
    if stride is None:
        return fn(images, pool_size=pool_size)
    return fn(images, pool_size=pool_size, stride=stride)


def pool_variant(images, window, stride, reduce="max", ceil_mode=False, initial=None):
    images = np.asarray(images, dtype=np.float64)
    if ceil_mode:  # keep partial windows at the border (like padding='same' in a framework)
        h, w = images.shape[1:3]
        out_h, out_w = _size_same(h, window, stride), _size_same(w, window, stride)
        pad_h = max((out_h - 1) * stride + window - h, 0)
        pad_w = max((out_w - 1) * stride + window - w, 0)
        images = np.pad(images, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), constant_values=-np.inf)
    windows = np.lib.stride_tricks.sliding_window_view(images, (window, window), axis=(1, 2))
    windows = windows[:, ::stride, ::stride]
    if reduce == "mean":
        return windows.mean(axis=(-2, -1))
    if reduce == "min":
        return windows.min(axis=(-2, -1))
    if reduce == "max_channels":
        return windows.max(axis=(-3, -2, -1))
    out = windows.max(axis=(-2, -1))
    return np.maximum(out, initial) if initial is not None else out


def check_max_pool_numpy(max_pool_numpy, hidden: bool = False) -> None:
    part = part_name(hidden)
    expected_outputs = stored("max_pool_numpy", part)
    for name, case in POOL_CASES[part].items():
        _, _, pool_size, stride = case
        images = pool_input(name, case)
        found = call_student(_call_pool, max_pool_numpy, images.copy(), pool_size, stride, name="max_pool_numpy")
        found = to_numpy(found, "the output of max_pool_numpy", dtype=np.float64, hint="return the pooled array.")
        expected = expected_outputs[name]
        s = pool_size if stride is None else stride
        what = f"max_pool_numpy(images of shape {images.shape}, pool_size={pool_size}" + (
            ")" if stride is None else f", stride={stride})")
        if found.shape != expected.shape:
            shapes = {
                "the default stride must be pool_size (MaxPool2D's strides=None means strides=pool_size); "
                "you moved the window by 1.": lambda: pool_variant(images, pool_size, 1).shape,
                "the stride argument is ignored: when stride is given, move the window by `stride`, not by "
                "pool_size.": lambda: pool_variant(images, pool_size, pool_size).shape,
                "window size and stride are mixed up.": lambda: pool_variant(images, s, pool_size).shape,
                "you kept the partial windows at the right/bottom border; MaxPool2D uses padding='valid' and "
                "drops them: out = (n - pool_size) // stride + 1.":
                    lambda: pool_variant(images, pool_size, s, ceil_mode=True).shape,
                "you also took the max over the channels; max pooling works on each channel separately "
                "(reduce only the two spatial axes of each window).":
                    lambda: pool_variant(images, pool_size, s, reduce="max_channels").shape,
            }
            hint = next((h for h, shape in shapes.items() if _safe(shape) == found.shape), None)
            if hint is None and found.shape == (expected.shape[0], expected.shape[1] - 1, expected.shape[2] - 1,
                                                expected.shape[3]):
                hint = "one window position is missing in each direction: your loop stops too early (off by one)."
            fail(f"{what}: wrong output shape", expected=expected.shape, found=found.shape,
                 hint=hint or "out = (n - pool_size) // stride + 1 in each spatial direction; channels unchanged.")
        if not matches(found, expected, atol=1e-5):
            hint = diagnose(found, {
                "you averaged the window: that is average pooling. Max pooling keeps the largest value "
                "(np.max / .max(axis=...)).": lambda: pool_variant(images, pool_size, s, reduce="mean"),
                "you took the minimum of each window; max pooling keeps the largest value.":
                    lambda: pool_variant(images, pool_size, s, reduce="min"),
                "your running maximum starts at 0, so windows whose values are all negative give 0. Start from "
                "-np.inf or the window's first value (or just use window.max()).":
                    lambda: pool_variant(images, pool_size, s, initial=0.0),
                "the stride argument is ignored: when stride is given, move the window by `stride`.":
                    lambda: pool_variant(images, pool_size, pool_size),
                "window size and stride are mixed up.": lambda: pool_variant(images, s, pool_size),
            })
            diff = np.abs(found - expected)
            index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
            fail(f"{what}: wrong values at index {index}", expected=round(float(expected[index]), 5),
                 found=round(float(found[index]), 5),
                 hint=hint or "output[n, i, j, c] is the max of images[n, i*s:i*s+p, j*s:j*s+p, c].")
    passed("max_pool_numpy", hidden=hidden)


def _safe(produce):
    try:
        return produce()
    except Exception:
        return None


# ----------------------------------------------------------------------------- exercise 4
def depth_variant(x, pool_size, kind):
    x = np.asarray(x, dtype=np.float64)
    groups = x.shape[-1] // pool_size
    if kind == "strided":
        return x.reshape(*x.shape[:-1], pool_size, groups).max(axis=-2)
    grouped = x.reshape(*x.shape[:-1], groups, pool_size)
    if kind == "mean":
        return grouped.mean(axis=-1)
    if kind == "min":
        return grouped.min(axis=-1)
    if kind == "wrong_axis":
        return grouped.max(axis=-2)
    raise ValueError(kind)


def check_DepthPool(DepthPool, hidden: bool = False) -> None:  # noqa: N802 (named after the class)
    import keras

    part = part_name(hidden)
    if not (isinstance(DepthPool, type) and issubclass(DepthPool, keras.layers.Layer)):
        fail("DepthPool should be a Keras layer class", expected="class DepthPool(keras.layers.Layer)",
             found=short(DepthPool), hint="subclass keras.layers.Layer.")
    expected_outputs = stored("DepthPool", part)
    for name, (seed, shape, pool_size) in DEPTH_CASES[part].items():
        x = random_input(seed, shape)
        in_model = name.endswith("in_model")
        what = (f"DepthPool(pool_size={pool_size}) on an input of shape {shape}"
                + (" inside a model (batch size unknown when the model is built)" if in_model else ""))
        try:
            found = _run_depth_pool(DepthPool, name, (seed, shape, pool_size))
        except NotImplementedError:
            fail("DepthPool is not written yet",
                 hint="replace `raise NotImplementedError()` in the exercise cell with your code, then run that "
                      "cell again.")
        except Exception as error:
            fail(f"{what} raised {type(error).__name__}", found=error_text(error),
                 hint=("inside a model the batch size is None while the model is built: reshape with "
                       "tf.shape(inputs) (or -1 for the batch axis) instead of inputs.shape[0]."
                       if in_model else "read the error; run your layer on tf.random.normal(" f"{shape}) to debug."))
        expected = expected_outputs[name]
        if found.shape != expected.shape:
            h = None
            if found.shape[-1] == shape[-1]:
                h = "you pooled over height/width; DepthPool pools over the CHANNELS (the last axis) only."
            elif found.shape[-1] == pool_size and pool_size != expected.shape[-1]:
                h = ("you reduced the wrong axis: after reshaping to (..., C // pool_size, pool_size) take the "
                     "max over the LAST axis.")
            fail(f"{what}: wrong output shape", expected=expected.shape, found=found.shape,
                 hint=h or "the output keeps batch, height and width and has C // pool_size channels.")
        if not matches(found, expected, atol=1e-5):
            hint = diagnose(found, {
                "you grouped every (C // pool_size)-th channel together (strided groups). Group CONSECUTIVE "
                "channels: reshape to (..., C // pool_size, pool_size), then take the max over the last axis.":
                    lambda: depth_variant(x, pool_size, "strided"),
                "you averaged each group of channels; DepthPool keeps the maximum.":
                    lambda: depth_variant(x, pool_size, "mean"),
                "you took the minimum of each group of channels; DepthPool keeps the maximum.":
                    lambda: depth_variant(x, pool_size, "min"),
            })
            diff = np.abs(found - expected)
            index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
            fail(f"{what}: wrong values at index {index}", expected=round(float(expected[index]), 5),
                 found=round(float(found[index]), 5),
                 hint=hint or "output channel g is the max of input channels g*p ... g*p + p - 1.")
    bad_shape, bad_pool = DEPTH_BAD[part]
    _expect_depth_value_error(DepthPool, bad_shape, bad_pool)
    _check_depth_config(DepthPool, 3 if not hidden else 5)
    passed("DepthPool", hidden=hidden)


def error_text(error: Exception, limit: int = 300) -> str:
    """The useful part of an error message (Keras wraps errors raised in ``call`` in extra text)."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Exception encountered when calling")]
    if "Error encountered:" in lines:
        lines = lines[lines.index("Error encountered:") + 1:]
    for index, line in enumerate(lines):
        if line.startswith("Arguments received by"):
            lines = lines[:index]
            break
    message = " ".join(lines) or type(error).__name__
    return message if len(message) <= limit else message[:limit - 3] + "..."


def _expect_depth_value_error(DepthPool, shape, pool_size):  # noqa: N803
    what = (f"DepthPool(pool_size={pool_size}) on {shape[-1]} channels should raise ValueError "
            f"({shape[-1]} is not divisible by {pool_size})")
    try:
        DepthPool(pool_size=pool_size)(np.zeros(shape, dtype=np.float32))
    except ValueError as error:
        if error_text(error) != "ValueError":
            return
        fail(what, expected="a ValueError with a message", found="a ValueError without a message",
             hint="say what is wrong, e.g. raise ValueError(f\"{channels} channels cannot be split into groups "
                  "of {self.pool_size}\").")
    except Exception as error:
        fail(what, expected="ValueError", found=type(error).__name__,
             hint="check `channels % self.pool_size` yourself (in build() or call()) and raise a ValueError "
                  "with a clear message, rather than letting reshape fail.")
    else:
        fail(what, expected="ValueError", found="no error",
             hint="check `channels % self.pool_size` in build() or call() and raise ValueError.")


def _check_depth_config(DepthPool, pool_size):  # noqa: N803
    layer = DepthPool(pool_size=pool_size)
    try:
        config = layer.get_config()
    except Exception as error:
        fail("DepthPool(...).get_config() raised an error", found=f"{type(error).__name__}: {error}",
             hint="return {**super().get_config(), 'pool_size': self.pool_size}.")
    if not isinstance(config, dict) or config.get("pool_size") != pool_size:
        fail(f"DepthPool(pool_size={pool_size}).get_config() should record pool_size",
             expected=f"a dict with 'pool_size': {pool_size} (and the base layer's keys)",
             found=f"a dict with keys {sorted(config)}" if isinstance(config, dict) else short(config),
             hint="get_config must return {**super().get_config(), 'pool_size': self.pool_size}, so a saved "
                  "model can rebuild the layer.")
    if "name" not in config:
        fail("DepthPool.get_config() lost the base layer's settings", expected="keys name, trainable, dtype, ...",
             found=sorted(config), hint="start from super().get_config() and add pool_size to it.")
    try:
        clone = DepthPool.from_config(config)
    except Exception as error:
        fail("DepthPool.from_config(layer.get_config()) failed", found=f"{type(error).__name__}: {error}",
             hint="__init__ must accept **kwargs and pass them to super().__init__(**kwargs).")
    if getattr(clone, "pool_size", None) != pool_size:
        fail("DepthPool.from_config(layer.get_config()) lost pool_size", expected=pool_size,
             found=getattr(clone, "pool_size", None), hint="store the argument as self.pool_size in __init__.")


# ----------------------------------------------------------------------------- exercise 5
def _cost(height, width, channels, filters, kernel_size, stride=1, padding="same", batch_size=1,
          bytes_per_value=4, *, bias=True, in_channels_in_params=True, in_channels_in_mults=True,
          batch_in_mults=True, batch_in_bytes=True, bytes_unit=True, use_stride=True, use_padding=True,
          fixed_bytes=False):
    s = stride if use_stride else 1
    pad = padding if use_padding else "same"
    size = _size_valid if pad == "valid" else _size_same
    outputs = size(height, kernel_size, s) * size(width, kernel_size, s) * filters
    k2 = kernel_size * kernel_size
    return {
        "parameters": (k2 * (channels if in_channels_in_params else 1) + (1 if bias else 0)) * filters,
        "multiplications": outputs * k2 * (channels if in_channels_in_mults else 1)
        * (batch_size if batch_in_mults else 1),
        "output_bytes": outputs * (batch_size if batch_in_bytes else 1)
        * ((4 if fixed_bytes else bytes_per_value) if bytes_unit else 1),
    }


COST_MISTAKES = {
    "parameters": {
        "the bias is missing: each filter has one bias, so (k * k * C_in + 1) * filters.": dict(bias=False),
        "the input channels are missing: each filter has k * k * C_in weights (plus a bias).":
            dict(in_channels_in_params=False),
    },
    "multiplications": {
        "the input channels are missing: each output value needs k * k * C_in multiplications.":
            dict(in_channels_in_mults=False),
        "you counted one image; multiply by batch_size (the layer processes the whole batch).":
            dict(batch_in_mults=False),
        "the stride is ignored: with stride s the output is ceil(H / s) x ceil(W / s) ('same') or "
        "(H - k) // s + 1 ... ('valid').": dict(use_stride=False),
        "padding='valid' is ignored: the output is smaller, (H - k) // s + 1 by (W - k) // s + 1.":
            dict(use_padding=False),
    },
    "output_bytes": {
        "you counted values, not bytes: multiply by bytes_per_value.": dict(bytes_unit=False),
        "you counted one image; output_bytes is for the whole batch (multiply by batch_size).":
            dict(batch_in_bytes=False),
        "bytes_per_value is ignored (you always used 4 bytes).": dict(fixed_bytes=True),
        "the stride is ignored: with stride s the output is ceil(H / s) x ceil(W / s) ('same') or "
        "(H - k) // s + 1 ... ('valid').": dict(use_stride=False),
        "padding='valid' is ignored: the output is smaller, (H - k) // s + 1 by (W - k) // s + 1.":
            dict(use_padding=False),
    },
}


def check_conv_layer_cost(conv_layer_cost, hidden: bool = False) -> None:
    part = part_name(hidden)
    expected_all = stored("conv_layer_cost", part)
    for name, kwargs in COST_CASES[part].items():
        found = call_student(conv_layer_cost, name="conv_layer_cost", **kwargs)
        call = "conv_layer_cost(" + ", ".join(f"{k}={v!r}" for k, v in kwargs.items()) + ")"
        if not isinstance(found, dict):
            fail(f"{call} should return a dict", expected=f"a dict with keys {list(COST_KEYS)}",
                 found=short(found), hint="return {'parameters': ..., 'multiplications': ..., 'output_bytes': ...}.")
        missing = [key for key in COST_KEYS if key not in found]
        if missing:
            fail(f"{call}: keys missing from the dict", expected=list(COST_KEYS), found=sorted(found),
                 hint=f"add {missing} (spelled exactly like that).")
        expected = expected_all[name]
        for key in COST_KEYS:
            value = found[key]
            if not isinstance(value, numbers.Number) or value != int(expected[key]):
                hint = next((h for h, options in COST_MISTAKES[key].items()
                             if _cost(**kwargs, **options)[key] == value), None)
                if hint is None and isinstance(value, numbers.Number) and value * 1_000_000 == int(expected[key]):
                    hint = "report plain counts, not millions."
                if hint is None and isinstance(value, numbers.Number) and value * 1e6 == int(expected[key]):
                    hint = "report bytes, not megabytes."
                fail(f"{call}[{key!r}]", expected=f"{int(expected[key]):,}",
                     found=f"{value:,}" if isinstance(value, numbers.Number) else short(value),
                     hint=hint or _cost_hint(key))
    passed("conv_layer_cost", hidden=hidden)


def _cost_hint(key):
    return {
        "parameters": "each of the `filters` filters has kernel_size * kernel_size * channels weights and one bias.",
        "multiplications": "output values (per image: out_h * out_w * filters) times kernel_size * kernel_size * "
                           "channels, times batch_size.",
        "output_bytes": "out_h * out_w * filters values per image, times batch_size, times bytes_per_value.",
    }[key]


__all__ = ["ASSIGNMENT", "build_references", "check_conv_output_size", "check_conv2d_numpy",
           "check_max_pool_numpy", "check_DepthPool", "check_conv_layer_cost", "CheckFailed"]
