"""The grading child: runs one exercise's hidden checks (or its timing) on candidate code.

Started by isolation.runner as `python -I -m grader.isolation.child` (or forked by the zygote) in a new process session, with its
working directory a fresh temporary copy of the candidate's files. It reads its configuration
from stdin (never argv or the environment, where candidate code could read the secret seed),
then:

1. opens the private result channel (an inherited pipe, moved to a non-inheritable fd) and
   imports torch, pytest and grader.harness, capturing the trusted comparison functions;
2. runs pytest on the hidden checks with a pinned configuration: an empty ini file of ours,
   `--noconftest`, no plugin autoload, no cache, no assertion rewriting;
3. after collection (before any candidate code runs) reports the expected checks, then
   locks the sandbox (grader.sandbox: hidden modules, audit hook, integrity snapshot,
   unprivileged uid);
4. reports each check's outcome as it finishes, with a candidate-facing message.

In timing mode it locks the sandbox, then imports the candidate module, verifies and times it
(grader.timing). Every event carries the run's nonce; the parent ignores anything else on the
channel. The nonce and the channel's descriptor live only inside a sealed writer
(grader.sandbox.seal): no Python object candidate code can reach holds them, and the writer
refuses any event but a flag while candidate code is on the stack.
"""

from __future__ import annotations

import json
import re
import os
import sys
import time

from grader.isolation import preload, procs, protocol
from grader.kinds import Event, Flag
from grader.sandbox.sealing import seal   # stdlib only: cheap, and loaded by the zygote
from grader.sandbox.audit import current as _current_sandbox


class Channel:
    """JSON lines to the parent over a private pipe, through a sealed writer."""

    def __init__(self, fd: int, nonce: str):
        private = os.dup(fd)              # a fresh, non-inheritable descriptor (PEP 446)
        os.close(fd)
        self._send = seal(_writer(private, nonce), _gate)

    def emit(self, event: str, **fields) -> None:
        try:
            self._send(event, fields)
        except PermissionError:
            pass                           # refused: candidate code tried to report


def _writer(fd: int, nonce: str):
    write, dumps = os.write, json.dumps

    def emit(event: str, fields: dict) -> None:
        fields = dict(fields, event=event, nonce=nonce)
        data = (dumps(fields, default=str) + "\n").encode("utf-8", "replace")
        while data:
            data = data[write(fd, data):]
    return emit


def _gate(args, kwargs):
    """Before lock-down anything goes; after it, only flags while candidate code runs."""
    box = _current_sandbox()
    if box is None or (args and args[0] == Event.FLAG) or not box.candidate_running():
        return None
    return "only the grader reports results"


def main() -> None:
    """A fresh interpreter (no zygote): load what a forked child inherits, then the same flow."""
    config = protocol.read_config()
    preload.import_preload(config.get("device", "cpu"))
    run(config)


def run(config: dict) -> None:
    """The child flow after the config is read (the zygote's forked children enter here)."""
    channel = Channel(config.pop("fd"), config.pop("nonce"))
    from grader import sandbox
    sandbox.apply_limits(config)
    if config.get("device") == "cpu":
        os.environ["TRITON_INTERPRET"] = "1"   # as the preload set it; read again at launch
    if config["mode"] == "public":
        _run_public(config, channel)
        _finish(channel)
    import torch  # noqa: F401 - imported before candidate code, like the harness
    from grader import harness
    candidate_dir = config["candidate_dir"]
    harness.configure(
        forbidden_ops=tuple(config.get("forbidden_ops", ())),
        candidate_dir=candidate_dir + os.sep,
        on_flag=sandbox.opaque(lambda kind, detail: channel.emit(Event.FLAG, kind=kind,
                                                                  detail=detail)),
        seed=config.pop("seed"),
        hidden_data=_read_hidden_data(config),
        device=config.get("device", "cpu"),
        memory_limit_mb=int(config.get("memory_limit_mb", 0)),
    )
    if config.get("forbidden_ops"):
        _warm_dispatch_mode()
    torch.set_num_threads(max(1, int(config.get("threads", 1))))
    channel.emit(Event.ENV, **_environment(config))
    sys.path.insert(0, candidate_dir)
    if config["mode"] == "timing":
        _run_timing(config, channel)
    else:
        _run_checks(config, channel)
    _finish(channel)


def _finish(channel: Channel) -> None:
    channel.emit(Event.DONE)
    procs.kill_descendants()             # nothing the candidate started outlives the child
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)  # skip interpreter teardown: candidate atexit handlers and threads get no say


def _run_public(config: dict, channel: Channel) -> None:
    """`validate`'s public case: the exercise's sample tests on the reference solution, the way
    a candidate runs them (`pytest` in the exercise folder), in this already warm interpreter.
    Only our own code runs here (the tests and the reference), so there is no lock-down."""
    import pytest
    folder = config["candidate_dir"]
    sys.path.insert(0, folder)
    code = pytest.main([*config["public_tests"], "-q", "-p", "no:cacheprovider",
                        "--rootdir", folder])
    channel.emit(Event.SESSION, exit_code=int(code))


def _warm_dispatch_mode() -> None:
    """Run one op under the forbidden-op guard now, before the sandbox is locked and the
    snapshot taken: whatever its first use imports or caches is then in place before the
    candidate's first call (about 1 ms; it would be seconds if the guard let torch import
    torch._dynamo, see checks/guard.py)."""
    import torch
    from grader.checks.guard import ForbiddenOpGuard
    with ForbiddenOpGuard((), "", None, RuntimeError):
        torch.zeros(1).add_(1)


def _read_hidden_data(config: dict) -> dict:
    data = {}
    for name, path in config.get("hidden_data", {}).items():
        with open(path, "rb") as fh:
            data[name] = fh.read()
    return data


def _environment(config: dict) -> dict:
    import platform

    import torch
    device = config.get("device", "cpu")
    if device == "cuda":
        name = torch.cuda.get_device_name(0)
    else:
        name = cpu_name()
    return {"python": platform.python_version(), "torch": torch.__version__, "device": device,
            "device_name": name, "threads": torch.get_num_threads()}


def cpu_name() -> str:
    import platform
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _run_checks(config: dict, channel: Channel) -> None:
    import pytest

    from grader.checks.pytest_plugin import ReportingPlugin
    plugin = ReportingPlugin(channel, config)
    args = [
        config["hidden_test"],
        "-c", config["ini_file"], "--rootdir", config["checks_dir"],
        "--noconftest", "-p", "no:cacheprovider", "-p", "no:stepwise", "-p", "no:doctest",
        "-p", "no:pastebin", "-p", "no:junitxml", "-p", "no:legacypath",
        # these keep the pytest config in module globals while a check runs
        "-p", "no:assertion", "-p", "no:logging",
        "-s", "-q", "--no-header", "-W", "ignore",
        "--import-mode=prepend",
    ]
    if config.get("only"):
        # validate's wrong variants: only the checks their docstrings name. A -k expression
        # matches substrings, so "test_random_*" keeps its prefix and may select a few more.
        names = sorted({re.sub(r"[^A-Za-z0-9_]", "", n.split("[")[0].split("*")[0])
                        for n in config["only"]} - {""})
        args += ["-k", " or ".join(names)]
    start = time.monotonic()
    try:
        code = pytest.main(args, plugins=[plugin])
    except BaseException as exc:  # noqa: BLE001 - candidate code may raise anything
        channel.emit(Event.CRASH, detail=f"{type(exc).__name__} escaped pytest")
        return
    channel.emit(Event.SESSION, exit_code=int(code), seconds=round(time.monotonic() - start, 3))


def _run_timing(config: dict, channel: Channel) -> None:
    from grader import harness, sandbox
    from grader.catalogue import load_exercise
    from grader.timing.run import time_exercise
    from grader.checks.pytest_plugin import emit_denials
    from pathlib import Path
    from grader.timing.allocator import pin_malloc
    exercise = load_exercise(Path(config["exercise_dir"]))
    pin_malloc()                                   # before lock_down: it needs ctypes
    box = sandbox.lock_down(config)                # from here on, candidate code may run
    harness.configure(sandbox=box)
    try:
        module = harness.candidate(config["module"])
        rows = time_exercise(exercise.timing, module, device=config["device"],
                             threads=int(config.get("threads", 1)), requires=exercise.requires)
    except Exception as exc:  # noqa: BLE001
        channel.emit(Event.TIMING_ERROR, detail=f"{type(exc).__name__}: {harness.safe_str(exc)}")
        return
    for row in rows:
        if row.get("suspicious"):
            channel.emit(Event.FLAG, kind=Flag.SUSPICIOUS_SPEEDUP,
                         detail=f"{row['case']}: {row['speedup']:.1f}x faster than PyTorch")
    problems = box.verify(full=True)               # whatever the timed calls changed
    if problems:
        channel.emit(Event.FLAG, kind=Flag.TAMPERING,
                     detail=f"during timing: {', '.join(problems[:6])}"[:500])
    emit_denials(box, channel)
    channel.emit(Event.TIMING, rows=rows)   # the parent scores them (engine.scoring)


if __name__ == "__main__":
    main()
