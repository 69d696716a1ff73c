"""Limits, privilege drop, audit hook and integrity checks inside the grading child.

Candidate code runs in the same process as the hidden checks that judge it, so this module
keeps the judging out of its reach in layers (threat model and limits: docs/security.md):

1. `apply_limits(config)`, first thing in the child: resource limits the kernel enforces
   (address space on CPU, CPU seconds, file size, open files, no core files), no new
   privileges (setuid binaries stay inert), the child dies with the grader.
2. The child imports torch, pytest and the harness and collects the hidden checks.
3. `lock_down(config)`, before any candidate code runs:
   - hides the grader's modules and the hidden checks' module from `sys.modules`, cuts
     pytest's global reference to its config, freezes the garbage collector's old objects;
   - seals the few primitives that hand out frames or processes without an audit event
     (`_signal.signal`, `_posixsubprocess.fork_exec`, `os.register_at_fork`, Dynamo's frame
     hook): the originals live inside a generator frame, which Python code cannot read;
   - snapshots the bindings the checks rely on (builtins, torch, numpy, pytest, pluggy,
     hypothesis, the grader's own modules, class dictionaries, import hooks, signal handlers,
     torch's mode stacks and global hooks) so `Sandbox.verify()` can find and undo any change;
   - installs an audit hook (PEP 578, cannot be removed) that refuses, when candidate code is
     the culprit, frame and code-object introspection, ctypes, process creation, signals to
     other processes, sockets and re-imports; refuses gc object walks, tracing and further
     audit hooks from anyone; refuses opening the hidden checks, the solutions, the grader's
     sources and /proc's sensitive files;
   - when running as root, switches to a private unprivileged uid (chosen by the parent, so
     it can kill every process of that uid afterwards) with RLIMIT_NPROC bounding processes.

"Candidate code" is code whose file is under the candidate's folder, or anywhere but the
Python installation, the grader and the hidden checks (a module the candidate wrote to /tmp
counts). Trusted libraries (torch, triton) may do on the candidate's behalf what the candidate
may not do directly; a few stdlib modules that hand frames or code back to their caller
(inspect, traceback, logging, ctypes, ...) are "proxies": the frame that called them decides.
"""

from __future__ import annotations

import _signal
import operator
import os
import resource
import signal
import sys
import types

GIB = 1 << 30
MIB = 1 << 20
FILE_LIMIT_MB = 1024              # largest file candidate code may write
OPEN_FILES = 1024
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_CHILD_SUBREAPER, PR_SET_NO_NEW_PRIVS = 1, 4, 36, 38

# Audit events refused whoever asks, once candidate code may run.
ALWAYS_DENIED = frozenset({
    "sys.addaudithook", "gc.get_objects", "gc.get_referrers", "gc.get_referents",
    "sys._current_frames", "sys.settrace", "sys.setprofile",
})
# Refused when candidate code is the culprit (the first non-proxy frame of the stack).
CULPRIT_DENIED = frozenset({"sys._getframe", "code.__new__", "marshal.loads"})
# ctypes reads and writes any memory: only a library (torch, triton) may use it.
CTYPES_EVENTS = frozenset({
    "ctypes.dlopen", "ctypes.dlsym", "ctypes.dlsym/handle", "ctypes.call_function",
    "ctypes.string_at", "ctypes.wstring_at", "ctypes.cdata", "ctypes.cdata/buffer",
    "ctypes.PyObj_FromPtr", "ctypes.addressof", "ctypes.set_errno", "ctypes.set_exception",
})
# Refused when any candidate frame is on the stack, or outside the main thread.
PROCESS_EVENTS = frozenset({
    "os.fork", "os.forkpty", "os.posix_spawn", "os.posix_spawnp", "os.exec", "os.spawn",
    "os.system", "subprocess.Popen", "os.kill", "os.killpg", "signal.pthread_kill",
    "os.startfile", "pty.spawn",
})
NETWORK_EVENTS = frozenset({
    "socket.__new__", "socket.connect", "socket.bind", "socket.sendto", "socket.sendmsg",
    "socket.getaddrinfo", "socket.gethostbyname", "socket.gethostbyaddr",
})
FRAME_ATTRS = frozenset({"tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back"})
CODE_ATTRS = frozenset({"__code__", "__defaults__", "__kwdefaults__"})
SET_ATTRS = frozenset({"__code__", "__defaults__", "__kwdefaults__", "__class__", "__bases__",
                       "__dict__"})
HIDDEN_MODULES = ("grader", "solutions", "test_hidden")
# Where candidate code may open, list or write files: its own workspace (work/, home/), the
# Python installation, and system folders. Anything else (other workspaces in /tmp, the
# project checkout, home folders) is refused while candidate code is on the stack.
READABLE_ROOTS = ("/dev/", "/proc/", "/sys/", "/etc/", "/usr/", "/lib/", "/lib64/", "/opt/")
FILE_CHANGES = frozenset({"os.rename", "os.remove", "os.rmdir", "os.mkdir", "os.chmod",
                          "os.chown", "os.link", "os.symlink", "os.truncate", "os.utime",
                          "shutil.rmtree", "shutil.move", "os.chflags", "os.lchown"})
# stdlib or library modules that hand frames, code or native access back to their caller
PROXY_PARTS = ("/inspect.py", "/traceback.py", "/logging/", "/pdb.py", "/bdb.py", "/cgitb.py",
               "/code.py", "/codeop.py", "/trace.py", "/pydoc.py", "/doctest.py", "/runpy.py",
               "/types.py", "/ctypes/", "/importlib/", "/pkgutil.py", "/_pytest/", "/pluggy/",
               "/functools.py", "/operator.py", "/copy.py", "/copyreg.py", "/pickle.py",
               "/threading.py", "/weakref.py", "/contextlib.py", "/subprocess.py",
               "/multiprocessing/", "/concurrent/", "/asyncio/", "/torch/library.py",
               "/torch/_library/", "/torch/_custom_ops.py", "/torch/_custom_op/")
COMPILERS = frozenset({"ptxas", "cc", "gcc", "g++", "c++", "clang", "clang++", "nvcc", "ld",
                       "cuobjdump", "nvdisasm", "fatbinary", "nvlink"})
PROC_SECRETS = ("/mem", "/environ", "/fd", "/map_files", "/pagemap", "/maps", "/smaps",
                "/syscall", "/stack", "/cmdline", "/auxv")
# site-packages folders whose code may use ctypes on the candidate's behalf
LIBRARIES = ("/torch/", "/triton/", "/numpy/", "/nvidia/", "/functorch/")


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


def installation_readable() -> bool:
    """Can an unprivileged uid import Python's standard library, site-packages and the grader?
    (Not when the interpreter lives under /root, mode 0700: then the child keeps root.)"""
    import sysconfig
    paths = sysconfig.get_paths()
    for path in {paths.get("stdlib"), paths.get("purelib"), paths.get("platlib"),
                 os.path.dirname(os.path.dirname(os.path.abspath(__file__)))}:
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


# ----------------------------------------------------------------------------------- sealing

def seal(original, gate=None):
    """A stand-in for `original` that calls it only when `gate(args, kwargs)` returns None
    (else raises PermissionError with the text it returned).

    The original lives only in a suspended generator's frame, which Python code reaches through
    `gi_frame` (audited, refused) or gc (refused); the stand-in is a function whose globals hold
    nothing but that generator's `send` and a lock, so it cannot be unwrapped, and it leads
    nowhere (a plain function of this module would hand out this module's globals)."""
    import threading

    def vault(original=original, gate=gate):
        reply = None
        while True:
            args, kwargs = yield reply
            try:
                refusal = gate(args, kwargs) if gate is not None else None
            except BaseException as exc:  # noqa: BLE001 - the vault must never stop
                refusal = f"refused ({type(exc).__name__} in the gate)"
            if refusal:
                reply = (False, PermissionError(f"torchdrill: {refusal}"))
                continue
            try:
                reply = (True, original(*args, **kwargs))
            except BaseException as exc:  # noqa: BLE001 - handed back to the caller
                reply = (False, exc)

    gen = vault()
    next(gen)
    namespace = {"__builtins__": __builtins__, "_send": gen.send, "_lock": threading.RLock()}
    exec(_STAND_IN, namespace)  # noqa: S102 - our own constant source, compiled at import
    stand_in = namespace["stand_in"]
    stand_in.__name__ = stand_in.__qualname__ = str(getattr(original, "__name__", "sealed"))
    stand_in.__doc__ = getattr(original, "__doc__", None)
    return stand_in


_STAND_IN = compile(
    "def stand_in(*args, **kwargs):\n"
    "    with _lock:\n"
    "        ok, value = _send((args, kwargs))\n"
    "    if ok:\n"
    "        return value\n"
    "    raise value\n",
    "<torchdrill-sealed>", "exec")


def opaque(fn):
    """`fn` behind a stand-in that leads nowhere (for callables handed to candidate reach)."""
    return seal(fn)


# ------------------------------------------------------------------------------------- sandbox

class Sandbox:
    """The locked-down state of one grading child (one instance, created by lock_down)."""

    def __init__(self, config: dict):
        import sysconfig
        import threading
        self.config = config
        self.candidate_dir = os.path.realpath(config["candidate_dir"]) + os.sep
        paths = sysconfig.get_paths()
        trusted = {paths.get("stdlib"), paths.get("platstdlib"), paths.get("purelib"),
                   paths.get("platlib"), sys.prefix, sys.base_prefix, sys.exec_prefix,
                   os.path.dirname(os.path.abspath(__file__)), config.get("checks_dir")}
        trusted |= {p for p in sys.path if p and "site-packages" in p}
        self.trusted_roots = tuple(sorted(os.path.realpath(p) + os.sep for p in trusted if p))
        roots = [config["checks_dir"]] + list(config.get("protected", []))
        self.protected = tuple(os.path.realpath(r) + os.sep for r in roots)
        import tempfile
        self.own_root = os.path.dirname(self.candidate_dir.rstrip(os.sep)) + os.sep
        self.workspaces = os.path.join(os.path.realpath(tempfile.gettempdir()), "torchdrill-")
        self.readable = (self.own_root,) + self.trusted_roots + READABLE_ROOTS
        self.main_ident = threading.main_thread().ident
        self._get_ident = threading.get_ident
        self._getframe = sys._getframe
        self._realpath = os.path.realpath
        self._fspath = os.fspath
        self._code_cache: dict = {}
        self._busy: set = set()
        self.preloaded = frozenset(sys.modules)
        self.allow_compilers = bool(config.get("allow_compilers"))
        self.denials: list[str] = []          # what was refused (for the report)
        self.snapshot: Snapshot | None = None
        self._finalize_call = None
        import importlib.machinery as machinery
        self.loader_types = frozenset({machinery.SourceFileLoader,
                                       machinery.SourcelessFileLoader})
        self.loader_methods = tuple((name, getattr(machinery.SourceFileLoader, name))
                                    for name in ("get_data", "get_code", "source_to_code",
                                                 "path_stats", "get_filename"))

    def take_denials(self) -> list[str]:
        """What was refused since the last call (for the report as sandbox-denied flags; the
        parent drops repeats)."""
        taken, self.denials[:] = list(self.denials), []
        return taken

    # ------------------------------------------------------------------ who is running
    def untrusted_code(self, code) -> bool:
        cached = self._code_cache.get(code)
        if cached is None:
            name = code.co_filename
            if name.startswith(self.candidate_dir):
                cached = True
            elif name.startswith("<"):
                cached = False      # frozen or generated by trusted code; candidates may not
            else:                   # compile under such names (see the "compile" rule)
                cached = not name.startswith(self.trusted_roots)
            self._code_cache[code] = cached
        return cached

    def _is_proxy(self, code) -> bool:
        name = code.co_filename
        return name.startswith("<frozen importlib") or any(p in name for p in PROXY_PARTS)

    def _frame_untrusted(self, frame) -> bool:
        code = frame.f_code
        if code is self._finalize_call:
            # weakref.finalize calls func(*args) registered earlier: a builtin or candidate
            # function there means candidate code chose what runs now.
            info = frame.f_locals.get("info")
            func = getattr(info, "func", None)
            fcode = getattr(func, "__code__", None)
            return fcode is None or self.untrusted_code(fcode)
        return self.untrusted_code(code)

    def culprit(self, frame):
        """The first frame that is not a proxy module (inspect, ctypes, threading, ...), or
        None when there is none: a thread whose target is a builtin chosen by someone."""
        while frame is not None:
            if self._frame_untrusted(frame) or not self._is_proxy(frame.f_code):
                return frame
            frame = frame.f_back
        return None

    def culprit_untrusted(self, frame) -> bool:
        found = self.culprit(frame)
        return found is None or self._frame_untrusted(found)

    def library_culprit(self, frame) -> bool:
        """Is the culprit a library (torch, triton, numpy) rather than candidate code, the
        checks, pytest or the standard library?"""
        found = self.culprit(frame)
        if found is None or self._frame_untrusted(found):
            return False
        name = found.f_code.co_filename
        return "/site-packages/" in name and any(lib in name for lib in LIBRARIES)

    def stack_untrusted(self, frame=None) -> bool:
        """Is any frame of this thread's stack candidate code?"""
        ident = self._get_ident()
        mine = ident not in self._busy
        if mine:
            self._busy.add(ident)
        try:
            frame = frame or self._getframe(1)
            while frame is not None:
                if self._frame_untrusted(frame):
                    return True
                frame = frame.f_back
            return False
        finally:
            if mine:
                self._busy.discard(ident)

    def _candidate_line(self, frame) -> str:
        ident = self._get_ident()
        self._busy.add(ident)
        try:
            while frame is not None:
                if self._frame_untrusted(frame):
                    return f"{os.path.basename(frame.f_code.co_filename)}:{frame.f_lineno}"
                frame = frame.f_back
            return ""
        finally:
            self._busy.discard(ident)

    def candidate_running(self) -> bool:
        """For sealed primitives and the result channel: candidate code on the stack, or a
        thread other than the main one."""
        return self._get_ident() != self.main_ident or self.stack_untrusted(self._getframe(1))

    # ------------------------------------------------------------------------ audit hook
    def _full(self, path) -> str | None:
        try:
            text = self._fspath(path)
            if isinstance(text, bytes):
                text = text.decode("utf-8", "replace")
            if not isinstance(text, str):
                return None
            return self._realpath(text) + os.sep
        except Exception:  # noqa: BLE001 - an fd or odd object: not a path we guard
            return None

    def is_protected(self, path) -> bool:
        """Never opened after lock-down, by anyone: the hidden checks, the solutions, the
        grader's sources, other grading workspaces, /proc's windows into processes."""
        full = self._full(path)
        if full is None:
            return False
        if full.startswith(self.protected):
            return True
        if full.startswith(self.workspaces) and not full.startswith(self.own_root):
            return True
        return full.startswith("/proc/") and any(part in full for part in PROC_SECRETS)

    def outside_sandbox(self, path) -> bool:
        """A path candidate code has no business with (see READABLE_ROOTS)."""
        full = self._full(path)
        return full is not None and not full.startswith(self.readable)

    @staticmethod
    def _writing(args) -> bool:
        mode, flags = (args[1] if len(args) > 1 else None), (args[2] if len(args) > 2 else 0)
        return bool((isinstance(mode, str) and any(c in mode for c in "wax+")) or
                    (isinstance(flags, int) and flags & (os.O_WRONLY | os.O_RDWR | os.O_CREAT)))

    def _writes_trusted(self, args) -> bool:
        if not self._writing(args):
            return False
        full = self._full(args[0])
        return full is not None and full.startswith(self.trusted_roots) \
            and not full.startswith(self.candidate_dir)

    def hook(self, event: str, args: tuple) -> None:
        if event not in _WATCHED:
            return
        ident = self._get_ident()
        if ident in self._busy:
            return                                  # our own frame walks
        self._busy.add(ident)
        try:
            refusal = self._decide(event, args, self._getframe(1))
        finally:
            self._busy.discard(ident)
        if refusal:
            if len(self.denials) < 50:
                where = self._candidate_line(self._getframe(1))
                if where:                           # only what candidate code asked for
                    self.denials.append(f"{refusal} ({where})")
            if event == "import":
                raise ImportError(f"torchdrill: {refusal}")
            raise PermissionError(f"torchdrill: {refusal} while grading")

    def _decide(self, event: str, args: tuple, frame) -> str | None:
        if event in ALWAYS_DENIED:
            return f"{event} is not allowed"
        if event == "open":
            if not args or isinstance(args[0], int):
                return None
            if self.is_protected(args[0]):
                return f"reading {args[0]} is not allowed"
            if self._writes_trusted(args):
                return f"writing {args[0]} is not allowed"
            if self.outside_sandbox(args[0]) and self.stack_untrusted(frame):
                return f"opening {args[0]} (outside the exercise's folder) is not allowed"
            if self._writing(args):
                full = self._full(args[0]) or ""
                if not full.startswith((self.own_root, "/dev/")) and self.stack_untrusted(frame):
                    return f"writing {args[0]} (outside the exercise's folder) is not allowed"
            return None
        if event in ("os.listdir", "os.scandir"):
            if args and args[0] is not None and not isinstance(args[0], int) and (
                    self.is_protected(args[0]) or
                    (self.outside_sandbox(args[0]) and self.stack_untrusted(frame))):
                return f"listing {args[0]} is not allowed"
            return None
        if event in FILE_CHANGES:
            paths = [a for a in args[:2] if isinstance(a, (str, bytes, os.PathLike))]
            for path in paths:
                full = self._full(path)
                if full is None:
                    continue
                if self.is_protected(path) or full.startswith(self.trusted_roots) or (
                        not full.startswith(self.own_root) and self.stack_untrusted(frame)):
                    return f"{event} on {path} is not allowed"
            return None
        if event == "import":
            name = args[0] if args and isinstance(args[0], str) else ""
            if name.split(".")[0] in HIDDEN_MODULES and self.stack_untrusted(frame):
                return f"importing {name} is not allowed"
            if name in self.preloaded and self.culprit_untrusted(frame):
                return f"re-importing {name} is not allowed"
            return None
        if event in CULPRIT_DENIED:
            if event == "marshal.loads" and self._import_machinery(frame):
                return None
            return f"{event} is not allowed" if self.culprit_untrusted(frame) else None
        if event in CTYPES_EVENTS:
            return f"{event} (ctypes) is not allowed" if not self.library_culprit(frame) else None
        if event == "object.__getattr__":
            name = args[1] if len(args) > 1 else ""
            if name in FRAME_ATTRS and self.culprit_untrusted(frame):
                return f"reading .{name} is not allowed"
            if name in CODE_ATTRS and not self._own(args[0]) and self.culprit_untrusted(frame):
                return f"reading .{name} of grader or library functions is not allowed"
            return None
        if event == "object.__setattr__":
            name = args[1] if len(args) > 1 else ""
            if name in SET_ATTRS and not self._own(args[0]) and self.culprit_untrusted(frame):
                return f"setting .{name} of grader or library objects is not allowed"
            return None
        if event == "compile":
            filename = args[1] if len(args) > 1 else ""
            if isinstance(filename, bytes):
                filename = filename.decode("utf-8", "replace")
            if not (isinstance(filename, str) and filename.startswith(self.candidate_dir)) \
                    and not self._import_machinery(frame) and self.culprit_untrusted(frame):
                return "compiling code at run time (exec, eval, compile) is not allowed"
            return None
        if event in PROCESS_EVENTS:
            if event in ("subprocess.Popen", "os.posix_spawn", "os.posix_spawnp") \
                    and self._compiler(args):
                return None
            if self._get_ident() != self.main_ident or self.stack_untrusted(frame):
                return f"{event} (starting or signalling processes) is not allowed"
            return None
        if event in NETWORK_EVENTS:
            return "network access is not allowed" if (
                self._get_ident() != self.main_ident or self.stack_untrusted(frame)) else None
        return None

    def trusted_callable(self, obj) -> bool:
        """A Python function or bound method (or an instance whose class is) defined in
        trusted code; builtins and partials do not qualify (anyone can compose them)."""
        func = getattr(obj, "__func__", obj)
        code = getattr(func, "__code__", None)
        if code is None:
            call = getattr(type(obj), "__call__", None)
            code = getattr(call, "__code__", None)
        return code is not None and hasattr(code, "co_filename") and \
            not self.untrusted_code(code)

    def _import_machinery(self, frame) -> bool:
        """Is the import system loading a module from its file with one of its own loaders
        (`import numpy.testing` from candidate code compiles or unmarshals numpy's code)? A
        loader of the candidate's making could hand over any code under any file name."""
        for _ in range(6):
            if frame is None or not frame.f_code.co_filename.startswith("<frozen importlib"):
                return False
            loader = frame.f_locals.get("self")
            if loader is not None:
                return type(loader) in self.loader_types and \
                    all(getattr(type(loader), name, None) is method
                        for name, method in self.loader_methods)
            frame = frame.f_back
        return False

    def _own(self, obj) -> bool:
        """Does `obj` (a function, class or module) belong to the candidate?"""
        code = getattr(obj, "__code__", None) if callable(obj) else None
        if code is not None and hasattr(code, "co_filename"):
            return self.untrusted_code(code)
        fname = getattr(obj, "__file__", None)
        if isinstance(fname, str):
            return fname.startswith(self.candidate_dir)
        module = getattr(obj, "__module__", None)
        mod = sys.modules.get(module) if isinstance(module, str) else None
        mfile = getattr(mod, "__file__", None)
        return isinstance(mfile, str) and mfile.startswith(self.candidate_dir)

    def _compiler(self, args) -> bool:
        if not self.allow_compilers or not args:
            return False
        exe = args[0]
        if isinstance(exe, (list, tuple)):
            exe = exe[0] if exe else ""
        if isinstance(exe, bytes):
            exe = exe.decode("utf-8", "replace")
        return isinstance(exe, str) and os.path.basename(exe) in COMPILERS

    # --------------------------------------------------------------------- integrity
    def verify(self, full: bool = True) -> list[str]:
        """What candidate code changed in the snapshot (restored before returning). `full`:
        everything, signal handlers included (between checks); else the bindings checks call
        directly (after every candidate call)."""
        if self.snapshot is None:
            return []
        return self.snapshot.verify_and_restore(full=full, signals=full)


_WATCHED = (ALWAYS_DENIED | CULPRIT_DENIED | CTYPES_EVENTS | PROCESS_EVENTS | NETWORK_EVENTS
            | FILE_CHANGES
            | {"open", "os.listdir", "os.scandir", "import", "object.__getattr__",
               "object.__setattr__", "compile"})

_SANDBOX: list[Sandbox] = []


def current() -> Sandbox | None:
    return _SANDBOX[0] if _SANDBOX else None


# ------------------------------------------------------------------------------------ lock-down

def lock_down(config: dict) -> Sandbox:
    """Make the process safe for candidate code (see the module docstring). Idempotent."""
    if _SANDBOX:
        return _SANDBOX[0]
    import gc
    import weakref
    box = Sandbox(config)
    box._finalize_call = weakref.finalize.__call__.__code__
    _hide_modules(config)
    _seal_primitives(box)
    try:
        import logging
        logging._srcfile = None      # logging then never walks frames for the caller's line
    except Exception:  # noqa: BLE001
        pass
    box.snapshot = Snapshot.take()
    _SANDBOX.append(box)
    gc.collect()
    gc.freeze()                       # old objects out of later collections: cheap gc.collect()
    sys.addaudithook(box.hook)
    box.note = drop_privileges(config)
    return box


def _private_harness(harness):
    """A copy of the harness module for the hidden checks' own globals: should candidate code
    ever reach the real module object and replace `assert_close` on it, the checks still call
    the original (the functions' internals are covered by the integrity checks)."""
    copy = types.ModuleType(harness.__name__, harness.__doc__)
    copy.__dict__.update({k: v for k, v in vars(harness).items() if k not in ("__dict__",)})
    return copy


def _hide_modules(config: dict) -> None:
    """Candidate code must not find the checks, the grader or pytest's config by name."""
    harness = sys.modules.get("grader.harness")
    checks = sys.modules.get("test_hidden")
    if harness is not None and checks is not None:
        private = _private_harness(harness)
        for key, value in list(vars(checks).items()):
            if value is harness:
                setattr(checks, key, private)
    for name in list(sys.modules):
        if name.split(".")[0] in HIDDEN_MODULES:
            _HIDDEN[name] = sys.modules.pop(name)
    checks = os.path.realpath(config["checks_dir"])
    sys.path[:] = [p for p in sys.path if os.path.realpath(p or ".") != checks]
    try:
        import _pytest.assertion.util as util
        util._config = None
        util._reprcompare = None
        util._assertion_pass = None
    except Exception:  # noqa: BLE001
        pass


_HIDDEN: dict = {}


def hidden_module(name: str):
    """A module lock_down took out of sys.modules (for the grader's own use)."""
    return _HIDDEN.get(name) or sys.modules.get(name)


def _seal_primitives(box: Sandbox) -> None:
    """Primitives with no audit event that hand candidate code frames or processes."""
    def refuse_candidate(what):
        def gate(args, kwargs):
            if not box.candidate_running():
                return None
            where = box._candidate_line(box._getframe(1))
            if len(box.denials) < 50:
                box.denials.append(f"{what} is not allowed" + (f" ({where})" if where else ""))
            return f"{what} is not allowed while grading"
        return gate

    import _signal
    _signal.signal = seal(_signal.signal, refuse_candidate("installing signal handlers"))
    try:
        import _posixsubprocess
        original = _posixsubprocess.fork_exec

        def fork_gate(args, kwargs):
            exe = args[1] if len(args) > 1 else None    # executable_list
            if box.allow_compilers and exe and box._compiler((exe[0],)):
                return None
            return "starting processes is not allowed" if box.candidate_running() else None
        _posixsubprocess.fork_exec = seal(original, fork_gate)
    except (ImportError, AttributeError):
        pass
    import posix
    if hasattr(posix, "register_at_fork"):
        sealed = seal(posix.register_at_fork, refuse_candidate("os.register_at_fork"))
        posix.register_at_fork = os.register_at_fork = sealed
    def library_gate(args, kwargs):
        # torch's own modules register kernels when imported lazily; candidate code (directly
        # or through torch.library, a proxy) must not: a kernel for an aten op would change
        # what the checks' own torch calls compute
        frame = box._getframe(3)          # gate <- vault <- stand-in <- the caller
        if box._get_ident() == box.main_ident and not box.culprit_untrusted(frame):
            return None
        return refuse_candidate("registering operator kernels (torch.library)")(args, kwargs)
    try:
        import torch
        torch._C._dispatch_library = seal(torch._C._dispatch_library, library_gate)
    except Exception:  # noqa: BLE001
        pass

    def frame_hook_gate(args, kwargs):
        # Dynamo's own "disable" contexts pass None or False; a callable receives every frame
        hook = args[0] if args else next(iter(kwargs.values()), None)
        if callable(hook) and box.candidate_running():
            return refuse_candidate("installing a Dynamo frame hook (torch.compile)")(args, kwargs)
        return None
    try:
        import torch
        eval_frame = torch._C._dynamo.eval_frame
        sealed = {}
        for name in ("set_eval_frame", "set_guard_error_hook", "set_guard_complete_hook"):
            if hasattr(eval_frame, name):
                original = getattr(eval_frame, name)
                sealed[id(original)] = seal(original, frame_hook_gate)
                setattr(eval_frame, name, sealed[id(original)])
        # torch._dynamo's Python modules did `from torch._C._dynamo.eval_frame import ...`:
        # their own references to the originals must be replaced as well
        for mod_name, module in list(sys.modules.items()):
            if not mod_name.startswith("torch") or module is None:
                continue
            for attr, value in list(getattr(module, "__dict__", {}).items()):
                if id(value) in sealed and attr.startswith("set_"):
                    setattr(module, attr, sealed[id(value)])
    except Exception:  # noqa: BLE001 - no Dynamo in this build
        pass


# ------------------------------------------------------------------------------------ snapshot

_PROTECTED_PACKAGES = ("builtins", "torch", "numpy", "_pytest", "pytest", "pluggy", "hypothesis",
                       "_frozen_importlib", "_frozen_importlib_external",
                       "grader", "test_hidden", "math", "operator", "functools", "itertools",
                       "json", "os", "posixpath", "time", "types", "weakref", "threading",
                       "signal", "gc", "contextlib", "copy", "random", "importlib", "inspect",
                       "traceback", "abc", "collections", "dataclasses", "io", "_thread", "sys",
                       "_signal", "_posixsubprocess", "posix", "subprocess", "statistics",
                       "triton", "marshal", "pickle", "copyreg", "ctypes", "_ctypes")
# Legitimately replaced by trusted code imported later (torch._dynamo wraps manual_seed).
_ALLOWED_CHANGES = frozenset({("torch", "manual_seed"), ("torch.random", "manual_seed"),
                              ("torch.cuda", "manual_seed"), ("torch.cuda", "manual_seed_all"),
                              ("torch.cuda.random", "manual_seed"),
                              ("torch.cuda.random", "manual_seed_all")})


def _protected_module(name: str) -> bool:
    return name.split(".")[0] in _PROTECTED_PACKAGES


# Checked after every candidate call (the rest at check boundaries): what hidden checks and
# the harness call directly to compute expected values and compare. Exact module names, and
# packages whose every module counts.
_HOT_MODULES = frozenset({
    "builtins", "operator", "math", "functools", "sys", "gc", "weakref", "threading", "_thread",
    "os", "signal", "_signal", "torch", "torch._tensor", "torch.functional", "torch._C",
    "torch._C._nn", "torch._C._linalg", "torch._C._fft", "torch._C._special", "torch.overrides",
    "torch.nn", "torch.nn.functional", "torch.nn.parameter", "torch.nn.init", "torch.nn.grad",
    "torch.linalg", "torch.fft", "torch.special", "torch.random", "torch.cuda",
    "torch.utils._python_dispatch", "torch._ops", "numpy", "numpy.linalg", "pytest",
    "hypothesis", "hypothesis.core", "hypothesis.control"})
_HOT_PACKAGES = ("torch.nn.modules", "torch.autograd", "torch.testing", "torch.amp",
                 "torch.optim", "torch.utils.benchmark", "numpy.testing", "_pytest", "pluggy",
                 "grader", "test_hidden", "time", "_frozen_importlib")


def _hot(name: str) -> bool:
    return name in _HOT_MODULES or any(name == p or name.startswith(p + ".") or
                                       name.startswith(p + "_") for p in _HOT_PACKAGES)


def _watched_value(value) -> bool:
    """Functions, classes and modules: what a check calls. Data (caches, counters, flags that
    libraries update as they run) is left alone."""
    return callable(value) or isinstance(value, _ModuleType)


class Snapshot:
    """Identity snapshot of the bindings the checks use; verify_and_restore() undoes changes.

    Containers: the __dict__ of every module of the protected packages and of every class they
    define (functions, classes and modules in them), sys.modules, import hooks, sys hooks, gc
    callbacks, signal handlers, torch's function/dispatch mode stacks and global module hooks.
    Identity comparisons only (no __eq__ of anything), flattened into C loops: a few ms."""

    def __init__(self):
        # two groups ("hot": checked after every candidate call; "all"), each a tuple of
        # (containers, keys, values, owners) with one item per watched binding
        self.groups: dict = {}
        self.classes: dict = {}      # group -> [[class, mappingproxy, label, keys, size], ...]
        self.lists: list = []        # (label, list object, copy)
        self.sys_modules: tuple = ()
        self.sys_hooks: dict = {}
        self.signals: dict = {}
        self.torch_state: dict = {}

    @classmethod
    def take(cls) -> "Snapshot":
        import gc
        import warnings
        snap = cls()
        seen = set()
        flat = {"hot": ([], [], [], []), "cold": ([], [], [], [])}
        classes = {"hot": [], "cold": []}
        modules = [(n, m) for n, m in sorted(sys.modules.items())
                   if m is not None and _protected_module(n)]
        modules += [(m.__name__, m) for m in _HIDDEN.values()]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for name, mod in modules:
                d = getattr(mod, "__dict__", None)
                if not isinstance(d, dict) or id(d) in seen:
                    continue
                seen.add(id(d))
                group = "hot" if _hot(name) else "cold"
                containers, keys, values, owners = flat[group]
                for k, v in list(d.items()):
                    if _watched_value(v) and (name, k) not in _ALLOWED_CHANGES:
                        containers.append(d)
                        keys.append(k)
                        values.append(v)
                        owners.append((name, d))
                    if isinstance(v, type) and id(v) not in seen:
                        seen.add(id(v))
                        owner = getattr(v, "__module__", "") or ""
                        if v.__flags__ & _IMMUTABLE_TYPE or not _protected_module(owner):
                            continue
                        cgroup = "hot" if _hot(owner) else "cold"
                        cc, ck_, cv_, co = flat[cgroup]
                        proxy = v.__dict__
                        label = f"{v.__module__}.{v.__qualname__}"
                        watched = []
                        for ck, cv in list(proxy.items()):
                            if _watched_value(cv):
                                cc.append(proxy)
                                ck_.append(ck)
                                cv_.append(cv)
                                co.append((label, v))
                                watched.append(ck)
                        classes[cgroup].append([v, proxy, label, frozenset(watched), len(proxy)])
        snap.groups = {g: tuple(map(tuple, parts)) for g, parts in flat.items()}
        snap.classes = classes
        snap.sys_modules = (tuple(sys.modules), tuple(sys.modules.values()))
        snap.lists = [["sys.meta_path", sys.meta_path, list(sys.meta_path)],
                      ["sys.path_hooks", sys.path_hooks, list(sys.path_hooks)],
                      ["gc.callbacks", gc.callbacks, list(gc.callbacks)]]
        snap.sys_hooks = {k: getattr(sys, k) for k in ("excepthook", "unraisablehook",
                                                       "displayhook", "breakpointhook")}
        snap.signals = signal_handlers()
        snap.torch_state = _torch_state()
        return snap

    def verify_and_restore(self, *, full: bool = True, signals: bool = True) -> list[str]:
        """Names of the bindings candidate code changed; each is put back. `full=False`
        checks the hot group only (what checks call directly), for use after every call."""
        changed: list[str] = []
        for group in (("hot", "cold") if full else ("hot",)):
            containers, keys, values, owners = self.groups[group]
            try:
                now = tuple(map(_getitem, containers, keys))
            except KeyError:                        # something was deleted: the slow way
                now = tuple(c.get(k, _GONE) for c, k in zip(containers, keys))
            if any(map(_is_not, now, values)):
                accepted = list(values)
                for i in [i for i, (a, b) in enumerate(zip(now, values)) if a is not b]:
                    label, owner = owners[i]
                    if _library_change(label, values[i], now[i]):
                        accepted[i] = now[i]         # the library wrapped its own function
                        continue
                    changed.append(f"{label}.{keys[i]}")
                    if isinstance(owner, dict):
                        owner[keys[i]] = values[i]
                    else:
                        _set_class_attr(owner, keys[i], values[i])
                self.groups[group] = (containers, keys, tuple(accepted), owners)
            entries = self.classes[group]
            sizes = tuple(map(len, (entry[1] for entry in entries)))
            for entry, size in zip(entries, sizes):
                if size != entry[4]:
                    klass, proxy, label, watched, _ = entry
                    for k, v in list(proxy.items()):
                        if k not in watched and _watched_value(v):
                            if _library_change(label, _GONE, v) or _inherited(klass, k) is v:
                                continue             # e.g. Triton's interpreter patch scopes
                            changed.append(f"{label}.{k} (added)")
                            _del_class_attr(klass, k)
                    entry[4] = len(proxy)    # data attributes (caches) may come and go
        names, mods = self.sys_modules
        get = sys.modules.get
        if any(map(_is_not, map(get, names), mods)):
            for name, mod in zip(names, mods):
                if get(name) is not mod:
                    changed.append(f"sys.modules[{name!r}]")
                    sys.modules[name] = mod
        for entry in self.lists:
            label, obj, saved = entry
            if len(obj) != len(saved) or any(map(_is_not, obj, saved)):
                added = [x for x in obj if not any(x is y for y in saved)]
                box = current()
                if box is not None and added and all(box.trusted_callable(x) for x in added) \
                        and all(any(y is x for x in obj) for y in saved):
                    entry[2] = list(obj)         # a library registered a hook: accept it
                    continue
                changed.append(label)
                obj[:] = saved
        for key, value in self.sys_hooks.items():
            if getattr(sys, key) is not value:
                changed.append(f"sys.{key}")
                setattr(sys, key, value)
        if signals:
            changed += restore_signal_handlers(self.signals)
        changed += _restore_torch_state(self.torch_state)
        return changed


def _library_change(label: str, old, new) -> bool:
    """A library changing its own binding as it runs, not candidate code: the new value is a
    Python function of the same package as the owner (torch code in a torch class), and when
    it replaces something it wraps it (functools.wraps: `__wrapped__` leads to the old value),
    as torch.optim does to `Optimizer.step` on first use."""
    package = label.split(".")[0]
    func = getattr(new, "__func__", new)
    code = getattr(func, "__code__", None)
    box = current()
    if code is None or not hasattr(code, "co_filename") or box is None \
            or box.untrusted_code(code) or f"/{package}/" not in code.co_filename:
        return False
    if old is _GONE:
        return True
    inner, seen = new, 0
    while inner is not None and seen < 5:
        inner = getattr(inner, "__wrapped__", None)
        if inner is old:
            return True
        seen += 1
    return False


def _inherited(klass, key):
    """What `klass` would inherit for `key` without its own entry (a no-op addition)."""
    for base in klass.__mro__[1:]:
        if key in base.__dict__:
            return base.__dict__[key]
    return _GONE


_getitem = operator.getitem
_IMMUTABLE_TYPE = 1 << 8          # Py_TPFLAGS_IMMUTABLETYPE: C types refuse attribute changes
_GONE = object()
_is_not = operator.is_not
_ModuleType = types.ModuleType


def signal_handlers() -> dict:
    handlers = {}
    for signum in signal.valid_signals():
        if signum in (signal.SIGKILL, signal.SIGSTOP):
            continue
        try:
            handlers[signum] = signal.getsignal(signum)
        except (ValueError, OSError):
            continue
    return handlers


def restore_signal_handlers(saved: dict) -> list[str]:
    changed = []
    for signum, handler in saved.items():
        try:
            now = signal.getsignal(signum)
        except (ValueError, OSError):
            continue
        if now is not handler and handler is not None:
            changed.append(f"the handler of {signal.Signals(signum).name}")
            try:
                _ORIGINAL_SIGNAL(signum, handler)
            except (ValueError, OSError, TypeError):
                pass
    return changed


def _set_class_attr(klass, key, value) -> None:
    try:
        type.__setattr__(klass, key, value)
    except (TypeError, AttributeError):
        pass


def _del_class_attr(klass, key) -> None:
    try:
        type.__delattr__(klass, key)
    except (TypeError, AttributeError):
        pass


def _torch_state() -> dict:
    try:
        import torch
        import torch.nn.modules.module as mm
    except ImportError:
        return {}
    state = {
        "default_dtype": torch.get_default_dtype(),
        "grad": torch.is_grad_enabled(),
        "inference": torch.is_inference_mode_enabled(),
        "function_modes": torch._C._len_torch_function_stack(),
        "dispatch_modes": torch._C._len_torch_dispatch_stack(),
        "hooks": {k: dict(v) for k, v in vars(mm).items()
                  if k.startswith("_global_") and isinstance(v, dict)},
    }
    try:
        state["default_device"] = torch.get_default_device()
    except AttributeError:
        pass
    return state


def _restore_torch_state(state: dict) -> list[str]:
    if not state:
        return []
    import torch
    import torch.nn.modules.module as mm
    changed = []
    while torch._C._len_torch_function_stack() > state["function_modes"]:
        changed.append("a TorchFunctionMode left active")
        torch._C._pop_torch_function_stack()
    while torch._C._len_torch_dispatch_stack() > state["dispatch_modes"]:
        changed.append("a TorchDispatchMode left active")
        torch._C._pop_torch_dispatch_stack()
    for name, saved in state["hooks"].items():
        live = getattr(mm, name, None)
        if isinstance(live, dict) and (len(live) != len(saved)
                                       or any(live.get(k) is not v for k, v in saved.items())):
            changed.append(f"torch.nn.modules.module.{name} (a global module hook)")
            live.clear()
            live.update(saved)
    return changed


def global_state() -> dict:
    """torch's global defaults that candidate code may change (restored and reported), and
    thread-local dispatch state it must not leave changed (reported as tampering)."""
    import torch
    state = {"default dtype": torch.get_default_dtype(), "grad mode": torch.is_grad_enabled(),
             "float32 matmul precision": torch.get_float32_matmul_precision(),
             "dispatch keys": (str(torch._C._dispatch_tls_local_include_set()),
                               str(torch._C._dispatch_tls_local_exclude_set()))}
    try:
        state["default device"] = str(torch.get_default_device())
    except AttributeError:
        pass
    try:
        state["saved-tensor hooks"] = torch._C._autograd._top_saved_tensors_default_hooks(False)
    except Exception:  # noqa: BLE001
        pass
    return state


TAMPER_STATE = ("dispatch keys", "saved-tensor hooks")


def restore_global_state(saved: dict) -> list[str]:
    """Put torch's defaults back; returns what had changed ("dispatch keys" and "saved-tensor
    hooks" cannot be put back from Python and count as tampering)."""
    import torch
    now = global_state()
    changed = [k for k in saved if now.get(k) != saved[k]
               and not (k == "saved-tensor hooks" and now.get(k) is saved[k])]
    if "default dtype" in changed:
        torch.set_default_dtype(saved["default dtype"])
    if "grad mode" in changed:
        torch.set_grad_enabled(saved["grad mode"])
    if "default device" in changed:
        torch.set_default_device(saved["default device"])
    if "float32 matmul precision" in changed:
        torch.set_float32_matmul_precision(saved["float32 matmul precision"])
    if "dispatch keys" in changed:
        _restore_dispatch_keys(*saved["dispatch keys"])
    if "saved-tensor hooks" in changed:
        for _ in range(100):
            try:
                if torch._C._autograd._top_saved_tensors_default_hooks(False) is \
                        saved["saved-tensor hooks"]:
                    break
                torch._C._autograd._pop_saved_tensors_default_hooks()
            except Exception:  # noqa: BLE001
                break
    return changed


def _key_names(text: str) -> set[str]:
    inner = text[text.find("(") + 1:text.rfind(")")]
    return {name.strip() for name in inner.split(",") if name.strip()}


def _restore_dispatch_keys(include: str, exclude: str) -> None:
    import torch
    keys = torch._C.DispatchKey
    now_include = _key_names(str(torch._C._dispatch_tls_local_include_set()))
    now_exclude = _key_names(str(torch._C._dispatch_tls_local_exclude_set()))
    for names, target, setter in (
            (now_include, _key_names(include), torch._C._dispatch_tls_set_dispatch_key_included),
            (now_exclude, _key_names(exclude), torch._C._dispatch_tls_set_dispatch_key_excluded)):
        for name in names ^ target:
            key = getattr(keys, name, None)
            if key is not None:
                try:
                    setter(key, name in target)
                except Exception:  # noqa: BLE001
                    pass


_ORIGINAL_SIGNAL = _signal.signal     # captured at import, before lock_down seals it


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
