"""The message every check shows, and the small helpers that write it.

A failed check raises :class:`CheckFailed`, whose message always has the same
parts: what was checked, what was expected, what was found, and a hint at the
likely mistake. In JupyterLab, in ``nbconvert`` output and in nbgrader's
feedback it shows as that message alone (IPython's ``_render_traceback_``):
no traceback through the course's code, no checker source. When the
student's own code crashed, the message ends with the student's lines.
"""
from __future__ import annotations

import re
from typing import Any

import numpy as np

PASS_MARK = "\u2714"
FAIL_MARK = "\u2718"


class CheckFailed(AssertionError):
    """An exercise check that did not pass."""

    def __init__(self, what: str, expected: Any = None, found: Any = None, hint: str | None = None,
                 student_lines: tuple[str, ...] = ()):
        self.what, self.expected, self.found, self.hint = what, expected, found, hint
        self.student_lines = tuple(student_lines)
        super().__init__(self.message())

    def lines(self) -> list[str]:
        lines = [self.what]
        if self.expected is not None:
            lines.append(f"  expected: {self.expected}")
        if self.found is not None:
            lines.append(f"  found:    {self.found}")
        if self.hint:
            lines.append(f"  hint:     {self.hint}")
        if self.student_lines:
            lines.append("  in your code:")
            lines += [f"    {line}" for line in self.student_lines]
        return lines

    def message(self) -> str:
        return "\n".join(self.lines())

    def as_data(self) -> dict:
        """The message's parts as JSON-ready data (values in words, as the message shows them)."""
        return {"what": self.what, "expected": None if self.expected is None else str(self.expected),
                "found": None if self.found is None else str(self.found), "hint": self.hint,
                "student_lines": list(self.student_lines)}

    @classmethod
    def from_data(cls, data) -> "CheckFailed":
        return cls(str(data.get("what", "the check failed")), data.get("expected"), data.get("found"),
                   data.get("hint"), tuple(str(line) for line in data.get("student_lines") or ()))

    def __str__(self) -> str:  # a plain traceback's last line then starts on a fresh line
        return "\n" + self.message()

    def _render_traceback_(self) -> list[str]:
        """What IPython shows instead of a traceback: the message only."""
        first, *rest = self.lines()
        return [f"\x1b[31m{FAIL_MARK} {first}\x1b[0m", *rest]


def fail(what: str, expected: Any = None, found: Any = None, hint: str | None = None):
    raise CheckFailed(what, expected, found, hint)


def part_name(hidden: bool) -> str:
    """The key of a check's case set in the references: ``"hidden"`` or ``"visible"``."""
    return "hidden" if hidden else "visible"


def passed_line(exercise: str, hidden: bool = False) -> str:
    """The one pass line, the same for visible and hidden checks."""
    return f"{PASS_MARK} {exercise}: {'hidden' if hidden else 'all'} checks passed."


def passed(exercise: str, hidden: bool = False) -> None:
    print(passed_line(exercise, hidden))


# --------------------------------------------------------------------------- words for values


def short(value: Any) -> str:
    """A short, readable description of a value for a message."""
    if hasattr(value, "shape") and hasattr(value, "dtype") and np.ndim(value) > 0:
        return f"array of shape {tuple(np.shape(value))}"
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def describe_call(args=(), kwargs=None) -> str:
    """``(array of shape (2, 5, 5, 3), stride=2)``: a short description of a call's arguments."""
    parts = [short(a) for a in args] + [f"{k}={short(v)}" for k, v in (kwargs or {}).items()]
    return "(" + ", ".join(parts) + ")"


def error_text(error: BaseException, limit: int = 300) -> str:
    """The useful part of an error message, on one line.

    Keras wraps errors raised in ``call`` in extra text ("Exception encountered
    when calling ...", "Arguments received by ..."); that text is dropped.
    """
    text = re.sub(r"\x1b\[[0-9;]*m", "", str(error))
    if "Error encountered:" in text:  # "Could not automatically infer the output shape ... Error encountered: <the error>"
        text = text.rsplit("Error encountered:", 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("Exception encountered when calling")]
    for index, line in enumerate(lines):
        if line.startswith("Arguments received by"):
            lines = lines[:index]
            break
    message = " ".join(lines) or type(error).__name__
    return message if len(message) <= limit else message[:limit - 3] + "..."


# --------------------------------------------------------------------------- comparing outputs


def to_numpy(value: Any, what: str, dtype=None, hint: str | None = None) -> np.ndarray:
    """Convert a tensor or array-like to NumPy, failing clearly on anything else."""
    try:
        return np.asarray(value, dtype=dtype)
    except Exception:  # e.g. a symbolic KerasTensor, a list of ragged rows
        fail(f"{what} could not be turned into an array", expected="a NumPy array or a tensor",
             found=short(value), hint=hint)


def matches(found: Any, expected: Any, atol: float = 1e-4, rtol: float = 1e-4) -> bool:
    """Same structure and values: arrays within tolerance, everything else exactly."""
    return difference(found, expected, atol, rtol) is None


def difference(found: Any, expected: Any, atol: float = 1e-4, rtol: float = 1e-4, where: str = ""):
    """``None`` when ``found`` equals ``expected``, else ``(what, expected, found)`` in words.

    Dicts are compared key by key (``where`` names the key), arrays by shape
    then values (the largest difference and its index), anything else with ``==``.
    """
    at = f"[{where}]" if where else ""
    if isinstance(expected, dict):
        if not isinstance(found, dict):
            return _label(at, "wrong type"), "a dict", short(found)
        missing = [key for key in expected if key not in found]
        if missing:
            return _label(at, "keys missing"), list(expected), sorted(found, key=str)
        for key in expected:
            problem = difference(found[key], expected[key], atol, rtol, f"{where}.{key}" if where else repr(key))
            if problem is not None:
                return problem
        return None
    if isinstance(expected, np.ndarray) and expected.ndim > 0:
        try:
            original = np.asarray(found)
            array = original.astype(np.float64)
        except Exception:
            return _label(at, "not an array"), "an array", short(found)
        if array.shape != expected.shape:
            return _label(at, "wrong output shape"), expected.shape, array.shape
        if np.allclose(array, expected, atol=atol, rtol=rtol, equal_nan=False):
            return None
        diff = np.abs(array - expected.astype(np.float64))
        diff = np.where(np.isnan(diff), np.inf, diff)
        index = tuple(int(i) for i in np.unravel_index(np.argmax(diff), diff.shape))
        return (_label(at, f"wrong values (largest difference {diff.max():.4g} at index {index})"),
                _rounded(expected[index]), _rounded(original[index]))
    expected_value = expected.item() if isinstance(expected, np.generic | np.ndarray) else expected
    if isinstance(expected_value, float) and isinstance(found, (int, float, np.number)) and not isinstance(found, bool):
        if np.isclose(float(found), expected_value, atol=atol, rtol=rtol):
            return None
    elif _same(found, expected_value):
        return None
    return at, _words(expected_value), _words(found)


def _label(at: str, words: str) -> str:
    return f"{at}: {words}" if at else words


def _same(found, expected) -> bool:
    if isinstance(expected, bool) or isinstance(found, bool):
        return type(found) is type(expected) and found == expected
    try:
        return bool(found == expected)
    except Exception:
        return False


def _rounded(value) -> Any:
    value = np.asarray(value).item()
    return round(value, 5) if isinstance(value, float) else value


def _words(value) -> str:
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, (int, np.integer)):
        return f"{int(value):,}" if abs(int(value)) >= 10_000 else str(int(value))
    return short(value) if not isinstance(value, str) else value
