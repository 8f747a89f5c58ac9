"""The instructor's grade command: ``python -m course_autograde.grade ASSIGNMENT``.

Run from the course directory (or give ``--course-dir``). nbgrader stays the
gradebook, feedback and export engine; what changes is where students' code
runs and that one student cannot stop the batch:

1. every student folder of ``submitted/`` is validated and repaired into a
   temporary grading copy (:func:`course_autograde.validate.prepare_class`;
   the folders handed in are only read);
2. each student is autograded by nbgrader's ``Autograde`` converter, one at a
   time, with ``SandboxedExecute`` in place of ``Execute`` (``grade_config.py``):
   nbgrader still sanitizes the notebook, restores the check cells, saves the
   grades and writes the autograded notebook, so ``nbgrader generate_feedback``
   and ``nbgrader export`` work on the results as usual;
3. a student whose grading fails for any reason is recorded with the reason,
   scores 0 and is flagged for manual grading, and the batch goes on;
4. the class report is printed and written as CSV (default
   ``autograde/reports/<assignment>.csv``): student, score, max score,
   status, reason, notes, the run's seconds and whether it was made in this
   batch or reused.

Fast: ``--jobs N`` makes N sandbox runs at a time on this machine (each
notebook's thread pools get a share of the cores), ``--scheduler
tcp://HOST:8786`` makes them on a Dask cluster. Either way nbgrader first
prepares every student (a run is a self-contained job: notebook, files,
settings), the runs go to the runner, and this process alone records each
student in the gradebook as their run comes back. Finished runs are filed by
content hash in ``autograde/sandbox-runs/<assignment>/``: a rerun (after an
interruption, or with new submissions) makes only the runs of new or changed
submissions, unless ``--force``. A student is recorded in the gradebook whole
or not at all, so Ctrl-C or a crash leaves the finished grades and a
consistent gradebook; a Dask task lost with its worker is run again on
another one.

Statuses: ``normal`` (graded as handed in), ``repaired`` (graded after the
validator repaired the notebook; the notes say how), ``not graded`` (nothing
gradable was handed in: the release, unanswered, scores 0), ``failed`` (the
notebook could not be run to its end, or nbgrader failed: the reason says
why; cells not run score 0). A reason on a normal or repaired row says what
the grader had to do (a cell interrupted, replaced helpers put back).

The sandbox's limits are nbgrader settings, e.g. in ``nbgrader_config.py``::

    c.SandboxedExecute.timeout = 120              # seconds per cell
    c.SandboxedExecute.notebook_timeout = 600     # seconds per notebook
    c.SandboxedExecute.memory_limit = 4 * 1024**3

Assignments have one notebook, named after the assignment (the course's
layout, which the validator expects).
"""
from __future__ import annotations

import argparse
import contextlib
import copy
import glob
import logging
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbgrader.api import Gradebook
from nbgrader.apps import AutogradeApp
from nbgrader.converters import Autograde, NbGraderException
from traitlets.config.loader import PyFileConfigLoader
from traitlets.utils.importstring import import_item

from .preprocessors import JudgeChecks, SandboxedExecute
from .preprocessors.sandboxed_execute import PREPARED_JOBS, keep_run, run_job
from .sandbox import SandboxUnavailable, find_bwrap
from .validate import Validation, prepare_class, write_report

GRADE_CONFIG = Path(__file__).with_name("grade_config.py")


class GradingSetupError(RuntimeError):
    """The batch cannot start (not a student's fault); the message says what to fix."""


def main(argv: list[str] | None = None) -> int:
    args = parse_arguments(argv)
    try:
        find_bwrap()
        course_dir = Path(args.course_dir).resolve()
        if not course_dir.is_dir():
            raise GradingSetupError(f"the course directory {course_dir} does not exist")
        os.chdir(course_dir)  # nbgrader's relative paths (the course's db_url) start there
        app = course_app(args.verbose)
        submitted = Path(app.coursedir.root, app.coursedir.submitted_directory)
        runs = course_dir / "autograde" / "sandbox-runs" / args.assignment
        if args.force:
            shutil.rmtree(runs, ignore_errors=True)
        with tempfile.TemporaryDirectory(prefix="grading-copies-") as copies:
            use_sandbox(app, Path(copies), runs, args.jobs)
            with job_runner(args.jobs, args.scheduler, runs) as runner:
                rows = grade_class(app, args.assignment, submitted, Path(copies), args.student, runner)
    except (GradingSetupError, SandboxUnavailable) as error:
        print(f"grade: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("grade: interrupted. The students recorded so far keep their grades in the gradebook, and the "
              "finished runs are kept (runs already started finish first): run the same command again to grade the "
              "rest.", file=sys.stderr)
        return 130
    report = write_report(rows, course_dir / (args.report or Path("autograde", "reports", f"{args.assignment}.csv")))
    print_report(rows, args.assignment, report)
    return 0


def parse_arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m course_autograde.grade", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("assignment", help="the assignment to grade, e.g. 01_convolutions")
    parser.add_argument("--student", action="append", metavar="ID",
                        help="grade only this student (repeat for several); default: every folder of submitted/")
    parser.add_argument("--course-dir", default=".", metavar="DIR", help="the nbgrader course directory (default: .)")
    parser.add_argument("--report", metavar="CSV",
                        help="where to write the class report (default: autograde/reports/ASSIGNMENT.csv)")
    parser.add_argument("--jobs", type=int, default=1, metavar="N",
                        help="run N submissions at a time on this machine, each in its own sandbox (default: 1)")
    parser.add_argument("--scheduler", metavar="tcp://HOST:8786",
                        help="run the submissions on a Dask cluster (its workers need the course environment and "
                             "bubblewrap); the gradebook is written here")
    parser.add_argument("--force", action="store_true",
                        help="run every submission again (default: a submission whose run is finished and unchanged "
                             "is not run again)")
    parser.add_argument("--verbose", action="store_true", help="show nbgrader's progress messages")
    return parser.parse_args(argv)


# -- nbgrader, configured for the sandbox ----------------------------------------------

def course_app(verbose: bool) -> AutogradeApp:
    """nbgrader's autograde application with the course's configuration (from the current folder)."""
    app = AutogradeApp()
    app.initialize([f"--log-level={'INFO' if verbose else 'ERROR'}"])
    return app


def use_sandbox(app: AutogradeApp, copies: Path, runs: Path, jobs: int = 1) -> None:
    """Put the sandboxed pipeline of ``grade_config.py`` under the course's settings, point
    nbgrader at the grading copies, and file finished runs in ``runs``. With ``jobs`` runs at a
    time, each notebook's thread pools get a share of the cores (unless the course sets ``cpus``)."""
    defaults = PyFileConfigLoader(GRADE_CONFIG.name, path=str(GRADE_CONFIG.parent)).load_config()
    if jobs > 1:
        defaults.SandboxedExecute.cpus = max(1, (os.cpu_count() or 1) // jobs)
    layered = copy.deepcopy(defaults)
    layered.merge(app.config)  # the course's settings win over the defaults
    layered.CourseDirectory.submitted_directory = str(copies)
    layered.SandboxedExecute.results_directory = str(runs)
    layered.BaseConverter.force = True  # regrading replaces the previous results
    app.update_config(layered)
    check_pipeline(Autograde(coursedir=app.coursedir, parent=app))


def check_pipeline(converter: Autograde) -> None:
    """Refuse a configuration that would run students' code outside the sandbox: every
    executing step (an nbclient NotebookClient, as nbgrader's Execute is) must be a
    SandboxedExecute, and the autograde pipeline must have one, followed by JudgeChecks
    (without it, a check cell graded in the sandbox shows no verdict)."""
    def classes(steps):
        return [import_item(step) if isinstance(step, str) else step for step in steps]

    def executing(steps):
        return [step for step in classes(steps) if isinstance(step, type) and issubclass(step, NotebookClient)]

    steps = classes(converter.autograde_preprocessors)
    sandboxed = [i for i, step in enumerate(steps) if isinstance(step, type) and issubclass(step, SandboxedExecute)]
    if sandboxed and not any(isinstance(step, type) and issubclass(step, JudgeChecks) for step in steps[sandboxed[-1]:]):
        raise GradingSetupError("the configured autograde pipeline has no JudgeChecks after SandboxedExecute: the "
                                "check cells would have no verdict (see autograde/grade_config.py)")

    executes = executing(converter.sanitize_preprocessors) + executing(converter.autograde_preprocessors)
    if not executing(converter.autograde_preprocessors) or any(
            not issubclass(step, SandboxedExecute) for step in executes):
        names = ", ".join(step.__name__ for step in executes) or "none"
        raise GradingSetupError(
            f"the configured autograde pipeline would run students' code outside the sandbox (executing steps: "
            f"{names}): use SandboxedExecute in place of Execute (see autograde/grade_config.py)")


# -- the class ---------------------------------------------------------------------------

def grade_class(app: AutogradeApp, assignment: str, submitted: Path, copies: Path,
                selected: list[str] | None, runner=None) -> list[dict]:
    """Validate every folder of ``submitted`` into ``copies``, autograde the selected students
    and return the report's rows.

    Without a ``runner`` each student is run and recorded in turn. With one (:func:`job_runner`)
    nbgrader first prepares every student (a finished, unchanged run is recorded at once; the
    others' runs go to the runner), then records each student as their run finishes: the runs
    are made in parallel, the gradebook is written by this process alone.
    """
    if not submitted.is_dir():
        raise GradingSetupError(f"there is no folder of submissions {submitted}")
    app.coursedir.assignment_id = assignment
    validations = prepare_class(submitted, copies, assignment, release_notebook(app, assignment))
    students = selected or sorted(validations)
    unknown = [student for student in students if student not in validations]
    if unknown:
        raise GradingSetupError(f"no folder in {submitted} for {', '.join(unknown)}")
    progress = Progress(len(students))
    rows = []

    def record(student: str, graded: bool = False, error: str | None = None, made: bool = False) -> None:
        """Autograde ``student`` (unless ``graded`` already, with ``error``) and add their row
        (``made``: their run was made in this batch, by a runner)."""
        if not graded:
            error = autograde_student(app, student)
        if error is not None:
            error += record_failure(app, assignment, student)
        rows.append(report_row(student, validations[student], sandbox_outcome(app, assignment, student), error))
        if made and rows[-1]["run"] == "reused":
            rows[-1]["run"] = "made"
        progress.done(student, rows[-1])

    if runner is None:
        for student in students:
            record(student)
    else:
        pending = {}
        for student in students:
            PREPARED_JOBS.pop(student, None)
            error = autograde_student(app, student, prepare_only=True)
            job = PREPARED_JOBS.pop(student, None)
            if job is None:  # finished before, unchanged (or nothing to run): graded in that pass
                record(student, graded=True, error=error)
            else:
                pending[runner.submit(job)] = job
        for future, result, failure in runner.finished(pending):
            job = pending[future]
            if failure is None:
                keep_run(app.config.SandboxedExecute.results_directory, job.key, result)
                record(job.student, made=True)
            else:
                record(job.student, graded=True, error=f"the sandbox run could not be made: {failure}")
    rows.sort(key=lambda row: students.index(row["student"]))
    scores = total_scores(app, assignment)
    for row in rows:
        row["score"], row["max_score"] = scores.get(row["student"], (None, None))
    return rows


def release_notebook(app: AutogradeApp, assignment: str) -> nbformat.NotebookNode:
    path = Path(app.coursedir.root, app.coursedir.release_directory, assignment, f"{assignment}.ipynb")
    if not path.is_file():
        raise GradingSetupError(f"there is no release notebook {path}: run `nbgrader generate_assignment "
                                f"{assignment}` first")
    return nbformat.read(path, as_version=4)


class ErrorLog(logging.Handler):
    """Keeps the error messages nbgrader logs while it grades one student."""

    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.messages.append(record.getMessage())

    def reason(self) -> str | None:
        """The exception nbgrader reports (last line of its traceback), else its first message."""
        tracebacks = [message for message in self.messages if message.startswith("Traceback")]
        if tracebacks:
            lines = [line for line in tracebacks[-1].strip().splitlines() if line.strip()]
            return f"nbgrader could not grade it: {lines[-1].strip()}"
        return f"nbgrader could not grade it: {self.messages[0]}" if self.messages else None


def autograde_student(app: AutogradeApp, student: str, prepare_only: bool = False) -> str | None:
    """nbgrader's autograde of one student's grading copy; the reason it failed, or None.

    ``prepare_only``: a student whose run is not finished is not run but left in
    ``PREPARED_JOBS`` (nbgrader logs it as a failure, which is not one: None is returned).
    """
    app.coursedir.student_id = glob.escape(student)  # a student id is a glob pattern to nbgrader
    app.config.SandboxedExecute.prepare_only = prepare_only
    errors = ErrorLog()
    app.log.addHandler(errors)
    try:
        converter = Autograde(coursedir=app.coursedir, parent=app)
        converter.start()
    except NbGraderException:
        pass  # nbgrader logged why
    except Exception as error:  # noqa: BLE001 - one student must not stop the batch
        errors.messages.append(f"{type(error).__name__}: {error}")
    finally:
        app.log.removeHandler(errors)
        app.config.SandboxedExecute.prepare_only = False
    if prepare_only and student in PREPARED_JOBS:
        return None
    return errors.reason()


class Progress:
    """One line per student recorded: how many are done and left, failures so far, time left."""

    def __init__(self, total: int):
        self.total, self.count, self.failures, self.start = total, 0, 0, time.perf_counter()

    def done(self, student: str, row: dict) -> None:
        self.count += 1
        self.failures += row["status"] == "failed"
        elapsed = time.perf_counter() - self.start
        left = self.total - self.count
        estimate = f", about {elapsed / self.count * left:.0f} s left" if left else ""
        print(f"[{self.count}/{self.total}] {student}: {row['status']} ({elapsed:.0f} s so far, {left} left, "
              f"{self.failures} failed{estimate})", file=sys.stderr, flush=True)


class LocalRunner:
    """Sandbox runs on this machine, ``jobs`` at a time (threads: each run is a sandboxed process).
    Each run is filed in ``runs`` as it finishes, so an interruption loses no finished run."""

    def __init__(self, jobs: int, runs: Path):
        self.pool = ThreadPoolExecutor(max_workers=jobs, thread_name_prefix="sandbox-run")
        self.runs = str(runs)

    def submit(self, job):
        def run_and_keep():
            executed = run_job(job)
            keep_run(self.runs, job.key, executed)
            return executed
        return self.pool.submit(run_and_keep)

    def finished(self, pending):
        """``(future, result, failure)`` as the runs finish (failure: None or a one-line reason)."""
        for future in as_completed(pending):
            error = future.exception()
            yield future, (None if error else future.result()), (None if error is None else one_line(error))

    def close(self):
        self.pool.shutdown(wait=False, cancel_futures=True)


class DaskRunner(LocalRunner):
    """Sandbox runs on a Dask cluster. A task lost with its worker is run again on another one."""

    def __init__(self, scheduler: str, runs: Path):
        self.runs = str(runs)
        try:
            from distributed import Client
        except ImportError as error:
            raise GradingSetupError("--scheduler needs Dask's distributed package (pip install distributed)") from error
        try:
            self.client = Client(scheduler, timeout="20s")
        except OSError as error:
            raise GradingSetupError(f"no Dask scheduler answers at {scheduler}: {one_line(error)}") from None

    def submit(self, job):
        return self.client.submit(run_job, job, pure=False, key=f"grade-{job.student}-{job.key[:16]}")

    def finished(self, pending):
        from distributed import as_completed as dask_completed

        for future in dask_completed(list(pending)):
            if future.status == "finished":
                yield future, future.result(), None
            else:
                yield future, None, one_line(future.exception())

    def close(self):
        self.client.close()


@contextlib.contextmanager
def job_runner(jobs: int, scheduler: str | None, runs: Path):
    """None (one student after another, here), a :class:`LocalRunner` or a :class:`DaskRunner`."""
    if jobs < 1:
        raise GradingSetupError(f"--jobs must be at least 1, not {jobs}")
    runner = DaskRunner(scheduler, runs) if scheduler else LocalRunner(jobs, runs) if jobs > 1 else None
    try:
        yield runner
    finally:
        if runner is not None:
            runner.close()


def one_line(error: BaseException | None) -> str:
    text = " ".join(str(error).split()) if error is not None else ""
    return f"{type(error).__name__}: {text}"[:300] if error is not None else "unknown"


def record_failure(app: AutogradeApp, assignment: str, student: str) -> str:
    """After a failed autograde: the student is in the gradebook with 0 points on every
    graded cell, flagged for manual grading (earlier scores would be stale). Returns a note
    for the reason when even that fails."""
    try:
        with Gradebook(app.coursedir.db_url, app.coursedir.course_id) as gradebook:
            gradebook.update_or_create_student(student)
            submission = gradebook.update_or_create_submission(assignment, student)
            for notebook in submission.notebooks:
                for grade in notebook.grades:
                    grade.auto_score = 0
                    grade.needs_manual_grade = True
            gradebook.db.commit()
    except Exception as error:  # noqa: BLE001
        return f"; the gradebook could not be updated either ({type(error).__name__}: {error})"
    return ""


def sandbox_outcome(app: AutogradeApp, assignment: str, student: str) -> dict | None:
    """What SandboxedExecute recorded in the autograded notebook, if nbgrader wrote one."""
    folder = Path(app.coursedir.format_path(app.coursedir.autograded_directory, student, assignment))
    try:
        return nbformat.read(folder / f"{assignment}.ipynb", as_version=4).metadata.get("sandbox")
    except (OSError, ValueError):
        return None


def total_scores(app: AutogradeApp, assignment: str) -> dict[str, tuple[float, float]]:
    with Gradebook(app.coursedir.db_url, app.coursedir.course_id) as gradebook:
        return {submission.student.id: (float(submission.score), float(submission.max_score))
                for submission in gradebook.assignment_submissions(assignment)}


def report_row(student: str, validation: Validation, outcome: dict | None, error: str | None) -> dict:
    """Status, reason and notes of one student (see the module docstring)."""
    outcome = outcome or {}
    notes = validation.notes + outcome.get("notes", [])
    if error is not None:
        status, reason = "failed", error
    elif not validation.gradable:
        status, reason = "not graded", validation.reason
    elif not outcome:
        status, reason = "failed", "nbgrader wrote no autograded notebook"
    elif not outcome.get("completed"):
        status, reason = "failed", outcome.get("reason")
    else:
        status = "repaired" if validation.notes else "normal"
        reason = "; ".join(outcome.get("interventions", []))
    run = "" if not outcome else "reused" if outcome.get("reused") else "made"
    return {"student": student, "score": None, "max_score": None, "status": status, "reason": reason or "",
            "notes": " | ".join(notes), "seconds": outcome.get("seconds", ""), "run": run}


def print_report(rows: list[dict], assignment: str, report: Path) -> None:
    width = max([len("student")] + [len(row["student"]) for row in rows])
    print(f"\n{'student':<{width}}  {'score':>6}  {'max':>5}  {'status':<10}  {'run':>12}  reason")
    for row in rows:
        score = "" if row["score"] is None else f"{row['score']:g}"
        max_score = "" if row["max_score"] is None else f"{row['max_score']:g}"
        run = f"{row['run']} {row['seconds']:.0f} s" if row.get("run") == "made" else row.get("run", "")
        print(f"{row['student']:<{width}}  {score:>6}  {max_score:>5}  {row['status']:<10}  {run:>12}  "
              f"{row['reason']}")
        for note in filter(None, row["notes"].split(" | ")):
            print(f"{'':<{width}}  note: {note}")
    counts = {status: sum(row["status"] == status for row in rows)
              for status in ("normal", "repaired", "not graded", "failed")}
    print(f"\n{assignment}: {len(rows)} students, " + ", ".join(f"{n} {status}" for status, n in counts.items())
          + f". Report: {report}")


if __name__ == "__main__":
    sys.exit(main())
