"""Loaders for every course dataset: NumPy arrays and ``tf.data`` pipelines.

Each loader reads from ``data_dir`` (default :func:`course_utils.settings.data_dir`,
i.e. ``$COURSE_DATA_DIR``) and expects the course layout::

    cats_vs_dogs/{train,test}/cat.N.jpg, dog.N.jpg
    flowers/<class>/*.jpg                 imagenette/{train,val}/<wnid>/*.JPEG + CLASSES.txt
    mnist/mnist.npz                       fashion_mnist/*-ubyte.gz
    sample_images/*.png|jpg               pets_cam/{images/*.jpg, masks/*.png}

What each dataset holds (class names, files, WordNet ids, mask values) comes
from the catalogue :mod:`course_utils.datasets`; the names are re-exported
here (``data.FLOWER_CLASSES``, ``data.IMAGENETTE_CLASSES``, ...). This module
never imports :mod:`course_utils.download` (which imports it, for
:func:`check_image_file`), and importing it reads no file: ``CLASSES.txt`` is
read, and checked against the catalogue, only when an Imagenette loader runs.

Images come back as float32 RGB in [0, 1] with shape (height, width, 3).
A missing or empty folder raises :class:`FileNotFoundError` saying how to fix
it; an unreadable image raises :class:`ImageFileError` when read on its own and
is skipped with one counted warning when read as part of a dataset.

TensorFlow and Keras are imported only inside the functions that need them, so
the NumPy loaders stay quick to import.
"""
from __future__ import annotations

import os
import re
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from PIL import Image, UnidentifiedImageError

from . import settings
from .datasets import (  # noqa: F401  (re-exported: notebooks and tests use data.<NAME>)
    CATS_VS_DOGS_CLASSES, FASHION_MNIST_CLASSES, FASHION_MNIST_FILES, FLOWER_CLASSES, IMAGENETTE_CLASSES,
    IMAGENETTE_CLASSES_FILE, IMAGENETTE_WNIDS, PETS_MASK_VALUES, download_hint, imagenette_classes_text, is_metadata)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".gif", ".bmp")
_CATS_VS_DOGS_NAME = re.compile(r"(cat|dog)\.(\d+)\.jpe?g", re.IGNORECASE)
_SKIP_NAMES_SHOWN = 5


# --------------------------------------------------------------------------- errors


class ImageFileError(ValueError):
    """An image file that cannot be decoded (corrupt, truncated, not an image, missing)."""

    def __init__(self, path, reason: str):
        self.path, self.reason = Path(path), reason
        super().__init__(f"Cannot read image file {self.path}: {reason}. "
                         "Delete or replace it; loaders skip such files with a warning.")


def _missing_data(dataset: str, root: Path, problem: str) -> FileNotFoundError:
    return FileNotFoundError(
        f"The {dataset} dataset is not available: {problem}. Datasets are read from {root}; "
        f"set the environment variable {settings.DATA_ENV} to the folder that holds "
        f"`{dataset}/` (or pass data_dir=...). {download_hint(dataset)}")


def _root(data_dir) -> Path:
    return Path(data_dir).expanduser() if data_dir is not None else settings.data_dir()


def _list_folder(folder: Path, dataset: str, root: Path, dirs: bool = False) -> list[Path]:
    """The sorted files (or sub-folders) of ``folder``, or a FileNotFoundError saying why not."""
    if not folder.is_dir():
        raise _missing_data(dataset, root, f"the folder {folder} does not exist")
    entries = sorted(p for p in folder.iterdir()
                     if not is_metadata(p) and (p.is_dir() if dirs else p.is_file()))
    if not entries:
        kind = "sub-folders" if dirs else "files"
        raise _missing_data(dataset, root, f"the folder {folder} has no {kind}")
    return entries


def _require_file(path: Path, dataset: str, root: Path) -> Path:
    if not path.is_file():
        _list_folder(path.parent, dataset, root)  # says so if the folder is missing or empty
        raise _missing_data(dataset, root, f"the file {path} does not exist")
    return path


def _warn(message: str) -> None:
    warnings.warn(message, UserWarning, stacklevel=3)


def short_list(items: Sequence[str], shown: int = _SKIP_NAMES_SHOWN) -> str:
    """The first ``shown`` items joined with commas, then "and N more": for warnings about many files."""
    first = list(items[:shown])
    more = len(items) - len(first)
    return ", ".join(first) + (f" and {more} more" if more > 0 else "")


def _warn_skipped(bad: list[tuple[Path, str]], total: int) -> None:
    if bad:
        _warn(f"Skipped {len(bad)} of {total} image files that cannot be read: "
              f"{short_list([f'{Path(p).name} ({reason})' for p, reason in bad])}. Delete or replace them.")


def _warn_ignored(ignored: list[Path], folder: Path, expected: str) -> None:
    if ignored:
        _warn(f"Ignored {len(ignored)} files in {folder} not named like {expected}: "
              f"{short_list([p.name for p in ignored])}.")


def dataset_checksum(dataset: str, data_dir=None) -> str:
    """The sha256 of ``<dataset>/SHA256SUMS`` (the list of every file's checksum): which photos a model saw.
    ``"unknown"`` when the folder has no such list."""
    import hashlib

    sums = _root(data_dir) / dataset / "SHA256SUMS"
    return hashlib.sha256(sums.read_bytes()).hexdigest() if sums.is_file() else "unknown"


# --------------------------------------------------------------------------- single images

_MAGIC = {b"\xff\xd8\xff": "JPEG", b"\x89PNG\r\n\x1a\n": "PNG", b"GIF87a": "GIF",
          b"GIF89a": "GIF", b"BM": "BMP"}


def _sniff(head: bytes) -> str | None:
    return next((fmt for magic, fmt in _MAGIC.items() if head.startswith(magic)), None)


def check_image_file(path, formats: Iterable[str] = ("JPEG", "PNG", "GIF", "BMP"),
                     full: bool = False) -> str | None:
    """Why ``path`` is not a usable image, or None when it is.

    Cheap by default (magic bytes, end marker, header parse), so a whole
    dataset can be checked before TensorFlow would crash on a bad file;
    ``full=True`` also decodes every pixel.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
        with open(path, "rb") as f:
            head = f.read(16)
            f.seek(max(0, size - 2048))
            tail = f.read()
    except OSError as error:
        return "file not found" if isinstance(error, FileNotFoundError) else f"cannot open it: {error}"
    if size == 0:
        return "empty file, 0 bytes"
    fmt = _sniff(head)
    if fmt is None or fmt not in tuple(formats):
        found = f"a {fmt} image" if fmt else f"not an image (starts with {head[:8]!r})"
        return f"expected {'/'.join(formats)} but the file is {found}"
    # A JPEG ends with FFD9 and a PNG with an IEND chunk: missing means cut short.
    if (fmt == "JPEG" and b"\xff\xd9" not in tail) or (fmt == "PNG" and b"IEND" not in tail):
        return f"truncated {fmt}: the end-of-image marker is missing"
    try:
        with Image.open(path) as image:
            image.verify()
        if full:
            with Image.open(path) as image:
                image.load()
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        return f"corrupt {fmt}: {error}"
    return None


def _to_rgb(image: Image.Image) -> Image.Image:
    """Any PIL mode -> RGB; transparent pixels are composited on white."""
    if image.mode == "P" and "transparency" in image.info:
        image = image.convert("RGBA")
    if image.mode in ("RGBA", "LA", "PA"):
        image = image.convert("RGBA")
        white = Image.new("RGBA", image.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, image).convert("RGB")
    return image.convert("RGB")


def read_image(path, size: tuple[int, int] | None = None) -> np.ndarray:
    """Read one image as float32 RGB in [0, 1], shape (H, W, 3).

    Greyscale and palette images become RGB; RGBA is composited on white.
    ``size=(height, width)`` stretches the image to that size (bilinear, no
    cropping). Raises :class:`ImageFileError` if the file cannot be decoded.
    """
    path = Path(path)
    if not path.is_file():
        raise ImageFileError(path, "file not found" if not path.exists() else "not a file")
    try:
        with Image.open(path) as image:
            image = _to_rgb(image)
            if size is not None:
                height, width = size
                image = image.resize((int(width), int(height)), Image.BILINEAR)
            pixels = np.asarray(image, dtype=np.float32)
    except UnidentifiedImageError:
        reason = "empty file, 0 bytes" if path.stat().st_size == 0 else "not an image file"
        raise ImageFileError(path, reason) from None
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError) as error:
        raise ImageFileError(path, f"corrupt or truncated image: {error}") from None
    return pixels / 255.0


def load_images(paths: Sequence, size: tuple[int, int] | None, on_error: str = "skip"):
    """Read many images into one float32 array ``(N, height, width, 3)``.

    Returns ``(array, kept_paths)``. With ``on_error="skip"`` unreadable files
    are left out and reported in one warning; ``"raise"`` raises the first
    :class:`ImageFileError`. ``size=None`` needs all images to share a size.
    """
    if on_error not in ("skip", "raise"):
        raise ValueError(f"on_error must be 'skip' or 'raise', not {on_error!r}")
    paths = [Path(p) for p in paths]

    def attempt(path):
        try:
            return read_image(path, size)
        except ImageFileError as error:
            if on_error == "raise":
                raise
            return error

    # PIL releases the GIL while decoding, so threads give a real speed-up.
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) + 2)) as pool:
        results = list(pool.map(attempt, paths))
    kept = [(p, r) for p, r in zip(paths, results) if not isinstance(r, ImageFileError)]
    _warn_skipped([(e.path, e.reason) for e in results if isinstance(e, ImageFileError)], len(paths))
    if not kept:
        shape = (0, *size, 3) if size is not None else (0, 0, 0, 3)
        return np.zeros(shape, np.float32), []
    try:
        array = np.stack([r for _, r in kept])
    except ValueError:
        raise ValueError("Images have different sizes: pass size=(height, width).") from None
    return array, [p for p, _ in kept]


# --------------------------------------------------------------------------- subsets and splits


def _balanced_indices(labels: np.ndarray, limit: int | None, n_classes: int) -> np.ndarray:
    """The first ``limit // n_classes`` indices of each class (all when limit is None)."""
    if limit is None:
        return np.arange(len(labels))
    if limit < n_classes:
        raise ValueError(f"limit={limit} is smaller than the number of classes ({n_classes}).")
    per_class = limit // n_classes
    return np.sort(np.concatenate([np.flatnonzero(labels == c)[:per_class] for c in range(n_classes)]))


def _stratified_split(labels: np.ndarray, fraction: float, seed: int):
    """Deterministic (train_idx, val_idx): ``fraction`` of each class, chosen with ``seed``."""
    if not 0.0 <= fraction < 1.0:
        raise ValueError(f"validation_fraction must be in [0, 1), not {fraction}")
    rng = np.random.default_rng(seed)
    train, val = [], []
    for c in np.unique(labels):
        idx = rng.permutation(np.flatnonzero(labels == c))
        n_val = 0 if fraction == 0 else min(len(idx) - 1, max(1, round(len(idx) * fraction)))
        val.extend(idx[:n_val])
        train.extend(idx[n_val:])
    return np.sort(np.array(train, dtype=int)), np.sort(np.array(val, dtype=int))


def _load_arrays(paths: list[Path], labels: np.ndarray, image_size, limit, n_classes):
    """Balanced subset -> images in a fixed shuffled order (so Keras' validation_split sees every class)."""
    chosen = _balanced_indices(labels, limit, n_classes)
    order = chosen[np.random.default_rng(0).permutation(len(chosen))]
    label_of = {paths[i]: labels[i] for i in order}
    x, kept = load_images([paths[i] for i in order], image_size)
    return x, np.array([label_of[p] for p in kept], dtype=np.int64)


# --------------------------------------------------------------------------- tf.data


def _tf():
    import tensorflow as tf

    return tf


def make_image_dataset(paths: Sequence, labels: Sequence[int], image_size=(64, 64), batch_size: int = 32,
                       shuffle: bool = True, seed: int = 42, cache: bool | str = True,
                       augment: Callable | None = None, crop: float | None = None):
    """A batched ``tf.data.Dataset`` of (float32 images in [0, 1], int32 labels).

    Files are checked up-front (see :func:`check_image_file`) and bad ones are
    skipped with one warning. Then: read -> decode -> resize (bilinear,
    stretched) -> scale -> cache (in memory; a str caches to that file) ->
    shuffle -> batch -> ``augment`` (a callable on image batches, if given) ->
    prefetch.

    ``crop`` (training only) caches the photos at full size instead and, each
    time a photo is read, resizes a random crop of it: each side keeps a random
    fraction between ``crop`` and 1 of the photo's, at a random place. Unlike
    zooming into the small image, the crop keeps the detail of the original.
    """
    tf = _tf()
    if crop is not None and not 0 < crop <= 1:
        raise ValueError(f"crop is the smallest fraction of each side to keep, in (0, 1]; got {crop!r}")
    paths, labels = [Path(p) for p in paths], np.asarray(labels)
    problems = [check_image_file(p) for p in paths]
    _warn_skipped([(p, r) for p, r in zip(paths, problems) if r], len(paths))
    keep = [i for i, r in enumerate(problems) if r is None]
    if not keep:
        raise ValueError(f"No readable images among the {len(paths)} files given.")
    height, width = image_size
    autotune = tf.data.AUTOTUNE

    def resize(image):
        # antialias: downscales like PIL's bilinear in read_image, so both loaders agree
        image = tf.image.resize(tf.cast(image, tf.float32), (height, width), antialias=True)
        return tf.clip_by_value(image / 255.0, 0.0, 1.0)

    def decode(path, label):
        image = tf.io.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)
        return (image if crop else resize(image)), label

    def random_crop(example, seed_pair):
        image, label = example
        side_seed, place_seed = tf.unstack(tf.random.split(seed_pair, 2))
        side = tf.random.stateless_uniform([], side_seed, crop, 1.0)
        size = tf.maximum(1, tf.cast(tf.cast(tf.shape(image)[:2], tf.float32) * side, tf.int32))
        return resize(tf.image.stateless_random_crop(image, tf.concat([size, [3]], axis=0), place_seed)), label

    ds = tf.data.Dataset.from_tensor_slices(
        ([str(paths[i]) for i in keep], labels[keep].astype(np.int32)))
    ds = ds.map(decode, num_parallel_calls=autotune)
    ds = ds.ignore_errors(log_warning=True)  # safety net for a file that passed the checks
    if cache:
        ds = ds.cache(cache if isinstance(cache, str) else "")
    if shuffle:
        ds = ds.shuffle(len(keep), seed=seed, reshuffle_each_iteration=True)
    if crop:
        # seeds from a dataset that draws new ones every pass: with a global seed set, a plain
        # tf.random op in map() would repeat the same sequence each epoch
        seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).batch(2)
        ds = tf.data.Dataset.zip(ds, seeds).map(random_crop, num_parallel_calls=autotune)
    ds = ds.batch(batch_size)
    if augment is not None:
        ds = ds.map(lambda x, y: (augment(x), y), num_parallel_calls=autotune)
    return ds.prefetch(autotune)


def _labelled_dataset(paths, labels, n_classes, *, image_size, batch_size, shuffle, limit,
                      validation_fraction, subset, seed, cache, augment, crop=None):
    """limit -> stratified split -> make_image_dataset: shared by every folder dataset."""
    if subset not in ("training", "validation"):
        raise ValueError(f"subset must be 'training' or 'validation', not {subset!r}")
    if subset == "validation" and not validation_fraction:
        raise ValueError("subset='validation' needs validation_fraction > 0.")
    chosen = _balanced_indices(labels, limit, n_classes)
    train, val = _stratified_split(labels[chosen], validation_fraction, seed)
    picked = chosen[train if subset == "training" else val]
    return make_image_dataset([paths[i] for i in picked], labels[picked], image_size, batch_size,
                              shuffle, seed, cache, augment, crop)


# --------------------------------------------------------------------------- cats vs dogs


def _check_split(split: str, allowed: tuple[str, ...]) -> None:
    if split not in allowed:
        raise ValueError(f"split must be one of {allowed}, not {split!r}")


def cats_vs_dogs_files(split: str = "train", data_dir=None) -> tuple[list[Path], np.ndarray]:
    """Paths of ``cats_vs_dogs/<split>/{cat,dog}.N.jpg`` sorted by class then N, and labels (0 cat, 1 dog)."""
    _check_split(split, ("train", "test"))
    root = _root(data_dir)
    folder = root / "cats_vs_dogs" / split
    found, ignored = [], []
    for path in _list_folder(folder, "cats_vs_dogs", root):
        match = _CATS_VS_DOGS_NAME.fullmatch(path.name)
        if match:
            found.append((CATS_VS_DOGS_CLASSES.index(match[1].lower()), int(match[2]), path))
        else:
            ignored.append(path)
    _warn_ignored(ignored, folder, "cat.N.jpg / dog.N.jpg")
    if not found:
        raise _missing_data("cats_vs_dogs", root, f"the folder {folder} has no cat.N.jpg / dog.N.jpg files")
    found.sort()
    return [p for _, _, p in found], np.array([c for c, _, _ in found], dtype=np.int64)


def load_cats_vs_dogs(split: str = "train", image_size=(64, 64), limit: int | None = None, data_dir=None):
    """``(x, y)``: float32 images (N, h, w, 3) in [0, 1] and int64 labels (0 cat, 1 dog).

    ``limit`` keeps a balanced subset: the ``limit // 2`` lowest-numbered
    photos of each class. Rows come in a fixed shuffled order.
    """
    paths, labels = cats_vs_dogs_files(split, data_dir)
    return _load_arrays(paths, labels, image_size, limit, len(CATS_VS_DOGS_CLASSES))


def cats_vs_dogs_dataset(split: str = "train", image_size=(64, 64), batch_size: int = 32, shuffle: bool = True,
                         limit: int | None = None, validation_fraction: float = 0.0, subset: str = "training",
                         seed: int = 42, data_dir=None, cache: bool | str = True, augment: Callable | None = None,
                         crop: float | None = None):
    """A ``tf.data.Dataset`` of cats vs dogs batches; see :func:`make_image_dataset` (``augment``, ``crop``).

    ``limit`` keeps a balanced subset (``limit // 2`` per class, both subsets
    together). ``validation_fraction`` holds out that share of each class
    (chosen with ``seed``, before any shuffling); ask for it with
    ``subset="validation"`` and the same ``seed``: the subsets never overlap.
    """
    paths, labels = cats_vs_dogs_files(split, data_dir)
    return _labelled_dataset(paths, labels, len(CATS_VS_DOGS_CLASSES), image_size=image_size,
                             batch_size=batch_size, shuffle=shuffle, limit=limit,
                             validation_fraction=validation_fraction, subset=subset, seed=seed,
                             cache=cache, augment=augment, crop=crop)


# --------------------------------------------------------------------------- folder-per-class sets


def _class_folder_files(folder: Path, dataset: str, root: Path, classes: Sequence[str]):
    """Image files of ``folder/<class>/`` for each class (label = index in ``classes``)."""
    paths, labels, ignored = [], [], []
    for label, name in enumerate(classes):
        for path in _list_folder(folder / name, dataset, root):
            if path.suffix.lower() in IMAGE_SUFFIXES:
                paths.append(path)
                labels.append(label)
            else:
                ignored.append(path)
    _warn_ignored(ignored, folder, "an image (" + ", ".join(IMAGE_SUFFIXES) + ")")
    return paths, np.array(labels, dtype=np.int64)


def flowers_files(data_dir=None) -> tuple[list[Path], np.ndarray]:
    """Paths under ``flowers/<class>/`` and labels (index in :data:`FLOWER_CLASSES`)."""
    root = _root(data_dir)
    folder = root / "flowers"
    extra = sorted(p.name for p in _list_folder(folder, "flowers", root, dirs=True)
                   if p.name not in FLOWER_CLASSES)
    if extra:
        _warn(f"Ignored folders in {folder} that are not flower classes {FLOWER_CLASSES}: {', '.join(extra)}.")
    return _class_folder_files(folder, "flowers", root, FLOWER_CLASSES)


def load_flowers(image_size=(128, 128), limit: int | None = None, data_dir=None):
    """``(x, y)`` for the five flower classes; ``limit`` keeps ``limit // 5`` per class."""
    paths, labels = flowers_files(data_dir)
    return _load_arrays(paths, labels, image_size, limit, len(FLOWER_CLASSES))


def flowers_dataset(image_size=(128, 128), batch_size: int = 32, shuffle: bool = True,
                    limit: int | None = None, validation_fraction: float = 0.0, subset: str = "training",
                    seed: int = 42, data_dir=None, cache: bool | str = True, augment: Callable | None = None):
    """A ``tf.data.Dataset`` of flower batches (same options as :func:`cats_vs_dogs_dataset`)."""
    paths, labels = flowers_files(data_dir)
    return _labelled_dataset(paths, labels, len(FLOWER_CLASSES), image_size=image_size,
                             batch_size=batch_size, shuffle=shuffle, limit=limit,
                             validation_fraction=validation_fraction, subset=subset, seed=seed,
                             cache=cache, augment=augment)


def _classes_mismatch(path: Path, lines: list[str], expected: list[str]) -> ValueError:
    differences = [f"line {i + 1} is {got!r}, expected {want!r}"
                   for i, (got, want) in enumerate(zip(lines, expected)) if got != want]
    differences += [f"line {i + 1} ({got!r}) is extra" for i, got in enumerate(lines) if i >= len(expected)]
    differences += [f"line {i + 1} ({want!r}) is missing" for i, want in enumerate(expected) if i >= len(lines)]
    return ValueError(
        f"{path} does not match the course's Imagenette classes (course_utils.datasets.IMAGENETTE_WNIDS): "
        f"{short_list(differences)}. The loaders label photos in the catalogue's order (data.IMAGENETTE_CLASSES), "
        "so this folder may hold another version of the dataset. If its <wnid> folders are the course's, "
        "replace the file with the course's version: "
        f"Path({str(path)!r}).write_text(course_utils.datasets.imagenette_classes_text()).")


def imagenette_classes(data_dir=None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``(wnids, names)`` from ``imagenette/CLASSES.txt`` (one "wnid name" per line, in label order).

    The file must list the catalogue's :data:`IMAGENETTE_WNIDS` in that order
    (blank lines and extra spaces aside); one that lists other classes, or the
    same ones in another order, raises :class:`ValueError` saying which lines differ.
    """
    root = _root(data_dir)
    path = _require_file(root / "imagenette" / IMAGENETTE_CLASSES_FILE, "imagenette", root)
    lines = [" ".join(line.split()) for line in path.read_text().splitlines() if line.strip()]
    expected = imagenette_classes_text().splitlines()
    if lines != expected:
        raise _classes_mismatch(path, lines, expected)
    return tuple(IMAGENETTE_WNIDS), IMAGENETTE_CLASSES


def imagenette_files(split: str = "train", data_dir=None) -> tuple[list[Path], np.ndarray]:
    """Paths under ``imagenette/<split>/<wnid>/`` and labels (index in :data:`IMAGENETTE_WNIDS`)."""
    _check_split(split, ("train", "val"))
    root = _root(data_dir)
    wnids, _ = imagenette_classes(root)
    return _class_folder_files(root / "imagenette" / split, "imagenette", root, wnids)


def load_imagenette(split: str = "train", image_size=(128, 128), limit: int | None = None, data_dir=None):
    """``(x, y)`` for Imagenette (greyscale photos become RGB); ``limit`` keeps ``limit // 10`` per class."""
    paths, labels = imagenette_files(split, data_dir)
    return _load_arrays(paths, labels, image_size, limit, len(IMAGENETTE_WNIDS))


def imagenette_dataset(split: str = "train", image_size=(128, 128), batch_size: int = 32, shuffle: bool = True,
                       limit: int | None = None, validation_fraction: float = 0.0, subset: str = "training",
                       seed: int = 42, data_dir=None, cache: bool | str = True, augment: Callable | None = None):
    """A ``tf.data.Dataset`` of Imagenette batches (same options as :func:`cats_vs_dogs_dataset`)."""
    paths, labels = imagenette_files(split, data_dir)
    return _labelled_dataset(paths, labels, len(IMAGENETTE_WNIDS), image_size=image_size,
                             batch_size=batch_size, shuffle=shuffle, limit=limit,
                             validation_fraction=validation_fraction, subset=subset, seed=seed,
                             cache=cache, augment=augment)


# --------------------------------------------------------------------------- MNIST-like sets


def load_mnist(data_dir=None):
    """``((x_train, y_train), (x_test, y_test))`` from ``mnist/mnist.npz`` (uint8, 28x28).

    Read with NumPy: Keras' own loader checks a hash and would try to download.
    """
    root = _root(data_dir)
    path = _require_file(root / "mnist" / "mnist.npz", "mnist", root)
    with np.load(path, allow_pickle=False) as f:
        return (f["x_train"], f["y_train"]), (f["x_test"], f["y_test"])


def load_fashion_mnist(data_dir=None):
    """``((x_train, y_train), (x_test, y_test))`` through ``keras.datasets.fashion_mnist``, offline.

    The four local ``.gz`` files are first copied (via ``file:`` URLs) to
    where Keras looks for them, ``$KERAS_HOME/datasets/fashion-mnist/``; Keras
    skips files already there and checks no hash for this dataset.
    """
    root = _root(data_dir)
    folder = root / "fashion_mnist"
    for name in FASHION_MNIST_FILES:
        _require_file(folder / name, "fashion_mnist", root)
    import keras

    for name in FASHION_MNIST_FILES:
        keras.utils.get_file(name, origin=(folder / name).resolve().as_uri(),
                             cache_subdir=os.path.join("datasets", "fashion-mnist"))
    return keras.datasets.fashion_mnist.load_data()


# --------------------------------------------------------------------------- photos for demos


def _sample_photos(data_dir=None) -> dict[str, Path]:
    root = _root(data_dir)
    files = _list_folder(root / "sample_images", "sample_images", root)
    return {p.stem: p for p in files if p.suffix.lower() in IMAGE_SUFFIXES}


def sample_photo_names(data_dir=None) -> list[str]:
    """Names (file stems) of the photos in ``sample_images/``, e.g. ``"dog"``."""
    return sorted(_sample_photos(data_dir))


def load_sample_photo(name: str, size: tuple[int, int] | None = None, data_dir=None) -> np.ndarray:
    """One photo of ``sample_images/`` by name (``"dog"`` or ``"dog.png"``) as float32 RGB."""
    photos = _sample_photos(data_dir)
    stem = Path(name).stem
    if stem not in photos:
        raise ValueError(f"No sample photo named {name!r}; choose one of {sorted(photos)}.")
    return read_image(photos[stem], size)


def load_sklearn_samples() -> np.ndarray:
    """scikit-learn's china.jpg and flower.jpg: float32 (2, 427, 640, 3) in [0, 1]."""
    from sklearn.datasets import load_sample_images

    return np.stack(load_sample_images().images).astype(np.float32) / 255.0


def _read_mask(path: Path, size) -> np.ndarray:
    try:
        with Image.open(path) as mask:
            if mask.mode not in ("P", "L"):
                raise ImageFileError(path, f"a mask must be a palette or greyscale PNG, not mode {mask.mode}")
            if size is not None:
                mask = mask.resize((size[1], size[0]), Image.NEAREST)  # nearest keeps class values
            return np.asarray(mask, dtype=np.uint8)
    except (OSError, SyntaxError, ValueError) as error:
        if isinstance(error, ImageFileError):
            raise
        raise ImageFileError(path, f"corrupt mask: {error}") from None


def _pet_label(name: str, mask: np.ndarray) -> str:
    cats, dogs = (np.count_nonzero(mask == PETS_MASK_VALUES[label]) for label in ("cat", "dog"))
    if cats or dogs:
        return "cat" if cats >= dogs else "dog"
    return "cat" if name[:1].isupper() else "dog"  # Oxford-IIIT naming: cat breeds are capitalised


def load_pets_cam(size: tuple[int, int] | None = None, data_dir=None, limit: int | None = None) -> list[dict]:
    """Oxford-IIIT Pet photos with masks, for checking where a class activation map lands.

    Returns a list of ``{"name", "image" (float32 RGB), "mask" (uint8: 0
    background, 1 cat, 2 dog, 255 boundary), "label" ("cat"/"dog")}``. The
    mask is ``masks/<stem>.png``; ``size=(h, w)`` resizes both (mask: nearest).
    Photos without a readable mask are skipped with a warning. ``limit``: that
    many photos, spread evenly over the sorted names (cat breeds come first).
    """
    root = _root(data_dir)
    images = _list_folder(root / "pets_cam" / "images", "pets_cam", root)
    if limit is not None and limit < len(images):
        images = [images[i] for i in np.linspace(0, len(images) - 1, limit).round().astype(int)]
    masks = {p.stem: p for p in _list_folder(root / "pets_cam" / "masks", "pets_cam", root)}
    samples, bad = [], []
    for path in images:
        try:
            if path.stem not in masks:
                raise ImageFileError(root / "pets_cam" / "masks" / f"{path.stem}.png",
                                     f"no mask for {path.name}")
            mask = _read_mask(masks[path.stem], size)
            image = read_image(path, size)
        except ImageFileError as error:
            bad.append((error.path, error.reason))
            continue
        if mask.shape != image.shape[:2]:
            bad.append((path, f"its mask {masks[path.stem].name} is {mask.shape[0]}x{mask.shape[1]} but the photo "
                              f"{path.name} is {image.shape[0]}x{image.shape[1]}"))
            continue
        samples.append({"name": path.stem, "image": image, "mask": mask, "label": _pet_label(path.stem, mask)})
    _warn_skipped(bad, len(images))
    return samples
