"""A throw-away nbgrader course directory: release, submit, autograde, feedback.

Used by the tests and by ``run_course``; it drives the real ``nbgrader``
command line with this repository's configuration, in a directory of its own
so that nothing touches the instructor's gradebook.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from course_utils.settings import REPO_ROOT
from .notebook_code import SOLUTIONS_DIR, notebook_path


class NbgraderError(RuntimeError):
    pass


class GradingCourse:
    """An nbgrader course in ``root`` holding copies of the given assignments' sources."""

    def __init__(self, root: Path, assignments: list[str], fast: bool = True):
        self.root = Path(root)
        self.assignments = list(assignments)
        self.fast = fast
        self.environment: dict[str, str] = {}  # extra environment variables of the nbgrader commands
        (self.root / "autograde").mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO_ROOT / "autograde" / "nbgrader_config.py", self.root / "nbgrader_config.py")
        for assignment in self.assignments:
            target = self.root / "solutions" / assignment
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(SOLUTIONS_DIR / assignment, target,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))

    # -- nbgrader commands ------------------------------------------------
    def nbgrader(self, *args: str) -> str:
        env = {**os.environ, **self.environment}
        # nbgrader runs helper programs (alembic) and kernels found on PATH: use this environment's.
        env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
        env.pop("MPLBACKEND", None)  # feedback should show the figures (inline backend)
        if self.fast:
            env["COURSE_FAST"] = "1"
        result = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=self.root, env=env,
                                capture_output=True, text=True)
        log = result.stdout + result.stderr
        if result.returncode != 0 or "[ERROR]" in log:
            raise NbgraderError(f"nbgrader {' '.join(args)} failed (exit {result.returncode}):\n{log[-4000:]}")
        return log

    def generate(self) -> None:
        for assignment in self.assignments:
            self.nbgrader("generate_assignment", assignment, "--force")

    def autograde(self, assignment: str) -> str:
        """Grade every submitted student of ``assignment`` in one nbgrader run."""
        return self.nbgrader("autograde", assignment, "--force")

    def generate_feedback(self, assignment: str) -> str:
        return self.nbgrader("generate_feedback", assignment, "--force")

    # -- paths --------------------------------------------------------------
    def release_path(self, assignment: str) -> Path:
        return notebook_path(assignment, self.root / "notebooks")

    def submitted_path(self, student: str, assignment: str) -> Path:
        return self.root / "autograde" / "submitted" / student / assignment / f"{assignment}.ipynb"

    def feedback_path(self, student: str, assignment: str) -> Path:
        return self.root / "autograde" / "feedback" / student / assignment / f"{assignment}.html"

    def autograded_path(self, student: str, assignment: str) -> Path:
        return self.root / "autograde" / "autograded" / student / assignment / f"{assignment}.ipynb"

    def autograded(self, student: str, assignment: str) -> nbformat.NotebookNode:
        """``student``'s notebook as nbgrader graded it, outputs included."""
        return nbformat.read(self.autograded_path(student, assignment), as_version=4)

    def error_outputs(self, student: str, assignment: str) -> list[tuple[int, str]]:
        """(cell index, error name) of every cell that raised when ``student``'s notebook was graded."""
        nb = nbformat.read(self.autograded_path(student, assignment), as_version=4)
        return [(index, output.get("ename", "")) for index, cell in enumerate(nb.cells)
                if cell.cell_type == "code" for output in cell.get("outputs", [])
                if output.get("output_type") == "error"]

    def submit(self, student: str, assignment: str, nb) -> Path:
        """Place notebook ``nb`` (a NotebookNode or a path) as ``student``'s submission."""
        target = self.submitted_path(student, assignment)
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(nb, (str, Path)):
            shutil.copy(nb, target)
        else:
            nbformat.write(nb, target)
        return target

    # -- results --------------------------------------------------------------
    def scores(self, assignment: str) -> dict[str, dict[str, tuple[float, float]]]:
        """student -> check grade_id -> (score, max score)."""
        from nbgrader.api import Gradebook

        with Gradebook(f"sqlite:///{self.root / 'autograde' / 'gradebook.db'}") as gradebook:
            result: dict[str, dict[str, tuple[float, float]]] = {}
            for submission in gradebook.assignment_submissions(assignment):
                for nb in submission.notebooks:
                    for grade in nb.grades:
                        result.setdefault(submission.student_id, {})[grade.name] = (
                            float(grade.score), float(grade.max_score))
            return result
