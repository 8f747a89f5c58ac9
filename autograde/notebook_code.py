"""Reading the graded code out of a notebook, without running the whole notebook.

Conventions every course notebook follows (``course_autograde.authoring``
writes them):

* code cells tagged ``imports`` hold the imports the exercises need;
* an exercise's answer cell is an nbgrader "autograded answer" cell whose
  ``grade_id`` is the exercise name (e.g. ``conv_output_size``);
* its check cell is a graded tests cell with ``grade_id`` ``check_<exercise>``.

:func:`solution_namespace` runs the imports and the answer cells only, so
reference vectors and the mistake catalogue use the real solution code in
seconds instead of minutes.
"""
from __future__ import annotations

import json
import linecache
from pathlib import Path

import nbformat

from course_utils.settings import REPO_ROOT

SOLUTIONS_DIR = REPO_ROOT / "solutions"
RELEASE_DIR = REPO_ROOT / "notebooks"


def notebook_path(assignment: str, root: Path = SOLUTIONS_DIR) -> Path:
    """``solutions/<assignment>/<assignment>.ipynb`` (the one notebook of an assignment)."""
    return Path(root) / assignment / f"{assignment}.ipynb"


def read_notebook(path: Path) -> nbformat.NotebookNode:
    """Read and validate a notebook, with a clear message when it is broken."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"notebook {path} does not exist")
    try:
        nb = nbformat.read(path, as_version=4)
    except (json.JSONDecodeError, nbformat.reader.NotJSONError) as error:
        raise ValueError(f"{path} is not a valid notebook (broken JSON: {error}). "
                         "Restore it from git or from your last checkpoint "
                         "(File > Revert Notebook to Checkpoint in JupyterLab).") from error
    return nb


def nbgrader_meta(cell) -> dict:
    return cell.get("metadata", {}).get("nbgrader", {})


def is_answer_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("solution", False) and not meta.get("grade", False)


def is_check_cell(cell) -> bool:
    meta = nbgrader_meta(cell)
    return cell.cell_type == "code" and meta.get("grade", False) and not meta.get("solution", False)


def answer_sources(nb) -> dict[str, str]:
    """Exercise name -> source of its answer cell, in notebook order."""
    return {nbgrader_meta(c)["grade_id"]: c.source for c in nb.cells if is_answer_cell(c)}


def check_cells(nb) -> dict[str, tuple[str, float]]:
    """Check-cell grade_id -> (source, points)."""
    return {nbgrader_meta(c)["grade_id"]: (c.source, float(nbgrader_meta(c).get("points", 0)))
            for c in nb.cells if is_check_cell(c)}


def import_sources(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code" and "imports" in c.metadata.get("tags", [])]


def solution_namespace(path: Path, replacements: dict[str, str] | None = None) -> dict:
    """Run a notebook's import cells and answer cells; return the resulting namespace.

    ``replacements`` swaps the source of some answer cells (exercise name ->
    code), which is how tests try a catalogued mistake or another correct answer.
    """
    nb = read_notebook(path)
    answers = answer_sources(nb)
    unknown = set(replacements or {}) - set(answers)
    if unknown:
        raise KeyError(f"{path.name} has no exercise named {sorted(unknown)}; it has {sorted(answers)}")
    answers.update(replacements or {})
    namespace: dict = {"__name__": "__course_solution__"}
    for index, source in enumerate(import_sources(nb) + list(answers.values())):
        filename = f"<{path.stem} cell {index}>"
        # registered like IPython registers a cell, so tracebacks and check messages can quote its lines
        linecache.cache[filename] = (len(source), None, source.splitlines(keepends=True), filename)
        exec(compile(source, filename, "exec"), namespace)
    return namespace


def replace_answers(nb, replacements: dict[str, str]):
    """A copy of ``nb`` whose answer cells for the given exercises hold other code."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    found = set()
    for cell in nb.cells:
        grade_id = nbgrader_meta(cell).get("grade_id")
        if is_answer_cell(cell) and grade_id in replacements:
            cell.source = replacements[grade_id]
            found.add(grade_id)
    missing = set(replacements) - found
    if missing:
        raise KeyError(f"no answer cell for {sorted(missing)}")
    return nb


def graded_part(nb):
    """A copy of ``nb`` with only what its grade depends on: the text, the import cells, the answer
    cells and the check cells (no training, no figures). A class's submission still runs in full;
    the tests hand this in for every student but the one whose run shows the whole notebook works."""
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))
    nb.cells = [cell for cell in nb.cells if cell.cell_type != "code" or is_answer_cell(cell)
                or is_check_cell(cell) or "imports" in cell.metadata.get("tags", [])]
    return nb

