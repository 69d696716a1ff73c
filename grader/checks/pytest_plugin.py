"""The pytest plugin inside the grading child: runs each check and reports it to the parent.

Messages are built from the exception alone (never pytest's traceback, which would show the
hidden checks' source to the candidate).

A check passes only on positive evidence gathered in this plugin's own frames: our
`pytest_pyfunc_call` called the check function and saw it return, no phase reported a
failure, and the sandbox found nothing changed after it (docs/security.md). Candidate code that
patches pytest's runner, report classes or hooks cannot turn a failure into a pass: at worst
it stops the evidence from being gathered, which fails the check.
"""

from __future__ import annotations

import gc
import time

import pytest
from _pytest.runner import runtestprotocol as _runtestprotocol

from grader import harness, sandbox
from grader.kinds import Event, Flag

MESSAGE_LIMIT = 2000


def check_name(item) -> str:
    """First docstring line of the check, else its function name made readable."""
    doc = (getattr(item, "function", None).__doc__ or "").strip() if hasattr(item, "function") else ""
    name = doc.splitlines()[0].strip() if doc else item.originalname.removeprefix("test_").replace("_", " ")
    callspec = getattr(item, "callspec", None)
    return f"{name} [{callspec.id}]" if callspec else name


def check_weight(item) -> float:
    marker = item.get_closest_marker("points")
    return float(marker.args[0]) if marker and marker.args else 1.0


def failure_message(excinfo) -> tuple[str, str]:
    """(outcome, candidate-facing message) for a failed phase."""
    exc = excinfo.value
    if isinstance(exc, pytest.skip.Exception):
        return "skipped", harness.safe_str(getattr(exc, "msg", exc), MESSAGE_LIMIT)
    if isinstance(exc, AssertionError):
        outcome, text = "failed", harness.safe_str(exc, MESSAGE_LIMIT) or "check failed"
    else:
        outcome = "error"
        text = f"{harness._type_name(exc)}: {harness.safe_str(exc, MESSAGE_LIMIT)}"
    notes = getattr(exc, "__notes__", None)
    if isinstance(notes, list):
        extra = " ".join(harness.safe_str(n, 500) for n in notes[:3]
                         if isinstance(n, str) and "Falsifying" in n)
        if extra:
            text = f"{text} ({extra})"
    return outcome, text[:MESSAGE_LIMIT]


class ReportingPlugin:
    def __init__(self, channel, config: dict):
        self.channel = channel
        self.config = config
        self.state: dict[str, dict] = {}
        self.current = None           # the item this plugin is running
        self.box = None               # the sandbox, once locked down

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "points(n): weight of a check in the exercise's score")
        _hypothesis_profile()

    @staticmethod
    def node_id(item) -> str:
        return "test_hidden.py::" + item.name

    def pytest_collection_finish(self, session):
        checks = [{"id": self.node_id(i), "name": check_name(i), "weight": check_weight(i)}
                  for i in session.items]
        self.channel.emit(Event.COLLECTED, checks=checks)
        self.box = sandbox.lock_down(self.config)   # from here on, candidate code may run
        harness.configure(sandbox=self.box)
        if getattr(self.box, "note", ""):
            self.channel.emit(Event.FLAG, kind=Flag.SANDBOX, detail=self.box.note)

    def pytest_collectreport(self, report):
        if report.failed:
            self.channel.emit(Event.COLLECT_ERROR, detail=harness.safe_str(report.longreprtext, 2000))

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_protocol(self, item, nextitem):
        """Run one check ourselves (first result wins: pytest's own runner is not called)."""
        if self.current is not None:          # re-entered: candidate code drove pytest
            self._tampering(f"{self.node_id(item)} was started from inside another check")
            return True
        node = self.node_id(item)
        self._between_checks(f"before {node}")
        state = {"outcome": "passed", "message": "", "returned": False,
                 "start": time.monotonic()}
        self.state[item.nodeid] = state
        self.current = item
        self.channel.emit(Event.START, id=node)
        try:
            _runtestprotocol(item, nextitem=nextitem, log=False)
        except BaseException as exc:  # noqa: BLE001 - KeyboardInterrupt or worse from a phase
            if state["outcome"] == "passed":
                state["outcome"] = "error"
                state["message"] = f"the check was interrupted: {harness._type_name(exc)}"
        finally:
            self.current = None
        problems = self._between_checks(f"after {node}")
        if problems and state["outcome"] == "passed":
            state["outcome"] = "failed"
            state["message"] = ("your code changed what the grader relies on "
                                f"({', '.join(problems[:4])}); the grader undid it, and "
                                "tampering scores the exercise zero")
        if state["outcome"] == "passed" and not state["returned"]:
            state["outcome"] = "error"
            state["message"] = "the check did not run to completion"
        if self.box is not None:           # what the sandbox refused, for the interviewer
            emit_denials(self.box, self.channel)
        note = harness.take_notes()
        message = state["message"]
        if note:
            message = f"{message} {note}".strip() if message else note
        self.channel.emit(Event.RESULT, id=node, outcome=state["outcome"],
                          message=message[:MESSAGE_LIMIT * 2],
                          duration=round(time.monotonic() - state["start"], 3))
        return True

    def _between_checks(self, where: str) -> list[str]:
        """Collect candidate garbage now (its finalizers run here, not inside the next check),
        then verify and restore everything the checks rely on."""
        if self.box is None:
            return []
        gc.collect()
        problems = self.box.verify(full=True)
        if problems:
            self._tampering(f"{where}: {', '.join(problems[:6])}")
        return problems

    def _tampering(self, detail: str) -> None:
        self.channel.emit(Event.FLAG, kind=Flag.TAMPERING, detail=detail[:500])

    @pytest.hookimpl(tryfirst=True)
    def pytest_pyfunc_call(self, pyfuncitem):
        """Call the check function ourselves: its return is our evidence that it passed."""
        if pyfuncitem is not self.current:
            raise RuntimeError("torchdrill: a check was run outside the grader's protocol")
        funcargs = pyfuncitem.funcargs
        testargs = {arg: funcargs[arg] for arg in pyfuncitem._fixtureinfo.argnames}
        state = self.state[pyfuncitem.nodeid]
        pyfuncitem.obj(**testargs)
        state["returned"] = True
        return True

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        state = self.state.get(item.nodeid)
        if state is None or item is not self.current:
            return report
        if call.excinfo is not None and state["outcome"] == "passed":
            outcome, message = failure_message(call.excinfo)
            if call.when != "call" and outcome == "failed":
                outcome = "error"
            state["outcome"], state["message"] = outcome, message
            state["returned"] = state["returned"] and call.when != "call"
        return report


def emit_denials(box, channel) -> None:
    """The sandbox's refusals since the last report, as sandbox-denied flags; attempts to load
    or run native code as native-code flags (which zero the exercise)."""
    for text in box.take_denials():
        channel.emit(Event.FLAG, kind=Flag.SANDBOX_DENIED, detail=text[:300])
    for text in box.take_native():
        channel.emit(Event.FLAG, kind=Flag.NATIVE_CODE, detail=text[:300])
    for text in box.take_forbidden_calls():
        channel.emit(Event.FLAG, kind=Flag.FORBIDDEN_API, detail=text[:300])
    for text in box.take_grader_imports():
        channel.emit(Event.FLAG, kind=Flag.GRADER_IMPORT, detail=text[:300])


def _hypothesis_profile() -> None:
    try:
        from hypothesis import HealthCheck, Phase, settings
    except ImportError:
        return
    settings.register_profile(
        "torchdrill", deadline=None, database=None, print_blob=False, derandomize=False,
        suppress_health_check=list(HealthCheck),
        # no explain phase: it re-runs failing examples under a tracer and imports libcst,
        # which costs seconds per failing check and adds nothing for the candidate
        phases=(Phase.explicit, Phase.reuse, Phase.generate, Phase.shrink),
    )
    settings.load_profile("torchdrill")
