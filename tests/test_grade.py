"""The instructor's grade command (``python -m course_autograde.grade``) on the tiny assignment.

One class (``tests/hostile.py``: honest students, hostile ones, empty and
misnamed folders) is handed in and graded once, through the command (two runs at a time), with
small sandbox limits. Then: every honest student has exact full marks and the
scores plain ``nbgrader autograde`` gives; every hostile one has its expected
score, status and reason; the course's source, release and submitted files
are byte-identical; no sandboxed process or cgroup is left; the TCP server on
the host's loopback saw no connection; the gradebook holds only grading
results; ``nbgrader generate_feedback`` and ``nbgrader export`` work on the
results. A few fast tests check the pieces (signed records, output caps,
stopping, the pipeline check) without a sandbox.
"""
from __future__ import annotations

import csv
import hashlib
import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
from nbconvert.preprocessors import ExecutePreprocessor
from nbformat.v4 import new_code_cell, new_notebook
from nbgrader.preprocessors import ClearOutput, Execute, SaveAutoGrades

import course_utils
from course_autograde import grade, sandbox
from course_autograde.preprocessors import SandboxedExecute
from course_autograde.preprocessors.sandboxed_execute import merge_records
from course_autograde.sandbox import SandboxResult, SandboxUnavailable
from course_autograde.sandbox_execute import NOTE_PREFIX, Channel, OutputBudget, read_records, sign
from hostile import CLASS, HONEST, HOSTILE, LIMITS, Case
import tiny_checks
from tiny_course import ASSIGNMENT, POINTS, TinyCourse, hand_in

try:
    sandbox.find_bwrap()
    BWRAP = None
except SandboxUnavailable as error:
    BWRAP = str(error)
needs_bwrap = pytest.mark.skipif(BWRAP is not None, reason=BWRAP or "")


# -- the class, graded once ------------------------------------------------------------

@dataclass
class GradedClass:
    course: TinyCourse
    marker: str
    placeholders: dict[str, str]
    rows: dict[str, dict]  # student -> row of the CSV report
    printed: str
    plain_scores: dict[str, dict[str, tuple[float, float]]]  # plain nbgrader autograde, safe students only
    hashes_before: dict[str, str]
    hashes_after: dict[str, str]
    tables_before: set[str]
    left_processes: list[int]
    left_cgroups: list[Path]
    connections: list[bytes]
    scratch_root: Path

    def fill(self, text: str) -> str:
        return fill(text, self.placeholders)

    def outputs_text(self, student: str) -> str:
        nb = self.course.autograded(student, ASSIGNMENT)
        return json.dumps([cell.get("outputs", []) for cell in nb.cells], ensure_ascii=False)


def file_hashes(*folders: Path) -> dict[str, str]:
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest()
            for folder in folders for path in sorted(folder.rglob("*")) if path.is_file()}


def processes_with(text: str) -> list[int]:
    """Host pids whose command line contains ``text``."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:  # ended meanwhile
            pass
    return found


class LoopbackServer(threading.Thread):
    """A TCP server on the host's 127.0.0.1 that records what reaches it."""

    def __init__(self):
        super().__init__(daemon=True)
        self.socket = socket.create_server(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]
        self.received: list[bytes] = []

    def run(self):
        while True:
            try:
                connection, _ = self.socket.accept()
            except OSError:  # closed
                return
            with connection:
                connection.settimeout(2)
                try:
                    self.received.append(connection.recv(1024) or b"(connected)")
                except OSError:
                    self.received.append(b"(connected)")


def fill(text: str, placeholders: dict[str, str]) -> str:
    """``text`` with the words in capitals of ``hostile.py`` replaced by their values."""
    for word, value in placeholders.items():
        text = text.replace(word, value)
    return text


def hand_in_class(course: TinyCourse, placeholders: dict[str, str]) -> None:
    for case in CLASS:
        folder = course.submission_folder(case.student)
        if case.student == "misnamed":
            hand_in(folder, course.answered(case.answers), name="tiny (1).ipynb")
        elif case.student == "empty_folder":
            folder.mkdir(parents=True)
        elif case.student == "pdf":
            hand_in(folder, b"%PDF-1.4 not a notebook")
        else:
            course.submit_answers(case.student, {name: fill(code, placeholders) for name, code in case.answers.items()})


def gradebook_tables(course: TinyCourse) -> set[str]:
    with sqlite3.connect(course.root / "autograde" / "gradebook.db") as db:
        return {name for (name,) in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


@pytest.fixture(scope="module")
def graded(tmp_path_factory, report_time) -> GradedClass:
    root = tmp_path_factory.mktemp("grade-course")
    scratch_root = tmp_path_factory.mktemp("grade-scratch")
    course = TinyCourse(root)
    with open(root / "nbgrader_config.py", "a") as config:
        for name, value in LIMITS.items():
            config.write(f"c.SandboxedExecute.{name} = {value!r}\n")
        config.write(f"c.SandboxedExecute.scratch_directory = {str(scratch_root)!r}\n")
    course.generate()
    marker = f"hostile-{uuid.uuid4().hex}"
    server = LoopbackServer()
    server.start()
    placeholders = {"COURSE_DIR": str(root), "UTILS_DIR": str(Path(course_utils.__file__).parent),
                    "VENV": sys.prefix, "MARKER": marker, "PORT": str(server.port),
                    "HIDDEN_DIR": str(tiny_checks.HIDDEN_REFERENCE_DIR)}
    hand_in_class(course, placeholders)

    # Plain nbgrader on the students it can run safely, for comparison (the command regrades them).
    course.nbgrader("autograde", ASSIGNMENT, "--force", "--student=honest_*")
    course.nbgrader("autograde", ASSIGNMENT, "--force", "--student=cheat_*")
    plain_scores = course.scores(ASSIGNMENT)

    watched = (root / "solutions", root / "notebooks", root / "autograde" / "submitted")
    hashes_before = file_hashes(*watched) | file_hashes(root / "nbgrader_config.py")
    tables_before = gradebook_tables(course)
    start = time.perf_counter()
    # Two runs at a time: hostile students side by side must not reach each other either.
    grading = subprocess.Popen([sys.executable, "-m", "course_autograde.grade", ASSIGNMENT, "--course-dir", str(root),
                                "--jobs", "2"],
                               env={**os.environ, **course.environment,
                                    "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}", "COURSE_FAST": "1"},
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stdout, stderr = grading.communicate(timeout=900)
    done = SimpleNamespace(returncode=grading.returncode, stdout=stdout, stderr=stderr)
    report_time(f"tiny: the grade command, {len(CLASS)} students", time.perf_counter() - start)
    assert done.returncode == 0, done.stdout + done.stderr
    left_processes = processes_with(marker) + processes_with(str(scratch_root))
    left_cgroups = sandbox.leftover_cgroups(created_by=grading.pid)  # the sandboxes of this command only
    server.socket.close()
    with open(root / "autograde" / "reports" / f"{ASSIGNMENT}.csv", newline="", encoding="utf-8") as handle:
        rows = {row["student"]: row for row in csv.DictReader(handle)}
    return GradedClass(course, marker, placeholders, rows, done.stdout, plain_scores, hashes_before,
                       file_hashes(*watched) | file_hashes(root / "nbgrader_config.py"), tables_before,
                       left_processes, left_cgroups, server.received, scratch_root)


@pytest.fixture(scope="module")
def feedback(graded) -> TinyCourse:
    """The class's feedback, generated once by ``nbgrader generate_feedback``."""
    graded.course.generate_feedback(ASSIGNMENT)
    return graded.course


def memory_cgroup_available() -> bool:
    mounts = sandbox._cgroup_mounts()
    return "memory" in mounts or "" in mounts


# -- after the batch ---------------------------------------------------------------------

@needs_bwrap
@pytest.mark.nbgrader
def test_every_student_folder_is_in_the_report_and_the_gradebook(graded):
    students = {case.student for case in CLASS}
    assert set(graded.rows) == students
    assert set(graded.course.total_scores()) == students
    for line in (f"{ASSIGNMENT}: {len(CLASS)} students", "student", "honest_full", "kill_grader"):
        assert line in graded.printed


@needs_bwrap
@pytest.mark.nbgrader
@pytest.mark.parametrize("case", HONEST, ids=lambda case: case.student)
def test_honest_students_get_the_scores_plain_nbgrader_gives(graded, case):
    scores = graded.course.scores(ASSIGNMENT)[case.student]
    assert scores == graded.plain_scores[case.student]
    assert sum(score for score, _ in scores.values()) == case.score
    if case.score:  # the honest students who answered right: exact full marks
        assert scores == {name: (points, points) for name, points in POINTS.items()}
    assert graded.rows[case.student]["reason"] == ""


@needs_bwrap
@pytest.mark.nbgrader
@pytest.mark.parametrize("case", CLASS, ids=lambda case: case.student)
def test_each_student_ends_as_expected(graded, case: Case, report_line):
    row = graded.rows[case.student]
    report_line(f"{case.student:<21} {row['score']:>4}/{row['max_score']:<4} {row['status']:<10} {case.act}: "
                f"{row['reason'] or '-'}")
    if case.needs_memory_cgroup and not memory_cgroup_available():
        pytest.skip("no memory cgroup: the RLIMIT_AS fallback turns the bomb into a MemoryError")
    expected = (case.score, case.status, case.reason)
    if case.or_else and (float(row["score"]), row["status"]) == case.or_else[:2]:
        expected = case.or_else
    score, status, reason = expected
    assert (float(row["score"]), float(row["max_score"]), row["status"]) == (score, 3.0, status)
    if reason:
        assert graded.fill(reason) in row["reason"]
    else:
        assert row["reason"] == ""
    if row["status"] != "not graded":
        outputs = graded.outputs_text(case.student)
        assert graded.fill(case.output) in outputs
        for text in case.absent:
            assert graded.fill(text) not in outputs


@needs_bwrap
@pytest.mark.nbgrader
def test_cheats_that_plain_nbgrader_rewards_score_nothing_in_the_sandbox(graded):
    for case in HOSTILE:
        if case.plain_score is not None:
            plain = sum(score for score, _ in graded.plain_scores[case.student].values())
            assert (plain, float(graded.rows[case.student]["score"])) == (case.plain_score, case.score)


@needs_bwrap
@pytest.mark.nbgrader
def test_a_100_mb_print_stays_out_of_the_graded_notebook_and_the_feedback(graded, feedback):
    assert graded.course.autograded_path("huge_print", ASSIGNMENT).stat().st_size < 3_000_000
    assert "of output left out" in graded.rows["huge_print"]["notes"]
    assert feedback.feedback_path("huge_print", ASSIGNMENT).stat().st_size < 4_000_000


@needs_bwrap
@pytest.mark.nbgrader
def test_the_course_files_are_byte_identical(graded):
    assert graded.hashes_after == graded.hashes_before
    for folder in (Path(course_utils.__file__).parent, Path(sys.prefix)):
        assert not (folder / f"{graded.marker}.txt").exists()


@needs_bwrap
@pytest.mark.nbgrader
def test_no_process_or_cgroup_outlives_the_batch(graded):
    assert graded.left_processes == []
    assert graded.left_cgroups == []
    assert list(graded.scratch_root.iterdir()) == []  # every scratch folder was removed


@needs_bwrap
@pytest.mark.nbgrader
def test_the_server_on_the_hosts_loopback_saw_no_connection(graded):
    assert graded.connections == []


@needs_bwrap
@pytest.mark.nbgrader
def test_the_gradebook_holds_only_grading_results(graded):
    course = graded.course
    database = course.root / "autograde" / "gradebook.db"
    with sqlite3.connect(database) as db:
        assert db.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert gradebook_tables(course) == graded.tables_before
    for student, grades in course.scores(ASSIGNMENT).items():
        assert set(grades) == set(POINTS)
        for name, (score, max_score) in grades.items():
            assert max_score == POINTS[name] and score in (0.0, max_score), (student, name)
        assert sum(score for score, _ in grades.values()) == float(graded.rows[student]["score"])


@needs_bwrap
@pytest.mark.nbgrader
def test_feedback_and_export_work_on_the_results(graded, feedback):
    course = feedback
    for case in CLASS:
        assert course.feedback_path(case.student, ASSIGNMENT).is_file()
    course.nbgrader("export")
    with open(course.root / "grades.csv", newline="") as handle:
        exported = {row["student_id"]: float(row["score"]) for row in csv.DictReader(handle)}
    assert exported == {case.student: float(graded.rows[case.student]["score"]) for case in CLASS}
    stopped = course.autograded("os_exit", ASSIGNMENT)
    errors = [(output.ename, output.evalue) for cell in stopped.cells if cell.cell_type == "code"
              for output in cell.outputs if output.output_type == "error"]
    assert errors == [("GradingStopped", "the kernel exited with code 1 while cell 'mean' was running"),
                      ("NotRun", "not run: grading stopped at cell 'mean'")]


# -- the pieces, without a sandbox ------------------------------------------------------

def test_records_from_another_writer_are_ignored_and_a_gap_ends_the_trusted_part():
    key, other = os.urandom(32), os.urandom(32)
    lines = [sign(key, 0, {"type": "running", "index": 0}), b"0" * 64 + b' {"seq": 1, "type": "end"}\n',
             sign(other, 1, {"type": "end"}), sign(key, 1, {"type": "cell", "index": 0}),
             sign(key, 3, {"type": "end"}), sign(key, 2, {"type": "end"})]
    records = read_records(b"".join(lines), key)
    assert [record["type"] for record in records.records] == ["running", "cell"]
    assert (records.foreign_lines, records.broken_at) == (2, 2)


def test_the_channel_numbers_its_records(capfd):
    channel = Channel(b"k" * 32)
    channel.send("running", index=3)
    channel.send("end")
    records = read_records(capfd.readouterr().out.encode(), b"k" * 32)
    assert records.records == [{"seq": 0, "type": "running", "index": 3}, {"seq": 1, "type": "end"}]


def stream(text: str, name: str = "stdout") -> dict:
    return {"output_type": "stream", "name": name, "text": text}


def test_a_long_output_keeps_its_beginning_and_a_note_and_grade_deciding_outputs_survive():
    budget = OutputBudget(cell_bytes=10_000, notebook_bytes=16_000)
    error = {"output_type": "error", "ename": "AssertionError", "evalue": "e" * 50_000, "traceback": ["t"] * 500}
    arrived = [stream("x" * 1_000_000), stream("late"), stream("warning " * 10_000, "stderr"), error]
    kept = [output for output in map(budget.fit, arrived) if output is not None]  # as they arrive
    outputs, dropped = budget.finish(kept)
    assert outputs[0]["text"].startswith("xxx") and 9_000 < len(outputs[0]["text"]) < 10_000
    assert [(output["output_type"], output.get("name")) for output in outputs] == [
        ("stream", "stdout"), ("stream", "stderr"), ("error", None), ("stream", "stdout")]
    assert outputs[1]["text"].startswith("warning") and outputs[2]["ename"] == "AssertionError"
    assert outputs[-1]["text"].strip().startswith(NOTE_PREFIX) and dropped > 1_000_000
    assert len(json.dumps(outputs)) < 20_000
    left = budget.notebook_left
    assert 0 < left < 10_000  # the next cell gets what the notebook has left
    second, _ = budget.finish([stream("y" * 8_000)])
    assert second[0]["text"].startswith("yyy") and len(json.dumps(second[0])) <= left
    assert second[-1]["text"].strip().startswith(NOTE_PREFIX)


def result(**changes) -> SandboxResult:
    fields = dict(returncode=0, stdout=b"", stderr=b"", stdout_bytes=0, stderr_bytes=0, timed_out=False,
                  out_of_memory=False, seconds=1.0, memory_mechanism="cgroup v1", process_mechanism="cgroup v1",
                  reason=None)
    return SandboxResult(**{**fields, **changes})


def notebook_of_three():
    graded = {"nbgrader": {"grade": True, "grade_id": "check", "points": 1, "locked": True, "solution": False}}
    later = {"nbgrader": {"grade": True, "grade_id": "later", "points": 1, "locked": True, "solution": False}}
    return new_notebook(cells=[new_code_cell("x = 1"), new_code_cell("while True: pass", metadata=graded),
                               new_code_cell("print(x)"), new_code_cell("assert x", metadata=later)])


def test_a_notebook_stopped_at_its_time_limit_scores_0_on_the_cells_not_run():
    nb, key = notebook_of_three(), os.urandom(32)
    stdout = b"".join([sign(key, 0, {"type": "running", "index": 0}),
                       sign(key, 1, {"type": "cell", "index": 0, "outputs": [stream("ok\n")], "execution_count": 1}),
                       sign(key, 2, {"type": "running", "index": 1})])
    outcome = merge_records(nb, read_records(stdout, key), result(timed_out=True, returncode=-9), SandboxedExecute())
    assert outcome["completed"] is False and outcome["stopped_at"] == 1
    assert outcome["reason"] == "the notebook ran over its 600 s time limit while cell 'check' was running"
    assert [[output.get("ename") for output in cell.outputs] for cell in nb.cells] == [
        [None], ["GradingStopped"], [], ["NotRun"]]


@pytest.mark.parametrize("why, detail, changes, reason", [
    ("ignored-interrupt", "4", {}, "cell 'check' ran over the 30 s limit per cell and did not stop when interrupted"),
    ("timed-out", "", {}, "cell 'check' ran over the 30 s limit per cell"),
    ("late-output", "30", {}, "cell 'check' finished, but its outputs were still arriving 30 s later"),
    ("kernel-died", "the kernel exited with code 3", {},
     "the kernel exited with code 3 while cell 'check' was running"),
    ("kernel-died", "the kernel was killed by signal 9 (SIGKILL)", {"out_of_memory": True},
     "the notebook used more than its 4 GiB of memory while cell 'check' was running"),
    ("lost-kernel", "RuntimeError: boom", {}, "the grader lost contact with the kernel while cell 'check' was running "
                                              "(RuntimeError: boom)"),
])
def test_each_way_a_run_stops_has_its_reason(why, detail, changes, reason):
    nb, key = notebook_of_three(), os.urandom(32)
    stdout = b"".join([sign(key, 0, {"type": "cell", "index": 0, "outputs": []}),
                       sign(key, 1, {"type": "running", "index": 1}),
                       sign(key, 2, {"type": "stopped", "index": 1, "why": why, "detail": detail,
                                     "outputs": [stream("partial\n")], "stderr": "last words"})])
    outcome = merge_records(nb, read_records(stdout, key), result(**changes), SandboxedExecute())
    assert outcome["reason"] == reason
    assert [output.get("ename") or output.get("text") for output in nb.cells[1].outputs] == [
        "partial\n", "GradingStopped"]
    assert "last words" in nb.cells[1].outputs[-1].traceback


def test_a_run_with_every_cell_reported_is_complete():
    nb, key = notebook_of_three(), os.urandom(32)
    stdout = b"".join(sign(key, seq, {"type": "cell", "index": seq, "outputs": [], "execution_count": seq + 1})
                      for seq in range(4))
    outcome = merge_records(nb, read_records(stdout, key), result(), SandboxedExecute())
    assert outcome == {"completed": True, "stopped_at": None, "reason": None, "interventions": [], "notes": [],
                       "seconds": 1.0}


def test_invalid_outputs_from_the_kernel_are_dropped():
    nb, key = notebook_of_three(), os.urandom(32)
    outputs = [stream("fine"), {"output_type": "stream", "name": 7, "text": "bad"}, stream("lone \udc80")]
    stdout = b"".join(sign(key, seq, {"type": "cell", "index": seq, "outputs": outputs if seq == 0 else []})
                      for seq in range(4))
    merge_records(nb, read_records(stdout, key), result(), SandboxedExecute())
    assert [output.text for output in nb.cells[0].outputs] == ["fine", "lone ?"]


SANDBOXED, JUDGE = "course_autograde.preprocessors.SandboxedExecute", "course_autograde.preprocessors.JudgeChecks"


@pytest.mark.parametrize("sanitize, autograde, refused", [
    ([ClearOutput], [Execute, SaveAutoGrades], "outside the sandbox"),
    ([ClearOutput], [SaveAutoGrades], "outside the sandbox"),  # nothing would run: every check cell gets full marks
    ([ExecutePreprocessor], [SANDBOXED, JUDGE, SaveAutoGrades], "outside the sandbox"),
    ([ClearOutput], [SANDBOXED, SaveAutoGrades], "no JudgeChecks"),  # the check cells would have no verdict
    ([ClearOutput], [SANDBOXED, JUDGE, SaveAutoGrades], None),
])
def test_a_pipeline_that_would_run_code_outside_the_sandbox_is_refused(sanitize, autograde, refused):
    converter = SimpleNamespace(sanitize_preprocessors=sanitize, autograde_preprocessors=autograde)
    if refused:
        with pytest.raises(grade.GradingSetupError, match=refused):
            grade.check_pipeline(converter)
    else:
        grade.check_pipeline(converter)


@needs_bwrap
def test_the_command_says_when_the_course_directory_is_missing(tmp_path, capsys):
    assert grade.main([ASSIGNMENT, "--course-dir", str(tmp_path / "missing")]) == 2
    assert "does not exist" in capsys.readouterr().err


# ----------------------------------------------------------------------------- the package graded on


def test_each_assignment_is_graded_on_the_package_its_students_have():
    from course_autograde.preprocessors.sandboxed_execute import student_package

    week_2 = student_package("02_identity_block")
    assert "checks/identity_block.py" in week_2 and "blocks.py" not in week_2 and "cam.py" not in week_2
    week_4 = student_package("04_resnet50")
    assert "blocks.py" in week_4 and "resnet50.py" not in week_4 and "checks/cam.py" not in week_4
    assert student_package("tiny") == {}


def test_in_the_sandbox_the_instructors_package_is_out_of_reach(tmp_path):
    from course_autograde.preprocessors import SandboxedExecute
    from course_autograde.preprocessors.sandboxed_execute import student_package

    probe = ("import importlib.util, course_utils\n"
             "print(course_utils.__file__)\n"
             "print([m for m in ('course_utils.blocks', 'course_utils.checks.identity_block', 'course_autograde')\n"
             "       if importlib.util.find_spec(m) is not None])")
    nb = new_notebook(cells=[new_code_cell(probe)])
    executed = SandboxedExecute(course_files=False).execute(nb, tmp_path, {}, student_package("02_identity_block"))
    printed = "".join(o.get("text", "") for o in executed.cells[0].outputs)
    location, found = printed.splitlines()
    assert "/grading-package-" in location and location.endswith("/course_utils/__init__.py"), location
    assert found == "['course_utils.checks.identity_block']"  # no blocks (02 is open), no grader


def test_a_notebook_that_loads_a_backbone_gets_the_batchs_stand_in_read_only(tmp_path, monkeypatch):
    """With no pretrained backbone, every sandbox of an assignment whose notebook loads one (a fact of the
    registry) reads the one stand-in of the grader's cache instead of training its own (half a minute a
    submission)."""
    from course_autograde.preprocessors.sandboxed_execute import ensure_stand_in, uses_backbone
    from course_utils import backbones, pretrain

    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv(backbones.BACKBONE_PATH_ENV, raising=False)
    ensure_stand_in.cache_clear()
    weights = pretrain.stand_in_path()
    weights.parent.mkdir(parents=True)
    weights.write_bytes(b"stand-in weights")
    (tmp_path / "student").mkdir()
    read = ("import os\nfrom pathlib import Path\npath = Path(os.environ.get('COURSE_STAND_IN_PATH', '-'))\n"
            "print(path.is_file() and path.read_bytes().decode())\n"
            "try:\n    path.is_file() and path.write_bytes(b'changed')\nexcept OSError as error:\n"
            "    print(type(error).__name__)")
    assert uses_backbone("06_transfer_cam") and not uses_backbone("01_convolutions") and not uses_backbone(None)
    for backbone, printed in ((True, "stand-in weights\nOSError\n"), (False, "False\n")):
        nb = new_notebook(cells=[new_code_cell(read)])
        executed = SandboxedExecute(course_files=True).execute(nb, tmp_path / "student", {}, backbone=backbone)
        assert "".join(o.get("text", "") for o in executed.cells[0].outputs) == printed
    assert weights.read_bytes() == b"stand-in weights"
    ensure_stand_in.cache_clear()
