"""Processes seen through /proc: who belongs to a grading child, and sweeping them away."""

from __future__ import annotations

import os
import signal


def tasks_of_uid(uid: int) -> int:
    """Threads (what RLIMIT_NPROC counts) of every process whose real uid is `uid`."""
    total = 0
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/status", encoding="ascii", errors="replace") as fh:
                fields = dict(line.split(":", 1) for line in fh if ":" in line)
            if int(fields["Uid"].split()[0]) == uid:
                total += int(fields.get("Threads", "1"))
        except (OSError, ValueError, KeyError):
            continue
    return total

def installation_readable() -> bool:
    """Can an unprivileged uid import Python's standard library, site-packages and the grader?
    (Not when the interpreter lives under /root, mode 0700: then the child keeps root.)"""
    import sysconfig
    paths = sysconfig.get_paths()
    for path in {paths.get("stdlib"), paths.get("purelib"), paths.get("platlib"),
                 os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))}:
        if not path:
            continue
        path = os.path.realpath(path)
        while True:
            try:
                mode = os.stat(path).st_mode
            except OSError:
                return False
            if not mode & 0o001 or (path != os.path.realpath(path) and not mode & 0o004):
                return False
            parent = os.path.dirname(path)
            if parent == path:
                break
            path = parent
    return True

# --------------------------------------------------------------------------- process sweeping

def proc_info(pid: str) -> tuple[int, int, int, int] | None:
    """(ppid, pgid, sid, real uid) of a process, None if it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as fh:
            stat = fh.read().decode("ascii", "replace")
        rest = stat[stat.rindex(")") + 2:].split()
        ppid, pgid, sid = int(rest[1]), int(rest[2]), int(rest[3])
        with open(f"/proc/{pid}/status", "rb") as fh:
            for line in fh:
                if line.startswith(b"Uid:"):
                    return ppid, pgid, sid, int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def process_table() -> dict[int, tuple[int, int, int, int]]:
    """pid -> (ppid, pgid, sid, real uid) for every process /proc shows."""
    table = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            info = proc_info(name)
            if info:
                table[int(name)] = info
    return table


def _with_descendants(table: dict, roots: set[int]) -> set[int]:
    """`roots` and every process below them in `table`."""
    found, grew = set(roots), True
    while grew:
        grew = False
        for p, (ppid, *_rest) in table.items():
            if ppid in found and p not in found:
                found.add(p)
                grew = True
    return found


def related_processes(root_pid: int, uid: int | None, known: set[int]) -> set[int]:
    """Processes started by a grading child: its session or process group, its descendants
    (and `known` ones seen earlier and their descendants), or, when the child ran under a
    private uid, anything owned by that uid."""
    table = process_table()
    table.pop(os.getpid(), None)
    found = {p for p, (ppid, pgid, sid, puid) in table.items()
             if sid == root_pid or pgid == root_pid or (uid and puid == uid) or p == root_pid}
    found |= {p for p in known if p in table}
    return _with_descendants(table, found)


def kill_descendants() -> None:
    """The grading child, before it exits: kill every process below it (as a subreaper it
    inherited the orphans of double forks, so they are below it too)."""
    me = os.getpid()
    kill_all(_with_descendants(process_table(), {me}) - {me})


def kill_all(pids) -> None:
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
