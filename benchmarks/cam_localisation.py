"""Where do class activation maps land? The pointing game and the map's mass on 26 pet photos with masks.

The backbone (:func:`course_utils.backbones.load_backbone`) becomes a cats-vs-dogs classifier:
its feature extractor, global average pooling and a Dense softmax
(``course_utils.cam.build_transfer_model``), the head trained on the cats-vs-dogs training
photos at 224x224, then ``--blocks`` residual blocks fine-tuned (default: every one):
:func:`course_utils.transfer.pet_classifier`, as notebook 06 trains it. With notebook 06's
recipe (every option at its default) the classifier is the record ``cats_vs_dogs_cam``:
``COURSE_READER=1`` loads it when ``make models`` made it, ``COURSE_RECORD=1`` records it.
Then, for each of the 26 Oxford-IIIT Pet photos of ``pets_cam`` (``data.load_pets_cam``, 18 cats
and 8 dogs, with masks 0 background, 1 cat, 2 dog, 255 boundary), each stretched to 224x224:

* the class activation map of the TRUE class (the final feature map is 7x7 at 224 pixels),
  upsampled to the photo's own size (the 224 grid mapped back onto the photo) and normalised;
* the pointing game: a hit when the map's maximum lies within 15 pixels of an animal pixel;
* the share of the map's mass on the animal, against the animal's share of the photo (a map
  spread evenly over the photo would score exactly that share);
* the same for Grad-CAM at the same layer, and a baseline that always points at the centre.

The measuring is :func:`course_utils.transfer.localise_pets` (the notebook calls it too).
Printed: one line per photo and the totals; written to ``benchmarks/results/cam-<date>.json``
(fast mode: under ``COURSE_CACHE_DIR/benchmarks/``).

    python -m benchmarks.cam_localisation            # notebook 06's recipe (transfer.PET_CLASSIFIER)
    python -m benchmarks.cam_localisation --fast     # 16 training photos, one epoch each: the code runs
    python -m benchmarks.cam_localisation --limit 2000 --head-epochs 3 --fine-tune-epochs 2 --blocks 1
"""
from __future__ import annotations

import argparse
import datetime
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from course_utils.transfer import PET_CLASSIFIER  # notebook 06's recipe (imports no TensorFlow)

SIZE = 224        # course_utils.transfer.CAM_SIZE
TOLERANCE = 15    # pixels of the photo


def report(rows: list[dict], summary: dict, feature_size, tolerance: int = TOLERANCE) -> None:
    from course_utils import transfer

    print(f"\nphoto                        true  predicted  p(true)  CAM hit  CAM mass  mask share  "
          f"Grad-CAM hit  Grad-CAM mass")
    for r in rows:
        print(f"{r['name']:<28} {r['label']:<5} {r['predicted']:<9} {r['probability_true']:>8.2f}  "
              f"{'yes' if r['cam_hit'] else 'NO':>7}  {r['cam_mass_inside']:>8.2f}  {r['mask_share']:>10.2f}  "
              f"{'yes' if r['grad_cam_hit'] else 'NO':>12}  {r['grad_cam_mass_inside']:>13.2f}")
    print("\n" + transfer.describe_localisation(summary, feature_size, tolerance))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast", action="store_true", help="fast mode: 16 training photos, one epoch each")
    parser.add_argument("--limit", type=int, default=PET_CLASSIFIER["limit"],
                        help="cats-vs-dogs training photos (balanced; 10%% held out for validation; default all)")
    parser.add_argument("--test-limit", type=int, default=None, help="cats-vs-dogs test photos (default all 1,000)")
    parser.add_argument("--head-epochs", type=int, default=PET_CLASSIFIER["head_epochs"])
    parser.add_argument("--fine-tune-epochs", type=int, default=PET_CLASSIFIER["fine_tune_epochs"])
    parser.add_argument("--blocks", type=int, default=PET_CLASSIFIER["n_blocks"],
                        help="residual blocks unfrozen for fine-tuning (default every one; 0: the head only)")
    parser.add_argument("--fine-tune-learning-rate", type=float, default=PET_CLASSIFIER["learning_rate"])
    parser.add_argument("--batch-size", type=int, default=PET_CLASSIFIER["batch_size"])
    parser.add_argument("--size", type=int, default=SIZE, help="input size (224: a 7x7 final map)")
    parser.add_argument("--tolerance", type=int, default=TOLERANCE, help="pointing game tolerance, pixels")
    parser.add_argument("--pets", type=int, default=None, help="only the first N pet photos (default all 26)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--output", type=Path, default=None, help="JSON file (default: results/cam-<date>.json)")
    args = parser.parse_args(argv)
    if args.fast:
        os.environ["COURSE_FAST"] = "1"
    from course_utils import backbones, data, settings, transfer

    from .transfer import default_output, versions

    fast = settings.fast_mode()
    changes = {"limit": args.limit, "head_epochs": args.head_epochs, "fine_tune_epochs": args.fine_tune_epochs,
               "n_blocks": args.blocks, "learning_rate": args.fine_tune_learning_rate, "batch_size": args.batch_size}
    notebooks = all(changes[key] == PET_CLASSIFIER[key] for key in changes) and args.size == SIZE \
        and args.test_limit is None and args.seed == 0
    backbone = backbones.load_backbone()
    print(f"{backbone}\n{settings.describe()}", flush=True)
    # notebook 06's classifier is its record: COURSE_READER=1 loads it when make models made it
    pet = transfer.pet_classifier(backbone, size=args.size, test_limit=args.test_limit, seed=args.seed,
                                  record="cats_vs_dogs_cam" if notebooks else None, **changes)
    model, base, head, tuned, run = pet.model, pet.base, pet.head, pet.fine_tune, pet.settings
    print(f"head only ({run['head_epochs']} epochs): cats-vs-dogs test accuracy {head['test_accuracy']:.3f}, "
          f"{head['seconds_per_epoch']} s per epoch", flush=True)
    if tuned:
        print(f"+ fine-tuning {run['n_blocks']} blocks ({run['fine_tune_epochs']} epochs): test accuracy "
              f"{tuned['test_accuracy']:.3f}, {tuned['seconds_per_epoch']} s per epoch", flush=True)
    pets = data.load_pets_cam()
    pets = pets[: args.pets] if args.pets else pets
    rows, _, feature_size = transfer.localise_pets(model, base, pets, backbone.feature_layer, args.size,
                                                   args.tolerance)
    summary = transfer.localisation_summary(rows)
    report(rows, summary, feature_size, args.tolerance)
    result = {"benchmark": "cam_localisation", "date": datetime.date.today().isoformat(), "fast_mode": fast,
              "backbone": str(backbone), "kind": backbone.kind, "size": args.size, "feature_map": feature_size,
              "tolerance": args.tolerance, "settings": run, "record": "cats_vs_dogs_cam" if notebooks else None,
              "head": head, "fine_tune": tuned,
              "test_accuracy": pet.test_accuracy, "summary": summary, "photos": rows,
              "versions": versions()}
    path = transfer.save_result(result, args.output or default_output("cam", fast))
    print(f"wrote {path}")
    return result


if __name__ == "__main__":
    main()
    sys.exit(0)
