"""Trained models, once: what the notebooks' training cells give in full mode, recorded and loaded back.

A training cell calls :func:`train_or_load` with a name from :data:`RECORDS`, the training itself (a
function of no arguments) and the recipe: every setting that decides what training gives (epochs, sizes,
seeds, the backbone...). The model's architecture joins the recipe, so that a changed network or recipe
never loads weights trained for another.

* **Normally** it trains, and that is all.
* **Record mode** (``COURSE_RECORD=1``; ``make models``, :mod:`course_autograde.make_models`, executes the
  notebooks in full mode with it): the cell trains and saves a record in ``COURSE_CACHE_DIR/trained/<name>/``
  (``trained-fast/`` in fast mode, so that a fast run never replaces a full-mode record):
  ``manifest.json`` (recipe and its hash, data checksums, metrics, training histories, time, versions) and
  ``model.weights.h5`` when the notebook goes on using the model. A record whose recipe matches is loaded
  instead, so an interrupted ``make models`` goes on where it stopped; and each ``fit`` inside a record
  saves a checkpoint every epoch (Keras' ``BackupAndRestore``), from which a rerun continues. Progress, a
  line per epoch, goes to ``trained/progress.log``, which ``make models`` shows.
* **Reader mode** (``COURSE_READER=1``; ``make book``): the cell loads the record (the weights into the
  notebook's model, the recorded histories and metrics) instead of training. Without a record it says so,
  and which command makes one, then trains as the mode says (in fast mode, with its marks).

Records travel as one archive: :func:`pack` writes it with a list of checksums; :func:`download` fetches
one (sha256-checked, resumable, unpacked safely: :mod:`course_utils.download`) into the cache.
``python -m course_utils.trained`` lists the records; ``--pack`` and ``--download URL --sha256 HEX``.
"""
from __future__ import annotations

import argparse
import datetime
import hashlib
import json
import shutil
import sys
import tarfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import settings

MANIFEST = "manifest.json"
WEIGHTS = "model.weights.h5"
ARCHIVE_LIST = "CHECKSUMS.json"      # inside an archive: every file and its sha256
PROGRESS = "progress.log"
ARRAY_LIMIT = 100_000                 # numbers per array a record keeps (results are figures, not data)


@dataclass(frozen=True)
class Entry:
    """A record a notebook makes: what it trains and roughly how long that takes in full mode on 2 cores."""

    notebook: str
    what: str
    minutes: int


RECORDS: dict[str, Entry] = {
    "fashion_mnist_cnn": Entry("01_convolutions", "the CNN of section 6 on Fashion-MNIST, 10 epochs", 15),
    "resnet50_cats_vs_dogs": Entry("04_resnet50", "ResNet-50 on cats vs dogs, the course recipe, 15 epochs", 45),
    "resnet34_vs_resnet50": Entry("05_resnet34", "ResNet-34 and ResNet-50 on 2,400 photos, 4 epochs each", 15),
    "flowers_transfer_all": Entry("06_transfer_cam", "flowers: transfer vs scratch, every training photo", 30),
    "flowers_transfer_small": Entry("06_transfer_cam", "flowers: transfer vs scratch, 50 photos per class", 6),
    "cats_vs_dogs_cam": Entry("06_transfer_cam", "the backbone fine-tuned on cats vs dogs at 224 px", 23),
}


class RecordError(RuntimeError):
    """A record cannot be used or made as asked (the message says why and what to do)."""


RECORD_FOLDERS = {False: "trained", True: "trained-fast"}  # by fast mode


def records_dir(fast: bool | None = None) -> Path:
    """``COURSE_CACHE_DIR/trained``, or ``trained-fast`` for the records of fast mode (``fast``; default: the
    mode in force), so that trying the machinery in fast mode never replaces a full-mode record."""
    fast = settings.fast_mode() if fast is None else fast
    path = settings.cache_dir() / RECORD_FOLDERS[bool(fast)]
    path.mkdir(parents=True, exist_ok=True)
    return path


def record_dir(name: str, fast: bool | None = None) -> Path:
    return records_dir(fast) / name


def read_manifest(name: str, fast: bool | None = None) -> dict | None:
    path = record_dir(name, fast) / MANIFEST
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except ValueError:
        return None  # half-written or damaged: as good as missing, made again


def notebook_records(notebook: str) -> list[str]:
    return [name for name, entry in RECORDS.items() if entry.notebook == notebook]


def trained_on_another_backbone(manifest: dict) -> bool:
    """Whether a record was trained on the course's pretrained backbone and the cache now holds another
    one (``make backbone`` ran since): its recipe no longer matches, so notebook 06 would train again."""
    used = (manifest.get("recipe") or {}).get("backbone")
    if not isinstance(used, dict) or used.get("kind") != "imagenette":
        return False
    from . import backbones

    current = (backbones.read_manifest() or {}).get("weights_sha256")
    return bool(current) and current != used.get("weights_sha256")


def missing_records(notebook: str, fast: bool = False) -> list[str]:
    """The records ``notebook`` makes that the cache does not hold in full mode (``fast``: in fast mode),
    or holds trained on another backbone. Whether the rest of their recipe still matches is known only
    when the notebook's cell runs."""
    found = {name: read_manifest(name, fast) or {} for name in notebook_records(notebook)}
    return [name for name, manifest in found.items()
            if manifest.get("fast_mode", not fast) != fast or trained_on_another_backbone(manifest)]


def make_command(name: str) -> str:
    entry = RECORDS.get(name)
    notebook = entry.notebook if entry else "the notebook"
    minutes = f"about {entry.minutes} min on 2 cores" if entry else "a full-mode run"
    return f"`make models NOTEBOOKS={notebook}` ({minutes})"


# --------------------------------------------------------------------------- what a record holds


class RecordedHistory:
    """A Keras ``History`` as recorded: ``history`` (metric -> one value per epoch), ``epoch``, ``params``
    and, when training kept its best epoch, ``best_epoch``; what the plots and the notebooks read."""

    def __init__(self, history: dict, epoch: list, params: dict, best_epoch=None):
        self.history, self.epoch, self.params, self.best_epoch = history, epoch, params, best_epoch
        self.model = None

    def __repr__(self) -> str:
        return f"RecordedHistory({len(self.epoch)} epochs: {', '.join(self.history)})"


def _is_history(value) -> bool:
    return isinstance(value, RecordedHistory) or (
        hasattr(value, "history") and hasattr(value, "epoch") and hasattr(value, "params"))


def encode(value, where: str = "result"):
    """``value`` as JSON: histories, dicts with string keys, lists, tuples, numbers, strings, small arrays."""
    if _is_history(value):
        return {"__history__": {"history": {k: [float(v) for v in vs] for k, vs in value.history.items()},
                                "epoch": [int(e) for e in value.epoch],
                                "params": encode(dict(value.params or {}), f"{where}.params"),
                                "best_epoch": getattr(value, "best_epoch", None)}}
    if isinstance(value, Mapping):
        bad = [key for key in value if not isinstance(key, str)]
        if bad:
            raise RecordError(f"cannot record {where}: its keys must be strings, found {bad[0]!r}")
        return {key: encode(item, f"{where}.{key}") for key, item in value.items()}
    if isinstance(value, tuple):
        return {"__tuple__": [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]}
    if isinstance(value, list):
        return [encode(item, f"{where}[{i}]") for i, item in enumerate(value)]
    if isinstance(value, np.ndarray):
        if value.size > ARRAY_LIMIT:
            raise RecordError(f"cannot record {where}: an array of {value.size:,} numbers (at most "
                              f"{ARRAY_LIMIT:,}); return figures, not data")
        return {"__array__": value.tolist(), "dtype": str(value.dtype)}
    if isinstance(value, np.generic):
        return value.item()
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    raise RecordError(f"cannot record {where}, a {type(value).__name__}: a training cell's result must be "
                      "histories, numbers, strings, lists, tuples or dicts of them")


def decode(value):
    if isinstance(value, list):
        return [decode(item) for item in value]
    if not isinstance(value, dict):
        return value
    if "__history__" in value:
        found = value["__history__"]
        return RecordedHistory(found["history"], found["epoch"], decode(found["params"]), found["best_epoch"])
    if "__tuple__" in value:
        return tuple(decode(item) for item in value["__tuple__"])
    if "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"])
    return {key: decode(item) for key, item in value.items()}


def metrics(value, path: str = "", depth: int = 3) -> dict[str, float]:
    """The final figures of a result: the last epoch of each history, its best epoch, and every number
    whose name says accuracy or loss (keys joined by dots)."""
    found = {}
    prefix = f"{path}." if path else ""
    if _is_history(value):
        found.update({f"{prefix}{k}": float(vs[-1]) for k, vs in value.history.items() if len(vs)})
        if getattr(value, "best_epoch", None) is not None:
            found[f"{prefix}best_epoch"] = value.best_epoch
    elif isinstance(value, Mapping) and depth:
        for key, item in value.items():
            if isinstance(item, (int, float, np.generic)) and not isinstance(item, bool) \
                    and ("accuracy" in key or "loss" in key):
                found[f"{prefix}{key}"] = float(item)
            elif isinstance(item, (Mapping, tuple)) or _is_history(item):
                found.update(metrics(item, f"{prefix}{key}", depth - 1))
    elif isinstance(value, tuple) and depth:
        for i, item in enumerate(value):
            found.update(metrics(item, f"{prefix}{i}", depth - 1))
    return found


def histories(value, path: str = "") -> dict[str, dict]:
    """Every training history in a result (a History, or a dict under the key ``history``), by where it is."""
    if _is_history(value):
        return {path or "history": {k: [float(v) for v in vs] for k, vs in value.history.items()}}
    found = {}
    items = value.items() if isinstance(value, Mapping) else enumerate(value) if isinstance(value, (list, tuple)) \
        else ()
    for key, item in items:
        where = f"{path}.{key}" if path else str(key)
        if key == "history" and isinstance(item, Mapping):
            found[where] = item
        else:
            found.update(histories(item, where))
    return found


def architecture(model) -> dict | None:
    """What a record's weights fit: the layers (kind, output shape, parameters, settings; names left out,
    since Keras numbers them by what else the session built) and the shape of every weight."""
    if model is None:
        return None
    from .models import layer_table

    table = [{k: v for k, v in row.items() if k != "name"} for row in layer_table(model)]
    shapes = [list(weight.shape) for weight in model.weights]
    return {"name": model.name, "parameters": int(model.count_params()), "layers": len(table),
            "sha256": _digest({"layers": table, "weights": shapes})}


def _digest(value) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


def recipe_hash(recipe: dict, model=None) -> str:
    network = architecture(model)
    return _digest({"recipe": encode(recipe, "recipe"), "architecture": network and network["sha256"]})


def versions() -> dict:
    import platform

    import keras
    import tensorflow as tf

    return {"python": platform.python_version(), "tensorflow": tf.__version__, "keras": keras.__version__,
            "numpy": np.__version__}


# --------------------------------------------------------------------------- recording the fits


def _say(line: str) -> None:
    stamp = datetime.datetime.now().strftime("%H:%M:%S")
    with open(records_dir() / PROGRESS, "a", encoding="utf-8") as log:
        log.write(f"{stamp} {line}\n")


EPOCHS_FILE = "epochs.json"  # in a fit's checkpoint folder: the logs of the epochs done, for a resumed History


def _progress_callback(name: str, fit_number: int, backup: Path):
    import keras

    class Progress(keras.callbacks.Callback):
        """One line per epoch in the progress log (the notebook's own output is not visible meanwhile),
        and the epoch's logs next to its checkpoint."""

        def on_epoch_begin(self, epoch, logs=None):
            self.started = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            logs = {k: float(v) for k, v in (logs or {}).items() if np.ndim(v) == 0}
            figures = ", ".join(f"{k} {v:.4g}" for k, v in logs.items() if "loss" in k or "accuracy" in k)
            _say(f"{name}, fit {fit_number}: epoch {epoch + 1}/{self.params.get('epochs', '?')}: {figures} "
                 f"({time.perf_counter() - self.started:.0f} s)")
            done = _done_epochs(backup)
            done[str(epoch)] = logs
            backup.mkdir(parents=True, exist_ok=True)
            (backup / EPOCHS_FILE).write_text(json.dumps(done), encoding="utf-8")

    return Progress()


def _done_epochs(backup: Path) -> dict:
    path = backup / EPOCHS_FILE
    try:
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
    except ValueError:
        return {}


def _with_earlier_epochs(history, earlier: dict):
    """A resumed fit's History holds the epochs after the checkpoint only: put the earlier ones back."""
    before = sorted(int(e) for e in earlier if int(e) < min(history.epoch, default=0))
    if not before:
        return history
    for key in history.history:
        history.history[key] = [earlier[str(e)].get(key, float("nan")) for e in before] + list(history.history[key])
    history.epoch = before + list(history.epoch)
    return history


class _RecordingFits:
    """While a record is made: every ``keras.Model.fit`` gets the progress lines and a checkpoint per epoch
    (``backup/fit-<n>``, the n-th fit of the record), from which a rerun after an interruption continues."""

    def __init__(self, name: str):
        self.name, self.count, self.resumed = name, 0, []

    def __enter__(self):
        import keras

        self.original, self.own = keras.Model.fit, "fit" in vars(keras.Model)
        recording = self

        def fit(model, *args, callbacks=None, **kwargs):
            recording.count += 1
            backup = record_dir(recording.name) / "backup" / f"fit-{recording.count}"
            earlier = _done_epochs(backup)
            if earlier:
                recording.resumed.append(recording.count)
                _say(f"{recording.name}, fit {recording.count}: resuming after epoch {len(earlier)}")
            extra = [_progress_callback(recording.name, recording.count, backup),
                     keras.callbacks.BackupAndRestore(str(backup))]
            history = recording.original(model, *args, callbacks=list(callbacks or []) + extra, **kwargs)
            return _with_earlier_epochs(history, earlier)

        keras.Model.fit = fit
        return self

    def __exit__(self, *exc):
        import keras

        if self.own:
            keras.Model.fit = self.original
        else:
            del keras.Model.fit  # inherited again from the trainer
        return False


# --------------------------------------------------------------------------- the training cell's call


def _load(name: str, manifest: dict, model):
    if model is not None:
        weights = record_dir(name) / WEIGHTS
        if not weights.is_file():
            raise RecordError(f"the record {name} has no weights ({weights} is missing): {make_command(name)} "
                              "makes it again")
        model.load_weights(weights)
    return decode(manifest["result"])


def _describe(manifest: dict) -> str:
    figures = ", ".join(f"{k} {v:.3g}" for k, v in list(manifest.get("metrics", {}).items())[:4])
    mode = "FAST-mode" if manifest.get("fast_mode") else "full-mode"
    return (f"{mode} training of {manifest['trained'][:10]}, {manifest['minutes']:.0f} min"
            + (f"; {figures}" if figures else ""))


def train_or_load(name: str, train: Callable[[], object], model=None, **recipe):
    """What ``train()`` returns: trained here, or loaded from the record ``name`` (see the module's doc).

    ``model``: the Keras model ``train`` trains, when the notebook goes on using it (its weights are
    recorded and loaded back); ``recipe``: every setting that decides what training gives.
    """
    if name not in RECORDS:
        raise RecordError(f"{name!r} is not a record of the course: add it to trained.RECORDS")
    if not (settings.reader_mode() or settings.record_mode()):
        return train()
    expected = recipe_hash(recipe, model)
    manifest = read_manifest(name)
    if manifest is not None and manifest.get("recipe_sha256") == expected \
            and manifest.get("fast_mode") == settings.fast_mode():
        print(f"Loaded the trained record {name}: {_describe(manifest)} (make models trained it; "
              "reader mode loads it instead of training again).")
        return _load(name, manifest, model)
    if not settings.record_mode():
        why = "was trained with another recipe or network" if manifest else "is not in the cache"
        print(f"Note: the trained record {name} {why}: {make_command(name)} trains it once, and reader "
              "mode then loads it. Training here instead" + (settings.fast_mark() or " (full mode)") + ".")
        return train()
    if not settings.fast_mode() and (recipe.get("backbone") or {}).get("kind") == "stand-in":
        raise RecordError(f"{name} would be trained on the stand-in backbone, a network trained for a few steps: "
                          "a full-mode record of it would mean nothing. Make the course's backbone first "
                          "(make backbone) or download a published copy (python -m course_utils.pretrain --download).")
    return _record(name, train, model, recipe, expected)


def _record(name: str, train, model, recipe: dict, expected: str):
    from . import data

    folder = record_dir(name)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / MANIFEST).unlink(missing_ok=True)  # stale: it no longer describes what the folder will hold
    _say(f"{name}: training ({RECORDS[name].what})")
    started, stamp = time.perf_counter(), datetime.datetime.now().isoformat(timespec="seconds")
    with _RecordingFits(name) as fits:
        result = train()
    seconds = time.perf_counter() - started
    encoded = encode(result)
    if model is not None:
        model.save_weights(folder / WEIGHTS)
    else:
        (folder / WEIGHTS).unlink(missing_ok=True)
    shutil.rmtree(folder / "backup", ignore_errors=True)
    datasets = recipe.get("data", ())
    manifest = {
        "name": name, "notebook": RECORDS[name].notebook, "what": RECORDS[name].what,
        "recipe": encode(recipe, "recipe"), "recipe_sha256": expected, "architecture": architecture(model),
        "data_sha256": {dataset: data.dataset_checksum(dataset) for dataset in
                        ([datasets] if isinstance(datasets, str) else datasets)},
        "fast_mode": settings.fast_mode(), "trained": stamp, "minutes": round(seconds / 60, 1),
        "fits": fits.count, "resumed_fits": fits.resumed, "metrics": metrics(result), "histories": histories(result),
        "weights_sha256": _file_sha256(folder / WEIGHTS) if model is not None else None,
        "versions": versions(), "result": encoded,
    }
    temporary = folder / (MANIFEST + ".part")
    temporary.write_text(json.dumps(manifest, indent=1), encoding="utf-8")
    temporary.replace(folder / MANIFEST)  # the manifest last, whole or absent: it says the record is complete
    _say(f"{name}: recorded in {seconds / 60:.1f} min; " + ", ".join(
        f"{k} {v:.3g}" for k, v in list(manifest["metrics"].items())[:4]))
    return result


def _file_sha256(path: Path) -> str:
    from .download import file_sha256

    return file_sha256(path)


# --------------------------------------------------------------------------- the archive


def pack(output: Path, names: list[str] | None = None, with_backbone: bool = True) -> Path:
    """One ``.tar.gz`` of the complete records (and the course's pretrained backbone, which notebook 06's
    records were trained on), with ``CHECKSUMS.json``: the archive readers download instead of training."""
    from . import backbones

    names = [n for n in (names or RECORDS) if read_manifest(n) is not None]
    if not names:
        raise RecordError(f"no complete record in {records_dir()}: run `make models` first")
    files = {}
    for name in names:
        for file in (MANIFEST, WEIGHTS):
            path = record_dir(name) / file
            if path.is_file():
                files[f"{records_dir().name}/{name}/{file}"] = path  # trained/ (trained-fast/ in fast mode)
    weights = backbones.weights_path()
    if with_backbone and weights.is_file():
        files[f"backbones/{weights.name}"] = weights
        manifest = backbones.manifest_path(weights)
        if manifest.is_file():
            files[f"backbones/{manifest.name}"] = manifest
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    listing = {member: _file_sha256(path) for member, path in files.items()}
    part = output.with_name(output.name + ".part")
    with tarfile.open(part, "w:gz") as archive:
        for member, path in files.items():
            archive.add(path, arcname=member)
        listed = part.with_name(ARCHIVE_LIST)
        listed.write_text(json.dumps(listing, indent=1), encoding="utf-8")
        archive.add(listed, arcname=ARCHIVE_LIST)
        listed.unlink()
    part.replace(output)
    return output


def download(url: str, sha256: str | None, force: bool = False) -> list[str]:
    """Fetch a models archive (see :func:`pack`) into the cache: checked against ``sha256``, unpacked
    member by member, each file checked against the archive's list. Returns the records it holds."""
    import tempfile

    from .download import ChecksumError, download_file, extract, file_sha256

    archive = download_file(url, settings.cache_dir() / "downloads" / Path(url.split("?")[0]).name,
                            sha256, force=force)
    with tempfile.TemporaryDirectory(dir=settings.cache_dir()) as scratch:
        unpacked = extract(archive, Path(scratch), "tar")
        listing_path = unpacked / ARCHIVE_LIST
        if not listing_path.is_file():
            raise RecordError(f"{archive} has no {ARCHIVE_LIST}: it is not a course models archive")
        listing = json.loads(listing_path.read_text(encoding="utf-8"))
        wrong = [member for member, digest in listing.items()
                 if not (unpacked / member).is_file() or file_sha256(unpacked / member) != digest]
        if wrong:
            raise ChecksumError(f"{archive}: {len(wrong)} file(s) differ from the archive's list "
                                f"({', '.join(wrong[:3])}); nothing was installed. Delete it and download again.")
        for member in listing:
            target = settings.cache_dir() / member
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(unpacked / member), target)
    return sorted({member.split("/")[1] for member in listing if member.split("/")[0] in RECORD_FOLDERS.values()})


# --------------------------------------------------------------------------- command line


def status_lines() -> list[str]:
    lines = []
    for name, entry in RECORDS.items():
        manifest = read_manifest(name)
        state = _describe(manifest) if manifest else f"missing: {make_command(name)}"
        if manifest and trained_on_another_backbone(manifest):
            state = f"trained on a backbone the cache no longer holds: {make_command(name)}; was {state}"
        lines.append(f"{entry.notebook:<16} {name:<24} {state}")
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pack", type=Path, metavar="ARCHIVE", help="write the records into this .tar.gz")
    parser.add_argument("--download", metavar="URL", help="fetch and install a models archive")
    parser.add_argument("--sha256", help="the archive's sha256 (with --download)")
    args = parser.parse_args(argv)
    from .download import DownloadError

    try:
        if args.pack:
            path = pack(args.pack)
            print(f"{path}: {path.stat().st_size:,} bytes, sha256 {_file_sha256(path)}")
        elif args.download:
            if not args.sha256:
                parser.error("--download needs --sha256 (published next to the archive)")
            print("installed: " + ", ".join(download(args.download, args.sha256)))
    except (RecordError, DownloadError, OSError) as error:
        print(error, file=sys.stderr)
        return 1
    print("\n".join(status_lines()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
