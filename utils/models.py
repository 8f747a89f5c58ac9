"""The ResNet-50s' stages, descriptions of models, and the training recipe of notebooks 04 and 05.

* :func:`keras_resnet50`, Keras' ResNet-50 with the course's head, for comparisons
  (the course's own, the answer of notebook 04, is :func:`course_utils.resnet50.resnet50`);
* :func:`layer_names`, the classic layer names of the blocks;
* :func:`layer_table` describes a model layer by layer (type, output shape,
  parameters, the settings that matter), for checks and stage tables;
* the recipe: :func:`prepare_for_training`, :func:`pipeline_augmentation`, :func:`learning_rate_schedule`,
  :func:`make_optimizer`, :func:`training_callbacks`, :func:`train`, :func:`recalibrate_batchnorm`,
  :func:`evaluate`, :func:`predict`, and :func:`save_model` /
  :func:`load_model` to and from :func:`course_utils.settings.models_dir`.

Keras is imported inside the functions, so importing this module is quick.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from . import settings

# (stage, filters of the three convolutions, stride of the first block, block letters)
RESNET50_STAGES = (
    (2, (64, 64, 256), 1, "abc"),
    (3, (128, 128, 512), 2, "abcd"),
    (4, (256, 256, 1024), 2, "abcdef"),
    (5, (512, 512, 2048), 2, "abc"),
)

# The two recipes compared in notebook 04 and benchmarks/accuracy.py.
RECIPES = {
    # The original exercise: Adam at a constant 1e-3, no augmentation, last epoch kept.
    "tutorial": {"optimizer": "adam", "learning_rate": 1e-3, "batch_size": 32, "augment": False,
                 "schedule": False, "keep_best": False, "prepare": False,
                 "zoom": 0.0, "shift": 0.0, "crop": None, "recalibrate_bn": False, "ema_momentum": None},
    # This course: a careful start (see prepare_for_training), augmentation, batches of 16 (twice the
    # updates per epoch), AdamW with a warm-up then cosine decay, best epoch on validation kept, then
    # BatchNorm statistics re-measured on the un-augmented training photos (recalibrate_batchnorm).
    # crop takes a random crop of each full-size photo (each side keeps 75-100%) in the data pipeline
    # (see data.make_image_dataset); zoom and shift are RandomZoom / RandomTranslation fractions on the
    # small images, the course's earlier augmentation (0 = off). Benchmarks: crops scored higher on validation.
    "course": {"optimizer": "adamw", "learning_rate": 1e-3, "weight_decay": 0.05, "warmup_epochs": 1,
               "batch_size": 16, "augment": True, "zoom": 0.0, "shift": 0.0, "crop": 0.75, "schedule": True,
               "keep_best": True, "prepare": True, "bn_momentum": 0.9, "recalibrate_bn": True,
               "ema_momentum": None},
}


def keras_resnet50(input_shape=(64, 64, 3), classes: int = 2):
    """``keras.applications.ResNet50`` (random weights) with the course's head, for comparisons."""
    import keras
    from keras import layers

    base = keras.applications.ResNet50(weights=None, include_top=False, input_shape=input_shape)
    x = layers.AveragePooling2D((2, 2), name="avg_pool")(base.output)
    x = layers.Flatten()(x)
    outputs = layers.Dense(classes, activation="softmax", name=f"fc{classes}")(x)
    return keras.Model(base.input, outputs, name="keras_ResNet50")


# --------------------------------------------------------------------------- describing a model

# The settings worth comparing, per layer type (attribute name in get_config()).
_SETTINGS = {
    "Conv2D": ("filters", "kernel_size", "strides", "padding"),
    "MaxPooling2D": ("pool_size", "strides", "padding"),
    "AveragePooling2D": ("pool_size", "strides", "padding"),
    "ZeroPadding2D": ("padding",),
    "BatchNormalization": ("axis",),
    "Dense": ("units", "activation"),
    "Activation": ("activation",),
}


def _plain(value):
    """JSON-friendly config values: tuples -> lists, one-element axis lists -> int."""
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def layer_kind(layer) -> str:
    """The layer's class name, with ``Activation('relu')`` and ``ReLU()`` both called ``ReLU``."""
    kind = type(layer).__name__
    if kind == "Activation" and layer.get_config().get("activation") == "relu":
        return "ReLU"
    if kind == "ReLU":
        config = layer.get_config()
        if config.get("max_value") is None and not config.get("negative_slope") and not config.get("threshold"):
            return "ReLU"
        return "ReLU(custom)"
    return kind


def output_shape(layer) -> list:
    """The output shape without the batch size (Keras 3: ``layer.output.shape``)."""
    output = layer.output
    if isinstance(output, (list, tuple)):
        output = output[0]
    return [None if d is None else int(d) for d in tuple(output.shape)[1:]]


def layer_table(model) -> list[dict]:
    """One dict per layer (InputLayer excluded), in the model's order.

    Keys: ``name``, ``type`` (see :func:`layer_kind`), ``output_shape`` (no
    batch dimension), ``params`` and ``settings`` (filters, kernel size,
    strides, padding, pool sizes, units, activation... where they apply).
    """
    rows = []
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        config = layer.get_config()
        kind = layer_kind(layer)
        keys = _SETTINGS.get(type(layer).__name__, ())
        rows.append({"name": layer.name, "type": kind, "output_shape": output_shape(layer),
                     "params": int(layer.count_params()),
                     "settings": {k: _plain(config[k]) for k in keys if k in config}})
    return rows


def layer_names(stage, block, branch: str) -> tuple[str, str]:
    """``('res1a_branch2a', 'bn1a_branch2a')`` for stage 1, block 'a', branch '2a'."""
    base = str(stage) + block + "_branch" + branch
    return "res" + base, "bn" + base


def stage_of(name: str) -> str:
    """'res3c_branch2b' -> 'stage 3'; 'conv1' / 'bn_conv1' -> 'stage 1'; else ''."""
    import re

    match = re.match(r"(?:res|bn)(\d)([a-z])_branch", name)
    if match:
        return f"stage {match[1]}"
    if name in ("conv1", "bn_conv1"):
        return "stage 1"
    return ""


def stage_summary(model) -> list[dict]:
    """Rows for a stage table: input, stem, each stage (blocks, output shape, parameters), head, total."""
    import re

    table = layer_table(model)
    rows: list[dict] = [{"stage": "input", "blocks": "", "output_shape": list(model.input.shape[1:]),
                         "params": 0}]
    current, blocks, params, shape = "stage 1 (stem)", [], 0, None
    groups: list[tuple[str, list, int, list]] = []
    for row in table:
        match = re.match(r"(?:res|bn)(\d)([a-z])_branch", row["name"])
        if match:
            name = f"stage {match[1]}"
            if name != current:
                groups.append((current, blocks, params, shape))
                current, blocks, params = name, [], 0
            if match[2] not in blocks:
                blocks.append(match[2])
        elif row["name"] == "avg_pool" and current != "head":
            groups.append((current, blocks, params, shape))
            current, blocks, params = "head", [], 0
        params += row["params"]
        shape = row["output_shape"]
    groups.append((current, blocks, params, shape))
    for name, letters, count, out in groups:
        rows.append({"stage": name, "blocks": "".join(letters), "output_shape": out, "params": count})
    rows.append({"stage": "total", "blocks": "", "output_shape": rows[-1]["output_shape"],
                 "params": int(model.count_params())})
    return rows


# --------------------------------------------------------------------------- the training recipe


def augmentation(seed: int | None = None, recipe: str | dict = "course"):
    """Random left-right flips, plus zooms and shifts if ``recipe`` sets them, for training batches only."""
    import keras
    from keras import layers

    spec = recipe_settings(recipe)
    steps = [layers.RandomFlip("horizontal", seed=seed)]
    if spec["zoom"]:
        steps.append(layers.RandomZoom(spec["zoom"], fill_mode="reflect", seed=seed))
    if spec["shift"]:
        steps.append(layers.RandomTranslation(spec["shift"], spec["shift"], fill_mode="reflect", seed=seed))
    return keras.Sequential(steps, name="augmentation")


def pipeline_augmentation(recipe: str | dict = "course", seed: int | None = None) -> dict:
    """The keyword arguments that give a training dataset ``recipe``'s augmentation.

    ``data.cats_vs_dogs_dataset("train", **pipeline_augmentation(), ...)``: random crops
    of the full-size photos (``crop``) and the batch-level flips, zooms and shifts
    (``augment``); both ``None`` for a recipe without augmentation.
    """
    spec = recipe_settings(recipe)
    if not spec["augment"]:
        return {"augment": None, "crop": None}
    layers = augmentation(seed, spec)

    def augment(images):
        return layers(images, training=True)

    return {"augment": augment, "crop": spec["crop"]}


def learning_rate_schedule(steps_per_epoch: int, epochs: int, peak: float = 2e-3, warmup_epochs: float = 1):
    """Linear warm-up to ``peak`` then cosine decay to 0 at the end of training."""
    import keras

    total = max(1, int(steps_per_epoch * epochs))
    warmup = min(int(steps_per_epoch * warmup_epochs), total // 2)
    return keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=peak / 100 if warmup else peak, decay_steps=max(1, total - warmup),
        warmup_target=peak if warmup else None, warmup_steps=warmup)


def prepare_for_training(model, seed: int = 0, bn_momentum: float | None = None):
    """Re-initialise ``model`` the way the course recipe trains it from scratch; returns the model.

    The architecture is untouched; only starting values and one BatchNorm setting change:

    * every Conv2D kernel gets He-normal values and every Dense kernel Glorot-uniform
      values, each layer from its own seed (``seed + layer index``). The classic
      exercise seeds every layer with 0, so layers of the same shape start equal;
    * the last BatchNorm of each residual branch (``bn..._branch2c``) starts with
      gamma = 0, so every block starts as the identity and the 50-layer network
      trains like a shallow one at first (Goyal et al., 2017);
    * BatchNorm moving averages use ``bn_momentum`` (default: the course recipe's 0.9;
      Keras' default is 0.99): they
      then follow the fast-moving weights of the first epochs, so validation scores
      are not read with stale statistics (with 0.99 validation accuracy stayed below
      0.59 for the first three epochs, against 0.64-0.72). After training,
      :func:`recalibrate_batchnorm` measures the final statistics precisely.
    """
    import keras

    if bn_momentum is None:
        bn_momentum = RECIPES["course"]["bn_momentum"]
    for index, layer in enumerate(model.layers):
        if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
            kind = keras.initializers.HeNormal if isinstance(layer, keras.layers.Conv2D) else \
                keras.initializers.GlorotUniform
            layer.kernel.assign(kind(seed=seed + index)(layer.kernel.shape))
            if layer.bias is not None:
                layer.bias.assign(keras.ops.zeros(layer.bias.shape))
        elif isinstance(layer, keras.layers.BatchNormalization):
            layer.momentum = bn_momentum
            if layer.name.endswith("_branch2c"):
                layer.gamma.assign(keras.ops.zeros(layer.gamma.shape))
    return model


def batchnorm_layers(model) -> list:
    """Every BatchNormalization layer of ``model``, nested models included."""
    import keras

    found = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            found.append(layer)
        elif hasattr(layer, "layers"):
            found.extend(batchnorm_layers(layer))
    return found


def recalibrate_batchnorm(model, dataset, momentum: float = 0.99):
    """Re-estimate the BatchNorm moving means and variances of ``model`` on ``dataset``; returns the model.

    Only the statistics change, never the weights. During training they are a moving
    average over the last dozen or so batches (momentum 0.9), each from slightly different weights and
    (with augmentation) slightly different photos. One pass over the un-augmented
    training photos with the final weights gives statistics that match the photos the
    model will see ("precise BatchNorm", Wu & Johnson, 2021).
    """
    import tensorflow as tf

    layers = batchnorm_layers(model)
    before = [layer.momentum for layer in layers]
    for layer in layers:
        layer.momentum = momentum
    forward = tf.function(lambda images: model(images, training=True))
    try:
        for batch in dataset:
            forward(batch[0] if isinstance(batch, (tuple, list)) else batch)
    finally:
        for layer, value in zip(layers, before):
            layer.momentum = value
    return model


def recipe_settings(recipe: str | dict = "course") -> dict:
    """The settings of ``recipe``: a name in :data:`RECIPES`, or a dict (e.g. a variant in a benchmark)."""
    if isinstance(recipe, dict):
        return recipe
    if recipe not in RECIPES:
        raise ValueError(f"unknown recipe {recipe!r}: choose one of {sorted(RECIPES)} or pass a dict of settings")
    return RECIPES[recipe]


def make_optimizer(recipe: str | dict = "course", steps_per_epoch: int = 1, epochs: int = 1):
    """The optimizer of ``recipe`` ("course" or "tutorial", see :data:`RECIPES`)."""
    import keras

    spec = recipe_settings(recipe)
    if spec["schedule"]:
        rate = learning_rate_schedule(steps_per_epoch, epochs, spec["learning_rate"], spec["warmup_epochs"])
    else:
        rate = spec["learning_rate"]
    # a moving average of the weights, copied into the model when fit() ends (see keep_best)
    averaging = dict(use_ema=True, ema_momentum=spec["ema_momentum"]) if spec.get("ema_momentum") else {}
    if spec["optimizer"] == "adamw":
        return keras.optimizers.AdamW(learning_rate=rate, weight_decay=spec["weight_decay"], **averaging)
    return keras.optimizers.Adam(learning_rate=rate, **averaging)


def compile_model(model, recipe: str | dict = "course", steps_per_epoch: int = 1, epochs: int = 1):
    # Fast mode runs a handful of steps: eagerly they take a third of the time that
    # tracing ResNet-50's training graph does (7 s vs 21 s measured on 2 cores).
    model.compile(optimizer=make_optimizer(recipe, steps_per_epoch, epochs),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=settings.fast_mode())
    return model


def keep_best(monitor: str = "val_accuracy", validation=None):
    """A callback remembering the weights of the epoch with the best ``monitor``; restored at the end.

    If the optimizer keeps a moving average of the weights (``ema_momentum`` in a recipe),
    those averaged weights are the ones kept: each epoch the callback scores them on
    ``validation`` (logged as ``averaged_<monitor>``) instead of the raw weights.
    """
    import keras

    class KeepBest(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.monitor, self.best, self.best_epoch, self.weights = monitor, -math.inf, None, None

        def _averaged(self):
            """The optimizer's averaged weights and their validation score; the model is left as it was."""
            raw = self.model.get_weights()
            self.model.optimizer.finalize_variable_values(self.model.trainable_variables)
            scores = self.model.evaluate(validation, verbose=0, return_dict=True)
            averaged = self.model.get_weights()
            self.model.set_weights(raw)
            return averaged, scores[self.monitor.removeprefix("val_")]

        def on_epoch_end(self, epoch, logs=None):
            logs = logs if logs is not None else {}
            if getattr(self.model.optimizer, "use_ema", False) and validation is not None:
                weights, logs[f"averaged_{self.monitor}"] = self._averaged()
                value = logs[f"averaged_{self.monitor}"]
            else:
                weights, value = None, logs.get(self.monitor)
            if value is not None and value > self.best:
                self.best, self.best_epoch = value, epoch
                self.weights = weights if weights is not None else self.model.get_weights()

        def on_train_end(self, logs=None):
            if self.weights is not None:
                self.model.set_weights(self.weights)

    return KeepBest()


def training_callbacks(best: bool = True, csv_log: str | Path | None = None, validation=None) -> list:
    """Keep the best epoch's weights (in memory; see :func:`keep_best`) and optionally log each epoch to a CSV file."""
    import keras

    callbacks = [keep_best(validation=validation)] if best else []
    if csv_log:
        callbacks.append(keras.callbacks.CSVLogger(str(csv_log)))
    return callbacks


def count_batches(dataset) -> int:
    """The number of batches in ``dataset``, counted by a pass over it when tf.data does not know it."""
    import tensorflow as tf

    n = int(dataset.cardinality())
    if n == tf.data.INFINITE_CARDINALITY or n < 0:
        n = sum(1 for _ in dataset)
    return n


def with_length(dataset):
    """The dataset with its number of batches known, so Keras shows a full progress bar."""
    import tensorflow as tf

    if dataset is None or int(dataset.cardinality()) >= 0:
        return dataset
    return dataset.apply(tf.data.experimental.assert_cardinality(count_batches(dataset)))


def train(model, train_ds, val_ds=None, epochs: int = 15, recipe: str | dict = "course", steps_per_epoch=None,
          verbose: int = 1, csv_log=None, callbacks: Sequence = ()):
    """Compile ``model`` with ``recipe`` and fit it; returns the Keras ``History``.

    For the course recipe, call :func:`prepare_for_training` on a fresh model first
    (``RECIPES[recipe]["prepare"]`` says whether a recipe expects it).

    ``train_ds`` must already carry the recipe's augmentation (see
    :func:`pipeline_augmentation`): augmenting in the pipeline keeps it out of the saved
    model. With ``keep_best`` the weights of the best validation epoch are
    restored at the end (``history.best_epoch`` says which, counted from 1).
    ``callbacks`` run after the recipe's own, so they see what those log.
    The course recipe then calls :func:`recalibrate_batchnorm` with the
    un-augmented training photos (``RECIPES[recipe]["recalibrate_bn"]``): a
    step of its own, so that its effect can be measured.
    """
    train_ds, val_ds = with_length(train_ds), with_length(val_ds)
    steps = steps_per_epoch or count_batches(train_ds)
    compile_model(model, recipe, steps, epochs)
    own = training_callbacks(recipe_settings(recipe)["keep_best"] and val_ds is not None, csv_log, val_ds)
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, steps_per_epoch=steps_per_epoch,
                        callbacks=own + list(callbacks), verbose=verbose, shuffle=False)  # the pipeline shuffles
    best = [c for c in own if hasattr(c, "best_epoch")]
    history.best_epoch = (best[0].best_epoch + 1) if best and best[0].best_epoch is not None else epochs
    return history


def predict(model, dataset, limit_batches: int | None = None, flip_average: bool = False):
    """``(images, y_true, probabilities)`` for a (non-shuffled) labelled dataset.

    ``flip_average``: average the probabilities for each photo and its mirror
    image (test-time augmentation: a cat seen in a mirror is still a cat).
    """
    images, labels, probs = [], [], []
    for i, (x, y) in enumerate(dataset):
        if limit_batches is not None and i >= limit_batches:
            break
        p = np.asarray(model(x, training=False))
        if flip_average:
            p = (p + np.asarray(model(x[:, :, ::-1, :], training=False))) / 2
        images.append(np.asarray(x))
        labels.append(np.asarray(y))
        probs.append(p)
    return np.concatenate(images), np.concatenate(labels), np.concatenate(probs)


def evaluate(model, dataset, flip_average: bool = False) -> dict:
    """Accuracy on ``dataset`` plus what the plots need: images, y_true, y_pred, probabilities."""
    images, y_true, probs = predict(model, dataset, flip_average=flip_average)
    y_pred = probs.argmax(axis=1)
    return {"accuracy": float(np.mean(y_pred == y_true)), "images": images, "y_true": y_true,
            "y_pred": y_pred, "probabilities": probs}


# --------------------------------------------------------------------------- saving


def model_path(name: str) -> Path:
    """``<models_dir>/<name>.keras`` (outside the repository)."""
    name = name if name.endswith(".keras") else f"{name}.keras"
    return settings.models_dir() / name


def save_model(model, name: str) -> Path:
    path = model_path(name)
    model.save(path)
    return path


def load_model(name_or_path) -> "object":
    import keras

    path = Path(name_or_path)
    if not path.is_absolute() and path.parent == Path("."):
        path = model_path(str(name_or_path))
    if not path.exists():
        raise FileNotFoundError(f"no saved model at {path}: train and save it first (save_model).")
    return keras.models.load_model(path)
