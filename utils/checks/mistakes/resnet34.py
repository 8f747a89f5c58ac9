"""Mistakes of resnet34 recognised by their outputs (see the package docstring)."""
from __future__ import annotations

import numpy as np

from .. import engine
from ..known_weights import known_values
from ..resnet34 import BN_EPSILON, MODES, UNIT_HINTS, random_input

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
    if variant == "shortcut_activation" and strides > 1:
        shortcut = act(shortcut)
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


def unit_outputs(case, variant: str = "correct") -> dict:
    """:func:`unit_variant` on a case, per mode: what a known mistake gives there."""
    x = random_input(case["seed"], case["shape"])
    return {mode: unit_variant(x, case["filters"], case["strides"], case["activation"], mode, variant)
            for mode in MODES}




UNIT_MISTAKES = [engine.Mistake(hint, output=lambda case, v=variant: unit_outputs(case, v))
                 for variant, hint in UNIT_HINTS.items()]


MISTAKES = {"ResidualUnit": UNIT_MISTAKES}
