"""A class's release (``course_autograde.release``): what students receive holds no solution, no hidden
case and no hidden expected value, and their visible checks work with only what they receive.

The student environment is a fresh virtual environment with the release's wheel and nbgrader installed
into it by pip. The other third-party packages (TensorFlow and the rest, about 1.5 GB) are read from
the instructor's environment through a ``.pth`` line instead of being installed again; that line adds
a folder to ``sys.path`` without running its ``.pth`` hooks, so the instructor's editable install of
``course_utils`` and ``course_autograde`` is not visible there (a test checks it).
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

import catalogue
from course_autograde import release
from course_autograde.notebook_code import RELEASE_DIR, answer_sources, import_sources, notebook_path, read_notebook
from course_utils.checks.mistakes import conv as conv_mistakes

WEEK_2 = {"released": ("01_convolutions", "02_identity_block"), "closed": ("01_convolutions",)}
# The whole course at the last week: every assignment out, the last one still open.
LAST_WEEK = {"released": release.ASSIGNMENTS, "closed": release.ASSIGNMENTS[:-1]}


def build(tmp_path: Path, released, closed, name: str = "release") -> tuple[Path, dict]:
    output = tmp_path / name
    return output, release.build(released, closed, output, notebooks_from=RELEASE_DIR)


def wheel_members(output: Path) -> list[str]:
    (wheel,) = output.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


# --------------------------------------------------------------------------- contents


def test_a_release_holds_its_assignments_and_no_reference_code_of_an_open_one(tmp_path):
    output, manifest = build(tmp_path, **WEEK_2)
    assert sorted(p.name for p in (output / "notebooks").iterdir()) == list(WEEK_2["released"])
    package = {name.removeprefix("course_utils/") for name in wheel_members(output) if name.startswith("course_utils/")}
    assert {"checks/conv.py", "checks/identity_block.py", "checks/_blocks.py", "checks/engine.py",
            "reference_values/01_convolutions.json", "reference_values/02_identity_block.json"} <= package
    # 02 is open: its reference code (the blocks) stays out, and so does everything of 03-06
    assert not package & {"blocks.py", "resnet50.py", "cam.py", "checks/resnet50.py", "checks/cam.py",
                          "reference_values/03_convolutional_block.json"}
    # the code of the mistakes told by their outputs never enters: their visible outputs are data
    assert not [name for name in package if name.startswith("checks/mistakes/")]
    assert manifest["left_out"]["checks/mistakes/conv.py"].startswith("code of the known mistakes")
    assert manifest["left_out"]["blocks.py"] == ("reference code of 02_identity_block, 03_convolutional_block: "
                                                 "enters when closed")
    assert manifest["open"] == ["02_identity_block"]
    assert set(manifest["files"]) == {str(p.relative_to(output)) for p in output.rglob("*")
                                      if p.is_file() and p.name != "release.json"}
    for entry in json.loads((output / "release.json").read_text())["files"].values():
        assert entry["bytes"] > 0 and len(entry["sha256"]) == 64
    # no hidden part anywhere in the visible references
    for name in ("01_convolutions", "02_identity_block"):
        with zipfile.ZipFile(next(output.glob("*.whl"))) as archive:
            stored = json.loads(archive.read(f"course_utils/reference_values/{name}.json"))
        assert all("visible" in parts and "hidden" not in parts for parts in stored["values"].values())
        if name == "01_convolutions":  # the known mistakes' outputs on the visible cases, as data
            entries = stored["values"]["conv2d_numpy"]["mistakes"]
            assert [entries[str(index)]["hint"] for index in range(len(entries))] == [
                mistake.hint for mistake in conv_mistakes.MISTAKES["conv2d_numpy"]]


def test_the_wheel_pins_the_students_requirements_and_switches_off_the_instructor_tools(tmp_path):
    output, _ = build(tmp_path, **WEEK_2)
    (wheel,) = output.glob("*.whl")
    assert wheel.name == "convnet_course_student-0.1.0+2.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel) as archive:
        metadata = archive.read("convnet_course_student-0.1.0+2.1.dist-info/METADATA").decode()
        page = json.loads(archive.read("convnet_course_student-0.1.0+2.1.data/data/etc/jupyter/labconfig/"
                                       "page_config.d/convnet_course_student.json"))
    requires = re.findall(r"(?m)^Requires-Dist: (.+)$", metadata)
    assert "tensorflow-cpu==2.21.0" in requires and "nbgrader==0.9.6" in requires
    assert not [pin for pin in requires if pin.split("==")[0] in release.INSTRUCTOR_REQUIREMENTS]
    assert set(page["disabledExtensions"]) == set(release.INSTRUCTOR_EXTENSIONS)
    assert (output / "requirements-student.txt").read_text().splitlines()[-1] == f"./{wheel.name}"
    # the same inputs give the same bytes
    again, _ = build(tmp_path, **WEEK_2, name="again")
    assert next(again.glob("*.whl")).read_bytes() == wheel.read_bytes()


def test_an_open_assignment_that_builds_on_reference_code_not_yet_closed_is_refused(tmp_path):
    with pytest.raises(release.ReleaseError) as refused:
        release.plan(["01_convolutions", "02_identity_block", "03_convolutional_block", "04_resnet50"],
                     closed=["01_convolutions", "02_identity_block"])
    assert str(refused.value) == ("04_resnet50 builds on course_utils.blocks, the reference code of 02_identity_block, "
                                  "03_convolutional_block: close 03_convolutional_block first "
                                  "(--closed 03_convolutional_block)")
    with pytest.raises(release.ReleaseError, match="unknown: \\['07_gans'\\]"):
        release.plan(["07_gans"])
    assert release.main(["04_resnet50", "--output", str(tmp_path / "refused")]) == 2
    assert not (tmp_path / "refused").exists()
    (tmp_path / "work" / "notes.txt").parent.mkdir()
    (tmp_path / "work" / "notes.txt").write_text("an instructor's file")
    with pytest.raises(release.ReleaseError, match="is not an earlier release"):
        release.build(["01_convolutions"], output=tmp_path / "work")
    assert (tmp_path / "work" / "notes.txt").exists()


# --------------------------------------------------------------------------- the leak search


def test_the_leak_search_finds_reference_code_hidden_cases_and_hidden_values(tmp_path, monkeypatch):
    output, _ = build(tmp_path, **LAST_WEEK)
    plan = release.plan(**LAST_WEEK)
    assert release.leaks(output, plan) == []
    # what a careless instructor (or a bug in the release lists) could let through
    case = sorted(release.hidden_case_names())[0]
    value = sorted(release.hidden_numbers())[0]
    planted = {"cells": [{"cell_type": "code", "source": [f"CASE = {case!r}\n", f"EXPECTED = {value}\n",
                                                         "checks.check_grad_cam(grad_cam, hidden=True)\n"]}]}
    (output / "notebooks" / "planted.ipynb").write_text(json.dumps(planted))
    found = release.leaks(output, plan)
    assert f"notebooks/planted.ipynb: the hidden case name {case!r}" in found
    assert f"notebooks/planted.ipynb: a hidden expected value, {value}" in found
    assert any(line.startswith("notebooks/planted.ipynb: solution code or a hidden test of 06") for line in found)
    # the course's answers of the open notebook 06, let in by mistake
    monkeypatch.setattr(release, "COMMON", (*release.COMMON, "cam.py"))
    monkeypatch.setattr(release, "ANSWER_MODULES", {k: v for k, v in release.ANSWER_MODULES.items() if k != "cam.py"})
    with pytest.raises(release.ReleaseError) as refused:
        build(tmp_path, **LAST_WEEK, name="careless")
    assert "course_utils/cam.py: solution code or a hidden test of 06_transfer_cam" in str(refused.value)
    careless = tmp_path / "careless-wheel"
    careless.mkdir()
    release.build_wheel(release.plan(**LAST_WEEK), careless)
    found = "\n".join(release.leaks(careless, plan))
    for exercise in ("class_activation_map", "grad_cam", "build_transfer_model", "mass_inside"):
        assert f"course_utils/cam.py: an implementation of {exercise} (06_transfer_cam open)" in found
    assert not (tmp_path / "careless").exists()
    # the code of the known mistakes, let in by mistake
    monkeypatch.setattr(release, "INSTRUCTOR_ONLY", ("checks/nothing/",))
    monkeypatch.setattr(release, "COMMON", (*release.COMMON, *(f"checks/mistakes/{name}.py" for name in
                                                            ("__init__", "conv", "cam", "resnet34"))))
    leaky = tmp_path / "leaky-wheel"
    leaky.mkdir()
    release.build_wheel(release.plan(**LAST_WEEK), leaky)
    found = "\n".join(release.leaks(leaky, plan))
    assert "checks/mistakes/conv.py: the code of a known mistake, conv_variant" in found
    assert "checks/mistakes/cam.py: the code of a known mistake, grad_cam_variant" in found


# --------------------------------------------------------------------------- a student's environment


def site_packages(python: Path) -> Path:
    code = "import sysconfig; print(sysconfig.get_paths()['purelib'])"
    return Path(subprocess.check_output([str(python), "-c", code], text=True).strip())


@pytest.fixture(scope="module")
def student_env(tmp_path_factory):
    """A fresh virtual environment with what a student installs from the last week's release."""
    root = tmp_path_factory.mktemp("student")
    output, manifest = build(root, **LAST_WEEK)
    venv = root / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    (wheel,) = output.glob("*.whl")
    subprocess.run([str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel), "nbgrader==0.9.6"],
                   check=True, env={**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    (site_packages(python) / "instructor_third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return python, output, manifest


def job() -> dict:
    """Per assignment: imports, the solution's answers, and one catalogued mistake and hard-coded answer
    per exercise (the first of each)."""
    assignments = {}
    for assignment, module in catalogue.catalogues().items():
        nb = read_notebook(notebook_path(assignment))
        others, seen = [], set()
        for kind, entries in (("mistake", module.MISTAKES), ("hard_coded", module.HARD_CODED)):
            for entry in entries:
                if (kind, entry.exercise) not in seen:
                    seen.add((kind, entry.exercise))
                    others.append({"kind": kind, "id": entry.id, "exercise": entry.exercise, "code": entry.code,
                                   "words": list(getattr(entry, "words", ()))})
        assignments[assignment] = {"checks": f"course_utils.checks.{release.checks.ASSIGNMENTS[assignment]}",
                                   "imports": import_sources(nb), "answers": answer_sources(nb), "others": others}
    return {"assignments": assignments,
            "modules": ["course_utils.blocks", "course_utils.resnet50", "course_utils.cam", "course_autograde",
                        "course_utils.transfer", "course_utils.checks.mistakes"]}


@pytest.fixture(scope="module")
def student_results(student_env, tmp_path_factory):
    python, _, _ = student_env
    folder = tmp_path_factory.mktemp("student-run")
    task = job()
    (folder / "job.json").write_text(json.dumps(task))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COURSE_HIDDEN", "PYTHONPATH"))}
    subprocess.run([str(python), str(Path(__file__).parent / "student_env_checks.py"), str(folder / "job.json"),
                    str(folder / "result.json")], check=True, cwd=folder, env={**env, "TF_CPP_MIN_LOG_LEVEL": "3"},
                   timeout=600)
    return task, json.loads((folder / "result.json").read_text())


def test_the_student_environment_has_the_package_of_the_release_only(student_env, student_results):
    python, _, _ = student_env
    location = subprocess.check_output([str(python), "-c", "import course_utils; print(course_utils.__file__)"],
                                       text=True).strip()
    assert Path(location).is_relative_to(python.parent.parent)
    modules = student_results[1]["modules"]
    assert modules["course_utils.blocks"] == modules["course_utils.resnet50"] == "imported"   # 02-05 closed
    assert modules["course_utils.cam"].startswith("ModuleNotFoundError")                       # 06 open
    assert modules["course_autograde"].startswith("ModuleNotFoundError")
    assert modules["course_utils.checks.mistakes"].startswith("ModuleNotFoundError")


def test_every_visible_check_works_in_the_student_environment(student_results):
    task, results = student_results
    for assignment, found in results["assignments"].items():
        for exercise in task["assignments"][assignment]["answers"]:
            assert found[f"solution/{exercise}"]["passed"], (assignment, exercise, found[f"solution/{exercise}"])
            assert "all checks passed" in found[f"solution/{exercise}"]["message"]
            hidden = found[f"hidden/{exercise}"]
            assert not hidden["passed"] and "not in this installation" in hidden["message"], (assignment, hidden)
        for entry in task["assignments"][assignment]["others"]:
            result = found[f"{entry['kind']}/{entry['id']}"]
            if entry["kind"] == "mistake":
                assert not result["passed"], (assignment, entry["id"])
                assert all(word in result["message"] for word in entry["words"]), (assignment, entry["id"], result)
            else:  # special-cases the visible inputs: passes here, fails the hidden check when graded
                assert result["passed"], (assignment, entry["id"], result)


def test_the_hard_coded_answers_fail_the_hidden_checks_on_the_instructors_side(student_results):
    from course_autograde.notebook_code import solution_namespace
    from course_utils import checks

    task, _ = student_results
    for assignment, assignment_task in task["assignments"].items():
        for entry in assignment_task["others"]:
            if entry["kind"] == "hard_coded":
                answer = solution_namespace(notebook_path(assignment), {entry["exercise"]: entry["code"]})
                with pytest.raises(checks.CheckFailed):
                    checks.module(assignment).CHECKS.check(entry["exercise"], answer[entry["exercise"]], hidden=True)


# What JupyterLab and Jupyter Server read at start-up (the same calls as `jupyter labextension list` and
# `jupyter server extension list`, without importing every extension to validate it).
READ_EXTENSIONS = """
import json
from jupyter_core.paths import jupyter_config_path, jupyter_path
from jupyter_server.extension.config import ExtensionConfigManager
from jupyterlab_server.config import get_federated_extensions, get_page_config

labextensions = jupyter_path("labextensions")
page = get_page_config(labextensions, None)
server = ExtensionConfigManager(read_config_path=jupyter_config_path()).get_jpserver_extensions()
print(json.dumps({"lab": sorted(get_federated_extensions(labextensions)), "disabled lab": page["disabledExtensions"],
                  "enabled server": sorted(name for name, on in server.items() if on)}))
"""


def extensions(python: Path, env: dict) -> dict[str, set[str]]:
    """The lab extensions an environment has and disables, and the nbgrader server extensions it enables."""
    found = json.loads(subprocess.run([str(python), "-c", READ_EXTENSIONS], env=env, capture_output=True, text=True,
                                      check=True).stdout)
    return {"lab": set(found["lab"]), "disabled lab": set(found["disabled lab"]),
            "enabled server": {name for name in found["enabled server"] if name.startswith("nbgrader.")}}


def test_the_students_jupyterlab_has_no_instructor_tools_and_the_instructors_has_them(student_env, tmp_path):
    python, _, _ = student_env
    env = {**os.environ, "JUPYTER_CONFIG_DIR": str(tmp_path / "config"), "JUPYTER_DATA_DIR": str(tmp_path / "data")}
    student = extensions(python, env)
    instructor = extensions(Path(sys.executable), env)
    assert "@jupyter/nbgrader" in student["lab"] and "@jupyter/nbgrader" in instructor["lab"]
    assert student["disabled lab"] == {"@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                                       "@jupyter/nbgrader:course-list"}
    assert student["enabled server"] == {"nbgrader.server_extensions.assignment_list",
                                         "nbgrader.server_extensions.validate_assignment"}
    assert instructor["disabled lab"] == set()
    assert instructor["enabled server"] == {f"nbgrader.server_extensions.{name}" for name in
                                            ("formgrader", "assignment_list", "course_list", "validate_assignment")}
