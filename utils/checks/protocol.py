"""The one checker of the Keras custom-layer protocol (``DepthPool`` in 01, ``ResidualUnit`` in 05).

A custom layer a later notebook can save and reload must:

1. record its constructor arguments in ``get_config()``, on top of the base
   layer's config (``name``, ``trainable``, ``dtype``...);
2. be rebuilt by ``from_config(config)`` with the same arguments (so
   ``__init__`` takes ``**kwargs`` and passes them on);
3. survive a ``.keras`` save and reload with identical outputs.

Each step comes in two halves, as the engine's probes do (:class:`.engine.Probe`):
``observe_*`` calls the student's code and records what happened as data (a crash
of the student's code is one short message that shows the student's lines);
``judge_*`` compares that record with the solution's and words the failure. The
second half never sees the student's objects, so it can run outside the sandbox.
"""
from __future__ import annotations

import contextlib
import tempfile
import warnings
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .core import difference, error_text, fail, short
from .engine import call

PLAIN = (int, float, str, bool, type(None))


def _plain(value: Any) -> Any:
    """``value`` if it is data (numbers, strings, lists of them), else a description of it."""
    if isinstance(value, PLAIN):
        return value
    if isinstance(value, (list, tuple)) and all(isinstance(v, PLAIN) for v in value):
        return list(value)
    return f"<{short(value)}>"


def _error(error: BaseException) -> dict:
    return {"error": type(error).__name__, "text": error_text(error, 200)}


def _recorded(config: Mapping, keys, read: Mapping[str, Callable[[Any], Any]]) -> dict:
    """The values ``config`` records for ``keys``, read back as ``read`` says (absent keys left out)."""
    values = {}
    for key in keys:
        if key not in config:
            continue
        try:
            values[key] = _plain(read[key](config[key]) if key in read else config[key])
        except Exception:
            values[key] = f"something that cannot be read back ({short(config[key])})"
    return values


# --------------------------------------------------------------------------- steps 1 and 2: get_config


def observe_config(layer_class, arguments: Mapping[str, Any], described: str,
                   read: Mapping[str, Callable[[Any], Any]] | None = None, make: Callable | None = None,
                   data: np.ndarray | None = None) -> dict:
    """What ``layer_class(**arguments)`` (or ``make()``) records in ``get_config`` and what ``from_config`` rebuilds.

    ``read``: argument -> how to read its recorded value back (e.g. an activation's name from what
    ``get_config`` stored). ``data``: an input the rebuilt layer is also run on (its output is recorded),
    so that a record can only match the solution's if the rebuilt layer computes the same thing.
    """
    read = dict(read or {})
    layer = call(make or (lambda: layer_class(**arguments)), described)
    try:
        config = layer.get_config()
    except Exception as error:
        return {"get_config": _error(error)}
    if not isinstance(config, dict):
        return {"get_config": {"not_a_dict": short(config)}}
    record: dict[str, Any] = {"keys": sorted(map(str, config)), "recorded": _recorded(config, arguments, read)}
    try:
        clone = layer_class.from_config(config)
        record["rebuilt"] = _recorded(clone.get_config(), arguments, read)
    except Exception as error:
        return {**record, "from_config": _error(error)}
    if data is not None:
        try:
            record["rebuilt_output"] = np.asarray(clone(data), dtype=np.float32)
        except Exception as error:
            record["rebuilt_call"] = _error(error)
    return record


def judge_config(found: Mapping, expected: Mapping, layer_name: str, described: str, fix: str) -> None:
    """The failure of a :func:`observe_config` record against the solution's; ``fix``: the right
    ``get_config``, for the hints."""
    what = f"{described}.get_config()"
    arguments = list(expected["recorded"])
    problem = found.get("get_config")
    if problem and problem.get("error") == "NotImplementedError":
        fail(f"{what} raised NotImplementedError", expected=f"a dict with {', '.join(arguments)}",
             found="no get_config()",
             hint=f"missing get_config: Keras 3 records constructor arguments by itself only when they are plain "
                  f"values. Define get_config(): {fix}.")
    if problem and "error" in problem:
        fail(f"{what} raised {problem['error']}", found=problem["text"], hint=f"get_config(): {fix}.")
    if problem:
        fail(f"{what} should return a dict", expected="a dict", found=problem.get("not_a_dict"),
             hint=f"get_config(): {fix}.")
    keys = found.get("keys", [])
    missing = [key for key in arguments if key not in keys]
    if missing:
        fail(f"{what} lacks {', '.join(missing)}", expected=f"keys {', '.join(arguments)} (and the base layer's "
             "keys)", found=keys,
             hint=f"get_config must record every argument of __init__, or a reloaded model rebuilds a different "
                  f"layer: {fix}.")
    if "name" not in keys:
        fail(f"{what} lost the base layer's settings", expected="keys name, trainable, dtype, ...",
             found=keys, hint=f"start from super().get_config(): {fix}.")
    _expect_recorded(what, found.get("recorded", {}), expected["recorded"], "record the arguments as given to "
                     "__init__.")
    rebuilt = f"{layer_name}.from_config({what})"
    if "from_config" in found:
        fail(f"{rebuilt} failed with {found['from_config']['error']}", found=found["from_config"]["text"],
             hint="__init__ must accept **kwargs and pass them to super().__init__(**kwargs); the keys "
                  "of get_config() must be the arguments of __init__.")
    hint = "__init__ must store the arguments it is given (self.<argument> = <argument>)."
    _expect_recorded(rebuilt, found.get("rebuilt", {}), expected["rebuilt"], hint)
    if "rebuilt_call" in found:
        fail(f"the layer rebuilt by {rebuilt} raised {found['rebuilt_call']['error']}",
             found=found["rebuilt_call"]["text"], hint=hint)
    if "rebuilt_output" in expected:
        problem = difference(found.get("rebuilt_output"), expected["rebuilt_output"], atol=1e-5, rtol=1e-5)
        if problem is not None:
            fail(f"the layer rebuilt by {rebuilt}: its output {problem[0]}", expected=problem[1], found=problem[2],
                 hint=f"the rebuilt layer computes something else than {described}: {hint}")


def _expect_recorded(what: str, recorded: Mapping, expected: Mapping, hint: str) -> None:
    for key, value in expected.items():
        if recorded.get(key) != value:
            fail(f"{what} records {key} as {short(recorded.get(key))}", expected=repr(value),
                 found=repr(recorded.get(key)), hint=hint)


# --------------------------------------------------------------------------- step 3: a .keras round trip


def registered_objects(layer_class) -> dict:
    import keras

    objects = {layer_class.__name__: layer_class}
    with contextlib.suppress(Exception):
        objects[keras.saving.get_registered_name(layer_class)] = layer_class
    return objects


def observe_save_load(model, data: np.ndarray, layer_class) -> dict:
    """``model`` (holding the student's layers) on ``data`` before and after a ``.keras`` save and reload."""
    import keras

    record: dict[str, Any] = {"before": np.asarray(model(data, training=False), dtype=np.float32)}
    # Keras warns that a layer without build() "has unbuilt state" while loading: harmless here (the model
    # calls the layer on symbolic inputs, which builds its inner layers), and not the student's concern.
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=".*unbuilt state.*")
        path = Path(folder) / "model.keras"
        try:
            model.save(path)
        except Exception as error:
            return {**record, "save": _error(error)}
        try:
            reloaded = keras.models.load_model(path, custom_objects=registered_objects(layer_class))
            record["after"] = np.asarray(reloaded(data, training=False), dtype=np.float32)
        except Exception as error:
            return {**record, "load": _error(error)}
    return record


def judge_save_load(found: Mapping, expected: Mapping, described: str, fix: str) -> None:
    """The failure of a :func:`observe_save_load` record against the solution's."""
    if "save" in found:
        fail(f"{described} could not be saved to a .keras file: {found['save']['error']}",
             found=found["save"]["text"], hint=f"missing get_config: {fix}.")
    if "load" in found:
        fail(f"{described} was saved but could not be loaded back: {found['load']['error']}",
             found=found["load"]["text"],
             hint="get_config() must return exactly the arguments __init__ accepts plus the base "
                  "layer's config, and __init__ must pass **kwargs to super().__init__.")
    problem = difference(found.get("after"), found.get("before"), atol=1e-6, rtol=1e-6)
    if problem is not None:
        fail(f"{described}: the reloaded model gives different outputs",
             expected="identical outputs before and after the round trip", found=problem[0],
             hint=f"the reloaded layer differs from the saved one: does get_config() record every argument, and "
                  f"does __init__ use them? {fix}.")
    problem = difference(found.get("after"), expected["after"], atol=2e-4, rtol=2e-4)
    if problem is not None:
        fail(f"{described} with known weights: its output {problem[0]}", expected=problem[1], found=problem[2],
             hint="the model of your units computes something else than the solution's: make the unit's own "
                  "check pass first.")
