"""Shared test setup: fast mode, a headless plot backend, and a timing report."""
from __future__ import annotations

import os

os.environ.setdefault("COURSE_FAST", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402

_TIMINGS: dict[str, float] = {}


@pytest.fixture(scope="session")
def report_time():
    """``report_time(label, seconds)``: listed at the end of the test run."""
    def record(label: str, seconds: float) -> None:
        _TIMINGS[label] = seconds
    return record


def pytest_terminal_summary(terminalreporter):
    if _TIMINGS:
        terminalreporter.section("course timings")
        for label, seconds in _TIMINGS.items():
            terminalreporter.write_line(f"{label:<55} {seconds:7.1f} s")
