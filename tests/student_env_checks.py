"""Run in a student's environment (``tests/test_release.py``): the visible checks of a release.

``python student_env_checks.py JOB.json RESULT.json``. The job gives, per assignment, the notebook's
import cells, the answers to try (the solution's, a catalogued mistake, a hard-coded one) and what
the check must say. Only the standard library and what the student package installs are used here:
the instructor's ``course_autograde`` and ``tests`` are not importable in that environment.
"""
from __future__ import annotations

import contextlib
import importlib
import io
import json
import sys


def run(sources: list[str]) -> dict:
    namespace: dict = {"__name__": "__student__"}
    for source in sources:
        exec(compile(source, "<student cell>", "exec"), namespace)
    return namespace


def check(checks, exercise: str, answer, hidden: bool = False) -> dict:
    """What the check cell shows: passed, or the failure's message."""
    out = io.StringIO()
    try:
        with contextlib.redirect_stdout(out):
            checks.CHECKS.check(exercise, answer, hidden)
    except checks.engine.CheckFailed as failure:
        return {"passed": False, "message": failure.message()}
    return {"passed": True, "message": out.getvalue()}


def main(job_path: str, result_path: str) -> None:
    job = json.loads(open(job_path).read())
    results: dict = {"modules": {}, "assignments": {}}
    for module in job["modules"]:
        try:
            importlib.import_module(module)
            results["modules"][module] = "imported"
        except ImportError as error:
            results["modules"][module] = f"{type(error).__name__}: {error}"
    for assignment, task in job["assignments"].items():
        checks = importlib.import_module(task["checks"])
        solution = run(task["imports"] + list(task["answers"].values()))
        found = {}
        for exercise in task["answers"]:
            found[f"solution/{exercise}"] = check(checks, exercise, solution[exercise])
            found[f"hidden/{exercise}"] = check(checks, exercise, solution[exercise], hidden=True)
        for entry in task["others"]:
            answers = {**task["answers"], entry["exercise"]: entry["code"]}
            namespace = run(task["imports"] + list(answers.values()))
            found[f"{entry['kind']}/{entry['id']}"] = check(checks, entry["exercise"], namespace[entry["exercise"]])
        results["assignments"][assignment] = found
    with open(result_path, "w") as out:
        json.dump(results, out, indent=1)


if __name__ == "__main__":
    main(*sys.argv[1:])
