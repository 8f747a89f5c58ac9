"""Pretrained backbones for transfer learning and class activation maps (notebook 06).

Two backbones, one interface:

* ``imagenet``: ``keras.applications.ResNet50(weights="imagenet")``, for users who are
  online (or whose Keras cache already holds the weights);
* ``imagenette``: the course's own ResNet-18-style network (:func:`resnet18`),
  pretrained offline on the 10 Imagenette classes by ``python -m course_utils.pretrain``
  (``make backbone``) into ``COURSE_CACHE_DIR/backbones/``, or downloaded as a
  published copy (:func:`fetch_published`).

``COURSE_BACKBONE=auto|imagenet|imagenette`` picks one; ``auto`` (the default) takes
ImageNet weights when Keras has or can fetch them, else the course's backbone from the
cache, else (fast mode on a fresh machine) a stand-in trained for a few steps.
:func:`load_backbone` returns a :class:`Backbone` that says which one it is, in one line.

Every backbone takes images with values 0-255 (its preprocessing is inside the model),
ends with a named feature map (``feature_layer``), global average pooling and a Dense
softmax (``dense_layer``): what a class activation map needs.
"""
from __future__ import annotations

import json
import os
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

from . import settings

BACKBONE_ENV = "COURSE_BACKBONE"
BACKBONE_PATH_ENV = "COURSE_BACKBONE_PATH"
CHOICES = ("auto", "imagenet", "imagenette")
NAME = "imagenette_resnet18"
WEIGHTS_FILE = f"{NAME}.weights.h5"
MANIFEST_FILE = f"{NAME}.json"
# Imagenette channel statistics (0-255 scale), measured on the training photos.
MEAN = (117.6, 116.3, 108.1)
STD = (70.5, 68.6, 73.3)
STAGES = ((64, 2, 1), (128, 2, 2), (256, 2, 2), (512, 2, 2))  # (filters, blocks, stride of the first block)
FEATURE_LAYER = "features"      # the last feature map (stride 32): 7x7 for a 224x224 input
POOL_LAYER = "avg_pool"
DENSE_LAYER = "predictions"
# A published copy of the pretrained weights, for online users (URL, sha256); none published yet.
PUBLISHED: dict[str, tuple[str, str]] = {}


# --------------------------------------------------------------------------- the architecture


def _conv_bn(x, filters, kernel, strides, name, relu=True, zero_gamma=False):
    from keras import layers

    x = layers.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False,
                      kernel_initializer="he_normal", name=f"{name}_conv")(x)
    x = layers.BatchNormalization(momentum=0.9, epsilon=1e-5, name=f"{name}_bn",
                                  gamma_initializer="zeros" if zero_gamma else "ones")(x)
    return layers.ReLU(name=f"{name}_relu")(x) if relu else x


def _basic_block(x, filters, strides, name):
    """Two 3x3 convolutions and a shortcut (projected when the shape changes)."""
    from keras import layers

    shortcut = x
    if strides != 1 or x.shape[-1] != filters:
        shortcut = _conv_bn(x, filters, 1, strides, f"{name}_0", relu=False)
    y = _conv_bn(x, filters, 3, strides, f"{name}_1")
    y = _conv_bn(y, filters, 3, 1, f"{name}_2", relu=False, zero_gamma=True)
    y = layers.Add(name=f"{name}_add")([shortcut, y])
    return layers.ReLU(name=f"{name}_out")(y)


def resnet18(classes: int = 10, input_shape=(None, None, 3), name: str = NAME):
    """A ResNet-18-style network (basic blocks 2-2-2-2, 64-512 filters, 11.2 M parameters).

    Input: images with values 0-255 of any size; the normalisation is the first layer.
    Layer names follow ``keras.applications``: ``conv{stage}_block{n}_...``, the last
    feature map ``features``, then ``avg_pool`` and the softmax ``predictions``.
    """
    import keras
    from keras import layers

    inputs = keras.Input(input_shape, name="images")
    x = layers.Normalization(mean=list(MEAN), variance=[s * s for s in STD], name="normalize")(inputs)
    x = _conv_bn(x, 64, 7, 2, "conv1")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    for stage, (filters, blocks, strides) in enumerate(STAGES, start=2):
        for block in range(1, blocks + 1):
            x = _basic_block(x, filters, strides if block == 1 else 1, f"conv{stage}_block{block}")
    x = layers.Identity(name=FEATURE_LAYER)(x)
    x = layers.GlobalAveragePooling2D(name=POOL_LAYER)(x)
    # under a mixed precision policy (pretraining on a bfloat16 CPU) the probabilities stay float32
    mixed = keras.mixed_precision.global_policy().name != "float32"
    outputs = layers.Dense(classes, activation="softmax", name=DENSE_LAYER, dtype="float32" if mixed else None)(x)
    return keras.Model(inputs, outputs, name=name)


# --------------------------------------------------------------------------- finding the weights


def backbone_dir() -> Path:
    path = settings.cache_dir() / "backbones"
    path.mkdir(parents=True, exist_ok=True)
    return path


def weights_path() -> Path:
    """``COURSE_BACKBONE_PATH`` when set (a ``.weights.h5`` file), else the cache."""
    given = os.environ.get(BACKBONE_PATH_ENV)
    return Path(given).expanduser() if given else backbone_dir() / WEIGHTS_FILE


def manifest_path(weights: Path | None = None) -> Path:
    weights = Path(weights or weights_path())
    return weights.with_name(weights.name.replace(".weights.h5", ".json"))


def read_manifest(weights: Path | None = None) -> dict | None:
    path = manifest_path(weights)
    return json.loads(path.read_text()) if path.exists() else None


def sha256(path: Path) -> str:
    from .download import file_sha256

    return file_sha256(path)


def fetch_published(url: str, expected_sha256: str, target: Path | None = None) -> Path:
    """Download a published copy of the weights, checked against ``expected_sha256``, and its manifest
    (the same URL ending in ``.json``); returns the weights' path.

    :func:`course_utils.download.download_file` fetches the weights (resumable; nothing kept on a
    checksum mismatch). The manifest is kept only when it describes these weights; without it the
    backbone still loads, but cannot say its accuracy, so a warning says why it is missing.
    """
    import warnings

    from .download import download_file

    target = Path(target or backbone_dir() / WEIGHTS_FILE)
    download_file(url, target, expected_sha256)
    manifest_url = url.replace(".weights.h5", ".json")
    problem = None
    if manifest_url == url:
        problem = "the URL does not end in .weights.h5, so the manifest's URL is unknown"
    else:
        try:
            with urllib.request.urlopen(manifest_url, timeout=60) as response:
                manifest = json.loads(response.read())
            if manifest.get("weights_sha256") != expected_sha256:
                problem = f"{manifest_url} describes other weights (sha256 {manifest.get('weights_sha256')})"
            else:
                manifest_path(target).write_text(json.dumps(manifest, indent=1) + "\n")
        except (OSError, ValueError, AttributeError) as error:  # network, HTTP, not JSON, not an object
            problem = f"{manifest_url} could not be read ({error})"
    if problem:
        warnings.warn(f"the backbone's weights are in {target}, without their manifest: {problem}",
                      stacklevel=2)
    return target


# --------------------------------------------------------------------------- choosing one


@dataclass
class Backbone:
    """A pretrained classifier and what it is, for the notebook to say in one line."""

    kind: str                 # "imagenet", "imagenette" or "stand-in"
    model: object
    class_names: tuple
    input_size: int           # the photo size it is used at (the size it was scored at; default of the flowers)
    description: str
    manifest: dict = field(default_factory=dict)

    @property
    def feature_layer(self) -> str:
        return "conv5_block3_out" if self.kind == "imagenet" else FEATURE_LAYER

    @property
    def earlier_layer(self) -> str:
        """The output of the last block of stage 4 (stride 16: 14x14 for a 224x224 photo), for Grad-CAM."""
        return "conv4_block6_out" if self.kind == "imagenet" else "conv4_block2_out"

    @property
    def dense_layer(self) -> str:
        return DENSE_LAYER

    @property
    def identity(self) -> dict:
        """What tells this backbone's weights apart (for the recipe of what is trained on it)."""
        return {"kind": self.kind, "weights_sha256": self.manifest.get("weights_sha256")}

    def __str__(self) -> str:
        return self.description


def choice() -> str:
    value = os.environ.get(BACKBONE_ENV, "auto").strip().lower() or "auto"
    if value not in CHOICES:
        raise ValueError(f"{BACKBONE_ENV}={value!r}: choose one of {', '.join(CHOICES)}.")
    return value


def _imagenet(input_tensor=None, weights="imagenet", classes: int = 1000):
    import keras

    return keras.applications.ResNet50(weights=weights, input_tensor=input_tensor, classes=classes)


def imagenet_resnet50(weights="imagenet", classes: int = 1000):
    """``keras.applications.ResNet50`` taking images with values 0-255: ONE flat model.

    Its first layer after the input is the preprocessing (``preprocess``: RGB to BGR and the
    ImageNet channel means), then ResNet-50 itself, built on that layer's output
    (``input_tensor``). Flat rather than ResNet-50 nested behind a preprocessing layer, so
    that ``conv5_block3_out`` and every block are layers of the model itself: a feature
    extractor (``keras.Model(model.input, model.get_layer(...).output)``), ``unfreeze_top``
    and Grad-CAM find them by name. ``weights=None`` gives the same network, untrained.
    """
    import keras

    inputs = keras.Input((None, None, 3), name="images")
    x = keras.layers.Lambda(keras.applications.resnet50.preprocess_input, name="preprocess")(inputs)
    resnet = _imagenet(x, weights, classes)
    # the same flat graph, with one input tensor rather than keras.applications' list of one
    # (calling a model built on a list with a tensor makes Keras warn about the input structure)
    return keras.Model(inputs, resnet.output, name=resnet.name)


def _imagenet_backbone():
    model = imagenet_resnet50()
    names = tuple(_imagenet_class_names())
    return Backbone("imagenet", model, names, 224,
                    "backbone: ResNet-50 with ImageNet weights (1,000 classes, 224x224 photos)")


def _imagenet_class_names() -> list[str]:
    import numpy as np
    from keras.applications.imagenet_utils import decode_predictions

    decoded = decode_predictions(np.eye(1000, dtype="float32"), top=1)
    return [row[0][1] for row in decoded]


def _imagenette_backbone(path: Path):
    from .datasets import IMAGENETTE_CLASSES

    model = resnet18(len(IMAGENETTE_CLASSES))
    model.load_weights(path)
    manifest = read_manifest(path) or {}
    accuracy = manifest.get("val_accuracy")
    detail = f", {accuracy:.1%} on the Imagenette val photos" if isinstance(accuracy, float) else ""
    return Backbone("imagenette", model, tuple(IMAGENETTE_CLASSES), manifest.get("input_size", 128),
                    f"backbone: the course's ResNet-18 pretrained on Imagenette (10 ImageNet classes{detail}), "
                    f"not ImageNet: predictions name only those 10 classes", manifest)


_IMAGENET_UNAVAILABLE: list[str] = []  # why the ImageNet weights could not be had, once per process


def _first_line(error: Exception, limit: int = 120) -> str:
    text = " ".join(str(error).split()) or type(error).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


def load_backbone(kind: str | None = None) -> Backbone:
    """The backbone chosen by ``kind`` (default: the ``COURSE_BACKBONE`` setting), saying which it is."""
    kind = kind or choice()
    errors = []
    if kind in ("auto", "imagenet") and not (kind == "auto" and _IMAGENET_UNAVAILABLE):
        try:
            return _imagenet_backbone()
        except Exception as error:  # offline and not cached: Keras' get_file wraps urlopen and HTTP errors
            reason = _first_line(error)
            if kind == "imagenet":
                raise RuntimeError(f"ImageNet weights are not available ({reason}); "
                                   f"set {BACKBONE_ENV}=imagenette to use the course's backbone.") from None
            _IMAGENET_UNAVAILABLE.append(reason)  # auto: not tried again in this process
    if kind == "auto" and _IMAGENET_UNAVAILABLE:
        errors.append(f"no ImageNet weights: {_IMAGENET_UNAVAILABLE[0]}")
    path = weights_path()
    if path.exists():
        backbone = _imagenette_backbone(path)
        if errors:
            backbone.description += f" [{'; '.join(errors)}: using the course's backbone]"
        return backbone
    if kind == "imagenette" and not settings.fast_mode():
        raise FileNotFoundError(f"no pretrained backbone at {path}: run `python -m course_utils.pretrain` "
                                "(make backbone, 70-95 minutes on 2 cores) or download a published copy: "
                                "`python -m course_utils.pretrain --download URL --sha256 HEX`.")
    from .pretrain import stand_in

    return stand_in(errors + [f"no course backbone at {path}"])
