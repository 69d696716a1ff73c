"""Shared helpers of tests/test_walls.py: fork a child into the walls and report back, the fake
checkout it is walled around, small errno probes."""
import ctypes
import json
import os
import pathlib
import shutil
import tempfile
import time
import traceback

import pytest

from grader.isolation import walls

try:
    import torch
except ImportError:          # the torch checks are extra proofs; the libc ones stand alone
    torch = None

REASON = walls.unavailable_reason()     # every walled test takes `tree`, which skips with it
ROOT = os.geteuid() == 0
libc = ctypes.CDLL(None, use_errno=True)
libc.syscall.restype = ctypes.c_long


# ---- a walled child and its report -----------------------------------------------------------
def spawn(spec, body, *args, before=None):
    """Fork; the child runs `before`, enter(spec), then body(*args) and writes a JSON report.
    Returns (pid the parent knows = the supervisor, read end of the report pipe)."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(r)
        try:
            if before:
                before()
            try:
                walls.enter(spec)
            except walls.WallError as exc:
                out = {"wall_error": exc.strerror}
            else:
                out = {"ok": body(*args) if body else None}
        except BaseException:  # noqa: BLE001 - reported to the test
            out = {"error": traceback.format_exc()}
        os.write(w, json.dumps(out).encode())
        os._exit(0)
    os.close(w)
    return pid, r


def collect(pid, r, report=True):
    with os.fdopen(r, "rb") as f:
        data = f.read()
    status = os.waitpid(pid, 0)[1]
    out = json.loads(data) if data else {"error": f"no report (wait status {status})"} if report else {}
    if "error" in out:
        pytest.fail(out["error"])
    return out, status


def walled(spec, body, *args, before=None):
    out, status = collect(*spawn(spec, body, *args, before=before))
    if "wall_error" in out:
        pytest.fail(f"enter() failed: {out['wall_error']}")
    assert status == 0
    return out["ok"]


# ---- probes: the errno an attempt fails with -------------------------------------------------
def err(fn, *args, **kw):
    """The errno an attempt fails with, or 'ok' (with a value) if it did not fail."""
    try:
        fn(*args, **kw)
        return "ok"
    except OSError as exc:
        return exc.errno


def c_err(ret):
    return ctypes.get_errno() if ret < 0 else f"ok ({ret})"


def status_fields():
    with open("/proc/self/status") as f:
        return dict(line.rstrip("\n").split(":\t", 1) for line in f if ":\t" in line)


def write_file(path, text, mode=0o644):
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


# ---- the fake checkout and its spec ----------------------------------------------------------
@pytest.fixture(scope="module")
def tree():
    """A fake checkout (traversable by an unprivileged uid) and an outside folder."""
    if REASON is not None:
        pytest.skip(f"walls unavailable here: {REASON}")
    # Not under /tmp: inside the walls /tmp is a private tmpfs, where anything may be created.
    top = tempfile.mkdtemp(prefix="walls-", dir="/var/tmp" if os.path.isdir("/var/tmp") else None)
    os.chmod(top, 0o755)
    co, out = os.path.join(top, "checkout"), os.path.join(top, "outside")
    for d in ("solutions", "pkg", "ws", "other", "hidden", "nobody-ws"):
        os.makedirs(os.path.join(co, d))
    os.makedirs(os.path.join(out, "ro"))
    os.chmod(os.path.join(co, "nobody-ws"), 0o777)
    write_file(f"{co}/solutions/answer.py", "ANSWER = 42\n")
    write_file(f"{co}/pkg/mod.py", "VALUE = 'pkg'\n")
    write_file(f"{co}/other/notes.txt", "someone else's work\n")
    write_file(f"{co}/hidden/test_hidden.py", "def test_x(): pass\n")
    write_file(f"{out}/root_file.txt", "owned by root\n")
    write_file(f"{out}/ro/data.txt", "0123456789abcdef\n")
    yield {"top": top, "co": co, "out": out, "secret": f"{co}/solutions/answer.py", "pkg": f"{co}/pkg",
           "ws": f"{co}/ws", "other": f"{co}/other", "hidden": f"{co}/hidden", "ro": f"{out}/ro"}
    shutil.rmtree(top, ignore_errors=True)


def spec_for(t, **kw):
    args = dict(writable=(t["ws"],), readable=walls.default_readable() + (t["pkg"], t["ro"]), cwd=t["ws"])
    args.update(kw)
    return walls.WallSpec(**args)


@pytest.fixture
def host_tmp():
    """A folder under the host's /tmp (not pytest's tmp_path: the suite's conftest inspects that)."""
    path = tempfile.mkdtemp(prefix="walls-", dir="/tmp")
    yield pathlib.Path(path)
    shutil.rmtree(path, ignore_errors=True)


# ---- processes seen from outside -------------------------------------------------------------
def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(c) for c in f.read().split()]
    except OSError:
        return []


def gone(pid, timeout=3.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as f:
                if f.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except OSError:
            return True
        time.sleep(0.02)
    return False
