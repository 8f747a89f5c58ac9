"""Transfer learning and class activation maps (notebook 06): the reference implementations.

Each function is the solution of one graded exercise of notebook 06 (its answer
cell holds the same code), and what the notebook's demo cells and the benchmarks
call:

* :func:`build_transfer_model`: a frozen feature extractor with a new head
  (global average pooling ``avg_pool``, a softmax Dense ``predictions``);
* :func:`unfreeze_top`: unfreeze the last residual blocks for fine-tuning,
  keeping every BatchNormalization frozen;
* :func:`class_activation_map` (Zhou et al. 2016) and
  :func:`upsample_and_normalise`, to lay it over a photo;
* :func:`grad_cam` (Selvaraju et al. 2017), for any layer, including one of a
  model nested in the classifier (the base of a transfer model);
* :func:`pointing_game_hit` and :func:`mass_inside`: does a map land on the
  animal of a photo whose mask says 0 background, 1 cat, 2 dog, 255 boundary?

Keras and TensorFlow are imported inside the functions. Images have values 0-255
(the backbones normalise inside).
"""
from __future__ import annotations

import numpy as np

__all__ = ["build_transfer_model", "unfreeze_top", "class_activation_map", "upsample_and_normalise",
           "grad_cam", "pointing_game_hit", "mass_inside"]


def build_transfer_model(base, num_classes):
    """A classifier for ``num_classes`` classes on top of the pretrained feature extractor ``base``.

    ``base`` is a Keras model without its head (its output is the last feature map).
    Returns Input -> base (frozen, called with training=False) -> GlobalAveragePooling2D
    named "avg_pool" -> Dense(num_classes, activation="softmax") named "predictions".
    """
    import keras
    from keras import layers

    base.trainable = False
    inputs = keras.Input(base.input_shape[1:])
    x = base(inputs, training=False)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)
    return keras.Model(inputs, outputs)


def unfreeze_top(base, n_blocks):
    """Unfreeze the last ``n_blocks`` residual blocks of ``base`` for fine-tuning; freeze the rest.

    ``base.trainable`` becomes True. Blocks are the layers named ``conv{stage}_block{n}_...``
    (as in keras.applications), in the order they appear in ``base.layers``. Every layer
    outside the last ``n_blocks`` blocks is frozen, and so is every BatchNormalization
    layer, also inside the unfrozen blocks. Returns None.
    """
    import re

    from keras import layers

    def block(layer):
        match = re.match(r"(conv\d+_block\d+)_", layer.name)
        return match.group(1) if match else None

    base.trainable = True
    blocks = list(dict.fromkeys(block(layer) for layer in base.layers if block(layer)))
    top = blocks[max(len(blocks) - n_blocks, 0):]  # not blocks[-n_blocks:]: blocks[-0:] is every block
    for layer in base.layers:
        layer.trainable = block(layer) in top and not isinstance(layer, layers.BatchNormalization)


def class_activation_map(feature_maps, dense_kernel, class_index):
    """The class activation map M_c(x, y) = sum_k w_k^c f_k(x, y) of one photo.

    feature_maps: (H, W, K), the last feature map; dense_kernel: (K, classes), the
    kernel of the Dense layer after the global average pooling. Returns (H, W):
    no ReLU, no normalisation, no bias.
    """
    weights = np.asarray(dense_kernel, dtype=np.float32)[:, class_index]
    return np.asarray(feature_maps, dtype=np.float32) @ weights


def upsample_and_normalise(cam, size):
    """``cam`` (h, w) resized to ``size`` = (height, width) bilinearly, then scaled to [0, 1].

    Min-max normalisation: the smallest value becomes 0, the largest 1; a constant
    map gives zeros (not NaN).
    """
    import tensorflow as tf

    resized = tf.image.resize(np.asarray(cam, dtype=np.float32)[..., None], size, method="bilinear")
    resized = resized.numpy()[..., 0]
    low, high = resized.min(), resized.max()
    if high == low:
        return np.zeros_like(resized)
    return (resized - low) / (high - low)


def grad_cam(model, images, layer_name, class_index):
    """Grad-CAM maps (N, H, W) of ``images`` for ``class_index`` at the layer ``layer_name``.

    The layer may belong to ``model`` or to a model nested in it (the base of a transfer
    model); every model above the one that holds it is a chain of layers. The score is
    the logit of the class: the Dense layer "predictions" (softmax) is applied without
    its activation. Weights alpha_k = mean over space of d score / d A_k; the map is
    ReLU(sum_k alpha_k A_k), not normalised.
    """
    import keras
    import tensorflow as tf

    def find(level, name):
        for layer in level.layers:
            if layer.name == name:
                return layer
            if isinstance(layer, keras.Model) and (inner := find(layer, name)) is not None:
                return inner
        return None

    dense = find(model, "predictions")

    def logits(x):
        return tf.matmul(x, dense.kernel) + dense.bias

    def forward(level, x):
        """(feature map, output of ``level`` with "predictions" applied without its softmax)."""
        if layer_name in [layer.name for layer in level.layers]:
            ends_with_dense = any(layer is dense for layer in level.layers)
            end = dense.input if ends_with_dense else level.output
            feature_map, y = keras.Model(level.input, [level.get_layer(layer_name).output, end])(x)
            return feature_map, logits(y) if ends_with_dense else y
        feature_map = None
        for layer in level.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            if layer is dense:
                x = logits(x)
            elif isinstance(layer, keras.Model) and find(layer, layer_name) is not None:
                feature_map, x = forward(layer, x)
            else:
                x = layer(x)
        return feature_map, x

    images = tf.convert_to_tensor(np.asarray(images, dtype=np.float32))
    with tf.GradientTape() as tape:
        feature_map, scores = forward(model, images)
        score = scores[:, class_index]
    gradients = tape.gradient(score, feature_map)
    alpha = tf.reduce_mean(gradients, axis=(1, 2))  # (N, K): one weight per channel and image
    return tf.nn.relu(tf.einsum("nhwk,nk->nhw", feature_map, alpha)).numpy()


def pointing_game_hit(cam, mask, tolerance=15):
    """Whether the maximum of ``cam`` lies within ``tolerance`` pixels of an animal pixel of ``mask``.

    cam and mask have the same (H, W); mask: 0 background, 1 cat, 2 dog, 255 boundary
    (not animal). The distance is Euclidean, in pixels (row and column).
    """
    cam, mask = np.asarray(cam), np.asarray(mask)
    row, col = np.unravel_index(np.argmax(cam), cam.shape)
    rows, cols = np.nonzero(np.isin(mask, (1, 2)))
    if rows.size == 0:
        return False
    return bool(np.min(np.hypot(rows - row, cols - col)) <= tolerance)


def mass_inside(cam, mask):
    """The share of the (non-negative) map's total mass that lies on animal pixels (mask 1 or 2).

    The 255 boundary does not count as animal; the total is over every pixel. A map
    without mass gives 0.0.
    """
    cam = np.asarray(cam, dtype=np.float64)
    total = cam.sum()
    if total == 0:
        return 0.0
    return float(cam[np.isin(np.asarray(mask), (1, 2))].sum() / total)
