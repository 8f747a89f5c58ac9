"""Regenerate the student notebooks in ``notebooks/`` from ``solutions/``.

``python -m course_autograde.sync`` runs ``nbgrader generate_assignment`` in a
temporary course directory (so the instructor's gradebook is untouched) and
copies the released files into ``notebooks/``. The tests run the same
generation and compare, so the committed student notebooks never drift.
"""
from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

from course_utils import checks
from course_utils.settings import REPO_ROOT
from .course import GradingCourse
from .notebook_code import RELEASE_DIR, SOLUTIONS_DIR

BACKUP_DIR = REPO_ROOT / "build" / "backups"


def assignments() -> list[str]:
    """The course's assignments, in order: the registry ``course_utils.checks.ASSIGNMENTS``."""
    return list(checks.ASSIGNMENTS)


def source_folders() -> list[str]:
    """The assignment folders found in ``solutions/`` (a test checks they are all registered)."""
    return sorted(p.name for p in SOLUTIONS_DIR.iterdir() if p.is_dir() and not p.name.startswith("."))


def _committed_text(path: Path) -> str | None:
    """The version of ``path`` in git's HEAD, or None (not in git, or no git)."""
    try:
        relative = path.resolve().relative_to(REPO_ROOT)
        return subprocess.run(["git", "show", f"HEAD:{relative.as_posix()}"], cwd=REPO_ROOT,
                              capture_output=True, text=True, check=True).stdout
    except (ValueError, OSError, subprocess.CalledProcessError):
        return None


def back_up_local_work(folder: Path, new_folder: Path) -> list[Path]:
    """Copy notebooks in ``folder`` that hold work found neither in git nor in the new release.

    Students work in ``notebooks/``: regenerating it must never lose their answers.
    """
    saved = []
    for notebook in sorted(Path(folder).rglob("*.ipynb")):
        if ".ipynb_checkpoints" in notebook.parts:
            continue
        text = notebook.read_text(errors="replace")
        replacement = Path(new_folder) / notebook.relative_to(folder)
        if (replacement.exists() and replacement.read_text() == text) or _committed_text(notebook) == text:
            continue
        BACKUP_DIR.mkdir(parents=True, exist_ok=True)
        backup = BACKUP_DIR / f"{notebook.stem}-{time.strftime('%Y%m%d-%H%M%S')}.ipynb"
        shutil.copy2(notebook, backup)
        print(f"{notebook} had changes of yours: kept a copy in {backup}")
        saved.append(backup)
    return saved


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
                back_up_local_work(destination, Path(tmp) / "notebooks" / name)
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
