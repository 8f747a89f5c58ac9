"""The one style every exercise check uses.

A failed check raises :class:`CheckFailed`, whose message always has the same
four parts: what was checked, what was expected, what was found, and a hint
at the likely mistake. Hints come from *diagnosis*: the student's output is
compared with the outputs of known mistakes (see :func:`diagnose`), so the
hint names the mistake instead of just saying "wrong".
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np


class CheckFailed(AssertionError):
    """An exercise check that did not pass."""

    def __init__(self, what: str, expected: Any = None, found: Any = None, hint: str | None = None):
        self.what, self.expected, self.found, self.hint = what, expected, found, hint
        super().__init__(self._message())

    def _message(self) -> str:
        lines = [self.what]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.found is not None:
            lines.append(f"  found:    {self.found}")
        if self.hint:
            lines.append(f"  hint:     {self.hint}")
        return "\n".join(lines)

    def __str__(self) -> str:  # the traceback's last line starts on a fresh line
        return "\n" + self._message()


def fail(what: str, expected: Any = None, found: Any = None, hint: str | None = None):
    raise CheckFailed(what, expected, found, hint)


def part_name(hidden: bool) -> str:
    """The key of a check's case set in the references: ``"hidden"`` or ``"visible"``."""
    return "hidden" if hidden else "visible"


def passed(exercise: str, hidden: bool = False) -> None:
    print(f"\u2714 {exercise}: {'hidden' if hidden else 'all'} checks passed.")


def call_student(fn: Callable, *args, name: str | None = None, **kwargs):
    """Call the student's ``fn``; turn an exception into a CheckFailed with a hint."""
    name = name or getattr(fn, "__name__", "your code")
    if not callable(fn):
        fail(f"{name} is not a function or class", expected="something callable", found=type(fn).__name__)
    try:
        return fn(*args, **kwargs)
    except NotImplementedError:
        fail(f"{name} is not written yet",
             hint="replace `raise NotImplementedError()` in the exercise cell with your code, then run that cell again.")
    except CheckFailed:
        raise
    except Exception as error:  # a student's bug: report it as a check failure, not a crash
        fail(f"{name}{describe_call(args, kwargs)} raised {type(error).__name__}",
             found=str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__,
             hint="read the error above; run the exercise cell on its own to see the full traceback.")


def describe_call(args=(), kwargs=None) -> str:
    """``(x.shape=(2, 5, 5, 3), stride=2)``: a short description of the arguments of a call."""
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in (kwargs or {}).items()]
    return "(" + ", ".join(parts) + ")"


def short(value: Any) -> str:
    """A short, readable description of a value for a message."""
    if hasattr(value, "shape") and hasattr(value, "dtype") and np.ndim(value) > 0:
        return f"array of shape {tuple(np.shape(value))}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def to_numpy(value: Any, what: str, dtype=None, hint: str | None = None) -> np.ndarray:
    """Convert a tensor or array-like to NumPy, failing clearly on anything else."""
    try:
        return np.asarray(value, dtype=dtype)
    except Exception:  # e.g. a symbolic KerasTensor, a list of ragged rows
        fail(f"{what} could not be turned into an array", expected="a NumPy array or a tensor",
             found=short(value), hint=hint)


def expect_equal(what: str, found: Any, expected: Any, hint: str | None = None) -> None:
    if found != expected:
        fail(what, expected=expected, found=found, hint=hint)


def expect_shape(what: str, found: Any, expected_shape: tuple, hint: str | None = None) -> None:
    shape = tuple(np.shape(found))
    if shape != tuple(expected_shape):
        fail(f"{what}: wrong shape", expected=tuple(expected_shape), found=shape, hint=hint)


def expect_close(what: str, found: Any, expected: Any, hint: str | None = None,
                 atol: float = 1e-4, rtol: float = 1e-4) -> None:
    """Fail unless ``found`` has the expected shape and values (within tolerance)."""
    found = to_numpy(found, what)
    expected = np.asarray(expected)
    expect_shape(what, found, expected.shape, hint)
    if not np.allclose(found, expected, atol=atol, rtol=rtol):
        diff = np.abs(found.astype(np.float64) - expected)
        index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape)) if diff.ndim else ()
        fail(f"{what}: wrong values (largest difference {diff.max():.4g} at index {index})",
             expected=_value_at(expected, index), found=_value_at(found, index), hint=hint)


def _value_at(array: np.ndarray, index: tuple):
    return np.round(array[index].item(), 5) if index or array.ndim == 0 else array


def matches(found: Any, expected: Any, atol: float = 1e-4, rtol: float = 1e-4) -> bool:
    found, expected = np.asarray(found), np.asarray(expected)
    return found.shape == expected.shape and bool(np.allclose(found, expected, atol=atol, rtol=rtol))


def diagnose(found: Any, known_mistakes: Mapping[str, Callable[[], Any]]) -> str | None:
    """Return the hint of the first known mistake whose output equals ``found``.

    ``known_mistakes`` maps a hint to a function computing what that mistake
    would produce (computed lazily, so only as many as needed are run).
    """
    for hint, produce in known_mistakes.items():
        try:
            if matches(found, produce()):
                return hint
        except Exception:  # a probe that does not apply to this input
            continue
    return None
