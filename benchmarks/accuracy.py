"""Test accuracy of the course's training recipe vs the original tutorial's, same epochs.

Both train the course ResNet-50 (:func:`course_utils.resnet50.resnet50`) on
64x64 cats vs dogs: 6,002 training photos of which 10% are held out for
validation, then report accuracy on the 1,000 test photos.

* ``tutorial``: Adam at a constant 1e-3, batches of 32, no augmentation, the last epoch kept;
* ``course``: He-normal start with zero-gamma residual branches
  (:func:`course_utils.models.prepare_for_training`), random crops and flips, batches of 16,
  AdamW with warm-up + cosine decay, the best validation epoch kept, then BatchNorm
  statistics re-measured on the un-augmented training photos
  (see :data:`course_utils.models.RECIPES`).

Goal: the course recipe reaches >= 85% test accuracy within 15 epochs.
Test accuracy is also printed after every epoch (for information: the
course recipe keeps the best *validation* epoch, never looks at test).

    python -m benchmarks.accuracy                       # both recipes, 15 epochs (slow: ~1 h on 2 cores)
    python -m benchmarks.accuracy --recipes course --epochs 15
    python -m benchmarks.accuracy --recipes course --set learning_rate=2e-3   # try a variant
    python -m benchmarks.accuracy --recipes course --set crop=null zoom=0.1 shift=0.1  # the earlier augmentation
"""
from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GOAL = 0.85


def datasets(spec: dict, limit: int | None = None):
    from course_utils import data, models

    batch_size = spec["batch_size"]
    common = dict(batch_size=batch_size, limit=limit, validation_fraction=0.1, seed=42)
    train = data.cats_vs_dogs_dataset("train", subset="training", **models.pipeline_augmentation(spec), **common)
    val = data.cats_vs_dogs_dataset("train", subset="validation", shuffle=False, **common)
    test = data.cats_vs_dogs_dataset("test", batch_size=batch_size, shuffle=False,
                                     limit=None if limit is None else max(64, limit // 4))
    # the training photos as they are (no augmentation), for recalibrating BatchNorm
    plain = data.cats_vs_dogs_dataset("train", subset="training", **common) if spec["recalibrate_bn"] else None
    return train, val, test, plain


def variant(recipe: str, overrides: dict | None = None) -> dict:
    """The settings of ``recipe`` with ``overrides`` (from ``--set``) applied; unknown keys are refused."""
    from course_utils import models

    spec = dict(models.RECIPES[recipe])
    for key, value in (overrides or {}).items():
        if key not in spec:
            raise SystemExit(f"--set {key}: recipe {recipe!r} has no setting {key!r} (it has {sorted(spec)})")
        spec[key] = value
    return spec


def parse_overrides(items: list[str]) -> dict:
    """``["learning_rate=2e-3", "augment=false"]`` -> ``{"learning_rate": 0.002, "augment": False}``."""
    overrides = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep:
            raise SystemExit(f"--set {item}: expected KEY=VALUE")
        try:
            value = json.loads(text.lower() if text.lower() in ("true", "false") else text)
        except json.JSONDecodeError:
            value = text
        overrides[key.strip()] = value
    return overrides


def run(recipe: str, epochs: int, limit: int | None = None, verbose: int = 2, overrides: dict | None = None) -> dict:
    import keras

    from course_utils import models

    from course_utils.resnet50 import resnet50

    spec = variant(recipe, overrides)
    keras.utils.set_random_seed(0)
    train_ds, val_ds, test_ds, plain_ds = datasets(spec, limit=limit)
    model = resnet50((64, 64, 3), 2)
    if spec["prepare"]:
        models.prepare_for_training(model, bn_momentum=spec["bn_momentum"])
    per_epoch = []

    class TestAccuracy(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds = time.perf_counter() - self.start
            accuracy = models.evaluate(self.model, test_ds)["accuracy"]
            logs = logs or {}
            averaged = logs.get("averaged_val_accuracy")
            per_epoch.append({"epoch": epoch + 1, "seconds": round(seconds, 1), "test_accuracy": accuracy,
                              "val_accuracy": logs.get("val_accuracy"), "train_accuracy": logs.get("accuracy"),
                              **({"averaged_val_accuracy": averaged} if averaged is not None else {})})
            print(f"[{recipe}] epoch {epoch + 1}/{epochs}: {seconds:.0f} s, train {logs.get('accuracy'):.3f}, "
                  f"val {logs.get('val_accuracy'):.3f}"
                  + (f" (averaged weights {averaged:.3f})" if averaged is not None else "")
                  + f", test {accuracy:.3f}", flush=True)

    start = time.perf_counter()
    history = models.train(model, train_ds, val_ds, epochs, spec, verbose=verbose, callbacks=[TestAccuracy()])
    before_recalibration = val_before = val_after = None
    if plain_ds is not None:
        before_recalibration = models.evaluate(model, test_ds)["accuracy"]
        val_before = models.evaluate(model, val_ds)["accuracy"]
        models.recalibrate_batchnorm(model, plain_ds)
        val_after = models.evaluate(model, val_ds)["accuracy"]
    minutes = (time.perf_counter() - start) / 60
    final = models.evaluate(model, test_ds)["accuracy"]
    flipped = models.evaluate(model, test_ds, flip_average=True)["accuracy"]
    if limit is None and not overrides:
        models.save_model(model, f"benchmark_{recipe}_{epochs}_epochs")
    return {"recipe": recipe, "overrides": overrides or {}, "epochs": epochs, "test_accuracy": final, "flip_averaged": flipped,
            "kept_epoch": history.best_epoch,
            "before_batchnorm_recalibration": before_recalibration, "minutes": round(minutes, 1),
            "val_accuracy_before_and_after_recalibration": [val_before, val_after],
            "per_epoch": per_epoch}


def report(results: list[dict]) -> None:
    print("\nrecipe     epochs  kept epoch  test accuracy  with flip averaging  minutes")
    for r in results:
        print(f"{r['recipe']:<10} {r['epochs']:>6}  {r['kept_epoch']:>10}  {r['test_accuracy']:>13.3f}  "
              f"{r['flip_averaged']:>19.3f}  {r['minutes']:>7.1f}")
        if r.get("overrides"):
            print(f"  (variant: {r['overrides']})")
        if r.get("before_batchnorm_recalibration") is not None:
            print(f"  (test accuracy before recalibrating BatchNorm: {r['before_batchnorm_recalibration']:.3f})")
    by = {r["recipe"]: r for r in results}
    if "course" in by:
        verdict = "meets" if by["course"]["test_accuracy"] >= GOAL else "MISSES"
        print(f"course recipe: {by['course']['test_accuracy']:.1%} test accuracy after "
              f"{by['course']['epochs']} epochs ({verdict} the {GOAL:.0%} goal)")
    if "course" in by and "tutorial" in by:
        gain = by["course"]["test_accuracy"] - by["tutorial"]["test_accuracy"]
        print(f"course vs tutorial recipe: {by['course']['test_accuracy']:.3f} vs "
              f"{by['tutorial']['test_accuracy']:.3f} ({gain:+.1%} points, ratio "
              f"{by['course']['test_accuracy'] / by['tutorial']['test_accuracy']:.2f})")


def main(argv=None) -> list[dict]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--recipes", nargs="+", default=["course", "tutorial"], choices=["course", "tutorial"])
    parser.add_argument("--limit", type=int, default=None, help="a balanced subset (smoke test), default all")
    parser.add_argument("--json", default=None, help="also write the results to this file")
    parser.add_argument("--set", nargs="+", default=[], metavar="KEY=VALUE",
                        help="change recipe settings for this run (e.g. learning_rate=2e-3 batch_size=32)")
    args = parser.parse_args(argv)
    overrides = parse_overrides(args.set)
    results = []
    for recipe in args.recipes:
        results.append(run(recipe, args.epochs, args.limit, overrides=overrides))
        report(results)
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)
    return results


if __name__ == "__main__":
    main()
