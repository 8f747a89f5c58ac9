"""Mistakes of cam recognised by their outputs (see the package docstring)."""
from __future__ import annotations

import numpy as np

from ..cam import (ANIMAL, BOUNDARY, DENSE, cam_inputs, case_mask, grad_cam_images, grad_cam_models, mass_inputs,
                   peak_map, tiny_base, upsample_input)
from ..engine import Case, Mistake

_GRADIENTS: dict = {}



_LAYERS: dict[str, list[tuple[str, bool]]] = {}


def base_layers(spec) -> list[tuple[str, bool]]:
    """(name, is BatchNormalization) of every layer with weights of the base, in order (built once)."""
    if spec["name"] not in _LAYERS:
        from keras import layers

        base, _ = tiny_base(spec)
        _LAYERS[spec["name"]] = [(layer.name, isinstance(layer, layers.BatchNormalization))
                                 for layer in base.layers if layer.weights]
    return _LAYERS[spec["name"]]


def _block(name: str) -> str | None:
    parts = name.split("_")
    return "_".join(parts[:2]) if len(parts) > 2 and parts[0][4:].isdigit() and parts[1].startswith("block") else None


def unfreeze_variant(case: Case, variant: str = "correct") -> dict:
    """The flags a correct answer, or a known mistake, leaves (from the layers' names only)."""
    n, found = case["n_blocks"], base_layers(case["base"])
    names = [name for name, _ in found]
    blocks = list(dict.fromkeys(b for b in map(_block, names) if b))
    top = {"minus_zero": blocks[-n:], "first_blocks": blocks[:n]}.get(variant, blocks[max(len(blocks) - n, 0):])
    if variant == "stages":
        stages = list(dict.fromkeys(b.split("_")[0] for b in blocks))
        top = [b for b in blocks if b.split("_")[0] in stages[max(len(stages) - n, 0):]]
    first = min((i for i, name in enumerate(names) if _block(name) in top), default=len(names))
    flags = {}
    for index, (name, is_norm) in enumerate(found):
        inside = _block(name) in top
        if variant == "everything_after":
            inside = index >= first
        untouched = variant == "all_trainable" or (variant == "outside_left" and _block(name) is None)
        flags[name] = untouched or (inside and (not is_norm or variant == "bn_unfrozen"))
    return {"base.trainable": variant != "not_trainable_first", "layer.trainable": flags}


def _layers_variant(case: Case) -> dict:
    """``for layer in base.layers[:-n_blocks]: layer.trainable = False`` (and BatchNorms frozen)."""
    n, spec = case["n_blocks"], case["base"]
    base, _ = tiny_base(spec)
    from keras import layers

    everything = base.layers
    kept = everything[len(everything) - n:] if n else everything  # base.layers[:-0] freezes nothing
    ids = {id(layer) for layer in kept}
    return {"base.trainable": True,
            "layer.trainable": {layer.name: id(layer) in ids and not isinstance(layer, layers.BatchNormalization)
                                for layer in everything if layer.weights}}


UNFREEZE_HINTS = {
    "minus_zero": "blocks[-n_blocks:] with n_blocks=0 is EVERY block (-0 == 0): take blocks[len(blocks) - n_blocks:].",
    "first_blocks": "you unfroze the FIRST n_blocks blocks; fine-tuning unfreezes the LAST ones (closest to the head).",
    "stages": "you counted stages (conv2, conv3...) instead of blocks: a block is conv{stage}_block{n}, and a stage "
              "holds several blocks.",
    "bn_unfrozen": "BatchNormalization layers must stay frozen (trainable=False) even inside the unfrozen blocks: "
                   "a frozen BatchNorm runs in inference mode, so fine-tuning on small batches keeps its statistics.",
    "outside_left": "layers outside the residual blocks (conv1, top_conv) were left trainable: set trainable on "
                    "EVERY layer of base.layers, True only for the layers of the last blocks.",
    "everything_after": "only the layers of the last n_blocks blocks are unfrozen; layers after them that belong to "
                        "no block (top_conv) stay frozen.",
    "all_trainable": "after base.trainable = True, freeze every layer that is not in the last n_blocks blocks (and "
                     "every BatchNormalization).",
    "not_trainable_first": "set base.trainable = True first: while the base itself is frozen, its layers' own "
                           "flags have no effect (base.trainable_weights stays empty).",
}


UNFREEZE_MISTAKES = [
    Mistake("counting layers instead of blocks: n_blocks is a number of residual blocks (conv{stage}_block{n}_*), "
            "each made of several layers.", output=_layers_variant),
    *[Mistake(hint, output=lambda case, v=variant: unfreeze_variant(case, v))
      for variant, hint in UNFREEZE_HINTS.items()],
]


def cam_variant(case: Case, variant: str = "correct") -> np.ndarray | None:
    maps, kernel = cam_inputs(case)
    maps, kernel, c = maps.astype(np.float64), kernel.astype(np.float64), case["class_index"]
    if variant == "row":
        if kernel.shape[0] != kernel.shape[1]:
            return None
        weights = kernel[c]
    else:
        weights = kernel[:, {"class_0": 0}.get(variant, c)]
    if variant == "all_classes":
        return maps @ kernel.sum(axis=1)
    result = (maps * weights).mean(axis=-1) if variant == "mean" else maps @ weights
    if variant == "relu":
        result = np.maximum(result, 0)
    if variant == "min_max":
        result = (result - result.min()) / (result.max() - result.min())
    if variant == "max":
        result = result / result.max()
    if variant == "transposed":
        return result.T if result.shape[0] != result.shape[1] else None
    return result


CAM_HINTS = {
    "row": "kernel indexed [class] instead of [:, class]: dense_kernel has shape (K, classes), one COLUMN per "
           "class, so the weights of class c are dense_kernel[:, c].",
    "mean": "mean instead of sum over the channels: M_c = sum_k w_k^c f_k (use np.sum, or feature_maps @ weights).",
    "relu": "no ReLU in a class activation map: M_c = sum_k w_k^c f_k keeps its negative values (they say 'not "
            "this class').",
    "min_max": "no normalisation here: return the raw sum; upsample_and_normalise scales it to [0, 1] later.",
    "max": "no normalisation here (you divided by the maximum): return the raw sum sum_k w_k^c f_k.",
    "transposed": "output transposed: return shape (H, W), the first two axes of feature_maps, in that order.",
    "class_0": "class_index is ignored (you used class 0): take the column dense_kernel[:, class_index].",
    "all_classes": "you summed the weights of every class: use only the column of class_index.",
}


CAM_MISTAKES = [
    *[Mistake(hint, output=lambda case, v=variant: cam_variant(case, v)) for variant, hint in CAM_HINTS.items()],
]


def bilinear(image, size, align_corners=False) -> np.ndarray:
    """A NumPy bilinear resize of a 2-D array: TensorFlow's half-pixel grid, or the aligned-corners one."""
    image = np.asarray(image, dtype=np.float64)

    def coordinates(n_in, n_out):
        if align_corners:
            x = np.linspace(0, n_in - 1, n_out) if n_out > 1 else np.zeros(1)
        else:
            x = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
        low = np.floor(x).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        return low, high, x - low

    (r0, r1, fr), (c0, c1, fc) = coordinates(image.shape[0], size[0]), coordinates(image.shape[1], size[1])
    top = image[r0][:, c0] * (1 - fc) + image[r0][:, c1] * fc
    bottom = image[r1][:, c0] * (1 - fc) + image[r1][:, c1] * fc
    return top * (1 - fr)[:, None] + bottom * fr[:, None]


def _min_max(x):
    x = np.asarray(x, dtype=np.float64)
    spread = x.max() - x.min()
    return np.zeros_like(x) if spread == 0 else (x - x.min()) / spread


def upsample_variant(case: Case, variant: str = "correct") -> np.ndarray | None:
    import tensorflow as tf

    cam, size = upsample_input(case).astype(np.float64), tuple(case["size"])
    if variant in ("nearest", "bicubic"):
        resized = tf.image.resize(cam[..., None], size, method=variant).numpy()[..., 0]
    elif variant == "align_corners":
        resized = bilinear(cam, size, align_corners=True)
    elif variant == "normalised_first":
        return bilinear(_min_max(cam), size)
    else:
        resized = bilinear(np.maximum(cam, 0) if variant == "relu" else cam, size)
    if variant == "no_normalisation":
        return resized
    if variant == "max_only":
        return None if resized.max() == 0 else resized / resized.max()
    return _min_max(resized)


UPSAMPLE_HINTS = {
    "nearest": "nearest instead of bilinear: use tf.image.resize(..., method='bilinear') (nearest gives blocky maps).",
    "bicubic": "bicubic instead of bilinear: use method='bilinear' (bicubic overshoots outside the map's range).",
    "align_corners": "your resize aligns the corners (scipy.ndimage.zoom, align_corners=True): use tf.image.resize "
                     "(bilinear, half-pixel centres), the grid the course's figures use.",
    "normalised_first": "normalise AFTER resizing: the resized map's own minimum and maximum become 0 and 1.",
    "no_normalisation": "the map is not normalised: subtract its minimum, then divide by (maximum - minimum).",
    "max_only": "max-only normalisation: divide by (max - min) after subtracting the minimum, not just by the "
                "maximum (a map with negative values, or all above 0, must still span [0, 1]).",
    "relu": "no ReLU here: min-max normalise the resized map as it is (its negative values become the low end).",
}


UPSAMPLE_MISTAKES = [
    *[Mistake(hint, output=lambda case, v=variant: upsample_variant(case, v))
      for variant, hint in UPSAMPLE_HINTS.items()],
]


def grad_cam_gradients(case: Case, training: bool = False) -> dict:
    """Feature map A and d score / dA for the logit, the probability and the predicted class (computed once)."""
    key = (case.name, case["layer"], training)
    if key not in _GRADIENTS:
        import tensorflow as tf

        model, probe = grad_cam_models(case)  # fresh: a training-mode call updates the BatchNorm statistics
        dense, c = model.get_layer(DENSE), case["class_index"]
        with tf.GradientTape(persistent=True) as tape:
            feature_map, last = probe(tf.constant(grad_cam_images(case)), training=training)
            logits = tf.matmul(tf.reduce_mean(last, axis=(1, 2)), dense.kernel) + dense.bias
            probabilities = tf.nn.softmax(logits)
            predicted = tf.gather(logits, tf.argmax(logits, axis=-1), batch_dims=1)
            scores = {"logit": logits[:, c], "probability": probabilities[:, c], "predicted": predicted}
        _GRADIENTS[key] = {"A": feature_map.numpy().astype(np.float64),
                           **{name: tape.gradient(score, feature_map).numpy().astype(np.float64)
                              for name, score in scores.items()},
                           "classes": np.argmax(logits.numpy(), axis=-1)}
    return _GRADIENTS[key]


def grad_cam_variant(case: Case, variant: str = "correct") -> np.ndarray | None:
    """Grad-CAM of the case, or what a known mistake gives, from the checks' own graph of the model."""
    parts = grad_cam_gradients(case, training=variant == "training_mode")
    if variant == "predicted_class" and np.all(parts["classes"] == case["class_index"]):
        return None
    a = parts["A"]
    g = parts[{"probability": "probability", "predicted_class": "predicted"}.get(variant, "logit")]
    g = {"absolute": np.abs(g), "positive_gradients": np.maximum(g, 0)}.get(variant, g)
    if variant == "gradient_times_activation":
        maps = (g * a).sum(axis=-1)
    else:
        alpha = g.sum(axis=(1, 2)) if variant == "sum_over_space" else g.mean(axis=(1, 2))
        if variant == "batch_mean":
            alpha = np.broadcast_to(alpha.mean(axis=0, keepdims=True), alpha.shape)
        maps = np.einsum("nhwk,nk->nhw", a, alpha)
    return (maps if variant == "no_relu" else np.maximum(maps, 0)).astype(np.float32)


GRAD_CAM_HINTS = {
    "probability": "gradient of the softmax probability instead of the logit: the score is the class's logit (the "
                   "Dense layer's kernel and bias on the pooled features, without the softmax), whose gradient does "
                   "not vanish when the model is confident.",
    "no_relu": "no ReLU: Grad-CAM keeps only the positive evidence, ReLU(sum_k alpha_k A_k).",
    "sum_over_space": "sum instead of mean over space: alpha_k is the MEAN over the positions of d score / d A_k.",
    "absolute": "absolute gradients: alpha_k = mean of d score / d A_k with its sign (a negative weight says 'less "
                "of this channel').",
    "positive_gradients": "you clipped the gradients at 0 before averaging: average them as they are, then apply "
                          "the ReLU to the weighted sum.",
    "batch_mean": "the weights were averaged over the batch too: alpha has one value per image AND channel (mean "
                  "over axes 1 and 2 only).",
    "predicted_class": "class_index is ignored (you used each image's predicted class): the score is the logit of "
                       "class_index.",
    "training_mode": "the model ran in training mode (BatchNorm used batch statistics): call it with "
                     "training=False (or without training=).",
    "gradient_times_activation": "you summed gradient x activation position by position: first average the "
                                 "gradients over space (alpha_k), then weight the WHOLE feature map A_k by alpha_k.",
}




GRAD_CAM_MISTAKES = [
    *[Mistake(hint, output=lambda case, v=variant: grad_cam_variant(case, v))
      for variant, hint in GRAD_CAM_HINTS.items()],
]


def pointing_variant(case: Case, variant: str = "correct") -> bool:
    cam, mask = peak_map(case), case_mask(case)
    tolerance = 15 if case["tolerance"] is None or variant == "fixed_tolerance" else case["tolerance"]
    index = int(np.argmax(cam))
    row, col = divmod(index, cam.shape[0]) if variant == "unravel" else divmod(index, cam.shape[1])
    if variant == "swapped":
        row, col = col, row
    animal = {"boundary": mask != 0, "label_1": mask == 1}.get(variant, np.isin(mask, ANIMAL))
    rows, cols = np.nonzero(animal)
    if rows.size == 0:
        return False
    if variant == "exact":
        return bool(animal[row, col]) if row < mask.shape[0] and col < mask.shape[1] else False
    if variant == "centroid":
        return bool(np.hypot(rows.mean() - row, cols.mean() - col) <= tolerance)
    dr, dc = np.abs(rows - row), np.abs(cols - col)
    distance = {"chebyshev": np.maximum(dr, dc), "manhattan": dr + dc,
                "squared": dr ** 2 + dc ** 2}.get(variant, np.hypot(dr, dc))
    return bool(distance.min() < tolerance) if variant == "strict" else bool(distance.min() <= tolerance)


POINTING_HINTS = {
    "swapped": "row/column swapped: np.unravel_index(np.argmax(cam), cam.shape) gives (row, column), in that order; "
               "compare rows with rows.",
    "boundary": "the 255 boundary counted as animal: only mask values 1 and 2 are animal pixels "
                "(np.isin(mask, (1, 2))).",
    "fixed_tolerance": "tolerance ignored (you always used 15): use the tolerance argument.",
    "exact": "tolerance ignored: the peak may miss the animal by up to `tolerance` pixels (distance to the nearest "
             "animal pixel).",
    "chebyshev": "the distance is Euclidean: sqrt(drow^2 + dcol^2) <= tolerance, not a square window "
                 "(max(|drow|, |dcol|)).",
    "manhattan": "the distance is Euclidean: sqrt(drow^2 + dcol^2), not |drow| + |dcol|.",
    "strict": "a pixel exactly `tolerance` away counts: use <=, not <.",
    "squared": "you compared the SQUARED distance with the tolerance: take the square root (np.hypot), or compare "
               "with tolerance ** 2.",
    "label_1": "only cats (1) counted: dogs (2) are animals too, np.isin(mask, (1, 2)).",
    "unravel": "the flat index of the peak was split with the wrong width: use np.unravel_index(index, cam.shape) "
               "(row = index // width).",
    "centroid": "distance to the animal's centre: the pointing game measures the distance to the NEAREST animal pixel.",
}


POINTING_MISTAKES = [Mistake(hint, output=lambda case, v=variant: pointing_variant(case, v))
                     for variant, hint in POINTING_HINTS.items()]


def mass_variant(case: Case, variant: str = "correct") -> float | None:
    cam, mask = mass_inputs(case)
    cam = _min_max(cam) if variant == "normalised_first" else cam.astype(np.float64)
    animal = {"boundary": mask != 0, "label_1": mask == 1}.get(variant, np.isin(mask, ANIMAL))
    inside = cam[animal].sum()
    if variant == "area":
        return float(animal.mean())
    if variant == "mean_inside":
        return float(cam[animal].mean())
    if variant == "mask_weighted":
        return float((cam * mask).sum() / cam.sum())
    total = {"ratio": cam[~animal].sum(), "without_boundary": cam[mask != BOUNDARY].sum()}.get(variant, cam.sum())
    share = inside / total
    return float({"percent": 100 * share, "outside": 1 - share}.get(variant, share))


MASS_HINTS = {
    "boundary": "the 255 boundary counted as animal: only mask values 1 and 2 are animal pixels.",
    "label_1": "only cats (1) counted: dogs (2) are animals too, np.isin(mask, (1, 2)).",
    "area": "that is the share of PIXELS on the animal; weigh each pixel by the map: cam[animal].sum() / cam.sum().",
    "mean_inside": "you averaged the map over the animal; the share of mass is cam[animal].sum() / cam.sum().",
    "mask_weighted": "you multiplied the map by the mask's values (2 for dogs, 255 on the boundary): use the "
                     "boolean animal mask to select pixels.",
    "ratio": "you divided by the mass OUTSIDE the animal; divide by the total mass over all pixels.",
    "without_boundary": "the total mass is over ALL pixels, the 255 boundary included.",
    "percent": "return a share between 0 and 1, not a percentage.",
    "outside": "that is the share OUTSIDE the animal: return the mass on animal pixels / total mass.",
    "normalised_first": "do not normalise the map first: the share is computed on the map as it is given.",
}


MASS_MISTAKES = [Mistake(hint, output=lambda case, v=variant: mass_variant(case, v))
                 for variant, hint in MASS_HINTS.items()]


MISTAKES = {"unfreeze_top": UNFREEZE_MISTAKES, "class_activation_map": CAM_MISTAKES,
            "upsample_and_normalise": UPSAMPLE_MISTAKES, "grad_cam": GRAD_CAM_MISTAKES,
            "pointing_game_hit": POINTING_MISTAKES, "mass_inside": MASS_MISTAKES}
