"""Course-wide settings: the data folder, fast mode and cache folders.

Everything is driven by environment variables so that the same notebook runs
unchanged in JupyterLab, under ``nbgrader autograde`` and in the test suite.

``COURSE_DATA_DIR``
    Folder holding the datasets. Default: ``../shared/data`` next to the
    repository when it exists, else ``~/.cache/convnet-course/data`` (where
    :mod:`course_utils.download` puts what it fetches).
``COURSE_FAST``
    ``1`` forces fast mode, ``0`` forces full mode. When unset, fast mode is on
    during nbgrader execution (``NBGRADER_EXECUTION``) and on CI (``CI=true``).
``COURSE_CACHE_DIR``
    Folder for downloads, saved models and other large files that never go
    into git. Default: ``~/.cache/convnet-course``.
``COURSE_READER``
    ``1``: reader mode. A training cell loads the model that ``make models`` trained and its recorded
    results instead of training (:mod:`course_utils.trained`); ``make book`` turns it on.
``COURSE_RECORD``
    ``1`` while ``make models`` executes a notebook: each training cell saves what it trained.
"""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DATA_ENV = "COURSE_DATA_DIR"
FAST_ENV = "COURSE_FAST"
CACHE_ENV = "COURSE_CACHE_DIR"
READER_ENV = "COURSE_READER"
RECORD_ENV = "COURSE_RECORD"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def cache_dir() -> Path:
    """Folder for downloads and saved models (created on demand)."""
    path = Path(os.environ.get(CACHE_ENV) or Path.home() / ".cache" / "convnet-course")
    path = path.expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """The folder that holds the course datasets (see the module docstring)."""
    configured = os.environ.get(DATA_ENV)
    if configured:
        return Path(configured).expanduser()
    shared = REPO_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return cache_dir() / "data"


def models_dir() -> Path:
    """Where notebooks save trained models (outside the repository)."""
    path = cache_dir() / "models"
    path.mkdir(parents=True, exist_ok=True)
    return path


def fast_mode() -> bool:
    """True when heavy cells should use a small subset and a few steps."""
    chosen = fast_choice()
    if chosen is not None:
        return chosen
    if os.environ.get("NBGRADER_EXECUTION"):
        return True
    return os.environ.get("CI", "").strip().lower() in _TRUE


def _switch(name: str) -> bool | None:
    """What an on/off variable says (1/0, true/false, yes/no, on/off); None when it is unset."""
    value = os.environ.get(name, "").strip().lower()
    if not value:
        return None
    if value in _TRUE or value in _FALSE:
        return value in _TRUE
    meaning = " (fast) or 0 (full)" if name == FAST_ENV else " (on) or 0 (off)"
    raise ValueError(f"{name}={value!r}: use 1{meaning}.")


def fast_choice() -> bool | None:
    """What ``COURSE_FAST`` says: True (1), False (0), or None when it is unset."""
    return _switch(FAST_ENV)


def fast_by_default() -> bool:
    """Fast mode for the course's build commands (make course, make book): on unless ``COURSE_FAST=0``."""
    return fast_choice() is not False


def reader_mode() -> bool:
    """True when training cells load what ``make models`` trained (``COURSE_READER=1``)."""
    return bool(_switch(READER_ENV))


def record_mode() -> bool:
    """True while ``make models`` executes a notebook (``COURSE_RECORD=1``)."""
    return bool(_switch(RECORD_ENV))


def pick(fast, full):
    """Return ``fast`` in fast mode and ``full`` otherwise, e.g. ``epochs = pick(1, 15)``."""
    return fast if fast_mode() else full


FAST_MARK = " [fast mode]"
FAST_DESCRIPTION = "FAST mode (small subset, few steps)"  # how describe() says it (the book reads it back)


def fast_mark() -> str:
    """``" [fast mode]"`` in fast mode, else ``""``: for a number or a figure title that training made,
    so that a fast-mode result says so where it is shown, e.g. ``f"accuracy {acc:.1%}{fast_mark()}"``."""
    return FAST_MARK if fast_mode() else ""


def describe() -> str:
    """One line saying which mode is on and where the data comes from."""
    mode = FAST_DESCRIPTION if fast_mode() else "FULL mode"
    if reader_mode():
        mode += ", reader mode (trained models loaded where make models recorded them)"
    return f"{mode}; data from {data_dir()}"
