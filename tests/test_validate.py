"""Submissions are checked and repaired before nbgrader grades them (``course_autograde.validate``).

On the tiny assignment of ``tiny_course.py`` (no TensorFlow): one test per kind of bad input
(missing, misnamed, empty, not UTF-8, broken JSON, not a notebook, invalid for nbformat, duplicated
cells, unknown ``schema_version``, edited, deleted or retyped cells, tampered metadata, a broken
timestamp), a little fuzzing (the validator never raises), and one real ``nbgrader autograde`` of a
class holding the cases that used to stop the batch or drop a student: the batch completes, every
student has a score, repaired ones are graded on their answers, and the files handed in are unchanged.
"""
from __future__ import annotations

import copy
import hashlib
import json
import random
import time

import nbformat
import pytest

from course_autograde import validate
from course_autograde.validate import prepare_class, report_rows, validate_submission, write_for_grading
from tiny_course import (ASSIGNMENT, CORRECT, FULL_MARKS, NOTEBOOK, POINTS, WRONG, TinyCourse, cell_index,
                         hand_in)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = TinyCourse(tmp_path_factory.mktemp("tiny-course"))
    course.generate()
    return course


@pytest.fixture(scope="module")
def release(course):
    return course.release()


@pytest.fixture
def answered(course):
    """The release with both exercises answered correctly (a fresh copy per test)."""
    return course.answered(CORRECT)


def check(folder, release, name=NOTEBOOK):
    return validate_submission(folder, name, release)


def cell(nb, grade_id):
    return nb.cells[cell_index(nb, grade_id)]


# -- the honest case -------------------------------------------------------------------

def test_an_honest_submission_is_graded_as_handed_in(tmp_path, release, answered):
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.status == "graded" and result.notes == [] and result.reason is None
    assert [c.source for c in result.notebook.cells] == [c.source for c in answered.cells]


# -- finding the file -------------------------------------------------------------------

def test_no_folder_scores_0_with_the_reason(tmp_path, release):
    result = check(tmp_path / "missing", release)
    assert result.notebook is None and result.reason == "nothing submitted: there is no folder 'missing'"


def test_an_empty_folder_scores_0_with_the_reason(tmp_path, release):
    result = check(tmp_path, release)
    assert result.status == "not graded"
    assert result.reason == "nothing submitted: 'tiny.ipynb' is missing and the folder is empty"


def test_a_folder_without_a_notebook_lists_what_it_holds(tmp_path, release):
    (tmp_path / "tiny.py").write_text("def add(a, b): return a + b")
    (tmp_path / "notes.txt").write_text("hello")
    result = check(tmp_path, release)
    assert result.reason == "no notebook submitted: 'tiny.ipynb' is missing; the folder holds 'notes.txt', 'tiny.py'"


@pytest.mark.parametrize("name", ["tiny (1).ipynb", "Tiny.ipynb", "tiny/tiny.ipynb"])
def test_a_single_misnamed_notebook_is_graded_under_the_expected_name(tmp_path, release, answered, name):
    hand_in(tmp_path, answered, name)
    hand_in(tmp_path, answered, ".ipynb_checkpoints/tiny-checkpoint.ipynb")  # never a candidate
    result = check(tmp_path, release)
    assert result.gradable and result.submitted_file == tmp_path / name
    assert result.notes == [f"the notebook was handed in as '{name}', not 'tiny.ipynb': graded under the expected name"]


def test_several_other_notebooks_score_0_and_are_listed(tmp_path, release, answered):
    hand_in(tmp_path, answered, "tiny-v1.ipynb")
    hand_in(tmp_path, answered, "tiny-v2.ipynb")
    result = check(tmp_path, release)
    assert result.notebook is None
    assert result.reason == ("'tiny.ipynb' is missing and the folder holds 2 other notebooks ('tiny-v1.ipynb', "
                             "'tiny-v2.ipynb'): which one to grade is the teacher's call")


def test_a_link_is_not_followed(tmp_path, release, answered):
    target = hand_in(tmp_path / "elsewhere", answered)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / NOTEBOOK).symlink_to(target)
    result = check(tmp_path / "sub", release)
    assert result.reason == "'tiny.ipynb' is not a regular file (a folder or a link)"


# -- reading the file -------------------------------------------------------------------

@pytest.mark.parametrize("content, reason", [
    (b"", "the notebook file 'tiny.ipynb' is empty (0 bytes)"),
    (b"\n  \n", "the notebook file 'tiny.ipynb' is empty (only white space)"),
    (b"PK\x03\x04rest of a zip", "'tiny.ipynb' is a zip archive, not a notebook"),
])
def test_an_empty_or_foreign_file_scores_0_with_the_reason(tmp_path, release, content, reason):
    hand_in(tmp_path, content)
    assert check(tmp_path, release).reason == reason


def test_bytes_that_are_not_utf8_score_0_and_say_where(tmp_path, release, answered):
    hand_in(tmp_path, nbformat.writes(answered).replace("a + b", "a + b  # caf\u00e9").encode("latin-1"))
    result = check(tmp_path, release)
    assert result.reason.startswith("'tiny.ipynb' is not UTF-8 text (byte 0xe9 at offset ")


def test_a_byte_order_mark_is_no_problem(tmp_path, release, answered):
    hand_in(tmp_path, b"\xef\xbb\xbf" + nbformat.writes(answered).encode())
    assert check(tmp_path, release).status == "graded"
    hand_in(tmp_path, nbformat.writes(answered).encode("utf-16"))
    assert check(tmp_path, release).status == "graded"


def test_truncated_json_scores_0_and_says_where(tmp_path, release, answered):
    text = nbformat.writes(answered)[:200]
    hand_in(tmp_path, text)
    reason = check(tmp_path, release).reason
    assert reason.startswith("'tiny.ipynb' is not valid JSON: Expecting ")
    assert f"at line {text.count(chr(10)) + 1}, column" in reason
    assert reason.endswith("(the file ends there: it looks truncated)")


def test_a_merge_conflict_is_named(tmp_path, release, answered):
    text = nbformat.writes(answered)
    hand_in(tmp_path, text.replace('"cells": [', '"cells": [\n<<<<<<< HEAD\n=======\n>>>>>>> theirs\n', 1))
    assert check(tmp_path, release).reason.endswith("(the file holds git merge conflict markers)")


def test_characters_utf8_cannot_store_are_replaced(tmp_path, release, answered):
    hand_in(tmp_path, nbformat.writes(answered).replace("return a + b", "return a + b  # \\udc80"))
    result = check(tmp_path, release)
    assert result.notes == ["the notebook held characters UTF-8 cannot store (lone surrogates): replaced by '?'"]
    assert cell(result.notebook, "add").source == CORRECT["add"] + "  # ?"


@pytest.mark.parametrize("content, reason", [
    ("[1, 2, 3]", "the file is JSON but not a notebook (its top level is a list, not an object)"),
    ('{"name": "tiny"}', "the file is JSON but not a notebook (it has no list of cells)"),
    ('{"cells": [1, "x", null], "nbformat": 4}',
     "the file is not a valid notebook and holds no cell that could be rebuilt"),
])
def test_json_that_is_not_a_notebook_scores_0(tmp_path, release, content, reason):
    hand_in(tmp_path, content)
    assert check(tmp_path, release).reason == reason


def test_a_notebook_nbformat_rejects_is_rebuilt_from_its_cells(tmp_path, release, answered):
    data = json.loads(nbformat.writes(answered))
    del data["cells"][cell_index(answered, "add")]["outputs"]
    data["cells"][0]["metadata"]["tags"] = "not a list"
    data["metadata"] = {"kernelspec": 42}
    hand_in(tmp_path, json.dumps(data))
    result = check(tmp_path, release)
    assert result.status == "repaired"
    assert result.notes[0].startswith("the notebook failed nbformat's validation (")
    assert result.notes[0].endswith("rebuilt from its cells' types, sources and nbgrader metadata "
                                    "(outputs dropped; nbgrader clears them anyway)")
    assert cell(result.notebook, "add").source == CORRECT["add"]
    nbformat.validate(result.notebook)


def test_old_formats_are_upgraded(tmp_path, release, answered):
    old = json.loads(nbformat.writes(answered))
    old["nbformat_minor"] = 4
    for raw in old["cells"]:
        del raw["id"]
    hand_in(tmp_path, json.dumps(old))
    assert check(tmp_path, release).status == "graded"  # 4.4 is what older JupyterLabs write
    hand_in(tmp_path, nbformat.writes(nbformat.convert(answered, 3)))
    result = check(tmp_path, release)
    assert result.notes == ["the notebook was in the old nbformat 3: upgraded to nbformat 4"]
    assert cell(result.notebook, "mean").source == CORRECT["mean"]


# -- nbgrader cells -----------------------------------------------------------------

def test_an_unknown_schema_version_is_restored(tmp_path, release, answered):
    cell(answered, "check_mean").metadata.nbgrader.schema_version = 99
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.notes == ["cell 'check_mean': nbgrader metadata was changed (schema_version 99, should be 3): "
                            "restored from the source"]
    assert cell(result.notebook, "check_mean").metadata.nbgrader.schema_version == 3


def test_a_duplicated_check_cell_is_graded_once(tmp_path, release, answered):
    at = cell_index(answered, "check_add")
    answered.cells.insert(at + 1, copy.deepcopy(answered.cells[at]))
    answered.cells.insert(at + 2, copy.deepcopy(answered.cells[at]))
    answered.cells[at + 2].source += "\nprint('my copy')"  # a copy the student edited
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.notes == ["cell 'check_add' appears 3 times (copied and pasted?): the one at cell 5 is graded; "
                            "unchanged copies at cell(s) 6 removed; the copies at cell(s) 7 now run as ordinary cells"]
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in result.notebook.cells]
    assert ids.count("check_add") == 1 and result.notebook.cells[at + 1].source.endswith("print('my copy')")


def test_a_check_copy_pasted_above_its_exercise_is_not_the_graded_one(tmp_path, release, answered):
    answered.cells.insert(cell_index(answered, "add"), copy.deepcopy(cell(answered, "check_add")))
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.notes[0] == ("cell 'check_add' appears 2 times (copied and pasted?): the one at cell 6 is graded; "
                               "unchanged copies at cell(s) 4 removed")
    assert cell_index(result.notebook, "check_add") == cell_index(result.notebook, "add") + 1


def test_a_duplicated_answer_cell_keeps_running_as_an_ordinary_cell(tmp_path, release, answered):
    at = cell_index(answered, "add")
    answered.cells.insert(at + 1, copy.deepcopy(answered.cells[at]))
    answered.cells[at + 1].source = "def add(a, b):\n    return b + a"
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.notes[0] == ("cell 'add' appears 2 times (copied and pasted?): the one at cell 4 is graded; "
                               "the copies at cell(s) 5 now run as ordinary cells")
    assert result.notebook.cells[at + 1].source == "def add(a, b):\n    return b + a"
    assert "nbgrader" not in result.notebook.cells[at + 1].metadata


def test_an_edited_check_cell_that_gives_itself_points_is_restored(tmp_path, release, answered):
    check_add = cell(answered, "check_add")
    check_add.source = "print('add: all checks passed.')"
    check_add.metadata.nbgrader.points = 100
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.notes == ["cell 'check_add': nbgrader metadata was changed (points 100, should be 1.0): "
                            "restored from the source",
                            "cell 'check_add' was edited: restored from the source"]
    assert cell(result.notebook, "check_add") == cell(release, "check_add")


def test_a_deleted_check_cell_comes_back_at_its_place(tmp_path, release, course, answered):
    del answered.cells[cell_index(answered, "check_add")]
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.notes == ["check cell 'check_add' was deleted: restored from the source"]
    assert [c.source for c in result.notebook.cells] == [c.source for c in course.answered(CORRECT).cells]


def test_a_deleted_answer_cell_comes_back_unanswered(tmp_path, release, answered):
    del answered.cells[cell_index(answered, "mean")]
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.notes == ["answer cell 'mean' was missing: restored from the source, unanswered"]
    assert cell(result.notebook, "mean").source == cell(release, "mean").source
    assert cell_index(result.notebook, "mean") == cell_index(result.notebook, "check_mean") - 1


def test_every_nbgrader_cell_deleted_comes_back_in_order(tmp_path, release, answered):
    answered.cells = [c for c in answered.cells if "nbgrader" not in c.metadata]
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert len(result.notes) == 4
    ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in result.notebook.cells]
    assert [i for i in ids if i] == ["add", "check_add", "mean", "check_mean"]


def test_a_changed_cell_type_is_changed_back(tmp_path, release, answered):
    at = cell_index(answered, "add")
    answered.cells[at] = nbformat.v4.new_markdown_cell(answered.cells[at].source, metadata=answered.cells[at].metadata)
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.notes == ["cell 'add' was changed from a markdown cell to a code cell: changed back"]
    restored = result.notebook.cells[at]
    assert restored.cell_type == "code" and restored.outputs == [] and restored.source == CORRECT["add"]


def test_an_answer_cell_turned_into_a_graded_cell_is_restored(tmp_path, release, answered):
    cell(answered, "mean").metadata.nbgrader.update(grade=True, points=50)
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.notes == ["cell 'mean': nbgrader metadata was changed (grade True, should be False; "
                            "points 50 added): restored from the source"]
    assert cell(result.notebook, "mean").source == CORRECT["mean"]  # the answer itself is kept


def test_nbgrader_metadata_the_source_does_not_have_is_removed(tmp_path, release, answered):
    bonus = nbformat.v4.new_code_cell("print('free points')")
    bonus.metadata["nbgrader"] = {"grade": True, "grade_id": "bonus", "locked": True, "points": 10,
                                  "schema_version": 3, "solution": False, "task": False}
    empty = nbformat.v4.new_code_cell("x = 1")
    empty.metadata["nbgrader"] = {}  # what nbgrader's DeduplicateIds leaves, and then rejects
    answered.cells += [bonus, empty]
    hand_in(tmp_path, answered)
    result = check(tmp_path, release)
    assert result.notes == ["cell 9 ('print('free points')') claimed the nbgrader id 'bonus', which the assignment "
                            "does not have: its nbgrader metadata was removed",
                            "cell 10 ('x = 1') had nbgrader metadata without a grade id: removed"]


def test_the_instructors_source_is_refused_as_source(tmp_path, course, answered):
    hand_in(tmp_path, answered)
    with pytest.raises(ValueError, match="pass the released notebook"):
        check(tmp_path, nbformat.read(course.root / "solutions" / ASSIGNMENT / NOTEBOOK, as_version=4))


# -- the copy for nbgrader -------------------------------------------------------------

def digest(folder) -> dict:
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_copy_for_grading_leaves_the_submission_untouched(tmp_path, release, answered):
    submitted, grading = tmp_path / "submitted", tmp_path / "grading"
    cell(answered, "check_add").source = "pass"
    hand_in(submitted, answered, "tiny (1).ipynb")
    (submitted / "helper.py").write_text("X = 1")
    (submitted / "timestamp.txt").write_text("not a time")
    before = digest(submitted)
    result = check(submitted, release)
    path = write_for_grading(result, submitted, grading, NOTEBOOK, release)
    assert digest(submitted) == before
    assert sorted(digest(grading)) == ["helper.py", "tiny.ipynb"] and path == grading / NOTEBOOK
    assert cell(nbformat.read(path, as_version=4), "check_add").source == cell(release, "check_add").source
    assert result.notes[-1] == "timestamp.txt is unreadable: graded without a submission time (no late penalty)"
    with pytest.raises(ValueError, match="must lie outside"):
        write_for_grading(result, submitted, submitted / "copy", NOTEBOOK, release)


def test_an_ungradable_submission_is_replaced_by_the_release_with_the_reason(tmp_path, release):
    hand_in(tmp_path / "submitted", b"")
    result = check(tmp_path / "submitted", release)
    nb = nbformat.read(write_for_grading(result, tmp_path / "submitted", tmp_path / "grading", NOTEBOOK, release),
                       as_version=4)
    assert nb.cells[0].source.startswith("**This submission could not be graded, so it scores 0:** the notebook "
                                         "file 'tiny.ipynb' is empty (0 bytes).")
    assert [c.source for c in nb.cells[1:]] == [c.source for c in release.cells]


def test_every_student_folder_gets_a_copy_and_a_row(tmp_path, release, answered):
    submitted, grading = tmp_path / "submitted", tmp_path / "grading"
    hand_in(submitted / "alice" / ASSIGNMENT, answered)
    (submitted / "bob" / "another_assignment").mkdir(parents=True)  # nothing handed in for this one
    (submitted / ".DS_Store").write_text("")
    hand_in(grading / "carol" / ASSIGNMENT, answered)  # left by an earlier run: carol is gone
    validations = prepare_class(submitted, grading, ASSIGNMENT, release)
    assert sorted(p.relative_to(grading).as_posix() for p in grading.rglob("*.ipynb")) == [
        "alice/tiny/tiny.ipynb", "bob/tiny/tiny.ipynb"]
    rows = report_rows(validations, {"alice": (3.0, 3.0), "bob": (0.0, 3.0)})
    assert rows == [{"student": "alice", "score": 3.0, "max_score": 3.0, "status": "graded", "reason": "",
                     "notes": ""},
                    {"student": "bob", "score": 0.0, "max_score": 3.0, "status": "not graded",
                     "reason": "nothing submitted: there is no folder 'tiny'", "notes": ""}]
    assert validate.write_report(rows, tmp_path / "report.csv").read_text().splitlines()[0] == \
        "student,score,max_score,status,reason,notes"
    with pytest.raises(ValueError, match="must lie outside"):
        prepare_class(submitted, submitted / "validated", ASSIGNMENT, release)


# -- fuzzing: never raise --------------------------------------------------------------

def assert_sound(result):
    """Either a reason, or a notebook nbformat and nbgrader accept."""
    assert (result.notebook is None) == (result.reason is not None), result
    assert not (result.reason or "").startswith("the submission could not be checked"), result.reason  # a bug
    if result.notebook is not None:
        nbformat.validate(result.notebook)
        validate.MetadataValidator().validate_nb(result.notebook)
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in result.notebook.cells]
        assert [i for i in ids if i] == ["add", "check_add", "mean", "check_mean"]


def test_random_bytes_and_truncations_never_raise(tmp_path, release, answered):
    rng = random.Random(1083)
    text = nbformat.writes(answered)
    contents = [rng.randbytes(rng.randrange(1, 5000)) for _ in range(30)]
    contents += [text[:cut].encode() for cut in range(0, len(text), 97)]
    contents += [b"[" * 100_000, b'{"a":' * 100_000, b'{"cells": [' + b"[" * 50_000]
    for content in contents:
        hand_in(tmp_path, content)
        result = check(tmp_path, release)
        assert_sound(result)
        assert result.reason, content[:60]


def mutate(value, rng):
    """``value`` with one random node somewhere inside replaced by something of another type."""
    junk = [None, 0, -1.5, "", "x" * 3, [], {}, [1, "a"], {"grade_id": "add"}, True, 99, {"nbgrader": 7}]
    if isinstance(value, (dict, list)) and value and rng.random() < 0.8:
        key = rng.choice(list(value) if isinstance(value, dict) else range(len(value)))
        value[key] = mutate(value[key], rng)
        return value
    return copy.deepcopy(rng.choice(junk))


def has_a_cell(data) -> bool:
    cells = data.get("cells") if isinstance(data, dict) else None
    return isinstance(cells, list) and any(isinstance(c, dict) and isinstance(c.get("source", ""), str)
                                           for c in cells)


def test_random_damage_inside_a_notebook_never_raises(tmp_path, release, answered):
    rng = random.Random(99)
    data = json.loads(nbformat.writes(answered))
    graded = 0
    for _ in range(300):
        damaged = copy.deepcopy(data)
        for _ in range(rng.randrange(1, 4)):
            damaged = mutate(damaged, rng)
        hand_in(tmp_path, json.dumps(damaged))
        result = check(tmp_path, release)
        assert_sound(result)
        assert result.gradable or not has_a_cell(damaged), result.reason  # anything with a cell is graded
        graded += result.gradable
    assert graded > 150


def damage_cells(nb, rng):
    """What a student can do to cells in JupyterLab: copy, delete, move, retype, edit, change metadata."""
    for _ in range(rng.randrange(1, 5)):
        action, i = rng.choice(["copy", "delete", "move", "metadata", "type", "edit"]), rng.randrange(len(nb.cells))
        if action == "copy":
            nb.cells.insert(rng.randrange(len(nb.cells) + 1), copy.deepcopy(nb.cells[i]))
        elif action == "delete" and len(nb.cells) > 1:
            del nb.cells[i]
        elif action == "move":
            nb.cells.insert(rng.randrange(len(nb.cells)), nb.cells.pop(i))
        elif action == "metadata":
            key = rng.choice(["grade", "solution", "locked", "points", "grade_id", "schema_version", "task"])
            value = rng.choice([True, False, 99, 0, -1, 2.5, None, "add", "check_mean", "x"])
            nb.cells[i].metadata.setdefault("nbgrader", {})[key] = value
        elif action == "type":
            nb.cells[i].cell_type = rng.choice(["code", "markdown", "raw"])
        else:
            nb.cells[i].source = rng.choice(["", "pass", "assert False"])
    return nb


def test_what_a_student_does_to_cells_passes_nbgraders_own_sanitizing(tmp_path, course, release):
    """The preprocessors ``nbgrader autograde`` runs before executing, in-process on the course's gradebook."""
    from nbgrader.preprocessors import CheckCellMetadata, ClearOutput, DeduplicateIds, OverwriteCells, \
        OverwriteKernelspec
    resources = {"nbgrader": {"notebook": "tiny", "assignment": ASSIGNMENT,
                              "db_url": f"sqlite:///{course.root / 'autograde' / 'gradebook.db'}"}}
    rng = random.Random(1083)
    for _ in range(150):
        hand_in(tmp_path, damage_cells(course.answered(CORRECT), rng))
        result = check(tmp_path, release)
        assert result.gradable, result.reason
        nb = copy.deepcopy(result.notebook)
        for preprocessor in (ClearOutput, DeduplicateIds, OverwriteKernelspec, OverwriteCells, CheckCellMetadata):
            nb, _ = preprocessor().preprocess(nb, copy.deepcopy(resources))
        ids = [c.metadata.get("nbgrader", {}).get("grade_id") for c in nb.cells]
        assert sorted(i for i in ids if i) == ["add", "check_add", "check_mean", "mean"]


def test_deep_nesting_inside_a_valid_notebook_never_raises(tmp_path, release, answered):
    deep = "[" * 3000 + "]" * 3000
    text = nbformat.writes(answered).replace('"metadata": {', f'"metadata": {{"deep": {deep}, ', 2)
    hand_in(tmp_path, text)
    assert_sound(check(tmp_path, release))
    nbgrader_deep = text.replace('"nbgrader": {', f'"nbgrader": {{"deep": {deep}, ')
    hand_in(tmp_path, nbgrader_deep)
    assert_sound(check(tmp_path, release))


def test_a_50_mb_file_is_handled(tmp_path, release, answered, monkeypatch):
    hand_in(tmp_path, random.Random(5).randbytes(50 * 2**20))
    assert check(tmp_path, release).reason.startswith("'tiny.ipynb' is not UTF-8 text")
    cell(answered, "add").outputs = [nbformat.v4.new_output("stream", name="stdout", text="0123456789" * 5 * 2**20)]
    hand_in(tmp_path, answered)
    start = time.perf_counter()
    assert check(tmp_path, release).status == "graded"
    assert time.perf_counter() - start < 20
    monkeypatch.setattr(validate, "MAX_BYTES", 2**20)
    assert check(tmp_path, release).reason == ("'tiny.ipynb' is 50 MB, over the 1 MB limit for a notebook "
                                               "(outputs holding data?)")


# -- a class, graded by nbgrader ---------------------------------------------------------

def class_of_bad_submissions(course) -> dict[str, float]:
    """Hand in the class's submissions; return student -> expected score."""
    course.submit_answers("honest", CORRECT)

    duplicated = course.answered(CORRECT)
    duplicated.cells.insert(cell_index(duplicated, "check_add"), copy.deepcopy(cell(duplicated, "check_add")))
    hand_in(course.submission_folder("duplicated_check"), duplicated)  # two cells with one id, as pasted

    schema = course.answered({"add": CORRECT["add"], "mean": WRONG["mean"]})
    cell(schema, "check_mean").metadata.nbgrader.schema_version = 99
    course.submit("schema_99", ASSIGNMENT, schema)

    cheat = course.answered({"add": WRONG["add"], "mean": CORRECT["mean"]})
    cell(cheat, "check_add").source = "print('add: all checks passed.')"
    cell(cheat, "check_add").metadata.nbgrader.points = 100
    course.submit("edited_check", ASSIGNMENT, cheat)

    broken = course.submitted_path("invalid_json", ASSIGNMENT)
    hand_in(broken.parent, nbformat.writes(course.answered(CORRECT))[:-300])
    course.submitted_path("empty_folder", ASSIGNMENT).parent.mkdir(parents=True)
    hand_in(course.submission_folder("misnamed"), course.answered(CORRECT), "tiny (1).ipynb")
    return {"honest": FULL_MARKS, "duplicated_check": FULL_MARKS, "schema_99": POINTS["check_add"],
            "edited_check": POINTS["check_mean"], "invalid_json": 0.0, "empty_folder": 0.0, "misnamed": FULL_MARKS}


@pytest.mark.nbgrader
def test_a_class_with_bad_submissions_is_graded_in_one_batch(course, release, report_time):
    expected = class_of_bad_submissions(course)
    originals = course.root / "autograde" / "submitted"
    before = digest(originals)
    start = time.perf_counter()
    validations = prepare_class(originals, course.root / "autograde" / "validated", ASSIGNMENT, release)
    course.autograde(submitted_dir="autograde/validated")  # raises on any nbgrader error
    report_time(f"tiny: validation + nbgrader autograde ({len(expected)} students)", time.perf_counter() - start)

    assert digest(originals) == before
    scores = course.total_scores()
    assert scores == {student: (score, FULL_MARKS) for student, score in expected.items()}
    assert course.scores(ASSIGNMENT)["honest"] == {name: (value, value) for name, value in POINTS.items()}
    rows = {row["student"]: row for row in report_rows(validations, scores)}
    assert {s: r["status"] for s, r in rows.items()} == {
        "honest": "graded", "duplicated_check": "repaired", "schema_99": "repaired", "edited_check": "repaired",
        "invalid_json": "not graded", "empty_folder": "not graded", "misnamed": "repaired"}
    assert rows["invalid_json"]["reason"].startswith("'tiny.ipynb' is not valid JSON")
    assert rows["empty_folder"]["reason"] == "nothing submitted: 'tiny.ipynb' is missing and the folder is empty"
    assert "cell 'check_add' was edited: restored from the source" in rows["edited_check"]["notes"]
    assert rows["honest"]["score"] == FULL_MARKS and rows["invalid_json"]["score"] == 0.0
    first = course.autograded("empty_folder", ASSIGNMENT).cells[0].source
    assert "could not be graded" in first and "the folder is empty" in first
