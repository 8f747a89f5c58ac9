"""The course book for self-paced readers: ``make book`` (``python -m course_autograde.book``).

1. executes the solution notebooks in reader mode (``--execute``): a chapter whose trained models
   ``make models`` recorded (:mod:`course_utils.trained`) runs in full mode and loads them instead of
   training; the others run in fast mode, and their page says which models are missing and which command
   makes them (``COURSE_FAST=1``/``0`` forces one mode for all). Or it takes the executed copies of
   ``--executed`` (by default ``build/executed/``, what ``make course`` leaves);
2. makes each one a chapter (:class:`~.preprocessors.CleanOutputs`, then
   :class:`~.preprocessors.ForReaders`: no start-up noise, no machine paths, no grading, fast mode said
   at the top of the page) and writes a landing page with the course table;
3. renders a static HTML book with Sphinx (MyST-NB, the book theme, MathJax served from the book):
   ``build/book/html/index.html``;
4. opens every page in headless Chromium (:mod:`.book_check`): each loads, shows its figures and its
   maths, logs no error and asks for nothing outside the book; a screenshot of each goes to
   ``build/book/screenshots/``.

Why Sphinx with MyST-NB rather than Jupyter Book 2 (mystmd): mystmd downloads its site template when it
builds, which an offline machine cannot; Sphinx builds from installed packages only, its search runs in
the browser, and Jupyter Book 1 was itself these two tools with a configuration layer.
"""
from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

from course_utils import checks, settings, trained
from course_utils.settings import FAST_DESCRIPTION, REPO_ROOT

from .notebook_code import notebook_path
from .preprocessors.clean_outputs import CleanOutputs
from .preprocessors.for_readers import ForReaders

BOOK_SOURCE = REPO_ROOT / "book"            # conf.py
BUILD = REPO_ROOT / "build"


class BookError(RuntimeError):
    """The book cannot be built as asked (the message says what is missing and how to get it)."""


def chapters() -> list[str]:
    return list(checks.ASSIGNMENTS)


def course_table() -> list[tuple[str, str, str]]:
    """(number, title, what you build) of each chapter: the course table of the README, its one source."""
    rows = []
    for line in (REPO_ROOT / "README.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 3 and re.fullmatch(r"\d\d", cells[0]):
            rows.append(tuple(cells))
    return rows


def was_fast(nb) -> bool:
    """Whether ``nb`` was executed in fast mode: its first cell prints ``settings.describe()``."""
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else ():
            if output.get("output_type") == "stream" and FAST_DESCRIPTION in output.get("text", ""):
                return True
    return False


def landing_page(fast: list[str]) -> str:
    names = chapters()
    by_number = {number: (title, built) for number, title, built in course_table()}
    rows = "\n".join(f"| {name[:2]} | [{by_number.get(name[:2], (name, ''))[0]}]({name}.ipynb) | "
                     f"{by_number.get(name[:2], ('', ''))[1]} |" for name in names)
    mode = ("```{warning}\nThis build ran some chapters in **fast mode** (a few training steps on small "
            f"subsets): {', '.join(fast)}. Each says so at its top, and each number that training made says "
            "`[fast mode]`. `make models` trains the course's models once in full mode (hours on 2 cores, "
            "resumable), and `make book` then loads them.\n```\n\n" if fast else "")
    toctree = "\n".join(names)
    return f"""# ConvNets & ResNets with TensorFlow/Keras

An open course of Jupyter notebooks on convolutional networks and residual networks. These pages are
the worked notebooks, run top to bottom with their outputs: read them here, or run them yourself
(`make course`, then JupyterLab on `notebooks/` for the exercises with their checks).

{mode}| # | chapter | you build |
|---|---|---|
{rows}

```{{toctree}}
:hidden:
:maxdepth: 1

{toctree}
```
"""


def prepare(executed: Path, source: Path) -> dict[str, bool]:
    """The book's sources in ``source``: conf.py, the landing page and one chapter per executed notebook.

    Returns chapter -> whether it was run in fast mode."""
    missing = [name for name in chapters() if not (executed / f"{name}.ipynb").exists()]
    if missing:
        raise BookError(f"no executed notebook for {', '.join(missing)} in {executed}: run `make book` "
                        "(it executes them) or `make course` first")
    shutil.rmtree(source, ignore_errors=True)
    source.mkdir(parents=True)
    for name in ("conf.py", "favicon.svg"):
        shutil.copy(BOOK_SOURCE / name, source / name)
    modes = {}
    for name in chapters():
        nb = nbformat.read(executed / f"{name}.ipynb", as_version=4)
        modes[name] = was_fast(nb)
        CleanOutputs().preprocess(nb, {})
        missing = trained.missing_records(name) if modes[name] else []
        ForReaders(fast_mode=modes[name], missing_models=missing).preprocess(nb, {})
        nbformat.write(nb, source / f"{name}.ipynb")
    (source / "index.md").write_text(landing_page([name for name, fast in modes.items() if fast]),
                                     encoding="utf-8")
    return modes


def render(source: Path, html: Path) -> Path:
    """Sphinx's HTML build of ``source`` into ``html``; raises BookError with Sphinx's own words on failure."""
    shutil.rmtree(html, ignore_errors=True)
    done = subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "1", str(source), str(html)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        raise BookError(f"sphinx-build failed:\n{done.stderr[-3000:]}")
    return html


def build(executed: Path, output: Path) -> tuple[Path, dict[str, bool]]:
    """The book of the notebooks executed in ``executed``, under ``output`` (``src/``, ``html/``)."""
    modes = prepare(Path(executed), Path(output) / "src")
    return render(Path(output) / "src", Path(output) / "html"), modes


def reader_modes() -> dict[str, bool]:
    """chapter -> fast mode: full where every trained model of the chapter is recorded (or it trains none),
    fast elsewhere; ``COURSE_FAST`` set to 1 or 0 decides for all."""
    chosen = settings.fast_choice()
    return {name: chosen if chosen is not None else bool(trained.missing_records(name)) for name in chapters()}


def execute_all(target: Path, modes: dict[str, bool]) -> None:
    from .execute import execute_notebook

    for name, fast in modes.items():
        _, seconds = execute_notebook(notebook_path(name), target / f"{name}.ipynb", fast=fast, timeout=None,
                                      env={settings.READER_ENV: "1"})
        print(f"   {name}: executed in {seconds:.0f} s ({'fast' if fast else 'full'} mode, reader mode)", flush=True)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--execute", action="store_true", help="execute the solution notebooks first")
    parser.add_argument("--executed", type=Path, default=BUILD / "executed", help="the executed notebooks")
    parser.add_argument("--output", type=Path, default=BUILD / "book")
    parser.add_argument("--no-browser", action="store_true", help="skip the check in headless Chromium")
    args = parser.parse_args(argv)
    if args.execute:
        modes = reader_modes()
        print(f"== executing the notebooks in reader mode into {args.executed}")
        execute_all(args.executed, modes)
    try:
        html, modes = build(args.executed, args.output)
    except BookError as error:
        print(error, file=sys.stderr)
        return 1
    fast = [name for name, was in modes.items() if was]
    print(f"== the book: {html / 'index.html'}" + (f" (fast mode: {', '.join(fast)})" if fast else ""))
    if args.no_browser:
        return 0
    from .book_check import BrowserUnavailable, check_book

    try:
        report = check_book(html, args.output / "screenshots")
    except BrowserUnavailable as error:
        print(f"not checked in a browser: {error}", file=sys.stderr)
        return 1
    print(report.summary())
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
