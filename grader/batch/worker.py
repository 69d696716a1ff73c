"""The cluster worker's side of a batch: take the client's catalogue (verified), grade a submission sent as data."""

from __future__ import annotations

import os
import threading
from contextlib import contextmanager
from pathlib import Path

from grader.catalogue import archive, project_root

# catalogue hash -> its verified root on this machine (filled by prepare, once per worker)
_ROOTS: dict[str, Path] = {}


class _RootGate:
    """The catalogue root is process-wide (TORCHDRILL_ROOT: the engine and the runner read it
    at call time), so tasks of one catalogue share the process and a task of another waits
    until they are done: two batches on one worker can never mix their catalogues."""

    def __init__(self):
        self._cond = threading.Condition()
        self._current: str | None = None
        self._users = 0

    @contextmanager
    def using(self, root: Path):
        root = str(root)
        with self._cond:
            while self._users and self._current != root:
                self._cond.wait()
            if self._current != root or os.environ.get("TORCHDRILL_ROOT") != root:
                os.environ["TORCHDRILL_ROOT"] = root
                self._current = root
            self._users += 1
        try:
            yield
        finally:
            with self._cond:
                self._users -= 1
                self._cond.notify_all()


ROOT_GATE = _RootGate()


# the catalogue this worker process was started with, before any batch switched the root
_INSTALLED = project_root()


def prepare(expected: str, data: bytes, client_version: str) -> dict:
    """Run on every worker before a batch (Client.run): make catalogue `expected` available,
    from the installed one or `data`. {"ok": True, "root": path} or {"ok": False, "reason": line}."""
    try:
        root = archive.ensure(expected, data, client_version=client_version, installed=_INSTALLED)
    except archive.CatalogueMismatch as exc:
        return {"ok": False, "reason": str(exc)}
    except Exception as exc:  # noqa: BLE001 - a worker that cannot prepare is refused, not fatal
        return {"ok": False, "reason": f"{type(exc).__name__}: {exc}".splitlines()[0][:300]}
    _ROOTS[expected] = root
    return {"ok": True, "root": str(root)}


def grade_task(work, payload: dict, options: dict) -> dict:
    """One candidate on this worker, with exactly the catalogue the client named: re-hashed
    before every grade, so a copy changed since `prepare` is never used."""
    expected = options["catalogue"]
    root = _ROOTS.get(expected)
    if root is None or archive.catalogue_hash(root) != expected:
        _ROOTS.pop(expected, None)
        root = archive.ensure(expected, None, installed=_INSTALLED)   # or CatalogueMismatch
        _ROOTS[expected] = root
    with ROOT_GATE.using(root):
        _announce(options)
        return work(payload, options)


def _announce(options: dict) -> None:
    """Tell the client this candidate's grading starts now (the scheduler only knows which
    worker a task is queued on): an event on the batch's topic, for its progress line."""
    if not options.get("events"):
        return
    try:
        from distributed import get_worker
        get_worker().log_event(options["events"], {"name": options["name"]})
    except Exception:  # noqa: BLE001 - progress only: never costs a candidate its grade
        pass
