"""Known weights: every weight from a fixed formula, so the checks' expected outputs are exact.

* :class:`KnownWeights`, a deterministic initializer: every weight comes from a
  fixed formula of its position, with no random number generator involved. The
  block checks pass it as ``initializer=`` so that one set of reference outputs
  does not depend on how a library version seeds its random numbers;
* :func:`known_values` and :func:`set_known_weights`: the value of every weight
  of an already built layer from its kind and shape (the ResidualUnit, the
  transfer models of notebook 06).
"""
from __future__ import annotations

import math

import keras
import numpy as np


@keras.saving.register_keras_serializable(package="course_utils")
class KnownWeights(keras.initializers.Initializer):
    """Weights given by a formula of their index: ``limit * sin(1.618... * (i + 1) + seed)``.

    ``limit`` is Glorot's ``sqrt(6 / (fan_in + fan_out))``, so activations keep a
    sensible size. Same shape and seed give the same values on every machine
    and with every Keras version. Use it like any initializer class:
    ``Conv2D(..., kernel_initializer=KnownWeights(seed=0))``.
    """

    GOLDEN = (1 + math.sqrt(5)) / 2

    def __init__(self, seed=0):
        self.seed = 0 if seed is None else seed

    def __call__(self, shape, dtype=None):
        shape = tuple(int(d) for d in shape)
        receptive = int(np.prod(shape[:-2])) if len(shape) > 2 else 1
        fan_in = shape[-2] * receptive if len(shape) > 1 else shape[0]
        fan_out = shape[-1] * receptive
        limit = math.sqrt(6.0 / (fan_in + fan_out))
        index = np.arange(int(np.prod(shape)), dtype=np.float64)
        values = limit * np.sin(self.GOLDEN * (index + 1) + float(self.seed))
        return keras.ops.convert_to_tensor(values.reshape(shape), dtype=dtype or "float32")

    def get_config(self):
        return {"seed": self.seed}

    def __repr__(self):
        return f"KnownWeights(seed={self.seed})"


def known_values(kind_of_weight: str, shape) -> np.ndarray:
    """The value of every weight, from its kind (kernel, gamma, ...) and shape only.

    Only the shape is used, not the weight's position in the layer, so the
    values do not depend on the order in which a student created the layers.
    """
    shape = tuple(int(d) for d in shape)
    base = np.asarray(KnownWeights(seed=0)(shape, dtype="float32"), dtype=np.float64)
    n = np.arange(int(np.prod(shape)), dtype=np.float64).reshape(shape)
    if kind_of_weight == "kernel":
        return (2.0 * base).astype(np.float32)  # a bit larger than Glorot, so the activations stay lively
    if kind_of_weight == "gamma":
        return (1.0 + 0.3 * np.sin(1.3 * n + 0.4)).astype(np.float32)
    if kind_of_weight == "beta":
        return (0.2 * np.cos(0.7 * n + 0.1)).astype(np.float32)
    if kind_of_weight == "moving_mean":
        return (0.1 * np.sin(0.9 * n + 1.0)).astype(np.float32)
    if kind_of_weight == "moving_variance":
        return (0.7 + 0.5 * np.cos(0.6 * n) ** 2).astype(np.float32)
    return (0.1 * np.cos(1.1 * n + 0.3)).astype(np.float32)  # biases and anything else


def set_known_weights(layer) -> None:
    """Give every weight of ``layer`` (and of the layers inside it) its :func:`known_values`."""
    for weight in layer.weights:
        weight.assign(known_values(weight.name.split("/")[-1], weight.shape))
