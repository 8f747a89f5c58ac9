"""Build and run the whole course: ``make course`` (or ``python -m course_autograde.run_course``).

1. regenerate the student notebooks in ``notebooks/`` from ``solutions/``;
2. execute every solution notebook, saving the worked copies (with outputs)
   to ``build/executed/`` and HTML versions to ``build/html/`` for readers;
3. autograde a demo class (the solution as one student, the untouched student
   notebook as another) with the real nbgrader commands and print the scores.

Fast mode is on by default here; ``COURSE_FAST=0 make course`` trains for real.
"""
from __future__ import annotations

import argparse
import shutil

from nbconvert import HTMLExporter

from course_utils import settings
from course_utils.settings import REPO_ROOT
from .course import GradingCourse
from .execute import execute_notebook
from .notebook_code import RELEASE_DIR, notebook_path
from .sync import assignments, generate_release

BUILD = REPO_ROOT / "build"


def run(names: list[str], fast: bool) -> int:
    print(f"== 1. student notebooks ({len(names)} assignments)")
    for path in generate_release(RELEASE_DIR, names):
        print(f"   {path.relative_to(REPO_ROOT)}")

    print(f"== 2. executing the solution notebooks ({'fast' if fast else 'full'} mode)")
    for name in names:
        executed = BUILD / "executed" / f"{name}.ipynb"
        nb, seconds = execute_notebook(notebook_path(name), executed, fast=fast)
        html = BUILD / "html" / f"{name}.html"
        html.parent.mkdir(parents=True, exist_ok=True)
        html.write_text(HTMLExporter().from_notebook_node(nb)[0])
        print(f"   {name}: {seconds:.0f} s -> {executed.relative_to(REPO_ROOT)}, {html.relative_to(REPO_ROOT)}")

    print("== 3. autograding a demo class with nbgrader")
    demo = BUILD / "demo-course"
    shutil.rmtree(demo, ignore_errors=True)
    course = GradingCourse(demo, names, fast=True)
    course.generate()
    failures = 0
    for name in names:
        course.submit("demo_solution", name, notebook_path(name))
        course.submit("demo_untouched", name, course.release_path(name))
        course.autograde(name)
        course.generate_feedback(name)
        for student, grades in sorted(course.scores(name).items()):
            score = sum(s for s, _ in grades.values())
            total = sum(m for _, m in grades.values())
            print(f"   {name:<28} {student:<16} {score:5.1f} / {total:.1f}")
            expected = total if student == "demo_solution" else 0.0
            failures += score != expected
    print(f"   feedback HTML in {(demo / 'autograde' / 'feedback').relative_to(REPO_ROOT)}")
    return 1 if failures else 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="default: all")
    args = parser.parse_args()
    fast = settings.fast_by_default()
    return run(args.assignments or assignments(), fast)


if __name__ == "__main__":
    raise SystemExit(main())
