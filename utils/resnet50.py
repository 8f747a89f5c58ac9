"""The course's ResNet-50: the answer of notebook 04, which notebook 05 builds on.

It enters a class's student package only with the release in which notebook
04 is closed (``python -m course_autograde.release``).
"""
from __future__ import annotations

from .blocks import convolutional_block, identity_block
from .models import RESNET50_STAGES


def resnet50(input_shape=(64, 64, 3), classes: int = 2, initializer=None, name: str = "ResNet50"):
    """The classic ResNet-50 for ``input_shape`` images and ``classes`` classes.

    ZeroPadding2D(3) -> conv1 7x7/2 -> bn_conv1 -> ReLU -> MaxPool 3x3/2 ->
    stages 2-5 (3, 4, 6, 3 bottleneck blocks) -> avg_pool 2x2 -> Flatten ->
    Dense ``fc<classes>`` softmax. About 23.6 million parameters for 2 classes.
    ``initializer`` is an initializer *class* (default ``GlorotUniform``, as in the blocks);
    every convolution uses ``initializer(seed=0)``, like the original exercise.
    """
    import keras
    from keras import layers


    if initializer is None:
        initializer = keras.initializers.GlorotUniform
    inputs = keras.Input(shape=input_shape)
    x = layers.ZeroPadding2D((3, 3))(inputs)
    x = layers.Conv2D(64, (7, 7), strides=(2, 2), name="conv1",
                      kernel_initializer=initializer(seed=0))(x)
    x = layers.BatchNormalization(axis=3, name="bn_conv1")(x)
    x = layers.ReLU()(x)
    x = layers.MaxPooling2D((3, 3), strides=(2, 2))(x)
    for stage, filters, stride, letters in RESNET50_STAGES:
        x = convolutional_block(x, 3, list(filters), stage=stage, block=letters[0], s=stride, initializer=initializer)
        for letter in letters[1:]:
            x = identity_block(x, 3, list(filters), stage=stage, block=letter, initializer=initializer)
    x = layers.AveragePooling2D((2, 2), name="avg_pool")(x)
    x = layers.Flatten()(x)
    outputs = layers.Dense(classes, activation="softmax", name=f"fc{classes}")(x)
    return keras.Model(inputs, outputs, name=name)
