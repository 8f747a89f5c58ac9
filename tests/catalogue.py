"""The one format of the answer catalogues in ``tests/catalogues/`` (tests as data).

Each catalogue module, named after its notebook's checks module, holds:

* ``MISTAKES``: wrong answers. Each must fail the *visible* check with a
  message containing its ``words`` (the fairness rule: a student who sees
  every visible check pass has made no catalogued kind of mistake);
* ``HARD_CODED``: answers that special-case the visible inputs. They are the
  only kind allowed to pass the visible check; the hidden check fails them;
* ``ALTERNATIVES``: other correct answers, which must pass both checks;
* ``CLASS``: the students of the one real nbgrader run, student -> ids of the
  catalogue entries they hand in (on top of the solution's other answers).
"""
from __future__ import annotations

import importlib
import textwrap
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from course_utils import checks

CATALOGUE_DIR = Path(__file__).parent / "catalogues"


def catalogues() -> dict[str, ModuleType]:
    """Assignment -> its catalogue module (``catalogues/<checks module>.py``), for those that exist."""
    return {assignment: importlib.import_module(f"catalogues.{name}")
            for assignment, name in checks.ASSIGNMENTS.items() if (CATALOGUE_DIR / f"{name}.py").exists()}


def src(text: str) -> str:
    """Source code written indented inside a Python file, dedented."""
    return textwrap.dedent(text).strip("\n") + "\n"


@dataclass(frozen=True)
class Mistake:
    id: str
    exercise: str
    code: str
    words: tuple[str, ...]  # what the failure message must contain

    def __post_init__(self):
        if isinstance(self.words, str):
            object.__setattr__(self, "words", (self.words,))


@dataclass(frozen=True)
class HardCoded:
    id: str
    exercise: str
    code: str


@dataclass(frozen=True)
class Alternative:
    id: str
    exercise: str
    code: str


def edit(source: str, *edits: tuple[str, str]) -> str:
    """``source`` with each (old, new) replaced once; every edit must apply."""
    for old, new in edits:
        if old not in source:
            raise ValueError(f"edit does not apply: {old!r}")
        source = source.replace(old, new, 1)
    return source
