"""The pytest plugin inside the grading child: reports checks to the parent as they finish.

Messages are built from the exception alone (never pytest's traceback, which would show the
hidden checks' source to the candidate).
"""

from __future__ import annotations

import time

import pytest

from grader import harness, sandbox

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
        text = f"{type(exc).__name__}: {harness.safe_str(exc, MESSAGE_LIMIT)}"
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

    def pytest_configure(self, config):
        config.addinivalue_line("markers", "points(n): weight of a check in the exercise's score")
        _hypothesis_profile()

    @staticmethod
    def node_id(item) -> str:
        return "test_hidden.py::" + item.name

    def pytest_collection_finish(self, session):
        checks = [{"id": self.node_id(i), "name": check_name(i), "weight": check_weight(i)}
                  for i in session.items]
        self.channel.emit("collected", checks=checks)
        sandbox.lock_down(self.config)   # from here on, candidate code may run

    def pytest_collectreport(self, report):
        if report.failed:
            self.channel.emit("collect-error", detail=harness.safe_str(report.longreprtext, 2000))

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item, call):
        report = yield
        state = self.state.setdefault(item.nodeid, {"outcome": "passed", "message": "",
                                                    "start": time.monotonic()})
        if call.excinfo is not None and state["outcome"] == "passed":
            outcome, message = failure_message(call.excinfo)
            if call.when != "call" and outcome == "failed":
                outcome = "error"
            state["outcome"], state["message"] = outcome, message
        if call.when == "teardown":
            note = harness.take_notes()
            message = state["message"]
            if note:
                message = f"{message} {note}".strip() if message else note
            self.channel.emit("result", id=self.node_id(item), outcome=state["outcome"],
                              message=message[:MESSAGE_LIMIT * 2],
                              duration=round(time.monotonic() - state["start"], 3))
        return report


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
