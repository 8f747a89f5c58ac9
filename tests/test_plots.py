"""Tests for course_utils.plots: each figure is built from small synthetic inputs,
checked for what it shows, and rendered to PNG."""
from __future__ import annotations

import itertools
import os
from types import SimpleNamespace

os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")  # headless, whatever the environment says

import keras  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from sklearn.metrics import confusion_matrix  # noqa: E402

from course_utils import plots  # noqa: E402

NAMES = ["cat", "dog", "bird", "frog"]
RNG = np.random.default_rng(0)


@pytest.fixture(autouse=True)
def close_figures(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "0")  # titles as a full-mode run draws them (fast mode: the last test)
    yield
    plt.close("all")


@pytest.fixture
def render(tmp_path):
    """``render(fig, name)``: check it is a Figure and that it saves as a non-trivial PNG."""
    def save(fig, name):
        assert isinstance(fig, Figure)
        path = tmp_path / f"{name}.png"
        fig.savefig(path, dpi=60)
        assert path.stat().st_size > 1000
        return path
    return save


def image_axes(fig):
    return [ax for ax in fig.axes if ax.images and ax.get_visible()]


def titles(fig):
    return [ax.get_title() for ax in image_axes(fig)]


def title_colors(fig):
    return [to_hex(ax.title.get_color()) for ax in image_axes(fig)]


# ------------------------------------------------------------------ images --

def test_show_images_grid_has_one_visible_axis_per_image(render):
    images = RNG.random((5, 12, 12, 3)).astype("float32")
    fig = plots.show_images(images, ncols=3, title="five")
    axes = image_axes(fig)
    assert len(axes) == 5 and len(fig.axes) == 5  # the sixth grid cell is removed
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 3)
    assert not any(ax.axison for ax in axes)
    assert fig._suptitle.get_text() == "five"
    render(fig, "images")


def test_show_images_labels_and_predictions_are_coloured(render):
    labels = np.array([0, 1, 2, 3])
    predictions = tf.constant([0, 1, 3, 3])
    fig = plots.show_images(RNG.random((4, 8, 8, 3)), labels, NAMES, predictions)
    assert titles(fig) == ["cat", "dog", "frog\ntrue: bird", "frog"]
    assert title_colors(fig) == [plots.RIGHT_COLOR] * 2 + [plots.WRONG_COLOR, plots.RIGHT_COLOR]
    render(fig, "predictions")


@pytest.mark.parametrize("labels", [
    np.array([[1], [0], [3]]),                      # CIFAR-style (N, 1) ids
    np.eye(4)[[1, 0, 3]],                           # one-hot
    ["dog", "cat", "frog"],                         # strings
    tf.constant(["dog", "cat", "frog"]),            # tf strings arrive as bytes
])
def test_show_images_label_formats(labels):
    fig = plots.show_images(RNG.random((3, 8, 8)), labels, NAMES)
    assert titles(fig) == ["dog", "cat", "frog"]


def test_show_images_uint8_greyscale_tensor_keeps_pixel_scale(render):
    batch = tf.constant(RNG.integers(0, 256, (4, 10, 12, 1)), dtype=tf.uint8)
    fig = plots.show_images(batch)
    for ax, expected in zip(image_axes(fig), batch.numpy()):
        image = ax.images[0]
        assert image.get_array().shape == (10, 12)
        np.testing.assert_array_equal(image.get_array(), expected[..., 0])
        assert image.get_cmap().name == "gray" and image.get_clim() == (0, 255)
    render(fig, "grey_uint8")


def test_show_images_float_0_255_is_rescaled_and_single_image_accepted():
    fig = plots.show_images(np.full((6, 6, 3), 200.0, dtype="float32"))  # one (H, W, 3) image
    (ax,) = image_axes(fig)
    np.testing.assert_allclose(ax.images[0].get_array(), 200 / 255)


@pytest.mark.parametrize("maps,channels", [
    (tf.random.normal((1, 9, 9, 6)), 6),           # a layer's output for one image
    (RNG.random((9, 9, 5)), 5),                     # (H, W, C)
    (RNG.random((7, 9, 9)), 7),                     # (N, H, W)
    ([RNG.random((9, 9)) for _ in range(3)], 3),   # list of maps
])
def test_show_feature_maps_one_panel_per_map(maps, channels, render):
    fig = plots.show_feature_maps(maps, title="maps")
    axes = image_axes(fig)
    assert len(axes) == channels
    assert titles(fig)[:2] == ["#0", "#1"]
    render(fig, f"maps_{channels}")


def test_show_feature_maps_shows_each_channel_on_its_own_scale():
    maps = RNG.random((1, 6, 6, 12)).astype("float32")
    maps[..., 3] *= 100
    fig = plots.show_feature_maps(maps, titles=[f"c{i}" for i in range(12)])
    axes = image_axes(fig)
    assert axes[0].get_subplotspec().get_gridspec().get_geometry() == (2, 6)  # 12 maps: 6 + 6
    np.testing.assert_allclose(axes[3].images[0].get_array(), maps[0, :, :, 3])
    assert axes[3].images[0].get_clim()[1] > 50 > axes[0].images[0].get_clim()[1]
    assert titles(fig)[3] == "c3"


def test_show_feature_maps_rejects_a_batch():
    with pytest.raises(ValueError, match="one example"):
        plots.show_feature_maps(np.zeros((2, 4, 4, 3)))


def test_show_filters_averages_inputs_with_a_centred_diverging_scale(render):
    layer = keras.layers.Conv2D(4, 3)
    layer.build((None, 8, 8, 2))
    kernel = np.asarray(layer.kernel)
    fig = plots.show_filters(layer.kernel)  # a Keras variable, (3, 3, 2, 4)
    axes = image_axes(fig)
    assert len(axes) == 4
    assert len(fig.axes) == 5  # plus one shared colorbar
    for i, ax in enumerate(axes):
        image = ax.images[0]
        np.testing.assert_allclose(image.get_array(), kernel[:, :, :, i].mean(axis=2), rtol=1e-6)
        low, high = image.get_clim()
        assert low == -high and image.get_cmap().name == "RdBu_r"
        assert len(ax.texts) == 9  # small kernels show their values
    render(fig, "filters")


def test_show_filters_single_2d_kernel():
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype="float32")
    fig = plots.show_filters(sobel, titles=["Sobel x"])
    (ax,) = image_axes(fig)
    assert ax.get_title() == "Sobel x"
    assert [t.get_text() for t in ax.texts] == ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]
    with pytest.raises(ValueError):
        plots.show_filters(np.zeros((3, 3, 4)))


def test_show_before_after_draws_pooled_image_at_the_same_size(render):
    image = tf.random.uniform((1, 8, 8, 1))
    pooled = tf.nn.max_pool2d(image, 2, 2, "VALID")  # (1, 4, 4, 1): batch axis is dropped
    fig = plots.show_before_after(image[0], pooled)
    before, after = image_axes(fig)
    assert before.images[0].get_array().shape == (8, 8)
    assert after.images[0].get_array().shape == (4, 4)
    assert before.images[0].get_extent() == after.images[0].get_extent() == [0, 8, 8, 0]
    fig.canvas.draw()
    assert before.get_position().width == pytest.approx(after.get_position().width)
    assert before.get_position().height == pytest.approx(after.get_position().height)
    assert "8×8" in before.get_title() and "4×4" in after.get_title()
    render(fig, "before_after")


def max_pool(image):
    return image.reshape(image.shape[0] // 2, 2, image.shape[1] // 2, 2).max(axis=(1, 3))


def test_show_shift_invariance_rows_and_unchanged_fraction(render):
    image = np.zeros((8, 8), dtype="float32")
    image[2:4, 2:4] = 1.0
    shifts = [0, 1, 2]
    shifted = [np.roll(image, s, axis=1) for s in shifts]
    pooled = [max_pool(s) for s in shifted]
    fig = plots.show_shift_invariance(shifted, pooled, shifts)
    assert len(image_axes(fig)) == 6
    top, bottom = titles(fig)[:3], titles(fig)[3:]
    assert top == ["original", "shifted +1 px", "shifted +2 px"]
    for shown, result in zip(bottom[1:], pooled[1:]):
        assert f"{np.mean(result == pooled[0]):.0%} unchanged" in shown
    assert image_axes(fig)[4].images[0].get_extent() == [0, 8, 8, 0]
    with pytest.raises(ValueError):
        plots.show_shift_invariance(shifted, pooled[:2], shifts)
    render(fig, "shift")


def test_show_cam_resizes_heatmap_and_outlines_mask(render):
    image = RNG.integers(0, 256, (32, 32, 3)).astype("uint8")
    heatmap = np.zeros((4, 4), dtype="float32")
    heatmap[1, 2] = 3.0
    mask = np.zeros((32, 32))
    mask[8:20, 16:28] = 1
    heatmap = tf.constant(heatmap[None, :, :, None])  # (1, h, w, 1) as a model returns it
    fig = plots.show_cam(image, heatmap, alpha=0.4, title="cat", mask=mask)
    (ax,) = image_axes(fig)
    base, overlay = ax.images
    heat = overlay.get_array()
    assert heat.shape == (32, 32) and heat.min() == 0 and heat.max() == pytest.approx(1)
    row, col = np.unravel_index(np.argmax(heat), heat.shape)
    assert 8 <= row < 16 and 16 <= col < 24  # the hot cell (1, 2) of the 4×4 grid
    assert overlay.get_alpha() == 0.4
    assert ax.collections  # the mask contour
    assert ax.get_title() == "cat"
    render(fig, "cam")


# ------------------------------------------------------------ evaluation --

def test_show_misclassified_shows_only_the_wrong_ones(render):
    images = RNG.integers(0, 256, (10, 8, 8, 3)).astype("uint8")
    y_true = np.array([0, 1, 2, 3, 0, 1, 2, 3, 0, 1])
    y_pred = y_true.copy()
    wrong = [2, 5, 7]
    y_pred[wrong] = [0, 3, 1]
    fig = plots.show_misclassified(images, y_true, tf.constant(y_pred), NAMES)
    axes = image_axes(fig)
    assert len(axes) == 3
    assert titles(fig) == ["cat\ntrue: bird", "frog\ntrue: dog", "dog\ntrue: frog"]
    assert set(title_colors(fig)) == {plots.WRONG_COLOR}
    for ax, index in zip(axes, wrong):
        np.testing.assert_array_equal(ax.images[0].get_array(), images[index])
    assert fig._suptitle.get_text() == "3 of 10 misclassified"
    render(fig, "misclassified")


def test_show_misclassified_probabilities_sort_and_limit():
    y_true = np.array([0, 1, 2, 3])
    probabilities = np.array([[0.1, 0.6, 0.2, 0.1],    # wrong, 60 %
                              [0.1, 0.8, 0.05, 0.05],  # right
                              [0.05, 0.05, 0.1, 0.8],  # wrong, 80 %
                              [0.7, 0.1, 0.1, 0.1]])   # wrong, 70 %
    fig = plots.show_misclassified(RNG.random((4, 8, 8)), y_true, probabilities, NAMES, max_images=2)
    assert titles(fig) == ["frog\ntrue: bird\n80% confident", "cat\ntrue: frog\n70% confident"]
    assert fig._suptitle.get_text() == "3 of 4 misclassified (showing 2)"


def test_show_misclassified_without_mistakes_says_so(render):
    labels = np.array([0, 1, 2])
    fig = plots.show_misclassified(RNG.random((3, 8, 8)), labels, labels, NAMES)
    assert image_axes(fig) == []
    assert [t.get_text() for ax in fig.axes for t in ax.texts] == ["no misclassified images"]
    render(fig, "no_mistakes")


def matrix_from_texts(ax, n):
    shown = np.full((n, n), np.nan)
    for text in ax.texts:
        col, row = (int(round(v)) for v in text.get_position())
        shown[row, col] = float(text.get_text())
    return shown


def test_confusion_matrix_counts_match_sklearn(render):
    y_true = RNG.integers(0, 4, 60)
    y_pred = np.where(RNG.random(60) < 0.6, y_true, RNG.integers(0, 4, 60))
    fig = plots.plot_confusion_matrix(y_true, y_pred, NAMES, title="cm")
    ax = fig.axes[0]
    expected = confusion_matrix(y_true, y_pred, labels=range(4))
    np.testing.assert_array_equal(matrix_from_texts(ax, 4), expected)
    assert [t.get_text() for t in ax.get_xticklabels()] == NAMES
    assert ax.get_xlabel() == "predicted" and ax.get_ylabel() == "true"
    render(fig, "confusion")
    # Probability rows give the same matrix.
    fig = plots.plot_confusion_matrix(np.eye(4)[y_true], tf.one_hot(y_pred, 4), NAMES)
    np.testing.assert_array_equal(matrix_from_texts(fig.axes[0], 4), expected)


def test_confusion_matrix_normalised_rows_sum_to_one():
    y_true = np.array([0, 0, 1, 1, 1, 2])
    y_pred = np.array([0, 1, 1, 1, 2, 2])
    fig = plots.plot_confusion_matrix(y_true, y_pred, NAMES[:3], normalize=True)
    shown = matrix_from_texts(fig.axes[0], 3)
    np.testing.assert_allclose(shown.sum(axis=1), 1, atol=0.02)
    np.testing.assert_allclose(shown[1], [0, 0.67, 0.33], atol=1e-9)


# ------------------------------------------------------------------ curves --

def lines_by_label(ax):
    return {line.get_label(): line for line in ax.get_lines()}


def test_plot_history_from_a_real_keras_history(render):
    # The History callback as model.fit drives it (fitting a model would cost seconds).
    history = keras.callbacks.History()
    history.set_model(keras.Sequential())
    history.on_train_begin()
    for epoch, (loss, accuracy) in enumerate([(0.9, 0.55), (0.6, 0.7)]):
        history.on_epoch_end(epoch, {"loss": loss, "accuracy": accuracy,
                                     "val_loss": loss + 0.1, "val_accuracy": accuracy - 0.05})
    fig = plots.plot_history(history, title="training")
    assert [ax.get_title() for ax in fig.axes] == ["loss", "accuracy"]
    for ax, metric in zip(fig.axes, ["loss", "accuracy"]):
        lines = lines_by_label(ax)
        assert set(lines) == {"train", "validation"}
        np.testing.assert_array_equal(lines["train"].get_xdata(), [1, 2])
        np.testing.assert_allclose(lines["train"].get_ydata(), history.history[metric])
        np.testing.assert_allclose(lines["validation"].get_ydata(), history.history[f"val_{metric}"])
    render(fig, "history")


def test_plot_history_from_dict_and_history_like_objects():
    fig = plots.plot_history({"loss": [1.0, 0.5, 0.25]})  # no accuracy, no validation
    (ax,) = fig.axes
    assert list(lines_by_label(ax)) == ["train"]
    resumed = SimpleNamespace(history={"loss": [0.4, 0.3], "val_loss": [0.5, 0.45]}, epoch=[3, 4])
    fig = plots.plot_history(resumed, metrics="loss")
    np.testing.assert_array_equal(lines_by_label(fig.axes[0])["validation"].get_xdata(), [4, 5])
    with pytest.raises(KeyError, match="loss"):
        plots.plot_history({"mae": [1.0]})


def test_plot_gradient_norms_log_scale_one_line_per_model(render):
    norms = {"plain-20": np.logspace(-6, -1, 20),
             "residual-20": [tf.constant(v) for v in np.logspace(-2.5, -1.5, 20)]}
    fig = plots.plot_gradient_norms(norms, title="gradients")
    (ax,) = fig.axes
    lines = lines_by_label(ax)
    assert set(lines) == set(norms) and ax.get_yscale() == "log"
    np.testing.assert_array_equal(lines["plain-20"].get_xdata(), np.arange(1, 21))
    np.testing.assert_allclose(lines["residual-20"].get_ydata(), np.logspace(-2.5, -1.5, 20), rtol=1e-6)
    render(fig, "gradients")


def test_plot_loss_curves_several_lengths(render):
    curves = {"plain": np.linspace(2, 1, 50), "residual": np.linspace(2, 0.2, 50), "short": [2.0]}
    fig = plots.plot_loss_curves(curves, title="loss", xlabel="epoch")
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.get_lines()] == list(curves)
    assert len(ax.get_lines()[2].get_xdata()) == 1 and ax.get_lines()[2].get_marker() == "o"
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "loss"
    render(fig, "loss_curves")


def test_plot_comparison_one_bar_per_model_per_metric(render):
    table = {"ResNet-18": {"params (M)": 11.7, "images/s": 120},
             "ResNet-34": {"params (M)": 21.8, "images/s": 70},
             "ResNet-50": {"params (M)": 25.6}}
    fig = plots.plot_comparison(table, title="models")
    assert [ax.get_title() for ax in fig.axes] == ["params (M)", "images/s"]
    params, speed = fig.axes
    assert [bar.get_height() for bar in params.patches] == [11.7, 21.8, 25.6]
    assert [t.get_text() for t in params.get_xticklabels()] == list(table)
    assert [t.get_text() for t in params.texts] == ["11.7", "21.8", "25.6"]
    assert [t.get_text() for t in speed.texts] == ["120", "70", ""]  # ResNet-50 has no value
    assert [to_hex(b.get_facecolor()) for b in params.patches] == \
        [to_hex(b.get_facecolor()) for b in speed.patches]  # a model keeps its colour
    fig = plots.plot_comparison(table, metrics=["images/s"])
    assert len(fig.axes) == 1
    render(fig, "comparison")


# ---------------------------------------------------------------- diagrams --

@pytest.mark.parametrize("kind,convs,norms,relus,strided", [
    ("identity", 3, 3, 3, 0),
    ("convolutional", 4, 4, 3, 2),
    ("basic", 3, 3, 2, 2),
])
def test_draw_residual_block_layers_and_no_overlaps(kind, convs, norms, relus, strided, render):
    fig = plots.draw_residual_block(kind)
    (ax,) = fig.axes
    labels = [t.get_text() for t in ax.texts]
    assert sum(label.startswith("Conv2D") for label in labels) == convs
    assert labels.count("BatchNorm") == norms
    assert labels.count("ReLU") == relus
    assert sum("stride s" in label for label in labels) == strided
    assert "+" in labels and "input x" in labels
    assert [t.get_text() for t in fig.legends[0].get_texts()] == [
        "convolution", "batch normalisation", "activation", "addition"]
    if kind == "basic":
        assert any("only if s > 1" in label for label in labels)
    assert fig._suptitle.get_text().lower().startswith(kind)

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    boxes = [t.get_window_extent(renderer) for t in ax.texts if t.get_text().strip()]
    boxes.append(fig.legends[0].get_window_extent(renderer))
    for first, second in itertools.combinations(boxes, 2):
        assert not first.overlaps(second), (first, second)
    figure_box = fig.bbox
    for box in boxes:
        assert figure_box.x0 <= box.x0 and box.x1 <= figure_box.x1
        assert figure_box.y0 <= box.y0 and box.y1 <= figure_box.y1
    render(fig, f"block_{kind}")


def test_draw_residual_block_rejects_unknown_kind():
    with pytest.raises(ValueError, match="kind"):
        plots.draw_residual_block("bottleneck-ish")


def test_plot_stage_table_cells(render):
    rows = [{"stage": "conv1", "layers": "7×7, 64, stride 2", "output shape": (None, 112, 112, 64),
             "params": 9472},
            {"stage": "conv2_x", "layers": "3 × bottleneck", "output shape": (None, 56, 56, 256),
             "params": 215808},
            {"stage": "fc", "output shape": (None, 1000), "params": 2049000}]
    fig = plots.plot_stage_table(rows, title="ResNet-50")
    (table,) = fig.axes[0].tables
    cells = table.get_celld()
    assert len(cells) == 4 * 4
    assert [cells[0, j].get_text().get_text() for j in range(4)] == ["stage", "layers", "output shape",
                                                                   "params"]
    assert [cells[2, j].get_text().get_text() for j in range(4)] == ["conv2_x", "3 × bottleneck",
                                                                   "56×56×256", "215,808"]
    assert cells[3, 1].get_text().get_text() == ""  # missing key
    render(fig, "stage_table")


# ------------------------------------------------ notebook 06: CAM, transfer --

def hot_spot_map(shape, row, col):
    """A normalised map (values in [0, 1]) peaking at (row, col)."""
    rows, cols = np.indices(shape)
    heat = np.exp(-((rows - row) ** 2 + (cols - col) ** 2) / 20.0)
    return (heat - heat.min()) / (heat.max() - heat.min())


def test_cam_overlay_draws_the_map_as_given_over_the_photo(render):
    photo = RNG.integers(0, 256, (30, 40, 3)).astype("uint8")
    cam = hot_spot_map((30, 40), 10, 25)
    mask = np.zeros((30, 40), np.uint8)
    mask[5:20, 18:35] = 1  # a cat
    mask[4, 18:35] = 255  # its boundary: not animal
    fig = plots.cam_overlay(photo, cam, title="cat: hit", alpha=0.3, mask=mask, mark_max=True)
    (ax,) = image_axes(fig)
    base, overlay = ax.images
    np.testing.assert_allclose(overlay.get_array(), cam)  # not rescaled
    assert overlay.get_alpha() == 0.3 and overlay.get_clim() == (0, 1)
    assert ax.get_title() == "cat: hit" and ax.collections  # the mask outline
    (cross,) = [line for line in ax.get_lines() if line.get_marker() == "+"]
    assert (cross.get_xdata()[0], cross.get_ydata()[0]) == (25, 10)  # (column, row) of the maximum
    render(fig, "cam_overlay")


def test_cam_overlay_draws_into_a_given_axis_and_resizes_a_small_map():
    fig, ax = plt.subplots()
    photo = RNG.random((28, 28, 3)).astype("float32")
    small = np.zeros((7, 7))
    small[1, 5] = 1.0
    assert plots.cam_overlay(photo, small, ax=ax, title="dog") is fig
    heat = ax.images[1].get_array()
    assert heat.shape == (28, 28)
    row, col = np.unravel_index(np.argmax(heat), heat.shape)
    assert 4 <= row < 8 and 20 <= col < 24
    assert ax.get_title() == "dog"
    with pytest.raises(ValueError, match="one map"):
        plots.cam_overlay(photo, np.zeros((2, 7, 7)))


def test_cam_gallery_one_panel_per_photo_with_titles_and_colours(render):
    items = []
    for i in range(5):
        photo = RNG.integers(0, 256, (24, 32, 3)).astype("uint8")
        mask = np.zeros((24, 32), np.uint8)
        mask[2:10, 2:10] = 2  # a dog in the top left corner
        hit = i % 2 == 0
        items.append({"image": photo, "cam": hot_spot_map((24, 32), 5 if hit else 20, 5 if hit else 28),
                      "mask": mask, "title": f"dog {i}: {'hit' if hit else 'miss'}",
                      "color": plots.RIGHT_COLOR if hit else plots.WRONG_COLOR})
    misses = [item for item in items if item["title"].endswith("miss")]
    fig = plots.cam_gallery(misses, columns=4, title="where it looked when it was wrong")
    assert titles(fig) == ["dog 1: miss", "dog 3: miss"]
    assert title_colors(fig) == [plots.WRONG_COLOR] * 2
    assert fig._suptitle.get_text() == "where it looked when it was wrong"
    assert all(len(ax.images) == 2 and ax.collections for ax in image_axes(fig))
    render(fig, "cam_gallery")
    fig = plots.cam_gallery(items, columns=3)
    assert len(image_axes(fig)) == 5 and len(fig.axes) == 5  # the sixth cell is removed
    assert "no photos" in plots.cam_gallery([], title="misses").axes[0].texts[0].get_text()


def test_transfer_curves_one_panel_per_data_setting(render):
    scratch_history = SimpleNamespace(history={"val_accuracy": [0.3, 0.35, 0.3, 0.4]})  # a Keras History
    histories = {"all training photos": {"transfer": [0.80, 0.86, 0.90, 0.91], "from scratch": [0.4, 0.5, 0.55, 0.6]},
                 "50 photos per class": {"transfer": {"val_accuracy": [0.7, 0.8, 0.82, 0.84]},
                                         "from scratch": scratch_history}}
    fig = plots.transfer_curves(histories, fine_tune_from=2)
    assert [ax.get_title() for ax in fig.axes] == list(histories)
    assert "transfer vs from scratch" in fig._suptitle.get_text()
    for ax in fig.axes:
        lines = lines_by_label(ax)
        assert {"transfer", "from scratch"} <= set(lines)
        np.testing.assert_array_equal(lines["transfer"].get_xdata(), [1, 2, 3, 4])
        assert any(line.get_linestyle() == ":" and line.get_xdata()[0] == 2.5 for line in ax.get_lines())
        assert "fine-tuning starts" in [text.get_text() for text in ax.get_legend().get_texts()]
        assert ax.get_ylabel() == "validation accuracy" and ax.get_xlabel() == "epoch"
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim()  # one accuracy scale
    np.testing.assert_allclose(lines_by_label(fig.axes[1])["from scratch"].get_ydata(), [0.3, 0.35, 0.3, 0.4])
    render(fig, "transfer_curves")


def test_transfer_curves_from_experiment_results_and_a_single_panel():
    result = {"transfer": {"head": {"epochs": 3}, "val_accuracy": [0.5, 0.6, 0.7, 0.8, 0.85]},
              "scratch": {"val_accuracy": [0.2, 0.3, 0.35, 0.4, 0.42]}}
    fig = plots.transfer_curves({"all training photos": result}, title="flowers")
    (ax,) = fig.axes
    assert ax.get_title() == "all training photos" and fig._suptitle.get_text() == "flowers"
    assert {"transfer (head, then fine-tuning)", "from scratch"} <= set(lines_by_label(ax))
    assert any(line.get_linestyle() == ":" and line.get_xdata()[0] == 3.5 for line in ax.get_lines())
    fig = plots.transfer_curves({"transfer": [0.5, 0.7], "from scratch": [0.3, 0.4]})
    (ax,) = fig.axes
    assert ax.get_title() == "validation accuracy"
    assert not any(line.get_linestyle() == ":" for line in ax.get_lines())  # no fine-tuning start given


def test_in_fast_mode_the_figures_of_training_results_say_so_and_the_others_do_not(monkeypatch):
    monkeypatch.setenv("COURSE_FAST", "1")
    history = {"loss": [0.9, 0.5], "accuracy": [0.5, 0.7]}
    trained = [plots.plot_history(history), plots.plot_history(history, title="cats vs dogs"),
               plots.plot_loss_curves({"plain": [1.0, 0.5]}),
               plots.plot_comparison({"a": {"accuracy": 0.5}}, title="two models", trained=True),
               plots.show_misclassified(RNG.random((3, 8, 8)), [0, 1, 1], [1, 1, 0], NAMES),
               plots.show_images(RNG.random((2, 8, 8)), [0, 1], NAMES, predictions=[0, 0])]
    assert [fig._suptitle.get_text() for fig in trained] == [
        "[fast mode]", "cats vs dogs [fast mode]", "[fast mode]", "two models [fast mode]",
        "2 of 3 misclassified [fast mode]", "[fast mode]"]
    untrained = [plots.show_images(RNG.random((2, 8, 8)), [0, 1], NAMES, title="photos"),
                 plots.plot_comparison({"a": {"weights": 3}}, title="costs")]
    assert [fig._suptitle.get_text() for fig in untrained] == ["photos", "costs"]
