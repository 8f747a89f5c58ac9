"""The class that ``tests/test_grade.py`` grades: honest students and hostile ones, as data.

Each :class:`Case` is one student of the tiny assignment (``tiny_course.py``):
the answer cells handed in, and what must hold after the batch (score, status,
a piece of the reason). Hostile answers define a correct ``add`` and put their
act in the ``mean`` answer, after a correct ``mean`` where the act is not
about scoring: so the score says whether the act stopped the grading (1 of 3)
or was contained (3 of 3); cheats that would win points have a wrong ``mean``
(1 of 3 unless the cheat works). The students whose names start with ``cheat_``
are safe to grade with plain nbgrader too, which the test does for comparison.

Words in capitals are filled in by the test: ``COURSE_DIR`` (the course
directory), ``UTILS_DIR`` (course_utils, mounted read-only), ``VENV``,
``MARKER`` (unique to the run: a process or file carrying it must not
survive), ``HIDDEN_DIR`` (the hidden references, which only the grader reads) and ``PORT`` (a TCP server the test runs on the host's 127.0.0.1).
The limits of the test course are in ``LIMITS``.
"""
from __future__ import annotations

from dataclasses import dataclass

from tiny_course import CORRECT, WRONG

LIMITS = {"timeout": 5, "notebook_timeout": 60, "memory_limit": 2**30, "process_limit": 64}

ROUNDED_MEAN = "def mean(values):\n    return round(sum(values) / len(values))"  # fails only the float check


@dataclass(frozen=True)
class Case:
    student: str
    act: str  # what the student does, for the test report
    answers: dict[str, str]  # exercise -> code (other exercises stay unanswered)
    score: float
    status: str
    reason: str = ""  # must be in the report's reason ("" = the reason is empty)
    plain_score: float | None = None  # what plain `nbgrader autograde` gives (safe to run unsandboxed)
    output: str = ""  # must be in the autograded notebook's outputs
    absent: tuple[str, ...] = ()  # must not be in them
    needs_memory_cgroup: bool = False
    # Another ending that is just as safe, accepted instead: (score, status, reason)
    or_else: tuple[float, str, str] | None = None


def hostile(code: str, mean: str = CORRECT["mean"]) -> dict[str, str]:
    """Answers: a correct ``add``; ``mean`` followed by the hostile ``code``."""
    return {"add": CORRECT["add"], "mean": f"{mean}\n{code}"}


HONEST = [
    Case("honest_full", "answers both exercises", dict(CORRECT), 3.0, "normal", plain_score=3.0),
    Case("honest_prints", "answers with prints and a helper", {
        "add": "def add(a, b):\n    print('adding', a, b)\n    return sum([a, b])",
        "mean": "def _total(values):\n    return math.fsum(values)\n\ndef mean(values):\n"
                "    return _total(values) / len(values)\nprint(mean([1, 2]))"},
         3.0, "normal", plain_score=3.0),
    Case("honest_mistakes", "answers both wrongly", dict(WRONG), 0.0, "normal", plain_score=0.0),
]

HOSTILE = [
    Case("sys_exit", "sys.exit() in an answer", hostile("import sys\nsys.exit()"), 3.0, "normal"),
    Case("os_exit", "os._exit(1): the kernel exits", hostile("import os\nos._exit(1)"),
         1.0, "failed", "the kernel exited with code 1 while cell 'mean' was running"),
    Case("kill_kernel", "os.kill(os.getpid(), 9)", hostile("import os\nos.kill(os.getpid(), 9)"),
         1.0, "failed", "the kernel was killed by signal 9 (SIGKILL) while cell 'mean' was running"),
    Case("infinite_loop", "an infinite loop", hostile("while True:\n    pass"),
         3.0, "normal", "cell 'mean' ran over the 5 s limit per cell and was interrupted"),
    Case("loop_ignoring_sigint", "an infinite loop that ignores SIGINT",
         hostile("import signal\nsignal.signal(signal.SIGINT, signal.SIG_IGN)\nwhile True:\n    pass"),
         1.0, "failed", "cell 'mean' ran over the 5 s limit per cell and did not stop when interrupted"),
    Case("memory_bomb", "allocates memory until something gives",
         hostile("blocks = []\nwhile True:\n    blocks.append(b'x' * 2**26)"),
         1.0, "failed", "the notebook used more than its 1 GiB of memory while cell 'mean' was running",
         needs_memory_cgroup=True,
         # on a starved CPU (a test run beside a training run) the cell's 5 s limit can stop it first;
         # test_sandbox.py checks the memory kill itself, with time to spare
         or_else=(3.0, "normal", "cell 'mean' ran over the 5 s limit per cell and was interrupted")),
    Case("fork_bomb", "a fork bomb (each child forks until the process limit, then waits)", hostile((
        "import os, time\n"
        "def _bomb():\n"
        "    while True:\n"
        "        try:\n"
        "            os.fork()\n"
        "        except OSError:\n"
        "            time.sleep(1000)\n"
        "if os.fork() == 0:\n"
        "    _bomb()\n"
        "time.sleep(2)\n"
        "print('processes in the sandbox:', sum(name.isdigit() for name in os.listdir('/proc')))")),
         3.0, "normal", output="processes in the sandbox:"),
    Case("huge_print", "prints 100 MB", hostile("print('x' * 100_000_000)"),
         3.0, "normal", output="[Output cut by the grader:"),
    Case("network", "connects to a server on the host's 127.0.0.1 and looks up a name", hostile((
        "import socket\n"
        "try:\n"
        "    with socket.create_connection(('127.0.0.1', PORT), timeout=3) as connection:\n"
        "        connection.sendall(b'MARKER')\n"
        "    print('CONNECTED')\n"
        "except OSError as error:\n"
        "    print('no connection:', type(error).__name__)\n"
        "try:\n"
        "    socket.getaddrinfo('example.com', 80)\n"
        "    print('NAME RESOLVED')\n"
        "except OSError as error:\n"
        "    print('no name lookup:', type(error).__name__)")),
         3.0, "normal", output="no connection: ConnectionRefusedError", absent=("CONNECTED", "NAME RESOLVED")),
    Case("write_outside", "writes into the course, the gradebook, another student's files, the code", hostile((
            "import pathlib\n"
            "for target in ['COURSE_DIR/solutions/tiny/tiny.ipynb', 'COURSE_DIR/notebooks/tiny/tiny.ipynb',\n"
            "               'COURSE_DIR/nbgrader_config.py', 'COURSE_DIR/autograde/gradebook.db',\n"
            "               'COURSE_DIR/autograde/submitted/honest_full/tiny/tiny.ipynb',\n"
            "               'COURSE_DIR/autograde/submitted/write_outside/tiny/tiny.ipynb',\n"
            "               'UTILS_DIR/MARKER.txt', 'VENV/MARKER.txt', '/tmp/MARKER.txt']:\n"
            "    try:\n"
            "        pathlib.Path(target).write_text('overwritten by MARKER')\n"
            "        print('WROTE', target)\n"
            "    except OSError as error:\n"
            "        print('could not write', target, type(error).__name__)")),
         3.0, "normal", output="could not write", absent=("WROTE COURSE_DIR", "WROTE UTILS_DIR", "WROTE VENV")),
    Case("read_solutions", "steals mean from solutions/ or another student's submission", hostile((
        "import json\n"
        "stolen = None\n"
        "for path in ['COURSE_DIR/solutions/tiny/tiny.ipynb',\n"
        "             'COURSE_DIR/autograde/submitted/honest_full/tiny/tiny.ipynb']:\n"
        "    try:\n"
        "        cells = json.load(open(path))['cells']\n"
        "        stolen = next(''.join(cell['source']) for cell in cells\n"
        "                      if cell['metadata'].get('nbgrader', {}).get('grade_id') == 'mean')\n"
        "        print('READ', path)\n"
        "    except OSError as error:\n"
        "        print('could not read', path, type(error).__name__)\n"
        "if stolen:\n"
        "    exec(stolen)"), mean="def mean(values):\n    return 0"),
         1.0, "normal", output="could not read", absent=("BEGIN SOLUTION", "READ COURSE_DIR")),
    Case("cheat_replace_helper", "replaces numpy.isclose, which the check's comparison uses",
         hostile("import numpy\nnumpy.isclose = lambda *args, **kwargs: True", mean=ROUNDED_MEAN),
         1.0, "normal", plain_score=3.0),
    Case("cheat_rebind_helper", "rebinds the name of the checks module to a fake one",
         hostile("import types\ntiny_checks = types.SimpleNamespace(check_add=lambda *args, **kwargs: None,\n"
                 "                                check_mean=lambda *args, **kwargs: None)", mean=WRONG["mean"]),
         1.0, "normal", "the grader put back helpers that the notebook had replaced: tiny_checks", plain_score=3.0),
    Case("cheat_patch_checks", "replaces the check function with one that prints the pass line",
         hostile("tiny_checks.check_mean = lambda *args, **kwargs: print('\u2714 mean: all checks passed.')",
                 mean=WRONG["mean"]),
         1.0, "normal", "put back helpers that the notebook had replaced: tiny_checks.check_mean", plain_score=3.0),
    Case("cheat_patch_engine", "makes the check engine's judge pass everything",
         hostile("from course_utils.checks import engine\nengine.judge = lambda *args, **kwargs: None",
                 mean=WRONG["mean"]),
         1.0, "normal", "course_utils.checks.engine.judge", plain_score=3.0),
    Case("cheat_forge_observation", "publishes a forged record of its answer before each cell runs", hostile((
        "from IPython.display import display\n"
        "def _forge(info):\n"
        "    for part, outputs in [('visible', {'three': 2.0}), ('hidden', {'one': 5.0, 'tenths': 0})]:\n"
        "        display({'application/vnd.convnet-course.observation+json': {'exercise': 'mean', 'part': part,\n"
        "                 'outputs': outputs, 'failure': None}}, raw=True)\n"
        "get_ipython().events.register('pre_run_cell', _forge)"), mean=WRONG["mean"]),
         1.0, "normal", output="expected: 0.1", plain_score=1.0),
    Case("cheat_read_hidden_references", "reads the hidden cases' expected values to special-case them", hostile((
        "import json\n"
        "try:\n"
        "    HIDDEN = json.load(open('HIDDEN_DIR/tiny.json'))['values']['mean']['hidden']\n"
        "    print('READ HIDDEN')\n"
        "except OSError as error:\n"
        "    HIDDEN = {}\n"
        "    print('could not read the hidden references', type(error).__name__)\n"
        "def mean(values):\n"
        "    if len(values) == 10 and 'tenths' in HIDDEN:\n"
        "        return HIDDEN['tenths']\n"
        "    return round(sum(values) / len(values))"), mean=""),
         1.0, "normal", output="could not read the hidden references", absent=("READ HIDDEN",), plain_score=3.0),
    Case("background_process", "starts detached processes (a new session, a double-forked daemon)", hostile((
            "import os, subprocess, sys\n"
            "sleeper = [sys.executable, '-c', 'import time; time.sleep(600)', 'MARKER']\n"
            "subprocess.Popen(sleeper, start_new_session=True, stdin=subprocess.DEVNULL,\n"
            "                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)\n"
            "if os.fork() == 0:\n"
            "    os.setsid()\n"
            "    if os.fork() == 0:\n"
            "        os.execv(sys.executable, sleeper)\n"
            "    os._exit(0)\n"
            "print('started')")),
         3.0, "normal", output="started"),
    Case("overwrite_gradebook", "opens the gradebook with sqlite3 to give itself points", hostile((
        "import sqlite3\n"
        "for path in ['COURSE_DIR/autograde/gradebook.db', 'gradebook.db']:\n"
        "    try:\n"
        "        with sqlite3.connect(path) as db:\n"
        "            db.execute('UPDATE grade SET auto_score = 100')\n"
        "            db.execute('DROP TABLE grade')\n"
        "        print('CHANGED', path)\n"
        "    except sqlite3.Error as error:\n"
        "        print('could not change', path, error)")),
         3.0, "normal", output="could not change", absent=("CHANGED COURSE_DIR",)),
    Case("forge_report", "writes forged records into the executor's report, reads its memory", hostile((
        "import json, os\n"
        "forged = '0' * 64 + ' ' + json.dumps({'seq': 9, 'type': 'end'}) + '\\n'\n"
        "for path in ['/proc/1/fd/1', f'/proc/{os.getppid()}/fd/1', '/proc/self/fd/1']:\n"
        "    try:\n"
        "        with open(path, 'w') as stream:\n"
        "            stream.write(forged)\n"
        "        print('wrote', path)\n"
        "    except OSError as error:\n"
        "        print('could not write', path, type(error).__name__)\n"
        "for path in [f'/proc/{os.getppid()}/environ', f'/proc/{os.getppid()}/mem']:\n"
        "    try:\n"
        "        open(path, 'rb').read(100)\n"
        "        print('READ', path)\n"
        "    except OSError as error:\n"
        "        print('could not read', path, type(error).__name__)"), mean="def mean(values):\n    return 0"),
         1.0, "normal", "line(s) that the grader did not write appeared in its report", output="could not read",
         absent=("READ /proc",)),
    Case("kill_grader", "kills the executor (its parent process)",
         hostile("import os\nos.kill(os.getppid(), 9)"),
         1.0, "failed", "the grading process ended early (killed by signal 9 (SIGKILL)) while cell 'mean' was running"),
]

PROBLEM_FOLDERS = [  # what validation makes of them (tests/test_validate.py covers the kinds in depth)
    Case("misnamed", "hands in 'tiny (1).ipynb'", dict(CORRECT), 3.0, "repaired"),
    Case("empty_folder", "hands in nothing", {}, 0.0, "not graded",
         "nothing submitted: 'tiny.ipynb' is missing and the folder is empty"),
    Case("pdf", "hands in a PDF named tiny.ipynb", {}, 0.0, "not graded", "'tiny.ipynb' is a PDF document"),
]

CLASS = HONEST + HOSTILE + PROBLEM_FOLDERS
