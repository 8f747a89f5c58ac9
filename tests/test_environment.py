"""The pinned environment: requirements.txt and environment.yml agree, and the pins are installed."""
import re
from importlib import metadata
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def pins_from(lines):
    pins = {}
    for line in lines:
        match = re.match(r"^\s*(?:-\s+)?([A-Za-z0-9_.\-]+)==([^\s#]+)", line)
        if match:
            pins[match.group(1).lower()] = match.group(2)
    return pins


def requirements():
    return pins_from((ROOT / "requirements.txt").read_text().splitlines())


def conda_pins():
    return pins_from((ROOT / "environment.yml").read_text().splitlines())


def test_requirements_and_environment_yml_list_the_same_pins():
    assert requirements(), "requirements.txt has no pinned packages"
    assert requirements() == conda_pins()


def test_core_libraries_are_the_ones_the_course_is_written_for():
    pins = requirements()
    assert pins["tensorflow-cpu"].startswith("2.21")
    assert pins["keras"].startswith("3.")
    assert pins["nbgrader"].startswith("0.9")
    assert pins["jupyterlab"].startswith("4.")


@pytest.mark.parametrize("name,version", sorted(requirements().items()))
def test_installed_versions_match_the_pins(name, version):
    assert metadata.version(name) == version


def test_pins_parser_reads_both_formats():
    assert pins_from(["keras==3.15.1  # comment", "      - numpy==2.4.6", "# x==1", "pip"]) == {
        "keras": "3.15.1", "numpy": "2.4.6"}
