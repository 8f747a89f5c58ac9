"""Tests of course_utils.data: the real shared data (small subsets) and bad input built in tmp dirs."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from course_utils import data, datasets, settings

ROOT = settings.data_dir()
needs_data = pytest.mark.skipif(not (ROOT / "cats_vs_dogs").is_dir(),
                                reason=f"course data not found in {ROOT} (set COURSE_DATA_DIR)")


# --------------------------------------------------------------------------- helpers


def make_jpeg(path: Path, color=(200, 80, 40), size=(24, 32), mode="RGB") -> Path:
    """A small JPEG with a gradient, so it is not a flat colour."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = size
    ramp = np.linspace(0, 60, w, dtype=np.float32)[None, :, None]
    pixels = np.clip(np.array(color, np.float32)[None, None, :] + ramp, 0, 255).astype(np.uint8)
    Image.fromarray(np.repeat(pixels, h, axis=0)).convert(mode).save(path, "JPEG", quality=90)
    return path


def truncate(src: Path, dst: Path, keep: int = 300) -> Path:
    dst.write_bytes(src.read_bytes()[:keep])
    return dst


def real_cats(n: int = 2) -> list[Path]:
    return [ROOT / "cats_vs_dogs" / "train" / f"cat.{i}.jpg" for i in range(n)]


@pytest.fixture
def small_cats_dogs(tmp_path) -> Path:
    """A data dir with cats_vs_dogs/train: 4 cats, 4 dogs, numbered to test numeric sorting."""
    folder = tmp_path / "cats_vs_dogs" / "train"
    for label, color in (("cat", (220, 60, 60)), ("dog", (40, 60, 220))):
        for n in (0, 2, 10, 11):
            make_jpeg(folder / f"{label}.{n}.jpg", color)
    return tmp_path


def only(caught, text: str) -> list[str]:
    return [str(w.message) for w in caught if text in str(w.message)]


# --------------------------------------------------------------------------- real data


def test_class_names():
    assert data.CATS_VS_DOGS_CLASSES == ("cat", "dog")
    assert data.FASHION_MNIST_CLASSES[0] == "T-shirt/top" and data.FASHION_MNIST_CLASSES[9] == "Ankle boot"
    assert len(data.FASHION_MNIST_CLASSES) == 10
    assert data.IMAGENETTE_CLASSES[0] == "tench" and len(data.IMAGENETTE_CLASSES) == 10
    # The names come from the catalogue, whatever the data folder holds.
    assert data.IMAGENETTE_CLASSES == datasets.IMAGENETTE_CLASSES == tuple(datasets.IMAGENETTE_WNIDS.values())
    assert data.FLOWER_CLASSES is datasets.FLOWER_CLASSES


@needs_data
def test_shared_imagenette_classes_file_matches_the_catalogue():
    assert data.imagenette_classes() == (tuple(datasets.IMAGENETTE_WNIDS), datasets.IMAGENETTE_CLASSES)


def test_imagenette_classes_file_is_checked_against_the_catalogue(tmp_path):
    path = tmp_path / "imagenette" / "CLASSES.txt"
    path.parent.mkdir()
    lines = datasets.imagenette_classes_text().splitlines()
    path.write_text("\n" + "\n".join(line.replace(" ", "   ", 1) for line in lines) + "\n\n")
    assert data.imagenette_classes(tmp_path)[1] == data.IMAGENETTE_CLASSES  # blank lines, spacing: fine
    path.write_text("\n".join([lines[1], lines[0], *lines[2:], "n09999999 extra"]))
    with pytest.raises(ValueError) as error:
        data.imagenette_classes(tmp_path)
    message = str(error.value)
    assert str(path) in message and "IMAGENETTE_WNIDS" in message and "imagenette_classes_text()" in message
    assert "line 1 is 'n02102040 English springer', expected 'n01440764 tench'" in message
    assert "line 11 ('n09999999 extra') is extra" in message
    path.write_text("\n".join(lines[:9]))
    with pytest.raises(ValueError, match=r"line 10 \('n03888257 parachute'\) is missing"):
        data.load_imagenette(data_dir=tmp_path)


@needs_data
def test_flower_classes_are_the_sorted_folder_names():
    folders = sorted(p.name for p in (ROOT / "flowers").iterdir() if p.is_dir())
    assert tuple(folders) == data.FLOWER_CLASSES


@needs_data
def test_cats_vs_dogs_files_sorted_by_class_then_number():
    paths, labels = data.cats_vs_dogs_files("train")
    names = [p.name for p in paths]
    assert len(paths) == 6002 and labels.dtype == np.int64
    assert names[:3] == ["cat.0.jpg", "cat.1.jpg", "cat.2.jpg"]
    assert names.index("cat.10.jpg") == names.index("cat.9.jpg") + 1  # numeric, not text order
    assert all(labels[i] == (name.startswith("dog")) for i, name in enumerate(names))
    test_paths, test_labels = data.cats_vs_dogs_files("test")
    assert len(test_paths) == 1000 and test_labels.sum() == 500
    assert not {p.name for p in paths} & {p.name for p in test_paths}


@needs_data
def test_load_cats_vs_dogs_balanced_deterministic_and_labelled():
    x, y = data.load_cats_vs_dogs(limit=10, image_size=(32, 48))
    assert x.shape == (10, 32, 48, 3) and x.dtype == np.float32 and y.dtype == np.int64
    assert 0.0 <= x.min() and x.max() <= 1.0
    assert np.bincount(y).tolist() == [5, 5]
    x2, y2 = data.load_cats_vs_dogs(limit=10, image_size=(32, 48))
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    # Each row is one of the 5 lowest-numbered photos of its own class.
    folder = ROOT / "cats_vs_dogs" / "train"
    for image, label in zip(x, y):
        name = data.CATS_VS_DOGS_CLASSES[label]
        candidates = [data.read_image(folder / f"{name}.{i}.jpg", (32, 48)) for i in range(5)]
        assert any(np.array_equal(image, c) for c in candidates)


@needs_data
def test_bad_split_and_limit():
    with pytest.raises(ValueError, match="split"):
        data.cats_vs_dogs_files("validation")
    with pytest.raises(ValueError, match="limit"):
        data.load_cats_vs_dogs(limit=1)


@needs_data
def test_dataset_validation_split_is_disjoint_and_stratified():
    kwargs = dict(limit=40, image_size=(16, 16), batch_size=8, shuffle=False, validation_fraction=0.25, seed=3)
    train = data.cats_vs_dogs_dataset(subset="training", **kwargs)
    val = data.cats_vs_dogs_dataset(subset="validation", **kwargs)

    def collect(ds):
        images, labels = zip(*[(x.numpy(), y.numpy()) for x, y in ds])
        return np.concatenate(images), np.concatenate(labels)

    (xt, yt), (xv, yv) = collect(train), collect(val)
    assert xt.shape == (30, 16, 16, 3) and xv.shape == (10, 16, 16, 3)
    assert np.bincount(yv).tolist() == [5, 5] and np.bincount(yt).tolist() == [15, 15]
    train_keys = {img.tobytes() for img in xt}
    assert not train_keys & {img.tobytes() for img in xv}
    # Same seed -> same split on a second call.
    np.testing.assert_array_equal(collect(val)[0], xv)


@needs_data
def test_make_image_dataset_matches_read_image_and_labels():
    paths = real_cats(2) + [ROOT / "cats_vs_dogs" / "train" / "dog.0.jpg"]
    ds = data.make_image_dataset(paths, [0, 0, 1], image_size=(40, 30), batch_size=2, shuffle=False)
    batches = list(ds)
    assert [tuple(x.shape) for x, _ in batches] == [(2, 40, 30, 3), (1, 40, 30, 3)]
    images = np.concatenate([x.numpy() for x, _ in batches])
    labels = np.concatenate([y.numpy() for _, y in batches])
    assert labels.tolist() == [0, 0, 1]
    assert images.dtype == np.float32 and images.min() >= 0 and images.max() <= 1
    for image, path in zip(images, paths):  # TF and PIL decoders/resizers agree closely
        assert np.abs(image - data.read_image(path, (40, 30))).mean() < 0.02


def test_crop_takes_a_new_random_crop_of_the_full_size_photo_each_time(tmp_path):
    import tensorflow as tf

    tf.random.set_seed(0)  # as training scripts do: the crops must still change from pass to pass
    # a horizontal ramp from 0 to 255 over 100 columns: a crop's left-to-right span tells its width
    ramp = np.repeat(np.linspace(0, 255, 100)[None, :, None], 100, axis=0).repeat(3, axis=2)
    path = tmp_path / "ramp.png"
    Image.fromarray(ramp.astype(np.uint8)).save(path)
    whole = next(iter(data.make_image_dataset([path], [0], image_size=(16, 16), batch_size=1)))[0].numpy()[0]
    full = next(iter(data.make_image_dataset([path], [0], image_size=(16, 16), batch_size=1, crop=1.0)))[0]
    np.testing.assert_allclose(full.numpy()[0], whole, atol=1e-5)  # crop=1 keeps the whole photo
    ds = data.make_image_dataset([path], [0], image_size=(16, 16), batch_size=1, crop=0.5)
    crops = [x.numpy()[0, :, :, 0] for _ in range(12) for x, _ in ds]
    spans = [c[:, -1].mean() - c[:, 0].mean() for c in crops]
    whole_span = whole[:, -1, 0].mean() - whole[:, 0, 0].mean()
    assert all(0.4 * whole_span < s < 1.05 * whole_span for s in spans), spans
    assert len({round(c[:, 0].mean(), 3) for c in crops}) > 3, "every pass should crop a different place"
    with pytest.raises(ValueError, match="smallest fraction of each side"):
        data.make_image_dataset([path], [0], crop=1.5)


@needs_data
def test_dataset_shuffle_is_seeded_and_augment_applied():
    kwargs = dict(limit=16, image_size=(8, 8), batch_size=16)
    first = lambda ds: next(iter(ds))  # noqa: E731
    a = first(data.cats_vs_dogs_dataset(seed=1, **kwargs))
    b = first(data.cats_vs_dogs_dataset(seed=1, **kwargs))
    np.testing.assert_array_equal(a[1].numpy(), b[1].numpy())
    plain = first(data.cats_vs_dogs_dataset(shuffle=False, **kwargs))[0].numpy()
    flipped = first(data.cats_vs_dogs_dataset(shuffle=False, augment=lambda x: 1.0 - x, **kwargs))[0].numpy()
    np.testing.assert_allclose(flipped, 1.0 - plain, atol=1e-6)
    with pytest.raises(ValueError, match="validation_fraction"):
        data.cats_vs_dogs_dataset(subset="validation", **kwargs)


@needs_data
def test_flowers():
    paths, labels = data.flowers_files()
    assert len(paths) == 4317 and set(labels.tolist()) == {0, 1, 2, 3, 4}
    x, y = data.load_flowers(image_size=(32, 32), limit=10)
    assert x.shape == (10, 32, 32, 3) and np.bincount(y).tolist() == [2] * 5
    ds = data.flowers_dataset(image_size=(32, 32), limit=20, batch_size=5, validation_fraction=0.2)
    shapes = [(tuple(x.shape), int(y.shape[0])) for x, y in ds]
    assert shapes == [((5, 32, 32, 3), 5)] * 3  # 4 per class, 1 of each held out


@needs_data
def test_imagenette_and_greyscale_to_rgb():
    x, y = data.load_imagenette("val", image_size=(24, 24), limit=20)
    assert x.shape == (20, 24, 24, 3) and np.bincount(y).tolist() == [2] * 10
    grey = next(p for p in sorted((ROOT / "imagenette" / "train" / "n03394916").iterdir())
                if Image.open(p).mode == "L")
    image = data.read_image(grey)
    assert image.shape == (128, 128, 3)
    np.testing.assert_array_equal(image[..., 0], image[..., 2])
    batch = next(iter(data.imagenette_dataset("val", image_size=(24, 24), limit=10, batch_size=10)))
    assert tuple(batch[0].shape) == (10, 24, 24, 3)


@needs_data
def test_mnist():
    (x_train, y_train), (x_test, y_test) = data.load_mnist()
    assert x_train.shape == (60000, 28, 28) and x_test.shape == (10000, 28, 28)
    assert x_train.dtype == np.uint8 and set(np.unique(y_test)) == set(range(10))


@needs_data
def test_fashion_mnist_offline_through_keras(tmp_path):
    keras_home = tmp_path / "keras_home"
    code = ("from course_utils import data\n"
            "(a, b), (c, d) = data.load_fashion_mnist()\n"
            "print(a.shape[0], c.shape[0], a.dtype, int(b.max()))\n")
    env = {**os.environ, "KERAS_HOME": str(keras_home), "TF_CPP_MIN_LOG_LEVEL": "3"}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.split()[-4:] == ["60000", "10000", "uint8", "9"]
    assert sorted(p.name for p in (keras_home / "datasets" / "fashion-mnist").iterdir()) == \
        sorted(data.FASHION_MNIST_FILES)


@needs_data
def test_sample_photos_and_rgba_dog():
    names = data.sample_photo_names()
    assert {"dog", "jemma", "soccer_ball"} <= set(names)
    assert Image.open(ROOT / "sample_images" / "dog.png").mode == "RGBA"
    dog = data.load_sample_photo("dog")
    assert dog.shape == (193, 193, 3) and dog.dtype == np.float32
    assert data.load_sample_photo("dog.png", size=(50, 60)).shape == (50, 60, 3)
    with pytest.raises(ValueError, match="jemma"):
        data.load_sample_photo("unicorn")


def test_sklearn_samples():
    samples = data.load_sklearn_samples()
    assert samples.shape == (2, 427, 640, 3) and samples.dtype == np.float32 and samples.max() <= 1.0


@needs_data
def test_pets_cam():
    pets = data.load_pets_cam()
    assert len(pets) == 26
    assert sum(p["label"] == "cat" for p in pets) == 18 and sum(p["label"] == "dog" for p in pets) == 8
    for pet in pets:
        assert pet["mask"].dtype == np.uint8 and pet["mask"].shape == pet["image"].shape[:2]
        assert set(np.unique(pet["mask"])) <= {0, 1, 2, 255}
        assert pet["label"] == ("cat" if pet["name"][0].isupper() else "dog")
    small = data.load_pets_cam(size=(64, 80))
    assert small[0]["image"].shape == (64, 80, 3) and small[0]["mask"].shape == (64, 80)
    assert set(np.unique(small[0]["mask"])) <= {0, 1, 2, 255}  # nearest: no blended values
    some = data.load_pets_cam(size=(64, 80), limit=8)  # fast mode's: spread over the names, both kinds
    assert [p["name"] for p in some] == [pets[i]["name"] for i in (0, 4, 7, 11, 14, 18, 21, 25)]
    assert {p["label"] for p in some} == {"cat", "dog"}


# --------------------------------------------------------------------------- bad input


def test_truncated_jpeg(tmp_path):
    good = make_jpeg(tmp_path / "good.jpg", size=(64, 64))
    bad = truncate(good, tmp_path / "cut.jpg", keep=good.stat().st_size // 2)
    with pytest.raises(data.ImageFileError, match="cut.jpg") as error:
        data.read_image(bad)
    assert "delete or replace it" in str(error.value).lower()
    assert "skip" in str(error.value)
    assert "truncated" in data.check_image_file(bad)
    assert data.check_image_file(good) is None


@needs_data
def test_truncated_real_photo(tmp_path):
    bad = truncate(real_cats(1)[0], tmp_path / "cat.0.jpg", keep=1500)
    with pytest.raises(data.ImageFileError, match="cat.0.jpg"):
        data.read_image(bad)


@pytest.mark.parametrize("content, reason", [(b"hello, I am text\n", "not an image"),
                                             (b"", "empty file")])
def test_not_an_image_with_jpg_name(tmp_path, content, reason):
    path = tmp_path / "photo.jpg"
    path.write_bytes(content)
    with pytest.raises(data.ImageFileError, match="photo.jpg") as error:
        data.read_image(path)
    assert reason in str(error.value)
    assert data.check_image_file(path) is not None


def test_missing_file(tmp_path):
    with pytest.raises(data.ImageFileError, match="nothere.jpg.*not found"):
        data.read_image(tmp_path / "nothere.jpg")


def test_rgba_greyscale_and_palette_png(tmp_path):
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[:2] = (255, 0, 0, 255)  # opaque red top, fully transparent bottom
    Image.fromarray(rgba, "RGBA").save(tmp_path / "rgba.png")
    image = data.read_image(tmp_path / "rgba.png")
    assert image.shape == (4, 4, 3)
    np.testing.assert_allclose(image[0, 0], [1, 0, 0])
    np.testing.assert_allclose(image[3, 3], [1, 1, 1])  # composited on white
    Image.fromarray(np.full((5, 6), 128, np.uint8), "L").save(tmp_path / "grey.png")
    grey = data.read_image(tmp_path / "grey.png", size=(10, 12))
    assert grey.shape == (10, 12, 3) and np.allclose(grey, 128 / 255)
    Image.fromarray(np.full((5, 6, 3), (0, 255, 0), np.uint8)).convert("P").save(tmp_path / "pal.png")
    np.testing.assert_allclose(data.read_image(tmp_path / "pal.png")[0, 0], [0, 1, 0])


def test_load_images_skips_with_one_counted_warning(tmp_path):
    good = [make_jpeg(tmp_path / f"ok{i}.jpg") for i in range(3)]
    cut = truncate(make_jpeg(tmp_path / "full.jpg", size=(64, 64)), tmp_path / "cut.jpg", keep=400)
    text = tmp_path / "notes.jpg"
    text.write_text("not a photo")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        x, kept = data.load_images(good + [cut, text], size=(8, 8))
    messages = only(caught, "Skipped")
    assert len(messages) == 1 and "Skipped 2 of 5" in messages[0]
    assert "cut.jpg" in messages[0] and "notes.jpg" in messages[0]
    assert x.shape == (3, 8, 8, 3) and kept == good
    with pytest.raises(data.ImageFileError, match="cut.jpg"):
        data.load_images([cut], size=(8, 8), on_error="raise")


def test_cats_vs_dogs_tmp_folder_sorting_and_data_dir_env(small_cats_dogs, monkeypatch):
    paths, labels = data.cats_vs_dogs_files(data_dir=small_cats_dogs)
    assert [p.name for p in paths][:4] == ["cat.0.jpg", "cat.2.jpg", "cat.10.jpg", "cat.11.jpg"]
    assert labels.tolist() == [0] * 4 + [1] * 4
    monkeypatch.setenv(settings.DATA_ENV, str(small_cats_dogs))
    x, y = data.load_cats_vs_dogs(image_size=(8, 8))  # data_dir=None -> COURSE_DATA_DIR
    assert x.shape == (8, 8, 8, 3) and np.bincount(y).tolist() == [4, 4]
    # Colour follows the label: cats are red, dogs blue.
    assert all((img[..., 0].mean() > img[..., 2].mean()) == (label == 0) for img, label in zip(x, y))


@pytest.mark.filterwarnings("ignore:Ignored 2 files")  # checked once, below; the loaders repeat it
def test_wrongly_named_and_corrupt_files(small_cats_dogs):
    folder = small_cats_dogs / "cats_vs_dogs" / "train"
    make_jpeg(folder / "kitten.jpg")
    (folder / "notes.txt").write_text("hi")
    (folder / "SHA256SUMS").write_text("")  # metadata: never reported
    truncate(make_jpeg(folder / "dog.99.jpg", size=(64, 64)), folder / "dog.99.jpg", keep=500)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        paths, _ = data.cats_vs_dogs_files(data_dir=small_cats_dogs)
    ignored = only(caught, "Ignored")
    assert len(ignored) == 1 and "Ignored 2 files" in ignored[0] and "kitten.jpg" in ignored[0]
    assert len(paths) == 9
    with pytest.warns(UserWarning, match=r"Skipped 1 of 9 .*dog\.99\.jpg"):
        x, y = data.load_cats_vs_dogs(image_size=(8, 8), data_dir=small_cats_dogs)
    assert len(x) == len(y) == 8
    # The tf.data pipeline skips the bad file up-front instead of crashing mid-epoch.
    with pytest.warns(UserWarning, match=r"Skipped 1 of 9 .*dog\.99\.jpg"):
        ds = data.cats_vs_dogs_dataset(image_size=(8, 8), batch_size=4, data_dir=small_cats_dogs)
    assert sum(int(y.shape[0]) for _, y in ds) == 8


def test_empty_and_missing_folders_explain_the_fix(tmp_path):
    (tmp_path / "cats_vs_dogs" / "train").mkdir(parents=True)
    with pytest.raises(FileNotFoundError) as error:
        data.cats_vs_dogs_files(data_dir=tmp_path)
    message = str(error.value)
    assert str(tmp_path / "cats_vs_dogs" / "train") in message and "no files" in message
    assert "COURSE_DATA_DIR" in message and 'course_utils.download.fetch("cats_vs_dogs")' in message
    with pytest.raises(FileNotFoundError, match="test does not exist"):
        data.load_cats_vs_dogs("test", data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match=r'flowers.*COURSE_DATA_DIR.*fetch\("flowers"\)'):
        data.load_flowers(data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match=r'mnist\.npz.*fetch\("mnist"\)'):
        (tmp_path / "mnist").mkdir()
        (tmp_path / "mnist" / "other.bin").write_bytes(b"x")
        data.load_mnist(data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="fashion_mnist"):
        data.load_fashion_mnist(data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="imagenette"):
        data.load_imagenette(data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="sample_images"):
        data.sample_photo_names(data_dir=tmp_path)
    with pytest.raises(FileNotFoundError, match="pets_cam.*shared data"):
        data.load_pets_cam(data_dir=tmp_path)


def test_only_wrong_names_is_an_error(tmp_path):
    make_jpeg(tmp_path / "cats_vs_dogs" / "train" / "IMG_001.jpg")
    with pytest.warns(UserWarning, match="Ignored 1"), \
            pytest.raises(FileNotFoundError, match="no cat.N.jpg / dog.N.jpg"):
        data.cats_vs_dogs_files(data_dir=tmp_path)


def test_flowers_missing_class_folder(tmp_path):
    for name in data.FLOWER_CLASSES[:-1]:
        make_jpeg(tmp_path / "flowers" / name / "a.jpg")
    with pytest.raises(FileNotFoundError, match="tulip does not exist"):
        data.flowers_files(data_dir=tmp_path)
    make_jpeg(tmp_path / "flowers" / "tulip" / "a.jpg")
    shutil.copy(tmp_path / "flowers" / "tulip" / "a.jpg", tmp_path / "flowers" / "tulip" / "b.JPG")
    paths, labels = data.flowers_files(data_dir=tmp_path)
    assert labels.tolist() == [0, 1, 2, 3, 4, 4]


def test_pets_cam_skips_photo_without_mask(tmp_path):
    images, masks = tmp_path / "pets_cam" / "images", tmp_path / "pets_cam" / "masks"
    make_jpeg(images / "Bengal_1.jpg", size=(6, 8))
    make_jpeg(images / "beagle_2.jpg", size=(6, 8))
    mask = np.zeros((6, 8), np.uint8)
    mask[2:4, 2:6] = 2
    masks.mkdir(parents=True)
    Image.fromarray(mask, "L").convert("P").save(masks / "beagle_2.png")
    with pytest.warns(UserWarning, match=r"Skipped 1 of 2 .*Bengal_1.png \(no mask"):
        pets = data.load_pets_cam(data_dir=tmp_path)
    assert [(p["name"], p["label"]) for p in pets] == [("beagle_2", "dog")]


def test_pets_cam_names_both_files_when_a_mask_has_another_size(tmp_path):
    images, masks = tmp_path / "pets_cam" / "images", tmp_path / "pets_cam" / "masks"
    make_jpeg(images / "beagle_3.jpg", size=(6, 8))
    masks.mkdir(parents=True)
    Image.fromarray(np.zeros((5, 8), np.uint8), "L").save(masks / "beagle_3.png")
    with pytest.warns(UserWarning, match=r"its mask beagle_3.png is 5x8 but the photo beagle_3.jpg is 6x8"):
        assert data.load_pets_cam(data_dir=tmp_path) == []


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "LA"])
def test_pets_cam_photos_of_any_mode_and_size_become_rgb(tmp_path, mode):
    images, masks = tmp_path / "pets_cam" / "images", tmp_path / "pets_cam" / "masks"
    images.mkdir(parents=True)
    masks.mkdir(parents=True)
    pixels = np.random.default_rng(0).integers(0, 255, (7, 5, 3), dtype=np.uint8)
    Image.fromarray(pixels, "RGB").convert(mode).save(images / "Persian_4.png")
    mask = np.full((7, 5), 255, np.uint8)
    mask[2:5, 1:4] = 1
    Image.fromarray(mask, "L").save(masks / "Persian_4.png")
    (pet,) = data.load_pets_cam(data_dir=tmp_path)
    assert pet["image"].shape == (7, 5, 3) and pet["image"].dtype == np.float32
    assert 0 <= pet["image"].min() and pet["image"].max() <= 1
    assert pet["label"] == "cat" and sorted(np.unique(pet["mask"])) == [1, 255]
