"""The course book (``make book``), built from the notebooks this run executed and opened in headless Chromium.

The chapters are the solution notebooks as the nbgrader runs of ``test_nbgrader.py`` executed them (the
suite's one end-to-end run of each; this file is scheduled last and waits for them). When those runs are not
part of the session (``pytest tests/test_book.py``), the notebooks are executed here, in fast mode. Then:

* the book builds; every chapter and the landing page load over HTTP from 127.0.0.1, show every figure of
  their outputs, typeset their maths (no raw ``$$`` left), log no console error and request nothing outside
  the book (it works offline); the search finds the chapters; the landing page links all six;
* fast mode is said at the top of every chapter, with the trained models it lacks and the command that makes
  them, and next to the numbers training made;
* the chapters carry no grading (hidden tests, solution markers) and no start-up noise;
* a screenshot of each page is kept in ``build/book-test/screenshots/``.
"""
from __future__ import annotations

import shutil
import time

import nbformat
import pytest

from course_autograde import book
from course_autograde.book_check import BrowserUnavailable, check_book, find_chromium
from course_autograde.execute import execute_notebook
from course_autograde.notebook_code import notebook_path
from course_utils import trained
from course_utils.settings import REPO_ROOT

WAIT_SECONDS = 40 * 60  # the nbgrader runs of the other worker, at most
ARTEFACTS = REPO_ROOT / "build" / "book-test" / "screenshots"

try:
    find_chromium()
    NO_BROWSER = None
except BrowserUnavailable as error:
    NO_BROWSER = str(error)


def graded_in_this_session(session, assignment: str) -> bool:
    return any(item.nodeid.startswith(f"tests/test_nbgrader.py::TestNbgrader_{assignment}::")
               for item in session.items)


@pytest.fixture(scope="module")
def executed(request, executed_notebooks):
    """The six executed solution notebooks: from this run's nbgrader runs, else executed here."""
    deadline = time.monotonic() + WAIT_SECONDS
    for name in book.chapters():
        path = executed_notebooks / f"{name}.ipynb"
        if not graded_in_this_session(request.session, name):
            if not path.exists():
                execute_notebook(notebook_path(name), path, fast=True)
            continue
        while not path.exists():
            if (executed_notebooks / f"{name}.failed").exists():
                pytest.fail(f"the nbgrader run of {name} failed: no executed notebook for its chapter")
            if time.monotonic() > deadline:
                pytest.fail(f"no executed notebook of {name} after {WAIT_SECONDS} s")
            time.sleep(2)
    return executed_notebooks


@pytest.fixture(scope="module")
def built(executed, tmp_path_factory):
    output = tmp_path_factory.mktemp("book")
    html, modes = book.build(executed, output)
    return output, html, modes


@pytest.fixture(scope="module")
def browsed(built):
    if NO_BROWSER:
        pytest.skip(NO_BROWSER)
    output, html, _ = built
    report = check_book(html, output / "screenshots")
    shutil.rmtree(ARTEFACTS, ignore_errors=True)
    shutil.copytree(output / "screenshots", ARTEFACTS)
    return report


def expected_figures(nb) -> int:
    return sum(1 for cell in nb.cells if cell.cell_type == "code" for output in cell.get("outputs", [])
               if output.get("output_type") in ("display_data", "execute_result")
               and any(mime.startswith("image/") for mime in output.get("data", {})))


def test_every_page_loads_with_its_figures_and_maths_offline_and_without_errors(built, browsed):
    output, _, _ = built
    assert set(browsed.pages) == {"index", *book.chapters()}
    for name, page in browsed.pages.items():
        assert page.problems() == [], (name, page.problems())
        if name == "index":
            continue
        chapter = nbformat.read(output / "src" / f"{name}.ipynb", as_version=4)
        figures = expected_figures(chapter)
        assert figures > 0 and page.figures == figures, (name, page.figures, figures)
        if any("$$" in cell.source for cell in chapter.cells if cell.cell_type == "markdown"):
            assert page.maths > 0, name
        assert page.title.startswith(name[:2] + " · "), page.title


def test_the_landing_page_links_every_chapter_and_the_search_finds_them(browsed):
    index = browsed.pages["index"]
    for name in book.chapters():
        assert f"{name}.html" in index.links
    for number, title, _ in book.course_table():
        assert title.replace("`", "") in index.text
    assert browsed.search_results >= 3


def test_fast_mode_is_said_on_every_chapter_and_next_to_the_numbers(built, browsed):
    _, _, modes = built
    assert all(modes.values()), "the suite runs the notebooks in fast mode"
    for name in book.chapters():
        text = browsed.pages[name].text
        assert "Fast mode." in text, name
        missing = trained.missing_records(name)  # what make models has not trained on this machine
        if missing:
            assert "are not in the cache" in text and f"make models NOTEBOOKS={name}" in text, name
            assert all(record in text for record in missing), name
        else:
            assert "runs it in full mode" in text, name
    assert "images [fast mode]" in browsed.pages["01_convolutions"].text          # the CNN's test accuracy
    assert "[fast mode]" in browsed.pages["06_transfer_cam"].text
    assert "This build ran some chapters in fast mode (a few training steps on small subsets): " + ", ".join(
        book.chapters()) in browsed.pages["index"].text


def test_chapters_carry_no_grading_and_no_start_up_noise(built):
    output, _, _ = built
    for name in book.chapters():
        text = (output / "src" / f"{name}.ipynb").read_text()
        for marker in ("BEGIN SOLUTION", "BEGIN HIDDEN TESTS", "hidden=True", "hidden checks passed",
                       "absl::InitializeLog", "oneDNN custom operations", str(REPO_ROOT)):
            assert marker not in text, (name, marker)


def test_a_screenshot_of_every_page_is_kept(browsed):
    for name, page in browsed.pages.items():
        kept = ARTEFACTS / page.screenshot.name
        assert kept.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and kept.stat().st_size > 10_000, name
