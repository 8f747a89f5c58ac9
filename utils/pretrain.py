"""Pretrain the course's backbone on Imagenette, offline: ``python -m course_utils.pretrain``.

The recipe (measured on 2 CPU cores; ``benchmarks/results/pretrain-*.json`` holds each run):

* :func:`course_utils.backbones.resnet18` (basic blocks 2-2-2-2, 11.2 M parameters), He-normal
  convolutions, the last BatchNorm of each residual branch starting at gamma = 0;
* random resized crops (25-100% of the photo's area, aspect 3:4 to 4:3) at 128 pixels and random
  left-right flips, 28 epochs; the photos are decoded once into memory. ``sizes`` also allows
  progressive resizing (an earlier recipe trained at 96 then 112 px to fit a slower machine and
  reached 82.8% at 144 px; 18 epochs at 128 px in float32 reached 84.5% at 160 px in 68 min; this
  recipe, in mixed bfloat16, 86.0% at 160 px in 80 min on an Intel CPU with AMX, 86.5% in 111 min on an AMD
  EPYC with AVX512-BF16 only, about 93 min of it uncontended). Since the random crops enlarge the
  objects, the network sees them at about the size they have in a larger photo: it is scored at
  160 px (Touvron et al., 2019, "Fixing the train-test resolution discrepancy"), and the manifest
  records the accuracy at 128, 144, 160 and 176 px all the same;
* mixed bfloat16 where the CPU computes bfloat16 natively (AMX or AVX512-BF16: 1.5x the photos
  per second on these 2 cores), else float32; scored in float32 either way;
* AdamW with a linear warm-up and cosine decay (no weight decay on BatchNorm or biases), label
  smoothing 0.1, batches of 32 (on these 2 cores, 32 photos a batch train faster per photo than 64);
* after each epoch: the accuracy on a fixed stratified subset of 1,000 val photos (cheap
  enough to watch), a checkpoint and one summary line; at the end, all 3,925 val photos.
  Rerunning after an interruption continues from the last checkpoint.

At the end the weights and a JSON manifest (architecture, input size, recipe, data checksums,
val accuracy at several sizes and with flipped copies averaged in, time, library versions) go to
``COURSE_CACHE_DIR/backbones/``. Fast mode (``COURSE_FAST=1``, tests and CI) trains a few steps
on a small subset.
"""
from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

from . import backbones, settings
from .datasets import IMAGENETTE_CLASSES

RECIPE = {
    "architecture": "resnet18 (basic blocks 2-2-2-2, 64-512 filters)",
    "epochs": 28,
    "sizes": [[0, 128]],  # (first epoch, training size): progressive resizing if several
    "batch_size": 32,
    "peak_learning_rate": 1.5e-3,
    "weight_decay": 0.05,         # on the convolution and Dense kernels only, not BatchNorm or biases
    "warmup_epochs": 2,
    "label_smoothing": 0.1,
    "crop_area": [0.25, 1.0],   # random resized crops: share of the photo's area kept
    "crop_ratio": [0.75, 1.333],
    "flip": True,
    "eval_size": 160,  # scored larger than trained: random crops make objects look bigger in training
    "monitor_photos": 1000,  # val photos scored after each epoch (stratified); all of them at the end
    "seed": 0,
    "precision": "auto",  # mixed_bfloat16 where the CPU computes bfloat16 natively (AMX, AVX512-BF16), else float32
}
FAST = {"precision": "float32", "epochs": 2, "sizes": [[0, 64], [1, 96]], "limit": 200, "val_limit": 100,
        "batch_size": 16,
        "monitor_photos": 50, "eval_size": 144}  # the stand-in is scored, and sized (Backbone.input_size), at 144 px
FINAL_SIZES = (128, 144, 160, 176)  # full mode scores every val photo at each (fast mode: at eval_size only)


def native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (Linux: AMX or AVX512-BF16 in /proc/cpuinfo)."""
    try:
        flags = Path("/proc/cpuinfo").read_text()
    except OSError:
        return False
    return any(flag in flags.split() for flag in ("amx_bf16", "avx512_bf16"))


def resolve_precision(recipe: dict) -> dict:
    """The recipe with ``precision`` decided: ``auto`` becomes what this machine will use."""
    if recipe.get("precision", "float32") != "auto":
        return recipe
    return {**recipe, "precision": "mixed_bfloat16" if native_bfloat16() else "float32"}


@contextlib.contextmanager
def precision_policy(name: str):
    """Keras' global dtype policy set to ``name`` while models are built and trained, then put back."""
    import keras

    before = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(name)
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(before)


def size_at(epoch: int, sizes) -> int:
    return [size for start, size in sizes if epoch >= start][-1]


def data_checksums() -> dict[str, str]:
    """Which photos the backbone saw: the checksum of Imagenette's SHA256SUMS (one list for both splits)."""
    from . import data

    return {"imagenette": data.dataset_checksum("imagenette")}


def load_split(split: str, limit: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Imagenette photos as uint8 0-255 at 128x128 (the backbone normalises inside), int32 labels."""
    from . import data

    x, y = data.load_imagenette(split, image_size=(128, 128), limit=limit)  # floats in [0, 1]
    return np.clip(np.round(x * 255.0), 0, 255).astype(np.uint8), y.astype(np.int32)


def training_dataset(x: np.ndarray, y: np.ndarray, size: int, recipe: dict, seed: int,
                     classes: int = len(IMAGENETTE_CLASSES)):
    """Shuffled batches of random resized crops of ``x`` at ``size`` pixels, flipped at random."""
    import tensorflow as tf

    low, high = recipe["crop_area"]
    ratio_low, ratio_high = np.log(recipe["crop_ratio"][0]), np.log(recipe["crop_ratio"][1])

    def crop(images, labels):
        n = tf.shape(images)[0]
        area = tf.random.uniform([n], low, high)
        ratio = tf.exp(tf.random.uniform([n], ratio_low, ratio_high))
        h = tf.minimum(tf.sqrt(area / ratio), 1.0)
        w = tf.minimum(tf.sqrt(area * ratio), 1.0)
        top = tf.random.uniform([n]) * (1.0 - h)
        left = tf.random.uniform([n]) * (1.0 - w)
        boxes = tf.stack([top, left, top + h, left + w], axis=1)
        out = tf.image.crop_and_resize(tf.cast(images, tf.float32), boxes, tf.range(n), [size, size])
        if recipe["flip"]:
            flip = tf.random.uniform([n, 1, 1, 1]) < 0.5
            out = tf.where(flip, out[:, :, ::-1, :], out)
        return out, tf.one_hot(labels, classes)

    return (tf.data.Dataset.from_tensor_slices((x, y)).shuffle(len(x), seed=seed, reshuffle_each_iteration=True)
            .batch(recipe["batch_size"], drop_remainder=True).map(crop, num_parallel_calls=2)
            .prefetch(2))


def evaluation_dataset(x: np.ndarray, y: np.ndarray, size: int, batch_size: int = 100,
                       classes: int = len(IMAGENETTE_CLASSES)):
    import tensorflow as tf


    def resize(images, labels):
        images = tf.cast(images, tf.float32)
        if size != images.shape[1]:
            images = tf.image.resize(images, [size, size], method="bilinear")
        return images, tf.one_hot(labels, classes)

    return tf.data.Dataset.from_tensor_slices((x, y)).batch(batch_size).map(resize).prefetch(2)


def monitor_subset(y: np.ndarray, n: int) -> np.ndarray:
    """Indices of ``n`` val photos, the same share of each class, fixed (the first of each class)."""
    classes = np.unique(y)
    per_class = max(1, n // len(classes))
    return np.sort(np.concatenate([np.flatnonzero(y == c)[:per_class] for c in classes]))


def accuracy_with_flips(model, x: np.ndarray, y: np.ndarray, size: int, batch_size: int = 100) -> float:
    """Top-1 accuracy when each photo's probabilities are averaged with those of its mirror image."""
    import tensorflow as tf

    correct = 0
    for start in range(0, len(x), batch_size):
        images = tf.cast(x[start:start + batch_size], tf.float32)
        if size != images.shape[1]:
            images = tf.image.resize(images, [size, size], method="bilinear")
        p = model(images, training=False) + model(images[:, :, ::-1, :], training=False)
        correct += int(np.sum(np.argmax(p, axis=1) == y[start:start + batch_size]))
    return correct / len(x)


def no_weight_decay(optimizer) -> None:
    """Exclude BatchNorm's gamma and beta and the biases from weight decay: decay shrinks kernels (the
    fit is invariant to their scale before BatchNorm), while these set scales and offsets that
    decay would only pull to zero. Not saved with a checkpoint: called again on resuming."""
    optimizer.exclude_from_weight_decay(var_names=["gamma", "beta", "bias"])


def compile_model(model, recipe: dict, steps_per_epoch: int):
    import keras

    from .models import learning_rate_schedule

    schedule = learning_rate_schedule(steps_per_epoch, recipe["epochs"], peak=recipe["peak_learning_rate"],
                                      warmup_epochs=recipe["warmup_epochs"])
    optimizer = keras.optimizers.AdamW(schedule, weight_decay=recipe["weight_decay"])
    no_weight_decay(optimizer)
    model.compile(optimizer=optimizer, loss=keras.losses.CategoricalCrossentropy(
        label_smoothing=recipe["label_smoothing"]), metrics=["accuracy"])
    return model


def versions() -> dict:
    import keras
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__}


class Run:
    """One pretraining run in ``folder``: checkpoint, state and log, so that a rerun continues it."""

    def __init__(self, folder: Path, recipe: dict):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.recipe = recipe
        self.checkpoint = self.folder / "checkpoint.keras"
        self.state_file = self.folder / "state.json"
        self.state = json.loads(self.state_file.read_text()) if self.state_file.exists() else {
            "recipe": recipe, "epochs_done": 0, "history": [], "seconds": 0.0}
        if self.state["recipe"] != recipe:
            raise ValueError(f"{self.folder} holds a run of another recipe: delete it or use --run-dir.")

    def save(self, model) -> None:
        model.save(self.checkpoint)
        self.state_file.write_text(json.dumps(self.state, indent=1))


def pretrain(run_dir: Path | None = None, fast: bool | None = None, output: Path | None = None,
             results: Path | None = None, verbose: int = 1) -> dict:
    """Train (or continue training) the backbone; returns the manifest written next to the weights.

    ``verbose``: Keras' progress bar (1, the command line) or one line per epoch (2, in a notebook).
    """
    fast = settings.fast_mode() if fast is None else fast
    recipe = resolve_precision({**RECIPE, **(FAST if fast else {})})
    with precision_policy(recipe["precision"]):
        return _pretrain(recipe, run_dir, fast, output, results, verbose)


def _pretrain(recipe: dict, run_dir, fast: bool, output, results, verbose: int) -> dict:
    import keras
    import tensorflow as tf

    run = Run(run_dir or backbones.backbone_dir() / ("run-fast" if fast else "run"), recipe)
    limit, val_limit = recipe.get("limit"), recipe.get("val_limit")
    x_train, y_train = load_split("train", limit)
    x_val, y_val = load_split("val", val_limit)
    steps = len(x_train) // recipe["batch_size"]
    keras.utils.set_random_seed(recipe["seed"])
    if run.checkpoint.exists() and run.state["epochs_done"]:
        model = keras.models.load_model(run.checkpoint)
        no_weight_decay(model.optimizer)
        print(f"continuing {run.folder} after epoch {run.state['epochs_done']}")
    else:
        model = compile_model(backbones.resnet18(10), recipe, steps)
    print(f"pretraining {recipe['architecture']} on {len(x_train):,} Imagenette photos "
          f"({'FAST mode' if fast else 'full mode'}), {recipe['epochs']} epochs")
    watched = monitor_subset(y_val, recipe["monitor_photos"])
    monitor = evaluation_dataset(x_val[watched], y_val[watched], recipe["eval_size"])
    for epoch in range(run.state["epochs_done"], recipe["epochs"]):
        size = size_at(epoch, recipe["sizes"])
        start = time.perf_counter()
        train = training_dataset(x_train, y_train, size, recipe, seed=recipe["seed"] + epoch)
        fit = model.fit(train, epochs=epoch + 1, initial_epoch=epoch, verbose=verbose, shuffle=False)
        train_seconds = time.perf_counter() - start
        val_loss, val_accuracy = model.evaluate(monitor, verbose=0)
        seconds = time.perf_counter() - start
        row = {"epoch": epoch + 1, "size": size, "loss": float(fit.history["loss"][-1]),
               "accuracy": float(fit.history["accuracy"][-1]), "monitor_val_loss": float(val_loss),
               "monitor_val_accuracy": float(val_accuracy), "train_seconds": round(train_seconds, 1),
               "seconds": round(seconds, 1),
               "images_per_second": round(steps * recipe["batch_size"] / train_seconds, 1)}
        run.state["history"].append(row)
        run.state["epochs_done"] = epoch + 1
        run.state["seconds"] += seconds
        run.save(model)
        print(f"epoch {epoch + 1}/{recipe['epochs']} at {size}px: loss {row['loss']:.3f}, train accuracy "
              f"{row['accuracy']:.3f}, accuracy on {len(watched):,} val photos {val_accuracy:.4f}, {seconds:.0f} s "
              f"({row['images_per_second']} images/s), {run.state['seconds'] / 60:.1f} min so far", flush=True)
    weights = Path(output or backbones.weights_path())
    weights.parent.mkdir(parents=True, exist_ok=True)
    model.save_weights(weights)
    # scored as the notebooks use it: the same weights in a float32 network
    with precision_policy("float32"):
        model = backbones.resnet18(len(IMAGENETTE_CLASSES))
        model.load_weights(weights)
        model.compile(loss="categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    final = {str(size): float(model.evaluate(evaluation_dataset(x_val, y_val, size), verbose=0)[1])
             for size in ((recipe["eval_size"],) if fast else FINAL_SIZES)}
    with_flips = accuracy_with_flips(model, x_val, y_val, recipe["eval_size"])
    evaluation_minutes = round((time.perf_counter() - start) / 60, 1)
    manifest = {
        "name": backbones.NAME, "architecture": recipe["architecture"], "params": int(model.count_params()),
        "input_size": recipe["eval_size"], "classes": list(IMAGENETTE_CLASSES),
        "recipe": recipe, "fast_mode": fast, "data_sha256": data_checksums(),
        "train_photos": len(x_train), "val_photos": len(x_val),
        "val_accuracy": final[str(recipe["eval_size"])], "val_accuracy_by_size": final,
        "val_accuracy_with_flips": with_flips,
        "minutes": round(run.state["seconds"] / 60, 1), "evaluation_minutes": evaluation_minutes,
        "history": run.state["history"],
        "weights_sha256": backbones.sha256(weights), "versions": versions(),
        "tf_threads": [tf.config.threading.get_intra_op_parallelism_threads(),
                       tf.config.threading.get_inter_op_parallelism_threads()],
    }
    backbones.manifest_path(weights).write_text(json.dumps(manifest, indent=1) + "\n")
    if results is not None:
        Path(results).parent.mkdir(parents=True, exist_ok=True)
        Path(results).write_text(json.dumps(manifest, indent=1) + "\n")
    print(f"val accuracy on {len(x_val):,} photos: {manifest['val_accuracy']:.2%} at {recipe['eval_size']} px "
          f"({', '.join(f'{s} px {a:.2%}' for s, a in final.items())}; with flips {with_flips:.2%}); "
          f"{manifest['minutes']} min of training; wrote {weights}")
    return manifest


STAND_IN_ENV = "COURSE_STAND_IN_PATH"  # a stand-in's weights, loaded as they are (the grader mounts them read-only)


def stand_in_path() -> Path:
    """Where the cache keeps the stand-in's weights (made or not)."""
    return settings.cache_dir() / "backbones" / "stand-in" / backbones.WEIGHTS_FILE


def stand_in_weights() -> Path:
    """The stand-in's weights, trained once (a few steps) into the cache and kept there; their path."""
    import fcntl

    weights = stand_in_path()
    folder = weights.parent
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / "lock", "w") as lock:  # two processes (test workers, kernels) build it once
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not weights.exists():
            pretrain(run_dir=folder / "run", fast=True, output=weights, verbose=2)
    return weights


def stand_in(reasons: list[str]):
    """A backbone trained for a few steps (fast mode, no pretrained weights): the code runs, the maps mean little."""
    from .backbones import Backbone

    given = Path(os.environ.get(STAND_IN_ENV, ""))
    weights = given if given.name and given.is_file() else stand_in_weights()
    model = backbones.resnet18(len(IMAGENETTE_CLASSES))
    model.load_weights(weights)
    return Backbone("stand-in", model, tuple(IMAGENETTE_CLASSES), FAST["eval_size"],
                    f"backbone: a STAND-IN trained for a few steps ({'; '.join(reasons)}): the code runs, but its "
                    "predictions and maps mean little. Run `python -m course_utils.pretrain` for the real one.")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, help="checkpoint folder (default: COURSE_CACHE_DIR/backbones/run)")
    parser.add_argument("--output", type=Path, help="weights file (default: COURSE_BACKBONE_PATH or the cache)")
    parser.add_argument("--results", type=Path, help="also write the manifest here (benchmarks/results/...)")
    parser.add_argument("--fast", action="store_true", help="a few steps on a small subset")
    parser.add_argument("--stand-in", action="store_true",
                        help="only make sure the stand-in of fast mode is in the cache, and print its path")
    parser.add_argument("--download", metavar="URL", help="fetch a published copy instead of training")
    parser.add_argument("--sha256", help="the published weights' sha256 (with --download)")
    args = parser.parse_args(argv)
    if args.stand_in:
        print(stand_in_weights())
        return 0
    if args.download:
        from .download import DownloadError

        if not args.sha256:
            parser.error("--download needs --sha256: the published weights are checked before they are used")
        try:
            print(f"wrote {backbones.fetch_published(args.download, args.sha256, args.output)}")
        except DownloadError as error:
            print(error, file=sys.stderr)
            return 1
        return 0
    pretrain(args.run_dir, fast=True if args.fast else None, output=args.output, results=args.results)
    return 0


if __name__ == "__main__":
    sys.exit(main())
