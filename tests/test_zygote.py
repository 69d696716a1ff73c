"""The pre-warmed zygote (grader/isolation/zygote_client.py and zygote_server.py): forked children must be as isolated as fresh ones.

Most tests grade a "probe" submission of the fixture exercise: a correct tiny.py that, when the
hidden checks first import it, appends what it sees (pids, session, open fds, cwd, environment,
random state, whether an earlier candidate's patches leaked in) as one JSON line to a file the
test names. The same probe runs with the zygote on and off (TORCHDRILL_ZYGOTE=0).
"""

import dataclasses
import itertools
import json
import os
import signal
import subprocess
import textwrap
import threading
import time
from pathlib import Path

import pytest
from conftest import SUBS, grade_json, normalise

from grader.engine import grading
from grader.isolation import preload, runner
from grader.isolation import zygote_client as zygote
from grader.isolation.protocol import clean_env
from grader.catalogue import load_catalogue

PROBE = '''
import builtins, json, os, random, sys
import numpy, torch

def _try(what, default=None):
    # every observation may be refused by the sandbox: record the refusal, keep going
    try:
        return what()
    except Exception as exc:
        return default if default is not None else f"refused: {type(exc).__name__}"

def _fds():
    fds = {}
    for fd in os.listdir("/proc/self/fd"):
        fds[fd] = _try(lambda: os.readlink(f"/proc/self/fd/{fd}"), "?")
    return fds

def _fd_kinds():
    # os.fstat needs no /proc (which the sandbox may hide): the kind of every open descriptor
    import stat
    kinds = {}
    for fd in range(256):
        try:
            mode = os.fstat(fd).st_mode
        except OSError:
            continue
        kinds[str(fd)] = ("socket" if stat.S_ISSOCK(mode) else "pipe" if stat.S_ISFIFO(mode)
                          else "char" if stat.S_ISCHR(mode) else "file" if stat.S_ISREG(mode)
                          else "dir" if stat.S_ISDIR(mode) else "anon")
    return kinds

def _denied(act):
    try:
        act()
        return "allowed"
    except Exception as exc:
        return type(exc).__name__

def _dumpable():
    # prctl needs ctypes, and reaching ctypes from candidate code is now a native-code flag
    # that zeroes the exercise: the probe does not ask (its /proc reads below still prove it)
    return "refused: ctypes from candidate code zeroes the exercise"

def _observe():
    ppid = os.getppid()
    harness = sys.modules.get("grader.harness")
    leaked = [name for name, bad in (
        ("builtins", hasattr(builtins, "TORCHDRILL_LEAK")),
        ("torch attr", hasattr(torch, "TORCHDRILL_LEAK")),
        ("torch.add", type(torch.add).__name__ != "builtin_function_or_method"),
        ("default dtype", torch.get_default_dtype() != torch.float32),
        ("harness", harness is not None and hasattr(harness, "TORCHDRILL_LEAK")),
        ("environ", "TORCHDRILL_LEAK" in os.environ),
        ("module", "torchdrill_leak_module" in sys.modules),
    ) if bad]
    info = {"pid": os.getpid(), "ppid": ppid, "sid": os.getsid(0), "pgid": os.getpgid(0),
            "cwd": os.getcwd(), "env": sorted(os.environ), "fds": _try(_fds, {}),
            "fd_kinds": _fd_kinds(),
            "random": random.random(), "np_random": float(numpy.random.random()),
            "argv": sys.argv, "leaked": leaked, "dumpable": _try(_dumpable),
            "attempts": {"mem": _denied(lambda: open(f"/proc/{ppid}/mem", "r+b")),
                         "fd": _denied(lambda: os.listdir(f"/proc/{ppid}/fd"))}}
    print("TORCHDRILL-PROBE " + json.dumps(info), flush=True)   # the child's captured output
    return not leaked

CLEAN = _observe()

def add(a, b):
    return a + b if CLEAN else a + b + 1

def relu(t):
    return t.clamp(min=0)
'''

PATCHER = '''
import builtins, os, sys, types
import torch

def _patch(action):
    try:                       # the sandbox may refuse some of these: do what it allows
        action()
    except Exception:
        pass

_patch(lambda: setattr(builtins, "TORCHDRILL_LEAK", True))
_patch(lambda: setattr(torch, "TORCHDRILL_LEAK", True))
_patch(lambda: setattr(torch, "add", lambda *a, **k: 0))
_patch(lambda: torch.set_default_dtype(torch.float64))
_patch(lambda: setattr(sys.modules["grader.harness"], "TORCHDRILL_LEAK", True))
_patch(lambda: setattr(sys.modules["grader.harness"], "assert_close", lambda *a, **k: None))
_patch(lambda: os.environ.__setitem__("TORCHDRILL_LEAK", "1"))
_patch(lambda: sys.modules.__setitem__("torchdrill_leak_module", types.ModuleType("leak")))

def add(a, b):
    return a + b

def relu(t):
    return t
'''


def _submission(tmp_path: Path, name: str, source: str) -> Path:
    folder = tmp_path / name / "tiny"
    folder.mkdir(parents=True)
    (folder / "tiny.py").write_text(source)
    return tmp_path / name


def _probe(tmp_path: Path, name: str = "probe") -> Path:
    """A correct submission that prints what its child sees (see _lines)."""
    return _submission(tmp_path, name, PROBE)


_OUTPUTS: list[str] = []


@pytest.fixture(autouse=True)
def _capture_outputs(monkeypatch):
    """Keep every grading child's captured output (candidate code may print; it may not write
    files outside its workspace, which is removed after grading)."""
    real = grading.run_child

    def run_child(*args, **kwargs):
        run = real(*args, **kwargs)
        _OUTPUTS.append(run.output)
        return run

    _OUTPUTS.clear()
    monkeypatch.setattr(grading, "run_child", run_child)


def _lines() -> list[dict]:
    """What each probe child saw, in the order the children ended."""
    return [json.loads(line.split(" ", 1)[1]) for output in _OUTPUTS
            for line in output.splitlines() if line.startswith("TORCHDRILL-PROBE ")]


def _grade(sub: Path, jobs: int = 1, time_limit_s: float | None = None) -> dict:
    exercises = list(load_catalogue().values())
    if time_limit_s is not None:     # four fresh interpreters at once on two cores: not a 10 s job
        exercises = [dataclasses.replace(ex, time_limit_s=time_limit_s) for ex in exercises]
    return grading.grade(exercises, sub, grading.GradeOptions(device="cpu", jobs=jobs, timing=False))


@pytest.fixture(params=["zygote", "fresh"])
def mode(request, monkeypatch, fixture_root):
    monkeypatch.setenv("TORCHDRILL_ZYGOTE", "1" if request.param == "zygote" else "0")
    return request.param


@pytest.fixture
def fresh_zygote(fixture_root):
    """No zygote running and a full restart allowance, before and after the test."""
    zygote.shutdown()
    zygote._state["starts"] = 0
    yield
    zygote.shutdown()
    zygote._state["starts"] = 0


def test_child_environment(mode, tmp_path):
    """Forked or fresh, the child has its own session, only its own fds, the workspace as cwd,
    the runner's clean environment and its own random state."""
    sub = _probe(tmp_path)
    for _ in range(2):
        result = _grade(sub)
        assert result["exercises"][0]["score"] == 4.0, result["exercises"][0]
    first, second = _lines()
    for info in (first, second):
        assert info["sid"] == info["pid"] == info["pgid"]
        assert info["cwd"].endswith(os.sep + "work")
        own = {"TORCHDRILL_ROOT", "PYTEST_CURRENT_TEST", "PYTEST_VERSION",   # pytest's own
               "TORCHINDUCTOR_CACHE_DIR",                             # torch._dynamo's import
               "TRITON_INTERPRET"}            # every CPU child: set before anything imports triton
        assert set(info["env"]) <= set(clean_env(1, "/x")) | own
        targets = sorted(info["fds"].items())      # empty when the sandbox hides /proc
        leftovers = [t for _, t in targets if t.startswith(("socket:", "anon_inode:"))]
        assert not leftovers, f"the zygote's sockets, pidfds or epoll leaked into the child: {targets}"
        kinds = info["fd_kinds"]
        assert not [k for k in kinds.values() if k in ("socket", "anon")], kinds
        assert kinds.get("0") == "char"            # /dev/null
        assert info["fds"].get("0") in ("/dev/null", None)
        assert info["argv"][0].endswith("child.py")
    assert first["random"] != second["random"] and first["np_random"] != second["np_random"]
    assert first["pid"] != second["pid"]
    if mode == "zygote":
        z = zygote.current()
        assert z is not None and first["ppid"] == second["ppid"] == z.proc.pid
    else:
        assert first["ppid"] == second["ppid"] == os.getpid()


def test_patches_do_not_leak_into_later_children(mode, tmp_path):
    """A candidate that patches torch, builtins, the harness, os.environ and sys.modules changes
    nothing for the next child: each one starts from the pristine zygote."""
    patcher = _submission(tmp_path, "patcher", PATCHER)
    probe = _probe(tmp_path)
    _grade(patcher)
    result = _grade(probe)
    assert result["exercises"][0]["score"] == 4.0, result["exercises"][0]
    (info,) = _lines()
    assert info["leaked"] == []


def test_concurrent_children_do_not_share_state(mode, tmp_path):
    """-j 2 over two submissions at once: the patcher's child and the probe's child overlap."""
    patcher = _submission(tmp_path, "patcher", PATCHER)
    probe = _probe(tmp_path)
    results = {}
    threads = [threading.Thread(target=lambda s=s: results.__setitem__(s.name, _grade(s, jobs=2, time_limit_s=90)))
               for s in (patcher, probe, patcher, probe)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results["probe"]["exercises"][0]["score"] == 4.0
    assert all(info["leaked"] == [] for info in _lines())


def test_candidate_cannot_reach_the_zygote(fixture_root, monkeypatch, tmp_path):
    """The zygote is non-dumpable: a child can neither write its memory nor open its fds."""
    monkeypatch.setenv("TORCHDRILL_ZYGOTE", "1")
    sub = _probe(tmp_path)
    _grade(sub)
    (info,) = _lines()
    assert info["ppid"] == zygote.current().proc.pid
    assert info["dumpable"] == 0 or str(info["dumpable"]).startswith("refused"), \
        "the zygote (and so its children) must be non-dumpable"
    if os.geteuid() == 0 and "allowed" in info["attempts"].values():
        pytest.skip("the child runs as root: CAP_SYS_PTRACE overrides non-dumpable (as it would "
                    "for a fresh child); the sandbox's uid drop or an unprivileged user closes this")
    assert "allowed" not in info["attempts"].values(), info["attempts"]


def test_zygote_is_single_threaded_and_cpu_only(fixture_root, fresh_zygote, tmp_path):
    _grade(_probe(tmp_path))
    z = zygote.current()
    assert z is not None
    assert len(os.listdir(f"/proc/{z.proc.pid}/task")) == 1
    assert zygote.usable("cpu") and not zygote.usable("cuda")
    assert zygote.usable("cpu", ("triton",))       # interpreted on CPU, chosen in the child
    assert not zygote.usable("cuda", ("triton",)) and not zygote.usable("cpu", ("apex",))


def test_secrets_never_pass_through_the_zygote(fixture_root, monkeypatch, tmp_path):
    """The zygote gets a working folder, an environment and file descriptors; the seed and the
    nonce travel in a pipe straight from the grading process to the child."""
    monkeypatch.setenv("TORCHDRILL_ZYGOTE", "1")
    sent, configs = [], []
    real_send, real_run_child = zygote.socket.send_fds, grading.run_child

    def spy_send(sock, buffers, fds, *args):
        sent.extend(buffers)
        return real_send(sock, buffers, fds, *args)

    def spy_run_child(*args, **kwargs):
        nonce = kwargs.setdefault("nonce", "f" * 32)
        configs.append(nonce)
        return real_run_child(*args, **kwargs)

    monkeypatch.setattr(zygote.socket, "send_fds", spy_send)
    monkeypatch.setattr(grading, "run_child", spy_run_child)
    result = _grade(_probe(tmp_path))
    assert result["exercises"][0]["score"] == 4.0
    assert sent and configs
    for payload in sent:
        request = json.loads(payload)
        assert set(request) == {"cwd", "env", "walls"}   # walls: the child's OS wall spec (no secret)
        assert "seed" not in payload.decode() and configs[0] not in payload.decode()


def test_candidate_killing_the_zygote_costs_nothing(fixture_root, fresh_zygote, monkeypatch,
                                                    tmp_path):
    """Whether or not the sandbox lets the candidate signal its parent (the zygote), later
    grades are unaffected: a new zygote (or a fresh interpreter) takes over."""
    monkeypatch.setenv("TORCHDRILL_ZYGOTE", "1")
    killer = _submission(tmp_path, "killer", textwrap.dedent("""
        import os, signal
        try:
            os.kill(os.getppid(), signal.SIGKILL)
        except Exception:
            pass

        def add(a, b):
            return a + b

        def relu(t):
            return t.clamp(min=0)
    """))
    _grade(_probe(tmp_path, "warm"))
    result = _grade(killer)
    assert result["exercises"][0]["status"] in ("graded", "error")
    probe = _probe(tmp_path)
    assert _grade(probe)["exercises"][0]["score"] == 4.0
    info = _lines()[-1]
    z = zygote.current()
    assert z is not None and info["ppid"] == z.proc.pid and z.alive()


def test_falls_back_to_fresh_interpreters(fixture_root, fresh_zygote, monkeypatch, tmp_path):
    monkeypatch.setenv("TORCHDRILL_ZYGOTE", "1")
    probe = _probe(tmp_path)
    _grade(probe)
    os.kill(zygote.current().proc.pid, signal.SIGKILL)
    zygote._state["starts"] = zygote.MAX_STARTS         # no new zygote: fresh interpreters
    time.sleep(0.2)
    assert _grade(probe)["exercises"][0]["score"] == 4.0
    assert zygote.current() is None
    assert _lines()[-1]["ppid"] == os.getpid()


def test_zygote_start_failure_falls_back(fixture_root, fresh_zygote, monkeypatch, tmp_path):
    monkeypatch.setattr(preload, "PRELOAD", preload.PRELOAD + ("no_such_module_torchdrill",))
    monkeypatch.setattr(zygote.Zygote, "__init__", _failing_init)
    probe = _probe(tmp_path)
    assert _grade(probe)["exercises"][0]["score"] == 4.0
    assert zygote.current() is None
    assert _lines()[-1]["ppid"] == os.getpid()


def _failing_init(self):
    raise zygote.ZygoteError("the zygote did not start: error ImportError")


def test_timeout_kills_the_forked_group(fixture_root, monkeypatch, tmp_path):
    """A hanging forked child and the process it started are both killed at the time limit."""
    monkeypatch.setenv("TORCHDRILL_ZYGOTE", "1")
    sub = _submission(tmp_path, "hang", textwrap.dedent("""
        import subprocess, time
        try:                   # the sandbox may refuse to start processes: then just hang
            proc = subprocess.Popen(["sleep", "1000"])
            print("TORCHDRILL-GRANDCHILD", proc.pid, flush=True)
        except Exception:
            pass

        def add(a, b):
            return a + b

        def relu(t):
            time.sleep(1e9)
    """))
    started = time.monotonic()
    result = _grade(sub)
    assert time.monotonic() - started < 10 + 8
    ex = result["exercises"][0]
    assert ex["status"] == "timeout"
    assert [c["outcome"] for c in ex["checks"]] == ["passed", "passed", "timeout", "timeout"]
    pids = [int(line.split()[1]) for out in _OUTPUTS for line in out.splitlines()
            if line.startswith("TORCHDRILL-GRANDCHILD ")]
    time.sleep(0.5)
    assert not [pid for pid in pids if _alive(pid)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


PARITY_CASES = ["full", "partial", "exit0", "segfault", "forbidden"]


@pytest.mark.parametrize("name", PARITY_CASES)
def test_same_result_with_and_without_zygote(name, fixture_root, monkeypatch, tmp_path):
    """Forked and fresh children grade the fixture submissions identically (test_grading.py
    compares the zygote's results with the goldens)."""
    results = {}
    for flag in ("1", "0"):
        monkeypatch.setenv("TORCHDRILL_ZYGOTE", flag)
        results[flag] = normalise(grade_json(SUBS / name, tmp_path))
    assert results["1"] == results["0"]


def test_timing_runs_alone(fixture_root, monkeypatch, tmp_path):
    """-j 4: correctness children overlap, but every timing run starts after all of them ended
    and timing runs never overlap each other."""
    tiny = load_catalogue()["tiny"]
    timing = _timing_spec()
    exercises = [dataclasses.replace(tiny, slug=f"tiny{i}", timing=timing) for i in range(4)]
    lock, spans, active = threading.Lock(), [], [0]

    def fake_run_child(exercise, root, *, mode, device, threads, time_limit_s, nonce=None,
                       isolation="process", only=()):
        with lock:
            active[0] += 1
            concurrent = active[0]
        start = time.monotonic()
        time.sleep(0.3)
        with lock:
            active[0] -= 1
        spans.append((mode, start, time.monotonic(), concurrent, threads))
        run = runner.ChildRun(returncode=0)
        if mode == "timing":
            run.events = [{"event": "timing", "rows": [], "share": 1.0}, {"event": "done"}]
        else:
            checks = [{"id": f"test_hidden.py::c{i}", "name": f"c{i}", "weight": 1.0} for i in range(2)]
            run.events = ([{"event": "collected", "checks": checks}]
                          + [{"event": "result", "id": c["id"], "outcome": "passed", "message": ""}
                             for c in checks] + [{"event": "done"}])
        return run

    monkeypatch.setattr(grading, "run_child", fake_run_child)
    monkeypatch.setattr(grading, "prepare_workspace", lambda ex, folder: (Path("/nonexistent"), []))
    monkeypatch.setattr(grading.static_check, "scan_folder", lambda ex, folder: [])
    sub = tmp_path / "sub"
    for ex in exercises:
        (sub / ex.slug).mkdir(parents=True)
    result = grading.grade(exercises, sub, grading.GradeOptions(device="cpu", jobs=4, timing=True))
    checks = [s for s in spans if s[0] == "check"]
    timed = sorted(s for s in spans if s[0] == "timing")
    assert len(checks) == 4 and len(timed) == 4
    assert max(s[3] for s in checks) > 1, "correctness children should run in parallel with -j 4"
    last_check_end = max(s[2] for s in checks)
    assert all(s[1] >= last_check_end for s in timed)
    assert all(s[3] == 1 for s in timed), "a timing run shared the machine"
    assert all(a[2] <= b[1] for a, b in itertools.pairwise(timed))
    assert all(s[4] == (os.cpu_count() or 1) for s in timed), "timing gets every core"
    assert all(ex["score"] > 0 for ex in result["exercises"])


def _timing_spec():
    from grader.catalogue import Timing, TimingCase
    return Timing(entry="relu", reference="torch.relu",
                  cases=(TimingCase(name="small", params={"input": [4, 4]}),),
                  tiers=((1.0, 1.0),), speed_points=1.0)


def test_forked_child_handle(fixture_root, monkeypatch, tmp_path):
    """The Popen-like handle: poll() before the end, the exit code after, output captured."""
    monkeypatch.setenv("TORCHDRILL_ZYGOTE", "1")
    read_fd, write_fd = os.pipe()
    try:
        child = zygote.spawn(tmp_path, clean_env(1, str(tmp_path)), write_fd)
    finally:
        os.close(write_fd)
    assert child is not None
    assert child.poll() is None                        # still waiting for its config
    with pytest.raises(subprocess.TimeoutExpired):
        child.wait(0.2)
    child.stdin.write(b"this is not JSON")
    child.stdin.close()
    assert child.wait(60) == 1                         # like a fresh child: traceback, exit 1
    assert child.poll() == 1
    assert b"JSONDecodeError" in child.stdout.read()
    child.stdout.close()
    os.close(read_fd)
