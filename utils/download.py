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

What to download (URLs, checksums, archive kinds, the folders and files each
dataset must end up with) is the catalogue :mod:`course_utils.datasets`:
:data:`DATASETS`, :class:`DatasetRecord` and :class:`Source` live there and are
re-exported here. This module holds the network, unpacking and layout code; a
record's ``layout`` names one of the functions in :data:`LAYOUTS`. It imports
:mod:`course_utils.data` only to check images (:func:`~course_utils.data.check_image_file`)
and to word warnings (:func:`~course_utils.data.short_list`); that module never imports this one.
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
from pathlib import Path, PurePosixPath
from typing import Callable, Mapping

from . import settings
from .data import check_image_file, short_list
from .datasets import (  # DATASETS, DatasetRecord, Source: also download.<NAME>, as before
    DATASETS, FLOWER_CLASSES, IMAGENETTE_CLASSES_FILE, IMAGENETTE_WNIDS, PETIMAGES_TEST_FROM, DatasetRecord,
    Source, imagenette_classes_text, is_metadata)

MIRROR_ENV = "COURSE_DOWNLOAD_MIRROR"
MARKER_NAME = ".course-download.json"
TIMEOUT_SECONDS = 60
_CHUNK = 1 << 20
_RECORDED = object()  # default of fetch(sha256=...): use the checksum in the registry


class DownloadError(RuntimeError):
    """A download, checksum or archive problem; the message says what to do."""


class ChecksumError(DownloadError):
    """The downloaded file's sha256 is not the expected one (the file is deleted)."""


class UnsafeArchiveError(DownloadError):
    """An archive member would be written outside the target folder."""


# A layout function moves the downloaded/unpacked files into the course folder
# and returns the (file, reason) pairs it left out. Its inputs are the unpacked
# archive folder, or the downloaded files themselves when there is no archive.
Layout = Callable[[list[Path], Path], list[tuple[Path, str]]]


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
    (dst / IMAGENETTE_CLASSES_FILE).write_text(imagenette_classes_text())
    return _place_images(moves)


def _layout_copy(inputs: list[Path], dst: Path) -> list[tuple[Path, str]]:
    """Plain files: copy them in (the download cache keeps its copy)."""
    for path in inputs:
        shutil.copy2(path, dst / path.name)
    return []


# The layout function of each DatasetRecord.layout name in the catalogue.
LAYOUTS: dict[str, Layout] = {"petimages": _layout_petimages, "flowers": _layout_flowers,
                              "imagenette": _layout_imagenette, "copy": _layout_copy}


# --------------------------------------------------------------------------- downloading


def file_sha256(path: Path) -> str:
    """The sha256 of a file, read in chunks."""
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
        if sha256 is None or file_sha256(dest) == sha256:
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
    actual = file_sha256(part)
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
        skipped = LAYOUTS[record.layout](inputs, out)
        kept = sum(1 for p in out.rglob("*") if p.is_file() and not is_metadata(p))
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
                      f"valid images: {short_list([f'{p.parent.name}/{p.name} ({why})' for p, why in skipped])}.",
                      UserWarning, stacklevel=2)
    _say(f"{name}: {kept} files in {target}")
    return target


def ensure(name: str, data_dir=None) -> Path:
    """The folder of dataset ``name``: the one in ``data_dir()`` if present, else :func:`fetch` it."""
    record = _record(name)
    root = Path(data_dir).expanduser() if data_dir is not None else settings.data_dir()
    folder = root / name
    return folder if _is_present(folder, record) else fetch(name, root)
