"""Training speed when fed by the course's file-based tf.data pipeline vs from in-memory arrays.

Same model (the course ResNet-50), same batch size. The pipeline is
``course_utils.data.cats_vs_dogs_dataset`` as the notebook uses it (decode,
resize, cache, shuffle, batch, prefetch), with and without the course
recipe's augmentation (random crops of the full-size photos, flips); its cache
is filled before timing. Goal: pipeline / arrays >= 0.95.

    python -m benchmarks.pipeline_speed [--steps 8] [--reps 3]
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GOAL = 0.95


def main(argv=None) -> dict[str, float]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--limit", type=int, default=1024, help="photos in the pipeline (cached in memory)")
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)

    import keras

    from course_utils import data, models

    from course_utils.resnet50 import resnet50

    from ._timing import interleaved, ratio_report

    keras.utils.set_random_seed(0)
    model = resnet50((64, 64, 3), 2)
    model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")

    x, y = data.load_cats_vs_dogs("train", limit=args.limit)
    plain = data.cats_vs_dogs_dataset("train", batch_size=args.batch_size, limit=args.limit)
    augmented = data.cats_vs_dogs_dataset("train", batch_size=args.batch_size, limit=args.limit,
                                          **models.pipeline_augmentation(seed=0))
    for ds in (plain, augmented):  # fill the in-memory caches: later epochs never touch the files
        for _ in ds:
            pass
    iterators = {"plain": iter(plain.repeat()), "augmented": iter(augmented.repeat())}
    position = {"i": 0}

    def from_arrays():
        start = position["i"] % (len(x) - args.batch_size)
        position["i"] += args.batch_size
        model.train_on_batch(x[start:start + args.batch_size], y[start:start + args.batch_size])

    def from_pipeline(kind):
        def step():
            images, labels = next(iterators[kind])
            model.train_on_batch(images, labels)
        return step

    contenders = {"in-memory arrays": from_arrays, "tf.data pipeline": from_pipeline("plain"),
                  "tf.data pipeline + augmentation": from_pipeline("augmented")}
    print(f"training images/s of the course ResNet-50, batch {args.batch_size}, {args.steps} timed steps x "
          f"{args.reps} interleaved rounds ({args.warmup} warm-up steps excluded):")
    rates = interleaved(contenders, args.batch_size, args.warmup, args.steps, args.reps)
    results = {"plain": ratio_report({k: rates[k] for k in ("tf.data pipeline", "in-memory arrays")},
                                     "tf.data pipeline", "in-memory arrays", GOAL)}
    results["augmented"] = ratio_report(
        {k: rates[k] for k in ("tf.data pipeline + augmentation", "in-memory arrays")},
        "tf.data pipeline + augmentation", "in-memory arrays", GOAL)
    return results


if __name__ == "__main__":
    main()
