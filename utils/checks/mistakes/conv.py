"""Mistakes of conv recognised by their outputs (see the package docstring)."""
from __future__ import annotations

import math

import numpy as np

from ..conv import PADDINGS, conv_inputs, pool_input, random_input
from ..engine import Mistake


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
]


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
]


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
]


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
]


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


MISTAKES = {"conv_output_size": OUTPUT_SIZE_MISTAKES, "conv2d_numpy": CONV_MISTAKES, "max_pool_numpy": POOL_MISTAKES,
            "DepthPool": DEPTH_MISTAKES, "conv_layer_cost": COST_MISTAKES}
