"""OS walls for a grading child: the spec, enter() and its supervisor, drop_hidden, the Popen launcher."""
from __future__ import annotations

import dataclasses
import functools
import json
import os
import select
import signal
import site
import socket
import struct
import stat
import sys
import sysconfig
from errno import EINVAL, EPERM

# The parts live beside this file: syscalls (libc, WallError), seccomp (syscall table, filter,
# capabilities), mounts (the new root), cgroups (v2 limits). popen_prefix runs this file as a
# script, and a walled command may import it from its own directory (only that is readable
# there): then no package is known and the parts are top-level modules of that directory.
# -I keeps a script's directory off sys.path, so add it; last, so it can shadow nothing.
if not __package__ and os.path.dirname(os.path.abspath(__file__)) not in sys.path:
    sys.path.append(os.path.dirname(os.path.abspath(__file__)))
if __package__:
    from .cgroups import _join_cgroup, cgroup_unavailable_reason, cleanup_cgroup, memory_killed
    from .mounts import MS_NOEXEC, MS_PRIVATE, MS_REC, RO, _build_root, _finish_root, _plan
    from .seccomp import _arch, _drop_caps, _install_seccomp
    from .syscalls import (CLONE_NEWUSER, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_PDEATHSIG, _NS_FLAGS,
                           WallError, _check, _fail, _libc, _mount, _prctl, _read, _write)
else:
    from cgroups import _join_cgroup, cgroup_unavailable_reason, cleanup_cgroup, memory_killed
    from mounts import MS_NOEXEC, MS_PRIVATE, MS_REC, RO, _build_root, _finish_root, _plan
    from seccomp import _arch, _drop_caps, _install_seccomp
    from syscalls import (CLONE_NEWUSER, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_PDEATHSIG, _NS_FLAGS,
                          WallError, _check, _fail, _libc, _mount, _prctl, _read, _write)

__all__ = ["WallError", "WallSpec", "spec_from_dict", "unavailable_reason", "default_readable", "enter", "drop_hidden",
           "cgroup_unavailable_reason", "memory_killed", "cleanup_cgroup", "popen_prefix", "main"]


# ---- the spec ----------------------------------------------------------------------------------
@dataclasses.dataclass(frozen=True)
class WallSpec:
    writable: tuple[str, ...]        # absolute dirs, bound read-write, nosuid,nodev,noexec, at the same path
    readable: tuple[str, ...]        # absolute dirs or files, bind-mounted read-only at the same path
    hidden_until_collected: tuple[str, ...] = ()  # readable dirs the child may later drop (see drop_hidden)
    cwd: str = "/"
    memory_limit_mb: int = 0         # cgroup v2 memory.max when available (0: none)
    max_processes: int = 0           # cgroup v2 pids.max when available (0: none)


# ---- probing and defaults ----------------------------------------------------------------------
_USERNS_OFF = (("kernel", "unprivileged_userns_clone", "0"), ("user", "max_user_namespaces", "0"),
               ("kernel", "apparmor_restrict_unprivileged_userns", "1"))


def spec_from_dict(data: dict) -> WallSpec:
    """A WallSpec from its JSON form (dataclasses.asdict; lists back to tuples)."""
    return WallSpec(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})


@functools.cache
def unavailable_reason() -> str | None:
    """None when the walls work here; else one short line saying what is missing. Cached: the
    probe forks once and runs enter() with the default readable set in that child."""
    if not sys.platform.startswith("linux"):
        return "not Linux"
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.closerange(3, r)
            os.closerange(w + 1, 1 << 16)          # the caller's directory fds would be refused
            enter(WallSpec(writable=(), readable=default_readable()))
            os._exit(0)
        except BaseException as exc:  # noqa: BLE001 - any failure is the answer
            os.write(w, (getattr(exc, "strerror", None) or repr(exc)).encode()[:400])
            os._exit(1)
    os.close(w)
    with os.fdopen(r, "rb") as f:
        msg = f.read().decode(errors="replace")
    status = os.waitpid(pid, 0)[1]
    if status == 0:
        return None
    for group, name, off in _USERNS_OFF if msg.startswith("unshare(user") else ():
        if _read(f"/proc/sys/{group}/{name}").strip() == off:
            return f"user namespaces are disabled ({group}.{name}={off})"
    return msg or f"the probe child died (wait status {status})"


_ETC = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "timezone", "passwd", "group", "hosts",
        "nsswitch.conf", "alternatives", "mime.types", "os-release", "python%d.%d" % sys.version_info[:2])


def default_readable() -> tuple[str, ...]:
    """The system and the Python installation (existing paths, no nested repeats). From /etc only
    what the loader and Python read: not /etc/shadow, keys or credentials."""
    paths = ["/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin"] + [f"/etc/{n}" for n in _ETC]
    paths += [sys.prefix, sys.base_prefix, sys.exec_prefix, sys.base_exec_prefix,
              sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"], *site.getsitepackages()]
    out: list[str] = []
    for p in map(os.path.abspath, paths):
        if os.path.lexists(p) and p not in out and not any(p.startswith(q + "/") for q in out):
            out = [q for q in out if not q.startswith(p + "/")] + [p]
    return tuple(out)


# ---- enter, the supervisor, drop_hidden --------------------------------------------------------
_channel: socket.socket | None = None    # pid 1's end of its line to the supervisor
_FD_ENV = "TORCHDRILL_WALLS_FD"          # that line's fd number, after main() exec'd a command
CAP_SETGID, CAP_SETUID, CAP_SYS_ADMIN = 6, 7, 21


def _loopback_up() -> None:
    """The new network namespace's own loopback, up: checks that start local workers (gloo
    over 127.0.0.1, data-parallel) need it. It reaches nothing but this namespace: the
    grader's and the host's addresses stay out of reach."""
    import fcntl
    SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        ifreq = struct.pack("16sH14x", b"lo", 0)
        flags = struct.unpack("16sH14x", fcntl.ioctl(sock, SIOCGIFFLAGS, ifreq))[1]
        fcntl.ioctl(sock, SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))


def _cap_eff() -> int:
    return int(_read("/proc/self/status").split("CapEff:")[1].split()[0], 16)


def enter(spec: WallSpec) -> None:
    """Call in a freshly forked, single-threaded process, before running any untrusted code.
    On return the caller is inside the walls as pid 1 of a new pid namespace: a child of the
    process that called enter(), which stays outside as the supervisor (the pid the parent knows),
    waits, and exits with the same status or dies of the same signal.
    Raises WallError with a one-line reason if any step fails."""
    global _channel
    step = "enter"
    try:
        if len(os.listdir("/proc/self/task")) != 1:
            _fail("enter() needs a single-threaded process", EINVAL)
        if not os.path.isabs(spec.cwd):
            _fail(f"cwd {spec.cwd!r}", EINVAL)
        _arch()                                     # an unknown ABI fails before anything changes
        privileged = bool(_cap_eff() & (1 << CAP_SYS_ADMIN))
        hidden = [os.path.realpath(p) for p in spec.hidden_until_collected]
        plan, links = _plan(spec)
        fds: list[int] = []
        try:
            if (spec.memory_limit_mb > 0 or spec.max_processes > 0) and cgroup_unavailable_reason() is None:
                step = "cgroup"                     # before unshare: named by the pid the parent knows
                _join_cgroup(spec)
            uid, gid, dumpable = os.geteuid(), os.getegid(), _prctl(PR_GET_DUMPABLE)
            if not privileged:
                _prctl(PR_SET_DUMPABLE, 1)          # a non-dumpable process may not write its uid_map
            step = f"unshare({'' if privileged else 'user, '}mount, net, pid, ipc, uts, cgroup)"
            _check(_libc.unshare(_NS_FLAGS | (0 if privileged else CLONE_NEWUSER)), step)
            if not privileged:                      # ourselves as ourselves, no supplementary groups
                maps = {"setgroups": "deny", "uid_map": f"{uid} {uid} 1", "gid_map": f"{gid} {gid} 1"}
                for step, text in maps.items():
                    _write(f"/proc/self/{step}", text)
                _prctl(PR_SET_DUMPABLE, dumpable)
            step = "new root"
            _mount(None, "/", None, MS_REC | MS_PRIVATE)    # nothing mounted here reaches the host
            _build_root(plan, links, fds)
            _libc.sethostname(b"walls", 5)
            step = "loopback"
            _loopback_up()
        finally:
            for fd in fds:                          # an fd on a host dir would reach past the walls
                os.close(fd)
        os.chdir("/")                               # pivot_root moves a cwd (and root) on the old root
        mine, theirs = socket.socketpair()
        for stream in (sys.stdout, sys.stderr):     # buffered output is written once, by pid 1
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        pid = os.fork()
        if pid:
            theirs.close()
            _supervise(pid, mine, hidden)           # never returns
        mine.close()
        step = "pid 1"
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)    # the supervisor's death ends the namespace
        os.setsid()                                 # kill(0, sig) reaches a process group across
                                                    # pid namespaces; and no controlling terminal
        if select.select([theirs], [], [], 0)[0]:   # EOF: it died before the prctl
            os._exit(137)
        _finish_root()
        for name in os.listdir("/proc/self/fd"):
            try:
                is_dir = stat.S_ISDIR(os.fstat(int(name)).st_mode)
            except OSError:                         # listdir's own fd, closed by now
                continue
            if is_dir:
                _fail(f"inherited directory fd {name} reaches outside the walls", EINVAL)
        # Root keeps only what the caller needs to switch to its private uid (which then drops all).
        _drop_caps(1 << CAP_SETUID | 1 << CAP_SETGID if privileged else 0)
        _install_seccomp()
        step = f"chdir {spec.cwd}"
        os.chdir(spec.cwd)
        step = "init"
        job = os.fork()                             # pid 1 ignores signals left at their default
        if job:                                     # action (a self-sent SIGSEGV, SIGXCPU, SIGXFSZ):
            _init(job, theirs)                      # the job runs as pid 2, pid 1 only reaps
        _prctl(PR_SET_PDEATHSIG, signal.SIGKILL)    # pid 1's end is the namespace's end
        _channel = theirs
    except WallError:
        raise
    except OSError as exc:
        raise WallError(exc.errno or EPERM, f"{step}: {exc.strerror or exc}") from None


def _init(job: int, line: socket.socket) -> None:
    """pid 1 of the namespace: reaps every process (orphans come to it) until the job ends, then
    tells the supervisor how it ended ("signal N": pid 1 cannot die of a signal it sends
    itself) and exits, which ends the namespace."""
    try:
        status = 0
        while True:
            try:
                pid, status = os.wait()
            except ChildProcessError:
                break
            if pid == job:
                break
        if os.WIFSIGNALED(status):
            try:
                line.sendall(b"signal %d" % os.WTERMSIG(status))
            except OSError:
                pass
            os._exit(128 + os.WTERMSIG(status))
        os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 70)
    except BaseException:  # noqa: BLE001 - pid 1 never returns into the job's code
        os._exit(70)


def _supervise(pid: int, line: socket.socket, hidden: list[str]) -> None:
    """The caller of enter(), outside the pid namespace: keeps its capabilities, runs no candidate
    code, unmounts the hidden dirs when asked, then exits as pid 1 did."""
    try:
        pidfd, got = os.pidfd_open(pid), []

        def forward(sig, _frame):                   # pid 1 ignores default-action signals: kill it
            got.append(sig)
            os.kill(pid, signal.SIGKILL)
        for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGQUIT, signal.SIGUSR1,
                    signal.SIGUSR2, signal.SIGALRM, signal.SIGXCPU):
            signal.signal(sig, forward)
        watch, reported = [pidfd, line], []

        def read_line() -> bool:
            try:
                msg = line.recv(64)
            except (OSError, BlockingIOError):
                return False
            if msg.startswith(b"signal "):            # from pid 1: how the job ended
                reported.append(int(msg.split()[1]))
            elif b"drop" in msg:
                line.sendall(_drop(hidden))
                hidden.clear()                          # once; later requests change nothing
            return bool(msg)
        while pidfd not in select.select(watch, [], [])[0]:
            if not read_line():
                watch = [pidfd]
        if line in watch and select.select([line], [], [], 0)[0]:
            read_line()                                 # pid 1's last word, sent just before it ended
        status = os.waitpid(pid, 0)[1]
        if not got and not reported and os.WIFEXITED(status):
            os._exit(os.WEXITSTATUS(status))
        sig = got[0] if got else reported[0] if reported else os.WTERMSIG(status)
        import resource
        resource.setrlimit(resource.RLIMIT_CORE, (0, resource.getrlimit(resource.RLIMIT_CORE)[1]))
        signal.signal(sig, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, [sig])
        os.kill(os.getpid(), sig)                   # the parent's waitpid sees -sig
        os._exit(128 + sig)
    except BaseException:  # noqa: BLE001 - never return into the caller's code
        try:
            os.kill(pid, signal.SIGKILL)
        finally:
            os._exit(70)


def _drop(hidden: list[str]) -> bytes:
    try:
        for rp in hidden:                           # an empty read-only tmpfs on top: files ENOENT
            _check(_libc.umount2(rp.encode(), 2), f"umount {rp}")
            _mount("tmpfs", rp, "tmpfs", RO | MS_NOEXEC, "mode=0555,size=4k")
        return b"ok"
    except OSError as exc:
        return str(exc).encode()[:500]


def drop_hidden(spec: WallSpec) -> None:
    """In the walled process, after collection: spec.hidden_until_collected become empty read-only
    dirs. The supervisor mounts (pid 1 has no capability left, and its filter refuses mount)."""
    global _channel
    if not spec.hidden_until_collected:
        return
    if _channel is None and os.environ.get(_FD_ENV, "").isdigit():
        _channel = socket.socket(fileno=int(os.environ[_FD_ENV]))
    if _channel is None:
        raise WallError(EINVAL, "drop_hidden() needs enter() first")
    try:
        _channel.sendall(b"drop")
        reply = _channel.recv(512)
    except OSError as exc:
        raise WallError(exc.errno or EPERM, f"drop_hidden: {exc.strerror}") from None
    if reply != b"ok":
        raise WallError(EPERM, f"drop_hidden: {reply.decode(errors='replace') or 'no supervisor'}")


# ---- a launcher for subprocess.Popen -----------------------------------------------------------
def popen_prefix(spec: WallSpec) -> list[str]:
    """argv to put before a command to run it inside the walls (a preexec_fn cannot fork and go
    on): Popen's pid is then the supervisor's, and its exit status the command's."""
    return [sys.executable, "-I", "-S", os.path.abspath(__file__),
            "--spec", json.dumps(dataclasses.asdict(spec)), "--"]


def main(argv: list[str] | None = None) -> None:
    """walls.py (--spec JSON | --spec-fd N) -- COMMAND...: enter(spec), then exec COMMAND."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        opts, command = args[:args.index("--")], args[args.index("--") + 1:]
        if opts[0] == "--spec-fd":
            with os.fdopen(int(opts[1])) as f:
                opts[1] = f.read()
        elif opts[0] != "--spec":
            raise ValueError(f"unknown option {opts[0]}")
        if not command:
            raise ValueError("no command")
        spec = spec_from_dict(json.loads(opts[1]))
    except (ValueError, IndexError, TypeError, OSError) as exc:
        sys.exit(f"usage: walls.py (--spec JSON | --spec-fd N) -- COMMAND...: {exc}")
    try:
        enter(spec)
        if _channel is not None:                    # drop_hidden() in the command finds it
            os.set_inheritable(_channel.fileno(), True)
            os.environ[_FD_ENV] = str(_channel.fileno())
        os.execvp(command[0], command)
    except OSError as exc:
        sys.stderr.write(f"walls: {exc.strerror if isinstance(exc, WallError) else exc}\n")
        sys.stderr.flush()
        os._exit(126 if isinstance(exc, WallError) else 127)


if __name__ == "__main__":
    main()
