"""Checks of notebook 01 (convolution filters and pooling), described as data for the engine.

Five exercises: ``conv_output_size``, ``conv2d_numpy``, ``max_pool_numpy``,
``DepthPool`` and ``conv_layer_cost``. For each: its cases (seeds and shapes;
the visible ones cover every kind of mistake the catalogue knows, the hidden
ones other sizes and values), how an answer is run on a case, and its known
mistakes, each computed here from the same inputs so a wrong output is named.

Accepted, because they behave the same for every input: any integer type for
sizes and counts (``int``, ``np.int64``, ``math.floor``), floats with an
integral value for counts; any array-like output (NumPy, a tensor) of any
float dtype; ``DepthPool`` written with ``tf``, ``keras.ops`` or a max pool on
a reshaped tensor, checking the channels in ``build`` or in ``call``.

Rejected, and why:

* a size returned as a float (``np.floor`` gives ``4.0``): later code uses it
  as a shape, where floats fail;
* a padding other than ``'valid'``/``'same'`` silently treated as one of them:
  a typo must not give a plausible number, so it must raise ``ValueError``;
* ``DepthPool`` without ``get_config`` recording ``pool_size``: a saved model
  would reload with the default pool size and give other outputs.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from . import engine, protocol
from .core import CheckFailed, error_text, fail, short, to_numpy
from .engine import Case, CrashHint, Exercise, Mistake

ASSIGNMENT = "01_convolutions"


def random_input(seed: int, shape) -> np.ndarray:
    """The deterministic float32 input of a case (standard normal values)."""
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


# ============================================================================ exercise 1: conv_output_size
def _size_case(n, k, padding, stride) -> Case:
    return Case(f"n{n}_k{k}_{padding}_s{stride}", {"n": n, "k": k, "padding": padding, "stride": stride})


OUTPUT_SIZE_CASES = engine.Parts(
    visible=[_size_case(*c) for c in [(28, 3, "valid", 1), (28, 3, "same", 1), (150, 5, "same", 1),
                                      (224, 7, "same", 2), (7, 3, "same", 2), (8, 4, "same", 1),
                                      (7, 3, "valid", 2), (10, 3, "valid", 2), (8, 4, "valid", 3),
                                      (10, 3, "full", 1)]],
    hidden=engine.hidden_cases(ASSIGNMENT, "OUTPUT_SIZE_CASES"))
PADDINGS = ("valid", "same")
RAISED = "raises ValueError"


def run_output_size(conv_output_size, case: Case):
    args = (case["n"], case["k"], case["padding"], case["stride"])
    if case["padding"] not in PADDINGS:
        try:
            value = conv_output_size(*args)
        except ValueError:
            return RAISED
        except NotImplementedError:
            raise
        except Exception as error:
            return f"raises {type(error).__name__}"
        return f"returns {value!r}"
    value = conv_output_size(*args)
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        fail(f"{describe_output_size(case)} should return an int", expected="an int",
             found=f"{value!r} ({type(value).__name__})",
             hint="sizes are whole numbers: use // for floor division, or int(math.ceil(...)); "
                  "np.floor / np.ceil return floats.")
    return int(value)


def describe_output_size(case: Case) -> str:
    call = f"conv_output_size(n={case['n']}, k={case['k']}, padding={case['padding']!r}, stride={case['stride']})"
    return call if case["padding"] in PADDINGS else f"{call} should raise ValueError"


def _size_valid(n, k, s):
    return (n - k) // s + 1


def _size_same(n, k, s):
    return -(-n // s)


def _size_mistake(hint, valid=_size_valid, same=_size_same) -> Mistake:
    def output(case):
        n, k, padding, s = case["n"], case["k"], case["padding"], case["stride"]
        if padding not in PADDINGS:
            return None
        return valid(n, k, s) if padding == "valid" else same(n, k, s)
    return Mistake(hint, output=output)


OUTPUT_SIZE_MISTAKES = [
    _size_mistake("'valid': you forgot the +1: with n = k there is still one position for the window, "
                  "so the size is floor((n - k) / s) + 1.", valid=lambda n, k, s: (n - k) // s),
    _size_mistake("'valid': you rounded (n - k) / s up (ceil); the window must fit entirely inside the image, so "
                  "round down: floor((n - k) / s) + 1.", valid=lambda n, k, s: math.ceil((n - k) / s) + 1),
    _size_mistake("'valid': you used round(); the number of window positions is floor((n - k) / s) + 1 (use //).",
                  valid=lambda n, k, s: round((n - k) / s) + 1),
    _size_mistake("'valid': the stride is ignored; with stride s only every s-th position is kept: "
                  "floor((n - k) / s) + 1.", valid=lambda n, k, s: n - k + 1),
    _size_mistake("'valid': you divided n - k + 1 by the stride and rounded down; the formula is "
                  "floor((n - k) / s) + 1 (equivalently ceil((n - k + 1) / s)).",
                  valid=lambda n, k, s: (n - k + 1) // s),
    _size_mistake("'same': the stride is ignored; 'same' keeps the size only for stride 1, in general it is "
                  "ceil(n / s).", same=lambda n, k, s: n),
    _size_mistake("'same': you rounded n / s down; TensorFlow rounds up: ceil(n / s).",
                  same=lambda n, k, s: n // s),
    _size_mistake("'same': you used the formula of 'valid'; with 'same' the kernel size does not matter: "
                  "ceil(n / s).", same=_size_valid),
    _size_mistake("'same': you padded (k - 1) // 2 pixels on each side; that is wrong for even kernels. "
                  "TensorFlow's 'same' output size is simply ceil(n / s), padding bottom/right with the extra pixel.",
                  same=lambda n, k, s: (n + 2 * ((k - 1) // 2) - k) // s + 1),
    _size_mistake("'same': you padded k // 2 pixels on each side; that is wrong for even kernels. TensorFlow's "
                  "'same' output size is simply ceil(n / s).", same=lambda n, k, s: (n + 2 * (k // 2) - k) // s + 1),
    _size_mistake("'valid' and 'same' are swapped.", valid=lambda n, k, s: _size_same(n, k, s),
                  same=_size_valid),
    Mistake("only 'valid' and 'same' are allowed: end with `raise ValueError(f\"unknown padding {padding!r}\")` "
            "instead of treating every other string as one of them.",
            test=lambda case, found: str(found).startswith("returns")),
    Mistake("raise ValueError(...) yourself for a padding other than 'valid' or 'same' (another error type "
            "tells the caller something else went wrong).",
            test=lambda case, found: str(found).startswith("raises") and found != RAISED),
]

OUTPUT_SIZE = Exercise(
    name="conv_output_size", cases=OUTPUT_SIZE_CASES, run=run_output_size, describe=describe_output_size,
    hint="'valid': floor((n - k) / s) + 1; 'same': ceil(n / s); any other padding: raise ValueError. Work this "
         "case out by hand: how many window positions fit?",
    mistakes=OUTPUT_SIZE_MISTAKES, requires=engine.callable_answer("conv_output_size"))


# ============================================================================ exercise 2: conv2d_numpy
def _conv_case(name, seed, images, kernels, stride, padding) -> Case:
    return Case(name, {"seed": seed, "images": images, "kernels": kernels, "stride": stride, "padding": padding})


CONV_CASES = engine.Parts(
    visible=[
        _conv_case("3x3_valid", 1, (2, 6, 7, 3), (3, 3, 3, 4), 1, "valid"),
        _conv_case("3x3_same", 2, (2, 6, 7, 3), (3, 3, 3, 4), 1, "same"),
        _conv_case("2x2_same_stride2", 3, (1, 7, 8, 2), (2, 2, 2, 3), 2, "same"),
        _conv_case("3x2_valid_stride2", 4, (1, 7, 8, 2), (3, 2, 2, 2), 2, "valid"),
    ],
    hidden=engine.hidden_cases(ASSIGNMENT, "CONV_CASES"))


def conv_inputs(case: Case):
    """(images, kernels, stride, padding) of a conv2d case."""
    seed = case["seed"]
    return random_input(seed, case["images"]), random_input(seed + 1000, case["kernels"]), case["stride"], case[
        "padding"]


def run_conv(conv2d_numpy, case: Case) -> np.ndarray:
    images, kernels, stride, padding = conv_inputs(case)
    found = conv2d_numpy(images.copy(), kernels.copy(), stride=stride, padding=padding)
    return to_numpy(found, "the output of conv2d_numpy", dtype=np.float32,
                    hint="return the output array (did you forget return?)")


def describe_conv(case: Case) -> str:
    return (f"conv2d_numpy(images of shape {case['images']}, kernels of shape {case['kernels']}, "
            f"stride={case['stride']}, padding={case['padding']!r})")


def tf_same_padding(n: int, k: int, s: int) -> tuple[int, int]:
    """(before, after) padding of TensorFlow's 'same': the extra pixel goes after (bottom/right)."""
    total = max((_size_same(n, k, s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


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
    if kind == "none":
        return (0, 0), (0, 0)
    raise ValueError(kind)


def conv_variant(images, kernels, strides, pads, flip=False, channels="sum", pad_mode="constant"):
    """A cross-correlation with explicit padding ((top, bottom), (left, right)) and optional mistakes."""
    images = np.asarray(images, dtype=np.float64)
    kernels = np.asarray(kernels, dtype=np.float64)
    if flip:
        kernels = kernels[::-1, ::-1]
    kh, kw = kernels.shape[:2]
    x = np.pad(images, ((0, 0), pads[0], pads[1], (0, 0)), mode=pad_mode)
    rows, cols = strides
    windows = np.lib.stride_tricks.sliding_window_view(x, (kh, kw), axis=(1, 2))[:, ::rows, ::cols]
    if channels == "last_only":
        return np.einsum("nhwij,ijo->nhwo", windows[..., -1, :, :], kernels[:, :, -1, :])
    if channels == "first_only":
        return np.einsum("nhwij,ijo->nhwo", windows[..., 0, :, :], kernels[:, :, 0, :])
    if channels == "not_summed":
        return np.einsum("nhwcij,ijco->nhwco", windows, kernels)
    out = np.einsum("nhwcij,ijco->nhwo", windows, kernels)
    return out / (kh * kw * kernels.shape[2]) if channels == "mean" else out


def _conv_mistake(hint, kind="tf", strides=None, swap=False, **options) -> Mistake:
    def output(case):
        images, kernels, stride, padding = conv_inputs(case)
        if swap:
            if kernels.shape[0] == kernels.shape[1]:
                return None
            kernels = np.swapaxes(kernels, 0, 1)
        pads = _pads(images, kernels, stride, padding, kind)
        return conv_variant(images, kernels, strides(stride) if strides else (stride, stride), pads, **options)
    return Mistake(hint, output=output)


PADDING_WORDS = "TensorFlow pads a total of max((out - 1) * s + k - n, 0) and puts the extra pixel at the bottom/right."
CONV_MISTAKES = [
    _conv_mistake("you flipped the kernel (a true convolution). tf.nn.conv2d computes a cross-correlation: "
                  "multiply each window by the kernel as it is, without kernel[::-1, ::-1].", flip=True),
    _conv_mistake("'same' padding: you put the extra row/column of zeros at the top/left; TensorFlow puts it at "
                  "the bottom/right (top = total // 2, bottom = total - top).", kind="top_left"),
    _conv_mistake(f"'same' padding: you padded (k - 1) // 2 zeros on each side (symmetric). {PADDING_WORDS}",
                  kind="half_floor"),
    _conv_mistake(f"'same' padding: you padded k // 2 zeros on each side (symmetric). {PADDING_WORDS}",
                  kind="half_ceil"),
    _conv_mistake("'same' padding: you padded the TOTAL amount on both sides; split it: top = total // 2, "
                  "bottom = total - top (same for left/right).", kind="total_both_sides"),
    _conv_mistake("you padded with something other than zeros (np.pad's mode='edge'); TensorFlow pads with zeros "
                  "(mode='constant').", pad_mode="edge"),
    _conv_mistake("you padded with something other than zeros (mode='reflect'); TensorFlow pads with zeros.",
                  pad_mode="reflect"),
    _conv_mistake("you only kept the last input channel: sum the products over ALL input channels (use += in "
                  "the channel loop, or sum over the channel axis).", channels="last_only"),
    _conv_mistake("you only used the first input channel: sum the products over ALL input channels.",
                  channels="first_only"),
    _conv_mistake("you averaged the products instead of summing them (np.mean instead of np.sum).",
                  channels="mean"),
    _conv_mistake("the input channels were not summed: each output value is ONE number, the sum over kh, kw AND "
                  "C_in.", channels="not_summed"),
    _conv_mistake("kernel height and width are swapped: kernels have shape (kh, kw, C_in, C_out).", swap=True),
    _conv_mistake("the stride is ignored: move the window `stride` pixels at a time, in both directions.",
                  strides=lambda s: (1, 1) if s != 1 else None),
    _conv_mistake("the stride is applied to the rows only: the window also moves `stride` pixels at a time "
                  "along the width.", strides=lambda s: (s, 1) if s != 1 else None),
    _conv_mistake("the stride is applied to the columns only: the window also moves `stride` pixels at a time "
                  "down the height.", strides=lambda s: (1, s) if s != 1 else None),
    _conv_mistake("padding='same' is ignored: pad the images with zeros first (TensorFlow: extra pixel "
                  "bottom/right).", kind="none"),
    Mistake("you padded although padding='valid' means no padding at all.",
            test=lambda case, found: case["padding"] == "valid" and np.shape(found)[1:3] == tuple(
                _size_same(n, k, case["stride"]) for n, k in zip(case["images"][1:3], case["kernels"][:2]))),
    Mistake("the output channel axis is missing: one output channel per kernel (C_out = kernels.shape[3]).",
            test=lambda case, found: np.ndim(found) == 3),
    Mistake("one window position is missing in each direction: your loop stops too early (off by one).",
            test=lambda case, found: np.shape(found)[1:3] == tuple(
                d - 1 for d in run_conv_reference_shape(case)[1:3])),
]


def run_conv_reference_shape(case: Case) -> tuple:
    images, kernels, stride, padding = conv_inputs(case)
    (t, b), (l, r) = _pads(images, kernels, stride, padding)
    n, h, w, _ = images.shape
    kh, kw, _, c_out = kernels.shape
    return n, _size_valid(h + t + b, kh, stride), _size_valid(w + l + r, kw, stride), c_out


CONV = Exercise(
    name="conv2d_numpy", cases=CONV_CASES, run=run_conv, describe=describe_conv, mistakes=CONV_MISTAKES,
    hint="each output value is sum(window * kernel) over kh, kw and C_in, for a window starting at "
         "(i * stride, j * stride) of the zero-padded image; the shape is (N, H', W', C_out) with H', W' given by "
         "conv_output_size.",
    requires=engine.callable_answer("conv2d_numpy"), atol=1e-3, rtol=1e-4)


# ============================================================================ exercise 3: max_pool_numpy
def _pool_case(name, seed, shape, pool_size, stride, negative=False) -> Case:
    return Case(name, {"seed": seed, "shape": shape, "pool_size": pool_size, "stride": stride, "negative": negative})


POOL_CASES = engine.Parts(
    visible=[
        _pool_case("2x2", 21, (2, 6, 6, 3), 2, None),
        _pool_case("2x2_odd_size", 22, (1, 7, 7, 2), 2, None),
        _pool_case("3x3_stride2", 23, (1, 7, 8, 3), 3, 2),
        _pool_case("2x2_negative_only", 24, (1, 4, 6, 2), 2, None, negative=True),
    ],
    hidden=engine.hidden_cases(ASSIGNMENT, "POOL_CASES"))


def pool_input(case: Case) -> np.ndarray:
    images = random_input(case["seed"], case["shape"])
    return -np.abs(images) - 0.1 if case["negative"] else images


def run_pool(max_pool_numpy, case: Case) -> np.ndarray:
    images, pool_size, stride = pool_input(case), case["pool_size"], case["stride"]
    found = (max_pool_numpy(images.copy(), pool_size=pool_size) if stride is None
             else max_pool_numpy(images.copy(), pool_size=pool_size, stride=stride))
    return to_numpy(found, "the output of max_pool_numpy", dtype=np.float32, hint="return the pooled array.")


def describe_pool(case: Case) -> str:
    stride = "" if case["stride"] is None else f", stride={case['stride']}"
    values = " (all negative)" if case["negative"] else ""
    return f"max_pool_numpy(images of shape {case['shape']}{values}, pool_size={case['pool_size']}{stride})"


def pool_variant(images, window, stride, reduce="max", ceil_mode=False, initial=None):
    images = np.asarray(images, dtype=np.float64)
    if ceil_mode:  # keep partial windows at the border (like padding='same' in a framework)
        h, w = images.shape[1:3]
        pad_h = max((_size_same(h, window, stride) - 1) * stride + window - h, 0)
        pad_w = max((_size_same(w, window, stride) - 1) * stride + window - w, 0)
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


def _pool_mistake(hint, window=None, stride=None, **options) -> Mistake:
    def output(case):
        p = case["pool_size"]
        s = p if case["stride"] is None else case["stride"]
        return pool_variant(pool_input(case), window(p, s) if window else p, stride(p, s) if stride else s, **options)
    return Mistake(hint, output=output)


POOL_MISTAKES = [
    _pool_mistake("you averaged the window: that is average pooling. Max pooling keeps the largest value "
                  "(np.max / .max(axis=...)).", reduce="mean"),
    _pool_mistake("you took the minimum of each window; max pooling keeps the largest value.", reduce="min"),
    _pool_mistake("your running maximum starts at 0, so windows whose values are all negative give 0. Start from "
                  "-np.inf or the window's first value (or just use window.max()).", initial=0.0),
    Mistake("the default stride must be pool_size (MaxPool2D's strides=None means strides=pool_size); you moved "
            "the window by 1.", output=lambda case: None if case["stride"] is not None else pool_variant(
                pool_input(case), case["pool_size"], 1)),
    _pool_mistake("the stride argument is ignored: when stride is given, move the window by `stride`, not by "
                  "pool_size.", stride=lambda p, s: p),
    _pool_mistake("window size and stride are mixed up.", window=lambda p, s: s, stride=lambda p, s: p),
    _pool_mistake("you kept the partial windows at the right/bottom border; MaxPool2D uses padding='valid' and "
                  "drops them: out = (n - pool_size) // stride + 1.", ceil_mode=True),
    _pool_mistake("you also took the max over the channels; max pooling works on each channel separately (reduce "
                  "only the two spatial axes of each window).", reduce="max_channels"),
    Mistake("one window position is missing in each direction: your loop stops too early (off by one).",
            test=lambda case, found: np.shape(found)[1:3] == tuple(
                d - 1 for d in pool_variant(pool_input(case), case["pool_size"],
                                            case["stride"] or case["pool_size"]).shape[1:3])),
]

POOL = Exercise(
    name="max_pool_numpy", cases=POOL_CASES, run=run_pool, describe=describe_pool, mistakes=POOL_MISTAKES,
    hint="output[n, i, j, c] is the max of images[n, i*s:i*s+p, j*s:j*s+p, c]; out = (n - pool_size) // stride + 1 "
         "in each spatial direction, channels unchanged.",
    requires=engine.callable_answer("max_pool_numpy"), atol=1e-5, rtol=1e-5)


# ============================================================================ exercise 4: DepthPool
DEPTH_CASES = engine.Parts(
    visible=engine.cases({"pool3_6ch": dict(seed=41, shape=(2, 3, 3, 6), pool_size=3),
                          "pool2_4ch": dict(seed=42, shape=(1, 4, 4, 4), pool_size=2),
                          "pool2_in_model": dict(seed=43, shape=(2, 3, 4, 6), pool_size=2, in_model=True)}),
    hidden=engine.hidden_cases(ASSIGNMENT, "DEPTH_CASES"))
# An input whose channels do not split into groups (must raise ValueError), and the pool_size get_config must keep.
DEPTH_BAD = engine.Parts(
    visible=((1, 2, 2, 5), 2),
    hidden=engine.hidden_value(ASSIGNMENT, "DEPTH_BAD"))
DEPTH_CONFIG = engine.Parts(
    visible=3,
    hidden=engine.hidden_value(ASSIGNMENT, "DEPTH_CONFIG"))
IN_MODEL_HINT = ("inside a model the batch size is None while the model is built: reshape with tf.shape(inputs) "
                 "(or -1 for the batch axis) instead of inputs.shape[0].")


def run_depth_pool(DepthPool, case: Case) -> np.ndarray:  # noqa: N803 (named after the class)
    import keras

    x = random_input(case["seed"], case["shape"])
    layer = DepthPool(pool_size=case["pool_size"])
    if not case.get("in_model"):
        return to_numpy(layer(x), "the output of DepthPool", dtype=np.float32)
    try:
        model = keras.Sequential([keras.Input(case["shape"][1:]), layer])
    except Exception as error:  # the layer cannot be built on a symbolic input
        raise engine.crash(error, describe_depth_pool(case), (CrashHint((), IN_MODEL_HINT),), "DepthPool") from None
    return to_numpy(model(x, training=False), "the output of DepthPool", dtype=np.float32)


def describe_depth_pool(case: Case) -> str:
    where = " inside a model (batch size unknown when the model is built)" if case.get("in_model") else ""
    return f"DepthPool(pool_size={case['pool_size']}) on an input of shape {case['shape']}{where}"


def depth_variant(x, pool_size, kind):
    x = np.asarray(x, dtype=np.float64)
    groups = x.shape[-1] // pool_size
    if kind == "strided":
        return x.reshape(*x.shape[:-1], pool_size, groups).max(axis=-2)
    grouped = x.reshape(*x.shape[:-1], groups, pool_size)
    return {"mean": grouped.mean, "min": grouped.min, "wrong_axis": lambda axis: grouped.max(axis=-2)}[kind](axis=-1)


def _depth_mistake(hint, kind) -> Mistake:
    return Mistake(hint, output=lambda case: depth_variant(random_input(case["seed"], case["shape"]),
                                                           case["pool_size"], kind))


DEPTH_MISTAKES = [
    _depth_mistake("you grouped every (C // pool_size)-th channel together (strided groups). Group CONSECUTIVE "
                   "channels: reshape to (..., C // pool_size, pool_size), then take the max over the last axis.",
                   "strided"),
    _depth_mistake("you averaged each group of channels; DepthPool keeps the maximum.", "mean"),
    _depth_mistake("you took the minimum of each group of channels; DepthPool keeps the maximum.", "min"),
    _depth_mistake("you reduced the wrong axis: after reshaping to (..., C // pool_size, pool_size) take the max "
                   "over the LAST axis.", "wrong_axis"),
    Mistake("you pooled over height/width; DepthPool pools over the CHANNELS (the last axis) only.",
            test=lambda case, found: np.shape(found)[-1] == case["shape"][-1] and case["pool_size"] > 1),
]


def probe_depth_value_error(DepthPool, part: str) -> None:  # noqa: N803
    shape, pool_size = DEPTH_BAD[part]
    what = (f"DepthPool(pool_size={pool_size}) on {shape[-1]} channels should raise ValueError "
            f"({shape[-1]} is not divisible by {pool_size})")
    try:
        DepthPool(pool_size=pool_size)(np.zeros(shape, dtype=np.float32))
    except ValueError as error:
        if error_text(error) != "ValueError":  # Keras wraps the message: look at the student's own words
            return
        fail(what, expected="a ValueError with a message", found="a ValueError without a message",
             hint="say what is wrong, e.g. raise ValueError(f\"{channels} channels cannot be split into groups "
                  "of {self.pool_size}\").")
    except NotImplementedError:
        raise engine.crash(NotImplementedError(), what, name="DepthPool") from None
    except Exception as error:
        fail(what, expected="ValueError", found=type(error).__name__,
             hint="check `channels % self.pool_size` yourself (in build() or call()) and raise a ValueError with a "
                  "clear message, rather than letting reshape fail.")
    else:
        fail(what, expected="ValueError", found="no error",
             hint="check `channels % self.pool_size` in build() or call() and raise ValueError.")


def probe_depth_config(DepthPool, part: str) -> None:  # noqa: N803
    pool_size = DEPTH_CONFIG[part]
    protocol.check_config(DepthPool, {"pool_size": pool_size}, f"DepthPool(pool_size={pool_size})",
                          fix="return {**super().get_config(), 'pool_size': self.pool_size}")


DEPTH_POOL = Exercise(
    name="DepthPool", cases=DEPTH_CASES, run=run_depth_pool, describe=describe_depth_pool, mistakes=DEPTH_MISTAKES,
    hint="output channel g is the max of input channels g*p ... g*p + p - 1; the output keeps batch, height and "
         "width and has C // pool_size channels.",
    requires=engine.layer_class("DepthPool"), probes=(probe_depth_value_error, probe_depth_config),
    atol=1e-5, rtol=1e-5)


# ============================================================================ exercise 5: conv_layer_cost
COST_CASES = engine.Parts(
    visible=engine.cases({
        "course_example": dict(height=150, width=100, channels=3, filters=200, kernel_size=5),
        "course_example_batch100": dict(height=150, width=100, channels=3, filters=200, kernel_size=5,
                                        batch_size=100),
        "valid_stride2_half_precision": dict(height=28, width=30, channels=3, filters=16, kernel_size=5, stride=2,
                                             padding="valid", batch_size=8, bytes_per_value=2),
        "same_stride2_odd": dict(height=15, width=9, channels=4, filters=6, kernel_size=3, stride=2, batch_size=3),
    }),
    hidden=engine.hidden_cases(ASSIGNMENT, "COST_CASES"))
COST_KEYS = ("parameters", "multiplications", "output_bytes")


def describe_cost(case: Case) -> str:
    return "conv_layer_cost(" + ", ".join(f"{k}={v!r}" for k, v in case.params.items()) + ")"


def run_cost(conv_layer_cost, case: Case) -> dict:
    found = conv_layer_cost(**case.params)
    if not isinstance(found, dict):
        fail(f"{describe_cost(case)} should return a dict", expected=f"a dict with keys {list(COST_KEYS)}",
             found=short(found), hint="return {'parameters': ..., 'multiplications': ..., 'output_bytes': ...}.")
    missing = [key for key in COST_KEYS if key not in found]
    if missing:
        fail(f"{describe_cost(case)}: keys missing from the dict", expected=list(COST_KEYS), found=sorted(found),
             hint=f"add {missing} (spelled exactly like that).")
    values = {}
    for key in COST_KEYS:
        value = found[key]
        if isinstance(value, bool) or not isinstance(value, numbers.Number):
            fail(f"{describe_cost(case)}[{key!r}] should be a number", expected="an int", found=short(value),
                 hint="count with integers (//, *); return plain numbers, not strings or arrays.")
        values[key] = int(value) if float(value).is_integer() else float(value)
    return values


def _cost(height, width, channels, filters, kernel_size, stride=1, padding="same", batch_size=1,
          bytes_per_value=4, *, bias=True, in_channels_in_params=True, in_channels_in_mults=True,
          batch_in_mults=True, batch_in_bytes=True, bytes_unit=True, use_stride=True, use_padding=True,
          fixed_bytes=False, scale=1):
    s = stride if use_stride else 1
    size = _size_valid if (padding if use_padding else "same") == "valid" else _size_same
    outputs = size(height, kernel_size, s) * size(width, kernel_size, s) * filters
    k2 = kernel_size * kernel_size
    return {
        "parameters": (k2 * (channels if in_channels_in_params else 1) + (1 if bias else 0)) * filters / scale,
        "multiplications": outputs * k2 * (channels if in_channels_in_mults else 1)
        * (batch_size if batch_in_mults else 1) / scale,
        "output_bytes": outputs * (batch_size if batch_in_bytes else 1)
        * ((4 if fixed_bytes else bytes_per_value) if bytes_unit else 1) / scale,
    }


def _cost_mistake(hint, **options) -> Mistake:
    return Mistake(hint, output=lambda case: _cost(**case.params, **options))


STRIDE_WORDS = ("the stride is ignored: with stride s the output is ceil(H / s) x ceil(W / s) ('same') or "
                "(H - k) // s + 1 ... ('valid').")
COST_MISTAKES = [
    _cost_mistake("the bias is missing: each filter has one bias, so (k * k * C_in + 1) * filters.", bias=False),
    _cost_mistake("the input channels are missing from the parameters: each filter has k * k * C_in weights (plus "
                  "a bias).", in_channels_in_params=False),
    _cost_mistake("the input channels are missing from the multiplications: each output value needs k * k * C_in "
                  "multiplications.", in_channels_in_mults=False),
    _cost_mistake("you counted the multiplications of one image; multiply by batch_size (the layer processes the "
                  "whole batch).", batch_in_mults=False),
    _cost_mistake("you counted the output of one image; output_bytes is for the whole batch (multiply by "
                  "batch_size).", batch_in_bytes=False),
    _cost_mistake("you counted values, not bytes: multiply by bytes_per_value.", bytes_unit=False),
    _cost_mistake("bytes_per_value is ignored (you always used 4 bytes).", fixed_bytes=True),
    _cost_mistake(STRIDE_WORDS, use_stride=False),
    _cost_mistake("padding='valid' is ignored: the output is smaller, (H - k) // s + 1 by (W - k) // s + 1.",
                  use_padding=False),
    _cost_mistake("report plain counts and bytes, not millions (or megabytes).", scale=1_000_000),
]

COST = Exercise(
    name="conv_layer_cost", cases=COST_CASES, run=run_cost, describe=describe_cost, mistakes=COST_MISTAKES,
    hint="parameters: (kernel_size * kernel_size * channels + 1) * filters; multiplications: out_h * out_w * "
         "filters * batch_size * kernel_size * kernel_size * channels; output_bytes: out_h * out_w * filters * "
         "batch_size * bytes_per_value.",
    requires=engine.callable_answer("conv_layer_cost"), atol=0, rtol=1e-9)


# ============================================================================ the assignment
CHECKS = engine.Assignment(ASSIGNMENT, [OUTPUT_SIZE, CONV, COST, POOL, DEPTH_POOL])
build_references = CHECKS.build_references
check_conv_output_size = CHECKS.checker("conv_output_size")
check_conv2d_numpy = CHECKS.checker("conv2d_numpy")
check_conv_layer_cost = CHECKS.checker("conv_layer_cost")
check_max_pool_numpy = CHECKS.checker("max_pool_numpy")
check_DepthPool = CHECKS.checker("DepthPool")  # noqa: N816 (named after the class)

__all__ = ["CHECKS", "build_references", "check_conv_output_size", "check_conv2d_numpy", "check_conv_layer_cost",
           "check_max_pool_numpy", "check_DepthPool", "CheckFailed"]
