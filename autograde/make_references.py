"""Produce the reference output vectors from the solution notebooks.

Each assignment of the registry (``course_utils.checks.ASSIGNMENTS``) runs
the solution's answers (imports + answer cells, see :mod:`.notebook_code`)
through its exercises' own ``run`` functions, the same calls the checks make
(``CHECKS.build_references``), and stores the outputs in
``course_utils/reference_values/<assignment>.json``.

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


def write(assignment: str, directory: Path | None = None) -> Path:
    return references.save(assignment, build(assignment), directory)


def check(assignment: str) -> list[str]:
    """Differences between the stored references and freshly built ones."""
    with tempfile.TemporaryDirectory() as tmp:
        write(assignment, Path(tmp))
        return references.differences(references.load(assignment), references.load(assignment, Path(tmp)))


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
            print(f"wrote {write(name)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
