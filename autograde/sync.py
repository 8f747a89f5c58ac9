"""Regenerate the student notebooks in ``notebooks/`` from ``solutions/``.

``python -m course_autograde.sync`` runs ``nbgrader generate_assignment`` in a
temporary course directory (so the instructor's gradebook is untouched) and
copies the released files into ``notebooks/``. The tests run the same
generation and compare, so the committed student notebooks never drift.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

from .course import GradingCourse
from .notebook_code import RELEASE_DIR, SOLUTIONS_DIR


def assignments() -> list[str]:
    return sorted(p.name for p in SOLUTIONS_DIR.iterdir() if p.is_dir() and not p.name.startswith("."))


def generate_release(target: Path, names: list[str] | None = None) -> list[Path]:
    """Generate the student version of each assignment into ``target/<assignment>/``."""
    names = names or assignments()
    written = []
    with tempfile.TemporaryDirectory() as tmp:
        course = GradingCourse(Path(tmp), names)
        course.generate()
        for name in names:
            destination = Path(target) / name
            if destination.exists():
                shutil.rmtree(destination)
            shutil.copytree(Path(tmp) / "notebooks" / name, destination)
            written += sorted(destination.rglob("*.ipynb"))
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: every folder in solutions/")
    args = parser.parse_args()
    for path in generate_release(RELEASE_DIR, args.assignments or None):
        print(f"wrote {path.relative_to(RELEASE_DIR.parent)}")


if __name__ == "__main__":
    main()
