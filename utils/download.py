"""Download the course datasets into the course layout, for users who are online.

The course runs offline from a shared copy of the data (see
:mod:`course_utils.settings`); this module is how anyone else gets the same
folders. ``fetch(name)`` downloads the original public files into
``cache_dir()/downloads`` (a ``.part`` file renamed into place when complete, so
an interrupted download resumes where the server allows it), checks their
sha256, unpacks archives while rejecting members that would land outside the
target folder, lays the files out as :mod:`course_utils.data` expects, leaves out
images that cannot be decoded (with one warning that counts them) and writes a
marker file so that calling it again does nothing.

URLs can be overridden, for a mirror or a test server:

* ``fetch(name, url=...)``: the file's URL (for a dataset of several files, a
  base URL to which each file name is appended);
* ``COURSE_URL_<NAME>`` (e.g. ``COURSE_URL_CATS_VS_DOGS``): the same, per dataset;
* ``COURSE_DOWNLOAD_MIRROR``: a base URL that serves every file by its name.

The recorded checksum still applies to an overridden URL unless ``sha256=``
says otherwise (``sha256=None`` skips the check).
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.request
import warnings
import zipfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Callable, Mapping

from . import settings
from .data import (FASHION_MNIST_FILES, FLOWER_CLASSES, IMAGENETTE_WNIDS, _is_metadata, _names,
                   check_image_file)

MIRROR_ENV = "COURSE_DOWNLOAD_MIRROR"
MARKER_NAME = ".course-download.json"
TIMEOUT_SECONDS = 60
_CHUNK = 1 << 20
_RECORDED = object()  # default of fetch(sha256=...): use the checksum in the registry
# PetImages photos numbered from here on go to test/ (500 per class, as in the shared copy).
PETIMAGES_TEST_FROM = 12000


class DownloadError(RuntimeError):
    """A download, checksum or archive problem; the message says what to do."""


class ChecksumError(DownloadError):
    """The downloaded file's sha256 is not the expected one (the file is deleted)."""


class UnsafeArchiveError(DownloadError):
    """An archive member would be written outside the target folder."""


@dataclass(frozen=True)
class Source:
    """One file to download: its public URL, sha256 (None if unknown) and size in bytes."""

    url: str
    sha256: str | None
    size: int | None = None

    @property
    def filename(self) -> str:
        return PurePosixPath(self.url.split("?")[0]).name


# A layout function moves the downloaded/unpacked files into the course folder
# and returns the (file, reason) pairs it left out. Its inputs are the unpacked
# archive folder, or the downloaded files themselves when there is no archive.
Layout = Callable[[list[Path], Path], list[tuple[Path, str]]]


@dataclass(frozen=True)
class DatasetRecord:
    """How to get one dataset: where from, how to unpack it, how to lay it out."""

    name: str
    sources: tuple[Source, ...]
    archive: str  # "zip", "tar" (any compression) or "none"
    layout: Layout
    required: tuple[str, ...]  # paths inside the folder that show it is present
    homepage: str
    licence: str
    note: str = ""

    @property
    def url_env(self) -> str:
        return f"COURSE_URL_{self.name.upper()}"


# --------------------------------------------------------------------------- layouts


def _check_many(paths: list[Path], formats: tuple[str, ...]) -> list[str | None]:
    # Full decodes of thousands of photos: threads overlap PIL's GIL-free work.
    with ThreadPoolExecutor(max_workers=min(8, (os.cpu_count() or 1) + 2)) as pool:
        return list(pool.map(lambda p: check_image_file(p, formats, full=True), paths))


def _place_images(moves: list[tuple[Path, Path]], formats=("JPEG",)) -> list[tuple[Path, str]]:
    """Move each (src, dst) whose src decodes as an image; return the ones left out."""
    skipped = []
    for (src, dst), problem in zip(moves, _check_many([s for s, _ in moves], formats)):
        if problem:
            skipped.append((src, problem))
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(src, dst)
    return skipped


def _find_dir(inputs: list[Path], name: str) -> Path:
    """The folder called ``name`` at the top of the unpacked archive (or one level down)."""
    for root in inputs:
        for candidate in [root / name, *root.glob(f"*/{name}")]:
            if candidate.is_dir():
                return candidate
    raise DownloadError(f"The archive has no `{name}` folder: it is not the expected file. "
                        "Check the URL (or the mirror) and try again.")


def _layout_petimages(inputs: list[Path], dst: Path) -> list[tuple[Path, str]]:
    """``PetImages/Cat/N.jpg`` -> ``train|test/cat.N.jpg``; N >= PETIMAGES_TEST_FROM goes to test."""
    base = _find_dir(inputs, "PetImages")
    moves, skipped = [], []
    for label, folder in (("cat", "Cat"), ("dog", "Dog")):
        for path in sorted((base / folder).iterdir()) if (base / folder).is_dir() else []:
            if path.name == "Thumbs.db" or not path.is_file():
                continue  # Windows thumbnail cache shipped in the archive
            match = re.fullmatch(r"(\d+)\.jpg", path.name, re.IGNORECASE)
            if not match:
                skipped.append((path, "not named N.jpg"))
                continue
            number = int(match[1])
            split = "test" if number >= PETIMAGES_TEST_FROM else "train"
            moves.append((path, dst / split / f"{label}.{number}.jpg"))
    if not moves:
        raise DownloadError(f"{base} has no Cat/N.jpg or Dog/N.jpg photos: not the PetImages archive.")
    return skipped + _place_images(moves)


# flower_photos.tgz names some class folders in the plural.
_FLOWER_FOLDERS = {"roses": "rose", "sunflowers": "sunflower", "tulips": "tulip",
                   **{name: name for name in FLOWER_CLASSES}}


def _layout_flowers(inputs: list[Path], dst: Path) -> list[tuple[Path, str]]:
    """``flower_photos/<class>/*.jpg`` -> ``flowers/<singular class>/``, keeping LICENSE.txt (attributions)."""
    base = _find_dir(inputs, "flower_photos")
    moves = [(path, dst / _FLOWER_FOLDERS[folder.name] / path.name)
             for folder in sorted(base.iterdir()) if folder.name in _FLOWER_FOLDERS
             for path in sorted(folder.iterdir()) if path.is_file()]
    if (base / "LICENSE.txt").is_file():
        shutil.move(base / "LICENSE.txt", dst / "LICENSE.txt")
    return _place_images(moves)


def _layout_imagenette(inputs: list[Path], dst: Path) -> list[tuple[Path, str]]:
    """``imagenette2-160/{train,val}/<wnid>/`` -> ``imagenette/{train,val}/<wnid>/`` plus CLASSES.txt."""
    base = _find_dir(inputs, "imagenette2-160")
    moves = [(path, dst / split / wnid / path.name)
             for split in ("train", "val") for wnid in IMAGENETTE_WNIDS
             for path in sorted((base / split / wnid).glob("*")) if path.is_file()]
    (dst / "CLASSES.txt").write_text("".join(f"{w} {n}\n" for w, n in IMAGENETTE_WNIDS.items()))
    return _place_images(moves)


def _layout_copy(inputs: list[Path], dst: Path) -> list[tuple[Path, str]]:
    """Plain files: copy them in (the download cache keeps its copy)."""
    for path in inputs:
        shutil.copy2(path, dst / path.name)
    return []


# --------------------------------------------------------------------------- registry

_FASHION_SHA256 = {  # from tensorflow_datasets' url_checksums/fashion_mnist.txt
    "train-images-idx3-ubyte.gz": ("3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84", 26421880),
    "train-labels-idx1-ubyte.gz": ("a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845", 29515),
    "t10k-images-idx3-ubyte.gz": ("346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073", 4422102),
    "t10k-labels-idx1-ubyte.gz": ("67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5", 5148),
}
_SAMPLE_PHOTOS = ("bmw.png", "boat.png", "dog.png", "jemma.png", "office.png", "scotch.png",
                  "soccer_ball.jpg", "tv.png")

DATASETS: dict[str, DatasetRecord] = {record.name: record for record in [
    DatasetRecord(
        name="cats_vs_dogs",
        sources=(Source("https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
                        "kagglecatsanddogs_5340.zip",
                        # sha256 and size as recorded by Hugging Face datasets' cats_vs_dogs checksums
                        "b7974bd00a84a99921f36ee4403f089853777b5ae8d151c76a86e64900334af9", 824887076),),
        archive="zip", layout=_layout_petimages, required=("train", "test"),
        homepage="https://www.microsoft.com/en-us/download/details.aspx?id=54765",
        licence="Microsoft Research release of the Asirra photos; see the licence file in the archive",
        note=("The full set: 12,500 photos per class at their original sizes (the shared copy has "
              "3,001 + 500 per class at 200x200). Photos numbered 12000 and up form test/.")),
    DatasetRecord(
        name="flowers",
        sources=(Source("https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
                        # sha256 and size from tensorflow_datasets' url_checksums/tf_flowers.txt
                        "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c", 228813984),),
        archive="tar", layout=_layout_flowers, required=FLOWER_CLASSES,
        homepage="https://www.tensorflow.org/datasets/catalog/tf_flowers",
        licence="CC-BY, per photo (Flickr); attributions in flowers/LICENSE.txt",
        note=("TensorFlow's flower_photos (3,670 photos, original sizes), the same five classes and "
              "Flickr source as the shared copy (Kaggle flowers-recognition, 4,317 photos at 128x128).")),
    DatasetRecord(
        name="mnist",
        sources=(Source("https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
                        # the hash keras.datasets.mnist.load_data() checks (keras 3.15 source)
                        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),),
        archive="none", layout=_layout_copy, required=("mnist.npz",),
        homepage="https://yann.lecun.com/exdb/mnist/", licence="CC BY-SA 3.0"),
    DatasetRecord(
        name="fashion_mnist",
        sources=tuple(Source(f"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{name}",
                             *_FASHION_SHA256[name]) for name in FASHION_MNIST_FILES),
        archive="none", layout=_layout_copy, required=FASHION_MNIST_FILES,
        homepage="https://github.com/zalandoresearch/fashion-mnist", licence="MIT"),
    DatasetRecord(
        name="imagenette",
        sources=(Source("https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz",
                        # sha256 and size from tensorflow_datasets' url_checksums/imagenette.txt
                        "88daccb09b6fce93f45e6c09ddeb269cce705549e6bff322092a2a5a11489863", 98948031),),
        archive="tar", layout=_layout_imagenette, required=("CLASSES.txt", "train", "val"),
        homepage="https://github.com/fastai/imagenette",
        licence="ImageNet images: non-commercial research and education",
        note="fast.ai's imagenette2-160 (shorter side 160 px); the loaders resize anyway."),
    DatasetRecord(
        name="sample_images",
        sources=tuple(Source("https://raw.githubusercontent.com/ethen8181/machine-learning/master/"
                             f"keras/resnet_cam/images/{name}", None) for name in _SAMPLE_PHOTOS),
        archive="none", layout=_layout_copy, required=_SAMPLE_PHOTOS,
        homepage="https://github.com/ethen8181/machine-learning", licence="repository MIT; photos third-party",
        note="No published checksums: files on a branch, so they are not verified."),
]}


# --------------------------------------------------------------------------- downloading


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def download_file(url: str, dest: Path, sha256: str | None = None, force: bool = False) -> Path:
    """Download ``url`` to ``dest`` through ``dest.part`` and check its sha256.

    An existing ``dest`` with the right checksum is reused without a request.
    A left-over ``.part`` is resumed with an HTTP Range request when the server
    supports it (else downloaded again). A checksum mismatch deletes the file
    and raises :class:`ChecksumError`.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_file() and not force:
        if sha256 is None or _sha256(dest) == sha256:
            return dest
        dest.unlink()  # stale or damaged: fetch it again
    part = dest.with_name(dest.name + ".part")
    if force:
        part.unlink(missing_ok=True)
    offset = part.stat().st_size if part.exists() else 0
    headers = {"User-Agent": "convnet-course-downloader"}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    _say(f"Downloading {url}" + (f" (resuming at {offset:,} bytes)" if offset else ""))
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers),
                                    timeout=TIMEOUT_SECONDS) as response:
            resumed = bool(offset) and getattr(response, "status", None) == 206
            length = response.headers.get("Content-Length")
            expected = int(length) if length else None
            written = _copy_stream(response, part, "ab" if resumed else "wb", expected)
    except urllib.error.HTTPError as error:
        if error.code == 416 and offset:  # nothing left to fetch: the .part is complete
            expected, written = None, 0
        else:
            raise DownloadError(f"Downloading {url} failed: HTTP {error.code} {error.reason}. "
                                f"Check the URL, or set {MIRROR_ENV} to a mirror.") from None
    except (urllib.error.URLError, OSError) as error:
        raise DownloadError(f"Downloading {url} failed: {getattr(error, 'reason', error)}. "
                            f"Check your connection and run again: the partial file {part} "
                            "is kept so the download can resume.") from None
    if expected is not None and written < expected:
        raise DownloadError(f"Downloading {url} stopped after {written:,} of {expected:,} bytes. "
                            "Run again to resume.")
    actual = _sha256(part)
    if sha256 is not None and actual != sha256.lower():
        part.unlink()
        raise ChecksumError(f"Checksum mismatch for {url}: expected sha256 {sha256}, got {actual}. "
                            "The file was deleted. Run again; if it keeps happening the file has changed "
                            "upstream or the mirror serves another file (pass sha256=None to accept it "
                            "unchecked, at your own risk).")
    os.replace(part, dest)  # atomic: dest is complete or absent
    return dest


def _copy_stream(response, part: Path, mode: str, expected: int | None) -> int:
    written, next_report, started = 0, 0.1, time.monotonic()
    with open(part, mode) as out:
        while chunk := response.read(_CHUNK):
            out.write(chunk)
            written += len(chunk)
            if expected and written / expected >= next_report and time.monotonic() - started > 2:
                _say(f"  {written / expected:4.0%} of {expected / 1e6:,.0f} MB")
                next_report += 0.1
    return written


# --------------------------------------------------------------------------- unpacking


def _safe_member(name: str, dest: Path, archive: Path) -> Path:
    """Where an archive member goes; raises UnsafeArchiveError if outside ``dest``."""
    clean = name.replace("\\", "/")
    target = (dest / clean).resolve()
    if clean.startswith("/") or re.match(r"[A-Za-z]:", clean) or ".." in PurePosixPath(clean).parts \
            or not target.is_relative_to(dest):
        raise UnsafeArchiveError(f"Refusing to unpack {archive.name}: member {name!r} would be written "
                                 f"outside {dest}. The archive is damaged or malicious; delete {archive}.")
    return target


def extract(archive: Path, dest: Path, kind: str) -> Path:
    """Unpack a zip or tar archive into ``dest``, checking every member first."""
    archive, dest = Path(archive), Path(dest).resolve()
    dest.mkdir(parents=True, exist_ok=True)
    try:
        if kind == "zip":
            with zipfile.ZipFile(archive) as zf:
                members = [(info, _safe_member(info.filename, dest, archive)) for info in zf.infolist()]
                for info, target in members:  # by hand: Windows-made zips may use backslashes
                    if info.is_dir() or info.filename.endswith("\\"):
                        target.mkdir(parents=True, exist_ok=True)
                        continue
                    target.parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, open(target, "wb") as out:
                        shutil.copyfileobj(src, out, _CHUNK)
        elif kind == "tar":
            with tarfile.open(archive, "r:*") as tf:
                members = tf.getmembers()
                for member in members:
                    _safe_member(member.name, dest, archive)
                    if not (member.isfile() or member.isdir()):
                        raise UnsafeArchiveError(f"Refusing to unpack {archive.name}: member {member.name!r} "
                                                 "is a link or device, which the course archives never contain.")
                extra = {"filter": "data"} if hasattr(tarfile, "data_filter") else {}
                tf.extractall(dest, members=members, **extra)
        else:
            raise ValueError(f"Unknown archive kind {kind!r}")
    except (zipfile.BadZipFile, tarfile.TarError, EOFError) as error:
        raise DownloadError(f"{archive} is not a valid {kind} archive ({error}). Delete it and run again.") from None
    return dest


# --------------------------------------------------------------------------- fetch / ensure


def _record(name: str) -> DatasetRecord:
    if name not in DATASETS:
        raise ValueError(f"No download for {name!r}; known datasets: {', '.join(DATASETS)}.")
    return DATASETS[name]


def _url_for(record: DatasetRecord, source: Source, url: str | None) -> str:
    override = url or os.environ.get(record.url_env)
    if override:
        return override if len(record.sources) == 1 else f"{override.rstrip('/')}/{source.filename}"
    mirror = os.environ.get(MIRROR_ENV)
    return f"{mirror.rstrip('/')}/{source.filename}" if mirror else source.url


def _expected_sha256(record: DatasetRecord, source: Source, sha256) -> str | None:
    if sha256 is _RECORDED:
        return source.sha256
    if sha256 is None:
        return None
    if isinstance(sha256, Mapping):
        return sha256.get(source.filename)
    if len(record.sources) > 1:
        raise ValueError(f"{record.name} has several files: pass sha256 as {{file name: sha256}}.")
    return str(sha256).lower()


def _is_present(folder: Path, record: DatasetRecord) -> bool:
    def present(path: Path) -> bool:
        return path.is_file() or (path.is_dir() and any(path.iterdir()))

    return (folder / MARKER_NAME).is_file() or all(present(folder / p) for p in record.required)


def fetch(name: str, data_dir=None, url: str | None = None, sha256=_RECORDED, force: bool = False) -> Path:
    """Download dataset ``name`` into ``<data_dir>/<name>`` in the course layout; return that folder.

    Does nothing when the folder already holds a completed fetch (its marker
    file). ``force=True`` downloads again and replaces the folder. Images that
    cannot be decoded are left out, with one warning counting them.
    """
    record = _record(name)
    root = Path(data_dir).expanduser() if data_dir is not None else settings.data_dir()
    target = root / name
    if (target / MARKER_NAME).is_file() and not force:
        return target
    if target.is_dir() and any(target.iterdir()) and not force:
        raise FileExistsError(f"{target} already holds files that fetch() did not put there. Use them as "
                              f"they are (course_utils.data reads them), or call fetch({name!r}, force=True) "
                              "to replace the folder.")
    downloads = settings.cache_dir() / "downloads"
    urls = [_url_for(record, s, url) for s in record.sources]
    files = [download_file(u, downloads / s.filename, _expected_sha256(record, s, sha256), force)
             for u, s in zip(urls, record.sources)]
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))  # same disk as target: atomic rename
    try:
        inputs = files if record.archive == "none" else [extract(f, staging / "unpacked", record.archive)
                                                          for f in files]
        out = staging / name
        out.mkdir()
        skipped = record.layout(inputs, out)
        kept = sum(1 for p in out.rglob("*") if p.is_file() and not _is_metadata(p))
        (out / MARKER_NAME).write_text(json.dumps(
            {"dataset": name, "urls": urls, "files": kept, "skipped": len(skipped),
             "fetched": time.strftime("%Y-%m-%dT%H:%M:%S")}, indent=1))
        if target.exists():
            shutil.rmtree(target)
        os.replace(out, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    if skipped:
        warnings.warn(f"fetch({name!r}) left out {len(skipped)} of {kept + len(skipped)} files that are not "
                      f"valid images: {_names([f'{p.parent.name}/{p.name} ({why})' for p, why in skipped])}.",
                      UserWarning, stacklevel=2)
    _say(f"{name}: {kept} files in {target}")
    return target


def ensure(name: str, data_dir=None) -> Path:
    """The folder of dataset ``name``: the one in ``data_dir()`` if present, else :func:`fetch` it."""
    record = _record(name)
    root = Path(data_dir).expanduser() if data_dir is not None else settings.data_dir()
    folder = root / name
    return folder if _is_present(folder, record) else fetch(name, root)
