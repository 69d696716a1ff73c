"""The last privileges of pid 1: the syscall table, capability drop, the seccomp BPF filter."""
from __future__ import annotations

import ctypes
import platform
import struct
from errno import ENOSYS, EPERM

if __package__:
    from .syscalls import (CLONE_NEWUSER, PR_SET_NO_NEW_PRIVS, _NS_FLAGS, WallError, _check, _libc, _prctl,
                           _read)
else:  # a top-level module beside walls.py, run as a script (see walls.popen_prefix)
    from syscalls import (CLONE_NEWUSER, PR_SET_NO_NEW_PRIVS, _NS_FLAGS, WallError, _check, _libc, _prctl,
                          _read)

# ---- syscall table -----------------------------------------------------------------------------
# Refused with EPERM: x86_64 and aarch64 numbers (kernel unistd headers; "-": absent). Debugging and
# memory access to other processes, mounts (with the whole new mount API: open_tree_attr is 6.15's),
# namespaces, bpf, perf, userfaultfd, kexec and modules, keyrings, memfd (code without a file),
# io_uring (its operations never pass seccomp), uselib. tests/ cross-check them with libseccomp.
_SYSCALLS = """memfd_create 319 279  ptrace 101 117  process_vm_readv 310 270  process_vm_writev 311 271
  mount 165 40  umount2 166 39  pivot_root 155 41  unshare 272 97  setns 308 268  bpf 321 280
  perf_event_open 298 241  userfaultfd 323 282  kexec_load 246 104  kexec_file_load 320 294
  init_module 175 105  finit_module 313 273  delete_module 176 106  keyctl 250 219  add_key 248 217
  request_key 249 218  open_by_handle_at 304 265  open_tree 428 428  move_mount 429 429  fsopen 430 430
  fsconfig 431 431  fsmount 432 432  fspick 433 433  mount_setattr 442 442  open_tree_attr 467 467
  io_uring_setup 425 425  io_uring_enter 426 426  io_uring_register 427 427  uselib 134 -"""
_TABLE = {w[0]: (w[1], w[2]) for w in zip(*[iter(_SYSCALLS.split())] * 3)}
# machine: (AUDIT_ARCH, column above, clone, clone3)
_ARCHES = {"x86_64": (0xC000003E, 0, 56, 435), "aarch64": (0xC00000B7, 1, 220, 435)}


def _arch():
    arch = _ARCHES.get(platform.machine())
    if arch is None:
        raise WallError(ENOSYS, f"no syscall table for {platform.machine()}")
    return arch + (int(_TABLE["pivot_root"][arch[1]]),)


# ---- capabilities ------------------------------------------------------------------------------
def _drop_caps(keep: int) -> None:
    for cap in range(int(_read("/proc/sys/kernel/cap_last_cap")) + 1):
        if not keep >> cap & 1:
            _prctl(24, cap, "PR_CAPBSET_DROP")                        # no exec can regain it
    _prctl(47, 4, "PR_CAP_AMBIENT_CLEAR_ALL")
    header = (ctypes.c_uint32 * 2)(0x20080522, 0)                     # _LINUX_CAPABILITY_VERSION_3
    data = (ctypes.c_uint32 * 6)(keep, keep, 0, 0, 0, 0)              # effective, permitted, inheritable
    _check(_libc.capset(header, data), "capset")


# ---- the filter --------------------------------------------------------------------------------
def _seccomp_program() -> list[tuple[int, int, int, int]]:
    """Classic BPF. Foreign ABIs (i386 int 0x80, x32) kill; the table, and clone with a CLONE_NEW*
    flag, get EPERM; clone3 gets ENOSYS (its flags sit behind a pointer the filter cannot read, and
    glibc then creates threads with clone); everything else is allowed."""
    audit, col, nr_clone, nr_clone3, _ = _arch()
    ld, jeq, jge, jset, ret, allow = 0x20, 0x15, 0x35, 0x45, 0x06, 0x7FFF0000
    src: list = [(ld, None, None, 4), (jeq, None, "kill", audit), (ld, None, None, 0)]
    src += [(jge, "kill", None, 0x40000000)] if audit == 0xC000003E else []
    src += [(jeq, "clone", None, nr_clone), (jeq, "enosys", None, nr_clone3)]
    src += [(jeq, "eperm", None, int(nrs[col])) for nrs in _TABLE.values() if nrs[col] != "-"]
    src += [(ret, None, None, allow), "clone", (ld, None, None, 16),           # args[0], low word
            (jset, "eperm", None, _NS_FLAGS | CLONE_NEWUSER), (ret, None, None, allow),
            "eperm", (ret, None, None, 0x50000 | EPERM), "enosys", (ret, None, None, 0x50000 | ENOSYS),
            "kill", (ret, None, None, 0x80000000)]
    insns, where = [], {}
    for item in src:
        if isinstance(item, str):
            where[item] = len(insns)
        else:
            insns.append(item)
    off = lambda label, i: 0 if label is None else where[label] - i - 1  # noqa: E731
    return [(c, off(t, i), off(f, i), k) for i, (c, t, f, k) in enumerate(insns)]


def _install_seccomp() -> None:
    prog = _seccomp_program()                   # struct sock_filter[], then struct sock_fprog
    insns = ctypes.create_string_buffer(b"".join(struct.pack("=HBBI", *i) for i in prog))
    fprog = ctypes.create_string_buffer(struct.pack("=H6xQ", len(prog), ctypes.addressof(insns)))
    _prctl(PR_SET_NO_NEW_PRIVS, 1, "PR_SET_NO_NEW_PRIVS")
    _check(_libc.prctl(22, 2, ctypes.addressof(fprog), 0, 0), "seccomp")  # PR_SET_SECCOMP, MODE_FILTER
