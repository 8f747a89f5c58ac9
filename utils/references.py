"""Reference output vectors: the visible cases' as JSON package data in ``course_utils/reference_values/``,
the hidden cases' on the instructor's side, in ``autograde/hidden_references/`` (or the folder
``COURSE_HIDDEN_REFERENCES`` names), where only the grader reads them: a student's installation
and the grading sandbox have no copy.

They are produced by running the *solution* code (``python -m
course_autograde.make_references``), never typed in by hand, and each file
records the library versions that produced it. Arrays keep their dtype and
shape; floats are written with full precision so a reload is exact.

The files are read through :mod:`importlib.resources`, so ``course_utils``
finds them when installed from a wheel as well as from the repository.
"""
from __future__ import annotations

import functools
import importlib.resources
import json
import os
import platform
from pathlib import Path
from typing import Any

import numpy as np

REFERENCE_DIR = Path(str(importlib.resources.files(__package__) / "reference_values"))
HIDDEN_REFERENCES_ENV = "COURSE_HIDDEN_REFERENCES"
PARTS = ("visible", "hidden")


class HiddenReferencesUnavailable(FileNotFoundError):
    """The hidden cases' expected values are not here (a student's installation, the grading sandbox)."""


def hidden_dir() -> Path:
    """``COURSE_HIDDEN_REFERENCES``, else ``autograde/hidden_references`` of the instructor's repository."""
    given = os.environ.get(HIDDEN_REFERENCES_ENV)
    return Path(given) if given else Path(__file__).resolve().parents[1] / "autograde" / "hidden_references"


def path(name: str, directory: Path | None = None) -> Path:
    return Path(directory or REFERENCE_DIR) / f"{name}.json"


def versions() -> dict[str, str]:
    import keras
    import tensorflow as tf

    return {"python": platform.python_version(), "numpy": np.__version__,
            "tensorflow": tf.__version__, "keras": keras.__version__}


def _encode(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _encode(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)) and not any(isinstance(v, (np.ndarray, np.generic)) for v in value):
        return [_encode(v) for v in value]
    if isinstance(value, (np.ndarray, np.generic, list, tuple)) or hasattr(value, "numpy"):
        array = np.asarray(value)
        return {"__array__": array.tolist(), "dtype": str(array.dtype), "shape": list(array.shape)}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and "__array__" in value:
        return np.asarray(value["__array__"], dtype=value["dtype"]).reshape(value["shape"])
    if isinstance(value, dict):
        return {k: _decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_decode(v) for v in value]
    return value


def encode(value: Any, strict: bool = True) -> Any:
    """``value`` as JSON-ready data (arrays keep dtype and shape); :func:`decode` reverses it.

    ``strict=False`` (a student's outputs): what is not data (an object, a symbolic tensor) becomes
    ``{"__object__": "<its repr>"}``, which equals no reference value.
    """
    if strict:
        return _encode(value)
    try:
        encoded = _encode(value)
        json.dumps(encoded, allow_nan=True)
        return encoded
    except Exception:
        if isinstance(value, dict):
            return {str(k): encode(v, strict=False) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [encode(v, strict=False) for v in value]
        return {"__object__": repr(value)[:200]}


def decode(value: Any) -> Any:
    return _decode(value)


def save(name: str, values: dict, directory: Path | None = None) -> Path:
    """Write ``values`` (a dict of arrays, numbers, strings) with the versions used."""
    target = path(name, directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = {"name": name, "versions": versions(), "values": _encode(values)}
    target.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return target


def save_parts(name: str, values: dict, directory: Path | None = None, hidden_directory: Path | None = None):
    """Write ``{exercise: {"visible": ..., "hidden": ..., "mistakes": ...}}`` as two files: the visible
    cases' (and the known mistakes' outputs on them) in ``directory`` (default: the package data), the
    hidden ones' in ``hidden_directory``
    (default: :func:`hidden_dir`). Returns both paths."""
    visible = {exercise: {key: value for key, value in parts.items() if key != "hidden"}
               for exercise, parts in values.items()}
    hidden = {exercise: {"hidden": parts["hidden"]} for exercise, parts in values.items()}
    return save(name, visible, directory), save(name, hidden, hidden_directory or hidden_dir())


def load_file(name: str, directory: Path | None = None) -> dict:
    """The values of one reference file (arrays come back as NumPy arrays)."""
    source = path(name, directory)
    if not source.exists():
        raise FileNotFoundError(
            f"reference file {source} is missing: run `python -m course_autograde.make_references` "
            "from the repository root to produce it from the solution notebooks.")
    return _decode(json.loads(source.read_text())["values"])


def load(name: str, directory: Path | None = None, hidden_directory: Path | None = None) -> dict:
    """``{exercise: {part: {case: value}}}``: the visible cases' values, and the hidden ones' where
    they are available (the instructor's side)."""
    values = load_file(name, directory)
    hidden_source = path(name, hidden_directory or hidden_dir())
    if hidden_source.exists():
        for exercise, parts in load_file(name, hidden_directory or hidden_dir()).items():
            values.setdefault(exercise, {}).update(parts)
    return values


@functools.lru_cache(maxsize=None)
def cached_file(name: str, directory: str) -> dict:
    """:func:`load_file`, read once per process."""
    return load_file(name, Path(directory))


@functools.lru_cache(maxsize=None)
def cached(name: str, part: str = "visible") -> dict:
    """One part's reference file, read once per process (checks call it for every case)."""
    if part == "visible":
        return load_file(name)
    try:
        return load_file(name, hidden_dir())
    except FileNotFoundError:
        raise HiddenReferencesUnavailable(
            f"the expected values of the hidden cases of {name} are not in this installation: they stay "
            "with the instructor's grader, which checks the hidden cases when the notebook is graded") from None


def stored(name: str, exercise: str, part: str):
    """The cached references of one exercise's ``"visible"`` or ``"hidden"`` cases."""
    return cached(name, part)[exercise][part]


def recorded_versions(name: str, directory: Path | None = None) -> dict[str, str]:
    return json.loads(path(name, directory).read_text())["versions"]


def differences(stored: dict, fresh: dict, atol: float = 1e-6, prefix: str = "", rtol: float = 0.0) -> list[str]:
    """Human-readable differences between two reference sets (empty when they agree within atol + rtol)."""
    problems = []
    for key in sorted(set(stored) | set(fresh)):
        where = f"{prefix}{key}"
        if key not in fresh or key not in stored:
            problems.append(f"{where}: only in {'stored' if key in stored else 'fresh'} references")
            continue
        a, b = stored[key], fresh[key]
        if isinstance(a, dict) and isinstance(b, dict):
            problems += differences(a, b, atol, prefix=where + ".", rtol=rtol)
        elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            a, b = np.asarray(a), np.asarray(b)
            if a.shape != b.shape:
                problems.append(f"{where}: shape {a.shape} != {b.shape}")
            elif a.dtype.kind in "fc" or b.dtype.kind in "fc":
                if not np.allclose(a, b, atol=atol, rtol=rtol):
                    problems.append(f"{where}: values differ by up to {np.max(np.abs(a - b)):.3g}")
            elif not np.array_equal(a, b):
                problems.append(f"{where}: values differ")
        elif a != b:
            problems.append(f"{where}: {a!r} != {b!r}")
    return problems
