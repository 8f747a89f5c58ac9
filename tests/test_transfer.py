"""Notebook 06's transfer-learning side (course_utils.transfer) and its two benchmarks, in fast mode.

A tiny random network with the backbones' layer names (``conv{stage}_block{n}_...``, ``features``,
``avg_pool``, ``predictions``) stands in for the pretrained backbone, so every test takes seconds.
"""
from __future__ import annotations

import json

import numpy as np
import pytest

from course_utils import backbones, data, transfer
from course_utils.datasets import FLOWER_CLASSES, IMAGENETTE_CLASSES


def tiny_model(classes: int = 10):
    """Four stages of one basic block each (16-32 filters), stride 32 like ResNet-18: 7x7 at 224 pixels."""
    import keras
    from keras import layers

    inputs = keras.Input((None, None, 3), name="images")
    x = layers.Rescaling(1 / 255.0, name="normalize")(inputs)
    # 16 filters at least: eager oneDNN (TF 2.21) corrupted memory in the filter gradient of 8-filter
    # convolutions at 224x224
    x = backbones._conv_bn(x, 16, 3, 2, "conv1")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    for stage, (filters, strides) in enumerate(((16, 1), (16, 2), (32, 2), (32, 2)), start=2):
        x = backbones._basic_block(x, filters, strides, f"conv{stage}_block1")
    x = layers.Identity(name=backbones.FEATURE_LAYER)(x)
    x = layers.GlobalAveragePooling2D(name=backbones.POOL_LAYER)(x)
    outputs = layers.Dense(classes, activation="softmax", name=backbones.DENSE_LAYER)(x)
    return keras.Model(inputs, outputs, name="tiny")


def tiny_backbone():
    return backbones.Backbone("stand-in", tiny_model(), IMAGENETTE_CLASSES, 64,
                              "backbone: a tiny random network (tests)")


def batchnorms(model):
    import keras

    return [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]


def tiny_batches(n=8, size=32, classes=5, batch=4):
    import tensorflow as tf

    rng = np.random.default_rng(0)
    x = rng.uniform(0, 255, (n, size, size, 3)).astype("float32")
    return tf.data.Dataset.from_tensor_slices((x, np.arange(n) % classes)).batch(batch)


# --------------------------------------------------------------------------- the split


def as_sets(split):
    return {name: {str(p) for p in paths} for name, (paths, _) in split.parts().items()}


def test_the_split_is_stratified_seeded_and_disjoint():
    paths, labels = data.flowers_files()
    split = transfer.flowers_split(seed=0)
    parts = as_sets(split)
    assert not (parts["train"] & parts["validation"] or parts["train"] & parts["test"]
                or parts["validation"] & parts["test"])
    assert set().union(*parts.values()) == {str(p) for p in paths}
    counts = split.counts()
    for label in range(len(FLOWER_CLASSES)):
        n = int(np.sum(labels == label))
        for name, fraction in zip(("train", "validation", "test"), transfer.FRACTIONS):
            assert abs(counts[name][label] - fraction * n) <= 1, (name, label)
    for name, (part_paths, part_labels) in split.parts().items():  # labels follow their photos
        assert [FLOWER_CLASSES[label] for label in part_labels] == [p.parent.name for p in part_paths]
    assert as_sets(transfer.flowers_split(seed=0)) == parts
    assert as_sets(transfer.flowers_split(seed=1))["test"] != parts["test"]


def test_the_test_part_does_not_change_with_train_per_class():
    full, small = transfer.flowers_split(0), transfer.flowers_split(0, train_per_class=50)
    assert as_sets(small)["test"] == as_sets(full)["test"]
    assert as_sets(small)["validation"] == as_sets(full)["validation"]
    assert as_sets(small)["train"] < as_sets(full)["train"]
    assert small.counts()["train"] == [50] * len(FLOWER_CLASSES)
    assert "50 training photos per class" in str(small)
    tiny, tiny_small = transfer.flowers_split(0, eval_per_class=2), transfer.flowers_split(0, 3, eval_per_class=2)
    assert as_sets(tiny)["test"] == as_sets(tiny_small)["test"] and len(tiny.test[0]) == 10
    with pytest.raises(ValueError, match="training photos"):
        transfer.flowers_split(0, train_per_class=10_000)


def test_datasets_give_images_0_255_at_the_size_asked():
    split = transfer.flowers_split(0, train_per_class=2, eval_per_class=1)
    sets = transfer.split_datasets(split, image_size=48, batch_size=4)
    for name, dataset in sets.items():
        images, labels = next(iter(dataset))
        assert images.shape[1:] == (48, 48, 3) and images.dtype.name == "float32", name
        assert float(np.max(images)) > 1.5 and 0 <= float(np.min(images)) and float(np.max(images)) <= 255
    plain = [np.asarray(x) for x, _ in sets["test"]]
    again = [np.asarray(x) for x, _ in transfer.split_datasets(split, 48, 4)["test"]]
    np.testing.assert_array_equal(np.concatenate(plain), np.concatenate(again))  # no augmentation


# --------------------------------------------------------------------------- models


def test_feature_extractor_ends_at_the_feature_map_of_the_course_backbone():
    model = backbones.resnet18(10)
    base = transfer.feature_extractor(model)
    assert base.layers[-1].name == backbones.FEATURE_LAYER
    assert base.output.shape[1:] == (None, None, 512)
    assert base(np.zeros((1, 224, 224, 3), np.float32)).shape == (1, 7, 7, 512)
    assert base.layers[-1] is model.get_layer(backbones.FEATURE_LAYER)  # the same layers: shared weights
    scratch = transfer.scratch_model(5)
    assert scratch.get_layer(backbones.DENSE_LAYER).units == 5 and scratch.count_params() < model.count_params()


def test_the_imagenet_backbone_is_one_flat_model_whose_extractor_ends_at_conv5(monkeypatch):
    """ImageNet ResNet-50 with random weights (the real ones need a download): the same layers."""
    original = backbones._imagenet
    monkeypatch.setattr(backbones, "_imagenet", lambda x=None, weights="imagenet", classes=1000:
                        original(x, None, classes))
    monkeypatch.setattr(backbones, "_imagenet_class_names", lambda: [f"class {i}" for i in range(1000)])
    backbone = backbones.load_backbone("imagenet")
    assert backbone.kind == "imagenet" and backbone.feature_layer == "conv5_block3_out"
    assert not any(hasattr(layer, "layers") for layer in backbone.model.layers)  # nothing nested
    assert backbone.model.layers[1].name == "preprocess"
    base = transfer.feature_extractor(backbone)
    assert base.layers[-1].name == "conv5_block3_out"
    assert base(np.zeros((1, 64, 64, 3), np.float32)).shape == (1, 2, 2, 2048)


def test_fine_tune_leaves_every_batchnorm_frozen_and_recompiles():
    from course_utils import cam

    base = transfer.feature_extractor(tiny_model())
    model = cam.build_transfer_model(base, 5)
    model.compile("adam", "sparse_categorical_crossentropy")
    model.fit(tiny_batches(), epochs=1, verbose=0, shuffle=False)
    frozen_head = len(model.trainable_weights)
    before = model.optimizer
    lower = base.get_layer("conv2_block1_1_conv").kernel.numpy()
    # the projection shortcut: a random branch starts silent (zero-gamma BatchNorm, frozen), so its convolutions get
    # no gradient here; pretrained ones do
    top = base.get_layer("conv5_block1_0_conv").kernel.numpy()
    moving = base.get_layer("conv5_block1_1_bn").moving_mean.numpy()

    assert transfer.fine_tune(model, base, n_blocks=1, learning_rate=1e-3) is model
    assert model.optimizer is not before  # compiled again: a new optimizer ...
    assert float(model.optimizer.learning_rate) == pytest.approx(1e-3)  # ... at the rate asked for
    assert batchnorms(base) and not any(layer.trainable for layer in batchnorms(base))
    assert base.get_layer("conv5_block1_1_conv").trainable and not base.get_layer("conv4_block1_1_conv").trainable
    assert len(model.trainable_weights) > frozen_head
    model.fit(tiny_batches(), epochs=1, verbose=0, shuffle=False)
    assert not np.allclose(base.get_layer("conv5_block1_0_conv").kernel.numpy(), top)  # the top block learns
    np.testing.assert_array_equal(base.get_layer("conv2_block1_1_conv").kernel.numpy(), lower)
    np.testing.assert_array_equal(base.get_layer("conv5_block1_1_bn").moving_mean.numpy(), moving)


def test_fine_tuning_pitfalls_start_from_the_same_weights_and_put_them_back():
    from course_utils import cam

    base = transfer.feature_extractor(tiny_model())
    model = cam.build_transfer_model(base, 5)
    weights = [w.copy() for w in model.get_weights()]
    found = transfer.fine_tuning_pitfalls(model, base, tiny_batches(), tiny_batches(), n_blocks=1)
    assert list(found) == list(transfer.PITFALLS)
    assert all(0 <= row["val_accuracy_after"] <= 1 and row["description"] for row in found.values())
    assert "learning rate 0.01" in found["high learning rate"]["description"]
    for now, then in zip(model.get_weights(), weights):
        np.testing.assert_array_equal(now, then)
    assert not base.trainable and not any(layer.trainable for layer in batchnorms(base))


def test_only_the_unfrozen_batchnorm_pitfall_moves_the_running_statistics(monkeypatch):
    """What each variant did to the top block's BatchNorm, seen when its accuracy is taken (before the put-back)."""
    from course_utils import cam

    base = transfer.feature_extractor(tiny_model())
    model = cam.build_transfer_model(base, 5)
    top_bn = base.get_layer("conv5_block1_1_bn")
    start = top_bn.moving_mean.numpy().copy()
    seen, evaluate = [], transfer.models.evaluate

    def spy(model, dataset):
        seen.append(top_bn.moving_mean.numpy().copy())
        return evaluate(model, dataset)

    monkeypatch.setattr(transfer.models, "evaluate", spy)
    found = transfer.fine_tuning_pitfalls(model, base, tiny_batches(), tiny_batches(), n_blocks=1)
    moved = {name: not np.allclose(mean, start) for name, mean in zip(found, seen[1:])}  # seen[0]: before
    assert moved == {"careful": False, "high learning rate": False, "BatchNorm unfrozen": True}
    np.testing.assert_array_equal(top_bn.moving_mean.numpy(), start)  # put back


# --------------------------------------------------------------------------- the benchmarks, fast mode


@pytest.fixture
def tiny_everywhere(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    monkeypatch.setattr(backbones, "load_backbone", lambda kind=None: tiny_backbone())
    monkeypatch.setattr(transfer, "scratch_model", lambda num_classes, backbone=None: tiny_model(num_classes))


def test_an_experiment_leaves_the_backbone_as_it_came_so_the_next_one_starts_from_the_pretrained_weights(
        tiny_everywhere):
    """The notebook runs the small-data experiment after the full one on the same backbone object: fine-tuning
    changes its shared weights in place, which must not carry over (the small setting would start from a base
    already fine-tuned on every training photo)."""
    backbone = tiny_backbone()
    weights = [w.copy() for w in backbone.model.get_weights()]
    flags = [layer.trainable for layer in backbone.model.layers]
    result = transfer.run_transfer_experiment(backbone, image_size=32, scratch=False)
    assert result["transfer"]["fine_tune"]["epochs"] >= 1  # the top blocks were trained...
    for now, then in zip(backbone.model.get_weights(), weights, strict=True):  # ... and put back
        np.testing.assert_array_equal(now, then)
    assert [layer.trainable for layer in backbone.model.layers] == flags


def test_weights_put_back_restores_the_layers_of_a_model_nested_in_another():
    from course_utils import cam

    base = transfer.feature_extractor(tiny_model())
    model = cam.build_transfer_model(base, 2)  # the base is frozen inside it
    weights = [w.copy() for w in model.get_weights()]
    with transfer.weights_put_back(model):
        cam.unfreeze_top(base, 2)
        model.set_weights([w + 1 for w in weights])
    assert base.trainable is False and not any(layer.trainable for layer in base.layers)
    for now, then in zip(model.get_weights(), weights, strict=True):
        np.testing.assert_array_equal(now, then)


def test_the_transfer_benchmark_runs_end_to_end_in_fast_mode(tiny_everywhere, tmp_path, capsys):
    from benchmarks import transfer as benchmark

    output = tmp_path / "transfer.json"
    result = benchmark.main(["--fast", "--size", "32", "--small", "2", "--output", str(output)])
    printed = capsys.readouterr().out
    assert json.loads(output.read_text()) == json.loads(json.dumps(result))
    full, small = result["runs"]
    assert full["photos"]["test"] == small["photos"]["test"] == 2 * len(FLOWER_CLASSES)
    assert small["photos"]["train"] < full["photos"]["train"]
    for run in (full, small):
        assert run["scratch"]["epochs"] == run["transfer"]["epochs"] == 2
        assert len(run["transfer"]["val_accuracy"]) == len(run["scratch"]["val_accuracy"]) == 2
        for phase in (run["transfer"]["head"], run["transfer"]["fine_tune"], run["scratch"]):
            assert 0 <= phase["test_accuracy"] <= 1 and phase["seconds_per_epoch"] > 0
    assert "pitfalls" not in full  # --pitfalls: fine_tuning_pitfalls, tested above
    assert "from scratch" in printed and "transfer vs scratch at 2 epochs" in printed and "wrote" in printed


def test_the_cam_benchmark_runs_end_to_end_in_fast_mode(tiny_everywhere, tmp_path, capsys):
    from benchmarks import cam_localisation as benchmark

    output = tmp_path / "cam.json"
    result = benchmark.main(["--fast", "--pets", "3", "--output", str(output)])
    printed = capsys.readouterr().out
    assert json.loads(output.read_text())["summary"] == result["summary"]
    assert result["feature_map"] == [7, 7] and result["size"] == 224
    assert result["settings"]["n_blocks"] == 4  # every block of the tiny base
    assert result["record"] == "cats_vs_dogs_cam"  # notebook 06's recipe: its record
    assert result["summary"]["photos"] == len(result["photos"]) == 3
    for row in result["photos"]:
        assert isinstance(row["cam_hit"], bool) and 0 <= row["cam_mass_inside"] <= 1
        assert 0 < row["mask_share"] < 1
        height, width = row["photo_size"]
        assert 0 <= row["cam_peak"][0] < height and 0 <= row["cam_peak"][1] < width  # in photo pixels
    assert "pointing game" in printed and "always the centre" in printed


def test_the_pet_classifier_takes_only_the_changes_its_recipe_knows():
    with pytest.raises(TypeError, match="not blocks"):
        transfer.pet_classifier(tiny_backbone(), blocks=2)


def test_localise_pets_gives_maps_at_photo_size_and_gallery_panels():
    import matplotlib

    matplotlib.use("Agg")
    from course_utils import cam, plots

    base = transfer.feature_extractor(tiny_model())
    model = cam.build_transfer_model(base, 2)
    pets = data.load_pets_cam()[:2]
    rows, maps, size = transfer.localise_pets(model, base, pets, backbones.FEATURE_LAYER)
    assert size == [7, 7] and [row["name"] for row in rows] == [pet["name"] for pet in pets]
    for pet, heat in zip(pets, maps):
        assert heat.shape == pet["image"].shape[:2] and 0 <= heat.min() and heat.max() <= 1
    summary = transfer.localisation_summary(rows)
    assert summary["photos"] == 2 and summary["cam_hits"] == sum(row["cam_hit"] for row in rows)
    everything = transfer.gallery_items(pets, rows, maps, "all")
    misses = transfer.gallery_items(pets, rows, maps)
    assert len(everything) == 2 and len(misses) == 2 - summary["cam_hits"]
    assert all(item["color"] == plots.WRONG_COLOR and item["title"].endswith("miss") for item in misses)
    fig = plots.cam_gallery(everything, columns=2, title="where it looked")
    assert [ax.get_title() for ax in fig.axes] == [item["title"] for item in everything]


@pytest.fixture
def no_answers_given(monkeypatch):
    monkeypatch.setattr(transfer, "_given_answers", {})


def test_the_helpers_use_the_answers_the_notebook_hands_over(no_answers_given, monkeypatch):
    from course_utils import cam

    assert transfer.answer("class_activation_map") is cam.class_activation_map  # the course's, by default
    calls = []

    def my_map(features, kernel, class_index):
        calls.append(class_index)
        return np.ones(np.shape(features)[:2], np.float32)

    transfer.use_answers(class_activation_map=my_map)
    found = transfer._class_map(np.zeros((3, 4, 5), np.float32), np.zeros((5, 2), np.float32), 1, (6, 8))
    assert calls == [1] and found.shape == (6, 8)   # the course's upsample_and_normalise, on my map
    with pytest.raises(TypeError, match="not grad_cams"):
        transfer.use_answers(grad_cams=my_map)
    with pytest.raises(TypeError, match="mass_inside should be a function, not int"):
        transfer.use_answers(mass_inside=3)


def test_without_the_course_answers_a_helper_says_which_of_yours_it_needs(no_answers_given, monkeypatch):
    import sys

    import course_utils

    monkeypatch.setitem(sys.modules, "course_utils.cam", None)  # a student package with 06 still open
    monkeypatch.delattr(course_utils, "cam", raising=False)
    with pytest.raises(RuntimeError) as missing:
        transfer.answer("grad_cam")
    assert str(missing.value) == ("this step uses your grad_cam: write it in its exercise cell, run that cell, then "
                                  "transfer.use_answers(grad_cam=grad_cam)")
