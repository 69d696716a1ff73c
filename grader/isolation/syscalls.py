"""The libc calls and constants the walls share, and WallError, which every failed step raises."""
from __future__ import annotations

import ctypes
import os

# The lowest module of the walls: it imports no sibling, so seccomp, cgroups, mounts and walls
# can all import it without a cycle. WallError lives here because _fail raises it.


class WallError(OSError):
    """A step of enter() failed (strerror is one line). The process is then half-walled: exit it."""


# ---- libc and shared constants -----------------------------------------------------------------
_libc = ctypes.CDLL(None, use_errno=True)
_libc.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p, ctypes.c_ulong, ctypes.c_char_p]
_libc.umount2.argtypes = [ctypes.c_char_p, ctypes.c_int]
_libc.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong, ctypes.c_ulong]
_libc.syscall.restype = ctypes.c_long

# enter() unshares these; the seccomp filter refuses them to clone afterwards.
CLONE_NEWUSER = 0x10000000
_NS_FLAGS = 0x20000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x20000000 | 0x40000000  # mnt cg uts ipc pid net
PR_SET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 3, 4, 38


# ---- checked calls -----------------------------------------------------------------------------
def _fail(what: str, err: int):
    raise WallError(err, f"{what}: {os.strerror(err)}")


def _check(ret: int, what: str) -> int:
    if ret < 0:
        _fail(what, ctypes.get_errno())
    return ret


def _mount(src, target: str, fstype, flags: int, data=None) -> None:
    b = lambda s: s.encode() if isinstance(s, str) else s  # noqa: E731
    _check(_libc.mount(b(src), target.encode(), b(fstype), flags, b(data)), f"mount {target}")


def _prctl(option: int, arg: int = 0, what: str = "prctl") -> int:
    return _check(_libc.prctl(option, arg, 0, 0, 0), what)


# ---- small files (/proc, /sys, cgroupfs) -------------------------------------------------------
def _read(path: str) -> str:
    try:
        with open(path) as f:
            return f.read()
    except OSError:
        return ""


def _write(path: str, value: str) -> None:
    with open(path, "w") as f:
        f.write(value)
