"""The backbone of notebook 06: its architecture, resumable pretraining, choosing one, the published copy."""
from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from course_utils import backbones, pretrain


@pytest.fixture(scope="module")
def model():
    return backbones.resnet18(10)


def test_resnet18_has_11_million_parameters_and_a_7x7_map_at_224_pixels(model):
    import keras

    assert 11.1e6 < model.count_params() < 11.3e6
    features = keras.Model(model.input, model.get_layer(backbones.FEATURE_LAYER).output)
    assert features(np.zeros((1, 224, 224, 3), np.float32)).shape == (1, 7, 7, 512)
    assert features(np.zeros((1, 128, 128, 3), np.float32)).shape == (1, 4, 4, 512)
    assert model.get_layer(backbones.DENSE_LAYER).units == 10
    assert model.get_layer(backbones.POOL_LAYER) is not None


def test_progressive_sizes_follow_the_recipe():
    sizes = pretrain.RECIPE["sizes"]
    firsts = [start for start, _ in sizes]
    assert firsts[0] == 0 and firsts == sorted(firsts)
    for (start, size), (next_start, _) in zip(sizes, sizes[1:] + [[pretrain.RECIPE["epochs"], None]]):
        assert [pretrain.size_at(e, sizes) for e in range(start, next_start)] == [size] * (next_start - start)
    assert pretrain.size_at(pretrain.RECIPE["epochs"] - 1, sizes) <= pretrain.RECIPE["eval_size"]


def test_the_monitored_val_photos_are_fixed_and_stratified():
    y = np.repeat(np.arange(10), 7)[np.random.default_rng(0).permutation(70)]
    chosen = pretrain.monitor_subset(y, 30)
    assert np.bincount(y[chosen], minlength=10).tolist() == [3] * 10
    assert chosen.tolist() == pretrain.monitor_subset(y, 30).tolist()


def test_photos_reach_the_backbone_with_values_0_to_255():
    """The loaders give [0, 1]; the backbone normalises 0-255 inside (a [0, 1] photo would look black)."""
    x, y = pretrain.load_split("val", 20)
    assert x.dtype == np.uint8 and x.shape == (20, 128, 128, 3) and sorted(set(y)) == list(range(10))
    assert x.max() > 200 and 60 < x.mean() < 190


def test_training_batches_are_random_resized_crops_of_the_requested_size():
    x = np.random.default_rng(0).integers(0, 255, (8, 128, 128, 3), dtype=np.uint8)
    y = np.arange(8) % 10
    images, labels = next(iter(pretrain.training_dataset(x, y, 96, {**pretrain.RECIPE, "batch_size": 4}, seed=0)))
    assert images.shape == (4, 96, 96, 3) and labels.shape == (4, 10)
    assert 0 <= float(np.min(images)) and float(np.max(images)) <= 255


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A tiny fast-mode pretraining, interrupted after its first epoch and then resumed."""
    folder = tmp_path_factory.mktemp("pretrain")
    patch = pytest.MonkeyPatch()
    patch.setattr(pretrain, "FAST", {"epochs": 2, "sizes": [[0, 64], [1, 64]], "limit": 40, "val_limit": 20,
                                     "batch_size": 8})
    saves = []
    original = pretrain.Run.save

    def save_then_stop(self, model):
        original(self, model)
        saves.append(self.state["epochs_done"])
        if len(saves) == 1:
            raise KeyboardInterrupt  # the session ends after the first epoch's checkpoint

    patch.setattr(pretrain.Run, "save", save_then_stop)
    with pytest.raises(KeyboardInterrupt):
        pretrain.pretrain(folder / "run", fast=True, output=folder / backbones.WEIGHTS_FILE)
    manifest = pretrain.pretrain(folder / "run", fast=True, output=folder / backbones.WEIGHTS_FILE)
    patch.undo()
    return folder, manifest, saves


def test_an_interrupted_pretraining_continues_from_its_checkpoint(pretrained):
    folder, manifest, saves = pretrained
    assert saves == [1, 2]
    assert [row["epoch"] for row in manifest["history"]] == [1, 2]


def test_the_manifest_records_recipe_data_accuracy_time_and_versions(pretrained):
    folder, manifest, _ = pretrained
    stored = json.loads(backbones.manifest_path(folder / backbones.WEIGHTS_FILE).read_text())
    assert stored == manifest
    for key in ("architecture", "input_size", "recipe", "data_sha256", "val_accuracy", "val_accuracy_by_size",
                "val_accuracy_with_flips",
                "minutes", "versions", "weights_sha256", "classes"):
        assert key in manifest, key
    assert set(manifest["versions"]) >= {"tensorflow", "keras"}
    assert manifest["fast_mode"] is True and manifest["weights_sha256"] == backbones.sha256(
        folder / backbones.WEIGHTS_FILE)


def test_the_course_backbone_is_found_at_the_path_setting_and_says_what_it_is(pretrained, monkeypatch):
    folder, _, _ = pretrained
    monkeypatch.setenv(backbones.BACKBONE_PATH_ENV, str(folder / backbones.WEIGHTS_FILE))
    monkeypatch.setenv(backbones.BACKBONE_ENV, "imagenette")
    backbone = backbones.load_backbone()
    assert backbone.kind == "imagenette" and "Imagenette" in str(backbone) and "not ImageNet" in str(backbone)
    assert backbone.model.predict(np.zeros((1, 96, 96, 3), np.float32), verbose=0).shape == (1, 10)


def test_offline_auto_says_why_it_falls_back_and_tries_imagenet_once(pretrained, monkeypatch):
    folder, _, _ = pretrained
    tries = []

    def offline():
        tries.append(1)
        raise Exception("URL fetch failure on https://storage.googleapis.com/x.h5: None -- [Errno -3] "
                        "Temporary failure in name resolution")

    monkeypatch.setattr(backbones, "_imagenet_backbone", offline)
    monkeypatch.setattr(backbones, "_IMAGENET_UNAVAILABLE", [])
    monkeypatch.setenv(backbones.BACKBONE_PATH_ENV, str(folder / backbones.WEIGHTS_FILE))
    monkeypatch.setenv(backbones.BACKBONE_ENV, "auto")
    first, second = backbones.load_backbone(), backbones.load_backbone()
    assert first.kind == second.kind == "imagenette" and len(tries) == 1
    for backbone in (first, second):
        assert "no ImageNet weights: URL fetch failure" in str(backbone) and "using the course's backbone" in str(
            backbone)
    monkeypatch.setenv(backbones.BACKBONE_ENV, "imagenet")
    with pytest.raises(RuntimeError, match="ImageNet weights are not available .*name resolution.*imagenette"):
        backbones.load_backbone()


def test_an_unknown_backbone_setting_is_refused(monkeypatch):
    monkeypatch.setenv(backbones.BACKBONE_ENV, "vgg")
    with pytest.raises(ValueError, match="auto, imagenet, imagenette"):
        backbones.choice()


def test_the_published_copy_is_downloaded_and_checked(pretrained, tmp_path):
    from course_utils.download import ChecksumError

    folder, _, _ = pretrained
    source = folder / backbones.WEIGHTS_FILE
    url = source.as_uri()  # a local stand-in for the published URL
    target = backbones.fetch_published(url, backbones.sha256(source), tmp_path / backbones.WEIGHTS_FILE)
    assert backbones.sha256(target) == backbones.sha256(source)
    assert backbones.read_manifest(target)["weights_sha256"] == backbones.sha256(source)
    with pytest.raises(ChecksumError, match="Checksum mismatch"):
        backbones.fetch_published(url, "0" * 64, tmp_path / "other" / backbones.WEIGHTS_FILE)
    assert not list((tmp_path / "other").iterdir())  # nothing kept, not even a partial file


def test_a_published_copy_without_a_matching_manifest_is_kept_with_a_warning(pretrained, tmp_path):
    folder, _, _ = pretrained
    copy = tmp_path / "published"
    copy.mkdir()
    shutil.copy(folder / backbones.WEIGHTS_FILE, copy / backbones.WEIGHTS_FILE)
    (copy / backbones.MANIFEST_FILE).write_text(json.dumps({"weights_sha256": "another"}))
    url, sha = (copy / backbones.WEIGHTS_FILE).as_uri(), backbones.sha256(copy / backbones.WEIGHTS_FILE)
    with pytest.warns(UserWarning, match="without their manifest: .* describes other weights"):
        target = backbones.fetch_published(url, sha, tmp_path / "a" / backbones.WEIGHTS_FILE)
    assert target.is_file() and backbones.read_manifest(target) is None
    (copy / backbones.MANIFEST_FILE).unlink()
    with pytest.warns(UserWarning, match="could not be read"):
        backbones.fetch_published(url, sha, tmp_path / "b" / backbones.WEIGHTS_FILE)


def test_the_pretrain_command_downloads_a_published_copy(pretrained, tmp_path, capsys):
    folder, _, _ = pretrained
    url, sha = (folder / backbones.WEIGHTS_FILE).as_uri(), backbones.sha256(folder / backbones.WEIGHTS_FILE)
    with pytest.raises(SystemExit):
        pretrain.main(["--download", url])
    assert "--download needs --sha256" in capsys.readouterr().err
    output = tmp_path / "cli" / backbones.WEIGHTS_FILE
    assert pretrain.main(["--download", url, "--sha256", sha, "--output", str(output)]) == 0
    assert backbones.sha256(output) == sha
    assert pretrain.main(["--download", url, "--sha256", "0" * 64, "--output", str(tmp_path / "x.weights.h5")]) == 1
    assert "Checksum mismatch" in capsys.readouterr().err


def test_precision_auto_is_bfloat16_only_where_the_cpu_computes_it(monkeypatch):
    recipe = {**pretrain.RECIPE, "precision": "auto"}
    monkeypatch.setattr(pretrain, "native_bfloat16", lambda: True)
    assert pretrain.resolve_precision(recipe)["precision"] == "mixed_bfloat16"
    monkeypatch.setattr(pretrain, "native_bfloat16", lambda: False)
    assert pretrain.resolve_precision(recipe)["precision"] == "float32"
    assert pretrain.resolve_precision({**recipe, "precision": "float32"})["precision"] == "float32"
    assert pretrain.FAST["precision"] == "float32"  # the stand-in is the same on every machine


def test_a_mixed_precision_backbone_keeps_float32_probabilities_and_the_policy_is_put_back():
    import keras

    with pytest.raises(RuntimeError), pretrain.precision_policy("mixed_bfloat16"):
        mixed = backbones.resnet18(10, input_shape=(32, 32, 3))
        raise RuntimeError("training stopped")
    assert keras.mixed_precision.global_policy().name == "float32"
    assert mixed.get_layer("conv1_conv").compute_dtype == "bfloat16"
    assert mixed.get_layer(backbones.DENSE_LAYER).compute_dtype == "float32"
    assert mixed(np.zeros((1, 32, 32, 3), np.float32)).dtype == "float32"
    assert backbones.resnet18(10, input_shape=(32, 32, 3)).get_layer("conv1_conv").compute_dtype == "float32"


def test_weight_decay_shrinks_kernels_but_not_batchnorm_or_biases():
    """One AdamW step with zero gradients: only the decay moves the weights."""
    import keras

    inputs = keras.Input((8, 8, 3))
    x = keras.layers.BatchNormalization(name="bn")(keras.layers.Conv2D(4, 3, use_bias=False, name="conv")(inputs))
    model = keras.Model(inputs, keras.layers.Dense(2, name="dense")(keras.layers.Flatten()(x)))
    pretrain.compile_model(model, pretrain.RECIPE, steps_per_epoch=10)
    for variable in model.trainable_variables:
        variable.assign(np.ones(variable.shape, np.float32))  # zeros (beta, biases) would not show decay
    model.optimizer.apply_gradients([(np.zeros(v.shape, np.float32), v) for v in model.trainable_variables])
    moved = {v.path for v in model.trainable_variables if not np.all(np.array(v) == 1.0)}
    assert moved == {"conv/kernel", "dense/kernel"}
