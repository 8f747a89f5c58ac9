"""Run every benchmark: ``python -m benchmarks`` (add ``--skip-accuracy`` for the speed ratios only)."""
from __future__ import annotations

import argparse

from . import accuracy, pipeline_speed, resnet50_speed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-accuracy", action="store_true",
                        help="skip the accuracy run (two 15-epoch trainings: about an hour or more on 2 cores)")
    args = parser.parse_args()
    print("== 1. course ResNet-50 vs keras.applications.ResNet50: training speed ==")
    resnet50_speed.main([])
    print("\n== 2. tf.data pipeline vs in-memory arrays: training speed ==")
    pipeline_speed.main([])
    if not args.skip_accuracy:
        print("\n== 3. course recipe vs original tutorial recipe: test accuracy ==")
        accuracy.main([])


if __name__ == "__main__":
    main()
