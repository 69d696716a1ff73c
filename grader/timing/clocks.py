"""The clocks: one sample per call on CPU, CUDA events with an L2 flush on CUDA."""

from __future__ import annotations

import contextlib
import gc
import signal
import threading

import torch

from grader import harness as h
from grader.timing import CPU_ROUNDS, FLUSH_BYTES, TARGET_REL_STDERR
from grader.timing.state import _apply
from grader.timing.stats import rel_stderr
from grader.timing import MAX_RUNS, MIN_RUNS
from grader.timing.references import _CUDA_API, _perf_counter


# --------------------------------------------------------------------------- bounding one call

class _TooSlow(BaseException):
    """Raised by SIGALRM inside a candidate call that went over CALL_LIMIT_S."""


@contextlib.contextmanager
def _deadline(seconds: float | None):
    usable = (seconds and hasattr(signal, "setitimer")
              and threading.current_thread() is threading.main_thread())
    if not usable:
        yield
        return

    def on_alarm(signum, frame):
        raise _TooSlow()

    old = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


# ----------------------------------------------------------------------------------- the clocks

class CudaClock:
    """Times one call on CUDA: sync, flush L2, start event, call, sync, end event.

    Every piece is injectable so the sequence can be tested without a GPU."""

    def __init__(self, *, event=None, record=None, elapsed=None, event_sync=None,
                 synchronize=None, flush_buffer=None, device: str = "cuda"):
        self.event = event or (lambda: _CUDA_API["event"](enable_timing=True))
        self.record = record or _CUDA_API["record"]
        self.elapsed = elapsed or _CUDA_API["elapsed"]
        self.event_sync = event_sync or _CUDA_API["event_sync"]
        self.synchronize = synchronize or _CUDA_API["synchronize"]
        if flush_buffer is None:
            flush_buffer = torch.empty(FLUSH_BYTES // 4, dtype=torch.int32, device=device)
        self.flush_buffer = flush_buffer

    def flush(self) -> None:
        self.flush_buffer.zero_()

    def time_call(self, fn, args, kwargs, flush: bool = True) -> float:
        """Milliseconds of one call; inputs were prepared by the caller (outside the region)."""
        self.synchronize()
        if flush:
            self.flush()
        start, end = self.event(), self.event()
        self.record(start)
        fn(*args, **kwargs)
        self.synchronize()          # before the end event: work on other streams counts
        self.record(end)
        self.event_sync(end)
        return float(self.elapsed(start, end))


def measure_cuda(sides: list, clock: CudaClock, budget_s: float, state: dict,
                 warmup: int = 3) -> tuple[dict, dict]:
    """({name: [ms, ...]}, {name: calls}) for sides = [(name, fn, pool), ...]: warm-up of every
    side, then one call per side in turn (order reversed every round) until each side has
    MIN_RUNS and a std-error under 0.1 % of its mean, or MAX_RUNS, or the budget is spent."""
    start = _perf_counter()
    for name, fn, pool in sides:                       # warm up every side before timing any
        with _guard(name):
            for _ in range(warmup):
                args, kwargs = pool.next()
                clock.time_call(fn, args, kwargs, flush=False)
    times = {name: [] for name, _, _ in sides}
    with _gc_paused():
        _alternate(sides, clock, start + budget_s, state, times)
    return times, {name: len(t) for name, t in times.items()}


def _alternate(sides, clock, deadline: float, state: dict, times: dict) -> None:
    done = {name: False for name, _, _ in sides}
    i = 0
    while not all(done.values()):
        order = sides if i % 2 == 0 else list(reversed(sides))
        for name, fn, pool in order:
            if done[name]:
                continue
            _apply(state)
            args, kwargs = pool.next()
            with _guard(name):
                times[name].append(clock.time_call(fn, args, kwargs))
            del args, kwargs
            runs = len(times[name])
            spent = _perf_counter() > deadline
            if runs >= MAX_RUNS or (runs >= MIN_RUNS and
                                    (spent or rel_stderr(times[name]) < TARGET_REL_STDERR)):
                done[name] = True
        i += 1


@contextlib.contextmanager
def _gc_paused():
    """No collector pause inside a timed call."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _cpu_call_ms(fn, pool) -> float:
    """One CPU sample, taken the way timeit.Timer.timeit(1) takes it (inputs fetched outside
    the timed region, perf_counter around the call) but with the clock captured here:
    timeit's class, like torch.utils.benchmark.Timer, is candidate-patchable."""
    args, kwargs = pool.next()
    t0 = _perf_counter()
    fn(*args, **kwargs)
    return (_perf_counter() - t0) * 1e3


def _guard(name: str):
    """The forbidden-op kernel trap around the candidate's calls (not the reference's: the
    reference is usually the very op the candidate may not call). It replaces only the
    forbidden kernels, so everything else runs at full speed."""
    return h.forbidden_trap() if name == "candidate" else contextlib.nullcontext()


def measure_cpu(sides: list, budget_s: float, state: dict, rounds: int = CPU_ROUNDS) -> dict:
    """({name: [ms per call, ...]}, {name: calls}) in rounds alternating the order. One sample
    per call (`_cpu_call_ms`), on fresh rescaled inputs, so no call reuses an input object or
    values. Not torch.utils.benchmark.Timer: its timeit() adds two unmeasured warm-up calls on
    the *same* inputs to every sample, and blocked_autorange times blocks of calls on one
    input set, which a cache keyed by identity or content wins. Threads are pinned by `state`.
    Each side is warmed up (2 calls) before the first side's first measurement."""
    # The budget is wall time: clones, Python overhead and warm-up count against it, so every
    # block gets a share of what is left (and at least one call).
    deadline = _perf_counter() + budget_s
    for name, fn, pool in sides:                       # warm up every side before timing any
        _apply(state)
        with _guard(name):
            for _ in range(2):
                args, kwargs = pool.next()
                fn(*args, **kwargs)
    times = {name: [] for name, _, _ in sides}
    blocks_left = len(sides) * rounds
    for r in range(rounds):
        order = sides if r % 2 == 0 else list(reversed(sides))
        for name, fn, pool in order:
            block_end = _perf_counter() + max(0.7 * (deadline - _perf_counter()) / blocks_left,
                                              0.005)
            _apply(state)
            with _gc_paused(), _guard(name):
                while True:
                    times[name].append(_cpu_call_ms(fn, pool))
                    if _perf_counter() >= block_end:
                        break
            blocks_left -= 1
    return times, {name: len(t) for name, t in times.items()}


def _time_few(fn, pool, device: str, clock, state: dict, count: int) -> list[float]:
    """A slow candidate: `count` (>= 1) single calls, each timed alone (perf_counter on CPU,
    events on CUDA), inputs prepared outside the timed region."""
    out = []
    for _ in range(max(1, count)):
        _apply(state)
        with _guard("candidate"):
            if device == "cuda":
                args, kwargs = pool.next()
                out.append(clock.time_call(fn, args, kwargs))
            else:
                out.append(_cpu_call_ms(fn, pool))
    return out
