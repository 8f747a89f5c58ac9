"""Execute a student's notebook inside the grading sandbox and report every cell, signed.

:class:`course_autograde.preprocessors.SandboxedExecute` runs this file as a
script (``python -I sandbox_execute.py``) inside
:func:`course_autograde.sandbox.run_sandboxed`, with the file itself as the only
part of ``autograde/`` mounted (read-only). The executor and the kernel both run
inside, so they talk ZeroMQ over the sandbox's private loopback. ``-I`` keeps
the scratch folder (which the student's code can write) off ``sys.path``: this
process imports only the virtual environment (nbclient, nbformat).

The cells run as nbgrader's ``Execute`` preprocessor runs them (nbclient, with
the ``Execute`` settings the grader passes in, and an error output added when
the kernel reports an error it did not show), with three additions:

* outputs are capped while they arrive, per cell and per notebook (a 100 MB
  print keeps its beginning and a note); the outputs nbgrader grades on (an
  error, a stderr stream, a result) always keep a short version;
* before each graded cell the helpers the instructor's cells set up (names,
  module attributes, builtins) are put back if an answer replaced them
  (:func:`install_helper_guard`);
* a cell that runs past its time limit and ignores the interrupt, or a kernel
  that dies, stops the run; what ran so far is still reported.

Protocol. stdin holds one JSON object: ``key`` (hex), ``notebook`` and
``settings``. stdout gets one line per record: the HMAC-SHA256 of the JSON body
under ``key``, a space, the body. Records are numbered by ``seq`` from 0:
``running`` (a cell starts), ``cell`` (its outputs), ``interrupted``,
``restored``, ``stopped`` (why the run ends early, with the cell's partial
outputs), ``end``. :func:`read_records` checks them on the grader's side.

Why signed: the student's code runs with the same user id in the same
sandbox. It can write into this process's stdout (through ``/proc/1/fd/1`` of
bubblewrap's init) or kill this process, but it cannot forge a record: the key
arrives on stdin before the kernel starts, and this process is made
non-dumpable, so the kernel can neither read its memory nor open its files.
A forged line fails the check; a stolen or replayed record breaks the
numbering, and the grader trusts nothing after it.
"""
from __future__ import annotations

import ast
import asyncio
import ctypes
import hmac
import inspect
import json
import os
import signal
import subprocess
import sys
import textwrap
from dataclasses import dataclass, field

import nbformat

PR_SET_DUMPABLE = 4
STDERR_FILE = "/tmp/kernel-stderr.txt"  # in the sandbox's private /tmp
IPC_PREFIX = "/tmp/kernel-ipc"
SHORT_BYTES = 2000  # what is kept of a grade-deciding output once the budget is spent
NOTE_PREFIX = "[Output cut by the grader:"
COURSE_PACKAGES = ("course_utils",)  # their modules are restored whole, data included


# -- signed records ------------------------------------------------------------------

def sign(key: bytes, seq: int, record: dict) -> bytes:
    """One line of the protocol: ``<hmac hex> <json body>``."""
    body = json.dumps({"seq": seq, **record}, separators=(",", ":"))
    mac = hmac.new(key, body.encode("ascii"), "sha256").hexdigest()
    return f"{mac} {body}\n".encode("ascii")


@dataclass
class Records:
    """The records of a run that passed the check, in order, and what did not."""

    records: list[dict] = field(default_factory=list)
    foreign_lines: int = 0  # lines that are not records of this run (forged, or garbled by a writer)
    broken_at: int | None = None  # first out-of-order record: nothing after it is trusted

    def of_type(self, kind: str) -> list[dict]:
        return [record for record in self.records if record.get("type") == kind]


def read_records(data: bytes, key: bytes) -> Records:
    """The records of ``data`` (the executor's stdout) signed with ``key``, up to the first gap."""
    result = Records()
    for line in data.split(b"\n"):
        if not line.strip():
            continue
        mac, _, body = line.partition(b" ")
        expected = hmac.new(key, body, "sha256").hexdigest().encode("ascii")
        if not hmac.compare_digest(mac, expected):
            result.foreign_lines += 1
            continue
        record = json.loads(body)
        if record.get("seq") != len(result.records):
            result.broken_at = len(result.records)
            break
        result.records.append(record)
    return result


class Channel:
    """Writes signed, numbered records to stdout."""

    def __init__(self, key: bytes):
        self.key, self.seq = key, 0

    def send(self, kind: str, **fields) -> None:
        line = sign(self.key, self.seq, {"type": kind, **fields})
        self.seq += 1
        view = memoryview(line)
        while view:
            written = os.write(1, view)
            view = view[written:]


# -- output caps --------------------------------------------------------------------

def output_size(output) -> int:
    """Bytes the output takes in a record (the caps count these)."""
    return len(json.dumps(output))


def grade_kind(output) -> str | None:
    """The kind of output nbgrader grades on (a graded cell scores 0 on an error or
    stderr, partial credit on a numeric result), else None."""
    if output.get("output_type") == "error":
        return "error"
    if output.get("output_type") == "stream" and output.get("name") == "stderr":
        return "stderr"
    if output.get("output_type") == "execute_result":
        return "result"
    return None


def shorten(output):
    """A short version of a grade-deciding output (same kind, at most a few KB)."""
    kind = output.get("output_type")
    if kind == "error":
        traceback = [str(line)[:SHORT_BYTES // 8] for line in output.get("traceback", [])]
        if len(traceback) > 6:
            traceback = traceback[:3] + ["..."] + traceback[-2:]
        return {**output, "ename": str(output.get("ename", ""))[:200],
                "evalue": str(output.get("evalue", ""))[:SHORT_BYTES // 2], "traceback": traceback}
    if kind == "stream":
        return {**output, "text": str(output.get("text", ""))[:SHORT_BYTES] + "\n"}
    plain = output.get("data", {}).get("text/plain", "")
    return {**output, "data": {"text/plain": str(plain)[:SHORT_BYTES]}, "metadata": {}}


def cut_stream(output, room: int):
    """The stream with its text cut to fit ``room`` bytes, or None if nothing useful fits."""
    text = str(output.get("text", ""))[:max(0, room)]  # a character takes at least a byte
    while text and output_size({**output, "text": text}) > room:
        size = output_size({**output, "text": text})
        text = text[:max(0, len(text) * room // size - 16)]
    return {**output, "text": text} if len(text) >= 80 else None


class OutputBudget:
    """The bytes of output a cell and the whole notebook may keep.

    ``fit`` is called as each output arrives (so that a flood of output never
    piles up in memory) and ``finish`` when the cell is done. Outputs over the
    budget are dropped, except that the beginning of a stream is kept when it
    fits and the first output of each grade-deciding kind is kept shortened,
    so that the cap never changes a grade.
    """

    def __init__(self, cell_bytes: int, notebook_bytes: int):
        self.cell_bytes, self.notebook_left = cell_bytes, notebook_bytes
        self.start_cell()

    def start_cell(self) -> None:
        self.used, self.dropped, self.kinds_kept = 0, 0, set()

    def recount(self, outputs: list) -> None:
        """After a clear_output: charge only the outputs still there (animations, progress bars)."""
        self.used = sum(map(output_size, outputs))
        self.kinds_kept = {grade_kind(output) for output in outputs}

    @property
    def room(self) -> int:
        return min(self.cell_bytes, self.notebook_left) - self.used

    def fit(self, output):
        """``output`` as it may be kept now (whole, cut or shortened), or None; charges the budget."""
        if output.get("output_type") == "stream" and len(str(output.get("text", ""))) > self.room:
            size = len(str(output["text"]))  # surely over: skip serializing a 100 MB print to measure it
        else:
            size = output_size(output)
        kind = grade_kind(output)
        if size <= self.room:
            kept = output
        elif output.get("output_type") == "stream" and cut_stream(output, self.room) is not None:
            kept = cut_stream(output, self.room)
        elif kind is not None and kind not in self.kinds_kept:
            kept = shorten(output)
        else:
            kept = None
        if kept is not None:
            self.used += output_size(kept)
            self.kinds_kept.add(kind)
        self.dropped += max(0, size - (output_size(kept) if kept is not None else 0))
        return kept

    def finish(self, outputs: list) -> tuple[list, int]:
        """The cell's outputs within the budget, with a note when some were left out,
        and the number of bytes left out."""
        self.used, self.kinds_kept = 0, set()
        kept = [fitted for fitted in map(self.fit, outputs) if fitted is not None]
        if self.dropped:
            kept.append({"output_type": "stream", "name": "stdout", "text": (
                f"\n{NOTE_PREFIX} {megabytes(self.dropped)} of this cell's output left out; the limit is "
                f"{megabytes(self.cell_bytes)} per cell and the notebook had {megabytes(self.notebook_left)} "
                "left.]\n")})
        self.notebook_left = max(0, self.notebook_left - self.used)
        dropped = self.dropped
        self.start_cell()
        return kept, dropped


def megabytes(count: int) -> str:
    return f"{count / 1e6:.1f} MB" if count >= 100_000 else f"{count / 1e3:.1f} kB"


# -- the helper guard (its source runs in the kernel) ------------------------------

def install_helper_guard(course_packages):
    """In the kernel: remember the helpers the instructor's cells set up, so that
    ``get_ipython().course_restore_helpers()`` can put back whatever an answer
    replaced. Helpers are the notebook's names bound to modules, functions and
    classes, the attributes of the modules they come from and of ``builtins``
    (helper values only), and every attribute of the course's own modules."""
    import builtins
    import sys
    import types

    helper_types = (types.ModuleType, types.FunctionType, types.BuiltinFunctionType, type)
    shell = get_ipython()  # noqa: F821 - run by IPython
    namespace = shell.user_ns
    names = {name: value for name, value in namespace.items()
             if not name.startswith("_") and isinstance(value, helper_types)}
    modules = {id(builtins): builtins}
    for value in names.values():
        module = value if isinstance(value, types.ModuleType) else sys.modules.get(getattr(value, "__module__", ""))
        if isinstance(module, types.ModuleType) and vars(module) is not namespace:  # not the notebook itself
            modules[id(module)] = module
    for name, module in list(sys.modules.items()):
        if name.split(".")[0] in course_packages and isinstance(module, types.ModuleType):
            modules[id(module)] = module
    saved = [(module, dict(vars(module)), module.__name__.split(".")[0] in course_packages)
             for module in modules.values()]
    missing = object()

    def replaced(value, current):
        """``current`` is not ``value``, and not the module a lazy loader (TensorFlow's) put in its place."""
        if current is value:
            return False
        return not (isinstance(value, types.ModuleType) and isinstance(current, types.ModuleType)
                    and current.__name__ == value.__name__ and sys.modules.get(current.__name__) is current)

    def restore():
        restored = []
        for name, value in names.items():
            if replaced(value, namespace.get(name, missing)):
                namespace[name] = value
                restored.append(name)
        for module, attributes, whole in saved:
            current = vars(module)
            for key, value in attributes.items():
                if (whole or isinstance(value, helper_types)) and replaced(value, current.get(key, missing)):
                    try:
                        setattr(module, key, value)
                        restored.append(f"{module.__name__}.{key}")
                    except Exception:  # noqa: BLE001 - a module that refuses: leave it
                        pass
        return restored

    shell.course_restore_helpers = restore


# Run in a namespace of its own, so that the notebook's names stay as they were.
GUARD_SOURCE = "exec({!r}, {{'get_ipython': get_ipython}})".format(
    textwrap.dedent(inspect.getsource(install_helper_guard)) + f"install_helper_guard({COURSE_PACKAGES!r})\n")
RESTORE_EXPRESSION = "__import__('json').dumps(get_ipython().course_restore_helpers())"


# -- running the notebook -----------------------------------------------------------

def record_unshown_error(cell, cell_index, execute_reply) -> None:
    """nbgrader's Execute.on_cell_executed: an error the kernel replied but did not show
    (a custom exception handler, a timeout) becomes an error output, so the cell scores 0."""
    content = execute_reply["content"]
    if content["status"] != "error":
        return
    if any(output.output_type == "error" and output.ename == content["ename"] for output in cell.outputs):
        return
    cell.outputs.append(nbformat.NotebookNode(
        output_type="error", ename=content["ename"], evalue=content["evalue"],
        traceback=content["traceback"] or ["ERROR: An error occurred while showtraceback was disabled"]))


def make_client(nb, settings: dict, budget: OutputBudget):
    """An nbclient NotebookClient that caps outputs as they arrive (``budget``), remembers the
    cell it runs and tells a timeout apart from outputs that are slow to arrive."""
    # Imported here: the grader imports this module for read_records only.
    from nbclient import NotebookClient
    from traitlets.config import Config

    class SandboxClient(NotebookClient):
        """After a cell's reply nbclient waits ``iopub_timeout`` for the rest of its outputs. After
        a timeout interrupt that is the grace the kernel gets to respond (nbgrader's few seconds);
        after a normal reply the outputs are on their way and may take as long as the cell could
        run (dropping them could drop the error that fails a check)."""

        running_index = None  # the code cell being run (or about to be)
        timed_out = False  # the running cell ran over the limit
        interrupted = False  # ... and was interrupted
        outputs_kept = 0  # how many outputs the running cell had after the last one arrived

        async def async_execute_cell(self, cell, cell_index, *args, **kwargs):
            self.timed_out = self.interrupted = False
            self.outputs_kept = 0
            self.iopub_timeout = max(self.timeout or 0, interrupt_grace)
            return await super().async_execute_cell(cell, cell_index, *args, **kwargs)

        async def _async_handle_timeout(self, timeout, cell=None):
            self.timed_out, self.interrupted = True, self.interrupt_on_timeout
            self.iopub_timeout = interrupt_grace
            return await super()._async_handle_timeout(timeout, cell)

        def output(self, outs, msg, display_id, cell_index):
            out = super().output(outs, msg, display_id, cell_index)
            if out is None or not outs or outs[-1] is not out:
                return out
            if len(outs) - 1 < self.outputs_kept:  # a clear_output emptied the list
                budget.recount(outs[:-1])
            kept = budget.fit(out)
            if kept is None and not display_id:
                outs.pop()  # only the last one: earlier display ids keep their indices
            elif kept is not out:
                out.clear()
                out.update(kept or {"output_type": "display_data", "data": {"text/plain": ""}, "metadata": {}})
            self.outputs_kept = len(outs)
            return out

    interrupt_grace = settings.get("iopub_timeout", 4)
    # ZeroMQ over Unix sockets in the sandbox's private /tmp: no ports, nothing in scratch.
    sockets = Config({"KernelManager": {"transport": "ipc", "ip": IPC_PREFIX}})
    return SandboxClient(nb, config=sockets, resources={"metadata": {"path": os.getcwd()}},
                         on_cell_executed=record_unshown_error, record_timing=False, shutdown_kernel="immediate",
                         **settings)


def is_graded(cell) -> bool:
    return cell.cell_type == "code" and bool(cell.metadata.get("nbgrader", {}).get("grade"))


def is_answer(cell) -> bool:
    return bool(cell.metadata.get("nbgrader", {}).get("solution"))


async def silent(client, code: str, expressions: dict | None = None) -> dict | None:
    """Run ``code`` in the kernel without output or history; the reply's content, or None."""
    msg_id = client.kc.execute(code, silent=True, store_history=False, user_expressions=expressions or {})
    reply = await client.async_wait_for_reply(msg_id)
    return reply["content"] if reply else None


async def restore_helpers(client) -> list[str]:
    content = await silent(client, "", {"restored": RESTORE_EXPRESSION})
    try:
        text = content["user_expressions"]["restored"]["data"]["text/plain"]
        return [str(name)[:100] for name in json.loads(ast.literal_eval(text))][:50]
    except Exception:  # noqa: BLE001 - a kernel that broke the guard: the check runs as it is
        return ["(the helpers could not be checked)"]


def kernel_stderr_tail() -> str:
    try:
        with open(STDERR_FILE, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 2000))
            return handle.read().decode("utf-8", "replace")
    except OSError:
        return ""


async def kernel_status(client) -> str:
    """How the kernel process ended, in words."""
    try:
        code = await client.km.provisioner.poll()
    except Exception:  # noqa: BLE001 - no process to ask
        code = None
    if code is None:
        return "the kernel stopped answering"
    if code < 0:  # as sandbox._reason does: this file runs alone inside the sandbox, so it imports nothing of ours
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = "real-time signal"
        return f"the kernel was killed by signal {-code} ({name})"
    return f"the kernel exited with code {code}"


async def run(nb, settings: dict, budget: OutputBudget, channel: Channel) -> None:
    """Execute the code cells in order, sending a record for each; on a stop, ``stopped`` and return."""
    from nbclient.exceptions import CellTimeoutError, DeadKernelError

    client = make_client(nb, settings, budget)
    try:
        with open(STDERR_FILE, "wb") as stderr:
            async with client.async_setup_kernel(stdout=subprocess.DEVNULL, stderr=stderr):
                try:
                    await execute_cells(client, nb, budget, channel)
                    channel.send("end")
                except CellTimeoutError:
                    why = ("ignored-interrupt" if client.interrupted else "timed-out" if client.timed_out
                           else "late-output")
                    stop(channel, budget, nb, client.running_index, why, f"{client.iopub_timeout:g}")
                except DeadKernelError:
                    stop(channel, budget, nb, client.running_index, "kernel-died", await kernel_status(client),
                         kernel_stderr_tail())
    except Exception as error:  # noqa: BLE001 - the kernel did not start, or the connection broke
        stop(channel, budget, nb, client.running_index, "lost-kernel", f"{type(error).__name__}: {error}",
             kernel_stderr_tail())


async def execute_cells(client, nb, budget: OutputBudget, channel: Channel) -> None:
    """The cell loop of nbconvert's ExecutePreprocessor, with the guard and a record per cell."""
    info = await client.async_wait_for_reply(client.kc.kernel_info())
    channel.send("language_info", value=info["content"].get("language_info", {}) if info else {})
    guarded = False
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        client.running_index = index
        channel.send("running", index=index)
        if is_answer(cell) and not guarded:  # the instructor's set-up cells have run
            await silent(client, GUARD_SOURCE)
            guarded = True
        if is_graded(cell) and guarded:
            restored = await restore_helpers(client)
            if restored:
                channel.send("restored", index=index, names=restored)
        budget.start_cell()
        await client.async_execute_cell(cell, index, store_history=True)
        outputs, dropped = budget.finish(cell.outputs)
        if client.interrupted:
            channel.send("interrupted", index=index)
        channel.send("cell", index=index, outputs=outputs, execution_count=cell.get("execution_count"),
                     dropped=dropped)


def stop(channel: Channel, budget: OutputBudget, nb, index: int | None, why: str, detail: str,
         stderr: str = "") -> None:
    """Report why the run ends early, with what the running cell printed so far."""
    cell = nb.cells[index] if index is not None else None
    outputs = budget.finish(cell.get("outputs", []))[0] if cell is not None else []
    channel.send("stopped", index=index, why=why, detail=detail[:500], stderr=stderr, outputs=outputs)


def main() -> None:
    # Before anything else: the kernel (same user) must not read this process's memory or files.
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_DUMPABLE, 0) failed: the key would not be safe")
    request = json.loads(sys.stdin.buffer.read())
    channel = Channel(bytes.fromhex(request["key"]))
    settings = request["settings"]
    budget = OutputBudget(settings.pop("cell_output_bytes"), settings.pop("notebook_output_bytes"))
    asyncio.run(run(nbformat.from_dict(request["notebook"]), settings, budget, channel))
    # No kernel shutdown: the sandbox ends with this process, and the kernel and
    # anything it started end with the sandbox.
    os._exit(0)


if __name__ == "__main__":
    main()
