"""nbgrader's verdicts on the check cells, made outside the grading sandbox.

In the sandbox (``COURSE_GRADING=observe``) a check cell's calls of the check
engine only publish *observations*: what the student's answer did on the
checks' cases (``course_utils.checks.engine``). ``JudgeChecks`` runs right
after ``SandboxedExecute``, in the grader's own process, which the student's
code cannot reach. For each graded cell that calls the engine
(``check_<exercise>(...)``, ``hidden=True`` for the hidden cases) it

1. takes the observation of each call, in order, from the cell's outputs;
2. judges it with the exercise's own ``Assignment.judge``, against the
   reference outputs: the hidden ones live on the instructor's side, and the
   sandbox never had them;
3. rewrites the cell's verdict: the pass line of each call that passed, and
   the message of the first that failed as the cell's one error output (so
   nbgrader scores it 0). What the kernel printed stays, except errors,
   observations and lines that claim a pass: the cell's verdict is the
   grader's alone.

A call without its observation (the check was patched away, the cell
crashed before it, the kernel stopped) fails with a message saying so; a cell
the sandbox already marked as not run keeps that reason. A check cell that
does not call the engine keeps nbgrader's usual in-kernel verdict.
"""
from __future__ import annotations

import re

from nbformat.v4 import new_output
from nbgrader.preprocessors import NbGraderPreprocessor
from nbgrader.utils import is_grade, is_solution
from traitlets import Unicode
from traitlets.utils.importstring import import_item

from course_utils.checks.core import FAIL_MARK, PASS_MARK, CheckFailed, passed_line
from course_utils.checks.engine import OBSERVATION_MIME

CALL = re.compile(r"\bcheck_(\w+)\((.*)\)\s*$")
STOPPED_NAMES = ("GradingStopped", "NotRun")


class JudgeChecks(NbGraderPreprocessor):
    """Judge the check cells' observations outside the sandbox (see the module docstring)."""

    checks = Unicode(
        "course_utils.checks.assignment_checks",
        help="Dotted name of a function: assignment id -> its check engine Assignment (KeyError: none).",
    ).tag(config=True)

    def preprocess(self, nb, resources):
        assignment = (resources.get("nbgrader") or {}).get("assignment")
        try:
            checks = import_item(self.checks)(assignment)
        except KeyError:
            return nb, resources
        problems = []
        for index, cell in enumerate(nb.cells):
            calls = engine_calls(cell, checks)
            if calls:
                problems += judge_cell(cell, calls, checks, self.log)
        nb.metadata.setdefault("sandbox", {})["judge_problems"] = problems
        return nb, resources


def engine_calls(cell, checks) -> list[tuple[str, str]]:
    """``[(exercise, part), ...]``: the engine checks a graded code cell calls, in order."""
    if cell.cell_type != "code" or not is_grade(cell) or is_solution(cell):
        return []
    calls = []
    for line in cell.source.splitlines():
        match = CALL.search(line.split("#")[0].strip())
        if match and match.group(1) in checks.by_name:
            hidden = re.search(r"\bhidden\s*=\s*True\b", match.group(2)) is not None
            calls.append((match.group(1), "hidden" if hidden else "visible"))
    return calls


def judge_cell(cell, calls, checks, log) -> list[str]:
    """Rewrite ``cell``'s verdict from its observations; returns the grader's own problems, if any."""
    outputs = list(cell.get("outputs", []))
    if any(o.get("output_type") == "error" and o.get("ename") in STOPPED_NAMES for o in outputs):
        return []  # the sandbox stopped before or in this cell: its reason stays
    observations = [o["data"][OBSERVATION_MIME] for o in outputs
                    if o.get("output_type") == "display_data" and isinstance(o.get("data", {}).get(OBSERVATION_MIME), dict)]
    errors = [o for o in outputs if o.get("output_type") == "error"]
    kept = [kept_stream(o) for o in outputs if o.get("output_type") == "stream"]
    verdict, problems = [], []
    for exercise, part in calls:
        observation = next((o for o in observations
                            if o.get("exercise") == exercise and o.get("part") == part), None)
        try:
            if observation is None:
                raise missing_observation(exercise, part, errors)
            observations.remove(observation)
            checks.judge(observation)
        except CheckFailed as failure:
            verdict.append(new_output("error", ename="CheckFailed", evalue=failure.message(),
                                      traceback=failure._render_traceback_()))
            break
        except Exception as error:  # the grader's fault, not the student's: say so, flag for a look
            problem = f"{exercise} ({part} cases): the grader could not judge it: {type(error).__name__}: {error}"
            log.error(problem)
            problems.append(problem)
            message = f"{FAIL_MARK} {problem}. Your instructor will grade this cell by hand."
            verdict.append(new_output("error", ename="GraderError", evalue=problem, traceback=[message]))
            break
        verdict.append(new_output("stream", name="stdout", text=passed_line(exercise, part == "hidden") + "\n"))
    cell.outputs = [o for o in kept if o is not None] + verdict
    return problems


def kept_stream(output):
    """A stream output without the lines that claim a verdict (only the grader gives one)."""
    lines = [line for line in output.get("text", "").splitlines(keepends=True)
             if not line.lstrip().startswith((PASS_MARK, FAIL_MARK))]
    return new_output("stream", name=output.get("name", "stdout"), text="".join(lines)) if lines else None


def missing_observation(exercise: str, part: str, errors: list) -> CheckFailed:
    found = "no record of it in the cell's outputs"
    if errors:
        found = f"{errors[0].get('ename', 'an error')}: {str(errors[0].get('evalue', '')).strip()[:200]}"
    return CheckFailed(f"the check of {exercise} ({part} cases) did not run", expected="the check's record of your answer",
                       found=found, hint="run the check cell as it is given, after the cells above it; an error "
                       "before the check, or a change to the course's checks, leaves the exercise ungraded (0 points).")
