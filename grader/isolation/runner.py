"""Runs one exercise's hidden checks (or its timing) in an isolated child process.

The parent never imports candidate code. Per exercise it copies only the files the exercise
names into a fresh temporary folder, starts `python -I -m grader.isolation.child` there in a new process
session, hands it its configuration on stdin and reads structured events from a private pipe.
It enforces the wall-clock limit by killing the whole process group, caps captured output,
and trusts nothing but nonce-stamped events; checks with no trusted result count as failed.
With isolation "namespaces" every child, forked or fresh, runs behind the OS walls of
isolation/walls.py: its own workspace the only writable place, nothing else of the checkout.
"""

from __future__ import annotations

import functools
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import grader
from grader.catalogue import Exercise, solutions_dir
from grader.isolation import procs, walls, zygote_client
from grader.isolation.protocol import (EVENT_LINE_CAP, FILE_LIMIT_MB, MAX_EVENTS, MAX_PROCESSES,
                                       clean_env)

UID_BASE, UID_SPAN = 2_000_000, 1_000_000   # private uids for grading children (root only)
WATCH_INTERVAL_S = 0.2          # how often the watchdog counts the child's processes
OUTPUT_CAP = 64 * 1024          # bytes of child stdout/stderr kept for diagnostics


@dataclass
class ChildRun:
    """What one child process reported, as the parent saw it."""

    events: list[dict] = field(default_factory=list)
    forged: int = 0             # lines on the channel without the nonce
    timed_out: bool = False
    limit: str = ""             # a limit the parent enforced ("started more than 64 processes")
    seen: set = field(default_factory=set)   # pids the watchdog saw belonging to the child
    returncode: int | None = None
    output: str = ""
    seconds: float = 0.0

    def of(self, kind: str) -> list[dict]:
        return [e for e in self.events if e.get("event") == kind]


def prepare_workspace(exercise: Exercise, submission: Path) -> tuple[Path, list[str]]:
    """Temp root with work/ (the candidate's listed files only) and checks/ (hidden checks).

    Returns the root and the files the submission lacks. Anything else in the submission
    (conftest.py, pytest.ini, copies of tests) is never copied, so it can never load.
    """
    root = Path(tempfile.mkdtemp(prefix=f"torchdrill-{exercise.slug}-"))
    work, checks = root / "work", root / "checks"
    work.mkdir()
    checks.mkdir()
    (root / "home").mkdir()
    missing = []
    for name in exercise.files:
        src = submission / name
        if src.is_file() and not src.is_symlink() and not src.parent.is_symlink():
            # never through a link: a link to solutions/ would hand in the reference
            shutil.copyfile(src, work / name)
        else:
            missing.append(name)
    shutil.copyfile(exercise.hidden_tests, checks / "test_hidden.py")
    (checks / "pytest.ini").write_text("[pytest]\n")
    return root, missing


def wall_spec(exercise: Exercise, root: Path, hidden_data: dict) -> walls.WallSpec:
    """What a walled child may see: the system, the Python installation and the grader package
    read-only (only the package: with an editable install it sits in the checkout, next to
    solutions/); the exercise's public folder; its own work/ and home/ read-write (noexec); the
    hidden checks and data until collection. Nothing else: no solutions/, no other exercise's or
    candidate's workspace, no home directory."""
    package = str(Path(grader.__file__).resolve().parent)
    hidden = [str(root / "checks")] + sorted({str(Path(p).parent) for p in hidden_data.values()})
    return walls.WallSpec(
        writable=(str(root / "work"), str(root / "home")),
        readable=walls.default_readable() + (package, str(exercise.path.resolve()), *hidden),
        hidden_until_collected=tuple(hidden), cwd=str(root / "work"),
        memory_limit_mb=exercise.memory_limit_mb, max_processes=MAX_PROCESSES + 2 * (os.cpu_count() or 1))


def run_child(exercise: Exercise, root: Path, *, mode: str, device: str, threads: int,
              time_limit_s: float, nonce: str | None = None,
              isolation: str = "process", only: tuple[str, ...] = (),
              public_tests: tuple[str, ...] = ()) -> ChildRun:
    nonce = nonce or secrets.token_hex(16)
    data_dir = exercise.solution_dir / "data"
    config = {
        "mode": mode, "nonce": nonce, "seed": secrets.randbits(31),
        "slug": exercise.slug, "module": exercise.files[0].removesuffix(".py"),
        "exercise_dir": str(exercise.path),
        "candidate_dir": str(root / "work"), "checks_dir": str(root / "checks"),
        "hidden_test": str(root / "checks" / "test_hidden.py"),
        "ini_file": str(root / "checks" / "pytest.ini"),
        "hidden_data": {p.name: str(p) for p in sorted(data_dir.glob("*"))} if data_dir.is_dir() else {},
        "protected": [str(solutions_dir()), str(Path(__file__).resolve().parent.parent)],
        "forbidden_ops": list(exercise.forbidden_ops), "requires": list(exercise.requires),
        "forbidden": [name for name in exercise.forbidden if not name.startswith(".")],
        "memory_limit_mb": exercise.memory_limit_mb, "device": device, "threads": threads,
        "max_processes": MAX_PROCESSES + 2 * (os.cpu_count() or 1),
        "cpu_limit_s": int(time_limit_s * (threads + 1) + 30),
        "allow_compilers": device == "cuda" and bool(exercise.requires),
        "only": list(only),
        "public_tests": list(public_tests),        # mode "public" (validate): these files
    }
    spec = wall_spec(exercise, root, config["hidden_data"]) if isolation == "namespaces" else None
    if spec is not None:
        config["walls"] = asdict(spec)
    uid = _private_uid()
    if uid:
        config["uid"] = config["gid"] = uid
        _hand_over(root, uid)
    read_fd, write_fd = os.pipe()
    config["fd"] = write_fd
    run = ChildRun()
    start = time.monotonic()
    proc = None
    env = clean_env(threads, str(root / "home"))
    if zygote_client.usable(device, exercise.requires):   # forked from the pre-warmed zygote
        proc = zygote_client.spawn(root / "work", env, write_fd, walls=config.get("walls"))
    if proc is None:                               # a fresh interpreter (also the fallback)
        argv = [sys.executable, "-I", "-m", "grader.isolation.child"]
        proc = subprocess.Popen(
            (walls.popen_prefix(spec) if spec is not None else []) + argv, cwd=root / "work",
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            env=env, start_new_session=True,
            pass_fds=(write_fd,), close_fds=True,
        )
    os.close(write_fd)
    readers = [
        threading.Thread(target=_read_events, args=(read_fd, nonce, run), daemon=True),
        threading.Thread(target=_drain_output, args=(proc.stdout, run), daemon=True),
    ]
    stop = threading.Event()
    readers.append(threading.Thread(target=_watchdog, args=(proc.pid, uid, config["max_processes"],
                                                            run, stop), daemon=True))
    for t in readers:
        t.start()
    try:
        proc.stdin.write(json.dumps(config).encode())
        proc.stdin.close()
    except OSError:
        pass                                   # the child died at once; its exit code says why
    try:
        proc.wait(timeout=time_limit_s)
    except subprocess.TimeoutExpired:
        run.timed_out = True
    stop.set()
    sweep(proc.pid, uid, run.seen)             # lingering processes, also those that left the
    _kill_group(proc.pid)                      # group or session (setsid, double fork)
    proc.wait()
    for t in readers:
        t.join(timeout=5)
    run.returncode = proc.returncode
    run.seconds = time.monotonic() - start
    if spec is not None and spec.memory_limit_mb:   # the cgroup is named by the child's pid
        if walls.memory_killed(proc.pid):
            run.limit = f"exceeded the {spec.memory_limit_mb} MiB memory limit"
        walls.cleanup_cgroup(proc.pid)
    shutil.rmtree(root / "home", ignore_errors=True)
    return run


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _private_uid() -> int | None:
    """An unused uid for one grading child when the grader runs as root (candidate code then
    runs unprivileged, RLIMIT_NPROC bounds its processes, and every process of that uid can be
    found and killed afterwards). TORCHDRILL_SANDBOX_UID=0 turns this off."""
    if os.geteuid() != 0 or os.environ.get("TORCHDRILL_SANDBOX_UID") == "0" \
            or not _installation_readable():
        return None
    import pwd
    used = {info[3] for info in procs.process_table().values()}
    for _ in range(100):
        uid = UID_BASE + secrets.randbelow(UID_SPAN)
        if uid in used:
            continue
        try:
            pwd.getpwuid(uid)
            continue                       # a real account: never borrow it
        except KeyError:
            return uid
    return None


@functools.cache
def _installation_readable() -> bool:
    return procs.installation_readable()


def _hand_over(root: Path, uid: int) -> None:
    """Workspace permissions for a child running as `uid`: it may traverse the temp root, read
    and write work/ and home/, and never read checks/ (read by root before the switch)."""
    os.chmod(root, 0o711)
    os.chmod(root / "checks", 0o700)
    for folder in (root / "work", root / "home"):
        os.chown(folder, uid, uid)
        for path in folder.rglob("*"):
            os.chown(path, uid, uid, follow_symlinks=False)


def _watchdog(pid: int, uid: int | None, limit: int, run: ChildRun, stop: threading.Event) -> None:
    """Counts the child's processes (its session, group, descendants, private uid) while it
    runs; over `limit`, kills them all: a fork bomb is bounded even where RLIMIT_NPROC is not
    (root ignores it)."""
    known = run.seen
    while not stop.wait(WATCH_INTERVAL_S):
        try:
            found = procs.related_processes(pid, uid, known)
        except OSError:
            continue
        known |= found
        if len(found) > limit:
            run.limit = f"started more than {limit} processes"
            sweep(pid, uid, found)
            return


def sweep(pid: int, uid: int | None, seen=()) -> None:
    """Kill whatever a child left behind: its session and group, their descendants, the ones
    the watchdog saw, and every process of its private uid, until none is left (a fork loop
    cannot outrun this: each round finds the new ones)."""
    known = set(seen)
    for _ in range(20):
        found = procs.related_processes(pid, uid, known)
        if not found:
            return
        known |= found
        procs.kill_all(found)
        time.sleep(0.01)


def _read_events(fd: int, nonce: str, run: ChildRun) -> None:
    """Parse nonce-stamped JSON lines; keep reading to EOF so the child never blocks."""
    buf = b""
    with os.fdopen(fd, "rb", buffering=0) as pipe:
        while True:
            chunk = pipe.read(65536)
            if not chunk:
                break
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                _accept(line, nonce, run)
            if len(buf) > EVENT_LINE_CAP:
                buf = b""
                run.forged += 1


def _accept(line: bytes, nonce: str, run: ChildRun) -> None:
    try:
        event = json.loads(line)
    except ValueError:
        run.forged += 1
        return
    if not isinstance(event, dict) or event.get("nonce") != nonce:
        run.forged += 1
        return
    if len(run.events) < MAX_EVENTS:
        run.events.append(event)


def _drain_output(stream, run: ChildRun) -> None:
    kept = bytearray()
    while True:
        chunk = stream.read1(65536) if hasattr(stream, "read1") else stream.read(65536)
        if not chunk:
            break
        if len(kept) < OUTPUT_CAP:
            kept += chunk[: OUTPUT_CAP - len(kept)]
    run.output = kept.decode("utf-8", "replace")


def describe_exit(run: ChildRun, time_limit_s: float) -> str:
    """Why a child ended, in words for the report."""
    if run.limit:
        return f"the grading process {run.limit} and was killed"
    if run.timed_out:
        return f"timed out after {time_limit_s:g} s"
    code = run.returncode
    tail = (run.output.strip().splitlines()[-1:] or [""])[0][:200]
    sessions = run.of("session")
    if sessions and sessions[-1].get("exit_code") not in (0, 1):
        # pytest itself failed (internal or usage error: e.g. an import that ran out of memory)
        pytest_code = sessions[-1].get("exit_code")
        what = {2: "was interrupted", 3: "hit an internal error",
                4: "was misconfigured"}.get(pytest_code, "failed")
        memory = " (MemoryError)" if "MemoryError" in run.output else ""
        return f"the pytest session {what} (exit code {pytest_code}){memory}: {tail}"
    if code is None or code == 0:
        return "the grading process ended early (exit code 0, e.g. os._exit or sys.exit)"
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        if name == "SIGKILL":
            return "the grading process was killed (SIGKILL: memory limit or external kill)"
        if name == "SIGXCPU":
            return "the grading process exceeded its CPU-time limit (SIGXCPU)"
        if name == "SIGXFSZ":
            return (f"the grading process wrote a file over the "
                    f"{FILE_LIMIT_MB} MiB limit (SIGXFSZ)")
        return f"the grading process crashed ({name})"
    if "MemoryError" in run.output:
        return "the grading process ran out of memory (MemoryError)"
    return f"the grading process exited with code {code}: {tail}"
