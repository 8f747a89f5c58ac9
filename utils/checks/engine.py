"""The one check engine: exercises described as data, one loop that runs them.

An :class:`Exercise` says, as data, everything its check needs:

* its cases, ``{"visible": [...], "hidden": [...]}``: hidden cases are other
  sizes and values, never other kinds of mistakes;
* ``run(answer, case)``: how an answer is called on a case and what is kept of
  its result. The student's answer and the solution go through this same
  function, so the checks and the references (:meth:`Assignment.build_references`)
  cannot drift apart;
* ``probes``: properties of the answer beyond its outputs (``get_config``, a
  save/load round trip, the error it raises...), each a :class:`Probe`: what
  the answer does is recorded as data where it runs, and judged against what
  the solution does, like the outputs;
* ``mistakes``: the catalogue of known mistakes, each a way to recognise it
  (what it outputs on a case, or a test of the output found) and its hint. Those
  recognised by their outputs are often one argument from a right answer, so they
  live on the instructor's side (``catalogue``: a module of :mod:`.mistakes`); a
  student's package has their outputs on the visible cases, stored with the visible
  references (:func:`known_mistakes`);
* tolerances and the generic hint for a difference no known mistake explains;
* ``implementation``: the course's own implementation of the exercise
  (``"module:function"``, for the notebooks that build on it). An answer that
  calls it fails its check: the exercise is to write it.

:func:`check` runs an exercise in two steps, which the grader runs in two
processes:

1. :func:`observe` runs the answer on every case and the probes, and keeps
   what happened as data (an *observation*: the outputs and the probes'
   records, or the failure that stopped it). It runs where the student's code
   runs, needs no reference and makes no verdict on what it records;
2. :func:`judge` compares the outputs and the probes' records with the stored
   references, diagnoses a difference from the catalogue and raises one short
   :class:`~.core.CheckFailed` message.

In JupyterLab both run in the kernel. In the grading sandbox
(``COURSE_GRADING=observe``) a check cell only publishes its observation (a
display output of type :data:`OBSERVATION_MIME`); the grader, outside the
sandbox and with the hidden references the sandbox never sees, judges it
and writes the verdict into the cell (``course_autograde.judge``). Patching
or faking the checks in the kernel then changes nothing but the observation,
and an observation that passes is one that has the right outputs.

Warnings and stderr output of the student's code are caught and shown as a
note on stdout, because nbgrader scores a graded cell 0 when anything
reaches stderr.
"""
from __future__ import annotations

import ast
import contextlib
import functools
import importlib
import io
import os
import sys
import sysconfig
import types
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

from .. import references
from .core import CheckFailed, difference, error_text, fail, part_name, passed, short

PARTS = ("visible", "hidden")
OBSERVATION_MIME = "application/vnd.convnet-course.observation+json"
GRADING_ENV = "COURSE_GRADING"  # "observe": the check cells publish observations, the grader judges
HIDDEN_CASES_ENV = "COURSE_HIDDEN_CASES"  # the folder of the hidden cases (default: the instructor's repository)
NOT_WRITTEN = ("replace `raise NotImplementedError()` in the exercise cell with your code, then run that "
               "cell again.")


# --------------------------------------------------------------------------- the data


@dataclass(frozen=True)
class Case:
    """One call of an answer: a name (a key of the references) and its parameters."""

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.params[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.params.get(key, default)


def cases(part: Mapping[str, Mapping[str, Any]]) -> list[Case]:
    """``{"name": {params}}`` as a list of :class:`Case`."""
    return [Case(name, dict(params)) for name, params in part.items()]


# --------------------------------------------------------------------------- hidden parts


class HiddenCasesUnavailable(CheckFailed):
    """The hidden cases are not in this installation (a student's): they run when the work is graded."""


def hidden_cases_dir() -> Path:
    """``COURSE_HIDDEN_CASES``, else ``autograde/hidden_cases`` of the instructor's repository."""
    given = os.environ.get(HIDDEN_CASES_ENV)
    return Path(given) if given else Path(__file__).resolve().parents[2] / "autograde" / "hidden_cases"


UNAVAILABLE_HINT = ("they are run when your instructor grades the assignment; here, pass the visible checks "
                    "(call the check without hidden=True).")


@functools.lru_cache(maxsize=None)
def hidden_cases_file(assignment: str, directory: str) -> dict:
    """The hidden parts of ``assignment``: a Python literal (read as data, never run)."""
    path = Path(directory) / f"{assignment}.py"
    try:
        return ast.literal_eval(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise HiddenCasesUnavailable(
            f"the hidden cases of {assignment} are not in this installation",
            hint=UNAVAILABLE_HINT) from None


@dataclass(frozen=True)
class Hidden:
    """A hidden part kept on the instructor's side, loaded when first used.

    ``key``: its entry in ``autograde/hidden_cases/<assignment>.py``; ``as_cases``: the entry maps case
    names to parameters (a list of :class:`Case`), else it is a value used as it is.
    """

    assignment: str
    key: str
    as_cases: bool = True

    def load(self) -> Any:
        value = hidden_cases_file(self.assignment, str(hidden_cases_dir()))[self.key]
        return cases(value) if self.as_cases else value


def hidden_cases(assignment: str, key: str) -> Hidden:
    return Hidden(assignment, key)


def hidden_value(assignment: str, key: str) -> Hidden:
    return Hidden(assignment, key, as_cases=False)


class Parts(Mapping):
    """``{"visible": ..., "hidden": ...}``, a :class:`Hidden` part loaded when first read."""

    def __init__(self, visible: Any, hidden: Any = None):
        self.declared = {"visible": visible, "hidden": hidden}  # as written: a Hidden stays a Hidden
        self._loaded: dict[str, Any] = {}

    def __getitem__(self, part: str) -> Any:
        value = self.declared[part]
        if isinstance(value, Hidden):
            if part not in self._loaded:
                self._loaded[part] = value.load()
            return self._loaded[part]
        return value

    def __iter__(self) -> Iterator[str]:
        return iter(self.declared)

    def __len__(self) -> int:
        return len(self.declared)


@dataclass(frozen=True)
class Mistake:
    """A known mistake: how to recognise it, and the hint that names it.

    ``output(case)`` computes what the mistake gives on ``case`` (``None``
    when it cannot be told apart there); ``test(case, found, expected)``
    recognises it from the output found. Give one of the two.
    """

    hint: str
    output: Callable[[Case], Any] | None = None
    test: Callable[[Case, Any, Any], bool] | None = None


@dataclass(frozen=True)
class StoredOutputs:
    """A mistake's outputs on the visible cases, as stored with the visible references."""

    outputs: Mapping[str, Any]

    def __call__(self, case: Case) -> Any:
        return self.outputs.get(case.name)


@dataclass(frozen=True)
class CrashHint:
    """A hint for an error raised by the student's code, chosen by words of its message."""

    words: tuple[str, ...]
    hint: str
    error: type | tuple[type, ...] = Exception

    def applies(self, error: BaseException) -> bool:
        text = error_text(error, limit=100_000)  # the error's own words, without Keras' wrapping
        return isinstance(error, self.error) and all(word in text for word in self.words)


# Crashes whose cause can be named whatever the exercise.
COMMON_CRASHES = (
    CrashHint(("KerasTensor cannot be used as input to a TensorFlow function",), "a TensorFlow function (tf.nn.relu, tf.add, tf.reshape...) was applied to a Keras "
              "tensor: inside a model use a layer (layers.ReLU(), layers.Add()) or keras.ops (keras.ops.relu, "
              "keras.ops.add), which work on symbolic tensors."),
    CrashHint((), "a name your code uses is not defined: define it in the answer cell, or run the cell that "
              "defines it first.", NameError),
    CrashHint(("unexpected keyword argument",), "a function or layer was given an argument it does not have: "
              "check its spelling against the documentation.", TypeError),
)


@dataclass(frozen=True)
class Probe:
    """A property of the answer beyond its outputs, observed as data and judged outside the student's process.

    ``observe(answer, part)`` records what the answer does (JSON-ready data: an error's type, the values a
    ``get_config`` recorded, outputs after a save and reload...); it runs the student's code, so it may
    raise the :class:`~.core.CheckFailed` of a crash, never a verdict. ``judge(found, expected, part)``
    compares that record with the solution's (the references) and raises the failure's message.
    """

    name: str
    observe: Callable[[Any, str], Any]
    judge: Callable[[Any, Any, str], None]

    @property
    def key(self) -> str:
        """Where its record sits among a part's outputs and references (no case is named so)."""
        return f"probe:{self.name}"


@dataclass
class Exercise:
    """Everything the check of one exercise needs (see the module docstring)."""

    name: str
    cases: Mapping[str, Sequence[Case]]
    run: Callable[[Any, Case], Any]
    describe: Callable[[Case], str]
    hint: str
    mistakes: Sequence[Mistake] = ()
    probes: Sequence[Probe] = ()
    requires: Callable[[Any], None] | None = None         # what kind of object the answer must be
    compare: Callable[[Any, Any, Case], None] | None = None  # custom comparison; raises CheckFailed
    crashes: Sequence[CrashHint] = ()
    atol: float = 1e-4
    rtol: float = 1e-4
    implementation: str | None = None   # "module:function", the course's own answer (refused)
    catalogue: str | None = None        # module of .mistakes whose MISTAKES[name] are told by their outputs
    stored_mistakes: Callable[[], list[Mistake]] | None = field(default=None, repr=False, compare=False)

    def __post_init__(self):
        if not isinstance(self.cases, Parts):
            self.cases = Parts(**self.cases)


def callable_answer(name: str) -> Callable[[Any], None]:
    def require(answer) -> None:
        if not callable(answer):
            fail(f"{name} should be a function", expected="something callable", found=type(answer).__name__,
                 hint=f"define {name} with `def {name}(...)` in the exercise cell and run it.")
    return require


def layer_class(name: str) -> Callable[[Any], None]:
    def require(answer) -> None:
        import keras

        if not (isinstance(answer, type) and issubclass(answer, keras.layers.Layer)):
            fail(f"{name} should be a Keras layer class", expected=f"class {name}(keras.layers.Layer)",
                 found=short(answer), hint="subclass keras.layers.Layer.")
    return require


# --------------------------------------------------------------------------- running student code


_LIBRARY_DIRS = tuple({os.path.realpath(p) for p in (
    sysconfig.get_paths()["stdlib"], sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
    sys.prefix, sys.base_prefix, os.path.dirname(os.path.dirname(__file__)))})


def _is_student_frame(filename: str) -> bool:
    if filename.startswith("<frozen"):
        return False
    return not os.path.realpath(filename).startswith(_LIBRARY_DIRS)


def _cell_name(filename: str) -> str:
    """``Cell In[5]`` for a JupyterLab cell, else the file's name."""
    with contextlib.suppress(Exception):
        from IPython import get_ipython

        number = get_ipython().compile._filename_map[filename]
        return f"Cell In[{number}]"
    return filename if filename.startswith("<") else os.path.basename(filename)


def student_lines(error: BaseException, limit: int = 3) -> tuple[str, ...]:
    """The student's own frames of ``error``'s traceback, one line each (the last ``limit``)."""
    import linecache

    lines, tb = [], error.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if _is_student_frame(code.co_filename):
            source = linecache.getline(code.co_filename, tb.tb_lineno, tb.tb_frame.f_globals).strip()
            lines.append(f"{_cell_name(code.co_filename)}, line {tb.tb_lineno}, in {code.co_name}: {source}"[:160])
        tb = tb.tb_next
    return tuple(lines[-limit:])


def crash(error: BaseException, doing: str, extra: Sequence[CrashHint] = (), name: str | None = None) -> CheckFailed:
    """The failure for an exception raised by the student's code while the check was ``doing`` something."""
    if isinstance(error, NotImplementedError):  # the stub's `raise NotImplementedError()`
        return CheckFailed(f"{name or doing.split('(')[0]} is not written yet", hint=NOT_WRITTEN)
    hint = next((c.hint for c in (*extra, *COMMON_CRASHES) if c.applies(error)),
                "read the error and the line of your code shown below; run the exercise cell on its own to "
                "see the full traceback.")
    return CheckFailed(f"{doing} raised {type(error).__name__}", found=error_text(error, limit=200), hint=hint,
                       student_lines=student_lines(error))


def call(function: Callable, doing: str, *args, crashes: Sequence[CrashHint] = (), name: str | None = None,
         **kwargs):
    """``function(*args, **kwargs)``; an exception becomes a short failure naming ``doing``.

    ``name``: the exercise, for "<name> is not written yet" when the stub is still there.
    """
    try:
        return function(*args, **kwargs)
    except CheckFailed:
        raise
    except Exception as error:  # a student's bug: reported, never a traceback through the checks
        raise crash(error, doing, crashes, name) from None


@contextlib.contextmanager
def student_output_as_notes():
    """Catch warnings and stderr output while a check runs; show them as notes on stdout."""
    err = io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
        try:
            yield
        finally:
            notes = list(dict.fromkeys(f"{w.category.__name__}: {str(w.message).strip().splitlines()[0]}"
                                       for w in caught if str(w.message).strip()))
            text = err.getvalue().strip()
            if text:
                notes.append(f"written to stderr: {text.splitlines()[0][:150]}")
            for note in notes[:2]:
                print(f"note (costs no points): {note[:200]}")


# --------------------------------------------------------------------------- the loop


def diagnose(exercise: Exercise, case: Case, found: Any, expected: Any, results: Mapping[str, Any],
             part: str = "visible") -> str | None:
    """The hint of the known mistake that explains ``found``.

    A mistake that reproduces the answer's outputs on every case run (of ``part``)
    is preferred over one that reproduces only the failing case.
    """
    def close(a, b) -> bool:
        return difference(a, b, exercise.atol, exercise.rtol) is None

    candidates = []
    for mistake in known_mistakes(exercise):
        if mistake.output is not None:
            value = mistake_output(mistake, case)
            if value is None or close(value, expected) or not close(found, value):
                continue
            others = [c for c in exercise_cases(exercise, results, part) if c.name != case.name]
            consistent = all((v := mistake_output(mistake, c)) is None or close(results[c.name], v)
                             for c in others)
            if consistent:
                return mistake.hint
            candidates.append(mistake.hint)
        elif mistake.test is not None:
            with contextlib.suppress(Exception):
                if mistake.test(case, found, expected):
                    candidates.append(mistake.hint)
    return candidates[0] if candidates else None


MISTAKES_PACKAGE = f"{__package__}.mistakes"
USE_STORED_MISTAKES = False  # True: as in a student's package, from the stored outputs (tests)


def mistakes_module(name: str):
    """``course_utils.checks.mistakes.<name>``, or None where it is not installed (a student's package)."""
    try:
        return importlib.import_module(f"{MISTAKES_PACKAGE}.{name}")
    except ModuleNotFoundError as error:
        if error.name and (error.name == MISTAKES_PACKAGE or error.name.startswith(MISTAKES_PACKAGE + ".")):
            return None
        raise


def computed_mistakes(exercise: Exercise) -> list[Mistake] | None:
    """The mistakes of ``exercise`` told by their outputs, as code (None: not in this installation)."""
    if not exercise.catalogue or USE_STORED_MISTAKES:
        return None
    module = mistakes_module(exercise.catalogue)
    return None if module is None else list(module.MISTAKES.get(exercise.name, ()))


def known_mistakes(exercise: Exercise) -> list[Mistake]:
    """Every known mistake of ``exercise``: those told by their outputs (computed on the instructor's side,
    else their stored outputs on the visible cases), then those told by a test of the output found."""
    computed = computed_mistakes(exercise)
    if computed is None and exercise.catalogue and exercise.stored_mistakes is not None:
        computed = exercise.stored_mistakes()
    return [*(computed or ()), *exercise.mistakes]


def mistake_output(mistake: Mistake, case: Case) -> Any:
    """What ``mistake`` gives on ``case``; None where it does not apply."""
    try:
        return mistake.output(case)
    except Exception:  # the mistake does not apply to this input
        return None


def exercise_cases(exercise: Exercise, results: Mapping[str, Any], part: str) -> list[Case]:
    return [c for c in exercise.cases[part] if c.name in results]


def run_cases(exercise: Exercise, answer, part: str, outputs: dict) -> dict[str, Any]:
    """The answer's output on every case of ``part``, filled into ``outputs`` as it goes: a crash
    stops it, and the cases before it are kept."""
    for case in exercise.cases[part]:
        outputs[case.name] = call(exercise.run, exercise.describe(case), answer, case, crashes=exercise.crashes,
                                  name=exercise.name)
    return outputs


def compare(exercise: Exercise, case: Case, found: Any, expected: Any, results: Mapping[str, Any],
            part: str = "visible") -> None:
    if exercise.compare is not None:
        exercise.compare(found, expected, case)
        return
    problem = difference(found, expected, exercise.atol, exercise.rtol)
    if problem is None:
        return
    what, want, got = problem
    hint = diagnose(exercise, case, found, expected, results, part) or exercise.hint
    joined = what if what.startswith("[") else f": {what}" if what else ""
    raise CheckFailed(f"{exercise.describe(case)}{joined}", expected=want, found=got, hint=hint)


def implementation_of(exercise: Exercise) -> Callable | None:
    """The course's own implementation of ``exercise`` (its ``implementation``, imported), or None
    (also in a student package released before the exercise is closed, which does not have it)."""
    if exercise.implementation is None:
        return None
    module, _, name = exercise.implementation.partition(":")
    try:
        return getattr(importlib.import_module(module), name)
    except ModuleNotFoundError as missing:
        if missing.name != module:
            raise
        return None


# The body that stands in for the course's implementation while a check runs: it records the call,
# then runs the original. Its only free name is a keyword-only default, so it fits any function
# without a closure (module-level functions, as the course's implementations are).
_RECORDER = compile("def recorder(*args, __watch, **kwargs):\n"
                    "    __watch[0].append('called')\n"
                    "    return __watch[1](*args, **kwargs)\n", "<check watch>", "exec").co_consts[0]


@contextlib.contextmanager
def watching_for(function: Callable | None):
    """Yields a list that gets an entry when ``function``'s code runs, however it was reached.

    For the time of the check the function object itself runs a recorder, so an alias, an
    import under another name or a wrapper are all seen, and the rest of the check runs at
    full speed: a profile hook, which sees every call, made the ResidualUnit check 2.5 times
    slower. (A student's package has no implementation of an open assignment to call at all.)
    """
    calls: list[str] = []
    code = getattr(function, "__code__", None)
    if code is None or code.co_freevars:
        yield calls
        return
    saved = (code, function.__defaults__, function.__kwdefaults__)
    original = types.FunctionType(code, function.__globals__, function.__name__, function.__defaults__)
    original.__kwdefaults__ = function.__kwdefaults__
    function.__code__, function.__defaults__ = _RECORDER.replace(co_name=code.co_name), None
    function.__kwdefaults__ = {"__watch": (calls, original)}
    try:
        yield calls
    finally:
        function.__code__, function.__defaults__, function.__kwdefaults__ = saved


def refuse_the_course_implementation(exercise: Exercise, calls: list[str]) -> None:
    if not calls:
        return
    where = (exercise.implementation or "").replace(":", ".")
    fail(f"{exercise.name}: your answer uses the course's own {where}", expected="your own code",
         found=f"a call to {where}",
         hint=f"write {exercise.name} yourself: the course's version is there for the notebooks that build on "
              "it, and an answer that calls it scores 0 when graded.")


# Where an observation's failure arose: before the outputs (judged first) or after them (judged
# after the outputs are compared, as a wrong output is the more useful message).
BEFORE_OUTPUTS = ("requires", "run")


def observe(exercise: Exercise, answer, part: str) -> dict:
    """What ``answer`` does on the ``part`` cases of ``exercise``, as JSON-ready data.

    ``{"exercise", "part", "outputs": {case: value, probe key: record}, "failure": None or {"stage",
    message parts}}``: the outputs of the cases run and the probes' records (all of them unless something
    failed), and the first failure (a crash, a wrong kind of answer, a call of the course's implementation).
    """
    outputs: dict[str, Any] = {}
    stage = "requires"
    failure = None
    with student_output_as_notes():
        try:
            if exercise.requires is not None:
                exercise.requires(answer)
            stage = "run"
            with watching_for(implementation_of(exercise)) as calls:
                run_cases(exercise, answer, part, outputs)
                stage = "probes"
                for probe in exercise.probes:
                    outputs[probe.key] = probe.observe(answer, part)
            stage = "implementation"
            refuse_the_course_implementation(exercise, calls)
        except CheckFailed as error:
            failure = {"stage": stage, **error.as_data()}
    return {"exercise": exercise.name, "part": part, "outputs": references.encode(outputs, strict=False),
            "failure": failure}


def judge(exercise: Exercise, observation: Mapping[str, Any], expected: Mapping[str, Any]) -> None:
    """Raise the :class:`~.core.CheckFailed` that ``observation`` deserves against ``expected``, if any."""
    part = observation.get("part")
    failure = observation.get("failure")
    if failure and failure.get("stage") in BEFORE_OUTPUTS:
        raise CheckFailed.from_data(failure) from None
    outputs = references.decode(observation.get("outputs") or {})
    for case in exercise.cases[part]:
        if case.name not in outputs:
            fail(f"{exercise.name}: the check's record of your answer has no output for {exercise.describe(case)}",
                 expected=f"the outputs of the {len(exercise.cases[part])} {part} cases",
                 found=f"{len(outputs)} of them",
                 hint="run the check cell as it is given; changing the course's checks does not change the grade.")
        compare(exercise, case, outputs[case.name], expected[case.name], outputs, part)
    for probe in exercise.probes:
        if probe.key not in outputs:
            if failure:  # the probe's own crash, or an earlier one
                break
            fail(f"{exercise.name}: the check's record of your answer has no result for its {probe.name} check",
                 expected=f"the records of the {len(exercise.probes)} checks of {exercise.name} beyond its outputs",
                 found="none for this one",
                 hint="run the check cell as it is given; changing the course's checks does not change the grade.")
        try:
            probe.judge(outputs[probe.key], expected[probe.key], part)
        except CheckFailed:
            raise
        except Exception:  # a record not of the shape observe() makes: not made by the course's check
            fail(f"{exercise.name}: the check's record of your answer for its {probe.name} check cannot be read",
                 expected="the record the check cell makes", found=short(outputs[probe.key]),
                 hint="run the check cell as it is given; changing the course's checks does not change the grade.")
    if failure:
        raise CheckFailed.from_data(failure) from None


def check(exercise: Exercise, answer, expected: Mapping[str, Any], hidden: bool = False) -> None:
    """Run ``exercise`` on ``answer`` against the ``expected`` outputs of its ``hidden`` or visible cases.

    The same two steps as in grading (:func:`observe`, then :func:`judge`), in one process.
    """
    judge(exercise, observe(exercise, answer, part_name(hidden)), expected)
    passed(exercise.name, hidden)


def publish(observation: dict) -> None:
    """Show ``observation`` as the check cell's output, for the grader to judge."""
    from IPython.display import display

    what = f"{observation['exercise']} ({observation['part']} cases)"
    display({OBSERVATION_MIME: observation, "text/plain": f"checked by the grader: {what}"}, raw=True)


def grading() -> bool:
    return os.environ.get(GRADING_ENV) == "observe"


@dataclass
class Assignment:
    """The exercises of one notebook, with their references."""

    name: str
    exercises: Sequence[Exercise]
    reference_dir: str | None = None  # the visible references' folder (default: the package data)
    uses_backbone: bool = False       # its notebook loads the pretrained backbone: the grader lends one

    def __post_init__(self):
        self.by_name = {exercise.name: exercise for exercise in self.exercises}
        for exercise in self.exercises:
            if exercise.catalogue:
                exercise.stored_mistakes = functools.partial(self.stored_mistakes, exercise.name)

    def visible_file(self) -> Mapping[str, Any]:
        if self.reference_dir is not None:
            return references.cached_file(self.name, self.reference_dir)
        return references.cached(self.name, "visible")

    def stored_mistakes(self, exercise: str) -> list[Mistake]:
        """The mistakes of ``exercise`` told by their outputs, from their outputs on the visible cases."""
        entries = self.visible_file()[exercise].get("mistakes", {})
        return [Mistake(entry["hint"], output=StoredOutputs(entry["outputs"]))
                for _, entry in sorted(entries.items(), key=lambda item: int(item[0]))]

    def expected(self, exercise: str, part: str) -> Mapping[str, Any]:
        """The reference outputs of ``exercise``'s ``part`` cases (hidden ones: the instructor's side only)."""
        if part == "visible":
            return self.visible_file()[exercise][part]
        return references.stored(self.name, exercise, part)

    def expected_or_fail(self, exercise: str, part: str) -> Mapping[str, Any]:
        """:meth:`expected`, or a short failure where they are not (the hidden ones, in a student's package)."""
        try:
            return self.expected(exercise, part)
        except references.HiddenReferencesUnavailable:
            raise HiddenCasesUnavailable(f"the hidden cases of {self.name} are not in this installation",
                                         hint=UNAVAILABLE_HINT) from None

    def check(self, exercise: str, answer, hidden: bool = False) -> None:
        """The check cell's call: raises one short CheckFailed, or prints the pass line.

        When graded (:func:`grading`), it publishes the observation instead, and the grader judges.
        """
        try:
            if grading():
                publish(observe(self.by_name[exercise], answer, part_name(hidden)))
                return
            check(self.by_name[exercise], answer, self.expected_or_fail(exercise, part_name(hidden)), hidden)
        except CheckFailed as failure:
            raise failure.with_traceback(None) from None

    def judge(self, observation: Mapping[str, Any]) -> None:
        """The grader's verdict on a published observation: raises CheckFailed, or returns (passed)."""
        exercise = self.by_name[observation["exercise"]]
        judge(exercise, observation, self.expected(exercise.name, observation["part"]))

    def checker(self, exercise: str) -> Callable:
        def check_exercise(answer, hidden: bool = False) -> None:
            self.check(exercise, answer, hidden)
        check_exercise.__name__ = check_exercise.__qualname__ = f"check_{exercise}"
        check_exercise.__doc__ = f"Check {exercise} on the visible cases (``hidden=True``: the hidden ones)."
        return check_exercise

    def build_references(self, namespace: Mapping[str, Any]) -> dict:
        """The solution's outputs on every case, through the same ``run`` as the checks, and the outputs
        of the mistakes told by their outputs on the visible cases (``"mistakes"``)."""
        values = {}
        for exercise in self.exercises:
            answer = namespace[exercise.name]
            values[exercise.name] = {part: {**{case.name: exercise.run(answer, case) for case in exercise.cases[part]},
                                            **{probe.key: probe.observe(answer, part) for probe in exercise.probes}}
                                     for part in PARTS}
            if exercise.catalogue:
                computed = computed_mistakes(exercise)
                if computed is None:
                    raise RuntimeError(f"{MISTAKES_PACKAGE}.{exercise.catalogue} is needed to build the references")
                values[exercise.name]["mistakes"] = {
                    str(index): {"hint": mistake.hint,
                                 "outputs": {case.name: mistake_output(mistake, case)
                                             for case in exercise.cases["visible"]}}
                    for index, mistake in enumerate(computed)}
        return values
