"""Flowers test accuracy: transfer learning vs the same network from scratch, at equal epochs.

The backbone is :func:`course_utils.backbones.load_backbone` (``COURSE_BACKBONE`` chooses). Two
data settings on the same stratified split of the 4,317 flower photos (70/15/15, seed 0,
:func:`course_utils.transfer.flowers_split`): every training photo, and 50 per class; the
validation and test photos are the same in both. For each:

* transfer: the feature extractor frozen with a new head (GAP + Dense) for ``--head-epochs``
  epochs, then the top ``--blocks`` residual blocks fine-tuned (BatchNorm frozen, a low
  learning rate) for ``--fine-tune-epochs`` epochs;
* scratch: the same architecture from random weights, the course recipe, for as many epochs.

Printed: test accuracy after the head, after fine-tuning and from scratch, and seconds of
training per epoch of each phase (median, the first epoch left out); with ``--pitfalls`` (on the
full-data run) the validation accuracy before and after fine-tuning the careless ways
(:func:`course_utils.transfer.fine_tuning_pitfalls`). Written to
``benchmarks/results/transfer-<date>.json`` (fast mode: under ``COURSE_CACHE_DIR/benchmarks/``).

    python -m benchmarks.transfer                    # slow: 2 x (10 epochs of transfer + 10 from scratch)
    python -m benchmarks.transfer --fast             # a few photos, one epoch per phase: the code runs
    python -m benchmarks.transfer --head-epochs 5 --fine-tune-epochs 5 --blocks 2 --small 50 --pitfalls
"""
from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

RESULTS = Path(__file__).resolve().parent / "results"


def default_output(name: str, fast: bool) -> Path:
    """``benchmarks/results/<name>-<date>.json``; fast runs go to the cache, not into the repository."""
    date = datetime.date.today().isoformat()
    if fast:
        from course_utils import settings

        return settings.cache_dir() / "benchmarks" / f"{name}-{date}-fast.json"
    return RESULTS / f"{name}-{date}.json"


def versions() -> dict:
    import keras
    import numpy as np
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__}


def report(runs: list[dict]) -> None:
    print("\ntraining photos                     model                           epochs  test accuracy  s/epoch")
    for run in runs:
        label = f"{run['photos']['train']:,} ({run['data']})"
        head, tuned = run["transfer"]["head"], run["transfer"]["fine_tune"]
        rows = [("transfer: head only", f"{head['epochs']}", head["test_accuracy"], head["seconds_per_epoch"]),
                ("transfer: head + fine-tuning", f"{head['epochs']}+{tuned['epochs']}", tuned["test_accuracy"],
                 tuned["seconds_per_epoch"])]
        if "scratch" in run:
            s = run["scratch"]
            rows.append(("from scratch", f"{s['epochs']}", s["test_accuracy"], s["seconds_per_epoch"]))
        for i, (model, epochs, accuracy, seconds) in enumerate(rows):
            print(f"{label if i == 0 else '':<35} {model:<31} {epochs:>6}  {accuracy:>13.3f}  {seconds:>7.1f}")
    for run in runs:
        if "scratch" in run:
            t, s = run["transfer"]["test_accuracy"], run["scratch"]["test_accuracy"]
            print(f"transfer vs scratch at {run['transfer']['epochs']} epochs, {run['data']}: {t:.3f} vs {s:.3f} "
                  f"({(t - s) * 100:+.1f} points; {run['photos']['test']} test photos)")
        for name, row in run.get("pitfalls", {}).items():
            print(f"fine-tuning, {name} ({row['description']}): validation accuracy "
                  f"{row['val_accuracy_before']:.3f} -> {row['val_accuracy_after']:.3f}")


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fast mode: a few photos, one epoch per phase")
    parser.add_argument("--head-epochs", type=int, default=5)
    parser.add_argument("--fine-tune-epochs", type=int, default=5)
    parser.add_argument("--blocks", type=int, default=2, help="residual blocks unfrozen for fine-tuning")
    parser.add_argument("--fine-tune-learning-rate", type=float, default=1e-4)
    parser.add_argument("--small", type=int, default=50, help="training photos per class of the small-data run "
                        "(0: skip it)")
    parser.add_argument("--size", type=int, default=None, help="photo size (default: the backbone's)")
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pitfalls", action="store_true",
                        help="also measure careless fine-tuning (high learning rate, BatchNorm unfrozen)")
    parser.add_argument("--output", type=Path, default=None, help="JSON file (default: results/transfer-<date>.json)")
    args = parser.parse_args(argv)
    if args.fast:
        os.environ["COURSE_FAST"] = "1"
    from course_utils import backbones, settings, transfer

    fast = settings.fast_mode()
    backbone = backbones.load_backbone()
    print(f"{backbone}\n{settings.describe()}", flush=True)
    common = dict(head_epochs=args.head_epochs, fine_tune_epochs=args.fine_tune_epochs, n_blocks=args.blocks,
                  fine_tune_learning_rate=args.fine_tune_learning_rate, image_size=args.size,
                  batch_size=args.batch_size, seed=args.seed)
    runs = [transfer.run_transfer_experiment(backbone, pitfalls=args.pitfalls, **common)]
    if args.small:
        runs.append(transfer.run_transfer_experiment(backbone, train_per_class=args.small, **common))
    report(runs)
    result = {"benchmark": "transfer", "date": datetime.date.today().isoformat(), "fast_mode": fast,
              "backbone": str(backbone), "kind": backbone.kind, "arguments": {k: (str(v) if isinstance(v, Path) else v)
                                                                              for k, v in vars(args).items()},
              "versions": versions(), "runs": runs}
    path = transfer.save_result(result, args.output or default_output("transfer", fast))
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
