"""Describing candidate values in one short line (`Tensor[2, 3, 8, 8] float32`), never raising:
a candidate's tensor subclass or container may do anything in its methods."""

from __future__ import annotations

import re

import torch

_tensor_type = torch.Tensor      # captured at import, before candidate code can patch it


def safe_str(value, limit: int = 300) -> str:
    """str() that never raises and never floods (candidate objects may do either)."""
    try:
        text = str(value)
    except BaseException:  # noqa: BLE001 - a hostile __str__ may raise anything
        text = f"<{type(value).__name__} whose str() failed>"
    return text if len(text) <= limit else text[:limit] + "…"


def describe(value) -> str:
    """Short, candidate-facing description: `Tensor[2, 3, 8, 8] float32`. Never raises
    (a candidate's tensor subclass or container may do anything in its methods)."""
    try:
        return _describe(value)
    except BaseException:  # noqa: BLE001
        return f"<{safe_str(_type_name(value), 80)} that could not be described>"


def _type_name(value) -> str:
    try:
        return type.__dict__["__name__"].__get__(type(value))
    except BaseException:  # noqa: BLE001
        return "object"


def _describe(value) -> str:
    if type(value) is _tensor_type or isinstance(value, _tensor_type):
        kind = "Tensor" if type(value) is _tensor_type else f"{type(value).__name__}(Tensor subclass)"
        dtype = str(value.dtype).replace("torch.", "")
        extra = "" if value.is_contiguous() else " non-contiguous"
        grad = " requires_grad" if value.requires_grad else ""
        dev = "" if value.device.type == "cpu" else f" {value.device}"
        return f"{kind}{list(value.shape)} {dtype}{dev}{extra}{grad}"
    if type(value) in (tuple, list) and len(value) <= 6:
        inner = ", ".join(describe(v) for v in value)
        return f"({inner})" if type(value) is tuple else f"[{inner}]"
    if isinstance(value, torch.nn.Module):
        return f"{type(value).__name__}(...)"
    text = safe_str(repr(value) if isinstance(value, str) else value, 80)
    # a multi-line str() (an optimizer, a dataclass dump) would break the one-line message
    return text if "\n" not in text else f"<{_type_name(value)}>"


def format_call(fn_name: str, args, kwargs) -> str:
    parts = [describe(a) for a in args] + [f"{k}={describe(v)}" for k, v in kwargs.items()]
    return f"{fn_name}({', '.join(parts)})"


_ALLOC = re.compile(r"(?:tried to allocate|allocate) (\d+) bytes")


def memory_message(exc: BaseException, limit_mb: int) -> str:
    """'exceeded the 6 GiB memory limit ...' for an allocation the limit refused, else ''."""
    try:
        text = safe_str(exc, 2000)
        is_memory = isinstance(exc, MemoryError) or (
            isinstance(exc, RuntimeError) and ("can't allocate memory" in text
                                               or "Cannot allocate memory" in text
                                               or "out of memory" in text.lower()))
    except BaseException:  # noqa: BLE001
        return ""
    if not is_memory:
        return ""
    what = f"the {_gib(limit_mb * 2**20)} memory limit" if limit_mb else "the available memory"
    found = _ALLOC.search(text)
    tried = f" (tried to allocate {_gib(int(found.group(1)))})" if found else ""
    return f"exceeded {what}{tried}: {_type_name(exc)}"


def _gib(nbytes: int) -> str:
    gib = nbytes / 2**30
    return f"{gib:.3g} GiB" if gib >= 1 else f"{nbytes / 2**20:.0f} MiB"
