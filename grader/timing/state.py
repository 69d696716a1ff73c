"""Global state the candidate could change, reset before every timed block."""

from __future__ import annotations

import contextlib
import time
import torch

from grader.timing.references import _CUDA_API, _get_num_threads, _perf_counter, _set_default_dtype, _set_grad_enabled, _set_num_threads


# ------------------------------------------------------------------------------------ global state

def _snapshot() -> dict:
    state = {
        "dtype": torch.get_default_dtype(),
        "threads": _get_num_threads(),
        "grad": torch.is_grad_enabled(),
        "matmul_tf32": torch.backends.cuda.matmul.allow_tf32,
        "cudnn_tf32": torch.backends.cudnn.allow_tf32,
        "precision": torch.get_float32_matmul_precision(),
        "mkldnn": torch.backends.mkldnn.enabled,
        "cudnn": torch.backends.cudnn.enabled,
        "cudnn_benchmark": torch.backends.cudnn.benchmark,
        "cudnn_deterministic": torch.backends.cudnn.deterministic,
        "deterministic": torch.are_deterministic_algorithms_enabled(),
    }
    for dev in ("cpu", "cuda"):
        with contextlib.suppress(Exception):
            state[f"autocast_{dev}"] = torch.is_autocast_enabled(dev)
    return state


def _apply(state: dict) -> None:
    _set_default_dtype(state["dtype"])
    _set_num_threads(state["threads"])
    _set_grad_enabled(state["grad"])
    torch.set_float32_matmul_precision(state["precision"])
    torch.backends.cuda.matmul.allow_tf32 = state["matmul_tf32"]
    torch.backends.cudnn.allow_tf32 = state["cudnn_tf32"]
    torch.backends.mkldnn.enabled = state["mkldnn"]
    torch.backends.cudnn.enabled = state["cudnn"]
    torch.backends.cudnn.benchmark = state["cudnn_benchmark"]
    torch.backends.cudnn.deterministic = state["cudnn_deterministic"]
    torch.use_deterministic_algorithms(state["deterministic"])
    for dev in ("cpu", "cuda"):
        if f"autocast_{dev}" in state:
            with contextlib.suppress(Exception):
                torch.set_autocast_enabled(dev, state[f"autocast_{dev}"])


def timing_state(threads: int) -> dict:
    """The fixed configuration both sides are timed under: PyTorch's defaults, except TF32 off,
    grad mode off and the given thread count."""
    return {"dtype": torch.float32, "threads": threads, "grad": False, "matmul_tf32": False,
            "cudnn_tf32": False, "precision": "highest", "mkldnn": True, "cudnn": True,
            "cudnn_benchmark": False, "cudnn_deterministic": False, "deterministic": False,
            "autocast_cpu": False, "autocast_cuda": False}


def tampered() -> list[str]:
    """Timers the candidate replaced after this module was imported (we keep using ours)."""
    changed = []
    if time.perf_counter is not _perf_counter:
        changed.append("time.perf_counter")
    for name, attr in (("record", "record"), ("elapsed", "elapsed_time")):
        if getattr(torch.cuda.Event, attr) is not _CUDA_API[name]:
            changed.append(f"torch.cuda.Event.{attr}")
    if torch.cuda.synchronize is not _CUDA_API["synchronize"]:
        changed.append("torch.cuda.synchronize")
    return changed
