"""Checking and repairing students' submissions before ``nbgrader autograde`` sees them.

With nbgrader 0.9.6 one bad notebook stops a whole ``autograde`` batch:
a copy-pasted check cell (DeduplicateIds leaves the copy an empty
``nbgrader`` dict, which CheckCellMetadata rejects as an "old version of the
metadata format") or a cell with ``schema_version`` 99; and a student whose
answer cell was turned into a graded cell, whose ``timestamp.txt`` is not a
date, or whose file is empty, broken or misnamed is left ungraded or out of
the gradebook, and the run ends in an error. The course's rule: bad
input gets a clear message and loses nothing, nothing in one submission stops
the batch, and every student is graded, with the reason when grading was not
normal.

:func:`validate_submission` reads one student's folder and returns a
:class:`Validation`: the repaired notebook (``None`` when it cannot be
graded), notes a teacher can read, and the reason when it cannot be graded.
:func:`write_for_grading` writes the notebook nbgrader will grade into a
*copy* of the submission (the original file is never touched): the repaired
notebook, or for an ungradable submission the released notebook, unanswered
(it scores 0), headed by a cell that gives the reason, so the student still
appears in the gradebook and the feedback says why. :func:`prepare_class`
does both for every student folder and :func:`report_rows` joins the
validations with the scores into the table a teacher reads.

Decisions:

* ``source`` is the *released* notebook (what the students got): missing
  answer cells come back unanswered, never with the solution.
* The expected notebook is missing but the folder holds exactly one other
  notebook (``tiny (1).ipynb``, ``Tiny.ipynb``, ``sub/tiny.ipynb``): it is
  graded under the expected name, with a note. Several candidates: graded 0,
  the reason lists them (which one the student meant is a person's call).
* A cell of the source that appears several times (copy and paste keeps the
  nbgrader metadata): the graded copy is the first that comes after the
  previous nbgrader cell of the source (a copy pasted above its exercise is
  not the one graded), else the last. Unchanged copies of locked cells are
  dropped (they hold nothing of the student's); other copies stay as ordinary
  cells, so the code runs as it did in JupyterLab.
* Cells of the source are checked against it as nbgrader's OverwriteCells
  would: cell type, nbgrader metadata (``schema_version``, ``points``,
  ``grade``, ...) and the source of locked cells are restored; deleted cells
  come back at their place. nbgrader metadata the source does not have
  (unknown grade ids, metadata without an id) is removed.
* A file nbformat cannot validate is upgraded (nbformat 3, 4.x) or rebuilt
  from its cells' types, sources and nbgrader metadata (nbgrader clears the
  outputs anyway); only what has no cells to rebuild from is graded 0.
* A ``timestamp.txt`` nbgrader cannot parse is left out of the copy (graded
  without a submission time, so no late penalty), with a note.

Nothing here raises on a submission: an unexpected error becomes the reason.
"""
from __future__ import annotations

import copy
import csv
import json
import os
import re
import shutil
import stat
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import NoReturn

import nbformat
from nbformat.v4 import new_markdown_cell
from nbgrader import utils as nbgrader_utils
from nbgrader.nbgraderformat import MetadataValidator

MAX_BYTES = 100 * 2**20  # a bigger "notebook" is a mistake (data saved in outputs) and would strain the grader
CELL_ID = re.compile(r"^[a-zA-Z0-9_-]{1,64}$")  # nbformat 4.5's rule for cell ids
CHECKPOINTS = ".ipynb_checkpoints"
STAND_IN_ID = "submission-not-graded"


class Ungradable(Exception):
    """Raised inside this module when a submission cannot be graded; the message is the reason."""


@dataclass
class Validation:
    """What :func:`validate_submission` found in one student's folder."""

    notebook: nbformat.NotebookNode | None = None  # ready for nbgrader; None: graded 0
    notes: list[str] = field(default_factory=list)  # what was repaired, for the teacher
    reason: str | None = None  # one line: why it cannot be graded
    submitted_file: Path | None = None  # the file that was read, kept unchanged

    @property
    def gradable(self) -> bool:
        return self.notebook is not None

    @property
    def status(self) -> str:
        """``graded`` (as handed in), ``repaired`` or ``not graded`` (scores 0)."""
        if not self.gradable:
            return "not graded"
        return "repaired" if self.notes else "graded"


# -- the whole check ----------------------------------------------------------------

def validate_submission(folder: Path, expected_notebook: str, source: nbformat.NotebookNode) -> Validation:
    """Find, read and repair the notebook ``expected_notebook`` in ``folder``.

    ``source`` is the released notebook of the assignment. Never raises on
    what the folder holds (a ``ValueError`` means ``source`` is wrong).
    """
    nbgrader_cells_of_source(source)  # a wrong source is the teacher's error: say so at once
    result = Validation()
    try:
        result.submitted_file = find_notebook(Path(folder), expected_notebook, result.notes)
        text = read_text(result.submitted_file)
        nb = to_notebook(parse_json(text, result.submitted_file.name), source, result.notes)
        repair_nbgrader_cells(nb, source, result.notes)
        check_like_nbgrader(nb)
        result.notebook = writable(nb, result.notes)
    except Ungradable as error:
        result.reason = str(error)
    except Exception as error:  # noqa: BLE001 - a bug here must not stop the batch either
        result.reason = (f"the submission could not be checked ({type(error).__name__}: {error}); "
                         "grade it by hand")
    return result


# -- finding the file ---------------------------------------------------------------

def is_regular_file(path: Path) -> bool:
    """A real file: not a symbolic link, a folder or a pipe (reading a pipe would hang)."""
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def candidate_notebooks(folder: Path, expected_notebook: str) -> list[Path]:
    """Notebooks directly in ``folder``, and any file named ``expected_notebook`` in a subfolder."""
    found = [p for p in sorted(folder.iterdir()) if p.suffix.lower() == ".ipynb"
             and not p.name.startswith(".") and is_regular_file(p)]  # "._x.ipynb": macOS zip debris
    for root, dirs, files in os.walk(folder):
        dirs[:] = sorted(d for d in dirs if d != CHECKPOINTS and not d.startswith("."))
        if Path(root) != folder and expected_notebook in files and is_regular_file(Path(root) / expected_notebook):
            found.append(Path(root) / expected_notebook)
    return found


def find_notebook(folder: Path, expected_notebook: str, notes: list[str]) -> Path:
    """The file to grade: ``expected_notebook``, or the one other notebook of the folder."""
    if not folder.is_dir():
        raise Ungradable(f"nothing submitted: there is no folder '{folder.name}'")
    expected = folder / expected_notebook
    if is_regular_file(expected):
        return expected
    if expected.exists() or expected.is_symlink():
        raise Ungradable(f"'{expected_notebook}' is not a regular file (a folder or a link)")
    candidates = candidate_notebooks(folder, expected_notebook)
    if len(candidates) == 1:
        name = candidates[0].relative_to(folder).as_posix()
        notes.append(f"the notebook was handed in as '{name}', not '{expected_notebook}': "
                     "graded under the expected name")
        return candidates[0]
    if candidates:
        names = ", ".join(f"'{p.relative_to(folder).as_posix()}'" for p in candidates)
        raise Ungradable(f"'{expected_notebook}' is missing and the folder holds {len(candidates)} "
                         f"other notebooks ({names}): which one to grade is the teacher's call")
    _raise_nothing_found(folder, expected_notebook)


def _raise_nothing_found(folder: Path, expected_notebook: str) -> NoReturn:
    entries = sorted(p.name for p in folder.iterdir() if p.name != CHECKPOINTS)
    if not entries:
        raise Ungradable(f"nothing submitted: '{expected_notebook}' is missing and the folder is empty")
    shown = ", ".join(f"'{name}'" for name in entries[:8]) + (", ..." if len(entries) > 8 else "")
    raise Ungradable(f"no notebook submitted: '{expected_notebook}' is missing; the folder holds {shown}")


# -- reading the file ---------------------------------------------------------------

SIGNATURES = {  # what students hand in instead of a notebook
    b"PK\x03\x04": "a zip archive",
    b"%PDF": "a PDF document",
    b"\x89PNG": "a PNG image",
}
BOMS = [("utf-32", (b"\xff\xfe\x00\x00", b"\x00\x00\xfe\xff")),  # before utf-16: its BOM starts the same
        ("utf-8-sig", (b"\xef\xbb\xbf",)), ("utf-16", (b"\xff\xfe", b"\xfe\xff"))]


def read_text(path: Path) -> str:
    """The file's text, or :class:`Ungradable` saying what the file is instead."""
    size = path.stat().st_size
    if size == 0:
        raise Ungradable(f"the notebook file '{path.name}' is empty (0 bytes)")
    if size > MAX_BYTES:
        raise Ungradable(f"'{path.name}' is {size / 2**20:.0f} MB, over the {MAX_BYTES // 2**20} MB limit "
                         "for a notebook (outputs holding data?)")
    data = path.read_bytes()
    if not data.strip():
        raise Ungradable(f"the notebook file '{path.name}' is empty (only white space)")
    for signature, kind in SIGNATURES.items():
        if data.startswith(signature):
            raise Ungradable(f"'{path.name}' is {kind}, not a notebook")
    for encoding, marks in BOMS:
        if data.startswith(marks):
            return _decode(data, encoding, path)
    return _decode(data, "utf-8", path)


def _decode(data: bytes, encoding: str, path: Path) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise Ungradable(f"'{path.name}' is not {encoding.upper().replace('-SIG', '')} text "
                         f"(byte 0x{data[error.start]:02x} at offset {error.start}): "
                         "not a notebook, or a damaged one") from None


def parse_json(text: str, name: str):
    """The JSON value of ``text``, or :class:`Ungradable` saying where it breaks."""
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise Ungradable(f"'{name}' is not valid JSON: {error.msg} at line {error.lineno}, column "
                         f"{error.colno}{_json_hint(text, error)}") from None
    except RecursionError:
        raise Ungradable(f"'{name}' holds JSON nested too deeply to read") from None


def _json_hint(text: str, error: json.JSONDecodeError) -> str:
    if re.search(r"^(<<<<<<<|>>>>>>>) ", text, re.MULTILINE):
        return " (the file holds git merge conflict markers)"
    if text.lstrip()[:15].lower().startswith(("<!doctype html", "<html")):
        return " (the file is a web page: save the notebook from JupyterLab, not from the browser)"
    if error.pos >= len(text.rstrip()):
        return " (the file ends there: it looks truncated)"
    return ""


# -- a valid nbformat 4.5 notebook -------------------------------------------------

def to_notebook(data, source: nbformat.NotebookNode, notes: list[str]) -> nbformat.NotebookNode:
    """A notebook that passes ``nbformat.validate``, upgraded or rebuilt from ``data`` if need be."""
    if not isinstance(data, dict):
        raise Ungradable(f"the file is JSON but not a notebook (its top level is {_json_kind(data)}, "
                         "not an object)")
    if not isinstance(data.get("cells"), list) and not isinstance(data.get("worksheets"), list):
        raise Ungradable("the file is JSON but not a notebook (it has no list of cells)")
    try:
        nb = _upgraded(data, notes)
        _repair_cell_ids(nb)
        _validate_quietly(nb)
        return nb
    except Exception as error:  # noqa: BLE001 - any failure above means: rebuild from the cells
        problem = _short_validation_error(error)
    nb = rebuild(data, source)
    notes.append(f"the notebook failed nbformat's validation ({problem}): rebuilt from its cells' "
                 "types, sources and nbgrader metadata (outputs dropped; nbgrader clears them anyway)")
    try:
        _validate_quietly(nb)
    except Exception as error:  # noqa: BLE001
        raise Ungradable(f"the file is not a valid notebook and could not be rebuilt "
                         f"({_short_validation_error(error)})") from None
    return nb


def _json_kind(value) -> str:
    return {list: "a list", str: "a string", bool: "a boolean", type(None): "null"}.get(type(value), "a number")


def _upgraded(data: dict, notes: list[str]) -> nbformat.NotebookNode:
    """``data`` as an nbformat 4.5 NotebookNode (multi-line sources joined, v3 converted)."""
    major, minor = data.get("nbformat"), data.get("nbformat_minor", 0)
    if major not in (3, 4) or not isinstance(minor, int):
        raise nbformat.ValidationError(f"nbformat version {major!r}.{minor!r} unknown")
    nb = nbformat.versions[major].to_notebook_json(copy.deepcopy(data), minor=minor)
    if major == 3:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            nb = nbformat.convert(nb, 4)
        notes.append("the notebook was in the old nbformat 3: upgraded to nbformat 4")
    nb.nbformat_minor = max(nb.get("nbformat_minor", 0), 5)  # 4.5 has cell ids; _repair_cell_ids adds them
    return nb


def _repair_cell_ids(nb) -> None:
    """Unique, valid cell ids (copy and paste and old formats leave duplicates or none).

    Silent: ids are plumbing of the file format, not the student's work.
    """
    seen: set[str] = set()
    for index, cell in enumerate(nb.cells):
        cell_id = cell.get("id")
        if not (isinstance(cell_id, str) and CELL_ID.match(cell_id)) or cell_id in seen:
            cell_id = f"cell-{index}"
            while cell_id in seen:
                cell_id += "-x"
            cell["id"] = cell_id
        seen.add(cell_id)


def _validate_quietly(nb) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nbformat.validate(nb)


def _short_validation_error(error: Exception) -> str:
    if isinstance(error, RecursionError):
        return "nested too deeply"
    if not isinstance(error, nbformat.ValidationError):
        return f"damaged structure: {type(error).__name__}"
    path = "/".join(str(p) for p in getattr(error, "absolute_path", []) or [])
    message = (getattr(error, "message", None) or str(error)).splitlines()[0]
    message = message if len(message) <= 120 else message[:117] + "..."
    return f"{path}: {message}" if path else message


def rebuild(data: dict, source: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """A new notebook holding ``data``'s cells (type, source, nbgrader metadata, tags) only."""
    cells = data.get("cells")
    if not isinstance(cells, list):  # nbformat 3 that failed to convert: its cells are in worksheets
        sheets = [w for w in data.get("worksheets", []) if isinstance(w, dict)]
        cells = [c for w in sheets if isinstance(w.get("cells"), list) for c in w["cells"]]
    nb = nbformat.v4.new_notebook(metadata=copy.deepcopy(source.metadata))
    for raw in cells:
        cell = _rebuilt_cell(raw)
        if cell is not None:
            nb.cells.append(cell)
    if not nb.cells:
        raise Ungradable("the file is not a valid notebook and holds no cell that could be rebuilt")
    _repair_cell_ids(nb)
    return nb


def _rebuilt_cell(raw) -> nbformat.NotebookNode | None:
    if not isinstance(raw, dict):
        return None
    text = raw.get("source", raw.get("input", ""))  # "input": nbformat 3 code cells
    if isinstance(text, list) and all(isinstance(line, str) for line in text):
        text = "".join(text)
    if not isinstance(text, str):
        return None
    kind = raw.get("cell_type")
    if kind == "code":
        cell = nbformat.v4.new_code_cell(text)
    elif kind in ("markdown", "heading"):
        cell = nbformat.v4.new_markdown_cell(text)
    else:
        cell = nbformat.v4.new_raw_cell(text)
    metadata = raw.get("metadata") if isinstance(raw.get("metadata"), dict) else {}
    if isinstance(metadata.get("nbgrader"), dict):
        try:
            cell.metadata["nbgrader"] = nbformat.from_dict(copy.deepcopy(metadata["nbgrader"]))
        except RecursionError:  # nested too deeply to be nbgrader's: the source's comes back later
            cell.metadata["nbgrader"] = {}
    tags = metadata.get("tags")
    if isinstance(tags, list) and all(isinstance(tag, str) for tag in tags):
        cell.metadata["tags"] = list(tags)
    # the id is kept (an invalid one is replaced later): deleted cells go back next to neighbours found by id
    cell["id"] = raw["id"] if isinstance(raw.get("id"), str) else ""
    return cell


# -- nbgrader cells, checked against the source -------------------------------------

def nbgrader_cells_of_source(source: nbformat.NotebookNode) -> list[tuple[str, nbformat.NotebookNode]]:
    """(grade_id, cell) of every nbgrader cell of the released notebook, in order."""
    cells = [(c.metadata["nbgrader"]["grade_id"], c) for c in source.cells
             if isinstance(c.metadata.get("nbgrader"), dict) and c.metadata["nbgrader"].get("grade_id")]
    if not cells:
        raise ValueError("the source notebook has no nbgrader cell: pass the released notebook")
    for grade_id, cell in cells:
        if "### BEGIN SOLUTION" in cell.source or "### BEGIN HIDDEN TESTS" in cell.source:
            raise ValueError(f"cell '{grade_id}' of the source holds its solution or hidden tests: "
                             "pass the released notebook, not the instructor's source")
    return cells


def _describe(index: int, cell) -> str:
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    first = first if len(first) <= 40 else first[:37] + "..."
    return f"cell {index + 1}" + (f" ('{first}')" if first else " (empty)")


def _grade_id(cell) -> str | None:
    meta = cell.metadata.get("nbgrader")
    grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
    return grade_id if isinstance(grade_id, str) else None


def repair_nbgrader_cells(nb, source: nbformat.NotebookNode, notes: list[str]) -> None:
    """Make ``nb``'s nbgrader cells exactly those of the source, in place (see the module docstring)."""
    source_cells = nbgrader_cells_of_source(source)
    by_id = dict(source_cells)
    copies = _drop_foreign_metadata(nb, by_id, notes)
    kept = _choose_copies(nb, copies, [grade_id for grade_id, _ in source_cells], by_id, notes)
    for grade_id, cell in kept.items():
        _restore_cell(cell, by_id[grade_id], notes)
    _insert_missing(nb, kept, source, notes)
    _repair_cell_ids(nb)  # restored cells carry the source's ids, which a student cell may hold


def _drop_foreign_metadata(nb, by_id: dict, notes: list[str]) -> dict[str, list[int]]:
    """Remove nbgrader metadata the source does not have; return grade_id -> cell indices."""
    copies: dict[str, list[int]] = {}
    for index, cell in enumerate(nb.cells):
        if "nbgrader" not in cell.metadata:
            continue
        grade_id = _grade_id(cell)
        if grade_id in by_id:
            copies.setdefault(grade_id, []).append(index)
            continue
        if grade_id:
            notes.append(f"{_describe(index, cell)} claimed the nbgrader id '{grade_id}', which the "
                         "assignment does not have: its nbgrader metadata was removed")
        else:
            notes.append(f"{_describe(index, cell)} had nbgrader metadata without a grade id: removed")
        del cell.metadata["nbgrader"]
    return copies


def _choose_copies(nb, copies: dict, order: list[str], by_id: dict, notes: list[str]) -> dict:
    """grade_id -> the cell that keeps it; other copies become ordinary cells or are dropped."""
    kept, last, dropped = {}, -1, []
    for grade_id in order:
        positions = copies.get(grade_id, [])
        if not positions:
            continue
        after = [p for p in positions if p > last]
        chosen = after[0] if after else positions[-1]
        kept[grade_id] = nb.cells[chosen]
        last = max(last, chosen)
        others = [p for p in positions if p != chosen]
        if not others:
            continue
        for p in others:
            del nb.cells[p].metadata["nbgrader"]
        unchanged = [p for p in others if _is_locked(by_id[grade_id])
                     and nb.cells[p].source == by_id[grade_id].source]
        dropped += unchanged
        notes.append(_copies_note(grade_id, chosen, others, unchanged))
    nb.cells = [c for i, c in enumerate(nb.cells) if i not in set(dropped)]
    return kept


def _copies_note(grade_id: str, chosen: int, others: list[int], dropped: list[int]) -> str:
    def cells(indices):
        return ", ".join(str(i + 1) for i in indices)
    note = (f"cell '{grade_id}' appears {len(others) + 1} times (copied and pasted?): the one at "
            f"cell {chosen + 1} is graded")
    if dropped:
        note += f"; unchanged copies at cell(s) {cells(dropped)} removed"
    ordinary = [i for i in others if i not in dropped]
    if ordinary:
        note += f"; the copies at cell(s) {cells(ordinary)} now run as ordinary cells"
    return note


def _is_locked(source_cell) -> bool:
    return nbgrader_utils.is_locked(source_cell)


def _restore_cell(cell, source_cell, notes: list[str]) -> None:
    """Cell type, nbgrader metadata and (for locked cells) source as in the source."""
    grade_id = source_cell.metadata["nbgrader"]["grade_id"]
    if cell.cell_type != source_cell.cell_type:
        notes.append(f"cell '{grade_id}' was changed from a {cell.cell_type} cell to a "
                     f"{source_cell.cell_type} cell: changed back")
        _set_cell_type(cell, source_cell.cell_type)
    changes = _metadata_changes(cell.metadata["nbgrader"], source_cell.metadata["nbgrader"])
    if changes:
        notes.append(f"cell '{grade_id}': nbgrader metadata was changed ({changes}): restored from the source")
    cell.metadata["nbgrader"] = copy.deepcopy(source_cell.metadata["nbgrader"])
    if _is_locked(source_cell) and cell.source != source_cell.source:
        notes.append(f"cell '{grade_id}' was edited: restored from the source")
        cell.source = source_cell.source


def _metadata_changes(submitted, expected) -> str:
    """``points 100, should be 1.0; ...`` for the keys that differ (the checksum is nbgrader's business)."""
    if not isinstance(submitted, dict):
        return "not a mapping"
    changes = []
    for key in sorted((set(submitted) | set(expected)) - {"checksum"}):
        if submitted.get(key) == expected.get(key):
            continue
        if key not in submitted:
            changes.append(f"{key} missing, should be {expected[key]!r}")
        elif key not in expected:
            changes.append(f"{key} {_short(submitted[key])} added")
        else:
            changes.append(f"{key} {_short(submitted[key])}, should be {expected[key]!r}")
    return "; ".join(changes)


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _set_cell_type(cell, cell_type: str) -> None:
    """Like nbgrader's OverwriteCells.update_cell_type: the fields each type needs, nothing else."""
    cell.cell_type = cell_type
    if cell_type == "code":
        cell.pop("attachments", None)
        cell.outputs, cell.execution_count = [], None
    else:
        cell.pop("outputs", None)
        cell.pop("execution_count", None)


def _insert_missing(nb, kept: dict, source: nbformat.NotebookNode, notes: list[str]) -> None:
    """Put every deleted nbgrader cell of the source back where it was, next to its neighbours there."""
    for position, source_cell in enumerate(source.cells):
        grade_id = _grade_id(source_cell)
        if grade_id is None or grade_id in kept:
            continue
        restored = copy.deepcopy(source_cell)
        if restored.cell_type == "code":
            restored.outputs, restored.execution_count = [], None
        nb.cells.insert(_insertion_index(nb, source, position, kept), restored)
        kept[grade_id] = restored
        notes.append(_missing_note(grade_id, source_cell))


def _insertion_index(nb, source, position: int, kept: dict) -> int:
    """After the cell that precedes it in the source, else before the one that follows, else at the end."""
    def found(source_cell):
        grade_id = _grade_id(source_cell)
        if grade_id is not None:
            return kept.get(grade_id)
        same_id = [c for c in nb.cells if c.get("id") == source_cell.get("id")]
        same_text = [c for c in nb.cells if source_cell.source.strip() and c.source == source_cell.source]
        return (same_id or same_text or [None])[0]

    def index_of(target):
        return next(i for i, cell in enumerate(nb.cells) if cell is target)

    before = found(source.cells[position - 1]) if position > 0 else None
    if before is not None:
        return index_of(before) + 1
    after = found(source.cells[position + 1]) if position + 1 < len(source.cells) else None
    return index_of(after) if after is not None else len(nb.cells)


def _missing_note(grade_id: str, source_cell) -> str:
    meta = source_cell.metadata["nbgrader"]
    if meta.get("solution"):
        return f"answer cell '{grade_id}' was missing: restored from the source, unanswered"
    if meta.get("grade"):
        return f"check cell '{grade_id}' was deleted: restored from the source"
    return f"cell '{grade_id}' was deleted: restored from the source"


def writable(nb, notes: list[str]) -> nbformat.NotebookNode:
    """``nb``, or a copy without the lone surrogates (``"\\udc80"`` is valid JSON) UTF-8 cannot encode."""
    text = nbformat.writes(nb)
    try:
        text.encode("utf-8")
        return nb
    except UnicodeEncodeError:
        notes.append("the notebook held characters UTF-8 cannot store (lone surrogates): replaced by '?'")
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return nbformat.reads(text.encode("utf-8", "replace").decode("utf-8"), as_version=4)


def check_like_nbgrader(nb) -> None:
    """nbgrader's own metadata check (the one that stops a batch), run here first."""
    try:
        MetadataValidator().validate_nb(nb)
    except Exception as error:  # noqa: BLE001
        raise Ungradable(f"the repaired notebook still fails nbgrader's metadata check ({error})") from None


# -- the copy nbgrader grades ---------------------------------------------------------

def stand_in(source: nbformat.NotebookNode, reason: str) -> nbformat.NotebookNode:
    """The released notebook, unanswered (it scores 0), headed by the reason it stands in."""
    nb = copy.deepcopy(source)
    note = new_markdown_cell(f"**This submission could not be graded, so it scores 0:** {reason}.\n\n"
                             "This is the notebook as it was handed out; the file you handed in is kept "
                             "unchanged for your teacher.")
    note.id = STAND_IN_ID
    nb.cells.insert(0, note)
    return nb


def write_for_grading(validation: Validation, submitted: Path, grading: Path, expected_notebook: str,
                      source: nbformat.NotebookNode) -> Path:
    """Fill ``grading`` (emptied first) with a copy of the ``submitted`` folder for nbgrader.

    The copy holds the student's other files and, as ``expected_notebook``,
    the repaired notebook or the :func:`stand_in`. Returns the notebook path;
    ``submitted`` is only read.
    """
    submitted, grading = Path(submitted), Path(grading)
    if _overlaps(submitted, grading):
        raise ValueError(f"the grading copy {grading} must lie outside the submission {submitted}")
    if grading.exists():
        shutil.rmtree(grading)
    grading.mkdir(parents=True)
    if submitted.is_dir():
        _copy_other_files(submitted, grading, validation)
    notebook = validation.notebook if validation.gradable else stand_in(source, validation.reason)
    target = grading / expected_notebook
    nbformat.write(notebook, target)
    return target


def _overlaps(a: Path, b: Path) -> bool:
    a, b = a.resolve(), b.resolve()
    return a == b or a in b.parents or b in a.parents


def _copy_other_files(submitted: Path, grading: Path, validation: Validation) -> None:
    """Regular files other than notebooks (data, helper modules, timestamp.txt), links skipped."""
    for root, dirs, files in os.walk(submitted):
        dirs[:] = [d for d in dirs if d != CHECKPOINTS]
        for name in files:
            path = Path(root) / name
            relative = path.relative_to(submitted)
            if path.suffix.lower() == ".ipynb" or not is_regular_file(path):
                continue
            if relative == Path("timestamp.txt") and not _readable_timestamp(path):
                validation.notes.append("timestamp.txt is unreadable: graded without a submission time "
                                        "(no late penalty)")
                continue
            try:
                (grading / relative).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, grading / relative)
            except OSError as error:  # an unreadable file of one student must not stop the class
                validation.notes.append(f"'{relative.as_posix()}' could not be copied for grading "
                                        f"({error.strerror or error}): graded without it")


def _readable_timestamp(path: Path) -> bool:
    """nbgrader fails the student (with an AttributeError) on a timestamp it cannot parse."""
    try:
        text = path.read_text(encoding="utf-8").strip()
        return not text or nbgrader_utils.parse_utc(text) is not None
    except Exception:  # noqa: BLE001
        return False


# -- a whole class -----------------------------------------------------------------

def prepare_class(submitted_dir: Path, grading_dir: Path, assignment: str, source: nbformat.NotebookNode,
                  expected_notebook: str | None = None) -> dict[str, Validation]:
    """Validate every student folder of ``submitted_dir`` and write the copies into ``grading_dir``.

    Both folders have nbgrader's layout ``<student>/<assignment>/``; point
    ``CourseDirectory.submitted_directory`` at ``grading_dir`` to grade the
    copies. A student folder without the assignment is graded 0 with the
    reason, like an empty one, so that every student appears in the gradebook.
    """
    submitted_dir, grading_dir = Path(submitted_dir), Path(grading_dir)
    if _overlaps(submitted_dir, grading_dir):
        raise ValueError(f"the grading copies {grading_dir} must lie outside the submissions {submitted_dir}")
    expected_notebook = expected_notebook or f"{assignment}.ipynb"
    validations = {}
    for student_dir in sorted(submitted_dir.iterdir()):
        if not student_dir.is_dir() or student_dir.name.startswith("."):
            continue
        folder = student_dir / assignment
        validation = validate_submission(folder, expected_notebook, source)
        target = grading_dir / student_dir.name / assignment
        try:
            write_for_grading(validation, folder, target, expected_notebook, source)
        except Exception as error:  # noqa: BLE001 - then the stand-in; failing again is the grader's disk
            validation.notebook = None
            validation.reason = f"the copy for grading could not be written ({type(error).__name__}: {error})"
            write_for_grading(validation, folder, target, expected_notebook, source)
        validations[student_dir.name] = validation
    _remove_stale_copies(grading_dir, assignment, validations)
    return validations


def _remove_stale_copies(grading_dir: Path, assignment: str, students) -> None:
    """Copies left by an earlier run for students no longer in the submissions (nbgrader would grade them)."""
    for student_dir in grading_dir.iterdir() if grading_dir.is_dir() else []:
        if student_dir.name not in students and (student_dir / assignment).is_dir():
            shutil.rmtree(student_dir / assignment)


def report_rows(validations: dict[str, Validation],
                scores: dict[str, tuple[float, float]] | None = None) -> list[dict]:
    """One row per student: score, max score, status, reason and notes (the teacher's table)."""
    rows = []
    for student, validation in sorted(validations.items()):
        score, max_score = (scores or {}).get(student, (None, None))
        rows.append({"student": student, "score": score, "max_score": max_score,
                     "status": validation.status, "reason": validation.reason or "",
                     "notes": " | ".join(validation.notes)})
    return rows


def write_report(rows: list[dict], path: Path) -> Path:
    """The table of :func:`report_rows` as CSV."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        columns = ["student", "score", "max_score", "status", "reason", "notes"]
        columns += [extra for extra in ("seconds", "run") if any(extra in row for row in rows)]  # the grade command's
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path
