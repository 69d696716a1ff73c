"""Parent side of the fork server: starts the zygote, asks it for children, waits on them."""

from __future__ import annotations

import atexit
import json
import os
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

from grader.isolation.protocol import clean_env


START_TIMEOUT_S = 180.0       # preload on a loaded 2-core machine can take a while
SPAWN_TIMEOUT_S = 30.0        # a fork answers in milliseconds; a stopped zygote must not hang us
MAX_STARTS = 3                # per grading process; then fresh interpreters only


def enabled() -> bool:
    return os.environ.get("TORCHDRILL_ZYGOTE", "1").strip().lower() not in ("0", "off", "no", "false")


FORK_SAFE_REQUIREMENTS = {"triton"}    # on CPU: the child sets TRITON_INTERPRET before use


def usable(device: str, requires=()) -> bool:
    """Whether a child for this grade may come from the zygote (else: a fresh interpreter)."""
    return enabled() and device == "cpu" and set(requires) <= FORK_SAFE_REQUIREMENTS


class ZygoteError(RuntimeError):
    pass


# ------------------------------------------------------------------------------- parent side

class ForkedChild:
    """The parts of subprocess.Popen that isolation.runner.run_child uses, for a child of the zygote."""

    def __init__(self, pid: int, report: socket.socket, stdin, stdout):
        self.pid, self.stdin, self.stdout = pid, stdin, stdout
        self.returncode: int | None = None
        self._report: socket.socket | None = report
        self._done = False

    def wait(self, timeout: float | None = None) -> int | None:
        if self._done:
            return self.returncode
        if self._report is not None:
            if not _readable(self._report.fileno(), timeout):
                raise subprocess.TimeoutExpired("grader.isolation.child (forked)", timeout)
            try:
                msg = self._report.recv(64)
            except OSError:
                msg = b""
            self._report.close()
            self._report = None
            if msg.startswith(b"exit "):
                self.returncode = int(msg[5:])
                self._done = True
                return self.returncode
        # The zygote died before it could report: the exit status is lost; wait for the pid.
        if not _wait_gone(self.pid, timeout):
            raise subprocess.TimeoutExpired("grader.isolation.child (forked)", timeout)
        self._done = True
        return self.returncode

    def poll(self) -> int | None:
        try:
            return self.wait(0)
        except subprocess.TimeoutExpired:
            return None

    def send_signal(self, sig: int) -> None:
        if not self._done:
            try:
                os.kill(self.pid, sig)
            except ProcessLookupError:
                pass

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


def _readable(fd: int, timeout: float | None) -> bool:
    """Whether fd becomes readable (data, EOF or error) within timeout seconds (None: ever)."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(None if timeout is None else max(0, int(timeout * 1000))))


def _wait_gone(pid: int, timeout: float | None) -> bool:
    try:
        fd = os.pidfd_open(pid)
    except OSError:
        return True                    # already gone (or no pidfd: cannot wait, do not hang)
    try:
        return _readable(fd, timeout)
    finally:
        os.close(fd)


class Zygote:
    def __init__(self):
        self.home = tempfile.mkdtemp(prefix="torchdrill-zygote-")
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        quiet = not os.environ.get("TORCHDRILL_DEBUG")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-m", "grader.isolation.zygote_server", str(theirs.fileno())],
                cwd=self.home, env=clean_env(1, self.home), stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL if quiet else None,
                pass_fds=(theirs.fileno(),), start_new_session=True)
        finally:
            theirs.close()
        self.lock = threading.Lock()
        self.sock.settimeout(START_TIMEOUT_S)
        try:
            msg = self.sock.recv(256)
        except OSError:
            msg = b""
        if not msg.startswith(b"ready "):
            self.close()
            raise ZygoteError(f"the zygote did not start: {msg.decode(errors='replace') or 'no answer'}")
        self.sock.settimeout(SPAWN_TIMEOUT_S)

    def alive(self) -> bool:
        return self.proc.poll() is None

    def spawn(self, cwd, env: dict, event_fd: int, walls: dict | None = None) -> ForkedChild:
        cfg_r, cfg_w = os.pipe()
        out_r, out_w = os.pipe()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = json.dumps({"cwd": str(cwd), "env": env, "walls": walls}).encode()
        try:
            with self.lock:
                socket.send_fds(self.sock, [request], [cfg_r, out_w, event_fd, theirs.fileno()])
            mine.settimeout(SPAWN_TIMEOUT_S)
            msg = mine.recv(64)
            if not msg.startswith(b"pid "):
                raise ZygoteError(f"the zygote did not fork: {msg!r}")
            pid = int(msg[4:])
        except BaseException:
            for fd in (cfg_w, out_r):
                os.close(fd)
            mine.close()
            raise
        finally:
            os.close(cfg_r)
            os.close(out_w)
            theirs.close()
        return ForkedChild(pid, mine, os.fdopen(cfg_w, "wb"), os.fdopen(out_r, "rb"))

    def close(self) -> None:
        try:
            self.sock.close()                  # EOF on its socket: the zygote exits
        except OSError:
            pass
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        shutil.rmtree(self.home, ignore_errors=True)


_lock = threading.Lock()
_state: dict = {"zygote": None, "starts": 0}


def current() -> Zygote | None:
    """The running zygote of this process (tests use it), or None."""
    return _state["zygote"]


def _get() -> Zygote | None:
    with _lock:
        z = _state["zygote"]
        if z is not None and z.alive():
            return z
        if z is not None:
            _state["zygote"] = None
            z.close()
        if _state["starts"] >= MAX_STARTS:
            return None
        _state["starts"] += 1
        try:
            _state["zygote"] = Zygote()
        except (OSError, ZygoteError):
            return None
        return _state["zygote"]


def spawn(cwd, env: dict, event_fd: int, walls: dict | None = None) -> ForkedChild | None:
    """A child forked from the zygote (started on first use), or None: use a fresh interpreter."""
    z = _get()
    if z is None:
        return None
    try:
        return z.spawn(cwd, env, event_fd, walls)
    except (OSError, ZygoteError, ValueError):
        with _lock:
            if _state["zygote"] is z:
                _state["zygote"] = None
        z.proc.kill()
        z.close()
        return None


def shutdown() -> None:
    with _lock:
        z, _state["zygote"] = _state["zygote"], None
    if z is not None:
        z.close()


def _forget_after_fork() -> None:
    """In a forked copy of the grading process (a fork-based process pool): drop the parent's
    zygote without stopping it; this process starts its own when it needs one."""
    global _lock
    _lock = threading.Lock()
    z = _state["zygote"]
    _state.update(zygote=None, starts=0)
    if z is not None:
        try:
            z.sock.close()
        except OSError:
            pass


atexit.register(shutdown)
os.register_at_fork(after_in_child=_forget_after_fork)
