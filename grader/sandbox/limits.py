"""Kernel-enforced limits applied first thing in the grading child, and the privilege drop."""

from __future__ import annotations

import os
import resource
import signal

from grader.isolation.procs import tasks_of_uid
from grader.isolation.protocol import FILE_LIMIT_MB


GIB = 1 << 30
MIB = 1 << 20

OPEN_FILES = 1024
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38

# ------------------------------------------------------------------------ kernel-enforced limits

def _libc():
    import ctypes
    return ctypes.CDLL(None, use_errno=True)


def prctl(option: int, value: int) -> bool:
    try:
        return _libc().prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def apply_limits(config: dict) -> None:
    """Resource limits, applied first thing in the child (inherited by anything it starts)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))            # a segfault leaves no core file
    limit_mb = int(config.get("memory_limit_mb", 0))
    if limit_mb and config.get("device", "cpu") == "cpu":
        # Address space, not RSS (the kernel enforces RLIMIT_AS at allocation, so a 20 GB
        # tensor fails at once instead of swapping). On top of what is mapped already: torch's
        # CUDA builds map gigabytes of libraries and reservations before any tensor exists
        # (2.14.1+cu130: a 3 GiB absolute limit kills the child in its imports). CUDA itself
        # reserves huge virtual ranges, so only on CPU.
        limit = address_space_bytes() + limit_mb * MIB
        _lower(resource.RLIMIT_AS, limit)
    _lower(resource.RLIMIT_NOFILE, OPEN_FILES)
    _lower(resource.RLIMIT_FSIZE, int(config.get("file_limit_mb", FILE_LIMIT_MB)) * MIB)
    cpu = int(config.get("cpu_limit_s", 0))
    if cpu:                                   # SIGXCPU at the soft limit, SIGKILL at the hard one
        _lower(resource.RLIMIT_CPU, cpu, cpu + 5)
    prctl(PR_SET_NO_NEW_PRIVS, 1)             # setuid binaries cannot raise privileges
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)   # the child never outlives the grader
    prctl(PR_SET_CHILD_SUBREAPER, 1)          # orphaned descendants stay below the child


def address_space_bytes() -> int:
    """This process's mapped address space (VmSize), 0 where /proc cannot tell."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def _lower(which: int, soft: int, hard: int | None = None) -> None:
    cur_soft, cur_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if cur_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, cur_hard), min(hard, cur_hard)
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass

def drop_privileges(config: dict) -> str:
    """Switch to the private uid the parent chose (only when running as root); bound processes.

    Returns a note for the report ("" when nothing noteworthy happened)."""
    max_procs = int(config.get("max_processes", 128))
    uid = config.get("uid")
    note = ""
    if os.geteuid() == 0 and uid:
        _lower(resource.RLIMIT_NPROC, max_procs)
        try:
            os.setgroups(_device_groups())
            os.setgid(int(config.get("gid", uid)))
            os.setuid(int(uid))
        except OSError as exc:
            note = f"could not switch to uid {uid} ({exc}); running as root"
    elif os.geteuid() != 0:
        # RLIMIT_NPROC counts every process of the user: allow what runs now plus a margin.
        _lower(resource.RLIMIT_NPROC, tasks_of_uid(os.getuid()) + max_procs)
    prctl(PR_SET_DUMPABLE, 0)                 # /proc/self/mem, /proc/self/fd: root's only
    prctl(PR_SET_PDEATHSIG, signal.SIGKILL)   # cleared by the uid change: set again
    return note

def _device_groups() -> list[int]:
    """Groups owning GPU device nodes, kept so CUDA still works after the uid switch."""
    groups = set()
    for path in ("/dev/nvidiactl", "/dev/nvidia0", "/dev/nvidia-uvm", "/dev/dri/renderD128",
                 "/dev/kfd"):
        try:
            groups.add(os.stat(path).st_gid)
        except OSError:
            pass
    groups.discard(0)
    return sorted(groups)
