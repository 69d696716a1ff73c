"""The fork server (`python -I -m grader.isolation.zygote_server FD`): imports once, forks a
grading child per request. How and why: docs/design.md."""

from __future__ import annotations

import json
import os
import selectors
import socket
import sys
import tempfile
import threading

from grader.isolation import preload
from grader.isolation.protocol import EVENT_FD, read_config


class ZygoteError(RuntimeError):
    pass


def _preload() -> None:
    preload.import_preload("cpu")      # the zygote serves CPU grades only
    threads = os.listdir("/proc/self/task") if os.path.isdir("/proc/self/task") else ["1"]
    if len(threads) != 1 or threading.active_count() != 1:
        raise ZygoteError(f"{len(threads)} threads after the preload; forking would be unsafe")
    torch = sys.modules["torch"]
    if torch.cuda.is_initialized():
        raise ZygoteError("CUDA was initialised during the preload")
    from grader.sandbox import inventory
    inventory.remember_all()   # each child's integrity snapshot then re-reads only what changed


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
        spec = request.get("walls")
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
            _become_child(cwd, env, cfg_r, out_w, event_w, sync_w, spec)
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


def _become_child(cwd: str, env: dict, cfg_r: int, out_w: int, event_w: int, sync_w: int,
                  spec: dict | None = None) -> None:
    """In the forked child: turn into what `python -I -m grader.isolation.child` is after its imports."""
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
    if spec:                           # its own namespaces: this process stays outside as the
        from grader.isolation import walls  # supervisor the parent knows; its child goes on
        try:
            walls.enter(walls.spec_from_dict(spec))
        except walls.WallError as exc:
            sys.stderr.write(f"walls: {exc.strerror}\n")
            raise SystemExit(126) from None
    _reseed()
    from grader.isolation import child
    sys.argv = [child.__file__]
    config = read_config()
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
