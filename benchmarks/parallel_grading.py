"""Grading a class in parallel: plain sequential ``nbgrader autograde`` vs ``grade --jobs 2``.

    python -m benchmarks.parallel_grading [--students 20] [--rounds 1] [--costs]

The class (20 submissions of notebook 01 by default): the solution, the untouched release, two
broken notebooks (a syntax error, an undefined name) and students with catalogued mistakes and
alternatives (``benchmarks.sandbox_grading.class_answers``). Each round grades the whole class
with plain ``nbgrader autograde`` (one student after another, no sandbox) and with the course's
grade command at ``--jobs 2`` (two sandboxed runs at a time, the gradebook written by one
process), alternating which goes first. Printed: the seconds of each, their ratio (the goal: the
parallel grader at least 1.6x the throughput of plain nbgrader) and whether every student got
the same score from both.

``--costs`` also grades the solution of every notebook once with the grade command, for the
seconds each notebook costs, and prints how many graders of this machine's size (2 cores,
``--jobs 2`` each, or Dask workers of that size) grade 1,000 students x 6 notebooks in an hour.
The figures go to ``benchmarks/results/parallel-grading-<date>.json``.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import tempfile
from pathlib import Path

from course_autograde.course import GradingCourse
from course_autograde.notebook_code import answer_sources, notebook_path, read_notebook
from course_utils import checks

from .sandbox_grading import class_answers, grade_plain, grade_sandboxed, hand_in, save_result, total_scores

GOAL = 1.6
STUDENTS, NOTEBOOKS, TURNAROUND = 1000, 6, 3600.0


def notebook_costs() -> dict[str, float]:
    """Seconds the grade command takes for one solution of each notebook (one at a time)."""
    costs = {}
    for assignment in checks.ASSIGNMENTS:
        with tempfile.TemporaryDirectory(prefix="notebook-cost-") as root:
            course = GradingCourse(Path(root), [assignment])
            course.generate()
            hand_in(course, assignment, {"solution": answer_sources(read_notebook(notebook_path(assignment)))})
            costs[assignment] = round(grade_sandboxed(course, assignment), 1)
            print(f"  {assignment}: {costs[assignment]:.1f} s for one submission", flush=True)
    return costs


def turnaround_table(costs: dict[str, float], speedup: float) -> list[dict]:
    """Graders of this size needed for 1,000 students x 6 notebooks in an hour, from measured costs.

    A grader's throughput is one submission per cost at --jobs 1, ``speedup`` times that at --jobs 2.
    """
    per_student = sum(costs.values())  # seconds for one student's six notebooks, one at a time
    rows = []
    for jobs, factor in ((1, 1.0), (2, speedup)):
        seconds = STUDENTS * per_student / factor  # on one grader
        needed = math.ceil(seconds / TURNAROUND)
        rows.append({"jobs": jobs, "hours_on_one_grader": round(seconds / 3600, 1), "graders_for_one_hour": needed})
    return rows


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--assignment", default="01_convolutions")
    parser.add_argument("--students", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--costs", action="store_true", help="also measure each notebook's cost and print the table")
    parser.add_argument("--no-save", action="store_true")
    args = parser.parse_args(argv)
    os.environ["COURSE_FAST"] = "1"
    seconds = {"plain": [], "jobs_2": []}
    scores = {"plain": [], "jobs_2": []}
    with tempfile.TemporaryDirectory(prefix="parallel-benchmark-") as root:
        course = GradingCourse(Path(root), [args.assignment])
        course.generate()
        answers = class_answers(args.assignment, args.students, broken=True)
        hand_in(course, args.assignment, answers)
        print(f"{args.assignment}: {len(answers)} submissions, {args.rounds} round(s)", flush=True)
        graders = {"plain": lambda: grade_plain(course, args.assignment),
                   "jobs_2": lambda: grade_sandboxed(course, args.assignment, "--jobs", "2")}
        for round_ in range(args.rounds):
            for name in (["plain", "jobs_2"] if round_ % 2 == 0 else ["jobs_2", "plain"]):
                seconds[name].append(round(graders[name](), 1))
                scores[name].append(total_scores(course, args.assignment))
                print(f"  round {round_ + 1}, {name:<6}: {seconds[name][-1]:7.1f} s "
                      f"({seconds[name][-1] / len(answers):.1f} s a submission)", flush=True)
    ratios = [p / j for p, j in zip(seconds["plain"], seconds["jobs_2"])]
    median = statistics.median(ratios)
    same = all(s == scores["plain"][0] for s in scores["plain"] + scores["jobs_2"])
    print(f"  throughput --jobs 2 / plain nbgrader: {median:.2f}x (rounds: {', '.join(f'{r:.2f}' for r in ratios)})"
          f" -> {'meets' if median >= GOAL else 'BELOW'} the goal {GOAL}x")
    print(f"  scores: {'the same from both in every round' if same else 'DIFFERENT'}")
    result = {"assignment": args.assignment, "submissions": len(answers), "seconds": seconds,
              "ratios": [round(r, 3) for r in ratios], "median_ratio": round(median, 3), "goal": GOAL,
              "same_scores": same, "scores": scores, "cores": os.cpu_count(), "fast_mode": True}
    if args.costs:
        print("seconds per notebook (the grade command, one solution, --jobs 1):")
        costs = notebook_costs()
        table = turnaround_table(costs, median)
        print(f"{STUDENTS:,} students x {NOTEBOOKS} notebooks ({sum(costs.values()):.0f} s a student, fast mode):")
        for row in table:
            print(f"  --jobs {row['jobs']}: {row['hours_on_one_grader']} h on one 2-core grader; "
                  f"{row['graders_for_one_hour']} graders for a one-hour turnaround")
        result.update(notebook_seconds=costs, turnaround=table)
    if not args.no_save:
        save_result("parallel-grading", result)
    return result


if __name__ == "__main__":
    main()
