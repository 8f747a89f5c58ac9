"""Every figure the course notebooks draw.

Each function returns its :class:`matplotlib.figure.Figure` and never calls
``plt.show()``: figures made through pyplot display by themselves at the end
of a notebook cell, and tests can inspect or save what is returned. When the
call is the last line of a cell, end it with ``;`` (or assign the result):
Jupyter would otherwise show the returned figure a second time.

Inputs may be NumPy arrays, lists or TensorFlow tensors. Images are float in
[0, 1] or uint8, shaped (H, W), (H, W, 1) or (H, W, 3).
"""
from __future__ import annotations

import math
import textwrap
from collections.abc import Mapping

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Patch
from matplotlib.path import Path
from matplotlib.ticker import MaxNLocator

__all__ = [
    "show_images",
    "show_feature_maps",
    "show_filters",
    "show_before_after",
    "show_shift_invariance",
    "plot_history",
    "plot_confusion_matrix",
    "show_misclassified",
    "plot_gradient_norms",
    "plot_loss_curves",
    "plot_comparison",
    "draw_residual_block",
    "show_cam",
    "cam_overlay",
    "cam_gallery",
    "transfer_curves",
    "plot_stage_table",
]

# One place for the house style, so every figure of the course looks alike.
TITLE_SIZE = 8
SUPTITLE_SIZE = 11
TEXT_SIZE = 8
RIGHT_COLOR = "#1a7f37"
WRONG_COLOR = "#cf222e"
# A line with a single point is invisible, and fast mode trains for one epoch.
_MARKER_MAX_POINTS = 30


# ---------------------------------------------------------------- helpers --

def _trained(title):
    """The title of a figure that shows what training made: marked ``[fast mode]`` in fast mode."""
    from .settings import fast_mark

    mark = fast_mark().strip()
    return f"{title} {mark}" if title and mark else (title or mark or None)


def _new_figure(nrows, ncols, figsize, title=None):
    """Figure plus a 2-D array of axes, in the course style."""
    fig, axes = plt.subplots(nrows, ncols, figsize=figsize, squeeze=False, layout="constrained")
    # The default 3-pixel pads let titles touch the edge when a figure is saved at low dpi.
    fig.get_layout_engine().set(h_pad=0.08, w_pad=0.06)
    if title:
        fig.suptitle(title, fontsize=SUPTITLE_SIZE)
    return fig, axes


def _message_figure(message, title=None):
    """A small figure that only says ``message`` (instead of an empty grid)."""
    fig, axes = _new_figure(1, 1, (4, 1.2), title)
    ax = axes[0, 0]
    ax.set_axis_off()
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=10, color="0.3",
            transform=ax.transAxes)
    return fig


def _one_image(image):
    """Array of one image; a leading batch axis of size 1 (model output) is dropped."""
    arr = np.asarray(image)
    if arr.ndim == 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim == 3 and arr.shape[-1] == 1:
        arr = arr[..., 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[-1] not in (3, 4)):
        raise ValueError(f"expected an image of shape (H, W), (H, W, 1) or (H, W, 3), got {arr.shape}")
    return arr


def _image_list(images):
    """A batch (N, H, W[, C]), a list of images or one image -> list of arrays."""
    if isinstance(images, (list, tuple)):
        return [np.asarray(image) for image in images]
    arr = np.asarray(images)
    # A 3-D array ending in 1, 3 or 4 channels is one image, otherwise a greyscale batch.
    if arr.ndim == 2 or (arr.ndim == 3 and arr.shape[-1] in (1, 3, 4)):
        return [arr]
    if arr.ndim in (3, 4):
        return list(arr)
    raise ValueError(f"expected images of shape (N, H, W) or (N, H, W, C), got {arr.shape}")


def _natural_images(images):
    """Images ready for imshow on one common scale, plus the imshow keywords for greyscale."""
    arrays = [_one_image(image) for image in images]
    if all(arr.dtype == np.uint8 for arr in arrays):
        return arrays, {"vmin": 0, "vmax": 255}
    arrays = [arr.astype(np.float32) for arr in arrays]
    lo = min(float(np.nanmin(arr)) for arr in arrays)
    hi = max(float(np.nanmax(arr)) for arr in arrays)
    if lo < 0 or hi > 1:
        # image_dataset_from_directory yields floats in [0, 255]; standardised
        # data can be anything. One mapping for all keeps images comparable.
        if lo >= 0 and hi <= 255:
            lo, hi = 0.0, 255.0
        scale = (hi - lo) or 1.0
        arrays = [(arr - lo) / scale for arr in arrays]
    return arrays, {"vmin": 0, "vmax": 1}


def _image_grid(images, titles=None, *, ncols=8, size=1.6, title=None, colors=None, cmap=None,
                natural=True, vmin=None, vmax=None, extents=None, interpolation=None):
    """Draw images in a grid, one axis per image (unused cells removed); return the figure.

    ``natural`` images get one common display scale (see ``_natural_images``);
    otherwise each panel is scaled by ``vmin``/``vmax`` or its own range.
    """
    n = len(images)
    if n == 0:
        return _message_figure("no images", title)
    ncols = max(1, min(int(ncols), n))
    nrows = math.ceil(n / ncols)
    if natural:
        images, scale = _natural_images(images)
    else:
        images = [np.asarray(image, dtype=np.float32) for image in images]
        scale = {"vmin": vmin, "vmax": vmax}
    if titles is not None:
        # Wrap to the panel width so neighbouring titles never run into each other.
        chars = max(10, int(size * 15))
        titles = [None if t is None else "\n".join(textwrap.fill(line, chars) or line
                                                   for line in str(t).split("\n")) for t in titles]
    title_lines = max((t.count("\n") + 1 for t in titles if t), default=0) if titles else 0
    aspect = float(np.clip(np.median([im.shape[0] / im.shape[1] for im in images]), 0.4, 2.5))
    height = nrows * (size * aspect + 0.16 * title_lines + 0.1) + (0.4 if title else 0)
    width = max(ncols * size, 0.09 * len(title) + 0.5 if title else 0)
    fig, axes = _new_figure(nrows, ncols, (width, height), title)
    for i, ax in enumerate(axes.flat):
        if i >= n:
            ax.remove()
            continue
        image = images[i]
        # Colour maps and value limits only apply to single-channel images.
        keywords = {"cmap": cmap or "gray", **scale} if image.ndim == 2 else {}
        ax.imshow(image, extent=extents[i] if extents is not None else None,
                  interpolation=interpolation, **keywords)
        ax.set_axis_off()
        if titles is not None and titles[i] is not None:
            color = colors[i] if colors is not None else None
            ax.set_title(str(titles[i]), fontsize=TITLE_SIZE, **({"color": color} if color else {}))
    return fig


def _balanced_columns(n, max_columns=8):
    """Columns for n panels in as few rows as possible, rows filled evenly (12 -> 6 + 6)."""
    rows = max(1, math.ceil(n / max_columns))
    return max(1, math.ceil(n / rows))


def _panel_size(ncols, smallest, largest):
    """Panel width in inches: a few panels are drawn large, many stay within ~9 inches."""
    return float(np.clip(9 / ncols, smallest, largest))


def _class_ids(values):
    """Integer class ids from ids, (N, 1) ids, one-hot vectors or probabilities."""
    arr = np.asarray(values)
    if arr.ndim == 2 and arr.shape[1] > 1:
        arr = arr.argmax(axis=1)
    return arr.reshape(-1).astype(int)


def _label_names(values, class_names):
    """Display names: ints are looked up in ``class_names``, strings kept."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iufb":
        ids = _class_ids(arr)
        return [str(class_names[i]) if class_names is not None else str(i) for i in ids]
    # tf string tensors arrive as bytes.
    return [v.decode() if isinstance(v, bytes) else str(v) for v in arr.reshape(-1)]


def _prediction_titles(labels, predictions, class_names, confidences=None):
    """Titles: the predicted class, and under it "true: ..." when it is wrong; green right, red wrong."""
    true = _label_names(labels, class_names) if labels is not None else None
    if predictions is None:
        return true, None
    pred = _label_names(predictions, class_names)
    titles, colors = [], []
    for i, name in enumerate(pred):
        text = name if true is None or name == true[i] else f"{name}\ntrue: {true[i]}"
        if confidences is not None:
            text += f"\n{confidences[i]:.0%} confident"
        titles.append(text)
        colors.append(None if true is None else RIGHT_COLOR if name == true[i] else WRONG_COLOR)
    return titles, colors


def _draw_lines(ax, series, *, xlabel, ylabel=None, logy=False, x_values=None):
    """One line per entry of ``series`` (name -> values), x counted from 1."""
    for name, values in series.items():
        y = np.asarray(values, dtype=float).reshape(-1)
        x = np.arange(1, len(y) + 1) if x_values is None else x_values[: len(y)]
        ax.plot(x, y, label=name, linewidth=1.6,
                marker="o" if len(y) <= _MARKER_MAX_POINTS else None, markersize=3.5)
    if logy:
        ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))
    ax.set_xlabel(xlabel, fontsize=TEXT_SIZE + 1)
    if ylabel:
        ax.set_ylabel(ylabel, fontsize=TEXT_SIZE + 1)
    ax.tick_params(labelsize=TEXT_SIZE)
    ax.grid(alpha=0.3, which="major")
    ax.spines[["top", "right"]].set_visible(False)
    ax.legend(fontsize=TEXT_SIZE, frameon=False)


def _format_number(value):
    """Short, readable number: 23,587,712 / 21.3 / 0.0123."""
    if isinstance(value, (bool, np.bool_)):
        return str(value)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}"
    value = float(value)
    if math.isnan(value):
        return ""
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def _format_cell(value):
    """Table cell text; shapes such as (None, 56, 56, 64) become 56×56×64."""
    if isinstance(value, (tuple, list)):
        return "×".join(str(v) for v in value if v is not None)
    if isinstance(value, (int, float, np.number)):
        return _format_number(value)
    return str(value)


def _resize_bilinear(array, shape):
    """Bilinear resize of a 2-D array with pixel-centre alignment (as tf.image.resize)."""
    h, w = array.shape
    height, width = shape
    if (h, w) == (height, width):
        return array.astype(float)
    ys = np.clip((np.arange(height) + 0.5) * h / height - 0.5, 0, h - 1)
    xs = np.clip((np.arange(width) + 0.5) * w / width - 0.5, 0, w - 1)
    y0, x0 = np.floor(ys).astype(int), np.floor(xs).astype(int)
    y1, x1 = np.minimum(y0 + 1, h - 1), np.minimum(x0 + 1, w - 1)
    wy, wx = (ys - y0)[:, None], (xs - x0)[None, :]
    a = array.astype(float)
    top = a[y0][:, x0] * (1 - wx) + a[y0][:, x1] * wx
    bottom = a[y1][:, x0] * (1 - wx) + a[y1][:, x1] * wx
    return top * (1 - wy) + bottom * wy


# ----------------------------------------------------------------- images --

def show_images(images, labels=None, class_names=None, predictions=None, ncols=8, title=None,
                size=1.6, cmap=None):
    """Grid of images; titles from labels (ints via ``class_names`` or strings).

    With ``predictions`` each title is the predicted class, green if right, and
    red with "true: <class>" under it if wrong. Labels and predictions may also be one-hot or probability rows.
    """
    images = _image_list(images)
    titles, colors = None, None
    if labels is not None or predictions is not None:
        titles, colors = _prediction_titles(labels, predictions, class_names)
    if predictions is not None:
        title = _trained(title)
    return _image_grid(images, titles, ncols=ncols, size=size, title=title, colors=colors, cmap=cmap)


def _feature_stack(maps, channels_last):
    """Feature maps as an (N, H, W) array."""
    if isinstance(maps, (list, tuple)):
        return np.stack([np.asarray(m, dtype=np.float32) for m in maps])
    arr = np.asarray(maps, dtype=np.float32)
    if arr.ndim == 4:
        if arr.shape[0] != 1:
            raise ValueError(f"feature maps of a batch {arr.shape}: pass one example, e.g. maps[:1]")
        return np.moveaxis(arr[0], -1, 0)
    if arr.ndim == 2:
        return arr[None]
    if arr.ndim != 3:
        raise ValueError(f"expected maps of shape (N, H, W), (H, W, C) or (1, H, W, C), got {arr.shape}")
    if channels_last is None:
        # Square maps tell the layouts apart; otherwise assume Keras' channels-last.
        channels_last = not (arr.shape[1] == arr.shape[2] and arr.shape[0] != arr.shape[1])
    return np.moveaxis(arr, -1, 0) if channels_last else arr


def show_feature_maps(maps, titles=None, ncols=None, cmap="gray", title=None, *, channels_last=None):
    """One panel per feature map, each on its own colour scale.

    ``maps`` is (N, H, W), (H, W, C) or (1, H, W, C) (a layer's output for one
    image). A 3-D array is read as (N, H, W) when its last two axes are equal
    and the first differs, else as (H, W, C); ``channels_last`` overrides that.
    """
    stack = _feature_stack(maps, channels_last)
    n = len(stack)
    if titles is None:
        titles = [f"#{i}" for i in range(n)]
    ncols = ncols or _balanced_columns(n)
    return _image_grid(list(stack), titles, ncols=ncols, size=_panel_size(min(ncols, n), 1.4, 3.5),
                       title=title, cmap=cmap, natural=False)


def _kernel_value(value):
    """Kernel weight as short text: -1, 0.5, 0.12."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def show_filters(kernels, titles=None, *, title=None):
    """Conv kernels (kh, kw, in, out) or (kh, kw): one panel per output filter.

    Input channels are averaged. One diverging colour scale centred at 0 is
    shared by all panels (blue negative, red positive); small kernels also show
    their values.
    """
    k = np.asarray(kernels, dtype=np.float32)
    if k.ndim == 2:
        k = k[:, :, None]
    elif k.ndim == 4:
        if title is None and k.shape[2] > 1:
            title = f"filters (mean over {k.shape[2]} input channels)"
        k = k.mean(axis=2)
    else:
        raise ValueError(f"expected kernels of shape (kh, kw, in, out) or (kh, kw), got {k.shape}")
    n = k.shape[-1]
    filters = [k[:, :, i] for i in range(n)]
    if titles is None and n > 1:
        titles = [f"filter {i}" for i in range(n)]
    limit = float(np.abs(k).max()) or 1.0
    ncols = _balanced_columns(n)
    fig = _image_grid(filters, titles, ncols=ncols, size=_panel_size(ncols, 1.3, 2.0), title=title,
                      cmap="RdBu_r", natural=False, vmin=-limit, vmax=limit, interpolation="nearest")
    kh, kw = k.shape[:2]
    if kh <= 5 and kw <= 5 and n <= 16:
        size = 7 if max(kh, kw) <= 3 else 5.5
        for ax, kernel in zip(fig.axes, filters):
            for (row, col), value in np.ndenumerate(kernel):
                # Light text on the saturated end of the scale stays readable.
                color = "white" if abs(value) > 0.6 * limit else "black"
                ax.text(col, row, _kernel_value(value), ha="center", va="center", fontsize=size,
                        color=color)
    colorbar = fig.colorbar(fig.axes[0].images[0], ax=fig.axes, shrink=0.8, aspect=15)
    colorbar.ax.tick_params(labelsize=TEXT_SIZE - 1)
    return fig


def show_before_after(before, after, titles=("input", "after pooling"), cmap=None):
    """Two images side by side at the same physical size.

    Both are drawn over the input's extent, so a 2x smaller pooled image shows
    pixels twice as large: the loss of resolution is visible.
    """
    before, after = _one_image(before), _one_image(after)
    height, width = before.shape[:2]
    extent = (0, width, height, 0)
    names = [f"{titles[0]}  ({before.shape[0]}×{before.shape[1]})",
             f"{titles[1]}  ({after.shape[0]}×{after.shape[1]})"]
    return _image_grid([before, after], names, ncols=2, size=2.6, cmap=cmap,
                       extents=[extent, extent], interpolation="nearest")


def _shift_name(shift):
    """'original', 'shifted +2 px' or 'shifted (1, -1) px'."""
    values = np.atleast_1d(np.asarray(shift)).tolist()
    if not any(values):
        return "original"
    if len(values) == 1:
        return f"shifted {int(values[0]):+d} px"
    return f"shifted ({', '.join(str(int(v)) for v in values)}) px"


def show_shift_invariance(images, pooled, shifts, *, title=None):
    """Top row: original and shifted images; bottom row: their max-pooled versions.

    The first column is the reference: each pooled title says which fraction
    of its values equals the reference's (translation invariance at work).
    """
    images, pooled = _image_list(images), _image_list(pooled)
    shifts = list(shifts)
    if not len(images) == len(pooled) == len(shifts):
        raise ValueError(f"got {len(images)} images, {len(pooled)} pooled and {len(shifts)} shifts")
    reference = _one_image(pooled[0])
    pooled_titles = []
    for i, result in enumerate(pooled):
        result = _one_image(result)
        if i == 0 or result.shape != reference.shape:
            pooled_titles.append("max-pooled")
        else:
            same = np.isclose(result, reference).mean()
            pooled_titles.append(f"max-pooled\n{same:.0%} unchanged")
    extents = [(0, im.shape[1], im.shape[0], 0) for im in (_one_image(i) for i in images)]
    return _image_grid(images + pooled, [_shift_name(s) for s in shifts] + pooled_titles,
                       ncols=len(images), size=1.8, title=title, extents=extents * 2,
                       interpolation="nearest")


def show_cam(image, heatmap, alpha=0.5, title=None, mask=None):
    """Image with a class-activation heatmap on top (resized to the image, scaled to [0, 1]).

    ``mask`` (any size, values in {0, 1}) is outlined in white.
    """
    fig = _image_grid([image], None if title is None else [title], ncols=1, size=3.6)
    ax = fig.axes[0]
    height, width = _one_image(image).shape[:2]
    heat = _resize_bilinear(np.squeeze(np.asarray(heatmap, dtype=np.float32)), (height, width))
    heat -= heat.min()
    if heat.max() > 0:
        heat /= heat.max()
    overlay = ax.imshow(heat, cmap="jet", alpha=alpha, vmin=0, vmax=1)
    if mask is not None:
        outline = _resize_bilinear(np.squeeze(np.asarray(mask, dtype=np.float32)), (height, width))
        ax.contour(outline, levels=[0.5], colors="white", linewidths=1.5)
    colorbar = fig.colorbar(overlay, ax=ax, shrink=0.8, aspect=20)
    colorbar.solids.set_alpha(1)  # the scale itself should not be see-through
    colorbar.ax.tick_params(labelsize=TEXT_SIZE - 1)
    colorbar.set_label("activation", fontsize=TEXT_SIZE)
    return fig


def _animal_pixels(mask):
    """Boolean (H, W): the animal of a pet trimap (1 cat, 2 dog; 0 background, 255 boundary) or a 0/1 mask."""
    arr = np.squeeze(np.asarray(mask))
    if arr.dtype.kind in "ui" and arr.size and arr.max() > 1:
        return np.isin(arr, (1, 2))
    return arr.astype(float) > 0.5


def _wrapped(text, size):
    chars = max(10, int(size * 15))
    return "\n".join(textwrap.fill(line, chars) or line for line in str(text).split("\n"))


def cam_overlay(photo, cam, ax=None, title=None, alpha=0.45, mask=None, mark_max=False, cmap="jet",
                title_color=None):
    """A class activation map over its photo; returns the figure.

    ``cam`` is already upsampled to the photo and normalised to [0, 1] (e.g.
    ``course_utils.cam.upsample_and_normalise``): it is drawn as it is, a colour map from
    0 (blue) to 1 (red) at opacity ``alpha``; a map of another size is resized (bilinear),
    not rescaled. ``mask`` (a pet trimap or a 0/1 mask) outlines the animal in white;
    ``mark_max`` marks the map's maximum with a white cross (the pointing game's point).
    Draws into ``ax`` when given (e.g. a panel of :func:`cam_gallery`), else a new figure.
    """
    image = _one_image(photo)
    if ax is None:
        fig = _image_grid([image], None if title is None else [title], ncols=1, size=3.6)
        ax = fig.axes[0]
    else:
        arrays, scale = _natural_images([image])
        ax.imshow(arrays[0], **({"cmap": "gray", **scale} if arrays[0].ndim == 2 else {}))
        ax.set_axis_off()
        if title is not None:
            ax.set_title(str(title), fontsize=TITLE_SIZE)
    if title_color and title is not None:
        ax.title.set_color(title_color)
    height, width = image.shape[:2]
    heat = np.squeeze(np.asarray(cam, dtype=np.float32))
    if heat.ndim != 2:
        raise ValueError(f"expected one map of shape (H, W), got {np.shape(cam)}")
    if heat.shape != (height, width):
        heat = _resize_bilinear(heat, (height, width))
    ax.imshow(heat, cmap=cmap, alpha=alpha, vmin=0, vmax=1)
    if mask is not None:
        animal = _animal_pixels(mask).astype(float)
        if animal.shape != (height, width):
            animal = _resize_bilinear(animal, (height, width))
        if animal.min() < 0.5 < animal.max():  # a contour needs both sides
            ax.contour(animal, levels=[0.5], colors="white", linewidths=1.2)
    if mark_max:
        row, col = np.unravel_index(np.argmax(heat), heat.shape)
        ax.plot(col, row, marker="+", color="white", markersize=11, markeredgewidth=2)
    return ax.figure


def cam_gallery(items, columns=4, title=None, size=2.2, alpha=0.45, mark_max=True):
    """Photos with their class activation maps, one panel each; returns the figure.

    ``items``: dicts with ``"image"`` (or ``"photo"``) and ``"cam"`` (upsampled and
    normalised, see :func:`cam_overlay`), and optionally ``"title"``, ``"mask"`` (outlined)
    and ``"color"`` (of the title, e.g. ``plots.WRONG_COLOR`` for a miss of the pointing game).
    The map's maximum is marked (``mark_max``). For "where it looked when it was wrong":
    the misses, with their masks.
    """
    title = _trained(title)
    items = list(items)
    if not items:
        return _message_figure("no photos", title)
    columns = max(1, min(int(columns), len(items)))
    rows = math.ceil(len(items) / columns)
    titles = [None if item.get("title") is None else _wrapped(item["title"], size) for item in items]
    lines = max((t.count("\n") + 1 for t in titles if t), default=0)
    shapes = [_one_image(item.get("image", item.get("photo"))).shape for item in items]
    aspect = float(np.clip(np.median([h / w for h, w, *_ in shapes]), 0.4, 2.5))
    height = rows * (size * aspect + 0.16 * lines + 0.1) + (0.4 if title else 0)
    fig, axes = _new_figure(rows, columns, (max(columns * size, 0.09 * len(title or "") + 0.5), height), title)
    for i, ax in enumerate(axes.flat):
        if i >= len(items):
            ax.remove()
            continue
        item = items[i]
        cam_overlay(item.get("image", item.get("photo")), item["cam"], ax=ax, title=titles[i], alpha=alpha,
                    mask=item.get("mask"), mark_max=mark_max, title_color=item.get("color"))
    return fig


def _curve_values(values, metric):
    logs = getattr(values, "history", values)
    if isinstance(logs, Mapping):
        if metric not in logs:
            raise KeyError(f"no {metric!r} in the history; it has {sorted(logs)}")
        logs = logs[metric]
    return np.asarray(logs, dtype=float).reshape(-1)


def _is_experiment(value):
    """A result of course_utils.transfer.run_transfer_experiment (not a {curve: values} mapping)."""
    if not isinstance(value, Mapping) or not isinstance(value.get("transfer"), Mapping):
        return False
    return "head" in value["transfer"] and "val_accuracy" in value["transfer"]


def _experiment_curves(result):
    found = {"transfer (head, then fine-tuning)": result["transfer"]["val_accuracy"]}
    if "scratch" in result:
        found["from scratch"] = result["scratch"]["val_accuracy"]
    head = result["transfer"].get("head", {}).get("epochs")
    return found, head


def transfer_curves(histories, title="validation accuracy: transfer vs from scratch", fine_tune_from=None,
                    metric="val_accuracy"):
    """Validation accuracy per epoch, transfer vs from scratch, one panel per data setting.

    ``histories``: ``{panel: {curve: values}}`` (e.g. ``{"all training photos": {...},
    "50 photos per class": {...}}``) or, for one panel, ``{curve: values}``; values are lists,
    Keras ``History`` objects or dicts holding ``metric``. A panel may also be a result of
    ``course_utils.transfer.run_transfer_experiment``: its curves and the epoch where
    fine-tuning starts are taken from it. ``fine_tune_from`` (the number of head epochs, one
    int or one per panel) draws a dotted line where fine-tuning starts. The panels share the
    accuracy scale.
    """
    title = _trained(title)
    if not isinstance(histories, Mapping) or not histories:
        return _message_figure("no histories", title)
    first = next(iter(histories.values()))
    nested = _is_experiment(first) or (isinstance(first, Mapping) and metric not in first
                                       and not hasattr(first, "history"))
    panels = dict(histories) if nested else {"validation accuracy": histories}
    fig, axes = _new_figure(1, len(panels), (4.2 * len(panels), 3.1), title)
    for ax, (name, series) in zip(axes.flat, panels.items()):
        start = fine_tune_from.get(name) if isinstance(fine_tune_from, Mapping) else fine_tune_from
        if _is_experiment(series):
            series, head = _experiment_curves(series)
            start = head if start is None else start
        _draw_lines(ax, {curve: _curve_values(v, metric) for curve, v in series.items()}, xlabel="epoch",
                    ylabel="validation accuracy")
        if start:
            ax.axvline(start + 0.5, color="0.45", linestyle=":", linewidth=1.2, label="fine-tuning starts")
            ax.legend(fontsize=TEXT_SIZE, frameon=False)  # in the legend: a text label could hide a curve
        ax.set_title(str(name), fontsize=TITLE_SIZE + 1)
    if len(panels) > 1:
        low = min(ax.get_ylim()[0] for ax in axes.flat)
        high = max(ax.get_ylim()[1] for ax in axes.flat)
        for ax in axes.flat:
            ax.set_ylim(low, high)
    return fig


def show_misclassified(images, y_true, y_pred, class_names, max_images=16, probabilities=None):
    """Gallery of the wrongly classified images, titled with the prediction and "true: <class>".

    ``y_pred`` may be probability rows, which then also serve as
    ``probabilities``; with probabilities the most confident mistakes come first.
    """
    images = _image_list(images)
    true, pred = _class_ids(y_true), _class_ids(y_pred)
    if probabilities is None and np.ndim(y_pred) == 2 and np.shape(y_pred)[1] > 1:
        probabilities = y_pred
    wrong = np.flatnonzero(true != pred)
    if len(wrong) == 0:
        return _message_figure("no misclassified images", _trained(f"0 of {len(true)} misclassified"))
    confidences = None
    if probabilities is not None:
        probabilities = np.asarray(probabilities, dtype=float)
        scores = probabilities[wrong, pred[wrong]]
        order = np.argsort(-scores, kind="stable")
        wrong, confidences = wrong[order], scores[order]
    shown = wrong[:max_images]
    titles, colors = _prediction_titles(true[shown], pred[shown], class_names,
                                        None if confidences is None else confidences[:max_images])
    title = f"{len(wrong)} of {len(true)} misclassified"
    if len(shown) < len(wrong):
        title += f" (showing {len(shown)})"
    return _image_grid([images[i] for i in shown], titles, ncols=_balanced_columns(len(shown)),
                       title=_trained(title), colors=colors)


def plot_confusion_matrix(y_true, y_pred, class_names, normalize=False, title=None):
    """Confusion matrix (rows: true, columns: predicted) annotated with counts.

    ``normalize=True`` shows each row as fractions of that class.
    """
    title = _trained(title)
    true, pred = _class_ids(y_true), _class_ids(y_pred)
    n = len(class_names) if class_names is not None else int(max(true.max(), pred.max())) + 1
    names = list(class_names) if class_names is not None else [str(i) for i in range(n)]
    counts = np.zeros((n, n), dtype=int)
    np.add.at(counts, (true, pred), 1)
    shown = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1) if normalize else counts
    side = max(3.6, 0.45 * n + 1.8)
    fig, axes = _new_figure(1, 1, (side + 0.8, side), title)
    ax = axes[0, 0]
    image = ax.imshow(shown, cmap="Blues", vmin=0, vmax=1 if normalize else max(shown.max(), 1))
    if n <= 30:
        threshold = 0.5 * (1 if normalize else max(shown.max(), 1))
        for (row, col), value in np.ndenumerate(shown):
            ax.text(col, row, f"{value:.2f}" if normalize else str(value), ha="center", va="center",
                    fontsize=TEXT_SIZE if n <= 12 else 6,
                    color="white" if value > threshold else "black")
    ax.set_xticks(range(n), names, rotation=45 if n > 4 else 0, ha="right" if n > 4 else "center",
                  fontsize=TEXT_SIZE)
    ax.set_yticks(range(n), names, fontsize=TEXT_SIZE)
    ax.set_xlabel("predicted", fontsize=TEXT_SIZE + 1)
    ax.set_ylabel("true", fontsize=TEXT_SIZE + 1)
    colorbar = fig.colorbar(image, ax=ax, shrink=0.8)
    colorbar.ax.tick_params(labelsize=TEXT_SIZE - 1)
    return fig


# ------------------------------------------------------------------ curves --

def plot_history(history, metrics=("loss", "accuracy"), title=None):
    """Training curves from a Keras ``History`` (or a dict of lists).

    One subplot per metric found, with the train and, when present, the
    ``val_`` curve; epochs are counted from 1.
    """
    title = _trained(title)
    logs = getattr(history, "history", history)
    if not isinstance(logs, Mapping):
        raise TypeError(f"expected a Keras History or a dict of lists, got {type(history).__name__}")
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    found = [m for m in metrics if m in logs or f"val_{m}" in logs]
    if not found:
        raise KeyError(f"none of {list(metrics)} in the history; it has {sorted(logs)}")
    # History.epoch is right when training resumed with initial_epoch.
    epochs = list(getattr(history, "epoch", None) or [])
    longest = max(len(values) for values in logs.values())
    x_values = np.asarray(epochs) + 1 if len(epochs) == longest else None
    fig, axes = _new_figure(1, len(found), (3.8 * len(found), 2.9), title)
    for ax, metric in zip(axes.flat, found):
        series = {}
        if metric in logs:
            series["train"] = logs[metric]
        if f"val_{metric}" in logs:
            series["validation"] = logs[f"val_{metric}"]
        _draw_lines(ax, series, xlabel="epoch", x_values=x_values)
        ax.set_title(metric, fontsize=TITLE_SIZE + 1)
    return fig


def plot_gradient_norms(norms_by_model, title=None):
    """Gradient norm per layer (log scale), one line per model; x = layer depth from the input."""
    fig, axes = _new_figure(1, 1, (5.5, 3.3), title)
    _draw_lines(axes[0, 0], norms_by_model, xlabel="layer depth (1 = next to the input)",
                ylabel="gradient norm", logy=True)
    return fig


def plot_loss_curves(curves, title=None, xlabel="step"):
    """Several loss curves on one axis (x counted from 1)."""
    title = _trained(title)
    fig, axes = _new_figure(1, 1, (5.5, 3.3), title)
    _draw_lines(axes[0, 0], curves, xlabel=xlabel, ylabel="loss")
    return fig


def plot_comparison(table, metrics=None, title=None, trained=False):
    """Bar charts comparing models: one subplot per metric, one bar per model.

    ``table`` maps model -> {metric: value}; ``metrics`` defaults to every
    metric in the table. A model keeps the same colour in every subplot.
    ``trained``: the values come from training (the title says so in fast mode).
    """
    if trained:
        title = _trained(title)
    models = list(table)
    if metrics is None:
        metrics = list(dict.fromkeys(key for row in table.values() for key in row))
    colors = [plt.get_cmap("tab10")(i % 10) for i in range(len(models))]
    width = max(2.4, 0.55 * len(models) + 1.2)
    fig, axes = _new_figure(1, len(metrics), (width * len(metrics), 3.2), title)
    rotate = max(len(str(m)) for m in models) * len(models) > 30
    for ax, metric in zip(axes.flat, metrics):
        values = [float(table[m].get(metric, np.nan)) for m in models]
        bars = ax.bar(range(len(models)), values, color=colors, width=0.65)
        ax.bar_label(bars, labels=[_format_number(v) for v in values], fontsize=TEXT_SIZE, padding=2)
        ax.set_xticks(range(len(models)), models, fontsize=TEXT_SIZE,
                      rotation=30 if rotate else 0, ha="right" if rotate else "center")
        ax.tick_params(axis="y", labelsize=TEXT_SIZE)
        ax.set_title(metric, fontsize=TITLE_SIZE + 1)
        ax.spines[["top", "right"]].set_visible(False)
        ax.margins(y=0.15)
    return fig


# ---------------------------------------------------------------- diagrams --

# (face, edge) colours of the residual-block diagram, one per kind of layer.
_LAYER_STYLE = {
    "conv": ("#dbe9f6", "#2f6fad"),
    "bn": ("#fdf0d2", "#b7860b"),
    "act": ("#dff0d8", "#3c8d40"),
    "add": ("#eeeeee", "#555555"),
}
_LEGEND_NAMES = {"conv": "convolution", "bn": "batch normalisation", "act": "activation",
                 "add": "addition"}
_BOX_W, _BOX_H, _STEP, _SKIP_X = 2.9, 0.56, 0.9, 3.45
_ARROW = dict(arrowstyle="-|>", mutation_scale=11, color="#444444", linewidth=1.2, shrinkA=0, shrinkB=0)


def _block_layers(kind):
    """(main path, shortcut, shortcut note, output formula) of a residual block."""
    bottleneck = ["Conv2D 1×1", "BatchNorm", "ReLU", "Conv2D f×f, 'same'", "BatchNorm", "ReLU",
                  "Conv2D 1×1", "BatchNorm"]
    projection = ["Conv2D 1×1, stride s", "BatchNorm"]
    if kind == "identity":
        return bottleneck, [], "identity\nshortcut", "ReLU(F(x) + x)"
    if kind == "convolutional":
        return (["Conv2D 1×1, stride s"] + bottleneck[1:], projection, "projection\nshortcut",
                "ReLU(F(x) + shortcut(x))")
    if kind == "basic":
        return (["Conv2D 3×3, stride s", "BatchNorm", "ReLU", "Conv2D 3×3", "BatchNorm"], projection,
                "only if s > 1\n(else identity)", "ReLU(F(x) + shortcut(x))")
    raise ValueError(f"kind must be 'identity', 'convolutional' or 'basic', got {kind!r}")


def _layer_kind(label):
    return "conv" if label.startswith("Conv") else "bn" if label.startswith("Batch") else "act"


def _layer_box(ax, x, y, label, dashed=False):
    """A rounded box centred on (x, y), coloured by the kind of layer."""
    face, edge = _LAYER_STYLE[_layer_kind(label)]
    ax.add_patch(FancyBboxPatch((x - _BOX_W / 2, y - _BOX_H / 2), _BOX_W, _BOX_H,
                                boxstyle="round,pad=0,rounding_size=0.12", facecolor=face,
                                edgecolor=edge, linewidth=1.3, linestyle="--" if dashed else "-",
                                zorder=3))
    ax.text(x, y, label, ha="center", va="center", fontsize=9, zorder=4)


def _arrow(ax, start, end):
    ax.add_patch(FancyArrowPatch(start, end, zorder=2, **_ARROW))


def draw_residual_block(kind="identity", title=None):
    """Schematic of a residual block: main path top to bottom, shortcut on the right.

    ``kind``: "identity" or "convolutional" (bottleneck blocks of ResNet-50) or
    "basic" (two 3×3 convolutions, ResNet-18/34).
    """
    main, shortcut, note, formula = _block_layers(kind)
    if title is None:
        title = {"identity": "Identity block", "convolutional": "Convolutional block",
                 "basic": "Basic block"}[kind]
    rows = len(main) + 3  # input, layers, add, relu
    y_input, y_add = 0.3, -(len(main) + 1) * _STEP
    y_relu, y_output = y_add - _STEP, y_add - 2 * _STEP
    fig, axes = _new_figure(1, 1, (5.2, 0.5 * rows * _STEP + 1.5), title)
    ax = axes[0, 0]
    ax.set_axis_off()
    ax.set_aspect("equal")

    ax.text(0, y_input, "input x", ha="center", va="center", fontsize=10, fontweight="bold")
    y_fork = y_input - 0.3
    ax.plot(0, y_fork, "o", color="#444444", markersize=4, zorder=3)
    previous = y_input - 0.18
    for i, label in enumerate(main):
        y = -(i + 1) * _STEP
        _arrow(ax, (0, previous), (0, y + _BOX_H / 2))
        _layer_box(ax, 0, y, label)
        previous = y - _BOX_H / 2

    ax.text(-_BOX_W / 2 - 0.3, -(len(main) + 1) * _STEP / 2, "main path  F(x)", rotation=90,
            ha="center", va="center", fontsize=8, color="0.3", style="italic")
    radius = 0.27
    face, edge = _LAYER_STYLE["add"]
    ax.add_patch(Circle((0, y_add), radius, facecolor=face, edgecolor=edge, linewidth=1.3, zorder=3))
    ax.text(0, y_add, "+", ha="center", va="center", fontsize=13, zorder=4)
    ax.text(-radius - 0.12, y_add, "Add", ha="right", va="center", fontsize=8, color="0.35")
    _arrow(ax, (0, previous), (0, y_add + radius))
    _arrow(ax, (0, y_add - radius), (0, y_relu + _BOX_H / 2))
    _layer_box(ax, 0, y_relu, "ReLU")
    _arrow(ax, (0, y_relu - _BOX_H / 2), (0, y_output + 0.2))
    ax.text(0, y_output, f"output = {formula}", ha="center", va="center", fontsize=9,
            fontweight="bold")

    # Shortcut: right from the fork, down, then left into the Add node, with rounded corners.
    r = 0.25
    path = Path([(0, y_fork), (_SKIP_X - r, y_fork), (_SKIP_X, y_fork), (_SKIP_X, y_fork - r),
                 (_SKIP_X, y_add + r), (_SKIP_X, y_add), (_SKIP_X - r, y_add), (radius, y_add)],
                [Path.MOVETO, Path.LINETO, Path.CURVE3, Path.CURVE3, Path.LINETO, Path.CURVE3,
                 Path.CURVE3, Path.LINETO])
    ax.add_patch(FancyArrowPatch(path=path, zorder=1, **_ARROW))
    y_middle = (y_fork + y_add) / 2
    if shortcut:
        ys = [y_middle + _STEP / 2 - i * _STEP for i in range(len(shortcut))]
        for y, label in zip(ys, shortcut):
            _layer_box(ax, _SKIP_X, y, label, dashed=kind == "basic")
        ax.text(_SKIP_X, ys[0] + _BOX_H / 2 + 0.12, note, ha="center", va="bottom", fontsize=8,
                color="0.3", style="italic")
    else:
        ax.text(_SKIP_X + 0.15, y_middle, note, ha="left", va="center", fontsize=8, color="0.3",
                style="italic")

    kinds = ["conv", "bn", "act", "add"]
    handles = [Patch(facecolor=_LAYER_STYLE[k][0], edgecolor=_LAYER_STYLE[k][1], label=_LEGEND_NAMES[k])
               for k in kinds]
    # Below the drawing, where it can never cover a box or the output formula.
    fig.legend(handles=handles, loc="outside lower center", ncols=2, fontsize=8, frameon=False)
    ax.set_xlim(-_BOX_W / 2 - 0.9, _SKIP_X + _BOX_W / 2 + 0.2)
    ax.set_ylim(y_output - 0.5, y_input + 0.45)
    return fig


def plot_stage_table(rows, title=None):
    """Render a list of dicts (e.g. stage, layers, output shape, params) as a table figure.

    Columns follow the keys in order of appearance; shapes given as tuples are
    written 56×56×64 and large numbers get thousands separators.
    """
    rows = list(rows)
    if not rows:
        return _message_figure("empty table", title)
    columns = list(dict.fromkeys(key for row in rows for key in row))
    cells = [[_format_cell(row.get(column, "")) for column in columns] for row in rows]
    fig, axes = _new_figure(1, 1, (6, 0.3 * (len(rows) + 1) + 0.6), title)
    ax = axes[0, 0]
    ax.set_axis_off()
    table = ax.table(cellText=cells, colLabels=columns, loc="center", cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    table.scale(1, 1.35)
    table.auto_set_column_width(list(range(len(columns))))
    for (row, _), cell in table.get_celld().items():
        cell.set_edgecolor("#c8c8c8")
        if row == 0:
            cell.set_facecolor("#dbe9f6")
            cell.set_text_props(fontweight="bold")
        elif row % 2 == 0:
            cell.set_facecolor("#f5f7fa")
    # Cell sizes follow the text, so shrink the figure around the drawn table.
    fig.draw_without_rendering()
    box = table.get_window_extent()
    fig.set_size_inches(box.width / fig.dpi + 0.3, box.height / fig.dpi + (0.6 if title else 0.3))
    return fig
