"""nbgrader's ``Execute`` step, run in the grading sandbox.

``SandboxedExecute`` takes the place of ``Execute`` in
``Autograde.autograde_preprocessors`` (see ``course_autograde/grade_config.py``).
It is an ``Execute`` as far as configuration goes: the ``c.Execute`` settings
(per-cell timeout, interrupting, kernel name) apply unless set for
``SandboxedExecute`` itself (the grade command sets its ``timeout``), and
``--no-execute`` switches it off. But no kernel starts next to the gradebook.
For each notebook it

1. copies the folder nbgrader runs the notebook in (the student's files) into
   a fresh scratch folder, the only folder the sandbox may write;
2. runs ``sandbox_execute.py`` (nbclient and the kernel) in
   :func:`course_autograde.sandbox.run_sandboxed`, with the notebook and a
   fresh key on stdin, under a wall-clock budget for the whole notebook, a
   memory limit and a process limit; of the course machine's files it can
   read only the system folders, the virtual environment,
   ``sandbox_execute.py``, ``read_only`` (the course's importable code) and,
   with ``course_files``, the data folder, the hidden cases' inputs (not
   their expected values) and the pretrained backbone;
3. puts each cell's outputs (capped per cell and per notebook) back into the
   notebook from the executor's signed records;
4. when the run stopped early (a kernel that died, a cell that ignored the
   interrupt, the memory limit, the notebook's time limit, a killed executor),
   adds an error output naming the reason to the cell that was running and a
   "not run" error to every graded cell after it, so nbgrader scores them 0
   (a graded cell without outputs would get full marks);
5. records what happened in the notebook's metadata (``sandbox``: completed,
   reason, interventions, notes), where the grade command reads it.

The rest of nbgrader's pipeline (LimitOutput, SaveAutoGrades, ...) then runs
on the notebook as usual.
"""
from __future__ import annotations

import hashlib
import json
import os
import secrets
import shutil
import stat
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import nbformat
from nbformat.v4 import new_output
from nbgrader.preprocessors import Execute
from nbgrader.utils import is_grade
from traitlets import Bool, Float, Integer, List, Unicode

import course_utils
from course_utils.checks.engine import GRADING_ENV
from .. import sandbox_execute
from ..sandbox import GiB, Limits, SandboxResult, run_sandboxed
from ..sandbox_execute import Records, megabytes, read_records

EXECUTOR = Path(sandbox_execute.__file__).resolve()
# The Execute (nbclient) settings that shape a run; they are passed to the executor.
EXECUTE_SETTINGS = ("timeout", "startup_timeout", "interrupt_on_timeout", "error_on_timeout",
                    "raise_on_iopub_timeout", "iopub_timeout", "allow_errors", "allow_error_names",
                    "extra_arguments", "kernel_name", "skip_cells_with_tag")
RECORD_BYTES_PER_CELL = 64 * 1024  # a cell's shortened grade-deciding outputs, note and record framing
# The settings a run depends on (with EXECUTE_SETTINGS), carried by its Job.
JOB_SETTINGS = (*EXECUTE_SETTINGS, "notebook_timeout", "memory_limit", "process_limit", "cell_output_limit",
                "notebook_output_limit", "read_only", "environment_variables", "course_files")
HOW_SETTINGS = ("scratch_directory", "cpus")  # where and with how many threads: not part of what runs
JOB_FILES_LIMIT = 64 * 2**20  # bytes of a student's folder carried by a job
PREPARED_JOBS: dict = {}  # student -> Job, filed by a prepare_only run (the grade command takes them)
STOPPED = "GradingStopped"
NOT_RUN = "NotRun"


class SandboxedExecute(Execute):
    """Execute the notebook in the bubblewrap sandbox (see the module docstring)."""

    notebook_timeout = Float(
        600.0, help="Wall-clock limit for running the whole notebook, kernel start-up included, in seconds."
    ).tag(config=True)
    memory_limit = Integer(
        4 * GiB, help="Memory the kernel and everything it starts may use together, in bytes."
    ).tag(config=True)
    process_limit = Integer(512, help="Processes and threads the notebook may have at once.").tag(config=True)
    cell_output_limit = Integer(
        2_000_000, help="Bytes of output kept per cell; the rest is left out with a note."
    ).tag(config=True)
    notebook_output_limit = Integer(
        20_000_000, help="Bytes of output kept for the whole notebook."
    ).tag(config=True)
    read_only = List(
        Unicode(), default_value=[str(Path(course_utils.__file__).resolve().parent)],
        help="Host folders the notebook may read (read-only, at their own paths), besides the virtual "
             "environment. The default is the course's importable code (course_utils).",
    ).tag(config=True)
    environment_variables = List(
        Unicode(), default_value=["NBGRADER_EXECUTION", "COURSE_FAST", "COURSE_DATA_DIR", "TF_CPP_MIN_LOG_LEVEL"],
        help="Environment variables passed into the sandbox when they are set; of the grader's environment "
             "nothing else goes in (the sandbox sets PATH, HOME, LANG and TMPDIR).",
    ).tag(config=True)
    course_files = Bool(
        True, help="Also let the notebook read the course's data folder, the inputs of the hidden cases and "
                   "the pretrained backbone (read-only), and point it at them (COURSE_DATA_DIR, "
                   "COURSE_HIDDEN_CASES, COURSE_BACKBONE_PATH)."
    ).tag(config=True)
    scratch_directory = Unicode(
        "", help="Where the scratch folders are made (default: the system's temporary folder)."
    ).tag(config=True)
    cpus = Integer(None, allow_none=True, help="Thread-pool size hint for the notebook (not enforced).").tag(
        config=True)
    student_package = Bool(
        True, help="For a course assignment, run the notebook on course_utils as a student of that week has it "
                   "(course_autograde.release: without the reference code of the graded assignment and of the "
                   "later ones) instead of the instructor's whole package in read_only."
    ).tag(config=True)

    results_directory = Unicode(
        "", help="A folder of finished sandbox runs, filed by the content of what ran (the notebook, the "
                 "student's files, the settings): a run found there is not made again. The grade command "
                 "sets it, so that a rerun or a parallel grading reuses finished runs."
    ).tag(config=True)
    prepare_only = Bool(
        False, help="Run nothing: when no finished run is found, file the job in PREPARED_JOBS and raise "
                    "NotPrepared (the grade command runs the job elsewhere, then grades again)."
    ).tag(config=True)

    def preprocess(self, nb, resources):
        grading = resources.get("nbgrader") or {}
        student = grading.get("student", "notebook")
        job = self.job(nb, Path((resources.get("metadata") or {}).get("path") or "."), student,
                       grading.get("assignment"))
        executed = finished_run(self.results_directory, job.key)
        reused = executed is not None
        if executed is None:
            if self.prepare_only:
                PREPARED_JOBS[student] = job
                raise NotPrepared(f"{student}: the sandbox run is prepared, to be made elsewhere")
            executed = run_job(job)
            keep_run(self.results_directory, job.key, executed)
        nb = nbformat.from_dict(executed)
        nb.metadata["sandbox"]["reused"] = reused
        if not nb.metadata["sandbox"]["completed"]:
            self.log.warning("%s: %s", student, nb.metadata["sandbox"]["reason"])
        return nb, resources

    def job(self, nb, folder: Path, student: str, assignment: str | None = None) -> "Job":
        """What the run needs, self-contained (it may run on another machine): the notebook, the
        files of the folder it runs in, the course package it runs on, the settings and the
        environment; ``key`` identifies it."""
        files = folder_files(folder)
        package = student_package(assignment) if self.student_package else {}
        backbone = uses_backbone(assignment)
        settings = {name: getattr(self, name) for name in JOB_SETTINGS}
        environment = self.sandbox_environment()
        digest = hashlib.sha256(json.dumps([nb, settings, environment], sort_keys=True, default=str).encode())
        for prefix, contents in ((b"", files), (b"package:", package)):
            for name, content in sorted(contents.items()):
                digest.update(prefix + name.encode() + b"\0" + hashlib.sha256(content).digest())
        settings.update({name: getattr(self, name) for name in HOW_SETTINGS})  # not in the key
        return Job(student, digest.hexdigest(), json.loads(json.dumps(nb)), files, settings, environment, package,
                   backbone)

    def execute(self, nb, folder: Path, environment: dict[str, str], package: dict[str, bytes] | None = None,
                backbone: bool = False):
        """Run ``nb`` in the sandbox in a scratch copy of ``folder``; the notebook with its outputs.

        ``package``: the files of the ``course_utils`` it runs on (read-only, first on its path);
        without one, the ``read_only`` folders as configured. ``backbone``: the notebook loads the
        pretrained backbone (:func:`uses_backbone`)."""
        key = secrets.token_bytes(32)
        scratch = Path(tempfile.mkdtemp(prefix="grading-", dir=self.scratch_directory or None))
        code = Path(tempfile.mkdtemp(prefix="grading-package-", dir=self.scratch_directory or None))
        try:
            shutil.copytree(folder, scratch, symlinks=True, dirs_exist_ok=True)
            course_paths, course_environment = self.course_files_and_settings(backbone)
            read_only = [Path(path) for path in self.read_only]
            if package:
                for name, content in package.items():
                    target = code / "course_utils" / name
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(content)
                read_only = [code, *(path for path in read_only if path.resolve() != PACKAGE_DIR)]
                course_environment["PYTHONPATH"] = str(code)  # before the instructor's editable install
            result = run_sandboxed(
                [sys.executable, "-I", str(EXECUTOR)], scratch=scratch,
                read_only=[EXECUTOR, *read_only, *course_paths],
                env={**environment, **course_environment},
                limits=self.limits(nb), stdin=self.request(nb, key))
        finally:
            remove_tree(scratch)
            shutil.rmtree(code, ignore_errors=True)
        nb.metadata["sandbox"] = merge_records(nb, read_records(result.stdout, key), result, self)
        return nb

    def limits(self, nb) -> Limits:
        code_cells = sum(cell.cell_type == "code" for cell in nb.cells)
        return Limits(seconds=self.notebook_timeout, memory_bytes=self.memory_limit, processes=self.process_limit,
                      output_bytes=self.notebook_output_limit + RECORD_BYTES_PER_CELL * (code_cells + 1) + 2**20,
                      cpus=self.cpus)

    def course_files_and_settings(self, backbone: bool) -> tuple[list[Path], dict[str, str]]:
        """The data folder, the hidden cases and the backbone's files (the pretrained one, else the
        stand-in of fast mode when the notebook loads a ``backbone``), when they exist, and the settings
        naming them."""
        if not self.course_files:
            return [], {}
        from course_utils import backbones, pretrain, settings
        from course_utils.checks import engine

        paths, environment = [], {}
        data = settings.data_dir().resolve()
        if data.is_dir():
            paths.append(data)
            environment[settings.DATA_ENV] = str(data)
        hidden_cases = engine.hidden_cases_dir().resolve()
        if hidden_cases.is_dir():  # the inputs of the hidden cases (their expected values stay outside)
            paths.append(hidden_cases)
            environment[engine.HIDDEN_CASES_ENV] = str(hidden_cases)
        weights = backbones.weights_path().resolve()
        if weights.exists():
            paths += [path for path in (weights, backbones.manifest_path(weights)) if path.exists()]
            environment[backbones.BACKBONE_PATH_ENV] = str(weights)
        elif backbone:
            stand_in = ensure_stand_in()  # one for the batch, not one trained in every sandbox
            if stand_in is not None:
                paths.append(stand_in)
                environment[pretrain.STAND_IN_ENV] = str(stand_in)
        return paths, environment

    def sandbox_environment(self) -> dict[str, str]:
        passed_in = {name: os.environ[name] for name in self.environment_variables if name in os.environ}
        return {**passed_in, GRADING_ENV: "observe"}  # the check cells publish observations for JudgeChecks

    def request(self, nb, key: bytes) -> bytes:
        settings = {name: getattr(self, name) for name in EXECUTE_SETTINGS}
        settings.update(cell_output_bytes=self.cell_output_limit, notebook_output_bytes=self.notebook_output_limit)
        return json.dumps({"key": key.hex(), "notebook": nb, "settings": settings}).encode()


PACKAGE_DIR = Path(course_utils.__file__).resolve().parent


def uses_backbone(assignment: str | None) -> bool:
    """The registry says that ``assignment``'s notebook loads the pretrained backbone (06)."""
    from course_utils import checks

    try:
        return checks.assignment_checks(assignment).uses_backbone
    except KeyError:  # not a course assignment (a test's, another course's)
        return False


@lru_cache(maxsize=None)
def ensure_stand_in() -> Path | None:
    """The stand-in backbone's weights, trained (about half a minute) into the grader's cache if missing;
    None, with a note, when that fails: each sandbox then trains its own."""
    from course_utils import pretrain

    path = pretrain.stand_in_path()
    if not path.is_file():
        print("grading: no pretrained backbone (make backbone): training the fast-mode stand-in once for the batch",
              flush=True)
        done = subprocess.run([sys.executable, "-m", "course_utils.pretrain", "--stand-in"], check=False,
                              capture_output=True, text=True,
                              env={**os.environ, "COURSE_FAST": "1", "TF_CPP_MIN_LOG_LEVEL": "2"})
        if done.returncode != 0 or not path.is_file():
            lines = (done.stderr or done.stdout or "no output").strip().splitlines()
            print(f"grading: the stand-in backbone could not be made ({lines[-1]}); each sandbox trains its own",
                  flush=True)
            return None
    return path.resolve()


@lru_cache(maxsize=None)
def student_package(assignment: str | None) -> dict[str, bytes]:
    """The files of ``course_utils`` as a student of ``assignment``'s week has them (that assignment
    open, the earlier ones closed: ``course_autograde.release``); empty for another notebook."""
    from .. import release

    if assignment not in release.ASSIGNMENTS:
        return {}
    index = release.ASSIGNMENTS.index(assignment)
    plan = release.plan(release.ASSIGNMENTS[:index + 1], release.ASSIGNMENTS[:index])
    return {name: (release.PACKAGE_DIR / name).read_bytes() for name in sorted(plan.files)}


class NotPrepared(RuntimeError):
    """A prepare_only run found no finished run: the job is in PREPARED_JOBS."""


@dataclass
class Job:
    """One notebook's sandbox run, self-contained: it can be made in another thread, process or machine."""

    student: str
    key: str                       # content hash of what runs (notebook, files, settings, environment)
    notebook: dict
    files: dict[str, bytes]        # the folder it runs in: relative path -> content
    settings: dict                 # SandboxedExecute settings
    environment: dict[str, str]    # the variables passed into the sandbox
    package: dict[str, bytes] = field(default_factory=dict)  # course_utils as the student has it
    backbone: bool = False         # it loads the pretrained backbone (lent read-only, or the stand-in)


def run_job(job: Job) -> dict:
    """Make ``job``'s run (on this machine); the executed notebook, as JSON-ready data."""
    with tempfile.TemporaryDirectory(prefix="grading-job-") as folder:
        for name, content in job.files.items():
            target = Path(folder, name).resolve()
            if not target.is_relative_to(Path(folder).resolve()):
                continue  # a path that leaves the folder: not the student's file
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
        settings = dict(job.settings)
        if settings.get("scratch_directory") and not Path(settings["scratch_directory"]).is_dir():
            settings["scratch_directory"] = ""  # another machine: its own temporary folder
        executor = SandboxedExecute(**settings)
        executed = executor.execute(nbformat.from_dict(job.notebook), Path(folder), job.environment, job.package,
                                    job.backbone)
        return json.loads(json.dumps(executed))


def folder_files(folder: Path) -> dict[str, bytes]:
    files, total = {}, 0
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            content = path.read_bytes()
            total += len(content)
            if total > JOB_FILES_LIMIT:
                raise RuntimeError(f"the student's folder {folder} holds over {megabytes(JOB_FILES_LIMIT)}")
            files[str(path.relative_to(folder))] = content
    return files


def finished_run(directory: str, key: str) -> dict | None:
    """The finished run filed under ``key`` in ``directory``, if any (and readable)."""
    if not directory:
        return None
    try:
        return json.loads(Path(directory, f"{key}.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def keep_run(directory: str, key: str, executed: dict) -> None:
    """File a finished run (written whole, then renamed: a crash leaves no half-written run)."""
    if not directory:
        return
    Path(directory).mkdir(parents=True, exist_ok=True)
    partial = Path(directory, f".{key}.{os.getpid()}.partial")
    partial.write_text(json.dumps(executed), encoding="utf-8")
    partial.replace(Path(directory, f"{key}.json"))


def remove_tree(path: Path) -> None:
    """Remove the scratch folder even where the notebook took its own permissions away."""
    def make_writable_and_retry(function, failed, _):
        os.chmod(os.path.dirname(failed), stat.S_IRWXU)
        if os.path.isdir(failed) and not os.path.islink(failed):
            os.chmod(failed, stat.S_IRWXU)
        function(failed)

    shutil.rmtree(path, onerror=make_writable_and_retry)


# -- from records to the graded notebook ---------------------------------------------

def merge_records(nb, records: Records, result: SandboxResult, settings: SandboxedExecute) -> dict:
    """Put the executor's outputs into ``nb`` and return what happened (the ``sandbox`` metadata)."""
    code_cells = [index for index, cell in enumerate(nb.cells) if cell.cell_type == "code"]
    reported = set()
    for record in records.of_type("cell"):
        index = record.get("index")
        if index in code_cells:
            nb.cells[index].outputs = clean_outputs(record.get("outputs"))
            count = record.get("execution_count")
            nb.cells[index].execution_count = count if isinstance(count, int) else None
            reported.add(index)
    language_info = next((record.get("value") for record in records.of_type("language_info")), None)
    if isinstance(language_info, dict):
        nb.metadata["language_info"] = language_info

    interventions = [describe_intervention(nb, record, settings) for record in records.records
                     if record.get("type") in ("interrupted", "restored")]
    if records.foreign_lines:
        interventions.append(f"{records.foreign_lines} line(s) that the grader did not write appeared in its "
                             "report from the sandbox (ignored)")
    notes = [f"{cell_name(nb, record['index'])}: {megabytes(record['dropped'])} of output left out (over the "
             "output limit)" for record in records.of_type("cell") if record.get("dropped")]

    stop_at = next((index for index in code_cells if index not in reported), None)
    completed = stop_at is None
    reason = None
    if not completed:
        stopped = next(iter(records.of_type("stopped")), None)
        reason = stop_reason(nb, stop_at, stopped, records, result, settings)
        mark_stop(nb, stop_at, reason, stopped)
    return {"completed": completed, "stopped_at": stop_at, "reason": reason, "interventions": interventions,
            "notes": notes, "seconds": round(result.seconds, 1)}


def cell_name(nb, index: int | None) -> str:
    """How a teacher finds the cell: its nbgrader id, else its number."""
    if index is None or not 0 <= index < len(nb.cells):
        return "the notebook"
    grade_id = nb.cells[index].metadata.get("nbgrader", {}).get("grade_id")
    return f"cell '{grade_id}'" if grade_id else f"cell {index + 1}"


def describe_intervention(nb, record: dict, settings: SandboxedExecute) -> str:
    name = cell_name(nb, record.get("index"))
    if record["type"] == "interrupted":
        return f"{name} ran over the {settings.timeout:g} s limit per cell and was interrupted"
    names = ", ".join(str(item) for item in record.get("names", []))
    return f"before {name}, the grader put back helpers that the notebook had replaced: {names}"


def stop_reason(nb, index: int, stopped: dict | None, records: Records, result: SandboxResult,
                settings: SandboxedExecute) -> str:
    """One line for the teacher: why the run ended before ``index`` finished."""
    name = cell_name(nb, index)
    if result.out_of_memory:
        return f"the notebook used more than its {settings.memory_limit / GiB:g} GiB of memory while {name} was running"
    if result.timed_out:
        return f"the notebook ran over its {settings.notebook_timeout:g} s time limit while {name} was running"
    if stopped is not None:
        why, detail = stopped.get("why"), str(stopped.get("detail", ""))
        if why == "ignored-interrupt":
            return f"{name} ran over the {settings.timeout:g} s limit per cell and did not stop when interrupted"
        if why == "timed-out":
            return f"{name} ran over the {settings.timeout:g} s limit per cell"
        if why == "late-output":
            return f"{name} finished, but its outputs were still arriving {detail} s later"
        if why == "kernel-died":
            return f"{detail} while {name} was running"
        if not records.of_type("running"):
            return f"the kernel did not start ({detail})"
        return f"the grader lost contact with the kernel while {name} was running ({detail})"
    if records.broken_at is not None:
        return (f"the grader's report from the sandbox was cut short or replayed (record {records.broken_at}): "
                f"nothing after {name} started is trusted")
    if not records.records:
        return f"the grading sandbox did not start ({result.reason or 'no report'}): {result.stderr_text[-300:]}"
    if result.stdout_truncated:
        return f"the grader's report from the sandbox grew over its size limit while {name} was running"
    return f"the grading process ended early ({result.reason or 'no report'}) while {name} was running"


def mark_stop(nb, index: int, reason: str, stopped: dict | None) -> None:
    """The running cell gets the reason as an error; every graded cell after it a "not run" error."""
    cell = nb.cells[index]
    partial = stopped.get("outputs") if stopped and stopped.get("index") == index else []
    traceback = [f"{STOPPED}: {reason}. The cells below were not run."]
    stderr = str(stopped.get("stderr", "")).strip() if stopped else ""
    if stderr:
        traceback += ["", "The kernel's last messages:", *stderr.splitlines()[-20:]]
    cell.outputs = clean_outputs(partial) + [new_output("error", ename=STOPPED, evalue=reason, traceback=traceback)]
    for later in nb.cells[index + 1:]:
        if later.cell_type == "code" and is_grade(later):
            message = f"not run: grading stopped at {cell_name(nb, index)}"
            later.outputs = [new_output("error", ename=NOT_RUN, evalue=message, traceback=[f"{NOT_RUN}: {message}"])]


def clean_outputs(outputs) -> list:
    """The outputs that are valid nbformat outputs (the kernel's messages are untrusted), with
    characters UTF-8 cannot store replaced."""
    cleaned = []
    for output in outputs if isinstance(outputs, list) else []:
        text = json.dumps(output, ensure_ascii=False).encode("utf-8", "replace").decode("utf-8")
        node = nbformat.from_dict(json.loads(text))
        try:
            nbformat.validate(node, ref="output", version=4, version_minor=5)
        except nbformat.ValidationError:
            continue
        cleaned.append(node)
    return cleaned
