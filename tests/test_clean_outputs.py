"""Executed notebooks fit for readers (``CleanOutputs``): no start-up noise, no control characters,
no folders of the machine that built them."""
from __future__ import annotations

import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_notebook, new_output

from course_autograde.execute import execute_notebook
from course_autograde.preprocessors.clean_outputs import CleanOutputs, as_terminal, without_startup_lines
from course_utils import settings

STARTUP = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
           "I0000 00:00:1796170026.874603    9705 port.cc:153] oneDNN custom operations are on.\n"
           "I0000 00:00:1796170026.974068    9705 cpu_feature_guard.cc:227] This TensorFlow binary is optimized.\n"
           "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
           "appropriate compiler flags.\n")


def test_control_characters_are_applied_as_a_terminal_shows_them():
    assert as_terminal("1/3 [=>  ]\r2/3 [==> ]\r3/3 [====]\ndone") == "3/3 [====]\ndone"
    assert as_terminal("50%\b\b\b100%") == "100%"
    assert as_terminal("abc\b\bX") == "aXc"
    assert as_terminal("plain text\n  indented  ") == "plain text\n  indented  "


def test_startup_lines_go_and_the_rest_stays():
    assert without_startup_lines(STARTUP + "Epoch 1/1\n") == "Epoch 1/1\n"
    assert without_startup_lines("I0000 is a fine name\n") == "I0000 is a fine name\n"


def test_a_notebook_loses_the_noise_and_the_machines_folders(monkeypatch, tmp_path):
    monkeypatch.setenv(settings.DATA_ENV, str(tmp_path / "data"))
    nb = new_notebook(cells=[new_code_cell("", outputs=[
        new_output("stream", name="stderr", text=STARTUP),
        new_output("stream", name="stdout", text=f"data from {tmp_path / 'data'}\nin {settings.REPO_ROOT}/build\n"),
        new_output("display_data", data={"text/plain": f"{settings.REPO_ROOT / 'x.png'}"}),
        new_output("error", ename="FileNotFoundError", evalue=f"{tmp_path / 'data' / 'pets'}",
                   traceback=[f"File {settings.REPO_ROOT}/utils/data.py"])])])
    CleanOutputs().preprocess(nb, {})
    outputs = nb.cells[0].outputs
    assert [o.output_type for o in outputs] == ["stream", "display_data", "error"]  # the empty stderr went
    assert outputs[0].text == "data from $COURSE_DATA_DIR\nin <course>/build\n"
    assert outputs[1].data["text/plain"] == "<course>/x.png"
    assert outputs[2].evalue == "$COURSE_DATA_DIR/pets" and outputs[2].traceback == ["File <course>/utils/data.py"]


@pytest.mark.notebook
def test_an_executed_notebook_with_tensorflow_and_a_progress_bar_is_clean(monkeypatch, tmp_path):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)  # TensorFlow's start-up lines as readers get them
    path = tmp_path / "reader.ipynb"
    nbformat.write(new_notebook(cells=[
        new_code_cell("import tensorflow as tf\nimport keras\nfrom course_utils import settings"),
        new_code_cell("bar = keras.utils.Progbar(3)\nfor step in range(3):\n    bar.update(step + 1)"),
        new_code_cell("print(settings.describe())"),
    ]), path)
    nb, _ = execute_notebook(path, tmp_path / "executed.ipynb")
    text = json.dumps([o for cell in nb.cells for o in cell.outputs])
    assert "InitializeLog" not in text and "cpu_feature_guard" not in text and "oneDNN" not in text
    assert "\\b" not in text and "\\r" not in text
    assert str(settings.REPO_ROOT) not in text and str(settings.data_dir()) not in text
    assert "3/3" in text and "data from $COURSE_DATA_DIR" in text
