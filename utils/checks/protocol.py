"""The one checker of the Keras custom-layer protocol (``DepthPool`` in 01, ``ResidualUnit`` in 05).

A custom layer a later notebook can save and reload must:

1. record its constructor arguments in ``get_config()``, on top of the base
   layer's config (``name``, ``trainable``, ``dtype``...);
2. be rebuilt by ``from_config(config)`` with the same arguments (so
   ``__init__`` takes ``**kwargs`` and passes them on);
3. survive a ``.keras`` save and reload with identical outputs.

Each step calls the student's code through the engine, so a crash is one
short message that shows the student's lines.
"""
from __future__ import annotations

import contextlib
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .core import CheckFailed, difference, error_text, fail, short
from .engine import call


def check_config(layer_class, arguments: Mapping[str, Any], described: str, fix: str,
                 read: Mapping[str, Callable[[Any], Any]] | None = None, make: Callable | None = None) -> None:
    """Steps 1 and 2 for ``layer_class(**arguments)`` (or ``make()``), described in messages as ``described``.

    ``read``: argument -> how to read its recorded value back (e.g. an
    activation's name from what ``get_config`` stored); ``fix``: the one-line
    ``get_config`` that would be right, for the hints.
    """
    read = dict(read or {})
    layer = call(make or (lambda: layer_class(**arguments)), described)
    what = f"{described}.get_config()"
    try:
        config = layer.get_config()
    except NotImplementedError:
        fail(f"{what} raised NotImplementedError", expected=f"a dict with {', '.join(arguments)}",
             found="no get_config()",
             hint=f"missing get_config: Keras 3 records constructor arguments by itself only when they are plain "
                  f"values. Define get_config(): {fix}.")
    except Exception as error:
        raise CheckFailed(f"{what} raised {type(error).__name__}", found=error_text(error, 200),
                          hint=f"get_config(): {fix}.") from None
    if not isinstance(config, dict):
        fail(f"{what} should return a dict", expected="a dict", found=short(config), hint=f"get_config(): {fix}.")
    missing = [key for key in arguments if key not in config]
    if missing:
        fail(f"{what} lacks {', '.join(missing)}", expected=f"keys {', '.join(arguments)} (and the base layer's "
             "keys)", found=sorted(config),
             hint=f"get_config must record every argument of __init__, or a reloaded model rebuilds a different "
                  f"layer: {fix}.")
    if "name" not in config:
        fail(f"{what} lost the base layer's settings", expected="keys name, trainable, dtype, ...",
             found=sorted(config), hint=f"start from super().get_config(): {fix}.")
    _expect_recorded(what, config, arguments, read, "record the arguments as given to __init__.")
    try:
        clone = layer_class.from_config(config)
        clone_config = clone.get_config()
    except Exception as error:
        raise CheckFailed(f"{layer_class.__name__}.from_config({what}) failed with {type(error).__name__}",
                          found=error_text(error, 200),
                          hint="__init__ must accept **kwargs and pass them to super().__init__(**kwargs); the keys "
                               "of get_config() must be the arguments of __init__.") from None
    _expect_recorded(f"{layer_class.__name__}.from_config({what})", clone_config, arguments, read,
                     "__init__ must store the arguments it is given (self.<argument> = <argument>).")


def _expect_recorded(what, config, arguments, read, hint) -> None:
    for key, value in arguments.items():
        reader = read.get(key, lambda v: v)
        try:
            recorded = reader(config.get(key))
        except Exception:
            recorded = f"something that cannot be read back ({short(config.get(key))})"
        expected = reader(value) if key in read else value
        if recorded != expected:
            fail(f"{what} records {key} as {short(config.get(key))}", expected=repr(expected), found=repr(recorded),
                 hint=hint)


def registered_objects(layer_class) -> dict:
    import keras

    objects = {layer_class.__name__: layer_class}
    with contextlib.suppress(Exception):
        objects[keras.saving.get_registered_name(layer_class)] = layer_class
    return objects


def check_save_load(model, data: np.ndarray, layer_class, described: str, fix: str) -> None:
    """Step 3: ``model`` (holding the student's layers) saved to ``.keras`` and reloaded gives the same outputs."""
    import keras

    before = np.asarray(model(data, training=False))
    # Keras warns that a layer without build() "has unbuilt state" while loading: harmless here (the model
    # calls the layer on symbolic inputs, which builds its inner layers), and not the student's concern.
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*unbuilt state.*")
        path = Path(folder) / "model.keras"
        try:
            model.save(path)
        except Exception as error:
            raise CheckFailed(f"{described} could not be saved to a .keras file: {type(error).__name__}",
                              found=error_text(error, 200), hint=f"missing get_config: {fix}.") from None
        try:
            reloaded = keras.models.load_model(path, custom_objects=registered_objects(layer_class))
        except Exception as error:
            raise CheckFailed(f"{described} was saved but could not be loaded back: {type(error).__name__}",
                              found=error_text(error, 200),
                              hint="get_config() must return exactly the arguments __init__ accepts plus the base "
                                   "layer's config, and __init__ must pass **kwargs to super().__init__.") from None
    after = np.asarray(reloaded(data, training=False))
    problem = difference(after, before, atol=1e-6, rtol=1e-6)
    if problem is not None:
        fail(f"{described}: the reloaded model gives different outputs",
             expected="identical outputs before and after the round trip", found=problem[0],
             hint=f"the reloaded layer differs from the saved one: does get_config() record every argument, and "
                  f"does __init__ use them? {fix}.")
