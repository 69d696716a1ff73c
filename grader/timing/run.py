"""The API the timing child calls: every case of an exercise, one row each."""

from __future__ import annotations

from grader import harness as h
from grader.timing import CPU_BUDGET_S, CUDA_BUDGET_S, CALL_LIMIT_S
from grader.timing.measure import time_case
from grader.timing.references import resolve
from grader.timing.clocks import CudaClock
from grader.timing.measure import _blank_row
from grader.catalogue import timing_skip_reason as skip_reason
from grader.timing.references import _import_threads
from grader.timing.state import _apply, _snapshot, tampered


# ----------------------------------------------------------------------------------- the API

def time_exercise(spec, module, device: str = "cpu", threads: int | None = None, *,
                  budget_s: float | None = None, seed: int | None = None,
                  clock: CudaClock | None = None, call_limit_s: float | None = CALL_LIMIT_S,
                  requires=()):
    """Rows (the result JSON's `timings` items) for every case of `spec` (a catalogue.Timing).

    `module` is the candidate's imported module; `spec.entry` names the function to time.
    Global torch state is restored on return."""
    device = "cuda" if str(device).startswith("cuda") else "cpu"
    threads = int(threads or _import_threads)
    reason = skip_reason(requires, device)
    if reason:
        # Triton's interpreter is a correctness tool: timing it would only burn the budget.
        # (The engine does not start timing here at all: this is the child's own guard.)
        return [dict(_blank_row(c.name, device, threads), skipped=reason) for c in spec.cases]
    budget_s = float(budget_s or (CUDA_BUDGET_S if device == "cuda" else CPU_BUDGET_S))
    seed = h.seed() + 4242 if seed is None else int(seed)
    outer = _snapshot()
    try:
        try:
            fn = getattr(module, spec.entry)
            if not callable(fn):
                raise TypeError(f"{spec.entry} is a {type(fn).__name__}, not a function")
        except Exception as exc:  # noqa: BLE001 - the candidate's module, anything goes
            msg = f"cannot time {spec.entry}: {h.safe_str(exc)}"
            return [dict(_blank_row(c.name, device, threads), error=msg) for c in spec.cases]
        try:
            reference = resolve(spec.reference)
        except Exception as exc:  # noqa: BLE001
            msg = f"grader: cannot resolve the reference {spec.reference}: {exc}"
            return [dict(_blank_row(c.name, device, threads), error=msg) for c in spec.cases]
        if device == "cuda" and clock is None:
            clock = CudaClock()
        rows = []
        for case in spec.cases:
            rows.append(time_case(spec, case, fn, reference, device=device, threads=threads,
                                  budget_s=budget_s, seed=seed, clock=clock,
                                  call_limit_s=call_limit_s))
        changed = tampered()
        if changed:
            for row in rows:
                row["suspicious"] = row["speedup"] is not None
                row["note"] = ("timer functions were replaced during the run: "
                               + ", ".join(changed) + " (the grader used its own copies)")
        return rows
    finally:
        _apply(outer)
