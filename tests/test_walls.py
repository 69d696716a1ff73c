"""grader.isolation.walls on its own: every walled body runs in a forked child (no audit hook, no
grader), so each passing test is a proof of the OS wall alone. Results come back through a pipe."""
import ctypes
import errno
import json
import mmap
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time

import pytest

from grader.isolation import cgroups, mounts, seccomp, syscalls, walls

import walls_helpers
from walls_helpers import (ROOT, c_err, children, collect, err, gone, libc, spawn, spec_for, status_fields,
                           torch, walled, write_file)

tree, host_tmp = walls_helpers.tree, walls_helpers.host_tmp     # the fixtures, found here by name


# ---- what the child cannot see, read or write ------------------------------------------------
def test_secret_is_invisible_even_to_native_code(tree):
    def body(secret, co):
        res = {"py": err(open, secret), "stat": err(os.stat, secret), "listing": sorted(os.listdir(co))}
        res["libc"] = c_err(libc.open(secret.encode(), os.O_RDONLY))
        if torch is not None:
            try:
                torch.from_file(secret, size=4, dtype=torch.uint8)
                res["torch"] = "read"
            except RuntimeError as exc:
                res["torch"] = str(exc)
        return res
    res = walled(spec_for(tree), body, tree["secret"], tree["co"])
    assert res["py"] == res["stat"] == res["libc"] == errno.ENOENT
    assert res["listing"] == ["pkg", "ws"]          # only what was bound; no solutions/, other/
    if torch is not None:
        assert "No such file" in res["torch"]


def test_nothing_outside_the_workspace_can_be_written(tree):
    targets = [f"{tree['out']}/root_file.txt", f"{tree['pkg']}/mod.py", f"{tree['ro']}/data.txt",
               f"{tree['co']}/new.txt", f"{sys.prefix}/walls-evil.txt", "/walls-evil.txt"]
    before = {p: (open(p).read(), os.stat(p).st_mtime_ns) for p in targets if os.path.exists(p)}

    def body(targets, other, data):
        res = {"other": err(open, f"{other}/notes.txt")}
        for p in targets:
            res[p] = err(lambda: open(p, "a").write("pwned"))
            res["libc " + p] = c_err(libc.open(p.encode(), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644))
        if torch is not None:
            try:
                torch.from_file(data, shared=True, size=4, dtype=torch.uint8)[0] = 0
                res["torch"] = "mapped"
            except RuntimeError as exc:
                res["torch"] = str(exc)
        return res
    res = walled(spec_for(tree), body, targets, tree["other"], f"{tree['ro']}/data.txt")
    assert res["other"] == errno.ENOENT
    for p in targets:
        if p.startswith("/tmp/") and res[p] == "ok":
            continue                                      # landed in the private /tmp: checked below
        assert res[p] in (errno.ENOENT, errno.EROFS) and res["libc " + p] in (errno.ENOENT, errno.EROFS), p
    assert res[f"{tree['ro']}/data.txt"] == errno.EROFS       # visible, yet read-only
    if torch is not None:
        assert res["torch"] != "mapped"
    for p in targets:
        if p in before:
            assert (open(p).read(), os.stat(p).st_mtime_ns) == before[p], p
        else:
            assert not os.path.exists(p), p


def test_pkg_is_readable_and_the_workspaces_writable(tree, host_tmp):
    """A second workspace under the host's /tmp (like a grading workspace) stays the host's."""
    def body(pkg, ws, ws2):
        for p in (f"{ws}/out.txt", f"{ws2}/out.txt", "/tmp/scratch.txt", "/dev/shm/scratch", "/dev/null"):
            with open(p, "w") as f:
                f.write("written inside")
        return {"pkg": open(f"{pkg}/mod.py").read(), "cwd": os.getcwd()}
    spec = spec_for(tree, writable=(tree["ws"], str(host_tmp)))
    res = walled(spec, body, tree["pkg"], tree["ws"], str(host_tmp))
    assert res["pkg"] == "VALUE = 'pkg'\n" and res["cwd"] == tree["ws"]
    assert open(f"{tree['ws']}/out.txt").read() == (host_tmp / "out.txt").read_text() == "written inside"
    assert not os.path.exists("/tmp/scratch.txt")                  # a fresh, private /tmp


# ---- no execution of anything written --------------------------------------------------------
LIB_C = r"""
#include <fcntl.h>
#include <unistd.h>
__attribute__((constructor)) static void init(void) {
    int fd = open(MARKER, O_CREAT | O_WRONLY, 0644);
    if (fd >= 0) close(fd);
}
int answer(void) { return 42; }
"""


def test_code_written_by_the_child_never_runs(tree):
    cc = shutil.which("cc")
    if cc is None:
        pytest.skip("no C compiler (cc) to build the test library")
    marker, lib = f"{tree['ws']}/marker", f"{tree['pkg']}/lib.so"
    with open(f"{tree['top']}/lib.c", "w") as f:
        f.write(LIB_C)
    subprocess.run([cc, "-shared", "-fPIC", f'-DMARKER="{marker}"', "-o", lib, f"{tree['top']}/lib.c"],
                   check=True)

    def body(lib, ws, marker):
        data, res = open(lib, "rb").read(), {}
        for dest in (f"{ws}/lib.so", "/tmp/lib.so", "/dev/shm/lib.so"):
            with open(dest, "wb") as f:
                f.write(data)
            os.chmod(dest, 0o755)
            try:
                ctypes.CDLL(dest)
                res[dest] = "loaded"
            except OSError as exc:
                res[dest] = str(exc)
        with open(f"{ws}/lib.so", "rb") as f:
            res["mmap exec"] = err(mmap.mmap, f.fileno(), 4096, prot=mmap.PROT_READ | mmap.PROT_EXEC)
        shutil.copy("/bin/true", f"{ws}/true")
        os.chmod(f"{ws}/true", 0o755)
        res["exec"] = err(subprocess.run, [f"{ws}/true"])
        res["memfd"] = err(os.memfd_create, "code")
        res["marker before"] = os.path.exists(marker)
        res["control"] = ctypes.CDLL(lib).answer()       # the same bytes from a trusted, readable dir
        res["marker after"] = os.path.exists(marker)
        return res
    res = walled(spec_for(tree), body, lib, tree["ws"], marker)
    for dest in (f"{tree['ws']}/lib.so", "/tmp/lib.so", "/dev/shm/lib.so"):
        assert "failed to map segment" in res[dest] or "ermission denied" in res[dest], res[dest]
    assert res["mmap exec"] == errno.EPERM and res["exec"] == errno.EACCES and res["memfd"] == errno.EPERM
    assert res["marker before"] is False
    assert res["control"] == 42 and res["marker after"] is True


# ---- network, processes, exit status ---------------------------------------------------------
def test_loopback_of_the_parent_is_unreachable(tree):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]

    def body(port):
        return {"connect": err(socket.create_connection, ("127.0.0.1", port), timeout=2),
                "links": [name for _, name in socket.if_nameindex()]}
    res = walled(spec_for(tree), body, port)
    assert res["connect"] in (errno.ENETUNREACH, errno.ECONNREFUSED) and res["links"] == ["lo"]
    server.setblocking(False)
    with pytest.raises(BlockingIOError):
        server.accept()                                   # nobody knocked
    server.close()


def test_only_the_namespace_processes_are_visible(tree):
    def body(parent):
        sleeper = subprocess.Popen(["sleep", "30"])
        procs = sorted(int(p) for p in os.listdir("/proc") if p.isdigit())
        res = {"pid": os.getpid(), "procs": procs, "sleeper": sleeper.pid, "kill": err(os.kill, parent, 0)}
        sleeper.kill()
        sleeper.wait()
        return res
    res = walled(spec_for(tree), body, os.getpid())
    # the job is pid 2: pid 1 is the walls' own init, which only reaps
    assert res["pid"] == 2 and res["procs"] == [1, 2, res["sleeper"]] and res["kill"] == errno.ESRCH


def test_every_namespace_is_new(tree):
    kinds = ("mnt", "net", "pid", "ipc", "uts", "cgroup")
    inside = walled(spec_for(tree), lambda: {k: os.readlink(f"/proc/self/ns/{k}") for k in kinds})
    for k in kinds:
        assert inside[k] != os.readlink(f"/proc/self/ns/{k}"), k


def test_signals_to_the_process_group_stay_inside(tree):
    """kill(0, sig) reaches a process group across pid namespaces: pid 1 leads its own session.
    Were it not so, the supervisor (in the caller's group) would get SIGUSR1 and kill pid 1."""
    def body():
        signal.signal(signal.SIGUSR1, signal.SIG_IGN)
        os.kill(0, signal.SIGUSR1)
        time.sleep(0.2)
        return {"sid": os.getsid(0), "pgrp": os.getpgrp()}
    res = walled(spec_for(tree), body, before=lambda: os.setpgid(0, 0))
    assert res == {"sid": 1, "pgrp": 1}


def test_exit_code_and_fatal_signals_propagate(tree):
    spec = spec_for(tree)
    _, status = collect(*spawn(spec, lambda: os._exit(7)), report=False)
    assert os.waitstatus_to_exitcode(status) == 7

    def crash():
        import faulthandler
        faulthandler.disable()
        ctypes.string_at(0)
    _, status = collect(*spawn(spec, crash), report=False)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV


def test_a_signal_the_job_sends_itself_acts_as_anywhere(tree):
    """pid 1 ignores signals left at their default action; the job is not pid 1, so a self-sent
    SIGSEGV (faulthandler._sigsegv raises it) ends it, and the supervisor dies of it too."""
    def crash():
        import faulthandler
        faulthandler.disable()
        faulthandler._sigsegv()
        os._exit(0)                                 # reached only if the signal was ignored
    _, status = collect(*spawn(spec_for(tree), crash), report=False)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGSEGV


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_killing_the_supervisor_kills_the_whole_namespace(tree, sig):
    ready_r, ready_w = os.pipe()

    def body():
        subprocess.Popen(["sleep", "60"])
        os.write(ready_w, b"r")
        time.sleep(60)
    pid, r = spawn(spec_for(tree), body)
    os.close(ready_w)
    assert os.read(ready_r, 1) == b"r"
    os.close(ready_r)
    pid1 = children(pid)
    assert len(pid1) == 1
    job = children(pid1[0])
    assert len(job) == 1
    sleeper = children(job[0])
    assert len(sleeper) == 1
    os.kill(pid, sig)
    status = os.waitpid(pid, 0)[1]
    os.close(r)
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == sig   # as if the child had died of it
    assert gone(pid1[0]) and gone(sleeper[0])


# ---- privileges, filter, hidden dirs ---------------------------------------------------------
def test_no_privilege_is_left_and_the_filter_refuses(tree):
    def body():
        nr = {"x86_64": dict(clone=56, bpf=321, keyctl=250, perf=298, uring=425, setns=308, ptrace=101),
              "aarch64": dict(clone=220, bpf=280, keyctl=219, perf=241, uring=425, setns=268, ptrace=117)}
        n = nr[os.uname().machine]
        res = {k: v for k, v in status_fields().items() if k in ("CapEff", "CapBnd", "NoNewPrivs", "Seccomp")}
        res["mount"] = c_err(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None))
        res["umount"] = c_err(libc.umount2(b"/usr", 2))
        res["unshare"] = c_err(libc.unshare(0x10000000))
        L = ctypes.c_long
        child = libc.syscall(L(n["clone"]), L(0x10000000 | signal.SIGCHLD), *[L(0)] * 4)   # CLONE_NEWUSER
        if child == 0:
            os._exit(0)                                   # a namespace escaped the filter: reported below
        res["clone newuser"] = c_err(child)
        for name in ("bpf", "keyctl", "perf", "uring", "setns", "ptrace"):
            res[name] = c_err(libc.syscall(ctypes.c_long(n[name]), *[ctypes.c_long(0)] * 5))
        box = []
        t = threading.Thread(target=lambda: box.append(sum(range(10))))
        t.start()
        t.join()
        res["thread"] = box
        if torch is not None:    # one thread: libgomp may hang after fork if this pytest used it
            torch.set_num_threads(1)
            res["torch"] = float((torch.ones(64, 64) @ torch.ones(64, 64)).sum())
        res["fork"] = subprocess.run(["true"]).returncode
        # uid 0 may write sysctls by uid alone: /proc/sys is read-only (hostname is per namespace,
        # so this write is harmless even if the wall were missing; sysrq-trigger is only inspected)
        res["sysctl"] = err(lambda: open("/proc/sys/kernel/hostname", "w").write("x"))
        sysrq = "/proc/sysrq-trigger"
        res["sysrq ro"] = not os.path.exists(sysrq) or bool(os.statvfs(sysrq).f_flag & os.ST_RDONLY)
        return res
    res = walled(spec_for(tree), body)
    kept = "00000000000000c0" if ROOT else "0000000000000000"   # root keeps CAP_SETUID/SETGID only
    assert res["CapEff"] == res["CapBnd"] == kept and res["NoNewPrivs"] == "1" and res["Seccomp"] == "2"
    for name in ("mount", "umount", "unshare", "clone newuser", "bpf", "keyctl", "perf", "uring", "setns",
                 "ptrace"):
        assert res[name] == errno.EPERM, (name, res[name])
    assert res["thread"] == [45] and res["fork"] == 0
    assert res["sysctl"] in (errno.EROFS, errno.EACCES) and res["sysrq ro"]
    if torch is not None:
        assert res["torch"] == 64.0 ** 3


def test_drop_hidden_makes_the_collected_dir_vanish(tree):
    """A hidden dir on its own, and one inside a readable dir (unmounting alone would show it again)."""
    inner = f"{tree['pkg']}/checks"
    os.makedirs(inner, exist_ok=True)
    write_file(f"{inner}/test_in_pkg.py", "def test_y(): pass\n")
    spec = spec_for(tree, hidden_until_collected=(tree["hidden"], inner))

    def body(hidden, inner, pkg):
        res = {"before": sorted(os.listdir(hidden) + os.listdir(inner)),
               "text": open(f"{hidden}/test_hidden.py").read()}
        walls.drop_hidden(spec)
        walls.drop_hidden(spec)                           # a second call is harmless
        res.update(after=os.listdir(hidden) + os.listdir(inner), open=err(open, f"{hidden}/test_hidden.py"),
                   inner=err(open, f"{inner}/test_in_pkg.py"), create=err(open, f"{hidden}/new.py", "w"),
                   pkg=open(f"{pkg}/mod.py").read())
        return res
    res = walled(spec, body, tree["hidden"], inner, tree["pkg"])
    assert res["before"] == ["test_hidden.py", "test_in_pkg.py"] and res["text"].startswith("def test_x")
    assert res["after"] == [] and res["open"] == res["inner"] == errno.ENOENT and res["create"] == errno.EROFS
    assert res["pkg"] == "VALUE = 'pkg'\n"


@pytest.mark.skipif(not ROOT, reason="the other tests already run unprivileged")
def test_unprivileged_caller_gets_a_user_namespace(tree):
    """As uid 65534 (like an ordinary user, made non-dumpable like the zygote's children)."""
    ws = f"{tree['co']}/nobody-ws"
    spec = walls.WallSpec(writable=(ws,), readable=("/usr", "/lib", "/lib64", "/bin", tree["pkg"]),
                          hidden_until_collected=(tree["hidden"],), cwd=ws)

    def become_nobody():
        os.setgroups([])
        os.setresgid(65534, 65534, 65534)
        os.setresuid(65534, 65534, 65534)
        libc.prctl(4, 0, 0, 0, 0)                         # PR_SET_DUMPABLE 0

    def body(secret, pkg, hidden):
        with open("out.txt", "w") as f:
            f.write("nobody")
        res = {k: v for k, v in status_fields().items() if k in ("Uid", "CapEff", "CapBnd")}
        res.update(secret=err(open, secret), pkg=open(f"{pkg}/mod.py").read(), pid=os.getpid(),
                   mount=c_err(libc.mount(b"none", b"/tmp", b"tmpfs", 0, None)))
        walls.drop_hidden(spec)
        res["hidden"] = os.listdir(hidden)
        return res
    out, _ = collect(*spawn(spec, body, tree["secret"], tree["pkg"], tree["hidden"], before=become_nobody))
    if "wall_error" in out:
        pytest.skip(f"no unprivileged user namespaces here: {out['wall_error']}")
    res = out["ok"]
    assert res["Uid"].split()[0] == "65534" and res["CapEff"] == res["CapBnd"] == "0000000000000000"
    assert res["secret"] == errno.ENOENT and res["pkg"] == "VALUE = 'pkg'\n" and res["pid"] == 2
    assert res["mount"] == errno.EPERM and res["hidden"] == []
    assert open(f"{ws}/out.txt").read() == "nobody"


def test_remount_fallback_without_mount_setattr(tree):
    def body(pkg, ws):
        return {"ws": os.statvfs(ws).f_flag, "pkg": os.statvfs(pkg).f_flag,
                "write": err(open, f"{pkg}/x", "w")}
    res = walled(spec_for(tree), body, tree["pkg"], tree["ws"],
                 before=lambda: setattr(mounts, "_USE_MOUNT_SETATTR", False))
    assert res["ws"] & os.ST_NOEXEC and res["ws"] & os.ST_NOSUID and not res["ws"] & os.ST_RDONLY
    assert res["pkg"] & os.ST_RDONLY and res["write"] == errno.EROFS


def test_bad_specs_and_threads_are_refused(tree):
    def attempt(spec, threaded=False):
        def before():
            if threaded:
                threading.Thread(target=time.sleep, args=(5,), daemon=True).start()
        out, _ = collect(*spawn(spec, None, before=before))
        return out.get("wall_error", "entered")
    good = spec_for(tree)
    assert "single-threaded" in attempt(good, threaded=True)
    assert "Invalid argument" in attempt(spec_for(tree, readable=("usr",)))
    assert "No such file" in attempt(spec_for(tree, writable=(f"{tree['co']}/missing",)))
    assert "Invalid argument" in attempt(spec_for(tree, readable=("/",)))
    assert "Invalid argument" in attempt(spec_for(tree, hidden_until_collected=(tree["secret"],)))

    def open_dir():
        global _kept_dir_fd
        _kept_dir_fd = os.open(tree["co"], os.O_RDONLY | os.O_DIRECTORY)
    out, _ = collect(*spawn(good, None, before=open_dir))
    assert "inherited directory fd" in out.get("wall_error", "")


def test_syscall_table_matches_libseccomp():
    try:
        libseccomp = ctypes.CDLL("libseccomp.so.2")
    except OSError:
        pytest.skip("libseccomp.so.2 not installed (only used to cross-check the table)")
    libseccomp.seccomp_syscall_resolve_name_arch.argtypes = [ctypes.c_uint32, ctypes.c_char_p]
    checked = 0
    for arch, (audit, col, *_) in seccomp._ARCHES.items():
        for name, nrs in seccomp._TABLE.items():
            got = libseccomp.seccomp_syscall_resolve_name_arch(audit, name.encode())
            if got >= 0 or nrs[col] == "-":
                assert (str(got) if got >= 0 else "-") == nrs[col], (arch, name)
                checked += 1
    assert checked > 50


@pytest.mark.skipif(not ROOT, reason="needs root to switch uid")
def test_root_switches_to_a_private_uid_inside_the_walls(tree):
    """What the runner does after collection: setuid drops the two kept capabilities, and the
    Python installation stays usable even where the host keeps it under a 0700 home (the
    folders above each bind are 0755 on the new root)."""
    def body(pkg):
        os.setgroups([])
        os.setresgid(54321, 54321, 54321)
        os.setresuid(54321, 54321, 54321)
        res = {k: v for k, v in status_fields().items() if k in ("Uid", "CapEff", "CapPrm", "CapBnd")}
        res.update(stdlib=len(os.listdir(os.path.dirname(os.__file__))) > 0, pkg=open(f"{pkg}/mod.py").read(),
                   back_to_root=err(os.setuid, 0))
        return res
    res = walled(spec_for(tree), body, tree["pkg"])
    assert res["Uid"].split()[0] == "54321" and res["CapEff"] == res["CapPrm"] == "0000000000000000"
    assert res["stdlib"] and res["pkg"] == "VALUE = 'pkg'\n" and res["back_to_root"] == errno.EPERM


def test_cgroup_bookkeeping_on_a_fake_hierarchy(host_tmp, monkeypatch):
    """The file protocol only (the kernel's enforcement is the next test, where cgroup v2 exists)."""
    root = host_tmp / "cg"
    root.mkdir()
    (root / "cgroup.controllers").write_text("cpu memory pids\n")
    (root / "cgroup.subtree_control").write_text("")
    monkeypatch.setattr(cgroups, "_cgroup_root", lambda: str(root))
    walls.cgroup_unavailable_reason.cache_clear()
    try:
        assert walls.cgroup_unavailable_reason() is None
        assert (root / "torchdrill" / "cgroup.subtree_control").read_text() == "+memory +pids"
        cgroups._join_cgroup(walls.WallSpec((), (), memory_limit_mb=64, max_processes=10))
        job = root / "torchdrill" / f"job-{os.getpid()}"
        assert (job / "memory.max").read_text() == str(64 << 20) and (job / "pids.max").read_text() == "10"
        assert (job / "cgroup.procs").read_text() == str(os.getpid())
        assert not walls.memory_killed(os.getpid())
        (job / "memory.events").write_text("low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n")
        assert walls.memory_killed(os.getpid()) and walls.memory_killed(str(job))
    finally:
        walls.cgroup_unavailable_reason.cache_clear()


# ---- launcher, cgroups, defaults, cost -------------------------------------------------------
def test_popen_launcher_runs_a_command_inside(tree):
    spec = spec_for(tree, readable=spec_for(tree).readable + (os.path.dirname(walls.__file__),),
                    hidden_until_collected=(tree["hidden"],))
    code = ("import json, os, sys; sys.path.insert(0, %r); import walls\n"
            "r = {'pid': os.getpid(), 'cwd': os.getcwd(), 'hidden': os.listdir(%r)}\n"
            "try: open(%r)\nexcept OSError as e: r['secret'] = e.errno\n"
            "walls.drop_hidden(walls.WallSpec((), (), (%r,)))\n"
            "r['after'] = os.listdir(%r); print(json.dumps(r)); sys.exit(5)\n"
            % (os.path.dirname(walls.__file__), tree["hidden"], tree["secret"], *[tree["hidden"]] * 2))
    t0 = time.perf_counter()
    proc = subprocess.run(walls.popen_prefix(spec) + [sys.executable, "-I", "-c", code],
                          capture_output=True, text=True, timeout=60)
    print(f"\n[walls] Popen launcher + python -I -c: {1e3 * (time.perf_counter() - t0):.0f} ms")
    assert proc.returncode == 5, proc.stderr
    res = json.loads(proc.stdout)
    assert res == {"pid": 2, "cwd": tree["ws"], "hidden": ["test_hidden.py"], "secret": errno.ENOENT,
                   "after": []}


def test_walls_keeps_its_api_and_runs_without_its_package():
    """No namespaces needed: walls re-exports what its parts own (the same objects), and its file
    still works where no package is known: as popen_prefix's script, and imported from its own
    directory alone (all a walled command may be able to read)."""
    assert walls.__all__ == ["WallError", "WallSpec", "spec_from_dict", "unavailable_reason", "default_readable", "enter",
                             "drop_hidden", "cgroup_unavailable_reason", "memory_killed", "cleanup_cgroup",
                             "popen_prefix", "main"]
    assert walls.WallError is syscalls.WallError and walls.cleanup_cgroup is cgroups.cleanup_cgroup
    assert walls.memory_killed is cgroups.memory_killed
    assert walls.cgroup_unavailable_reason is cgroups.cgroup_unavailable_reason
    proc = subprocess.run(walls.popen_prefix(walls.WallSpec((), ())), capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 1 and "usage: walls.py" in proc.stderr and "no command" in proc.stderr, \
        proc.stderr
    code = ("import sys; sys.path.insert(0, %r); import walls\n"
            "try: walls.drop_hidden(walls.WallSpec((), (), ('/x',)))\n"
            "except walls.WallError as e: print(e.strerror)\n"
            "print(sorted(m for m in sys.modules if m.startswith('grader') or m in %r))\n"
            % (os.path.dirname(walls.__file__), ("walls", "syscalls", "seccomp", "mounts", "cgroups")))
    proc = subprocess.run([sys.executable, "-I", "-S", "-c", code], capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["drop_hidden() needs enter() first",
                                        "['cgroups', 'mounts', 'seccomp', 'syscalls', 'walls']"]


@pytest.mark.skipif(walls.cgroup_unavailable_reason() is not None,
                    reason=f"cgroup limits unavailable here: {walls.cgroup_unavailable_reason()}")
def test_cgroup_memory_limit_kills_and_is_reported(tree):
    def hog():
        return len(b"\x01" * (256 << 20))                 # 2x the limit, every page touched
    pid, r = spawn(spec_for(tree, memory_limit_mb=128, max_processes=32), hog)
    with os.fdopen(r, "rb") as f:
        assert f.read() == b""                            # killed before it could report
    status = os.waitpid(pid, 0)[1]
    assert os.WIFSIGNALED(status) and os.WTERMSIG(status) == signal.SIGKILL
    assert walls.memory_killed(pid)
    assert walls.cleanup_cgroup(pid) and not walls.memory_killed(pid)


def test_default_readable_is_the_system_and_python_only():
    paths = walls.default_readable()
    assert len(set(paths)) == len(paths) and all(os.path.lexists(p) for p in paths)
    assert not any(p.startswith(q + "/") for p in paths for q in paths)
    assert "/usr" in paths and any(sys.prefix == q or sys.prefix.startswith(q + "/") for q in paths)
    assert "/etc" not in paths and "/etc/shadow" not in paths and "/root" not in paths


def test_cost_of_enter(tree):
    spec, mark, totals, enters = spec_for(tree), {}, [], []
    for _ in range(8):
        t0 = time.perf_counter()
        out, _ = collect(*spawn(spec, lambda: [mark["start"], time.perf_counter()],
                                before=lambda: mark.update(start=time.perf_counter())))
        start, inside = out["ok"]
        totals.append(inside - t0)
        enters.append(inside - start)
    print(f"\n[walls] enter(): median {1e3 * statistics.median(enters):.1f} ms, "
          f"max {1e3 * max(enters):.1f} ms; "
          f"with the caller's fork: median {1e3 * statistics.median(totals):.1f} ms "
          f"({len(spec.readable)} readable paths, torch {'loaded' if torch else 'absent'})")
    assert statistics.median(enters) < 0.25               # target well under 50 ms; slack for CI
