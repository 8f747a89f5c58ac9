"""The two ResNet-50 building blocks, and a known-weights initializer for checking them.

* :func:`identity_block` and :func:`convolutional_block` are the course's
  reference versions of the exercises of notebooks 02 and 03. Later notebooks
  (04: ResNet-50) import them from here, so a reader who has not finished 02
  or 03 can still build the whole network.
* :class:`KnownWeights` is a deterministic initializer: every weight comes from
  a fixed formula of its position, with no random number generator involved.
  The checks pass it as ``initializer=`` so that one set of reference outputs
  does not depend on how a library version seeds its random numbers.

Layer names follow the classic ResNet-50: ``res{stage}{block}_branch2a`` for
the first convolution of the main path, ``bn{stage}{block}_branch2a`` for its
BatchNorm, ... and ``_branch1`` for the shortcut of the convolutional block.
"""
from __future__ import annotations

import math

import keras
import numpy as np
from keras import layers

__all__ = ["identity_block", "convolutional_block", "KnownWeights", "glorot_uniform", "layer_names"]

glorot_uniform = keras.initializers.GlorotUniform


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


def layer_names(stage, block, branch: str) -> tuple[str, str]:
    """``('res1a_branch2a', 'bn1a_branch2a')`` for stage 1, block 'a', branch '2a'."""
    base = str(stage) + block + "_branch" + branch
    return "res" + base, "bn" + base


def _component(X, filters, kernel_size, strides, padding, stage, block, branch, initializer, relu=True):
    """Conv2D -> BatchNormalization(axis=3) -> optional ReLU, with the classic names."""
    conv_name, bn_name = layer_names(stage, block, branch)
    X = layers.Conv2D(filters, kernel_size, strides=strides, padding=padding, name=conv_name,
                      kernel_initializer=initializer(seed=0))(X)
    X = layers.BatchNormalization(axis=3, name=bn_name)(X)
    return layers.Activation("relu")(X) if relu else X


def identity_block(X, f, filters, stage, block, initializer=glorot_uniform):
    """The identity block: three Conv2D/BatchNorm components plus the input itself.

    X: the input tensor, shape (batch, height, width, channels), with channels == F3.
    f: kernel size of the middle convolution. filters: [F1, F2, F3].
    stage, block: used in the layer names (e.g. 1 and 'a' -> 'res1a_branch2a').
    initializer: an initializer class; every kernel uses ``initializer(seed=0)``.
    Returns the output tensor, same shape as X.
    """
    F1, F2, F3 = filters
    X_shortcut = X
    X = _component(X, F1, 1, 1, "valid", stage, block, "2a", initializer)
    X = _component(X, F2, f, 1, "same", stage, block, "2b", initializer)
    X = _component(X, F3, 1, 1, "valid", stage, block, "2c", initializer, relu=False)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)


def convolutional_block(X, f, filters, stage, block, s=2, initializer=glorot_uniform):
    """The convolutional block: like the identity block, with a 1x1 conv (stride s) on the shortcut.

    The stride ``s`` is on the first 1x1 convolution of the main path (``res..._branch2a``)
    and on the shortcut convolution (``res..._branch1``), as in ResNet-50 v1.
    Returns a tensor of shape (batch, ceil(height / s), ceil(width / s), F3).
    """
    F1, F2, F3 = filters
    X_shortcut = X
    X = _component(X, F1, 1, s, "valid", stage, block, "2a", initializer)
    X = _component(X, F2, f, 1, "same", stage, block, "2b", initializer)
    X = _component(X, F3, 1, 1, "valid", stage, block, "2c", initializer, relu=False)
    X_shortcut = _component(X_shortcut, F3, 1, s, "valid", stage, block, "1", initializer, relu=False)
    X = layers.Add()([X, X_shortcut])
    return layers.Activation("relu")(X)
