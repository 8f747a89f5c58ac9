"""Training speed of the course ResNet-50 vs keras.applications.ResNet50 with the same head.

Both models see the same in-memory batch (64x64x3, batch 32), use the same
optimizer (Adam) and loss; warm-up steps are excluded and the two are timed in
alternation. Goal: course / keras >= 0.95.

    python -m benchmarks.resnet50_speed [--steps 8] [--reps 3]
"""
from __future__ import annotations

import argparse
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

GOAL = 0.95


def main(argv=None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=8)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args(argv)

    import keras
    import numpy as np

    from course_utils import models
    from course_utils.resnet50 import resnet50

    from ._timing import interleaved, ratio_report

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((args.batch_size, 64, 64, 3), dtype=np.float32)
    y = np.arange(args.batch_size) % 2
    contenders = {}
    for name, build in (("course ResNet-50", resnet50), ("keras.applications.ResNet50", models.keras_resnet50)):
        model = build((64, 64, 3), 2)
        model.compile(optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy")
        print(f"{name}: {model.count_params():,} parameters, {len(model.layers)} layers")
        contenders[name] = (lambda m: lambda: m.train_on_batch(x, y))(model)
    print(f"training images/s, batch {args.batch_size}, {args.steps} timed steps x {args.reps} interleaved rounds "
          f"({args.warmup} warm-up steps excluded):")
    rates = interleaved(contenders, args.batch_size, args.warmup, args.steps, args.reps)
    return ratio_report(rates, "course ResNet-50", "keras.applications.ResNet50", GOAL)


if __name__ == "__main__":
    main()
