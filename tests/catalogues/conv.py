"""Notebook 01 (convolution filters and pooling): the catalogue of answers (format: ``tests/catalogue.py``)."""
from __future__ import annotations

import textwrap

from catalogue import Alternative, HardCoded, Mistake, src as _src


def src(text: str) -> str:
    return _src(text).rstrip("\n")


# ============================================================================ wrong answers
# exercise -> {mistake id: (answer source, words the failure message must contain)}
OUTPUT_SIZE_HEAD = "import math\n\ndef conv_output_size(n, k, padding, stride):\n"
CONV_HEAD = "def conv2d_numpy(images, kernels, stride=1, padding=\"valid\"):\n"
POOL_HEAD = "def max_pool_numpy(images, pool_size=2, stride=None):\n"
COST_HEAD = ("def conv_layer_cost(height, width, channels, filters, kernel_size, stride=1, padding=\"same\",\n"
             "                    batch_size=1, bytes_per_value=4):\n")


def output_size(valid: str, same: str, otherwise: str = "raise ValueError(padding)") -> str:
    return OUTPUT_SIZE_HEAD + textwrap.indent(src(f"""
        if padding == "valid":
            return {valid}
        if padding == "same":
            return {same}
        {otherwise}
    """), "    ")


CONV_TEMPLATE = CONV_HEAD + """\
    images, kernels = np.asarray(images), np.asarray(kernels)
    kh, kw, _, c_out = kernels.shape
    if SAME:
        pads = []
        for n, k in ((images.shape[1], kh), (images.shape[2], kw)):
            total = max((-(-n // stride) - 1) * stride + k - n, 0)
            PADS
        images = np.pad(images, ((0, 0), pads[0], pads[1], (0, 0)))
    s = STRIDE
    out_h = (images.shape[1] - kh) // s + 1
    out_w = (images.shape[2] - kw) // s + 1
    output = np.zeros((images.shape[0], out_h, out_w, c_out))
    for i in range(out_h):
        for j in range(out_w):
            window = images[:, i * s:i * s + kh, j * s:j * s + kw, :]
            BODY
    return output
"""


def conv(pads: str = "tf", flip: bool = False, stride_in_loop: str = "stride", accumulate: str = "sum",
         same_ignored: bool = False) -> str:
    """A loop implementation of conv2d_numpy with switchable mistakes."""
    pad_code = {"tf": "pads.append((total // 2, total - total // 2))",
                "top_left": "pads.append((total - total // 2, total // 2))",
                "half": "pads.append((k // 2, k // 2))"}[pads]
    kernel = "kernels[::-1, ::-1]" if flip else "kernels"
    if accumulate == "sum":
        body = f"output[:, i, j, :] = np.tensordot(window, {kernel}, axes=([1, 2, 3], [0, 1, 2]))"
    else:  # overwrite inside a loop over input channels: only the last channel survives
        body = ("for c in range(kernels.shape[2]):\n"
                f"                output[:, i, j, :] = np.tensordot(window[..., c], {kernel}[:, :, c, :], "
                "axes=([1, 2], [0, 1]))")
    return (CONV_TEMPLATE.replace("SAME", "False" if same_ignored else 'padding == "same"')
            .replace("PADS", pad_code).replace("STRIDE", stride_in_loop).replace("BODY", body))


def pool(default_stride: str = "pool_size", reduce: str = "window.max(axis=(1, 2))",
         use_stride_arg: bool = True) -> str:
    stride_line = (f"stride = {default_stride} if stride is None else stride" if use_stride_arg
                   else "stride = pool_size")
    return POOL_HEAD + textwrap.indent(src(f"""
        {stride_line}
        n, height, width, channels = images.shape
        out_h = (height - pool_size) // stride + 1
        out_w = (width - pool_size) // stride + 1
        output = np.zeros((n, out_h, out_w, channels))
        for i in range(out_h):
            for j in range(out_w):
                window = images[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size, :]
                output[:, i, j, :] = {reduce}
        return output
    """), "    ")


def depth_pool(call: str, config: str = 'return {**super().get_config(), "pool_size": self.pool_size}') -> str:
    return src('''
        class DepthPool(keras.layers.Layer):
            def __init__(self, pool_size=2, **kwargs):
                super().__init__(**kwargs)
                self.pool_size = pool_size

            def call(self, inputs):
        ''') + "\n" + textwrap.indent(src(call), " " * 8) + "\n\n    def get_config(self):\n        " + config + "\n"


DEPTH_CHECKED = '''
channels = inputs.shape[-1]
if channels % self.pool_size:
    raise ValueError(f"{channels} channels are not divisible by {self.pool_size}")
'''


def cost(parameters: str = "(k2 * channels + 1) * filters", multiplications: str = "outputs * k2 * channels",
         output_bytes: str = "outputs * bytes_per_value", out: str = "tf") -> str:
    out_code = {
        "tf": "s = stride",
        "no_stride": "s = 1",
    }[out]
    return COST_HEAD + textwrap.indent(src(f"""
        {out_code}
        if padding == "same":
            out_h, out_w = -(-height // s), -(-width // s)
        else:
            out_h, out_w = (height - kernel_size) // s + 1, (width - kernel_size) // s + 1
        k2 = kernel_size * kernel_size
        outputs = out_h * out_w * filters * batch_size
        per_image = out_h * out_w * filters
        return {{"parameters": {parameters}, "multiplications": {multiplications},
                "output_bytes": {output_bytes}}}
    """), "    ")


_MISTAKES = {
    "conv_output_size": {
        "forgot_plus_one": (output_size("(n - k) // stride", "-(-n // stride)"), ["forgot the +1"]),
        "ceil_for_valid": (output_size("math.ceil((n - k) / stride) + 1", "-(-n // stride)"),
                           ["rounded (n - k) / s up"]),
        "round_for_valid": (output_size("round((n - k) / stride) + 1", "-(-n // stride)"), ["round()"]),
        "same_ignores_stride": (output_size("(n - k) // stride + 1", "n"), ["'same': the stride is ignored"]),
        "same_rounds_down": (output_size("(n - k) // stride + 1", "n // stride"), ["rounded n / s down"]),
        "same_symmetric_padding": (output_size("(n - k) // stride + 1",
                                               "(n + 2 * ((k - 1) // 2) - k) // stride + 1"),
                                   ["(k - 1) // 2 pixels on each side", "even kernels"]),
        "returns_float": (output_size("np.floor((n - k) / stride) + 1", "np.ceil(n / stride)"),
                          ["should return an int", "np.floor"]),
        "size_no_value_error": (output_size("(n - k) // stride + 1", "-(-n // stride)", "return n"),
                           ["should raise ValueError", "only 'valid' and 'same'"]),
    },
    "conv2d_numpy": {
        "kernel_flipped": (conv(flip=True), ["flipped the kernel", "cross-correlation"]),
        "same_pads_top_left": (conv(pads="top_left"), ["at the top/left", "bottom/right"]),
        "same_symmetric_half": (conv(pads="half"), ["k // 2 zeros on each side"]),
        "conv_stride_ignored": (conv(stride_in_loop="1"), ["stride is ignored"]),
        "channels_not_summed": (conv(accumulate="overwrite"), ["only kept the last input channel"]),
        "same_padding_ignored": (conv(same_ignored=True), ["padding='same' is ignored"]),
    },
    "conv_layer_cost": {
        "no_bias": (cost(parameters="k2 * channels * filters"), ["bias is missing"]),
        "mults_without_channels": (cost(multiplications="outputs * k2"), ["input channels are missing"]),
        "bytes_as_values": (cost(output_bytes="outputs"), ["counted values, not bytes"]),
        "bytes_for_one_image": (cost(output_bytes="per_image * bytes_per_value"),
                                ["one image", "whole batch"]),
        "mults_for_one_image": (cost(multiplications="per_image * k2 * channels"), ["one image", "batch_size"]),
        "cost_stride_ignored": (cost(out="no_stride"), ["stride is ignored"]),
    },
    "max_pool_numpy": {
        "default_stride_1": (pool(default_stride="1"), ["default stride must be pool_size"]),
        "average_instead_of_max": (pool(reduce="window.mean(axis=(1, 2))"), ["average pooling"]),
        "running_max_from_zero": (POOL_HEAD + textwrap.indent(src("""
            stride = pool_size if stride is None else stride
            n, height, width, channels = images.shape
            out_h, out_w = (height - pool_size) // stride + 1, (width - pool_size) // stride + 1
            output = np.zeros((n, out_h, out_w, channels))
            for i in range(out_h):
                for j in range(out_w):
                    for u in range(pool_size):
                        for v in range(pool_size):
                            output[:, i, j, :] = np.maximum(output[:, i, j, :],
                                                            images[:, i * stride + u, j * stride + v, :])
            return output
        """), "    "), ["running maximum starts at 0"]),
        "stride_argument_ignored": (pool(use_stride_arg=False), ["stride argument is ignored"]),
        "keeps_partial_windows": (POOL_HEAD + textwrap.indent(src("""
            stride = pool_size if stride is None else stride
            n, height, width, channels = images.shape
            out_h, out_w = -(-height // stride), -(-width // stride)
            output = np.zeros((n, out_h, out_w, channels))
            for i in range(out_h):
                for j in range(out_w):
                    window = images[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size, :]
                    output[:, i, j, :] = window.max(axis=(1, 2))
            return output
        """), "    "), ["partial windows", "padding='valid'"]),
    },
    "DepthPool": {
        "pools_over_space": (depth_pool(DEPTH_CHECKED + """
return tf.nn.max_pool2d(inputs, ksize=self.pool_size, strides=self.pool_size, padding="VALID")
"""), ["pooled over height/width"]),
        "strided_groups": (depth_pool(DEPTH_CHECKED + """
shape = tf.concat([tf.shape(inputs)[:-1], [self.pool_size, channels // self.pool_size]], axis=0)
return tf.reduce_max(tf.reshape(inputs, shape), axis=-2)
"""), ["strided groups", "CONSECUTIVE"]),
        "mean_instead_of_max": (depth_pool(DEPTH_CHECKED + """
shape = tf.concat([tf.shape(inputs)[:-1], [channels // self.pool_size, self.pool_size]], axis=0)
return tf.reduce_mean(tf.reshape(inputs, shape), axis=-1)
"""), ["averaged each group"]),
        "depth_no_value_error": (depth_pool("""
shape = tf.concat([tf.shape(inputs)[:-1], [inputs.shape[-1] // self.pool_size, self.pool_size]], axis=0)
return tf.reduce_max(tf.reshape(inputs, shape), axis=-1)
"""), ["should raise ValueError", "channels % self.pool_size"]),
        "get_config_without_pool_size": (depth_pool(DEPTH_CHECKED + """
shape = tf.concat([tf.shape(inputs)[:-1], [channels // self.pool_size, self.pool_size]], axis=0)
return tf.reduce_max(tf.reshape(inputs, shape), axis=-1)
""", config="return super().get_config()"), ["lacks pool_size"]),
        "static_batch_size": (depth_pool(DEPTH_CHECKED + """
b, h, w = inputs.shape[:3]
return tf.reduce_max(tf.reshape(inputs, (b, h, w, channels // self.pool_size, self.pool_size)), axis=-1)
"""), ["inside a model", "tf.shape(inputs)"]),
    },
}


# ============================================================================ other correct answers
_ALTERNATIVES = {
    "conv_output_size": {
        "math_floor_ceil": OUTPUT_SIZE_HEAD + textwrap.indent(src("""
            padding = padding.lower()
            if padding not in ("valid", "same"):
                raise ValueError(f"unknown padding {padding}")
            if padding == "same":
                return math.ceil(n / stride)
            return math.floor((n - k) / stride) + 1
        """), "    "),
        "ceil_of_n_minus_k_plus_1": output_size("math.ceil((n - k + 1) / stride)", "int(np.ceil(n / stride))"),
    },
    "conv2d_numpy": {
        "sliding_window_einsum": CONV_HEAD + textwrap.indent(src("""
            from numpy.lib.stride_tricks import sliding_window_view
            kh, kw = kernels.shape[:2]
            if padding == "same":
                pads = []
                for n, k in zip(images.shape[1:3], (kh, kw)):
                    out = math.ceil(n / stride)
                    total = max((out - 1) * stride + k - n, 0)
                    pads.append((total // 2, (total + 1) // 2))
                images = np.pad(images, [(0, 0), *pads, (0, 0)], mode="constant")
            windows = sliding_window_view(images, (kh, kw), axis=(1, 2))[:, ::stride, ::stride]
            return np.einsum("nhwcij,ijco->nhwo", windows, kernels)
        """), "    "),
        "four_nested_loops": CONV_HEAD + textwrap.indent(src("""
            N, H, W, C = images.shape
            kh, kw, _, F = kernels.shape
            if padding == "same":
                out_h, out_w = -(-H // stride), -(-W // stride)
                ph = max((out_h - 1) * stride + kh - H, 0)
                pw = max((out_w - 1) * stride + kw - W, 0)
                padded = np.zeros((N, H + ph, W + pw, C))
                padded[:, ph // 2:ph // 2 + H, pw // 2:pw // 2 + W, :] = images
                images = padded
            out_h = (images.shape[1] - kh) // stride + 1
            out_w = (images.shape[2] - kw) // stride + 1
            result = np.zeros((N, out_h, out_w, F))
            for b in range(N):
                for i in range(out_h):
                    for j in range(out_w):
                        patch = images[b, i * stride:i * stride + kh, j * stride:j * stride + kw, :]
                        for f in range(F):
                            result[b, i, j, f] = np.sum(patch * kernels[:, :, :, f])
            return result
        """), "    "),
    },
    "conv_layer_cost": {
        "math_ceil_and_floats": COST_HEAD + textwrap.indent(src("""
            if padding == "valid":
                rows, cols = math.floor((height - kernel_size) / stride) + 1, math.floor((width - kernel_size) / stride) + 1
            else:
                rows, cols = math.ceil(height / stride), math.ceil(width / stride)
            weights = kernel_size ** 2 * channels * filters
            values = rows * cols * filters * batch_size
            return dict(parameters=weights + filters, multiplications=values * kernel_size ** 2 * channels,
                        output_bytes=values * bytes_per_value)
        """), "    "),
        "inner_helper_and_numpy_ints": COST_HEAD + textwrap.indent(src("""
            def out_size(n):
                if padding == "valid":
                    return (n - kernel_size + stride) // stride
                if padding == "same":
                    return (n + stride - 1) // stride
                raise ValueError(padding)

            out_shape = np.array([batch_size, out_size(height), out_size(width), filters], dtype=np.int64)
            kernel = np.array([kernel_size, kernel_size, channels, filters], dtype=np.int64)
            values = np.prod(out_shape)
            return {"output_bytes": values * bytes_per_value, "parameters": np.prod(kernel) + filters,
                    "multiplications": values * np.prod(kernel[:3])}
        """), "    "),
    },
    "max_pool_numpy": {
        "sliding_window_view": POOL_HEAD + textwrap.indent(src("""
            from numpy.lib.stride_tricks import sliding_window_view
            s = stride or pool_size
            windows = sliding_window_view(images, (pool_size, pool_size), axis=(1, 2))
            return windows[:, ::s, ::s].max(axis=(-2, -1))
        """), "    "),
        "per_channel_loops": POOL_HEAD + textwrap.indent(src("""
            if stride is None:
                stride = pool_size
            N, H, W, C = images.shape
            rows, cols = (H - pool_size) // stride + 1, (W - pool_size) // stride + 1
            out = np.full((N, rows, cols, C), -np.inf)
            for b in range(N):
                for c in range(C):
                    for i in range(rows):
                        for j in range(cols):
                            out[b, i, j, c] = images[b, i*stride:i*stride+pool_size, j*stride:j*stride+pool_size, c].max()
            return out
        """), "    "),
    },
    "DepthPool": {
        "max_pool_over_transposed_tensor": src('''
            class DepthPool(keras.layers.Layer):
                def __init__(self, pool_size=2, **kwargs):
                    super().__init__(**kwargs)
                    self.pool_size = pool_size

                def build(self, input_shape):
                    if input_shape[-1] % self.pool_size != 0:
                        raise ValueError("the number of channels must be a multiple of pool_size")

                def call(self, inputs):
                    shape = tf.shape(inputs)
                    flat = tf.reshape(inputs, [-1, shape[1] * shape[2], inputs.shape[-1], 1])
                    pooled = tf.nn.max_pool2d(flat, ksize=(1, self.pool_size), strides=(1, self.pool_size),
                                              padding="VALID")
                    return tf.reshape(pooled, [-1, shape[1], shape[2], inputs.shape[-1] // self.pool_size])

                def get_config(self):
                    config = super().get_config()
                    config.update(pool_size=self.pool_size)
                    return config
        '''),
        "keras_ops": src('''
            class DepthPool(keras.layers.Layer):
                def __init__(self, pool_size=2, **kwargs):
                    super().__init__(**kwargs)
                    self.pool_size = pool_size

                def call(self, inputs):
                    c = inputs.shape[-1]
                    if c % self.pool_size:
                        raise ValueError(f"cannot split {c} channels in groups of {self.pool_size}")
                    grouped = keras.ops.reshape(inputs, (-1, *inputs.shape[1:3], c // self.pool_size,
                                                         self.pool_size))
                    return keras.ops.max(grouped, axis=-1)

                def get_config(self):
                    return {**super().get_config(), "pool_size": self.pool_size}
        '''),
    },
}


MISTAKES = [Mistake(name, exercise, code, tuple(words))
            for exercise, catalogue in _MISTAKES.items() for name, (code, words) in catalogue.items()]
ALTERNATIVES = [Alternative(name, exercise, code)
                for exercise, catalogue in _ALTERNATIVES.items() for name, code in catalogue.items()]

# ---------------------------------------------------------------------------- more mistakes, named by the checks
SOLUTION_SIZE = output_size("(n - k) // stride + 1", "-(-n // stride)")
CONV_STRIDE_ROWS_ONLY = CONV_TEMPLATE.replace("SAME", 'padding == "same"').replace("STRIDE", "stride").replace(
    "PADS", "pads.append((total // 2, total - total // 2))").replace(
    "    out_w = (images.shape[2] - kw) // s + 1", "    out_w = images.shape[2] - kw + 1").replace(
    "j * s:j * s + kw", "j:j + kw").replace(
    "BODY", "output[:, i, j, :] = np.tensordot(window, kernels, axes=([1, 2, 3], [0, 1, 2]))")
MISTAKES += [
    Mistake("valid_and_same_swapped", "conv_output_size", output_size("-(-n // stride)", "(n - k) // stride + 1"),
            ("'valid' and 'same' are swapped",)),
    Mistake("same_pads_k_half", "conv_output_size", output_size("(n - k) // stride + 1",
                                                                "(n + 2 * (k // 2) - k) // stride + 1"),
            ("k // 2 pixels on each side",)),
    Mistake("valid_ignores_stride", "conv_output_size", output_size("n - k + 1", "-(-n // stride)"),
            ("'valid': the stride is ignored",)),
    Mistake("raises_key_error", "conv_output_size",
            output_size("(n - k) // stride + 1", "-(-n // stride)", 'raise KeyError(padding)'),
            ("should raise ValueError", "raise ValueError(...) yourself")),
    Mistake("mean_instead_of_sum", "conv2d_numpy", conv().replace(
        "axes=([1, 2, 3], [0, 1, 2]))", "axes=([1, 2, 3], [0, 1, 2])) / (kh * kw * kernels.shape[2])"),
        ("averaged the products",)),
    Mistake("edge_padding", "conv2d_numpy", conv().replace("pads[1], (0, 0)))", "pads[1], (0, 0)), mode=\"edge\")"),
            ("other than zeros",)),
    Mistake("total_padding_both_sides", "conv2d_numpy", conv().replace(
        "pads.append((total // 2, total - total // 2))", "pads.append((total, total))"), ("TOTAL amount on both sides",)),
    Mistake("stride_rows_only", "conv2d_numpy", CONV_STRIDE_ROWS_ONLY, ("rows only",)),
    Mistake("bytes_always_4", "conv_layer_cost", cost(output_bytes="outputs * 4"), ("bytes_per_value is ignored",)),
    Mistake("valid_ignored", "conv_layer_cost", cost().replace('if padding == "same":', "if True:"),
            ("padding='valid' is ignored",)),
    Mistake("params_without_channels", "conv_layer_cost", cost(parameters="(k2 + 1) * filters"),
            ("input channels are missing from the parameters",)),
    Mistake("counts_in_millions", "conv_layer_cost", cost(parameters="(k2 * channels + 1) * filters / 1e6",
                                                          multiplications="outputs * k2 * channels / 1e6",
                                                          output_bytes="outputs * bytes_per_value / 1e6"),
            ("not millions",)),
    Mistake("min_instead_of_max", "max_pool_numpy", pool(reduce="window.min(axis=(1, 2))"), ("minimum",)),
    Mistake("window_and_stride_swapped", "max_pool_numpy", pool().replace(
        "window = images[:, i * stride:i * stride + pool_size, j * stride:j * stride + pool_size, :]",
        "window = images[:, i * pool_size:i * pool_size + stride, j * pool_size:j * pool_size + stride, :]").replace(
        "out_h = (height - pool_size) // stride + 1", "out_h = (height - stride) // pool_size + 1").replace(
        "out_w = (width - pool_size) // stride + 1", "out_w = (width - stride) // pool_size + 1"),
            ("window size and stride are mixed up",)),
    Mistake("loop_stops_one_early", "max_pool_numpy", pool().replace(
        "out_h = (height - pool_size) // stride + 1", "out_h = (height - pool_size) // stride").replace(
        "out_w = (width - pool_size) // stride + 1", "out_w = (width - pool_size) // stride"), ("off by one",)),
    Mistake("min_of_each_group", "DepthPool", depth_pool(DEPTH_CHECKED + """
shape = tf.concat([tf.shape(inputs)[:-1], [channels // self.pool_size, self.pool_size]], axis=0)
return tf.reduce_min(tf.reshape(inputs, shape), axis=-1)
"""), ("minimum of each group",)),
    Mistake("max_over_wrong_axis", "DepthPool", depth_pool(DEPTH_CHECKED + """
shape = tf.concat([tf.shape(inputs)[:-1], [channels // self.pool_size, self.pool_size]], axis=0)
return tf.reduce_max(tf.reshape(inputs, shape), axis=-2)
"""), ("wrong axis",)),
    Mistake("value_error_without_message", "DepthPool", depth_pool("""
channels = inputs.shape[-1]
if channels % self.pool_size:
    raise ValueError()
shape = tf.concat([tf.shape(inputs)[:-1], [channels // self.pool_size, self.pool_size]], axis=0)
return tf.reduce_max(tf.reshape(inputs, shape), axis=-1)
"""), ("a ValueError with a message",)),
    Mistake("config_without_base_layer", "DepthPool", depth_pool(DEPTH_CHECKED + """
shape = tf.concat([tf.shape(inputs)[:-1], [channels // self.pool_size, self.pool_size]], axis=0)
return tf.reduce_max(tf.reshape(inputs, shape), axis=-1)
""", config='return {"pool_size": self.pool_size}'), ("lost the base layer's settings", "super().get_config()")),
    Mistake("init_without_kwargs", "DepthPool", depth_pool(DEPTH_CHECKED + """
shape = tf.concat([tf.shape(inputs)[:-1], [channels // self.pool_size, self.pool_size]], axis=0)
return tf.reduce_max(tf.reshape(inputs, shape), axis=-1)
""").replace("def __init__(self, pool_size=2, **kwargs):\n        super().__init__(**kwargs)",
             "def __init__(self, pool_size=2):\n        super().__init__()"), ("from_config", "**kwargs")),
]

# ---------------------------------------------------------------------------- answers fitted to the visible cases
HARD_CODED = [
    HardCoded("visible_sizes_looked_up", "conv_output_size", OUTPUT_SIZE_HEAD + textwrap.indent(src("""
        known = {(28, 3, "valid", 1): 26, (28, 3, "same", 1): 28, (150, 5, "same", 1): 150, (224, 7, "same", 2): 112,
                 (7, 3, "same", 2): 4, (8, 4, "same", 1): 8, (7, 3, "valid", 2): 3, (10, 3, "valid", 2): 4,
                 (8, 4, "valid", 3): 2}
        if padding not in ("valid", "same"):
            raise ValueError(padding)
        return known.get((n, k, padding, stride), n)
    """), "    ")),
    HardCoded("visible_costs_looked_up", "conv_layer_cost", COST_HEAD + textwrap.indent(src("""
        outputs = {150: 150 * 100, 28: 12 * 13, 15: 8 * 5}[height] * filters * batch_size
        return {"parameters": (kernel_size ** 2 * channels + 1) * filters,
                "multiplications": outputs * kernel_size ** 2 * channels, "output_bytes": outputs * bytes_per_value}
    """), "    ")),
]

ALTERNATIVES += [
    # A correct answer whose code warns and writes to stderr: nbgrader must still give full marks.
    Alternative("warns_and_writes_to_stderr", "conv_output_size", "import sys\nimport warnings\n\n" + SOLUTION_SIZE.replace(
        '    if padding == "valid":',
        '    warnings.warn("conv_output_size: integer sizes only")\n'
        '    print("computing a size", file=sys.stderr)\n    if padding == "valid":')),
]

CLASS = {
    # one student: a mistake or an alternative in every exercise. Their conv_output_size warns and writes to
    # stderr, and must lose nothing; their DepthPool crashes inside their own code (the message quotes it).
    "student": ["warns_and_writes_to_stderr", "kernel_flipped", "no_bias", "sliding_window_view",
                "static_batch_size"],
}
