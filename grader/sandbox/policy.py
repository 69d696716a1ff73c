"""The audit policy's tables: which events are refused, for whom, and which paths and
modules count as trusted."""

from __future__ import annotations

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
