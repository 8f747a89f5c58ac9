"""A worked notebook as a chapter of the book: the solutions shown as plain code, the grading kept out.

``ForReaders`` runs on an executed solution notebook (after :class:`.clean_outputs.CleanOutputs`). It

1. drops nbgrader's markers from the code (``### BEGIN SOLUTION`` / ``### END SOLUTION``), keeping the
   solution between them, and the hidden tests with their markers (a reader has the visible checks);
2. drops the hidden checks' pass lines from the outputs, and any observation a graded run published;
3. in fast mode, opens the chapter with a warning that its numbers and figures come from a few training
   steps (the printed numbers carry ``[fast mode]`` themselves, see ``course_utils.settings.fast_mark``),
   naming the trained models that are missing and the command that makes them (``make models``).
"""
from __future__ import annotations

import re

from nbconvert.preprocessors import Preprocessor
from nbformat.v4 import new_markdown_cell
from traitlets import Bool, List, Unicode

from course_utils import trained
from course_utils.checks.core import passed_line
from course_utils.checks.engine import OBSERVATION_MIME

HIDDEN_TESTS = re.compile(r"^[ \t]*### BEGIN HIDDEN TESTS\n.*?^[ \t]*### END HIDDEN TESTS[ \t]*\n?", re.S | re.M)
SOLUTION_MARKER = re.compile(r"^[ \t]*### (BEGIN|END) SOLUTION[ \t]*\n?", re.M)
HIDDEN_PASS_LINE = re.compile("^" + re.escape(passed_line("EXERCISE", hidden=True)).replace("EXERCISE", r"\w+")
                              + r"\n?", re.M)

FAST_MODE_NOTE = (
    "**Fast mode.** The numbers and figures of this page come from a few training steps on small subsets "
    "(`COURSE_FAST=1`), to show that the code runs: they are not the results the text discusses, and each "
    "printed one says `[fast mode]`.")


def fast_mode_note(missing: list[str]) -> str:
    """The warning under a fast-mode chapter's title: what it means and, when its trained models are
    missing, which command makes them."""
    if missing:
        records = ", ".join(f"`{name}`" for name in missing)
        remedy = (f" This chapter's trained models ({records}) are not in the cache: "
                  f"{trained.make_command(missing[0])} trains them once, and `make book` then loads them.")
    else:
        remedy = " `make book` without `COURSE_FAST` runs it in full mode."
    return f"```{{warning}}\n{FAST_MODE_NOTE}{remedy}\n```"


def for_readers(source: str) -> str:
    """The code of a solution cell without the hidden tests and without nbgrader's solution markers."""
    return SOLUTION_MARKER.sub("", HIDDEN_TESTS.sub("", source)).rstrip("\n")


class ForReaders(Preprocessor):
    """Solution markers and hidden tests out of the code, the grading out of the outputs, fast mode said."""

    fast_mode = Bool(True, help="the notebook was run in fast mode: say so at the top of the chapter").tag(config=True)
    missing_models = List(Unicode(), help="its trained models that make models has not made").tag(config=True)

    def preprocess(self, nb, resources):
        nb, resources = super().preprocess(nb, resources)
        if self.fast_mode:  # right under the chapter's title
            cell = next((cell for cell in nb.cells if cell.cell_type == "markdown"
                         and cell.source.lstrip().startswith("# ")), None)
            note = fast_mode_note(list(self.missing_models))
            if cell is None:
                nb.cells.insert(0, new_markdown_cell(note))
            else:
                title, _, rest = cell.source.lstrip().partition("\n")
                cell.source = f"{title}\n\n{note}\n\n{rest.lstrip()}"
        return nb, resources

    def preprocess_cell(self, cell, resources, index):
        if cell.cell_type != "code":
            return cell, resources
        cell.source = for_readers(cell.source)
        outputs = []
        for output in cell.get("outputs", []):
            if output.get("output_type") in ("display_data", "execute_result") and OBSERVATION_MIME in output.get(
                    "data", {}):
                continue
            if output.get("output_type") == "stream":
                output.text = HIDDEN_PASS_LINE.sub("", output.text)
                if not output.text:
                    continue
            outputs.append(output)
        cell.outputs = outputs
        return cell, resources
