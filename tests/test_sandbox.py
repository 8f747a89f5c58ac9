"""The bubblewrap sandbox keeps hostile student code away from the host (course_autograde.sandbox).

Each test runs a small Python snippet with this virtual environment's Python
inside the sandbox. The snippet gets a unique marker as ``sys.argv[1]`` (forked
children keep it in their command line) so that, after every test, the host's
/proc shows that no sandboxed process survived; and no cgroup may be left.
"""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from course_autograde import sandbox
from course_autograde.sandbox import GiB, MiB, Limits, SandboxUnavailable, run_sandboxed

REPO_ROOT = Path(__file__).resolve().parents[1]


def processes_with(marker: str) -> list[int]:
    """Host pids whose command line contains ``marker``."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if marker.encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:  # ended meanwhile
                pass
    return found


def leftover_cgroups() -> list[Path]:
    return sandbox.leftover_cgroups(created_by=os.getpid())  # other workers may be running sandboxes


@pytest.fixture
def marker():
    value = f"sandbox-test-{uuid.uuid4().hex}"
    assert not leftover_cgroups()
    yield value
    assert processes_with(value) == [], "a sandboxed process outlived its run"
    assert leftover_cgroups() == [], "a cgroup was not removed"


@pytest.fixture
def scratch(tmp_path):
    folder = tmp_path / "scratch"
    folder.mkdir()
    return folder


@pytest.fixture
def run_python(scratch, marker):
    """``run_python(code, **run_sandboxed_options)`` in the sandbox, scratch as its folder."""
    def run(code: str, **options):
        options.setdefault("scratch", scratch)
        return run_sandboxed([sys.executable, "-c", textwrap.dedent(code), marker], **options)
    return run


def test_a_normal_run_returns_its_output_and_exit_code_0(run_python, scratch, monkeypatch):
    monkeypatch.setenv("GRADER_SECRET", "do not leak")
    result = run_python("""
        import json, os, sys
        import numpy  # from the virtual environment
        print(json.dumps({"cwd": os.getcwd(), "environ": dict(os.environ), "prefix": sys.prefix,
                          "pid": os.getpid()}))
        print("a warning", file=sys.stderr)
        """, env={"GIVEN": "yes"}, limits=Limits(cpus=2))
    assert (result.returncode, result.reason, result.timed_out, result.out_of_memory) == (0, None, False, False)
    assert result.stderr == b"a warning\n"
    assert not result.stdout_truncated and not result.stderr_truncated
    inside = json.loads(result.stdout)
    assert inside["cwd"] == str(scratch)
    assert inside["prefix"] == sys.prefix  # the virtual environment works inside
    assert inside["pid"] < 10  # its own pid namespace
    environ = inside["environ"]
    assert environ["HOME"] == str(scratch) and environ["GIVEN"] == "yes"
    assert environ["OMP_NUM_THREADS"] == environ["TF_NUM_INTRAOP_THREADS"] == "2"
    assert "GRADER_SECRET" not in environ
    assert result.memory_mechanism in ("cgroup v1", "cgroup v2", "RLIMIT_AS")
    assert result.process_mechanism in ("cgroup v1", "cgroup v2", "RLIMIT_NPROC")
    assert 0 < result.seconds < 10


@pytest.mark.parametrize("code, returncode, reason", [
    ("import sys; sys.exit(3)", 3, "exit code 3"),
    ("import os; os._exit(7)", 7, "exit code 7"),
    ("import os; os.abort()", -6, "killed by signal 6 (SIGABRT)"),
])
def test_exit_codes_and_signals_are_reported(run_python, code, returncode, reason):
    result = run_python(code)
    assert (result.returncode, result.reason, result.timed_out) == (returncode, reason, False)


def test_stdin_reaches_the_code(run_python):
    result = run_python("import sys; sys.stdout.write(sys.stdin.read().upper())", stdin=b"answer\n")
    assert result.stdout == b"ANSWER\n"


def test_a_file_written_to_scratch_is_kept(run_python, scratch):
    result = run_python("open('answer.txt', 'w').write('42')")
    assert result.returncode == 0, result.stderr
    assert (scratch / "answer.txt").read_text() == "42"


def snapshot(folder: Path) -> dict[str, tuple]:
    return {str(path.relative_to(folder)): (path.read_bytes() if path.is_file() else None,
                                            path.stat().st_mode, path.stat().st_mtime_ns)
            for path in [folder, *folder.rglob("*")]}


def test_read_only_paths_the_venv_and_the_system_cannot_be_changed(run_python, tmp_path):
    repository = tmp_path / "repository"
    (repository / "solutions").mkdir(parents=True)
    (repository / "README.md").write_text("the course\n")
    (repository / "solutions" / "answer.py").write_text("ANSWER = 42\n")
    before = snapshot(repository)
    result = run_python("""
        import errno, json, os, sys
        repo = os.environ["REPOSITORY"]
        readme = os.path.join(repo, "README.md")
        attempts = {
            "create": lambda: open(os.path.join(repo, "planted.py"), "w"),
            "append": lambda: open(readme, "a"),
            "delete": lambda: os.unlink(readme),
            "rename": lambda: os.rename(readme, readme + ".old"),
            "chmod": lambda: os.chmod(readme, 0o777),
            "touch": lambda: os.utime(readme),
            "mkdir": lambda: os.mkdir(os.path.join(repo, "solutions", "new")),
            "venv": lambda: open(os.path.join(sys.prefix, "planted.py"), "w"),
            "system": lambda: open("/usr/planted", "w"),
            "root folder": lambda: open("/planted", "w"),
            # Opened, never written: would let the code run programs on the host.
            "kernel setting": lambda: os.close(os.open("/proc/sys/kernel/core_pattern", os.O_WRONLY)),
        }
        outcomes = {}
        for name, attempt in attempts.items():
            try:
                attempt()
                outcomes[name] = "succeeded"
            except OSError as error:
                outcomes[name] = errno.errorcode[error.errno]
        print(json.dumps({"outcomes": outcomes, "readme": open(readme).read()}))
        """, read_only=[repository], env={"REPOSITORY": str(repository)})
    inside = json.loads(result.stdout)
    assert inside["readme"] == "the course\n"  # readable
    assert inside["outcomes"] == dict.fromkeys(inside["outcomes"], "EROFS")
    assert snapshot(repository) == before
    assert not (Path(sys.prefix) / "planted.py").exists()


def test_paths_not_given_are_invisible(run_python, tmp_path):
    repository = tmp_path / "repository"
    repository.mkdir()
    gradebook = tmp_path / "gradebook.db"
    gradebook.write_text("grades")
    other_student = tmp_path / "submitted" / "other_student"
    other_student.mkdir(parents=True)
    hidden = [gradebook, other_student, REPO_ROOT / "autograde", REPO_ROOT / ".git",
              Path("/home"), Path.home() / ".bash_history"]
    result = run_python("""
        import json, os, sys
        paths = json.loads(os.environ["PATHS"])
        print(json.dumps({"visible": [path for path in paths if os.path.lexists(path)],
                          "beside": sorted(os.listdir(os.environ["FOLDER"]))}))
        """, read_only=[repository],
        env={"PATHS": json.dumps([str(path) for path in hidden]), "FOLDER": str(tmp_path)})
    inside = json.loads(result.stdout)
    assert inside["visible"] == []
    assert inside["beside"] == ["repository", "scratch"]


def test_the_network_is_unreachable(run_python, marker):
    server = socket.create_server(("127.0.0.1", 0))
    abstract = socket.socket(socket.AF_UNIX)
    abstract.bind(f"\0{marker}")
    abstract.listen()
    with server, abstract:
        port = server.getsockname()[1]
        socket.create_connection(("127.0.0.1", port), timeout=5).close()  # reachable from the host
        result = run_python("""
            import errno, json, os, socket
            def unix():
                with socket.socket(socket.AF_UNIX) as client:
                    client.connect("\\0" + os.environ["ABSTRACT"])
            attempts = {
                "host loopback": lambda: socket.create_connection(("127.0.0.1", int(os.environ["PORT"])), 5),
                "internet": lambda: socket.create_connection(("1.1.1.1", 80), 5),
                "dns": lambda: socket.getaddrinfo("example.com", 80),
                "abstract unix socket": unix,
            }
            outcomes = {}
            for name, attempt in attempts.items():
                try:
                    attempt()
                    outcomes[name] = "connected"
                except OSError as error:
                    outcomes[name] = type(error).__name__
            print(json.dumps({"outcomes": outcomes, "interfaces": socket.if_nameindex()}))
            """, env={"PORT": str(port), "ABSTRACT": marker})
    inside = json.loads(result.stdout)
    assert inside["outcomes"] == {"host loopback": "ConnectionRefusedError", "internet": "OSError",
                                  "dns": "gaierror", "abstract unix socket": "ConnectionRefusedError"}
    assert inside["interfaces"] == [[1, "lo"]]


@pytest.mark.parametrize("code", [
    "while True: pass",
    """
    import os, signal
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    os.fork()  # two of them
    print("ignoring", flush=True)
    while True: pass
    """,
], ids=["busy loop", "ignoring SIGINT and SIGTERM"])
def test_an_endless_run_is_stopped_at_the_wall_clock_limit(run_python, code):
    result = run_python(code, limits=Limits(seconds=1.5))
    assert result.timed_out and result.returncode == -signal.SIGKILL
    assert result.reason == "timed out after 1.5 s"
    assert 1.5 <= result.seconds < 5


def test_a_detached_background_process_does_not_survive(run_python, scratch, marker):
    # Double fork and setsid, keeping stdout open (so the run must not wait for it).
    result = run_python("""
        import os, sys, time
        if os.fork() == 0:
            os.setsid()
            if os.fork() == 0:
                os.execv(sys.executable, [sys.executable, "-c",
                         "import pathlib, time; pathlib.Path('alive').touch(); time.sleep(60)", sys.argv[1]])
            os._exit(0)
        os.wait()
        while not os.path.exists("alive"):
            time.sleep(0.01)
        print("daemon started")
        """)
    assert result.stdout == b"daemon started\n" and result.returncode == 0
    assert (scratch / "alive").exists()
    assert processes_with(marker) == []
    assert result.seconds < 10


def test_a_memory_bomb_is_killed_and_reported(run_python):
    result = run_python("""
        chunks = []
        for _ in range(96):  # 6 GiB, every byte written
            chunks.append(b"x" * (64 << 20))
            print(len(chunks) * 64, flush=True)
        """, limits=Limits(memory_bytes=512 * MiB, seconds=30))
    if result.memory_mechanism == "RLIMIT_AS":
        pytest.skip("no writable cgroup on this host: out-of-memory kills cannot be detected")
    assert result.out_of_memory and result.returncode == -signal.SIGKILL
    assert result.reason == "killed by the memory limit of 0.5 GiB"
    assert int(result.stdout.split()[-1]) <= 512  # MiB allocated when killed


def without_cgroup(monkeypatch, controller: str) -> None:
    """Pretend that no cgroup can be made for ``controller`` ("memory" or "pids")."""
    create = sandbox._Cgroups.create

    def create_without(name, limits):
        cgroups = create(name, limits)
        directory = getattr(cgroups, controller)
        setattr(cgroups, controller, None)
        if directory is not None and directory not in cgroups.directories:
            directory.rmdir()
        return cgroups
    monkeypatch.setattr(sandbox._Cgroups, "create", staticmethod(create_without))


def test_without_a_memory_cgroup_rlimit_as_contains_a_memory_bomb(run_python, monkeypatch):
    without_cgroup(monkeypatch, "memory")
    result = run_python("""
        chunks = []
        for _ in range(96):
            chunks.append(b"x" * (64 << 20))
        """, limits=Limits(memory_bytes=512 * MiB))
    assert result.memory_mechanism == "RLIMIT_AS"
    assert result.returncode == 1 and b"MemoryError" in result.stderr
    assert not result.out_of_memory


# Every process forks for ever; the first refusal ends the run.
FORK_BOMB = """
    import errno, os, time
    original = os.getpid()
    while True:
        try:
            os.fork()
        except OSError as error:
            if os.getpid() == original:
                print(sum(name.isdigit() for name in os.listdir("/proc")), errno.errorcode[error.errno],
                      flush=True)
                os._exit(0)
            time.sleep(60)
    """


def check_fork_bomb_contained(result, mechanism: str) -> None:
    assert result.returncode == 0, result.reason
    assert result.process_mechanism == mechanism
    count, error = result.stdout.split()
    assert error == b"EAGAIN" and 8 < int(count) <= 64


def test_a_fork_bomb_is_contained(run_python):
    result = run_python(FORK_BOMB, limits=Limits(processes=64, seconds=30))
    if result.process_mechanism == "RLIMIT_NPROC":
        pytest.skip("no writable pids cgroup on this host: see the RLIMIT_NPROC test")
    check_fork_bomb_contained(result, result.process_mechanism)


def test_without_a_pids_cgroup_rlimit_nproc_contains_a_fork_bomb_or_root_is_refused(run_python, monkeypatch):
    without_cgroup(monkeypatch, "pids")
    if os.geteuid() == 0:  # the kernel does not apply RLIMIT_NPROC to root
        with pytest.raises(sandbox.SandboxError, match="RLIMIT_NPROC"):
            run_python(FORK_BOMB, limits=Limits(processes=64, seconds=30))
    else:
        check_fork_bomb_contained(run_python(FORK_BOMB, limits=Limits(processes=64, seconds=30)),
                                  "RLIMIT_NPROC")


def test_output_is_capped(run_python):
    result = run_python("""
        import sys
        for _ in range(100):
            sys.stdout.buffer.write(b"x" * 1_000_000)
        print("done", file=sys.stderr)
        """, limits=Limits(output_bytes=1 * MiB))
    assert result.returncode == 0
    assert result.stdout == b"x" * MiB and result.stdout_bytes == 100_000_000
    assert result.stdout_truncated and not result.stderr_truncated
    assert result.stderr == b"done\n"


def test_file_size_is_capped(run_python, scratch):
    result = run_python("""
        import errno
        try:
            open("big", "wb").write(b"x" * (2 << 20))
        except OSError as error:
            print(errno.errorcode[error.errno])
        """, limits=Limits(file_bytes=1 * MiB))
    assert result.stdout == b"EFBIG\n"
    assert (scratch / "big").stat().st_size <= MiB


def test_a_missing_bwrap_says_how_to_install_it(scratch, monkeypatch):
    monkeypatch.setenv("PATH", str(scratch))  # no bwrap there
    with pytest.raises(SandboxUnavailable) as raised:
        run_sandboxed([sys.executable, "-c", "pass"], scratch=scratch)
    message = str(raised.value)
    assert "apt-get install bubblewrap" in message and "dnf install bubblewrap" in message
    assert "conda-forge bubblewrap" in message


def test_limits_are_validated():
    with pytest.raises(ValueError, match="memory_bytes"):
        Limits(memory_bytes=0)
    assert Limits().memory_bytes == 4 * GiB


def test_cgroup_v2_files_are_written_and_read(tmp_path):
    """This host has cgroup v1: the v2 code runs on a folder standing in for /sys/fs/cgroup."""
    (tmp_path / "cgroup.subtree_control").write_text("cpu memory pids\n")
    directory = sandbox._make_v2_cgroup(tmp_path, "run", Limits(memory_bytes=GiB, processes=99))
    assert directory == tmp_path / "run"
    assert sorted(path.name for path in directory.iterdir()) == ["memory.max", "pids.max"]
    assert (directory / "memory.max").read_text() == str(GiB)
    assert (directory / "pids.max").read_text() == "99"
    (directory / "memory.events").write_text("low 0\nhigh 0\nmax 4\noom 1\noom_kill 1\n")
    cgroups = sandbox._Cgroups("v2", directory, directory)
    assert (cgroups.memory_mechanism, cgroups.process_mechanism) == ("cgroup v2", "cgroup v2")
    assert cgroups.procs_files == [directory / "cgroup.procs"]
    assert cgroups.oom_kills() == 1


def test_the_empty_cgroup_of_a_killed_maker_is_removed_by_the_next_run(tmp_path):
    """A grader or Dask worker killed mid-run cannot remove its sandbox's cgroup: the next run does."""
    mounts = sandbox._cgroup_mounts()
    if not mounts:
        pytest.skip("no cgroup hierarchy to write to")
    maker = subprocess.Popen([sys.executable, "-c", "pass"])
    maker.wait()  # a process id that no longer runs
    stale = [Path(parent, f"{sandbox.CGROUP_PREFIX}{maker.pid}-deadbeef") for parent in mounts.values()]
    try:
        for path in stale:
            path.mkdir()
    except OSError:
        pytest.skip("the cgroup hierarchy is not writable here")
    assert set(sandbox.leftover_cgroups()) >= set(stale)
    sandbox.run_sandboxed([sys.executable, "-c", "pass"], scratch=tmp_path)
    assert not any(path.exists() for path in stale)
