"""Grading a class fast, on the tiny assignment: ``--jobs 2`` on this machine, a real Dask cluster on
127.0.0.1 (a scheduler and two workers, one killed in the middle of the run), and reruns that reuse
the finished runs. Each gives the scores and statuses of one-student-at-a-time grading.
"""
from __future__ import annotations

import csv
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from course_autograde import sandbox
from hostile import HONEST, HOSTILE, LIMITS
from tiny_course import ASSIGNMENT, CORRECT, TinyCourse

try:
    sandbox.find_bwrap()
    BWRAP = None
except sandbox.SandboxUnavailable as error:
    BWRAP = str(error)
pytestmark = pytest.mark.skipif(BWRAP is not None, reason=BWRAP or "")

# Right and wrong answers, a crash and a cheat: an outcome of each kind (the whole hostile class is
# graded at --jobs 2 in test_grade.py).
CLASS = [case for case in HONEST + HOSTILE if case.student in ("honest_full", "honest_mistakes", "os_exit",
                                                                 "cheat_patch_engine")]


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = TinyCourse(tmp_path_factory.mktemp("parallel-course"))
    with open(course.root / "nbgrader_config.py", "a") as config:
        for name, value in LIMITS.items():
            config.write(f"c.SandboxedExecute.{name} = {value!r}\n")
    course.generate()
    for case in CLASS:
        course.submit_answers(case.student, case.answers)
    return course


def environment(course: TinyCourse) -> dict[str, str]:
    return {**os.environ, **course.environment, "COURSE_FAST": "1",
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}


def grade(course: TinyCourse, *options: str) -> tuple[dict[str, dict], str]:
    """The grade command's report rows (student -> row) and its progress output."""
    done = subprocess.run([sys.executable, "-m", "course_autograde.grade", ASSIGNMENT, "--course-dir",
                           str(course.root), *options], env=environment(course), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    return report(course), done.stderr


def report(course: TinyCourse) -> dict[str, dict]:
    with open(course.root / "autograde" / "reports" / f"{ASSIGNMENT}.csv", newline="", encoding="utf-8") as handle:
        return {row["student"]: row for row in csv.DictReader(handle)}


def outcomes(rows: dict[str, dict]) -> dict[str, tuple]:
    return {student: (row["score"], row["status"], row["reason"]) for student, row in rows.items()}


@pytest.fixture(scope="module")
def one_at_a_time(course):
    rows, _ = grade(course, "--force")
    return rows


def test_each_student_gets_the_expected_score_one_at_a_time(one_at_a_time):
    assert {s: float(row["score"]) for s, row in one_at_a_time.items()} == {c.student: c.score for c in CLASS}
    assert {row["run"] for row in one_at_a_time.values()} == {"made"}


def test_two_jobs_at_a_time_give_the_same_grades(course, one_at_a_time):
    rows, progress = grade(course, "--jobs", "2", "--force")
    assert outcomes(rows) == outcomes(one_at_a_time)
    assert {row["run"] for row in rows.values()} == {"made"}
    assert f"[{len(CLASS)}/{len(CLASS)}]" in progress and "0 left" in progress and "s left" in progress


def test_a_rerun_reuses_the_finished_runs_and_makes_only_changed_ones(course, one_at_a_time):
    rows, _ = grade(course, "--jobs", "2")
    assert outcomes(rows) == outcomes(one_at_a_time)
    assert {row["run"] for row in rows.values()} == {"reused"}
    # a new version handed in (not identical to honest_full's, whose run it would share: runs are filed by content)
    course.submit_answers("honest_mistakes", {**CORRECT, "add": CORRECT["add"] + "\n# corrected"})
    rows, _ = grade(course)
    assert {s for s, row in rows.items() if row["run"] == "made"} == {"honest_mistakes"}
    assert rows["honest_mistakes"]["score"] == "3.0"
    course.submit_answers("honest_mistakes", next(c for c in CLASS if c.student == "honest_mistakes").answers)
    grade(course)


def default_sigint() -> None:
    """In the child, before exec: Ctrl-C as in a terminal. A pytest-xdist worker ignores SIGINT,
    and an ignored signal stays ignored across exec, so the command would not see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_an_interrupted_batch_keeps_its_grades_and_a_rerun_finishes_it(course, one_at_a_time):
    grading = subprocess.Popen([sys.executable, "-m", "course_autograde.grade", ASSIGNMENT, "--course-dir",
                                str(course.root), "--jobs", "2", "--force"], env=environment(course),
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, preexec_fn=default_sigint)
    first = None
    for line in grading.stderr:  # Ctrl-C once the first student is recorded
        if line.startswith("[1/"):
            first = line.split("] ", 1)[1].split(":", 1)[0]
            grading.send_signal(signal.SIGINT)
            break
    _, rest = grading.communicate(timeout=300)
    assert first is not None and grading.returncode == 130 and "interrupted" in rest, rest
    recorded = sum(score for score, _ in course.scores(ASSIGNMENT)[first].values())
    assert recorded == float(one_at_a_time[first]["score"])
    rows, _ = grade(course, "--jobs", "2")
    assert outcomes(rows) == outcomes(one_at_a_time)
    assert rows[first]["run"] == "reused"  # finished before the interruption: not made again


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start(command: list, log: Path, env: dict) -> subprocess.Popen:
    """A server process in a session of its own (so that stopping it stops its children)."""
    return subprocess.Popen(command, env=env, stdout=open(log, "w"), stderr=subprocess.STDOUT, start_new_session=True)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def wait_for_workers(address: str, count: int, seconds: float = 60) -> None:
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(count, timeout=seconds)


def test_a_dask_cluster_grades_the_class_and_a_killed_worker_loses_nothing(course, one_at_a_time, tmp_path):
    pytest.importorskip("distributed")
    dask = str(Path(sys.executable).parent / "dask")
    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = environment(course)
    scheduler = start([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
                      tmp_path / "scheduler.log", env)
    # no nanny: a killed worker stays dead, and its task must be run by the other one
    workers = [start([dask, "worker", address, "--nthreads", "1", "--no-nanny", "--no-dashboard",
                      "--name", f"worker-{n}"], tmp_path / f"worker-{n}.log", env) for n in (1, 2)]
    try:
        wait_for_workers(address, 2)
        grading = subprocess.Popen([sys.executable, "-m", "course_autograde.grade", ASSIGNMENT, "--course-dir",
                                    str(course.root), "--scheduler", address, "--force"], env=env,
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        progress = []
        for line in grading.stderr:  # kill a worker once the first student is recorded
            progress.append(line)
            if line.startswith("[1/"):
                os.killpg(workers[0].pid, signal.SIGKILL)
                break
        rest, _ = grading.communicate(timeout=600)
        assert grading.returncode == 0, "".join(progress) + rest
        assert workers[0].wait(timeout=10) == -signal.SIGKILL
        rows = report(course)
        assert outcomes(rows) == outcomes(one_at_a_time)
        assert {row["run"] for row in rows.values()} == {"made"}
    finally:
        for process in (*workers, scheduler):
            stop(process)
