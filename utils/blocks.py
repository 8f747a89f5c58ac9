"""The two ResNet-50 building blocks: the answers of notebooks 02 and 03.

:func:`identity_block` and :func:`convolutional_block` are the course's
reference versions of the exercises of notebooks 02 and 03. Later notebooks
(04: ResNet-50) import them from here, so a reader who has not finished 02 or
03 can still build the whole network. In a class, this module enters the
student package only with the release in which both exercises are closed.

Layer names follow the classic ResNet-50: ``res{stage}{block}_branch2a`` for
the first convolution of the main path, ``bn{stage}{block}_branch2a`` for its
BatchNorm, ... and ``_branch1`` for the shortcut of the convolutional block.
"""
from __future__ import annotations

import keras
from keras import layers

from .models import layer_names

__all__ = ["identity_block", "convolutional_block", "glorot_uniform"]

glorot_uniform = keras.initializers.GlorotUniform


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
