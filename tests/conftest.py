"""Shared test setup: fast mode, a headless plot backend, and a report of timings and counts."""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
sys.path.insert(0, str(Path(__file__).parent))  # catalogue.py and catalogues/

import pytest  # noqa: E402

_TIMINGS: dict[str, float] = {}
_LINES: list[str] = []


@pytest.fixture(scope="session")
def report_time():
    """``report_time(label, seconds)``: listed at the end of the test run."""
    def record(label: str, seconds: float) -> None:
        _TIMINGS[label] = seconds
    return record


@pytest.fixture(scope="session")
def report_line():
    """``report_line(text)``: a line listed at the end of the test run (counts, sizes)."""
    return _LINES.append


def run_folder(tmp_path_factory) -> Path:
    """A folder of this test run that every pytest-xdist worker sees (the workers' common base)."""
    base = tmp_path_factory.getbasetemp()
    return base.parent if os.environ.get("PYTEST_XDIST_WORKER") else base


@pytest.fixture(scope="session")
def executed_notebooks(tmp_path_factory) -> Path:
    """Where the nbgrader runs put each solution notebook as they executed it (``<assignment>.ipynb``,
    or ``<assignment>.failed``), for the book: every worker of the run sees the same folder."""
    folder = run_folder(tmp_path_factory) / "executed"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def generated_course(tmp_path_factory):
    """One throw-away nbgrader course with every assignment generated (the student release), for the session.

    ``test_notebooks`` compares its release with the committed notebooks; ``test_nbgrader``
    hands in and grades its class there. Generating takes half a minute: done once per run, by
    the first worker that needs it (under a file lock); each worker grades in its own copy.
    """
    import fcntl
    import shutil

    from course_autograde.course import GradingCourse
    from course_utils import checks

    assignments = list(checks.ASSIGNMENTS)
    shared = run_folder(tmp_path_factory) / "generated-course"
    with open(f"{shared}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (shared / ".generated").exists():
            GradingCourse(shared, assignments).generate()
            (shared / ".generated").touch()
    own = tmp_path_factory.mktemp("course")
    shutil.copytree(shared, own, dirs_exist_ok=True)
    return GradingCourse(own, assignments)


# Under ``--dist loadscope`` (``make test``) a scope runs on one worker, so that its fixtures are
# built once: a test file, or a class (test_nbgrader.py has one per assignment, each a full
# execution of the notebook, which would otherwise all wait on one worker). Workers take scopes
# in collection order (``--no-loadscope-reorder``), so the costliest (worker seconds in the
# fresh-clone runs of session 8) come first instead of starting last.
COSTLIEST_SCOPES = ["test_nbgrader.py::TestNbgrader_06_transfer_cam", "test_grade.py",
                    "test_nbgrader.py::TestNbgrader_05_resnet34", "test_nbgrader.py::TestNbgrader_04_resnet50",
                    "test_nbgrader.py::TestNbgrader_01_convolutions", "test_nbgrader.py::TestNbgrader_02_identity_block",
                    "test_backbones.py", "test_04_resnet50.py"]


# Scopes that use what others made (the book is built from the notebooks the nbgrader runs executed): last.
LAST_SCOPES = ["test_book.py"]


def scope_of(item) -> str:
    return item.path.name + (f"::{item.cls.__name__}" if item.cls is not None else "")


def pytest_collection_modifyitems(config, items):
    rank = {scope: i for i, scope in enumerate(COSTLIEST_SCOPES)}
    rank |= {scope: len(rank) + 1 + i for i, scope in enumerate(LAST_SCOPES)}
    items.sort(key=lambda item: rank.get(scope_of(item), len(COSTLIEST_SCOPES)))  # stable: files keep their order


def pytest_sessionfinish(session):
    """Under pytest-xdist, a worker hands its timings and lines to the controller, which prints them."""
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None:
        workeroutput["course_timings"] = dict(_TIMINGS)
        workeroutput["course_lines"] = list(_LINES)


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node, error):
    output = getattr(node, "workeroutput", {})
    _TIMINGS.update(output.get("course_timings", {}))
    _LINES.extend(output.get("course_lines", []))


def pytest_terminal_summary(terminalreporter):
    if _TIMINGS:
        terminalreporter.section("course timings")
        for label, seconds in _TIMINGS.items():
            terminalreporter.write_line(f"{label:<65} {seconds:7.1f} s")
    if _LINES:
        terminalreporter.section("course figures")
        for line in _LINES:
            terminalreporter.write_line(line)
