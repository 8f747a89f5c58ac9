"""The built book, opened as a reader opens it: every page in headless Chromium, served from 127.0.0.1.

For each page it records what loaded (HTTP status), the figures of the notebook outputs (and any image
that did not load), the formulas MathJax typeset and any maths left raw (``$$`` or ``\\(`` in the text),
the console errors and uncaught exceptions, every request that left the book (the book must work
offline), and a screenshot. The search page is asked for a word that every chapter uses.

Chromium is the Debian package (``make system-packages`` installs it); Playwright drives it.
"""
from __future__ import annotations

import functools
import http.server
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
SEARCH_WORD = "convolution"


class BrowserUnavailable(RuntimeError):
    """No Chromium on this machine (the message says how to install it)."""


def find_chromium() -> str:
    for name in CHROMIUM_NAMES:
        if found := shutil.which(name):
            return found
    raise BrowserUnavailable("no Chromium found: install the Debian package `chromium` "
                             "(`make system-packages`, or `apt-get install chromium`)")


@dataclass
class PageReport:
    page: str
    status: int | None = None
    title: str = ""
    figures: int = 0
    broken_images: list[str] = field(default_factory=list)
    maths: int = 0
    raw_maths: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    text: str = ""
    screenshot: Path | None = None

    def problems(self) -> list[str]:
        found = []
        if self.status != 200:
            found.append(f"HTTP status {self.status}")
        found += [f"image not loaded: {src}" for src in self.broken_images]
        found += [f"raw maths: {text}" for text in self.raw_maths]
        found += [f"console: {error}" for error in self.errors]
        found += [f"request outside the book: {url}" for url in self.outside_requests]
        return found


@dataclass
class BookReport:
    pages: dict[str, PageReport]
    search_results: int

    @property
    def ok(self) -> bool:
        return self.search_results > 0 and not any(page.problems() for page in self.pages.values())

    def summary(self) -> str:
        lines = [f"{'page':<32} {'status':>6} {'figures':>7} {'maths':>6}  problems"]
        for name, page in self.pages.items():
            problems = "; ".join(page.problems()) or "-"
            lines.append(f"{name:<32} {page.status!s:>6} {page.figures:>7} {page.maths:>6}  {problems}")
        lines.append(f"search for {SEARCH_WORD!r}: {self.search_results} results")
        shots = {page.screenshot.parent for page in self.pages.values() if page.screenshot}
        lines.append(f"screenshots in {', '.join(map(str, shots))}")
        return "\n".join(lines)


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # the report says what matters
        pass


class BookServer:
    """The book's folder served over HTTP on 127.0.0.1 (a free port), for the time of a ``with``."""

    def __init__(self, folder: Path):
        handler = functools.partial(_QuietHandler, directory=str(folder))
        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


TYPESET = """() => (window.MathJax && MathJax.startup && MathJax.startup.promise)
                 ? MathJax.startup.promise.then(() => true) : true"""
READ_PAGE = """() => {
  const main = document.querySelector('main') || document.body;
  return {
    title: document.title,
    figures: main.querySelectorAll('.cell_output img').length,
    broken: [...document.images].filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.getAttribute('src')),
    maths: document.querySelectorAll('mjx-container').length,
    text: main.innerText,
    links: [...document.querySelectorAll('a[href]')].map(a => a.getAttribute('href')),
  };
}"""


def _raw_maths(text: str) -> list[str]:
    found = []
    for marker in ("$$", "\\(", "\\["):
        at = text.find(marker)
        if at >= 0:
            found.append(text[max(at - 30, 0):at + 30].replace("\n", " "))
    return found


def check_book(html: Path, screenshots: Path, pages: list[str] | None = None) -> BookReport:
    """Open ``pages`` (default: the landing page and every chapter) of the book in ``html``."""
    from playwright.sync_api import sync_playwright

    from .book import chapters

    executable = find_chromium()
    pages = pages or ["index", *chapters()]
    screenshots.mkdir(parents=True, exist_ok=True)
    reports: dict[str, PageReport] = {}
    with BookServer(html) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for name in pages:
                report = reports[name] = PageReport(name)
                page = context.new_page()
                page.on("console", lambda message, r=report: r.errors.append(message.text)
                        if message.type == "error" else None)
                page.on("pageerror", lambda error, r=report: r.errors.append(f"uncaught: {error}"))
                page.on("response", lambda response, r=report: r.errors.append(
                    f"{response.status} for {response.url}") if response.status >= 400 else None)
                page.on("request", lambda request, r=report: r.outside_requests.append(request.url)
                        if not request.url.startswith((server.url, "data:", "blob:", "about:")) else None)
                response = page.goto(server.url + f"{name}.html", wait_until="load")
                report.status = response.status if response else None
                page.evaluate(TYPESET)
                found = page.evaluate(READ_PAGE)
                report.title, report.figures, report.maths = found["title"], found["figures"], found["maths"]
                report.broken_images, report.links, report.text = found["broken"], found["links"], found["text"]
                report.raw_maths = _raw_maths(found["text"])
                report.screenshot = screenshots / f"{name}.png"
                page.screenshot(path=str(report.screenshot))
                page.close()
            search = context.new_page()
            search.goto(server.url + f"search.html?q={SEARCH_WORD}", wait_until="load")
            try:
                search.wait_for_selector("#search-results li", timeout=15_000)
            except Exception:  # no result shown: counted as 0 below
                pass
            results = search.locator("#search-results li").count()
        finally:
            browser.close()
    return BookReport(reports, results)
