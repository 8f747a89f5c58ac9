"""Notebook 04 (ResNet-50): the references and the shared model code, the training recipe, the pipeline.

The catalogue of wrong, hard-coded and alternative answers is ``catalogues/resnet50.py``, run by
``test_catalogues.py``; its ``CLASS`` is the class of the one nbgrader run.
"""
from __future__ import annotations

import numpy as np
import pytest

from course_autograde import make_references
from course_autograde.notebook_code import notebook_path, solution_namespace

ID = "04_resnet50"


# --------------------------------------------------------------------------- shared model code


def test_reference_matches_a_fresh_build_and_the_course_resnet50():
    from course_utils import references
    from course_utils.checks import resnet50 as checks
    from course_utils.resnet50 import resnet50

    stored = references.load(ID)["ResNet50"]
    fresh = checks.CHECKS.build_references(solution_namespace(notebook_path(ID)))["ResNet50"]
    assert make_references.compare(ID, {"ResNet50": stored}, {"ResNet50": fresh}) == []
    case = checks.CASES["visible"][0]
    library = checks.run(resnet50, case)  # the same run as the check and the references
    within = make_references.tolerance(ID, "ResNet50")
    assert references.differences(stored["visible"][case.name], library, **within) == []
    assert 23.5e6 < library["params"] < 23.7e6
    checks.compare(library, stored["visible"][case.name], case)  # raises on any difference


def test_save_and_reload_give_identical_predictions(tmp_path, monkeypatch):
    from course_utils import models
    from course_utils.resnet50 import resnet50

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path))
    model = resnet50((64, 64, 3), 2)
    path = models.save_model(model, "tiny_resnet50")
    assert path.parent == tmp_path / "models" and path.suffix == ".keras"
    reloaded = models.load_model("tiny_resnet50")
    x = np.random.default_rng(0).random((2, 64, 64, 3), dtype=np.float32)
    np.testing.assert_array_equal(model.predict(x, verbose=0), reloaded.predict(x, verbose=0))
    with pytest.raises(FileNotFoundError, match="save_model"):
        models.load_model("no_such_model")


def test_prepare_for_training_gives_each_layer_its_own_start_and_identity_blocks():
    import keras

    from course_utils import models

    from course_utils.resnet50 import resnet50
    from course_utils.blocks import identity_block

    model = resnet50((64, 64, 3), 2)
    kernel = lambda name: keras.ops.convert_to_numpy(model.get_layer(name).kernel)  # noqa: E731
    assert np.array_equal(kernel("res2b_branch2a"), kernel("res2c_branch2a"))  # the classic seed=0 start
    before = [layer.get_config() for layer in model.layers]
    models.prepare_for_training(model, seed=3)
    assert [layer.get_config()["name"] for layer in model.layers] == [c["name"] for c in before]
    assert not np.array_equal(kernel("res2b_branch2a"), kernel("res2c_branch2a"))
    fan_in = 3 * 3 * 64
    assert abs(kernel("res2b_branch2b").std() - np.sqrt(2 / fan_in)) < 0.1 * np.sqrt(2 / fan_in)  # He scale
    for layer in model.layers:
        if type(layer).__name__ == "BatchNormalization":
            assert layer.momentum == models.RECIPES["course"]["bn_momentum"], layer.name
            gamma = keras.ops.convert_to_numpy(layer.gamma)
            assert np.all(gamma == 0) == layer.name.endswith("_branch2c"), layer.name

    # with gamma = 0 at the end of its main path, an identity block starts as the identity
    inputs = keras.Input((8, 8, 16))
    block = keras.Model(inputs, identity_block(inputs, 3, [4, 4, 16], stage=9, block="a"))
    models.prepare_for_training(block, bn_momentum=0.97)
    assert {layer.momentum for layer in models.batchnorm_layers(block)} == {0.97}
    x = np.random.default_rng(0).random((2, 8, 8, 16), dtype=np.float32)  # >= 0, like a ReLU output
    np.testing.assert_allclose(block.predict(x, verbose=0), x, atol=1e-6)


def test_flip_averaging_scores_a_photo_and_its_mirror_image():
    import keras
    import tensorflow as tf

    from course_utils import models

    # a "model" that only looks at the left half of the image: flips change its answer
    inputs = keras.Input((4, 4, 1))
    left = keras.layers.Lambda(lambda x: keras.ops.mean(x[:, :, :2, :], axis=(1, 2, 3)))(inputs)
    outputs = keras.layers.Lambda(lambda m: keras.ops.stack([1 - m, m], axis=1))(left)
    model = keras.Model(inputs, outputs)
    image = np.zeros((1, 4, 4, 1), np.float32)
    image[0, :, :2] = 1.0  # bright left half
    ds = tf.data.Dataset.from_tensor_slices((image, np.array([1]))).batch(1)
    _, _, plain = models.predict(model, ds)
    _, _, averaged = models.predict(model, ds, flip_average=True)
    np.testing.assert_allclose(plain, [[0.0, 1.0]])
    np.testing.assert_allclose(averaged, [[0.5, 0.5]])


def test_recalibrate_batchnorm_measures_the_photos_and_leaves_the_weights_alone():
    import keras
    import tensorflow as tf

    from course_utils import models

    inputs = keras.Input((4, 4, 2))
    inner = keras.Sequential([keras.Input((4, 4, 2)), keras.layers.BatchNormalization(name="inner_bn")])
    model = keras.Model(inputs, inner(keras.layers.BatchNormalization(momentum=0.9, name="outer_bn")(inputs)))
    bns = models.batchnorm_layers(model)
    assert [layer.name for layer in bns] == ["outer_bn", "inner_bn"]  # nested models are searched too
    weights = [w.copy() for w in model.get_weights()]
    # channel 0 has mean 3 and variance 4, channel 1 mean -1 and variance 0.25
    rng = np.random.default_rng(0)
    photos = np.stack([rng.normal(3, 2, (256, 4, 4)), rng.normal(-1, 0.5, (256, 4, 4))], -1).astype(np.float32)
    ds = tf.data.Dataset.from_tensor_slices((photos, np.zeros(256))).batch(8)
    models.recalibrate_batchnorm(model, ds, momentum=0.9)
    outer = model.get_layer("outer_bn")
    np.testing.assert_allclose(keras.ops.convert_to_numpy(outer.moving_mean), [3, -1], atol=0.15)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(outer.moving_variance), [4, 0.25], rtol=0.25)
    inner_mean = keras.ops.convert_to_numpy(bns[1].moving_mean)
    assert np.all(np.abs(inner_mean) < 0.15)  # it sees the outer layer's normalised output
    assert [layer.momentum for layer in bns] == [0.9, 0.99]  # each layer's own setting is back
    trainable = [w for w, v in zip(model.get_weights(), model.weights) if v.trainable]
    original = [w for w, v in zip(weights, model.weights) if v.trainable]
    for now, before in zip(trainable, original):
        np.testing.assert_array_equal(now, before)


def test_keep_best_keeps_the_averaged_weights_when_the_optimizer_averages():
    import keras
    import tensorflow as tf

    from course_utils import models

    keras.utils.set_random_seed(0)
    x = np.random.default_rng(0).random((64, 8), dtype=np.float32)
    y = (x.sum(axis=1) > 4).astype("int32")
    val = tf.data.Dataset.from_tensor_slices((x[:32], y[:32])).batch(8)
    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(2, activation="softmax")])
    variant = dict(models.RECIPES["course"], ema_momentum=0.9)
    model.compile(optimizer=models.make_optimizer(variant, steps_per_epoch=8, epochs=3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    weights = lambda: [v.numpy() for v in model.trainable_variables]  # noqa: E731
    seen, after, average = [], [], []

    class Before(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):  # the moving average, computed here independently
            now = weights()  # Keras starts the average at the weights after the first step
            average[:] = now if not average else [0.9 * a + 0.1 * w for a, w in zip(average, now)]

        def on_epoch_end(self, epoch, logs=None):
            seen.append((weights(), list(average)))

    class After(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            after.append(weights())

    keep = models.keep_best(validation=val)
    history = model.fit(x, y, batch_size=8, epochs=3, validation_data=val, verbose=0,
                        callbacks=[Before(), keep, After()])
    assert keep.best == max(history.history["averaged_val_accuracy"])
    for (raw, _), later in zip(seen, after):  # scoring the average leaves training on the raw weights
        for r, w in zip(raw, later):
            np.testing.assert_array_equal(r, w)
    raw, averaged = seen[keep.best_epoch]
    for final, a in zip(weights(), averaged):
        np.testing.assert_allclose(final, a, rtol=1e-5, atol=1e-6)
    assert not all(np.allclose(final, r) for final, r in zip(weights(), raw))


def test_recipe_settings_accept_a_name_or_a_variant():
    from benchmarks import accuracy
    from course_utils import models

    assert models.recipe_settings("course") is models.RECIPES["course"]
    variant = accuracy.variant("course", accuracy.parse_overrides(["learning_rate=2e-3", "augment=false"]))
    assert variant["learning_rate"] == 2e-3 and variant["augment"] is False
    assert models.RECIPES["course"]["learning_rate"] == 1e-3  # the recipe itself is untouched
    assert float(models.make_optimizer(variant, 10, 1).learning_rate.numpy()) < 2e-3  # warm-up starts low
    with pytest.raises(ValueError, match="unknown recipe 'fancy'"):
        models.recipe_settings("fancy")
    with pytest.raises(SystemExit, match="no setting 'learnig_rate'"):
        accuracy.variant("course", {"learnig_rate": 1.0})


def test_accuracy_benchmark_runs_end_to_end_on_a_small_subset(tmp_path, capsys):
    import json

    from benchmarks import accuracy

    out = tmp_path / "accuracy.json"
    [result] = accuracy.main(["--recipes", "course", "--epochs", "1", "--limit", "32", "--json", str(out)])
    assert json.loads(out.read_text()) == [result]
    assert 0 <= result["test_accuracy"] <= 1 and result["before_batchnorm_recalibration"] is not None
    assert [e["epoch"] for e in result["per_epoch"]] == [1]
    printed = capsys.readouterr().out
    assert "course recipe:" in printed and "the 85% goal" in printed


def test_tf_data_pipeline_feeds_the_model_for_one_step():
    from course_utils import data, models
    from course_utils.resnet50 import resnet50

    ds = data.cats_vs_dogs_dataset("train", batch_size=8, limit=16, **models.pipeline_augmentation(seed=1))
    images, labels = next(iter(ds))
    assert tuple(images.shape) == (8, 64, 64, 3) and float(np.max(images)) <= 1.0
    model = models.compile_model(resnet50((64, 64, 3), 2), "course", steps_per_epoch=1, epochs=1)
    logs = model.fit(models.with_length(ds.take(1)), epochs=1, verbose=0, shuffle=False).history
    assert np.isfinite(logs["loss"][0])


def test_pipeline_augmentation_follows_the_recipe():
    from course_utils import models

    course = models.pipeline_augmentation("course", seed=0)
    assert course["crop"] == models.RECIPES["course"]["crop"] and callable(course["augment"])
    assert models.pipeline_augmentation("tutorial") == {"augment": None, "crop": None}
    kinds = lambda spec: [type(layer).__name__ for layer in models.augmentation(0, spec).layers]
    assert kinds(dict(models.RECIPES["course"], zoom=0, shift=0)) == ["RandomFlip"]
    assert kinds(dict(models.RECIPES["course"], zoom=0.1, shift=0.1)) == \
        ["RandomFlip", "RandomZoom", "RandomTranslation"]
    images = np.random.default_rng(0).random((4, 64, 64, 3)).astype("float32")
    flipped = np.asarray(course["augment"](images))
    # flips only: every output image is its input or its mirror image
    assert all(np.allclose(f, x) or np.allclose(f, x[:, ::-1]) for f, x in zip(flipped, images))


def test_layer_table_uses_output_shape_and_counts_params():
    from course_utils import models
    from course_utils.resnet50 import resnet50

    model = resnet50((64, 64, 3), 2)
    table = models.layer_table(model)
    first = table[0]
    assert first["type"] == "ZeroPadding2D" and first["output_shape"] == [70, 70, 3]
    assert sum(row["params"] for row in table) == model.count_params()
    stages = models.stage_summary(model)
    assert [r["blocks"] for r in stages if r["stage"].startswith("stage ") and r["blocks"]] == \
        ["abc", "abcd", "abcdef", "abc"]
    assert stages[-1]["params"] == model.count_params()
