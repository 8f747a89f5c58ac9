"""The catalogue of the course datasets: what each one is and how an online user gets it.

One place for the facts that :mod:`course_utils.data` (reading a dataset) and
:mod:`course_utils.download` (fetching one) share, so neither imports the other
for them:

* what each dataset is: its folder under the data folder, its class names,
  files and WordNet ids, the values of the pet masks, and the metadata files
  that sit beside the data on purpose (:func:`is_metadata`);
* how an online user gets it: :data:`DATASETS`, one :class:`DatasetRecord` per
  dataset that has a public download (URLs, sha256 checksums, archive kind,
  layout); :func:`download_hint` says how to get any dataset, including the
  ones that are only in the course's shared data (``pets_cam``).

The module holds constants and pure functions only: importing it reads no
file, needs no network and imports neither NumPy nor TensorFlow. The code that
downloads, unpacks and lays out files is in :mod:`course_utils.download`; a
record names its layout function (``DatasetRecord.layout``), which that module
looks up in ``download.LAYOUTS``.

The folders, as :mod:`course_utils.data` reads them::

    cats_vs_dogs/{train,test}/cat.N.jpg, dog.N.jpg
    flowers/<class>/*.jpg                 imagenette/{train,val}/<wnid>/*.JPEG + CLASSES.txt
    mnist/mnist.npz                       fashion_mnist/*-ubyte.gz
    sample_images/*.png|jpg               pets_cam/{images/*.jpg, masks/*.png}
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import PurePath, PurePosixPath

# --------------------------------------------------------------------------- what each dataset is

CATS_VS_DOGS_CLASSES = ("cat", "dog")
# PetImages photos numbered from here on go to cats_vs_dogs/test/ (500 per class, as in the shared copy).
PETIMAGES_TEST_FROM = 12000

FASHION_MNIST_CLASSES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                         "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
FASHION_MNIST_FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
                       "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")

# The sorted names of the class folders under flowers/ (label = index here).
FLOWER_CLASSES = ("daisy", "dandelion", "rose", "sunflower", "tulip")

# WordNet id -> name, in label order: imagenette/CLASSES.txt holds the same pairs, one per line.
IMAGENETTE_WNIDS = {
    "n01440764": "tench", "n02102040": "English springer", "n02979186": "cassette player",
    "n03000684": "chain saw", "n03028079": "church", "n03394916": "French horn",
    "n03417042": "garbage truck", "n03425413": "gas pump", "n03445777": "golf ball",
    "n03888257": "parachute",
}
IMAGENETTE_CLASSES = tuple(IMAGENETTE_WNIDS.values())
IMAGENETTE_CLASSES_FILE = "CLASSES.txt"

# Values of the pets_cam/masks/*.png pixels (Oxford-IIIT Pet trimaps, recoded by the course).
PETS_MASK_VALUES = {"background": 0, "cat": 1, "dog": 2, "boundary": 255}

# Files that sit next to the data on purpose; never reported as stray, never counted as data.
METADATA_NAMES = frozenset({"SHA256SUMS", IMAGENETTE_CLASSES_FILE, "LICENSE.txt", "README.md",
                            "README.txt", "Thumbs.db"})

# Datasets that are only in the course's shared data (no public download in the course layout).
SHARED_ONLY = ("pets_cam",)


def is_metadata(path) -> bool:
    """True for a file that sits beside the data on purpose: a hidden file or one of :data:`METADATA_NAMES`."""
    name = PurePath(path).name
    return name.startswith(".") or name in METADATA_NAMES


def imagenette_classes_text() -> str:
    """The text of ``imagenette/CLASSES.txt``: one "wnid name" line per class, in label order."""
    return "".join(f"{wnid} {name}\n" for wnid, name in IMAGENETTE_WNIDS.items())


# --------------------------------------------------------------------------- how an online user gets it


@dataclass(frozen=True)
class Source:
    """One file to download: its public URL, sha256 (None if unknown) and size in bytes."""

    url: str
    sha256: str | None
    size: int | None = None

    @property
    def filename(self) -> str:
        return PurePosixPath(self.url.split("?")[0]).name


@dataclass(frozen=True)
class DatasetRecord:
    """How to get one dataset: where from, how to unpack it, how to lay it out."""

    name: str  # also the dataset's folder under the data folder
    sources: tuple[Source, ...]
    archive: str  # "zip", "tar" (any compression) or "none"
    layout: str  # the name of the layout function in course_utils.download.LAYOUTS
    required: tuple[str, ...]  # paths inside the folder that show it is present
    homepage: str
    licence: str
    note: str = ""

    @property
    def url_env(self) -> str:
        return f"COURSE_URL_{self.name.upper()}"


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
        archive="zip", layout="petimages", required=("train", "test"),
        homepage="https://www.microsoft.com/en-us/download/details.aspx?id=54765",
        licence="Microsoft Research release of the Asirra photos; see the licence file in the archive",
        note=("The full set: 12,500 photos per class at their original sizes (the shared copy has "
              f"3,001 + 500 per class at 200x200). Photos numbered {PETIMAGES_TEST_FROM} and up form test/.")),
    DatasetRecord(
        name="flowers",
        sources=(Source("https://storage.googleapis.com/download.tensorflow.org/example_images/flower_photos.tgz",
                        # sha256 and size from tensorflow_datasets' url_checksums/tf_flowers.txt
                        "4c54ace7911aaffe13a365c34f650e71dd5bf1be0a58b464e5a7183e3e595d9c", 228813984),),
        archive="tar", layout="flowers", required=FLOWER_CLASSES,
        homepage="https://www.tensorflow.org/datasets/catalog/tf_flowers",
        licence="CC-BY, per photo (Flickr); attributions in flowers/LICENSE.txt",
        note=("TensorFlow's flower_photos (3,670 photos, original sizes), the same five classes and "
              "Flickr source as the shared copy (Kaggle flowers-recognition, 4,317 photos at 128x128).")),
    DatasetRecord(
        name="mnist",
        sources=(Source("https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz",
                        # the hash keras.datasets.mnist.load_data() checks (keras 3.15 source)
                        "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1"),),
        archive="none", layout="copy", required=("mnist.npz",),
        homepage="https://yann.lecun.com/exdb/mnist/", licence="CC BY-SA 3.0"),
    DatasetRecord(
        name="fashion_mnist",
        sources=tuple(Source(f"http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/{name}",
                             *_FASHION_SHA256[name]) for name in FASHION_MNIST_FILES),
        archive="none", layout="copy", required=FASHION_MNIST_FILES,
        homepage="https://github.com/zalandoresearch/fashion-mnist", licence="MIT"),
    DatasetRecord(
        name="imagenette",
        sources=(Source("https://s3.amazonaws.com/fast-ai-imageclas/imagenette2-160.tgz",
                        # sha256 and size from tensorflow_datasets' url_checksums/imagenette.txt
                        "88daccb09b6fce93f45e6c09ddeb269cce705549e6bff322092a2a5a11489863", 98948031),),
        archive="tar", layout="imagenette", required=(IMAGENETTE_CLASSES_FILE, "train", "val"),
        homepage="https://github.com/fastai/imagenette",
        licence="ImageNet images: non-commercial research and education",
        note="fast.ai's imagenette2-160 (shorter side 160 px); the loaders resize anyway."),
    DatasetRecord(
        name="sample_images",
        sources=tuple(Source("https://raw.githubusercontent.com/ethen8181/machine-learning/master/"
                             f"keras/resnet_cam/images/{name}", None) for name in _SAMPLE_PHOTOS),
        archive="none", layout="copy", required=_SAMPLE_PHOTOS,
        homepage="https://github.com/ethen8181/machine-learning", licence="repository MIT; photos third-party",
        note="No published checksums: files on a branch, so they are not verified."),
]}


def download_hint(name: str) -> str:
    """One sentence on how to get dataset ``name``: fetch it, or copy it from the shared data."""
    if name in DATASETS:
        return f'To download it, run course_utils.download.fetch("{name}").'
    return (f"It has no public download: copy the `{name}/` folder of the course's "
            f"shared data (../shared/data/{name}) there.")
