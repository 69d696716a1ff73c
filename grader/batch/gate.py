"""The batch-wide timing gate: correctness runs share the machine, timing runs have it alone."""

from __future__ import annotations

import threading
from contextlib import contextmanager


# ----------------------------------------------------------------------------- the timing gate

class Gate:
    """Many correctness runs at once, or one timing run alone (waiting timers go first)."""

    def __init__(self):
        self._cond = threading.Condition()
        self._shared = 0
        self._exclusive = False
        self._waiting = 0

    @contextmanager
    def shared(self):
        with self._cond:
            while self._exclusive or self._waiting:
                self._cond.wait()
            self._shared += 1
        try:
            yield
        finally:
            with self._cond:
                self._shared -= 1
                self._cond.notify_all()

    @contextmanager
    def exclusive(self):
        with self._cond:
            self._waiting += 1
            while self._exclusive or self._shared:
                self._cond.wait()
            self._waiting -= 1
            self._exclusive = True
        try:
            yield
        finally:
            with self._cond:
                self._exclusive = False
                self._cond.notify_all()


GATE = Gate()   # one per process: a worker process is one machine's timing gate
