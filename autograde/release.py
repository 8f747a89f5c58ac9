"""What a class receives: the student notebooks and ``course_utils`` as students install it.

    python -m course_autograde.release 01_convolutions 02_identity_block --closed 01_convolutions

The assignments named are released (their student notebooks, their visible
checks and the visible references); ``--closed`` ones are released too, and
their deadline has passed, so the course's reference code of their exercises
enters the student package (the blocks of 02 and 03 that notebook 04 builds
on, for instance). An open assignment that builds on the reference code of one
that is not closed is refused, with a message saying which to close.

What never leaves the instructor's repository: ``solutions/``, the hidden
cases (``autograde/hidden_cases/``), their expected values
(``autograde/hidden_references/``), the grader (``course_autograde``), and the
reference code of the exercises not yet closed. The release folder
(``build/release`` by default) holds:

* ``notebooks/<assignment>/<assignment>.ipynb``, the student versions;
* ``convnet_course_student-<version>-py3-none-any.whl``: ``course_utils``
  with the data loaders, plots, check engine, visible checks and visible
  references of the released assignments, the course's pinned requirements
  as its dependencies, and the JupyterLab settings of a student: nbgrader's
  assignment list and Validate, without the Formgrader, Create Assignment and
  course list (:data:`INSTRUCTOR_EXTENSIONS`);
* ``requirements-student.txt``: what a student installs (``pip install -r``), and a ``README.md``
  saying how;
* ``release.json``: the assignments, every file with its size and sha256,
  and the modules left out with the reason; and :func:`leaks` has found no
  solution code, hidden case or hidden expected value in any of it.
"""
from __future__ import annotations

import argparse
import ast
import base64
import hashlib
import json
import re
import shutil
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from course_utils import checks
from course_utils.settings import REPO_ROOT

from .notebook_code import SOLUTIONS_DIR, is_answer_cell, read_notebook

PACKAGE_DIR = REPO_ROOT / "utils"
HIDDEN_CASES_DIR = REPO_ROOT / "autograde" / "hidden_cases"
HIDDEN_REFERENCES_DIR = REPO_ROOT / "autograde" / "hidden_references"
OUTPUT_DIR = REPO_ROOT / "build" / "release"
DISTRIBUTION = "convnet_course_student"
ASSIGNMENTS = tuple(checks.ASSIGNMENTS)

# Where each file of course_utils belongs. Reference code of exercises: enters the student package
# when every assignment named is closed.
ANSWER_MODULES = {
    "blocks.py": ("02_identity_block", "03_convolutional_block"),
    "resnet50.py": ("04_resnet50",),
    "cam.py": ("06_transfer_cam",),
}
# Check code shared by some assignments: enters with the first of them released.
SHARED_CHECKS = {"checks/_blocks.py": ("02_identity_block", "03_convolutional_block")}
# Never in a release: the code of the mistakes told by their outputs, most of them one argument from a right
# answer (the checks of a student's package diagnose from those outputs on the visible cases, stored with
# the visible references).
INSTRUCTOR_ONLY = ("checks/mistakes/",)
# Everything a student of any week needs.
COMMON = ("__init__.py", "settings.py", "data.py", "datasets.py", "download.py", "plots.py", "models.py",
          "references.py", "backbones.py", "pretrain.py", "transfer.py", "trained.py", "checks/__init__.py",
          "checks/core.py", "checks/engine.py", "checks/graph.py", "checks/protocol.py", "checks/known_weights.py")
# Requirements of the instructor only (grading across machines, the test suite, the book).
INSTRUCTOR_REQUIREMENTS = ("dask", "distributed", "pytest", "pytest-xdist", "sphinx", "myst-nb", "sphinx-book-theme",
                           "sphinx-mathjax-offline", "playwright")
# nbgrader's instructor tools, switched off in a student's JupyterLab (nbgrader's documented switches).
INSTRUCTOR_EXTENSIONS = ("@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment",
                         "@jupyter/nbgrader:course-list")
INSTRUCTOR_SERVER_EXTENSIONS = ("nbgrader.server_extensions.formgrader", "nbgrader.server_extensions.course_list")
# The settings files the wheel installs into the environment (sys.prefix). Jupyter reads the
# *.d folders in name order, so nbgrader_student.json comes after nbgrader's own nbgrader.json.
JUPYTER_SETTINGS = {
    "etc/jupyter/labconfig/page_config.d/convnet_course_student.json":
        {"disabledExtensions": {name: True for name in INSTRUCTOR_EXTENSIONS}},
    "etc/jupyter/jupyter_server_config.d/nbgrader_student.json":
        {"ServerApp": {"jpserver_extensions": {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}}},
}


class ReleaseError(ValueError):
    """A release that cannot be built as asked (the message says why and what to do)."""


# --------------------------------------------------------------------------- what goes in


@dataclass(frozen=True)
class Plan:
    """The assignments of a release and the package files it holds or leaves out."""

    released: tuple[str, ...]
    closed: tuple[str, ...]
    files: dict[str, str]        # path in course_utils -> why it is in
    left_out: dict[str, str]     # path in course_utils -> why it is not

    @property
    def open(self) -> tuple[str, ...]:
        return tuple(a for a in self.released if a not in self.closed)


def package_files() -> list[str]:
    """The files of ``course_utils`` in the repository (``utils/``), relative, sorted."""
    return sorted(str(path.relative_to(PACKAGE_DIR)) for path in PACKAGE_DIR.rglob("*")
                  if path.is_file() and "__pycache__" not in path.parts and path.suffix in (".py", ".json"))


def checks_file(assignment: str) -> str:
    return f"checks/{checks.ASSIGNMENTS[assignment]}.py"


def reference_file(assignment: str) -> str:
    return f"reference_values/{assignment}.json"


def plan(released, closed=()) -> Plan:
    """Which files of ``course_utils`` a release of ``released`` (``closed`` among them) holds."""
    closed = tuple(dict.fromkeys(closed))
    unknown = sorted((set(released) | set(closed)) - set(ASSIGNMENTS))
    released = tuple(a for a in ASSIGNMENTS if a in set(released) | set(closed))
    if unknown or not released:
        raise ReleaseError(f"release which assignments? unknown: {unknown}; the course has {list(ASSIGNMENTS)}")
    owned = {checks_file(a): a for a in ASSIGNMENTS} | {reference_file(a): a for a in ASSIGNMENTS}
    files, left_out = {}, {}
    for name in package_files():
        if name.startswith(INSTRUCTOR_ONLY):
            left_out[name] = "code of the known mistakes: the instructor's side only (their visible outputs are data)"
        elif name in COMMON:
            files[name] = "common to every assignment"
        elif name in ANSWER_MODULES:
            owners = ANSWER_MODULES[name]
            if set(owners) <= set(closed):
                files[name] = f"reference code of {', '.join(owners)}, closed"
            else:
                left_out[name] = f"reference code of {', '.join(owners)}: enters when closed"
        elif name in SHARED_CHECKS:
            users = [a for a in SHARED_CHECKS[name] if a in released]
            (files if users else left_out)[name] = (f"checks of {', '.join(users)}" if users
                                                    else "checks of assignments not released")
        elif name in owned:
            assignment = owned[name]
            (files if assignment in released else left_out)[name] = (
                f"visible checks of {assignment}" if assignment in released else f"{assignment} is not released")
        else:
            raise ReleaseError(f"utils/{name} is in no list of course_autograde.release: add it to COMMON, "
                               "ANSWER_MODULES or SHARED_CHECKS, saying which side it belongs to")
    result = Plan(released, closed, files, left_out)
    check_dependencies(result)
    return result


def notebook_modules(nb) -> set[str]:
    """The ``course_utils`` modules a notebook's code imports (``from course_utils import a, b``...)."""
    code = "\n".join(cell.source for cell in nb.cells if cell.cell_type == "code")
    modules = set(re.findall(r"\bcourse_utils\.(\w+)", code))
    for names in re.findall(r"from\s+course_utils\s+import\s+\(?([\w\s,]+)\)?", code):
        modules |= {name.strip() for name in names.split(",") if name.strip()}
    return modules


def check_dependencies(release: Plan) -> None:
    """Refuse a release whose notebooks import reference code it leaves out."""
    for assignment in release.released:
        nb = read_notebook(SOLUTIONS_DIR / assignment / f"{assignment}.ipynb")
        for module in sorted(notebook_modules(nb)):
            name = f"{module}.py"
            if name in release.left_out and name in ANSWER_MODULES:
                owners = ANSWER_MODULES[name]
                if assignment in owners:
                    raise ReleaseError(f"{assignment} imports course_utils.{module}, the reference code of its own "
                                       "exercises: its student notebook must use the student's answers instead")
                missing = [a for a in owners if a not in release.closed]
                raise ReleaseError(f"{assignment} builds on course_utils.{module}, the reference code of "
                                   f"{', '.join(owners)}: close {' and '.join(missing)} first "
                                   f"(--closed {' '.join(missing)})")


# --------------------------------------------------------------------------- the wheel


def version(release: Plan) -> str:
    """The project's version, with the release's assignment counts as a local label (``0.1.0+4.3``)."""
    text = (REPO_ROOT / "pyproject.toml").read_text()
    base = re.search(r'(?m)^version\s*=\s*"([^"]+)"', text)[1]
    return f"{base}+{len(release.released)}.{len(release.closed)}"


def student_requirements() -> list[str]:
    """The course's pinned requirements (``requirements.txt``) without the instructor's own."""
    pins = []
    for line in (REPO_ROOT / "requirements.txt").read_text().splitlines():
        line = line.split("#")[0].strip()
        if line and re.split(r"[=<>!~ \[]", line)[0].lower() not in INSTRUCTOR_REQUIREMENTS:
            pins.append(line)
    return pins


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def build_wheel(release: Plan, target: Path) -> Path:
    """Write the student package of ``release`` into ``target`` (a wheel, by hand: it is a zip with three
    metadata files, and the result is the same bytes for the same inputs)."""
    ver = version(release)
    info = f"{DISTRIBUTION}-{ver}.dist-info"
    data = f"{DISTRIBUTION}-{ver}.data/data"
    metadata = "\n".join([
        "Metadata-Version: 2.1", f"Name: {DISTRIBUTION}", f"Version: {ver}",
        "Summary: The student package of the convnet course: data, plots and visible checks",
        "Requires-Python: >=3.10", *(f"Requires-Dist: {pin}" for pin in student_requirements()),
        "", f"Released: {', '.join(release.released)}. Closed: {', '.join(release.closed) or 'none'}.", ""])
    entries = {f"course_utils/{name}": (PACKAGE_DIR / name).read_bytes() for name in sorted(release.files)}
    entries |= {f"{data}/{path}": (json.dumps(settings, indent=2) + "\n").encode()
                for path, settings in JUPYTER_SETTINGS.items()}
    entries[f"{info}/METADATA"] = metadata.encode()
    entries[f"{info}/WHEEL"] = (b"Wheel-Version: 1.0\nGenerator: course_autograde.release\n"
                                b"Root-Is-Purelib: true\nTag: py3-none-any\n")
    entries[f"{info}/top_level.txt"] = b"course_utils\n"
    record = "".join(f"{name},{_record_hash(content)},{len(content)}\n" for name, content in entries.items())
    entries[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    path = Path(target) / f"{DISTRIBUTION}-{ver}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as wheel:
        for name, content in entries.items():
            item = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            item.external_attr = 0o644 << 16
            wheel.writestr(item, content, zipfile.ZIP_DEFLATED)
    return path


# --------------------------------------------------------------------------- the leak search


def solution_code(assignments) -> dict[str, list[tuple[str, ...]]]:
    """Assignment -> what of its solutions a release must not contain: every two consecutive lines of
    code of its solutions (one line alone is too often an import or ``return x``), and every line of
    its hidden tests; normalised (:func:`normalise`)."""
    found = {}
    for assignment in assignments:
        nb = read_notebook(SOLUTIONS_DIR / assignment / f"{assignment}.ipynb")
        pieces: list[tuple[str, ...]] = []
        for cell in nb.cells:
            region, lines = None, []
            for line in cell.source.splitlines():
                marker = line.strip()
                if marker in ("### BEGIN SOLUTION", "### BEGIN HIDDEN TESTS"):
                    region, lines = marker, []
                elif marker in ("### END SOLUTION", "### END HIDDEN TESTS"):
                    if region == "### BEGIN SOLUTION":
                        pieces += list(zip(lines, lines[1:]))
                    else:
                        pieces += [(line,) for line in lines]
                    region = None
                elif region and substantive(code := normalise(line)):
                    lines.append(code)
        found[assignment] = pieces
    return found


def normalise(line: str) -> str:
    """A line of code without its comment and with single spaces (so re-indenting hides nothing)."""
    return " ".join(line.split("#")[0].split()) if not line.strip().startswith(("'", '"')) else " ".join(line.split())


def substantive(code: str) -> bool:
    """A line that says something of its own: not an import, nor short (``continue``, ``return x``)."""
    return len(code) >= 16 and not code.startswith(("import ", "from "))


def contains(lines: list[str], piece: tuple[str, ...]) -> bool:
    """Whether ``piece`` (consecutive normalised lines) occurs in ``lines``."""
    n = len(piece)
    return any(tuple(lines[i:i + n]) == piece for i, line in enumerate(lines) if line == piece[0])


def hidden_case_names() -> set[str]:
    """The names of the hidden cases worth searching for: with a digit or an ``_``, and not also the name
    of a visible case (of another exercise)."""
    names = set()
    for path in HIDDEN_CASES_DIR.glob("*.py"):
        for part in ast.literal_eval(path.read_text()).values():
            if isinstance(part, dict):
                names |= {name for name in part if re.search(r"[\d_]", name) and len(name) >= 6}
    visible = {case.name for assignment in ASSIGNMENTS for exercise in checks.module(assignment).CHECKS.exercises
               for case in exercise.cases["visible"]}
    return names - visible


def hidden_numbers() -> set[str]:
    """The hidden expected values worth searching for, as stored: floats with at least 8 significant
    digits, integers with at least 7 (parameter counts, costs); fewer (0.5, 2.0, 64) are too common.
    A value the visible references also hold (the same count for another case) is not a secret."""
    return stored_numbers(HIDDEN_REFERENCES_DIR) - stored_numbers(PACKAGE_DIR / "reference_values")


def stored_numbers(folder: Path) -> set[str]:
    numbers = set()

    def walk(value):
        if isinstance(value, dict):
            for item in value.values():
                walk(item)
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, (int, float)) and not isinstance(value, bool) and distinctive(repr(value)):
            numbers.add(repr(value))

    for path in Path(folder).glob("*.json"):
        walk(json.loads(path.read_text()))
    return numbers


NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:e[-+]?\d+)?(?![\w.])")


def distinctive(number: str) -> bool:
    if re.fullmatch(r"-?\d+", number):
        return len(number.lstrip("-")) >= 7
    digits = re.sub(r"e.*$", "", number.lstrip("-")).replace(".", "").lstrip("0").rstrip("0")
    return len(digits) >= 8


def release_texts(folder: Path) -> dict[str, str]:
    """Every text in the release folder, the wheel's members included: name -> text."""
    texts = {}
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file():
            continue
        name = str(path.relative_to(folder))
        if path.suffix == ".whl":
            with zipfile.ZipFile(path) as wheel:
                for member in wheel.namelist():
                    texts[f"{name}!{member}"] = wheel.read(member).decode("utf-8", "replace")
        else:
            texts[name] = path.read_bytes().decode("utf-8", "replace")
    return texts


def leaks(folder: Path, release: Plan) -> list[str]:
    """What of the instructor's side is found in the release folder: one line per finding (none: clean)."""
    texts = release_texts(folder)
    code_lines = {name: [code for line in code_text(name, text).splitlines() if substantive(code := normalise(line))]
                  for name, text in texts.items()}
    found = []
    for assignment, pieces in solution_code(release.open).items():
        for piece in pieces:
            for name, lines in code_lines.items():
                if contains(lines, piece):
                    found.append(f"{name}: solution code or a hidden test of {assignment}: {' / '.join(piece)[:90]}")
    numbers = hidden_numbers()
    # one pass of each text per kind of finding (the references are large: one search per name took seconds)
    case_names, mistakes_code = hidden_case_names(), mistakes_functions()
    for name, text in texts.items():
        for case in sorted(words_found(case_names, text)):
            found.append(f"{name}: the hidden case name {case!r}")
        for match in NUMBER.finditer(text):
            if match[0] in numbers:
                found.append(f"{name}: a hidden expected value, {match[0]}")
                break
        if "!course_utils/" in name:
            for function in sorted(set(DEFINED.findall(text)) & mistakes_code):
                found.append(f"{name}: the code of a known mistake, {function} (instructor's side only)")
            for assignment in release.open:
                for exercise in sorted(exercise_names([assignment])):
                    if re.search(rf"(?m)^\s*(?:def|class)\s+{exercise}\b", text):
                        found.append(f"{name}: an implementation of {exercise} ({assignment} open)")
    return found


WORD = re.compile(r"\w+")
DEFINED = re.compile(r"(?m)^\s*def\s+(\w+)")


def words_found(words, text: str) -> set[str]:
    """Which of ``words`` (identifiers) occur in ``text`` as whole words: one pass over the text."""
    plain = {word for word in words if WORD.fullmatch(word)}
    found = plain & set(WORD.findall(text))
    for word in set(words) - plain:  # a name with other characters, if any: searched on its own
        if re.search(rf"(?<![\w]){re.escape(word)}(?![\w])", text):
            found.add(word)
    return found


def mistakes_functions() -> set[str]:
    """The functions of ``course_utils.checks.mistakes``: code that computes near-right answers."""
    names = set()
    for path in (PACKAGE_DIR / "checks" / "mistakes").glob("*.py"):
        names |= {node.name for node in ast.walk(ast.parse(path.read_text())) if isinstance(node, ast.FunctionDef)}
    return names


def code_text(name: str, text: str) -> str:
    """The code of a release file: a notebook's code cells, else the text itself."""
    if name.endswith(".ipynb"):
        try:
            return "\n".join("".join(cell["source"]) for cell in json.loads(text)["cells"]
                             if cell["cell_type"] == "code")
        except (ValueError, KeyError, TypeError):
            return text
    return text


def exercise_names(assignments) -> set[str]:
    """The exercises of ``assignments`` and the names of the course's implementations of them."""
    names = set()
    for assignment in assignments:
        for exercise in checks.module(assignment).CHECKS.exercises:
            names.add(exercise.name)
            if exercise.implementation:
                names.add(exercise.implementation.partition(":")[2])
    return names


# --------------------------------------------------------------------------- the release


def student_notebooks(release: Plan, target: Path, source: Path | None = None) -> list[Path]:
    """The student notebooks of the released assignments, generated from ``solutions/`` by nbgrader
    (or copied from ``source``, a folder of already generated ones such as ``notebooks/``)."""
    if source is None:
        from .sync import generate_release

        return generate_release(target, list(release.released))
    written = []
    for assignment in release.released:
        shutil.copytree(Path(source) / assignment, target / assignment)
        written += sorted((target / assignment).rglob("*.ipynb"))
    for path in written:
        nb = read_notebook(path)
        if any(is_answer_cell(cell) and "### BEGIN SOLUTION" in cell.source for cell in nb.cells):
            raise ReleaseError(f"{path} still holds solutions: it is not a student version")
    return written


def student_readme(release: Plan, wheel: str) -> str:
    notebooks = "\n".join(f"- `notebooks/{a}/{a}.ipynb`" for a in release.released)
    return f"""# Convolutional networks and ResNets: your course files

{notebooks}

Install (Python 3.10-3.12), then open the notebooks in JupyterLab:

```bash
python -m venv .venv && .venv/bin/pip install -r requirements-student.txt
.venv/bin/jupyter lab notebooks/
```

`{wheel}` is the course's code (`course_utils`: data, plots and the checks you see under each
exercise). Set `COURSE_DATA_DIR` to the data folder your instructor gives you; a notebook that
misses a dataset says how to download it (`course_utils.download.fetch("<name>")`). The check
cells run the visible cases; your work is graded on more cases of other sizes and values, so
write general code rather than code that fits the examples.
"""


def build(released, closed=(), output: Path = OUTPUT_DIR, notebooks_from: Path | None = None) -> dict:
    """Build the release into ``output`` (emptied first); returns its manifest (``release.json``)."""
    release = plan(released, closed)
    output = Path(output)
    if output.exists():
        if not output.is_dir() or (any(output.iterdir()) and not (output / "release.json").exists()):
            raise ReleaseError(f"{output} is not an earlier release (no release.json): choose a new or empty "
                               "folder, the release replaces what it holds")
        shutil.rmtree(output)
    output.mkdir(parents=True)
    student_notebooks(release, output / "notebooks", notebooks_from)
    wheel = build_wheel(release, output)
    (output / "requirements-student.txt").write_text(
        "# A student's environment: pip install -r requirements-student.txt\n"
        + "".join(f"{pin}\n" for pin in student_requirements()) + f"./{wheel.name}\n")
    (output / "README.md").write_text(student_readme(release, wheel.name))
    findings = leaks(output, release)
    if findings:
        shutil.rmtree(output)
        raise ReleaseError("the release would give away the instructor's side; nothing was written:\n  "
                           + "\n  ".join(findings[:20]))
    manifest = {
        "released": list(release.released), "closed": list(release.closed), "open": list(release.open),
        "files": {str(path.relative_to(output)): {"bytes": path.stat().st_size,
                                                  "sha256": hashlib.sha256(path.read_bytes()).hexdigest()}
                  for path in sorted(output.rglob("*")) if path.is_file()},
        "package": release.files, "left_out": release.left_out,
        "leak_search": "no solution line, hidden case name or hidden expected value found",
    }
    (output / "release.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("assignments", nargs="*", help="the assignments released (default: those --closed)")
    parser.add_argument("--closed", nargs="*", default=[], metavar="ASSIGNMENT",
                        help="released assignments whose deadline has passed: their reference code goes in")
    parser.add_argument("--output", type=Path, default=OUTPUT_DIR, help=f"default: {OUTPUT_DIR}")
    args = parser.parse_args(argv)
    try:
        manifest = build(args.assignments, args.closed, args.output)
    except ReleaseError as error:
        print(f"release: {error}", file=sys.stderr)
        return 2
    print(f"released {', '.join(manifest['released'])} (open: {', '.join(manifest['open']) or 'none'}) "
          f"into {args.output}")
    for name, entry in manifest["files"].items():
        print(f"  {entry['bytes']:>10,}  {name}")
    for name, why in manifest["left_out"].items():
        print(f"  left out: course_utils/{name} ({why})")
    print(f"  leak search: {manifest['leak_search']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
