"""Checks of notebook 01 (convolution filters and pooling), described as data for the engine.

Five exercises: ``conv_output_size``, ``conv2d_numpy``, ``max_pool_numpy``,
``DepthPool`` and ``conv_layer_cost``. For each: its cases (seeds and shapes;
the visible ones cover every kind of mistake the catalogue knows, the hidden
ones other sizes and values), how an answer is run on a case, and its known
mistakes: those told by what the answer returns here, those told by their outputs in
:mod:`.mistakes.conv` (the instructor's side; a release has their visible outputs as data).

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


# Mistakes recognised by what the answer returns; those recognised by their outputs: mistakes.conv.
OUTPUT_SIZE_MISTAKES = [
    Mistake("only 'valid' and 'same' are allowed: end with `raise ValueError(f\"unknown padding {padding!r}\")` "
            "instead of treating every other string as one of them.",
            test=lambda case, found, expected: str(found).startswith("returns")),
    Mistake("raise ValueError(...) yourself for a padding other than 'valid' or 'same' (another error type "
            "tells the caller something else went wrong).",
            test=lambda case, found, expected: str(found).startswith("raises") and found != RAISED),
]

OUTPUT_SIZE = Exercise(
    name="conv_output_size", cases=OUTPUT_SIZE_CASES, run=run_output_size, describe=describe_output_size,
    hint="'valid': floor((n - k) / s) + 1; 'same': ceil(n / s); any other padding: raise ValueError. Work this "
         "case out by hand: how many window positions fit?",
    mistakes=OUTPUT_SIZE_MISTAKES, catalogue="conv", requires=engine.callable_answer("conv_output_size"))


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


CONV_MISTAKES = [
    Mistake("you padded although padding='valid' means no padding at all.",
            test=lambda case, found, expected: case["padding"] == "valid" and np.shape(found)[1:3] == tuple(
                -(-n // case["stride"]) for n in case["images"][1:3])),
    Mistake("the output channel axis is missing: one output channel per kernel (C_out = kernels.shape[3]).",
            test=lambda case, found, expected: np.ndim(found) == 3),
    Mistake("one window position is missing in each direction: your loop stops too early (off by one).",
            test=lambda case, found, expected: np.shape(found)[1:3] == tuple(d - 1 for d in np.shape(expected)[1:3])),
]

CONV = Exercise(
    name="conv2d_numpy", cases=CONV_CASES, run=run_conv, describe=describe_conv, mistakes=CONV_MISTAKES,
    catalogue="conv",
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


POOL_MISTAKES = [
    Mistake("one window position is missing in each direction: your loop stops too early (off by one).",
            test=lambda case, found, expected: np.shape(found)[1:3] == tuple(d - 1 for d in np.shape(expected)[1:3])),
]

POOL = Exercise(
    name="max_pool_numpy", cases=POOL_CASES, run=run_pool, describe=describe_pool, mistakes=POOL_MISTAKES,
    catalogue="conv",
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


DEPTH_MISTAKES = [
    Mistake("you pooled over height/width; DepthPool pools over the CHANNELS (the last axis) only.",
            test=lambda case, found, expected: np.shape(found)[-1] == case["shape"][-1] and case["pool_size"] > 1),
]


def _bad_input(part: str) -> str:
    shape, pool_size = DEPTH_BAD[part]
    return (f"DepthPool(pool_size={pool_size}) on {shape[-1]} channels should raise ValueError "
            f"({shape[-1]} is not divisible by {pool_size})")


def observe_value_error(DepthPool, part: str) -> dict:  # noqa: N803 (named after the class)
    """What DepthPool raises on channels that do not split into groups."""
    shape, pool_size = DEPTH_BAD[part]
    try:
        DepthPool(pool_size=pool_size)(np.zeros(shape, dtype=np.float32))
    except NotImplementedError:
        raise engine.crash(NotImplementedError(), _bad_input(part), name="DepthPool") from None
    except Exception as error:
        # Keras wraps the message of an error raised in call(): the student's own words are what is left
        return {"raised": type(error).__name__, "message": error_text(error) != type(error).__name__}
    return {"raised": None, "message": False}


def judge_value_error(found: dict, expected: dict, part: str) -> None:
    what = _bad_input(part)
    if found.get("raised") == expected["raised"]:
        if expected["message"] and not found.get("message"):
            fail(what, expected="a ValueError with a message", found="a ValueError without a message",
                 hint="say what is wrong, e.g. raise ValueError(f\"{channels} channels cannot be split into groups "
                      "of {self.pool_size}\").")
        return
    if found.get("raised") is None:
        fail(what, expected=expected["raised"], found="no error",
             hint="check `channels % self.pool_size` in build() or call() and raise ValueError.")
    fail(what, expected=expected["raised"], found=found.get("raised"),
         hint="check `channels % self.pool_size` yourself (in build() or call()) and raise a ValueError with a "
              "clear message, rather than letting reshape fail.")


GET_CONFIG = "return {**super().get_config(), 'pool_size': self.pool_size}"


def config_input(pool_size: int) -> np.ndarray:
    """What the layer rebuilt from its config is run on: 4 groups of ``pool_size`` channels."""
    return random_input(pool_size, (2, 3, 3, 4 * pool_size))


def observe_config(DepthPool, part: str) -> dict:  # noqa: N803
    pool_size = DEPTH_CONFIG[part]
    return protocol.observe_config(DepthPool, {"pool_size": pool_size}, f"DepthPool(pool_size={pool_size})",
                                   data=config_input(pool_size))


def judge_config(found: dict, expected: dict, part: str) -> None:
    protocol.judge_config(found, expected, "DepthPool", f"DepthPool(pool_size={DEPTH_CONFIG[part]})", GET_CONFIG)


DEPTH_POOL = Exercise(
    name="DepthPool", cases=DEPTH_CASES, run=run_depth_pool, describe=describe_depth_pool, mistakes=DEPTH_MISTAKES,
    catalogue="conv",
    hint="output channel g is the max of input channels g*p ... g*p + p - 1; the output keeps batch, height and "
         "width and has C // pool_size channels.",
    requires=engine.layer_class("DepthPool"),
    probes=(engine.Probe("ValueError", observe_value_error, judge_value_error),
            engine.Probe("get_config", observe_config, judge_config)),
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


COST = Exercise(
    name="conv_layer_cost", cases=COST_CASES, run=run_cost, describe=describe_cost, catalogue="conv",
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
