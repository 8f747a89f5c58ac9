"""The sandboxed grader vs plain ``nbgrader autograde``, on the same class of notebook-01 submissions.

    python -m benchmarks.sandbox_grading [--students 12] [--rounds 2]

The class, handed in once into a throw-away nbgrader course: the solution, the untouched
release, and students who each hand in catalogued answers (``tests/catalogues``): for every
exercise, the next mistake or alternative of its catalogue, on top of the solution's other
answers. Each round grades the whole class with both graders, in alternating order (plain
first in odd rounds), each regrading every student (``--force``), in fast mode as the course
grades. Printed: seconds per grader and round, their ratio (plain / sandboxed: 1.0 means the
sandbox costs nothing, the goal is at least 0.85), and whether every student got the same
score from both (the class has no hostile student, so they must). The figures go to
``benchmarks/results/sandbox-grading-<assignment>-<date>.json``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from course_autograde.course import GradingCourse
from course_autograde.notebook_code import answer_sources, notebook_path, read_notebook, replace_answers
from course_utils.settings import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "tests"))  # the answer catalogues are test data
from catalogue import catalogues  # noqa: E402

GOAL = 0.85
RESULTS = REPO_ROOT / "benchmarks" / "results"


BROKEN = {  # answers whose code does not even run: a syntax error, a name that is not defined
    "broken_syntax": "def {name}(*args, **kwargs):\n    return (",
    "broken_name": "def {name}(*args, **kwargs):\n    return undefined_helper(*args)",
}


def class_answers(assignment: str, students: int, broken: bool = False) -> dict[str, dict[str, str]]:
    """student -> answers (exercise -> code): the solution, the release untouched, with ``broken`` the
    students of :data:`BROKEN` (in every exercise), then students with catalogued answers."""
    solution = answer_sources(read_notebook(notebook_path(assignment)))
    catalogue = catalogues()[assignment]
    entries = {exercise: [e for e in catalogue.MISTAKES + catalogue.ALTERNATIVES if e.exercise == exercise]
               for exercise in solution}
    answers = {"solution": dict(solution), "untouched": {}}
    if broken:
        for student, template in BROKEN.items():
            answers[student] = {exercise: template.format(name=exercise) for exercise in solution}
    for index in range(max(0, students - len(answers))):
        handed_in = {exercise: options[index % len(options)].code for exercise, options in entries.items() if options}
        answers[f"student_{index + 1:02d}"] = {**solution, **handed_in}
    return answers


def hand_in(course: GradingCourse, assignment: str, answers: dict[str, dict[str, str]]) -> None:
    release = read_notebook(course.release_path(assignment))
    for student, code in answers.items():
        course.submit(student, assignment, replace_answers(release, code) if code else release)


def total_scores(course: GradingCourse, assignment: str) -> dict[str, float]:
    return {student: round(sum(score for score, _ in grades.values()), 3)
            for student, grades in course.scores(assignment).items()}


def grade_plain(course: GradingCourse, assignment: str) -> float:
    start = time.perf_counter()
    course.autograde(assignment)
    return time.perf_counter() - start


def grade_sandboxed(course: GradingCourse, assignment: str, *options: str) -> float:
    """Seconds the grade command takes on the whole class (``options``: e.g. ``--jobs 2``)."""
    env = {**os.environ, **course.environment, "COURSE_FAST": "1",
           "PATH": os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])}
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "course_autograde.grade", assignment, "--course-dir",
                           str(course.root), "--force", *options], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"the grade command failed (exit {done.returncode}):\n{(done.stdout + done.stderr)[-3000:]}")
    return seconds


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="01_convolutions")
    parser.add_argument("--students", type=int, default=12)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--no-save", action="store_true", help="print only (no file in benchmarks/results)")
    args = parser.parse_args(argv)
    os.environ["COURSE_FAST"] = "1"
    with tempfile.TemporaryDirectory(prefix="sandbox-benchmark-") as root:
        course = GradingCourse(Path(root), [args.assignment])
        course.generate()
        answers = class_answers(args.assignment, args.students)
        hand_in(course, args.assignment, answers)
        print(f"{args.assignment}: {len(answers)} submissions, {args.rounds} round(s)", flush=True)
        seconds = {"plain": [], "sandboxed": []}
        scores = {"plain": [], "sandboxed": []}
        graders = {"plain": grade_plain, "sandboxed": grade_sandboxed}
        for round_ in range(args.rounds):
            order = ["plain", "sandboxed"] if round_ % 2 == 0 else ["sandboxed", "plain"]
            for name in order:
                seconds[name].append(round(graders[name](course, args.assignment), 1))
                scores[name].append(total_scores(course, args.assignment))
                print(f"  round {round_ + 1}, {name:<9}: {seconds[name][-1]:7.1f} s "
                      f"({seconds[name][-1] / len(answers):.1f} s a submission)", flush=True)
    ratios = [p / s for p, s in zip(seconds["plain"], seconds["sandboxed"])]
    same = all(a == scores["plain"][0] for a in scores["plain"] + scores["sandboxed"])
    median = statistics.median(ratios)
    print(f"  ratio plain / sandboxed: {median:.3f} (rounds: {', '.join(f'{r:.3f}' for r in ratios)}; "
          f"spread {max(ratios) - min(ratios):.3f}) -> {'meets' if median >= GOAL else 'BELOW'} the goal {GOAL}")
    print(f"  scores: {'the same from both graders in every round' if same else 'DIFFERENT'}: "
          + ", ".join(f"{s} {v:g}" for s, v in sorted(scores['plain'][0].items())))
    result = {"assignment": args.assignment, "submissions": len(answers), "rounds": args.rounds,
              "seconds": seconds, "ratios": [round(r, 3) for r in ratios], "median_ratio": round(median, 3),
              "goal": GOAL, "same_scores": same, "scores": scores, "fast_mode": True}
    if not same:
        print("  plain:     ", scores["plain"], "\n  sandboxed: ", scores["sandboxed"])
    if not args.no_save:
        save_result(f"sandbox-grading-{args.assignment}", result)
    return result


def save_result(name: str, result: dict) -> Path:
    """Write ``result`` to ``benchmarks/results/<name>-<date>.json`` and say so."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}-{datetime.date.today().isoformat()}.json"
    path.write_text(json.dumps(result, indent=1) + "\n")
    print(f"  wrote {path.relative_to(REPO_ROOT)}")
    return path


if __name__ == "__main__":
    main()
