"""Pre-warmed grading children: a fork server ("zygote") that pays for `import torch` once.

A fresh `python -I -m grader.child` spends about two seconds importing torch, numpy, pytest and
hypothesis before the first check runs. The zygote is one such interpreter, started lazily by
the first grade of this process (`python -I -m grader.zygote FD`, its own session, a clean
environment, cwd a private temporary folder). It imports everything once and then, per exercise,
forks a child that is exactly what a fresh grading child would be after its imports:

    parent (runner.run_child)                  zygote                        child (fork)
    pipes: config, output, events  --fds-->  fork()  ------------------->  setsid()
    + a report socket (SCM_RIGHTS)           report "pid N"                 fds -> 0, 1, 2, 3
                                             ...                            cwd, environ
    wait for "exit CODE" (or time out,       waitpid -> report "exit CODE"  child.run(config)
    then killpg(N) like for any child)

Isolation, point by point:
* Every child is forked from the pristine zygote, which never runs candidate code and never
  imports a candidate module: whatever a candidate patches (torch, harness, builtins) dies with
  its child. The zygote itself is made non-dumpable (prctl), so children cannot ptrace it or
  write its memory through /proc; the children inherit that, so concurrent candidates cannot
  reach each other either. A candidate can still kill the zygote (same user): later grades then
  start a new one or fall back to a fresh interpreter; nothing else changes.
* The secret seed and nonce never pass through the zygote: the parent writes the config into a
  pipe whose read end the child gets as its stdin, exactly like a fresh child.
* The zygote is single-threaded when it forks: the preload refuses to serve if any import started
  a thread (OpenBLAS is kept to one thread by OMP_NUM_THREADS=1; torch runs no op, so its intra-op
  pool does not exist yet) and CUDA is never initialised (the zygote is only used for device
  "cpu"; a CUDA grade, or an exercise requiring anything but triton, gets a fresh interpreter;
  triton reads TRITON_INTERPRET lazily, and the child sets it before importing candidate code).
* Per child: new session, only fds 0-3 open, the exercise's workspace as cwd, the runner's clean
  environment, reseeded `random`/numpy/hypothesis generators, tempfile's cached folder reset.
  The parent still owns the wall clock and kills the child's process group.

`TORCHDRILL_ZYGOTE=0` turns it off (every child is a fresh interpreter); if the zygote cannot
start or dies, grading falls back to fresh interpreters on its own.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import selectors
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading

START_TIMEOUT_S = 180.0       # preload on a loaded 2-core machine can take a while
SPAWN_TIMEOUT_S = 30.0        # a fork answers in milliseconds; a stopped zygote must not hang us
MAX_STARTS = 3                # per grading process; then fresh interpreters only
EVENT_FD = 3                  # where the child finds its result channel
PRELOAD = ("torch", "numpy", "numpy.random", "pytest", "hypothesis", "hypothesis.strategies",
           "grader.harness", "grader.sandbox", "grader.pytest_plugin", "grader.timing",
           "grader.catalogue", "grader.child")
PRELOAD_OPTIONAL = (
    "pdb", "faulthandler", "_pytest._argcomplete",   # pytest imports them in every run
    "torch._dynamo",      # TorchDispatchMode (the forbidden-op guard) imports it on first use: 2.5 s
)


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
    """The parts of subprocess.Popen that runner.run_child uses, for a child of the zygote."""

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
                raise subprocess.TimeoutExpired("grader.child (forked)", timeout)
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
            raise subprocess.TimeoutExpired("grader.child (forked)", timeout)
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
        from grader.runner import _clean_env
        self.home = tempfile.mkdtemp(prefix="torchdrill-zygote-")
        self.sock, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        quiet = not os.environ.get("TORCHDRILL_DEBUG")
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-I", "-m", "grader.zygote", str(theirs.fileno())],
                cwd=self.home, env=_clean_env(1, self.home), stdin=subprocess.DEVNULL,
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

    def spawn(self, cwd, env: dict, event_fd: int) -> ForkedChild:
        cfg_r, cfg_w = os.pipe()
        out_r, out_w = os.pipe()
        mine, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        request = json.dumps({"cwd": str(cwd), "env": env}).encode()
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


def spawn(cwd, env: dict, event_fd: int) -> ForkedChild | None:
    """A child forked from the zygote (started on first use), or None: use a fresh interpreter."""
    z = _get()
    if z is None:
        return None
    try:
        return z.spawn(cwd, env, event_fd)
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


# ------------------------------------------------------------------------------- zygote side

def import_preload() -> None:
    """Import what every grading child needs. The zygote does it once before forking; a fresh
    child (TORCHDRILL_ZYGOTE=0, CUDA) does it before lock-down, so both paths run the checks
    with the same modules loaded (a module first imported after lock-down may be refused)."""
    import importlib
    for name in PRELOAD:
        importlib.import_module(name)
    import _pytest.config
    optional = [f"_pytest.{name}" for name in _pytest.config.default_plugins]
    for name in optional + list(PRELOAD_OPTIONAL):  # what every pytest.main() imports
        try:
            importlib.import_module(name)
        except ImportError:
            pass


def _preload() -> None:
    import_preload()
    threads = os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else ["1"]
    if len(threads) != 1 or threading.active_count() != 1:
        raise ZygoteError(f"{len(threads)} threads after the preload; forking would be unsafe")
    torch = sys.modules["torch"]
    if torch.cuda.is_initialized():
        raise ZygoteError("CUDA was initialised during the preload")


def _non_dumpable() -> None:
    """No ptrace, no /proc/PID/mem or /proc/PID/fd for other processes of this user."""
    try:
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(4, 0, 0, 0, 0)                      # PR_SET_DUMPABLE = 4
    except (OSError, AttributeError):
        pass


def _serve(control: socket.socket) -> None:
    sel = selectors.DefaultSelector()
    sel.register(control, selectors.EVENT_READ, None)
    children: dict[int, tuple[socket.socket, int | None]] = {}
    poll = not hasattr(os, "pidfd_open")
    while True:
        for key, _ in sel.select(0.1 if poll and children else None):
            if key.data is None:
                try:
                    msg, fds, _flags, _addr = socket.recv_fds(control, 1 << 20, 8)
                except OSError:
                    return
                if not msg and not fds:
                    return                             # the grading process is gone
                _fork_child(msg, fds, control, sel, children)
            else:
                _report_exit(key.data, children, sel, os.waitpid(key.data, 0)[1])
        if poll:
            for pid in list(children):
                done, status = os.waitpid(pid, os.WNOHANG)
                if done:
                    _report_exit(pid, children, sel, status)


def _report_exit(pid: int, children: dict, sel, status: int) -> None:
    report, pidfd = children.pop(pid)
    if pidfd is not None:
        sel.unregister(pidfd)
        os.close(pidfd)
    try:
        report.send(b"exit %d" % os.waitstatus_to_exitcode(status))
    except OSError:
        pass
    report.close()


def _fork_child(msg: bytes, fds: list[int], control, sel, children: dict) -> None:
    if len(fds) != 4:
        for fd in fds:
            os.close(fd)
        return
    cfg_r, out_w, event_w, report_fd = fds
    report = socket.socket(fileno=report_fd)
    try:
        request = json.loads(msg)
        cwd, env = str(request["cwd"]), {str(k): str(v) for k, v in request["env"].items()}
    except (ValueError, KeyError, TypeError, AttributeError):
        for fd in (cfg_r, out_w, event_w):
            os.close(fd)
        report.send(b"error bad request")
        report.close()
        return
    sync_r, sync_w = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    pid = os.fork()
    if pid == 0:
        code = 70
        try:
            os.close(sync_r)
            _become_child(cwd, env, cfg_r, out_w, event_w, sync_w)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:  # noqa: BLE001 - like an uncaught exception in a fresh child
            import traceback
            traceback.print_exc()
            code = 1
        finally:
            try:
                sys.stdout.flush()
                sys.stderr.flush()
            finally:
                os._exit(code)
    for fd in (cfg_r, out_w, event_w, sync_w):
        os.close(fd)
    os.read(sync_r, 1)                 # EOF once the child has its own session (or died)
    os.close(sync_r)
    try:
        report.send(b"pid %d" % pid)
    except OSError:
        pass
    pidfd = None
    if hasattr(os, "pidfd_open"):
        try:
            pidfd = os.pidfd_open(pid)
        except OSError:
            pidfd = None
    children[pid] = (report, pidfd)
    if pidfd is not None:
        sel.register(pidfd, selectors.EVENT_READ, pid)
    else:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            _report_exit(pid, children, sel, status)


def _become_child(cwd: str, env: dict, cfg_r: int, out_w: int, event_w: int, sync_w: int) -> None:
    """In the forked child: turn into what `python -I -m grader.child` is after its imports."""
    import fcntl
    os.setsid()                        # before the parent learns our pid: killpg(pid) works
    os.close(sync_w)
    safe = [fcntl.fcntl(fd, fcntl.F_DUPFD, 16) for fd in (cfg_r, out_w, event_w)]
    os.dup2(safe[0], 0)                # stdin: the config, written by the parent
    os.dup2(safe[1], 1)                # stdout and stderr: the parent's capped pipe
    os.dup2(safe[1], 2)
    os.dup2(safe[2], EVENT_FD)         # the result channel
    os.closerange(EVENT_FD + 1, _max_fd())   # zygote socket, other children's reports, epoll
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    for key, value in _SET_BY_PRELOAD.items():   # as if the child had imported them itself
        os.environ.setdefault(key, value)
    tempfile.tempdir = None            # TMPDIR is the child's own folder now
    _reseed()
    from grader import child
    sys.argv = [child.__file__]
    config = child._read_config()
    config["fd"] = EVENT_FD
    child.run(config)                  # ends with os._exit


def _max_fd() -> int:
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        return soft if 0 < soft < (1 << 20) else 1 << 16
    except (ImportError, OSError, ValueError):
        return 1 << 16


def _reseed() -> None:
    """A fork shares its parent's generator states; a fresh interpreter would not."""
    import random
    random.seed()
    np_random = sys.modules.get("numpy.random")
    if np_random is not None:
        np_random.seed()
    engine = sys.modules.get("hypothesis.internal.conjecture.engine")
    if engine is not None and hasattr(engine, "_random"):
        engine._random.seed()


_SET_BY_PRELOAD: dict[str, str] = {}   # variables the imports set (torch._dynamo: TORCHINDUCTOR_CACHE_DIR)


def main() -> None:
    control = socket.socket(fileno=int(sys.argv[1]))
    before = dict(os.environ)
    try:
        _preload()
        _SET_BY_PRELOAD.update({k: v for k, v in os.environ.items() if before.get(k) != v})
    except BaseException as exc:  # noqa: BLE001 - tell the parent, which falls back
        try:
            control.send(f"error {type(exc).__name__}: {exc}".encode()[:250])
        finally:
            os._exit(1)
    _non_dumpable()
    import gc
    gc.collect()
    gc.freeze()                        # children's GC leaves the preloaded objects' pages shared
    control.send(b"ready %d" % os.getpid())
    _serve(control)
    os._exit(0)


if __name__ == "__main__":
    main()
