"""Transfer learning for notebook 06: split, datasets, feature extractor, fine-tuning, experiments.

The flowers (5 classes, 4,317 photos at 128x128) are the target task; the source is the
backbone of :func:`course_utils.backbones.load_backbone` (ImageNet ResNet-50 or the course's
ResNet-18 pretrained on Imagenette). The pieces, in the order the notebook uses them:

* :func:`flowers_split`: a stratified train / validation / test split from a seed (70/15/15);
  the test photos never depend on ``train_per_class`` (the small-data setting takes its
  training photos from the same training part);
* :func:`cats_vs_dogs_datasets`: the cats-vs-dogs photos at 224 px, for the classifier whose maps
  are measured on the pet photos, :func:`pet_classifier` (its recipe :data:`PET_CLASSIFIER`);
* :func:`split_datasets` / :func:`image_dataset`: ``tf.data`` pipelines through
  :func:`course_utils.data.make_image_dataset`, images with values 0-255 (the backbones
  normalise inside), random crops and flips for training only
  (:func:`course_utils.models.pipeline_augmentation`);
* :func:`feature_extractor`: the backbone from its input to its last feature map;
* :func:`fine_tune`: unfreeze the top residual blocks (BatchNorm stays frozen) and recompile;
* :func:`scratch_model`: the same architecture with random weights, the baseline;
* :func:`run_transfer_experiment`: head training then fine-tuning, against the scratch model
  trained for as many epochs; histories, test accuracies and seconds per epoch of each phase;
* :func:`fine_tuning_pitfalls`: what goes wrong without the precautions, measured;
* :func:`localise_pets`: where a cats-vs-dogs model's maps land on the pet photos with masks
  (pointing game, mass inside the mask, an "always the centre" baseline), and
  :func:`gallery_items` for ``plots.cam_gallery`` (e.g. the misses), :func:`describe_localisation`;
  :func:`class_maps` (one map per class on one photo) and :func:`backbone_maps` (the backbone's
  own classes);
  ``benchmarks/cam_localisation.py`` runs it after fine-tuning.

The graded pieces (``build_transfer_model``, ``unfreeze_top``, the maps) are the
notebook's exercises: the helpers call the answers the notebook hands over with
:func:`use_answers`, else the course's own (:mod:`course_utils.cam`, absent from a
class's student package until notebook 06 is closed). Keras is imported inside
the functions.
"""
from __future__ import annotations

import contextlib
import re
import statistics
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import models, settings
from .datasets import FLOWER_CLASSES

FRACTIONS = (0.70, 0.15, 0.15)   # train, validation, test: share of each class
SMALL_DATA_PER_CLASS = 50        # the small-data setting: 50 training photos per class
# The head is trained with the course recipe (AdamW, cosine decay, best validation epoch kept),
# no warm-up: the base is frozen, only a fresh Dense layer learns. BatchNorm is never in training
# mode here, so there is nothing to recalibrate.
HEAD_RECIPE = {**models.RECIPES["course"], "learning_rate": 1e-3, "warmup_epochs": 0, "prepare": False,
               "recalibrate_bn": False}
# From scratch: the course recipe as in notebook 04. resnet18 already starts He-normal with
# zero-gamma residual branches and BatchNorm momentum 0.9 (what prepare_for_training does for ResNet-50).
SCRATCH_RECIPE = {**models.RECIPES["course"], "prepare": False, "recalibrate_bn": False}
FINE_TUNE_LEARNING_RATE = 1e-4   # 10x below the head's peak
FINE_TUNE_BLOCKS = 2
FAST = {"train_per_class": 3, "small_per_class": 2, "eval_per_class": 2, "image_size": 64, "batch_size": 8,
        "head_epochs": 1, "fine_tune_epochs": 1}
_BLOCK = re.compile(r"^(conv\d+_block\d+)_")
# The exercises of notebook 06 that the helpers below call. The notebook hands its own answers over
# (use_answers); without them the course's (course_utils.cam: the instructor's side, the open edition).
ANSWERS = ("build_transfer_model", "unfreeze_top", "class_activation_map", "upsample_and_normalise", "grad_cam",
           "pointing_game_hit", "mass_inside")
_given_answers: dict = {}


def use_answers(**answers) -> None:
    """From now on the helpers of this module call these functions (the notebook's answers), e.g.
    ``use_answers(build_transfer_model=build_transfer_model)``; names: :data:`ANSWERS`."""
    unknown = sorted(set(answers) - set(ANSWERS))
    if unknown:
        raise TypeError(f"use_answers() takes {', '.join(ANSWERS)}; not {', '.join(unknown)}")
    for name, function in answers.items():
        if not callable(function):
            raise TypeError(f"{name} should be a function, not {type(function).__name__}")
    _given_answers.update(answers)


def answer(name: str):
    """The function the helpers call for the exercise ``name``: the one handed over by
    :func:`use_answers`, else the course's own when this installation has it."""
    if name in _given_answers:
        return _given_answers[name]
    try:
        from . import cam
    except ModuleNotFoundError:
        raise RuntimeError(f"this step uses your {name}: write it in its exercise cell, run that cell, then "
                           f"transfer.use_answers({name}={name})") from None
    return getattr(cam, name)


# --------------------------------------------------------------------------- the split


@dataclass(frozen=True)
class FlowerSplit:
    """Paths and labels of each part: ``split.train == (paths, labels)``, likewise ``validation`` and ``test``."""

    train: tuple
    validation: tuple
    test: tuple
    seed: int
    train_per_class: int | None = None
    class_names: tuple = field(default=FLOWER_CLASSES)

    def parts(self) -> dict[str, tuple]:
        return {"train": self.train, "validation": self.validation, "test": self.test}

    def counts(self) -> dict[str, list[int]]:
        """Photos per class in each part."""
        return {name: np.bincount(labels, minlength=len(self.class_names)).tolist()
                for name, (_, labels) in self.parts().items()}

    def __str__(self) -> str:
        sizes = ", ".join(f"{name} {len(paths):,}" for name, (paths, _) in self.parts().items())
        small = f", {self.train_per_class} training photos per class" if self.train_per_class else ""
        return f"flowers split (seed {self.seed}{small}): {sizes}"


def flowers_split(seed: int = 0, train_per_class: int | None = None, eval_per_class: int | None = None,
                  fractions=FRACTIONS, data_dir=None) -> FlowerSplit:
    """A stratified train / validation / test split of the five flower classes, from ``seed``.

    Each class is shuffled with its own generator (``seed``, class) and cut into test,
    validation and training photos in that order (``fractions``, 70/15/15 by default).
    ``train_per_class`` keeps that many of each class's training photos (the first ones
    of the shuffled training part: a random subset), for the small-data setting: the
    validation and test photos are the same whatever it is, so the settings are compared
    on the same photos. ``eval_per_class`` keeps only the first photos of each class's
    validation and test parts (fast mode), again whatever ``train_per_class`` is.
    """
    from .data import flowers_files

    if len(fractions) != 3 or not np.isclose(sum(fractions), 1.0) or min(fractions) <= 0:
        raise ValueError(f"fractions are the train, validation and test shares, positive and summing to 1: "
                         f"{fractions!r}")
    paths, labels = flowers_files(data_dir)
    parts = {"train": [], "validation": [], "test": []}
    for label in range(len(FLOWER_CLASSES)):
        shuffled = np.random.default_rng([seed, label]).permutation(np.flatnonzero(labels == label))
        n = len(shuffled)
        n_test, n_val = max(1, round(n * fractions[2])), max(1, round(n * fractions[1]))
        test, val, train = shuffled[:n_test], shuffled[n_test:n_test + n_val], shuffled[n_test + n_val:]
        if train_per_class is not None:
            if not 0 < train_per_class <= len(train):
                raise ValueError(f"train_per_class={train_per_class}: class {FLOWER_CLASSES[label]!r} has "
                                 f"{len(train)} training photos")
            train = train[:train_per_class]
        if eval_per_class is not None:
            val, test = val[:eval_per_class], test[:eval_per_class]
        for name, chosen in (("train", train), ("validation", val), ("test", test)):
            parts[name].extend(chosen.tolist())
    built = {name: ([paths[i] for i in sorted(idx)], labels[sorted(idx)]) for name, idx in parts.items()}
    return FlowerSplit(built["train"], built["validation"], built["test"], seed, train_per_class)


# --------------------------------------------------------------------------- datasets


def pipeline_options(training: bool, seed: int = 0) -> dict:
    """``augment`` / ``crop`` keywords of the course loaders giving images 0-255, augmented for training only.

    The loaders give images in [0, 1]; the backbones expect 0-255 and normalise inside. Training:
    random crops of the full-size photos and random left-right flips (the course recipe,
    :func:`course_utils.models.pipeline_augmentation`); evaluation: the photos as they are.
    """
    if not training:
        return {"augment": lambda images: images * 255.0, "crop": None}
    options = models.pipeline_augmentation("course", seed=seed)
    flip = options["augment"]
    return {"augment": lambda images: flip(images) * 255.0, "crop": options["crop"]}


def image_dataset(paths, labels, image_size=(128, 128), batch_size: int = 32, training: bool = False,
                  seed: int = 0, cache: bool | str = True):
    """Batches of (images 0-255, labels) of ``paths``; shuffled and augmented when ``training``."""
    from .data import make_image_dataset

    size = (image_size, image_size) if isinstance(image_size, int) else tuple(image_size)
    return make_image_dataset(paths, labels, size, batch_size, shuffle=training, seed=seed, cache=cache,
                              **pipeline_options(training, seed))


def cats_vs_dogs_datasets(size: int = 224, batch_size: int = 32, limit: int | None = 2000,
                          test_limit: int | None = None, seed: int = 0) -> dict:
    """``{"train", "validation", "test"}`` cats-vs-dogs datasets, images 0-255 at ``size``, train augmented.

    ``limit`` balanced training photos, 10% of them held out for validation; ``test_limit`` test
    photos (default: all 1,000). The classifier whose maps :func:`localise_pets` measures.
    """
    from . import data

    common = dict(image_size=(size, size), batch_size=batch_size, limit=limit, validation_fraction=0.1, seed=seed)
    return {"train": data.cats_vs_dogs_dataset("train", subset="training", **common, **pipeline_options(True, seed)),
            "validation": data.cats_vs_dogs_dataset("train", subset="validation", shuffle=False, **common,
                                                    **pipeline_options(False)),
            "test": data.cats_vs_dogs_dataset("test", image_size=(size, size), batch_size=batch_size, shuffle=False,
                                              limit=test_limit, **pipeline_options(False))}


def split_datasets(split: FlowerSplit, image_size=(128, 128), batch_size: int = 32, seed: int = 0) -> dict:
    """``{"train", "validation", "test"}`` datasets of a :class:`FlowerSplit` (only train is augmented)."""
    return {name: image_dataset(paths, labels, image_size, batch_size, training=name == "train", seed=seed)
            for name, (paths, labels) in split.parts().items()}


# --------------------------------------------------------------------------- models


def feature_extractor(backbone, name: str | None = None):
    """The backbone from its input (images 0-255) to its last feature map (``backbone.feature_layer``).

    A new ``keras.Model`` over the same layers (the weights are shared, not copied): the
    course's ResNet-18 ends at ``features`` (512 channels, stride 32: 7x7 for 224x224 photos),
    ImageNet ResNet-50 at ``conv5_block3_out`` (2048 channels). ``backbone`` may also be a bare
    Keras model, whose ``features`` layer is taken.
    """
    import keras

    model = getattr(backbone, "model", backbone)
    layer_name = getattr(backbone, "feature_layer", "features")
    names = [layer.name for layer in model.layers]
    if layer_name not in names:
        nested = [layer.name for layer in model.layers if hasattr(layer, "layers")]
        where = f"; it holds nested models {nested}: build the backbone flat" if nested else ""
        raise ValueError(f"{model.name} has no layer {layer_name!r}{where}")
    return keras.Model(model.input, model.get_layer(layer_name).output,
                       name=name or f"{model.name}_features")


def _compile(model, optimizer):
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"],
                  run_eagerly=settings.fast_mode())  # a few steps run faster eagerly than traced
    return model


def fine_tune(model, base, n_blocks: int = FINE_TUNE_BLOCKS, learning_rate=FINE_TUNE_LEARNING_RATE):
    """Unfreeze the top ``n_blocks`` residual blocks of ``base`` and recompile ``model``; returns ``model``.

    ``base`` is the feature extractor inside the transfer ``model``
    (``build_transfer_model``). ``unfreeze_top`` (see :func:`answer`) makes
    those blocks trainable and keeps every BatchNormalization layer frozen, which is what keeps
    BatchNorm normalising with the statistics of the source photos instead of those of small
    batches of flowers: in Keras 3 the ``training=True`` of ``fit()`` passes through the
    ``training=False`` recorded where the transfer model calls the base (keras-team/keras#20285),
    and a non-trainable BatchNormalization runs in inference mode whatever the flag.

    Why recompile: in Keras, ``compile()`` fixes what training does. The training step that
    ``fit()`` traces (and caches) works on the list of trainable weights of that moment, and the
    optimizer builds its state (Adam's moment estimates) for those weights: changing
    ``trainable`` afterwards changes nothing until the model is compiled again (or fails with
    an optimizer that meets weights it has no state for). Recompiling also brings a fresh
    optimizer with a low ``learning_rate`` (a float or a Keras schedule): the new head now
    sends sensible gradients, and large steps would wipe out what the base learnt. The weights
    themselves are kept.
    """
    import keras


    answer("unfreeze_top")(base, n_blocks)
    return _compile(model, keras.optimizers.Adam(learning_rate))


def scratch_model(num_classes: int, backbone=None):
    """The same architecture as the backbone, with random weights: the baseline trained from scratch.

    The course's ResNet-18 (:func:`course_utils.backbones.resnet18`), or ResNet-50 with random
    weights for the ImageNet backbone; the same input (0-255), the same feature layer, then
    ``avg_pool`` and a softmax ``predictions`` with ``num_classes`` outputs.
    """
    from . import backbones

    if getattr(backbone, "kind", None) == "imagenet":
        return backbones.imagenet_resnet50(weights=None, classes=num_classes)
    return backbones.resnet18(num_classes, name="resnet18_scratch")


def residual_blocks(base) -> list[str]:
    """The names of ``base``'s residual blocks (``conv{stage}_block{n}``), in the order of its layers."""
    return list(dict.fromkeys(m[1] for layer in base.layers if (m := _BLOCK.match(layer.name))))


def _top_blocks(base, n_blocks: int) -> list[str]:
    blocks = residual_blocks(base)
    return blocks[-n_blocks:] if n_blocks > 0 else []


# --------------------------------------------------------------------------- training phases


def epoch_timer():
    """A Keras callback recording the seconds of training of each epoch (validation excluded) in ``.seconds``."""
    import keras

    class EpochTimer(keras.callbacks.Callback):
        def __init__(self):
            super().__init__()
            self.seconds, self._start = [], None

        def on_epoch_begin(self, epoch, logs=None):
            self._start = time.perf_counter()

        def _stop(self):
            if self._start is not None:
                self.seconds.append(round(time.perf_counter() - self._start, 2))
                self._start = None

        def on_test_begin(self, logs=None):  # fit() validates at the end of each epoch
            self._stop()

        def on_epoch_end(self, epoch, logs=None):
            self._stop()

    return EpochTimer()


def _per_epoch(seconds: list[float]) -> float:
    """Typical seconds per epoch: the median, leaving out the first epoch (tracing) when there are more."""
    kept = seconds[1:] if len(seconds) > 1 else seconds
    return round(statistics.median(kept), 2) if kept else float("nan")


def _phase(history, timer, epochs: int, test_accuracy: float, best_epoch=None) -> dict:
    logs = {key: [float(v) for v in values] for key, values in history.history.items()}
    return {"epochs": epochs, "history": logs, "epoch_seconds": timer.seconds,
            "seconds_per_epoch": _per_epoch(timer.seconds), "test_accuracy": float(test_accuracy),
            "best_epoch": best_epoch}


def train_head(model, train_ds, val_ds, test_ds, epochs: int, learning_rate: float = 1e-3,
               steps_per_epoch=None, verbose: int = 0) -> dict:
    """Phase 1: the base frozen, the head trained with :data:`HEAD_RECIPE`; the phase's figures."""
    timer = epoch_timer()
    history = models.train(model, train_ds, val_ds, epochs, {**HEAD_RECIPE, "learning_rate": learning_rate},
                           steps_per_epoch=steps_per_epoch, verbose=verbose, callbacks=[timer])
    return _phase(history, timer, epochs, models.evaluate(model, test_ds)["accuracy"], history.best_epoch)


def train_fine_tuned(model, base, train_ds, val_ds, test_ds, epochs: int, n_blocks: int = FINE_TUNE_BLOCKS,
                     learning_rate: float = FINE_TUNE_LEARNING_RATE, steps_per_epoch=None, verbose: int = 0) -> dict:
    """Phase 2: :func:`fine_tune`, then ``epochs`` epochs (cosine decay from ``learning_rate``, best epoch kept)."""
    train_ds, val_ds = models.with_length(train_ds), models.with_length(val_ds)
    steps = steps_per_epoch or models.count_batches(train_ds)
    fine_tune(model, base, n_blocks, models.learning_rate_schedule(steps, epochs, learning_rate, warmup_epochs=0))
    timer = epoch_timer()
    own = models.training_callbacks(best=True, validation=val_ds)
    history = model.fit(train_ds, validation_data=val_ds, epochs=epochs, steps_per_epoch=steps_per_epoch,
                        callbacks=own + [timer], verbose=verbose, shuffle=False)
    best = own[0].best_epoch
    return _phase(history, timer, epochs, models.evaluate(model, test_ds)["accuracy"],
                  None if best is None else best + 1)


def train_scratch(model, train_ds, val_ds, test_ds, epochs: int, steps_per_epoch=None, verbose: int = 0) -> dict:
    """The baseline: ``model`` trained from random weights with :data:`SCRATCH_RECIPE`."""
    timer = epoch_timer()
    history = models.train(model, train_ds, val_ds, epochs, SCRATCH_RECIPE, steps_per_epoch=steps_per_epoch,
                           verbose=verbose, callbacks=[timer])
    return _phase(history, timer, epochs, models.evaluate(model, test_ds)["accuracy"], history.best_epoch)


def _fast_settings(**given) -> dict:
    """Fast mode: the FAST sizes, whatever was asked for (never more)."""
    out = dict(given)
    for key in ("head_epochs", "fine_tune_epochs", "image_size", "batch_size"):
        out[key] = min(out[key], FAST[key]) if out.get(key) else FAST[key]
    limit = FAST["small_per_class"] if given.get("train_per_class") else FAST["train_per_class"]
    out["train_per_class"] = min(given.get("train_per_class") or limit, limit)
    out["eval_per_class"] = FAST["eval_per_class"]
    return out


def run_transfer_experiment(backbone=None, *, train_per_class: int | None = None, head_epochs: int = 5,
                            fine_tune_epochs: int = 5, n_blocks: int = FINE_TUNE_BLOCKS,
                            head_learning_rate: float = 1e-3, fine_tune_learning_rate: float = FINE_TUNE_LEARNING_RATE,
                            image_size: int | None = None, batch_size: int = 32, seed: int = 0, scratch: bool = True,
                            pitfalls: bool = False, pitfall_epochs: int = 1, steps_per_epoch=None,
                            verbose: int = 0, data_dir=None, log=print, record: str | None = None) -> dict:
    """Transfer (head, then fine-tuning) vs the same network from scratch, at equal epochs, on the flowers.

    1. :func:`feature_extractor` of ``backbone`` (default :func:`course_utils.backbones.load_backbone`)
       + ``build_transfer_model`` (see :func:`answer`): ``head_epochs`` epochs with the base frozen;
    2. :func:`fine_tune` of the top ``n_blocks`` blocks: ``fine_tune_epochs`` epochs;
    3. :func:`scratch_model`, ``head_epochs + fine_tune_epochs`` epochs (``scratch=False`` skips it);
    4. ``pitfalls=True``: :func:`fine_tuning_pitfalls` after phase 1 (the weights are put back).

    Each phase keeps its best validation epoch and reports per-epoch histories, test accuracy and
    seconds of training per epoch. ``train_per_class`` is the small-data setting (e.g. 50); the
    validation and test photos are the same either way (:func:`flowers_split`). Photos are
    ``image_size`` pixels square (default: the size the backbone was trained at). Fast mode:
    a few photos per class at 64 px, one epoch per phase. ``record``: the name of its record in
    :mod:`course_utils.trained` (``make models`` saves the result; reader mode loads it instead).
    """
    import keras

    from . import backbones, trained

    if record:
        backbone = backbone if backbone is not None else backbones.load_backbone()
        given = dict(train_per_class=train_per_class, head_epochs=head_epochs, fine_tune_epochs=fine_tune_epochs,
                     n_blocks=n_blocks, head_learning_rate=head_learning_rate,
                     fine_tune_learning_rate=fine_tune_learning_rate, image_size=image_size, batch_size=batch_size,
                     seed=seed, scratch=scratch, pitfalls=pitfalls, pitfall_epochs=pitfall_epochs,
                     steps_per_epoch=steps_per_epoch)
        return trained.train_or_load(
            record, lambda: run_transfer_experiment(backbone, **given, verbose=verbose, data_dir=data_dir, log=log),
            **given, backbone=backbone.identity, data="flowers")
    fast = settings.fast_mode()
    mark = settings.fast_mark()  # on every number that training made
    asked = dict(train_per_class=train_per_class, head_epochs=head_epochs, fine_tune_epochs=fine_tune_epochs,
                 image_size=image_size, batch_size=batch_size, eval_per_class=None)
    run = _fast_settings(**asked) if fast else asked
    backbone = backbone if backbone is not None else backbones.load_backbone()
    with weights_put_back(backbone):  # fine-tuning changes the backbone in place: leave it as it came
        size = run["image_size"] or backbone.input_size
        split = flowers_split(seed, run["train_per_class"], run["eval_per_class"], data_dir=data_dir)
        log(f"{split}; {size}x{size} photos; {backbone}")
        keras.utils.set_random_seed(seed)
        ds = split_datasets(split, size, run["batch_size"], seed)
        base = feature_extractor(backbone)
        model = answer("build_transfer_model")(base, len(FLOWER_CLASSES))
        result = {
            "backbone": str(backbone), "kind": backbone.kind, "fast_mode": fast, "seed": seed, "image_size": size,
            "data": (f"{train_per_class} photos per class" if train_per_class else "all training photos")
            + (f" (fast mode: {run['train_per_class']} per class)" if fast else ""),
            "train_per_class": run["train_per_class"], "photos": {k: len(v[0]) for k, v in split.parts().items()},
            "settings": {"head_epochs": run["head_epochs"], "fine_tune_epochs": run["fine_tune_epochs"],
                         "n_blocks": n_blocks, "head_learning_rate": head_learning_rate,
                         "fine_tune_learning_rate": fine_tune_learning_rate, "batch_size": run["batch_size"]},
        }
        head = train_head(model, ds["train"], ds["validation"], ds["test"], run["head_epochs"], head_learning_rate,
                          steps_per_epoch, verbose)
        log(f"  head only ({run['head_epochs']} epochs): test accuracy {head['test_accuracy']:.3f}, "
            f"{head['seconds_per_epoch']} s per epoch{mark}")
        if pitfalls:
            result["pitfalls"] = fine_tuning_pitfalls(model, base, ds["train"], ds["validation"], n_blocks=n_blocks,
                                                      learning_rate=fine_tune_learning_rate, epochs=pitfall_epochs,
                                                      steps_per_epoch=steps_per_epoch, verbose=verbose)
            for name, row in result["pitfalls"].items():
                log(f"  fine-tuning, {name}: validation accuracy {row['val_accuracy_before']:.3f} -> "
                    f"{row['val_accuracy_after']:.3f}{mark}")
        tuned = train_fine_tuned(model, base, ds["train"], ds["validation"], ds["test"], run["fine_tune_epochs"],
                                 n_blocks, fine_tune_learning_rate, steps_per_epoch, verbose)
        log(f"  + fine-tuning {n_blocks} blocks ({run['fine_tune_epochs']} epochs): test accuracy "
            f"{tuned['test_accuracy']:.3f}, {tuned['seconds_per_epoch']} s per epoch{mark}")
        result["transfer"] = {"head": head, "fine_tune": tuned, "test_accuracy": tuned["test_accuracy"],
                              "epochs": run["head_epochs"] + run["fine_tune_epochs"],
                              "val_accuracy": head["history"]["val_accuracy"] + tuned["history"]["val_accuracy"]}
        if scratch:
            keras.utils.set_random_seed(seed)
            epochs = run["head_epochs"] + run["fine_tune_epochs"]
            baseline = train_scratch(scratch_model(len(FLOWER_CLASSES), backbone), ds["train"], ds["validation"],
                                     ds["test"], epochs, steps_per_epoch, verbose)
            baseline["val_accuracy"] = baseline["history"]["val_accuracy"]
            result["scratch"] = baseline
            log(f"  from scratch ({epochs} epochs): test accuracy {baseline['test_accuracy']:.3f}, "
                f"{baseline['seconds_per_epoch']} s per epoch{mark}")
        return result


@contextlib.contextmanager
def weights_put_back(backbone):
    """Run a block that fine-tunes ``backbone``; its weights and trainable flags are restored after it,
    so that the next experiment starts from the pretrained backbone, not from this one's result."""
    model = getattr(backbone, "model", backbone)
    weights = model.get_weights()
    trainable = [(layer, layer.trainable) for layer in [model, *_nested_layers(model)]]
    try:
        yield
    finally:
        for layer, flag in trainable:
            layer.trainable = flag
        model.set_weights(weights)


def _nested_layers(model) -> list:
    """Every layer of a functional ``model``, those of the models nested in it included (depth first)."""
    found = []
    for layer in model.layers:
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(_nested_layers(layer))
    return found


def curves(result: dict) -> dict[str, list[float]]:
    """Validation accuracy per epoch of a :func:`run_transfer_experiment` result, for ``plots.transfer_curves``."""
    found = {"transfer (head, then fine-tuning)": result["transfer"]["val_accuracy"]}
    if "scratch" in result:
        found["from scratch"] = result["scratch"]["val_accuracy"]
    return found


# --------------------------------------------------------------------------- what goes wrong without it

PITFALLS = {
    "careful": "top {blocks} blocks unfrozen, BatchNorm frozen and in inference mode, learning rate {low:g}",
    "high learning rate": "the same at learning rate {high:g}",
    "BatchNorm unfrozen": "the top blocks' BatchNorm trainable and the base called in training mode (no "
                          "training=False), learning rate {low:g}",
}


def fine_tuning_pitfalls(model, base, train_ds, val_ds, *, n_blocks: int = FINE_TUNE_BLOCKS,
                         learning_rate: float = FINE_TUNE_LEARNING_RATE, high_learning_rate: float = 1e-2,
                         epochs: int = 1, steps_per_epoch=None, variants=tuple(PITFALLS), verbose: int = 0) -> dict:
    """Fine-tune a head-trained transfer ``model`` in several ways; the validation accuracy before and after.

    Every variant starts from the same weights (those of ``model`` when called) and trains
    ``epochs`` epochs with a constant learning rate:

    * ``careful``: :func:`fine_tune` as the course does it (``learning_rate``);
    * ``high learning rate``: the same at ``high_learning_rate``: large steps undo the pretrained
      features faster than the few new photos can teach new ones;
    * ``BatchNorm unfrozen``: the top blocks' BatchNorm layers trainable, and the base called
      without ``training=False`` (a second model over the same layers), so BatchNorm normalises
      with the statistics of each small batch and moves its running statistics towards them.

    Returns ``{variant: {"description", "val_accuracy_before", "val_accuracy_after", "train_seconds"}}``.
    Afterwards ``model`` has its weights and trainable flags back, but its compiled state is the last
    variant's: compile it again (e.g. :func:`fine_tune`) before training it.
    """
    import keras

    unknown = set(variants) - set(PITFALLS)
    if unknown:
        raise ValueError(f"unknown variants {sorted(unknown)}: choose among {list(PITFALLS)}")
    train_ds, val_ds = models.with_length(train_ds), models.with_length(val_ds)
    weights = model.get_weights()
    before = models.evaluate(model, val_ds)["accuracy"]
    results = {}
    with weights_put_back(model):  # each variant starts from the same weights; all put back at the end
        for name in variants:
            model.set_weights(weights)
            base.trainable = False
            trained = model
            if name == "careful":
                fine_tune(model, base, n_blocks, learning_rate)
            elif name == "high learning rate":
                fine_tune(model, base, n_blocks, high_learning_rate)
            else:
                fine_tune(model, base, n_blocks, learning_rate)
                top = _top_blocks(base, n_blocks)
                for layer in base.layers:
                    if isinstance(layer, keras.layers.BatchNormalization) and _BLOCK.match(layer.name) and \
                            _BLOCK.match(layer.name)[1] in top:
                        layer.trainable = True
                trained = _careless_copy(model, base)
                _compile(trained, keras.optimizers.Adam(learning_rate))
            start = time.perf_counter()
            trained.fit(train_ds, epochs=epochs, steps_per_epoch=steps_per_epoch, verbose=verbose, shuffle=False)
            seconds = time.perf_counter() - start
            text = PITFALLS[name].format(blocks=n_blocks, low=learning_rate, high=high_learning_rate)
            results[name] = {"description": text, "val_accuracy_before": float(before),
                             "val_accuracy_after": float(models.evaluate(model, val_ds)["accuracy"]),
                             "train_seconds": round(seconds, 1)}
    return results


def _careless_copy(model, base):
    """The transfer model rebuilt over the same layers, calling ``base`` without ``training=False``."""
    import keras

    inputs = keras.Input(base.input_shape[1:])
    x = base(inputs)
    after = model.layers[[layer is base for layer in model.layers].index(True) + 1:]
    for layer in after:
        x = layer(x)
    return keras.Model(inputs, x, name=f"{model.name}_careless")


# --------------------------------------------------------------------------- CAM on the pet photos

CAM_SIZE = 224     # the classifier's input: a 7x7 final map
TOLERANCE = 15     # pointing game: pixels of the photo
# The cats-vs-dogs classifier whose maps are measured on the pets (pet_classifier: notebook 06 and
# benchmarks/cam_localisation.py): every training photo (limit None), the head, then every block (n_blocks None:
# 8 in the course's ResNet-18, 16 in ResNet-50) fine-tuned at 3e-4. The base learnt 10 Imagenette classes, none
# of them a cat: it must relearn more than for flowers. Measured (session 16): the top 4 blocks at 1e-4 for 4
# epochs gave 80.8% and 8/26 pointing hits; all 8 at 3e-4 for 6 epochs 86.2% and 16/26.
PET_CLASSIFIER = {"limit": None, "head_epochs": 2, "fine_tune_epochs": 6, "n_blocks": None, "learning_rate": 3e-4,
                  "batch_size": 32}
PET_FAST = {"limit": 16, "test_limit": 8, "head_epochs": 1, "fine_tune_epochs": 1, "batch_size": 8}


@dataclass
class PetClassifier:
    """What :func:`pet_classifier` gives: the trained model, its base and backbone, each phase's figures."""

    model: object
    base: object
    backbone: object
    head: dict
    fine_tune: dict | None
    settings: dict

    @property
    def test_accuracy(self) -> float:
        return (self.fine_tune or self.head)["test_accuracy"]


def pet_classifier(backbone=None, *, size: int = CAM_SIZE, test_limit: int | None = None, seed: int = 0,
                   record: str | None = None, verbose: int = 0, **changes) -> PetClassifier:
    """The cats-vs-dogs classifier whose maps are measured on the pet photos, trained (or loaded from ``record``).

    ``build_transfer_model`` (see :func:`answer`) on ``backbone``'s feature extractor: the head trained with
    the base frozen, then :func:`fine_tune` of ``n_blocks`` blocks (None: every one). The recipe is
    :data:`PET_CLASSIFIER`, with ``changes`` (e.g. ``head_epochs=3``); fast mode takes :data:`PET_FAST`'s
    photos and epochs. Fine-tuning changes ``backbone`` in place: give it a copy of its own
    (``backbones.load_backbone()``). ``record``: its name in :mod:`course_utils.trained`.
    """
    import keras

    from . import backbones, trained

    unknown = set(changes) - set(PET_CLASSIFIER)
    if unknown:
        raise TypeError(f"pet_classifier() takes {', '.join(PET_CLASSIFIER)} as changes; "
                        f"not {', '.join(sorted(unknown))}")
    recipe = {**PET_CLASSIFIER, **changes}
    run = {key: recipe[key] for key in ("limit", "head_epochs", "fine_tune_epochs", "batch_size")}
    run["test_limit"] = test_limit
    if settings.fast_mode():
        run = {key: PET_FAST[key] if value is None else min(value, PET_FAST[key]) for key, value in run.items()}
    backbone = backbone if backbone is not None else backbones.load_backbone()
    base = feature_extractor(backbone)
    n_blocks = recipe["n_blocks"] if recipe["n_blocks"] is not None else len(residual_blocks(base))
    keras.utils.set_random_seed(seed)
    model = answer("build_transfer_model")(base, 2)
    photos = cats_vs_dogs_datasets(size, run["batch_size"], run["limit"], run["test_limit"], seed)

    def train():
        parts = photos["train"], photos["validation"], photos["test"]
        head = train_head(model, *parts, epochs=run["head_epochs"], verbose=verbose)
        tuned = None
        if run["fine_tune_epochs"] and n_blocks:
            tuned = train_fine_tuned(model, base, *parts, epochs=run["fine_tune_epochs"], n_blocks=n_blocks,
                                     learning_rate=recipe["learning_rate"], verbose=verbose)
        return head, tuned

    used = {**run, "size": size, "n_blocks": n_blocks, "learning_rate": recipe["learning_rate"], "seed": seed}
    if record:
        head, tuned = trained.train_or_load(record, train, model=model, **used, backbone=backbone.identity,
                                            data="cats_vs_dogs")
    else:
        head, tuned = train()
    return PetClassifier(model, base, backbone, head, tuned, used)


def centre_map(shape) -> np.ndarray:
    """A map whose maximum is the centre of the photo: the pointing game's "always the centre" baseline."""
    rows, cols = np.indices(shape)
    return -np.hypot(rows - (shape[0] - 1) / 2, cols - (shape[1] - 1) / 2)


def localise_pets(model, base, pets: list[dict], feature_layer: str, size: int = CAM_SIZE,
                  tolerance: int = TOLERANCE):
    """Where the maps of a cats-vs-dogs ``model`` land on the pet photos of ``data.load_pets_cam()``.

    Each photo is stretched to ``size`` x ``size`` (0-255); the class activation map of its TRUE
    class (from ``base``'s feature map and the "predictions" kernel) and Grad-CAM at
    ``feature_layer`` are upsampled to the photo's own size (the grid mapped back onto the
    photo) and normalised; then the pointing game (``tolerance`` pixels) and the share of the
    map's mass on the animal. Returns ``(rows, maps, feature map size)``: one dict per photo,
    the CAMs at photo size (for ``plots.cam_gallery``, see :func:`gallery_items`), and (h, w)
    of the final feature map (7x7 at 224 pixels).
    """
    from .datasets import CATS_VS_DOGS_CLASSES

    x = np.concatenate([photo_batch(p["image"], size) for p in pets])
    features = np.asarray(base(x, training=False))
    probabilities = np.asarray(model(x, training=False))
    kernel = np.asarray(model.get_layer("predictions").kernel)
    true = np.array([CATS_VS_DOGS_CLASSES.index(p["label"]) for p in pets])
    gradients = np.zeros(features.shape[:3], np.float32)
    for label in np.unique(true):
        chosen = np.flatnonzero(true == label)
        gradients[chosen] = answer("grad_cam")(model, x[chosen], feature_layer, int(label))
    upsample, hit, mass = answer("upsample_and_normalise"), answer("pointing_game_hit"), answer("mass_inside")
    rows, maps = [], []
    for i, pet in enumerate(pets):
        shape = pet["image"].shape[:2]
        class_map = _class_map(features[i], kernel, true[i], shape)
        grad_map = upsample(gradients[i], shape)
        peak = np.unravel_index(np.argmax(class_map), shape)
        animal = np.isin(pet["mask"], (1, 2))
        rows.append({
            "name": pet["name"], "label": pet["label"], "photo_size": list(shape),
            "predicted": CATS_VS_DOGS_CLASSES[int(probabilities[i].argmax())],
            "probability_true": float(probabilities[i, true[i]]),
            "cam_hit": hit(class_map, pet["mask"], tolerance),
            "cam_mass_inside": mass(class_map, pet["mask"]),
            "cam_peak": [int(peak[0]), int(peak[1])],
            "grad_cam_hit": hit(grad_map, pet["mask"], tolerance),
            "grad_cam_mass_inside": mass(grad_map, pet["mask"]),
            "grad_cam_empty": bool(np.max(gradients[i]) <= 0),  # ReLU left nothing: no point to point at
            "centre_hit": hit(centre_map(shape), pet["mask"], tolerance),
            "mask_share": float(animal.mean()),
        })
        maps.append(class_map)
    return rows, maps, list(features.shape[1:3])


def _class_map(features, kernel, class_index, shape) -> np.ndarray:
    """The class activation map of ``class_index``, upsampled to ``shape`` and normalised."""
    return answer("upsample_and_normalise")(answer("class_activation_map")(features, kernel, class_index), shape)


def photo_batch(photo, size: int = CAM_SIZE) -> np.ndarray:
    """One photo (float RGB in [0, 1], any size) as a batch of one, stretched to ``size``, values 0-255."""
    import tensorflow as tf

    return tf.image.resize(np.asarray(photo, np.float32)[None], (size, size), antialias=True).numpy() * 255.0


def class_maps(model, base, photo, class_names, size: int = CAM_SIZE) -> list[dict]:
    """``plots.cam_gallery`` panels: the class activation map of each class of ``model`` on one photo.

    E.g. the map for "cat" and the map for "dog" on a photo with both; each title gives the
    class and its probability. The maps are upsampled to the photo and normalised.
    """
    x = photo_batch(photo, size)
    features = np.asarray(base(x, training=False))[0]
    probabilities = np.asarray(model(x, training=False))[0]
    kernel = np.asarray(model.get_layer("predictions").kernel)
    return [{"image": photo, "cam": _class_map(features, kernel, c, np.shape(photo)[:2]),
             "title": f"map for {name!r}: p = {probabilities[c]:.2f}"} for c, name in enumerate(class_names)]


def backbone_maps(backbone, photos, size: int = CAM_SIZE, labels=None) -> list[dict]:
    """``plots.cam_gallery`` panels: the backbone's own top class on each photo, and its class activation map.

    ``photos``: float RGB in [0, 1]; ``labels`` (indices into ``backbone.class_names``) colour each
    title right or wrong. Works for the ImageNet backbone and the course's own alike.
    """
    from .plots import RIGHT_COLOR, WRONG_COLOR

    base = feature_extractor(backbone)
    kernel = np.asarray(backbone.model.get_layer(backbone.dense_layer).kernel)
    items = []
    for i, photo in enumerate(photos):
        x = photo_batch(photo, size)
        probabilities = np.asarray(backbone.model(x, training=False))[0]
        top = int(probabilities.argmax())
        item = {"image": photo, "cam": _class_map(np.asarray(base(x, training=False))[0], kernel, top,
                                                  np.shape(photo)[:2]),
                "title": f"{backbone.class_names[top]} ({probabilities[top]:.2f})"}
        if labels is not None:
            right = top == int(labels[i])
            item["color"] = RIGHT_COLOR if right else WRONG_COLOR
            item["title"] += "" if right else f"\ntrue: {backbone.class_names[int(labels[i])]}"
        items.append(item)
    return items


def localisation_summary(rows: list[dict]) -> dict:
    """Totals of :func:`localise_pets` rows: hits of each pointer, mean mass inside, mean mask share."""
    n = len(rows)

    def mean(key):
        return float(np.mean([r[key] for r in rows]))

    return {
        "photos": n, "correct": sum(r["predicted"] == r["label"] for r in rows),
        "cam_hits": sum(r["cam_hit"] for r in rows), "grad_cam_hits": sum(r["grad_cam_hit"] for r in rows),
        "centre_hits": sum(r["centre_hit"] for r in rows), "grad_cam_empty": sum(r["grad_cam_empty"] for r in rows),
        "cam_mass_inside": mean("cam_mass_inside"), "grad_cam_mass_inside": mean("grad_cam_mass_inside"),
        "mask_share": mean("mask_share"),
        "cam_mass_above_share": sum(r["cam_mass_inside"] > r["mask_share"] for r in rows),
    }


def describe_localisation(summary: dict, feature_size, tolerance: int = TOLERANCE) -> str:
    """The totals of :func:`localisation_summary` in three lines: pointing game, mass on the animal."""
    n = summary["photos"]

    def hits(key):
        return f"{summary[key]}/{n} ({summary[key] / n:.0%})"

    ratio = summary["cam_mass_inside"] / summary["mask_share"]
    mark = settings.fast_mark()  # a model trained for a few steps: its maps mean little
    return "\n".join(line + mark for line in [
        f"final feature map {feature_size[0]}x{feature_size[1]}; {summary['correct']}/{n} photos classified right",
        f"pointing game (max within {tolerance} px of the animal): CAM {hits('cam_hits')}, Grad-CAM "
        f"{hits('grad_cam_hits')} ({summary['grad_cam_empty']} maps all zero after the ReLU), always the centre "
        f"{hits('centre_hits')}",
        f"map's mass on the animal: CAM {summary['cam_mass_inside']:.1%}, Grad-CAM "
        f"{summary['grad_cam_mass_inside']:.1%}, vs the animal's share of the photo {summary['mask_share']:.1%} "
        f"(CAM {ratio:.2f}x; above it on {summary['cam_mass_above_share']}/{n} photos)"])


def gallery_items(pets: list[dict], rows: list[dict], maps: list, which: str = "misses") -> list[dict]:
    """``plots.cam_gallery`` panels from :func:`localise_pets`: the pointing game's ``"misses"``, ``"hits"``, ``"all"``.

    Each title says the photo, its class, the prediction and hit or miss (green or red).
    """
    from .plots import RIGHT_COLOR, WRONG_COLOR

    if which not in ("misses", "hits", "all"):
        raise ValueError(f"which must be 'misses', 'hits' or 'all', not {which!r}")
    items = []
    for pet, row, heat in zip(pets, rows, maps):
        if (which == "misses" and row["cam_hit"]) or (which == "hits" and not row["cam_hit"]):
            continue
        verdict = "hit" if row["cam_hit"] else "miss"
        items.append({"image": pet["image"], "cam": heat, "mask": pet["mask"],
                      "title": f"{row['name']}\n{row['label']}, predicted {row['predicted']}: {verdict}",
                      "color": RIGHT_COLOR if row["cam_hit"] else WRONG_COLOR})
    return items


def save_result(result: dict, path) -> Path:
    import json

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=1) + "\n")
    return path
