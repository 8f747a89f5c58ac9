"""Produce the reference output vectors from the solution notebooks.

Each assignment of the registry (``course_utils.checks.ASSIGNMENTS``) runs
the solution's answers (imports + answer cells, see :mod:`.notebook_code`)
through its exercises' own ``run`` functions, the same calls the checks make
(``CHECKS.build_references``), and stores the outputs: the visible cases' in
``course_utils/reference_values/<assignment>.json`` (package data, shipped to
students), the hidden cases' in ``autograde/hidden_references/<assignment>.json``
(the instructor's side, read by the grader only).

    python -m course_autograde.make_references            # write all
    python -m course_autograde.make_references --check    # compare, write nothing
"""
from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from course_utils import checks, references
from .notebook_code import notebook_path, solution_namespace


def build(assignment: str, solutions_root: Path | None = None) -> dict:
    """Run the solution code of ``assignment`` on its reference cases."""
    path = notebook_path(assignment, solutions_root) if solutions_root else notebook_path(assignment)
    return checks.module(assignment).CHECKS.build_references(solution_namespace(path))


def write(assignment: str, directory: Path | None = None, hidden_directory: Path | None = None):
    """Both reference files of ``assignment`` (visible, hidden); returns their paths."""
    return references.save_parts(assignment, build(assignment), directory, hidden_directory)


# A fresh reference may differ from the stored one by this share of the exercise's grading tolerance: another
# CPU rounds float32 differently (1.9e-6 on outputs of ResidualUnit between two machines), while a change to
# the solution or the cases moves values by far more than the grading tolerance.
REGENERATION_SHARE = 0.1


def check(assignment: str) -> list[str]:
    """Differences between the stored references and freshly built ones (see :data:`REGENERATION_SHARE`)."""
    with tempfile.TemporaryDirectory() as tmp:
        write(assignment, Path(tmp) / "visible", Path(tmp) / "hidden")
        fresh = references.load(assignment, Path(tmp) / "visible", Path(tmp) / "hidden")
    return compare(assignment, references.load(assignment), fresh)


def tolerance(assignment: str, exercise: str) -> dict:
    """``atol`` and ``rtol`` within which two builds of ``exercise``'s references agree (:data:`REGENERATION_SHARE`)."""
    found = checks.module(assignment).CHECKS.by_name.get(exercise)
    if found is None:  # not an exercise's outputs: as exact as float32 allows
        return {"atol": 1e-6, "rtol": 0.0}
    return {"atol": found.atol * REGENERATION_SHARE, "rtol": found.rtol * REGENERATION_SHARE}


def compare(assignment: str, stored: dict, fresh: dict) -> list[str]:
    """Differences between two reference sets of ``assignment``, each exercise within its :func:`tolerance`."""
    problems = []
    for name in sorted(set(stored) | set(fresh)):
        problems += references.differences({name: stored[name]} if name in stored else {},
                                           {name: fresh[name]} if name in fresh else {}, **tolerance(assignment, name))
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description="Build reference vectors from the solution notebooks.")
    parser.add_argument("assignments", nargs="*", help="default: all")
    parser.add_argument("--check", action="store_true", help="compare with the stored files instead of writing")
    args = parser.parse_args()
    names = args.assignments or list(checks.ASSIGNMENTS)
    status = 0
    for name in names:
        if args.check:
            problems = check(name)
            print(f"{name}: {'up to date' if not problems else 'DIFFERS'}")
            for problem in problems:
                print(f"  {problem}")
            status |= bool(problems)
        else:
            print("wrote " + " and ".join(map(str, write(name))))
    return status


if __name__ == "__main__":
    sys.exit(main())
