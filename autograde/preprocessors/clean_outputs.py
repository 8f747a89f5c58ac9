"""Outputs fit for readers: what a terminal would show, without start-up noise or the build machine's paths.

``CleanOutputs`` runs on an executed notebook (``course_autograde.execute``, before the worked copy
and its HTML are written). In every text output it

1. applies the terminal's control characters, as a terminal shows them: a carriage return starts
   the line again, a backspace takes back the character before it (Keras' progress bars and
   download bars draw themselves with both; a browser shows them as boxes);
2. drops the start-up lines of TensorFlow and absl (``I0000 00:00:... port.cc:153] oneDNN ...``,
   "WARNING: All log messages before absl::InitializeLog() ...", "To enable the following
   instructions ..."), and a stderr output left empty by it;
3. writes the build machine's folders as the settings that name them: the repository as ``<course>``,
   the data folder as ``$COURSE_DATA_DIR``, the cache as ``$COURSE_CACHE_DIR``, the home folder as ``~``
   (longest first, so a data folder inside the repository keeps its own name).
"""
from __future__ import annotations

import os
import re
from pathlib import Path

from nbconvert.preprocessors import Preprocessor

STARTUP_LINES = (
    re.compile(r"^[IWEF]\d{4} \d\d:\d\d:\d\d[.\d]*\s+\d+ [\w./-]+:\d+\] "),              # absl / glog lines
    re.compile(r"^WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"),
    re.compile(r"^To enable the following instructions: .*rebuild TensorFlow with the appropriate compiler flags"),
)


def as_terminal(text: str) -> str:
    """``text`` as a terminal shows it: ``\\r`` rewrites the line from its start, ``\\b`` takes back a character."""
    lines = []
    for line in text.split("\n"):
        shown: list[str] = []
        column = 0
        for char in line:
            if char == "\r":
                column = 0
            elif char == "\b":
                column = max(column - 1, 0)
            else:
                if column < len(shown):
                    shown[column] = char
                else:
                    shown.append(char)
                column += 1
        lines.append("".join(shown).rstrip() if ("\r" in line or "\b" in line) else "".join(shown))
    return "\n".join(lines)


def without_startup_lines(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True)
                   if not any(pattern.match(line) for pattern in STARTUP_LINES))


def machine_folders() -> list[tuple[str, str]]:
    """(folder, what to write instead), longest folder first."""
    from course_utils import settings

    folders = {str(settings.REPO_ROOT): "<course>", str(Path.home()): "~"}
    for env, placeholder in ((settings.DATA_ENV, "$COURSE_DATA_DIR"), (settings.CACHE_ENV, "$COURSE_CACHE_DIR")):
        folders[str(settings.data_dir() if env == settings.DATA_ENV else settings.cache_dir())] = placeholder
        if os.environ.get(env):
            folders[os.environ[env]] = placeholder
    for folder in list(folders):
        folders.setdefault(os.path.realpath(folder), folders[folder])
    return sorted(((f, p) for f, p in folders.items() if len(f) > 1), key=lambda item: -len(item[0]))


def without_machine_folders(text: str, folders: list[tuple[str, str]]) -> str:
    for folder, placeholder in folders:
        text = text.replace(folder, placeholder)
    return text


class CleanOutputs(Preprocessor):
    """Terminal control characters applied, start-up lines dropped, machine folders named by their settings."""

    def preprocess(self, nb, resources):
        self.folders = machine_folders()
        return super().preprocess(nb, resources)

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        outputs = []
        for output in cell.get("outputs", []):
            if output.output_type == "stream":
                text = without_machine_folders(without_startup_lines(as_terminal(output.text)), self.folders)
                if not text.strip() and output.name == "stderr":
                    continue
                output.text = text
            elif output.output_type in ("display_data", "execute_result"):
                for mime in ("text/plain", "text/html", "text/markdown"):
                    if mime in output.get("data", {}):
                        value = output.data[mime]
                        text = value if isinstance(value, str) else "".join(value)
                        output.data[mime] = without_machine_folders(as_terminal(text), self.folders)
            elif output.output_type == "error":
                output.evalue = without_machine_folders(output.evalue, self.folders)
                output.traceback = [without_machine_folders(line, self.folders) for line in output.traceback]
            outputs.append(output)
        cell.outputs = outputs
        return cell, resources
