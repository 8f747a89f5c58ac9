"""How the course_utils modules depend on each other, and what importing them does.

Each check runs in a fresh interpreter, so modules the test session already
imported cannot hide an import or a file read.
"""
from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import course_utils

UTILS = Path(course_utils.__file__).parent


def run_python(code: str, **env: str) -> dict:
    """Run ``code`` in a fresh interpreter; it prints one JSON value, returned here."""
    done = subprocess.run([sys.executable, "-c", code], env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", **env},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def imported_modules(path: Path) -> set[str]:
    """Every course_utils module that the file imports, at the top or inside a function."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.level:  # from . import x / from .x import y
            names |= {node.module} if node.module else {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_utils"):
            names.add(node.module.removeprefix("course_utils").lstrip(".") or node.names[0].name)
        elif isinstance(node, ast.Import):
            names |= {a.name.removeprefix("course_utils.") for a in node.names if a.name.startswith("course_utils.")}
    return names


def test_the_catalogue_and_the_loaders_never_import_download():
    assert imported_modules(UTILS / "datasets.py") == set()  # the catalogue stands alone
    assert imported_modules(UTILS / "data.py") == {"settings", "datasets"}
    assert "data" not in imported_modules(UTILS / "settings.py")
    assert {"datasets", "data"} <= imported_modules(UTILS / "download.py")


def test_importing_data_does_not_import_download():
    loaded = run_python("import json, sys\nimport course_utils.data\n"
                        "print(json.dumps(sorted(m for m in sys.modules if m.startswith('course_utils'))))")
    assert loaded == ["course_utils", "course_utils.data", "course_utils.datasets", "course_utils.settings"]


def test_importing_every_module_reads_no_data(tmp_path):
    """With an empty data folder: every module imports, and none opens or lists anything in it or in the cache."""
    data_dir, cache_dir = tmp_path / "data", tmp_path / "cache"
    data_dir.mkdir()
    code = f"""
import importlib, json, os, pkgutil, sys
watched = {str(tmp_path)!r}
touched = []

def hook(event, args):
    if event in ("open", "os.listdir", "os.scandir", "os.mkdir") and args and isinstance(args[0], (str, os.PathLike)):
        if os.path.abspath(os.fspath(args[0])).startswith(watched):
            touched.append(f"{{event}} {{os.fspath(args[0])}}")

sys.addaudithook(hook)
import course_utils
names = [m.name for m in pkgutil.walk_packages(course_utils.__path__, "course_utils.")]
for name in names:
    importlib.import_module(name)
print(json.dumps({{"modules": names, "touched": touched}}))
"""
    result = run_python(code, COURSE_DATA_DIR=str(data_dir), COURSE_CACHE_DIR=str(cache_dir))
    assert {"course_utils.data", "course_utils.datasets", "course_utils.download",
            "course_utils.checks.core"} <= set(result["modules"])
    assert result["touched"] == []
    assert list(data_dir.iterdir()) == [] and not cache_dir.exists()
