"""Hostile submissions graded end to end through `torchdrill grade` (issue 6, docs/security.md).

Every folder of tests/attacks/ is one attack: a submission file for a fixture exercise ("tiny":
add(a, b) and relu(t) with aten.relu forbidden; "timed": relu(t) raced against torch.relu).
The module fixture builds a catalogue with one exercise per attack (a copy of its base under the
attack's name) plus honest controls, grades all of them in ONE `torchdrill grade -j 4` run,
and each test asserts on that run: the attack's exact score, why its checks failed, the flags,
that the controls kept their exact scores, that every exercise finished within its limit plus a
few seconds, that the JSON validates, that the HTML shows hostile text only escaped, and that
no process an attack started outlives the grade.

Attacks are written so that they would earn points if they worked: "wrong unless the attack
worked" answers (-|t| - 1 for relu, 0 for add) and slow kernels for the timing tricks.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import textwrap
import time
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from grader.report import validate_result

from conftest import FIXTURE_ROOT, TESTS, invoke

ATTACKS = TESTS / "attacks"
LIMIT_S = 10                      # wall-clock limit of every attack exercise
JOBS = 4
MARKERS = ("torchdrill-attack-lingering", "torchdrill-attack-forkbomb")


@dataclass(frozen=True)
class Expect:
    score: float
    base: str = "tiny"
    status: str = "graded"
    flags: tuple[str, ...] = ()          # flag kinds that must be present
    messages: tuple[str, ...] = ()       # substrings some check message must contain
    outcomes: dict = field(default_factory=dict)   # check name suffix -> outcome
    xfail: str = ""                      # a defence owned elsewhere that is not there yet


TAMPER = ("tampering",)
FORBIDDEN = ("forbidden-api",)
ATTACK_TABLE: dict[str, Expect] = {
    # exits and exceptions
    "exit-at-import": Expect(0.0, messages=("importing tiny.py failed: SystemExit",)),
    "os-exit-in-call": Expect(0.0, status="error", flags=("crash",), messages=(
        "ended early (exit code 0, e.g. os._exit or sys.exit) while this check ran",
        "not run: the grading process ended early")),
    "keyboard-interrupt": Expect(0.0, messages=("raised KeyboardInterrupt", "raised SystemExit"),
                                 outcomes={"relu_dtype": "failed", "add_any": "failed"}),
    "base-exception-import": Expect(0.0, messages=("importing tiny.py failed: Boom",
                                                   "whose str() failed")),
    "hostile-exceptions": Expect(0.0, messages=("raised Skipped", "raised Exit",
                                                "whose str() failed"),
                                 outcomes={"add_small": "failed", "relu_values": "failed"}),
    # comparisons, harness, builtins, pytest
    "patch-comparisons": Expect(0.0, flags=TAMPER, messages=("torch.allclose",)),
    "patch-harness": Expect(0.0),
    "patch-builtins": Expect(0.0, flags=TAMPER, messages=("builtins.type",)),
    "lying-objects": Expect(0.0, messages=("expected a plain torch.Tensor",)),
    "patch-pytest": Expect(0.0, flags=TAMPER),
    "patch-pytest-in-call": Expect(0.0, flags=TAMPER),
    "patch-dispatcher": Expect(0.0, flags=TAMPER + ("sandbox-denied",)),
    "self-restoring-patch": Expect(0.0, flags=TAMPER, messages=("weakref callback",)),
    "gc-walk": Expect(0.0, flags=("sandbox-denied",)),
    "frame-walk": Expect(0.0, flags=("sandbox-denied",)),
    "graph-walk": Expect(0.0, outcomes={"relu_dtype": "failed"}),
    "dynamo-frame-hook": Expect(0.0, flags=("sandbox-denied",)),
    # forging results
    "print-fake-results": Expect(0.0),
    "write-every-fd": Expect(0.0, flags=("result-forgery",)),
    "lingering-rewriter": Expect(0.0, flags=("sandbox-denied",)),
    # hangs and floods
    "infinite-loop": Expect(0.0, status="timeout", messages=(
        f"timed out after {LIMIT_S} s while this check ran",
        f"not run: timed out after {LIMIT_S} s during an earlier check")),
    "sleep-at-import": Expect(0.0, status="timeout", messages=(
        f"timed out after {LIMIT_S} s while this check ran",)),
    "thread-deadlock": Expect(0.0, status="timeout"),
    "background-thread": Expect(0.0, flags=TAMPER, messages=("thread(s) left running",)),
    "output-flood": Expect(4.0),
    "memory-hog": Expect(0.0, messages=("exceeded the 2 GiB memory limit (tried to allocate 20 GiB)",
                                        "exceeded the 2 GiB memory limit")),
    "fork-bomb": Expect(0.0, flags=("sandbox-denied",)),
    "segfault": Expect(0.0, status="error", flags=("crash",), messages=(
        "crashed (SIGSEGV) while this check ran", "ctypes")),
    # reading the answer
    "read-hidden-files": Expect(0.0, flags=("sandbox-denied",)),
    "import-the-answer": Expect(0.0, flags=("sandbox-denied",)),
    "seed-replay": Expect(0.0),
    # forbidden APIs by the back door
    # the exercise's forbidden function, reached by getattr: refused at the Python level first
    "forbidden-getattr": Expect(0.0, flags=FORBIDDEN, messages=(
        "torch.nn.functional.relu is forbidden in this exercise",)),
    "forbidden-torch-ops": Expect(0.0, flags=FORBIDDEN),
    "forbidden-exec-base64": Expect(0.0, messages=("compiling code at run time",)),
    "forbidden-importlib": Expect(0.0, flags=FORBIDDEN),
    "forbidden-fallback": Expect(0.0, flags=FORBIDDEN),
    "forbidden-guard-escape": Expect(0.0, flags=FORBIDDEN),
    "forbidden-in-thread": Expect(0.0, flags=FORBIDDEN),
    "forbidden-at-import": Expect(0.0, flags=FORBIDDEN),
    # report injection
    "report-injection": Expect(0.0),
    # kernel-timing tricks (base "timed": 3 correctness points + 3 speed points)
    "timing-cache-identity": Expect(3.0, base="timed", outcomes={"speed": "failed"}),
    "timing-cache-content": Expect(3.0, base="timed", outcomes={"speed": "failed"}),
    "timing-unguarded-forbidden": Expect(0.0, base="timed", flags=FORBIDDEN),
    "timing-global-state": Expect(3.0, base="timed", flags=("global-state",),
                                  outcomes={"speed": "failed"}),
    "timing-mutate-inputs": Expect(0.0, base="timed"),
    "timing-lazy-thread": Expect(0.0, base="timed", flags=TAMPER),
    "timing-timer-patch": Expect(0.0, base="timed", flags=TAMPER),
}
CONTROLS = {  # honest submissions graded in the same run: their scores must not move
    "control-full": (4.0, "def add(a, b):\n    return a + b\n\n\ndef relu(t):\n"
                          "    return t.clamp(min=0)\n"),
    "control-partial": (2.0, "def add(a, b):\n    return a + b\n\n\ndef relu(t):\n"
                             "    return -t.abs() - 1\n"),
}
HOSTILE_MARKUP = ("<script>alert(", "</textarea><script>", "<img src=x onerror")


def _base_files(base: str) -> tuple[Path, Path, str]:
    if base == "tiny":
        return FIXTURE_ROOT / "exercises" / "tiny", FIXTURE_ROOT / "solutions" / "tiny", "tiny.py"
    folder = ATTACKS / "_bases" / base
    return folder / "exercise", folder / "solution", f"{base}.py"


def _add_exercise(root: Path, slug: str, base: str) -> str:
    exercise, solution, module = _base_files(base)
    shutil.copytree(exercise, root / "exercises" / slug)
    shutil.copytree(solution, root / "solutions" / slug)
    toml = root / "exercises" / slug / "exercise.toml"
    text = re.sub(r'(?m)^slug = ".*"$', f'slug = "{slug}"', toml.read_text())
    text = re.sub(r"(?m)^time_limit_s = .*$", f"time_limit_s = {LIMIT_S}", text)
    if "memory_limit_mb" not in text:
        text = text.replace("files = ", "memory_limit_mb = 2048\nfiles = ", 1)
    toml.write_text(text)
    return module


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """Build the attack catalogue and grade every attack and control in one run."""
    work = tmp_path_factory.mktemp("attacks")
    root, sub = work / "root", work / "sub"
    for name, expect in ATTACK_TABLE.items():
        module = _add_exercise(root, name, expect.base)
        (sub / name).mkdir(parents=True)
        shutil.copyfile(ATTACKS / name / module, sub / name / module)
    for name, (_, source) in CONTROLS.items():
        _add_exercise(root, name, "tiny")
        (sub / name).mkdir(parents=True)
        (sub / name / "tiny.py").write_text(source)
    os.chmod(root / "solutions", 0o700)
    out, html = work / "attack-result.json", work / "report.html"
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("TORCHDRILL_ROOT", str(root))
        started = time.monotonic()
        res = invoke("grade", sub, "--json", out, "--html", html, "-j", JOBS)
        wall = time.monotonic() - started
    assert res.exit_code == 0, res.output
    text = out.read_text()
    if os.environ.get("TORCHDRILL_ATTACK_DUMP"):
        shutil.copyfile(out, os.environ["TORCHDRILL_ATTACK_DUMP"])
        shutil.copyfile(html, os.environ["TORCHDRILL_ATTACK_DUMP"] + ".html")
    result = json.loads(text)
    return {"result": result, "json_text": text, "json_path": out, "html": html.read_text(),
            "wall": wall, "by_slug": {e["slug"]: e for e in result["exercises"]}}


def _check(ex: dict, suffix: str) -> dict:
    found = [c for c in ex["checks"] if c["id"].endswith(suffix)]
    assert found, f"{ex['slug']}: no check ending in {suffix}"
    return found[0]


@pytest.mark.parametrize("name", sorted(ATTACK_TABLE))
def test_attack(name, graded, request):
    expect = ATTACK_TABLE[name]
    if expect.xfail:
        request.applymarker(pytest.mark.xfail(reason=expect.xfail, strict=False))
    ex = graded["by_slug"][name]
    summary = json.dumps({k: ex[k] for k in ("status", "score", "flags")} |
                         {"checks": [(c["id"], c["outcome"], c["message"][:200])
                                     for c in ex["checks"]]}, indent=1)
    assert ex["score"] == expect.score, summary
    assert ex["status"] == expect.status, summary
    kinds = {f["kind"] for f in ex["flags"]}
    for kind in expect.flags:
        assert kind in kinds, summary
    messages = " | ".join(c["message"] for c in ex["checks"])
    for text in expect.messages:
        assert text in messages, summary
    for suffix, outcome in expect.outcomes.items():
        assert _check(ex, suffix)["outcome"] == outcome, summary
    assert all(c["outcome"] != "skipped" or c["id"].startswith("timing::")
               for c in ex["checks"]), summary
    assert ex["duration_s"] <= LIMIT_S + 5, f"{name} ran {ex['duration_s']} s"


def test_controls_keep_their_exact_scores(graded):
    for name, (score, _) in CONTROLS.items():
        ex = graded["by_slug"][name]
        assert (ex["score"], ex["status"], ex["flags"]) == (score, "graded", []), ex


def test_result_json_is_valid_and_totals_add_up(graded):
    result = graded["result"]
    assert validate_result(result) == ""
    assert result["score"] == round(sum(e["score"] for e in result["exercises"]), 4)
    expected = {**{n: e.score for n, e in ATTACK_TABLE.items() if not e.xfail},
                **{n: s for n, (s, _) in CONTROLS.items()}}
    got = {n: graded["by_slug"][n]["score"] for n in expected}
    assert got == expected


def test_grade_wall_time_is_bounded(graded):
    """All exercises ran in parallel (-j 4) and timing runs alone afterwards: the whole grade
    must stay within a few time limits, however many attacks hang."""
    assert graded["wall"] < 6 * LIMIT_S + 90, graded["wall"]


def test_html_shows_hostile_text_escaped(graded):
    html = graded["html"]
    for needle in HOSTILE_MARKUP:
        assert needle not in html
    assert "&lt;script&gt;alert(" in html        # the messages are shown, escaped
    assert "{{ 7 * 7 }}" in html                 # data, never evaluated as a template
    assert len(html) < 20_000_000


def test_no_attack_process_outlives_the_grade(graded):
    """The lingering-rewriter and fork-bomb attacks would leave marked processes behind and
    rewrite the result JSON 4 s later; wait past that and look."""
    time.sleep(5)
    assert graded["json_path"].read_text() == graded["json_text"]
    alive = []
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().decode("utf-8", "replace")
        except OSError:
            continue
        if any(marker in cmdline for marker in MARKERS):
            alive.append((pid, cmdline[:120]))
    assert alive == []


# ------------------------------------------------------------------- the defences, one by one

def _python(code: str) -> list[str]:
    import sys
    return [sys.executable, "-c", textwrap.dedent(code)]


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


ESCAPE = """
    import os, sys, time
    pid = os.fork()
    if pid == 0:
        os.setsid()                          # a new session: killpg on the child misses it
        if os.fork() == 0:
            with open(sys.argv[1], "w") as fh:
                fh.write(str(os.getpid()))
            time.sleep(60)                   # torchdrill-attack-lingering
        os._exit(0)
    os.waitpid(pid, 0)
    {after}
"""


def _escaped_pid(path: Path) -> int:
    for _ in range(200):
        if path.exists() and path.read_text():
            return int(path.read_text())
        time.sleep(0.02)
    raise AssertionError("the escaping grandchild never started")


def test_child_kills_its_orphaned_descendants(tmp_path):
    """The grading child is a subreaper: a double-forked, setsid'd grandchild is reparented to
    it, and procs.kill_descendants() (run before the child exits) kills it."""
    import subprocess
    marker = tmp_path / "pid"
    after = ("import ctypes; ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)\n"
             "    from grader.isolation import procs\n"
             "    time.sleep(0.3); procs.kill_descendants()")
    code = ESCAPE.replace("import os, sys, time", "import os, sys, time, ctypes\n"
                          "    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)").format(after=after)
    subprocess.run(_python(code) + [str(marker)], timeout=60, check=True)
    pid = _escaped_pid(marker)
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid)


def test_parent_sweeps_what_the_watchdog_saw(tmp_path):
    """runner.sweep kills processes that left the child's session: the child is a subreaper
    (sandbox.apply_limits), so they stay its descendants and the watchdog records them (a
    child under a private uid is swept by uid as well)."""
    import subprocess
    import threading

    from grader.isolation import runner
    marker = tmp_path / "pid"
    code = ESCAPE.replace("import os, sys, time", "import os, sys, time, ctypes\n"
                          "    ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)")
    proc = subprocess.Popen(_python(code.format(after="time.sleep(1.5)")) + [str(marker)],
                            start_new_session=True)
    run, stop = runner.ChildRun(), threading.Event()
    watchdog = threading.Thread(target=runner._watchdog, args=(proc.pid, None, 64, run, stop))
    watchdog.start()
    pid = _escaped_pid(marker)
    time.sleep(0.6)                       # a few watchdog rounds while the parent still lives
    stop.set()
    watchdog.join()
    assert pid in run.seen
    runner.sweep(proc.pid, None, run.seen)
    proc.wait(timeout=30)
    for _ in range(100):
        if not _alive(pid):
            break
        time.sleep(0.05)
    assert not _alive(pid)


def test_watchdog_bounds_the_number_of_processes():
    import subprocess
    import threading

    from grader.isolation import runner
    code = """
        import os, time
        for _ in range(12):
            if os.fork() == 0:
                time.sleep(30)
                os._exit(0)
        time.sleep(30)
    """
    proc = subprocess.Popen(_python(code), start_new_session=True)
    run, stop = runner.ChildRun(), threading.Event()
    watchdog = threading.Thread(target=runner._watchdog, args=(proc.pid, None, 5, run, stop))
    watchdog.start()
    try:
        proc.wait(timeout=30)
    finally:
        stop.set()
        watchdog.join()
    assert run.limit == "started more than 5 processes"
    assert "started more than 5 processes and was killed" in runner.describe_exit(run, 10)


def test_sealed_stand_in_leads_nowhere():
    import os

    from grader import sandbox
    stand_in = sandbox.seal(os.getpid, lambda args, kwargs: "nope" if args else None)
    assert stand_in() == os.getpid()
    with pytest.raises(PermissionError, match="nope"):
        stand_in(1)
    assert set(stand_in.__globals__) <= {"__builtins__", "_send", "_lock", "stand_in"}
    assert stand_in.__closure__ is None and stand_in.__defaults__ is None


def test_snapshot_restores_patched_bindings():
    import builtins

    import torch

    from grader import sandbox
    snap = sandbox.Snapshot.take()
    real_allclose, real_type = torch.allclose, builtins.type
    try:
        torch.allclose = lambda *a, **k: True
        builtins.type = lambda *a: int
        torch.Tensor.relu = lambda self: self          # an addition shadowing the C method
        changed = snap.verify_and_restore(full=False)
    finally:
        torch.allclose, builtins.type = real_allclose, real_type
        if "relu" in torch.Tensor.__dict__:
            del torch.Tensor.relu
    assert {"torch.allclose", "builtins.type", "torch.Tensor.relu (added)"} <= set(changed)
    assert snap.verify_and_restore() == []


def test_memory_message_names_the_limit():
    from grader.checks.describe import memory_message
    err = RuntimeError("[enforce fail at alloc_cpu.cpp:118] DefaultCPUAllocator: can't "
                       "allocate memory: you tried to allocate 21474836480 bytes.")
    assert memory_message(err, 2048) == ("exceeded the 2 GiB memory limit (tried to allocate "
                                         "20 GiB): RuntimeError")
    assert memory_message(MemoryError(), 2048).startswith("exceeded the 2 GiB memory limit")
    assert memory_message(ValueError("x"), 2048) == ""
