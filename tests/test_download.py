"""Tests of course_utils.download against small stand-in archives served from 127.0.0.1 and file: URLs."""
from __future__ import annotations

import functools
import gzip
import hashlib
import http.server
import importlib.util
import io
import re
import tarfile
import threading
import warnings
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from course_utils import data, datasets, download

# fetch() warns about the bad photos planted in every stand-in archive; tests that care check it.
pytestmark = pytest.mark.filterwarnings("ignore:fetch.*left out:UserWarning")


# --------------------------------------------------------------------------- stand-in files


def jpeg_bytes(color=(200, 90, 30), size=(24, 32)) -> bytes:
    h, w = size
    pixels = np.zeros((h, w, 3), np.uint8) + np.array(color, np.uint8)
    pixels[:, : w // 2] //= 2  # two tones, so it is a real picture
    out = io.BytesIO()
    Image.fromarray(pixels).save(out, "JPEG", quality=90)
    return out.getvalue()


def png_bytes() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (8, 8), (0, 255, 0)).save(out, "PNG")
    return out.getvalue()


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_petimages_zip(path: Path) -> Path:
    """Like kagglecatsanddogs_5340.zip: 7 good photos, 3 bad ones, a Thumbs.db and a readme."""
    with zipfile.ZipFile(path, "w") as zf:
        for folder, numbers, color in (("Cat", (0, 1, 2, 12000), (220, 60, 60)), ("Dog", (0, 12001), (40, 60, 220))):
            for n in numbers:
                zf.writestr(f"PetImages/{folder}/{n}.jpg", jpeg_bytes(color))
        zf.writestr("PetImages\\Dog\\1.jpg", jpeg_bytes((40, 60, 220)))  # Windows-style separators
        zf.writestr("PetImages/Cat/3.jpg", jpeg_bytes(size=(64, 64))[:300])  # truncated
        zf.writestr("PetImages/Dog/2.jpg", b"")  # zero bytes
        zf.writestr("PetImages/Dog/5.jpg", png_bytes())  # a PNG with a .jpg name
        zf.writestr("PetImages/Dog/Thumbs.db", b"\0" * 64)
        zf.writestr("readme[1].txt", "stand-in for the Microsoft archive")
    return path


def make_flowers_tgz(path: Path) -> Path:
    """Like flower_photos.tgz: plural folder names, LICENSE.txt, one corrupt photo."""
    def add(tf, name, payload):
        info = tarfile.TarInfo(name)
        info.size = len(payload)
        tf.addfile(info, io.BytesIO(payload))

    with tarfile.open(path, "w:gz") as tf:
        for i, folder in enumerate(("daisy", "dandelion", "roses", "sunflowers", "tulips")):
            for n in range(2):
                add(tf, f"flower_photos/{folder}/{n}_{folder}.jpg", jpeg_bytes((40 * i, 100, 50 * n)))
        add(tf, "flower_photos/roses/broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg")
        add(tf, "flower_photos/LICENSE.txt", b"All photos are CC-BY; attributions here.\n")
    return path


# --------------------------------------------------------------------------- a local HTTP server


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files, records each request and honours ``Range: bytes=N-`` when allowed."""

    def log_message(self, *args):  # keep test output quiet
        pass

    def do_GET(self):
        self.server.requests.append((self.path, self.headers.get("Range")))
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        body, start = path.read_bytes(), 0
        ranged = self.headers.get("Range")
        if ranged and self.server.ranges:
            start = int(re.fullmatch(r"bytes=(\d+)-", ranged)[1])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Handler, directory=str(root)))
    httpd.requests, httpd.ranges = [], True
    httpd.timeout = 5
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield SimpleNamespace(root=root, url=f"http://127.0.0.1:{httpd.server_port}", httpd=httpd,
                              requests=httpd.requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Downloads and data go to tmp dirs; no override leaks in from the environment."""
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(download.MIRROR_ENV, raising=False)
    for record in download.DATASETS.values():
        monkeypatch.delenv(record.url_env, raising=False)
    return tmp_path


@pytest.fixture
def petimages(server) -> SimpleNamespace:
    archive = make_petimages_zip(server.root / "petimages.zip")
    return SimpleNamespace(path=archive, url=f"{server.url}/petimages.zip", sha256=sha256(archive))


def downloads(tmp_path) -> list[str]:
    folder = tmp_path / "cache" / "downloads"
    return sorted(p.name for p in folder.iterdir()) if folder.is_dir() else []


# --------------------------------------------------------------------------- tests


def test_registry_records_are_complete():
    assert download.DATASETS is datasets.DATASETS and download.DatasetRecord is datasets.DatasetRecord
    for name, record in download.DATASETS.items():
        assert record.name == name and record.sources and record.archive in ("zip", "tar", "none")
        assert record.layout in download.LAYOUTS
        assert datasets.download_hint(name) == f'To download it, run course_utils.download.fetch("{name}").'
        for source in record.sources:
            assert source.url.startswith(("https://", "http://"))
            assert source.sha256 is None or re.fullmatch(r"[0-9a-f]{64}", source.sha256)
    assert set(download.DATASETS) >= {"cats_vs_dogs", "flowers", "mnist", "fashion_mnist"}
    assert "kagglecatsanddogs_5340.zip" in download.DATASETS["cats_vs_dogs"].sources[0].url
    # The mnist hash is the one the installed Keras checks.
    keras_mnist = Path(importlib.util.find_spec("keras").origin).parent / "src" / "datasets" / "mnist.py"
    assert download.DATASETS["mnist"].sources[0].sha256 in keras_mnist.read_text()
    for name in datasets.SHARED_ONLY:
        assert name not in download.DATASETS and "shared data" in datasets.download_hint(name)


def test_fetch_petimages_over_http_layout_and_skip_warning(tmp_path, petimages, server):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        folder = download.fetch("cats_vs_dogs", data_dir=tmp_path / "data", url=petimages.url,
                                sha256=petimages.sha256)
    assert folder == tmp_path / "data" / "cats_vs_dogs"
    assert sorted(p.name for p in (folder / "train").iterdir()) == \
        ["cat.0.jpg", "cat.1.jpg", "cat.2.jpg", "dog.0.jpg", "dog.1.jpg"]
    assert sorted(p.name for p in (folder / "test").iterdir()) == ["cat.12000.jpg", "dog.12001.jpg"]
    assert (folder / download.MARKER_NAME).is_file()
    messages = [str(w.message) for w in caught if "left out" in str(w.message)]
    assert len(messages) == 1 and "left out 3 of 10" in messages[0]
    assert all(name in messages[0] for name in ("Cat/3.jpg", "Dog/2.jpg", "Dog/5.jpg"))
    assert downloads(tmp_path) == ["kagglecatsanddogs_5340.zip"]  # no .part left
    assert not [p for p in (tmp_path / "data").iterdir() if p.name != "cats_vs_dogs"]  # staging removed
    # The course loaders read the result.
    x, y = data.load_cats_vs_dogs(image_size=(8, 8), data_dir=tmp_path / "data")
    assert x.shape == (5, 8, 8, 3) and np.bincount(y).tolist() == [3, 2]


def test_second_fetch_is_a_no_op(tmp_path, petimages, server):
    kwargs = dict(data_dir=tmp_path / "data", url=petimages.url, sha256=petimages.sha256)
    first = download.fetch("cats_vs_dogs", **kwargs)
    assert len(server.requests) == 1
    server.httpd.shutdown()  # even with the server gone
    assert download.fetch("cats_vs_dogs", **kwargs) == first
    assert download.ensure("cats_vs_dogs", data_dir=tmp_path / "data") == first
    assert len(server.requests) == 1


def test_cached_download_is_reused_without_a_request(tmp_path, petimages, server):
    kwargs = dict(url=petimages.url, sha256=petimages.sha256)
    download.fetch("cats_vs_dogs", data_dir=tmp_path / "one", **kwargs)
    download.fetch("cats_vs_dogs", data_dir=tmp_path / "two", **kwargs)
    assert len(server.requests) == 1
    download.fetch("cats_vs_dogs", data_dir=tmp_path / "two", force=True, **kwargs)
    assert len(server.requests) == 2


def test_fetch_from_file_url_set_by_env(tmp_path, monkeypatch):
    archive = make_petimages_zip(tmp_path / "petimages.zip")
    monkeypatch.setenv("COURSE_URL_CATS_VS_DOGS", archive.as_uri())
    with pytest.warns(UserWarning, match="left out 3 of 10"):
        folder = download.fetch("cats_vs_dogs", data_dir=tmp_path / "data", sha256=sha256(archive))
    assert len(list((folder / "train").iterdir())) == 5


def test_checksum_mismatch_deletes_and_explains(tmp_path, petimages):
    wrong = "0" * 64
    with pytest.raises(download.ChecksumError) as error:
        download.fetch("cats_vs_dogs", data_dir=tmp_path / "data", url=petimages.url, sha256=wrong)
    message = str(error.value)
    assert wrong in message and petimages.sha256 in message and "deleted" in message
    assert petimages.url in message
    assert downloads(tmp_path) == []
    assert not (tmp_path / "data" / "cats_vs_dogs").exists()


def test_recorded_checksum_applies_to_an_overridden_url(tmp_path, petimages):
    # Our stand-in is not Microsoft's archive, so the registry's sha256 must reject it.
    with pytest.raises(download.ChecksumError, match=download.DATASETS["cats_vs_dogs"].sources[0].sha256):
        download.fetch("cats_vs_dogs", data_dir=tmp_path / "data", url=petimages.url)


@pytest.mark.parametrize("ranges", [True, False])
def test_partial_download_resumes(tmp_path, petimages, server, ranges):
    server.httpd.ranges = ranges
    part = tmp_path / "cache" / "downloads" / "kagglecatsanddogs_5340.zip.part"
    part.parent.mkdir(parents=True)
    part.write_bytes(petimages.path.read_bytes()[:100])
    with pytest.warns(UserWarning, match="left out 3"):
        download.fetch("cats_vs_dogs", data_dir=tmp_path / "data", url=petimages.url, sha256=petimages.sha256)
    assert server.requests == [("/petimages.zip", "bytes=100-")]
    assert sha256(part.with_name("kagglecatsanddogs_5340.zip")) == petimages.sha256


def test_http_error_is_explained(tmp_path, server):
    with pytest.raises(download.DownloadError, match=r"HTTP 404.*COURSE_DOWNLOAD_MIRROR"):
        download.fetch("cats_vs_dogs", data_dir=tmp_path / "data", url=f"{server.url}/missing.zip", sha256=None)


def test_flowers_tgz_from_mirror(tmp_path, server, monkeypatch):
    archive = make_flowers_tgz(server.root / "flower_photos.tgz")
    monkeypatch.setenv(download.MIRROR_ENV, server.url + "/")
    with pytest.warns(UserWarning, match=r"left out 1 of 11 .*broken\.jpg"):
        folder = download.fetch("flowers", data_dir=tmp_path / "data", sha256=sha256(archive))
    assert server.requests == [("/flower_photos.tgz", None)]
    assert sorted(p.name for p in folder.iterdir() if p.is_dir()) == list(data.FLOWER_CLASSES)
    assert (folder / "LICENSE.txt").is_file()
    x, y = data.load_flowers(image_size=(16, 16), data_dir=tmp_path / "data")
    assert x.shape == (10, 16, 16, 3) and np.bincount(y).tolist() == [2] * 5


def test_imagenette_tgz_layout(tmp_path):
    archive = tmp_path / "imagenette2-160.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        for split in ("train", "val"):
            for i, wnid in enumerate(data.IMAGENETTE_WNIDS):
                payload = jpeg_bytes((20 * i, 50, 100))
                info = tarfile.TarInfo(f"imagenette2-160/{split}/{wnid}/{wnid}_{i}.JPEG")
                info.size = len(payload)
                tf.addfile(info, io.BytesIO(payload))
    download.fetch("imagenette", data_dir=tmp_path / "data", url=archive.as_uri(), sha256=sha256(archive))
    assert data.imagenette_classes(tmp_path / "data")[1] == data.IMAGENETTE_CLASSES
    x, y = data.load_imagenette("val", image_size=(8, 8), data_dir=tmp_path / "data")
    assert x.shape == (10, 8, 8, 3) and sorted(y.tolist()) == list(range(10))


def test_plain_file_datasets(tmp_path):
    # mnist: one file; fashion_mnist: four files under a base URL, checksums as a dict.
    src = tmp_path / "src"
    src.mkdir()
    npz = src / "mnist.npz"
    np.savez(npz, x_train=np.zeros((3, 28, 28), np.uint8), y_train=np.arange(3, dtype=np.uint8),
             x_test=np.zeros((2, 28, 28), np.uint8), y_test=np.arange(2, dtype=np.uint8))
    download.fetch("mnist", data_dir=tmp_path / "data", url=npz.as_uri(), sha256=sha256(npz))
    (x_train, _), (x_test, _) = data.load_mnist(data_dir=tmp_path / "data")
    assert x_train.shape == (3, 28, 28) and x_test.shape == (2, 28, 28)
    checksums = {}
    for name in data.FASHION_MNIST_FILES:
        (src / name).write_bytes(gzip.compress(name.encode()))
        checksums[name] = sha256(src / name)
    folder = download.fetch("fashion_mnist", data_dir=tmp_path / "data", url=src.as_uri(), sha256=checksums)
    assert sorted(p.name for p in folder.iterdir() if not p.name.startswith(".")) == \
        sorted(data.FASHION_MNIST_FILES)
    with pytest.raises(ValueError, match="several files"):
        download.fetch("fashion_mnist", data_dir=tmp_path / "other", url=src.as_uri(), sha256="ab" * 32)


def test_path_traversal_zip_is_rejected(tmp_path):
    archive = tmp_path / "evil.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("PetImages/Cat/0.jpg", jpeg_bytes())
        zf.writestr("../../evil.txt", "gotcha")
    with pytest.raises(download.UnsafeArchiveError, match=r"\.\./\.\./evil\.txt"):
        download.fetch("cats_vs_dogs", data_dir=tmp_path / "data", url=archive.as_uri(), sha256=None)
    assert not list(tmp_path.rglob("evil.txt"))
    assert not (tmp_path / "data" / "cats_vs_dogs").exists()
    assert [p.name for p in (tmp_path / "data").iterdir()] == []  # staging cleaned up


@pytest.mark.parametrize("member", ["/tmp/abs_evil.txt", "flower_photos/../../evil.txt", "link"])
def test_unsafe_tar_members_are_rejected(tmp_path, member):
    archive = tmp_path / "evil.tgz"
    with tarfile.open(archive, "w:gz") as tf:
        info = tarfile.TarInfo(member)
        if member == "link":
            info.type, info.linkname = tarfile.SYMTYPE, "/etc/passwd"
            tf.addfile(info)
        else:
            info.size = 6
            tf.addfile(info, io.BytesIO(b"gotcha"))
    with pytest.raises(download.UnsafeArchiveError):
        download.extract(archive, tmp_path / "out", "tar")
    assert not Path("/tmp/abs_evil.txt").exists() and not list(tmp_path.rglob("evil.txt"))
    assert not (tmp_path / "out" / "link").exists()


def test_existing_folder_not_made_by_fetch_is_left_alone(tmp_path, petimages, server):
    folder = tmp_path / "data" / "cats_vs_dogs"
    (folder / "train").mkdir(parents=True)
    (folder / "train" / "cat.0.jpg").write_bytes(jpeg_bytes())
    with pytest.raises(FileExistsError, match="force=True"):
        download.fetch("cats_vs_dogs", data_dir=tmp_path / "data", url=petimages.url, sha256=petimages.sha256)
    assert server.requests == []


def test_ensure_uses_present_data_else_fetches(tmp_path, petimages, server, monkeypatch):
    present = tmp_path / "present"
    for split in ("train", "test"):
        (present / "cats_vs_dogs" / split).mkdir(parents=True)
        (present / "cats_vs_dogs" / split / "cat.0.jpg").write_bytes(jpeg_bytes())
    assert download.ensure("cats_vs_dogs", data_dir=present) == present / "cats_vs_dogs"
    assert server.requests == []
    monkeypatch.setenv("COURSE_URL_CATS_VS_DOGS", petimages.url)
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "empty"))
    with pytest.raises(download.ChecksumError):
        download.ensure("cats_vs_dogs")  # the registry checksum guards ensure() too
    assert len(server.requests) == 1


def test_unknown_dataset():
    with pytest.raises(ValueError, match="cats_vs_dogs"):
        download.fetch("cifar10")
