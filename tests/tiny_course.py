"""A tiny nbgrader assignment without TensorFlow, for tests of the grading machinery.

Assignment ``tiny`` has one notebook, ``tiny.ipynb``: an imports cell and two
exercises, ``add(a, b)`` (1 point) and ``mean(values)`` (2 points), each
followed by a locked, graded check cell that calls its check on the course's
engine (``tiny_checks.py``), visible cases and hidden ones.
Its notebook is written with :mod:`course_autograde.authoring`, so the
metadata is the course's own, and it is graded by the real ``nbgrader``
commands with the course's configuration (through
:class:`course_autograde.course.GradingCourse`). One autograde of one
submission takes a few seconds.

Typical use::

    course = TinyCourse(tmp_path)
    course.generate()
    course.submit_answers("alice", CORRECT)
    course.submit_answers("bob", {"add": WRONG["add"]})   # the other answer stays unanswered
    course.autograde()
    course.scores(ASSIGNMENT)["alice"] == {"check_add": (1.0, 1.0), "check_mean": (2.0, 2.0)}
"""
from __future__ import annotations

import json
from pathlib import Path

import nbformat

import course_utils
import tiny_checks
from course_autograde import authoring
from course_autograde.course import GradingCourse
from course_autograde.notebook_code import notebook_path, read_notebook, replace_answers
from course_utils.references import HIDDEN_REFERENCES_ENV

TESTS_DIR = Path(__file__).resolve().parent

ASSIGNMENT = "tiny"
NOTEBOOK = f"{ASSIGNMENT}.ipynb"
POINTS = {"check_add": 1.0, "check_mean": 2.0}
FULL_MARKS = sum(POINTS.values())

CORRECT = {
    "add": "def add(a, b):\n    return a + b",
    "mean": "def mean(values):\n    return math.fsum(values) / len(values)",
}
WRONG = {
    "add": "def add(a, b):\n    return a - b",
    "mean": "def mean(values):\n    return sum(values) / (len(values) + 1)",
}


def source_cells() -> list:
    """The instructor's version of ``tiny.ipynb``, solutions included."""
    return [
        authoring.markdown("# A tiny assignment\n\nTwo small functions, graded by nbgrader."),
        authoring.imports("import math\n\nimport tiny_checks"),
        authoring.markdown("## 1. `add(a, b)`\n\nReturn the sum of `a` and `b`."),
        authoring.answer("add", f"### BEGIN SOLUTION\n{CORRECT['add']}\n### END SOLUTION"),
        authoring.check("add", visible="tiny_checks.check_add(add)",
                        hidden="tiny_checks.check_add(add, hidden=True)", points=POINTS["check_add"]),
        authoring.markdown("## 2. `mean(values)`\n\nReturn the arithmetic mean of a non-empty list."),
        authoring.answer("mean", f"### BEGIN SOLUTION\n{CORRECT['mean']}\n### END SOLUTION"),
        authoring.check("mean", visible="tiny_checks.check_mean(mean)",
                        hidden="tiny_checks.check_mean(mean, hidden=True)", points=POINTS["check_mean"]),
    ]


def write_source(solutions_dir: Path) -> Path:
    """Write ``<solutions_dir>/tiny/tiny.ipynb`` (the nbgrader source) and return its path."""
    return authoring.write_notebook(source_cells(), notebook_path(ASSIGNMENT, solutions_dir),
                                    title="A tiny assignment")


class TinyCourse(GradingCourse):
    """A throw-away nbgrader course holding only the ``tiny`` assignment.

    ``timeout`` (seconds per cell) replaces the course's generous limit for
    TensorFlow notebooks, so a looping submission fails fast.
    """

    def __init__(self, root: Path, timeout: int = 30):
        super().__init__(root, [])  # the course's nbgrader configuration, no course assignment
        self.assignments = [ASSIGNMENT]
        write_source(self.root / "solutions")
        # The kernels import tiny_checks; the grader (and unsandboxed nbgrader) read the hidden references.
        self.environment = {"PYTHONPATH": str(TESTS_DIR), HIDDEN_REFERENCES_ENV: str(tiny_checks.HIDDEN_REFERENCE_DIR)}
        sandbox_reads = [str(Path(course_utils.__file__).resolve().parent), str(TESTS_DIR / "tiny_checks.py"),
                         str(tiny_checks.REFERENCE_DIR)]
        with open(self.root / "nbgrader_config.py", "a") as config:
            config.write(f"\nc.ExecutePreprocessor.timeout = {timeout}\nc.Execute.timeout = {timeout}\n"
                         f"c.SandboxedExecute.read_only = {sandbox_reads!r}\n"
                         "c.SandboxedExecute.environment_variables.append('PYTHONPATH')\n"
                         "c.JudgeChecks.checks = 'tiny_checks.assignment_checks'\n")

    def release(self) -> nbformat.NotebookNode:
        """The student version of ``tiny.ipynb`` (run :meth:`generate` first)."""
        return read_notebook(self.release_path(ASSIGNMENT))

    def answered(self, answers: dict[str, str]) -> nbformat.NotebookNode:
        """The release with the given answers (exercise -> code); other answers stay unanswered."""
        return replace_answers(self.release(), answers)

    def submit_answers(self, student: str, answers: dict[str, str]) -> Path:
        """Hand in the release with ``answers`` as ``student``'s submission."""
        return self.submit(student, ASSIGNMENT, self.answered(answers))

    def submission_folder(self, student: str, submitted_dir: str = "autograde/submitted") -> Path:
        """``student``'s folder of the assignment, as nbgrader lays it out."""
        return self.root / submitted_dir / student / ASSIGNMENT

    def autograde(self, assignment: str = ASSIGNMENT, submitted_dir: str | None = None) -> str:
        """Grade every student in one nbgrader run, reading submissions from ``submitted_dir``.

        ``submitted_dir`` (relative to the course root) lets a test grade
        validated copies while the original submissions stay where they are.
        """
        extra = [f"--CourseDirectory.submitted_directory={submitted_dir}"] if submitted_dir else []
        return self.nbgrader("autograde", assignment, "--force", *extra)

    def total_scores(self) -> dict[str, tuple[float, float]]:
        """student -> (score, max score) summed over the check cells."""
        return {student: (sum(s for s, _ in grades.values()), sum(m for _, m in grades.values()))
                for student, grades in self.scores(ASSIGNMENT).items()}


def hand_in(folder: Path, content, name: str = NOTEBOOK) -> Path:
    """Write ``content`` (a notebook, text or bytes) as ``folder/name``, as a student might."""
    path = Path(folder) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:  # as built, not through nbformat.write, which would repair duplicated cell ids
        path.write_text(json.dumps(content, indent=1, ensure_ascii=False), encoding="utf-8")
    return path


def cell_index(nb, grade_id: str) -> int:
    """Index of the (first) cell of ``nb`` whose nbgrader grade_id is ``grade_id``."""
    return next(i for i, cell in enumerate(nb.cells)
                if cell.get("metadata", {}).get("nbgrader", {}).get("grade_id") == grade_id)
