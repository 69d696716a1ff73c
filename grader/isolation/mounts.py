"""The walled process's private root: planning the binds, building it on a tmpfs, /proc, /dev, pivot."""
from __future__ import annotations

import ctypes
import os
from errno import EINVAL, ENOENT, ENOSYS
from typing import TYPE_CHECKING

if __package__:
    from .seccomp import _arch
    from .syscalls import _check, _fail, _libc, _mount
else:  # a top-level module beside walls.py, run as a script (see walls.popen_prefix)
    from seccomp import _arch
    from syscalls import _check, _fail, _libc, _mount

if TYPE_CHECKING:
    from .walls import WallSpec

# ---- mount flags -------------------------------------------------------------------------------
MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REMOUNT = 1, 2, 4, 8, 32
MS_BIND, MS_REC, MS_PRIVATE = 4096, 16384, 1 << 18
RO = MS_RDONLY | MS_NOSUID | MS_NODEV    # readable binds: the libraries there must stay executable
RW = MS_NOSUID | MS_NODEV | MS_NOEXEC    # writable binds and tmpfs: nothing written there can run
STAGE = "/tmp"              # the new root is built on a tmpfs over it; sources are reached by fd
_USE_MOUNT_SETATTR = True   # mount_setattr(2), Linux 5.12+, is recursive; tests turn it off


def _set_attrs(target: str, flags: int) -> None:
    """Add RDONLY/NOSUID/NODEV/NOEXEC to a mount and every mount below it."""
    global _USE_MOUNT_SETATTR
    if _USE_MOUNT_SETATTR:
        attr = (ctypes.c_uint64 * 4)(flags, 0, 0, 0)   # MOUNT_ATTR_* = MS_* for these four; AT_RECURSIVE
        L = ctypes.c_long
        if _libc.syscall(L(442), L(-100), target.encode(), L(0x8000), ctypes.byref(attr), L(32)) == 0:
            return
        if ctypes.get_errno() != ENOSYS:
            _fail(f"mount_setattr {target}", ctypes.get_errno())
        _USE_MOUNT_SETATTR = False
    # Older kernels: the top mount only, passing again the flags it has (a user namespace may not
    # clear locked ones: nosuid, the atime mode).
    keep = os.statvfs(target).f_flag & (MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC | 1024 | 2048 | 4096)
    _mount(None, target, None, MS_REMOUNT | MS_BIND | flags | keep)


# ---- planning, before anything changes ---------------------------------------------------------
def _links_of(path: str, links: dict, depth: int = 0) -> None:
    """Every symlink on the way to `path` and to its targets, as {location (parent resolved): target}:
    the new root recreates them, so /lib -> usr/lib or a venv's lib64 -> lib still resolve."""
    cur = ""
    for part in path.strip("/").split("/"):
        cur = f"{cur}/{part}"
        if os.path.islink(cur) and depth < 20:
            dest = os.readlink(cur)
            links[os.path.join(os.path.realpath(os.path.dirname(cur)), part)] = dest
            _links_of(os.path.normpath(os.path.join(os.path.dirname(cur), dest)), links, depth + 1)


def _plan(spec: WallSpec):
    """[(realpath, flags)] parents first, dropping what a bind of the same kind above already shows."""
    kinds: dict[str, str] = {}
    links: dict[str, str] = {}
    for kind, paths in ("ro", spec.readable), ("hidden", spec.hidden_until_collected), ("rw", spec.writable):
        for p in paths:
            rp = os.path.realpath(p)
            if not os.path.isabs(p) or not os.path.exists(rp):
                _fail(f"{kind} path {p!r}", ENOENT if os.path.isabs(p) else EINVAL)
            if rp in ("/", "/proc") or rp.startswith("/proc/") or kind == "hidden" and not os.path.isdir(rp):
                _fail(f"cannot wall {kind} path {p!r}", EINVAL)
            kinds[rp] = kind
            _links_of(p, links)
    _links_of(spec.cwd, links)
    plan: list[tuple[str, int]] = []
    for rp in sorted(kinds, key=lambda q: (q.count("/"), q)):
        above = [q for q, _ in plan if rp.startswith(q.rstrip("/") + "/")]
        if not above or kinds[rp] == "hidden" or kinds[max(above, key=len)] != kinds[rp]:
            plan.append((rp, RW if kinds[rp] == "rw" else RO))
    return plan, links


# ---- building, in the new mount namespace ------------------------------------------------------
def _build_root(plan, links, fds: list[int]) -> None:
    """On a tmpfs: fresh /tmp and /dev, a /proc mountpoint, the binds, the links; nothing else.
    Sources are opened (O_PATH) inside the new mount namespace, before the tmpfs covers STAGE."""
    fds += [os.open(rp, os.O_PATH | os.O_CLOEXEC) for rp, _ in plan]
    _mount("tmpfs", STAGE, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755")
    dev = f"{STAGE}/dev"
    for d in ("tmp", "dev", "proc"):
        os.mkdir(f"{STAGE}/{d}", 0o755)
    _mount("tmpfs", f"{STAGE}/tmp", "tmpfs", RW, "mode=1777")
    _mount("tmpfs", dev, "tmpfs", RW, "mode=0755")            # nodev: a node made here opens nothing
    for name in ("null", "zero", "full", "random", "urandom"):
        os.close(os.open(f"{dev}/{name}", os.O_CREAT | os.O_WRONLY, 0o666))
        _mount(f"/dev/{name}", f"{dev}/{name}", None, MS_BIND)  # the bind has the host's dev flag
    for name, dest in (("fd", ""), ("stdin", "/0"), ("stdout", "/1"), ("stderr", "/2")):
        os.symlink(f"/proc/self/fd{dest}", f"{dev}/{name}")
    os.mkdir(f"{dev}/shm")
    _mount("tmpfs", f"{dev}/shm", "tmpfs", RW, "mode=1777")
    for (rp, flags), fd in zip(plan, fds):
        target = STAGE + rp
        if not os.path.lexists(target):             # else it shows inside an earlier bind: cover it
            os.makedirs(os.path.dirname(target), 0o755, exist_ok=True)
            if os.path.isdir(f"/proc/self/fd/{fd}"):
                os.mkdir(target, 0o755)
            else:
                os.close(os.open(target, os.O_CREAT | os.O_WRONLY, 0o644))
        _mount(f"/proc/self/fd/{fd}", target, None, MS_BIND | MS_REC)
        _set_attrs(target, flags)
    for loc, dest in links.items():                 # last: no mkdir above ever follows a link
        if not os.path.lexists(STAGE + loc):
            os.makedirs(os.path.dirname(STAGE + loc), 0o755, exist_ok=True)
            os.symlink(dest, STAGE + loc)
    _mount(None, dev, None, MS_REMOUNT | MS_BIND | RO | MS_NOEXEC)   # this mount only, not /dev/shm


# ---- finishing, in pid 1 -----------------------------------------------------------------------
def _finish_root() -> None:
    """In pid 1: its own /proc (mounted while the host's is in view, as a user namespace requires),
    /proc/sys & co. read-only (uid 0 may write sysctls by uid alone), then pivot and seal /."""
    _mount("proc", f"{STAGE}/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    for sub in ("sys", "sysrq-trigger", "irq", "bus", "fs"):
        p = f"{STAGE}/proc/{sub}"
        if os.path.exists(p):
            _mount(p, p, None, MS_BIND | MS_REC)
            _set_attrs(p, RO | MS_NOEXEC)
    os.chdir(STAGE)
    _check(_libc.syscall(ctypes.c_long(_arch()[4]), b".", b"."), "pivot_root")
    _check(_libc.umount2(b".", 2), "detach the old root")          # MNT_DETACH
    os.chdir("/")
    _mount(None, "/", None, MS_REMOUNT | MS_BIND | RO | MS_NOEXEC)
