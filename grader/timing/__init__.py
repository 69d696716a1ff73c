"""Kernel timing: a candidate's function against PyTorch's, in the same child process.

The method, step by step, is docs/timing.md (generated from and tested against the constants
here). The package's modules follow the method: references (captured before candidate code),
cases and pool (the inputs), flops, state (global state reset), clocks, stats, measure (one
case), run (the API the child calls). This file is torch-free: the report imports it for the
method sentence."""

from __future__ import annotations

# ----------------------------------------------------------------------------- tunable constants

DEFAULT_TIERS = ((1.5, 1.0), (3.0, 0.5), (10.0, 0.25))
SUSPICIOUS_SPEEDUP = 10.0          # speed-ups above this are flagged for a human
SLOWDOWN_FLOOR = 0.25              # per case, before the geometric mean: one absurdly fast case
SLOWDOWN_CAP = 100.0               # ... or one pathologically slow case cannot decide the tier
CPU_BUDGET_S = 2.0                 # timing budget per case (both sides), CPU
CUDA_BUDGET_S = 1.0                # ... CUDA
CALL_LIMIT_S = 20.0                # a single first call longer than this is interrupted
SLOW_FRACTION = 0.125              # a first call over this share of the budget: a few calls only
NOISY_IQR = 0.1                    # IQR / median above this: a note says the timing is noisy
CPU_ROUNDS = 3                     # alternating rounds per side on CPU
MIN_RUNS, MAX_RUNS = 3, 100        # CUDA adaptive repetition bounds
TARGET_REL_STDERR = 1e-3           # CUDA: stop when std-error / mean is under 0.1 %
FLUSH_BYTES = 256 * 1024 * 1024    # CUDA: L2 flush buffer, written before every timed call
POOL_SETS = 4                      # distinct input sets per case
POOL_BYTES = 256 * 1024 * 1024     # ... fewer when one set is large
SPOT_RATE = 0.25                   # share of timed candidate calls whose output is verified
SPOT_MAX = 4                       # ... at most this many per case (plus one call after timing)
TUPLE_KWARGS = frozenset({"stride", "padding", "dilation", "output_padding", "kernel_size",
                          "output_size", "size", "normalized_shape", "dim", "pad"})


# ------------------------------------------------------------------------- the method, in words

def method_sentence(device: str, device_name: str = "", threads: int | None = None) -> str:
    """One sentence saying how the timings were measured (plain text; escape when inlining).
    Built from the constants above, so the report cannot drift from what the code does;
    docs/timing.md is tested against it."""
    where = f" ({device_name})" if device_name else ""
    if device == "cuda":
        return (f"Timed on CUDA{where}: CUDA events around each call with a device synchronise "
                f"before the end event, L2 flushed ({FLUSH_BYTES >> 20} MiB written) and inputs "
                "cloned before every call, TF32 off, warm-up first, candidate and PyTorch "
                f"alternating in one process, {MIN_RUNS} to {MAX_RUNS} runs (until the standard "
                f"error is under {TARGET_REL_STDERR:.1%} of the mean); the median is shown.")
    n = f"{threads} thread{'s' if threads != 1 else ''}" if threads else "a fixed thread count"
    return (f"Timed on CPU{where} with {n}: one perf_counter sample per call on fresh, "
            "never-repeated inputs prepared outside the timed region, warm-up first, candidate "
            f"and PyTorch alternating in {CPU_ROUNDS} rounds in one process, some outputs checked "
            "afterwards; the median is shown.")
