"""Helpers for writing course notebooks with the right nbgrader metadata.

Authors build a list of cells with these functions and save it with
:func:`write_notebook` into ``solutions/<assignment>/``. Cell ids are derived
from the cell's position and role so that regenerating a notebook gives the
same file (no random ids, no spurious diffs).
"""
from __future__ import annotations

import re
import textwrap
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

SCHEMA_VERSION = 3


def _clean(text: str) -> str:
    return textwrap.dedent(text).strip("\n")


def markdown(text: str):
    return new_markdown_cell(_clean(text))


def code(source: str, tags: tuple[str, ...] = ()):
    cell = new_code_cell(_clean(source))
    if tags:
        cell.metadata["tags"] = list(tags)
    return cell


def imports(source: str):
    """The imports cell: run by reference generation and the mistake catalogue too."""
    return code(source, tags=("imports",))


def answer(exercise: str, source: str):
    """An autograded answer cell; put the solution between ``### BEGIN/END SOLUTION``."""
    if "### BEGIN SOLUTION" not in source:
        raise ValueError(f"answer cell {exercise!r} has no ### BEGIN SOLUTION marker")
    cell = code(source)
    cell.metadata["nbgrader"] = {"grade": False, "grade_id": exercise, "locked": False,
                                 "schema_version": SCHEMA_VERSION, "solution": True, "task": False}
    return cell


def check(exercise: str, visible: str, hidden: str, points: float):
    """The graded check cell of ``exercise``: a visible check, then hidden tests."""
    source = _clean(visible) + "\n### BEGIN HIDDEN TESTS\n" + _clean(hidden) + "\n### END HIDDEN TESTS"
    cell = new_code_cell(source)
    cell.metadata["nbgrader"] = {"grade": True, "grade_id": f"check_{exercise}", "locked": True,
                                 "points": points, "schema_version": SCHEMA_VERSION,
                                 "solution": False, "task": False}
    return cell


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:24] or "cell"


def write_notebook(cells: list, path: Path, title: str | None = None) -> Path:
    """Give every cell a stable id, validate, and write the notebook."""
    nb = new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
    nb.metadata["language_info"] = {"name": "python", "pygments_lexer": "ipython3"}
    if title:
        nb.metadata["title"] = title
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        first_line = cell.source.splitlines()[0] if cell.source else "empty"
        base = f"{index:03d}-{_slug(grade_id or first_line)}"
        cell.id = base if base not in seen else f"{base}-{index}"
        seen.add(cell.id)
    nbformat.validate(nb)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    return path
