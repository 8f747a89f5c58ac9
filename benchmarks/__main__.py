"""Run every benchmark: ``python -m benchmarks`` (``--skip-...`` leaves the long ones out).

Notebook 04: the two speed ratios and the accuracy run; notebook 06: transfer vs scratch on the
flowers and where class activation maps land on the pet photos. ``--fast`` runs the notebook 06
ones in fast mode (a few photos: the code runs, the figures mean nothing).
"""
from __future__ import annotations

import argparse

from . import accuracy, cam_localisation, pipeline_speed, resnet50_speed, transfer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--skip-accuracy", action="store_true",
                        help="skip the accuracy run (two 15-epoch trainings: about an hour or more on 2 cores)")
    parser.add_argument("--skip-transfer", action="store_true",
                        help="skip transfer vs scratch on the flowers (eight trainings)")
    parser.add_argument("--skip-cam", action="store_true", help="skip the CAM localisation run (one fine-tuning)")
    parser.add_argument("--fast", action="store_true", help="the notebook 06 benchmarks in fast mode")
    args = parser.parse_args()
    fast = ["--fast"] if args.fast else []
    print("== 1. course ResNet-50 vs keras.applications.ResNet50: training speed ==")
    resnet50_speed.main([])
    print("\n== 2. tf.data pipeline vs in-memory arrays: training speed ==")
    pipeline_speed.main([])
    if not args.skip_accuracy:
        print("\n== 3. course recipe vs original tutorial recipe: test accuracy ==")
        accuracy.main([])
    if not args.skip_transfer:
        print("\n== 4. transfer learning vs training from scratch: flowers test accuracy ==")
        transfer.main(fast + ["--pitfalls"])
    if not args.skip_cam:
        print("\n== 5. class activation maps: the pointing game on the pet photos ==")
        cam_localisation.main(fast)


if __name__ == "__main__":
    main()
