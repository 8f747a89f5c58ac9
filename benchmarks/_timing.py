"""Shared timing helpers: warm-up steps excluded, interleaved repetitions, median and spread."""
from __future__ import annotations

import statistics
import time


def images_per_second(step, batch_size: int, steps: int) -> float:
    """Run ``step()`` ``steps`` times; return images per second."""
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return steps * batch_size / (time.perf_counter() - start)


def interleaved(contenders: dict, batch_size: int, warmup: int, steps: int, reps: int) -> dict[str, list[float]]:
    """``contenders``: name -> step function. Warm each up, then time them in turn, ``reps`` rounds.

    Alternating A, B, A, B... spreads any slow-down of the machine (other
    processes, thermal throttling) over both, so their ratio stays fair.
    """
    for step in contenders.values():
        for _ in range(warmup):
            step()
    rates: dict[str, list[float]] = {name: [] for name in contenders}
    for _ in range(reps):
        for name, step in contenders.items():
            rates[name].append(images_per_second(step, batch_size, steps))
    return rates


def ratio_report(rates: dict[str, list[float]], numerator: str, denominator: str, goal: float) -> float:
    """Print each contender's images/s and the median of the per-round ratios; return that median."""
    for name, values in rates.items():
        print(f"  {name:<34} {statistics.median(values):7.1f} images/s  (rounds: "
              + ", ".join(f"{v:.1f}" for v in values) + ")")
    ratios = [a / b for a, b in zip(rates[numerator], rates[denominator])]
    median = statistics.median(ratios)
    verdict = "meets" if median >= goal else "BELOW"
    print(f"  ratio {numerator} / {denominator}: {median:.3f} (rounds: "
          + ", ".join(f"{r:.3f}" for r in ratios) + f"; spread {max(ratios) - min(ratios):.3f}) "
          f"-> {verdict} the goal {goal}", flush=True)
    return median
