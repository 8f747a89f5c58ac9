"""Reference output vectors, stored as JSON package data in ``course_utils/reference_values/``.

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
import platform
from pathlib import Path
from typing import Any

import numpy as np

REFERENCE_DIR = Path(str(importlib.resources.files(__package__) / "reference_values"))


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


def save(name: str, values: dict, directory: Path | None = None) -> Path:
    """Write ``values`` (a dict of arrays, numbers, strings) with the versions used."""
    target = path(name, directory)
    target.parent.mkdir(parents=True, exist_ok=True)
    document = {"name": name, "versions": versions(), "values": _encode(values)}
    target.write_text(json.dumps(document, indent=1, sort_keys=True) + "\n")
    return target


def load(name: str, directory: Path | None = None) -> dict:
    """The stored values of reference set ``name`` (arrays come back as NumPy arrays)."""
    source = path(name, directory)
    if not source.exists():
        raise FileNotFoundError(
            f"reference file {source} is missing: run `python -m course_autograde.make_references` "
            "from the repository root to produce it from the solution notebooks.")
    return _decode(json.loads(source.read_text())["values"])


@functools.lru_cache(maxsize=None)
def cached(name: str) -> dict:
    """:func:`load`, read once per process (checks call it for every case)."""
    return load(name)


def stored(name: str, exercise: str, part: str):
    """The cached references of one exercise's ``"visible"`` or ``"hidden"`` cases."""
    return cached(name)[exercise][part]


def recorded_versions(name: str, directory: Path | None = None) -> dict[str, str]:
    return json.loads(path(name, directory).read_text())["versions"]


def differences(stored: dict, fresh: dict, atol: float = 1e-6, prefix: str = "") -> list[str]:
    """Human-readable differences between two reference sets (empty when they agree)."""
    problems = []
    for key in sorted(set(stored) | set(fresh)):
        where = f"{prefix}{key}"
        if key not in fresh or key not in stored:
            problems.append(f"{where}: only in {'stored' if key in stored else 'fresh'} references")
            continue
        a, b = stored[key], fresh[key]
        if isinstance(a, dict) and isinstance(b, dict):
            problems += differences(a, b, atol, prefix=where + ".")
        elif isinstance(a, np.ndarray) or isinstance(b, np.ndarray):
            a, b = np.asarray(a), np.asarray(b)
            if a.shape != b.shape:
                problems.append(f"{where}: shape {a.shape} != {b.shape}")
            elif a.dtype.kind in "fc" or b.dtype.kind in "fc":
                if not np.allclose(a, b, atol=atol, rtol=0):
                    problems.append(f"{where}: values differ by up to {np.max(np.abs(a - b)):.3g}")
            elif not np.array_equal(a, b):
                problems.append(f"{where}: values differ")
        elif a != b:
            problems.append(f"{where}: {a!r} != {b!r}")
    return problems
