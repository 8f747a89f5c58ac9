"""Execute a notebook top to bottom (as a reader would) and report how long it took.

The executed copy's outputs are cleaned for readers (:class:`~.preprocessors.clean_outputs.CleanOutputs`).
"""
from __future__ import annotations

import os
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError

from .notebook_code import read_notebook
from .preprocessors.clean_outputs import CleanOutputs


def execute_notebook(path: Path, output: Path | None = None, fast: bool = True,
                     timeout: int | None = 1800, env: dict[str, str] | None = None) -> tuple[nbformat.NotebookNode, float]:
    """Run ``path`` in its own folder; save the executed copy to ``output`` if given.

    ``env``: more environment variables for the kernel (e.g. ``COURSE_READER=1``), set for this run only.

    Raises ``CellExecutionError`` naming the failing cell when a cell errors.
    Returns the executed notebook and the wall time in seconds.
    """
    path = Path(path)
    nb = read_notebook(path)
    settings = {"COURSE_FAST": "1" if fast else "0", **(env or {})}
    previous = {name: os.environ.get(name) for name in settings}
    os.environ.update(settings)  # inherited by the kernel
    # A headless backend set for the tests (MPLBACKEND=Agg) would hide every figure.
    backend = os.environ.pop("MPLBACKEND", None)
    start = time.perf_counter()
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    finally:
        if backend is not None:
            os.environ["MPLBACKEND"] = backend
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
        elapsed = time.perf_counter() - start
        CleanOutputs().preprocess(nb, {})
        if output is not None:
            Path(output).parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(nb, output)
    return nb, elapsed


__all__ = ["execute_notebook", "CellExecutionError"]
