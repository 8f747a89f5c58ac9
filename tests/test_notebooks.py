"""The committed notebooks: student versions in sync, conventions kept.

Each solution notebook runs top to bottom once, under nbgrader, in ``test_nbgrader.py``.
"""
import json

import pytest

from course_autograde.notebook_code import (RELEASE_DIR, answer_sources, check_cells, graded_part, import_sources,
                                            is_answer_cell, is_check_cell, notebook_path, read_notebook,
                                            solution_namespace)
from course_autograde.sync import assignments, source_folders
from course_utils import checks as registry

ASSIGNMENTS = assignments()


def comparable(path):
    """A notebook as JSON, for an exact comparison."""
    return json.loads(path.read_text())


@pytest.fixture(scope="module")
def fresh_release(generated_course):
    """What ``course_autograde.sync`` would write: nbgrader's release of every assignment."""
    assert generated_course.assignments == ASSIGNMENTS
    return generated_course.root / "notebooks"


def test_there_are_graded_notebooks_and_every_source_folder_is_registered():
    assert "01_convolutions" in ASSIGNMENTS
    assert source_folders() == sorted(ASSIGNMENTS), "register the assignment in course_utils.checks.ASSIGNMENTS"


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_is_exactly_what_generation_produces(assignment, fresh_release):
    committed = sorted(p.relative_to(RELEASE_DIR) for p in (RELEASE_DIR / assignment).rglob("*")
                       if ".ipynb_checkpoints" not in p.parts)
    generated = sorted(p.relative_to(fresh_release) for p in (fresh_release / assignment).rglob("*"))
    assert committed == generated, "run `python -m course_autograde.sync` and commit notebooks/"
    for relative in generated:
        if relative.suffix == ".ipynb":
            assert comparable(RELEASE_DIR / relative) == comparable(fresh_release / relative), (
                f"notebooks/{relative} is stale: run `python -m course_autograde.sync {assignment}`")


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_student_notebook_has_no_outputs_solutions_or_hidden_tests(assignment):
    nb = read_notebook(notebook_path(assignment, RELEASE_DIR))
    text = json.dumps(nb)
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"):
        assert marker not in text
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    solution_answers = answer_sources(read_notebook(notebook_path(assignment)))
    for exercise, source in answer_sources(nb).items():
        assert "raise NotImplementedError()" in source
        assert source != solution_answers[exercise]


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_notebook_follows_the_course_conventions(assignment):
    nb = read_notebook(notebook_path(assignment))
    answers = answer_sources(nb)
    checks = check_cells(nb)
    assert import_sources(nb), "no code cell tagged 'imports'"
    assert len(answers) >= 1
    for exercise, source in answers.items():
        assert "### BEGIN SOLUTION" in source and "### END SOLUTION" in source
        assert f"check_{exercise}" in checks, f"exercise {exercise} has no check cell"
    module = registry.ASSIGNMENTS[assignment]
    assert f"from course_utils.checks import {module} as checks" in "\n".join(import_sources(nb)), (
        "one import style for checks in every notebook")
    for grade_id, (source, points) in checks.items():
        assert points > 0, f"{grade_id} gives no points"
        exercise = grade_id.removeprefix("check_")
        assert source == (f"checks.{grade_id}({exercise})\n### BEGIN HIDDEN TESTS\n"
                          f"checks.{grade_id}({exercise}, hidden=True)\n### END HIDDEN TESTS"), (
            f"{grade_id}: a check cell is the visible check, then the hidden one between nbgrader's markers")
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], "solution sources are kept without outputs"
            assert "sys.path" not in cell.source


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_solution_answers_run_on_their_own(assignment):
    namespace = solution_namespace(notebook_path(assignment))
    for exercise in answer_sources(read_notebook(notebook_path(assignment))):
        assert exercise in namespace, f"answer cell {exercise} does not define {exercise}"


def test_a_broken_notebook_gets_a_clear_message(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [')
    with pytest.raises(ValueError, match="not a valid notebook.*Revert Notebook to Checkpoint"):
        read_notebook(broken)
    with pytest.raises(FileNotFoundError):
        read_notebook(tmp_path / "missing.ipynb")


def test_regenerating_keeps_a_copy_of_a_students_work(tmp_path, monkeypatch, capsys):
    from course_autograde import sync

    monkeypatch.setattr(sync, "BACKUP_DIR", tmp_path / "backups")
    mine, fresh = tmp_path / "mine", tmp_path / "fresh"
    for folder, text in ((mine, '{"my": "answers"}'), (fresh, '{"new": "release"}')):
        folder.mkdir()
        (folder / "01_convolutions.ipynb").write_text(text)
    (mine / "same.ipynb").write_text("{}")
    (fresh / "same.ipynb").write_text("{}")
    saved = sync.back_up_local_work(mine, fresh)
    assert len(saved) == 1 and saved[0].read_text() == '{"my": "answers"}'
    assert "kept a copy" in capsys.readouterr().out


@pytest.mark.parametrize("assignment", ASSIGNMENTS)
def test_the_graded_part_keeps_the_text_imports_answers_and_checks_and_nothing_else(assignment):
    nb = read_notebook(notebook_path(assignment))
    part = graded_part(nb)
    kept = [cell for cell in nb.cells if cell.cell_type != "code" or is_answer_cell(cell) or is_check_cell(cell)
            or "imports" in cell.metadata.get("tags", [])]
    assert [cell.id for cell in part.cells] == [cell.id for cell in kept]
    assert answer_sources(part) == answer_sources(nb) and check_cells(part) == check_cells(nb)
    assert import_sources(part) == import_sources(nb)
    assert len(part.cells) < len(nb.cells)  # the training and figure cells are gone

