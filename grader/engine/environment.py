"""The machine a grade runs on: which device to time on, which OS wall to grade behind, and
the `environment` block of a result when no child reported one."""

from __future__ import annotations

import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

from grader.errors import InputError

ISOLATIONS = ("auto", "namespaces", "process")


def machine_environment(device: str) -> dict:
    return {"python": platform.python_version(), "torch": _torch_version(), "device": device,
            "device_name": platform.processor() or platform.machine(), "threads": os.cpu_count() or 1}


def resolve_isolation(requested: str, device: str) -> tuple[str, str]:
    """(mode, note): auto -> namespaces where they work, else process with one line saying what
    is missing and what it costs; namespaces where they do not work is a usage error."""
    if requested not in ISOLATIONS:
        raise InputError(f"--isolation {requested}: choose one of {', '.join(ISOLATIONS)}")
    if requested == "process":
        return "process", ""
    from grader.isolation import walls
    reason = walls.unavailable_reason()
    if reason is None and device == "cuda":
        reason = "the walls do not bind GPU device nodes yet (docs/gpu.md)"
    if reason is None:
        return "namespaces", ""
    if requested == "namespaces":
        raise InputError(f"--isolation namespaces is not available here: {reason}; "
                         "use --isolation process (or auto)")
    return "process", (f"isolation: process only ({reason}); candidate code that reaches "
                       "native code could read what this user can read")


def resolve_device(requested: str) -> str:
    """auto -> cuda when a GPU is usable, else cpu; cuda without a GPU is a usage error.
    A throwaway interpreter answers, so the grader process itself never initialises CUDA."""
    if requested == "cpu":
        return "cpu"
    available = _cuda_available()
    if requested == "cuda" and not available:
        raise InputError("--device cuda, but PyTorch sees no usable CUDA device here; "
                         "use --device cpu or auto")
    return "cuda" if available else "cpu"


def _cuda_available() -> bool:
    if os.environ.get("CUDA_VISIBLE_DEVICES") == "" or not Path("/dev/nvidiactl").exists():
        return False
    try:
        probe = subprocess.run([sys.executable, "-c", "import torch;print(torch.cuda.is_available())"],
                               capture_output=True, text=True, timeout=120)
    except subprocess.TimeoutExpired:
        return False
    return probe.stdout.strip() == "True"


def _torch_version() -> str:
    try:
        return metadata.version("torch")
    except metadata.PackageNotFoundError:
        return "not installed"
