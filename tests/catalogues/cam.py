"""Answer catalogue of notebook 06 (transfer learning and class activation maps); format in ``tests/catalogue.py``."""
from __future__ import annotations

from catalogue import Alternative, HardCoded, Mistake, edit, src
from course_autograde.notebook_code import answer_sources, notebook_path, read_notebook

SOLUTION = answer_sources(read_notebook(notebook_path("06_transfer_cam")))
TRANSFER, UNFREEZE, CAM = SOLUTION["build_transfer_model"], SOLUTION["unfreeze_top"], SOLUTION["class_activation_map"]
UPSAMPLE, GRAD_CAM = SOLUTION["upsample_and_normalise"], SOLUTION["grad_cam"]
POINTING, MASS = SOLUTION["pointing_game_hit"], SOLUTION["mass_inside"]

FREEZE = "    base.trainable = False\n"
CALL = "x = base(inputs, training=False)"
POOL = 'x = layers.GlobalAveragePooling2D(name="avg_pool")(x)'
DENSE = 'outputs = layers.Dense(num_classes, activation="softmax", name="predictions")(x)'
INPUT = "inputs = keras.Input(base.input_shape[1:])"
TOP = "top = blocks[max(len(blocks) - n_blocks, 0):]"
FLAGS = "layer.trainable = block(layer) in top and not isinstance(layer, layers.BatchNormalization)"
WEIGHTS = "weights = np.asarray(dense_kernel, dtype=np.float32)[:, class_index]"
CAM_RETURN = "return np.asarray(feature_maps, dtype=np.float32) @ weights"
RESIZE = 'resized = tf.image.resize(np.asarray(cam, dtype=np.float32)[..., None], size, method="bilinear")'
NORMALISE = "    if high == low:\n        return np.zeros_like(resized)\n    return (resized - low) / (high - low)"
SCORE = "score = scores[:, class_index]"
ALPHA = "alpha = tf.reduce_mean(gradients, axis=(1, 2))"
MAPS = 'return tf.nn.relu(tf.einsum("nhwk,nk->nhw", feature_map, alpha)).numpy()'
PEAK = "row, col = np.unravel_index(np.argmax(cam), cam.shape)"
ANIMAL = "rows, cols = np.nonzero(np.isin(mask, (1, 2)))"
HIT = "return bool(np.min(np.hypot(rows - row, cols - col)) <= tolerance)"
SHARE = "return float(cam[np.isin(np.asarray(mask), (1, 2))].sum() / total)"


def mistakes_of(exercise: str, source: str):
    """``make(id, *edits, words=...)``: a Mistake of ``exercise``, the solution's ``source`` with the edits applied."""
    def make(id, *edits, words):
        return Mistake(id, exercise, edit(source, *edits), words)
    return make


transfer = mistakes_of("build_transfer_model", TRANSFER)
unfreeze = mistakes_of("unfreeze_top", UNFREEZE)
cam = mistakes_of("class_activation_map", CAM)
upsample = mistakes_of("upsample_and_normalise", UPSAMPLE)
grad_cam = mistakes_of("grad_cam", GRAD_CAM)
pointing = mistakes_of("pointing_game_hit", POINTING)
mass = mistakes_of("mass_inside", MASS)


# A short Grad-CAM of the kind students write: the feature model of the model itself or of its nested base, then
# the head by hand. FEATURES (indented 8) builds `features` for the nested base; the mistakes below replace it.
SHORT_GRAD_CAM = src('''
    def grad_cam(model, images, layer_name, class_index):
        names = [layer.name for layer in model.layers]
        if layer_name in names:
            features = keras.Model(model.input, [model.get_layer(layer_name).output, model.get_layer("avg_pool").input])
            pool = lambda x: tf.reduce_mean(x, axis=(1, 2))
        else:
            FEATURES
            pool = model.get_layer("avg_pool")
        dense = model.get_layer("predictions")
        images = tf.convert_to_tensor(images, dtype=tf.float32)
        with tf.GradientTape() as tape:
            A, last = features(images)
            logits = tf.matmul(pool(last), dense.kernel) + dense.bias
            score = logits[:, class_index]
        grads = tape.gradient(score, A)
        alpha = tf.reduce_mean(grads, axis=(1, 2))
        return tf.nn.relu(tf.einsum("nhwk,nk->nhw", A, alpha)).numpy()
''')
FEATURE_MODEL = "features = keras.Model(base.input, [base.get_layer(layer_name).output, base.output])"
FIND_BASE = ("base = next(layer for layer in model.layers if isinstance(layer, keras.Model) and layer_name in "
             "[inner.name for inner in layer.layers])\n        " + FEATURE_MODEL)


def short_grad_cam(features: str) -> str:
    return SHORT_GRAD_CAM.replace("FEATURES", features)


GRAD_CAM_TOP_LEVEL_ONLY = src('''
    def grad_cam(model, images, layer_name, class_index):
        features = keras.Model(model.inputs, [model.get_layer(layer_name).output, model.get_layer("avg_pool").input])
        dense = model.get_layer("predictions")
        images = tf.convert_to_tensor(images, dtype=tf.float32)
        with tf.GradientTape() as tape:
            A, pooled_input = features(images)
            score = (tf.matmul(tf.reduce_mean(pooled_input, axis=(1, 2)), dense.kernel) + dense.bias)[:, class_index]
        alpha = tf.reduce_mean(tape.gradient(score, A), axis=(1, 2))
        return tf.nn.relu(tf.einsum("nhwk,nk->nhw", A, alpha)).numpy()
''')

MISTAKES = [
    # ------------------------------------------------------------------ build_transfer_model
    transfer("base_not_frozen", (FREEZE, ""), words="base not frozen"),
    transfer("flatten_instead_of_gap", (POOL, 'x = layers.Flatten(name="avg_pool")(x)'),
             words="Flatten instead of GlobalAveragePooling2D"),
    transfer("global_max_pooling", (POOL, 'x = layers.GlobalMaxPooling2D(name="avg_pool")(x)'),
             words="GlobalMaxPooling2D instead of GlobalAveragePooling2D"),
    transfer("missing_softmax", (DENSE, 'outputs = layers.Dense(num_classes, name="predictions")(x)'),
             words="missing softmax"),
    transfer("units_hard_coded", (DENSE, DENSE.replace("num_classes", "3")), words="units hard-coded"),
    transfer("input_shape_hard_coded", (INPUT, "inputs = keras.Input((8, 8, 3))"), words="input shape hard-coded"),
    transfer("layers_not_named", (POOL, "x = layers.GlobalAveragePooling2D()(x)"),
             (DENSE, 'outputs = layers.Dense(num_classes, activation="softmax")(x)'),
             words=("'avg_pool'", "find them by these names")),
    transfer("base_output_reused", (INPUT, "inputs = base.input"), (CALL, "x = base.output"),
             words=("not one layer", "new keras.Input")),
    transfer("separate_softmax_layer", (DENSE, 'x = layers.Dense(num_classes, name="predictions")(x)\n'
                                               '    outputs = layers.Activation("softmax")(x)'),
             words="the softmax belongs in the Dense layer"),
    transfer("dropout_in_the_head", (POOL, POOL + "\n    x = layers.Dropout(0.2)(x)"),
             words=("extra layers in the head: Dropout",)),
    transfer("hidden_dense_layer", (POOL, POOL + '\n    x = layers.Dense(16, activation="relu")(x)'),
             words=("extra layers in the head: Dense",)),
    transfer("head_frozen_too", ("    return keras.Model(inputs, outputs)",
                                 "    model = keras.Model(inputs, outputs)\n    model.trainable = False\n"
                                 "    return model"), words="the new head was frozen too"),
    # ------------------------------------------------------------------ unfreeze_top
    Mistake("counting_layers", "unfreeze_top", src('''
        def unfreeze_top(base, n_blocks):
            base.trainable = True
            for layer in base.layers[:-n_blocks]:
                layer.trainable = False
            for layer in base.layers:
                if isinstance(layer, keras.layers.BatchNormalization):
                    layer.trainable = False
    '''), ("counting layers instead of blocks",)),
    unfreeze("minus_zero_slice", (TOP, "top = blocks[-n_blocks:]"), words="-0 == 0"),
    unfreeze("first_blocks", (TOP, "top = blocks[:n_blocks]"), words="FIRST n_blocks"),
    unfreeze("counting_stages", (TOP, 'stages = list(dict.fromkeys(b.split("_")[0] for b in blocks))\n'
                                      '    top = [b for b in blocks if b.split("_")[0] in stages[max(len(stages) - '
                                      'n_blocks, 0):]]'), words=("counted stages", "instead of blocks")),
    unfreeze("batchnorm_unfrozen", (FLAGS, "layer.trainable = block(layer) in top"),
             words="BatchNormalization layers must stay frozen"),
    unfreeze("outside_layers_left_trainable", ("    for layer in base.layers:\n        layer.trainable",
                                               "    for layer in base.layers:\n        if block(layer) is None:\n"
                                               "            continue\n        layer.trainable"),
             words="layers outside the residual blocks"),
    unfreeze("everything_after_the_first_top_layer", (
        "    for layer in base.layers:\n        " + FLAGS,
        "    first = next((i for i, layer in enumerate(base.layers) if block(layer) in top), len(base.layers))\n"
        "    for i, layer in enumerate(base.layers):\n"
        "        layer.trainable = i >= first and not isinstance(layer, layers.BatchNormalization)"),
             words="belong to no block"),
    unfreeze("nothing_frozen", ("    for layer in base.layers:\n        " + FLAGS, ""),
             words="after base.trainable = True"),
    unfreeze("base_left_frozen", ("    base.trainable = True\n", ""), words="set base.trainable = True first"),
    # ------------------------------------------------------------------ class_activation_map
    cam("kernel_row_instead_of_column", (WEIGHTS, "weights = np.asarray(dense_kernel)[class_index]"),
        words="kernel indexed [class] instead of [:, class]"),
    cam("mean_over_channels", (CAM_RETURN, "return np.mean(feature_maps * weights, axis=-1)"),
        words="mean instead of sum"),
    cam("relu_inside", (CAM_RETURN, "return np.maximum(np.asarray(feature_maps) @ weights, 0)"),
        words="no ReLU in a class activation map"),
    cam("min_max_normalised", (CAM_RETURN, "m = np.asarray(feature_maps) @ weights\n"
                                           "    return (m - m.min()) / (m.max() - m.min())"),
        words="no normalisation here"),
    cam("divided_by_max", (CAM_RETURN, "m = np.asarray(feature_maps) @ weights\n    return m / m.max()"),
        words="divided by the maximum"),
    cam("output_transposed", (CAM_RETURN, "return (np.asarray(feature_maps) @ weights).T"), words="output transposed"),
    cam("class_index_ignored", (WEIGHTS, "weights = np.asarray(dense_kernel)[:, 0]"), words="class_index is ignored"),
    cam("every_class_summed", (WEIGHTS, "weights = np.asarray(dense_kernel).sum(axis=1)"),
        words="summed the weights of every class"),
    cam("channels_not_summed", (CAM_RETURN, "return np.asarray(feature_maps) * weights"), words="not summed"),
    Mistake("kernel_row_crash", "class_activation_map", src('''
        def class_activation_map(feature_maps, dense_kernel, class_index):
            return np.tensordot(feature_maps, dense_kernel[class_index], axes=([2], [0]))
    '''), ("kernel indexed [class] instead of [:, class]", "dense_kernel[:, c]")),
    # ------------------------------------------------------------------ upsample_and_normalise
    upsample("nearest_instead_of_bilinear", (RESIZE, RESIZE.replace('"bilinear"', '"nearest"')),
             words="nearest instead of bilinear"),
    upsample("bicubic_instead_of_bilinear", (RESIZE, RESIZE.replace('"bilinear"', '"bicubic"')),
             words="bicubic instead of bilinear"),
    upsample("scipy_zoom_aligns_corners", (RESIZE, "import scipy.ndimage\n    resized = tf.constant(scipy.ndimage.zoom("
                                                   "np.asarray(cam, dtype=np.float32), (size[0] / np.shape(cam)[0], "
                                                   "size[1] / np.shape(cam)[1]), order=1)[..., None])"),
             words="aligns the corners"),
    upsample("width_height_swapped", (RESIZE, RESIZE.replace("size,", "(size[1], size[0]),")),
             words="(width, height) swapped"),
    upsample("max_only_normalisation", (NORMALISE, "    return resized / high"), words="max-only normalisation"),
    upsample("nan_on_a_constant_map", (NORMALISE, "    return (resized - low) / (high - low)"), words="NaN"),
    upsample("normalised_before_resizing", (RESIZE, "cam = np.asarray(cam, dtype=np.float32)\n"
                                                    "    cam = (cam - cam.min()) / max(cam.max() - cam.min(), 1e-12)\n"
                                                    "    " + RESIZE), (NORMALISE, "    return resized"),
             words="normalise AFTER resizing"),
    upsample("not_normalised", (NORMALISE, "    return resized"), words="not normalised"),
    upsample("relu_before_normalising", (RESIZE, RESIZE.replace("np.asarray(cam, dtype=np.float32)",
                                                                "np.maximum(np.asarray(cam, dtype=np.float32), 0)")),
             words="no ReLU here"),
    upsample("channel_axis_kept", ("resized = resized.numpy()[..., 0]", "resized = resized.numpy()"),
             words="drop the channel axis"),
    # ------------------------------------------------------------------ grad_cam
    grad_cam("gradient_of_the_probability", ("            if layer is dense:\n                x = logits(x)",
                                             "            if layer is dense:\n                x = layer(x)"),
             ("return feature_map, logits(y) if ends_with_dense else y",
              "return feature_map, dense.activation(logits(y)) if ends_with_dense else y"),
             words="gradient of the softmax probability instead of the logit"),
    grad_cam("no_relu", (MAPS, 'return tf.einsum("nhwk,nk->nhw", feature_map, alpha).numpy()'), words="no ReLU"),
    grad_cam("sum_over_space", (ALPHA, "alpha = tf.reduce_sum(gradients, axis=(1, 2))"),
             words="sum instead of mean over space"),
    grad_cam("absolute_gradients", (ALPHA, "alpha = tf.reduce_mean(tf.abs(gradients), axis=(1, 2))"),
             words="absolute gradients"),
    grad_cam("positive_gradients_only", (ALPHA, "alpha = tf.reduce_mean(tf.nn.relu(gradients), axis=(1, 2))"),
             words="clipped the gradients at 0"),
    grad_cam("weights_averaged_over_the_batch", (ALPHA, "alpha = tf.reduce_mean(gradients, axis=(0, 1, 2), "
                                                        "keepdims=True)[0, 0]"),
             (MAPS, 'return tf.nn.relu(tf.einsum("nhwk,k->nhw", feature_map, alpha[0])).numpy()'),
             words="averaged over the batch"),
    grad_cam("predicted_class", (SCORE, "score = tf.reduce_max(scores, axis=-1)"), words="predicted class"),
    grad_cam("training_mode", ("[level.get_layer(layer_name).output, end])(x)",
                               "[level.get_layer(layer_name).output, end])(x, training=True)"), words="training mode"),
    grad_cam("gradient_times_activation", (MAPS, 'return tf.nn.relu(tf.reduce_sum(gradients * feature_map, '
                                                 'axis=-1)).numpy()'), words="gradient x activation"),
    grad_cam("batch_axis_squeezed", (MAPS, MAPS.replace("return ", "return np.squeeze(") + ")"),
             words="keep the batch axis"),
    grad_cam("normalised_map", (MAPS, 'maps = tf.nn.relu(tf.einsum("nhwk,nk->nhw", feature_map, alpha)).numpy()\n'
                                      "    return maps / maps.max(axis=(1, 2), keepdims=True)"),
             words="no normalisation in grad_cam"),
    Mistake("layer_name_ignored", "grad_cam", short_grad_cam(
        "base = next(layer for layer in model.layers if isinstance(layer, keras.Model))\n"
        "        features = keras.Model(base.input, [base.output, base.output])"), ("layer_name is ignored",)),
    Mistake("top_level_only", "grad_cam", GRAD_CAM_TOP_LEVEL_ONLY, ("nested as ONE layer", "No such layer")),
    Mistake("graph_disconnected", "grad_cam", short_grad_cam(
        "base = model.layers[1]\n"
        "        features = keras.Model(model.inputs, [base.get_layer(layer_name).output, base.output])"),
            ("Graph disconnected", "base.input")),
    Mistake("assumes_a_nested_base", "grad_cam", edit(short_grad_cam(
        "base = [layer for layer in model.layers if isinstance(layer, keras.Model)][0]\n        " + FEATURE_MODEL),
        ("    if layer_name in names:", "    if False:")), ("the model's OWN layers",)),
    # ------------------------------------------------------------------ pointing_game_hit
    pointing("row_column_swapped", (PEAK, "col, row = np.unravel_index(np.argmax(cam), cam.shape)"),
             words="row/column swapped"),
    pointing("boundary_counted_as_animal", (ANIMAL, "rows, cols = np.nonzero(mask > 0)"),
             words="255 boundary counted as animal"),
    pointing("tolerance_fixed_at_15", (HIT, HIT.replace("<= tolerance", "<= 15")), words="you always used 15"),
    pointing("peak_must_be_on_the_animal", (HIT, "return bool(np.isin(mask[row, col], (1, 2)))"),
             words="tolerance ignored"),
    pointing("square_window", (HIT, "return bool(np.min(np.maximum(abs(rows - row), abs(cols - col))) <= tolerance)"),
             words="not a square window"),
    pointing("manhattan_distance", (HIT, "return bool(np.min(abs(rows - row) + abs(cols - col)) <= tolerance)"),
             words="not |drow| + |dcol|"),
    pointing("strict_comparison", (HIT, HIT.replace("<=", "<")), words="use <=, not <"),
    pointing("squared_distance", (HIT, "return bool(np.min((rows - row) ** 2 + (cols - col) ** 2) <= tolerance)"),
             words="SQUARED distance"),
    pointing("cats_only", (ANIMAL, "rows, cols = np.nonzero(mask == 1)"), words="only cats (1) counted"),
    pointing("unravelled_with_the_height", (PEAK, "row, col = divmod(int(np.argmax(cam)), cam.shape[0])"),
             words="wrong width"),
    pointing("distance_to_the_centre", (HIT, "return bool(np.hypot(rows.mean() - row, cols.mean() - col) "
                                             "<= tolerance)"),
             words="distance to the animal's centre"),
    pointing("python_or_on_arrays", (ANIMAL, "rows, cols = np.nonzero(mask == 1 or mask == 2)"), words="np.isin"),
    # ------------------------------------------------------------------ mass_inside
    mass("mass_boundary_counted_as_animal", (SHARE, "return float(cam[np.asarray(mask) != 0].sum() / total)"),
         words="255 boundary counted as animal"),
    mass("mass_cats_only", (SHARE, "return float(cam[np.asarray(mask) == 1].sum() / total)"),
         words="only cats (1) counted"),
    mass("share_of_pixels", (SHARE, "return float(np.isin(mask, (1, 2)).mean())"), words="share of PIXELS"),
    mass("mean_inside", (SHARE, "return float(cam[np.isin(mask, (1, 2))].mean())"), words="averaged the map"),
    mass("weighted_by_mask_values", (SHARE, "return float((cam * mask).sum() / total)"),
         words="multiplied the map by the mask's values"),
    mass("divided_by_the_mass_outside", (SHARE, "animal = np.isin(mask, (1, 2))\n"
                                                "    return float(cam[animal].sum() / cam[~animal].sum())"),
         words="mass OUTSIDE"),
    mass("boundary_left_out_of_the_total", (SHARE, "return float(cam[np.isin(mask, (1, 2))].sum() / "
                                                   "cam[np.asarray(mask) != 255].sum())"),
         words="the 255 boundary included"),
    mass("percentage", (SHARE, "return 100 * float(cam[np.isin(mask, (1, 2))].sum() / total)"),
         words="not a percentage"),
    mass("share_outside", (SHARE, "return 1 - float(cam[np.isin(mask, (1, 2))].sum() / total)"),
         words="share OUTSIDE"),
    mass("normalised_first", ("    total = cam.sum()", "    cam = (cam - cam.min()) / (cam.max() - cam.min())\n"
                                                      "    total = cam.sum()"), words="do not normalise the map"),
    mass("mass_python_or_on_arrays", (SHARE, "return float(cam[(mask == 1) or (mask == 2)].sum() / total)"),
         words="np.isin"),
]

# ---------------------------------------------------------------------------- answers fitted to the visible cases
HARD_CODED = [
    # The nested base looked up by the name it has in the visible cases ("tiny_base"): the hidden ones use others.
    HardCoded("base_looked_up_by_its_visible_name", "grad_cam",
              short_grad_cam('base = model.get_layer("tiny_base")\n        ' + FEATURE_MODEL)),
    # The blocks listed for the stages of the visible base (conv2 and conv3, two blocks each).
    HardCoded("blocks_of_the_visible_stages", "unfreeze_top", edit(UNFREEZE, (
        "blocks = list(dict.fromkeys(block(layer) for layer in base.layers if block(layer)))",
        'blocks = [f"conv{stage}_block{n}" for stage in (2, 3) for n in (1, 2)]'))),
]

# ---------------------------------------------------------------------------- other correct answers
ALTERNATIVES = [
    # Keras 3: fit()'s training=True passes through a recorded training=False (keras-team/keras#20285); the frozen
    # base's BatchNorm layers stay in inference mode because they are not trainable. So these behave the same.
    Alternative("base_called_without_training_flag", "build_transfer_model",
                edit(TRANSFER, ("x = base(inputs, training=False)", "x = base(inputs)"))),
    Alternative("sequential_model", "build_transfer_model", src('''
        def build_transfer_model(base, num_classes):
            base.trainable = False
            return keras.Sequential([keras.Input(base.input_shape[1:]), base,
                                     layers.GlobalAveragePooling2D(name="avg_pool"),
                                     layers.Dense(num_classes, activation="softmax", name="predictions")])
    ''')),
    Alternative("aliases_and_freezing_after_building", "build_transfer_model", src('''
        def build_transfer_model(base, num_classes):
            inputs = keras.Input(shape=base.inputs[0].shape[1:])
            features = base(inputs, training=False)
            pooled = keras.layers.GlobalAvgPool2D(name="avg_pool")(features)
            probabilities = keras.layers.Dense(units=num_classes, activation=keras.activations.softmax,
                                               name="predictions")(pooled)
            model = keras.Model(inputs=inputs, outputs=probabilities, name="transfer")
            base.trainable = False
            return model
    ''')),
    Alternative("every_layer_frozen_one_by_one", "build_transfer_model", src('''
        def build_transfer_model(base, num_classes):
            for layer in base.layers:
                layer.trainable = False
            inputs = keras.Input(base.input_shape[1:])
            x = layers.GlobalAveragePooling2D(name="avg_pool")(base(inputs, training=False))
            return keras.Model(inputs, layers.Dense(num_classes, "softmax", name="predictions")(x))
    ''')),
    Alternative("names_split_and_base_returned", "unfreeze_top", src('''
        def unfreeze_top(base, n_blocks):
            base.trainable = True
            def block_of(name):
                parts = name.split("_")
                return "_".join(parts[:2]) if len(parts) > 2 and parts[1].startswith("block") else None
            blocks = []
            for layer in base.layers:
                b = block_of(layer.name)
                if b is not None and b not in blocks:
                    blocks.append(b)
            keep = set(blocks[len(blocks) - n_blocks:]) if n_blocks > 0 else set()
            for layer in base.layers:
                is_norm = type(layer).__name__ == "BatchNormalization"
                layer.trainable = block_of(layer.name) in keep and not is_norm
            return base
    ''')),
    Alternative("reversed_walk_with_a_regex", "unfreeze_top", src('''
        import re

        def unfreeze_top(base, n_blocks):
            base.trainable = True
            top = set()
            for layer in reversed(base.layers):
                match = re.match(r"conv\\d+_block\\d+", layer.name)
                if match and len(top) < n_blocks:
                    top.add(match.group(0))
            for layer in base.layers:
                match = re.match(r"conv\\d+_block\\d+", layer.name)
                in_top = match is not None and match.group(0) in top
                layer.trainable = in_top and not isinstance(layer, keras.layers.BatchNormalization)
    ''')),
    Alternative("einsum", "class_activation_map", src('''
        def class_activation_map(feature_maps, dense_kernel, class_index):
            return np.einsum("hwk,k->hw", feature_maps, dense_kernel[:, class_index])
    ''')),
    Alternative("tensordot", "class_activation_map", src('''
        def class_activation_map(feature_maps, dense_kernel, class_index):
            return np.tensordot(feature_maps, dense_kernel[:, class_index], axes=([2], [0]))
    ''')),
    Alternative("keras_ops_tensor", "class_activation_map", src('''
        def class_activation_map(feature_maps, dense_kernel, class_index):
            w = keras.ops.convert_to_tensor(dense_kernel)[:, class_index]
            return keras.ops.sum(keras.ops.convert_to_tensor(feature_maps) * w, axis=-1)
    ''')),
    Alternative("channel_loop", "class_activation_map", src('''
        def class_activation_map(feature_maps, dense_kernel, class_index):
            result = np.zeros(feature_maps.shape[:2])
            for k in range(feature_maps.shape[2]):
                result += dense_kernel[k, class_index] * feature_maps[:, :, k]
            return result
    ''')),
    Alternative("keras_ops_resize_and_epsilon", "upsample_and_normalise", src('''
        def upsample_and_normalise(cam, size):
            x = keras.ops.image.resize(keras.ops.convert_to_tensor(cam[..., None], dtype="float32"), size,
                                       interpolation="bilinear")[..., 0]
            x = keras.ops.convert_to_numpy(x)
            return (x - x.min()) / (x.max() - x.min() + 1e-12)
    ''')),
    Alternative("pil_bilinear", "upsample_and_normalise", src('''
        from PIL import Image

        def upsample_and_normalise(cam, size):
            height, width = size
            x = np.asarray(Image.fromarray(np.asarray(cam, dtype=np.float32), mode="F").resize((width, height),
                                                                                            Image.BILINEAR))
            spread = x.max() - x.min()
            return np.zeros((height, width)) if spread == 0 else (x - x.min()) / spread
    ''')),
    Alternative("rebuilt_functional_graph", "grad_cam", src('''
        def grad_cam(model, images, layer_name, class_index):
            own = [layer.name for layer in model.layers]
            dense = model.get_layer("predictions")
            inputs = keras.Input(model.input_shape[1:])
            if layer_name in own:
                features = keras.Model(model.input, [model.get_layer(layer_name).output, dense.input])
                A, pooled = features(inputs)
            else:
                base = next(layer for layer in model.layers
                            if isinstance(layer, keras.Model) and layer_name in [l.name for l in layer.layers])
                A, last = keras.Model(base.input, [base.get_layer(layer_name).output, base.output])(inputs)
                pooled = model.get_layer("avg_pool")(last)
            logits = keras.ops.matmul(pooled, dense.kernel) + dense.bias
            grad_model = keras.Model(inputs, [A, logits])
            with tf.GradientTape() as tape:
                conv, out = grad_model(tf.constant(images, dtype=tf.float32))
                score = out[:, class_index]
            grads = tape.gradient(score, conv)
            weights = keras.ops.mean(grads, axis=(1, 2))
            return keras.ops.convert_to_numpy(keras.ops.relu(keras.ops.einsum("nhwk,nk->nhw", conv, weights)))
    ''')),
    Alternative("linear_copy_of_the_head", "grad_cam", edit(
        short_grad_cam(FIND_BASE),
        ('    dense = model.get_layer("predictions")\n',
         '    original = model.get_layer("predictions")\n'
         '    dense = keras.layers.Dense(original.units, activation=None)\n'
         '    dense.build(original.kernel.shape[:1])\n'
         '    dense.set_weights(original.get_weights())\n'),
        ("logits = tf.matmul(pool(last), dense.kernel) + dense.bias", "logits = dense(pool(last))"))),
    Alternative("short_grad_cam", "grad_cam", short_grad_cam(FIND_BASE)),
    Alternative("distances_with_argwhere", "pointing_game_hit", src('''
        def pointing_game_hit(cam, mask, tolerance=15):
            peak = np.array(np.unravel_index(np.argmax(cam), np.shape(cam)))
            animal = np.argwhere((mask == 1) | (mask == 2))
            if len(animal) == 0:
                return False
            return np.sqrt(((animal - peak) ** 2).sum(axis=1)).min() <= tolerance
    ''')),
    Alternative("disk_around_the_peak", "pointing_game_hit", src('''
        def pointing_game_hit(cam, mask, tolerance=15):
            r, c = np.unravel_index(np.argmax(cam), cam.shape)
            rows, cols = np.ogrid[:cam.shape[0], :cam.shape[1]]
            disk = (rows - r) ** 2 + (cols - c) ** 2 <= tolerance ** 2
            return bool(np.any(disk & np.isin(mask, [1, 2])))
    ''')),
    Alternative("where_and_sum", "mass_inside", src('''
        def mass_inside(cam, mask):
            inside = np.where((mask == 1) | (mask == 2), cam, 0.0)
            return inside.sum() / cam.sum()
    ''')),
    Alternative("keras_ops", "mass_inside", src('''
        def mass_inside(cam, mask):
            cam = keras.ops.convert_to_tensor(cam, dtype="float64")
            animal = keras.ops.cast(keras.ops.logical_or(mask == 1, mask == 2), "float64")
            return keras.ops.convert_to_numpy(keras.ops.sum(cam * animal) / keras.ops.sum(cam))
    ''')),
]

CLASS = {  # one student: a mistake or an alternative in every exercise
    "student": ["base_not_frozen", "batchnorm_unfrozen", "einsum", "nan_on_a_constant_map", "linear_copy_of_the_head",
                "boundary_counted_as_animal", "where_and_sum"],
}
