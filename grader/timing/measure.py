"""One timed case: correctness first, warm-up, alternating measurement, spot checks, a row."""

from __future__ import annotations

import gc
import math

import torch

from grader import harness as h
from grader.timing.flops import eval_flops, flop_names
from grader.timing.pool import InputPool, Recorder, _make_pool
from grader.timing.stats import summarize
from grader.timing import CALL_LIMIT_S, NOISY_IQR, SLOW_FRACTION, SUSPICIOUS_SPEEDUP
from grader.timing.clocks import _TooSlow, _deadline, _time_few, measure_cpu, measure_cuda
from grader.timing.references import _CUDA_API, _perf_counter, _tensor_type
from grader.timing.state import _apply, timing_state


# ------------------------------------------------------------------------------------ one case

def _blank_row(case_name: str, device: str, threads: int) -> dict:
    return {"case": case_name, "device": device, "threads": threads, "candidate_ms": None,
            "reference_ms": None, "speedup": None, "gflops": None, "runs": 0, "iqr_ms": None,
            "reference_gflops": None, "reference_runs": 0, "reference_iqr_ms": None,
            "min_ms": None, "mean_ms": None, "suspicious": False}


def _sync(device: str) -> None:
    if device == "cuda":
        _CUDA_API["synchronize"]()


def _reference_output(reference, pool: InputPool, index: int):
    args, kwargs = pool.copy(index)
    with torch.no_grad():
        return reference(*args, **kwargs)


def tolerances(expected, reduction: int) -> tuple[float, float]:
    """(rtol, atol) for a float32 candidate against a float32 reference at timing sizes.

    harness.tolerances, with atol raised to harness.rms_atol (8 * eps * sqrt(n) * RMS) for
    every floating dtype and reduction size (assert_close's own default does it for reductions
    over low-precision dtypes only)."""
    rtol, atol = h.tolerances(expected.dtype, reduction)
    if isinstance(expected, _tensor_type) and expected.is_floating_point() and expected.numel():
        atol = max(atol, h.rms_atol(expected, reduction))
    return rtol, atol


def _verify(fn, entry: str, expected, pool: InputPool, index: int, device: str,
            reduction: int, call_limit_s):
    """(error message or None, seconds the candidate's call took) on input set `index`."""
    args, kwargs = pool.copy(index)
    t0 = _perf_counter()
    try:
        with _deadline(call_limit_s), torch.no_grad():
            got = h.call(fn, *args, **kwargs)
            _sync(device)
    except _TooSlow:
        return f"one call of {entry} took more than {call_limit_s:.0f} s; not timed", math.inf
    except h.CheckFailed as exc:
        return str(exc), _perf_counter() - t0
    seconds = _perf_counter() - t0
    try:
        _compare(got, expected, h.last_call(), reduction)
    except h.CheckFailed as exc:
        return f"wrong result at timing size: {exc}", seconds
    return None, seconds


def _compare(got, expected, call: str, reduction: int) -> None:
    """harness.assert_close with the timing-size tolerances (raises CheckFailed)."""
    rtol, atol = tolerances(expected, reduction)
    h.assert_close(got, expected, call=call, reduction=reduction, rtol=rtol, atol=atol)


def _spot_check(timed: Recorder, reference, entry: str, device: str, reduction: int):
    """The outputs kept from timed calls against the reference on the same (rebuilt) inputs:
    an error message or None."""
    _sync(device)
    for tag, got in timed.kept:
        args, kwargs = timed.pool.rebuild(tag)
        with torch.no_grad():
            expected = reference(*args, **kwargs)
        try:
            _compare(got, expected, f"a timed call of {entry}", reduction)
        except h.Tampered as exc:                   # tampering, not a mismatch
            return str(exc)
        except h.CheckFailed as exc:
            return (f"{exc} (the output of a call made while timing, checked afterwards: "
                    "outputs must be computed by the call, not cached or finished later)")
    timed.kept.clear()
    return None


def time_case(spec, case, fn, reference, *, device: str, threads: int, budget_s: float,
              seed: int, clock=None, call_limit_s: float | None = CALL_LIMIT_S) -> dict:
    """One row of the result JSON's `timings` for `case` (a catalogue.TimingCase)."""
    row = _blank_row(case.name, device, threads)
    state = timing_state(threads)
    try:
        pool = _make_pool(spec, case.params, device, seed)
    except Exception as exc:  # noqa: BLE001 - an authoring error, reported in the row
        row["error"] = f"grader: cannot build the inputs of case '{case.name}': {exc}"
        return row
    gc.collect()
    _apply(state)

    # Correctness first, with the tolerance scaled to the reduction size.
    try:
        expected = _reference_output(reference, pool, 0)
    except Exception as exc:  # noqa: BLE001
        row["error"] = f"grader: the reference {spec.reference} failed on '{case.name}': {exc}"
        return row
    flops = None
    if spec.flops:
        try:
            flops = eval_flops(spec.flops, flop_names(case.params, pool.sets[0][0], expected))
        except (ValueError, ArithmeticError, IndexError, TypeError, SyntaxError) as exc:
            row["note"] = f"grader: flops expression: {exc}"
    numel = expected.numel() if isinstance(expected, _tensor_type) else 0
    reduction = max(1, int(flops / (2 * numel))) if flops and numel else 1
    error, first_s = _verify(fn, spec.entry, expected, pool, 0, device, reduction, call_limit_s)
    del expected
    if error:
        row["error"] = error
        return row

    timed = Recorder(fn, pool, keep=True)         # keeps spot-checked outputs
    sides = [("candidate", timed, pool), ("reference", Recorder(reference, pool, False), pool)]
    try:
        if first_s > budget_s * SLOW_FRACTION:    # the first call may carry one-time costs
            first_s = min(first_s, _time_few(timed, pool, device, clock, state, 1)[0] / 1e3)
        if first_s > budget_s * SLOW_FRACTION:    # too slow for the full method: a few calls
            ref_side = sides[1:]
            times, calls = (measure_cuda(ref_side, clock, budget_s / 2, state)
                            if device == "cuda" else
                            measure_cpu(ref_side, budget_s / 2, state))
            count = max(1, int(budget_s / 2 / first_s))
            times["candidate"] = _time_few(timed, pool, device, clock, state, count)
            calls["candidate"] = count
            row["note"] = (f"one call took {first_s:.2f} s, over {SLOW_FRACTION:.0%} of the "
                           f"case budget ({budget_s:.1f} s): timed with {count} single call(s)")
        else:
            times, calls = (measure_cuda(sides, clock, budget_s, state) if device == "cuda"
                            else measure_cpu(sides, budget_s, state))
    except Exception as exc:  # noqa: BLE001 - the candidate's code raised while being timed
        row["error"] = f"{spec.entry} raised while being timed: {h.safe_str(exc)}"
        return row
    try:
        timed.one_more()
    except Exception as exc:  # noqa: BLE001 - the candidate's code
        row["error"] = f"{spec.entry} raised after timing: {h.safe_str(exc)}"
        return row
    _apply(state)                                 # whatever the candidate's calls changed
    error = _spot_check(timed, reference, spec.entry, device, reduction)
    if error:
        row["error"] = error
        return row
    last = len(pool.sets) - 1                     # check again: behaviour must not change
    expected = _reference_output(reference, pool, last)
    error, _ = _verify(fn, spec.entry, expected, pool, last, device, reduction, call_limit_s)
    if error:
        row["error"] = f"after timing: {error}"
        return row

    c, r = summarize(times["candidate"]), summarize(times["reference"])
    row.update({"candidate_ms": c["median"], "reference_ms": r["median"],
                "runs": calls["candidate"], "samples": c["runs"], "iqr_ms": c["iqr"],
                "min_ms": c["min"], "mean_ms": c["mean"], "reference_runs": calls["reference"],
                "reference_iqr_ms": r["iqr"]})
    noisy = [name for name, st in (("candidate", c), ("reference", r))
             if st["median"] and st["iqr"] / st["median"] > NOISY_IQR]
    if noisy:
        spread = max(st["iqr"] / st["median"] for st in (c, r) if st["median"])
        row["note"] = (row["note"] + "; " if row.get("note") else "") + (
            f"noisy: IQR up to {spread:.0%} of the median ({', '.join(noisy)}); "
            "was the machine busy?")
    if c["median"] and r["median"]:
        row["speedup"] = r["median"] / c["median"]
        row["suspicious"] = row["speedup"] > SUSPICIOUS_SPEEDUP
    if flops:
        row["flops"] = flops
        row["gflops"] = flops / (c["median"] * 1e6) if c["median"] else None
        row["reference_gflops"] = flops / (r["median"] * 1e6) if r["median"] else None
    return row
