"""Run untrusted code (a student's notebook kernel) inside a bubblewrap sandbox.

``run_sandboxed(argv, scratch=...)`` runs ``argv`` with bubblewrap (``bwrap``)
and limits enforced by the kernel. What the sandboxed code cannot do:

* see the host's files, except read-only system folders (``/usr``, ``/lib*``,
  ``/bin``, a few files of ``/etc``), the Python installation and virtual
  environment running this module, and the ``read_only`` paths it is given.
  ``scratch`` is the only writable host folder; ``/tmp`` and ``/dev/shm`` are
  private, in-memory and sized to the memory limit. The course repository,
  the gradebook, other students' folders, ``/root`` and ``/home`` are absent;
* write to the read-only paths, nor to ``/``, ``/usr``, ``/proc/sys`` (kernel
  settings) or ``/dev`` (read-only mounts; every capability dropped, so they
  cannot be remounted; no nested user namespaces);
* use the network: a private network namespace has only its own loopback, so
  neither the host's 127.0.0.1 services, nor abstract Unix sockets, nor DNS,
  nor the internet are reachable;
* see or signal host processes (own pid namespace), or outlive the run: when
  the command ends, or at the wall-clock limit, the namespace's init ends and
  the kernel kills every process left in it, detached or signal-ignoring;
* use more than ``Limits.memory_bytes`` of memory or ``Limits.processes``
  processes and threads (a cgroup when one can be created, else rlimits), or
  write a file larger than ``Limits.file_bytes``;
* flood the grader: at most ``Limits.output_bytes`` of each of stdout and
  stderr are kept (the rest is counted and dropped while the run goes on);
* inject keystrokes into the grader's terminal (new session, no TIOCSTI).

What it does not protect against:

* kernel exploits: the kernel is shared and no seccomp filter is installed;
* side channels (CPU time, caches, timing) and CPU contention: there is no CPU
  quota, only the wall-clock limit; ``Limits.cpus`` is a hint to thread pools;
* filling the disk through ``scratch``: only each file's size is capped; put
  scratch on a size-limited filesystem or under a quota if that matters;
* reading what it is given: system files, world-readable ``/proc`` figures,
  everything in the virtual environment and in ``read_only``;
* the caller's own identity: the code runs under the caller's user id, with
  no capabilities. For root that is still uid 0, which passes permission checks
  on root-owned files (hence the read-only ``/proc/sys``): run the grader as an
  unprivileged user in production.

A Jupyter kernel inside cannot reach the host's loopback: connect it with
ZeroMQ's ``ipc`` transport (Unix sockets in ``scratch``) instead of TCP.

Without a writable cgroup the fallback is ``RLIMIT_AS``, which limits address
space rather than memory (TensorFlow reserves far more address space than it
uses, so set it generously) and cannot tell an out-of-memory death apart: the
program sees failed allocations (``MemoryError``) instead. ``RLIMIT_NPROC``
then caps processes (all of the caller's user's processes on the host count),
except for root, whom the kernel exempts: as root without a pids cgroup,
``run_sandboxed`` refuses to run. ``SandboxResult`` says which mechanism was used.

bubblewrap 0.8 or newer is needed (``--disable-userns``, ``--size``).
"""
from __future__ import annotations

import errno
import functools
import json
import os
import re
import resource
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Sequence

MiB = 1024 ** 2
GiB = 1024 ** 3
CGROUP_PREFIX = "course-sandbox-"
INSTALL_HINT = ("bubblewrap (the `bwrap` command) is needed to run student code in a sandbox. "
                "Install it with `apt-get install bubblewrap` (Debian/Ubuntu), "
                "`dnf install bubblewrap` (Fedora) or `conda install -c conda-forge bubblewrap`.")
MINIMUM_BWRAP = (0, 8)

# The parts of /etc that programs commonly read (dynamic linker, users, time
# zone, name lookup of localhost, alternatives symlinks); the rest stays hidden.
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "alternatives", "localtime",
             "passwd", "group", "nsswitch.conf", "hosts", "mime.types", "fonts", "ssl")
SYSTEM_DIRS = ("usr", "bin", "sbin", "lib", "lib32", "lib64", "libx32")
# Thread pools that read their size from the environment (Limits.cpus).
THREAD_COUNT_VARIABLES = ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS",
                          "TF_NUM_INTRAOP_THREADS", "TF_NUM_INTEROP_THREADS")


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or too old; the message says how to install it."""


class SandboxError(RuntimeError):
    """The sandbox itself could not be set up (not a failure of the sandboxed code)."""


@dataclass(frozen=True)
class Limits:
    """What one sandboxed run may use."""

    seconds: float = 600.0
    """Wall-clock limit for the whole run, start-up included."""
    memory_bytes: int = 4 * GiB
    """Memory of all the sandbox's processes together (address space in the rlimit fallback)."""
    processes: int = 512
    """Processes plus threads at once (TensorFlow starts a few threads per core)."""
    output_bytes: int = 1 * MiB
    """Bytes kept of each of stdout and stderr."""
    file_bytes: int = 1 * GiB
    """Largest file the code may write (RLIMIT_FSIZE)."""
    cpus: int | None = None
    """Hint for thread pools (OpenMP, BLAS, TensorFlow); not enforced."""

    def __post_init__(self):
        for name in ("seconds", "memory_bytes", "processes", "output_bytes", "file_bytes"):
            if getattr(self, name) <= 0:
                raise ValueError(f"Limits.{name} must be positive, not {getattr(self, name)!r}")
        if self.cpus is not None and self.cpus < 1:
            raise ValueError(f"Limits.cpus must be at least 1, not {self.cpus!r}")


@dataclass(frozen=True)
class SandboxResult:
    """How a sandboxed run ended."""

    returncode: int
    """Exit status, or -N when killed by signal N (as in ``subprocess``). bubblewrap
    reports a death by signal N as status 128+N, so ``exit(128+N)`` reads the same."""
    stdout: bytes
    stderr: bytes
    stdout_bytes: int
    """Bytes the code wrote to stdout, kept or not."""
    stderr_bytes: int
    timed_out: bool
    out_of_memory: bool
    """A process was killed by the memory cgroup (never set with the RLIMIT_AS fallback)."""
    seconds: float
    memory_mechanism: str
    """What enforced the memory limit: cgroup v1, cgroup v2 or RLIMIT_AS."""
    process_mechanism: str
    """What enforced the process limit: cgroup v1, cgroup v2 or RLIMIT_NPROC."""
    reason: str | None
    """One line when the run did not end with exit code 0, else None."""

    @property
    def stdout_truncated(self) -> bool:
        return self.stdout_bytes > len(self.stdout)

    @property
    def stderr_truncated(self) -> bool:
        return self.stderr_bytes > len(self.stderr)

    @property
    def stdout_text(self) -> str:
        return self.stdout.decode("utf-8", errors="replace")

    @property
    def stderr_text(self) -> str:
        return self.stderr.decode("utf-8", errors="replace")


def run_sandboxed(argv: Sequence[str], *, scratch: Path, read_only: Sequence[Path] = (),
                  env: dict[str, str] | None = None, limits: Limits = Limits(),
                  stdin: bytes | None = None) -> SandboxResult:
    """Run ``argv`` in a sandbox whose only writable host folder is ``scratch``.

    ``scratch`` (a fresh folder per student) is bound at its own path and is the
    working directory and HOME. ``read_only`` paths are visible, read-only, at
    their own paths. The environment is ``env`` over safe defaults (PATH with the
    virtual environment first, HOME, LANG); nothing else of the caller's.
    Returns when every process started inside has ended.
    Raises ``SandboxUnavailable`` without a usable bwrap, ``SandboxError`` when
    the sandbox cannot be set up (e.g. a bind fails).
    """
    if not argv:
        raise ValueError("argv is empty")
    bwrap = find_bwrap()
    scratch = Path(scratch).resolve(strict=True)
    if not scratch.is_dir():
        raise NotADirectoryError(scratch)
    read_only = [Path(path).resolve(strict=True) for path in read_only]
    remove_stale_cgroups()
    cgroups = _Cgroups.create(f"{CGROUP_PREFIX}{os.getpid()}-{secrets.token_hex(4)}", limits)
    try:
        if cgroups.pids is None and os.geteuid() == 0:
            raise SandboxError(
                "cannot cap the number of processes: no pids cgroup could be created and the "
                "kernel does not apply RLIMIT_NPROC to root. Run the grader as an unprivileged "
                "user, or give it a writable cgroup hierarchy.")
        return _run(bwrap, list(argv), scratch, read_only, _environment(scratch, env, limits),
                    limits, stdin, cgroups)
    finally:
        cgroups.remove()


def find_bwrap() -> str:
    """The path of a bwrap of at least version 0.8, else ``SandboxUnavailable``."""
    path = shutil.which("bwrap")
    if path is None:
        raise SandboxUnavailable(f"bwrap was not found on PATH. {INSTALL_HINT}")
    version = _bwrap_version(path)
    if version < MINIMUM_BWRAP:
        raise SandboxUnavailable(f"{path} is bubblewrap {'.'.join(map(str, version))}; "
                                 f"0.8 or newer is needed. {INSTALL_HINT}")
    return path


@functools.lru_cache
def _bwrap_version(path: str) -> tuple[int, ...]:
    output = subprocess.run([path, "--version"], capture_output=True, text=True).stdout
    match = re.search(r"(\d+)\.(\d+)", output)
    return tuple(map(int, match.groups())) if match else (0, 0)


def _environment(scratch: Path, env: dict[str, str] | None, limits: Limits) -> dict[str, str]:
    environment = {
        "PATH": f"{Path(sys.prefix) / 'bin'}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(scratch),
        "LANG": "C.UTF-8",
        "TMPDIR": "/tmp",
    }
    if limits.cpus is not None:
        environment.update(dict.fromkeys(THREAD_COUNT_VARIABLES, str(limits.cpus)))
    environment.update(env or {})
    return environment


def _bwrap_arguments(scratch: Path, read_only: list[Path], environment: dict[str, str],
                     limits: Limits, status_fd: int) -> list[str]:
    options = [
        # New user, pid, network, ipc, uts and cgroup namespaces: no network
        # but a private loopback, no view of (or signals to) host processes.
        # (--unshare-all only tries the user namespace; --disable-userns needs it.)
        "--unshare-all", "--unshare-user",
        # Nested user namespaces would give back capabilities inside them: the
        # usual doorway to kernel exploits.
        "--disable-userns",
        # bwrap started by root keeps every capability otherwise, enough to
        # remount the read-only binds read-write.
        "--cap-drop", "ALL",
        # The sandbox dies if the grader dies.
        "--die-with-parent",
        # setsid(): no TIOCSTI keystroke injection into a controlling terminal.
        "--new-session",
        "--hostname", "sandbox",
        "--clearenv",
        "--json-status-fd", str(status_fd),
        "--chdir", str(scratch),
    ]
    for name, value in environment.items():
        options += ["--setenv", name, value]
    return options + _mount_arguments(scratch, read_only, limits)


def _mount_arguments(scratch: Path, read_only: list[Path], limits: Limits) -> list[str]:
    """The sandbox's filesystem; shallower mount points first so deeper ones land on top."""
    size = str(limits.memory_bytes)
    mounts: list[tuple[str, list[str]]] = [
        ("/proc", ["--proc", "/proc"]),  # of the sandbox's own pid namespace
        # Kernel settings are global and writable by uid 0 even without capabilities
        # (core_pattern, modprobe: code execution on the host). bwrap covers
        # /proc/sys only when the directory itself is writable, so do it here.
        ("/proc/sys", ["--ro-bind", "/proc/sys", "/proc/sys"]),
        ("/proc/sysrq-trigger", ["--ro-bind-try", "/proc/sysrq-trigger", "/proc/sysrq-trigger"]),
        ("/dev", ["--dev", "/dev", "--remount-ro", "/dev"]),  # null, zero, urandom, tty, pts...
        ("/dev/shm", ["--size", size, "--tmpfs", "/dev/shm"]),  # in memory: counted by the cgroup
        ("/tmp", ["--size", size, "--tmpfs", "/tmp"]),
    ]
    for name in SYSTEM_DIRS:
        path = Path("/", name)
        if path.is_symlink():  # merged /usr: /bin -> usr/bin
            mounts.append((str(path), ["--symlink", os.readlink(path), str(path)]))
        elif path.is_dir():
            mounts.append((str(path), ["--ro-bind", str(path), str(path)]))
    for name in ETC_FILES:
        mounts.append((f"/etc/{name}", ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]))
    # The interpreter and the virtual environment running this module, for the
    # kernel; unless /usr holds them already.
    for prefix in dict.fromkeys([sys.base_prefix, sys.prefix]):
        if not Path(prefix).is_relative_to("/usr"):
            mounts.append((prefix, ["--ro-bind", prefix, prefix]))
    for path in read_only:
        mounts.append((str(path), ["--ro-bind", str(path), str(path)]))
    mounts.append((str(scratch), ["--bind", str(scratch), str(scratch)]))
    mounts.sort(key=lambda mount: len(Path(mount[0]).parts))  # stable: keeps /dev before /dev/shm
    # Last, the root itself (an unbounded tmpfs holding the mount points) goes read-only.
    return [argument for _, arguments in mounts for argument in arguments] + ["--remount-ro", "/"]


def _run(bwrap: str, argv: list[str], scratch: Path, read_only: list[Path],
         environment: dict[str, str], limits: Limits, stdin: bytes | None,
         cgroups: _Cgroups) -> SandboxResult:
    start = time.monotonic()
    deadline = start + limits.seconds
    status_read, status_write = os.pipe()
    command = [bwrap, *_bwrap_arguments(scratch, read_only, environment, limits, status_write),
               "--", *argv]
    # The launcher joins the cgroups and sets the rlimits in the process that
    # then becomes bwrap, so every sandboxed process starts under them.
    plan = {"cgroup_procs": [str(procs) for procs in cgroups.procs_files],
            "rlimits": _rlimits(limits, cgroups), "argv": command}
    try:
        process = subprocess.Popen(
            [sys.executable, "-I", "-S", __file__, json.dumps(plan)],
            stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, bufsize=0,
            pass_fds=(status_write,), start_new_session=True)
    except BaseException:
        os.close(status_read)
        raise
    finally:
        os.close(status_write)
    status = _StatusReader(os.fdopen(status_read, "rb"))
    stdout = _CappedReader(process.stdout, limits.output_bytes)
    stderr = _CappedReader(process.stderr, limits.output_bytes)
    threads = [status, stdout, stderr]
    if stdin is not None:
        threads.append(_StdinWriter(process.stdin, stdin))
    for thread in threads:
        thread.start()

    timed_out = False
    status.started.wait(timeout=max(0.0, deadline - time.monotonic()))
    try:
        process.wait(timeout=max(0.0, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        timed_out = True
        _kill_sandbox(process, status.child_pid)
        process.wait()
    for thread in threads:
        thread.join()
    seconds = time.monotonic() - start

    if status.child_pid is None and not timed_out:
        raise SandboxError(f"bubblewrap could not start the sandbox: {stderr.kept.decode(errors='replace')}")
    returncode = _decode_status(process.returncode)
    out_of_memory = cgroups.oom_kills() > 0
    return SandboxResult(
        returncode=returncode, stdout=bytes(stdout.kept), stderr=bytes(stderr.kept),
        stdout_bytes=stdout.total, stderr_bytes=stderr.total, timed_out=timed_out,
        out_of_memory=out_of_memory, seconds=seconds,
        memory_mechanism=cgroups.memory_mechanism, process_mechanism=cgroups.process_mechanism,
        reason=_reason(returncode, timed_out, out_of_memory, limits))


def _rlimits(limits: Limits, cgroups: _Cgroups) -> dict[str, int]:
    rlimits = {"RLIMIT_FSIZE": limits.file_bytes,
               "RLIMIT_CORE": 0}  # no core dumps of student processes
    if cgroups.memory is None:
        rlimits["RLIMIT_AS"] = limits.memory_bytes
    if cgroups.pids is None:
        rlimits["RLIMIT_NPROC"] = limits.processes
    return rlimits


def _kill_sandbox(process: subprocess.Popen, child_pid: int | None) -> None:
    """SIGKILL the sandbox's init: the kernel then kills every process of its pid
    namespace before bwrap sees the init exit, so bwrap's exit means all are gone."""
    if child_pid is None:  # bwrap still setting up: --die-with-parent takes the rest
        try:
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        return
    try:
        pidfd = os.pidfd_open(child_pid)  # no pid-reuse race once open
    except ProcessLookupError:
        return  # already ended, and its namespace with it
    try:
        if _parent_pid(child_pid) == process.pid:
            signal.pidfd_send_signal(pidfd, signal.SIGKILL)
    finally:
        os.close(pidfd)


def _parent_pid(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return int(stat.rpartition(")")[2].split()[1])  # the command name may hold spaces


def _decode_status(status: int) -> int:
    """bubblewrap exits with 128+N when the sandboxed command died of signal N."""
    if 128 < status <= 128 + signal.SIGRTMAX:
        return -(status - 128)
    return status


def _reason(returncode: int, timed_out: bool, out_of_memory: bool, limits: Limits) -> str | None:
    if timed_out:
        return f"timed out after {limits.seconds:g} s"
    if out_of_memory:
        return f"killed by the memory limit of {limits.memory_bytes / GiB:g} GiB"
    if returncode < 0:
        try:
            name = signal.Signals(-returncode).name
        except ValueError:
            name = "real-time signal"
        return f"killed by signal {-returncode} ({name})"
    if returncode > 0:
        return f"exit code {returncode}"
    return None


class _CappedReader(threading.Thread):
    """Reads a stream to its end, keeping its first ``cap`` bytes and counting all."""

    def __init__(self, stream: BinaryIO, cap: int):
        super().__init__(daemon=True)
        self.stream, self.cap = stream, cap
        self.kept = bytearray()
        self.total = 0

    def run(self):
        with self.stream:
            while chunk := self.stream.read(64 * 1024):
                self.total += len(chunk)
                room = self.cap - len(self.kept)
                if room > 0:
                    self.kept += chunk[:room]


class _StdinWriter(threading.Thread):
    def __init__(self, stream: BinaryIO, data: bytes):
        super().__init__(daemon=True)
        self.stream, self.data = stream, data

    def run(self):
        try:
            with self.stream:
                self.stream.write(self.data)
        except BrokenPipeError:  # the code did not read it all
            pass


class _StatusReader(threading.Thread):
    """Reads bwrap's --json-status-fd: the host pid of the sandbox's init."""

    def __init__(self, stream: BinaryIO):
        super().__init__(daemon=True)
        self.stream = stream
        self.child_pid: int | None = None
        self.started = threading.Event()  # set once child_pid is known or bwrap has ended

    def run(self):
        try:
            with self.stream:
                for line in self.stream:
                    message = json.loads(line)
                    if "child-pid" in message:
                        self.child_pid = message["child-pid"]
                        self.started.set()
        finally:
            self.started.set()


@dataclass
class _Cgroups:
    """The cgroups made for one run: with cgroup v1 one per controller, with v2 one
    holding both. A controller without a writable cgroup is None (rlimit fallback)."""

    version: str
    memory: Path | None
    pids: Path | None

    @classmethod
    def create(cls, name: str, limits: Limits) -> _Cgroups:
        mounts = _cgroup_mounts()
        if "memory" in mounts or "pids" in mounts:
            memory = _make_cgroup(mounts.get("memory"), name,
                                  {"memory.limit_in_bytes": limits.memory_bytes},
                                  {"memory.memsw.limit_in_bytes": limits.memory_bytes})  # swap too
            return cls("v1", memory, _make_cgroup(mounts.get("pids"), name,
                                                  {"pids.max": limits.processes}))
        if "" in mounts:
            directory = _make_v2_cgroup(mounts[""], name, limits)
            return cls("v2", directory, directory)
        return cls("none", None, None)

    @property
    def directories(self) -> list[Path]:
        return list(dict.fromkeys(path for path in (self.memory, self.pids) if path is not None))

    @property
    def procs_files(self) -> list[Path]:
        return [directory / "cgroup.procs" for directory in self.directories]

    @property
    def memory_mechanism(self) -> str:
        return f"cgroup {self.version}" if self.memory else "RLIMIT_AS"

    @property
    def process_mechanism(self) -> str:
        return f"cgroup {self.version}" if self.pids else "RLIMIT_NPROC"

    def oom_kills(self) -> int:
        if self.memory is None:
            return 0
        events = self.memory / ("memory.oom_control" if self.version == "v1" else "memory.events")
        match = re.search(r"^oom_kill (\d+)$", events.read_text(), re.MULTILINE)
        return int(match.group(1)) if match else 0

    def remove(self) -> None:
        """Removes the cgroups, killing any process left in them (there should be none)."""
        for directory in self.directories:
            for _ in range(100):
                try:
                    directory.rmdir()
                    break
                except OSError as error:
                    if error.errno != errno.EBUSY:
                        raise
                    for pid in (directory / "cgroup.procs").read_text().split():
                        try:
                            os.kill(int(pid), signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                    time.sleep(0.05)
            else:
                raise SandboxError(f"processes are left in {directory}")


def leftover_cgroups(created_by: int | None = None) -> list[Path]:
    """The sandboxes' cgroups still there: those made by process ``created_by``, or (``None``)
    those whose maker has ended, which nothing will remove. A sandbox being run by another
    process (another grader or test run on the machine) is not left over."""
    found = []
    for parent in _cgroup_mounts().values():
        for path in parent.glob(f"{CGROUP_PREFIX}*"):
            maker = path.name[len(CGROUP_PREFIX):].split("-")[0]
            if not maker.isdigit():
                continue
            if int(maker) == created_by or (created_by is None and not Path("/proc", maker).exists()):
                found.append(path)
    return found


def remove_stale_cgroups() -> None:
    """Remove the empty cgroups of sandboxes whose maker was killed before it could (a grader or a
    Dask worker killed mid-run). A cgroup that still holds processes is left alone."""
    for path in leftover_cgroups():
        try:
            path.rmdir()
        except OSError:
            pass


def _cgroup_mounts() -> dict[str, Path]:
    """Where this process's own cgroup is, per v1 controller ("memory", "pids")
    and for v2 (key ""), from /proc/self/cgroup and /proc/self/mountinfo."""
    own = {}
    for line in Path("/proc/self/cgroup").read_text().splitlines():
        _, controllers, path = line.split(":", 2)
        for controller in controllers.split(",") if controllers else [""]:
            own[controller] = path
    found = {}
    for line in Path("/proc/self/mountinfo").read_text().splitlines():
        fields, _, filesystem = line.partition(" - ")
        fields, filesystem = fields.split(), filesystem.split()
        root, mount_point, kind, options = fields[3], fields[4], filesystem[0], filesystem[2]
        keys = [""] if kind == "cgroup2" else [key for key in ("memory", "pids")
                                               if kind == "cgroup" and key in options.split(",")]
        for key in keys:
            path = own.get(key, "/")
            # Mounted from inside the hierarchy (a container): our cgroup is relative to its root.
            relative = os.path.relpath(path, root) if Path(path).is_relative_to(root) else "."
            found[key] = Path(mount_point, relative).resolve()
    return found


def _make_cgroup(parent: Path | None, name: str, required: dict[str, int],
                 optional: dict[str, int] | None = None) -> Path | None:
    """A child cgroup of ``parent`` with the given settings, or None if that is refused.
    ``optional`` settings are written where the kernel has them (e.g. swap accounting)."""
    if parent is None:
        return None
    directory = parent / name
    try:
        directory.mkdir()
    except OSError:
        return None
    try:
        for file, value in required.items():
            (directory / file).write_text(str(value))
        for file, value in (optional or {}).items():
            if (directory / file).exists():
                (directory / file).write_text(str(value))
    except OSError:
        directory.rmdir()
        return None
    return directory


def _make_v2_cgroup(parent: Path, name: str, limits: Limits) -> Path | None:
    """A child of our own cgroup with the memory and pids controllers. This needs
    them enabled in our cgroup's subtree_control (done here, and left so), which the
    kernel refuses when our cgroup holds processes and is not the root (e.g. a
    systemd session scope, or a container's namespace root)."""
    control = parent / "cgroup.subtree_control"
    try:
        enabled = control.read_text().split()
        missing = [f"+{controller}" for controller in ("memory", "pids") if controller not in enabled]
        if missing:
            control.write_text(" ".join(missing))
    except OSError:
        return None
    return _make_cgroup(parent, name, {"memory.max": limits.memory_bytes, "pids.max": limits.processes},
                        {"memory.swap.max": 0,  # no swapping around the limit
                         "memory.oom.group": 1})  # an OOM kills the whole sandbox


def _launch(plan_json: str) -> None:
    """The launcher process (run as a script): join the cgroups, set the rlimits, become bwrap."""
    plan = json.loads(plan_json)
    for procs in plan["cgroup_procs"]:
        Path(procs).write_text(str(os.getpid()))
    for name, value in plan["rlimits"].items():
        resource.setrlimit(getattr(resource, name), (value, value))
    os.execv(plan["argv"][0], plan["argv"])


if __name__ == "__main__":
    _launch(sys.argv[1])
