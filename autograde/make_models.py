"""``make models``: train, once and in full mode, every model the notebooks train, for the book's reader mode.

``python -m course_autograde.make_models [NOTEBOOK ...] [--fast] [--force]`` executes each solution
notebook that makes records (:data:`course_utils.trained.RECORDS`) with ``COURSE_RECORD=1``: each training
cell trains and saves its record in ``COURSE_CACHE_DIR/trained/``. A notebook whose records are all there is
skipped (``--force`` runs it again), unless a record was trained on a backbone that ``make backbone`` has since
replaced; a record whose recipe changed is trained again whenever its notebook runs. Interrupted,
it is resumable: run it again; complete records are loaded, and a fit goes on from its last epoch. Progress,
a line per epoch, is shown as it comes; the executed notebooks are kept in ``build/models/`` as the log, and
the records' figures (their manifests, without the weights) in ``benchmarks/results/records-<notebook>-<date>.json``.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
import threading
import time
from pathlib import Path

from course_utils import settings, trained
from course_utils.settings import REPO_ROOT

from .execute import CellExecutionError, execute_notebook
from .notebook_code import notebook_path

LOGS = REPO_ROOT / "build" / "models"
RESULTS = REPO_ROOT / "benchmarks" / "results"


def notebooks_with_records() -> list[str]:
    return list(dict.fromkeys(entry.notebook for entry in trained.RECORDS.values()))


class ProgressTail(threading.Thread):
    """Prints the lines the kernel appends to the progress log while a notebook runs."""

    def __init__(self, path: Path, out=None):
        super().__init__(daemon=True)
        self.path, self.out, self.done = path, out, threading.Event()
        self.offset = path.stat().st_size if path.exists() else 0

    def run(self):
        while not self.done.is_set():
            self._print_new()
            self.done.wait(1.0)
        self._print_new()

    def _print_new(self):
        if not self.path.exists():
            return
        with open(self.path, encoding="utf-8") as log:
            log.seek(self.offset)
            text = log.read()
            self.offset = log.tell()
        for line in text.splitlines():
            print(f"   {line}", file=self.out or sys.stdout, flush=True)

    def stop(self):
        self.done.set()
        self.join()


def save_figures(name: str, fast: bool, results: Path | None = None) -> Path:
    """The manifests of notebook ``name``'s records (recipe, figures, histories, minutes; the weights stay in the
    cache) in ``records-<notebook>-<date>.json``: in ``benchmarks/results/`` after a full run, so that the figures a
    notebook quotes have a file in the repository behind them; under the cache after a fast one."""
    date = datetime.date.today().isoformat()
    folder = results or (settings.cache_dir() / "benchmarks" if fast else RESULTS)
    path = folder / f"records-{name}-{date}{'-fast' * fast}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    manifests = {record: trained.read_manifest(record, fast) for record in trained.notebook_records(name)}
    path.write_text(json.dumps(manifests, indent=1) + "\n", encoding="utf-8")
    return path


def run(names: list[str], fast: bool = False, force: bool = False, paths: dict[str, Path] | None = None,
        logs: Path = LOGS, results: Path | None = None) -> int:
    """Execute the notebooks ``names`` (solutions, or ``paths[name]``) in record mode, the executed copies into
    ``logs`` and the records' figures into ``results`` (:func:`save_figures`); 0 when all succeeded."""
    failures = 0
    for name in names:
        missing = trained.missing_records(name, fast)
        if not missing and not force:
            print(f"== {name}: every record is there ({', '.join(trained.notebook_records(name))}); "
                  "--force trains again")
            continue
        if force:  # a record whose recipe matches would be loaded, not trained again
            missing = trained.notebook_records(name)
            for record in missing:
                (trained.record_dir(record, fast) / trained.MANIFEST).unlink(missing_ok=True)
        minutes = sum(trained.RECORDS[record].minutes for record in missing)
        print(f"== {name}: training {', '.join(missing)}"
              + ("" if fast else f" (about {minutes} min on 2 cores)") + ", full mode" * (not fast)
              + ", FAST mode" * fast, flush=True)
        tail = ProgressTail(trained.records_dir(fast) / trained.PROGRESS)
        tail.start()
        started, ok = time.perf_counter(), True
        try:
            execute_notebook((paths or {}).get(name) or notebook_path(name), logs / f"{name}.ipynb", fast=fast,
                             timeout=None, env={"COURSE_RECORD": "1", "COURSE_READER": "0"})
        except CellExecutionError as error:
            ok = False
            print(f"   {name} failed: {error.ename}: {error.evalue} (the executed notebook: "
                  f"{logs / (name + '.ipynb')})", flush=True)
        finally:
            tail.stop()
        print(f"   {name}: {(time.perf_counter() - started) / 60:.1f} min", flush=True)
        left = trained.missing_records(name, fast)
        if left:
            ok = False
            print(f"   still missing: {', '.join(left)}", flush=True)
        else:
            print(f"   the records' figures: {save_figures(name, fast, results)}", flush=True)
        failures += not ok
    print("\n".join(["== records", *trained.status_lines()]))
    return 1 if failures else 0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", help=f"default: {' '.join(notebooks_with_records())}")
    parser.add_argument("--fast", action="store_true", help="fast mode (to try the machinery)")
    parser.add_argument("--force", action="store_true", help="train again what is recorded")
    args = parser.parse_args(argv)
    unknown = [name for name in args.notebooks if name not in notebooks_with_records()]
    if unknown:
        parser.error(f"no records in {', '.join(unknown)}; notebooks that train: {' '.join(notebooks_with_records())}")
    return run(args.notebooks or notebooks_with_records(), fast=args.fast, force=args.force)


if __name__ == "__main__":
    sys.exit(main())
