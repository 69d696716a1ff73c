"""cgroup v2 limits for a walled job: availability, joining the job's group, OOM report, cleanup."""
from __future__ import annotations

import functools
import os
import time
from errno import EBUSY
from typing import TYPE_CHECKING

if __package__:
    from .syscalls import _read, _write
else:  # a top-level module beside walls.py, run as a script (see walls.popen_prefix)
    from syscalls import _read, _write

if TYPE_CHECKING:
    from .walls import WallSpec


# ---- the hierarchy -----------------------------------------------------------------------------
def _cgroup_root() -> str | None:
    mounts = [line.split() for line in _read("/proc/self/mountinfo").splitlines()]
    found = [m[4] for m in mounts if "-" in m and m[m.index("-") + 1] == "cgroup2"]
    return "/sys/fs/cgroup" if "/sys/fs/cgroup" in found else (found + [None])[0]


@functools.cache
def cgroup_unavailable_reason() -> str | None:
    """None when enter() can put the process in a memory- and pids-limited cgroup; else why not.
    Cached; the first call enables both controllers for <cgroup2>/torchdrill/ (needs root)."""
    root = _cgroup_root()
    if root is None:
        return "no cgroup v2 hierarchy is mounted"
    missing = [c for c in ("memory", "pids") if c not in _read(f"{root}/cgroup.controllers").split()]
    if missing:
        return f"cgroup v2 at {root} has no {' or '.join(missing)} controller (a v1 or hybrid hierarchy)"
    try:
        os.makedirs(f"{root}/torchdrill", exist_ok=True)
        for d in (root, f"{root}/torchdrill"):      # v2: a group that delegates holds no process
            if {"memory", "pids"} - set(_read(f"{d}/cgroup.subtree_control").split()):
                _write(f"{d}/cgroup.subtree_control", "+memory +pids")
    except OSError as exc:
        return f"cannot delegate memory and pids below {root}: {exc.strerror}"
    return None


def _cgroup_dir(pid_or_path) -> str | None:
    if isinstance(pid_or_path, str):
        return pid_or_path
    root = _cgroup_root()
    return f"{root}/torchdrill/job-{int(pid_or_path)}" if root else None


# ---- in the child: join ------------------------------------------------------------------------
def _join_cgroup(spec: WallSpec) -> None:
    d = _cgroup_dir(os.getpid())
    if os.path.isdir(d):
        os.rmdir(d)                                 # left by an earlier holder of this pid
    os.mkdir(d)
    if spec.memory_limit_mb > 0:
        _write(f"{d}/memory.max", str(spec.memory_limit_mb << 20))
        for name, value in (("memory.swap.max", "0"), ("memory.oom.group", "1")):  # OOM ends the job
            if os.path.exists(f"{d}/{name}"):
                _write(f"{d}/{name}", value)
    if spec.max_processes > 0:
        _write(f"{d}/pids.max", str(spec.max_processes))
    _write(f"{d}/cgroup.procs", str(os.getpid()))


# ---- in the parent: report and clean up --------------------------------------------------------
def memory_killed(pid_or_path) -> bool:
    """Whether the job cgroup of `pid` (the pid the parent knows) saw an OOM kill. Before cleanup."""
    events = dict(line.split() for line in _read(f"{_cgroup_dir(pid_or_path)}/memory.events").splitlines())
    return int(events.get("oom_kill", 0)) + int(events.get("oom_group_kill", 0)) > 0


def cleanup_cgroup(pid_or_path, timeout: float = 2.0) -> bool:
    """In the parent, after waitpid: kill what is left in the job cgroup, remove it. True if gone."""
    d, deadline = _cgroup_dir(pid_or_path), time.monotonic() + timeout
    if d and os.path.exists(f"{d}/cgroup.kill"):
        _write(f"{d}/cgroup.kill", "1")             # Linux 5.14+: stragglers die at once
    while d and os.path.isdir(d):
        try:
            os.rmdir(d)
        except OSError as exc:                      # EBUSY until the last task has exited
            if exc.errno != EBUSY or time.monotonic() > deadline:
                return False
            time.sleep(0.01)
    return True
